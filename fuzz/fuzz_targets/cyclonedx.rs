//! CycloneDX JSON (`mamori_ingest::parse_cyclonedx`): any bytes must give one observation or an
//! error, never a panic or a stack overflow, and the shared parse state must not leak from one
//! input to the next.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let first = mamori_ingest::parse_cyclonedx("fuzz.cdx.json", data);
    match &first {
        Ok(got) => {
            // One BOM describes one product.
            assert_eq!(got.observations.len(), 1);
            for o in &got.observations {
                assert!(o.line >= 1);
                assert!(o.name.is_some());
                assert!(o.software.len() <= mamori_ingest::cyclonedx::MAX_COMPONENTS);
                assert!(o.software.iter().all(|s| !s.name.trim().is_empty()));
            }
            for r in &got.rejected {
                assert_eq!(r.file(), "fuzz.cdx.json");
                assert!(r.line() >= 1);
            }
        }
        Err(e) => {
            // Every error names the file and a line.
            assert_eq!(e.file(), "fuzz.cdx.json");
            assert!(e.line() >= 1);
        }
    }
    // Parsing again gives the same answer.
    let again = mamori_ingest::parse_cyclonedx("fuzz.cdx.json", data);
    match (&first, &again) {
        (Ok(a), Ok(b)) => assert_eq!(a.observations, b.observations),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("the second parse disagrees with the first"),
    }
});
