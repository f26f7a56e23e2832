//! The official MHLW checklist form (厚生労働省「医療機関等におけるサイバーセキュリティ対策チェック
//! リスト」, the xlsx a user downloads) read into a [`ChecklistEdition`], so that a new edition
//! can be loaded without waiting for a release (`mamori checklist load-edition FORM.xlsx`).
//!
//! The exact layout of the official form is not known in advance and changes between editions,
//! so the reader looks for the shapes the form is printed in rather than for fixed cells, and
//! says what it understood ([`FormReading::summary`]) and what looked wrong
//! ([`FormReading::warnings`]) for the user to confirm before the edition is used.
//!
//! What it understands, on every visible worksheet:
//!
//! - **Merged cells**: the value of a merged range (its top-left cell) applies to every cell of
//!   the range, so a number cell merged over the three rows of an item answered per device class
//!   is seen on each row.
//! - **The sheet's kind**: from the sheet name, else from the title cells above the table
//!   (事業者 → [`SheetKind::Vendor`]; 医療機関 / 薬局 → [`SheetKind::Facility`]); neither →
//!   facility, with a warning.
//! - **Title and 年度**: the first title cell containing チェックリスト; 令和N年度 in a title cell
//!   when the caller gives no 年度.
//! - **Section headings**: a row whose first cell reads `1 体制構築`, `1．体制構築`,
//!   `１.体制構築`, `【1】体制構築`, `1　体制構築` (or the number alone with the title in the
//!   next cell).
//! - **Items**: a cell starting with `(1)`, `（1）`, `⑴`, `①`…`㊿`, optionally prefixed by the
//!   section (`2-(1)`, `2-①`, `２－（３）`); the item text is the rest of that cell, else the
//!   longest text cell to its right. The section is the prefix, else the last heading (a
//!   heading in a cell left of the number counts too). Cells with `▶` beside the text are
//!   guideline references.
//! - **The gate item** (医療情報システムの有無 / 医療情報システムを導入、運用している。): id `gate`.
//! - **Device classes**, two layouts: (a) a header row naming サーバ / 端末PC / ネットワーク機器 /
//!   医療情報システム全般 columns: an item is answered for a class unless its cell there is
//!   `－`, `/`, `対象外`, `該当なし` …, and one merged cell over the class columns is one
//!   answer (no classes); (b) a column naming the class on each row, or merged over a group of
//!   items: the rows of one item (number merged, repeated or blank) each add their class, and
//!   a number seen again further down with the same text (or none) is the same item under
//!   another class (forms that list section 2 class by class). Items are listed by section
//!   and number; no class information leaves `device_classes` empty.
//! - **Notes**: a row starting with ※, 注, 備考, （注） is not an item, and after the first item it
//!   starts a notes block in which numbered rows are not items either, unless they continue the
//!   numbering of the table (or a new section heading follows).
//!
//! What it does not understand: items numbered without brackets or circles (`1`, `a`),
//! sections without a number, answers shown only by cell shading, items whose text sits left
//! of the number, and several checklists side by side on one worksheet. Such forms give fewer
//! items or none, and the summary shows it.
//!
//! Like the other readers of this crate it treats the file as hostile and never panics: a
//! workbook that cannot be read, or that has no item at all, is an [`IngestError`]; the size of
//! what is read is capped ([`MAX_FORM_SHEETS`], [`MAX_FORM_ROWS`], [`MAX_FORM_CELLS`],
//! [`MAX_FORM_TEXT_BYTES`], [`MAX_MERGED_REGIONS`], [`MAX_COLUMNS`], [`MAX_VALUE_BYTES`]), and
//! going over a cap is an error. Cells longer than 8 KiB are kept out of the analysis, and the
//! work of applying merged ranges is bounded, so that a small hostile file cannot make the
//! reading slow.

use crate::{invalid, refused};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};

use calamine::{DataRef, Dimensions, Reader, SheetType, SheetVisible, Xlsx, XlsxError};
use mamori_model::checklist::{ChecklistEdition, ChecklistItem, ChecklistSection, ChecklistSheet};
use mamori_model::{Confidence, DeviceClass, SheetKind};

use crate::ledger::MAX_COLUMNS;
use crate::{IngestError, MAX_VALUE_BYTES};

/// Most non-empty rows read from one worksheet (the official form has about a hundred).
pub const MAX_FORM_ROWS: usize = 10_000;

/// Most non-empty cells read from one worksheet.
pub const MAX_FORM_CELLS: usize = 100_000;

/// Most text (bytes) read from the cells of one worksheet. 16 MiB.
pub const MAX_FORM_TEXT_BYTES: usize = 16 * 1024 * 1024;

/// Most visible worksheets read from one workbook (the form has two or three).
pub const MAX_FORM_SHEETS: usize = 100;

/// Most merged ranges accepted in one worksheet.
pub const MAX_MERGED_REGIONS: usize = 5_000;

/// Most cells that merged ranges may fill over the rows of one worksheet (a bound on the work
/// of applying overlapping ranges).
const MAX_MERGE_FILL: u64 = 2_000_000;

/// Cells longer than this (bytes) are not looked into: never an item number, item text,
/// heading, title or gate (the official cells are a few hundred bytes at most).
const MAX_ANALYSED_BYTES: usize = 8 * 1024;

/// Longest item text, in characters.
const MAX_ITEM_TEXT_CHARS: usize = 1_000;

/// Rows from the top searched for the title, the 年度 and the sheet's label.
const TITLE_SCAN_ROWS: u64 = 50;

/// Most warnings kept for one worksheet.
const MAX_WARNINGS: usize = 100;

/// Highest item number accepted (`(99)`; circled numbers stop at ㊿).
const MAX_ITEM_NUMBER: u32 = 99;

/// Highest section number accepted.
const MAX_SECTION: u32 = 20;

/// Longest section title, in characters.
const MAX_HEADING_CHARS: usize = 40;

/// Label of the gate item, as the form prints it.
const GATE_LABEL: &str = "医療情報システムの有無";

/// What was read from a form: the edition, and what the user should confirm.
#[derive(Debug, Clone)]
pub struct FormReading {
    /// Items have confidence [`Confidence::Official`] and source `FILE シート名!行`.
    pub edition: ChecklistEdition,
    /// What was understood, for the user to confirm, one line each, in Japanese: the title,
    /// the 年度 and where it came from, the numbering, and per sheet its kind, header row, item
    /// count, device-class layout and sections (e.g. 「シート「医療機関確認用」:
    /// 医療機関確認用（シート名から）, 見出し行 5, 項目 10 件（医療情報システムの有無 行 6 を含む）,
    /// 機器区分 サーバ/端末PC/ネットワーク機器（列 C〜E）」).
    pub summary: Vec<String>,
    /// Things that look wrong but did not stop the reading, in Japanese: a numbered row
    /// without text, a duplicated number, a sheet skipped …
    pub warnings: Vec<String>,
}

