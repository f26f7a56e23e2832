//! CPE names suggested from what a ledger says about a device: maker (メーカー), model (型番),
//! OS or firmware name and version. Japanese maker names go through a maintained alias table
//! (`content/vuln/aliases.toml`: ヤマハ → yamaha, 富士通 → fujitsu …).
//!
//! A suggestion is only that: the manager confirms or rejects it, and until then matches
//! through it are capped at fuzzy confidence.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::cpe::{Cpe, Tok, Value};

#[derive(Debug, Deserialize)]
struct AliasFile {
    vendors: BTreeMap<String, String>,
    #[serde(default)]
    os: Vec<OsRule>,
    #[serde(default)]
    firmware: Vec<FirmwareRule>,
}

#[derive(Debug, Deserialize)]
struct OsRule {
    contains: String,
    cpe: String,
    #[serde(default)]
    update: Option<String>,
    /// Only for this vendor (short names such as "ios" are ambiguous).
    #[serde(default)]
    vendor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FirmwareRule {
    vendor: String,
    template: String,
}

const ALIASES: &str = include_str!("../../../content/vuln/aliases.toml");

fn aliases() -> Option<&'static AliasFile> {
    static FILE: OnceLock<Option<AliasFile>> = OnceLock::new();
    FILE.get_or_init(|| toml::from_str(ALIASES).ok()).as_ref()
}

/// Lower case, without spaces and company suffixes: the key of the alias table.
fn key(name: &str) -> String {
    let mut s = name.to_lowercase();
    for w in ["株式会社", "(株)", "（株）", "有限会社", "co.,ltd.", "co., ltd.", "corporation", "corp.", "inc.", "ltd.", ",inc", "incorporated"] {
        s = s.replace(w, "");
    }
    s.chars().filter(|c| !c.is_whitespace() && *c != ',').collect()
}

/// The CPE vendor for a maker name, from the alias table, or the name itself when it is
/// already a plausible CPE vendor (ASCII letters, digits, `-`, `_`).
pub fn vendor_alias(name: &str) -> Option<String> {
    let k = key(name);
    if k.is_empty() {
        return None;
    }
    if let Some(v) = aliases().and_then(|a| a.vendors.get(&k)) {
        return Some(v.clone());
    }
    k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_').then_some(k)
}

/// The version as CPEs write it: the first run of digits and dots (`Rev.14.01.38` → `14.01.38`,
/// `7.2.4 (build1396)` → `7.2.4`, `v1.11` → `1.11`).
pub fn normalize_version(v: &str) -> Option<String> {
    let start = v.find(|c: char| c.is_ascii_digit())?;
    let rest = v.get(start..)?;
    let out: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-').collect();
    let out = out.trim_end_matches(['.', '-']).to_lowercase();
    (!out.is_empty()).then_some(out)
}

/// A model number as NVD names hardware (`RTX1210` → `rtx1210`, `USG FLEX 100` → `usg_flex_100`).
pub fn normalize_model(m: &str) -> Option<String> {
    let s: String = m.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join("_");
    let s: String = s.chars().filter(|c| c.is_ascii_alphanumeric() || "_-.+".contains(*c)).collect();
    (!s.is_empty()).then_some(s)
}

/// What a ledger says about a device.
#[derive(Debug, Clone, Default)]
pub struct DeviceNames<'a> {
    pub vendor: Option<&'a str>,
    pub product: Option<&'a str>,
    pub model: Option<&'a str>,
    pub os: Option<&'a str>,
    pub os_version: Option<&'a str>,
    /// A network device, NAS, printer or similar appliance (hardware names are suggested).
    pub appliance: bool,
}

/// One suggested name and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub cpe: String,
    /// The ledger values it was made from, in words.
    pub basis: String,
}

fn lit(s: &str) -> Value {
    Value::Text(s.chars().map(Tok::Char).collect())
}

fn build(part_vendor_product: &str, version: Option<&str>, update: Option<&str>) -> Option<Cpe> {
    let mut it = part_vendor_product.split(':');
    let (part, vendor, product) = (it.next()?, it.next()?, it.next()?);
    let mut c = Cpe::default();
    for v in c.values.iter_mut() {
        *v = Value::Any;
    }
    let vals = &mut c.values;
    *vals.get_mut(0)? = lit(part);
    *vals.get_mut(1)? = lit(vendor);
    *vals.get_mut(2)? = lit(product);
    *vals.get_mut(3)? = match version {
        Some(v) => lit(v),
        None => Value::Any,
    };
    if let Some(u) = update {
        *vals.get_mut(4)? = lit(u);
    }
    Some(c)
}

