//! A contract's seats under attack: concurrent confirms, workers, resends and
//! server processes never hold more seats (pending unexpired plus accepted
//! invitations) than the contract has.

use super::*;
use app::imports::worker::{run_batch, WorkerConfig};

/// `rows` Program invitations rows for `prefix`0… as an `imports/create` body.
fn program_import(
    group: i64,
    contract: i64,
    prefix: &str,
    rows: usize,
    key: &str,
) -> serde_json::Value {
    let cells: Vec<Vec<String>> = (0..rows)
        .map(|i| {
            vec![
                format!("Person {prefix}{i}"),
                format!("{prefix}{i}@example.com"),
                String::new(),
            ]
        })
        .collect();
    let mut opts = options("program-invitations", Some(group));
    opts["contract_id"] = json!(contract);
    json!({
        "options": opts,
        "payload": {
            "kind": "program-invitations",
            "sheets": [{
                "name": "roster",
                "headers": ["Full Name", "Email", "External ID"],
                "rows": cells.iter().enumerate().map(|(i, cells)| json!({
                    "number": i + 2,
                    "cells": cells,
                })).collect::<Vec<_>>(),
            }],
        },
        "idempotency_key": key,
    })
}

async fn contract(admin: &Client, name: &str, seats: i64) -> i64 {
    admin
        .call(
            "contracts/create",
            &[
                ("name", name),
                ("seat_limit", &seats.to_string()),
                ("ends_on", ""),
            ],
        )
        .await
        .unwrap()
}

/// Seats held under the contract: pending unexpired and accepted invitations.
async fn seats_held(server: &TestApp, contract: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (held,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM invitations WHERE contract_id = $1
         AND (status = 'active' OR (status = 'pending' AND expires_at > $2))",
    )
    .bind(contract)
    .bind(now)
    .fetch_one(server.pool())
    .await
    .unwrap();
    held
}

