//! Accounts the Learners and People executors make for the rows they run,
//! and the organization's record (membership) of each person. An import
//! owns only what it creates: an address whose account someone else
//! controls gets a record that waits for the person's consent.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::Job;
use crate::{
    activation,
    auth::{
        self,
        store::{self as accounts, ImportedMembership},
        Role,
    },
    db::Tx,
    error::AppError,
    imports::{
        store::{self, PendingRow, IN_CHUNK},
        ImportEffect,
    },
    state::now,
};

/// How an import may treat the account of a row's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// Created by this import now.
    Created,
    /// The organization holds a record of the person already.
    Member,
    /// An account nobody has claimed: never had a password, and no other
    /// organization holds an active record of it (an invitation nobody
    /// accepted, say). The organization may treat it as its own.
    Unclaimed,
    /// Someone's account: it has a password, or another organization holds
    /// an active record of it. The organization's record is pending until
    /// the person accepts it, and no password link is ever sent for it.
    Foreign,
}

impl Standing {
    /// Whether the organization may send the account a set-your-password link.
    pub(super) fn owned(self) -> bool {
        matches!(self, Standing::Created | Standing::Unclaimed)
    }

    /// Whether the row adds a person the organization did not know: the
    /// rows' messages say the same for all of these, so an import's report
    /// never tells an admin who has an account elsewhere.
    pub(super) fn is_new_here(self) -> bool {
        self != Standing::Member
    }
}

/// Users by normalized email, creating the missing ones without a
/// password. Returns email → (user id, standing).
pub(super) async fn ensure_users(
    conn: &mut AnyConnection,
    organization_id: i64,
    rows: &[&PendingRow],
) -> Result<HashMap<String, (i64, Standing)>, AppError> {
    let now = now();
    let mut users: HashMap<String, (i64, Standing)> = HashMap::new();
    for chunk in rows.chunks(IN_CHUNK / 2) {
        let wanted: Vec<&str> = chunk
            .iter()
            .filter_map(|row| row.email.as_deref())
            .collect();
        for user in accounts::insert_provisioned_bulk(&mut *conn, &wanted, now).await? {
            users.insert(user.email, (user.id, Standing::Created));
        }
        let missing: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|email| !users.contains_key(*email))
            .collect();
        for account in accounts::accounts_by_emails(&mut *conn, organization_id, &missing).await? {
            let standing = match (account.here.is_some(), account.unclaimed != 0) {
                (true, _) => Standing::Member,
                (false, true) => Standing::Unclaimed,
                (false, false) => Standing::Foreign,
            };
            users.insert(account.email, (account.id, standing));
        }
    }
    Ok(users)
}

/// The organization's records of the rows' people who have none yet, with
/// the names the file gives; pending for accounts the organization does not
/// own. Each record made is recorded as the import's effect, for its undo.
pub(super) async fn add_memberships(
    conn: &mut AnyConnection,
    import_id: i64,
    organization_id: i64,
    rows: &[&PendingRow],
    users: &HashMap<String, (i64, Standing)>,
    role_of: impl Fn(&PendingRow) -> Role,
) -> Result<(), AppError> {
    let now = now();
    let members: Vec<ImportedMembership> = rows
        .iter()
        .filter_map(|row| {
            let &(user_id, standing) = users.get(row.email.as_deref()?)?;
            (standing != Standing::Member).then(|| ImportedMembership {
                user_id,
                role: role_of(row),
                first_name: row.first_name.as_deref().unwrap_or_default(),
                last_name: row.last_name.as_deref().unwrap_or_default(),
                external_id: row.external_id.as_deref(),
                pending: standing == Standing::Foreign,
            })
        })
        .collect();
    for chunk in members.chunks(IN_CHUNK / 4) {
        let created =
            accounts::insert_memberships_bulk(&mut *conn, organization_id, chunk, now).await?;
        store::record_effects(conn, import_id, ImportEffect::Membership, &created).await?;
    }
    Ok(())
}

/// The email a person the import added gets: a set-your-password link for
/// an account the organization owns, else a notice that they were added,
/// to accept or decline (never a password link for someone else's account).
pub(super) async fn tell_new_person(
    tx: &mut Tx,
    job: &Job,
    standing: Standing,
    user_id: i64,
    email: &str,
    sender: &str,
) -> Result<(), AppError> {
    if standing.owned() {
        activation::service::queue_activation(
            tx,
            job.organization_id,
            user_id,
            email,
            sender,
            now(),
        )
        .await
    } else {
        auth::service::queue_added_notice(tx, job.organization_id, email, sender).await
    }
}
