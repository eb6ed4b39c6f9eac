//! The command-line client: `muster login`, `muster import`, `muster imports …`
//! and `muster invitations …`, speaking `/api/v1` with an API token. One file
//! per command; [`api`] is the HTTP side, [`config`] where the login is kept.
//! Answers are read with the types the server writes them with
//! (`server::api`), so the two cannot drift apart.
//!
//! Exit codes are part of the interface (scripts branch on them): 0 done,
//! 1 done but not everything succeeded, 2 the input or command line is wrong,
//! 3 the server could not be used (no login, token refused, unreachable).

mod api;
mod config;
mod import;
mod imports;
mod invitations;
mod login;
mod output;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "\
Without a command, `muster` serves Muster (see README: Configuration).

Exit codes of the client commands:
  0  done
  1  done, but not every row or invitation succeeded
  2  bad input: the file has errors, the group is unknown, the command line is wrong
  3  the server could not be used: not logged in, token refused, unreachable

MUSTER_URL and MUSTER_TOKEN override the saved login; MUSTER_CONFIG names the
config file (default $XDG_CONFIG_HOME/muster/config.toml or ~/.config/muster/config.toml).";

#[derive(Debug, Parser)]
#[command(name = "muster", version, about = "Muster: serve it, or drive a Muster server from the command line", after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve Muster (the same as `muster` alone), configured by environment variables.
    Serve,
    #[command(flatten)]
    Client(ClientCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Check an API token against a server and save both for the other commands.
    Login(login::LoginArgs),
    /// Check a roster file here, then import it on the server.
    Import(import::ImportArgs),
    /// List imports, show one, or download its failed rows.
    #[command(subcommand)]
    Imports(imports::ImportsCommand),
    /// Resend invitations in bulk.
    #[command(subcommand)]
    Invitations(invitations::InvitationsCommand),
}

/// Why a command stopped short; [`Failure::code`] is its exit code.
#[derive(Debug)]
pub enum Failure {
    /// 2: the command line, the file or the request is wrong.
    Input(String),
    /// 3: no login, the token refused, or the server unreachable or failing.
    Server(String),
}

impl Failure {
    fn code(&self) -> u8 {
        match self {
            Failure::Input(_) => 2,
            Failure::Server(_) => 3,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Input(message) | Failure::Server(message) => f.write_str(message),
        }
    }
}

/// What a command that ran reports: everything succeeded, or only some of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    All,
    Partly,
}

pub fn run(command: ClientCommand) -> ExitCode {
    // One thread is plenty for one request at a time, and starts at once.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("muster: could not start: {error}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(async {
        match command {
            ClientCommand::Login(args) => login::run(args).await,
            ClientCommand::Import(args) => import::run(args).await,
            ClientCommand::Imports(command) => imports::run(command).await,
            ClientCommand::Invitations(command) => invitations::run(command).await,
        }
    });
    match result {
        Ok(Done::All) => ExitCode::SUCCESS,
        Ok(Done::Partly) => ExitCode::from(1),
        Err(failure) => {
            eprintln!("muster: {failure}");
            ExitCode::from(failure.code())
        }
    }
}
