//! Inventory import: reconciles what outside sources say ([`Observation`]s) with the assets the
//! store holds, previews the result, and applies it in one transaction.
//!
//! Matching, first hit wins, and the reason is recorded with the asset's provenance:
//! 1. the asset id a mamori ledger export carries (管理番号);
//! 2. a stable MAC address (randomised, locally administered MACs are never identity);
//! 3. the DHCP client identifier, then the host name (unique matches only);
//! 4. the serial number;
//! 5. the IP address, only within the same segment, only when the asset's known MAC does not
//!    contradict it, and for discovery sources only when the asset was seen within
//!    [`IP_MATCH_WINDOW_DAYS`] of the observation;
//! 6. for ledgers, the asset name (unique matches only).
//!
//! Ledgers are authoritative for what they describe; scans, leases and neighbour tables only fill
//! gaps, add addresses and move `last_seen` forward; an SBOM replaces the software list. A device
//! a discovery source sees that matches no asset is flagged as unregistered (未登録機器) and
//! waits in a queue for a manager to adopt or reject it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use mamori_model::{
    Asset, AssetData, AssetKind, Detail, Id, Interface, MAX_INTERFACES, Observation, Segment,
    Software, SourceKind, is_randomized_mac,
};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;

use crate::assets::{BatchAsset, diff, normalised, write_asset, write_assets_batch};
use crate::keys::{self, host_key, name_key};
use crate::util::now;
use crate::{Result, Store, StoreError, WriteTx};

/// An IP address alone identifies a device seen by a scan or a lease only if the asset was seen
/// within this many days of the observation (addresses are reassigned).
pub const IP_MATCH_WINDOW_DAYS: i64 = 30;

/// Most entries each list of an [`ImportPlan`] keeps for the preview; the counts stay exact.
pub const PREVIEW_LIMIT: usize = 1000;

/// The file an import reads.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSource {
    pub kind: SourceKind,
    pub file_name: String,
    /// SHA-256 of the file's bytes, recorded with the import.
    pub sha256: String,
    /// When the source was taken (scan start), Unix seconds.
    pub taken_at: Option<i64>,
}

/// A record the parser could not read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedRow {
    pub file: String,
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// Why an observation was attached to an asset or queue entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    AssetId,
    Target,
    Mac,
    ClientId,
    Hostname,
    Serial,
    Ip,
    Name,
    New,
}

impl MatchReason {
    pub fn code(self) -> &'static str {
        match self {
            MatchReason::AssetId => "asset_id",
            MatchReason::Target => "target",
            MatchReason::Mac => "mac",
            MatchReason::ClientId => "client_id",
            MatchReason::Hostname => "hostname",
            MatchReason::Serial => "serial",
            MatchReason::Ip => "ip",
            MatchReason::Name => "name",
            MatchReason::New => "new",
        }
    }
}

/// A new asset the import creates.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedAsset {
    pub line: u64,
    /// Known once applied; `None` in a dry run.
    pub asset_id: Option<Id>,
    pub name: String,
    pub kind: AssetKind,
    pub ip: Option<String>,
    pub mac: Option<String>,
}

/// An existing asset the import changes.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedChange {
    pub line: u64,
    pub asset_id: Id,
    pub name: String,
    pub reason: MatchReason,
    /// Field → `[old, new]`.
    pub changes: Detail,
}

/// A device no asset matches: flagged as unregistered (未登録機器).
#[derive(Debug, Clone, Serialize)]
pub struct PlannedDiscovery {
    pub line: u64,
    /// The queue entry; `None` for a new entry in a dry run.
    pub discovery_id: Option<Id>,
    /// True when the device was not in the queue before.
    pub new: bool,
    pub ip: Option<String>,
    pub mac: Option<String>,
    pub hostname: Option<String>,
    pub mac_vendor: Option<String>,
    pub randomized_mac: bool,
}

/// Something the import did not decide by itself; the row is applied as far as it is safe.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    pub line: u64,
    pub asset_id: Option<Id>,
    /// `ambiguous_name`, `ambiguous_hostname`, `ip_other_mac`, `unknown_segment`, `id_mac_other_asset`,
    /// `invalid`, `too_many_interfaces`, `unknown_asset_id`.
    pub code: &'static str,
    pub detail: String,
}

/// Exact counts of an import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub observations: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Devices seen that are not in the ledger (new and already queued).
    pub flagged: u64,
    /// Of `flagged`, those not in the queue before.
    pub flagged_new: u64,
    /// Devices a manager rejected before, seen again.
    pub ignored: u64,
    pub conflicts: u64,
    pub rejected: u64,
}

/// What an import does (preview) or did (applied).
#[derive(Debug, Clone, Serialize)]
pub struct ImportPlan {
    pub source: ImportSource,
    pub dry_run: bool,
    /// The import's id once applied.
    pub import_id: Option<Id>,
    pub counts: ImportCounts,
    pub created: Vec<PlannedAsset>,
    pub updated: Vec<PlannedChange>,
    pub flagged: Vec<PlannedDiscovery>,
    pub conflicts: Vec<Conflict>,
    pub rejected: Vec<RejectedRow>,
}

/// Options of one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Compute the plan and roll back.
    pub dry_run: bool,
    /// The asset an SBOM describes (otherwise matched by serial, host name or name).
    pub target_asset: Option<Id>,
}

/// Progress reporting and cancellation of a long import.
pub trait ImportControl: Send + Sync {
    /// `phase` is `match` or `write`; `done` of `total` items.
    fn progress(&self, _phase: &'static str, _done: u64, _total: u64) {}
    fn cancelled(&self) -> bool {
        false
    }
}

/// No progress, never cancelled.
pub struct Quiet;
impl ImportControl for Quiet {}

/// Cancellation by a flag (the web import's cancel button, Ctrl-C on the CLI).
impl ImportControl for AtomicBool {
    fn cancelled(&self) -> bool {
        self.load(Ordering::Relaxed)
    }
}

/// A stored provenance record: one source's statement about one asset.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssetSource {
    pub import_id: Id,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub file_name: String,
    pub line: i64,
    pub observed_at: Option<String>,
    pub match_reason: String,
    #[schema(value_type = Object)]
    pub data: Value,
    #[schema(value_type = Object)]
    pub changes: Value,
}

/// One entry of the unregistered-device queue.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiscoveredDevice {
    pub id: Id,
    /// `pending`, `adopted` or `rejected`.
    pub status: String,
    pub mac: Option<String>,
    pub ip: Option<String>,
    pub hostname: Option<String>,
    pub client_id: Option<String>,
    pub mac_vendor: Option<String>,
    pub segment_id: Option<Id>,
    pub first_seen: String,
    pub last_seen: String,
    pub sources: Vec<String>,
    #[schema(value_type = Object)]
    pub data: Value,
    pub asset_id: Option<Id>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl DiscoveredDevice {
    pub fn randomized_mac(&self) -> bool {
        self.mac.as_deref().is_some_and(is_randomized_mac)
    }
}

/// Past imports, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImportRecord {
    pub id: Id,
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub file_name: String,
    pub sha256: String,
    #[schema(value_type = Object)]
    pub summary: Value,
}

// ---------------------------------------------------------------------------------------------
// Reconciliation state

struct Known {
    id: Option<Id>,
    /// The asset existed before this import.
    existed: bool,
    /// Its data before this import, kept from the first change on (untouched assets keep no copy).
    original: Option<AssetData>,
    data: AssetData,
    created_at: String,
    /// First match reason and the line of the first observation of this import about it (the
    /// one that created it, for a new asset): for the preview.
    reason: MatchReason,
    first_line: u64,
    touched: bool,
}

struct SegmentNet {
    id: Id,
    name_key: String,
    net: Option<ipnet::IpNet>,
}

#[derive(Default)]
struct Queue {
    rows: Vec<DiscoveredDevice>,
    dirty: BTreeSet<usize>,
    by_mac: HashMap<String, usize>,
    by_client: HashMap<String, usize>,
    by_host: HashMap<String, usize>,
    by_ip: HashMap<String, usize>,
}

