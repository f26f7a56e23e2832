//! `mamori checklist …`: the MHLW checklist — show with evidence, answer, export for the 保健所,
//! re-import, load an edition from the official form, carry answers between editions, roadmap.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{DeviceClass, Id, SheetKind};
use mamori_store::Store;
use mamori_store::checklist::{ChecklistView, EvidenceStatus, NewAnswer};

use crate::cli::{CliResult, Failure, Format, io_fail};
use crate::output;

#[derive(Subcommand)]
pub enum ChecklistCmd {
    /// 項目・回答・記録との照合を表示 / Show the items, answers and what the records say
    Show(ShowArgs),
    /// 回答を記録 / Record an answer
    Answer(AnswerArgs),
    /// 保健所提出用に書き出し（公式様式の配置） / Export in the official layout
    Export(ExportArgs),
    /// 書き出して記入したファイルから回答を読み込む / Read the answers back from a filled-in export
    Import {
        file: PathBuf,
    },
    /// 厚生労働省の公式様式（xlsx）から新しい版を読み込む / Load a new edition from the official MHLW form
    LoadEdition(LoadArgs),
    /// 版の一覧 / List the editions
    Editions(FormatOnly),
    /// 前年度版の回答を新しい版へ引き継ぐ / Carry answers over to a newer edition
    Carry {
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
    },
    /// 次に取り組むこと（成熟度の向上、リスク低減の大きい順） / What to do next, largest risk reduction first
    Roadmap(RoadmapArgs),
    /// 回答に添付した根拠ファイルを取り出す / Save an evidence file attached to an answer
    File {
        /// ファイル番号（show --format json の files[].id） / File id
        id: Id,
        /// 保存先（既定: 元のファイル名） / Where to save it (default: its name)
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// サイバー攻撃を想定したBCP策定の確認表（平時・検知・初動対応・復旧処理・事後対応） / The BCP 確認表
    Bcp(FormatOnly),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SheetArg {
    Facility,
    Vendor,
}

impl SheetArg {
    fn kind(self) -> SheetKind {
        match self {
            SheetArg::Facility => SheetKind::Facility,
            SheetArg::Vendor => SheetKind::Vendor,
        }
    }
}

#[derive(Args)]
pub struct FormatOnly {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ShowArgs {
    /// 版（R6, R7 …。既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
    /// シート / Sheet
    #[arg(long, value_enum, default_value = "facility")]
    sheet: SheetArg,
    /// 事業者名（事業者確認用シート） / Vendor name (vendor sheet)
    #[arg(long)]
    vendor: Option<String>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum YesNo {
    Yes,
    No,
}

#[derive(Args)]
pub struct AnswerArgs {
    /// 項番（2-(5)、2-⑤、2-5 のいずれでも可） / Item (2-(5), 2-⑤ or 2-5)
    item: String,
    /// 回答 / Answer
    #[arg(long, value_enum)]
    answer: YesNo,
    /// 機器区分（項目が区分ごとに回答する場合） / Device class, for items answered per class
    #[arg(long, value_enum)]
    device_class: Option<ClassArg>,
    /// 確認日 YYYY-MM-DD（既定: 今日） / Date checked (default: today in Japan)
    #[arg(long)]
    date: Option<String>,
    /// 1回目・2回目 / Round
    #[arg(long, default_value_t = 1)]
    round: u8,
    /// 目標日（いいえの場合） / Target date when the answer is no
    #[arg(long)]
    target_date: Option<String>,
    /// 成熟度 1〜3（はいの場合） / Maturity level 1–3 of a yes
    #[arg(long)]
    maturity: Option<u8>,
    /// 備考 / Comment
    #[arg(long)]
    comment: Option<String>,
    /// 根拠（文書名・URL） / Evidence (document or link)
    #[arg(long)]
    evidence: Option<String>,
    /// 根拠のファイルを添付（複数可、各 10 MiB まで） / Attach an evidence file (repeatable, 10 MiB each)
    #[arg(long)]
    evidence_file: Vec<PathBuf>,
    /// 版（既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
    /// シート / Sheet
    #[arg(long, value_enum, default_value = "facility")]
    sheet: SheetArg,
    /// 事業者名（事業者確認用シート） / Vendor name (vendor sheet)
    #[arg(long)]
    vendor: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClassArg {
    All,
    Server,
    Pc,
    Network,
}

impl ClassArg {
    fn class(self) -> DeviceClass {
        match self {
            ClassArg::All => DeviceClass::All,
            ClassArg::Server => DeviceClass::Server,
            ClassArg::Pc => DeviceClass::Pc,
            ClassArg::Network => DeviceClass::Network,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Html,
}

#[derive(Args)]
pub struct ExportArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "xlsx")]
    format: ExportFormat,
    /// 出力先（既定: checklist-版.xlsx） / Output file
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// 版（既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
    /// 事業者名：その事業者の事業者確認用シートと対象機器 / Vendor: its vendor sheet and devices
    #[arg(long)]
    vendor: Option<String>,
}

#[derive(Args)]
pub struct LoadArgs {
    /// 厚生労働省の様式（xlsx）、または版のデータ（TOML・JSON） / The official form (xlsx), or an edition as data (TOML, JSON)
    file: PathBuf,
    /// 新しい版のID（例 R8） / Id of the new edition (e.g. R8)
    #[arg(long)]
    id: String,
    /// 年度（例 令和8年度） / Fiscal year label
    #[arg(long)]
    fiscal_year: Option<String>,
    /// 読み取り結果を確認したうえで保存する / Store it (without this, only show what was understood)
    #[arg(long)]
    yes: bool,
}

#[derive(Args)]
pub struct RoadmapArgs {
    /// 版（既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

fn fail(lang: Lang) -> impl Fn(mamori_store::StoreError) -> Failure {
    move |e| Failure::store(lang, &e)
}

async fn edition_id(store: &Store, lang: Lang, given: &Option<String>) -> Result<String, Failure> {
    match given {
        Some(e) => Ok(store.checklist_edition(e).await.map_err(fail(lang))?.id),
        None => Ok(store.latest_checklist_edition().await.map_err(fail(lang))?.id),
    }
}

async fn vendor_id(store: &Store, lang: Lang, name: &Option<String>) -> Result<Option<Id>, Failure> {
    let Some(name) = name else { return Ok(None) };
    let vendors = store.list_vendors().await.map_err(fail(lang))?;
    vendors
        .iter()
        .find(|v| v.name == *name || v.name.contains(name.as_str()))
        .map(|v| Some(v.id))
        .ok_or_else(|| Failure(tf(lang, "checklist_cli.no_vendor", &[("name", name)]), 1))
}


pub async fn run(store: &Store, lang: Lang, who: &str, cmd: &ChecklistCmd) -> CliResult {
    match cmd {
        ChecklistCmd::Show(a) => {
            let edition = edition_id(store, lang, &a.edition).await?;
            let vendor = vendor_id(store, lang, &a.vendor).await?;
            let view = store.checklist_view(lang, &edition, a.sheet.kind(), vendor, mamori_web::today_jst_date()).await.map_err(fail(lang))?;
            if a.format == Format::Json {
                return output::json(&mut std::io::stdout().lock(), &view).map_err(io_fail);
            }
            print_view(lang, &view)
        }
        ChecklistCmd::Answer(a) => {
            let edition = edition_id(store, lang, &a.edition).await?;
            let vendor = vendor_id(store, lang, &a.vendor).await?;
            let ed = store.checklist_edition(&edition).await.map_err(fail(lang))?;
            let item = ed.sheet(a.sheet.kind()).and_then(|s| mamori_store::checklist::find_item(s, &a.item));
            let item_id = item.map(|i| i.id.clone());
            // An item answered per class needs the class; one answered once takes none.
            let class = match a.device_class {
                Some(c) => Some(c.class()),
                None => {
                    match item.map(|i| i.device_classes.as_slice()) {
                        Some([one]) => Some(*one),
                        Some([]) | None => None,
                        Some(many) => {
                            let list: Vec<&str> = many.iter().map(|c| c.code()).collect();
                            return Err(Failure(tf(lang, "checklist_cli.class_needed", &[("list", &list.join(", "))]), 2));
                        }
                    }
                }
            };
            let mut files = Vec::with_capacity(a.evidence_file.len());
            for path in &a.evidence_file {
                let bytes = std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
                files.push((path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), bytes));
            }
            let answer = NewAnswer {
                files,
                edition: edition.clone(),
                sheet: a.sheet.kind(),
                vendor_id: vendor,
                item: a.item.clone(),
                device_class: class,
                round: a.round,
                yes: a.answer == YesNo::Yes,
                checked_on: Some(a.date.clone().unwrap_or_else(mamori_web::today_jst)),
                target_date: a.target_date.clone(),
                maturity: a.maturity,
                comment: a.comment.clone(),
                evidence: a.evidence.clone(),
            };
            let n = store.answer_checklist(who, std::slice::from_ref(&answer)).await.map_err(fail(lang))?;
            println!("{}", tf(lang, if n > 0 { "checklist_cli.recorded" } else { "checklist_cli.unchanged" }, &[("item", &a.item), ("edition", &edition)]));
            // Say at once when the records contradict a yes.
            if answer.yes && answer.sheet == SheetKind::Facility {
                let view = store.checklist_view(lang, &edition, SheetKind::Facility, None, mamori_web::today_jst_date()).await.map_err(fail(lang))?;
                if let Some(iv) = view.items.iter().find(|iv| Some(&iv.item.id) == item_id.as_ref())
                    && iv.warning
                {
                    println!("⚠ {}", t(lang, "checklist_cli.contradicted"));
                    for f in iv.evidence.iter().flat_map(|e| e.facts.iter()) {
                        println!("  - {f}");
                    }
                }
            }
            Ok(())
        }
        ChecklistCmd::Export(a) => {
            let edition = edition_id(store, lang, &a.edition).await?;
            let vendor = vendor_id(store, lang, &a.vendor).await?;
            let (bytes, ext) = match a.format {
                ExportFormat::Xlsx => (store.checklist_xlsx(&edition, vendor).await.map_err(fail(lang))?, "xlsx"),
                ExportFormat::Html => {
                    let html = mamori_web::checklist::print_html(store, lang, &edition, vendor, mamori_web::today_jst_date()).await.map_err(fail(lang))?;
                    (html.into_bytes(), "html")
                }
            };
            let path = a.output.clone().unwrap_or_else(|| PathBuf::from(format!("checklist-{edition}.{ext}")));
            std::fs::write(&path, bytes).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
            println!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
            Ok(())
        }
        ChecklistCmd::Import { file } => {
            let name = file.display().to_string();
            let bytes = std::fs::read(file).map_err(|e| Failure(format!("{name}: {e}"), 1))?;
            let report = store.import_checklist_xlsx(who, &name, &bytes).await.map_err(fail(lang))?;
            if !report.rejected.is_empty() {
                let mut msg = tf(lang, "checklist_cli.import_rejected", &[("n", &report.rejected.len())]);
                for r in &report.rejected {
                    msg.push_str(&format!("\n  {}:{}: {}: {}", r.file, r.line, r.field, r.reason));
                }
                return Err(Failure(msg, 1));
            }
            println!("{}", tf(lang, "checklist_cli.imported", &[("read", &report.read), ("recorded", &report.recorded)]));
            Ok(())
        }
        ChecklistCmd::LoadEdition(a) => {
            let name = a.file.display().to_string();
            let bytes = std::fs::read(&a.file).map_err(|e| Failure(format!("{name}: {e}"), 1))?;
            // An edition as data (TOML like content/checklist/r7.toml, or JSON), or the official
            // form (xlsx).
            let ext = a.file.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
            let reading = if ext == "toml" || ext == "json" {
                let text = String::from_utf8(bytes.clone()).map_err(|e| Failure(format!("{name}: {e}"), 1))?;
                let mut edition: mamori_model::checklist::ChecklistEdition = if ext == "toml" {
                    toml::from_str(&text).map_err(|e| Failure(format!("{name}: {e}"), 1))?
                } else {
                    serde_json::from_str(&text).map_err(|e| Failure(format!("{name}: {e}"), 1))?
                };
                edition.id.clone_from(&a.id);
                if let Some(y) = &a.fiscal_year {
                    edition.fiscal_year_ja.clone_from(y);
                }
                let summary = edition
                    .sheets
                    .iter()
                    .map(|s| format!("{}: {}", s.name_ja, tf(lang, "checklist_cli.items", &[("n", &s.items.len())])))
                    .collect();
                mamori_ingest::checklist_form::FormReading { edition, summary, warnings: Vec::new() }
            } else {
                mamori_ingest::checklist_form::read_checklist_form(
                    &name,
                    std::io::Cursor::new(&bytes),
                    &a.id,
                    a.fiscal_year.as_deref(),
                )
                .map_err(|e| Failure(tf(lang, "import.unreadable", &[("detail", &e)]), 1))?
            };
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", tf(lang, "checklist_cli.understood", &[("file", &name)])).map_err(io_fail)?;
            for s in &reading.summary {
                writeln!(out, "  {s}").map_err(io_fail)?;
            }
            for w in &reading.warnings {
                writeln!(out, "  ⚠ {w}").map_err(io_fail)?;
            }
            for sheet in &reading.edition.sheets {
                writeln!(out, "\n【{}】", sheet.name_ja).map_err(io_fail)?;
                for i in &sheet.items {
                    let classes: Vec<String> = i.device_classes.iter().map(|c| t(lang, &c.label_key()).to_owned()).collect();
                    let classes = if classes.is_empty() { String::new() } else { format!("［{}］", classes.join("・")) };
                    writeln!(out, "  {} {}{classes}", i.label, i.text_ja).map_err(io_fail)?;
                }
            }
            if !a.yes {
                writeln!(out, "\n{}", t(lang, "checklist_cli.confirm_with_yes")).map_err(io_fail)?;
                return Ok(());
            }
            let sha = mamori_store::source::sha256_hex(&bytes);
            store.save_checklist_edition(who, &reading.edition, &name, &sha).await.map_err(fail(lang))?;
            writeln!(out, "\n{}", tf(lang, "checklist_cli.edition_saved", &[("id", &reading.edition.id)])).map_err(io_fail)?;
            Ok(())
        }
        ChecklistCmd::Editions(f) => {
            let editions = store.checklist_editions().await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> = editions
                .iter()
                .map(|e| {
                    let items: usize = e.sheets.iter().map(|s| s.items.len()).sum();
                    vec![e.id.clone(), e.title_ja.clone(), e.fiscal_year_ja.clone(), items.to_string()]
                })
                .collect();
            let header = [t(lang, "checklist_cli.h_id"), t(lang, "checklist_cli.h_title"), t(lang, "checklist_cli.h_year"), t(lang, "checklist_cli.h_items")];
            crate::cli::emit(f.format, &header, &rows, &editions)
        }
        ChecklistCmd::Carry { from, to } => {
            let report = store.carry_checklist_answers(who, from, to).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "checklist_cli.carried", &[("n", &report.carried.len()), ("from", from), ("to", to)]));
            if !report.to_answer.is_empty() {
                println!("{}", tf(lang, "checklist_cli.to_answer", &[("list", &report.to_answer.join(", "))]));
            }
            Ok(())
        }
        ChecklistCmd::File { id, output } => {
            let (_, name, bytes) = store.checklist_file(*id).await.map_err(fail(lang))?;
            let path = output.clone().unwrap_or_else(|| PathBuf::from(&name));
            std::fs::write(&path, bytes).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
            println!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
            Ok(())
        }
        ChecklistCmd::Bcp(f) => {
            let table = mamori_store::checklist::bcp_table().ok_or_else(|| Failure("content/checklist/bcp-r6.toml".into(), 1))?;
            if f.format == Format::Json {
                return output::json(&mut std::io::stdout().lock(), table).map_err(io_fail);
            }
            let ja = lang == Lang::Ja;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", if ja { &table.title_ja } else { &table.title_en }).map_err(io_fail)?;
            writeln!(out, "{}", if ja { &table.source_note_ja } else { &table.source_note_en }).map_err(io_fail)?;
            for p in &table.phases {
                writeln!(out, "\n■ {} {}", p.number, if ja { &p.name_ja } else { &p.name_en }).map_err(io_fail)?;
                for i in &p.items {
                    let text = if ja { &i.text_ja } else { i.text_en.as_ref().unwrap_or(&i.text_ja) };
                    writeln!(out, "  {} {text} ［{}］", i.id, t(lang, &i.confidence.label_key())).map_err(io_fail)?;
                }
                if let Some(note) = if ja { &p.note_ja } else { &p.note_en } {
                    writeln!(out, "  ※ {note}").map_err(io_fail)?;
                }
            }
            Ok(())
        }
        ChecklistCmd::Roadmap(a) => {
            let edition = edition_id(store, lang, &a.edition).await?;
            let steps = store.checklist_roadmap(lang, &edition, mamori_web::today_jst_date()).await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> = steps
                .iter()
                .enumerate()
                .map(|(n, s)| {
                    vec![
                        (n + 1).to_string(),
                        s.items.join(", "),
                        format!("{} → {}", s.level, s.next_level),
                        s.next_step.clone(),
                        t(lang, &format!("party.{}", s.party)).to_owned(),
                    ]
                })
                .collect();
            let header = [t(lang, "checklist_cli.h_rank"), t(lang, "checklist_cli.h_item"), t(lang, "checklist_cli.h_level"), t(lang, "checklist_cli.h_next"), t(lang, "checklist_cli.h_party")];
            crate::cli::emit(a.format, &header, &rows, &steps)
        }
    }
}

fn print_view(lang: Lang, v: &ChecklistView) -> CliResult {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}【{}】", v.edition_title, v.sheet_name).map_err(io_fail)?;
    writeln!(
        out,
        "{}",
        tf(lang, "checklist_cli.summary", &[("answered", &v.answered), ("lines", &v.lines), ("warnings", &v.warnings)])
    )
    .map_err(io_fail)?;
    let mut section = None;
    for iv in &v.items {
        if iv.item.section != 0 && section != Some(iv.item.section) {
            section = Some(iv.item.section);
            if let Some(s) = v.sections.iter().find(|s| s.number == iv.item.section) {
                writeln!(out, "\n■ {} {}", s.number, if lang == Lang::Ja { &s.title_ja } else { s.title_en.as_ref().unwrap_or(&s.title_ja) }).map_err(io_fail)?;
            }
        }
        let text = if lang == Lang::Ja { &iv.item.text_ja } else { iv.item.text_en.as_ref().unwrap_or(&iv.item.text_ja) };
        let unsure = !matches!(
            iv.item.confidence,
            mamori_model::Confidence::Official | mamori_model::Confidence::VerbatimPrimary | mamori_model::Confidence::VerbatimSecondary
        );
        let mark = if unsure { format!(" ［{}］", t(lang, &iv.item.confidence.label_key())) } else { String::new() };
        writeln!(out, "{} {text}{mark}", iv.item.label).map_err(io_fail)?;
        for l in &iv.lines {
            let class = l.device_class.map(|c| t(lang, &c.label_key()).to_owned()).unwrap_or_else(|| "—".to_owned());
            let show = |a: Option<&mamori_store::checklist::ChecklistAnswer>| match a {
                Some(a) => format!(
                    "{}{}",
                    t(lang, if a.yes { "checklist_cli.yes" } else { "checklist_cli.no" }),
                    a.checked_on.as_deref().map(|d| format!("（{d}）")).unwrap_or_default()
                ),
                None => t(lang, "checklist_cli.unanswered").to_owned(),
            };
            let target = l.latest().and_then(|a| a.target_date.clone()).map(|d| tf(lang, "checklist_cli.target", &[("date", &d)])).unwrap_or_default();
            writeln!(out, "    {class}: {} / {} {target}", show(l.round1.as_ref()), show(l.round2.as_ref())).map_err(io_fail)?;
            for f in l.round1.iter().chain(l.round2.iter()).flat_map(|a| a.files.iter()) {
                writeln!(out, "      📎 #{} {} ({} bytes)", f.id, f.file_name, f.size).map_err(io_fail)?;
            }
        }
        if let Some(e) = &iv.evidence {
            let status = match e.status {
                EvidenceStatus::Supports => t(lang, "checklist_cli.ev_supports"),
                EvidenceStatus::Contradicts => t(lang, "checklist_cli.ev_contradicts"),
                EvidenceStatus::NoData => t(lang, "checklist_cli.ev_nodata"),
            };
            writeln!(out, "    {}: {status}", t(lang, "checklist_cli.evidence")).map_err(io_fail)?;
            for f in &e.facts {
                writeln!(out, "      - {f}").map_err(io_fail)?;
            }
        }
        if iv.warning {
            writeln!(out, "    ⚠ {}", t(lang, "checklist_cli.contradicted")).map_err(io_fail)?;
        }
    }
    Ok(())
}
