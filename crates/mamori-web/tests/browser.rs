//! The web UI in real headless Chromium (through ChromeDriver), on every backend: log in, see the
//! dashboard, search assets, edit one, find the change in the audit log, a forged CSRF token is
//! refused, a viewer cannot edit, the language switch works. Screenshots of every page land in
//! `target/screenshots/` for a person to look at.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, start};
use fantoccini::{Client, ClientBuilder, Locator};
use mamori_store::testing::{TempDir, fresh_databases};
use mamori_web::Config;

struct Driver {
    child: Child,
    port: u16,
    _profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find(var: &str, default: &str) -> Option<String> {
    let path = std::env::var(var).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned());
    std::path::Path::new(&path).exists().then_some(path)
}

/// Starts ChromeDriver, or returns `None` (refused under `CI=true`) when Chromium is not installed.
async fn driver() -> Option<(Driver, Client)> {
    let (Some(chromedriver), Some(chromium)) = (
        find("MAMORI_TEST_CHROMEDRIVER", "/usr/bin/chromedriver"),
        find("MAMORI_TEST_CHROMIUM", "/usr/bin/chromium"),
    ) else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but chromium/chromedriver are not installed (scripts/test installs them)");
        }
        eprintln!("chromium or chromedriver missing: skipping browser tests");
        return None;
    };
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let profile = TempDir::new().unwrap();
    let driver = Driver { child, port, _profile: profile };
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", driver._profile.0.display()),
            ]
        }
    });
    let caps = match caps {
        serde_json::Value::Object(m) => m,
        _ => unreachable!(),
    };
    for _ in 0..100 {
        let mut b = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        b.capabilities(caps.clone());
        match b.connect(&format!("http://127.0.0.1:{}", driver.port)).await {
            Ok(c) => return Some((driver, c)),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not start");
}

fn shots_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    std::fs::write(shots_dir().join(format!("{name}.png")), png).unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

async fn login(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Css("input[name=username]")).await.unwrap().send_keys(user).await.unwrap();
    c.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    c.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("header.top")).await.unwrap();
}

