//! Reminders by a group's schedule: off by default; with "3, 7" a pending
//! invitation is reminded once per step with a new link and never after
//! its expiry, accepted or cancelled ones never; reminders share the daily
//! limit per address with resends; two server processes send one reminder,
//! not two. The sweeper runs every second here; days do not pass: a test
//! makes a reminder due by moving its time back to the invitation's last
//! email in its own database (as if the days had passed), then waits.

use super::*;

const DAY: i64 = 86_400;

/// A server whose reminder sweeper looks every second.
async fn spawn(backend: Backend, open_signup: bool) -> Option<TestApp> {
    TestApp::spawn_with(
        backend,
        open_signup,
        &[("MUSTER_REMINDER_SWEEP_SECONDS", "1".to_owned())],
    )
    .await
}

async fn set_reminders(admin: &Client, group: &str, days: &str) -> Result<(), AppError> {
    admin
        .call(
            "groups/set_reminders",
            &[("id", group), ("reminder_days", days)],
        )
        .await
}

async fn new_group(admin: &Client, name: &str, expiry_days: &str) -> String {
    let id: i64 = admin
        .call(
            "groups/create",
            &[
                ("name", name),
                ("description", ""),
                ("default_expiry_days", expiry_days),
                ("trainings", ""),
            ],
        )
        .await
        .unwrap();
    id.to_string()
}

/// One invitation as the reminders see it.
#[derive(Debug, PartialEq)]
struct Reminding {
    reminders_sent: i64,
    next_reminder_at: Option<i64>,
    last_sent_at: Option<i64>,
    expires_at: i64,
}

async fn reminding(server: &TestApp, email: &str) -> Reminding {
    let (reminders_sent, next_reminder_at, last_sent_at, expires_at) = sqlx::query_as(
        "SELECT reminders_sent, next_reminder_at, last_sent_at, expires_at FROM invitations
         WHERE email = $1 ORDER BY id DESC",
    )
    .bind(email)
    .fetch_one(server.pool())
    .await
    .unwrap();
    Reminding {
        reminders_sent,
        next_reminder_at,
        last_sent_at,
        expires_at,
    }
}

/// As if the days until its next reminder had passed: how many invitations
/// to `email` that had a reminder coming are now due.
async fn make_due(server: &TestApp, email: &str) -> u64 {
    sqlx::query(
        "UPDATE invitations SET next_reminder_at = last_sent_at
         WHERE email = $1 AND next_reminder_at IS NOT NULL",
    )
    .bind(email)
    .execute(server.pool())
    .await
    .unwrap()
    .rows_affected()
}

async fn reminders_to(server: &TestApp, email: &str) -> i64 {
    server
        .count(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'invitation_reminder' AND to_email = $1",
            email,
        )
        .await
}

/// Makes `email`'s (scheduled) reminder due and waits until the sweeper has
/// sent it: every reminder due at the same time went out in that sweep too.
async fn remind_and_wait(server: &TestApp, email: &str) {
    let before = reminders_to(server, email).await;
    assert_eq!(
        make_due(server, email).await,
        1,
        "{email} has a reminder coming"
    );
    eventually(&format!("a reminder to {email}"), || async {
        reminders_to(server, email).await == before + 1
    })
    .await;
}