/// Reads the official checklist form (xlsx) into an edition with id `edition_id`.
///
/// `fiscal_year_ja` (令和8年度 …) wins over what the title says; without either the edition's
/// 年度 is empty and a warning says so. A workbook that is not an xlsx (an old .xls, an
/// encrypted file, not a zip, a zip that is not a workbook), that breaks a limit, or in which no
/// worksheet has an item row is an `Err` naming the file, the row and the sheet or cell.
pub fn read_checklist_form<R: Read + Seek>(
    name: &str,
    reader: R,
    edition_id: &str,
    fiscal_year_ja: Option<&str>,
) -> Result<FormReading, IngestError> {
    // Defence in depth: a reader bug on malformed content must not take the program down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_inner(name, reader, edition_id, fiscal_year_ja)
    }))
    .unwrap_or_else(|_| {
        Err(invalid(
            name,
            1,
            "xlsx",
            "the workbook could not be read: the xlsx reader failed on malformed content",
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Workbook
// ---------------------------------------------------------------------------------------------

fn read_inner<R: Read + Seek>(
    name: &str,
    mut reader: R,
    edition_id: &str,
    fiscal_year_ja: Option<&str>,
) -> Result<FormReading, IngestError> {
    let io = |source| IngestError::Io {
        file: name.to_owned(),
        line: 1,
        source,
    };
    let head = crate::text::read_head(&mut reader, 8).map_err(io)?;
    reader.seek(SeekFrom::Start(0)).map_err(io)?;
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(invalid(
            name,
            1,
            "xlsx",
            "an old .xls workbook or a password-protected .xlsx: save the form as .xlsx without \
             a password",
        ));
    }
    if !head.starts_with(b"PK") {
        return Err(invalid(
            name,
            1,
            "xlsx",
            "not an xlsx workbook: it is not a zip archive (is it the PDF or a CSV file?)",
        ));
    }
    let mut workbook: Xlsx<R> = Xlsx::new(reader).map_err(|e| xlsx_error(name, 1, "xlsx", &e))?;
    let sheets: Vec<(String, bool)> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.name.clone(), s.visible == SheetVisible::Visible))
        .collect();
    let mut summary = Vec::new();
    let mut warnings = Vec::new();
    for (sheet, visible) in &sheets {
        if !visible {
            summary.push(format!(
                "非表示のシート「{}」は読みませんでした",
                clip(sheet, 40)
            ));
        }
    }
    match sheets.iter().filter(|(_, visible)| *visible).count() {
        0 => {
            return Err(invalid(
                name,
                1,
                "xlsx",
                "the workbook has no visible worksheet",
            ));
        }
        n if n > MAX_FORM_SHEETS => {
            return Err(refused(
                name,
                1,
                "xlsx",
                format!("more than {MAX_FORM_SHEETS} worksheets"),
            ));
        }
        _ => {}
    }

    let mut read: Vec<Scanned> = Vec::new();
    let mut titles: Vec<(String, Option<String>)> = Vec::new();
    let mut visible_names = Vec::new();
    for (sheet, visible) in &sheets {
        if !visible {
            continue;
        }
        visible_names.push(sheet.clone());
        let grid = read_grid(&mut workbook, name, sheet)?;
        let scanned = scan_sheet(name, sheet, &grid);
        warnings.extend(scanned.warnings.iter().cloned());
        if let Some(t) = &scanned.title {
            titles.push((t.clone(), scanned.fiscal_year.clone()));
        }
        if scanned.items.iter().any(|d| !d.item.gate) {
            read.push(scanned);
        } else {
            warnings.push(format!(
                "シート「{}」: 番号の付いたチェック項目が見つからないため読みませんでした",
                clip(sheet, 40)
            ));
        }
    }
    if read.is_empty() {
        return Err(invalid(
            name,
            1,
            "checklist",
            format!(
                "no checklist items found: is this the official checklist form? (worksheets \
                 read: {}; an item is a row numbered (1), （1） or ① under a section heading such \
                 as 1 体制構築)",
                visible_names
                    .iter()
                    .map(|s| clip(s, 40))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    // Title and 年度: from a sheet that was read first, else from any sheet.
    let title_of_read = read.iter().find_map(|s| s.title.clone());
    let title = title_of_read.or_else(|| titles.first().map(|(t, _)| t.clone()));
    let title_ja = match title {
        Some(t) => {
            summary.push(format!("表題: 「{}」", clip(&t, 80)));
            t
        }
        None => {
            let t = format!("{name} から読み込んだチェックリスト");
            summary.push(format!(
                "表題（チェックリスト を含むセル）が見つからないため「{}」としました",
                clip(&t, 80)
            ));
            t
        }
    };
    let found_year = read
        .iter()
        .find_map(|s| s.fiscal_year.clone())
        .or_else(|| titles.iter().find_map(|(_, y)| y.clone()));
    let fiscal_year_ja = match (
        fiscal_year_ja.map(str::trim).filter(|y| !y.is_empty()),
        found_year,
    ) {
        (Some(given), found) => {
            summary.push(format!("年度: {given}（指定）"));
            if let Some(found) = found.filter(|f| f != given) {
                warnings.push(format!(
                    "指定された年度 {given} と表題の年度 {found} が違います（指定を使いました）"
                ));
            }
            given.to_owned()
        }
        (None, Some(found)) => {
            summary.push(format!("年度: {found}（表題から）"));
            found
        }
        (None, None) => {
            warnings.push("年度が表題にも指定にもないため空にしました".to_owned());
            String::new()
        }
    };

    let (paren, circled) = read
        .iter()
        .fold((0, 0), |(p, c), s| (p + s.paren, c + s.circled));
    let numbering = if circled > paren { "circled" } else { "paren" };
    summary.push(format!(
        "番号の書き方: {}",
        if circled > paren {
            "① 形式（2-① と表記）"
        } else {
            "(1) 形式（2-(1) と表記）"
        }
    ));
    if paren > 0 && circled > 0 {
        warnings.push(format!(
            "番号の書き方が混在しています: (1) 形式 {paren} 件, ① 形式 {circled} 件"
        ));
    }

    let mut out_sheets = Vec::new();
    for s in read {
        summary.extend(s.summary_lines());
        out_sheets.push(s.into_sheet());
    }
    for kind in SheetKind::ALL {
        let same: Vec<&str> = out_sheets
            .iter()
            .filter(|s: &&ChecklistSheet| s.kind == *kind)
            .map(|s| s.name_ja.as_str())
            .collect();
        if same.len() > 1 {
            warnings.push(format!(
                "{}のシートが {} 枚あります（{}）: すべて読みました",
                kind_label(*kind),
                same.len(),
                same.iter()
                    .map(|n| format!("「{}」", clip(n, 40)))
                    .collect::<String>()
            ));
        }
    }

    let edition = ChecklistEdition {
        id: edition_id.to_owned(),
        title_ja,
        title_en: None,
        fiscal_year_ja,
        published: None,
        guideline: None,
        numbering: numbering.to_owned(),
        source_note_ja: Some(format!("厚生労働省の様式（{name}）から読み込み")),
        source_note_en: Some(format!("Loaded from the MHLW form ({name})")),
        sheets: out_sheets,
    };
    Ok(FormReading {
        edition,
        summary,
        warnings,
    })
}



fn xlsx_error(name: &str, line: u64, field: &str, e: &XlsxError) -> IngestError {
    let reason = match e {
        XlsxError::Password => {
            "the workbook is password-protected: save it again without a password".to_owned()
        }
        XlsxError::Zip(z) => format!(
            "not a readable xlsx workbook (broken zip archive: {})",
            clip(&z.to_string(), 200)
        ),
        other => format!(
            "not a readable xlsx workbook: {}",
            clip(&other.to_string(), 200)
        ),
    };
    invalid(name, line, field, reason)
}

/// At most `max` characters of `s`, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Column letters of a 0-based column (`0` → `A`, `26` → `AA`).
fn col_letters(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    out.iter().rev().collect()
}

/// `シート名!D12` for messages.
fn cell_ref(sheet: &str, row: u32, col: u32) -> String {
    format!(
        "{}!{}{}",
        clip(sheet, 40),
        col_letters(col),
        u64::from(row) + 1
    )
}

// ---------------------------------------------------------------------------------------------
// One worksheet as a sparse grid, with merged ranges
// ---------------------------------------------------------------------------------------------

/// The non-empty cells of a worksheet, rows and cells in order, and its merged ranges
/// (normalised, clipped to [`MAX_COLUMNS`]).
struct Grid {
    rows: Vec<(u32, Vec<(u32, Cell)>)>,
    merges: Vec<Dimensions>,
}

/// One stored cell: its trimmed text and what the reader needs to know about it, worked out
/// once (a merged range shows the same cell in many places, and every look at it is then
/// cheap).
struct Cell {
    text: String,
    /// Short enough to be looked into ([`MAX_ANALYSED_BYTES`]).
    analysed: bool,
    /// The item number at its start.
    number: Option<(Option<u32>, u32, Style)>,
    /// The item text after the number, when there is one.
    rest: Option<String>,
    /// The item text this cell can be (text cells other than answers, classes, headers, notes).
    candidate: Option<String>,
    /// Guideline references (`▶企画管理編 9.1`).
    refs: Vec<String>,
    class: Option<DeviceClass>,
    not_applicable: bool,
    header_word: bool,
    note: bool,
    gate_label: bool,
    gate_statement: Option<String>,
}

impl Cell {
    fn new(text: String) -> Self {
        let mut cell = Cell {
            text: String::new(),
            analysed: text.len() <= MAX_ANALYSED_BYTES,
            number: None,
            rest: None,
            candidate: None,
            refs: Vec::new(),
            class: class_of(&text),
            not_applicable: is_not_applicable(&text),
            header_word: is_header_word(&text),
            note: starts_note(&text),
            gate_label: false,
            gate_statement: None,
        };
        if cell.analysed {
            let k = key(&text);
            cell.gate_label = k.contains(GATE_LABEL);
            if k.contains("医療情報システムを導入") && k.contains("運用") && k.chars().count() <= 40
            {
                cell.gate_statement = Some(clean_text(&text));
            }
            if let Some(n) = parse_item_number(&text) {
                cell.number = Some((n.section, n.n, n.style));
                let (head, refs) = split_refs(n.rest);
                cell.rest = can_be_text(&head).then_some(head);
                cell.refs = refs;
            } else {
                let (head, refs) = split_refs(&text);
                cell.refs = refs;
                if cell.class.is_none()
                    && !cell.not_applicable
                    && !cell.header_word
                    && !cell.note
                    && !is_answer_like(&text)
                    && can_be_text(&head)
                {
                    cell.candidate = Some(head);
                }
            }
        }
        cell.text = text;
        cell
    }
}

/// Enough letters to be a text, and not too long.
fn can_be_text(text: &str) -> bool {
    letters(text) >= 2 && text.chars().count() <= MAX_ITEM_TEXT_CHARS
}

/// A cell as seen on screen: its column, the stored cell it shows (its merged range's
/// top-left cell), and the merged range it belongs to.
#[derive(Clone, Copy)]
struct ECell<'g> {
    col: u32,
    cell: &'g Cell,
    merge: Option<usize>,
}

impl ECell<'_> {
    fn text(&self) -> &str {
        &self.cell.text
    }
}

impl Grid {
    fn get(&self, row: u32, col: u32) -> Option<&Cell> {
        let i = self.rows.binary_search_by_key(&row, |(r, _)| *r).ok()?;
        let (_, cells) = self.rows.get(i)?;
        let j = cells.binary_search_by_key(&col, |(c, _)| *c).ok()?;
        cells.get(j).map(|(_, c)| c)
    }

    /// Row `i` (index into `rows`): its 1-based line and its non-empty cells with merged
    /// ranges applied.
    fn row(&self, i: usize) -> Option<(u64, Vec<ECell<'_>>)> {
        let (r, own) = self.rows.get(i)?;
        let r = *r;
        let mut cells: BTreeMap<u32, ECell<'_>> = own
            .iter()
            .map(|(c, cell)| {
                (
                    *c,
                    ECell {
                        col: *c,
                        cell,
                        merge: None,
                    },
                )
            })
            .collect();
        for (mi, m) in self.merges.iter().enumerate() {
            if r < m.start.0 || r > m.end.0 {
                continue;
            }
            let top = self.get(m.start.0, m.start.1);
            for col in m.start.1..=m.end.1 {
                if (r, col) == m.start {
                    if let Some(c) = cells.get_mut(&col) {
                        c.merge = Some(mi);
                    }
                    continue;
                }
                // Excel shows only the top-left value of a merged range.
                match top {
                    Some(cell) => {
                        cells.insert(
                            col,
                            ECell {
                                col,
                                cell,
                                merge: Some(mi),
                            },
                        );
                    }
                    None => {
                        cells.remove(&col);
                    }
                }
            }
        }
        Some((u64::from(r) + 1, cells.into_values().collect()))
    }
}

/// The text of a cell value, if it has one.
fn cell_str<'d>(data: &'d DataRef<'_>) -> Option<Cow<'d, str>> {
    Some(match data {
        DataRef::Empty | DataRef::Error(_) => return None,
        DataRef::Int(i) => Cow::Owned(i.to_string()),
        DataRef::Float(f) => Cow::Owned(render_number(*f)),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            Cow::Borrowed(s.as_str())
        }
        DataRef::SharedString(s) => Cow::Borrowed(*s),
        DataRef::Bool(b) => Cow::Borrowed(if *b { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(dt) => Cow::Owned(render_number(dt.as_f64())),
    })
}

/// Whole numbers without a decimal point (`10`), others as Rust writes them (`3.5`).
fn render_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn read_grid<R: Read + Seek>(
    workbook: &mut Xlsx<R>,
    file: &str,
    sheet: &str,
) -> Result<Grid, IngestError> {
    let sheet_field = clip(sheet, 40);
    let raw_merges = match workbook.worksheet_merge_cells(sheet) {
        None => Vec::new(),
        Some(r) => r.map_err(|e| xlsx_error(file, 1, &sheet_field, &e))?,
    };
    if raw_merges.len() > MAX_MERGED_REGIONS {
        return Err(refused(
            file,
            1,
            &sheet_field,
            format!("more than {MAX_MERGED_REGIONS} merged cell ranges"),
        ));
    }

    let mut rows: BTreeMap<u32, Vec<(u32, Cell)>> = BTreeMap::new();
    let (mut n_cells, mut n_bytes) = (0_usize, 0_usize);
    let mut last_line = 1_u64;
    let mut reader = workbook
        .worksheet_cells_reader(sheet)
        .map_err(|e| xlsx_error(file, 1, &sheet_field, &e))?;
    loop {
        let cell = reader
            .next_cell()
            .map_err(|e| xlsx_error(file, last_line, &sheet_field, &e))?;
        let Some(cell) = cell else { break };
        let (row, col) = cell.get_position();
        let line = u64::from(row) + 1;
        last_line = line;
        let Some(text) = cell_str(cell.get_value()) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        if col as usize >= MAX_COLUMNS {
            return Err(refused(
                file,
                line,
                &cell_ref(sheet, row, col),
                format!("a cell beyond column {MAX_COLUMNS}"),
            ));
        }
        if text.len() > MAX_VALUE_BYTES {
            return Err(refused(
                file,
                line,
                &cell_ref(sheet, row, col),
                format!("a cell longer than {MAX_VALUE_BYTES} bytes"),
            ));
        }
        n_cells += 1;
        n_bytes += text.len();
        if n_cells > MAX_FORM_CELLS {
            return Err(refused(
                file,
                line,
                &cell_ref(sheet, row, col),
                format!("more than {MAX_FORM_CELLS} cells in one worksheet"),
            ));
        }
        if n_bytes > MAX_FORM_TEXT_BYTES {
            return Err(refused(
                file,
                line,
                &cell_ref(sheet, row, col),
                format!("more than {MAX_FORM_TEXT_BYTES} bytes of text in one worksheet"),
            ));
        }
        if !rows.contains_key(&row) && rows.len() >= MAX_FORM_ROWS {
            return Err(refused(
                file,
                line,
                &sheet_field,
                format!("more than {MAX_FORM_ROWS} rows in one worksheet"),
            ));
        }
        rows.entry(row)
            .or_default()
            .push((col, Cell::new(text.to_owned())));
    }
    let rows: Vec<(u32, Vec<(u32, Cell)>)> = rows
        .into_iter()
        .map(|(r, mut cells)| {
            // Only a hostile sheet repeats a cell reference: the first one wins.
            cells.sort_by_key(|(c, _)| *c);
            cells.dedup_by_key(|(c, _)| *c);
            (r, cells)
        })
        .collect();

    let last_col = u32::try_from(MAX_COLUMNS - 1).unwrap_or(u32::MAX);
    let mut merges = Vec::new();
    let mut fill = 0_u64;
    for m in raw_merges {
        let (r0, r1) = (m.start.0.min(m.end.0), m.start.0.max(m.end.0));
        let (c0, c1) = (m.start.1.min(m.end.1), m.start.1.max(m.end.1));
        if c0 > last_col || (r0, c0) == (r1, c1) {
            continue;
        }
        let c1 = c1.min(last_col);
        let lo = rows.partition_point(|(r, _)| *r < r0);
        let hi = rows.partition_point(|(r, _)| *r <= r1);
        let covered = hi.saturating_sub(lo) as u64;
        fill = fill.saturating_add(covered.saturating_mul(u64::from(c1 - c0 + 1)));
        if fill > MAX_MERGE_FILL {
            return Err(refused(
                file,
                u64::from(r0) + 1,
                &cell_ref(sheet, r0, c0),
                "merged cell ranges covering too many cells",
            ));
        }
        merges.push(Dimensions {
            start: (r0, c0),
            end: (r1, c1),
        });
    }
    Ok(Grid { rows, merges })
}

// ---------------------------------------------------------------------------------------------
// Text shapes
// ---------------------------------------------------------------------------------------------

/// Full-width ASCII (`１`, `（`, `．`, `ＰＣ`) as ASCII, the ideographic space as a space.
fn fold_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// A dash of any width or kind (`-`, `－`, `―`, `—`, `−`, `ー`, `─`).
fn is_dash(c: char) -> bool {
    matches!(
        fold_width(c),
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '\u{30FC}' | '\u{FF70}' | '\u{2500}' | '\u{2501}'
    )
}

/// A comparison key: widths folded, ASCII lower-cased, spaces, brackets and light punctuation
/// removed (`【端末ＰＣ】` → `端末pc`, `はい・いいえ` → `はいいいえ`).
fn key(s: &str) -> String {
    s.chars()
        .map(fold_width)
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '・' | '･'
                        | '/'
                        | '、'
                        | ','
                        | '。'
                        | '.'
                        | ':'
                        | '('
                        | ')'
                        | '['
                        | ']'
                        | '【'
                        | '】'
                        | '「'
                        | '」'
                        | '〔'
                        | '〕'
                        | '<'
                        | '>'
                        | '〈'
                        | '〉'
                        | '《'
                        | '》'
                )
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Number of letters (kana, kanji, Latin) in `s`.
fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphabetic()).count()
}

/// The device class a cell names (`サーバ`, `端末ＰＣ`, `【ネットワーク機器】`, `医療情報システム全般`).
fn class_of(text: &str) -> Option<DeviceClass> {
    if text.len() > 64 {
        return None;
    }
    Some(match key(text).as_str() {
        "サーバ" | "サーバー" | "サーバ機器" | "server" => DeviceClass::Server,
        "端末pc" | "端末" | "pc" | "端末パソコン" | "パソコン" | "pc端末" | "クライアント端末" => {
            DeviceClass::Pc
        }
        "ネットワーク機器" | "ネットワーク" | "nw機器" | "ネットワーク装置" | "network" => {
            DeviceClass::Network
        }
        "医療情報システム全般" | "システム全般" | "全般" => DeviceClass::All,
        _ => return None,
    })
}

fn class_label(c: DeviceClass) -> &'static str {
    match c {
        DeviceClass::All => "医療情報システム全般",
        DeviceClass::Server => "サーバ",
        DeviceClass::Pc => "端末PC",
        DeviceClass::Network => "ネットワーク機器",
    }
}

fn kind_label(k: SheetKind) -> &'static str {
    match k {
        SheetKind::Facility => "医療機関確認用",
        SheetKind::Vendor => "事業者確認用",
    }
}

