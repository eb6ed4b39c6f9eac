use super::*;

fn parse(bytes: &[u8], name: &str) -> Result<Workbook, ParseError> {
    parse_bytes(
        bytes,
        Some(name),
        &ParseOptions::default(),
        &Limits::default(),
    )
}

fn xlsx(build: impl FnOnce(&mut rust_xlsxwriter::Workbook)) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    build(&mut wb);
    wb.save_to_buffer().unwrap()
}

#[test]
fn a_title_row_above_the_header_is_skipped() {
    let wb = parse(
        b"Class list 2026\nEmail,First Name\na@x.org,Ana\n",
        "list.csv",
    )
    .unwrap();
    let s = &wb.sheets[0];
    assert_eq!(s.headers, vec!["Email", "First Name"]);
    assert_eq!(s.header_row_index, 1);
    assert_eq!(s.header_row_number, 2);
    assert_eq!(s.rows[0].number, 3);
}

#[test]
fn two_title_rows_above_the_header_are_skipped() {
    let wb = parse(
        b"Class list 2026\nExported 1 March\nEmail,First Name\na@x.org,Ana\n",
        "list.csv",
    )
    .unwrap();
    assert_eq!(wb.sheets[0].header_row_index, 2);
}

#[test]
fn known_header_words_find_a_one_column_header_under_a_title() {
    let opts = ParseOptions {
        header_keys: crate::ImportKind::Invites.header_keys(),
        ..ParseOptions::default()
    };
    let wb = parse_bytes(
        b"Spring invites\nEmail\na@x.org\n",
        None,
        &opts,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(wb.sheets[0].headers, vec!["Email"]);
    assert_eq!(wb.sheets[0].rows.len(), 1);
}

#[test]
fn the_delimiter_can_be_overridden() {
    let opts = ParseOptions {
        delimiter: Some(b';'),
        ..ParseOptions::default()
    };
    let wb = parse_bytes(
        b"Email,x;Days\na@x.org,y;3\n",
        None,
        &opts,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(wb.sheets[0].headers, vec!["Email,x", "Days"]);
    assert_eq!(wb.delimiter, Some(';'));
}

#[test]
fn a_tsv_file_is_read_with_tabs() {
    let wb = parse(b"Email\tExpiry Days\na@x.org\t5\n", "x.tsv").unwrap();
    assert_eq!(wb.sheets[0].rows[0].cells, vec!["a@x.org", "5"]);
}

#[test]
fn windows_1252_files_are_read_with_a_warning() {
    let wb = parse(b"First Name,Email\nJos\xE9,j@x.org\n", "x.csv").unwrap();
    assert_eq!(wb.sheets[0].rows[0].cells[0], "José");
    assert_eq!(wb.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(wb.warnings.len(), 1);
}

#[test]
fn the_csv_file_name_becomes_the_sheet_name() {
    let wb = parse(b"Email\na@x.org\n", "C:\\exports\\Students.csv").unwrap();
    assert_eq!(wb.sheets[0].name, "Students");
}

#[test]
fn an_xlsx_with_role_tabs_gives_one_sheet_per_tab() {
    let bytes = xlsx(|wb| {
        let s = wb.add_worksheet().set_name("Students").unwrap();
        s.write_string(0, 0, "Email").unwrap();
        s.write_string(0, 1, "Expiry Days").unwrap();
        s.write_string(1, 0, " a@x.org ").unwrap();
        s.write_number(1, 1, 7.0).unwrap();
        s.write_string(3, 0, "b@x.org").unwrap();
        let p = wb.add_worksheet().set_name("Parents").unwrap();
        p.write_string(0, 0, "Email").unwrap();
        p.write_string(1, 0, "mum@x.org").unwrap();
    });
    let wb = parse(&bytes, "people.xlsx").unwrap();
    assert_eq!(wb.format, FileFormat::Xlsx);
    assert_eq!(wb.sheets.len(), 2);
    let s = &wb.sheets[0];
    assert_eq!(s.name, "Students");
    assert_eq!(s.rows[0].cells, vec!["a@x.org", "7"]);
    assert_eq!(
        s.rows[1].number, 4,
        "blank spreadsheet rows keep the numbering the admin sees"
    );
    assert_eq!(wb.sheets[1].rows[0].cells, vec!["mum@x.org"]);
}

#[test]
fn an_xlsx_cell_beyond_the_column_limit_is_an_error() {
    let bytes = xlsx(|wb| {
        let s = wb.add_worksheet();
        s.write_string(0, 0, "Email").unwrap();
        s.write_string(1, 500, "far away").unwrap();
    });
    let err = parse(&bytes, "x.xlsx").unwrap_err();
    assert!(
        matches!(err, ParseError::SheetTooLarge { columns: 501, .. }),
        "{err:?}"
    );
}

#[test]
fn a_file_named_xlsx_that_is_not_a_spreadsheet_says_so() {
    let err = parse(b"Email\na@x.org\n", "x.xlsx").unwrap_err();
    assert!(matches!(err, ParseError::CorruptSpreadsheet { .. }));
}

#[test]
fn a_zip_that_is_not_a_spreadsheet_is_rejected() {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        z.start_file(
            "word/document.xml",
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        std::io::Write::write_all(&mut z, b"<doc/>").unwrap();
        z.finish().unwrap();
    }
    assert_eq!(
        parse(buf.get_ref(), "x.docx").unwrap_err(),
        ParseError::NotATable
    );
}

#[test]
fn the_row_limit_counts_data_rows_only() {
    let limits = Limits {
        max_rows: 2,
        ..Limits::default()
    };
    let ok = parse_bytes(
        b"Title\nEmail,Days\na@x.org,1\nb@x.org,2\n",
        None,
        &ParseOptions::default(),
        &limits,
    );
    assert!(ok.is_ok());
    let err =
        parse_bytes(b"Email\na\nb\nc\n", None, &ParseOptions::default(), &limits).unwrap_err();
    assert_eq!(err, ParseError::TooManyRows { limit: 2 });
}

#[test]
fn a_file_over_the_size_limit_is_rejected_before_reading() {
    let limits = Limits {
        max_file_bytes: 10,
        ..Limits::default()
    };
    let err = parse_bytes(
        b"Email\nana@x.org\n",
        None,
        &ParseOptions::default(),
        &limits,
    )
    .unwrap_err();
    assert_eq!(
        err,
        ParseError::FileTooLarge {
            bytes: 16,
            limit: 10
        }
    );
}

#[test]
fn an_empty_or_blank_file_is_empty() {
    assert_eq!(parse(b"", "x.csv").unwrap_err(), ParseError::Empty);
    assert_eq!(
        parse(b" \r\n\n ,, \n", "x.csv").unwrap_err(),
        ParseError::Empty
    );
}

#[test]
fn parse_errors_serialize_with_a_code() {
    let json = serde_json::to_value(ParseError::TooManyColumns {
        row: 1,
        count: 300,
        limit: 200,
    })
    .unwrap();
    assert_eq!(json["code"], "too_many_columns");
    assert_eq!(json["row"], 1);
}

#[test]
fn check_skips_an_instructions_tab_to_find_the_data() {
    let bytes = xlsx(|wb| {
        let s = wb.add_worksheet().set_name("Instructions").unwrap();
        s.write_string(0, 0, "Fill in the Data tab.").unwrap();
        s.write_string(1, 0, "One learner a row.").unwrap();
        let d = wb.add_worksheet().set_name("Data").unwrap();
        d.write_string(0, 0, "Email").unwrap();
        d.write_string(1, 0, "a@x.org").unwrap();
    });
    let report = crate::check(
        &bytes,
        Some("t.xlsx"),
        crate::ImportKind::Invites,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(report.checked.sheets[0].name, "Data");
    assert_eq!(report.totals().ready, 1);
}
