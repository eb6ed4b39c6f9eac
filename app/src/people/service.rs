//! People's rules: searching members and resending welcome emails.

use super::{AccountStatus, LinkedPerson, PeoplePage, Person, Relation, PAGE_SIZE};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{self, CurrentUser},
    db::{like_pattern, Db, Tx},
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
    Ok(PeoplePage {
        people: people_of(db, organization_id, rows).await?,
        total,
        page,
        page_size: PAGE_SIZE,
    })
}

/// The page's rows with whom each is linked.
async fn people_of(
    db: &Db,
    organization_id: i64,
    rows: Vec<store::PersonRow>,
) -> Result<Vec<Person>, AppError> {
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
    rows.into_iter()
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
        .collect()
}

/// One of the organization's people, with whom they are linked.
pub async fn get(db: &Db, organization_id: i64, person_id: i64) -> Result<Person, AppError> {
    let row = store::person(db, organization_id, person_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut people = people_of(db, organization_id, vec![row]).await?;
    people.pop().ok_or(AppError::Internal)
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

/// The organization's record of a person as an identity provider (SCIM)
/// reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub id: i64,
    /// The account's login address (normalized); `None` for a
    /// username-only student.
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub external_id: Option<String>,
    /// Not deactivated in this organization.
    pub active: bool,
    /// Waiting for the person to accept the organization's record.
    pub pending: bool,
    pub created_at: i64,
    /// How the identity provider labelled the address, as it stated it.
    pub email_label: EmailLabel,
}

/// The `type` and `primary` an identity provider gave a person's address
/// (Muster has one address a person; this only reads back as stated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmailLabel {
    pub kind: Option<String>,
    pub primary: Option<bool>,
}

impl TryFrom<store::RecordRow> for Record {
    type Error = AppError;

    fn try_from(row: store::RecordRow) -> Result<Record, AppError> {
        let status: super::MembershipStatus = row.membership.parse().inspect_err(|error| {
            tracing::error!(%error, "unknown membership status");
        })?;
        Ok(Record {
            id: row.id,
            email: row.email,
            username: row.username,
            first_name: row.first_name,
            last_name: row.last_name,
            external_id: row.external_id,
            active: status != super::MembershipStatus::Deactivated,
            pending: status == super::MembershipStatus::Pending,
            created_at: row.created_at,
            email_label: EmailLabel {
                kind: row.email_type,
                primary: row.email_primary.map(|flag| flag != 0),
            },
        })
    }
}

/// What an identity provider states about a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordInput {
    /// Normalized: trimmed, lowercased. `None` for a person known only by
    /// their username (which is then required).
    pub email: Option<String>,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub email_label: EmailLabel,
}

pub use store::RecordFilter;

pub async fn get_record(db: &Db, organization_id: i64, person_id: i64) -> Result<Record, AppError> {
    store::record(&db.pool, organization_id, person_id)
        .await?
        .ok_or(AppError::NotFound)?
        .try_into()
}

/// A page of the organization's records: (how many match, `limit` of them
/// from `offset`).
pub async fn records(
    db: &Db,
    organization_id: i64,
    filter: &RecordFilter,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Record>), AppError> {
    let total = store::count_records(db, organization_id, filter).await?;
    let rows = if limit > 0 {
        store::records(db, organization_id, filter, limit, offset.max(0)).await?
    } else {
        Vec::new()
    };
    let records = rows
        .into_iter()
        .map(Record::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((total, records))
}

fn name_of(input: &RecordInput) -> String {
    let name = format!("{} {}", input.first_name, input.last_name);
    let login = input
        .email
        .as_deref()
        .or(input.username.as_deref())
        .unwrap_or_default();
    match name.trim() {
        "" => login.to_owned(),
        name => format!("{name} <{login}>"),
    }
}

/// Adds a person to the organization as a Learners import would: an
/// account without a password for a new address (with a set-your-password
/// email), or, for someone else's account, a record that waits for them
/// to accept (with an email saying so). A person the organization knows
/// already is a conflict.
pub async fn provision(
    db: &Db,
    user: &CurrentUser,
    input: &RecordInput,
) -> Result<Record, AppError> {
    let Some(email) = input.email.as_deref() else {
        return provision_by_username(db, user, input).await;
    };
    let organization_id = user.organization_id;
    let now = now();
    let mut tx = db.begin().await?;
    let created = auth::store::insert_provisioned_bulk(&mut *tx, &[email], now).await?;
    let (person_id, owned) = match created.first() {
        Some(new) => (new.id, true),
        None => {
            let existing = auth::store::accounts_by_emails(&mut *tx, organization_id, &[email])
                .await?
                .into_iter()
                .next()
                .ok_or(AppError::Internal)?;
            if existing.here.is_some() {
                return Err(AppError::Conflict(format!(
                    "{email} is in this organization already."
                )));
            }
            auth::store::lock_user(&mut *tx, existing.id).await?;
            (existing.id, existing.unclaimed != 0)
        }
    };
    if let Some(username) = &input.username {
        if store::username_taken(&mut tx, organization_id, username, person_id).await? {
            return Err(AppError::Conflict(format!(
                "The username {username} is taken in this organization."
            )));
        }
    }
    let added = auth::store::insert_memberships_bulk(
        &mut *tx,
        organization_id,
        &[auth::store::ImportedMembership {
            user_id: person_id,
            role: auth::Role::Learner,
            first_name: &input.first_name,
            last_name: &input.last_name,
            external_id: input.external_id.as_deref(),
            pending: !owned,
        }],
        now,
    )
    .await?;
    if added.is_empty() {
        return Err(AppError::Conflict(format!(
            "{email} is in this organization already."
        )));
    }
    if input.username.is_some() {
        store::set_record(
            &mut tx,
            organization_id,
            person_id,
            &input.first_name,
            &input.last_name,
            input.external_id.as_deref(),
            input.username.as_deref(),
        )
        .await?;
    }
    set_email_label(&mut tx, organization_id, person_id, input).await?;
    let sender = user.display_name();
    if owned {
        crate::activation::service::queue_activation(
            &mut tx,
            organization_id,
            person_id,
            email,
            &sender,
            now,
        )
        .await?;
    } else {
        auth::service::queue_added_notice(&mut tx, organization_id, email, &sender).await?;
    }
    if !input.active {
        store::deactivate(&mut tx, organization_id, person_id, now).await?;
    }
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::PersonProvisioned)
            .subject(Subject::Person, person_id, name_of(input))
            .details(if owned {
                "Activation email sent."
            } else {
                "They were told they were added, to accept or decline."
            }),
    )
    .await?;
    let found = store::record(&mut *tx, organization_id, person_id)
        .await?
        .ok_or(AppError::Internal)?;
    tx.commit().await?;
    tracing::info!(organization_id, person_id, "person provisioned");
    found.try_into()
}

