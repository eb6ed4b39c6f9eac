//! The built bundle's file names. cargo-leptos (`hash-files = true`) names the
//! stylesheet, the JavaScript and the WebAssembly after a hash of their
//! content and writes those hashes to `hash.txt` beside the server binary. A
//! file whose name carries its content's hash never changes under that name,
//! so browsers may keep it for a year without asking again; a new build has
//! new names, so nobody runs a stale bundle against a newer server.
//!
//! A binary built without cargo-leptos (the integration tests' `cargo test`)
//! has no hash file and serves the plain names, revalidated on every use.
//!
//! The engine's file readers for the import wizard (`worker/`) are built apart, by
//! `scripts/build-worker`, into `engine.<hash>.js` and `engine.<hash>.wasm`, and their
//! hash written to `engine.txt` in the same directory.

use std::path::Path;
use std::sync::OnceLock;

/// The names under `/pkg/` of the current build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltAssets {
    pub stylesheet: String,
    /// Names that carry a content hash (empty without a hash file).
    hashed: Vec<String>,
    /// The engine worker's hash, when it was built.
    engine: Option<String>,
}

fn is_safe_hash(hash: &str) -> bool {
    !hash.is_empty()
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The parts of a split page bundle (`cargo leptos build --split`): the loader
/// (`__wasm_split.<hash>.js`), the per-page modules (`split_<page>.<hash>.wasm`) and the
/// modules pages share (`chunk_<n>.<hash>.wasm`). cargo-leptos names each after its
/// content, with the same 22-character hash as the bundle's other files.
fn is_split_part(file: &str) -> bool {
    let Some((stem, extension)) = file.rsplit_once('.') else {
        return false;
    };
    let Some((name, hash)) = stem.rsplit_once('.') else {
        return false;
    };
    let part = match extension {
        "wasm" => name.starts_with("split_") || name.starts_with("chunk_"),
        "js" => name == "__wasm_split",
        _ => false,
    };
    part && hash.len() == 22 && is_safe_hash(hash)
}

static BUILT: OnceLock<BuiltAssets> = OnceLock::new();

impl BuiltAssets {
    /// Reads `hash.txt` (lines `css: <hash>`, `js: <hash>`, `wasm: <hash>`).
    pub fn from_hash_file(output_name: &str, hash_file: Option<&str>) -> BuiltAssets {
        let mut assets = BuiltAssets {
            stylesheet: format!("{output_name}.css"),
            hashed: Vec::new(),
            engine: None,
        };
        for (extension, hash) in hash_file
            .unwrap_or_default()
            .lines()
            .filter_map(|line| line.split_once(':'))
            .map(|(extension, hash)| (extension.trim(), hash.trim()))
        {
            if !is_safe_hash(hash) || !matches!(extension, "css" | "js" | "wasm") {
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

    /// Adds the engine worker named by `engine.txt`'s contents.
    pub fn with_engine(mut self, engine_file: Option<&str>) -> BuiltAssets {
        self.engine = engine_file
            .map(str::trim)
            .filter(|hash| is_safe_hash(hash))
            .map(str::to_owned);
        self
    }

    /// The engine worker's script under `/pkg/`, when it was built.
    pub fn engine_script(&self) -> Option<String> {
        self.engine.as_ref().map(|hash| format!("engine.{hash}.js"))
    }

    /// Whether the build's files are named by their content.
    pub fn hashed(&self) -> bool {
        !self.hashed.is_empty()
    }

    /// Whether `/pkg/{file}` (or its precompressed copy) is named by its content.
    pub fn is_content_named(&self, file: &str) -> bool {
        self.hashed.iter().any(|name| name == file)
            || (self.hashed() && is_split_part(file))
            || self.engine.as_ref().is_some_and(|hash| {
                file.strip_prefix("engine.")
                    .and_then(|rest| rest.strip_prefix(hash.as_str()))
                    .is_some_and(|extension| matches!(extension, ".js" | ".wasm"))
            })
    }
}

/// Loads the current build's names once, at start-up, from the hash file
/// beside the running binary (where cargo-leptos writes it and where Leptos'
/// `HydrationScripts` reads it) and the engine worker's `engine.txt` in `site_pkg`.
pub fn load(output_name: &str, hash_file_name: &str, site_pkg: &Path) -> &'static BuiltAssets {
    BUILT.get_or_init(|| {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file_name)))
            .and_then(|path| read_small(&path));
        let engine_file = read_small(&site_pkg.join("engine.txt"));
        BuiltAssets::from_hash_file(output_name, hash_file.as_deref())
            .with_engine(engine_file.as_deref())
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

/// The engine worker's URL, when it was built.
pub fn engine_href() -> Option<String> {
    built().engine_script().map(|file| format!("/pkg/{file}"))
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
    fn the_split_bundle_parts_are_content_named_in_a_hashed_build() {
        let hashed = BuiltAssets::from_hash_file("muster", Some("js: a\nwasm: b\ncss: c\n"));
        let hash = "AbCdEfGhIjKlMnOpQrSt-_";
        for part in [
            format!("split_groups_route_view_123.{hash}.wasm"),
            format!("chunk_7.{hash}.wasm"),
            format!("__wasm_split.{hash}.js"),
        ] {
            assert!(hashed.is_content_named(&part), "{part}");
            assert!(
                !BuiltAssets::from_hash_file("muster", None).is_content_named(&part),
                "{part}"
            );
        }
        for other in [
            "split_x.wasm".to_owned(),
            format!("split_x.{hash}.js"),
            format!("chunk_7.{hash}.wasm.br"),
            format!("chunk_7.{}.wasm", &hash[1..]),
            format!("chunk_7.{}.wasm", hash.replace('A', "/")),
            format!("other.{hash}.wasm"),
            format!("__wasm_split_manifest.{hash}.json"),
        ] {
            assert!(!hashed.is_content_named(&other), "{other}");
        }
    }

    #[test]
    fn without_a_hash_file_the_plain_names_are_used() {
        let assets = BuiltAssets::from_hash_file("muster", None);
        assert!(!assets.hashed());
        assert_eq!(assets.stylesheet, "muster.css");
        assert!(!assets.is_content_named("muster.css"));
    }

    #[test]
    fn the_engine_worker_is_named_by_its_own_hash() {
        let assets = BuiltAssets::from_hash_file("muster", None).with_engine(Some("a1B2-c3\n"));
        assert_eq!(assets.engine_script().as_deref(), Some("engine.a1B2-c3.js"));
        assert!(assets.is_content_named("engine.a1B2-c3.js"));
        assert!(assets.is_content_named("engine.a1B2-c3.wasm"));
        assert!(!assets.is_content_named("engine.a1B2-c3.js.br.x"));
        assert!(!assets.is_content_named("engine.txt"));
        assert!(!assets.is_content_named("engine.other.js"));
        let unsafe_hash = BuiltAssets::from_hash_file("muster", None).with_engine(Some("../x"));
        assert_eq!(unsafe_hash.engine_script(), None);
        assert_eq!(
            BuiltAssets::from_hash_file("muster", None).engine_script(),
            None
        );
    }

    #[test]
    fn a_hash_that_could_escape_the_directory_is_ignored() {
        let assets = BuiltAssets::from_hash_file("muster", Some("css: ../../etc\n"));
        assert!(!assets.hashed());
        assert_eq!(assets.stylesheet, "muster.css");
    }
}
