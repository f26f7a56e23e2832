//! Command-line interface. Every data-printing command takes `--format json`.

use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{
    Asset, AssetData, AssetKind, Criticality, Facility, FacilityKind, Id, Interface, Role,
    Segment, SegmentPurpose,
};
use mamori_store::{AssetQuery, AssetSort, AuditFilter, OpenMode, Snapshot, Store, StoreError};

use unicode_width::UnicodeWidthStr;

use crate::output;

/// The demo facility, shipped as a data file (content/demo/).
const DEMO_FACILITY: &str = include_str!("../../../content/demo/minato-clinic.json");

#[derive(Parser)]
#[command(
    name = "mamori",
    version,
    about = "mamori（守り）— 医療機関のためのサイバーセキュリティ管理 / cybersecurity management for medical institutions",
    long_about = None
)]
struct Cli {
    /// データベース（ファイルパスまたは postgres:// URL） / Database: a file path (SQLite) or a postgres:// URL
    #[arg(long, global = true, env = "MAMORI_DB", default_value = "./mamori.db")]
    db: String,
    /// 表示言語 / Language of messages (ja, en)
    #[arg(long, global = true, env = "MAMORI_LANG", default_value = "ja")]
    lang: String,
    /// 操作者名（監査ログに記録） / Name recorded in the audit log as the actor
    #[arg(long, global = true, env = "MAMORI_ACTOR")]
    actor: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
enum Command {
    /// 新しいデータベースを作成 / Create a new database
    Init(InitArgs),
    /// デモ施設「みなと内科クリニック」を読み込む / Load the demo facility
    Demo,
    /// 資産台帳 / Asset inventory
    #[command(subcommand)]
    Asset(AssetCmd),
    /// ネットワークセグメント / Network segments
    #[command(subcommand)]
    Segment(SegmentCmd),
    /// mamori の利用者 / mamori users
    #[command(subcommand)]
    User(UserCmd),
    /// API トークン / API tokens
    #[command(subcommand)]
    Token(TokenCmd),
    /// 監査ログ / Audit log
    #[command(subcommand)]
    Audit(AuditCmd),
    /// データベースの書き出し・読み込み・移行 / Export, import and copy the database
    #[command(subcommand)]
    Db(DbCmd),
    /// 未登録機器（スキャン等で見つかった台帳にない機器） / Unregistered devices seen on the network
    #[command(subcommand)]
    Unregistered(crate::inventory::UnregisteredCmd),
    /// 棚卸し（台帳の定期確認）と記録 / Stocktake: review the ledger and record the review
    Stocktake(crate::inventory::StocktakeArgs),
    /// 厚生労働省チェックリスト（回答・記録との照合・提出用出力） / The MHLW checklist
    #[command(subcommand)]
    Checklist(crate::checklist::ChecklistCmd),
    /// バックアップと復旧テストの記録 / Backups and restore tests
    #[command(subcommand)]
    Backup(crate::records::BackupCmd),
    /// 連絡先（インシデント時の連絡体制） / Contacts for an incident
    #[command(subcommand)]
    Contact(crate::records::ContactCmd),
    /// アカウント（利用者・管理者・保守用） / Accounts on the facility's systems
    #[command(subcommand)]
    Account(crate::records::AccountCmd),
    /// 保守契約：対応分担表と契約に明記する事項 / Maintenance contracts: responsibility matrix and clauses
    #[command(subcommand)]
    Contract(crate::contract::ContractCmd),
    /// 脆弱性フィード（NVD・KEV・EPSS・JVN・CSAF・VEX）の取り込みと鮮度 / Vulnerability feeds
    #[command(subcommand)]
    Feed(crate::vuln::FeedCmd),
    /// 脆弱性と資産の照合・対応課題・VEX / Vulnerability findings, status and VEX
    #[command(subcommand)]
    Vuln(crate::vuln::VulnCmd),
    /// 施設定義ファイル（TOML）の読み込み・書き出し / The facility file (TOML): import and export
    #[command(subcommand)]
    Facility(crate::network::FacilityCmd),
    /// 通信制御ルール（セグメント間・外部接続） / Filtering policies between zones
    #[command(subcommand)]
    Policy(crate::network::PolicyCmd),
    /// ネットワーク構成図（SVG・DOT・Mermaid、過去との比較） / The network diagram (SVG, DOT, Mermaid; diff with an earlier day)
    Diagram(crate::network::DiagramArgs),
    /// リスク評価と攻撃経路（指摘があっても終了コード 0） / Risk assessment and attack paths (exit 0 even with findings)
    Assess(crate::network::AssessArgs),
    /// 対策の効果のシミュレーション（保存しない） / What-if: simulate changes without saving them
    Whatif(crate::network::WhatIfArgs),
    /// 改善計画 / Improvement plans
    #[command(subcommand)]
    Plan(crate::network::PlanCmd),
    /// Web 画面と API を起動 / Start the web interface and API
    Serve(ServeArgs),
    /// データベースの健全性を確認（正常なら終了コード 0） / Check the database (exit 0 when healthy)
    Healthcheck(FormatArg),
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub(crate) enum Format {
    Table,
    Text,
    Json,
    Csv,
}

#[derive(Args)]
pub(crate) struct FormatArg {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    pub(crate) format: Format,
}

#[derive(Args)]
struct InitArgs {
    /// 施設名 / Facility name
    #[arg(long)]
    facility: String,
    /// 施設の種類 (clinic, hospital, pharmacy) / Kind of facility
    #[arg(long, default_value = "clinic")]
    kind: FacilityKind,
    /// 病床数 / Number of beds
    #[arg(long, default_value_t = 0)]
    beds: i64,
    /// 都道府県 / Prefecture
    #[arg(long)]
    prefecture: Option<String>,
    /// 医療情報システム安全管理責任者 / Security manager
    #[arg(long)]
    security_manager: Option<String>,
}

#[derive(Subcommand)]
enum AssetCmd {
    /// 資産の一覧 / List assets
    List(AssetListArgs),
    /// 資産の詳細 / Show one asset
    Show {
        id: Id,
        /// 出力形式 / Output format
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// 資産を追加 / Add an asset
    Add(AssetFields),
    /// 資産を編集（指定した項目だけ変更） / Edit an asset (only the fields given change)
    Edit {
        id: Id,
        #[command(flatten)]
        fields: AssetFields,
    },
    /// 資産を削除 / Remove an asset
    Remove { id: Id },
    /// 台帳・スキャン・DHCP・ARP・SBOM の取り込み / Import ledgers, scans, leases, ARP tables, SBOMs
    Import(crate::inventory::ImportArgs),
    /// 資産台帳の書き出し（xlsx・csv・json） / Export the ledger (xlsx, csv, json)
    Export(crate::inventory::ExportArgs),
    /// 記入用の台帳テンプレート（xlsx） / Blank ledger template (xlsx)
    Template {
        /// 出力先 / Output file
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// 資産の情報源（どの取り込みが何をいつ伝えたか） / Where an asset's data came from
    Sources {
        id: Id,
        /// 出力形式 / Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
}

#[derive(Args)]
struct AssetListArgs {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// 検索語（名称・IP・MAC・メーカー・OS・設置場所…） / Search text
    #[arg(long, short = 'q')]
    search: Option<String>,
    /// 種類で絞り込み / Filter by kind
    #[arg(long)]
    kind: Option<AssetKind>,
    /// セグメント ID で絞り込み / Filter by segment id
    #[arg(long)]
    segment: Option<Id>,
    /// 並び順 (name, kind, ip, os, location, department, updated, last_seen) / Sort order
    #[arg(long, default_value = "name")]
    sort: String,
    /// 降順 / Descending
    #[arg(long)]
    desc: bool,
}

#[derive(Args)]
struct AssetFields {
    /// 名称 / Name
    #[arg(long)]
    name: Option<String>,
    /// 種類 / Kind (server, pc, network_device, vpn_utm, wifi_ap, medical_device, printer, nas, mobile, iot, unknown)
    #[arg(long)]
    kind: Option<AssetKind>,
    /// メーカー / Maker
    #[arg(long)]
    vendor: Option<String>,
    /// 製品名 / Product
    #[arg(long)]
    product: Option<String>,
    /// 型番 / Model
    #[arg(long)]
    model: Option<String>,
    /// OS・ファームウェア / OS or firmware
    #[arg(long)]
    os: Option<String>,
    /// OS・ファームウェアのバージョン / OS or firmware version
    #[arg(long)]
    os_version: Option<String>,
    /// 製造番号 / Serial number
    #[arg(long)]
    serial: Option<String>,
    /// 設置場所 / Location
    #[arg(long)]
    location: Option<String>,
    /// 管理部署 / Department
    #[arg(long)]
    department: Option<String>,
    /// 管理者 / Owner
    #[arg(long)]
    owner: Option<String>,
    /// 重要度 (low, medium, high, critical) / Criticality
    #[arg(long)]
    criticality: Option<Criticality>,
    /// インターネットに公開 (true/false) / Internet-facing
    #[arg(long)]
    internet_facing: Option<bool>,
    /// ウイルス対策・EDR (true/false) / Antivirus or EDR installed
    #[arg(long)]
    endpoint_protection: Option<bool>,
    /// IP アドレス / IP address (first interface)
    #[arg(long)]
    ip: Option<String>,
    /// MAC アドレス / MAC address (first interface)
    #[arg(long)]
    mac: Option<String>,
    /// セグメント ID / Segment id (first interface)
    #[arg(long)]
    segment: Option<Id>,
    /// 備考 / Notes
    #[arg(long)]
    notes: Option<String>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Subcommand)]
enum SegmentCmd {
    /// セグメントの一覧 / List segments
    List(TableFormat),
    /// セグメントを追加 / Add a segment
    Add {
        /// 名称 / Name
        #[arg(long)]
        name: String,
        /// 用途 / Purpose (clinical_lan, medical_devices, servers, staff_wifi, patient_wifi, eligibility_closed, maintenance, dmz, management, wan, other)
        #[arg(long)]
        purpose: SegmentPurpose,
        /// CIDR (例 192.168.10.0/24)
        #[arg(long)]
        cidr: Option<String>,
        /// VLAN ID
        #[arg(long)]
        vlan: Option<i64>,
        /// 説明 / Description
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Args)]
struct TableFormat {
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Subcommand)]
enum UserCmd {
    /// 利用者を追加（パスワードは標準入力またはプロンプトから） / Add a user (password from stdin or a prompt)
    Add {
        username: String,
        /// 権限 / Role (admin, manager, viewer, vendor)
        #[arg(long)]
        role: Role,
        /// 表示名 / Display name
        #[arg(long)]
        display_name: Option<String>,
        /// 保守事業者 ID（vendor 権限のとき） / Vendor id (for the vendor role)
        #[arg(long)]
        vendor: Option<Id>,
    },
    /// 利用者の一覧 / List users
    List(TableFormat),
    /// パスワードを変更 / Change a password
    Passwd { username: String },
    /// 利用者を無効化 / Disable a user
    Disable { username: String },
    /// 利用者を有効化 / Enable a user
    Enable { username: String },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// API トークンを発行（一度だけ表示） / Create an API token (shown once)
    Create {
        /// 利用者名 / User the token acts as
        #[arg(long)]
        user: String,
        /// トークンの名前 / Label
        #[arg(long)]
        name: String,
    },
    /// API トークンの一覧 / List API tokens
    List(TableFormat),
    /// API トークンを失効 / Revoke an API token
    Revoke { id: Id },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// 監査ログの一覧（新しい順） / List audit entries (newest first)
    List {
        /// 件数 / Number of entries
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// 出力形式 / Output format
        #[arg(long, value_enum, default_value = "table")]
        format: Format,
    },
    /// ハッシュチェーンを検証 / Verify the hash chain
    Verify,
}

#[derive(Subcommand)]
enum DbCmd {
    /// 施設の全データを JSON に書き出す / Export everything to a JSON file
    Export {
        /// 出力ファイル（- で標準出力） / Output file (- for stdout)
        file: PathBuf,
    },
    /// 書き出したファイルを新しいデータベースに読み込む / Import an export into a new database
    Import { file: PathBuf },
    /// 別のデータベース（例 PostgreSQL）へ移行 / Copy everything to another database
    Copy {
        /// 移行先 / Target (file path or postgres:// URL)
        #[arg(long)]
        to: String,
    },
}

#[derive(Args)]
struct ServeArgs {
    /// 待ち受けアドレス / Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// デモ施設を読み込んだ一時データベースで起動 / Run on a temporary database with the demo facility
    #[arg(long)]
    demo: bool,
    /// Cookie に Secure 属性を付ける（HTTPS の背後で運用するとき） / Mark cookies Secure (behind HTTPS)
    #[arg(long)]
    cookie_secure: bool,
}

/// Prints a listing in the chosen format: JSON carries the full records, CSV and tables the rows.
pub(crate) fn emit(format: Format, header: &[&str], rows: &[Vec<String>], json: &impl serde::Serialize) -> CliResult {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => output::json(&mut out, json),
        Format::Csv => output::csv(&mut out, header, rows),
        Format::Table | Format::Text => output::table(&mut out, header, rows),
    }
    .map_err(io_fail)
}

/// An error for the user: the localized message and the exit code.
pub(crate) struct Failure(pub(crate) String, pub(crate) u8);

impl Failure {
    pub(crate) fn store(lang: Lang, e: &StoreError) -> Failure {
        Failure(e.localized(lang), 1)
    }
}

pub(crate) type CliResult = Result<(), Failure>;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let lang: Lang = cli.lang.parse().unwrap_or_default();
    init_tracing();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}: {e}", t(lang, "cli.error"));
            return ExitCode::from(2);
        }
    };
    match rt.block_on(run(cli, lang)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(_, 0)) => ExitCode::SUCCESS,
        Err(Failure(msg, code)) => {
            eprintln!("{}: {msg}", t(lang, "cli.error"));
            ExitCode::from(code)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MAMORI_LOG")
        // sqlx warns of slow statements by printing them whole (a batched query is kilobytes
        // of placeholders): not for an operator's terminal; `MAMORI_LOG=sqlx=warn` shows them.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

fn actor(cli_actor: &Option<String>) -> String {
    cli_actor.clone().unwrap_or_else(|| {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default();
        if user.is_empty() { "cli".into() } else { format!("cli:{user}") }
    })
}

async fn open(cli: &Cli, lang: Lang, mode: OpenMode) -> Result<Store, Failure> {
    Store::open(&cli.db, mode).await.map_err(|e| Failure::store(lang, &e))
}

pub(crate) fn io_fail(e: std::io::Error) -> Failure {
    // `mamori asset list | head` closes the pipe early: that is the reader's choice, not an error.
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Failure(String::new(), 0);
    }
    Failure(e.to_string(), 1)
}

