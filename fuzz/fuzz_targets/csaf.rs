//! CSAF 2.0 (`mamori_vuln::csaf`): any bytes into the document, provider-metadata, ROLIE and
//! `changes.csv` readers and into `vers_contains` give a value or an error, never a panic.
//! What is read keeps the reader's promises: every statement names a product of the tree,
//! errors name the file, `changes.csv` paths stay relative.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use mamori_vuln::csaf::{read_changes_csv, read_csaf, read_provider_metadata, read_rolie_feed, vers_contains};
use mamori_vuln::version::Scheme;

fuzz_target!(|data: &[u8]| {
    match read_csaf("fuzz.json", data) {
        Ok(doc) => {
            assert_eq!(doc.csaf_version, "2.0");
            assert!(!doc.tracking_id.trim().is_empty() && !doc.publisher.trim().is_empty());
            let ids: HashSet<&str> = doc.products.iter().map(|p| p.product_id.as_str()).collect();
            assert_eq!(ids.len(), doc.products.len(), "product ids are unique");
            for s in &doc.statements {
                assert!(ids.contains(s.product_id.as_str()));
                assert!(s.cve.as_deref().is_none_or(|c| c.starts_with("CVE-")));
                for c in &s.cvss {
                    assert!((0.0..=10.0).contains(&c.base_score));
                }
            }
            for p in &doc.products {
                if let Some(r) = &p.version_range {
                    for scheme in [Scheme::Generic, Scheme::FortiOs, Scheme::CiscoIos] {
                        let _ = vers_contains(r, "7.2.4", scheme);
                    }
                }
            }
        }
        Err(e) => assert_eq!(e.file(), "fuzz.json"),
    }
    match read_provider_metadata("provider-metadata.json", data) {
        Ok(pm) => {
            assert!(pm.canonical_url.starts_with("https://"));
            assert!(pm.rolie_feeds.iter().all(|f| !f.url.trim().is_empty()));
        }
        Err(e) => assert_eq!(e.file(), "provider-metadata.json"),
    }
    match read_rolie_feed("feed.json", data) {
        Ok(entries) => assert!(entries.iter().all(|e| !e.url.trim().is_empty() && !e.id.trim().is_empty())),
        Err(e) => assert_eq!(e.file(), "feed.json"),
    }
    match read_changes_csv("changes.csv", data) {
        Ok(rows) => {
            for (path, time) in &rows {
                assert!(!path.starts_with('/') && !path.split('/').any(|s| s == ".."));
                assert!(path.ends_with(".json") && !time.is_empty());
            }
        }
        Err(e) => assert_eq!(e.file(), "changes.csv"),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let (range, version) = text.split_once('\n').unwrap_or((text, "1.0"));
        for scheme in [Scheme::Generic, Scheme::FortiOs, Scheme::CiscoIos, Scheme::Zyxel] {
            let _ = vers_contains(range, version, scheme);
        }
    }
});
