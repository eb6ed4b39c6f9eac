use std::time::Instant;
use muster_core::*;
fn main() {
    let mut out = String::from("Email,Expiry Days\r\n");
    for i in 0..100_000 {
        out.push_str(&format!("Learner{i:06}.Surname@springfield-highschool.example.org,{}\r\n", i % 365 + 1));
    }
    let b = out.into_bytes();
    let l = Limits::default();
    for _ in 0..3 {
        let t = Instant::now();
        let wb = parse_bytes(&b, None, &ParseOptions::default(), &l).unwrap();
        let t1 = t.elapsed();
        let m = map_headers(ImportKind::Invites, &wb.sheets[0].headers, &MappingOverrides::default());
        let t = Instant::now();
        let c = validate(ImportKind::Invites, &wb.sheets[0], &m, &ValidationOptions::default());
        let t2 = t.elapsed();
        let t = Instant::now();
        for r in &wb.sheets[0].rows { std::hint::black_box(Email::parse(&r.cells[0]).unwrap()); }
        let t3 = t.elapsed();
        println!("parse {t1:?} validate {t2:?} email-only {t3:?} rows {}", c.rows.len());
    }
}