/// A cell that says "not applicable" for a device class: dashes, slashes, 対象外, 該当なし.
/// (A ×, a ○ or an empty cell is an answer cell.)
fn is_not_applicable(text: &str) -> bool {
    if text.len() > 64 {
        return false;
    }
    let t: String = text
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace())
        .collect();
    if t.is_empty() {
        return false;
    }
    if matches!(
        t.to_lowercase().as_str(),
        "対象外" | "該当なし" | "該当無し" | "対象なし" | "非該当" | "n/a" | "na"
    ) {
        return true;
    }
    t.chars()
        .all(|c| is_dash(c) || matches!(c, '/' | '\\' | '\u{2571}' | '\u{FF3C}'))
}

/// A header cell of the answer table (項目, はい・いいえ, 確認日, 目標日 …).
fn is_header_word(text: &str) -> bool {
    if text.len() > 64 {
        return false;
    }
    let k = key(text);
    matches!(
        k.as_str(),
        "項目"
            | "番号"
            | "項番"
            | "no"
            | "対象"
            | "区分"
            | "機器区分"
            | "対象機器"
            | "はい"
            | "いいえ"
            | "はいいいえ"
            | "回答"
            | "確認"
            | "備考"
            | "1回目"
            | "2回目"
    ) || [
        "確認日",
        "目標日",
        "確認結果",
        "チェック項目",
        "確認項目",
        "回答",
    ]
    .iter()
    .any(|p| k.starts_with(p))
}

/// A cell that holds an answer or an answer template rather than text (はい・いいえ, ○, 年 月 日).
fn is_answer_like(text: &str) -> bool {
    if text.len() > 64 {
        return false;
    }
    let k = key(text);
    letters(&k) < 2
        || matches!(k.as_str(), "はい" | "いいえ" | "はいいいえ" | "済" | "未")
        || k.ends_with("年月日")
        || k.ends_with("月日")
}

/// The first cell of a note row (※…, 注…, 備考, （注）…).
fn starts_note(text: &str) -> bool {
    let t: String = text.chars().take(4).map(fold_width).collect();
    let t = t.trim_start();
    t.starts_with('※')
        || t.starts_with('*')
        || t.starts_with('注')
        || t.starts_with("備考")
        || ["(注", "[注", "【注", "〔注", "<注", "〈注"]
            .iter()
            .any(|p| t.starts_with(p))
}

/// The numbering style of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `(1)`, printed 2-(1).
    Paren,
    /// `①`, printed 2-①.
    Circled,
}

/// An item number at the start of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ItemNumber<'a> {
    /// The section prefix of `2-(1)`.
    section: Option<u32>,
    n: u32,
    style: Style,
    /// The rest of the cell, separators removed.
    rest: &'a str,
}

/// 1–3 digits (ASCII or full-width) at the start of `s`, and what follows.
fn leading_number(s: &str) -> Option<(u32, &str)> {
    let mut value = 0_u32;
    let mut digits = 0;
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let Some(d) = fold_width(c).to_digit(10) else {
            break;
        };
        digits += 1;
        if digits > 3 {
            return None;
        }
        value = value * 10 + d;
        end = i + c.len_utf8();
    }
    if digits == 0 {
        return None;
    }
    Some((value, s.get(end..)?))
}

/// ① … ⑳, ㉑ … ㉟, ㊱ … ㊿.
fn circled_value(c: char) -> Option<u32> {
    let v = c as u32;
    match v {
        0x2460..=0x2473 => Some(v - 0x2460 + 1),
        0x3251..=0x325F => Some(v - 0x3251 + 21),
        0x32B1..=0x32BF => Some(v - 0x32B1 + 36),
        _ => None,
    }
}

fn circled_char(n: u32) -> Option<char> {
    match n {
        1..=20 => char::from_u32(0x2460 + n - 1),
        21..=35 => char::from_u32(0x3251 + n - 21),
        36..=50 => char::from_u32(0x32B1 + n - 36),
        _ => None,
    }
}

/// `s` without leading spaces and separators (`.`, `．`, `、`, `:`).
fn strip_separators(s: &str) -> &str {
    s.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(fold_width(c), '.' | ',' | ':' | '、' | '。' | ';')
    })
}

/// An item number at the start of a cell: `(1)`, `（１）`, `⑴`, `①`, `2-(1)`, `２－①` ….
fn parse_item_number(cell: &str) -> Option<ItemNumber<'_>> {
    let s = cell.trim_start();
    let (section, s) = match leading_number(s) {
        Some((sec, rest)) => {
            // A number not followed by a dash is not an item number (`1 体制構築`, `※1`).
            let dash = rest.chars().next().filter(|c| is_dash(*c))?;
            (Some(sec), rest.get(dash.len_utf8()..)?.trim_start())
        }
        None => (None, s),
    };
    let first = s.chars().next()?;
    let after_first = s.get(first.len_utf8()..)?;
    let (n, style, rest) = if let Some(n) = circled_value(first) {
        (n, Style::Circled, after_first)
    } else if let 0x2474..=0x2487 = first as u32 {
        // ⑴ … ⒇
        (first as u32 - 0x2474 + 1, Style::Paren, after_first)
    } else if fold_width(first) == '(' {
        let (n, after) = leading_number(after_first.trim_start())?;
        let after = after.trim_start();
        let close = after.chars().next()?;
        if fold_width(close) != ')' {
            return None;
        }
        (n, Style::Paren, after.get(close.len_utf8()..)?)
    } else {
        return None;
    };
    if n == 0 || n > MAX_ITEM_NUMBER || section.is_some_and(|s| s == 0 || s > MAX_SECTION) {
        return None;
    }
    Some(ItemNumber {
        section,
        n,
        style,
        rest: strip_separators(rest),
    })
}

/// A section heading: `1 体制構築`, `1．体制構築`, `【1】体制構築`, or a number cell (`1`, `1.`,
/// `【1】`) with the title in the next cell. Gives the number and the title.
fn parse_heading(first: &str, next: Option<&str>) -> Option<(u32, String)> {
    if first.len() > 4 * MAX_HEADING_CHARS + 16 {
        return None;
    }
    let next = next.filter(|t| t.len() <= 4 * MAX_HEADING_CHARS);
    let s = first.trim();
    let opening = s.chars().next().map(fold_width)?;
    let (n, rest) = if matches!(opening, '【' | '[' | '〔') {
        let inner = s.get(s.chars().next()?.len_utf8()..)?.trim_start();
        let (n, after) = leading_number(inner)?;
        let after = after.trim_start();
        let close = after.chars().next()?;
        if !matches!(fold_width(close), '】' | ']' | '〕') {
            return None;
        }
        (n, after.get(close.len_utf8()..)?)
    } else {
        let (n, after) = leading_number(s)?;
        // The number and the title are separated (`1回目`, `1件` are not headings).
        if let Some(c) = after.chars().next()
            && !(c.is_whitespace() || matches!(fold_width(c), '.' | '、' | ',' | ':' | ')'))
        {
            return None;
        }
        (n, after)
    };
    if n == 0 || n > MAX_SECTION {
        return None;
    }
    let rest = strip_separators(rest)
        .trim_start_matches(|c: char| fold_width(c) == ')')
        .trim();
    let title = if rest.is_empty() { next?.trim() } else { rest };
    let title = clean_text(title);
    let chars = title.chars().count();
    let first_char = title.chars().next()?;
    if chars > MAX_HEADING_CHARS
        || letters(&title) < 2
        || title.contains('。')
        || starts_note(&title)
        || parse_item_number(&title).is_some()
        || "回年月日件人台枚部名号番点時分秒歳週か個つ".contains(first_char)
    {
        return None;
    }
    Some((n, title))
}

/// A cell's text as one line: line breaks removed between Japanese characters and turned into
/// a space between Latin words; leading and trailing spaces removed.
fn clean_text(s: &str) -> String {
    let mut out = String::new();
    for line in s
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let prev = out
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let next = line
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if prev && next {
            out.push(' ');
        }
        out.push_str(line);
    }
    out
}

/// Text and guideline references (`… ▶企画管理編 9.1 ▶システム運用編 10.1`) of one cell.
fn split_refs(text: &str) -> (String, Vec<String>) {
    let mut parts = text.split(['▶', '►']);
    let head = clean_text(parts.next().unwrap_or_default());
    let refs = parts.map(clean_text).filter(|r| !r.is_empty()).collect();
    (head, refs)
}

/// 令和N年度 (令和元年度) in a text, digits as ASCII.
fn fiscal_year_in(text: &str) -> Option<String> {
    let folded: String = text
        .chars()
        .map(fold_width)
        .filter(|c| !c.is_whitespace())
        .collect();
    let mut rest = folded.as_str();
    while let Some(at) = rest.find("令和") {
        let after = rest.get(at + "令和".len()..)?;
        if let Some(tail) = after.strip_prefix("元年度") {
            let _ = tail;
            return Some("令和元年度".to_owned());
        }
        if let Some((n, tail)) = leading_number(after)
            && tail.starts_with("年度")
            && n > 0
        {
            return Some(format!("令和{n}年度"));
        }
        rest = after;
    }
    None
}

/// The kind a text names: 事業者 → vendor; 医療機関 / 薬局 → facility.
fn kind_in(text: &str) -> Option<SheetKind> {
    let k = key(text);
    if k.contains("事業者") {
        Some(SheetKind::Vendor)
    } else if k.contains("医療機関") || k.contains("薬局") {
        Some(SheetKind::Facility)
    } else {
        None
    }
}

/// The `…確認用` phrase of a title cell (`チェックリスト（医療機関・薬局確認用）` →
/// `医療機関・薬局確認用`).
fn sheet_label_in(text: &str) -> Option<String> {
    let end = text.find("確認用")? + "確認用".len();
    let head = text.get(..end)?;
    let start = head
        .char_indices()
        .rev()
        .find(|(_, c)| {
            c.is_whitespace()
                || matches!(
                    fold_width(*c),
                    '(' | '[' | '【' | '「' | '『' | '〔' | '<' | '〈' | '《' | ':' | '、' | '）'
                )
        })
        .map_or(0, |(i, c)| i + c.len_utf8());
    let label = head.get(start..)?.trim();
    (label.chars().count() >= 4 && label.chars().count() <= 30).then(|| label.to_owned())
}

// ---------------------------------------------------------------------------------------------
// One worksheet → sheet
// ---------------------------------------------------------------------------------------------

/// An item being read: the item, where its number was, and the device classes its rows name.
struct Draft {
    item: ChecklistItem,
    n: u32,
    line: u64,
    number_col: u32,
    /// Layout (a): the classes from the class columns of the header, when there is one.
    column_classes: Option<Vec<DeviceClass>>,
    /// Layout (b): the cells naming a class on the item's rows.
    row_classes: Vec<(u32, DeviceClass)>,
}

