//! The append-only, hash-chained audit log.
//!
//! Entry `n` stores `hash = SHA-256(n ␟ at ␟ actor ␟ action ␟ entity ␟ entity_id ␟ detail ␟
//! prev_hash)` where `prev_hash` is entry `n-1`'s hash (64 zeros for the first). Changing,
//! removing or reordering any entry breaks every later hash, which [`Store::verify_audit`]
//! detects; triggers in both backends refuse UPDATE and DELETE on the table as well.

use mamori_model::{AuditEntry, Detail, Id};
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, Store, StoreError, WriteTx, util::now};

pub(crate) const GENESIS: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit log chain broken at entry {seq}: {reason}")]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

/// Which entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<Id>,
    pub actor: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

pub(crate) fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let id = e.entity_id.map(|i| i.to_string()).unwrap_or_default();
    for part in [
        e.seq.to_string().as_str(),
        &e.at,
        &e.actor,
        &e.action,
        &e.entity,
        &id,
        &e.detail,
        &e.prev_hash,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

impl WriteTx<'_> {
    /// Appends one entry to the chain inside this transaction.
    pub(crate) async fn audit(
        &mut self,
        actor: &str,
        action: &str,
        entity: &str,
        entity_id: Option<Id>,
        detail: Detail,
    ) -> Result<()> {
        let mut entry = AuditEntry {
            seq: self.head_seq + 1,
            at: now(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id,
            detail: serde_json::Value::Object(detail).to_string(),
            prev_hash: self.head_hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry_hash(&entry);
        insert_entry(self, &entry).await?;
        self.head_seq = entry.seq;
        self.head_hash = entry.hash;
        Ok(())
    }
}

/// Writes an entry as it is (used by import, which carries the original chain over).
pub(crate) async fn insert_entry(tx: &mut WriteTx<'_>, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(e.seq)
    .bind(e.at.clone())
    .bind(e.actor.clone())
    .bind(e.action.clone())
    .bind(e.entity.clone())
    .bind(e.entity_id)
    .bind(e.detail.clone())
    .bind(e.prev_hash.clone())
    .bind(e.hash.clone())
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

fn row_to_entry(r: &AnyRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.try_get("seq")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        detail: r.try_get("detail")?,
        prev_hash: r.try_get("prev_hash")?,
        hash: r.try_get("hash")?,
    })
}

const COLUMNS: &str = "seq, at, actor, action, entity, entity_id, detail, prev_hash, hash";

/// Checks a sequence of entries (in order, starting at seq 1) for a consistent chain.
pub fn verify_chain<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<i64, AuditBreak> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    for e in entries {
        if e.seq != expected_seq {
            return Err(AuditBreak { seq: e.seq, reason: format!("expected entry {expected_seq}") });
        }
        if e.prev_hash != prev {
            return Err(AuditBreak { seq: e.seq, reason: "previous hash does not match".into() });
        }
        if entry_hash(e) != e.hash {
            return Err(AuditBreak { seq: e.seq, reason: "entry was altered".into() });
        }
        prev = e.hash.clone();
        expected_seq += 1;
    }
    Ok(expected_seq - 1)
}

impl Store {
    /// Lists audit entries, newest first.
    pub async fn list_audit(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let mut sql = format!("SELECT {COLUMNS} FROM audit_log WHERE 1 = 1");
        let mut n = 0;
        if f.entity.is_some() {
            n += 1;
            sql.push_str(&format!(" AND entity = ${n}"));
        }
        if f.entity_id.is_some() {
            n += 1;
            sql.push_str(&format!(" AND entity_id = ${n}"));
        }
        if f.actor.is_some() {
            n += 1;
            sql.push_str(&format!(" AND actor = ${n}"));
        }
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${} OFFSET ${}", n + 1, n + 2));
        let mut q = sqlx::query(&sql);
        if let Some(e) = &f.entity {
            q = q.bind(e.clone());
        }
        if let Some(id) = f.entity_id {
            q = q.bind(id);
        }
        if let Some(a) = &f.actor {
            q = q.bind(a.clone());
        }
        let limit = if f.limit <= 0 { 100 } else { f.limit.min(10_000) };
        let rows = q.bind(limit).bind(f.offset.max(0)).fetch_all(self.pool()).await?;
        rows.iter().map(row_to_entry).collect()
    }

    /// All entries in chain order (for export and verification).
    pub async fn audit_chain(&self) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(row_to_entry).collect()
    }

    /// Verifies the whole chain and that its head matches; returns the number of entries.
    ///
    /// The head is read first and only entries up to it are checked, so a write committing
    /// meanwhile (a login, say) is not mistaken for tampering.
    pub async fn verify_audit(&self) -> Result<i64> {
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        let head_seq: i64 = head.try_get(0)?;
        let head_hash: String = head.try_get(1)?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE seq <= $1 ORDER BY seq"))
            .bind(head_seq)
            .fetch_all(self.pool())
            .await?;
        let chain = rows.iter().map(row_to_entry).collect::<Result<Vec<_>>>()?;
        let n = verify_chain(&chain).map_err(|b| StoreError::Corrupt {
            location: self.location().display(),
            detail: b.to_string(),
        })?;
        let last_hash = chain.last().map(|e| e.hash.as_str()).unwrap_or(GENESIS);
        if head_seq != n || head_hash != last_hash {
            return Err(StoreError::Corrupt {
                location: self.location().display(),
                detail: format!(
                    "audit log has {n} entries but its head says {head_seq}: entries were removed"
                ),
            });
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, prev: &str) -> AuditEntry {
        let mut e = AuditEntry {
            seq,
            at: "2026-11-25T00:00:00Z".into(),
            actor: "admin".into(),
            action: "asset.create".into(),
            entity: "asset".into(),
            entity_id: Some(seq),
            detail: "{}".into(),
            prev_hash: prev.into(),
            hash: String::new(),
        };
        e.hash = entry_hash(&e);
        e
    }

    #[test]
    fn chain_detects_tampering() {
        let a = entry(1, GENESIS);
        let b = entry(2, &a.hash);
        let c = entry(3, &b.hash);
        assert_eq!(verify_chain([&a, &b, &c]), Ok(3));
        let mut altered = b.clone();
        altered.actor = "someone".into();
        assert_eq!(verify_chain([&a, &altered, &c]).map_err(|e| e.seq), Err(2));
        assert_eq!(verify_chain([&a, &c]).map_err(|e| e.seq), Err(3));
    }
}
