//! Issue #12, written as the attacks: organization B (open sign-up, its own
//! admin, the same HTTP requests a script could send) tries to reach
//! organization A's people. Each test failed before organizations kept
//! their own records of people, and passes now, on SQLite and PostgreSQL.

use app::{auth::AccountStatus, home::LearnerOverview, imports::DryRun, people::PeoplePage};
use serde_json::json;

use crate::{
    imports::{create, options, payload, rows, wait_finished, KEY_A, KEY_B},
    invitations::{invite, respond, token_for},
    join::{confirm_with, open_page, register, submit, verify_token_for},
    support::{Backend, Client, TestApp, ADMIN_PASSWORD, PASSWORD},
};

const PEOPLE: [&str; 5] = ["First Name", "Last Name", "Email", "Role", "External ID"];

async fn people(admin: &Client, search: &str) -> PeoplePage {
    admin
        .call(
            "people/list",
            &[("search", search), ("status", ""), ("page", "1")],
        )
        .await
        .unwrap()
}

async fn import(admin: &Client, options: serde_json::Value, rows_in: serde_json::Value, key: &str) {
    let id = create(admin, &options, &rows_in, key).await.unwrap();
    let done = wait_finished(admin, id).await;
    assert_eq!(done.failed, 0, "{:?}", rows(admin, id, "").await);
}

/// Riverside (A) and Hillcrest (B), each with an admin and a group.
async fn two_organizations(server: &TestApp) -> (Client, i64, Client, i64) {
    let (a, a_group) = server
        .admin_with_group("Riverside", "ada@riverside.org", "Spring Cohort", "Safety")
        .await;
    let (b, b_group) = server
        .admin_with_group("Hillcrest", "bea@hillcrest.org", "Evening Class", "Safety")
        .await;
    (a, a_group, b, b_group)
}

async fn b_renames_nobody_of_a(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, _, b, _) = two_organizations(&server).await;
    import(
        &a,
        options("people", None),
        payload(
            "people",
            &PEOPLE,
            &[&["Ann", "Lee", "ann@example.com", "Student", "A-7"]],
        ),
        KEY_A,
    )
    .await;
    // B imports the same address with its own names and id.
    import(
        &b,
        options("people", None),
        payload(
            "people",
            &PEOPLE,
            &[&["Mallory", "Evil", "ann@example.com", "Student", "B-1"]],
        ),
        KEY_B,
    )
    .await;
    let seen_by_a = people(&a, "ann@").await;
    assert_eq!(seen_by_a.people.len(), 1);
    let ann = &seen_by_a.people[0];
    assert_eq!(
        (ann.first_name.as_str(), ann.last_name.as_str()),
        ("Ann", "Lee")
    );
    let external: Vec<(Option<String>,)> = sqlx::query_as(
        "SELECT m.external_id FROM memberships m JOIN organizations o ON o.id = m.organization_id
         WHERE o.name = 'Riverside' AND m.role = 'learner'",
    )
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(external, vec![(Some("A-7".to_owned()),)]);
    // B sees its own record, waiting for the person's consent.
    let seen_by_b = people(&b, "ann@").await;
    assert_eq!(seen_by_b.people[0].first_name, "Mallory");
    assert_eq!(seen_by_b.people[0].status, AccountStatus::AwaitingConsent);
}

/// How Hillcrest's record of Riverside's admin stands.
async fn hillcrest_status(server: &TestApp) -> Vec<(String,)> {
    sqlx::query_as(
        "SELECT m.status FROM memberships m JOIN organizations o ON o.id = m.organization_id
         JOIN users u ON u.id = m.user_id WHERE o.name = 'Hillcrest' AND u.email = 'ada@riverside.org'",
    )
    .fetch_all(server.pool())
    .await
    .unwrap()
}

async fn password_set(server: &TestApp) -> i64 {
    server
        .count(
            "SELECT COUNT(*) FROM users WHERE email = $1 AND password_hash IS NOT NULL",
            "vic@riverside.org",
        )
        .await
}

