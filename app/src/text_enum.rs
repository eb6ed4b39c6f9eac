//! States and roles stored as text. Each is an enum in the code and a word in
//! the database; `as_str` and `FromStr` are the only crossings, so a page or a
//! query never spells a state by hand.

/// A stored word that names no variant. The schema's `CHECK` constraints
/// make this a broken database, never a user's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} has no variant {text:?}")]
pub struct UnknownText {
    pub kind: &'static str,
    pub text: String,
}

impl From<UnknownText> for crate::error::AppError {
    fn from(_: UnknownText) -> Self {
        crate::error::AppError::Internal
    }
}

/// Declares an enum whose variants are stored (and sent) as the given words.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::text_enum::UnknownText;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::text_enum::UnknownText {
                        kind: stringify!($name),
                        text: text.to_owned(),
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use super::UnknownText;

    text_enum! {
        pub enum Light {
            Red = "red",
            Green = "green",
        }
    }

    #[test]
    fn every_variant_survives_its_word() {
        for light in Light::ALL {
            assert_eq!(light.as_str().parse::<Light>(), Ok(*light));
        }
        assert_eq!(
            "amber".parse::<Light>(),
            Err(UnknownText {
                kind: "Light",
                text: "amber".to_owned()
            })
        );
    }

    /// Pages receive the same word the database holds.
    #[cfg(feature = "ssr")]
    #[test]
    fn the_wire_carries_the_stored_word() {
        for light in Light::ALL {
            let json = serde_json::to_string(light).unwrap();
            assert_eq!(json, format!("\"{}\"", light.as_str()));
        }
    }
}
