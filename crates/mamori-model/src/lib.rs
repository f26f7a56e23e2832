//! Domain types of one medical facility (施設).
//!
//! This crate has no I/O and knows nothing about databases or HTTP. Every enum that is stored
//! or exchanged has a stable snake_case code (`AssetKind::VpnUtm` ↔ `"vpn_utm"`); what a user
//! reads for it comes from the message catalogs (`mamori-i18n`, key `"<enum>.<code>"`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

mod codes;
pub use codes::{
    AccountPrivilege, AssetKind, Authentication, BackupMedium, Confidence, ConnectionKind, Criticality,
    DeviceClass, FacilityKind, LedgerField, Role, SegmentPurpose, SheetKind, SourceKind,
    UnknownCode, VendorKind,
};

pub mod checklist;
pub mod network;

mod observation;
pub use observation::{Observation, is_randomized_mac};

/// Row identifier. Stable across export/import and `db copy`.
pub type Id = i64;

/// The facility profile (施設情報). One per database.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Facility {
    pub name: String,
    pub kind: FacilityKind,
    /// Number of beds (病床数); 0 for a 無床診療所.
    #[serde(default)]
    pub beds: i64,
    #[serde(default)]
    pub prefecture: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    /// 医療情報システム安全管理責任者.
    #[serde(default)]
    pub security_manager: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// A network segment (VLAN / subnet) and what it is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Segment {
    pub id: Id,
    pub name: String,
    pub purpose: SegmentPurpose,
    /// CIDR, e.g. `192.168.1.0/24`.
    #[serde(default)]
    pub cidr: Option<String>,
    #[serde(default)]
    pub vlan: Option<i64>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A network interface of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Interface {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub ip: Option<String>,
    #[serde(default)]
    pub mac: Option<String>,
    #[serde(default)]
    pub segment_id: Option<Id>,
}

/// Software installed on an asset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Software {
    pub name: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
    /// CPE as the source wrote it (CPE 2.3 formatted string from SBOMs and ledgers, CPE 2.2 URI
    /// from nmap), when known.
    #[serde(default)]
    pub cpe: Option<String>,
    /// Package URL (`pkg:maven/org.keycloak/keycloak-core@10.0.2`), when the source gives one
    /// (SBOM components).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
}

/// Everything about an asset that a user enters or an import provides.
///
/// `Asset` adds the identity and bookkeeping the store maintains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AssetData {
    pub name: String,
    pub kind: AssetKind,
    /// Maker (メーカー).
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product: Option<String>,
    /// Model number (型番).
    #[serde(default)]
    pub model: Option<String>,
    /// OS or firmware name.
    #[serde(default)]
    pub os: Option<String>,
    /// OS or firmware version.
    #[serde(default)]
    pub os_version: Option<String>,
    #[serde(default)]
    pub serial: Option<String>,
    /// Where it stands (設置場所).
    #[serde(default)]
    pub location: Option<String>,
    /// Owning department (管理部署).
    #[serde(default)]
    pub department: Option<String>,
    /// Person responsible.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub criticality: Criticality,
    /// Reachable from the internet (公開されている).
    #[serde(default)]
    pub internet_facing: bool,
    /// Antivirus / EDR installed: `None` when nobody has checked.
    #[serde(default)]
    pub endpoint_protection: Option<bool>,
    /// When the device was last seen on the network (RFC 3339, UTC).
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Extra attributes (columns of a ledger that have no field of their own).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub interfaces: Vec<Interface>,
    #[serde(default)]
    pub software: Vec<Software>,
}

impl AssetData {
    /// A minimal asset: a name and a kind, everything else unknown.
    pub fn new(name: impl Into<String>, kind: AssetKind) -> Self {
        Self {
            name: name.into(),
            kind,
            vendor: None,
            product: None,
            model: None,
            os: None,
            os_version: None,
            serial: None,
            location: None,
            department: None,
            owner: None,
            criticality: Criticality::default(),
            internet_facing: false,
            endpoint_protection: None,
            last_seen: None,
            notes: None,
            attributes: BTreeMap::new(),
            interfaces: Vec::new(),
            software: Vec::new(),
        }
    }

