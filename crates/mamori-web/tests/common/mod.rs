//! A real server on loopback over a fresh database, with the demo facility and one user per role.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use mamori_model::Role;
use mamori_store::testing::TestDb;
use mamori_store::{OpenMode, Snapshot, Store};
use mamori_web::{AppState, Config};

pub const PASSWORD: &str = "test password 123";

pub struct Server {
    pub addr: SocketAddr,
    pub store: Store,
    pub vendor_id: i64,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    _db: TestDb,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub fn demo() -> Snapshot {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../content/demo/minato-clinic.json");
    Snapshot::parse_bytes(path, &std::fs::read(path).unwrap()).unwrap()
}

pub async fn start(db: TestDb, config: Config) -> Server {
    let store = Store::open(&db.url, OpenMode::Create).await.unwrap();
    let snap = demo();
    store.import_snapshot("test", &snap, "demo.load").await.unwrap();
    let vendor_id = snap.vendors.first().unwrap().id;
    for (name, role) in [("admin", Role::Admin), ("manager", Role::Manager), ("viewer", Role::Viewer)] {
        store.create_user("test", name, None, role, None, PASSWORD).await.unwrap();
    }
    store.create_user("test", "vendor", None, Role::Vendor, Some(vendor_id), PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(store.clone(), config);
    tokio::spawn(async move {
        mamori_web::serve(listener, state, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server { addr, store, vendor_id, shutdown: Some(tx), _db: db }
}

/// The value of `name="csrf"` in a page.
pub fn csrf_of(html: &str) -> String {
    let i = html.find("name=\"csrf\" value=\"").expect("csrf field");
    let rest = &html[i + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

/// A cookie-keeping HTTP client logged in as `user`.
pub async fn login(server: &Server, user: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client.get(server.url("/login")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    let r = client
        .post(server.url("/login"))
        .form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "login as {user}");
    let dash = client.get(server.url("/")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&dash);
    (client, csrf)
}
