//! The `muster` binary as the command-line client, against a real server on
//! both backends: `login` tries the token before saving it; `import` checks
//! the file here and sends nothing with errors in it, `--dry-run` changes
//! nothing, `--wait` follows the import and its exit code says how it went;
//! `imports list/show/failed` and `invitations resend` through the API.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::{Backend, Bearer, TestApp};
use serde_json::json;

const GOOD: &str = "First Name,Last Name,Email\nAnn,Lee,ann@example.com\nBob,Ray,bob@example.com\n";
/// Row 3 has no @ sign.
const ONE_BAD: &str =
    "First Name,Last Name,Email\nCy,Ott,cy@example.com\nDee,Fox,dee.example.com\nEve,Kim,eve@example.com\n";

/// A shell of its own: a temporary directory holding the config file and
/// the rosters, and no MUSTER_URL/MUSTER_TOKEN from the test's environment.
struct Shell {
    dir: PathBuf,
}

impl Shell {
    fn new() -> Shell {
        let dir = std::env::temp_dir().join(format!(
            "muster-cli-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Shell { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("config").join("muster.toml")
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    async fn muster(&self, args: &[&str]) -> Run {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
            .args(args)
            .env("MUSTER_CONFIG", self.config())
            .env_remove("MUSTER_URL")
            .env_remove("MUSTER_TOKEN")
            .current_dir(&self.dir)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("the muster binary runs");
        Run::from(output)
    }

    async fn login(&self, base: &str, token: &str) {
        let run = self
            .muster(&["login", "--url", base, "--token", token])
            .await;
        run.expect(0);
    }
}

impl Drop for Shell {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    fn expect(&self, code: i32) -> &Run {
        assert_eq!(self.code, Some(code), "{self:#?}");
        self
    }
}

async fn imports(server: &TestApp) -> i64 {
    server.count_all("SELECT COUNT(*) FROM imports").await
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

async fn login_tries_the_token_before_saving_it(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let token = admin.api_token("Laptop", "read").await;
    let shell = Shell::new();

    // Nothing saved yet: the client says how to log in.
    let run = shell.muster(&["imports", "list"]).await;
    run.expect(3);
    assert!(run.stderr.contains("muster login"), "{run:#?}");

    let forged = "mst_0000000000000000000000000000000000000000000000000000000000000000";
    let run = shell
        .muster(&["login", "--url", admin.base(), "--token", forged])
        .await;
    run.expect(3);
    assert!(run.stderr.contains("not valid"), "{run:#?}");
    assert!(!shell.config().exists());
    // Not a server at all.
    shell
        .muster(&["login", "--url", "http://127.0.0.1:9", "--token", &token])
        .await
        .expect(3);
    assert!(!shell.config().exists());

    let pasted = format!("{}/api/v1/", admin.base());
    let run = shell
        .muster(&["login", "--url", &pasted, "--token", &token])
        .await;
    run.expect(0);
    let saved = std::fs::read_to_string(shell.config()).unwrap();
    assert!(saved.contains(&token), "{saved}");
    assert!(saved.contains(&format!("\"{}\"", admin.base())), "{saved}");
    #[cfg(unix)]
    assert_eq!(mode(&shell.config()), 0o600);
    let run = shell.muster(&["imports", "list"]).await;
    run.expect(0);
    assert!(run.stdout.contains("No imports yet"), "{run:#?}");

    // The environment overrides the saved token: a revoked one is refused.
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_muster"))
        .args(["imports", "list"])
        .env("MUSTER_CONFIG", shell.config())
        .env("MUSTER_TOKEN", forged)
        .output()
        .await
        .unwrap();
    assert_eq!(run.status.code(), Some(3));
    server.stop().await;
}

async fn an_import_is_checked_here_sent_and_followed(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let shell = Shell::new();
    shell
        .login(admin.base(), &admin.api_token("Laptop", "imports").await)
        .await;
    let good = shell.file("roster.csv", GOOD);
    let bad = shell.file("bad.csv", ONE_BAD);
    let learners = ["import", "--kind", "learners", "--group", "Spring Cohort"];
    let with = |extra: &[&'static str], file: &str| -> Vec<String> {
        learners
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .chain([file.to_owned()])
            .collect()
    };
    let run_with = |args: Vec<String>| {
        let shell = &shell;
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            shell.muster(&args).await
        }
    };

    // A row with an error: named by row and column, and nothing is sent.
    let run = run_with(with(&["--wait"], &bad)).await;
    run.expect(2);
    assert!(
        run.stderr
            .lines()
            .any(|line| line.starts_with("3 ") && line.contains("Email") && line.contains("error")),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--allow-errors"), "{run:#?}");
    assert_eq!(imports(&server).await, 0);

    // An unknown group: the groups there are are listed.
    let run = shell
        .muster(&["import", "--kind", "learners", "--group", "Fall", &good])
        .await;
    run.expect(2);
    assert!(run.stderr.contains("Spring Cohort"), "{run:#?}");
    // A group is needed for learners.
    shell
        .muster(&["import", "--kind", "learners", &good])
        .await
        .expect(2);

    // The dry run says what would happen and changes nothing.
    let run = run_with(with(&["--dry-run"], &good)).await;
    run.expect(0);
    assert!(run.stdout.contains("Dry run"), "{run:#?}");
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("accounts created") && l.ends_with(" 2")),
        "{run:#?}"
    );
    assert_eq!(imports(&server).await, 0);
    assert_eq!(
        server
            .count_all("SELECT COUNT(*) FROM users WHERE email LIKE '%@example.com'")
            .await,
        0
    );

    // The import, followed to its end (group names ignore case).
    let run = shell
        .muster(&[
            "import",
            "--kind",
            "learners",
            "--group",
            "spring cohort",
            "--wait",
            &good,
        ])
        .await;
    run.expect(0);
    assert!(
        run.stdout.contains("2 succeeded, 0 skipped, 0 failed"),
        "{run:#?}"
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
    // Without a TTY the progress is plain lines, never a redrawn bar.
    assert!(!run.stderr.contains('\r'), "{run:#?}");

    // Errors allowed: every row is sent, the bad one fails, exit 1 names
    // the way to the failed rows.
    let run = run_with(with(&["--allow-errors", "--wait"], &bad)).await;
    run.expect(1);
    let (id,): (i64,) = sqlx::query_as("SELECT MAX(id) FROM imports")
        .fetch_one(server.pool())
        .await
        .unwrap();
    assert!(
        run.stdout.contains("2 succeeded, 0 skipped, 1 failed"),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains(&format!("muster imports failed {id}")),
        "{run:#?}"
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("row 3: ") && l.contains("dee.example.com")),
        "{run:#?}"
    );

    // Without --wait: accepted is success.
    let run = run_with(with(&["--name", "Nightly"], &good)).await;
    run.expect(0);
    assert!(run.stdout.contains("muster imports show"), "{run:#?}");
    assert_eq!(imports(&server).await, 3);

    let run = shell.muster(&["imports", "list"]).await;
    run.expect(0);
    assert_eq!(
        run.stdout
            .lines()
            .filter(|l| l.contains("learners"))
            .count(),
        3,
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("Nightly") && run.stdout.contains("bad.csv"),
        "{run:#?}"
    );
    let run = shell.muster(&["imports", "show", &id.to_string()]).await;
    run.expect(0);
    assert!(run.stdout.contains("Spring Cohort"), "{run:#?}");
    assert!(
        run.stdout.contains("2 succeeded, 0 skipped, 1 failed"),
        "{run:#?}"
    );
    let run = shell
        .muster(&["imports", "show", &id.to_string(), "--json"])
        .await;
    let shown: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(shown["failed"], 1);

    let run = shell
        .muster(&["imports", "failed", &id.to_string(), "-o", "failed.csv"])
        .await;
    run.expect(0);
    let csv = std::fs::read_to_string(shell.dir.join("failed.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("dee.example.com"), "{csv}");
    let run = shell.muster(&["imports", "failed", &id.to_string()]).await;
    assert_eq!(run.stdout, csv);
    // Another organization's import: the server's refusal, as input.
    let run = shell.muster(&["imports", "show", "999999"]).await;
    run.expect(2);
    assert!(run.stderr.contains("(404)"), "{run:#?}");
    server.stop().await;
}

async fn expired_invitations_are_resent(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, false).await else {
        return;
    };
    let (admin, group) = server
        .admin_with_group("Riverside", "ada@example.org", "Spring Cohort", "Safety")
        .await;
    let token = admin.api_token("Laptop", "invitations").await;
    let sent = Bearer::new(admin.base(), &token)
        .post(
            "/invitations",
            &json!({"group_id": group, "emails": ["lin@example.org", "max@example.org", "sam@example.org"]}),
        )
        .await;
    assert_eq!(sent.status, reqwest::StatusCode::OK, "{sent:?}");
    sqlx::query("UPDATE invitations SET expires_at = 1000 WHERE email <> 'sam@example.org'")
        .execute(server.pool())
        .await
        .unwrap();
    let shell = Shell::new();
    shell.login(admin.base(), &token).await;
    let expired = "SELECT COUNT(*) FROM invitations WHERE expires_at = $1";

    let run = shell
        .muster(&["invitations", "resend", "--status", "expired", "--dry-run"])
        .await;
    run.expect(0);
    assert!(
        run.stdout.contains("Would resend 2 expired invitations"),
        "{run:#?}"
    );
    assert_eq!(server.count(expired, 1000_i64).await, 2);

    let run = shell
        .muster(&[
            "invitations",
            "resend",
            "--status",
            "expired",
            "--group",
            "Spring Cohort",
        ])
        .await;
    run.expect(0);
    assert!(
        run.stdout.contains("Resent 2 of 2 expired invitations"),
        "{run:#?}"
    );
    assert_eq!(server.count(expired, 1000_i64).await, 0);
    let resent = "SELECT COUNT(*) FROM invitations WHERE resend_count > $1";
    assert_eq!(server.count(resent, 0_i64).await, 2);

    let run = shell
        .muster(&["invitations", "resend", "--status", "expired"])
        .await;
    run.expect(0);
    assert!(run.stdout.contains("No expired invitations"), "{run:#?}");
    // An unknown status is a usage error.
    shell
        .muster(&["invitations", "resend", "--status", "active"])
        .await
        .expect(2);
    server.stop().await;
}

/// `--help` lists the client's commands next to `serve`; a wrong command
/// line is exit 2.
#[tokio::test]
async fn help_lists_the_commands() {
    let shell = Shell::new();
    let run = shell.muster(&["--help"]).await;
    run.expect(0);
    for command in ["serve", "login", "import", "imports", "invitations"] {
        assert!(run.stdout.contains(command), "{run:#?}");
    }
    let run = shell.muster(&["import", "--help"]).await;
    run.expect(0);
    assert!(run.stdout.contains("--allow-errors"), "{run:#?}");
    shell
        .muster(&["import", "--kind", "bogus", "x.csv"])
        .await
        .expect(2);
}

on_both_backends! {
    login => login_tries_the_token_before_saving_it;
    import => an_import_is_checked_here_sent_and_followed;
    resend_expired => expired_invitations_are_resent;
}
