//! Per-field and per-row rules. Cross-row rules (duplicates) live in `mod.rs`.

use crate::arena::Arena;
use crate::email::Email;
use crate::issue::{Issue, IssueCode, Severity};
use crate::kinds::{FieldId, ImportKind, Role};
use crate::name::PersonName;
use crate::text::looks_like_formula;
use crate::values::RowValues;

const MAX_TEXT_CHARS: usize = 255;
const MAX_GROUP_CHARS: usize = 100;

pub(crate) struct Ctx<'a> {
    pub kind: ImportKind,
    pub sheet: Option<&'a str>,
    pub sheet_role: Option<Role>,
    pub warn_formulas: bool,
    pub headers: &'a [(FieldId, String)],
}

impl Ctx<'_> {
    fn column(&self, field: FieldId) -> String {
        self.headers
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, h)| h.clone())
            .or_else(|| self.kind.column(field).map(|c| c.header.to_string()))
            .unwrap_or_else(|| field.as_str().to_string())
    }

    pub(crate) fn issue(
        &self,
        row: u32,
        field: FieldId,
        code: IssueCode,
        severity: Severity,
        message: String,
    ) -> Issue {
        Issue {
            row: Some(row),
            sheet: self.sheet.map(str::to_string),
            column: Some(self.column(field)),
            field: Some(field),
            code,
            severity,
            message,
        }
    }
}

/// Codes decided by several fields of one row; recomputed after any edit of the row.
pub(crate) fn is_row_rule(code: IssueCode) -> bool {
    matches!(
        code,
        IssueCode::EmailOrUsernameRequired
            | IssueCode::UsernameOnlyStudentNeedsParent
            | IssueCode::UsernameOnlyForStudents
            | IssueCode::AssociationWrongRole
            | IssueCode::RoleMissing
    )
}

