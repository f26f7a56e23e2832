//! The MHLW checklist on every backend: the shipped editions with their numbering, answers and
//! their history, evidence on the demo facility, carrying answers between editions, and the xlsx
//! for the 保健所 compared cell by cell and read back.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use mamori_i18n::Lang;
use mamori_model::{DeviceClass, Facility, FacilityKind, SheetKind};
use mamori_store::checklist::{NewAnswer, answer_classes, builtin_editions};
use mamori_store::testing::fresh_databases;
use mamori_store::{OpenMode, Snapshot, Store, StoreError};

const DEMO: &str = include_str!("../../../content/demo/minato-clinic.json");

fn today() -> jiff::civil::Date {
    jiff::civil::date(2026, 11, 25)
}

async fn demo(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    let snap = Snapshot::parse_bytes("demo.json", DEMO.as_bytes()).unwrap();
    store.import_snapshot("test", &snap, "demo.load").await.unwrap();
    store
}

async fn empty(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    store
        .set_facility(
            "t",
            &Facility {
                name: "空の診療所".into(),
                kind: FacilityKind::Clinic,
                beds: 0,
                prefecture: None,
                address: None,
                security_manager: None,
                phone: None,
            },
        )
        .await
        .unwrap();
    store
}

fn answer(edition: &str, item: &str, class: Option<DeviceClass>, yes: bool, date: &str) -> NewAnswer {
    NewAnswer {
        edition: edition.into(),
        sheet: SheetKind::Facility,
        item: item.into(),
        device_class: class,
        round: 1,
        yes,
        checked_on: Some(date.into()),
        ..Default::default()
    }
}

#[test]
fn every_item_of_both_editions_is_present_with_its_numbering() {
    let editions = builtin_editions();
    let labels = |id: &str, kind: SheetKind| -> Vec<String> {
        let e = editions.iter().find(|e| e.id == id).unwrap();
        e.sheet(kind).unwrap().items.iter().map(|i| i.label.clone()).collect()
    };
    let r6: Vec<String> = ["医療情報システムの有無", "1-(1)"]
        .into_iter()
        .map(str::to_owned)
        .chain((1..=9).map(|n| format!("2-({n})")))
        .chain((1..=3).map(|n| format!("3-({n})")))
        .collect();
    assert_eq!(labels("R6", SheetKind::Facility), r6);
    let circled = ['①', '②', '③', '④', '⑤', '⑥', '⑦', '⑧', '⑨', '⑩', '⑪', '⑫', '⑬'];
    let r7: Vec<String> = ["医療情報システムの有無".to_owned(), "1-①".to_owned()]
        .into_iter()
        .chain(circled.iter().map(|c| format!("2-{c}")))
        .chain(circled.iter().take(3).map(|c| format!("3-{c}")))
        .chain(["4-①".to_owned()])
        .collect();
    assert_eq!(labels("R7", SheetKind::Facility), r7);
    // Answer rows of R6's facility sheet in section 2: 14, as MHLW counts them.
    let r6e = editions.iter().find(|e| e.id == "R6").unwrap();
    let rows: usize = r6e.sheet(SheetKind::Facility).unwrap().items.iter().filter(|i| i.section == 2).map(|i| answer_classes(i).len()).sum();
    assert_eq!(rows, 14);
    // Both editions have a vendor sheet, every item a topic, and the gate item is the gate.
    for e in editions {
        assert!(e.sheet(SheetKind::Vendor).is_some(), "{}", e.id);
        for s in &e.sheets {
            for i in &s.items {
                assert!(i.topic.is_some(), "{} {}", e.id, i.label);
                assert_eq!(i.gate, i.id == "gate", "{} {}", e.id, i.label);
            }
        }
    }
}

