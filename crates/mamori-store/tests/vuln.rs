//! Vulnerability intelligence on every backend: the real NVD records and the KEV catalog
//! against the demo facility, upserts by lastModified, rejected records, vendor statements,
//! status changes with history and VEX export, and a failed file that leaves nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use mamori_store::feedsource::FeedInput;
use mamori_store::findings::{FindingFilter, FindingStatus};
use mamori_store::testing::fresh_databases;
use mamori_store::vuln::FeedKind;
use mamori_store::{OpenMode, Snapshot, Store};
use mamori_vuln::matcher::Confidence;

const DEMO: &str = include_str!("../../../content/demo/minato-clinic.json");
const TODAY: &str = "2026-11-25";

fn shared() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for up in [here.join("../../../shared/data"), here.join("../../shared/data")] {
        if up.exists() {
            return up;
        }
    }
    panic!("shared/data not found beside the repository")
}

async fn demo(url: &str) -> Store {
    let store = Store::open(url, OpenMode::Create).await.unwrap();
    let snap = Snapshot::parse_bytes("demo.json", DEMO.as_bytes()).unwrap();
    store.import_snapshot("test", &snap, "demo.load").await.unwrap();
    store
}

async fn import(store: &Store, path: PathBuf) -> mamori_store::vuln::FeedImportCounts {
    store.import_feed_input("test", FeedInput::File(path)).await.unwrap()
}

async fn import_nvd(store: &Store) {
    for entry in std::fs::read_dir(shared().join("nvd")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().contains("awaiting") {
            import(store, p).await;
        }
    }
}

fn page(records: &[&str], total: usize) -> Vec<u8> {
    let vulns: Vec<String> = records.iter().map(|r| format!("{{\"cve\":{r}}}")).collect();
    format!(
        "{{\"resultsPerPage\":{},\"startIndex\":0,\"totalResults\":{total},\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"timestamp\":\"2026-11-25T00:00:00.000\",\"vulnerabilities\":[{}]}}",
        records.len(),
        vulns.join(",")
    )
    .into_bytes()
}

#[tokio::test]
async fn the_demo_fortigate_is_exploited_and_top_priority() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        import_nvd(&store).await;
        let kev = import(&store, shared().join("kev/known_exploited_vulnerabilities.json")).await;
        assert_eq!(kev.records, 1404, "{backend}");
        store.suggest_cpes("test").await.unwrap();
        let m = store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert!(m.matched >= 2, "{backend}: {m:?}");
        let list = store.list_findings(&FindingFilter::default()).await.unwrap();
        let top = &list[0];
        assert!(top.asset_name.contains("FortiGate"), "{backend}: {top:?}");
        assert_eq!(top.priority.band, 1, "{backend}");
        assert!(top.kev.as_ref().is_some_and(|k| k.ransomware), "{backend}");
        let forti: Vec<&str> = list.iter().filter(|f| f.asset_id == top.asset_id).map(|f| f.vuln_id.as_str()).collect();
        assert!(forti.contains(&"CVE-2024-21762") && forti.contains(&"CVE-2023-27997"), "{backend}: {forti:?}");
        assert!(!forti.contains(&"CVE-2022-40684"), "{backend}: FortiOS 7.2.4 is outside CVE-2022-40684's ranges");
        assert_eq!(top.confidence, Confidence::VersionRange, "{backend}");
        assert!(top.hit.range.starts_with(">= 7.2.0, <"), "{backend}: the range that matched is recorded: {:?}", top.hit);
        // The KEV due date is kept as CISA gave it; mamori's own deadline is 7 days from today.
        assert_eq!(top.due_date.as_deref(), Some("2026-12-02"), "{backend}");
        assert_eq!(top.responsible.party, "vendor", "{backend}: the network vendor's contract covers the FortiGate");
        // The formula is there to show.
        assert!(top.priority.terms.iter().any(|t| t.code == "kev") && top.priority.terms.iter().any(|t| t.code == "internet"), "{backend}");
        // Only what applies: nothing from Log4Shell, Citrix, Pulse, PAN-OS on the demo.
        for f in &list {
            assert!(!["CVE-2021-44228", "CVE-2019-19781", "CVE-2019-11510", "CVE-2024-3400"].contains(&f.vuln_id.as_str()), "{backend}: {f:?}");
        }

        // Importing the same files again changes nothing.
        let again = store.import_feed_input("test", FeedInput::File(shared().join("nvd/CVE-2024-21762.json"))).await.unwrap();
        assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, 1), "{backend}");
        let m2 = store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!((m2.new, m2.gone), (0, 0), "{backend}");

        let status = store.feed_status(TODAY).await.unwrap();
        let nvd = status.iter().find(|s| s.kind == FeedKind::Nvd).unwrap();
        assert!(nvd.records >= 12 && !nvd.stale, "{backend}: {nvd:?}");
        let kev = status.iter().find(|s| s.kind == FeedKind::Kev).unwrap();
        assert_eq!(kev.feed_date.as_deref(), Some("2025.08.25"), "{backend}");
        assert_eq!(kev.last_sha256.as_ref().map(String::len), Some(64), "{backend}");
        assert!(status.iter().find(|s| s.kind == FeedKind::Epss).unwrap().stale, "{backend}: never imported is stale");
    }
}

