//! The join page: an organization's public link, `/join/{slug}`, where anyone
//! whose email domain is allowed can join one group as a learner without an
//! invitation. New visitors confirm their email through a link
//! (`/verify-email/{token}`) before their account exists; people with an
//! account log in. The admin settings are under `/admin/join`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

pub const SLUG_MIN_CHARS: usize = 3;
pub const SLUG_MAX_CHARS: usize = 40;
pub const MAX_DOMAINS: usize = 50;
pub const MAX_WELCOME_CHARS: usize = 2000;
/// How long a confirmation link works.
pub const VERIFY_TTL_SECS: i64 = 24 * 3600;

/// Slugs that could be mistaken for a part of the product, or taken for one later.
pub const RESERVED_SLUGS: &[&str] = &[
    "about",
    "account",
    "activate",
    "admin",
    "api",
    "app",
    "assets",
    "auth",
    "contact",
    "dashboard",
    "dev",
    "help",
    "home",
    "invite",
    "join",
    "login",
    "logout",
    "mail",
    "mailbox",
    "muster",
    "new",
    "null",
    "pkg",
    "register",
    "root",
    "security",
    "settings",
    "signup",
    "static",
    "status",
    "support",
    "system",
    "undefined",
    "verify",
    "verify-email",
    "www",
];

/// The admin's join page settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinSettings {
    pub enabled: bool,
    /// Empty until one is chosen.
    pub slug: String,
    pub group_id: Option<i64>,
    pub welcome_text: String,
    pub allowed_domains: Vec<String>,
    pub allow_subdomains: bool,
    /// The absolute link (configured base URL + `/join/{slug}`), once there is a slug.
    pub link: Option<String>,
    /// The configured base URL + `/join/`, shown before the slug field.
    pub link_prefix: String,
}

/// What the live availability check says about a slug.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlugCheck {
    Available,
    /// The organization's own current slug.
    Current,
    Taken,
    Invalid(String),
}

impl SlugCheck {
    pub fn message(&self) -> String {
        match self {
            SlugCheck::Available => "Available.".to_owned(),
            SlugCheck::Current => "This is your current link.".to_owned(),
            SlugCheck::Taken => "Already taken by another organization.".to_owned(),
            SlugCheck::Invalid(reason) => reason.clone(),
        }
    }

    pub fn is_ok(&self) -> bool {
        matches!(self, SlugCheck::Available | SlugCheck::Current)
    }
}

/// What `/join/{slug}` shows. A page that is off and a slug that does not
/// exist are the same `NotFound`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JoinLookup {
    Open {
        organization: String,
        group: String,
        welcome_text: String,
        allowed_domains: Vec<String>,
        allow_subdomains: bool,
        /// The email of whoever is signed in in this browser.
        signed_in_as: Option<String>,
    },
    NotFound,
}

/// What `/verify-email/{token}` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerifyLookup {
    Valid {
        organization: String,
        group: String,
        email: String,
        expires_at: i64,
    },
    Used {
        organization: String,
    },
    Expired {
        organization: String,
    },
    Replaced {
        organization: String,
    },
    NotFound,
}

/// Checks and normalizes a slug: lowercase letters, digits and hyphens,
/// 3–40 characters, no leading, trailing or double hyphen, not reserved.
pub fn check_slug(raw: &str) -> Result<String, String> {
    let slug = raw.trim().to_ascii_lowercase();
    let chars = slug.chars().count();
    if !(SLUG_MIN_CHARS..=SLUG_MAX_CHARS).contains(&chars) {
        return Err(format!(
            "Use {SLUG_MIN_CHARS} to {SLUG_MAX_CHARS} characters."
        ));
    }
    if !slug
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err("Use only lowercase letters, digits and hyphens.".to_owned());
    }
    if slug.starts_with('-') || slug.ends_with('-') || slug.contains("--") {
        return Err("Hyphens go between letters or digits, one at a time.".to_owned());
    }
    if RESERVED_SLUGS.contains(&slug.as_str()) {
        return Err(format!("“{slug}” is reserved; choose another."));
    }
    Ok(slug)
}

