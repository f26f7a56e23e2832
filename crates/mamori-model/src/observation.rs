//! What one outside source says about one device.
//!
//! Every inventory parser (ledger spreadsheets, nmap scans, DHCP leases, neighbour tables,
//! CycloneDX SBOMs) turns its input into [`Observation`]s; the store's reconciliation matches
//! them against the assets it holds. An observation only carries what its source actually said:
//! `None` means "this source does not know", never "empty".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{AssetKind, Criticality, Interface, Software};

/// One device as one source saw or described it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// 1-based line (text formats) or row (spreadsheets) where the device is described; for
    /// error messages and provenance.
    pub line: u64,
    /// mamori's asset id, when the source is a ledger exported by mamori (管理番号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<i64>,
    /// The device's name in a ledger (機器名). Discovery sources leave it empty and set
    /// `hostname` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Host name the device uses on the network (DHCP client hostname, reverse DNS, ホスト名).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// IP address in canonical text form (`192.168.1.10`, `fe80::1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// MAC address, normalised (`00:1a:2b:3c:4d:5e`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// DHCP client identifier (option 61), lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Maker of the network card as the source reported it (nmap's MAC vendor) or as looked up
    /// in the IEEE registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AssetKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Segment name as the ledger writes it (matched against the facility's segments by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internet_facing: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_protection: Option<bool>,
    /// 保守業者 as the ledger writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintainer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// When the source saw the device, Unix seconds (scan time, lease start, ledger 最終確認日).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_at: Option<i64>,
    /// Further facts kept as they were given: ledger columns mamori has no field for, open
    /// ports, OS guesses.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// Further network interfaces beyond `ip`/`mac` (a ledger row listing two addresses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_interfaces: Vec<Interface>,
    /// Installed software (SBOM components, scanned service products with a CPE).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub software: Vec<Software>,
}

impl Observation {
    /// An empty observation at `line`.
    pub fn at_line(line: u64) -> Self {
        Self {
            line,
            ..Self::default()
        }
    }

    /// The MAC, when it can serve as the device's identity: present and not randomised.
    pub fn stable_mac(&self) -> Option<&str> {
        self.mac.as_deref().filter(|m| !is_randomized_mac(m))
    }

    /// True when the observation carries nothing that could identify or describe a device.
    pub fn is_empty(&self) -> bool {
        self.asset_id.is_none()
            && self.name.is_none()
            && self.hostname.is_none()
            && self.ip.is_none()
            && self.mac.is_none()
            && self.client_id.is_none()
            && self.serial.is_none()
    }
}

/// True for a locally administered unicast MAC (second-lowest bit of the first octet set), as
/// phones, tablets and recent Windows use for private Wi-Fi addresses. Such an address changes
/// per network or per day and is not a device's identity. Accepts any form
/// [`crate::normalize_mac`] accepts; false for what it rejects.
pub fn is_randomized_mac(mac: &str) -> bool {
    let Some(norm) = crate::normalize_mac(mac) else {
        return false;
    };
    let first = norm.get(0..2).and_then(|h| u8::from_str_radix(h, 16).ok());
    matches!(first, Some(b) if b & 0x02 != 0 && b & 0x01 == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn randomized_macs_are_recognised() {
        assert!(is_randomized_mac("da:a1:19:00:00:01"));
        assert!(is_randomized_mac("02:00:00:00:00:01"));
        assert!(is_randomized_mac("6E-11-22-33-44-55"));
        assert!(!is_randomized_mac("00:1a:2b:3c:4d:5e"));
        assert!(!is_randomized_mac("ac:de:48:00:11:22"));
        // multicast is not a device address at all, randomised or not
        assert!(!is_randomized_mac("03:00:00:00:00:01"));
        assert!(!is_randomized_mac("garbage"));
    }
}
