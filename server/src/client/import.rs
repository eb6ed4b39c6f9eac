//! `muster import --kind KIND [--group NAME] FILE`: the file is read and
//! checked here with the engine the browser runs (muster-core: parse, header
//! mapping, validation), so mistakes are listed by row and column before
//! anything is sent; then its rows go to `POST /api/v1/imports` (or
//! `/imports/dry-run`), and `--wait` follows the import to its end.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use muster_core::{grid, parse_bytes, ImportKind, Limits, ParseOptions, PayloadCheck, RowsPayload};
use serde_json::json;

use super::{api::Api, config, output::count, progress::Progress, Done, Failure};
use server::api::{
    groups::Group,
    imports::{DryRun, Import, ImportRow},
    Page,
};

/// Problems listed before the rest are only counted.
const ISSUES_SHOWN: usize = 50;
/// Failed rows listed after `--wait`; `muster imports failed` has them all.
const FAILED_SHOWN: usize = 10;
/// Between polls of a running import (the token's rate limit refills one
/// request a second by default).
const POLL_EVERY: Duration = Duration::from_secs(1);

const AFTER_HELP: &str = "\
The file (CSV, TSV, XLSX or ODS) is checked here first, as the import page checks it.
Rows with errors stop the command (exit 2) and nothing is sent, unless --allow-errors:
then every row is sent, and the server imports the good rows and marks the rows with
errors failed (fetch them with `muster imports failed ID`). A column problem (a required
column missing) always stops it.

Exit codes: 0 imported, every row succeeded (or --dry-run / not --wait: accepted);
1 the import finished with failed rows, failed, was cancelled or waits for approval;
2 the file, group or options are wrong; 3 not logged in, token refused, server unreachable.

Examples:
  muster import --kind learners --group \"Spring Cohort\" roster.xlsx --dry-run
  muster import --kind learners --group \"Spring Cohort\" roster.xlsx --send-emails --wait";

#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub struct ImportArgs {
    /// What the file holds: invites, learners, program-invitations, people or group-members.
    #[arg(long)]
    kind: ImportKind,
    /// The group, by name (or id), for invites, learners and program-invitations.
    #[arg(long)]
    group: Option<String>,
    /// The contract id whose seats program-invitations use.
    #[arg(long)]
    contract: Option<i64>,
    /// The roster: CSV, TSV, XLSX or ODS.
    file: PathBuf,
    /// Say what the import would do, change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Follow the import until it ends, then print its summary.
    #[arg(long)]
    wait: bool,
    /// Send rows with errors too: the server imports the rest and marks them failed.
    #[arg(long)]
    allow_errors: bool,
    /// Send invitation (and account) emails.
    #[arg(long)]
    send_emails: bool,
    /// The file is the whole group: people it does not name leave.
    #[arg(long)]
    sync: bool,
    /// People imports: invite new people when finished.
    #[arg(long)]
    auto_invite: bool,
    /// Invitations expire after this many days (rows may say otherwise).
    #[arg(long)]
    expiry_days: Option<i64>,
    /// What the import is called in lists (default: the file's name).
    #[arg(long)]
    name: Option<String>,
    /// For delimited text: comma, semicolon, tab, pipe or one character (default: detected).
    #[arg(long, value_parser = delimiter)]
    delimiter: Option<u8>,
}

fn delimiter(s: &str) -> Result<u8, String> {
    match s {
        "comma" | "," => Ok(b','),
        "semicolon" | ";" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "pipe" | "|" => Ok(b'|'),
        s if s.len() == 1 => Ok(s.as_bytes()[0]),
        _ => Err("comma, semicolon, tab, pipe or one character".to_owned()),
    }
}

/// The kinds whose rows all go into the one group the import names.
fn needs_group(kind: ImportKind) -> bool {
    matches!(
        kind,
        ImportKind::Invites | ImportKind::Learners | ImportKind::ProgramInvitations
    )
}

