//! What each import kind does to accounts, memberships, invitations and emails.

use super::*;

async fn learners_get_accounts_memberships_trainings_and_activation_emails(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety\nConduct").await;
    let rows_in = payload(
        "learners",
        &["First Name", "Last Name", "Email"],
        &[
            &["Ann", "Lee", "ann@example.com"],
            &["Bob", "Ray", "bob@example.com"],
        ],
    );
    let id = create(&admin, &options("learners", Some(group)), &rows_in, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.failed), (2, 0), "{done:?}");
    let users: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT u.email, m.first_name, u.status FROM users u JOIN memberships m ON m.user_id = u.id
         WHERE u.email LIKE $1 ORDER BY u.email",
    )
    .bind("%@example.com")
    .fetch_all(&server.state.db.pool)
    .await
    .unwrap();
    assert_eq!(
        users,
        vec![
            ("ann@example.com".into(), "Ann".into(), "provisioned".into()),
            ("bob@example.com".into(), "Bob".into(), "provisioned".into())
        ]
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM group_memberships WHERE group_id = $1",
                group
            )
            .await,
        2
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM training_assignments WHERE group_id = $1",
                group
            )
            .await,
        4
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        2
    );
    // Again: existing members are untouched and nobody is emailed twice.
    let again = create(&admin, &options("learners", Some(group)), &rows_in, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, again).await;
    assert_eq!((done.succeeded, done.skipped), (0, 2));
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        2
    );
}

async fn program_invitations_respect_the_contracts_seats(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract: i64 = admin
        .call(
            "contracts/create",
            &[("name", "District 9"), ("seat_limit", "2"), ("ends_on", "")],
        )
        .await
        .unwrap();
    let mut opts = options("program-invitations", Some(group));
    opts["contract_id"] = json!(contract);
    let three = payload(
        "program-invitations",
        &["Full Name", "Email", "External ID"],
        &[
            &["Ann Lee", "ann@example.com", "A1"],
            &["Bob Ray", "bob@example.com", ""],
            &["Cy Dee", "cy@example.com", "C3"],
        ],
    );
    let dry: DryRun = admin
        .call_json(
            "imports/dry_run",
            &json!({ "options": opts, "payload": three }),
        )
        .await
        .unwrap();
    assert!(
        dry.seats_warning
            .as_deref()
            .unwrap()
            .contains("2 seats left"),
        "{dry:?}"
    );
    match create(&admin, &opts, &three, KEY_A).await {
        Err(AppError::Conflict(message)) => assert!(message.contains("seats"), "{message}"),
        other => panic!("expected a seats conflict, got {other:?}"),
    }
    let two = payload(
        "program-invitations",
        &["Full Name", "Email", "External ID"],
        &[
            &["Ann Lee", "ann@example.com", "A1"],
            &["Bob Ray", "bob@example.com", ""],
        ],
    );
    let id = create(&admin, &opts, &two, KEY_B).await.unwrap();
    assert_eq!(wait_finished(&admin, id).await.succeeded, 2);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE contract_id = $1",
                contract
            )
            .await,
        2
    );
}

async fn group_members_are_invited_into_each_listed_group(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let spring = admin.create_group("Spring Cohort", "Safety").await;
    let autumn = admin.create_group("Autumn Cohort", "Safety").await;
    let rows_in = payload(
        "group-members",
        &["Email", "Groups"],
        &[
            &["ann@example.com", "Spring Cohort; autumn cohort"],
            &["bob@example.com", "Spring Cohort"],
            &["cy@example.com", "Winter"],
        ],
    );
    let id = create(&admin, &options("group-members", None), &rows_in, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.failed), (2, 1));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE group_id = $1",
                spring
            )
            .await,
        2
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE group_id = $1",
                autumn
            )
            .await,
        1
    );
}

async fn people_are_added_updated_and_linked(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let headers = ["First Name", "Last Name", "Email", "Role", "Parent Emails"];
    let first = payload(
        "people",
        &headers,
        &[
            &[
                "Ann",
                "Lee",
                "ann@example.com",
                "Student",
                "pat@example.com",
            ],
            &["Pat", "Lee", "pat@example.com", "Parent", ""],
        ],
    );
    let id = create(&admin, &options("people", None), &first, KEY_A)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(
        (done.succeeded, done.failed),
        (2, 0),
        "{:?}",
        rows(&admin, id, "").await
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM associations WHERE relation = 'parent'")
            .await,
        1
    );
    // Without "auto-invite" nobody is emailed.
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM outbox WHERE kind = 'activation'")
            .await,
        0
    );
    let renamed = payload(
        "people",
        &headers,
        &[
            &[
                "Annie",
                "Lee",
                "ann@example.com",
                "Student",
                "pat@example.com",
            ],
            &["Pat", "Lee", "pat@example.com", "Parent", ""],
        ],
    );
    let id = create(&admin, &options("people", None), &renamed, KEY_B)
        .await
        .unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!((done.succeeded, done.skipped), (1, 1));
    let (first_name,): (String,) =
        sqlx::query_as("SELECT m.first_name FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email = 'ann@example.com'")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(first_name, "Annie");
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM associations").await,
        1
    );
}