    /// Checks what the store cannot check by itself. Returns the first problem found.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.name.trim().is_empty() {
            return Err(ValidationError::new("name", "empty"));
        }
        if self.name.chars().count() > MAX_NAME_CHARS {
            return Err(ValidationError::new("name", "too_long"));
        }
        if self.interfaces.len() > MAX_INTERFACES {
            return Err(ValidationError::new("interfaces", "too_many"));
        }
        for iface in &self.interfaces {
            if let Some(ip) = &iface.ip
                && ip.parse::<std::net::IpAddr>().is_err() {
                    return Err(ValidationError::new("ip", "invalid_ip"));
                }
            if let Some(mac) = &iface.mac
                && normalize_mac(mac).is_none() {
                    return Err(ValidationError::new("mac", "invalid_mac"));
                }
        }
        Ok(())
    }

    /// The first IP address of the asset, for lists.
    pub fn primary_ip(&self) -> Option<&str> {
        self.interfaces.iter().find_map(|i| i.ip.as_deref())
    }
}

/// Longest asset name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// Most network interfaces one asset may have (the edit form offers up to this many rows).
pub const MAX_INTERFACES: usize = 64;

/// A stored asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Asset {
    pub id: Id,
    #[serde(flatten)]
    pub data: AssetData,
    /// Set by the store; may be omitted in hand-written import files.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub updated_at: String,
}

/// An account on one or more systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Account {
    pub id: Id,
    pub username: String,
    /// The system it belongs to, in words (e.g. 電子カルテ, Windows ドメイン).
    #[serde(default)]
    pub system: Option<String>,
    pub privilege: AccountPrivilege,
    /// Used by more than one person.
    #[serde(default)]
    pub shared: bool,
    /// The person it belongs to, when personal.
    #[serde(default)]
    pub person: Option<String>,
    /// The person has left the organisation (退職者).
    #[serde(default)]
    pub holder_left: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub last_used: Option<String>,
    /// Assets on which the same credential is valid.
    #[serde(default)]
    pub asset_ids: Vec<Id>,
    #[serde(default)]
    pub notes: Option<String>,
}

fn yes() -> bool {
    true
}

/// A vendor (保守事業者).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Vendor {
    pub id: Id,
    pub name: String,
    pub kind: VendorKind,
    #[serde(default)]
    pub contact_name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

/// A maintenance contract (保守契約) with a vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contract {
    pub id: Id,
    pub vendor_id: Id,
    pub title: String,
    #[serde(default)]
    pub scope: Option<String>,
    /// The vendor maintains remotely (リモート保守).
    #[serde(default)]
    pub remote_maintenance: bool,
    /// What the vendor is responsible for, in the contract's words.
    #[serde(default)]
    pub responsibilities: Option<String>,
    #[serde(default)]
    pub start_date: Option<String>,
    #[serde(default)]
    pub end_date: Option<String>,
    /// Assets the contract covers; a vendor user sees exactly these.
    #[serde(default)]
    pub asset_ids: Vec<Id>,
}

/// A connection between the facility and the outside world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExternalConnection {
    pub id: Id,
    pub name: String,
    pub kind: ConnectionKind,
    #[serde(default)]
    pub provider: Option<String>,
    /// Always connected, instead of connected on request.
    #[serde(default)]
    pub always_on: bool,
    pub authentication: Authentication,
    /// Who is responsible for it (facility or a vendor's name).
    #[serde(default)]
    pub owner: Option<String>,
    /// The facility-side device terminating the connection.
    #[serde(default)]
    pub asset_id: Option<Id>,
    #[serde(default)]
    pub vendor_id: Option<Id>,
    #[serde(default)]
    pub notes: Option<String>,
    /// Where the connection lands when no single device terminates it (a closed network's
    /// segment).
    #[serde(default)]
    pub segment_id: Option<Id>,
    /// When an on-request line may be connected (保守時間帯), in words: `平日 9:00-18:00`.
    #[serde(default)]
    pub maintenance_window: Option<String>,
}

