//! Evaluates an NVD configuration tree against one device.
//!
//! A device is the set of CPE names known for it: its firmware or OS (`o:`), its hardware
//! (`h:`) and installed applications (`a:`), each either confirmed (from a scan, an SBOM or the
//! manager) or only suggested from the ledger's maker and model names.
//!
//! The logic is three-valued. "Yes" needs the device's version to be named by the criterion or
//! to lie inside its range under a known version scheme. "Maybe" is what we cannot decide: the
//! device's version is unknown, the versions do not compare (Cisco trains), or a platform
//! condition (the hardware of a firmware CVE) is unknown. "Maybe" is reported at a lower
//! confidence, never silently as "Yes", and never dropped as "No".

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::cpe::{self, Cpe, MatchLevel, Relation, VERSION, Value};
use crate::index;
use crate::model::{Configuration, CpeMatch, Node, Operator};
use crate::version::{self, Scheme};

/// How sure a match is. Ordered: a higher variant is more certain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// Only a name in a JVN advisory matched (JVN carries no versions).
    JvnName,
    /// Vendor and product agree; the device's version is unknown.
    VendorProduct,
    /// Versions were compared, but not under a scheme we know for this product, or a platform
    /// condition could not be checked.
    Fuzzy,
    /// Inside a version range, compared under the product's scheme.
    VersionRange,
    /// The criterion names the device's version.
    ExactVersion,
}

impl Confidence {
    /// The 0–100 score shown next to a finding (the scale vuls uses).
    pub fn score(self) -> u8 {
        match self {
            Confidence::JvnName | Confidence::VendorProduct => 10,
            Confidence::Fuzzy => 50,
            Confidence::VersionRange => 90,
            Confidence::ExactVersion => 100,
        }
    }

    /// Stable code (catalog key suffix, JSON value).
    pub fn code(self) -> &'static str {
        match self {
            Confidence::JvnName => "jvn_name",
            Confidence::VendorProduct => "vendor_product",
            Confidence::Fuzzy => "fuzzy",
            Confidence::VersionRange => "version_range",
            Confidence::ExactVersion => "exact_version",
        }
    }

    pub fn parse(s: &str) -> Option<Confidence> {
        [Confidence::JvnName, Confidence::VendorProduct, Confidence::Fuzzy, Confidence::VersionRange, Confidence::ExactVersion]
            .into_iter()
            .find(|c| c.code() == s)
    }
}

/// One CPE name of a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCpe {
    pub cpe: Cpe,
    /// `false` for a suggestion the manager has not confirmed: matches through it are capped at
    /// [`Confidence::Fuzzy`].
    pub confirmed: bool,
    /// Vendor and product as literals (for the quick rejection of other products), and the
    /// part (`a`, `o`, `h`).
    key: Option<(String, String)>,
    part: Option<String>,
}

impl DeviceCpe {
    pub fn new(cpe: Cpe, confirmed: bool) -> DeviceCpe {
        let key = match (cpe.vendor(), cpe.product()) {
            (Some(v), Some(p)) => Some((v, p)),
            _ => None,
        };
        let part = cpe.values.first().and_then(cpe::Value::as_literal);
        DeviceCpe { cpe, confirmed, key, part }
    }

    /// Vendor and product, when both are literal.
    pub fn product_key(&self) -> Option<(&str, &str)> {
        self.key.as_ref().map(|(v, p)| (v.as_str(), p.as_str()))
    }
}

/// Why a CVE applies to a device: the configuration and criterion that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    /// 0-based index of the configuration in the CVE record.
    pub configuration: usize,
    /// The vulnerable criterion, as the feed wrote it.
    pub criteria: String,
    /// The range in words (`>= 7.2.0, < 7.2.7`), empty when the criterion names one version.
    pub range: String,
    /// The device's name that matched.
    pub device_cpe: String,
    pub confidence: Confidence,
    /// For firmware/hardware (AND) configurations: the platform criterion and whether the
    /// device satisfied it (`Some(true)`), or it was unknown (`None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_known: Option<bool>,
    /// Something a user should know to judge the match (versions not comparable, suggestion
    /// not confirmed …), as a stable code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
}

/// Three-valued truth of a node or configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Truth {
    No,
    Maybe(Confidence, Option<Evidence>),
    Yes(Confidence, Option<Evidence>),
}

/// The best vulnerable criterion that fired under a node.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Evidence {
    criteria: String,
    range: String,
    device_cpe: String,
    confidence: Confidence,
    caveats: Vec<String>,
}

/// The range of a criterion in words.
pub fn range_text(m: &CpeMatch) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &m.version_start_including {
        parts.push(format!(">= {v}"));
    }
    if let Some(v) = &m.version_start_excluding {
        parts.push(format!("> {v}"));
    }
    if let Some(v) = &m.version_end_including {
        parts.push(format!("<= {v}"));
    }
    if let Some(v) = &m.version_end_excluding {
        parts.push(format!("< {v}"));
    }
    parts.join(", ")
}

/// The version bounds of a criterion, borrowed from a [`CpeMatch`] or a stored index entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Range<'a> {
    pub(crate) start_incl: Option<&'a str>,
    pub(crate) start_excl: Option<&'a str>,
    pub(crate) end_incl: Option<&'a str>,
    pub(crate) end_excl: Option<&'a str>,
}

impl<'a> Range<'a> {
    pub(crate) fn of(m: &'a CpeMatch) -> Range<'a> {
        Range {
            start_incl: m.version_start_including.as_deref(),
            start_excl: m.version_start_excluding.as_deref(),
            end_incl: m.version_end_including.as_deref(),
            end_excl: m.version_end_excluding.as_deref(),
        }
    }

    fn any(&self) -> bool {
        self.start_incl.is_some() || self.start_excl.is_some() || self.end_incl.is_some() || self.end_excl.is_some()
    }
}

/// A criterion parsed once: the name, its literal vendor and product (None with wildcards),
/// and the version scheme they call for.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) cpe: Cpe,
    pub(crate) key: Option<(String, String)>,
    scheme: Scheme,
}

impl Entry {
    pub(crate) fn new(criteria: &str) -> Option<Entry> {
        let cpe = Cpe::parse(criteria).ok()?;
        let key = match (cpe.vendor(), cpe.product()) {
            (Some(v), Some(p)) => Some((v, p)),
            _ => None,
        };
        let scheme = key.as_ref().map(|(v, p)| version::scheme_for(v, p)).unwrap_or(Scheme::Generic);
        Some(Entry { cpe, key, scheme })
    }
}

/// Evaluates one criterion against one device name.
fn entry_truth(m: &CpeMatch, entry: &Entry, device: &DeviceCpe) -> (Truth, Vec<String>) {
    // Another product: the common case, decided without comparing names in full.
    if let (Some(a), Some(b)) = (&entry.key, &device.key)
        && a != b
    {
        return (Truth::No, Vec::new());
    }
    let criterion = &entry.cpe;
    let mut caveats = Vec::new();
    let level = cpe::match_level(criterion, &device.cpe);
    let truth = match level {
        MatchLevel::None => {
            // A platform entry (hardware) names the model with version NA (`h:zyxel:atp100:-`);
            // a device whose hardware version is unknown (ANY) still has that hardware.
            let rel = cpe::compare(criterion, &device.cpe);
            let same_except_version = rel.iter().enumerate().all(|(i, r)| {
                i == VERSION || matches!(r, Relation::Superset | Relation::Equal | Relation::Subset)
            });
            let version_na = matches!(criterion.version(), cpe::Value::Na);
            if !m.vulnerable && version_na && same_except_version && matches!(device.cpe.version(), cpe::Value::Any) {
                Truth::Yes(Confidence::VersionRange, None)
            } else {
                Truth::No
            }
        }
        MatchLevel::VendorProduct => {
            caveats.push("device_version_unknown".to_owned());
            Truth::Maybe(Confidence::VendorProduct, None)
        }
        MatchLevel::Exact => {
            if Range::of(m).any() {
                match device.cpe.version().as_literal() {
                    None => {
                        caveats.push("device_version_unknown".to_owned());
                        Truth::Maybe(Confidence::VendorProduct, None)
                    }
                    Some(v) => {
                        let scheme = entry.scheme;
                        match version::in_range(
                            scheme,
                            &v,
                            m.version_start_including.as_deref(),
                            m.version_start_excluding.as_deref(),
                            m.version_end_including.as_deref(),
                            m.version_end_excluding.as_deref(),
                        ) {
                            Some((false, _)) => Truth::No,
                            Some((true, true)) => Truth::Yes(Confidence::VersionRange, None),
                            Some((true, false)) => {
                                caveats.push("version_scheme_fuzzy".to_owned());
                                Truth::Yes(Confidence::Fuzzy, None)
                            }
                            None => {
                                caveats.push(if scheme == Scheme::CiscoIos { "version_train_differs" } else { "version_not_comparable" }.to_owned());
                                Truth::Maybe(Confidence::Fuzzy, None)
                            }
                        }
                    }
                }
            } else if matches!(criterion.version(), cpe::Value::Any) {
                // No range and version ANY: every version.
                Truth::Yes(Confidence::VersionRange, None)
            } else {
                Truth::Yes(Confidence::ExactVersion, None)
            }
        }
    };
    let truth = match truth {
        Truth::Yes(c, e) if !device.confirmed => {
            caveats.push("cpe_unconfirmed".to_owned());
            Truth::Yes(c.min(Confidence::Fuzzy), e)
        }
        Truth::Maybe(c, e) if !device.confirmed => {
            caveats.push("cpe_unconfirmed".to_owned());
            Truth::Maybe(c.min(Confidence::Fuzzy), e)
        }
        t => t,
    };
    (truth, caveats)
}