/// Parses the allowlist box: domains separated by commas, spaces or new
/// lines, each lowercased, a leading `@` dropped; deduplicated, in order.
pub fn parse_domains(raw: &str) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for part in raw.split([',', ';', ' ', '\n', '\r', '\t']) {
        let domain = part.trim().trim_start_matches('@').trim_end_matches('.');
        if domain.is_empty() {
            continue;
        }
        let domain = domain.to_ascii_lowercase();
        let labels_ok = domain.len() <= 253
            && domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            });
        if !labels_ok {
            return Err(format!(
                "“{part}” is not a domain (like school.edu).",
                part = part.trim()
            ));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > MAX_DOMAINS {
        return Err(format!("At most {MAX_DOMAINS} domains."));
    }
    Ok(domains)
}

/// Whether an email address may join: any domain when the list is empty,
/// else its domain is listed, or a subdomain of one when those are accepted.
pub fn email_allowed(email: &str, domains: &[String], subdomains: bool) -> bool {
    if domains.is_empty() {
        return true;
    }
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return false;
    };
    let domain = domain.to_ascii_lowercase();
    domains.iter().any(|allowed| {
        domain == *allowed
            || (subdomains
                && domain
                    .strip_suffix(allowed.as_str())
                    .is_some_and(|prefix| prefix.ends_with('.') && prefix.len() > 1))
    })
}

/// The sentence that tells visitors which addresses may join.
pub fn allowlist_sentence(domains: &[String], subdomains: bool) -> Option<String> {
    if domains.is_empty() {
        return None;
    }
    let list = match domains.len() {
        1 => domains[0].clone(),
        n => format!("{} or {}", domains[..n - 1].join(", "), domains[n - 1]),
    };
    Some(if subdomains {
        format!("Only email addresses at {list} (or a subdomain) can join.")
    } else {
        format!("Only email addresses at {list} can join.")
    })
}

#[server(endpoint = "join/settings")]
pub async fn get_join_settings() -> Result<JoinSettings, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    server::settings(&state.db, &state.settings, user.organization_id).await
}

#[server(endpoint = "join/save")]
pub async fn save_join_settings(
    enabled: Option<String>,
    slug: String,
    group_id: String,
    welcome_text: String,
    allowed_domains: String,
    allow_subdomains: Option<String>,
) -> Result<JoinSettings, AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let input = server::SettingsInput {
        enabled: enabled.is_some_and(|value| value != "false" && value != "0"),
        slug,
        group_id,
        welcome_text,
        allowed_domains,
        allow_subdomains: allow_subdomains.is_some_and(|value| value != "false" && value != "0"),
    };
    server::save(&state.db, &state.settings, user.organization_id, &input).await
}

/// The live availability check behind the slug field; answers with the slug
/// it checked, so the page can ignore answers to older keystrokes.
#[server(endpoint = "join/check_slug")]
pub async fn check_join_slug(slug: String) -> Result<(String, SlugCheck), AppError> {
    let (state, user) = crate::auth::server::require_admin().await?;
    let check = server::slug_status(&state.db, user.organization_id, &slug).await?;
    Ok((slug, check))
}

/// Public: what the join page at this slug shows.
#[server(endpoint = "join/page")]
pub async fn lookup_join_page(slug: String) -> Result<JoinLookup, AppError> {
    let state = crate::state::app_state()?;
    let signed_in = crate::auth::server::current_user(&state).await?;
    server::lookup(&state.db, &slug, signed_in.map(|user| user.email)).await
}

/// Public: anyone holding the token may see what it confirms.
#[server(endpoint = "join/verification")]
pub async fn lookup_join_verification(token: String) -> Result<VerifyLookup, AppError> {
    let state = crate::state::app_state()?;
    server::verification(&state.db, &token).await
}

#[cfg(feature = "ssr")]
pub mod server {
    use muster_core::{email::Email, name::PersonName};