/// One `asset_sources` row to insert: asset, line, observed at, match reason, data, changes.
type ProvenanceRow = (Id, i64, Option<String>, &'static str, String, String);

struct Provenance {
    asset: usize,
    /// Index of the observation in the import's input.
    obs: usize,
    reason: MatchReason,
}

struct Recon {
    kind: SourceKind,
    assets: Vec<Known>,
    by_id: HashMap<Id, usize>,
    by_mac: HashMap<String, usize>,
    by_client: HashMap<String, Vec<usize>>,
    by_host: HashMap<String, Vec<usize>>,
    by_serial: HashMap<String, Vec<usize>>,
    by_ip: HashMap<String, Vec<usize>>,
    by_name: HashMap<String, Vec<usize>>,
    segments: Vec<SegmentNet>,
    queue: Queue,
    provenance: Vec<Provenance>,
    plan_conflicts: Vec<Conflict>,
    plan_flagged: Vec<PlannedDiscovery>,
    /// Entries of `plan_flagged` made by this chunk and their queue rows, to give new entries
    /// their id once written.
    plan_flagged_rows: Vec<(usize, usize)>,
    counts: ImportCounts,
    today: String,
}


/// Unix seconds as the store writes timestamps (RFC 3339 UTC to the second).
fn date_of(ts: i64) -> Option<String> {
    let t = jiff::Timestamp::from_second(ts).ok()?;
    Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn days_between(a: &str, b: &str) -> Option<i64> {
    let a: jiff::civil::Date = a.get(0..10)?.parse().ok()?;
    let b: jiff::civil::Date = b.get(0..10)?.parse().ok()?;
    Some(i64::from(a.until(b).ok()?.get_days()).abs())
}

fn push_limited<T>(v: &mut Vec<T>, item: T) {
    if v.len() < PREVIEW_LIMIT {
        v.push(item);
    }
}

impl Recon {
    fn index_asset(&mut self, idx: usize) {
        let Some(k) = self.assets.get(idx) else { return };
        let d = &k.data;
        if let Some(id) = k.id {
            self.by_id.insert(id, idx);
        }
        let mut macs = Vec::new();
        let mut ips = Vec::new();
        for i in &d.interfaces {
            if let Some(m) = i.mac.as_deref().filter(|m| !is_randomized_mac(m)) {
                macs.push(m.to_owned());
            }
            if let Some(ip) = &i.ip {
                ips.push(ip.clone());
            }
        }
        let client = d.attributes.get("dhcp.client_id").cloned();
        let host = d.attributes.get("hostname").and_then(|h| host_key(h));
        let name = name_key(&d.name);
        let name_as_host = host_key(&d.name);
        let serial = d.serial.as_deref().and_then(name_key);
        for m in macs {
            self.by_mac.entry(m).or_insert(idx);
        }
        for ip in ips {
            let v = self.by_ip.entry(ip).or_default();
            if !v.contains(&idx) {
                v.push(idx);
            }
        }
        let add = |map: &mut HashMap<String, Vec<usize>>, key: Option<String>| {
            if let Some(key) = key {
                let v = map.entry(key).or_default();
                if !v.contains(&idx) {
                    v.push(idx);
                }
            }
        };
        add(&mut self.by_client, client);
        add(&mut self.by_host, host);
        add(&mut self.by_host, name_as_host);
        add(&mut self.by_serial, serial);
        add(&mut self.by_name, name);
    }

    fn segment_of(&self, ip: &str) -> Option<Id> {
        segment_containing(&self.segments, ip.parse().ok()?)
    }

    fn segment_named(&self, name: &str) -> Option<Id> {
        let key = name.trim().to_lowercase();
        if let Ok(id) = key.parse::<Id>()
            && self.segments.iter().any(|s| s.id == id)
        {
            return Some(id);
        }
        self.segments.iter().find(|s| s.name_key == key).map(|s| s.id)
    }

    fn conflict(&mut self, line: u64, asset_id: Option<Id>, code: &'static str, detail: String) {
        self.counts.conflicts += 1;
        push_limited(&mut self.plan_conflicts, Conflict { line, asset_id, code, detail });
    }

    fn unique(&self, v: Option<&Vec<usize>>) -> Result<Option<usize>, usize> {
        match v.map(Vec::as_slice) {
            Some([one]) => Ok(Some(*one)),
            Some(many) if many.len() > 1 => Err(many.len()),
            _ => Ok(None),
        }
    }

    /// Finds the asset an observation describes.
    fn find(&mut self, obs: &Observation, target: Option<Id>) -> Option<(usize, MatchReason)> {
        let ledger = matches!(self.kind, SourceKind::Csv | SourceKind::Xlsx);
        if let Some(id) = target
            && let Some(&i) = self.by_id.get(&id)
        {
            return Some((i, MatchReason::Target));
        }
        if let Some(id) = obs.asset_id {
            if let Some(&i) = self.by_id.get(&id) {
                if let Some(m) = obs.stable_mac()
                    && let Some(&other) = self.by_mac.get(m)
                    && other != i
                {
                    let other_id = self.assets.get(other).and_then(|k| k.id);
                    self.conflict(
                        obs.line,
                        Some(id),
                        "id_mac_other_asset",
                        format!("{m} → {}", other_id.map(|x| x.to_string()).unwrap_or_default()),
                    );
                }
                return Some((i, MatchReason::AssetId));
            }
            self.conflict(obs.line, None, "unknown_asset_id", id.to_string());
        }
        if let Some(m) = obs.stable_mac()
            && let Some(&i) = self.by_mac.get(m)
        {
            return Some((i, MatchReason::Mac));
        }
        if let Some(c) = obs.client_id.as_deref()
            && let Ok(Some(i)) = self.unique(self.by_client.get(c))
            && self.mac_compatible(i, obs)
        {
            return Some((i, MatchReason::ClientId));
        }
        if let Some(h) = obs.hostname.as_deref().and_then(host_key) {
            match self.unique(self.by_host.get(&h)) {
                Ok(Some(i)) if self.mac_compatible(i, obs) => {
                    return Some((i, MatchReason::Hostname));
                }
                Err(n) => {
                    self.conflict(obs.line, None, "ambiguous_hostname", format!("{h} ({n})"));
                }
                _ => {}
            }
        }
        if let Some(s) = obs.serial.as_deref().and_then(name_key)
            && let Ok(Some(i)) = self.unique(self.by_serial.get(&s))
        {
            return Some((i, MatchReason::Serial));
        }
        if let Some(ip) = obs.ip.as_deref()
            && let Some(i) = self.match_ip(ip, obs, ledger)
        {
            return Some((i, MatchReason::Ip));
        }
        if ledger && let Some(n) = obs.name.as_deref().and_then(name_key) {
            match self.unique(self.by_name.get(&n)) {
                Ok(Some(i)) if self.mac_compatible(i, obs) => return Some((i, MatchReason::Name)),
                Err(count) => {
                    self.conflict(obs.line, None, "ambiguous_name", format!("{n} ({count})"));
                }
                _ => {}
            }
        }
        if !ledger
            && self.kind == SourceKind::Cyclonedx
            && let Some(n) = obs.name.as_deref().and_then(name_key)
            && let Ok(Some(i)) = self.unique(self.by_name.get(&n))
        {
            return Some((i, MatchReason::Name));
        }
        None
    }

    /// False when the observation's stable MAC and the asset's stable MACs disagree.
    fn mac_compatible(&self, idx: usize, obs: &Observation) -> bool {
        let Some(m) = obs.stable_mac() else { return true };
        let Some(k) = self.assets.get(idx) else { return false };
        let theirs: Vec<&str> = k
            .data
            .interfaces
            .iter()
            .filter_map(|i| i.mac.as_deref())
            .filter(|m| !is_randomized_mac(m))
            .collect();
        theirs.is_empty() || theirs.contains(&m)
    }

    fn match_ip(&mut self, ip: &str, obs: &Observation, ledger: bool) -> Option<usize> {
        let candidates = self.by_ip.get(ip)?.clone();
        let obs_segment = self.segment_of(ip);
        let obs_date = obs.seen_at.and_then(date_of);
        for idx in candidates {
            let Some(k) = self.assets.get(idx) else { continue };
            let Some(iface) = k.data.interfaces.iter().find(|i| i.ip.as_deref() == Some(ip)) else {
                continue;
            };
            if iface.segment_id.is_some() && obs_segment.is_some() && iface.segment_id != obs_segment
            {
                continue;
            }
            if let (Some(theirs), Some(ours)) =
                (iface.mac.as_deref().filter(|m| !is_randomized_mac(m)), obs.stable_mac())
                && theirs != ours
            {
                let id = k.id;
                self.conflict(
                    obs.line,
                    id,
                    "ip_other_mac",
                    format!("{ip}: {theirs} → {ours}"),
                );
                continue;
            }
            if ledger
                && let (Some(ours), Some(theirs)) =
                    (obs.name.as_deref().and_then(name_key), name_key(&k.data.name))
                && ours != theirs
            {
                let id = k.id;
                self.conflict(obs.line, id, "ip_other_name", format!("{ip}: {theirs} / {ours}"));
                continue;
            }
            if !ledger
                && let (Some(seen), Some(obs_date)) = (k.data.last_seen.as_deref(), obs_date.as_deref())
                && days_between(seen, obs_date).is_some_and(|d| d > IP_MATCH_WINDOW_DAYS)
            {
                continue;
            }
            return Some(idx);
        }
        None
    }

    fn record(&mut self, idx: usize, obs_index: usize, obs: &Observation, reason: MatchReason) {
        self.provenance.push(Provenance { asset: idx, obs: obs_index, reason });
        if let Some(k) = self.assets.get_mut(idx)
            && !k.touched
        {
            k.touched = true;
            k.reason = reason;
            k.first_line = obs.line;
        }
    }

    /// Applies what the observation says to the asset's data, by the source's authority.
    fn merge(&mut self, idx: usize, obs: &Observation) {
        let kind = self.kind;
        let ledger = matches!(kind, SourceKind::Csv | SourceKind::Xlsx);
        let sbom = kind == SourceKind::Cyclonedx;
        let segment_named = match obs.segment.as_deref() {
            Some(name) if !name.trim().is_empty() => {
                let found = self.segment_named(name);
                if found.is_none() {
                    let id = self.assets.get(idx).and_then(|k| k.id);
                    self.conflict(obs.line, id, "unknown_segment", name.to_owned());
                }
                found
            }
            _ => None,
        };
        let seen = obs.seen_at.and_then(date_of);
        let segments = &self.segments;
        let Some(k) = self.assets.get_mut(idx) else { return };
        if k.existed && k.original.is_none() {
            k.original = Some(k.data.clone());
        }
        let d = &mut k.data;

        let strings: [(&mut Option<String>, &Option<String>); 10] = [
            (&mut d.vendor, &obs.vendor),
            (&mut d.product, &obs.product),
            (&mut d.model, &obs.model),
            (&mut d.os, &obs.os),
            (&mut d.os_version, &obs.os_version),
            (&mut d.serial, &obs.serial),
            (&mut d.location, &obs.location),
            (&mut d.department, &obs.department),
            (&mut d.owner, &obs.owner),
            (&mut d.notes, &obs.notes),
        ];
        for (field, value) in strings {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty())
                && (ledger || field.is_none())
            {
                *field = Some(v.to_owned());
            }
        }
        if ledger {
            if let Some(n) = obs.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                d.name = n.to_owned();
            }
            if let Some(kind) = obs.kind {
                d.kind = kind;
            }
            if let Some(c) = obs.criticality {
                d.criticality = c;
            }
            if let Some(b) = obs.internet_facing {
                d.internet_facing = b;
            }
            if let Some(b) = obs.endpoint_protection {
                d.endpoint_protection = Some(b);
            }
        } else if d.kind == AssetKind::Unknown
            && let Some(kind) = obs.kind
        {
            d.kind = kind;
        }
        let mut set_attr = |key: &str, value: &Option<String>, overwrite: bool| {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty())
                && (overwrite || !d.attributes.contains_key(key))
            {
                d.attributes.insert(key.to_owned(), v.to_owned());
            }
        };
        set_attr("hostname", &obs.hostname, ledger);
        set_attr("maintainer", &obs.maintainer, true);
        set_attr("mac_vendor", &obs.mac_vendor, false);
        set_attr("dhcp.client_id", &obs.client_id, true);
        for (key, v) in &obs.attributes {
            if !v.trim().is_empty() {
                d.attributes.insert(key.clone(), v.clone());
            }
        }
        if let Some(seen) = seen
            && d.last_seen.as_deref().is_none_or(|old| old < seen.as_str())
        {
            d.last_seen = Some(seen);
        }

        // Addresses.
        let mut pairs: Vec<Interface> = Vec::new();
        if obs.ip.is_some() || obs.mac.is_some() {
            pairs.push(Interface { name: None, ip: obs.ip.clone(), mac: obs.mac.clone(), segment_id: None });
        }
        pairs.extend(obs.extra_interfaces.iter().cloned());
        let single_homed = d.interfaces.len() <= 1;
        let any_segment = d.interfaces.iter().any(|i| i.segment_id.is_some());
        let mut used = vec![false; d.interfaces.len()];
        let mut unplaced = Vec::new();
        for p in pairs {
            let by_mac = p.mac.as_ref().and_then(|m| {
                d.interfaces.iter().position(|i| i.mac.as_ref() == Some(m))
            });
            let by_ip = || {
                p.ip.as_ref().and_then(|ip| {
                    d.interfaces.iter().enumerate().position(|(n, i)| {
                        i.ip.as_ref() == Some(ip)
                            && !used.get(n).copied().unwrap_or(true)
                            && (p.mac.is_none() || i.mac.is_none())
                    })
                })
            };
            match by_mac.or_else(by_ip) {
                Some(n) => {
                    if let Some(u) = used.get_mut(n) {
                        *u = true;
                    }
                    if let Some(i) = d.interfaces.get_mut(n) {
                        if p.ip.is_some() {
                            i.ip = p.ip.clone();
                        }
                        if p.mac.is_some() {
                            i.mac = p.mac.clone();
                        }
                        // The ledger's one 区画 column speaks for a single-homed device; a
                        // device on several segments keeps the segment of each interface.
                        if segment_named.is_some() && (single_homed || !any_segment) {
                            i.segment_id = segment_named;
                        }
                    }
                }
                None => unplaced.push(p),
            }
        }
        for mut p in unplaced {
            // A ledger that gives one address for a device with one address it does not
            // contradict re-addresses it rather than adding a second interface.
            let free = ledger.then(|| {
                d.interfaces.iter().enumerate().position(|(n, i)| {
                    !used.get(n).copied().unwrap_or(true)
                        && (p.mac.is_none() || i.mac.is_none())
                        && (p.ip.is_none() || i.ip.is_none() || d.interfaces.len() == 1)
                })
            });
            match free.flatten() {
                Some(n) => {
                    if let Some(u) = used.get_mut(n) {
                        *u = true;
                    }
                    if let Some(i) = d.interfaces.get_mut(n) {
                        if p.ip.is_some() {
                            i.ip = p.ip;
                        }
                        if p.mac.is_some() {
                            i.mac = p.mac;
                        }
                        // The ledger's one 区画 column speaks for a single-homed device; a
                        // device on several segments keeps the segment of each interface.
                        if segment_named.is_some() && (single_homed || !any_segment) {
                            i.segment_id = segment_named;
                        }
                    }
                }
                None if d.interfaces.len() < MAX_INTERFACES => {
                    p.segment_id = segment_named;
                    d.interfaces.push(p);
                    used.push(true);
                }
                None => {}
            }
        }
        for i in &mut d.interfaces {
            if i.segment_id.is_none()
                && let Some(ip) = i.ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok())
            {
                i.segment_id = segment_containing(segments, ip);
            }
        }

        // Software.
        if sbom && !obs.software.is_empty() {
            d.software = obs.software.clone();
        } else {
            for s in &obs.software {
                let present = d
                    .software
                    .iter()
                    .any(|o| o.name == s.name && o.version == s.version);
                if !present {
                    d.software.push(s.clone());
                }
            }
        }
    }

    fn new_asset(&mut self, obs: &Observation) -> Option<usize> {
        let name = obs
            .name
            .as_deref()
            .or(obs.hostname.as_deref())
            .or(obs.ip.as_deref())
            .or(obs.mac.as_deref())
            .or(obs.serial.as_deref())
            .map(str::trim)
            .filter(|n| !n.is_empty())?
            .to_owned();
        let data = AssetData::new(name, obs.kind.unwrap_or_default());
        self.assets.push(Known {
            id: None,
            existed: false,
            original: None,
            data,
            created_at: String::new(),
            reason: MatchReason::New,
            first_line: obs.line,
            touched: false,
        });
        Some(self.assets.len() - 1)
    }

    fn observe(&mut self, obs_index: usize, obs: &Observation, target: Option<Id>) {
        self.counts.observations += 1;
        if obs.is_empty() && target.is_none() {
            return;
        }
        let found = self.find(obs, target);
        if let Some((idx, reason)) = found {
            self.merge(idx, obs);
            self.record(idx, obs_index, obs, reason);
            self.index_asset(idx);
            return;
        }
        if self.kind.is_discovery() {
            self.enqueue(obs);
            return;
        }
        let Some(idx) = self.new_asset(obs) else {
            self.conflict(obs.line, None, "invalid", "name".to_owned());
            return;
        };
        self.merge(idx, obs);
        let valid = self.assets.get(idx).map(|k| k.data.validate());
        if let Some(Err(e)) = valid {
            self.assets.pop();
            self.conflict(obs.line, None, "invalid", format!("{}: {}", e.field, e.reason));
            return;
        }
        self.record(idx, obs_index, obs, MatchReason::New);
        self.index_asset(idx);
    }

    fn enqueue(&mut self, obs: &Observation) {
        let q = &mut self.queue;
        let mac = obs.mac.clone();
        let stable = obs.stable_mac().map(str::to_owned);
        let host = obs.hostname.as_deref().and_then(host_key);
        let found = stable
            .as_ref()
            .and_then(|m| q.by_mac.get(m))
            .or_else(|| {
                // A client id or host name re-identifies a queued device only if no stable MAC
                // contradicts it (client ids are often derived from the MAC, host names repeat).
                let compatible = |i: &&usize| {
                    q.rows.get(**i).is_some_and(|r| {
                        stable.is_none()
                            || r.mac.as_deref().is_none_or(|m| is_randomized_mac(m) || Some(m) == stable.as_deref())
                    })
                };
                obs.client_id
                    .as_ref()
                    .and_then(|c| q.by_client.get(c))
                    .filter(compatible)
                    .or_else(|| host.as_ref().and_then(|h| q.by_host.get(h)).filter(compatible))
            })
            .or_else(|| {
                obs.ip.as_ref().and_then(|ip| q.by_ip.get(ip)).filter(|&&i| {
                    // An address alone re-identifies a queued device only if its MAC agrees.
                    q.rows.get(i).is_some_and(|r| {
                        r.mac.is_none() || stable.is_none() || r.mac == stable
                    })
                })
            })
            .copied();
        let seen = obs.seen_at.and_then(|t| jiff::Timestamp::from_second(t).ok());
        let seen = seen.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_else(|| self.today.clone());
        let segment = obs.ip.as_deref().and_then(|ip| self.segment_of(ip));
        let kind = self.kind.code().to_owned();
        let q = &mut self.queue;
        let (idx, new) = match found {
            Some(i) => (i, false),
            None => {
                q.rows.push(DiscoveredDevice {
                    id: 0,
                    status: "pending".into(),
                    mac: None,
                    ip: None,
                    hostname: None,
                    client_id: None,
                    mac_vendor: None,
                    segment_id: None,
                    first_seen: seen.clone(),
                    last_seen: seen.clone(),
                    sources: Vec::new(),
                    data: Value::Object(Detail::new()),
                    asset_id: None,
                    decided_by: None,
                    decided_at: None,
                });
                (q.rows.len() - 1, true)
            }
        };
        q.dirty.insert(idx);
        let Some(row) = q.rows.get_mut(idx) else { return };
        if mac.is_some() {
            row.mac = mac;
        }
        if obs.ip.is_some() {
            row.ip = obs.ip.clone();
            row.segment_id = segment.or(row.segment_id);
        }
        if obs.hostname.is_some() {
            row.hostname = obs.hostname.clone();
        }
        if obs.client_id.is_some() {
            row.client_id = obs.client_id.clone();
        }
        if obs.mac_vendor.is_some() {
            row.mac_vendor = obs.mac_vendor.clone();
        }
        if seen > row.last_seen {
            row.last_seen = seen.clone();
        }
        if seen < row.first_seen {
            row.first_seen = seen;
        }
        if !row.sources.contains(&kind) {
            row.sources.push(kind);
        }
        if let (Value::Object(map), Ok(Value::Object(add))) = (&mut row.data, serde_json::to_value(obs)) {
            for (k, v) in add {
                if k != "line" {
                    map.insert(k, v);
                }
            }
        }
        let status = row.status.clone();
        let planned = PlannedDiscovery {
            line: obs.line,
            discovery_id: (row.id != 0).then_some(row.id),
            new,
            ip: row.ip.clone(),
            mac: row.mac.clone(),
            hostname: row.hostname.clone(),
            mac_vendor: row.mac_vendor.clone(),
            randomized_mac: row.mac.as_deref().is_some_and(is_randomized_mac),
        };
        if let Some(m) = row.mac.clone().filter(|m| !is_randomized_mac(m)) {
            q.by_mac.insert(m, idx);
        }
        if let Some(c) = row.client_id.clone() {
            q.by_client.insert(c, idx);
        }
        if let Some(h) = row.hostname.as_deref().and_then(host_key) {
            q.by_host.insert(h, idx);
        }
        if let Some(ip) = row.ip.clone() {
            q.by_ip.insert(ip, idx);
        }
        match status.as_str() {
            "rejected" => self.counts.ignored += 1,
            _ => {
                self.counts.flagged += 1;
                if new {
                    self.counts.flagged_new += 1;
                }
                if self.plan_flagged.len() < PREVIEW_LIMIT {
                    self.plan_flagged_rows.push((self.plan_flagged.len(), idx));
                    self.plan_flagged.push(planned);
                }
            }
        }
    }
}

