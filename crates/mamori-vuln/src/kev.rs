//! The CISA Known Exploited Vulnerabilities catalog, as JSON or CSV
//! (`known_exploited_vulnerabilities.json|csv`, schema cisagov/kev-data).
//!
//! Dates are data, not assumptions: a `dueDate` may come before its `dateAdded` (some entries
//! of the catalog do), so both are kept as given. `vendorProject` is free text with stray
//! spaces, trimmed here. An entry that breaks the schema is reported with its position and
//! field; the others are kept.

use std::io::Read;

use serde::Deserialize;

/// One catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KevEntry {
    pub cve: String,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    /// YYYY-MM-DD.
    pub date_added: String,
    /// YYYY-MM-DD; may be earlier than `date_added`.
    pub due_date: String,
    pub required_action: String,
    pub short_description: String,
    /// `Known`: used in ransomware campaigns.
    pub ransomware: bool,
    pub cwes: Vec<String>,
    pub notes: String,
}

/// A catalog as read.
#[derive(Debug, Clone, Default)]
pub struct KevCatalog {
    pub version: Option<String>,
    pub released: Option<String>,
    pub entries: Vec<KevEntry>,
    /// Entries that could not be read: position (1-based entry or CSV line), field, reason.
    pub rejected: Vec<(u64, String, String)>,
}

/// Why a catalog could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum KevError {
    #[error("{file}: not a KEV catalog: {reason}")]
    Format { file: String, reason: String },
}

#[derive(Deserialize)]
struct RawCatalog {
    #[serde(rename = "catalogVersion")]
    catalog_version: Option<String>,
    #[serde(rename = "dateReleased")]
    date_released: Option<String>,
    vulnerabilities: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(rename = "vendorProject")]
    vendor_project: String,
    product: String,
    #[serde(rename = "vulnerabilityName")]
    vulnerability_name: String,
    #[serde(rename = "dateAdded")]
    date_added: String,
    #[serde(rename = "shortDescription")]
    short_description: String,
    #[serde(rename = "requiredAction")]
    required_action: String,
    #[serde(rename = "dueDate")]
    due_date: String,
    #[serde(rename = "knownRansomwareCampaignUse", default)]
    ransomware: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    cwes: Vec<String>,
}

fn valid_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && (4..=19).contains(&num.len()) && num.bytes().all(|b| b.is_ascii_digit())
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn check(raw: RawEntry) -> Result<KevEntry, (String, String)> {
    if !valid_cve(&raw.cve_id) {
        return Err(("cveID".into(), format!("{:?} is not a CVE id", raw.cve_id.chars().take(40).collect::<String>())));
    }
    for (field, d) in [("dateAdded", &raw.date_added), ("dueDate", &raw.due_date)] {
        if !valid_date(d) {
            return Err((field.into(), format!("{:?} is not YYYY-MM-DD", d.chars().take(40).collect::<String>())));
        }
    }
    let ransomware = match raw.ransomware.as_deref().map(str::trim) {
        None | Some("Unknown" | "") => false,
        Some("Known") => true,
        Some(other) => return Err(("knownRansomwareCampaignUse".into(), format!("{other:?} (Known or Unknown)"))),
    };
    Ok(KevEntry {
        cve: raw.cve_id,
        vendor_project: raw.vendor_project.trim().to_owned(),
        product: raw.product.trim().to_owned(),
        name: raw.vulnerability_name,
        date_added: raw.date_added,
        due_date: raw.due_date,
        required_action: raw.required_action,
        short_description: raw.short_description,
        ransomware,
        cwes: raw.cwes.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        notes: raw.notes.unwrap_or_default(),
    })
}

/// Reads the JSON catalog.
pub fn parse_kev_json(file: &str, reader: impl Read) -> Result<KevCatalog, KevError> {
    let raw: RawCatalog = serde_json::from_reader(reader.take(64 * 1024 * 1024))
        .map_err(|e| KevError::Format { file: file.to_owned(), reason: e.to_string() })?;
    let mut cat = KevCatalog { version: raw.catalog_version, released: raw.date_released, ..Default::default() };
    for (i, v) in raw.vulnerabilities.into_iter().enumerate() {
        let pos = i as u64 + 1;
        match serde_json::from_value::<RawEntry>(v).map_err(|e| ("entry".to_owned(), e.to_string())).and_then(check) {
            Ok(e) => cat.entries.push(e),
            Err((field, reason)) => cat.rejected.push((pos, field, reason)),
        }
    }
    Ok(cat)
}

