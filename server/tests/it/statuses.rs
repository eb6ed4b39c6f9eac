//! Server functions answer with the status of what went wrong: the caller's
//! mistakes are 4xx, and only the server's own faults are 500.

use app::{error::AppError, groups::GroupSummary};

use crate::support::{Backend, Client, TestApp, ADMIN_PASSWORD};

fn group_form<'a>(name: &'a str, days: &'a str) -> [(&'a str, &'a str); 4] {
    [
        ("name", name),
        ("description", ""),
        ("default_expiry_days", days),
        ("trainings", ""),
    ]
}

/// The status and the decoded error of a call that must fail.
async fn refused(
    client: &Client,
    base: &str,
    function: &str,
    form: &[(&str, &str)],
) -> (u16, AppError) {
    let (status, body) = client.raw(function, form, Some(base)).await;
    let error: AppError = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{function}: {status} {body:?}: {e}"));
    (status.as_u16(), error)
}

async fn server_functions_answer_with_the_errors_status(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let base = server.base.clone();
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "")
        .await;

    // Invalid input: the field is named and the answer is 422.
    let (status, error) = refused(&admin, &base, "groups/create", &group_form("", "30")).await;
    assert!(matches!(error, AppError::Invalid { .. }), "{error:?}");
    assert_eq!(status, 422);
    let (status, error) = refused(
        &admin,
        &base,
        "groups/create",
        &group_form("Cohort", "many"),
    )
    .await;
    assert!(matches!(error, AppError::Invalid { .. }), "{error:?}");
    assert_eq!(status, 422);

    // Arguments that do not even parse: 400.
    let (status, error) = refused(&admin, &base, "groups/get", &[("id", "not-a-number")]).await;
    assert!(matches!(error, AppError::Transport(_)), "{error:?}");
    assert_eq!(status, 400);

    // A missing id: 404.
    let (status, error) = refused(&admin, &base, "groups/get", &[("id", "987654")]).await;
    assert_eq!((status, error), (404, AppError::NotFound));
    let (status, error) = refused(&admin, &base, "imports/get", &[("id", "987654")]).await;
    assert_eq!((status, error), (404, AppError::NotFound));

    // A conflict: 409.
    let (status, error) = refused(
        &admin,
        &base,
        "groups/create",
        &group_form("Spring Cohort", "30"),
    )
    .await;
    assert!(matches!(error, AppError::Conflict(_)), "{error:?}");
    assert_eq!(status, 409);

    // Signed out: 401; signed in without the role: 403.
    let stranger = server.client();
    let (status, error) = refused(&stranger, &base, "groups/list", &[]).await;
    assert_eq!((status, error), (401, AppError::NotAuthenticated));
    let learner = learner_of(&server, &admin, group).await;
    let (status, error) = refused(&learner, &base, "groups/list", &[]).await;
    assert_eq!((status, error), (403, AppError::Forbidden));
    let (status, error) = refused(&learner, &base, "imports/get", &[("id", "1")]).await;
    assert_eq!((status, error), (403, AppError::Forbidden));

    // A success is still a success, and the refusals wrote nothing.
    let groups: Vec<GroupSummary> = admin.call("groups/list", &[]).await.unwrap();
    assert_eq!(groups.len(), 1);

    // A form posted without JavaScript is still sent back to its page, with the
    // error in the address: a 4xx there would leave the browser on a blank answer.
    let referer = format!("{base}/admin/groups");
    let (status, headers, _) = admin
        .post_form(
            "/api/groups/create",
            &group_form("", "30"),
            &[
                ("Origin", base.as_str()),
                ("Referer", referer.as_str()),
                ("Accept", "text/html"),
            ],
        )
        .await;
    assert_eq!(status.as_u16(), 302);
    let location = headers["location"].to_str().unwrap();
    assert!(location.starts_with(&referer), "{location}");
}

/// A learner who accepted an invitation into `group`, signed in.
async fn learner_of(server: &TestApp, admin: &Client, group: i64) -> Client {
    let _: serde_json::Value = admin
        .call(
            "invitations/send",
            &[
                ("group_id", &group.to_string()),
                ("emails", "lin@example.org"),
            ],
        )
        .await
        .unwrap();
    let token = server
        .emailed_token("lin@example.org", "invitation%", "/invite/")
        .await;
    let learner = server.client();
    let (status, location) = learner
        .post_from_emailed_page(
            &format!("/invite/{token}/respond"),
            &[
                ("intent", "register"),
                ("first_name", "Lin"),
                ("last_name", "Learner"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303, "{location}");
    learner
}

on_both_backends! {
    statuses => server_functions_answer_with_the_errors_status;
}
