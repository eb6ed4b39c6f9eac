//! An outbox row is an intent, not a message: what kind of email, to whom,
//! about what, and the few values its template needs as they were when it
//! was queued. The sender renders the message when it delivers it, so an
//! import writes a few hundred bytes per email instead of a rendered
//! message, and the database never holds a body with a live link.
//!
//! A link's token cannot be derived again (only its hash is stored), so it
//! travels in the intent sealed with the process key (see `seal`): the
//! database alone never reveals a link that works.

use serde::{Deserialize, Serialize};

use super::{
    seal::{self, SealError},
    templates::{self, Rendered},
    DeliveryCounts,
};

crate::text_enum::text_enum! {
    /// Why an email was sent. Limits count some kinds (resends, reminders);
    /// [`MailKind::about`] names what the row's `about_id` points at.
    pub enum MailKind {
        Invitation = "invitation",
        InvitationResend = "invitation_resend",
        InvitationReminder = "invitation_reminder",
        Activation = "activation",
        ActivationResend = "activation_resend",
        Welcome = "welcome",
        WelcomeResend = "welcome_resend",
        ImportFinished = "import_finished",
        JoinVerify = "join_verify",
        JoinAccountExists = "join_account_exists",
        AddedNotice = "added_notice",
        PasswordReset = "password_reset",
        ConfirmEmail = "confirm_email",
    }
}

impl MailKind {
    /// The table whose row `about_id` names, for this kind.
    pub fn about(self) -> &'static str {
        match self {
            MailKind::Invitation | MailKind::InvitationResend | MailKind::InvitationReminder => {
                "invitations"
            }
            MailKind::Activation | MailKind::ActivationResend => "activation_tokens",
            MailKind::ImportFinished => "imports",
            MailKind::JoinVerify => "join_requests",
            MailKind::JoinAccountExists | MailKind::Welcome | MailKind::WelcomeResend => {
                "learning_groups"
            }
            MailKind::AddedNotice => "organizations",
            MailKind::PasswordReset | MailKind::ConfirmEmail => "users",
        }
    }
}

/// A link's token as an intent keeps it: sealed, opened only to render.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedToken(String);

impl SealedToken {
    pub fn seal(token: &str) -> Result<SealedToken, SealError> {
        seal::seal(token).map(SealedToken)
    }

    fn link(&self, base_url: &str, path: &str) -> Result<String, SealError> {
        Ok(format!("{base_url}{path}{}", seal::open(&self.0)?))
    }

    /// The token itself (tests read links this way, as the sender does).
    pub fn open(&self) -> Result<String, SealError> {
        seal::open(&self.0)
    }
}

/// What a template needs, as of queueing: a group renamed afterwards is
/// still named as the admin saw it when they sent the email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Params {
    Invitation {
        organization: String,
        group: String,
        inviter: String,
        expires_at: i64,
        token: SealedToken,
    },
    InvitationReminder {
        organization: String,
        group: String,
        expires_at: i64,
        token: SealedToken,
    },
    Welcome {
        first_name: String,
        organization: String,
        group: String,
        trainings: Vec<String>,
    },
    AccountProvisioned {
        first_name: String,
        organization: String,
        sent_by: String,
        expires_at: i64,
        token: SealedToken,
    },
    ImportFinished {
        organization: String,
        /// What was imported, as admins read it ("invitations (cancelled)").
        kind: String,
        import_id: i64,
        total: i64,
        succeeded: i64,
        failed: i64,
        skipped: i64,
        emails: Option<DeliveryCounts>,
    },
    VerifyJoinEmail {
        organization: String,
        group: String,
        expires_at: i64,
        token: SealedToken,
    },
    JoinAccountExists {
        organization: String,
        group: String,
        slug: String,
    },
    AddedNotice {
        organization: String,
        added_by: String,
    },
    PasswordReset {
        first_name: String,
        expires_at: i64,
        token: SealedToken,
    },
    ConfirmEmail {
        organization: String,
        token: SealedToken,
    },
}

impl Params {
    /// The sealed token of the link, for the kinds that carry one.
    pub fn token(&self) -> Option<&SealedToken> {
        match self {
            Params::Invitation { token, .. }
            | Params::InvitationReminder { token, .. }
            | Params::AccountProvisioned { token, .. }
            | Params::VerifyJoinEmail { token, .. }
            | Params::PasswordReset { token, .. }
            | Params::ConfirmEmail { token, .. } => Some(token),
            Params::Welcome { .. }
            | Params::ImportFinished { .. }
            | Params::JoinAccountExists { .. }
            | Params::AddedNotice { .. } => None,
        }
    }

