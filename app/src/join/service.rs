//! The join page's rules: saving its settings, signing up through it,
//! joining with an existing account, and confirming an email.

use muster_core::{email::Email, name::PersonName};

use super::{
    check_slug, email_allowed, parse_domains, store, JoinLookup, JoinRequestStatus, JoinSettings,
    SlugCheck, VerifyLookup, MAX_WELCOME_CHARS, VERIFY_TTL_SECS,
};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::{
        self,
        service::{check_password, hash_password},
        CurrentUser,
    },
    db::{Db, Tx},
    error::AppError,
    groups,
    links::{
        server::{new_token, token_hash},
        FormError, TokenState,
    },
    mail::{
        self,
        server::{MailKind, Params, SealedToken},
    },
    state::{now, Settings},
};

pub struct SettingsInput {
    pub enabled: bool,
    pub slug: String,
    pub group_id: String,
    pub welcome_text: String,
    pub allowed_domains: String,
    pub allow_subdomains: bool,
}

fn link(settings: &Settings, slug: &str) -> String {
    format!("{}/join/{slug}", settings.base_url)
}

pub async fn settings(
    db: &Db,
    settings: &Settings,
    organization_id: i64,
) -> Result<JoinSettings, AppError> {
    Ok(match store::page(db, organization_id).await? {
        None => JoinSettings {
            enabled: false,
            slug: String::new(),
            group_id: None,
            welcome_text: String::new(),
            allowed_domains: Vec::new(),
            allow_subdomains: false,
            link: None,
            link_prefix: link(settings, ""),
        },
        Some(row) => JoinSettings {
            enabled: row.enabled != 0,
            link: row.slug.as_deref().map(|slug| link(settings, slug)),
            link_prefix: link(settings, ""),
            slug: row.slug.unwrap_or_default(),
            group_id: row.group_id,
            welcome_text: row.welcome_text,
            allowed_domains: store::stored_domains(&row.allowed_domains),
            allow_subdomains: row.allow_subdomains != 0,
        },
    })
}

pub async fn slug_status(db: &Db, organization_id: i64, raw: &str) -> Result<SlugCheck, AppError> {
    let slug = match check_slug(raw) {
        Ok(slug) => slug,
        Err(reason) => return Ok(SlugCheck::Invalid(reason)),
    };
    Ok(match store::slug_owner(&db.pool, &slug).await? {
        None => SlugCheck::Available,
        Some(owner) if owner == organization_id => SlugCheck::Current,
        Some(_) => SlugCheck::Taken,
    })
}

fn slug_taken() -> AppError {
    AppError::invalid("Link", "already taken by another organization.")
}

/// Validates and stores the settings of the caller's organization.
pub async fn save(
    db: &Db,
    settings: &Settings,
    user: &CurrentUser,
    input: &SettingsInput,
) -> Result<JoinSettings, AppError> {
    let organization_id = user.organization_id;
    let slug = if input.slug.trim().is_empty() {
        None
    } else {
        Some(check_slug(&input.slug).map_err(|reason| AppError::invalid("Link", reason))?)
    };
    let group_id = match input.group_id.trim() {
        "" | "0" => None,
        raw => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::invalid("Group", "choose a group."))?,
        ),
    };
    let welcome_text = input.welcome_text.trim().replace("\r\n", "\n");
    if welcome_text.chars().count() > MAX_WELCOME_CHARS {
        return Err(AppError::invalid(
            "Welcome text",
            format!("at most {MAX_WELCOME_CHARS} characters."),
        ));
    }
    let domains = parse_domains(&input.allowed_domains)
        .map_err(|reason| AppError::invalid("Allowed email domains", reason))?;
    if input.enabled && slug.is_none() {
        return Err(AppError::invalid(
            "Link",
            "choose a link before turning the page on.",
        ));
    }
    if input.enabled && group_id.is_none() {
        return Err(AppError::invalid(
            "Group",
            "choose the group joiners enter before turning the page on.",
        ));
    }
    let now = now();
    let mut tx = db.begin().await?;
    store::ensure_page(&mut tx, organization_id, now).await?;
    let before = store::page_in(&mut tx, organization_id).await?;
    if let Some(group_id) = group_id {
        // Only a group of the caller's own organization.
        if !groups::store::exists(&mut *tx, organization_id, group_id).await? {
            return Err(AppError::invalid("Group", "choose a group."));
        }
    }
    if let Some(slug) = &slug {
        let owner = store::slug_owner(&mut *tx, slug).await?;
        if owner.is_some_and(|owner| owner != organization_id) {
            return Err(slug_taken());
        }
    }
    let update = store::PageUpdate {
        enabled: input.enabled,
        slug: slug.as_deref(),
        group_id,
        welcome_text: &welcome_text,
        allowed_domains: &domains,
        allow_subdomains: input.allow_subdomains,
    };
    match store::update_page(&mut tx, organization_id, &update, now).await {
        Ok(()) => {}
        // The unique index, against a concurrent save of the same slug.
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(slug_taken())
        }
        Err(error) => return Err(error.into()),
    }
    if let Some(before) = before {
        let changed = page_changes(&mut tx, organization_id, &before, &update).await?;
        // Saved as it was: nothing changed, nothing to record.
        if !changed.is_empty() {
            let entry = AuditEntry::by(user, AuditAction::JoinPageChanged)
                .subject_named(
                    Subject::JoinPage,
                    slug.as_deref()
                        .map_or(String::new(), |slug| format!("/join/{slug}")),
                )
                .details(format!("{}.", changed.join("; ")));
            record(&mut tx, &entry).await?;
        }
    }
    tx.commit().await?;
    tracing::info!(organization_id, enabled = input.enabled, "join page saved");
    self::settings(db, settings, organization_id).await
}

