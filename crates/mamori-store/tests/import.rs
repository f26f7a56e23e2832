//! Reconciliation of outside sources with the inventory, on every backend: matching rules and
//! their reasons, what each kind of source may change, the unregistered-device queue, dry runs,
//! cancellation, provenance, stocktake, and the history carried by `db copy`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::atomic::AtomicBool;

use mamori_model::{
    AssetData, AssetKind, Facility, FacilityKind, Interface, Observation, Segment, SegmentPurpose,
    SourceKind,
};
use mamori_store::testing::fresh_databases;
use mamori_store::{
    CHUNK_OBSERVATIONS, ImportOptions, ImportPlan, ImportSource, MatchReason, OpenMode, Quiet, Store, StoreError,
};

async fn init(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    store
        .set_facility(
            "test",
            &Facility {
                name: "テスト診療所".into(),
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
    for (name, cidr) in [("院内LAN", "192.168.1.0/24"), ("医療機器", "192.168.20.0/24")] {
        store
            .create_segment(
                "test",
                &Segment {
                    id: 0,
                    name: name.into(),
                    purpose: SegmentPurpose::ClinicalLan,
                    cidr: Some(cidr.into()),
                    vlan: None,
                    description: None,
                },
            )
            .await
            .unwrap();
    }
    store
}

fn source(kind: SourceKind) -> ImportSource {
    ImportSource { kind, file_name: format!("test.{}", kind.code()), sha256: "0".repeat(64), taken_at: None }
}

fn obs(line: u64) -> Observation {
    Observation::at_line(line)
}

async fn import(store: &Store, kind: SourceKind, list: &[Observation]) -> ImportPlan {
    store
        .import_observations("tester", source(kind), list, Vec::new(), &ImportOptions::default(), &Quiet)
        .await
        .unwrap()
}

fn asset(name: &str, ip: &str, mac: Option<&str>) -> AssetData {
    let mut d = AssetData::new(name, AssetKind::Pc);
    d.interfaces.push(Interface { name: None, ip: Some(ip.into()), mac: mac.map(Into::into), segment_id: None });
    d
}

/// Unix seconds of a UTC date-time.
fn ts(s: &str) -> i64 {
    s.parse::<jiff::Timestamp>().unwrap().as_second()
}

#[tokio::test]
async fn matching_rules_and_reasons_on_every_backend() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let mut pc = asset("受付PC", "192.168.1.21", Some("00:1a:2b:3c:4d:5e"));
        pc.last_seen = Some("2026-11-20T00:00:00Z".into());
        let pc = store.create_asset("t", &pc).await.unwrap();
        let mut printer = asset("複合機", "192.168.1.50", None);
        printer.last_seen = Some("2026-11-20T00:00:00Z".into());
        let printer = store.create_asset("t", &printer).await.unwrap();
        let mut old = asset("旧端末", "192.168.1.60", None);
        old.last_seen = Some("2025-01-01T00:00:00Z".into());
        let old = store.create_asset("t", &old).await.unwrap();
        let ecg = store.create_asset("t", &asset("心電計", "192.168.20.5", None)).await.unwrap();

        let seen = ts("2026-11-24T01:00:00Z");
        // 1: the PC by its MAC, now on another address (DHCP moved it).
        let mut a = obs(1);
        a.ip = Some("192.168.1.99".into());
        a.mac = Some("00:1a:2b:3c:4d:5e".into());
        a.hostname = Some("uketsuke-pc".into());
        a.seen_at = Some(seen);
        // 2: the printer by its IP (same segment, seen recently), MAC learned.
        let mut b = obs(2);
        b.ip = Some("192.168.1.50".into());
        b.mac = Some("00:80:92:11:22:33".into());
        b.seen_at = Some(seen);
        // 3: the old terminal's address, but the asset was last seen 2025: not the same device.
        let mut c = obs(3);
        c.ip = Some("192.168.1.60".into());
        c.mac = Some("00:80:92:44:55:66".into());
        c.seen_at = Some(seen);
        // 4: a phone with a randomised MAC: never identity, goes to the queue.
        let mut d = obs(4);
        d.ip = Some("192.168.1.150".into());
        d.mac = Some("da:a1:19:00:00:01".into());
        d.seen_at = Some(seen);
        // 5: the ECG's address in the wrong segment? No: same address in its own segment matches.
        let mut e = obs(5);
        e.ip = Some("192.168.20.5".into());
        e.seen_at = Some(seen);
        let plan = import(&store, SourceKind::Nmap, &[a, b, c, d, e]).await;
        assert_eq!(plan.counts.observations, 5, "{backend}");
        assert_eq!(plan.counts.updated, 3, "{backend}: {plan:?}");
        assert_eq!(plan.counts.created, 0, "{backend}: scans never create ledger entries");
        assert_eq!((plan.counts.flagged, plan.counts.flagged_new), (2, 2), "{backend}: {plan:?}");
        let reason = |id| plan.updated.iter().find(|u| u.asset_id == id).map(|u| u.reason);
        assert_eq!(reason(pc.id), Some(MatchReason::Mac), "{backend}");
        assert_eq!(reason(printer.id), Some(MatchReason::Ip), "{backend}");
        assert_eq!(reason(ecg.id), Some(MatchReason::Ip), "{backend}");
        assert!(plan.flagged.iter().any(|f| f.randomized_mac), "{backend}");

        let pc_after = store.get_asset(pc.id, None).await.unwrap();
        assert_eq!(pc_after.data.primary_ip(), Some("192.168.1.99"), "{backend}: address follows the MAC");
        assert_eq!(pc_after.data.interfaces.len(), 1, "{backend}");
        assert_eq!(pc_after.data.interfaces[0].segment_id, Some(1), "{backend}: segment from the CIDR");
        assert_eq!(pc_after.data.attributes.get("hostname").map(String::as_str), Some("uketsuke-pc"));
        assert_eq!(pc_after.data.last_seen.as_deref(), Some("2026-11-24T01:00:00Z"), "{backend}");
        assert_eq!(pc_after.data.name, "受付PC", "{backend}: a scan never renames");
        let printer_after = store.get_asset(printer.id, None).await.unwrap();
        assert_eq!(printer_after.data.interfaces[0].mac.as_deref(), Some("00:80:92:11:22:33"));
        assert_eq!(store.get_asset(old.id, None).await.unwrap().data.interfaces[0].mac, None, "{backend}");

        // Provenance: which source said what, when, and why it was matched.
        let src = store.asset_sources(pc.id).await.unwrap();
        assert_eq!(src.len(), 1, "{backend}");
        assert_eq!((src[0].kind.as_str(), src[0].match_reason.as_str(), src[0].line), ("nmap", "mac", 1));
        assert!(src[0].changes.get("interfaces").is_some(), "{backend}: {:?}", src[0].changes);
        assert_eq!(src[0].observed_at.as_deref(), Some("2026-11-24T01:00:00Z"));

        // The same scan again: nothing changes, the queue entries are seen again, not duplicated.
        let mut again = Vec::new();
        for (i, (ip, mac)) in [("192.168.1.60", "00:80:92:44:55:66"), ("192.168.1.150", "da:a1:19:00:00:01")].iter().enumerate() {
            let mut o = obs(i as u64 + 1);
            o.ip = Some((*ip).into());
            o.mac = Some((*mac).into());
            o.seen_at = Some(seen + 3600);
            again.push(o);
        }
        let plan = import(&store, SourceKind::Nmap, &again).await;
        assert_eq!((plan.counts.flagged, plan.counts.flagged_new), (2, 0), "{backend}: {plan:?}");
        let queue = store.list_discovered(Some("pending")).await.unwrap();
        assert_eq!(queue.len(), 2, "{backend}");

        // Reject one, adopt the other: the rejected one is ignored from then on.
        let phone = queue.iter().find(|q| q.randomized_mac()).unwrap();
        store.reject_discovered("manager", phone.id, Some("職員の私物スマートフォン")).await.unwrap();
        let other = queue.iter().find(|q| !q.randomized_mac()).unwrap();
        let mut data = other.proposed_asset();
        data.name = "新しい端末".into();
        let adopted = store.adopt_discovered("manager", other.id, &data).await.unwrap();
        assert_eq!(adopted.data.interfaces[0].mac.as_deref(), Some("00:80:92:44:55:66"));
        assert!(matches!(
            store.reject_discovered("manager", other.id, None).await,
            Err(StoreError::Conflict(_))
        ));
        let plan = import(&store, SourceKind::Nmap, &again).await;
        assert_eq!((plan.counts.flagged, plan.counts.ignored, plan.counts.unchanged), (0, 1, 1), "{backend}: {plan:?}");
        assert_eq!(plan.updated.len(), 0, "{backend}: {plan:?}");
        assert!(store.list_discovered(Some("pending")).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn ledgers_are_authoritative_scans_only_fill_gaps() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let mut row = obs(3);
        row.name = Some("電子カルテサーバ".into());
        row.kind = Some(AssetKind::Server);
        row.os = Some("Windows Server 2019".into());
        row.ip = Some("192.168.1.10".into());
        row.mac = Some("00:15:5d:01:02:03".into());
        row.segment = Some("院内LAN".into());
        row.maintainer = Some("〇〇メディカルシステム".into());
        row.attributes.insert("導入日".into(), "2024/4/1".into());
        let plan = import(&store, SourceKind::Csv, std::slice::from_ref(&row)).await;
        assert_eq!(plan.counts.created, 1, "{backend}");
        let id = plan.created[0].asset_id.unwrap();

        // A scan cannot overwrite what the ledger says; it fills what is missing.
        let mut scan = obs(10);
        scan.mac = Some("00:15:5d:01:02:03".into());
        scan.ip = Some("192.168.1.10".into());
        scan.os = Some("Linux 2.6".into());
        scan.vendor = Some("Microsoft".into());
        let plan = import(&store, SourceKind::Nmap, &[scan]).await;
        assert_eq!(plan.counts.updated, 1, "{backend}");
        let a = store.get_asset(id, None).await.unwrap();
        assert_eq!(a.data.os.as_deref(), Some("Windows Server 2019"), "{backend}");
        assert_eq!(a.data.vendor.as_deref(), Some("Microsoft"), "{backend}");

        // The ledger again, with a new location: it wins, matched by MAC.
        row.location = Some("サーバ室".into());
        let plan = import(&store, SourceKind::Csv, &[row.clone()]).await;
        assert_eq!(plan.counts.updated, 1, "{backend}");
        assert_eq!(plan.updated[0].reason, MatchReason::Mac);
        assert_eq!(plan.updated[0].changes.keys().collect::<Vec<_>>(), vec!["location"], "{backend}");
        // And once more: nothing to do.
        let plan = import(&store, SourceKind::Csv, &[row.clone()]).await;
        assert_eq!((plan.counts.unchanged, plan.counts.updated), (1, 0), "{backend}");

        // An unknown segment is reported, the rest applies.
        let mut bad = row.clone();
        bad.segment = Some("存在しない区画".into());
        bad.notes = Some("更新".into());
        let plan = import(&store, SourceKind::Csv, &[bad]).await;
        assert!(plan.conflicts.iter().any(|c| c.code == "unknown_segment"), "{backend}: {plan:?}");
        assert_eq!(plan.counts.updated, 1, "{backend}");

        // Two ledger rows with the same name and nothing else to tell them apart.
        let mut x = obs(1);
        x.name = Some("受付PC".into());
        let mut y = obs(2);
        y.name = Some("受付PC".into());
        import(&store, SourceKind::Csv, &[x.clone()]).await;
        let mut z = obs(3);
        z.name = Some("受付PC".into());
        z.ip = Some("192.168.1.30".into());
        // The second row of the same file matches the asset the first created (by name).
        let plan = import(&store, SourceKind::Csv, &[y, z]).await;
        assert_eq!((plan.counts.created, plan.counts.updated), (0, 1), "{backend}: {plan:?}");
    }
}

#[tokio::test]
async fn dry_run_and_cancel_write_nothing() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let audit_before = store.verify_audit().await.unwrap();
        let rows: Vec<Observation> = (1..=300)
            .map(|i| {
                let mut o = obs(i);
                o.name = Some(format!("端末{i}"));
                o.ip = Some(format!("192.168.1.{}", i % 250 + 1));
                o
            })
            .collect();
        let plan = store
            .import_observations(
                "t",
                source(SourceKind::Csv),
                &rows,
                Vec::new(),
                &ImportOptions { dry_run: true, target_asset: None },
                &Quiet,
            )
            .await
            .unwrap();
        assert_eq!(plan.counts.created, 300, "{backend}");
        assert!(plan.dry_run && plan.import_id.is_none());
        assert_eq!(store.counts(None).await.unwrap().assets, 0, "{backend}: dry run wrote assets");
        assert_eq!(store.verify_audit().await.unwrap(), audit_before, "{backend}");

        let cancel = AtomicBool::new(true);
        let r = store
            .import_observations("t", source(SourceKind::Csv), &rows, Vec::new(), &ImportOptions::default(), &cancel)
            .await;
        assert!(matches!(r, Err(StoreError::Cancelled)), "{backend}: {r:?}");
        assert_eq!(store.counts(None).await.unwrap().assets, 0, "{backend}: cancelled import wrote assets");
        assert!(store.list_imports(10).await.unwrap().is_empty(), "{backend}");

        // Applied: one audit entry for the whole import.
        let plan = import(&store, SourceKind::Csv, &rows).await;
        assert_eq!(store.counts(None).await.unwrap().assets, 300, "{backend}");
        let audit_after = store.verify_audit().await.unwrap();
        assert_eq!(audit_after, audit_before + 1, "{backend}");
        let imports = store.list_imports(10).await.unwrap();
        assert_eq!(imports[0].id, plan.import_id.unwrap());
        assert_eq!(imports[0].summary["created"], 300);
    }
}

