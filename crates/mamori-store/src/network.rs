//! The network model: filtering policies, the whole facility as one `NetworkModel` (what the
//! diagram, the risk rules and the attack-path engine read), dated snapshots of it for the
//! yearly diff, the facility file (import reconciles by name, export writes names), and the
//! improvement plans saved from the what-if editor.

use std::collections::{BTreeMap, HashMap, HashSet};

use mamori_ingest::facility_file::FacilityDoc;
use mamori_model::network::{NetworkModel, Policy, PolicyAction, VulnFact, Zone};
use mamori_model::{Detail, Id};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::assets::write_asset;
use crate::inventory::{
    write_account, write_backup, write_connection, write_contact, write_contract, write_facility,
    write_segment, write_vendor,
};
use crate::util::now;
use crate::{Backend, Result, Store, StoreError, WriteTx};

fn row_policy(r: &AnyRow) -> Result<Policy> {
    let zone = |col: &str| -> Result<Zone> {
        let s: String = r.try_get(col)?;
        Zone::parse(&s).ok_or_else(|| StoreError::Format(format!("network_policies.{col}: `{s}`")))
    };
    let services: String = r.try_get("services")?;
    let action: String = r.try_get("action")?;
    Ok(Policy {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        gateway_id: r.try_get("gateway_id")?,
        from: zone("from_zone")?,
        to: zone("to_zone")?,
        services: services.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        action: if action == "deny" { PolicyAction::Deny } else { PolicyAction::Allow },
        position: r.try_get("position")?,
        notes: r.try_get("notes")?,
    })
}

/// Writes one policy, with a fresh id or inserting/replacing the given one.
pub(crate) async fn write_policy(tx: &mut WriteTx<'_>, id: Option<Id>, p: &Policy) -> Result<Id> {
    let cols = "name, gateway_id, from_zone, to_zone, services, action, position, notes";
    let sql = match id {
        Some(_) => format!(
            "INSERT INTO network_policies ({cols}, id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, gateway_id = excluded.gateway_id, \
             from_zone = excluded.from_zone, to_zone = excluded.to_zone, services = excluded.services, \
             action = excluded.action, position = excluded.position, notes = excluded.notes RETURNING id"
        ),
        None => format!("INSERT INTO network_policies ({cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"),
    };
    let q = sqlx::query(&sql)
        .bind(p.name.clone())
        .bind(p.gateway_id)
        .bind(p.from.code())
        .bind(p.to.code())
        .bind(p.services.join(","))
        .bind(p.action.code().to_owned())
        .bind(p.position)
        .bind(p.notes.clone());
    let q = match id {
        Some(id) => q.bind(id),
        None => q,
    };
    let row = q.fetch_one(&mut *tx.tx).await.map_err(|e| StoreError::from_write(e, "network_policies"))?;
    Ok(row.try_get(0)?)
}

/// What a facility-file import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FacilityApply {
    /// Per entity kind (`segments`, `assets` …): names added, updated, removed, kept (in the
    /// database, not in the file, not removed without `prune`).
    pub added: BTreeMap<String, Vec<String>>,
    pub updated: BTreeMap<String, Vec<String>>,
    pub removed: BTreeMap<String, Vec<String>>,
    pub kept: BTreeMap<String, Vec<String>>,
    pub dry_run: bool,
}

impl FacilityApply {
    fn note(map: &mut BTreeMap<String, Vec<String>>, kind: &str, name: &str) {
        map.entry(kind.to_owned()).or_default().push(name.to_owned());
    }

    pub fn count(map: &BTreeMap<String, Vec<String>>) -> usize {
        map.values().map(Vec::len).sum()
    }
}

/// An improvement plan (改善計画) saved from the what-if editor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct RiskPlan {
    pub id: Id,
    pub title: String,
    /// The what-if change specs (`mfa:4`, `disconnect:2` …).
    pub changes: Vec<String>,
    pub owner: Option<String>,
    pub due_date: Option<String>,
    /// `planned`, `in_progress`, `done`, `dropped`.
    pub status: String,
    pub before_score: f64,
    pub after_score: f64,
    /// What the simulation said when the plan was saved (goals and findings before/after).
    pub summary: Value,
    pub created_at: String,
    pub created_by: String,
}