async fn b_cannot_make_a_member_of_its_group_without_consent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (_a, _, b, b_group) = two_organizations(&server).await;
    // A's admin has an account with a password; B imports them as a learner.
    let mut opts = options("learners", Some(b_group));
    opts["send_emails"] = json!(true);
    import(
        &b,
        opts,
        payload("learners", &["Email"], &[&["ada@riverside.org"]]),
        KEY_A,
    )
    .await;
    assert_eq!(
        hillcrest_status(&server).await,
        vec![("pending".to_owned(),)]
    );
    // They were told, and no password link was sent.
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind = 'added_notice'",
                "ada@riverside.org"
            )
            .await,
        1
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens t JOIN users u ON u.id = t.user_id WHERE u.email = $1",
                "ada@riverside.org"
            )
            .await,
        0
    );
    // Signing in still lands in Riverside; Hillcrest waits for an answer on the home page.
    let ada = server.client();
    ada.log_in("ada@riverside.org").await;
    let home: LearnerOverview = ada.call("learner/home", &[]).await.unwrap();
    assert_eq!(
        home.organizations
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        vec!["Riverside"]
    );
    assert_eq!(home.pending.len(), 1);
    assert_eq!(home.pending[0].name, "Hillcrest");
    // B cannot answer for them (it is not their session), and a stranger's id is not found.
    let hillcrest = home.pending[0].id.to_string();
    assert!(b
        .call::<()>(
            "learner/answer_organization",
            &[("organization_id", &hillcrest), ("accept", "true")]
        )
        .await
        .is_err());
    assert_eq!(
        hillcrest_status(&server).await,
        vec![("pending".to_owned(),)]
    );
    ada.call::<()>(
        "learner/answer_organization",
        &[("organization_id", &hillcrest), ("accept", "true")],
    )
    .await
    .unwrap();
    assert_eq!(
        hillcrest_status(&server).await,
        vec![("active".to_owned(),)]
    );
}

async fn b_cannot_claim_a_username_only_student(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, _, b, _) = two_organizations(&server).await;
    let headers = [
        "First Name",
        "Last Name",
        "Email",
        "Username",
        "Role",
        "Parent Emails",
    ];
    let mut opts = options("people", None);
    opts["auto_invite"] = json!(true);
    import(
        &a,
        opts.clone(),
        payload(
            "people",
            &headers,
            &[
                &["Kit", "Lee", "", "kitlee", "Student", "pat@riverside.org"],
                &["Pat", "Lee", "pat@riverside.org", "", "Parent", ""],
            ],
        ),
        KEY_A,
    )
    .await;
    // B names the same username with its own address as the parent.
    import(
        &b,
        opts,
        payload(
            "people",
            &headers,
            &[
                &[
                    "Kit",
                    "Lee",
                    "",
                    "kitlee",
                    "Student",
                    "mallory@hillcrest.org",
                ],
                &["Mal", "Lory", "mallory@hillcrest.org", "", "Parent", ""],
            ],
        ),
        KEY_B,
    )
    .await;
    let kits: Vec<(i64, String)> = sqlx::query_as(
        "SELECT m.user_id, o.name FROM memberships m JOIN organizations o ON o.id = m.organization_id
         WHERE m.username = 'kitlee' ORDER BY o.name",
    )
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(kits.len(), 2, "one student per organization");
    assert_ne!(kits[0].0, kits[1].0, "B's kitlee is a different account");
    let riverside_kit = kits.iter().find(|(_, org)| org == "Riverside").unwrap().0;
    // A's student's activation link is still A's, sent to A's parent only.
    let links: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.status, o.to_email FROM activation_tokens t JOIN outbox o ON o.id = t.outbox_id
         WHERE t.user_id = $1",
    )
    .bind(riverside_kit)
    .fetch_all(server.pool())
    .await
    .unwrap();
    assert_eq!(
        links,
        vec![("pending".to_owned(), "pat@riverside.org".to_owned())]
    );
}

