//! CycloneDX VEX: reading `vulnerabilities[]` of CycloneDX JSON BOMs (VEX documents and SBOMs
//! with embedded vulnerabilities, spec 1.2–1.7; vulnerabilities exist from 1.4) and writing a
//! facility's own VEX as CycloneDX 1.6.
//!
//! One [`VexStatement`] per vulnerability and `affects[]` entry. Enumerated values (analysis
//! state, justification, response, version status, rating method and severity) are checked
//! against the spec's lists; an unknown value is an error naming its JSON path.
//! `affects[].ref` may be a local `bom-ref` or a BOM-Link
//! (`urn:cdx:<serial>/<version>#<bom-ref>`); it is resolved against the document's components
//! when it points into the same BOM.

use std::collections::HashMap;
use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::csaf::read_capped;
use crate::model::Cvss;

/// Largest document read (64 MiB).
pub const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Budget for what statements copy out of a document, so that a hostile document cannot
/// multiply its size by its `affects` count.
const EXPANSION_LIMIT: usize = 256 * 1024 * 1024;

/// CycloneDX 1.6 component types.
pub const COMPONENT_TYPES: [&str; 13] = [
    "application",
    "framework",
    "library",
    "container",
    "platform",
    "operating-system",
    "device",
    "device-driver",
    "firmware",
    "file",
    "machine-learning-model",
    "data",
    "cryptographic-asset",
];

/// `analysis.justification` values.
pub const JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// `analysis.response[]` values.
pub const RESPONSES: [&str; 5] = ["can_not_fix", "will_not_fix", "update", "rollback", "workaround_available"];

/// `affects[].versions[].status` values.
pub const VERSION_STATUSES: [&str; 3] = ["affected", "unaffected", "unknown"];

const RATING_METHODS: [&str; 7] = ["CVSSv2", "CVSSv3", "CVSSv31", "CVSSv4", "OWASP", "SSVC", "other"];
const SEVERITIES: [&str; 7] = ["critical", "high", "medium", "low", "info", "none", "unknown"];
const SPEC_VERSIONS: [&str; 6] = ["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// Why a CycloneDX file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("{file}: cannot read: {reason}")]
    Read { file: String, reason: String },
    #[error("{file}: larger than {limit} bytes, not read")]
    TooLarge { file: String, limit: u64 },
    #[error("{file}: not the expected JSON: {reason}")]
    Json { file: String, reason: String },
    /// A rule of the format is broken at `path` (`vulnerabilities[0].analysis.state`).
    #[error("{file}: {path}: {reason}")]
    Invalid { file: String, path: String, reason: String },
}

impl VexError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            VexError::Read { file, .. } | VexError::TooLarge { file, .. } | VexError::Json { file, .. } | VexError::Invalid { file, .. } => file,
        }
    }

    /// The JSON path of a rule violation.
    pub fn path(&self) -> Option<&str> {
        match self {
            VexError::Invalid { path, .. } => Some(path),
            _ => None,
        }
    }
}

fn invalid(file: &str, path: impl Into<String>, reason: impl Into<String>) -> VexError {
    VexError::Invalid { file: file.to_owned(), path: path.into(), reason: reason.into() }
}

fn one_of(file: &str, v: &str, allowed: &[&str], path: &str) -> Result<(), VexError> {
    if allowed.contains(&v) {
        Ok(())
    } else {
        Err(invalid(file, path, format!("{:?} is not one of {}", v.chars().take(60).collect::<String>(), allowed.join(", "))))
    }
}

fn required<'a>(file: &str, v: &'a Option<String>, path: &str) -> Result<&'a str, VexError> {
    match v.as_deref() {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(invalid(file, path, "empty")),
        None => Err(invalid(file, path, "missing")),
    }
}

/// A component of the BOM (the device, firmware or software a statement is about).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VexComponent {
    pub bom_ref: Option<String>,
    /// CycloneDX `type` (`device`, `firmware`, `operating-system`, `application` … see
    /// [`COMPONENT_TYPES`]).
    pub kind: String,
    pub name: String,
    pub version: Option<String>,
    pub cpe: Option<String>,
    pub purl: Option<String>,
    pub group: Option<String>,
    /// `supplier.name`, else `manufacturer.name`.
    pub supplier: Option<String>,
}

/// `analysis.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VexState {
    Resolved,
    ResolvedWithPedigree,
    Exploitable,
    InTriage,
    FalsePositive,
    NotAffected,
}

impl VexState {
    pub const ALL: [VexState; 6] =
        [VexState::Resolved, VexState::ResolvedWithPedigree, VexState::Exploitable, VexState::InTriage, VexState::FalsePositive, VexState::NotAffected];

    /// The CycloneDX value.
    pub fn as_str(self) -> &'static str {
        match self {
            VexState::Resolved => "resolved",
            VexState::ResolvedWithPedigree => "resolved_with_pedigree",
            VexState::Exploitable => "exploitable",
            VexState::InTriage => "in_triage",
            VexState::FalsePositive => "false_positive",
            VexState::NotAffected => "not_affected",
        }
    }

    /// From the CycloneDX value.
    pub fn parse(s: &str) -> Option<VexState> {
        VexState::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// What one vulnerability entry says about one affected component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VexStatement {
    /// `CVE-…`, `GHSA-…`, `JVNDB-…`.
    pub id: String,
    /// `source.name` (`NVD`).
    pub source: Option<String>,
    /// `source.url`.
    pub source_url: Option<String>,
    /// `affects[].ref` as written: a `bom-ref` or a BOM-Link.
    pub bom_ref: String,
    /// The component `bom_ref` points to, when it is in this document.
    pub component: Option<VexComponent>,
    /// `affects[].versions[]`: the version or the `vers:` range, and `affected`, `unaffected`
    /// or `unknown`.
    pub versions: Vec<(String, String)>,
    pub state: Option<VexState>,
    pub justification: Option<String>,
    pub responses: Vec<String>,
    /// `analysis.detail`.
    pub detail: Option<String>,
    /// CVSS ratings (`method` CVSSv2/v3/v31/v4, or a CVSS vector); other methods are left out.
    pub ratings: Vec<Cvss>,
    pub cwes: Vec<u32>,
    pub description: Option<String>,
    pub recommendation: Option<String>,
    /// `analysis.firstIssued`.
    pub first_issued: Option<String>,
    /// The vulnerability's `updated`, else `analysis.lastUpdated`.
    pub updated: Option<String>,
}

