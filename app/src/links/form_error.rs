//! Why a no-JavaScript form was refused, as one enum: the code in the
//! redirect and the sentence on the page both come from it.

use serde::{Deserialize, Serialize};

/// Why a no-JavaScript form was refused. The code travels in the redirect's
/// query string (never free text in a URL); the page turns it back into a
/// sentence with [`FormError::message`] or its own wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormError {
    Credentials,
    RateLimited,
    Email,
    /// The email's domain is not on the join page's allowlist.
    Domain,
    Password,
    Confirmation,
    FirstName,
    LastName,
    AccountExists,
    AlreadyActive,
    /// The address has an account whose address nobody ever confirmed: its
    /// password may be someone else's choice, so it is not used here.
    Unverified,
    /// Signed in as someone other than the person the link was sent to.
    Mismatch,
    SignedOut,
    /// The join page was turned off.
    Closed,
    /// The link no longer works.
    Gone,
    Internal,
}

impl FormError {
    /// Every refusal, for turning a code back into one.
    pub const ALL: [FormError; 16] = [
        FormError::Credentials,
        FormError::RateLimited,
        FormError::Email,
        FormError::Domain,
        FormError::Password,
        FormError::Confirmation,
        FormError::FirstName,
        FormError::LastName,
        FormError::AccountExists,
        FormError::AlreadyActive,
        FormError::Unverified,
        FormError::Mismatch,
        FormError::SignedOut,
        FormError::Closed,
        FormError::Gone,
        FormError::Internal,
    ];

    pub fn code(self) -> &'static str {
        match self {
            FormError::Credentials => "credentials",
            FormError::RateLimited => "rate_limited",
            FormError::Email => "email",
            FormError::Domain => "domain",
            FormError::Password => "password",
            FormError::Confirmation => "confirmation",
            FormError::FirstName => "first_name",
            FormError::LastName => "last_name",
            FormError::AccountExists => "account_exists",
            FormError::AlreadyActive => "already_active",
            FormError::Unverified => "unverified",
            FormError::Mismatch => "mismatch",
            FormError::SignedOut => "signed_out",
            FormError::Closed => "closed",
            FormError::Gone => "gone",
            FormError::Internal => "internal",
        }
    }

    /// The error a page's `?error=` names; an unknown code reads as internal.
    pub fn from_code(code: &str) -> FormError {
        FormError::ALL
            .into_iter()
            .find(|error| error.code() == code)
            .unwrap_or(FormError::Internal)
    }

    /// The sentence for pages that need no wording of their own.
    pub fn message(self) -> &'static str {
        match self {
            FormError::Credentials => "Email or password is incorrect.",
            FormError::RateLimited => "Too many attempts. Try again in a few minutes.",
            FormError::Email => "Please enter a valid email address.",
            FormError::Domain => "This page does not accept your email's domain.",
            FormError::Password => "The password must be at least 10 characters (and at most 256).",
            FormError::Confirmation => {
                "The two passwords do not match. Type the same password twice."
            }
            FormError::FirstName => "Please enter your first name (at most 100 characters).",
            FormError::LastName => "Please enter your last name (at most 100 characters).",
            FormError::AccountExists => {
                "An account with this email already exists. Log in instead, or use \"Forgot password?\" on the login page if you never set a password."
            }
            FormError::Unverified => {
                "An account with this email exists, but nobody has confirmed the address yet. Use \"Forgot password?\" on the login page to claim it, then open this link again."
            }
            FormError::AlreadyActive => "This account is already active. Log in instead.",
            FormError::Mismatch => "You are signed in with a different email than the one invited.",
            FormError::SignedOut => "Your session ended. Log in to continue.",
            FormError::Closed => "This page is closed.",
            FormError::Gone => "This link is no longer valid.",
            FormError::Internal => "Something went wrong on our side. Please try again.",
        }
    }
}
