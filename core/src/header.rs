//! Header text → comparable keys, the way exports really spell their columns.
//!
//! Real exports decorate their headers: Google Workspace writes `Email Address
//! [Required]`, Entra `First name [givenName]`, OneRoster `givenName`, Canvas
//! `first_name`, Clever `Student_email`, and a German school `E-Mail-Adresse`. All of
//! these must meet the plain words of a column spec, so a header is cut into lowercase
//! words without accents (camelCase and snake_case split, bracketed notes set aside,
//! words like "required" dropped), and then compared as those words run together.

/// Leading words that say whose value a column holds without changing what it is:
/// `User Email`, `Student Email Address`, `Primary Email`. Role words such as
/// "teacher" or "parent" are not here: in a students' file `Teacher Email` is someone
/// else's address.
const PREFIXES: &[&str] = &[
    "user",
    "users",
    "student",
    "students",
    "learner",
    "pupil",
    "participant",
    "member",
    "person",
    "primary",
    "account",
    "legal",
    "preferred",
    "work",
    "official",
    "institutional",
];

/// Words that only tell the person filling in the template what is expected.
const NOISE: &[&str] = &[
    "required",
    "optional",
    "mandatory",
    "obligatoire",
    "obligatorio",
    "pflicht",
    "pflichtfeld",
];

/// Words that, in brackets, say whose value a column holds rather than how to fill it
/// in: `Email (Parent/Guardian)` is not the person's own address. Brackets holding one of
/// these are read as part of the header, in front: "parent guardian email".
const QUALIFIERS: &[&str] = &[
    "parent",
    "parents",
    "guardian",
    "guardians",
    "mother",
    "father",
    "child",
    "children",
    "student",
    "students",
    "teacher",
    "teachers",
    "instructor",
    "instructors",
    "manager",
    "emergency",
    "contact",
    "alternate",
    "secondary",
    "recovery",
];

/// How a key was derived from the header, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Derivation {
    /// The header's own words.
    Whole,
    /// The header's words after a leading prefix such as "User" or "Student".
    WithoutPrefix,
    /// Words in brackets, when those outside matched nothing (`Name [displayName]`).
    Bracketed,
}

/// A header's words as a person reads them: lowercase, without accents, split at
/// spaces, punctuation and camelCase humps, with bracketed notes and words such as
/// "required" left out. `First Name [Required]` → `["first", "name"]`,
/// `givenName` → `["given", "name"]`, `login_id` → `["login", "id"]`.
pub fn header_words(header: &str) -> Vec<String> {
    let (outside, inside) = split_brackets(header);
    qualified(words(&outside), &inside)
}

/// `words` with the words of any bracket that holds a qualifier put in front.
fn qualified(words: Vec<String>, inside: &[String]) -> Vec<String> {
    let mut front: Vec<String> = Vec::new();
    for part in inside {
        let w = self::words(part);
        if w.iter().any(|w| QUALIFIERS.contains(&w.as_str())) {
            front.extend(w);
        }
    }
    if front.is_empty() {
        return words;
    }
    front.extend(words);
    front
}

/// The key two headers are compared by: [`header_words`] run together, so `E-mail`,
/// `e_mail` and `EMail` all meet at `email`.
pub fn header_key(header: &str) -> String {
    header_words(header).concat()
}

/// Every key a header may be matched by, strongest first, without repeats.
pub(crate) fn candidates(header: &str) -> Vec<(String, Derivation)> {
    let (outside, inside) = split_brackets(header);
    let mut words = qualified(words(&outside), &inside);
    let mut out: Vec<(String, Derivation)> = Vec::new();
    let add = |key: String, how: Derivation, out: &mut Vec<(String, Derivation)>| {
        if !key.is_empty() && !out.iter().any(|(k, _)| *k == key) {
            out.push((key, how));
        }
    };
    add(words.concat(), Derivation::Whole, &mut out);
    // Two prefixes at most: "Primary User Email".
    for _ in 0..2 {
        if words.len() > 1 && PREFIXES.contains(&words[0].as_str()) {
            words.remove(0);
            add(words.concat(), Derivation::WithoutPrefix, &mut out);
        }
    }
    for part in inside {
        add(self::words(&part).concat(), Derivation::Bracketed, &mut out);
    }
    out
}

/// Text outside brackets, and each bracketed part. Unbalanced closing brackets are
/// kept as text; an unclosed opening one runs to the end.
fn split_brackets(header: &str) -> (String, Vec<String>) {
    let mut outside = String::with_capacity(header.len());
    let mut inside = Vec::new();
    let mut current = String::new();
    let mut depth = 0u32;
    for c in header.chars() {
        match c {
            '(' | '[' | '{' | '<' => {
                if depth == 0 {
                    current.clear();
                } else {
                    current.push(' ');
                }
                depth += 1;
                // A break between "Email" and "[Required]" even when no space is typed.
                outside.push(' ');
            }
            ')' | ']' | '}' | '>' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    inside.push(std::mem::take(&mut current));
                } else {
                    current.push(' ');
                }
            }
            _ if depth > 0 => current.push(c),
            _ => outside.push(c),
        }
    }
    if depth > 0 {
        inside.push(current);
    }
    (outside, inside)
}

fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut prev: Option<char> = None;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut out);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // "givenName" → given|Name; "SISId" → SIS|Id; "ZIPCode" → ZIP|Code.
            let hump = c.is_uppercase()
                && (p.is_lowercase() || (p.is_uppercase() && next_lower) || p.is_numeric());
            if hump {
                flush(&mut word, &mut out);
            }
        }
        // Some capitals lower to a letter plus a combining mark ('İ'); the mark is
        // dropped so keys stay letters and digits.
        for l in c.to_lowercase().filter(|l| l.is_alphanumeric()) {
            fold_accent(l, &mut word);
        }
        prev = Some(c);
    }
    flush(&mut word, &mut out);
    out.retain(|w| !NOISE.contains(&w.as_str()));
    out
}