pub async fn run(args: ImportArgs) -> Result<Done, Failure> {
    if needs_group(args.kind) && args.group.is_none() {
        return Err(Failure::Input(format!(
            "--group is required for {} imports",
            args.kind
        )));
    }
    let file_name = args
        .file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_owned());
    let payload = checked_payload(&args, &file_name)?;
    let sheet = &payload.sheets[0];

    let api = Api::new(&config::load()?)?;
    let group = match &args.group {
        Some(wanted) => Some(find_group(&api, wanted).await?),
        None => None,
    };
    let body = json!({
        "kind": args.kind.as_str(),
        "group_id": group.as_ref().map(|group| group.id),
        "contract_id": args.contract,
        "send_emails": args.send_emails,
        "auto_invite": args.auto_invite,
        "expiry_days": args.expiry_days,
        "sync": args.sync,
        "source_name": args.name.clone().unwrap_or_else(|| file_name.clone()),
        "columns": sheet.headers,
        "rows": sheet.rows.iter().map(|row| &row.cells).collect::<Vec<_>>(),
    });
    let into = group
        .as_ref()
        .map(|group| format!(" into {}", group.name))
        .unwrap_or_default();

    if args.dry_run {
        let dry: DryRun = api.post("/imports/dry-run", &body, &[], true).await?;
        print_dry_run(&dry, &file_name, &into);
        return Ok(Done::All);
    }

    // One key per invocation: a retry after a dropped connection finds the
    // import the first attempt made instead of importing twice.
    let key = format!("muster-cli-{}", app::links::server::new_token());
    let import: Import = api
        .post(
            "/imports",
            &body,
            &[("Idempotency-Key", key.as_str())],
            true,
        )
        .await?;
    println!(
        "Import {} of {}{into}: {} ({}).",
        import.id,
        file_name,
        import.status,
        count(import.total_rows, "row", "rows")
    );
    if !args.wait {
        println!("Follow it with: muster imports show {}", import.id);
        return Ok(Done::All);
    }
    let import = wait(&api, import).await?;
    let file_rows: Vec<u32> = sheet.rows.iter().map(|row| row.number).collect();
    report(&api, &import, &file_rows).await
}

/// The file's rows as the API takes them, after the engine's checks have
/// passed (or the errors were allowed); the problems are printed.
fn checked_payload(args: &ImportArgs, file_name: &str) -> Result<RowsPayload, Failure> {
    let path = args.file.display();
    let bytes = std::fs::read(&args.file)
        .map_err(|error| Failure::Input(format!("cannot read {path}: {error}")))?;
    let options = ParseOptions {
        delimiter: args.delimiter,
        header_keys: args.kind.header_keys(),
        ..ParseOptions::default()
    };
    let limits = Limits::default();
    let workbook = parse_bytes(&bytes, Some(file_name), &options, &limits)
        .map_err(|error| Failure::Input(format!("{path}: {error}")))?;
    for warning in &workbook.warnings {
        eprintln!("note: {}", warning.message);
    }
    // The tabs the upload page would read, as it would send them.
    let payload = RowsPayload::from_workbook(args.kind, workbook, Default::default());
    if payload.sheets.len() > 1 {
        let tabs: Vec<&str> = payload.sheets.iter().map(|s| s.name.as_str()).collect();
        return Err(Failure::Input(format!(
            "{path} has one tab per role ({}); the API takes one table, so import the tabs as separate files or upload the workbook in the browser",
            tabs.join(", ")
        )));
    }
    if payload.sheets.is_empty() {
        return Err(Failure::Input(format!("{path}: no table found")));
    }
    let verdict = payload
        .check(&limits)
        .map_err(|error| Failure::Input(format!("{path}: {error}")))?;
    let column_errors = verdict.header_errors().count();
    let row_errors = verdict.checked.totals.with_errors;
    print_check(&verdict, &path.to_string(), args.kind);
    if column_errors > 0 {
        return Err(Failure::Input(format!(
            "{path}: fix the columns above first; nothing was sent"
        )));
    }
    if row_errors > 0 && !args.allow_errors {
        return Err(Failure::Input(format!(
            "{path}: {} with errors; fix them, or send them anyway with --allow-errors (the server marks them failed). Nothing was sent.",
            count(row_errors, "row", "rows")
        )));
    }
    Ok(payload)
}

fn print_check(verdict: &PayloadCheck, path: &str, kind: ImportKind) {
    let totals = verdict.checked.totals;
    eprintln!(
        "{path}: {} ({}): {} ready, {} with warnings, {} with errors",
        count(totals.rows, "row", "rows"),
        kind.label(),
        totals.ready,
        totals.with_warnings,
        totals.with_errors
    );
    // Unmatched columns are ignored, as on the import page.
    let issues: Vec<_> = verdict
        .mappings
        .iter()
        .flat_map(|mapping| mapping.issues.iter())
        .chain(verdict.checked.issues())
        .filter(|issue| issue.code != muster_core::IssueCode::UnknownColumn)
        .collect();
    if issues.is_empty() {
        return;
    }
    let rows: Vec<[String; 4]> = issues
        .iter()
        .take(ISSUES_SHOWN)
        .map(|issue| {
            [
                issue
                    .row
                    .map_or_else(|| "header".to_owned(), |row| row.to_string()),
                issue.column.clone().unwrap_or_default(),
                if issue.is_error() { "error" } else { "warning" }.to_owned(),
                issue.message.clone(),
            ]
        })
        .collect();
    eprint!("{}", grid(["ROW", "COLUMN", "LEVEL", "PROBLEM"], &rows));
    if issues.len() > ISSUES_SHOWN {
        eprintln!(
            "... and {} more (muster-check check --format json lists them all)",
            issues.len() - ISSUES_SHOWN
        );
    }
}

