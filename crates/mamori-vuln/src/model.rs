//! The shapes every feed reader hands over. NVD records map onto them one to one; JVN, CSAF and
//! VEX readers produce their own statements ([`crate::jvn`], [`crate::csaf`], [`crate::vex`]) but
//! reuse [`Cvss`], [`Reference`] and [`Text`].
//!
//! All of it is serde-serialisable: the store keeps a CVE's configuration tree as one JSON value
//! so that the matcher evaluates exactly what the feed said (AND/OR/negate, platform nodes).

use serde::{Deserialize, Serialize};

/// `AND` or `OR` of a configuration or a node. NVD leaves it out on single-node configurations,
/// which means OR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Operator {
    #[default]
    #[serde(rename = "OR")]
    Or,
    #[serde(rename = "AND")]
    And,
}

/// One `cpeMatch` of an NVD node: a CPE 2.3 match string and an optional version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CpeMatch {
    /// `false` for platform entries (the hardware a firmware runs on): they must be present
    /// but are not what is vulnerable.
    pub vulnerable: bool,
    /// CPE 2.3 formatted string as NVD wrote it (backslash quoting kept).
    pub criteria: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_criteria_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_start_excluding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_including: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_end_excluding: Option<String>,
}

/// A node: `cpe_match` entries combined by `operator`, then negated when `negate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Node {
    #[serde(default)]
    pub operator: Operator,
    #[serde(default)]
    pub negate: bool,
    pub cpe_match: Vec<CpeMatch>,
}

/// One applicability statement. A CVE's configurations are OR-ed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Configuration {
    #[serde(default)]
    pub operator: Operator,
    #[serde(default)]
    pub negate: bool,
    pub nodes: Vec<Node>,
}

/// A CVSS score as one source gave it. NVD carries several per version (NVD's own, the CNA's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Cvss {
    /// "2.0", "3.0", "3.1" or "4.0".
    pub version: String,
    /// Who scored it (`nvd@nist.gov`, `psirt@fortinet.com`, "JVN", a CSAF publisher …).
    pub source: String,
    /// NVD's `type: Primary` (as opposed to `Secondary`).
    pub primary: bool,
    pub vector: String,
    pub base_score: f64,
    /// `CRITICAL`, `HIGH` … as given (upper case for NVD).
    pub severity: String,
}

/// A text in one language (`en`, `es`, `ja` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Text {
    pub lang: String,
    pub value: String,
}

/// A link with the feed's tags (`Vendor Advisory`, `Patch` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reference {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

/// The KEV fields NVD embeds in a record it knows to be exploited (`cisaExploitAdd` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EmbeddedKev {
    /// YYYY-MM-DD.
    pub date_added: String,
    /// YYYY-MM-DD, as given (it can precede `date_added`).
    pub due_date: String,
    pub required_action: String,
    pub name: String,
}

/// One CVE as NVD's API 2.0 describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CveRecord {
    /// `CVE-YYYY-N…`.
    pub id: String,
    pub source_identifier: String,
    /// ISO-8601 as given (UTC without zone, millisecond precision).
    pub published: String,
    pub last_modified: String,
    /// `Analyzed`, `Modified`, `Awaiting Analysis`, `Deferred` … (`Rejected` records are never
    /// handed over).
    pub status: String,
    pub tags: Vec<String>,
    pub descriptions: Vec<Text>,
    pub cvss: Vec<Cvss>,
    /// `CWE-787`, `NVD-CWE-noinfo` …
    pub cwes: Vec<String>,
    pub kev: Option<EmbeddedKev>,
    /// Absent (empty) for records NVD has not analysed yet.
    pub configurations: Vec<Configuration>,
    pub references: Vec<Reference>,
}

impl CveRecord {
    /// The English description, or the first one.
    pub fn description(&self, lang: &str) -> Option<&str> {
        self.descriptions
            .iter()
            .find(|d| d.lang == lang)
            .or_else(|| self.descriptions.first())
            .map(|d| d.value.as_str())
    }

    /// The score to rank by: CVSS 3.x (what NVD and most CNAs score), then 4.0, then 2.0; the
    /// Primary entry before a Secondary one.
    pub fn best_cvss(&self) -> Option<&Cvss> {
        let rank = |c: &Cvss| {
            let v = match c.version.as_str() {
                "3.1" => 4,
                "3.0" => 3,
                "4.0" => 2,
                _ => 1,
            };
            (v, c.primary)
        };
        self.cvss.iter().max_by_key(|c| rank(c))
    }
}