/// What a save changed, in words, for the audit log.
async fn page_changes(
    tx: &mut Tx,
    organization_id: i64,
    before: &store::PageRow,
    after: &store::PageUpdate<'_>,
) -> Result<Vec<String>, AppError> {
    let mut changed = Vec::new();
    match (before.enabled != 0, after.enabled) {
        (false, true) => changed.push("turned on".to_owned()),
        (true, false) => changed.push("turned off".to_owned()),
        _ => {}
    }
    if before.slug.as_deref() != after.slug {
        let link = |slug: Option<&str>| slug.map_or("none".to_owned(), |s| format!("/join/{s}"));
        changed.push(format!(
            "link {} (was {})",
            link(after.slug),
            link(before.slug.as_deref())
        ));
    }
    if before.group_id != after.group_id {
        let now = group_name(tx, organization_id, after.group_id).await?;
        let was = group_name(tx, organization_id, before.group_id).await?;
        changed.push(format!("joiners enter {now} (was {was})"));
    }
    if before.welcome_text != after.welcome_text {
        changed.push("welcome text changed".to_owned());
    }
    if store::stored_domains(&before.allowed_domains) != after.allowed_domains {
        let list = |domains: &[String]| match domains {
            [] => "any".to_owned(),
            domains => domains.join(", "),
        };
        changed.push(format!(
            "allowed domains {} (was {})",
            list(after.allowed_domains),
            list(&store::stored_domains(&before.allowed_domains))
        ));
    }
    match (before.allow_subdomains != 0, after.allow_subdomains) {
        (false, true) => changed.push("subdomains allowed".to_owned()),
        (true, false) => changed.push("subdomains no longer allowed".to_owned()),
        _ => {}
    }
    Ok(changed)
}

async fn group_name(
    tx: &mut Tx,
    organization_id: i64,
    id: Option<i64>,
) -> Result<String, AppError> {
    Ok(match id {
        None => "none".to_owned(),
        Some(id) => groups::store::get_in(tx, organization_id, id)
            .await?
            .map_or_else(|| format!("group {id}"), |group| group.name),
    })
}

/// An open join page: on, with a group.
pub struct OpenPage {
    pub organization_id: i64,
    pub organization: String,
    pub group_id: i64,
    pub group: String,
    pub welcome_text: String,
    pub domains: Vec<String>,
    pub allow_subdomains: bool,
}

impl OpenPage {
    pub fn accepts(&self, email: &str) -> bool {
        email_allowed(email, &self.domains, self.allow_subdomains)
    }
}

pub async fn open_page(db: &Db, slug: &str) -> Result<Option<OpenPage>, AppError> {
    let slug = slug.trim().to_ascii_lowercase();
    if check_slug(&slug).is_err() {
        return Ok(None);
    }
    Ok(store::open_page(db, &slug).await?.map(|row| OpenPage {
        organization_id: row.organization_id,
        organization: row.organization,
        group_id: row.group_id,
        group: row.group_name,
        welcome_text: row.welcome_text,
        domains: store::stored_domains(&row.allowed_domains),
        allow_subdomains: row.allow_subdomains != 0,
    }))
}

