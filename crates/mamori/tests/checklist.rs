//! `mamori checklist …` end to end on the demo facility: the answers the records contradict, an
//! answer recorded and refused, the xlsx for the 保健所 taken back into another database, a new
//! edition loaded from a form in the official style (mamori's own export), the roadmap, and
//! carrying answers to a newer edition.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{fails, ok};
use mamori_store::testing::TempDir;

fn db(dir: &TempDir, name: &str) -> String {
    dir.0.join(name).display().to_string()
}

fn json(db: &str, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

#[test]
fn checklist_on_the_demo_facility() {
    let dir = TempDir::new().unwrap();
    let demo = db(&dir, "demo.db");
    ok(&demo, &["demo"]);

    // The records contradict the demo's はい to 2-(5) (a leaver's account) and 3-(2) (no
    // offline backup), in both editions.
    for (edition, accounts, backup) in [("R6", "2-(5)", "3-(2)"), ("R7", "2-⑤", "3-②")] {
        let view = json(&demo, &["checklist", "show", "--edition", edition, "--format", "json"]);
        let warned: Vec<&str> = view["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["warning"] == true)
            .map(|i| i["item"]["label"].as_str().unwrap())
            .collect();
        assert!(warned.contains(&accounts) && warned.contains(&backup), "{edition}: {warned:?}");
    }
    let text = ok(&demo, &["checklist", "show", "--edition", "R6"]);
    assert!(text.contains("退職者のアカウントが有効のままです: nakamura.s, takahashi"), "{text}");

    // Answering: a yes the records contradict is recorded, with the warning said at once.
    let out = ok(&demo, &["checklist", "answer", "2-(5)", "--edition", "R6", "--device-class", "pc", "--answer", "yes", "--date", "2026-11-20"]);
    assert!(out.contains("記録しました") && out.contains("矛盾"), "{out}");
    // Evidence files: attached to the answer, listed, and taken out again byte for byte.
    let pdf = dir.0.join("退職者アカウント削除記録.pdf");
    std::fs::write(&pdf, b"%PDF-1.4 evidence").unwrap();
    ok(&demo, &["checklist", "answer", "2-(5)", "--edition", "R6", "--device-class", "server", "--answer", "no", "--target-date", "2027-01-31", "--evidence-file", pdf.to_str().unwrap()]);
    let view = json(&demo, &["checklist", "show", "--edition", "R6", "--format", "json"]);
    let file = view["items"].as_array().unwrap().iter().find(|i| i["item"]["id"] == "2-5").unwrap()["lines"][0]["round1"]["files"][0].clone();
    assert_eq!(file["file_name"], "退職者アカウント削除記録.pdf");
    let out = dir.0.join("back.pdf");
    ok(&demo, &["checklist", "file", &file["id"].to_string(), "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), b"%PDF-1.4 evidence");
    let empty = dir.0.join("empty.txt");
    std::fs::write(&empty, b"").unwrap();
    let err = fails(&demo, &["checklist", "answer", "1-(1)", "--edition", "R6", "--answer", "yes", "--evidence-file", empty.to_str().unwrap()]);
    assert!(err.contains("empty.txt"), "{err}");

    // Refused: an item answered per class without the class, a bad date, an unknown item.
    let err = fails(&demo, &["checklist", "answer", "2-(5)", "--edition", "R6", "--answer", "no"]);
    assert!(err.contains("--device-class"), "{err}");
    let err = fails(&demo, &["checklist", "answer", "1-(1)", "--edition", "R6", "--answer", "yes", "--date", "2026-02-30"]);
    assert!(err.contains("2026-02-30"), "{err}");
    let err = fails(&demo, &["checklist", "answer", "9-(9)", "--edition", "R6", "--answer", "yes"]);
    assert!(err.contains("9-(9)"), "{err}");

    // The roadmap: backup first or nearly, as JSON too.
    let steps = json(&demo, &["checklist", "roadmap", "--edition", "R7", "--format", "json"]);
    let topics: Vec<&str> = steps.as_array().unwrap().iter().map(|s| s["topic"].as_str().unwrap()).collect();
    assert!(topics.iter().take(3).any(|t| *t == "backup"), "{topics:?}");

    // Export for the 保健所, and back into another database.
    let xlsx = dir.0.join("r7.xlsx");
    ok(&demo, &["checklist", "export", "--edition", "R7", "-o", xlsx.to_str().unwrap()]);
    let other = db(&dir, "other.db");
    ok(&other, &["init", "--facility", "別の診療所"]);
    let out = ok(&other, &["checklist", "import", xlsx.to_str().unwrap()]);
    assert!(out.contains("回答 15 件を記録しました"), "{out}");
    let a = json(&demo, &["checklist", "show", "--edition", "R7", "--format", "json"]);
    let b = json(&other, &["checklist", "show", "--edition", "R7", "--format", "json"]);
    let answers = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["lines"].as_array().unwrap().iter().map(move |l| (i["item"]["id"].to_string(), l["round1"]["yes"].to_string())))
            .collect()
    };
    assert_eq!(answers(&a), answers(&b));
    // A printable version.
    let html = dir.0.join("r7.html");
    ok(&demo, &["checklist", "export", "--edition", "R7", "--format", "html", "-o", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("医療機関確認用") && page.contains("事業者確認用") && page.contains("2-⑤"), "html");

    // Not an export: a clear error, nothing recorded.
    let junk = dir.0.join("junk.xlsx");
    std::fs::write(&junk, b"PK\x03\x04 not a workbook").unwrap();
    let err = fails(&other, &["checklist", "import", junk.to_str().unwrap()]);
    assert!(err.contains("junk.xlsx"), "{err}");

    // The BCP 確認表: the five phases, with what is known of them.
    let bcp = ok(&demo, &["checklist", "bcp"]);
    for phase in ["平時", "検知", "初動対応", "復旧処理", "事後対応"] {
        assert!(bcp.contains(phase), "{bcp}");
    }
    assert!(bcp.contains("5-2 再発防止策の検討・策定"), "{bcp}");

    // Carry the R6 answers of a database that has only those to R7.
    let carry = db(&dir, "carry.db");
    ok(&carry, &["init", "--facility", "引継ぎ診療所"]);
    ok(&carry, &["checklist", "answer", "1-(1)", "--edition", "R6", "--answer", "yes", "--date", "2025-01-10"]);
    let out = ok(&carry, &["checklist", "carry", "--from", "R6", "--to", "R7"]);
    assert!(out.contains("1 項目") && out.contains("2-⑦"), "{out}");
}

#[test]
fn a_new_edition_is_loaded_from_a_form_in_the_official_style() {
    let dir = TempDir::new().unwrap();
    let demo = db(&dir, "demo.db");
    ok(&demo, &["demo"]);
    // mamori's export of R7 is laid out like the official form: title rows, merged cells,
    // sections, per-row device classes, notes below the table.
    let form = dir.0.join("form.xlsx");
    ok(&demo, &["checklist", "export", "--edition", "R7", "-o", form.to_str().unwrap()]);
    // Without --yes: what was understood, nothing stored.
    let out = ok(&demo, &["checklist", "load-edition", form.to_str().unwrap(), "--id", "R8", "--fiscal-year", "令和8年度"]);
    assert!(out.contains("2-⑬") && out.contains("--yes"), "{out}");
    let editions = json(&demo, &["checklist", "editions", "--format", "json"]);
    assert_eq!(editions.as_array().unwrap().len(), 2);
    ok(&demo, &["checklist", "load-edition", form.to_str().unwrap(), "--id", "R8", "--fiscal-year", "令和8年度", "--yes"]);
    let r8 = json(&demo, &["checklist", "show", "--edition", "R8", "--format", "json"]);
    let labels: Vec<&str> = r8["items"].as_array().unwrap().iter().map(|i| i["item"]["label"].as_str().unwrap()).collect();
    let r7 = json(&demo, &["checklist", "show", "--edition", "R7", "--format", "json"]);
    let want: Vec<&str> = r7["items"].as_array().unwrap().iter().map(|i| i["item"]["label"].as_str().unwrap()).collect();
    assert_eq!(labels, want, "the form's items, in order");
    // The loaded items are official text, answered like any other edition; the id is taken.
    ok(&demo, &["checklist", "answer", "2-⑤", "--edition", "R8", "--device-class", "server", "--answer", "no", "--target-date", "2027-03-31"]);
    let err = fails(&demo, &["checklist", "load-edition", form.to_str().unwrap(), "--id", "R8", "--yes"]);
    assert!(err.contains("R8"), "{err}");
    // An edition as data, as the shipped ones are written: no code change to add one.
    let toml = dir.0.join("r7copy.toml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/checklist/r7.toml"), &toml).unwrap();
    ok(&demo, &["checklist", "load-edition", toml.to_str().unwrap(), "--id", "R7-copy", "--yes"]);
    let copy = json(&demo, &["checklist", "show", "--edition", "R7-copy", "--format", "json"]);
    assert_eq!(copy["items"].as_array().unwrap().len(), want.len());
    // Not a form: refused with the file named.
    let text = dir.0.join("notes.xlsx");
    std::fs::write(&text, b"hello").unwrap();
    let err = fails(&demo, &["checklist", "load-edition", text.to_str().unwrap(), "--id", "R9"]);
    assert!(err.contains("notes.xlsx"), "{err}");
}

#[test]
fn contract_matrix_and_clauses() {
    let dir = TempDir::new().unwrap();
    let demo = db(&dir, "demo.db");
    ok(&demo, &["demo"]);
    let m = json(&demo, &["contract", "matrix", "--format", "json"]);
    let emr = m["vendors"].as_array().unwrap().iter().find(|v| v["kind"] == "emr").unwrap()["id"].clone();
    let remote = m["rows"].as_array().unwrap().iter().find(|r| r["topic"] == "remote_maintenance").unwrap();
    assert!(remote["responsibility"]["vendor_ids"].as_array().unwrap().contains(&emr), "{remote}");
    let table = ok(&demo, &["contract", "matrix"]);
    assert!(table.contains("株式会社なにわ医療システム") && table.contains("2-②"), "{table}");
    ok(&demo, &["contract", "set", "usb_media", "--facility", "--vendor", "ベイサイド"]);
    let text = ok(&demo, &["contract", "clauses", "--vendor", "ベイサイド", "--kev-days", "3"]);
    assert!(text.contains("3日以内") && text.contains("USB"), "{text}");
    let html = dir.0.join("clauses.html");
    ok(&demo, &["contract", "clauses", "--vendor", "なにわ", "--format", "html", "-o", html.to_str().unwrap()]);
    assert!(std::fs::read_to_string(&html).unwrap().contains("<ol start=\"1\">"));
    let docx = dir.0.join("clauses.docx");
    ok(&demo, &["contract", "clauses", "--vendor", "なにわ", "--format", "docx", "-o", docx.to_str().unwrap()]);
    let bytes = std::fs::read(&docx).unwrap();
    assert!(bytes.starts_with(b"PK"), "a zip package");
    let err = fails(&demo, &["contract", "clauses", "--vendor", "存在しない事業者"]);
    assert!(err.contains("存在しない事業者"), "{err}");
    let err = fails(&demo, &["contract", "set", "nonsense", "--facility"]);
    assert!(err.contains("nonsense"), "{err}");
}

/// The records the evidence reads can be kept from the command line, and the evidence follows.
#[test]
fn backups_contacts_and_accounts_feed_the_evidence() {
    let dir = TempDir::new().unwrap();
    let d = db(&dir, "clinic.db");
    ok(&d, &["init", "--facility", "さくら診療所", "--security-manager", "院長"]);
    let status = |topic: &str| -> String {
        let v = json(&d, &["checklist", "show", "--edition", "R7", "--format", "json"]);
        v["items"].as_array().unwrap().iter().find(|i| i["item"]["topic"] == topic).unwrap()["evidence"]["status"].as_str().unwrap().to_owned()
    };
    // Backups: online only → contradicts; an offline copy with a restore test → supports.
    ok(&d, &["backup", "add", "電子カルテ日次", "--medium", "online", "--covers", "電子カルテDB", "--last-success", "2026-11-24"]);
    assert_eq!(status("backup"), "contradicts");
    let out = ok(&d, &["backup", "add", "週次外付けHDD", "--medium", "offline"]);
    assert!(out.contains("#2"), "{out}");
    ok(&d, &["backup", "restore-test", "2", "--date", "2026-10-01"]);
    assert_eq!(status("backup"), "supports");
    let list = json(&d, &["backup", "list", "--format", "json"]);
    assert_eq!(list[1]["last_restore_test"], "2026-10-01");
    let err = fails(&d, &["backup", "restore-test", "9", "--date", "2026-10-01"]);
    assert!(err.contains('9'), "{err}");
    let err = fails(&d, &["backup", "restore-test", "2", "--date", "2026-13-01"]);
    assert!(err.contains("日付"), "{err}");
    // Contacts: the authorities and the vendor.
    assert_eq!(status("contact_chain"), "contradicts");
    for org in ["厚生労働省 医政局", "大阪府警察 サイバー犯罪相談窓口", "株式会社なにわ医療システム（保守事業者）"] {
        ok(&d, &["contact", "add", org, "--phone", "06-0000-0000"]);
    }
    assert_eq!(status("contact_chain"), "supports");
    // Accounts: a leaver's enabled account contradicts; disabling it resolves it.
    ok(&d, &["account", "add", "sato", "--system", "電子カルテ", "--person", "佐藤"]);
    assert_eq!(status("accounts"), "supports");
    ok(&d, &["account", "left", "1"]);
    assert_eq!(status("accounts"), "contradicts");
    ok(&d, &["account", "disable", "1"]);
    assert_eq!(status("accounts"), "supports");
    let audit = ok(&d, &["audit", "list", "--format", "json"]);
    assert!(audit.contains("backup.restore_test") && audit.contains("account.update"), "audited");
}