async fn logout(c: &Client, base: &str) {
    c.goto(&format!("{base}/")).await.unwrap();
    c.find(Locator::Css("header .account button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("body.login")).await.unwrap();
}

#[tokio::test]
async fn the_web_ui_works_in_chromium() {
    let Some((_driver, c)) = driver().await else { return };
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);

        // Login page, then the dashboard.
        c.goto(&format!("{base}/")).await.unwrap();
        assert!(c.current_url().await.unwrap().path().starts_with("/login"), "{backend}: redirected to login");
        shot(&c, &format!("{backend}-01-login")).await;
        login(&c, &base, "manager").await;
        assert_eq!(text(&c, "main h1").await, "ダッシュボード");
        let dash = text(&c, "main").await;
        assert!(dash.contains("共用されている管理者アカウント"), "{backend}: {dash}");
        assert!(text(&c, "header .facility").await.contains("みなと内科クリニック"));
        shot(&c, &format!("{backend}-02-dashboard")).await;

        // Search the asset list.
        c.goto(&format!("{base}/assets")).await.unwrap();
        let all = c.find_all(Locator::Css("#asset-table tbody tr")).await.unwrap().len();
        assert!(all >= 30, "{backend}: {all} rows");
        shot(&c, &format!("{backend}-03-assets")).await;
        c.find(Locator::Css("input[name=q]")).await.unwrap().send_keys("FortiGate 60F").await.unwrap();
        c.find(Locator::Css("form.filters button")).await.unwrap().click().await.unwrap();
        for _ in 0..100 {
            if c.current_url().await.unwrap().query().is_some_and(|q| q.contains("FortiGate")) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let rows = c.find_all(Locator::Css("#asset-table tbody tr")).await.unwrap();
        assert_eq!(rows.len(), 1, "{backend}: search narrows to the UTM");

        // Open it and edit the firmware version.
        c.find(Locator::Css("#asset-table tbody a")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("edit-asset")).await.unwrap();
        shot(&c, &format!("{backend}-04-asset-detail")).await;
        let detail_url = c.current_url().await.unwrap();
        c.find(Locator::Id("edit-asset")).await.unwrap().click().await.unwrap();
        let field = c.wait().for_element(Locator::Css("input[name=os_version]")).await.unwrap();
        shot(&c, &format!("{backend}-05-asset-edit")).await;
        field.clear().await.unwrap();
        field.send_keys("7.2.11").await.unwrap();
        c.find(Locator::Css("form.edit button.primary")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Id("edit-asset")).await.unwrap();
        assert!(text(&c, "main").await.contains("7.2.11"), "{backend}: saved");

        // The change is in the audit log, with who did it.
        c.goto(&format!("{base}/audit")).await.unwrap();
        let audit = text(&c, "#audit-table").await;
        assert!(audit.contains("資産の更新") && audit.contains("7.2.11") && audit.contains("manager"), "{backend}: {audit}");
        assert!(text(&c, "main .alert").await.contains("改ざんは検出されていません"));
        shot(&c, &format!("{backend}-06-audit")).await;

        // A forged CSRF token is refused and the asset is unchanged.
        c.goto(&format!("{}/edit", detail_url.as_str())).await.unwrap();
        c.wait().for_element(Locator::Css("input[name=os_version]")).await.unwrap();
        c.execute(
            "document.querySelector('form.edit input[name=csrf]').value = 'forged';\
             document.querySelector('form.edit input[name=os_version]').value = '6.0.0';",
            vec![],
        )
        .await
        .unwrap();
        c.find(Locator::Css("form.edit button.primary")).await.unwrap().click().await.unwrap();
        let refused = text(&c, "p.alert.error").await;
        assert!(refused.contains("不正なリクエスト"), "{backend}: {refused}");
        shot(&c, &format!("{backend}-07-csrf-refused")).await;
        let id: i64 = detail_url.path().rsplit('/').next().unwrap().parse().unwrap();
        assert_eq!(s.store.get_asset(id, None).await.unwrap().data.os_version.as_deref(), Some("7.2.11"));

        // English is one click away, and stays.
        c.goto(&format!("{base}/")).await.unwrap();
        c.find(Locator::Css("header a.lang")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "Dashboard");
        shot(&c, &format!("{backend}-08-dashboard-en")).await;
        c.find(Locator::Css("header a.lang")).await.unwrap().click().await.unwrap();
        c.wait().for_element(Locator::Css("main h1")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "ダッシュボード");
        logout(&c, &base).await;

        // A viewer sees the asset but cannot edit it.
        login(&c, &base, "viewer").await;
        c.goto(detail_url.as_str()).await.unwrap();
        c.wait().for_element(Locator::Css("dl.fields")).await.unwrap();
        assert!(c.find(Locator::Id("edit-asset")).await.is_err(), "{backend}: no edit button for a viewer");
        assert!(c.find(Locator::Css("nav.main a[href='/audit']")).await.is_err());
        c.goto(&format!("{}/edit", detail_url.as_str())).await.unwrap();
        assert!(text(&c, "p.alert.error").await.contains("権限がありません"));
        logout(&c, &base).await;

        // The administrator's users page.
        login(&c, &base, "admin").await;
        c.goto(&format!("{base}/users")).await.unwrap();
        let users = text(&c, "#user-table").await;
        assert!(users.contains("vendor") && users.contains("保守事業者"), "{backend}");
        shot(&c, &format!("{backend}-09-users")).await;
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}

const LEDGER_CSV: &str = "医療情報システム機器台帳 令和8年度\n\
機器名,種別,IPアドレス,MACアドレス,設置場所,管理責任者,資産番号\n\
中待合サイネージPC,PC,192.168.10.231,00:1b:44:11:3a:b7,中待合,山田 太郎,MN-PC-031\n\
第2診察室プリンタ,プリンタ,192.168.10.232,,第2診察室,,MN-PR-032\n\
壊れた行,PC,999.1.1.1,,,,\n";

const LEASES: &str = "lease 192.168.1.77 {\n  starts 4 2026/11/19 10:00:00;\n  ends 4 2026/11/19 22:00:00;\n  \
binding state active;\n  hardware ethernet 00:11:22:33:44:55;\n  client-hostname \"unknown-pc\";\n}\n\
lease 192.168.1.78 {\n  starts 4 2026/11/19 11:00:00;\n  ends 4 2026/11/19 23:00:00;\n  \
binding state active;\n  hardware ethernet da:a1:19:5e:00:01;\n  client-hostname \"someones-iphone\";\n}\n";

/// Chooses `path` in the upload form and submits it.
async fn upload_file(c: &Client, base: &str, path: &std::path::Path) {
    c.goto(&format!("{base}/import")).await.unwrap();
    let input = c.wait().for_element(Locator::Css("#upload-form input[type=file]")).await.unwrap();
    input.send_keys(&path.display().to_string()).await.unwrap();
    c.find(Locator::Css("#upload-form button[type=submit]")).await.unwrap().click().await.unwrap();
}

/// Waits for the progress page (which reloads itself) to show the result.
async fn wait_for_result(c: &Client) {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Id("import-done"))
        .await
        .unwrap();
}

#[tokio::test]
async fn import_wizard_queue_and_stocktake_in_chromium() {
    let Some((_driver, c)) = driver().await else { return };
    let files = TempDir::new().unwrap();
    let ledger = files.0.join("台帳.csv");
    std::fs::write(&ledger, LEDGER_CSV).unwrap();
    let leases = files.0.join("dhcpd.leases");
    std::fs::write(&leases, LEASES).unwrap();
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);
        let before = s.store.all_assets().await.unwrap().len();
        login(&c, &base, "manager").await;

        // Upload a ledger through the file input.
        c.goto(&format!("{base}/import")).await.unwrap();
        shot(&c, &format!("{backend}-20-import")).await;
        upload_file(&c, &base, &ledger).await;

        // Mapping: the headers and the proposals. The facility's own asset numbers (資産番号)
        // are taken for mamori's asset ID, so every row is unreadable until that column is
        // kept as an extra field instead.
        let table = text(&c, "#mapping-table").await;
        assert!(table.contains("機器名") && table.contains("資産番号"), "{backend}: {table}");
        assert!(table.contains("中待合サイネージPC") && table.contains("MN-PC-031"), "{backend}: the file's values: {table}");
        assert!(c.current_url().await.unwrap().path().ends_with("/mapping"));
        assert!(text(&c, "#mapping-rejected").await.contains("資産番号"), "{backend}: the reason is shown");
        shot(&c, &format!("{backend}-21-import-mapping")).await;
        c.find(Locator::Id("col6")).await.unwrap().select_by_value("-").await.unwrap();
        c.find(Locator::Id("apply-mapping")).await.unwrap().click().await.unwrap();

        // Preview: nothing written yet.
        let counts = text(&c, "#import-counts").await;
        assert!(counts.contains("新規"), "{backend}: {counts}");
        assert_eq!(text(&c, "#count-created .num").await, "2");
        assert_eq!(text(&c, "#count-rejected .num").await, "1");
        assert!(text(&c, "#plan-rejected").await.contains("999.1.1.1"));
        assert_eq!(s.store.all_assets().await.unwrap().len(), before, "{backend}: preview writes nothing");
        shot(&c, &format!("{backend}-22-import-preview")).await;
        c.find(Locator::Id("confirm-import")).await.unwrap().click().await.unwrap();

        // Progress, then the result with links to the new assets.
        wait_for_result(&c).await;
        assert!(text(&c, "#plan-created").await.contains("中待合サイネージPC"));
        assert_eq!(s.store.all_assets().await.unwrap().len(), before + 2, "{backend}");
        shot(&c, &format!("{backend}-23-import-result")).await;
        c.find(Locator::LinkText("中待合サイネージPC")).await.unwrap().click().await.unwrap();
        let sources = text(&c, "#asset-sources").await;
        assert!(sources.contains("CSV 台帳") && sources.contains("台帳.csv:3"), "{backend}: {sources}");
        shot(&c, &format!("{backend}-24-asset-sources")).await;

        // A DHCP leases file: no mapping step, two unregistered devices.
        upload_file(&c, &base, &leases).await;
        assert_eq!(text(&c, "#count-flagged .num").await, "2", "{backend}");
        c.find(Locator::Id("confirm-import")).await.unwrap().click().await.unwrap();
        wait_for_result(&c).await;

        // The queue: adopt the PC.
        c.goto(&format!("{base}/unregistered")).await.unwrap();
        let queue = text(&c, "#queue-table").await;
        assert!(queue.contains("unknown-pc") && queue.contains("ランダム化MAC"), "{backend}: {queue}");
        shot(&c, &format!("{backend}-25-unregistered")).await;
        let pc = s.store.list_discovered(Some("pending")).await.unwrap().into_iter().find(|d| d.hostname.as_deref() == Some("unknown-pc")).unwrap();
        let name = c.find(Locator::Css(&format!("#device-{} form.adopt input[name=name]", pc.id))).await.unwrap();
        name.clear().await.unwrap();
        name.send_keys("検査室の不明PC").await.unwrap();
        c.find(Locator::Css(&format!("#device-{} form.adopt button", pc.id))).await.unwrap().click().await.unwrap();
        let ok = text(&c, "main .alert.ok").await;
        assert!(ok.contains("資産 #"), "{backend}: {ok}");
        assert!(s.store.all_assets().await.unwrap().iter().any(|a| a.data.name == "検査室の不明PC"));

        // The stocktake: record it.
        c.goto(&format!("{base}/stocktake")).await.unwrap();
        assert!(text(&c, "#st-eos").await.contains("サポートが終了"), "{backend}");
        shot(&c, &format!("{backend}-26-stocktake")).await;
        c.find(Locator::Id("record-stocktake")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#stocktake-recorded").await.contains("記録しました"));
        assert!(text(&c, "#stocktake-history").await.contains("manager"));
        shot(&c, &format!("{backend}-27-stocktake-recorded")).await;
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}

/// The checklist in Chromium: the demo's answers with the warnings the records raise, answering
/// an item, the roadmap, and a vendor user who sees only its own 事業者確認用 sheet.
#[tokio::test]
async fn checklist_in_chromium() {
    let Some((_driver, c)) = driver().await else { return };
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);
        login(&c, &base, "manager").await;
        c.goto(&format!("{base}/checklist?edition=R7")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "サイバーセキュリティ対策チェックリスト");
        assert_eq!(text(&c, "#warnings .num").await, "5", "{backend}");
        let accounts = text(&c, "#item-2-5").await;
        assert!(accounts.contains("記録と矛盾") && accounts.contains("nakamura.s"), "{backend}: {accounts}");
        let backup = text(&c, "#item-3-2").await;
        assert!(backup.contains("オフライン"), "{backend}: {backup}");
        shot(&c, &format!("{backend}-30-checklist")).await;

        // Answer 2-⑬ (network devices): いいえ with a target date.
        let form = "#answer-2-13-network";
        c.find(Locator::Css(&format!("{form} select[name=answer] option[value=no]"))).await.unwrap().click().await.unwrap();
        let target = c.find(Locator::Css(&format!("{form} input[name=target_date]"))).await.unwrap();
        // Chromium's date input takes the digits in the locale's order; set the value directly.
        c.execute(
            "document.querySelector(arguments[0]).value = '2027-03-31';",
            vec![serde_json::Value::String(format!("{form} input[name=target_date]"))],
        )
        .await
        .unwrap();
        let _ = target;
        // With a file as evidence.
        let evidence = std::env::temp_dir().join(format!("mamori-evidence-{}.txt", std::process::id()));
        std::fs::write(&evidence, "接続元制限の設定画面の写し").unwrap();
        c.find(Locator::Css(&format!("{form} input[name=evidence_file]"))).await.unwrap().send_keys(evidence.to_str().unwrap()).await.unwrap();
        c.find(Locator::Css(&format!("{form} button"))).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#answer-saved").await.contains("2-13"), "{backend}");
        let now = s.store.checklist_answers("R7", mamori_model::SheetKind::Facility, None).await.unwrap();
        let a = now.iter().find(|a| a.item_id == "2-13").unwrap();
        assert!(!a.yes && a.target_date.as_deref() == Some("2027-03-31") && a.answered_by == "manager", "{backend}: {a:?}");
        assert_eq!(a.files.len(), 1, "{backend}: the evidence file is attached");
        let (_, name, bytes) = s.store.checklist_file(a.files[0].id).await.unwrap();
        assert!(name.starts_with("mamori-evidence-") && bytes == "接続元制限の設定画面の写し".as_bytes(), "{backend}");
        assert!(text(&c, "#item-2-13").await.contains("mamori-evidence-"), "{backend}: the file is linked");

        c.goto(&format!("{base}/checklist/roadmap?edition=R7")).await.unwrap();
        let roadmap = text(&c, "#roadmap").await;
        assert!(roadmap.contains("3-②"), "{backend}: {roadmap}");
        shot(&c, &format!("{backend}-31-roadmap")).await;

        // The responsibility matrix: assign USB media to the network vendor as well.
        c.goto(&format!("{base}/contract")).await.unwrap();
        let remote = s.store.responsibility_matrix("R7").await.unwrap();
        let emr = remote.vendors.iter().find(|v| v.kind == mamori_model::VendorKind::Emr).unwrap().id;
        let emr_box = c.find(Locator::Css(&format!("#row-remote_maintenance input[name=vendor][value='{emr}']"))).await.unwrap();
        assert!(emr_box.prop("checked").await.unwrap().as_deref() == Some("true"), "{backend}: EMR vendor holds remote maintenance");
        let network = remote.vendors.iter().find(|v| v.kind == mamori_model::VendorKind::Network).unwrap().id;
        c.find(Locator::Css(&format!("#row-usb_media input[name=vendor][value='{network}']"))).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#set-usb_media button")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#matrix-saved").await.contains("usb_media"), "{backend}");
        let after = s.store.responsibility_matrix("R7").await.unwrap();
        let usb = &after.rows.iter().find(|r| r.topic == "usb_media").unwrap().responsibility;
        assert!(!usb.default && usb.facility && usb.vendor_ids == [network], "{backend}: {usb:?}");
        shot(&c, &format!("{backend}-33-contract-matrix")).await;
        c.goto(&format!("{base}/contract/clauses?vendor={emr}")).await.unwrap();
        assert!(text(&c, "h1").await.contains("保守契約に明記する事項"), "{backend}");
        shot(&c, &format!("{backend}-34-contract-clauses")).await;
        logout(&c, &base).await;

        // A vendor user: its own vendor sheet, no facility sheet, no roadmap.
        login(&c, &base, "vendor").await;
        c.goto(&format!("{base}/checklist?edition=R7&sheet=facility")).await.unwrap();
        let h2 = text(&c, "main h2").await;
        assert!(h2.contains("事業者確認用"), "{backend}: {h2}");
        assert!(text(&c, "#vendor-devices summary").await.contains("保守対象機器"), "{backend}: the vendor sees its devices");
        shot(&c, &format!("{backend}-32-checklist-vendor")).await;
        c.find(Locator::Css("#answer-1-1-item button")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#answer-saved").await.contains("1-1"), "{backend}");
        let theirs = s.store.checklist_answers("R7", mamori_model::SheetKind::Vendor, Some(s.vendor_id)).await.unwrap();
        assert_eq!(theirs.len(), 1, "{backend}");
        c.goto(&format!("{base}/checklist/roadmap")).await.unwrap();
        assert!(!text(&c, "main").await.contains("改善の道筋"), "{backend}: a vendor does not see the facility's roadmap");
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}

fn shared_data() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    [here.join("../../../shared/data"), here.join("../../shared/data")].into_iter().find(|p| p.exists()).expect("shared/data beside the repository")
}

