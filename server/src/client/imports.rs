//! `muster imports list | show ID | failed ID [-o FILE]`.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::Value;

use muster_core::grid;

use super::{api::Api, config, output::utc, Done, Failure};
use server::api::{imports::Import, Page};

#[derive(Debug, Subcommand)]
pub enum ImportsCommand {
    /// The organization's imports, newest first.
    List {
        /// Every page, not only the newest 50.
        #[arg(long)]
        all: bool,
        /// The API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One import and how far it has come.
    Show {
        id: i64,
        /// The API's JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The rows that failed, as CSV in the template's columns plus Error:
    /// fix them and import the file again.
    Failed {
        id: i64,
        /// Write the CSV here instead of to standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

pub async fn run(command: ImportsCommand) -> Result<Done, Failure> {
    let api = Api::new(&config::load()?)?;
    match command {
        ImportsCommand::List { all, json } => list(&api, all, json).await,
        ImportsCommand::Show { id, json } => show(&api, id, json).await,
        ImportsCommand::Failed { id, output } => failed(&api, id, output).await,
    }
}

async fn list(api: &Api, all: bool, json: bool) -> Result<Done, Failure> {
    let mut items: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    let total = loop {
        let page: Page<Value> = api.get("/imports", &[("cursor", cursor.clone())]).await?;
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if all => cursor = next,
            _ => break page.total,
        }
    };
    if json {
        println!("{}", Value::Array(items));
        return Ok(Done::All);
    }
    let imports: Vec<Import> = items
        .into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|error| {
            Failure::Server(format!("an import the client does not understand: {error}"))
        })?;
    if imports.is_empty() {
        println!("No imports yet.");
        return Ok(Done::All);
    }
    let rows: Vec<[String; 8]> = imports
        .iter()
        .map(|import| {
            [
                import.id.to_string(),
                utc(import.created_at),
                import.status.clone(),
                muster_core::ImportKind::from(import.kind)
                    .as_str()
                    .to_owned(),
                import.total_rows.to_string(),
                import.failed.to_string(),
                import.group_name.clone().unwrap_or_default(),
                import.source_name.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        grid(
            ["ID", "CREATED", "STATUS", "KIND", "ROWS", "FAILED", "GROUP", "SOURCE"],
            &rows
        )
    );
    if (imports.len() as i64) < total {
        println!("{} of {total}; --all lists every one.", imports.len());
    }
    Ok(Done::All)
}

async fn show(api: &Api, id: i64, json: bool) -> Result<Done, Failure> {
    let value: Value = api.get(&format!("/imports/{id}"), &[]).await?;
    if json {
        println!("{value}");
        return Ok(Done::All);
    }
    let import: Import = serde_json::from_value(value).map_err(|error| {
        Failure::Server(format!("an import the client does not understand: {error}"))
    })?;
    let mut lines = vec![
        ("Import", import.id.to_string()),
        (
            "Kind",
            muster_core::ImportKind::from(import.kind)
                .as_str()
                .to_owned(),
        ),
        ("Source", import.source_name.clone()),
        (
            "Group",
            import.group_name.clone().unwrap_or_else(|| "-".to_owned()),
        ),
        ("Started by", import.created_by.clone()),
        ("Created", utc(import.created_at)),
        ("Status", import.status.clone()),
        (
            "Rows",
            format!(
                "{} of {} done: {} succeeded, {} skipped, {} failed",
                import.processed,
                import.total_rows,
                import.succeeded,
                import.skipped,
                import.failed
            ),
        ),
    ];
    if let Some(finished) = import.finished_at {
        lines.push(("Finished", utc(finished)));
    }
    if import.sync {
        lines.push(("Sync", format!("removes {} people", import.leaving)));
    }
    if !import.summary.is_empty() {
        lines.push(("Summary", import.summary.clone()));
    }
    if let Some(error) = &import.error {
        lines.push(("Error", error.clone()));
    }
    for (label, value) in lines {
        println!("{:<11} {value}", format!("{label}:"));
    }
    if import.failed > 0 {
        println!(
            "Failed rows: muster imports failed {} -o failed.csv",
            import.id
        );
    }
    Ok(Done::All)
}

async fn failed(api: &Api, id: i64, output: Option<PathBuf>) -> Result<Done, Failure> {
    let csv = api.get_text(&format!("/imports/{id}/failed.csv")).await?;
    match output {
        Some(path) => {
            std::fs::write(&path, &csv).map_err(|error| {
                Failure::Input(format!("cannot write {}: {error}", path.display()))
            })?;
            eprintln!(
                "Wrote the failed rows of import {id} to {}.",
                path.display()
            );
        }
        None => print!("{csv}"),
    }
    Ok(Done::All)
}
