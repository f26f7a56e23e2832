//! "What needs attention" on the dashboard: plain checks over the inventory that a security
//! manager can act on today. The full rule engine with attack paths is the risk capability;
//! these are the facts that need no inference.

use mamori_model::{
    Account, AccountPrivilege, Asset, AssetKind, Authentication, ConnectionKind,
    ExternalConnection, Id,
};
use serde::Serialize;

/// How soon to act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    High,
    Medium,
    Low,
    /// Not known: someone has to check.
    Check,
}

impl Severity {
    pub fn code(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Check => "check",
        }
    }
}

/// One thing to look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Attention {
    pub severity: Severity,
    /// Catalog key suffix: `attention.<kind>.title` and `.advice`.
    pub kind: &'static str,
    /// What it is about (a device, an account, a connection), in the data's own words.
    pub subject: String,
    /// Extra fact, e.g. the end-of-support date.
    pub fact: Option<String>,
    pub asset_id: Option<Id>,
}

use mamori_store::lifecycle::eos_for_asset as eos_for;

fn subject(a: &Asset) -> String {
    let os = [a.data.os.as_deref(), a.data.os_version.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if os.is_empty() { a.data.name.clone() } else { format!("{} ({os})", a.data.name) }
}

/// Runs every check. `today` is `YYYY-MM-DD` (Japan date).
pub fn scan(
    today: &str,
    assets: &[Asset],
    accounts: &[Account],
    connections: &[ExternalConnection],
) -> Vec<Attention> {
    let mut out = Vec::new();
    let soon = add_days(today, 180);
    for a in assets {
        let d = &a.data;
        if d.internet_facing && matches!(d.kind, AssetKind::VpnUtm | AssetKind::NetworkDevice) {
            out.push(Attention {
                severity: Severity::High,
                kind: "internet_edge",
                subject: subject(a),
                fact: None,
                asset_id: Some(a.id),
            });
        }
        if let Some(e) = eos_for(a) {
            if e.until.as_str() < today {
                out.push(Attention {
                    severity: Severity::High,
                    kind: "eos",
                    subject: d.name.clone(),
                    fact: Some(format!("{} — {}", e.name, e.until)),
                    asset_id: Some(a.id),
                });
            } else if e.until.as_str() <= soon.as_str() {
                out.push(Attention {
                    severity: Severity::Medium,
                    kind: "eos_soon",
                    subject: d.name.clone(),
                    fact: Some(format!("{} — {}", e.name, e.until)),
                    asset_id: Some(a.id),
                });
            }
        }
        match (d.kind, d.endpoint_protection) {
            (AssetKind::Server, Some(false)) => out.push(Attention {
                severity: Severity::High,
                kind: "no_protection",
                subject: subject(a),
                fact: None,
                asset_id: Some(a.id),
            }),
            (AssetKind::Pc, Some(false)) => out.push(Attention {
                severity: Severity::Medium,
                kind: "no_protection",
                subject: subject(a),
                fact: None,
                asset_id: Some(a.id),
            }),
            (AssetKind::Server, None) => out.push(Attention {
                severity: Severity::Check,
                kind: "protection_unknown",
                subject: subject(a),
                fact: None,
                asset_id: Some(a.id),
            }),
            _ => {}
        }
        if !d.interfaces.iter().any(|i| i.segment_id.is_some()) {
            out.push(Attention {
                severity: Severity::Low,
                kind: "no_segment",
                subject: d.name.clone(),
                fact: None,
                asset_id: Some(a.id),
            });
        }
    }
    let visible: std::collections::HashSet<Id> = assets.iter().map(|a| a.id).collect();
    for acc in accounts {
        let on: Vec<&str> = acc
            .asset_ids
            .iter()
            .filter(|id| visible.contains(id))
            .filter_map(|id| assets.iter().find(|a| a.id == *id).map(|a| a.data.name.as_str()))
            .collect();
        if !acc.asset_ids.is_empty() && on.is_empty() {
            continue;
        }
        if acc.privilege == AccountPrivilege::Admin && acc.shared && acc.asset_ids.len() >= 2 {
            out.push(Attention {
                severity: Severity::High,
                kind: "shared_admin",
                subject: acc.username.clone(),
                fact: Some(on.join("、")),
                asset_id: None,
            });
        }
        if acc.holder_left && acc.enabled {
            out.push(Attention {
                severity: Severity::High,
                kind: "leaver_account",
                subject: format!(
                    "{}{}",
                    acc.username,
                    acc.person.as_deref().map(|p| format!(" ({p})")).unwrap_or_default()
                ),
                fact: acc.system.clone(),
                asset_id: None,
            });
        }
    }
    for c in connections {
        if c.asset_id.is_some_and(|id| !visible.contains(&id)) {
            continue;
        }
        if c.kind == ConnectionKind::VendorRemote && c.always_on {
            out.push(Attention {
                severity: Severity::High,
                kind: "vendor_always_on",
                subject: c.name.clone(),
                fact: c.provider.clone(),
                asset_id: c.asset_id,
            });
        }
        if matches!(c.kind, ConnectionKind::VendorRemote)
            && matches!(c.authentication, Authentication::Password | Authentication::None)
        {
            out.push(Attention {
                severity: Severity::High,
                kind: "remote_no_mfa",
                subject: c.name.clone(),
                fact: None,
                asset_id: c.asset_id,
            });
        }
    }
    out.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.kind.cmp(b.kind)));
    out
}