/// A CycloneDX document as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct VexDocument {
    pub serial_number: Option<String>,
    pub version: Option<u64>,
    pub spec_version: String,
    /// `metadata.timestamp`.
    pub timestamp: Option<String>,
    /// `metadata.component`, then `components[]`, nested components after their parent.
    pub components: Vec<VexComponent>,
    pub statements: Vec<VexStatement>,
}

/// Splits a BOM-Link `urn:cdx:<uuid>/<version>#<bom-ref>` into `urn:uuid:<uuid>`, the version
/// and the (percent-decoded) `bom-ref`.
pub fn parse_bom_link(link: &str) -> Option<(String, u64, String)> {
    let rest = link.strip_prefix("urn:cdx:")?;
    let (head, fragment) = rest.split_once('#')?;
    let (uuid, version) = head.split_once('/')?;
    let uuid_ok = uuid.len() == 36
        && uuid.bytes().enumerate().all(|(i, b)| if [8, 13, 18, 23].contains(&i) { b == b'-' } else { b.is_ascii_hexdigit() });
    let version: u64 = version.parse().ok().filter(|v| *v >= 1)?;
    if !uuid_ok || fragment.is_empty() {
        return None;
    }
    Some((format!("urn:uuid:{}", uuid.to_ascii_lowercase()), version, percent_decode(fragment)?))
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------------------------
// Raw JSON
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct RawBom {
    #[serde(rename = "bomFormat")]
    bom_format: Option<String>,
    #[serde(rename = "specVersion")]
    spec_version: Option<String>,
    #[serde(rename = "serialNumber")]
    serial_number: Option<String>,
    version: Option<u64>,
    metadata: Option<RawMetadata>,
    #[serde(default)]
    components: Vec<RawComponent>,
    #[serde(default)]
    vulnerabilities: Vec<RawVulnerability>,
}

#[derive(Deserialize)]
struct RawMetadata {
    timestamp: Option<String>,
    component: Option<RawComponent>,
}

#[derive(Deserialize)]
struct RawComponent {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(rename = "bom-ref")]
    bom_ref: Option<String>,
    name: Option<String>,
    version: Option<String>,
    group: Option<String>,
    cpe: Option<String>,
    purl: Option<String>,
    supplier: Option<RawOrganization>,
    manufacturer: Option<RawOrganization>,
    #[serde(default)]
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawOrganization {
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawVulnerability {
    id: Option<String>,
    source: Option<RawSource>,
    #[serde(default)]
    ratings: Vec<RawRating>,
    #[serde(default)]
    cwes: Vec<u32>,
    description: Option<String>,
    recommendation: Option<String>,
    updated: Option<String>,
    analysis: Option<RawAnalysis>,
    #[serde(default)]
    affects: Vec<RawAffects>,
}

#[derive(Deserialize)]
struct RawSource {
    name: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawRating {
    source: Option<RawSource>,
    score: Option<f64>,
    severity: Option<String>,
    method: Option<String>,
    vector: Option<String>,
}

#[derive(Deserialize)]
struct RawAnalysis {
    state: Option<String>,
    justification: Option<String>,
    #[serde(default)]
    response: Vec<String>,
    detail: Option<String>,
    #[serde(rename = "firstIssued")]
    first_issued: Option<String>,
    #[serde(rename = "lastUpdated")]
    last_updated: Option<String>,
}

#[derive(Deserialize)]
struct RawAffects {
    #[serde(rename = "ref")]
    reference: Option<String>,
    #[serde(default)]
    versions: Vec<RawVersion>,
}

#[derive(Deserialize)]
struct RawVersion {
    version: Option<String>,
    range: Option<String>,
    status: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

fn collect_components(file: &str, raw: &RawComponent, path: &str, out: &mut Vec<VexComponent>) -> Result<(), VexError> {
    let kind = required(file, &raw.kind, &format!("{path}.type"))?;
    let name = required(file, &raw.name, &format!("{path}.name"))?;
    out.push(VexComponent {
        bom_ref: raw.bom_ref.clone(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        version: raw.version.clone(),
        cpe: raw.cpe.clone(),
        purl: raw.purl.clone(),
        group: raw.group.clone(),
        supplier: raw.supplier.as_ref().and_then(|s| s.name.clone()).or_else(|| raw.manufacturer.as_ref().and_then(|m| m.name.clone())),
    });
    for (i, c) in raw.components.iter().enumerate() {
        collect_components(file, c, &format!("{path}.components[{i}]"), out)?;
    }
    Ok(())
}

/// The CVSS version a rating describes, from its method or else its vector.
fn cvss_version(method: Option<&str>, vector: Option<&str>) -> Option<&'static str> {
    match method {
        Some("CVSSv2") => return Some("2.0"),
        Some("CVSSv3") => return Some("3.0"),
        Some("CVSSv31") => return Some("3.1"),
        Some("CVSSv4") => return Some("4.0"),
        Some("OWASP" | "SSVC") => return None,
        _ => {}
    }
    let v = vector?;
    if v.starts_with("CVSS:3.1/") {
        Some("3.1")
    } else if v.starts_with("CVSS:3.0/") {
        Some("3.0")
    } else if v.starts_with("CVSS:4.0/") {
        Some("4.0")
    } else if v.starts_with("AV:") && v.contains("/Au:") {
        Some("2.0")
    } else {
        None
    }
}

fn statement_cost(s: &VexStatement) -> usize {
    let opt = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    let component = s.component.as_ref().map_or(0, |c| {
        opt(&c.bom_ref) + c.kind.len() + c.name.len() + opt(&c.version) + opt(&c.cpe) + opt(&c.purl) + opt(&c.group) + opt(&c.supplier)
    });
    std::mem::size_of::<VexStatement>()
        + s.id.len()
        + opt(&s.source)
        + opt(&s.source_url)
        + s.bom_ref.len()
        + component
        + s.versions.iter().map(|(v, st)| v.len() + st.len() + 48).sum::<usize>()
        + opt(&s.justification)
        + s.responses.iter().map(|r| r.len() + 24).sum::<usize>()
        + opt(&s.detail)
        + s.ratings.iter().map(|c| std::mem::size_of::<Cvss>() + c.version.len() + c.source.len() + c.vector.len() + c.severity.len()).sum::<usize>()
        + s.cwes.len() * 4
        + opt(&s.description)
        + opt(&s.recommendation)
        + opt(&s.first_issued)
        + opt(&s.updated)
}

/// Reads a CycloneDX JSON document (1.2–1.7) and its `vulnerabilities[]`. A vulnerability
/// without `affects` gives no statement.
pub fn read_cyclonedx_vex<R: Read>(file: &str, reader: R) -> Result<VexDocument, VexError> {
    let bytes = read_capped(reader, MAX_BYTES)
        .map_err(|e| VexError::Read { file: file.to_owned(), reason: e.to_string() })?
        .ok_or_else(|| VexError::TooLarge { file: file.to_owned(), limit: MAX_BYTES })?;
    let raw: RawBom = serde_json::from_slice(&bytes).map_err(|e| VexError::Json { file: file.to_owned(), reason: e.to_string() })?;
    if raw.bom_format.as_deref() != Some("CycloneDX") {
        return Err(invalid(file, "bomFormat", "must be \"CycloneDX\""));
    }
    let spec_version = required(file, &raw.spec_version, "specVersion")?;
    one_of(file, spec_version, &SPEC_VERSIONS, "specVersion")?;

    let mut components = Vec::new();
    if let Some(c) = raw.metadata.as_ref().and_then(|m| m.component.as_ref()) {
        collect_components(file, c, "metadata.component", &mut components)?;
    }
    for (i, c) in raw.components.iter().enumerate() {
        collect_components(file, c, &format!("components[{i}]"), &mut components)?;
    }
    let mut by_ref: HashMap<&str, &VexComponent> = HashMap::new();
    for c in &components {
        if let Some(r) = c.bom_ref.as_deref() {
            by_ref.entry(r).or_insert(c);
        }
    }
    let serial = raw.serial_number.as_deref().map(str::to_ascii_lowercase);
    let resolve = |reference: &str| -> Option<VexComponent> {
        let local = match parse_bom_link(reference) {
            Some((s, _, r)) if Some(&s) == serial.as_ref() => r,
            Some(_) => return None,
            None => reference.to_owned(),
        };
        by_ref.get(local.as_str()).map(|c| (*c).clone())
    };

    let mut statements = Vec::new();
    let mut budget = EXPANSION_LIMIT;
    for (i, v) in raw.vulnerabilities.iter().enumerate() {
        let vp = format!("vulnerabilities[{i}]");
        let id = required(file, &v.id, &format!("{vp}.id"))?;
        let analysis = v.analysis.as_ref();
        let state = match analysis.and_then(|a| a.state.as_deref()) {
            Some(s) => Some(VexState::parse(s).ok_or_else(|| {
                invalid(file, format!("{vp}.analysis.state"), format!("{:?} is not one of resolved, resolved_with_pedigree, exploitable, in_triage, false_positive, not_affected", s.chars().take(60).collect::<String>()))
            })?),
            None => None,
        };
        let justification = analysis.and_then(|a| a.justification.clone());
        if let Some(j) = &justification {
            one_of(file, j, &JUSTIFICATIONS, &format!("{vp}.analysis.justification"))?;
        }
        let responses = analysis.map(|a| a.response.clone()).unwrap_or_default();
        for (k, r) in responses.iter().enumerate() {
            one_of(file, r, &RESPONSES, &format!("{vp}.analysis.response[{k}]"))?;
        }
        for (k, c) in v.cwes.iter().enumerate() {
            if *c == 0 {
                return Err(invalid(file, format!("{vp}.cwes[{k}]"), "CWE ids start at 1"));
            }
        }
        let vuln_source = v.source.as_ref().and_then(|s| s.name.clone());
        let mut ratings = Vec::new();
        for (k, r) in v.ratings.iter().enumerate() {
            let rp = format!("{vp}.ratings[{k}]");
            if let Some(m) = &r.method {
                one_of(file, m, &RATING_METHODS, &format!("{rp}.method"))?;
            }
            if let Some(sev) = &r.severity {
                one_of(file, sev, &SEVERITIES, &format!("{rp}.severity"))?;
            }
            let (Some(version), Some(score)) = (cvss_version(r.method.as_deref(), r.vector.as_deref()), r.score) else {
                continue;
            };
            ratings.push(Cvss {
                version: version.to_owned(),
                source: r.source.as_ref().and_then(|s| s.name.clone()).filter(|n| !n.is_empty()).or_else(|| vuln_source.clone()).unwrap_or_default(),
                primary: false,
                vector: r.vector.clone().unwrap_or_default(),
                base_score: score,
                severity: r.severity.clone().unwrap_or_default(),
            });
        }
        for (j, a) in v.affects.iter().enumerate() {
            let ap = format!("{vp}.affects[{j}]");
            let reference = required(file, &a.reference, &format!("{ap}.ref"))?;
            let mut versions = Vec::with_capacity(a.versions.len());
            for (k, ver) in a.versions.iter().enumerate() {
                let kp = format!("{ap}.versions[{k}]");
                let value = match (&ver.version, &ver.range) {
                    (Some(v), None) => v.clone(),
                    (None, Some(r)) if r.starts_with("vers:") => r.clone(),
                    (None, Some(_)) => return Err(invalid(file, format!("{kp}.range"), "a range is written in vers: syntax")),
                    _ => return Err(invalid(file, kp, "exactly one of version and range")),
                };
                let status = ver.status.clone().unwrap_or_else(|| "affected".to_owned());
                one_of(file, &status, &VERSION_STATUSES, &format!("{kp}.status"))?;
                versions.push((value, status));
            }
            let statement = VexStatement {
                id: id.to_owned(),
                source: vuln_source.clone(),
                source_url: v.source.as_ref().and_then(|s| s.url.clone()),
                bom_ref: reference.to_owned(),
                component: resolve(reference),
                versions,
                state,
                justification: justification.clone(),
                responses: responses.clone(),
                detail: analysis.and_then(|a| a.detail.clone()),
                ratings: ratings.clone(),
                cwes: v.cwes.clone(),
                description: v.description.clone(),
                recommendation: v.recommendation.clone(),
                first_issued: analysis.and_then(|a| a.first_issued.clone()),
                updated: v.updated.clone().or_else(|| analysis.and_then(|a| a.last_updated.clone())),
            };
            let cost = statement_cost(&statement);
            if cost > budget {
                return Err(invalid(file, ap, format!("the statements would take more than {EXPANSION_LIMIT} bytes; not read")));
            }
            budget -= cost;
            statements.push(statement);
        }
    }
    Ok(VexDocument {
        serial_number: raw.serial_number,
        version: raw.version,
        spec_version: spec_version.to_owned(),
        timestamp: raw.metadata.and_then(|m| m.timestamp),
        components,
        statements,
    })
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// A facility's VEX to publish: its assets and what is known about each vulnerability.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VexExport {
    /// `urn:uuid:…`, chosen by the caller (a new one for every document).
    pub serial_number: String,
    /// 1 for a new serial number, +1 for each revision.
    pub version: u64,
    /// RFC 3339 (`2024-03-12T09:00:00Z`).
    pub timestamp: String,
    /// Written as `metadata.manufacturer.name` (the organisation that made the BOM).
    pub facility: String,
    pub components: Vec<VexComponent>,
    /// One `vulnerabilities[]` entry each, with one `affects` entry (`bom_ref`).
    pub statements: Vec<VexStatement>,
}

fn put(obj: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        obj.insert(key.to_owned(), Value::String(v.clone()));
    }
}

fn component_json(c: &VexComponent) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), Value::String(if c.kind.is_empty() { "device".into() } else { c.kind.clone() }));
    put(&mut o, "bom-ref", &c.bom_ref);
    if let Some(s) = &c.supplier {
        o.insert("supplier".into(), json!({ "name": s }));
    }
    put(&mut o, "group", &c.group);
    o.insert("name".into(), Value::String(c.name.clone()));
    put(&mut o, "version", &c.version);
    put(&mut o, "cpe", &c.cpe);
    put(&mut o, "purl", &c.purl);
    Value::Object(o)
}

