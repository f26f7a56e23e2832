//! `mamori feed …` and `mamori vuln …` as a user runs them, on SQLite and PostgreSQL: the demo
//! clinic's FortiGate found through the real NVD records, the CISA KEV catalog and EPSS; a
//! re-import that changes nothing; a false positive that needs a reason and is kept in the
//! history; the facility's VEX export read back; broken and foreign files; `feed sync` against
//! a local server (NVD paging, the API key, CSAF provider metadata → ROLIE → advisory with its
//! SHA-512, incremental NVD, resuming an interrupted NVD run, plain http refused); and the
//! Zyxel (firmware + hardware) and Cisco IOS (exact release) records on hand-entered CPE names.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mamori_store::testing::{TempDir, TestDb, fresh_databases};
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};

mod common;
use common::{fails, ok};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../mamori-vuln/tests/fixtures");
const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/demo/minato-clinic.json");
const API_KEY: &str = "test-key-123";
const FORTIOS_724: &str = "cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*";

fn nvd_dir() -> PathBuf {
    PathBuf::from(DATA).join("nvd")
}

fn nvd(id: &str) -> PathBuf {
    nvd_dir().join(format!("{id}.json"))
}

fn kev() -> PathBuf {
    PathBuf::from(DATA).join("kev/known_exploited_vulnerabilities.json")
}

fn epss() -> PathBuf {
    PathBuf::from(FIXTURES).join("epss/epss_scores-sample.csv")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(db: &str, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fresh, empty databases: SQLite always, PostgreSQL when `MAMORI_TEST_PG_URL` names a server.
fn backends() -> Vec<(&'static str, TestDb)> {
    tokio::runtime::Runtime::new().unwrap().block_on(fresh_databases())
}

/// `feed status --format json` by kind.
fn status(db: &str) -> BTreeMap<String, Value> {
    let v = json(db, &["feed", "status", "--format", "json"]);
    v.as_array().unwrap().iter().map(|s| (s["kind"].as_str().unwrap().to_owned(), s.clone())).collect()
}

fn findings(db: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["vuln", "list", "--format", "json"];
    args.extend_from_slice(extra);
    json(db, &args).as_array().unwrap().clone()
}

/// Today in Asia/Tokyo plus `days` (due dates are counted from the facility's today).
fn jst_today_plus(days: i64) -> String {
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").unwrap();
    let today = jiff::Timestamp::now().to_zoned(tz).date();
    today.checked_add(jiff::Span::new().days(days)).unwrap().to_string()
}

/// The demo's FortiGate as its source file gives it: asset id, and the vendor of the contract
/// that covers it (id, name).
fn demo_fortigate() -> (i64, i64, String) {
    let demo = read_json(Path::new(DEMO));
    let asset = demo["assets"].as_array().unwrap().iter().find(|a| a["name"].as_str().unwrap().contains("FortiGate")).unwrap();
    let id = asset["id"].as_i64().unwrap();
    let contract = demo["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["asset_ids"].as_array().unwrap().iter().any(|a| a.as_i64() == Some(id)))
        .unwrap();
    let vendor_id = contract["vendor_id"].as_i64().unwrap();
    let vendor = demo["vendors"].as_array().unwrap().iter().find(|v| v["id"].as_i64() == Some(vendor_id)).unwrap();
    (id, vendor_id, vendor["name"].as_str().unwrap().to_owned())
}

/// The demo clinic with the NVD folder, the KEV catalog and the EPSS sample imported.
fn demo_with_feeds(db: &str) -> Value {
    ok(db, &["demo"]);
    json(db, &["feed", "import", &s(&nvd_dir()), &s(&kev()), &s(&epss()), "--format", "json"])
}

fn nvd_files_in_folder() -> usize {
    std::fs::read_dir(nvd_dir()).unwrap().filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json")).count()
}

/// What a user compares between two listings: everything but when the match last ran.
fn finding_keys(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|f| {
            format!(
                "{} {} {} {} {} {} {} {}",
                f["asset_id"], f["vuln_id"], f["status"], f["confidence"], f["priority"], f["due_date"], f["responsible"], f["first_seen"]
            )
        })
        .collect()
}

#[test]
fn feeds_put_the_exploited_fortigate_holes_of_the_demo_first() {
    let (fgt, vendor_id, vendor_name) = demo_fortigate();
    for (backend, db) in backends() {
        let db = db.url.as_str();
        let out = demo_with_feeds(db);
        let files = out["files"].as_array().unwrap();
        let n_nvd = nvd_files_in_folder();
        assert_eq!(files.len(), n_nvd + 2, "{backend}: every NVD file, KEV, EPSS: {out}");
        for kind in ["nvd", "kev", "epss"] {
            assert!(files.iter().any(|f| f["kind"] == kind), "{backend}: {kind} imported: {out}");
        }
        assert!(files.iter().all(|f| f["records"].as_u64().unwrap() > 0 && f["skipped"] == 0), "{backend}: {out}");

        let list = findings(db, &[]);
        assert!(list.len() >= 2, "{backend}: {list:?}");
        let mut top: Vec<&str> = list[..2].iter().map(|f| f["vuln_id"].as_str().unwrap()).collect();
        top.sort_unstable();
        assert_eq!(top, ["CVE-2023-27997", "CVE-2024-21762"], "{backend}: the exploited FortiOS holes lead the list");
        for f in &list[..2] {
            let id = &f["vuln_id"];
            assert!(f["asset_name"].as_str().unwrap().contains("FortiGate"), "{backend} {id}: {f}");
            assert_eq!(f["asset_id"].as_i64(), Some(fgt), "{backend} {id}");
            assert!(f["kev"].is_object() && f["kev"]["ransomware"] == true, "{backend} {id}: KEV-listed, ransomware: {f}");
            assert_eq!(f["priority"]["band"], 1, "{backend} {id}: {f}");
            assert_eq!(f["hit"]["device_cpe"], FORTIOS_724, "{backend} {id}");
            assert_eq!(f["confidence"], "version_range", "{backend} {id}");
            assert_eq!(f["status"], "open", "{backend} {id}");
            assert!(f["epss"].as_f64().unwrap() > 0.9, "{backend} {id}: EPSS from the sample: {f}");
            // The network vendor's contract covers the FortiGate.
            assert_eq!(f["responsible"]["party"], "vendor", "{backend} {id}: {f}");
            assert_eq!(f["responsible"]["vendor_id"].as_i64(), Some(vendor_id), "{backend} {id}");
            assert_eq!(f["responsible"]["vendor_name"], vendor_name.as_str(), "{backend} {id}");
            // KEV-listed: due within --kev-days (7 by default) of being found.
            assert_eq!(f["due_date"], jst_today_plus(7).as_str(), "{backend} {id}");
        }
        assert!(list[0]["priority"]["score"].as_f64() >= list[1]["priority"]["score"].as_f64(), "{backend}: most urgent first");
        let in_range = list.iter().find(|f| f["vuln_id"] == "CVE-2024-21762").unwrap();
        assert_eq!(in_range["hit"]["range"], ">= 7.2.0, < 7.2.7", "{backend}: why it matched");

        // CVE-2022-40684 is known but FortiOS 7.2.4 is outside its ranges (7.2.0–7.2.1).
        let all = findings(db, &["--all"]);
        assert!(!all.iter().any(|f| f["vuln_id"] == "CVE-2022-40684"), "{backend}: {all:?}");
        let shown = json(db, &["vuln", "show", "CVE-2022-40684", "--format", "json"]);
        assert!(shown["kev"].is_object() && shown["findings"].as_array().unwrap().is_empty(), "{backend}: {shown}");

        // The vendor sees its tasks; another vendor does not.
        let theirs = findings(db, &["--vendor", &vendor_name]);
        assert_eq!(theirs.len(), 2, "{backend}: {theirs:?}");
        assert!(findings(db, &["--vendor", "なにわ"]).iter().all(|f| f["asset_id"].as_i64() != Some(fgt)), "{backend}");
        let table = ok(db, &["vuln", "list"]);
        assert!(table.contains("CVE-2024-21762") && table.contains("KEV+RW") && table.contains(&vendor_name), "{backend}: {table}");

        // Freshness: what was imported, with the file's checksum; JVN never was.
        let st = status(db);
        for kind in ["nvd", "kev", "epss"] {
            assert!(st[kind]["records"].as_i64().unwrap() > 0, "{backend} {kind}: {:?}", st[kind]);
            assert_eq!(st[kind]["stale"], false, "{backend} {kind}: {:?}", st[kind]);
        }
        assert_eq!(st["nvd"]["imported_files"].as_u64(), Some(n_nvd as u64), "{backend}");
        assert_eq!(st["kev"]["records"], 1404, "{backend}: the whole catalog");
        assert_eq!(st["kev"]["last_sha256"], sha256_hex(&std::fs::read(kev()).unwrap()).as_str(), "{backend}");
        assert_eq!(st["kev"]["feed_date"], "2025.08.25", "{backend}: the catalog version");
        assert_eq!(st["epss"]["last_sha256"], sha256_hex(&std::fs::read(epss()).unwrap()).as_str(), "{backend}");
        assert_eq!(st["epss"]["records"], 15, "{backend}");
        // Files of a folder are read in name order: the last NVD file is the last one.
        let last = nvd("CVE-2024-3400");
        assert_eq!(st["nvd"]["last_source"], s(&last).as_str(), "{backend}");
        assert_eq!(st["nvd"]["last_sha256"], sha256_hex(&std::fs::read(&last).unwrap()).as_str(), "{backend}");
        assert_eq!(st["jvn"]["stale"], true, "{backend}: never imported: {:?}", st["jvn"]);
        assert_eq!(st["jvn"]["records"], 0, "{backend}");
        assert!(st["jvn"]["last_import"].is_null(), "{backend}");
        // The table says so on standard error.
        let o = common::mamori(db, &["feed", "status"]);
        assert!(o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("JVN"), "{backend}: stale warning for JVN: {err}");
    }
}

#[test]
fn importing_the_same_nvd_folder_again_changes_nothing() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        demo_with_feeds(db);
        let before = findings(db, &["--all"]);
        let status_before = status(db);
        let again = json(db, &["feed", "import", &s(&nvd_dir()), "--format", "json"]);
        let files = again["files"].as_array().unwrap();
        assert_eq!(files.len(), nvd_files_in_folder(), "{backend}");
        for f in files {
            assert_eq!((f["inserted"].as_u64(), f["updated"].as_u64(), f["removed"].as_u64()), (Some(0), Some(0), Some(0)), "{backend}: {f}");
            assert_eq!(f["unchanged"], f["records"], "{backend}: {f}");
        }
        assert_eq!(again["match"]["new"], 0, "{backend}: {again}");
        assert_eq!(again["match"]["gone"], 0, "{backend}: {again}");
        let after = findings(db, &["--all"]);
        assert_eq!(finding_keys(&after), finding_keys(&before), "{backend}: the same findings, due dates kept");
        assert_eq!(status(db)["nvd"]["records"], status_before["nvd"]["records"], "{backend}");
    }
}