/// What matching found, as a user reads it: asset, CVE, confidence and the explanation.
async fn findings(store: &Store) -> Vec<(String, String, Confidence, String)> {
    let mut out: Vec<_> = store
        .list_findings(&FindingFilter::default())
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.asset_name, f.vuln_id, f.confidence, serde_json::to_string(&f.hit).unwrap()))
        .collect();
    out.sort();
    out
}

/// Marks every product's aggregated index entries stale (after rows were edited directly).
const STALE: &str = "INSERT INTO vuln_product_dirty (vendor, product) SELECT DISTINCT vendor, product FROM vuln_cve_products WHERE true ON CONFLICT (vendor, product) DO NOTHING";

#[tokio::test]
async fn the_matching_index_the_trees_and_the_upgrade_backfill_agree() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        import_nvd(&store).await;
        store.suggest_cpes("test").await.unwrap();
        // CVEs that two products of the inventory name (FortiOS and FortiProxy) are matched
        // jointly; one asset names both.
        let software = "INSERT INTO software (asset_id, pos, name, vendor, version, cpe) VALUES \
             ((SELECT MIN(id) FROM assets), 900, 'FortiProxy', 'Fortinet', '7.2.0', 'cpe:2.3:a:fortinet:fortiproxy:7.2.0:*:*:*:*:*:*:*'), \
             ((SELECT MAX(id) FROM assets), 900, 'FortiProxy', 'Fortinet', '7.0.5', 'cpe:2.3:a:fortinet:fortiproxy:7.0.5:*:*:*:*:*:*:*'), \
             ((SELECT MAX(id) FROM assets), 901, 'FortiOS', 'Fortinet', '7.0.3', 'cpe:2.3:o:fortinet:fortios:7.0.3:*:*:*:*:*:*:*')";
        mamori_store::testing::execute(&store, software).await.unwrap();
        let from_index = store.match_vulnerabilities_with("test", TODAY, 7, true).await.unwrap();
        assert!(from_index.matched >= 2, "{backend}: {from_index:?}");
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        let expected = findings(&store).await;
        assert!(expected.iter().any(|f| f.1 == "CVE-2024-21762"), "{backend}: {expected:?}");
        // Each asset once per CVE, the asset naming both products included.
        let both: Vec<_> = expected.iter().filter(|f| f.1 == "CVE-2022-40684").map(|f| f.0.clone()).collect();
        let distinct: BTreeSet<_> = both.iter().collect();
        assert!(both.len() >= 2 && distinct.len() == both.len(), "{backend}: {both:?}");

        // Rows written before the index existed (NULL) and damaged entries: the CVEs are
        // matched on their trees, with the same result.
        mamori_store::testing::execute(&store, "UPDATE vuln_cve_products SET criteria = NULL WHERE cve_id < 'CVE-2023'").await.unwrap();
        mamori_store::testing::execute(&store, "UPDATE vuln_cve_products SET criteria = '9\u{1f}x' WHERE cve_id >= 'CVE-2023'").await.unwrap();
        // Written behind the importer's back: the products' aggregates are marked stale by hand.
        mamori_store::testing::execute(&store, STALE).await.unwrap();
        mamori_store::testing::execute(&store, "DELETE FROM vuln_findings").await.unwrap();
        let from_trees = store.match_vulnerabilities_with("test", TODAY, 7, true).await.unwrap();
        // The aggregates now carry those rows ('!' for no entry): matching read them.
        let unindexed = "SELECT COUNT(*) FROM vuln_product_entries WHERE entries LIKE '%!%'";
        assert!(mamori_store::testing::scalar(&store, unindexed).await.unwrap() > 0, "{backend}");
        assert_eq!((from_trees.matched, from_trees.candidates), (from_index.matched, from_index.candidates), "{backend}");
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!(findings(&store).await, expected, "{backend}");

        // A database of schema v6 gets its index written when it is opened by this version.
        mamori_store::testing::execute(&store, "ALTER TABLE vuln_cve_products DROP COLUMN criteria; DELETE FROM mamori_migrations WHERE version = 7; DROP TABLE vuln_product_entries; DROP TABLE vuln_product_dirty; DELETE FROM mamori_migrations WHERE version = 9")
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&db.url, OpenMode::Existing).await.unwrap();
        mamori_store::testing::execute(&store, "DELETE FROM vuln_findings").await.unwrap();
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!(findings(&store).await, expected, "{backend}");
        let stats = store.match_vulnerabilities_with("test", TODAY, 7, true).await.unwrap();
        assert_eq!(stats.matched, from_index.matched, "{backend}");

        // A database of schema v7 left AND configurations to their trees ('!'): v8 indexes them.
        let tree = "SELECT COUNT(*) FROM vuln_cve_products WHERE criteria = '!'";
        let left: i64 = mamori_store::testing::scalar(&store, tree).await.unwrap();
        mamori_store::testing::execute(&store, "UPDATE vuln_cve_products SET criteria = '!' WHERE cve_id = 'CVE-2022-40684' OR cve_id LIKE 'CVE-2023-%'")
            .await
            .unwrap();
        mamori_store::testing::execute(&store, "DELETE FROM mamori_migrations WHERE version = 8; DROP TABLE vuln_product_entries; DROP TABLE vuln_product_dirty; DELETE FROM mamori_migrations WHERE version = 9")
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&db.url, OpenMode::Existing).await.unwrap();
        assert_eq!(mamori_store::testing::scalar(&store, tree).await.unwrap(), left, "{backend}");
        // The Zyxel firmware-on-hardware CVE is matched from the index, platform node included.
        let zyxel = "SELECT COUNT(*) FROM vuln_cve_products WHERE cve_id = 'CVE-2023-28771' AND criteria LIKE '%cpe:2.3:h:zyxel:atp100:%'";
        assert!(mamori_store::testing::scalar(&store, zyxel).await.unwrap() > 0, "{backend}");
        mamori_store::testing::execute(&store, "DELETE FROM vuln_findings").await.unwrap();
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!(findings(&store).await, expected, "{backend}");
    }
}

