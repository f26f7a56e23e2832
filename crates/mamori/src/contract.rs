//! `mamori contract …`: the responsibility matrix and the clauses for each vendor's contract.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use mamori_i18n::{Lang, t, tf};
use mamori_model::Id;
use mamori_store::Store;

use crate::cli::{CliResult, Failure, Format, emit, io_fail};
use crate::output;

#[derive(Subcommand)]
pub enum ContractCmd {
    /// 対応分担表（チェックリストの項目 × 医療機関・各事業者） / The responsibility matrix
    Matrix(MatrixArgs),
    /// 分担を設定 / Assign a topic
    Set(SetArgs),
    /// 保守契約に明記する事項（事業者ごと） / Clauses for a vendor's maintenance contract
    Clauses(ClauseArgs),
}

#[derive(Args)]
pub struct MatrixArgs {
    /// 版（既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Args)]
pub struct SetArgs {
    /// 項目の分類（topic: patch, backup, remote_maintenance …。matrix --format json で確認） / Topic key
    topic: String,
    /// 医療機関が対応する / The facility acts
    #[arg(long)]
    facility: bool,
    /// 対応する事業者（複数可） / Vendors that act (repeatable)
    #[arg(long)]
    vendor: Vec<String>,
    /// 該当なし / Not applicable
    #[arg(long)]
    not_applicable: bool,
    /// 備考 / Note
    #[arg(long)]
    note: Option<String>,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ClauseFormat {
    Text,
    Html,
    Docx,
    Json,
}

#[derive(Args)]
pub struct ClauseArgs {
    /// 事業者名 / Vendor name
    #[arg(long)]
    vendor: String,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: ClauseFormat,
    /// 出力先（既定: 画面） / Output file (default: standard output)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// 通常の更新の期限（日） / Days to apply ordinary security updates
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// KEV 掲載・緊急の注意喚起からの期限（日） / Days after a KEV listing or emergency advisory
    #[arg(long, default_value_t = 7)]
    kev_days: u32,
    /// 版（既定: 最新） / Edition (default: the newest)
    #[arg(long)]
    edition: Option<String>,
}

async fn edition(store: &Store, lang: Lang, given: &Option<String>) -> Result<String, Failure> {
    match given {
        Some(e) => Ok(store.checklist_edition(e).await.map_err(|e| Failure::store(lang, &e))?.id),
        None => Ok(store.latest_checklist_edition().await.map_err(|e| Failure::store(lang, &e))?.id),
    }
}

pub(crate) async fn vendor_by_name(store: &Store, lang: Lang, name: &str) -> Result<Id, Failure> {
    let vendors = store.list_vendors().await.map_err(|e| Failure::store(lang, &e))?;
    vendors
        .iter()
        .find(|v| v.name == name)
        .or_else(|| vendors.iter().find(|v| v.name.contains(name)))
        .map(|v| v.id)
        .ok_or_else(|| Failure(tf(lang, "checklist_cli.no_vendor", &[("name", &name)]), 1))
}

pub async fn run(store: &Store, lang: Lang, who: &str, cmd: &ContractCmd) -> CliResult {
    let fail = |e: mamori_store::StoreError| Failure::store(lang, &e);
    match cmd {
        ContractCmd::Matrix(a) => {
            let ed = edition(store, lang, &a.edition).await?;
            let m = store.responsibility_matrix(&ed).await.map_err(fail)?;
            let mark = |b: bool| if b { "●" } else { "" }.to_owned();
            let mut header: Vec<String> = vec![t(lang, "contract_cli.h_items").to_owned(), t(lang, "contract_cli.h_topic").to_owned(), t(lang, "party.facility").to_owned()];
            header.extend(m.vendors.iter().map(|v| v.name.clone()));
            header.push(t(lang, "contract_cli.h_na").to_owned());
            header.push(t(lang, "contract_cli.h_set").to_owned());
            let rows: Vec<Vec<String>> = m
                .rows
                .iter()
                .map(|r| {
                    let x = &r.responsibility;
                    let mut row = vec![r.items.join(", "), r.topic.clone(), mark(x.facility)];
                    row.extend(m.vendors.iter().map(|v| mark(x.vendor_ids.contains(&v.id))));
                    row.push(mark(x.not_applicable));
                    row.push(t(lang, if x.default { "contract_cli.default" } else { "contract_cli.assigned" }).to_owned());
                    row
                })
                .collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            emit(a.format, &header, &rows, &m)
        }
        ContractCmd::Set(a) => {
            let mut ids = Vec::new();
            for v in &a.vendor {
                ids.push(vendor_by_name(store, lang, v).await?);
            }
            store
                .set_responsibility(who, &a.topic, a.facility, &ids, a.not_applicable, a.note.as_deref())
                .await
                .map_err(fail)?;
            println!("{}", tf(lang, "contract_cli.set", &[("topic", &a.topic)]));
            Ok(())
        }
        ContractCmd::Clauses(a) => {
            let ed = edition(store, lang, &a.edition).await?;
            let vendor = vendor_by_name(store, lang, &a.vendor).await?;
            let c = store.contract_clauses(lang, &ed, vendor, a.days, a.kev_days).await.map_err(fail)?;
            if a.format == ClauseFormat::Docx {
                let bytes = mamori_web::contract::clauses_docx(lang, &c).map_err(|e| Failure(e, 1))?;
                let path = a.output.clone().unwrap_or_else(|| PathBuf::from("contract-clauses.docx"));
                std::fs::write(&path, bytes).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
                println!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
                return Ok(());
            }
            let out = match a.format {
                ClauseFormat::Docx => String::new(),
                ClauseFormat::Json => {
                    let mut buf = Vec::new();
                    output::json(&mut buf, &c).map_err(io_fail)?;
                    String::from_utf8_lossy(&buf).into_owned()
                }
                ClauseFormat::Html => mamori_web::contract::clauses_html(lang, &c),
                ClauseFormat::Text => {
                    let mut s = tf(lang, "contract_cli.clauses_title", &[("vendor", &c.vendor.name), ("facility", &c.facility)]);
                    s.push('\n');
                    if !c.devices.is_empty() {
                        s.push_str(&format!("{}: {}\n", t(lang, "contract_page.devices"), c.devices.join(", ")));
                    }
                    let mut n = 0;
                    for g in &c.groups {
                        s.push_str(&format!("\n■ {}", g.title));
                        if !g.items.is_empty() {
                            s.push_str(&format!("（{}）", g.items.join(", ")));
                        }
                        s.push('\n');
                        for clause in &g.clauses {
                            n += 1;
                            s.push_str(&format!("{n}. {clause}\n"));
                        }
                    }
                    s
                }
            };
            match &a.output {
                Some(path) => {
                    std::fs::write(path, out).map_err(|e| Failure(format!("{}: {e}", path.display()), 1))?;
                    println!("{}", tf(lang, "checklist_cli.exported", &[("path", &path.display())]));
                }
                None => print!("{out}"),
            }
            Ok(())
        }
    }
}