async fn run(cli: Cli, lang: Lang) -> CliResult {
    let who = actor(&cli.actor);
    match &cli.command {
        Command::Init(a) => {
            let store = open(&cli, lang, OpenMode::Create).await?;
            if store.facility().await.map_err(|e| Failure::store(lang, &e))?.is_some() {
                return Err(Failure(tf(lang, "cli.already_initialised", &[("db", &store.location().display())]), 1));
            }
            let f = Facility {
                name: a.facility.clone(),
                kind: a.kind,
                beds: a.beds,
                prefecture: a.prefecture.clone(),
                address: None,
                security_manager: a.security_manager.clone(),
                phone: None,
            };
            store.set_facility(&who, &f).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.initialised", &[("facility", &f.name), ("db", &store.location().display())]));
            println!("{}", t(lang, "cli.next_user"));
            Ok(())
        }
        Command::Demo => {
            let store = open(&cli, lang, OpenMode::Create).await?;
            let n = load_demo(&store, &who, lang).await?;
            println!("{}", tf(lang, "cli.demo_loaded", &[("n", &n), ("db", &store.location().display())]));
            Ok(())
        }
        Command::Asset(cmd) => asset(&cli, lang, &who, cmd).await,
        Command::Segment(cmd) => segment(&cli, lang, &who, cmd).await,
        Command::User(cmd) => user(&cli, lang, &who, cmd).await,
        Command::Token(cmd) => token(&cli, lang, &who, cmd).await,
        Command::Audit(cmd) => audit(&cli, lang, cmd).await,
        Command::Db(cmd) => db(&cli, lang, &who, cmd).await,
        Command::Unregistered(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::inventory::unregistered(&store, lang, &who, cmd).await
        }
        Command::Stocktake(a) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::inventory::stocktake(&store, lang, &who, a).await
        }
        Command::Checklist(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::checklist::run(&store, lang, &who, cmd).await
        }
        Command::Backup(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::records::backup(&store, lang, &who, cmd).await
        }
        Command::Contact(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::records::contact(&store, lang, &who, cmd).await
        }
        Command::Account(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::records::account(&store, lang, &who, cmd).await
        }
        Command::Contract(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::contract::run(&store, lang, &who, cmd).await
        }
        Command::Feed(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::vuln::feed(&store, lang, &who, cmd).await
        }
        Command::Vuln(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::vuln::vuln(&store, lang, &who, cmd).await
        }
        Command::Facility(cmd) => {
            // A facility file may start a database from nothing; it is read (and refused) before
            // anything is created.
            let doc = crate::network::read_facility_file(cmd)?;
            let mode = if doc.is_some() { OpenMode::Create } else { OpenMode::Existing };
            let store = open(&cli, lang, mode).await?;
            crate::network::facility(&store, lang, &who, cmd, doc).await
        }
        Command::Diagram(a) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::network::diagram(&store, lang, a).await
        }
        Command::Assess(a) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::network::assess(&store, lang, a).await
        }
        Command::Whatif(a) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::network::whatif(&store, lang, &who, a).await
        }
        Command::Plan(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::network::plan(&store, lang, &who, cmd).await
        }
        Command::Policy(cmd) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            crate::network::policy(&store, lang, &who, cmd).await
        }
        Command::Serve(a) => serve(&cli, lang, a).await,
        Command::Healthcheck(f) => {
            let store = open(&cli, lang, OpenMode::Existing).await?;
            let report = store.integrity_check().await.map_err(|e| Failure::store(lang, &e))?;
            let mut out = std::io::stdout().lock();
            if f.format == Format::Json {
                output::json(&mut out, &report).map_err(io_fail)?;
            } else {
                writeln!(out, "{}", tf(lang, "cli.healthy", &[
                    ("backend", &report.backend.name()),
                    ("schema", &report.schema_version),
                    ("audit", &report.audit_entries),
                ])).map_err(io_fail)?;
            }
            Ok(())
        }
    }
}

