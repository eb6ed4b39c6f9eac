//! Runs the real binary on the core's fixtures.

use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    format!(
        "{}/../core/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_muster-check"))
        .args(args)
        .output()
        .unwrap()
}

fn lines(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_clean_file_exits_0_with_a_summary_line() {
    let o = run(&["check", "--kind", "invites", &fixture("invites_ok.csv")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let l = lines(&o);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["rows"], 2);
    assert_eq!(l[0]["ready"], 2);
    assert_eq!(l[0]["errors"], 0);
    assert_eq!(l[0]["kind"], "invites");
}

#[test]
fn a_file_with_errors_exits_1_and_prints_every_issue() {
    let o = run(&["check", "--kind", "invites", &fixture("invites_bad.csv")]);
    assert_eq!(o.status.code(), Some(1));
    let l = lines(&o);
    assert_eq!(l[0]["with_errors"], 3);
    assert_eq!(l[0]["delimiter"], ";");
    let codes: Vec<&str> = l[1..].iter().map(|i| i["code"].as_str().unwrap()).collect();
    assert_eq!(
        codes,
        vec![
            "expiry_days_not_a_number",
            "duplicate_email",
            "email_invalid"
        ]
    );
    assert_eq!(l[2]["row"], 3);
    assert_eq!(l[2]["column"], "E-mail");
    assert!(l[2]["message"].as_str().unwrap().contains("row 2"));
}

#[test]
fn warnings_alone_exit_0() {
    let o = run(&["check", "--kind", "learners", &fixture("formulas.csv")]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(lines(&o)[0]["warnings"], 4);
}

#[test]
fn an_unreadable_file_exits_2_with_the_reason_on_stderr() {
    let o = run(&["check", "--kind", "invites", &fixture("binary.bin")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a CSV, TSV or spreadsheet"));
    let o = run(&["check", "--kind", "invites", &fixture("does-not-exist.csv")]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn max_rows_turns_a_long_file_into_exit_2() {
    let o = run(&[
        "check",
        "--kind",
        "invites",
        "--max-rows",
        "1",
        &fixture("invites_ok.csv"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than 1 rows"));
}

#[test]
fn the_delimiter_can_be_forced() {
    let o = run(&[
        "check",
        "--kind",
        "invites",
        "--delimiter",
        "comma",
        &fixture("invites_bad.csv"),
    ]);
    // Read with commas, "E-mail;Expiry Days" is one unknown header and Email is missing.
    assert_eq!(o.status.code(), Some(1));
    let l = lines(&o);
    assert!(l[1..].iter().any(|i| i["code"] == "missing_column"));
}

#[test]
fn bad_arguments_exit_2() {
    assert_eq!(run(&["check", "FILE"]).status.code(), Some(2));
    assert_eq!(
        run(&["check", "--kind", "nope", "x.csv"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_template_command_prints_the_kinds_template() {
    let o = run(&["template", "--kind", "program-invitations"]);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "Full Name,Email,External ID\r\n"
    );
}

#[test]
fn the_table_format_is_a_summary_for_people_with_the_same_exit_code() {
    let o = run(&[
        "check",
        "--kind",
        "invites",
        "--format",
        "table",
        &fixture("invites_bad.csv"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with("invites_bad.csv: Invites (text, semicolon-separated, UTF-8)"),
        "{text}"
    );
    assert_eq!(lines[1], "3 rows: 0 ready, 0 with warnings, 3 with errors");
    assert!(text.contains("E-mail       Email        exact"), "{text}");
    assert!(text.contains("Problems: 3 errors, 0 warnings"), "{text}");
    let row3 = lines.iter().find(|l| l.starts_with("3    E-mail")).unwrap();
    assert!(
        row3.contains("E-mail") && row3.contains("error") && row3.contains("already on row 2"),
        "{row3}"
    );
    assert_eq!(
        lines.last(),
        Some(&"Not ready: fix the errors above and check again.")
    );

    let o = run(&[
        "check",
        "--kind",
        "invites",
        "--format",
        "table",
        &fixture("invites_ok.csv"),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("2 rows: 2 ready"), "{text}");
    assert!(!text.contains("Problems"), "{text}");
    assert!(text.ends_with("Ready to upload.\n"));
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let o = run(&[
        "check",
        "--kind",
        "invites",
        "--format",
        "xml",
        &fixture("invites_ok.csv"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--format must be json or table"));
}

#[test]
fn a_header_with_no_people_below_it_exits_2_saying_so() {
    for format in ["json", "table"] {
        let o = run(&[
            "check",
            "--kind",
            "learners",
            "--format",
            format,
            &fixture("header_only.csv"),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(o.stdout.is_empty());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("The sheet has a header row but no people below it"),
            "{err}"
        );
    }
}

#[test]
fn help_documents_the_formats_and_every_exit_code() {
    let o = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(help.contains("--format json|table"));
    for code in ["  0  ", "  1  ", "  2  "] {
        assert!(help.contains(code), "{code:?} missing from {help}");
    }
    assert!(help.contains("header but no people below it"));
}
