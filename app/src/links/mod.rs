//! Emailed one-time links and the pages that work without JavaScript.
//!
//! Invitations, activation links, email confirmations (and any later link
//! sent by email) share one life: a 256-bit random token is mailed, only its
//! SHA-256 is stored, and a lookup finds it valid, expired, used, replaced,
//! cancelled or unknown. Their no-JavaScript forms share one answer: a
//! `303 See Other` back to a page, with an error code the page turns into a
//! sentence, and sometimes a session cookie. All of that lives here so the
//! `Secure` rule, the cookie's attributes and the codes exist once.

//! The parts depend on one another in one direction only: `form_error` and
//! `server` know nothing of accounts, so `auth` can use them; `session`
//! (who is signed in; signing someone in after a form) builds on `auth`.

use serde::{Deserialize, Serialize};

pub mod form_error;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod session;

pub use form_error::FormError;

/// Where an emailed link stands when someone opens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    Valid,
    Expired,
    /// It did its job once; links work once.
    Used,
    /// A newer link was sent for the same thing; only the newest works.
    Replaced,
    /// An admin withdrew it.
    Cancelled,
    NotFound,
}

impl TokenState {
    /// The state of a stored link from its timestamps. Used, replaced and
    /// cancelled win over expiry: they say more about why it stopped working.
    pub fn of(
        used_at: Option<i64>,
        replaced_at: Option<i64>,
        cancelled_at: Option<i64>,
        expires_at: i64,
        now: i64,
    ) -> TokenState {
        if used_at.is_some() {
            TokenState::Used
        } else if replaced_at.is_some() {
            TokenState::Replaced
        } else if cancelled_at.is_some() {
            TokenState::Cancelled
        } else if expires_at <= now {
            TokenState::Expired
        } else {
            TokenState::Valid
        }
    }

    pub fn is_valid(self) -> bool {
        self == TokenState::Valid
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_error_survives_its_code() {
        for error in FormError::ALL {
            assert_eq!(FormError::from_code(error.code()), error);
        }
        assert_eq!(FormError::from_code("nonsense"), FormError::Internal);
    }

    #[test]
    fn used_replaced_and_cancelled_say_more_than_expired() {
        assert_eq!(TokenState::of(None, None, None, 10, 5), TokenState::Valid);
        assert_eq!(
            TokenState::of(None, None, None, 10, 10),
            TokenState::Expired
        );
        assert_eq!(
            TokenState::of(Some(1), None, None, 10, 20),
            TokenState::Used
        );
        assert_eq!(
            TokenState::of(None, Some(1), None, 10, 20),
            TokenState::Replaced
        );
        assert_eq!(
            TokenState::of(None, None, Some(1), 10, 20),
            TokenState::Cancelled
        );
    }
}