async fn load_demo(store: &Store, who: &str, lang: Lang) -> Result<usize, Failure> {
    let snap = Snapshot::parse_bytes("content/demo/minato-clinic.json", DEMO_FACILITY.as_bytes())
        .map_err(|e| Failure::store(lang, &e))?;
    let summary = store.import_snapshot(who, &snap, "demo.load").await.map_err(|e| match e {
        StoreError::NotEmpty(_) => Failure(t(lang, "cli.demo_not_empty").to_owned(), 1),
        other => Failure::store(lang, &other),
    })?;
    Ok(summary.assets)
}

fn asset_row(a: &Asset, lang: Lang, segments: &[Segment]) -> Vec<String> {
    let d = &a.data;
    let seg = d
        .interfaces
        .iter()
        .find_map(|i| i.segment_id)
        .and_then(|s| segments.iter().find(|x| x.id == s))
        .map(|s| s.name.clone())
        .unwrap_or_default();
    vec![
        a.id.to_string(),
        d.name.clone(),
        t(lang, &d.kind.label_key()).to_owned(),
        d.primary_ip().unwrap_or("").to_owned(),
        d.interfaces.iter().find_map(|i| i.mac.clone()).unwrap_or_default(),
        [d.os.as_deref(), d.os_version.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
        d.location.clone().unwrap_or_default(),
        d.department.clone().unwrap_or_default(),
        seg,
    ]
}

fn asset_header(lang: Lang) -> Vec<&'static str> {
    ["ID", "field.name", "field.kind", "field.ip", "field.mac", "field.os", "field.location", "field.department", "field.segment"]
        .iter()
        .map(|k| if k.contains('.') { t(lang, k) } else { k })
        .collect()
}

