//! Storage for mamori.
//!
//! One [`Store`] serves both backends through sqlx's `Any` driver: SQLite (the embedded default,
//! one file in WAL mode) and PostgreSQL (the regional SOC). The SQL is written once, in the
//! dialect both accept (`$n` parameters, `RETURNING`, `ON CONFLICT`); what differs lives in
//! [`Backend`]: the migration set, connection pragmas, identity sequences and integrity checks.
//!
//! Invariants:
//! - Every change to facility data happens in a [`WriteTx`], which appends to the hash-chained
//!   audit log in the same transaction. No audit entry, no change.
//! - A write transaction first updates the single `audit_head` row. That takes the database's
//!   write lock (SQLite) or the row lock (PostgreSQL) before anything is read, so concurrent
//!   writers — even in other processes — serialise instead of forking the chain.
//! - Imports run in one transaction: they land whole or not at all.

mod assets;
mod audit;
mod auth;
pub mod checklist;
pub mod contract;
pub mod cpes;
pub mod feedsource;
pub mod findings;
mod import;
mod inventory;
mod keys;
pub mod lifecycle;
pub mod network;
mod migrate;
mod snapshot;
pub mod source;
mod stocktake;
mod util;
pub mod vuln;
#[doc(hidden)]
pub mod testing;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub use assets::{AssetQuery, AssetSort, Page};
pub use audit::{AuditBreak, AuditFilter};
pub use auth::{ApiToken, NewSession, SessionInfo, hash_password, verify_password};
pub use import::{
    AssetSource, CHUNK_OBSERVATIONS, Conflict, DiscoveredDevice, Feed, FeedItem, ImportChunk, IP_MATCH_WINDOW_DAYS, ImportControl, ImportCounts,
    ImportOptions, ImportPlan, ImportRecord, ImportSource, MatchReason, PREVIEW_LIMIT,
    PlannedAsset, PlannedChange, PlannedDiscovery, Quiet, RejectedRow,
};
pub use inventory::InventoryCounts;
pub use stocktake::{
    DEFAULT_STOCKTAKE_DAYS, StocktakeAccount, StocktakeAsset, StocktakeEos, StocktakeRecord,
    StocktakeReport, StocktakeSummary,
};
pub use snapshot::{FORMAT_NAME, FORMAT_VERSION, ImportSummary, Snapshot, SnapshotToken, SnapshotUser};
pub use util::now;
pub use audit::verify_chain;
pub use migrate::SCHEMA_VERSION;

/// Which database engine a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where the database is: a plain path or `sqlite:` URL means SQLite, `postgres://` PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    pub fn parse(target: &str) -> Location {
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            Location::Postgres(target.to_owned())
        } else if let Some(rest) = target.strip_prefix("sqlite://") {
            Location::Sqlite(PathBuf::from(rest))
        } else if let Some(rest) = target.strip_prefix("sqlite:") {
            Location::Sqlite(PathBuf::from(rest))
        } else {
            Location::Sqlite(PathBuf::from(target))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }

    /// A form safe to print: the password of a URL is masked.
    pub fn display(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(url) => mask_password(url),
        }
    }
}

fn mask_password(url: &str) -> String {
    let url = &mask_query_password(url);
    // postgres://user:secret@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else { return url.clone() };
    let Some((userinfo, host)) = rest.rsplit_once('@') else { return url.clone() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.clone(),
    }
}

/// `…?password=secret&x` → `…?password=***&x`.
fn mask_query_password(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let parts: Vec<String> = query
        .split('&')
        .map(|kv| if kv.starts_with("password=") { "password=***".to_owned() } else { kv.to_owned() })
        .collect();
    format!("{base}?{}", parts.join("&"))
}

/// Whether opening may create a new, empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// The database must already be a mamori database.
    Existing,
    /// Create the file (SQLite) or the schema (PostgreSQL) when absent.
    Create,
}

