//! Format detection (`mamori_ingest::detect`): any bytes and any file name must give a kind or
//! `None`, never a panic, and only the first 64 KiB may matter.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte chooses a file name, so that the tie-breaking by extension is exercised.
    let (name, head) = match data.split_first() {
        Some((b, rest)) => {
            let names = [
                "upload",
                "ledger.csv",
                "scan.xml",
                "dhcpd.leases",
                "dnsmasq.leases",
                "kea-leases4.csv",
                "arp.txt",
                "bom.json",
                "台帳.xlsx",
            ];
            (names[usize::from(*b) % names.len()], rest)
        }
        None => ("empty", data),
    };
    let kind = mamori_ingest::detect(name, head);
    let limit = mamori_ingest::detect::HEAD_BYTES;
    if head.len() > limit {
        assert_eq!(kind, mamori_ingest::detect(name, &head[..limit]));
    }
    // Content that names itself does not depend on the file name.
    if head.starts_with(b"PK\x03\x04") {
        assert_eq!(kind, mamori_ingest::detect("x", head));
    }
});
