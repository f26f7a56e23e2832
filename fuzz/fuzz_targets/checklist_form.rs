//! Official checklist form (`mamori_ingest::checklist_form::read_checklist_form`): any bytes (a
//! corrupt or hostile zip, a workbook that is not the form) must give an edition or an error
//! naming the file and a line, never a panic. Well-formed workbooks are rare among random bytes,
//! so the input is also written as a workbook (lines → rows, tabs → cells) with `write_xlsx` and
//! read back: a line such as `2-(1)\tサーバの台帳管理を行っている。` is an item row.
#![no_main]

use std::collections::BTreeSet;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use mamori_ingest::IngestError;
use mamori_ingest::checklist_form::{FormReading, read_checklist_form};

fn check(result: Result<FormReading, IngestError>) {
    match result {
        Ok(reading) => {
            let e = &reading.edition;
            assert_eq!(e.id, "R9");
            assert!(e.numbering == "paren" || e.numbering == "circled");
            assert!(!e.sheets.is_empty());
            for sheet in &e.sheets {
                // A sheet is read only when it has a numbered item.
                assert!(sheet.items.iter().any(|i| !i.gate));
                let mut ids = BTreeSet::new();
                for i in &sheet.items {
                    assert!(ids.insert(i.id.as_str()), "duplicate id {}", i.id);
                    assert!(!i.text_ja.is_empty());
                    assert_eq!(i.gate, i.id == "gate");
                    assert_eq!(i.gate, i.section == 0);
                    assert!(i.gate || sheet.sections.iter().any(|s| s.number == i.section));
                    assert!(
                        i.source
                            .as_deref()
                            .is_some_and(|s| s.starts_with("fuzz.xlsx "))
                    );
                }
            }
        }
        Err(e) => {
            // Every error names the file and a line.
            assert_eq!(e.file(), "fuzz.xlsx");
            assert!(e.line() >= 1);
        }
    }
}

/// `read_checklist_form` turns a panic inside the workbook reader (calamine and its zip and XML
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
    check(read_checklist_form("fuzz.xlsx", Cursor::new(data), "R9", None));

    let text = String::from_utf8_lossy(data);
    let mut lines = text
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>());
    let headers = lines.next().unwrap_or_default();
    let rows: Vec<Vec<String>> = lines.take(100).collect();
    if headers.len() > 64 || rows.iter().any(|r| r.len() > 64) {
        return;
    }
    if let Ok(bytes) = mamori_ingest::write_xlsx("医療機関確認用", &headers, &rows) {
        check(read_checklist_form("fuzz.xlsx", Cursor::new(bytes), "R9", Some("令和9年度")));
    }
});
