//! Webhooks end to end, on SQLite and PostgreSQL: a receiver on loopback
//! gets `import.finished` and `invitation.accepted`, signed the Standard
//! Webhooks way (checked here and by the `standardwebhooks` Python package);
//! an endpoint that fails is retried and its log shows every answer; "send
//! again" sends the same message again; private addresses are refused at
//! registration and at delivery; another organization's admin can neither
//! see nor touch an endpoint or its log.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

use app::{
    error::AppError,
    webhooks::{CreatedEndpoint, DeliveryStatus, DeliverySummary, EndpointSummary},
};
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::{eventually, Backend, Client, TestApp, PASSWORD};

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inbox {
    received: Mutex<Vec<Received>>,
    /// The statuses to answer with, in order; 200 once they run out.
    answers: Mutex<VecDeque<u16>>,
}

/// A webhook receiver on 127.0.0.1: records every request and answers 200,
/// or what it was told to answer first.
pub(crate) struct Receiver {
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let shared = inbox.clone();
        let app =
            axum::Router::new().fallback(move |headers: axum::http::HeaderMap, body: String| {
                let inbox = shared.clone();
                async move {
                    let headers = headers
                        .iter()
                        .map(|(name, value)| {
                            (
                                name.as_str().to_owned(),
                                value.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    inbox
                        .received
                        .lock()
                        .unwrap()
                        .push(Received { headers, body });
                    let status = inbox.answers.lock().unwrap().pop_front().unwrap_or(200);
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, inbox }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn answer_first(&self, statuses: &[u16]) {
        self.inbox.answers.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().unwrap().clone()
    }

    /// The requests whose event `type` is `event`.
    pub fn of_type(&self, event: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.json()["type"] == event)
            .collect()
    }

    pub async fn wait_for(&self, event: &str, count: usize) -> Vec<Received> {
        eventually(&format!("{count} × {event} at the receiver"), || async {
            self.of_type(event).len() >= count
        })
        .await;
        self.of_type(event)
    }
}

/// A server whose webhooks may go to loopback (as tests need).
pub(crate) async fn spawn(
    backend: Backend,
    open_signup: bool,
    extra: &[(&str, &str)],
) -> Option<TestApp> {
    let mut env: Vec<(&str, String)> = vec![("MUSTER_WEBHOOK_ALLOW_PRIVATE", "true".to_owned())];
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    TestApp::spawn_with(backend, open_signup, &env).await
}

pub(crate) async fn register(
    admin: &Client,
    url: &str,
    events: &[&str],
) -> Result<CreatedEndpoint, AppError> {
    let names: Vec<String> = (0..events.len()).map(|n| format!("events[{n}]")).collect();
    let mut form: Vec<(&str, &str)> = vec![("url", url)];
    form.extend(names.iter().map(String::as_str).zip(events.iter().copied()));
    admin.call("webhooks/create", &form).await
}

async fn deliveries(admin: &Client, endpoint: i64) -> Vec<DeliverySummary> {
    admin
        .call(
            "webhooks/deliveries",
            &[("endpoint_id", &endpoint.to_string())],
        )
        .await
        .unwrap()
}

/// Checks a request's Standard Webhooks signature with `secret`, as a receiver would.
fn assert_signed(request: &Received, secret: &str) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .unwrap();
    assert_eq!(key.len(), 32);
    let id = request.header("webhook-id");
    let timestamp = request.header("webhook-timestamp");
    assert!(id.starts_with("msg_"), "{id}");
    let sent_at: i64 = timestamp.parse().expect("unix seconds");
    assert!((app::state::now() - sent_at).abs() < 300);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{}", request.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert!(
        request
            .header("webhook-signature")
            .split(' ')
            .any(|s| s == expected),
        "signature {:?}, expected {expected}",
        request.header("webhook-signature")
    );
    assert_eq!(request.header("content-type"), "application/json");
}

/// The same check by the Standard Webhooks reference library for Python, in
/// the virtual environment scripts/setup makes (`MUSTER_VENV`).
async fn assert_python_verifies(request: &Received, secret: &str) {
    let venv = std::env::var("MUSTER_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/muster/venv",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let python = format!("{venv}/bin/python");
    if !std::path::Path::new(&python).exists() {
        eprintln!("SKIPPED the standardwebhooks check: no {python} (run scripts/setup)");
        return;
    }
    let script = "import json, os, sys\n\
        from standardwebhooks.webhooks import Webhook\n\
        headers = json.loads(os.environ['HOOK_HEADERS'])\n\
        Webhook(os.environ['HOOK_SECRET']).verify(os.environ['HOOK_BODY'], headers)\n\
        try:\n    Webhook(os.environ['HOOK_SECRET']).verify(os.environ['HOOK_BODY'] + ' ', headers)\n\
        except Exception:\n    print('verified')\n";
    let headers = serde_json::json!({
        "webhook-id": request.header("webhook-id"),
        "webhook-timestamp": request.header("webhook-timestamp"),
        "webhook-signature": request.header("webhook-signature"),
    });
    let output = tokio::process::Command::new(&python)
        .args(["-c", script])
        .env("HOOK_HEADERS", headers.to_string())
        .env("HOOK_SECRET", secret)
        .env("HOOK_BODY", &request.body)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("No module named 'standardwebhooks'") {
        eprintln!(
            "SKIPPED the standardwebhooks check: not installed in {venv} (run scripts/setup)"
        );
        return;
    }
    assert!(
        output.status.success(),
        "standardwebhooks refused it: {stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "verified",
        "{stderr}"
    );
}

async fn events_reach_the_receiver_signed(backend: Backend) {
    let Some(server) = spawn(backend, false, &[]).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let created = register(
        &admin,
        &receiver.url("/hooks/muster"),
        &["import.finished", "invitation.accepted"],
    )
    .await
    .unwrap();
    assert!(created.secret.starts_with("whsec_"), "{}", created.secret);
    // The secret is shown once: the list does not hold it, nor does the table in clear.
    let listed: Vec<EndpointSummary> = admin.call("webhooks/list", &[]).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!serde_json::to_string(&listed)
        .unwrap()
        .contains(&created.secret));
    let stored = server
        .count(
            "SELECT COUNT(*) FROM webhook_endpoints WHERE secret LIKE $1",
            format!("%{}%", &created.secret[6..]),
        )
        .await;
    assert_eq!(stored, 0, "the secret is stored sealed");

    let import = admin
        .start_invites_import(
            group,
            &["lin@example.org".to_owned()],
            true,
            "webhook-import-0001",
        )
        .await;
    let finished = receiver.wait_for("import.finished", 1).await;
    let event = finished[0].json();
    assert_eq!(event["data"]["import_id"], import);
    assert_eq!(event["data"]["status"], "completed");
    assert_eq!(event["data"]["succeeded"], 1);
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_signed(&finished[0], &created.secret);
    assert_python_verifies(&finished[0], &created.secret).await;

    let token = crate::invitations::token_for(&server, "lin@example.org").await;
    let learner = server.client();
    let (status, body) = crate::invitations::respond(
        &learner,
        &token,
        &[
            ("intent", "register"),
            ("first_name", "Lin"),
            ("last_name", "Learner"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert!(status < 400, "{status} {body}");
    let accepted = receiver.wait_for("invitation.accepted", 1).await;
    let event = accepted[0].json();
    assert_eq!(event["data"]["email"], "lin@example.org");
    assert_eq!(event["data"]["group_id"], group);
    assert_signed(&accepted[0], &created.secret);
    assert_ne!(
        accepted[0].header("webhook-id"),
        finished[0].header("webhook-id"),
        "one message id per event"
    );
    // No link, token or secret travels in a payload.
    for request in receiver.received() {
        assert!(!request.body.contains(&token), "{}", request.body);
        assert!(!request.body.contains("/invite/"), "{}", request.body);
    }

    let log = deliveries(&admin, created.id).await;
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(
        log[0].event_type.as_str(),
        "invitation.accepted",
        "newest first"
    );
    for delivery in &log {
        assert_eq!(delivery.status, DeliveryStatus::Sent, "{delivery:?}");
        assert_eq!(
            (delivery.attempts, delivery.last_status_code),
            (1, Some(200))
        );
        assert_eq!(delivery.answers, vec!["200"]);
    }
    server.stop().await;
}

async fn a_failing_endpoint_is_retried_and_can_be_sent_again(backend: Backend) {
    let Some(server) = spawn(backend, false, &[("MUSTER_WEBHOOK_RETRY_SECONDS", "1")]).await else {
        return;
    };
    let receiver = Receiver::start().await;
    receiver.answer_first(&[500]);
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let created = register(&admin, &receiver.url("/in"), &["import.finished"])
        .await
        .unwrap();
    admin
        .start_invites_import(
            group,
            &["lin@example.org".to_owned()],
            false,
            "webhook-import-0002",
        )
        .await;
    let tries = receiver.wait_for("import.finished", 2).await;
    assert_eq!(tries[0].body, tries[1].body, "a retry sends the same body");
    assert_eq!(tries[0].header("webhook-id"), tries[1].header("webhook-id"));
    assert_signed(&tries[1], &created.secret);
    eventually("the retry recorded", || async {
        deliveries(&admin, created.id)
            .await
            .first()
            .is_some_and(|d| d.status == DeliveryStatus::Sent)
    })
    .await;
    let log = deliveries(&admin, created.id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].attempts, 2);
    assert_eq!(
        log[0].answers,
        vec!["500", "200"],
        "the log shows both answers"
    );
    assert_eq!(log[0].last_status_code, Some(200));

    // "Send again": a new row of the log, the same message id and body.
    admin
        .call::<()>("webhooks/resend", &[("id", &log[0].id.to_string())])
        .await
        .unwrap();
    let all = receiver.wait_for("import.finished", 3).await;
    assert_eq!(all[2].header("webhook-id"), all[0].header("webhook-id"));
    assert_eq!(all[2].body, all[0].body);
    assert_signed(&all[2], &created.secret);
    eventually("the resend recorded", || async {
        let log = deliveries(&admin, created.id).await;
        log.len() == 2 && log.iter().all(|d| d.status == DeliveryStatus::Sent)
    })
    .await;

    // A disabled endpoint gets nothing and cannot be sent to again.
    admin
        .call::<()>(
            "webhooks/set_enabled",
            &[("id", &created.id.to_string()), ("enabled", "false")],
        )
        .await
        .unwrap();
    let refused = admin
        .call::<()>("webhooks/resend", &[("id", &log[0].id.to_string())])
        .await;
    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    admin
        .start_invites_import(
            group,
            &["max@example.org".to_owned()],
            false,
            "webhook-import-0003",
        )
        .await;
    eventually("the second import finished", || async {
        server
            .count_all("SELECT COUNT(*) FROM imports WHERE finished_at IS NOT NULL")
            .await
            == 2
    })
    .await;
    assert_eq!(deliveries(&admin, created.id).await.len(), 2);

    // Deleting removes the endpoint and its log, and says so in the activity log.
    admin
        .call::<()>("webhooks/delete", &[("id", &created.id.to_string())])
        .await
        .unwrap();
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM webhook_endpoints")
            .await,
        0
    );
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM webhook_deliveries")
            .await,
        0
    );
    let actions = server
        .count_all(
            "SELECT COUNT(*) FROM audit_events WHERE action IN ('webhook_created', 'webhook_disabled', 'webhook_deleted')",
        )
        .await;
    assert_eq!(actions, 3);
    server.stop().await;
}

/// Counts TCP connections and answers none of them.
async fn silent_listener() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (addr, connections)
}

async fn private_addresses_are_refused(backend: Backend) {
    // No MUSTER_WEBHOOK_ALLOW_PRIVATE: production's rule.
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let (addr, connections) = silent_listener().await;
    let port = addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        "https://10.0.0.5/hook".to_owned(),
        "https://192.168.1.20/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/hook".to_owned(),
        "https://[::ffff:127.0.0.1]/hook".to_owned(),
        "https://[fd00::1]/hook".to_owned(),
        "https://2130706433/hook".to_owned(),
        "https://0.0.0.0/hook".to_owned(),
        "https://user:pw@example.com/hook".to_owned(),
        "ftp://example.com/hook".to_owned(),
    ] {
        let refused = register(&admin, &url, &["import.finished"]).await;
        assert!(
            matches!(&refused, Err(AppError::Invalid { field, .. }) if field == "URL"),
            "{url}: {refused:?}"
        );
    }
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM webhook_endpoints")
            .await,
        0
    );

    // Endpoints that got past registration (a name that resolves elsewhere
    // since, or a row written some other way) are refused at delivery,
    // before any connection.
    let organization = server.organization_id("Riverside").await;
    let (admin_id,): (i64,) =
        sqlx::query_as("SELECT id FROM users WHERE email = 'ada@example.org'")
            .fetch_one(server.pool())
            .await
            .unwrap();
    let secret = app::mail::seal::seal(&app::webhooks::service::new_secret()).unwrap();
    for url in [
        format!("https://localhost:{port}/hook"),
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://[::1]:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
    ] {
        sqlx::query(
            "INSERT INTO webhook_endpoints (organization_id, url, events, secret, created_by, created_at)
             VALUES ($1, $2, '[\"import.finished\"]', $3, $4, 0)",
        )
        .bind(organization)
        .bind(url)
        .bind(&secret)
        .bind(admin_id)
        .execute(server.pool())
        .await
        .unwrap();
    }
    admin
        .start_invites_import(
            group,
            &["lin@example.org".to_owned()],
            false,
            "webhook-import-0004",
        )
        .await;
    eventually("every delivery refused", || async {
        server
            .count_all("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed'")
            .await
            == 4
    })
    .await;
    let (errors,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE last_error LIKE '%public addresses%' OR last_error LIKE '%https://%'",
    )
    .fetch_one(server.pool())
    .await
    .unwrap();
    assert_eq!(errors, 4, "each says why");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "nothing connected to loopback"
    );
    server.stop().await;
}

