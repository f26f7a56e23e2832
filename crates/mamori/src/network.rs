//! `mamori facility …` (the facility file), `mamori policy …`, and — with the diagram and risk
//! crates — `mamori diagram`, `mamori assess`, `mamori whatif`, `mamori plan`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use mamori_i18n::{Lang, t, tf};
use mamori_ingest::facility_file;
use mamori_model::Id;
use mamori_model::network::{Policy, PolicyAction, Zone};
use mamori_store::Store;
use mamori_store::network::FacilityApply;

use crate::cli::{CliResult, Failure, Format, emit, io_fail};
use crate::output;

#[derive(Subcommand)]
pub enum FacilityCmd {
    /// 施設定義ファイル（TOML）を読み込み、データベースを一致させる / Make the database say what a facility file says
    Import(FacilityImportArgs),
    /// 施設定義ファイル（TOML）を書き出す / Write the facility as a facility file
    Export(FacilityExportArgs),
}

#[derive(Args)]
pub struct FacilityImportArgs {
    /// 施設定義ファイル / The facility file (TOML, UTF-8)
    file: PathBuf,
    /// ファイルにない機器・セグメント・事業者を削除する / Remove assets, segments and vendors absent from the file
    #[arg(long)]
    prune: bool,
    /// 変更内容の表示のみ（書き込まない） / Show what would change without writing
    #[arg(long)]
    dry_run: bool,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
pub struct FacilityExportArgs {
    /// 出力先（既定: 画面） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// 通信制御ルールの一覧 / List filtering policies
    List(crate::cli::FormatArg),
    /// ルールを追加 / Add a filtering policy
    Add(PolicyAddArgs),
    /// ルールを削除 / Remove a filtering policy
    Remove {
        /// ルール ID / Policy id
        id: Id,
    },
}

#[derive(Args)]
pub struct PolicyAddArgs {
    /// 送信元（internet, any, segment:ID, asset:ID, connection:ID） / From zone
    #[arg(long)]
    from: String,
    /// 宛先（同上） / To zone
    #[arg(long)]
    to: String,
    /// allow または deny / allow or deny
    #[arg(long, default_value = "allow")]
    action: String,
    /// サービス（tcp/443, rdp …。複数可。省略時はすべて） / Services (repeatable; none = every service)
    #[arg(long)]
    service: Vec<String>,
    /// 制御する機器の資産 ID / Asset id of the gateway enforcing it
    #[arg(long)]
    gateway: Option<Id>,
    /// 名前 / Name
    #[arg(long)]
    name: Option<String>,
    /// 評価順（小さいほど先） / Evaluation order (lower first)
    #[arg(long, default_value_t = 1000)]
    position: i64,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum DiagramFormat {
    Svg,
    Dot,
    Mermaid,
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum PageArg {
    Screen,
    A4,
    A3,
}

#[derive(Args)]
pub struct DiagramArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "svg")]
    format: DiagramFormat,
    /// 出力先（既定: 画面） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// 比較する日付（YYYY-MM-DD、その日以前の記録）または施設定義ファイル / Compare with a day (YYYY-MM-DD) or a facility file
    #[arg(long)]
    diff_from: Option<String>,
    /// 用紙（screen, a4, a3。印刷用は横向き） / Paper (landscape for print)
    #[arg(long, value_enum, default_value = "screen")]
    page: PageArg,
    /// まとめて表示せず展開するグループ（seg1:pc:windows 等） / Groups to draw expanded
    #[arg(long)]
    expand: Vec<String>,
}

/// A facility file as a network model (for `--diff-from FILE`).
fn model_of_file(path: &std::path::Path) -> Result<mamori_model::network::NetworkModel, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
    let d = facility_file::parse(&path.display().to_string(), &bytes).map_err(|e| Failure(e.to_string(), 1))?;
    Ok(d.into_model())
}

fn write_out(lang: Lang, output: &Option<PathBuf>, text: &str) -> CliResult {
    match output {
        Some(path) => {
            std::fs::write(path, text).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
            eprintln!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
            Ok(())
        }
        None => {
            use std::io::Write;
            std::io::stdout().lock().write_all(text.as_bytes()).map_err(io_fail)
        }
    }
}

