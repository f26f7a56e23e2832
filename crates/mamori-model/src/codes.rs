//! Closed vocabularies with stable codes.
//!
//! The code is what the database, the JSON API and the export format carry; it never changes
//! once released. Labels live in the message catalogs under `"<catalog_prefix>.<code>"`.

use std::fmt;
use std::str::FromStr;

/// A code that is not one of an enum's known values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} code `{code}` (expected one of: {expected})")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: String,
    pub expected: String,
}

macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $prefix:literal, default = $default:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $code)] $variant, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];
            /// Catalog key prefix of the labels.
            pub const CATALOG_PREFIX: &'static str = $prefix;

            /// The stable code.
            pub fn code(self) -> &'static str {
                match self { $( $name::$variant => $code, )+ }
            }

            /// The message-catalog key of this value's label.
            pub fn label_key(self) -> String {
                format!("{}.{}", $prefix, self.code())
            }
        }

        impl Default for $name {
            fn default() -> Self { $name::$default }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $code => Ok($name::$variant), )+
                    other => Err(UnknownCode {
                        kind: $prefix,
                        code: other.chars().take(64).collect(),
                        expected: [$( $code ),+].join(", "),
                    }),
                }
            }
        }
    };
}

code_enum! {
    /// What an asset is.
    AssetKind, "asset_kind", default = Unknown {
        Server = "server",
        Pc = "pc",
        NetworkDevice = "network_device",
        VpnUtm = "vpn_utm",
        WifiAp = "wifi_ap",
        MedicalDevice = "medical_device",
        Printer = "printer",
        Nas = "nas",
        Mobile = "mobile",
        Iot = "iot",
        Unknown = "unknown",
    }
}