fn apply_fields(d: &mut AssetData, f: &AssetFields) {
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = &f.$field { d.$field = if v.is_empty() { None } else { Some(v.clone()) }; } )* };
    }
    set!(vendor, product, model, os, os_version, serial, location, department, owner, notes);
    if let Some(n) = &f.name {
        d.name = n.clone();
    }
    if let Some(k) = f.kind {
        d.kind = k;
    }
    if let Some(c) = f.criticality {
        d.criticality = c;
    }
    if let Some(b) = f.internet_facing {
        d.internet_facing = b;
    }
    if let Some(b) = f.endpoint_protection {
        d.endpoint_protection = Some(b);
    }
    if f.ip.is_some() || f.mac.is_some() || f.segment.is_some() {
        if d.interfaces.is_empty() {
            d.interfaces.push(Interface { name: None, ip: None, mac: None, segment_id: None });
        }
        if let Some(i) = d.interfaces.first_mut() {
            if let Some(ip) = &f.ip {
                i.ip = Some(ip.clone()).filter(|s| !s.is_empty());
            }
            if let Some(mac) = &f.mac {
                i.mac = Some(mac.clone()).filter(|s| !s.is_empty());
            }
            if let Some(s) = f.segment {
                i.segment_id = Some(s);
            }
        }
    }
}