pub async fn diagram(store: &Store, lang: Lang, a: &DiagramArgs) -> CliResult {
    let fail = fail(lang);
    let now = store.network_model().await.map_err(&fail)?;
    store.record_network_snapshot(&now).await.map_err(&fail)?;
    let mut opts = mamori_diagram::Options {
        lang,
        page: match a.page {
            PageArg::Screen => mamori_diagram::Page::Screen,
            PageArg::A4 => mamori_diagram::Page::A4,
            PageArg::A3 => mamori_diagram::Page::A3,
        },
        expanded: a.expand.iter().cloned().collect(),
        ..Default::default()
    };
    // Colours: the worst open vulnerability or risk finding, as on the web page.
    (opts.severity, opts.connection_severity) = mamori_web::network::severities(&now, &mamori_risk::assess(&now, lang));
    let mut model = now;
    if let Some(from) = &a.diff_from {
        let path = std::path::Path::new(from);
        let old = if path.is_file() {
            model_of_file(path)?
        } else {
            if from.parse::<jiff::civil::Date>().is_err() {
                return Err(Failure(tf(lang, "network_cli.bad_diff_from", &[("value", from)]), 2));
            }
            match store.network_snapshot_on(from).await.map_err(&fail)? {
                Some((_, m)) => m,
                None => return Err(Failure(tf(lang, "network_cli.no_snapshot", &[("date", from)]), 1)),
            }
        };
        let d = mamori_diagram::diff(&old, &model);
        eprint!("{}", d.to_text(lang));
        opts.highlight = d.highlight();
        model = mamori_diagram::union(&old, &model);
    }
    let text = match a.format {
        DiagramFormat::Svg => mamori_diagram::to_svg(&model, &opts),
        DiagramFormat::Dot => mamori_diagram::to_dot(&model, &opts),
        DiagramFormat::Mermaid => mamori_diagram::to_mermaid(&model, &opts),
    };
    write_out(lang, &a.output, &text)
}

#[derive(Clone, Copy, clap::ValueEnum, PartialEq, Eq)]
pub enum AssessFormat {
    Text,
    Json,
    Html,
}

#[derive(Args)]
pub struct AssessArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: AssessFormat,
    /// 出力先（既定: 画面） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// 目標ごとに示す経路の数 / Paths kept per goal and criterion
    #[arg(long, default_value_t = mamori_risk::DEFAULT_K)]
    paths: usize,
}

#[derive(Args)]
pub struct WhatIfArgs {
    /// 仮に適用する対策（複数可: mfa:4, on-demand:2, patch:1, isolate:4, offline-backup …） / Changes to simulate (repeatable)
    #[arg(long = "change", required = true)]
    changes: Vec<String>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// 改善計画として保存する（計画名） / Save as an improvement plan with this title
    #[arg(long)]
    save: Option<String>,
    /// 計画の担当 / Plan owner
    #[arg(long, requires = "save")]
    owner: Option<String>,
    /// 計画の期限（YYYY-MM-DD） / Plan due date
    #[arg(long, requires = "save")]
    due: Option<String>,
}

#[derive(Subcommand)]
pub enum PlanCmd {
    /// 改善計画の一覧 / List improvement plans
    List(crate::cli::FormatArg),
    /// 状況を変更（planned, in_progress, done, dropped） / Change a plan's status
    Status {
        /// 計画 ID / Plan id
        id: Id,
        /// planned, in_progress, done, dropped
        status: String,
    },
}

pub async fn assess(store: &Store, lang: Lang, a: &AssessArgs) -> CliResult {
    let model = store.network_model().await.map_err(fail(lang))?;
    store.record_network_snapshot(&model).await.map_err(fail(lang))?;
    let result = mamori_risk::assess_with(&model, lang, mamori_risk::Options { k: a.paths.max(1) });
    let text = match a.format {
        AssessFormat::Text => mamori_risk::to_text(&result, lang),
        AssessFormat::Html => mamori_web::network::assessment_html(&model, &result, lang),
        AssessFormat::Json => {
            let mut buf = Vec::new();
            output::json(&mut buf, &result).map_err(io_fail)?;
            String::from_utf8_lossy(&buf).into_owned()
        }
    };
    // Findings are the result, not a failure: the exit status stays 0.
    write_out(lang, &a.output, &text)
}

