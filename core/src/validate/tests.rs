use super::*;
use crate::check::check;
use crate::limits::Limits;

fn run(kind: ImportKind, csv: &str) -> Checked {
    check(csv.as_bytes(), Some("roster.csv"), kind, &Limits::default())
        .unwrap()
        .checked
}

fn codes(c: &Checked, row: usize) -> Vec<IssueCode> {
    c.rows[row].issues.iter().map(|i| i.code).collect()
}

#[test]
fn a_clean_invites_file_has_no_issues() {
    let c = run(
        ImportKind::Invites,
        "Email,Expiry Days\nana@x.org,7\nbo@x.org,\n",
    );
    assert_eq!(
        c.totals,
        Totals {
            rows: 2,
            ready: 2,
            with_warnings: 0,
            with_errors: 0
        }
    );
    assert_eq!(c.rows[0].values.expiry_days, Some(7));
    assert_eq!(c.rows[1].values.expiry_days, None);
    assert_eq!(c.rows[0].row_number, 2);
}

#[test]
fn a_blank_email_is_an_error_naming_the_column() {
    let c = run(ImportKind::Invites, "E-mail,Expiry Days\n,7\n");
    let i = &c.rows[0].issues[0];
    assert_eq!(i.code, IssueCode::EmailRequired);
    assert_eq!(i.column.as_deref(), Some("E-mail"));
    assert_eq!(i.row, Some(2));
    assert_eq!(i.severity, Severity::Error);
}

#[test]
fn an_invalid_email_is_an_error_quoting_the_value() {
    let c = run(ImportKind::Invites, "Email\nana.school.org\n");
    let i = &c.rows[0].issues[0];
    assert_eq!(i.code, IssueCode::EmailInvalid);
    assert!(i.message.contains("\"ana.school.org\""), "{}", i.message);
}

#[test]
fn duplicate_email_is_flagged_on_the_later_row_naming_the_first() {
    let c = run(
        ImportKind::Invites,
        "Email\nana@x.org\nbo@x.org\n ANA@X.ORG \n",
    );
    assert!(c.rows[0].issues.is_empty());
    let i = &c.rows[2].issues[0];
    assert_eq!(i.code, IssueCode::DuplicateEmail);
    assert_eq!(i.row, Some(4));
    assert!(i.message.contains("row 2"), "{}", i.message);
    assert_eq!(c.totals.with_errors, 1);
}

#[test]
fn expiry_days_must_be_a_whole_number_from_1_to_365() {
    let c = run(ImportKind::Invites, "Email,Expiry Days\na@x.org,ten\nb@x.org,7.5\nc@x.org,-1\nd@x.org,0\ne@x.org,366\nf@x.org,365\ng@x.org,1\nh@x.org,30.0\n");
    assert_eq!(codes(&c, 0), vec![IssueCode::ExpiryDaysNotANumber]);
    assert_eq!(codes(&c, 1), vec![IssueCode::ExpiryDaysNotWhole]);
    assert_eq!(codes(&c, 2), vec![IssueCode::ExpiryDaysOutOfRange]);
    assert_eq!(codes(&c, 3), vec![IssueCode::ExpiryDaysOutOfRange]);
    assert_eq!(codes(&c, 4), vec![IssueCode::ExpiryDaysOutOfRange]);
    assert_eq!(c.rows[5].values.expiry_days, Some(365));
    assert_eq!(c.rows[6].values.expiry_days, Some(1));
    assert_eq!(c.rows[7].values.expiry_days, Some(30));
}

#[test]
fn a_negative_day_count_is_not_also_called_a_formula() {
    let c = run(ImportKind::Invites, "Email,Expiry Days\na@x.org,-1\n");
    assert_eq!(codes(&c, 0), vec![IssueCode::ExpiryDaysOutOfRange]);
}

#[test]
fn a_formula_looking_cell_is_a_warning() {
    let c = run(
        ImportKind::Learners,
        "Email,First Name\na@x.org,=HYPERLINK(\"http://evil\")\nb@x.org,@SUM(A1)\n",
    );
    for r in 0..2 {
        let i = &c.rows[r].issues[0];
        assert_eq!(i.code, IssueCode::FormulaLikeValue);
        assert_eq!(i.severity, Severity::Warning);
    }
    assert_eq!(c.totals.with_warnings, 2);
}

#[test]
fn learner_names_are_optional_but_checked_when_present() {
    let c = run(
        ImportKind::Learners,
        &format!(
            "Email,First Name,Last Name\na@x.org,,\nb@x.org,{},Ok\n",
            "x".repeat(101)
        ),
    );
    assert!(c.rows[0].issues.is_empty());
    assert_eq!(codes(&c, 1), vec![IssueCode::NameInvalid]);
}

#[test]
fn a_name_with_a_control_character_is_an_error() {
    let c = run(
        ImportKind::Learners,
        "Email,First Name\na@x.org,\"An\u{7}a\"\n",
    );
    assert_eq!(codes(&c, 0), vec![IssueCode::NameInvalid]);
}

