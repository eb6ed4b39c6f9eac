//! Everything the wizard asks of the browser: files, focus, scrolling, time and
//! yielding to the page. On the server these do nothing (or say they cannot).

use leptos::{
    ev::{DragEvent, Event},
    html,
    prelude::*,
    web_sys::File,
};

/// The file chosen in a file input.
pub fn chosen_file(ev: &Event) -> Option<File> {
    use leptos::wasm_bindgen::JsCast;
    let input = ev
        .target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok());
    input.and_then(|i| i.files()).and_then(|f| f.get(0))
}

/// The first file dropped on an element.
pub fn dropped_file(ev: &DragEvent) -> Option<File> {
    ev.data_transfer()
        .and_then(|d| d.files())
        .and_then(|f| f.get(0))
}

/// The file chosen in the input `input` refers to, if any.
pub fn file_in(input: NodeRef<html::Input>) -> Option<File> {
    input
        .get_untracked()
        .and_then(|i| i.files())
        .and_then(|f| f.get(0))
}

/// How far the element an event happened on is scrolled down.
pub fn scroll_top_of(ev: &Event) -> Option<f64> {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .map(|el| el.scroll_top() as f64)
}

/// Scrolls `element` so that the band from `top` to `top + height` shows in its
/// first `visible` pixels.
pub fn scroll_into_band(element: NodeRef<html::Div>, top: f64, height: f64, visible: f64) {
    if let Some(element) = element.get_untracked() {
        let view_top = element.scroll_top() as f64;
        if top < view_top {
            element.set_scroll_top(top as i32);
        } else if top + height > view_top + visible {
            element.set_scroll_top((top + height - visible) as i32);
        }
    }
}

pub fn scroll_to_top(element: NodeRef<html::Div>) {
    if let Some(element) = element.get_untracked() {
        element.set_scroll_top(0);
    }
}

/// Focuses an element once the view has caught up with the last change.
pub fn focus_after_render(selector: &'static str) {
    #[cfg(not(feature = "hydrate"))]
    let _ = selector;
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(async move {
        next_tick().await;
        use leptos::wasm_bindgen::JsCast;
        if let Some(cell) = leptos::web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(selector).ok().flatten())
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = cell.focus();
        }
    });
}

pub fn now_ms() -> f64 {
    #[cfg(feature = "hydrate")]
    {
        leptos::web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        0.0
    }
}

/// A key that makes submitting the same preview twice start one import.
pub fn idempotency_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        if let Some(uuid) = leptos::web_sys::window()
            .and_then(|w| w.crypto().ok())
            .map(|c| c.random_uuid())
        {
            return uuid;
        }
    }
    format!("preview-{:016x}", (now_ms() * 1000.0) as u64)
}

/// Lets the browser paint and handle input between chunks of work: resumes in a task
/// of its own, queued behind whatever is waiting.
pub async fn next_tick() {
    #[cfg(feature = "hydrate")]
    {
        let promise = js_sys::Promise::new(&mut |resolve, _| yielding::after_other_tasks(resolve));
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}

/// A message the page posts to itself rather than `setTimeout(0)`, which browsers hold
/// back at least 4 ms once timeouts nest: a check in slices of 30 ms would pay that on
/// every slice.
#[cfg(feature = "hydrate")]
mod yielding {
    use std::{cell::RefCell, collections::VecDeque};

    use js_sys::Function;
    use leptos::{
        wasm_bindgen::{closure::Closure, JsCast, JsValue},
        web_sys::MessageChannel,
    };

    struct Channel {
        channel: MessageChannel,
        _on_message: Closure<dyn FnMut()>,
    }

    thread_local! {
        // One channel for the page's life: a channel dropped while its message is on
        // the way could be collected before the message arrives.
        static CHANNEL: Option<Channel> = open();
        static WAITING: RefCell<VecDeque<Function>> = const { RefCell::new(VecDeque::new()) };
    }

    fn open() -> Option<Channel> {
        let channel = MessageChannel::new().ok()?;
        // Messages arrive in the order they were posted, one per waiting resolver.
        let on_message = Closure::<dyn FnMut()>::new(|| {
            if let Some(resolve) = WAITING.with(|w| w.borrow_mut().pop_front()) {
                let _ = resolve.call0(&JsValue::NULL);
            }
        });
        channel
            .port1()
            .set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Some(Channel {
            channel,
            _on_message: on_message,
        })
    }

    pub fn after_other_tasks(resolve: Function) {
        let posted = CHANNEL.with(|c| {
            c.as_ref().is_some_and(|c| {
                WAITING.with(|w| w.borrow_mut().push_back(resolve.clone()));
                let posted = c.channel.port2().post_message(&JsValue::NULL).is_ok();
                if !posted {
                    WAITING.with(|w| w.borrow_mut().pop_back());
                }
                posted
            })
        });
        if !posted {
            if let Some(window) = leptos::web_sys::window() {
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
            }
        }
    }
}