#[tokio::test]
async fn newer_records_replace_older_and_rejected_records_leave() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let orig = std::fs::read_to_string(shared().join("nvd/CVE-2024-21762.json")).unwrap();
        store.import_feed_input("test", FeedInput::Bytes { name: "p1.json".into(), data: page(&[&orig], 1) }).await.unwrap();
        // A first load marks every product's aggregate stale at once, not product by product.
        let all_stale = "SELECT COUNT(*) FROM mamori_meta WHERE key = 'product_entries_stale'";
        assert_eq!(mamori_store::testing::scalar(&store, all_stale).await.unwrap(), 1, "{backend}");
        assert_eq!(mamori_store::testing::scalar(&store, "SELECT COUNT(*) FROM vuln_product_dirty").await.unwrap(), 0, "{backend}");
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!(mamori_store::testing::scalar(&store, all_stale).await.unwrap(), 0, "{backend}");
        assert!(store.list_findings(&FindingFilter::default()).await.unwrap().iter().any(|f| f.vuln_id == "CVE-2024-21762"), "{backend}");

        // A newer copy whose ranges no longer cover 7.2.4 (say NVD corrected them): the finding
        // goes; an older copy imported afterwards does not bring it back.
        let newer = orig.replace("2025-10-24T12:54:44.420", "2026-11-24T00:00:00.000").replace("\"7.2.7\"", "\"7.2.3\"");
        let dirty = "SELECT COUNT(*) FROM vuln_product_dirty";
        assert_eq!(mamori_store::testing::scalar(&store, dirty).await.unwrap(), 0, "{backend}: matching rebuilt the aggregates");
        let c = store.import_feed_input("test", FeedInput::Bytes { name: "mod.json".into(), data: page(&[&newer], 1) }).await.unwrap();
        assert_eq!(c.updated, 1, "{backend}");
        // The import marks the CVE's products; matching rebuilds their aggregates first.
        assert!(mamori_store::testing::scalar(&store, dirty).await.unwrap() > 0, "{backend}");
        let m = store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert_eq!(m.gone, 1, "{backend}: {m:?}");
        assert_eq!(mamori_store::testing::scalar(&store, dirty).await.unwrap(), 0, "{backend}");
        let c = store.import_feed_input("test", FeedInput::Bytes { name: "old.json".into(), data: page(&[&orig], 1) }).await.unwrap();
        assert_eq!((c.updated, c.unchanged), (0, 1), "{backend}");
        let all = store.list_findings(&FindingFilter { all: true, ..FindingFilter::default() }).await.unwrap();
        let f = all.iter().find(|f| f.vuln_id == "CVE-2024-21762").unwrap();
        assert!(f.gone_at.is_some(), "{backend}");
        assert!(store.list_findings(&FindingFilter::default()).await.unwrap().iter().all(|f| f.vuln_id != "CVE-2024-21762"), "{backend}");

        // NVD rejects the CVE: it leaves the corpus.
        let rejected = newer.replace("2026-11-24T00:00:00.000", "2026-11-25T00:00:00.000").replace("\"vulnStatus\": \"Analyzed\"", "\"vulnStatus\": \"Rejected\"");
        assert!(rejected.contains("Rejected"));
        let c = store.import_feed_input("test", FeedInput::Bytes { name: "rej.json".into(), data: page(&[&rejected], 1) }).await.unwrap();
        assert_eq!(c.removed, 1, "{backend}: {c:?}");
        assert!(store.vuln_detail("CVE-2024-21762").await.unwrap().description.is_none(), "{backend}");
        // Its products' aggregates lose it: no candidate pair names it any more.
        store.refresh_product_entries().await.unwrap();
        let left = "SELECT COUNT(*) FROM vuln_product_entries WHERE entries LIKE '%CVE-2024-21762%'";
        assert_eq!(mamori_store::testing::scalar(&store, left).await.unwrap(), 0, "{backend}");
    }
}

