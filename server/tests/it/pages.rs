//! Issue #17, the server's part: learner pages ship no WebAssembly and no
//! JavaScript, answers are compressed when the browser accepts it, and
//! caching is explicit.

use crate::support::{Backend, TestApp};

async fn get(server: &TestApp, path: &str, encoding: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.base));
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.unwrap()
}

async fn learner_pages_are_plain_html_and_admin_pages_hydrate(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    server.admin("Riverside", "ada@example.org").await;
    for path in [
        "/invite/0123456789abcdef",
        "/activate/0123456789abcdef",
        "/join/riverside",
        "/verify-email/0123456789abcdef",
        "/confirm-email/0123456789abcdef",
    ] {
        let html = get(&server, path, None).await.text().await.unwrap();
        assert!(html.contains("<main"), "{path}: {html}");
        assert!(
            !html.contains(".wasm"),
            "{path} names the wasm bundle: {html}"
        );
        assert!(!html.contains(".js"), "{path} loads a script: {html}");
        // What is left are Leptos' inline notes of the resources the page
        // read (a few hundred bytes); nothing runs that needs them.
        let inline_scripts: usize = html
            .split("<script")
            .skip(1)
            .map(|rest| rest.find("</script>").unwrap_or(rest.len()))
            .sum();
        assert!(
            inline_scripts < 2_000,
            "{path}: {inline_scripts} bytes of inline script"
        );
    }
    let login = get(&server, "/login", None).await.text().await.unwrap();
    assert!(
        login.contains(".wasm"),
        "the admin side still hydrates: {login}"
    );
}

async fn answers_are_compressed_and_never_cached_stale(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let plain = get(&server, "/login", None).await;
    assert_eq!(plain.headers().get("content-encoding"), None);
    assert_eq!(plain.headers().get("cache-control").unwrap(), "no-cache");
    for (accepts, expected) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let response = get(&server, "/login", Some(accepts)).await;
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some(expected.to_owned()),
            "Accept-Encoding: {accepts}"
        );
    }
}

async fn the_bundle_is_sent_precompressed(backend: Backend) {
    // A built site of our own: the bundle and the copies compress-assets makes.
    let site = std::env::temp_dir().join(format!("muster-site-{}-{backend:?}", std::process::id()));
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/muster.wasm"), b"\0asm-plain").unwrap();
    std::fs::write(site.join("pkg/muster.wasm.br"), b"brotli-copy").unwrap();
    std::fs::write(site.join("pkg/muster.wasm.gz"), b"gzip-copy").unwrap();
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &[("LEPTOS_SITE_ROOT", site.display().to_string())],
    )
    .await
    else {
        return;
    };
    for (accepts, encoding, body) in [
        (None, None, "\0asm-plain"),
        (Some("gzip"), Some("gzip"), "gzip-copy"),
        (Some("br, gzip"), Some("br"), "brotli-copy"),
    ] {
        let response = get(&server, "/pkg/muster.wasm", accepts).await;
        let headers = response.headers().clone();
        assert_eq!(headers.get("content-type").unwrap(), "application/wasm");
        assert_eq!(
            headers.get("content-encoding").map(|v| v.to_str().unwrap()),
            encoding,
            "Accept-Encoding: {accepts:?}"
        );
        assert_eq!(headers.get("cache-control").unwrap(), "public, no-cache");
        assert_eq!(response.text().await.unwrap(), body);
    }
    let _ = std::fs::remove_dir_all(&site);
}

on_both_backends! {
    bundle_precompressed => the_bundle_is_sent_precompressed;
    learner_pages_ship_no_wasm => learner_pages_are_plain_html_and_admin_pages_hydrate;
    compressed_answers => answers_are_compressed_and_never_cached_stale;
}
