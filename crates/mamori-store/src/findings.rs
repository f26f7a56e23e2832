//! Matching the inventory against the feed corpus, and the tasks that come out of it: one
//! finding per asset × vulnerability, with why it matched, a priority whose formula is shown,
//! a due date, who must act (the facility or the maintenance vendor), and a status whose every
//! change is kept.
//!
//! Matching reads each asset's CPE names (its software list as imported, plus names the
//! manager confirmed or that are only suggested), looks up the CVEs whose vulnerable criteria
//! name the same vendor and product, and evaluates each CVE's configuration tree
//! ([`mamori_vuln::matcher`]). Vendor statements (CSAF, VEX) override NVD for the products they
//! cover; JVN advisories add low-confidence findings for products NVD does not know.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_model::{Detail, Id, SegmentPurpose};
use mamori_vuln::cpe::Cpe;
use mamori_vuln::index;
use mamori_vuln::matcher::{Compiled, Confidence, DeviceCpe, Found, Hit, Inventory, Why};
use mamori_vuln::model::Configuration;
use mamori_vuln::urgency::{self, Priority, Signals};
use mamori_vuln::version;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::util::{batch_placeholders, get_bool, now};
use crate::{Result, Store, StoreError};

/// The status of a finding (対応状況).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// 未対応
    Open,
    /// 対応中
    InProgress,
    /// 対応済み
    Resolved,
    /// リスク受容
    Accepted,
    /// 誤検知
    FalsePositive,
}

impl FindingStatus {
    pub const ALL: [FindingStatus; 5] =
        [FindingStatus::Open, FindingStatus::InProgress, FindingStatus::Resolved, FindingStatus::Accepted, FindingStatus::FalsePositive];

    pub fn code(self) -> &'static str {
        match self {
            FindingStatus::Open => "open",
            FindingStatus::InProgress => "in_progress",
            FindingStatus::Resolved => "resolved",
            FindingStatus::Accepted => "accepted",
            FindingStatus::FalsePositive => "false_positive",
        }
    }

    pub fn parse(s: &str) -> Option<FindingStatus> {
        FindingStatus::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Still needs someone to act.
    pub fn is_active(self) -> bool {
        matches!(self, FindingStatus::Open | FindingStatus::InProgress)
    }
}

/// CycloneDX `analysis.justification` values (VEX): why a vulnerability does not apply.
pub use mamori_vuln::vex::JUSTIFICATIONS;

/// Who must act on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responsible {
    /// `facility` or `vendor`.
    pub party: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_id: Option<Id>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor_name: Option<String>,
    /// Why: `contract` (a maintenance contract covers the device and the responsibility matrix
    /// gives patching to the vendor), `matrix_facility`, `no_contract`.
    pub basis: String,
}

/// One finding (task), as listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    pub asset_id: Id,
    pub asset_name: String,
    pub vuln_id: String,
    /// `nvd`, `csaf:<publisher>`, `jvn`.
    pub source: String,
    pub confidence: Confidence,
    pub confidence_score: u8,
    pub hit: Hit,
    pub priority: Priority,
    pub due_date: Option<String>,
    pub responsible: Responsible,
    pub status: FindingStatus,
    pub justification: Option<String>,
    pub reason: Option<String>,
    pub status_by: Option<String>,
    pub status_at: Option<String>,
    pub first_seen: String,
    pub last_matched: String,
    /// The asset no longer matches (updated, name changed, vendor says not affected).
    pub gone_at: Option<String>,
    pub kev: Option<KevFacts>,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub cvss: Option<f64>,
    pub severity: Option<String>,
    pub title: String,
    /// A Japanese advisory exists (JVN).
    pub jvn_ids: Vec<String>,
}

/// KEV data of a vulnerability, as CISA published it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KevFacts {
    pub date_added: String,
    /// CISA's deadline for US federal agencies, as given (it can precede `date_added`).
    pub due_date: String,
    pub ransomware: bool,
    pub required_action: String,
    pub name: String,
}

/// What [`Store::list_findings`] filters on.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    pub asset_id: Option<Id>,
    pub vendor_id: Option<Id>,
    pub vuln_id: Option<String>,
    /// Include resolved, accepted, false positives and findings that no longer match.
    pub all: bool,
    /// Only findings whose asset a vendor user may see.
    pub vendor_scope: Option<Id>,
}

/// What one matching run did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MatchSummary {
    pub assets: u64,
    pub assets_with_cpe: u64,
    pub candidates: u64,
    pub matched: u64,
    pub new: u64,
    pub gone: u64,
    /// Suppressed by a vendor statement (fixed / not affected for this version).
    pub vendor_cleared: u64,
    /// Where the time went, in milliseconds: reading the assets, finding candidate CVEs and
    /// loading their configurations, evaluating them (and vendor statements, JVN), writing.
    pub load_ms: u64,
    pub candidates_ms: u64,
    pub evaluate_ms: u64,
    pub write_ms: u64,
}

/// An asset as matching sees it.
#[derive(Debug, Clone)]
pub struct MatchAsset {
    pub id: Id,
    pub name: String,
    pub cpes: Vec<DeviceCpe>,
    pub internet_facing: bool,
    pub patient_reachable: bool,
}

/// A hit spelt out (a vendor statement, JVN): the assets it names (indices into the match's
/// asset list, sorted).
#[derive(Debug, Clone)]
struct Spelt {
    assets: Box<[usize]>,
    source: u32,
    hit: Box<Hit>,
}

/// NVD configurations of the candidate CVEs, as loaded: id and JSON.
type RawConfigs = Vec<(String, String)>;

/// One hit of a matching run, as [`Hits::refs`] lists them: a vulnerability and where its hit
/// lies (an NVD hit of a device set: matching thread and position; a spelt-out hit: position).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HitRef {
    vuln: u32,
    at: At,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Nvd(u32, u32),
    Spelt(u32),
}

/// Per vulnerability: its NVD hits (a run of one matching thread's output, in set order) and
/// its spelt-out hits.
#[derive(Debug, Clone, Default)]
struct VulnHits {
    part: u32,
    run: std::ops::Range<u32>,
    spelt: Vec<u32>,
}

/// The hits of one matching run. NVD hits stay where the matching threads wrote them, one per
/// device set and vulnerability (millions at full scale: never copied one by one); vendor
/// statements and JVN add spelt-out hits and may take assets out of NVD hits.
#[derive(Debug, Default)]
pub struct Hits {
    nvd: Vec<Vec<Found>>,
    spelt: Vec<Spelt>,
    /// NVD hits some assets were taken out of: their remaining assets.
    narrowed: HashMap<(u32, u32), Box<[usize]>, foldhash::fast::RandomState>,
    /// Interned vulnerability ids and sources.
    vulns: Interner,
    sources: Vec<String>,
    by_vuln: Vec<VulnHits>,
    /// Per device set, its assets (sorted); per asset, its set.
    members: Vec<Vec<usize>>,
    set_of: Vec<u32>,
    inventory: Inventory,
    /// Per vulnerability, the configurations its NVD hits point into.
    compiled: Vec<Option<Compiled>>,
    /// Assets in NVD hits as matched, in spelt-out hits as pushed, and taken out since.
    nvd_assets: u64,
    spelt_assets: u64,
    removed: u64,
}

/// Vulnerability ids numbered in the order first seen (millions of hits and findings name a
/// few hundred thousand ids).
#[derive(Debug, Default)]
struct Interner {
    /// The names one after the other, and where each ends (one allocation, not one per name).
    text: String,
    ends: Vec<usize>,
    /// The first `bulk` names were pushed as distinct ([`Interner::push_distinct`]); their
    /// lookup table is built on the first lookup (a dry run never looks one up).
    bulk: usize,
    bulk_index: std::sync::OnceLock<HashMap<String, u32, foldhash::fast::RandomState>>,
    /// The names after them.
    index: HashMap<String, u32, foldhash::fast::RandomState>,
}

impl Interner {
    /// Numbers an id known to be new (the candidate CVEs, distinct): no lookup, no table yet.
    /// None once anything else was interned or looked up: then [`Interner::intern`].
    fn push_distinct(&mut self, key: u64, id: &str) -> Option<u32> {
        if self.bulk != self.ends.len() || self.bulk_index.get().is_some() {
            return None;
        }
        if key == u64::MAX {
            self.text.push_str(id);
        } else {
            // Written from the key (the id's text lies far away in memory): the same text, as
            // only canonical ids have a key.
            use std::fmt::Write;
            let _ = write!(self.text, "CVE-{:04}-{:04}", key >> 40, key & ((1 << 40) - 1));
        }
        self.ends.push(self.text.len());
        debug_assert_eq!(self.name(u32::try_from(self.ends.len() - 1).unwrap_or(u32::MAX)), id);
        self.bulk += 1;
        u32::try_from(self.bulk - 1).ok()
    }

    /// The id's number, and whether it is new.
    fn intern(&mut self, id: &str) -> (u32, bool) {
        if let Some(v) = self.get(id) {
            return (v, false);
        }
        let v = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        self.push(id);
        self.index.insert(id.to_owned(), v);
        (v, true)
    }

    fn get(&self, id: &str) -> Option<u32> {
        let bulk = self.bulk_index.get_or_init(|| {
            (0..self.bulk).map(|i| u32::try_from(i).unwrap_or(u32::MAX)).map(|v| (self.name(v).to_owned(), v)).collect()
        });
        bulk.get(id).or_else(|| self.index.get(id)).copied()
    }

    fn name(&self, v: u32) -> &str {
        let end = self.ends.get(v as usize).copied().unwrap_or_default();
        let start = (v as usize).checked_sub(1).and_then(|p| self.ends.get(p)).copied().unwrap_or_default();
        self.text.get(start..end).unwrap_or_default()
    }

    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// Room for `n` more names of about `len` bytes.
    fn reserve(&mut self, n: usize, len: usize) {
        self.ends.reserve(n);
        self.text.reserve(n * len);
    }
}

/// The source of NVD hits, interned first.
const NVD: u32 = 0;

impl Hits {
    fn new(members: Vec<Vec<usize>>, inventory: Inventory) -> Hits {
        let mut set_of = vec![u32::MAX; members.iter().map(Vec::len).sum()];
        for (s, m) in members.iter().enumerate() {
            for &a in m {
                if let Some(x) = set_of.get_mut(a) {
                    *x = u32::try_from(s).unwrap_or(u32::MAX);
                }
            }
        }
        let mut hits = Hits { members, set_of, inventory, ..Hits::default() };
        hits.intern_source("nvd");
        hits
    }

    /// Numbers a candidate CVE of the NVD matching (its [`cve_key`] and id), each once and
    /// before anything else.
    fn push_candidate(&mut self, key: u64, id: &str) -> u32 {
        match self.vulns.push_distinct(key, id) {
            Some(v) => {
                self.by_vuln.push(VulnHits::default());
                self.compiled.push(None);
                v
            }
            None => self.intern_vuln(id),
        }
    }

    fn intern_vuln(&mut self, id: &str) -> u32 {
        let (v, new) = self.vulns.intern(id);
        if new {
            self.by_vuln.push(VulnHits::default());
            self.compiled.push(None);
        }
        v
    }

