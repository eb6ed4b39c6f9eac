//! Issue #16, item 6: real SMTP, real MIME. The server delivers to a
//! third-party SMTP server on loopback (Python's aiosmtpd, in
//! `server/tests/smtp_verifier.py`) that reads every message with Python's
//! MIME parser and answers with a verdict: headers, encoding, structure,
//! links and, with `MUSTER_DKIM_*`, the DKIM signature checked by dkimpy.
//! Each message must come out clean, read back as the outbox meant it, and
//! its links must open on the server at `MUSTER_BASE_URL`.
//!
//! Needs python3 with aiosmtpd, dkimpy and pynacl (for Ed25519 signatures;
//! scripts/setup installs them) and
//! the openssl command; without them these tests say so and pass, except
//! under CI=true, where they fail.

use std::{
    collections::BTreeSet,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

use crate::{
    imports::{create, options, payload, wait_finished, KEY_A, KEY_B},
    invitations::{invite, respond},
    join::{open_page, submit},
    support::{eventually, rendered_at, Backend, Client, TestApp, ADMIN_PASSWORD, PASSWORD},
};

const VERIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_verifier.py");

const ORGANIZATION: &str = "Académie Zoë & Fils";
const GROUP: &str = "Élèves 2026 — Spring";
const FROM: &str = "Académie Zoë — Muster <no-reply@muster.test>";
const FROM_NAME: &str = "Académie Zoë — Muster";
const ADMIN: &str = "asa@example.org";
/// A group name that is an encoded word: a client that decoded it would show
/// "Your account is locked".
const LOOKALIKE: &str = "=?utf-8?q?Your_account_is_locked?=";

/// Whether a tool these tests need is there; without it they are skipped,
/// except on CI.
fn available(what: &str, program: &str, args: &[&str]) -> bool {
    let ok = std::process::Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !ok {
        if std::env::var("CI").is_ok_and(|ci| ci == "true") {
            panic!("CI requires {what} (scripts/setup installs it)");
        }
        eprintln!("skipping the real SMTP test: {what} is missing (run scripts/setup)");
    }
    ok
}

fn verifier_available() -> bool {
    available(
        "python3 with aiosmtpd, dkimpy and pynacl",
        "python3",
        &["-c", "import aiosmtpd, dkim, nacl"],
    )
}

/// The DNS record and signing settings of one DKIM key.
struct DkimKey {
    private_key_file: String,
    /// The TXT record at `{selector}._domainkey.{domain}`.
    txt: String,
}

const SELECTOR: &str = "muster2026";
const DKIM_DOMAIN: &str = "muster.test";

#[derive(Debug, Clone, Copy)]
enum KeyKind {
    Rsa,
    Ed25519,
}

impl KeyKind {
    /// The `a=` tag of its signatures.
    fn algorithm(self) -> &'static str {
        match self {
            KeyKind::Rsa => "rsa-sha256",
            KeyKind::Ed25519 => "ed25519-sha256",
        }
    }
}

