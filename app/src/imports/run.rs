//! The import worker: claims an import with a lease, runs its rows in batches
//! (one transaction each, checkpoint included) and finishes it with an email.
//!
//! A batch's effects and its checkpoint commit together, so a crash loses at
//! most the batch in flight, which the next claim redoes from the checkpoint.
//! Unique constraints with `ON CONFLICT DO NOTHING` make any replay harmless.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use muster_core::ImportKind;
use sqlx::AnyConnection;

use crate::db::{Bind, Bulk};

use super::server::{placeholders, IN_CHUNK};
use crate::{
    links::server::{new_token, token_hash},
    db::{Backend, Db},
    error::AppError,
    mail::{self, templates},
    state::{now, AppState, Settings, Shutdown},
};

const DAY: i64 = 86_400;
/// Rows per bulk insert that travels as one JSON parameter.
const BULK_CHUNK: usize = 5_000;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Rows per transaction.
    pub batch_size: i64,
    /// How long a claim lasts without a finished batch before another worker may take over.
    pub lease_secs: i64,
    /// How often an idle worker looks for imports (other processes do not wake it).
    pub poll_interval: Duration,
    pub worker_id: String,
    /// Workers this process runs (0: none, for a web-only process).
    pub workers: usize,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            batch_size: 1_000,
            lease_secs: 30,
            poll_interval: Duration::from_secs(2),
            worker_id: format!("import-{}-{}", std::process::id(), &new_token()[..8]),
            workers: 1,
        }
    }
}

static WAKE: std::sync::OnceLock<tokio::sync::Notify> = std::sync::OnceLock::new();

fn wakeup() -> &'static tokio::sync::Notify {
    WAKE.get_or_init(tokio::sync::Notify::new)
}

/// Wakes this process's import worker: call after committing a queued import.
pub fn wake_worker() {
    wakeup().notify_one();
}

/// Runs batches until `shutdown` is requested. A batch in flight is
/// finished first (it is one transaction), so stopping never leaves half a
/// batch; the lease then runs out or is taken over on restart.
pub async fn run_worker(state: AppState, config: WorkerConfig, mut shutdown: Shutdown) {
    while !shutdown.is_requested() {
        let pause = match run_batch(&state.db, &state.settings, &config).await {
            Ok(true) => continue,
            Ok(false) => config.poll_interval,
            Err(error) => {
                tracing::error!(?error, "import batch failed; retrying");
                config.poll_interval
            }
        };
        tokio::select! {
            _ = tokio::time::timeout(pause, wakeup().notified()) => {}
            _ = shutdown.requested() => {}
        }
    }
}

/// Claims an import this worker may run: queued, already ours, or abandoned
/// (its lease ran out). Returns its id.
async fn claim(db: &Db, config: &WorkerConfig) -> Result<Option<i64>, AppError> {
    let now = now();
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // The condition is repeated outside the subquery so that on PostgreSQL a
    // worker that waited for a row lock re-checks it against the new row.
    let sql = format!(
        "UPDATE imports SET status = 'running', lease_owner = $1, locked_until = $2,
                            started_at = COALESCE(started_at, $3)
         WHERE id = (SELECT id FROM imports
                     WHERE status = 'queued' OR (status = 'running' AND (locked_until < $3 OR lease_owner = $1))
                     ORDER BY id LIMIT 1 {lock})
           AND (status = 'queued' OR (status = 'running' AND (locked_until < $3 OR lease_owner = $1)))
         RETURNING id"
    );
    let claimed: Option<(i64,)> = sqlx::query_as(&sql)
        .bind(&config.worker_id)
        .bind(now + config.lease_secs)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    Ok(claimed.map(|(id,)| id))
}

/// The import as the worker needs it.
struct Job {
    id: i64,
    organization_id: i64,
    organization: String,
    created_by: i64,
    kind: ImportKind,
    group_id: Option<i64>,
    contract_id: Option<i64>,
    send_emails: bool,
    auto_invite: bool,
    expiry_days: i64,
    checkpoint: i64,
    cancel_requested: bool,
}

#[derive(Debug, Clone)]
struct Row {
    position: i64,
    email: Option<String>,
    username: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    external_id: Option<String>,
    role: Option<String>,
    expiry_days: Option<i64>,
    groups: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Success,
    Skipped,
    Error,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Success => "success",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

#[derive(Debug, Clone)]
struct Outcome {
    status: Status,
    message: String,
}

impl Outcome {
    fn new(status: Status, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            message: message.into(),
        }
    }
}

