//! Databases for tests: a fresh SQLite file or a fresh PostgreSQL database per call.
//!
//! PostgreSQL is used when `MAMORI_TEST_PG_URL` names a server (an admin URL; `scripts/test`
//! starts one on loopback). Without it the PostgreSQL half is skipped locally, and refused under
//! `CI=true` so a CI run can never pass by silently testing one backend.

use std::path::PathBuf;

use rand::RngCore;
use sqlx::{Connection, Executor};

/// A database made for one test. The SQLite file lives in `dir` and goes with it.
pub struct TestDb {
    pub url: String,
    _dir: Option<TempDir>,
}

/// A directory removed on drop.
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TempDir {
    pub fn new() -> std::io::Result<TempDir> {
        let mut b = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut b);
        let p = std::env::temp_dir().join(format!("mamori-test-{}", hex::encode(b)));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
}

/// The backends to run a scenario on, as `(name, url)` of fresh, empty databases.
pub async fn fresh_databases() -> Vec<(&'static str, TestDb)> {
    let mut out = Vec::new();
    if let Ok(db) = fresh_sqlite() {
        out.push(("sqlite", db));
    }
    if let Some(db) = fresh_postgres().await {
        out.push(("postgres", db));
    }
    out
}

pub fn fresh_sqlite() -> std::io::Result<TestDb> {
    let dir = TempDir::new()?;
    let url = dir.0.join("mamori.db").display().to_string();
    Ok(TestDb { url, _dir: Some(dir) })
}

/// A new, empty PostgreSQL database on the test server, or `None` when there is none.
///
/// # Panics
/// Under `CI=true` when no server is configured or it cannot be reached.
#[allow(clippy::panic)]
pub async fn fresh_postgres() -> Option<TestDb> {
    let admin = match std::env::var("MAMORI_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but MAMORI_TEST_PG_URL is not set: PostgreSQL tests would be skipped");
            }
            eprintln!("MAMORI_TEST_PG_URL not set: skipping the PostgreSQL half");
            return None;
        }
    };
    sqlx::any::install_default_drivers();
    let mut b = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut b);
    let name = format!("mamori_test_{}", hex::encode(b));
    let mut conn = match sqlx::AnyConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) => panic!("cannot reach the test PostgreSQL at MAMORI_TEST_PG_URL: {e}"),
    };
    if let Err(e) = conn.execute(format!("CREATE DATABASE {name}").as_str()).await {
        panic!("cannot create test database: {e}");
    }
    let _ = conn.close().await;
    // Replace the database name (the path after the last '/') in the admin URL.
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b.to_owned(), format!("?{q}")),
        None => (admin.clone(), String::new()),
    };
    let base = match base.rsplit_once('/') {
        Some((prefix, _)) if prefix.contains("//") && prefix.len() > "postgres://".len() => prefix.to_owned(),
        _ => base,
    };
    Some(TestDb { url: format!("{base}/{name}{query}"), _dir: None })
}

/// Runs SQL on a store directly: for tests that damage or roll back what the store wrote.
pub async fn execute(store: &crate::Store, sql: &str) -> crate::Result<()> {
    sqlx::raw_sql(sql).execute(store.pool()).await?;
    Ok(())
}

/// A single integer a query returns (a count).
pub async fn scalar(store: &crate::Store, sql: &str) -> crate::Result<i64> {
    Ok(sqlx::query_scalar(sql).fetch_one(store.pool()).await?)
}
