//! The bridge to the engine's file readers, which run in a Web Worker of their own
//! (`worker/`, built by `scripts/build-worker`, linked from hydrated pages' `<meta
//! name="muster-engine">`). The page's bundle leaves the readers (calamine, zip, XML,
//! legacy encodings, CSV) out; the wizard starts the worker when it opens, so the reader
//! loads while the admin picks a file, and reading never blocks the page.
//!
//! One read at a time: a new file while one is being read stops the old worker (its
//! answer would be stale) and starts a fresh one, so the newest file always wins.

use leptos::{prelude::RwSignal, web_sys::File};

/// What to read: a chosen file, which the worker reads from the browser itself, or text.
// Only the browser build reads the fields; the server build keeps the type for the
// wizard's code that it renders.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Input {
    File(File),
    Text(String),
}

/// Starts the worker (and so the download of the readers) before the first file; `warm`
/// turns true once the reader has loaded and read its made-up roster (see the worker's
/// `warm_up`), so a file chosen from then on is read at full speed.
pub fn warm_up(warm: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    browser::warm_up(warm);
    #[cfg(not(feature = "hydrate"))]
    let _ = warm;
}

/// The worker's answer: the workbook as one buffer (`muster_core::parse::wire`), and
/// where the worker's time went (ms).
pub struct Read {
    pub wire: Vec<u8>,
    /// Reading the file's bytes from the browser.
    pub file_ms: f64,
    /// The engine's reader making a workbook of them.
    pub parse_ms: f64,
}

