//! `mamori feed …` (vulnerability feeds: import, sync, status) and `mamori vuln …` (matching,
//! findings, status, CPE names, VEX export).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use mamori_i18n::{Lang, t, tf};
use mamori_model::Id;
use mamori_store::Store;
use mamori_store::feedsource::{FeedInput, expand_paths};
use mamori_store::findings::{Finding, FindingFilter, FindingStatus};
use mamori_store::vuln::FeedImportCounts;

use crate::cli::{CliResult, Failure, Format, emit, io_fail};
use crate::output;

#[derive(Subcommand)]
pub enum FeedCmd {
    /// フィードのファイル・フォルダを取り込む（NVD, KEV, EPSS, JVN, CSAF, CycloneDX VEX） / Import feed files or folders
    Import(FeedImportArgs),
    /// フィードをインターネットから取得して取り込む / Fetch the feeds over HTTPS and import them
    Sync(crate::sync::SyncArgs),
    /// フィードの鮮度（最終取り込み日・チェックサム） / Feed freshness
    Status(StatusArgs),
}

#[derive(Args)]
pub struct FeedImportArgs {
    /// ファイルまたはフォルダ（.json, .json.gz, .json.xz, .csv, .csv.gz, .rdf, .xml） / Files or folders
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// 取り込み後に資産との照合をしない / Do not match the inventory afterwards
    #[arg(long)]
    no_match: bool,
    /// KEV 掲載の脆弱性の対応期限（発見から何日） / Days to fix a KEV-listed vulnerability
    #[arg(long, default_value_t = 7)]
    kev_days: u32,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
pub struct StatusArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Subcommand)]
pub enum VulnCmd {
    /// 資産と脆弱性情報を照合して対応課題を更新 / Match the inventory against the feeds
    Match(MatchArgs),
    /// 対応課題の一覧（資産 × 脆弱性） / Findings: one row per asset × vulnerability
    List(ListArgs),
    /// 脆弱性の詳細（日本語の JVN 情報・KEV・EPSS・該当資産） / One vulnerability in detail
    Show(ShowArgs),
    /// 対応状況を設定 / Set the status of a finding
    Set(SetArgs),
    /// 対応状況の履歴 / Status history of a finding
    History(HistoryArgs),
    /// VEX として書き出す（CycloneDX） / Export as VEX (CycloneDX)
    Export(ExportArgs),
    /// 資産の CPE 名（照合に使う製品名）：提案・確認・却下・追加 / CPE names of assets
    #[command(subcommand)]
    Cpe(CpeCmd),
}

#[derive(Args)]
pub struct MatchArgs {
    /// KEV 掲載の脆弱性の対応期限（発見から何日） / Days to fix a KEV-listed vulnerability
    #[arg(long, default_value_t = 7)]
    kev_days: u32,
    /// 照合の件数だけを数え、対応課題は更新しない / Count what would match; write nothing
    #[arg(long)]
    dry_run: bool,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Args)]
