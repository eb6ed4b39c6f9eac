//! Sync imports: "this file is the whole group" (for a People file, which
//! names no group: "this file is everyone", so every group). People the
//! file does not name leave its groups (group memberships ended, pending invitations
//! cancelled; no account is deleted). The dry run and the stored import
//! count who would leave; the mass-change guard holds a sync that removes
//! more than the organization's share of a group until an admin approves
//! it; the worker applies the removals once every row has run.

use sqlx::AnyConnection;

use super::{SyncGroup, SyncPreview};
use crate::{
    auth,
    db::{Db, Tx},
    error::AppError,
    groups, invitations,
};

/// How many of those leaving a preview names.
const LEAVING_SHOWN: i64 = 50;

/// The organization's groups among `names` (matched as group names are),
/// with their names as written.
pub(super) async fn groups_named(
    conn: &mut AnyConnection,
    organization_id: i64,
    names: impl IntoIterator<Item = String>,
) -> Result<Vec<(i64, String)>, AppError> {
    let all: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, name FROM learning_groups WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_all(&mut *conn)
            .await?;
    let wanted: std::collections::HashSet<String> = names
        .into_iter()
        .map(|name| groups::store::name_key(&name))
        .collect();
    let mut found: Vec<(i64, String)> = all
        .into_iter()
        .filter(|(_, name)| wanted.contains(&groups::store::name_key(name)))
        .collect();
    found.sort();
    Ok(found)
}

/// Every group of the organization: a People file is everyone.
pub(super) async fn every_group(
    conn: &mut AnyConnection,
    organization_id: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM learning_groups WHERE organization_id = $1 ORDER BY id",
    )
    .bind(organization_id)
    .fetch_all(conn)
    .await?)
}

/// The group an import targets, with its name.
pub(super) async fn group(
    conn: &mut AnyConnection,
    organization_id: i64,
    group_id: i64,
) -> Result<Vec<(i64, String)>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, name FROM learning_groups WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(group_id)
    .fetch_all(conn)
    .await?)
}

/// Who a sync with a file naming `emails` would remove from `groups`.
pub(super) async fn preview(
    conn: &mut AnyConnection,
    db: &Db,
    organization_id: i64,
    groups: &[(i64, String)],
    emails: &[String],
) -> Result<SyncPreview, AppError> {
    let threshold_percent = auth::store::sync_guard_percent(&mut *conn, organization_id).await?;
    let mut previews = Vec::new();
    for (group_id, group_name) in groups {
        let size = groups::store::size(&mut *conn, *group_id).await?;
        let (members_leaving, mut leaving) =
            groups::store::absent(&mut *conn, db, *group_id, emails, LEAVING_SHOWN).await?;
        let (invitations_cancelled, invited) =
            invitations::store::absent(&mut *conn, db, *group_id, emails, LEAVING_SHOWN).await?;
        leaving.extend(invited);
        leaving.sort();
        leaving.truncate(LEAVING_SHOWN as usize);
        previews.push(SyncGroup {
            group_id: *group_id,
            group_name: group_name.clone(),
            size,
            members_leaving,
            invitations_cancelled,
            leaving,
        });
    }
    Ok(SyncPreview {
        groups: previews,
        threshold_percent,
    })
}

/// Removes from `groups` the people the file (`emails`) does not name; how many.
pub(super) async fn apply(
    tx: &mut Tx,
    db: &Db,
    groups: &[(i64, String)],
    emails: &[String],
) -> Result<u64, AppError> {
    let mut removed = 0;
    for (group_id, _) in groups {
        removed += groups::store::end_absent(tx, db, *group_id, emails).await?;
        removed += invitations::store::cancel_absent(&mut **tx, db, *group_id, emails).await?;
    }
    Ok(removed)
}