#[test]
fn a_false_positive_needs_a_justification_or_reason_and_is_kept_in_the_history() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        demo_with_feeds(db);
        let fgt = findings(db, &[]).iter().find(|f| f["vuln_id"] == "CVE-2024-21762").unwrap()["asset_id"].to_string();
        let set = |extra: &[&str]| {
            let mut args = vec!["vuln", "set", fgt.as_str(), "CVE-2024-21762"];
            args.extend_from_slice(extra);
            args.iter().map(|a| (*a).to_owned()).collect::<Vec<String>>()
        };
        let run_fails = |v: Vec<String>| {
            let args: Vec<&str> = v.iter().map(String::as_str).collect();
            fails(db, &args)
        };

        // Without a why: refused, and the message says what is missing.
        let err = run_fails(set(&["--status", "false-positive"]));
        assert!(err.contains("--justification") && err.contains("--reason"), "{backend}: {err}");
        let err = run_fails(set(&["--status", "false-positive", "--reason", "   "]));
        assert!(err.contains("--reason"), "{backend}: a blank reason is no reason: {err}");
        // A justification outside CycloneDX's list: refused, the allowed values named.
        let err = run_fails(set(&["--status", "false-positive", "--justification", "firewall_blocks_it", "--reason", "x"]));
        assert!(err.contains("firewall_blocks_it") && err.contains("protected_at_perimeter"), "{backend}: {err}");
        // Risk acceptance needs a reason too.
        let err = run_fails(set(&["--status", "accepted"]));
        assert!(err.contains("--reason"), "{backend}: {err}");
        let history = json(db, &["vuln", "history", &fgt, "CVE-2024-21762", "--format", "json"]);
        assert_eq!(history, json!([]), "{backend}: refused changes leave no history");
        assert_eq!(findings(db, &["--cve", "CVE-2024-21762"])[0]["status"], "open", "{backend}");

        let reason = "SSL-VPN を無効化し、443/tcp の公開を停止した（2026-11-20 ベイサイド森氏が設定変更）";
        let args = set(&["--status", "false-positive", "--justification", "protected_at_perimeter", "--reason", reason]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = ok(db, &args);
        assert!(out.contains("CVE-2024-21762"), "{backend}: {out}");

        let history = json(db, &["vuln", "history", &fgt, "CVE-2024-21762", "--format", "json"]);
        let h = history.as_array().unwrap();
        assert_eq!(h.len(), 1, "{backend}: {history}");
        assert_eq!(h[0]["status"], "false_positive", "{backend}");
        assert_eq!(h[0]["justification"], "protected_at_perimeter", "{backend}");
        assert_eq!(h[0]["reason"], reason, "{backend}");
        assert_eq!(h[0]["actor"], "tester", "{backend}");
        let table = ok(db, &["vuln", "history", &fgt, "CVE-2024-21762"]);
        assert!(table.contains("protected_at_perimeter") && table.contains("SSL-VPN"), "{backend}: {table}");

        // Settled: gone from the task list, still there with --all.
        assert!(!findings(db, &[]).iter().any(|f| f["vuln_id"] == "CVE-2024-21762"), "{backend}");
        assert!(findings(db, &[]).iter().any(|f| f["vuln_id"] == "CVE-2023-27997"), "{backend}: the other one stays");
        let all = findings(db, &["--all"]);
        let fp = all.iter().find(|f| f["vuln_id"] == "CVE-2024-21762").unwrap();
        assert_eq!(fp["status"], "false_positive", "{backend}");
        assert_eq!(fp["justification"], "protected_at_perimeter", "{backend}");
        assert_eq!(fp["status_by"], "tester", "{backend}");
        // A new match does not reopen it.
        ok(db, &["vuln", "match"]);
        let all = findings(db, &["--all", "--cve", "CVE-2024-21762"]);
        assert_eq!(all[0]["status"], "false_positive", "{backend}: {all:?}");

        // Audited.
        let audit = json(db, &["audit", "list", "--format", "json"]);
        let entry = audit.as_array().unwrap().iter().find(|e| e["action"] == "vuln.status").expect("a vuln.status audit entry");
        assert_eq!(entry["actor"], "tester", "{backend}");
        assert_eq!(entry["entity_id"].to_string(), fgt, "{backend}");
        assert!(entry["detail"].to_string().contains("CVE-2024-21762") && entry["detail"].to_string().contains("false_positive"), "{backend}: {entry}");
        assert_eq!(audit.as_array().unwrap().iter().filter(|e| e["action"] == "vuln.status").count(), 1, "{backend}: refused changes are not audited");
        ok(db, &["audit", "verify"]);
        // Not a finding: named.
        let err = fails(db, &["vuln", "set", &fgt, "CVE-2099-0001", "--status", "resolved"]);
        assert!(err.contains("CVE-2099-0001"), "{backend}: {err}");
    }
}