/// The group named `wanted`: exactly, else ignoring case, else by id.
async fn find_group(api: &Api, wanted: &str) -> Result<Group, Failure> {
    let groups: Vec<Group> = api.get("/groups", &[]).await?;
    let wanted_trimmed = wanted.trim();
    let exact: Vec<&Group> = groups.iter().filter(|g| g.name == wanted_trimmed).collect();
    let matches = if exact.is_empty() {
        groups
            .iter()
            .filter(|g| g.name.trim().to_lowercase() == wanted_trimmed.to_lowercase())
            .collect()
    } else {
        exact
    };
    let by_id = || {
        wanted_trimmed
            .parse::<i64>()
            .ok()
            .and_then(|id| groups.iter().find(|g| g.id == id))
    };
    let pick = match matches.as_slice() {
        [one] => Some(*one),
        [] => by_id(),
        several => {
            let names: Vec<String> = several
                .iter()
                .map(|g| format!("{} (id {})", g.name, g.id))
                .collect();
            return Err(Failure::Input(format!(
                "{} groups are called {wanted:?}: {}; give the id with --group",
                several.len(),
                names.join(", ")
            )));
        }
    };
    let picked = pick.map(|group| group.id);
    let names: Vec<String> = groups.iter().map(|g| g.name.clone()).collect();
    groups
        .into_iter()
        .find(|group| Some(group.id) == picked)
        .ok_or_else(|| {
            Failure::Input(if names.is_empty() {
                format!("no group called {wanted:?}: this organization has no groups yet")
            } else {
                format!(
                    "no group called {wanted:?}; the groups are: {}",
                    names.join(", ")
                )
            })
        })
}

fn print_dry_run(dry: &DryRun, file_name: &str, into: &str) {
    println!("Dry run of {file_name}{into}; nothing was changed.");
    println!("{}", dry.summary);
    let lines = [
        ("rows", dry.rows),
        ("accounts created", dry.accounts_created),
        ("accounts updated", dry.accounts_updated),
        ("invitations", dry.invitations),
        ("emails", dry.emails),
        ("memberships", dry.memberships),
        ("skipped", dry.skipped),
        ("errors", dry.errors),
    ];
    for (what, n) in lines {
        println!("  {what:<17} {n}");
    }
    if let Some(leaving) = dry.leaving {
        println!("  {:<17} {leaving}", "leaving (sync)");
    }
    if dry.needs_approval == Some(true) {
        println!("The sync removes more people than the organization allows at once: it would wait for an admin's approval.");
    }
    if let Some(warning) = &dry.seats_warning {
        println!("Seats: {warning}");
    }
}

/// Polls the import until it ends or stops to wait for an admin.
async fn wait(api: &Api, mut import: Import) -> Result<Import, Failure> {
    let mut progress = Progress::new();
    let path = format!("/imports/{}", import.id);
    while !import.finished && import.status != "needs_approval" {
        progress.show(&import);
        tokio::time::sleep(POLL_EVERY).await;
        import = api.get(&path, &[]).await?;
    }
    progress.show(&import);
    progress.finish();
    Ok(import)
}

/// The summary of an ended import; row numbers of failed rows are the
/// file's (the API numbers the rows it was sent from 2).
async fn report(api: &Api, import: &Import, file_rows: &[u32]) -> Result<Done, Failure> {
    if import.status == "needs_approval" {
        println!(
            "Import {} waits for approval: the sync would remove {}. An admin approves or discards it at {}/admin/imports/{}.",
            import.id,
            count(import.leaving, "person", "people"),
            api.base(),
            import.id
        );
        return Ok(Done::Partly);
    }
    println!(
        "Import {} {}: {} succeeded, {} skipped, {} failed.",
        import.id,
        import.status.replace('_', " "),
        import.succeeded,
        import.skipped,
        import.failed
    );
    if !import.summary.is_empty() {
        println!("{}", import.summary);
    }
    if let Some(error) = &import.error {
        println!("Error: {error}");
    }
    if import.failed > 0 {
        let failed: Page<ImportRow> = api
            .get(
                &format!("/imports/{}/rows", import.id),
                &[("status", "error".to_owned())],
            )
            .await?;
        for row in failed.items.iter().take(FAILED_SHOWN) {
            let file_row = usize::try_from(row.row - 2)
                .ok()
                .and_then(|index| file_rows.get(index))
                .map_or(row.row, |&number| i64::from(number));
            // A row whose address is not one has no "who".
            let who = if row.who.is_empty() {
                String::new()
            } else {
                format!("{}: ", row.who)
            };
            println!(
                "  row {file_row}: {who}{}",
                row.message.as_deref().unwrap_or("failed")
            );
        }
        if failed.total > FAILED_SHOWN as i64 {
            println!("  ... and {} more", failed.total - FAILED_SHOWN as i64);
        }
        println!(
            "The failed rows, to fix and import again: muster imports failed {} -o failed.csv",
            import.id
        );
    }
    Ok(if import.all_succeeded() {
        Done::All
    } else {
        Done::Partly
    })
}