fn print_asset(a: &Asset, lang: Lang, format: Format, segments: &[Segment]) -> CliResult {
    let mut out = std::io::stdout().lock();
    if format == Format::Json {
        return output::json(&mut out, a).map_err(io_fail);
    }
    let d = &a.data;
    let yn = |b: Option<bool>| match b {
        Some(true) => t(lang, "common.yes"),
        Some(false) => t(lang, "common.no"),
        None => t(lang, "common.unknown"),
    };
    let attr_labels: Vec<String> = d.attributes.keys().map(|k| mamori_i18n::attr_label(lang, k)).collect();
    let mut rows: Vec<(&str, String)> = vec![
        ("ID", a.id.to_string()),
        (t(lang, "field.name"), d.name.clone()),
        (t(lang, "field.kind"), t(lang, &d.kind.label_key()).to_owned()),
    ];
    for (k, v) in [
        ("field.vendor", &d.vendor),
        ("field.product", &d.product),
        ("field.model", &d.model),
        ("field.os", &d.os),
        ("field.os_version", &d.os_version),
        ("field.serial", &d.serial),
        ("field.location", &d.location),
        ("field.department", &d.department),
        ("field.owner", &d.owner),
        ("field.last_seen", &d.last_seen),
        ("field.notes", &d.notes),
    ] {
        if let Some(v) = v {
            rows.push((t(lang, k), v.clone()));
        }
    }
    rows.push((t(lang, "field.criticality"), t(lang, &d.criticality.label_key()).to_owned()));
    rows.push((t(lang, "field.internet_facing"), yn(Some(d.internet_facing)).to_owned()));
    rows.push((t(lang, "field.endpoint_protection"), yn(d.endpoint_protection).to_owned()));
    for (label, v) in attr_labels.iter().zip(d.attributes.values()) {
        rows.push((label.as_str(), v.clone()));
    }
    for (label, value) in rows {
        writeln!(out, "{label}: {value}").map_err(io_fail)?;
    }
    for i in &d.interfaces {
        let seg = i.segment_id.and_then(|s| segments.iter().find(|x| x.id == s)).map(|s| s.name.as_str()).unwrap_or("-");
        writeln!(out, "  {} {} {} {} [{}]", t(lang, "field.interface"), i.name.as_deref().unwrap_or("-"), i.ip.as_deref().unwrap_or("-"), i.mac.as_deref().unwrap_or("-"), seg).map_err(io_fail)?;
    }
    for s in &d.software {
        writeln!(out, "  {} {} {} {}", t(lang, "assets.software"), s.name, s.version.as_deref().unwrap_or(""), s.cpe.as_deref().unwrap_or("")).map_err(io_fail)?;
    }
    Ok(())
}

