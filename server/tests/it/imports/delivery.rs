//! Delivery status per person, on both backends: an Invites import whose
//! emails go to a real SMTP server on loopback that refuses two mailboxes
//! with a 5xx answer. Each invitation and each import row says where its
//! email stands, the filters find the failed ones, the import counts them,
//! its finished email says where they stood, and "Resend them" resends
//! exactly the failed ones with new links.

use super::{wait_finished, KEY_A};
use crate::support::{
    eventually,
    smtp::{SmtpSink, MAILBOX_UNKNOWN},
    Backend, Client, TestApp,
};
use app::{
    bulk::BulkOutcome,
    error::AppError,
    imports::ImportRowsPage,
    invitations::InvitationsPage,
    mail::{DeliveryCounts, DeliveryState},
};

const GOOD: [&str; 3] = ["ann@example.org", "bob@example.org", "cat@example.org"];
const BAD: [&str; 2] = ["dan@example.org", "eve@example.org"];

async fn rows_by_email(admin: &Client, id: i64, email: &str) -> ImportRowsPage {
    admin
        .call(
            "imports/rows",
            &[
                ("id", &id.to_string()),
                ("status", ""),
                ("page", "1"),
                ("email", email),
            ],
        )
        .await
        .unwrap()
}

async fn invitations_by_email(admin: &Client, delivery: &str) -> Result<InvitationsPage, AppError> {
    admin
        .call(
            "invitations/list",
            &[
                ("status", ""),
                ("search", ""),
                ("group_id", "0"),
                ("page", "1"),
                ("delivery", delivery),
            ],
        )
        .await
}

async fn counts(admin: &Client, id: i64) -> DeliveryCounts {
    admin
        .call("imports/email_delivery", &[("id", &id.to_string())])
        .await
        .unwrap()
}

fn is_refused(state: &DeliveryState) -> bool {
    matches!(
        state,
        DeliveryState::Failed { answer, attempts: 1 } if answer.contains(MAILBOX_UNKNOWN)
    )
}

fn emails_of(page: &ImportRowsPage) -> Vec<String> {
    let mut emails: Vec<String> = page.rows.iter().map(|row| row.who.clone()).collect();
    emails.sort();
    emails
}

