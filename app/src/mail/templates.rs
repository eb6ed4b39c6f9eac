//! The emails' words: plain text and HTML for each, every value HTML-escaped
//! in the HTML part. Pure functions, so they are unit tested directly.

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape_html(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `YYYY-MM-DD` (UTC) of a unix time, without a date library.
pub fn format_date(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}")
}

/// "4 Dec" (UTC): a day this year or next, as lists show it.
pub fn format_day_month(unix_seconds: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "June", "July", "Aug", "Sept", "Oct", "Nov", "Dec",
    ];
    let date = format_date(unix_seconds);
    let month: usize = date[5..7].parse().unwrap_or(1);
    let day: u32 = date[8..10].parse().unwrap_or(1);
    format!("{day} {}", MONTHS[month - 1])
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn html_page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"font-family: sans-serif; line-height: 1.5; color: #1a1a1a;\">{body}</body></html>\n",
        escape_html(title)
    )
}

/// The call to action every emailed link gets: a button, and the address
/// itself for clients that do not show buttons. `link` is escaped here.
fn link_button(label: &str, link: &str) -> String {
    let link = escape_html(link);
    format!(
        "<p><a href=\"{link}\" style=\"display:inline-block;padding:0.6em 1.2em;background:#1d4ed8;color:#fff;text-decoration:none;border-radius:4px\">{label}</a></p>\
         <p>Or paste this link into your browser: <a href=\"{link}\">{link}</a></p>"
    )
}

pub struct Invitation<'a> {
    pub organization: &'a str,
    pub group: &'a str,
    pub inviter: &'a str,
    pub expires_at: i64,
    /// Absolute: the configured base URL + `/invite/{token}`.
    pub link: &'a str,
}

