//! [`TestApp`]: the real server in this process, and what tests read from
//! its database.

use super::{fresh_database, link_token, Backend, Client, BASE_URL};

/// A real server on port 0 against its own fresh database.
pub struct TestApp {
    pub base: String,
    /// The server's own state, for tests that look into the database.
    pub state: app::state::AppState,
    /// For tests that start further server processes on the same database.
    pub database_url: String,
    /// Stops the server's workers and waits for them, like `muster` on SIGTERM.
    running: server::Running,
    /// Where the server's mail goes when it runs with open sign-up.
    pub smtp: Option<super::smtp::SmtpSink>,
}

impl TestApp {
    pub async fn spawn(backend: Backend, open_signup: bool) -> Option<TestApp> {
        Self::spawn_with(backend, open_signup, &[]).await
    }

    /// Like [`TestApp::spawn`], with further environment variables (e.g. `MUSTER_SMTP_*`).
    pub async fn spawn_with(
        backend: Backend,
        open_signup: bool,
        extra: &[(&str, String)],
    ) -> Option<TestApp> {
        let database_url = fresh_database(backend).await?;
        Some(Self::spawn_on(database_url, open_signup, extra).await)
    }

    /// A further server on the database of another (`other.database_url`), as
    /// a second process sharing it would be: its own pool, workers and port.
    pub async fn spawn_on(
        database_url: String,
        open_signup: bool,
        extra: &[(&str, String)],
    ) -> TestApp {
        // Several organizations need real mail (the server refuses the dev
        // mailbox with open sign-up): a loopback SMTP sink receives it.
        let mut extra = extra.to_vec();
        let smtp = if open_signup && !extra.iter().any(|(key, _)| *key == "MUSTER_SMTP_HOST") {
            let sink = super::smtp::SmtpSink::start().await;
            extra.push(("MUSTER_SMTP_HOST", "127.0.0.1".to_owned()));
            extra.push(("MUSTER_SMTP_PORT", sink.addr.port().to_string()));
            extra.push(("MUSTER_SMTP_TLS", "none".to_owned()));
            Some(sink)
        } else {
            None
        };
        // `extra` may also set the bind address and base URL (a test that
        // follows emailed links serves at its own base URL).
        let config = server::Config::from_lookup(|name| {
            if let Some((_, value)) = extra.iter().find(|(key, _)| *key == name) {
                return Some(value.clone());
            }
            match name {
                "DATABASE_URL" => Some(database_url.clone()),
                "MUSTER_BIND" => Some("127.0.0.1:0".to_owned()),
                "MUSTER_BASE_URL" => Some(BASE_URL.to_owned()),
                "MUSTER_OPEN_SIGNUP" => Some(open_signup.to_string()),
                "MUSTER_SECRET_KEY" => Some(super::SECRET_KEY.to_owned()),
                _ => None,
            }
        })
        .unwrap();
        let running = server::start(config).await.expect("server starts");
        TestApp {
            base: format!("http://{}", running.addr),
            state: running.state.clone(),
            database_url,
            running,
            smtp,
        }
    }

    /// A server that serves requests but runs no import worker: imports it
    /// queues are run by other processes (or by the test itself).
    pub async fn spawn_without_import_workers(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, false, &[("MUSTER_IMPORT_WORKERS", "0".to_owned())]).await
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base)
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.state.db.pool
    }

    /// Stops accepting requests, stops the workers and waits for them.
    pub async fn stop(self) {
        self.running.stop().await.expect("the server stops cleanly");
    }

    /// A client signed in as the admin of a new organization.
    pub async fn admin(&self, organization: &str, email: &str) -> Client {
        // Server errors (logged, never shown to users) explain a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter("app=warn,server=warn")
            .with_test_writer()
            .try_init();
        let admin = self.client();
        admin.create_org(organization, email).await.unwrap();
        admin
    }

    /// A new organization's admin and one group of theirs.
    pub async fn admin_with_group(
        &self,
        organization: &str,
        email: &str,
        group: &str,
        trainings: &str,
    ) -> (Client, i64) {
        let admin = self.admin(organization, email).await;
        let group = admin.create_group(group, trainings).await;
        (admin, group)
    }

    /// `SELECT COUNT(*) ...` with one parameter.
    pub async fn count<'a, T>(&self, sql: &'a str, bind: T) -> i64
    where
        T: 'a + Send + sqlx::Encode<'a, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        let (n,): (i64,) = sqlx::query_as(sql)
            .bind(bind)
            .fetch_one(self.pool())
            .await
            .unwrap();
        n
    }

    /// A count over the whole database of this test.
    pub async fn count_all(&self, sql: &str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(self.pool()).await.unwrap();
        n
    }

    /// The end state of one clean run of the only import, an Invites import of
    /// `rows` addresses with emails on: no row, invitation or email missing or twice.
    pub async fn assert_invites_import_done_once(&self, rows: i64) {
        let one = |sql| self.count_all(sql);
        assert_eq!(one("SELECT COUNT(*) FROM invitations").await, rows);
        assert_eq!(
            one("SELECT COUNT(DISTINCT email) FROM invitations").await,
            rows
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM outbox WHERE kind = 'invitation'").await,
            rows
        );
        assert_eq!(
            one("SELECT COUNT(DISTINCT to_email) FROM outbox WHERE kind = 'invitation'").await,
            rows
        );
        assert_eq!(
            self.count_all(&format!(
                "SELECT COUNT(*) FROM import_rows r JOIN imports i ON i.id = r.import_id
                 WHERE {} <> 'success'",
                app::imports::store::ROW_STATUS
            ))
            .await,
            0
        );
        assert_eq!(
            one("SELECT COUNT(*) FROM outbox WHERE kind = 'import_finished'").await,
            1
        );
    }

    pub async fn organization_id(&self, name: &str) -> i64 {
        let (id,): (i64,) = sqlx::query_as("SELECT id FROM organizations WHERE name = $1")
            .bind(name)
            .fetch_one(self.pool())
            .await
            .unwrap();
        id
    }

    /// The token of the `link` (e.g. `/invite/`) in the newest email to `email`
    /// whose kind is `LIKE kind`, read from the outbox.
    pub async fn emailed_token(&self, email: &str, kind: &str, link: &str) -> String {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT id FROM outbox WHERE to_email = $1 AND kind LIKE $2 ORDER BY id DESC",
        )
        .bind(email)
        .bind(kind)
        .fetch_all(self.pool())
        .await
        .unwrap();
        let id = rows
            .first()
            .unwrap_or_else(|| panic!("an email of kind {kind} to {email}"))
            .0;
        let text = &super::rendered(self.pool(), id).await.text;
        assert!(text.contains(&format!("{BASE_URL}{link}")), "{text}");
        link_token(text, link)
    }
}
