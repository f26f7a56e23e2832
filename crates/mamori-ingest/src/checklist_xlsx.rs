//! The checklist as mamori exports it for the 保健所 — one worksheet per sheet (医療機関確認用,
//! 事業者確認用) in the official item order, with the answer columns of the form (はい/いいえ and
//! 確認日 for the 1回目 and 2回目, 目標日, 備考) — and the reader that takes such a workbook back
//! (`mamori checklist import`), so that answers filled in on paper-like xlsx come home.
//!
//! The layout is plain data here; the caller resolves every text (labels, answers) in the
//! user's language. The reader returns raw cell texts for the caller to interpret.

use crate::invalid;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use crate::{IngestError, MAX_VALUE_BYTES};

/// Header texts of the answer table, in column order.
pub const HEADERS: [&str; 9] = [
    "項番",
    "チェック項目",
    "対象",
    "1回目 回答（はい・いいえ）",
    "1回目 確認日",
    "2回目 回答（はい・いいえ）",
    "2回目 確認日",
    "目標日",
    "備考",
];

/// The label of the cell holding the edition id (row 4, column A), and of the sheet code.
pub const EDITION_LABEL: &str = "mamori 版ID";
pub const SHEET_LABEL: &str = "シート";
pub const VENDOR_LABEL: &str = "事業者";

/// One worksheet to write.
#[derive(Debug, Clone, Default)]
pub struct ExportSheet {
    /// Worksheet name (医療機関確認用 …), at most 31 characters.
    pub name: String,
    /// Title row (the edition's title).
    pub title: String,
    /// Sub-title (【医療機関確認用】).
    pub subtitle: String,
    /// Label/value pairs of the header block (医療機関名, 確認者 …).
    pub fields: Vec<(String, String)>,
    pub edition_id: String,
    /// Sheet code (facility, vendor).
    pub sheet_code: String,
    /// The vendor a 事業者確認用 sheet is for.
    pub vendor: Option<String>,
    pub rows: Vec<ExportRow>,
    /// Lines written below the table (※ …).
    pub notes: Vec<String>,
}

/// A row of the table.
#[derive(Debug, Clone)]
pub enum ExportRow {
    /// A section heading (`1　体制構築`).
    Section(String),
    /// An item with one answer line per device class.
    Item { label: String, text: String, lines: Vec<AnswerLine> },
}

/// One answer line: the device class and the two rounds.
#[derive(Debug, Clone, Default)]
pub struct AnswerLine {
    pub class: String,
    pub answer1: String,
    pub date1: String,
    pub answer2: String,
    pub date2: String,
    pub target: String,
    pub comment: String,
}

/// A plain worksheet after the checklist: name, headers, rows.
pub type ExtraSheet = (String, Vec<String>, Vec<Vec<String>>);

