//! The network model on every backend: the demo's policies survive export/import, the facility
//! file reconciles by name (ids and findings kept), a dry run and a failing import write
//! nothing, dated snapshots feed the diff, and improvement plans are recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use mamori_ingest::facility_file;
use mamori_model::network::{PolicyAction, Zone};
use mamori_store::testing::fresh_databases;
use mamori_store::{OpenMode, Snapshot, Store};

const DEMO: &str = include_str!("../../../content/demo/minato-clinic.json");
const DEMO_FILE: &str = include_str!("../../../content/demo/minato-clinic.facility.toml");

async fn demo(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    let snap = Snapshot::parse_bytes("demo.json", DEMO.as_bytes()).unwrap();
    store.import_snapshot("test", &snap, "demo.load").await.unwrap();
    store
}

#[tokio::test]
async fn the_demo_network_model_has_its_policies_and_landing_points() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let m = store.network_model().await.unwrap();
        assert_eq!((m.assets.len(), m.policies.len(), m.connections.len()), (36, 8, 9), "{backend}");
        assert!(m.policies.iter().any(|p| p.from == Zone::Connection(2) && p.to == Zone::Segment(1) && p.action == PolicyAction::Allow), "{backend}");
        assert_eq!(m.connection(3).and_then(|c| c.segment_id), Some(3), "{backend}");
        assert!(!m.vuln_data && m.vulns.is_empty(), "{backend}: no feed imported");
        assert_eq!(m.date.len(), 10, "{backend}");
        // Export → import into another database carries the policies.
        let snap = store.export_snapshot().await.unwrap();
        assert_eq!(snap.policies.len(), 8, "{backend}");
        let other = mamori_store::testing::fresh_sqlite().unwrap();
        let copy = Store::open(&other.url, OpenMode::Create).await.unwrap();
        copy.import_snapshot("test", &snap, "db.import").await.unwrap();
        assert_eq!(copy.list_policies().await.unwrap(), store.list_policies().await.unwrap(), "{backend}");
        // A policy added by hand is audited and listed in order.
        let p = store
            .create_policy("manager", &mamori_model::network::Policy { id: 0, name: Some("RDP 遮断".into()), gateway_id: Some(1), from: Zone::Segment(4), to: Zone::Asset(7), services: vec!["rdp".into()], action: PolicyAction::Deny, position: 1, notes: None })
            .await
            .unwrap();
        assert_eq!(store.list_policies().await.unwrap().first().map(|x| x.id), Some(p.id), "{backend}");
        store.delete_policy("manager", p.id).await.unwrap();
        assert!(store.delete_policy("manager", p.id).await.is_err(), "{backend}");
    }
}

#[tokio::test]
async fn a_facility_file_reconciles_by_name_and_keeps_ids() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let before = store.network_model().await.unwrap();
        // The committed demo file says what the demo database says: nothing changes.
        let doc = facility_file::parse("demo.toml", DEMO_FILE.as_bytes()).unwrap();
        let r = store.apply_facility("vendor-se", &doc, false, false).await.unwrap();
        assert!(r.added.is_empty() && r.removed.is_empty() && r.updated.is_empty(), "{backend}: {r:?}");
        let after = store.network_model().await.unwrap();
        assert_eq!(before.assets, after.assets, "{backend}");
        assert_eq!(before.policies.len(), after.policies.len(), "{backend}");

        // A vendor edits the file: the RTX line becomes on-demand, a new PC, the old NAS gone.
        let edited = DEMO_FILE
            .replacen("always_on = true\nauthentication = \"password\"\nowner = \"株式会社なにわ医療システム", "always_on = false\nauthentication = \"password\"\nowner = \"株式会社なにわ医療システム", 1);
        assert_ne!(edited, DEMO_FILE, "the edit applies");
        let mut doc = facility_file::parse("edited.toml", edited.as_bytes()).unwrap();
        let old_nas = doc.assets.iter().position(|a| a.data.name.contains("旧バックアップNAS")).unwrap();
        let removed = doc.assets.remove(old_nas);
        for a in &mut doc.accounts {
            a.asset_ids.retain(|x| *x != removed.id);
        }
        for c in &mut doc.contracts {
            c.asset_ids.retain(|x| *x != removed.id);
        }
        doc.backups.retain(|b| b.asset_id != Some(removed.id));
        let mut pc = doc.assets.first().unwrap().clone();
        pc.id = 9999;
        pc.data = mamori_model::AssetData::new("新規受付PC-3", mamori_model::AssetKind::Pc);
        doc.assets.push(pc);
        // Dry run first: reports, writes nothing.
        let dry = store.apply_facility("vendor-se", &doc, false, true).await.unwrap();
        assert!(dry.dry_run && dry.added.get("assets").is_some_and(|v| v == &["新規受付PC-3".to_owned()]), "{backend}: {dry:?}");
        assert_eq!(store.network_model().await.unwrap().assets.len(), 36, "{backend}: the dry run wrote nothing");
        let r = store.apply_facility("vendor-se", &doc, false, false).await.unwrap();
        assert_eq!(r.updated.get("connections").map(Vec::len), Some(1), "{backend}: {r:?}");
        assert!(r.kept.get("assets").is_some_and(|v| v.iter().any(|n| n.contains("旧バックアップNAS"))), "{backend}: without --prune the asset stays: {r:?}");
        let m = store.network_model().await.unwrap();
        assert_eq!(m.assets.len(), 37, "{backend}");
        let rtx_line = m.connections.iter().find(|c| c.asset_id == Some(2) && c.vendor_id == Some(1)).unwrap();
        assert!(!rtx_line.always_on, "{backend}: same connection id, updated");
        assert_eq!(m.asset(7).map(|a| a.data.name.as_str()), Some("電子カルテサーバ"), "{backend}: ids kept");
        // With --prune the old NAS goes.
        let r = store.apply_facility("vendor-se", &doc, true, false).await.unwrap();
        assert!(r.removed.get("assets").is_some_and(|v| v.iter().any(|n| n.contains("旧バックアップNAS"))), "{backend}: {r:?}");
        assert_eq!(store.network_model().await.unwrap().assets.len(), 36, "{backend}");
        let audit = store.audit_chain().await.unwrap();
        assert!(audit.iter().filter(|e| e.action == "facility.import").count() >= 3, "{backend}");
        assert!(store.verify_audit().await.is_ok(), "{backend}");
    }
}