fn better(a: &Option<Evidence>, b: &Option<Evidence>) -> bool {
    match (a, b) {
        (Some(_), None) => true,
        (Some(x), Some(y)) => x.confidence > y.confidence,
        _ => false,
    }
}

fn node_truth(node: &Node, device: &[DeviceCpe], parsed: &[Option<Entry>]) -> Truth {
    let mut values = Vec::with_capacity(node.cpe_match.len());
    for (i, m) in node.cpe_match.iter().enumerate() {
        let Some(Some(criterion)) = parsed.get(i) else {
            values.push(Truth::No);
            continue;
        };
        // Best over the device's names: Yes beats Maybe beats No, then confidence.
        let mut best = Truth::No;
        for d in device {
            let (t, caveats) = entry_truth(m, criterion, d);
            let evidence = |c: Confidence| {
                m.vulnerable.then(|| Evidence {
                    criteria: m.criteria.clone(),
                    range: range_text(m),
                    device_cpe: d.cpe.to_fs(),
                    confidence: c,
                    caveats: caveats.clone(),
                })
            };
            let t = match t {
                Truth::Yes(c, _) => Truth::Yes(c, evidence(c)),
                Truth::Maybe(c, _) => Truth::Maybe(c, evidence(c)),
                Truth::No => Truth::No,
            };
            if rank(&t) > rank(&best) {
                best = t;
            }
        }
        values.push(best);
    }
    let combined = combine(node.operator, values);
    if node.negate { negate(combined) } else { combined }
}

fn rank(t: &Truth) -> (u8, Option<Confidence>) {
    match t {
        Truth::No => (0, None),
        Truth::Maybe(c, _) => (1, Some(*c)),
        Truth::Yes(c, _) => (2, Some(*c)),
    }
}

fn negate(t: Truth) -> Truth {
    match t {
        Truth::No => Truth::Yes(Confidence::VersionRange, None),
        Truth::Maybe(c, _) => Truth::Maybe(c, None),
        Truth::Yes(..) => Truth::No,
    }
}

/// OR: the best; AND: all must hold, at the lowest confidence, carrying the best vulnerable
/// evidence found among the parts.
fn combine(op: Operator, values: Vec<Truth>) -> Truth {
    match op {
        Operator::Or => values.into_iter().fold(Truth::No, |best, t| {
            let (rb, rt) = (rank(&best), rank(&t));
            if rt > rb { t } else { best }
        }),
        Operator::And => {
            if values.is_empty() {
                return Truth::No;
            }
            let mut conf = Confidence::ExactVersion;
            let mut any_maybe = false;
            let mut evidence: Option<Evidence> = None;
            for t in values {
                match t {
                    Truth::No => return Truth::No,
                    Truth::Maybe(c, e) => {
                        any_maybe = true;
                        conf = conf.min(c);
                        if better(&e, &evidence) {
                            evidence = e;
                        }
                    }
                    Truth::Yes(c, e) => {
                        conf = conf.min(c);
                        if better(&e, &evidence) {
                            evidence = e;
                        }
                    }
                }
            }
            if any_maybe { Truth::Maybe(conf, evidence) } else { Truth::Yes(conf, evidence) }
        }
    }
}

/// A configuration tree with its criteria parsed once (on first use), to evaluate against many
/// devices.
#[derive(Debug, Clone)]
pub struct Compiled {
    configurations: Vec<Configuration>,
    /// Per configuration, per node, per cpeMatch: the parsed criterion (None when unparsable),
    /// parsed when the configuration is first evaluated per device.
    parsed: Vec<OnceLock<Vec<Vec<Option<Entry>>>>>,
}

impl Compiled {
    pub fn new(configurations: Vec<Configuration>) -> Compiled {
        let parsed = configurations.iter().map(|_| OnceLock::new()).collect();
        Compiled { configurations, parsed }
    }

    pub fn configurations(&self) -> &[Configuration] {
        &self.configurations
    }

    /// The parsed criteria of configuration `ci`.
    fn parsed(&self, ci: usize) -> Option<&[Vec<Option<Entry>>]> {
        let c = self.configurations.get(ci)?;
        let p = self.parsed.get(ci)?;
        Some(p.get_or_init(|| c.nodes.iter().map(|n| n.cpe_match.iter().map(|m| Entry::new(&m.criteria)).collect()).collect()))
    }

    /// The `(vendor, product)` pairs of the vulnerable criteria: what a device must name for
    /// this CVE to be a candidate.
    pub fn vulnerable_products(&self) -> Vec<(String, String)> {
        index::vulnerable_products(&self.configurations).into_iter().collect()
    }

    /// Whether the CVE applies to the device, and why. The most certain configuration wins.
    ///
    /// This evaluates the device against every criterion: the reference for [`Inventory`],
    /// which matches many devices at once and must give the same answers.
    pub fn evaluate(&self, device: &[DeviceCpe]) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        for ci in 0..self.configurations.len() {
            let Some(hit) = self.evaluate_configuration(ci, device) else { continue };
            if best.as_ref().is_none_or(|b| hit.confidence.cmp(&b.confidence) == Ordering::Greater) {
                best = Some(hit);
            }
        }
        best
    }

    /// Configuration `ci` against one device.
    fn evaluate_configuration(&self, ci: usize, device: &[DeviceCpe]) -> Option<Hit> {
        let config = self.configurations.get(ci)?;
        let parsed = self.parsed(ci)?;
        let mut values = Vec::with_capacity(config.nodes.len());
        let mut platform: Option<(usize, bool)> = None;
        for (ni, node) in config.nodes.iter().enumerate() {
            let t = node_truth(node, device, parsed.get(ni).map(Vec::as_slice).unwrap_or_default());
            if node.cpe_match.iter().all(|m| !m.vulnerable) && !node.negate {
                let known = matches!(t, Truth::Yes(..));
                if platform.as_ref().is_none_or(|(_, k)| !*k) {
                    platform = Some((ni, known));
                }
            }
            values.push(t);
        }
        // A platform node that did not hold on a device without any hardware name is
        // unknown, not false: the ledger may simply not say the model.
        let has_hw = device.iter().any(|d| d.part.as_deref() == Some("h"));
        let values: Vec<Truth> = config.nodes.iter().zip(values).map(|(node, t)| platform_unknown_unless_hw(node, t, has_hw)).collect();
        let t = combine(config.operator, values);
        let t = if config.negate { negate(t) } else { t };
        let (yes, conf, evidence) = match t {
            Truth::Yes(c, Some(e)) => (true, c, e),
            Truth::Maybe(c, Some(e)) => (false, c, e),
            _ => return None,
        };
        let mut caveats = evidence.caveats.clone();
        let confidence = if yes { conf.min(evidence.confidence) } else { conf.min(evidence.confidence).min(Confidence::Fuzzy) };
        let (platform, platform_known) = match platform {
            Some((ni, known)) => {
                let name = config.nodes.get(ni).map(platform_name).unwrap_or_default();
                if !known {
                    caveats.push("platform_unknown".to_owned());
                }
                (Some(name), Some(known))
            }
            None => (None, None),
        };
        caveats.sort();
        caveats.dedup();
        Some(Hit {
            configuration: ci,
            criteria: evidence.criteria,
            range: evidence.range,
            device_cpe: evidence.device_cpe,
            confidence,
            platform,
            platform_known,
            caveats,
        })
    }
}

/// A platform node that did not hold on a device without any hardware name is unknown, not
/// false: the ledger may simply not say the model.
fn platform_unknown_unless_hw(node: &Node, t: Truth, has_hw: bool) -> Truth {
    if matches!(t, Truth::No)
        && !has_hw
        && node.cpe_match.iter().all(|m| !m.vulnerable)
        && !node.negate
        && node.cpe_match.iter().all(|m| m.criteria.starts_with("cpe:2.3:h:"))
    {
        Truth::Maybe(Confidence::Fuzzy, None)
    } else {
        t
    }
}

/// A platform node as a hit shows it: its criteria.
fn platform_name(node: &Node) -> String {
    node.cpe_match.iter().map(|m| m.criteria.as_str()).collect::<Vec<_>>().join(" / ")
}

