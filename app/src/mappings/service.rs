//! Remembering a confirmed mapping, finding it for a header row, applying it
//! to a payload without header choices, and forgetting it.

use std::borrow::Cow;

use muster_core::{header_row_key, map_headers, ImportKind, MappingOverrides, RowsPayload};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::{store, RememberedMapping};
use crate::{
    audit::{
        service::{record, AuditEntry},
        AuditAction, Subject,
    },
    auth::CurrentUser,
    db::{Db, Tx},
    error::AppError,
    state::now,
};

/// The key of a header row: a hash of its headers as the engine compares them.
pub fn headers_hash(headers: &[String]) -> String {
    hex::encode(Sha256::digest(header_row_key(headers).as_bytes()))
}

fn to_json(value: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|error| {
        tracing::error!(%error, "a mapping cannot be written as JSON");
        AppError::Internal
    })
}

fn remembered(row: store::MappingRow) -> Result<RememberedMapping, AppError> {
    let overrides = serde_json::from_str(&row.overrides).map_err(|error| {
        tracing::error!(%error, id = row.id, "a remembered mapping cannot be read");
        AppError::Internal
    })?;
    Ok(RememberedMapping {
        id: row.id,
        overrides,
        source_name: row.source_name,
        import_id: row.import_id,
        remembered_at: row.created_at,
    })
}

async fn find(
    conn: &mut AnyConnection,
    organization_id: i64,
    kind: ImportKind,
    headers: &[String],
) -> Result<Option<RememberedMapping>, AppError> {
    store::find(
        &mut *conn,
        organization_id,
        kind.as_str(),
        &headers_hash(headers),
    )
    .await?
    .map(remembered)
    .transpose()
}

pub async fn lookup(
    db: &Db,
    organization_id: i64,
    kind: ImportKind,
    headers: &[String],
) -> Result<Option<RememberedMapping>, AppError> {
    let mut conn = db.pool.acquire().await?;
    find(&mut conn, organization_id, kind, headers).await
}

pub async fn forget(db: &Db, user: &CurrentUser, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let forgotten = store::delete(&mut tx, user.organization_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let headers: Vec<String> = serde_json::from_str(&forgotten.headers).unwrap_or_default();
    let mut entry = AuditEntry::by(user, AuditAction::MappingForgotten).details(format!(
        "Files with the headers {} map automatically again.",
        headers
            .iter()
            .map(|header| format!("{header:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Named by the import it was remembered from.
    entry = match forgotten.import_id {
        Some(import_id) => entry.subject(Subject::Import, import_id, &forgotten.source_name),
        None => entry.subject_named(Subject::Import, &forgotten.source_name),
    };
    record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// The payload with the organization's remembered mapping applied to every
/// sheet the admin made no header choice on (an upload without JavaScript,
/// an API client): such a file maps as the wizard would have shown it.
pub async fn apply_remembered<'p>(
    conn: &mut AnyConnection,
    organization_id: i64,
    payload: &'p RowsPayload,
) -> Result<Cow<'p, RowsPayload>, AppError> {
    let mut applied = Cow::Borrowed(payload);
    for (index, sheet) in payload.sheets.iter().enumerate() {
        if !sheet.overrides.columns.is_empty() {
            continue;
        }
        if let Some(found) = find(conn, organization_id, payload.kind, &sheet.headers).await? {
            applied.to_mut().sheets[index].overrides = found.overrides;
        }
    }
    Ok(applied)
}

/// Inside an import's confirmation: each sheet whose header choices map it
/// differently from the automatic mapping is remembered for its header row
/// (unless the same mapping is remembered already, which keeps its date);
/// one the admin mapped back to the automatic mapping is forgotten.
pub async fn remember(
    tx: &mut Tx,
    organization_id: i64,
    created_by: i64,
    import_id: i64,
    source_name: &str,
    payload: &RowsPayload,
) -> Result<(), AppError> {
    let kind = payload.kind;
    for sheet in &payload.sheets {
        if sheet.overrides.columns.is_empty() {
            continue;
        }
        let chosen = map_headers(kind, &sheet.headers, &sheet.overrides);
        let automatic = map_headers(kind, &sheet.headers, &MappingOverrides::default());
        let hash = headers_hash(&sheet.headers);
        if chosen.fields() == automatic.fields() {
            store::delete_for(&mut **tx, organization_id, kind.as_str(), &hash).await?;
            continue;
        }
        let overrides = chosen.confirmed();
        let known = find(tx, organization_id, kind, &sheet.headers).await?;
        if known.is_some_and(|known| known.overrides == overrides) {
            continue;
        }
        let new = store::NewMapping {
            organization_id,
            kind: kind.as_str(),
            headers_hash: &hash,
            headers: &to_json(&sheet.headers)?,
            overrides: &to_json(&overrides)?,
            import_id,
            source_name,
            created_by,
        };
        store::upsert(tx, &new, now()).await?;
        tracing::info!(organization_id, import_id, kind = %kind, "column mapping remembered");
    }
    Ok(())
}
