//! The facility's network as one value: what the diagram, the risk rules and the attack-path
//! engine read. A `NetworkModel` is built by the store from the database (or from a facility
//! file) and is plain data: a what-if simulation clones it, changes it and assesses the copy.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    Account, Asset, Backup, Contract, ExternalConnection, Facility, Id, Segment, Vendor,
};

/// What a filtering policy does with matching traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyAction {
    Allow,
    Deny,
}

impl PolicyAction {
    pub fn code(self) -> &'static str {
        match self {
            PolicyAction::Allow => "allow",
            PolicyAction::Deny => "deny",
        }
    }
}

/// One end of a policy: where traffic comes from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Zone {
    /// Anything.
    Any,
    /// The internet at large (an attacker's starting point).
    Internet,
    Segment(Id),
    Asset(Id),
    /// Whatever arrives over an external connection (a vendor's line, a closed network).
    Connection(Id),
}

impl Zone {
    /// `any`, `internet`, `segment:3`, `asset:7`, `connection:2`.
    pub fn code(self) -> String {
        match self {
            Zone::Any => "any".into(),
            Zone::Internet => "internet".into(),
            Zone::Segment(id) => format!("segment:{id}"),
            Zone::Asset(id) => format!("asset:{id}"),
            Zone::Connection(id) => format!("connection:{id}"),
        }
    }

    /// Inverse of [`Zone::code`].
    pub fn parse(s: &str) -> Option<Zone> {
        match s {
            "any" => return Some(Zone::Any),
            "internet" => return Some(Zone::Internet),
            _ => {}
        }
        let (kind, id) = s.split_once(':')?;
        let id: Id = id.parse().ok()?;
        match kind {
            "segment" => Some(Zone::Segment(id)),
            "asset" => Some(Zone::Asset(id)),
            "connection" => Some(Zone::Connection(id)),
            _ => None,
        }
    }
}

/// A filtering rule on a gateway (FortiGate policy, router ACL): traffic from `from` to `to`
/// on `services` is allowed or denied. Rules are evaluated in `position` order, first match
/// wins. Traffic between two segments that no rule matches is allowed when a gateway joins
/// them without any rule (a router routes), which is what small facilities actually have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub id: Id,
    #[serde(default)]
    pub name: Option<String>,
    /// The device enforcing it.
    #[serde(default)]
    pub gateway_id: Option<Id>,
    pub from: Zone,
    pub to: Zone,
    /// `tcp/443`, `udp/500`, or a well-known name (`rdp`, `smb`, `ssh`, `https`, `ssl-vpn`);
    /// empty means every service.
    #[serde(default)]
    pub services: Vec<String>,
    pub action: PolicyAction,
    #[serde(default)]
    pub position: i64,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A service a device offers on the network.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// `rdp`, `smb`, `ssh`, `https` … as nmap or the facility file names it.
    #[serde(default)]
    pub name: Option<String>,
}

impl Service {
    /// Reads `3389/tcp rdp, 445/tcp microsoft-ds Samba 4.1` — the form of the `services`
    /// attribute of a facility file and of nmap's `nmap.open_ports`. Parts that are not
    /// `PORT/PROTO [NAME …]` are skipped (`… (3 more)`).
    pub fn parse_list(text: &str) -> Vec<Service> {
        let mut out: Vec<Service> = text
            .split(',')
            .filter_map(|part| {
                let mut words = part.split_whitespace();
                let (port, protocol) = words.next()?.split_once('/')?;
                let port: u16 = port.parse().ok()?;
                let protocol = protocol.to_ascii_lowercase();
                if protocol != "tcp" && protocol != "udp" {
                    return None;
                }
                Some(Service { port, protocol, name: words.next().map(str::to_ascii_lowercase) })
            })
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.port == b.port && a.protocol == b.protocol);
        out
    }

    /// The well-known name of a port, used when a scan named none.
    pub fn well_known(&self) -> Option<&'static str> {
        Some(match (self.protocol.as_str(), self.port) {
            ("tcp", 22) => "ssh",
            ("tcp", 23) => "telnet",
            ("tcp", 80) => "http",
            ("tcp", 443) => "https",
            ("tcp", 445) | ("tcp", 139) => "smb",
            ("tcp", 3389) => "rdp",
            ("tcp", 5900) => "vnc",
            ("tcp", 1433) => "mssql",
            ("tcp", 5432) => "postgresql",
            ("tcp", 104) => "dicom",
            ("udp", 500) | ("udp", 4500) => "ipsec",
            _ => return None,
        })
    }

    /// `tcp/3389`.
    pub fn code(&self) -> String {
        format!("{}/{}", self.protocol, self.port)
    }
}

/// Attribute keys holding a device's services: written by hand in a facility file, or by an
/// nmap import.
pub const SERVICE_ATTRIBUTES: [&str; 2] = ["services", "nmap.open_ports"];

impl Asset {
    /// The services this device is known to offer (facility file and nmap), `None` when no
    /// source said anything about its ports — which is not the same as "no services".
    pub fn services(&self) -> Option<Vec<Service>> {
        let mut found = false;
        let mut out = Vec::new();
        for key in SERVICE_ATTRIBUTES {
            if let Some(text) = self.data.attributes.get(key) {
                found = true;
                out.extend(Service::parse_list(text));
            }
        }
        if !found {
            return None;
        }
        out.sort();
        out.dedup_by(|a, b| a.port == b.port && a.protocol == b.protocol);
        Some(out)
    }

    /// Segments this device has an interface in, in interface order, without repeats.
    pub fn segment_ids(&self) -> Vec<Id> {
        let mut out: Vec<Id> = Vec::new();
        for i in &self.data.interfaces {
            if let Some(s) = i.segment_id
                && !out.contains(&s)
            {
                out.push(s);
            }
        }
        out
    }
}

