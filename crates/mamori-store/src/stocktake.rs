//! Stocktake (棚卸し): the periodic review of the ledger the MHLW checklist asks for. Lists what
//! needs a decision (devices nobody has seen, unused or orphaned accounts, software past end of
//! support, assets with no owner or segment, unregistered devices) and records when the review
//! was done.

use mamori_model::{Detail, Id};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::assets::load_all_assets;
use crate::lifecycle::{eos_for_asset, eos_for_software};
use crate::{Result, Store, StoreError};

/// Default review window.
pub const DEFAULT_STOCKTAKE_DAYS: i64 = 90;

/// An asset the stocktake lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StocktakeAsset {
    pub asset_id: Id,
    pub name: String,
    /// Extra fact: last seen, the product past support, …
    pub fact: Option<String>,
}

/// An account the stocktake lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StocktakeAccount {
    pub account_id: Id,
    pub username: String,
    pub system: Option<String>,
    pub person: Option<String>,
    pub last_used: Option<String>,
    /// `leaver` (the holder has left and the account is still enabled), `unused` (not used
    /// within the window) or `never_used`.
    pub reason: String,
}

/// Software (or an OS) past its end of support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StocktakeEos {
    pub asset_id: Id,
    pub asset_name: String,
    pub product: String,
    pub until: String,
}

/// Counts of each list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StocktakeSummary {
    pub assets: u64,
    pub not_seen: u64,
    pub never_seen: u64,
    pub accounts: u64,
    pub eos: u64,
    pub no_owner: u64,
    pub no_segment: u64,
    pub unregistered: u64,
}

impl StocktakeSummary {
    /// Items that need a decision.
    pub fn findings(&self) -> u64 {
        self.not_seen + self.never_seen + self.accounts + self.eos + self.no_owner + self.no_segment + self.unregistered
    }
}

/// The result of a stocktake.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StocktakeReport {
    /// The review's reference day in Japan, `YYYY-MM-DD`.
    pub date: String,
    pub days: i64,
    pub summary: StocktakeSummary,
    /// Seen by some source, but not within `days`.
    pub not_seen: Vec<StocktakeAsset>,
    /// Never confirmed by any source or ledger date.
    pub never_seen: Vec<StocktakeAsset>,
    pub accounts: Vec<StocktakeAccount>,
    pub eos: Vec<StocktakeEos>,
    pub no_owner: Vec<StocktakeAsset>,
    pub no_segment: Vec<StocktakeAsset>,
}

/// A recorded stocktake.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StocktakeRecord {
    pub id: Id,
    pub at: String,
    pub actor: String,
    pub days: i64,
    pub summary: StocktakeSummary,
}

