//! FIRST EPSS scores (`mamori_vuln::epss`), CSV (plain or gzip) and API JSON: any bytes give
//! stats or an error, never a panic; every score handed over has a valid CVE id and values
//! within 0..=1; rejected rows name their line and field, and the stored list stays capped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::epss::{MAX_REJECTED, read_epss};

fuzz_target!(|data: &[u8]| {
    let mut handed = 0u64;
    let result = read_epss("fuzz.csv", data, |s| {
        assert!(s.cve.starts_with("CVE-") && s.cve.len() >= 13);
        assert!(s.epss.is_finite() && (0.0..=1.0).contains(&s.epss));
        assert!(s.percentile.is_finite() && (0.0..=1.0).contains(&s.percentile));
        handed += 1;
        Ok(())
    });
    if let Ok(stats) = result {
        assert_eq!(stats.rows, handed);
        assert!(stats.rejected.len() <= MAX_REJECTED);
        assert!(stats.rejected_count >= stats.rejected.len() as u64);
        for (line, field, _) in &stats.rejected {
            assert!(*line >= 1 && !field.is_empty());
        }
    }
    // A sink that refuses stops the read with an error after at most one score.
    let mut calls = 0;
    let stopped = read_epss("fuzz.csv", data, |_| {
        calls += 1;
        Err("stop".to_owned())
    });
    assert!(calls <= 1);
    if calls == 1 {
        assert!(stopped.is_err());
    }
});