    fn intern_source(&mut self, s: &str) -> u32 {
        match self.sources.iter().position(|x| x == s) {
            Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
            None => {
                self.sources.push(s.to_owned());
                u32::try_from(self.sources.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    /// A hit spelt out (vendor statements, JVN).
    pub fn push(&mut self, assets: Vec<usize>, vuln_id: &str, source: &str, hit: Hit) {
        let vuln = self.intern_vuln(vuln_id);
        let source = self.intern_source(source);
        let k = u32::try_from(self.spelt.len()).unwrap_or(u32::MAX);
        self.spelt_assets += assets.len() as u64;
        self.spelt.push(Spelt { assets: assets.into_boxed_slice(), source, hit: Box::new(hit) });
        if let Some(v) = self.by_vuln.get_mut(vuln as usize) {
            v.spelt.push(k);
        }
    }

    fn nvd_found(&self, part: u32, k: u32) -> Option<&Found> {
        self.nvd.get(part as usize)?.get(k as usize)
    }

    /// Every hit, vulnerability by vulnerability.
    pub fn refs(&self) -> impl Iterator<Item = HitRef> + '_ {
        self.by_vuln.iter().enumerate().flat_map(|(v, h)| {
            let vuln = u32::try_from(v).unwrap_or(u32::MAX);
            h.run.clone().map(move |k| HitRef { vuln, at: At::Nvd(h.part, k) }).chain(h.spelt.iter().map(move |&k| HitRef { vuln, at: At::Spelt(k) }))
        })
    }

    /// The assets of a hit.
    pub fn assets(&self, r: HitRef) -> &[usize] {
        match r.at {
            At::Nvd(part, k) => match (!self.narrowed.is_empty()).then(|| self.narrowed.get(&(part, k))).flatten() {
                Some(a) => a,
                None => self.nvd_found(part, k).and_then(|f| self.members.get(f.set as usize)).map(Vec::as_slice).unwrap_or_default(),
            },
            At::Spelt(k) => self.spelt.get(k as usize).map(|x| &*x.assets).unwrap_or_default(),
        }
    }

    pub fn vuln_id(&self, r: HitRef) -> &str {
        self.vulns.name(r.vuln)
    }

    pub fn source(&self, r: HitRef) -> &str {
        let source = match r.at {
            At::Nvd(..) => NVD,
            At::Spelt(k) => self.spelt.get(k as usize).map_or(NVD, |x| x.source),
        };
        self.sources.get(source as usize).map(String::as_str).unwrap_or_default()
    }

    /// The vulnerabilities whose hits point into configurations not loaded yet (matched from
    /// the index): what [`Hits::hit`] needs before the hits are spelt out.
    fn missing_configurations(&self) -> Vec<String> {
        let mut out = BTreeSet::new();
        for (v, h) in self.by_vuln.iter().enumerate() {
            let criterion = h.run.clone().any(|k| self.nvd_found(h.part, k).is_some_and(|f| matches!(f.why, Why::Criterion { .. })));
            if criterion && self.compiled.get(v).is_some_and(Option::is_none) {
                out.insert(self.vulns.name(u32::try_from(v).unwrap_or(u32::MAX)).to_owned());
            }
        }
        out.into_iter().collect()
    }

    fn set_configurations(&mut self, id: &str, configurations: Vec<Configuration>) {
        if let Some(v) = self.vulns.get(id)
            && let Some(slot) = self.compiled.get_mut(v as usize)
        {
            *slot = Some(Compiled::new(configurations));
        }
    }

    /// Why a hit matched, in full.
    pub fn hit(&self, r: HitRef) -> Option<Hit> {
        match r.at {
            At::Nvd(part, k) => {
                let found = self.nvd_found(part, k)?;
                match &found.why {
                    Why::Tree(h) => Some((**h).clone()),
                    Why::Criterion { .. } => self.inventory.hit(self.compiled.get(r.vuln as usize)?.as_ref()?, found),
                }
            }
            At::Spelt(k) => self.spelt.get(k as usize).map(|x| (*x.hit).clone()),
        }
    }

    /// Asset × vulnerability pairs (kept as hits are added and narrowed: millions of NVD
    /// hits are not walked again to count them).
    pub fn len(&self) -> u64 {
        let n = (self.nvd_assets + self.spelt_assets).saturating_sub(self.removed);
        debug_assert_eq!(n, self.refs().map(|r| self.assets(r).len() as u64).sum::<u64>());
        n
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The NVD hit of the asset's device set for a vulnerability (its runs are in set order).
    fn nvd_ref(&self, asset: usize, vuln: u32) -> Option<HitRef> {
        let set = *self.set_of.get(asset)?;
        let h = self.by_vuln.get(vuln as usize)?;
        let run = self.nvd.get(h.part as usize)?.get(h.run.start as usize..h.run.end as usize)?;
        let k = run.binary_search_by_key(&set, |f| f.set).ok()?;
        Some(HitRef { vuln, at: At::Nvd(h.part, h.run.start + u32::try_from(k).ok()?) })
    }

    pub fn contains(&self, asset: usize, vuln: &str) -> bool {
        let Some(v) = self.vulns.get(vuln) else { return false };
        let nvd = self.nvd_ref(asset, v).is_some_and(|r| self.assets(r).binary_search(&asset).is_ok());
        nvd || self.by_vuln.get(v as usize).is_some_and(|h| {
            h.spelt.iter().any(|&k| self.spelt.get(k as usize).is_some_and(|x| x.assets.binary_search(&asset).is_ok()))
        })
    }

    /// Takes the asset out of the vulnerability's hits (those of a source starting with
    /// `except_source` excepted, when given). Returns whether it was there.
    pub fn remove(&mut self, asset: usize, vuln: &str, except_source: Option<&str>) -> bool {
        let Some(v) = self.vulns.get(vuln) else { return false };
        let mut found = false;
        let keep = |source: u32, sources: &[String]| except_source.is_some_and(|p| sources.get(source as usize).is_some_and(|s| s.starts_with(p)));
        if !keep(NVD, &self.sources)
            && let Some(r) = self.nvd_ref(asset, v)
            && let At::Nvd(part, k) = r.at
        {
            let assets = self.assets(r);
            if let Ok(pos) = assets.binary_search(&asset) {
                let mut list = assets.to_vec();
                list.remove(pos);
                self.narrowed.insert((part, k), list.into_boxed_slice());
                self.removed += 1;
                found = true;
            }
        }
        let spelt = self.by_vuln.get(v as usize).map(|h| h.spelt.clone()).unwrap_or_default();
        for k in spelt {
            let Some(x) = self.spelt.get_mut(k as usize) else { continue };
            if keep(x.source, &self.sources) {
                continue;
            }
            let Ok(pos) = x.assets.binary_search(&asset) else { continue };
            let mut list = x.assets.to_vec();
            list.remove(pos);
            x.assets = list.into_boxed_slice();
            self.removed += 1;
            found = true;
        }
        found
    }
}

/// The assets' distinct device sets (assets with the same CPE names, the same OS build on many
/// PCs, are evaluated once), in the order of their first asset, and each set's assets.
fn device_sets(assets: &[MatchAsset]) -> (Vec<Vec<DeviceCpe>>, Vec<Vec<usize>>) {
    let mut sets: Vec<Vec<DeviceCpe>> = Vec::new();
    let mut members: Vec<Vec<usize>> = Vec::new();
    let mut index: HashMap<Vec<(&Cpe, bool)>, usize, foldhash::fast::RandomState> = HashMap::default();
    for (i, a) in assets.iter().enumerate() {
        let mut k: Vec<(&Cpe, bool)> = a.cpes.iter().map(|d| (&d.cpe, d.confirmed)).collect();
        // The same names in any order are the same set.
        if k.len() > 1 {
            k.sort_by_cached_key(|(c, confirmed)| (c.to_fs(), *confirmed));
        }
        let next = sets.len();
        let s = *index.entry(k).or_insert(next);
        if s == next {
            sets.push(a.cpes.clone());
            members.push(Vec::new());
        }
        if let Some(m) = members.get_mut(s) {
            m.push(i);
        }
    }
    (sets, members)
}

/// Separators of the aggregated index rows: between a CVE id and its entry, between CVEs.
/// Control characters, which neither a CVE id nor an index entry may hold.
pub(crate) const ID_SEP: char = '\u{1c}';
pub(crate) const CVE_SEP: char = '\u{1e}';

/// The matching index rows of the inventory's products, as read: the product's inventory group
/// and its CVEs with their entries (`id ID_SEP entry`, joined by `CVE_SEP`); each CVE record
/// located in them, as the rows arrived (each row's records are a run).
#[derive(Default)]
struct IndexRows {
    rows: Vec<(u32, String)>,
    records: Vec<Located>,
    runs: Vec<std::ops::Range<usize>>,
}

/// A CVE record of an index row: its sort key ([`cve_key`]), product, row, the byte offsets
/// of its id, of the separator after it, and of its end; and whether its entry is
/// [`index::TREE`] (noted while the row is in cache).
#[derive(Debug, Clone, Copy)]
struct Located {
    key: u64,
    group: u32,
    row: u32,
    start: u32,
    sep: u32,
    end: u32,
    tree: bool,
}

/// Sorts CVE ids by (year, number): integers, not strings, are compared for hundreds of
/// thousands of records. Only the canonical form (`CVE-YYYY-NNNN…`, four digits or more, no
/// leading zero beyond four) has a key, so two ids with the same key are the same id; ids of
/// any other shape get `u64::MAX` (and sort last, then by text).
fn cve_key(id: &str) -> u64 {
    let parse = || {
        let (year, number) = id.strip_prefix("CVE-")?.split_once('-')?;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let canonical = year.len() == 4 && digits(year) && number.len() >= 4 && number.len() <= 12 && digits(number) && (number.len() == 4 || !number.starts_with('0'));
        let (year, number): (u64, u64) = (year.parse().ok()?, number.parse().ok()?);
        (canonical && number < 1 << 40).then_some(year << 40 | number)
    };
    parse().unwrap_or(u64::MAX)
}

impl IndexRows {
    /// Adds a row, locating its records.
    fn push(&mut self, group: u32, all: String) -> Result<()> {
        let row = u32::try_from(self.rows.len()).map_err(|_| StoreError::Format("matching index: too many rows".into()))?;
        let too_long = || StoreError::Format("matching index: a product's entries exceed 4 GiB".into());
        let mut start = 0usize;
        let first = self.records.len();
        for rec in all.split(CVE_SEP) {
            let end = start + rec.len();
            if let Some(p) = rec.find(ID_SEP) {
                let id = rec.get(..p).unwrap_or_default();
                let at = |x: usize| u32::try_from(x).map_err(|_| too_long());
                let tree = rec.get(p + ID_SEP.len_utf8()..) == Some(index::TREE);
                self.records.push(Located { key: cve_key(id), group, row, start: at(start)?, sep: at(start + p)?, end: at(end)?, tree });
            }
            start = end + CVE_SEP.len_utf8();
        }
        self.runs.push(first..self.records.len());
        self.rows.push((group, all));
        Ok(())
    }

    /// Numbers the rows' products (positions in `products`) as the inventory does.
    fn regroup(&mut self, products: &[(String, String)], inventory: &Inventory) {
        let group: Vec<u32> = products.iter().map(|(v, p)| inventory.product(v, p).unwrap_or(u32::MAX)).collect();
        let of = |g: u32| group.get(g as usize).copied().unwrap_or(u32::MAX);
        self.rows.iter_mut().for_each(|r| r.0 = of(r.0));
        self.records.iter_mut().for_each(|r| r.group = of(r.group));
    }

    fn text(&self, r: &Located) -> (&str, &str) {
        let all = self.rows.get(r.row as usize).map(|x| x.1.as_str()).unwrap_or_default();
        let id = all.get(r.start as usize..r.sep as usize).unwrap_or_default();
        let entry = all.get(r.sep as usize + ID_SEP.len_utf8()..r.end as usize).unwrap_or_default();
        (id, entry)
    }
}

/// A candidate CVE: its sort key ([`cve_key`]), id and, per product of the inventory it names,
/// the index entry.
struct CandidateCve<'a> {
    key: u64,
    id: &'a str,
    parts: &'a [(u32, &'a str)],
}

impl CandidateCve<'_> {
    fn groups(&self) -> Vec<u32> {
        self.parts.iter().map(|p| p.0).collect()
    }