/// Vulnerabilities in Chromium: the dashboard puts the demo FortiGate's exploited SSL-VPN
/// flaws first, the detail page shows why it matched and the JVN text, a status change with a
/// VEX justification lands in the store, a CPE suggestion is confirmed, and a vendor user sees
/// only the devices it maintains.
#[tokio::test]
async fn vulnerabilities_in_chromium() {
    use mamori_store::feedsource::FeedInput;
    let Some((_driver, c)) = driver().await else { return };
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mamori-vuln/tests/fixtures");
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);
        for f in ["nvd/CVE-2024-21762.json", "nvd/CVE-2023-27997.json", "nvd/CVE-2022-40684.json", "kev/known_exploited_vulnerabilities.json"] {
            s.store.import_feed_input("test", FeedInput::File(shared_data().join(f))).await.unwrap();
        }
        for f in ["epss/epss_scores-sample.csv", "jvn/jvndb_2024-sample.rdf"] {
            s.store.import_feed_input("test", FeedInput::File(fixtures.join(f))).await.unwrap();
        }
        login(&c, &base, "manager").await;
        c.goto(&format!("{base}/vulns")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "脆弱性対応");
        // Nothing is matched until someone asks (or a feed import does): match from the page.
        c.find(Locator::Id("rematch")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#matched").await.contains("照合しました"), "{backend}");
        let week = text(&c, "#week-table").await;
        assert!(week.contains("CVE-2024-21762") && week.contains("FortiGate") && week.contains("KEV"), "{backend}: {week}");
        let first = text(&c, "#findings tbody tr:first-child").await;
        assert!(first.contains("FortiGate") && first.contains("P1"), "{backend}: {first}");
        assert!(!text(&c, "#findings").await.contains("CVE-2022-40684"), "{backend}");
        shot(&c, &format!("{backend}-40-vulns")).await;

        // Detail: why it matched, the priority formula, KEV; set it to 対応中.
        c.goto(&format!("{base}/vulns/detail/CVE-2024-21762")).await.unwrap();
        let affected = text(&c, "#affected").await;
        assert!(affected.contains("cpe:2.3:o:fortinet:fortios:7.2.4") && affected.contains(">= 7.2.0"), "{backend}: {affected}");
        assert!(text(&c, "#kev").await.contains("CISA"), "{backend}");
        shot(&c, &format!("{backend}-41-vuln-detail")).await;
        c.find(Locator::Css("#affected form.status-form select[name=status] option[value=false_positive]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#affected form.status-form select[name=justification] option[value=protected_at_perimeter]")).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("#affected form.status-form input[name=reason]")).await.unwrap().send_keys("SSL-VPN を無効化済み（設定画面で確認）").await.unwrap();
        c.find(Locator::Css("#affected form.status-form button")).await.unwrap().click().await.unwrap();
        // Wait for the page the POST redirects to before reading the store.
        assert!(text(&c, "#saved").await.contains("誤検知"), "{backend}");
        let all = s.store.list_findings(&mamori_store::findings::FindingFilter { all: true, ..Default::default() }).await.unwrap();
        let f = all.iter().find(|f| f.vuln_id == "CVE-2024-21762").unwrap();
        assert_eq!(f.status, mamori_store::findings::FindingStatus::FalsePositive, "{backend}");
        assert_eq!(f.justification.as_deref(), Some("protected_at_perimeter"), "{backend}");
        assert_eq!(f.status_by.as_deref(), Some("manager"), "{backend}");

        // The RTX1210: confirm the suggested hardware name.
        let rtx = all.iter().find(|f| f.asset_name.contains("RTX1210")).map(|f| f.asset_id).unwrap_or(2);
        c.goto(&format!("{base}/vulns/asset/{rtx}")).await.unwrap();
        let cpes = text(&c, "#cpes").await;
        assert!(cpes.contains("cpe:2.3:h:yamaha:rtx1210:-"), "{backend}: {cpes}");
        c.find(Locator::Css("tr.cpe[data-cpe^='cpe:2.3:h:yamaha:rtx1210'] button.confirm-cpe")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#saved").await.contains("rtx1210"), "{backend}");
        let names = s.store.list_asset_cpes(Some(rtx)).await.unwrap();
        assert!(names.iter().any(|n| n.cpe.starts_with("cpe:2.3:h:yamaha:rtx1210") && n.state == "confirmed" && n.decided_by.as_deref() == Some("manager")), "{backend}");
        shot(&c, &format!("{backend}-42-vuln-asset")).await;
        c.goto(&format!("{base}/vulns/vendors")).await.unwrap();
        shot(&c, &format!("{backend}-43-vuln-vendors")).await;
        logout(&c, &base).await;

        // The EMR vendor maintains the RTX1210 but not the FortiGate.
        login(&c, &base, "vendor").await;
        c.goto(&format!("{base}/vulns?all=1")).await.unwrap();
        let seen = text(&c, "#findings").await;
        assert!(!seen.contains("FortiGate"), "{backend}: a vendor sees only its devices: {seen}");
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}