pub async fn lookup(
    db: &Db,
    slug: &str,
    signed_in_as: Option<String>,
) -> Result<JoinLookup, AppError> {
    Ok(match open_page(db, slug).await? {
        None => JoinLookup::NotFound,
        Some(page) => JoinLookup::Open {
            organization: page.organization,
            group: page.group,
            welcome_text: page.welcome_text,
            allowed_domains: page.domains,
            allow_subdomains: page.allow_subdomains,
            signed_in_as,
        },
    })
}

pub async fn verification(db: &Db, token: &str) -> Result<VerifyLookup, AppError> {
    let Some(request) = store::request_by_token(db, &token_hash(token.trim())).await? else {
        return Ok(VerifyLookup::NotFound);
    };
    let status: JoinRequestStatus = request.status.parse()?;
    let organization = request.organization;
    Ok(match status.token_state(request.expires_at, now()) {
        TokenState::Valid => VerifyLookup::Valid {
            organization,
            group: request.group_name,
            email: request.email,
            expires_at: request.expires_at,
        },
        TokenState::Used => VerifyLookup::Used { organization },
        TokenState::Replaced => VerifyLookup::Replaced { organization },
        TokenState::Expired | TokenState::Cancelled => VerifyLookup::Expired { organization },
        TokenState::NotFound => VerifyLookup::NotFound,
    })
}

/// What a visitor typed into the sign-up form. No password: whoever holds
/// the address chooses it after opening the emailed link, so a sign-up in
/// someone else's name can never decide their password.
pub struct SignUp<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

/// A new visitor's sign-up. The answer is the same whether or not the
/// address has an account: a new one gets a confirmation link, an
/// existing one an email saying to log in on the join page instead.
pub async fn sign_up(
    db: &Db,
    page: &OpenPage,
    slug: &str,
    form: &SignUp<'_>,
) -> Result<(), AppError> {
    let email = Email::parse(form.email)
        .map_err(|error| AppError::invalid("Email", error.to_string()))?
        .key()
        .to_string();
    if !page.accepts(&email) {
        return Err(AppError::Refused(FormError::Domain));
    }
    let first_name = PersonName::parse(form.first_name)
        .map_err(|error| AppError::invalid("First name", error.to_string()))?;
    let last_name = PersonName::parse(form.last_name)
        .map_err(|error| AppError::invalid("Last name", error.to_string()))?;
    let now = now();
    let mut tx = db.begin().await?;
    // A write first, so that SQLite takes the write lock before reading:
    // an earlier link for the same address and organization dies.
    store::replace_pending(&mut tx, page.organization_id, &email).await?;
    let has_password = auth::store::has_password(&mut *tx, &email).await?;
    let (kind, about_id, params) = if has_password {
        (
            MailKind::JoinAccountExists,
            Some(page.group_id),
            Params::JoinAccountExists {
                organization: page.organization.clone(),
                group: page.group.clone(),
                slug: slug.to_owned(),
            },
        )
    } else {
        let token = new_token();
        let expires_at = now + VERIFY_TTL_SECS;
        let request = store::NewRequest {
            organization_id: page.organization_id,
            group_id: page.group_id,
            email: &email,
            first_name: first_name.as_str(),
            last_name: last_name.as_str(),
            token_hash: &token_hash(&token),
            expires_at,
        };
        let request_id = store::insert_request(&mut tx, &request, now).await?;
        (
            MailKind::JoinVerify,
            Some(request_id),
            Params::VerifyJoinEmail {
                organization: page.organization.clone(),
                group: page.group.clone(),
                expires_at,
                token: SealedToken::seal(&token)?,
            },
        )
    };
    let message = mail::server::Email {
        to: email,
        kind,
        about_id,
        params,
    };
    mail::server::enqueue(&mut tx, Some(page.organization_id), &message).await?;
    tx.commit().await?;
    Ok(())
}

/// Someone with an account (logged in, or signed in already) joins at once.
pub async fn join_existing(db: &Db, page: &OpenPage, user_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    groups::service::enter_group(
        &mut tx,
        page.organization_id,
        page.group_id,
        user_id,
        None,
        &auth::store::PersonRecord::default(),
    )
    .await?;
    let email = auth::store::name_parts(&mut *tx, page.organization_id, user_id)
        .await?
        .email;
    joined(
        &mut tx,
        page.organization_id,
        page.group_id,
        user_id,
        email.as_deref(),
    )
    .await?;
    tracing::info!(
        organization_id = page.organization_id,
        group_id = page.group_id,
        user_id,
        "joined through the join page"
    );
    tx.commit().await?;
    Ok(())
}

