//! NVD CVE records (`mamori_vuln::nvd`): any bytes (plain, gzip or xz) give stats or an error,
//! never a panic; every record handed over has a CVE id; the stats agree with what the sink
//! saw; a refusing sink turns a read that handed records over into an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::nvd::{MAX_SKIPPED_LISTED, NvdError, read_nvd};

fuzz_target!(|data: &[u8]| {
    let mut seen = 0u64;
    let res = read_nvd("fuzz.json", data, |rec| {
        assert!(rec.id.starts_with("CVE-"), "{:?}", rec.id);
        for c in rec.configurations.iter().flat_map(|c| &c.nodes).flat_map(|n| &n.cpe_match) {
            assert!(c.criteria.len() <= mamori_vuln::nvd::MAX_TEXT);
        }
        seen += 1;
        Ok(())
    });
    match res {
        Ok(stats) => {
            assert_eq!(stats.records, seen);
            assert!(stats.skipped.len() <= MAX_SKIPPED_LISTED);
            assert!(stats.skipped_count >= stats.skipped.len() as u64);
            assert!(stats.rejected_ids.len() as u64 <= stats.rejected);
            assert!(stats.rejected_ids.iter().all(|id| id.starts_with("CVE-")));
            for (pos, field, _) in &stats.skipped {
                assert!(*pos >= 1 && !field.is_empty());
            }
            let refused = read_nvd("fuzz.json", data, |_| Err("refused".into()));
            if seen > 0 {
                assert!(matches!(refused, Err(NvdError::Sink { position: 1.., .. })), "{refused:?}");
            } else {
                assert!(refused.is_ok());
            }
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.json: ")),
    }
});
