//! The server's integration tests: one binary, one module per area. Each test
//! starts the real server (or the real `muster` binary) against a fresh SQLite
//! file and a fresh PostgreSQL database. The benchmarks (`import_bench`,
//! `mail_bench`, `abuse_bench`) are `#[ignore]`d tests of this binary:
//!
//! ```sh
//! cargo test --release -p server --test it import_bench -- --ignored --nocapture --test-threads 1
//! ```

#[macro_use]
mod support;

mod abuse;
mod abuse_bench;
mod activation;
mod api;
mod audit;
mod cli;
mod e2e_bench;
mod import_bench;
mod import_crash;
mod imports;
mod invitations;
mod join;
mod limits;
mod mail_bench;
mod migrations;
mod outbox;
mod pages;
mod passwords;
mod real_smtp;
mod rest_api;
mod schema_parity;
mod scim;
mod sessions;
mod shutdown;
mod statuses;
mod tenant_isolation;
mod tenants;
mod webhooks;
