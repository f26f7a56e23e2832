//! Reading feed files: which feed a file is (told from its content, after decompression), the
//! parser on a blocking thread, and the hand-over to [`Store::import_vuln_feed`].
//!
//! The SHA-256 recorded for a file is that of its bytes as stored (compressed or not), taken
//! while the parser reads them.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use mamori_vuln::cpe::Cpe;
use mamori_vuln::csaf::{self, CsafDocument};
use mamori_vuln::decompress;
use mamori_vuln::vex::{self, VexDocument, VexState};
use mamori_vuln::{epss, jvn, kev, nvd, suggest};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::{self, Sender};

use crate::vuln::{FeedBatch, FeedImportCounts, FeedKind, FeedRun, VendorDocument, VendorStatement};
use crate::{Result, Store, StoreError};

/// What a feed file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Nvd,
    KevJson,
    KevCsv,
    Epss,
    Jvn,
    Csaf,
    CycloneDxVex,
    /// CSAF provider metadata and ROLIE feeds point to advisories; `feed sync` follows them.
    CsafProviderMetadata,
    CsafRolie,
}

impl FeedFormat {
    /// A list of advisories (CSAF provider metadata, ROLIE feed), not advisories themselves.
    pub fn is_index(self) -> bool {
        matches!(self, FeedFormat::CsafProviderMetadata | FeedFormat::CsafRolie)
    }

    pub fn kind(self) -> FeedKind {
        match self {
            FeedFormat::Nvd => FeedKind::Nvd,
            FeedFormat::KevJson | FeedFormat::KevCsv => FeedKind::Kev,
            FeedFormat::Epss => FeedKind::Epss,
            FeedFormat::Jvn => FeedKind::Jvn,
            FeedFormat::Csaf | FeedFormat::CsafProviderMetadata | FeedFormat::CsafRolie => FeedKind::Csaf,
            FeedFormat::CycloneDxVex => FeedKind::Vex,
        }
    }
}

/// Tells a feed from the first bytes of its (decompressed) content.
pub fn detect_feed(head: &[u8]) -> Option<FeedFormat> {
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        return (text.contains("rdf:RDF") || text.contains("VULDEF-Document") || text.contains("jvn")).then_some(FeedFormat::Jvn);
    }
    if trimmed.starts_with("#model_version") || trimmed.to_lowercase().starts_with("cve,epss") {
        return Some(FeedFormat::Epss);
    }
    if trimmed.starts_with("cveID,") || trimmed.starts_with("\"cveID\"") {
        return Some(FeedFormat::KevCsv);
    }
    if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return None;
    }
    if text.contains("\"catalogVersion\"") || (text.contains("\"cveID\"") && text.contains("\"dueDate\"")) {
        Some(FeedFormat::KevJson)
    } else if text.contains("\"csaf_version\"") {
        Some(FeedFormat::Csaf)
    } else if text.contains("\"canonical_url\"") && text.contains("\"metadata_version\"") {
        Some(FeedFormat::CsafProviderMetadata)
    } else if text.contains("\"feed\"") && text.contains("rolie") {
        Some(FeedFormat::CsafRolie)
    } else if text.contains("\"bomFormat\"") {
        Some(FeedFormat::CycloneDxVex)
    } else if text.contains("\"epss\"") && text.contains("\"percentile\"") {
        Some(FeedFormat::Epss)
    } else if text.contains("\"vulnerabilities\"") || text.contains("\"vulnStatus\"") || text.contains("\"cve_items\"") || text.contains("\"CVE-") {
        Some(FeedFormat::Nvd)
    } else {
        None
    }
}

/// Reads through and hashes the raw bytes, counting them.
struct Hashing<R> {
    inner: R,
    state: Arc<Mutex<(Sha256, u64)>>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let (Ok(mut s), Some(data)) = (self.state.lock(), buf.get(..n)) {
            s.0.update(data);
            s.1 += n as u64;
        }
        Ok(n)
    }
}

