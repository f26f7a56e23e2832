//! CSAF 2.0 advisories (OASIS Common Security Advisory Framework) and how providers publish
//! them: `provider-metadata.json`, ROLIE feeds and the `changes.csv` of a directory
//! distribution.
//!
//! A document is read whole (they are small; more than [`MAX_BYTES`] is refused), its product
//! tree flattened into [`CsafProduct`]s and every product status turned into one
//! [`CsafStatement`] per product, carrying what applies to that product: the VEX justification
//! (`flags`), the remediations, whether it is exploited (`threats`) and the scores.
//!
//! Vendors say "which versions" in two ways: Cisco enumerates each release as a leaf (trains are
//! not orderable), Fortinet gives `vers:` ranges (`product_version_range`), evaluated with
//! [`vers_contains`].

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::model::Cvss;
use crate::version::{self, Scheme};

/// Largest document read (64 MiB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Budget for what statements copy out of a document (titles, remediation texts …) so that a
/// hostile document cannot multiply its size by its product count.
const EXPANSION_LIMIT: usize = 256 * 1024 * 1024;

/// Why a CSAF file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CsafError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}: larger than {limit} bytes, not read")]
    TooLarge { file: String, limit: u64 },
    #[error("{file}: not the expected JSON: {reason}")]
    Json { file: String, reason: String },
    /// A rule of the format is broken at `path` (`document.tracking.id`,
    /// `vulnerabilities[2].product_status.known_affected[5]`, `line 3` for CSV).
    #[error("{file}: {path}: {reason}")]
    Invalid { file: String, path: String, reason: String },
}

impl CsafError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            CsafError::Read { file, .. } | CsafError::TooLarge { file, .. } | CsafError::Json { file, .. } | CsafError::Invalid { file, .. } => file,
        }
    }

    /// The JSON path (or CSV line) of a rule violation.
    pub fn path(&self) -> Option<&str> {
        match self {
            CsafError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }
}

fn invalid(file: &str, path: impl Into<String>, reason: impl Into<String>) -> CsafError {
    CsafError::Invalid { file: file.to_owned(), path: path.into(), reason: reason.into() }
}

/// Reads at most `limit` bytes; `Ok(None)` when there is more.
pub(crate) fn read_capped<R: Read>(reader: R, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut buf = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    Ok((buf.len() as u64 <= limit).then_some(buf))
}

fn parse_json<T: serde::de::DeserializeOwned, R: Read>(file: &str, reader: R) -> Result<T, CsafError> {
    let bytes = read_capped(reader, MAX_BYTES)
        .map_err(|e| CsafError::Read { file: file.to_owned(), reason: e.to_string() })?
        .ok_or_else(|| CsafError::TooLarge { file: file.to_owned(), limit: MAX_BYTES })?;
    serde_json::from_slice(&bytes).map_err(|e| CsafError::Json { file: file.to_owned(), reason: e.to_string() })
}

/// The value at `path`, present and not blank.
fn required<'a>(file: &str, v: &'a Option<String>, path: &str) -> Result<&'a str, CsafError> {
    match v.as_deref() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(invalid(file, path, "empty")),
        None => Err(invalid(file, path, "missing")),
    }
}

fn one_of<'a>(file: &str, v: &'a str, allowed: &[&str], path: &str) -> Result<&'a str, CsafError> {
    if allowed.contains(&v) {
        Ok(v)
    } else {
        Err(invalid(file, path, format!("{:?} is not one of {}", v.chars().take(60).collect::<String>(), allowed.join(", "))))
    }
}

// ---------------------------------------------------------------------------------------------
// Public shapes
// ---------------------------------------------------------------------------------------------

/// A `relationships` entry: this product is `product_reference` combined with
/// `relates_to_product_reference` (`installed_on`, `default_component_of` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsafRelationship {
    pub category: String,
    pub product_reference: String,
    pub relates_to_product_reference: String,
}

/// One product of the product tree, with what its branch path says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CsafProduct {
    pub product_id: String,
    pub name: String,
    /// Nearest `vendor` branch name.
    pub vendor: Option<String>,
    /// Nearest `product_name` or `product_family` branch name.
    pub product: Option<String>,
    /// Nearest `product_version` or `service_pack` branch name (Cisco: the release `15.2(5)E`,
    /// not the train `15.2E`).
    pub version: Option<String>,
    /// Nearest `product_version_range` branch name (`vers:generic/>=7.2.0|<=7.2.6`).
    pub version_range: Option<String>,
    pub cpe: Option<String>,
    pub purl: Option<String>,
    pub model_numbers: Vec<String>,
    /// For products defined by a relationship; vendor, product, version and range are then
    /// those of `product_reference`.
    pub relationship: Option<CsafRelationship>,
}

/// A product status list of `product_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    KnownAffected,
    FirstAffected,
    LastAffected,
    Fixed,
    FirstFixed,
    KnownNotAffected,
    UnderInvestigation,
    Recommended,
}

impl ProductStatus {
    /// The list name in CSAF.
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::KnownAffected => "known_affected",
            ProductStatus::FirstAffected => "first_affected",
            ProductStatus::LastAffected => "last_affected",
            ProductStatus::Fixed => "fixed",
            ProductStatus::FirstFixed => "first_fixed",
            ProductStatus::KnownNotAffected => "known_not_affected",
            ProductStatus::UnderInvestigation => "under_investigation",
            ProductStatus::Recommended => "recommended",
        }
    }

    /// `known_affected`, `first_affected`, `last_affected`.
    pub fn is_affected(self) -> bool {
        matches!(self, ProductStatus::KnownAffected | ProductStatus::FirstAffected | ProductStatus::LastAffected)
    }

    /// `fixed`, `first_fixed`.
    pub fn is_fixed(self) -> bool {
        matches!(self, ProductStatus::Fixed | ProductStatus::FirstFixed)
    }
}

/// A remediation that applies to a statement's product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// `vendor_fix`, `workaround`, `mitigation`, `no_fix_planned`, `none_available`.
    pub category: String,
    pub details: String,
    pub url: Option<String>,
    pub date: Option<String>,
}

/// What one vulnerability of a document says about one product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsafStatement {
    pub cve: Option<String>,
    /// Other ids as `system_name:text` (`Cisco Bug ID:CSCvg76186`).
    pub ids: Vec<String>,
    pub title: Option<String>,
    pub product_id: String,
    pub status: ProductStatus,
    /// VEX justification (`flags[].label`) given for this product, directly or via a group.
    pub justification: Option<String>,
    /// Remediations naming this product, directly or via a group.
    pub remediations: Vec<Remediation>,
    /// An `exploit_status` threat with non-empty details names this product or no product at
    /// all. Its wording is not interpreted: a threat saying "no known exploitation" counts too.
    pub exploited: bool,
    /// `scores[]` covering this product; the source is the publisher's name.
    pub cvss: Vec<Cvss>,
    /// `CWE-787` …
    pub cwe: Option<String>,
}

/// A CSAF 2.0 document, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsafDocument {
    pub tracking_id: String,
    pub title: String,
    pub publisher: String,
    pub publisher_namespace: Option<String>,
    /// `csaf_security_advisory`, `csaf_vex`, `csaf_base` or a vendor's own.
    pub category: String,
    pub csaf_version: String,
    /// `draft`, `interim`, `final`.
    pub status: String,
    pub version: String,
    pub initial_release: Option<String>,
    pub current_release: String,
    pub lang: Option<String>,
    /// `WHITE`, `GREEN`, `AMBER`, `RED`.
    pub tlp: Option<String>,
    /// In tree order: branches depth first, then `full_product_names`, then relationships.
    pub products: Vec<CsafProduct>,
    /// By vulnerability, then status list, then list order.
    pub statements: Vec<CsafStatement>,
}

impl CsafDocument {
    /// The product with this id.
    pub fn product(&self, product_id: &str) -> Option<&CsafProduct> {
        self.products.iter().find(|p| p.product_id == product_id)
    }
}

// ---------------------------------------------------------------------------------------------
// Raw JSON
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawCsaf {
    document: Option<RawDocument>,
    product_tree: Option<RawProductTree>,
    #[serde(default)]
    vulnerabilities: Vec<RawVulnerability>,
}