/// Reads the CSV catalog (same columns; `cwes` as `"CWE-59, CWE-436"`).
pub fn parse_kev_csv(file: &str, reader: impl Read) -> Result<KevCatalog, KevError> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers = rdr.headers().map_err(|e| KevError::Format { file: file.to_owned(), reason: e.to_string() })?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let Some(cve_col) = col("cveID") else {
        return Err(KevError::Format { file: file.to_owned(), reason: "no cveID column".into() });
    };
    let get = |r: &csv::StringRecord, name: &str| col(name).and_then(|i| r.get(i)).unwrap_or_default().to_owned();
    let mut cat = KevCatalog::default();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                cat.rejected.push((line, "record".into(), e.to_string()));
                continue;
            }
        };
        let raw = RawEntry {
            cve_id: rec.get(cve_col).unwrap_or_default().to_owned(),
            vendor_project: get(&rec, "vendorProject"),
            product: get(&rec, "product"),
            vulnerability_name: get(&rec, "vulnerabilityName"),
            date_added: get(&rec, "dateAdded"),
            short_description: get(&rec, "shortDescription"),
            required_action: get(&rec, "requiredAction"),
            due_date: get(&rec, "dueDate"),
            ransomware: Some(get(&rec, "knownRansomwareCampaignUse")),
            notes: Some(get(&rec, "notes")),
            cwes: get(&rec, "cwes").split(',').map(str::to_owned).collect(),
        };
        match check(raw) {
            Ok(e) => cat.entries.push(e),
            Err((field, reason)) => cat.rejected.push((line, field, reason)),
        }
    }
    Ok(cat)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/kev/known_exploited_vulnerabilities.json");

    fn days(d: &str) -> i64 {
        let y: i64 = d.get(..4).and_then(|x| x.parse().ok()).unwrap_or(0);
        let m: i64 = d.get(5..7).and_then(|x| x.parse().ok()).unwrap_or(0);
        let dd: i64 = d.get(8..10).and_then(|x| x.parse().ok()).unwrap_or(0);
        // Days from civil (Howard Hinnant), enough to compare gaps.
        let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * m + 2) / 5 + dd - 1;
        era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy
    }

    #[test]
    fn the_real_catalog_as_measured() {
        let Ok(file) = std::fs::File::open(DATA) else {
            panic!("{DATA} missing");
        };
        let cat = parse_kev_json("kev.json", file).unwrap();
        assert_eq!(cat.version.as_deref(), Some("2025.08.25"));
        assert!(cat.rejected.is_empty(), "{:?}", cat.rejected.first());
        assert_eq!(cat.entries.len(), 1404);
        assert_eq!(cat.entries.iter().filter(|e| e.ransomware).count(), 293);
        assert_eq!(cat.entries.iter().filter(|e| e.cwes.is_empty()).count(), 152);
        // Due dates before the date added are kept as they are: 15 entries (gaps of −194 days ×7,
        // −201 ×4, −106, −408, −467, −644; counted independently with Python's datetime).
        let negative = cat.entries.iter().filter(|e| days(&e.due_date) < days(&e.date_added)).count();
        assert_eq!(negative, 15);
        // Vendor names are trimmed; edge vendors are there.
        assert!(cat.entries.iter().all(|e| e.vendor_project == e.vendor_project.trim()));
        assert_eq!(cat.entries.iter().filter(|e| e.vendor_project == "Fortinet").count(), 20);
    }

    #[test]
    fn csv_and_bad_entries() {
        let csv = "cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes\n\
                   CVE-2018-13379,Fortinet ,FortiOS,Path Traversal,2021-11-03,d,a,2022-05-03,Known,n,\"CWE-22, CWE-23\"\n\
                   CVE-20X-1,V,P,N,2021-11-03,d,a,2022-05-03,Unknown,,\n\
                   CVE-2022-40684,Fortinet,FortiOS,Auth bypass,2022-10-11,d,a,2022/11/01,Unknown,,\n";
        let cat = parse_kev_csv("kev.csv", csv.as_bytes()).unwrap();
        assert_eq!(cat.entries.len(), 1);
        let e = &cat.entries[0];
        assert_eq!((e.vendor_project.as_str(), e.ransomware, e.cwes.clone()), ("Fortinet", true, vec!["CWE-22".to_owned(), "CWE-23".to_owned()]));
        assert_eq!(cat.rejected.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(), [(3, "cveID"), (4, "dueDate")]);
        assert!(parse_kev_json("x.json", &b"{\"nope\": 1}"[..]).is_err());
        assert!(parse_kev_csv("x.csv", &b"a,b\n1,2\n"[..]).is_err());
        let json = br#"{"vulnerabilities":[{"cveID":"CVE-2024-1","vendorProject":"v"}]}"#;
        let cat = parse_kev_json("x.json", &json[..]).unwrap();
        assert_eq!((cat.entries.len(), cat.rejected.len()), (0, 1));
    }
}