/// Everything that can go wrong in the store, with enough context to tell the user what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database not found: {location}")]
    NotFound { location: String },
    #[error("not a SQLite database: {location}")]
    NotSqlite { location: String },
    #[error("not a mamori database (it has tables of another program): {location}")]
    Foreign { location: String },
    #[error("database is damaged: {location}: {detail}")]
    Corrupt { location: String, detail: String },
    #[error("database is not initialised (run `mamori init`): {location}")]
    Uninitialised { location: String },
    #[error("migration {version} was changed after it was applied (checksum mismatch)")]
    MigrationChanged { version: i64 },
    #[error("database schema version {found} is newer than this mamori ({supported})")]
    TooNew { found: i64, supported: i64 },
    #[error("cannot open database {location}: {source}")]
    Open { location: String, source: sqlx::Error },
    #[error("{entity} {id} not found")]
    Missing { entity: &'static str, id: String },
    #[error("invalid {0}")]
    Invalid(#[from] mamori_model::ValidationError),
    #[error("already exists: {0}")]
    Conflict(String),
    /// A request the user must change: the catalog key of the message and what to show in it.
    #[error("{key}: {detail}")]
    Refused { key: &'static str, detail: String },
    #[error("the database is not empty: {0}")]
    NotEmpty(String),
    #[error("{0}")]
    Format(String),
    #[error("stored value is not valid: {0}")]
    Decode(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("cancelled; nothing was written")]
    Cancelled,
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    fn from_write(e: sqlx::Error, what: &str) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(what.to_owned())
            }
            _ => StoreError::Db(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A connection to one facility's database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    location: Location,
    /// In-process writer gate: SQLite allows one writer; queueing here beats busy-polling.
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.location.display()).finish()
    }
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Opens (and with [`OpenMode::Create`], creates) a database and brings its schema up to date.
    pub async fn open(target: &str, mode: OpenMode) -> Result<Store> {
        Store::open_with(target, mode, 8).await
    }

    /// As [`Store::open`], with a bound on the connection pool.
    pub async fn open_with(target: &str, mode: OpenMode, max_connections: u32) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let location = Location::parse(target);
        let url = match &location {
            Location::Sqlite(path) => {
                check_sqlite_file(path, mode)?;
                sqlite_url(path, mode)
            }
            Location::Postgres(url) => url.clone(),
        };
        let backend = location.backend();
        let display = location.display();
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| classify_open_error(&display, source))?;
        let store = Store {
            pool,
            backend,
            location,
            write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        };
        if backend == Backend::Sqlite {
            // WAL survives in the file; it makes readers never block the writer and keeps
            // committed transactions safe across `kill -9`.
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
                .fetch_one(&store.pool)
                .await
                .map_err(|e| store.corrupt_or_db(e))?;
            tracing::debug!(journal_mode = %mode, "sqlite opened");
        }
        migrate::run(&store, mode).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn location(&self) -> &Location {
        &self.location
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    fn corrupt_or_db(&self, e: sqlx::Error) -> StoreError {
        let text = e.to_string();
        if text.contains("malformed") || text.contains("not a database") || text.contains("corrupt")
        {
            StoreError::Corrupt { location: self.location.display(), detail: text }
        } else {
            StoreError::Db(e)
        }
    }

    /// Full integrity check: the engine's own check, the schema version and the audit chain.
    pub async fn integrity_check(&self) -> Result<IntegrityReport> {
        let engine = match self.backend {
            Backend::Sqlite => {
                let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.corrupt_or_db(e))?;
                let fk: Vec<AnyRow> = sqlx::query("PRAGMA foreign_key_check")
                    .fetch_all(&self.pool)
                    .await
                    .map_err(|e| self.corrupt_or_db(e))?;
                if rows.len() != 1 || rows.first().map(String::as_str) != Some("ok") {
                    return Err(StoreError::Corrupt {
                        location: self.location.display(),
                        detail: rows.join("; "),
                    });
                }
                if !fk.is_empty() {
                    return Err(StoreError::Corrupt {
                        location: self.location.display(),
                        detail: format!("{} foreign key violations", fk.len()),
                    });
                }
                "ok".to_owned()
            }
            Backend::Postgres => {
                let one: i64 = sqlx::query_scalar("SELECT CAST(1 AS BIGINT)")
                    .fetch_one(&self.pool)
                    .await?;
                if one == 1 { "ok".to_owned() } else { "unexpected".to_owned() }
            }
        };
        let schema_version = migrate::current_version(self).await?;
        let audit_entries = self.verify_audit().await?;
        Ok(IntegrityReport { backend: self.backend, engine, schema_version, audit_entries })
    }

    /// Closes the pool, waiting for connections to finish (checkpoints SQLite's WAL).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Begins a write transaction; see the crate docs for why it touches `audit_head` first.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx<'_>> {
        let gate = self.write_gate.lock().await;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.corrupt_or_db(e))?;
        let head_seq: i64 = row.try_get(0)?;
        let head_hash: String = row.try_get(1)?;
        Ok(WriteTx { tx, head_seq, head_hash, backend: self.backend, _gate: gate })
    }
}

/// A write transaction holding the audit-chain head.
pub(crate) struct WriteTx<'a> {
    pub(crate) tx: sqlx::Transaction<'static, sqlx::Any>,
    pub(crate) head_seq: i64,
    pub(crate) head_hash: String,
    pub(crate) backend: Backend,
    _gate: tokio::sync::MutexGuard<'a, ()>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(mut self) -> Result<()> {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(self.head_seq)
            .bind(self.head_hash.clone())
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// What `mamori healthcheck` reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IntegrityReport {
    #[serde(serialize_with = "ser_backend")]
    pub backend: Backend,
    pub engine: String,
    pub schema_version: i64,
    pub audit_entries: i64,
}