fn rating_json(c: &Cvss) -> Value {
    let mut o = Map::new();
    if !c.source.is_empty() {
        o.insert("source".into(), json!({ "name": c.source }));
    }
    o.insert("score".into(), json!(c.base_score));
    let severity = c.severity.to_ascii_lowercase();
    if SEVERITIES.contains(&severity.as_str()) {
        o.insert("severity".into(), Value::String(severity));
    }
    let method = match c.version.as_str() {
        "2.0" => "CVSSv2",
        "3.0" => "CVSSv3",
        "3.1" => "CVSSv31",
        "4.0" => "CVSSv4",
        _ => "other",
    };
    o.insert("method".into(), Value::String(method.into()));
    if !c.vector.is_empty() {
        o.insert("vector".into(), Value::String(c.vector.clone()));
    }
    Value::Object(o)
}

fn vulnerability_json(s: &VexStatement) -> Value {
    let mut o = Map::new();
    o.insert("id".into(), Value::String(s.id.clone()));
    if s.source.is_some() || s.source_url.is_some() {
        let mut src = Map::new();
        put(&mut src, "name", &s.source);
        put(&mut src, "url", &s.source_url);
        o.insert("source".into(), Value::Object(src));
    }
    if !s.ratings.is_empty() {
        o.insert("ratings".into(), Value::Array(s.ratings.iter().map(rating_json).collect()));
    }
    if !s.cwes.is_empty() {
        o.insert("cwes".into(), json!(s.cwes));
    }
    put(&mut o, "description", &s.description);
    put(&mut o, "recommendation", &s.recommendation);
    put(&mut o, "updated", &s.updated);
    let mut analysis = Map::new();
    if let Some(state) = s.state {
        analysis.insert("state".into(), Value::String(state.as_str().into()));
    }
    put(&mut analysis, "justification", &s.justification);
    if !s.responses.is_empty() {
        analysis.insert("response".into(), json!(s.responses));
    }
    put(&mut analysis, "detail", &s.detail);
    put(&mut analysis, "firstIssued", &s.first_issued);
    put(&mut analysis, "lastUpdated", &s.updated);
    if !analysis.is_empty() {
        o.insert("analysis".into(), Value::Object(analysis));
    }
    let mut affects = Map::new();
    affects.insert("ref".into(), Value::String(s.bom_ref.clone()));
    if !s.versions.is_empty() {
        let versions = s
            .versions
            .iter()
            .map(|(v, status)| {
                let key = if v.starts_with("vers:") { "range" } else { "version" };
                json!({ key: v, "status": status })
            })
            .collect();
        affects.insert("versions".into(), Value::Array(versions));
    }
    o.insert("affects".into(), json!([Value::Object(affects)]));
    Value::Object(o)
}

