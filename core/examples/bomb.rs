//! Writes the issue's zip bomb: a ~400 KB XLSX whose sheet honestly declares and
//! inflates to ~419 MB of empty rows, under the 500 MB unpacked limit. For measuring
//! `muster-check` peak memory on it:
//! `cargo run --release -p muster-core --example bomb -- /tmp/bomb.xlsx`, then
//! `/usr/bin/time -v muster-check check --kind invites /tmp/bomb.xlsx`.
//! A second argument `strings` writes a 419 MB shared string instead, `whitespace` 419 MB
//! of spaces between two tags of the sheet (one XML text event). `ods-rows` and
//! `ods-whitespace` write the same two as an ODS content.xml.

#[path = "../tests/support/ods.rs"]
mod ods;
#[path = "../tests/support/xlsx_bomb.rs"]
mod xlsx_bomb;

/// An ODS whose content.xml is a header row, then `chunk` repeated to `bytes`.
fn ods_bomb(chunk: &str, bytes: usize) -> Vec<u8> {
    ods::ods_with(|w| {
        w.write_all(br#"<table:table table:name="Sheet1"><table:table-row>"#)?;
        w.write_all(ods::cell("Email").as_bytes())?;
        w.write_all(b"</table:table-row>")?;
        let block = chunk.repeat(64 * 1024 / chunk.len());
        let mut written = 0;
        while written < bytes {
            w.write_all(block.as_bytes())?;
            written += block.len();
        }
        w.write_all(b"</table:table>")
    })
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "bomb.xlsx".into());
    let bytes = match args.next().as_deref() {
        Some("strings") => xlsx_bomb::huge_shared_string_bomb(419 << 20),
        Some("whitespace") => xlsx_bomb::whitespace_bomb(419 << 20),
        Some("ods-rows") => ods_bomb("<table:table-row/>", 419 << 20),
        Some("ods-whitespace") => ods_bomb(" ", 419 << 20),
        _ => xlsx_bomb::empty_rows_bomb(419 << 20),
    };
    std::fs::write(&path, &bytes).expect("write the bomb");
    println!("{path}: {} bytes", bytes.len());
}
