//! dnsmasq leases (`mamori_ingest::parse_dnsmasq_leases`): any bytes must give leases or an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match mamori_ingest::parse_dnsmasq_leases("fuzz.leases", data) {
        Ok(leases) => {
            let mut last_line = 0;
            for o in &leases.observations {
                // One lease a line, in file order.
                assert!(o.line > last_line);
                last_line = o.line;
                let ip: std::net::IpAddr = o.ip.as_deref().unwrap_or_default().parse().unwrap();
                // v6 leases carry no MAC; v4 leases no IAID.
                assert!(!(ip.is_ipv6() && o.mac.is_some()));
                assert_eq!(ip.is_ipv6(), o.attributes.contains_key("dhcp.iaid"));
                assert_ne!(o.hostname.as_deref(), Some("*"));
            }
            for e in &leases.rejected {
                assert_eq!(e.file(), "fuzz.leases");
                assert!(e.line() >= 1);
            }
        }
        Err(e) => {
            assert_eq!(e.file(), "fuzz.leases");
            assert!(e.line() >= 1);
        }
    }
});
