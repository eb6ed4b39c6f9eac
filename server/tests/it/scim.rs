//! `/scim/v2` as an identity provider calls it, on both backends: discovery,
//! people created, found, replaced, patched, deactivated and removed;
//! groups and their members; and the attacks — tokens of other scopes, no
//! token, and another organization's token on this one's people and groups.

use crate::support::{Backend, Client, TestApp, ADMIN_PASSWORD};
use app::audit::{ActivityPage, AuditAction};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// An identity provider with one token.
struct Idp {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    content_type: String,
    location: Option<String>,
    body: Value,
}

impl Answer {
    fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type, "application/scim+json", "{self:?}");
        &self.body
    }

    /// A refusal in SCIM's error format, naming its own status.
    fn refused(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.content_type, "application/scim+json", "{self:?}");
        assert_eq!(self.body["schemas"], json!([ERROR]), "{self:?}");
        assert_eq!(self.body["status"], status.to_string(), "{self:?}");
        assert!(self.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
        self
    }

    fn scim_type(&self, scim_type: &str) {
        assert_eq!(self.body["scimType"], scim_type, "{self:?}");
    }
}

impl Idp {
    fn new(base: &str, token: Option<&str>) -> Idp {
        Idp {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_owned(),
            token: token.map(str::to_owned),
        }
    }

    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = self
            .http
            .request(method, format!("{}/scim/v2{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.unwrap();
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (status, content_type, location) = (
            response.status(),
            header(reqwest::header::CONTENT_TYPE).unwrap_or_default(),
            header(reqwest::header::LOCATION),
        );
        let text = response.text().await.unwrap();
        Answer {
            status,
            content_type,
            location,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(body)).await
    }
    async fn patch(&self, path: &str, operations: Value) -> Answer {
        self.send(
            Method::PATCH,
            path,
            Some(json!({"schemas": [PATCH], "Operations": operations})),
        )
        .await
    }
    async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Creates a user; their id.
    async fn create_user(
        &self,
        email: &str,
        given: &str,
        family: &str,
        external_id: &str,
    ) -> String {
        let created = self
            .post(
                "/Users",
                json!({"schemas": [USER], "userName": email, "externalId": external_id,
                       "name": {"givenName": given, "familyName": family},
                       "emails": [{"value": email, "type": "work", "primary": true}],
                       "active": true}),
            )
            .await;
        created.ok(201)["id"].as_str().unwrap().to_owned()
    }
}

async fn scim_admin(server: &TestApp, organization: &str, email: &str) -> (Client, Idp) {
    let admin = server.admin(organization, email).await;
    let token = admin.api_token("Okta", "scim").await;
    let idp = Idp::new(admin.base(), Some(&token));
    (admin, idp)
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

async fn discovery_describes_what_is_supported(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (_, idp) = scim_admin(&server, "Riverside", "ada@example.org").await;
    let config = idp.get("/ServiceProviderConfig").await;
    let config = config.ok(200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["filter"]["supported"], true);
    assert_eq!(config["filter"]["maxResults"], 1000);
    for unsupported in ["bulk", "sort", "etag", "changePassword"] {
        assert_eq!(config[unsupported]["supported"], false, "{unsupported}");
    }
    assert_eq!(
        config["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );

    let types = idp.get("/ResourceTypes").await;
    let types = types.ok(200);
    assert_eq!(types["totalResults"], 2);
    let endpoints: Vec<&str> = types["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(endpoints, ["/Users", "/Groups"]);
    assert_eq!(idp.get("/ResourceTypes/User").await.ok(200)["schema"], USER);

    let schemas = idp.get("/Schemas").await;
    let schemas = schemas.ok(200);
    let user = &schemas["Resources"][0];
    assert_eq!(user["id"], USER);
    let names: Vec<&str> = user["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["userName", "name", "emails", "active"]);
    assert_eq!(
        idp.get(&format!("/Schemas/{GROUP}")).await.ok(200)["id"],
        GROUP
    );

    idp.get("/Nothing/here").await.refused(404);
    idp.post("/ServiceProviderConfig", json!({}))
        .await
        .refused(405);
    idp.get("/Schemas/urn:nothing").await.refused(404);
    server.stop().await;
}

async fn users_are_created_found_changed_and_removed(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, idp) = scim_admin(&server, "Riverside", "ada@example.org").await;
    let created = idp
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "Sam.Lee@Example.org", "externalId": "00u1",
                   "name": {"givenName": "Sam", "familyName": "Lee"},
                   "emails": [{"value": "Sam.Lee@Example.org", "type": "work", "primary": true}]}),
        )
        .await;
    let user = created.ok(201).clone();
    let id = user["id"].as_str().unwrap().to_owned();
    assert_eq!(user["userName"], "sam.lee@example.org");
    assert_eq!(user["externalId"], "00u1");
    assert_eq!(user["active"], true);
    assert_eq!(user["name"]["familyName"], "Lee");
    assert_eq!(user["emails"][0]["primary"], true);
    let location = created.location.clone().unwrap();
    assert!(
        location.ends_with(&format!("/scim/v2/Users/{id}")),
        "{location}"
    );
    assert_eq!(user["meta"]["location"], location.as_str());
    // Provisioned as a Learners import does: no password, an activation email.
    let (status, hash): (String, Option<String>) =
        sqlx::query_as("SELECT status, password_hash FROM users WHERE email = $1")
            .bind("sam.lee@example.org")
            .fetch_one(server.pool())
            .await
            .unwrap();
    assert_eq!((status.as_str(), hash), ("provisioned", None));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind LIKE 'activation%'",
                "sam.lee@example.org"
            )
            .await,
        1
    );

