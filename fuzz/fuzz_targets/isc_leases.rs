//! ISC dhcpd.leases (`mamori_ingest::parse_isc_leases`): any bytes must give leases or an error,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_ingest::parse_isc_leases("fuzz.leases", data) {
        Ok(leases) => {
            let count = leases.len();
            let latest = mamori_ingest::latest_per_address(leases);
            assert!(latest.len() <= count);
            for lease in &latest {
                assert!(lease.line >= 1);
            }
        }
        Err(e) => {
            assert_eq!(e.file(), "fuzz.leases");
            assert!(e.line() >= 1);
        }
    }
});