#[derive(Deserialize)]
struct RawDocument {
    category: Option<String>,
    csaf_version: Option<String>,
    title: Option<String>,
    lang: Option<String>,
    publisher: Option<RawPublisher>,
    tracking: Option<RawTracking>,
    distribution: Option<RawDistribution>,
}

#[derive(Deserialize)]
struct RawPublisher {
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct RawTracking {
    id: Option<String>,
    status: Option<String>,
    version: Option<String>,
    initial_release_date: Option<String>,
    current_release_date: Option<String>,
}

#[derive(Deserialize)]
struct RawDistribution {
    tlp: Option<RawTlp>,
}

#[derive(Deserialize)]
struct RawTlp {
    label: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawProductTree {
    #[serde(default)]
    branches: Vec<RawBranch>,
    #[serde(default)]
    full_product_names: Vec<RawFullProductName>,
    #[serde(default)]
    relationships: Vec<RawRelationship>,
    #[serde(default)]
    product_groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
struct RawBranch {
    category: Option<String>,
    name: Option<String>,
    #[serde(default)]
    branches: Vec<RawBranch>,
    product: Option<RawFullProductName>,
}

#[derive(Deserialize)]
struct RawFullProductName {
    name: Option<String>,
    product_id: Option<String>,
    product_identification_helper: Option<RawHelper>,
}

#[derive(Deserialize)]
struct RawHelper {
    cpe: Option<String>,
    purl: Option<String>,
    #[serde(default)]
    model_numbers: Vec<String>,
}

#[derive(Deserialize)]
struct RawRelationship {
    category: Option<String>,
    full_product_name: Option<RawFullProductName>,
    product_reference: Option<String>,
    relates_to_product_reference: Option<String>,
}

#[derive(Deserialize)]
struct RawGroup {
    group_id: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    cve: Option<String>,
    title: Option<String>,
    cwe: Option<RawCwe>,
    #[serde(default)]
    ids: Vec<RawId>,
    #[serde(default)]
    product_status: RawProductStatus,
    #[serde(default)]
    flags: Vec<RawFlag>,
    #[serde(default)]
    threats: Vec<RawThreat>,
    #[serde(default)]
    remediations: Vec<RawRemediation>,
    #[serde(default)]
    scores: Vec<RawScore>,
}

#[derive(Deserialize)]
struct RawCwe {
    id: Option<String>,
}

#[derive(Deserialize)]
struct RawId {
    system_name: Option<String>,
    text: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawProductStatus {
    #[serde(default)]
    first_affected: Vec<String>,
    #[serde(default)]
    first_fixed: Vec<String>,
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    known_not_affected: Vec<String>,
    #[serde(default)]
    last_affected: Vec<String>,
    #[serde(default)]
    recommended: Vec<String>,
    #[serde(default)]
    under_investigation: Vec<String>,
}

#[derive(Deserialize)]
struct RawFlag {
    label: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawThreat {
    category: Option<String>,
    details: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawRemediation {
    category: Option<String>,
    details: Option<String>,
    url: Option<String>,
    date: Option<String>,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct RawScore {
    #[serde(default)]
    products: Vec<String>,
    cvss_v3: Option<RawCvss>,
    cvss_v2: Option<RawCvss>,
}

#[derive(Deserialize)]
struct RawCvss {
    version: Option<String>,
    #[serde(rename = "vectorString")]
    vector: Option<String>,
    #[serde(rename = "baseScore")]
    score: Option<f64>,
    #[serde(rename = "baseSeverity")]
    severity: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reading a document
// ---------------------------------------------------------------------------------------------

const FLAG_LABELS: [&str; 5] = [
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
];
const REMEDIATION_CATEGORIES: [&str; 5] = ["mitigation", "no_fix_planned", "none_available", "vendor_fix", "workaround"];
const THREAT_CATEGORIES: [&str; 3] = ["exploit_status", "impact", "target_set"];
const RELATIONSHIP_CATEGORIES: [&str; 5] =
    ["default_component_of", "external_component_of", "installed_on", "installed_with", "optional_component_of"];
const TRACKING_STATUSES: [&str; 3] = ["draft", "final", "interim"];

/// What a branch path says so far.
#[derive(Clone, Default)]
struct Lineage {
    vendor: Option<String>,
    product: Option<String>,
    version: Option<String>,
    range: Option<String>,
}

fn product_from(file: &str, raw: &RawFullProductName, path: &str, lineage: &Lineage) -> Result<CsafProduct, CsafError> {
    let product_id = required(file, &raw.product_id, &format!("{path}.product_id"))?.to_owned();
    let name = required(file, &raw.name, &format!("{path}.name"))?.to_owned();
    let helper = raw.product_identification_helper.as_ref();
    Ok(CsafProduct {
        product_id,
        name,
        vendor: lineage.vendor.clone(),
        product: lineage.product.clone(),
        version: lineage.version.clone(),
        version_range: lineage.range.clone(),
        cpe: helper.and_then(|h| h.cpe.clone()),
        purl: helper.and_then(|h| h.purl.clone()),
        model_numbers: helper.map(|h| h.model_numbers.clone()).unwrap_or_default(),
        relationship: None,
    })
}

fn walk(file: &str, branches: &[RawBranch], path: &str, lineage: &Lineage, out: &mut Vec<CsafProduct>) -> Result<(), CsafError> {
    for (i, b) in branches.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let name = required(file, &b.name, &format!("{p}.name"))?;
        let category = required(file, &b.category, &format!("{p}.category"))?;
        let mut here = lineage.clone();
        match category {
            "vendor" => here.vendor = Some(name.to_owned()),
            "product_family" | "product_name" => here.product = Some(name.to_owned()),
            "product_version" | "service_pack" => here.version = Some(name.to_owned()),
            "product_version_range" => here.range = Some(name.to_owned()),
            _ => {}
        }
        if let Some(fpn) = &b.product {
            out.push(product_from(file, fpn, &format!("{p}.product"), &here)?);
        }
        walk(file, &b.branches, &format!("{p}.branches"), &here, out)?;
    }
    Ok(())
}

/// The flattened product tree: products by id, groups by id.
struct Tree {
    products: Vec<CsafProduct>,
    index: HashMap<String, usize>,
    groups: HashMap<String, Vec<String>>,
}

impl Tree {
    fn push(&mut self, p: CsafProduct) {
        // A product id defined twice (against mandatory test 6.1.2): the first one counts.
        if !self.index.contains_key(&p.product_id) {
            self.index.insert(p.product_id.clone(), self.products.len());
            self.products.push(p);
        }
    }

    fn check_product(&self, file: &str, id: &str, path: &str) -> Result<(), CsafError> {
        if self.index.contains_key(id) {
            Ok(())
        } else {
            Err(invalid(file, path, format!("product id {:?} is not defined in the product tree", id.chars().take(80).collect::<String>())))
        }
    }

    /// Product ids named by `product_ids` and `group_ids` at `path`, all checked.
    fn members(&self, file: &str, path: &str, product_ids: &[String], group_ids: &[String]) -> Result<HashSet<String>, CsafError> {
        let mut out = HashSet::new();
        for (k, id) in product_ids.iter().enumerate() {
            self.check_product(file, id, &format!("{path}.product_ids[{k}]"))?;
            out.insert(id.clone());
        }
        for (k, g) in group_ids.iter().enumerate() {
            let Some(ids) = self.groups.get(g) else {
                return Err(invalid(file, format!("{path}.group_ids[{k}]"), format!("group id {:?} is not defined", g.chars().take(80).collect::<String>())));
            };
            out.extend(ids.iter().cloned());
        }
        Ok(out)
    }
}

fn build_tree(file: &str, raw: &RawProductTree) -> Result<Tree, CsafError> {
    let mut tree = Tree { products: Vec::new(), index: HashMap::new(), groups: HashMap::new() };
    let mut from_branches = Vec::new();
    walk(file, &raw.branches, "product_tree.branches", &Lineage::default(), &mut from_branches)?;
    for p in from_branches {
        tree.push(p);
    }
    for (i, fpn) in raw.full_product_names.iter().enumerate() {
        tree.push(product_from(file, fpn, &format!("product_tree.full_product_names[{i}]"), &Lineage::default())?);
    }
    // Relationships may refer to one another in any order: know every id first.
    let mut known: HashSet<&str> = tree.index.keys().map(String::as_str).collect();
    for r in &raw.relationships {
        if let Some(id) = r.full_product_name.as_ref().and_then(|f| f.product_id.as_deref()) {
            known.insert(id);
        }
    }
    let mut related = Vec::new();
    for (i, r) in raw.relationships.iter().enumerate() {
        let p = format!("product_tree.relationships[{i}]");
        let category = one_of(file, required(file, &r.category, &format!("{p}.category"))?, &RELATIONSHIP_CATEGORIES, &format!("{p}.category"))?;
        let reference = required(file, &r.product_reference, &format!("{p}.product_reference"))?;
        let relates_to = required(file, &r.relates_to_product_reference, &format!("{p}.relates_to_product_reference"))?;
        for (field, id) in [("product_reference", reference), ("relates_to_product_reference", relates_to)] {
            if !known.contains(id) {
                return Err(invalid(file, format!("{p}.{field}"), format!("product id {:?} is not defined in the product tree", id.chars().take(80).collect::<String>())));
            }
        }
        let Some(fpn) = &r.full_product_name else {
            return Err(invalid(file, format!("{p}.full_product_name"), "missing"));
        };
        let base = tree.index.get(reference).and_then(|&k| tree.products.get(k));
        let lineage = base
            .map(|b| Lineage { vendor: b.vendor.clone(), product: b.product.clone(), version: b.version.clone(), range: b.version_range.clone() })
            .unwrap_or_default();
        let mut product = product_from(file, fpn, &format!("{p}.full_product_name"), &lineage)?;
        product.relationship = Some(CsafRelationship {
            category: category.to_owned(),
            product_reference: reference.to_owned(),
            relates_to_product_reference: relates_to.to_owned(),
        });
        related.push(product);
    }
    for p in related {
        tree.push(p);
    }
    for (i, g) in raw.product_groups.iter().enumerate() {
        let p = format!("product_tree.product_groups[{i}]");
        let id = required(file, &g.group_id, &format!("{p}.group_id"))?;
        for (k, pid) in g.product_ids.iter().enumerate() {
            tree.check_product(file, pid, &format!("{p}.product_ids[{k}]"))?;
        }
        tree.groups.entry(id.to_owned()).or_insert_with(|| g.product_ids.clone());
    }
    Ok(tree)
}

fn valid_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && num.len() >= 4 && num.bytes().all(|b| b.is_ascii_digit())
}

fn valid_cwe(s: &str) -> bool {
    s.strip_prefix("CWE-").is_some_and(|n| (1..=6).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit()) && !n.starts_with('0'))
}

/// CVSS v2 and v3 severities from the base score (the v2 ones as NVD gives them).
fn severity_from(score: f64, v2: bool) -> &'static str {
    match (v2, score) {
        (true, s) if s >= 7.0 => "HIGH",
        (true, s) if s >= 4.0 => "MEDIUM",
        (true, _) => "LOW",
        (false, s) if s >= 9.0 => "CRITICAL",
        (false, s) if s >= 7.0 => "HIGH",
        (false, s) if s >= 4.0 => "MEDIUM",
        (false, s) if s > 0.0 => "LOW",
        _ => "NONE",
    }
}

fn cvss_from(file: &str, raw: &RawCvss, path: &str, v2: bool, source: &str) -> Result<Cvss, CsafError> {
    let vector = required(file, &raw.vector, &format!("{path}.vectorString"))?;
    let Some(score) = raw.score else {
        return Err(invalid(file, format!("{path}.baseScore"), "missing"));
    };
    if !(0.0..=10.0).contains(&score) {
        return Err(invalid(file, format!("{path}.baseScore"), format!("{score} is not between 0 and 10")));
    }
    let version = match raw.version.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v.to_owned(),
        None if v2 => "2.0".to_owned(),
        None => vector.strip_prefix("CVSS:").and_then(|r| r.split('/').next()).unwrap_or("3.0").to_owned(),
    };
    let severity = raw.severity.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| severity_from(score, v2).to_owned());
    Ok(Cvss { version, source: source.to_owned(), primary: true, vector: vector.to_owned(), base_score: score, severity })
}

/// Heap and inline bytes a statement holds (for [`EXPANSION_LIMIT`]).
fn statement_cost(s: &CsafStatement) -> usize {
    let opt = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    std::mem::size_of::<CsafStatement>()
        + opt(&s.cve)
        + s.ids.iter().map(|i| i.len() + 24).sum::<usize>()
        + opt(&s.title)
        + s.product_id.len()
        + opt(&s.justification)
        + s.remediations.iter().map(|r| std::mem::size_of::<Remediation>() + r.category.len() + r.details.len() + opt(&r.url) + opt(&r.date)).sum::<usize>()
        + s.cvss.iter().map(|c| std::mem::size_of::<Cvss>() + c.version.len() + c.source.len() + c.vector.len() + c.severity.len()).sum::<usize>()
        + opt(&s.cwe)
}

fn statements_of(file: &str, i: usize, v: &RawVulnerability, tree: &Tree, publisher: &str, budget: &mut usize, out: &mut Vec<CsafStatement>) -> Result<(), CsafError> {
    let vp = format!("vulnerabilities[{i}]");
    if let Some(cve) = &v.cve
        && !valid_cve(cve)
    {
        return Err(invalid(file, format!("{vp}.cve"), format!("{:?} is not a CVE id", cve.chars().take(40).collect::<String>())));
    }
    let cwe = match &v.cwe {
        Some(c) => {
            let id = required(file, &c.id, &format!("{vp}.cwe.id"))?;
            if !valid_cwe(id) {
                return Err(invalid(file, format!("{vp}.cwe.id"), format!("{:?} is not a CWE id", id.chars().take(40).collect::<String>())));
            }
            Some(id.to_owned())
        }
        None => None,
    };
    let mut ids = Vec::with_capacity(v.ids.len());
    for (k, id) in v.ids.iter().enumerate() {
        let system = required(file, &id.system_name, &format!("{vp}.ids[{k}].system_name"))?;
        let text = required(file, &id.text, &format!("{vp}.ids[{k}].text"))?;
        ids.push(format!("{system}:{text}"));
    }

    let mut flags = Vec::with_capacity(v.flags.len());
    for (k, f) in v.flags.iter().enumerate() {
        let fp = format!("{vp}.flags[{k}]");
        let label = one_of(file, required(file, &f.label, &format!("{fp}.label"))?, &FLAG_LABELS, &format!("{fp}.label"))?;
        flags.push((label, tree.members(file, &fp, &f.product_ids, &f.group_ids)?));
    }
    let mut exploit_threats = Vec::new();
    for (k, t) in v.threats.iter().enumerate() {
        let tp = format!("{vp}.threats[{k}]");
        let category = one_of(file, required(file, &t.category, &format!("{tp}.category"))?, &THREAT_CATEGORIES, &format!("{tp}.category"))?;
        let details = required(file, &t.details, &format!("{tp}.details"))?;
        let members = tree.members(file, &tp, &t.product_ids, &t.group_ids)?;
        if category == "exploit_status" && !details.trim().is_empty() {
            let everyone = t.product_ids.is_empty() && t.group_ids.is_empty();
            exploit_threats.push((everyone, members));
        }
    }
    let mut remediations = Vec::with_capacity(v.remediations.len());
    for (k, r) in v.remediations.iter().enumerate() {
        let rp = format!("{vp}.remediations[{k}]");
        let category = one_of(file, required(file, &r.category, &format!("{rp}.category"))?, &REMEDIATION_CATEGORIES, &format!("{rp}.category"))?;
        let details = required(file, &r.details, &format!("{rp}.details"))?;
        let members = tree.members(file, &rp, &r.product_ids, &r.group_ids)?;
        let rem = Remediation { category: category.to_owned(), details: details.to_owned(), url: r.url.clone(), date: r.date.clone() };
        remediations.push((rem, members));
    }
    let mut scores = Vec::new();
    for (k, s) in v.scores.iter().enumerate() {
        let sp = format!("{vp}.scores[{k}]");
        if s.products.is_empty() {
            return Err(invalid(file, format!("{sp}.products"), "missing"));
        }
        for (m, id) in s.products.iter().enumerate() {
            tree.check_product(file, id, &format!("{sp}.products[{m}]"))?;
        }
        let products: HashSet<&str> = s.products.iter().map(String::as_str).collect();
        if let Some(c) = &s.cvss_v3 {
            scores.push((cvss_from(file, c, &format!("{sp}.cvss_v3"), false, publisher)?, products.clone()));
        }
        if let Some(c) = &s.cvss_v2 {
            scores.push((cvss_from(file, c, &format!("{sp}.cvss_v2"), true, publisher)?, products));
        }
    }

    let ps = &v.product_status;
    let lists: [(&str, ProductStatus, &Vec<String>); 8] = [
        ("known_affected", ProductStatus::KnownAffected, &ps.known_affected),
        ("first_affected", ProductStatus::FirstAffected, &ps.first_affected),
        ("last_affected", ProductStatus::LastAffected, &ps.last_affected),
        ("fixed", ProductStatus::Fixed, &ps.fixed),
        ("first_fixed", ProductStatus::FirstFixed, &ps.first_fixed),
        ("known_not_affected", ProductStatus::KnownNotAffected, &ps.known_not_affected),
        ("under_investigation", ProductStatus::UnderInvestigation, &ps.under_investigation),
        ("recommended", ProductStatus::Recommended, &ps.recommended),
    ];
    for (name, status, list) in lists {
        let mut seen = HashSet::new();
        for (k, pid) in list.iter().enumerate() {
            tree.check_product(file, pid, &format!("{vp}.product_status.{name}[{k}]"))?;
            if !seen.insert(pid.as_str()) {
                continue;
            }
            let statement = CsafStatement {
                cve: v.cve.clone(),
                ids: ids.clone(),
                title: v.title.clone(),
                product_id: pid.clone(),
                status,
                justification: flags.iter().find(|(_, m)| m.contains(pid)).map(|(l, _)| (*l).to_owned()),
                remediations: remediations.iter().filter(|(_, m)| m.contains(pid)).map(|(r, _)| r.clone()).collect(),
                exploited: exploit_threats.iter().any(|(everyone, m)| *everyone || m.contains(pid)),
                cvss: scores.iter().filter(|(_, m)| m.contains(pid.as_str())).map(|(c, _)| c.clone()).collect(),
                cwe: cwe.clone(),
            };
            let cost = statement_cost(&statement);
            if cost > *budget {
                return Err(invalid(file, vp, format!("the statements would take more than {EXPANSION_LIMIT} bytes; not read")));
            }
            *budget -= cost;
            out.push(statement);
        }
    }
    Ok(())
}

/// Reads a CSAF 2.0 document. Mandatory fields are checked and every product id a status,
/// group, flag, threat, remediation, score or relationship names must be defined (mandatory
/// test 6.1.1); errors name the JSON path.
pub fn read_csaf<R: Read>(file: &str, reader: R) -> Result<CsafDocument, CsafError> {
    let raw: RawCsaf = parse_json(file, reader)?;
    let Some(doc) = &raw.document else {
        return Err(invalid(file, "document", "missing"));
    };
    let csaf_version = required(file, &doc.csaf_version, "document.csaf_version")?;
    if csaf_version != "2.0" {
        return Err(invalid(file, "document.csaf_version", format!("{:?} (only 2.0 is read)", csaf_version.chars().take(20).collect::<String>())));
    }
    let category = required(file, &doc.category, "document.category")?;
    let Some(publisher) = &doc.publisher else {
        return Err(invalid(file, "document.publisher", "missing"));
    };
    let publisher_name = required(file, &publisher.name, "document.publisher.name")?;
    let title = required(file, &doc.title, "document.title")?;
    let Some(tracking) = &doc.tracking else {
        return Err(invalid(file, "document.tracking", "missing"));
    };
    let tracking_id = required(file, &tracking.id, "document.tracking.id")?;
    let current_release = required(file, &tracking.current_release_date, "document.tracking.current_release_date")?;
    let status = one_of(file, required(file, &tracking.status, "document.tracking.status")?, &TRACKING_STATUSES, "document.tracking.status")?;
    let version = required(file, &tracking.version, "document.tracking.version")?;

    let tree = build_tree(file, raw.product_tree.as_ref().unwrap_or(&RawProductTree::default()))?;
    let mut statements = Vec::new();
    let mut budget = EXPANSION_LIMIT;
    for (i, v) in raw.vulnerabilities.iter().enumerate() {
        statements_of(file, i, v, &tree, publisher_name, &mut budget, &mut statements)?;
    }
    Ok(CsafDocument {
        tracking_id: tracking_id.to_owned(),
        title: title.to_owned(),
        publisher: publisher_name.to_owned(),
        publisher_namespace: publisher.namespace.clone(),
        category: category.to_owned(),
        csaf_version: csaf_version.to_owned(),
        status: status.to_owned(),
        version: version.to_owned(),
        initial_release: tracking.initial_release_date.clone(),
        current_release: current_release.to_owned(),
        lang: doc.lang.clone(),
        tlp: doc.distribution.as_ref().and_then(|d| d.tlp.as_ref()).and_then(|t| t.label.clone()),
        products: tree.products,
        statements,
    })
}

// ---------------------------------------------------------------------------------------------
// vers: version ranges
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    fn lesser(self) -> bool {
        matches!(self, Comparator::Lt | Comparator::Le)
    }

