//! The `mamori` binary as a user runs it: set-up, inventory commands, users, export/import,
//! moving to PostgreSQL, clear errors on bad input, and no loss on `kill -9`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use mamori_store::testing::{TempDir, fresh_postgres};
use serde_json::Value;

mod common;
use common::{fails, mamori, ok};

fn with_stdin(db: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("MAMORI_ACTOR", "tester")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn help_is_bilingual() {
    let o = Command::new(env!("CARGO_BIN_EXE_mamori")).arg("--help").output().unwrap();
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(help.contains("資産台帳") && help.contains("Asset inventory"), "{help}");
    let o = Command::new(env!("CARGO_BIN_EXE_mamori")).args(["asset", "list", "--help"]).output().unwrap();
    let help = String::from_utf8(o.stdout).unwrap();
    assert!(help.contains("出力形式") && help.contains("Output format") && help.contains("json"), "{help}");
}

#[test]
fn a_new_facility_from_init_to_audit() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("clinic.db").display().to_string();
    let err = fails(&db, &["asset", "list"]);
    assert!(err.contains("データベースが見つかりません") && err.contains("mamori init"), "{err}");

    let out = ok(&db, &["init", "--facility", "さくら眼科", "--prefecture", "東京都"]);
    assert!(out.contains("さくら眼科"), "{out}");
    assert!(fails(&db, &["init", "--facility", "x"]).contains("既に初期化"));

    ok(&db, &["segment", "add", "--name", "院内LAN", "--purpose", "clinical_lan", "--cidr", "192.168.1.0/24"]);
    let err = fails(&db, &["segment", "add", "--name", "x", "--purpose", "dmz", "--cidr", "192.168.1.0/33"]);
    assert!(err.contains("CIDR"), "{err}");
    let out = ok(&db, &["asset", "add", "--name", "受付PC", "--kind", "pc", "--os", "Windows 10", "--ip", "192.168.1.21", "--mac", "00-1A-2B-3C-4D-5E", "--segment", "1"]);
    assert!(out.contains("#1"), "{out}");
    let err = fails(&db, &["asset", "add", "--name", "壊れたPC", "--kind", "pc", "--ip", "192.168.1.300"]);
    assert!(err.contains("IPアドレス"), "{err}");
    let err = fails(&db, &["--lang", "en", "asset", "add", "--name", "bad", "--kind", "pc", "--mac", "zz"]);
    assert!(err.contains("MAC address"), "{err}");

    ok(&db, &["asset", "edit", "1", "--os", "Windows 11", "--location", "受付"]);
    let json: Value = serde_json::from_str(&ok(&db, &["asset", "show", "1", "--format", "json"])).unwrap();
    assert_eq!(json["os"], "Windows 11");
    assert_eq!(json["interfaces"][0]["mac"], "00:1a:2b:3c:4d:5e");
    let table = ok(&db, &["asset", "list"]);
    assert!(table.contains("受付PC") && table.contains("192.168.1.21") && table.contains("院内LAN"), "{table}");
    let csv = ok(&db, &["asset", "list", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let list: Value = serde_json::from_str(&ok(&db, &["asset", "list", "--format", "json", "-q", "受付"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Passwords come from stdin, never argv; too short is refused.
    let o = with_stdin(&db, &["user", "add", "kanri", "--role", "admin"], "short\n");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("10文字以上"));
    let o = with_stdin(&db, &["user", "add", "kanri", "--role", "admin"], "correct horse battery\n");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let users: Value = serde_json::from_str(&ok(&db, &["user", "list", "--format", "json"])).unwrap();
    assert_eq!(users[0]["role"], "admin");
    assert!(users[0].get("password_hash").is_none(), "no hashes in listings");
    let token = ok(&db, &["token", "create", "--user", "kanri", "--name", "backup-script"]);
    assert!(token.trim().starts_with("mamori_"), "{token}");

    ok(&db, &["asset", "remove", "1"]);
    assert!(fails(&db, &["asset", "show", "1"]).contains("見つかりません"));

    let audit: Value = serde_json::from_str(&ok(&db, &["audit", "list", "--format", "json"])).unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["asset.delete", "token.create", "user.create", "asset.update", "asset.create", "segment.create", "facility.update"]);
    assert!(audit.as_array().unwrap().iter().all(|e| e["actor"] == "tester"));
    assert!(!audit.to_string().contains("correct horse"), "no secrets in the audit log");
    assert!(ok(&db, &["audit", "verify"]).contains("改ざんは検出されていません"));
    let health: Value = serde_json::from_str(&ok(&db, &["healthcheck", "--format", "json"])).unwrap();
    assert_eq!(health["engine"], "ok");
    assert_eq!(health["audit_entries"], 7);
}

#[test]
fn demo_export_import_and_copy_to_postgres() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("demo.db").display().to_string();
    assert!(ok(&db, &["demo"]).contains("みなと内科クリニック"));
    assert!(fails(&db, &["demo"]).contains("空のデータベース"));
    let n = serde_json::from_str::<Value>(&ok(&db, &["asset", "list", "--format", "json"])).unwrap().as_array().unwrap().len();
    assert!(n >= 30);

    let export = dir.0.join("export.json");
    ok(&db, &["db", "export", export.to_str().unwrap()]);
    let copy = dir.0.join("copy.db").display().to_string();
    ok(&copy, &["db", "import", export.to_str().unwrap()]);
    let a = ok(&db, &["asset", "list", "--format", "json"]);
    assert_eq!(a, ok(&copy, &["asset", "list", "--format", "json"]));
    ok(&copy, &["audit", "verify"]);
    assert!(fails(&copy, &["db", "import", export.to_str().unwrap()]).contains("空ではありません"));

    if let Some(pg) = tokio::runtime::Runtime::new().unwrap().block_on(fresh_postgres()) {
        let out = ok(&db, &["db", "copy", "--to", &pg.url]);
        assert!(out.contains(&format!("資産 {n} 件")), "{out}");
        assert!(!out.contains("mamori@") || !pg.url.contains(':') || !out.contains("password"), "no secrets printed");
        assert_eq!(a, ok(&pg.url, &["asset", "list", "--format", "json"]));
        ok(&pg.url, &["healthcheck"]);
        ok(&pg.url, &["audit", "verify"]);
    }
}

#[test]
fn bad_files_get_clear_errors() {
    let dir = TempDir::new().unwrap();
    let notes = dir.0.join("notes.txt");
    std::fs::write(&notes, "院内LAN構成メモ\n").unwrap();
    let err = fails(notes.to_str().unwrap(), &["asset", "list"]);
    assert!(err.contains("SQLite データベースではありません"), "{err}");
    let err = fails(notes.to_str().unwrap(), &["healthcheck"]);
    assert!(err.contains("notes.txt"), "{err}");

    let db = dir.0.join("m.db").display().to_string();
    let broken = dir.0.join("broken.json");
    std::fs::write(&broken, "{\n  \"format\": \"mamori-export\",\n  \"format_version\": 1,\n  \"facility\": {\"name\": \"x\",,}\n}").unwrap();
    let err = fails(&db, &["db", "import", broken.to_str().unwrap()]);
    assert!(err.contains("broken.json") && err.contains("line 4"), "{err}");
    let other = dir.0.join("other.json");
    std::fs::write(&other, "{\"hello\": 1}").unwrap();
    assert!(fails(&db, &["db", "import", other.to_str().unwrap()]).contains("not a mamori export"));
    let sjis = dir.0.join("sjis.json");
    std::fs::write(&sjis, b"{\"format\":\"mamori-export\",\"format_version\":1,\"facility\":{\"name\":\"\x82\xa0\",\"kind\":\"clinic\"}}").unwrap();
    let err = fails(&db, &["db", "import", sjis.to_str().unwrap()]);
    assert!(err.contains("sjis.json"), "{err}");
}

#[test]
fn kill_9_during_writes_loses_nothing_committed() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("k.db").display().to_string();
    ok(&db, &["init", "--facility", "耐障害テスト"]);
    let script = format!(
        "i=0; while true; do i=$((i+1)); '{}' --db '{db}' asset add --name PC-$i --kind pc >/dev/null && echo $i; done",
        env!("CARGO_BIN_EXE_mamori")
    );
    let mut child = Command::new("sh").arg("-c").arg(&script).stdout(Stdio::piped()).process_group(0).spawn().unwrap();
    let pgid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || BufReader::new(stdout).lines().map_while(Result::ok).collect::<Vec<_>>());
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill").args(["-s", "KILL", "--", &format!("-{pgid}")]).status().unwrap();
    let _ = child.wait();
    eprintln!("loop killed");
    let committed = reader.join().unwrap();
    eprintln!("{} committed", committed.len());
    assert!(committed.len() >= 3, "the loop made progress: {}", committed.len());
    ok(&db, &["healthcheck"]);
    ok(&db, &["audit", "verify"]);
    let names: Value = serde_json::from_str(&ok(&db, &["asset", "list", "--format", "json"])).unwrap();
    let names: Vec<&str> = names.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    for i in &committed {
        assert!(names.contains(&format!("PC-{i}").as_str()), "committed PC-{i} survived kill -9");
    }

    // An import killed midway leaves nothing half-written: all or nothing.
    let big = dir.0.join("big.json");
    let assets: Vec<Value> = (1..=4000)
        .map(|i| serde_json::json!({"id": i, "name": format!("端末-{i:04}"), "kind": "pc", "interfaces": [{"ip": format!("10.0.{}.{}", i / 250, i % 250 + 1)}]}))
        .collect();
    std::fs::write(&big, serde_json::json!({"format": "mamori-export", "format_version": 1, "facility": {"name": "大病院", "kind": "hospital"}, "assets": assets}).to_string()).unwrap();
    for delay in [150, 400, 900] {
        eprintln!("import killed after {delay} ms");
        let target = dir.0.join(format!("fresh-{delay}.db")).display().to_string();
        let mut c = Command::new(env!("CARGO_BIN_EXE_mamori")).args(["--db", &target, "db", "import", big.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = c.kill();
        let _ = c.wait();
        if std::path::Path::new(&target).exists() {
            let n = match mamori(&target, &["asset", "list", "--format", "json"]) {
                o if o.status.success() => serde_json::from_str::<Value>(&String::from_utf8(o.stdout).unwrap()).unwrap().as_array().unwrap().len(),
                o => {
                    let err = String::from_utf8_lossy(&o.stderr).to_string();
                    assert!(err.contains("初期化されていません"), "killed before migrations finished: {err}");
                    0
                }
            };
            assert!(n == 0 || n == 4000, "import after {delay} ms: {n} assets, must be all or nothing");
        }
    }
}