/// A CycloneDX 1.6 VEX document: the facility as BOM manufacturer, mamori as the tool, each
/// asset as a component and each statement as one vulnerability with one `affects` entry.
/// Values are written as given; [`read_cyclonedx_vex`] rejects justifications, responses and
/// version statuses outside [`JUSTIFICATIONS`], [`RESPONSES`] and [`VERSION_STATUSES`].
pub fn write_cyclonedx_vex(doc: &VexExport) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": doc.serial_number,
        "version": doc.version.max(1),
        "metadata": {
            "timestamp": doc.timestamp,
            "tools": {
                "components": [
                    { "type": "application", "name": "mamori", "version": env!("CARGO_PKG_VERSION") }
                ]
            },
            "manufacturer": { "name": doc.facility }
        },
        "components": doc.components.iter().map(component_json).collect::<Vec<_>>(),
        "vulnerabilities": doc.statements.iter().map(vulnerability_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/cyclonedx/");

    fn open(name: &str) -> Result<std::fs::File, Box<dyn std::error::Error>> {
        Ok(std::fs::File::open(format!("{DATA}{name}")).map_err(|e| format!("{DATA}{name}: {e}"))?)
    }

    #[test]
    fn the_cisa_vex_cases() -> TestResult {
        for (name, product, version, state, justification, responses) in [
            ("cisa-case1-vex-affected.json", "product-DEF", "1.0", VexState::Exploitable, None, vec!["will_not_fix", "update"]),
            ("cisa-case1-vex-fixed.json", "product-DEF", "1.1", VexState::Resolved, None, vec![]),
            ("cisa-case1-vex-not_affected.json", "product-ABC", "4.2", VexState::NotAffected, Some("code_not_present"), vec!["will_not_fix"]),
            ("cisa-case1-vex-under_investigation.json", "product-GHI", "17.4", VexState::InTriage, None, vec![]),
        ] {
            let doc = read_cyclonedx_vex(name, open(name)?)?;
            assert_eq!((doc.spec_version.as_str(), doc.version, doc.serial_number.as_deref()), ("1.4", Some(1), None), "{name}");
            assert_eq!(doc.timestamp.as_deref(), Some("2022-03-03T00:00:00Z"));
            assert_eq!(doc.components.len(), 1, "{name}: metadata.component");
            let [s] = doc.statements.as_slice() else {
                return Err(format!("{name}: {} statements", doc.statements.len()).into());
            };
            assert_eq!((s.id.as_str(), s.source.as_deref()), ("CVE-2021-44228", Some("NVD")));
            assert_eq!(s.source_url.as_deref(), Some("https://nvd.nist.gov/vuln/detail/CVE-2021-44228"));
            assert_eq!(s.bom_ref, product);
            let c = s.component.as_ref().ok_or("component resolved")?;
            assert_eq!((c.kind.as_str(), c.version.as_deref()), ("application", Some(version)));
            assert_eq!((s.state, s.justification.as_deref()), (Some(state), justification), "{name}");
            assert_eq!(s.responses, responses, "{name}");
            assert!(s.detail.as_deref().is_some_and(|d| d.starts_with("This version of Product")));
            assert!(s.versions.is_empty() && s.ratings.is_empty() && s.cwes.is_empty());
        }
        Ok(())
    }

    #[test]
    fn sboms_without_vulnerabilities() -> TestResult {
        // Spec 1.2, 903 components, no vulnerabilities: components only.
        let doc = read_cyclonedx_vex("keycloak.json", open("sbom-keycloak-10.0.2.json")?)?;
        assert_eq!((doc.spec_version.as_str(), doc.serial_number.as_deref()), ("1.2", Some("urn:uuid:411dafd2-c29f-491a-97d7-e97de5bc2289")));
        assert_eq!(doc.components.len(), 904);
        assert!(doc.statements.is_empty());
        let first = doc.components.get(1).ok_or("component")?;
        assert_eq!((first.name.as_str(), first.group.as_deref(), first.version.as_deref()), ("bcprov-jdk15on", Some("org.bouncycastle"), Some("1.62")));
        assert_eq!(first.purl.as_deref(), Some("pkg:maven/org.bouncycastle/bcprov-jdk15on@1.62?type=jar"));
        // Hardware BOM: supplier names, nested devices.
        let hbom = read_cyclonedx_vex("hbom.json", open("hbom-pcie-sata-adapter.json")?)?;
        let samtec = hbom.components.iter().find(|c| c.bom_ref.as_deref() == Some("PCIE-098-02-F-D-EMS2")).ok_or("samtec")?;
        assert_eq!((samtec.kind.as_str(), samtec.supplier.as_deref()), ("device", Some("Samtec")));
        Ok(())
    }

    fn mutate(name: &str, edit: impl FnOnce(&mut Value)) -> Result<Result<VexDocument, VexError>, Box<dyn std::error::Error>> {
        let mut v: Value = serde_json::from_reader(open(name)?)?;
        edit(&mut v);
        Ok(read_cyclonedx_vex("edited.json", serde_json::to_vec(&v)?.as_slice()))
    }

    /// Sets the member at `ptr`, creating it in its (existing) parent object.
    fn set(ptr: &'static str, value: Value) -> impl FnOnce(&mut Value) {
        move |v| {
            let (parent, key) = ptr.rsplit_once('/').unwrap_or(("", ptr));
            match v.pointer_mut(parent) {
                Some(Value::Object(o)) => {
                    o.insert(key.to_owned(), value);
                }
                Some(Value::Array(a)) => {
                    if let Some(slot) = key.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                        *slot = value;
                    }
                }
                _ => {}
            }
        }
    }

    fn path_of(r: Result<VexDocument, VexError>) -> Option<String> {
        r.err().and_then(|e| e.path().map(str::to_owned))
    }

    #[test]
    fn enumerations_and_shape_checked() -> TestResult {
        let na = "cisa-case1-vex-not_affected.json";
        assert_eq!(path_of(mutate(na, set("/vulnerabilities/0/analysis/state", json!("affected")))?).as_deref(), Some("vulnerabilities[0].analysis.state"));
        assert_eq!(
            path_of(mutate(na, set("/vulnerabilities/0/analysis/justification", json!("vulnerable_code_not_present")))?).as_deref(),
            Some("vulnerabilities[0].analysis.justification"),
            "a CSAF/OpenVEX justification is not a CycloneDX one"
        );
        assert_eq!(path_of(mutate(na, set("/vulnerabilities/0/analysis/response", json!(["update", "patch"])))?).as_deref(), Some("vulnerabilities[0].analysis.response[1]"));
        assert_eq!(path_of(mutate(na, set("/vulnerabilities/0/affects/0", json!({})))?).as_deref(), Some("vulnerabilities[0].affects[0].ref"));
        assert_eq!(
            path_of(mutate(na, set("/vulnerabilities/0/affects/0", json!({"ref": "product-ABC", "versions": [{"version": "4.2", "status": "fixed"}]})))?).as_deref(),
            Some("vulnerabilities[0].affects[0].versions[0].status")
        );
        assert_eq!(
            path_of(mutate(na, set("/vulnerabilities/0/affects/0", json!({"ref": "product-ABC", "versions": [{"version": "4.2", "range": "vers:generic/<5"}]})))?).as_deref(),
            Some("vulnerabilities[0].affects[0].versions[0]")
        );
        assert_eq!(path_of(mutate(na, set("/vulnerabilities/0/ratings", json!([{"method": "CVSSv5", "score": 1.0}])))?).as_deref(), Some("vulnerabilities[0].ratings[0].method"));
        assert_eq!(path_of(mutate(na, set("/vulnerabilities/0/ratings", json!([{"method": "CVSSv31", "score": 9.8, "severity": "CRITICAL"}])))?).as_deref(), Some("vulnerabilities[0].ratings[0].severity"));
        assert_eq!(path_of(mutate(na, set("/specVersion", json!("2.0")))?).as_deref(), Some("specVersion"));
        assert_eq!(path_of(mutate(na, set("/bomFormat", json!("SPDX")))?).as_deref(), Some("bomFormat"));
        assert_eq!(path_of(mutate(na, set("/metadata/component/name", json!("")))?).as_deref(), Some("metadata.component.name"));
        let err = read_cyclonedx_vex("x.json", &b"[]"[..]).err().ok_or("accepted")?;
        assert!(matches!(err, VexError::Json { .. }) && err.file() == "x.json");
        let big = std::io::repeat(b' ').take(MAX_BYTES + 1);
        assert!(matches!(read_cyclonedx_vex("big.json", big), Err(VexError::TooLarge { .. })));

        // Versions, ranges, ratings and a BOM-Link into the same BOM.
        let doc = mutate(na, |v| {
            if let Some(o) = v.as_object_mut() {
                o.insert("serialNumber".into(), json!("urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"));
            }
            set(
                "/vulnerabilities/0/affects",
                json!([
                    {"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#product-ABC",
                     "versions": [{"version": "4.2", "status": "unaffected"}, {"range": "vers:generic/<4.2"}]},
                    {"ref": "urn:cdx:00000000-0000-4000-8000-000000000000/3#product-ABC"}
                ]),
            )(v);
            set(
                "/vulnerabilities/0/ratings",
                json!([
                    {"source": {"name": "NVD"}, "score": 10.0, "severity": "critical", "method": "CVSSv31", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"},
                    {"score": 9.3, "vector": "AV:N/AC:M/Au:N/C:C/I:C/A:C"},
                    {"score": 8.0, "method": "OWASP"}
                ]),
            )(v);
        })??;
        let [local, foreign] = doc.statements.as_slice() else {
            return Err("two statements expected".into());
        };
        assert_eq!(local.component.as_ref().map(|c| c.name.as_str()), Some("ABC"));
        assert_eq!(local.versions, [("4.2".to_owned(), "unaffected".to_owned()), ("vers:generic/<4.2".to_owned(), "affected".to_owned())]);
        assert_eq!(foreign.component, None, "a BOM-Link to another BOM is not resolved here");
        assert_eq!(parse_bom_link(&foreign.bom_ref), Some(("urn:uuid:00000000-0000-4000-8000-000000000000".to_owned(), 3, "product-ABC".to_owned())));
        assert_eq!(local.ratings.iter().map(|r| (r.version.as_str(), r.source.as_str(), r.base_score)).collect::<Vec<_>>(), [("3.1", "NVD", 10.0), ("2.0", "NVD", 9.3)]);
        Ok(())
    }

    fn export() -> VexExport {
        let fortigate = VexComponent {
            bom_ref: Some("asset-12".into()),
            kind: "device".into(),
            name: "FortiGate 60F (受付)".into(),
            version: None,
            cpe: Some("cpe:2.3:h:fortinet:fortigate_60f:-:*:*:*:*:*:*:*".into()),
            purl: None,
            group: None,
            supplier: Some("Fortinet".into()),
        };
        let fortios = VexComponent {
            bom_ref: Some("asset-12-fw".into()),
            kind: "firmware".into(),
            name: "FortiOS".into(),
            version: Some("7.2.4".into()),
            cpe: Some("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*".into()),
            purl: None,
            group: None,
            supplier: Some("Fortinet".into()),
        };
        let viewer = VexComponent {
            bom_ref: Some("asset-31-app".into()),
            kind: "application".into(),
            name: "PACS Viewer".into(),
            version: Some("4.2".into()),
            cpe: None,
            purl: Some("pkg:generic/example-imaging/pacs-viewer@4.2".into()),
            group: Some("example-imaging".into()),
            supplier: Some("Example Imaging".into()),
        };
        let exploitable = VexStatement {
            id: "CVE-2024-21762".into(),
            source: Some("NVD".into()),
            source_url: Some("https://nvd.nist.gov/vuln/detail/CVE-2024-21762".into()),
            bom_ref: "asset-12-fw".into(),
            component: Some(fortios.clone()),
            versions: vec![("7.2.4".into(), "affected".into()), ("vers:generic/>=7.2.0|<=7.2.6".into(), "affected".into())],
            state: Some(VexState::Exploitable),
            justification: None,
            responses: vec!["update".into(), "workaround_available".into()],
            detail: Some("SSL VPN is enabled on the WAN interface.".into()),
            ratings: vec![Cvss {
                version: "3.1".into(),
                source: "NVD".into(),
                primary: false,
                vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
                base_score: 9.8,
                severity: "critical".into(),
            }],
            cwes: vec![787],
            description: Some("Out-of-bounds write in sslvpnd.".into()),
            recommendation: Some("Upgrade to 7.2.7.".into()),
            first_issued: Some("2024-02-09T01:00:00Z".into()),
            updated: Some("2024-02-10T08:30:00Z".into()),
        };
        let not_affected = VexStatement {
            id: "CVE-2021-44228".into(),
            source: Some("NVD".into()),
            bom_ref: "asset-31-app".into(),
            component: Some(viewer.clone()),
            state: Some(VexState::NotAffected),
            justification: Some("code_not_reachable".into()),
            detail: Some("ベンダーの VEX による (JNDI lookup は実行されない)".into()),
            ..VexStatement::default()
        };
        VexExport {
            serial_number: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79".into(),
            version: 2,
            timestamp: "2024-02-10T08:30:00Z".into(),
            facility: "やまなみ内科クリニック".into(),
            components: vec![fortigate, fortios, viewer],
            statements: vec![exploitable, not_affected],
        }
    }

    #[test]
    fn write_then_read_gives_the_same_statements() -> TestResult {
        let exp = export();
        let written = write_cyclonedx_vex(&exp);
        let doc = read_cyclonedx_vex("out.cdx.json", serde_json::to_vec_pretty(&written)?.as_slice())?;
        assert_eq!((doc.spec_version.as_str(), doc.version), ("1.6", Some(2)));
        assert_eq!(doc.serial_number.as_deref(), Some(exp.serial_number.as_str()));
        assert_eq!(doc.timestamp.as_deref(), Some(exp.timestamp.as_str()));
        assert_eq!(doc.components, exp.components);
        assert_eq!(doc.statements, exp.statements);
        // A CISA document read, written and read again keeps its statements.
        let cisa = read_cyclonedx_vex("na.json", open("cisa-case1-vex-not_affected.json")?)?;
        let again = write_cyclonedx_vex(&VexExport {
            serial_number: "urn:uuid:00000000-0000-4000-8000-000000000001".into(),
            version: 1,
            timestamp: "2022-03-03T00:00:00Z".into(),
            facility: "test".into(),
            components: cisa.components.clone(),
            statements: cisa.statements.clone(),
        });
        let back = read_cyclonedx_vex("again.json", serde_json::to_vec(&again)?.as_slice())?;
        assert_eq!(back.statements, cisa.statements);
        Ok(())
    }

    /// The written document against the structure of CycloneDX 1.6
    /// (CycloneDX/specification `schema/bom-1.6.schema.json`): required fields, enumerations and
    /// the properties allowed where the schema says `additionalProperties: false`.
    #[test]
    fn written_document_follows_the_1_6_schema() -> TestResult {
        fn keys_within(v: &Value, allowed: &[&str], what: &str) -> Result<(), String> {
            let obj = v.as_object().ok_or(format!("{what} is not an object"))?;
            match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
                Some(k) => Err(format!("{what}: {k} is not allowed")),
                None => Ok(()),
            }
        }
        fn text(v: &Value, key: &str) -> Option<String> {
            v.get(key).and_then(Value::as_str).map(str::to_owned)
        }
        let doc = write_cyclonedx_vex(&export());
        keys_within(
            &doc,
            &["$schema", "bomFormat", "specVersion", "serialNumber", "version", "metadata", "components", "services", "externalReferences", "dependencies", "compositions", "vulnerabilities", "annotations", "formulation", "declarations", "definitions", "properties", "signature"],
            "bom",
        )?;
        assert_eq!(text(&doc, "bomFormat").as_deref(), Some("CycloneDX"));
        assert_eq!(text(&doc, "specVersion").as_deref(), Some("1.6"));
        let serial = text(&doc, "serialNumber").ok_or("serialNumber")?;
        assert!(parse_bom_link(&format!("urn:cdx:{}/1#x", serial.trim_start_matches("urn:uuid:"))).is_some() && serial.starts_with("urn:uuid:"));
        assert!(doc.get("version").and_then(Value::as_u64).is_some_and(|v| v >= 1));

        let metadata = doc.get("metadata").ok_or("metadata")?;
        keys_within(metadata, &["timestamp", "lifecycles", "tools", "manufacturer", "authors", "component", "manufacture", "supplier", "licenses", "properties"], "metadata")?;
        keys_within(metadata.get("manufacturer").ok_or("manufacturer")?, &["bom-ref", "name", "address", "url", "contact"], "manufacturer")?;
        let tools = metadata.pointer("/tools/components").and_then(Value::as_array).ok_or("tools.components")?;
        for t in tools {
            assert!(text(t, "type").is_some_and(|k| COMPONENT_TYPES.contains(&k.as_str())) && text(t, "name").is_some());
        }

        let component_keys = [
            "type", "mime-type", "bom-ref", "supplier", "manufacturer", "authors", "author", "publisher", "group", "name", "version", "description", "scope", "hashes", "licenses", "copyright", "cpe", "purl", "omniborId", "swhid", "swid", "modified", "pedigree", "externalReferences", "properties", "components", "evidence", "releaseNotes", "modelCard", "data", "cryptoProperties", "signature", "tags",
        ];
        let components = doc.get("components").and_then(Value::as_array).ok_or("components")?;
        let mut refs = Vec::new();
        for c in components {
            keys_within(c, &component_keys, "component")?;
            assert!(text(c, "type").is_some_and(|k| COMPONENT_TYPES.contains(&k.as_str())), "component type");
            assert!(text(c, "name").is_some(), "component name is required");
            if let Some(s) = c.get("supplier") {
                keys_within(s, &["bom-ref", "name", "address", "url", "contact"], "supplier")?;
            }
            refs.extend(text(c, "bom-ref"));
        }

        let vulnerabilities = doc.get("vulnerabilities").and_then(Value::as_array).ok_or("vulnerabilities")?;
        assert_eq!(vulnerabilities.len(), 2);
        for v in vulnerabilities {
            keys_within(
                v,
                &["bom-ref", "id", "source", "references", "ratings", "cwes", "description", "detail", "recommendation", "workaround", "proofOfConcept", "advisories", "created", "published", "updated", "rejected", "credits", "tools", "analysis", "affects", "properties"],
                "vulnerability",
            )?;
            if let Some(s) = v.get("source") {
                keys_within(s, &["url", "name"], "source")?;
            }
            for r in v.get("ratings").and_then(Value::as_array).into_iter().flatten() {
                keys_within(r, &["source", "score", "severity", "method", "vector", "justification"], "rating")?;
                assert!(text(r, "method").is_some_and(|m| RATING_METHODS.contains(&m.as_str())));
                assert!(text(r, "severity").is_none_or(|s| SEVERITIES.contains(&s.as_str())));
                assert!(r.get("score").is_none_or(Value::is_number));
            }
            for c in v.get("cwes").and_then(Value::as_array).into_iter().flatten() {
                assert!(c.as_u64().is_some_and(|c| c >= 1), "cwes are integers ≥ 1");
            }
            let analysis = v.get("analysis").ok_or("analysis")?;
            keys_within(analysis, &["state", "justification", "response", "detail", "firstIssued", "lastUpdated"], "analysis")?;
            assert!(text(analysis, "state").is_some_and(|s| VexState::parse(&s).is_some()));
            assert!(text(analysis, "justification").is_none_or(|j| JUSTIFICATIONS.contains(&j.as_str())));
            for r in analysis.get("response").and_then(Value::as_array).into_iter().flatten() {
                assert!(r.as_str().is_some_and(|r| RESPONSES.contains(&r)));
            }
            let affects = v.get("affects").and_then(Value::as_array).ok_or("affects")?;
            for a in affects {
                keys_within(a, &["ref", "versions"], "affects")?;
                let r = text(a, "ref").ok_or("affects.ref is required")?;
                assert!(refs.contains(&r), "{r} names a component of the document");
                for ver in a.get("versions").and_then(Value::as_array).into_iter().flatten() {
                    keys_within(ver, &["version", "range", "status"], "versions")?;
                    assert!(ver.get("version").is_some() != ver.get("range").is_some(), "exactly one of version and range");
                    assert!(text(ver, "range").is_none_or(|r| r.starts_with("vers:")));
                    assert!(text(ver, "status").is_some_and(|s| VERSION_STATUSES.contains(&s.as_str())));
                }
            }
        }
        Ok(())
    }
}