    fn needs_tree(&self) -> bool {
        self.parts.iter().any(|p| p.1 == index::TREE)
    }
}

/// A candidate CVE's key, id and its run of parts.
type CveRun<'a> = (u64, &'a str, std::ops::Range<usize>);

/// How the candidate CVEs are matched. A CVE that one product of the inventory alone names
/// (four in five at full NVD size) is matched with the rest of that product's row: the
/// product's versions and the places of its recurring bounds stay in cache, and the CVE is
/// never grouped. The others (named by several products, left to their tree, or with an id
/// of another shape) are grouped by CVE and matched jointly.
struct Plan<'r> {
    /// Per record of the rows, whether it is matched with its row.
    alone: Vec<bool>,
    /// The jointly matched CVEs' parts (product and entry) one after the other, and the CVEs,
    /// sorted by year and number.
    joint_parts: Vec<(u32, &'r str)>,
    joint_runs: Vec<CveRun<'r>>,
}

impl<'r> Plan<'r> {
    fn new(rows: &'r IndexRows) -> Plan<'r> {
        // The records by CVE (key, then row order): a run of one is a CVE one row alone names.
        let mut by_key: Vec<(u64, u32)> = rows.records.iter().enumerate().map(|(i, r)| (r.key, u32::try_from(i).unwrap_or(u32::MAX))).collect();
        by_key.sort_unstable();
        let mut alone = vec![false; rows.records.len()];
        let mut joint: Vec<Located> = Vec::new();
        for run in by_key.chunk_by(|a, b| a.0 == b.0) {
            let located = |x: &(u64, u32)| rows.records.get(x.1 as usize).copied();
            match run {
                [one] if one.0 != u64::MAX && located(one).is_some_and(|r| !r.tree) => {
                    if let Some(a) = alone.get_mut(one.1 as usize) {
                        *a = true;
                    }
                }
                _ => {
                    let from = joint.len();
                    joint.extend(run.iter().filter_map(located));
                    let run = joint.get_mut(from..).unwrap_or_default();
                    // Equal keys are equal ids, but for ids without a key (compared as text).
                    if run.first().is_some_and(|r| r.key == u64::MAX) {
                        run.sort_unstable_by(|a, b| rows.text(a).0.cmp(rows.text(b).0).then(a.group.cmp(&b.group)));
                    } else {
                        run.sort_unstable_by_key(|r| r.group);
                    }
                }
            }
        }
        drop(by_key);
        let mut joint_parts: Vec<(u32, &str)> = Vec::with_capacity(joint.len());
        let mut joint_runs: Vec<CveRun<'_>> = Vec::new();
        for r in &joint {
            let (id, entry) = rows.text(r);
            match joint_runs.last_mut() {
                Some((_, last, run)) if *last == id => run.end += 1,
                _ => joint_runs.push((r.key, id, joint_parts.len()..joint_parts.len() + 1)),
            }
            joint_parts.push((r.group, entry));
        }
        Plan { alone, joint_parts, joint_runs }
    }

    fn joint(&self) -> Vec<CandidateCve<'_>> {
        self.joint_runs.iter().map(|(key, id, run)| CandidateCve { key: *key, id, parts: self.joint_parts.get(run.clone()).unwrap_or_default() }).collect()
    }
}

/// Candidate asset × CVE pairs: for each CVE, the assets naming one of its products (`alone`:
/// the product of each CVE only one product names; `cves`: the others). Counted per product,
/// less the sets counted twice (those naming several of a CVE's products).
fn candidate_pairs(inventory: &Inventory, members: &[Vec<usize>], alone: impl Iterator<Item = u32>, cves: &[CandidateCve<'_>]) -> u64 {
    let size = |s: usize| members.get(s).map_or(0, |m| m.len() as u64);
    let mut per_group: HashMap<u32, u64> = HashMap::new();
    let mut shared: HashMap<u32, Vec<u32>> = HashMap::new();
    for s in 0..inventory.sets().len() {
        let groups = inventory.set_products(s);
        for &g in groups {
            *per_group.entry(g).or_default() += size(s);
            if groups.len() > 1 {
                shared.entry(g).or_default().push(u32::try_from(s).unwrap_or(u32::MAX));
            }
        }
    }
    let mut total: u64 = alone.map(|g| per_group.get(&g).copied().unwrap_or(0)).sum();
    let mut twice: Vec<u32> = Vec::new();
    for c in cves {
        twice.clear();
        for (g, _) in c.parts {
            total += per_group.get(g).copied().unwrap_or(0);
            if c.parts.len() > 1 {
                twice.extend(shared.get(g).map(Vec::as_slice).unwrap_or_default());
            }
        }
        twice.sort_unstable();
        for w in twice.windows(2) {
            if let [a, b] = w
                && a == b
            {
                total = total.saturating_sub(size(*a as usize));
            }
        }
    }
    total
}

/// What one matching thread gave: the candidate CVEs matched, sorted by year and number; the
/// trees they were matched on; the CVEs whose index entries could not answer, with their parts.
#[derive(Default)]
struct Evaluated<'r> {
    items: Vec<Item<'r>>,
    trees: Vec<Option<Compiled>>,
    found: Vec<Found>,
    retry: Vec<Retry<'r>>,
    /// The assets of the device sets in `found`, counted as they are found.
    assets: u64,
}

/// A CVE whose index entries could not answer: key, id, parts (product and entry).
type Retry<'r> = (u64, &'r str, Vec<(u32, &'r str)>);

/// A candidate CVE matched: key, id, its run of `found`, the tree it was matched on (in
/// `trees`) when it was.
struct Item<'r> {
    key: u64,
    id: &'r str,
    run: std::ops::Range<usize>,
    tree: Option<usize>,
}

/// A piece of matching work: the CVEs of a row matched with it, or a run of the jointly
/// matched CVEs.
#[derive(Debug, Clone)]
enum Job {
    Row(usize),
    Joint(std::ops::Range<usize>),
}

/// The jobs of a matching run, the largest (by entry text) first so that the threads finish
/// together: one per index row with CVEs matched with it, and the joint CVEs in blocks.
fn jobs(rows: &IndexRows, alone: &[bool], joint: &[CandidateCve<'_>]) -> Vec<Job> {
    const BLOCK: usize = 256;
    let mut jobs: Vec<(usize, Job)> = Vec::new();
    for (r, run) in rows.runs.iter().enumerate() {
        if alone.get(run.clone()).is_some_and(|a| a.iter().any(|x| *x)) {
            jobs.push((rows.rows.get(r).map_or(0, |x| x.1.len()), Job::Row(r)));
        }
    }
    for (b, block) in joint.chunks(BLOCK).enumerate() {
        let size = block.iter().flat_map(|c| c.parts).map(|p| p.1.len()).sum();
        jobs.push((size, Job::Joint(b * BLOCK..b * BLOCK + block.len())));
    }
    jobs.sort_by_key(|j| std::cmp::Reverse(j.0));
    jobs.into_iter().map(|j| j.1).collect()
}

/// Matches the assets against the candidate CVEs in memory: the part the benchmark times. The
/// machine's cores (two at most) take the `jobs` in turn. A CVE is matched from its index
/// entries, or on its configuration tree (`trees`: id and JSON as stored) when an entry says so.
fn evaluate<'r>(
    inventory: &Inventory,
    set_sizes: &[u32],
    (rows, alone): (&'r IndexRows, &[bool]),
    joint: &[CandidateCve<'r>],
    jobs: &[Job],
    trees: &HashMap<String, String>,
) -> Result<Vec<Evaluated<'r>>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2);
    let next = AtomicUsize::new(0);
    let run = || -> Result<Evaluated<'r>> {
        let mut scratch = inventory.scratch();
        let mut buffers = mamori_vuln::matcher::Decoded::default();
        let mut out = Evaluated::default();
        let count = |out: &mut Evaluated<'r>, start: usize| {
            let found = out.found.get(start..).unwrap_or_default();
            out.assets += found.iter().map(|f| u64::from(set_sizes.get(f.set as usize).copied().unwrap_or(0))).sum::<u64>();
        };
        while let Some(job) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
            match job {
                Job::Row(r) => {
                    let (Some((group, _)), Some(run)) = (rows.rows.get(*r), rows.runs.get(*r)) else { continue };
                    for (rec, _) in rows.records.get(run.clone()).unwrap_or_default().iter().zip(alone.get(run.clone()).unwrap_or_default()).filter(|x| *x.1) {
                        let (id, entry) = rows.text(rec);
                        let start = out.found.len();
                        if inventory.evaluate_indexed_with(&[(*group, entry)], &mut scratch, &mut buffers, &mut out.found).is_err() {
                            out.retry.push((rec.key, id, vec![(*group, entry)]));
                        } else {
                            out.items.push(Item { key: rec.key, id, run: start..out.found.len(), tree: None });
                            count(&mut out, start);
                        }
                    }
                }
                Job::Joint(range) => {
                    for c in joint.get(range.clone()).unwrap_or_default() {
                        let start = out.found.len();
                        if let Some(json) = trees.get(c.id) {
                            let compiled = Compiled::new(decode(c.id, json)?);
                            inventory.evaluate(&compiled, &c.groups(), &mut scratch, &mut out.found);
                            out.items.push(Item { key: c.key, id: c.id, run: start..out.found.len(), tree: Some(out.trees.len()) });
                            out.trees.push(Some(compiled));
                        } else if c.needs_tree() || inventory.evaluate_indexed_with(c.parts, &mut scratch, &mut buffers, &mut out.found).is_err() {
                            out.retry.push((c.key, c.id, c.parts.to_vec()));
                        } else {
                            out.items.push(Item { key: c.key, id: c.id, run: start..out.found.len(), tree: None });
                        }
                        count(&mut out, start);
                    }
                }
            }
        }
        // In order here, on the thread: merged in order by the caller.
        out.items.sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| a.id.cmp(b.id)));
        Ok(out)
    };
    let run = &run;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (1..threads).map(|_| scope.spawn(run)).collect();
        let mut all = vec![run()?];
        for h in handles {
            all.push(h.join().unwrap_or_else(|_| Err(StoreError::Format("matching thread failed".into())))?);
        }
        Ok(all)
    })
}