async fn another_organization_can_neither_see_nor_touch_an_endpoint(backend: Backend) {
    let Some(server) = spawn(backend, true, &[]).await else {
        return;
    };
    let receiver = Receiver::start().await;
    let (a, a_group) = server
        .admin_with_group(
            "Riverside",
            "ada@riverside.example",
            "Riverside Cohort",
            "Safety",
        )
        .await;
    let b = server.admin("Hillside", "bea@hillside.example").await;
    let a_endpoint = register(&a, &receiver.url("/riverside"), &["import.finished"])
        .await
        .unwrap();
    let b_endpoint = register(&b, &receiver.url("/hillside"), &["import.finished"])
        .await
        .unwrap();
    a.start_invites_import(
        a_group,
        &["lin@riverside.example".to_owned()],
        false,
        "webhook-import-0005",
    )
    .await;
    let got = receiver.wait_for("import.finished", 1).await;
    assert_signed(&got[0], &a_endpoint.secret);
    let a_delivery = deliveries(&a, a_endpoint.id).await[0].id;

    let b_sees: Vec<EndpointSummary> = b.call("webhooks/list", &[]).await.unwrap();
    assert_eq!(
        b_sees.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![b_endpoint.id]
    );
    let id = a_endpoint.id.to_string();
    let delivery = a_delivery.to_string();
    let (id, delivery) = (id.as_str(), delivery.as_str());
    let attacks: [(&str, Vec<(&str, &str)>); 4] = [
        ("webhooks/deliveries", vec![("endpoint_id", id)]),
        ("webhooks/resend", vec![("id", delivery)]),
        (
            "webhooks/set_enabled",
            vec![("id", id), ("enabled", "false")],
        ),
        ("webhooks/delete", vec![("id", id)]),
    ];
    for (function, form) in attacks {
        let (status, body) = b.raw(function, &form, Some(b.base())).await;
        assert_eq!(status.as_u16(), 404, "{function}: {body}");
        assert!(!body.to_lowercase().contains("riverside"), "{body}");
    }
    // Nothing changed for A, and B's endpoint got nothing of A's.
    let a_log = deliveries(&a, a_endpoint.id).await;
    assert_eq!(a_log.len(), 1);
    let a_sees: Vec<EndpointSummary> = a.call("webhooks/list", &[]).await.unwrap();
    assert!(a_sees[0].disabled_at.is_none());
    assert!(deliveries(&b, b_endpoint.id).await.is_empty());
    assert!(receiver
        .received()
        .iter()
        .all(|r| r.header("webhook-id") == got[0].header("webhook-id")));
    server.stop().await;
}

on_both_backends! {
    signed_events => events_reach_the_receiver_signed;
    retries_and_send_again => a_failing_endpoint_is_retried_and_can_be_sent_again;
    private_addresses => private_addresses_are_refused;
    tenant_isolation => another_organization_can_neither_see_nor_touch_an_endpoint;
}