/// The refusals of `vuln set` are about the command's options, not about a file.
#[test]
fn status_refusals_are_not_reported_as_unreadable_files() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("demo.db"));
    demo_with_feeds(&db);
    let fgt = findings(&db, &[]).iter().find(|f| f["vuln_id"] == "CVE-2024-21762").unwrap()["asset_id"].to_string();
    let err = fails(&db, &["vuln", "set", &fgt, "CVE-2024-21762", "--status", "false-positive"]);
    assert!(!err.contains("ファイル"), "no file is involved: {err}");
    let err = fails(&db, &["--lang", "en", "vuln", "set", &fgt, "CVE-2024-21762", "--status", "accepted"]);
    assert!(!err.to_lowercase().contains("file"), "no file is involved: {err}");
    let err = fails(&db, &["vuln", "cpe", "add", &fgt, "fortios 7.2.4"]);
    assert!(err.contains("fortios 7.2.4") && !err.contains("ファイル"), "a bad CPE name is not a file error: {err}");
}

#[test]
fn the_vex_export_is_cyclonedx_1_6_and_reads_back_as_vex() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        let dir = TempDir::new().unwrap();
        demo_with_feeds(db);
        let fgt = findings(db, &[]).iter().find(|f| f["vuln_id"] == "CVE-2024-21762").unwrap()["asset_id"].to_string();
        ok(db, &["vuln", "set", &fgt, "CVE-2024-21762", "--status", "false-positive", "--justification", "protected_at_perimeter", "--reason", "SSL-VPN 無効化済み"]);
        let file = dir.0.join("minato-vex.json");
        ok(db, &["vuln", "export", "--format", "cyclonedx-vex", "-o", &s(&file)]);
        let vex = read_json(&file);
        assert_eq!(vex["bomFormat"], "CycloneDX", "{backend}");
        assert_eq!(vex["specVersion"], "1.6", "{backend}");
        assert!(vex["serialNumber"].as_str().unwrap().starts_with("urn:uuid:"), "{backend}: {}", vex["serialNumber"]);
        let vulns = vex["vulnerabilities"].as_array().unwrap();
        let fp = vulns.iter().find(|v| v["id"] == "CVE-2024-21762").unwrap_or_else(|| panic!("{backend}: {vex}"));
        assert_eq!(fp["analysis"]["state"], "not_affected", "{backend}: {fp}");
        assert_eq!(fp["analysis"]["justification"], "protected_at_perimeter", "{backend}: {fp}");
        assert_eq!(fp["analysis"]["detail"], "SSL-VPN 無効化済み", "{backend}: {fp}");
        // The statement is about the FortiGate, named as a component with its firmware.
        let r = fp["affects"][0]["ref"].as_str().unwrap();
        let component = vex["components"].as_array().unwrap().iter().find(|c| c["bom-ref"] == r).unwrap_or_else(|| panic!("{backend}: {r} in {vex}"));
        assert!(component["name"].as_str().unwrap().contains("FortiGate"), "{backend}: {component}");
        assert_eq!(component["cpe"], FORTIOS_724, "{backend}");
        // Still open: in triage.
        let open = vulns.iter().find(|v| v["id"] == "CVE-2023-27997").unwrap();
        assert_eq!(open["analysis"]["state"], "in_triage", "{backend}: {open}");
        // To standard output as well.
        let stdout: Value = serde_json::from_str(&ok(db, &["vuln", "export"])).unwrap();
        assert_eq!(stdout["vulnerabilities"].as_array().unwrap().len(), vulns.len(), "{backend}");
        assert!(json(db, &["audit", "list", "--format", "json"]).to_string().contains("vuln.export"), "{backend}");

        // The file is a CycloneDX VEX that `feed import` reads.
        let back = json(db, &["feed", "import", &s(&file), "--format", "json"]);
        assert_eq!(back["files"][0]["kind"], "vex", "{backend}: {back}");
        assert_eq!(back["files"][0]["records"].as_u64(), Some(vulns.len() as u64), "{backend}: {back}");
        let st = status(db);
        assert_eq!(st["vex"]["records"].as_u64(), Some(vulns.len() as u64), "{backend}: {:?}", st["vex"]);
        assert_eq!(st["vex"]["last_sha256"], sha256_hex(&std::fs::read(&file).unwrap()).as_str(), "{backend}");
        // And the official CISA examples, too.
        let cisa = PathBuf::from(DATA).join("cyclonedx/cisa-case1-vex-not_affected.json");
        let c = json(db, &["feed", "import", &s(&cisa), "--format", "json"]);
        assert_eq!(c["files"][0]["kind"], "vex", "{backend}: {c}");
    }
}