    use super::*;
    use crate::{
        auth::server::{check_password, create_session, hash_password, user_for_token, verify_login},
        links::server::{new_token, session_from_headers, token_hash, SESSION_COOKIE, SESSION_TTL_SECS},
        db::Db,
        groups::server::enter_group,
        mail::{self, templates},
        state::{now, AppState, Settings},
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

    fn domains_from_db(stored: &str) -> Vec<String> {
        stored
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect()
    }

    type SettingsRow = (i64, Option<String>, Option<i64>, String, String, i64);

    pub async fn settings(
        db: &Db,
        settings: &Settings,
        organization_id: i64,
    ) -> Result<JoinSettings, AppError> {
        let row: Option<SettingsRow> = sqlx::query_as(
            "SELECT enabled, slug, group_id, welcome_text, allowed_domains, allow_subdomains
             FROM join_pages WHERE organization_id = $1",
        )
        .bind(organization_id)
        .fetch_optional(&db.pool)
        .await?;
        Ok(match row {
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
            Some((enabled, slug, group_id, welcome_text, domains, subdomains)) => JoinSettings {
                enabled: enabled != 0,
                link: slug.as_deref().map(|slug| link(settings, slug)),
                link_prefix: link(settings, ""),
                slug: slug.unwrap_or_default(),
                group_id,
                welcome_text,
                allowed_domains: domains_from_db(&domains),
                allow_subdomains: subdomains != 0,
            },
        })
    }

    pub async fn slug_status(
        db: &Db,
        organization_id: i64,
        raw: &str,
    ) -> Result<SlugCheck, AppError> {
        let slug = match check_slug(raw) {
            Ok(slug) => slug,
            Err(reason) => return Ok(SlugCheck::Invalid(reason)),
        };
        let owner: Option<(i64,)> =
            sqlx::query_as("SELECT organization_id FROM join_pages WHERE slug = $1")
                .bind(&slug)
                .fetch_optional(&db.pool)
                .await?;
        Ok(match owner {
            None => SlugCheck::Available,
            Some((owner,)) if owner == organization_id => SlugCheck::Current,
            Some(_) => SlugCheck::Taken,
        })
    }

    /// Validates and stores the settings of the caller's organization.
    pub async fn save(
        db: &Db,
        settings: &Settings,
        organization_id: i64,
        input: &SettingsInput,
    ) -> Result<JoinSettings, AppError> {
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
        // A write first, so that SQLite takes the write lock before reading.
        sqlx::query(
            "INSERT INTO join_pages (organization_id, updated_at) VALUES ($1, $2)
             ON CONFLICT (organization_id) DO NOTHING",
        )
        .bind(organization_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if let Some(group_id) = group_id {
            // Only a group of the caller's own organization.
            let found: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM learning_groups WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(group_id)
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_none() {
                return Err(AppError::invalid("Group", "choose a group."));
            }
        }
        if let Some(slug) = &slug {
            let owner: Option<(i64,)> =
                sqlx::query_as("SELECT organization_id FROM join_pages WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&mut *tx)
                    .await?;
            if owner.is_some_and(|(owner,)| owner != organization_id) {
                return Err(AppError::invalid(
                    "Link",
                    "already taken by another organization.",
                ));
            }
        }
        let updated = sqlx::query(
            "UPDATE join_pages SET enabled = $2, slug = $3, group_id = $4, welcome_text = $5,
                    allowed_domains = $6, allow_subdomains = $7, updated_at = $8
             WHERE organization_id = $1",
        )
        .bind(organization_id)
        .bind(i64::from(input.enabled))
        .bind(slug.clone())
        .bind(group_id)
        .bind(&welcome_text)
        .bind(domains.join("\n"))
        .bind(i64::from(input.allow_subdomains))
        .bind(now)
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(_) => {}
            // The unique index, against a concurrent save of the same slug.
            Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
                return Err(AppError::invalid(
                    "Link",
                    "already taken by another organization.",
                ))
            }
            Err(error) => return Err(error.into()),
        }
        tx.commit().await?;
        tracing::info!(organization_id, enabled = input.enabled, "join page saved");
        self::settings(db, settings, organization_id).await
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

    type OpenRow = (i64, String, i64, String, String, String, i64);

    pub async fn open_page(db: &Db, slug: &str) -> Result<Option<OpenPage>, AppError> {
        let slug = slug.trim().to_ascii_lowercase();
        if check_slug(&slug).is_err() {
            return Ok(None);
        }
        let row: Option<OpenRow> = sqlx::query_as(
            "SELECT j.organization_id, o.name, g.id, g.name, j.welcome_text, j.allowed_domains, j.allow_subdomains
             FROM join_pages j
             JOIN organizations o ON o.id = j.organization_id
             JOIN learning_groups g ON g.id = j.group_id AND g.organization_id = j.organization_id
             WHERE j.slug = $1 AND j.enabled = 1",
        )
        .bind(&slug)
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.map(
            |(
                organization_id,
                organization,
                group_id,
                group,
                welcome_text,
                domains,
                subdomains,
            )| {
                OpenPage {
                    organization_id,
                    organization,
                    group_id,
                    group,
                    welcome_text,
                    domains: domains_from_db(&domains),
                    allow_subdomains: subdomains != 0,
                }
            },
        ))
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
        let row: Option<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT o.name, g.name, r.email, r.status, r.expires_at FROM join_requests r
             JOIN organizations o ON o.id = r.organization_id
             JOIN learning_groups g ON g.id = r.group_id
             WHERE r.token_hash = $1",
        )
        .bind(token_hash(token.trim()))
        .fetch_optional(&db.pool)
        .await?;
        let Some((organization, group, email, status, expires_at)) = row else {
            return Ok(VerifyLookup::NotFound);
        };
        Ok(match status.as_str() {
            "verified" => VerifyLookup::Used { organization },
            "replaced" => VerifyLookup::Replaced { organization },
            _ if expires_at <= now() => VerifyLookup::Expired { organization },
            _ => VerifyLookup::Valid {
                organization,
                group,
                email,
                expires_at,
            },
        })
    }