pub const PLAN_STATUSES: [&str; 4] = ["planned", "in_progress", "done", "dropped"];

impl Store {
    /// Filtering policies in evaluation order.
    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows = sqlx::query(
            "SELECT id, name, gateway_id, from_zone, to_zone, services, action, position, notes \
             FROM network_policies ORDER BY position, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_policy).collect()
    }

    /// Adds a filtering policy.
    pub async fn create_policy(&self, actor: &str, p: &Policy) -> Result<Policy> {
        let mut tx = self.write_tx().await?;
        let id = write_policy(&mut tx, None, p).await?;
        let mut d = Detail::new();
        d.insert("from".into(), Value::String(p.from.code()));
        d.insert("to".into(), Value::String(p.to.code()));
        d.insert("action".into(), Value::String(p.action.code().into()));
        d.insert("services".into(), Value::String(p.services.join(",")));
        tx.audit(actor, "policy.create", "policy", Some(id), d).await?;
        tx.commit().await?;
        Ok(Policy { id, ..p.clone() })
    }

    /// Removes a filtering policy.
    pub async fn delete_policy(&self, actor: &str, id: Id) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("DELETE FROM network_policies WHERE id = $1").bind(id).execute(&mut *tx.tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "policy", id: id.to_string() });
        }
        tx.audit(actor, "policy.delete", "policy", Some(id), Detail::new()).await?;
        tx.commit().await
    }

    /// Open vulnerability findings as the risk engine needs them.
    async fn open_vuln_facts(&self) -> Result<(Vec<VulnFact>, bool)> {
        let cves: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_cves").fetch_one(self.pool()).await?;
        let rows = sqlx::query(
            "SELECT f.asset_id, f.vuln_id, f.priority, c.cvss_score, c.cvss_vector, c.description, \
             k.cve_id AS kev, k.ransomware, e.epss, k.name AS kev_name \
             FROM vuln_findings f \
             LEFT JOIN vuln_cves c ON c.id = f.vuln_id \
             LEFT JOIN vuln_kev k ON k.cve_id = f.vuln_id \
             LEFT JOIN vuln_epss e ON e.cve_id = f.vuln_id \
             WHERE f.gone_at IS NULL AND f.status IN ('open', 'in_progress') \
             ORDER BY f.asset_id, f.vuln_id",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let vector: Option<String> = r.try_get("cvss_vector")?;
            let kev: Option<String> = r.try_get("kev")?;
            let description: Option<String> = r.try_get("description")?;
            let kev_name: Option<String> = r.try_get("kev_name")?;
            let priority: f64 = r.try_get("priority")?;
            out.push(VulnFact {
                asset_id: r.try_get("asset_id")?,
                vuln_id: r.try_get("vuln_id")?,
                kev: kev.is_some(),
                ransomware: r.try_get::<Option<i64>, _>("ransomware")?.unwrap_or(0) != 0,
                cvss: r.try_get("cvss_score")?,
                epss: r.try_get("epss")?,
                network: vector.map(|v| v.contains("AV:N")),
                band: mamori_vuln::urgency::band(priority),
                title: kev_name.or_else(|| description.map(|d| d.chars().take(120).collect())),
            });
        }
        Ok((out, cves > 0))
    }

    /// The whole facility as one value, as of now.
    pub async fn network_model(&self) -> Result<NetworkModel> {
        let (vulns, vuln_data) = self.open_vuln_facts().await?;
        Ok(NetworkModel { vulns, vuln_data, date: crate::util::today_tokyo(), ..self.facility_doc().await?.into_model() })
    }

    /// Stores `model` as the snapshot of its day (the newest write of a day wins). Pages call
    /// this on every view: an unchanged model is recognised by its hash and not written again.
    pub async fn record_network_snapshot(&self, model: &NetworkModel) -> Result<()> {
        let json = serde_json::to_string(model).map_err(|e| StoreError::Format(e.to_string()))?;
        let sha = crate::auth::sha256_hex(&json);
        let stored: Option<String> = sqlx::query_scalar("SELECT sha256 FROM network_snapshots WHERE taken_on = $1")
            .bind(model.date.clone())
            .fetch_optional(self.pool())
            .await?;
        if stored.as_deref() == Some(sha.as_str()) {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO network_snapshots (taken_on, taken_at, sha256, model) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (taken_on) DO UPDATE SET taken_at = excluded.taken_at, sha256 = excluded.sha256, model = excluded.model",
        )
        .bind(model.date.clone())
        .bind(now())
        .bind(sha)
        .bind(json)
        .execute(&mut *tx.tx)
        .await?;
        tx.commit().await
    }

    /// The newest snapshot taken on or before `date` (YYYY-MM-DD), with its day.
    pub async fn network_snapshot_on(&self, date: &str) -> Result<Option<(String, NetworkModel)>> {
        let row = sqlx::query("SELECT taken_on, model FROM network_snapshots WHERE taken_on <= $1 ORDER BY taken_on DESC LIMIT 1")
            .bind(date.to_owned())
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let on: String = r.try_get(0)?;
        let text: String = r.try_get(1)?;
        let model = serde_json::from_str(&text).map_err(|e| StoreError::Format(format!("network_snapshots[{on}]: {e}")))?;
        Ok(Some((on, model)))
    }

    /// Days with a stored snapshot, newest first.
    pub async fn network_snapshot_days(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT taken_on FROM network_snapshots ORDER BY taken_on DESC").fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }

    /// The facility as a facility file's content.
    pub async fn facility_doc(&self) -> Result<FacilityDoc> {
        let mut assets = self.all_assets().await?;
        assets.sort_by_key(|a| a.id);
        Ok(FacilityDoc {
            facility: self.facility().await?,
            segments: self.list_segments().await?,
            vendors: self.list_vendors().await?,
            assets,
            connections: self.list_connections().await?,
            policies: self.list_policies().await?,
            accounts: self.list_accounts().await?,
            backups: self.list_backups().await?,
            contracts: self.list_contracts().await?,
            contacts: self.list_contacts().await?,
        })
    }

    /// Makes the database say what a facility file says, in one transaction.
    ///
    /// Entities are matched by name (accounts by user name and system, contracts by vendor and
    /// title, contacts by organization and name), so ids — and the findings, answers and
    /// history attached to them — survive a re-import. Connections, policies, accounts,
    /// backups, contracts and contacts absent from the file are removed (the file describes
    /// them completely); segments, assets and vendors absent from the file are removed only
    /// with `prune`, else kept and reported.
    pub async fn apply_facility(&self, actor: &str, doc: &FacilityDoc, prune: bool, dry_run: bool) -> Result<FacilityApply> {
        let mut out = FacilityApply { dry_run, ..FacilityApply::default() };
        let current = self.facility_doc().await?;
        let mut tx = self.write_tx().await?;
        if let Some(f) = &doc.facility {
            write_facility(&mut tx, f).await?;
        }
        // Local id → database id, per kind.
        #[allow(clippy::too_many_arguments)]
        fn plan<T>(
            out: &mut FacilityApply,
            kind: &str,
            new: &[T],
            old: &[T],
            key: impl Fn(&T) -> String,
            id: impl Fn(&T) -> Id,
            differs: impl Fn(&T, &T) -> bool,
            next: &mut Id,
        ) -> (HashMap<Id, Id>, Vec<(Id, String)>) {
            let by_key: HashMap<String, &T> = old.iter().map(|o| (key(o), o)).collect();
            let mut map = HashMap::new();
            let mut used = HashSet::new();
            for n in new {
                let k = key(n);
                match by_key.get(&k) {
                    Some(o) if used.insert(id(o)) => {
                        map.insert(id(n), id(o));
                        if differs(n, o) {
                            FacilityApply::note(&mut out.updated, kind, &k);
                        }
                    }
                    _ => {
                        *next += 1;
                        map.insert(id(n), *next);
                        FacilityApply::note(&mut out.added, kind, &k);
                    }
                }
            }
            let absent = old.iter().filter(|o| !used.contains(&id(o))).map(|o| (id(o), key(o))).collect();
            (map, absent)
        }
        let mut next = self.max_id(&mut tx, "segments").await?;
        let (seg, seg_absent) = plan(&mut out, "segments", &doc.segments, &current.segments, |s| s.name.clone(), |s| s.id, |a, b| !same_segment(a, b), &mut next);
        let mut next = self.max_id(&mut tx, "vendors").await?;
        let (ven, ven_absent) = plan(&mut out, "vendors", &doc.vendors, &current.vendors, |v| v.name.clone(), |v| v.id, |a, b| (&a.kind, &a.contact_name, &a.phone, &a.email) != (&b.kind, &b.contact_name, &b.phone, &b.email), &mut next);
        let mut next = self.max_id(&mut tx, "assets").await?;
        // Asset comparison happens after references are mapped (below).
        let (ast, ast_absent) = plan(&mut out, "assets", &doc.assets, &current.assets, |a| a.data.name.clone(), |a| a.id, |_, _| false, &mut next);
        let mut next = self.max_id(&mut tx, "external_connections").await?;
        let (con, con_absent) = plan(&mut out, "connections", &doc.connections, &current.connections, |c| c.name.clone(), |c| c.id, |_, _| false, &mut next);
        let map = |m: &HashMap<Id, Id>, id: Id| m.get(&id).copied().unwrap_or(id);
        let zone = |z: Zone| match z {
            Zone::Segment(i) => Zone::Segment(map(&seg, i)),
            Zone::Asset(i) => Zone::Asset(map(&ast, i)),
            Zone::Connection(i) => Zone::Connection(map(&con, i)),
            other => other,
        };
        let ts = now();
        // Removals first (names may be reused by the file), then writes in dependency order.
        let removable = |kind: &str| prune || !matches!(kind, "segments" | "assets" | "vendors");
        for (kind, table, absent) in [("assets", "assets", &ast_absent), ("connections", "external_connections", &con_absent)] {
            remove_absent(&mut tx, &mut out, kind, table, absent, removable(kind)).await?;
        }
        for s in &doc.segments {
            let id = map(&seg, s.id);
            write_segment(&mut tx, Some(id), &mamori_model::Segment { id, ..s.clone() }).await?;
        }
        for v in &doc.vendors {
            let id = map(&ven, v.id);
            write_vendor(&mut tx, Some(id), &mamori_model::Vendor { id, ..v.clone() }).await?;
        }
        let old_assets: HashMap<Id, &mamori_model::Asset> = current.assets.iter().map(|a| (a.id, a)).collect();
        for a in &doc.assets {
            let id = map(&ast, a.id);
            let mut data = a.data.clone();
            for i in &mut data.interfaces {
                i.segment_id = i.segment_id.map(|s| map(&seg, s));
            }
            match old_assets.get(&id) {
                Some(old) if old.data == data => {}
                Some(old) => {
                    write_asset(&mut tx, Some(id), &data, &old.created_at, &ts).await?;
                    FacilityApply::note(&mut out.updated, "assets", &data.name);
                }
                None => {
                    write_asset(&mut tx, Some(id), &data, &ts, &ts).await?;
                }
            }
        }
        // The rest is described completely by the file: replace.
        for table in ["network_policies", "backups", "contract_assets", "contracts", "account_assets", "accounts", "contacts"] {
            sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx.tx).await?;
        }
        let old_cons: HashMap<Id, &mamori_model::ExternalConnection> = current.connections.iter().map(|c| (c.id, c)).collect();
        for c in &doc.connections {
            let id = map(&con, c.id);
            let c = mamori_model::ExternalConnection {
                id,
                asset_id: c.asset_id.map(|x| map(&ast, x)),
                segment_id: c.segment_id.map(|x| map(&seg, x)),
                vendor_id: c.vendor_id.map(|x| map(&ven, x)),
                ..c.clone()
            };
            if old_cons.get(&id).is_some_and(|o| **o != c) {
                FacilityApply::note(&mut out.updated, "connections", &c.name);
            }
            write_connection(&mut tx, Some(id), &c).await?;
        }
        for (kind, table, absent) in [("segments", "segments", &seg_absent), ("vendors", "vendors", &ven_absent)] {
            remove_absent(&mut tx, &mut out, kind, table, absent, removable(kind)).await?;
        }
        diff_replaced(&mut out, "policies", &current.policies, &doc.policies, |p| p.name.clone().unwrap_or_else(|| format!("{} → {}", p.from.code(), p.to.code())));
        for p in &doc.policies {
            let p = Policy { gateway_id: p.gateway_id.map(|x| map(&ast, x)), from: zone(p.from), to: zone(p.to), ..p.clone() };
            write_policy(&mut tx, None, &p).await?;
        }
        diff_replaced(&mut out, "accounts", &current.accounts, &doc.accounts, |a| format!("{} ({})", a.username, a.system.clone().unwrap_or_default()));
        for a in &doc.accounts {
            let a = mamori_model::Account { asset_ids: a.asset_ids.iter().map(|x| map(&ast, *x)).collect(), ..a.clone() };
            write_account(&mut tx, None, &a).await?;
        }
        diff_replaced(&mut out, "backups", &current.backups, &doc.backups, |b| b.name.clone());
        for b in &doc.backups {
            write_backup(&mut tx, None, &mamori_model::Backup { asset_id: b.asset_id.map(|x| map(&ast, x)), ..b.clone() }).await?;
        }
        diff_replaced(&mut out, "contracts", &current.contracts, &doc.contracts, |c| c.title.clone());
        for c in &doc.contracts {
            let c = mamori_model::Contract { vendor_id: map(&ven, c.vendor_id), asset_ids: c.asset_ids.iter().map(|x| map(&ast, *x)).collect(), ..c.clone() };
            write_contract(&mut tx, None, &c).await?;
        }
        diff_replaced(&mut out, "contacts", &current.contacts, &doc.contacts, |c| format!("{} {}", c.organization, c.name.clone().unwrap_or_default()).trim().to_owned());
        for c in &doc.contacts {
            write_contact(&mut tx, None, c).await?;
        }
        if self.backend() == Backend::Postgres {
            for t in ["segments", "vendors", "assets", "external_connections"] {
                sqlx::query(&format!(
                    "SELECT CAST(setval(pg_get_serial_sequence('{t}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false) AS BIGINT)"
                ))
                .fetch_one(&mut *tx.tx)
                .await?;
            }
        }
        let mut d = Detail::new();
        for (k, m) in [("added", &out.added), ("updated", &out.updated), ("removed", &out.removed), ("kept", &out.kept)] {
            d.insert(k.into(), serde_json::to_value(m).unwrap_or(Value::Null));
        }
        tx.audit(actor, "facility.import", "facility", Some(1), d).await?;
        if dry_run {
            tx.tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(out)
    }

    async fn max_id(&self, tx: &mut WriteTx<'_>, table: &str) -> Result<Id> {
        let n: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(id) FROM {table}")).fetch_one(&mut *tx.tx).await?;
        Ok(n.unwrap_or(0))
    }

    /// Saves an improvement plan.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_plan(
        &self,
        actor: &str,
        title: &str,
        changes: &[String],
        owner: Option<&str>,
        due_date: Option<&str>,
        before_score: f64,
        after_score: f64,
        summary: &Value,
    ) -> Result<RiskPlan> {
        if title.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("title", "empty").into());
        }
        if changes.is_empty() {
            return Err(mamori_model::ValidationError::new("changes", "empty").into());
        }
        if let Some(d) = due_date
            && d.parse::<jiff::civil::Date>().is_err()
        {
            return Err(mamori_model::ValidationError::new("due_date", "invalid_date").into());
        }
        let mut tx = self.write_tx().await?;
        let at = now();
        let id: Id = sqlx::query(
            "INSERT INTO risk_plans (title, changes, owner, due_date, status, summary, created_at, created_by) \
             VALUES ($1, $2, $3, $4, 'planned', $5, $6, $7) RETURNING id",
        )
        .bind(title.trim().to_owned())
        .bind(serde_json::to_string(changes).unwrap_or_default())
        .bind(owner.map(str::to_owned))
        .bind(due_date.map(str::to_owned))
        .bind({
            let mut s = summary.clone();
            if let Value::Object(m) = &mut s {
                m.insert("before_score".into(), Value::from(before_score));
                m.insert("after_score".into(), Value::from(after_score));
            }
            s.to_string()
        })
        .bind(at.clone())
        .bind(actor.to_owned())
        .fetch_one(&mut *tx.tx)
        .await?
        .try_get(0)?;
        let mut d = Detail::new();
        d.insert("title".into(), Value::String(title.to_owned()));
        d.insert("changes".into(), serde_json::to_value(changes).unwrap_or(Value::Null));
        tx.audit(actor, "plan.create", "plan", Some(id), d).await?;
        tx.commit().await?;
        self.plan(id).await
    }

    pub async fn plan(&self, id: Id) -> Result<RiskPlan> {
        self.plans().await?.into_iter().find(|p| p.id == id).ok_or(StoreError::Missing { entity: "plan", id: id.to_string() })
    }

    /// Improvement plans, newest first.
    pub async fn plans(&self) -> Result<Vec<RiskPlan>> {
        let rows = sqlx::query(
            "SELECT id, title, changes, owner, due_date, status, summary, created_at, created_by \
             FROM risk_plans ORDER BY id DESC",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let changes: String = r.try_get("changes")?;
                let summary: String = r.try_get("summary")?;
                let summary: Value = serde_json::from_str(&summary).unwrap_or(Value::Null);
                let score = |k: &str| summary.get(k).and_then(Value::as_f64).unwrap_or(0.0);
                Ok(RiskPlan {
                    id: r.try_get("id")?,
                    title: r.try_get("title")?,
                    changes: serde_json::from_str(&changes).unwrap_or_default(),
                    owner: r.try_get("owner")?,
                    due_date: r.try_get("due_date")?,
                    status: r.try_get("status")?,
                    before_score: score("before_score"),
                    after_score: score("after_score"),
                    summary: summary.clone(),
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                })
            })
            .collect()
    }

    /// Moves a plan to `status` (one of [`PLAN_STATUSES`]).
    pub async fn set_plan_status(&self, actor: &str, id: Id, status: &str) -> Result<()> {
        if !PLAN_STATUSES.contains(&status) {
            return Err(mamori_model::ValidationError::new("status", "unknown").into());
        }
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE risk_plans SET status = $1 WHERE id = $2").bind(status.to_owned()).bind(id).execute(&mut *tx.tx).await?.rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "plan", id: id.to_string() });
        }
        let mut d = Detail::new();
        d.insert("status".into(), Value::String(status.to_owned()));
        tx.audit(actor, "plan.status", "plan", Some(id), d).await?;
        tx.commit().await
    }
}