fn ser_backend<S: serde::Serializer>(b: &Backend, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(b.name())
}

fn check_sqlite_file(path: &Path, mode: OpenMode) -> Result<()> {
    use std::io::Read;
    let location = path.display().to_string();
    match std::fs::File::open(path) {
        Ok(mut f) => {
            let mut magic = [0u8; 16];
            let n = f.read(&mut magic).map_err(|e| StoreError::Format(format!("{location}: {e}")))?;
            // An empty file is what some tools leave behind; SQLite treats it as a new database.
            if n == 0 {
                return Ok(());
            }
            if n < 16 || &magic != SQLITE_MAGIC {
                return Err(StoreError::NotSqlite { location });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match mode {
            OpenMode::Create => Ok(()),
            OpenMode::Existing => Err(StoreError::NotFound { location }),
        },
        Err(e) => Err(StoreError::Format(format!("{location}: {e}"))),
    }
}

fn sqlite_url(path: &Path, mode: OpenMode) -> String {
    let m = match mode {
        OpenMode::Create => "rwc",
        OpenMode::Existing => "rw",
    };
    format!("sqlite://{}?mode={m}", path.display())
}

fn classify_open_error(location: &str, source: sqlx::Error) -> StoreError {
    let text = source.to_string();
    if text.contains("not a database") || text.contains("file is not a database") {
        StoreError::NotSqlite { location: location.to_owned() }
    } else if text.contains("malformed") {
        StoreError::Corrupt { location: location.to_owned(), detail: text }
    } else {
        StoreError::Open { location: location.to_owned(), source }
    }
}

impl FromStr for Location {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Location::parse(s))
    }
}

impl StoreError {
    /// The message a user reads, from the catalogs. Technical detail stays in English.
    pub fn localized(&self, lang: mamori_i18n::Lang) -> String {
        use mamori_i18n::{t, tf};
        match self {
            StoreError::NotFound { location } => {
                tf(lang, "error.db_not_found", &[("location", location)])
            }
            StoreError::NotSqlite { location } => {
                tf(lang, "error.not_sqlite", &[("location", location)])
            }
            StoreError::Foreign { location } => tf(lang, "error.foreign", &[("location", location)]),
            StoreError::Uninitialised { location } => {
                tf(lang, "error.uninitialised", &[("location", location)])
            }
            StoreError::Corrupt { location, detail } => {
                tf(lang, "error.corrupt", &[("location", location), ("detail", detail)])
            }
            StoreError::TooNew { found, supported } => {
                tf(lang, "error.too_new", &[("found", found), ("supported", supported)])
            }
            StoreError::MigrationChanged { version } => {
                tf(lang, "error.migration_changed", &[("version", version)])
            }
            StoreError::Open { location, source } => {
                tf(lang, "error.open", &[("location", location), ("detail", source)])
            }
            StoreError::Missing { entity, id } => tf(
                lang,
                "error.missing",
                &[("entity", &t(lang, &format!("entity.{entity}"))), ("id", id)],
            ),
            StoreError::Invalid(v) => tf(
                lang,
                "error.invalid",
                &[
                    ("field", &t(lang, &format!("field.{}", v.field))),
                    ("reason", &t(lang, &format!("reason.{}", v.reason))),
                ],
            ),
            StoreError::Conflict(what) => tf(lang, "error.conflict", &[("what", what)]),
            StoreError::Refused { key, detail } => tf(lang, key, &[("detail", detail)]),
            StoreError::NotEmpty(what) => tf(lang, "error.not_empty", &[("what", what)]),
            StoreError::Format(detail) => tf(lang, "error.format", &[("detail", detail)]),
            StoreError::Decode(detail) | StoreError::Hash(detail) => {
                tf(lang, "error.internal", &[("detail", detail)])
            }
            StoreError::Cancelled => t(lang, "error.cancelled").to_owned(),
            StoreError::Db(e) => tf(lang, "error.database", &[("detail", e)]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(Location::parse("./m.db"), Location::Sqlite("./m.db".into()));
        assert_eq!(Location::parse("sqlite:///tmp/m.db"), Location::Sqlite("/tmp/m.db".into()));
        assert_eq!(Location::parse("postgres://u:p@h/db").backend(), Backend::Postgres);
        assert_eq!(
            Location::parse("postgres://u:secret@127.0.0.1:5432/db").display(),
            "postgres://u:***@127.0.0.1:5432/db"
        );
        assert_eq!(Location::parse("postgres://u:p@ss@h/db").display(), "postgres://u:***@h/db");
        assert_eq!(
            Location::parse("postgres://h/db?user=u&password=secret").display(),
            "postgres://h/db?user=u&password=***"
        );
    }
}