/// A new key made with openssl as an admin would make one (RSA-2048, or
/// Ed25519), and its DNS record.
fn dkim_key(name: &str, kind: KeyKind) -> Option<DkimKey> {
    use base64::Engine;
    if !available("the openssl command", "openssl", &["version"]) {
        return None;
    }
    let dir = std::env::temp_dir().join("muster-tests").join(format!(
        "dkim-{}-{name}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let private_key_file = dir.join("dkim.pem").display().to_string();
    let algorithm: &[&str] = match kind {
        KeyKind::Rsa => &["RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        KeyKind::Ed25519 => &["ed25519"],
    };
    let made = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm"])
        .args(algorithm)
        .args(["-out", &private_key_file])
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(made.success(), "openssl genpkey");
    let public = std::process::Command::new("openssl")
        .args([
            "pkey",
            "-pubout",
            "-outform",
            "DER",
            "-in",
            &private_key_file,
        ])
        .output()
        .unwrap();
    assert!(public.status.success(), "openssl pkey -pubout");
    let base64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let txt = match kind {
        // RFC 6376: the DER SubjectPublicKeyInfo.
        KeyKind::Rsa => format!("v=DKIM1; k=rsa; p={}", base64(&public.stdout)),
        // RFC 8463: the raw 32-byte key, the end of its SubjectPublicKeyInfo.
        KeyKind::Ed25519 => format!(
            "v=DKIM1; k=ed25519; p={}",
            base64(&public.stdout[public.stdout.len() - 32..])
        ),
    };
    Some(DkimKey {
        private_key_file,
        txt,
    })
}

/// The verifier process: an aiosmtpd server on a port of its choosing, and
/// the verdicts it printed so far, one per received message.
struct Verifier {
    port: u16,
    verdicts: Arc<Mutex<Vec<Value>>>,
    /// Killed when the test ends (it also stops when its stdin closes).
    _child: Child,
}

impl Verifier {
    async fn start(base_url: &str, dkim: Option<&DkimKey>) -> Verifier {
        let mut command = Command::new("python3");
        command.arg(VERIFIER).args(["--base-url", base_url]);
        if let Some(key) = dkim {
            command
                .args(["--dkim-txt", &key.txt])
                .args(["--dkim-selector", SELECTOR])
                .args(["--dkim-domain", DKIM_DOMAIN]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the verifier starts")
            .unwrap()
            .expect("the verifier prints its port");
        let port: u16 = serde_json::from_str::<Value>(&first).unwrap()["port"]
            .as_u64()
            .unwrap()
            .try_into()
            .unwrap();
        let verdicts = Arc::new(Mutex::new(Vec::new()));
        let shared = verdicts.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let verdict: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("a verdict is JSON: {e}: {line}"));
                shared.lock().unwrap().push(verdict);
            }
        });
        Verifier {
            port,
            verdicts,
            _child: child,
        }
    }

    fn verdicts(&self) -> Vec<Value> {
        self.verdicts.lock().unwrap().clone()
    }

    /// The settings that send the server's mail here.
    fn smtp_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("MUSTER_SMTP_HOST", "127.0.0.1".to_owned()),
            ("MUSTER_SMTP_PORT", self.port.to_string()),
            ("MUSTER_SMTP_TLS", "none".to_owned()),
            ("MUSTER_SMTP_FROM", FROM.to_owned()),
        ]
    }
}