pub async fn whatif(store: &Store, lang: Lang, who: &str, a: &WhatIfArgs) -> CliResult {
    let model = store.network_model().await.map_err(fail(lang))?;
    let changes = mamori_web::network::parse_changes(&model, &a.changes.join("\n"), lang).map_err(|e| Failure(e, 2))?;
    let w = mamori_risk::what_if(&model, &changes, lang);
    if a.format == Format::Json {
        output::json(&mut std::io::stdout().lock(), &w).map_err(io_fail)?;
    } else {
        println!("{}", t(lang, "whatif_cli.title"));
        for (spec, words) in &w.changes {
            println!("  {spec}: {words}");
        }
        println!("{}", tf(lang, "whatif_cli.score", &[("before", &format!("{:.1}", w.score_before)), ("after", &format!("{:.1}", w.score_after))]));
        println!("{}", tf(lang, "whatif_cli.paths", &[("before", &w.paths_before), ("after", &w.paths_after)]));
        for ((g, before), (_, after)) in w.goals_before.iter().zip(&w.goals_after) {
            let state = |r: bool| t(lang, if r { "risk.report.reachable" } else { "risk.report.unreachable" });
            println!("  {}: {} → {}", t(lang, &format!("risk.goal.{}", g.code())), state(*before), state(*after));
        }
        println!("{}", tf(lang, "whatif_cli.resolved", &[("n", &w.findings_resolved.len())]));
        for f in &w.findings_resolved {
            println!("  - {}", f.title);
        }
        if !w.findings_new.is_empty() {
            println!("{}", tf(lang, "whatif_cli.new", &[("n", &w.findings_new.len())]));
            for f in &w.findings_new {
                println!("  - {}", f.title);
            }
        }
        println!("  {}", w.after.score.formula);
    }
    if let Some(title) = &a.save {
        let specs: Vec<String> = changes.iter().map(mamori_risk::Change::spec).collect();
        let p = store
            .create_plan(who, title, &specs, a.owner.as_deref(), a.due.as_deref(), w.score_before, w.score_after, &mamori_web::network::plan_summary(&w))
            .await
            .map_err(fail(lang))?;
        eprintln!("{}", tf(lang, "risk_page.plan_saved", &[("id", &p.id)]));
    }
    Ok(())
}

pub async fn plan(store: &Store, lang: Lang, who: &str, cmd: &PlanCmd) -> CliResult {
    match cmd {
        PlanCmd::List(f) => {
            let plans = store.plans().await.map_err(fail(lang))?;
            let header = ["id", "title", "changes", "owner", "due", "score", "status"];
            let rows: Vec<Vec<String>> = plans
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.title.clone(),
                        p.changes.join(" "),
                        p.owner.clone().unwrap_or_default(),
                        p.due_date.clone().unwrap_or_default(),
                        format!("{:.1} → {:.1}", p.before_score, p.after_score),
                        t(lang, &format!("risk_page.plan_{}", p.status)).to_owned(),
                    ]
                })
                .collect();
            emit(f.format, &header, &rows, &plans)
        }
        PlanCmd::Status { id, status } => {
            store.set_plan_status(who, *id, status).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "whatif_cli.status_set", &[("id", id), ("status", &t(lang, &format!("risk_page.plan_{status}")))]));
            Ok(())
        }
    }
}

fn fail(lang: Lang) -> impl Fn(mamori_store::StoreError) -> Failure {
    move |e| Failure::store(lang, &e)
}

