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
        for path in ["/", "/assets", "/assets/1", "/audit", "/users"] {
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
    }
}