async fn a_join_sign_up_cannot_choose_the_victims_password(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, a_group, _b, _) = two_organizations(&server).await;
    open_page(&a, "riverside", &a_group.to_string(), "").await;
    // The attacker signs up with the victim's address and "their" password.
    let attacker = server.client();
    register(
        &attacker,
        "riverside",
        "victim@example.com",
        "attacker password 1",
    )
    .await;
    // The victim opens the link and chooses their own password.
    let token = verify_token_for(&server, "victim@example.com").await;
    let victim = server.client();
    let (status, location) = confirm_with(&victim, &token, PASSWORD).await;
    assert_eq!((status, location.as_str()), (303, "/"));
    let login = |password: &'static str| {
        let client = server.client();
        async move {
            client
                .call::<()>(
                    "login",
                    &[("email", "victim@example.com"), ("password", password)],
                )
                .await
        }
    };
    assert!(login("attacker password 1").await.is_err());
    login(PASSWORD).await.unwrap();
}

/// A link one organization sends (read from its dev mailbox, or the outbox
/// here) never sets the first password of an account another organization
/// holds: through an invitation, an activation, or a join confirmation.
async fn another_organizations_links_never_set_a_password(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, _, b, b_group) = two_organizations(&server).await;
    // A's member without a password yet.
    import(
        &a,
        options("people", None),
        payload(
            "people",
            &PEOPLE,
            &[&["Vic", "Tim", "vic@riverside.org", "Student", ""]],
        ),
        KEY_A,
    )
    .await;
    // 1. An invitation from B, accepted by "registering" with B's chosen password.
    invite(&b, &b_group.to_string(), "vic@riverside.org")
        .await
        .unwrap();
    let token = token_for(&server, "vic@riverside.org").await;
    let (status, location) = respond(
        &server.client(),
        &token,
        &[
            ("intent", "register"),
            ("first_name", "Vic"),
            ("last_name", "Tim"),
            ("password", "b chose this password"),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert!(location.contains("error=account_exists"), "{location}");
    assert_eq!(password_set(&server).await, 0);
    // 2. An activation from B: a People import with auto-invite sends none.
    let mut opts = options("people", None);
    opts["auto_invite"] = json!(true);
    import(
        &b,
        opts,
        payload(
            "people",
            &PEOPLE,
            &[&["Vic", "Tim", "vic@riverside.org", "Student", ""]],
        ),
        KEY_A,
    )
    .await;
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens t JOIN organizations o ON o.id = t.organization_id
                 WHERE o.name = $1",
                "Hillcrest"
            )
            .await,
        0
    );
    // 3. B's join page, confirmed with B's chosen password.
    open_page(&b, "hillcrest", &b_group.to_string(), "").await;
    register(&server.client(), "hillcrest", "vic@riverside.org", "").await;
    let token = verify_token_for(&server, "vic@riverside.org").await;
    let (status, location) = confirm_with(&server.client(), &token, "b chose this password").await;
    assert_eq!(status, 303);
    assert!(location.contains("error=account_exists"), "{location}");
    assert_eq!(password_set(&server).await, 0);
}

async fn the_dry_run_tells_nothing_about_other_organizations(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (_a, _, b, b_group) = two_organizations(&server).await;
    // ada@riverside.org has an account (Riverside's admin); nobody@ has none.
    let dry: DryRun = b
        .call_json(
            "imports/dry_run",
            &json!({
                "options": options("learners", Some(b_group)),
                "payload": payload("learners", &["Email"], &[&["ada@riverside.org"], &["nobody@example.com"]]),
            }),
        )
        .await
        .unwrap();
    assert_eq!(dry.will[0], dry.will[1], "{dry:?}");
    // And the import's row messages say the same too.
    let id = create(
        &b,
        &options("learners", Some(b_group)),
        &payload(
            "learners",
            &["Email"],
            &[&["ada@riverside.org"], &["nobody@example.com"]],
        ),
        KEY_A,
    )
    .await
    .unwrap();
    wait_finished(&b, id).await;
    let done = rows(&b, id, "").await;
    assert_eq!(done.rows[0].message, done.rows[1].message, "{done:?}");
    assert_eq!(done.rows[0].status, done.rows[1].status, "{done:?}");
}

