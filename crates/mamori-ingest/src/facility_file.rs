//! The facility file (施設定義ファイル): a whole facility — profile, segments, assets with
//! interfaces, external connections, filtering policies, accounts, backups, vendors,
//! contracts, contacts — in TOML that a vendor or a consultant writes by hand and keeps in
//! version control. References are by name (`segment = "院内LAN"`), not by database id.
//!
//! The format is documented in `docs/facility-file.md` and described by the JSON Schema
//! `content/facility/facility.schema.json`; the serde types below are strict
//! (`deny_unknown_fields`, closed vocabularies) and agree with the schema (a test checks the
//! two on valid and invalid files). Every error names the file, the line and the field.
//!
//! [`parse`] gives a [`FacilityDoc`]: the model's types with *local* ids (1, 2, … in file
//! order) and every reference resolved; the store maps local ids to database ids.
//! [`write`] is the inverse, from model types to TOML text.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use mamori_model::network::{Policy, PolicyAction, Zone};
use mamori_model::{
    Account, AccountPrivilege, Asset, AssetData, AssetKind, Authentication, Backup, BackupMedium,
    ConnectionKind, Contact, Contract, Criticality, ExternalConnection, Facility, FacilityKind, Id,
    Interface, Segment, SegmentPurpose, Software, Vendor, VendorKind,
};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::IngestError;

/// `format` of a facility file.
pub const FORMAT: &str = "mamori-facility";
/// The version this build reads and writes.
pub const VERSION: i64 = 1;
/// Largest facility file read (a 50,000-asset hospital is about 20 MiB).
pub const MAX_BYTES: usize = 64 * 1024 * 1024;

/// A facility file with its references resolved to local ids.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FacilityDoc {
    pub facility: Option<Facility>,
    pub segments: Vec<Segment>,
    pub vendors: Vec<Vendor>,
    pub assets: Vec<Asset>,
    pub connections: Vec<ExternalConnection>,
    pub policies: Vec<Policy>,
    pub accounts: Vec<Account>,
    pub backups: Vec<Backup>,
    pub contracts: Vec<Contract>,
    pub contacts: Vec<Contact>,
}

impl FacilityDoc {
    /// The facility as the diagram and the risk engine read it (no vulnerability facts, no
    /// date: those come from the database).
    pub fn into_model(self) -> mamori_model::network::NetworkModel {
        mamori_model::network::NetworkModel {
            facility: self.facility,
            segments: self.segments,
            assets: self.assets,
            connections: self.connections,
            policies: self.policies,
            accounts: self.accounts,
            backups: self.backups,
            vendors: self.vendors,
            contracts: self.contracts,
            ..Default::default()
        }
    }
}