pub fn invitation(i: &Invitation<'_>) -> Rendered {
    let subject = format!("{} invites you to join {}", i.organization, i.group);
    let expires = format_date(i.expires_at);
    let text = format!(
        "Hello,\n\n{inviter} has invited you to join {group} at {org} on Muster.\n\n\
         Accept the invitation here:\n{link}\n\n\
         The link works until {expires} (UTC) and only once. If you did not expect this email, you can ignore it.\n",
        inviter = i.inviter,
        group = i.group,
        org = i.organization,
        link = i.link,
    );
    let body = format!(
        "<p>Hello,</p><p>{inviter} has invited you to join <strong>{group}</strong> at {org} on Muster.</p>\
         {button}\
         <p>The link works until {expires} (UTC) and only once. If you did not expect this email, you can ignore it.</p>",
        inviter = escape_html(i.inviter),
        group = escape_html(i.group),
        org = escape_html(i.organization),
        button = link_button("Accept the invitation", i.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

/// A reminder of a pending invitation, sent by the group's schedule.
pub struct InvitationReminder<'a> {
    pub organization: &'a str,
    pub group: &'a str,
    pub expires_at: i64,
    /// Absolute: the configured base URL + `/invite/{token}`.
    pub link: &'a str,
}

pub fn invitation_reminder(r: &InvitationReminder<'_>) -> Rendered {
    let subject = format!(
        "Reminder: {} invites you to join {}",
        r.organization, r.group
    );
    let expires = format_date(r.expires_at);
    let text = format!(
        "Hello,\n\nThis is a reminder: you are invited to join {group} at {org} on Muster, and \
         the invitation is still waiting for you.\n\n\
         Accept the invitation here:\n{link}\n\n\
         This link replaces the one in earlier emails. It works until {expires} (UTC) and only once. \
         If you did not expect this email, you can ignore it.\n",
        group = r.group,
        org = r.organization,
        link = r.link,
    );
    let body = format!(
        "<p>Hello,</p><p>This is a reminder: you are invited to join <strong>{group}</strong> at {org} on Muster, \
         and the invitation is still waiting for you.</p>\
         {button}\
         <p>This link replaces the one in earlier emails. It works until {expires} (UTC) and only once. \
         If you did not expect this email, you can ignore it.</p>",
        group = escape_html(r.group),
        org = escape_html(r.organization),
        button = link_button("Accept the invitation", r.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct Welcome<'a> {
    pub first_name: &'a str,
    pub organization: &'a str,
    pub group: &'a str,
    pub trainings: &'a [String],
    /// Absolute link to the learner home.
    pub link: &'a str,
}

pub fn welcome(w: &Welcome<'_>) -> Rendered {
    let subject = format!("Welcome to {}", w.group);
    let trainings_text = if w.trainings.is_empty() {
        String::new()
    } else {
        format!(
            "\nYour trainings:\n{}\n",
            w.trainings
                .iter()
                .map(|t| format!("- {t}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    };
    let text = format!(
        "Hello {name},\n\nYou are now a member of {group} at {org}.\n{trainings_text}\nSee your groups and trainings here:\n{link}\n",
        name = w.first_name,
        group = w.group,
        org = w.organization,
        link = w.link,
    );
    let trainings_html = if w.trainings.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Your trainings:</p><ul>{}</ul>",
            w.trainings
                .iter()
                .map(|t| format!("<li>{}</li>", escape_html(t)))
                .collect::<String>()
        )
    };
    let body = format!(
        "<p>Hello {name},</p><p>You are now a member of <strong>{group}</strong> at {org}.</p>{trainings_html}\
         <p><a href=\"{link}\">See your groups and trainings</a></p>",
        name = escape_html(w.first_name),
        group = escape_html(w.group),
        org = escape_html(w.organization),
        link = escape_html(w.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct AccountProvisioned<'a> {
    /// The person's first name; may be empty (then "Hello,").
    pub first_name: &'a str,
    pub organization: &'a str,
    /// The admin (or import owner) who sent it.
    pub sent_by: &'a str,
    pub expires_at: i64,
    /// Absolute: the configured base URL + `/activate/{token}`.
    pub link: &'a str,
}

/// "An account was made for you — set your password", for people created by an import.
pub fn account_provisioned(a: &AccountProvisioned<'_>) -> Rendered {
    let subject = format!("{}: set your password for Muster", a.organization);
    let expires = format_date(a.expires_at);
    let greeting = if a.first_name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", a.first_name.trim())
    };
    let text = format!(
        "{greeting}\n\n{sent_by} at {org} has created a Muster account for you.\n\n\
         Set your password to activate it:\n{link}\n\n\
         The link works until {expires} (UTC) and only once. If it has expired, ask your administrator to send a new one. \
         If you did not expect this email, you can ignore it.\n",
        sent_by = a.sent_by,
        org = a.organization,
        link = a.link,
    );
    let body = format!(
        "<p>{greeting}</p><p>{sent_by} at <strong>{org}</strong> has created a Muster account for you.</p>\
         {button}\
         <p>The link works until {expires} (UTC) and only once. If it has expired, ask your administrator to send a new one. \
         If you did not expect this email, you can ignore it.</p>",
        greeting = escape_html(&greeting),
        sent_by = escape_html(a.sent_by),
        org = escape_html(a.organization),
        button = link_button("Set your password", a.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct ImportFinished<'a> {
    pub organization: &'a str,
    /// What was imported, as shown to admins (e.g. "people", "invitations").
    pub kind: &'a str,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Absolute: the configured base URL + `/admin/imports/{id}`.
    pub link: &'a str,
    /// Where the invitation emails stood when the import finished (most
    /// may still be waiting then), for imports that sent any.
    pub emails: Option<super::DeliveryCounts>,
}

/// To the admin who started an import, when it has finished.
pub fn import_finished(i: &ImportFinished<'_>) -> Rendered {
    let outcome = if i.failed == 0 {
        "finished".to_owned()
    } else if i.failed == 1 {
        "finished with 1 error".to_owned()
    } else {
        format!("finished with {} errors", i.failed)
    };
    let subject = format!("Your {} import {outcome}", i.kind);
    // Emails go out after the rows are done: say where they stood at this
    // moment, and where to follow them.
    let emails = i.emails.map(|counts| {
        format!(
            "Emails when it finished: {}. The import's page shows each person's email as it goes out.",
            counts.describe()
        )
    });
    let text = format!(
        "Hello,\n\nYour {kind} import at {org} {outcome}.\n\n\
         Rows: {total}\nSucceeded: {succeeded}\nFailed: {failed}\nSkipped: {skipped}\n\n\
         {emails_text}See every row and its result here:\n{link}\n",
        emails_text = emails
            .as_deref()
            .map(|line| format!("{line}\n\n"))
            .unwrap_or_default(),
        kind = i.kind,
        org = i.organization,
        total = i.total,
        succeeded = i.succeeded,
        failed = i.failed,
        skipped = i.skipped,
        link = i.link,
    );
    let body = format!(
        "<p>Hello,</p><p>Your {kind} import at <strong>{org}</strong> {outcome}.</p>\
         <table style=\"border-collapse:collapse\">\
         <tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">Rows</th><td>{total}</td></tr>\
         <tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">Succeeded</th><td>{succeeded}</td></tr>\
         <tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">Failed</th><td>{failed}</td></tr>\
         <tr><th scope=\"row\" style=\"text-align:left;padding-right:1em\">Skipped</th><td>{skipped}</td></tr>\
         </table>{emails_html}\
         <p><a href=\"{link}\">See every row and its result</a></p>",
        emails_html = emails
            .as_deref()
            .map(|line| format!("<p>{}</p>", escape_html(line)))
            .unwrap_or_default(),
        kind = escape_html(i.kind),
        org = escape_html(i.organization),
        outcome = escape_html(&outcome),
        total = i.total,
        succeeded = i.succeeded,
        failed = i.failed,
        skipped = i.skipped,
        link = escape_html(i.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct VerifyJoinEmail<'a> {
    pub organization: &'a str,
    pub group: &'a str,
    pub expires_at: i64,
    /// Absolute: the configured base URL + `/verify-email/{token}`.
    pub link: &'a str,
}

/// Confirms the address of someone who signed up on a join page.
pub fn verify_join_email(v: &VerifyJoinEmail<'_>) -> Rendered {
    let subject = format!("Confirm your email to join {}", v.organization);
    let expires = format_date(v.expires_at);
    let text = format!(
        "Hello,\n\nSomeone (we hope you) signed up with this address to join {group} at {org} on Muster.\n\n\
         Open this link to confirm your email, choose your password and join:\n{link}\n\n\
         The link works until {expires} (UTC) and only once. If you did not sign up, ignore this email: no account is created.\n",
        group = v.group,
        org = v.organization,
        link = v.link,
    );
    let body = format!(
        "<p>Hello,</p><p>Someone (we hope you) signed up with this address to join <strong>{group}</strong> at {org} on Muster.</p>\
         {button}\
         <p>The link works until {expires} (UTC) and only once. If you did not sign up, ignore this email: no account is created.</p>",
        group = escape_html(v.group),
        org = escape_html(v.organization),
        button = link_button("Confirm your email and choose a password", v.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct JoinAccountExists<'a> {
    pub organization: &'a str,
    pub group: &'a str,
    /// Absolute: the join page.
    pub link: &'a str,
}

/// Sent instead of a confirmation link when the address already has an
/// account, so the join page's answer does not tell who has one.
pub fn join_account_exists(j: &JoinAccountExists<'_>) -> Rendered {
    let subject = format!("Join {} with your Muster account", j.organization);
    let text = format!(
        "Hello,\n\nSomeone (we hope you) tried to sign up with this address to join {group} at {org} on Muster, \
         but you already have an account.\n\nLog in on the join page to join with it:\n{link}\n\n\
         If this was not you, you can ignore this email: nothing has changed.\n",
        group = j.group,
        org = j.organization,
        link = j.link,
    );
    let body = format!(
        "<p>Hello,</p><p>Someone (we hope you) tried to sign up with this address to join <strong>{group}</strong> at {org} on Muster, \
         but you already have an account.</p>\
         <p><a href=\"{link}\">Log in on the join page</a> to join with it.</p>\
         <p>If this was not you, you can ignore this email: nothing has changed.</p>",
        group = escape_html(j.group),
        org = escape_html(j.organization),
        link = escape_html(j.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct AddedNotice<'a> {
    pub organization: &'a str,
    /// Who added them, as the email names them.
    pub added_by: &'a str,
    /// Absolute: the home page, where they accept or decline after signing in.
    pub link: &'a str,
}

/// Sent when an organization adds someone whose account it does not own:
/// nothing changes for them until they accept, after signing in.
pub fn added_notice(n: &AddedNotice<'_>) -> Rendered {
    let subject = format!("{} added you on Muster", n.organization);
    let text = format!(
        "Hello,\n\n{by} added you to {org} on Muster.\n\nOpen Muster to accept or decline. \
         {org} sees nothing of your account until you accept:\n{link}\n\n\
         If you do not know {org}, decline or ignore this email.\n",
        by = n.added_by,
        org = n.organization,
        link = n.link,
    );
    let body = format!(
        "<p>Hello,</p><p>{by} added you to <strong>{org}</strong> on Muster.</p>\
         <p><a href=\"{link}\">Open Muster to accept or decline</a>. \
         {org} sees nothing of your account until you accept.</p>\
         <p>If you do not know {org}, decline or ignore this email.</p>",
        by = escape_html(n.added_by),
        org = escape_html(n.organization),
        link = escape_html(n.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct PasswordReset<'a> {
    /// May be empty (then "Hello,").
    pub first_name: &'a str,
    pub expires_at: i64,
    /// Absolute: the configured base URL + `/reset-password/{token}`.
    pub link: &'a str,
}

/// "Forgot password?": a link to choose a new password.
pub fn password_reset(r: &PasswordReset<'_>) -> Rendered {
    let subject = "Reset your Muster password".to_owned();
    let greeting = if r.first_name.trim().is_empty() {
        "Hello,".to_owned()
    } else {
        format!("Hello {},", r.first_name.trim())
    };
    let until = format_time(r.expires_at);
    let text = format!(
        "{greeting}\n\nSomeone asked to reset the password of the Muster account for this address.\n\n\
         Choose a new password here:\n{link}\n\n\
         The link works until {until} (UTC), and only once. If you did not ask for this, ignore this email: \
         your password stays as it is.\n",
        link = r.link,
    );
    let body = format!(
        "<p>{greeting}</p><p>Someone asked to reset the password of the Muster account for this address.</p>\
         {button}\
         <p>The link works until {until} (UTC), and only once. If you did not ask for this, ignore this email: \
         your password stays as it is.</p>",
        greeting = escape_html(&greeting),
        button = link_button("Choose a new password", r.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

pub struct ConfirmEmail<'a> {
    pub organization: &'a str,
    /// Absolute: the confirmation link.
    pub link: &'a str,
}

/// Sent to a new organization's first admin: until they open it, no other
/// organization can find their account by its address.
pub fn confirm_email(c: &ConfirmEmail<'_>) -> Rendered {
    let subject = "Confirm your email address for Muster".to_owned();
    let text = format!(
        "Hello,\n\nYou created {org} on Muster with this address. Confirm that it is yours:\n{link}\n\n\
         The link works once, for 7 days. If this was not you, ignore this email.\n",
        org = c.organization,
        link = c.link,
    );
    let body = format!(
        "<p>Hello,</p><p>You created <strong>{org}</strong> on Muster with this address.</p>\
         <p><a href=\"{link}\">Confirm that it is yours</a>.</p>\
         <p>The link works once, for 7 days. If this was not you, ignore this email.</p>",
        org = escape_html(c.organization),
        link = escape_html(c.link),
    );
    Rendered {
        html: html_page(&subject, &body),
        subject,
        text,
    }
}

/// `YYYY-MM-DD HH:MM` (UTC) of a unix time: a link that lasts an hour needs the hour.
pub fn format_time(unix_seconds: i64) -> String {
    let seconds = unix_seconds.rem_euclid(86_400);
    format!(
        "{} {:02}:{:02}",
        format_date(unix_seconds),
        seconds / 3600,
        seconds % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(format_date(951_782_400), "2000-02-29");
        assert_eq!(format_date(1_795_305_600), "2026-11-22");
        assert_eq!(format_date(-86_400), "1969-12-31");
        assert_eq!(format_day_month(1_795_305_600), "22 Nov");
        assert_eq!(
            format_day_month(1_795_305_600 - 80 * 86_400 + 86_399),
            "3 Sept"
        );
        assert_eq!(format_day_month(951_782_400), "29 Feb");
    }

    #[test]
    fn invitation_escapes_every_value_in_html_and_keeps_text_plain() {
        let mail = invitation(&Invitation {
            organization: "Tom & Jerry's <School>",
            group: "\"Cohort\" <script>alert(1)</script>",
            inviter: "Ada <ada@example.org>",
            expires_at: 1_795_305_600,
            link: "https://muster.test/invite/abc?x=1&y=\"2\"",
        });
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(mail.html.contains("&lt;script&gt;"));
        assert!(mail.html.contains("Tom &amp; Jerry&#39;s &lt;School&gt;"));
        assert!(mail
            .html
            .contains("href=\"https://muster.test/invite/abc?x=1&amp;y=&quot;2&quot;\""));
        assert!(mail
            .text
            .contains("https://muster.test/invite/abc?x=1&y=\"2\""));
        assert!(mail.text.contains("2026-11-22"));
        assert!(mail.html.contains("2026-11-22"));
        assert_eq!(
            mail.subject,
            "Tom & Jerry's <School> invites you to join \"Cohort\" <script>alert(1)</script>"
        );
    }

    #[test]
    fn welcome_lists_trainings() {
        let trainings = vec!["Safety <1>".to_owned(), "Conduct".to_owned()];
        let mail = welcome(&Welcome {
            first_name: "Lin",
            organization: "Org",
            group: "Cohort",
            trainings: &trainings,
            link: "https://muster.test/",
        });
        assert!(mail.text.contains("- Safety <1>\n- Conduct"));
        assert!(mail
            .html
            .contains("<li>Safety &lt;1&gt;</li><li>Conduct</li>"));
    }

    #[test]
    fn account_provisioned_escapes_and_links() {
        let mail = account_provisioned(&AccountProvisioned {
            first_name: "Lin <b>",
            organization: "Tom & Jerry's",
            sent_by: "Ada \"Admin\"",
            expires_at: 1_795_305_600,
            link: "https://muster.test/activate/abc&x",
        });
        assert!(mail.html.contains("Hello Lin &lt;b&gt;,"), "{}", mail.html);
        assert!(mail.html.contains("Tom &amp; Jerry&#39;s"));
        assert!(mail.html.contains("Ada &quot;Admin&quot;"));
        assert!(mail
            .html
            .contains("href=\"https://muster.test/activate/abc&amp;x\""));
        assert!(mail.text.contains("https://muster.test/activate/abc&x\n"));
        assert!(mail.text.contains("2026-11-22") && mail.html.contains("2026-11-22"));
        assert_eq!(mail.subject, "Tom & Jerry's: set your password for Muster");
        let anonymous = account_provisioned(&AccountProvisioned {
            first_name: " ",
            organization: "Org",
            sent_by: "Ada",
            expires_at: 0,
            link: "https://muster.test/activate/x",
        });
        assert!(anonymous.text.starts_with("Hello,\n"));
    }

    #[test]
    fn import_finished_reports_counts_and_links() {
        let mail = import_finished(&ImportFinished {
            organization: "A & B",
            kind: "people",
            total: 10,
            succeeded: 7,
            failed: 2,
            skipped: 1,
            link: "https://muster.test/admin/imports/42",
            emails: None,
        });
        assert!(!mail.text.contains("Emails when it finished"));
        assert_eq!(mail.subject, "Your people import finished with 2 errors");
        assert!(mail
            .text
            .contains("Rows: 10\nSucceeded: 7\nFailed: 2\nSkipped: 1"));
        assert!(mail.html.contains("A &amp; B"));
        assert!(mail
            .html
            .contains("href=\"https://muster.test/admin/imports/42\""));
        let clean = import_finished(&ImportFinished {
            organization: "O",
            kind: "invitations",
            total: 1,
            succeeded: 1,
            failed: 0,
            skipped: 0,
            link: "l",
            emails: Some(super::super::DeliveryCounts {
                sent: 1180,
                waiting: 20,
                failed: 0,
            }),
        });
        assert_eq!(clean.subject, "Your invitations import finished");
        assert!(clean.text.contains(
            "Emails when it finished: 1,180 invitation emails sent, 20 waiting to be sent."
        ));
        assert!(clean.html.contains("20 waiting to be sent"));
    }

    #[test]
    fn password_reset_names_its_hour_and_escapes() {
        let mail = password_reset(&PasswordReset {
            first_name: "Lin <b>",
            expires_at: 1_795_000_000,
            link: "https://muster.test/reset-password/abc&x",
        });
        assert_eq!(format_time(1_795_000_000), "2026-11-18 11:06");
        assert!(mail.text.contains("until 2026-11-18 11:06 (UTC)"));
        assert!(mail
            .text
            .contains("https://muster.test/reset-password/abc&x\n"));
        assert!(mail.html.contains("Hello Lin &lt;b&gt;,"));
        assert!(mail
            .html
            .contains("href=\"https://muster.test/reset-password/abc&amp;x\""));
    }
}