fn row_to_discovered(r: &sqlx::any::AnyRow) -> Result<DiscoveredDevice> {
    let sources: String = r.try_get("sources")?;
    let data: String = r.try_get("data")?;
    Ok(DiscoveredDevice {
        id: r.try_get("id")?,
        status: r.try_get("status")?,
        mac: r.try_get("mac")?,
        ip: r.try_get("ip")?,
        hostname: r.try_get("hostname")?,
        client_id: r.try_get("client_id")?,
        mac_vendor: r.try_get("mac_vendor")?,
        segment_id: r.try_get("segment_id")?,
        first_seen: r.try_get("first_seen")?,
        last_seen: r.try_get("last_seen")?,
        sources: serde_json::from_str(&sources).map_err(|e| StoreError::Decode(format!("sources: {e}")))?,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Decode(format!("data: {e}")))?,
        asset_id: r.try_get("asset_id")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
    })
}

const DISCOVERED_COLUMNS: &str = "id, status, mac, ip, hostname, client_id, mac_vendor, segment_id, \
    first_seen, last_seen, sources, data, asset_id, decided_by, decided_at";

/// The segment whose CIDR contains `ip`: the longest prefix, then the segment registered first
/// (the demo bridges its patient Wi-Fi into the LAN: two segments, one CIDR).
fn segment_containing(segments: &[SegmentNet], ip: IpAddr) -> Option<Id> {
    segments
        .iter()
        .filter_map(|s| s.net.filter(|n| n.contains(&ip)).map(|n| (n.prefix_len(), s.id)))
        .max_by_key(|(len, id)| (*len, std::cmp::Reverse(*id)))
        .map(|(_, id)| id)
}