/// Items of the same kind and severity together, in the order of `items` (already sorted).
pub fn grouped(items: &[Attention]) -> Vec<Vec<&Attention>> {
    let mut groups: Vec<Vec<&Attention>> = Vec::new();
    for a in items {
        match groups.iter_mut().find(|g| g.first().is_some_and(|f| f.kind == a.kind && f.severity == a.severity)) {
            Some(g) => g.push(a),
            None => groups.push(vec![a]),
        }
    }
    groups
}

/// What needs attention as one user may see it: a vendor (`vendor_scope`) gets only its own
/// assets and its own external lines, never the facility's accounts or other vendors' lines.
pub async fn for_scope(
    store: &mamori_store::Store,
    vendor_scope: Option<Id>,
) -> Result<Vec<Attention>, mamori_store::StoreError> {
    let query = mamori_store::AssetQuery { vendor_scope, ..Default::default() };
    let assets = store.list_assets(&query).await?.items;
    let accounts = match vendor_scope {
        Some(_) => Vec::new(),
        None => store.list_accounts().await?,
    };
    let connections: Vec<ExternalConnection> = store
        .list_connections()
        .await?
        .into_iter()
        .filter(|c| vendor_scope.is_none_or(|v| c.vendor_id == Some(v)))
        .collect();
    Ok(scan(&today_jst(), &assets, &accounts, &connections))
}

fn add_days(date: &str, days: i64) -> String {
    date.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.checked_add(jiff::Span::new().days(days)).ok())
        .map(|d| d.to_string())
        .unwrap_or_else(|| date.to_owned())
}

/// Today in Japan, as a date.
pub fn today_jst_date() -> jiff::civil::Date {
    let now = jiff::Timestamp::now();
    match jiff::tz::TimeZone::get("Asia/Tokyo") {
        Ok(tz) => now.to_zoned(tz).date(),
        Err(_) => now.to_zoned(jiff::tz::TimeZone::UTC).date(),
    }
}

/// Today in Japan, as `YYYY-MM-DD`.
pub fn today_jst() -> String {
    today_jst_date().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_model::AssetData;

    fn asset(id: Id, name: &str, kind: AssetKind, os: &str) -> Asset {
        let mut d = AssetData::new(name, kind);
        d.os = Some(os.into());
        Asset { id, data: d, created_at: String::new(), updated_at: String::new() }
    }

    #[test]
    fn eos_table_loads_and_matches() {
        assert!(mamori_store::lifecycle::os_entries().len() >= 5);
        let found = scan("2026-11-25", &[asset(1, "受付PC", AssetKind::Pc, "Windows 10 Pro 22H2")], &[], &[]);
        assert!(found.iter().any(|a| a.kind == "eos" && a.severity == Severity::High));
        let found = scan("2026-11-25", &[asset(1, "DR", AssetKind::MedicalDevice, "Windows 10 IoT Enterprise LTSC 2021")], &[], &[]);
        assert!(!found.iter().any(|a| a.kind == "eos"), "LTSC has its own lifecycle");
        let found = scan("2026-11-25", &[asset(1, "DR", AssetKind::MedicalDevice, "Windows 10 IoT Enterprise 2016 LTSB")], &[], &[]);
        assert!(found.iter().any(|a| a.fact.as_deref() == Some("Windows 10 Enterprise 2016 LTSB — 2026-10-13")), "{found:?}");
        let found = scan("2026-11-25", &[asset(1, "PC", AssetKind::Pc, "Windows 11 Pro 23H2")], &[], &[]);
        assert!(found.iter().any(|a| a.kind == "eos"), "{found:?}");
        let found = scan("2026-11-25", &[asset(1, "PC", AssetKind::Pc, "Windows 11 Pro 24H2")], &[], &[]);
        assert!(!found.iter().any(|a| a.kind.starts_with("eos")), "{found:?}");
        let found = scan("2026-11-25", &[asset(1, "電子カルテ", AssetKind::Server, "Windows Server 2016")], &[], &[]);
        assert!(found.iter().any(|a| a.kind == "eos_soon"), "{found:?}");
        assert!(found.iter().any(|a| a.kind == "protection_unknown"));
    }

    #[test]
    fn accounts_and_lines() {
        let assets = vec![asset(1, "EMR", AssetKind::Server, ""), asset(2, "NAS", AssetKind::Nas, "")];
        let acc = Account {
            id: 1,
            username: "admin".into(),
            system: None,
            privilege: AccountPrivilege::Admin,
            shared: true,
            person: None,
            holder_left: false,
            enabled: true,
            last_used: None,
            asset_ids: vec![1, 2],
            notes: None,
        };
        let conn = ExternalConnection {
            id: 1,
            name: "保守回線".into(),
            kind: ConnectionKind::VendorRemote,
            provider: None,
            always_on: true,
            authentication: Authentication::Password,
            owner: None,
            asset_id: None,
            vendor_id: None,
            notes: None,
            segment_id: None,
            maintenance_window: None,
        };
        let found = scan("2026-11-25", &assets, &[acc], &[conn]);
        let kinds: Vec<_> = found.iter().map(|a| a.kind).collect();
        assert!(kinds.contains(&"shared_admin") && kinds.contains(&"vendor_always_on") && kinds.contains(&"remote_no_mfa"), "{kinds:?}");
        assert_eq!(found.first().map(|a| a.severity), Some(Severity::High));
    }
}
