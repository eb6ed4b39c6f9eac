//! Plain HTTP endpoints around imports: the upload of the no-JavaScript form,
//! the failed-rows file and the templates.

use axum::{
    extract::{Multipart, Path, State},
    response::{IntoResponse, Response},
};
use http::{header, StatusCode};
use muster_core::{parse_bytes, FieldId, ImportKind, Limits, ParseOptions, RowsPayload};

use super::{failed_rows::failed_rows_csv, service, ImportOptions};
use crate::{
    error::AppError,
    links::{server::see_other, session::Admin},
    state::AppState,
};

/// Pasted lists longer than this are not carried back in the address (browsers
/// and proxies cut long URLs); the admin pastes them again.
const KEPT_PASTE_BYTES: usize = 4000;

/// Back to the wizard with the refusal and what the admin chose and typed, so
/// nothing has to be entered twice (only a file must be chosen again: no browser
/// lets a page choose it). Import refusals name the row and column at fault, so
/// the sentence itself travels, not a code.
fn back_with_error(error: &AppError, form: Option<&UploadForm>) -> Response {
    let encode = crate::pages::encode_query_value;
    let mut url = format!("/admin/imports/new?error={}", encode(&error.to_string()));
    if let Some(form) = form {
        let fields = [
            ("kind", form.kind.as_deref()),
            ("group_id", form.group_id.as_deref()),
            ("contract_id", form.contract_id.as_deref()),
            ("expiry_days", form.expiry_days.as_deref()),
            (
                "send_emails",
                Some(if form.send_emails { "on" } else { "off" }),
            ),
            (
                "auto_invite",
                Some(if form.auto_invite { "on" } else { "off" }),
            ),
            (
                "paste",
                Some(form.paste.as_str()).filter(|p| p.len() <= KEPT_PASTE_BYTES),
            ),
            ("file_name", form.file_name.as_deref()),
        ];
        for (name, value) in fields {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                url.push_str(&format!("&{name}={}", encode(value)));
            }
        }
    }
    see_other(&url, None)
}

/// A browser that is not signed in goes to the login page; other refusals stand.
fn signed_out_to_login(refusal: Response) -> Response {
    if refusal.status() == StatusCode::UNAUTHORIZED {
        see_other("/login", None)
    } else {
        refusal
    }
}

/// An upload's fields: the no-JavaScript wizard's form, and the API's
/// `POST /api/v1/imports/upload`, which takes the same fields.
#[derive(Default)]
pub struct UploadForm {
    pub kind: Option<String>,
    pub group_id: Option<String>,
    pub contract_id: Option<String>,
    pub expiry_days: Option<String>,
    pub send_emails: bool,
    pub auto_invite: bool,
    /// The API's: keep the import as a draft until it is confirmed.
    pub draft: bool,
    pub paste: String,
    pub file_name: Option<String>,
    pub file: Vec<u8>,
    pub idempotency_key: Option<String>,
}

/// A checkbox's or an API client's yes: present and not "false", "0" or "off".
fn is_yes(value: &str) -> bool {
    !matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "false" | "0" | "off" | "no"
    )
}

pub async fn read_form(mut multipart: Multipart) -> Result<UploadForm, AppError> {
    let mut form = UploadForm::default();
    let unreadable = |_| AppError::invalid("File", "the upload did not arrive whole; try again.");
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                form.file_name = field
                    .file_name()
                    .map(str::to_owned)
                    .filter(|n| !n.is_empty());
                form.file = field.bytes().await.map_err(unreadable)?.to_vec();
            }
            _ => {
                let value = field.text().await.map_err(unreadable)?;
                match name.as_str() {
                    "kind" => form.kind = Some(value),
                    "group_id" => form.group_id = Some(value),
                    "contract_id" => form.contract_id = Some(value),
                    "expiry_days" => form.expiry_days = Some(value),
                    "send_emails" => form.send_emails = is_yes(&value),
                    "auto_invite" => form.auto_invite = is_yes(&value),
                    "draft" => form.draft = is_yes(&value),
                    "paste" => form.paste = value,
                    "idempotency_key" => form.idempotency_key = Some(value),
                    _ => {}
                }
            }
        }
    }
    Ok(form)
}

fn optional_id(value: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid(field, "choose one from the list.")),
    }
}

/// The rows of an uploaded file or pasted list, and the options that go with them.
pub fn payload_of(form: &UploadForm) -> Result<(ImportOptions, RowsPayload), AppError> {
    let kind: ImportKind = form
        .kind
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|_| AppError::invalid("What to import", "choose what to import."))?;
    let (bytes, file_name, source_name) = if !form.file.is_empty() {
        let name = form.file_name.clone().unwrap_or_else(|| "upload".into());
        (form.file.as_slice(), Some(name.clone()), name)
    } else if !form.paste.trim().is_empty() {
        (form.paste.as_bytes(), None, "Pasted list".to_owned())
    } else {
        return Err(AppError::invalid(
            "File",
            "choose a file or paste the list first.",
        ));
    };
    let options = ParseOptions {
        header_keys: kind.header_keys(),
        ..ParseOptions::default()
    };
    let workbook = parse_bytes(bytes, file_name.as_deref(), &options, &Limits::default())
        .map_err(|error| AppError::invalid("File", error.to_string()))?;
    let payload = RowsPayload::from_workbook(kind, workbook, Default::default());
    let expiry_days = match form.expiry_days.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(days) => Some(days.parse().map_err(|_| {
            AppError::invalid("Expiry days", "enter a whole number of days from 1 to 365.")
        })?),
    };
    Ok((
        ImportOptions {
            kind,
            group_id: optional_id(form.group_id.as_deref(), "Group")?,
            contract_id: optional_id(form.contract_id.as_deref(), "Contract")?,
            send_emails: form.send_emails,
            auto_invite: form.auto_invite,
            expiry_days,
            source_name,
            sync: false,
        },
        payload,
    ))
}

