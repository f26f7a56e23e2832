//! End-of-support dates of operating systems and software, from the maintained data file
//! `content/lifecycle/eos.toml` (embedded at build time; edit the file, not the code).

use std::sync::OnceLock;

use mamori_model::Asset;
use serde::Deserialize;

/// One product line's end of support.
#[derive(Debug, Clone, Deserialize)]
pub struct EosEntry {
    pub name: String,
    /// Every one of these must appear in the lower-cased product text.
    #[serde(rename = "match")]
    pub pattern: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Last day of security updates, `YYYY-MM-DD`.
    pub until: String,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EosFile {
    os: Vec<EosEntry>,
    #[serde(default)]
    software: Vec<EosEntry>,
}

fn file() -> &'static EosFile {
    static TABLE: OnceLock<EosFile> = OnceLock::new();
    TABLE.get_or_init(|| {
        toml::from_str::<EosFile>(include_str!("../../../content/lifecycle/eos.toml"))
            .unwrap_or(EosFile { os: Vec::new(), software: Vec::new() })
    })
}

/// Every operating-system entry (for tests and the data page).
pub fn os_entries() -> &'static [EosEntry] {
    &file().os
}

fn find<'a>(table: &'a [EosEntry], text: &str) -> Option<&'a EosEntry> {
    let text = text.to_lowercase();
    table.iter().find(|e| {
        e.pattern.iter().all(|p| text.contains(p.as_str()))
            && !e.exclude.iter().any(|x| text.contains(x.as_str()))
    })
}

/// The entry matching an OS text such as `Windows Server 2012 R2`.
pub fn eos_for_os(text: &str) -> Option<&'static EosEntry> {
    find(&file().os, text)
}

/// The entry matching an asset's OS and version.
pub fn eos_for_asset(asset: &Asset) -> Option<&'static EosEntry> {
    let text = format!(
        "{} {}",
        asset.data.os.as_deref().unwrap_or(""),
        asset.data.os_version.as_deref().unwrap_or("")
    );
    eos_for_os(&text)
}

/// The entry matching installed software (`name version`), looked up in the software table and
/// then, because SBOMs and ledgers list operating systems as software too, the OS table.
pub fn eos_for_software(name: &str, version: Option<&str>) -> Option<&'static EosEntry> {
    let text = format!("{name} {}", version.unwrap_or(""));
    find(&file().software, &text).or_else(|| find(&file().os, &text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_loads_and_matches() {
        assert!(os_entries().len() >= 5);
        assert_eq!(eos_for_os("Windows Server 2012 R2").map(|e| e.until.as_str()), Some("2023-10-10"));
        assert!(eos_for_os("Windows 11 Pro 23H2").is_none_or(|e| e.name.contains("11")));
        assert!(eos_for_software("Microsoft SQL Server 2014", Some("12.0")).is_some());
    }
}
