//! NVD CVE records in the API 2.0 shape, streamed one at a time.
//!
//! [`read_nvd`] accepts, plain, gzip- or xz-compressed (told by the first bytes):
//! - a bare `cve` object (one file of fkie-cad/nvd-json-data-feeds), or `{"cve": {…}}`;
//! - an API 2.0 response page or an NVD 2.0 yearly/modified/recent feed
//!   (`{resultsPerPage, startIndex, totalResults, format, version, timestamp,
//!   vulnerabilities: [{cve: {…}}]}`);
//! - a fkie-cad release bundle (`CVE-YYYY.json.xz`, `CVE-all.json.xz`:
//!   `{timestamp, cve_count, feed_name, source, cve_items: [bare cve objects]}`);
//! - a top-level array of bare `cve` objects or of `{cve: …}`.
//!
//! Keys may come in any order. Memory stays flat whatever the file size: the top level is walked
//! by hand, and each record of the array is deserialised straight from the read buffer into
//! compact private structs (serde_json tells where it ended), converted to a [`CveRecord`],
//! handed over and dropped. When a record does not map, or crosses the end of the buffer, a
//! small scanner (strings and brackets only) finds its extent first; so a record with wrong
//! types is skipped without losing the rest of the file, while broken JSON stops the read with
//! its line and column. Inputs over 1 MiB (decompressed) are parsed on a second thread (and
//! decompressed on a third) so that parsing overlaps the sink's work; the sink itself always
//! runs on the calling thread.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, SyncSender};

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

use crate::decompress::{self, Compression};
use crate::model::{Configuration, CpeMatch, CveRecord, Cvss, EmbeddedKev, Node, Operator, Reference, Text};

/// Longest description, criteria, URL … kept; a record with a longer one is skipped.
pub const MAX_TEXT: usize = 1 << 20;
/// Largest single record; a larger one is skipped without being buffered.
pub const MAX_RECORD: usize = 64 << 20;
/// At most this many skipped records are listed in [`NvdStats::skipped`] (all are counted).
pub const MAX_SKIPPED_LISTED: usize = 1000;
/// At most this many rejected ids are listed in [`NvdStats::rejected_ids`] (all are counted).
pub const MAX_REJECTED_LISTED: usize = 1_000_000;
/// Top-level data outside a record array (the wrapper, or a bare record) is buffered up to this.
const MAX_TOP: usize = 64 << 20;
/// Decompressed inputs up to this size are parsed on the calling thread.
const SMALL: usize = 1 << 20;
const READ: usize = 1 << 20;
/// Records are deserialised straight from the buffer when at least this much is buffered.
const DIRECT_MIN: usize = 256 * 1024;
const CHUNK: usize = 1 << 20;
const BATCH: usize = 64;

/// The shape a file turned out to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NvdShape {
    /// One bare `cve` object (or `{"cve": …}`).
    #[default]
    Record,
    /// API 2.0 response page or NVD 2.0 feed file (`vulnerabilities: [{cve}]`).
    ApiPage,
    /// Top-level array of `cve` objects or of `{cve: …}`.
    Array,
    /// fkie-cad/nvd-json-data-feeds release bundle (`cve_items: [cve]`).
    Bundle,
}

/// What a read found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NvdStats {
    pub shape: NvdShape,
    /// Records handed over to the sink.
    pub records: u64,
    /// `vulnStatus: Rejected` records (not handed over).
    pub rejected: u64,
    /// Their ids, in file order (so that a store can drop CVEs NVD has since rejected).
    pub rejected_ids: Vec<String>,
    /// Records that could not be mapped (all of them, listed or not).
    pub skipped_count: u64,
    /// The first [`MAX_SKIPPED_LISTED`] of them: 1-based record number, field, reason.
    pub skipped: Vec<(u64, String, String)>,
    /// The page's or bundle's `timestamp`.
    pub timestamp: Option<String>,
    /// `totalResults` of a page; `cve_count` of a bundle.
    pub total_results: Option<u64>,
    pub start_index: Option<u64>,
    pub results_per_page: Option<u64>,
}

/// Why a file could not be read (records before the failure may have been handed over).
#[derive(Debug, thiserror::Error)]
pub enum NvdError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
    #[error("{file}: broken JSON at line {line}, column {column}: {message}")]
    Syntax { file: String, line: u64, column: u64, message: String },
    #[error("{file}: not an NVD CVE file: {reason}")]
    Format { file: String, reason: String },
    #[error("{file}: record {position} ({id}) was refused: {message}")]
    Sink { file: String, position: u64, id: String, message: String },
    #[error("{file}: the reading thread stopped unexpectedly")]
    Thread { file: String },
}

/// Reads NVD CVE records from `reader` and hands each non-rejected one to `sink` in file
/// order. `file` names the input in errors. A sink error stops the read with
/// [`NvdError::Sink`].
pub fn read_nvd<R, F>(file: &str, reader: R, mut sink: F) -> Result<NvdStats, NvdError>
where
    R: Read + Send,
    F: FnMut(CveRecord) -> Result<(), String>,
{
    let io_err = |source| NvdError::Io { file: file.to_owned(), source };
    let (kind, mut input) = decompress::decoder(reader).map_err(io_err)?;
    let mut head = Vec::new();
    (&mut input).take(SMALL as u64).read_to_end(&mut head).map_err(io_err)?;
    if head.len() < SMALL {
        let mut out = SinkOut { sink: &mut sink, records: 0, failed: None };
        let res = parse(file, head.as_slice(), &mut out);
        return finish(file, res, out.records, out.failed);
    }
    let rest: Box<dyn Read + Send + '_> = Box::new(io::Cursor::new(head).chain(input));
    read_threaded(file, kind, rest, &mut sink)
}

fn finish(
    file: &str,
    res: Result<NvdStats, Fail>,
    records: u64,
    failed: Option<(u64, String, String)>,
) -> Result<NvdStats, NvdError> {
    if let Some((position, id, message)) = failed {
        return Err(NvdError::Sink { file: file.to_owned(), position, id, message });
    }
    match res {
        Ok(mut stats) => {
            stats.records = records;
            Ok(stats)
        }
        Err(Fail::Nvd(e)) => Err(e),
        // A stop without a sink error cannot happen; report it rather than hide it.
        Err(Fail::Stop) => Err(NvdError::Thread { file: file.to_owned() }),
    }
}

fn read_threaded<'a, F>(
    file: &str,
    kind: Compression,
    input: Box<dyn Read + Send + 'a>,
    sink: &mut F,
) -> Result<NvdStats, NvdError>
where
    F: FnMut(CveRecord) -> Result<(), String>,
{
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<Vec<(u64, CveRecord)>>(4);
        let io_err = |source| NvdError::Io { file: file.to_owned(), source };
        let (src, pump): (Box<dyn Read + Send + 'a>, _) = if kind == Compression::None {
            (input, None)
        } else {
            let (ctx, crx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(4);
            let handle =
                std::thread::Builder::new().name("nvd-inflate".into()).spawn_scoped(s, move || pump(input, ctx)).map_err(io_err)?;
            (Box::new(ChannelReader { rx: crx, chunk: Vec::new(), at: 0 }), Some(handle))
        };
        let worker = std::thread::Builder::new()
            .name("nvd-parse".into())
            .spawn_scoped(s, move || {
                let mut out = BatchOut { tx, batch: Vec::with_capacity(BATCH) };
                let res = parse(file, src, &mut out);
                // Hand over what was read before a failure too, as the single-thread path does.
                out.flush();
                res
            })
            .map_err(io_err)?;
        let mut records = 0u64;
        let mut failed = None;
        'recv: for batch in &rx {
            for (position, rec) in batch {
                let id = rec.id.clone();
                match sink(rec) {
                    Ok(()) => records += 1,
                    Err(message) => {
                        failed = Some((position, id, message));
                        break 'recv;
                    }
                }
            }
        }
        drop(rx);
        let res = worker.join().unwrap_or(Err(Fail::Nvd(NvdError::Thread { file: file.to_owned() })));
        if let Some(handle) = pump {
            // The decompressing thread ends once its receiver is gone; its outcome already
            // reached the worker as data or an I/O error.
            let _ = handle.join();
        }
        finish(file, res, records, failed)
    })
}

/// Decompresses on its own thread, in chunks.
fn pump(mut input: Box<dyn Read + Send + '_>, tx: SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match input.read(chunk.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        chunk.truncate(filled);
        if tx.send(Ok(chunk)).is_err() {
            return;
        }
    }
}

