//! Anonymous abuse, written as the attacks: the same requests a script on
//! the internet could send.

use std::time::Duration;

use crate::support::{Backend, TestApp, BASE_URL};
use tokio::io::{AsyncBufReadExt, BufReader};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// DNS rebinding: a page on evil.test whose name now points at Muster posts
/// with `Host: evil.test` and `Origin: http://evil.test`, which used to pass
/// the same-origin check (the Origin matched the Host).
async fn a_foreign_host_is_refused_before_routing(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let http = http();
    let first_run = http
        .post(format!("{}/api/create_organization", server.base))
        .header("Host", "evil.test")
        .header("Origin", "http://evil.test")
        .form(&[
            ("organization_name", "Rebound"),
            ("first_name", "Eve"),
            ("last_name", "Attacker"),
            ("email", "eve@evil.test"),
            ("password", "a good long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(first_run.status(), 421);
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM organizations").await,
        0,
        "nothing was created through the foreign host"
    );
    let page = http
        .get(format!("{}/login", server.base))
        .header("Host", "evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 421);
    // The bound address and the base URL's host are served.
    let own = http
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let named = http
        .get(format!("{}/login", server.base))
        .header("Host", BASE_URL.trim_start_matches("http://"))
        .send()
        .await
        .unwrap();
    assert_eq!(named.status(), 200);
}

/// A 1 MB login body is refused with 413 unread, whether its length is
/// declared or it streams in chunks; the import routes still take large bodies.
async fn large_bodies_are_refused_except_on_import_routes(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let huge_email = format!("{}@example.org", "a".repeat(1024 * 1024));
    let declared = http()
        .post(format!("{}/api/login", server.base))
        .header("Origin", &server.base)
        .form(&[("email", huge_email.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(declared.status(), 413);
    assert!(declared.text().await.unwrap().contains("larger than"));

    // The same megabyte streamed in chunks, with no length declared.
    let streamed = chunked_post(&server.base, "/api/login", 32, 32 * 1024).await;
    assert!(streamed.starts_with("HTTP/1.1 413"), "{streamed}");

    // An admin's dry run of 20,000 rows (about 1 MB) is checked, not refused.
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let rows: Vec<serde_json::Value> = (0..20_000)
        .map(|i| serde_json::json!({"number": i + 2, "cells": [format!("person{i:05}@example.com")]}))
        .collect();
    let body = serde_json::json!({
        "options": {
            "kind": "invites", "group_id": group, "contract_id": null, "send_emails": true,
            "auto_invite": false, "expiry_days": null, "source_name": "roster.csv",
        },
        "payload": {"kind": "invites", "sheets": [{"name": "roster", "headers": ["Email"], "rows": rows}]},
    });
    assert!(serde_json::to_vec(&body).unwrap().len() > 64 * 1024);
    let dry: app::imports::DryRun = admin.call_json("imports/dry_run", &body).await.unwrap();
    assert_eq!(dry.will.len(), 20_000);
}

/// Posts `chunks` chunks of `size` bytes with `Transfer-Encoding: chunked`
/// over a plain socket (as a script would) and returns the raw answer.
async fn chunked_post(base: &str, path: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(authority).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nOrigin: {base}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("{size:x}\r\n{}\r\n", "a".repeat(size));
    for _ in 0..chunks {
        // The server may answer and close before the last chunk.
        if socket.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
        .await
        .expect("an answer")
        .unwrap_or(0);
    String::from_utf8_lossy(&answer[..read]).into_owned()
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| panic!("{name} is missing"))
}

/// Every kind of answer carries the security headers; a page's policy names
/// a fresh nonce that its inline scripts carry, and token pages send no referrer.
async fn every_answer_has_security_headers(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let client = server.client();
    let mut nonces = Vec::new();
    for path in [
        "/login",
        "/",
        "/invite/0000",
        "/activate/0000",
        "/join/nowhere",
        "/no/such/page",
    ] {
        let (_, headers, html) = client.get_with_headers(path).await;
        assert_eq!(
            header(&headers, "x-content-type-options"),
            "nosniff",
            "{path}"
        );
        assert_eq!(header(&headers, "x-frame-options"), "DENY", "{path}");
        let policy = header(&headers, "content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(
            !policy.contains("script-src 'self' 'unsafe-inline'"),
            "{path}: {policy}"
        );
        if let Some(start) = policy.find("'nonce-") {
            let nonce = &policy[start + 7..policy[start..].find("' ").unwrap() + start];
            assert!(
                html.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: the inline scripts carry the policy's nonce"
            );
            nonces.push(nonce.to_owned());
        }
        assert!(headers.contains_key("referrer-policy"), "{path}");
    }
    assert!(nonces.len() >= 3, "pages carry a nonce policy: {nonces:?}");
    let mut distinct = nonces.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        nonces.len(),
        "each response has its own nonce"
    );

    let (_, headers, _) = client.get_with_headers("/invite/0000").await;
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    let (_, headers, _) = client.get_with_headers("/login").await;
    assert_eq!(
        header(&headers, "referrer-policy"),
        "strict-origin-when-cross-origin"
    );
    // Server functions and refusals too.
    let (status, headers, _) = client
        .post_form("/api/bootstrap", &[], &[("Origin", &server.base)])
        .await;
    assert!(status.is_success());
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    let (status, headers, _) = client
        .post_form("/api/bootstrap", &[], &[("Origin", "http://evil.test")])
        .await;
    assert_eq!(status, 403);
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
}

on_both_backends! {
    foreign_host_refused => a_foreign_host_is_refused_before_routing;
    large_bodies_refused => large_bodies_are_refused_except_on_import_routes;
    security_headers => every_answer_has_security_headers;
}

/// A refused cross-site post to a token page must not write the token to the
/// log: log files are read by more people than invitations are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_requests_log_the_route_not_the_token() {
    let Some(database_url) = crate::support::fresh_database(Backend::Sqlite).await else {
        return;
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .env("DATABASE_URL", &database_url)
        .env("MUSTER_BIND", "127.0.0.1:0")
        .env("MUSTER_BASE_URL", BASE_URL)
        .env("MUSTER_IMPORT_WORKERS", "0")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the muster binary starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = Vec::new();
    let base = loop {
        let line = tokio::time::timeout(Duration::from_secs(30), stdout.next_line())
            .await
            .expect("the server starts")
            .unwrap()
            .expect("the server prints its address");
        log.push(line.clone());
        if let Some(rest) = line.split("serving at ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let token = "5ec7e7a1".repeat(8);
    for path in [
        format!("/invite/{token}/respond"),
        format!("/activate/{token}/respond"),
        format!("/verify-email/{token}/confirm"),
    ] {
        let response = http()
            .post(format!("{base}{path}"))
            .header("Origin", "http://evil.test")
            .form(&[("intent", "accept")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }
    let _ = child.start_kill();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(5), stdout.next_line()).await
    {
        log.push(line);
    }
    let mut stderr = String::new();
    if let Some(mut err) = child.stderr.take() {
        use tokio::io::AsyncReadExt;
        let _ = tokio::time::timeout(Duration::from_secs(5), err.read_to_string(&mut stderr)).await;
    }
    log.push(stderr);
    let log = log.join("\n");
    assert!(
        log.contains("/invite/{token}/respond"),
        "the refusal names the route: {log}"
    );
    assert!(!log.contains(&token), "no token in the log: {log}");
}

/// A memory figure of a process from `/proc/PID/status` (`VmRSS`: resident
/// now; `VmHWM`: the most it was ever resident), in bytes.
fn memory_bytes(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/PID/status"));
    kb * 1024
}

/// Posts a body of `size` bytes to `path` over a plain socket, with its
/// length declared or streamed in chunks, writing until the server stops
/// reading; the status line of the answer.
async fn huge_post(base: &str, path: &str, size: usize, declared: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let authority = base.trim_start_matches("http://");
    let socket = tokio::net::TcpStream::connect(authority).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    // Read while writing: the answer comes long before the body ends, and
    // once the server closes, more data from us makes its kernel reset the
    // connection.
    let answer = tokio::spawn(async move {
        let mut answer = vec![0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut answer))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
        String::from_utf8_lossy(&answer[..read]).into_owned()
    });
    let framing = if declared {
        format!("Content-Length: {size}")
    } else {
        "Transfer-Encoding: chunked".to_owned()
    };
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nOrigin: {base}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n{framing}\r\n\r\n"
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let piece = 256 * 1024;
    let data = format!("email={}", "a".repeat(piece - 6));
    let chunk = if declared {
        data
    } else {
        format!("{piece:x}\r\n{data}\r\n")
    };
    for _ in 0..size / piece {
        if answer.is_finished() {
            break;
        }
        let wrote =
            tokio::time::timeout(Duration::from_secs(2), writer.write_all(chunk.as_bytes())).await;
        if !matches!(wrote, Ok(Ok(()))) {
            break;
        }
    }
    let answer = answer.await.unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

/// Forty 32 MB login bodies, ten at a time, declared and streamed: each is
/// refused after at most 64 KB is read, and neither the process's resident
/// memory nor its peak grows by 50 MB (buffering ten at once would take 320 MB;
/// the peak counts even memory given back since).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn huge_login_bodies_leave_memory_bounded() {
    let Some(database_url) = crate::support::fresh_database(Backend::Sqlite).await else {
        return;
    };
    let (child, base) =
        crate::support::muster_serving(&database_url, &[("MUSTER_IMPORT_WORKERS", "0")]).await;
    let pid = child.id().expect("the server runs");
    const SIZE: usize = 32 * 1024 * 1024;
    // Warm up: the allocator's arenas and the runtime's threads exist before measuring.
    for declared in [true, false] {
        huge_post(&base, "/api/login", 1024 * 1024, declared).await;
    }
    let (before, peak_before) = (memory_bytes(pid, "VmRSS"), memory_bytes(pid, "VmHWM"));
    let mut statuses = Vec::new();
    for round in 0..4 {
        let posts = (0..10).map(|n| {
            let base = base.clone();
            tokio::spawn(
                async move { huge_post(&base, "/api/login", SIZE, (round + n) % 2 == 0).await },
            )
        });
        for post in posts.collect::<Vec<_>>() {
            statuses.push(post.await.unwrap());
        }
    }
    let (after, peak_after) = (memory_bytes(pid, "VmRSS"), memory_bytes(pid, "VmHWM"));
    let growth = after.saturating_sub(before);
    let peak_growth = peak_after.saturating_sub(peak_before);
    println!(
        "RSS before {} MB, after 40 x 32 MB login bodies {} MB (growth {} MB); peak {} MB -> {} MB",
        before / 1_048_576,
        after / 1_048_576,
        growth / 1_048_576,
        peak_before / 1_048_576,
        peak_after / 1_048_576,
    );
    let refused = statuses
        .iter()
        .filter(|status| status.starts_with("HTTP/1.1 413"))
        .count();
    assert_eq!(refused, 40, "{statuses:?}");
    assert!(growth < 50 * 1024 * 1024, "RSS grew by {growth} bytes");
    assert!(
        peak_growth < 50 * 1024 * 1024,
        "the peak grew by {peak_growth} bytes"
    );
}