/// A VEX document's publisher is who wrote it, not the database the vulnerability comes from
/// (CycloneDX `vulnerabilities[].source` is where the vulnerability is described: NVD).
#[test]
fn a_vex_read_back_is_not_attributed_to_nvd() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("demo.db"));
    demo_with_feeds(&db);
    let file = dir.0.join("vex.json");
    ok(&db, &["vuln", "export", "-o", &s(&file)]);
    assert_eq!(read_json(&file)["vulnerabilities"][0]["source"]["name"], "NVD");
    ok(&db, &["feed", "import", &s(&file)]);
    let shown = json(&db, &["vuln", "show", "CVE-2024-21762", "--format", "json"]);
    let st = shown["statements"].as_array().unwrap().iter().find(|s| s["origin"] == "cyclonedx-vex").unwrap_or_else(|| panic!("{shown}"));
    assert_ne!(st["publisher"], "NVD", "the clinic's own VEX is recorded as published by NVD: {st}");
}

/// A file cut short (a download that stopped): refused with the file and line named, nothing
/// of it kept.
#[test]
fn a_truncated_nvd_file_is_refused_and_writes_nothing() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        let dir = TempDir::new().unwrap();
        ok(db, &["init", "--facility", "さくら内科"]);
        ok(db, &["feed", "import", &s(&nvd("CVE-2024-21762"))]);
        let before = status(db)["nvd"].clone();
        let full = std::fs::read(nvd("CVE-2023-27997")).unwrap();
        let cut = &full[..full.len() / 2];
        let line = cut.iter().filter(|b| **b == b'\n').count() + 1;
        let file = dir.0.join("CVE-2023-27997.json");
        std::fs::write(&file, cut).unwrap();
        let err = fails(db, &["feed", "import", &s(&file)]);
        assert!(err.contains("CVE-2023-27997.json") && err.contains(&format!("line {line}")), "{backend}: file and line {line}: {err}");
        let after = status(db)["nvd"].clone();
        assert_eq!(after["records"], before["records"], "{backend}: nothing written");
        assert_eq!(after["imported_files"], before["imported_files"], "{backend}: no run recorded");
        assert_eq!(after["last_sha256"], before["last_sha256"], "{backend}");
        let err = fails(db, &["vuln", "show", "CVE-2023-27997"]);
        assert!(err.contains("CVE-2023-27997"), "{backend}: {err}");
        // The same file, complete, goes in.
        std::fs::write(&file, &full).unwrap();
        ok(db, &["feed", "import", &s(&file)]);
        assert_eq!(status(db)["nvd"]["records"].as_i64(), before["records"].as_i64().map(|n| n + 1), "{backend}");
    }
}

/// A folder is read file by file, in name order, each file in its own transaction: the files
/// before a broken one are kept, the broken one and those after it are not, and the error names
/// it. Files that are not feeds are skipped with a notice; notes are passed over.
#[test]
fn a_folder_with_a_broken_file_keeps_the_files_before_it() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        let dir = TempDir::new().unwrap();
        ok(db, &["init", "--facility", "さくら内科"]);
        let folder = dir.0.join("nvd-bundle");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::copy(nvd("CVE-2017-0144"), folder.join("a-CVE-2017-0144.json")).unwrap();
        std::fs::copy(nvd("CVE-2019-11510"), folder.join("b-CVE-2019-11510.json")).unwrap();
        let full = std::fs::read(nvd("CVE-2023-27997")).unwrap();
        std::fs::write(folder.join("c-broken.json"), &full[..full.len() / 3]).unwrap();
        std::fs::copy(nvd("CVE-2019-19781"), folder.join("d-CVE-2019-19781.json")).unwrap();
        std::fs::write(folder.join("README.md"), "# 取得元\nNVD API 2.0\n").unwrap();
        std::fs::write(folder.join("notes.csv"), "日付,担当\n2026-11-20,山本\n").unwrap();
        std::fs::copy(PathBuf::from(FIXTURES).join("csaf/provider-metadata.json"), folder.join("provider-metadata.json")).unwrap();

        let o = common::mamori(db, &["feed", "import", &s(&folder)]);
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(!o.status.success(), "{backend}: {out}");
        assert!(err.contains("c-broken.json") && err.contains("line "), "{backend}: the broken file named: {err}");
        assert!(err.contains("notes.csv") && err.contains("provider-metadata.json"), "{backend}: skipped files named: {err}");
        assert!(!err.contains("README.md"), "{backend}: notes passed over quietly: {err}");
        assert!(out.contains("a-CVE-2017-0144.json") && out.contains("b-CVE-2019-11510.json"), "{backend}: {out}");
        let st = status(db)["nvd"].clone();
        assert_eq!((st["records"].as_i64(), st["imported_files"].as_i64()), (Some(2), Some(2)), "{backend}: {st}");
        assert!(st["last_source"].as_str().unwrap().ends_with("b-CVE-2019-11510.json"), "{backend}: {st}");
        ok(db, &["vuln", "show", "CVE-2019-11510"]);
        assert!(fails(db, &["vuln", "show", "CVE-2019-19781"]).contains("CVE-2019-19781"), "{backend}: after the broken file: not read");

        // Mended, the folder goes in; the files already there are unchanged.
        std::fs::write(folder.join("c-broken.json"), &full).unwrap();
        let again = json(db, &["feed", "import", &s(&folder), "--format", "json"]);
        let files = again["files"].as_array().unwrap();
        assert_eq!(files.len(), 4, "{backend}: {again}");
        assert_eq!(files.iter().map(|f| f["unchanged"].as_u64().unwrap()).sum::<u64>(), 2, "{backend}: {again}");
        assert_eq!(files.iter().map(|f| f["inserted"].as_u64().unwrap()).sum::<u64>(), 2, "{backend}: {again}");
    }
}