async fn each_person_sees_where_their_email_stands(backend: Backend) {
    let sink = SmtpSink::start().await;
    for address in BAD {
        sink.refuse(address);
    }
    let smtp = [
        ("MUSTER_SMTP_HOST", "127.0.0.1".to_owned()),
        ("MUSTER_SMTP_PORT", sink.addr.port().to_string()),
        ("MUSTER_SMTP_TLS", "none".to_owned()),
        ("MUSTER_MAIL_MAX_ATTEMPTS", "1".to_owned()),
    ];
    let Some(server) = TestApp::spawn_with(backend, false, &smtp).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let mut emails: Vec<String> = GOOD.iter().chain(&BAD).map(|e| e.to_string()).collect();
    emails.push("not an email".into());
    let id = admin
        .start_invites_import(group, &emails, true, KEY_A)
        .await;
    wait_finished(&admin, id).await;

    // The import's finished email says where the invitation emails stood at
    // that moment (some may still have been waiting): five in all.
    let (finished,): (i64,) =
        sqlx::query_as("SELECT id FROM outbox WHERE kind = 'import_finished'")
            .fetch_one(server.pool())
            .await
            .unwrap();
    let finished = crate::support::rendered(server.pool(), finished).await.text;
    let line = finished
        .lines()
        .find(|line| line.starts_with("Emails when it finished: "))
        .unwrap_or_else(|| panic!("{finished}"));
    let numbers: i64 = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<i64>().ok())
        .sum();
    assert_eq!(numbers, 5, "{line}");
    // "1 invitation email sent" when the sender was quick with one of them.
    assert!(
        line.contains("invitation emails sent") || line.contains("1 invitation email sent"),
        "{line}"
    );

    eventually("every email sent or refused", || async {
        counts(&admin, id).await.waiting == 0
    })
    .await;
    assert_eq!(
        counts(&admin, id).await,
        DeliveryCounts {
            sent: 3,
            waiting: 0,
            failed: 2
        }
    );

    // Each import row: sent, refused with the server's answer, or no email at all.
    let all = rows_by_email(&admin, id, "").await;
    assert_eq!(all.total, 6);
    for row in &all.rows {
        if GOOD.contains(&row.who.as_str()) {
            assert!(
                matches!(row.email, DeliveryState::Sent { at } if at > 0),
                "{row:?}"
            );
            assert!(row.email.label().starts_with("Sent "), "{row:?}");
        } else if BAD.contains(&row.who.as_str()) {
            assert!(is_refused(&row.email), "{row:?}");
            assert_eq!(
                row.email.label(),
                format!("Failed: {} (1 attempt)", row_answer(&row.email))
            );
        } else {
            assert_eq!(row.email, DeliveryState::None, "{row:?}");
        }
    }
    let failed = rows_by_email(&admin, id, "failed").await;
    assert_eq!(
        (failed.total, emails_of(&failed)),
        (2, BAD.map(String::from).to_vec())
    );
    let sent = rows_by_email(&admin, id, "sent").await;
    assert_eq!(
        (sent.total, emails_of(&sent)),
        (3, GOOD.map(String::from).to_vec())
    );
    assert_eq!(rows_by_email(&admin, id, "queued").await.total, 0);
    let refused = admin
        .call::<ImportRowsPage>(
            "imports/rows",
            &[
                ("id", &id.to_string()),
                ("status", ""),
                ("page", "1"),
                ("email", "bounced"),
            ],
        )
        .await;
    assert!(
        matches!(&refused, Err(AppError::Invalid { field, .. }) if field == "Email"),
        "{refused:?}"
    );

    // The same on the Invitations list, per invitation.
    let failed = invitations_by_email(&admin, "failed").await.unwrap();
    assert_eq!(failed.total, 2);
    assert!(failed.rows.iter().all(|row| is_refused(&row.delivery)));
    assert!(failed
        .rows
        .iter()
        .all(|row| BAD.contains(&row.email.as_str())));
    let sent = invitations_by_email(&admin, "sent").await.unwrap();
    assert_eq!(sent.total, 3);
    assert!(sent
        .rows
        .iter()
        .all(|row| matches!(row.delivery, DeliveryState::Sent { .. })));
    assert_eq!(invitations_by_email(&admin, "").await.unwrap().total, 5);
    assert!(matches!(
        invitations_by_email(&admin, "bounced").await,
        Err(AppError::Invalid { .. })
    ));

    // The pages say it too, rendered on the server.
    let (status, page) = admin.get_page(&format!("/admin/imports/{id}")).await;
    assert!(status.is_success(), "{status}");
    assert!(page.contains("2 emails failed"), "{page}");
    assert!(page.contains("3 sent"), "{page}");
    assert!(
        page.contains(&format!("Failed: {MAILBOX_UNKNOWN} (1 attempt)")),
        "{page}"
    );
    let (_, page) = admin.get_page("/admin/invitations?email=failed").await;
    assert!(page.contains("2 emails failed"), "{page}");
    // Listing every invitation is not listing failures: no such banner, shown or hidden.
    let (_, page) = admin.get_page("/admin/invitations").await;
    assert!(!page.contains("emails failed"), "{page}");
    assert!(
        page.contains(&format!("Failed: {MAILBOX_UNKNOWN}")),
        "{page}"
    );

    // dan's mailbox exists now; eve's still does not. "Resend them" resends
    // only the two failed ones, each with a new link.
    sink.accept(BAD[0]);
    let before: Vec<(String, String)> =
        sqlx::query_as("SELECT email, token_hash FROM invitations ORDER BY email")
            .fetch_all(server.pool())
            .await
            .unwrap();
    let outcome: BulkOutcome = admin
        .call("imports/resend_failed_emails", &[("id", &id.to_string())])
        .await
        .unwrap();
    assert_eq!((outcome.done, outcome.skipped), (2, 0));
    let after: Vec<(String, String)> =
        sqlx::query_as("SELECT email, token_hash FROM invitations ORDER BY email")
            .fetch_all(server.pool())
            .await
            .unwrap();
    for (old, new) in before.iter().zip(&after) {
        let resent = BAD.contains(&old.0.as_str());
        assert_eq!(old.1 != new.1, resent, "{old:?} → {new:?}");
    }
    eventually("the resent emails delivered or refused", || async {
        counts(&admin, id).await.waiting == 0
    })
    .await;
    assert_eq!(
        counts(&admin, id).await,
        DeliveryCounts {
            sent: 4,
            waiting: 0,
            failed: 1
        }
    );
    let failed = rows_by_email(&admin, id, "failed").await;
    assert_eq!(emails_of(&failed), vec![BAD[1].to_owned()]);
    let received: Vec<String> = sink
        .received()
        .iter()
        .flat_map(|message| message.rcpt_to.clone())
        .collect();
    assert_eq!(
        received.iter().filter(|to| to.contains(BAD[0])).count(),
        1,
        "{received:?}"
    );
    assert!(!received.iter().any(|to| to.contains(BAD[1])));
    sink.stop().await;
    server.stop().await;
}

fn row_answer(state: &DeliveryState) -> String {
    match state {
        DeliveryState::Failed { answer, .. } => answer.clone(),
        other => panic!("not failed: {other:?}"),
    }
}

on_both_backends! {
    delivery_status_per_person => each_person_sees_where_their_email_stands;
}