#[tokio::test]
async fn sbom_replaces_the_software_of_its_asset() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let mut d = AssetData::new("超音波診断装置", AssetKind::MedicalDevice);
        d.software.push(mamori_model::Software { name: "old".into(), ..Default::default() });
        let a = store.create_asset("t", &d).await.unwrap();
        let mut o = obs(1);
        o.name = Some("Ultrasound Imaging System".into());
        o.software = vec![
            mamori_model::Software { name: "openssl".into(), version: Some("1.1.1k".into()), purl: Some("pkg:generic/openssl@1.1.1k".into()), ..Default::default() },
            mamori_model::Software { name: "log4j".into(), vendor: Some("apache".into()), version: Some("1.2.17".into()), ..Default::default() },
        ];
        let plan = store
            .import_observations(
                "t",
                source(SourceKind::Cyclonedx),
                &[o],
                Vec::new(),
                &ImportOptions { dry_run: false, target_asset: Some(a.id) },
                &Quiet,
            )
            .await
            .unwrap();
        assert_eq!(plan.updated[0].reason, MatchReason::Target, "{backend}");
        let after = store.get_asset(a.id, None).await.unwrap();
        assert_eq!(after.data.software.len(), 2, "{backend}");
        assert_eq!(after.data.software[0].purl.as_deref(), Some("pkg:generic/openssl@1.1.1k"), "{backend}: purl kept");
        assert_eq!(after.data.name, "超音波診断装置", "{backend}: an SBOM does not rename");

        // The stocktake sees software past end of support.
        let report = store.stocktake("2026-11-25", 90).await.unwrap();
        let products: Vec<&str> = report.eos.iter().map(|e| e.product.as_str()).collect();
        assert!(products.contains(&"OpenSSL 1.1.1") && products.contains(&"Apache Log4j 1.x"), "{products:?}");
        assert_eq!(report.never_seen.len(), 1);
        assert_eq!(report.no_owner.len(), 1);
        let id = store.record_stocktake("manager", &report).await.unwrap();
        let history = store.list_stocktakes(5).await.unwrap();
        assert_eq!((history[0].id, history[0].summary.eos), (id, 2), "{backend}");
    }
}

