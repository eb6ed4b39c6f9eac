//! The typed values of one checked row.

use serde::{Deserialize, Serialize};

use crate::email::Email;
use crate::kinds::Role;
use crate::name::PersonName;

/// Typed values of one row. Email and expiry days are inline because every Invites row
/// has them; the rarer fields live behind one box so 100k-row imports stay small.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowValues {
    pub email: Option<Email>,
    pub expiry_days: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<Box<MoreValues>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct MoreValues {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub full_name: Option<PersonName>,
    pub external_id: Option<String>,
    pub username: Option<String>,
    pub role: Option<Role>,
    pub parent_emails: Vec<Email>,
    pub instructor_emails: Vec<Email>,
    pub student_emails: Vec<Email>,
    pub groups: Vec<String>,
}

static NONE: MoreValues = MoreValues {
    first_name: None,
    last_name: None,
    full_name: None,
    external_id: None,
    username: None,
    role: None,
    parent_emails: Vec::new(),
    instructor_emails: Vec::new(),
    student_emails: Vec::new(),
    groups: Vec::new(),
};

impl RowValues {
    /// Read access that never allocates; absent fields read as empty.
    pub fn more(&self) -> &MoreValues {
        self.more.as_deref().unwrap_or(&NONE)
    }

    pub fn more_mut(&mut self) -> &mut MoreValues {
        self.more.get_or_insert_with(Default::default)
    }

    /// Every email this row links to, with the role the linked person should have.
    pub fn associations(&self) -> impl Iterator<Item = (Role, &Email)> {
        let m = self.more();
        m.parent_emails
            .iter()
            .map(|e| (Role::Parent, e))
            .chain(m.instructor_emails.iter().map(|e| (Role::Instructor, e)))
            .chain(m.student_emails.iter().map(|e| (Role::Student, e)))
    }
}
