//! Peak heap and throughput of `check` for 10k/100k rows of delimited text, XLSX and ODS.
//! `cargo run --release -p muster-core --example measure`; with `MEASURE_WRITE_DIR=dir`
//! it also writes the 100k-row files there, for timing `muster-check` on them.

#[path = "../tests/support/ods.rs"]
mod ods;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use muster_core::{check, ImportKind, Limits};

/// Counts live heap bytes and remembers the high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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

/// Nanoseconds this thread has spent on a CPU (Linux). Wall-clock time on a shared
/// machine also counts time spent waiting for other processes.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn measure(label: &str, bytes: &[u8], file: &str, rows: usize) {
    let limits = Limits::default();
    // Warm up once so lazy statics and allocator pools are not billed to the run.
    drop(check(bytes, Some(file), ImportKind::Invites, &limits).unwrap());
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let report = check(bytes, Some(file), ImportKind::Invites, &limits).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu0.zip(cpu_ns()).map(|(a, b)| (b - a) as f64 / 1e9);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let kept = LIVE.load(Ordering::Relaxed) - base;
    assert_eq!(report.totals().rows as usize, rows);
    let mb = bytes.len() as f64 / 1e6;
    let cpu_rate = cpu.map_or(String::new(), |c| {
        format!(
            " (CPU time: {:.1} MB/s, {:.0} rows/s)",
            mb / c,
            rows as f64 / c
        )
    });
    println!(
        "{label:<11} input {mb:>5.2} MB  wall: {:>6.1} MB/s {:>8.0} rows/s{cpu_rate}  peak heap {:>5.2} MB ({:.2}x input)  kept {:>5.2} MB ({:.2}x)",
        mb / secs,
        rows as f64 / secs,
        peak as f64 / 1e6,
        peak as f64 / bytes.len() as f64,
        kept as f64 / 1e6,
        kept as f64 / bytes.len() as f64,
    );
    drop(report);
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

fn write(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("MEASURE_WRITE_DIR") {
        std::fs::write(format!("{dir}/{name}"), bytes).unwrap();
    }
}

fn main() {
    for rows in [10_000, 100_000] {
        let csv = invites_csv(rows);
        measure(&format!("csv {rows}"), &csv, "invites.csv", rows);
        write(&format!("invites{rows}.csv"), &csv);
    }
    for rows in [10_000, 100_000] {
        let xlsx = invites_xlsx(rows);
        measure(
            &format!("xlsx {rows}"),
            &xlsx,
            "invites.xlsx",
            rows as usize,
        );
        write(&format!("invites{rows}.xlsx"), &xlsx);
    }
    for rows in [10_000, 100_000] {
        let ods = invites_ods(rows);
        measure(&format!("ods {rows}"), &ods, "invites.ods", rows as usize);
        write(&format!("invites{rows}.ods"), &ods);
    }
}