/// Suggests CPE names for a device.
pub fn suggest(d: &DeviceNames<'_>) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = Vec::new();
    let Some(table) = aliases() else { return out };
    let vendor = d.vendor.and_then(vendor_alias);
    let version = d.os_version.and_then(normalize_version);
    let mut push = |cpe: Option<Cpe>, basis: String| {
        if let Some(c) = cpe {
            let fs = c.to_fs();
            if !out.iter().any(|s| s.cpe == fs) {
                out.push(Suggestion { cpe: fs, basis });
            }
        }
    };
    let vtext = d.os_version.map(|v| format!("、バージョン「{v}」")).unwrap_or_default();
    let mut os_done = false;
    if let Some(os) = d.os {
        let k = key(os);
        if let Some(rule) = table
            .os
            .iter()
            .find(|r| k.contains(&r.contains) && r.vendor.as_ref().is_none_or(|v| vendor.as_deref() == Some(v.as_str())))
        {
            push(build(&rule.cpe, version.as_deref(), rule.update.as_deref()), format!("OS「{os}」{vtext}"));
            os_done = true;
        }
    }
    let model = d.model.or(d.product).and_then(normalize_model);
    if let (Some(v), Some(m)) = (&vendor, &model) {
        if !os_done
            && let Some(rule) = table.firmware.iter().find(|r| r.vendor == *v)
        {
            let pvp = rule.template.replace("{model}", m);
            let basis = format!("メーカー「{}」・型番「{}」{vtext}", d.vendor.unwrap_or_default(), d.model.or(d.product).unwrap_or_default());
            push(build(&pvp, version.as_deref(), None), basis);
        }
        if d.appliance {
            let mut hw = build(&format!("h:{v}:{m}"), None, None);
            if let Some(c) = hw.as_mut()
                && let Some(slot) = c.values.get_mut(3)
            {
                *slot = Value::Na;
            }
            push(hw, format!("メーカー「{}」・型番「{}」（ハードウェア）", d.vendor.unwrap_or_default(), d.model.or(d.product).unwrap_or_default()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_makers_and_vendor_version_shapes() {
        assert_eq!(vendor_alias("ヤマハ株式会社").as_deref(), Some("yamaha"));
        assert_eq!(vendor_alias("富士通").as_deref(), Some("fujitsu"));
        assert_eq!(vendor_alias("株式会社バッファロー").as_deref(), Some("buffalo"));
        assert_eq!(vendor_alias("Fortinet, Inc.").as_deref(), Some("fortinet"));
        assert_eq!(vendor_alias("なにわ医療システム"), None, "unknown Japanese names are not guessed");
        assert_eq!(normalize_version("Rev.14.01.38").as_deref(), Some("14.01.38"));
        assert_eq!(normalize_version("7.2.4 (build1396)").as_deref(), Some("7.2.4"));
        assert_eq!(normalize_model("USG FLEX 100").as_deref(), Some("usg_flex_100"));
    }

    #[test]
    fn suggestions_for_ledger_rows() {
        let s = suggest(&DeviceNames {
            vendor: Some("ヤマハ"),
            model: Some("RTX1210"),
            os: Some("RTX1210 ファームウェア"),
            os_version: Some("Rev.14.01.38"),
            appliance: true,
            ..DeviceNames::default()
        });
        let names: Vec<&str> = s.iter().map(|s| s.cpe.as_str()).collect();
        assert_eq!(names, ["cpe:2.3:o:yamaha:rtx1210_firmware:14.01.38:*:*:*:*:*:*:*", "cpe:2.3:h:yamaha:rtx1210:-:*:*:*:*:*:*:*"]);
        let s = suggest(&DeviceNames { vendor: Some("Fortinet"), model: Some("FG-60F"), os: Some("FortiOS"), os_version: Some("7.2.4 (build1396)"), appliance: true, ..DeviceNames::default() });
        assert_eq!(s.first().map(|s| s.cpe.as_str()), Some("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"));
        assert!(s.first().is_some_and(|s| s.basis.contains("FortiOS")));
        let s = suggest(&DeviceNames { vendor: Some("Microsoft"), os: Some("Windows Server 2012 R2 Standard"), os_version: Some("6.3 (Build 9600)"), ..DeviceNames::default() });
        assert_eq!(s.first().map(|s| s.cpe.as_str()), Some("cpe:2.3:o:microsoft:windows_server_2012:6.3:r2:*:*:*:*:*:*"));
    }
}