    fn greater(self) -> bool {
        matches!(self, Comparator::Gt | Comparator::Ge)
    }
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Whether `version` is inside the `vers:` range (package-url VERSION-RANGE-SPEC), comparing
/// with `scheme`: `vers:generic/>=7.2.0|<=7.2.6`, `vers:all/*`, `vers:generic/1.2.3`,
/// `vers:gem/>=2.2.0|!=2.2.1|<2.3.0`, several intervals in one range. Constraints are sorted by
/// version and checked as the spec requires (unique versions, alternating bounds).
///
/// `None` when the range is malformed or invalid, or when some comparison is not orderable
/// (two Cisco trains); the range's own versioning-scheme name is not used for comparing.
pub fn vers_contains(range: &str, version: &str, scheme: Scheme) -> Option<bool> {
    let compact: String = range.chars().filter(|c| *c != ' ' && *c != '\t').collect();
    if !compact.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let (versioning, constraints) = compact.strip_prefix("vers:")?.split_once('/')?;
    if versioning.is_empty() || !versioning.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-+".contains(&b)) {
        return None;
    }
    let tested = version.trim();
    if tested.is_empty() {
        return None;
    }
    if constraints == "*" {
        return Some(versioning != "none");
    }
    if matches!(versioning, "all" | "none") {
        return None;
    }

