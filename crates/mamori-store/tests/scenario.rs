//! The storage story, run against every backend the environment offers (SQLite always,
//! PostgreSQL when `MAMORI_TEST_PG_URL` is set — always in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use mamori_model::{AssetData, AssetKind, Facility, FacilityKind, Interface, Role, Segment, SegmentPurpose};
use mamori_store::testing::fresh_databases;
use mamori_store::{AssetQuery, AssetSort, AuditFilter, OpenMode, Snapshot, Store, StoreError};

fn demo() -> Snapshot {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/demo/minato-clinic.json");
    let bytes = std::fs::read(path).expect("demo file");
    Snapshot::parse_bytes(path, &bytes).expect("demo parses")
}

async fn init(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.expect("open");
    store
        .set_facility(
            "test",
            &Facility {
                name: "テスト診療所".into(),
                kind: FacilityKind::Clinic,
                beds: 0,
                prefecture: Some("大阪府".into()),
                address: None,
                security_manager: None,
                phone: None,
            },
        )
        .await
        .expect("facility");
    store
}

#[tokio::test]
async fn asset_lifecycle_is_audited_on_every_backend() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        let seg = store
            .create_segment(
                "admin",
                &Segment {
                    id: 0,
                    name: "院内LAN".into(),
                    purpose: SegmentPurpose::ClinicalLan,
                    cidr: Some("192.168.10.0/24".into()),
                    vlan: None,
                    description: None,
                },
            )
            .await
            .expect("segment");
        let mut data = AssetData::new("受付PC-1", AssetKind::Pc);
        data.os = Some("Windows 10".into());
        data.interfaces.push(Interface {
            name: Some("LAN".into()),
            ip: Some("192.168.10.21".into()),
            mac: Some("00-1A-2B-3C-4D-5E".into()),
            segment_id: Some(seg.id),
        });
        let a = store.create_asset("admin", &data).await.expect("create");
        assert_eq!(a.data.interfaces[0].mac.as_deref(), Some("00:1a:2b:3c:4d:5e"), "{backend}");

        let mut changed = a.data.clone();
        changed.os = Some("Windows 11".into());
        changed.location = Some("受付".into());
        let b = store.update_asset("manager1", a.id, &changed).await.expect("update");
        assert_eq!(b.data.os.as_deref(), Some("Windows 11"));
        assert_eq!(b.created_at, a.created_at);

        // Search finds it by IP fragment, by MAC, case-insensitively by name; filter by segment.
        for q in ["192.168.10.2", "00:1a:2b", "受付", "windows 11"] {
            let page = store
                .list_assets(&AssetQuery { q: Some(q.into()), ..Default::default() })
                .await
                .expect("list");
            assert_eq!(page.total, 1, "{backend}: search {q}");
        }
        let page = store
            .list_assets(&AssetQuery { q: Some("%".into()), ..Default::default() })
            .await
            .expect("list");
        assert_eq!(page.total, 0, "{backend}: % is literal");
        let page = store
            .list_assets(&AssetQuery { segment_id: Some(seg.id), ..Default::default() })
            .await
            .expect("list");
        assert_eq!(page.total, 1);

        let audit = store.list_audit(&AuditFilter::default()).await.expect("audit");
        let update = audit.iter().find(|e| e.action == "asset.update").expect("update entry");
        assert_eq!(update.actor, "manager1");
        assert!(update.detail.contains("Windows 10") && update.detail.contains("Windows 11"), "{}", update.detail);

        store.delete_asset("admin", a.id).await.expect("delete");
        assert!(matches!(store.get_asset(a.id, None).await, Err(StoreError::Missing { .. })));
        assert!(matches!(store.delete_asset("admin", a.id).await, Err(StoreError::Missing { .. })));
        let n = store.verify_audit().await.expect("chain intact");
        assert_eq!(n, 5, "{backend}: facility, segment, create, update, delete");
        store.close().await;
    }
}

#[tokio::test]
async fn audit_log_refuses_update_and_delete() {
    for (backend, db) in fresh_databases().await {
        let store = init(&db.url).await;
        store.create_asset("admin", &AssetData::new("NAS", AssetKind::Nas)).await.expect("create");
        let pool_url = db.url.clone();
        store.close().await;
        // Go around mamori: a raw connection trying to rewrite history must be refused.
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&if backend == "sqlite" {
            format!("sqlite://{pool_url}")
        } else {
            pool_url.clone()
        })
        .await
        .expect("raw connect");
        for sql in ["UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"] {
            let r = sqlx::query(sql).execute(&mut conn).await;
            assert!(r.is_err(), "{backend}: {sql} must fail");
        }
    }
}