    /// A new visitor's sign-up. The answer is the same whether or not the
    /// address has an account: a new one gets a confirmation link, an
    /// existing one an email saying to log in on the join page instead.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_up(
        db: &Db,
        settings: &Settings,
        page: &OpenPage,
        slug: &str,
        email: &str,
        first_name: &str,
        last_name: &str,
        password: &str,
    ) -> Result<(), AppError> {
        let email = Email::parse(email)
            .map_err(|error| AppError::invalid("Email", error.to_string()))?
            .key()
            .to_string();
        if !email_allowed(&email, &page.domains, page.allow_subdomains) {
            return Err(AppError::invalid("Email", "domain not allowed."));
        }
        let first_name = PersonName::parse(first_name)
            .map_err(|error| AppError::invalid("First name", error.to_string()))?;
        let last_name = PersonName::parse(last_name)
            .map_err(|error| AppError::invalid("Last name", error.to_string()))?;
        check_password(password)?;
        let password_hash = hash_password(password)?;
        let now = now();
        let mut tx = db.begin().await?;
        // A write first, so that SQLite takes the write lock before reading:
        // an earlier link for the same address and organization dies.
        sqlx::query(
            "UPDATE join_requests SET status = 'replaced'
             WHERE organization_id = $1 AND email = $2 AND status = 'pending'",
        )
        .bind(page.organization_id)
        .bind(&email)
        .execute(&mut *tx)
        .await?;
        let existing: Option<(Option<String>,)> =
            sqlx::query_as("SELECT password_hash FROM users WHERE email = $1")
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
        let join_link = link(settings, slug);
        let (rendered, kind) = if matches!(existing, Some((Some(_),))) {
            (
                templates::join_account_exists(&templates::JoinAccountExists {
                    organization: &page.organization,
                    group: &page.group,
                    link: &join_link,
                }),
                "join_account_exists",
            )
        } else {
            let token = new_token();
            let expires_at = now + VERIFY_TTL_SECS;
            sqlx::query(
                "INSERT INTO join_requests (organization_id, group_id, email, first_name, last_name,
                                            password_hash, token_hash, status, expires_at, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9)",
            )
            .bind(page.organization_id)
            .bind(page.group_id)
            .bind(&email)
            .bind(first_name.as_str())
            .bind(last_name.as_str())
            .bind(&password_hash)
            .bind(token_hash(&token))
            .bind(expires_at)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            (
                templates::verify_join_email(&templates::VerifyJoinEmail {
                    organization: &page.organization,
                    group: &page.group,
                    expires_at,
                    link: &format!("{}/verify-email/{token}", settings.base_url),
                }),
                "join_verify",
            )
        };
        mail::server::enqueue(
            &mut tx,
            Some(page.organization_id),
            &mail::server::Email {
                to: email,
                subject: rendered.subject,
                text: rendered.text,
                html: rendered.html,
                kind,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Someone with an account (logged in, or signed in already) joins at once.
    pub async fn join_existing(
        db: &Db,
        settings: &Settings,
        page: &OpenPage,
        user_id: i64,
    ) -> Result<(), AppError> {
        let mut tx = db.begin().await?;
        enter_group(
            &mut tx,
            settings,
            page.organization_id,
            page.group_id,
            user_id,
            None,
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

    /// What following a confirmation link did.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Confirmed {
        /// A new (or provisioned) account is active and in the group: sign them in.
        NewAccount { user_id: i64, organization_id: i64 },
        /// The address got a password meanwhile (another sign-up): in the
        /// group, but they log in with the password they have.
        ExistingAccount,
    }

    /// Confirms an email: in one transaction the request turns verified (a
    /// conditional update, so a link works once), the account exists and is
    /// active, and the person is in the group. The join page's current rules
    /// apply: a page turned off or a domain no longer allowed refuses.
    pub async fn confirm(db: &Db, settings: &Settings, token: &str) -> Result<Confirmed, AppError> {
        let now = now();
        let mut tx = db.begin().await?;
        type Claimed = (i64, i64, i64, String, String, String, String);
        let claimed: Option<Claimed> = sqlx::query_as(
            "UPDATE join_requests SET status = 'verified', verified_at = $2
             WHERE token_hash = $1 AND status = 'pending' AND expires_at > $2
             RETURNING id, organization_id, group_id, email, first_name, last_name, password_hash",
        )
        .bind(token_hash(token.trim()))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((
            request_id,
            organization_id,
            group_id,
            email,
            first_name,
            last_name,
            password_hash,
        )) = claimed
        else {
            return Err(AppError::NotFound);
        };
        let rules: Option<(String, i64)> = sqlx::query_as(
            "SELECT allowed_domains, allow_subdomains FROM join_pages WHERE organization_id = $1 AND enabled = 1",
        )
        .bind(organization_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((domains, subdomains)) = rules else {
            return Err(AppError::Conflict("closed".into()));
        };
        if !email_allowed(&email, &domains_from_db(&domains), subdomains != 0) {
            return Err(AppError::invalid("Email", "domain not allowed."));
        }
        let inserted: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO users (email, first_name, last_name, password_hash, status, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5) ON CONFLICT (email) DO NOTHING RETURNING id",
        )
        .bind(&email)
        .bind(&first_name)
        .bind(&last_name)
        .bind(&password_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (user_id, new_account) = match inserted {
            Some((id,)) => (id, true),
            None => {
                // Created by an import (or invited) without a password yet:
                // the confirmed address may set one.
                let updated: Option<(i64,)> = sqlx::query_as(
                    "UPDATE users SET first_name = $1, last_name = $2, password_hash = $3, status = 'active'
                     WHERE email = $4 AND password_hash IS NULL RETURNING id",
                )
                .bind(&first_name)
                .bind(&last_name)
                .bind(&password_hash)
                .bind(&email)
                .fetch_optional(&mut *tx)
                .await?;
                match updated {
                    Some((id,)) => (id, true),
                    None => {
                        let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE email = $1")
                            .bind(&email)
                            .fetch_one(&mut *tx)
                            .await?;
                        (id, false)
                    }
                }
            }
        };
        sqlx::query("UPDATE join_requests SET user_id = $1 WHERE id = $2")
            .bind(user_id)
            .bind(request_id)
            .execute(&mut *tx)
            .await?;
        enter_group(&mut tx, settings, organization_id, group_id, user_id, None).await?;
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

    // ----- The no-JavaScript forms -----

    #[derive(Debug, serde::Deserialize)]
    pub struct JoinForm {
        pub intent: String,
        #[serde(default)]
        pub email: String,
        #[serde(default)]
        pub password: String,
        #[serde(default)]
        pub first_name: String,
        #[serde(default)]
        pub last_name: String,
    }

    /// The short code the page turns into a message (never free text in the URL).
    pub fn error_code(error: &AppError) -> &'static str {
        match error {
            AppError::BadCredentials => "credentials",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Invalid { field, message }
                if field == "Email" && message.contains("domain") =>
            {
                "domain"
            }
            AppError::Invalid { field, .. } if field == "Email" => "email",
            AppError::Invalid { field, .. } if field == "Password" => "password",
            AppError::Invalid { field, .. } if field == "First name" => "first_name",
            AppError::Invalid { field, .. } if field == "Last name" => "last_name",
            AppError::Conflict(message) if message == "closed" => "closed",
            AppError::NotFound => "gone",
            _ => "internal",
        }
    }

    fn see_other(location: &str, cookie: Option<String>) -> axum::response::Response {
        let mut response = axum::response::Response::builder()
            .status(http::StatusCode::SEE_OTHER)
            .header(http::header::LOCATION, location)
            .header(http::header::REFERRER_POLICY, "no-referrer")
            .header(http::header::CACHE_CONTROL, "no-store");
        if let Some(cookie) = cookie {
            response = response.header(http::header::SET_COOKIE, cookie);
        }
        response.body(axum::body::Body::empty()).unwrap_or_default()
    }

    /// The answer to a post to a page that is off or does not exist: the
    /// same for both.
    pub fn not_found() -> axum::response::Response {
        axum::response::Response::builder()
            .status(http::StatusCode::NOT_FOUND)
            .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(axum::body::Body::from("Not found."))
            .unwrap_or_default()
    }

    fn session_cookie(settings: &Settings, token: Option<&str>) -> String {
        let secure = if settings.secure_cookies() {
            "; Secure"
        } else {
            ""
        };
        match token {
            Some(token) => format!(
                "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECS}{secure}"
            ),
            None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
        }
    }

    async fn end_session(db: &Db, session: Option<&String>) {
        if let Some(session) = session {
            if let Err(error) = sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(session))
                .execute(&db.pool)
                .await
            {
                tracing::error!(%error, "could not end session");
            }
        }
    }

    /// Signs the person in to the organization they joined and sends them home.
    async fn signed_in_home(
        state: &AppState,
        old_session: Option<&String>,
        user_id: i64,
        organization_id: i64,
    ) -> axum::response::Response {
        match create_session(&state.db, user_id, organization_id).await {
            Ok(token) => {
                end_session(&state.db, old_session).await;
                see_other("/", Some(session_cookie(&state.settings, Some(&token))))
            }
            Err(_) => see_other("/login", None),
        }
    }

    /// `POST /join/{slug}/submit` (rate limited per client address and per
    /// page by the server): sign up, log in and join, join while signed in,
    /// or log out to switch accounts. Answers with a redirect.
    pub async fn submit(
        axum::extract::State(state): axum::extract::State<AppState>,
        axum::extract::Path(slug): axum::extract::Path<String>,
        headers: http::HeaderMap,
        axum::Form(form): axum::Form<JoinForm>,
    ) -> axum::response::Response {
        let page = match open_page(&state.db, &slug).await {
            Ok(Some(page)) => page,
            Ok(None) => return not_found(),
            Err(_) => {
                return axum::response::Response::builder()
                    .status(http::StatusCode::INTERNAL_SERVER_ERROR)
                    .body(axum::body::Body::from("Something went wrong on our side."))
                    .unwrap_or_default()
            }
        };
        let slug = slug.trim().to_ascii_lowercase();
        let here = format!("/join/{slug}");
        let back = |code: &str| format!("{here}?error={code}");
        let session = session_from_headers(&headers);
        match form.intent.as_str() {
            "register" => match sign_up(
                &state.db,
                &state.settings,
                &page,
                &slug,
                &form.email,
                &form.first_name,
                &form.last_name,
                &form.password,
            )
            .await
            {
                Ok(()) => see_other(&format!("{here}?sent"), None),
                Err(error) => see_other(&back(error_code(&error)), None),
            },
            "login" => {
                // The domain first: a refused address learns nothing more.
                if !email_allowed(&form.email, &page.domains, page.allow_subdomains) {
                    return see_other(&back("domain"), None);
                }
                let user_id = match verify_login(&state, &form.email, &form.password).await {
                    Ok((user_id, _, _)) => user_id,
                    Err(error) => return see_other(&back(error_code(&error)), None),
                };
                if let Err(error) = join_existing(&state.db, &state.settings, &page, user_id).await
                {
                    return see_other(&back(error_code(&error)), None);
                }
                signed_in_home(&state, session.as_ref(), user_id, page.organization_id).await
            }
            "join" => {
                let user = match &session {
                    Some(session) => user_for_token(&state.db, session).await,
                    None => Ok(None),
                };
                let user = match user {
                    Ok(Some(user)) => user,
                    Ok(None) => return see_other(&back("signed_out"), None),
                    Err(error) => return see_other(&back(error_code(&error)), None),
                };
                if !email_allowed(&user.email, &page.domains, page.allow_subdomains) {
                    return see_other(&back("domain"), None);
                }
                if let Err(error) =
                    join_existing(&state.db, &state.settings, &page, user.user_id).await
                {
                    return see_other(&back(error_code(&error)), None);
                }
                signed_in_home(&state, session.as_ref(), user.user_id, page.organization_id).await
            }
            "logout" => {
                end_session(&state.db, session.as_ref()).await;
                see_other(&here, Some(session_cookie(&state.settings, None)))
            }
            _ => see_other(&back("internal"), None),
        }
    }

    /// `POST /verify-email/{token}/confirm`: the button on the confirmation
    /// page (a GET never confirms, so link scanners cannot use the token up).
    pub async fn confirm_handler(
        axum::extract::State(state): axum::extract::State<AppState>,
        axum::extract::Path(token): axum::extract::Path<String>,
        headers: http::HeaderMap,
    ) -> axum::response::Response {
        let back = |code: &str| format!("/verify-email/{token}?error={code}");
        match confirm(&state.db, &state.settings, &token).await {
            Ok(Confirmed::NewAccount {
                user_id,
                organization_id,
            }) => {
                let session = session_from_headers(&headers);
                signed_in_home(&state, session.as_ref(), user_id, organization_id).await
            }
            Ok(Confirmed::ExistingAccount) => see_other(&format!("/verify-email/{token}"), None),
            Err(AppError::NotFound) => see_other(&format!("/verify-email/{token}"), None),
            Err(error) => see_other(&back(error_code(&error)), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lowercase_letters_digits_and_hyphens() {
        assert_eq!(check_slug(" Riverside-2026 ").unwrap(), "riverside-2026");
        assert!(check_slug("ab").is_err());
        assert!(check_slug(&"a".repeat(41)).is_err());
        assert!(check_slug(&"a".repeat(40)).is_ok());
        assert!(check_slug("river side").is_err());
        assert!(check_slug("river_side").is_err());
        assert!(check_slug("rivérside").is_err());
        assert!(check_slug("-river").is_err());
        assert!(check_slug("river-").is_err());
        assert!(check_slug("river--side").is_err());
        assert!(check_slug("admin").unwrap_err().contains("reserved"));
        assert!(check_slug("Verify").unwrap_err().contains("reserved"));
    }

    #[test]
    fn domains_are_normalized_and_checked() {
        assert_eq!(
            parse_domains("@School.edu, example.org\nschool.edu  mail.example.org.").unwrap(),
            vec!["school.edu", "example.org", "mail.example.org"]
        );
        assert!(parse_domains("").unwrap().is_empty());
        assert!(parse_domains("localhost").is_err());
        assert!(parse_domains("exa mple.org").is_err()); // two words: "exa" is no domain
        assert!(parse_domains("exa_mple.org").is_err());
        assert!(parse_domains("-bad.org").is_err());
        assert!(parse_domains("a..org").is_err());
    }

    #[test]
    fn allowlist_matches_exact_domains_and_optionally_subdomains() {
        let domains = vec!["school.edu".to_owned()];
        assert!(email_allowed("anyone@anywhere.org", &[], false));
        assert!(email_allowed("lin@school.edu", &domains, false));
        assert!(email_allowed("Lin@SCHOOL.edu", &domains, false));
        assert!(!email_allowed("lin@mail.school.edu", &domains, false));
        assert!(email_allowed("lin@mail.school.edu", &domains, true));
        assert!(!email_allowed("lin@evilschool.edu", &domains, true));
        assert!(!email_allowed("lin@school.edu.evil.org", &domains, true));
        assert!(!email_allowed("school.edu", &domains, true));
        assert!(!email_allowed("lin@.school.edu", &domains, true));
    }

    #[test]
    fn allowlist_sentence_names_every_domain() {
        assert_eq!(allowlist_sentence(&[], true), None);
        assert_eq!(
            allowlist_sentence(&["a.org".into(), "b.org".into(), "c.org".into()], false).unwrap(),
            "Only email addresses at a.org, b.org or c.org can join."
        );
        assert!(allowlist_sentence(&["a.org".into()], true)
            .unwrap()
            .contains("(or a subdomain)"));
    }
}
