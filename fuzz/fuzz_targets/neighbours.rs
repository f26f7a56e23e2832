//! Neighbour tables (`mamori_ingest::parse_neighbours`): any bytes (UTF-8, UTF-16, CP932,
//! garbage) must give neighbours or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_ingest::parse_neighbours("fuzz.neigh", data) {
        Ok(table) => {
            // Whatever parses must be self-consistent: one device per observation, with a
            // canonical IP and a normalised unicast MAC, each (ip, mac) once.
            let mut seen = std::collections::HashSet::new();
            for o in &table.observations {
                assert!(o.line >= 1);
                let ip: std::net::IpAddr = o.ip.as_deref().unwrap_or_default().parse().unwrap();
                assert_eq!(ip.to_string(), o.ip.as_deref().unwrap_or_default());
                let mac = o.mac.as_deref().unwrap_or_default();
                assert_eq!(mac.len(), 17);
                assert_eq!(mac, mac.to_ascii_lowercase());
                assert_ne!(mac, "00:00:00:00:00:00");
                assert!(seen.insert((ip, mac.to_owned())));
            }
            for e in &table.rejected {
                assert_eq!(e.file(), "fuzz.neigh");
                assert!(e.line() >= 1);
            }
            assert_eq!(table.taken_at, None);
        }
        Err(e) => {
            // Every error names the file and a line.
            assert_eq!(e.file(), "fuzz.neigh");
            assert!(e.line() >= 1);
        }
    }
});