/// Runs `workers` workers on `server`'s database at once until no import has work.
async fn drain(server: &TestApp, workers: usize, batch_size: i64) {
    let handles: Vec<_> = (0..workers)
        .map(|n| {
            let state = server.state.clone();
            tokio::spawn(async move {
                let config = WorkerConfig {
                    batch_size,
                    worker_id: format!("seat-worker-{n}"),
                    ..Default::default()
                };
                while run_batch(&state.db, &config).await.unwrap() {}
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
}

/// Import rows that ended without a seat, and what they say.
async fn rows_without_a_seat(admin: &Client, ids: &[i64]) -> Vec<String> {
    let mut messages = Vec::new();
    for &id in ids {
        let page = rows(admin, id, "error").await;
        messages.extend(page.rows.into_iter().map(|r| r.message.unwrap_or_default()));
    }
    messages
}

/// Six confirms of two rows each race for a 4-seat contract, then three
/// workers run them at once while an expired invitation under the contract is
/// resent: never more than 4 seats held, and each row left out says the
/// contract is full.
async fn racing_confirms_workers_and_a_resend_hold_at_most_the_seats(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract = contract(&admin, "District 9", 4).await;

    // An invitation under the contract that expired: its seat is free again,
    // and resending it would take one.
    let first: i64 = admin
        .call_json(
            "imports/create",
            &program_import(group, contract, "old", 1, KEY_A),
        )
        .await
        .unwrap();
    drain(&server, 1, 100).await;
    assert_eq!(wait_finished(&admin, first).await.succeeded, 1);
    sqlx::query("UPDATE invitations SET expires_at = 1000 WHERE contract_id = $1")
        .bind(contract)
        .execute(server.pool())
        .await
        .unwrap();
    assert_eq!(seats_held(&server, contract).await, 0);
    let old = list_invitation_id(&admin).await;

    let confirms = (0..6).map(|n| {
        let admin = &admin;
        async move {
            let key = format!("racing-confirm-key-{n:04}");
            admin
                .call_json::<i64>(
                    "imports/create",
                    &program_import(group, contract, &format!("r{n}x"), 2, &key),
                )
                .await
        }
    });
    let confirmed: Vec<Result<i64, AppError>> = futures::future::join_all(confirms).await;
    let ids: Vec<i64> = confirmed.iter().filter_map(|r| r.clone().ok()).collect();
    for refused in confirmed.iter().filter_map(|r| r.clone().err()) {
        assert!(
            matches!(&refused, AppError::Conflict(m) if m.contains("seats")),
            "{refused:?}"
        );
    }
    assert_eq!(
        ids.len(),
        6,
        "no seat is taken before the worker runs: {confirmed:?}"
    );

    let resend = async {
        admin
            .call::<()>("invitations/resend", &[("id", &old.to_string())])
            .await
    };
    let (resent, ()) = tokio::join!(resend, drain(&server, 3, 1));
    let held = seats_held(&server, contract).await;
    assert_eq!(
        held, 4,
        "the contract is full and no fuller (resend: {resent:?})"
    );
    let mut invited = 0;
    for &id in &ids {
        invited += wait_finished(&admin, id).await.succeeded;
    }
    let revived = i64::from(resent.is_ok());
    assert_eq!(invited + revived, 4);
    let full = rows_without_a_seat(&admin, &ids).await;
    assert_eq!(full.len() as i64, 12 - invited);
    assert!(
        full.iter().all(|m| m.contains("District 9 is full")),
        "{full:?}"
    );
}

async fn list_invitation_id(admin: &Client) -> i64 {
    let page: app::invitations::InvitationsPage = admin
        .call(
            "invitations/list",
            &[
                ("status", ""),
                ("search", ""),
                ("group_id", "0"),
                ("page", "1"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    page.rows[0].id
}

/// A draft (uploaded without JavaScript) is confirmed only while the contract
/// still has the seats it needs: another import may have taken them since.
async fn a_draft_is_confirmed_only_while_its_seats_are_left(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract = contract(&admin, "District 9", 3).await;
    let user = admin
        .call::<app::auth::Bootstrap>("bootstrap", &[])
        .await
        .unwrap()
        .user
        .unwrap();
    let body = program_import(group, contract, "draft", 2, KEY_A);
    let draft = app::imports::service::create(
        &server.state.db,
        &user,
        &serde_json::from_value(body["options"].clone()).unwrap(),
        &serde_json::from_value(body["payload"].clone()).unwrap(),
        KEY_A,
        app::imports::service::Stage::Draft,
        None,
    )
    .await
    .unwrap();
    let other: i64 = admin
        .call_json(
            "imports/create",
            &program_import(group, contract, "other", 2, KEY_B),
        )
        .await
        .unwrap();
    drain(&server, 1, 100).await;
    assert_eq!(wait_finished(&admin, other).await.succeeded, 2);

    let confirm = admin
        .call::<()>("imports/confirm", &[("id", &draft.to_string())])
        .await;
    assert!(
        matches!(&confirm, Err(AppError::Conflict(m)) if m.contains("District 9 has 1 seats left")),
        "{confirm:?}"
    );
    let summary: ImportSummary = admin
        .call("imports/get", &[("id", &draft.to_string())])
        .await
        .unwrap();
    assert_eq!(summary.status.as_str(), "draft");
    assert_eq!(seats_held(&server, contract).await, 2);
}

/// A row whose person is already invited (as planned) is skipped and takes no
/// seat, so the next row gets the seat the confirmation counted on.
async fn an_already_invited_row_takes_no_seat(backend: Backend) {
    let Some(server) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let admin = server.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract = contract(&admin, "District 9", 2).await;
    let first: i64 = admin
        .call_json(
            "imports/create",
            &program_import(group, contract, "a", 1, KEY_A),
        )
        .await
        .unwrap();
    drain(&server, 1, 100).await;
    assert_eq!(wait_finished(&admin, first).await.succeeded, 1);
    // a0@ again, and b0@: one seat left, and one needed.
    let mut body = program_import(group, contract, "a", 1, KEY_B);
    body["payload"]["sheets"][0]["rows"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "number": 3, "cells": ["Bo B", "b0@example.com", ""] }));
    let second: i64 = admin.call_json("imports/create", &body).await.unwrap();
    drain(&server, 1, 100).await;
    let done = wait_finished(&admin, second).await;
    assert_eq!(
        (done.succeeded, done.skipped, done.failed),
        (1, 1, 0),
        "{:?}",
        rows(&admin, second, "").await
    );
    assert_eq!(seats_held(&server, contract).await, 2);
}

/// How the two processes that run the workers are started.
#[derive(Clone, Copy)]
enum Processes {
    /// Two further servers of this test binary on the same database (own
    /// pools, workers, leases and ports).
    Servers,
    /// Two `muster` binaries, as production runs them.
    Binaries,
}

/// Two processes on one database, each running two import workers (batches
/// of 2 rows), share a 10-seat contract: five imports of 3 rows, confirmed at
/// once through two web servers before any seat was taken, end with exactly
/// 10 seats held and the 5 rows left out saying the contract is full.
async fn two_processes_share_ten_seats(backend: Backend, processes: Processes) {
    let Some(web) = TestApp::spawn_without_import_workers(backend).await else {
        return;
    };
    let second_web = TestApp::spawn_on(
        web.database_url.clone(),
        false,
        &[("MUSTER_IMPORT_WORKERS", "0".to_owned())],
    )
    .await;
    let admin = web.admin("Riverside", "ada@example.org").await;
    let group = admin.create_group("Spring Cohort", "Safety").await;
    let contract = contract(&admin, "District 9", 10).await;
    let other_admin = second_web.client();
    other_admin.log_in("ada@example.org").await;

    let confirms = (0..5).map(|n| {
        let client = if n % 2 == 0 { &admin } else { &other_admin };
        async move {
            let key = format!("two-process-key-{n:04}");
            client
                .call_json::<i64>(
                    "imports/create",
                    &program_import(group, contract, &format!("p{n}x"), 3, &key),
                )
                .await
                .unwrap()
        }
    });
    let ids: Vec<i64> = futures::future::join_all(confirms).await;
    assert_eq!(seats_held(&web, contract).await, 0);

    let mut servers = Vec::new();
    let mut binaries = Vec::new();
    match processes {
        Processes::Servers => {
            let workers = [
                ("MUSTER_IMPORT_WORKERS", "2".to_owned()),
                ("MUSTER_IMPORT_BATCH_SIZE", "2".to_owned()),
            ];
            let (one, two) = tokio::join!(
                TestApp::spawn_on(web.database_url.clone(), false, &workers),
                TestApp::spawn_on(web.database_url.clone(), false, &workers),
            );
            servers.extend([one, two]);
        }
        Processes::Binaries => {
            for _ in 0..2 {
                binaries.push(crate::support::muster_process(
                    &web.database_url,
                    &[
                        ("MUSTER_IMPORT_WORKERS", "2"),
                        ("MUSTER_IMPORT_BATCH_SIZE", "2"),
                    ],
                ));
            }
        }
    }
    let mut invited = 0;
    for &id in &ids {
        invited += wait_finished(&admin, id).await.succeeded;
    }
    assert_eq!(seats_held(&web, contract).await, 10);
    assert_eq!(invited, 10);
    let full = rows_without_a_seat(&admin, &ids).await;
    assert_eq!(full.len(), 5, "{full:?}");
    assert!(
        full.iter().all(|m| m.contains("District 9 is full")),
        "{full:?}"
    );
    for server in servers {
        server.stop().await;
    }
    drop(binaries);
}

async fn two_servers_never_hold_more_seats_than_the_contract(backend: Backend) {
    two_processes_share_ten_seats(backend, Processes::Servers).await;
}

async fn two_muster_processes_never_hold_more_seats_than_the_contract(backend: Backend) {
    two_processes_share_ten_seats(backend, Processes::Binaries).await;
}

on_both_backends! {
    racing_confirms_workers_resend => racing_confirms_workers_and_a_resend_hold_at_most_the_seats;
    draft_confirm_counts_seats => a_draft_is_confirmed_only_while_its_seats_are_left;
    invited_row_takes_no_seat => an_already_invited_row_takes_no_seat;
    two_processes_one_contract => two_servers_never_hold_more_seats_than_the_contract;
    two_muster_binaries_one_contract => two_muster_processes_never_hold_more_seats_than_the_contract;
}
