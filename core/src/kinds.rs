//! The import kinds and their column specs. The template, the header mapper and the
//! validator all read these specs, so a template can never disagree with the checks.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::header::header_key;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportKind {
    Invites,
    Learners,
    ProgramInvitations,
    People,
    GroupMembers,
}

/// A target field of an import row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldId {
    Email,
    ExpiryDays,
    FirstName,
    LastName,
    FullName,
    ExternalId,
    Username,
    Role,
    ParentEmails,
    InstructorEmails,
    StudentEmails,
    Groups,
}

/// Whether a column must be present and filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// The header must be present and every row needs a value.
    Required,
    /// The header must be present; values may be blank (External ID on program invitations).
    HeaderRequired,
    Optional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Email,
    /// Several emails separated by `;`.
    EmailList,
    /// Whole number of days, 1 to 365.
    Days,
    Name,
    Text,
    /// Several names separated by `;`.
    NameList,
    Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ColumnSpec {
    pub field: FieldId,
    pub header: &'static str,
    pub synonyms: &'static [&'static str],
    /// Headers that mean this field only when no column says so more plainly: Entra's
    /// `userPrincipalName` beside its `mail`, OneRoster's `identifier` beside its
    /// `sourcedId`, Clever's `Student_number` beside its `Student_id`.
    pub weak_synonyms: &'static [&'static str],
    pub requirement: Requirement,
    pub value_type: ValueType,
    pub help: &'static str,
}

impl ColumnSpec {
    /// Every row needs a value in this column.
    pub fn required(&self) -> bool {
        self.requirement == Requirement::Required
    }

    /// The column must be present in the file (even if some kinds allow blank cells).
    pub fn header_required(&self) -> bool {
        !matches!(self.requirement, Requirement::Optional)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Student,
    Instructor,
    Parent,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Student, Role::Instructor, Role::Parent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Instructor => "instructor",
            Role::Parent => "parent",
        }
    }

    /// Reads a role from a sheet name or a Role cell: "Students", "teacher", "Guardians"…
    /// OneRoster's `guardian` and `relative`, Canvas's `observer` and Moodle's
    /// `editingteacher` are read too, and the common German, French and Spanish words.
    pub fn from_label(s: &str) -> Option<Role> {
        let key = header_key(s);
        let one = |k: &str| match k {
            "student" | "learner" | "pupil" | "schuler" | "schulerin" | "eleve" | "etudiant"
            | "etudiante" | "alumno" | "alumna" | "estudiante" => Some(Role::Student),
            "instructor" | "teacher" | "educator" | "coach" | "editingteacher"
            | "noneditingteacher" | "lehrer" | "lehrerin" | "lehrkraft" | "enseignant"
            | "enseignante" | "professeur" | "profesor" | "profesora" | "profesores"
            | "docente" => Some(Role::Instructor),
            "parent"
            | "guardian"
            | "parentguardian"
            | "relative"
            | "observer"
            | "eltern"
            | "elternteil"
            | "erziehungsberechtigte"
            | "padre"
            | "madre"
            | "padres"
            | "tutorlegal" => Some(Role::Parent),
            _ => None,
        };
        one(&key).or_else(|| key.strip_suffix('s').and_then(one))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const EMAIL_HELP: &str = "The person's email address. It identifies them and must be unique in the file; capitals do not matter.";

const fn email(
    synonyms: &'static [&'static str],
    weak_synonyms: &'static [&'static str],
    requirement: Requirement,
) -> ColumnSpec {
    ColumnSpec {
        field: FieldId::Email,
        header: "Email",
        synonyms,
        weak_synonyms,
        requirement,
        value_type: ValueType::Email,
        help: EMAIL_HELP,
    }
}

/// Email in German, French and Spanish exports, and PowerSchool's `Email_Addr`.
macro_rules! email_words {
    ($($more:literal),* $(,)?) => {
        &[
            "email address", "mail", "user email", "primary email", "email addr",
            "e-mail-adresse", "mailadresse",
            "courriel", "adresse email", "adresse mail", "adresse electronique",
            "adresse courriel", "correo", "correo electronico", "direccion de correo",
            "direccion de correo electronico", "correo e",
            $($more),*
        ]
    };
}
const LEARNER_EMAIL_SYNONYMS: &[&str] =
    email_words!["email id", "learner email", "student email", "emails"];
const PERSON_EMAIL_SYNONYMS: &[&str] = email_words![];
/// Microsoft 365 and Entra sign-in names are email addresses.
const LEARNER_EMAIL_WEAK: &[&str] = &["user principal name", "upn", "user name"];
const PERSON_EMAIL_WEAK: &[&str] = &["user principal name", "upn"];