fn segment_nets(segments: &[Segment]) -> Vec<SegmentNet> {
    segments
        .iter()
        .map(|s| SegmentNet {
            id: s.id,
            name_key: s.name.trim().to_lowercase(),
            net: s.cidr.as_deref().and_then(|c| c.trim().parse::<ipnet::IpNet>().ok()),
        })
        .collect()
}

/// Inserts new queue entries (ids already assigned under the write lock), many per statement.
async fn insert_discovered_batch<'a>(
    backend: crate::Backend,
    tx: &mut WriteTx<'_>,
    rows: impl Iterator<Item = &'a DiscoveredDevice>,
) -> Result<()> {
    let rows: Vec<&DiscoveredDevice> = rows.collect();
    if rows.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = (0..rows.len())
        .map(|i| format!("({})", crate::util::batch_placeholders(backend, i * 13 + 1, 13)))
        .collect();
    let sql = format!(
        "INSERT INTO discovered_devices (id, status, mac, ip, hostname, client_id, mac_vendor, \
         segment_id, first_seen, last_seen, sources, data, host_key) VALUES {}",
        values.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for row in rows {
        let sources =
            serde_json::to_string(&row.sources).map_err(|e| StoreError::Format(e.to_string()))?;
        q = q
            .bind(row.id)
            .bind(row.status.clone())
            .bind(row.mac.clone())
            .bind(row.ip.clone())
            .bind(row.hostname.clone())
            .bind(row.client_id.clone())
            .bind(row.mac_vendor.clone())
            .bind(row.segment_id)
            .bind(row.first_seen.clone())
            .bind(row.last_seen.clone())
            .bind(sources)
            .bind(row.data.to_string())
            .bind(row.hostname.as_deref().and_then(host_key));
    }
    q.execute(&mut *tx.tx).await?;
    Ok(())
}

async fn update_discovered(tx: &mut WriteTx<'_>, row: &DiscoveredDevice) -> Result<()> {
    let sources = serde_json::to_string(&row.sources).map_err(|e| StoreError::Format(e.to_string()))?;
    sqlx::query(
        "UPDATE discovered_devices SET mac = $1, ip = $2, hostname = $3, client_id = $4, \
         mac_vendor = $5, segment_id = $6, first_seen = $7, last_seen = $8, sources = $9, \
         data = $10, host_key = $11 WHERE id = $12",
    )
    .bind(row.mac.clone())
    .bind(row.ip.clone())
    .bind(row.hostname.clone())
    .bind(row.client_id.clone())
    .bind(row.mac_vendor.clone())
    .bind(row.segment_id)
    .bind(row.first_seen.clone())
    .bind(row.last_seen.clone())
    .bind(sources)
    .bind(row.data.to_string())
    .bind(row.hostname.as_deref().and_then(host_key))
    .bind(row.id)
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

/// Observations matched and written per step of an import: what an import holds in memory is
/// one chunk and the assets it names, whatever the size of the file.
pub const CHUNK_OBSERVATIONS: usize = 2000;

/// Part of a file, as its reader hands it over.
#[derive(Debug, Default)]
pub struct ImportChunk {
    pub observations: Vec<Observation>,
    pub rejected: Vec<RejectedRow>,
    /// When the source was taken, once the reader knows.
    pub taken_at: Option<i64>,
    /// Progress of the reading: bytes (or records) read so far and in all.
    pub done: u64,
    pub total: u64,
}

/// What a reader hands to [`Store::import_feed`].
#[derive(Debug)]
pub enum FeedItem {
    Chunk(ImportChunk),
    /// The file was read to its end: its checksum and when it was taken.
    End { sha256: String, taken_at: Option<i64> },
}

/// Where an import's records come from, chunk by chunk. A feed that ends without
/// [`FeedItem::End`] (its reader failed) makes the import fail, with nothing written.
pub trait Feed: Send {
    fn next_item(&mut self) -> impl std::future::Future<Output = Option<FeedItem>> + Send;
}

impl Feed for tokio::sync::mpsc::Receiver<FeedItem> {
    fn next_item(&mut self) -> impl std::future::Future<Output = Option<FeedItem>> + Send {
        self.recv()
    }
}

/// A feed over observations already in memory.
struct SliceFeed<'a> {
    observations: &'a [Observation],
    rejected: Vec<RejectedRow>,
    pos: usize,
    end: Option<(String, Option<i64>)>,
}

impl Feed for SliceFeed<'_> {
    fn next_item(&mut self) -> impl std::future::Future<Output = Option<FeedItem>> + Send {
        let item = if self.pos < self.observations.len() || !self.rejected.is_empty() {
            let upto = (self.pos + CHUNK_OBSERVATIONS).min(self.observations.len());
            let chunk = self.observations.get(self.pos..upto).unwrap_or_default().to_vec();
            self.pos = upto;
            Some(FeedItem::Chunk(ImportChunk {
                observations: chunk,
                rejected: std::mem::take(&mut self.rejected),
                taken_at: self.end.as_ref().and_then(|e| e.1),
                done: upto as u64,
                total: self.observations.len() as u64,
            }))
        } else {
            self.end.take().map(|(sha256, taken_at)| FeedItem::End { sha256, taken_at })
        };
        std::future::ready(item)
    }
}