    let mut list: Vec<(Comparator, String)> = Vec::new();
    for c in constraints.split('|').filter(|c| !c.is_empty()) {
        let (cmp, v) = if let Some(v) = c.strip_prefix(">=") {
            (Comparator::Ge, v)
        } else if let Some(v) = c.strip_prefix("<=") {
            (Comparator::Le, v)
        } else if let Some(v) = c.strip_prefix("!=") {
            (Comparator::Ne, v)
        } else if let Some(v) = c.strip_prefix('<') {
            (Comparator::Lt, v)
        } else if let Some(v) = c.strip_prefix('>') {
            (Comparator::Gt, v)
        } else {
            (Comparator::Eq, c)
        };
        // A star is only valid alone; comparator characters must be percent-encoded.
        if v.is_empty() || v.bytes().any(|b| b"<>=!*".contains(&b)) {
            return None;
        }
        list.push((cmp, percent_decode(v)?));
    }
    if list.is_empty() {
        return None;
    }

    let order = |a: &str, b: &str| version::compare(scheme, a, b).ordering;
    let mut unorderable = false;
    list.sort_by(|a, b| {
        order(&a.1, &b.1).unwrap_or_else(|| {
            unorderable = true;
            Ordering::Equal
        })
    });
    if unorderable {
        return None;
    }
    // Each version once; then, ignoring `!=`, `=` is followed by `=`, `>`, `>=` or nothing, and
    // ignoring `=` too, bounds alternate lesser / greater.
    if list.windows(2).any(|w| matches!(w, [a, b] if order(&a.1, &b.1) == Some(Ordering::Equal))) {
        return None;
    }
    let no_ne: Vec<Comparator> = list.iter().map(|c| c.0).filter(|c| *c != Comparator::Ne).collect();
    if no_ne.windows(2).any(|w| matches!(w, [Comparator::Eq, next] if next.lesser())) {
        return None;
    }
    let bounds: Vec<&(Comparator, String)> = list.iter().filter(|c| !matches!(c.0, Comparator::Eq | Comparator::Ne)).collect();
    if bounds.windows(2).any(|w| matches!(w, [a, b] if a.0.lesser() == b.0.lesser())) {
        return None;
    }

