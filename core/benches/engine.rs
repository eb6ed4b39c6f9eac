//! parse + map + validate throughput. `cargo bench -p muster-core`
//!
//! Each input is also read by the bare `csv` reader in the same run (`csv_reader/…`), so
//! the engine's figure can be read against the fastest a CSV can be walked on this
//! machine at this moment, whatever else the machine is doing.

#[path = "../tests/support/ods.rs"]
mod ods;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use muster_core::{check, ImportKind, Limits};

/// About 60 bytes a row, like a real Invites export: an email and an expiry.
fn invites_csv(rows: usize) -> Vec<u8> {
    let mut out = String::with_capacity(rows * 62 + 32);
    out.push_str("Email,Expiry Days\r\n");
    for i in 0..rows {
        let days = if i % 3 == 0 {
            String::new()
        } else {
            (i % 365 + 1).to_string()
        };
        out.push_str(&format!(
            "Learner{i:06}.Surname@springfield-highschool.example.org,{days}\r\n"
        ));
    }
    out.into_bytes()
}

fn invites_xlsx(rows: u32) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let s = wb.add_worksheet();
    s.write_string(0, 0, "Email").unwrap();
    s.write_string(0, 1, "Expiry Days").unwrap();
    for i in 1..=rows {
        s.write_string(
            i,
            0,
            format!("learner{i:06}.surname@springfield-highschool.example.org"),
        )
        .unwrap();
        s.write_number(i, 1, f64::from(i % 365 + 1)).unwrap();
    }
    wb.save_to_buffer().unwrap()
}

fn invites_ods(rows: u32) -> Vec<u8> {
    let lines: Vec<(String, String)> = (1..=rows)
        .map(|i| {
            (
                format!("learner{i:06}.surname@springfield-highschool.example.org"),
                (i % 365 + 1).to_string(),
            )
        })
        .collect();
    let mut table = vec![vec!["Email", "Expiry Days"]];
    table.extend(lines.iter().map(|(e, d)| vec![e.as_str(), d.as_str()]));
    ods::ods(&[("Sheet1", table)])
}

fn engine(c: &mut Criterion) {
    let limits = Limits::default();
    let mut group = c.benchmark_group("check_invites");
    for rows in [10_000usize, 100_000] {
        let csv = invites_csv(rows);
        group.throughput(Throughput::Bytes(csv.len() as u64));
        group.bench_with_input(BenchmarkId::new("csv_reader", rows), &csv, |b, csv| {
            b.iter(|| {
                let mut reader = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(&black_box(csv)[..]);
                let mut record = csv::ByteRecord::new();
                let mut fields = 0usize;
                while reader.read_byte_record(&mut record).unwrap() {
                    fields += record.len();
                }
                assert_eq!(fields, rows * 2);
                fields
            })
        });
        group.bench_with_input(BenchmarkId::new("csv", rows), &csv, |b, csv| {
            b.iter(|| {
                let report = check(
                    black_box(csv),
                    Some("invites.csv"),
                    ImportKind::Invites,
                    &limits,
                )
                .unwrap();
                assert_eq!(report.totals().rows as usize, rows);
                report
            })
        });
    }
    group.finish();
    // Rows a second is what an admin waits on for spreadsheets; bytes say little when
    // the file is compressed.
    let mut group = c.benchmark_group("check_invites_xlsx");
    group.sample_size(20);
    for rows in [10_000u32, 100_000] {
        let xlsx = invites_xlsx(rows);
        group.throughput(Throughput::Elements(u64::from(rows)));
        group.bench_with_input(BenchmarkId::new("xlsx", rows), &xlsx, |b, xlsx| {
            b.iter(|| {
                let report = check(
                    black_box(xlsx),
                    Some("invites.xlsx"),
                    ImportKind::Invites,
                    &limits,
                )
                .unwrap();
                assert_eq!(report.totals().rows, rows);
                report
            })
        });
        let ods = invites_ods(rows);
        group.bench_with_input(BenchmarkId::new("ods", rows), &ods, |b, ods| {
            b.iter(|| {
                let report = check(
                    black_box(ods),
                    Some("invites.ods"),
                    ImportKind::Invites,
                    &limits,
                )
                .unwrap();
                assert_eq!(report.totals().rows, rows);
                report
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
