//! An invitation after it is sent: resent, cancelled, expired, accepted twice at once, kept within its organization, and delivered through an SMTP outage.

use super::*;

async fn resend_replaces_the_token_and_is_rate_limited(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    invite(&admin, &group, "lin@example.org").await.unwrap();
    let old = token_for(&server, "lin@example.org").await;
    let id = list(&admin, "", "").await.rows[0].id.to_string();

    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    let new = token_for(&server, "lin@example.org").await;
    assert_ne!(old, new);
    assert_eq!(
        lookup(&admin, &old).await,
        InviteLookup::NotFound,
        "the old link is dead"
    );
    let (_, location) = register(&server.client(), &old, "Lin").await;
    assert_eq!(location, format!("/invite/{old}?error=gone"));
    assert!(matches!(
        lookup(&server.client(), &new).await,
        InviteLookup::Valid { .. }
    ));
    assert_eq!(list(&admin, "", "").await.rows[0].resend_count, 1);

    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    let fourth = admin.call::<()>("invitations/resend", &[("id", &id)]).await;
    assert!(
        matches!(fourth, Err(AppError::Conflict(ref m)) if m.contains("24 hours")),
        "{fourth:?}"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1",
                "lin@example.org"
            )
            .await,
        4
    );

    let (_, location) = register(
        &server.client(),
        &token_for(&server, "lin@example.org").await,
        "Lin",
    )
    .await;
    assert_eq!(location, "/?welcome", "the newest link works");
}

async fn cancel_kills_the_link(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group, token) = lin_invited(&server).await;
    let id = list(&admin, "", "").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/cancel", &[("id", &id)])
        .await
        .unwrap();
    assert!(matches!(
        lookup(&server.client(), &token).await,
        InviteLookup::Cancelled { .. }
    ));
    let (_, location) = register(&server.client(), &token, "Lin").await;
    assert_eq!(location, format!("/invite/{token}?error=gone"));
    let (_, html) = server.client().get_page(&format!("/invite/{token}")).await;
    assert!(html.contains("This invitation was cancelled"), "{html}");
    assert!(matches!(
        admin.call::<()>("invitations/cancel", &[("id", &id)]).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(
        admin.call::<()>("invitations/resend", &[("id", &id)]).await,
        Err(AppError::Conflict(_))
    ));
    assert_eq!(list(&admin, "cancelled", "").await.total, 1);
    // A cancelled invitation does not block a new one.
    assert_eq!(
        invite(&admin, &group, "lin@example.org").await.unwrap()[0].result,
        InviteResult::Invited
    );
}

async fn an_expired_link_says_so_and_can_be_resent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, _, token) = lin_invited(&server).await;
    sqlx::query("UPDATE invitations SET expires_at = 1000")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    assert!(matches!(
        lookup(&server.client(), &token).await,
        InviteLookup::Expired { .. }
    ));
    let (_, html) = server.client().get_page(&format!("/invite/{token}")).await;
    assert!(html.contains("This invitation has expired"), "{html}");
    let (_, location) = register(&server.client(), &token, "Lin").await;
    assert_eq!(location, format!("/invite/{token}?error=gone"));
    assert_eq!(list(&admin, "expired", "").await.total, 1);
    assert_eq!(list(&admin, "pending", "").await.total, 0);
    let id = list(&admin, "", "").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    assert_eq!(list(&admin, "pending", "").await.total, 1);
}

async fn two_concurrent_accepts_make_one_membership(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (_, _, token) = lin_invited(&server).await;
    let (a, b) = (server.client(), server.client());
    let (first, second) = tokio::join!(register(&a, &token, "Lin"), register(&b, &token, "Lin"));
    let mut locations = vec![first.1, second.1];
    locations.sort();
    assert_eq!(
        locations,
        vec![
            "/?welcome".to_owned(),
            format!("/invite/{token}?error=gone")
        ]
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "lin@example.org"
            )
            .await,
        1
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM group_memberships gm JOIN users u ON u.id = gm.user_id WHERE u.email = $1", "lin@example.org").await,
        1
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM training_assignments a JOIN users u ON u.id = a.user_id WHERE u.email = $1", "lin@example.org").await,
        2
    );
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM outbox WHERE kind = $1", "welcome")
            .await,
        1
    );
}