async fn asset(cli: &Cli, lang: Lang, who: &str, cmd: &AssetCmd) -> CliResult {
    // The template needs no database.
    if let AssetCmd::Template { output } = cmd {
        return crate::inventory::template(lang, output.as_deref());
    }
    let store = open(cli, lang, OpenMode::Existing).await?;
    let segments = store.list_segments().await.map_err(|e| Failure::store(lang, &e))?;
    match cmd {
        AssetCmd::List(a) => {
            let sort = AssetSort::parse(&a.sort).ok_or_else(|| Failure(tf(lang, "cli.bad_sort", &[("sort", &a.sort)]), 2))?;
            let page = store
                .list_assets(&AssetQuery { q: a.search.clone(), kind: a.kind, segment_id: a.segment, sort, descending: a.desc, ..Default::default() })
                .await
                .map_err(|e| Failure::store(lang, &e))?;
            let rows: Vec<Vec<String>> = page.items.iter().map(|x| asset_row(x, lang, &segments)).collect();
            emit(a.format, &asset_header(lang), &rows, &page.items)
        }
        AssetCmd::Show { id, format } => {
            let a = store.get_asset(*id, None).await.map_err(|e| Failure::store(lang, &e))?;
            print_asset(&a, lang, *format, &segments)
        }
        AssetCmd::Add(f) => {
            let (Some(name), Some(kind)) = (&f.name, f.kind) else {
                return Err(Failure(t(lang, "cli.add_needs_name_kind").to_owned(), 2));
            };
            let mut d = AssetData::new(name.clone(), kind);
            apply_fields(&mut d, f);
            let a = store.create_asset(who, &d).await.map_err(|e| Failure::store(lang, &e))?;
            if f.format == Format::Json {
                return print_asset(&a, lang, Format::Json, &segments);
            }
            println!("{}", tf(lang, "cli.asset_added", &[("id", &a.id), ("name", &a.data.name)]));
            Ok(())
        }
        AssetCmd::Edit { id, fields } => {
            let old = store.get_asset(*id, None).await.map_err(|e| Failure::store(lang, &e))?;
            let mut d = old.data.clone();
            apply_fields(&mut d, fields);
            let a = store.update_asset(who, *id, &d).await.map_err(|e| Failure::store(lang, &e))?;
            if fields.format == Format::Json {
                return print_asset(&a, lang, Format::Json, &segments);
            }
            let key = if d == old.data { "cli.asset_unchanged" } else { "cli.asset_updated" };
            println!("{}", tf(lang, key, &[("id", &a.id), ("name", &a.data.name)]));
            Ok(())
        }
        AssetCmd::Remove { id } => {
            store.delete_asset(who, *id).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.asset_removed", &[("id", id)]));
            Ok(())
        }
        AssetCmd::Import(a) => crate::inventory::import(&store, lang, who, a).await,
        AssetCmd::Export(a) => crate::inventory::export(&store, lang, who, a).await,
        AssetCmd::Template { .. } => Ok(()),
        AssetCmd::Sources { id, format } => crate::inventory::sources(&store, lang, *id, *format).await,
    }
}

async fn segment(cli: &Cli, lang: Lang, who: &str, cmd: &SegmentCmd) -> CliResult {
    let store = open(cli, lang, OpenMode::Existing).await?;
    match cmd {
        SegmentCmd::List(f) => {
            let segs = store.list_segments().await.map_err(|e| Failure::store(lang, &e))?;
            let header = ["ID", t(lang, "field.name"), t(lang, "field.purpose"), "CIDR", "VLAN"];
            let rows: Vec<Vec<String>> = segs
                .iter()
                .map(|s| vec![s.id.to_string(), s.name.clone(), t(lang, &s.purpose.label_key()).to_owned(), s.cidr.clone().unwrap_or_default(), s.vlan.map(|v| v.to_string()).unwrap_or_default()])
                .collect();
            emit(f.format, &header, &rows, &segs)
        }
        SegmentCmd::Add { name, purpose, cidr, vlan, description } => {
            let s = store
                .create_segment(who, &Segment { id: 0, name: name.clone(), purpose: *purpose, cidr: cidr.clone(), vlan: *vlan, description: description.clone() })
                .await
                .map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.segment_added", &[("id", &s.id), ("name", &s.name)]));
            Ok(())
        }
    }
}

/// Reads a password without ever taking it from the command line: a prompt on a terminal
/// (asked twice), otherwise the first line of standard input.
fn read_password(lang: Lang) -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password(format!("{}: ", t(lang, "cli.password_prompt"))).map_err(io_fail)?;
        let b = rpassword::prompt_password(format!("{}: ", t(lang, "cli.password_again"))).map_err(io_fail)?;
        if a != b {
            return Err(Failure(t(lang, "cli.password_mismatch").to_owned(), 2));
        }
        Ok(a)
    } else {
        let mut s = String::new();
        std::io::stdin().lock().take(4096).read_to_string(&mut s).map_err(io_fail)?;
        Ok(s.lines().next().unwrap_or("").to_owned())
    }
}