#[tokio::test]
async fn answers_are_checked_kept_with_history_and_audited() {
    for (backend, db) in fresh_databases().await {
        let store = empty(&db.url).await;
        // By printed label or by id; per device class where the item has classes.
        let n = store.answer_checklist("yamamoto", &[answer("R6", "2-(5)", Some(DeviceClass::Server), true, "2026-10-01")]).await.unwrap();
        assert_eq!(n, 1, "{backend}");
        // The same answer again records nothing.
        let n = store.answer_checklist("yamamoto", &[answer("R6", "2-5", Some(DeviceClass::Server), true, "2026-10-01")]).await.unwrap();
        assert_eq!(n, 0, "{backend}");
        let mut no = answer("R6", "2-(5)", Some(DeviceClass::Server), false, "2026-11-01");
        no.target_date = Some("2027-03-31".into());
        store.answer_checklist("yamamoto", &[no]).await.unwrap();
        let now = store.checklist_answers("R6", SheetKind::Facility, None).await.unwrap();
        assert_eq!(now.len(), 1, "{backend}");
        assert!(!now[0].yes && now[0].target_date.as_deref() == Some("2027-03-31"), "{backend}");
        let history = store.checklist_answer_history("R6", SheetKind::Facility, "2-5").await.unwrap();
        assert_eq!(history.iter().map(|a| a.yes).collect::<Vec<_>>(), [false, true], "{backend}");
        // Refused: unknown item, a class the item is not answered for, a bad date, a vendor
        // sheet without a vendor — and nothing of a refused batch is written.
        for bad in [
            answer("R6", "2-(99)", None, true, "2026-10-01"),
            answer("R6", "2-(5)", Some(DeviceClass::Network), true, "2026-10-01"),
            answer("R6", "2-(5)", Some(DeviceClass::Pc), true, "2026/13/01"),
            NewAnswer { sheet: SheetKind::Vendor, ..answer("R6", "1-(1)", None, true, "2026-10-01") },
        ] {
            let ok = answer("R6", "1-(1)", None, true, "2026-10-01");
            let r = store.answer_checklist("t", &[ok, bad]).await;
            assert!(matches!(r, Err(StoreError::Format(_) | StoreError::Missing { .. })), "{backend}: {r:?}");
        }
        assert_eq!(store.checklist_answers("R6", SheetKind::Facility, None).await.unwrap().len(), 1, "{backend}");
        let audit = store.list_audit(&mamori_store::AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "checklist.answer").count(), 2, "{backend}");
    }
}

#[tokio::test]
async fn on_the_demo_the_records_contradict_the_yes_to_accounts_and_backup() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        for (edition, accounts, backup) in [("R6", "2-5", "3-2"), ("R7", "2-5", "3-2")] {
            let view = store.checklist_view(Lang::Ja, edition, SheetKind::Facility, None, today()).await.unwrap();
            let item = |id: &str| view.items.iter().find(|i| i.item.id == id).unwrap();
            for id in [accounts, backup] {
                let iv = item(id);
                assert!(iv.lines.iter().any(|l| l.latest().is_some_and(|a| a.yes)), "{backend} {edition} {id}: answered yes");
                assert!(iv.warning, "{backend} {edition} {id}: the records contradict the yes");
                assert_eq!(iv.suggested, Some(false), "{backend} {edition} {id}");
                assert_eq!(iv.level, 0, "{backend} {edition} {id}");
            }
            let facts = item(accounts).evidence.as_ref().unwrap().facts.join(" ");
            assert!(facts.contains("nakamura.s") && facts.contains("takahashi"), "{backend}: {facts}");
            let facts = item(backup).evidence.as_ref().unwrap().facts.join(" ");
            assert!(facts.contains("オフライン"), "{backend}: {facts}");
            // The security manager is recorded: consistent with a yes to 1-(1).
            assert!(!item("1-1").warning, "{backend}");
        }
        // The roadmap puts the largest risk reduction first, and backup is among the first.
        let steps = store.checklist_roadmap(Lang::Ja, "R7", today()).await.unwrap();
        assert!(steps.windows(2).all(|w| w[0].score >= w[1].score), "{backend}");
        assert!(steps.iter().take(3).any(|s| s.topic == "backup"), "{backend}: {:?}", steps.iter().map(|s| &s.topic).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn answers_carry_over_by_topic_and_new_items_are_listed() {
    for (backend, db) in fresh_databases().await {
        let store = empty(&db.url).await;
        let mut batch = vec![
            answer("R6", "1-(1)", None, true, "2025-01-10"),
            answer("R6", "2-(5)", Some(DeviceClass::Server), true, "2025-01-10"),
            answer("R6", "2-(5)", Some(DeviceClass::Pc), false, "2025-01-10"),
        ];
        // Patches: three rows in R6, one in R7; all yes carries as yes.
        for c in [DeviceClass::Server, DeviceClass::Pc, DeviceClass::Network] {
            batch.push(answer("R6", "2-(7)", Some(c), true, "2025-01-10"));
        }
        store.answer_checklist("t", &batch).await.unwrap();
        let report = store.carry_checklist_answers("t", "R6", "R7").await.unwrap();
        assert_eq!(report.carried, ["1-①", "2-⑤", "2-⑥"], "{backend}");
        assert!(report.to_answer.contains(&"2-⑦".to_owned()) && report.to_answer.contains(&"2-⑧".to_owned()), "{backend}");
        let r7 = store.checklist_answers("R7", SheetKind::Facility, None).await.unwrap();
        let get = |item: &str, c: Option<DeviceClass>| r7.iter().find(|a| a.item_id == item && a.device_class == c).map(|a| a.yes);
        assert_eq!(get("2-5", Some(DeviceClass::Server)), Some(true), "{backend}");
        assert_eq!(get("2-5", Some(DeviceClass::Pc)), Some(false), "{backend}");
        assert_eq!(get("2-6", Some(DeviceClass::All)), Some(true), "{backend}");
        // The edition answered is kept: R6's answers are still R6's.
        assert_eq!(store.checklist_answers("R6", SheetKind::Facility, None).await.unwrap().len(), 6, "{backend}");
    }
}

fn cells(bytes: &[u8]) -> Vec<(String, calamine::Range<Data>)> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).unwrap();
    wb.sheet_names().into_iter().map(|n| (n.clone(), wb.worksheet_range(&n).unwrap())).collect()
}

