//! The export format (`mamori db export` / `db import` / `db copy`) and the import that loads it.
//!
//! A snapshot is one JSON document carrying a whole facility: profile, segments, assets (with
//! interfaces and software), vendors, contracts, accounts, external connections, contacts,
//! users (with their password hashes) and API tokens (hashes only), and the audit chain. Ids are
//! kept, so references survive the trip. The format is documented in `docs/export-format.md`;
//! `format_version` rises with any change that an older mamori could not read.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;

use mamori_model::{
    Account, Backup, Asset, AuditEntry, Contact, Contract, Detail, ExternalConnection, Facility, Id,
    Segment, User, Vendor,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::inventory::{
    write_account, write_backup, write_contact, write_connection, write_contract, write_facility, write_segment,
    write_vendor,
};
use crate::util::{b2i, now};
use crate::{Backend, Result, Store, StoreError, assets::write_asset, audit};

pub const FORMAT_NAME: &str = "mamori-export";
pub const FORMAT_VERSION: i64 = 1;

/// A user as exported: the account plus its password hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotUser {
    #[serde(flatten)]
    pub user: User,
    pub password_hash: String,
}

/// An API token as exported: never the secret, only its hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotToken {
    pub id: Id,
    pub user_id: Id,
    pub name: String,
    pub token_hash: String,
    pub created_at: String,
    #[serde(default)]
    pub revoked: bool,
}

/// A whole facility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub format_version: i64,
    #[serde(default)]
    pub exported_at: Option<String>,
    pub facility: Facility,
    #[serde(default)]
    pub segments: Vec<Segment>,
    #[serde(default)]
    pub assets: Vec<Asset>,
    #[serde(default)]
    pub vendors: Vec<Vendor>,
    #[serde(default)]
    pub contracts: Vec<Contract>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Absent in exports before schema 4.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<Backup>,
    #[serde(default)]
    pub external_connections: Vec<ExternalConnection>,
    /// Filtering policies. Absent in exports before schema 6.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<mamori_model::network::Policy>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub users: Vec<SnapshotUser>,
    #[serde(default)]
    pub api_tokens: Vec<SnapshotToken>,
    #[serde(default)]
    pub audit_log: Vec<AuditEntry>,
    /// Inventory-import history: `imports`, `asset_sources`, `discovered_devices`,
    /// `stocktakes`, each a list of rows (column → value). Absent in exports of schema 1.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub history: BTreeMap<String, Vec<serde_json::Map<String, Value>>>,
}

/// The history tables a snapshot carries, with their columns: `true` for integer columns.
const HISTORY_TABLES: &[(&str, &[(&str, bool)])] = &[
    ("network_snapshots", &[("id", true), ("taken_on", false), ("taken_at", false), ("sha256", false), ("model", false)]),
    (
        "risk_plans",
        &[("id", true), ("title", false), ("changes", false), ("owner", false), ("due_date", false), ("status", false), ("summary", false), ("created_at", false), ("created_by", false)],
    ),
    (
        "imports",
        &[("id", true), ("at", false), ("actor", false), ("kind", false), ("file_name", false), ("sha256", false), ("taken_at", false), ("summary", false)],
    ),
    (
        "asset_sources",
        &[("id", true), ("asset_id", true), ("import_id", true), ("kind", false), ("line", true), ("observed_at", false), ("match_reason", false), ("data", false), ("changes", false)],
    ),
    (
        "discovered_devices",
        &[("id", true), ("status", false), ("mac", false), ("ip", false), ("hostname", false), ("client_id", false), ("mac_vendor", false), ("segment_id", true), ("first_seen", false), ("last_seen", false), ("sources", false), ("data", false), ("asset_id", true), ("decided_by", false), ("decided_at", false)],
    ),
    (
        "checklist_editions",
        &[("id", false), ("content", false), ("file_name", false), ("sha256", false), ("loaded_at", false), ("loaded_by", false)],
    ),
    (
        "checklist_answers",
        &[("id", true), ("edition", false), ("sheet", false), ("vendor_id", true), ("item_id", false), ("device_class", false), ("round", true), ("answer", false), ("checked_on", false), ("target_date", false), ("maturity", true), ("comment", false), ("evidence", false), ("answered_by", false), ("recorded_at", false)],
    ),
    (
        "checklist_files",
        &[("id", true), ("answer_id", true), ("file_name", false), ("size", true), ("sha256", false), ("content", false), ("uploaded_by", false), ("uploaded_at", false)],
    ),
    (
        "responsibilities",
        &[("id", true), ("topic", false), ("facility", true), ("vendor_ids", false), ("not_applicable", true), ("note", false), ("updated_by", false), ("updated_at", false)],
    ),
    (
        "stocktakes",
        &[("id", true), ("at", false), ("actor", false), ("days", true), ("summary", false), ("report", false)],
    ),
    (
        "asset_cpes",
        &[("id", true), ("asset_id", true), ("cpe", false), ("origin", false), ("state", false), ("basis", false), ("decided_by", false), ("decided_at", false)],
    ),
    (
        // Findings themselves are derived by matching; their statuses live on in this history,
        // from which matching restores them (see `findings.rs`).
        "vuln_finding_history",
        &[("id", true), ("asset_id", true), ("vuln_id", false), ("at", false), ("actor", false), ("status", false), ("justification", false), ("reason", false)],
    ),
];