/// What became of an asset an earlier chunk of the same import touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

/// Import-wide state carried from chunk to chunk.
struct Run {
    import_id: Id,
    at: String,
    dry_run: bool,
    next_id: Id,
    next_queue: Id,
    taken_at: Option<i64>,
    outcome: HashMap<Id, Outcome>,
    created: Vec<PlannedAsset>,
    updated: Vec<PlannedChange>,
    rejected: Vec<RejectedRow>,
    fresh_assets: bool,
    fresh_queue: bool,
}

fn rfc3339(ts: i64) -> Option<String> {
    jiff::Timestamp::from_second(ts).ok().map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Runs `sql` (which has one `{}` for a list of placeholders, and no other parameter: SQLite
/// cannot mix `$n` with the `?` of a batch) for `keys` in chunks, collecting the integer first
/// column.
async fn ids_for(tx: &mut WriteTx<'_>, sql: &str, keys: &BTreeSet<String>) -> Result<BTreeSet<Id>> {
    let keys: Vec<&String> = keys.iter().collect();
    let mut out = BTreeSet::new();
    for chunk in keys.chunks(500) {
        let sql = sql.replace("{}", &crate::util::batch_placeholders(tx.backend, 1, chunk.len()));
        let mut q = sqlx::query_scalar::<_, Id>(&sql);
        for k in chunk {
            q = q.bind((*k).clone());
        }
        out.extend(q.fetch_all(&mut *tx.tx).await?);
    }
    Ok(out)
}

impl Recon {
    /// Loads the assets and queued devices the observations could match: those sharing one of
    /// their keys, or named by id.
    async fn load_candidates(&mut self, tx: &mut WriteTx<'_>, chunk: &[Observation], target: Option<Id>) -> Result<()> {
        let ledger = matches!(self.kind, SourceKind::Csv | SourceKind::Xlsx);
        let mut wanted: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
        let mut ids: BTreeSet<Id> = target.into_iter().collect();
        for o in chunk {
            if let Some(id) = o.asset_id {
                ids.insert(id);
            }
            let mut add = |kind: &'static str, key: Option<String>| {
                if let Some(key) = key {
                    wanted.entry(kind).or_default().insert(key);
                }
            };
            add(keys::MAC, o.stable_mac().map(str::to_owned));
            add(keys::CLIENT, o.client_id.clone());
            add(keys::HOST, o.hostname.as_deref().and_then(host_key));
            add(keys::SERIAL, o.serial.as_deref().and_then(name_key));
            add(keys::IP, o.ip.clone());
            if ledger || self.kind == SourceKind::Cyclonedx {
                add(keys::NAME, o.name.as_deref().and_then(name_key));
            }
        }
        for (kind, set) in &wanted {
            // `kind` is one of the constants of `keys`, never outside text.
            let sql = format!("SELECT DISTINCT asset_id FROM asset_keys WHERE kind = '{kind}' AND key IN ({{}})");
            let found = ids_for(tx, &sql, set).await?;
            ids.extend(found);
        }
        let ids: Vec<Id> = ids.into_iter().collect();
        for a in crate::assets::load_assets_by_ids(&mut tx.tx, &ids).await? {
            let Asset { id, data, created_at, .. } = a;
            self.assets.push(Known {
                id: Some(id),
                existed: true,
                original: None,
                data,
                created_at,
                reason: MatchReason::New,
                first_line: 0,
                touched: false,
            });
            self.index_asset(self.assets.len() - 1);
        }
        if !self.kind.is_discovery() {
            return Ok(());
        }
        let mut queue_ids = BTreeSet::new();
        for (column, kind) in [("mac", keys::MAC), ("client_id", keys::CLIENT), ("host_key", keys::HOST), ("ip", keys::IP)] {
            let Some(set) = wanted.get(kind) else { continue };
            let sql = format!("SELECT id FROM discovered_devices WHERE {column} IN ({{}})");
            queue_ids.extend(ids_for(tx, &sql, set).await?);
        }
        let queue_ids: Vec<Id> = queue_ids.into_iter().collect();
        for chunk in queue_ids.chunks(500) {
            let sql = format!(
                "SELECT {DISCOVERED_COLUMNS} FROM discovered_devices WHERE id IN ({}) ORDER BY id",
                crate::util::batch_placeholders(tx.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *tx.tx).await? {
                let row = row_to_discovered(&r)?;
                let i = self.queue.rows.len();
                if let Some(m) = row.mac.clone().filter(|m| !is_randomized_mac(m)) {
                    self.queue.by_mac.insert(m, i);
                }
                if let Some(c) = row.client_id.clone() {
                    self.queue.by_client.insert(c, i);
                }
                if let Some(h) = row.hostname.as_deref().and_then(host_key) {
                    self.queue.by_host.insert(h, i);
                }
                if let Some(ip) = row.ip.clone() {
                    self.queue.by_ip.insert(ip, i);
                }
                self.queue.rows.push(row);
            }
        }
        Ok(())
    }

    /// Forgets the chunk's assets and queue entries (they are written), keeping the counts and
    /// the preview.
    fn clear_chunk(&mut self) {
        self.assets.clear();
        self.by_id.clear();
        self.by_mac.clear();
        self.by_client.clear();
        self.by_host.clear();
        self.by_serial.clear();
        self.by_ip.clear();
        self.by_name.clear();
        self.queue = Queue::default();
        self.provenance.clear();
        self.plan_flagged_rows.clear();
    }
}

impl Store {
    /// Reconciles observations with the inventory: [`Store::import_feed`] over observations
    /// already in memory.
    pub async fn import_observations(
        &self,
        actor: &str,
        source: ImportSource,
        observations: &[Observation],
        rejected: Vec<RejectedRow>,
        opts: &ImportOptions,
        control: &dyn ImportControl,
    ) -> Result<ImportPlan> {
        let mut feed = SliceFeed {
            observations,
            rejected,
            pos: 0,
            end: Some((source.sha256.clone(), source.taken_at)),
        };
        self.import_feed(actor, source, &mut feed, opts, control).await
    }

    /// Reconciles a file's observations, as its reader hands them over, with the inventory.
    ///
    /// Everything lands in one transaction, with one audit entry `asset.import`, or — on error,
    /// cancellation, a reader that fails, or `opts.dry_run` — nothing does. Observations are
    /// matched and written [`CHUNK_OBSERVATIONS`] at a time: each step loads only the assets and
    /// queued devices that share a key with its observations (`asset_keys`), so memory does not
    /// grow with the file or the inventory. A dry run writes inside the transaction too, and
    /// rolls it back: the preview is exactly what applying would do.
    pub async fn import_feed<F: Feed>(
        &self,
        actor: &str,
        mut source: ImportSource,
        feed: &mut F,
        opts: &ImportOptions,
        control: &dyn ImportControl,
    ) -> Result<ImportPlan> {
        let mut tx = self.write_tx().await?;
        if let Some(id) = opts.target_asset {
            let found: Option<Id> = sqlx::query_scalar("SELECT id FROM assets WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?;
            if found.is_none() {
                return Err(StoreError::Missing { entity: "asset", id: id.to_string() });
            }
        }
        let segments = crate::inventory::load_segments(&mut tx.tx).await?;
        let at = now();
        let import_id: Id = sqlx::query(
            "INSERT INTO imports (at, actor, kind, file_name, sha256, taken_at, summary) \
             VALUES ($1, $2, $3, $4, '', NULL, '{}') RETURNING id",
        )
        .bind(at.clone())
        .bind(actor.to_owned())
        .bind(source.kind.code())
        .bind(source.file_name.clone())
        .fetch_one(&mut *tx.tx)
        .await?
        .try_get(0)?;
        // New assets and queue entries get their ids here: the write lock is held, nobody else
        // inserts.
        let max_id: Option<Id> = sqlx::query_scalar("SELECT MAX(id) FROM assets").fetch_one(&mut *tx.tx).await?;
        let max_queue: Option<Id> =
            sqlx::query_scalar("SELECT MAX(id) FROM discovered_devices").fetch_one(&mut *tx.tx).await?;
        let mut run = Run {
            import_id,
            at: at.clone(),
            dry_run: opts.dry_run,
            next_id: max_id.unwrap_or(0),
            next_queue: max_queue.unwrap_or(0),
            taken_at: source.taken_at,
            outcome: HashMap::new(),
            created: Vec::new(),
            updated: Vec::new(),
            rejected: Vec::new(),
            fresh_assets: false,
            fresh_queue: false,
        };
        let mut r = Recon {
            kind: source.kind,
            assets: Vec::new(),
            by_id: HashMap::new(),
            by_mac: HashMap::new(),
            by_client: HashMap::new(),
            by_host: HashMap::new(),
            by_serial: HashMap::new(),
            by_ip: HashMap::new(),
            by_name: HashMap::new(),
            segments: segment_nets(&segments),
            queue: Queue::default(),
            provenance: Vec::new(),
            plan_conflicts: Vec::new(),
            plan_flagged: Vec::new(),
            plan_flagged_rows: Vec::new(),
            counts: ImportCounts::default(),
            today: at.clone(),
        };
        let started = std::time::Instant::now();
        let mut ended = None;
        while let Some(item) = feed.next_item().await {
            if control.cancelled() {
                return Err(StoreError::Cancelled);
            }
            let chunk = match item {
                FeedItem::Chunk(c) => c,
                FeedItem::End { sha256, taken_at } => {
                    ended = Some((sha256, taken_at));
                    break;
                }
            };
            if chunk.taken_at.is_some() {
                run.taken_at = chunk.taken_at;
            }
            r.counts.rejected += chunk.rejected.len() as u64;
            for row in chunk.rejected {
                push_limited(&mut run.rejected, row);
            }
            if !chunk.observations.is_empty() {
                r.load_candidates(&mut tx, &chunk.observations, opts.target_asset).await?;
                for (n, obs) in chunk.observations.iter().enumerate() {
                    r.observe(n, obs, opts.target_asset);
                }
                self.write_chunk(&mut tx, &mut r, &mut run, &chunk.observations, &source, control).await?;
                r.clear_chunk();
            }
            control.progress("import", chunk.done, chunk.total);
        }
        let Some((sha256, taken_at)) = ended else {
            return Err(StoreError::Format(format!("{}: the file was not read to its end", source.file_name)));
        };
        source.sha256 = sha256;
        source.taken_at = taken_at.or(run.taken_at);
        tracing::debug!(elapsed = ?started.elapsed(), "import: matched and written");

        // (A dry run is rolled back, and setval is not transactional: leave the sequences.)
        if self.backend() == crate::Backend::Postgres && !opts.dry_run {
            for (table, fresh) in [("assets", run.fresh_assets), ("discovered_devices", run.fresh_queue)] {
                if fresh {
                    sqlx::query(&format!(
                        "SELECT CAST(setval(pg_get_serial_sequence('{table}', 'id'), \
                         (SELECT MAX(id) FROM {table})) AS BIGINT)"
                    ))
                    .fetch_one(&mut *tx.tx)
                    .await?;
                }
            }
        }
        // A queued device that an asset now claims by its (stable) MAC is resolved.
        let resolved = sqlx::query(
            "UPDATE discovered_devices SET status = 'adopted', \
             asset_id = (SELECT MIN(k.asset_id) FROM asset_keys k WHERE k.kind = 'mac' AND k.key = discovered_devices.mac), \
             decided_by = $1, decided_at = $2 \
             WHERE status = 'pending' AND mac IS NOT NULL AND EXISTS \
             (SELECT 1 FROM asset_keys k WHERE k.kind = 'mac' AND k.key = discovered_devices.mac)",
        )
        .bind(actor.to_owned())
        .bind(at.clone())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();

        let plan = ImportPlan {
            source: source.clone(),
            dry_run: opts.dry_run,
            import_id: (!opts.dry_run).then_some(import_id),
            counts: r.counts.clone(),
            created: run.created,
            updated: run.updated,
            flagged: std::mem::take(&mut r.plan_flagged),
            conflicts: std::mem::take(&mut r.plan_conflicts),
            rejected: run.rejected,
        };
        if opts.dry_run {
            // Dropping the transaction rolls everything back.
            return Ok(plan);
        }
        let summary = serde_json::to_string(&plan.counts).map_err(|e| StoreError::Format(e.to_string()))?;
        let taken = source.taken_at.and_then(rfc3339);
        sqlx::query("UPDATE imports SET sha256 = $1, taken_at = $2, summary = $3 WHERE id = $4")
            .bind(source.sha256.clone())
            .bind(taken.clone())
            .bind(summary)
            .bind(import_id)
            .execute(&mut *tx.tx)
            .await?;
        if taken.is_some() {
            sqlx::query("UPDATE asset_sources SET observed_at = $1 WHERE import_id = $2 AND observed_at IS NULL")
                .bind(taken)
                .bind(import_id)
                .execute(&mut *tx.tx)
                .await?;
        }
        let mut detail = Detail::new();
        detail.insert("import_id".into(), Value::from(import_id));
        detail.insert("file".into(), Value::String(source.file_name.clone()));
        detail.insert("format".into(), Value::String(source.kind.code().into()));
        detail.insert("sha256".into(), Value::String(source.sha256.clone()));
        if let Ok(Value::Object(c)) = serde_json::to_value(&plan.counts) {
            detail.extend(c);
        }
        if resolved > 0 {
            detail.insert("queue_resolved".into(), Value::from(resolved));
        }
        tx.audit(actor, "asset.import", "import", Some(import_id), detail).await?;
        tx.commit().await?;
        tracing::debug!(elapsed = ?started.elapsed(), "import: committed");
        Ok(plan)
    }

    /// Decides what the chunk changes and writes it: assets, provenance, queue entries.
    async fn write_chunk(
        &self,
        tx: &mut WriteTx<'_>,
        r: &mut Recon,
        run: &mut Run,
        observations: &[Observation],
        source: &ImportSource,
        control: &dyn ImportControl,
    ) -> Result<()> {
        let tick = || -> Result<()> {
            if control.cancelled() {
                return Err(StoreError::Cancelled);
            }
            Ok(())
        };
        let mut writes: Vec<usize> = Vec::new();
        // Field → [old, new] of each asset that changes, for the preview and the provenance.
        let mut changes_of: HashMap<usize, Detail> = HashMap::new();
        for (idx, k) in r.assets.iter_mut().enumerate() {
            if !k.touched {
                continue;
            }
            k.data = normalised(&k.data);
            if !k.existed {
                r.counts.created += 1;
                run.next_id += 1;
                k.id = Some(run.next_id);
                k.created_at = run.at.clone();
                run.fresh_assets = true;
                run.outcome.insert(run.next_id, Outcome::Created);
                writes.push(idx);
                push_limited(
                    &mut run.created,
                    PlannedAsset {
                        line: k.first_line,
                        asset_id: (!run.dry_run).then_some(run.next_id),
                        name: k.data.name.clone(),
                        kind: k.data.kind,
                        ip: k.data.primary_ip().map(str::to_owned),
                        mac: k.data.interfaces.iter().find_map(|i| i.mac.clone()),
                    },
                );
                continue;
            }
            let Some(id) = k.id else { continue };
            let before = run.outcome.get(&id).copied();
            let changes = k.original.as_ref().map(|old| diff(old, &k.data)).unwrap_or_default();
            if changes.is_empty() {
                if before.is_none() {
                    r.counts.unchanged += 1;
                    run.outcome.insert(id, Outcome::Unchanged);
                }
                continue;
            }
            if let Err(e) = k.data.validate() {
                r.counts.conflicts += 1;
                push_limited(
                    &mut r.plan_conflicts,
                    Conflict {
                        line: k.first_line,
                        asset_id: Some(id),
                        code: "invalid",
                        detail: format!("{}: {}", e.field, e.reason),
                    },
                );
                if let Some(old) = k.original.take() {
                    k.data = old;
                }
                if before.is_none() {
                    r.counts.unchanged += 1;
                    run.outcome.insert(id, Outcome::Unchanged);
                }
                continue;
            }
            writes.push(idx);
            if matches!(before, None | Some(Outcome::Unchanged)) {
                if before == Some(Outcome::Unchanged) {
                    r.counts.unchanged -= 1;
                }
                r.counts.updated += 1;
                run.outcome.insert(id, Outcome::Updated);
                if run.updated.len() < PREVIEW_LIMIT {
                    run.updated.push(PlannedChange {
                        line: k.first_line,
                        asset_id: id,
                        name: k.data.name.clone(),
                        reason: k.reason,
                        changes: changes.clone(),
                    });
                }
            }
            changes_of.insert(idx, changes);
        }
        for chunk in writes.chunks(500) {
            tick()?;
            let batch: Vec<BatchAsset<'_>> = chunk
                .iter()
                .filter_map(|&i| r.assets.get(i))
                .filter_map(|k| {
                    Some(BatchAsset {
                        id: k.id?,
                        data: &k.data,
                        created_at: &k.created_at,
                        updated_at: &run.at,
                        fresh: !k.existed,
                    })
                })
                .collect();
            write_assets_batch(tx, &batch).await?;
        }
        // Provenance, many rows per statement. The changes are recorded with the chunk's first
        // statement about the asset.
        let mut first_for: BTreeSet<usize> = BTreeSet::new();
        let kind_code = source.kind.code();
        for chunk in r.provenance.chunks(100) {
            tick()?;
            let mut rows: Vec<ProvenanceRow> = Vec::new();
            for p in chunk {
                let Some(asset_id) = r.assets.get(p.asset).and_then(|k| k.id) else { continue };
                let Some(obs) = observations.get(p.obs) else { continue };
                let changes = if first_for.insert(p.asset) {
                    changes_of.get(&p.asset).map(|c| Value::Object(c.clone()).to_string())
                } else {
                    None
                };
                let data = serde_json::to_string(obs).map_err(|e| StoreError::Format(e.to_string()))?;
                rows.push((
                    asset_id,
                    i64::try_from(obs.line).unwrap_or(i64::MAX),
                    obs.seen_at.or(run.taken_at).and_then(rfc3339),
                    p.reason.code(),
                    data,
                    changes.unwrap_or_else(|| "{}".to_owned()),
                ));
            }
            if rows.is_empty() {
                continue;
            }
            let values: Vec<String> = (0..rows.len())
                .map(|i| format!("({})", crate::util::batch_placeholders(self.backend(), i * 8 + 1, 8)))
                .collect();
            let sql = format!(
                "INSERT INTO asset_sources (asset_id, import_id, kind, line, observed_at, \
                 match_reason, data, changes) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (asset_id, line, observed, reason, data, changes) in rows {
                q = q
                    .bind(asset_id)
                    .bind(run.import_id)
                    .bind(kind_code)
                    .bind(line)
                    .bind(observed)
                    .bind(reason)
                    .bind(data)
                    .bind(changes);
            }
            q.execute(&mut *tx.tx).await?;
        }
        // Queue entries: new and seen again.
        let dirty: Vec<usize> = r.queue.dirty.iter().copied().collect();
        let mut fresh: Vec<usize> = Vec::new();
        for &idx in &dirty {
            let Some(row) = r.queue.rows.get_mut(idx) else { continue };
            if row.id == 0 {
                run.next_queue += 1;
                row.id = run.next_queue;
                fresh.push(idx);
            } else {
                tick()?;
                update_discovered(tx, row).await?;
            }
        }
        for chunk in fresh.chunks(100) {
            tick()?;
            run.fresh_queue = true;
            insert_discovered_batch(self.backend(), tx, chunk.iter().filter_map(|&i| r.queue.rows.get(i))).await?;
        }
        if !run.dry_run {
            for (plan_index, row) in &r.plan_flagged_rows {
                if let (Some(f), Some(q)) = (r.plan_flagged.get_mut(*plan_index), r.queue.rows.get(*row)) {
                    f.discovery_id = Some(q.id);
                }
            }
        }
        Ok(())
    }

    /// What each source said about an asset, newest first.
    pub async fn asset_sources(&self, asset_id: Id) -> Result<Vec<AssetSource>> {
        let rows = sqlx::query(
            "SELECT s.import_id, i.at, i.actor, s.kind, i.file_name, s.line, s.observed_at, \
             s.match_reason, s.data, s.changes FROM asset_sources s \
             JOIN imports i ON i.id = s.import_id WHERE s.asset_id = $1 ORDER BY s.id DESC LIMIT 200",
        )
        .bind(asset_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let data: String = r.try_get(8)?;
                let changes: String = r.try_get(9)?;
                Ok(AssetSource {
                    import_id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    file_name: r.try_get(4)?,
                    line: r.try_get(5)?,
                    observed_at: r.try_get(6)?,
                    match_reason: r.try_get(7)?,
                    data: serde_json::from_str(&data).unwrap_or(Value::Null),
                    changes: serde_json::from_str(&changes).unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// Past imports, newest first.
    pub async fn list_imports(&self, limit: i64) -> Result<Vec<ImportRecord>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, kind, file_name, sha256, summary FROM imports \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let summary: String = r.try_get(6)?;
                Ok(ImportRecord {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    file_name: r.try_get(4)?,
                    sha256: r.try_get(5)?,
                    summary: serde_json::from_str(&summary).unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// The unregistered-device queue; `status` `None` lists every entry.
    pub async fn list_discovered(&self, status: Option<&str>) -> Result<Vec<DiscoveredDevice>> {
        let rows = match status {
            Some(s) => {
                sqlx::query(&format!(
                    "SELECT {DISCOVERED_COLUMNS} FROM discovered_devices WHERE status = $1 \
                     ORDER BY last_seen DESC, id"
                ))
                .bind(s.to_owned())
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {DISCOVERED_COLUMNS} FROM discovered_devices ORDER BY last_seen DESC, id"
                ))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(row_to_discovered).collect()
    }

    /// One queue entry.
    pub async fn get_discovered(&self, id: Id) -> Result<DiscoveredDevice> {
        let row = sqlx::query(&format!("SELECT {DISCOVERED_COLUMNS} FROM discovered_devices WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Missing { entity: "discovered", id: id.to_string() })?;
        row_to_discovered(&row)
    }

    /// Adopts a queued device into the ledger as a new asset described by `data` (the caller
    /// starts from [`DiscoveredDevice::proposed_asset`]). Returns the asset.
    pub async fn adopt_discovered(&self, actor: &str, id: Id, data: &AssetData) -> Result<Asset> {
        data.validate()?;
        let data = normalised(data);
        let mut tx = self.write_tx().await?;
        let row = sqlx::query("SELECT status FROM discovered_devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx.tx)
            .await?
            .ok_or_else(|| StoreError::Missing { entity: "discovered", id: id.to_string() })?;
        let status: String = row.try_get(0)?;
        if status != "pending" {
            return Err(StoreError::Conflict(format!("discovered {id}: {status}")));
        }
        let ts = now();
        let asset_id = write_asset(&mut tx, None, &data, &ts, &ts).await?;
        sqlx::query(
            "UPDATE discovered_devices SET status = 'adopted', asset_id = $1, decided_by = $2, \
             decided_at = $3 WHERE id = $4",
        )
        .bind(asset_id)
        .bind(actor.to_owned())
        .bind(ts.clone())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?;
        let mut detail = Detail::new();
        detail.insert("asset_id".into(), Value::from(asset_id));
        detail.insert("name".into(), Value::String(data.name.clone()));
        tx.audit(actor, "discovered.adopt", "discovered", Some(id), detail).await?;
        tx.commit().await?;
        self.get_asset(asset_id, None).await
    }

    /// Rejects a queued device: it stays known (and is counted as ignored when seen again)
    /// but is no longer flagged.
    pub async fn reject_discovered(&self, actor: &str, id: Id, reason: Option<&str>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE discovered_devices SET status = 'rejected', decided_by = $1, decided_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(actor.to_owned())
        .bind(now())
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            let exists = sqlx::query("SELECT status FROM discovered_devices WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx.tx)
                .await?;
            return Err(match exists {
                None => StoreError::Missing { entity: "discovered", id: id.to_string() },
                Some(r) => StoreError::Conflict(format!("discovered {id}: {}", r.try_get::<String, _>(0)?)),
            });
        }
        let mut detail = Detail::new();
        if let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) {
            detail.insert("reason".into(), Value::String(reason.chars().take(500).collect()));
        }
        tx.audit(actor, "discovered.reject", "discovered", Some(id), detail).await?;
        tx.commit().await
    }
}

impl DiscoveredDevice {
    /// An asset proposed from what the sources saw: the manager corrects name and kind.
    pub fn proposed_asset(&self) -> AssetData {
        let name = self
            .hostname
            .clone()
            .or_else(|| self.ip.clone())
            .or_else(|| self.mac.clone())
            .unwrap_or_else(|| format!("device-{}", self.id));
        let mut d = AssetData::new(name, AssetKind::Unknown);
        d.interfaces.push(Interface {
            name: None,
            ip: self.ip.clone(),
            mac: self.mac.clone(),
            segment_id: self.segment_id,
        });
        let text = |k: &str| self.data.get(k).and_then(Value::as_str).map(str::to_owned);
        d.vendor = text("vendor");
        d.os = text("os");
        if let Some(v) = &self.mac_vendor {
            d.attributes.insert("mac_vendor".into(), v.clone());
        }
        if let Some(h) = &self.hostname {
            d.attributes.insert("hostname".into(), h.clone());
        }
        if let Some(c) = &self.client_id {
            d.attributes.insert("dhcp.client_id".into(), c.clone());
        }
        if let Some(Value::Object(attrs)) = self.data.get("attributes") {
            for (k, v) in attrs {
                if let Some(s) = v.as_str() {
                    d.attributes.insert(k.clone(), s.to_owned());
                }
            }
        }
        if let Ok(software) = serde_json::from_value::<Vec<Software>>(
            self.data.get("software").cloned().unwrap_or(Value::Array(Vec::new())),
        ) {
            d.software = software;
        }
        d.last_seen = Some(self.last_seen.clone());
        d
    }
}
