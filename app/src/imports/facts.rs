//! What the planner needs to know about the database for one import: its
//! target group and contract (checked to be the caller's), the people its
//! rows name, and the group's members and pending invitations.

use std::collections::{HashMap, HashSet};

use muster_core::{
    plan::{ExistingUser, UserStatus},
    Checked, Facts, ImportKind,
};
use sqlx::AnyConnection;

use super::{
    store::{placeholders, IN_CHUNK},
    ImportOptions,
};
use crate::{error::AppError, state::now};

/// The group and contract an import targets, checked to belong to the caller's organization.
pub(super) struct Target {
    pub(super) group_id: Option<i64>,
    pub(super) contract: Option<ContractSeats>,
    pub(super) expiry_days: i64,
}

pub(crate) struct ContractSeats {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) seats_left: i64,
}

pub(super) async fn target(
    conn: &mut AnyConnection,
    organization_id: i64,
    options: &ImportOptions,
) -> Result<Target, AppError> {
    let mut expiry_days = 30;
    let group_id = if ImportOptions::needs_group(options.kind) {
        let group_id = options
            .group_id
            .ok_or_else(|| AppError::invalid("Group", "choose the group these people join."))?;
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT default_expiry_days FROM learning_groups WHERE organization_id = $1 AND id = $2",
        )
        .bind(organization_id)
        .bind(group_id)
        .fetch_optional(&mut *conn)
        .await?;
        expiry_days = row
            .ok_or_else(|| AppError::invalid("Group", "that group does not exist."))?
            .0;
        Some(group_id)
    } else {
        None
    };
    if let Some(days) = options.expiry_days {
        if !(1..=365).contains(&days) {
            return Err(AppError::invalid(
                "Expiry days",
                "enter a whole number of days from 1 to 365.",
            ));
        }
        expiry_days = days;
    }
    let contract = match (options.kind, options.contract_id) {
        (ImportKind::ProgramInvitations, None) => {
            return Err(AppError::invalid(
                "Contract",
                "choose the contract these invitations use seats of.",
            ))
        }
        (ImportKind::ProgramInvitations, Some(contract_id)) => {
            Some(contract_seats(conn, organization_id, contract_id).await?)
        }
        _ => None,
    };
    Ok(Target {
        group_id,
        contract,
        expiry_days,
    })
}