/// Runs one batch of one import. Returns whether there was anything to do.
pub async fn run_batch(
    db: &Db,
    settings: &Settings,
    config: &WorkerConfig,
) -> Result<bool, AppError> {
    let Some(import_id) = claim(db, config).await? else {
        return Ok(false);
    };
    match process(db, settings, config, import_id).await {
        Ok(()) => Ok(true),
        Err(error) => {
            record_failure(db, settings, config, import_id).await?;
            Err(error)
        }
    }
}

/// Consecutive failed batches after which an import is marked failed.
const MAX_FAILURES: i64 = 5;

/// A batch failed (its transaction rolled back): count it, wait a little before
/// the next attempt, and after [`MAX_FAILURES`] in a row end the import as failed.
async fn record_failure(
    db: &Db,
    settings: &Settings,
    config: &WorkerConfig,
    import_id: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let failures: Option<(i64,)> = sqlx::query_as(
        "UPDATE imports SET failures = failures + 1
         WHERE id = $1 AND lease_owner = $2 AND status = 'running' RETURNING failures",
    )
    .bind(import_id)
    .bind(&config.worker_id)
    .fetch_optional(&mut *tx)
    .await?;
    tracing::error!(import_id, failures = ?failures.map(|(n,)| n), "import batch failed");
    if failures.is_some_and(|(n,)| n >= MAX_FAILURES) {
        if let Some(job) = load_job(&mut tx, config, import_id).await? {
            sqlx::query("UPDATE imports SET error = $2 WHERE id = $1")
                .bind(import_id)
                .bind(
                    "The import stopped after repeated errors on our side. Rows marked success \
                     were imported; fix and retry the rest.",
                )
                .execute(&mut *tx)
                .await?;
            finish(&mut tx, settings, &job, "failed").await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Renews this worker's lease and reads the import. Renewing is a write, so it
/// fails if another worker has taken the import over, and it serializes the
/// batches of one import. None: the lease is gone.
async fn load_job(
    tx: &mut crate::db::Tx,
    config: &WorkerConfig,
    import_id: i64,
) -> Result<Option<Job>, AppError> {
    type JobRow = (
        i64,
        i64,
        i64,
        String,
        Option<i64>,
        Option<i64>,
        i64,
        i64,
        i64,
        i64,
        i64,
    );
    let job: Option<JobRow> = sqlx::query_as(
        "UPDATE imports SET locked_until = $3
         WHERE id = $1 AND lease_owner = $2 AND status = 'running'
         RETURNING id, organization_id, created_by, kind, group_id, contract_id, send_emails,
                   auto_invite, expiry_days, checkpoint, cancel_requested",
    )
    .bind(import_id)
    .bind(&config.worker_id)
    .bind(now() + config.lease_secs)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((
        id,
        organization_id,
        created_by,
        kind,
        group_id,
        contract_id,
        send_emails,
        auto_invite,
        expiry_days,
        checkpoint,
        cancel_requested,
    )) = job
    else {
        return Ok(None);
    };
    let (organization,): (String,) = sqlx::query_as("SELECT name FROM organizations WHERE id = $1")
        .bind(organization_id)
        .fetch_one(&mut **tx)
        .await?;
    Ok(Some(Job {
        id,
        organization_id,
        organization,
        created_by,
        kind: kind.parse().map_err(|_| {
            tracing::error!(import_id, kind, "import of an unknown kind");
            AppError::Internal
        })?,
        group_id,
        contract_id,
        send_emails: send_emails != 0,
        auto_invite: auto_invite != 0,
        expiry_days,
        checkpoint,
        cancel_requested: cancel_requested != 0,
    }))
}

/// One batch of a claimed import, in one transaction.
async fn process(
    db: &Db,
    settings: &Settings,
    config: &WorkerConfig,
    import_id: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let Some(job) = load_job(&mut tx, config, import_id).await? else {
        return Ok(());
    };
    if job.cancel_requested {
        finish(&mut tx, settings, &job, "cancelled").await?;
        tx.commit().await?;
        return Ok(());
    }
    type StoredRow = (
        i64,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<i64>,
        Option<String>,
    );
    let stored: Vec<StoredRow> = sqlx::query_as(
        "SELECT position, email, username, first_name, last_name, external_id, role, expiry_days,
                groups
         FROM import_rows WHERE import_id = $1 AND position >= $2 AND status = 'pending'
         ORDER BY position LIMIT $3",
    )
    .bind(job.id)
    .bind(job.checkpoint)
    .bind(config.batch_size)
    .fetch_all(&mut *tx)
    .await?;
    if stored.is_empty() {
        if job.kind == ImportKind::People {
            link_people(&mut tx, settings, &job).await?;
        }
        let (failed,): (i64,) = sqlx::query_as("SELECT failed FROM imports WHERE id = $1")
            .bind(job.id)
            .fetch_one(&mut *tx)
            .await?;
        let status = if failed > 0 {
            "completed_with_errors"
        } else {
            "completed"
        };
        finish(&mut tx, settings, &job, status).await?;
        tx.commit().await?;
        return Ok(());
    }
    let rows: Vec<Row> = stored
        .into_iter()
        .map(
            |(
                position,
                email,
                username,
                first_name,
                last_name,
                external_id,
                role,
                expiry_days,
                groups,
            )| Row {
                position,
                email,
                username,
                first_name,
                last_name,
                external_id,
                role,
                expiry_days,
                groups,
            },
        )
        .collect();
    let outcomes = match job.kind {
        ImportKind::Invites | ImportKind::ProgramInvitations | ImportKind::GroupMembers => {
            invite_rows(db, &mut tx, settings, &job, &rows).await?
        }
        ImportKind::Learners => provision_learners(&mut tx, settings, &job, &rows).await?,
        ImportKind::People => upsert_people(&mut tx, settings, &job, &rows).await?,
    };
    record(&mut tx, &job, &rows, &outcomes).await?;
    tx.commit().await?;
    Ok(())
}

/// Writes each row's outcome and moves the checkpoint past the batch.
async fn record(
    conn: &mut AnyConnection,
    job: &Job,
    rows: &[Row],
    outcomes: &HashMap<i64, Outcome>,
) -> Result<(), AppError> {
    let first = rows.first().map_or(job.checkpoint, |r| r.position);
    let last = rows.last().map_or(job.checkpoint, |r| r.position);
    let mut counts = [0i64; 3];
    let mut notes: Vec<(i64, &'static str, &str)> = Vec::new();
    for row in rows {
        let outcome = outcomes.get(&row.position);
        let status = outcome.map_or(Status::Success, |o| o.status);
        counts[status as usize] += 1;
        // Plain successes are marked in one statement below; only rows with
        // something to say are written one by one.
        if let Some(outcome) =
            outcome.filter(|o| !(o.status == Status::Success && o.message.is_empty()))
        {
            notes.push((row.position, outcome.status.as_str(), &outcome.message));
        }
    }
    for chunk in notes.chunks(IN_CHUNK) {
        let mut update = Bulk::new(
            "UPDATE import_rows SET status = v.column2, message = v.column3 FROM (VALUES ",
        );
        for (position, status, message) in chunk {
            update.row(vec![
                Bind::from(*position),
                Bind::from(*status),
                Bind::from(message.to_string()),
            ]);
        }
        update.push(") AS v WHERE import_rows.import_id = ");
        update.bind(job.id);
        update.push(" AND import_rows.position = v.column1");
        update.query().execute(&mut *conn).await?;
    }
    sqlx::query(
        "UPDATE import_rows SET status = 'success'
         WHERE import_id = $1 AND position >= $2 AND position <= $3 AND status = 'pending'",
    )
    .bind(job.id)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE imports SET checkpoint = $2, succeeded = succeeded + $3, skipped = skipped + $4,
                            failed = failed + $5, failures = 0
         WHERE id = $1",
    )
    .bind(job.id)
    .bind(last + 1)
    .bind(counts[Status::Success as usize])
    .bind(counts[Status::Skipped as usize])
    .bind(counts[Status::Error as usize])
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the import and tells the admin who ran it, in the same transaction.
async fn finish(
    conn: &mut crate::db::Tx,
    settings: &Settings,
    job: &Job,
    status: &str,
) -> Result<(), AppError> {
    type Counts = (i64, i64, i64, i64, String);
    let (total, succeeded, skipped, failed, admin_email): Counts = sqlx::query_as(
        "UPDATE imports SET status = $2, finished_at = $3, lease_owner = NULL, locked_until = NULL
         WHERE id = $1
         RETURNING total_rows, succeeded, skipped, failed,
                   (SELECT email FROM users WHERE id = imports.created_by)",
    )
    .bind(job.id)
    .bind(status)
    .bind(now())
    .fetch_one(&mut **conn)
    .await?;
    let link = format!("{}/admin/imports/{}", settings.base_url, job.id);
    let kind = match status {
        "cancelled" => format!("{} (cancelled)", job.kind.label()),
        _ => job.kind.label().to_owned(),
    };
    let rendered = templates::import_finished(&templates::ImportFinished {
        organization: &job.organization,
        kind: &kind,
        total,
        succeeded,
        skipped,
        failed,
        link: &link,
    });
    mail::server::enqueue(
        conn,
        Some(job.organization_id),
        &mail::server::Email {
            to: admin_email,
            subject: rendered.subject,
            text: rendered.text,
            html: rendered.html,
            kind: "import_finished",
        },
    )
    .await?;
    tracing::info!(
        import_id = job.id,
        status,
        total,
        succeeded,
        skipped,
        failed,
        "import finished"
    );
    Ok(())
}

/// One invitation the batch wants to create.
struct Wanted<'a> {
    position: i64,
    group_id: i64,
    email: &'a str,
    expires_at: i64,
}

/// Invitations for Invites, Program invitations and Group members rows.
async fn invite_rows(
    db: &Db,
    tx: &mut crate::db::Tx,
    settings: &Settings,
    job: &Job,
    rows: &[Row],
) -> Result<HashMap<i64, Outcome>, AppError> {
    let now = now();
    let mut outcomes: HashMap<i64, Outcome> = HashMap::new();
    let groups: HashMap<String, (i64, String)> = {
        let all: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM learning_groups WHERE organization_id = $1")
                .bind(job.organization_id)
                .fetch_all(&mut **tx)
                .await?;
        all.into_iter()
            .map(|(id, name)| (name.trim().to_lowercase(), (id, name)))
            .collect()
    };
    let mut wanted: Vec<Wanted> = Vec::new();
    for row in rows {
        let Some(email) = row.email.as_deref() else {
            outcomes.insert(
                row.position,
                Outcome::new(Status::Error, "No email address."),
            );
            continue;
        };
        let expires_at = now + row.expiry_days.unwrap_or(job.expiry_days) * DAY;
        let targets: Vec<i64> = match job.kind {
            ImportKind::GroupMembers => {
                let mut ids = Vec::new();
                for name in row.groups.as_deref().unwrap_or_default().lines() {
                    match groups.get(&name.trim().to_lowercase()) {
                        Some((id, _)) => ids.push(*id),
                        None => {
                            outcomes.insert(
                                row.position,
                                Outcome::new(
                                    Status::Error,
                                    format!("Group \"{name}\" no longer exists."),
                                ),
                            );
                        }
                    }
                }
                if outcomes.contains_key(&row.position) {
                    continue;
                }
                ids
            }
            _ => job.group_id.into_iter().collect(),
        };
        for group_id in targets {
            wanted.push(Wanted {
                position: row.position,
                group_id,
                email,
                expires_at,
            });
        }
    }
    let group_names: HashMap<i64, &str> = groups
        .values()
        .map(|(id, name)| (*id, name.as_str()))
        .collect();
    // Who is already in each group, and invitations that expired but still say pending.
    let mut members: HashSet<(i64, String)> = HashSet::new();
    let mut by_group: HashMap<i64, Vec<&str>> = HashMap::new();
    for w in &wanted {
        by_group.entry(w.group_id).or_default().push(w.email);
    }
    for (group_id, emails) in &by_group {
        // The batch's emails travel as one JSON parameter, whatever their number.
        let emails = serde_json::to_string(emails).unwrap_or_default();
        let in_emails = db.json_text_set(2);
        let found: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT u.email FROM group_memberships gm JOIN users u ON u.id = gm.user_id
             WHERE gm.group_id = $1 AND gm.status = 'active' AND u.email IN ({in_emails})"
        ))
        .bind(group_id)
        .bind(&emails)
        .fetch_all(&mut **tx)
        .await?;
        for (email,) in found {
            members.insert((*group_id, email));
        }
        let in_emails = db.json_text_set(3);
        sqlx::query(&format!(
            "UPDATE invitations SET status = 'expired'
             WHERE group_id = $1 AND status = 'pending' AND expires_at <= $2 AND email IN ({in_emails})"
        ))
        .bind(group_id)
        .bind(now)
        .bind(&emails)
        .execute(&mut **tx)
        .await?;
    }
    wanted.retain(|w| !members.contains(&(w.group_id, w.email.to_owned())));
    // A program's contract has a fixed number of seats.
    let mut seats_left = match job.contract_id {
        Some(contract_id) => Some(
            super::server::contract_seats(tx, job.organization_id, contract_id)
                .await
                .map(|c| c.seats_left)
                .unwrap_or(0),
        ),
        None => None,
    };
    let mut no_seat: HashSet<i64> = HashSet::new();
    if let Some(left) = seats_left.as_mut() {
        wanted.retain(|w| {
            if *left > 0 {
                *left -= 1;
                true
            } else {
                no_seat.insert(w.position);
                false
            }
        });
    }
    // Tokens exist only in memory and in the emails; the table keeps their hashes.
    let tokens: Vec<String> = wanted.iter().map(|_| new_token()).collect();
    let mut created: HashMap<(i64, String), i64> = HashMap::new();
    use crate::db::JsonColumn::{Int, Text};
    let select = db.select_json_rows(6, &[Int, Text, Text, Int]);
    let insert = format!(
        "INSERT INTO invitations (organization_id, contract_id, import_id, invited_by, created_at,
                                  group_id, email, token_hash, expires_at, status, resend_count)
         SELECT $1, $2, $3, $4, $5, j.*, 'pending', 0 FROM ({select}) AS j
         WHERE true ON CONFLICT DO NOTHING RETURNING id, group_id, email"
    );
    for (chunk, chunk_tokens) in wanted.chunks(BULK_CHUNK).zip(tokens.chunks(BULK_CHUNK)) {
        let json: Vec<serde_json::Value> = chunk
            .iter()
            .zip(chunk_tokens)
            .map(|(w, token)| {
                serde_json::json!([w.group_id, w.email, token_hash(token), w.expires_at])
            })
            .collect();
        let inserted: Vec<(i64, i64, String)> = sqlx::query_as(&insert)
            .bind(job.organization_id)
            .bind(job.contract_id)
            .bind(job.id)
            .bind(job.created_by)
            .bind(now)
            .bind(serde_json::Value::Array(json).to_string())
            .fetch_all(&mut **tx)
            .await?;
        for (id, group_id, email) in inserted {
            created.insert((group_id, email), id);
        }
    }
    if job.send_emails {
        let inviter = inviter_name(tx, job.created_by).await?;
        let mut emails: Vec<(i64, mail::server::Email)> = Vec::new();
        for (w, token) in wanted.iter().zip(&tokens) {
            let Some(&invitation_id) = created.get(&(w.group_id, w.email.to_owned())) else {
                continue;
            };
            let link = format!("{}/invite/{token}", settings.base_url);
            let group = group_names.get(&w.group_id).copied().unwrap_or_default();
            let rendered = templates::invitation(&templates::Invitation {
                organization: &job.organization,
                group,
                inviter: &inviter,
                expires_at: w.expires_at,
                link: &link,
            });
            emails.push((
                invitation_id,
                mail::server::Email {
                    to: w.email.to_owned(),
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    kind: "invitation",
                },
            ));
        }
        enqueue_for_invitations(tx, job.organization_id, &emails).await?;
    }
    // Each row's outcome: any invitation created is a success.
    let mut invited: HashMap<i64, Vec<String>> = HashMap::new();
    let mut already: HashSet<i64> = HashSet::new();
    for w in &wanted {
        if created.contains_key(&(w.group_id, w.email.to_owned())) {
            let group = group_names.get(&w.group_id).copied().unwrap_or_default();
            invited
                .entry(w.position)
                .or_default()
                .push(group.to_owned());
        } else {
            already.insert(w.position);
        }
    }
    for row in rows {
        if outcomes.contains_key(&row.position) {
            continue;
        }
        let outcome = if let Some(groups) = invited.get(&row.position) {
            if job.kind == ImportKind::GroupMembers {
                let emailed = if job.send_emails {
                    ""
                } else {
                    " (no email sent)"
                };
                Outcome::new(
                    Status::Success,
                    format!("Invited to {}{emailed}.", groups.join(", ")),
                )
            } else {
                // One group, as planned: the row's planned action says it all, and
                // not writing a message per row keeps large imports fast.
                Outcome::new(Status::Success, "")
            }
        } else if no_seat.contains(&row.position) {
            Outcome::new(Status::Error, "No seats left on the contract.")
        } else if already.contains(&row.position) {
            Outcome::new(Status::Skipped, "Skipped: already invited.")
        } else {
            Outcome::new(Status::Skipped, "Skipped: already a member.")
        };
        outcomes.insert(row.position, outcome);
    }
    Ok(outcomes)
}

