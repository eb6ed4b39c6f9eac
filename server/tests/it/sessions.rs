//! Sessions end: after the idle timeout, at their absolute lifetime, when
//! the person signs out of all devices; and ended ones are swept away.

use crate::support::{Backend, TestApp};
use app::{auth::Bootstrap, error::AppError};

async fn signed_in(client: &crate::support::Client) -> bool {
    let boot: Bootstrap = client.call("bootstrap", &[]).await.unwrap();
    boot.user.is_some()
}

/// A session unused for longer than the idle timeout no longer signs anyone
/// in; one in use stays; every session ends at its absolute lifetime.
async fn idle_and_expired_sessions_end(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    assert!(signed_in(&admin).await);
    let idle = server.state.settings.session_idle_secs;
    let now = app::state::now();

    // Used recently: still signed in.
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(now - idle + 120)
        .execute(server.pool())
        .await
        .unwrap();
    assert!(signed_in(&admin).await);

    // Unused for longer than the idle timeout: signed out.
    sqlx::query("UPDATE sessions SET last_seen_at = $1")
        .bind(now - idle - 1)
        .execute(server.pool())
        .await
        .unwrap();
    assert!(!signed_in(&admin).await);
    assert_eq!(
        admin
            .call::<Vec<app::groups::GroupSummary>>("groups/list", &[])
            .await,
        Err(AppError::NotAuthenticated)
    );

    // In constant use, but past its lifetime: signed out too.
    let other = server.client();
    other.log_in("ada@example.org").await;
    assert!(signed_in(&other).await);
    sqlx::query("UPDATE sessions SET expires_at = $1 WHERE last_seen_at > $2")
        .bind(now - 1)
        .bind(now - idle)
        .execute(server.pool())
        .await
        .unwrap();
    assert!(!signed_in(&other).await);

    // The sweeper deletes both ended sessions and nothing else.
    let third = server.client();
    third.log_in("ada@example.org").await;
    let swept = app::auth::service::sweep_sessions(
        &server.state.db,
        &server.state.settings,
        app::state::now(),
    )
    .await
    .unwrap();
    assert_eq!(swept, 2);
    assert_eq!(server.count_all("SELECT COUNT(*) FROM sessions").await, 1);
    assert!(signed_in(&third).await);
}

/// "Sign out of all devices" ends the sessions of every browser of that
/// person, and only theirs.
async fn sign_out_everywhere_ends_every_session(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let laptop = server.admin("Riverside", "ada@example.org").await;
    let phone = server.client();
    phone.log_in("ada@example.org").await;
    let someone_else = server.admin("Hillside", "bea@example.org").await;
    assert!(signed_in(&laptop).await && signed_in(&phone).await);

    let (status, _) = phone
        .raw("logout_everywhere", &[], Some(&server.base))
        .await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    assert!(!signed_in(&laptop).await, "the other browser is signed out");
    assert!(!signed_in(&phone).await, "and this one");
    assert!(
        signed_in(&someone_else).await,
        "other people stay signed in"
    );
}

on_both_backends! {
    idle_and_old_sessions_end => idle_and_expired_sessions_end;
    sign_out_everywhere => sign_out_everywhere_ends_every_session;
}
