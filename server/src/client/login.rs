//! `muster login --url URL --token TOKEN`: the token is tried on the server
//! before it is saved, so a typo shows now rather than at the next import.

use clap::Args;

use super::{
    api::Api,
    config::{self, Login},
    output::count,
    Done, Failure,
};
use server::api::groups::Group;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's address, e.g. https://muster.example.org
    #[arg(long)]
    url: String,
    /// An API token (mst_…) from Settings → API. Without it: MUSTER_TOKEN,
    /// else one line read from standard input (keeps it out of shell history).
    #[arg(long)]
    token: Option<String>,
}

pub async fn run(args: LoginArgs) -> Result<Done, Failure> {
    let token = match args.token {
        Some(token) => token,
        None => match std::env::var("MUSTER_TOKEN") {
            Ok(token) if !token.trim().is_empty() => token,
            _ => {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|error| Failure::Input(format!("cannot read the token: {error}")))?;
                line
            }
        },
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Failure::Input("give the token with --token".to_owned()));
    }
    let login = Login {
        url: config::normalize_url(&args.url)?,
        token,
    };
    let api = Api::new(&login)?;
    let groups: Vec<Group> = api.get("/groups", &[]).await.map_err(|failure| {
        // Whatever the reason, nothing usable was logged in to.
        Failure::Server(format!("login failed, nothing saved: {failure}"))
    })?;
    let path = config::save(&login)?;
    println!(
        "Logged in to {} ({} visible). Saved to {}.",
        login.url,
        count(groups.len() as i64, "group", "groups"),
        path.display()
    );
    Ok(Done::All)
}
