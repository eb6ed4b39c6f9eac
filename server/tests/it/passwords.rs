//! Passwords after sign-up, as the requests a browser or a script sends:
//! "Forgot password?" tells nobody who has an account, its link works once
//! and for an hour and signs the person out everywhere; changing a password
//! needs the current one and signs out the other devices.

use crate::support::{Backend, Client, TestApp, ADMIN_PASSWORD};
use app::auth::Bootstrap;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn signed_in(client: &Client) -> bool {
    let boot: Bootstrap = client.call("bootstrap", &[]).await.unwrap();
    boot.user.is_some()
}

/// Whether logging in works (answered with a redirect or not).
async fn log_in_works(client: &Client, base: &str, email: &str, password: &str) -> bool {
    let (status, _) = client
        .raw(
            "login",
            &[("email", email), ("password", password)],
            Some(base),
        )
        .await;
    status.is_success() || status.is_redirection()
}

/// Everything of an answer a script could compare, except its date.
fn shape(answer: &(reqwest::StatusCode, reqwest::header::HeaderMap, String)) -> String {
    let (status, headers, body) = answer;
    let mut headers: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("?")))
        .collect();
    headers.sort();
    format!("{status}\n{}\n\n{body}", headers.join("\n"))
}

async fn ask_for_reset(
    client: &Client,
    base: &str,
    email: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, String) {
    client
        .post_form(
            "/forgot-password/send",
            &[("email", email)],
            &[("Origin", base)],
        )
        .await
}

async fn reset_emails_to(server: &TestApp, email: &str) -> i64 {
    server
        .count(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'password_reset' AND to_email = $1",
            email,
        )
        .await
}

/// The same status, headers and body for an address with an account and one
/// without; only the account's owner gets an email.
async fn reset_does_not_tell_who_has_an_account(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    server.admin("Riverside", "ada@example.org").await;
    let script = server.client();
    let (_, login) = script.get_page("/login").await;
    assert!(login.contains("href=\"/forgot-password\""), "{login}");
    let known = ask_for_reset(&script, &server.base, "Ada@Example.org").await;
    let unknown = ask_for_reset(&script, &server.base, "nobody@example.org").await;
    assert_eq!(known.0.as_u16(), 303, "{}", shape(&known));
    assert_eq!(shape(&known), shape(&unknown));
    assert_eq!(
        known.1.get("location").unwrap(),
        "/forgot-password?sent",
        "the page says: check your email"
    );
    crate::support::eventually("the reset email is queued", || async {
        reset_emails_to(&server, "ada@example.org").await == 1
    })
    .await;
    assert_eq!(reset_emails_to(&server, "nobody@example.org").await, 0);
    let (status, page) = script.get_page("/forgot-password?sent").await;
    assert_eq!(status, 200);
    assert!(page.contains("Check your email"), "{page}");
}

