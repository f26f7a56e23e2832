//! Message catalogs: everything a user reads, Japanese first, English available.
//!
//! The catalogs are TOML files in `content/i18n/` (one per language), embedded in the binary.
//! Nested tables flatten to dotted keys (`[asset_kind] server = "サーバ"` → `asset_kind.server`).
//! A key missing from English falls back to Japanese; a key missing everywhere shows as itself,
//! and a unit test keeps the two catalogs' key sets equal so that never happens in a release.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// A language of the user interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" | "jp" => Ok(Lang::Ja),
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            other => Err(format!("unsupported language `{other}` (ja, en)")),
        }
    }
}

/// Each language's catalog is several files: the main one and one per large capability, so
/// that a capability's wording lives beside its peers. Keys must not repeat across files.
const JA_SOURCES: &[&str] = &[
    include_str!("../../../content/i18n/ja.toml"),
    include_str!("../../../content/i18n/ja/diagram.toml"),
    include_str!("../../../content/i18n/ja/risk.toml"),
];
const EN_SOURCES: &[&str] = &[
    include_str!("../../../content/i18n/en.toml"),
    include_str!("../../../content/i18n/en/diagram.toml"),
    include_str!("../../../content/i18n/en/risk.toml"),
];

type Messages = BTreeMap<String, String>;

struct Catalogs {
    ja: Messages,
    en: Messages,
}

fn catalogs() -> &'static Catalogs {
    static CATALOGS: OnceLock<Catalogs> = OnceLock::new();
    CATALOGS.get_or_init(|| Catalogs {
        // A catalog that does not parse is a build defect caught by the unit tests; at run time
        // it degrades to showing keys rather than refusing to start.
        ja: parse_all(JA_SOURCES).unwrap_or_default(),
        en: parse_all(EN_SOURCES).unwrap_or_default(),
    })
}

/// Parses one catalog into flat dotted keys.
pub fn parse(source: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = source.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

/// Parses the files of one language into one catalog; a key defined twice is an error.
pub fn parse_all(sources: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (i, source) in sources.iter().enumerate() {
        for (k, v) in parse(source).map_err(|e| format!("catalog file {i}: {e}"))? {
            if out.insert(k.clone(), v).is_some() {
                return Err(format!("catalog file {i}: key `{k}` is already defined"));
            }
        }
    }
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Messages) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out)?,
            _ => return Err(format!("catalog key `{key}` is not a string")),
        }
    }
    Ok(())
}

/// The message for `key` in `lang`.
pub fn t(lang: Lang, key: &str) -> &str {
    let c = catalogs();
    let primary = match lang {
        Lang::Ja => &c.ja,
        Lang::En => &c.en,
    };
    primary
        .get(key)
        .or_else(|| c.ja.get(key))
        .map(String::as_str)
        .unwrap_or(key)
}

/// The message for `key` with `{name}` placeholders replaced.
pub fn tf(lang: Lang, key: &str, args: &[(&str, &dyn fmt::Display)]) -> String {
    let mut s = t(lang, key).to_owned();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), &value.to_string());
    }
    s
}

/// The label of an asset attribute: the catalog's `attr.<key>` for the attributes mamori's
/// imports write (`hostname`, `nmap.open_ports` …), else the key itself (a ledger's own column
/// name, which is already in the facility's words).
pub fn attr_label(lang: Lang, key: &str) -> String {
    let k = format!("attr.{key}");
    if has(&k) { t(lang, &k).to_owned() } else { key.to_owned() }
}

/// Whether a key exists in the Japanese catalog (the reference one).
pub fn has(key: &str) -> bool {
    catalogs().ja.contains_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_parse_and_have_the_same_keys() {
        let ja = parse_all(JA_SOURCES).expect("ja catalog");
        let en = parse_all(EN_SOURCES).expect("en catalog");
        let only_ja: Vec<_> = ja.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !ja.contains_key(*k)).collect();
        assert!(only_ja.is_empty(), "missing in en.toml: {only_ja:?}");
        assert!(only_en.is_empty(), "missing in ja.toml: {only_en:?}");
        assert!(ja.len() > 50);
    }

    #[test]
    fn lookup_and_placeholders() {
        assert_eq!(t(Lang::Ja, "asset_kind.vpn_utm"), "VPN装置・UTM");
        assert_eq!(t(Lang::En, "asset_kind.vpn_utm"), "VPN / UTM");
        assert_eq!(t(Lang::En, "no.such.key"), "no.such.key");
        let s = tf(Lang::Ja, "dashboard.assets_total", &[("n", &42)]);
        assert!(s.contains("42"), "{s}");
    }
}