#[tokio::test]
async fn a_broken_file_leaves_nothing_and_names_the_line() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        let a = std::fs::read_to_string(shared().join("nvd/CVE-2024-21762.json")).unwrap();
        let b = std::fs::read_to_string(shared().join("nvd/CVE-2023-27997.json")).unwrap();
        let mut data = page(&[&a, &b], 2);
        data.truncate(data.len() - 200);
        let e = store.import_feed_input("test", FeedInput::Bytes { name: "broken.json".into(), data }).await.unwrap_err().to_string();
        assert!(e.contains("broken.json") && e.contains("line"), "{backend}: {e}");
        let status = store.feed_status(TODAY).await.unwrap();
        let nvd = status.iter().find(|s| s.kind == FeedKind::Nvd).unwrap();
        assert_eq!((nvd.records, nvd.imported_files), (0, 0), "{backend}: nothing of the file is kept");
    }
}

#[tokio::test]
async fn status_history_vendor_statements_and_vex() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        import_nvd(&store).await;
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        let list = store.list_findings(&FindingFilter::default()).await.unwrap();
        let f = list.iter().find(|f| f.vuln_id == "CVE-2023-27997").unwrap().clone();

        // Risk acceptance needs a reason; false positive a justification or a reason.
        assert!(store.set_finding_status("m", f.asset_id, &f.vuln_id, FindingStatus::Accepted, None, None).await.is_err(), "{backend}");
        assert!(store.set_finding_status("m", f.asset_id, &f.vuln_id, FindingStatus::FalsePositive, Some("because"), None).await.is_err(), "{backend}");
        store.set_finding_status("m", f.asset_id, &f.vuln_id, FindingStatus::InProgress, None, Some("保守事業者に更新を依頼")).await.unwrap();
        store
            .set_finding_status("m", f.asset_id, &f.vuln_id, FindingStatus::FalsePositive, Some("protected_at_perimeter"), Some("SSL-VPN は無効化済み"))
            .await
            .unwrap();
        let h = store.finding_history(f.asset_id, &f.vuln_id).await.unwrap();
        assert_eq!(h.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(), ["in_progress", "false_positive"], "{backend}");
        // Settled findings leave the default list, stay in the full one, and keep their status
        // when matching runs again.
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        assert!(store.list_findings(&FindingFilter::default()).await.unwrap().iter().all(|x| x.vuln_id != f.vuln_id), "{backend}");
        let all = store.list_findings(&FindingFilter { all: true, ..FindingFilter::default() }).await.unwrap();
        assert_eq!(all.iter().find(|x| x.vuln_id == f.vuln_id).unwrap().status, FindingStatus::FalsePositive, "{backend}");

        // The VEX export reads back with the justification.
        let vex = store.vex_export("m").await.unwrap();
        let text = serde_json::to_vec(&vex).unwrap();
        let doc = mamori_vuln::vex::read_cyclonedx_vex("export.json", text.as_slice()).unwrap();
        let s = doc.statements.iter().find(|s| s.id == "CVE-2023-27997").unwrap();
        assert_eq!(s.state, Some(mamori_vuln::vex::VexState::NotAffected), "{backend}");
        assert_eq!(s.justification.as_deref(), Some("protected_at_perimeter"), "{backend}");
        assert!(doc.statements.iter().any(|s| s.id == "CVE-2024-21762" && s.state == Some(mamori_vuln::vex::VexState::InTriage)), "{backend}");

        // A vendor advisory saying 7.2.4 is fixed (e.g. a backported build) clears the finding.
        let csaf = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mamori-vuln/tests/fixtures/csaf/fortinet-style-cve-2024-21762.json")).unwrap();
        let csaf_doc = mamori_vuln::csaf::read_csaf("f.json", csaf.as_bytes()).unwrap();
        let vd = mamori_store::feedsource::csaf_statements(&csaf_doc);
        assert!(vd.statements.iter().any(|s| s.status == "affected" && s.vendor.as_deref() == Some("fortinet")), "{backend}: {vd:?}");
        store.import_feed_input("test", FeedInput::Bytes { name: "f.json".into(), data: csaf.into_bytes() }).await.unwrap();
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        let forti = store.list_findings(&FindingFilter::default()).await.unwrap();
        let hit = forti.iter().find(|x| x.vuln_id == "CVE-2024-21762").unwrap();
        assert!(hit.source.starts_with("csaf:"), "{backend}: the vendor's advisory decides: {hit:?}");
    }
}