#[test]
fn program_invitations_need_a_full_name_but_not_an_external_id_value() {
    let c = run(
        ImportKind::ProgramInvitations,
        "Full Name,Email,External ID\n,a@x.org,\nBo Li,b@x.org,\n",
    );
    assert_eq!(codes(&c, 0), vec![IssueCode::NameRequired]);
    assert!(c.rows[1].issues.is_empty());
}

#[test]
fn people_roles_come_from_the_tab_name() {
    let c = run(
        ImportKind::People,
        "First Name,Last Name,Email\nAna,Li,a@x.org\n",
    );
    // A CSV named roster.csv gives no role and there is no Role column.
    assert_eq!(codes(&c, 0), vec![IssueCode::RoleMissing]);
    let c = check(
        b"First Name,Last Name,Email\nAna,Li,a@x.org\n",
        Some("Students.csv"),
        ImportKind::People,
        &Limits::default(),
    )
    .unwrap()
    .checked;
    assert!(c.rows[0].issues.is_empty(), "{:?}", c.rows[0].issues);
    assert_eq!(c.rows[0].values.more().role, Some(Role::Student));
}

#[test]
fn a_role_column_works_without_role_tabs() {
    let c = run(
        ImportKind::People,
        "First Name,Last Name,Email,Role\nAna,Li,a@x.org,Teacher\nBo,Li,b@x.org,janitor\n",
    );
    assert_eq!(c.rows[0].values.more().role, Some(Role::Instructor));
    assert_eq!(codes(&c, 1), vec![IssueCode::RoleUnknown]);
}

#[test]
fn a_username_only_student_needs_a_parent() {
    let c = run(
        ImportKind::People,
        "Role,First Name,Last Name,Username,Parent Email\nStudent,Ana,Li,ana.li,\nStudent,Bo,Li,bo.li,mum@x.org\n",
    );
    assert_eq!(
        codes(&c, 0),
        vec![IssueCode::UsernameOnlyStudentNeedsParent]
    );
    assert!(c.rows[1].issues.is_empty(), "{:?}", c.rows[1].issues);
}

#[test]
fn a_parent_without_email_is_an_error() {
    let c = run(
        ImportKind::People,
        "Role,First Name,Last Name,Username,Email\nParent,Ana,Li,ana.li,\n",
    );
    assert!(codes(&c, 0).contains(&IssueCode::EmailOrUsernameRequired));
}

#[test]
fn association_emails_must_be_valid() {
    let c = run(ImportKind::People, "Role,First Name,Last Name,Email,Parent Email\nStudent,Ana,Li,a@x.org,mum@x.org; not-an-email\n");
    assert_eq!(codes(&c, 0), vec![IssueCode::AssociationEmailInvalid]);
    assert_eq!(c.rows[0].values.more().parent_emails.len(), 1);
}

#[test]
fn group_names_are_split_on_semicolons() {
    let c = run(
        ImportKind::GroupMembers,
        "Email,Groups\na@x.org,Math; Art ;math\n",
    );
    assert_eq!(c.rows[0].values.more().groups, vec!["Math", "Art"]);
}

#[test]
fn editing_the_later_duplicate_clears_its_error() {
    let mut c = run(ImportKind::Invites, "Email\nana@x.org\nana@x.org\n");
    assert_eq!(c.totals.with_errors, 1);
    let touched = c.edit_cell(1, FieldId::Email, "bo@x.org");
    assert!(touched.contains(&1));
    assert!(c.rows[1].issues.is_empty());
    assert_eq!(c.totals.with_errors, 0);
    assert_eq!(c.totals.ready, 2);
}

#[test]
fn editing_the_first_of_two_duplicates_moves_the_error_to_the_right_row() {
    let mut c = run(
        ImportKind::Invites,
        "Email\nana@x.org\nana@x.org\nana@x.org\n",
    );
    assert_eq!(c.totals.with_errors, 2);
    let touched = c.edit_cell(0, FieldId::Email, "zed@x.org");
    assert_eq!(touched, vec![0, 1, 2]);
    assert!(c.rows[1].issues.is_empty());
    assert!(
        c.rows[2].issues[0].message.contains("row 3"),
        "{}",
        c.rows[2].issues[0].message
    );
    assert_eq!(c.totals.with_errors, 1);
}

#[test]
fn editing_a_row_into_a_duplicate_flags_it() {
    let mut c = run(ImportKind::Invites, "Email\nana@x.org\nbo@x.org\n");
    c.edit_cell(1, FieldId::Email, "Ana@X.org");
    assert_eq!(codes(&c, 1), vec![IssueCode::DuplicateEmail]);
    assert_eq!(c.rows_with_email("ANA@x.org"), vec![0, 1]);
}

#[test]
fn editing_a_bad_cell_into_a_good_one_clears_only_that_cells_issue() {
    let mut c = run(ImportKind::Invites, "Email,Expiry Days\nnope,ten\n");
    assert_eq!(
        codes(&c, 0),
        vec![IssueCode::EmailInvalid, IssueCode::ExpiryDaysNotANumber]
    );
    c.edit_cell(0, FieldId::ExpiryDays, "10");
    assert_eq!(codes(&c, 0), vec![IssueCode::EmailInvalid]);
    assert_eq!(c.rows[0].values.expiry_days, Some(10));
    c.edit_cell(0, FieldId::Email, "ok@x.org");
    assert!(c.rows[0].issues.is_empty());
    assert_eq!(c.totals.ready, 1);
}