const FIRST_NAME: ColumnSpec = ColumnSpec {
    field: FieldId::FirstName,
    header: "First Name",
    synonyms: &[
        "first",
        "given name",
        "given names",
        "forename",
        "fname",
        "preferred name",
        "first given name",
        "vorname",
        "prenom",
        "nombre",
        "nombres",
        "primer nombre",
    ],
    weak_synonyms: &[],
    requirement: Requirement::Optional,
    value_type: ValueType::Name,
    help: "The person's first (given) name, up to 100 characters.",
};
const LAST_NAME: ColumnSpec = ColumnSpec {
    field: FieldId::LastName,
    header: "Last Name",
    synonyms: &[
        "last",
        "surname",
        "family name",
        "lname",
        "nachname",
        "familienname",
        "nom",
        "nom de famille",
        "apellido",
        "apellidos",
    ],
    weak_synonyms: &[],
    requirement: Requirement::Optional,
    value_type: ValueType::Name,
    help: "The person's last (family) name, up to 100 characters.",
};
const EXTERNAL_ID: ColumnSpec = ColumnSpec {
    field: FieldId::ExternalId,
    header: "External ID",
    synonyms: &[
        "external identifier",
        "student id",
        "sis id",
        "employee id",
        "id",
        "user id",
        "sourced id",
        "id number",
    ],
    weak_synonyms: &[
        "identifier",
        "student number",
        "matricule",
        "matrikelnummer",
        "schulernummer",
        "numero de estudiante",
    ],
    requirement: Requirement::Optional,
    value_type: ValueType::Text,
    help: "Your own identifier for the person, for example from your student information system.",
};

const INVITES: &[ColumnSpec] = &[
    email(LEARNER_EMAIL_SYNONYMS, LEARNER_EMAIL_WEAK, Requirement::Required),
    ColumnSpec {
        field: FieldId::ExpiryDays,
        header: "Expiry Days",
        synonyms: &["expiry", "expires in", "expires in days", "expiration days", "expiration", "days to expire", "invite expiry", "expiry day"],
        weak_synonyms: &[],
        requirement: Requirement::Optional,
        value_type: ValueType::Days,
        help: "Days before the invitation expires, a whole number from 1 to 365. Leave blank to use the group's setting.",
    },
];

const LEARNERS: &[ColumnSpec] = &[
    email(
        LEARNER_EMAIL_SYNONYMS,
        LEARNER_EMAIL_WEAK,
        Requirement::Required,
    ),
    FIRST_NAME,
    LAST_NAME,
];

const PROGRAM_INVITATIONS: &[ColumnSpec] = &[
    ColumnSpec {
        field: FieldId::FullName,
        header: "Full Name",
        synonyms: &[
            "name",
            "learner name",
            "student name",
            "display name",
            "learner",
            "nom complet",
            "nombre completo",
            "vollstandiger name",
            "anzeigename",
        ],
        weak_synonyms: &[],
        requirement: Requirement::Required,
        value_type: ValueType::Name,
        help: "The learner's full name, up to 100 characters.",
    },
    email(
        LEARNER_EMAIL_SYNONYMS,
        LEARNER_EMAIL_WEAK,
        Requirement::Required,
    ),
    ColumnSpec {
        requirement: Requirement::HeaderRequired,
        ..EXTERNAL_ID
    },
];

const PEOPLE: &[ColumnSpec] = &[
    email(PERSON_EMAIL_SYNONYMS, PERSON_EMAIL_WEAK, Requirement::Optional),
    ColumnSpec { requirement: Requirement::Required, ..FIRST_NAME },
    ColumnSpec { requirement: Requirement::Required, ..LAST_NAME },
    ColumnSpec {
        field: FieldId::Username,
        header: "Username",
        synonyms: &[
            "login",
            "login id",
            "user login",
            "benutzername",
            "nom d utilisateur",
            "identifiant",
            "nombre de usuario",
            "usuario",
        ],
        weak_synonyms: &[],
        requirement: Requirement::Optional,
        value_type: ValueType::Text,
        help: "Students only: a username for a student without an email. Such a student needs a Parent Email.",
    },
    EXTERNAL_ID,
    ColumnSpec {
        field: FieldId::Role,
        header: "Role",
        synonyms: &["user type", "type", "user role", "account type", "rolle", "rol"],
        weak_synonyms: &["declared user type"],
        requirement: Requirement::Optional,
        value_type: ValueType::Role,
        help: "Student, Instructor or Parent. Not needed on a tab named Students, Instructors or Parents.",
    },
    ColumnSpec {
        field: FieldId::ParentEmails,
        header: "Parent Email",
        synonyms: &["parent", "parents", "parent emails", "guardian", "guardian email", "guardian emails", "parent guardian email", "parent email address", "guardian email address"],
        // Clever's students.csv names each student's parent or guardian its contact.
        weak_synonyms: &["contact email"],
        requirement: Requirement::Optional,
        value_type: ValueType::EmailList,
        help: "Students: the parents' emails, separated by ;. Each parent must be in this file or already have an account.",
    },
    ColumnSpec {
        field: FieldId::InstructorEmails,
        header: "Instructor Email",
        synonyms: &["instructor", "instructors", "instructor emails", "teacher", "teacher email", "teacher emails", "teachers"],
        weak_synonyms: &[],
        requirement: Requirement::Optional,
        value_type: ValueType::EmailList,
        help: "Students: the instructors' emails, separated by ;. Each must be in this file or already have an account.",
    },
    ColumnSpec {
        field: FieldId::StudentEmails,
        header: "Student Email",
        synonyms: &["student", "students", "student emails", "child email", "children", "child emails"],
        weak_synonyms: &[],
        requirement: Requirement::Optional,
        value_type: ValueType::EmailList,
        help: "Parents and instructors: the students' emails, separated by ;. Each must be in this file or already have an account.",
    },
];