/// The emailed link sets a new password once: it ends every session of the
/// person, verifies the address, and a second use is refused.
async fn reset_link_works_once_and_ends_every_session(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let laptop = server.admin("Riverside", "ada@example.org").await;
    let phone = server.client();
    phone.log_in("ada@example.org").await;
    assert!(signed_in(&laptop).await && signed_in(&phone).await);

    let stranger = server.client();
    ask_for_reset(&stranger, &server.base, "ada@example.org").await;
    crate::support::eventually("the reset email is queued", || async {
        reset_emails_to(&server, "ada@example.org").await == 1
    })
    .await;
    let token = server
        .emailed_token("ada@example.org", "password_reset", "/reset-password/")
        .await;
    assert_eq!(token.len(), 64, "256 random bits");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM password_resets WHERE token_hash = $1",
                token.as_str()
            )
            .await,
        0,
        "only the token's hash is stored"
    );
    let (status, page) = stranger.get_page(&format!("/reset-password/{token}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Choose a new password"), "{page}");

    let respond = format!("/reset-password/{token}/respond");
    let (status, location) = stranger
        .post_from_emailed_page(
            &respond,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", "something else"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (
            303,
            format!("/reset-password/{token}?error=confirmation").as_str()
        )
    );
    let (status, location) = stranger
        .post_from_emailed_page(
            &respond,
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!((status, location.as_str()), (303, "/login?reset"));
    assert!(!signed_in(&laptop).await, "every session ended");
    assert!(!signed_in(&phone).await);
    let verified = server
        .count(
            "SELECT COUNT(*) FROM users WHERE email = $1 AND email_verified_at IS NOT NULL",
            "ada@example.org",
        )
        .await;
    assert_eq!(verified, 1, "the link proved the address");

    // A second use of the link (someone who found the email later).
    let (status, location) = stranger
        .post_from_emailed_page(
            &respond,
            &[
                ("password", "the attacker's password"),
                ("password_confirmation", "the attacker's password"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/reset-password/{token}?error=gone").as_str())
    );
    let (_, page) = stranger.get_page(&format!("/reset-password/{token}")).await;
    assert!(page.contains("already been used"), "{page}");
    let fresh = server.client();
    assert!(
        !log_in_works(
            &fresh,
            &server.base,
            "ada@example.org",
            "the attacker's password"
        )
        .await
    );
    assert!(
        !log_in_works(&fresh, &server.base, "ada@example.org", ADMIN_PASSWORD).await,
        "the old password is gone"
    );
    assert!(log_in_works(&fresh, &server.base, "ada@example.org", NEW_PASSWORD).await);
}

/// A link past its hour is refused, and the sweeper deletes it.
async fn expired_reset_link_is_refused_and_swept(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    server.admin("Riverside", "ada@example.org").await;
    let stranger = server.client();
    ask_for_reset(&stranger, &server.base, "ada@example.org").await;
    crate::support::eventually("the reset email is queued", || async {
        reset_emails_to(&server, "ada@example.org").await == 1
    })
    .await;
    let token = server
        .emailed_token("ada@example.org", "password_reset", "/reset-password/")
        .await;
    let expires_at = server
        .count_all("SELECT MAX(expires_at) FROM password_resets")
        .await;
    let now = app::state::now();
    assert!((now + 3590..=now + 3600).contains(&expires_at), "one hour");
    sqlx::query("UPDATE password_resets SET expires_at = $1")
        .bind(now - 1)
        .execute(server.pool())
        .await
        .unwrap();
    let (_, page) = stranger.get_page(&format!("/reset-password/{token}")).await;
    assert!(page.contains("has expired"), "{page}");
    let (status, location) = stranger
        .post_from_emailed_page(
            &format!("/reset-password/{token}/respond"),
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/reset-password/{token}?error=gone").as_str())
    );
    assert!(
        log_in_works(
            &server.client(),
            &server.base,
            "ada@example.org",
            ADMIN_PASSWORD
        )
        .await,
        "the password did not change"
    );
    server::workers::sweep_once(&server.state).await;
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM password_resets")
            .await,
        0
    );
}

/// Changing a password takes the current one; the other devices are signed
/// out, this one stays.
async fn change_password_needs_the_current_one(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let laptop = server.admin("Riverside", "ada@example.org").await;
    let phone = server.client();
    phone.log_in("ada@example.org").await;
    let (status, page) = laptop.get_page("/account/password").await;
    assert_eq!(status, 200);
    assert!(page.contains("Current password"), "{page}");

    // Someone at an unlocked laptop who does not know the password.
    let (status, location) = laptop
        .post_from_site(
            "/account/password/change",
            &[
                ("current_password", "a guess at the password"),
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account/password?error=credentials")
    );
    assert!(signed_in(&phone).await, "nothing changed");
    assert!(
        log_in_works(
            &server.client(),
            &server.base,
            "ada@example.org",
            ADMIN_PASSWORD
        )
        .await
    );

    let (status, location) = laptop
        .post_from_site(
            "/account/password/change",
            &[
                ("current_password", ADMIN_PASSWORD),
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account/password?changed")
    );
    assert!(signed_in(&laptop).await, "this device stays signed in");
    assert!(!signed_in(&phone).await, "the other devices are signed out");
    let fresh = server.client();
    assert!(!log_in_works(&fresh, &server.base, "ada@example.org", ADMIN_PASSWORD).await);
    assert!(log_in_works(&fresh, &server.base, "ada@example.org", NEW_PASSWORD).await);

    let (status, location) = server
        .client()
        .post_from_site(
            "/account/password/change",
            &[
                ("current_password", NEW_PASSWORD),
                ("password", "yet another password"),
                ("password_confirmation", "yet another password"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/account/password?error=signed_out")
    );
}

on_both_backends! {
    reset_without_enumeration => reset_does_not_tell_who_has_an_account;
    reset_link_once => reset_link_works_once_and_ends_every_session;
    reset_link_expires => expired_reset_link_is_refused_and_swept;
    change_password => change_password_needs_the_current_one;
}
