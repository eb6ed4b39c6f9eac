//! Real exports, with their real header rows, map with no errors and no overrides.
//! Each fixture in `tests/fixtures/exports/` is the header row a system writes, above
//! two or more made-up people.

use muster_core::mapping::MatchKind;
use muster_core::Role as PersonRole;
use muster_core::{check, CheckReport, FieldId, ImportKind, Limits};

fn report(name: &str, kind: ImportKind) -> CheckReport {
    let path = format!(
        "{}/tests/fixtures/exports/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap();
    check(&bytes, Some(name), kind, &Limits::default())
        .unwrap_or_else(|e| panic!("{name} as {kind}: {e}"))
}

/// The export maps each listed header to its field, and its mapping has no errors.
fn maps(name: &str, kind: ImportKind, expected: &[(&str, FieldId)]) -> CheckReport {
    let r = report(name, kind);
    let m = &r.mappings[0];
    let errors: Vec<&str> = m
        .issues
        .iter()
        .filter(|i| i.is_error())
        .map(|i| i.message.as_str())
        .collect();
    assert!(errors.is_empty(), "{name} as {kind}: {errors:?}");
    for (header, field) in expected {
        let column = m
            .columns
            .iter()
            .find(|c| c.header == *header)
            .unwrap_or_else(|| panic!("{name}: no column {header:?}"));
        assert_eq!(
            column.field,
            Some(*field),
            "{name} as {kind}: {header:?} → {column:?}"
        );
        assert!(
            matches!(column.how, MatchKind::Exact | MatchKind::Synonym),
            "{name} as {kind}: {header:?} was only a guess: {column:?}"
        );
    }
    r
}

/// Mapped, and every row ready to import.
fn imports_cleanly(name: &str, kind: ImportKind, expected: &[(&str, FieldId)]) {
    let r = maps(name, kind, expected);
    let errors: Vec<String> = r
        .issues()
        .filter(|i| i.is_error())
        .map(|i| format!("{i:?}"))
        .collect();
    assert!(errors.is_empty(), "{name} as {kind}: {errors:#?}");
    assert!(r.totals().rows >= 2);
}

use FieldId::*;

#[test]
fn google_workspace_user_export() {
    let name = "google_workspace_users.csv";
    let people = [
        ("First Name [Required]", FirstName),
        ("Last Name [Required]", LastName),
        ("Email Address [Required]", Email),
    ];
    imports_cleanly(name, ImportKind::Learners, &people);
    imports_cleanly(
        name,
        ImportKind::Invites,
        &[("Email Address [Required]", Email)],
    );
    let r = maps(
        name,
        ImportKind::People,
        &[
            ("Employee ID", ExternalId),
            ("Email Address [Required]", Email),
        ],
    );
    // "New Primary Email", "Recovery Email", "Manager Email" are other addresses.
    let emails: Vec<&str> = r.mappings[0]
        .columns
        .iter()
        .filter(|c| c.field == Some(Email))
        .map(|c| c.header.as_str())
        .collect();
    assert_eq!(emails, vec!["Email Address [Required]"]);
}

#[test]
fn entra_bulk_create_template_under_its_version_line() {
    let name = "entra_bulk_create.csv";
    imports_cleanly(
        name,
        ImportKind::Learners,
        &[
            ("User name [userPrincipalName] Required", Email),
            ("First name [givenName]", FirstName),
            ("Last name [surname]", LastName),
        ],
    );
    assert_eq!(
        report(name, ImportKind::Learners).checked.rows[0].row_number,
        3
    );
}

#[test]
fn entra_users_download() {
    imports_cleanly(
        "entra_users_download.csv",
        ImportKind::Learners,
        &[
            ("mail", Email),
            ("givenName", FirstName),
            ("surname", LastName),
        ],
    );
}

#[test]
fn microsoft_365_add_multiple_users_template() {
    imports_cleanly(
        "m365_add_multiple_users.csv",
        ImportKind::Learners,
        &[
            ("User Name", Email),
            ("First Name", FirstName),
            ("Last Name", LastName),
        ],
    );
}

#[test]
fn canvas_sis_users_csv() {
    let name = "canvas_sis_users.csv";
    imports_cleanly(
        name,
        ImportKind::Learners,
        &[
            ("first_name", FirstName),
            ("last_name", LastName),
            ("email", Email),
        ],
    );
    imports_cleanly(
        name,
        ImportKind::People,
        &[
            ("user_id", ExternalId),
            ("login_id", Username),
            ("email", Email),
            ("declared_user_type", Role),
        ],
    );
    imports_cleanly(
        name,
        ImportKind::ProgramInvitations,
        &[
            ("full_name", FullName),
            ("email", Email),
            ("user_id", ExternalId),
        ],
    );
}

#[test]
fn oneroster_1_1_users_csv_with_its_role_values() {
    let name = "oneroster_users.csv";
    imports_cleanly(
        name,
        ImportKind::Learners,
        &[
            ("givenName", FirstName),
            ("familyName", LastName),
            ("email", Email),
        ],
    );
    let r = maps(
        name,
        ImportKind::People,
        &[
            ("sourcedId", ExternalId),
            ("role", Role),
            ("username", Username),
            ("givenName", FirstName),
            ("familyName", LastName),
            ("email", Email),
        ],
    );
    let roles: Vec<Option<PersonRole>> = r
        .checked
        .rows
        .iter()
        .map(|row| row.values.more().role)
        .collect();
    assert_eq!(
        roles,
        vec![
            Some(PersonRole::Student),
            Some(PersonRole::Parent),
            Some(PersonRole::Instructor),
            Some(PersonRole::Parent)
        ]
    );
    assert!(!r
        .issues()
        .any(|i| i.code == muster_core::IssueCode::RoleUnknown));
}

#[test]
fn moodle_upload_users() {
    let name = "moodle_upload_users.csv";
    imports_cleanly(
        name,
        ImportKind::Learners,
        &[
            ("firstname", FirstName),
            ("lastname", LastName),
            ("email", Email),
        ],
    );
    maps(
        name,
        ImportKind::People,
        &[("username", Username), ("idnumber", ExternalId)],
    );
    let r = report(name, ImportKind::GroupMembers);
    assert!(!r.mappings[0].has_errors());
    assert_eq!(r.mappings[0].column_of(Groups).unwrap().header, "cohort1");
}

#[test]
fn clever_students_csv() {
    let name = "clever_students.csv";
    imports_cleanly(
        name,
        ImportKind::Learners,
        &[
            ("First_name", FirstName),
            ("Last_name", LastName),
            ("Student_email", Email),
        ],
    );
    imports_cleanly(name, ImportKind::Invites, &[("Student_email", Email)]);
    maps(
        name,
        ImportKind::People,
        &[
            ("Student_id", ExternalId),
            ("Contact_email", ParentEmails),
            ("Username", Username),
        ],
    );
}

#[test]
fn powerschool_student_and_staff_exports() {
    maps(
        "powerschool_students.csv",
        ImportKind::People,
        &[
            ("Student_Number", ExternalId),
            ("First_Name", FirstName),
            ("Last_Name", LastName),
            ("GuardianEmail", ParentEmails),
        ],
    );
    imports_cleanly(
        "powerschool_staff.csv",
        ImportKind::Learners,
        &[
            ("First_Name", FirstName),
            ("Last_Name", LastName),
            ("Email_Addr", Email),
        ],
    );
    imports_cleanly(
        "powerschool_staff.csv",
        ImportKind::Invites,
        &[("Email_Addr", Email)],
    );
}

#[test]
fn german_french_and_spanish_class_lists() {
    for (name, first, last, email, group) in [
        (
            "german.csv",
            "Vorname",
            "Nachname",
            "E-Mail-Adresse",
            "Klasse",
        ),
        ("french.csv", "Prénom", "Nom", "Courriel", "Classe"),
        (
            "spanish.csv",
            "Nombre",
            "Apellidos",
            "Correo electrónico",
            "Grupo",
        ),
    ] {
        imports_cleanly(
            name,
            ImportKind::Learners,
            &[(first, FirstName), (last, LastName), (email, Email)],
        );
        imports_cleanly(
            name,
            ImportKind::GroupMembers,
            &[(email, Email), (group, Groups)],
        );
    }
}

#[test]
fn roles_read_from_other_languages_and_systems() {
    for (label, role) in [
        ("Élèves", PersonRole::Student),
        ("Schüler", PersonRole::Student),
        ("Alumnos", PersonRole::Student),
        ("Lehrer", PersonRole::Instructor),
        ("Profesores", PersonRole::Instructor),
        ("Enseignants", PersonRole::Instructor),
        ("relative", PersonRole::Parent),
        ("observer", PersonRole::Parent),
        ("Eltern", PersonRole::Parent),
    ] {
        assert_eq!(PersonRole::from_label(label), Some(role), "{label}");
    }
}