#[tokio::test]
async fn a_facility_file_starts_an_empty_database() {
    for (backend, db) in fresh_databases().await {
        let store = Store::open(&db.url, OpenMode::Create).await.unwrap();
        let doc = facility_file::parse("demo.toml", DEMO_FILE.as_bytes()).unwrap();
        store.apply_facility("consultant", &doc, false, false).await.unwrap();
        assert_eq!(store.facility().await.unwrap().map(|f| f.name), Some("みなと内科クリニック".into()), "{backend}");
        let text = facility_file::write(&store.facility_doc().await.unwrap()).unwrap();
        assert_eq!(text, DEMO_FILE, "{backend}: export gives back the same file");
        // New rows after the explicit ids do not collide (PostgreSQL identity sequences).
        let s = store.create_segment("x", &mamori_model::Segment { id: 0, name: "医療機器VLAN".into(), purpose: mamori_model::SegmentPurpose::MedicalDevices, cidr: None, vlan: Some(30), description: None }).await.unwrap();
        assert!(s.id > 4, "{backend}");
    }
}

#[tokio::test]
async fn snapshots_by_day_and_plans() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let mut m = store.network_model().await.unwrap();
        m.date = "2025-11-20".into();
        store.record_network_snapshot(&m).await.unwrap();
        m.assets.truncate(30);
        store.record_network_snapshot(&m).await.unwrap(); // the newest of a day wins
        m.date = "2026-11-20".into();
        store.record_network_snapshot(&m).await.unwrap();
        let (on, old) = store.network_snapshot_on("2026-01-01").await.unwrap().unwrap();
        assert_eq!((on.as_str(), old.assets.len()), ("2025-11-20", 30), "{backend}");
        assert!(store.network_snapshot_on("2025-01-01").await.unwrap().is_none(), "{backend}");
        assert_eq!(store.network_snapshot_days().await.unwrap(), ["2026-11-20", "2025-11-20"], "{backend}");
        let p = store
            .create_plan("manager", "保守回線を必要時のみ接続に変更", &["on-demand:2".into()], Some("株式会社なにわ医療システム"), Some("2027-01-31"), 80.0, 55.5, &serde_json::json!({"goals_before": 4, "goals_after": 3}))
            .await
            .unwrap();
        assert_eq!((p.status.as_str(), p.before_score, p.after_score), ("planned", 80.0, 55.5), "{backend}");
        store.set_plan_status("manager", p.id, "done").await.unwrap();
        assert!(store.set_plan_status("manager", p.id, "finished").await.is_err(), "{backend}");
        assert!(store.create_plan("manager", " ", &["mfa:4".into()], None, None, 1.0, 1.0, &serde_json::json!({})).await.is_err(), "{backend}");
        assert_eq!(store.plans().await.unwrap().first().map(|p| p.status.clone()), Some("done".into()), "{backend}");
        // Plans and snapshots travel with db export/import.
        let snap = store.export_snapshot().await.unwrap();
        let other = mamori_store::testing::fresh_sqlite().unwrap();
        let copy = Store::open(&other.url, OpenMode::Create).await.unwrap();
        copy.import_snapshot("test", &snap, "db.import").await.unwrap();
        assert_eq!(copy.plans().await.unwrap(), store.plans().await.unwrap(), "{backend}");
        assert_eq!(copy.network_snapshot_days().await.unwrap().len(), 2, "{backend}");
    }
}