/// Writes the workbook: every sheet in order, then the `extra` worksheets (the devices a vendor
/// maintains).
pub fn write_checklist_xlsx(sheets: &[ExportSheet], extra: &[ExtraSheet]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, FormatPattern, Workbook};

    let mut workbook = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_pattern(FormatPattern::Solid)
        .set_background_color(Color::RGB(0x00DD_EBF7))
        .set_border(FormatBorder::Thin);
    let section = Format::new()
        .set_bold()
        .set_pattern(FormatPattern::Solid)
        .set_background_color(Color::RGB(0x00F2_F2F2))
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_text_wrap().set_align(FormatAlign::VerticalCenter).set_border(FormatBorder::Thin).set_num_format("@");
    let centre = cell.clone().set_align(FormatAlign::Center);
    let e = |what: &str, err: rust_xlsxwriter::XlsxError| format!("{what}: {err}");
    for s in sheets {
        let ws = workbook.add_worksheet();
        ws.set_name(&s.name).map_err(|x| e(&s.name, x))?;
        ws.set_landscape();
        ws.set_paper_size(9); // A4
        ws.set_print_fit_to_pages(1, 0);
        for (col, width) in [(0_u16, 9.0), (1, 58.0), (2, 16.0), (3, 12.0), (4, 12.0), (5, 12.0), (6, 12.0), (7, 12.0), (8, 30.0)] {
            ws.set_column_width(col, width).map_err(|x| e("width", x))?;
        }
        ws.write_string_with_format(0, 0, &s.title, &title).map_err(|x| e("title", x))?;
        ws.write_string_with_format(1, 0, &s.subtitle, &bold).map_err(|x| e("subtitle", x))?;
        let mut col = 0_u16;
        for (label, value) in &s.fields {
            ws.write_string_with_format(2, col, label, &bold).map_err(|x| e("field", x))?;
            ws.write_string(2, col + 1, value).map_err(|x| e("field", x))?;
            col += 3;
        }
        ws.write_string(3, 0, EDITION_LABEL).map_err(|x| e("edition", x))?;
        ws.write_string(3, 1, &s.edition_id).map_err(|x| e("edition", x))?;
        ws.write_string(3, 3, SHEET_LABEL).map_err(|x| e("sheet", x))?;
        ws.write_string(3, 4, &s.sheet_code).map_err(|x| e("sheet", x))?;
        if let Some(v) = &s.vendor {
            ws.write_string(3, 6, VENDOR_LABEL).map_err(|x| e("vendor", x))?;
            ws.write_string(3, 7, v).map_err(|x| e("vendor", x))?;
        }
        let header_row = 5_u32;
        for (c, h) in HEADERS.iter().enumerate() {
            ws.write_string_with_format(header_row, c as u16, *h, &header).map_err(|x| e("header", x))?;
        }
        ws.set_row_height(header_row, 32.0).map_err(|x| e("header", x))?;
        let mut r = header_row + 1;
        for row in &s.rows {
            match row {
                ExportRow::Section(text) => {
                    ws.merge_range(r, 0, r, 8, text, &section).map_err(|x| e("section", x))?;
                    r += 1;
                }
                ExportRow::Item { label, text, lines } => {
                    let n = u32::try_from(lines.len().max(1)).map_err(|x| x.to_string())?;
                    if n > 1 {
                        ws.merge_range(r, 0, r + n - 1, 0, label, &centre).map_err(|x| e(label, x))?;
                        ws.merge_range(r, 1, r + n - 1, 1, text, &cell).map_err(|x| e(label, x))?;
                    } else {
                        ws.write_string_with_format(r, 0, label, &centre).map_err(|x| e(label, x))?;
                        ws.write_string_with_format(r, 1, text, &cell).map_err(|x| e(label, x))?;
                    }
                    for (i, l) in lines.iter().enumerate() {
                        let rr = r + i as u32;
                        for (c, v) in [(2_u16, &l.class), (3, &l.answer1), (4, &l.date1), (5, &l.answer2), (6, &l.date2), (7, &l.target), (8, &l.comment)] {
                            let f = if c == 8 { &cell } else { &centre };
                            ws.write_string_with_format(rr, c, v, f).map_err(|x| e(label, x))?;
                        }
                    }
                    r += n;
                }
            }
        }
        r += 1;
        for note in &s.notes {
            ws.write_string(r, 0, note).map_err(|x| e("note", x))?;
            r += 1;
        }
    }
    for (name, headers, rows) in extra {
        let ws = workbook.add_worksheet();
        ws.set_name(name).map_err(|x| e(name, x))?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &header).map_err(|x| e(name, x))?;
            ws.set_column_width(c as u16, 24.0).map_err(|x| e(name, x))?;
        }
        for (i, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                ws.write_string(i as u32 + 1, c as u16, v).map_err(|x| e(name, x))?;
            }
        }
    }
    workbook.save_to_buffer().map_err(|x| x.to_string())
}