    // userName is unique in the organization, whatever its case.
    idp.post(
        "/Users",
        json!({"schemas": [USER], "userName": "SAM.LEE@example.org"}),
    )
    .await
    .refused(409)
    .scim_type("uniqueness");
    idp.post(
        "/Users",
        json!({"schemas": [USER], "userName": "sam2", "emails": [{"value": "not an address"}]}),
    )
    .await
    .refused(400)
    .scim_type("invalidValue");
    idp.post("/Users", json!({"schemas": [USER]}))
        .await
        .refused(400)
        .scim_type("invalidValue");

    assert_eq!(
        idp.get(&format!("/Users/{id}")).await.ok(200)["userName"],
        "sam.lee@example.org"
    );
    let found = idp
        .get("/Users?filter=userName%20eq%20%22SAM.lee%40EXAMPLE.org%22")
        .await;
    assert_eq!(found.ok(200)["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    let found = idp.get("/Users?filter=externalId%20eq%20%2200u1%22").await;
    assert_eq!(found.ok(200)["Resources"][0]["id"], id.as_str());
    let none = idp
        .get("/Users?filter=externalId%20eq%20%22nobody%22")
        .await;
    assert_eq!(none.ok(200)["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));
    idp.get("/Users?filter=userName%20co%20%22sam%22")
        .await
        .refused(400)
        .scim_type("invalidFilter");

    // Pages: the admin and Sam, one at a time.
    let page = idp.get("/Users?startIndex=2&count=1").await;
    let page = page.ok(200);
    assert_eq!(
        (page["totalResults"].as_i64(), page["startIndex"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(page["itemsPerPage"], 1);
    assert_eq!(page["Resources"][0]["id"], id.as_str());
    let only = idp.get(&format!("/Users/{id}?attributes=userName")).await;
    assert!(only.ok(200).get("name").is_none() && only.body["userName"].is_string());

    // PUT replaces the organization's record.
    let replaced = idp
        .put(
            &format!("/Users/{id}"),
            json!({"schemas": [USER], "userName": "sam.lee@example.org", "externalId": "00u1-b",
                   "name": {"givenName": "Samuel", "familyName": "Lee"}, "active": true}),
        )
        .await;
    assert_eq!(replaced.ok(200)["name"]["givenName"], "Samuel");
    assert_eq!(replaced.body["externalId"], "00u1-b");
    // The login address of someone who has used their account is theirs.
    let admin_id = idp
        .get("/Users?filter=userName%20eq%20%22ada%40example.org%22")
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    idp.put(
        &format!("/Users/{admin_id}"),
        json!({"schemas": [USER], "userName": "someone.else@example.org", "active": true}),
    )
    .await
    .refused(400)
    .scim_type("invalidValue");

    // PATCH with paths, without, and as Entra ID sends it.
    let patched = idp
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "name.familyName", "value": "Li"},
                   {"op": "add", "value": {"name": {"givenName": "Sammy"}}},
                   {"op": "remove", "path": "externalId"}]),
        )
        .await;
    let patched = patched.ok(200);
    assert_eq!(patched["name"]["givenName"], "Sammy");
    assert_eq!(patched["name"]["familyName"], "Li");
    assert!(patched.get("externalId").is_none(), "{patched}");
    let deactivated = idp
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(deactivated.ok(200)["active"], false);
    let reactivated = idp
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"active": true}}]),
        )
        .await;
    assert_eq!(reactivated.ok(200)["active"], true);
    idp.patch(
        &format!("/Users/{id}"),
        json!([{"op": "move", "path": "active"}]),
    )
    .await
    .refused(400);

    // Every change is in the audit log, as the token's admin.
    let events = activity(&admin).await.events;
    let actions: Vec<AuditAction> = events.iter().map(|e| e.action).collect();
    for action in [
        AuditAction::PersonProvisioned,
        AuditAction::PersonChanged,
        AuditAction::PersonDeactivated,
        AuditAction::PersonReactivated,
    ] {
        assert!(actions.contains(&action), "{action:?} in {actions:?}");
    }
    assert!(events
        .iter()
        .filter(|e| e.action == AuditAction::PersonProvisioned)
        .all(|e| e.actor_name.contains("(API token “Okta”)")));

    // DELETE takes the person out of the organization; the account stays.
    assert_eq!(
        idp.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    idp.get(&format!("/Users/{id}")).await.refused(404);
    idp.delete(&format!("/Users/{id}")).await.refused(404);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "sam.lee@example.org"
            )
            .await,
        1
    );
    assert!(activity(&admin)
        .await
        .events
        .iter()
        .any(|e| e.action == AuditAction::PersonRemoved));
    // Provisioned again, they are a member again.
    let again = idp
        .create_user("sam.lee@example.org", "Sam", "Lee", "00u1")
        .await;
    assert_eq!(again, id);
    // The token's own admin cannot be deactivated or removed through it.
    idp.patch(
        &format!("/Users/{admin_id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .refused(400);
    idp.delete(&format!("/Users/{admin_id}")).await.refused(400);
    server.stop().await;
}

async fn signed_in(client: &Client) -> bool {
    let bootstrap: app::auth::Bootstrap = client.call("bootstrap", &[]).await.unwrap();
    bootstrap.user.is_some()
}

async fn a_deactivated_person_cannot_sign_in_to_that_organization(backend: Backend) {
    // Open sign-up: a second organization can be created.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (_, idp) = scim_admin(&server, "Riverside", "ada@example.org").await;
    let id = idp.create_user("lin@example.org", "Lin", "Ma", "e-9").await;
    let token = server
        .emailed_token("lin@example.org", "activation%", "/activate/")
        .await;
    let learner = server.client();
    let (status, _) = learner
        .post_from_emailed_page(
            &format!("/activate/{token}/respond"),
            &[
                ("password", ADMIN_PASSWORD),
                ("password_confirmation", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 303);
    learner.log_in("lin@example.org").await;
    assert!(signed_in(&learner).await);

    // Another organization's record of the same person (pending: the
    // account is theirs now) is not touched by Riverside's deactivation.
    let (_, hillside) = scim_admin(&server, "Hillside", "bea@example.org").await;
    let elsewhere = hillside
        .create_user("lin@example.org", "Lin", "Ma", "h-1")
        .await;

    idp.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .ok(200);
    // Their session in the organization ends, and they cannot sign in again.
    assert!(!signed_in(&learner).await);
    let again = server.client();
    let (status, _) = again
        .raw(
            "login",
            &[("email", "lin@example.org"), ("password", ADMIN_PASSWORD)],
            Some(again.base()),
        )
        .await;
    assert!(status.is_client_error(), "{status}");
    // The account and the other organization are as they were.
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM users WHERE email = $1 AND status = 'active' AND password_hash IS NOT NULL", "lin@example.org")
            .await,
        1
    );
    assert_eq!(
        hillside.get(&format!("/Users/{elsewhere}")).await.ok(200)["active"],
        true
    );

    idp.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await
    .ok(200);
    let back = server.client();
    back.log_in("lin@example.org").await;
    assert!(signed_in(&back).await);
    server.stop().await;
}

async fn groups_and_their_members(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, idp) = scim_admin(&server, "Riverside", "ada@example.org").await;
    let sam = idp.create_user("sam@example.org", "Sam", "Lee", "1").await;
    let lin = idp.create_user("lin@example.org", "Lin", "Ma", "2").await;
    let created = idp
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Spring Cohort", "members": [{"value": sam}]}),
        )
        .await;
    let group = created.ok(201).clone();
    let id = group["id"].as_str().unwrap().to_owned();
    assert_eq!(group["members"][0]["value"], sam.as_str());
    assert_eq!(group["members"][0]["type"], "User");
    assert!(created
        .location
        .unwrap()
        .ends_with(&format!("/scim/v2/Groups/{id}")));
    // It is the browser's group.
    let browser: app::groups::GroupSummary =
        admin.call("groups/get", &[("id", &id)]).await.unwrap();
    assert_eq!(browser.name, "Spring Cohort");
    idp.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "spring cohort"}),
    )
    .await
    .refused(409);

    let found = idp
        .get("/Groups?filter=displayName%20eq%20%22SPRING%20cohort%22")
        .await;
    assert_eq!(found.ok(200)["totalResults"], 1);
    assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    let lean = idp.get("/Groups?excludedAttributes=members").await;
    assert!(lean.ok(200)["Resources"][0].get("members").is_none());

    let patched = idp
        .patch(
            &format!("/Groups/{id}"),
            json!([{"op": "add", "path": "members", "value": [{"value": lin}]},
                   {"op": "remove", "path": format!("members[value eq \"{sam}\"]")}]),
        )
        .await;
    let members: Vec<&str> = patched.ok(200)["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    assert_eq!(members, [lin.as_str()]);
    // Trainings come with the group, as with an import.
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM group_memberships WHERE user_id = $1 AND status = 'active'",
                lin.parse::<i64>().unwrap()
            )
            .await,
        1
    );
    let replaced = idp
        .put(
            &format!("/Groups/{id}"),
            json!({"schemas": [GROUP], "displayName": "Spring Cohort 2027",
                   "members": [{"value": sam}, {"value": lin}]}),
        )
        .await;
    assert_eq!(replaced.ok(200)["displayName"], "Spring Cohort 2027");
    assert_eq!(replaced.body["members"].as_array().unwrap().len(), 2);
    idp.patch(
        &format!("/Groups/{id}"),
        json!([{"op": "remove", "path": "members"}]),
    )
    .await
    .ok(200);
    assert_eq!(
        idp.get(&format!("/Groups/{id}")).await.ok(200)["members"],
        json!([])
    );
    assert!(activity(&admin).await.events.iter().any(|e| e.action
        == AuditAction::GroupMembersChanged
        && e.actor_name.contains("API token")));
    // Groups are not deleted: what refers to them would dangle.
    idp.delete(&format!("/Groups/{id}")).await.refused(405);
    idp.get(&format!("/Groups/{id}")).await.ok(200);
    server.stop().await;
}

