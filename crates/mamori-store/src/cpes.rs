//! CPE names of assets beyond their imported software list: suggestions made from the ledger's
//! maker, model, OS and version (which the manager confirms or rejects), and names entered by
//! hand. Every decision is audited.

use mamori_model::{AssetKind, Detail, Id};
use mamori_vuln::cpe::Cpe;
use mamori_vuln::suggest::{self, DeviceNames};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::util::now;
use crate::{Result, Store, StoreError};

/// One CPE name of an asset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AssetCpe {
    pub asset_id: Id,
    pub asset_name: String,
    pub cpe: String,
    /// `software` (from an import: scan, SBOM, ledger), `suggested`, `manual`.
    pub origin: String,
    /// `confirmed`, `suggested`, `rejected`.
    pub state: String,
    /// What a suggestion was made from.
    pub basis: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

fn appliance(kind: AssetKind) -> bool {
    !matches!(kind, AssetKind::Pc | AssetKind::Server | AssetKind::Mobile | AssetKind::Unknown)
}

impl Store {
    /// Suggests CPE names for every asset that has none of its own for that part (OS/firmware,
    /// hardware). Existing rows (confirmed, rejected or suggested) are left alone. Returns how
    /// many suggestions were added.
    pub async fn suggest_cpes(&self, actor: &str) -> Result<u64> {
        let assets = sqlx::query("SELECT id, kind, vendor, product, model, os, os_version FROM assets ORDER BY id").fetch_all(self.pool()).await?;
        let software = sqlx::query("SELECT asset_id, cpe FROM software WHERE cpe IS NOT NULL").fetch_all(self.pool()).await?;
        let existing = sqlx::query("SELECT asset_id, cpe FROM asset_cpes").fetch_all(self.pool()).await?;
        let mut have: std::collections::BTreeSet<(Id, String)> = std::collections::BTreeSet::new();
        let mut parts: std::collections::BTreeSet<(Id, String)> = std::collections::BTreeSet::new();
        for r in software.iter().chain(existing.iter()) {
            let id: Id = r.try_get(0)?;
            let c: String = r.try_get(1)?;
            if let Ok(cpe) = Cpe::parse(&c) {
                let fs = cpe.to_fs();
                if let Some(part) = fs.get(8..9) {
                    parts.insert((id, part.to_owned()));
                }
                have.insert((id, fs));
            }
        }
        let mut add = Vec::new();
        for r in &assets {
            let id: Id = r.try_get(0)?;
            let kind: String = r.try_get(1)?;
            let kind: AssetKind = kind.parse().unwrap_or(AssetKind::Unknown);
            let text = |i: usize| -> Result<Option<String>> { Ok(r.try_get(i)?) };
            let (vendor, product, model, os, os_version) = (text(2)?, text(3)?, text(4)?, text(5)?, text(6)?);
            let names = DeviceNames {
                vendor: vendor.as_deref(),
                product: product.as_deref(),
                model: model.as_deref(),
                os: os.as_deref(),
                os_version: os_version.as_deref(),
                appliance: appliance(kind),
            };
            for s in suggest::suggest(&names) {
                let part = s.cpe.get(8..9).unwrap_or_default().to_owned();
                // The import already names this part (an SBOM, a scan): no guess over a fact.
                if have.contains(&(id, s.cpe.clone())) || parts.contains(&(id, part)) {
                    continue;
                }
                add.push((id, s));
            }
        }
        if add.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let at = now();
        for (id, s) in &add {
            sqlx::query("INSERT INTO asset_cpes (asset_id, cpe, origin, state, basis, decided_by, decided_at) VALUES ($1, $2, 'suggested', 'suggested', $3, NULL, $4) ON CONFLICT DO NOTHING")
                .bind(*id)
                .bind(s.cpe.clone())
                .bind(s.basis.clone())
                .bind(at.clone())
                .execute(&mut *tx.tx)
                .await?;
        }
        let mut d = Detail::new();
        d.insert("suggested".into(), Value::from(add.len()));
        tx.audit(actor, "cpe.suggest", "asset", None, d).await?;
        tx.commit().await?;
        Ok(add.len() as u64)
    }

    /// CPE names of one asset or of all, imported ones first.
    pub async fn list_asset_cpes(&self, asset: Option<Id>) -> Result<Vec<AssetCpe>> {
        let mut out = Vec::new();
        let rows = sqlx::query("SELECT s.asset_id, a.name, s.cpe FROM software s JOIN assets a ON a.id = s.asset_id WHERE s.cpe IS NOT NULL ORDER BY s.asset_id, s.pos")
            .fetch_all(self.pool())
            .await?;
        for r in rows {
            let id: Id = r.try_get(0)?;
            if asset.is_some_and(|a| a != id) {
                continue;
            }
            out.push(AssetCpe { asset_id: id, asset_name: r.try_get(1)?, cpe: r.try_get(2)?, origin: "software".into(), state: "confirmed".into(), basis: String::new(), decided_by: None, decided_at: None });
        }
        let rows = sqlx::query("SELECT c.asset_id, a.name, c.cpe, c.origin, c.state, c.basis, c.decided_by, c.decided_at FROM asset_cpes c JOIN assets a ON a.id = c.asset_id ORDER BY c.asset_id, c.cpe")
            .fetch_all(self.pool())
            .await?;
        for r in rows {
            let id: Id = r.try_get(0)?;
            if asset.is_some_and(|a| a != id) {
                continue;
            }
            out.push(AssetCpe {
                asset_id: id,
                asset_name: r.try_get(1)?,
                cpe: r.try_get(2)?,
                origin: r.try_get(3)?,
                state: r.try_get(4)?,
                basis: r.try_get(5)?,
                decided_by: r.try_get(6)?,
                decided_at: r.try_get(7)?,
            });
        }
        Ok(out)
    }

    /// Confirms or rejects a suggested name, or adds a name by hand (`state` = `confirmed`).
    pub async fn set_asset_cpe(&self, actor: &str, asset: Id, cpe: &str, state: &str) -> Result<()> {
        if !["confirmed", "rejected"].contains(&state) {
            return Err(StoreError::Refused { key: "vuln_error.cpe_state", detail: state.to_owned() });
        }
        let parsed = Cpe::parse(cpe).map_err(|e| StoreError::Refused { key: "vuln_error.cpe", detail: format!("{cpe}（{e}）") })?;
        let fs = parsed.to_fs();
        self.get_asset(asset, None).await?;
        let mut tx = self.write_tx().await?;
        let at = now();
        let n = sqlx::query("UPDATE asset_cpes SET state = $1, decided_by = $2, decided_at = $3 WHERE asset_id = $4 AND cpe = $5")
            .bind(state.to_owned())
            .bind(actor.to_owned())
            .bind(at.clone())
            .bind(asset)
            .bind(fs.clone())
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            sqlx::query("INSERT INTO asset_cpes (asset_id, cpe, origin, state, basis, decided_by, decided_at) VALUES ($1, $2, 'manual', $3, '', $4, $5)")
                .bind(asset)
                .bind(fs.clone())
                .bind(state.to_owned())
                .bind(actor.to_owned())
                .bind(at)
                .execute(&mut *tx.tx)
                .await?;
        }
        let mut d = Detail::new();
        d.insert("cpe".into(), Value::String(fs));
        d.insert("state".into(), Value::String(state.to_owned()));
        tx.audit(actor, "cpe.decide", "asset", Some(asset), d).await?;
        tx.commit().await?;
        Ok(())
    }
}
