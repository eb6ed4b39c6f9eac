//! `muster-check check --kind invites FILE`: the same checks the upload page runs.
//!
//! Prints a one-line JSON summary, then every issue as a JSON line (`--format json`, for
//! scripts), or a summary for people (`--format table`). Exit codes are in [`USAGE`].

use std::fmt::Write as _;
use std::process::ExitCode;

use muster_core::mapping::MatchKind;
use muster_core::{check_with, grid, thousands, CheckOptions, CheckReport, ImportKind, Limits};

const USAGE: &str = "usage:
  muster-check check --kind KIND [--format json|table] [--delimiter comma|semicolon|tab|pipe|CHAR] [--max-rows N] FILE
  muster-check template --kind KIND

KIND is one of: invites, learners, program-invitations, people, group-members

--format json   (the default) one JSON line summing up the file, then one JSON line
                per problem, header problems first, then rows in file order
--format table  a summary for people: counts, how each column was read, and the
                problems by row

Exit codes:
  0  the file can be uploaded: no errors (warnings may remain)
  1  the file was read, but a column or some rows have errors to fix first
  2  the file could not be checked: it cannot be read, breaks a limit, has a
     header but no people below it, or the command line is wrong (the reason
     goes to stderr)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Table,
}

struct CheckArgs {
    kind: ImportKind,
    file: String,
    delimiter: Option<u8>,
    max_rows: Option<usize>,
    format: Format,
}

enum Command {
    Check(CheckArgs),
    Template(ImportKind),
    Help,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let Some(command) = args.first() else {
        return Ok(Command::Help);
    };
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        return Ok(Command::Help);
    }
    let mut kind = None;
    let mut file = None;
    let mut delimiter = None;
    let mut max_rows = None;
    let mut format = Format::Json;
    let mut rest = args[1..].iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| rest.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--kind" => {
                kind = Some(
                    value("--kind")?
                        .parse::<ImportKind>()
                        .map_err(|e| e.to_string())?,
                )
            }
            "--delimiter" => delimiter = Some(parse_delimiter(&value("--delimiter")?)?),
            "--format" => {
                format = match value("--format")?.as_str() {
                    "json" => Format::Json,
                    "table" => Format::Table,
                    other => return Err(format!("--format must be json or table, got {other:?}")),
                }
            }
            "--max-rows" => {
                let v = value("--max-rows")?;
                max_rows = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("--max-rows expects a number, got {v:?}"))?,
                );
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s if file.is_none() => file = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s:?}")),
        }
    }
    let kind = kind.ok_or("--kind is required")?;
    match command.as_str() {
        "check" => Ok(Command::Check(CheckArgs {
            kind,
            file: file.ok_or("FILE is required")?,
            delimiter,
            max_rows,
            format,
        })),
        "template" => Ok(Command::Template(kind)),
        other => Err(format!("unknown command {other:?}")),
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "comma" | "," => Ok(b','),
        "semicolon" | ";" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        "pipe" | "|" => Ok(b'|'),
        s if s.len() == 1 => Ok(s.as_bytes()[0]),
        _ => Err(format!(
            "--delimiter must be comma, semicolon, tab, pipe or one character, got {s:?}"
        )),
    }
}

fn run_check(args: CheckArgs) -> ExitCode {
    let bytes = match std::fs::read(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("muster-check: cannot read {}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    let mut limits = Limits::default();
    if let Some(n) = args.max_rows {
        limits.max_rows = n;
    }
    let mut opts = CheckOptions::default();
    opts.parse.delimiter = args.delimiter;
    let report = match check_with(&bytes, Some(&args.file), args.kind, &limits, &opts) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("muster-check: {}: {e}", args.file);
            return ExitCode::from(2);
        }
    };
    let (errors, warnings) = report.issues().fold((0u64, 0u64), |(e, w), i| {
        if i.is_error() {
            (e + 1, w)
        } else {
            (e, w + 1)
        }
    });
    let out = match args.format {
        Format::Json => match json_lines(&args, &report, errors, warnings) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("muster-check: {e}");
                return ExitCode::from(2);
            }
        },
        Format::Table => table(&args, &report, errors),
    };
    print!("{out}");
    // The process ends here: handing a 100k-row report back to the allocator row by row
    // would only delay the exit the operating system does in one step.
    std::mem::forget(report);
    std::mem::forget(bytes);
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn json_lines(
    args: &CheckArgs,
    report: &CheckReport,
    errors: u64,
    warnings: u64,
) -> Result<String, serde_json::Error> {
    let totals = report.totals();
    let summary = serde_json::json!({
        "file": args.file,
        "kind": args.kind,
        "format": report.format,
        "encoding": report.encoding,
        "delimiter": report.delimiter.map(String::from),
        "rows": totals.rows,
        "ready": totals.ready,
        "with_warnings": totals.with_warnings,
        "with_errors": totals.with_errors,
        "errors": errors,
        "warnings": warnings,
        "notes": report.warnings.iter().map(|w| w.message.as_str()).collect::<Vec<_>>(),
    });
    let mut out = String::with_capacity(256);
    out.push_str(&summary.to_string());
    out.push('\n');
    for issue in report.issues() {
        out.push_str(&serde_json::to_string(issue)?);
        out.push('\n');
    }
    Ok(out)
}

