//! Invites and Program invitations: one invitation per row into the import's
//! group (a program's contract limits the seats). Group members rows come
//! through [`invite`] too, with their own groups.

use std::collections::{HashMap, HashSet};

use super::{inviter_name, Job, Outcome, Outcomes};
use crate::{
    contracts,
    db::{Db, Tx},
    error::AppError,
    groups,
    imports::{
        store::{PendingRow, BULK_CHUNK},
        ImportRowStatus,
    },
    invitations::{
        self,
        service::{invitation_email, InvitationEmail, INVITATION_KIND},
        store::{ImportedBatch, ImportedInvitation},
    },
    links::server::{new_token, token_hash},
    mail,
    state::now,
};

const DAY: i64 = 86_400;

/// One invitation the batch wants to create.
struct Wanted<'a> {
    position: i64,
    group_id: i64,
    email: &'a str,
    expires_at: i64,
}

/// The organization's groups by normalized name: id and name as written.
pub(super) struct Groups(HashMap<String, (i64, String)>);

impl Groups {
    pub(super) async fn load(tx: &mut Tx, organization_id: i64) -> Result<Groups, AppError> {
        let all = groups::store::all_names(tx, organization_id).await?;
        Ok(Groups(
            all.into_iter()
                .map(|group| (groups::store::name_key(&group.name), (group.id, group.name)))
                .collect(),
        ))
    }

    pub(super) fn id_of(&self, name: &str) -> Option<i64> {
        self.0
            .get(&groups::store::name_key(name))
            .map(|(id, _)| *id)
    }

    fn names(&self) -> HashMap<i64, &str> {
        self.0
            .values()
            .map(|(id, name)| (*id, name.as_str()))
            .collect()
    }
}

/// What a batch asks for: the invitations it wants, and the rows already
/// decided (no email, a group that is gone).
pub(super) struct Requests<'a> {
    groups: Groups,
    wanted: Vec<Wanted<'a>>,
    outcomes: Outcomes,
    now: i64,
}

pub(super) async fn run(
    db: &Db,
    tx: &mut Tx,
    job: &Job,
    rows: &[PendingRow],
) -> Result<Outcomes, AppError> {
    let groups = Groups::load(tx, job.organization_id).await?;
    let requests = Requests::new(job, rows, groups, |_, _| {
        Ok(job.group_id.into_iter().collect())
    });
    // One group, as planned: the row's planned action says it all, and not
    // writing a message per row keeps large imports fast.
    invite(db, tx, job, rows, requests, |_| String::new()).await
}

impl<'a> Requests<'a> {
    /// The invitations `rows` want, into the groups `targets` gives a row
    /// (or the outcome that ends the row instead).
    pub(super) fn new(
        job: &Job,
        rows: &'a [PendingRow],
        groups: Groups,
        targets: impl Fn(&Groups, &PendingRow) -> Result<Vec<i64>, Outcome>,
    ) -> Requests<'a> {
        let now = now();
        let mut outcomes = Outcomes::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        for row in rows {
            let Some(email) = row.email.as_deref() else {
                outcomes.insert(
                    row.position,
                    Outcome::new(ImportRowStatus::Error, "No email address."),
                );
                continue;
            };
            let expires_at = now + row.expiry_days.unwrap_or(job.expiry_days) * DAY;
            match targets(&groups, row) {
                Ok(group_ids) => wanted.extend(group_ids.into_iter().map(|group_id| Wanted {
                    position: row.position,
                    group_id,
                    email,
                    expires_at,
                })),
                Err(outcome) => {
                    outcomes.insert(row.position, outcome);
                }
            }
        }
        Requests {
            groups,
            wanted,
            outcomes,
            now,
        }
    }
}