/// Asset id and vulnerability id.
type FindingKey = (Id, String);

/// The last recorded decision on a finding: status, justification, reason, who, when.
type Decision = (String, Option<String>, Option<String>, String, String);

/// A short fingerprint of what a finding says, to skip rewriting unchanged rows (stored as 16
/// hexadecimal digits).
fn fingerprint(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// What matching needs of a stored finding: its due date, whether it is gone, its fingerprint
/// (None when the stored one is not ours: the row is rewritten).
#[derive(Debug)]
struct StoredFinding {
    due: Option<Box<str>>,
    gone: bool,
    fingerprint: Option<u64>,
}

/// The stored findings, keyed by asset and vulnerability (interned: millions of rows at full
/// scale).
#[derive(Debug, Default)]
struct StoredFindings {
    rows: HashMap<(Id, u32), StoredFinding>,
    vulns: Interner,
}

impl StoredFindings {
    fn get(&self, asset: Id, vuln: &str) -> Option<&StoredFinding> {
        self.rows.get(&(asset, self.vulns.get(vuln)?))
    }
}

/// Checks a vendor statement's version condition against a device name.
fn statement_applies(version_eq: Option<&str>, range: Option<&str>, device: &Cpe) -> Option<bool> {
    let vendor = device.vendor().unwrap_or_default();
    let product = device.product().unwrap_or_default();
    let scheme = version::scheme_for(&vendor, &product);
    let v = device.version().as_literal()?;
    if let Some(r) = range {
        return mamori_vuln::csaf::vers_contains(r, &v, scheme);
    }
    if let Some(e) = version_eq {
        return version::compare(scheme, &v, e).ordering.map(|o| o == std::cmp::Ordering::Equal);
    }
    Some(true)
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Decode(format!("{what}: {e}")))
}

impl Store {
    /// The stored findings, read a page at a time in key order (reading millions of rows at
    /// once holds them all twice).
    async fn stored_findings(&self) -> Result<StoredFindings> {
        self.stored_findings_paged(20_000).await
    }

    async fn stored_findings_paged(&self, page: i64) -> Result<StoredFindings> {
        let mut out = StoredFindings::default();
        // Keyset pagination from below the first key (ids are positive).
        let mut after: (Id, String) = (Id::MIN, String::new());
        loop {
            let rows = sqlx::query(
                "SELECT asset_id, vuln_id, due_date, gone_at, fingerprint FROM vuln_findings \
                 WHERE (asset_id, vuln_id) > ($1, $2) ORDER BY asset_id, vuln_id LIMIT $3",
            )
            .bind(after.0)
            .bind(after.1.clone())
            .bind(page)
            .fetch_all(self.pool())
            .await?;
            let Some(last) = rows.last() else { break };
            after = (last.try_get(0)?, last.try_get(1)?);
            for r in &rows {
                let asset: Id = r.try_get(0)?;
                let vuln: String = r.try_get(1)?;
                let (v, _) = out.vulns.intern(&vuln);
                let due: Option<String> = r.try_get(2)?;
                let fingerprint: String = r.try_get(4)?;
                let gone: Option<String> = r.try_get(3)?;
                let stored = StoredFinding { due: due.map(String::into_boxed_str), gone: gone.is_some(), fingerprint: u64::from_str_radix(&fingerprint, 16).ok() };
                out.rows.insert((asset, v), stored);
            }
            if (rows.len() as i64) < page {
                break;
            }
        }
        Ok(out)
    }

    /// Rows of `from` (the rest of a query: a table and its condition) read as one aggregated
    /// text, each value (`exprs`, none NULL) written as its length in bytes, `:`, and the value.
    /// The driver's cost is per row: ten thousand assets' rows one by one cost a tenth of a second.
    async fn packed_rows(&self, exprs: &[&str], from: &str) -> Result<Vec<Vec<String>>> {
        let (agg, len) = match self.backend() {
            crate::Backend::Sqlite => ("group_concat", "length(CAST(CAST({} AS TEXT) AS BLOB))"),
            crate::Backend::Postgres => ("string_agg", "octet_length(CAST({} AS TEXT))"),
        };
        let fields: Vec<String> = exprs.iter().map(|e| format!("{} || ':' || CAST({e} AS TEXT)", len.replace("{}", e))).collect();
        let sql = format!("SELECT {agg}({}, '') FROM {from}", fields.join(" || "));
        let all: Option<String> = sqlx::query_scalar(&sql).fetch_one(self.pool()).await?;
        let all = all.unwrap_or_default();
        let bad = || StoreError::Format(format!("{from}: unreadable packed row"));
        let mut out = Vec::new();
        let mut row = Vec::with_capacity(exprs.len());
        let mut rest = all.as_str();
        while !rest.is_empty() {
            let (n, tail) = rest.split_once(':').ok_or_else(bad)?;
            let n: usize = n.parse().map_err(|_| bad())?;
            row.push(tail.get(..n).ok_or_else(bad)?.to_owned());
            rest = tail.get(n..).ok_or_else(bad)?;
            if row.len() == exprs.len() {
                out.push(std::mem::replace(&mut row, Vec::with_capacity(exprs.len())));
            }
        }
        if !row.is_empty() {
            return Err(bad());
        }
        Ok(out)
    }

    /// Every asset with its CPE names, exposure and reachability.
    pub async fn match_assets(&self) -> Result<Vec<MatchAsset>> {
        let int = |s: &str| s.parse::<i64>().map_err(|_| StoreError::Format(format!("assets: not a number: {s}")));
        let mut rows = self.packed_rows(&["id", "internet_facing", "name"], "assets").await?;
        rows.sort_by_cached_key(|r| r.first().and_then(|id| id.parse::<i64>().ok()));
        let mut assets = Vec::with_capacity(rows.len());
        let mut index = HashMap::new();
        for r in rows {
            let [id, facing, name] = <[String; 3]>::try_from(r).map_err(|_| StoreError::Format("assets: unreadable packed row".into()))?;
            let id: Id = int(&id)?;
            index.insert(id, assets.len());
            assets.push(MatchAsset { id, name, cpes: Vec::new(), internet_facing: int(&facing)? != 0, patient_reachable: false });
        }
        let software = self.packed_rows(&["asset_id", "cpe"], "software WHERE cpe IS NOT NULL").await?;
        let suggested = self.packed_rows(&["asset_id", "cpe", "state"], "asset_cpes WHERE state <> 'rejected'").await?;
        for r in software.iter().chain(&suggested) {
            let (Some(id), Some(s)) = (r.first(), r.get(1)) else { continue };
            // Software names are confirmed; suggestions only once the manager confirmed them.
            let confirmed = r.get(2).is_none_or(|state| state == "confirmed");
            let id = int(id)?;
            if let (Some(&i), Ok(cpe)) = (index.get(&id), Cpe::parse(s))
                && let Some(a) = assets.get_mut(i)
                && !a.cpes.iter().any(|d| d.cpe == cpe)
            {
                a.cpes.push(DeviceCpe::new(cpe, confirmed));
            }
        }
        // Reachable from the patient/guest Wi-Fi: in a patient Wi-Fi segment, or in a segment
        // the patient Wi-Fi is bridged into (same address range).
        let segments = self.list_segments().await?;
        let patient_cidrs: BTreeSet<String> = segments.iter().filter(|s| s.purpose == SegmentPurpose::PatientWifi).filter_map(|s| s.cidr.clone()).collect();
        let reachable: BTreeSet<Id> = segments
            .iter()
            .filter(|s| s.purpose == SegmentPurpose::PatientWifi || s.cidr.as_ref().is_some_and(|c| patient_cidrs.contains(c)))
            .map(|s| s.id)
            .collect();
        if !reachable.is_empty() {
            for r in sqlx::query("SELECT asset_id, segment_id FROM interfaces WHERE segment_id IS NOT NULL").fetch_all(self.pool()).await? {
                let id: Id = r.try_get(0)?;
                let seg: Id = r.try_get(1)?;
                if reachable.contains(&seg)
                    && let Some(a) = index.get(&id).and_then(|&i| assets.get_mut(i))
                {
                    a.patient_reachable = true;
                }
            }
        }
        Ok(assets)
    }

    /// The matching index of the inventory's products: the CVEs whose vulnerable criteria name
    /// one of them, with their index entries. One row per product, aggregated at import
    /// (`vuln_product_entries`; stale ones are rebuilt first): reading one row per product and
    /// CVE costs a third of a second at full NVD size in SQLite's row machinery alone.
    /// The rows' products are numbered by their position in `products` (sorted, distinct);
    /// [`IndexRows::regroup`] numbers them as the inventory does.
    async fn match_index(&self, products: &[(String, String)]) -> Result<IndexRows> {
        use futures_util::TryStreamExt;
        self.refresh_product_entries().await?;
        let mut out = IndexRows::default();
        let backend = self.backend();
        for chunk in products.chunks(500) {
            let pairs: Vec<String> = (0..chunk.len()).map(|i| format!("({})", batch_placeholders(backend, 2 * i + 1, 2))).collect();
            // A correlated subquery per product: the primary key is searched per product (a
            // join or `IN (VALUES …)` may scan the whole table).
            let sql = format!(
                "WITH p (v, pr) AS (VALUES {}) SELECT p.v, p.pr, (SELECT e.entries FROM vuln_product_entries e WHERE e.vendor = p.v AND e.product = p.pr) FROM p",
                pairs.join(", "),
            );
            let mut q = sqlx::query(&sql);
            for (v, p) in chunk {
                q = q.bind(v.clone()).bind(p.clone());
            }
            // Row by row as they come: locating the records overlaps the database's reading.
            let mut stream = q.fetch(self.pool());
            while let Some(r) = stream.try_next().await? {
                let key: (String, String) = (r.try_get(0)?, r.try_get(1)?);
                let all: Option<String> = r.try_get(2)?;
                if let (Ok(g), Some(all)) = (products.binary_search(&key), all) {
                    out.push(u32::try_from(g).unwrap_or(u32::MAX), all)?;
                }
            }
        }
        Ok(out)
    }