/// `POST /admin/imports/upload`: the wizard without JavaScript. The server runs
/// the same engine, stores a draft and shows it for confirmation.
pub async fn upload(
    State(state): State<AppState>,
    admin: Result<Admin, Response>,
    multipart: Multipart,
) -> Response {
    // Anyone else, signed in or not, is sent to log in (as an admin).
    let Ok(Admin(user)) = admin else {
        return see_other("/login", None);
    };
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(error) => return back_with_error(&error, None),
    };
    let result = async {
        let (options, payload) = payload_of(&form)?;
        let key = form
            .idempotency_key
            .clone()
            .filter(|k| k.len() >= 16)
            .unwrap_or_else(crate::links::server::new_token);
        service::create(
            &state.db,
            &user,
            &options,
            &payload,
            &key,
            service::Stage::Draft,
            None,
        )
        .await
    }
    .await;
    match result {
        Ok(id) => see_other(&format!("/admin/imports/{id}"), None),
        Err(error) => back_with_error(&error, Some(&form)),
    }
}

/// `GET /admin/imports/{id}/failed.csv`: the rows that failed, in the kind's
/// template columns plus an Error column, ready to fix and import again.
pub async fn failed_rows(
    State(state): State<AppState>,
    admin: Result<Admin, Response>,
    Path(id): Path<i64>,
) -> Response {
    let user = match admin {
        Ok(Admin(user)) => user,
        Err(refusal) => return signed_out_to_login(refusal),
    };
    match failed_rows_csv(&state.db, user.organization_id, id, true).await {
        Ok((import, csv, _)) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"import-{id}-{}-failed-rows.csv\"",
                        import.kind
                    ),
                ),
            ],
            // A byte order mark makes Excel read UTF-8 names correctly.
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(AppError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `GET /admin/imports/template/{kind}.csv` (and `people.xlsx`): headers only,
/// built from the engine's column specs so they always pass the checks.
pub async fn template(Path(file): Path<String>) -> Response {
    let (stem, extension) = file.rsplit_once('.').unwrap_or((&file, ""));
    let Ok(kind) = stem.parse::<ImportKind>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match extension {
        "csv" => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"muster-{kind}-template.csv\""),
                ),
            ],
            kind.template_csv(),
        )
            .into_response(),
        "xlsx" if kind == ImportKind::People => match people_workbook() {
            Ok(bytes) => (
                [
                    (
                        header::CONTENT_TYPE,
                        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                            .to_owned(),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"muster-people-template.xlsx\"".to_owned(),
                    ),
                ],
                bytes,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "could not build the people template");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        },
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The columns of one tab of the People template.
fn template_columns(
    tab: &str,
) -> impl Iterator<Item = &'static muster_core::kinds::ColumnSpec> + '_ {
    ImportKind::People
        .columns()
        .iter()
        .filter(|c| c.field != FieldId::Role)
        .filter(move |c| match tab {
            "Students" => c.field != FieldId::StudentEmails,
            _ => !matches!(
                c.field,
                FieldId::Username | FieldId::ParentEmails | FieldId::InstructorEmails
            ),
        })
}

/// Students / Instructors / Parents tabs; the tab gives the role, so no Role column.
pub fn people_workbook() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for tab in ["Students", "Instructors", "Parents"] {
        let sheet = workbook.add_worksheet();
        sheet.set_name(tab)?;
        for (i, column) in template_columns(tab).enumerate() {
            sheet.write_string_with_format(0, i as u16, column.header, &bold)?;
            sheet.set_column_width(i as u16, 24)?;
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_people_workbook_has_three_role_tabs_whose_headers_map_cleanly() {
        let bytes = people_workbook().unwrap();
        let options = ParseOptions {
            header_keys: ImportKind::People.header_keys(),
            ..ParseOptions::default()
        };
        // Uploaded unchanged, the template says what is missing.
        match parse_bytes(&bytes, Some("people.xlsx"), &options, &Limits::default()) {
            Err(muster_core::parse::ParseError::NoDataRows { sheet, .. }) => {
                assert_eq!(sheet, "Students")
            }
            other => panic!("expected NoDataRows, got {other:?}"),
        }
        for tab in ["Students", "Instructors", "Parents"] {
            let headers: Vec<String> = template_columns(tab).map(|c| c.header.to_owned()).collect();
            let mapping =
                muster_core::map_headers(ImportKind::People, &headers, &Default::default());
            assert!(!mapping.has_errors(), "{tab}: {:?}", mapping.issues);
        }
    }
}
