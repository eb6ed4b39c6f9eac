//! Every statement on `remembered_mappings`.

use sqlx::{Any, Executor};

use crate::db::Tx;

#[derive(Debug, sqlx::FromRow)]
pub struct MappingRow {
    pub id: i64,
    /// JSON of the engine's `MappingOverrides`.
    pub overrides: String,
    pub source_name: String,
    pub import_id: Option<i64>,
    pub created_at: i64,
}

/// What is remembered for one header row.
pub struct NewMapping<'a> {
    pub organization_id: i64,
    pub kind: &'a str,
    pub headers_hash: &'a str,
    /// JSON of the header row as it was.
    pub headers: &'a str,
    pub overrides: &'a str,
    pub import_id: i64,
    pub source_name: &'a str,
    pub created_by: i64,
}

pub async fn find<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    kind: &str,
    headers_hash: &str,
) -> sqlx::Result<Option<MappingRow>> {
    sqlx::query_as(
        "SELECT id, overrides, source_name, import_id, created_at FROM remembered_mappings
         WHERE organization_id = $1 AND kind = $2 AND headers_hash = $3",
    )
    .bind(organization_id)
    .bind(kind)
    .bind(headers_hash)
    .fetch_optional(db)
    .await
}

/// Remembers a mapping, replacing what was remembered for the same header row.
pub async fn upsert(tx: &mut Tx, mapping: &NewMapping<'_>, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO remembered_mappings (organization_id, kind, headers_hash, headers, overrides,
                                          import_id, source_name, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (organization_id, kind, headers_hash) DO UPDATE SET
             headers = excluded.headers, overrides = excluded.overrides,
             import_id = excluded.import_id, source_name = excluded.source_name,
             created_by = excluded.created_by, created_at = excluded.created_at",
    )
    .bind(mapping.organization_id)
    .bind(mapping.kind)
    .bind(mapping.headers_hash)
    .bind(mapping.headers)
    .bind(mapping.overrides)
    .bind(mapping.import_id)
    .bind(mapping.source_name)
    .bind(mapping.created_by)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets what is remembered for a header row.
pub async fn delete_for<'c>(
    db: impl Executor<'c, Database = Any>,
    organization_id: i64,
    kind: &str,
    headers_hash: &str,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM remembered_mappings WHERE organization_id = $1 AND kind = $2 AND headers_hash = $3",
    )
    .bind(organization_id)
    .bind(kind)
    .bind(headers_hash)
    .execute(db)
    .await?
    .rows_affected())
}

/// What a forgotten mapping was: its header row (JSON) and where it came from.
#[derive(Debug, sqlx::FromRow)]
pub struct Forgotten {
    pub headers: String,
    pub import_id: Option<i64>,
    pub source_name: String,
}

/// Forgets one of the organization's remembered mappings.
pub async fn delete(tx: &mut Tx, organization_id: i64, id: i64) -> sqlx::Result<Option<Forgotten>> {
    sqlx::query_as(
        "DELETE FROM remembered_mappings WHERE organization_id = $1 AND id = $2
         RETURNING headers, import_id, source_name",
    )
    .bind(organization_id)
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
}