struct ChannelReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    at: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut rest = self.chunk.get(self.at..).unwrap_or_default();
            if !rest.is_empty() || out.is_empty() {
                let n = rest.read(out)?;
                self.at += n;
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.at = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Where parsed records go.
trait Out {
    /// `false` stops the read.
    fn put(&mut self, position: u64, rec: CveRecord) -> bool;
}

struct SinkOut<'s, F> {
    sink: &'s mut F,
    records: u64,
    failed: Option<(u64, String, String)>,
}

impl<F: FnMut(CveRecord) -> Result<(), String>> Out for SinkOut<'_, F> {
    fn put(&mut self, position: u64, rec: CveRecord) -> bool {
        let id = rec.id.clone();
        match (self.sink)(rec) {
            Ok(()) => {
                self.records += 1;
                true
            }
            Err(message) => {
                self.failed = Some((position, id, message));
                false
            }
        }
    }
}

struct BatchOut {
    tx: SyncSender<Vec<(u64, CveRecord)>>,
    batch: Vec<(u64, CveRecord)>,
}

impl BatchOut {
    fn flush(&mut self) -> bool {
        self.batch.is_empty() || self.tx.send(std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH))).is_ok()
    }
}

impl Out for BatchOut {
    fn put(&mut self, position: u64, rec: CveRecord) -> bool {
        self.batch.push((position, rec));
        self.batch.len() < BATCH || self.flush()
    }
}

enum Fail {
    Nvd(NvdError),
    /// The sink refused a record.
    Stop,
}

// ---------------------------------------------------------------------------------------------
// Scanner: cuts the input into JSON values without interpreting them.

enum Scanned {
    /// `buf[start..end]`.
    Bytes(usize, usize),
    /// Longer than the limit; scanned through without being kept.
    Oversize,
}

struct Scanner<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// 1-based line of the scanning position, and the absolute offset where that line starts.
    line: u64,
    line_start: u64,
}

impl<R: Read> Scanner<R> {
    fn new(src: R) -> Self {
        Scanner { src, buf: Vec::with_capacity(READ * 2), pos: 0, eof: false, base: 0, line: 1, line_start: 0 }
    }

    /// Line and column (1-based, bytes) of the scanning position.
    fn here(&self) -> (u64, u64) {
        (self.line, (self.base + self.pos as u64).saturating_sub(self.line_start) + 1)
    }

    /// Drops buffered bytes before `keep` and reads up to [`READ`] more (less only at the end
    /// of the input). Returns how many bytes were dropped.
    fn refill(&mut self, keep: usize) -> io::Result<usize> {
        let keep = keep.min(self.pos);
        if keep > 0 {
            self.buf.drain(..keep);
            self.base += keep as u64;
            self.pos -= keep;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ, 0);
        let mut filled = len;
        while filled < len + READ {
            match self.src.read(self.buf.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(filled);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(filled);
        Ok(keep)
    }

    /// Moves the scanning position `n` bytes on, counting lines.
    fn advance(&mut self, n: usize) {
        let region = self.buf.get(self.pos..self.pos + n).unwrap_or_default();
        let lines = region.iter().filter(|&&b| b == b'\n').count();
        if lines > 0 {
            self.line += lines as u64;
            if let Some(last) = region.iter().rposition(|&b| b == b'\n') {
                self.line_start = self.base + (self.pos + last + 1) as u64;
            }
        }
        self.pos += n;
    }

    /// Skips whitespace; the next byte, or `None` at the end of the input.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        loop {
            while let Some(&b) = self.buf.get(self.pos) {
                match b {
                    b' ' | b'\t' | b'\r' => self.pos += 1,
                    b'\n' => {
                        self.pos += 1;
                        self.line += 1;
                        self.line_start = self.base + self.pos as u64;
                    }
                    _ => return Ok(Some(b)),
                }
            }
            if self.eof {
                return Ok(None);
            }
            self.refill(self.pos)?;
        }
    }

    /// Finds the extent of the value at the scanning position (after [`Self::peek`]).
    /// `Ok(None)`: the input ended inside the value.
    fn value(&mut self, limit: usize) -> io::Result<Option<Scanned>> {
        let mut start = self.pos;
        let first = self.buf.get(start).copied().unwrap_or(b' ');
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let mut depth: u64 = 0;
        let mut in_str = false;
        let mut esc = false;
        let mut oversize = false;
        let mut i = start;
        loop {
            let mut done = false;
            if scalar {
                while let Some(&b) = self.buf.get(i) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        done = true;
                        break;
                    }
                    i += 1;
                }
            } else {
                while let Some(&b) = self.buf.get(i) {
                    i += 1;
                    if in_str {
                        if esc {
                            esc = false;
                        } else if b == b'\\' {
                            esc = true;
                        } else if b == b'"' {
                            in_str = false;
                            if depth == 0 {
                                done = true;
                                break;
                            }
                        } else {
                            // Jump to the next quote or backslash.
                            let rest = self.buf.get(i..).unwrap_or_default();
                            i += rest.iter().position(|&c| c == b'"' || c == b'\\').unwrap_or(rest.len());
                        }
                        continue;
                    }
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                done = true;
                                break;
                            }
                        }
                        b'\n' => {
                            self.line += 1;
                            self.line_start = self.base + i as u64;
                        }
                        _ => {}
                    }
                }
            }
            self.pos = i;
            if !oversize && i - start > limit {
                oversize = true;
            }
            if done || (scalar && self.eof) {
                return Ok(Some(if oversize { Scanned::Oversize } else { Scanned::Bytes(start, i) }));
            }
            if self.eof {
                return Ok(None);
            }
            let dropped = self.refill(if oversize { i } else { start })?;
            i -= dropped;
            start = start.saturating_sub(dropped);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Top-level structure.

fn parse<R: Read, O: Out>(file: &str, src: R, out: &mut O) -> Result<NvdStats, Fail> {
    let mut p = Parser { file, sc: Scanner::new(src), out, stats: NvdStats::default() };
    p.document()?;
    Ok(p.stats)
}

struct Parser<'a, R, O> {
    file: &'a str,
    sc: Scanner<R>,
    out: &'a mut O,
    stats: NvdStats,
}

/// Wrapper keys of pages and bundles, read leniently (a wrong type counts as absent).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Wrapper {
    #[serde(default, deserialize_with = "lenient_u64")]
    results_per_page: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    start_index: Option<u64>,
    #[serde(default, deserialize_with = "lenient_u64")]
    total_results: Option<u64>,
    #[serde(default, rename = "cve_count", deserialize_with = "lenient_u64")]
    cve_count: Option<u64>,
    #[serde(default, deserialize_with = "lenient_string")]
    timestamp: Option<String>,
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(default)]
    cve: Option<IgnoredAny>,
}

fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(serde_json::Value::deserialize(d)?.as_u64())
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(serde_json::Value::deserialize(d)?.as_str().map(str::to_owned))
}

