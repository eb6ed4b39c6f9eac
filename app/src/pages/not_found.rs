use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::auth::service::set_status(http::StatusCode::NOT_FOUND);
    view! {
        <Title text="Page not found · Muster" />
        <main class="narrow">
            <h1>"Page not found"</h1>
            <p>"The page you asked for does not exist. Check the link, or go to the "<a href="/">"start page"</a>"."</p>
        </main>
    }
}
