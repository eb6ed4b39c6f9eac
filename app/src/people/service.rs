//! People's rules: searching members and resending welcome emails.

use super::{AccountStatus, LinkedPerson, PeoplePage, Person, Relation, PAGE_SIZE};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{self, CurrentUser},
    db::{like_pattern, Db},
    error::AppError,
    groups, mail,
    state::now,
};

use super::store;

/// The outbox kind of a resent welcome email, which the daily limit counts.
const WELCOME_RESEND: mail::server::MailKind = mail::server::MailKind::WelcomeResend;

/// Welcome emails an admin may resend per address per 24 hours.
pub const MAX_WELCOMES_PER_DAY: i64 = 3;

/// The status filter's value: empty for everyone.
fn status_filter(raw: &str) -> Result<Option<AccountStatus>, AppError> {
    let raw = raw.trim().to_lowercase();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse()
        .map(Some)
        .map_err(|_| AppError::invalid("Status", "is not one of invited, provisioned, active."))
}

/// `search` matches email, username or either name, case-insensitively;
/// `%` and `_` in it are literal.
pub async fn list(
    db: &Db,
    organization_id: i64,
    search: &str,
    status: &str,
    page: i64,
) -> Result<PeoplePage, AppError> {
    let status = status_filter(status)?;
    let pattern = like_pattern(search);
    let page = page.max(1);
    let total = store::count(db, organization_id, &pattern, status).await?;
    let rows = store::search(
        db,
        organization_id,
        &pattern,
        status,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
    let mut links: std::collections::HashMap<i64, Vec<LinkedPerson>> = Default::default();
    for link in store::links_of(db, organization_id, &ids).await? {
        let relation = match (link.relation.as_str(), link.is_student != 0) {
            ("parent", true) => Relation::Parent,
            ("parent", false) => Relation::ChildOf,
            (_, true) => Relation::Instructor,
            (_, false) => Relation::StudentOf,
        };
        links.entry(link.person_id).or_default().push(LinkedPerson {
            relation,
            name: link.other_name,
        });
    }
    let people = rows
        .into_iter()
        .map(|row| {
            Ok(Person {
                links: links.remove(&row.id).unwrap_or_default(),
                status: row.status.parse()?,
                id: row.id,
                email: row.email,
                username: row.username,
                first_name: row.first_name,
                last_name: row.last_name,
                role: row.role,
                activation_sent_at: row.activation_sent_at,
                activation_to: row.activation_to,
            })
        })
        .collect::<Result<Vec<Person>, AppError>>()?;
    Ok(PeoplePage {
        people,
        total,
        page,
        page_size: PAGE_SIZE,
    })
}

/// Queues the welcome email of the person's latest group in this
/// organization again; only for active people, at most
/// [`MAX_WELCOMES_PER_DAY`] a day per address.
pub async fn resend_welcome(db: &Db, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    let now = now();
    let mut tx = db.begin().await?;
    auth::store::lock_user(&mut *tx, person_id).await?;
    let person = store::member(&mut tx, organization_id, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let status: AccountStatus = person.status.parse()?;
    if !status.can_be_welcomed() {
        return Err(AppError::Conflict(
            "This person has not activated their account yet; send them an activation email instead."
                .into(),
        ));
    }
    let email = person
        .email
        .ok_or_else(|| AppError::Conflict("This person has no email address.".into()))?;
    let recent = mail::store::sent_since(
        &mut tx,
        organization_id,
        &email,
        WELCOME_RESEND,
        now - 86_400,
    )
    .await?;
    if recent >= MAX_WELCOMES_PER_DAY {
        return Err(AppError::Conflict(format!(
            "{email} has been sent {MAX_WELCOMES_PER_DAY} welcome emails in the last 24 hours; try again tomorrow."
        )));
    }
    let group = groups::store::latest_active_group(&mut tx, organization_id, person_id)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(format!(
                "{email} is not in any group yet, so there is no welcome email to send."
            ))
        })?;
    let welcome = groups::service::welcome_email(
        &mut tx,
        organization_id,
        group.id,
        &person.first_name,
        email.clone(),
        WELCOME_RESEND,
    )
    .await?;
    mail::server::enqueue(&mut tx, Some(organization_id), &welcome).await?;
    let entry = AuditEntry::by(user, AuditAction::WelcomeResent)
        .subject(Subject::Person, person_id, email)
        .count(1)
        .details(format!("Group: {}.", group.name));
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    tracing::info!(organization_id, person_id, "welcome email resent");
    Ok(())
}