fn flush(word: &mut String, out: &mut Vec<String>) {
    if !word.is_empty() {
        out.push(std::mem::take(word));
    }
}

/// Accented Latin letters as their base letter, so `Prénom`, `Correo electrónico`
/// and `Schüler` meet `prenom`, `correoelectronico` and `schuler`.
pub(crate) fn fold_accent(c: char, out: &mut String) {
    let base = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' => 'i',
        'ł' | 'ľ' => 'l',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ř' => 'r',
        'ś' | 'š' | 'ş' => 's',
        'ť' | 'ţ' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        'ß' => {
            out.push_str("ss");
            return;
        }
        'æ' => {
            out.push_str("ae");
            return;
        }
        'œ' => {
            out.push_str("oe");
            return;
        }
        other => other,
    };
    out.push(base);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(h: &str) -> Vec<String> {
        candidates(h).into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn bracketed_and_parenthesised_notes_are_set_aside() {
        assert_eq!(header_words("First Name [Required]"), vec!["first", "name"]);
        assert_eq!(header_words("Email (optional)"), vec!["email"]);
        assert_eq!(header_key("Email Address[Required]"), "emailaddress");
        assert_eq!(header_key("Block sign in (Yes/No)"), "blocksignin");
    }

    #[test]
    fn camel_snake_and_kebab_case_split_into_words() {
        assert_eq!(header_words("givenName"), vec!["given", "name"]);
        assert_eq!(header_words("familyName"), vec!["family", "name"]);
        assert_eq!(header_words("first_name"), vec!["first", "name"]);
        assert_eq!(header_words("login_id"), vec!["login", "id"]);
        assert_eq!(
            header_words("userPrincipalName"),
            vec!["user", "principal", "name"]
        );
        assert_eq!(header_words("SISId"), vec!["sis", "id"]);
        assert_eq!(header_words("E-Mail-Adresse"), vec!["e", "mail", "adresse"]);
        assert_eq!(header_words("EMAIL"), vec!["email"]);
    }

    #[test]
    fn accents_fold_to_their_base_letter() {
        assert_eq!(header_key("Prénom"), "prenom");
        assert_eq!(header_key("Correo electrónico"), "correoelectronico");
        assert_eq!(header_key("Straße"), "strasse");
    }

    #[test]
    fn prefixes_give_weaker_keys_after_the_whole_header() {
        assert_eq!(keys("User Email"), vec!["useremail", "email"]);
        assert_eq!(
            keys("Student Email Address"),
            vec!["studentemailaddress", "emailaddress"]
        );
        assert_eq!(
            keys("Primary User Email"),
            vec!["primaryuseremail", "useremail", "email"]
        );
        // A prefix alone is a header in its own right.
        assert_eq!(keys("Student"), vec!["student"]);
        // Role words are not prefixes: a teacher's email is not the learner's.
        assert_eq!(keys("Teacher Email"), vec!["teacheremail"]);
    }

    #[test]
    fn brackets_saying_whose_value_it_is_are_kept_in_front() {
        assert_eq!(header_key("Email (Parent/Guardian)"), "parentguardianemail");
        assert_eq!(
            header_key("Phone [Emergency contact]"),
            "emergencycontactphone"
        );
        assert_eq!(header_key("Email (optional)"), "email");
    }

    #[test]
    fn bracketed_machine_names_are_a_last_resort() {
        assert_eq!(
            keys("User name [userPrincipalName] Required"),
            vec!["username", "name", "userprincipalname"]
        );
        assert_eq!(keys("[Email]"), vec!["email"]);
    }

    proptest::proptest! {
        #[test]
        fn keys_are_lowercase_alphanumeric_and_stable(h in "\\PC{0,40}") {
            let key = header_key(&h);
            proptest::prop_assert!(key.chars().all(char::is_alphanumeric), "{key:?}");
            proptest::prop_assert_eq!(key.to_lowercase(), key.clone());
            // Normalising a key again changes nothing (unless the run-together words
            // spell a noise word such as "required").
            if !NOISE.contains(&key.as_str()) {
                proptest::prop_assert_eq!(header_key(&key), key.clone());
            }
            for (k, _) in candidates(&h) {
                proptest::prop_assert!(!k.is_empty());
            }
        }

        #[test]
        fn decoration_never_changes_the_key(
            words in proptest::collection::vec("[a-z]{2,8}", 1..4),
            note in "(required|optional|[A-Za-z ]{0,12})",
            sep in proptest::sample::select(vec![" ", "_", "-", "."]),
        ) {
            // A note naming whose value it is changes the key on purpose.
            proptest::prop_assume!(!self::words(&note).iter().any(|w| QUALIFIERS.contains(&w.as_str())));
            let plain = words.join(" ");
            let decorated = format!("{} [{note}] ({note})", words.join(sep));
            // Noise words inside the plain header would be dropped from both.
            let expected: String = words.iter().filter(|w| !NOISE.contains(&w.as_str())).cloned().collect();
            proptest::prop_assert_eq!(header_key(&plain), expected.clone());
            proptest::prop_assert_eq!(header_key(&decorated), expected);
        }

        #[test]
        fn camel_case_and_snake_case_spellings_meet(words in proptest::collection::vec("[a-z]{2,8}", 1..4)) {
            let snake = words.join("_");
            let camel: String = words.iter().enumerate().map(|(i, w)| {
                if i == 0 { w.clone() } else { w[..1].to_uppercase() + &w[1..] }
            }).collect();
            proptest::prop_assert_eq!(header_words(&snake), header_words(&camel));
        }
    }
}
