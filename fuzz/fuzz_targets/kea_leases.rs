//! Kea memfile leases (`mamori_ingest::parse_kea_leases`): any bytes must give leases or an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_ingest::parse_kea_leases("fuzz.csv", data) {
        Ok(leases) => {
            // The last row wins: one observation per address, in the order of their rows.
            let mut seen = std::collections::HashSet::new();
            let mut last_line = 0;
            for o in &leases.observations {
                assert!(o.line > last_line);
                last_line = o.line;
                let ip = o.ip.as_deref().unwrap_or_default();
                assert!(ip.parse::<std::net::IpAddr>().is_ok());
                assert!(seen.insert(ip.to_owned()));
                if let Some(mac) = &o.mac {
                    assert_eq!(mac.len(), 17);
                }
                if let Some(id) = &o.client_id {
                    assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
                }
                assert!(o.attributes.contains_key("dhcp.subnet_id"));
            }
            for e in &leases.rejected {
                assert_eq!(e.file(), "fuzz.csv");
                assert!(e.line() >= 1);
            }
        }
        Err(e) => {
            assert_eq!(e.file(), "fuzz.csv");
            assert!(e.line() >= 1);
        }
    }
});
