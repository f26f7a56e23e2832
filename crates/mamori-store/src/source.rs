//! From a file's bytes to what the reconciliation takes, and from the inventory back to a ledger:
//! format detection, the parser of each format, the ledger's column mapping, and the
//! MHLW-friendly export layout. Shared by the CLI and the web import wizard.

use std::collections::{BTreeMap, BTreeSet};

use mamori_i18n::{Lang, t};
use mamori_ingest::{IngestError, Ingested, ledger};
use mamori_model::{Asset, AssetKind, Criticality, LedgerField, Observation, Segment, SourceKind};
use sha2::{Digest, Sha256};

use crate::{ImportSource, RejectedRow};

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `None`: detect by content.
    pub format: Option<SourceKind>,
    /// Ledger column overrides: header text → field (`None` keeps the column as an attribute).
    pub map: Vec<(String, Option<LedgerField>)>,
}

/// A ledger's header row and what each column was taken to mean.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ColumnMapping {
    pub header_line: u64,
    pub headers: Vec<String>,
    pub fields: Vec<Option<LedgerField>>,
}

/// A file read and understood, ready for [`crate::Store::import_observations`].
#[derive(Debug)]
pub struct ReadSource {
    pub source: ImportSource,
    pub observations: Vec<Observation>,
    pub rejected: Vec<RejectedRow>,
    /// Ledgers only.
    pub mapping: Option<ColumnMapping>,
}

/// Attribute keys the export writes as their own columns, not as extra columns.
const MAPPED_ATTRIBUTES: &[&str] = &["hostname", "maintainer"];

fn rejected_row(e: &IngestError) -> RejectedRow {
    let reason = match e {
        IngestError::Invalid { reason, .. } | IngestError::Refused { reason, .. } => reason.clone(),
        other => other.to_string(),
    };
    RejectedRow { file: e.file().to_owned(), line: e.line(), field: e.field().to_owned(), reason }
}

/// A code or a catalog label (Japanese or English) of an enum, as ledgers write them.
fn label_lookup<T: Copy>(all: &[T], key: impl Fn(T) -> String, code: impl Fn(T) -> &'static str, text: &str) -> Option<T> {
    let text = text.trim().to_lowercase();
    all.iter().copied().find(|&v| {
        code(v) == text
            || t(Lang::Ja, &key(v)).to_lowercase() == text
            || t(Lang::En, &key(v)).to_lowercase() == text
    })
}

/// Resolves the kind and criticality the ledger parser could not read against mamori's own
/// labels (an export re-imported writes them that way).
fn resolve_labels(obs: &mut Observation) {
    if obs.kind.is_none()
        && let Some(raw) = obs.attributes.get("kind_raw").cloned()
        && let Some(k) = label_lookup(AssetKind::ALL, |k| k.label_key(), |k| k.code(), &raw)
    {
        obs.kind = Some(k);
        obs.attributes.remove("kind_raw");
    }
    if obs.criticality.is_none()
        && let Some(raw) = obs.attributes.get("criticality_raw").cloned()
        && let Some(c) = label_lookup(Criticality::ALL, |c| c.label_key(), |c| c.code(), &raw)
    {
        obs.criticality = Some(c);
        obs.attributes.remove("criticality_raw");
    }
}