#[test]
fn files_that_are_not_feeds_are_named() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("m.db"));
    ok(&db, &["init", "--facility", "さくら内科"]);
    // Given by name: refused, named, nothing written.
    let notes = dir.0.join("院内LAN構成メモ.csv");
    std::fs::write(&notes, "機器,IP\nUTM,192.168.10.1\n").unwrap();
    let err = fails(&db, &["feed", "import", &s(&notes), &s(&nvd("CVE-2024-21762"))]);
    assert!(err.contains("院内LAN構成メモ.csv"), "{err}");
    assert_eq!(status(&db)["nvd"]["imported_files"], 0, "a file given by name that is not a feed stops everything first");
    // Provider metadata given by name: told to use `feed sync`.
    let err = fails(&db, &["feed", "import", &s(&PathBuf::from(FIXTURES).join("csaf/provider-metadata.json"))]);
    assert!(err.contains("provider-metadata.json") && err.contains("feed sync"), "{err}");
    // A folder of nothing but notes.
    let empty = dir.0.join("notes");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("memo.csv"), "a,b\n").unwrap();
    let o = common::mamori(&db, &["feed", "import", &s(&empty)]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("memo.csv"), "{}", String::from_utf8_lossy(&o.stderr));
    // Not there at all.
    let err = fails(&db, &["feed", "import", &s(&dir.0.join("missing.json"))]);
    assert!(err.contains("missing.json"), "{err}");
    assert_eq!(status(&db)["nvd"]["imported_files"], 0);
}

/// An NVD record that NVD has since rejected is removed from the corpus, and the finding it made
/// goes with it.
#[test]
fn a_rejected_nvd_record_removes_the_cve() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("demo.db"));
    ok(&db, &["demo"]);
    ok(&db, &["feed", "import", &s(&nvd("CVE-2024-21762"))]);
    assert!(findings(&db, &[]).iter().any(|f| f["vuln_id"] == "CVE-2024-21762"));
    let rejected = json!({
        "resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE", "version": "2.0",
        "timestamp": "2026-11-20T00:00:00.000",
        "vulnerabilities": [{"cve": {
            "id": "CVE-2024-21762", "sourceIdentifier": "psirt@fortinet.com", "published": "2024-02-09T09:15:08.087",
            "lastModified": "2026-11-20T00:00:00.000", "vulnStatus": "Rejected",
            "descriptions": [{"lang": "en", "value": "Rejected reason: test of a withdrawn record."}],
            "metrics": {}, "references": []
        }}]
    });
    let file = dir.0.join("nvd-modified.json");
    std::fs::write(&file, rejected.to_string()).unwrap();
    let out = json(&db, &["feed", "import", &s(&file), "--format", "json"]);
    assert_eq!(out["files"][0]["removed"], 1, "the rejected record is removed: {out}");
    assert!(!findings(&db, &[]).iter().any(|f| f["vuln_id"] == "CVE-2024-21762"), "no task for a rejected CVE");
}

// ---------------------------------------------------------------------------------------------
// `feed sync` against a local server.

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Request {
    line: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
    }
}

type Handler = dyn Fn(&Request) -> Option<Vec<u8>> + Send + Sync;

/// An HTTP/1.1 server on 127.0.0.1 that answers from `handler` (404 when it has nothing) and
/// records every request.
struct Server {
    base: String,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    fn start(make: impl FnOnce(&str) -> Box<Handler>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let handler: Arc<Handler> = Arc::from(make(&base));
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (log, handler) = (l.clone(), handler.clone());
                std::thread::spawn(move || answer(stream, &log, handler.as_ref()));
            }
        });
        Server { base, log }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn take(&self) -> Vec<Request> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn answer(stream: TcpStream, log: &Mutex<Vec<Request>>, handler: &Handler) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let line = line.trim_end().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let target = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (target.clone(), String::new()),
    };
    let req = Request { line, path, query, headers };
    let body = handler(&req);
    log.lock().unwrap().push(req);
    let (status, body) = match body {
        Some(b) => ("200 OK", b),
        None => ("404 Not Found", b"not found".to_vec()),
    };
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let mut w = &stream;
    let _ = w.write_all(head.as_bytes()).and_then(|()| w.write_all(&body)).and_then(|()| w.flush());
}

/// CRC-32 (IEEE), for the gzip trailer.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffff_u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// `data` as a gzip file (stored deflate blocks): EPSS is published gzip-compressed.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let chunks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(65_535).collect() };
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        out.push(u8::from(i + 1 == n));
        let len = u16::try_from(chunk.len()).unwrap();
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    out
}

/// An NVD CVE API 2.0 page of real records.
fn nvd_page(ids: &[&str], start: usize, total: usize) -> Vec<u8> {
    let vulns: Vec<Value> = ids.iter().map(|id| json!({"cve": read_json(&nvd(id))})).collect();
    serde_json::to_vec(&json!({
        "resultsPerPage": vulns.len(), "startIndex": start, "totalResults": total,
        "format": "NVD_CVE", "version": "2.0", "timestamp": "2026-11-20T03:00:00.000",
        "vulnerabilities": vulns,
    }))
    .unwrap()
}

const ADVISORY: &str = "/.well-known/csaf/white/2024/fg-ir-24-015.json";
const PROVIDER: &str = "/.well-known/csaf/provider-metadata.json";
const ROLIE: &str = "/.well-known/csaf/feed-tlp-white.json";

/// How the ROLIE entry's hash link is published.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HashLink {
    Sha512,
    WrongSha512,
    Sha256,
}

