//! `mamori facility`, `policy`, `diagram`, `assess`, `whatif` and `plan` as a user runs them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use mamori_store::testing::{TempDir, fresh_databases};

use common::{fails, mamori, ok};

const DEMO_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/demo/minato-clinic.facility.toml");

#[tokio::test]
async fn a_facility_file_round_trips_through_the_cli() {
    let dir = TempDir::new().unwrap();
    for (backend, db) in fresh_databases().await {
        let url = db.url.as_str();
        // A facility file starts a database by itself (no init needed) …
        let out = ok(url, &["facility", "import", DEMO_FILE]);
        assert!(out.contains("読み込みました"), "{backend}: {out}");
        // … and exporting gives back the same file.
        let exported = dir.0.join(format!("{backend}.toml"));
        ok(url, &["facility", "export", "-o", exported.to_str().unwrap()]);
        assert_eq!(std::fs::read_to_string(&exported).unwrap(), std::fs::read_to_string(DEMO_FILE).unwrap(), "{backend}");
        // Re-importing changes nothing.
        assert!(ok(url, &["facility", "import", DEMO_FILE]).contains("変更はありません"), "{backend}");
        // An edit: the vendor line on request only. The dry run reports it and writes nothing.
        let text = std::fs::read_to_string(DEMO_FILE).unwrap();
        let edited = text.replacen("always_on = true\nauthentication = \"password\"\nowner = \"株式会社なにわ医療システム", "always_on = false\nauthentication = \"password\"\nowner = \"株式会社なにわ医療システム", 1);
        let edited_path = dir.0.join(format!("{backend}-edited.toml"));
        std::fs::write(&edited_path, edited).unwrap();
        let dry = ok(url, &["facility", "import", edited_path.to_str().unwrap(), "--dry-run"]);
        assert!(dry.contains("更新 外部接続: 電子カルテ リモート保守回線") && dry.contains("書き込みなし"), "{backend}: {dry}");
        let json = ok(url, &["facility", "export"]);
        assert!(json.contains("always_on = true\nauthentication = \"password\"\nowner = \"株式会社なにわ医療システム"), "{backend}: the dry run wrote nothing");
        ok(url, &["facility", "import", edited_path.to_str().unwrap()]);
        // The diagram compares today with the file as it was.
        let o = mamori(url, &["diagram", "--diff-from", DEMO_FILE]);
        assert!(o.status.success(), "{backend}");
        let list = String::from_utf8(o.stderr).unwrap();
        assert!(list.contains("電子カルテ リモート保守回線") && list.contains("必要時のみ"), "{backend}: {list}");
        let svg = String::from_utf8(o.stdout).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("変更"), "{backend}");
        // Policies by hand.
        let out = ok(url, &["policy", "add", "--from", "segment:4", "--to", "segment:1", "--action", "deny", "--position", "1"]);
        assert!(out.contains("追加しました"), "{backend}: {out}");
        let list = ok(url, &["policy", "list", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_str(&list).unwrap();
        assert_eq!(v[0]["action"], "deny", "{backend}");
        assert!(fails(url, &["policy", "add", "--from", "room:1", "--to", "any"]).contains("room:1"), "{backend}");
    }
}

#[test]
fn a_broken_facility_file_names_line_and_field_and_creates_nothing() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("new.db");
    let bad = dir.0.join("bad.toml");
    let text = std::fs::read_to_string(DEMO_FILE).unwrap().replacen("segment = \"院内LAN\"", "segment = \"院内LANX\"", 1);
    std::fs::write(&bad, text).unwrap();
    let err = fails(db.to_str().unwrap(), &["facility", "import", bad.to_str().unwrap()]);
    assert!(err.contains("bad.toml:") && err.contains("segment") && err.contains("院内LANX"), "{err}");
    assert!(!db.exists(), "no database is created for a file that is refused");
}

#[test]
fn the_diagram_in_every_format() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("demo.db");
    let db = db.to_str().unwrap();
    ok(db, &["demo"]);
    let svg = ok(db, &["diagram", "--page", "a4"]);
    assert!(svg.contains("width=\"297mm\"") && svg.contains("みなと内科クリニック") && svg.contains("FortiGate"), "A4 SVG");
    let dot = ok(db, &["diagram", "--format", "dot"]);
    assert!(dot.starts_with("digraph") || dot.contains("digraph"), "{dot}");
    let mmd = ok(db, &["diagram", "--format", "mermaid"]);
    assert!(mmd.contains("flowchart TB"), "{mmd}");
    // Today's network was recorded: a diff against today shows nothing changed.
    let today = mamori_web::today_jst();
    let o = mamori(db, &["diagram", "--diff-from", &today]);
    assert!(o.status.success());
    assert!(fails(db, &["diagram", "--diff-from", "2001-01-01"]).contains("記録がありません"));
    assert!(fails(db, &["diagram", "--diff-from", "yesterday"]).contains("yesterday"));
}
