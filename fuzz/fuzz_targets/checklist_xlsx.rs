//! A filled-in checklist export (`mamori_ingest::checklist_xlsx::read_checklist_xlsx`, behind
//! `mamori checklist import`): any bytes give the sheets or an error naming the file and a line,
//! never a panic. Random bytes are rarely a workbook, so the input is also laid out as an export
//! (lines → items, tabs → the answer cells) with `write_checklist_xlsx` and read back: every
//! answer line written must come back with its label and class.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_ingest::checklist_xlsx::{AnswerLine, ExportRow, ExportSheet, read_checklist_xlsx, write_checklist_xlsx};

fn let_dependency_panics_unwind() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_dependency = info.location().is_some_and(|l| l.file().contains("/registry/src/"));
            if !in_dependency {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    let_dependency_panics_unwind();
    if let Err(e) = read_checklist_xlsx("fuzz.xlsx", data) {
        assert_eq!(e.file(), "fuzz.xlsx");
        assert!(e.line() >= 1);
    }

    let text = String::from_utf8_lossy(data);
    let mut rows = Vec::new();
    for (n, line) in text.lines().take(60).enumerate() {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| cells.get(i).map(|s| s.chars().take(200).collect::<String>()).unwrap_or_default();
        let class = cell(1);
        // Cells the reader takes as the end of the table or a heading are not answer lines.
        if class.trim().is_empty() || cell(0).trim_start().starts_with('※') {
            continue;
        }
        rows.push(ExportRow::Item {
            label: format!("2-({})", n + 1),
            text: cell(0),
            lines: vec![AnswerLine { class, answer1: cell(2), date1: cell(3), comment: cell(4), ..Default::default() }],
        });
    }
    let sheet = ExportSheet {
        name: "医療機関確認用".into(),
        title: "t".into(),
        edition_id: "R6".into(),
        sheet_code: "facility".into(),
        rows,
        ..Default::default()
    };
    let written: usize = sheet.rows.len();
    if let Ok(bytes) = write_checklist_xlsx(&[sheet], &[]) {
        let read = read_checklist_xlsx("fuzz.xlsx", &bytes).expect("mamori's own export reads back");
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].lines.len(), written);
    }
});