/// Every feed a sync reads, by path. The NVD endpoint (`/nvd`) serves two pages (three of the
/// real records, two per page), or one changed record when asked for changes since a date.
fn feed_server(hash: HashLink, page2_ready: Arc<AtomicBool>) -> Server {
    Server::start(move |base| {
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        files.insert("/kev.json".into(), std::fs::read(kev()).unwrap());
        files.insert("/epss.csv.gz".into(), gzip(&std::fs::read(epss()).unwrap()));
        files.insert("/jvndb.rdf".into(), std::fs::read(PathBuf::from(FIXTURES).join("jvn/jvndb_2024-sample.rdf")).unwrap());
        // CSAF: provider metadata → ROLIE feed → the advisory (and its hash).
        let advisory = std::fs::read(PathBuf::from(FIXTURES).join("csaf/fortinet-style-cve-2024-21762.json")).unwrap();
        let advisory_url = format!("{base}{ADVISORY}");
        let ext = if hash == HashLink::Sha256 { "sha256" } else { "sha512" };
        let digest = match hash {
            HashLink::Sha512 => hex::encode(Sha512::digest(&advisory)),
            HashLink::WrongSha512 => hex::encode(Sha512::digest(b"some other document")),
            HashLink::Sha256 => hex::encode(Sha256::digest(&advisory)),
        };
        files.insert(format!("{ADVISORY}.{ext}"), format!("{digest}  fg-ir-24-015.json\n").into_bytes());
        files.insert(ADVISORY.into(), advisory);
        let metadata = json!({
            "canonical_url": "https://psirt.example.jp/.well-known/csaf/provider-metadata.json",
            "distributions": [{"rolie": {"feeds": [{
                "summary": "All TLP:WHITE advisories.", "tlp_label": "WHITE", "url": format!("{base}{ROLIE}")
            }]}}],
            "last_updated": "2024-03-12T09:00:00.000Z",
            "list_on_CSAF_aggregators": true,
            "metadata_version": "2.0",
            "mirror_on_CSAF_aggregators": true,
            "publisher": {"category": "vendor", "name": "Fortinet PSIRT", "namespace": "https://www.fortinet.com"},
            "role": "csaf_provider"
        });
        files.insert(PROVIDER.into(), metadata.to_string().into_bytes());
        let feed = json!({"feed": {
            "id": "fortinet-csaf-feed-tlp-white",
            "title": "Fortinet CSAF feed (TLP:WHITE)",
            "link": [{"rel": "self", "href": format!("{base}{ROLIE}")}],
            "category": [{"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}],
            "updated": "2024-03-12T09:00:00Z",
            "entry": [{
                "id": "FG-IR-24-015",
                "title": "FortiOS - Out-of-bound Write in sslvpnd",
                "link": [
                    {"rel": "self", "href": advisory_url},
                    {"rel": "hash", "href": format!("{advisory_url}.{ext}")}
                ],
                "published": "2024-02-08T00:00:00Z",
                "updated": "2024-03-12T00:00:00Z",
                "content": {"type": "application/json", "src": advisory_url},
                "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"}
            }]
        }});
        files.insert(ROLIE.into(), feed.to_string().into_bytes());
        let page1 = nvd_page(&["CVE-2024-21762", "CVE-2023-27997"], 0, 3);
        let page2 = nvd_page(&["CVE-2022-40684"], 2, 3);
        let changed = nvd_page(&["CVE-2024-21762"], 0, 1);
        Box::new(move |r: &Request| {
            if r.path == "/nvd" {
                if r.param("lastModStartDate").is_some() {
                    return Some(changed.clone());
                }
                return match r.param("startIndex") {
                    Some("0") => Some(page1.clone()),
                    Some("2") if page2_ready.load(Ordering::SeqCst) => Some(page2.clone()),
                    _ => None,
                };
            }
            files.get(&r.path).cloned()
        })
    })
}

/// `mamori feed sync` with every URL on the local server and the NVD key in the environment.
fn sync(db: &str, server: &Server, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["--db", db, "feed", "sync"])
        .args(["--kev-url", &server.url("/kev.json")])
        .args(["--epss-url", &server.url("/epss.csv.gz")])
        .args(["--jvn-url", &server.url("/jvndb.rdf")])
        .args(["--nvd-url", &server.url("/nvd")])
        .args(["--nvd-delay-ms", "0"])
        .args(["--csaf-provider", &server.url(PROVIDER)])
        .args(extra)
        .env("MAMORI_ACTOR", "tester")
        .env("NVD_API_KEY", API_KEY)
        .env_remove("MAMORI_LANG")
        .env_remove("MAMORI_CSAF_PROVIDERS")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn requests_to<'a>(log: &'a [Request], path: &str) -> Vec<&'a Request> {
    log.iter().filter(|r| r.path == path).collect()
}

#[test]
fn sync_fetches_every_feed_pages_nvd_with_the_key_and_follows_csaf() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        ok(db, &["demo"]);
        let server = feed_server(HashLink::Sha512, Arc::new(AtomicBool::new(true)));
        let o = sync(db, &server, &[]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{backend}: {out}\n{err}");
        assert!(!out.contains(API_KEY) && !err.contains(API_KEY), "{backend}: the API key is never shown");
        let log = server.take();

        // NVD: two pages, the second from startIndex 2, the key on every request, on nothing else.
        let nvd_reqs = requests_to(&log, "/nvd");
        assert_eq!(nvd_reqs.len(), 2, "{backend}: {nvd_reqs:?}");
        assert_eq!(nvd_reqs[0].param("startIndex"), Some("0"), "{backend}: {}", nvd_reqs[0].line);
        assert_eq!(nvd_reqs[1].param("startIndex"), Some("2"), "{backend}: {}", nvd_reqs[1].line);
        for r in &nvd_reqs {
            assert_eq!(r.header("apiKey"), Some(API_KEY), "{backend}: {r:?}");
            assert!(r.param("lastModStartDate").is_none(), "{backend}: the first sync fetches everything: {}", r.line);
            assert!(!r.line.contains(API_KEY), "{backend}: the key goes in a header, not the URL: {}", r.line);
        }
        for r in log.iter().filter(|r| r.path != "/nvd") {
            assert!(r.header("apiKey").is_none(), "{backend}: the NVD key is sent to NVD only: {r:?}");
        }
        for p in ["/kev.json", "/epss.csv.gz", "/jvndb.rdf", PROVIDER, ROLIE, ADVISORY] {
            assert_eq!(requests_to(&log, p).len(), 1, "{backend}: {p} fetched once: {log:?}");
        }
        assert_eq!(requests_to(&log, &format!("{ADVISORY}.sha512")).len(), 1, "{backend}: the hash is checked");

        // Every kind is in, with what the feeds said.
        let st = status(db);
        assert_eq!(st["nvd"]["records"], 3, "{backend}: {:?}", st["nvd"]);
        assert_eq!(st["nvd"]["imported_files"], 2, "{backend}: one run per page");
        assert_eq!(st["kev"]["records"], 1404, "{backend}");
        assert_eq!(st["kev"]["last_sha256"], sha256_hex(&std::fs::read(kev()).unwrap()).as_str(), "{backend}");
        assert_eq!(st["epss"]["records"], 15, "{backend}: read through gzip");
        assert_eq!(st["epss"]["last_sha256"], sha256_hex(&gzip(&std::fs::read(epss()).unwrap())).as_str(), "{backend}: the checksum of the bytes downloaded");
        assert_eq!(st["epss"]["last_source"], server.url("/epss.csv.gz").as_str(), "{backend}");
        assert!(st["jvn"]["records"].as_i64().unwrap() > 0, "{backend}: {:?}", st["jvn"]);
        assert!(st["csaf"]["records"].as_i64().unwrap() > 0, "{backend}: {:?}", st["csaf"]);
        for kind in ["nvd", "kev", "epss", "jvn"] {
            assert_eq!(st[kind]["stale"], false, "{backend} {kind}");
        }

        // The FortiGate's holes, with the vendor's advisory.
        let list = findings(db, &[]);
        assert_eq!(list[0]["vuln_id"], "CVE-2024-21762", "{backend}: {list:?}");
        assert!(list[0]["asset_name"].as_str().unwrap().contains("FortiGate"), "{backend}");
        assert_eq!(list[0]["priority"]["band"], 1, "{backend}");
        assert!(list.iter().any(|f| f["vuln_id"] == "CVE-2023-27997"), "{backend}");
        assert!(!findings(db, &["--all"]).iter().any(|f| f["vuln_id"] == "CVE-2022-40684"), "{backend}: page 2 read, not matched");
        let shown = json(db, &["vuln", "show", "CVE-2024-21762", "--format", "json"]);
        assert!(shown["statements"].as_array().unwrap().iter().any(|s| s["publisher"] == "Fortinet PSIRT" && s["tracking_id"] == "FG-IR-24-015"), "{backend}: {shown}");

        // Again: NVD asks for what changed since, the advisory already read is not fetched.
        let o = sync(db, &server, &[]);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{backend}: {out}\n{err}");
        assert!(!out.contains(API_KEY) && !err.contains(API_KEY), "{backend}");
        let log = server.take();
        let nvd_reqs = requests_to(&log, "/nvd");
        assert_eq!(nvd_reqs.len(), 1, "{backend}: {nvd_reqs:?}");
        assert!(nvd_reqs[0].line.contains("lastModStartDate") && nvd_reqs[0].line.contains("lastModEndDate"), "{backend}: {}", nvd_reqs[0].line);
        assert_eq!(nvd_reqs[0].header("apiKey"), Some(API_KEY), "{backend}");
        assert!(requests_to(&log, ADVISORY).is_empty(), "{backend}: {log:?}");
        assert_eq!(requests_to(&log, ROLIE).len(), 1, "{backend}: the feed is read for new entries");
        assert_eq!(status(db)["nvd"]["records"], 3, "{backend}");
    }
}

