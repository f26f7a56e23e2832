//! The export format (`mamori db import`, `db copy`): any bytes must give a snapshot or an error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(snap) = mamori_store::Snapshot::parse_bytes("fuzz.json", data) {
        // Whatever parses must also validate consistently on a second look.
        let _ = snap.validate("fuzz.json");
    }
});
