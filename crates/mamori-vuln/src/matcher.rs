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

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::cpe::{self, Cpe, MatchLevel, Relation, VERSION};
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

fn has_range(m: &CpeMatch) -> bool {
    m.version_start_including.is_some()
        || m.version_start_excluding.is_some()
        || m.version_end_including.is_some()
        || m.version_end_excluding.is_some()
}

/// A criterion parsed once: the name, its literal vendor and product (None with wildcards),
/// and the version scheme they call for.
#[derive(Debug, Clone)]
struct Entry {
    cpe: Cpe,
    key: Option<(String, String)>,
    scheme: Scheme,
}

impl Entry {
    fn new(criteria: &str) -> Option<Entry> {
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
            if has_range(m) {
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

/// A configuration tree with its criteria parsed once, to evaluate against many devices.
#[derive(Debug, Clone)]
pub struct Compiled {
    configurations: Vec<Configuration>,
    /// Per configuration, per node, per cpeMatch: the parsed criterion (None when unparsable).
    parsed: Vec<Vec<Vec<Option<Entry>>>>,
}

impl Compiled {
    pub fn new(configurations: Vec<Configuration>) -> Compiled {
        let parsed = configurations
            .iter()
            .map(|c| c.nodes.iter().map(|n| n.cpe_match.iter().map(|m| Entry::new(&m.criteria)).collect()).collect())
            .collect();
        Compiled { configurations, parsed }
    }

    pub fn configurations(&self) -> &[Configuration] {
        &self.configurations
    }

    /// The `(vendor, product)` pairs of the vulnerable criteria: what a device must name for
    /// this CVE to be a candidate.
    pub fn vulnerable_products(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (ci, c) in self.configurations.iter().enumerate() {
            for (ni, n) in c.nodes.iter().enumerate() {
                for (mi, m) in n.cpe_match.iter().enumerate() {
                    if !m.vulnerable {
                        continue;
                    }
                    if let Some(Some(Entry { key: Some((v, pr)), .. })) = self.parsed.get(ci).and_then(|p| p.get(ni)).and_then(|p| p.get(mi))
                        && !out.iter().any(|(a, b)| a == v && b == pr)
                    {
                        out.push((v.clone(), pr.clone()));
                    }
                }
            }
        }
        out
    }

    /// Whether the CVE applies to the device, and why. The most certain configuration wins.
    pub fn evaluate(&self, device: &[DeviceCpe]) -> Option<Hit> {
        let mut best: Option<Hit> = None;
        for (ci, config) in self.configurations.iter().enumerate() {
            let Some(parsed) = self.parsed.get(ci) else { continue };
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
            let values: Vec<Truth> = config
                .nodes
                .iter()
                .zip(values)
                .map(|(node, t)| {
                    if matches!(t, Truth::No) && !has_hw && node.cpe_match.iter().all(|m| !m.vulnerable) && !node.negate
                        && node.cpe_match.iter().all(|m| m.criteria.starts_with("cpe:2.3:h:"))
                    {
                        Truth::Maybe(Confidence::Fuzzy, None)
                    } else {
                        t
                    }
                })
                .collect();
            let t = combine(config.operator, values);
            let t = if config.negate { negate(t) } else { t };
            let (yes, conf, evidence) = match t {
                Truth::Yes(c, Some(e)) => (true, c, e),
                Truth::Maybe(c, Some(e)) => (false, c, e),
                _ => continue,
            };
            let mut caveats = evidence.caveats.clone();
            let confidence = if yes { conf.min(evidence.confidence) } else { conf.min(evidence.confidence).min(Confidence::Fuzzy) };
            let (platform, platform_known) = match platform {
                Some((ni, known)) => {
                    let name = config
                        .nodes
                        .get(ni)
                        .map(|n| n.cpe_match.iter().map(|m| m.criteria.as_str()).collect::<Vec<_>>().join(" / "))
                        .unwrap_or_default();
                    if !known {
                        caveats.push("platform_unknown".to_owned());
                    }
                    (Some(name), Some(known))
                }
                None => (None, None),
            };
            caveats.sort();
            caveats.dedup();
            let hit = Hit {
                configuration: ci,
                criteria: evidence.criteria,
                range: evidence.range,
                device_cpe: evidence.device_cpe,
                confidence,
                platform,
                platform_known,
                caveats,
            };
            if best.as_ref().is_none_or(|b| hit.confidence.cmp(&b.confidence) == Ordering::Greater) {
                best = Some(hit);
            }
        }
        best
    }
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
