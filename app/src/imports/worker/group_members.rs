//! Group members: each row names the groups its person is invited to, by
//! name; the invitations themselves are made as for Invites.

use super::{
    invites::{self, Groups, Requests},
    Job, Outcome, Outcomes,
};
use crate::{
    db::{Db, Tx},
    error::AppError,
    imports::{store::PendingRow, ImportRowStatus},
};

pub(super) async fn run(
    db: &Db,
    tx: &mut Tx,
    job: &Job,
    rows: &[PendingRow],
) -> Result<Outcomes, AppError> {
    let groups = Groups::load(tx, job.organization_id).await?;
    let requests = Requests::new(job, rows, groups, |groups, row| {
        let names = row.groups.as_deref().unwrap_or_default().lines();
        let mut ids = Vec::new();
        let mut gone = None;
        for name in names {
            match groups.id_of(name) {
                Some(id) => ids.push(id),
                // The last missing group is the one the row's message names.
                None => gone = Some(name),
            }
        }
        match gone {
            None => Ok(ids),
            Some(name) => Err(Outcome::new(
                ImportRowStatus::Error,
                format!("Group \"{name}\" no longer exists."),
            )),
        }
    });
    let emailed = if job.send_emails {
        ""
    } else {
        " (no email sent)"
    };
    invites::invite(db, tx, job, rows, requests, |groups| {
        format!("Invited to {}{emailed}.", groups.join(", "))
    })
    .await
}
