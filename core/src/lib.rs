//! The Muster import engine: bytes → [`parse::Workbook`] → [`mapping::Mapping`] →
//! [`validate::Checked`] → [`plan::Plan`].
//!
//! Everything here is a pure function of its inputs so that the browser (compiled to
//! wasm32) and the server reach the same verdict on every row. The server gathers
//! [`plan::Facts`] itself and never trusts the browser's result.

pub mod check;
pub mod email;
pub mod header;
pub mod issue;
pub mod kinds;
pub mod limits;
pub mod mapping;
pub mod name;
pub mod parse;
pub mod payload;
pub mod plan;
pub mod validate;

mod arena;
mod text;
mod values;

#[cfg(feature = "read")]
pub use check::{check, check_with};
pub use check::{sheets_to_check, CheckOptions, CheckReport};
pub use email::{Email, EmailError};
pub use header::{header_key, header_words};
pub use issue::{Issue, IssueCode, Issues, Severity};
pub use kinds::{ColumnSpec, FieldId, ImportKind, Requirement, Role, ValueType};
pub use limits::Limits;
pub use mapping::{header_row_key, map_headers, Mapping, MappingOverrides};
pub use name::{NameError, PersonName};
#[cfg(feature = "read")]
pub use parse::parse_bytes;
pub use parse::{ParseError, ParseOptions, Sheet, SourceRow, Workbook};
pub use payload::{PayloadCheck, PayloadSheet, RowsPayload};
pub use plan::{plan, Facts, Plan, PlanOptions, PlanTotals, PlannedAction};
pub use text::{grid, thousands};
pub use validate::{
    validate, validate_owned, Checked, CheckedRow, RowStatus, Totals, ValidationOptions,
};
pub use values::{MoreValues, RowValues};