/// A backup (バックアップ) of the facility's systems and data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Backup {
    pub id: Id,
    pub name: String,
    /// What is backed up, in words (電子カルテ DB, レセコン …).
    #[serde(default)]
    pub covers: Option<String>,
    pub medium: BackupMedium,
    /// The device holding the copy.
    #[serde(default)]
    pub asset_id: Option<Id>,
    /// The copy can be reached with the same credentials as the systems it protects.
    #[serde(default)]
    pub same_credentials: bool,
    /// Last successful backup (RFC 3339 or YYYY-MM-DD).
    #[serde(default)]
    pub last_success: Option<String>,
    /// Last restore test (復旧手順の確認).
    #[serde(default)]
    pub last_restore_test: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Someone to call (連絡先): authorities, vendors, staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub id: Id,
    /// Organisation or role, e.g. 厚生労働省, 警察, 保守事業者, 院長.
    pub organization: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A person who can log in to mamori.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: Id,
    pub username: String,
    #[serde(default)]
    pub display_name: Option<String>,
    pub role: Role,
    /// For the vendor role: which vendor the user works for.
    #[serde(default)]
    pub vendor_id: Option<Id>,
    #[serde(default)]
    pub disabled: bool,
    pub created_at: String,
}

/// One entry of the append-only, hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    #[serde(default)]
    pub entity_id: Option<Id>,
    /// What changed, as JSON text (never passwords or tokens).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A field that failed validation and why (`reason` is a catalog key suffix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {reason}")]
pub struct ValidationError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl ValidationError {
    pub fn new(field: &'static str, reason: &'static str) -> Self {
        Self { field, reason }
    }
}

/// Normalises a MAC address to lower-case colon form (`00:1a:2b:3c:4d:5e`).
///
/// Accepts `:`/`-`/`.` separators, Cisco dotted form and bare hex; rejects anything else.
pub fn normalize_mac(input: &str) -> Option<String> {
    let hex: String = input
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.' | ' '))
        .collect();
    if hex.len() != 12 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let lower = hex.to_ascii_lowercase();
    let mut out = String::with_capacity(17);
    for (i, c) in lower.chars().enumerate() {
        if i > 0 && i % 2 == 0 {
            out.push(':');
        }
        out.push(c);
    }
    Some(out)
}

/// A JSON value used for audit details: field → value.
pub type Detail = serde_json::Map<String, serde_json::Value>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_forms_normalise_to_one() {
        for form in ["00:1A:2B:3C:4D:5E", "00-1a-2b-3c-4d-5e", "001a.2b3c.4d5e", "001A2B3C4D5E"] {
            assert_eq!(normalize_mac(form).as_deref(), Some("00:1a:2b:3c:4d:5e"), "{form}");
        }
        assert_eq!(normalize_mac("00:1a:2b:3c:4d"), None);
        assert_eq!(normalize_mac("zz:1a:2b:3c:4d:5e"), None);
        assert_eq!(normalize_mac("00:1a:2b:3c:4d:5e:6f"), None);
    }

    #[test]
    fn validation_rejects_bad_ip_and_empty_name() {
        let mut a = AssetData::new("  ", AssetKind::Pc);
        assert_eq!(a.validate().map_err(|e| e.field), Err("name"));
        a.name = "受付PC".into();
        a.interfaces.push(Interface {
            name: None,
            ip: Some("192.168.1.300".into()),
            mac: None,
            segment_id: None,
        });
        assert_eq!(a.validate().map_err(|e| e.reason), Err("invalid_ip"));
        if let Some(i) = a.interfaces.first_mut() {
            i.ip = Some("192.168.1.30".into());
        }
        assert!(a.validate().is_ok());
    }

    #[test]
    fn asset_json_is_flat() {
        let a = Asset {
            id: 7,
            data: AssetData::new("NAS", AssetKind::Nas),
            created_at: "2026-01-01T00:00:00Z".into(),
            updated_at: "2026-01-01T00:00:00Z".into(),
        };
        let v = serde_json::to_value(&a).unwrap_or_default();
        assert_eq!(v["id"], 7);
        assert_eq!(v["kind"], "nas");
        assert_eq!(v["name"], "NAS");
    }
}