/// An NVD run that stops between pages resumes at the page it stopped on.
#[test]
fn an_interrupted_nvd_sync_resumes_at_the_page_it_stopped_on() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        ok(db, &["init", "--facility", "さくら内科"]);
        let ready = Arc::new(AtomicBool::new(false));
        let server = feed_server(HashLink::Sha512, ready.clone());
        let o = sync(db, &server, &["--only", "nvd"]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{backend}: page 2 missing: {out}");
        assert!(err.contains("nvd") && err.contains("startIndex=2"), "{backend}: {err}");
        assert!(!out.contains(API_KEY) && !err.contains(API_KEY), "{backend}");
        assert_eq!(status(db)["nvd"]["records"], 2, "{backend}: page 1 kept");
        server.take();

        ready.store(true, Ordering::SeqCst);
        let o = sync(db, &server, &["--only", "nvd"]);
        assert!(o.status.success(), "{backend}: {:?}", text(&o));
        let log = server.take();
        let nvd_reqs = requests_to(&log, "/nvd");
        assert_eq!(nvd_reqs.len(), 1, "{backend}: {nvd_reqs:?}");
        assert_eq!(nvd_reqs[0].param("startIndex"), Some("2"), "{backend}: {}", nvd_reqs[0].line);
        assert!(nvd_reqs[0].param("lastModStartDate").is_none(), "{backend}: still the full run: {}", nvd_reqs[0].line);
        assert_eq!(status(db)["nvd"]["records"], 3, "{backend}");
        // Done: the next run asks for changes.
        assert!(sync(db, &server, &["--only", "nvd"]).status.success());
        let log = server.take();
        assert!(requests_to(&log, "/nvd")[0].line.contains("lastModStartDate"), "{backend}: {log:?}");
    }
}

#[test]
fn a_csaf_advisory_whose_sha512_does_not_match_is_refused() {
    for (backend, db) in backends() {
        let db = db.url.as_str();
        ok(db, &["init", "--facility", "さくら内科"]);
        let server = feed_server(HashLink::WrongSha512, Arc::new(AtomicBool::new(true)));
        let o = sync(db, &server, &["--only", "csaf"]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{backend}: {out}");
        assert!(err.contains(&server.url(ADVISORY)) && err.contains("SHA-512"), "{backend}: the advisory named: {err}");
        assert_eq!(status(db)["csaf"]["records"], 0, "{backend}: nothing of it kept");
        assert_eq!(status(db)["csaf"]["imported_files"], 0, "{backend}");
        // Not marked as read: with the right hash, the next sync takes it.
        let good = feed_server(HashLink::Sha512, Arc::new(AtomicBool::new(true)));
        let o = Command::new(env!("CARGO_BIN_EXE_mamori"))
            .args(["--db", db, "feed", "sync", "--only", "csaf", "--csaf-provider", &good.url(PROVIDER)])
            .env("MAMORI_ACTOR", "tester")
            .env_remove("MAMORI_CSAF_PROVIDERS")
            .output()
            .unwrap();
        assert!(o.status.success(), "{backend}: {:?}", text(&o));
        assert!(status(db)["csaf"]["records"].as_i64().unwrap() > 0, "{backend}");
    }
}

/// CSAF lets a provider publish a SHA-256 or a SHA-512 hash file; a correct `.sha256` is not a
/// mismatch.
#[test]
fn a_csaf_advisory_with_a_sha256_hash_link_is_accepted() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("m.db"));
    ok(&db, &["init", "--facility", "さくら内科"]);
    let server = feed_server(HashLink::Sha256, Arc::new(AtomicBool::new(true)));
    let o = sync(&db, &server, &["--only", "csaf"]);
    assert!(o.status.success(), "a correct SHA-256 file refused: {:?}", text(&o));
    assert!(status(&db)["csaf"]["records"].as_i64().unwrap() > 0);
}

fn sync_raw(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["--db", db, "feed", "sync"])
        .args(args)
        .env("MAMORI_ACTOR", "tester")
        .env("NVD_API_KEY", API_KEY)
        .env_remove("MAMORI_LANG")
        .env_remove("MAMORI_CSAF_PROVIDERS")
        .output()
        .unwrap()
}

#[test]
fn sync_refuses_plain_http_except_to_loopback() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("m.db"));
    ok(&db, &["init", "--facility", "さくら内科"]);
    for (only, flag, url) in [
        ("kev", "--kev-url", "http://example.com/x"),
        ("nvd", "--nvd-url", "http://example.com/rest/json/cves/2.0"),
        ("csaf", "--csaf-provider", "http://example.com/.well-known/csaf/provider-metadata.json"),
        ("epss", "--epss-url", "ftp://127.0.0.1/epss.csv.gz"),
    ] {
        let start = Instant::now();
        let o = sync_raw(&db, &["--only", only, flag, url]);
        let (out, err) = text(&o);
        assert!(!o.status.success(), "{url}: {out}");
        assert!(err.contains(url) && err.contains("https://"), "{url}: {err}");
        // Refused before any request: no retries (they would take 2 + 4 + 8 seconds).
        assert!(start.elapsed() < Duration::from_secs(10), "{url}: took {:?}", start.elapsed());
        assert!(!out.contains(API_KEY) && !err.contains(API_KEY));
    }
    let st = status(&db);
    assert!(st.values().all(|s| s["imported_files"] == 0), "{st:?}");
}