#[test]
fn deleting_the_first_duplicate_makes_the_next_one_the_original() {
    let mut c = run(ImportKind::Invites, "Email\nana@x.org\nana@x.org\n");
    c.delete_row(0);
    assert!(c.rows[1].issues.is_empty());
    assert_eq!(
        c.totals,
        Totals {
            rows: 1,
            ready: 1,
            with_warnings: 0,
            with_errors: 0
        }
    );
    assert!(
        c.edit_cell(0, FieldId::Email, "x@y.org").is_empty(),
        "deleted rows are not editable"
    );
}

#[test]
fn edits_touch_only_rows_sharing_the_email_on_a_large_file() {
    let mut csv = String::from("Email\n");
    for i in 0..100_000 {
        csv.push_str(&format!("user{i}@school.org\n"));
    }
    let mut c = run(ImportKind::Invites, &csv);
    // Only the edited row answers: the rows to refresh come from the email
    // index, not a rescan of the file (tests assert on what is touched, never
    // on time; the benches time edits).
    for i in 0..2000 {
        let touched = c.edit_cell(i, FieldId::Email, &format!("new{i}@school.org"));
        assert_eq!(touched, vec![i]);
    }
    for i in 0..50 {
        let touched = c.edit_cell(i, FieldId::Email, "user99999@school.org");
        assert_eq!(
            touched.len(),
            i + 2,
            "the edited row plus every row sharing the email"
        );
    }
    assert_eq!(c.totals.with_errors, 50);
}

#[test]
fn checked_rows_survive_a_json_round_trip_and_stay_editable() {
    let c = run(ImportKind::Invites, "Email\nana@x.org\nana@x.org\n");
    let json = serde_json::to_string(&c).unwrap();
    let mut back: Checked = serde_json::from_str(&json).unwrap();
    assert_eq!(back.totals, c.totals);
    back.edit_cell(0, FieldId::Email, "zed@x.org");
    assert!(back.rows[1].issues.is_empty());
}

#[test]
fn issues_serialize_with_snake_case_codes() {
    let c = run(ImportKind::Invites, "Email\n\n,\nx\n");
    let json = serde_json::to_value(&c.rows[0].issues[0]).unwrap();
    assert_eq!(json["code"], "email_invalid");
    assert_eq!(json["severity"], "error");
}

#[test]
fn revalidating_a_whole_row_rechecks_every_mapped_cell() {
    let mut c = run(
        ImportKind::Invites,
        "Expiry Days,Email\nten,nope\nbo@x.org,\n",
    );
    let cells = vec!["5".to_string(), "ana@x.org".to_string()];
    let touched = c.revalidate_row(0, &cells);
    assert_eq!(touched, vec![0]);
    assert!(c.rows[0].issues.is_empty(), "{:?}", c.rows[0].issues);
    assert_eq!(c.rows[0].values.expiry_days, Some(5));
    assert_eq!(c.totals.ready, 1);
}

/// A 100k-row import holds 100k of these; growing it costs megabytes (see the README's
/// peak-heap figures).
#[cfg(target_pointer_width = "64")]
#[test]
fn a_checked_row_stays_48_bytes() {
    assert_eq!(std::mem::size_of::<CheckedRow>(), 48);
}

#[test]
fn duplicates_are_found_when_rows_arrive_without_a_size_hint() {
    // No size hint and a second tab: the email index starts small and is rebuilt larger
    // as rows arrive, which must keep every earlier row findable.
    let mapping = crate::mapping::map_headers(
        ImportKind::Invites,
        &["Email".to_string()],
        &Default::default(),
    );
    let mut c = Checked::empty(ImportKind::Invites, &ValidationOptions::default());
    let row = |n: u32, e: String| SourceRow {
        number: n,
        cells: vec![e],
    };
    let first: Vec<SourceRow> = (0..1_000)
        .map(|i| row(i + 2, format!("p{i}@x.org")))
        .collect();
    c.add_rows("One", &mapping, first.iter().filter(|_| true));
    let second: Vec<SourceRow> = (0..1_000)
        .map(|i| row(i + 2, format!("P{}@X.org", i * 7 % 3_000)))
        .collect();
    c.add_rows("Two", &mapping, second.iter().filter(|_| true));
    let dups: Vec<usize> = (0..c.rows.len())
        .filter(|&i| codes(&c, i).contains(&IssueCode::DuplicateEmail))
        .collect();
    let expected: Vec<usize> = (0..1_000)
        .filter(|i| i * 7 % 3_000 < 1_000)
        .map(|i| 1_000 + i)
        .collect();
    assert_eq!(dups, expected);
    // The index still answers for a row added before it grew.
    assert_eq!(c.rows_with_email("p7@x.org"), vec![7, 1_001]);
    let touched = c.delete_row(7);
    assert_eq!(touched, vec![7, 1_001]);
    assert!(!codes(&c, 1_001).contains(&IssueCode::DuplicateEmail));
}