    /// The configuration trees of these CVEs, as stored (JSON): one row per batch of CVEs, id
    /// and JSON joined by control characters JSON text cannot contain.
    async fn cve_configurations_raw(&self, ids: &[&str]) -> Result<RawConfigs> {
        const FIELD: char = '\u{1f}';
        const RECORD: char = '\u{1e}';
        let backend = self.backend();
        let agg = match backend {
            crate::Backend::Sqlite => "group_concat",
            crate::Backend::Postgres => "string_agg",
        };
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(2000) {
            let sql = format!(
                "SELECT {agg}(id || {} || configurations, {}) FROM vuln_cves WHERE id IN ({})",
                batch_placeholders(backend, 1, 1),
                batch_placeholders(backend, 2, 1),
                batch_placeholders(backend, 3, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(FIELD.to_string()).bind(RECORD.to_string());
            for id in chunk {
                q = q.bind((*id).to_owned());
            }
            for r in q.fetch_all(self.pool()).await? {
                let all: Option<String> = r.try_get(0)?;
                for rec in all.as_deref().unwrap_or_default().split(RECORD) {
                    let Some((id, json)) = rec.split_once(FIELD) else { continue };
                    out.push((id.to_owned(), json.to_owned()));
                }
            }
        }
        Ok(out)
    }

    /// The configuration trees of these CVEs.
    pub async fn cve_configurations(&self, ids: &[String]) -> Result<HashMap<String, Vec<Configuration>>> {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        self.cve_configurations_raw(&refs).await?.into_iter().map(|(id, c)| Ok((id.clone(), decode(&id, &c)?))).collect()
    }

    /// Vendor statements and JVN advisories for the assets' products.
    async fn statement_hits(&self, assets: &[MatchAsset], hits: &mut Hits) -> Result<u64> {
        let mut cleared = 0;
        // Most databases hold no vendor statements or no JVN data: skip the per-product lookups.
        let statements: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_statements").fetch_one(self.pool()).await?;
        let jvn: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_jvn_products").fetch_one(self.pool()).await?;
        if statements == 0 && jvn == 0 {
            return Ok(0);
        }
        let mut by_product: BTreeMap<(String, String), Vec<(usize, Cpe)>> = BTreeMap::new();
        for (i, a) in assets.iter().enumerate() {
            for d in &a.cpes {
                if let (Some(v), Some(p)) = (d.cpe.vendor(), d.cpe.product()) {
                    by_product.entry((v, p)).or_default().push((i, d.cpe.clone()));
                }
            }
        }
        let mut remove: BTreeSet<(usize, String)> = BTreeSet::new();
        for ((v, p), who) in by_product.iter().filter(|_| statements > 0) {
            let rows = sqlx::query(
                "SELECT s.cve_id, s.version, s.version_range, s.status, s.justification, s.cpe, s.product_name, d.publisher, d.tracking_id \
                 FROM vuln_statements s JOIN vuln_documents d ON d.id = s.document_id WHERE s.vendor = $1 AND s.product = $2 ORDER BY s.id",
            )
            .bind(v.clone())
            .bind(p.clone())
            .fetch_all(self.pool())
            .await?;
            for r in &rows {
                let cve: String = r.try_get(0)?;
                let ver: Option<String> = r.try_get(1)?;
                let range: Option<String> = r.try_get(2)?;
                let status: String = r.try_get(3)?;
                let publisher: String = r.try_get(7)?;
                let tracking: String = r.try_get(8)?;
                for (i, cpe) in who {
                    let applies = statement_applies(ver.as_deref(), range.as_deref(), cpe);
                    if applies != Some(true) {
                        continue;
                    }
                    let key = (*i, cve.clone());
                    match status.as_str() {
                        "affected" => {
                            {
                                remove.remove(&key);
                                hits.remove(*i, &cve, None);
                                hits.push(
                                    vec![*i],
                                    &cve,
                                    &format!("csaf:{publisher}"),
                                    Hit {
                                        configuration: 0,
                                        criteria: format!("{publisher} {tracking}"),
                                        range: range.clone().or(ver.clone()).unwrap_or_default(),
                                        device_cpe: cpe.to_fs(),
                                        confidence: if ver.is_some() { Confidence::ExactVersion } else { Confidence::VersionRange },
                                        platform: None,
                                        platform_known: None,
                                        caveats: vec!["vendor_statement".to_owned()],
                                    },
                                );
                            }
                        }
                        "fixed" | "not_affected" => {
                            remove.insert(key);
                        }
                        _ => {}
                    }
                }
            }
        }
        for (i, vuln) in &remove {
            if hits.remove(*i, vuln, Some("csaf:")) {
                cleared += 1;
            }
        }
        // JVN: only for products NVD has no CVE for (JVN carries no versions).
        for ((v, p), who) in by_product.iter().filter(|_| jvn > 0) {
            let nvd_known: Option<String> = sqlx::query_scalar("SELECT cve_id FROM vuln_cve_products WHERE vendor = $1 AND product = $2 LIMIT 1")
                .bind(v.clone())
                .bind(p.clone())
                .fetch_optional(self.pool())
                .await?;
            if nvd_known.is_some() {
                continue;
            }
            let rows = sqlx::query("SELECT j.id, j.detail FROM vuln_jvn_products jp JOIN vuln_jvn j ON j.id = jp.jvn_id WHERE jp.vendor = $1 AND jp.product = $2 ORDER BY j.id")
                .bind(v.clone())
                .bind(p.clone())
                .fetch_all(self.pool())
                .await?;
            for r in &rows {
                let id: String = r.try_get(0)?;
                let detail: String = r.try_get(1)?;
                let detail: Value = decode(&id, &detail)?;
                let cves: Vec<String> = detail.get("cves").and_then(|c| serde_json::from_value(c.clone()).ok()).unwrap_or_default();
                let versions: Vec<String> = detail
                    .get("products")
                    .and_then(Value::as_array)
                    .map(|ps| ps.iter().filter_map(|p| p.get("versions").and_then(Value::as_str).map(str::to_owned)).collect())
                    .unwrap_or_default();
                let vuln_ids = if cves.is_empty() { vec![id.clone()] } else { cves };
                for (i, cpe) in who {
                    for vid in &vuln_ids {
                        if hits.contains(*i, vid) {
                            continue;
                        }
                        hits.push(
                            vec![*i],
                            vid,
                            "jvn",
                            Hit {
                                configuration: 0,
                                criteria: id.clone(),
                                range: versions.join(" / "),
                                device_cpe: cpe.to_fs(),
                                confidence: Confidence::JvnName,
                                platform: None,
                                platform_known: None,
                                caveats: vec!["jvn_name_only".to_owned()],
                            },
                        );
                    }
                }
            }
        }
        Ok(cleared)
    }

    /// Who must act on each asset's findings.
    async fn responsibles(&self) -> Result<HashMap<Id, Responsible>> {
        let contracts = self.list_contracts().await?;
        let vendors = self.list_vendors().await?;
        let stored = self.stored_responsibilities().await?;
        let patch = stored.get("patch");
        let mut out = HashMap::new();
        for c in &contracts {
            let Some(v) = vendors.iter().find(|v| v.id == c.vendor_id) else { continue };
            let (vendor_patches, basis) = match patch {
                Some(r) if r.vendor_ids.contains(&v.id) => (true, "contract"),
                Some(r) if r.facility || !r.vendor_ids.is_empty() => (false, "matrix_facility"),
                _ => (true, "contract"),
            };
            for a in &c.asset_ids {
                let r = if vendor_patches {
                    Responsible { party: "vendor".into(), vendor_id: Some(v.id), vendor_name: Some(v.name.clone()), basis: basis.into() }
                } else {
                    Responsible { party: "facility".into(), vendor_id: None, vendor_name: None, basis: basis.into() }
                };
                // A vendor that patches wins over a contract that leaves it to the facility.
                match out.get(a) {
                    Some(Responsible { party, .. }) if party == "vendor" => {}
                    _ => {
                        out.insert(*a, r);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Matches the whole inventory against the corpus and updates the findings.
    /// `today` is YYYY-MM-DD in Asia/Tokyo; `kev_days`: days to fix a KEV-listed vulnerability.
    pub async fn match_vulnerabilities(&self, actor: &str, today: &str, kev_days: u32) -> Result<MatchSummary> {
        self.match_vulnerabilities_with(actor, today, kev_days, false).await
    }

    /// As [`Store::match_vulnerabilities`]; with `dry_run`, only counts what would match and
    /// writes nothing.
    pub async fn match_vulnerabilities_with(&self, actor: &str, today: &str, kev_days: u32, dry_run: bool) -> Result<MatchSummary> {
        let ms = |t: std::time::Instant| u64::try_from(t.elapsed().as_millis()).unwrap_or(u64::MAX);
        let t0 = std::time::Instant::now();
        let assets = self.match_assets().await?;
        let load_ms = ms(t0);
        tracing::debug!(ms = load_ms, "match: assets read");
        let t1 = std::time::Instant::now();
        // The index of the products the assets name is read while the inventory is built (the
        // database works on its own thread).
        let mut products: Vec<(&str, &str)> = assets.iter().flat_map(|a| a.cpes.iter().filter_map(DeviceCpe::product_key)).collect();
        products.sort_unstable();
        products.dedup();
        let products: Vec<(String, String)> = products.into_iter().map(|(v, p)| (v.to_owned(), p.to_owned())).collect();
        let build = tokio::task::spawn_blocking(move || {
            let (sets, members) = device_sets(&assets);
            tracing::debug!(ms = ms(t1), "match: device sets");
            let inventory = Inventory::new(sets);
            tracing::debug!(ms = ms(t1), "match: inventory built");
            (assets, members, inventory)
        });
        let read = self.match_index(&products).await;
        tracing::debug!(ms = ms(t1), "match: index read");
        let (assets, members, inventory) = build.await.map_err(|e| StoreError::Format(format!("matching: {e}")))?;
        let mut rows = read?;
        rows.regroup(&products, &inventory);
        tracing::debug!(ms = ms(t1), "match: inventory built and index read");
        let plan = Plan::new(&rows);
        let joint = plan.joint();
        let jobs = jobs(&rows, &plan.alone, &joint);
        tracing::debug!(ms = ms(t1), joint = joint.len(), "match: candidates grouped");
        // CVEs the index leaves to their configuration tree.
        let tree_ids: Vec<&str> = joint.iter().filter(|c| c.needs_tree()).map(|c| c.id).collect();
        let mut trees: HashMap<String, String> = self.cve_configurations_raw(&tree_ids).await?.into_iter().collect();
        tracing::debug!(ms = ms(t1), trees = trees.len(), "match: trees read");
        let alone_groups = rows.records.iter().zip(&plan.alone).filter(|x| *x.1).map(|x| x.0.group);
        let candidate_pairs = candidate_pairs(&inventory, &members, alone_groups, &joint);
        let candidates_ms = ms(t1);
        let t2 = std::time::Instant::now();
        let set_sizes: Vec<u32> = members.iter().map(|m| u32::try_from(m.len()).unwrap_or(u32::MAX)).collect();
        let mut parts = evaluate(&inventory, &set_sizes, (&rows, &plan.alone), &joint, &jobs, &trees)?;
        tracing::debug!(ms = ms(t2), found = parts.iter().map(|p| p.found.len()).sum::<usize>(), "match: evaluated");
        // Entries that could not answer (damaged, or written by another version): their trees.
        let retry: Vec<Retry<'_>> = parts.iter_mut().flat_map(|p| std::mem::take(&mut p.retry)).collect();
        if !retry.is_empty() {
            let ids: Vec<&str> = retry.iter().map(|r| r.1).collect();
            trees = self.cve_configurations_raw(&ids).await?.into_iter().collect();
            let again: Vec<CandidateCve<'_>> = retry.iter().map(|(key, id, parts)| CandidateCve { key: *key, id, parts }).collect();
            let jobs: Vec<Job> = (0..again.len()).map(|i| Job::Joint(i..i + 1)).collect();
            parts.extend(evaluate(&inventory, &set_sizes, (&rows, &[]), &again, &jobs, &trees)?);
        }
        drop(trees);
        // Each candidate CVE once, by year and number: the threads' items, each in order, merged.
        let mut hits = Hits::new(members, inventory);
        let total: usize = parts.iter().map(|p| p.items.len()).sum();
        hits.vulns.reserve(total, "CVE-2024-12345".len());
        hits.by_vuln.reserve(total);
        hits.compiled.reserve(total);
        let mut heads = vec![0usize; parts.len()];
        loop {
            let mut next: Option<(usize, &Item<'_>)> = None;
            for (p, (part, &k)) in parts.iter().zip(&heads).enumerate() {
                if let Some(item) = part.items.get(k)
                    && next.is_none_or(|(_, n)| (item.key, item.id) < (n.key, n.id))
                {
                    next = Some((p, item));
                }
            }
            let Some((p, item)) = next else { break };
            let (key, id, run, tree) = (item.key, item.id, item.run.clone(), item.tree);
            if let Some(k) = heads.get_mut(p) {
                *k += 1;
            }
            if run.start == run.end {
                continue;
            }
            // Numbered without a lookup: the candidates are distinct.
            let vuln = hits.push_candidate(key, id);
            if let (Some(h), Ok(part), Ok(start), Ok(end)) = (hits.by_vuln.get_mut(vuln as usize), u32::try_from(p), u32::try_from(run.start), u32::try_from(run.end)) {
                (h.part, h.run) = (part, start..end);
            }
            if let (Some(slot), Some(t)) = (hits.compiled.get_mut(vuln as usize), tree) {
                *slot = parts.get_mut(p).and_then(|part| part.trees.get_mut(t)).and_then(Option::take);
            }
        }
        tracing::debug!(ms = ms(t2), "match: hits numbered");
        hits.nvd_assets = parts.iter().map(|p| p.assets).sum();
        hits.nvd = parts.into_iter().map(|p| p.found).collect();
        drop(joint);
        drop(plan);
        drop(rows);
        tracing::debug!(ms = ms(t2), "match: hits built");
        let vendor_cleared = self.statement_hits(&assets, &mut hits).await?;
        tracing::debug!(ms = ms(t2), "match: statements applied");
        let matched = hits.len();
        let evaluate_ms = ms(t2);
        let mut summary = MatchSummary {
            assets: assets.len() as u64,
            assets_with_cpe: assets.iter().filter(|a| !a.cpes.is_empty()).count() as u64,
            candidates: candidate_pairs,
            matched,
            vendor_cleared,
            load_ms,
            candidates_ms,
            evaluate_ms,
            ..MatchSummary::default()
        };
        if dry_run {
            return Ok(summary);
        }
        let t3 = std::time::Instant::now();
        // Hits from the index name their criterion by position: load the trees they point into.
        for (id, c) in self.cve_configurations(&hits.missing_configurations()).await? {
            hits.set_configurations(&id, c);
        }
        let vuln_ids: Vec<String> = hits.refs().filter(|&r| !hits.assets(r).is_empty()).map(|r| hits.vuln_id(r).to_owned()).collect::<BTreeSet<_>>().into_iter().collect();
        let facts = self.vuln_facts(&vuln_ids).await?;
        let responsibles = self.responsibles().await?;
        let existing = self.stored_findings().await?;
        // The status in force for a key is the last one in its history: a finding that comes
        // back (or is re-derived after `db copy`) keeps what the facility decided about it.
        let mut decided: HashMap<FindingKey, Decision> = HashMap::new();
        for r in sqlx::query("SELECT asset_id, vuln_id, status, justification, reason, actor, at FROM vuln_finding_history ORDER BY id").fetch_all(self.pool()).await? {
            decided.insert((r.try_get(0)?, r.try_get(1)?), (r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?, r.try_get(6)?));
        }
        let at = now();
        let backend = self.backend();
        let mut tx = self.write_tx().await?;
        let mut new_rows: Vec<Vec<crate::vuln::Param>> = Vec::new();
        const INSERT: &str = "INSERT INTO vuln_findings (asset_id, vuln_id, source, confidence, hit, first_seen, last_matched, priority, \
             priority_detail, due_date, responsible, status, justification, reason, status_by, status_at, fingerprint)";
        let facility = Responsible { party: "facility".into(), vendor_id: None, vendor_name: None, basis: "no_contract".into() };
        for g in hits.refs() {
            let members = hits.assets(g);
            if members.is_empty() {
                continue;
            }
            let (vuln_id, source) = (hits.vuln_id(g), hits.source(g));
            let Some(hit) = hits.hit(g) else { continue };
            let f = facts.get(vuln_id).cloned().unwrap_or_default();
            let hit_json = serde_json::to_string(&hit).map_err(|e| StoreError::Format(e.to_string()))?;
            for &i in members {
                let Some(a) = assets.get(i) else { continue };
                let signals = Signals {
                    kev: f.kev.is_some(),
                    ransomware: f.kev.as_ref().is_some_and(|k| k.ransomware),
                    epss: f.epss,
                    cvss: f.cvss,
                    internet_facing: a.internet_facing,
                    patient_reachable: a.patient_reachable,
                };
                let p = urgency::priority(&signals, hit.confidence);
                let responsible = responsibles.get(&a.id).unwrap_or(&facility);
                let key = (a.id, vuln_id.to_owned());
                let p_json = serde_json::to_string(&p).map_err(|e| StoreError::Format(e.to_string()))?;
                let r_json = serde_json::to_string(responsible).map_err(|e| StoreError::Format(e.to_string()))?;
                let fp = fingerprint(&[source, hit.confidence.code(), &hit_json, &p_json, &r_json]);
                let days = urgency::days_to_fix(p.band, signals.kev, kev_days);
                let due = add_days(today, days);
                match existing.get(a.id, vuln_id) {
                    // Unchanged and still present: nothing to write.
                    Some(old) if !old.gone && old.fingerprint == Some(fp) => {}
                    Some(old) => {
                        // A finding keeps its due date; one that comes back gets a new one.
                        let due = match &old.due {
                            Some(d) if !old.gone => Some(d.to_string()),
                            _ => due,
                        };
                        let fp = format!("{fp:016x}");
                        sqlx::query(
                            "UPDATE vuln_findings SET source = $1, confidence = $2, hit = $3, last_matched = $4, gone_at = NULL, \
                             priority = $5, priority_detail = $6, due_date = $7, responsible = $8, fingerprint = $9 WHERE asset_id = $10 AND vuln_id = $11",
                        )
                        .bind(source.to_owned())
                        .bind(hit.confidence.code())
                        .bind(hit_json.clone())
                        .bind(at.clone())
                        .bind(p.score)
                        .bind(p_json)
                        .bind(due)
                        .bind(r_json)
                        .bind(fp)
                        .bind(a.id)
                        .bind(vuln_id.to_owned())
                        .execute(&mut *tx.tx)
                        .await?;
                    }
                    None => {
                        summary.new += 1;
                        let (status, justification, reason, by, when) = match decided.get(&key) {
                            Some((s, j, r, by, when)) => (s.clone(), j.clone(), r.clone(), Some(by.clone()), Some(when.clone())),
                            None => ("open".to_owned(), None, None, None, None),
                        };
                        use crate::vuln::Param;
                        new_rows.push(vec![
                            Param::Int(a.id),
                            Param::Text(vuln_id.to_owned()),
                            Param::Text(source.to_owned()),
                            Param::Text(hit.confidence.code().to_owned()),
                            Param::Text(hit_json.clone()),
                            Param::Text(at.clone()),
                            Param::Text(at.clone()),
                            Param::Real(p.score),
                            Param::Text(p_json),
                            Param::OptText(due),
                            Param::Text(r_json),
                            Param::Text(status),
                            Param::OptText(justification),
                            Param::OptText(reason),
                            Param::OptText(by),
                            Param::OptText(when),
                            Param::Text(format!("{fp:016x}")),
                        ]);
                        if new_rows.len() >= 2000 {
                            crate::vuln::insert_rows(&mut tx, backend, INSERT, "", 17, std::mem::take(&mut new_rows)).await?;
                        }
                    }
                }
            }
        }
        crate::vuln::insert_rows(&mut tx, backend, INSERT, "", 17, new_rows).await?;
        let position: HashMap<Id, usize> = assets.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
        for (&(asset, v), old) in &existing.rows {
            let vuln = existing.vulns.name(v);
            let still = position.get(&asset).is_some_and(|&i| hits.contains(i, vuln));
            if !old.gone && !still {
                summary.gone += 1;
                sqlx::query("UPDATE vuln_findings SET gone_at = $1 WHERE asset_id = $2 AND vuln_id = $3")
                    .bind(at.clone())
                    .bind(asset)
                    .bind(vuln.to_owned())
                    .execute(&mut *tx.tx)
                    .await?;
            }
        }
        let mut d = Detail::new();
        d.insert("matched".into(), Value::from(summary.matched));
        d.insert("new".into(), Value::from(summary.new));
        d.insert("gone".into(), Value::from(summary.gone));
        tx.audit(actor, "vuln.match", "finding", None, d).await?;
        tx.commit().await?;
        summary.write_ms = ms(t3);
        Ok(summary)
    }

    /// KEV, EPSS, CVSS and title of vulnerabilities.
    pub async fn vuln_facts(&self, ids: &[String]) -> Result<HashMap<String, VulnFacts>> {
        let mut out: HashMap<String, VulnFacts> = HashMap::new();
        for chunk in ids.chunks(400) {
            let ph = batch_placeholders(self.backend(), 1, chunk.len());
            for r in self.fetch_in(chunk, &format!("SELECT id, cvss_score, severity, description, detail FROM vuln_cves WHERE id IN ({ph})")).await? {
                let id: String = r.try_get(0)?;
                let detail: String = r.try_get(4)?;
                let detail: Value = decode(&id, &detail)?;
                let e = out.entry(id).or_default();
                e.cvss = r.try_get(1)?;
                e.severity = r.try_get(2)?;
                e.title = r.try_get(3)?;
                if let Some(k) = detail.get("kev").filter(|k| !k.is_null()) {
                    let g = |f: &str| k.get(f).and_then(Value::as_str).unwrap_or_default().to_owned();
                    e.kev = Some(KevFacts { date_added: g("date_added"), due_date: g("due_date"), ransomware: false, required_action: g("required_action"), name: g("name") });
                }
            }
            for r in self.fetch_in(chunk, &format!("SELECT cve_id, date_added, due_date, ransomware, required_action, name FROM vuln_kev WHERE cve_id IN ({ph})")).await? {
                let id: String = r.try_get(0)?;
                let e = out.entry(id).or_default();
                e.kev = Some(KevFacts {
                    date_added: r.try_get(1)?,
                    due_date: r.try_get(2)?,
                    ransomware: get_bool(&r, "ransomware")?,
                    required_action: r.try_get(4)?,
                    name: r.try_get(5)?,
                });
            }
            for r in self.fetch_in(chunk, &format!("SELECT cve_id, epss, percentile FROM vuln_epss WHERE cve_id IN ({ph})")).await? {
                let id: String = r.try_get(0)?;
                let e = out.entry(id).or_default();
                e.epss = r.try_get(1)?;
                e.epss_percentile = r.try_get(2)?;
            }
            // JVN's Japanese title and its CVSS stand in where NVD has none (JVN-only products).
            for r in self
                .fetch_in(
                    chunk,
                    &format!(
                        "SELECT c.cve_id, c.jvn_id, j.title, j.cvss_score, j.severity FROM vuln_jvn_cves c JOIN vuln_jvn j ON j.id = c.jvn_id \
                         WHERE c.cve_id IN ({ph}) ORDER BY c.jvn_id"
                    ),
                )
                .await?
            {
                let id: String = r.try_get(0)?;
                let e = out.entry(id).or_default();
                e.jvn_ids.push(r.try_get(1)?);
                if e.title.is_empty() {
                    e.title = r.try_get(2)?;
                }
                if e.cvss.is_none() {
                    e.cvss = r.try_get(3)?;
                    e.severity = r.try_get(4)?;
                }
            }
            for r in self.fetch_in(chunk, &format!("SELECT id, title, cvss_score, severity FROM vuln_jvn WHERE id IN ({ph})")).await? {
                let id: String = r.try_get(0)?;
                let e = out.entry(id.clone()).or_default();
                e.title = r.try_get(1)?;
                e.cvss = r.try_get(2)?;
                e.severity = r.try_get(3)?;
                e.jvn_ids.push(id);
            }
        }
        Ok(out)
    }

    /// Runs `sql` (with `{ph}` already filled for `ids.len()` placeholders) binding `ids`.
    async fn fetch_in(&self, ids: &[String], sql: &str) -> Result<Vec<sqlx::any::AnyRow>> {
        let mut q = sqlx::query(sql);
        for id in ids {
            q = q.bind(id.clone());
        }
        Ok(q.fetch_all(self.pool()).await?)
    }

    /// Findings, most urgent first (active before settled, then priority, then due date).
    pub async fn list_findings(&self, f: &FindingFilter) -> Result<Vec<Finding>> {
        let rows = sqlx::query(
            "SELECT f.asset_id, a.name, f.vuln_id, f.source, f.confidence, f.hit, f.first_seen, f.last_matched, f.gone_at, \
             f.priority_detail, f.due_date, f.responsible, f.status, f.justification, f.reason, f.status_by, f.status_at \
             FROM vuln_findings f JOIN assets a ON a.id = f.asset_id ORDER BY f.priority DESC, f.vuln_id, f.asset_id",
        )
        .fetch_all(self.pool())
        .await?;
        let scope: Option<BTreeSet<Id>> = match f.vendor_scope.or(f.vendor_id) {
            Some(v) => Some(self.list_contracts().await?.into_iter().filter(|c| c.vendor_id == v).flat_map(|c| c.asset_ids).collect()),
            None => None,
        };
        let mut out = Vec::new();
        for r in &rows {
            let asset_id: Id = r.try_get(0)?;
            let vuln_id: String = r.try_get(2)?;
            let status: String = r.try_get(12)?;
            let status = FindingStatus::parse(&status).ok_or_else(|| StoreError::Decode(format!("finding status {status}")))?;
            let gone_at: Option<String> = r.try_get(8)?;
            if f.asset_id.is_some_and(|a| a != asset_id) || f.vuln_id.as_ref().is_some_and(|v| *v != vuln_id) {
                continue;
            }
            if !f.all && (!status.is_active() || gone_at.is_some()) {
                continue;
            }
            let responsible: Responsible = decode("responsible", &r.try_get::<String, _>(11)?)?;
            if let Some(s) = &scope
                && !s.contains(&asset_id)
            {
                continue;
            }
            if f.vendor_id.is_some() && responsible.vendor_id != f.vendor_id {
                continue;
            }
            let confidence: String = r.try_get(4)?;
            let confidence = Confidence::parse(&confidence).ok_or_else(|| StoreError::Decode(format!("confidence {confidence}")))?;
            out.push(Finding {
                asset_id,
                asset_name: r.try_get(1)?,
                vuln_id,
                source: r.try_get(3)?,
                confidence,
                confidence_score: confidence.score(),
                hit: decode("hit", &r.try_get::<String, _>(5)?)?,
                priority: decode("priority", &r.try_get::<String, _>(9)?)?,
                due_date: r.try_get(10)?,
                responsible,
                status,
                justification: r.try_get(13)?,
                reason: r.try_get(14)?,
                status_by: r.try_get(15)?,
                status_at: r.try_get(16)?,
                first_seen: r.try_get(6)?,
                last_matched: r.try_get(7)?,
                gone_at,
                kev: None,
                epss: None,
                epss_percentile: None,
                cvss: None,
                severity: None,
                title: String::new(),
                jvn_ids: Vec::new(),
            });
        }
        let ids: Vec<String> = out.iter().map(|f| f.vuln_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
        let facts = self.vuln_facts(&ids).await?;
        for f in &mut out {
            if let Some(x) = facts.get(&f.vuln_id) {
                f.kev = x.kev.clone();
                f.epss = x.epss;
                f.epss_percentile = x.epss_percentile;
                f.cvss = x.cvss;
                f.severity = x.severity.clone();
                f.title = x.title.clone();
                f.jvn_ids = x.jvn_ids.clone();
            }
        }
        // Active first, then priority.
        out.sort_by(|a, b| {
            (b.status.is_active() && b.gone_at.is_none())
                .cmp(&(a.status.is_active() && a.gone_at.is_none()))
                .then(b.priority.score.total_cmp(&a.priority.score))
                .then(a.due_date.cmp(&b.due_date))
                .then(a.vuln_id.cmp(&b.vuln_id))
                .then(a.asset_id.cmp(&b.asset_id))
        });
        Ok(out)
    }

    /// Sets the status of a finding, with a VEX-compatible justification when it does not
    /// apply, and keeps the change in the finding's history and the audit log.
    pub async fn set_finding_status(
        &self,
        actor: &str,
        asset_id: Id,
        vuln_id: &str,
        status: FindingStatus,
        justification: Option<&str>,
        reason: Option<&str>,
    ) -> Result<()> {
        if let Some(j) = justification
            && !JUSTIFICATIONS.contains(&j)
        {
            return Err(StoreError::Refused { key: "vuln_error.justification", detail: format!("{j} ({})", JUSTIFICATIONS.join(", ")) });
        }
        if status == FindingStatus::FalsePositive && justification.is_none() && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(StoreError::Refused { key: "vuln_error.false_positive_why", detail: String::new() });
        }
        if status == FindingStatus::Accepted && reason.is_none_or(|r| r.trim().is_empty()) {
            return Err(StoreError::Refused { key: "vuln_error.accepted_why", detail: String::new() });
        }
        let at = now();
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE vuln_findings SET status = $1, justification = $2, reason = $3, status_by = $4, status_at = $5 WHERE asset_id = $6 AND vuln_id = $7",
        )
        .bind(status.code())
        .bind(justification.map(str::to_owned))
        .bind(reason.map(str::to_owned))
        .bind(actor.to_owned())
        .bind(at.clone())
        .bind(asset_id)
        .bind(vuln_id.to_owned())
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "finding", id: format!("{asset_id} {vuln_id}") });
        }
        sqlx::query("INSERT INTO vuln_finding_history (asset_id, vuln_id, at, actor, status, justification, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(asset_id)
            .bind(vuln_id.to_owned())
            .bind(at)
            .bind(actor.to_owned())
            .bind(status.code())
            .bind(justification.map(str::to_owned))
            .bind(reason.map(str::to_owned))
            .execute(&mut *tx.tx)
            .await?;
        let mut d = Detail::new();
        d.insert("vuln".into(), Value::String(vuln_id.to_owned()));
        d.insert("status".into(), Value::String(status.code().to_owned()));
        if let Some(j) = justification {
            d.insert("justification".into(), Value::String(j.to_owned()));
        }
        tx.audit(actor, "vuln.status", "asset", Some(asset_id), d).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The status history of a finding, oldest first.
    pub async fn finding_history(&self, asset_id: Id, vuln_id: &str) -> Result<Vec<FindingChange>> {
        let rows = sqlx::query("SELECT at, actor, status, justification, reason FROM vuln_finding_history WHERE asset_id = $1 AND vuln_id = $2 ORDER BY id")
            .bind(asset_id)
            .bind(vuln_id.to_owned())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(FindingChange { at: r.try_get(0)?, actor: r.try_get(1)?, status: r.try_get(2)?, justification: r.try_get(3)?, reason: r.try_get(4)? })
            })
            .collect()
    }
}

/// One status change of a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FindingChange {
    pub at: String,
    pub actor: String,
    pub status: String,
    pub justification: Option<String>,
    pub reason: Option<String>,
}

/// What the corpus says about one vulnerability.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VulnFacts {
    pub cvss: Option<f64>,
    pub severity: Option<String>,
    pub title: String,
    pub kev: Option<KevFacts>,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub jvn_ids: Vec<String>,
}

/// `date` + `days` (YYYY-MM-DD).
pub(crate) fn add_days(date: &str, days: u32) -> Option<String> {
    let d: jiff::civil::Date = date.parse().ok()?;
    d.checked_add(jiff::Span::new().days(i64::from(days))).ok().map(|d| d.to_string())
}

/// A JVN advisory as the detail page shows it (Japanese).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvnSummary {
    pub id: String,
    pub title: String,
    pub overview: String,
    pub link: Option<String>,
    pub cvss_score: Option<f64>,
    pub severity: Option<String>,
    pub published: Option<String>,
    pub modified: Option<String>,
    /// The advisory's JSON detail: products (display names, versions as text), solution,
    /// references.
    pub detail: Value,
}

/// A vendor statement as shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatementSummary {
    pub origin: String,
    pub publisher: String,
    pub tracking_id: String,
    pub product_name: String,
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub status: String,
    pub justification: Option<String>,
    pub remediation: Option<String>,
    pub url: Option<String>,
}

