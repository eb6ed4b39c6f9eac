//! Calibration: the bare csv reader versus the full check on the same 100k-row file.
//! Run under `perf stat` to compare instruction counts on a busy machine.
use std::time::Instant;

use muster_core::{check, ImportKind, Limits};

fn main() {
    let mut out = String::from("Email,Expiry Days\r\n");
    for i in 0..100_000 {
        out.push_str(&format!(
            "Learner{i:06}.Surname@springfield-highschool.example.org,{}\r\n",
            i % 365 + 1
        ));
    }
    let b = out.into_bytes();
    let mb = b.len() as f64 / 1e6;
    let bare = std::env::args().any(|a| a == "--bare");
    for _ in 0..5 {
        let t = Instant::now();
        if bare {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(&b[..]);
            let mut rec = csv::ByteRecord::new();
            let mut n = 0;
            while r.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            std::hint::black_box(n);
        } else {
            let rep = check(&b, None, ImportKind::Invites, &Limits::default()).unwrap();
            std::hint::black_box(rep.checked.rows.len());
        }
        println!(
            "{} {:.0} MB/s",
            if bare { "bare csv" } else { "check" },
            mb / t.elapsed().as_secs_f64()
        );
    }
}
