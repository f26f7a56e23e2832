//! Ledger xlsx (`mamori_ingest::read_ledger_xlsx`): any bytes (a corrupt or hostile zip, a
//! workbook that is not what it says) must give a sheet or an error naming the file and a
//! line, never a panic. Well-formed workbooks are rare among random bytes, so the input is also
//! written as a workbook (lines → rows, tabs → cells) with `write_xlsx` and read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ingest::LedgerSheet;
use mamori_ingest::ledger::MAX_COLUMNS;

fn check(result: Result<LedgerSheet, mamori_ingest::IngestError>) {
    match result {
        Ok(sheet) => {
            assert!(sheet.header_line >= 1);
            assert_eq!(sheet.headers.len(), sheet.mapping.len());
            assert!(sheet.headers.len() <= MAX_COLUMNS);
            for o in &sheet.ingested.observations {
                assert!(o.line > sheet.header_line);
            }
            for e in &sheet.ingested.rejected {
                assert_eq!(e.file(), "fuzz.xlsx");
                assert!(e.line() > sheet.header_line);
            }
        }
        Err(e) => {
            // Every error names the file and a line.
            assert_eq!(e.file(), "fuzz.xlsx");
            assert!(e.line() >= 1);
        }
    }
}

/// `read_ledger_xlsx` turns a panic inside the workbook reader (calamine and its zip and XML
/// crates) into an error, which is the property checked here: such a panic must unwind to that
/// `catch_unwind` instead of aborting the run. A panic anywhere else (this crate) still aborts.
fn let_dependency_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_dependency = info
                .location()
                .is_some_and(|l| l.file().contains("/registry/src/"));
            if !in_dependency {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_dependency_panics_unwind();
    check(mamori_ingest::read_ledger_xlsx("fuzz.xlsx", data, &[]));

    let text = String::from_utf8_lossy(data);
    let mut lines = text
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>());
    let headers = lines.next().unwrap_or_default();
    let rows: Vec<Vec<String>> = lines.take(100).collect();
    if headers.len() > 64 || rows.iter().any(|r| r.len() > 64) {
        return;
    }
    if let Ok(bytes) = mamori_ingest::write_xlsx("fuzz", &headers, &rows) {
        check(mamori_ingest::read_ledger_xlsx("fuzz.xlsx", &bytes, &[]));
    }
});