/// Deletes the rows the file no longer lists (`remove`), or reports them as kept.
async fn remove_absent(tx: &mut WriteTx<'_>, out: &mut FacilityApply, kind: &str, table: &str, absent: &[(Id, String)], remove: bool) -> Result<()> {
    for (id, name) in absent {
        if remove {
            sqlx::query(&format!("DELETE FROM {table} WHERE id = $1")).bind(*id).execute(&mut *tx.tx).await?;
            FacilityApply::note(&mut out.removed, kind, name);
        } else {
            FacilityApply::note(&mut out.kept, kind, name);
        }
    }
    Ok(())
}

fn same_segment(a: &mamori_model::Segment, b: &mamori_model::Segment) -> bool {
    (&a.purpose, &a.cidr, &a.vlan, &a.description) == (&b.purpose, &b.cidr, &b.vlan, &b.description)
}

/// For kinds the file replaces wholesale: what was added and removed, by display name.
fn diff_replaced<T>(out: &mut FacilityApply, kind: &str, old: &[T], new: &[T], name: impl Fn(&T) -> String) {
    let old_names: Vec<String> = old.iter().map(&name).collect();
    let new_names: Vec<String> = new.iter().map(&name).collect();
    for n in &new_names {
        if !old_names.contains(n) {
            FacilityApply::note(&mut out.added, kind, n);
        }
    }
    for o in &old_names {
        if !new_names.contains(o) {
            FacilityApply::note(&mut out.removed, kind, o);
        }
    }
}
