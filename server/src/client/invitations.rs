//! `muster invitations resend --status expired [--group NAME]`.

use clap::{Subcommand, ValueEnum};

use super::{api::Api, config, output::count, Done, Failure};
use server::api::{groups::Group, invitations::Invitation, Page};

/// The invitations that can be sent again.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Resendable {
    Pending,
    Expired,
}

impl Resendable {
    fn as_str(self) -> &'static str {
        match self {
            Resendable::Pending => "pending",
            Resendable::Expired => "expired",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// Send every invitation in a status again, each with a new link.
    /// Exit 1 when the server refused some of them.
    Resend {
        #[arg(long, value_enum)]
        status: Resendable,
        /// Only invitations into this group (by exact name).
        #[arg(long)]
        group: Option<String>,
        /// Count them, send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn run(command: InvitationsCommand) -> Result<Done, Failure> {
    let api = Api::new(&config::load()?)?;
    match command {
        InvitationsCommand::Resend {
            status,
            group,
            dry_run,
        } => resend(&api, status, group, dry_run).await,
    }
}

async fn resend(
    api: &Api,
    status: Resendable,
    group: Option<String>,
    dry_run: bool,
) -> Result<Done, Failure> {
    let mut query = vec![("status", status.as_str().to_owned())];
    if let Some(name) = &group {
        let groups: Vec<Group> = api.get("/groups", &[]).await?;
        let found = groups.iter().find(|g| &g.name == name).ok_or_else(|| {
            let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            Failure::Input(format!(
                "no group called {name:?}; the groups are: {}",
                names.join(", ")
            ))
        })?;
        query.push(("group_id", found.id.to_string()));
    }
    // The whole list first: a resent invitation leaves the expired ones, and
    // paging while resending would skip some.
    let mut chosen: Vec<Invitation> = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut page_query = query.clone();
        page_query.push(("cursor", cursor.clone()));
        let page: Page<Invitation> = api.get("/invitations", &page_query).await?;
        chosen.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = next,
            None => break,
        }
    }
    let what = format!("{} invitation", status.as_str());
    if chosen.is_empty() {
        println!("No {what}s to resend.");
        return Ok(Done::All);
    }
    if dry_run {
        println!(
            "Would resend {}; nothing was sent.",
            count(chosen.len() as i64, &what, &format!("{what}s"))
        );
        return Ok(Done::All);
    }
    let mut refused = Vec::new();
    for (done, invitation) in chosen.iter().enumerate() {
        match api
            .post_empty(&format!("/invitations/{}/resend", invitation.id))
            .await
        {
            Ok(()) => {}
            Err(Failure::Input(reason)) => refused.push((invitation, reason)),
            // The token or the server gave out: the rest would fail too.
            Err(failure) => {
                println!(
                    "Resent {} of {} before stopping.",
                    done - refused.len(),
                    chosen.len()
                );
                return Err(failure);
            }
        }
    }
    let sent = chosen.len() - refused.len();
    println!(
        "Resent {} of {}.",
        sent,
        count(chosen.len() as i64, &what, &format!("{what}s"))
    );
    for (invitation, reason) in &refused {
        println!(
            "  not resent: {} ({}): {reason}",
            invitation.email, invitation.group_name
        );
    }
    Ok(if refused.is_empty() {
        Done::All
    } else {
        Done::Partly
    })
}