/// Largest snapshot accepted (a facility of 100,000 assets is far below this).
pub const MAX_SNAPSHOT_BYTES: u64 = 512 * 1024 * 1024;

impl Snapshot {
    /// Reads and checks a snapshot. `name` is used in messages (the file's path).
    pub fn parse(name: &str, reader: impl Read) -> Result<Snapshot> {
        let mut buf = Vec::new();
        reader
            .take(MAX_SNAPSHOT_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| StoreError::Format(format!("{name}: {e}")))?;
        if buf.len() as u64 > MAX_SNAPSHOT_BYTES {
            return Err(StoreError::Format(format!("{name}: larger than {MAX_SNAPSHOT_BYTES} bytes")));
        }
        Snapshot::parse_bytes(name, &buf)
    }

    pub fn parse_bytes(name: &str, bytes: &[u8]) -> Result<Snapshot> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        // Check the header first so that a wrong file gets "not a mamori export", not a
        // complaint about some missing field.
        let probe: Value = serde_json::from_slice(bytes).map_err(|e| {
            StoreError::Format(format!("{name}: line {}, column {}: {e}", e.line(), e.column()))
        })?;
        match probe.get("format").and_then(Value::as_str) {
            Some(FORMAT_NAME) => {}
            _ => {
                return Err(StoreError::Format(format!(
                    "{name}: not a mamori export (field `format` must be \"{FORMAT_NAME}\")"
                )));
            }
        }
        match probe.get("format_version").and_then(Value::as_i64) {
            Some(v) if v == FORMAT_VERSION => {}
            Some(v) if v > FORMAT_VERSION => {
                return Err(StoreError::Format(format!(
                    "{name}: format_version {v} is newer than this mamori reads ({FORMAT_VERSION})"
                )));
            }
            _ => {
                return Err(StoreError::Format(format!(
                    "{name}: field `format_version` must be {FORMAT_VERSION}"
                )));
            }
        }
        let snap: Snapshot = serde_json::from_value(probe)
            .map_err(|e| StoreError::Format(format!("{name}: {}", describe_serde(&e))))?;
        snap.validate(name)?;
        Ok(snap)
    }

    /// Reference and value checks, naming the entity and id of the first problem.
    pub fn validate(&self, name: &str) -> Result<()> {
        let err = |what: String| Err(StoreError::Format(format!("{name}: {what}")));
        fn unique<'a>(ids: impl Iterator<Item = &'a Id>) -> Option<Id> {
            let mut seen = HashSet::new();
            ids.into_iter().find(|id| !seen.insert(**id)).copied()
        }
        if self.facility.name.trim().is_empty() {
            return err("facility.name is empty".into());
        }
        let segments: HashSet<Id> = self.segments.iter().map(|s| s.id).collect();
        let assets: HashSet<Id> = self.assets.iter().map(|a| a.id).collect();
        let vendors: HashSet<Id> = self.vendors.iter().map(|v| v.id).collect();
        let users: HashSet<Id> = self.users.iter().map(|u| u.user.id).collect();
        for (what, dup) in [
            ("segments", unique(self.segments.iter().map(|s| &s.id))),
            ("assets", unique(self.assets.iter().map(|a| &a.id))),
            ("vendors", unique(self.vendors.iter().map(|v| &v.id))),
            ("contracts", unique(self.contracts.iter().map(|c| &c.id))),
            ("accounts", unique(self.accounts.iter().map(|a| &a.id))),
            ("backups", unique(self.backups.iter().map(|b| &b.id))),
            ("external_connections", unique(self.external_connections.iter().map(|c| &c.id))),
            ("contacts", unique(self.contacts.iter().map(|c| &c.id))),
            ("users", unique(self.users.iter().map(|u| &u.user.id))),
        ] {
            if let Some(id) = dup {
                return err(format!("{what}: id {id} appears twice"));
            }
        }
        for a in &self.assets {
            if let Err(e) = a.data.validate() {
                return err(format!("assets[id={}].{}: {}", a.id, e.field, e.reason));
            }
            for i in &a.interfaces_segment_ids() {
                if !segments.contains(i) {
                    return err(format!("assets[id={}].interfaces: unknown segment_id {i}", a.id));
                }
            }
        }
        for c in &self.contracts {
            if !vendors.contains(&c.vendor_id) {
                return err(format!("contracts[id={}].vendor_id: unknown vendor {}", c.id, c.vendor_id));
            }
            if let Some(x) = c.asset_ids.iter().find(|x| !assets.contains(x)) {
                return err(format!("contracts[id={}].asset_ids: unknown asset {x}", c.id));
            }
        }
        for a in &self.accounts {
            if let Some(x) = a.asset_ids.iter().find(|x| !assets.contains(x)) {
                return err(format!("accounts[id={}].asset_ids: unknown asset {x}", a.id));
            }
        }
        for b in &self.backups {
            if let Some(x) = b.asset_id.filter(|x| !assets.contains(x)) {
                return err(format!("backups[id={}].asset_id: unknown asset {x}", b.id));
            }
        }
        for c in &self.external_connections {
            if let Some(x) = c.asset_id.filter(|x| !assets.contains(x)) {
                return err(format!("external_connections[id={}].asset_id: unknown asset {x}", c.id));
            }
            if let Some(x) = c.vendor_id.filter(|x| !vendors.contains(x)) {
                return err(format!("external_connections[id={}].vendor_id: unknown vendor {x}", c.id));
            }
            if let Some(x) = c.segment_id.filter(|x| !segments.contains(x)) {
                return err(format!("external_connections[id={}].segment_id: unknown segment {x}", c.id));
            }
        }
        let connections: HashSet<Id> = self.external_connections.iter().map(|c| c.id).collect();
        if let Some(id) = unique(self.policies.iter().map(|p| &p.id)) {
            return err(format!("policies: id {id} appears twice"));
        }
        for p in &self.policies {
            for (end, z) in [("from", p.from), ("to", p.to)] {
                let known = match z {
                    mamori_model::network::Zone::Segment(x) => segments.contains(&x),
                    mamori_model::network::Zone::Asset(x) => assets.contains(&x),
                    mamori_model::network::Zone::Connection(x) => connections.contains(&x),
                    _ => true,
                };
                if !known {
                    return err(format!("policies[id={}].{end}: unknown {}", p.id, z.code()));
                }
            }
            if let Some(x) = p.gateway_id.filter(|x| !assets.contains(x)) {
                return err(format!("policies[id={}].gateway_id: unknown asset {x}", p.id));
            }
        }
        for u in &self.users {
            if let Some(x) = u.user.vendor_id.filter(|x| !vendors.contains(x)) {
                return err(format!("users[id={}].vendor_id: unknown vendor {x}", u.user.id));
            }
        }
        for t in &self.api_tokens {
            if !users.contains(&t.user_id) {
                return err(format!("api_tokens[id={}].user_id: unknown user {}", t.id, t.user_id));
            }
        }
        if let Err(b) = audit::verify_chain(&self.audit_log) {
            return err(format!("audit_log: {b}"));
        }
        Ok(())
    }
}