async fn the_schedule_reminds_each_step_once_and_is_off_by_default(backend: Backend) {
    let Some(server) = spawn(backend, false).await else {
        return;
    };
    let (admin, off_group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let off_group = off_group.to_string();
    let group = new_group(&admin, "Autumn", "30").await;
    let summary: app::groups::GroupSummary = admin
        .call("groups/get", &[("id", &off_group)])
        .await
        .unwrap();
    assert!(summary.reminders.is_off(), "off by default");

    // Set before any invitation, and after one: both follow the schedule.
    invite(&admin, &group, "early@example.org").await.unwrap();
    assert_eq!(
        reminding(&server, "early@example.org")
            .await
            .next_reminder_at,
        None
    );
    set_reminders(&admin, &group, "3, 7").await.unwrap();
    let summary: app::groups::GroupSummary =
        admin.call("groups/get", &[("id", &group)]).await.unwrap();
    assert_eq!(summary.reminders.days(), &[3, 7]);
    // Recorded in the activity log; saving it unchanged records nothing.
    set_reminders(&admin, &group, "3,7").await.unwrap();
    let changes: Vec<(String,)> = sqlx::query_as(
        "SELECT details FROM audit_events WHERE action = 'group_changed' AND subject_id = $1",
    )
    .bind(group.parse::<i64>().unwrap())
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(
        changes,
        vec![("invitation reminders: 3 and 7 days after sending (was off).".to_owned(),)]
    );
    let early = reminding(&server, "early@example.org").await;
    assert_eq!(
        early.next_reminder_at,
        early.last_sent_at.map(|sent| sent + 3 * DAY),
        "rescheduled when the schedule was set"
    );

    invite(&admin, &off_group, "lin@example.org").await.unwrap();
    invite(&admin, &group, "max@example.org").await.unwrap();
    let lin = reminding(&server, "lin@example.org").await;
    assert_eq!(lin.next_reminder_at, None, "no schedule, no reminder");
    let max = reminding(&server, "max@example.org").await;
    let first_sent = max.last_sent_at.unwrap();
    assert_eq!(max.next_reminder_at, Some(first_sent + 3 * DAY));
    let page = list(&admin, "pending", "").await;
    let next_of = |email: &str| {
        page.rows
            .iter()
            .find(|row| row.email == email)
            .unwrap()
            .next_reminder_at
    };
    assert_eq!(
        next_of("max@example.org"),
        max.next_reminder_at,
        "the list shows it"
    );
    assert_eq!(next_of("lin@example.org"), None);

    // An import's invitations follow the schedule too.
    let import = crate::imports::create(
        &admin,
        &crate::imports::options("invites", Some(group.parse().unwrap())),
        &crate::imports::payload("invites", &["Email"], &[&["imported@example.org"]]),
        crate::imports::KEY_A,
    )
    .await
    .unwrap();
    crate::imports::wait_finished(&admin, import).await;
    let imported = reminding(&server, "imported@example.org").await;
    assert_eq!(
        imported.next_reminder_at,
        imported.last_sent_at.map(|sent| sent + 3 * DAY)
    );
    assert!(imported.next_reminder_at.is_some());

    // The pages say so, rendered on the server.
    let (_, html) = admin.get_page(&format!("/admin/groups/{group}")).await;
    assert!(
        html.contains("3 and 7 days after sending") && html.contains("value=\"3, 7\""),
        "{html}"
    );
    let (_, html) = admin.get_page("/admin/invitations").await;
    let next = format!(
        "Next reminder: {}",
        app::mail::templates::format_day_month(max.next_reminder_at.unwrap())
    );
    assert_eq!(
        html.matches("Next reminder: ").count(),
        3,
        "early, imported and max, not lin: {html}"
    );
    assert!(html.contains(&next), "{html}");

    let old_token = token_for(&server, "max@example.org").await;
    remind_and_wait(&server, "max@example.org").await;
    let reminded = reminding(&server, "max@example.org").await;
    assert_eq!(reminded.reminders_sent, 1);
    assert_eq!(
        reminded.expires_at, max.expires_at,
        "a reminder does not extend the invitation"
    );
    assert_eq!(
        reminded.next_reminder_at,
        reminded.last_sent_at.map(|sent| sent + 4 * DAY),
        "the second step is 7 days after sending: 4 after the first reminder"
    );
    let (id,): (i64,) = sqlx::query_as(
        "SELECT id FROM outbox WHERE kind = 'invitation_reminder' AND to_email = $1",
    )
    .bind("max@example.org")
    .fetch_one(server.pool())
    .await
    .unwrap();
    let reminder = crate::support::rendered(server.pool(), id).await;
    assert_eq!(
        reminder.subject,
        "Reminder: Riverside invites you to join Autumn"
    );
    assert!(reminder.text.contains("This is a reminder"));
    let new_token = token_for(&server, "max@example.org").await;
    assert_ne!(new_token, old_token);
    assert!(matches!(
        lookup(&server.client(), &new_token).await,
        InviteLookup::Valid { .. }
    ));
    assert_eq!(
        lookup(&server.client(), &old_token).await,
        InviteLookup::NotFound
    );
    assert_eq!(
        reminders_to(&server, "lin@example.org").await,
        0,
        "off: none"
    );
    // Muster sent it, not an admin: recorded as the system's, with the count.
    let (actor, count): (Option<i64>, Option<i64>) = sqlx::query_as(
        "SELECT actor_user_id, item_count FROM audit_events WHERE action = 'invitations_reminded'",
    )
    .fetch_one(server.pool())
    .await
    .unwrap();
    assert_eq!((actor, count), (None, Some(1)));

    remind_and_wait(&server, "max@example.org").await;
    let done = reminding(&server, "max@example.org").await;
    assert_eq!(
        (done.reminders_sent, done.next_reminder_at),
        (2, None),
        "two steps, then none"
    );
    assert_eq!(make_due(&server, "max@example.org").await, 0);
    // Another sweep (early's reminder) leaves max at two.
    remind_and_wait(&server, "early@example.org").await;
    assert_eq!(reminders_to(&server, "max@example.org").await, 2);

    // A resend by hand starts the schedule again; turning it off clears it.
    let id = list(&admin, "", "max@").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/resend", &[("id", &id)])
        .await
        .unwrap();
    let resent = reminding(&server, "max@example.org").await;
    assert_eq!(
        (resent.reminders_sent, resent.next_reminder_at),
        (0, resent.last_sent_at.map(|sent| sent + 3 * DAY))
    );
    set_reminders(&admin, &group, "").await.unwrap();
    assert_eq!(
        reminding(&server, "max@example.org").await.next_reminder_at,
        None
    );
    assert!(list(&admin, "", "")
        .await
        .rows
        .iter()
        .all(|row| row.next_reminder_at.is_none()));
}

async fn no_reminder_after_expiry_acceptance_or_cancelling(backend: Backend) {
    let Some(server) = spawn(backend, false).await else {
        return;
    };
    let (admin, _) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    // Expires after 2 days: a reminder on day 3 would come too late.
    let short = new_group(&admin, "Short", "2").await;
    set_reminders(&admin, &short, "3").await.unwrap();
    invite(&admin, &short, "late@example.org").await.unwrap();
    assert_eq!(
        reminding(&server, "late@example.org")
            .await
            .next_reminder_at,
        None
    );

    let group = new_group(&admin, "Autumn", "30").await;
    set_reminders(&admin, &group, "3, 7").await.unwrap();
    invite(
        &admin,
        &group,
        "expired@example.org, accepted@example.org, cancelled@example.org, canary@example.org",
    )
    .await
    .unwrap();
    register(
        &server.client(),
        &token_for(&server, "accepted@example.org").await,
        "Acc",
    )
    .await;
    let cancelled = list(&admin, "", "cancelled@").await.rows[0].id.to_string();
    admin
        .call::<()>("invitations/cancel", &[("id", &cancelled)])
        .await
        .unwrap();
    for email in ["accepted@example.org", "cancelled@example.org"] {
        assert_eq!(
            reminding(&server, email).await.next_reminder_at,
            None,
            "{email}"
        );
    }
    // Even with a reminder time forced on them, the sweeper leaves them be.
    sqlx::query("UPDATE invitations SET expires_at = 1000 WHERE email = 'expired@example.org'")
        .execute(server.pool())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE invitations SET next_reminder_at = last_sent_at
         WHERE email IN ('expired@example.org', 'accepted@example.org', 'cancelled@example.org')",
    )
    .execute(server.pool())
    .await
    .unwrap();
    remind_and_wait(&server, "canary@example.org").await;
    for email in [
        "late@example.org",
        "expired@example.org",
        "accepted@example.org",
        "cancelled@example.org",
    ] {
        assert_eq!(reminders_to(&server, email).await, 0, "{email}");
    }
}