#[tokio::test]
async fn db_copy_carries_the_import_history() {
    let dbs = fresh_databases().await;
    let (_, src_db) = &dbs[0];
    let store = init(&src_db.url).await;
    let mut o = obs(1);
    o.ip = Some("192.168.1.77".into());
    o.mac = Some("00:11:22:33:44:55".into());
    import(&store, SourceKind::Arp, &[o]).await;
    let mut row = obs(1);
    row.name = Some("受付PC".into());
    let plan = import(&store, SourceKind::Csv, &[row]).await;
    let report = store.stocktake("2026-11-25", 90).await.unwrap();
    store.record_stocktake("t", &report).await.unwrap();
    let snap = store.export_snapshot().await.unwrap();
    assert_eq!(snap.history.len(), 4, "{:?}", snap.history.keys().collect::<Vec<_>>());
    for (backend, db) in fresh_databases().await {
        let target = Store::open(&db.url, OpenMode::Create).await.unwrap();
        target.import_snapshot("t", &snap, "db.copy").await.unwrap();
        let asset_id = plan.created[0].asset_id.unwrap();
        assert_eq!(target.asset_sources(asset_id).await.unwrap().len(), 1, "{backend}");
        assert_eq!(target.list_discovered(None).await.unwrap().len(), 1, "{backend}");
        assert_eq!(target.list_stocktakes(5).await.unwrap().len(), 1, "{backend}");
        // New rows after the copy get fresh ids (PostgreSQL identity sequences follow).
        let mut o = obs(1);
        o.ip = Some("192.168.1.78".into());
        o.mac = Some("00:11:22:33:44:56".into());
        import(&target, SourceKind::Arp, &[o]).await;
        assert_eq!(target.list_discovered(None).await.unwrap().len(), 2, "{backend}");
        target.verify_audit().await.unwrap();
    }
}