impl<R: Read, O: Out> Parser<'_, R, O> {
    fn io(&self, source: io::Error) -> Fail {
        Fail::Nvd(NvdError::Io { file: self.file.to_owned(), source })
    }

    fn syntax_at(&self, (line, column): (u64, u64), message: impl Into<String>) -> Fail {
        Fail::Nvd(NvdError::Syntax { file: self.file.to_owned(), line, column, message: message.into() })
    }

    fn format(&self, reason: impl Into<String>) -> Fail {
        Fail::Nvd(NvdError::Format { file: self.file.to_owned(), reason: reason.into() })
    }

    /// A serde_json error in a value that started at `origin`.
    fn json_error(&self, e: &serde_json::Error, origin: (u64, u64)) -> Fail {
        self.syntax_at(map_position(origin, e.line(), e.column()), strip_position(&e.to_string()))
    }

    fn peek(&mut self) -> Result<Option<u8>, Fail> {
        self.sc.peek().map_err(|e| self.io(e))
    }

    fn expect_more(&mut self, what: &str) -> Result<u8, Fail> {
        match self.peek()? {
            Some(b) => Ok(b),
            None => Err(self.syntax_at(self.sc.here(), format!("unexpected end of input, expected {what}"))),
        }
    }

    /// Scans the next value; truncation is a syntax error.
    fn value(&mut self, limit: usize) -> Result<Scanned, Fail> {
        match self.sc.value(limit) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.syntax_at(self.sc.here(), "unexpected end of input inside a value")),
            Err(e) => Err(self.io(e)),
        }
    }

    fn bytes(&self, start: usize, end: usize) -> &[u8] {
        self.sc.buf.get(start..end).unwrap_or_default()
    }

    fn document(&mut self) -> Result<(), Fail> {
        // A UTF-8 byte order mark is tolerated.
        if self.peek()? == Some(0xEF) && self.sc.buf.get(self.sc.pos..self.sc.pos + 3) == Some(b"\xEF\xBB\xBF".as_slice()) {
            self.sc.pos += 3;
        }
        match self.peek()? {
            None => Err(self.format("empty input")),
            Some(b'{') => self.object(),
            Some(b'[') => {
                self.stats.shape = NvdShape::Array;
                self.array()?;
                self.end()
            }
            Some(_) => Err(self.syntax_at(self.sc.here(), "expected an object or an array")),
        }
    }

    fn end(&mut self) -> Result<(), Fail> {
        match self.peek()? {
            None => Ok(()),
            Some(_) => Err(self.syntax_at(self.sc.here(), "trailing characters after the JSON value")),
        }
    }

    /// The top-level object: a page, a bundle or a bare record. Everything but the record array
    /// is kept (as JSON text) and read at the end, so key order does not matter.
    fn object(&mut self) -> Result<(), Fail> {
        self.sc.pos += 1;
        let mut rest: Vec<u8> = b"{".to_vec();
        let mut array: Option<NvdShape> = None;
        let mut first = true;
        loop {
            let b = self.expect_more("a key or `}`")?;
            if b == b'}' && first {
                self.sc.pos += 1;
                break;
            }
            if b != b'"' {
                return Err(self.syntax_at(self.sc.here(), "expected a key"));
            }
            let origin = self.sc.here();
            let Scanned::Bytes(ks, ke) = self.value(MAX_TOP)? else {
                return Err(self.format("a key longer than 64 MiB"));
            };
            let key: String = serde_json::from_slice(self.bytes(ks, ke)).map_err(|e| self.json_error(&e, origin))?;
            let raw_key = self.bytes(ks, ke).to_vec();
            if self.expect_more("`:`")? != b':' {
                return Err(self.syntax_at(self.sc.here(), "expected `:`"));
            }
            self.sc.pos += 1;
            let b = self.expect_more("a value")?;
            match key.as_str() {
                "vulnerabilities" | "cve_items" if b == b'[' => {
                    if array.is_some() {
                        return Err(self.format("more than one record array"));
                    }
                    let shape = if key == "cve_items" { NvdShape::Bundle } else { NvdShape::ApiPage };
                    array = Some(shape);
                    self.stats.shape = shape;
                    self.array()?;
                }
                "CVE_Items" => return Err(self.format("this is an NVD 1.1 feed (CVE_Items); only the 2.0 format is read")),
                _ => {
                    let origin = self.sc.here();
                    let Scanned::Bytes(vs, ve) = self.value(MAX_TOP)? else {
                        return Err(self.format("more than 64 MiB of data outside a record array"));
                    };
                    let v = self.bytes(vs, ve);
                    if let Err(e) = serde_json::from_slice::<IgnoredAny>(v) {
                        return Err(self.json_error(&e, origin));
                    }
                    if matches!(key.as_str(), "vulnerabilities" | "cve_items") && v != b"null" {
                        return Err(self.format(format!("`{key}` is not an array")));
                    }
                    if key == "format"
                        && let Ok(Some(f)) = serde_json::from_slice::<Option<String>>(v)
                        && f != "NVD_CVE"
                    {
                        return Err(self.format(format!("format {:?}, expected \"NVD_CVE\"", clip(&f))));
                    }
                    if rest.len() + raw_key.len() + v.len() > MAX_TOP {
                        return Err(self.format("more than 64 MiB of data outside a record array"));
                    }
                    if rest.len() > 1 {
                        rest.push(b',');
                    }
                    rest.extend_from_slice(&raw_key);
                    rest.push(b':');
                    let v = self.bytes(vs, ve).to_vec();
                    rest.extend_from_slice(&v);
                }
            }
            first = false;
            match self.expect_more("`,` or `}`")? {
                b',' => self.sc.pos += 1,
                b'}' => {
                    self.sc.pos += 1;
                    break;
                }
                _ => return Err(self.syntax_at(self.sc.here(), "expected `,` or `}`")),
            }
        }
        self.end()?;
        rest.push(b'}');
        let w: Wrapper = serde_json::from_slice(&rest)
            .map_err(|e| self.format(format!("top-level keys: {}", strip_position(&e.to_string()))))?;
        self.stats.timestamp = w.timestamp;
        self.stats.results_per_page = w.results_per_page;
        self.stats.start_index = w.start_index;
        self.stats.total_results = w.total_results.or(w.cve_count);
        if array.is_some() {
            return Ok(());
        }
        if w.id.is_some() || w.cve.is_some() {
            self.stats.shape = NvdShape::Record;
            let outcome = classify(&rest);
            return self.apply(1, outcome, None);
        }
        if w.total_results.is_some() {
            self.stats.shape = NvdShape::ApiPage;
            return Ok(());
        }
        if w.cve_count.is_some() {
            self.stats.shape = NvdShape::Bundle;
            return Ok(());
        }
        Err(self.format("no `vulnerabilities` or `cve_items` array and no record `id`"))
    }

    /// A record array, from its `[`.
    fn array(&mut self) -> Result<(), Fail> {
        self.sc.pos += 1;
        let mut position = 0u64;
        loop {
            let b = self.expect_more("a record or `]`")?;
            if b == b']' && position == 0 {
                self.sc.pos += 1;
                return Ok(());
            }
            position += 1;
            let origin = self.sc.here();
            if let Some(outcome) = self.direct()? {
                self.apply(position, outcome, Some(origin))?;
            } else {
                self.scanned(position, b, origin)?;
            }
            match self.expect_more("`,` or `]`")? {
                b',' => self.sc.pos += 1,
                b']' => {
                    self.sc.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.syntax_at(self.sc.here(), "expected `,` or `]`")),
            }
        }
    }

    /// The fast path: a record deserialised straight from the buffer, serde_json telling where
    /// it ends. `None` when it does not map or is not all in the buffer yet; the caller then
    /// finds its extent with the scanner.
    fn direct(&mut self) -> Result<Option<Outcome>, Fail> {
        if self.sc.buf.len() - self.sc.pos < DIRECT_MIN && !self.sc.eof {
            self.sc.refill(self.sc.pos).map_err(|e| self.io(e))?;
        }
        let slice = self.sc.buf.get(self.sc.pos..).unwrap_or_default();
        let mut stream = serde_json::Deserializer::from_slice(slice).into_iter::<Obj<RawCve>>();
        let Some(Ok(Obj(raw))) = stream.next() else { return Ok(None) };
        let end = stream.byte_offset();
        self.sc.advance(end);
        Ok(Some(outcome(raw)))
    }

    /// The slow path: the record's extent first, then its mapping.
    fn scanned(&mut self, position: u64, first: u8, origin: (u64, u64)) -> Result<(), Fail> {
        match self.value(MAX_RECORD)? {
            Scanned::Oversize => {
                self.skip(position, "record".into(), format!("larger than {} MiB", MAX_RECORD >> 20));
            }
            Scanned::Bytes(s, e) => {
                if !matches!(first, b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') {
                    return Err(self.syntax_at(origin, "expected a value"));
                }
                let outcome = classify(self.bytes(s, e));
                self.apply(position, outcome, Some(origin))?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, position: u64, field: String, reason: String) {
        self.stats.skipped_count += 1;
        if self.stats.skipped.len() < MAX_SKIPPED_LISTED {
            self.stats.skipped.push((position, field, reason));
        }
    }

    /// `origin`: where the record starts in the file (`None` for a bare top-level record,
    /// whose text was reassembled).
    fn apply(&mut self, position: u64, outcome: Outcome, origin: Option<(u64, u64)>) -> Result<(), Fail> {
        match outcome {
            Outcome::Record(rec) => {
                if !self.out.put(position, *rec) {
                    return Err(Fail::Stop);
                }
            }
            Outcome::Rejected(id) => {
                self.stats.rejected += 1;
                if self.stats.rejected_ids.len() < MAX_REJECTED_LISTED {
                    self.stats.rejected_ids.push(id);
                }
            }
            Outcome::Skip(field, reason, at) => {
                let reason = match (origin, at) {
                    (Some(o), Some((l, c))) => {
                        let (line, column) = map_position(o, l, c);
                        format!("{reason} (line {line}, column {column})")
                    }
                    _ => reason,
                };
                self.skip(position, field, reason);
            }
            Outcome::Broken(e) => {
                let origin = origin.unwrap_or((1, 1));
                return Err(self.json_error(&e, origin));
            }
        }
        Ok(())
    }
}

/// Position in the file of an error at (`line`, `column`) of a value that starts at `origin`.
fn map_position((line0, col0): (u64, u64), line: usize, column: usize) -> (u64, u64) {
    if line <= 1 {
        (line0, col0 + (column as u64).saturating_sub(1))
    } else {
        (line0 + line as u64 - 1, column as u64)
    }
}

/// serde_json's message without its " at line L column C" (which is relative to the slice).
fn strip_position(message: &str) -> String {
    match message.rsplit_once(" at line ") {
        Some((head, _)) => head.to_owned(),
        None => message.to_owned(),
    }
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

// ---------------------------------------------------------------------------------------------
// Record mapping.

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A record as an object only (serde would otherwise also fill a struct from an array).
struct Obj<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a CVE record object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCve {
    id: Option<String>,
    source_identifier: Option<String>,
    published: Option<String>,
    last_modified: Option<String>,
    vuln_status: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    cve_tags: Vec<RawTagSet>,
    #[serde(default, deserialize_with = "nullable")]
    descriptions: Vec<RawText>,
    #[serde(default, deserialize_with = "nullable")]
    metrics: RawMetrics,
    #[serde(default, deserialize_with = "nullable")]
    weaknesses: Vec<RawWeakness>,
    cisa_exploit_add: Option<String>,
    cisa_action_due: Option<String>,
    cisa_required_action: Option<String>,
    cisa_vulnerability_name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    configurations: Vec<RawConfiguration>,
    #[serde(default, deserialize_with = "nullable")]
    references: Vec<RawReference>,
    /// `{"cve": {…}}` as API pages wrap records.
    cve: Option<Box<Obj<RawCve>>>,
}

#[derive(Deserialize, Default)]
struct RawTagSet {
    #[serde(default, deserialize_with = "nullable")]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct RawText {
    lang: String,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawMetrics {
    #[serde(default, deserialize_with = "nullable")]
    cvss_metric_v2: Vec<RawMetric>,
    #[serde(default, deserialize_with = "nullable")]
    cvss_metric_v30: Vec<RawMetric>,
    #[serde(default, deserialize_with = "nullable")]
    cvss_metric_v31: Vec<RawMetric>,
    #[serde(default, deserialize_with = "nullable")]
    cvss_metric_v40: Vec<RawMetric>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMetric {
    source: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    cvss_data: RawCvssData,
    /// CVSS 2.0 keeps the severity here, outside `cvssData`.
    base_severity: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCvssData {
    version: Option<String>,
    vector_string: String,
    base_score: f64,
    base_severity: Option<String>,
}

#[derive(Deserialize)]
struct RawWeakness {
    #[serde(default, deserialize_with = "nullable")]
    description: Vec<RawText>,
}

#[derive(Deserialize)]
struct RawConfiguration {
    operator: Option<Operator>,
    negate: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNode {
    operator: Option<Operator>,
    negate: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    cpe_match: Vec<RawCpeMatch>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCpeMatch {
    vulnerable: bool,
    criteria: String,
    match_criteria_id: Option<String>,
    version_start_including: Option<String>,
    version_start_excluding: Option<String>,
    version_end_including: Option<String>,
    version_end_excluding: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    url: String,
    source: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    tags: Vec<String>,
}

enum Outcome {
    Record(Box<CveRecord>),
    Rejected(String),
    /// Field, reason, and the (line, column) inside the record when serde_json gave one.
    Skip(String, String, Option<(usize, usize)>),
    /// Not valid JSON.
    Broken(serde_json::Error),
}

fn outcome(raw: RawCve) -> Outcome {
    match convert(raw) {
        Ok(Ok(rec)) => Outcome::Record(Box::new(rec)),
        Ok(Err(id)) => Outcome::Rejected(id),
        Err((field, reason)) => Outcome::Skip(field.to_owned(), reason, None),
    }
}

/// Maps one record's text.
fn classify(bytes: &[u8]) -> Outcome {
    match serde_json::from_slice::<Obj<RawCve>>(bytes) {
        Ok(Obj(raw)) => outcome(raw),
        Err(e) if e.is_data() => {
            // A type error stops serde_json early: make sure the rest is JSON before skipping.
            if let Err(broken) = serde_json::from_slice::<IgnoredAny>(bytes) {
                return Outcome::Broken(broken);
            }
            let at = (e.line() > 0).then(|| (e.line(), e.column()));
            Outcome::Skip(bad_field(bytes), strip_position(&e.to_string()), at)
        }
        Err(e) => Outcome::Broken(e),
    }
}

/// Names the top-level field of a record that does not map (only called for bad records).
fn bad_field(bytes: &[u8]) -> String {
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return "record".into();
    };
    if let Some(serde_json::Value::Object(inner)) = map.get_mut("cve") {
        map = std::mem::take(inner);
    }
    for (key, value) in map {
        let mut one = serde_json::Map::new();
        one.insert(key.clone(), value);
        if serde_json::from_value::<RawCve>(serde_json::Value::Object(one)).is_err() {
            return key;
        }
    }
    "record".into()
}

/// `CVE-\d{4}-\d{4,}`.
fn valid_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
}

fn push_unique(list: &mut Vec<String>, value: String) {
    if !list.contains(&value) {
        list.push(value);
    }
}

type MapError = (&'static str, String);

fn check_len(field: &'static str, s: &str) -> Result<(), MapError> {
    if s.len() > MAX_TEXT {
        return Err((field, format!("{} bytes, over the {} MiB limit", s.len(), MAX_TEXT >> 20)));
    }
    Ok(())
}

/// `Ok(Err(id))`: a rejected record.
fn convert(mut raw: RawCve) -> Result<Result<CveRecord, String>, MapError> {
    if let Some(inner) = raw.cve.take() {
        raw = inner.0;
    }
    let Some(id) = raw.id else { return Err(("id", "missing".into())) };
    if !valid_id(&id) {
        return Err(("id", format!("{:?} is not a CVE id", clip(&id))));
    }
    let status = raw.vuln_status.unwrap_or_default();
    if status == "Rejected" {
        return Ok(Err(id));
    }
    let mut tags = Vec::new();
    for set in raw.cve_tags {
        for tag in set.tags {
            push_unique(&mut tags, tag);
        }
    }
    let mut descriptions = Vec::with_capacity(raw.descriptions.len());
    for d in raw.descriptions {
        check_len("descriptions", &d.value)?;
        descriptions.push(Text { lang: d.lang, value: d.value });
    }
    let m = raw.metrics;
    let mut cvss = Vec::new();
    for (version, list) in [("4.0", m.cvss_metric_v40), ("3.1", m.cvss_metric_v31), ("3.0", m.cvss_metric_v30), ("2.0", m.cvss_metric_v2)] {
        for e in list {
            check_len("metrics", &e.cvss_data.vector_string)?;
            cvss.push(Cvss {
                version: e.cvss_data.version.unwrap_or_else(|| version.to_owned()),
                source: e.source.unwrap_or_default(),
                primary: e.kind.as_deref() == Some("Primary"),
                vector: e.cvss_data.vector_string,
                base_score: e.cvss_data.base_score,
                severity: e.cvss_data.base_severity.or(e.base_severity).unwrap_or_default(),
            });
        }
    }
    let mut cwes = Vec::new();
    for w in raw.weaknesses {
        for d in w.description {
            check_len("weaknesses", &d.value)?;
            push_unique(&mut cwes, d.value);
        }
    }
    let kev = if raw.cisa_exploit_add.is_some()
        || raw.cisa_action_due.is_some()
        || raw.cisa_required_action.is_some()
        || raw.cisa_vulnerability_name.is_some()
    {
        let kev = EmbeddedKev {
            date_added: raw.cisa_exploit_add.unwrap_or_default(),
            due_date: raw.cisa_action_due.unwrap_or_default(),
            required_action: raw.cisa_required_action.unwrap_or_default(),
            name: raw.cisa_vulnerability_name.unwrap_or_default(),
        };
        check_len("cisaRequiredAction", &kev.required_action)?;
        check_len("cisaVulnerabilityName", &kev.name)?;
        Some(kev)
    } else {
        None
    };
    let mut configurations = Vec::with_capacity(raw.configurations.len());
    for c in raw.configurations {
        let mut nodes = Vec::with_capacity(c.nodes.len());
        for n in c.nodes {
            let mut cpe_match = Vec::with_capacity(n.cpe_match.len());
            for m in n.cpe_match {
                check_len("criteria", &m.criteria)?;
                cpe_match.push(CpeMatch {
                    vulnerable: m.vulnerable,
                    criteria: m.criteria,
                    match_criteria_id: m.match_criteria_id,
                    version_start_including: m.version_start_including,
                    version_start_excluding: m.version_start_excluding,
                    version_end_including: m.version_end_including,
                    version_end_excluding: m.version_end_excluding,
                });
            }
            nodes.push(Node { operator: n.operator.unwrap_or_default(), negate: n.negate.unwrap_or(false), cpe_match });
        }
        configurations.push(Configuration {
            operator: c.operator.unwrap_or_default(),
            negate: c.negate.unwrap_or(false),
            nodes,
        });
    }
    let mut references = Vec::with_capacity(raw.references.len());
    for r in raw.references {
        check_len("references", &r.url)?;
        references.push(Reference { url: r.url, source: r.source, tags: r.tags });
    }
    Ok(Ok(CveRecord {
        id,
        source_identifier: raw.source_identifier.unwrap_or_default(),
        published: raw.published.unwrap_or_default(),
        last_modified: raw.last_modified.unwrap_or_default(),
        status,
        tags,
        descriptions,
        cvss,
        cwes,
        kev,
        configurations,
        references,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;
    use std::io::Write;

    type TestResult = Result<(), Box<dyn Error>>;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/nvd");

    fn real(name: &str) -> Result<String, Box<dyn Error>> {
        Ok(std::fs::read_to_string(format!("{DATA}/{name}"))?)
    }

    fn read_all(bytes: &[u8]) -> Result<(NvdStats, Vec<CveRecord>), NvdError> {
        let mut out = Vec::new();
        let stats = read_nvd("test.json", bytes, |r| {
            out.push(r);
            Ok(())
        })?;
        Ok((stats, out))
    }

    fn one(name: &str) -> Result<CveRecord, Box<dyn Error>> {
        let (stats, mut recs) = read_all(real(name)?.as_bytes())?;
        assert_eq!((stats.shape, stats.records, stats.skipped_count), (NvdShape::Record, 1, 0), "{name}");
        recs.pop().ok_or_else(|| format!("{name}: no record").into())
    }

    const REJECTED: &str = r#"{"id":"CVE-2023-99999","sourceIdentifier":"cve@mitre.org","published":"2023-01-01T00:00:00.000","lastModified":"2023-02-01T00:00:00.000","vulnStatus":"Rejected","descriptions":[{"lang":"en","value":"Rejected reason: duplicate."}],"metrics":{},"references":[]}"#;

    fn page(records: &[&str]) -> String {
        let items: Vec<String> = records.iter().map(|r| format!("{{\"cve\":{r}}}")).collect();
        format!(
            "{{\n\"resultsPerPage\": {n},\n\"startIndex\": 40,\n\"totalResults\": 1234,\n\"format\": \"NVD_CVE\",\n\"version\": \"2.0\",\n\"timestamp\": \"2025-08-25T10:00:00.000\",\n\"vulnerabilities\": [\n{}\n]\n}}\n",
            items.join(",\n"),
            n = records.len()
        )
    }

    fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes)?;
        gz.finish()
    }

    fn xz(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(bytes)?;
        xz.finish()
    }

    #[test]
    fn fortios_ranges_and_embedded_kev() -> TestResult {
        let r = one("CVE-2024-21762.json")?;
        assert_eq!((r.id.as_str(), r.status.as_str()), ("CVE-2024-21762", "Analyzed"));
        assert_eq!(r.source_identifier, "psirt@fortinet.com");
        assert_eq!(r.published, "2024-02-09T09:15:08.087");
        assert_eq!(r.configurations.len(), 1);
        let node = &r.configurations[0].nodes[0];
        assert_eq!((node.operator, node.negate, node.cpe_match.len()), (Operator::Or, false, 10));
        let m = node
            .cpe_match
            .iter()
            .find(|m| m.criteria.contains(":fortios:") && m.version_start_including.as_deref() == Some("7.2.0"))
            .ok_or("no fortios 7.2 range")?;
        assert_eq!(m.version_end_excluding.as_deref(), Some("7.2.7"));
        assert!(m.vulnerable && m.match_criteria_id.is_some() && m.version_end_including.is_none());
        let kev = r.kev.as_ref().ok_or("no KEV")?;
        assert_eq!((kev.date_added.as_str(), kev.due_date.as_str()), ("2024-02-09", "2024-02-16"));
        assert!(kev.name.contains("FortiOS"));
        assert_eq!(r.cwes, ["CWE-787"]);
        assert_eq!(r.cvss.len(), 2);
        let best = r.best_cvss().ok_or("no CVSS")?;
        assert_eq!((best.source.as_str(), best.primary, best.version.as_str()), ("nvd@nist.gov", true, "3.1"));
        assert_eq!((best.base_score, best.severity.as_str()), (9.8, "CRITICAL"));
        assert_eq!(r.descriptions.iter().map(|d| d.lang.as_str()).collect::<Vec<_>>(), ["en", "es"]);
        assert!(r.description("en").is_some_and(|d| d.starts_with("A out-of-bounds write")));
        let advisory = r.references.iter().find(|x| x.url == "https://fortiguard.com/psirt/FG-IR-24-015").ok_or("ref")?;
        assert_eq!((advisory.source.as_deref(), advisory.tags.clone()), (Some("psirt@fortinet.com"), vec!["Vendor Advisory".to_owned()]));
        Ok(())
    }

    #[test]
    fn zyxel_and_configuration_with_platform_node() -> TestResult {
        let r = one("CVE-2023-28771.json")?;
        assert_eq!(r.configurations.len(), 19);
        assert!(r.configurations.iter().all(|c| c.operator == Operator::And && c.nodes.len() == 2));
        let c = &r.configurations[0];
        let (fw, hw) = (&c.nodes[0].cpe_match[0], &c.nodes[1].cpe_match[0]);
        assert_eq!(fw.criteria, "cpe:2.3:o:zyxel:atp100_firmware:*:*:*:*:*:*:*:*");
        assert_eq!((fw.version_start_including.as_deref(), fw.version_end_excluding.as_deref()), (Some("4.60"), Some("5.36")));
        assert!(fw.vulnerable);
        assert_eq!(hw.criteria, "cpe:2.3:h:zyxel:atp100:-:*:*:*:*:*:*:*");
        assert!(!hw.vulnerable);
        // Both CVSS entries are Secondary here, NVD's own included.
        assert_eq!(r.cvss.len(), 2);
        assert!(r.cvss.iter().all(|c| !c.primary));
        assert_eq!(r.cwes, ["CWE-78"]);
        Ok(())
    }

    #[test]
    fn cisco_criteria_keeps_backslashes_and_v2_severity() -> TestResult {
        let r = one("CVE-2018-0171.json")?;
        let all: Vec<&str> =
            r.configurations.iter().flat_map(|c| &c.nodes).flat_map(|n| &n.cpe_match).map(|m| m.criteria.as_str()).collect();
        assert!(all.contains(&r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*"), "{all:?}");
        let v2 = r.cvss.iter().find(|c| c.version == "2.0").ok_or("no CVSS 2")?;
        assert_eq!((v2.severity.as_str(), v2.base_score, v2.primary), ("HIGH", 10.0, true));
        assert!(v2.vector.starts_with("AV:N/"));
        assert_eq!(r.cwes, ["CWE-20", "CWE-787"]);
        assert!(r.kev.is_some());
        Ok(())
    }

    #[test]
    fn awaiting_analysis_has_no_configurations() -> TestResult {
        let r = one("CVE-2024-3400.awaiting-analysis.json")?;
        assert_eq!(r.status, "Awaiting Analysis");
        assert!(r.configurations.is_empty() && r.tags.is_empty());
        assert_eq!(r.cvss.len(), 1);
        assert!(r.kev.is_some());
        Ok(())
    }

    /// Every real file, checked against an independent walk over `serde_json::Value`.
    #[test]
    fn every_real_file_maps_completely() -> TestResult {
        let mut names: Vec<String> = std::fs::read_dir(DATA)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 13);
        for name in &names {
            let text = real(name)?;
            let v: serde_json::Value = serde_json::from_str(&text)?;
            let r = one(name)?;
            assert_eq!(Some(r.id.as_str()), v["id"].as_str());
            assert_eq!(Some(r.status.as_str()), v["vulnStatus"].as_str());
            let matches: usize = v["configurations"]
                .as_array()
                .map(|cs| cs.iter().flat_map(|c| c["nodes"].as_array().into_iter().flatten()).map(|n| n["cpeMatch"].as_array().map_or(0, Vec::len)).sum())
                .unwrap_or(0);
            let ours: usize = r.configurations.iter().flat_map(|c| &c.nodes).map(|n| n.cpe_match.len()).sum();
            assert_eq!(ours, matches, "{name}");
            let metrics: usize = v["metrics"].as_object().map_or(0, |m| m.values().filter_map(|l| l.as_array()).map(Vec::len).sum());
            assert_eq!(r.cvss.len(), metrics, "{name}");
            assert_eq!(r.references.len(), v["references"].as_array().map_or(0, Vec::len), "{name}");
            assert_eq!(r.kev.is_some(), v.get("cisaExploitAdd").is_some(), "{name}");
            assert!(!r.cwes.is_empty() && r.cwes.iter().all(|c| c.starts_with("CWE-") || c.starts_with("NVD-CWE-")), "{name}");
        }
        let eternal_blue = one("CVE-2017-0144.json")?;
        assert_eq!(eternal_blue.status, "Deferred");
        assert_eq!(eternal_blue.cwes, ["NVD-CWE-noinfo"]);
        assert_eq!(one("CVE-2018-13379.json")?.cwes, ["CWE-22"]);
        assert_eq!(one("CVE-2024-3400.json")?.cwes, ["CWE-77", "CWE-20"]);
        let log4j = one("CVE-2021-44228.json")?;
        assert!(log4j.configurations.iter().any(|c| c.operator == Operator::And && !c.negate));
        Ok(())
    }

    #[test]
    fn api_page_hands_over_two_and_counts_the_rejected_one() -> TestResult {
        let text = page(&[&real("CVE-2024-21762.json")?, REJECTED, &real("CVE-2018-0171.json")?]);
        let (stats, recs) = read_all(text.as_bytes())?;
        assert_eq!(recs.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["CVE-2024-21762", "CVE-2018-0171"]);
        assert_eq!((stats.shape, stats.records, stats.rejected, stats.skipped_count), (NvdShape::ApiPage, 2, 1, 0));
        assert_eq!(stats.rejected_ids, ["CVE-2023-99999"]);
        assert_eq!((stats.results_per_page, stats.start_index, stats.total_results), (Some(3), Some(40), Some(1234)));
        assert_eq!(stats.timestamp.as_deref(), Some("2025-08-25T10:00:00.000"));
        // The records are the same as read from their own files.
        assert_eq!(recs.first(), Some(&one("CVE-2024-21762.json")?));
        Ok(())
    }

    #[test]
    fn gzip_and_xz_pages_read_the_same() -> TestResult {
        let text = page(&[&real("CVE-2024-21762.json")?, REJECTED, &real("CVE-2018-0171.json")?]);
        let plain = read_all(text.as_bytes())?;
        for packed in [gzip(text.as_bytes())?, xz(text.as_bytes())?] {
            assert_eq!(read_all(&packed)?, plain);
        }
        // Damaged compression is an I/O error naming the file.
        let mut bad = gzip(text.as_bytes())?;
        bad.truncate(bad.len() / 2);
        let Err(e @ NvdError::Io { .. }) = read_all(&bad) else { panic!("truncated gzip read") };
        assert!(e.to_string().starts_with("test.json: "));
        Ok(())
    }

    #[test]
    fn unmappable_records_are_skipped_with_position_and_field() -> TestResult {
        let good = real("CVE-2024-21762.json")?;
        let huge = format!(r#"{{"id":"CVE-2024-00005","descriptions":[{{"lang":"en","value":"{}"}}]}}"#, "x".repeat(MAX_TEXT + 1));
        let text = page(&[
            &good,
            r#"{"sourceIdentifier":"x","vulnStatus":"Analyzed"}"#,
            r#"{"id":"CVE-24-1"}"#,
            r#"{"id":"CVE-2024-00004","configurations":"none"}"#,
            &huge,
            r#"{"id":"CVE-2024-00006","configurations":[{"nodes":[{"operator":"OR","cpeMatch":[{"vulnerable":true,"criteria":5}]}]}]}"#,
            r#"{"id":"CVE-2024-00007","configurations":[{"operator":"XOR","nodes":[]}]}"#,
            &good,
        ]);
        let (stats, recs) = read_all(text.as_bytes())?;
        assert_eq!((stats.records, recs.len(), stats.skipped_count), (2, 2, 6));
        let got: Vec<(u64, &str)> = stats.skipped.iter().map(|(p, f, _)| (*p, f.as_str())).collect();
        assert_eq!(got, [(2, "id"), (3, "id"), (4, "configurations"), (5, "descriptions"), (6, "configurations"), (7, "configurations")]);
        let (_, _, reason) = &stats.skipped[4];
        assert!(reason.contains("invalid type: integer `5`") && reason.contains("(line "), "{reason}");
        // Elements that are not objects are skipped too.
        let (stats, _) = read_all(br#"[42, null, "CVE-2024-1", ["CVE-2024-0002"], {"cve":["CVE-2024-0003"]}, {"id":"CVE-2024-0001"}]"#)?;
        assert_eq!((stats.records, stats.skipped_count), (1, 5));
        let fields: Vec<&str> = stats.skipped.iter().map(|(_, f, _)| f.as_str()).collect();
        assert_eq!(fields, ["record", "record", "record", "record", "cve"]);
        Ok(())
    }

    #[test]
    fn skipped_list_is_capped_but_counted() -> TestResult {
        let items = vec![r#"{"id":"bad"}"#; MAX_SKIPPED_LISTED + 5];
        let (stats, _) = read_all(format!("[{}]", items.join(",")).as_bytes())?;
        assert_eq!((stats.skipped.len(), stats.skipped_count), (MAX_SKIPPED_LISTED, MAX_SKIPPED_LISTED as u64 + 5));
        Ok(())
    }

    #[test]
    fn broken_json_errors_with_line_and_column() -> TestResult {
        let text = page(&[&real("CVE-2024-21762.json")?, &real("CVE-2018-0171.json")?]);
        // Truncated in the middle of the second record.
        let cut = text.get(..text.len() - 3000).ok_or("short")?;
        let Err(NvdError::Syntax { file, line, column, message }) = read_all(cut.as_bytes()) else {
            panic!("truncated page read")
        };
        assert_eq!(file, "test.json");
        assert_eq!(line, cut.matches('\n').count() as u64 + 1, "{message}");
        assert!(column >= 1 && message.contains("end of input"), "{message}");
        // A broken literal deep inside the first record: the exact place is named.
        let at = text.find("\"vulnerable\": true").ok_or("no literal")? + "\"vulnerable\": tru".len();
        let broken = format!("{}{}", text.get(..at).ok_or("cut")?, text.get(at + 1..).ok_or("cut")?);
        let Err(e @ NvdError::Syntax { .. }) = read_all(broken.as_bytes()) else { panic!("broken literal read") };
        let before = broken.get(..at).ok_or("cut")?;
        let line = before.matches('\n').count() as u64 + 1;
        let column = (at - before.rfind('\n').map_or(0, |p| p + 1)) as u64 + 1;
        let NvdError::Syntax { line: l, column: c, .. } = &e else { panic!() };
        assert_eq!((*l, *c), (line, column), "{e}");
        assert!(e.to_string().starts_with(&format!("test.json: broken JSON at line {line}, column {column}: ")), "{e}");
        // A type error first, broken JSON later in the same record: still a syntax error.
        let r = read_all(br#"[{"id": 5, "x": tru}]"#);
        assert!(matches!(r, Err(NvdError::Syntax { line: 1, column: 20, .. })), "{r:?}");
        // Missing commas, trailing text, bad top level.
        assert!(matches!(read_all(br#"[{"id":"CVE-2024-0001"} {"id":"CVE-2024-0002"}]"#), Err(NvdError::Syntax { column: 25, .. })));
        assert!(matches!(read_all(br#"{"id":"CVE-2024-0001"} x"#), Err(NvdError::Syntax { column: 24, .. })));
        assert!(matches!(read_all(br#"{"id":"CVE-2024-0001",}"#), Err(NvdError::Syntax { .. })));
        assert!(matches!(read_all(b"\n\n  nope"), Err(NvdError::Syntax { line: 3, column: 3, .. })));
        assert!(matches!(read_all(br#"{"totalResults": 1, "vulnerabilities": [{"cve": {"id": "CVE-2024-0001"}"#), Err(NvdError::Syntax { .. })));
        Ok(())
    }

    #[test]
    fn keys_in_any_order_and_other_shapes() -> TestResult {
        let a = real("CVE-2024-21762.json")?;
        let b = real("CVE-2023-28771.json")?;
        let expected = read_all(page(&[&a, &b]).as_bytes())?.1;
        // Array before the paging keys; record keys reversed.
        let v: serde_json::Value = serde_json::from_str(&b)?;
        let mut keys: Vec<(&String, &serde_json::Value)> = v.as_object().ok_or("object")?.iter().collect();
        keys.reverse();
        let reversed = format!("{{{}}}", keys.iter().map(|(k, v)| format!("{:?}:{}", k, v)).collect::<Vec<_>>().join(","));
        assert!(reversed.starts_with("{\"weaknesses\"") && !reversed.contains("{\"id\""));
        let odd = format!(
            r#"{{"vulnerabilities":[{{"cve":{a}}},{{"cve":{reversed}}}],"timestamp":"2025-08-25T10:00:00.000","totalResults":2,"format":"NVD_CVE","startIndex":0,"resultsPerPage":2000}}"#
        );
        let (stats, recs) = read_all(odd.as_bytes())?;
        assert_eq!(recs, expected);
        assert_eq!((stats.shape, stats.total_results, stats.results_per_page), (NvdShape::ApiPage, Some(2), Some(2000)));
        // Top-level arrays, of bare records and of wrapped ones.
        let (stats, recs) = read_all(format!("[{a},{b}]").as_bytes())?;
        assert_eq!((stats.shape, &recs), (NvdShape::Array, &expected));
        let (stats, recs) = read_all(format!("[{{\"cve\":{a}}},{{\"cve\":{b}}}]").as_bytes())?;
        assert_eq!((stats.shape, &recs, stats.total_results), (NvdShape::Array, &expected, None));
        // fkie-cad release bundle (CVE-YYYY.json.xz), xz-compressed as released.
        let bundle = format!(
            "{{\n  \"timestamp\": \"2026-10-02T00:00:23+00:00\",\n  \"cve_count\": 2,\n  \"feed_name\": \"CVE-2024\",\n  \"source\": \"fkie-cad/nvd-json-data-feeds\",\n  \"cve_items\": [{a},{b}]\n}}"
        );
        let (stats, recs) = read_all(&xz(bundle.as_bytes())?)?;
        assert_eq!((stats.shape, &recs, stats.total_results), (NvdShape::Bundle, &expected, Some(2)));
        assert_eq!(stats.timestamp.as_deref(), Some("2026-10-02T00:00:23+00:00"));
        // A single wrapped record, with a byte order mark.
        let (stats, recs) = read_all(format!("\u{feff}{{\"cve\":{reversed}}}").as_bytes())?;
        assert_eq!((stats.shape, recs.first()), (NvdShape::Record, expected.get(1)));
        // An empty page.
        let (stats, recs) = read_all(br#"{"resultsPerPage":0,"startIndex":0,"totalResults":0,"format":"NVD_CVE","version":"2.0","timestamp":"t","vulnerabilities":[]}"#)?;
        assert_eq!((stats.shape, recs.len(), stats.total_results), (NvdShape::ApiPage, 0, Some(0)));
        Ok(())
    }

    #[test]
    fn every_cvss_version_is_kept() -> TestResult {
        let rec = r#"{"id":"CVE-2025-12345","vulnStatus":"Received","cveTags":[{"sourceIdentifier":"a","tags":["disputed"]},{"sourceIdentifier":"b","tags":["disputed","unsupported-when-assigned"]}],
            "metrics":{
              "cvssMetricV40":[{"source":"cna@example","type":"Secondary","cvssData":{"version":"4.0","vectorString":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","baseScore":9.3,"baseSeverity":"CRITICAL","threatScore":9.3}}],
              "cvssMetricV30":[{"source":"cna@example","type":"Secondary","cvssData":{"version":"3.0","vectorString":"CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8,"baseSeverity":"CRITICAL"}}],
              "cvssMetricV2":[{"source":"nvd@nist.gov","type":"Primary","cvssData":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:P/I:P/A:P","baseScore":7.5},"baseSeverity":"HIGH","exploitabilityScore":10.0}]},
            "weaknesses":[{"source":"a","type":"Primary","description":[{"lang":"en","value":"NVD-CWE-Other"}]},{"source":"b","type":"Secondary","description":[{"lang":"en","value":"NVD-CWE-Other"},{"lang":"en","value":"CWE-79"}]}],
            "configurations":[{"negate":true,"nodes":[{"operator":"AND","negate":true,"cpeMatch":[{"vulnerable":true,"criteria":"cpe:2.3:a:x:y:*:*:*:*:*:*:*:*","versionStartExcluding":"1","versionEndIncluding":"2"}]}]}],
            "descriptions":null,"references":null}"#;
        let (_, recs) = read_all(rec.as_bytes())?;
        let r = recs.first().ok_or("no record")?;
        let got: Vec<(&str, &str, bool, f64, &str)> =
            r.cvss.iter().map(|c| (c.version.as_str(), c.source.as_str(), c.primary, c.base_score, c.severity.as_str())).collect();
        assert_eq!(
            got,
            [("4.0", "cna@example", false, 9.3, "CRITICAL"), ("3.0", "cna@example", false, 9.8, "CRITICAL"), ("2.0", "nvd@nist.gov", true, 7.5, "HIGH")]
        );
        assert_eq!(r.tags, ["disputed", "unsupported-when-assigned"]);
        assert_eq!(r.cwes, ["NVD-CWE-Other", "CWE-79"]);
        let c = &r.configurations[0];
        assert_eq!((c.operator, c.negate, c.nodes[0].operator, c.nodes[0].negate), (Operator::Or, true, Operator::And, true));
        let m = &c.nodes[0].cpe_match[0];
        assert_eq!((m.version_start_excluding.as_deref(), m.version_end_including.as_deref(), m.match_criteria_id.as_deref()), (Some("1"), Some("2"), None));
        assert!(r.kev.is_none() && r.descriptions.is_empty() && r.references.is_empty());
        Ok(())
    }

    #[test]
    fn not_nvd_files() {
        for (input, what) in [
            (&b""[..], "empty input"),
            (b"   \n", "empty input"),
            (b"{}", "no `vulnerabilities`"),
            (br#"{"catalogVersion":"1","vulnerabilities":null}"#, "no `vulnerabilities`"),
            (br#"{"CVE_data_type":"CVE","CVE_Items":[]}"#, "NVD 1.1"),
            (br#"{"format":"NVD_CPE","products":[]}"#, "NVD_CPE"),
            (br#"{"totalResults":1,"vulnerabilities":{"cve":{}}}"#, "is not an array"),
        ] {
            match read_all(input) {
                Err(e @ NvdError::Format { .. }) => assert!(e.to_string().contains(what), "{e}"),
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
            }
        }
        assert!(matches!(read_all(b"42"), Err(NvdError::Syntax { .. })));
        assert!(matches!(read_all(b"\"CVE-2024-0001\""), Err(NvdError::Syntax { .. })));
        // A KEV catalog reads as a page whose elements are all unmappable.
        let Ok((stats, recs)) = read_all(br#"{"catalogVersion":"1","vulnerabilities":[{"cveID":"CVE-2024-0001"}]}"#) else { panic!() };
        assert_eq!((recs.len(), stats.skipped_count), (0, 1));
    }

    #[test]
    fn sink_errors_stop_the_read() -> TestResult {
        let a = real("CVE-2024-21762.json")?;
        let small = page(&[&a, &a, &a]);
        // Large enough (> 1 MiB) to go through the reading thread.
        let many: Vec<&str> = vec![a.as_str(); 400];
        let large = page(&many);
        assert!(large.len() > SMALL);
        for text in [&small, &large] {
            let mut seen = 0;
            let res = read_nvd("feed.json", text.as_bytes(), |_| {
                seen += 1;
                if seen == 2 { Err("disk full".into()) } else { Ok(()) }
            });
            let Err(e @ NvdError::Sink { .. }) = res else { panic!("sink error lost: {res:?}") };
            assert_eq!(e.to_string(), "feed.json: record 2 (CVE-2024-21762) was refused: disk full");
            assert_eq!(seen, 2);
        }
        Ok(())
    }

    #[test]
    fn large_inputs_read_through_threads_alike() -> TestResult {
        let names = ["CVE-2024-21762.json", "CVE-2021-44228.json", "CVE-2023-28771.json", "CVE-2017-0144.json"];
        let texts: Vec<String> = names.iter().map(|n| real(n)).collect::<Result<_, _>>()?;
        let mut items: Vec<String> = Vec::new();
        for i in 0..120 {
            let t = texts.get(i % texts.len()).ok_or("text")?;
            let id = serde_json::from_str::<serde_json::Value>(t)?["id"].as_str().unwrap_or_default().to_owned();
            items.push(t.replacen(&id, &format!("CVE-2099-{:05}", i + 10_000), 1));
        }
        items.insert(60, REJECTED.to_owned());
        items.insert(7, r#"{"id":"CVE-2099-1"}"#.to_owned());
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let text = page(&refs);
        assert!(text.len() > 2 * SMALL);
        let (stats, recs) = read_all(text.as_bytes())?;
        assert_eq!((stats.records, stats.rejected, stats.skipped_count), (120, 1, 1));
        assert_eq!(stats.skipped.first().map(|s| (s.0, s.1.as_str())), Some((8, "id")));
        assert!(recs.iter().enumerate().all(|(i, r)| r.id == format!("CVE-2099-{:05}", i + 10_000)));
        for packed in [gzip(text.as_bytes())?, xz(text.as_bytes())?] {
            assert_eq!(read_all(&packed)?, (stats.clone(), recs.clone()));
        }
        // Errors late in a large file keep their line, through the threads as well.
        let cut = text.get(..text.len() - 100).ok_or("cut")?;
        let lines = cut.matches('\n').count() as u64 + 1;
        for input in [cut.as_bytes().to_vec(), xz(cut.as_bytes())?] {
            let mut handed = 0;
            let res = read_nvd("big.json.xz", input.as_slice(), |_| {
                handed += 1;
                Ok(())
            });
            assert!(matches!(res, Err(NvdError::Syntax { line, .. }) if line == lines), "{res:?}");
            // The last record is cut: the 119 before it are handed over.
            assert_eq!(handed, 119);
        }
        Ok(())
    }

    struct Count(u64);

    impl Out for Count {
        fn put(&mut self, _: u64, rec: CveRecord) -> bool {
            self.0 += rec.configurations.len() as u64 + 1;
            true
        }
    }

    /// Throughput on 20,000 real records (the 13 files cycled, distinct ids) in a temporary
    /// file. Run: `cargo test --release -p mamori-vuln --lib nvd::tests::throughput -- --ignored --nocapture`.
    #[test]
    #[ignore = "benchmark; run in release mode"]
    fn throughput() -> TestResult {
        let mut texts = Vec::new();
        for e in std::fs::read_dir(DATA)? {
            let t = std::fs::read_to_string(e?.path())?;
            let id = serde_json::from_str::<serde_json::Value>(&t)?["id"].as_str().unwrap_or_default().to_owned();
            texts.push((t, id));
        }
        let path = std::env::temp_dir().join(format!("mamori-nvd-throughput-{}.json", std::process::id()));
        {
            let mut f = io::BufWriter::new(std::fs::File::create(&path)?);
            f.write_all(b"{\"resultsPerPage\":20000,\"startIndex\":0,\"totalResults\":20000,\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"timestamp\":\"2025-08-25T10:00:00.000\",\"vulnerabilities\":[\n")?;
            for i in 0..20_000usize {
                let (t, id) = texts.get(i % texts.len()).ok_or("text")?;
                if i > 0 {
                    f.write_all(b",\n")?;
                }
                write!(f, "{{\"cve\":{}}}", t.replacen(id.as_str(), &format!("CVE-2099-{:06}", i), 1))?;
            }
            f.write_all(b"\n]}\n")?;
        }
        let size = std::fs::metadata(&path)?.len() as f64 / 1e6;
        // CPU time of this thread (Linux), which a busy machine disturbs less than wall time.
        let cpu = || -> f64 {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
            let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
            let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            (tick(11) + tick(12)) / 100.0
        };
        let run = |label: &str, f: &mut dyn FnMut() -> Result<u64, Box<dyn Error>>| -> TestResult {
            let (t, c) = (std::time::Instant::now(), cpu());
            let n = f()?;
            let (s, c) = (t.elapsed().as_secs_f64(), cpu() - c);
            println!("{label}: {size:.0} MB in {s:.2} s = {:.0} MB/s wall; this thread {c:.2} s CPU = {:.0} MB/s ({n})", size / s, size / c.max(0.01));
            Ok(())
        };
        run("parse only, one thread", &mut || {
            let mut out = Count(0);
            match parse("bench", std::fs::File::open(&path)?, &mut out) {
                Ok(stats) => Ok(out.0 + stats.skipped_count),
                Err(_) => Err("parse failed".into()),
            }
        })?;
        run("read_nvd (reader thread + sink)", &mut || {
            let mut n = 0u64;
            let stats = read_nvd("bench", std::fs::File::open(&path)?, |r| {
                n += r.configurations.len() as u64 + 1;
                Ok(())
            })?;
            assert_eq!((stats.records, stats.skipped_count), (20_000, 0));
            Ok(n)
        })?;
        run("baseline: serde_json::from_reader::<IgnoredAny>", &mut || {
            let _: IgnoredAny = serde_json::from_reader(io::BufReader::new(std::fs::File::open(&path)?))?;
            Ok(0)
        })?;
        let bytes = std::fs::read(&path)?;
        let gz = gzip(&bytes)?;
        drop(bytes);
        run("read_nvd on gzip (decompress thread + reader thread + sink)", &mut || {
            let stats = read_nvd("bench", gz.as_slice(), |_| Ok(()))?;
            Ok(stats.records)
        })?;
        std::fs::remove_file(&path)?;
        Ok(())
    }

    /// Hands out a few bytes per read.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.1 = self.1 % 13 + 1;
            let n = self.1.min(out.len());
            let (mut head, tail) = self.0.split_at(n.min(self.0.len()));
            self.0 = tail;
            head.read(out)
        }
    }

    #[test]
    fn records_across_buffer_ends_and_trickling_readers() -> TestResult {
        // Records over DIRECT_MIN cross the buffer's end and take the scanner's path.
        let mut items = Vec::new();
        for i in 0..12 {
            let big = "y".repeat(600_000 + i * 7919);
            items.push(format!(r#"{{"id":"CVE-2099-{:05}","descriptions":[{{"lang":"en","value":"{big}"}}],"metrics":{{}}}}"#, i + 10_000));
            items.push(format!(r#"{{"id":"CVE-2099-{:05}"}}"#, i + 20_000));
        }
        let refs: Vec<&str> = items.iter().map(String::as_str).collect();
        let text = page(&refs);
        assert!(text.len() > 3 * READ);
        let (stats, recs) = read_all(text.as_bytes())?;
        assert_eq!((stats.records, stats.skipped_count), (24, 0));
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        let expected: Vec<String> = (0..12).flat_map(|i| [format!("CVE-2099-{:05}", i + 10_000), format!("CVE-2099-{:05}", i + 20_000)]).collect();
        assert_eq!(ids, expected);
        assert!(recs.iter().step_by(2).enumerate().all(|(i, r)| r.description("en").map(str::len) == Some(600_000 + i * 7919)));
        let mut n = 0;
        let trickled = read_nvd("t.json", Trickle(text.as_bytes(), 0), |_| {
            n += 1;
            Ok(())
        })?;
        assert_eq!((trickled, n), (stats, 24));
        Ok(())
    }

    #[test]
    fn scanner_cuts_values_and_refuses_oversize_ones() -> TestResult {
        let text = br#" {"a": "x\"}]", "b": [1, {"c": "\\"}]}  123 , "#;
        // A tiny read size would need a custom reader; the chained cursor splits reads anyway.
        let src = io::Cursor::new(text.get(..10).ok_or("cut")?.to_vec()).chain(io::Cursor::new(text.get(10..).ok_or("cut")?.to_vec()));
        let mut sc = Scanner::new(src);
        assert_eq!(sc.peek()?, Some(b'{'));
        let Some(Scanned::Bytes(s, e)) = sc.value(1000)? else { panic!("no value") };
        assert_eq!(sc.buf.get(s..e), Some(&br#"{"a": "x\"}]", "b": [1, {"c": "\\"}]}"#[..]));
        assert_eq!(sc.peek()?, Some(b'1'));
        let Some(Scanned::Bytes(s, e)) = sc.value(1000)? else { panic!("no number") };
        assert_eq!(sc.buf.get(s..e), Some(&b"123"[..]));
        assert_eq!(sc.peek()?, Some(b','));
        let mut sc = Scanner::new(&br#"["0123456789abcdef", 1]"#[..]);
        sc.peek()?;
        sc.pos += 1;
        assert!(matches!(sc.value(8)?, Some(Scanned::Oversize)));
        assert_eq!(sc.peek()?, Some(b','));
        let mut sc = Scanner::new(&br#"{"a": [1, 2"#[..]);
        sc.peek()?;
        assert!(sc.value(1000)?.is_none());
        Ok(())
    }
}
