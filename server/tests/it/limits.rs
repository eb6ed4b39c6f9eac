//! Rate limits, written as the attacks: password guessing spread over two
//! server processes, over many client addresses behind a trusted proxy, and
//! a script that makes up `X-Forwarded-For` to look like many clients.

use crate::support::{muster_serving, Backend, TestApp, ADMIN_PASSWORD};

/// What a script sees of one login attempt.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    SignedIn,
    Refused,
    Limited,
}

async fn log_in(base: &str, email: &str, password: &str, forwarded_for: Option<&str>) -> Outcome {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = http
        .post(format!("{base}/api/login"))
        .header("Origin", base)
        .form(&[("email", email), ("password", password)]);
    if let Some(forwarded_for) = forwarded_for {
        request = request.header("X-Forwarded-For", forwarded_for);
    }
    let status = request.send().await.unwrap().status();
    match status.as_u16() {
        429 => Outcome::Limited,
        _ if status.is_success() || status.is_redirection() => Outcome::SignedIn,
        _ => Outcome::Refused,
    }
}

fn env(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|(name, value)| (*name, value.to_string()))
        .collect()
}

/// Two server processes on one database (behind one load balancer) share
/// each account's limit: with per-process counters, guesses alternated
/// between them got the limit twice over.
async fn two_processes_share_the_login_limit(backend: Backend) {
    let limits = [
        ("MUSTER_ACCOUNT_BURST", "4"),
        ("MUSTER_ACCOUNT_REFILL_SECONDS", "3600"),
    ];
    let Some(first) = TestApp::spawn_with(backend, false, &env(&limits)).await else {
        return;
    };
    first.admin("Riverside", "ada@example.org").await;
    let (_second_process, second) = muster_serving(
        &first.database_url,
        &[limits[0], limits[1], ("MUSTER_IMPORT_WORKERS", "0")],
    )
    .await;
    for attempt in 0..4 {
        let base = if attempt % 2 == 0 {
            &first.base
        } else {
            &second
        };
        assert_eq!(
            log_in(base, "ada@example.org", "a wrong guess 1", None).await,
            Outcome::Refused,
            "guess {attempt}"
        );
    }
    for base in [&first.base, &second] {
        assert_eq!(
            log_in(base, "ADA@example.org", "a wrong guess 2", None).await,
            Outcome::Limited,
            "at {base}"
        );
        assert_eq!(
            log_in(base, "ada@example.org", ADMIN_PASSWORD, None).await,
            Outcome::Limited,
            "even the right password waits"
        );
    }
    assert_eq!(
        first.count_all("SELECT COUNT(*) FROM rate_limits").await,
        2,
        "one bucket for the account, one for the client"
    );
}

/// Behind a trusted proxy, each forwarded address is its own client, yet
/// guesses at one account from many addresses still meet the account's limit.
async fn account_limit_holds_across_client_addresses(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &env(&[
            ("MUSTER_TRUSTED_PROXIES", "127.0.0.1"),
            ("MUSTER_ACCOUNT_BURST", "3"),
            ("MUSTER_ACCOUNT_REFILL_SECONDS", "3600"),
            ("MUSTER_CLIENT_BURST", "2"),
            ("MUSTER_CLIENT_REFILL_SECONDS", "3600"),
        ]),
    )
    .await
    else {
        return;
    };
    server.admin("Riverside", "ada@example.org").await;
    for n in 1..=3 {
        let client = format!("203.0.113.{n}");
        assert_eq!(
            log_in(
                &server.base,
                "ada@example.org",
                "a wrong guess",
                Some(&client)
            )
            .await,
            Outcome::Refused,
            "from {client}"
        );
    }
    assert_eq!(
        log_in(
            &server.base,
            "ada@example.org",
            "a wrong guess",
            Some("203.0.113.4")
        )
        .await,
        Outcome::Limited,
        "a fourth address is still the same account"
    );
    // The proxy's header is believed: one forwarded client meets its own
    // limit, and the next address is a different client.
    for _ in 0..2 {
        assert_eq!(
            log_in(
                &server.base,
                "bo@example.org",
                "a wrong guess",
                Some("198.51.100.7")
            )
            .await,
            Outcome::Refused
        );
    }
    assert_eq!(
        log_in(
            &server.base,
            "cy@example.org",
            "a wrong guess",
            Some("198.51.100.7")
        )
        .await,
        Outcome::Limited
    );
    assert_eq!(
        log_in(
            &server.base,
            "cy@example.org",
            "a wrong guess",
            Some("1.2.3.4, 198.51.100.8")
        )
        .await,
        Outcome::Refused,
        "the rightmost address a trusted proxy wrote is the client"
    );
}