/// The `person.joined` webhook event, in the transaction that put them in the group.
async fn joined(
    tx: &mut crate::db::Tx,
    organization_id: i64,
    group_id: i64,
    user_id: i64,
    email: Option<&str>,
) -> Result<(), AppError> {
    crate::webhooks::server::enqueue(
        tx,
        organization_id,
        crate::webhooks::EventType::PersonJoined,
        serde_json::json!({ "group_id": group_id, "user_id": user_id, "email": email }),
    )
    .await
}

/// What following a confirmation link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// A new (or provisioned) account is active and in the group: sign them in.
    NewAccount { user_id: i64, organization_id: i64 },
    /// The address got a password meanwhile (another sign-up): in the
    /// group, but they log in with the password they have.
    ExistingAccount,
}

/// Confirms an email and creates the account with the password the person
/// chose on the confirmation page: in one transaction the request turns
/// verified (a conditional update, so a link works once), the account
/// exists, is active and has its address verified, and the person is in the
/// group. The join page's current rules apply: a page turned off or a
/// domain no longer allowed refuses.
pub async fn confirm(
    db: &Db,
    token: &str,
    password: &str,
    confirmation: &str,
) -> Result<Confirmed, AppError> {
    check_password(password)?;
    if password != confirmation {
        return Err(AppError::Refused(FormError::Confirmation));
    }
    let hash = token_hash(token.trim());
    // The cheap check first: a hash for a link that does not work would let
    // anyone make the server spend one per request.
    if !matches!(verification(db, token).await?, VerifyLookup::Valid { .. }) {
        return Err(AppError::NotFound);
    }
    let password_hash = hash_password(password).await?;
    let now = now();
    let mut tx = db.begin().await?;
    let Some(request) = store::claim_pending(&mut tx, &hash, now).await? else {
        return Err(AppError::NotFound);
    };
    let Some(rules) = store::open_page_rules(&mut tx, request.organization_id).await? else {
        return Err(AppError::Refused(FormError::Closed));
    };
    let domains = store::stored_domains(&rules.allowed_domains);
    if !email_allowed(&request.email, &domains, rules.allow_subdomains != 0) {
        return Err(AppError::Refused(FormError::Domain));
    }
    let account = auth::store::NewUser {
        email: &request.email,
        password_hash: &password_hash,
        email_verified_at: Some(now),
    };
    let organization_id = request.organization_id;
    let inserted = auth::store::insert_user_unless_taken(&mut *tx, &account, now).await?;
    let (user_id, new_account) = match inserted {
        Some(id) => (id, true),
        // An account created without a password (an import, an invitation)
        // that no other organization holds an active record of: the
        // confirmed address may set its first password.
        None => match auth::store::claim_passwordless(
            &mut *tx,
            organization_id,
            &request.email,
            &password_hash,
            now,
        )
        .await?
        {
            Some(id) => (id, true),
            None => {
                let standing =
                    auth::store::account_standing(&mut *tx, organization_id, &request.email)
                        .await?
                        .ok_or(sqlx::Error::RowNotFound)?;
                if standing.has_password == 0 {
                    // Someone else's account without a password yet: its
                    // first password is not this organization's to set.
                    return Err(AppError::Refused(FormError::AccountExists));
                }
                // The address got a password meanwhile: the link proves the
                // address, so they join, and log in with the password they have.
                (standing.id, false)
            }
        },
    };
    auth::store::mark_email_verified(&mut *tx, user_id, now).await?;
    store::set_request_user(&mut tx, request.id, user_id).await?;
    let group_id = request.group_id;
    let names = auth::store::PersonRecord {
        first_name: &request.first_name,
        last_name: &request.last_name,
        ..auth::store::PersonRecord::default()
    };
    groups::service::enter_group(&mut tx, organization_id, group_id, user_id, None, &names).await?;
    joined(
        &mut tx,
        organization_id,
        group_id,
        user_id,
        Some(request.email.as_str()),
    )
    .await?;
    tracing::info!(
        organization_id,
        group_id,
        user_id,
        "joined through the join page"
    );
    tx.commit().await?;
    Ok(if new_account {
        Confirmed::NewAccount {
            user_id,
            organization_id,
        }
    } else {
        Confirmed::ExistingAccount
    })
}