/// Problems listed in a table before the rest are only counted: a person reads the
/// first screenful, and `--format json` has them all.
const TABLE_ISSUES: usize = 50;

fn table(args: &CheckArgs, report: &CheckReport, errors: u64) -> String {
    let totals = report.totals();
    let mut out = String::new();
    let format = match (report.format, report.delimiter) {
        (muster_core::parse::FileFormat::Delimited, Some(d)) => {
            let d = match d {
                ',' => "comma".to_string(),
                ';' => "semicolon".to_string(),
                '\t' => "tab".to_string(),
                '|' => "pipe".to_string(),
                other => format!("{other:?}"),
            };
            use muster_core::parse::TextEncoding::*;
            let encoding = match report.encoding {
                Some(Utf8) => "UTF-8",
                Some(Utf8Bom) => "UTF-8 with BOM",
                Some(Utf16Le) => "UTF-16 LE",
                Some(Utf16Be) => "UTF-16 BE",
                Some(Windows1252) => "Windows-1252",
                None => "",
            };
            format!("text, {d}-separated, {encoding}")
        }
        (f, _) => format!("{f:?}").to_uppercase(),
    };
    let _ = writeln!(out, "{}: {} ({format})", args.file, args.kind.label());
    let _ = writeln!(
        out,
        "{} rows: {} ready, {} with warnings, {} with errors",
        thousands(totals.rows.into()),
        thousands(totals.ready.into()),
        thousands(totals.with_warnings.into()),
        thousands(totals.with_errors.into())
    );
    for note in &report.warnings {
        let _ = writeln!(out, "Note: {}", note.message);
    }
    for mapping in &report.mappings {
        out.push_str("\nColumns\n");
        let rows: Vec<[String; 3]> = mapping
            .columns
            .iter()
            .filter(|c| !c.header.is_empty())
            .map(|c| {
                let field = c
                    .field
                    .and_then(|f| report.kind.column(f))
                    .map_or("(ignored)", |s| s.header);
                let how = match c.how {
                    MatchKind::Exact => "exact".to_string(),
                    MatchKind::Synonym => format!("synonym, {:.0}%", c.confidence * 100.0),
                    MatchKind::Fuzzy => format!("guess, {:.0}%", c.confidence * 100.0),
                    MatchKind::Override => "your choice".to_string(),
                    MatchKind::Ignored => "ignored by you".to_string(),
                    MatchKind::Unknown => "no match".to_string(),
                };
                [c.header.clone(), field.to_string(), how]
            })
            .collect();
        out.push_str(&grid(["HEADER", "READ AS", "HOW"], &rows));
    }
    // Unmatched columns are already shown in the column table.
    let listed = || {
        report
            .issues()
            .filter(|i| i.code != muster_core::IssueCode::UnknownColumn)
    };
    let (errors, warnings) = (errors, listed().filter(|i| !i.is_error()).count() as u64);
    if errors + warnings > 0 {
        let _ = writeln!(
            out,
            "\nProblems: {} errors, {} warnings",
            thousands(errors),
            thousands(warnings)
        );
        let rows: Vec<[String; 4]> = listed()
            .take(TABLE_ISSUES)
            .map(|i| {
                let place = match (&i.sheet, i.row) {
                    (Some(s), Some(r)) => format!("{s} {r}"),
                    (None, Some(r)) => r.to_string(),
                    (_, None) => "header".to_string(),
                };
                let severity = if i.is_error() { "error" } else { "warning" };
                [
                    place,
                    i.column.clone().unwrap_or_default(),
                    severity.to_string(),
                    i.message.clone(),
                ]
            })
            .collect();
        out.push_str(&grid(["ROW", "COLUMN", "LEVEL", "PROBLEM"], &rows));
        let shown = rows.len() as u64;
        if errors + warnings > shown {
            let _ = writeln!(
                out,
                "... and {} more; --format json lists them all.",
                thousands(errors + warnings - shown)
            );
        }
    }
    out.push('\n');
    out.push_str(if errors > 0 {
        "Not ready: fix the errors above and check again.\n"
    } else {
        "Ready to upload.\n"
    });
    out
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse_args(&args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Command::Template(kind)) => {
            print!("{}", kind.template_csv());
            ExitCode::SUCCESS
        }
        Ok(Command::Check(a)) => run_check(a),
        Err(e) => {
            eprintln!("muster-check: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