/// The platform nodes of an AND configuration on one device set, combined.
struct PlatformPart {
    /// Some part holds only maybe.
    maybe: bool,
    /// The lowest confidence of the parts.
    floor: Confidence,
    /// The platform node a hit shows, and whether it held.
    node: u32,
    known: bool,
}

impl Compiled {
    /// For configuration `ci` of the shape [`platform_shape`] finds (node `vn` vulnerable, the
    /// others platforms): the platform nodes on a device set, as [`Compiled::evaluate`] combines
    /// them. None when one of them does not hold (then neither does the configuration).
    fn platform_part(&self, ci: usize, vn: usize, device: &[DeviceCpe]) -> Option<PlatformPart> {
        let config = self.configurations.get(ci)?;
        let parsed = self.parsed(ci)?;
        let has_hw = device.iter().any(|d| d.part.as_deref() == Some("h"));
        let mut out = PlatformPart { maybe: false, floor: Confidence::ExactVersion, node: 0, known: false };
        let mut shown: Option<(usize, bool)> = None;
        for (ni, node) in config.nodes.iter().enumerate() {
            if ni == vn {
                continue;
            }
            let t = node_truth(node, device, parsed.get(ni).map(Vec::as_slice).unwrap_or_default());
            let known = matches!(t, Truth::Yes(..));
            if shown.as_ref().is_none_or(|(_, k)| !*k) {
                shown = Some((ni, known));
            }
            match platform_unknown_unless_hw(node, t, has_hw) {
                Truth::No => return None,
                Truth::Maybe(c, _) => {
                    out.maybe = true;
                    out.floor = out.floor.min(c);
                }
                Truth::Yes(c, _) => out.floor = out.floor.min(c),
            }
        }
        let (ni, known) = shown?;
        out.node = u32::try_from(ni).ok()?;
        out.known = known;
        Some(out)
    }
}

/// A configuration as a platform record of the index holds it: [`platform_shape`]'s, its
/// vulnerable node `vn` emptied.
fn platform_rest(config: &Configuration, vn: usize) -> bool {
    config.nodes.get(vn).is_some_and(|n| n.operator == Operator::Or && n.cpe_match.is_empty()) && platforms_around(config, vn)
}

/// An AND configuration (nothing negated) of one node of vulnerable criteria and platform
/// nodes (no vulnerable criterion): firmware on hardware, an application on an OS. The
/// vulnerable node's index.
pub(crate) fn platform_shape(config: &Configuration) -> Option<usize> {
    let vn = config.nodes.iter().position(|n| n.cpe_match.iter().any(|m| m.vulnerable))?;
    let node = config.nodes.get(vn)?;
    (node.operator == Operator::Or && node.cpe_match.iter().all(|m| m.vulnerable) && platforms_around(config, vn)).then_some(vn)
}

/// An AND of two nodes or more, nothing negated, whose nodes other than `vn` hold no
/// vulnerable criterion.
fn platforms_around(config: &Configuration, vn: usize) -> bool {
    !config.negate
        && config.operator == Operator::And
        && config.nodes.len() >= 2
        && config.nodes.iter().enumerate().all(|(ni, n)| !n.negate && (ni == vn || n.cpe_match.iter().all(|m| !m.vulnerable)))
}

// ---------------------------------------------------------------------------------------------
// Batch matching: every device set of an inventory against one CVE at a time.
//
// The devices are grouped by (vendor, product), then by their other attributes (a "variant"),
// and the literal versions of a variant are kept once, sorted under the product's version
// scheme. A criterion then costs a lookup of its product, a hash lookup for an exact version or
// two binary searches for a range, plus one step per device it fires on; devices of other
// products are never looked at. Configurations that are a plain OR of vulnerable criteria (the
// vast majority) are decided this way; the others (AND, negation, platform nodes, wildcard
// products) are evaluated per device set by [`Compiled::evaluate`]'s own code. The result is
// the same as [`Compiled::evaluate`] for every set (`tests/match_equivalence.rs`).
// ---------------------------------------------------------------------------------------------

/// Caveat flags of a criterion hit, in the order of their codes (a [`Hit`] lists them sorted).
const CAVEATS: [&str; 6] =
    ["cpe_unconfirmed", "device_version_unknown", "platform_unknown", "version_not_comparable", "version_scheme_fuzzy", "version_train_differs"];
const CAV_UNCONFIRMED: u8 = 1;
const CAV_VERSION_UNKNOWN: u8 = 2;
const CAV_PLATFORM_UNKNOWN: u8 = 4;
const CAV_NOT_COMPARABLE: u8 = 8;
const CAV_FUZZY: u8 = 16;
const CAV_TRAIN: u8 = 32;

/// The truth of one criterion for one device name: Yes or Maybe, at a confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Res {
    yes: bool,
    confidence: Confidence,
    caveats: u8,
}

impl Res {
    fn yes(confidence: Confidence, caveats: u8) -> Res {
        Res { yes: true, confidence, caveats }
    }

    fn maybe(confidence: Confidence, caveats: u8) -> Res {
        Res { yes: false, confidence, caveats }
    }

    /// As [`rank`].
    fn rank(self) -> (bool, Confidence) {
        (self.yes, self.confidence)
    }

    /// A suggestion the manager has not confirmed caps the confidence.
    fn for_unit(self, confirmed: bool) -> Res {
        if confirmed {
            self
        } else {
            Res { yes: self.yes, confidence: self.confidence.min(Confidence::Fuzzy), caveats: self.caveats | CAV_UNCONFIRMED }
        }
    }
}

/// How a criterion relates to a variant on every attribute but the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rel {
    /// Some attribute is disjoint or undefined: no match, whatever the version.
    No,
    /// Every attribute is covered (superset or equal): the version decides.
    Covered,
    /// Some attribute is only a subset (the device does not say it): at best vendor/product.
    Partial,
}

/// How a criterion relates to a variant on every attribute but the version.
fn full_rel(c: &Cpe, variant: &Variant) -> Rel {
    rel_of(c.values.iter().zip(&variant.rest.values).enumerate().filter(|(i, _)| *i != VERSION).map(|(_, (a, b))| cpe::compare_values(a, b)))
}

fn rel_of(relations: impl Iterator<Item = Relation>) -> Rel {
    let mut out = Rel::Covered;
    for r in relations {
        match r {
            Relation::Disjoint | Relation::Undefined => return Rel::No,
            Relation::Subset => out = Rel::Partial,
            Relation::Superset | Relation::Equal => {}
        }
    }
    out
}

/// A distinct literal version of a variant and the device names that carry it.
#[derive(Debug, Clone)]
struct Version {
    text: String,
    prepared: version::Prepared,
    units: Vec<u32>,
}

/// Devices of one product that agree on every attribute but the version.
#[derive(Debug, Clone)]
struct Variant {
    /// One of its names (for the attributes other than the version).
    rest: Cpe,
    /// For a criterion `cpe:2.3:<part>:vendor:product:<version>:*:*:*:*:*:*:*` of part a, o, h.
    light_rel: [Rel; 3],
    /// Names whose version is ANY, NA, or has wildcards.
    any: Vec<u32>,
    na: Vec<u32>,
    /// Distinct literal versions: the first `regular` are regular under the scheme and sorted.
    versions: Vec<Version>,
    regular: usize,
    by_text: HashMap<String, u32, foldhash::fast::RandomState>,
}

/// The device names of one (vendor, product).
#[derive(Debug, Clone)]
struct Group {
    scheme: Scheme,
    variants: Vec<Variant>,
    units: Vec<u32>,
}

/// One distinct device name (its confirmation and single set are in [`Inventory`]'s arrays).
#[derive(Debug, Clone)]
struct Unit {
    group: Option<u32>,
    sets: Vec<u32>,
}

/// Why a CVE applies to a device set, before it is spelt out ([`Inventory::hit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A configuration that is an OR of vulnerable criteria, or an AND of one such node and
    /// platform nodes: the criterion that fired (node and index in the node), the device name
    /// (index in the set) and, for an AND, the platform node shown and whether it held.
    Criterion { configuration: u32, node: u32, index: u32, device: u32, caveats: u8, platform: Option<(u32, bool)> },
    /// Any other configuration, evaluated as a tree.
    Tree(Box<Hit>),
}

/// A CVE that applies to a device set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub set: u32,
    pub confidence: Confidence,
    pub why: Why,
}

/// The best criterion so far for a device name in one configuration: truth and position.
type UnitBest = (Res, u32, u32);

/// Decoding buffers of [`Inventory::evaluate_indexed_with`], reused from CVE to CVE (they
/// borrow the index entries read).
#[derive(Default)]
pub struct Decoded<'a> {
    criteria: Vec<index::Criterion<'a>>,
    records: Vec<index::PlatformRecord<'a>>,
    recurring: Recurring<'a>,
}