/// Everything mamori knows about one vulnerability.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VulnDetail {
    pub id: String,
    pub published: Option<String>,
    pub last_modified: Option<String>,
    pub status: Option<String>,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    pub severity: Option<String>,
    pub description: Option<String>,
    pub cwes: Vec<String>,
    /// NVD detail: CVSS entries, references, tags.
    pub nvd: Option<Value>,
    pub configurations: Vec<Configuration>,
    pub kev: Option<KevFacts>,
    pub kev_description: Option<String>,
    pub epss: Option<f64>,
    pub epss_percentile: Option<f64>,
    pub jvn: Vec<JvnSummary>,
    pub statements: Vec<StatementSummary>,
    pub findings: Vec<Finding>,
}

impl Store {
    /// One vulnerability: NVD, KEV, EPSS, JVN (Japanese), vendor statements and the facility's
    /// findings. Unknown everywhere → not found.
    pub async fn vuln_detail(&self, id: &str) -> Result<VulnDetail> {
        let id = id.trim().to_uppercase();
        let mut d = VulnDetail {
            id: id.clone(),
            published: None,
            last_modified: None,
            status: None,
            cvss_score: None,
            cvss_vector: None,
            severity: None,
            description: None,
            cwes: Vec::new(),
            nvd: None,
            configurations: Vec::new(),
            kev: None,
            kev_description: None,
            epss: None,
            epss_percentile: None,
            jvn: Vec::new(),
            statements: Vec::new(),
            findings: Vec::new(),
        };
        let mut known = false;
        if let Some(r) = sqlx::query("SELECT published, last_modified, status, cvss_score, cvss_vector, severity, description, cwes, configurations, detail FROM vuln_cves WHERE id = $1")
            .bind(id.clone())
            .fetch_optional(self.pool())
            .await?
        {
            known = true;
            d.published = r.try_get(0)?;
            d.last_modified = r.try_get(1)?;
            d.status = r.try_get(2)?;
            d.cvss_score = r.try_get(3)?;
            d.cvss_vector = r.try_get(4)?;
            d.severity = r.try_get(5)?;
            d.description = r.try_get(6)?;
            let cwes: String = r.try_get(7)?;
            d.cwes = cwes.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
            d.configurations = decode(&id, &r.try_get::<String, _>(8)?)?;
            d.nvd = Some(decode(&id, &r.try_get::<String, _>(9)?)?);
        }
        let facts = self.vuln_facts(std::slice::from_ref(&id)).await?;
        if let Some(f) = facts.get(&id) {
            d.kev = f.kev.clone();
            d.epss = f.epss;
            d.epss_percentile = f.epss_percentile;
        }
        d.kev_description = sqlx::query_scalar("SELECT short_description FROM vuln_kev WHERE cve_id = $1").bind(id.clone()).fetch_optional(self.pool()).await?;
        let jvn_rows = sqlx::query(
            "SELECT j.id, j.title, j.overview, j.link, j.cvss_score, j.severity, j.published, j.modified, j.detail FROM vuln_jvn j \
             WHERE j.id = $1 OR j.id IN (SELECT jvn_id FROM vuln_jvn_cves WHERE cve_id = $2) ORDER BY j.id",
        )
        .bind(id.clone())
        .bind(id.clone())
        .fetch_all(self.pool())
        .await?;
        for r in &jvn_rows {
            let jid: String = r.try_get(0)?;
            let detail: Value = decode(&jid, &r.try_get::<String, _>(8)?)?;
            d.jvn.push(JvnSummary {
                id: jid,
                title: r.try_get(1)?,
                overview: r.try_get(2)?,
                link: r.try_get(3)?,
                cvss_score: r.try_get(4)?,
                severity: r.try_get(5)?,
                published: r.try_get(6)?,
                modified: r.try_get(7)?,
                detail,
            });
        }
        let rows = sqlx::query(
            "SELECT d.origin, d.publisher, d.tracking_id, s.product_name, s.version, s.version_range, s.status, s.justification, s.remediation, s.url \
             FROM vuln_statements s JOIN vuln_documents d ON d.id = s.document_id WHERE s.cve_id = $1 ORDER BY s.id",
        )
        .bind(id.clone())
        .fetch_all(self.pool())
        .await?;
        for r in &rows {
            d.statements.push(StatementSummary {
                origin: r.try_get(0)?,
                publisher: r.try_get(1)?,
                tracking_id: r.try_get(2)?,
                product_name: r.try_get(3)?,
                version: r.try_get(4)?,
                version_range: r.try_get(5)?,
                status: r.try_get(6)?,
                justification: r.try_get(7)?,
                remediation: r.try_get(8)?,
                url: r.try_get(9)?,
            });
        }
        d.findings = self.list_findings(&FindingFilter { vuln_id: Some(id.clone()), all: true, ..FindingFilter::default() }).await?;
        known |= d.kev.is_some() || !d.jvn.is_empty() || !d.statements.is_empty() || !d.findings.is_empty();
        if !known {
            return Err(StoreError::Missing { entity: "vulnerability", id });
        }
        Ok(d)
    }

