//! The web server over real HTTP on loopback, on every backend: authentication, CSRF, roles,
//! security headers, rate limiting and the JSON API.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{PASSWORD, csrf_of, login, start};
use mamori_store::testing::fresh_databases;
use mamori_web::Config;
use serde_json::Value;

#[tokio::test]
async fn pages_require_login_and_send_security_headers() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        for path in ["/", "/assets", "/assets/1", "/audit", "/users", "/network", "/network/diagram.svg", "/network/risk", "/network/whatif", "/network/plans"] {
            let r = c.get(s.url(path)).send().await.unwrap();
            assert_eq!(r.status(), 303, "{backend} {path}");
            assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next="));
        }
        let r = c.get(s.url("/login")).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
        let cookie = h["set-cookie"].to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let body = r.text().await.unwrap();
        assert!(body.contains("ログイン"), "Japanese first");
        assert!(!body.contains("<script>") && !body.contains("style="), "no inline script or style");
    }
}

#[tokio::test]
async fn login_edit_and_audit_with_csrf() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (c, csrf) = login(&s, "manager").await;
        let dash = c.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(dash.contains("みなと内科クリニック"), "{backend}");
        assert!(dash.contains("共用されている管理者アカウント"), "attention: shared admin");
        assert!(dash.contains("サポートが終了したOS"), "attention: EOS");

        let list = c.get(s.url("/assets?q=FortiGate")).send().await.unwrap().text().await.unwrap();
        let id: i64 = {
            let table = &list[list.find("id=\"asset-table\"").unwrap()..];
            let i = table.find("href=\"/assets/").expect("a result");
            let rest = &table[i + 14..];
            rest[..rest.find('"').unwrap()].parse().unwrap()
        };
        let form = c.get(s.url(&format!("/assets/{id}/edit"))).send().await.unwrap().text().await.unwrap();
        assert!(form.contains("FortiOS"));
        let asset = s.store.get_asset(id, None).await.unwrap();
        let fields = |token: &str, location: &str| {
            let mut f = vec![
                ("csrf".to_owned(), token.to_owned()),
                ("name".to_owned(), asset.data.name.clone()),
                ("kind".to_owned(), asset.data.kind.code().to_owned()),
                ("criticality".to_owned(), asset.data.criticality.code().to_owned()),
                ("os".to_owned(), asset.data.os.clone().unwrap_or_default()),
                ("os_version".to_owned(), "7.2.11".to_owned()),
                ("location".to_owned(), location.to_owned()),
            ];
            for (n, i) in asset.data.interfaces.iter().enumerate() {
                f.push((format!("if{n}_name"), i.name.clone().unwrap_or_default()));
                f.push((format!("if{n}_ip"), i.ip.clone().unwrap_or_default()));
                f.push((format!("if{n}_mac"), i.mac.clone().unwrap_or_default()));
                f.push((format!("if{n}_segment"), i.segment_id.map(|x| x.to_string()).unwrap_or_default()));
            }
            f
        };
        // A forged token is refused and nothing changes.
        let r = c.post(s.url(&format!("/assets/{id}"))).form(&fields("forged", "偽の場所")).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        assert_ne!(s.store.get_asset(id, None).await.unwrap().data.location.as_deref(), Some("偽の場所"));
        // The real one works.
        let r = c.post(s.url(&format!("/assets/{id}"))).form(&fields(&csrf, "サーバラック")).send().await.unwrap();
        assert_eq!(r.status(), 303, "{backend}");
        let after = s.store.get_asset(id, None).await.unwrap();
        assert_eq!(after.data.os_version.as_deref(), Some("7.2.11"));
        assert_eq!(after.data.location.as_deref(), Some("サーバラック"));
        assert_eq!(after.data.interfaces, asset.data.interfaces, "interfaces kept");
        assert_eq!(after.data.software, asset.data.software, "software kept");
        let audit = c.get(s.url("/audit")).send().await.unwrap().text().await.unwrap();
        assert!(audit.contains("資産の更新") && audit.contains("7.2.11"), "{backend}");
        assert!(audit.contains("改ざんは検出されていません"));
    }
}

