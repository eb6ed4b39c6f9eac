//! The built bundle's file names. cargo-leptos (`hash-files = true`) names the
//! stylesheet, the JavaScript and the WebAssembly after a hash of their
//! content and writes those hashes to `hash.txt` beside the server binary. A
//! file whose name carries its content's hash never changes under that name,
//! so browsers may keep it for a year without asking again; a new build has
//! new names, so nobody runs a stale bundle against a newer server.
//!
//! A binary built without cargo-leptos (the integration tests' `cargo test`)
//! has no hash file and serves the plain names, revalidated on every use.

use std::path::Path;
use std::sync::OnceLock;

/// The names under `/pkg/` of the current build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltAssets {
    pub stylesheet: String,
    /// Names that carry a content hash (empty without a hash file).
    hashed: Vec<String>,
}

static BUILT: OnceLock<BuiltAssets> = OnceLock::new();

impl BuiltAssets {
    /// Reads `hash.txt` (lines `css: <hash>`, `js: <hash>`, `wasm: <hash>`).
    pub fn from_hash_file(output_name: &str, hash_file: Option<&str>) -> BuiltAssets {
        let mut assets = BuiltAssets {
            stylesheet: format!("{output_name}.css"),
            hashed: Vec::new(),
        };
        for (extension, hash) in hash_file
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(extension, hash)| (extension.trim(), hash.trim()))
        {
            let valid = !hash.is_empty()
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid || !matches!(extension, "css" | "js" | "wasm") {
                continue;
            }
            let name = format!("{output_name}.{hash}.{extension}");
            if extension == "css" {
                assets.stylesheet = name.clone();
            }
            assets.hashed.push(name);
        }
        assets
    }

    /// Whether the build's files are named by their content.
    pub fn hashed(&self) -> bool {
        !self.hashed.is_empty()
    }

    /// Whether `/pkg/{file}` (or its precompressed copy) is named by its content.
    pub fn is_content_named(&self, file: &str) -> bool {
        self.hashed.iter().any(|name| name == file)
    }
}

/// Loads the current build's names once, at start-up, from the hash file
/// beside the running binary (where cargo-leptos writes it and where Leptos'
/// `HydrationScripts` reads it).
pub fn load(output_name: &str, hash_file_name: &str) -> &'static BuiltAssets {
    BUILT.get_or_init(|| {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file_name)))
            .and_then(|path| read_small(&path));
        BuiltAssets::from_hash_file(output_name, hash_file.as_deref())
    })
}

/// The current build's names; the plain names when [`load`] was not called.
pub fn built() -> &'static BuiltAssets {
    BUILT.get_or_init(|| BuiltAssets::from_hash_file("muster", None))
}

/// The stylesheet's URL.
pub fn stylesheet_href() -> String {
    format!("/pkg/{}", built().stylesheet)
}

fn read_small(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_file_names_the_content_named_files() {
        let assets = BuiltAssets::from_hash_file(
            "muster",
            Some("js: AbC-1_x\nwasm: Zz9\ncss: Q1w2\nsplit: ignored\n"),
        );
        assert!(assets.hashed());
        assert_eq!(assets.stylesheet, "muster.Q1w2.css");
        assert!(assets.is_content_named("muster.AbC-1_x.js"));
        assert!(assets.is_content_named("muster.Zz9.wasm"));
        assert!(!assets.is_content_named("muster.wasm"));
        assert!(!assets.is_content_named("muster.Q1w2.css.br"));
    }

    #[test]
    fn without_a_hash_file_the_plain_names_are_used() {
        let assets = BuiltAssets::from_hash_file("muster", None);
        assert!(!assets.hashed());
        assert_eq!(assets.stylesheet, "muster.css");
        assert!(!assets.is_content_named("muster.css"));
    }

    #[test]
    fn a_hash_that_could_escape_the_directory_is_ignored() {
        let assets = BuiltAssets::from_hash_file("muster", Some("css: ../../etc\n"));
        assert!(!assets.hashed());
        assert_eq!(assets.stylesheet, "muster.css");
    }
}
