//! Ledger CSV (`mamori_ingest::read_ledger_csv`): any bytes, in any encoding, must give a
//! sheet or an error naming the file and a line, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ingest::ledger::{MAX_COLUMNS, MAX_ROWS};

fuzz_target!(|data: &[u8]| {
    // The first line doubles as a `--map` option, so overrides are exercised too.
    let spec = String::from_utf8_lossy(data.split(|b| *b == b'\n').next().unwrap_or_default());
    let overrides: Vec<_> = mamori_ingest::parse_field_override(&spec)
        .into_iter()
        .collect();
    for overrides in [&[][..], &overrides[..]] {
        match mamori_ingest::read_ledger_csv("fuzz.csv", data, overrides) {
            Ok(sheet) => {
                assert!(sheet.header_line >= 1);
                assert_eq!(sheet.headers.len(), sheet.mapping.len());
                assert!(sheet.headers.len() <= MAX_COLUMNS);
                // No field is mapped twice.
                let mut fields: Vec<_> = sheet.mapping.iter().flatten().collect();
                let mapped = fields.len();
                fields.sort();
                fields.dedup();
                assert_eq!(fields.len(), mapped);
                let ingested = &sheet.ingested;
                assert!(ingested.observations.len() + ingested.rejected.len() <= MAX_ROWS);
                for o in &ingested.observations {
                    assert!(o.line > sheet.header_line);
                    assert!(
                        o.name.is_some()
                            || o.hostname.is_some()
                            || o.ip.is_some()
                            || o.mac.is_some()
                    );
                    if let Some(ip) = &o.ip {
                        assert!(ip.parse::<std::net::IpAddr>().is_ok());
                    }
                }
                for e in &ingested.rejected {
                    assert_eq!(e.file(), "fuzz.csv");
                    assert!(e.line() > sheet.header_line);
                }
            }
            Err(e) => {
                // Every error names the file and a line.
                assert_eq!(e.file(), "fuzz.csv");
                assert!(e.line() >= 1);
            }
        }
    }
});
