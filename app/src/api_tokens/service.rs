//! Creating, listing and revoking tokens, and turning a presented token
//! into the caller it acts as.

use super::{store, CreatedToken, Scope, TokenName, TokenSummary, TOKEN_PREFIX};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    db::Db,
    error::AppError,
    links::server::{new_token, token_hash},
    state::now,
};

/// `last_used_at` is written at most this often per token: reads stay reads.
const TOUCH_EVERY_SECS: i64 = 60;
/// How many characters of a token its hint shows (the prefix and six more).
const HINT_CHARS: usize = TOKEN_PREFIX.len() + 6;

/// A request's token, resolved: the admin it acts as and what it may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub scope: Scope,
    pub user: CurrentUser,
}

pub async fn list(db: &Db, organization_id: i64) -> Result<Vec<TokenSummary>, AppError> {
    store::list(&db.pool, organization_id)
        .await?
        .into_iter()
        .map(|row| {
            Ok(TokenSummary {
                id: row.id,
                name: row.name,
                scope: row.scope.parse()?,
                hint: row.hint,
                created_by: row.created_by,
                created_at: row.created_at,
                last_used_at: row.last_used_at,
                revoked_at: row.revoked_at,
            })
        })
        .collect()
}

pub async fn create(
    db: &Db,
    user: &CurrentUser,
    name: &TokenName,
    scope: Scope,
) -> Result<CreatedToken, AppError> {
    // 256 random bits, hex: what sessions and emailed links are made of.
    let token = format!("{TOKEN_PREFIX}{}", new_token());
    let hint = format!("{}…", &token[..HINT_CHARS]);
    let mut tx = db.begin().await?;
    let id = store::insert(
        &mut tx,
        &store::NewToken {
            organization_id: user.organization_id,
            name: name.as_str(),
            scope: scope.as_str(),
            token_hash: &token_hash(&token),
            hint: &hint,
            created_by: user.user_id,
        },
        now(),
    )
    .await?;
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::ApiTokenCreated)
            .subject(Subject::ApiToken, id, name.as_str())
            .details(format!("Scope: {}", scope.label())),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id,
        name: name.as_str().to_owned(),
        scope,
        token,
    })
}

pub async fn revoke(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let name = store::revoke(&mut tx, user.organization_id, id, user.user_id, now())
        .await?
        .ok_or(AppError::NotFound)?;
    record(
        &mut tx,
        &AuditEntry::by(user, AuditAction::ApiTokenRevoked).subject(Subject::ApiToken, id, &name),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The caller a presented token acts as, or `None` for a token that is
/// unknown, revoked, or whose admin is no longer an admin there.
pub async fn authenticate(db: &Db, presented: &str) -> Result<Option<Caller>, AppError> {
    if !presented.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some(found) = store::bearer(&db.pool, &token_hash(presented)).await? else {
        return Ok(None);
    };
    let role: crate::auth::Role = found.role.parse().map_err(|_| AppError::Internal)?;
    if role != crate::auth::Role::Admin {
        return Ok(None);
    }
    let now = now();
    if found
        .last_used_at
        .is_none_or(|used| used < now - TOUCH_EVERY_SECS)
    {
        store::touch(&db.pool, found.token_id, now).await?;
    }
    Ok(Some(Caller {
        token_id: found.token_id,
        scope: found.scope.parse()?,
        user: CurrentUser {
            user_id: found.user_id,
            organization_id: found.organization_id,
            organization_name: found.organization_name,
            email: found.email,
            first_name: found.first_name,
            last_name: found.last_name,
            role,
            via_token: Some(found.token_name),
        },
    }))
}