trait SegmentRefs {
    fn interfaces_segment_ids(&self) -> Vec<Id>;
}

impl SegmentRefs for Asset {
    fn interfaces_segment_ids(&self) -> Vec<Id> {
        self.data.interfaces.iter().filter_map(|i| i.segment_id).collect()
    }
}

fn describe_serde(e: &serde_json::Error) -> String {
    e.to_string()
}

/// Tables whose identity sequence must follow explicit ids on PostgreSQL.
const IDENTITY_TABLES: &[&str] = &[
    "network_policies",
    "network_snapshots",
    "risk_plans",
    "asset_cpes",
    "vuln_finding_history",
    "segments",
    "assets",
    "vendors",
    "contracts",
    "accounts",
    "backups",
    "checklist_answers",
    "checklist_files",
    "responsibilities",
    "external_connections",
    "contacts",
    "users",
    "api_tokens",
    "imports",
    "asset_sources",
    "discovered_devices",
    "stocktakes",
];

impl Store {
    /// Everything in the database, as one snapshot.
    pub async fn export_snapshot(&self) -> Result<Snapshot> {
        let facility = self.facility().await?.ok_or_else(|| {
            StoreError::Format("the database has no facility yet (run `mamori init`)".into())
        })?;
        let mut assets = self.list_assets(&crate::AssetQuery::default()).await?.items;
        assets.sort_by_key(|a| a.id);
        let hashes = self.user_password_hashes().await?;
        let users = self
            .list_users()
            .await?
            .into_iter()
            .map(|user| {
                let password_hash = hashes
                    .iter()
                    .find(|(id, _)| *id == user.id)
                    .map(|(_, h)| h.clone())
                    .unwrap_or_default();
                SnapshotUser { user, password_hash }
            })
            .collect();
        let token_rows = sqlx::query(
            "SELECT id, user_id, name, token_hash, created_at, revoked FROM api_tokens ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let api_tokens = token_rows
            .iter()
            .map(|r| {
                Ok(SnapshotToken {
                    id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    name: r.try_get(2)?,
                    token_hash: r.try_get(3)?,
                    created_at: r.try_get(4)?,
                    revoked: r.try_get::<i64, _>(5)? != 0,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Snapshot {
            format: FORMAT_NAME.to_owned(),
            format_version: FORMAT_VERSION,
            exported_at: Some(now()),
            facility,
            segments: self.list_segments().await?,
            assets,
            vendors: self.list_vendors().await?,
            contracts: self.list_contracts().await?,
            accounts: self.list_accounts().await?,
            backups: self.list_backups().await?,
            external_connections: self.list_connections().await?,
            policies: self.list_policies().await?,
            contacts: self.list_contacts().await?,
            users,
            api_tokens,
            audit_log: self.audit_chain().await?,
            history: self.export_history().await?,
        })
    }

    async fn export_history(&self) -> Result<BTreeMap<String, Vec<serde_json::Map<String, Value>>>> {
        let mut out = BTreeMap::new();
        for (table, cols) in HISTORY_TABLES {
            let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
            let rows = sqlx::query(&format!("SELECT {} FROM {table} ORDER BY id", names.join(", ")))
                .fetch_all(self.pool())
                .await?;
            let mut list = Vec::with_capacity(rows.len());
            for r in &rows {
                let mut m = serde_json::Map::new();
                for (i, (c, int)) in cols.iter().enumerate() {
                    let v = if *int {
                        r.try_get::<Option<i64>, _>(i)?.map(Value::from).unwrap_or(Value::Null)
                    } else {
                        r.try_get::<Option<String>, _>(i)?.map(Value::String).unwrap_or(Value::Null)
                    };
                    m.insert((*c).to_owned(), v);
                }
                list.push(m);
            }
            if !list.is_empty() {
                out.insert((*table).to_owned(), list);
            }
        }
        Ok(out)
    }

    /// What would block an import: names of the non-empty tables it would write into.
    /// Runs inside the import's transaction, after the write lock is taken.
    async fn occupied(tx: &mut crate::WriteTx<'_>, snap: &Snapshot) -> Result<Vec<&'static str>> {
        let mut tables = vec![
            "segments",
            "assets",
            "vendors",
            "contracts",
            "accounts",
            "backups",
            "external_connections",
            "network_policies",
            "contacts",
        ];
        if !snap.users.is_empty() {
            tables.push("users");
        }
        if !snap.audit_log.is_empty() {
            tables.push("audit_log");
        }
        let mut out = Vec::new();
        for t in tables {
            let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
                .fetch_one(&mut *tx.tx)
                .await?;
            if n > 0 {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Loads a snapshot into an empty database, in one transaction.
    ///
    /// The snapshot's audit chain is carried over as it is and one `action` entry is appended.
    pub async fn import_snapshot(&self, actor: &str, snap: &Snapshot, action: &str) -> Result<ImportSummary> {
        snap.validate("snapshot")?;
        let mut tx = self.write_tx().await?;
        let occupied = Self::occupied(&mut tx, snap).await?;
        if !occupied.is_empty() {
            return Err(StoreError::NotEmpty(occupied.join(", ")));
        }
        for e in &snap.audit_log {
            audit::insert_entry(&mut tx, e).await?;
            tx.head_seq = e.seq;
            tx.head_hash = e.hash.clone();
        }
        write_facility(&mut tx, &snap.facility).await?;
        for s in &snap.segments {
            write_segment(&mut tx, Some(s.id), s).await?;
        }
        let ts = now();
        for a in &snap.assets {
            let created = if a.created_at.is_empty() { ts.as_str() } else { a.created_at.as_str() };
            let updated = if a.updated_at.is_empty() { created } else { a.updated_at.as_str() };
            write_asset(&mut tx, Some(a.id), &a.data, created, updated).await?;
        }
        for v in &snap.vendors {
            write_vendor(&mut tx, Some(v.id), v).await?;
        }
        for c in &snap.contracts {
            write_contract(&mut tx, Some(c.id), c).await?;
        }
        for a in &snap.accounts {
            write_account(&mut tx, Some(a.id), a).await?;
        }
        for c in &snap.external_connections {
            write_connection(&mut tx, Some(c.id), c).await?;
        }
        for b in &snap.backups {
            write_backup(&mut tx, Some(b.id), b).await?;
        }
        for p in &snap.policies {
            crate::network::write_policy(&mut tx, Some(p.id), p).await?;
        }
        for c in &snap.contacts {
            write_contact(&mut tx, Some(c.id), c).await?;
        }
        for u in &snap.users {
            sqlx::query(
                "INSERT INTO users (id, username, display_name, role, vendor_id, password_hash, \
                 disabled, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(u.user.id)
            .bind(u.user.username.clone())
            .bind(u.user.display_name.clone())
            .bind(u.user.role.code())
            .bind(u.user.vendor_id)
            .bind(u.password_hash.clone())
            .bind(b2i(u.user.disabled))
            .bind(u.user.created_at.clone())
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| StoreError::from_write(e, &format!("user {}", u.user.username)))?;
        }
        for t in &snap.api_tokens {
            sqlx::query(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, revoked) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.id)
            .bind(t.user_id)
            .bind(t.name.clone())
            .bind(t.token_hash.clone())
            .bind(t.created_at.clone())
            .bind(b2i(t.revoked))
            .execute(&mut *tx.tx)
            .await?;
        }
        for (table, cols) in HISTORY_TABLES {
            let Some(rows) = snap.history.get(*table) else { continue };
            let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                names.join(", "),
                crate::util::placeholders(1, names.len())
            );
            for row in rows {
                let mut q = sqlx::query(&sql);
                for (c, int) in cols.iter() {
                    let v = row.get(*c).unwrap_or(&Value::Null);
                    q = if *int {
                        q.bind(v.as_i64())
                    } else {
                        q.bind(v.as_str().map(str::to_owned))
                    };
                }
                q.execute(&mut *tx.tx).await.map_err(|e| {
                    StoreError::Format(format!("{table}: {e}"))
                })?;
            }
        }
        crate::keys::fill_queue_host_keys(&mut tx.tx).await?;
        if self.backend() == Backend::Postgres {
            for t in IDENTITY_TABLES {
                sqlx::query(&format!(
                    "SELECT CAST(setval(pg_get_serial_sequence('{t}', 'id'), \
                     (SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false) AS BIGINT)"
                ))
                .fetch_one(&mut *tx.tx)
                .await?;
            }
        }
        let summary = ImportSummary {
            segments: snap.segments.len(),
            assets: snap.assets.len(),
            vendors: snap.vendors.len(),
            contracts: snap.contracts.len(),
            accounts: snap.accounts.len(),
            external_connections: snap.external_connections.len(),
            contacts: snap.contacts.len(),
            users: snap.users.len(),
            audit_entries: snap.audit_log.len(),
        };
        let detail = match serde_json::to_value(&summary) {
            Ok(Value::Object(m)) => m,
            _ => Detail::new(),
        };
        tx.audit(actor, action, "facility", Some(1), detail).await?;
        tx.commit().await?;
        // Fresh statistics so the query planner knows the tables' real sizes.
        sqlx::query("ANALYZE").execute(self.pool()).await?;
        Ok(summary)
    }
}

/// How much an import brought in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub segments: usize,
    pub assets: usize,
    pub vendors: usize,
    pub contracts: usize,
    pub accounts: usize,
    pub external_connections: usize,
    pub contacts: usize,
    pub users: usize,
    pub audit_entries: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_files_get_clear_errors() {
        let e = Snapshot::parse_bytes("x.json", b"{\"format\": \"other\"}").unwrap_err();
        assert!(e.to_string().contains("not a mamori export"), "{e}");
        let e = Snapshot::parse_bytes("x.json", b"{\n\"format\": ").unwrap_err();
        assert!(e.to_string().contains("x.json: line 2"), "{e}");
        let e = Snapshot::parse_bytes("x.json", b"{\"format\":\"mamori-export\",\"format_version\":99}")
            .unwrap_err();
        assert!(e.to_string().contains("newer"), "{e}");
    }

    #[test]
    fn dangling_references_are_named() {
        let doc = r#"{"format":"mamori-export","format_version":1,
            "facility":{"name":"x","kind":"clinic"},
            "assets":[{"id":1,"name":"pc","kind":"pc","interfaces":[{"segment_id":9}]}]}"#;
        let e = Snapshot::parse_bytes("f.json", doc.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("assets[id=1].interfaces: unknown segment_id 9"), "{e}");
    }
}
