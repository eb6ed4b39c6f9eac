//! The join page end to end, on SQLite and PostgreSQL: admin settings,
//! `/join/{slug}` and its no-JavaScript form, the email allowlist enforced on
//! hand-made posts, confirming the email through the outbox link, the same
//! 404 for a page that is off and one that does not exist, and the rate
//! limits answering 429.

use crate::support::{Backend, Client, TestApp, ADMIN_PASSWORD, PASSWORD};
use app::{
    error::AppError,
    home::LearnerOverview,
    join::{JoinSettings, SlugCheck},
};

mod allowlist;
mod limits;

struct Page<'a> {
    enabled: bool,
    slug: &'a str,
    group: &'a str,
    domains: &'a str,
    subdomains: bool,
}

async fn save(admin: &Client, page: &Page<'_>) -> Result<JoinSettings, AppError> {
    let mut form = vec![
        ("slug", page.slug),
        ("group_id", page.group),
        (
            "welcome_text",
            "Welcome to Riverside!\n\nWe are glad you are here.",
        ),
        ("allowed_domains", page.domains),
    ];
    if page.enabled {
        form.push(("enabled", "on"));
    }
    if page.subdomains {
        form.push(("allow_subdomains", "on"));
    }
    admin.call("join/save", &form).await
}

pub(crate) async fn open_page(
    admin: &Client,
    slug: &str,
    group: &str,
    domains: &str,
) -> JoinSettings {
    save(
        admin,
        &Page {
            enabled: true,
            slug,
            group,
            domains,
            subdomains: false,
        },
    )
    .await
    .unwrap()
}

/// Posts the join page's form as a browser would from the page itself.
pub(crate) async fn submit(client: &Client, slug: &str, form: &[(&str, &str)]) -> (u16, String) {
    client
        .post_from_site(&format!("/join/{slug}/submit"), form)
        .await
}

/// Signs up on the join page. A `password` is posted too, as an attacker
/// would: the server ignores it (the password is chosen after the link).
pub(crate) async fn register(
    client: &Client,
    slug: &str,
    email: &str,
    password: &str,
) -> (u16, String) {
    submit(
        client,
        slug,
        &[
            ("intent", "register"),
            ("email", email),
            ("first_name", "Lin"),
            ("last_name", "Learner"),
            ("password", password),
        ],
    )
    .await
}

/// Posts the confirmation page's form (the password chosen there) the way a
/// browser does from a page sent with `Referrer-Policy: no-referrer`:
/// `Origin: null` plus Fetch Metadata.
async fn confirm(client: &Client, token: &str) -> (u16, String) {
    confirm_with(client, token, PASSWORD).await
}

pub(crate) async fn confirm_with(client: &Client, token: &str, password: &str) -> (u16, String) {
    client
        .post_from_emailed_page(
            &format!("/verify-email/{token}/confirm"),
            &[("password", password), ("confirmation", password)],
        )
        .await
}

/// The token in the newest confirmation email to `email`.
pub(crate) async fn verify_token_for(server: &TestApp, email: &str) -> String {
    server
        .emailed_token(email, "join_verify", "/verify-email/")
        .await
}

async fn membership_count(server: &TestApp, email: &str) -> i64 {
    server
        .count(
            "SELECT COUNT(*) FROM group_memberships gm JOIN users u ON u.id = gm.user_id
         WHERE u.email = $1 AND gm.status = 'active'",
            email,
        )
        .await
}

