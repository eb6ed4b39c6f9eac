use super::*;
use crate::check::check;
use crate::limits::Limits;

fn run(kind: ImportKind, csv: &str) -> Checked {
    check(
        csv.as_bytes(),
        Some("Students.csv"),
        kind,
        &Limits::default(),
    )
    .unwrap()
    .checked
}

fn set(v: &[&str]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn actions(p: &Plan) -> Vec<&PlannedAction> {
    p.rows.iter().map(|r| &r.action).collect()
}

#[test]
fn invites_skip_members_and_pending_invitations() {
    let c = run(
        ImportKind::Invites,
        "Email\nnew@x.org\nMember@x.org\npending@x.org\n",
    );
    let facts = Facts {
        group_members: set(&["member@x.org"]),
        pending_invitations: set(&["PENDING@x.org"]),
        ..Facts::default()
    };
    let p = plan(ImportKind::Invites, &c, &facts, &PlanOptions::default());
    assert_eq!(
        actions(&p),
        vec![
            &PlannedAction::Invite { send_email: true },
            &PlannedAction::SkipAlreadyMember,
            &PlannedAction::SkipAlreadyInvited
        ]
    );
    assert_eq!(p.totals.invitations, 1);
    assert_eq!(p.totals.summary_sentence(), "Sends 1 invitation email, skips 1 person already in the group, skips 1 person already invited.");
}

#[test]
fn learners_create_accounts_for_new_emails_and_add_existing_users() {
    let c = run(ImportKind::Learners, "Email\nnew@x.org\nold@x.org\n");
    let mut facts = Facts::default();
    facts.users.insert(
        "Old@x.org".into(),
        ExistingUser {
            status: UserStatus::Active,
            roles: vec![],
        },
    );
    let p = plan(ImportKind::Learners, &c, &facts, &PlanOptions::default());
    assert_eq!(
        actions(&p),
        vec![
            &PlannedAction::CreateAccount {
                join_group: true,
                send_email: true
            },
            &PlannedAction::AddMembership
        ]
    );
    assert_eq!(p.totals.memberships, 2);
}

#[test]
fn rows_with_errors_plan_as_errors_with_the_first_message() {
    let c = run(ImportKind::Invites, "Email\nbad\n");
    let p = plan(
        ImportKind::Invites,
        &c,
        &Facts::default(),
        &PlanOptions::default(),
    );
    assert!(matches!(
        &p.rows[0].action,
        PlannedAction::Error {
            code: IssueCode::EmailInvalid,
            ..
        }
    ));
    assert_eq!(p.totals.errors, 1);
}

#[test]
fn seats_exceeded_is_reported_when_the_contract_is_short() {
    let c = run(
        ImportKind::ProgramInvitations,
        "Full Name,Email,External ID\nA B,a@x.org,\nC D,c@x.org,\nE F,e@x.org,\n",
    );
    let facts = Facts {
        seats_left: Some(2),
        ..Facts::default()
    };
    let p = plan(
        ImportKind::ProgramInvitations,
        &c,
        &facts,
        &PlanOptions::default(),
    );
    assert_eq!(p.totals.seats_exceeded_by, Some(1));
    let facts = Facts {
        seats_left: Some(3),
        ..Facts::default()
    };
    assert_eq!(
        plan(
            ImportKind::ProgramInvitations,
            &c,
            &facts,
            &PlanOptions::default()
        )
        .totals
        .seats_exceeded_by,
        None
    );
}

#[test]
fn unknown_group_names_are_row_errors_at_plan_time() {
    let c = run(
        ImportKind::GroupMembers,
        "Email,Groups\na@x.org,math\nb@x.org,Chess Club\n",
    );
    let facts = Facts {
        groups: vec!["Math".into()],
        ..Facts::default()
    };
    let p = plan(
        ImportKind::GroupMembers,
        &c,
        &facts,
        &PlanOptions::default(),
    );
    assert_eq!(p.rows[0].groups, vec!["Math"]);
    match &p.rows[1].action {
        PlannedAction::Error { code, message } => {
            assert_eq!(*code, IssueCode::UnknownGroup);
            assert!(message.contains("\"Chess Club\""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn people_links_must_point_to_a_row_or_an_existing_user() {
    let c = run(
        ImportKind::People,
        "First Name,Last Name,Email,Parent Email\nAna,Li,ana@x.org,mum@x.org\nBo,Li,bo@x.org,ghost@x.org\n",
    );
    let mut facts = Facts::default();
    facts.users.insert(
        "mum@x.org".into(),
        ExistingUser {
            status: UserStatus::Active,
            roles: vec![Role::Parent],
        },
    );
    facts.users.insert(
        "bo@x.org".into(),
        ExistingUser {
            status: UserStatus::Active,
            roles: vec![Role::Student],
        },
    );
    let p = plan(ImportKind::People, &c, &facts, &PlanOptions::default());
    assert_eq!(
        p.rows[0].action,
        PlannedAction::CreateAccount {
            join_group: false,
            send_email: true
        }
    );
    assert_eq!(
        p.rows[0].links,
        vec![PlannedLink {
            role: Role::Parent,
            email: "mum@x.org".into()
        }]
    );
    assert!(matches!(
        p.rows[1].action,
        PlannedAction::Error {
            code: IssueCode::AssociationNotFound,
            ..
        }
    ));
}

#[test]
fn the_summary_sentence_reads_like_the_issue_example() {
    let t = PlanTotals {
        accounts_created: 120,
        accounts_updated: 8,
        invitations: 1234,
        invitation_emails: 1234,
        emails: 1234,
        skipped_already_member: 14,
        ..PlanTotals::default()
    };
    assert_eq!(t.summary_sentence(), "Creates 120 accounts, updates 8, sends 1,234 invitation emails, skips 14 people already in the group.");
}

#[test]
fn invitations_without_emails_are_described_as_such() {
    let c = run(ImportKind::Invites, "Email\na@x.org\n");
    let p = plan(
        ImportKind::Invites,
        &c,
        &Facts::default(),
        &PlanOptions { send_emails: false },
    );
    assert_eq!(
        p.totals.summary_sentence(),
        "Creates 1 invitation without sending emails."
    );
}

#[test]
fn facts_round_trip_through_json() {
    let mut facts = Facts {
        seats_left: Some(3),
        ..Facts::default()
    };
    facts.users.insert(
        "a@x.org".into(),
        ExistingUser {
            status: UserStatus::Provisioned,
            roles: vec![],
        },
    );
    let back: Facts = serde_json::from_str(&serde_json::to_string(&facts).unwrap()).unwrap();
    assert_eq!(back, facts);
}
