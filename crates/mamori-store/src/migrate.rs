//! Forward-only, checksummed schema migrations, one set per backend, applied in one transaction.
//!
//! We keep our own small runner instead of `sqlx::migrate!` so that the migration SQL is
//! embedded without sqlx's compile-time macros and so that a foreign database (tables of another
//! program) is refused before anything is written to it.

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::{Backend, OpenMode, Result, Store, StoreError, util::now};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "import",
        sqlite: include_str!("../migrations/sqlite/0002_import.sql"),
        postgres: include_str!("../migrations/postgres/0002_import.sql"),
    },
    Migration {
        version: 3,
        name: "match_keys",
        sqlite: include_str!("../migrations/sqlite/0003_match_keys.sql"),
        postgres: include_str!("../migrations/postgres/0003_match_keys.sql"),
    },
    Migration {
        version: 4,
        name: "checklist",
        sqlite: include_str!("../migrations/sqlite/0004_checklist.sql"),
        postgres: include_str!("../migrations/postgres/0004_checklist.sql"),
    },
    Migration {
        version: 5,
        name: "vuln",
        sqlite: include_str!("../migrations/sqlite/0005_vuln.sql"),
        postgres: include_str!("../migrations/postgres/0005_vuln.sql"),
    },
    Migration {
        version: 6,
        name: "network",
        sqlite: include_str!("../migrations/sqlite/0006_network.sql"),
        postgres: include_str!("../migrations/postgres/0006_network.sql"),
    },
    Migration {
        version: 7,
        name: "match_index",
        sqlite: include_str!("../migrations/sqlite/0007_match_index.sql"),
        postgres: include_str!("../migrations/postgres/0007_match_index.sql"),
    },
    Migration {
        version: 8,
        name: "platform_index",
        sqlite: include_str!("../migrations/sqlite/0008_platform_index.sql"),
        postgres: include_str!("../migrations/postgres/0008_platform_index.sql"),
    },
    Migration {
        version: 9,
        name: "product_entries",
        sqlite: include_str!("../migrations/sqlite/0009_product_entries.sql"),
        postgres: include_str!("../migrations/postgres/0009_product_entries.sql"),
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 9;

/// Arbitrary constant naming mamori's advisory lock on PostgreSQL.
const PG_MIGRATION_LOCK: i64 = 0x6d61_6d6f_7269;

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

async fn user_tables(store: &Store) -> Result<Vec<String>> {
    let sql = match store.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema()"
        }
    };
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.map_err(|e| match e {
        sqlx::Error::Database(ref d) if d.message().contains("not a database") => {
            StoreError::NotSqlite { location: store.location().display() }
        }
        other => other.into(),
    })?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(StoreError::from)).collect()
}

pub(crate) async fn run(store: &Store, mode: OpenMode) -> Result<()> {
    let tables = user_tables(store).await?;
    let initialised = tables.iter().any(|t| t == "mamori_migrations");
    if !initialised {
        if !tables.is_empty() {
            return Err(StoreError::Foreign { location: store.location().display() });
        }
        if mode == OpenMode::Existing {
            return Err(StoreError::Uninitialised { location: store.location().display() });
        }
    }

    let mut tx = store.pool().begin().await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_MIGRATION_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS mamori_migrations (version BIGINT PRIMARY KEY, \
         name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let applied = sqlx::query("SELECT version, checksum FROM mamori_migrations ORDER BY version")
        .fetch_all(&mut *tx)
        .await?;
    let mut done = Vec::with_capacity(applied.len());
    for row in &applied {
        let version: i64 = row.try_get(0)?;
        let sum: String = row.try_get(1)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found: version, supported: SCHEMA_VERSION });
        }
        if let Some(m) = MIGRATIONS.iter().find(|m| m.version == version) {
            let sql = match store.backend() {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            if checksum(sql) != sum {
                return Err(StoreError::MigrationChanged { version });
            }
        }
        done.push(version);
    }
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let sql = match store.backend() {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        tracing::info!(version = m.version, name = m.name, "applying migration");
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query(
            "INSERT INTO mamori_migrations (version, name, checksum, applied_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(sql))
        .bind(now())
        .execute(&mut *tx)
        .await?;
        if m.version == 1 {
            sqlx::query("INSERT INTO mamori_meta (key, value) VALUES ('created_at', $1)")
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        if m.version == 3 {
            crate::keys::backfill(&mut tx, store.backend()).await?;
        }
        if m.version == 7 {
            crate::vuln::backfill_match_index(&mut tx, store.backend()).await?;
        }
        if m.version == 8 {
            crate::vuln::rebuild_unindexed(&mut tx, store.backend()).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn current_version(store: &Store) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM mamori_migrations")
        .fetch_one(store.pool())
        .await?;
    Ok(v.unwrap_or(0))
}
