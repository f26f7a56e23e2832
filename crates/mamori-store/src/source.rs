//! From a file's bytes to what the reconciliation takes, and from the inventory back to a ledger:
//! format detection, the parser of each format, the ledger's column mapping, and the
//! MHLW-friendly export layout. Shared by the CLI and the web import wizard.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mamori_i18n::{Lang, t};
use mamori_ingest::{IngestError, Ingested, Sink, ledger};
use mamori_model::{Asset, AssetKind, Criticality, LedgerField, Observation, Segment, SourceKind};
use sha2::{Digest, Sha256};

use crate::import::{FeedItem, ImportChunk};
use crate::{ImportControl, ImportOptions, ImportPlan, ImportSource, RejectedRow, Store, StoreError};

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

/// Where a file is read from. Opened as often as its reader needs: a CSV ledger is sniffed
/// first, a leases file is read in two passes, the checksum is one more pass.
pub trait Input: Send + Sync {
    /// The name used in messages and in the import record.
    fn name(&self) -> &str;
    /// The content from the start.
    fn open(&self) -> std::io::Result<Box<dyn SeekRead + '_>>;
    /// Size in bytes, for progress.
    fn size(&self) -> u64;
}

/// What [`Input::open`] gives: a reader that can also seek (xlsx is a zip archive).
pub trait SeekRead: Read + Seek + Send {}
impl<T: Read + Seek + Send> SeekRead for T {}

/// A file on disk, never loaded whole.
pub struct FileInput {
    pub path: std::path::PathBuf,
    pub name: String,
    pub size: u64,
}

impl FileInput {
    /// Checks that the file can be opened.
    pub fn open_path(path: &std::path::Path) -> std::io::Result<Self> {
        let f = std::fs::File::open(path)?;
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, "is a directory"));
        }
        Ok(Self { path: path.to_owned(), name: path.display().to_string(), size: meta.len() })
    }
}

impl Input for FileInput {
    fn name(&self) -> &str {
        &self.name
    }
    fn open(&self) -> std::io::Result<Box<dyn SeekRead + '_>> {
        Ok(Box::new(std::io::BufReader::with_capacity(64 * 1024, std::fs::File::open(&self.path)?)))
    }
    fn size(&self) -> u64 {
        self.size
    }
}

/// Content already in memory (an upload).
pub struct BytesInput<B> {
    pub name: String,
    pub bytes: B,
}

impl<B: AsRef<[u8]> + Send + Sync> Input for BytesInput<B> {
    fn name(&self) -> &str {
        &self.name
    }
    fn open(&self) -> std::io::Result<Box<dyn SeekRead + '_>> {
        Ok(Box::new(std::io::Cursor::new(self.bytes.as_ref())))
    }
    fn size(&self) -> u64 {
        self.bytes.as_ref().len() as u64
    }
}

/// Counts the bytes read, for progress.
struct Counting<'a> {
    inner: Box<dyn SeekRead + 'a>,
    read: Arc<AtomicU64>,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn io_error(name: &str, source: std::io::Error) -> IngestError {
    IngestError::Io { file: name.to_owned(), line: 1, source }
}

/// The format of the input: `opts.format`, else detected from the first 64 KiB.
pub fn detect_kind(input: &dyn Input, opts: &ReadOptions) -> Result<SourceKind, IngestError> {
    if let Some(k) = opts.format {
        return Ok(k);
    }
    let name = input.name();
    let mut head = Vec::with_capacity(64 * 1024);
    input
        .open()
        .and_then(|r| r.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| io_error(name, e))?;
    match mamori_ingest::detect::detect(name, &head) {
        Some(k) => Ok(k),
        // XML that is not recognisably a scan still goes to the nmap reader: it refuses entity
        // declarations and says what the document is, which helps more than "unknown format".
        None if looks_like_xml(&head) => Ok(SourceKind::Nmap),
        None => Err(IngestError::Invalid {
            file: name.to_owned(),
            line: 1,
            field: "format".into(),
            reason: "not a format mamori reads (xlsx, csv, nmap XML, DHCP leases, \
                     ARP/neighbour table, CycloneDX JSON); give --input-format if it is one"
                .into(),
        }),
    }
}

/// SHA-256 of the input, read as a stream.
pub fn sha256_of(input: &dyn Input) -> Result<String, IngestError> {
    let mut r = input.open().map_err(|e| io_error(input.name(), e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0_u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf).map_err(|e| io_error(input.name(), e))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(h.finalize()))
}

/// Completes what a parser gives before it reaches the reconciliation: a ledger's kind and
/// criticality written as mamori's own labels; for network sources, the NIC maker from the
/// IEEE registry where the source did not say (a ledger says what the facility wrote, nothing
/// more).
struct Enrich<'a> {
    kind: SourceKind,
    inner: &'a mut dyn Sink,
}