const GROUP_MEMBERS: &[ColumnSpec] = &[
    email(
        LEARNER_EMAIL_SYNONYMS,
        LEARNER_EMAIL_WEAK,
        Requirement::Required,
    ),
    ColumnSpec {
        field: FieldId::Groups,
        header: "Groups",
        synonyms: &[
            "group",
            "group name",
            "group names",
            "groups names",
            "team",
            "teams",
            "cohort",
            "cohorts",
            "gruppe",
            "gruppen",
            "groupe",
            "groupes",
            "grupo",
            "grupos",
        ],
        weak_synonyms: &[
            "class", "classes", "section", "homeroom", "klasse", "classe", "clase",
        ],
        requirement: Requirement::Optional,
        value_type: ValueType::NameList,
        help: "Names of groups you have already created, separated by ;.",
    },
];

impl ImportKind {
    pub const ALL: [ImportKind; 5] = [
        ImportKind::Invites,
        ImportKind::Learners,
        ImportKind::ProgramInvitations,
        ImportKind::People,
        ImportKind::GroupMembers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Invites => "invites",
            ImportKind::Learners => "learners",
            ImportKind::ProgramInvitations => "program-invitations",
            ImportKind::People => "people",
            ImportKind::GroupMembers => "group-members",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ImportKind::Invites => "Invites",
            ImportKind::Learners => "Learners",
            ImportKind::ProgramInvitations => "Invitations for a program and contract",
            ImportKind::People => "People, add or update",
            ImportKind::GroupMembers => "Group members",
        }
    }

    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            ImportKind::Invites => INVITES,
            ImportKind::Learners => LEARNERS,
            ImportKind::ProgramInvitations => PROGRAM_INVITATIONS,
            ImportKind::People => PEOPLE,
            ImportKind::GroupMembers => GROUP_MEMBERS,
        }
    }

    pub fn column(self, field: FieldId) -> Option<&'static ColumnSpec> {
        self.columns().iter().find(|c| c.field == field)
    }

    /// A header-only CSV built from [`Self::columns`], so the template and the validator
    /// always agree.
    pub fn template_csv(self) -> String {
        let headers: Vec<&str> = self.columns().iter().map(|c| c.header).collect();
        let mut out = headers.join(",");
        out.push_str("\r\n");
        out
    }

    /// Header words of this kind, folded, used to find the header row under a title.
    pub fn header_keys(self) -> Vec<String> {
        self.columns()
            .iter()
            .flat_map(|c| {
                std::iter::once(c.header)
                    .chain(c.synonyms.iter().copied())
                    .chain(c.weak_synonyms.iter().copied())
            })
            .map(header_key)
            .collect()
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Unknown import kind {0:?}; expected one of invites, learners, program-invitations, people, group-members.")]
pub struct UnknownKind(pub String);

impl FromStr for ImportKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('_', "-");
        ImportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

impl FieldId {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldId::Email => "email",
            FieldId::ExpiryDays => "expiry_days",
            FieldId::FirstName => "first_name",
            FieldId::LastName => "last_name",
            FieldId::FullName => "full_name",
            FieldId::ExternalId => "external_id",
            FieldId::Username => "username",
            FieldId::Role => "role",
            FieldId::ParentEmails => "parent_emails",
            FieldId::InstructorEmails => "instructor_emails",
            FieldId::StudentEmails => "student_emails",
            FieldId::Groups => "groups",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_slug() {
        for k in ImportKind::ALL {
            assert_eq!(k.as_str().parse::<ImportKind>().unwrap(), k);
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }

    #[test]
    fn invites_template_lists_email_then_expiry_days() {
        assert_eq!(ImportKind::Invites.template_csv(), "Email,Expiry Days\r\n");
    }

    #[test]
    fn program_invitation_template_has_all_three_headers() {
        assert_eq!(
            ImportKind::ProgramInvitations.template_csv(),
            "Full Name,Email,External ID\r\n"
        );
    }

    #[test]
    fn sheet_names_give_people_roles() {
        assert_eq!(Role::from_label("Students"), Some(Role::Student));
        assert_eq!(Role::from_label("instructors"), Some(Role::Instructor));
        assert_eq!(Role::from_label("Parents"), Some(Role::Parent));
        assert_eq!(Role::from_label("Sheet1"), None);
    }

    #[test]
    fn no_two_columns_of_a_kind_share_a_header_word() {
        for k in ImportKind::ALL {
            let mut keys = k.header_keys();
            keys.sort();
            let twice: Vec<_> = keys
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0].clone())
                .collect();
            assert!(twice.is_empty(), "{k} uses {twice:?} twice");
        }
    }
}