/// What recurs from CVE to CVE of one product, worked out once while its CVEs are matched and
/// forgotten when another product comes: where range bounds fall in its sorted versions (a
/// kernel's CVEs name the same stable releases); criteria of the full form, with how they
/// relate to its variants; platform nodes (the same hardware lists follow a vendor's firmware
/// CVEs). None for what cannot be read (the CVE is left to its tree).
#[derive(Default)]
struct Recurring<'a> {
    group: u32,
    places: Places<'a>,
    fulls: HashMap<&'a str, Option<(Cpe, Vec<Rel>)>, foldhash::fast::RandomState>,
    platforms: HashMap<(&'a str, usize), Option<Compiled>, foldhash::fast::RandomState>,
}

impl<'a> Recurring<'a> {
    /// The memory of product `group` (emptied when it held another's).
    fn of(&mut self, group: u32) -> &mut Self {
        if self.group != group {
            self.places.0.clear();
            self.fulls.clear();
            self.platforms.clear();
            self.group = group;
        }
        self
    }

    /// A criterion of the full form of product `group`, and how it relates to each variant.
    fn full<'m>(
        fulls: &'m mut HashMap<&'a str, Option<(Cpe, Vec<Rel>)>, foldhash::fast::RandomState>,
        group: u32,
        criteria: &'a str,
        inventory: &Inventory,
    ) -> Option<(&'m Cpe, &'m [Rel])> {
        let full = fulls.entry(criteria).or_insert_with(|| {
            let entry = Entry::new(criteria).filter(|e| e.key.is_some())?;
            let variants = inventory.groups.get(group as usize).map(|g| g.variants.as_slice()).unwrap_or_default();
            let rels = variants.iter().map(|v| full_rel(&entry.cpe, v)).collect();
            Some((entry.cpe, rels))
        });
        full.as_ref().map(|(cpe, rels)| (cpe, rels.as_slice()))
    }

    /// The platform record of a configuration (its JSON, its vulnerable node `vn`), as one
    /// configuration to evaluate.
    fn platform(&mut self, json: &'a str, vn: usize) -> Option<&Compiled> {
        let platform = self.platforms.entry((json, vn)).or_insert_with(|| {
            let config = serde_json::from_str::<Configuration>(json).ok().filter(|c| platform_rest(c, vn))?;
            Some(Compiled::new(vec![config]))
        });
        platform.as_ref()
    }
}

/// Where range bounds fall in the sorted versions of one product's variants: (variant, bound)
/// → the bound's partition of the variant's regular versions and whether it is plain; None
/// when the bound is not regular under the scheme.
#[derive(Default)]
struct Places<'a>(HashMap<(u32, &'a str), Place, foldhash::fast::RandomState>);

/// A bound's [`version::partition`] and whether it is plain; None when it is not regular.
type Place = Option<((usize, usize), bool)>;

impl<'a> Places<'a> {
    /// The run of `versions` (all regular, sorted) inside the range, and whether every bound is
    /// plain, as [`version::Bounds::place`] and [`version::Bounds::plain`] give them. None when a
    /// bound is not regular.
    fn run(&mut self, vi: u32, scheme: Scheme, versions: &[Version], m: &Range<'a>) -> Option<(usize, usize, bool)> {
        let mut plain = true;
        let mut look = |b: Option<&'a str>| -> Option<Option<(usize, usize)>> {
            let Some(b) = b else { return Some(None) };
            let (at, p) = (*self.0.entry((vi, b)).or_insert_with(|| {
                let p = version::Prepared::new(scheme, b);
                p.is_regular().then(|| (version::partition(versions, |v| &v.prepared, &p), p.plain()))
            }))?;
            plain &= p;
            Some(Some(at))
        };
        let bounds = [look(m.start_incl)?, look(m.start_excl)?, look(m.end_incl)?, look(m.end_excl)?];
        let (lo, hi) = version::run_between(versions.len(), bounds);
        Some((lo, hi, plain))
    }
}

/// Working memory of [`Inventory::evaluate`], reused from CVE to CVE.
#[derive(Debug, Default)]
pub struct Scratch {
    unit_best: Vec<Option<UnitBest>>,
    touched_units: Vec<u32>,
    set_best: Vec<Option<Found>>,
    touched_sets: Vec<u32>,
    set_stamp: Vec<u32>,
    stamp: u32,
    candidates: Vec<u32>,
}

impl Scratch {
    /// Starts a round of [`Scratch::first_visit`].
    fn next_stamp(&mut self) {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.set_stamp.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
    }

    /// Whether set `s` is seen for the first time this round.
    fn first_visit(&mut self, s: u32) -> bool {
        match self.set_stamp.get_mut(s as usize) {
            Some(st) if *st != self.stamp => {
                *st = self.stamp;
                true
            }
            _ => false,
        }
    }
}

/// The device sets of an inventory, indexed for batch matching.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    sets: Vec<Vec<DeviceCpe>>,
    /// Per set, its device names as units (in the set's order) and its products.
    set_units: Vec<Vec<u32>>,
    set_groups: Vec<Vec<u32>>,
    units: Vec<Unit>,
    /// Per unit, whether its name is confirmed, and the set when the name is in one set only
    /// and is that set's only name: read for every criterion a name meets, kept apart from the
    /// units so that they stay in cache.
    confirmed: Vec<bool>,
    solo: Vec<Option<u32>>,
    groups: Vec<Group>,
    /// vendor → product → group.
    keys: HashMap<String, HashMap<String, u32>>,
}

/// Part a, o, h as an index.
fn part_index(part: &str) -> Option<usize> {
    match part {
        "a" => Some(0),
        "o" => Some(1),
        "h" => Some(2),
        _ => None,
    }
}

impl Inventory {
    /// Indexes device sets (each the names of one asset, in its order; identical sets may be
    /// merged by the caller beforehand).
    pub fn new(sets: Vec<Vec<DeviceCpe>>) -> Inventory {
        let mut inv = Inventory::default();
        let mut unit_of: HashMap<(&Cpe, bool), u32, foldhash::fast::RandomState> = HashMap::default();
        let mut unit_cpes: Vec<&DeviceCpe> = Vec::new();
        for (si, set) in sets.iter().enumerate() {
            let si = u32::try_from(si).unwrap_or(u32::MAX);
            let mut us = Vec::with_capacity(set.len());
            for d in set {
                let next = u32::try_from(inv.units.len()).unwrap_or(u32::MAX);
                let u = *unit_of.entry((&d.cpe, d.confirmed)).or_insert(next);
                if u == next {
                    inv.units.push(Unit { group: None, sets: Vec::new() });
                    inv.confirmed.push(d.confirmed);
                    unit_cpes.push(d);
                }
                if let Some(unit) = inv.units.get_mut(u as usize)
                    && unit.sets.last() != Some(&si)
                {
                    unit.sets.push(si);
                }
                us.push(u);
            }
            inv.set_units.push(us);
        }
        // Groups and variants.
        let parts = [Value::literal("a"), Value::literal("o"), Value::literal("h")];
        for (ui, d) in unit_cpes.iter().enumerate() {
            let (cpe, Some((vendor, product))) = (&d.cpe, d.product_key()) else { continue };
            let ui = u32::try_from(ui).unwrap_or(u32::MAX);
            let next = u32::try_from(inv.groups.len()).unwrap_or(u32::MAX);
            let products = match inv.keys.get_mut(vendor) {
                Some(p) => p,
                None => inv.keys.entry(vendor.to_owned()).or_default(),
            };
            let gi = match products.get(product) {
                Some(&g) => g,
                None => *products.entry(product.to_owned()).or_insert(next),
            };
            if gi == next {
                inv.groups.push(Group { scheme: version::scheme_for(vendor, product), variants: Vec::new(), units: Vec::new() });
            }
            let Some(group) = inv.groups.get_mut(gi as usize) else { continue };
            if let Some(unit) = inv.units.get_mut(ui as usize) {
                unit.group = Some(gi);
            }
            group.units.push(ui);
            let same_rest = |v: &Variant| v.rest.values.iter().zip(&cpe.values).enumerate().all(|(i, (a, b))| i == VERSION || a == b);
            let vi = match group.variants.iter().position(same_rest) {
                Some(vi) => vi,
                None => {
                    let light_rel = std::array::from_fn(|p| {
                        rel_of(cpe.values.iter().enumerate().filter(|(i, _)| *i != VERSION).map(|(i, v)| match i {
                            0 => parts.get(p).map_or(Relation::Undefined, |part| cpe::compare_values(part, v)),
                            1 | 2 => cpe::compare_values(v, v),
                            _ => cpe::compare_values(&Value::Any, v),
                        }))
                    });
                    group.variants.push(Variant {
                        rest: cpe.clone(),
                        light_rel,
                        any: Vec::new(),
                        na: Vec::new(),
                        versions: Vec::new(),
                        regular: 0,
                        by_text: HashMap::default(),
                    });
                    group.variants.len() - 1
                }
            };
            let scheme = group.scheme;
            let Some(variant) = group.variants.get_mut(vi) else { continue };
            match cpe.version() {
                Value::Any => variant.any.push(ui),
                Value::Na => variant.na.push(ui),
                v => {
                    // A version with wildcards matches no vulnerable criterion.
                    let Some(text) = v.as_literal() else { continue };
                    let next = u32::try_from(variant.versions.len()).unwrap_or(u32::MAX);
                    let k = *variant.by_text.entry(text.clone()).or_insert(next);
                    if k == next {
                        let prepared = version::Prepared::new(scheme, &text);
                        variant.versions.push(Version { text, prepared, units: Vec::new() });
                    }
                    if let Some(v) = variant.versions.get_mut(k as usize) {
                        v.units.push(ui);
                    }
                }
            }
        }
        for group in &mut inv.groups {
            for variant in &mut group.variants {
                // Regular versions first, sorted; the rest are compared one by one.
                variant.versions.sort_by(|a, b| match (a.prepared.is_regular(), b.prepared.is_regular()) {
                    (true, true) => a.prepared.cmp_regular(&b.prepared).then_with(|| a.text.cmp(&b.text)),
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => a.text.cmp(&b.text),
                });
                variant.regular = variant.versions.iter().filter(|v| v.prepared.is_regular()).count();
                variant.by_text = variant.versions.iter().enumerate().map(|(i, v)| (v.text.clone(), u32::try_from(i).unwrap_or(u32::MAX))).collect();
            }
        }
        for us in &inv.set_units {
            let mut gs: Vec<u32> = us.iter().filter_map(|&u| inv.units.get(u as usize).and_then(|x| x.group)).collect();
            gs.sort_unstable();
            gs.dedup();
            inv.set_groups.push(gs);
        }
        inv.solo = inv
            .units
            .iter()
            .map(|unit| match unit.sets.as_slice() {
                [s] if inv.set_units.get(*s as usize).is_some_and(|us| us.len() == 1) => Some(*s),
                _ => None,
            })
            .collect();
        inv.sets = sets;
        inv
    }

