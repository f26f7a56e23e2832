//! JVN iPedia RSS, MyJVN responses and VULDEF XML (`mamori_vuln::jvn`): any bytes give stats
//! or an error, never a panic; every advisory handed over has a JVNDB id, valid timestamps,
//! CVSS scores within 0..=10, CVE ids, no withdrawn marker in its overview; skipped advisories
//! name their line and field; a non-zero retCd is never a success.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::jvn::{MAX_SKIPPED, read_jvn, valid_timestamp};

fuzz_target!(|data: &[u8]| {
    let mut handed = 0u64;
    let result = read_jvn("fuzz.rdf", data, |a| {
        assert!(a.id.starts_with("JVNDB-"));
        assert!(!a.lang.is_empty());
        for marker in ["** 未確定 **", "** サポート外 **", "** 削除 **"] {
            assert!(!a.overview.contains(marker));
        }
        for date in [&a.published, &a.modified, &a.first_published].into_iter().flatten() {
            assert!(valid_timestamp(date), "{date:?}");
        }
        for c in &a.cvss {
            assert!(c.base_score.is_finite() && (0.0..=10.0).contains(&c.base_score));
            assert_eq!(c.source, "JVN");
        }
        for cve in &a.cves {
            assert!(cve.starts_with("CVE-"));
        }
        for cwe in &a.cwes {
            assert!(cwe.starts_with("CWE-"));
        }
        for r in &a.references {
            assert!(!r.url.is_empty());
        }
        handed += 1;
        Ok(())
    });
    if let Ok(stats) = result {
        assert_eq!(stats.items, handed);
        assert!(stats.ret_cd.is_none_or(|c| c == 0));
        assert!(stats.skipped.len() <= MAX_SKIPPED);
        assert!(stats.skipped_count >= stats.skipped.len() as u64);
        for (line, field, _) in &stats.skipped {
            assert!(*line >= 1 && !field.is_empty());
        }
    }
});