/// Creates the wanted invitations (skipping members, already invited people
/// and rows beyond the contract's seats), queues their emails and says what
/// became of each row. `invited_message` words the success of a row from
/// the names of the groups it was invited to.
pub(super) async fn invite(
    db: &Db,
    tx: &mut Tx,
    job: &Job,
    rows: &[PendingRow],
    requests: Requests<'_>,
    invited_message: impl Fn(&[String]) -> String,
) -> Result<Outcomes, AppError> {
    let Requests {
        groups,
        mut wanted,
        mut outcomes,
        now,
    } = requests;
    let group_names = groups.names();
    let started = std::time::Instant::now();
    // A program's contract has a fixed number of seats, counted under a lock
    // on the contract that this transaction holds until it has written its
    // invitations, so that no other batch, confirm or resend (in this process
    // or another) counts the same seats. Taken first, before any invitation
    // row is touched, so that batches under one contract queue here rather
    // than lock rows in different orders.
    let mut seats = match job.contract_id {
        Some(contract_id) => Some(ContractRoom::lock(tx, job, contract_id, now).await?),
        None => None,
    };
    // Who is already in each group, and invitations that expired but still say pending.
    let mut members: HashSet<(i64, String)> = HashSet::new();
    let mut by_group: HashMap<i64, Vec<&str>> = HashMap::new();
    for w in &wanted {
        by_group.entry(w.group_id).or_default().push(w.email);
    }
    for (group_id, emails) in &by_group {
        for email in
            invitations::store::active_members_among(&mut **tx, db, *group_id, emails).await?
        {
            members.insert((*group_id, email));
        }
        invitations::store::expire_overdue_for_emails(
            tx,
            db,
            job.organization_id,
            *group_id,
            emails,
            now,
        )
        .await?;
    }
    wanted.retain(|w| !members.contains(&(w.group_id, w.email.to_owned())));
    let mut no_seat: HashSet<i64> = HashSet::new();
    let mut already: HashSet<i64> = HashSet::new();
    if let Some(room) = seats.as_mut() {
        // Rows already invited take no seat and are not inserted at all: the
        // insert only ever creates invitations that were given a seat here.
        let mut pending: HashSet<(i64, String)> = HashSet::new();
        for (group_id, emails) in &by_group {
            for email in invitations::store::pending_among(&mut **tx, db, *group_id, emails).await?
            {
                pending.insert((*group_id, email));
            }
        }
        wanted.retain(|w| {
            if pending.contains(&(w.group_id, w.email.to_owned())) {
                already.insert(w.position);
                false
            } else if room.left > 0 {
                room.left -= 1;
                true
            } else {
                no_seat.insert(w.position);
                false
            }
        });
    }
    let looked_up = started.elapsed();
    // Tokens exist only in memory and in the emails; the table keeps their hashes.
    let tokens: Vec<String> = wanted.iter().map(|_| new_token()).collect();
    // Each email's outbox id is reserved first, so that an invitation is
    // written once, already pointing at its message (`outbox_ids[i]` is
    // `wanted[i]`'s).
    let outbox_ids: Vec<Option<i64>> = if job.send_emails {
        mail::server::reserve_ids(tx, wanted.len())
            .await?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![None; wanted.len()]
    };
    let mut created: HashMap<(i64, String), i64> = HashMap::new();
    // The wanted entry (by its index) whose invitation was created, with its id.
    let mut emailed: Vec<(usize, i64)> = Vec::new();
    let batch = ImportedBatch {
        organization_id: job.organization_id,
        contract_id: job.contract_id,
        import_id: job.id,
        invited_by: job.created_by,
        created_at: now,
    };
    for (c, chunk) in wanted.chunks(BULK_CHUNK).enumerate() {
        let first = c * BULK_CHUNK;
        let chunk: Vec<ImportedInvitation> = chunk
            .iter()
            .enumerate()
            .map(|(i, w)| ImportedInvitation {
                group_id: w.group_id,
                email: w.email,
                token_hash: token_hash(&tokens[first + i]),
                expires_at: w.expires_at,
                outbox_id: outbox_ids[first + i],
            })
            .collect();
        for invitation in invitations::store::insert_bulk(&mut **tx, db, &batch, &chunk).await? {
            if let Some(outbox_id) = invitation.last_outbox_id {
                // Reserved ids ascend with `wanted`'s order.
                if let Ok(index) = outbox_ids.binary_search(&Some(outbox_id)) {
                    emailed.push((index, invitation.id));
                }
            }
            created.insert((invitation.group_id, invitation.email), invitation.id);
        }
    }
    let inserted = started.elapsed();
    let mut composed = inserted;
    if job.send_emails {
        let inviter = inviter_name(tx, job.organization_id, job.created_by).await?;
        let mut emails: Vec<(i64, mail::server::Email)> = Vec::with_capacity(emailed.len());
        for (index, invitation_id) in emailed {
            let (w, token) = (&wanted[index], &tokens[index]);
            let group = group_names.get(&w.group_id).copied().unwrap_or_default();
            let email = invitation_email(
                invitation_id,
                &InvitationEmail {
                    to: w.email,
                    token,
                    organization: &job.organization,
                    group,
                    inviter: &inviter,
                    expires_at: w.expires_at,
                    kind: INVITATION_KIND,
                },
            )?;
            let outbox_id = outbox_ids[index].expect("reserved when emails are sent");
            emails.push((outbox_id, email));
        }
        composed = started.elapsed();
        mail::server::enqueue_reserved(tx, job.organization_id, &emails).await?;
    }
    // Where a batch's time goes, emails or not (compose and enqueue are 0 without).
    tracing::debug!(
        import_id = job.id,
        lookups_us = looked_up.as_micros() as u64,
        insert_us = (inserted - looked_up).as_micros() as u64,
        compose_us = (composed - inserted).as_micros() as u64,
        enqueue_us = (started.elapsed() - composed).as_micros() as u64,
        "invitations and their emails"
    );
    // Each row's outcome: any invitation created is a success.
    let mut invited: HashMap<i64, Vec<String>> = HashMap::new();
    for w in &wanted {
        if created.contains_key(&(w.group_id, w.email.to_owned())) {
            let group = group_names.get(&w.group_id).copied().unwrap_or_default();
            invited
                .entry(w.position)
                .or_default()
                .push(group.to_owned());
        } else {
            already.insert(w.position);
        }
    }
    for row in rows {
        if outcomes.contains_key(&row.position) {
            continue;
        }
        let outcome = if let Some(groups) = invited.get(&row.position) {
            Outcome::new(ImportRowStatus::Success, invited_message(groups))
        } else if let (true, Some(room)) = (no_seat.contains(&row.position), seats.as_ref()) {
            Outcome::new(ImportRowStatus::Error, room.full_message())
        } else if already.contains(&row.position) {
            Outcome::new(ImportRowStatus::Skipped, "Skipped: already invited.")
        } else {
            Outcome::new(ImportRowStatus::Skipped, "Skipped: already a member.")
        };
        outcomes.insert(row.position, outcome);
    }
    Ok(outcomes)
}