/// What a system is for, from the asset's `role` attribute (facility file), else guessed from
/// its name: the attack-path goals need to know which server holds the EMR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SystemRole {
    /// 電子カルテ
    Emr,
    /// レセコン
    Receipt,
    /// 画像ファイリング / PACS
    Pacs,
    /// Holds backups.
    Backup,
}

impl SystemRole {
    pub fn code(self) -> &'static str {
        match self {
            SystemRole::Emr => "emr",
            SystemRole::Receipt => "receipt",
            SystemRole::Pacs => "pacs",
            SystemRole::Backup => "backup",
        }
    }

    pub fn parse(s: &str) -> Option<SystemRole> {
        [SystemRole::Emr, SystemRole::Receipt, SystemRole::Pacs, SystemRole::Backup].into_iter().find(|r| r.code() == s)
    }
}

impl Asset {
    /// The `role` attribute, else a guess from the name (電子カルテ, レセコン/ORCA, PACS/画像,
    /// バックアップ on a NAS or server).
    pub fn role(&self) -> Option<SystemRole> {
        if let Some(r) = self.data.attributes.get("role") {
            return SystemRole::parse(r.trim());
        }
        let name = self.data.name.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
        if has(&["電子カルテ", "カルテ", "emr"]) {
            Some(SystemRole::Emr)
        } else if has(&["レセコン", "orca", "レセプト", "医事"]) && self.data.kind == crate::AssetKind::Server {
            Some(SystemRole::Receipt)
        } else if has(&["pacs", "画像ファイリング", "画像サーバ"]) {
            Some(SystemRole::Pacs)
        } else if has(&["バックアップ", "backup"]) && matches!(self.data.kind, crate::AssetKind::Nas | crate::AssetKind::Server) {
            Some(SystemRole::Backup)
        } else {
            None
        }
    }
}

/// An open vulnerability finding on one device, as far as the risk engine needs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VulnFact {
    pub asset_id: Id,
    pub vuln_id: String,
    /// Listed in CISA KEV (exploited in the wild).
    pub kev: bool,
    /// KEV says ransomware campaigns use it.
    pub ransomware: bool,
    #[serde(default)]
    pub cvss: Option<f64>,
    #[serde(default)]
    pub epss: Option<f64>,
    /// Exploitable over the network (CVSS AV:N), `None` when unknown.
    #[serde(default)]
    pub network: Option<bool>,
    /// Priority band 1 (urgent) – 4.
    pub band: u8,
    /// Short title for people (JVN title or the start of the NVD description).
    #[serde(default)]
    pub title: Option<String>,
}

/// Severity of a risk finding. Ordered: `Info < Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn code(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.code() == s)
    }
}

/// The whole facility as the diagram and the risk engine see it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
pub struct NetworkModel {
    pub facility: Option<Facility>,
    #[serde(default)]
    pub segments: Vec<Segment>,
    #[serde(default)]
    pub assets: Vec<Asset>,
    #[serde(default)]
    pub connections: Vec<ExternalConnection>,
    #[serde(default)]
    pub policies: Vec<Policy>,
    #[serde(default)]
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub backups: Vec<Backup>,
    #[serde(default)]
    pub vendors: Vec<Vendor>,
    #[serde(default)]
    pub contracts: Vec<Contract>,
    /// Open vulnerability findings (empty when no feed was imported: rules then work from
    /// versions and end-of-support dates alone).
    #[serde(default)]
    pub vulns: Vec<VulnFact>,
    /// Whether vulnerability data was available at all (feeds imported and matched).
    #[serde(default)]
    pub vuln_data: bool,
    /// The day the model describes, `YYYY-MM-DD` (Asia/Tokyo).
    #[serde(default)]
    pub date: String,
}

impl NetworkModel {
    pub fn asset(&self, id: Id) -> Option<&Asset> {
        self.assets.iter().find(|a| a.id == id)
    }

    pub fn segment(&self, id: Id) -> Option<&Segment> {
        self.segments.iter().find(|s| s.id == id)
    }

    pub fn connection(&self, id: Id) -> Option<&ExternalConnection> {
        self.connections.iter().find(|c| c.id == id)
    }

    /// Assets with an interface in `segment`.
    pub fn assets_in(&self, segment: Id) -> impl Iterator<Item = &Asset> {
        self.assets.iter().filter(move |a| a.data.interfaces.iter().any(|i| i.segment_id == Some(segment)))
    }

    /// Policies in evaluation order.
    pub fn ordered_policies(&self) -> Vec<&Policy> {
        let mut p: Vec<&Policy> = self.policies.iter().collect();
        p.sort_by_key(|p| (p.position, p.id));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_codes_round_trip() {
        for z in [Zone::Any, Zone::Internet, Zone::Segment(3), Zone::Asset(7), Zone::Connection(2)] {
            assert_eq!(Zone::parse(&z.code()), Some(z));
        }
        assert_eq!(Zone::parse("segment:x"), None);
        assert_eq!(Zone::parse("planet:1"), None);
    }

    #[test]
    fn services_parse_from_nmap_and_hand_written_lists() {
        let s = Service::parse_list("22/tcp ssh OpenSSH 5.3, 445/TCP microsoft-ds, 3389/tcp, junk, 80/icmp, … (3 more)");
        assert_eq!(s.len(), 3);
        assert_eq!(s.first().map(|s| (s.port, s.name.as_deref())), Some((22, Some("ssh"))));
        assert_eq!(s.get(2).and_then(Service::well_known), Some("rdp"));
    }
}
