//! Accounts the Learners and People executors make for the rows they run:
//! provisioned users by email, and their membership of the organization.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::{
    auth::{
        store::{self as accounts, ProvisionedByEmail},
        Role,
    },
    error::AppError,
    imports::store::{ImportRowRecord, IN_CHUNK},
    state::now,
};

/// Users by normalized email, creating the missing ones as provisioned.
/// Returns email → (user id, created now).
pub(super) async fn ensure_users(
    conn: &mut AnyConnection,
    rows: &[&ImportRowRecord],
) -> Result<HashMap<String, (i64, bool)>, AppError> {
    let now = now();
    let mut users: HashMap<String, (i64, bool)> = HashMap::new();
    for chunk in rows.chunks(IN_CHUNK / 2) {
        let wanted: Vec<ProvisionedByEmail> = chunk
            .iter()
            .filter_map(|row| {
                Some(ProvisionedByEmail {
                    email: row.email.as_deref()?,
                    first_name: row.first_name.as_deref().unwrap_or_default(),
                    last_name: row.last_name.as_deref().unwrap_or_default(),
                    external_id: row.external_id.as_deref(),
                })
            })
            .collect();
        for user in accounts::insert_provisioned_bulk(&mut *conn, &wanted, now).await? {
            users.insert(user.email, (user.id, true));
        }
        let missing: Vec<&str> = wanted
            .iter()
            .map(|user| user.email)
            .filter(|email| !users.contains_key(*email))
            .collect();
        for user in accounts::users_by_emails(&mut *conn, &missing).await? {
            users.insert(user.email, (user.id, false));
        }
    }
    Ok(users)
}

pub(super) async fn add_memberships(
    conn: &mut AnyConnection,
    organization_id: i64,
    user_roles: &[(i64, Role)],
) -> Result<(), AppError> {
    let now = now();
    for chunk in user_roles.chunks(IN_CHUNK) {
        accounts::insert_memberships_bulk(&mut *conn, organization_id, chunk, now).await?;
    }
    Ok(())
}