/// Values quoted back to the admin are cut so one bad megabyte cell cannot flood the UI.
fn shown(raw: &str) -> String {
    const MAX: usize = 60;
    if raw.chars().count() <= MAX {
        raw.to_string()
    } else {
        let cut: String = raw.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

fn email_message(raw: &str, e: &crate::email::EmailError) -> String {
    format!("\"{}\" is not a valid email. {e}", shown(raw))
}

fn is_plain_number(s: &str) -> bool {
    s.parse::<f64>().is_ok()
}

/// Parses one cell into its typed slot, pushing the issues that cell alone causes.
pub(crate) fn apply_field(
    ctx: &Ctx<'_>,
    v: &mut RowValues,
    row: u32,
    field: FieldId,
    raw: &str,
    out: &mut Vec<Issue>,
) {
    let raw = crate::text::trim(raw);
    if ctx.warn_formulas && looks_like_formula(raw) && !is_plain_number(raw) {
        out.push(ctx.issue(
            row,
            field,
            IssueCode::FormulaLikeValue,
            Severity::Warning,
            format!("\"{}\" starts with \"{}\", so spreadsheet programs may run it as a formula. It will be imported as plain text; check it is what you meant.", shown(raw), &raw[..1]),
        ));
    }
    let err = |code, message: String| ctx.issue(row, field, code, Severity::Error, message);
    match field {
        FieldId::Email => {
            v.email = None;
            if raw.is_empty() {
                if ctx.kind != ImportKind::People {
                    out.push(err(IssueCode::EmailRequired, "Email is required.".into()));
                }
            } else {
                match Email::parse(raw) {
                    Ok(e) => v.email = Some(e),
                    Err(e) => out.push(err(IssueCode::EmailInvalid, email_message(raw, &e))),
                }
            }
        }
        FieldId::ExpiryDays => {
            v.expiry_days = None;
            if !raw.is_empty() {
                match parse_days(raw) {
                    Ok(d) => v.expiry_days = Some(d),
                    Err(code) => out.push(err(code, days_message(code, raw))),
                }
            }
        }
        FieldId::FirstName | FieldId::LastName | FieldId::FullName => {
            let required = ctx.kind.column(field).is_some_and(|c| c.required());
            let parsed = if raw.is_empty() {
                if required {
                    out.push(err(
                        IssueCode::NameRequired,
                        format!("{} is required.", ctx.column(field)),
                    ));
                }
                None
            } else {
                match PersonName::parse(raw) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        out.push(err(
                            IssueCode::NameInvalid,
                            format!("{}: {e}", ctx.column(field)),
                        ));
                        None
                    }
                }
            };
            let m = v.more_mut();
            match field {
                FieldId::FirstName => m.first_name = parsed,
                FieldId::LastName => m.last_name = parsed,
                _ => m.full_name = parsed,
            }
        }
        FieldId::ExternalId => {
            v.more_mut().external_id = text_value(ctx, row, field, raw, out);
        }
        FieldId::Username => {
            let mut value = text_value(ctx, row, field, raw, out);
            if let Some(u) = &value {
                if u.chars().count() < 3
                    || !u.chars().all(|c| c.is_alphanumeric() || "._-@".contains(c))
                {
                    out.push(err(IssueCode::UsernameInvalid, format!("Username \"{}\" must be at least 3 characters of letters, digits, dots, dashes or underscores, with no spaces.", shown(u))));
                    value = None;
                }
            }
            v.more_mut().username = value;
        }
        FieldId::Role => {
            let role = if raw.is_empty() {
                ctx.sheet_role
            } else {
                match Role::from_label(raw) {
                    None => {
                        out.push(err(
                            IssueCode::RoleUnknown,
                            format!(
                                "Role \"{}\" is not Student, Instructor or Parent.",
                                shown(raw)
                            ),
                        ));
                        None
                    }
                    Some(r) if ctx.sheet_role.is_some_and(|s| s != r) => {
                        out.push(err(
                            IssueCode::RoleConflictsWithSheet,
                            format!("Role says {r}, but this row is on the {} tab. Move the row or fix the Role.", ctx.sheet.unwrap_or_default()),
                        ));
                        None
                    }
                    Some(r) => Some(r),
                }
            };
            if role.is_some() || v.more.is_some() {
                v.more_mut().role = role;
            }
        }
        FieldId::ParentEmails | FieldId::InstructorEmails | FieldId::StudentEmails => {
            let mut list: Vec<Email> = Vec::new();
            for part in raw
                .split([';', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match Email::parse(part) {
                    Ok(e) if !list.contains(&e) => list.push(e),
                    Ok(_) => {}
                    Err(e) => out.push(err(
                        IssueCode::AssociationEmailInvalid,
                        format!(
                            "{}: \"{}\" is not a valid email. {e} Separate several emails with ;.",
                            ctx.column(field),
                            shown(part)
                        ),
                    )),
                }
            }
            let m = v.more_mut();
            match field {
                FieldId::ParentEmails => m.parent_emails = list,
                FieldId::InstructorEmails => m.instructor_emails = list,
                _ => m.student_emails = list,
            }
        }
        FieldId::Groups => {
            let mut groups: Vec<String> = Vec::new();
            for part in raw.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                if part.chars().count() > MAX_GROUP_CHARS || part.chars().any(char::is_control) {
                    out.push(err(IssueCode::GroupNameInvalid, format!("Group name \"{}\" is longer than {MAX_GROUP_CHARS} characters or contains a control character.", shown(part))));
                } else if !groups
                    .iter()
                    .any(|g| g.to_lowercase() == part.to_lowercase())
                {
                    groups.push(part.to_string());
                }
            }
            if !groups.is_empty() || v.more.is_some() {
                v.more_mut().groups = groups;
            }
        }
    }
}

/// The Email rule for a cell the caller owns; same verdicts as [`apply_field`].
/// The Email cell of a row being checked in bulk: as [`apply_field`], with the address
/// kept in the import's arena instead of an allocation of its own.
pub(crate) fn apply_email_in(
    ctx: &Ctx<'_>,
    v: &mut RowValues,
    row: u32,
    cell: &str,
    out: &mut Vec<Issue>,
    arena: &mut Arena,
) {
    let t = crate::text::trim(cell);
    if t.is_empty() || (ctx.warn_formulas && looks_like_formula(t)) {
        return apply_field(ctx, v, row, FieldId::Email, cell, out);
    }
    match Email::parse_in(t, arena) {
        Ok(e) => v.email = Some(e),
        Err(e) => {
            v.email = None;
            out.push(ctx.issue(
                row,
                FieldId::Email,
                IssueCode::EmailInvalid,
                Severity::Error,
                email_message(t, &e),
            ));
        }
    }
}

