//! `mamori asset import|export|template|sources`, `mamori unregistered …` and `mamori stocktake`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{AssetKind, Id, LedgerField, SourceKind};
use mamori_store::source::{
    FileInput, ImportFailure, Input, ReadOptions, check_input, detect_kind, import_input, ledger_rows,
};
use mamori_store::{ImportControl, ImportOptions, ImportPlan, Store, StocktakeReport};

use crate::cli::{CliResult, Failure, Format, emit, io_fail};
use crate::output;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum InputFormat {
    Auto,
    Xlsx,
    Csv,
    Nmap,
    IscLeases,
    KeaLeases,
    DnsmasqLeases,
    Arp,
    Cyclonedx,
}

impl InputFormat {
    fn kind(self) -> Option<SourceKind> {
        match self {
            InputFormat::Auto => None,
            InputFormat::Xlsx => Some(SourceKind::Xlsx),
            InputFormat::Csv => Some(SourceKind::Csv),
            InputFormat::Nmap => Some(SourceKind::Nmap),
            InputFormat::IscLeases => Some(SourceKind::IscLeases),
            InputFormat::KeaLeases => Some(SourceKind::KeaLeases),
            InputFormat::DnsmasqLeases => Some(SourceKind::DnsmasqLeases),
            InputFormat::Arp => Some(SourceKind::Arp),
            InputFormat::Cyclonedx => Some(SourceKind::Cyclonedx),
        }
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// 読み込むファイル（複数可） / Files to import
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// 入力形式（既定: 内容から判定） / Input format (default: detected from the content)
    #[arg(long, value_enum, default_value = "auto")]
    input_format: InputFormat,
    /// 確認のみ（何も書き込まない） / Preview only: write nothing
    #[arg(long)]
    dry_run: bool,
    /// 台帳の列の対応付け「列名=項目」（項目: name, ip, mac, … または attribute） / Ledger column mapping `header=field`
    #[arg(long = "map", value_name = "列名=field")]
    map: Vec<String>,
    /// SBOM が記述する資産の ID / The asset an SBOM describes
    #[arg(long)]
    asset: Option<Id>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// 詳細をすべて表示 / List every detail, not only the first 20 of each kind
    #[arg(long)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Xlsx,
    Csv,
    Json,
}

#[derive(Args)]
pub struct ExportArgs {
    /// 形式 / Format
    #[arg(long, value_enum, default_value = "xlsx")]
    format: ExportFormat,
    /// 出力先（省略時は標準出力） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum UnregisteredCmd {
    /// 未登録機器の一覧 / List unregistered devices
    List {
        /// 採用・除外済みも表示 / Include adopted and rejected devices
        #[arg(long)]
        all: bool,
        /// 出力形式 / Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// 資産台帳に登録 / Adopt into the ledger
    Adopt {
        id: Id,
        /// 名称（省略時はホスト名） / Name (default: the host name)
        #[arg(long)]
        name: Option<String>,
        /// 種類 / Kind
        #[arg(long)]
        kind: Option<AssetKind>,
        /// 管理者 / Owner
        #[arg(long)]
        owner: Option<String>,
        /// 設置場所 / Location
        #[arg(long)]
        location: Option<String>,
    },
    /// 院内の機器ではない等の理由で除外 / Reject (not ours, not to be tracked)
    Reject {
        id: Id,
        /// 理由 / Reason
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Args)]
pub struct StocktakeArgs {
    /// 未確認とみなす日数 / Days after which an unseen asset or unused account is listed
    #[arg(long, default_value_t = mamori_store::DEFAULT_STOCKTAKE_DAYS)]
    days: i64,
    /// 基準日（既定: 今日） / Reference date YYYY-MM-DD (default: today in Japan)
    #[arg(long)]
    date: Option<String>,
    /// 記録しない（確認のみ） / Do not record the stocktake
    #[arg(long)]
    no_record: bool,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Progress bar on a terminal, Ctrl-C cancels.
struct CliControl {
    bar: ProgressBar,
    cancel: Arc<AtomicBool>,
    lang: Lang,
}

impl ImportControl for CliControl {
    fn progress(&self, phase: &'static str, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.bar.set_message(t(self.lang, &format!("import.phase_{phase}")).to_owned());
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

fn parse_maps(lang: Lang, maps: &[String]) -> Result<Vec<(String, Option<LedgerField>)>, Failure> {
    maps.iter()
        .map(|m| {
            mamori_ingest::ledger::parse_field_override(m)
                .map_err(|e| Failure(tf(lang, "import.bad_map", &[("map", m), ("detail", &e)]), 2))
        })
        .collect()
}

pub async fn import(store: &Store, lang: Lang, who: &str, a: &ImportArgs) -> CliResult {
    let opts = ReadOptions { format: a.input_format.kind(), map: parse_maps(lang, &a.map)? };
    // Ctrl-C from here on cancels: while files are checked it stops before anything is
    // imported, during an import the store rolls the transaction back.
    let cancel = Arc::new(AtomicBool::new(false));
    {
        let listening = tokio::signal::ctrl_c();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if listening.await.is_ok() {
                cancel.store(true, Ordering::Relaxed);
            }
        });
    }
    // Every file must open and be of a format mamori reads; with several files, each is read
    // through once (nothing kept) so that one that cannot be read stops the command before
    // anything is written.
    let mut inputs: Vec<Arc<dyn Input>> = Vec::with_capacity(a.files.len());
    for f in &a.files {
        let (path, o, several) = (f.clone(), opts.clone(), a.files.len() > 1);
        let input = tokio::task::spawn_blocking(move || -> Result<FileInput, Failure> {
            let input = FileInput::open_path(&path).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
            let checked = if several { check_input(&input, &o) } else { detect_kind(&input, &o) };
            checked.map_err(|e| unreadable_failure(lang, &e))?;
            Ok(input)
        })
        .await
        .map_err(|e| Failure(e.to_string(), 1))??;
        if cancel.load(Ordering::Relaxed) {
            return Err(Failure::store(lang, &mamori_store::StoreError::Cancelled));
        }
        inputs.push(Arc::new(input));
    }
    let mut plans = Vec::new();
    for input in inputs {
        let bar = if std::io::stderr().is_terminal() && a.format != Format::Json {
            ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let control = CliControl { bar, cancel: cancel.clone(), lang };
        let imported = import_input(
            store,
            who,
            input,
            &opts,
            &ImportOptions { dry_run: a.dry_run, target_asset: a.asset },
            &control,
        )
        .await
        .map_err(|e| match e {
            ImportFailure::Read(e) => unreadable_failure(lang, &e),
            ImportFailure::Store(e) => Failure::store(lang, &e),
        })?;
        control.bar.finish_and_clear();
        if a.format != Format::Json {
            if let Some(m) = &imported.mapping {
                print_mapping(lang, m)?;
            }
            print_plan(lang, &imported.plan, a.verbose)?;
        }
        plans.push(imported.plan);
    }
    if a.format == Format::Json {
        let mut out = std::io::stdout().lock();
        output::json(&mut out, &plans).map_err(io_fail)?;
    }
    Ok(())
}

fn unreadable_failure(lang: Lang, e: &mamori_ingest::IngestError) -> Failure {
    Failure(tf(lang, "import.unreadable", &[("detail", e)]), 1)
}

fn print_mapping(lang: Lang, m: &mamori_store::source::ColumnMapping) -> CliResult {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", tf(lang, "import.mapping", &[("line", &m.header_line)])).map_err(io_fail)?;
    for (h, f) in m.headers.iter().zip(&m.fields) {
        let target = match f {
            Some(f) => format!("{} ({})", t(lang, &f.label_key()), f.code()),
            None => t(lang, "import.as_attribute").to_owned(),
        };
        writeln!(out, "  {h} → {target}").map_err(io_fail)?;
    }
    Ok(())
}

fn print_plan(lang: Lang, p: &ImportPlan, verbose: bool) -> CliResult {
    let mut out = std::io::stdout().lock();
    let c = &p.counts;
    let head = tf(
        lang,
        "import.summary",
        &[
            ("file", &p.source.file_name),
            ("format", &t(lang, &format!("source_kind.{}", p.source.kind.code()))),
            ("created", &c.created),
            ("updated", &c.updated),
            ("unchanged", &c.unchanged),
            ("flagged", &c.flagged),
            ("flagged_new", &c.flagged_new),
            ("conflicts", &c.conflicts),
            ("rejected", &c.rejected),
        ],
    );
    writeln!(out, "{head}").map_err(io_fail)?;
    if c.ignored > 0 {
        writeln!(out, "  {}", tf(lang, "import.ignored", &[("n", &c.ignored)])).map_err(io_fail)?;
    }
    let limit = if verbose { usize::MAX } else { 20 };
    for x in p.created.iter().take(limit) {
        let id = x.asset_id.map(|i| format!("#{i} ")).unwrap_or_default();
        let addr = [x.ip.as_deref(), x.mac.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        writeln!(out, "  + {}: {id}{} {addr}", tf(lang, "import.line", &[("n", &x.line)]), x.name).map_err(io_fail)?;
    }
    for x in p.updated.iter().take(limit) {
        let fields = x.changes.keys().map(|k| t(lang, &format!("field.{k}")).to_owned()).collect::<Vec<_>>().join(", ");
        writeln!(
            out,
            "  ~ {}: #{} {} [{}] {fields}",
            tf(lang, "import.line", &[("n", &x.line)]),
            x.asset_id,
            x.name,
            t(lang, &format!("match_reason.{}", x.reason.code())),
        )
        .map_err(io_fail)?;
    }
    for x in p.flagged.iter().take(limit) {
        let what = [x.hostname.as_deref(), x.ip.as_deref(), x.mac.as_deref(), x.mac_vendor.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let tag = if x.new { t(lang, "import.flag_new") } else { t(lang, "import.flag_again") };
        let random = if x.randomized_mac { t(lang, "import.randomized_mac") } else { "" };
        writeln!(out, "  ? {}: {tag} {what}{random}", tf(lang, "import.line", &[("n", &x.line)])).map_err(io_fail)?;
    }
    for x in p.conflicts.iter().take(limit) {
        writeln!(
            out,
            "  ! {}: {} ({})",
            tf(lang, "import.line", &[("n", &x.line)]),
            t(lang, &format!("conflict.{}", x.code)),
            x.detail
        )
        .map_err(io_fail)?;
    }
    for x in p.rejected.iter().take(limit) {
        writeln!(out, "  × {}:{}: {}: {}", x.file, x.line, x.field, x.reason).map_err(io_fail)?;
    }
    if p.dry_run {
        writeln!(out, "{}", t(lang, "import.dry_run")).map_err(io_fail)?;
    }
    Ok(())
}

pub async fn export(store: &Store, lang: Lang, who: &str, a: &ExportArgs) -> CliResult {
    let assets = store.all_assets().await.map_err(|e| Failure::store(lang, &e))?;
    let segments = store.list_segments().await.map_err(|e| Failure::store(lang, &e))?;
    // The ledger lists the facility's weak points: who took a copy is recorded.
    let mut detail = mamori_model::Detail::new();
    let format = match a.format {
        ExportFormat::Xlsx => "xlsx",
        ExportFormat::Csv => "csv",
        ExportFormat::Json => "json",
    };
    detail.insert("format".into(), serde_json::Value::String(format.to_owned()));
    detail.insert("assets".into(), serde_json::Value::from(assets.len()));
    if let Some(path) = &a.output {
        detail.insert("file".into(), serde_json::Value::String(path.display().to_string()));
    }
    store.audit_event(who, "asset.export", "asset", None, detail).await.map_err(|e| Failure::store(lang, &e))?;
    let bytes: Vec<u8> = match a.format {
        ExportFormat::Json => serde_json::to_vec_pretty(&assets).map_err(|e| Failure(e.to_string(), 1))?,
        ExportFormat::Csv => {
            let (headers, rows) = ledger_rows(lang, &assets, &segments);
            mamori_store::source::ledger_csv(&headers, &rows).map_err(|e| Failure(e, 1))?
        }
        ExportFormat::Xlsx => {
            let (headers, rows) = ledger_rows(lang, &assets, &segments);
            if a.output.is_none() && std::io::stdout().is_terminal() {
                return Err(Failure(t(lang, "export.need_output").to_owned(), 2));
            }
            mamori_ingest::ledger::write_xlsx(t(lang, "export.sheet_name"), &headers, &rows)
                .map_err(|e| Failure(e, 1))?
        }
    };
    write_out(a.output.as_deref(), &bytes)?;
    if let Some(path) = &a.output {
        eprintln!("{}", tf(lang, "export.done", &[("file", &path.display()), ("n", &assets.len())]));
    }
    Ok(())
}

/// Writes next to the target and renames, so a crash never leaves half a file.
fn write_out(path: Option<&Path>, bytes: &[u8]) -> CliResult {
    match path {
        None => std::io::stdout().lock().write_all(bytes).map_err(io_fail),
        Some(path) => {
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(".partial");
            let tmp = PathBuf::from(tmp);
            std::fs::write(&tmp, bytes).map_err(|e| Failure(format!("{}: {e}", tmp.display()), 1))?;
            std::fs::rename(&tmp, path).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))
        }
    }
}

pub fn template(lang: Lang, output: Option<&Path>) -> CliResult {
    if output.is_none() && std::io::stdout().is_terminal() {
        return Err(Failure(t(lang, "export.need_output").to_owned(), 2));
    }
    let bytes = mamori_ingest::ledger::template_xlsx(lang == Lang::Ja).map_err(|e| Failure(e, 1))?;
    write_out(output, &bytes)
}

pub async fn sources(store: &Store, lang: Lang, id: Id, format: Format) -> CliResult {
    store.get_asset(id, None).await.map_err(|e| Failure::store(lang, &e))?;
    let list = store.asset_sources(id).await.map_err(|e| Failure::store(lang, &e))?;
    let header = [
        t(lang, "sources.at"),
        t(lang, "sources.kind"),
        t(lang, "sources.file"),
        t(lang, "sources.reason"),
        t(lang, "sources.changes"),
    ];
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|s| {
            let changes = s
                .changes
                .as_object()
                .map(|m| m.keys().map(|k| t(lang, &format!("field.{k}")).to_owned()).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            vec![
                mamori_web::jst(&s.at),
                t(lang, &format!("source_kind.{}", s.kind)).to_owned(),
                format!("{}:{}", s.file_name, s.line),
                t(lang, &format!("match_reason.{}", s.match_reason)).to_owned(),
                changes,
            ]
        })
        .collect();
    emit(format, &header, &rows, &list)
}

pub async fn unregistered(store: &Store, lang: Lang, who: &str, cmd: &UnregisteredCmd) -> CliResult {
    match cmd {
        UnregisteredCmd::List { all, format } => {
            let list = store
                .list_discovered(if *all { None } else { Some("pending") })
                .await
                .map_err(|e| Failure::store(lang, &e))?;
            let header = [
                "ID",
                t(lang, "unregistered.status"),
                t(lang, "field.ip"),
                t(lang, "field.mac"),
                t(lang, "unregistered.mac_vendor"),
                t(lang, "unregistered.hostname"),
                t(lang, "unregistered.last_seen"),
                t(lang, "unregistered.sources"),
            ];
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|d| {
                    let mut mac = d.mac.clone().unwrap_or_default();
                    if d.randomized_mac() {
                        mac.push_str(t(lang, "import.randomized_mac"));
                    }
                    vec![
                        d.id.to_string(),
                        t(lang, &format!("unregistered.status_{}", d.status)).to_owned(),
                        d.ip.clone().unwrap_or_default(),
                        mac,
                        d.mac_vendor.clone().unwrap_or_default(),
                        d.hostname.clone().unwrap_or_default(),
                        mamori_web::jst(&d.last_seen),
                        d.sources
                            .iter()
                            .map(|s| t(lang, &format!("source_kind.{s}")).to_owned())
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
                .collect();
            emit(*format, &header, &rows, &list)
        }
        UnregisteredCmd::Adopt { id, name, kind, owner, location } => {
            let d = store.get_discovered(*id).await.map_err(|e| Failure::store(lang, &e))?;
            let mut data = d.proposed_asset();
            if let Some(n) = name {
                data.name = n.clone();
            }
            if let Some(k) = kind {
                data.kind = *k;
            }
            data.owner = owner.clone().or(data.owner);
            data.location = location.clone().or(data.location);
            let a = store.adopt_discovered(who, *id, &data).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "unregistered.adopted", &[("id", id), ("asset", &a.id), ("name", &a.data.name)]));
            Ok(())
        }
        UnregisteredCmd::Reject { id, reason } => {
            store.reject_discovered(who, *id, reason.as_deref()).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "unregistered.rejected", &[("id", id)]));
            Ok(())
        }
    }
}

pub async fn stocktake(store: &Store, lang: Lang, who: &str, a: &StocktakeArgs) -> CliResult {
    let date = a.date.clone().unwrap_or_else(mamori_web::today_jst);
    let report = store.stocktake(&date, a.days).await.map_err(|e| Failure::store(lang, &e))?;
    let recorded = if a.no_record {
        None
    } else {
        Some(store.record_stocktake(who, &report).await.map_err(|e| Failure::store(lang, &e))?)
    };
    if a.format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            recorded_id: Option<Id>,
            #[serde(flatten)]
            report: &'a StocktakeReport,
        }
        let mut out = std::io::stdout().lock();
        return output::json(&mut out, &Out { recorded_id: recorded, report: &report }).map_err(io_fail);
    }
    print_stocktake(lang, &report, recorded)
}