async fn reminders_share_the_daily_limit_with_resends(backend: Backend) {
    let Some(server) = spawn(backend, false).await else {
        return;
    };
    let (admin, _) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let group = new_group(&admin, "Autumn", "30").await;
    set_reminders(&admin, &group, "3, 7").await.unwrap();
    invite(
        &admin,
        &group,
        "lin@example.org, max@example.org, canary@example.org",
    )
    .await
    .unwrap();
    let lin = list(&admin, "", "lin@").await.rows[0].id.to_string();
    for _ in 0..3 {
        admin
            .call::<()>("invitations/resend", &[("id", &lin)])
            .await
            .unwrap();
    }
    // Lin had three resends today: the reminder waits until the first of
    // them is a day old.
    assert_eq!(make_due(&server, "lin@example.org").await, 1);
    remind_and_wait(&server, "canary@example.org").await;
    assert_eq!(reminders_to(&server, "lin@example.org").await, 0);
    let (first_resend,): (i64,) = sqlx::query_as(
        "SELECT MIN(created_at) FROM outbox WHERE kind = 'invitation_resend' AND to_email = $1",
    )
    .bind("lin@example.org")
    .fetch_one(server.pool())
    .await
    .unwrap();
    let lin_now = reminding(&server, "lin@example.org").await;
    assert_eq!(
        (lin_now.reminders_sent, lin_now.next_reminder_at),
        (0, Some(first_resend + DAY))
    );

    // And the other way: after a reminder, two resends by hand fill the day.
    remind_and_wait(&server, "max@example.org").await;
    let max = list(&admin, "", "max@").await.rows[0].id.to_string();
    for _ in 0..2 {
        admin
            .call::<()>("invitations/resend", &[("id", &max)])
            .await
            .unwrap();
    }
    let third = admin
        .call::<()>("invitations/resend", &[("id", &max)])
        .await;
    assert!(
        matches!(third, Err(AppError::Conflict(ref m)) if m.contains("24 hours")),
        "{third:?}"
    );
}