async fn find_user(store: &Store, lang: Lang, name: &str) -> Result<mamori_model::User, Failure> {
    let users = store.list_users().await.map_err(|e| Failure::store(lang, &e))?;
    users
        .into_iter()
        .find(|u| u.username == name)
        .ok_or_else(|| Failure::store(lang, &StoreError::Missing { entity: "user", id: name.to_owned() }))
}

async fn user(cli: &Cli, lang: Lang, who: &str, cmd: &UserCmd) -> CliResult {
    let store = open(cli, lang, OpenMode::Existing).await?;
    match cmd {
        UserCmd::Add { username, role, display_name, vendor } => {
            let pw = read_password(lang)?;
            let u = store
                .create_user(who, username, display_name.as_deref(), *role, *vendor, &pw)
                .await
                .map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.user_added", &[("name", &u.username), ("role", &t(lang, &u.role.label_key()))]));
            Ok(())
        }
        UserCmd::List(f) => {
            let users = store.list_users().await.map_err(|e| Failure::store(lang, &e))?;
            let header = ["ID", t(lang, "login.username"), t(lang, "users.display_name"), t(lang, "users.role"), t(lang, "users.state")];
            let rows: Vec<Vec<String>> = users
                .iter()
                .map(|u| vec![u.id.to_string(), u.username.clone(), u.display_name.clone().unwrap_or_default(), t(lang, &u.role.label_key()).to_owned(), t(lang, if u.disabled { "users.disabled" } else { "users.enabled" }).to_owned()])
                .collect();
            emit(f.format, &header, &rows, &users)
        }
        UserCmd::Passwd { username } => {
            let u = find_user(&store, lang, username).await?;
            let pw = read_password(lang)?;
            store.set_password(who, u.id, &pw).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.password_changed", &[("name", username)]));
            Ok(())
        }
        UserCmd::Disable { username } | UserCmd::Enable { username } => {
            let disable = matches!(cmd, UserCmd::Disable { .. });
            let u = find_user(&store, lang, username).await?;
            store.set_user_disabled(who, u.id, disable).await.map_err(|e| Failure::store(lang, &e))?;
            let key = if disable { "cli.user_disabled" } else { "cli.user_enabled" };
            println!("{}", tf(lang, key, &[("name", username)]));
            Ok(())
        }
    }
}

async fn token(cli: &Cli, lang: Lang, who: &str, cmd: &TokenCmd) -> CliResult {
    let store = open(cli, lang, OpenMode::Existing).await?;
    match cmd {
        TokenCmd::Create { user, name } => {
            let u = find_user(&store, lang, user).await?;
            let (tok, secret) = store.create_api_token(who, u.id, name).await.map_err(|e| Failure::store(lang, &e))?;
            eprintln!("{}", tf(lang, "cli.token_created", &[("id", &tok.id), ("name", &tok.name)]));
            println!("{secret}");
            Ok(())
        }
        TokenCmd::List(f) => {
            let tokens = store.list_api_tokens().await.map_err(|e| Failure::store(lang, &e))?;
            let header = ["ID", t(lang, "tokens.name"), "user_id", t(lang, "audit.at"), t(lang, "users.state")];
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|x| vec![x.id.to_string(), x.name.clone(), x.user_id.to_string(), x.created_at.clone(), t(lang, if x.revoked { "tokens.revoked" } else { "tokens.active" }).to_owned()])
                .collect();
            emit(f.format, &header, &rows, &tokens)
        }
        TokenCmd::Revoke { id } => {
            store.revoke_api_token(who, *id).await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.token_revoked", &[("id", id)]));
            Ok(())
        }
    }
}

async fn audit(cli: &Cli, lang: Lang, cmd: &AuditCmd) -> CliResult {
    let store = open(cli, lang, OpenMode::Existing).await?;
    match cmd {
        AuditCmd::List { limit, format } => {
            let entries = store.list_audit(&AuditFilter { limit: *limit, ..Default::default() }).await.map_err(|e| Failure::store(lang, &e))?;
            let header = ["#", t(lang, "audit.at"), t(lang, "audit.actor"), t(lang, "audit.action"), t(lang, "audit.entity"), t(lang, "audit.detail")];
            let rows: Vec<Vec<String>> = entries
                .iter()
                .map(|e| vec![e.seq.to_string(), e.at.clone(), e.actor.clone(), e.action.clone(), format!("{}{}", e.entity, e.entity_id.map(|i| format!(" #{i}")).unwrap_or_default()), e.detail.clone()])
                .collect();
            emit(*format, &header, &rows, &entries)
        }
        AuditCmd::Verify => {
            let n = store.verify_audit().await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "audit.intact", &[("n", &n)]));
            Ok(())
        }
    }
}