/// Imports are matched and written a chunk at a time: a device named again in a later chunk of
/// the same file is the same asset (or queue entry), counted once, with both statements in its
/// provenance.
#[tokio::test]
async fn a_device_named_in_two_chunks_of_one_file_is_one_asset() {
    let n = CHUNK_OBSERVATIONS + 500;
    let mac = |i: usize| format!("00:1a:2b:{:02x}:{:02x}:{:02x}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let existing = store.create_asset("t", &asset("既存PC", "192.168.1.5", Some("00:aa:bb:00:00:01"))).await.unwrap();
        let mut rows: Vec<Observation> = (0..n)
            .map(|i| {
                let mut o = obs(i as u64 + 2);
                o.name = Some(format!("端末{i}"));
                o.mac = Some(mac(i));
                o
            })
            .collect();
        // The last row describes the first device again (same MAC), with its location.
        rows[n - 1].name = Some("端末0".into());
        rows[n - 1].mac = Some(mac(0));
        rows[n - 1].location = Some("2階".into());
        // The existing PC is named in the first chunk and again in the second.
        rows[1].asset_id = Some(existing.id);
        rows[1].name = Some("既存PC".into());
        rows[1].mac = None;
        rows[1].owner = Some("医事課".into());
        rows[n - 2].asset_id = Some(existing.id);
        rows[n - 2].name = Some("既存PC".into());
        rows[n - 2].mac = None;
        rows[n - 2].department = Some("医事課".into());
        let plan = import(&store, SourceKind::Csv, &rows).await;
        assert_eq!(plan.counts.created as usize, n - 3, "{backend}: {:?}", plan.counts);
        assert_eq!((plan.counts.updated, plan.counts.unchanged), (1, 0), "{backend}: {:?}", plan.counts);
        let all = store.all_assets().await.unwrap();
        assert_eq!(all.len(), n - 2, "{backend}");
        let first = all.iter().find(|a| a.data.name == "端末0").unwrap();
        assert_eq!(first.data.location.as_deref(), Some("2階"), "{backend}");
        assert_eq!(store.asset_sources(first.id).await.unwrap().len(), 2, "{backend}");
        let pc = store.get_asset(existing.id, None).await.unwrap();
        assert_eq!(
            (pc.data.owner.as_deref(), pc.data.department.as_deref()),
            (Some("医事課"), Some("医事課")),
            "{backend}"
        );

        // A scan: unknown devices queue once each, also across chunks.
        let mut scan: Vec<Observation> = (0..n)
            .map(|i| {
                let mut o = obs(i as u64 + 1);
                o.ip = Some(format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff));
                o.mac = Some(format!("00:cc:00:{:02x}:{:02x}:{:02x}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff));
                o
            })
            .collect();
        let first_mac = scan[0].mac.clone();
        scan[n - 1].mac = first_mac;
        scan[n - 1].hostname = Some("later-name".into());
        let plan = import(&store, SourceKind::Nmap, &scan).await;
        assert_eq!((plan.counts.flagged as usize, plan.counts.flagged_new as usize), (n, n - 1), "{backend}");
        let queue = store.list_discovered(Some("pending")).await.unwrap();
        assert_eq!(queue.len(), n - 1, "{backend}");
        let q0 = queue.iter().find(|q| q.mac == scan[0].mac).unwrap();
        assert_eq!(q0.hostname.as_deref(), Some("later-name"), "{backend}");
        // Seen again in a later file: found by its host name, not queued twice.
        let mut again = obs(1);
        again.hostname = Some("LATER-NAME.example.local".into());
        let plan = import(&store, SourceKind::Nmap, &[again]).await;
        assert_eq!((plan.counts.flagged, plan.counts.flagged_new), (1, 0), "{backend}");
    }
}