fn text(r: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match r.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

#[tokio::test]
async fn the_xlsx_for_the_inspection_has_the_official_layout_and_comes_back() {
    for (backend, db) in fresh_databases().await {
        // An empty database gives the blank form: every item, no answer.
        let store = empty(&db.url).await;
        let bytes = store.checklist_xlsx("R6", None).await.unwrap();
        let sheets = cells(&bytes);
        assert_eq!(sheets.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["医療機関確認用", "事業者確認用"], "{backend}");
        let edition = builtin_editions().iter().find(|e| e.id == "R6").unwrap();
        for (name, range) in &sheets {
            let kind = if name == "医療機関確認用" { SheetKind::Facility } else { SheetKind::Vendor };
            let sheet = edition.sheet(kind).unwrap();
            assert_eq!(text(range, 0, 0), edition.title_ja, "{backend}");
            assert_eq!(text(range, 1, 0), format!("【{}】", sheet.name_ja), "{backend}");
            assert_eq!((text(range, 3, 0), text(range, 3, 1), text(range, 3, 4)), ("mamori 版ID".into(), "R6".into(), kind.code().into()));
            let header: Vec<String> = (0..9).map(|c| text(range, 5, c)).collect();
            assert_eq!(header, mamori_ingest::checklist_xlsx::HEADERS, "{backend}");
            // Expected rows: a heading per section, then one row per item and device class.
            // [column A, column B, column C] of each row.
            let mut expected: Vec<[String; 3]> = Vec::new();
            let mut section = None;
            for item in &sheet.items {
                if item.section != 0 && section != Some(item.section) {
                    section = Some(item.section);
                    let s = sheet.sections.iter().find(|s| s.number == item.section).unwrap();
                    expected.push([format!("{}　{}", s.number, s.title_ja), String::new(), String::new()]);
                }
                for (i, c) in answer_classes(item).into_iter().enumerate() {
                    let class = match c {
                        None => "—".to_owned(),
                        Some(c) => mamori_i18n::t(Lang::Ja, &c.label_key()).to_owned(),
                    };
                    // Merged cells: the label and text are in the first row of the item.
                    let (label, txt) = if i == 0 { (item.label.clone(), item.text_ja.clone()) } else { (String::new(), String::new()) };
                    expected.push([label, txt, class]);
                }
            }
            for (i, [a, b, c]) in expected.iter().enumerate() {
                let row = 6 + i as u32;
                assert_eq!(&text(range, row, 0), a, "{backend} {name} row {}", row + 1);
                assert_eq!(&text(range, row, 1), b, "{backend} {name} row {}", row + 1);
                if !c.is_empty() {
                    assert_eq!(&text(range, row, 2), c, "{backend} {name} row {}", row + 1);
                    for col in 3..8 {
                        assert_eq!(text(range, row, col), "", "{backend} {name}: blank form has no answer at row {} col {col}", row + 1);
                    }
                }
            }
        }

        // The demo's answers are in the cells where the form puts them, and come back.
        let db2 = mamori_store::testing::fresh_sqlite().unwrap();
        let demo_store = demo(&db2.url).await;
        let bytes = demo_store.checklist_xlsx("R7", None).await.unwrap();
        let sheets = cells(&bytes);
        let facility = &sheets[0].1;
        let row_of = |label: &str| (0..200).find(|&r| text(facility, r, 0) == label).unwrap();
        let r = row_of("2-⑤");
        assert_eq!((text(facility, r, 2), text(facility, r, 3), text(facility, r, 4)), ("サーバ".into(), "はい".into(), "2025-10-20".into()));
        let r = row_of("2-⑦");
        assert_eq!((text(facility, r, 3), text(facility, r, 7)), ("いいえ".into(), "2026-03-31".into()));
        let report = store.import_checklist_xlsx("t", "checklist-R7.xlsx", &bytes).await.unwrap();
        assert!(report.rejected.is_empty(), "{backend}: {:?}", report.rejected);
        let theirs = demo_store.checklist_answers("R7", SheetKind::Facility, None).await.unwrap();
        let ours = store.checklist_answers("R7", SheetKind::Facility, None).await.unwrap();
        type Key = (String, Option<DeviceClass>, bool, Option<String>, Option<String>);
        let key = |v: &[mamori_store::checklist::ChecklistAnswer]| -> Vec<Key> {
            v.iter().map(|a| (a.item_id.clone(), a.device_class, a.yes, a.checked_on.clone(), a.target_date.clone())).collect()
        };
        assert_eq!(key(&ours), key(&theirs), "{backend}: the export re-imported restores the answers");
        assert_eq!(report.recorded, theirs.len(), "{backend}");
        // Importing it again changes nothing.
        assert_eq!(store.import_checklist_xlsx("t", "again.xlsx", &bytes).await.unwrap().recorded, 0, "{backend}");
    }
}

#[tokio::test]
async fn responsibility_matrix_defaults_assignments_and_clauses() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let vendors = store.list_vendors().await.unwrap();
        let emr = vendors.iter().find(|v| v.kind == mamori_model::VendorKind::Emr).unwrap().id;
        let network = vendors.iter().find(|v| v.kind == mamori_model::VendorKind::Network).unwrap().id;
        let m = store.responsibility_matrix("R7").await.unwrap();
        let row = |topic: &str| m.rows.iter().find(|r| r.topic == topic).unwrap().responsibility.clone();
        // The EMR vendor maintains remotely: the remote-maintenance items are in its matrix.
        let remote = row("remote_maintenance");
        assert!(remote.default && remote.vendor_ids.contains(&emr), "{backend}: {remote:?}");
        assert!(!remote.vendor_ids.contains(&network), "{backend}: the network vendor has no remote maintenance");
        assert_eq!(row("source_restriction").vendor_ids, [network], "{backend}");
        assert!(row("bcp").facility && row("bcp").vendor_ids.is_empty(), "{backend}");
        // Every topic of the edition has a row, once, with its items.
        assert_eq!(m.rows.iter().find(|r| r.topic == "backup").unwrap().items, ["3-②"], "{backend}");

        // Assigned by hand: kept, audited; unknown topics and vendors refused.
        store.set_responsibility("manager", "backup", true, &[emr, emr], false, Some("NASはベンダー")).await.unwrap();
        let b = store.responsibility_matrix("R7").await.unwrap().rows.into_iter().find(|r| r.topic == "backup").unwrap().responsibility;
        assert!(!b.default && b.facility && b.vendor_ids == [emr] && b.note.as_deref() == Some("NASはベンダー"), "{backend}: {b:?}");
        assert!(matches!(store.set_responsibility("m", "nonsense", true, &[], false, None).await, Err(StoreError::Missing { .. })));
        assert!(matches!(store.set_responsibility("m", "backup", true, &[999], false, None).await, Err(StoreError::Missing { .. })));
        let audit = store.list_audit(&mamori_store::AuditFilter { limit: 1000, ..Default::default() }).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "contract.responsibility").count(), 1, "{backend}");

        // The EMR vendor's clauses: the general ones, then its topics with their items.
        let c = store.contract_clauses(Lang::Ja, "R7", emr, 30, 7).await.unwrap();
        assert!(c.groups[0].topic.is_none() && !c.groups[0].clauses.is_empty(), "{backend}");
        let topics: Vec<&str> = c.groups.iter().filter_map(|g| g.topic.as_deref()).collect();
        assert!(topics.contains(&"remote_maintenance") && topics.contains(&"backup"), "{backend}: {topics:?}");
        assert!(!topics.contains(&"source_restriction"), "{backend}");
        let all = c.groups.iter().flat_map(|g| g.clauses.iter()).cloned().collect::<Vec<_>>().join("\n");
        assert!(all.contains(&c.vendor.name) && all.contains("みなと内科クリニック") && all.contains("7日以内"), "{backend}");
        assert!(!all.contains('{'), "{backend}: every placeholder filled");
        // Not applicable takes a topic out of every contract.
        store.set_responsibility("manager", "backup", true, &[emr], true, None).await.unwrap();
        let c = store.contract_clauses(Lang::Ja, "R7", emr, 30, 7).await.unwrap();
        assert!(!c.groups.iter().any(|g| g.topic.as_deref() == Some("backup")), "{backend}");

        // Who has returned the vendor sheet.
        let status = store.vendor_answer_status("R7").await.unwrap();
        assert!(status.iter().all(|(_, answered, lines)| *answered == 0 && *lines > 0), "{backend}");
    }
}