// ---- The file's shape (serde) ----

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileRoot {
    format: String,
    version: i64,
    facility: FileFacility,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    segments: Vec<FileSegment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    vendors: Vec<FileVendor>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    assets: Vec<FileAsset>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    connections: Vec<FileConnection>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    policies: Vec<FilePolicy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    accounts: Vec<FileAccount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    backups: Vec<FileBackup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contracts: Vec<FileContract>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    contacts: Vec<FileContact>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileFacility {
    name: String,
    kind: FacilityKind,
    #[serde(default)]
    beds: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_manager: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileSegment {
    name: Spanned<String>,
    purpose: SegmentPurpose,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cidr: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vlan: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileVendor {
    name: Spanned<String>,
    kind: VendorKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileInterface {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segment: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mac: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileSoftware {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cpe: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileAsset {
    name: Spanned<String>,
    kind: AssetKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default)]
    criticality: Criticality,
    #[serde(default)]
    internet_facing: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    endpoint_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    services: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    attributes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    interfaces: Vec<FileInterface>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    software: Vec<FileSoftware>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileConnection {
    name: Spanned<String>,
    kind: ConnectionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    provider: Option<String>,
    #[serde(default)]
    always_on: bool,
    authentication: Authentication,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    segment: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vendor: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    maintenance_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FilePolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gateway: Option<Spanned<String>>,
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    services: Vec<Spanned<String>>,
    action: PolicyAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileAccount {
    username: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    #[serde(default)]
    privilege: AccountPrivilege,
    #[serde(default)]
    shared: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<String>,
    #[serde(default)]
    holder_left: bool,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_used: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    assets: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    name: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    covers: Option<String>,
    medium: BackupMedium,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    asset: Option<Spanned<String>>,
    #[serde(default)]
    same_credentials: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_success: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_restore_test: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileContract {
    vendor: Spanned<String>,
    title: Spanned<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default)]
    remote_maintenance: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    responsibilities: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    end_date: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    assets: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FileContact {
    organization: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    notes: Option<String>,
}

// ---- Reading ----

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn line(&self, span: &Range<usize>) -> u64 {
        let upto = self.text.get(..span.start.min(self.text.len())).unwrap_or("");
        upto.bytes().filter(|b| *b == b'\n').count() as u64 + 1
    }

    fn err<T>(&self, span: &Range<usize>, field: &str, reason: impl Into<String>) -> Result<T, IngestError> {
        Err(IngestError::Invalid { file: self.file.to_owned(), line: self.line(span), field: field.to_owned(), reason: reason.into() })
    }
}

/// Names → local ids, refusing duplicates.
fn index<'a>(ctx: &Ctx<'_>, what: &str, names: impl Iterator<Item = &'a Spanned<String>>) -> Result<HashMap<String, Id>, IngestError> {
    let mut out = HashMap::new();
    for (i, n) in names.enumerate() {
        let name = n.get_ref().trim();
        if name.is_empty() {
            return ctx.err(&n.span(), &format!("{what}[{}].name", i + 1), "empty");
        }
        if out.insert(name.to_owned(), i as Id + 1).is_some() {
            return ctx.err(&n.span(), &format!("{what}[{}].name", i + 1), format!("`{name}` is defined twice (references are by name)"));
        }
    }
    Ok(out)
}

fn resolve(ctx: &Ctx<'_>, map: &HashMap<String, Id>, what: &str, field: &str, r: &Spanned<String>) -> Result<Id, IngestError> {
    match map.get(r.get_ref().trim()) {
        Some(id) => Ok(*id),
        None => ctx.err(&r.span(), field, format!("no {what} named `{}` in this file", r.get_ref())),
    }
}

/// Reads a facility file. `file` names it in errors.
pub fn parse(file: &str, bytes: &[u8]) -> Result<FacilityDoc, IngestError> {
    let invalid = |line: u64, field: &str, reason: String| IngestError::Invalid { file: file.to_owned(), line, field: field.to_owned(), reason };
    if bytes.len() > MAX_BYTES {
        return Err(IngestError::Refused { file: file.to_owned(), line: 0, field: "file".into(), reason: format!("larger than {} MiB", MAX_BYTES >> 20) });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes.get(..e.valid_up_to()).map(|b| b.iter().filter(|c| **c == b'\n').count() as u64 + 1).unwrap_or(1);
        invalid(line, "file", "not UTF-8 (save the facility file as UTF-8)".into())
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let ctx = Ctx { file, text };
    let root: FileRoot = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| ctx.line(&s)).unwrap_or(0);
        invalid(line, "toml", e.message().to_owned())
    })?;
    if root.format != FORMAT {
        return Err(invalid(1, "format", format!("expected `{FORMAT}`, found `{}`", root.format)));
    }
    if root.version != VERSION {
        return Err(invalid(1, "version", format!("version {} is not supported (this build reads {VERSION})", root.version)));
    }
    let segments = index(&ctx, "segments", root.segments.iter().map(|s| &s.name))?;
    let vendors = index(&ctx, "vendors", root.vendors.iter().map(|v| &v.name))?;
    let assets = index(&ctx, "assets", root.assets.iter().map(|a| &a.name))?;
    let connections = index(&ctx, "connections", root.connections.iter().map(|c| &c.name))?;
    let mut doc = FacilityDoc::default();
    let f = root.facility;
    if f.name.trim().is_empty() {
        return Err(invalid(1, "facility.name", "empty".into()));
    }
    doc.facility = Some(Facility { name: f.name, kind: f.kind, beds: f.beds, prefecture: f.prefecture, address: f.address, security_manager: f.security_manager, phone: f.phone });
    for (i, s) in root.segments.into_iter().enumerate() {
        if let Some(c) = &s.cidr
            && c.get_ref().parse::<ipnet::IpNet>().is_err()
        {
            return ctx.err(&c.span(), &format!("segments[{}].cidr", i + 1), format!("`{}` is not a network such as 192.168.10.0/24", c.get_ref()));
        }
        doc.segments.push(Segment { id: i as Id + 1, name: s.name.into_inner().trim().to_owned(), purpose: s.purpose, cidr: s.cidr.map(Spanned::into_inner), vlan: s.vlan, description: s.description });
    }
    for (i, v) in root.vendors.into_iter().enumerate() {
        doc.vendors.push(Vendor { id: i as Id + 1, name: v.name.into_inner().trim().to_owned(), kind: v.kind, contact_name: v.contact_name, phone: v.phone, email: v.email });
    }
    for (i, a) in root.assets.into_iter().enumerate() {
        let at = |f: &str| format!("assets[{}].{f}", i + 1);
        let name_span = a.name.span();
        let mut data = AssetData::new(a.name.get_ref().trim(), a.kind);
        data.vendor = a.vendor;
        data.product = a.product;
        data.model = a.model;
        data.os = a.os;
        data.os_version = a.os_version;
        data.serial = a.serial;
        data.location = a.location;
        data.department = a.department;
        data.owner = a.owner;
        data.criticality = a.criticality;
        data.internet_facing = a.internet_facing;
        data.endpoint_protection = a.endpoint_protection;
        data.last_seen = a.last_seen;
        data.notes = a.notes;
        for reserved in ["role", "services"] {
            if a.attributes.contains_key(reserved) {
                return ctx.err(&name_span, &at(&format!("attributes.{reserved}")), format!("write `{reserved}` as the asset's own field, not as an attribute"));
            }
        }
        data.attributes = a.attributes;
        if let Some(r) = a.role {
            if mamori_model::network::SystemRole::parse(r.get_ref()).is_none() {
                return ctx.err(&r.span(), &at("role"), format!("`{}` is not one of emr, receipt, pacs, backup", r.get_ref()));
            }
            data.attributes.insert("role".into(), r.into_inner());
        }
        if !a.services.is_empty() {
            for s in &a.services {
                if mamori_model::network::Service::parse_list(s.get_ref()).len() != 1 {
                    return ctx.err(&s.span(), &at("services"), format!("`{}` is not PORT/PROTOCOL [NAME], e.g. `3389/tcp rdp`", s.get_ref()));
                }
            }
            let list: Vec<String> = a.services.into_iter().map(Spanned::into_inner).collect();
            data.attributes.insert("services".into(), list.join(", "));
        }
        for (j, x) in a.interfaces.into_iter().enumerate() {
            let segment_id = match &x.segment {
                Some(s) => Some(resolve(&ctx, &segments, "segment", &at(&format!("interfaces[{}].segment", j + 1)), s)?),
                None => None,
            };
            data.interfaces.push(Interface { name: x.name, ip: x.ip, mac: x.mac, segment_id });
        }
        for s in a.software {
            data.software.push(Software { name: s.name, vendor: s.vendor, version: s.version, cpe: s.cpe, purl: s.purl });
        }
        if let Err(e) = data.validate() {
            return ctx.err(&name_span, &at(e.field), e.reason);
        }
        doc.assets.push(Asset { id: i as Id + 1, data, created_at: String::new(), updated_at: String::new() });
    }
    for (i, c) in root.connections.into_iter().enumerate() {
        let at = |f: &str| format!("connections[{}].{f}", i + 1);
        let asset_id = c.asset.as_ref().map(|r| resolve(&ctx, &assets, "asset", &at("asset"), r)).transpose()?;
        let segment_id = c.segment.as_ref().map(|r| resolve(&ctx, &segments, "segment", &at("segment"), r)).transpose()?;
        let vendor_id = c.vendor.as_ref().map(|r| resolve(&ctx, &vendors, "vendor", &at("vendor"), r)).transpose()?;
        doc.connections.push(ExternalConnection {
            id: i as Id + 1,
            name: c.name.into_inner().trim().to_owned(),
            kind: c.kind,
            provider: c.provider,
            always_on: c.always_on,
            authentication: c.authentication,
            owner: c.owner,
            asset_id,
            vendor_id,
            notes: c.notes,
            segment_id,
            maintenance_window: c.maintenance_window,
        });
    }
    let zone = |r: &Spanned<String>, field: &str| -> Result<Zone, IngestError> {
        let text = r.get_ref().trim();
        match text {
            "any" => return Ok(Zone::Any),
            "internet" => return Ok(Zone::Internet),
            _ => {}
        }
        let Some((kind, name)) = text.split_once(':') else {
            return ctx.err(&r.span(), field, format!("`{text}` is not internet, any, segment:NAME, asset:NAME or connection:NAME"));
        };
        let named = Spanned::new(r.span(), name.to_owned());
        match kind {
            "segment" => Ok(Zone::Segment(resolve(&ctx, &segments, "segment", field, &named)?)),
            "asset" => Ok(Zone::Asset(resolve(&ctx, &assets, "asset", field, &named)?)),
            "connection" => Ok(Zone::Connection(resolve(&ctx, &connections, "connection", field, &named)?)),
            _ => ctx.err(&r.span(), field, format!("`{kind}` is not segment, asset or connection")),
        }
    };
    for (i, p) in root.policies.into_iter().enumerate() {
        let at = |f: &str| format!("policies[{}].{f}", i + 1);
        let gateway_id = p.gateway.as_ref().map(|r| resolve(&ctx, &assets, "asset", &at("gateway"), r)).transpose()?;
        for s in &p.services {
            if !valid_service(s.get_ref()) {
                return ctx.err(&s.span(), &at("services"), format!("`{}` is not tcp/PORT, udp/PORT or a service name such as rdp", s.get_ref()));
            }
        }
        doc.policies.push(Policy {
            id: i as Id + 1,
            name: p.name,
            gateway_id,
            from: zone(&p.from, &at("from"))?,
            to: zone(&p.to, &at("to"))?,
            services: p.services.into_iter().map(|s| s.into_inner().trim().to_ascii_lowercase()).collect(),
            action: p.action,
            position: (i as i64 + 1) * 10,
            notes: p.notes,
        });
    }
    for (i, a) in root.accounts.into_iter().enumerate() {
        let at = format!("accounts[{}].assets", i + 1);
        let asset_ids = a.assets.iter().map(|r| resolve(&ctx, &assets, "asset", &at, r)).collect::<Result<Vec<_>, _>>()?;
        if a.username.get_ref().trim().is_empty() {
            return ctx.err(&a.username.span(), &format!("accounts[{}].username", i + 1), "empty");
        }
        doc.accounts.push(Account {
            id: i as Id + 1,
            username: a.username.into_inner(),
            system: a.system,
            privilege: a.privilege,
            shared: a.shared,
            person: a.person,
            holder_left: a.holder_left,
            enabled: a.enabled,
            last_used: a.last_used,
            asset_ids: dedup(asset_ids),
            notes: a.notes,
        });
    }
    for (i, b) in root.backups.into_iter().enumerate() {
        let asset_id = b.asset.as_ref().map(|r| resolve(&ctx, &assets, "asset", &format!("backups[{}].asset", i + 1), r)).transpose()?;
        doc.backups.push(Backup {
            id: i as Id + 1,
            name: b.name.into_inner(),
            covers: b.covers,
            medium: b.medium,
            asset_id,
            same_credentials: b.same_credentials,
            last_success: b.last_success,
            last_restore_test: b.last_restore_test,
            notes: b.notes,
        });
    }
    for (i, c) in root.contracts.into_iter().enumerate() {
        let vendor_id = resolve(&ctx, &vendors, "vendor", &format!("contracts[{}].vendor", i + 1), &c.vendor)?;
        let at = format!("contracts[{}].assets", i + 1);
        let asset_ids = c.assets.iter().map(|r| resolve(&ctx, &assets, "asset", &at, r)).collect::<Result<Vec<_>, _>>()?;
        doc.contracts.push(Contract {
            id: i as Id + 1,
            vendor_id,
            title: c.title.into_inner(),
            scope: c.scope,
            remote_maintenance: c.remote_maintenance,
            responsibilities: c.responsibilities,
            start_date: c.start_date,
            end_date: c.end_date,
            asset_ids: dedup(asset_ids),
        });
    }
    for (i, c) in root.contacts.into_iter().enumerate() {
        doc.contacts.push(Contact { id: i as Id + 1, organization: c.organization, name: c.name, phone: c.phone, email: c.email, notes: c.notes });
    }
    Ok(doc)
}

fn dedup(mut ids: Vec<Id>) -> Vec<Id> {
    let mut seen = std::collections::HashSet::new();
    ids.retain(|x| seen.insert(*x));
    ids
}

/// `tcp/443`, `udp/500`, or a lower-case service name (`rdp`, `ssl-vpn`).
fn valid_service(s: &str) -> bool {
    let s = s.trim();
    if let Some((proto, port)) = s.split_once('/') {
        return matches!(proto.to_ascii_lowercase().as_str(), "tcp" | "udp") && port.parse::<u16>().is_ok();
    }
    !s.is_empty() && s.len() <= 32 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

// ---- Writing ----

/// Writes a facility as a facility file. References are written as names; ids never appear.
/// Two entities of one kind with the same name get ` (#ID)` appended so references stay
/// unambiguous.
pub fn write(doc: &FacilityDoc) -> Result<String, String> {
    fn names<T>(items: &[T], id: impl Fn(&T) -> Id, name: impl Fn(&T) -> &str) -> HashMap<Id, String> {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for i in items {
            *count.entry(name(i).trim()).or_default() += 1;
        }
        items
            .iter()
            .map(|i| {
                let n = name(i).trim();
                let unique = if count.get(n).copied().unwrap_or(0) > 1 { format!("{n} (#{})", id(i)) } else { n.to_owned() };
                (id(i), unique)
            })
            .collect()
    }
    let seg = names(&doc.segments, |s| s.id, |s| &s.name);
    let ven = names(&doc.vendors, |v| v.id, |v| &v.name);
    let ast = names(&doc.assets, |a| a.id, |a| &a.data.name);
    let con = names(&doc.connections, |c| c.id, |c| &c.name);
    let sp = |s: String| Spanned::new(0..0, s);
    let name_of = |m: &HashMap<Id, String>, id: Id| m.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let f = doc.facility.clone().ok_or("no facility profile")?;
    let zone = |z: Zone| -> Spanned<String> {
        sp(match z {
            Zone::Any => "any".into(),
            Zone::Internet => "internet".into(),
            Zone::Segment(id) => format!("segment:{}", name_of(&seg, id)),
            Zone::Asset(id) => format!("asset:{}", name_of(&ast, id)),
            Zone::Connection(id) => format!("connection:{}", name_of(&con, id)),
        })
    };
    let mut policies: Vec<&Policy> = doc.policies.iter().collect();
    policies.sort_by_key(|p| (p.position, p.id));
    let root = FileRoot {
        format: FORMAT.into(),
        version: VERSION,
        facility: FileFacility { name: f.name, kind: f.kind, beds: f.beds, prefecture: f.prefecture, address: f.address, security_manager: f.security_manager, phone: f.phone },
        segments: doc
            .segments
            .iter()
            .map(|s| FileSegment { name: sp(name_of(&seg, s.id)), purpose: s.purpose, cidr: s.cidr.clone().map(sp), vlan: s.vlan, description: s.description.clone() })
            .collect(),
        vendors: doc
            .vendors
            .iter()
            .map(|v| FileVendor { name: sp(name_of(&ven, v.id)), kind: v.kind, contact_name: v.contact_name.clone(), phone: v.phone.clone(), email: v.email.clone() })
            .collect(),
        assets: doc
            .assets
            .iter()
            .map(|a| {
                let d = &a.data;
                let mut attributes = d.attributes.clone();
                let role = attributes.remove("role").map(sp);
                let services = attributes
                    .remove("services")
                    .map(|s| s.split(',').map(|x| sp(x.trim().to_owned())).filter(|x| !x.get_ref().is_empty()).collect())
                    .unwrap_or_default();
                FileAsset {
                    name: sp(name_of(&ast, a.id)),
                    kind: d.kind,
                    role,
                    vendor: d.vendor.clone(),
                    product: d.product.clone(),
                    model: d.model.clone(),
                    os: d.os.clone(),
                    os_version: d.os_version.clone(),
                    serial: d.serial.clone(),
                    location: d.location.clone(),
                    department: d.department.clone(),
                    owner: d.owner.clone(),
                    criticality: d.criticality,
                    internet_facing: d.internet_facing,
                    endpoint_protection: d.endpoint_protection,
                    last_seen: d.last_seen.clone(),
                    services,
                    notes: d.notes.clone(),
                    attributes,
                    interfaces: d
                        .interfaces
                        .iter()
                        .map(|i| FileInterface { name: i.name.clone(), segment: i.segment_id.map(|s| sp(name_of(&seg, s))), ip: i.ip.clone(), mac: i.mac.clone() })
                        .collect(),
                    software: d
                        .software
                        .iter()
                        .map(|s| FileSoftware { name: s.name.clone(), vendor: s.vendor.clone(), version: s.version.clone(), cpe: s.cpe.clone(), purl: s.purl.clone() })
                        .collect(),
                }
            })
            .collect(),
        connections: doc
            .connections
            .iter()
            .map(|c| FileConnection {
                name: sp(name_of(&con, c.id)),
                kind: c.kind,
                provider: c.provider.clone(),
                always_on: c.always_on,
                authentication: c.authentication,
                owner: c.owner.clone(),
                asset: c.asset_id.map(|x| sp(name_of(&ast, x))),
                segment: c.segment_id.map(|x| sp(name_of(&seg, x))),
                vendor: c.vendor_id.map(|x| sp(name_of(&ven, x))),
                maintenance_window: c.maintenance_window.clone(),
                notes: c.notes.clone(),
            })
            .collect(),
        policies: policies
            .iter()
            .map(|p| FilePolicy {
                name: p.name.clone(),
                gateway: p.gateway_id.map(|x| sp(name_of(&ast, x))),
                from: zone(p.from),
                to: zone(p.to),
                services: p.services.iter().cloned().map(sp).collect(),
                action: p.action,
                notes: p.notes.clone(),
            })
            .collect(),
        accounts: doc
            .accounts
            .iter()
            .map(|a| FileAccount {
                username: sp(a.username.clone()),
                system: a.system.clone(),
                privilege: a.privilege,
                shared: a.shared,
                person: a.person.clone(),
                holder_left: a.holder_left,
                enabled: a.enabled,
                last_used: a.last_used.clone(),
                assets: a.asset_ids.iter().map(|x| sp(name_of(&ast, *x))).collect(),
                notes: a.notes.clone(),
            })
            .collect(),
        backups: doc
            .backups
            .iter()
            .map(|b| FileBackup {
                name: sp(b.name.clone()),
                covers: b.covers.clone(),
                medium: b.medium,
                asset: b.asset_id.map(|x| sp(name_of(&ast, x))),
                same_credentials: b.same_credentials,
                last_success: b.last_success.clone(),
                last_restore_test: b.last_restore_test.clone(),
                notes: b.notes.clone(),
            })
            .collect(),
        contracts: doc
            .contracts
            .iter()
            .map(|c| FileContract {
                vendor: sp(name_of(&ven, c.vendor_id)),
                title: sp(c.title.clone()),
                scope: c.scope.clone(),
                remote_maintenance: c.remote_maintenance,
                responsibilities: c.responsibilities.clone(),
                start_date: c.start_date.clone(),
                end_date: c.end_date.clone(),
                assets: c.asset_ids.iter().map(|x| sp(name_of(&ast, *x))).collect(),
            })
            .collect(),
        contacts: doc
            .contacts
            .iter()
            .map(|c| FileContact { organization: c.organization.clone(), name: c.name.clone(), phone: c.phone.clone(), email: c.email.clone(), notes: c.notes.clone() })
            .collect(),
    };
    let body = toml::to_string_pretty(&root).map_err(|e| e.to_string())?;
    Ok(format!(
        "# mamori facility file (施設定義ファイル). Format: docs/facility-file.md;\n# schema: content/facility/facility.schema.json.\n{body}"
    ))
}