fn apply_text(lang: Lang, a: &FacilityApply) -> String {
    let mut s = String::new();
    for (key, map) in [("added", &a.added), ("updated", &a.updated), ("removed", &a.removed), ("kept", &a.kept)] {
        for (kind, names) in map {
            s.push_str(&format!(
                "{} {}: {}\n",
                t(lang, &format!("facility_cli.{key}")),
                t(lang, &format!("facility_cli.kind_{kind}")),
                names.join("、")
            ));
        }
    }
    if s.is_empty() {
        s.push_str(t(lang, "facility_cli.no_change"));
        s.push('\n');
    }
    s
}

/// The facility file of `facility import`, read and checked; `None` for other commands.
pub fn read_facility_file(cmd: &FacilityCmd) -> Result<Option<facility_file::FacilityDoc>, Failure> {
    let FacilityCmd::Import(a) = cmd else { return Ok(None) };
    let bytes = std::fs::read(&a.file).map_err(|e| Failure(format!("{}: {e}", a.file.display()), 1))?;
    facility_file::parse(&a.file.display().to_string(), &bytes).map(Some).map_err(|e| Failure(e.to_string(), 1))
}

pub async fn facility(store: &Store, lang: Lang, who: &str, cmd: &FacilityCmd, doc: Option<facility_file::FacilityDoc>) -> CliResult {
    match cmd {
        FacilityCmd::Import(a) => {
            let name = a.file.display().to_string();
            let Some(doc) = doc else { return Ok(()) };
            let result = store.apply_facility(who, &doc, a.prune, a.dry_run).await.map_err(fail(lang))?;
            if a.format == Format::Json {
                return output::json(&mut std::io::stdout().lock(), &result).map_err(io_fail);
            }
            print!("{}", apply_text(lang, &result));
            let key = if a.dry_run { "facility_cli.dry_run" } else { "facility_cli.imported" };
            println!(
                "{}",
                tf(lang, key, &[("file", &name), ("added", &FacilityApply::count(&result.added)), ("updated", &FacilityApply::count(&result.updated)), ("removed", &FacilityApply::count(&result.removed))])
            );
            Ok(())
        }
        FacilityCmd::Export(a) => {
            let doc = store.facility_doc().await.map_err(fail(lang))?;
            let text = facility_file::write(&doc).map_err(|e| Failure(e, 1))?;
            match &a.output {
                Some(path) => {
                    std::fs::write(path, text).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
                    println!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}

pub async fn policy(store: &Store, lang: Lang, who: &str, cmd: &PolicyCmd) -> CliResult {
    match cmd {
        PolicyCmd::List(f) => {
            let list = store.list_policies().await.map_err(fail(lang))?;
            let header = ["id", "position", "name", "gateway", "from", "to", "services", "action"];
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| {
                    vec![
                        p.id.to_string(),
                        p.position.to_string(),
                        p.name.clone().unwrap_or_default(),
                        p.gateway_id.map(|g| g.to_string()).unwrap_or_default(),
                        p.from.code(),
                        p.to.code(),
                        if p.services.is_empty() { "*".into() } else { p.services.join(",") },
                        p.action.code().into(),
                    ]
                })
                .collect();
            emit(f.format, &header, &rows, &list)
        }
        PolicyCmd::Add(a) => {
            let zone = |s: &str| Zone::parse(s).ok_or_else(|| Failure(tf(lang, "facility_cli.bad_zone", &[("zone", &s)]), 2));
            let action = match a.action.as_str() {
                "allow" => PolicyAction::Allow,
                "deny" => PolicyAction::Deny,
                other => return Err(Failure(tf(lang, "facility_cli.bad_action", &[("action", &other)]), 2)),
            };
            let p = Policy {
                id: 0,
                name: a.name.clone(),
                gateway_id: a.gateway,
                from: zone(&a.from)?,
                to: zone(&a.to)?,
                services: a.service.iter().map(|s| s.trim().to_ascii_lowercase()).collect(),
                action,
                position: a.position,
                notes: None,
            };
            let p = store.create_policy(who, &p).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "facility_cli.policy_added", &[("id", &p.id)]));
            Ok(())
        }
        PolicyCmd::Remove { id } => {
            store.delete_policy(who, *id).await.map_err(fail(lang))?;
            println!("{}", tf(lang, "facility_cli.policy_removed", &[("id", id)]));
            Ok(())
        }
    }
}
