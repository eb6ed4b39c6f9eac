//! `muster-check check --kind invites FILE`: the same checks the upload page runs.
//!
//! Prints a one-line JSON summary, then every issue as a JSON line. Exit code 0 means no
//! errors, 1 means the file has errors, 2 means it could not be read at all.

use std::process::ExitCode;

use muster_core::{check_with, CheckOptions, ImportKind, Limits};

const USAGE: &str = "usage:
  muster-check check --kind KIND [--delimiter comma|semicolon|tab|pipe|CHAR] [--max-rows N] FILE
  muster-check template --kind KIND

KIND is one of: invites, learners, program-invitations, people, group-members";

struct CheckArgs {
    kind: ImportKind,
    file: String,
    delimiter: Option<u8>,
    max_rows: Option<usize>,
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
    let mut kind = None;
    let mut file = None;
    let mut delimiter = None;
    let mut max_rows = None;
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
        })),
        "template" => Ok(Command::Template(kind)),
        "-h" | "--help" | "help" => Ok(Command::Help),
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
    let totals = report.totals();
    let (mut errors, mut warnings) = (0u64, 0u64);
    for issue in report.issues() {
        if issue.is_error() {
            errors += 1;
        } else {
            warnings += 1;
        }
    }
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
        match serde_json::to_string(issue) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(e) => {
                eprintln!("muster-check: {e}");
                return ExitCode::from(2);
            }
        }
    }
    print!("{out}");
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
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
