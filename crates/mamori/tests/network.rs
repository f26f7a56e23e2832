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

#[tokio::test]
async fn assess_whatif_and_plans_on_the_demo() {
    let dir = TempDir::new().unwrap();
    for (backend, db) in fresh_databases().await {
        let url = db.url.as_str();
        ok(url, &["demo"]);
        // Findings are the result, not a failure: exit 0.
        let text = ok(url, &["assess"]);
        for planted in ["FortiGate", "admin", "takahashi", "患者用Wi-Fi", "バックアップ", "常時接続", "多要素認証"] {
            assert!(text.contains(planted), "{backend}: {planted} not in the assessment");
        }
        let json: serde_json::Value = serde_json::from_str(&ok(url, &["assess", "--format", "json"])).unwrap();
        let rules: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
        for rule in [
            "flat_network",
            "remote_access_no_mfa",
            "vendor_line_always_on",
            "edge_device_vulnerable",
            "guest_wifi_reaches_clinical",
            "closed_network_dual_homed",
            "backup_not_offline",
            "shared_admin_account",
            "leaver_account_enabled",
            "no_endpoint_protection",
            "os_end_of_support",
            "rdp_smb_reachable",
            "internet_exposed_service",
        ] {
            assert!(rules.contains(&rule), "{backend}: rule {rule} did not fire on the demo: {rules:?}");
        }
        let emr = json["goals"].as_array().unwrap().iter().find(|g| g["goal"] == "emr_data").unwrap();
        assert_eq!(emr["reachable"], true, "{backend}");
        let first = &emr["paths"][0]["steps"][0];
        assert_eq!(first["from"]["kind"], "internet", "{backend}: the path starts on the internet");
        // The HTML report carries the diagram with the path drawn.
        let html = dir.0.join(format!("{backend}.html"));
        ok(url, &["assess", "--format", "html", "-o", html.to_str().unwrap()]);
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg") && page.contains("電子カルテ"), "{backend}");

        // What-if: an offline backup makes "backups destroyed" unreachable; nothing is saved.
        let w: serde_json::Value = serde_json::from_str(&ok(url, &["whatif", "--change", "offline-backup", "--format", "json"])).unwrap();
        let after = w["goals_after"].as_array().unwrap().iter().find(|g| g[0] == "backups_destroyed").unwrap();
        assert_eq!(after[1], false, "{backend}: {w}");
        assert!(w["score_after"].as_f64().unwrap() < w["score_before"].as_f64().unwrap(), "{backend}");
        let again: serde_json::Value = serde_json::from_str(&ok(url, &["assess", "--format", "json"])).unwrap();
        assert_eq!(again["score"]["total"], json["score"]["total"], "{backend}: the what-if saved nothing");
        // Several changes by name and id; a bad spec names itself.
        let out = ok(url, &["whatif", "--change", "mfa:4", "--change", "on-demand:電子カルテ リモート保守回線（インターネットVPN）", "--change", "patch:1"]);
        assert!(out.contains("リスクスコア") && out.contains("→"), "{backend}: {out}");
        let err = fails(url, &["whatif", "--change", "disconnect:999"]);
        assert!(err.contains("disconnect:999"), "{backend}: {err}");
        // Saved as a plan with an owner and a date.
        let o = mamori(url, &["whatif", "--change", "on-demand:2", "--save", "保守回線を必要時のみ接続に", "--owner", "株式会社なにわ医療システム", "--due", "2027-01-31"]);
        assert!(o.status.success(), "{backend}: {}", String::from_utf8_lossy(&o.stderr));
        let plans: serde_json::Value = serde_json::from_str(&ok(url, &["plan", "list", "--format", "json"])).unwrap();
        assert_eq!(plans[0]["changes"][0], "on-demand:2", "{backend}");
        assert_eq!(plans[0]["status"], "planned", "{backend}");
        let id = plans[0]["id"].as_i64().unwrap().to_string();
        ok(url, &["plan", "status", &id, "done"]);
        assert!(ok(url, &["plan", "list"]).contains("完了"), "{backend}");
        assert!(!fails(url, &["plan", "status", &id, "finished"]).is_empty(), "{backend}");
    }
}