/// Rows per batch handed to the writer.
const BATCH: usize = 1000;

/// A sink that batches items and sends them to the writer.
struct Batcher<T> {
    buf: Vec<T>,
    tx: Sender<FeedBatch>,
    wrap: fn(Vec<T>) -> FeedBatch,
}

impl<T> Batcher<T> {
    fn push(&mut self, item: T) -> std::result::Result<(), String> {
        self.buf.push(item);
        if self.buf.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::result::Result<(), String> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let items = std::mem::take(&mut self.buf);
        self.tx.blocking_send((self.wrap)(items)).map_err(|_| "the database writer stopped".to_owned())
    }
}

/// The CPE vendor and product of a vendor statement's product.
fn vendor_product(cpe: Option<&str>, vendor: Option<&str>, product: Option<&str>) -> (Option<String>, Option<String>) {
    if let Some(c) = cpe.and_then(|c| Cpe::parse(c).ok()) {
        return (c.vendor(), c.product());
    }
    let v = vendor.and_then(suggest::vendor_alias);
    let p = product.map(|p| {
        let mut s = p.to_lowercase();
        if let Some(vn) = vendor {
            s = s.replace(&vn.to_lowercase(), "");
        }
        s.split_whitespace().collect::<Vec<_>>().join("_")
    });
    (v, p.filter(|p| !p.is_empty()))
}

/// A CSAF document as vendor statements.
pub fn csaf_statements(doc: &CsafDocument) -> VendorDocument {
    let mut statements = Vec::new();
    for s in &doc.statements {
        let Some(cve) = s.cve.clone() else { continue };
        let Some(p) = doc.product(&s.product_id) else { continue };
        let status = if s.status.is_affected() {
            "affected"
        } else if s.status.is_fixed() || s.status == csaf::ProductStatus::Recommended {
            "fixed"
        } else if s.status == csaf::ProductStatus::KnownNotAffected {
            "not_affected"
        } else {
            "under_investigation"
        };
        let (vendor, product) = vendor_product(p.cpe.as_deref(), p.vendor.as_deref(), p.product.as_deref());
        let fix = s.remediations.iter().find(|r| r.category == "vendor_fix").or_else(|| s.remediations.first());
        statements.push(VendorStatement {
            cve,
            vendor,
            product,
            product_name: p.name.clone(),
            version: p.version.clone(),
            version_range: p.version_range.clone(),
            cpe: p.cpe.clone(),
            purl: p.purl.clone(),
            status: status.to_owned(),
            justification: s.justification.clone(),
            remediation: fix.map(|r| format!("{}: {}", r.category, r.details)),
            url: fix.and_then(|r| r.url.clone()),
            exploited: s.exploited,
            cvss_score: s.cvss.iter().map(|c| c.base_score).reduce(f64::max),
        });
    }
    VendorDocument {
        origin: "csaf".to_owned(),
        publisher: doc.publisher.clone(),
        tracking_id: doc.tracking_id.clone(),
        title: doc.title.clone(),
        current_release: Some(doc.current_release.clone()),
        statements,
    }
}

