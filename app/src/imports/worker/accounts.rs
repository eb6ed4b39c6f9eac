//! Accounts the Learners and People executors make for the rows they run:
//! provisioned users by email, and their membership of the organization.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::{
    db::{Bind, Bulk},
    error::AppError,
    imports::store::{placeholders, ImportRowRecord, IN_CHUNK},
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

pub(super) async fn add_memberships(
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
