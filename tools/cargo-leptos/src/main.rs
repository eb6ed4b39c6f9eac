//! `cargo leptos`: cargo-leptos 0.3.7's own entry point (its `main.rs`), built against
//! the newer wasm splitter named in Cargo.toml.
use cargo_leptos::{config::Cli, run};
use clap::Parser;
use std::env;

#[tokio::main]
async fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;

    let mut args: Vec<String> = env::args().collect();
    // Run as `cargo leptos`, the second argument is "leptos", which clap does not expect.
    if args.get(1).is_some_and(|arg| arg == "leptos") {
        args.remove(1);
    }

    let args = Cli::parse_from(&args);
    let verbose = args.opts().map(|opts| opts.verbose).unwrap_or(0);
    cargo_leptos::logger::setup(verbose, &args.log);

    run(args).await
}