/// What one worksheet gave.
struct Scanned {
    file: String,
    sheet: String,
    kind: SheetKind,
    /// How the kind was found, for the summary.
    kind_how: &'static str,
    name_ja: String,
    title: Option<String>,
    fiscal_year: Option<String>,
    header_line: Option<u64>,
    /// Layout (a): the class columns of the first class header row.
    class_header: Vec<(u32, DeviceClass)>,
    /// Layout (b): the column naming the class on each row.
    class_column: Option<u32>,
    sections: Vec<ChecklistSection>,
    items: Vec<Draft>,
    paren: usize,
    circled: usize,
    warnings: Vec<String>,
}

/// Scanning state of one worksheet.
struct Scan<'a> {
    out: Scanned,
    sheet: &'a str,
    /// A header, a heading, the gate or an item has been seen: title rows are over.
    table_started: bool,
    /// Layout (a) class columns in force (the last class header row).
    class_cols: Vec<(u32, DeviceClass)>,
    current_section: Option<u32>,
    max_section: u32,
    /// Below the table, in the notes.
    notes: bool,
    /// The item whose rows may continue on the next row (layout b).
    chain: Option<usize>,
    /// A row read 医療情報システムの有無 without the statement: its line.
    pending_gate: Option<u64>,
    title_label: Option<String>,
    title_kind: Option<SheetKind>,
}

fn scan_sheet(file: &str, sheet: &str, grid: &Grid) -> Scanned {
    let mut scan = Scan {
        out: Scanned {
            file: file.to_owned(),
            sheet: sheet.to_owned(),
            kind: SheetKind::Facility,
            kind_how: "",
            name_ja: sheet.to_owned(),
            title: None,
            fiscal_year: None,
            header_line: None,
            class_header: Vec::new(),
            class_column: None,
            sections: Vec::new(),
            items: Vec::new(),
            paren: 0,
            circled: 0,
            warnings: Vec::new(),
        },
        sheet,
        table_started: false,
        class_cols: Vec::new(),
        current_section: None,
        max_section: 0,
        notes: false,
        chain: None,
        pending_gate: None,
        title_label: None,
        title_kind: None,
    };
    for i in 0..grid.rows.len() {
        if let Some((line, cells)) = grid.row(i)
            && !cells.is_empty()
        {
            scan.row(line, &cells);
        }
    }
    scan.finish()
}