#[tokio::test]
async fn roles_are_enforced() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (viewer, csrf) = login(&s, "viewer").await;
        let detail = viewer.get(s.url("/assets/1")).send().await.unwrap().text().await.unwrap();
        assert!(!detail.contains("id=\"edit-asset\""), "{backend}: viewer sees no edit button");
        assert_eq!(viewer.get(s.url("/assets/1/edit")).send().await.unwrap().status(), 403);
        let r = viewer.post(s.url("/assets/1/delete")).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(s.store.get_asset(1, None).await.is_ok());
        assert_eq!(viewer.get(s.url("/audit")).send().await.unwrap().status(), 403);
        assert_eq!(viewer.get(s.url("/users")).send().await.unwrap().status(), 403);
        // Network pages: a viewer may look and simulate, not save a plan; a forged token is refused.
        assert_eq!(viewer.get(s.url("/network/risk")).send().await.unwrap().status(), 200);
        let r = viewer.post(s.url("/network/plans")).form(&[("csrf", csrf.as_str()), ("title", "x"), ("changes", "mfa:4")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        let r = viewer.post(s.url("/network/whatif")).form(&[("csrf", "forged"), ("changes", "mfa:4")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        assert!(s.store.plans().await.unwrap().is_empty(), "{backend}");
        let svg = viewer.get(s.url("/network/diagram.svg?page=a4")).send().await.unwrap();
        assert!(svg.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"), "{backend}");
        assert!(svg.text().await.unwrap().contains("width=\"297mm\""), "{backend}");

        let (vendor, _) = login(&s, "vendor").await;
        let snap = common::demo();
        let covered: Vec<i64> = snap.contracts.iter().filter(|c| c.vendor_id == s.vendor_id).flat_map(|c| c.asset_ids.clone()).collect();
        let outside = snap.assets.iter().find(|a| !covered.contains(&a.id)).unwrap();
        assert_eq!(vendor.get(s.url(&format!("/assets/{}", outside.id))).send().await.unwrap().status(), 404, "{backend}");
        assert_eq!(vendor.get(s.url(&format!("/assets/{}", covered[0]))).send().await.unwrap().status(), 200);
        let list = vendor.get(s.url("/assets")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains(&format!("{} 件", covered.iter().collect::<std::collections::BTreeSet<_>>().len())), "{backend}");
        assert!(!list.contains(&outside.data.name));
        // Nor other vendors' lines or the facility's accounts on its dashboard.
        let dash = vendor.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        for c in snap.external_connections.iter().filter(|c| c.vendor_id != Some(s.vendor_id)) {
            assert!(!dash.contains(&c.name), "{backend}: vendor dashboard shows {}", c.name);
        }
        assert!(!dash.contains("共用されている管理者アカウント"), "{backend}: accounts are not the vendor's");
        for path in ["/network", "/network/diagram.svg", "/network/risk", "/network/paths", "/network/whatif", "/network/plans"] {
            assert_eq!(vendor.get(s.url(path)).send().await.unwrap().status(), 403, "{backend}: a vendor sees no facility-wide {path}");
        }
        let api: serde_json::Value = vendor.get(s.url("/api/v1/dashboard")).send().await.unwrap().json().await.unwrap();
        for c in snap.external_connections.iter().filter(|c| c.vendor_id != Some(s.vendor_id)) {
            assert!(!api.to_string().contains(&c.name), "{backend}: vendor API dashboard shows {}", c.name);
        }
    }
}

#[tokio::test]
async fn redirects_stay_on_this_site() {
    let (_, db) = fresh_databases().await.into_iter().next().unwrap();
    let s = start(db, Config::default()).await;
    let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for next in ["/%09/evil.example", "//evil.example", "https://evil.example/", "/%5Cevil.example", "/%0A/evil.example"] {
        let r = c.get(s.url(&format!("/lang/en?next={next}"))).send().await.unwrap();
        assert_eq!(r.status(), 303, "{next}");
        assert_eq!(r.headers()["location"], "/", "{next}");
    }
    let r = c.get(s.url("/lang/en?next=/assets%3Fq%3DNAS")).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/assets?q=NAS");
}

#[tokio::test]
async fn login_is_rate_limited_and_audited() {
    let (_, db) = fresh_databases().await.into_iter().next().unwrap();
    let s = start(db, Config { login_attempts: 3, ..Config::default() }).await;
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = c.get(s.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    for _ in 0..3 {
        let r = c.post(s.url("/login")).form(&[("username", "admin"), ("password", "wrong password"), ("csrf", &csrf)]).send().await.unwrap();
        assert_eq!(r.status(), 401);
    }
    // Even the right password is refused while blocked.
    let r = c.post(s.url("/login")).form(&[("username", "admin"), ("password", PASSWORD), ("csrf", &csrf)]).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let audit = s.store.list_audit(&Default::default()).await.unwrap();
    let failed: Vec<_> = audit.iter().filter(|e| e.action == "auth.login_failed").collect();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|e| e.actor == "admin" && e.entity_id.is_some()));
    // Refused attempts are not written to the permanent log (anyone can send them).
    assert!(!audit.iter().any(|e| e.action == "auth.login_blocked"));
    // A name that is no user (a password typed into the wrong field?) is not kept.
    let other = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let page = other.get(s.url("/login")).send().await.unwrap().text().await.unwrap();
    let token = csrf_of(&page);
    let r = other.post(s.url("/login")).form(&[("username", "Himitsu-Pass-2026"), ("password", "x"), ("csrf", &token)]).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let audit = s.store.list_audit(&Default::default()).await.unwrap();
    assert!(!format!("{audit:?}").contains("Himitsu"), "unknown names are not recorded");
    assert_eq!(audit.first().map(|e| e.actor.as_str()), Some("(unknown)"));
    // Login without the login page's CSRF cookie is refused.
    let bare = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = bare.post(s.url("/login")).form(&[("username", "viewer"), ("password", PASSWORD), ("csrf", "x")]).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn json_api_with_tokens_and_openapi() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let c = reqwest::Client::new();
        let doc: Value = c.get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
        for p in ["/api/v1/assets", "/api/v1/assets/{id}", "/api/v1/audit", "/api/v1/dashboard"] {
            assert!(doc["paths"][p].is_object(), "openapi documents {p}");
        }
        assert!(doc["components"]["schemas"]["Asset"].is_object());

        assert_eq!(c.get(s.url("/api/v1/assets")).send().await.unwrap().status(), 401);
        assert_eq!(c.get(s.url("/api/v1/assets")).bearer_auth("mamori_forged").send().await.unwrap().status(), 401);

        let admin = s.store.list_users().await.unwrap().into_iter().find(|u| u.username == "manager").unwrap();
        let (_, token) = s.store.create_api_token("test", admin.id, "ci").await.unwrap();
        let page: Value = c.get(s.url("/api/v1/assets?q=NAS&limit=5")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert!(page["total"].as_i64().unwrap() >= 1, "{backend}");
        assert!(page["items"][0]["name"].as_str().unwrap().contains("NAS"));

        let new: Value = c
            .post(s.url("/api/v1/assets"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": "検査室PC", "kind": "pc", "interfaces": [{"ip": "192.168.10.99"}]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = new["id"].as_i64().unwrap();
        let bad = c.put(s.url(&format!("/api/v1/assets/{id}"))).bearer_auth(&token)
            .header("accept-language", "en")
            .json(&serde_json::json!({"name": "検査室PC", "kind": "pc", "interfaces": [{"ip": "999.1.1.1"}]}))
            .send().await.unwrap();
        assert_eq!(bad.status(), 422);
        let err: Value = bad.json().await.unwrap();
        assert_eq!(err["error"], "invalid");
        assert!(err["message"].as_str().unwrap().contains("IP address"), "{err}");
        assert_eq!(c.delete(s.url(&format!("/api/v1/assets/{id}"))).bearer_auth(&token).send().await.unwrap().status(), 204);
        assert_eq!(c.get(s.url(&format!("/api/v1/assets/{id}"))).bearer_auth(&token).send().await.unwrap().status(), 404);
        let audit: Value = c.get(s.url("/api/v1/audit?entity=asset")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(&actions[..2], &["asset.delete", "asset.create"], "{backend}");

        // A session cookie works for the API, but unsafe methods need the CSRF header.
        let (browser, csrf) = login(&s, "manager").await;
        let body = serde_json::json!({"name": "受付タブレット", "kind": "mobile"});
        let r = browser.post(s.url("/api/v1/assets")).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = browser.post(s.url("/api/v1/assets")).header("x-csrf-token", csrf).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);

        // A viewer's token reads but cannot write.
        let viewer = s.store.list_users().await.unwrap().into_iter().find(|u| u.username == "viewer").unwrap();
        let (_, vt) = s.store.create_api_token("test", viewer.id, "ro").await.unwrap();
        assert_eq!(c.get(s.url("/api/v1/assets")).bearer_auth(&vt).send().await.unwrap().status(), 200);
        assert_eq!(c.post(s.url("/api/v1/assets")).bearer_auth(&vt).json(&body).send().await.unwrap().status(), 403);

        // The checklist through the API: the demo's contradicted answers, the roadmap, the
        // matrix; a vendor's token gets its own vendor sheet and no roadmap.
        for p in ["/api/v1/checklist", "/api/v1/checklist/roadmap", "/api/v1/contract/matrix"] {
            assert!(doc["paths"][p].is_object(), "openapi documents {p}");
        }
        let view: Value = c.get(s.url("/api/v1/checklist?edition=R7")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert_eq!((view["sheet"].as_str(), view["warnings"].as_u64()), (Some("facility"), Some(5)), "{backend}");
        let steps: Value = c.get(s.url("/api/v1/checklist/roadmap")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert!(steps.as_array().is_some_and(|a| !a.is_empty()), "{backend}");
        let m: Value = c.get(s.url("/api/v1/contract/matrix")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert!(m["rows"].as_array().is_some_and(|r| r.iter().any(|r| r["topic"] == "remote_maintenance")), "{backend}");
        let vendor = s.store.list_users().await.unwrap().into_iter().find(|u| u.username == "vendor").unwrap();
        let (_, vendor_token) = s.store.create_api_token("test", vendor.id, "vendor").await.unwrap();
        let theirs: Value = c.get(s.url("/api/v1/checklist?sheet=facility")).bearer_auth(&vendor_token).send().await.unwrap().json().await.unwrap();
        assert_eq!((theirs["sheet"].as_str(), theirs["vendor_id"].as_i64()), (Some("vendor"), Some(s.vendor_id)), "{backend}");
        assert_eq!(c.get(s.url("/api/v1/checklist/roadmap")).bearer_auth(&vendor_token).send().await.unwrap().status(), 403);
        assert_eq!(c.get(s.url("/api/v1/checklist?edition=R99")).bearer_auth(&vt).send().await.unwrap().status(), 404);

        // Vulnerabilities through the API: the demo FortiGate's KEV finding first; the EMR
        // vendor's token does not see the network vendor's FortiGate.
        for p in ["/api/v1/vulns", "/api/v1/vulns/{id}", "/api/v1/feeds"] {
            assert!(doc["paths"][p].is_object(), "openapi documents {p}");
        }
        let nvd = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/nvd/CVE-2024-21762.json");
        s.store.import_feed_input("test", mamori_store::feedsource::FeedInput::File(nvd)).await.unwrap();
        s.store.match_vulnerabilities("test", "2026-11-25", 7).await.unwrap();
        let list: Value = c.get(s.url("/api/v1/vulns")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        let first = &list.as_array().unwrap()[0];
        assert_eq!((first["vuln_id"].as_str(), first["priority"]["band"].as_u64()), (Some("CVE-2024-21762"), Some(1)), "{backend}: {first}");
        assert!(first["asset_name"].as_str().unwrap().contains("FortiGate"), "{backend}");
        let detail: Value = c.get(s.url("/api/v1/vulns/cve-2024-21762")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert_eq!(detail["findings"].as_array().map(Vec::len), Some(1), "{backend}");
        let theirs: Value = c.get(s.url("/api/v1/vulns?all=true")).bearer_auth(&vendor_token).send().await.unwrap().json().await.unwrap();
        assert!(theirs.as_array().unwrap().iter().all(|f| !f["asset_name"].as_str().unwrap().contains("FortiGate")), "{backend}: {theirs}");
        let feeds: Value = c.get(s.url("/api/v1/feeds")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert!(feeds.as_array().unwrap().iter().any(|f| f["kind"] == "nvd" && f["records"] == 1), "{backend}: {feeds}");
        assert_eq!(c.get(s.url("/api/v1/vulns/CVE-1999-0001")).bearer_auth(&vt).send().await.unwrap().status(), 404);

        // The network model and its assessment: the FortiGate's KEV finding is now a fact the
        // risk engine uses; a vendor does not get the whole facility.
        for p in ["/api/v1/network", "/api/v1/network/assessment", "/api/v1/network/plans"] {
            assert!(doc["paths"][p].is_object(), "openapi documents {p}");
            assert_eq!(c.get(s.url(p)).bearer_auth(&vendor_token).send().await.unwrap().status(), 403, "{backend}: {p}");
        }
        let model: Value = c.get(s.url("/api/v1/network")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert_eq!(model["policies"].as_array().map(Vec::len), Some(8), "{backend}");
        assert!(model["vulns"].as_array().unwrap().iter().any(|v| v["vuln_id"] == "CVE-2024-21762" && v["network"] == true), "{backend}: {}", model["vulns"]);
        let a: Value = c.get(s.url("/api/v1/network/assessment")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        let edge = a["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "edge_device_vulnerable").unwrap();
        assert!(edge["evidence"].to_string().contains("CVE-2024-21762"), "{backend}: {edge}");
        let plans: Value = c.get(s.url("/api/v1/network/plans")).bearer_auth(&vt).send().await.unwrap().json().await.unwrap();
        assert_eq!(plans, Value::Array(vec![]), "{backend}");
    }
}

// ---------------------------------------------------------------------------------------------
// Import wizard, unregistered devices, stocktake, export

const LEDGER_CSV: &str = "資産管理台帳 令和8年度\n\
機器名,種別,IPアドレス,MACアドレス,設置場所,管理責任者\n\
中待合サイネージPC,PC,192.168.10.231,00:1b:44:11:3a:b7,中待合,山田 太郎\n\
第2診察室プリンタ,プリンタ,192.168.10.232,,第2診察室,\n\
壊れた行,PC,999.1.1.1,,,\n";

const LEASES: &str = "lease 192.168.1.77 {\n  starts 4 2026/11/19 10:00:00;\n  ends 4 2026/11/19 22:00:00;\n  \
binding state active;\n  hardware ethernet 00:11:22:33:44:55;\n  client-hostname \"unknown-pc\";\n}\n\
lease 192.168.1.78 {\n  starts 4 2026/11/19 11:00:00;\n  ends 4 2026/11/19 23:00:00;\n  \
binding state active;\n  hardware ethernet da:a1:19:5e:00:01;\n  client-hostname \"someones-iphone\";\n}\n";

/// A multipart/form-data body as a browser sends the upload form: (content type, body).
fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----mamoriTestBoundary7d1f0c";
    let mut b = Vec::new();
    for (name, value) in fields {
        b.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes());
    }
    b.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

async fn upload(c: &reqwest::Client, s: &common::Server, csrf: &str, file_name: &str, bytes: &[u8]) -> reqwest::Response {
    let (ct, body) = multipart(&[("csrf", csrf), ("format", "auto"), ("target", "")], file_name, bytes);
    c.post(s.url("/import")).header("content-type", ct).body(body).send().await.unwrap()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// `/import/<token>/<step>` → token.
fn token_of(loc: &str) -> String {
    loc.trim_start_matches("/import/").split('/').next().unwrap().to_owned()
}

fn count_in(page: &str, id: &str) -> i64 {
    let i = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("{id} in page"));
    let rest = &page[i..];
    let j = rest.find("class=\"num\">").unwrap() + "class=\"num\">".len();
    rest[j..rest[j..].find('<').unwrap() + j].parse().unwrap()
}

/// Follows the progress page until the import is done.
async fn wait_done(c: &reqwest::Client, s: &common::Server, token: &str) -> String {
    for _ in 0..200 {
        let page = c.get(s.url(&format!("/import/{token}/progress"))).send().await.unwrap().text().await.unwrap();
        if page.contains("id=\"import-done\"") || page.contains("id=\"import-failed\"") || page.contains("id=\"import-cancelled\"") {
            return page;
        }
        assert!(page.contains("http-equiv=\"refresh\""), "a running import refreshes itself");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

#[tokio::test]
async fn ledger_import_wizard_end_to_end() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (c, csrf) = login(&s, "manager").await;
        let page = c.get(s.url("/import")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("自動判定"), "{backend}");
        let before = s.store.all_assets().await.unwrap().len();

        // Upload: a ledger goes to the mapping step.
        let r = upload(&c, &s, &csrf, "台帳.csv", LEDGER_CSV.as_bytes()).await;
        assert_eq!(r.status(), 303, "{backend}");
        let loc = location(&r);
        assert!(loc.ends_with("/mapping"), "{loc}");
        let token = token_of(&loc);
        let mapping = c.get(s.url(&loc)).send().await.unwrap().text().await.unwrap();
        for h in ["機器名", "種別", "IPアドレス", "MACアドレス", "設置場所", "管理責任者"] {
            assert!(mapping.contains(&format!(">{h}</label>")), "{backend}: header {h} listed");
        }
        assert!(mapping.contains("見出し行（2 行目）"), "header row found below the title");
        assert!(mapping.contains("<option value=\"location\" selected>"), "proposal pre-selected");
        assert!(mapping.contains("中待合サイネージPC") && mapping.contains("192.168.10.231"), "sample values");
        assert!(mapping.contains("追加項目として保持"));

        // Two columns on one field are refused; the proposal is then confirmed.
        let cols = ["name", "kind", "ip", "mac", "location", "owner"];
        let mut form: Vec<(String, String)> = vec![("csrf".into(), csrf.clone())];
        form.extend(cols.iter().enumerate().map(|(i, f)| (format!("col{i}"), (*f).to_owned())));
        let mut dup = form.clone();
        dup[6].1 = "name".into();
        let r = c.post(s.url(&format!("/import/{token}/mapping"))).form(&dup).send().await.unwrap();
        assert_eq!(r.status(), 422, "{backend}");
        assert!(r.text().await.unwrap().contains("複数の列"));
        let mut forged = form.clone();
        forged[0].1 = "forged".into();
        let r = c.post(s.url(&format!("/import/{token}/mapping"))).form(&forged).send().await.unwrap();
        assert_eq!(r.status(), 403, "CSRF on the mapping step");
        let r = c.post(s.url(&format!("/import/{token}/mapping"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{backend}");
        assert_eq!(location(&r), format!("/import/{token}/preview"));

        // Preview: counts and lists, nothing written.
        let preview = c.get(s.url(&format!("/import/{token}/preview"))).send().await.unwrap().text().await.unwrap();
        assert_eq!(count_in(&preview, "count-created"), 2, "{backend}: {preview}");
        assert_eq!(count_in(&preview, "count-updated"), 0);
        assert_eq!(count_in(&preview, "count-rejected"), 1);
        assert!(preview.contains("第2診察室プリンタ") && preview.contains("999.1.1.1"), "{backend}: lists");
        assert!(preview.contains("台帳.csv") && preview.contains("id=\"plan-rejected\""));
        assert_eq!(s.store.all_assets().await.unwrap().len(), before, "{backend}: preview writes nothing");
        assert!(!s.store.list_audit(&Default::default()).await.unwrap().iter().any(|e| e.action == "asset.import"));

        // Another user cannot see or confirm it.
        let (other, other_csrf) = login(&s, "admin").await;
        for step in ["mapping", "preview", "progress"] {
            let r = other.get(s.url(&format!("/import/{token}/{step}"))).send().await.unwrap();
            assert_eq!(r.status(), 404, "{backend}: other user, {step}");
        }
        let r = other.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", other_csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 404, "{backend}: other user confirms");
        let r = other.post(s.url(&format!("/import/{token}/cancel"))).form(&[("csrf", other_csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(c.get(s.url(&format!("/import/{token}/preview"))).send().await.unwrap().status(), 200, "not discarded by another user");

        // A viewer can neither upload nor confirm.
        let (viewer, viewer_csrf) = login(&s, "viewer").await;
        assert_eq!(viewer.get(s.url("/import")).send().await.unwrap().status(), 403);
        assert_eq!(upload(&viewer, &s, &viewer_csrf, "台帳.csv", LEDGER_CSV.as_bytes()).await.status(), 403);
        let r = viewer.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", viewer_csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        assert!(!viewer.get(s.url("/assets")).send().await.unwrap().text().await.unwrap().contains("href=\"/import\""));

        // Without the CSRF token nothing happens.
        let r = c.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", "")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        assert_eq!(upload(&c, &s, "forged", "台帳.csv", LEDGER_CSV.as_bytes()).await.status(), 403);
        assert_eq!(s.store.all_assets().await.unwrap().len(), before);

        // Confirm: the import runs in the background; the progress page ends with the result.
        let r = c.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303, "{backend}");
        assert_eq!(location(&r), format!("/import/{token}/progress"));
        let done = wait_done(&c, &s, &token).await;
        assert!(done.contains("id=\"import-done\""), "{backend}: {done}");
        assert_eq!(count_in(&done, "count-created"), 2);
        let assets = s.store.all_assets().await.unwrap();
        assert_eq!(assets.len(), before + 2, "{backend}");
        let signage = assets.iter().find(|a| a.data.name == "中待合サイネージPC").unwrap();
        assert_eq!(signage.data.owner.as_deref(), Some("山田 太郎"));
        assert_eq!(signage.data.location.as_deref(), Some("中待合"));
        assert!(done.contains(&format!("href=\"/assets/{}\"", signage.id)), "result links the new asset");
        let audit = s.store.list_audit(&Default::default()).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "asset.import" && e.actor == "manager"), "{backend}");
        // The token is used up.
        let r = c.get(s.url(&format!("/import/{token}/preview"))).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let r = c.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(location(&r), format!("/import/{token}/progress"));
        assert_eq!(s.store.all_assets().await.unwrap().len(), before + 2, "{backend}: not imported twice");

        // Provenance on the asset page.
        let detail = c.get(s.url(&format!("/assets/{}", signage.id))).send().await.unwrap().text().await.unwrap();
        assert!(detail.contains("id=\"asset-sources\"") && detail.contains("情報源"), "{backend}");
        assert!(detail.contains("CSV 台帳") && detail.contains("台帳.csv:3") && detail.contains("新規登録"), "{backend}: {detail}");
        // The import page lists it.
        let page = c.get(s.url("/import")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"import-history\"") && page.contains("台帳.csv"));
        // An upload can be discarded before it is imported.
        let r = upload(&c, &s, &csrf, "台帳.csv", LEDGER_CSV.as_bytes()).await;
        let discard = token_of(&location(&r));
        let r = c.post(s.url(&format!("/import/{discard}/cancel"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(location(&r), "/import");
        assert_eq!(c.get(s.url(&format!("/import/{discard}/preview"))).send().await.unwrap().status(), 404, "{backend}");
        // The audit log can be filtered to imports.
        let audit = c.get(s.url("/audit?entity=import")).send().await.unwrap().text().await.unwrap();
        assert!(audit.contains("資産情報の取り込み"), "{backend}");
    }
}

#[tokio::test]
async fn unreadable_and_oversized_uploads_are_refused_clearly() {
    let (_, db) = fresh_databases().await.into_iter().next().unwrap();
    let s = start(db, Config { max_upload_bytes: 2048, ..Config::default() }).await;
    let (c, csrf) = login(&s, "manager").await;
    // Not a format mamori reads: back to the form with file, line, field and reason.
    let r = upload(&c, &s, &csrf, "notes.txt", "これはただのメモです。\n台帳ではありません。\n".as_bytes()).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"upload-error\"") && page.contains("ファイルを読み込めません"), "{page}");
    assert!(page.contains("notes.txt") && page.contains("format"), "{page}");
    assert!(page.contains("id=\"upload-form\""), "the form again");
    // A CSV without a header row mamori knows.
    let r = upload(&c, &s, &csrf, "x.csv", b"foo,bar\n1,2\n").await;
    assert_eq!(r.status(), 422);
    // Over the limit: refused with a Japanese message.
    let big = vec![b'a'; 4096];
    let r = upload(&c, &s, &csrf, "big.csv", &big).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("ファイルが大きすぎます（上限"), "too large");
    // Over the request body limit itself: the same message, not a bare error.
    let huge = vec![b'a'; 600 * 1024];
    let r = upload(&c, &s, &csrf, "huge.csv", &huge).await;
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("ファイルが大きすぎます（上限"), "body limit");
    // No file at all.
    let r = upload(&c, &s, &csrf, "", b"").await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn unregistered_devices_are_adopted_and_rejected() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (c, csrf) = login(&s, "manager").await;
        // A leases file has no mapping step.
        let r = upload(&c, &s, &csrf, "dhcpd.leases", LEASES.as_bytes()).await;
        assert_eq!(r.status(), 303, "{backend}");
        let loc = location(&r);
        assert!(loc.ends_with("/preview"), "{loc}");
        let token = token_of(&loc);
        let preview = c.get(s.url(&loc)).send().await.unwrap().text().await.unwrap();
        assert_eq!(count_in(&preview, "count-flagged"), 2, "{backend}: {preview}");
        assert!(preview.contains("unknown-pc") && preview.contains("DHCP リース（ISC dhcpd）"));
        assert!(s.store.list_discovered(None).await.unwrap().is_empty(), "{backend}: preview writes nothing");
        let r = c.post(s.url(&format!("/import/{token}/confirm"))).form(&[("csrf", csrf.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let done = wait_done(&c, &s, &token).await;
        assert!(done.contains("id=\"import-done\"") && done.contains("href=\"/unregistered\""), "{backend}: {done}");

        // The queue and the dashboard.
        let queue = c.get(s.url("/unregistered")).send().await.unwrap().text().await.unwrap();
        assert!(queue.contains("unknown-pc") && queue.contains("00:11:22:33:44:55") && queue.contains("192.168.1.77"), "{backend}");
        assert!(queue.contains("ランダム化MAC"), "{backend}: the phone's MAC is marked");
        assert!(queue.contains("value=\"unknown-pc\""), "name prefilled from the proposal");
        let dash = c.get(s.url("/")).send().await.unwrap().text().await.unwrap();
        assert!(dash.contains("id=\"unregistered-card\"") && dash.contains("確認待ちの未登録機器"), "{backend}");
        let list = s.store.list_discovered(Some("pending")).await.unwrap();
        assert_eq!(list.len(), 2);
        let pc = list.iter().find(|d| d.hostname.as_deref() == Some("unknown-pc")).unwrap();
        let phone = list.iter().find(|d| d.randomized_mac()).unwrap();

        // A viewer reads the queue but cannot decide; a vendor does not see it.
        let (viewer, viewer_csrf) = login(&s, "viewer").await;
        let vq = viewer.get(s.url("/unregistered")).send().await.unwrap();
        assert_eq!(vq.status(), 200);
        assert!(!vq.text().await.unwrap().contains("/adopt\""), "{backend}: no forms for a viewer");
        let r = viewer.post(s.url(&format!("/unregistered/{}/adopt", pc.id))).form(&[("csrf", viewer_csrf.as_str()), ("name", "x"), ("kind", "pc")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let (vendor, _) = login(&s, "vendor").await;
        assert_eq!(vendor.get(s.url("/unregistered")).send().await.unwrap().status(), 403);
        assert_eq!(vendor.get(s.url("/stocktake")).send().await.unwrap().status(), 403);
        assert_eq!(vendor.get(s.url("/import")).send().await.unwrap().status(), 403);
        assert!(!vendor.get(s.url("/")).send().await.unwrap().text().await.unwrap().contains("href=\"/unregistered\""));

        // CSRF.
        let r = c.post(s.url(&format!("/unregistered/{}/reject", phone.id))).form(&[("csrf", "forged"), ("reason", "x")]).send().await.unwrap();
        assert_eq!(r.status(), 403, "{backend}");
        // An empty name is refused with the form's error.
        let r = c.post(s.url(&format!("/unregistered/{}/adopt", pc.id))).form(&[("csrf", csrf.as_str()), ("name", " "), ("kind", "pc")]).send().await.unwrap();
        assert_eq!(r.status(), 422, "{backend}");

        // Adopt the PC, reject the phone.
        let r = c
            .post(s.url(&format!("/unregistered/{}/adopt", pc.id)))
            .form(&[("csrf", csrf.as_str()), ("name", "検査室の不明PC"), ("kind", "pc"), ("owner", "山田")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{backend}");
        let asset_id: i64 = location(&r).rsplit('=').next().unwrap().parse().unwrap();
        let a = s.store.get_asset(asset_id, None).await.unwrap();
        assert_eq!(a.data.name, "検査室の不明PC");
        assert_eq!(a.data.owner.as_deref(), Some("山田"));
        assert_eq!(a.data.kind.code(), "pc");
        assert_eq!(a.data.interfaces[0].mac.as_deref(), Some("00:11:22:33:44:55"));
        let r = c.post(s.url(&format!("/unregistered/{}/reject", phone.id))).form(&[("csrf", csrf.as_str()), ("reason", "職員の私物スマートフォン")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(s.store.get_discovered(phone.id).await.unwrap().status, "rejected");
        assert_eq!(s.store.get_discovered(pc.id).await.unwrap().status, "adopted");
        // Deciding twice is a conflict, not a second asset.
        let r = c.post(s.url(&format!("/unregistered/{}/adopt", pc.id))).form(&[("csrf", csrf.as_str()), ("name", "again"), ("kind", "pc")]).send().await.unwrap();
        assert_eq!(r.status(), 409, "{backend}");
        let queue = c.get(s.url("/unregistered")).send().await.unwrap().text().await.unwrap();
        assert!(queue.contains("id=\"queue-empty\""), "{backend}: nothing pending");
        let all = c.get(s.url("/unregistered?all=1")).send().await.unwrap().text().await.unwrap();
        assert!(all.contains("台帳に登録済み") && all.contains("除外") && all.contains(&format!("href=\"/assets/{asset_id}\"")), "{backend}");
        let audit: Vec<String> = s.store.list_audit(&Default::default()).await.unwrap().into_iter().map(|e| e.action).collect();
        assert!(audit.contains(&"discovered.adopt".to_owned()) && audit.contains(&"discovered.reject".to_owned()), "{backend}");

        // The API.
        let manager = s.store.list_users().await.unwrap().into_iter().find(|u| u.username == "manager").unwrap();
        let (_, token) = s.store.create_api_token("test", manager.id, "ci").await.unwrap();
        let api = reqwest::Client::new();
        let all: Value = api.get(s.url("/api/v1/unregistered?all=true")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(all.as_array().unwrap().len(), 2, "{backend}");
        let pending: Value = api.get(s.url("/api/v1/unregistered")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert!(pending.as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn stocktake_page_records_and_lists() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (c, csrf) = login(&s, "manager").await;
        let page = c.get(s.url("/stocktake")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("棚卸し") && page.contains("value=\"90\""), "{backend}");
        for id in ["st-not-seen", "st-never-seen", "st-accounts", "st-eos", "st-no-owner", "st-no-segment", "st-unregistered"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{backend}: section {id}");
        }
        assert!(page.contains("サポートが終了したOS・ソフトウェア"));
        assert!(page.contains("まだ記録はありません"));
        assert_eq!(c.get(s.url("/stocktake?days=abc")).send().await.unwrap().status(), 422);
        let short = c.get(s.url("/stocktake?days=7")).send().await.unwrap().text().await.unwrap();
        assert!(short.contains("確認期間 7 日"), "{backend}");

        let (viewer, viewer_csrf) = login(&s, "viewer").await;
        let vp = viewer.get(s.url("/stocktake")).send().await.unwrap().text().await.unwrap();
        assert!(vp.contains("st-eos") && !vp.contains("id=\"record-stocktake\""), "{backend}: viewer reads, cannot record");
        let r = viewer.post(s.url("/stocktake/record")).form(&[("csrf", viewer_csrf.as_str()), ("days", "90")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        let r = c.post(s.url("/stocktake/record")).form(&[("csrf", "forged"), ("days", "90")]).send().await.unwrap();
        assert_eq!(r.status(), 403);
        assert!(s.store.list_stocktakes(10).await.unwrap().is_empty());

        let r = c.post(s.url("/stocktake/record")).form(&[("csrf", csrf.as_str()), ("days", "60")]).send().await.unwrap();
        assert_eq!(r.status(), 303, "{backend}");
        let loc = location(&r);
        assert!(loc.starts_with("/stocktake?days=60&recorded="), "{loc}");
        let history = s.store.list_stocktakes(10).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].days, 60);
        let page = c.get(s.url(&loc)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"stocktake-recorded\"") && page.contains("60 日"), "{backend}");
        let hist = &page[page.find("id=\"stocktake-history\"").unwrap()..];
        assert!(hist.contains("manager"), "{backend}: history row");
        assert!(s.store.list_audit(&Default::default()).await.unwrap().iter().any(|e| e.action == "stocktake.record"));

        let admin = s.store.list_users().await.unwrap().into_iter().find(|u| u.username == "viewer").unwrap();
        let (_, token) = s.store.create_api_token("test", admin.id, "ro").await.unwrap();
        let api = reqwest::Client::new();
        let report: Value = api.get(s.url("/api/v1/stocktake?days=30&date=2026-11-25")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
        assert_eq!(report["days"], 30, "{backend}");
        assert_eq!(report["date"], "2026-11-25");
        assert!(report["summary"]["assets"].as_u64().unwrap() >= 30);
        let bad = api.get(s.url("/api/v1/stocktake?date=yesterday")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(bad.status(), 400);
        let doc: Value = api.get(s.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["paths"]["/api/v1/stocktake"].is_object() && doc["paths"]["/api/v1/unregistered"].is_object());
        assert!(doc["components"]["schemas"]["StocktakeReport"].is_object());
    }
}

#[tokio::test]
async fn ledger_exports_and_template_download() {
    for (backend, db) in fresh_databases().await {
        let s = start(db, Config::default()).await;
        let (c, _) = login(&s, "viewer").await;
        let list = c.get(s.url("/assets")).send().await.unwrap().text().await.unwrap();
        assert!(list.contains("href=\"/assets/export.xlsx\"") && list.contains("href=\"/assets/export.csv\""), "{backend}");

        let r = c.get(s.url("/assets/export.xlsx")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{backend}");
        assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
        let cd = r.headers()["content-disposition"].to_str().unwrap().to_owned();
        assert!(cd.starts_with("attachment; filename=\"mamori-assets-") && cd.contains("filename*=UTF-8''%E8%B3%87%E7%94%A3%E5%8F%B0%E5%B8%B3_"), "{cd}");
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"PK"), "{backend}: a zip");

        let r = c.get(s.url("/assets/export.csv")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains(".csv"));
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"\xEF\xBB\xBF"), "{backend}: BOM");
        let text = std::str::from_utf8(&body[3..]).unwrap();
        assert!(text.lines().next().unwrap().contains("機器名"), "{text}");
        assert!(text.contains("FortiGate 60F"));
        assert!(text.lines().count() > 30, "{backend}: one row per asset");

        let r = c.get(s.url("/import/template.xlsx")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));

        // A vendor does not take the facility's ledger.
        let (vendor, _) = login(&s, "vendor").await;
        assert_eq!(vendor.get(s.url("/assets/export.xlsx")).send().await.unwrap().status(), 403, "{backend}");
        assert_eq!(vendor.get(s.url("/assets/export.csv")).send().await.unwrap().status(), 403);
        assert!(!vendor.get(s.url("/assets")).send().await.unwrap().text().await.unwrap().contains("export.xlsx"));
    }
}