/// A CycloneDX VEX document as vendor statements.
pub fn cyclonedx_statements(doc: &VexDocument, source: &str) -> VendorDocument {
    let mut statements = Vec::new();
    for s in &doc.statements {
        let Some(c) = &s.component else { continue };
        // "Not affected because of where it is deployed" (a firewall, a setting) holds for
        // that deployment, not for every device of the product: it is kept and shown, but it
        // does not clear other assets' findings.
        let environmental = matches!(
            s.justification.as_deref(),
            Some("protected_at_perimeter" | "protected_by_mitigating_control" | "requires_configuration" | "requires_environment")
        );
        let status = match s.state {
            Some(VexState::Resolved | VexState::ResolvedWithPedigree) => "fixed",
            Some(VexState::NotAffected | VexState::FalsePositive) if environmental => "not_affected_environment",
            Some(VexState::NotAffected | VexState::FalsePositive) => "not_affected",
            Some(VexState::Exploitable) => "affected",
            Some(VexState::InTriage) | None => "under_investigation",
        };
        let (vendor, product) = vendor_product(c.cpe.as_deref(), c.supplier.as_deref().or(c.group.as_deref()), Some(&c.name));
        let base = VendorStatement {
            cve: s.id.clone(),
            vendor,
            product,
            product_name: c.name.clone(),
            version: c.version.clone(),
            version_range: None,
            cpe: c.cpe.clone(),
            purl: c.purl.clone(),
            status: status.to_owned(),
            justification: s.justification.clone(),
            remediation: s.recommendation.clone().or(s.detail.clone()),
            url: s.source_url.clone(),
            exploited: false,
            cvss_score: s.ratings.iter().map(|r| r.base_score).reduce(f64::max),
        };
        if s.versions.is_empty() {
            statements.push(base);
        } else {
            for (v, st) in &s.versions {
                let status = match st.as_str() {
                    "affected" => "affected",
                    "unaffected" => "not_affected",
                    _ => "under_investigation",
                };
                let (version, version_range) = if v.starts_with("vers:") { (None, Some(v.clone())) } else { (Some(v.clone()), None) };
                statements.push(VendorStatement { version, version_range, status: status.to_owned(), ..base.clone() });
            }
        }
    }
    VendorDocument {
        origin: "cyclonedx-vex".to_owned(),
        // `vulnerabilities[].source` says where a vulnerability is described (NVD), not who
        // wrote the VEX: the document is named by where it came from.
        publisher: source.to_owned(),
        tracking_id: doc.serial_number.clone().unwrap_or_else(|| source.to_owned()),
        title: source.to_owned(),
        current_release: doc.timestamp.clone(),
        statements,
    }
}