/// Without a trusted proxy, `X-Forwarded-For` is whatever the client wrote:
/// a script making up a new address per request is still one client.
async fn spoofed_forwarded_for_is_ignored(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &env(&[
            ("MUSTER_CLIENT_BURST", "3"),
            ("MUSTER_CLIENT_REFILL_SECONDS", "3600"),
        ]),
    )
    .await
    else {
        return;
    };
    server.admin("Riverside", "ada@example.org").await;
    // A different account each time: only the client's limit can stop it.
    for n in 1..=3 {
        assert_eq!(
            log_in(
                &server.base,
                &format!("victim{n}@example.org"),
                "password123456",
                Some(&format!("203.0.113.{n}"))
            )
            .await,
            Outcome::Refused
        );
    }
    assert_eq!(
        log_in(
            &server.base,
            "victim4@example.org",
            "password123456",
            Some("203.0.113.4")
        )
        .await,
        Outcome::Limited
    );
    assert_eq!(
        log_in(
            &server.base,
            "ada@example.org",
            ADMIN_PASSWORD,
            Some("192.0.2.200")
        )
        .await,
        Outcome::Limited,
        "the whole client waits"
    );
}

/// Attempts at a working link's form are limited per client (each may
/// spend a password hash); a made-up link is refused after one read and
/// leaves nothing behind (each would otherwise be a database write).
async fn link_forms_are_limited_per_client(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &env(&[
            ("MUSTER_CLIENT_BURST", "2"),
            ("MUSTER_CLIENT_REFILL_SECONDS", "3600"),
        ]),
    )
    .await
    else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Cohort", "")
        .await;
    let script = server.client();
    let emailed_page = [("Origin", "null"), ("Sec-Fetch-Site", "same-origin")];
    let short = [
        ("intent", "register"),
        ("first_name", "Lin"),
        ("last_name", "Learner"),
        ("password", "short"),
        ("password_confirmation", "short"),
    ];
    for n in 0..40 {
        for form in [
            "/activate/{}/respond",
            "/invite/{}/respond",
            "/verify-email/{}/confirm",
            "/reset-password/{}/respond",
        ] {
            let path = form.replace("{}", &format!("{n:064x}"));
            let (status, _, _) = script.post_form(&path, &short, &emailed_page).await;
            assert_eq!(status.as_u16(), 303, "{path}");
        }
    }
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM rate_limits").await,
        0,
        "made-up links cost no writes"
    );

    // Working links: an invitation and a reset link.
    admin
        .call::<Vec<app::invitations::InviteOutcome>>(
            "invitations/send",
            &[
                ("group_id", &group.to_string()),
                ("emails", "lin@example.org"),
            ],
        )
        .await
        .unwrap();
    let invitation = server
        .emailed_token("lin@example.org", "invitation%", "/invite/")
        .await;
    let (status, _, _) = script
        .post_form(
            "/forgot-password/send",
            &[("email", "ada@example.org")],
            &[("Origin", &server.base)],
        )
        .await;
    assert_eq!(status.as_u16(), 303);
    crate::support::eventually("the reset email", || async {
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE kind = 'password_reset' AND to_email = $1",
                "ada@example.org",
            )
            .await
            == 1
    })
    .await;
    let reset = server
        .emailed_token("ada@example.org", "password_reset", "/reset-password/")
        .await;
    for path in [
        format!("/invite/{invitation}/respond"),
        format!("/reset-password/{reset}/respond"),
    ] {
        for n in 0..3 {
            let (status, headers, _) = script.post_form(&path, &short, &emailed_page).await;
            if n < 2 {
                assert_eq!(status.as_u16(), 303, "{path}");
            } else {
                assert_eq!(status.as_u16(), 429, "{path}");
                assert!(headers.get("retry-after").is_some(), "{path}");
            }
        }
    }
    // "Forgot password?" itself: one more is fine, then 429.
    for n in 0..2 {
        let (status, _, _) = script
            .post_form(
                "/forgot-password/send",
                &[("email", &format!("x{n}@example.org"))],
                &[("Origin", &server.base)],
            )
            .await;
        assert_eq!(status.as_u16(), if n < 1 { 303 } else { 429 });
    }
}

/// The table keeps only buckets that are not full again: the sweeper
/// deletes the rest, so made-up accounts and addresses leave nothing behind.
async fn full_buckets_are_swept(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    for n in 0..5 {
        log_in(
            &server.base,
            &format!("nobody{n}@example.org"),
            "password123456",
            None,
        )
        .await;
    }
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM rate_limits").await,
        6
    );
    server::workers::sweep_once(&server.state).await;
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM rate_limits").await,
        6,
        "buckets still refilling are kept"
    );
    // As if the buckets had refilled: the time they are full again is past.
    sqlx::query("UPDATE rate_limits SET full_at_ms = full_at_ms - 3600000")
        .execute(server.pool())
        .await
        .unwrap();
    server::workers::sweep_once(&server.state).await;
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM rate_limits").await,
        0
    );
}

on_both_backends! {
    two_processes_share_login_limit => two_processes_share_the_login_limit;
    account_limit_across_addresses => account_limit_holds_across_client_addresses;
    spoofed_forwarded_for => spoofed_forwarded_for_is_ignored;
    link_forms_limited => link_forms_are_limited_per_client;
    full_buckets_swept => full_buckets_are_swept;
}