    /// The message, with links on `base_url` (the configured `MUSTER_BASE_URL`).
    pub fn render(&self, base_url: &str) -> Result<Rendered, SealError> {
        Ok(match self {
            Params::Invitation {
                organization,
                group,
                inviter,
                expires_at,
                token,
            } => templates::invitation(&templates::Invitation {
                organization,
                group,
                inviter,
                expires_at: *expires_at,
                link: &token.link(base_url, "/invite/")?,
            }),
            Params::InvitationReminder {
                organization,
                group,
                expires_at,
                token,
            } => templates::invitation_reminder(&templates::InvitationReminder {
                organization,
                group,
                expires_at: *expires_at,
                link: &token.link(base_url, "/invite/")?,
            }),
            Params::Welcome {
                first_name,
                organization,
                group,
                trainings,
            } => templates::welcome(&templates::Welcome {
                first_name,
                organization,
                group,
                trainings,
                link: &format!("{base_url}/"),
            }),
            Params::AccountProvisioned {
                first_name,
                organization,
                sent_by,
                expires_at,
                token,
            } => templates::account_provisioned(&templates::AccountProvisioned {
                first_name,
                organization,
                sent_by,
                expires_at: *expires_at,
                link: &token.link(base_url, "/activate/")?,
            }),
            Params::ImportFinished {
                organization,
                kind,
                import_id,
                total,
                succeeded,
                failed,
                skipped,
                emails,
            } => templates::import_finished(&templates::ImportFinished {
                organization,
                kind,
                total: *total,
                succeeded: *succeeded,
                failed: *failed,
                skipped: *skipped,
                link: &format!("{base_url}/admin/imports/{import_id}"),
                emails: *emails,
            }),
            Params::VerifyJoinEmail {
                organization,
                group,
                expires_at,
                token,
            } => templates::verify_join_email(&templates::VerifyJoinEmail {
                organization,
                group,
                expires_at: *expires_at,
                link: &token.link(base_url, "/verify-email/")?,
            }),
            Params::JoinAccountExists {
                organization,
                group,
                slug,
            } => templates::join_account_exists(&templates::JoinAccountExists {
                organization,
                group,
                link: &format!("{base_url}/join/{slug}"),
            }),
            Params::AddedNotice {
                organization,
                added_by,
            } => templates::added_notice(&templates::AddedNotice {
                organization,
                added_by,
                link: &format!("{base_url}/"),
            }),
            Params::PasswordReset {
                first_name,
                expires_at,
                token,
            } => templates::password_reset(&templates::PasswordReset {
                first_name,
                expires_at: *expires_at,
                link: &token.link(base_url, "/reset-password/")?,
            }),
            Params::ConfirmEmail {
                organization,
                token,
            } => templates::confirm_email(&templates::ConfirmEmail {
                organization,
                link: &token.link(base_url, "/confirm-email/")?,
            }),
        })
    }
}

impl From<SealError> for crate::error::AppError {
    fn from(error: SealError) -> Self {
        tracing::error!(%error, "a link's token cannot be sealed");
        crate::error::AppError::Internal
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the outbox row's parameters are unreadable: {0}")]
    Params(#[from] serde_json::Error),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error("the outbox row has neither parameters nor a stored message")]
    Empty,
}

/// An outbox row's message as delivered: rendered from its intent, or, for
/// a row queued before intents (or kept by the dev mailbox), as stored.
pub fn render_stored(
    params: Option<&str>,
    stored: (Option<&str>, Option<&str>, Option<&str>),
    base_url: &str,
) -> Result<Rendered, RenderError> {
    if let Some(params) = params {
        let params: Params = serde_json::from_str(params)?;
        return Ok(params.render(base_url)?);
    }
    match stored {
        (Some(subject), Some(text), Some(html)) => Ok(Rendered {
            subject: subject.to_owned(),
            text: seal::open(text)?,
            html: seal::open(html)?,
        }),
        _ => Err(RenderError::Empty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intent_holds_its_token_sealed_and_renders_the_link() {
        seal::install([7; 32]).unwrap();
        let params = Params::Invitation {
            organization: "Riverside".into(),
            group: "Cohort".into(),
            inviter: "Ada".into(),
            expires_at: 1_795_305_600,
            token: SealedToken::seal("0123abcd").unwrap(),
        };
        let stored = serde_json::to_string(&params).unwrap();
        assert!(!stored.contains("0123abcd"), "{stored}");
        let mail = render_stored(Some(&stored), (None, None, None), "https://m.test").unwrap();
        assert!(mail.text.contains("https://m.test/invite/0123abcd\n"));
        assert_eq!(mail.subject, "Riverside invites you to join Cohort");
        assert!(render_stored(None, (None, None, None), "x").is_err());
    }
}