    /// The device sets, in the order given.
    pub fn sets(&self) -> &[Vec<DeviceCpe>] {
        &self.sets
    }

    /// The products (as [`Inventory::product`] numbers them) set `s` names, sorted.
    pub fn set_products(&self, s: usize) -> &[u32] {
        self.set_groups.get(s).map(Vec::as_slice).unwrap_or_default()
    }

    /// The `(vendor, product)` pairs the devices name, with their group number (what
    /// [`Inventory::evaluate`] takes as candidates).
    pub fn products(&self) -> Vec<(&str, &str, u32)> {
        let mut out: Vec<(&str, &str, u32)> =
            self.keys.iter().flat_map(|(v, ps)| ps.iter().map(move |(p, &g)| (v.as_str(), p.as_str(), g))).collect();
        out.sort_unstable();
        out
    }

    /// The group number of a `(vendor, product)`.
    pub fn product(&self, vendor: &str, product: &str) -> Option<u32> {
        self.keys.get(vendor).and_then(|ps| ps.get(product)).copied()
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            unit_best: vec![None; self.units.len()],
            touched_units: Vec::new(),
            set_best: vec![None; self.sets.len()],
            touched_sets: Vec::new(),
            set_stamp: vec![0; self.sets.len()],
            stamp: 0,
            candidates: Vec::new(),
        }
    }

    /// Evaluates one CVE against the device sets that name one of `candidates` (the products
    /// the CVE's vulnerable criteria name, as [`Inventory::product`] numbers them), appending one
    /// [`Found`] per set it applies to, in set order. Equal to [`Compiled::evaluate`] on each of
    /// those sets.
    pub fn evaluate(&self, cve: &Compiled, candidates: &[u32], scratch: &mut Scratch, out: &mut Vec<Found>) {
        let is_candidate = |s: u32| self.set_groups.get(s as usize).is_some_and(|gs| gs.iter().any(|g| candidates.contains(g)));
        let mut candidate_sets: Option<Vec<u32>> = None;
        for (ci, config) in cve.configurations.iter().enumerate() {
            let ci32 = u32::try_from(ci).unwrap_or(u32::MAX);
            if simple(config) && self.criteria(config, scratch).is_ok() {
                self.flush(ci32, scratch, &is_candidate);
                continue;
            }
            self.clear_units(scratch);
            if let Some(vn) = platform_shape(config)
                && let Some(node) = config.nodes.get(vn)
                && self.node_criteria(node, u32::try_from(vn).unwrap_or(u32::MAX), scratch).is_ok()
            {
                self.flush_platform(cve, ci, ci32, vn, scratch, &is_candidate);
                continue;
            }
            // Any other shape: the tree, per candidate set (those a gate node leaves).
            let gated = self.gate(config, scratch);
            let sets = match &gated {
                Some(g) => g,
                None => candidate_sets.get_or_insert_with(|| self.candidate_sets(candidates, scratch)),
            };
            for &s in sets.iter() {
                if gated.is_some() && !is_candidate(s) {
                    continue;
                }
                let Some(devices) = self.sets.get(s as usize) else { continue };
                let Some(hit) = cve.evaluate_configuration(ci, devices) else { continue };
                let confidence = hit.confidence;
                record(scratch, s, Found { set: s, confidence, why: Why::Tree(Box::new(hit)) });
            }
        }
        collect(scratch, out);
    }

    /// As [`Inventory::evaluate`], from the CVE's matching index entries (`(product, entry)` as
    /// [`crate::index::entries`] wrote them for the products the inventory names) instead of its
    /// configurations. Err, having recorded nothing, when an entry cannot answer: the CVE must
    /// be matched on its tree.
    pub fn evaluate_indexed(&self, parts: &[(u32, &str)], scratch: &mut Scratch, out: &mut Vec<Found>) -> Result<(), index::NeedsTree> {
        self.evaluate_indexed_with(parts, scratch, &mut Decoded::default(), out)
    }

    /// As [`Inventory::evaluate_indexed`], decoding into `buffers` (kept from CVE to CVE by a
    /// caller matching many).
    pub fn evaluate_indexed_with<'a>(&self, parts: &[(u32, &'a str)], scratch: &mut Scratch, buffers: &mut Decoded<'a>, out: &mut Vec<Found>) -> Result<(), index::NeedsTree> {
        buffers.criteria.clear();
        buffers.records.clear();
        let Decoded { criteria, records, recurring } = buffers;
        for &(g, entry) in parts {
            index::decode(g, entry, criteria, records)?;
        }
        // A platform record's configuration must be an AND of its vulnerable node and platform
        // nodes: no criterion of it may lie in another node.
        if records.iter().any(|&(ci, vn, _)| criteria.iter().any(|c| c.configuration == ci && c.node as usize != vn)) {
            return Err(index::NeedsTree);
        }
        // Within a product the entry keeps configuration order; products never share a device
        // name, so only the configuration order matters across entries.
        if !criteria.is_sorted_by_key(|c| c.configuration) {
            criteria.sort_by_key(|c| c.configuration);
        }
        // A name fires only for a criterion of its own product, which is one of the entries':
        // every set it is in is a candidate.
        let is_candidate = |_: u32| true;
        let mut rest = criteria.as_slice();
        while let Some(first) = rest.first() {
            let ci = first.configuration;
            let n = rest.iter().take_while(|c| c.configuration == ci).count();
            let (now, later) = rest.split_at(n);
            for c in now {
                // What the product's earlier CVEs worked out (fields borrowed apart below).
                recurring.of(c.group);
                let crit = match &c.name {
                    index::Name::Light { part, version } => Crit::Light {
                        part: *part,
                        version: match version {
                            LightVersion::Any => LightVersion::Any,
                            LightVersion::Na => LightVersion::Na,
                            LightVersion::Literal(t) => LightVersion::Literal(Cow::Borrowed(t.as_ref())),
                        },
                    },
                    index::Name::Full(text) => match Recurring::full(&mut recurring.fulls, c.group, text, self) {
                        Some((cpe, rels)) => Crit::Full { cpe: Cow::Borrowed(cpe), rels: Some(rels) },
                        None => {
                            self.abandon(scratch);
                            return Err(index::NeedsTree);
                        }
                    },
                };
                self.fire(c.group, &crit, &c.range, (c.node, c.index), Some(&mut recurring.places), scratch);
            }
            // The platform nodes (each product of the vulnerable node carries them) are read
            // only when a name met the node.
            match records.iter().find(|r| r.0 == ci) {
                Some(_) if scratch.touched_units.is_empty() => {}
                Some(&(_, vn, json)) => {
                    let Some(platform) = recurring.of(first.group).platform(json, vn) else {
                        self.abandon(scratch);
                        return Err(index::NeedsTree);
                    };
                    self.flush_platform(platform, 0, ci, vn, scratch, &is_candidate);
                }
                None => self.flush(ci, scratch, &is_candidate),
            }
            rest = later;
        }
        collect(scratch, out);
        Ok(())
    }

    /// Forgets what the current CVE recorded (its index entries could not answer after all).
    fn abandon(&self, scratch: &mut Scratch) {
        self.clear_units(scratch);
        for s in scratch.touched_sets.drain(..) {
            if let Some(b) = scratch.set_best.get_mut(s as usize) {
                *b = None;
            }
        }
    }

    /// The sets naming one of these products (as [`Inventory::product`] numbers them), in order.
    pub fn sets_naming(&self, groups: &[u32]) -> Vec<u32> {
        self.candidate_sets(groups, &mut Scratch::default())
    }

    /// The sets naming one of the candidate products, in order.
    fn candidate_sets(&self, candidates: &[u32], scratch: &mut Scratch) -> Vec<u32> {
        scratch.candidates.clear();
        for g in candidates {
            for &u in self.groups.get(*g as usize).map(|g| g.units.as_slice()).unwrap_or_default() {
                scratch.candidates.extend(self.units.get(u as usize).map(|u| u.sets.as_slice()).unwrap_or_default());
            }
        }
        let mut sets = std::mem::take(&mut scratch.candidates);
        sets.sort_unstable();
        sets.dedup();
        sets
    }

    fn clear_units(&self, scratch: &mut Scratch) {
        for u in scratch.touched_units.drain(..) {
            if let Some(b) = scratch.unit_best.get_mut(u as usize) {
                *b = None;
            }
        }
    }

    /// Combines the device names' best criteria of configuration `ci` per set (the best truth,
    /// then the first criterion, then the first name) and keeps it where it beats the set's
    /// earlier configurations.
    fn flush(&self, ci: u32, scratch: &mut Scratch, is_candidate: &impl Fn(u32) -> bool) {
        scratch.next_stamp();
        let touched = std::mem::take(&mut scratch.touched_units);
        for &u in &touched {
            if let Some(&Some(s)) = self.solo.get(u as usize) {
                // The one name of the one set holding it: nothing to combine.
                if let Some(Some((res, node, index))) = scratch.unit_best.get(u as usize).copied()
                    && is_candidate(s)
                {
                    let confidence = if res.yes { res.confidence } else { res.confidence.min(Confidence::Fuzzy) };
                    record(scratch, s, Found { set: s, confidence, why: Why::Criterion { configuration: ci, node, index, device: 0, caveats: res.caveats, platform: None } });
                }
                continue;
            }
            let Some(unit) = self.units.get(u as usize) else { continue };
            for &s in &unit.sets {
                if !scratch.first_visit(s) || !is_candidate(s) {
                    continue;
                }
                let Some(((res, node, index), device)) = self.set_best_unit(s, scratch) else { continue };
                let confidence = if res.yes { res.confidence } else { res.confidence.min(Confidence::Fuzzy) };
                record(scratch, s, Found { set: s, confidence, why: Why::Criterion { configuration: ci, node, index, device, caveats: res.caveats, platform: None } });
            }
        }
        scratch.touched_units = touched;
        self.clear_units(scratch);
    }

    /// The best criterion among the names of set `s` (the best truth, then the first criterion,
    /// then the first name), with the name's index in the set.
    fn set_best_unit(&self, s: u32, scratch: &Scratch) -> Option<(UnitBest, u32)> {
        let mut best: Option<(UnitBest, u32)> = None;
        for (k, &v) in self.set_units.get(s as usize).map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
            let Some(Some(b)) = scratch.unit_best.get(v as usize) else { continue };
            let better = match &best {
                None => true,
                Some((x, _)) => b.0.rank() > x.0.rank() || (b.0.rank() == x.0.rank() && (b.1, b.2) < (x.1, x.2)),
            };
            if better {
                best = Some((*b, u32::try_from(k).unwrap_or(u32::MAX)));
            }
        }
        best
    }

    /// An AND configuration whose only vulnerable node `vn` has been fired ([`platform_shape`]):
    /// per set that node holds for, the platform nodes are evaluated on the set's names (a few
    /// criteria) and combined with the node's best criterion, as [`Compiled::evaluate`] does.
    /// `cve` holds the configuration at `at`; `ci` is its number in the CVE.
    fn flush_platform(&self, cve: &Compiled, at: usize, ci: u32, vn: usize, scratch: &mut Scratch, is_candidate: &impl Fn(u32) -> bool) {
        scratch.next_stamp();
        let touched = std::mem::take(&mut scratch.touched_units);
        for &u in &touched {
            for &s in self.units.get(u as usize).map(|x| x.sets.as_slice()).unwrap_or_default() {
                if !scratch.first_visit(s) || !is_candidate(s) {
                    continue;
                }
                let Some(((res, node, index), device)) = self.set_best_unit(s, scratch) else { continue };
                let Some(devices) = self.sets.get(s as usize) else { continue };
                let Some(p) = cve.platform_part(at, vn, devices) else { continue };
                // AND: the lowest confidence of the parts; Maybe when any part is only Maybe.
                let conf = p.floor.min(res.confidence);
                let confidence = if res.yes && !p.maybe { conf } else { conf.min(Confidence::Fuzzy) };
                let caveats = res.caveats | if p.known { 0 } else { CAV_PLATFORM_UNKNOWN };
                let why = Why::Criterion { configuration: ci, node, index, device, caveats, platform: Some((p.node, p.known)) };
                record(scratch, s, Found { set: s, confidence, why });
            }
        }
        scratch.touched_units = touched;
        self.clear_units(scratch);
    }

    /// Every criterion of an OR configuration against the devices of its product. Err when a
    /// criterion does not name its product literally (then the tree decides).
    fn criteria(&self, config: &Configuration, scratch: &mut Scratch) -> Result<(), ()> {
        for (ni, node) in config.nodes.iter().enumerate() {
            let ni = u32::try_from(ni).unwrap_or(u32::MAX);
            self.node_criteria(node, ni, scratch)?;
        }
        Ok(())
    }

    /// The criteria of one node, as [`Inventory::criteria`].
    fn node_criteria(&self, node: &Node, ni: u32, scratch: &mut Scratch) -> Result<(), ()> {
        for (mi, m) in node.cpe_match.iter().enumerate() {
            let mi = u32::try_from(mi).unwrap_or(u32::MAX);
            let Some((gi, crit)) = self.resolve(&m.criteria).inspect_err(|_| self.clear_units(scratch))? else { continue };
            self.fire(gi, &crit, &Range::of(m), (ni, mi), None, scratch);
        }
        Ok(())
    }

    /// The product (group) a criterion names and its reading. None when no device here can
    /// match it (another product, or unparsable); Err for a wildcard vendor or product.
    fn resolve<'a>(&self, criteria: &'a str) -> Result<Option<(u32, Crit<'a>)>, ()> {
        if let Some(l) = light(criteria) {
            return Ok(self.product(&l.vendor, &l.product).map(|gi| (gi, Crit::Light { part: l.part, version: l.version })));
        }
        let Some(entry) = Entry::new(criteria) else { return Ok(None) };
        let Some((v, p)) = &entry.key else { return Err(()) };
        Ok(self.product(v, p).map(|gi| (gi, Crit::Full { cpe: Cow::Owned(entry.cpe), rels: None })))
    }

    /// For a configuration that holds only when one of its nodes does (an AND, nothing
    /// negated) and whose such node is an OR of vulnerable criteria: the sets that node may hold
    /// for, from the batch criteria; the tree need not be evaluated on any other set. None when
    /// the configuration has no such node.
    fn gate(&self, config: &Configuration, scratch: &mut Scratch) -> Option<Vec<u32>> {
        if config.negate || !(config.operator == Operator::And || config.nodes.len() == 1) {
            return None;
        }
        let node = config.nodes.iter().find(|n| !n.negate && n.operator == Operator::Or && !n.cpe_match.is_empty() && n.cpe_match.iter().all(|m| m.vulnerable))?;
        self.node_criteria(node, 0, scratch).ok()?;
        let mut sets: Vec<u32> = scratch.touched_units.iter().flat_map(|&u| self.units.get(u as usize).map(|x| x.sets.as_slice()).unwrap_or_default()).copied().collect();
        sets.sort_unstable();
        sets.dedup();
        self.clear_units(scratch);
        Some(sets)
    }

    /// One vulnerable criterion of an OR configuration (node `ni`, index `mi`) naming product
    /// `gi`: keeps, per device name it holds for, the best criterion so far.
    fn fire<'a>(&self, gi: u32, crit: &Crit<'_>, range: &Range<'a>, (ni, mi): (u32, u32), places: Option<&mut Places<'a>>, scratch: &mut Scratch) {
        let Some(group) = self.groups.get(gi as usize) else { return };
        self.criterion(range, group, crit, places, |u, res| {
            let Some(&confirmed) = self.confirmed.get(u as usize) else { return };
            let res = res.for_unit(confirmed);
            let Some(slot) = scratch.unit_best.get_mut(u as usize) else { return };
            match slot {
                None => {
                    *slot = Some((res, ni, mi));
                    scratch.touched_units.push(u);
                }
                Some(b) if res.rank() > b.0.rank() => *b = (res, ni, mi),
                Some(_) => {}
            }
        });
    }

    /// One criterion against the variants of its product: `fire(unit, truth)` for every device
    /// name it holds or may hold for. Where bounds fall is remembered in `places` (the
    /// product's) when given.
    fn criterion<'a>(&self, m: &Range<'a>, group: &Group, crit: &Crit<'_>, mut places: Option<&mut Places<'a>>, mut fire: impl FnMut(u32, Res)) {
        let ranged = m.any();
        let mut bounds: Option<version::Bounds> = None;
        let unknown = Res::maybe(Confidence::VendorProduct, CAV_VERSION_UNKNOWN);
        for (vi, variant) in group.variants.iter().enumerate() {
            let rel = match crit {
                Crit::Light { part, .. } => variant.light_rel.get(*part).copied().unwrap_or(Rel::No),
                Crit::Full { rels: Some(rels), .. } => rels.get(vi).copied().unwrap_or(Rel::No),
                Crit::Full { cpe: c, rels: None } => full_rel(c, variant),
            };
            if rel == Rel::No {
                continue;
            }
            let cv = crit.version();
            // Names without a version: ANY against a criterion's ANY is equal (covered), against
            // anything else a subset (vendor/product only).
            let exact_res = |criterion_any: bool| {
                if ranged {
                    unknown
                } else if criterion_any {
                    Res::yes(Confidence::VersionRange, 0)
                } else {
                    Res::yes(Confidence::ExactVersion, 0)
                }
            };
            match (&cv, rel) {
                (CritVersion::Any, Rel::Covered) => variant.any.iter().for_each(|&u| fire(u, exact_res(true))),
                (CritVersion::Any, _) => {}
                (_, _) => variant.any.iter().for_each(|&u| fire(u, unknown)),
            }
            if rel != Rel::Covered {
                continue;
            }
            match &cv {
                CritVersion::Any => variant.na.iter().for_each(|&u| fire(u, exact_res(true))),
                CritVersion::Na => variant.na.iter().for_each(|&u| fire(u, exact_res(false))),
                _ => {}
            }
            if variant.versions.is_empty() {
                continue;
            }
            let mut each = |v: &Version, res: Res| v.units.iter().for_each(|&u| fire(u, res));
            let scheme = group.scheme;
            let b = || version::Bounds::new(scheme, m.start_incl, m.start_excl, m.end_incl, m.end_excl);
            let one = |v: &Version, bounds: &version::Bounds| range_res(scheme, version::in_range_prepared(scheme, &v.prepared, bounds));
            match &cv {
                CritVersion::Any if !ranged => variant.versions.iter().for_each(|v| each(v, Res::yes(Confidence::VersionRange, 0))),
                CritVersion::Any
                    if variant.regular == variant.versions.len()
                        && let Some(places) = places.as_deref_mut()
                        && let Some((lo, hi, plain)) = places.run(u32::try_from(vi).unwrap_or(u32::MAX), scheme, &variant.versions, m) =>
                {
                    // Regular versions only, and regular bounds: one run, placed before.
                    for v in variant.versions.get(lo..hi).unwrap_or_default() {
                        each(v, if plain && v.prepared.plain() { Res::yes(Confidence::VersionRange, 0) } else { Res::yes(Confidence::Fuzzy, CAV_FUZZY) });
                    }
                }
                CritVersion::Any => {
                    let bounds = bounds.get_or_insert_with(b);
                    let regular = variant.versions.get(..variant.regular).unwrap_or_default();
                    if bounds.is_regular() {
                        let (lo, hi) = bounds.place(regular, |v| &v.prepared);
                        let plain = bounds.plain();
                        for v in regular.get(lo..hi).unwrap_or_default() {
                            each(v, if plain && v.prepared.plain() { Res::yes(Confidence::VersionRange, 0) } else { Res::yes(Confidence::Fuzzy, CAV_FUZZY) });
                        }
                        for v in variant.versions.get(variant.regular..).unwrap_or_default() {
                            if let Some(res) = one(v, bounds) {
                                each(v, res);
                            }
                        }
                    } else {
                        for v in &variant.versions {
                            if let Some(res) = one(v, bounds) {
                                each(v, res);
                            }
                        }
                    }
                }
                CritVersion::Na => {}
                CritVersion::Literal(_) | CritVersion::Pattern(_) => {
                    // A version the criterion names: exact, unless a range narrows it further.
                    let mut named = |v: &Version| {
                        if !ranged {
                            each(v, Res::yes(Confidence::ExactVersion, 0));
                        } else if let Some(res) = one(v, bounds.get_or_insert_with(b)) {
                            each(v, res);
                        }
                    };
                    match &cv {
                        CritVersion::Literal(t) => {
                            // Most products have a version or two here: comparing them beats hashing.
                            let v = if variant.versions.len() <= 4 {
                                variant.versions.iter().find(|v| v.text == t.as_ref())
                            } else {
                                variant.by_text.get(t.as_ref()).and_then(|&k| variant.versions.get(k as usize))
                            };
                            if let Some(v) = v {
                                named(v);
                            }
                        }
                        CritVersion::Pattern(p) => variant
                            .versions
                            .iter()
                            .filter(|v| cpe::compare_values(p, &Value::literal(&v.text)) == Relation::Superset)
                            .for_each(named),
                        _ => {}
                    }
                }
            }
        }
    }

    /// The finding's explanation in full.
    pub fn hit(&self, cve: &Compiled, found: &Found) -> Option<Hit> {
        match &found.why {
            Why::Tree(h) => Some((**h).clone()),
            Why::Criterion { configuration, node, index, device, caveats, platform } => {
                let config = cve.configurations.get(*configuration as usize)?;
                let m = config.nodes.get(*node as usize)?.cpe_match.get(*index as usize)?;
                let platform = match platform {
                    Some((ni, known)) => Some((platform_name(config.nodes.get(*ni as usize)?), *known)),
                    None => None,
                };
                let d = self.sets.get(found.set as usize)?.get(*device as usize)?;
                Some(Hit {
                    configuration: *configuration as usize,
                    criteria: m.criteria.clone(),
                    range: range_text(m),
                    device_cpe: d.cpe.to_fs(),
                    confidence: found.confidence,
                    platform_known: platform.as_ref().map(|p| p.1),
                    platform: platform.map(|p| p.0),
                    caveats: CAVEATS.iter().enumerate().filter(|(i, _)| caveats & (1 << i) != 0).map(|(_, c)| (*c).to_owned()).collect(),
                })
            }
        }
    }
}