/// Parses one feed stream and sends its batches; returns what the file was (without checksum).
fn parse_into(format: FeedFormat, name: &str, reader: impl Read + Send, tx: Sender<FeedBatch>) -> std::result::Result<FeedRun, String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let done = |_: &Sender<FeedBatch>, run: FeedRun| Ok(run);
    match format {
        FeedFormat::Nvd => {
            let mut b = Batcher { buf: Vec::new(), tx: tx.clone(), wrap: FeedBatch::Cves };
            let stats = nvd::read_nvd(name, reader, |r| b.push(r)).map_err(|e| err(&e))?;
            b.flush()?;
            let rejected = stats.rejected_ids.clone();
            if !rejected.is_empty() {
                tx.blocking_send(FeedBatch::Rejected(rejected)).map_err(|_| "the database writer stopped".to_owned())?;
            }
            done(
                &tx,
                FeedRun {
                    sha256: String::new(),
                    feed_date: stats.timestamp.clone(),
                    records: stats.records,
                    skipped: stats.skipped_count,
                    detail: json!({"rejected": stats.rejected, "skipped": stats.skipped, "total_results": stats.total_results}),
                },
            )
        }
        FeedFormat::KevJson | FeedFormat::KevCsv => {
            let cat = if format == FeedFormat::KevJson { kev::parse_kev_json(name, reader) } else { kev::parse_kev_csv(name, reader) }.map_err(|e| err(&e))?;
            let n = cat.entries.len() as u64;
            let skipped = cat.rejected.len() as u64;
            let rejected: Vec<_> = cat.rejected.iter().take(1000).cloned().collect();
            for chunk in cat.entries.chunks(BATCH) {
                tx.blocking_send(FeedBatch::Kev(chunk.to_vec())).map_err(|_| "the database writer stopped".to_owned())?;
            }
            done(&tx, FeedRun { sha256: String::new(), feed_date: cat.version.clone().or(cat.released.clone()), records: n, skipped, detail: json!({"released": cat.released, "rejected": rejected}) })
        }
        FeedFormat::Epss => {
            let mut b = Batcher { buf: Vec::new(), tx: tx.clone(), wrap: FeedBatch::Epss };
            let stats = epss::read_epss(name, reader, |s| b.push(s)).map_err(|e| err(&e))?;
            b.flush()?;
            done(
                &tx,
                FeedRun {
                    sha256: String::new(),
                    feed_date: stats.score_date.clone(),
                    records: stats.rows,
                    skipped: stats.rejected_count,
                    detail: json!({"model_version": stats.model_version, "rejected": stats.rejected}),
                },
            )
        }
        FeedFormat::Jvn => {
            let mut b = Batcher { buf: Vec::new(), tx: tx.clone(), wrap: FeedBatch::Jvn };
            let stats = jvn::read_jvn(name, reader, |a| b.push(a)).map_err(|e| err(&e))?;
            b.flush()?;
            done(
                &tx,
                FeedRun {
                    sha256: String::new(),
                    feed_date: None,
                    records: stats.items,
                    skipped: stats.skipped_count,
                    detail: json!({"dropped": stats.dropped, "skipped": stats.skipped, "total_res": stats.total_res}),
                },
            )
        }
        FeedFormat::Csaf => {
            let doc = csaf::read_csaf(name, reader).map_err(|e| err(&e))?;
            let vd = csaf_statements(&doc);
            let n = vd.statements.len() as u64;
            let date = vd.current_release.clone();
            tx.blocking_send(FeedBatch::Document(vd)).map_err(|_| "the database writer stopped".to_owned())?;
            done(&tx, FeedRun { sha256: String::new(), feed_date: date, records: n, skipped: 0, detail: json!({"tracking_id": doc.tracking_id, "publisher": doc.publisher}) })
        }
        FeedFormat::CycloneDxVex => {
            let doc = vex::read_cyclonedx_vex(name, reader).map_err(|e| err(&e))?;
            let vd = cyclonedx_statements(&doc, name);
            let n = vd.statements.len() as u64;
            let date = vd.current_release.clone();
            tx.blocking_send(FeedBatch::Document(vd)).map_err(|_| "the database writer stopped".to_owned())?;
            done(&tx, FeedRun { sha256: String::new(), feed_date: date, records: n, skipped: 0, detail: json!({"serial_number": doc.serial_number}) })
        }
        FeedFormat::CsafProviderMetadata | FeedFormat::CsafRolie => {
            Err(format!("{name}: CSAF provider metadata and ROLIE feeds list advisories; fetch them with `mamori feed sync --csaf-provider URL`"))
        }
    }
}

/// Something to read a feed from: a file, or bytes (a download, an upload).
pub enum FeedInput {
    File(PathBuf),
    Bytes { name: String, data: Vec<u8> },
}

impl FeedInput {
    pub fn name(&self) -> String {
        match self {
            FeedInput::File(p) => p.display().to_string(),
            FeedInput::Bytes { name, .. } => name.clone(),
        }
    }

    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            FeedInput::File(p) => Box::new(std::fs::File::open(p)?),
            FeedInput::Bytes { data, .. } => Box::new(io::Cursor::new(data.clone())),
        })
    }

    /// The feed format, from the decompressed head of the content.
    pub fn detect(&self) -> Result<FeedFormat> {
        let name = self.name();
        let (_, mut r) = decompress::decoder(self.open().map_err(|e| StoreError::Format(format!("{name}: {e}")))?)
            .map_err(|e| StoreError::Format(format!("{name}: {e}")))?;
        let mut head = Vec::new();
        r.by_ref().take(64 * 1024).read_to_end(&mut head).map_err(|e| StoreError::Format(format!("{name}: {e}")))?;
        detect_feed(&head).ok_or_else(|| StoreError::Format(format!("{name}: not a feed mamori reads (NVD, KEV, EPSS, JVN, CSAF, CycloneDX VEX)")))
    }
}