fn print_stocktake(lang: Lang, r: &StocktakeReport, recorded: Option<Id>) -> CliResult {
    let mut out = std::io::stdout().lock();
    let s = &r.summary;
    writeln!(
        out,
        "{}",
        tf(lang, "stocktake.header", &[("date", &r.date), ("days", &r.days), ("assets", &s.assets), ("findings", &s.findings())])
    )
    .map_err(io_fail)?;
    let section = |out: &mut std::io::StdoutLock<'_>, key: &str, n: usize| -> CliResult {
        writeln!(out, "\n■ {}", tf(lang, key, &[("n", &n)])).map_err(io_fail)
    };
    section(&mut out, "stocktake.not_seen", r.not_seen.len())?;
    for x in &r.not_seen {
        writeln!(out, "  #{} {} ({})", x.asset_id, x.name, x.fact.as_deref().map(mamori_web::jst).unwrap_or_default()).map_err(io_fail)?;
    }
    section(&mut out, "stocktake.never_seen", r.never_seen.len())?;
    for x in &r.never_seen {
        writeln!(out, "  #{} {}", x.asset_id, x.name).map_err(io_fail)?;
    }
    section(&mut out, "stocktake.accounts", r.accounts.len())?;
    for x in &r.accounts {
        writeln!(
            out,
            "  {} {} {} — {}",
            x.username,
            x.system.as_deref().unwrap_or(""),
            x.person.as_deref().unwrap_or(""),
            tf(lang, &format!("stocktake.account_{}", x.reason), &[("date", &x.last_used.as_deref().unwrap_or(""))])
        )
        .map_err(io_fail)?;
    }
    section(&mut out, "stocktake.eos", r.eos.len())?;
    for x in &r.eos {
        writeln!(out, "  #{} {}: {} ({})", x.asset_id, x.asset_name, x.product, tf(lang, "stocktake.until", &[("date", &x.until)])).map_err(io_fail)?;
    }
    section(&mut out, "stocktake.no_owner", r.no_owner.len())?;
    for x in &r.no_owner {
        writeln!(out, "  #{} {}", x.asset_id, x.name).map_err(io_fail)?;
    }
    section(&mut out, "stocktake.no_segment", r.no_segment.len())?;
    for x in &r.no_segment {
        writeln!(out, "  #{} {} {}", x.asset_id, x.name, x.fact.as_deref().unwrap_or("")).map_err(io_fail)?;
    }
    writeln!(out, "\n■ {}", tf(lang, "stocktake.unregistered", &[("n", &s.unregistered)])).map_err(io_fail)?;
    match recorded {
        Some(id) => writeln!(out, "\n{}", tf(lang, "stocktake.recorded", &[("id", &id)])),
        None => writeln!(out, "\n{}", t(lang, "stocktake.not_recorded")),
    }
    .map_err(io_fail)
}