impl Sink for Enrich<'_> {
    fn observation(&mut self, mut o: Observation) -> Result<(), IngestError> {
        if matches!(self.kind, SourceKind::Csv | SourceKind::Xlsx) {
            resolve_labels(&mut o);
        }
        if self.kind.is_discovery()
            && o.mac_vendor.is_none()
            && let Some(v) = o.mac.as_deref().and_then(mamori_ingest::oui::vendor_of)
        {
            o.mac_vendor = Some(v.to_owned());
        }
        self.inner.observation(o)
    }
    fn rejected(&mut self, e: IngestError) -> Result<(), IngestError> {
        self.inner.rejected(e)
    }
    fn taken_at(&mut self, at: Option<i64>) {
        self.inner.taken_at(at);
    }
}

/// Runs the parser of `kind` over the input, handing what it reads to `sink`. Ledgers, nmap
/// scans and ISC leases are read as streams; the other formats (neighbour tables, Kea and
/// dnsmasq leases, SBOMs: small files by nature) are parsed whole, then handed over.
fn parse_into(
    input: &dyn Input,
    kind: SourceKind,
    opts: &ReadOptions,
    read: &Arc<AtomicU64>,
    sink: &mut dyn Sink,
) -> Result<Option<ColumnMapping>, IngestError> {
    let name = input.name();
    let open = || -> std::io::Result<Counting<'_>> { Ok(Counting { inner: input.open()?, read: read.clone() }) };
    let buffered = || -> Result<std::io::BufReader<Counting<'_>>, IngestError> {
        Ok(std::io::BufReader::with_capacity(64 * 1024, open().map_err(|e| io_error(name, e))?))
    };
    let mut sink = Enrich { kind, inner: sink };
    let whole = |sink: &mut Enrich<'_>, ing: Ingested| -> Result<(), IngestError> {
        sink.taken_at(ing.taken_at);
        for o in ing.observations {
            sink.observation(o)?;
        }
        for e in ing.rejected {
            sink.rejected(e)?;
        }
        Ok(())
    };
    let header = match kind {
        SourceKind::Csv => Some(ledger::stream_ledger_csv(
            name,
            &mut || open().map(|r| Box::new(r) as Box<dyn Read>),
            &opts.map,
            &mut sink,
        )?),
        SourceKind::Xlsx => {
            let r = input.open().map_err(|e| io_error(name, e))?;
            Some(ledger::stream_ledger_xlsx(name, r, &opts.map, &mut sink)?)
        }
        SourceKind::Nmap => {
            mamori_ingest::convert::stream_nmap_observations(name, buffered()?, &mut sink)?;
            None
        }
        SourceKind::IscLeases => {
            mamori_ingest::convert::stream_lease_observations(
                name,
                &mut || open().map(|r| Box::new(std::io::BufReader::with_capacity(64 * 1024, r)) as Box<dyn std::io::BufRead>),
                &mut sink,
            )?;
            None
        }
        SourceKind::KeaLeases => {
            whole(&mut sink, mamori_ingest::kea::parse_kea_leases(name, buffered()?)?)?;
            None
        }
        SourceKind::DnsmasqLeases => {
            whole(&mut sink, mamori_ingest::dnsmasq::parse_dnsmasq_leases(name, buffered()?)?)?;
            None
        }
        SourceKind::Arp => {
            whole(&mut sink, mamori_ingest::neigh::parse_neighbours(name, buffered()?)?)?;
            None
        }
        SourceKind::Cyclonedx => {
            whole(&mut sink, mamori_ingest::cyclonedx::parse_cyclonedx(name, buffered()?)?)?;
            None
        }
    };
    Ok(header.map(|h| ColumnMapping { header_line: h.header_line, headers: h.headers, fields: h.mapping }))
}

/// Reads a file of any supported format into memory. `Err` when the file cannot be read at all;
/// rows that cannot be read are in [`ReadSource::rejected`]. For files of any size use
/// [`import_input`], which streams.
pub fn read_source(name: &str, bytes: &[u8], opts: &ReadOptions) -> Result<ReadSource, IngestError> {
    let input = BytesInput { name: name.to_owned(), bytes };
    let kind = detect_kind(&input, opts)?;
    let mut ingested = Ingested::default();
    let mapping = parse_into(&input, kind, opts, &Arc::new(AtomicU64::new(0)), &mut ingested)?;
    Ok(ReadSource {
        source: ImportSource { kind, file_name: name.to_owned(), sha256: sha256_hex(bytes), taken_at: ingested.taken_at },
        observations: ingested.observations,
        rejected: ingested.rejected.iter().map(rejected_row).collect(),
        mapping,
    })
}