#[tokio::test]
async fn decisions_survive_a_database_copy() {
    for (backend, db) in fresh_databases().await {
        let store = demo(&db.url).await;
        import_nvd(&store).await;
        store.suggest_cpes("test").await.unwrap();
        store.set_asset_cpe("m", 2, "cpe:2.3:h:yamaha:rtx1210:-:*:*:*:*:*:*:*", "confirmed").await.unwrap();
        store.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        let f = store.list_findings(&FindingFilter::default()).await.unwrap().into_iter().find(|f| f.vuln_id == "CVE-2023-27997").unwrap();
        store.set_finding_status("m", f.asset_id, &f.vuln_id, FindingStatus::Accepted, None, Some("更新は 12 月の定期保守で実施（院長承認）")).await.unwrap();
        let snap = store.export_snapshot().await.unwrap();
        let bytes = serde_json::to_vec(&snap).unwrap();

        // A new database from the export: the corpus is public data and comes from the feeds
        // again; the facility's decisions come from the export.
        let target = mamori_store::testing::fresh_sqlite().unwrap();
        let copy = Store::open(&target.url, OpenMode::Create).await.unwrap();
        copy.import_snapshot("test", &Snapshot::parse_bytes("copy.json", &bytes).unwrap(), "db.import").await.unwrap();
        import_nvd(&copy).await;
        copy.match_vulnerabilities("test", TODAY, 7).await.unwrap();
        let all = copy.list_findings(&FindingFilter { all: true, ..FindingFilter::default() }).await.unwrap();
        let g = all.iter().find(|g| g.vuln_id == "CVE-2023-27997").unwrap();
        assert_eq!(g.status, FindingStatus::Accepted, "{backend}");
        assert_eq!(g.reason.as_deref(), Some("更新は 12 月の定期保守で実施（院長承認）"), "{backend}");
        assert_eq!(copy.finding_history(g.asset_id, &g.vuln_id).await.unwrap().len(), 1, "{backend}");
        let cpes = copy.list_asset_cpes(Some(2)).await.unwrap();
        assert!(cpes.iter().any(|c| c.cpe.starts_with("cpe:2.3:h:yamaha:rtx1210") && c.state == "confirmed"), "{backend}");
    }
}