fn text_value(
    ctx: &Ctx<'_>,
    row: u32,
    field: FieldId,
    raw: &str,
    out: &mut Vec<Issue>,
) -> Option<String> {
    if raw.is_empty() {
        return None;
    }
    let len = raw.chars().count();
    if len > MAX_TEXT_CHARS {
        out.push(ctx.issue(
            row,
            field,
            IssueCode::ValueTooLong,
            Severity::Error,
            format!(
                "{} is {len} characters long; the limit is {MAX_TEXT_CHARS}.",
                ctx.column(field)
            ),
        ));
        return None;
    }
    if raw.chars().any(char::is_control) {
        out.push(ctx.issue(
            row,
            field,
            IssueCode::ValueHasControlCharacter,
            Severity::Error,
            format!(
                "{} contains an invisible control character.",
                ctx.column(field)
            ),
        ));
        return None;
    }
    Some(raw.to_string())
}

/// 1–365 whole days. Spreadsheets write whole numbers as "7" or "7.0"; both are fine.
pub(crate) fn parse_days(raw: &str) -> Result<u16, IssueCode> {
    let s = crate::text::trim(raw);
    let whole = s.strip_suffix(".0").unwrap_or(s);
    if let Ok(n) = whole.parse::<i64>() {
        return if (1..=365).contains(&n) {
            Ok(n as u16)
        } else {
            Err(IssueCode::ExpiryDaysOutOfRange)
        };
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && (1.0..=365.0).contains(&f) => Err(IssueCode::ExpiryDaysNotWhole),
        Ok(f) if f.is_finite() => Err(IssueCode::ExpiryDaysOutOfRange),
        _ => Err(IssueCode::ExpiryDaysNotANumber),
    }
}

fn days_message(code: IssueCode, raw: &str) -> String {
    let why = match code {
        IssueCode::ExpiryDaysNotWhole => "is not a whole number",
        IssueCode::ExpiryDaysOutOfRange => "is outside 1 to 365",
        _ => "is not a number",
    };
    format!("Expiry Days \"{}\" {why}. Use a whole number of days from 1 to 365, or leave it blank to use the group's default.", shown(raw))
}

/// Rules that look at several fields of the row at once.
pub(crate) fn row_rules(ctx: &Ctx<'_>, v: &RowValues, row: u32, out: &mut Vec<Issue>) {
    if ctx.kind != ImportKind::People {
        return;
    }
    let m = v.more();
    let role = m.role;
    if role.is_none()
        && !out.iter().any(|i| {
            matches!(
                i.code,
                IssueCode::RoleUnknown | IssueCode::RoleConflictsWithSheet
            )
        })
    {
        out.push(ctx.issue(
            row,
            FieldId::Role,
            IssueCode::RoleMissing,
            Severity::Error,
            "Role is missing. Put this person on a tab named Students, Instructors or Parents, or fill in the Role column.".into(),
        ));
    }
    let email_cell_bad = out.iter().any(|i| i.code == IssueCode::EmailInvalid);
    if v.email.is_none() && !email_cell_bad {
        match (role, &m.username) {
            (Some(Role::Student), Some(_)) => {
                if m.parent_emails.is_empty() {
                    out.push(ctx.issue(
                        row,
                        FieldId::ParentEmails,
                        IssueCode::UsernameOnlyStudentNeedsParent,
                        Severity::Error,
                        "A student with a Username but no Email needs a Parent Email, so the parent can complete the account setup.".into(),
                    ));
                }
            }
            _ => out.push(ctx.issue(
                row,
                FieldId::Email,
                IssueCode::EmailOrUsernameRequired,
                Severity::Error,
                "Email is required (only a student may have a Username instead).".into(),
            )),
        }
    }
    if let Some(r) = role {
        if r != Role::Student && m.username.is_some() {
            out.push(ctx.issue(
                row,
                FieldId::Username,
                IssueCode::UsernameOnlyForStudents,
                Severity::Warning,
                format!("Only students have a Username; it will be ignored for this {r}."),
            ));
        }
        let wrong: &[(FieldId, bool)] = &[
            (
                FieldId::ParentEmails,
                r != Role::Student && !m.parent_emails.is_empty(),
            ),
            (
                FieldId::InstructorEmails,
                r != Role::Student && !m.instructor_emails.is_empty(),
            ),
            (
                FieldId::StudentEmails,
                r == Role::Student && !m.student_emails.is_empty(),
            ),
        ];
        for &(field, is_wrong) in wrong {
            if is_wrong {
                let col = ctx.column(field);
                out.push(ctx.issue(
                    row,
                    field,
                    IssueCode::AssociationWrongRole,
                    Severity::Warning,
                    format!("{col} does not apply to a {r}; it will be ignored."),
                ));
            }
        }
    }
}