/// An answer line read back from an exported workbook, as raw texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLine {
    /// Worksheet and 1-based row, for messages.
    pub sheet: String,
    pub row: u64,
    pub label: String,
    pub class: String,
    pub answer1: String,
    pub date1: String,
    pub answer2: String,
    pub date2: String,
    pub target: String,
    pub comment: String,
}

/// One worksheet read back.
#[derive(Debug, Clone)]
pub struct ReadSheet {
    pub name: String,
    pub edition_id: String,
    pub sheet_code: String,
    pub vendor: Option<String>,
    pub lines: Vec<ReadLine>,
}

const MAX_ROWS: usize = 10_000;

fn text_of(d: &Data) -> String {
    let s = match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let rendered = crate::ledger::render_datetime(dt);
            rendered.get(..10).unwrap_or(&rendered).to_owned()
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.get(..10).unwrap_or(s).to_owned(),
        Data::Error(_) => String::new(),
    };
    let s = s.trim();
    if s.len() > MAX_VALUE_BYTES {
        let mut end = MAX_VALUE_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        return s.get(..end).unwrap_or_default().to_owned();
    }
    s.to_owned()
}


/// Reads a workbook mamori exported (and a person filled in). Worksheets without the
/// `mamori 版ID` cell are skipped; none at all is an error.
pub fn read_checklist_xlsx(name: &str, bytes: &[u8]) -> Result<Vec<ReadSheet>, IngestError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_inner(name, bytes))).unwrap_or_else(|_| {
        Err(invalid(name, 1, "xlsx", "the workbook could not be read: the xlsx reader failed on malformed content"))
    })
}