    let cmp = |v: &str| order(tested, v);
    for (c, v) in &list {
        if matches!(c, Comparator::Eq | Comparator::Le | Comparator::Ge) && cmp(v)? == Ordering::Equal {
            return Some(true);
        }
    }
    for (c, v) in &list {
        if *c == Comparator::Ne && cmp(v)? == Ordering::Equal {
            return Some(false);
        }
    }
    if bounds.is_empty() {
        // Only enumerated versions (not matched above) or only exclusions (none matched).
        return Some(list.iter().all(|c| c.0 == Comparator::Ne));
    }
    let last = bounds.len() - 1;
    for (i, (c, v)) in bounds.iter().map(|b| (b.0, b.1.as_str())).enumerate() {
        let o = cmp(v)?;
        if i == 0 && c.lesser() && o == Ordering::Less {
            return Some(true);
        }
        if i == last && c.greater() && o == Ordering::Greater {
            return Some(true);
        }
        if let Some(next) = bounds.get(i + 1)
            && c.greater()
            && next.0.lesser()
            && o == Ordering::Greater
            && cmp(&next.1)? == Ordering::Less
        {
            return Some(true);
        }
    }
    Some(false)
}

// ---------------------------------------------------------------------------------------------
// Distribution: provider metadata, ROLIE, changes.csv
// ---------------------------------------------------------------------------------------------

/// A ROLIE feed listed by a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolieFeedRef {
    pub url: String,
    /// `UNLABELED`, `WHITE`, `GREEN`, `AMBER`, `RED`.
    pub tlp_label: String,
    pub summary: Option<String>,
}

/// A provider's `/.well-known/csaf/provider-metadata.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub canonical_url: String,
    /// The publisher's name.
    pub publisher: String,
    /// `csaf_publisher`, `csaf_provider`, `csaf_trusted_provider`.
    pub role: String,
    pub last_updated: String,
    pub rolie_feeds: Vec<RolieFeedRef>,
    /// Base URLs of directory distributions (with `index.txt`, `changes.csv`).
    pub directory_urls: Vec<String>,
}

#[derive(Deserialize)]
struct RawProvider {
    canonical_url: Option<String>,
    last_updated: Option<String>,
    metadata_version: Option<String>,
    role: Option<String>,
    publisher: Option<RawPublisher>,
    #[serde(default)]
    distributions: Vec<RawProviderDistribution>,
}

#[derive(Deserialize)]
struct RawProviderDistribution {
    directory_url: Option<String>,
    rolie: Option<RawRolieDistribution>,
}

#[derive(Deserialize)]
struct RawRolieDistribution {
    #[serde(default)]
    feeds: Vec<RawFeedRef>,
}

#[derive(Deserialize)]
struct RawFeedRef {
    summary: Option<String>,
    tlp_label: Option<String>,
    url: Option<String>,
}

const ROLES: [&str; 3] = ["csaf_publisher", "csaf_provider", "csaf_trusted_provider"];
const TLP_LABELS: [&str; 5] = ["UNLABELED", "WHITE", "GREEN", "AMBER", "RED"];

/// Reads a provider metadata document (`metadata_version` 2.0).
pub fn read_provider_metadata<R: Read>(file: &str, reader: R) -> Result<ProviderMetadata, CsafError> {
    let raw: RawProvider = parse_json(file, reader)?;
    let canonical_url = required(file, &raw.canonical_url, "canonical_url")?;
    if !canonical_url.starts_with("https://") || !canonical_url.ends_with("/provider-metadata.json") {
        return Err(invalid(file, "canonical_url", "must be an https URL ending in /provider-metadata.json"));
    }
    let version = required(file, &raw.metadata_version, "metadata_version")?;
    one_of(file, version, &["2.0"], "metadata_version")?;
    let Some(publisher) = &raw.publisher else {
        return Err(invalid(file, "publisher", "missing"));
    };
    let publisher = required(file, &publisher.name, "publisher.name")?;
    let role = one_of(file, required(file, &raw.role, "role")?, &ROLES, "role")?;
    let last_updated = required(file, &raw.last_updated, "last_updated")?;
    let mut rolie_feeds = Vec::new();
    let mut directory_urls = Vec::new();
    for (i, d) in raw.distributions.iter().enumerate() {
        let dp = format!("distributions[{i}]");
        if let Some(url) = &d.directory_url {
            directory_urls.push(required(file, &Some(url.clone()), &format!("{dp}.directory_url"))?.to_owned());
        }
        if let Some(rolie) = &d.rolie {
            for (k, f) in rolie.feeds.iter().enumerate() {
                let fp = format!("{dp}.rolie.feeds[{k}]");
                let url = required(file, &f.url, &format!("{fp}.url"))?;
                let tlp = one_of(file, required(file, &f.tlp_label, &format!("{fp}.tlp_label"))?, &TLP_LABELS, &format!("{fp}.tlp_label"))?;
                rolie_feeds.push(RolieFeedRef { url: url.to_owned(), tlp_label: tlp.to_owned(), summary: f.summary.clone() });
            }
        }
    }
    Ok(ProviderMetadata {
        canonical_url: canonical_url.to_owned(),
        publisher: publisher.to_owned(),
        role: role.to_owned(),
        last_updated: last_updated.to_owned(),
        rolie_feeds,
        directory_urls,
    })
}

/// One advisory of a ROLIE feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolieEntry {
    pub id: String,
    pub title: String,
    /// `content.src`, else the `self` link.
    pub url: String,
    /// The `hash` link (`….sha256` / `….sha512`).
    pub hash_url: Option<String>,
    /// The `signature` link (`….asc`).
    pub signature_url: Option<String>,
    pub updated: String,
    pub published: Option<String>,
}

#[derive(Deserialize)]
struct RawFeedDocument {
    feed: Option<RawFeed>,
}

#[derive(Deserialize)]
struct RawFeed {
    #[serde(default)]
    entry: Vec<RawEntry>,
}

#[derive(Deserialize)]
struct RawEntry {
    id: Option<String>,
    title: Option<String>,
    #[serde(default)]
    link: Vec<RawLink>,
    published: Option<String>,
    updated: Option<String>,
    content: Option<RawContent>,
}

#[derive(Deserialize)]
struct RawLink {
    rel: Option<String>,
    href: Option<String>,
}

#[derive(Deserialize)]
struct RawContent {
    src: Option<String>,
}

/// Reads a ROLIE feed (`{"feed": {…, "entry": […]}}`).
pub fn read_rolie_feed<R: Read>(file: &str, reader: R) -> Result<Vec<RolieEntry>, CsafError> {
    let raw: RawFeedDocument = parse_json(file, reader)?;
    let Some(feed) = raw.feed else {
        return Err(invalid(file, "feed", "missing"));
    };
    let mut out = Vec::with_capacity(feed.entry.len());
    for (i, e) in feed.entry.iter().enumerate() {
        let ep = format!("feed.entry[{i}]");
        let link = |rel: &str| e.link.iter().find(|l| l.rel.as_deref() == Some(rel)).and_then(|l| l.href.clone()).filter(|h| !h.trim().is_empty());
        let url = match e.content.as_ref().and_then(|c| c.src.clone()).filter(|s| !s.trim().is_empty()).or_else(|| link("self")) {
            Some(u) => u,
            None => return Err(invalid(file, format!("{ep}.content.src"), "missing (and no self link)")),
        };
        out.push(RolieEntry {
            id: required(file, &e.id, &format!("{ep}.id"))?.to_owned(),
            title: required(file, &e.title, &format!("{ep}.title"))?.to_owned(),
            url,
            hash_url: link("hash"),
            signature_url: link("signature"),
            updated: required(file, &e.updated, &format!("{ep}.updated"))?.to_owned(),
            published: e.published.clone(),
        });
    }
    Ok(out)
}

