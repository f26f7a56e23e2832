//! The embedded content: rule metadata, edge-device firmware, OS end-of-support dates.

use std::sync::OnceLock;

use mamori_model::network::Severity;
use serde::Deserialize;

use crate::Actor;

const RULES: &str = include_str!("../../../content/risk/rules.toml");
const EDGE_FIRMWARE: &str = include_str!("../../../content/risk/edge_firmware.toml");
const OS_EOS: &str = include_str!("../../../content/risk/os_eos.toml");

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RuleMeta {
    pub id: String,
    pub severity: Severity,
    pub actor: Actor,
    #[serde(default)]
    pub checklist: Vec<String>,
    #[serde(default)]
    pub guideline: Vec<String>,
    #[serde(default)]
    pub needs: String,
}

#[derive(Debug, Deserialize)]
struct RulesFile {
    rule: Vec<RuleMeta>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FirmwareKind {
    Exploited,
    Eos,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Firmware {
    pub os: String,
    pub from: String,
    pub fixed: String,
    pub kind: FirmwareKind,
    #[serde(default)]
    pub refs: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct FirmwareFile {
    firmware: Vec<Firmware>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsEos {
    pub name: String,
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub until: String,
}

#[derive(Debug, Deserialize)]
struct OsFile {
    os: Vec<OsEos>,
}

/// Rule metadata in file order. A file that does not parse is a build defect caught by the
/// tests; at run time it degrades to no rules metadata.
pub(crate) fn rules() -> &'static [RuleMeta] {
    static R: OnceLock<Vec<RuleMeta>> = OnceLock::new();
    R.get_or_init(|| toml::from_str::<RulesFile>(RULES).map(|f| f.rule).unwrap_or_default())
}

pub(crate) fn rule_meta(id: &str) -> Option<&'static RuleMeta> {
    rules().iter().find(|r| r.id == id)
}

pub(crate) fn firmware() -> &'static [Firmware] {
    static F: OnceLock<Vec<Firmware>> = OnceLock::new();
    F.get_or_init(|| toml::from_str::<FirmwareFile>(EDGE_FIRMWARE).map(|f| f.firmware).unwrap_or_default())
}

pub(crate) fn os_eos() -> &'static [OsEos] {
    static O: OnceLock<Vec<OsEos>> = OnceLock::new();
    O.get_or_init(|| toml::from_str::<OsFile>(OS_EOS).map(|f| f.os).unwrap_or_default())
}

/// Whether the embedded files parse (for tests).
pub fn check_tables() -> Result<(usize, usize, usize), String> {
    let r = toml::from_str::<RulesFile>(RULES).map_err(|e| format!("rules.toml: {e}"))?;
    let f = toml::from_str::<FirmwareFile>(EDGE_FIRMWARE).map_err(|e| format!("edge_firmware.toml: {e}"))?;
    let o = toml::from_str::<OsFile>(OS_EOS).map_err(|e| format!("os_eos.toml: {e}"))?;
    Ok((r.rule.len(), f.firmware.len(), o.os.len()))
}

/// The numbers of a version string: `7.2.4 (build1396)` → [7, 2, 4]; `Rev.14.01.38` →
/// [14, 1, 38]. The first run of digits and dots.
pub(crate) fn version_numbers(v: &str) -> Vec<u64> {
    let start = v.find(|c: char| c.is_ascii_digit());
    let Some(start) = start else { return Vec::new() };
    let rest = v.get(start..).unwrap_or("");
    let run: String = rest.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    run.split('.').filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect()
}

fn cmp_versions(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        match x.cmp(&y) {
            std::cmp::Ordering::Equal => {}
            other => return other,
        }
    }
    std::cmp::Ordering::Equal
}

/// Table entries matching an edge device's OS and firmware version.
pub(crate) fn firmware_matches(os: &str, version: &str) -> Vec<&'static Firmware> {
    let os = os.to_lowercase();
    let v = version_numbers(version);
    if v.is_empty() {
        return Vec::new();
    }
    firmware()
        .iter()
        .filter(|f| os.contains(&f.os))
        .filter(|f| {
            cmp_versions(&v, &version_numbers(&f.from)) != std::cmp::Ordering::Less
                && cmp_versions(&v, &version_numbers(&f.fixed)) == std::cmp::Ordering::Less
        })
        .collect()
}

/// The end-of-support entry of an OS text, if the table knows it.
pub(crate) fn os_entry(os: &str, version: Option<&str>) -> Option<&'static OsEos> {
    let text = format!("{} {}", os, version.unwrap_or("")).to_lowercase();
    os_eos().iter().find(|e| {
        e.matches.iter().all(|m| text.contains(m.as_str())) && !e.exclude.iter().any(|x| text.contains(x.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        let (r, f, o) = check_tables().unwrap_or_default();
        assert!(r >= 14 && f >= 3 && o >= 10, "{r} {f} {o}");
    }

    #[test]
    fn versions_compare() {
        assert_eq!(version_numbers("7.2.4 (build1396)"), vec![7, 2, 4]);
        assert_eq!(version_numbers("Rev.14.01.38"), vec![14, 1, 38]);
        assert_eq!(firmware_matches("FortiOS", "7.2.4 (build1396)").len(), 1);
        assert!(firmware_matches("FortiOS", "7.2.7").is_empty());
        assert!(firmware_matches("FortiOS", "7.4.1").is_empty());
        assert!(os_entry("Windows 10 Pro", Some("22H2")).is_some_and(|e| e.until == "2025-10-14"));
        assert!(
            os_entry("Windows 10 IoT Enterprise 2016 LTSB", Some("1607")).is_some_and(|e| e.until == "2026-10-13")
        );
        assert!(os_entry("Windows 11 Pro", Some("24H2")).is_none());
    }
}