/// Appends the sets' results of one CVE, in set order, and clears them.
fn collect(scratch: &mut Scratch, out: &mut Vec<Found>) {
    // Sorting the set numbers, not the results: a fraction of the bytes moved.
    let mut touched = std::mem::take(&mut scratch.touched_sets);
    touched.sort_unstable();
    out.reserve(touched.len());
    for &s in &touched {
        if let Some(f) = scratch.set_best.get_mut(s as usize).and_then(Option::take) {
            out.push(f);
        }
    }
    touched.clear();
    scratch.touched_sets = touched;
}

/// Keeps `f` for set `s` when it is the set's first or beats its earlier configurations.
fn record(scratch: &mut Scratch, s: u32, f: Found) {
    let Some(slot) = scratch.set_best.get_mut(s as usize) else { return };
    match slot {
        None => {
            *slot = Some(f);
            scratch.touched_sets.push(s);
        }
        Some(b) if f.confidence > b.confidence => *b = f,
        Some(_) => {}
    }
}

/// The truth of a range check.
fn range_res(scheme: Scheme, r: Option<(bool, bool)>) -> Option<Res> {
    match r {
        Some((false, _)) => None,
        Some((true, true)) => Some(Res::yes(Confidence::VersionRange, 0)),
        Some((true, false)) => Some(Res::yes(Confidence::Fuzzy, CAV_FUZZY)),
        None => Some(Res::maybe(Confidence::Fuzzy, if scheme == Scheme::CiscoIos { CAV_TRAIN } else { CAV_NOT_COMPARABLE })),
    }
}

