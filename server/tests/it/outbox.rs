//! Issue #16, item 2: no live link is readable from the database alone. The
//! outbox keeps email bodies sealed with a key outside the database; the
//! sender opens them as it delivers over SMTP.

use crate::{
    invitations::invite,
    support::{eventually, link_token, Backend, TestApp},
};

fn has_hex_run(text: &str, length: usize) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_hexdigit() { run + 1 } else { 0 };
        if run >= length {
            return true;
        }
    }
    false
}

async fn a_database_reader_finds_no_working_link(backend: Backend) {
    // Open sign-up: real SMTP to the loopback sink.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    invite(&admin, &group.to_string(), "lin@example.org")
        .await
        .unwrap();
    let sink = server.smtp.as_ref().unwrap();
    eventually("the invitation is delivered", || async {
        sink.received()
            .iter()
            .any(|m| m.rcpt_to.iter().any(|r| r.contains("lin@example.org")))
    })
    .await;
    // What someone with a copy of the database sees, before and after delivery.
    let stored: Vec<(String, String)> = sqlx::query_as(
        "SELECT text_body, html_body FROM outbox WHERE to_email = 'lin@example.org'",
    )
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(stored.len(), 1);
    for body in [&stored[0].0, &stored[0].1] {
        assert!(!body.contains("/invite/"), "{body}");
        assert!(!has_hex_run(body, 64), "a token-like run in {body}");
    }
    // The person got the working link.
    let delivered = sink
        .received()
        .into_iter()
        .find(|m| m.rcpt_to.iter().any(|r| r.contains("lin@example.org")))
        .unwrap();
    let unfolded = delivered.data.replace("=\r\n", "");
    let token = link_token(&unfolded, "http://muster.test/invite/");
    assert_eq!(token.len(), 64, "{unfolded}");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE token_hash = $1 AND status = 'pending'",
                app::links::server::token_hash(&token)
            )
            .await,
        1
    );
}

on_both_backends! {
    no_live_link_in_the_database => a_database_reader_finds_no_working_link;
}