pub struct ListArgs {
    /// 資産 ID / Asset id
    #[arg(long)]
    asset: Option<Id>,
    /// 対応する保守事業者の名前（その事業者が対応すべき課題） / Findings a vendor must act on
    #[arg(long)]
    vendor: Option<String>,
    /// 脆弱性 ID（CVE-… / JVNDB-…） / Vulnerability id
    #[arg(long)]
    cve: Option<String>,
    /// 対応済み・リスク受容・誤検知・解消済みも含める / Include settled findings
    #[arg(long)]
    all: bool,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct ShowArgs {
    /// CVE-… または JVNDB-… / Vulnerability id
    id: String,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum StatusArg {
    /// 未対応
    Open,
    /// 対応中
    InProgress,
    /// 対応済み
    Resolved,
    /// リスク受容
    Accepted,
    /// 誤検知
    FalsePositive,
}

impl StatusArg {
    fn status(self) -> FindingStatus {
        match self {
            StatusArg::Open => FindingStatus::Open,
            StatusArg::InProgress => FindingStatus::InProgress,
            StatusArg::Resolved => FindingStatus::Resolved,
            StatusArg::Accepted => FindingStatus::Accepted,
            StatusArg::FalsePositive => FindingStatus::FalsePositive,
        }
    }
}

#[derive(Args)]
pub struct SetArgs {
    /// 資産 ID / Asset id
    asset: Id,
    /// 脆弱性 ID / Vulnerability id
    cve: String,
    /// 対応状況 / Status
    #[arg(long, value_enum)]
    status: StatusArg,
    /// 該当しない理由（VEX の justification: code_not_present, protected_at_perimeter …） / VEX justification
    #[arg(long)]
    justification: Option<String>,
    /// 理由・対応内容 / Reason or what was done
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Args)]
pub struct HistoryArgs {
    asset: Id,
    cve: String,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    CyclonedxVex,
}

#[derive(Args)]
pub struct ExportArgs {
    /// 形式 / Format
    #[arg(long, value_enum, default_value = "cyclonedx-vex")]
    format: ExportFormat,
    /// 出力先（既定: 画面） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum CpeCmd {
    /// CPE 名の一覧 / List CPE names
    List(CpeListArgs),
    /// 台帳のメーカー・型番・OS から CPE 名を提案 / Suggest CPE names from the ledger
    Suggest,
    /// 提案を確認（承認） / Confirm a name
    Confirm(CpeArgs),
    /// 提案を却下 / Reject a name
    Reject(CpeArgs),
    /// CPE 名を手で追加（確認済みとして） / Add a name by hand
    Add(CpeArgs),
}

#[derive(Args)]
pub struct CpeListArgs {
    #[arg(long)]
    asset: Option<Id>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct CpeArgs {
    asset: Id,
    /// CPE 2.3 (cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*) または 2.2 (cpe:/o:…)
    cpe: String,
}

pub(crate) fn today() -> String {
    mamori_web::today_jst()
}

fn fail(lang: Lang) -> impl Fn(mamori_store::StoreError) -> Failure {
    move |e| Failure::store(lang, &e)
}

pub(crate) fn counts_line(lang: Lang, c: &FeedImportCounts) -> String {
    tf(
        lang,
        "feed_cli.imported",
        &[
            ("source", &c.source),
            ("kind", &c.kind.map(|k| t(lang, &format!("feed_kind.{}", k.code())).to_owned()).unwrap_or_default()),
            ("records", &c.records),
            ("inserted", &c.inserted),
            ("updated", &c.updated),
            ("unchanged", &c.unchanged),
            ("removed", &c.removed),
            ("skipped", &c.skipped),
        ],
    )
}

pub(crate) async fn run_match(store: &Store, lang: Lang, who: &str, kev_days: u32, quiet_json: bool) -> Result<mamori_store::findings::MatchSummary, Failure> {
    store.suggest_cpes(who).await.map_err(fail(lang))?;
    let m = store.match_vulnerabilities(who, &today(), kev_days).await.map_err(fail(lang))?;
    if !quiet_json {
        println!(
            "{}",
            tf(lang, "vuln_cli.matched", &[("assets", &m.assets_with_cpe), ("matched", &m.matched), ("new", &m.new), ("gone", &m.gone), ("cleared", &m.vendor_cleared)])
        );
    }
    Ok(m)
}

pub async fn feed(store: &Store, lang: Lang, who: &str, cmd: &FeedCmd) -> CliResult {
    match cmd {
        FeedCmd::Import(a) => {
            let files = expand_paths(&a.paths).map_err(|e| Failure(e.to_string(), 1))?;
            if files.is_empty() {
                return Err(Failure(t(lang, "feed_cli.no_files").to_owned(), 1));
            }
            // Every file must be a feed before anything is written. In a folder (a feed
            // bundle), files that are not feeds — indexes, notes — are skipped and named.
            let mut inputs: Vec<FeedInput> = Vec::new();
            for (path, in_folder) in files {
                let input = FeedInput::File(path);
                match input.detect() {
                    Ok(f) if f.is_index() && in_folder => eprintln!("{}", tf(lang, "feed_cli.skipped_index", &[("file", &input.name())])),
                    Ok(_) => inputs.push(input),
                    Err(_) if in_folder => eprintln!("{}", tf(lang, "feed_cli.skipped_unknown", &[("file", &input.name())])),
                    Err(e) => return Err(fail(lang)(e)),
                }
            }
            if inputs.is_empty() {
                return Err(Failure(t(lang, "feed_cli.no_files").to_owned(), 1));
            }
            let json = a.format == Format::Json;
            // Each file is its own transaction: when one fails, those before it stay imported,
            // and the findings are brought up to date with them before the error is reported.
            let mut counts = Vec::new();
            let mut failed = None;
            for input in inputs {
                match store.import_feed_input(who, input).await {
                    Ok(c) => {
                        if !json {
                            println!("{}", counts_line(lang, &c));
                        }
                        counts.push(c);
                    }
                    Err(e) => {
                        failed = Some(Failure::store(lang, &e));
                        break;
                    }
                }
            }
            // The matching index's per-product aggregates, rebuilt once for all the files.
            store.refresh_product_entries().await.map_err(fail(lang))?;
            let summary = if a.no_match || counts.is_empty() { None } else { Some(run_match(store, lang, who, a.kev_days, json).await?) };
            if let Some(f) = failed {
                return Err(f);
            }
            if json {
                let mut out = std::io::stdout().lock();
                output::json(&mut out, &serde_json::json!({"files": counts, "match": summary})).map_err(io_fail)?;
            }
            Ok(())
        }
        FeedCmd::Sync(a) => crate::sync::run(store, lang, who, a).await,
        FeedCmd::Status(a) => {
            let st = store.feed_status(&today()).await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> = st
                .iter()
                .map(|s| {
                    vec![
                        t(lang, &format!("feed_kind.{}", s.kind.code())).to_owned(),
                        s.records.to_string(),
                        s.last_import.clone().unwrap_or_else(|| "—".into()),
                        s.feed_date.clone().unwrap_or_default(),
                        s.age_days.map(|d| d.to_string()).unwrap_or_default(),
                        if s.kind.stale_after_days().is_none() {
                            "—".to_owned()
                        } else if s.stale {
                            t(lang, "feed_cli.stale").to_owned()
                        } else {
                            t(lang, "feed_cli.fresh").to_owned()
                        },
                        s.last_sha256.as_deref().map(|h| h.get(..16).unwrap_or(h).to_owned()).unwrap_or_default(),
                        s.last_source.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let h = |k: &str| t(lang, &format!("feed_cli.h_{k}")).to_owned();
            let header = [h("kind"), h("records"), h("last"), h("feed_date"), h("age"), h("state"), h("sha256"), h("source")];
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(a.format, &header, &rows, &st)?;
            if a.format != Format::Json {
                for s in st.iter().filter(|s| s.stale && s.kind.stale_after_days().is_some()) {
                    eprintln!("{}", tf(lang, "feed_cli.stale_warning", &[("kind", &t(lang, &format!("feed_kind.{}", s.kind.code())))]));
                }
            }
            Ok(())
        }
    }
}

fn status_label(lang: Lang, s: FindingStatus) -> String {
    t(lang, &format!("finding_status.{}", s.code())).to_owned()
}

fn responsible_label(lang: Lang, f: &Finding) -> String {
    match (&f.responsible.party[..], &f.responsible.vendor_name) {
        ("vendor", Some(n)) => n.clone(),
        _ => t(lang, "party.facility").to_owned(),
    }
}

pub(crate) fn finding_rows(lang: Lang, list: &[Finding]) -> Vec<Vec<String>> {
    list.iter()
        .map(|f| {
            vec![
                format!("P{}", f.priority.band),
                format!("{:.1}", f.priority.score),
                f.vuln_id.clone(),
                format!("{} ({})", f.asset_name, f.asset_id),
                if f.kev.is_some() { if f.kev.as_ref().is_some_and(|k| k.ransomware) { "KEV+RW".into() } else { "KEV".into() } } else { String::new() },
                f.epss.map(|e| format!("{e:.3}")).unwrap_or_default(),
                f.cvss.map(|c| format!("{c:.1}")).unwrap_or_default(),
                format!("{} {}", f.confidence_score, t(lang, &format!("match_confidence.{}", f.confidence.code()))),
                f.due_date.clone().unwrap_or_default(),
                responsible_label(lang, f),
                if f.gone_at.is_some() { t(lang, "finding_status.gone").to_owned() } else { status_label(lang, f.status) },
            ]
        })
        .collect()
}

pub(crate) fn finding_header(lang: Lang) -> Vec<String> {
    ["band", "score", "vuln", "asset", "kev", "epss", "cvss", "confidence", "due", "responsible", "status"]
        .iter()
        .map(|k| t(lang, &format!("vuln_cli.h_{k}")).to_owned())
        .collect()
}

pub async fn vuln(store: &Store, lang: Lang, who: &str, cmd: &VulnCmd) -> CliResult {
    match cmd {
        VulnCmd::Match(a) => {
            let json = a.format == Format::Json;
            let m = if a.dry_run {
                let m = store.match_vulnerabilities_with(who, &today(), a.kev_days, true).await.map_err(fail(lang))?;
                if !json {
                    println!("{}", tf(lang, "vuln_cli.dry_run", &[("assets", &m.assets_with_cpe), ("matched", &m.matched)]));
                }
                m
            } else {
                run_match(store, lang, who, a.kev_days, json).await?
            };
            if json {
                output::json(&mut std::io::stdout().lock(), &m).map_err(io_fail)?;
            }
            Ok(())
        }
        VulnCmd::List(a) => {
            let vendor_id = match &a.vendor {
                Some(n) => Some(crate::contract::vendor_by_name(store, lang, n).await?),
                None => None,
            };
            let list = store
                .list_findings(&FindingFilter { asset_id: a.asset, vendor_id, vuln_id: a.cve.clone(), all: a.all, vendor_scope: None })
                .await
                .map_err(fail(lang))?;
            let header = finding_header(lang);
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(a.format, &header, &finding_rows(lang, &list), &list)
        }
        VulnCmd::Show(a) => {
            let d = store.vuln_detail(&a.id).await.map_err(fail(lang))?;
            if a.format == Format::Json {
                return output::json(&mut std::io::stdout().lock(), &d).map_err(io_fail);
            }
            print!("{}", mamori_web::vuln::detail_text(lang, &d));
            Ok(())
        }
        VulnCmd::Set(a) => {
            store
                .set_finding_status(who, a.asset, &a.cve, a.status.status(), a.justification.as_deref(), a.reason.as_deref())
                .await
                .map_err(fail(lang))?;
            println!("{}", tf(lang, "vuln_cli.set", &[("asset", &a.asset), ("vuln", &a.cve), ("status", &status_label(lang, a.status.status()))]));
            Ok(())
        }
        VulnCmd::History(a) => {
            let h = store.finding_history(a.asset, &a.cve).await.map_err(fail(lang))?;
            let rows: Vec<Vec<String>> = h
                .iter()
                .map(|c| {
                    let st = FindingStatus::parse(&c.status).map(|s| status_label(lang, s)).unwrap_or_else(|| c.status.clone());
                    vec![c.at.clone(), c.actor.clone(), st, c.justification.clone().unwrap_or_default(), c.reason.clone().unwrap_or_default()]
                })
                .collect();
            let header = ["at", "actor", "status", "justification", "reason"].map(|k| t(lang, &format!("vuln_cli.hh_{k}")).to_owned());
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(a.format, &header, &rows, &h)
        }
        VulnCmd::Export(a) => {
            let ExportFormat::CyclonedxVex = a.format;
            let doc = store.vex_export(who).await.map_err(fail(lang))?;
            let text = serde_json::to_string_pretty(&doc).map_err(|e| Failure(e.to_string(), 1))?;
            match &a.output {
                Some(p) => {
                    std::fs::write(p, text).map_err(|e| Failure(format!("{}: {e}", p.display()), 1))?;
                    println!("{}", tf(lang, "checklist_cli.exported", &[("path", &p.display())]));
                }
                None => println!("{text}"),
            }
            Ok(())
        }
        VulnCmd::Cpe(c) => match c {
            CpeCmd::List(a) => {
                let list = store.list_asset_cpes(a.asset).await.map_err(fail(lang))?;
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        vec![
                            format!("{} ({})", c.asset_name, c.asset_id),
                            c.cpe.clone(),
                            t(lang, &format!("cpe_origin.{}", c.origin)).to_owned(),
                            t(lang, &format!("cpe_state.{}", c.state)).to_owned(),
                            c.basis.clone(),
                        ]
                    })
                    .collect();
                let header = ["asset", "cpe", "origin", "state", "basis"].map(|k| t(lang, &format!("vuln_cli.hc_{k}")).to_owned());
                let header: Vec<&str> = header.iter().map(String::as_str).collect();
                emit(a.format, &header, &rows, &list)
            }
            CpeCmd::Suggest => {
                let n = store.suggest_cpes(who).await.map_err(fail(lang))?;
                println!("{}", tf(lang, "vuln_cli.suggested", &[("n", &n)]));
                Ok(())
            }
            CpeCmd::Confirm(a) | CpeCmd::Add(a) => {
                store.set_asset_cpe(who, a.asset, &a.cpe, "confirmed").await.map_err(fail(lang))?;
                println!("{}", tf(lang, "vuln_cli.cpe_confirmed", &[("asset", &a.asset), ("cpe", &a.cpe)]));
                Ok(())
            }
            CpeCmd::Reject(a) => {
                store.set_asset_cpe(who, a.asset, &a.cpe, "rejected").await.map_err(fail(lang))?;
                println!("{}", tf(lang, "vuln_cli.cpe_rejected", &[("asset", &a.asset), ("cpe", &a.cpe)]));
                Ok(())
            }
        },
    }
}