async fn inviter_name(conn: &mut AnyConnection, user_id: i64) -> Result<String, AppError> {
    let (first, last, email): (String, String, Option<String>) =
        sqlx::query_as("SELECT first_name, last_name, email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&mut *conn)
            .await?;
    let name = format!("{first} {last}").trim().to_owned();
    Ok(if name.is_empty() {
        email.unwrap_or_default()
    } else {
        name
    })
}

/// Bulk outbox insert, then each invitation points at its message.
async fn enqueue_for_invitations(
    conn: &mut AnyConnection,
    organization_id: i64,
    emails: &[(i64, mail::server::Email)],
) -> Result<(), AppError> {
    let now = now();
    for chunk in emails.chunks(IN_CHUNK / 2) {
        let mut insert = Bulk::new("INSERT INTO outbox (organization_id, to_email, subject, text_body, html_body, kind, status,
                                 attempts, next_attempt_at, delivered_to_dev_mailbox, created_at) VALUES ");
        for (_, email) in chunk {
            insert.row(vec![
                Bind::from(organization_id),
                Bind::from(email.to.clone()),
                Bind::from(email.subject.clone()),
                Bind::from(email.text.clone()),
                Bind::from(email.html.clone()),
                Bind::from(email.kind),
                Bind::from("queued"),
                Bind::from(0i64),
                Bind::from(now),
                Bind::from(0i64),
                Bind::from(now),
            ]);
        }
        insert.push(" RETURNING id");
        let ids: Vec<(i64,)> = insert.query_as().fetch_all(&mut *conn).await?;
        // Rows come back in insertion order on both backends for a plain VALUES insert.
        let pairs: Vec<(i64, i64)> = chunk
            .iter()
            .zip(ids)
            .map(|((invitation_id, _), (outbox_id,))| (*invitation_id, outbox_id))
            .collect();
        let mut update = Bulk::new("UPDATE invitations SET last_outbox_id = v.column2, last_sent_at = v.column3 FROM (VALUES ");
        for (invitation_id, outbox_id) in &pairs {
            update.row(vec![
                Bind::from(*invitation_id),
                Bind::from(*outbox_id),
                Bind::from(now),
            ]);
        }
        update.push(") AS v WHERE invitations.id = v.column1");
        update.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Users by normalized email, creating the missing ones as provisioned.
/// Returns email → (user id, created now).
async fn ensure_users(
    conn: &mut AnyConnection,
    rows: &[&Row],
) -> Result<HashMap<String, (i64, bool)>, AppError> {
    let now = now();
    let mut users: HashMap<String, (i64, bool)> = HashMap::new();
    for chunk in rows.chunks(IN_CHUNK / 2) {
        let mut insert = Bulk::new("INSERT INTO users (email, first_name, last_name, external_id, status, created_at) VALUES ");
        for row in chunk {
            insert.row(vec![
                Bind::from(row.email.clone()),
                Bind::from(row.first_name.clone().unwrap_or_default()),
                Bind::from(row.last_name.clone().unwrap_or_default()),
                Bind::from(row.external_id.clone()),
                Bind::from("provisioned"),
                Bind::from(now),
            ]);
        }
        insert.push(" ON CONFLICT DO NOTHING RETURNING id, email");
        let created: Vec<(i64, String)> = insert.query_as().fetch_all(&mut *conn).await?;
        for (id, email) in created {
            users.insert(email, (id, true));
        }
        let missing: Vec<&str> = chunk
            .iter()
            .filter_map(|r| r.email.as_deref())
            .filter(|e| !users.contains_key(*e))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id, email FROM users WHERE email IN ({})",
            placeholders(1, missing.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for email in &missing {
            query = query.bind(*email);
        }
        for (id, email) in query.fetch_all(&mut *conn).await? {
            users.insert(email, (id, false));
        }
    }
    Ok(users)
}

async fn add_memberships(
    conn: &mut AnyConnection,
    organization_id: i64,
    user_roles: &[(i64, &str)],
) -> Result<(), AppError> {
    let now = now();
    for chunk in user_roles.chunks(IN_CHUNK) {
        let mut insert = Bulk::new(
            "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ",
        );
        for (user_id, role) in chunk {
            insert.row(vec![
                Bind::from(organization_id),
                Bind::from(*user_id),
                Bind::from(role.to_string()),
                Bind::from(now),
            ]);
        }
        insert.push(" ON CONFLICT DO NOTHING");
        insert.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Learners: accounts for new emails, membership in the group and its trainings.
async fn provision_learners(
    tx: &mut crate::db::Tx,
    settings: &Settings,
    job: &Job,
    rows: &[Row],
) -> Result<HashMap<i64, Outcome>, AppError> {
    let now = now();
    let group_id = job.group_id.ok_or_else(|| {
        tracing::error!(import_id = job.id, "learners import without a group");
        AppError::Internal
    })?;
    let mut outcomes = HashMap::new();
    let with_email: Vec<&Row> = rows.iter().filter(|r| r.email.is_some()).collect();
    for row in rows.iter().filter(|r| r.email.is_none()) {
        outcomes.insert(
            row.position,
            Outcome::new(Status::Error, "No email address."),
        );
    }
    let users = ensure_users(tx, &with_email).await?;
    let roles: Vec<(i64, &str)> = users.values().map(|(id, _)| (*id, "learner")).collect();
    add_memberships(tx, job.organization_id, &roles).await?;
    let mut joined: HashSet<i64> = HashSet::new();
    let ids: Vec<i64> = users.values().map(|(id, _)| *id).collect();
    for chunk in ids.chunks(IN_CHUNK) {
        let mut insert = Bulk::new(
            "INSERT INTO group_memberships (group_id, user_id, status, created_at) VALUES ",
        );
        for user_id in chunk {
            insert.row(vec![
                Bind::from(group_id),
                Bind::from(*user_id),
                Bind::from("active"),
                Bind::from(now),
            ]);
        }
        insert.push(" ON CONFLICT DO NOTHING RETURNING user_id");
        let inserted: Vec<(i64,)> = insert.query_as().fetch_all(&mut **tx).await?;
        joined.extend(inserted.into_iter().map(|(id,)| id));
        let sql = format!(
            "INSERT INTO training_assignments (user_id, training_id, group_id, assigned_at)
             SELECT u.id, t.id, t.group_id, $2 FROM trainings t, users u
             WHERE t.group_id = $1 AND u.id IN ({})
             ON CONFLICT DO NOTHING",
            placeholders(3, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(group_id).bind(now);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    let sender = inviter_name(tx, job.created_by).await?;
    for row in with_email {
        let email = row.email.as_deref().unwrap_or_default();
        let Some(&(user_id, created)) = users.get(email) else {
            outcomes.insert(
                row.position,
                Outcome::new(Status::Error, "The account could not be created."),
            );
            continue;
        };
        let outcome = match (created, joined.contains(&user_id)) {
            (true, _) => {
                if job.send_emails {
                    crate::activation::server::queue_activation(
                        tx,
                        settings,
                        job.organization_id,
                        user_id,
                        email,
                        &sender,
                        now,
                    )
                    .await?;
                    Outcome::new(
                        Status::Success,
                        "Account created and added to the group; set-your-password email sent.",
                    )
                } else {
                    Outcome::new(Status::Success, "Account created and added to the group.")
                }
            }
            (false, true) => Outcome::new(Status::Success, "Added to the group."),
            (false, false) => Outcome::new(Status::Skipped, "Skipped: already a member."),
        };
        outcomes.insert(row.position, outcome);
    }
    Ok(outcomes)
}

fn membership_role(role: Option<&str>) -> &'static str {
    match role {
        Some("instructor") => "instructor",
        Some("parent") => "parent",
        _ => "learner",
    }
}

/// People: add new people, update names and external ids of existing ones.
async fn upsert_people(
    tx: &mut crate::db::Tx,
    settings: &Settings,
    job: &Job,
    rows: &[Row],
) -> Result<HashMap<i64, Outcome>, AppError> {
    let now = now();
    let mut outcomes = HashMap::new();
    let with_email: Vec<&Row> = rows.iter().filter(|r| r.email.is_some()).collect();
    let users = ensure_users(tx, &with_email).await?;
    // Memberships first: the activation email is only for members of the organization.
    let roles: Vec<(i64, &str)> = with_email
        .iter()
        .filter_map(|row| {
            let (user_id, _) = users.get(row.email.as_deref()?)?;
            Some((*user_id, membership_role(row.role.as_deref())))
        })
        .collect();
    add_memberships(tx, job.organization_id, &roles).await?;
    let sender = inviter_name(tx, job.created_by).await?;
    for row in &with_email {
        let email = row.email.as_deref().unwrap_or_default();
        let Some(&(user_id, created)) = users.get(email) else {
            continue;
        };
        if created {
            if job.auto_invite {
                crate::activation::server::queue_activation(
                    tx,
                    settings,
                    job.organization_id,
                    user_id,
                    email,
                    &sender,
                    now,
                )
                .await?;
            }
            outcomes.insert(row.position, Outcome::new(Status::Success, "Added."));
        } else {
            // Only what the file gives is changed; blank cells keep what is there.
            let changed = sqlx::query(
                "UPDATE users SET first_name = COALESCE($2, first_name), last_name = COALESCE($3, last_name),
                                  external_id = COALESCE($4, external_id)
                 WHERE id = $1
                   AND (first_name <> COALESCE($2, first_name) OR last_name <> COALESCE($3, last_name)
                        OR COALESCE(external_id, '') <> COALESCE($4, external_id, ''))",
            )
            .bind(user_id)
            .bind(row.first_name.clone())
            .bind(row.last_name.clone())
            .bind(row.external_id.clone())
            .execute(&mut **tx)
            .await?;
            outcomes.insert(
                row.position,
                if changed.rows_affected() > 0 {
                    Outcome::new(Status::Success, "Updated.")
                } else {
                    Outcome::new(Status::Skipped, "Skipped: nothing changed.")
                },
            );
        }
    }
    // Username-only students: no email; their parents receive the activation.
    for row in rows.iter().filter(|r| r.email.is_none()) {
        let Some(username) = row.username.as_deref() else {
            outcomes.insert(
                row.position,
                Outcome::new(Status::Error, "No email address or username."),
            );
            continue;
        };
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO users (username, first_name, last_name, external_id, status, created_at)
             VALUES ($1, $2, $3, $4, 'provisioned', $5) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(username)
        .bind(row.first_name.clone().unwrap_or_default())
        .bind(row.last_name.clone().unwrap_or_default())
        .bind(row.external_id.clone())
        .bind(now)
        .fetch_optional(&mut **tx)
        .await?;
        let (user_id, created) = match inserted {
            Some((id,)) => (id, true),
            None => {
                let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_one(&mut **tx)
                    .await?;
                (id, false)
            }
        };
        add_memberships(tx, job.organization_id, &[(user_id, "learner")]).await?;
        outcomes.insert(
            row.position,
            Outcome::new(
                if created {
                    Status::Success
                } else {
                    Status::Skipped
                },
                if created {
                    "Added."
                } else {
                    "Skipped: already exists."
                },
            ),
        );
    }
    Ok(outcomes)
}

/// People imports link students with parents and instructors once every row of
/// the import exists; username-only students' activation goes to their parents.
async fn link_people(
    tx: &mut crate::db::Tx,
    settings: &Settings,
    job: &Job,
) -> Result<(), AppError> {
    let now = now();
    type LinkRow = (Option<String>, Option<String>, String);
    let rows: Vec<LinkRow> = sqlx::query_as(
        "SELECT email, username, links FROM import_rows
         WHERE import_id = $1 AND links IS NOT NULL AND status IN ('success', 'skipped')",
    )
    .bind(job.id)
    .fetch_all(&mut **tx)
    .await?;
    let sender = inviter_name(tx, job.created_by).await?;
    for (email, username, links) in rows {
        let links: Vec<muster_core::plan::PlannedLink> =
            serde_json::from_str(&links).unwrap_or_default();
        let me: Option<(i64, String)> = match (&email, &username) {
            (Some(email), _) => {
                sqlx::query_as("SELECT id, status FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            (None, Some(username)) => {
                sqlx::query_as("SELECT id, status FROM users WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&mut **tx)
                    .await?
            }
            _ => None,
        };
        let Some((me, my_status)) = me else { continue };
        for link in links {
            let other: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
                .bind(link.email.to_lowercase())
                .fetch_optional(&mut **tx)
                .await?;
            let Some((other,)) = other else { continue };
            // The link's role is the other person's: a student row names parents
            // and instructors; a parent or instructor row names students.
            let (student, related, relation) = match link.role {
                muster_core::Role::Parent => (me, other, "parent"),
                muster_core::Role::Instructor => (me, other, "instructor"),
                muster_core::Role::Student => (other, me, "parent"),
            };
            let inserted = sqlx::query(
                "INSERT INTO associations (organization_id, student_id, related_id, relation, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(job.organization_id)
            .bind(student)
            .bind(related)
            .bind(relation)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            if inserted.rows_affected() > 0
                && email.is_none()
                && job.auto_invite
                && link.role == muster_core::Role::Parent
                && my_status == "provisioned"
            {
                crate::activation::server::queue_activation(
                    tx,
                    settings,
                    job.organization_id,
                    me,
                    &link.email.to_lowercase(),
                    &sender,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(())
}