async fn three_sweepers_send_each_reminder_once(backend: Backend) {
    let Some(first) = spawn(backend, false).await else {
        return;
    };
    let second = TestApp::spawn_on(
        first.database_url.clone(),
        false,
        &[("MUSTER_REMINDER_SWEEP_SECONDS", "1".to_owned())],
    )
    .await;
    // And the real binary, a third process with its own sweeper.
    let (_binary, _) = crate::support::muster_serving(
        &first.database_url,
        &[("MUSTER_REMINDER_SWEEP_SECONDS", "1")],
    )
    .await;
    let (admin, _) = first
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let group = new_group(&admin, "Autumn", "30").await;
    set_reminders(&admin, &group, "3").await.unwrap();
    // Enough that a sweep takes a while (batches of 100): the sweepers,
    // each looking every second, overlap.
    const N: i64 = 600;
    let emails: Vec<String> = (0..N).map(|n| format!("p{n}@example.org")).collect();
    let rows: Vec<[&str; 1]> = emails.iter().map(|email| [email.as_str()]).collect();
    let rows: Vec<&[&str]> = rows.iter().map(|row| &row[..]).collect();
    let import = crate::imports::create(
        &admin,
        &crate::imports::options("invites", Some(group.parse().unwrap())),
        &crate::imports::payload("invites", &["Email"], &rows),
        crate::imports::KEY_A,
    )
    .await
    .unwrap();
    crate::imports::wait_finished(&admin, import).await;
    let due = sqlx::query(
        "UPDATE invitations SET next_reminder_at = last_sent_at WHERE next_reminder_at IS NOT NULL",
    )
    .execute(first.pool())
    .await
    .unwrap()
    .rows_affected();
    assert_eq!(due, N as u64);
    eventually("a reminder for each", || async {
        first
            .count_all("SELECT COUNT(*) FROM invitations WHERE reminders_sent = 1")
            .await
            == N
    })
    .await;
    // A sweep since (the canary's) found nothing more of theirs to send.
    invite(&admin, &group, "canary@example.org").await.unwrap();
    remind_and_wait(&first, "canary@example.org").await;
    assert_eq!(
        first
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation_reminder'")
            .await,
        N + 1,
        "one reminder per invitation"
    );
    assert_eq!(
        first
            .count_all(
                "SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation_reminder'"
            )
            .await,
        N + 1
    );
    second.stop().await;
}

async fn the_schedule_is_checked_and_stays_in_its_organization(backend: Backend) {
    let Some(server) = spawn(backend, true).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;
    let group = group.to_string();
    let (status, body) = admin
        .raw(
            "groups/set_reminders",
            &[("id", &group), ("reminder_days", "3,x")],
            Some(admin.base()),
        )
        .await;
    assert_eq!(status.as_u16(), 422, "{body}");
    assert!(
        matches!(
            set_reminders(&admin, &group, "3,x").await,
            Err(AppError::Invalid { ref field, ref message })
                if field == "Reminder days" && message.starts_with("\"x\" is not a whole number")
        ),
        "{body}"
    );
    assert!(matches!(
        set_reminders(&admin, &group, "7, 3").await,
        Err(AppError::Invalid { ref message, .. }) if message.contains("increasing")
    ));
    set_reminders(&admin, &group, "2").await.unwrap();

    let other = server.client();
    other.create_org("Other", "b@example.org").await.unwrap();
    assert_eq!(
        set_reminders(&other, &group, "1").await,
        Err(AppError::NotFound)
    );
    let summary: app::groups::GroupSummary =
        admin.call("groups/get", &[("id", &group)]).await.unwrap();
    assert_eq!(
        summary.reminders.days(),
        &[2],
        "unchanged by the other organization"
    );
}

on_both_backends! {
    schedule_reminds_each_step_once => the_schedule_reminds_each_step_once_and_is_off_by_default;
    none_after_expiry_acceptance_or_cancelling => no_reminder_after_expiry_acceptance_or_cancelling;
    reminders_share_the_daily_limit => reminders_share_the_daily_limit_with_resends;
    three_sweepers_remind_once => three_sweepers_send_each_reminder_once;
    schedule_checked_and_isolated => the_schedule_is_checked_and_stays_in_its_organization;
}
