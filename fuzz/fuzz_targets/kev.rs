//! The CISA KEV catalog (`mamori_vuln::kev`), JSON and CSV: any bytes give a catalog or an
//! error, never a panic; every kept entry has a valid CVE id and dates; rejected entries name
//! their position and field.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::kev::{KevCatalog, parse_kev_csv, parse_kev_json};

fn check(cat: KevCatalog) {
    for e in &cat.entries {
        assert!(e.cve.starts_with("CVE-"));
        assert_eq!(e.date_added.len(), 10);
        assert_eq!(e.due_date.len(), 10);
        assert_eq!(e.vendor_project, e.vendor_project.trim());
    }
    for (pos, field, _) in &cat.rejected {
        assert!(*pos >= 1 && !field.is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cat) = parse_kev_json("fuzz.json", data) {
        check(cat);
    }
    if let Ok(cat) = parse_kev_csv("fuzz.csv", data) {
        check(cat);
    }
});