/// An OR of vulnerable criteria, nothing negated: decided criterion by criterion.
pub(crate) fn simple(config: &Configuration) -> bool {
    !config.negate
        && (config.operator == Operator::Or || config.nodes.len() == 1)
        && config.nodes.iter().all(|n| !n.negate && n.operator == Operator::Or && !n.cpe_match.is_empty() && n.cpe_match.iter().all(|m| m.vulnerable))
}

/// A criterion as the batch matcher reads it.
// A criterion is a value on the stack, one at a time: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Crit<'a> {
    /// `cpe:2.3:<part>:vendor:product:<version>:*:*:*:*:*:*:*`.
    Light { part: usize, version: LightVersion<'a> },
    /// Any other, and how it relates to each variant of its product on every attribute but the
    /// version when that was worked out before.
    Full { cpe: Cow<'a, Cpe>, rels: Option<&'a [Rel]> },
}

pub(crate) enum LightVersion<'a> {
    Any,
    Na,
    Literal(Cow<'a, str>),
}

enum CritVersion<'a> {
    Any,
    Na,
    Literal(Cow<'a, str>),
    /// A value with wildcards.
    Pattern(&'a Value),
}

impl Crit<'_> {
    fn version(&self) -> CritVersion<'_> {
        match self {
            Crit::Light { version: LightVersion::Any, .. } => CritVersion::Any,
            Crit::Light { version: LightVersion::Na, .. } => CritVersion::Na,
            Crit::Light { version: LightVersion::Literal(t), .. } => CritVersion::Literal(Cow::Borrowed(t.as_ref())),
            Crit::Full { cpe: c, .. } => match c.version() {
                Value::Any => CritVersion::Any,
                Value::Na => CritVersion::Na,
                v => match v.as_literal() {
                    Some(t) => CritVersion::Literal(Cow::Owned(t)),
                    None => CritVersion::Pattern(v),
                },
            },
        }
    }
}