async fn db(cli: &Cli, lang: Lang, who: &str, cmd: &DbCmd) -> CliResult {
    match cmd {
        DbCmd::Export { file } => {
            let store = open(cli, lang, OpenMode::Existing).await?;
            let snap = store.export_snapshot().await.map_err(|e| Failure::store(lang, &e))?;
            let json = serde_json::to_vec_pretty(&snap).map_err(|e| Failure(e.to_string(), 1))?;
            if file.as_os_str() == "-" {
                std::io::stdout().lock().write_all(&json).map_err(io_fail)?;
            } else {
                // Write next to the target and rename, so a crash never leaves half a file.
                let tmp = file.with_extension("json.partial");
                std::fs::write(&tmp, &json).map_err(|e| Failure(format!("{}: {e}", tmp.display()), 1))?;
                std::fs::rename(&tmp, file).map_err(|e| Failure(format!("{}: {e}", file.display()), 1))?;
                eprintln!("{}", tf(lang, "cli.exported", &[("file", &file.display()), ("n", &snap.assets.len())]));
            }
            Ok(())
        }
        DbCmd::Import { file } => {
            let name = file.display().to_string();
            let f = std::fs::File::open(file).map_err(|e| Failure(format!("{name}: {e}"), 1))?;
            let snap = Snapshot::parse(&name, std::io::BufReader::new(f)).map_err(|e| Failure::store(lang, &e))?;
            let store = open(cli, lang, OpenMode::Create).await?;
            let s = store.import_snapshot(who, &snap, "db.import").await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.imported", &[("file", &name), ("assets", &s.assets), ("audit", &s.audit_entries)]));
            Ok(())
        }
        DbCmd::Copy { to } => {
            let from = open(cli, lang, OpenMode::Existing).await?;
            from.verify_audit().await.map_err(|e| Failure::store(lang, &e))?;
            let snap = from.export_snapshot().await.map_err(|e| Failure::store(lang, &e))?;
            let target = Store::open(to, OpenMode::Create).await.map_err(|e| Failure::store(lang, &e))?;
            let s = target.import_snapshot(who, &snap, "db.copy").await.map_err(|e| Failure::store(lang, &e))?;
            target.verify_audit().await.map_err(|e| Failure::store(lang, &e))?;
            println!("{}", tf(lang, "cli.copied", &[("to", &target.location().display()), ("assets", &s.assets), ("audit", &s.audit_entries)]));
            Ok(())
        }
    }
}

fn random_password() -> String {
    use rand::Rng;
    // Letters and digits without look-alikes (0/O, 1/l/I); 16 characters ≈ 93 bits.
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rngs::OsRng;
    (0..16)
        .map(|_| char::from(ALPHABET.get(rng.gen_range(0..ALPHABET.len())).copied().unwrap_or(b'x')))
        .collect()
}

async fn serve(cli: &Cli, lang: Lang, a: &ServeArgs) -> CliResult {
    // A demo database lives in a fresh temporary directory and disappears on exit.
    let mut demo_dir: Option<PathBuf> = None;
    let store = if a.demo {
        let dir = std::env::temp_dir().join(format!("mamori-demo-{}-{}", std::process::id(), random_password()));
        std::fs::create_dir_all(&dir).map_err(io_fail)?;
        let path = dir.join("demo.db");
        demo_dir = Some(dir);
        let store = Store::open(&path.display().to_string(), OpenMode::Create).await.map_err(|e| Failure::store(lang, &e))?;
        load_demo(&store, "mamori demo", lang).await?;
        let mut logins = Vec::new();
        for (name, role, display) in [("admin", Role::Admin, "事務長 (管理者)"), ("manager", Role::Manager, "医療情報システム安全管理責任者"), ("viewer", Role::Viewer, "院長 (閲覧)")] {
            let pw = random_password();
            store.create_user("mamori demo", name, Some(display), role, None, &pw).await.map_err(|e| Failure::store(lang, &e))?;
            logins.push((name, role, pw));
        }
        println!("{}", t(lang, "cli.demo_banner"));
        let label_width = logins.iter().map(|(_, r, _)| t(lang, &r.label_key()).width()).max().unwrap_or(0);
        for (name, role, pw) in &logins {
            let key = role.label_key();
            let label = t(lang, &key);
            println!("  {name:<8} {label}{}  {pw}", " ".repeat(label_width.saturating_sub(label.width())));
        }
        store
    } else {
        open(cli, lang, OpenMode::Existing).await?
    };
    let listener = tokio::net::TcpListener::bind(a.listen)
        .await
        .map_err(|e| Failure(tf(lang, "cli.cannot_listen", &[("addr", &a.listen), ("detail", &e)]), 1))?;
    let local = listener.local_addr().map_err(io_fail)?;
    if !local.ip().is_loopback() {
        eprintln!("{}", tf(lang, "cli.listening_public", &[("addr", &local)]));
    }
    println!("{}", tf(lang, "cli.listening", &[("url", &format!("http://{local}/"))]));
    let state = mamori_web::AppState::new(store.clone(), mamori_web::Config { cookie_secure: a.cookie_secure, ..Default::default() });
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let r = mamori_web::serve(listener, state, shutdown).await;
    store.close().await;
    if let Some(dir) = demo_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    r.map_err(io_fail)
}