/// A free port for the server, so its base URL can be its own address
/// before it binds (the verifier is told the base URL first).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real server at its own base URL, sending to `verifier`, with open
/// sign-up.
async fn server_for(
    backend: Backend,
    port: u16,
    verifier: &Verifier,
    extra: &[(&'static str, String)],
) -> Option<TestApp> {
    let mut env = verifier.smtp_env();
    env.push(("MUSTER_BIND", format!("127.0.0.1:{port}")));
    env.push(("MUSTER_BASE_URL", format!("http://127.0.0.1:{port}")));
    env.extend_from_slice(extra);
    // Open sign-up: a new organization's admin confirms their address by
    // email, one more kind of message.
    TestApp::spawn_with(backend, true, &env).await
}

/// The organization (its first admin with non-ASCII names) and its group.
async fn organization(server: &TestApp) -> (Client, i64) {
    let admin = server.client();
    admin
        .call::<()>(
            "create_organization",
            &[
                ("organization_name", ORGANIZATION),
                ("first_name", "Åsa"),
                ("last_name", "Øster-Łukasz"),
                ("email", ADMIN),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await
        .unwrap();
    let group = admin.create_group(GROUP, "Sécurité\nÉthique").await;
    (admin, group)
}

/// "Forgot password?" for `email`, as the login page's form posts it.
async fn ask_for_reset(server: &TestApp, email: &str) {
    let (status, _, _) = server
        .client()
        .post_form(
            "/forgot-password/send",
            &[("email", email)],
            &[("Origin", server.base.as_str())],
        )
        .await;
    assert_eq!(status, 303);
}

/// One outbox row as the server meant it: recipient, kind, and the message
/// its intent renders to (subject, bodies), as the sender renders it at delivery.
#[derive(Debug)]
struct Meant {
    to: String,
    kind: String,
    subject: String,
    text: String,
    html: String,
}

async fn outbox(server: &TestApp) -> Vec<Meant> {
    let rows: Vec<(i64, String, String, Option<String>)> =
        sqlx::query_as("SELECT id, to_email, kind, text_body FROM outbox ORDER BY id")
            .fetch_all(server.pool())
            .await
            .unwrap();
    let mut meant = Vec::new();
    for (id, to, kind, text_body) in rows {
        // Delivered over SMTP, the row keeps its intent and no message.
        assert_eq!(text_body, None, "{kind} to {to}");
        let message = rendered_at(server.pool(), id, &server.state.settings.base_url).await;
        meant.push(Meant {
            to,
            kind,
            subject: message.subject,
            text: message.text,
            html: message.html,
        });
    }
    meant
}

/// Waits until every outbox row of `kinds` (and no other) has been
/// delivered and the verifier has a verdict for each; returns them paired.
async fn delivered(server: &TestApp, verifier: &Verifier, kinds: &[&str]) -> Vec<(Meant, Value)> {
    let want: BTreeSet<&str> = kinds.iter().copied().collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let rows: Vec<(String, String, Option<String>)> =
            sqlx::query_as("SELECT kind, status, last_error FROM outbox ORDER BY id")
                .fetch_all(server.pool())
                .await
                .unwrap();
        let have: BTreeSet<&str> = rows.iter().map(|row| row.0.as_str()).collect();
        let all_sent = rows.iter().all(|row| row.1 == "sent");
        let verdicts = verifier.verdicts();
        if have == want && all_sent && verdicts.len() == rows.len() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "waiting for {want:?} to be delivered and verified; the outbox: \
             {rows:#?}\nthe verdicts: {verdicts:#}",
            verdicts = Value::from(verdicts)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let verdicts = verifier.verdicts();
    outbox(server)
        .await
        .into_iter()
        .map(|meant| {
            let matching: Vec<&Value> = verdicts
                .iter()
                .filter(|v| {
                    v["to"] == serde_json::json!([meant.to]) && v["subject"] == meant.subject
                })
                .collect();
            assert_eq!(
                matching.len(),
                1,
                "one received message to {} with subject {:?}; verdicts: {verdicts:#?}",
                meant.to,
                meant.subject
            );
            let verdict = matching[0].clone();
            (meant, verdict)
        })
        .collect()
}

/// What every message must be: no problem found by the parser, the From
/// name decoded, and both bodies exactly as the outbox meant them.
fn assert_clean(meant: &Meant, verdict: &Value) {
    let problems = verdict["problems"].as_array().unwrap();
    assert!(
        problems.is_empty(),
        "{} email to {}: {problems:#?}\n{verdict:#}",
        meant.kind,
        meant.to
    );
    assert_eq!(verdict["from_name"], FROM_NAME, "{verdict:#}");
    assert_eq!(verdict["from_address"], "no-reply@muster.test");
    assert_eq!(verdict["envelope_to"], serde_json::json!([meant.to]));
    assert_eq!(
        verdict["text"].as_str().map(|t| t.replace("\r\n", "\n")),
        Some(meant.text.clone()),
        "the text part reads back as written"
    );
    assert_eq!(
        verdict["html"].as_str().map(|t| t.replace("\r\n", "\n")),
        Some(meant.html.clone()),
        "the HTML part reads back as written"
    );
    assert!(
        !verdict["links"].as_array().unwrap().is_empty(),
        "{} email has no link",
        meant.kind
    );
}

fn links(verdict: &Value) -> Vec<String> {
    verdict["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|link| link.as_str().unwrap().to_owned())
        .collect()
}

/// The token after `/{path}/` in the message's links.
fn token_in(verdict: &Value, path: &str) -> String {
    let marker = format!("/{path}/");
    let link = links(verdict)
        .into_iter()
        .find(|link| link.contains(&marker))
        .unwrap_or_else(|| panic!("a {marker} link in {verdict:#}"));
    link.split(&marker).nth(1).unwrap().to_owned()
}

/// Opens `link` in the browser of its recipient: it must answer 200 with
/// the page the email promised.
async fn opens(server: &TestApp, browser: &Client, link: &str, expect: &str) {
    let path = link
        .strip_prefix(&server.base)
        .unwrap_or_else(|| panic!("{link} is on {}", server.base));
    let (status, page) = browser.get_page(path).await;
    assert_eq!(status, 200, "{link}: {page}");
    assert!(page.contains(expect), "{link} shows {expect:?}: {page}");
}

async fn every_email_reads_back_cleanly_and_its_links_work(backend: Backend) {
    if !verifier_available() {
        return;
    }
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let verifier = Verifier::start(&base, None).await;
    let Some(server) = server_for(backend, port, &verifier, &[]).await else {
        return;
    };
    assert_eq!(server.base, base);
    let (admin, group) = organization(&server).await;
    let group_id = group.to_string();

    // A manual invitation, an invites import, a learners import whose
    // learner has non-ASCII names, a password reset and a join request.
    invite(&admin, &group_id, "lin@example.org").await.unwrap();
    // A name that looks like an RFC 2047 encoded word must reach the reader
    // as typed, not decoded into other words by their mail client.
    let lookalike = admin.create_group(LOOKALIKE, "").await;
    invite(&admin, &lookalike.to_string(), "kim@example.org")
        .await
        .unwrap();
    let invites = payload("invites", &["Email"], &[&["mo@example.org"]]);
    let id = create(&admin, &options("invites", Some(group)), &invites, KEY_A)
        .await
        .unwrap();
    wait_finished(&admin, id).await;
    let learners = payload(
        "learners",
        &["First Name", "Last Name", "Email"],
        &[&["Zoë", "Ångström", "zoe@example.com"]],
    );
    let id = create(&admin, &options("learners", Some(group)), &learners, KEY_B)
        .await
        .unwrap();
    wait_finished(&admin, id).await;
    ask_for_reset(&server, ADMIN).await;
    open_page(&admin, "eleves", &group_id, "school.edu").await;
    let (status, _) = submit(
        &server.client(),
        "eleves",
        &[
            ("intent", "register"),
            ("email", "noe@school.edu"),
            ("first_name", "Noé"),
            ("last_name", "Lefèvre"),
        ],
    )
    .await;
    assert_eq!(status, 303);

    let kinds = [
        "confirm_email",
        "invitation",
        "import_finished",
        "activation",
        "password_reset",
        "join_verify",
    ];
    let received = delivered(&server, &verifier, &kinds).await;
    assert_eq!(received.len(), 9, "{received:#?}");
    let mut ids = BTreeSet::new();
    for (meant, verdict) in &received {
        assert_clean(meant, verdict);
        assert!(ids.insert(verdict["message_id"].as_str().unwrap().to_owned()));
    }
    let find = |kind: &str, to: &str| {
        received
            .iter()
            .find(|(meant, _)| meant.kind == kind && meant.to == to)
            .map(|(_, verdict)| verdict.clone())
            .unwrap_or_else(|| panic!("a {kind} email to {to}"))
    };
    // Non-ASCII subjects and names, decoded as the recipient sees them.
    let invitation = find("invitation", "lin@example.org");
    assert_eq!(
        invitation["subject"],
        format!("{ORGANIZATION} invites you to join {GROUP}")
    );
    assert!(invitation["html"]
        .as_str()
        .unwrap()
        .contains("Académie Zoë &amp; Fils"));
    assert_eq!(
        find("invitation", "kim@example.org")["subject"],
        format!("{ORGANIZATION} invites you to join {LOOKALIKE}")
    );
    let activation = find("activation", "zoe@example.com");
    assert_eq!(
        activation["subject"],
        format!("{ORGANIZATION}: set your password for Muster")
    );
    assert!(activation["text"]
        .as_str()
        .unwrap()
        .starts_with("Hello Zoë,"));
    let reset = find("password_reset", ADMIN);
    assert!(reset["text"].as_str().unwrap().starts_with("Hello Åsa,"));

    // Every link opens, in the browser of whom it was sent to.
    let stranger = server.client();
    opens(&server, &stranger, &links(&invitation)[0], GROUP).await;
    opens(
        &server,
        &stranger,
        &links(&find("invitation", "mo@example.org"))[0],
        GROUP,
    )
    .await;
    opens(
        &server,
        &stranger,
        &links(&activation)[0],
        "zoe@example.com",
    )
    .await;
    opens(
        &server,
        &stranger,
        &links(&reset)[0],
        "Choose a new password",
    )
    .await;
    let join = find("join_verify", "noe@school.edu");
    opens(&server, &stranger, &links(&join)[0], GROUP).await;
    opens(
        &server,
        &admin,
        &links(&find("confirm_email", ADMIN))[0],
        "Confirm my email",
    )
    .await;
    for (meant, verdict) in &received {
        if meant.kind == "import_finished" {
            opens(&server, &admin, &links(verdict)[0], "roster.csv").await;
        }
    }

    // Lin accepts with the link as received: the welcome email follows.
    let lin = server.client();
    let token = token_in(&invitation, "invite");
    let (status, _) = respond(
        &lin,
        &token,
        &[
            ("intent", "register"),
            ("first_name", "Łucja"),
            ("last_name", "Nuñez"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 303);
    let mut kinds = kinds.to_vec();
    kinds.push("welcome");
    let received = delivered(&server, &verifier, &kinds).await;
    let (meant, welcome) = received
        .iter()
        .find(|(meant, _)| meant.kind == "welcome")
        .unwrap();
    assert_clean(meant, welcome);
    assert_eq!(welcome["subject"], format!("Welcome to {GROUP}"));
    assert!(welcome["text"].as_str().unwrap().contains("Hello Łucja,"));
    assert!(welcome["text"].as_str().unwrap().contains("- Sécurité"));
    opens(&server, &lin, &links(welcome)[0], GROUP).await;
}

async fn every_email_is_dkim_signed_and_verifies(backend: Backend) {
    signed_with(backend, KeyKind::Rsa).await;
}

async fn every_email_is_ed25519_signed_and_verifies(backend: Backend) {
    signed_with(backend, KeyKind::Ed25519).await;
}

async fn signed_with(backend: Backend, kind: KeyKind) {
    if !verifier_available() {
        return;
    }
    let Some(key) = dkim_key("signing", kind) else {
        return;
    };
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let verifier = Verifier::start(&base, Some(&key)).await;
    let dkim = [
        ("MUSTER_DKIM_SELECTOR", SELECTOR.to_owned()),
        ("MUSTER_DKIM_DOMAIN", DKIM_DOMAIN.to_owned()),
        ("MUSTER_DKIM_PRIVATE_KEY_FILE", key.private_key_file.clone()),
    ];
    let Some(server) = server_for(backend, port, &verifier, &dkim).await else {
        return;
    };
    let (admin, group) = organization(&server).await;
    invite(&admin, &group.to_string(), "lin@example.org")
        .await
        .unwrap();
    ask_for_reset(&server, ADMIN).await;
    let received = delivered(
        &server,
        &verifier,
        &["confirm_email", "invitation", "password_reset"],
    )
    .await;
    assert_eq!(received.len(), 3);
    for (meant, verdict) in &received {
        // Clean includes: signed once, verified, and tampered copies fail.
        assert_clean(meant, verdict);
        let dkim = &verdict["dkim"];
        assert_eq!(dkim["verified"], true, "{verdict:#}");
        assert_eq!(dkim["tampered_body_verifies"], false);
        assert_eq!(dkim["tampered_subject_verifies"], false);
        assert_eq!(dkim["domain"], DKIM_DOMAIN);
        assert_eq!(dkim["selector"], SELECTOR);
        assert_eq!(dkim["algorithm"], kind.algorithm());
        assert_eq!(dkim["canonicalization"], "relaxed/relaxed");
    }
}

/// Sends `data` as one message to the verifier, over SMTP with lettre.
async fn send_raw(verifier: &Verifier, to: &str, data: &[u8]) {
    use lettre::{
        address::Envelope,
        transport::smtp::{client::AsyncSmtpConnection, extension::ClientId},
    };
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", verifier.port))
        .await
        .unwrap();
    let mut connection =
        AsyncSmtpConnection::connect_with_transport(Box::new(stream), &ClientId::default())
            .await
            .unwrap();
    let envelope = Envelope::new(
        Some("no-reply@muster.test".parse().unwrap()),
        vec![to.parse().unwrap()],
    )
    .unwrap();
    connection.send(&envelope, data).await.unwrap();
    connection.quit().await.unwrap();
}

fn problems_of(verdict: &Value) -> String {
    verdict["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The verifier is only worth its verdicts if it can find fault: badly made
/// messages, and a signature by another key, must come back with problems.
#[tokio::test]
async fn the_verifier_finds_what_is_wrong() {
    if !verifier_available() {
        return;
    }
    let (Some(key), Some(other_key)) = (
        dkim_key("trusted", KeyKind::Rsa),
        dkim_key("other", KeyKind::Rsa),
    ) else {
        return;
    };
    let verifier = Verifier::start("http://muster.test", Some(&key)).await;
    let bad = "From: Académie <no-reply@muster.test>\r\n\
               To: zoe@example.org\r\n\
               Subject: Élèves\r\n\
               Message-ID: <same@muster.test>\r\n\
               MIME-Version: 1.0\r\n\
               Content-Type: text/plain; charset=iso-8859-1\r\n\
               \r\n\
               Open /invite/abc or http://elsewhere.test/x &amp; more\r\n";
    send_raw(&verifier, "zoe@example.org", bad.as_bytes()).await;
    // Well-formed headers, but the Message-ID again, a Latin-1 part, and
    // links that are relative, elsewhere, or only in one part.
    let links = "From: Muster <no-reply@muster.test>\r\n\
                 To: zoe@example.org\r\n\
                 Subject: Links\r\n\
                 Date: Mon, 30 Nov 2026 12:00:00 +0000\r\n\
                 Message-ID: <same@muster.test>\r\n\
                 MIME-Version: 1.0\r\n\
                 Content-Type: multipart/alternative; boundary=\"b\"\r\n\
                 \r\n\
                 --b\r\n\
                 Content-Type: text/plain; charset=iso-8859-1\r\n\
                 \r\n\
                 Open http://elsewhere.test/x &amp; more\r\n\
                 --b\r\n\
                 Content-Type: text/html; charset=utf-8\r\n\
                 \r\n\
                 <a href=\"/invite/abc\">Open</a>\r\n\
                 --b--\r\n";
    send_raw(&verifier, "zoe@example.org", links.as_bytes()).await;
    // A well-made message signed with a key that is not the published one.
    let mut signed = lettre::Message::builder()
        .from(FROM.parse().unwrap())
        .to("zoe@example.org".parse().unwrap())
        .subject(GROUP)
        .message_id(Some("<other@muster.test>".to_owned()))
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            "Hello Zoë: http://muster.test/home\n".to_owned(),
            "<p>Hello Zoë: <a href=\"http://muster.test/home\">home</a></p>".to_owned(),
        ))
        .unwrap();
    let pem = std::fs::read_to_string(&other_key.private_key_file).unwrap();
    let other = server::mail::DkimSettings::new(SELECTOR, DKIM_DOMAIN, &pem).unwrap();
    signed.sign(&other.lettre_config());
    send_raw(&verifier, "zoe@example.org", &signed.formatted()).await;
    eventually("three verdicts", || async {
        verifier.verdicts().len() == 3
    })
    .await;
    let verdicts = verifier.verdicts();
    let first = problems_of(&verdicts[0]);
    for expected in [
        "8-bit bytes in the header",
        "Date appears 0 times",
        "not multipart/alternative",
        "0 DKIM-Signature headers",
    ] {
        assert!(first.contains(expected), "{expected:?} in:\n{first}");
    }
    assert!(!first.contains("already used"), "{first}");
    let second = problems_of(&verdicts[1]);
    for expected in [
        "Message-ID <same@muster.test> was already used",
        "text/plain has charset 'iso-8859-1', not utf-8",
        "HTML entities in the plain text part",
        "link 'http://elsewhere.test/x' is not an absolute link on http://muster.test",
        "link '/invite/abc' is not an absolute link on http://muster.test",
        "the text part links ['http://elsewhere.test/x'] but the HTML part ['/invite/abc']",
    ] {
        assert!(second.contains(expected), "{expected:?} in:\n{second}");
    }
    assert!(!second.contains("Date appears"), "{second}");
    let other_signed = problems_of(&verdicts[2]);
    assert_eq!(other_signed, "dkim.verify failed", "{:#}", verdicts[2]);
    assert_eq!(verdicts[2]["dkim"]["signed"], true);
    assert_eq!(verdicts[2]["subject"], GROUP);
}

on_both_backends! {
    every_email_reads_back_cleanly => every_email_reads_back_cleanly_and_its_links_work;
    every_email_is_dkim_signed => every_email_is_dkim_signed_and_verifies;
    every_email_is_ed25519_signed => every_email_is_ed25519_signed_and_verifies;
}