async fn set_email_label(
    tx: &mut Tx,
    organization_id: i64,
    person_id: i64,
    input: &RecordInput,
) -> Result<(), AppError> {
    let label = &input.email_label;
    store::set_email_label(
        tx,
        organization_id,
        person_id,
        label.kind.as_deref(),
        label.primary,
    )
    .await?;
    Ok(())
}

/// A person known only by a username in the organization (a student
/// without an address), as a People import provisions them: an account
/// without email or password, and no email to send. A username the
/// organization knows already is a conflict.
async fn provision_by_username(
    db: &Db,
    user: &CurrentUser,
    input: &RecordInput,
) -> Result<Record, AppError> {
    let organization_id = user.organization_id;
    let username = input.username.as_deref().ok_or_else(|| {
        AppError::invalid("userName", "A person needs an email address or a username.")
    })?;
    let now = now();
    let mut tx = db.begin().await?;
    if auth::store::user_id_by_username(&mut *tx, organization_id, username)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(format!(
            "The username {username} is taken in this organization."
        )));
    }
    let (person_id, _) = auth::store::ensure_by_username(
        &mut tx,
        organization_id,
        &auth::store::ProvisionedByUsername {
            username,
            first_name: &input.first_name,
            last_name: &input.last_name,
            external_id: input.external_id.as_deref(),
        },
        now,
    )
    .await?;
    if !input.active {
        store::deactivate(&mut tx, organization_id, person_id, now).await?;
    }
    set_email_label(&mut tx, organization_id, person_id, input).await?;
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::PersonProvisioned)
            .subject(Subject::Person, person_id, name_of(input))
            .details("Known by username only: no email was sent."),
    )
    .await?;
    let found = store::record(&mut *tx, organization_id, person_id)
        .await?
        .ok_or(AppError::Internal)?;
    tx.commit().await?;
    tracing::info!(organization_id, person_id, "person provisioned by username");
    found.try_into()
}

/// Replaces the organization's record of a person with what the identity
/// provider states (names, external id, username, active). The login
/// address is the person's own and cannot be changed here; an admin
/// cannot deactivate themselves through their own token.
pub async fn restate(
    db: &Db,
    user: &CurrentUser,
    person_id: i64,
    input: &RecordInput,
) -> Result<Record, AppError> {
    let organization_id = user.organization_id;
    let now = now();
    let mut tx = db.begin().await?;
    auth::store::lock_user(&mut *tx, person_id).await?;
    let before: Record = store::record(&mut *tx, organization_id, person_id)
        .await?
        .ok_or(AppError::NotFound)?
        .try_into()?;
    if before.email != input.email {
        readdress(&mut tx, user, person_id, &before, input, now).await?;
    }
    if !input.active && person_id == user.user_id {
        return Err(AppError::invalid(
            "active",
            "This token acts as this admin; another admin must deactivate them.",
        ));
    }
    if let Some(username) = &input.username {
        if store::username_taken(&mut tx, organization_id, username, person_id).await? {
            return Err(AppError::Conflict(format!(
                "The username {username} is taken in this organization."
            )));
        }
    }
    let changed = store::set_record(
        &mut tx,
        organization_id,
        person_id,
        &input.first_name,
        &input.last_name,
        input.external_id.as_deref(),
        input.username.as_deref(),
    )
    .await?;
    if before.email_label != input.email_label {
        set_email_label(&mut tx, organization_id, person_id, input).await?;
    }
    let action = match (before.active, input.active) {
        (true, false) => {
            store::deactivate(&mut tx, organization_id, person_id, now).await?;
            Some(AuditAction::PersonDeactivated)
        }
        (false, true) => {
            store::reactivate(&mut tx, organization_id, person_id).await?;
            Some(AuditAction::PersonReactivated)
        }
        _ => changed.then_some(AuditAction::PersonChanged),
    };
    if let Some(action) = action {
        let mut entry =
            AuditEntry::by(user, action).subject(Subject::Person, person_id, name_of(input));
        if changed {
            entry = entry.details(changes(&before, input));
        }
        record(&mut tx, &entry).await?;
    }
    let after = store::record(&mut *tx, organization_id, person_id)
        .await?
        .ok_or(AppError::Internal)?;
    tx.commit().await?;
    after.try_into()
}