/// The files of a folder (recursively, sorted), or the file itself; `true` for files found in
/// a folder (a feed bundle may hold indexes and notes, which are skipped, not refused).
pub fn expand_paths(paths: &[PathBuf]) -> io::Result<Vec<(PathBuf, bool)>> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, bool)>) -> io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<io::Result<_>>()?;
        entries.sort();
        for p in entries {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.starts_with('.') || name.ends_with(".md") || name.ends_with(".txt") || name.ends_with(".sha256") || name.ends_with(".asc") || name.ends_with(".meta") {
                continue;
            }
            if p.is_dir() {
                walk(&p, out)?;
            } else {
                out.push((p, true));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push((p.clone(), false));
        }
    }
    Ok(out)
}

impl Store {
    /// Reads one feed input and imports it in one transaction.
    pub async fn import_feed_input(&self, actor: &str, input: FeedInput) -> Result<FeedImportCounts> {
        let format = input.detect()?;
        let name = input.name();
        let state = Arc::new(Mutex::new((Sha256::new(), 0u64)));
        let raw = input.open().map_err(|e| StoreError::Format(format!("{name}: {e}")))?;
        let reader = Hashing { inner: raw, state: state.clone() };
        let (tx, rx) = mpsc::channel::<FeedBatch>(4);
        let parse_name = name.clone();
        let hash_state = state.clone();
        let parser = tokio::task::spawn_blocking(move || -> std::result::Result<(), String> {
            let mut run = parse_into(format, &parse_name, reader, tx.clone())?;
            // The checksum covers the whole input, trailing bytes the parser left unread too.
            let (hex, _) = finish_hash(&input, &hash_state)?;
            run.sha256 = hex;
            tx.blocking_send(FeedBatch::Done(run)).map_err(|_| "the database writer stopped".to_owned())
        });
        let written = self.import_vuln_feed(actor, format.kind(), &name, rx).await;
        let parsed = parser.await.map_err(|e| StoreError::Format(format!("{name}: {e}")))?;
        match (parsed, written) {
            (Err(msg), _) => Err(StoreError::Format(msg)),
            (Ok(()), w) => w,
        }
    }
}

/// Completes the checksum: the bytes the parser did not read are hashed from the input.
fn finish_hash(input: &FeedInput, state: &Arc<Mutex<(Sha256, u64)>>) -> std::result::Result<(String, u64), String> {
    let mut guard = state.lock().map_err(|_| "checksum state poisoned".to_owned())?;
    let consumed = guard.1;
    let mut r = input.open().map_err(|e| e.to_string())?;
    io::copy(&mut r.by_ref().take(consumed), &mut io::sink()).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        if let Some(d) = buf.get(..n) {
            guard.0.update(d);
        }
        guard.1 += n as u64;
    }
    let total = guard.1;
    let digest = std::mem::take(&mut guard.0).finalize();
    Ok((hex::encode(digest), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_feeds_by_content() {
        assert_eq!(detect_feed(br#"{"id":"CVE-2024-21762","vulnStatus":"Analyzed"}"#), Some(FeedFormat::Nvd));
        assert_eq!(detect_feed(br#"{"resultsPerPage":1,"vulnerabilities":[]}"#), Some(FeedFormat::Nvd));
        assert_eq!(detect_feed(br#"{"title":"CISA Catalog","catalogVersion":"2025.08.25"}"#), Some(FeedFormat::KevJson));
        assert_eq!(detect_feed(b"cveID,vendorProject,product\n"), Some(FeedFormat::KevCsv));
        assert_eq!(detect_feed(b"#model_version:v2025.03.14,score_date:2025-09-03T12:55:00Z\ncve,epss,percentile\n"), Some(FeedFormat::Epss));
        assert_eq!(detect_feed(br#"<?xml version="1.0"?><rdf:RDF"#), Some(FeedFormat::Jvn));
        assert_eq!(detect_feed(br#"{"document":{"csaf_version":"2.0"}}"#), Some(FeedFormat::Csaf));
        assert_eq!(detect_feed(br#"{"bomFormat":"CycloneDX","vulnerabilities":[]}"#), Some(FeedFormat::CycloneDxVex));
        assert_eq!(detect_feed(b"hello"), None);
    }
}