async fn organizations_cannot_touch_each_others_invitations(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (admin_a, group_a) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group_a = group_a.to_string();
    invite(&admin_a, &group_a, "lin@example.org").await.unwrap();
    let id = list(&admin_a, "", "").await.rows[0].id.to_string();
    let admin_b = server.client();
    admin_b.create_org("Other", "b@example.org").await.unwrap();
    assert_eq!(list(&admin_b, "", "").await.total, 0);
    assert_eq!(
        admin_b
            .call::<()>("invitations/cancel", &[("id", &id)])
            .await,
        Err(AppError::NotFound)
    );
    assert_eq!(
        admin_b
            .call::<()>("invitations/resend", &[("id", &id)])
            .await,
        Err(AppError::NotFound)
    );
    let into_a = invite(&admin_b, &group_a, "x@example.org").await;
    assert!(
        matches!(into_a, Err(AppError::Invalid { .. })),
        "{into_a:?}"
    );
    // Several organizations mean real SMTP: there is no dev mailbox to read A's links in.
    let mailbox = admin_b.call::<Vec<MailboxEntry>>("mailbox/list", &[]).await;
    assert!(mailbox.is_err(), "{mailbox:?}");
    assert_eq!(list(&admin_a, "pending", "").await.total, 1);
}

/// Real SMTP on loopback: one message per invitation, then SMTP down → the
/// message waits and is retried → SMTP up → delivered once, never twice.
async fn smtp_delivery_survives_an_outage_without_duplicates(backend: Backend) {
    let sink = SmtpSink::start().await;
    let smtp = [
        ("MUSTER_SMTP_HOST", "127.0.0.1".to_owned()),
        ("MUSTER_SMTP_PORT", sink.addr.port().to_string()),
        ("MUSTER_SMTP_TLS", "none".to_owned()),
        (
            "MUSTER_SMTP_FROM",
            "Muster <no-reply@muster.test>".to_owned(),
        ),
        ("MUSTER_MAIL_RETRY_SECONDS", "1".to_owned()),
    ];
    let Some(server) = TestApp::spawn_with(backend, false, &smtp).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    invite(&admin, &group, "lin@example.org, max@example.org")
        .await
        .unwrap();
    eventually("two messages at the SMTP server", || async {
        sink.received().len() >= 2
    })
    .await;
    let received = sink.received();
    assert_eq!(received.len(), 2);
    let mut to: Vec<String> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    to.sort();
    assert_eq!(to, vec!["<lin@example.org>", "<max@example.org>"]);
    assert!(received
        .iter()
        .all(|m| m.mail_from == "<no-reply@muster.test>"));
    assert!(
        received[0].data.contains("multipart/alternative"),
        "{}",
        received[0].data
    );
    assert!(received[0]
        .header("Subject")
        .unwrap()
        .contains("Spring Cohort"));
    assert_eq!(
        admin.call::<Vec<MailboxEntry>>("mailbox/list", &[]).await,
        Err(AppError::NotFound),
        "no dev mailbox with SMTP"
    );
    eventually("both marked sent", || async {
        list(&admin, "", "")
            .await
            .rows
            .iter()
            .all(|row| row.delivery.status() == Some(OutboxStatus::Sent))
    })
    .await;

    // SMTP goes down.
    let (addr, inbox) = sink.stop().await;
    invite(&admin, &group, "sam@example.org").await.unwrap();
    eventually("a failed attempt recorded", || async {
        let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
            "SELECT attempts, last_error, status FROM outbox WHERE to_email = 'sam@example.org'",
        )
        .fetch_all(&server.state.db.pool)
        .await
        .unwrap();
        rows.len() == 1 && rows[0].0 >= 1 && rows[0].1.is_some() && rows[0].2 == "queued"
    })
    .await;
    let row = list(&admin, "", "sam").await.rows.remove(0);
    assert!(
        matches!(row.delivery, DeliveryState::Queued { attempts, last_answer: Some(_) } if attempts >= 1),
        "{row:?}"
    );

    // And comes back on the same port.
    let sink = SmtpSink::start_on(addr, inbox).await;
    eventually("the third message after the retry", || async {
        sink.received().len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = sink.received();
    assert_eq!(received.len(), 3, "nothing delivered twice");
    let mut ids: Vec<String> = received
        .iter()
        .map(|m| m.header("Message-ID").expect("a Message-ID"))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
    let (sent,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE status = 'sent' AND delivered_to_dev_mailbox = 0",
    )
    .fetch_one(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(sent, 3);
    sink.stop().await;
}

on_both_backends! {
    resend => resend_replaces_the_token_and_is_rate_limited;
    cancel => cancel_kills_the_link;
    expired => an_expired_link_says_so_and_can_be_resent;
    concurrent_accepts => two_concurrent_accepts_make_one_membership;
    tenant_isolation => organizations_cannot_touch_each_others_invitations;
    smtp_outage => smtp_delivery_survives_an_outage_without_duplicates;
}