    /// The facility's findings as a CycloneDX 1.6 VEX document: every affected asset is a
    /// component, every finding a statement whose analysis follows its status.
    pub async fn vex_export(&self, actor: &str) -> Result<Value> {
        use mamori_vuln::vex::{VexComponent, VexExport, VexState, VexStatement};
        let findings = self.list_findings(&FindingFilter { all: true, ..FindingFilter::default() }).await?;
        let facility: String = sqlx::query_scalar("SELECT name FROM facility WHERE id = 1").fetch_optional(self.pool()).await?.unwrap_or_default();
        let mut components: BTreeMap<Id, VexComponent> = BTreeMap::new();
        let mut statements = Vec::new();
        for f in &findings {
            let asset = self.get_asset(f.asset_id, None).await?;
            let cpe = Cpe::parse(&f.hit.device_cpe).ok();
            let kind = match cpe.as_ref().and_then(|c| c.to_fs().get(8..9).map(str::to_owned)).as_deref() {
                Some("o") => "firmware",
                Some("h") => "device",
                _ => "application",
            };
            let bom_ref = format!("asset-{}", f.asset_id);
            components.entry(f.asset_id).or_insert_with(|| VexComponent {
                bom_ref: Some(bom_ref.clone()),
                kind: kind.to_owned(),
                name: asset.data.name.clone(),
                version: cpe.as_ref().and_then(|c| c.version().as_literal()).or(asset.data.os_version.clone()),
                cpe: Some(f.hit.device_cpe.clone()),
                purl: None,
                group: None,
                supplier: asset.data.vendor.clone(),
            });
            let (state, responses) = if f.gone_at.is_some() && f.status.is_active() {
                (VexState::Resolved, vec!["update".to_owned()])
            } else {
                match f.status {
                    FindingStatus::Open => (VexState::InTriage, Vec::new()),
                    FindingStatus::InProgress => (VexState::Exploitable, vec!["update".to_owned()]),
                    FindingStatus::Resolved => (VexState::Resolved, vec!["update".to_owned()]),
                    FindingStatus::Accepted => (VexState::Exploitable, vec!["will_not_fix".to_owned()]),
                    FindingStatus::FalsePositive => {
                        if f.justification.is_some() { (VexState::NotAffected, Vec::new()) } else { (VexState::FalsePositive, Vec::new()) }
                    }
                }
            };
            let source = if f.vuln_id.starts_with("JVNDB-") { "JVN" } else { "NVD" };
            statements.push(VexStatement {
                id: f.vuln_id.clone(),
                source: Some(source.to_owned()),
                source_url: Some(if source == "JVN" { format!("https://jvndb.jvn.jp/ja/contents/{}", f.vuln_id) } else { format!("https://nvd.nist.gov/vuln/detail/{}", f.vuln_id) }),
                bom_ref,
                component: None,
                versions: Vec::new(),
                state: Some(state),
                justification: f.justification.clone(),
                responses,
                detail: f.reason.clone(),
                ratings: Vec::new(),
                cwes: Vec::new(),
                description: Some(f.title.clone()).filter(|t| !t.is_empty()),
                recommendation: None,
                first_issued: Some(f.first_seen.clone()),
                updated: f.status_at.clone().or(Some(f.last_matched.clone())),
            });
        }
        let serial = format!("urn:uuid:{}", uuid_v4());
        let doc = VexExport { serial_number: serial, version: 1, timestamp: now(), facility, components: components.into_values().collect(), statements };
        let value = mamori_vuln::vex::write_cyclonedx_vex(&doc);
        let mut tx = self.write_tx().await?;
        let mut d = Detail::new();
        d.insert("format".into(), Value::String("cyclonedx-vex".into()));
        d.insert("statements".into(), Value::from(findings.len()));
        tx.audit(actor, "vuln.export", "finding", None, d).await?;
        tx.commit().await?;
        Ok(value)
    }
}

