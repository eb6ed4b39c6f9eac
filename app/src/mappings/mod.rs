//! Remembered column mappings: when an admin confirms an import whose header
//! mapping they changed, the organization remembers it for that kind and
//! header row; the next file with the same headers maps the same way (in the
//! wizard, and on the server for a payload without header choices), until
//! an admin forgets it.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use muster_core::{ImportKind, MappingOverrides};
use serde::{Deserialize, Serialize};

use crate::{error::AppError, mail::templates::format_day_month};

#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

/// A mapping remembered for a header row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedMapping {
    pub id: i64,
    /// What each column of the header row maps to.
    pub overrides: MappingOverrides,
    /// The file of the import it was confirmed with.
    pub source_name: String,
    pub import_id: Option<i64>,
    pub remembered_at: i64,
}

impl RememberedMapping {
    /// "Columns mapped as remembered from the import of 3 Sept (file roster.csv)".
    pub fn note(&self) -> String {
        format!(
            "Columns mapped as remembered from the import of {} (file {})",
            format_day_month(self.remembered_at),
            self.source_name
        )
    }
}

/// The organization's remembered mapping for this kind and header row, if any.
#[server(endpoint = "mappings/lookup", input = Json)]
pub async fn lookup_mapping(
    kind: ImportKind,
    headers: Vec<String>,
) -> Result<Option<RememberedMapping>, AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::lookup(&state.db, user.organization_id, kind, &headers).await
}

/// Forgets a remembered mapping: files with its headers map automatically again.
#[server(endpoint = "mappings/forget")]
pub async fn forget_mapping(id: i64) -> Result<(), AppError> {
    let (state, user) = crate::auth::service::require_admin().await?;
    service::forget(&state.db, &user, id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_note_names_the_day_and_the_file() {
        let remembered = RememberedMapping {
            id: 1,
            overrides: MappingOverrides::default(),
            source_name: "roster.csv".into(),
            import_id: Some(4),
            // 2026-09-03 12:00 UTC
            remembered_at: 1_788_436_800,
        };
        assert_eq!(
            remembered.note(),
            "Columns mapped as remembered from the import of 3 Sept (file roster.csv)"
        );
    }
}
