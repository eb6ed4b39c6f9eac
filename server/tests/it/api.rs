//! The public HTTP surface of the foundation, on SQLite and PostgreSQL.

use crate::support::{Backend, Client, TestApp};
use app::{
    auth::{Bootstrap, Role},
    contracts::Contract,
    error::AppError,
    groups::GroupSummary,
    people::PeoplePage,
};

async fn bootstrap(client: &Client) -> Bootstrap {
    client.call("bootstrap", &[]).await.unwrap()
}

async fn first_run_creates_the_organization_and_its_admin_can_log_out_and_back_in(
    backend: Backend,
) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    let before = bootstrap(&browser).await;
    assert!(!before.has_organization);
    assert!(before.user.is_none());

    browser
        .create_org("Northside Academy", "Ada@Example.org")
        .await
        .unwrap();
    let after = bootstrap(&browser).await;
    assert!(after.has_organization);
    let user = after.user.expect("the creator is signed in");
    assert_eq!(user.role, Role::Admin);
    assert_eq!(
        user.email, "ada@example.org",
        "emails are stored normalized"
    );
    assert_eq!(user.organization_name, "Northside Academy");

    browser.call::<()>("logout", &[]).await.unwrap();
    assert!(bootstrap(&browser).await.user.is_none());

    let wrong = browser
        .call::<()>(
            "login",
            &[
                ("email", "ada@example.org"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(wrong, Err(AppError::BadCredentials));
    let unknown = browser
        .call::<()>(
            "login",
            &[
                ("email", "nobody@example.org"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(
        unknown,
        Err(AppError::BadCredentials),
        "unknown emails get the same answer"
    );

    browser
        .call::<()>(
            "login",
            &[
                ("email", "ADA@example.org "),
                ("password", "correct horse battery"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        bootstrap(&browser).await.user.unwrap().user_id,
        user.user_id
    );
}

async fn a_second_organization_needs_open_signup(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    server
        .client()
        .create_org("First", "first@example.org")
        .await
        .unwrap();
    let second = server
        .client()
        .create_org("Second", "second@example.org")
        .await;
    assert_eq!(second, Err(AppError::Forbidden));
}

async fn setup_rejects_bad_input_with_the_field_named(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    let result = browser
        .call::<()>(
            "create_organization",
            &[
                ("organization_name", "Org"),
                ("first_name", "Ada"),
                ("last_name", "Admin"),
                ("email", "not-an-email"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert!(
        matches!(result, Err(AppError::Invalid { ref field, .. }) if field == "Email"),
        "{result:?}"
    );
    let short = browser
        .call::<()>(
            "create_organization",
            &[
                ("organization_name", "Org"),
                ("first_name", "Ada"),
                ("last_name", "Admin"),
                ("email", "ada@example.org"),
                ("password", "short"),
            ],
        )
        .await;
    assert!(
        matches!(short, Err(AppError::Invalid { ref field, .. }) if field == "Password"),
        "{short:?}"
    );
    assert!(
        !bootstrap(&browser).await.has_organization,
        "nothing half-written"
    );
}

async fn admin_functions_require_a_session(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let stranger = server.client();
    let groups = stranger.call::<Vec<GroupSummary>>("groups/list", &[]).await;
    assert_eq!(groups, Err(AppError::NotAuthenticated));
    let (status, _) = stranger.raw("groups/list", &[], Some(&server.base)).await;
    assert_eq!(status.as_u16(), 401);
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    browser.create_org("Org", "ada@example.org").await.unwrap();
    let (status, _) = browser
        .raw(
            "groups/create",
            &[
                ("name", "Evil"),
                ("description", ""),
                ("default_expiry_days", "30"),
                ("trainings", ""),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(status.as_u16(), 403);
    let (status, _) = browser
        .raw(
            "groups/create",
            &[
                ("name", "NoOrigin"),
                ("description", ""),
                ("default_expiry_days", "30"),
                ("trainings", ""),
            ],
            None,
        )
        .await;
    assert_eq!(
        status.as_u16(),
        403,
        "a POST with neither Origin nor Referer is refused"
    );
    let groups: Vec<GroupSummary> = browser.call("groups/list", &[]).await.unwrap();
    assert!(groups.is_empty());
}

async fn logins_are_rate_limited_per_email(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    browser.create_org("Org", "ada@example.org").await.unwrap();
    for _ in 0..10 {
        let result = browser
            .call::<()>(
                "login",
                &[("email", "ada@example.org"), ("password", "wrong guess!!")],
            )
            .await;
        assert_eq!(result, Err(AppError::BadCredentials));
    }
    let locked = browser
        .call::<()>(
            "login",
            &[
                ("email", "ada@example.org"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert!(
        matches!(locked, Err(AppError::RateLimited { .. })),
        "{locked:?}"
    );
}

fn group_form<'a>(name: &'a str, expiry: &'a str, trainings: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("description", "Spring intake"),
        ("default_expiry_days", expiry),
        ("trainings", trainings),
    ]
}

async fn groups_are_created_listed_and_edited(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin.create_org("Org", "ada@example.org").await.unwrap();
    let id: i64 = admin
        .call(
            "groups/create",
            &group_form("Cohort A", "14", "Safety\nOnboarding\n"),
        )
        .await
        .unwrap();
    let duplicate = admin
        .call::<i64>("groups/create", &group_form("cohort a", "14", ""))
        .await;
    assert!(
        matches!(duplicate, Err(AppError::Conflict(_))),
        "{duplicate:?}"
    );
    let bad = admin
        .call::<i64>("groups/create", &group_form("Cohort B", "400", ""))
        .await;
    assert!(matches!(bad, Err(AppError::Invalid { .. })), "{bad:?}");

    let groups: Vec<GroupSummary> = admin.call("groups/list", &[]).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].trainings, vec!["Safety", "Onboarding"]);
    assert_eq!(groups[0].default_expiry_days, 14);

    let id_text = id.to_string();
    let mut form = group_form("Cohort A1", "60", "Onboarding\nSafety\nFirst aid");
    form.push(("id", &id_text));
    admin.call::<()>("groups/update", &form).await.unwrap();
    let group: GroupSummary = admin.call("groups/get", &[("id", &id_text)]).await.unwrap();
    assert_eq!(group.name, "Cohort A1");
    assert_eq!(group.default_expiry_days, 60);
    assert_eq!(group.trainings, vec!["Onboarding", "Safety", "First aid"]);
}

async fn contracts_are_created_and_listed(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin.create_org("Org", "ada@example.org").await.unwrap();
    admin
        .call::<i64>(
            "contracts/create",
            &[
                ("name", "District 2027"),
                ("seat_limit", "500"),
                ("ends_on", "2027-06-30"),
            ],
        )
        .await
        .unwrap();
    admin
        .call::<i64>(
            "contracts/create",
            &[("name", "Open pool"), ("seat_limit", "20"), ("ends_on", "")],
        )
        .await
        .unwrap();
    let bad = admin
        .call::<i64>(
            "contracts/create",
            &[("name", "Bad"), ("seat_limit", "0"), ("ends_on", "")],
        )
        .await;
    assert!(
        matches!(bad, Err(AppError::Invalid { ref field, .. }) if field == "Seat limit"),
        "{bad:?}"
    );
    let contracts: Vec<Contract> = admin.call("contracts/list", &[]).await.unwrap();
    let summary: Vec<(&str, i64, Option<&str>)> = contracts
        .iter()
        .map(|c| (c.name.as_str(), c.seat_limit, c.ends_on.as_deref()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("District 2027", 500, Some("2027-06-30")),
            ("Open pool", 20, None)
        ]
    );
}

async fn people_are_searched_and_paged_on_the_server(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.client();
    admin.create_org("Org", "ada@example.org").await.unwrap();
    let all: PeoplePage = admin
        .call("people/list", &[("search", ""), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(all.total, 1);
    assert_eq!(all.people[0].email.as_deref(), Some("ada@example.org"));
    let by_name: PeoplePage = admin
        .call("people/list", &[("search", "ADMIN"), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(by_name.total, 1);
    let wildcard: PeoplePage = admin
        .call("people/list", &[("search", "%"), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(wildcard.total, 0, "% is matched literally");
    let past_the_end: PeoplePage = admin
        .call("people/list", &[("search", ""), ("page", "5")])
        .await
        .unwrap();
    assert!(past_the_end.people.is_empty());
}

/// An admin of organization B cannot list, read or change organization A's
/// groups, contracts or people through any server function.
async fn organizations_cannot_see_or_change_each_others_data(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let admin_a = server.client();
    admin_a.create_org("Org A", "a@example.org").await.unwrap();
    let group_a: i64 = admin_a
        .call(
            "groups/create",
            &group_form("A's group", "30", "A training"),
        )
        .await
        .unwrap();
    admin_a
        .call::<i64>(
            "contracts/create",
            &[
                ("name", "A's contract"),
                ("seat_limit", "5"),
                ("ends_on", ""),
            ],
        )
        .await
        .unwrap();

    let admin_b = server.client();
    admin_b.create_org("Org B", "b@example.org").await.unwrap();
    let groups_b: Vec<GroupSummary> = admin_b.call("groups/list", &[]).await.unwrap();
    assert!(groups_b.is_empty(), "B sees A's groups: {groups_b:?}");
    let contracts_b: Vec<Contract> = admin_b.call("contracts/list", &[]).await.unwrap();
    assert!(
        contracts_b.is_empty(),
        "B sees A's contracts: {contracts_b:?}"
    );
    let people_b: PeoplePage = admin_b
        .call("people/list", &[("search", ""), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(
        people_b
            .people
            .iter()
            .map(|p| p.email.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        vec!["b@example.org"]
    );
    let a_search: PeoplePage = admin_b
        .call("people/list", &[("search", "a@example.org"), ("page", "1")])
        .await
        .unwrap();
    assert_eq!(a_search.total, 0);

    let id_text = group_a.to_string();
    let read = admin_b
        .call::<GroupSummary>("groups/get", &[("id", &id_text)])
        .await;
    assert_eq!(read, Err(AppError::NotFound));
    let mut form = group_form("Taken over", "30", "");
    form.push(("id", &id_text));
    let change = admin_b.call::<()>("groups/update", &form).await;
    assert_eq!(change, Err(AppError::NotFound));
    // B may reuse A's group name: names are unique per organization only.
    admin_b
        .call::<i64>("groups/create", &group_form("A's group", "30", ""))
        .await
        .unwrap();

    let still: GroupSummary = admin_a
        .call("groups/get", &[("id", &id_text)])
        .await
        .unwrap();
    assert_eq!(still.name, "A's group");
    assert_eq!(still.trainings, vec!["A training"]);
}

async fn pages_render_on_the_server(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let browser = server.client();
    let (status, html) = browser.get_page("/").await;
    assert_eq!(status.as_u16(), 200);
    assert!(html.contains("Create your organization"), "{html}");
    let (status, _) = browser.get_page("/no-such-page").await;
    assert_eq!(status.as_u16(), 404);
}

on_both_backends! {
    first_run => first_run_creates_the_organization_and_its_admin_can_log_out_and_back_in;
    second_org => a_second_organization_needs_open_signup;
    setup_validation => setup_rejects_bad_input_with_the_field_named;
    auth_required => admin_functions_require_a_session;
    csrf => cross_site_posts_are_refused;
    login_rate_limit => logins_are_rate_limited_per_email;
    groups => groups_are_created_listed_and_edited;
    contracts => contracts_are_created_and_listed;
    people => people_are_searched_and_paged_on_the_server;
    tenant_isolation => organizations_cannot_see_or_change_each_others_data;
    ssr_pages => pages_render_on_the_server;
}