/// Reads the `changes.csv` of a directory distribution: `"2024/x.json","2024-03-12T09:00:00Z"`
/// lines, no header. Paths must stay inside the directory (relative, no `..`, no scheme) since
/// the caller joins them to the directory URL.
pub fn read_changes_csv<R: Read>(file: &str, reader: R) -> Result<Vec<(String, String)>, CsafError> {
    let bytes = read_capped(reader, MAX_BYTES)
        .map_err(|e| CsafError::Read { file: file.to_owned(), reason: e.to_string() })?
        .ok_or_else(|| CsafError::TooLarge { file: file.to_owned(), limit: MAX_BYTES })?;
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes.as_slice());
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = format!("line {}", i + 1);
        let rec = rec.map_err(|e| invalid(file, line.clone(), e.to_string()))?;
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let (Some(path), Some(time), None) = (rec.get(0), rec.get(1), rec.get(2)) else {
            return Err(invalid(file, line, format!("{} fields (a path and a time are expected)", rec.len())));
        };
        let (path, time) = (path.trim(), time.trim());
        let escapes = path.starts_with('/') || path.contains('\\') || path.contains("://") || path.split('/').any(|s| s == "..");
        if path.is_empty() || escapes || !path.ends_with(".json") {
            return Err(invalid(file, line, format!("{:?} is not a relative path to a .json file", path.chars().take(80).collect::<String>())));
        }
        if time.is_empty() {
            return Err(invalid(file, line, "no time"));
        }
        out.push((path.to_owned(), time.to_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const CISCO: &str = include_str!("../tests/fixtures/csaf/cisco-style-cve-2018-0171.json");
    const FORTINET: &str = include_str!("../tests/fixtures/csaf/fortinet-style-cve-2024-21762.json");
    const VEX: &str = include_str!("../tests/fixtures/csaf/csaf-vex-not-affected.json");
    const PROVIDER: &str = include_str!("../tests/fixtures/csaf/provider-metadata.json");
    const FEED: &str = include_str!("../tests/fixtures/csaf/feed-tlp-white.json");
    const CHANGES: &str = include_str!("../tests/fixtures/csaf/changes.csv");

    fn statement<'a>(doc: &'a CsafDocument, product_id: &str) -> Result<&'a CsafStatement, String> {
        doc.statements.iter().find(|s| s.product_id == product_id).ok_or(format!("no statement for {product_id}"))
    }

    /// Edits a fixture as JSON and reads it back.
    fn edited(text: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Result<Result<CsafDocument, CsafError>, serde_json::Error> {
        let mut v: serde_json::Value = serde_json::from_str(text)?;
        edit(&mut v);
        let bytes = serde_json::to_vec(&v)?;
        Ok(read_csaf("edited.json", bytes.as_slice()))
    }

    fn error_path(r: Result<CsafDocument, CsafError>) -> Option<String> {
        r.err().and_then(|e| e.path().map(str::to_owned))
    }

    #[test]
    fn cisco_releases_enumerated_under_trains() -> TestResult {
        let doc = read_csaf("cisco.json", CISCO.as_bytes())?;
        assert_eq!(doc.tracking_id, "cisco-sa-20180328-smi2");
        assert_eq!((doc.publisher.as_str(), doc.publisher_namespace.as_deref()), ("Cisco PSIRT", Some("https://www.cisco.com")));
        assert_eq!((doc.category.as_str(), doc.status.as_str(), doc.version.as_str()), ("csaf_security_advisory", "final", "3.0.0"));
        assert_eq!((doc.initial_release.as_deref(), doc.current_release.as_str()), (Some("2018-03-28T16:00:00Z"), "2018-04-17T15:08:41Z"));
        assert_eq!((doc.lang.as_deref(), doc.tlp.as_deref()), (Some("en"), Some("WHITE")));
        // 5 releases, 1 switch, 1 relationship product.
        assert_eq!(doc.products.len(), 7);
        let p = doc.product("CVRFPID-204818").ok_or("15.2(5)E")?;
        assert_eq!((p.vendor.as_deref(), p.product.as_deref(), p.version.as_deref()), (Some("Cisco"), Some("IOS"), Some("15.2(5)E")));
        let p = doc.product("CVRFPID-103763").ok_or("12.2(55)SE")?;
        assert_eq!((p.version.as_deref(), p.cpe.as_deref()), (Some("12.2(55)SE"), Some("cpe:2.3:o:cisco:ios:12.2\\(55\\)se:*:*:*:*:*:*:*")));
        assert_eq!(doc.product("CVRFPID-231187").and_then(|p| p.product.as_deref()), Some("IOS XE Software"));
        let hw = doc.product("CSCO-HW-2960X").ok_or("switch")?;
        assert_eq!(hw.model_numbers, ["WS-C2960X-24TS-L", "WS-C2960X-48FPD-L"]);
        assert_eq!(hw.vendor, None);
        // The relationship product carries the release it is built from.
        let rel = doc.product("CSCO-REL-2960X-15.2(5)E").ok_or("relationship")?;
        assert_eq!((rel.product.as_deref(), rel.version.as_deref()), (Some("IOS"), Some("15.2(5)E")));
        assert_eq!(
            rel.relationship,
            Some(CsafRelationship {
                category: "installed_on".into(),
                product_reference: "CVRFPID-204818".into(),
                relates_to_product_reference: "CSCO-HW-2960X".into()
            })
        );

        assert_eq!(doc.statements.len(), 6);
        assert_eq!(doc.statements.iter().filter(|s| s.status == ProductStatus::KnownAffected).count(), 5);
        let s = statement(&doc, "CVRFPID-204818")?;
        assert_eq!((s.cve.as_deref(), s.cwe.as_deref()), (Some("CVE-2018-0171"), Some("CWE-20")));
        assert_eq!(s.ids, ["Cisco Bug ID:CSCvg76186"]);
        assert!(s.exploited, "an exploit_status threat without product list covers every product");
        assert_eq!(s.remediations.iter().map(|r| r.category.as_str()).collect::<Vec<_>>(), ["vendor_fix", "workaround"]);
        let fix = s.remediations.first().ok_or("vendor_fix")?;
        assert_eq!(fix.url.as_deref(), Some("https://tools.cisco.com/security/center/content/CiscoSecurityAdvisory/cisco-sa-20180328-smi2"));
        let cvss = s.cvss.first().ok_or("cvss")?;
        assert_eq!((cvss.version.as_str(), cvss.base_score, cvss.severity.as_str(), cvss.source.as_str()), ("3.0", 9.8, "CRITICAL", "Cisco PSIRT"));
        // Only the vendor fix (via the group) reaches the IOS XE release and the relationship.
        for id in ["CVRFPID-231187", "CSCO-REL-2960X-15.2(5)E"] {
            assert_eq!(statement(&doc, id)?.remediations.len(), 1, "{id}");
        }
        let fixed = statement(&doc, "CVRFPID-230001")?;
        assert_eq!(fixed.status, ProductStatus::Fixed);
        assert!(fixed.status.is_fixed() && !fixed.status.is_affected());
        assert!(fixed.cvss.is_empty() && fixed.remediations.is_empty());
        Ok(())
    }

    #[test]
    fn fortinet_ranges_evaluated_with_vers() -> TestResult {
        let doc = read_csaf("fortinet.json", FORTINET.as_bytes())?;
        assert_eq!(doc.tracking_id, "FG-IR-24-015");
        let range = doc.product("FortiOS-7.2.0-7.2.6").ok_or("range product")?;
        assert_eq!((range.vendor.as_deref(), range.product.as_deref(), range.version.as_deref()), (Some("Fortinet"), Some("FortiOS"), None));
        assert_eq!(range.version_range.as_deref(), Some("vers:generic/>=7.2.0|<=7.2.6"));
        assert_eq!(range.cpe.as_deref(), Some("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"));
        assert_eq!(doc.product("FortiOS-7.2.7").and_then(|p| p.version.as_deref()), Some("7.2.7"));

        // Which statement covers a device on FortiOS 7.2.4, and on 7.2.7?
        let covering = |v: &str| -> Vec<(String, ProductStatus)> {
            doc.statements
                .iter()
                .filter(|s| {
                    doc.product(&s.product_id).is_some_and(|p| match (&p.version_range, &p.version) {
                        (Some(r), _) => vers_contains(r, v, Scheme::FortiOs) == Some(true),
                        (None, Some(pv)) => version::compare(Scheme::FortiOs, v, pv).ordering == Some(Ordering::Equal),
                        _ => false,
                    })
                })
                .map(|s| (s.product_id.clone(), s.status))
                .collect()
        };
        assert_eq!(covering("v7.2.4,build1396 (GA)"), [("FortiOS-7.2.0-7.2.6".to_owned(), ProductStatus::KnownAffected)]);
        assert_eq!(covering("7.2.7"), [("FortiOS-7.2.7".to_owned(), ProductStatus::Fixed)]);
        let s = statement(&doc, "FortiOS-7.2.0-7.2.6")?;
        assert!(s.exploited);
        assert_eq!(s.remediations.iter().map(|r| r.details.as_str()).collect::<Vec<_>>(), ["Upgrade FortiOS 7.2 to 7.2.7 or above.", "Disable SSL VPN (disabling the web mode alone is not enough)."]);
        assert!(!statement(&doc, "FortiOS-7.2.7")?.exploited, "the exploit threat names the affected ranges only");
        Ok(())
    }

    #[test]
    fn csaf_vex_justification_through_a_group() -> TestResult {
        let doc = read_csaf("vex.json", VEX.as_bytes())?;
        assert_eq!(doc.category, "csaf_vex");
        assert_eq!(doc.tlp, None);
        for id in ["CSAFPID-0001", "CSAFPID-0002"] {
            let s = statement(&doc, id)?;
            assert_eq!((s.status, s.justification.as_deref()), (ProductStatus::KnownNotAffected, Some("vulnerable_code_not_in_execute_path")));
            assert!(!s.exploited);
        }
        let s = statement(&doc, "CSAFPID-0003")?;
        assert_eq!((s.status, s.justification.as_deref()), (ProductStatus::UnderInvestigation, None));
        assert_eq!(doc.product("CSAFPID-0001").and_then(|p| p.purl.as_deref()), Some("pkg:generic/example-imaging/pacs-viewer@4.2"));
        Ok(())
    }

    #[test]
    fn errors_name_the_file_and_path() -> TestResult {
        use serde_json::json;
        let set = |ptr: &'static str, value: serde_json::Value| {
            move |v: &mut serde_json::Value| {
                if let Some(slot) = v.pointer_mut(ptr) {
                    *slot = value;
                }
            }
        };
        let remove = |parent: &'static str, key: &'static str| {
            move |v: &mut serde_json::Value| {
                if let Some(obj) = v.pointer_mut(parent).and_then(|p| p.as_object_mut()) {
                    obj.remove(key);
                }
            }
        };
        assert_eq!(error_path(edited(CISCO, remove("/document/tracking", "id"))?).as_deref(), Some("document.tracking.id"));
        assert_eq!(error_path(edited(CISCO, remove("/document/tracking", "current_release_date"))?).as_deref(), Some("document.tracking.current_release_date"));
        assert_eq!(error_path(edited(CISCO, set("/document/tracking/status", json!("published")))?).as_deref(), Some("document.tracking.status"));
        assert_eq!(error_path(edited(CISCO, set("/document/csaf_version", json!("2.1")))?).as_deref(), Some("document.csaf_version"));
        assert_eq!(error_path(edited(CISCO, set("/document/title", json!("  ")))?).as_deref(), Some("document.title"));
        assert_eq!(error_path(edited(CISCO, remove("/document/publisher", "name"))?).as_deref(), Some("document.publisher.name"));
        assert_eq!(error_path(edited(CISCO, remove("/document", "category"))?).as_deref(), Some("document.category"));
        // Mandatory test 6.1.1: every product id referenced is defined.
        assert_eq!(
            error_path(edited(CISCO, set("/vulnerabilities/0/product_status/known_affected/3", json!("CVRFPID-999999")))?).as_deref(),
            Some("vulnerabilities[0].product_status.known_affected[3]")
        );
        assert_eq!(error_path(edited(CISCO, set("/vulnerabilities/0/scores/0/products/0", json!("nope")))?).as_deref(), Some("vulnerabilities[0].scores[0].products[0]"));
        assert_eq!(error_path(edited(CISCO, set("/vulnerabilities/0/remediations/0/group_ids/0", json!("nope")))?).as_deref(), Some("vulnerabilities[0].remediations[0].group_ids[0]"));
        assert_eq!(error_path(edited(CISCO, set("/product_tree/product_groups/0/product_ids/1", json!("nope")))?).as_deref(), Some("product_tree.product_groups[0].product_ids[1]"));
        assert_eq!(error_path(edited(CISCO, set("/product_tree/relationships/0/relates_to_product_reference", json!("nope")))?).as_deref(), Some("product_tree.relationships[0].relates_to_product_reference"));
        assert_eq!(
            error_path(edited(CISCO, remove("/product_tree/branches/0/branches/0/branches/1/branches/0/product", "product_id"))?).as_deref(),
            Some("product_tree.branches[0].branches[0].branches[1].branches[0].product.product_id")
        );
        assert_eq!(error_path(edited(VEX, set("/vulnerabilities/0/flags/0/label", json!("not_relevant")))?).as_deref(), Some("vulnerabilities[0].flags[0].label"));
        assert_eq!(error_path(edited(CISCO, set("/vulnerabilities/0/cve", json!("CVE-18-171")))?).as_deref(), Some("vulnerabilities[0].cve"));
        assert_eq!(error_path(edited(CISCO, remove("/vulnerabilities/0/scores/0/cvss_v3", "baseScore"))?).as_deref(), Some("vulnerabilities[0].scores[0].cvss_v3.baseScore"));

        let err = read_csaf("a.json", &b"{\"document\": 3}"[..]).err().ok_or("accepted")?;
        assert_eq!(err.file(), "a.json");
        assert!(matches!(err, CsafError::Json { .. }));
        assert!(matches!(read_csaf("a.json", &b"not json"[..]), Err(CsafError::Json { .. })));
        assert_eq!(error_path(read_csaf("a.json", &b"{}"[..])).as_deref(), Some("document"));
        Ok(())
    }

    #[test]
    fn oversized_input_refused() -> TestResult {
        let big = std::io::repeat(b' ').take(MAX_BYTES + 1);
        let err = read_csaf("big.json", big).err().ok_or("accepted")?;
        assert!(matches!(err, CsafError::TooLarge { .. }), "{err}");
        assert!(err.to_string().starts_with("big.json: larger than"));
        Ok(())
    }

    #[test]
    fn vers_ranges() {
        use Scheme::*;
        let forti = "vers:generic/>=7.2.0|<=7.2.6";
        assert_eq!(vers_contains(forti, "7.2.4", FortiOs), Some(true));
        assert_eq!(vers_contains(forti, "v7.2.4,build1396 (GA)", FortiOs), Some(true));
        assert_eq!(vers_contains(forti, "7.2.0", FortiOs), Some(true));
        assert_eq!(vers_contains(forti, "7.2.6", FortiOs), Some(true));
        assert_eq!(vers_contains(forti, "7.2.7", FortiOs), Some(false));
        assert_eq!(vers_contains(forti, "7.0.12", FortiOs), Some(false));
        assert_eq!(vers_contains("vers: generic / >= 7.2.0 | <= 7.2.6", "7.2.1", FortiOs), Some(true), "spaces are not significant");
        assert_eq!(vers_contains("vers:all/*", "anything", Generic), Some(true));
        assert_eq!(vers_contains("vers:none/*", "1.0", Generic), Some(false));
        assert_eq!(vers_contains("vers:generic/*", "1.0", Generic), Some(true));
        // Exact versions and exclusions.
        assert_eq!(vers_contains("vers:generic/1.2.3", "1.2.3", Generic), Some(true));
        assert_eq!(vers_contains("vers:generic/1.2.3", "1.2.4", Generic), Some(false));
        assert_eq!(vers_contains("vers:pypi/0.0.1|0.0.2|1.0", "0.0.2", Generic), Some(true));
        let gem = "vers:gem/>=2.2.0|!=2.2.1|<2.3.0";
        assert_eq!(vers_contains(gem, "2.2.1", Generic), Some(false));
        assert_eq!(vers_contains(gem, "2.2.2", Generic), Some(true));
        assert_eq!(vers_contains(gem, "2.3.0", Generic), Some(false));
        assert_eq!(vers_contains("vers:generic/!=1.0", "1.1", Generic), Some(true));
        assert_eq!(vers_contains("vers:generic/!=1.0", "1.0", Generic), Some(false));
        // Open bounds, unsorted input, several intervals.
        assert_eq!(vers_contains("vers:generic/<2.0", "1.9", Generic), Some(true));
        assert_eq!(vers_contains("vers:generic/<2.0", "2.0", Generic), Some(false));
        assert_eq!(vers_contains("vers:generic/>3.0", "3.0", Generic), Some(false));
        assert_eq!(vers_contains("vers:generic/<2.0|>=1.0", "1.5", Generic), Some(true));
        let tomee = "vers:maven/>=1.0.0-beta1|<=1.7.5|>=7.0.0-M1|<=7.0.7|>=7.1.0|<=7.1.2|>=8.0.0-M1|<=8.0.1";
        assert_eq!(vers_contains(tomee, "7.0.5", Generic), Some(true));
        assert_eq!(vers_contains(tomee, "7.0.8", Generic), Some(false));
        assert_eq!(vers_contains(tomee, "8.0.1", Generic), Some(true));
        assert_eq!(vers_contains(tomee, "9.0", Generic), Some(false));
        assert_eq!(vers_contains("vers:npm/1.2.3|>=2.0.0|<5.0.0", "4.1", Generic), Some(true));
        assert_eq!(vers_contains("vers:generic/>=1.0|<2.0|>=3.0", "3.5", Generic), Some(true), "open last interval");
        assert_eq!(vers_contains("vers:generic/1.0%7C2", "1.0|2", Generic), Some(true), "percent-encoded version");
        // Malformed or invalid per the spec.
        for bad in [
            "7.2.0-7.2.6",
            "vers:generic",
            "vers:generic/",
            "vers:generic/>=",
            "vers:Generic/1.0",
            "vers:generic/*|>=1.0",
            "vers:generic/>=1.0|>=2.0",
            "vers:generic/<1.0|<=2.0",
            "vers:generic/1.0|>=1.0",
            "vers:generic/1.0|<2.0",
            "vers:all/1.0",
            "vers:generic/1.0%zz",
            "vers:generic/>=1.0|<2.0\u{3000}",
            "cpe:2.3:o:fortinet:fortios:*",
        ] {
            assert_eq!(vers_contains(bad, "1.5", Generic), None, "{bad}");
        }
        assert_eq!(vers_contains(forti, " ", Generic), None);
        // Cisco: within a train it works; across trains nothing can be said.
        let train = "vers:generic/>=15.2(4)E|<15.2(4)E6";
        assert_eq!(vers_contains(train, "15.2(4)E3", CiscoIos), Some(true));
        assert_eq!(vers_contains(train, "15.2(4)E6", CiscoIos), Some(false));
        assert_eq!(vers_contains(train, "12.2(55)SE", CiscoIos), None);
        assert_eq!(vers_contains("vers:generic/>=15.2(4)E|<12.2(55)SE", "15.2(4)E1", CiscoIos), None);
    }

    #[test]
    fn provider_metadata_feed_and_changes() -> TestResult {
        let pm = read_provider_metadata("provider-metadata.json", PROVIDER.as_bytes())?;
        assert_eq!(pm.canonical_url, "https://psirt.example.jp/.well-known/csaf/provider-metadata.json");
        assert_eq!((pm.publisher.as_str(), pm.role.as_str(), pm.last_updated.as_str()), ("Example Imaging PSIRT", "csaf_trusted_provider", "2024-03-12T09:00:00.000Z"));
        assert_eq!(
            pm.rolie_feeds,
            [RolieFeedRef {
                url: "https://psirt.example.jp/.well-known/csaf/feed-tlp-white.json".into(),
                tlp_label: "WHITE".into(),
                summary: Some("All TLP:WHITE advisories of Example Imaging.".into())
            }]
        );
        assert_eq!(pm.directory_urls, ["https://psirt.example.jp/.well-known/csaf/white/"]);
        let err = read_provider_metadata("p.json", PROVIDER.replace("csaf_trusted_provider", "csaf_friend").as_bytes()).err().ok_or("accepted")?;
        assert_eq!(err.path(), Some("role"));
        let err = read_provider_metadata("p.json", PROVIDER.replace("\"WHITE\"", "\"CLEAR\"").as_bytes()).err().ok_or("accepted")?;
        assert_eq!(err.path(), Some("distributions[0].rolie.feeds[0].tlp_label"));
        let err = read_provider_metadata("p.json", PROVIDER.replace("https://psirt.example.jp/.well-known/csaf/provider-metadata.json", "http://x/provider-metadata.json").as_bytes()).err().ok_or("accepted")?;
        assert_eq!(err.path(), Some("canonical_url"));

        let entries = read_rolie_feed("feed.json", FEED.as_bytes())?;
        assert_eq!(entries.len(), 2);
        let first = entries.first().ok_or("entry")?;
        assert_eq!(first.id, "EXIMG-VEX-2022-0001");
        assert_eq!(first.url, "https://psirt.example.jp/.well-known/csaf/white/2022/eximg-vex-2022-0001.json");
        assert_eq!(first.hash_url.as_deref(), Some("https://psirt.example.jp/.well-known/csaf/white/2022/eximg-vex-2022-0001.json.sha512"));
        assert_eq!(first.signature_url.as_deref(), Some("https://psirt.example.jp/.well-known/csaf/white/2022/eximg-vex-2022-0001.json.asc"));
        assert_eq!((first.updated.as_str(), first.published.as_deref()), ("2022-03-03T11:00:00Z", Some("2022-03-03T11:00:00Z")));
        let second = entries.get(1).ok_or("entry")?;
        assert_eq!((second.signature_url.as_deref(), second.published.as_deref()), (None, None));
        assert!(second.hash_url.as_deref().is_some_and(|h| h.ends_with(".sha256")));
        let no_src = FEED.replace("\"src\": \"https://psirt.example.jp/.well-known/csaf/white/2024/eximg-sa-2024-0002.json\"", "\"src\": \"\"");
        let entries = read_rolie_feed("feed.json", no_src.as_bytes())?;
        assert_eq!(entries.get(1).map(|e| e.url.as_str()), Some("https://psirt.example.jp/.well-known/csaf/white/2024/eximg-sa-2024-0002.json"), "self link as fallback");
        assert_eq!(read_rolie_feed("f.json", &b"{\"feed\": {\"entry\": [{\"id\": \"x\"}]}}"[..]).err().and_then(|e| e.path().map(str::to_owned)).as_deref(), Some("feed.entry[0].content.src"));

        let changes = read_changes_csv("changes.csv", CHANGES.as_bytes())?;
        assert_eq!(changes.len(), 3);
        assert_eq!(changes.first(), Some(&("2024/eximg-sa-2024-0002.json".to_owned(), "2024-03-12T09:00:00Z".to_owned())));
        for bad in ["\"../../etc/passwd.json\",\"2024-01-01T00:00:00Z\"\n", "\"/abs.json\",\"t\"\n", "\"https://evil/x.json\",\"t\"\n", "\"a.json\"\n", "\"a.txt\",\"t\"\n"] {
            let err = read_changes_csv("changes.csv", bad.as_bytes()).err().ok_or(bad)?;
            assert_eq!(err.path(), Some("line 1"), "{bad}");
        }
        Ok(())
    }
}