/// A seat is taken by a pending (unexpired) or accepted invitation under the contract.
pub(crate) async fn contract_seats(
    conn: &mut AnyConnection,
    organization_id: i64,
    contract_id: i64,
) -> Result<ContractSeats, AppError> {
    let row: Option<(String, i64, Option<String>)> = sqlx::query_as(
        "SELECT name, seat_limit, ends_on FROM contracts WHERE organization_id = $1 AND id = $2",
    )
    .bind(organization_id)
    .bind(contract_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (name, seat_limit, ends_on) =
        row.ok_or_else(|| AppError::invalid("Contract", "that contract does not exist."))?;
    if let Some(ends_on) = ends_on {
        let today = crate::mail::templates::format_date(now());
        if ends_on < today {
            return Err(AppError::invalid(
                "Contract",
                format!("{name} ended on {ends_on}; choose a current contract."),
            ));
        }
    }
    let used = crate::contracts::store::seats_used(conn, contract_id, now()).await?;
    Ok(ContractSeats {
        id: contract_id,
        name,
        seats_left: (seat_limit - used).max(0),
    })
}

/// Emails (normalized) → the organization's existing people, chunked to
/// keep each statement small. Only the organization's own records count: an
/// address whose account belongs to other organizations is planned exactly
/// like an address nobody has, so a plan never tells an admin who has an
/// account elsewhere.
async fn existing_users(
    conn: &mut AnyConnection,
    organization_id: i64,
    emails: &[String],
) -> Result<HashMap<String, ExistingUser>, AppError> {
    debug_assert!(emails.is_sorted(), "looked up by binary search");
    let mut users = HashMap::new();
    const SELECT: &str = "SELECT u.email, u.status, m.role FROM users u
         JOIN memberships m ON m.user_id = u.id AND m.organization_id = $1";
    let (people,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM memberships WHERE organization_id = $1")
            .bind(organization_id)
            .fetch_one(&mut *conn)
            .await?;
    // A large file for a smaller organization (the first roster import
    // above all): reading everyone once beats looking up the file's
    // addresses in hundreds of chunks.
    let found: Vec<(String, String, Option<String>)> = if people <= emails.len() as i64 {
        sqlx::query_as(&format!("{SELECT} WHERE u.email IS NOT NULL"))
            .bind(organization_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .filter(|(email, _, _): &(String, String, Option<String>)| {
                emails.binary_search(email).is_ok()
            })
            .collect()
    } else {
        let mut found = Vec::new();
        for chunk in emails.chunks(IN_CHUNK) {
            let sql = format!(
                "{SELECT} WHERE u.email IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query =
                sqlx::query_as::<_, (String, String, Option<String>)>(&sql).bind(organization_id);
            for email in chunk {
                query = query.bind(email);
            }
            found.extend(query.fetch_all(&mut *conn).await?);
        }
        found
    };
    for (email, status, role) in found {
        let status = match status.as_str() {
            "active" => UserStatus::Active,
            "provisioned" => UserStatus::Provisioned,
            _ => UserStatus::Invited,
        };
        let roles = match role.as_deref() {
            Some("learner") => vec![muster_core::Role::Student],
            Some("instructor") => vec![muster_core::Role::Instructor],
            Some("parent") => vec![muster_core::Role::Parent],
            _ => Vec::new(),
        };
        users.insert(email, ExistingUser { status, roles });
    }
    Ok(users)
}

pub(super) async fn load_facts(
    conn: &mut AnyConnection,
    organization_id: i64,
    kind: ImportKind,
    group_id: Option<i64>,
    seats_left: Option<i64>,
    checked: &Checked,
) -> Result<Facts, AppError> {
    let mut emails: Vec<String> = checked
        .rows
        .iter()
        .filter(|r| !r.deleted)
        .flat_map(|r| {
            r.values
                .email
                .iter()
                .chain(r.values.associations().map(|(_, e)| e))
                .map(|e| e.key().into_owned())
        })
        .collect();
    emails.sort_unstable();
    emails.dedup();
    let mut facts = Facts {
        users: existing_users(conn, organization_id, &emails).await?,
        seats_left: seats_left.map(|n| n.clamp(0, u32::MAX as i64) as u32),
        ..Facts::default()
    };
    if let Some(group_id) = group_id {
        let members: Vec<(String,)> = sqlx::query_as(
            "SELECT u.email FROM group_memberships gm JOIN users u ON u.id = gm.user_id
             WHERE gm.group_id = $1 AND gm.status = 'active' AND u.email IS NOT NULL",
        )
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
        facts.group_members = members.into_iter().map(|(e,)| e).collect();
        let invited: Vec<(String,)> = sqlx::query_as(
            "SELECT email FROM invitations WHERE group_id = $1 AND status = 'pending' AND expires_at > $2",
        )
        .bind(group_id)
        .bind(now())
        .fetch_all(&mut *conn)
        .await?;
        facts.pending_invitations = invited.into_iter().map(|(e,)| e).collect();
    }
    if kind == ImportKind::GroupMembers {
        let groups: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM learning_groups WHERE organization_id = $1")
                .bind(organization_id)
                .fetch_all(&mut *conn)
                .await?;
        facts.groups = groups.into_iter().map(|(g,)| g).collect();
    }
    if kind == ImportKind::People {
        let usernames: Vec<String> = checked
            .rows
            .iter()
            .filter_map(|r| r.values.more().username.clone())
            .map(|u| u.to_lowercase())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for chunk in usernames.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT username FROM memberships WHERE organization_id = $1 AND username IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String,)>(&sql).bind(organization_id);
            for username in chunk {
                query = query.bind(username);
            }
            for (username,) in query.fetch_all(&mut *conn).await? {
                facts.existing_usernames.insert(username);
            }
        }
    }
    Ok(facts)
}