/// A random (version 4) UUID.
fn uuid_v4() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    if let Some(x) = b.get_mut(6) {
        *x = (*x & 0x0f) | 0x40;
    }
    if let Some(x) = b.get_mut(8) {
        *x = (*x & 0x3f) | 0x80;
    }
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", h.get(..8).unwrap_or(""), h.get(8..12).unwrap_or(""), h.get(12..16).unwrap_or(""), h.get(16..20).unwrap_or(""), h.get(20..).unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_model::{AssetData, AssetKind};

    /// Stored findings read a page at a time give every row once, whatever the page size.
    #[tokio::test]
    async fn stored_findings_are_read_page_by_page() -> Result<()> {
        for (backend, db) in crate::testing::fresh_databases().await {
            let store = Store::open(&db.url, crate::OpenMode::Create).await?;
            let mut values = Vec::new();
            for a in 0..3 {
                let asset = store.create_asset("test", &AssetData::new(format!("PC-{a}"), AssetKind::Pc)).await?;
                for v in ["CVE-2024-21762", "CVE-2023-27997", "JVNDB-2024-000001"].iter().take(a + 1) {
                    let gone = if a == 1 { "'2026-11-01T00:00:00+09:00'" } else { "NULL" };
                    let fp = if a == 2 { String::new() } else { format!("{:016x}", asset.id) };
                    values.push(format!(
                        "({}, '{v}', 'nvd', 'range', '{{}}', 'x', 'x', {gone}, 1.0, '{{}}', '2026-12-01', '{{}}', 'open', '{fp}')",
                        asset.id
                    ));
                }
            }
            crate::testing::execute(
                &store,
                &format!(
                    "INSERT INTO vuln_findings (asset_id, vuln_id, source, confidence, hit, first_seen, last_matched, gone_at, priority, \
                     priority_detail, due_date, responsible, status, fingerprint) VALUES {}",
                    values.join(", ")
                ),
            )
            .await?;
            let all = store.stored_findings_paged(1000).await?;
            assert_eq!(all.rows.len(), 6, "{backend}");
            for page in [1, 2, 5] {
                let paged = store.stored_findings_paged(page).await?;
                assert_eq!(paged.rows.len(), 6, "{backend}, page {page}");
                for ((asset, v), f) in &all.rows {
                    let vuln = all.vulns.name(*v);
                    let g = paged.get(*asset, vuln);
                    assert_eq!(g.map(|g| (g.due.as_deref(), g.gone, g.fingerprint)), Some((f.due.as_deref(), f.gone, f.fingerprint)), "{backend}");
                }
            }
            let gone = all.rows.values().filter(|f| f.gone).count();
            assert_eq!(gone, 2, "{backend}");
            // A fingerprint that is not ours (empty) never equals a computed one.
            assert_eq!(all.rows.values().filter(|f| f.fingerprint.is_none()).count(), 3, "{backend}");
        }
        Ok(())
    }
}
