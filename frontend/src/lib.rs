#![recursion_limit = "256"]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Each page's code is a chunk of its own (app::App's lazy routes), so hydrating waits
    // for the current page's chunk: hydration is asynchronous.
    wasm_bindgen_futures::spawn_local(async {
        let mounted =
            leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), app::App).await;
        mounted.forget();
        // Marks the page as interactive: until now a click on a server-rendered
        // control reaches no handler (the end-to-end tests wait for this mark
        // before they act on a page, as a person would wait for it to respond).
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "");
        }
    });
}