fn cutoff(date: &str, days: i64) -> Option<String> {
    let d: jiff::civil::Date = date.parse().ok()?;
    let c = d.checked_sub(jiff::Span::new().days(days)).ok()?;
    // Midnight in Japan of the cutoff day, in the store's UTC timestamp form.
    let tz = jiff::tz::TimeZone::get("Asia/Tokyo").ok()?;
    let ts = c.to_zoned(tz).ok()?.timestamp();
    Some(ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

impl Store {
    /// Computes a stocktake as of `date` (`YYYY-MM-DD`, Japan) with a window of `days`. Nothing is
    /// written; see [`Store::record_stocktake`].
    pub async fn stocktake(&self, date: &str, days: i64) -> Result<StocktakeReport> {
        let days = days.clamp(1, 3650);
        let limit = cutoff(date, days).ok_or_else(|| StoreError::Format(format!("date: {date}")))?;
        let limit_day = limit.get(0..10).unwrap_or("").to_owned();
        let mut conn = self.pool().acquire().await?;
        let assets = load_all_assets(&mut conn).await?;
        drop(conn);
        let accounts = self.list_accounts().await?;
        let unregistered: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM discovered_devices WHERE status = 'pending'")
                .fetch_one(self.pool())
                .await?;

        let mut r = StocktakeReport {
            date: date.to_owned(),
            days,
            summary: StocktakeSummary::default(),
            not_seen: Vec::new(),
            never_seen: Vec::new(),
            accounts: Vec::new(),
            eos: Vec::new(),
            no_owner: Vec::new(),
            no_segment: Vec::new(),
        };
        for a in &assets {
            let d = &a.data;
            let item = |fact: Option<String>| StocktakeAsset { asset_id: a.id, name: d.name.clone(), fact };
            match d.last_seen.as_deref() {
                None => r.never_seen.push(item(None)),
                Some(seen) if seen < limit.as_str() => r.not_seen.push(item(Some(seen.to_owned()))),
                Some(_) => {}
            }
            if d.owner.as_deref().is_none_or(|o| o.trim().is_empty()) {
                r.no_owner.push(item(d.department.clone()));
            }
            if !d.interfaces.iter().any(|i| i.segment_id.is_some()) {
                r.no_segment.push(item(d.primary_ip().map(str::to_owned)));
            }
            let mut seen_products: Vec<&str> = Vec::new();
            if let Some(e) = eos_for_asset(a)
                && e.until.as_str() < date
            {
                seen_products.push(&e.name);
                r.eos.push(StocktakeEos {
                    asset_id: a.id,
                    asset_name: d.name.clone(),
                    product: e.name.clone(),
                    until: e.until.clone(),
                });
            }
            for s in &d.software {
                if let Some(e) = eos_for_software(&s.name, s.version.as_deref())
                    && e.until.as_str() < date
                    && !seen_products.contains(&e.name.as_str())
                {
                    seen_products.push(&e.name);
                    r.eos.push(StocktakeEos {
                        asset_id: a.id,
                        asset_name: d.name.clone(),
                        product: e.name.clone(),
                        until: e.until.clone(),
                    });
                }
            }
        }
        for acc in &accounts {
            if !acc.enabled {
                continue;
            }
            let reason = if acc.holder_left {
                Some("leaver")
            } else {
                match acc.last_used.as_deref() {
                    None => Some("never_used"),
                    Some(used) if used.get(0..10).unwrap_or(used) < limit_day.as_str() => Some("unused"),
                    Some(_) => None,
                }
            };
            if let Some(reason) = reason {
                r.accounts.push(StocktakeAccount {
                    account_id: acc.id,
                    username: acc.username.clone(),
                    system: acc.system.clone(),
                    person: acc.person.clone(),
                    last_used: acc.last_used.clone(),
                    reason: reason.to_owned(),
                });
            }
        }
        r.summary = StocktakeSummary {
            assets: assets.len() as u64,
            not_seen: r.not_seen.len() as u64,
            never_seen: r.never_seen.len() as u64,
            accounts: r.accounts.len() as u64,
            eos: r.eos.len() as u64,
            no_owner: r.no_owner.len() as u64,
            no_segment: r.no_segment.len() as u64,
            unregistered: u64::try_from(unregistered).unwrap_or(0),
        };
        Ok(r)
    }

    /// Records that the ledger was reviewed, with the report as it stood.
    pub async fn record_stocktake(&self, actor: &str, report: &StocktakeReport) -> Result<Id> {
        let summary = serde_json::to_string(&report.summary).map_err(|e| StoreError::Format(e.to_string()))?;
        let body = serde_json::to_string(report).map_err(|e| StoreError::Format(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        let at = crate::now();
        let id: Id = sqlx::query(
            "INSERT INTO stocktakes (at, actor, days, summary, report) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id",
        )
        .bind(at)
        .bind(actor.to_owned())
        .bind(report.days)
        .bind(summary)
        .bind(body)
        .fetch_one(&mut *tx.tx)
        .await?
        .try_get(0)?;
        let mut detail = Detail::new();
        detail.insert("date".into(), Value::String(report.date.clone()));
        detail.insert("days".into(), Value::from(report.days));
        if let Ok(Value::Object(c)) = serde_json::to_value(&report.summary) {
            detail.extend(c);
        }
        tx.audit(actor, "stocktake.record", "stocktake", Some(id), detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Recorded stocktakes, newest first.
    pub async fn list_stocktakes(&self, limit: i64) -> Result<Vec<StocktakeRecord>> {
        let rows = sqlx::query("SELECT id, at, actor, days, summary FROM stocktakes ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let summary: String = r.try_get(4)?;
                Ok(StocktakeRecord {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    days: r.try_get(3)?,
                    summary: serde_json::from_str(&summary)
                        .map_err(|e| StoreError::Decode(format!("stocktake summary: {e}")))?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoff_is_midnight_in_japan() {
        assert_eq!(cutoff("2026-11-25", 90).as_deref(), Some("2026-08-26T15:00:00Z"));
        assert_eq!(cutoff("garbage", 90), None);
    }
}
