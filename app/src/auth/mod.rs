//! Organizations' first run, logging in and out, and who is calling.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Instructor,
    Learner,
    Parent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Instructor => "instructor",
            Role::Learner => "learner",
            Role::Parent => "parent",
        }
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    pub fn parse(value: &str) -> Option<Role> {
        match value {
            "admin" => Some(Role::Admin),
            "instructor" => Some(Role::Instructor),
            "learner" => Some(Role::Learner),
            "parent" => Some(Role::Parent),
            _ => None,
        }
    }
}

/// The person behind the current session, in the organization they are working in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: i64,
    pub organization_id: i64,
    pub organization_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
}

/// What the front page needs to decide between first-run setup, login and the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bootstrap {
    pub has_organization: bool,
    pub open_signup: bool,
    pub user: Option<CurrentUser>,
}

#[server(endpoint = "bootstrap")]
pub async fn get_bootstrap() -> Result<Bootstrap, AppError> {
    let state = crate::state::app_state()?;
    let has_organization = server::organization_exists(&state.db).await?;
    let user = server::current_user(&state).await?;
    Ok(Bootstrap {
        has_organization,
        open_signup: state.settings.open_signup,
        user,
    })
}

#[server(endpoint = "create_organization")]
pub async fn create_organization(
    organization_name: String,
    first_name: String,
    last_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let input = server::NewOrganization {
        organization_name,
        first_name,
        last_name,
        email,
        password,
    };
    let (user_id, organization_id) =
        server::create_organization(&state.db, &state.settings, &input).await?;
    server::start_session(&state, user_id, organization_id).await?;
    leptos_axum::redirect("/admin/groups");
    Ok(())
}

#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    let (user_id, organization_id, role) = server::verify_login(&state, &email, &password).await?;
    server::start_session(&state, user_id, organization_id).await?;
    leptos_axum::redirect(if role == Role::Admin {
        "/admin/groups"
    } else {
        "/"
    });
    Ok(())
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    server::end_session(&state).await?;
    leptos_axum::redirect("/login");
    Ok(())
}

#[cfg(feature = "ssr")]
pub mod server {
    //! Plain functions behind the server functions, testable without a request.

    use argon2::{
        password_hash::{
            rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
        },
        Argon2,
    };
    use http::header;
    use muster_core::{email::Email, name::PersonName};

    use super::{CurrentUser, Role};
    use crate::{
        db::Db,
        error::AppError,
        links::server::{
            append_response_header, new_token, session_cookie, session_from_headers, token_hash,
            SESSION_TTL_SECS,
        },
        state::{now, AppState, Settings},
    };

    pub const MIN_PASSWORD_CHARS: usize = 10;
    const MAX_PASSWORD_CHARS: usize = 256;

    pub struct NewOrganization {
        pub organization_name: String,
        pub first_name: String,
        pub last_name: String,
        pub email: String,
        pub password: String,
    }