/// `db export` / `db copy` carry the checklist: loaded editions, every answer with its history,
/// evidence files, the responsibility matrix and the backups.
#[tokio::test]
async fn the_checklist_travels_with_the_facility() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let mut a = answer("R7", "3-2", None, false, "2026-11-20");
        a.target_date = Some("2027-03-31".into());
        a.files = vec![("復旧テスト計画.xlsx".into(), vec![0, 1, 2, 255])];
        store.answer_checklist("manager", &[a]).await.unwrap();
        let emr = store.list_vendors().await.unwrap()[0].id;
        store.set_responsibility("manager", "backup", true, &[emr], false, None).await.unwrap();
        let mut r9 = builtin_editions()[1].clone();
        r9.id = "R9".into();
        store.save_checklist_edition("manager", &r9, "form.xlsx", "00").await.unwrap();

        let snap = store.export_snapshot().await.unwrap();
        let target = mamori_store::testing::fresh_sqlite().unwrap();
        let copy = Store::open(&target.url, OpenMode::Create).await.unwrap();
        copy.import_snapshot("t", &snap, "db.copy").await.unwrap();
        let theirs = copy.checklist_answers("R7", SheetKind::Facility, None).await.unwrap();
        let b = theirs.iter().find(|a| a.item_id == "3-2").unwrap();
        assert!(!b.yes && b.files.len() == 1, "{backend}: {b:?}");
        let (_, name, bytes) = copy.checklist_file(b.files[0].id).await.unwrap();
        assert_eq!((name.as_str(), bytes.as_slice()), ("復旧テスト計画.xlsx", &[0_u8, 1, 2, 255][..]), "{backend}");
        assert_eq!(copy.checklist_answer_history("R7", SheetKind::Facility, "3-2").await.unwrap().len(), 2, "{backend}");
        assert!(copy.checklist_edition("R9").await.is_ok(), "{backend}");
        let m = copy.responsibility_matrix("R7").await.unwrap();
        assert!(!m.rows.iter().find(|r| r.topic == "backup").unwrap().responsibility.default, "{backend}");
        assert_eq!(copy.list_backups().await.unwrap(), store.list_backups().await.unwrap(), "{backend}");
    }
}