/// The seats a contract has left, counted under its lock.
struct ContractRoom {
    name: String,
    seat_limit: i64,
    /// Set when the contract has ended: it has no seats for anyone.
    ended_on: Option<String>,
    left: i64,
}

impl ContractRoom {
    async fn lock(
        tx: &mut Tx,
        job: &Job,
        contract_id: i64,
        now: i64,
    ) -> Result<ContractRoom, AppError> {
        let Some(seats) =
            contracts::store::lock_seats(tx, job.organization_id, contract_id, now).await?
        else {
            // Not the import's organization's contract (it was checked at
            // confirmation, and contracts are not deleted): no seats.
            return Ok(ContractRoom {
                name: "The contract".into(),
                seat_limit: 0,
                ended_on: None,
                left: 0,
            });
        };
        let ended_on = seats.ended_before(now);
        let left = seats.left(now);
        Ok(ContractRoom {
            name: seats.name,
            seat_limit: seats.seat_limit,
            ended_on,
            left,
        })
    }

    /// What a row that did not get a seat says.
    fn full_message(&self) -> String {
        match &self.ended_on {
            Some(date) => format!("Not invited: {} ended on {date}.", self.name),
            None => format!(
                "Not invited: {} is full (all {} seats are taken).",
                self.name, self.seat_limit
            ),
        }
    }
}