/// A student with only a username has no email: with "auto-invite", the
/// activation for their account goes to their parent.
async fn a_username_only_students_activation_goes_to_the_parent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let mut opts = options("people", None);
    opts["auto_invite"] = json!(true);
    let rows_in = payload(
        "people",
        &[
            "First Name",
            "Last Name",
            "Email",
            "Username",
            "Role",
            "Parent Emails",
        ],
        &[
            &["Kit", "Lee", "", "kitlee", "Student", "pat@example.com"],
            &["Pat", "Lee", "pat@example.com", "", "Parent", ""],
        ],
    );
    let id = create(&admin, &opts, &rows_in, KEY_A).await.unwrap();
    let done = wait_finished(&admin, id).await;
    assert_eq!(
        (done.succeeded, done.failed),
        (2, 0),
        "{:?}",
        rows(&admin, id, "").await
    );
    let (email, status): (Option<String>, String) =
        sqlx::query_as("SELECT u.email, u.status FROM users u JOIN memberships m ON m.user_id = u.id WHERE m.username = 'kitlee'")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!((email, status.as_str()), (None, "provisioned"));
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM associations WHERE relation = 'parent'")
            .await,
        1
    );
    // The parent's own activation, and the one for the student's account.
    let to: Vec<(String,)> =
        sqlx::query_as("SELECT to_email FROM outbox WHERE kind = 'activation' ORDER BY id")
            .fetch_all(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        to,
        vec![
            ("pat@example.com".to_owned(),),
            ("pat@example.com".to_owned(),)
        ]
    );
    let (kit,): (i64,) =
        sqlx::query_as("SELECT user_id FROM memberships WHERE username = 'kitlee'")
            .fetch_one(&server.state.db.pool)
            .await
            .unwrap();
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens WHERE user_id = $1",
                kit
            )
            .await,
        1
    );
}

/// Resending expired contract invitations used to revive them without a
/// seat check: 4 pending invitations on a 2-seat contract. A resend now
/// counts seats like a new invitation.
async fn resending_expired_contract_invitations_respects_the_seats(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract: i64 = admin
        .call(
            "contracts/create",
            &[("name", "District 9"), ("seat_limit", "2"), ("ends_on", "")],
        )
        .await
        .unwrap();
    let mut opts = options("program-invitations", Some(group));
    opts["contract_id"] = json!(contract);
    let rows = |a: &'static str, b: &'static str| {
        payload(
            "program-invitations",
            &["Full Name", "Email", "External ID"],
            &[&["First Person", a, ""], &["Second Person", b, ""]],
        )
    };
    let first = create(
        &admin,
        &opts,
        &rows("ann@example.com", "bob@example.com"),
        KEY_A,
    )
    .await
    .unwrap();
    assert_eq!(wait_finished(&admin, first).await.succeeded, 2);
    // Both lapse, giving their seats back, and two others take them.
    sqlx::query("UPDATE invitations SET expires_at = $1 WHERE contract_id = $2")
        .bind(app::state::now() - 60)
        .bind(contract)
        .execute(server.pool())
        .await
        .unwrap();
    let second = create(
        &admin,
        &opts,
        &rows("cy@example.com", "dee@example.com"),
        KEY_B,
    )
    .await
    .unwrap();
    assert_eq!(wait_finished(&admin, second).await.succeeded, 2);

    let expired: Vec<i64> = sqlx::query_as::<_, (i64,)>(
        "SELECT id FROM invitations WHERE email IN ('ann@example.com', 'bob@example.com') ORDER BY id",
    )
    .fetch_all(server.pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(id,)| id)
    .collect();
    match admin
        .call::<()>("invitations/resend", &[("id", &expired[0].to_string())])
        .await
    {
        Err(AppError::Conflict(message)) => assert!(message.contains("no seats left"), "{message}"),
        other => panic!("expected a seats conflict, got {other:?}"),
    }
    let bulk: app::bulk::BulkOutcome = admin
        .call_with_ids("invitations/resend_selected", &expired)
        .await
        .unwrap();
    assert_eq!((bulk.done, bulk.skipped), (0, 2));
    let (holding,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM invitations WHERE contract_id = $1
         AND (status = 'active' OR (status = 'pending' AND expires_at > $2))",
    )
    .bind(contract)
    .bind(app::state::now())
    .fetch_one(server.pool())
    .await
    .unwrap();
    assert_eq!(
        holding, 2,
        "no more invitations hold seats than the contract has"
    );
}

on_both_backends! {
    resend_respects_contract_seats => resending_expired_contract_invitations_respects_the_seats;
    learners_accounts_memberships_trainings => learners_get_accounts_memberships_trainings_and_activation_emails;
    program_invitations_seats => program_invitations_respect_the_contracts_seats;
    group_members_each_group => group_members_are_invited_into_each_listed_group;
    people_added_updated_linked => people_are_added_updated_and_linked;
    username_only_student_parent_activation => a_username_only_students_activation_goes_to_the_parent;
}