fn looks_like_xml(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

/// SHA-256 of the bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a file of any supported format. `Err` when the file cannot be read at all; rows that
/// cannot be read are in [`ReadSource::rejected`].
pub fn read_source(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<ReadSource, IngestError> {
    let head = bytes.get(..bytes.len().min(64 * 1024)).unwrap_or(bytes);
    let kind = match opts.format {
        Some(k) => k,
        None => match mamori_ingest::detect::detect(name, head) {
            Some(k) => k,
            // XML that is not recognisably a scan still goes to the nmap reader: it refuses
            // entity declarations and says what the document is, which helps more than
            // "unknown format".
            None if looks_like_xml(head) => SourceKind::Nmap,
            None => {
                return Err(IngestError::Invalid {
                    file: name.to_owned(),
                    line: 1,
                    field: "format".into(),
                    reason: "not a format mamori reads (xlsx, csv, nmap XML, DHCP leases, \
                             ARP/neighbour table, CycloneDX JSON); give --input-format if it is one"
                        .into(),
                });
            }
        },
    };
    let mut mapping = None;
    let ingested: Ingested = match kind {
        SourceKind::Csv | SourceKind::Xlsx => {
            let sheet = if kind == SourceKind::Csv {
                ledger::read_ledger_csv(name, bytes, &opts.map)?
            } else {
                ledger::read_ledger_xlsx(name, bytes, &opts.map)?
            };
            mapping = Some(ColumnMapping {
                header_line: sheet.header_line,
                headers: sheet.headers,
                fields: sheet.mapping,
            });
            let mut ing = sheet.ingested;
            for o in &mut ing.observations {
                resolve_labels(o);
            }
            ing
        }
        SourceKind::Nmap => {
            let scan = mamori_ingest::parse_nmap(name, bytes)?;
            mamori_ingest::convert::nmap_observations(&scan)
        }
        SourceKind::IscLeases => {
            let leases = mamori_ingest::parse_isc_leases(name, bytes)?;
            mamori_ingest::convert::lease_observations(leases)
        }
        SourceKind::KeaLeases => mamori_ingest::kea::parse_kea_leases(name, bytes)?,
        SourceKind::DnsmasqLeases => mamori_ingest::dnsmasq::parse_dnsmasq_leases(name, bytes)?,
        SourceKind::Arp => mamori_ingest::neigh::parse_neighbours(name, bytes)?,
        SourceKind::Cyclonedx => mamori_ingest::cyclonedx::parse_cyclonedx(name, bytes)?,
    };
    let mut observations = ingested.observations;
    // The NIC maker from the IEEE registry, where a network source did not say (a ledger says
    // what the facility wrote, nothing more).
    for o in observations.iter_mut().filter(|_| kind.is_discovery()) {
        if o.mac_vendor.is_none()
            && let Some(v) = o.mac.as_deref().and_then(mamori_ingest::oui::vendor_of)
        {
            o.mac_vendor = Some(v.to_owned());
        }
    }
    Ok(ReadSource {
        source: ImportSource {
            kind,
            file_name: name.to_owned(),
            sha256: sha256_hex(bytes),
            taken_at: ingested.taken_at,
        },
        observations,
        rejected: ingested.rejected.iter().map(rejected_row).collect(),
        mapping,
    })
}

/// One address per line; with several interfaces, `-` holds the place of a missing one so that
/// the i-th IP and the i-th MAC stay paired when the ledger is read back.
fn address_cell<'a>(values: impl Iterator<Item = Option<&'a str>>) -> String {
    let values: Vec<Option<&str>> = values.collect();
    if values.iter().all(Option::is_none) {
        return String::new();
    }
    if let [one] = values.as_slice() {
        return one.unwrap_or_default().to_owned();
    }
    values.iter().map(|v| v.unwrap_or("-")).collect::<Vec<_>>().join("\n")
}

fn jst_date(ts: &str) -> String {
    let parsed = ts.parse::<jiff::Timestamp>().ok().and_then(|t| {
        jiff::tz::TimeZone::get("Asia/Tokyo").ok().map(|tz| t.to_zoned(tz).date().to_string())
    });
    parsed.unwrap_or_else(|| ts.get(0..10).unwrap_or(ts).to_owned())
}

/// The ledger layout of the export: header row and one row per asset, in the order of
/// [`ledger::EXPORT_COLUMNS`], then one column per attribute key in use. Re-importing it changes
/// nothing.
pub fn ledger_rows(lang: Lang, assets: &[Asset], segments: &[Segment]) -> (Vec<String>, Vec<Vec<String>>) {
    let attr_keys: BTreeSet<&str> = assets
        .iter()
        .flat_map(|a| a.data.attributes.keys().map(String::as_str))
        .filter(|k| !MAPPED_ATTRIBUTES.contains(k))
        .collect();
    let mut headers: Vec<String> = ledger::EXPORT_COLUMNS
        .iter()
        .map(|(_, ja, en)| if lang == Lang::Ja { (*ja).to_owned() } else { (*en).to_owned() })
        .collect();
    headers.extend(attr_keys.iter().map(|k| (*k).to_owned()));
    let seg_names: BTreeMap<i64, &str> = segments.iter().map(|s| (s.id, s.name.as_str())).collect();
    let yes_no = |b: bool| t(lang, if b { "ledger.yes" } else { "ledger.no" }).to_owned();
    let rows = assets
        .iter()
        .map(|a| {
            let d = &a.data;
            let mut row: Vec<String> = ledger::EXPORT_COLUMNS
                .iter()
                .map(|(field, _, _)| {
                    let s = |v: &Option<String>| v.clone().unwrap_or_default();
                    match field {
                        LedgerField::AssetId => a.id.to_string(),
                        LedgerField::Name => d.name.clone(),
                        LedgerField::Hostname => d.attributes.get("hostname").cloned().unwrap_or_default(),
                        LedgerField::Kind => t(lang, &d.kind.label_key()).to_owned(),
                        LedgerField::Criticality => t(lang, &d.criticality.label_key()).to_owned(),
                        LedgerField::Vendor => s(&d.vendor),
                        LedgerField::Product => s(&d.product),
                        LedgerField::Model => s(&d.model),
                        LedgerField::Os => s(&d.os),
                        LedgerField::OsVersion => s(&d.os_version),
                        LedgerField::Serial => s(&d.serial),
                        LedgerField::Location => s(&d.location),
                        LedgerField::Department => s(&d.department),
                        LedgerField::Owner => s(&d.owner),
                        LedgerField::Segment => d
                            .interfaces
                            .iter()
                            .find_map(|i| i.segment_id.and_then(|id| seg_names.get(&id)))
                            .map(|n| (*n).to_owned())
                            .unwrap_or_default(),
                        LedgerField::Ip => address_cell(d.interfaces.iter().map(|i| i.ip.as_deref())),
                        LedgerField::Mac => address_cell(d.interfaces.iter().map(|i| i.mac.as_deref())),
                        LedgerField::InternetFacing => yes_no(d.internet_facing),
                        LedgerField::EndpointProtection => {
                            d.endpoint_protection.map(yes_no).unwrap_or_default()
                        }
                        LedgerField::Maintainer => {
                            d.attributes.get("maintainer").cloned().unwrap_or_default()
                        }
                        LedgerField::LastSeen => d.last_seen.as_deref().map(jst_date).unwrap_or_default(),
                        LedgerField::Notes => s(&d.notes),
                    }
                })
                .collect();
            row.extend(attr_keys.iter().map(|k| d.attributes.get(*k).cloned().unwrap_or_default()));
            row
        })
        .collect();
    (headers, rows)
}

/// A spreadsheet program would run a cell that starts with `=`, `+`, `-` or `@` (or a tab or
/// carriage return before one) as a formula: a host name chosen by a DHCP client could then
/// attack whoever opens the exported CSV. Such cells get a leading `'`, which the ledger reader
/// removes again, so a re-import still changes nothing.
pub fn csv_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

/// The ledger as CSV: UTF-8 with a BOM (so that Excel opens the Japanese headers correctly),
/// formula-looking cells neutralised ([`csv_cell`]).
pub fn ledger_csv(headers: &[String], rows: &[Vec<String>]) -> Result<Vec<u8>, String> {
    let mut buf = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut buf);
        for r in std::iter::once(headers).chain(rows.iter().map(Vec::as_slice)) {
            w.write_record(r.iter().map(|c| csv_cell(c).into_owned())).map_err(|e| e.to_string())?;
        }
        w.flush().map_err(|e| e.to_string())?;
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kinds and criticalities mamori's export writes (catalog labels, both languages) read
    /// back as themselves.
    #[test]
    fn own_labels_read_back() {
        for lang in [Lang::Ja, Lang::En] {
            for kind in AssetKind::ALL {
                let key = kind.label_key();
                let label = t(lang, &key);
                let text = format!("機器名,種別,重要度\nx,{label},{}\n", t(lang, "criticality.high"));
                let read = read_source("k.csv", text.as_bytes(), &ReadOptions::default());
                let obs = read.map(|r| r.observations).unwrap_or_default();
                let got = obs.first().map(|o| (o.kind, o.criticality));
                assert_eq!(got, Some((Some(*kind), Some(Criticality::High))), "{label}");
            }
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("受付PC"), "受付PC");
        let out = ledger_csv(&["機器名".into()], &[vec!["-2+3".into()]]).unwrap_or_default();
        assert!(out.starts_with(b"\xEF\xBB\xBF"));
        assert!(String::from_utf8_lossy(&out).contains("'-2+3"));
    }
}