code_enum! {
    /// How much the facility depends on an asset.
    Criticality, "criticality", default = Medium {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

code_enum! {
    /// What a network segment is for.
    SegmentPurpose, "segment_purpose", default = Other {
        ClinicalLan = "clinical_lan",
        MedicalDevices = "medical_devices",
        Servers = "servers",
        StaffWifi = "staff_wifi",
        PatientWifi = "patient_wifi",
        EligibilityClosed = "eligibility_closed",
        Maintenance = "maintenance",
        Dmz = "dmz",
        Management = "management",
        Wan = "wan",
        Other = "other",
    }
}

code_enum! {
    /// Kind of facility.
    FacilityKind, "facility_kind", default = Clinic {
        Clinic = "clinic",
        Hospital = "hospital",
        Pharmacy = "pharmacy",
    }
}

code_enum! {
    /// Privilege of an account.
    AccountPrivilege, "privilege", default = User {
        Admin = "admin",
        User = "user",
        Service = "service",
    }
}

code_enum! {
    /// Kind of vendor.
    VendorKind, "vendor_kind", default = Other {
        Emr = "emr",
        Network = "network",
        MedicalDevice = "medical_device",
        Other = "other",
    }
}

code_enum! {
    /// Kind of external connection.
    ConnectionKind, "connection_kind", default = Other {
        Internet = "internet",
        VendorRemote = "vendor_remote",
        ClosedNetwork = "closed_network",
        Cloud = "cloud",
        Other = "other",
    }
}

code_enum! {
    /// How an external connection authenticates.
    Authentication, "authentication", default = Unknown {
        None = "none",
        Password = "password",
        Mfa = "mfa",
        Certificate = "certificate",
        Unknown = "unknown",
    }
}

code_enum! {
    /// Role of a mamori user.
    Role, "role", default = Viewer {
        Admin = "admin",
        Manager = "manager",
        Viewer = "viewer",
        Vendor = "vendor",
    }
}

impl Role {
    /// May change the inventory (assets, segments …).
    pub fn can_edit(self) -> bool {
        matches!(self, Role::Admin | Role::Manager)
    }

    /// May manage users and see the audit log.
    pub fn can_administer(self) -> bool {
        matches!(self, Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for k in AssetKind::ALL {
            assert_eq!(k.code().parse::<AssetKind>().ok(), Some(*k));
            let json = serde_json::to_string(k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.code()));
        }
        let err = "router".parse::<AssetKind>().err();
        assert!(err.is_some_and(|e| e.expected.contains("vpn_utm")));
    }

    #[test]
    fn only_admin_and_manager_edit() {
        assert!(Role::Admin.can_edit() && Role::Manager.can_edit());
        assert!(!Role::Viewer.can_edit() && !Role::Vendor.can_edit());
        assert!(Role::Admin.can_administer() && !Role::Manager.can_administer());
    }
}

code_enum! {
    /// Kind of file an inventory import reads (`mamori asset import --input-format`).
    SourceKind, "source_kind", default = Csv {
        Xlsx = "xlsx",
        Csv = "csv",
        Nmap = "nmap",
        IscLeases = "isc-leases",
        KeaLeases = "kea-leases",
        DnsmasqLeases = "dnsmasq-leases",
        Arp = "arp",
        Cyclonedx = "cyclonedx",
    }
}

impl SourceKind {
    /// True for sources that see devices on the network (scans, leases, neighbour tables)
    /// rather than describe them (ledgers, SBOMs). A device such a source sees that matches no
    /// asset goes to the unregistered-device queue (未登録機器) instead of the ledger.
    pub fn is_discovery(self) -> bool {
        matches!(
            self,
            SourceKind::Nmap
                | SourceKind::IscLeases
                | SourceKind::KeaLeases
                | SourceKind::DnsmasqLeases
                | SourceKind::Arp
        )
    }
}

code_enum! {
    /// A ledger column's meaning: what a spreadsheet header maps to (`--map 列名=field`).
    LedgerField, "ledger_field", default = Name {
        /// 管理番号: mamori's asset id, as written by `asset export`.
        AssetId = "asset_id",
        Name = "name",
        Hostname = "hostname",
        Kind = "kind",
        Criticality = "criticality",
        Vendor = "vendor",
        Product = "product",
        Model = "model",
        Os = "os",
        OsVersion = "os_version",
        Serial = "serial",
        Location = "location",
        Department = "department",
        Owner = "owner",
        Segment = "segment",
        Ip = "ip",
        Mac = "mac",
        InternetFacing = "internet_facing",
        EndpointProtection = "endpoint_protection",
        Maintainer = "maintainer",
        LastSeen = "last_seen",
        Notes = "notes",
    }
}

code_enum! {
    /// How sure mamori's content is of a checklist item's wording (research notes, or the
    /// official form a user loaded).
    Confidence, "confidence", default = Inferred {
        /// Loaded from the official MHLW form by the user (`checklist load-edition`).
        Official = "official",
        /// The exact text was seen in an MHLW document (OCR).
        VerbatimPrimary = "verbatim_primary",
        /// The exact text was seen quoted by a third party.
        VerbatimSecondary = "verbatim_secondary",
        /// A source gives the item; exact wording or characters uncertain.
        Paraphrased = "paraphrased",
        /// Not seen for this edition; deduced from another edition or the numbering.
        Inferred = "inferred",
        /// Only the beginning of the text was seen.
        Partial = "partial",
        /// The item is known to exist; its wording was not found.
        NotFound = "not_found",
    }
}

code_enum! {
    /// The device classes the checklist answers per item.
    DeviceClass, "device_class", default = All {
        /// 医療情報システム全般.
        All = "all",
        Server = "server",
        /// 端末PC.
        Pc = "pc",
        Network = "network",
    }
}

code_enum! {
    /// The two sheets of the checklist.
    SheetKind, "sheet_kind", default = Facility {
        /// 医療機関確認用 (医療機関等確認用, 医療機関・薬局確認用).
        Facility = "facility",
        /// 事業者確認用.
        Vendor = "vendor",
    }
}

code_enum! {
    /// Where a backup copy lives, which decides whether ransomware can reach it.
    BackupMedium, "backup_medium", default = Online {
        /// A NAS or server on the network, always connected.
        Online = "online",
        /// Disconnected after the copy (external disk or tape kept apart).
        Offline = "offline",
        /// Cannot be changed or deleted for a retention period (WORM, immutable snapshots).
        Immutable = "immutable",
        /// A cloud service.
        Cloud = "cloud",
    }
}
