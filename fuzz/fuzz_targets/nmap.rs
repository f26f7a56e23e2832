//! nmap XML (`mamori_ingest::parse_nmap`): any bytes must give a scan or an error, never a panic,
//! and no entity is ever expanded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_ingest::parse_nmap("fuzz.xml", data) {
        Ok(scan) => {
            // Whatever parses must be self-consistent.
            assert!(scan.up_hosts().all(|h| h.state == "up"));
            for host in scan.hosts.iter().chain(&scan.hints) {
                assert!(host.line >= 1);
                for m in &host.os_matches {
                    assert!(m.accuracy <= 100);
                }
            }
        }
        Err(e) => {
            // Every error names the file and a line.
            assert_eq!(e.file(), "fuzz.xml");
            assert!(e.line() >= 1);
        }
    }
});