/// The common shape of a criterion, read without building a [`Cpe`].
pub(crate) struct Light<'a> {
    pub(crate) part: usize,
    pub(crate) vendor: Cow<'a, str>,
    pub(crate) product: Cow<'a, str>,
    pub(crate) version: LightVersion<'a>,
}

/// Reads `cpe:2.3:<a|o|h>:<vendor>:<product>:<version>:*:*:*:*:*:*:*` whose values are
/// literal (ASCII letters, digits, `_ - .`, backslash-quoted ASCII): the values [`Cpe::parse`]
/// would give. None for any other string, which [`Cpe::parse`] then reads.
pub(crate) fn light(s: &str) -> Option<Light<'_>> {
    if s.len() > 2048 {
        return None;
    }
    let rest = s.strip_prefix("cpe:2.3:")?;
    let bytes = rest.as_bytes();
    let mut fields: [&str; 11] = [""; 11];
    let mut n = 0;
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 1,
            b':' => {
                *fields.get_mut(n)? = rest.get(start..i)?;
                n += 1;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    *fields.get_mut(n)? = rest.get(start..)?;
    if n != 10 {
        return None;
    }
    let [part, vendor, product, version, tail @ ..] = fields;
    if tail.iter().any(|f| *f != "*") {
        return None;
    }
    let version = match version {
        "*" => LightVersion::Any,
        "-" => LightVersion::Na,
        v => LightVersion::Literal(light_value(v)?),
    };
    Some(Light { part: part_index(part)?, vendor: light_value(vendor)?, product: light_value(product)?, version })
}

/// A literal value of the common shape, lower-cased and unquoted.
pub(crate) fn light_value(f: &str) -> Option<Cow<'_, str>> {
    if f.is_empty() || f == "*" || f == "-" {
        return None;
    }
    let plain = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.');
    if f.bytes().all(plain) {
        return Some(Cow::Borrowed(f));
    }
    let mut out = String::with_capacity(f.len());
    let mut chars = f.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let q = chars.next().filter(char::is_ascii)?;
                out.push(q.to_ascii_lowercase());
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') => out.push(c.to_ascii_lowercase()),
            _ => return None,
        }
    }
    Some(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(names: &[&str]) -> Vec<DeviceCpe> {
        names.iter().filter_map(|n| Cpe::parse(n).ok()).map(|cpe| DeviceCpe::new(cpe, true)).collect()
    }

    fn m(criteria: &str, vulnerable: bool) -> CpeMatch {
        CpeMatch { vulnerable, criteria: criteria.to_owned(), ..CpeMatch::default() }
    }

    fn range(criteria: &str, si: &str, ee: &str) -> CpeMatch {
        CpeMatch {
            version_start_including: Some(si.to_owned()),
            version_end_excluding: Some(ee.to_owned()),
            ..m(criteria, true)
        }
    }

    fn or(ms: Vec<CpeMatch>) -> Configuration {
        Configuration { nodes: vec![Node { cpe_match: ms, ..Node::default() }], ..Configuration::default() }
    }

    fn fw_hw(fw: CpeMatch, hw: &str) -> Configuration {
        Configuration {
            operator: Operator::And,
            negate: false,
            nodes: vec![
                Node { cpe_match: vec![fw], ..Node::default() },
                Node { cpe_match: vec![m(hw, false)], ..Node::default() },
            ],
        }
    }

    const FORTIOS: &str = "cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*";

    #[test]
    fn ranges_under_the_vendor_scheme() {
        let c = Compiled::new(vec![or(vec![range(FORTIOS, "7.0.0", "7.0.14"), range(FORTIOS, "7.2.0", "7.2.7")])]);
        let hit = c.evaluate(&dev(&["cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"]));
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::VersionRange));
        assert_eq!(hit.map(|h| h.range), Some(">= 7.2.0, < 7.2.7".to_owned()));
        assert_eq!(c.evaluate(&dev(&["cpe:2.3:o:fortinet:fortios:7.2.7:*:*:*:*:*:*:*"])), None);
        assert_eq!(c.evaluate(&dev(&["cpe:2.3:o:fortinet:fortiproxy:7.2.4:*:*:*:*:*:*:*"])), None);
        // Version unknown: a candidate at low confidence, not a silent yes or no.
        let hit = c.evaluate(&dev(&["cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"]));
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::VendorProduct));
    }

    #[test]
    fn firmware_and_hardware() {
        let c = Compiled::new(vec![fw_hw(
            range("cpe:2.3:o:zyxel:atp100_firmware:*:*:*:*:*:*:*:*", "4.60", "5.36"),
            "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*",
        )]);
        let fw = "cpe:2.3:o:zyxel:atp100_firmware:5.35:*:*:*:*:*:*:*";
        let hit = c.evaluate(&dev(&[fw, "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*"]));
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::VersionRange));
        assert_eq!(hit.and_then(|h| h.platform_known), Some(true));
        // Same firmware name on other hardware: no.
        assert_eq!(c.evaluate(&dev(&[fw, "cpe:2.3:h:zyxel:usg_flex_100:-:*:*:*:*:*:*:*"])), None);
        // Hardware not recorded: maybe, saying so.
        let hit = c.evaluate(&dev(&[fw]));
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::Fuzzy));
        assert!(hit.is_some_and(|h| h.caveats.contains(&"platform_unknown".to_owned())));
    }

    #[test]
    fn exact_and_escaped_versions_na_is_not_a_wildcard() {
        let c = Compiled::new(vec![or(vec![m(r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*", true)])]);
        let hit = c.evaluate(&dev(&[r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*"]));
        assert_eq!(hit.map(|h| h.confidence), Some(Confidence::ExactVersion));
        assert_eq!(c.evaluate(&dev(&[r"cpe:2.3:o:cisco:ios:15.2\(4\)e10:*:*:*:*:*:*:*"])), None);
        let na = Compiled::new(vec![or(vec![m("cpe:2.3:a:apache:http_server:-:*:*:*:*:*:*:*", true)])]);
        assert_eq!(na.evaluate(&dev(&["cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*"])), None);
    }

    #[test]
    fn unconfirmed_suggestions_and_cross_train_versions_lower_confidence() {
        let c = Compiled::new(vec![or(vec![range(FORTIOS, "7.2.0", "7.2.7")])]);
        let Some(cpe) = Cpe::parse("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*").ok() else { return };
        let hit = c.evaluate(&[DeviceCpe::new(cpe, false)]);
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::Fuzzy));
        assert!(hit.is_some_and(|h| h.caveats.contains(&"cpe_unconfirmed".to_owned())));
        let cisco = Compiled::new(vec![or(vec![CpeMatch {
            version_end_excluding: Some("15.2(5)e".to_owned()),
            ..m("cpe:2.3:o:cisco:ios:*:*:*:*:*:*:*:*", true)
        }])]);
        let hit = cisco.evaluate(&dev(&[r"cpe:2.3:o:cisco:ios:15.2\(4\)m3:*:*:*:*:*:*:*"]));
        assert_eq!(hit.as_ref().map(|h| h.confidence), Some(Confidence::Fuzzy));
        assert!(hit.is_some_and(|h| h.caveats.contains(&"version_train_differs".to_owned())));
    }

    #[test]
    fn platform_only_configurations_never_fire() {
        let c = Compiled::new(vec![or(vec![m("cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*", false)])]);
        assert_eq!(c.evaluate(&dev(&["cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*"])), None);
        assert!(c.vulnerable_products().is_empty());
    }
}