/// `http://127.0.0.1:1@example.invalid/` is a request to example.invalid (`127.0.0.1:1` is the
/// user information): plain http to a host that is not loopback.
#[test]
fn sync_is_not_fooled_by_a_loopback_user_name() {
    let dir = TempDir::new().unwrap();
    let db = s(&dir.0.join("m.db"));
    ok(&db, &["init", "--facility", "さくら内科"]);
    let url = "http://127.0.0.1:1@example.invalid/kev.json";
    let o = sync_raw(&db, &["--only", "kev", "--kev-url", url]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("only https://"), "refused as plain http to another host, not tried: {err}");
}

// ---------------------------------------------------------------------------------------------
// Real records on hand-entered CPE names.

#[test]
fn zyxel_firmware_needs_its_hardware_and_cisco_ios_its_release() {
    const ATP100_535: &str = "cpe:2.3:o:zyxel:atp100_firmware:5.35:*:*:*:*:*:*:*";
    const ATP100_536: &str = "cpe:2.3:o:zyxel:atp100_firmware:5.36:*:*:*:*:*:*:*";
    const ATP100_HW: &str = "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*";
    // A Zyxel model that CVE-2023-28771's configurations do not name.
    const USG20_HW: &str = "cpe:2.3:h:zyxel:usg20-vpn:-:*:*:*:*:*:*:*";
    const IOS_AFFECTED: &str = r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*";
    const IOS_OTHER: &str = r"cpe:2.3:o:cisco:ios:15.2\(4\)e10:*:*:*:*:*:*:*";
    // The hardware names are real criteria of the record, the models not named are not.
    let zyxel = std::fs::read_to_string(nvd("CVE-2023-28771")).unwrap();
    assert!(zyxel.contains(ATP100_HW) && !zyxel.contains("usg20-vpn"));

    for (backend, db) in backends() {
        let db = db.url.as_str();
        ok(db, &["init", "--facility", "ゼット内科"]);
        let assets: [(&str, &str, &[&str]); 6] = [
            ("UTM ATP100（5.35）", "vpn_utm", &[ATP100_535, ATP100_HW]),
            ("UTM USG20-VPN（atp100 ファームウェア名）", "vpn_utm", &[ATP100_535, USG20_HW]),
            ("UTM ATP100（5.36 更新済み）", "vpn_utm", &[ATP100_536, ATP100_HW]),
            ("UTM（型番未登録）", "vpn_utm", &[ATP100_535]),
            ("L2 スイッチ Catalyst（15.2(5)E）", "network_device", &[IOS_AFFECTED]),
            ("L2 スイッチ Catalyst（15.2(4)E10）", "network_device", &[IOS_OTHER]),
        ];
        let mut ids = Vec::new();
        for (name, kind, cpes) in assets {
            let out = ok(db, &["asset", "add", "--name", name, "--kind", kind]);
            let id: String = out.split('#').nth(1).unwrap().chars().take_while(char::is_ascii_digit).collect();
            for c in cpes {
                ok(db, &["vuln", "cpe", "add", &id, c]);
            }
            ids.push(id.parse::<i64>().unwrap());
        }
        let listed = json(db, &["vuln", "cpe", "list", "--asset", &ids[0].to_string(), "--format", "json"]);
        assert!(listed.as_array().unwrap().iter().all(|c| c["state"] == "confirmed" && c["origin"] == "manual"), "{backend}: {listed}");
        let err = fails(db, &["vuln", "cpe", "add", &ids[0].to_string(), "zyxel atp100"]);
        assert!(err.contains("zyxel atp100"), "{backend}: {err}");

        ok(db, &["feed", "import", &s(&nvd("CVE-2023-28771")), &s(&nvd("CVE-2018-0171"))]);
        let all = findings(db, &["--all"]);
        let of = |i: usize, cve: &str| all.iter().find(|f| f["asset_id"].as_i64() == Some(ids[i]) && f["vuln_id"] == cve).cloned();

        let hit = of(0, "CVE-2023-28771").unwrap_or_else(|| panic!("{backend}: ATP100 5.35 is affected: {all:?}"));
        assert_eq!(hit["confidence"], "version_range", "{backend}: {hit}");
        assert_eq!(hit["hit"]["device_cpe"], ATP100_535, "{backend}");
        assert_eq!(hit["hit"]["platform"], ATP100_HW, "{backend}");
        assert_eq!(hit["hit"]["platform_known"], true, "{backend}");
        assert_eq!(hit["hit"]["range"], ">= 4.60, < 5.36", "{backend}");
        assert!(of(1, "CVE-2023-28771").is_none(), "{backend}: other hardware, not affected: {all:?}");
        assert!(of(2, "CVE-2023-28771").is_none(), "{backend}: 5.36 is fixed: {all:?}");
        // Hardware unknown: reported, at a lower confidence, with the reason.
        let maybe = of(3, "CVE-2023-28771").unwrap_or_else(|| panic!("{backend}: unknown hardware is not dropped: {all:?}"));
        assert_eq!(maybe["confidence"], "fuzzy", "{backend}: {maybe}");
        assert!(maybe["hit"]["caveats"].as_array().unwrap().contains(&json!("platform_unknown")), "{backend}: {maybe}");
        assert!(maybe["priority"]["score"].as_f64() < hit["priority"]["score"].as_f64(), "{backend}: a guess ranks below a fact");

        let ios = of(4, "CVE-2018-0171").unwrap_or_else(|| panic!("{backend}: 15.2(5)E is affected: {all:?}"));
        assert_eq!(ios["confidence"], "exact_version", "{backend}: {ios}");
        assert_eq!(ios["confidence_score"], 100, "{backend}");
        assert_eq!(ios["hit"]["device_cpe"], IOS_AFFECTED, "{backend}");
        assert!(of(5, "CVE-2018-0171").is_none(), "{backend}: 15.2(4)E10 is another release: {all:?}");
        assert_eq!(all.len(), 3, "{backend}: nothing else: {all:?}");
        // Nobody else patches these: the facility.
        assert!(all.iter().all(|f| f["responsible"]["party"] == "facility"), "{backend}");

        // Updating the firmware settles it at the next match.
        ok(db, &["vuln", "cpe", "reject", &ids[0].to_string(), ATP100_535]);
        ok(db, &["vuln", "cpe", "add", &ids[0].to_string(), ATP100_536]);
        let m = json(db, &["vuln", "match", "--format", "json"]);
        assert_eq!(m["gone"], 1, "{backend}: {m}");
        assert!(!findings(db, &[]).iter().any(|f| f["asset_id"].as_i64() == Some(ids[0])), "{backend}");
    }
}
