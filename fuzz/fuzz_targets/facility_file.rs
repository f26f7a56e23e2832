//! The facility file (`mamori_ingest::facility_file`): any bytes give a facility or an error
//! naming a field, never a panic; whatever parses, written back and parsed again, is the same
//! facility (so `facility export` never writes a file `facility import` refuses).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ingest::IngestError;
use mamori_ingest::facility_file::{parse, write};

fuzz_target!(|data: &[u8]| {
    match parse("fuzz.toml", data) {
        Ok(doc) => {
            let text = write(&doc).expect("a parsed facility can be written");
            let again = parse("again.toml", text.as_bytes()).expect("what was written parses");
            assert_eq!(again.assets.len(), doc.assets.len());
            assert_eq!(again.policies, doc.policies);
            assert_eq!(again.connections, doc.connections);
        }
        Err(IngestError::Invalid { field, .. } | IngestError::Refused { field, .. }) => assert!(!field.is_empty()),
        Err(e) => panic!("unexpected error kind: {e}"),
    }
});