/// Reads `input` into a workbook in the worker, or says in the engine's words why the
/// file cannot be read. A read overtaken by a newer one never answers.
pub async fn read(
    input: Input,
    file_name: Option<String>,
    header_keys: Vec<String>,
) -> Result<Read, String> {
    #[cfg(feature = "hydrate")]
    {
        browser::read(input, file_name, header_keys).await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (input, file_name, header_keys);
        Err("Reading files needs the browser.".into())
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};

    use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
    use leptos::web_sys::{ErrorEvent, Event, MessageEvent, Worker};
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use leptos::prelude::{RwSignal, Set};

    use super::{Input, Read};

    const NOT_BUILT: &str = "The file reader is missing from this build (scripts/build-worker), so files and pasted lists cannot be checked here. Reload the page, or turn JavaScript off to upload the file to the server.";
    const STOPPED: &str = "The file reader stopped. Reload the page and try again.";
    /// Settles a read that a newer one overtook; its check is no longer current, so
    /// nobody shows it, but an unsettled promise would keep its task alive for good.
    const OVERTAKEN: &str = "A newer file is being read.";

    /// The worker and the handlers that keep its answers flowing.
    struct Running {
        worker: Worker,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_error: Closure<dyn FnMut(Event)>,
    }

    /// The read waiting for an answer: its id and its promise's settle functions.
    struct Pending {
        id: u32,
        resolve: Function,
        reject: Function,
    }

    thread_local! {
        static RUNNING: RefCell<Option<Running>> = const { RefCell::new(None) };
        /// Whether the running worker has warmed up, and who waits to hear it.
        static WARM: Cell<bool> = const { Cell::new(false) };
        static WAITING_WARM: RefCell<Vec<RwSignal<bool>>> = const { RefCell::new(Vec::new()) };
        static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
        static NEXT_ID: Cell<u32> = const { Cell::new(1) };
    }

    fn engine_url() -> Option<String> {
        leptos::web_sys::window()?
            .document()?
            .query_selector("meta[name=muster-engine]")
            .ok()??
            .get_attribute("content")
    }

    pub fn worker() -> Result<Worker, String> {
        if let Some(worker) = RUNNING.with(|r| r.borrow().as_ref().map(|r| r.worker.clone())) {
            return Ok(worker);
        }
        let url = engine_url().ok_or(NOT_BUILT)?;
        let worker = Worker::new(&url).map_err(|_| STOPPED.to_owned())?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(answer);
        // A script that fails to load fires a plain Event, an uncaught fault an ErrorEvent.
        let on_error = Closure::<dyn FnMut(Event)>::new(|event: Event| {
            event.prevent_default();
            let message = event
                .dyn_ref::<ErrorEvent>()
                .map(ErrorEvent::message)
                .filter(|m| !m.is_empty());
            leptos::logging::warn!("file reader failed: {message:?}");
            stop();
            fail_pending(STOPPED);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        RUNNING.with(|r| {
            *r.borrow_mut() = Some(Running {
                worker: worker.clone(),
                _on_message: on_message,
                _on_error: on_error,
            })
        });
        Ok(worker)
    }

    pub fn warm_up(warm: RwSignal<bool>) {
        if worker().is_err() {
            return;
        }
        if WARM.with(Cell::get) {
            warm.set(true);
        } else {
            WAITING_WARM.with(|w| w.borrow_mut().push(warm));
        }
    }

    fn answer(event: MessageEvent) {
        let data = event.data();
        let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
        if field("warm").is_some_and(|w| w.is_truthy()) {
            WARM.with(|w| w.set(true));
            for warm in WAITING_WARM.with(|w| std::mem::take(&mut *w.borrow_mut())) {
                warm.set(true);
            }
            return;
        }
        let id = field("id").and_then(|v| v.as_f64());
        let fatal = field("fatal").is_some_and(|f| f.is_truthy());
        if fatal {
            // The worker closes itself after a fault; the next read starts a new one.
            stop();
        }
        let pending = PENDING.with(|p| p.borrow_mut().take());
        match pending {
            Some(pending) if id == Some(f64::from(pending.id)) => {
                let _ = pending.resolve.call1(&JsValue::NULL, &data);
            }
            Some(pending) if fatal => {
                let _ = pending
                    .reject
                    .call1(&JsValue::NULL, &JsValue::from_str(STOPPED));
            }
            other => PENDING.with(|p| *p.borrow_mut() = other),
        }
    }

    fn stop() {
        WARM.with(|w| w.set(false));
        if let Some(running) = RUNNING.with(|r| r.borrow_mut().take()) {
            // An answer already queued must not reach the handlers dropped here.
            running.worker.set_onmessage(None);
            running.worker.set_onerror(None);
            running.worker.terminate();
        }
    }

    fn fail_pending(message: &str) {
        if let Some(pending) = PENDING.with(|p| p.borrow_mut().take()) {
            let _ = pending
                .reject
                .call1(&JsValue::NULL, &JsValue::from_str(message));
        }
    }

    pub async fn read(
        input: Input,
        file_name: Option<String>,
        header_keys: Vec<String>,
    ) -> Result<Read, String> {
        // An older read still running would only delay this one and then be ignored.
        if PENDING.with(|p| p.borrow().is_some()) {
            stop();
            fail_pending(OVERTAKEN);
        }
        let worker = worker()?;
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id.wrapping_add(1));
            id
        });
        let transfer = Array::new();
        let bytes: JsValue = match input {
            // The worker reads the file itself: nothing is copied through the page.
            Input::File(file) => file.into(),
            Input::Text(text) => {
                let buffer = Uint8Array::from(text.as_bytes()).buffer();
                transfer.push(&buffer);
                buffer.into()
            }
        };
        let message = Object::new();
        let keys: Array = header_keys.iter().map(|k| JsValue::from_str(k)).collect();
        for (key, value) in [
            ("id", JsValue::from(id)),
            ("bytes", bytes),
            ("fileName", file_name.map_or(JsValue::NULL, JsValue::from)),
            ("headerKeys", keys.into()),
        ] {
            let _ = Reflect::set(&message, &JsValue::from_str(key), &value);
        }
        let reply = Promise::new(&mut |resolve, reject| {
            PENDING.with(|p| {
                *p.borrow_mut() = Some(Pending {
                    id,
                    resolve,
                    reject,
                })
            });
        });
        if worker
            .post_message_with_transfer(&message, &transfer)
            .is_err()
        {
            PENDING.with(|p| p.borrow_mut().take());
            stop();
            return Err(STOPPED.into());
        }
        let data = JsFuture::from(reply)
            .await
            .map_err(|e| e.as_string().unwrap_or_else(|| STOPPED.to_owned()))?;
        let field = |name: &str| Reflect::get(&data, &JsValue::from_str(name)).ok();
        if let Some(error) = field("error").and_then(|e| e.as_string()) {
            return Err(error);
        }
        let ms = |name: &str| field(name).and_then(|v| v.as_f64()).unwrap_or(0.0);
        let wire = field("wire")
            .and_then(|w| w.dyn_into::<Uint8Array>().ok())
            .map(|wire| wire.to_vec())
            .ok_or_else(|| STOPPED.to_owned())?;
        Ok(Read {
            wire,
            file_ms: ms("fileMs"),
            parse_ms: ms("parseMs"),
        })
    }
}
