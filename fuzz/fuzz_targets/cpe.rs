//! CPE names (`mamori_vuln::cpe::Cpe::parse`): any string from a feed, an SBOM or a scan gives a
//! name or an error, never a panic; a parsed name written back as a 2.3 string parses to the
//! same name; comparing anything with itself is EQUAL; version comparison never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::cpe::{Cpe, Relation, compare, match_level};
use mamori_vuln::version::{Scheme, compare as compare_versions};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(cpe) = Cpe::parse(a) {
        let again = Cpe::parse(&cpe.to_fs()).expect("a parsed name round-trips");
        assert_eq!(again, cpe);
        if compare(&cpe, &cpe).iter().all(|r| *r != Relation::Undefined) {
            assert!(compare(&cpe, &cpe).iter().all(|r| *r == Relation::Equal));
        }
        if let Ok(other) = Cpe::parse(b) {
            let _ = match_level(&cpe, &other);
        }
    }
    for scheme in [Scheme::Generic, Scheme::FortiOs, Scheme::CiscoIos, Scheme::WindowsBuild, Scheme::YamahaRtx, Scheme::Zyxel] {
        let c = compare_versions(scheme, a, b);
        let r = compare_versions(scheme, b, a);
        assert_eq!(c.ordering.map(std::cmp::Ordering::reverse), r.ordering, "{scheme:?} {a:?} {b:?}");
    }
});