    pub async fn organization_exists(db: &Db) -> Result<bool, AppError> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM organizations LIMIT 1")
            .fetch_optional(&db.pool)
            .await?;
        Ok(row.is_some())
    }

    pub fn organization_name(raw: &str) -> Result<String, AppError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(AppError::invalid("Organization name", "is required."));
        }
        if name.chars().count() > 120 {
            return Err(AppError::invalid(
                "Organization name",
                "must be at most 120 characters.",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "Organization name",
                "must not contain control characters.",
            ));
        }
        Ok(name.to_owned())
    }

    pub fn check_password(password: &str) -> Result<(), AppError> {
        let chars = password.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(AppError::invalid(
                "Password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters."),
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(AppError::invalid(
                "Password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters."),
            ));
        }
        Ok(())
    }

    pub fn hash_password(password: &str) -> Result<String, AppError> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| {
                tracing::error!(%error, "password hashing failed");
                AppError::Internal
            })
    }

    fn password_matches(password: &str, stored: &str) -> bool {
        PasswordHash::new(stored)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    fn parse_email(raw: &str) -> Result<Email, AppError> {
        Email::parse(raw).map_err(|error| AppError::invalid("Email", error.to_string()))
    }

    fn parse_name(field: &str, raw: &str) -> Result<PersonName, AppError> {
        PersonName::parse(raw).map_err(|error| AppError::invalid(field, error.to_string()))
    }

    /// Creates an organization with its first admin. Allowed on an empty
    /// database, and afterwards only when open sign-up is configured.
    pub async fn create_organization(
        db: &Db,
        settings: &Settings,
        input: &NewOrganization,
    ) -> Result<(i64, i64), AppError> {
        let organization_name = organization_name(&input.organization_name)?;
        let first_name = parse_name("First name", &input.first_name)?;
        let last_name = parse_name("Last name", &input.last_name)?;
        let email = parse_email(&input.email)?;
        check_password(&input.password)?;
        let password_hash = hash_password(&input.password)?;
        let now = now();

        let mut tx = db.begin().await?;
        let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM organizations LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if existing.is_some() && !settings.open_signup {
            return Err(AppError::Forbidden);
        }
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE email = $1")
            .bind(email.key().to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Err(AppError::Conflict(
                "An account with this email already exists. Log in instead.".into(),
            ));
        }
        let (organization_id,): (i64,) = sqlx::query_as(
            "INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(&organization_name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let (user_id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (email, first_name, last_name, password_hash, status, created_at)
             VALUES ($1, $2, $3, $4, 'active', $5) RETURNING id",
        )
        .bind(email.key().to_string())
        .bind(first_name.as_str())
        .bind(last_name.as_str())
        .bind(&password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, 'admin', $3)",
        )
        .bind(organization_id)
        .bind(user_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(organization_id, user_id, "organization created");
        Ok((user_id, organization_id))
    }

    /// Checks an email and password. The error is the same whether the email
    /// is unknown or the password wrong, and a dummy hash is verified for
    /// unknown emails so timing does not tell them apart either.
    pub async fn verify_login(
        state: &AppState,
        email: &str,
        password: &str,
    ) -> Result<(i64, i64, Role), AppError> {
        let key = email.trim().to_lowercase();
        let now = now();
        let settings = &state.settings;
        if let Some(wait) = state.login_limiter.locked_for(
            &key,
            now,
            settings.login_max_failures,
            settings.login_window_secs,
        ) {
            return Err(AppError::RateLimited {
                minutes: ((wait + 59) / 60).max(1) as u32,
            });
        }
        let found: Option<(i64, Option<String>)> =
            match Email::parse(email) {
                Ok(email) => sqlx::query_as(
                    "SELECT id, password_hash FROM users WHERE email = $1 AND status = 'active'",
                )
                .bind(email.key().to_string())
                .fetch_optional(&state.db.pool)
                .await?,
                Err(_) => None,
            };
        let verified = match &found {
            Some((_, Some(hash))) => password_matches(password, hash),
            _ => {
                let _ = password_matches(password, dummy_hash());
                false
            }
        };
        let Some((user_id, _)) = found.filter(|_| verified) else {
            state.login_limiter.record_failure(&key, now);
            return Err(AppError::BadCredentials);
        };
        state.login_limiter.clear(&key);
        // Admin memberships first: an admin who is also a learner elsewhere lands in their admin work.
        let membership: Option<(i64, String)> = sqlx::query_as(
            "SELECT organization_id, role FROM memberships WHERE user_id = $1
             ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, organization_id LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(&state.db.pool)
        .await?;
        let Some((organization_id, role)) = membership else {
            return Err(AppError::BadCredentials);
        };
        let role = Role::parse(&role).ok_or(AppError::Internal)?;
        Ok((user_id, organization_id, role))
    }

    /// A real hash of a throwaway password, verified when the email is unknown
    /// so that the response takes as long as for a known email.
    fn dummy_hash() -> &'static str {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        DUMMY.get_or_init(|| hash_password(&new_token()).unwrap_or_default())
    }

    pub async fn create_session(
        db: &Db,
        user_id: i64,
        organization_id: i64,
    ) -> Result<String, AppError> {
        let token = new_token();
        let now = now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, organization_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(organization_id)
        .bind(now)
        .bind(now + SESSION_TTL_SECS)
        .execute(&db.pool)
        .await?;
        Ok(token)
    }

    pub async fn start_session(
        state: &AppState,
        user_id: i64,
        organization_id: i64,
    ) -> Result<(), AppError> {
        let token = create_session(&state.db, user_id, organization_id).await?;
        append_response_header(
            header::SET_COOKIE,
            &session_cookie(&state.settings, Some(&token)),
        );
        Ok(())
    }

    pub async fn end_session(state: &AppState) -> Result<(), AppError> {
        if let Some(token) = session_token() {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash(&token))
                .execute(&state.db.pool)
                .await?;
        }
        append_response_header(header::SET_COOKIE, &session_cookie(&state.settings, None));
        Ok(())
    }

    /// The session token from the request's cookies, if any.
    pub fn session_token() -> Option<String> {
        let parts = leptos::prelude::use_context::<http::request::Parts>()?;
        session_from_headers(&parts.headers)
    }

    pub async fn user_for_token(db: &Db, token: &str) -> Result<Option<CurrentUser>, AppError> {
        let row: Option<(i64, i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT u.id, o.id, o.name, COALESCE(u.email, u.username, ''), u.first_name, u.last_name, m.role
             FROM sessions s
             JOIN users u ON u.id = s.user_id
             JOIN organizations o ON o.id = s.organization_id
             JOIN memberships m ON m.user_id = u.id AND m.organization_id = o.id
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&db.pool)
        .await?;
        Ok(row.and_then(
            |(user_id, organization_id, organization_name, email, first_name, last_name, role)| {
                Some(CurrentUser {
                    user_id,
                    organization_id,
                    organization_name,
                    email,
                    first_name,
                    last_name,
                    role: Role::parse(&role)?,
                })
            },
        ))
    }

    pub async fn current_user(state: &AppState) -> Result<Option<CurrentUser>, AppError> {
        match session_token() {
            Some(token) => user_for_token(&state.db, &token).await,
            None => Ok(None),
        }
    }

    /// The calling admin, or the reason they may not proceed. Every admin
    /// server function starts here and scopes its queries to the returned
    /// organization.
    pub async fn require_admin() -> Result<(AppState, CurrentUser), AppError> {
        let state = crate::state::app_state()?;
        let user = current_user(&state).await?.ok_or_else(|| {
            set_status(http::StatusCode::UNAUTHORIZED);
            AppError::NotAuthenticated
        })?;
        if user.role != Role::Admin {
            set_status(http::StatusCode::FORBIDDEN);
            return Err(AppError::Forbidden);
        }
        Ok((state, user))
    }

    /// The calling admin for a plain axum handler (uploads, downloads), from
    /// the session cookie in `headers`.
    pub async fn admin_from_headers(
        db: &Db,
        headers: &http::HeaderMap,
    ) -> Result<CurrentUser, AppError> {
        let token = session_from_headers(headers).ok_or(AppError::NotAuthenticated)?;
        let user = user_for_token(db, &token)
            .await?
            .ok_or(AppError::NotAuthenticated)?;
        if user.role != Role::Admin {
            return Err(AppError::Forbidden);
        }
        Ok(user)
    }

    pub fn set_status(status: http::StatusCode) {
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(status);
        }
    }
}