async fn other_scopes_and_no_token_are_refused(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    for scope in ["read", "people", "full"] {
        let idp = Idp::new(admin.base(), Some(&admin.api_token(scope, scope).await));
        idp.get("/Users").await.refused(403);
        idp.post(
            "/Users",
            json!({"schemas": [USER], "userName": "x@example.org"}),
        )
        .await
        .refused(403);
        idp.get("/ServiceProviderConfig").await.refused(403);
    }
    let stranger = Idp::new(admin.base(), None);
    stranger.get("/Users").await.refused(401);
    stranger.get("/ServiceProviderConfig").await.refused(401);
    Idp::new(admin.base(), Some("mst_0000"))
        .get("/Users")
        .await
        .refused(401);
    // A scim token does not reach /api/v1, nor a browser session /scim/v2.
    let scim = admin.api_token("Okta", "scim").await;
    let api = crate::support::Bearer::new(admin.base(), &scim);
    api.get("/people").await.assert_problem(403);
    let (status, _) = admin.get_page("/scim/v2/Users").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "x@example.org"
            )
            .await,
        0
    );
    server.stop().await;
}

async fn one_organizations_token_cannot_reach_anothers_people_or_groups(backend: Backend) {
    // Open sign-up: a second organization can be created.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (a_admin, a) = scim_admin(&server, "Riverside", "ada@riverside.example").await;
    let a_person = a
        .create_user("sam@riverside.example", "Sam", "Lee", "r-1")
        .await;
    let a_group = a
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Riverside Cohort",
                                "members": [{"value": a_person}]}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_admin_id: i64 = a
        .get("/Users?filter=userName%20eq%20%22ada%40riverside.example%22")
        .await
        .body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let before = (
        a.get(&format!("/Users/{a_person}")).await.body,
        a.get(&format!("/Groups/{a_group}")).await.body,
        activity(&a_admin).await.events.len(),
    );

    let (_, b) = scim_admin(&server, "Hillside", "bea@hillside.example").await;
    let b_person = b
        .create_user("lin@hillside.example", "Lin", "Ma", "h-1")
        .await;
    let b_group = b
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Hillside Cohort"}),
        )
        .await
        .ok(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // B cannot see A's people or groups, by id or by filter.
    let b_users = b.get("/Users").await;
    let listed = b_users.ok(200)["Resources"].to_string();
    assert!(!listed.contains("riverside"), "{listed}");
    for path in [
        format!("/Users/{a_person}"),
        format!("/Users/{a_admin_id}"),
        format!("/Groups/{a_group}"),
    ] {
        b.get(&path).await.refused(404);
        b.put(
            &path,
            json!({"schemas": [USER, GROUP], "userName": "sam@riverside.example",
                            "displayName": "Taken"}),
        )
        .await
        .refused(404);
        b.patch(
            &path,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await
        .refused(404);
        b.delete(&path).await.refused(404);
    }
    assert_eq!(
        b.get("/Users?filter=userName%20eq%20%22sam%40riverside.example%22")
            .await
            .ok(200)["totalResults"],
        0
    );
    assert_eq!(
        b.get("/Users?filter=externalId%20eq%20%22r-1%22")
            .await
            .ok(200)["totalResults"],
        0
    );
    assert_eq!(
        b.get("/Groups?filter=displayName%20eq%20%22Riverside%20Cohort%22")
            .await
            .ok(200)["totalResults"],
        0
    );
    // B cannot put A's people into B's group, nor its own into A's.
    b.patch(
        &format!("/Groups/{b_group}"),
        json!([{"op": "add", "path": "members", "value": [{"value": b_person}, {"value": a_person}]}]),
    )
    .await
    .refused(400);
    b.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Sneaky",
                             "members": [{"value": a_person}]}),
    )
    .await
    .refused(400);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM learning_groups WHERE name = $1",
                "Sneaky"
            )
            .await,
        0
    );
    assert_eq!(
        b.get(&format!("/Groups/{b_group}")).await.ok(200)["members"],
        json!([])
    );
    b.patch(
        &format!("/Groups/{a_group}"),
        json!([{"op": "add", "path": "members", "value": [{"value": b_person}]}]),
    )
    .await
    .refused(404);
    // Creating A's person in B makes B's own record (pending their
    // consent), never a change to A's.
    let b_copy = b
        .create_user("sam@riverside.example", "Samuel", "Other", "b-9")
        .await;
    assert_eq!(b_copy, a_person, "one account, two organizations' records");
    b.patch(
        &format!("/Users/{b_copy}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .ok(200);
    b.delete(&format!("/Users/{b_copy}")).await;

    let after = (
        a.get(&format!("/Users/{a_person}")).await.body,
        a.get(&format!("/Groups/{a_group}")).await.body,
        activity(&a_admin).await.events.len(),
    );
    assert_eq!(before, after);
    assert_eq!(after.0["name"]["givenName"], "Sam");
    assert_eq!(after.0["active"], true);
    server.stop().await;
}

/// A person's pending activation links and the activation emails queued
/// to an address.
async fn activation_state(server: &TestApp, person: &str, address: &str) -> (i64, i64) {
    let pending = server
        .count(
            "SELECT COUNT(*) FROM activation_tokens WHERE status = 'pending' AND user_id = $1",
            person.parse::<i64>().unwrap(),
        )
        .await;
    let emails = server
        .count(
            "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind LIKE 'activation%'",
            address,
        )
        .await;
    (pending, emails)
}

async fn username_only_people_and_addresses_fixed_before_first_sign_in(backend: Backend) {
    // Open signup: a second organization tries the attack at the end.
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (_admin, idp) = scim_admin(&server, "Riverside", "ada@example.org").await;

    // A userName that is not an address, and no emails: a person known by
    // their username only, as a People import makes them; no email to send.
    let kim = idp
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "kim42", "name": {"givenName": "Kim"}}),
        )
        .await;
    let kim = kim.ok(201).clone();
    let id = kim["id"].as_str().unwrap().to_owned();
    assert_eq!(kim["userName"], "kim42");
    assert!(kim.get("emails").is_none(), "{kim}");
    assert_eq!(kim["name"], json!({"givenName": "Kim"}));
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE kind LIKE $1",
                "activation%"
            )
            .await,
        0
    );
    idp.post("/Users", json!({"schemas": [USER], "userName": "kim42"}))
        .await
        .refused(409)
        .scim_type("uniqueness");
    let found = idp.get("/Users?filter=userName%20eq%20%22kim42%22").await;
    assert_eq!(found.ok(200)["Resources"][0]["id"], id.as_str());

    // Until Kim first signs in, the identity provider may give, correct and
    // take back the address; each new address gets the activation link and
    // the old link stops working.
    let path = format!("/Users/{id}");
    let given = idp
        .patch(
            &path,
            json!([{"op": "add", "path": "emails", "value": [{"value": "Kim@Example.org", "primary": true}]}]),
        )
        .await;
    assert_eq!(given.ok(200)["emails"][0]["value"], "kim@example.org");
    assert_eq!(given.body["userName"], "kim42");
    assert_eq!(
        activation_state(&server, &id, "kim@example.org").await,
        (1, 1)
    );
    let corrected = idp
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails", "value": [{"value": "kim.b@example.org"}]}]),
        )
        .await;
    assert_eq!(corrected.ok(200)["emails"][0]["value"], "kim.b@example.org");
    assert_eq!(
        activation_state(&server, &id, "kim.b@example.org").await,
        (1, 1)
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM activation_tokens WHERE status = 'replaced' AND user_id = $1",
                id.parse::<i64>().unwrap()
            )
            .await,
        1
    );
    // The address reads back labelled as the identity provider labelled it.
    let labelled = idp
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails",
                    "value": [{"value": "kim.b@example.org", "type": "home", "primary": false}]}]),
        )
        .await;
    assert_eq!(
        labelled.ok(200)["emails"],
        json!([{"value": "kim.b@example.org", "type": "home", "primary": false}])
    );
    assert_eq!(
        activation_state(&server, &id, "kim.b@example.org").await,
        (1, 1)
    );
    // Another account's address is not given away.
    idp.patch(
        &path,
        json!([{"op": "replace", "path": "emails", "value": [{"value": "ada@example.org"}]}]),
    )
    .await
    .refused(409)
    .scim_type("uniqueness");
    let taken_back = idp
        .patch(&path, json!([{"op": "remove", "path": "emails"}]))
        .await;
    assert!(taken_back.ok(200).get("emails").is_none());
    assert_eq!(
        activation_state(&server, &id, "kim.b@example.org").await.0,
        0
    );
    // Removing the name leaves none (not empty strings).
    let nameless = idp
        .patch(&path, json!([{"op": "remove", "path": "name"}]))
        .await;
    assert!(nameless.ok(200).get("name").is_none(), "{}", nameless.body);

    // POST /.search: on one resource type, and across both.
    let searched = idp
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "userName eq \"kim42\"", "attributes": ["userName"]}),
        )
        .await;
    let searched = searched.ok(200);
    assert_eq!(searched["totalResults"], 1);
    assert_eq!(
        searched["Resources"][0],
        json!({"schemas": [USER], "id": id, "userName": "kim42"})
    );
    let group = idp
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Spring Cohort", "externalId": "grp-7",
                   "members": [{"value": id}]}),
        )
        .await;
    assert_eq!(group.ok(201)["externalId"], "grp-7");
    let group_id = group.body["id"].as_str().unwrap().to_owned();
    let by_external = idp
        .get("/Groups?filter=externalId%20eq%20%22grp-7%22")
        .await;
    assert_eq!(by_external.ok(200)["Resources"][0]["id"], group_id.as_str());
    let renumbered = idp
        .patch(
            &format!("/Groups/{group_id}"),
            json!([{"op": "replace", "path": "externalId", "value": "grp-8"}]),
        )
        .await;
    assert_eq!(renumbered.ok(200)["externalId"], "grp-8");
    let everything = idp
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "excludedAttributes": ["members"], "startIndex": 2, "count": 5}),
        )
        .await;
    let everything = everything.ok(200);
    // Ada, Kim, then the group: from the second on.
    assert_eq!(everything["totalResults"], 3);
    assert_eq!(everything["Resources"][0]["id"], id.as_str());
    assert_eq!(everything["Resources"][1]["displayName"], "Spring Cohort");
    assert!(everything["Resources"][1].get("members").is_none());
    let groups_only = idp
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                   "filter": "displayName eq \"Spring Cohort\""}),
        )
        .await;
    assert_eq!(groups_only.ok(200)["totalResults"], 1);
    idp.post(
        "/.search",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
               "filter": "title eq \"x\""}),
    )
    .await
    .refused(400)
    .scim_type("invalidFilter");
    idp.post("/Users/.search", json!({"filter": "userName eq \"kim42\""}))
        .await
        .refused(400)
        .scim_type("invalidSyntax");

    // Another organization that provisions the same address cannot readdress
    // the account: it is Riverside's.
    let sam = idp
        .create_user("sam@example.org", "Sam", "Lee", "00u9")
        .await;
    let (_other_admin, other) = scim_admin(&server, "Hillside", "hal@example.org").await;
    let theirs = other
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "sam@example.org"}),
        )
        .await;
    let theirs = theirs.ok(201)["id"].as_str().unwrap().to_owned();
    assert_eq!(theirs, sam);
    other
        .put(
            &format!("/Users/{theirs}"),
            json!({"schemas": [USER], "userName": "attacker@example.org", "active": true}),
        )
        .await
        .refused(400);
    assert_eq!(
        idp.get(&format!("/Users/{sam}")).await.ok(200)["userName"],
        "sam@example.org"
    );
    server.stop().await;
}

on_both_backends! {
    scim_usernames_and_addresses => username_only_people_and_addresses_fixed_before_first_sign_in;
    scim_discovery => discovery_describes_what_is_supported;
    scim_users => users_are_created_found_changed_and_removed;
    scim_deactivation_and_login => a_deactivated_person_cannot_sign_in_to_that_organization;
    scim_groups => groups_and_their_members;
    scim_scopes => other_scopes_and_no_token_are_refused;
    scim_cross_tenant => one_organizations_token_cannot_reach_anothers_people_or_groups;
}