/// Waits until the browser's address satisfies `ok` (a navigation started by script).
async fn wait_url(c: &Client, ok: impl Fn(&url::Url) -> bool) {
    for _ in 0..100 {
        if ok(&c.current_url().await.unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the page did not navigate: {}", c.current_url().await.unwrap());
}

/// The network diagram in Chromium: drawn, zoomable, a collapsed group opens on click, a
/// device opens its page; a vendor user does not see the facility's diagram.
#[tokio::test]
async fn network_diagram_in_chromium() {
    let Some((_driver, c)) = driver().await else { return };
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);
        login(&c, &base, "viewer").await;
        c.goto(&format!("{base}/network")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "ネットワーク構成図");
        let svg = c.find(Locator::Css("#diagram svg.diagram")).await.unwrap();
        let label = svg.attr("aria-label").await.unwrap().unwrap_or_default();
        assert!(label.contains("みなと内科クリニック"), "{backend}: {label}");
        // The drawing's stylesheet is served (no inline style under the CSP): a segment title
        // is bold.
        let weight = c.find(Locator::Css("#diagram .t-seg")).await.unwrap().css_value("font-weight").await.unwrap();
        assert_eq!(weight, "700", "{backend}");
        shot(&c, &format!("{backend}-50-network")).await;
        let before = svg.attr("viewBox").await.unwrap().unwrap_or_default();
        c.find(Locator::Id("zoom-in")).await.unwrap().click().await.unwrap();
        let after = svg.attr("viewBox").await.unwrap().unwrap_or_default();
        assert_ne!(before, after, "{backend}: zoom changes the view");
        c.find(Locator::Id("zoom-fit")).await.unwrap().click().await.unwrap();
        // The staff PCs are one node; a click opens the group.
        let group = c.find(Locator::Css("#diagram [data-group^='seg1:pc']")).await.unwrap();
        let key = group.attr("data-group").await.unwrap().unwrap_or_default();
        group.click().await.unwrap();
        wait_url(&c, |u| u.query().is_some_and(|q| q.contains("expand="))).await;
        assert_eq!(c.find(Locator::Id("diagram")).await.unwrap().attr("data-expand").await.unwrap().as_deref(), Some(key.as_str()), "{backend}");
        assert!(c.find(Locator::Css("#diagram [data-asset='19']")).await.is_ok(), "{backend}: the group's members are drawn");
        shot(&c, &format!("{backend}-51-network-expanded")).await;
        // A device opens its page.
        c.find(Locator::Css("#diagram [data-asset='7']")).await.unwrap().click().await.unwrap();
        wait_url(&c, |u| u.path() == "/assets/7").await;
        logout(&c, &base).await;
        login(&c, &base, "vendor").await;
        c.goto(&format!("{base}/network")).await.unwrap();
        assert!(!text(&c, "main").await.contains("ネットワーク構成図"), "{backend}: a vendor does not see the whole facility");
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}

/// Risk assessment, attack paths, what-if and the improvement plan in Chromium.
#[tokio::test]
async fn risk_whatif_and_plans_in_chromium() {
    let Some((_driver, c)) = driver().await else { return };
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let base = format!("http://{}", s.addr);
        login(&c, &base, "manager").await;
        c.goto(&format!("{base}/network/risk")).await.unwrap();
        assert_eq!(text(&c, "main h1").await, "リスク評価");
        let findings = text(&c, "#findings").await;
        assert!(findings.contains("FortiGate") && findings.contains("多要素認証"), "{backend}: {findings}");
        assert!(text(&c, "#score").await.contains("リスクスコア ="), "{backend}: the formula is shown");
        shot(&c, &format!("{backend}-52-risk")).await;
        // Filter: critical only.
        c.find(Locator::Css("select[name=severity] option[value=critical]")).await.unwrap().click().await.unwrap();
        wait_url(&c, |u| u.query().is_some_and(|q| q.contains("severity=critical"))).await;
        let severities: Vec<String> = {
            let mut v = Vec::new();
            for e in c.find_all(Locator::Css("#findings article.finding")).await.unwrap() {
                v.push(e.attr("data-severity").await.unwrap().unwrap_or_default());
            }
            v
        };
        assert!(!severities.is_empty() && severities.iter().all(|x| x == "critical"), "{backend}: {severities:?}");

        // Attack paths, and one drawn on the diagram.
        c.goto(&format!("{base}/network/paths")).await.unwrap();
        let emr = text(&c, "article.goal[data-goal=emr_data]").await;
        assert!(emr.contains("インターネットから") && emr.contains("電子カルテサーバ"), "{backend}: {emr}");
        shot(&c, &format!("{backend}-53-paths")).await;
        c.find(Locator::Css("article.goal[data-goal=emr_data] div.path[data-path='0'] a")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#path-steps").await.contains("電子カルテ"), "{backend}");
        assert!(c.find(Locator::Css("#diagram svg .step")).await.is_ok(), "{backend}: the path is drawn");
        shot(&c, &format!("{backend}-54-path-on-diagram")).await;

        // What-if: an offline backup, then save it as a plan.
        c.goto(&format!("{base}/network/whatif")).await.unwrap();
        assert!(text(&c, "#suggestions").await.contains("offline-backup"), "{backend}");
        c.find(Locator::Id("changes")).await.unwrap().send_keys("offline-backup\nmfa:4").await.unwrap();
        c.find(Locator::Css("#whatif-form button")).await.unwrap().click().await.unwrap();
        let row = text(&c, "#whatif-result tr[data-goal=backups_destroyed] td.after").await;
        assert_eq!(row, "経路なし", "{backend}");
        shot(&c, &format!("{backend}-55-whatif")).await;
        c.find(Locator::Css("#plan-form input[name=title]")).await.unwrap().send_keys("オフラインバックアップと SSL-VPN の多要素認証").await.unwrap();
        c.find(Locator::Css("#plan-form input[name=owner]")).await.unwrap().send_keys("事務長").await.unwrap();
        c.find(Locator::Css("#plan-form button")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#saved").await.contains("保存しました"), "{backend}");
        let plans = s.store.plans().await.unwrap();
        assert_eq!(plans.first().map(|p| p.changes.clone()), Some(vec!["offline-backup".to_owned(), "mfa:4".to_owned()]), "{backend}");
        assert!(plans.first().is_some_and(|p| p.after_score < p.before_score), "{backend}");
        shot(&c, &format!("{backend}-56-plans")).await;
        // A bad spec is explained, not a crash.
        c.goto(&format!("{base}/network/whatif")).await.unwrap();
        c.find(Locator::Id("changes")).await.unwrap().send_keys("isolate:nowhere").await.unwrap();
        c.find(Locator::Css("#whatif-form button")).await.unwrap().click().await.unwrap();
        assert!(text(&c, "#whatif-error").await.contains("isolate:nowhere"), "{backend}");
        logout(&c, &base).await;
        // A viewer sees the plans but cannot save one.
        login(&c, &base, "viewer").await;
        c.goto(&format!("{base}/network/whatif")).await.unwrap();
        c.find(Locator::Id("changes")).await.unwrap().send_keys("offline-backup").await.unwrap();
        c.find(Locator::Css("#whatif-form button")).await.unwrap().click().await.unwrap();
        text(&c, "#whatif-result").await;
        assert!(c.find(Locator::Id("plan-form")).await.is_err(), "{backend}");
        logout(&c, &base).await;
    }
    c.close().await.unwrap();
}