fn read_inner(name: &str, bytes: &[u8]) -> Result<Vec<ReadSheet>, IngestError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(invalid(name, 1, "xlsx", "an old .xls workbook or a password-protected .xlsx: save it as .xlsx without a password"));
    }
    if !bytes.starts_with(b"PK") {
        return Err(invalid(name, 1, "xlsx", "not an xlsx workbook: it is not a zip archive"));
    }
    let mut wb: Xlsx<Cursor<&[u8]>> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| invalid(name, 1, "xlsx", format!("not a readable xlsx workbook: {e}")))?;
    let names: Vec<String> = wb.sheet_names().clone();
    let mut out = Vec::new();
    for sheet in names {
        let Ok(range) = wb.worksheet_range(&sheet) else { continue };
        let (h, w) = range.get_size();
        if h > MAX_ROWS || w > 64 {
            return Err(IngestError::Refused {
                file: name.to_owned(),
                line: 1,
                field: sheet.clone(),
                reason: format!("a worksheet of {h} rows × {w} columns is not a checklist"),
            });
        }
        let start = range.start().unwrap_or((0, 0));
        let cell = |r: usize, c: usize| -> String {
            let (r0, c0) = (start.0 as usize, start.1 as usize);
            if r < r0 || c < c0 {
                return String::new();
            }
            range.get((r - r0, c - c0)).map(text_of).unwrap_or_default()
        };
        let last = start.0 as usize + h;
        // The id block: `mamori 版ID | R7 | | シート | facility | | 事業者 | name`.
        let Some(id_row) = (0..last.min(20)).find(|&r| cell(r, 0) == EDITION_LABEL) else { continue };
        let edition_id = cell(id_row, 1);
        let sheet_code = cell(id_row, 4);
        let vendor = (cell(id_row, 6) == VENDOR_LABEL).then(|| cell(id_row, 7)).filter(|v| !v.is_empty());
        if edition_id.is_empty() {
            return Err(invalid(name, id_row as u64 + 1, &format!("{sheet}!B{}", id_row + 1), "the edition id is empty"));
        }
        let Some(header_row) = (id_row..last.min(id_row + 20)).find(|&r| cell(r, 0) == HEADERS[0] && cell(r, 1) == HEADERS[1]) else {
            return Err(invalid(name, id_row as u64 + 1, &sheet, "no header row (項番 / チェック項目) below the edition id"));
        };
        let mut lines = Vec::new();
        let mut label = String::new();
        for r in header_row + 1..last {
            let a = cell(r, 0);
            let class = cell(r, 2);
            if a.starts_with('※') {
                break;
            }
            if !a.is_empty() {
                label = a.clone();
            }
            // A section heading spans the row; an answer line has its class (or a dash).
            if class.is_empty() {
                continue;
            }
            lines.push(ReadLine {
                sheet: sheet.clone(),
                row: r as u64 + 1,
                label: label.clone(),
                class,
                answer1: cell(r, 3),
                date1: cell(r, 4),
                answer2: cell(r, 5),
                date2: cell(r, 6),
                target: cell(r, 7),
                comment: cell(r, 8),
            });
        }
        out.push(ReadSheet { name: sheet, edition_id, sheet_code, vendor, lines });
    }
    if out.is_empty() {
        return Err(invalid(
            name,
            1,
            "xlsx",
            "no worksheet with a 「mamori 版ID」 cell: this is not a checklist exported by mamori (an official form is loaded with `mamori checklist load-edition`)",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ExportSheet {
        ExportSheet {
            name: "医療機関確認用".into(),
            title: "医療機関におけるサイバーセキュリティ対策チェックリスト".into(),
            subtitle: "【医療機関確認用】".into(),
            fields: vec![("医療機関名".into(), "テスト診療所".into())],
            edition_id: "R6".into(),
            sheet_code: "facility".into(),
            vendor: None,
            rows: vec![
                ExportRow::Section("1　体制構築".into()),
                ExportRow::Item {
                    label: "1-(1)".into(),
                    text: "医療情報システム安全管理責任者を設置している。".into(),
                    lines: vec![AnswerLine { class: "—".into(), answer1: "はい".into(), date1: "2026-10-01".into(), ..Default::default() }],
                },
                ExportRow::Item {
                    label: "2-(5)".into(),
                    text: "退職者や使用していないアカウント等、不要なアカウントを削除している。".into(),
                    lines: vec![
                        AnswerLine { class: "サーバ".into(), answer1: "いいえ".into(), target: "2027-03-31".into(), ..Default::default() },
                        AnswerLine { class: "端末PC".into(), answer1: "はい".into(), comment: "棚卸しで確認".into(), ..Default::default() },
                    ],
                },
            ],
            notes: vec!["※ 1-(1) 注記".into()],
        }
    }

    #[test]
    fn written_and_read_back() {
        let bytes = write_checklist_xlsx(&[sample()], &[("対象機器".into(), vec!["機器".into()], vec![vec!["NAS".into()]])]).unwrap();
        let read = read_checklist_xlsx("c.xlsx", &bytes).unwrap();
        assert_eq!(read.len(), 1);
        let s = &read[0];
        assert_eq!((s.edition_id.as_str(), s.sheet_code.as_str(), s.vendor.as_deref()), ("R6", "facility", None));
        let got: Vec<(&str, &str, &str, &str)> =
            s.lines.iter().map(|l| (l.label.as_str(), l.class.as_str(), l.answer1.as_str(), l.target.as_str())).collect();
        assert_eq!(
            got,
            [("1-(1)", "—", "はい", ""), ("2-(5)", "サーバ", "いいえ", "2027-03-31"), ("2-(5)", "端末PC", "はい", "")]
        );
        assert_eq!(s.lines[2].comment, "棚卸しで確認");
        assert_eq!(s.lines[0].date1, "2026-10-01");
    }

    #[test]
    fn not_a_mamori_export() {
        assert!(read_checklist_xlsx("x.xlsx", b"not a zip").unwrap_err().to_string().contains("zip"));
        let ledger = crate::ledger::write_xlsx("台帳", &["機器名".into()], &[vec!["PC".into()]]).unwrap();
        assert!(read_checklist_xlsx("x.xlsx", &ledger).unwrap_err().to_string().contains("mamori 版ID"));
    }
}