#[tokio::test]
async fn demo_facility_round_trips_through_export_and_import() {
    let snap = demo();
    assert!(snap.assets.len() >= 30, "demo has {} assets", snap.assets.len());
    for (backend, db) in fresh_databases().await {
        let store = Store::open(&db.url, OpenMode::Create).await.expect("open");
        store.import_snapshot("mamori demo", &snap, "demo.load").await.expect("load demo");
        store
            .create_user("admin", "kanri", Some("管理者"), Role::Admin, None, "correct horse battery")
            .await
            .expect("user");
        let exported = store.export_snapshot().await.expect("export");
        assert_eq!(exported.assets.len(), snap.assets.len());
        assert_eq!(exported.facility, snap.facility);
        for (a, b) in exported.assets.iter().zip(&snap.assets) {
            assert_eq!(a.id, b.id);
            assert_eq!(a.data, b.data, "{backend}: asset {}", a.id);
        }
        assert_eq!(exported.contracts, snap.contracts);
        assert_eq!(exported.accounts, snap.accounts);
        assert_eq!(exported.external_connections, snap.external_connections);

        // Into every backend, and back: nothing lost.
        for (target_backend, target) in fresh_databases().await {
            let t = Store::open(&target.url, OpenMode::Create).await.expect("open target");
            t.import_snapshot("copy", &exported, "db.import").await.expect("import");
            let again = t.export_snapshot().await.expect("re-export");
            let mut a = exported.clone();
            let mut b = again.clone();
            a.exported_at = None;
            b.exported_at = None;
            assert_eq!(b.audit_log.len(), a.audit_log.len() + 1);
            assert_eq!(&b.audit_log[..a.audit_log.len()], &a.audit_log[..], "{backend}->{target_backend}");
            b.audit_log.pop();
            assert_eq!(a, b, "{backend} -> {target_backend}");
            // The login survives the copy, and new rows get fresh ids after the copied ones.
            assert!(t.authenticate("kanri", "correct horse battery").await.expect("auth").is_some());
            let n = t.create_asset("x", &AssetData::new("新規", AssetKind::Pc)).await.expect("create");
            assert!(n.id > snap.assets.iter().map(|a| a.id).max().unwrap_or(0));
            t.verify_audit().await.expect("chain");
            t.close().await;
        }
        store.close().await;
    }
}

#[tokio::test]
async fn import_is_all_or_nothing() {
    for (backend, db) in fresh_databases().await {
        let store = Store::open(&db.url, OpenMode::Create).await.expect("open");
        let mut snap = demo();
        // Two users with the same name: the second insert fails late in the transaction.
        let hash = mamori_store::hash_password("another password 1").expect("hash");
        for id in [1, 2] {
            snap.users.push(mamori_store::SnapshotUser {
                user: mamori_model::User {
                    id,
                    username: "same".into(),
                    display_name: None,
                    role: Role::Viewer,
                    vendor_id: None,
                    disabled: false,
                    created_at: "2026-01-01T00:00:00Z".into(),
                },
                password_hash: hash.clone(),
            });
        }
        let r = store.import_snapshot("x", &snap, "db.import").await;
        assert!(matches!(r, Err(StoreError::Conflict(_))), "{backend}: {r:?}");
        let page = store.list_assets(&AssetQuery::default()).await.expect("list");
        assert_eq!(page.total, 0, "{backend}: nothing half-written");
        assert!(store.facility().await.expect("facility").is_none());
        assert_eq!(store.verify_audit().await.expect("chain"), 0);
        // A second import into a non-empty database is refused, naming what is in the way.
        snap.users.clear();
        store.import_snapshot("x", &snap, "db.import").await.expect("import");
        let r = store.import_snapshot("x", &snap, "db.import").await;
        assert!(matches!(&r, Err(StoreError::NotEmpty(t)) if t.contains("assets")), "{r:?}");
    }
}