async fn an_unverified_account_cannot_join_another_organization(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, a_group, _b, _) = two_organizations(&server).await;
    open_page(&a, "riverside", &a_group.to_string(), "").await;
    // Someone created Hillcrest with bea@hillcrest.org and never confirmed it:
    // that account cannot sign in on Riverside's join page.
    let (status, location) = submit(
        &server.client(),
        "riverside",
        &[
            ("intent", "login"),
            ("email", "bea@hillcrest.org"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/riverside?error=unverified")
    );
    // Once the owner opens the confirmation link, it can.
    let token = server
        .emailed_token("bea@hillcrest.org", "confirm_email", "/confirm-email/")
        .await;
    let (status, location) = server
        .client()
        .post_from_emailed_page(&format!("/confirm-email/{token}/confirm"), &[])
        .await;
    assert_eq!(
        (status, location),
        (303, format!("/confirm-email/{token}?done"))
    );
    let (status, location) = submit(
        &server.client(),
        "riverside",
        &[
            ("intent", "login"),
            ("email", "bea@hillcrest.org"),
            ("password", ADMIN_PASSWORD),
        ],
    )
    .await;
    assert_eq!((status, location.as_str()), (303, "/"));
}

async fn usernames_are_per_organization_and_sign_in_to_their_own(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, _, b, _) = two_organizations(&server).await;
    let headers = [
        "First Name",
        "Last Name",
        "Email",
        "Username",
        "Role",
        "Parent Emails",
    ];
    let mut opts = options("people", None);
    opts["auto_invite"] = json!(true);
    for (admin, parent, key) in [
        (&a, "pat@riverside.org", KEY_A),
        (&b, "pam@hillcrest.org", KEY_B),
    ] {
        import(
            admin,
            opts.clone(),
            payload(
                "people",
                &headers,
                &[
                    &["Kit", "Lee", "", "kitlee", "Student", parent],
                    &["Pat", "Lee", parent, "", "Parent", ""],
                ],
            ),
            key,
        )
        .await;
    }
    // Each parent activates their own organization's kitlee with a different password.
    for (organization, password) in [
        ("Riverside", "riverside kit password"),
        ("Hillcrest", "hillcrest kit password"),
    ] {
        let (outbox_id,): (i64,) = sqlx::query_as(
            "SELECT o.id FROM activation_tokens t JOIN outbox o ON o.id = t.outbox_id
             JOIN memberships m ON m.user_id = t.user_id AND m.organization_id = t.organization_id
             JOIN organizations g ON g.id = t.organization_id
             WHERE m.username = 'kitlee' AND g.name = $1",
        )
        .bind(organization)
        .fetch_one(server.pool())
        .await
        .unwrap();
        let text = crate::support::rendered(server.pool(), outbox_id)
            .await
            .text;
        let token = crate::support::link_token(&text, "/activate/");
        let (status, _) = server
            .client()
            .post_from_emailed_page(
                &format!("/activate/{token}/respond"),
                &[("password", password), ("password_confirmation", password)],
            )
            .await;
        assert_eq!(status, 303);
    }
    for (organization, password) in [
        ("Riverside", "riverside kit password"),
        ("Hillcrest", "hillcrest kit password"),
    ] {
        let kit = server.client();
        kit.call::<()>("login", &[("email", "kitlee"), ("password", password)])
            .await
            .unwrap();
        let home: LearnerOverview = kit.call("learner/home", &[]).await.unwrap();
        assert_eq!(home.organizations[0].name, organization);
    }
}

async fn open_sign_up_without_smtp_does_not_start() {
    let error = server::Config::from_lookup(|name| match name {
        "MUSTER_OPEN_SIGNUP" => Some("true".to_owned()),
        _ => None,
    })
    .expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("MUSTER_OPEN_SIGNUP") && message.contains("MUSTER_SMTP_HOST"),
        "{message}"
    );
}

#[tokio::test]
async fn dev_mailbox_is_refused_with_open_sign_up() {
    open_sign_up_without_smtp_does_not_start().await;
}

on_both_backends! {
    cross_organization_rename => b_renames_nobody_of_a;
    membership_needs_consent => b_cannot_make_a_member_of_its_group_without_consent;
    username_claim => b_cannot_claim_a_username_only_student;
    join_password_choice => a_join_sign_up_cannot_choose_the_victims_password;
    foreign_links_set_no_password => another_organizations_links_never_set_a_password;
    dry_run_leak => the_dry_run_tells_nothing_about_other_organizations;
    unverified_join => an_unverified_account_cannot_join_another_organization;
    usernames_per_organization => usernames_are_per_organization_and_sign_in_to_their_own;
}