/// Gives a person the login address an identity provider states, which
/// is only allowed while the account is the organization's alone and
/// unused (no password yet): the provider correcting a typo before the
/// person ever signed in. The old address's activation link stops working
/// and, for a new address of an active person, a fresh one goes there. Once the person has
/// used the account, the address is theirs.
async fn readdress(
    tx: &mut Tx,
    user: &CurrentUser,
    person_id: i64,
    before: &Record,
    input: &RecordInput,
    now: i64,
) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    if input.email.is_none() && input.username.is_none() {
        return Err(AppError::invalid(
            "emails",
            "A person needs an email address or a username; give a username before removing the address.",
        ));
    }
    if let Some(email) = input.email.as_deref() {
        if auth::store::user_id_by_email(&mut **tx, email)
            .await?
            .is_some_and(|owner| owner != person_id)
        {
            return Err(AppError::Conflict(format!(
                "{email} is another account's login address."
            )));
        }
    }
    let readdressed = auth::store::readdress_unused(
        &mut **tx,
        organization_id,
        person_id,
        input.email.as_deref(),
    )
    .await?;
    if !readdressed {
        return Err(AppError::invalid(
            "userName",
            "The login address is the person's own once they have used their account; an organization cannot change it.",
        ));
    }
    crate::activation::store::replace_pending(&mut **tx, person_id).await?;
    // A person deactivated here (before or by this change) is sent nothing;
    // an admin sends the link once they are active again.
    if let (Some(email), true) = (input.email.as_deref(), before.active && input.active) {
        crate::activation::service::queue_activation(
            tx,
            organization_id,
            person_id,
            email,
            &user.display_name(),
            now,
        )
        .await?;
    }
    record(
        tx,
        &AuditEntry::by(user, AuditAction::PersonChanged)
            .subject(Subject::Person, person_id, name_of(input))
            .details(format!(
                "Login address: {} → {}.",
                before.email.as_deref().unwrap_or("none"),
                input.email.as_deref().unwrap_or("none")
            )),
    )
    .await?;
    Ok(())
}

/// What a restatement changed, in words for the audit log.
fn changes(before: &Record, input: &RecordInput) -> String {
    let mut said = Vec::new();
    if before.first_name != input.first_name || before.last_name != input.last_name {
        said.push(format!(
            "Name: {} {} → {} {}.",
            before.first_name, before.last_name, input.first_name, input.last_name
        ));
    }
    if before.external_id != input.external_id {
        said.push(format!(
            "External id: {} → {}.",
            before.external_id.as_deref().unwrap_or("none"),
            input.external_id.as_deref().unwrap_or("none")
        ));
    }
    if before.username != input.username {
        said.push(format!(
            "Username: {} → {}.",
            before.username.as_deref().unwrap_or("none"),
            input.username.as_deref().unwrap_or("none")
        ));
    }
    said.join(" ")
}

/// Takes the person out of the organization: its record of them and their
/// places in its groups go; their account and other organizations stay.
pub async fn remove(db: &Db, user: &CurrentUser, person_id: i64) -> Result<(), AppError> {
    let organization_id = user.organization_id;
    if person_id == user.user_id {
        return Err(AppError::invalid(
            "id",
            "This token acts as this admin; another admin must remove them.",
        ));
    }
    let mut tx = db.begin().await?;
    auth::store::lock_user(&mut *tx, person_id).await?;
    let before: Record = store::record(&mut *tx, organization_id, person_id)
        .await?
        .ok_or(AppError::NotFound)?
        .try_into()?;
    groups::store::remove_from_organization_groups(&mut tx, organization_id, person_id).await?;
    store::delete_record(&mut tx, organization_id, person_id).await?;
    let label = before
        .email
        .clone()
        .or(before.username.clone())
        .unwrap_or_default();
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::PersonRemoved).subject(
            Subject::Person,
            person_id,
            label,
        ),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        organization_id,
        person_id,
        "person removed from the organization"
    );
    Ok(())
}