async fn confirming_the_email_starts_membership_with_trainings(backend: Backend) {
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
    open_page(&admin, "riverside", &group, "school.edu").await;
    let learner = server.client();
    let (status, location) = register(&learner, "riverside", "Lin@School.edu", PASSWORD).await;
    assert_eq!((status, location.as_str()), (303, "/join/riverside?sent"));
    let (_, html) = learner.get_page("/join/riverside?sent").await;
    assert!(html.contains("Check your email."), "{html}");

    // No account and no membership until the address is confirmed.
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM users WHERE email = $1",
                "lin@school.edu"
            )
            .await,
        0
    );
    let token = verify_token_for(&server, "lin@school.edu").await;
    assert_eq!(token.len(), 64, "256-bit token");
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE token_hash = $1",
                &token
            )
            .await,
        0,
        "the token itself is never stored"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE token_hash = $1",
                &app::links::server::token_hash(&token)
            )
            .await,
        1,
        "its SHA-256 is"
    );

    // A GET shows the page and confirms nothing (link scanners follow GETs).
    let (status, headers, html) = learner
        .get_with_headers(&format!("/verify-email/{token}"))
        .await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
    assert!(
        html.contains(
            "Choose a password for lin@school.edu to confirm your address and join Spring Cohort at Riverside."
        ),
        "{html}"
    );
    assert_eq!(membership_count(&server, "lin@school.edu").await, 0);

    // Cross-site posts are refused, even with Origin: null.
    let (status, _, _) = learner
        .post_form(
            &format!("/verify-email/{token}/confirm"),
            &[],
            &[("Origin", "null")],
        )
        .await;
    assert_eq!(status.as_u16(), 403);

    let (status, location) = confirm(&learner, &token).await;
    assert_eq!((status, location.as_str()), (303, "/"));
    assert_eq!(
        server.count("SELECT COUNT(*) FROM users WHERE email = $1 AND status = 'active' AND password_hash IS NOT NULL",
            "lin@school.edu"
        )
        .await,
        1
    );
    assert_eq!(membership_count(&server, "lin@school.edu").await, 1);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM training_assignments a JOIN users u ON u.id = a.user_id WHERE u.email = $1",
            "lin@school.edu"
        )
        .await,
        2
    );
    assert_eq!(
        server.count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.role = 'learner'",
            "lin@school.edu"
        )
        .await,
        1
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind = 'welcome'",
                "lin@school.edu"
            )
            .await,
        1
    );
    // Signed in: the learner home shows the group and its trainings.
    let home: LearnerOverview = learner.call("learner/home", &[]).await.unwrap();
    assert_eq!(home.first_name, "Lin");
    assert_eq!(home.organizations[0].groups[0].name, "Spring Cohort");
    assert_eq!(
        home.organizations[0].groups[0].trainings,
        vec!["Safety", "Conduct"]
    );
    // The account works with the password given at sign-up.
    server
        .client()
        .call::<()>(
            "login",
            &[("email", "lin@school.edu"), ("password", PASSWORD)],
        )
        .await
        .unwrap();

    // Single use.
    let (status, location) = confirm(&server.client(), &token).await;
    assert_eq!((status, location), (303, format!("/verify-email/{token}")));
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{token}"))
        .await;
    assert!(html.contains("Your email is confirmed"), "{html}");

    // A newer sign-up replaces the older link; an expired link does nothing.
    register(&learner, "riverside", "max@school.edu", PASSWORD).await;
    let first = verify_token_for(&server, "max@school.edu").await;
    register(&learner, "riverside", "max@school.edu", PASSWORD).await;
    let second = verify_token_for(&server, "max@school.edu").await;
    assert_ne!(first, second);
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{first}"))
        .await;
    assert!(html.contains("This link was replaced"), "{html}");
    let visitor = server.client();
    assert_eq!(
        confirm(&visitor, &first).await,
        (303, format!("/verify-email/{first}"))
    );
    sqlx::query("UPDATE join_requests SET expires_at = 1 WHERE status = 'pending'")
        .execute(&server.state.db.pool)
        .await
        .unwrap();
    let (_, html) = server
        .client()
        .get_page(&format!("/verify-email/{second}"))
        .await;
    assert!(html.contains("This link has expired"), "{html}");
    confirm(&visitor, &second).await;
    assert_eq!(membership_count(&server, "max@school.edu").await, 0);
    let (status, _) = server.client().get_page("/verify-email/abc123").await;
    assert_eq!(status.as_u16(), 404);
}

/// A page with its per-response nonces blanked out.
fn without_nonces(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = ["nonce=\"", "crossorigin=\""]
        .iter()
        .filter_map(|attr| rest.find(attr).map(|i| i + attr.len()))
        .min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

async fn an_existing_account_gets_the_same_answer_and_logs_in_to_join(backend: Backend) {
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
    open_page(&admin, "riverside", &group, "").await;
    let visitor = server.client();
    let (status, location) =
        register(&visitor, "riverside", "ADA@example.org", "another password").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/riverside?sent"),
        "the same answer as for a new address"
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE email = $1",
                "ada@example.org"
            )
            .await,
        0
    );
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM outbox WHERE to_email = $1 AND kind = 'join_account_exists'",
                "ada@example.org"
            )
            .await,
        1
    );
    // The password did not change.
    server
        .client()
        .call::<()>(
            "login",
            &[("email", "ada@example.org"), ("password", ADMIN_PASSWORD)],
        )
        .await
        .unwrap();

    let login = |password: &'static str| {
        let visitor = &visitor;
        async move {
            submit(
                visitor,
                "riverside",
                &[
                    ("intent", "login"),
                    ("email", "ada@example.org"),
                    ("password", password),
                ],
            )
            .await
        }
    };
    assert_eq!(
        login("not the password").await,
        (303, "/join/riverside?error=credentials".to_owned())
    );
    assert_eq!(membership_count(&server, "ada@example.org").await, 0);
    assert_eq!(login(ADMIN_PASSWORD).await, (303, "/".to_owned()));
    assert_eq!(membership_count(&server, "ada@example.org").await, 1);
    assert_eq!(
        server.count("SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1 AND m.role = 'admin'",
            "ada@example.org"
        )
        .await,
        1,
        "an admin joining keeps the admin role"
    );
    // Signed in now: the page offers to join with this account.
    let (_, html) = visitor.get_page("/join/riverside").await;
    assert!(
        html.contains("You are signed in as ada@example.org."),
        "{html}"
    );
    let (status, location) = submit(&visitor, "riverside", &[("intent", "join")]).await;
    assert_eq!((status, location.as_str()), (303, "/"));
}

async fn check(client: &Client, slug: &str) -> SlugCheck {
    client
        .call::<(String, SlugCheck)>("join/check_slug", &[("slug", slug)])
        .await
        .unwrap()
        .1
}

on_both_backends! {
    verify_then_member => confirming_the_email_starts_membership_with_trainings;
    existing_account => an_existing_account_gets_the_same_answer_and_logs_in_to_join;
}
