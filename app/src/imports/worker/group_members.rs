//! Group members: each row names the groups its person is invited to, by
//! name; the invitations themselves are made as for Invites.

use super::{
    invites::{self, expires_at, Groups, Requests, Wanted},
    Job, Outcome, Outcomes,
};
use crate::{
    db::{Db, Tx},
    error::AppError,
    imports::{store::ImportRowRecord, ImportRowStatus},
    state::{now, Settings},
};

pub(super) async fn run(
    db: &Db,
    tx: &mut Tx,
    settings: &Settings,
    job: &Job,
    rows: &[ImportRowRecord],
) -> Result<Outcomes, AppError> {
    let now = now();
    let groups = Groups::load(tx, job.organization_id).await?;
    let mut outcomes = Outcomes::new();
    let mut wanted: Vec<Wanted> = Vec::new();
    for row in rows {
        let Some(email) = row.email.as_deref() else {
            outcomes.insert(
                row.position,
                Outcome::new(ImportRowStatus::Error, "No email address."),
            );
            continue;
        };
        let mut targets = Vec::new();
        for name in row.groups.as_deref().unwrap_or_default().lines() {
            match groups.id_of(name) {
                Some(id) => targets.push(id),
                None => {
                    outcomes.insert(
                        row.position,
                        Outcome::new(
                            ImportRowStatus::Error,
                            format!("Group \"{name}\" no longer exists."),
                        ),
                    );
                }
            }
        }
        if outcomes.contains_key(&row.position) {
            continue;
        }
        for group_id in targets {
            wanted.push(Wanted {
                position: row.position,
                group_id,
                email,
                expires_at: expires_at(job, row, now),
            });
        }
    }
    let requests = Requests {
        groups,
        wanted,
        outcomes,
        now,
    };
    let emailed = if job.send_emails {
        ""
    } else {
        " (no email sent)"
    };
    invites::invite(db, tx, settings, job, rows, requests, |groups| {
        format!("Invited to {}{emailed}.", groups.join(", "))
    })
    .await
}