impl Scan<'_> {
    /// A warning about one row.
    fn warn(&mut self, line: u64, what: String) {
        self.warn_sheet(format!("行 {line}: {what}"));
    }

    /// A warning about the sheet; after [`MAX_WARNINGS`], one line says the rest were left out.
    fn warn_sheet(&mut self, what: String) {
        let sheet = clip(self.sheet, 40);
        match self.out.warnings.len() {
            n if n < MAX_WARNINGS => self.out.warnings.push(format!(
                "シート「{sheet}」{}{what}",
                if what.starts_with('行') { "" } else { ": " }
            )),
            n if n == MAX_WARNINGS => self.out.warnings.push(format!(
                "シート「{sheet}」: 注意が多いため以降は省略しました"
            )),
            _ => {}
        }
    }

    fn source(&self, line: u64) -> String {
        format!("{} {}!{line}", self.out.file, self.sheet)
    }

    fn row(&mut self, line: u64, cells: &[ECell<'_>]) {
        let Some(first) = cells.first() else { return };
        let number = cells
            .iter()
            .enumerate()
            .find_map(|(j, c)| c.cell.number.map(|n| (j, n)));

        // A note row (※…, 備考 …): never an item; after the items it starts the notes.
        if first.cell.note {
            if !self.out.items.is_empty() {
                self.notes = true;
            }
            self.chain = None;
            return;
        }

        if !self.table_started && line <= TITLE_SCAN_ROWS {
            self.title_row(cells);
        }

        // A pending 医療情報システムの有無 takes its statement from the row below.
        if let Some(gate_line) = self.pending_gate.take() {
            if let Some(text) = gate_statement(cells) {
                self.push_gate(gate_line, text);
                return;
            }
            self.warn(
                gate_line,
                format!(
                    "{GATE_LABEL} の文（医療情報システムを導入、運用している。）が見つからないため\
                     見出しを文としました"
                ),
            );
            self.push_gate(gate_line, GATE_LABEL.to_owned());
        }

        if number.is_none() {
            // Header rows: device class columns (layout a) or the answer table's header.
            let mut classes: Vec<(u32, DeviceClass)> = Vec::new();
            for c in cells {
                if let Some(k) = c.cell.class
                    && !classes.iter().any(|(_, x)| *x == k)
                {
                    classes.push((c.col, k));
                }
            }
            if classes.len() >= 2 {
                if self.out.class_header.is_empty() {
                    self.out.class_header.clone_from(&classes);
                }
                self.out.header_line.get_or_insert(line);
                self.class_cols = classes;
                self.enter_table();
                return;
            }
            if cells.iter().filter(|c| c.cell.header_word).count() >= 2 {
                self.out.header_line.get_or_insert(line);
                self.enter_table();
                return;
            }

            // The gate item.
            if !self.notes && !self.out.items.iter().any(|d| d.item.gate) {
                if let Some(text) = gate_statement(cells) {
                    self.push_gate(line, text);
                    return;
                }
                if cells.iter().any(|c| c.cell.gate_label) {
                    self.pending_gate = Some(line);
                    self.enter_table();
                    return;
                }
            }
        }

        if let Some((j, num)) = number {
            self.item_row(line, cells, j, num);
            return;
        }

        let second = cells.get(1).map(ECell::text);
        if let Some((n, title)) = parse_heading(first.text(), second) {
            if self.notes && n <= self.max_section {
                return;
            }
            self.enter_section(line, n, title);
            self.enter_table();
            return;
        }

        // Layout (b): a row of the current item with its number cell blank.
        if let Some(ci) = self.chain {
            let classes = self.row_classes(cells, None);
            if !classes.is_empty() {
                self.add_row_classes(ci, classes);
                return;
            }
        }
        self.chain = None;
    }

    fn enter_table(&mut self) {
        self.table_started = true;
        self.notes = false;
        self.chain = None;
    }

    /// Title rows above the table: the title, the 年度, the sheet's label and kind.
    fn title_row(&mut self, cells: &[ECell<'_>]) {
        for c in cells.iter().filter(|c| c.cell.analysed) {
            let text = clean_text(c.text());
            if self.out.title.is_none() && text.contains("チェックリスト") {
                self.out.title = Some(clip(&text, 200));
            }
            if self.out.fiscal_year.is_none() {
                self.out.fiscal_year = fiscal_year_in(&text);
            }
            if text.contains("確認用") {
                if self.title_label.is_none() {
                    self.title_label = sheet_label_in(&text);
                }
                if self.title_kind.is_none() {
                    self.title_kind = kind_in(&text);
                }
            }
        }
    }

    fn enter_section(&mut self, line: u64, n: u32, title: String) {
        self.current_section = Some(n);
        self.max_section = self.max_section.max(n);
        let has_items = self
            .out
            .items
            .iter()
            .any(|d| !d.item.gate && d.item.section == n);
        let Some(s) = self.out.sections.iter_mut().find(|s| s.number == n) else {
            self.out.sections.push(ChecklistSection {
                number: n,
                title_ja: title,
                title_en: None,
            });
            return;
        };
        // A heading before any of its items (a field row above the table that looked like one)
        // gives way to the later one.
        if s.title_ja.is_empty() || !has_items {
            s.title_ja = title;
        } else if s.title_ja != title {
            let old = s.title_ja.clone();
            self.warn(
                line,
                format!(
                    "区分 {n} の見出しが「{}」と「{}」の二つあります（前者を使いました）",
                    clip(&old, 40),
                    clip(&title, 40)
                ),
            );
        }
    }

    fn push_gate(&mut self, line: u64, text: String) {
        let item = ChecklistItem {
            id: "gate".to_owned(),
            label: GATE_LABEL.to_owned(),
            section: 0,
            text_ja: text,
            text_en: None,
            device_classes: Vec::new(),
            gate: true,
            guideline_refs: Vec::new(),
            confidence: Confidence::Official,
            source: Some(self.source(line)),
            note_ja: None,
            note_en: None,
            topic: None,
        };
        self.out.items.push(Draft {
            item,
            n: 0,
            line,
            number_col: 0,
            column_classes: None,
            row_classes: Vec::new(),
        });
        self.enter_table();
    }

    /// The cells of a row that name a device class, outside the layout (a) class columns and
    /// other than cell `skip`.
    fn row_classes(&self, cells: &[ECell<'_>], skip: Option<usize>) -> Vec<(u32, DeviceClass)> {
        cells
            .iter()
            .enumerate()
            .filter(|(j, c)| {
                Some(*j) != skip && !self.class_cols.iter().any(|(col, _)| *col == c.col)
            })
            .filter_map(|(_, c)| c.cell.class.map(|k| (c.col, k)))
            .collect()
    }

    fn add_row_classes(&mut self, ci: usize, classes: Vec<(u32, DeviceClass)>) {
        if let Some(d) = self.out.items.get_mut(ci) {
            for c in classes {
                if !d.row_classes.contains(&c) {
                    d.row_classes.push(c);
                }
            }
        }
    }

    fn item_row(
        &mut self,
        line: u64,
        cells: &[ECell<'_>],
        j: usize,
        (prefix, n, style): (Option<u32>, u32, Style),
    ) {
        let Some(number_cell) = cells.get(j).copied() else {
            return;
        };
        // A heading left of the number (a section column merged down over its items).
        if j > 0
            && let Some(first) = cells.first()
            && let Some((h, title)) = parse_heading(
                first.text(),
                cells.get(1).filter(|_| j > 1).map(ECell::text),
            )
            && !(self.notes && h <= self.max_section)
        {
            self.enter_section(line, h, title);
            self.notes = false;
        }
        let Some(section) = prefix.or(self.current_section) else {
            if self.table_started {
                self.warn(
                    line,
                    format!(
                        "番号 {} の項目は区分（1 体制構築 など）の見出しより前にあるため読みませんでした",
                        print_number(None, n, style)
                    ),
                );
            }
            // Else: instructions above the table (① 「はい」に○ …).
            self.chain = None;
            return;
        };
        let label = print_number(Some(section), n, style);

        // Layout (b): the next row of the same item (number merged or repeated).
        if let Some(ci) = self.chain
            && self
                .out
                .items
                .get(ci)
                .is_some_and(|d| d.item.section == section && d.n == n)
        {
            let classes = self.row_classes(cells, Some(j));
            self.add_row_classes(ci, classes);
            return;
        }

        if self.notes {
            let continues = self
                .out
                .items
                .iter()
                .rev()
                .find(|d| !d.item.gate && d.item.section == section)
                .is_some_and(|d| d.n + 1 == n && d.number_col == number_cell.col);
            if !continues {
                let text = cells
                    .iter()
                    .skip(j + 1)
                    .find_map(|c| c.cell.candidate.as_deref())
                    .or(number_cell.cell.rest.as_deref())
                    .unwrap_or_default();
                self.warn(
                    line,
                    format!(
                        "表の下の注記の中の番号付きの行は項目として読みませんでした: 「{} {}」",
                        print_number(None, n, style),
                        clip(text, 30)
                    ),
                );
                return;
            }
            self.notes = false;
        }

        if prefix.is_some() && self.current_section != Some(section) {
            if !self.out.sections.iter().any(|s| s.number == section) {
                self.warn(
                    line,
                    format!(
                        "区分 {section} の見出しが見つかりません（番号 {label} から区分としました）"
                    ),
                );
                self.out.sections.push(ChecklistSection {
                    number: section,
                    title_ja: String::new(),
                    title_en: None,
                });
            }
            self.current_section = Some(section);
            self.max_section = self.max_section.max(section);
        }

        // The text: the rest of the number cell, else the longest text cell to its right.
        let mut refs: Vec<String> = Vec::new();
        let mut add_refs = |r: &[String]| {
            for x in r {
                if !refs.contains(x) && refs.len() < 16 {
                    refs.push(x.clone());
                }
            }
        };
        add_refs(&number_cell.cell.refs);
        let mut best: Option<&str> = None;
        let mut merges_seen: Vec<usize> = number_cell.merge.into_iter().collect();
        for c in cells.iter().skip(j + 1) {
            // A merged range is one cell, however many columns it spans.
            if let Some(m) = c.merge {
                if merges_seen.contains(&m) {
                    continue;
                }
                merges_seen.push(m);
            }
            add_refs(&c.cell.refs);
            if self.class_cols.iter().any(|(col, _)| *col == c.col) {
                continue;
            }
            if let Some(t) = c.cell.candidate.as_deref()
                && best.is_none_or(|b| t.chars().count() > b.chars().count())
            {
                best = Some(t);
            }
        }
        let text = number_cell.cell.rest.as_deref().or(best);

        // The number again: the same item under another device class (forms that group the
        // items by class repeat the number in each group), or a duplicate.
        if let Some(di) = self
            .out
            .items
            .iter()
            .position(|d| !d.item.gate && d.item.section == section && d.n == n)
        {
            let same = text.is_none_or(|t| {
                self.out
                    .items
                    .get(di)
                    .is_some_and(|d| key(t) == key(&d.item.text_ja))
            });
            if same {
                let column_classes =
                    (!self.class_cols.is_empty()).then(|| self.column_classes(cells));
                let row_classes = self.row_classes(cells, Some(j));
                self.add_row_classes(di, row_classes);
                if let Some(d) = self.out.items.get_mut(di)
                    && let Some(more) = column_classes
                {
                    let classes = d.column_classes.get_or_insert_with(Vec::new);
                    for k in more {
                        if !classes.contains(&k) {
                            classes.push(k);
                        }
                    }
                }
                self.chain = Some(di);
            } else {
                let first_line = self.out.items.get(di).map_or(0, |d| d.line);
                self.warn(
                    line,
                    format!(
                        "番号 {label} が重複していて文が違います（行 {first_line} の項目を使い、\
                         この行は読みませんでした）"
                    ),
                );
                self.chain = None;
            }
            return;
        }

        let Some(text) = text else {
            self.warn(
                line,
                format!("番号 {label} の行に項目の文が見つからないため読みませんでした"),
            );
            self.chain = None;
            return;
        };

        let column_classes = (!self.class_cols.is_empty()).then(|| self.column_classes(cells));
        let row_classes = self.row_classes(cells, Some(j));
        match style {
            Style::Paren => self.out.paren += 1,
            Style::Circled => self.out.circled += 1,
        }
        let item = ChecklistItem {
            id: format!("{section}-{n}"),
            label,
            section,
            text_ja: text.to_owned(),
            text_en: None,
            device_classes: Vec::new(),
            gate: false,
            guideline_refs: refs,
            confidence: Confidence::Official,
            source: Some(self.source(line)),
            note_ja: None,
            note_en: None,
            topic: None,
        };
        self.out.items.push(Draft {
            item,
            n,
            line,
            number_col: number_cell.col,
            column_classes,
            row_classes,
        });
        self.chain = Some(self.out.items.len() - 1);
        self.table_started = true;
    }

    /// Layout (a): the classes whose cell on this row is not marked not-applicable (an empty
    /// cell is an answer cell); one merged cell over two or more class columns is a single
    /// answer (no classes), and so is a row where every class column says not applicable.
    fn column_classes(&self, cells: &[ECell<'_>]) -> Vec<DeviceClass> {
        let mut out = Vec::new();
        let mut merges_seen = Vec::new();
        for (col, class) in &self.class_cols {
            let cell = cells.iter().find(|c| c.col == *col);
            if let Some(m) = cell.and_then(|c| c.merge) {
                if merges_seen.contains(&m) {
                    return Vec::new();
                }
                merges_seen.push(m);
            }
            if !cell.is_some_and(|c| c.cell.not_applicable) && !out.contains(class) {
                out.push(*class);
            }
        }
        out
    }

    fn finish(mut self) -> Scanned {
        if let Some(gate_line) = self.pending_gate.take() {
            self.warn(
                gate_line,
                format!(
                    "{GATE_LABEL} の文（医療情報システムを導入、運用している。）が見つからないため\
                     見出しを文としました"
                ),
            );
            self.push_gate(gate_line, GATE_LABEL.to_owned());
        }

        // The sheet's kind and name.
        let (kind, how) = match (kind_in(self.sheet), self.title_kind) {
            (Some(k), _) => (k, "シート名から"),
            (None, Some(k)) => (k, "表題から"),
            (None, None) => (SheetKind::Facility, ""),
        };
        self.out.kind = kind;
        self.out.kind_how = how;
        if how.is_empty() && self.out.items.iter().any(|d| !d.item.gate) {
            self.warn_sheet(
                "医療機関確認用か事業者確認用か分からないため医療機関確認用として読みました"
                    .to_owned(),
            );
        }
        self.out.name_ja = if self.sheet.contains("確認用") {
            self.sheet.to_owned()
        } else {
            self.title_label
                .clone()
                .unwrap_or_else(|| self.sheet.to_owned())
        };

        // Layout (b): the column that names the class on most rows.
        let uses_columns = self.out.items.iter().any(|d| d.column_classes.is_some());
        if !uses_columns {
            let mut counts: BTreeMap<u32, usize> = BTreeMap::new();
            for d in &self.out.items {
                for (col, _) in &d.row_classes {
                    *counts.entry(*col).or_default() += 1;
                }
            }
            self.out.class_column = counts
                .iter()
                .max_by_key(|(col, n)| (**n, std::cmp::Reverse(**col)))
                .map(|(col, _)| *col);
        }
        let class_column = self.out.class_column;
        for d in &mut self.out.items {
            if d.item.gate {
                continue;
            }
            let classes = match &d.column_classes {
                Some(c) => c.clone(),
                None => {
                    let mut v = Vec::new();
                    for (col, k) in &d.row_classes {
                        if Some(*col) == class_column && !v.contains(k) {
                            v.push(*k);
                        }
                    }
                    v
                }
            };
            d.item.device_classes = classes;
        }

        // The gate first, then by section and number (a number repeated in several device
        // class groups is listed once, where it first appeared in its order).
        self.out
            .items
            .sort_by_key(|d| (!d.item.gate, d.item.section, d.n));

        // Gaps in the numbering.
        let mut numbers: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for d in self.out.items.iter().filter(|d| !d.item.gate) {
            numbers.entry(d.item.section).or_default().push(d.n);
        }
        let style = if self.out.circled > self.out.paren {
            Style::Circled
        } else {
            Style::Paren
        };
        for (section, ns) in &mut numbers {
            ns.sort_unstable();
            let max = ns.last().copied().unwrap_or(0);
            let missing: Vec<String> = (1..max)
                .filter(|n| !ns.contains(n))
                .map(|n| print_number(Some(*section), n, style))
                .collect();
            if !missing.is_empty() {
                self.warn_sheet(format!(
                    "区分 {section} に番号 {} の項目がありません",
                    missing.join(", ")
                ));
            }
        }
        self.out
            .sections
            .retain(|s| numbers.contains_key(&s.number));
        self.out.sections.sort_by_key(|s| s.number);
        self.out
    }
}

/// The statement of the gate item in a row (医療情報システムを導入、運用している。).
fn gate_statement(cells: &[ECell<'_>]) -> Option<String> {
    cells
        .iter()
        .filter_map(|c| c.cell.gate_statement.as_deref())
        .max_by_key(|t| t.chars().count())
        .map(str::to_owned)
}

/// `2-(1)`, `2-①`; `(1)` / `①` without a section.
fn print_number(section: Option<u32>, n: u32, style: Style) -> String {
    let number = match style {
        Style::Circled => circled_char(n).map_or_else(|| format!("({n})"), String::from),
        Style::Paren => format!("({n})"),
    };
    match section {
        Some(s) => format!("{s}-{number}"),
        None => number,
    }
}

impl Scanned {
    fn summary_lines(&self) -> Vec<String> {
        let sheet = clip(&self.sheet, 40);
        let items = self.items.len();
        let gate = self.items.iter().find(|d| d.item.gate);
        let header = self
            .header_line
            .map_or_else(|| "見出し行なし".to_owned(), |l| format!("見出し行 {l}"));
        let kind = if self.kind_how.is_empty() {
            format!("{}とみなしました", kind_label(self.kind))
        } else {
            format!("{}（{}）", kind_label(self.kind), self.kind_how)
        };
        let classes = if self.items.iter().any(|d| d.column_classes.is_some()) {
            let names: Vec<&str> = self
                .class_header
                .iter()
                .map(|(_, k)| class_label(*k))
                .collect();
            let lo = self.class_header.iter().map(|(c, _)| *c).min().unwrap_or(0);
            let hi = self.class_header.iter().map(|(c, _)| *c).max().unwrap_or(0);
            let cols = if lo == hi {
                format!("列 {}", col_letters(lo))
            } else {
                format!("列 {}〜{}", col_letters(lo), col_letters(hi))
            };
            format!("機器区分 {}（{cols}）", names.join("/"))
        } else if let Some(col) = self.class_column {
            let mut names: Vec<&str> = Vec::new();
            for d in &self.items {
                for k in &d.item.device_classes {
                    if !names.contains(&class_label(*k)) {
                        names.push(class_label(*k));
                    }
                }
            }
            format!(
                "機器区分 列 {} に行ごとの記載（{}）",
                col_letters(col),
                names.join("/")
            )
        } else {
            "機器区分の記載なし".to_owned()
        };
        let name = if self.name_ja == self.sheet {
            String::new()
        } else {
            format!(", 名称「{}」", clip(&self.name_ja, 40))
        };
        let mut lines = vec![format!(
            "シート「{sheet}」: {kind}{name}, {header}, 項目 {items} 件{}, {classes}",
            match gate {
                Some(g) => format!("（{GATE_LABEL} 行 {} を含む）", g.line),
                None => format!("（{GATE_LABEL} なし）"),
            }
        )];
        let sections: Vec<String> = self
            .sections
            .iter()
            .map(|s| {
                let n = self
                    .items
                    .iter()
                    .filter(|d| !d.item.gate && d.item.section == s.number)
                    .count();
                if s.title_ja.is_empty() {
                    format!("{}（見出しなし）{n} 件", s.number)
                } else {
                    format!("{} {} {n} 件", s.number, clip(&s.title_ja, 40))
                }
            })
            .collect();
        lines.push(format!("シート「{sheet}」の区分: {}", sections.join(" / ")));
        lines
    }

    fn into_sheet(self) -> ChecklistSheet {
        ChecklistSheet {
            kind: self.kind,
            name_ja: self.name_ja,
            name_en: None,
            sections: self.sections,
            items: self.items.into_iter().map(|d| d.item).collect(),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use std::io::Cursor;

    use rust_xlsxwriter::{Format, Workbook, Worksheet};

    use super::*;

    /// Writes the non-empty texts of one row.
    fn put(ws: &mut Worksheet, row: u32, cells: &[&str]) {
        for (c, v) in cells.iter().enumerate() {
            if !v.is_empty() {
                ws.write_string(row, c as u16, *v).unwrap();
            }
        }
    }

    fn read_with(bytes: &[u8], year: Option<&str>) -> FormReading {
        read_checklist_form("form.xlsx", Cursor::new(bytes), "R9", year)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn read(bytes: &[u8]) -> FormReading {
        read_with(bytes, None)
    }

    fn read_err(bytes: &[u8]) -> IngestError {
        match read_checklist_form("form.xlsx", Cursor::new(bytes), "R9", None) {
            Ok(r) => panic!("read: {:?}", r.summary),
            Err(e) => e,
        }
    }

    fn ids(sheet: &ChecklistSheet) -> Vec<&str> {
        sheet.items.iter().map(|i| i.id.as_str()).collect()
    }

    fn item<'a>(sheet: &'a ChecklistSheet, id: &str) -> &'a ChecklistItem {
        sheet
            .items
            .iter()
            .find(|i| i.id == id)
            .unwrap_or_else(|| panic!("no item {id} in {:?}", ids(sheet)))
    }

    fn sections(sheet: &ChecklistSheet) -> Vec<(u32, &str)> {
        sheet
            .sections
            .iter()
            .map(|s| (s.number, s.title_ja.as_str()))
            .collect()
    }

    use DeviceClass::{All, Network, Pc, Server};

    const TEXT_LEDGER: &str = "サーバ、端末PC、ネットワーク機器の台帳管理を行っている。";
    const TEXT_REMOTE: &str =
        "リモートメンテナンス（保守）を利用している機器の有無を事業者に確認した。";
    const TEXT_ACCESS: &str =
        "利用者の職種・担当業務別の情報区分毎のアクセス利用権限を設定している。";
    const TEXT_PATCH: &str =
        "セキュリティパッチ（最新ファームウェアや更新プログラム）を適用している。";
    const TEXT_MANAGER: &str = "医療情報システム安全管理責任者を設置している。";
    const TEXT_CONTACT: &str = "インシデント発生時における組織内と外部関係機関への連絡体制図がある";
    const TEXT_BACKUP: &str = "インシデント発生時に診療を継続するために必要な情報を検討し、データやシステムのバックアップの実施と復旧手順を確認している。";
    const TEXT_BCP: &str = "サイバー攻撃を想定した事業継続計画（BCP）を策定している。";

    /// Test 1's form: title rows, a header row naming the device classes (layout a), the gate
    /// item, sections 1–3.
    fn plain_form() -> Vec<u8> {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("医療機関確認用").unwrap();
        put(
            ws,
            0,
            &["医療機関におけるサイバーセキュリティ対策チェックリスト（令和6年度版）"],
        );
        put(ws, 1, &["【医療機関確認用】"]);
        put(
            ws,
            2,
            &[
                "医療機関名：",
                "",
                "確認者：",
                "",
                "",
                "記入日：　年　月　日",
            ],
        );
        put(
            ws,
            4,
            &[
                "番号",
                "項目",
                "サーバ",
                "端末ＰＣ",
                "ネットワーク機器",
                "医療情報システム全般",
                "はい・いいえ",
                "確認日",
                "目標日",
            ],
        );
        put(
            ws,
            5,
            &[
                "医療情報システムの有無",
                "医療情報システムを導入、運用している。",
                "－",
                "－",
                "－",
                "－",
                "はい・いいえ",
            ],
        );
        put(ws, 6, &["1 体制構築"]);
        put(
            ws,
            7,
            &["(1)", TEXT_MANAGER, "－", "－", "－", "－", "はい・いいえ"],
        );
        put(ws, 8, &["2 医療情報システムの管理・運用"]);
        put(
            ws,
            9,
            &["(1)", TEXT_LEDGER, "－", "－", "－", "", "はい・いいえ"],
        );
        put(
            ws,
            10,
            &["（2）", TEXT_REMOTE, "-", "―", "—", "", "はい・いいえ"],
        );
        put(ws, 11, &["(3)", TEXT_ACCESS, "", "", "－", "－"]);
        put(
            ws,
            12,
            &[
                "(4)",
                "アクセスログを管理している。",
                "",
                "／",
                "対象外",
                "該当なし",
            ],
        );
        // × is an answer (a shaded "no" in some forms), not "not applicable".
        put(ws, 13, &["(5)", TEXT_PATCH, "×", "", "", "/"]);
        put(ws, 14, &["3．インシデント発生に備えた対応"]);
        put(ws, 15, &["(1)", TEXT_CONTACT, "－", "－", "－", "－"]);
        put(ws, 16, &["(2)", TEXT_BACKUP]);
        // One merged answer cell over the class columns: one answer for the item.
        ws.merge_range(16, 2, 16, 5, "はい・いいえ", &Format::new())
            .unwrap();
        put(
            ws,
            17,
            &[
                "(3)",
                TEXT_BCP,
                "－",
                "－",
                "－",
                "－",
                "",
                "",
                "",
                "▶企画管理編 11.2 ▶システム運用編 11.1",
            ],
        );
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn plain_facility_sheet_with_device_class_columns() {
        let r = read(&plain_form());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let e = &r.edition;
        assert_eq!(e.id, "R9");
        assert_eq!(
            e.title_ja,
            "医療機関におけるサイバーセキュリティ対策チェックリスト（令和6年度版）"
        );
        assert_eq!(e.fiscal_year_ja, "令和6年度");
        assert_eq!(e.numbering, "paren");
        assert_eq!(e.sheets.len(), 1);
        let s = &e.sheets[0];
        assert_eq!(
            (s.kind, s.name_ja.as_str()),
            (SheetKind::Facility, "医療機関確認用")
        );
        assert_eq!(
            sections(s),
            [
                (1, "体制構築"),
                (2, "医療情報システムの管理・運用"),
                (3, "インシデント発生に備えた対応")
            ]
        );
        assert_eq!(
            ids(s),
            [
                "gate", "1-1", "2-1", "2-2", "2-3", "2-4", "2-5", "3-1", "3-2", "3-3"
            ]
        );
        let gate = item(s, "gate");
        assert!(gate.gate);
        assert_eq!(gate.section, 0);
        assert_eq!(gate.label, "医療情報システムの有無");
        assert_eq!(gate.text_ja, "医療情報システムを導入、運用している。");
        assert_eq!(gate.source.as_deref(), Some("form.xlsx 医療機関確認用!6"));
        assert!(gate.device_classes.is_empty());

        let i = item(s, "2-2");
        assert_eq!((i.label.as_str(), i.section, i.gate), ("2-(2)", 2, false));
        assert_eq!(i.text_ja, TEXT_REMOTE);
        assert_eq!(i.source.as_deref(), Some("form.xlsx 医療機関確認用!11"));
        assert_eq!(item(s, "1-1").text_ja, TEXT_MANAGER);
        assert_eq!(item(s, "1-1").device_classes, []);
        assert_eq!(item(s, "2-1").device_classes, [All]);
        assert_eq!(item(s, "2-2").device_classes, [All]);
        assert_eq!(item(s, "2-3").device_classes, [Server, Pc]);
        assert_eq!(item(s, "2-4").device_classes, [Server]);
        assert_eq!(item(s, "2-5").device_classes, [Server, Pc, Network]);
        assert_eq!(item(s, "3-1").device_classes, []);
        assert_eq!(item(s, "3-2").device_classes, []);
        assert_eq!(item(s, "3-2").text_ja, TEXT_BACKUP);
        let bcp = item(s, "3-3");
        assert_eq!(bcp.text_ja, TEXT_BCP);
        assert_eq!(
            bcp.guideline_refs,
            ["企画管理編 11.2", "システム運用編 11.1"]
        );
        assert!(s.items.iter().all(|i| i.confidence == Confidence::Official));

        let summary = r.summary.join("\n");
        assert!(summary.contains("見出し行 5"), "{summary}");
        assert!(summary.contains("項目 10 件"), "{summary}");
        assert!(
            summary.contains(
                "機器区分 サーバ/端末PC/ネットワーク機器/医療情報システム全般（列 C〜F）"
            ),
            "{summary}"
        );
        assert!(summary.contains("年度: 令和6年度（表題から）"), "{summary}");
        assert!(
            summary.contains("2 医療情報システムの管理・運用 5 件"),
            "{summary}"
        );

        // A 年度 given by the caller wins, with a warning when the title says otherwise.
        let r = read_with(&plain_form(), Some("令和7年度"));
        assert_eq!(r.edition.fiscal_year_ja, "令和7年度");
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("令和6年度"));
    }

    #[test]
    fn merged_number_cells_and_a_class_column_per_row() {
        let mut wb = Workbook::new();
        let f = Format::new();
        let ws = wb.add_worksheet().set_name("Sheet1").unwrap();
        put(
            ws,
            0,
            &["医療機関等におけるサイバーセキュリティ対策チェックリスト"],
        );
        put(ws, 1, &["（医療機関等確認用）"]);
        put(
            ws,
            3,
            &[
                "項番",
                "チェック項目",
                "対象",
                "はい・いいえ",
                "確認日\n1回目",
                "確認日\n2回目",
                "目標日",
            ],
        );
        // The gate's label on its own merged row, the statement below.
        ws.merge_range(4, 0, 4, 6, "医療情報システムの有無", &f)
            .unwrap();
        put(
            ws,
            5,
            &[
                "",
                "医療情報システムを導入、\n運用している。",
                "",
                "はい・いいえ",
            ],
        );
        ws.merge_range(6, 0, 6, 6, "１．体制構築", &f).unwrap();
        put(ws, 7, &["(1)", TEXT_MANAGER, "", "はい・いいえ"]);
        ws.merge_range(8, 0, 8, 6, "２．医療情報システムの管理・運用", &f)
            .unwrap();
        put(
            ws,
            9,
            &["(1)", TEXT_LEDGER, "医療情報システム全般", "はい・いいえ"],
        );
        // Number and text merged over the item's rows, one class per row.
        ws.merge_range(10, 0, 11, 0, "(2)", &f).unwrap();
        ws.merge_range(10, 1, 11, 1, TEXT_ACCESS, &f).unwrap();
        put(ws, 10, &["", "", "サーバ", "はい・いいえ"]);
        put(ws, 11, &["", "", "端末PC", "はい・いいえ"]);
        ws.merge_range(12, 0, 14, 0, "（３）", &f).unwrap();
        ws.merge_range(12, 1, 14, 1, TEXT_PATCH, &f).unwrap();
        put(ws, 12, &["", "", "サーバ", "はい・いいえ"]);
        put(ws, 13, &["", "", "端末ＰＣ", "はい・いいえ"]);
        put(ws, 14, &["", "", "ネットワーク機器", "はい・いいえ"]);
        put(
            ws,
            15,
            &[
                "(4)",
                "接続元制限を実施している。",
                "ネットワーク機器",
                "はい・いいえ",
            ],
        );
        // Number blank (not merged) on the second row.
        put(
            ws,
            16,
            &[
                "(5)",
                "バックグラウンドで動作している不要なソフトウェア及びサービスを停止している。",
                "サーバ",
                "はい・いいえ",
            ],
        );
        put(ws, 17, &["", "", "端末 PC", "はい・いいえ"]);
        // Number repeated on the second row.
        put(
            ws,
            18,
            &[
                "(6)",
                "アクセスログを管理している。",
                "サーバ",
                "はい・いいえ",
            ],
        );
        put(ws, 19, &["(6)", "", "【端末PC】", "はい・いいえ"]);
        ws.merge_range(20, 0, 20, 6, "３．インシデント発生に備えた対応", &f)
            .unwrap();
        put(ws, 21, &["(1)", TEXT_CONTACT, "", "はい・いいえ"]);
        let bytes = wb.save_to_buffer().unwrap();
        let r = read(&bytes);
        // No 年度 anywhere: empty, with a warning.
        assert_eq!(r.warnings, ["年度が表題にも指定にもないため空にしました"]);
        assert_eq!(r.edition.fiscal_year_ja, "");
        let s = &r.edition.sheets[0];
        assert_eq!(
            (s.kind, s.name_ja.as_str()),
            (SheetKind::Facility, "医療機関等確認用")
        );
        assert_eq!(
            ids(s),
            [
                "gate", "1-1", "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "3-1"
            ]
        );
        let gate = item(s, "gate");
        assert_eq!(gate.text_ja, "医療情報システムを導入、運用している。");
        assert_eq!(gate.source.as_deref(), Some("form.xlsx Sheet1!5"));
        assert_eq!(item(s, "1-1").device_classes, []);
        assert_eq!(item(s, "2-1").device_classes, [All]);
        assert_eq!(item(s, "2-2").device_classes, [Server, Pc]);
        assert_eq!(item(s, "2-2").text_ja, TEXT_ACCESS);
        assert_eq!(item(s, "2-3").device_classes, [Server, Pc, Network]);
        assert_eq!(item(s, "2-3").label, "2-(3)");
        assert_eq!(
            item(s, "2-3").source.as_deref(),
            Some("form.xlsx Sheet1!13")
        );
        assert_eq!(item(s, "2-4").device_classes, [Network]);
        assert_eq!(item(s, "2-5").device_classes, [Server, Pc]);
        assert_eq!(item(s, "2-6").device_classes, [Server, Pc]);
        assert_eq!(item(s, "3-1").device_classes, []);
        assert_eq!(sections(s)[1], (2, "医療情報システムの管理・運用"));
        let summary = r.summary.join("\n");
        assert!(summary.contains("医療機関確認用（表題から）"), "{summary}");
        assert!(summary.contains("見出し行 4"), "{summary}");
        assert!(
            summary.contains("機器区分 列 C に行ごとの記載（医療情報システム全般/サーバ/端末PC/ネットワーク機器）"),
            "{summary}"
        );
        let r = read_with(&bytes, Some("令和7年度"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.edition.fiscal_year_ja, "令和7年度");
    }

    /// The R6 form is reported to list section 2 by device class: a class column merged over
    /// each group, the section merged down column A, and the same number again in each group.
    #[test]
    fn items_grouped_by_device_class_repeat_their_number() {
        let mut wb = Workbook::new();
        let f = Format::new();
        let ws = wb.add_worksheet().set_name("医療機関確認用").unwrap();
        put(
            ws,
            0,
            &["医療機関におけるサイバーセキュリティ対策チェックリスト"],
        );
        put(
            ws,
            2,
            &[
                "区分",
                "対象",
                "番号",
                "チェック項目",
                "はい・いいえ",
                "確認日",
                "目標日",
            ],
        );
        ws.merge_range(3, 0, 3, 2, "医療情報システムの有無", &f)
            .unwrap();
        put(
            ws,
            3,
            &[
                "",
                "",
                "",
                "医療情報システムを導入、運用している。",
                "はい・いいえ",
            ],
        );
        put(
            ws,
            4,
            &["1 体制構築", "", "(1)", TEXT_MANAGER, "はい・いいえ"],
        );
        let rows: [(&str, &str); 14] = [
            ("(1)", TEXT_LEDGER),
            ("(2)", TEXT_REMOTE),
            (
                "(3)",
                "事業者から製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出してもらう。",
            ),
            ("(4)", TEXT_ACCESS),
            (
                "(5)",
                "退職者や使用していないアカウント等、不要なアカウントを削除している。",
            ),
            ("(6)", "アクセスログを管理している。"),
            ("(7)", TEXT_PATCH),
            (
                "(9)",
                "バックグラウンドで動作している不要なソフトウェア及びサービスを停止している。",
            ),
            ("(4)", TEXT_ACCESS),
            (
                "(5)",
                "退職者や使用していないアカウント等、不要なアカウントを削除している。",
            ),
            ("(7)", TEXT_PATCH),
            (
                "(9)",
                "バックグラウンドで動作している不要なソフトウェア及びサービスを停止している。",
            ),
            ("(7)", TEXT_PATCH),
            ("(8)", "接続元制限を実施している。"),
        ];
        ws.merge_range(5, 0, 18, 0, "2 医療情報システムの管理・運用", &f)
            .unwrap();
        ws.merge_range(5, 1, 7, 1, "医療情報システム全般", &f)
            .unwrap();
        ws.merge_range(8, 1, 12, 1, "サーバ", &f).unwrap();
        ws.merge_range(13, 1, 16, 1, "端末PC", &f).unwrap();
        ws.merge_range(17, 1, 18, 1, "ネットワーク機器", &f)
            .unwrap();
        for (i, (n, text)) in rows.iter().enumerate() {
            put(ws, 5 + i as u32, &["", "", n, text, "はい・いいえ"]);
        }
        ws.merge_range(19, 0, 21, 0, "3 インシデント発生に備えた対応", &f)
            .unwrap();
        put(ws, 19, &["", "", "(1)", TEXT_CONTACT, "はい・いいえ"]);
        put(ws, 20, &["", "", "(2)", TEXT_BACKUP, "はい・いいえ"]);
        put(ws, 21, &["", "", "(3)", TEXT_BCP, "はい・いいえ"]);
        let r = read_with(&wb.save_to_buffer().unwrap(), Some("令和6年度"));
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let s = &r.edition.sheets[0];
        assert_eq!(
            ids(s),
            [
                "gate", "1-1", "2-1", "2-2", "2-3", "2-4", "2-5", "2-6", "2-7", "2-8", "2-9",
                "3-1", "3-2", "3-3"
            ]
        );
        assert_eq!(
            item(s, "gate").source.as_deref(),
            Some("form.xlsx 医療機関確認用!4")
        );
        assert_eq!(item(s, "1-1").device_classes, []);
        for id in ["2-1", "2-2", "2-3"] {
            assert_eq!(item(s, id).device_classes, [All], "{id}");
        }
        assert_eq!(item(s, "2-4").device_classes, [Server, Pc]);
        assert_eq!(item(s, "2-5").device_classes, [Server, Pc]);
        assert_eq!(item(s, "2-6").device_classes, [Server]);
        assert_eq!(item(s, "2-7").device_classes, [Server, Pc, Network]);
        assert_eq!(item(s, "2-8").device_classes, [Network]);
        assert_eq!(item(s, "2-9").device_classes, [Server, Pc]);
        // Where the number first appears.
        assert_eq!(
            item(s, "2-8").source.as_deref(),
            Some("form.xlsx 医療機関確認用!19")
        );
        assert_eq!(
            item(s, "2-9").source.as_deref(),
            Some("form.xlsx 医療機関確認用!13")
        );
        assert_eq!(item(s, "3-3").device_classes, []);
        assert_eq!(sections(s).len(), 3);
        let summary = r.summary.join("\n");
        assert!(
            summary.contains("機器区分 列 B に行ごとの記載"),
            "{summary}"
        );
    }

    #[test]
    fn circled_numbers_full_width_digits_and_a_fourth_section() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("医療機関・薬局確認用").unwrap();
        put(
            ws,
            0,
            &["医療機関・薬局におけるサイバーセキュリティ対策チェックリスト（令和８年度版）"],
        );
        put(
            ws,
            2,
            &["番号", "チェック項目", "はい", "いいえ", "確認日", "目標日"],
        );
        put(ws, 3, &["【１】体制構築"]);
        put(ws, 4, &["1-①", TEXT_MANAGER]);
        put(ws, 5, &["【2】医療情報システムの管理・運用"]);
        put(ws, 6, &["2-①", TEXT_LEDGER]);
        // Number and text in one cell, full-width digits and dash.
        put(ws, 7, &[&format!("２－②　{TEXT_REMOTE}")]);
        // The text two cells to the right.
        put(
            ws,
            8,
            &[
                "2-③",
                "",
                "事業者から製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出してもらう。",
            ],
        );
        put(
            ws,
            9,
            &[
                "2‐④",
                "パスワードは英数字、記号が混在した8文字以上とし、定期的に変更している。\n※二要素認証、または13文字以上の場合は定期的な変更は不要",
            ],
        );
        put(ws, 10, &["3　インシデント発生に備えた対応"]);
        put(ws, 11, &["①", TEXT_CONTACT]);
        put(ws, 12, &["②", TEXT_BACKUP]);
        put(ws, 13, &["４．規程類の整備"]);
        put(
            ws,
            14,
            &["4-①", "医療情報システムの運用管理規程を整備している。"],
        );
        let r = read(&wb.save_to_buffer().unwrap());
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        let e = &r.edition;
        assert_eq!(e.numbering, "circled");
        assert_eq!(e.fiscal_year_ja, "令和8年度");
        let s = &e.sheets[0];
        assert_eq!(s.kind, SheetKind::Facility);
        assert_eq!(s.name_ja, "医療機関・薬局確認用");
        assert_eq!(
            sections(s),
            [
                (1, "体制構築"),
                (2, "医療情報システムの管理・運用"),
                (3, "インシデント発生に備えた対応"),
                (4, "規程類の整備")
            ]
        );
        assert_eq!(
            ids(s),
            ["1-1", "2-1", "2-2", "2-3", "2-4", "3-1", "3-2", "4-1"]
        );
        let labels: Vec<&str> = s.items.iter().map(|i| i.label.as_str()).collect();
        assert_eq!(
            labels,
            ["1-①", "2-①", "2-②", "2-③", "2-④", "3-①", "3-②", "4-①"]
        );
        assert_eq!(item(s, "2-2").text_ja, TEXT_REMOTE);
        assert!(item(s, "2-3").text_ja.starts_with("事業者から"));
        assert_eq!(
            item(s, "2-4").text_ja,
            "パスワードは英数字、記号が混在した8文字以上とし、定期的に変更している。※二要素認証、または13文字以上の場合は定期的な変更は不要"
        );
        assert_eq!(item(s, "4-1").section, 4);
        assert!(s.items.iter().all(|i| i.device_classes.is_empty()));
        let summary = r.summary.join("\n");
        assert!(summary.contains("① 形式"), "{summary}");
        assert!(summary.contains("機器区分の記載なし"), "{summary}");
        assert!(summary.contains(&format!("{GATE_LABEL} なし")), "{summary}");
    }

    #[test]
    fn notes_below_the_table_and_blank_rows_are_not_items() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("医療機関確認用").unwrap();
        put(ws, 0, &["※ 立入検査時、本チェックリストを確認します"]);
        put(
            ws,
            1,
            &["医療機関におけるサイバーセキュリティ対策チェックリスト"],
        );
        put(ws, 2, &["No.", "項目", "はい・いいえ", "確認日", "目標日"]);
        put(ws, 3, &["1 体制構築"]);
        put(ws, 4, &["(1)", TEXT_MANAGER]);
        put(ws, 5, &["2 医療情報システムの管理・運用"]);
        put(ws, 6, &["(1)", TEXT_LEDGER]);
        // Row 8 is empty.
        put(ws, 8, &["(2)", TEXT_REMOTE]);
        // A remark inside the table; the numbering goes on below it.
        put(ws, 9, &["※ (2)は保守契約のある場合のみ回答してください。"]);
        put(ws, 10, &["(3)", TEXT_ACCESS]);
        put(ws, 11, &["3 インシデント発生に備えた対応"]);
        put(ws, 12, &["(1)", TEXT_CONTACT]);
        put(
            ws,
            14,
            &["※1 サーバ、端末PC、ネットワーク機器の別に回答してください。"],
        );
        put(ws, 15, &["※2 「いいえ」の場合は目標日を記入してください。"]);
        put(ws, 16, &["備考"]);
        put(ws, 17, &["(1)", "この様式は立入検査の際に確認します。"]);
        put(ws, 18, &["①", "記入した内容は保存してください。"]);
        put(ws, 19, &["以上"]);
        put(ws, 20, &["2. 問い合わせ先"]);
        put(ws, 21, &["（注）本様式は令和6年度版です。"]);
        let r = read(&wb.save_to_buffer().unwrap());
        let s = &r.edition.sheets[0];
        assert_eq!(ids(s), ["1-1", "2-1", "2-2", "2-3", "3-1"]);
        assert_eq!(
            item(s, "2-2").source.as_deref(),
            Some("form.xlsx 医療機関確認用!9")
        );
        assert_eq!(
            r.edition.title_ja,
            "医療機関におけるサイバーセキュリティ対策チェックリスト"
        );
        assert_eq!(r.warnings.len(), 3, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("行 18") && r.warnings[0].contains("注記"));
        assert!(r.warnings[1].contains("行 19") && r.warnings[1].contains("注記"));
        assert!(r.warnings[2].contains("年度"));
        assert_eq!(sections(s).len(), 3);
        assert!(r.summary.join("\n").contains("見出し行 3"));
    }

    #[test]
    fn facility_and_vendor_sheets() {
        let mut wb = Workbook::new();
        let cover = wb.add_worksheet().set_name("表紙").unwrap();
        put(
            cover,
            0,
            &["サイバーセキュリティ対策チェックリスト 令和7年度版"],
        );
        put(cover, 2, &["医療機関名"]);
        let ws = wb.add_worksheet().set_name("医療機関確認用").unwrap();
        put(
            ws,
            0,
            &["医療機関におけるサイバーセキュリティ対策チェックリスト"],
        );
        put(
            ws,
            2,
            &[
                "医療情報システムの有無",
                "医療情報システムを導入、運用している。",
            ],
        );
        put(ws, 3, &["1 体制構築"]);
        put(ws, 4, &["1-(1)", TEXT_MANAGER]);
        put(ws, 5, &["2 医療情報システムの管理・運用"]);
        put(ws, 6, &["2-(1)", TEXT_LEDGER]);
        let ws = wb.add_worksheet().set_name("事業者確認用").unwrap();
        put(ws, 0, &["【事業者確認用】"]);
        put(ws, 1, &["事業者名："]);
        put(ws, 3, &["1．体制構築"]);
        put(
            ws,
            4,
            &[
                "(1)",
                "事業者内に、医療情報システム等の提供に係る管理責任者を設置している。",
            ],
        );
        put(ws, 5, &["2．医療情報システムの管理・運用"]);
        put(
            ws,
            6,
            &[
                "(1)",
                "医療機関に製造業者/サービス事業者による医療情報セキュリティ開示書（MDS/SDS）を提出した。",
            ],
        );
        let hidden = wb.add_worksheet().set_name("リスト").unwrap();
        put(hidden, 0, &["1 体制構築"]);
        put(hidden, 1, &["(1)", "非表示のシートの行"]);
        hidden.set_hidden(true);
        let r = read(&wb.save_to_buffer().unwrap());
        let e = &r.edition;
        let kinds: Vec<(SheetKind, &str)> = e
            .sheets
            .iter()
            .map(|s| (s.kind, s.name_ja.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (SheetKind::Facility, "医療機関確認用"),
                (SheetKind::Vendor, "事業者確認用")
            ]
        );
        assert_eq!(ids(&e.sheets[0]), ["gate", "1-1", "2-1"]);
        assert_eq!(e.sheets[0].items[1].label, "1-(1)");
        let vendor = e.sheet(SheetKind::Vendor).unwrap();
        assert_eq!(ids(vendor), ["1-1", "2-1"]);
        assert!(vendor.items[1].text_ja.starts_with("医療機関に製造業者"));
        assert_eq!(
            vendor.items[1].source.as_deref(),
            Some("form.xlsx 事業者確認用!7")
        );
        // The title of a sheet that was read wins over the cover's; the 年度 comes from the cover.
        assert_eq!(
            e.title_ja,
            "医療機関におけるサイバーセキュリティ対策チェックリスト"
        );
        assert_eq!(e.fiscal_year_ja, "令和7年度");
        assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
        assert!(r.warnings[0].contains("「表紙」"));
        let summary = r.summary.join("\n");
        assert!(summary.contains("非表示のシート「リスト」"), "{summary}");
        assert!(
            summary.contains("事業者確認用（シート名から）"),
            "{summary}"
        );
    }

    #[test]
    fn numbered_rows_without_text_and_duplicates_are_warnings() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("チェックリスト").unwrap();
        put(ws, 0, &["(1)", "区分より前の行（表の上の説明）"]);
        put(ws, 1, &["1 体制構築"]);
        put(ws, 2, &["(1)", TEXT_MANAGER]);
        put(ws, 3, &["(2)", "", "はい・いいえ"]);
        put(ws, 4, &["(3)", TEXT_LEDGER]);
        put(ws, 5, &["(1)", "同じ番号の別の行です。"]);
        put(ws, 6, &["(5)", TEXT_REMOTE]);
        // A section known only from the prefix of the number.
        put(ws, 7, &["3-(1)", TEXT_CONTACT]);
        let r = read(&wb.save_to_buffer().unwrap());
        let s = &r.edition.sheets[0];
        assert_eq!(ids(s), ["1-1", "1-3", "1-5", "3-1"]);
        assert_eq!(sections(s), [(1, "体制構築"), (3, "")]);
        let w = r.warnings.join("\n");
        assert!(
            w.contains("行 4: 番号 1-(2) の行に項目の文が見つからない"),
            "{w}"
        );
        assert!(
            w.contains("行 6: 番号 1-(1) が重複していて文が違います（行 3"),
            "{w}"
        );
        assert!(w.contains("行 8: 区分 3 の見出しが見つかりません"), "{w}");
        assert!(
            w.contains("区分 1 に番号 1-(2), 1-(4) の項目がありません"),
            "{w}"
        );
        assert!(w.contains("医療機関確認用として読みました"), "{w}");
        assert!(!w.contains("行 1:"), "{w}");
    }

    /// A zip archive (stored) of the given files.
    fn zip(files: &[(&str, &[u8])]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut crc = 0xFFFF_FFFF_u32;
            for b in data {
                crc ^= u32::from(*b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        }
        let mut out = Vec::new();
        let mut central = Vec::new();
        for (name, data) in files {
            let offset = out.len() as u32;
            let (crc, len, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
            out.extend(0x0403_4b50_u32.to_le_bytes());
            out.extend([20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend(crc.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend(len.to_le_bytes());
            out.extend(name_len.to_le_bytes());
            out.extend(0_u16.to_le_bytes());
            out.extend(name.as_bytes());
            out.extend(*data);
            central.extend(0x0201_4b50_u32.to_le_bytes());
            central.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend(crc.to_le_bytes());
            central.extend(len.to_le_bytes());
            central.extend(len.to_le_bytes());
            central.extend(name_len.to_le_bytes());
            central.extend([0; 12]);
            central.extend(offset.to_le_bytes());
            central.extend(name.as_bytes());
        }
        let (cd_offset, cd_len) = (out.len() as u32, central.len() as u32);
        out.extend(central);
        out.extend(0x0605_4b50_u32.to_le_bytes());
        out.extend([0, 0, 0, 0]);
        out.extend((files.len() as u16).to_le_bytes());
        out.extend((files.len() as u16).to_le_bytes());
        out.extend(cd_len.to_le_bytes());
        out.extend(cd_offset.to_le_bytes());
        out.extend(0_u16.to_le_bytes());
        out
    }

    #[test]
    fn garbage_is_a_clear_error_never_a_panic() {
        let e = read_err(b"1 \xe4\xbd\x93\xe5\x88\xb6,(1) text\n");
        assert_eq!((e.file(), e.line(), e.field()), ("form.xlsx", 1, "xlsx"));
        assert!(e.to_string().contains("not a zip archive"), "{e}");
        assert!(read_err(b"").to_string().contains("not a zip archive"));

        let e = read_err(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0]);
        assert!(
            e.to_string()
                .contains("old .xls workbook or a password-protected"),
            "{e}"
        );

        let e = read_err(&zip(&[("hello.txt", b"(1) not a workbook")]));
        assert_eq!(e.field(), "xlsx");
        assert!(
            e.to_string().contains("not a readable xlsx workbook"),
            "{e}"
        );
        let e = read_err(b"PK\x03\x04 broken");
        assert!(
            e.to_string().contains("not a readable xlsx workbook"),
            "{e}"
        );

        // A workbook without items (a ledger).
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet().set_name("台帳").unwrap();
        put(ws, 0, &["機器名", "IPアドレス"]);
        put(ws, 1, &["電子カルテサーバ", "192.168.1.10"]);
        let e = read_err(&wb.save_to_buffer().unwrap());
        assert_eq!((e.line(), e.field()), (1, "checklist"));
        assert!(
            e.to_string()
                .contains("no checklist items found: is this the official checklist form? (worksheets read: 台帳;"),
            "{e}"
        );

        // A cell beyond the column limit.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        put(ws, 0, &["1 体制構築"]);
        ws.write_string(1, MAX_COLUMNS as u16, "(1) 遠すぎる列")
            .unwrap();
        let e = read_err(&wb.save_to_buffer().unwrap());
        assert!(e.is_refusal());
        assert_eq!((e.line(), e.field()), (2, "Sheet1!IW2"));

        // Cut or damaged copies of a real form: an error or a reading, never a panic.
        let form = plain_form();
        for cut in (0..form.len()).step_by(97) {
            let r = read_checklist_form("form.xlsx", Cursor::new(&form[..cut]), "R9", None);
            if let Err(e) = r {
                assert_eq!(e.file(), "form.xlsx");
            }
        }
        for at in (30..form.len()).step_by(61) {
            let mut bad = form.clone();
            bad[at] ^= 0x5A;
            let _ = read_checklist_form("form.xlsx", Cursor::new(&bad), "R9", None);
        }
    }

    #[test]
    fn hostile_sizes_are_refused_or_cheap() {
        let f = Format::new();
        // One long text merged over a whole block: seen everywhere, looked into once.
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        let long = format!("(1){}", "あ".repeat(MAX_ANALYSED_BYTES));
        ws.merge_range(0, 0, 499, 199, &long, &f).unwrap();
        for r in 0..500 {
            ws.write_string(r, 200, "1 体制構築").unwrap();
        }
        let e = read_err(&wb.save_to_buffer().unwrap());
        assert_eq!(e.field(), "checklist", "{e}");

        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..=MAX_MERGED_REGIONS as u32 {
            ws.merge_range(r, 0, r, 1, "x", &f).unwrap();
        }
        let e = read_err(&wb.save_to_buffer().unwrap());
        assert!(
            e.is_refusal() && e.to_string().contains("merged cell ranges"),
            "{e}"
        );

        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        for r in 0..=MAX_FORM_ROWS as u32 {
            ws.write_string(r, 0, "x").unwrap();
        }
        let e = read_err(&wb.save_to_buffer().unwrap());
        assert!(e.is_refusal(), "{e}");
        assert_eq!(e.line(), MAX_FORM_ROWS as u64 + 1);
    }

    /// The invariants the fuzz target (`fuzz/fuzz_targets/checklist_form.rs`) checks.
    fn check_invariants(result: Result<FormReading, IngestError>) {
        match result {
            Ok(reading) => {
                let e = &reading.edition;
                assert!(e.numbering == "paren" || e.numbering == "circled");
                assert!(!e.sheets.is_empty());
                for sheet in &e.sheets {
                    assert!(sheet.items.iter().any(|i| !i.gate));
                    let mut ids = std::collections::BTreeSet::new();
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
                assert_eq!(e.file(), "fuzz.xlsx");
                assert!(e.line() >= 1);
            }
        }
    }

    #[test]
    fn written_workbooks_keep_the_fuzz_invariants() {
        let inputs = [
            "項目\tサーバ\t端末PC\n1 体制構築\n(1)\t文です。\t－\n(1)\t重複\n2-①\t別の区分の文\n※1\t注",
            "(1)\t見出しより前\n【1】\t体制構築\n⑴\tテキスト\t▶\n3-(99)\tあい\n(100)\tx",
            "医療情報システムの有無\n\n1．体制構築\n①\tサーバ\n①\t端末PC\n\t\tネットワーク機器",
            "\n\n\n",
            "2-(1)\n2-(1)\tテキスト\n備考\n2-(2)\tテキスト",
        ];
        for input in inputs {
            let mut lines = input
                .lines()
                .map(|l| l.split('\t').map(str::to_owned).collect::<Vec<_>>());
            let headers = lines.next().unwrap_or_default();
            let rows: Vec<Vec<String>> = lines.collect();
            let bytes = crate::write_xlsx("医療機関確認用", &headers, &rows).unwrap();
            let result = read_checklist_form("fuzz.xlsx", Cursor::new(bytes), "R9", None);
            check_invariants(result);
            check_invariants(read_checklist_form(
                "fuzz.xlsx",
                Cursor::new(input.as_bytes()),
                "R9",
                None,
            ));
        }
    }

    #[test]
    fn number_and_heading_shapes() {
        let n = |s| parse_item_number(s).map(|n| (n.section, n.n, n.style, n.rest));
        assert_eq!(n("(1)"), Some((None, 1, Style::Paren, "")));
        assert_eq!(n("（１２）　文"), Some((None, 12, Style::Paren, "文")));
        assert_eq!(n("⑴"), Some((None, 1, Style::Paren, "")));
        assert_eq!(n("⑳."), Some((None, 20, Style::Circled, "")));
        assert_eq!(n("㉑"), Some((None, 21, Style::Circled, "")));
        assert_eq!(n("2-(3)．文"), Some((Some(2), 3, Style::Paren, "文")));
        assert_eq!(n("２－（３）"), Some((Some(2), 3, Style::Paren, "")));
        assert_eq!(n("2ー①"), Some((Some(2), 1, Style::Circled, "")));
        for not in [
            "1 体制構築",
            "※1 注記",
            "(注1)",
            "(0)",
            "(100)",
            "0-(1)",
            "1-2",
            "2-",
            "（令和6年度）",
            "",
        ] {
            assert_eq!(n(not), None, "{not}");
        }
        let h = |a, b| parse_heading(a, b);
        let t = |n: u32, t: &str| Some((n, t.to_owned()));
        assert_eq!(h("1 体制構築", None), t(1, "体制構築"));
        assert_eq!(h("1．体制構築", None), t(1, "体制構築"));
        assert_eq!(h("１.体制構築", None), t(1, "体制構築"));
        assert_eq!(h("【1】体制構築", None), t(1, "体制構築"));
        assert_eq!(h("1　体制構築", None), t(1, "体制構築"));
        assert_eq!(
            h("２．医療情報システムの管理・運用", None),
            t(2, "医療情報システムの管理・運用")
        );
        assert_eq!(
            h("3", Some("インシデント発生に備えた対応")),
            t(3, "インシデント発生に備えた対応")
        );
        assert_eq!(h("【4】", Some("規程")), t(4, "規程"));
        for (a, b) in [
            ("1回目", None),
            ("1 回目", None),
            ("(1) 体制構築", None),
            ("1 医療情報システム安全管理責任者を設置している。", None),
            ("21 多すぎる", None),
            ("1", None),
            ("1", Some("(1)")),
            ("2025/4/1", None),
        ] {
            assert_eq!(h(a, b), None, "{a}");
        }
        assert!(is_not_applicable("－") && is_not_applicable(" / ") && is_not_applicable("対象外"));
        assert!(!is_not_applicable("×") && !is_not_applicable("") && !is_not_applicable("はい"));
        assert_eq!(class_of("端末 ＰＣ"), Some(Pc));
        assert_eq!(class_of("【サーバー】"), Some(Server));
        assert_eq!(
            fiscal_year_in("チェックリスト（令和１０年度版）").as_deref(),
            Some("令和10年度")
        );
        assert_eq!(
            sheet_label_in("チェックリスト（医療機関・薬局確認用）").as_deref(),
            Some("医療機関・薬局確認用")
        );
        assert_eq!(col_letters(0), "A");
        assert_eq!(col_letters(25), "Z");
        assert_eq!(col_letters(26), "AA");
        assert_eq!(col_letters(255), "IV");
    }
}