#[tokio::test]
async fn users_sessions_tokens_and_vendor_scope() {
    for (backend, db) in fresh_databases().await {
        let store = Store::open(&db.url, OpenMode::Create).await.expect("open");
        let snap = demo();
        store.import_snapshot("demo", &snap, "demo.load").await.expect("demo");
        let vendor = snap.vendors.first().expect("a vendor").clone();
        assert!(store.create_user("a", "v", None, Role::Vendor, None, "long enough pw").await.is_err());
        assert!(store.create_user("a", "short", None, Role::Viewer, None, "short").await.is_err());
        let v = store
            .create_user("admin", "vendor1", None, Role::Vendor, Some(vendor.id), "vendor password 1")
            .await
            .expect("vendor user");
        assert!(matches!(
            store.create_user("admin", "vendor1", None, Role::Viewer, None, "vendor password 1").await,
            Err(StoreError::Conflict(_))
        ));
        assert!(store.authenticate("vendor1", "wrong password").await.expect("auth").is_none());
        assert!(store.authenticate("nobody", "vendor password 1").await.expect("auth").is_none());
        assert!(store.authenticate("vendor1", "vendor password 1").await.expect("auth").is_some());

        let s = store.create_session(v.id, std::time::Duration::from_secs(3600)).await.expect("session");
        let info = store.session(&s.token).await.expect("lookup").expect("live");
        assert_eq!(info.user.username, "vendor1");
        assert_eq!(info.csrf_token, s.csrf_token);
        assert!(store.session("not-a-token").await.expect("lookup").is_none());

        let (tok, secret) = store.create_api_token("admin", v.id, "script").await.expect("token");
        assert!(store.api_token_user(&secret).await.expect("lookup").is_some());
        store.revoke_api_token("admin", tok.id).await.expect("revoke");
        assert!(store.api_token_user(&secret).await.expect("lookup").is_none());

        // The vendor sees exactly the assets its contracts cover.
        let covered: std::collections::BTreeSet<_> = snap
            .contracts
            .iter()
            .filter(|c| c.vendor_id == vendor.id)
            .flat_map(|c| c.asset_ids.iter().copied())
            .collect();
        let page = store
            .list_assets(&AssetQuery { vendor_scope: Some(vendor.id), sort: AssetSort::Ip, ..Default::default() })
            .await
            .expect("list");
        let seen: std::collections::BTreeSet<_> = page.items.iter().map(|a| a.id).collect();
        assert_eq!(seen, covered, "{backend}");
        let outside = snap.assets.iter().find(|a| !covered.contains(&a.id)).expect("an uncovered asset");
        assert!(store.get_asset(outside.id, Some(vendor.id)).await.is_err());

        store.set_user_disabled("admin", v.id, true).await.expect("disable");
        assert!(store.session(&s.token).await.expect("lookup").is_none(), "disabling ends sessions");
        assert!(store.authenticate("vendor1", "vendor password 1").await.expect("auth").is_none());
        store.verify_audit().await.expect("chain");
    }
}

#[tokio::test]
async fn foreign_and_damaged_files_get_clear_errors() {
    let dir = mamori_store::testing::TempDir::new().expect("tmp");
    let text = dir.0.join("notes.txt");
    std::fs::write(&text, "これはデータベースではありません").expect("write");
    let e = Store::open(&text.display().to_string(), OpenMode::Existing).await.unwrap_err();
    assert!(matches!(e, StoreError::NotSqlite { .. }), "{e}");

    let missing = dir.0.join("missing.db");
    let e = Store::open(&missing.display().to_string(), OpenMode::Existing).await.unwrap_err();
    assert!(matches!(e, StoreError::NotFound { .. }), "{e}");

    // Another program's SQLite database.
    let other = dir.0.join("other.db");
    {
        sqlx::any::install_default_drivers();
        let mut c = <sqlx::AnyConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}?mode=rwc",
            other.display()
        ))
        .await
        .expect("create");
        sqlx::query("CREATE TABLE patients (id INTEGER)").execute(&mut c).await.expect("ddl");
    }
    let e = Store::open(&other.display().to_string(), OpenMode::Create).await.unwrap_err();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");

    // A mamori database whose pages were overwritten.
    let good = dir.0.join("good.db");
    let url = good.display().to_string();
    let s = Store::open(&url, OpenMode::Create).await.expect("create");
    for i in 0..200 {
        s.create_asset("t", &AssetData::new(format!("PC-{i:03}"), AssetKind::Pc)).await.expect("asset");
    }
    s.close().await;
    let mut bytes = std::fs::read(&good).expect("read");
    let len = bytes.len();
    for b in bytes.iter_mut().skip(4096 * 2).take(len.saturating_sub(4096 * 3)) {
        *b = 0x5a;
    }
    std::fs::write(&good, &bytes).expect("write");
    let _ = std::fs::remove_file(dir.0.join("good.db-wal"));
    let r = match Store::open(&url, OpenMode::Existing).await {
        Ok(s) => s.integrity_check().await.map(|_| ()),
        Err(e) => Err(e),
    };
    let e = r.expect_err("damage must be detected");
    let msg = e.to_string();
    assert!(msg.contains("damaged") || msg.contains("not a SQLite") || msg.contains("database"), "{msg}");
}
