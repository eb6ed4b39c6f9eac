//! `/api/v1` with organization API tokens, on both backends, as scripts
//! would call it: tokens created, scoped, used and revoked; an import run
//! end to end from JSON rows; and the attacks — another organization's
//! token on this one's ids, a browser session without a token, a revoked
//! token, a token past its rate limit.

use std::time::Duration;

use crate::support::{eventually, Backend, Bearer, Client, TestApp};
use app::{
    api_tokens::TokenSummary,
    audit::{ActivityPage, AuditAction},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const KEY: &str = "api-import-0001-aaaa";

async fn tokens(admin: &Client) -> Vec<TokenSummary> {
    admin.call("api_tokens/list", &[]).await.unwrap()
}

async fn activity(admin: &Client) -> ActivityPage {
    admin
        .call(
            "audit/list",
            &[
                ("action", ""),
                ("actor", "0"),
                ("from", ""),
                ("to", ""),
                ("before", "0"),
            ],
        )
        .await
        .unwrap()
}

fn invites(group: i64, emails: &[&str]) -> Value {
    json!({
        "kind": "invites",
        "group_id": group,
        "send_emails": false,
        "source_name": "SIS nightly",
        "columns": ["Email Address", "First Name"],
        "rows": emails.iter().map(|email| json!([email, "Sam"])).collect::<Vec<_>>(),
    })
}

async fn finished(api: &Bearer, id: i64) -> Value {
    for _ in 0..600 {
        let answer = api.get(&format!("/imports/{id}")).await;
        assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
        if answer.body["finished"] == true {
            return answer.body;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

async fn a_token_is_shown_once_used_scoped_and_revoked(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let token = admin.api_token("SIS nightly sync", "read").await;
    assert!(
        token.starts_with("mst_") && token.len() == 4 + 64,
        "{token}"
    );
    let listed = tokens(&admin).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "SIS nightly sync");
    assert!(token.starts_with(listed[0].hint.trim_end_matches('…')));
    assert_eq!(listed[0].last_used_at, None);
    // The list never holds the secret, nor does the database.
    let listing = serde_json::to_string(&listed).unwrap();
    assert!(!listing.contains(&token[4..]));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1",
                token.as_str()
            )
            .await,
        0
    );

    let api = Bearer::new(admin.base(), &token);
    let groups = api.get("/groups").await;
    assert_eq!(groups.status, StatusCode::OK, "{groups:?}");
    assert_eq!(groups.body, json!([]));
    assert!(tokens(&admin).await[0].last_used_at.is_some());

    // Read only: writing is refused, with what to do about it.
    api.post("/groups", &json!({"name": "Spring Cohort"}))
        .await
        .assert_problem(403);
    // Names are checked as in the browser.
    assert!(matches!(
        admin
            .call::<Value>("api_tokens/create", &[("name", "  "), ("scope", "read")])
            .await,
        Err(app::error::AppError::Invalid { .. })
    ));
    assert!(admin
        .call::<Value>("api_tokens/create", &[("name", "x"), ("scope", "root")])
        .await
        .is_err());

    // A people token creates groups; the group is the browser's group.
    let people = Bearer::new(admin.base(), &admin.api_token("Directory", "people").await);
    let created = people
        .post(
            "/groups",
            &json!({"name": "Spring Cohort", "trainings": ["Safety", "First aid"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let group = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["trainings"], json!(["Safety", "First aid"]));
    assert_eq!(created.body["default_expiry_days"], 30);
    let browser_view: app::groups::GroupSummary = admin
        .call("groups/get", &[("id", &group.to_string())])
        .await
        .unwrap();
    assert_eq!(browser_view.name, "Spring Cohort");
    // The same rule as the browser: a duplicate name is refused.
    people
        .post("/groups", &json!({"name": "spring cohort"}))
        .await
        .assert_problem(409);
    people
        .post("/groups", &json!({"name": "", "bogus": 1}))
        .await
        .assert_problem(422);
    let contract = people
        .post(
            "/contracts",
            &json!({"name": "District pool", "seat_limit": 40}),
        )
        .await;
    assert_eq!(contract.status, StatusCode::CREATED, "{contract:?}");
    let contract_id = contract.body["id"].as_i64().unwrap();
    let fetched = api.get(&format!("/contracts/{contract_id}")).await;
    assert_eq!(
        (
            fetched.body["name"].as_str(),
            fetched.body["seat_limit"].as_i64()
        ),
        (Some("District pool"), Some(40))
    );
    people
        .post("/contracts", &json!({"name": "Bad", "seat_limit": -1}))
        .await
        .assert_problem(422);
    // A SCIM token reaches only /scim/v2.
    let scim = Bearer::new(admin.base(), &admin.api_token("Okta", "scim").await);
    scim.get("/groups").await.assert_problem(403);

    // Revoked: the next request is refused, and the list says when.
    let read_id = tokens(&admin)
        .await
        .into_iter()
        .find(|t| t.name == "SIS nightly sync")
        .unwrap()
        .id;
    admin
        .call::<()>("api_tokens/revoke", &[("id", &read_id.to_string())])
        .await
        .unwrap();
    let refused = api.get("/groups").await;
    refused.assert_problem(401);
    assert!(refused.body["detail"].as_str().unwrap().contains("revoked"));
    assert!(tokens(&admin)
        .await
        .iter()
        .any(|t| t.id == read_id && t.revoked_at.is_some()));
    // Revoking twice finds nothing to revoke.
    assert!(admin
        .call::<()>("api_tokens/revoke", &[("id", &read_id.to_string())])
        .await
        .is_err());

    // The activity log: created and revoked by the admin; the group created
    // through the API is the admin's act through the named token.
    let events = activity(&admin).await.events;
    let of = |action: AuditAction| events.iter().filter(move |e| e.action == action);
    assert_eq!(of(AuditAction::ApiTokenCreated).count(), 3);
    assert_eq!(of(AuditAction::ApiTokenRevoked).count(), 1);
    let group_event = of(AuditAction::GroupCreated).next().unwrap();
    assert!(
        group_event.actor_name.contains("API token “Directory”"),
        "{group_event:?}"
    );
    server.stop().await;
}

async fn an_import_runs_from_json_rows(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let api = Bearer::new(admin.base(), &admin.api_token("SIS", "imports").await);
    let mut emails: Vec<String> = (0..120)
        .map(|n| format!("learner{n}@example.org"))
        .collect();
    emails[6] = "not an email".to_owned();
    let emails: Vec<&str> = emails.iter().map(String::as_str).collect();
    let body = invites(group, &emails);

    // The dry run says what it would do and changes nothing.
    let dry = api.post("/imports/dry-run", &body).await;
    assert_eq!(dry.status, StatusCode::OK, "{dry:?}");
    assert_eq!(
        (
            dry.body["rows"].as_u64(),
            dry.body["invitations"].as_u64(),
            dry.body["errors"].as_u64()
        ),
        (Some(120), Some(119), Some(1))
    );
    assert_eq!(server.count_all("SELECT COUNT(*) FROM imports").await, 0);

    // Without an Idempotency-Key, a retry could import twice: refused.
    let keyless = api.post("/imports", &body).await;
    keyless.assert_problem(422);
    assert_eq!(keyless.body["field"], "Idempotency-Key");
    // A file without an email column: the column is named.
    let headless = api
        .post_with(
            "/imports",
            &json!({"kind": "invites", "group_id": group, "columns": ["Name"], "rows": [["Sam"]]}),
            &[("Idempotency-Key", KEY)],
        )
        .await;
    headless.assert_problem(422);
    assert!(headless.text.contains("Email"), "{headless:?}");
    // Not JSON of the documented shape: a problem, not a 500.
    api.post_with(
        "/imports",
        &json!({"kind": "bogus"}),
        &[("Idempotency-Key", KEY)],
    )
    .await
    .assert_problem(422);

    let created = api
        .post_with("/imports", &body, &[("Idempotency-Key", KEY)])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let id = created.body["id"].as_i64().unwrap();
    assert_eq!(created.body["source_name"], "SIS nightly");
    // The same key again: the same import, not a second one.
    let again = api
        .post_with("/imports", &body, &[("Idempotency-Key", KEY)])
        .await;
    assert_eq!(again.body["id"].as_i64(), Some(id), "{again:?}");

    let done = finished(&api, id).await;
    assert_eq!(done["status"], "completed_with_errors", "{done}");
    assert_eq!(
        (done["succeeded"].as_i64(), done["failed"].as_i64()),
        (Some(119), Some(1))
    );
    assert_eq!(
        server.count_all("SELECT COUNT(*) FROM invitations").await,
        119
    );

    // Every row, page by page through the cursor.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = api
            .get(&format!("/imports/{id}/rows?cursor={cursor}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        assert_eq!(page.body["total"], 120);
        for row in page.body["items"].as_array().unwrap() {
            seen.push(row["row"].as_i64().unwrap());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, (2..122).collect::<Vec<i64>>());
    let failed = api.get(&format!("/imports/{id}/rows?status=error")).await;
    assert_eq!(failed.body["total"], 1);
    assert_eq!(failed.body["items"][0]["row"], 8);
    let csv = api.get(&format!("/imports/{id}/failed.csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.content_type.starts_with("text/csv"));
    assert!(csv.text.contains("not an email"), "{}", csv.text);
    api.get("/imports/1/rows?cursor=zzz")
        .await
        .assert_problem(422);

    // The browser sees the same import.
    let listed = api.get("/imports").await;
    assert_eq!(listed.body["items"][0]["id"].as_i64(), Some(id));
    let invitations = api.get("/invitations?search=learner1").await;
    assert_eq!(invitations.status, StatusCode::OK, "{invitations:?}");
    assert!(invitations.body["total"].as_i64().unwrap() >= 1);

    // The same from a file upload, with the wizard's formats and checks.
    let csv = "Email,First Name\nup1@example.org,Uma\nup2@example.org,Ulf\n";
    let form = || {
        reqwest::multipart::Form::new()
            .text("kind", "invites")
            .text("group_id", group.to_string())
            .text("send_emails", "false")
            .part(
                "file",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("roster.csv"),
            )
    };
    let uploaded = api
        .post_multipart(
            "/imports/upload",
            form(),
            &[("Idempotency-Key", "api-upload-0001-cccc")],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::CREATED, "{uploaded:?}");
    assert_eq!(uploaded.body["source_name"], "roster.csv");
    let upload_id = uploaded.body["id"].as_i64().unwrap();
    let done = finished(&api, upload_id).await;
    assert_eq!(done["succeeded"], 2, "{done}");
    api.post_multipart("/imports/upload", form(), &[])
        .await
        .assert_problem(422);
    let empty = reqwest::multipart::Form::new().text("kind", "invites");
    api.post_multipart(
        "/imports/upload",
        empty,
        &[("Idempotency-Key", "api-upload-0002-dddd")],
    )
    .await
    .assert_problem(422);
    let not_multipart = api
        .post_with(
            "/imports/upload",
            &json!({}),
            &[("Idempotency-Key", "api-upload-0003-eeee")],
        )
        .await;
    assert!(not_multipart.status.is_client_error(), "{not_multipart:?}");
    assert_eq!(not_multipart.content_type, "application/problem+json");

    // A draft waits for confirm; confirming twice is harmless.
    let draft = api
        .post_with(
            "/imports",
            &json!({"kind": "invites", "group_id": group, "draft": true,
                    "columns": ["Email"], "rows": [["late@example.org"]]}),
            &[("Idempotency-Key", "api-import-0002-bbbb")],
        )
        .await;
    assert_eq!(draft.body["status"], "draft", "{draft:?}");
    let draft_id = draft.body["id"].as_i64().unwrap();
    let confirmed = api
        .post(&format!("/imports/{draft_id}/confirm"), &json!({}))
        .await;
    assert_eq!(confirmed.status, StatusCode::OK, "{confirmed:?}");
    assert_ne!(confirmed.body["status"], "draft");
    let twice = api
        .post(&format!("/imports/{draft_id}/confirm"), &json!({}))
        .await;
    assert_eq!(twice.status, StatusCode::OK, "{twice:?}");
    finished(&api, draft_id).await;
    server.stop().await;
}

/// Organization B's token against organization A's ids: nothing of A's is
/// read, changed or confirmed; a browser session reaches nothing without a
/// token; anonymous and bogus tokens get 401.
async fn one_organizations_token_cannot_reach_another(backend: Backend) {
    // Open sign-up: a second organization can be created.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a, a_group) = server
        .admin_with_group(
            "Riverside",
            "ada@riverside.example",
            "Riverside Cohort",
            "Safety",
        )
        .await;
    let a_api = Bearer::new(a.base(), &a.api_token("Riverside SIS", "full").await);
    let import = a_api
        .post_with(
            "/imports",
            &json!({"kind": "invites", "group_id": a_group, "draft": true, "send_emails": true,
                    "columns": ["Email"], "rows": [["max@riverside.example"]]}),
            &[("Idempotency-Key", "riverside-draft-0001")],
        )
        .await;
    let a_import = import.body["id"].as_i64().unwrap();
    let sent = a_api
        .post(
            "/invitations",
            &json!({"group_id": a_group, "emails": ["lin@riverside.example"]}),
        )
        .await;
    assert_eq!(sent.body[0]["result"], "invited", "{sent:?}");
    let a_invitation = a_api.get("/invitations").await.body["items"][0]["id"]
        .as_i64()
        .unwrap();
    eventually("A's invitation email sent", || async {
        a_api.get("/invitations").await.body["items"][0]["email_delivery"] == "sent"
    })
    .await;
    // Get one person: A's admin, as A's token sees them.
    let a_people = a_api.get("/people").await;
    let a_person = a_people.body["items"][0]["id"].as_i64().unwrap();
    let one = a_api.get(&format!("/people/{a_person}")).await;
    assert_eq!(one.status, StatusCode::OK, "{one:?}");
    assert_eq!(one.body, a_people.body["items"][0]);
    assert_eq!(one.body["role"], "admin");
    a_api.get("/people/999999").await.assert_problem(404);
    let before = (
        a_api.get("/imports").await.text,
        a_api.get("/invitations").await.text,
        a_api.get("/groups").await.text,
    );

    let (b, b_group) = server
        .admin_with_group(
            "Hillside",
            "bea@hillside.example",
            "Hillside Cohort",
            "Safety",
        )
        .await;
    let b_api = Bearer::new(b.base(), &b.api_token("Hillside SIS", "full").await);
    let a_contract = a_api
        .post(
            "/contracts",
            &json!({"name": "Riverside pool", "seat_limit": 5}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/groups/{a_group}"),
        format!("/contracts/{a_contract}"),
        format!("/imports/{a_import}"),
        format!("/imports/{a_import}/rows"),
        format!("/imports/{a_import}/failed.csv"),
        format!("/people/{a_person}"),
    ] {
        b_api.get(&path).await.assert_problem(404);
    }
    for path in [
        format!("/imports/{a_import}/confirm"),
        format!("/imports/{a_import}/cancel"),
        format!("/invitations/{a_invitation}/resend"),
        format!("/invitations/{a_invitation}/cancel"),
    ] {
        let answer = b_api.post(&path, &json!({})).await;
        assert!(answer.status.is_client_error(), "{path}: {answer:?}");
        assert_eq!(answer.content_type, "application/problem+json");
    }
    // A's group as the target of B's invitations and imports.
    let into_a = b_api
        .post(
            "/invitations",
            &json!({"group_id": a_group, "emails": ["spy@hillside.example"]}),
        )
        .await;
    assert!(into_a.status.is_client_error(), "{into_a:?}");
    let import_into_a = b_api
        .post_with(
            "/imports",
            &invites(a_group, &["spy@hillside.example"]),
            &[("Idempotency-Key", "hillside-import-0001")],
        )
        .await;
    assert!(import_into_a.status.is_client_error(), "{import_into_a:?}");
    // B's lists hold only B's.
    for path in [
        "/groups",
        "/contracts",
        "/imports",
        "/invitations",
        "/people",
    ] {
        let answer = b_api.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert!(
            !answer.text.contains("riverside"),
            "{path}: {}",
            answer.text
        );
    }
    assert!(b_api
        .get("/groups")
        .await
        .text
        .contains(&b_group.to_string()));

    // A's admin's browser session is not a token: no cookie works here,
    // from this site or any other.
    for origin in [None, Some(a.base()), Some("https://evil.example")] {
        let (status, body) = a
            .post_json_to("/api/v1/groups", &json!({"name": "Planted"}), origin)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{origin:?}: {body}");
        let (status, _) = a.get_page("/api/v1/groups").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Strangers and forged tokens.
    a_api
        .anonymous(Method::GET, "/groups")
        .await
        .assert_problem(401);
    a_api
        .anonymous(Method::POST, "/imports")
        .await
        .assert_problem(401);
    Bearer::new(
        a.base(),
        "mst_0000000000000000000000000000000000000000000000000000000000000000",
    )
    .get("/groups")
    .await
    .assert_problem(401);
    Bearer::new(a.base(), "not-even-a-token")
        .get("/groups")
        .await
        .assert_problem(401);

    let after = (
        a_api.get("/imports").await.text,
        a_api.get("/invitations").await.text,
        a_api.get("/groups").await.text,
    );
    assert_eq!(before, after);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM invitations WHERE email = $1",
                "spy@hillside.example"
            )
            .await,
        0
    );
    server.stop().await;
}

async fn each_token_has_its_own_rate_limit(backend: Backend) {
    let limits = [
        ("MUSTER_API_TOKEN_BURST", "3".to_owned()),
        ("MUSTER_API_TOKEN_REFILL_SECONDS", "3600".to_owned()),
    ];
    let Some(server) = TestApp::spawn_with(backend, false, &limits).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let busy = Bearer::new(
        admin.base(),
        &admin.api_token("Runaway script", "read").await,
    );
    for _ in 0..3 {
        assert_eq!(busy.get("/groups").await.status, StatusCode::OK);
    }
    busy.get("/groups").await.assert_problem(429);
    let calm = Bearer::new(admin.base(), &admin.api_token("Nightly", "read").await);
    assert_eq!(calm.get("/groups").await.status, StatusCode::OK);
    server.stop().await;
}

async fn the_openapi_document_describes_every_route(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let client = server.client();
    let (status, text) = client.get_page("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/api/v1/groups", "get"),
        ("/api/v1/groups", "post"),
        ("/api/v1/groups/{id}", "get"),
        ("/api/v1/contracts", "get"),
        ("/api/v1/contracts", "post"),
        ("/api/v1/contracts/{id}", "get"),
        ("/api/v1/imports/upload", "post"),
        ("/api/v1/imports", "get"),
        ("/api/v1/imports", "post"),
        ("/api/v1/imports/dry-run", "post"),
        ("/api/v1/imports/{id}", "get"),
        ("/api/v1/imports/{id}/rows", "get"),
        ("/api/v1/imports/{id}/failed.csv", "get"),
        ("/api/v1/imports/{id}/confirm", "post"),
        ("/api/v1/imports/{id}/cancel", "post"),
        ("/api/v1/invitations", "get"),
        ("/api/v1/invitations", "post"),
        ("/api/v1/invitations/{id}/resend", "post"),
        ("/api/v1/invitations/{id}/cancel", "post"),
        ("/api/v1/people", "get"),
        ("/api/v1/people/{id}", "get"),
        ("/api/v1/people/{id}/activation", "post"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let (status, page) = client.get_page("/api/v1/docs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("POST /api/v1/imports/{id}/confirm"), "{page}");
    let (status, _) = client.get_page("/api/v1/no-such-thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

on_both_backends! {
    tokens_lifecycle => a_token_is_shown_once_used_scoped_and_revoked;
    import_from_json_rows => an_import_runs_from_json_rows;
    cross_tenant => one_organizations_token_cannot_reach_another;
    rate_limit_per_token => each_token_has_its_own_rate_limit;
    openapi_document => the_openapi_document_describes_every_route;
}