/// Reads the whole input without keeping anything: `Err` when it cannot be read to its end.
/// Lets a command that imports several files refuse them all before importing any.
pub fn check_input(input: &dyn Input, opts: &ReadOptions) -> Result<SourceKind, IngestError> {
    struct Nothing;
    impl Sink for Nothing {
        fn observation(&mut self, _o: Observation) -> Result<(), IngestError> {
            Ok(())
        }
        fn rejected(&mut self, _e: IngestError) -> Result<(), IngestError> {
            Ok(())
        }
    }
    let kind = detect_kind(input, opts)?;
    parse_into(input, kind, opts, &Arc::new(AtomicU64::new(0)), &mut Nothing)?;
    Ok(kind)
}

/// Hands chunks of what the parser reads to the import, through a bounded channel: the parser
/// waits while the import is a chunk behind, so neither side runs ahead with the whole file.
struct ChannelSink {
    tx: tokio::sync::mpsc::Sender<FeedItem>,
    chunk: ImportChunk,
    read: Arc<AtomicU64>,
    size: u64,
    file: String,
}

impl ChannelSink {
    fn flush(&mut self) -> Result<(), IngestError> {
        let mut chunk = std::mem::take(&mut self.chunk);
        self.chunk.taken_at = chunk.taken_at;
        chunk.done = self.read.load(Ordering::Relaxed).min(self.size);
        chunk.total = self.size;
        self.tx
            .blocking_send(FeedItem::Chunk(chunk))
            .map_err(|_| IngestError::Stopped { file: self.file.clone() })
    }
}

impl Sink for ChannelSink {
    fn observation(&mut self, o: Observation) -> Result<(), IngestError> {
        self.chunk.observations.push(o);
        if self.chunk.observations.len() >= crate::import::CHUNK_OBSERVATIONS {
            self.flush()?;
        }
        Ok(())
    }
    fn rejected(&mut self, e: IngestError) -> Result<(), IngestError> {
        self.chunk.rejected.push(rejected_row(&e));
        if self.chunk.rejected.len() >= crate::import::CHUNK_OBSERVATIONS {
            self.flush()?;
        }
        Ok(())
    }
    fn taken_at(&mut self, at: Option<i64>) {
        self.chunk.taken_at = at;
    }
}

/// Why a streamed import failed: the file (nothing written) or the store.
#[derive(Debug)]
pub enum ImportFailure {
    Read(IngestError),
    Store(StoreError),
}

/// A file imported: the plan (the preview, for a dry run) and, for ledgers, the column mapping.
#[derive(Debug)]
pub struct Imported {
    pub plan: ImportPlan,
    pub mapping: Option<ColumnMapping>,
}

/// Reads a file and reconciles it with the inventory as it is read, in one transaction: the
/// parser runs on a blocking thread and hands chunks to [`Store::import_feed`] through a bounded
/// channel, so memory stays the same whatever the size of the file. A file that turns out to be
/// unreadable halfway is an [`ImportFailure::Read`] and nothing is written.
pub async fn import_input(
    store: &Store,
    actor: &str,
    input: Arc<dyn Input>,
    opts: &ReadOptions,
    import: &ImportOptions,
    control: &dyn ImportControl,
) -> Result<Imported, ImportFailure> {
    let kind = {
        let (input, opts) = (input.clone(), opts.clone());
        tokio::task::spawn_blocking(move || detect_kind(input.as_ref(), &opts))
            .await
            .map_err(|e| ImportFailure::Store(StoreError::Format(e.to_string())))?
            .map_err(ImportFailure::Read)?
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<FeedItem>(2);
    let reader = {
        let (input, opts) = (input.clone(), opts.clone());
        tokio::task::spawn_blocking(move || -> Result<Option<ColumnMapping>, IngestError> {
            let read = Arc::new(AtomicU64::new(0));
            let mut sink = ChannelSink {
                tx,
                chunk: ImportChunk::default(),
                read: read.clone(),
                size: input.size(),
                file: input.name().to_owned(),
            };
            let mapping = parse_into(input.as_ref(), kind, &opts, &read, &mut sink)?;
            sink.flush()?;
            let sha256 = sha256_of(input.as_ref())?;
            let taken_at = sink.chunk.taken_at;
            sink.tx
                .blocking_send(FeedItem::End { sha256, taken_at })
                .map_err(|_| IngestError::Stopped { file: sink.file.clone() })?;
            Ok(mapping)
        })
    };
    let source = ImportSource { kind, file_name: input.name().to_owned(), sha256: String::new(), taken_at: None };
    let outcome = store.import_feed(actor, source, &mut rx, import, control).await;
    // Stop the reader if the import ended first (an error or a cancellation).
    drop(rx);
    let read = reader.await.map_err(|e| ImportFailure::Store(StoreError::Format(e.to_string())))?;
    match (read, outcome) {
        // The file's own error says more than "the file was not read to its end".
        (Err(e), _) if !matches!(e, IngestError::Stopped { .. }) => Err(ImportFailure::Read(e)),
        (_, Err(e)) => Err(ImportFailure::Store(e)),
        (Ok(mapping), Ok(plan)) => Ok(Imported { plan, mapping }),
        (Err(e), Ok(_)) => Err(ImportFailure::Read(e)),
    }
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
