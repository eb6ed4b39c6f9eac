//! Calibration: how fast this machine runs the bare csv reader versus the full check.
use std::time::Instant;
use muster_core::*;
fn main() {
    let mut out = String::from("Email,Expiry Days\r\n");
    for i in 0..100_000 {
        out.push_str(&format!("Learner{i:06}.Surname@springfield-highschool.example.org,{}\r\n", i % 365 + 1));
    }
    let b = out.into_bytes();
    let mb = b.len() as f64 / 1e6;
    for _ in 0..3 {
        let t = Instant::now();
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&b[..]);
        let mut rec = csv::ByteRecord::new();
        let mut n = 0;
        while r.read_byte_record(&mut rec).unwrap() { n += rec.len(); }
        let a = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let rep = check(&b, None, ImportKind::Invites, &Limits::default()).unwrap();
        let c = t.elapsed().as_secs_f64();
        println!("bare csv {:.0} MB/s ({n} fields) | check {:.0} MB/s ({} rows)", mb / a, mb / c, rep.checked.rows.len());
    }
}
