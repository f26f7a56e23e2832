//! JVN iPedia advisories: the RSS 1.0 feeds (`jvndb_YYYY.rdf`, `jvndb.rdf`, `jvndb_new.rdf`)
//! and MyJVN API responses — `getVulnOverviewList` (the same RSS closed by a
//! `<status:Status>`), `getVulnDetailInfo` (VULDEF XML, one or more `<Vulinfo>`) and the
//! `<Result>` document MyJVN sends when nothing matched or the request failed.
//!
//! The format is told by the root element (`rdf:RDF`, `VULDEF-Document`, `Result`), not by the
//! file name. Advisories are handed over one at a time as each closes; nothing is collected.
//! Elements are matched by the prefixes JVN uses (`sec:`, `dc:`, `dcterms:`, `status:`;
//! RSS and VULDEF elements unprefixed, or prefixed `rss:` / `vuldef:`).
//!
//! # Kept, dropped, skipped
//!
//! - Advisories whose description contains `** 未確定 **`, `** サポート外 **` or `** 削除 **`
//!   (unconfirmed, unsupported, deleted) are dropped and counted, as go-cve-dictionary does.
//! - Advisories without a CVE are kept: JVN-only advisories exist for Japanese products.
//! - An advisory with a malformed value (timestamp, CVSS score, JVNDB id), a text node or
//!   attribute longer than [`MAX_TEXT_BYTES`], or too many entries is skipped and reported with
//!   its line, the field and the reason; the read goes on.
//! - Timestamps are kept as given; they must read as `2018-03-09T12:04:48+09:00` or
//!   `2026-10-08T11:00+09:00` (the yearly feeds drop the seconds), with `Z` accepted too.
//!
//! # Refused
//!
//! Any document type declaration (JVN sends none: refusing it rules out entity expansion and
//! external entities), entity references other than the five predefined ones and numeric
//! character references, declared encodings other than UTF-8, UTF-16 files, bytes that are not
//! UTF-8 in a kept value, single markup or text events longer than [`MAX_EVENT_BYTES`] and
//! nesting deeper than [`MAX_DEPTH`]. A MyJVN status with a non-zero `retCd` is an error
//! ([`JvnError::Api`]). Every error names the file and the line.

use std::io::{self, BufRead, BufReader, Read};

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesStart, Event};

use crate::decompress::decoder;
use crate::epss::valid_cve;
use crate::model::{Cvss, Reference};

/// Longest text node or attribute value inside an advisory; a longer one skips the advisory.
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;
/// Longest single tag, text run or comment read at all; a longer one is an error.
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted (VULDEF goes 6 deep).
pub const MAX_DEPTH: usize = 64;
/// Most entries in one list of an advisory (products, CVSS, CVEs, CWEs, references).
pub const MAX_LIST: usize = 10_000;
/// Most text kept for one advisory.
pub const MAX_ITEM_BYTES: usize = 16 * 1024 * 1024;
/// Longest element name accepted (JVN's longest is `DateFirstPublished`).
const MAX_NAME_BYTES: usize = 256;
/// Most skipped advisories kept in [`JvnStats::skipped`]; all are counted.
pub const MAX_SKIPPED: usize = 1_000;

/// A product as JVN names it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JvnProduct {
    /// Display name, often Japanese (`ヤマハ株式会社`).
    pub vendor: String,
    pub product: String,
    /// CPE 2.2 URI as given, version-less (`cpe:/h:yamaha:rtx1210`); empty when JVN gave none.
    pub cpe: String,
    /// VULDEF `VersionNumber` free text (`Rev.14.01.41 およびそれ以前`), several joined by a
    /// newline; `None` in RSS, which has no versions.
    pub versions: Option<String>,
}

/// One JVN iPedia advisory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JvnAdvisory {
    /// `JVNDB-YYYY-NNNNNN`.
    pub id: String,
    pub title: String,
    /// RSS `description` or VULDEF `Overview`, unescaped once: it may hold HTML markup
    /// (`<ul><li>…`) that JVN wrote escaped.
    pub overview: String,
    /// RSS `link` (else the item's `rdf:about`); `None` in VULDEF.
    pub link: Option<String>,
    /// CVE ids: RSS references with source `CVE` or `NVD`, VULDEF related items whose id is a
    /// CVE. In file order, without duplicates.
    pub cves: Vec<String>,
    /// `CWE-79`, `CWE-Other`, `CWE-noinfo` … without duplicates.
    pub cwes: Vec<String>,
    pub products: Vec<JvnProduct>,
    /// Base scores, `source` "JVN", `primary` true.
    pub cvss: Vec<Cvss>,
    /// VULDEF `Solution` descriptions joined by a newline.
    pub solution: Option<String>,
    /// RSS: `source` attribute (`CVE`, `NVD`, `JVN`, `関連文書` …), tags `id` then `title`.
    /// VULDEF: `Name` as source, tags `type`, `VulinfoID`, `Title`. CWE links are in `cwes`.
    pub references: Vec<Reference>,
    /// When the vulnerability was made public: VULDEF `DatePublic`; RSS `dcterms:issued`.
    pub published: Option<String>,
    /// Last update: RSS `dcterms:modified` (else `dc:date`); VULDEF `DateLastUpdated`.
    pub modified: Option<String>,
    /// When JVN iPedia registered it: RSS `dcterms:issued`; VULDEF `DateFirstPublished`.
    pub first_published: Option<String>,
    /// `ja` or `en`, from the root's `xml:lang` (`ja` when absent).
    pub lang: String,
}

/// The document's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JvnKind {
    /// RSS 1.0 `rdf:RDF`: the feeds and `getVulnOverviewList`.
    #[default]
    Rss,
    /// `VULDEF-Document`: `getVulnDetailInfo`.
    Vuldef,
    /// MyJVN `<Result>`: a status and no advisory (nothing matched).
    Result,
}

/// What a read saw. The paging numbers come from MyJVN's `<status:Status>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JvnStats {
    pub kind: JvnKind,
    /// Advisories handed to the sink.
    pub items: u64,
    /// Advisories dropped as unconfirmed, unsupported or deleted.
    pub dropped: u64,
    /// Skipped advisories: line where it starts, field, reason. At most [`MAX_SKIPPED`].
    pub skipped: Vec<(u64, String, String)>,
    /// All skipped advisories, including those beyond [`MAX_SKIPPED`].
    pub skipped_count: u64,
    /// `totalRes`: advisories matching the query.
    pub total_res: Option<u64>,
    /// `totalResRet`: advisories in this response.
    pub total_res_ret: Option<u64>,
    /// `firstRes`: 1-based position of the first one.
    pub first_res: Option<u64>,
    /// `retCd`: 0 (a non-zero one is returned as [`JvnError::Api`]).
    pub ret_cd: Option<i64>,
    pub err_msg: Option<String>,
}

/// Why a document could not be read (advisories already handed over stay handed over).
#[derive(Debug, thiserror::Error)]
pub enum JvnError {
    #[error("{file}: line {line}: {reason}")]
    Format { file: String, line: u64, reason: String },
    #[error("{file}: line {line}: refused: {reason}")]
    Refused { file: String, line: u64, reason: String },
    #[error("{file}: line {line}: MyJVN answered retCd={ret_cd} errCd={}: {err_msg}", err_cd.as_deref().unwrap_or("-"))]
    Api { file: String, line: u64, ret_cd: i64, err_cd: Option<String>, err_msg: String },
    #[error("{file}: line {line}: {source}")]
    Io { file: String, line: u64, source: io::Error },
    #[error("{file}: line {line}: the consumer stopped the read: {message}")]
    Sink { file: String, line: u64, message: String },
}

/// Reads a JVN RSS feed, MyJVN response or VULDEF document (plain, gzip or xz), handing each
/// kept advisory to `sink`. `file` names the source in errors. An `Err` from `sink` stops the
/// read.
pub fn read_jvn<R, F>(file: &str, reader: R, sink: F) -> Result<JvnStats, JvnError>
where
    R: Read + Send,
    F: FnMut(JvnAdvisory) -> Result<(), String>,
{
    let io_err = |source: io::Error| JvnError::Io { file: file.to_owned(), line: 1, source };
    let (_, inner) = decoder(reader).map_err(io_err)?;
    let mut input = BufReader::with_capacity(64 * 1024, inner);
    let head = input.fill_buf().map_err(io_err)?;
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(JvnError::Refused {
            file: file.to_owned(),
            line: 1,
            reason: "the file is UTF-16; JVN serves UTF-8".into(),
        });
    }
    let mut xml = Reader::from_reader(Tracked::new(input));
    let config = xml.config_mut();
    config.check_end_names = true;
    config.allow_unmatched_ends = false;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;

    let mut p = Parser::new(file, sink);
    let mut buf = Vec::with_capacity(8192);
    loop {
        buf.clear();
        xml.get_mut().start_event();
        p.line = xml.get_ref().line();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) => break,
            Ok(event) => p.event(event)?,
            Err(e) => {
                let exceeded = xml.get_ref().exceeded;
                // What follows the failing markup helps to name it (`<!` + `ENTITY`).
                let tracked = xml.get_mut();
                tracked.start_event();
                let next: Vec<u8> = tracked.fill_buf().map(|b| b.iter().take(16).copied().collect()).unwrap_or_default();
                let head: Vec<u8> = buf.iter().take(16).chain(next.iter()).copied().collect();
                return Err(p.read_failure(e, exceeded, &head));
            }
        }
    }
    p.finish(xml.get_ref().end_line())
}

/// A [`BufRead`] that counts lines and hands out at most [`MAX_EVENT_BYTES`] per event, so
/// quick-xml never buffers an unbounded tag or text.
struct Tracked<R> {
    inner: R,
    newlines: u64,
    last: Option<u8>,
    event_bytes: usize,
    exceeded: bool,
}

impl<R: BufRead> Tracked<R> {
    fn new(inner: R) -> Self {
        Self { inner, newlines: 0, last: None, event_bytes: 0, exceeded: false }
    }

    fn start_event(&mut self) {
        self.event_bytes = 0;
    }

    /// Line of the next unread byte.
    fn line(&self) -> u64 {
        self.newlines + 1
    }

    /// Line of the last byte read.
    fn end_line(&self) -> u64 {
        if self.last == Some(b'\n') { self.newlines.max(1) } else { self.newlines + 1 }
    }
}

impl<R: BufRead> Read for Tracked<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(out.len());
            match (out.get_mut(..n), available.get(..n)) {
                (Some(dst), Some(src)) => dst.copy_from_slice(src),
                _ => return Ok(0),
            }
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Tracked<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let room = MAX_EVENT_BYTES.saturating_sub(self.event_bytes);
        if room == 0 {
            self.exceeded = true;
            return Err(io::Error::other("event longer than the limit"));
        }
        let available = self.inner.fill_buf()?;
        let n = available.len().min(room);
        Ok(available.get(..n).unwrap_or_default())
    }

    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            // The consumed bytes are still at the front of the inner buffer.
            if let Some(part) = self.inner.fill_buf().ok().and_then(|b| b.get(..amt)) {
                self.newlines += part.iter().filter(|&&b| b == b'\n').count() as u64;
                self.last = part.last().copied();
            }
        }
        self.inner.consume(amt);
        self.event_bytes = self.event_bytes.saturating_add(amt);
    }
}

/// Elements looked at; the meaning of a name depends on the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Root,
    Status,
    // RSS
    Item,
    Title,
    Link,
    Description,
    Identifier,
    References,
    SecCpe,
    SecCvss,
    DcDate,
    Issued,
    Modified,
    // VULDEF (Title and Description shared with RSS)
    Vulinfo,
    VulinfoId,
    VulinfoData,
    VulinfoDescription,
    Overview,
    AffectedItem,
    Name,
    ProductName,
    Cpe,
    VersionNumber,
    Impact,
    Cvss,
    Severity,
    Base,
    Vector,
    SolutionItem,
    RelatedItem,
    Url,
    DateFirstPublished,
    DateLastUpdated,
    DatePublic,
    Other,
}

impl Tag {
    fn of(kind: JvnKind, name: &[u8]) -> Tag {
        if name == b"status:Status" {
            return Tag::Status;
        }
        match kind {
            JvnKind::Rss => match name.strip_prefix(b"rss:").unwrap_or(name) {
                b"item" => Tag::Item,
                b"title" => Tag::Title,
                b"link" => Tag::Link,
                b"description" => Tag::Description,
                b"sec:identifier" => Tag::Identifier,
                b"sec:references" => Tag::References,
                b"sec:cpe" => Tag::SecCpe,
                b"sec:cvss" => Tag::SecCvss,
                b"dc:date" => Tag::DcDate,
                b"dcterms:issued" => Tag::Issued,
                b"dcterms:modified" => Tag::Modified,
                _ => Tag::Other,
            },
            JvnKind::Vuldef => match name.strip_prefix(b"vuldef:").unwrap_or(name) {
                b"Vulinfo" => Tag::Vulinfo,
                b"VulinfoID" => Tag::VulinfoId,
                b"VulinfoData" => Tag::VulinfoData,
                b"Title" => Tag::Title,
                b"VulinfoDescription" => Tag::VulinfoDescription,
                b"Overview" => Tag::Overview,
                b"AffectedItem" => Tag::AffectedItem,
                b"Name" => Tag::Name,
                b"ProductName" => Tag::ProductName,
                b"Cpe" => Tag::Cpe,
                b"VersionNumber" => Tag::VersionNumber,
                b"Impact" => Tag::Impact,
                b"Cvss" => Tag::Cvss,
                b"Severity" => Tag::Severity,
                b"Base" => Tag::Base,
                b"Vector" => Tag::Vector,
                b"SolutionItem" => Tag::SolutionItem,
                b"Description" => Tag::Description,
                b"RelatedItem" => Tag::RelatedItem,
                b"URL" => Tag::Url,
                b"DateFirstPublished" => Tag::DateFirstPublished,
                b"DateLastUpdated" => Tag::DateLastUpdated,
                b"DatePublic" => Tag::DatePublic,
                _ => Tag::Other,
            },
            JvnKind::Result => Tag::Other,
        }
    }
}

/// A text-valued element of an advisory, by where it sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Title,
    Link,
    Overview,
    Id,
    Reference,
    SecCpe,
    DcDate,
    Issued,
    Modified,
    ProductVendor,
    ProductName,
    ProductCpe,
    ProductVersion,
    CvssSeverity,
    CvssBase,
    CvssVector,
    Solution,
    RelatedName,
    RelatedId,
    RelatedTitle,
    RelatedUrl,
    FirstPublished,
    LastUpdated,
    Public,
}

impl Field {
    /// The field given the element and its parent, inside an advisory.
    fn of(kind: JvnKind, parent: Tag, tag: Tag) -> Option<Field> {
        let f = match (kind, parent, tag) {
            (JvnKind::Rss, Tag::Item, Tag::Title) => Field::Title,
            (JvnKind::Rss, Tag::Item, Tag::Link) => Field::Link,
            (JvnKind::Rss, Tag::Item, Tag::Description) => Field::Overview,
            (JvnKind::Rss, Tag::Item, Tag::Identifier) => Field::Id,
            (JvnKind::Rss, Tag::Item, Tag::References) => Field::Reference,
            (JvnKind::Rss, Tag::Item, Tag::SecCpe) => Field::SecCpe,
            (JvnKind::Rss, Tag::Item, Tag::DcDate) => Field::DcDate,
            (JvnKind::Rss, Tag::Item, Tag::Issued) => Field::Issued,
            (JvnKind::Rss, Tag::Item, Tag::Modified) => Field::Modified,
            (JvnKind::Vuldef, Tag::Vulinfo, Tag::VulinfoId) => Field::Id,
            (JvnKind::Vuldef, Tag::VulinfoData, Tag::Title) => Field::Title,
            (JvnKind::Vuldef, Tag::VulinfoDescription, Tag::Overview) => Field::Overview,
            (JvnKind::Vuldef, Tag::AffectedItem, Tag::Name) => Field::ProductVendor,
            (JvnKind::Vuldef, Tag::AffectedItem, Tag::ProductName) => Field::ProductName,
            (JvnKind::Vuldef, Tag::AffectedItem, Tag::Cpe) => Field::ProductCpe,
            (JvnKind::Vuldef, Tag::AffectedItem, Tag::VersionNumber) => Field::ProductVersion,
            (JvnKind::Vuldef, Tag::Cvss, Tag::Severity) => Field::CvssSeverity,
            (JvnKind::Vuldef, Tag::Cvss, Tag::Base) => Field::CvssBase,
            (JvnKind::Vuldef, Tag::Cvss, Tag::Vector) => Field::CvssVector,
            (JvnKind::Vuldef, Tag::SolutionItem, Tag::Description) => Field::Solution,
            (JvnKind::Vuldef, Tag::RelatedItem, Tag::Name) => Field::RelatedName,
            (JvnKind::Vuldef, Tag::RelatedItem, Tag::VulinfoId) => Field::RelatedId,
            (JvnKind::Vuldef, Tag::RelatedItem, Tag::Title) => Field::RelatedTitle,
            (JvnKind::Vuldef, Tag::RelatedItem, Tag::Url) => Field::RelatedUrl,
            (JvnKind::Vuldef, Tag::VulinfoData, Tag::DateFirstPublished) => Field::FirstPublished,
            (JvnKind::Vuldef, Tag::VulinfoData, Tag::DateLastUpdated) => Field::LastUpdated,
            (JvnKind::Vuldef, Tag::VulinfoData, Tag::DatePublic) => Field::Public,
            _ => return None,
        };
        Some(f)
    }

    /// The element's name as JVN writes it, for reports.
    fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Link => "link",
            Field::Overview => "description",
            Field::Id => "sec:identifier",
            Field::Reference => "sec:references",
            Field::SecCpe => "sec:cpe",
            Field::DcDate => "dc:date",
            Field::Issued => "dcterms:issued",
            Field::Modified => "dcterms:modified",
            Field::ProductVendor => "AffectedItem/Name",
            Field::ProductName => "AffectedItem/ProductName",
            Field::ProductCpe => "AffectedItem/Cpe",
            Field::ProductVersion => "AffectedItem/VersionNumber",
            Field::CvssSeverity => "Cvss/Severity",
            Field::CvssBase => "Cvss/Base",
            Field::CvssVector => "Cvss/Vector",
            Field::Solution => "SolutionItem/Description",
            Field::RelatedName => "RelatedItem/Name",
            Field::RelatedId => "RelatedItem/VulinfoID",
            Field::RelatedTitle => "RelatedItem/Title",
            Field::RelatedUrl => "RelatedItem/URL",
            Field::FirstPublished => "DateFirstPublished",
            Field::LastUpdated => "DateLastUpdated",
            Field::Public => "DatePublic",
        }
    }
}

/// An open element.
struct Open {
    tag: Tag,
    field: Option<Field>,
    /// Shortened name, for messages.
    name: String,
    line: u64,
}

/// `<sec:references>` attributes, or a VULDEF `<RelatedItem>` being read.
#[derive(Default)]
struct RefBuild {
    source: Option<String>,
    id: Option<String>,
    title: Option<String>,
    kind: Option<String>,
    url: Option<String>,
}

/// A VULDEF `<Cvss>` being read.
#[derive(Default)]
struct CvssBuild {
    version: String,
    severity: String,
    base: Option<String>,
    vector: String,
}

/// An advisory being read.
#[derive(Default)]
struct ItemBuild {
    line: u64,
    adv: JvnAdvisory,
    /// Field and reason when the advisory is to be skipped.
    skip: Option<(String, String)>,
    bytes: usize,
    dc_date: Option<String>,
    issued: Option<String>,
    reference: Option<RefBuild>,
    cpe_attrs: Option<(String, String)>,
    product: Option<JvnProduct>,
    cvss: Option<CvssBuild>,
    solution: Vec<String>,
}

impl ItemBuild {
    fn skip(&mut self, field: impl Into<String>, reason: impl Into<String>) {
        if self.skip.is_none() {
            self.skip = Some((field.into(), reason.into()));
            // Nothing more is kept for it.
            self.adv = JvnAdvisory::default();
            self.reference = None;
            self.product = None;
            self.cvss = None;
            self.solution = Vec::new();
        }
    }

    /// Counts `n` kept bytes against [`MAX_ITEM_BYTES`]; false (and skipped) when over.
    fn budget(&mut self, field: &str, n: usize) -> bool {
        self.bytes = self.bytes.saturating_add(n);
        if self.bytes > MAX_ITEM_BYTES {
            self.skip(field, format!("the advisory holds more than {MAX_ITEM_BYTES} bytes of text"));
        }
        self.skip.is_none()
    }
}

/// Pushes `value` unless present; false when the list is full.
fn push_unique(list: &mut Vec<String>, value: String) -> bool {
    if list.contains(&value) {
        return true;
    }
    if list.len() >= MAX_LIST {
        return false;
    }
    list.push(value);
    true
}

fn push_limited<T>(list: &mut Vec<T>, value: T) -> bool {
    if list.len() >= MAX_LIST {
        return false;
    }
    list.push(value);
    true
}

fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(60).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    format!("{s:?}")
}

fn display_name(name: &[u8]) -> String {
    let short: Vec<u8> = name.iter().copied().take(64).collect();
    String::from_utf8_lossy(&short).into_owned()
}

/// `JVNDB-YYYY-NNNNNN` (six to nine digits).
fn valid_jvndb(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("JVNDB-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (6..=9).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY-MM-DDThh:mm[:ss](±hh:mm|Z)` with plausible ranges.
pub fn valid_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    let num = |from: usize, len: usize, max: u32| -> Option<u32> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let v = part.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        (v <= max).then_some(v)
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    let date_ok = num(0, 4, 9999).is_some()
        && sep(4, b'-')
        && num(5, 2, 12).is_some_and(|m| m >= 1)
        && sep(7, b'-')
        && num(8, 2, 31).is_some_and(|d| d >= 1)
        && sep(10, b'T')
        && num(11, 2, 23).is_some()
        && sep(13, b':')
        && num(14, 2, 59).is_some();
    if !date_ok {
        return false;
    }
    let zone_at = if sep(16, b':') {
        if num(17, 2, 60).is_none() {
            return false;
        }
        19
    } else {
        16
    };
    match b.get(zone_at..) {
        Some(b"Z") => true,
        Some(zone) if zone.len() == 6 => {
            matches!(zone.first(), Some(b'+' | b'-'))
                && num(zone_at + 1, 2, 14).is_some()
                && sep(zone_at + 3, b':')
                && num(zone_at + 4, 2, 59).is_some()
        }
        _ => false,
    }
}

const WITHDRAWN: [&str; 3] = ["** 未確定 **", "** サポート外 **", "** 削除 **"];

fn predefined_entity(name: &[u8]) -> Option<char> {
    match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        _ => None,
    }
}

struct Parser<'a, F> {
    file: &'a str,
    sink: F,
    /// Line where the current event starts.
    line: u64,
    kind: Option<JvnKind>,
    lang: String,
    stack: Vec<Open>,
    root_closed: bool,
    stats: JvnStats,
    item: Option<ItemBuild>,
    /// Depth of the advisory element in `stack`.
    item_depth: usize,
    /// Text of the field being read, and the stack depth it belongs to.
    text: Option<String>,
    text_depth: usize,
    /// Bytes of the current text node (text, references and CDATA between two tags).
    run: usize,
}

impl<'a, F> Parser<'a, F>
where
    F: FnMut(JvnAdvisory) -> Result<(), String>,
{
    fn new(file: &'a str, sink: F) -> Self {
        Self {
            file,
            sink,
            line: 1,
            kind: None,
            lang: "ja".into(),
            stack: Vec::new(),
            root_closed: false,
            stats: JvnStats::default(),
            item: None,
            item_depth: 0,
            text: None,
            text_depth: 0,
            run: 0,
        }
    }

    fn format(&self, reason: impl Into<String>) -> JvnError {
        JvnError::Format { file: self.file.to_owned(), line: self.line, reason: reason.into() }
    }

    fn refused(&self, reason: impl Into<String>) -> JvnError {
        JvnError::Refused { file: self.file.to_owned(), line: self.line, reason: reason.into() }
    }

    fn context(&self) -> String {
        self.stack.last().map_or_else(|| "the document".to_owned(), |o| format!("<{}>", o.name))
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), JvnError> {
        match event {
            Event::Start(e) => {
                self.run = 0;
                self.open(&e, false)
            }
            Event::Empty(e) => {
                self.run = 0;
                self.open(&e, true)
            }
            Event::End(_) => {
                self.run = 0;
                self.close()
            }
            Event::Text(t) => {
                if self.stack.is_empty() {
                    if t.iter().all(u8::is_ascii_whitespace) {
                        return Ok(());
                    }
                    return Err(self.format("text outside the root element: not JVN XML"));
                }
                if self.collecting() {
                    let text = t
                        .xml10_content()
                        .map_err(|_| self.format(format!("text in {} is not UTF-8 (JVN serves UTF-8)", self.context())))?;
                    self.push_text(&text);
                } else {
                    self.count_run(t.len());
                }
                Ok(())
            }
            Event::CData(t) => {
                if self.stack.is_empty() {
                    return Err(self.format("CDATA outside the root element: not JVN XML"));
                }
                if self.collecting() {
                    let text = t
                        .xml10_content()
                        .map_err(|_| self.format(format!("CDATA in {} is not UTF-8 (JVN serves UTF-8)", self.context())))?;
                    self.push_text(&text);
                } else {
                    self.count_run(t.len());
                }
                Ok(())
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => return Err(self.format(format!("&{}; is not a valid character reference", display_name(&r)))),
                    }
                } else {
                    predefined_entity(&r).ok_or_else(|| {
                        self.refused(format!(
                            "entity reference &{}; — only the five predefined XML entities and numeric character \
                             references are accepted; no entity is ever expanded",
                            display_name(&r)
                        ))
                    })?
                };
                if self.stack.is_empty() {
                    return Err(self.format("text outside the root element: not JVN XML"));
                }
                let mut tmp = [0u8; 4];
                if self.collecting() {
                    self.push_text(c.encode_utf8(&mut tmp));
                } else {
                    self.count_run(c.len_utf8());
                }
                Ok(())
            }
            Event::Decl(d) => {
                if let Some(enc) = d.encoding() {
                    let enc = enc.map_err(|e| self.format(format!("<?xml?> declaration: {e}")))?;
                    let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                    if !matches!(enc.as_str(), "utf-8" | "utf8") {
                        return Err(self.refused(format!(
                            "declared encoding {} is not supported: JVN serves UTF-8",
                            shown(&enc)
                        )));
                    }
                }
                Ok(())
            }
            Event::DocType(_) => Err(self.refused(
                "document type declaration (<!DOCTYPE …>): JVN documents have none, and DTDs are never \
                 read (entity expansion, external entities)",
            )),
            Event::Comment(_) | Event::PI(_) | Event::Eof => Ok(()),
        }
    }

    fn collecting(&self) -> bool {
        self.text.is_some() && self.stack.len() == self.text_depth
    }

    /// Counts text that is not kept: a text node over the limit still skips its advisory.
    fn count_run(&mut self, n: usize) {
        self.run = self.run.saturating_add(n);
        if self.run > MAX_TEXT_BYTES {
            let context = self.stack.last().map_or_else(String::new, |o| o.name.clone());
            if let Some(item) = &mut self.item {
                item.skip(context, format!("text node longer than {MAX_TEXT_BYTES} bytes"));
            }
        }
    }

    fn push_text(&mut self, s: &str) {
        self.run = self.run.saturating_add(s.len());
        if self.run > MAX_TEXT_BYTES {
            self.text = None;
            let field = self.stack.last().and_then(|o| o.field).map_or("text", Field::name);
            if let Some(item) = &mut self.item {
                item.skip(field, format!("text node longer than {MAX_TEXT_BYTES} bytes"));
            }
            return;
        }
        if let Some(text) = &mut self.text {
            text.push_str(s);
        }
    }

    /// Reads the attributes in `names`. Values are trimmed; empty ones are `None`. The second
    /// value names an attribute longer than [`MAX_TEXT_BYTES`] (left out).
    fn attrs<const N: usize>(
        &self,
        e: &BytesStart<'_>,
        names: [&str; N],
    ) -> Result<([Option<String>; N], Option<String>), JvnError> {
        let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
        let mut too_long = None;
        let elem = display_name(e.name().as_ref());
        for attr in e.attributes() {
            let attr = attr.map_err(|err| self.format(format!("<{elem}>: malformed attribute: {err}")))?;
            let Some(i) = names.iter().position(|n| n.as_bytes() == attr.key.as_ref()) else { continue };
            let attr_name = names.get(i).copied().unwrap_or_default();
            let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|err| match err {
                quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, entity)) => self.refused(format!(
                    "<{elem}> attribute {attr_name} refers to entity &{}; — only the five predefined XML entities \
                     and numeric character references are accepted; no entity is ever expanded",
                    display_name(entity.as_bytes())
                )),
                quick_xml::Error::Encoding(_) => {
                    self.format(format!("<{elem}> attribute {attr_name} is not UTF-8 (JVN serves UTF-8)"))
                }
                other => self.format(format!("<{elem}> attribute {attr_name}: {other}")),
            })?;
            if value.len() > MAX_TEXT_BYTES {
                too_long = Some(format!("{elem}@{attr_name}"));
                continue;
            }
            let value = value.trim();
            if !value.is_empty()
                && let Some(slot) = out.get_mut(i)
            {
                *slot = Some(value.to_owned());
            }
        }
        Ok((out, too_long))
    }

    fn parent(&self) -> Tag {
        self.stack.last().map_or(Tag::Root, |o| o.tag)
    }

    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), JvnError> {
        let qname = e.name();
        let name = qname.as_ref();
        if self.root_closed {
            return Err(self.format(format!(
                "<{}> after the end of the root element: more than one document",
                display_name(name)
            )));
        }
        let Some(kind) = self.kind else {
            return self.open_root(e, name, empty);
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.refused(format!("elements nested deeper than {MAX_DEPTH}")));
        }
        if name.len() > MAX_NAME_BYTES {
            return Err(self.refused(format!("element name longer than {MAX_NAME_BYTES} bytes")));
        }
        let tag = Tag::of(kind, name);
        let parent = self.parent();
        let mut field = None;
        if self.item.is_some() {
            field = Field::of(kind, parent, tag);
            self.start_in_item(kind, tag, e)?;
        } else if tag == Tag::Status {
            self.status(e)?;
        } else if matches!((kind, parent, tag), (JvnKind::Rss, Tag::Root, Tag::Item) | (JvnKind::Vuldef, Tag::Root, Tag::Vulinfo)) {
            let (attrs, _) = self.attrs(e, ["rdf:about"])?;
            let [about] = attrs;
            let mut item = ItemBuild { line: self.line, ..ItemBuild::default() };
            item.adv.link = about;
            self.item = Some(item);
            self.item_depth = self.stack.len() + 1;
        }
        self.stack.push(Open { tag, field, name: display_name(name), line: self.line });
        if field.is_some() {
            self.text = Some(String::new());
            self.text_depth = self.stack.len();
        }
        if empty { self.close() } else { Ok(()) }
    }

    fn open_root(&mut self, e: &BytesStart<'_>, name: &[u8], empty: bool) -> Result<(), JvnError> {
        let kind = match name {
            b"rdf:RDF" => JvnKind::Rss,
            b"VULDEF-Document" | b"vuldef:VULDEF-Document" => JvnKind::Vuldef,
            b"Result" => JvnKind::Result,
            _ => {
                return Err(self.format(format!(
                    "the root element is <{}>: not JVN RSS (rdf:RDF), VULDEF (VULDEF-Document) or a MyJVN Result",
                    display_name(name)
                )));
            }
        };
        let (attrs, _) = self.attrs(e, ["xml:lang"])?;
        let [lang] = attrs;
        if let Some(lang) = lang {
            self.lang = lang.chars().take(16).collect::<String>().to_ascii_lowercase();
        }
        self.kind = Some(kind);
        self.stats.kind = kind;
        self.stack.push(Open { tag: Tag::Root, field: None, name: display_name(name), line: self.line });
        if empty { self.close() } else { Ok(()) }
    }

    /// Reads attributes of an element inside the advisory, counting them against its budget.
    /// `None` when the advisory is (now) skipped.
    fn item_attrs<const N: usize>(
        &mut self,
        e: &BytesStart<'_>,
        field: &str,
        names: [&str; N],
    ) -> Result<Option<[Option<String>; N]>, JvnError> {
        let (values, long) = self.attrs(e, names)?;
        let Some(item) = &mut self.item else { return Ok(None) };
        if let Some(long) = long {
            item.skip(long, format!("attribute longer than {MAX_TEXT_BYTES} bytes"));
        }
        let bytes = values.iter().flatten().map(String::len).sum();
        if item.skip.is_some() || !item.budget(field, bytes) {
            return Ok(None);
        }
        Ok(Some(values))
    }

    /// Attributes of elements inside an advisory.
    fn start_in_item(&mut self, kind: JvnKind, tag: Tag, e: &BytesStart<'_>) -> Result<(), JvnError> {
        let parent = self.parent();
        match (kind, parent, tag) {
            (JvnKind::Rss, Tag::Item, Tag::References) => {
                if let Some([source, id, title]) = self.item_attrs(e, "sec:references", ["source", "id", "title"])?
                    && let Some(item) = &mut self.item
                {
                    item.reference = Some(RefBuild { source, id, title, ..RefBuild::default() });
                }
            }
            (JvnKind::Rss, Tag::Item, Tag::SecCpe) => {
                if let Some([vendor, product]) = self.item_attrs(e, "sec:cpe", ["vendor", "product"])?
                    && let Some(item) = &mut self.item
                {
                    item.cpe_attrs = Some((vendor.unwrap_or_default(), product.unwrap_or_default()));
                }
            }
            (JvnKind::Rss, Tag::Item, Tag::SecCvss) => {
                let names = ["score", "severity", "vector", "version", "type"];
                if let Some([score, severity, vector, version, kind_attr]) = self.item_attrs(e, "sec:cvss", names)?
                    && let Some(item) = &mut self.item
                    && kind_attr.as_deref().is_none_or(|t| t.eq_ignore_ascii_case("Base"))
                {
                    add_cvss(item, "sec:cvss", version, severity, score, vector);
                }
            }
            (JvnKind::Vuldef, _, Tag::AffectedItem) => {
                if let Some(item) = self.item.as_mut().filter(|i| i.skip.is_none()) {
                    item.product = Some(JvnProduct::default());
                }
            }
            (JvnKind::Vuldef, Tag::Impact, Tag::Cvss) => {
                if let Some([version]) = self.item_attrs(e, "Cvss", ["version"])?
                    && let Some(item) = &mut self.item
                {
                    item.cvss = Some(CvssBuild { version: version.unwrap_or_default(), ..CvssBuild::default() });
                }
            }
            (JvnKind::Vuldef, _, Tag::RelatedItem) => {
                if let Some([kind_attr]) = self.item_attrs(e, "RelatedItem", ["type"])?
                    && let Some(item) = &mut self.item
                {
                    item.reference = Some(RefBuild { kind: kind_attr, ..RefBuild::default() });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn status(&mut self, e: &BytesStart<'_>) -> Result<(), JvnError> {
        let ([ret_cd, err_cd, err_msg, total_res, total_res_ret, first_res], long) =
            self.attrs(e, ["retCd", "errCd", "errMsg", "totalRes", "totalResRet", "firstRes"])?;
        if let Some(long) = long {
            return Err(self.refused(format!("<status:Status> {long} is longer than {MAX_TEXT_BYTES} bytes")));
        }
        let count = |attr: &str, v: Option<String>| -> Result<Option<u64>, JvnError> {
            v.map(|v| v.parse().map_err(|_| self.format(format!("<status:Status> {attr} is not a count: {}", shown(&v)))))
                .transpose()
        };
        let total_res = count("totalRes", total_res)?;
        let total_res_ret = count("totalResRet", total_res_ret)?;
        let first_res = count("firstRes", first_res)?;
        let ret_cd: Option<i64> = ret_cd
            .map(|v| v.parse().map_err(|_| self.format(format!("<status:Status> retCd is not a number: {}", shown(&v)))))
            .transpose()?;
        self.stats.total_res = total_res;
        self.stats.total_res_ret = total_res_ret;
        self.stats.first_res = first_res;
        self.stats.ret_cd = ret_cd;
        self.stats.err_msg = err_msg.clone();
        match self.stats.ret_cd {
            Some(code) if code != 0 => Err(JvnError::Api {
                file: self.file.to_owned(),
                line: self.line,
                ret_cd: code,
                err_cd,
                err_msg: err_msg.unwrap_or_default(),
            }),
            _ => Ok(()),
        }
    }

    fn close(&mut self) -> Result<(), JvnError> {
        let Some(open) = self.stack.pop() else { return Ok(()) };
        if self.stack.is_empty() {
            self.root_closed = true;
            return Ok(());
        }
        if let Some(field) = open.field {
            let text = if self.stack.len() + 1 == self.text_depth { self.text.take() } else { None };
            self.text = None;
            if let Some(item) = &mut self.item
                && item.skip.is_none()
                && let Some(text) = text
            {
                set_field(item, field, text.trim());
            }
        }
        if self.item.is_none() {
            return Ok(());
        }
        if self.stack.len() + 1 == self.item_depth {
            return self.finish_item();
        }
        let Some(item) = &mut self.item else { return Ok(()) };
        if item.skip.is_some() {
            return Ok(());
        }
        match open.tag {
            Tag::AffectedItem => {
                if let Some(product) = item.product.take() {
                    let empty = product.vendor.is_empty() && product.product.is_empty() && product.cpe.is_empty();
                    if !empty && !push_limited(&mut item.adv.products, product) {
                        item.skip("AffectedItem", format!("more than {MAX_LIST} products"));
                    }
                }
            }
            Tag::Cvss => {
                if let Some(c) = item.cvss.take() {
                    add_cvss(item, "Cvss/Base", Some(c.version), Some(c.severity), c.base, Some(c.vector));
                }
            }
            Tag::RelatedItem => {
                if let Some(r) = item.reference.take() {
                    add_related(item, r);
                }
            }
            Tag::References => {
                // sec:references handled in set_field; a reference without text adds nothing.
                item.reference = None;
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_item(&mut self) -> Result<(), JvnError> {
        let Some(mut item) = self.item.take() else { return Ok(()) };
        if let Some((field, reason)) = item.skip.take() {
            self.skipped(item.line, field, reason);
            return Ok(());
        }
        if WITHDRAWN.iter().any(|m| item.adv.overview.contains(m)) {
            self.stats.dropped += 1;
            return Ok(());
        }
        let kind = self.kind.unwrap_or_default();
        let id_field = if kind == JvnKind::Vuldef { "VulinfoID" } else { "sec:identifier" };
        if !valid_jvndb(&item.adv.id) {
            let reason = if item.adv.id.is_empty() {
                "missing".to_owned()
            } else {
                format!("{} is not JVNDB-YYYY-NNNNNN", shown(&item.adv.id))
            };
            self.skipped(item.line, id_field.to_owned(), reason);
            return Ok(());
        }
        let mut adv = item.adv;
        if kind == JvnKind::Rss {
            adv.first_published = item.issued.clone();
            adv.published = item.issued;
            if adv.modified.is_none() {
                adv.modified = item.dc_date;
            }
        } else {
            adv.link = None;
        }
        if !item.solution.is_empty() {
            adv.solution = Some(item.solution.join("\n"));
        }
        adv.lang = self.lang.clone();
        (self.sink)(adv).map_err(|message| JvnError::Sink { file: self.file.to_owned(), line: item.line, message })?;
        self.stats.items += 1;
        Ok(())
    }

    fn skipped(&mut self, line: u64, field: String, reason: String) {
        self.stats.skipped_count += 1;
        if self.stats.skipped.len() < MAX_SKIPPED {
            self.stats.skipped.push((line, field, reason));
        }
    }

    /// Turns a quick-xml error into ours.
    fn read_failure(&self, err: quick_xml::Error, exceeded: bool, head: &[u8]) -> JvnError {
        match err {
            quick_xml::Error::Io(_) if exceeded => {
                self.refused(format!("a single tag, text or comment longer than {MAX_EVENT_BYTES} bytes"))
            }
            quick_xml::Error::Io(e) => {
                JvnError::Io { file: self.file.to_owned(), line: self.line, source: io::Error::new(e.kind(), e.to_string()) }
            }
            quick_xml::Error::Syntax(quick_xml::errors::SyntaxError::InvalidBangMarkup)
                if head.strip_prefix(b"<").unwrap_or(head).to_ascii_uppercase().starts_with(b"!ENTITY") =>
            {
                self.refused("entity declaration (<!ENTITY …>): never accepted")
            }
            quick_xml::Error::Encoding(_) => self.format("not UTF-8 (JVN serves UTF-8)"),
            other => self.format(format!("malformed XML in {}: {other}", self.context())),
        }
    }

    fn finish(mut self, end_line: u64) -> Result<JvnStats, JvnError> {
        self.line = end_line;
        if self.kind.is_none() {
            return Err(self.format("no root element: the file is empty or not XML"));
        }
        if let Some(open) = self.stack.last() {
            return Err(self.format(format!(
                "the file ends before <{}> (opened at line {}) is closed: truncated",
                open.name, open.line
            )));
        }
        Ok(self.stats)
    }
}

/// Stores a finished text field.
fn set_field(item: &mut ItemBuild, field: Field, text: &str) {
    if !item.budget(field.name(), text.len()) {
        return;
    }
    let opt = |t: &str| (!t.is_empty()).then(|| t.to_owned());
    let date = |item: &mut ItemBuild, t: &str| -> Option<String> {
        if t.is_empty() {
            return None;
        }
        if !valid_timestamp(t) {
            item.skip(field.name(), format!("{} is not a timestamp like 2018-03-09T12:04:48+09:00", shown(t)));
            return None;
        }
        Some(t.to_owned())
    };
    match field {
        Field::Title => item.adv.title = text.to_owned(),
        Field::Link => {
            if let Some(l) = opt(text) {
                item.adv.link = Some(l);
            }
        }
        Field::Overview => item.adv.overview = text.to_owned(),
        Field::Id => item.adv.id = text.to_owned(),
        Field::Reference => {
            if let Some(mut r) = item.reference.take() {
                r.url = opt(text);
                add_reference(item, r);
            }
        }
        Field::SecCpe => {
            let (vendor, product) = item.cpe_attrs.take().unwrap_or_default();
            if !(text.is_empty() && vendor.is_empty() && product.is_empty()) {
                let p = JvnProduct { vendor, product, cpe: text.to_owned(), versions: None };
                if !push_limited(&mut item.adv.products, p) {
                    item.skip("sec:cpe", format!("more than {MAX_LIST} products"));
                }
            }
        }
        Field::DcDate => item.dc_date = date(item, text),
        Field::Issued => item.issued = date(item, text),
        Field::Modified => item.adv.modified = date(item, text),
        Field::FirstPublished => item.adv.first_published = date(item, text),
        Field::LastUpdated => item.adv.modified = date(item, text),
        Field::Public => item.adv.published = date(item, text),
        Field::ProductVendor | Field::ProductName | Field::ProductCpe | Field::ProductVersion => {
            if let Some(p) = &mut item.product {
                match field {
                    Field::ProductVendor => p.vendor = text.to_owned(),
                    Field::ProductName => p.product = text.to_owned(),
                    Field::ProductCpe => p.cpe = text.to_owned(),
                    _ if text.is_empty() => {}
                    _ => match &mut p.versions {
                        Some(v) => {
                            v.push('\n');
                            v.push_str(text);
                        }
                        None => p.versions = Some(text.to_owned()),
                    },
                }
            }
        }
        Field::CvssSeverity | Field::CvssBase | Field::CvssVector => {
            if let Some(c) = &mut item.cvss {
                match field {
                    Field::CvssSeverity => c.severity = text.to_owned(),
                    Field::CvssBase => c.base = opt(text),
                    _ => c.vector = text.to_owned(),
                }
            }
        }
        Field::Solution => {
            if !text.is_empty() && !push_limited(&mut item.solution, text.to_owned()) {
                item.skip("SolutionItem", format!("more than {MAX_LIST} solutions"));
            }
        }
        Field::RelatedName | Field::RelatedId | Field::RelatedTitle | Field::RelatedUrl => {
            if let Some(r) = &mut item.reference {
                let slot = match field {
                    Field::RelatedName => &mut r.source,
                    Field::RelatedId => &mut r.id,
                    Field::RelatedTitle => &mut r.title,
                    _ => &mut r.url,
                };
                *slot = opt(text);
            }
        }
    }
}

/// A CVSS entry; a missing score adds nothing, a malformed one skips the advisory.
fn add_cvss(
    item: &mut ItemBuild,
    field: &str,
    version: Option<String>,
    severity: Option<String>,
    score: Option<String>,
    vector: Option<String>,
) {
    let Some(score) = score else { return };
    let base_score = match score.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=10.0).contains(&s) => s,
        _ => {
            item.skip(field, format!("score {} is not a number from 0 to 10", shown(&score)));
            return;
        }
    };
    let cvss = Cvss {
        version: version.unwrap_or_default(),
        source: "JVN".into(),
        primary: true,
        vector: vector.unwrap_or_default(),
        base_score,
        severity: severity.unwrap_or_default(),
    };
    if !push_limited(&mut item.adv.cvss, cvss) {
        item.skip(field, format!("more than {MAX_LIST} CVSS entries"));
    }
}

/// An RSS `<sec:references>`: a CWE, a CVE (source `CVE` or `NVD`) and/or a link.
fn add_reference(item: &mut ItemBuild, r: RefBuild) {
    let id = r.id.clone().unwrap_or_default();
    let source = r.source.clone().unwrap_or_default();
    let mut ok = true;
    if id.starts_with("CWE-") && (source.is_empty() || source.eq_ignore_ascii_case("CWE")) {
        if !push_unique(&mut item.adv.cwes, id) {
            item.skip("sec:references", format!("more than {MAX_LIST} CWEs"));
        }
        return;
    }
    if (source.eq_ignore_ascii_case("CVE") || source.eq_ignore_ascii_case("NVD")) && valid_cve(&id) {
        ok &= push_unique(&mut item.adv.cves, id);
    }
    if let Some(url) = r.url {
        let tags = [r.id, r.title].into_iter().flatten().collect();
        ok &= push_limited(&mut item.adv.references, Reference { url, source: r.source, tags });
    }
    if !ok {
        item.skip("sec:references", format!("more than {MAX_LIST} entries"));
    }
}

/// A VULDEF `<RelatedItem>`: `type="cwe"` gives a CWE; an id that is a CVE gives a CVE; a URL
/// gives a reference.
fn add_related(item: &mut ItemBuild, r: RefBuild) {
    let id = r.id.clone().unwrap_or_default();
    let mut ok = true;
    if r.kind.as_deref() == Some("cwe") {
        if id.starts_with("CWE-") {
            ok &= push_unique(&mut item.adv.cwes, id);
        }
    } else {
        if valid_cve(&id) {
            ok &= push_unique(&mut item.adv.cves, id);
        }
        if let Some(url) = r.url {
            let tags = [r.kind, r.id, r.title].into_iter().flatten().collect();
            ok &= push_limited(&mut item.adv.references, Reference { url, source: r.source, tags });
        }
    }
    if !ok {
        item.skip("RelatedItem", format!("more than {MAX_LIST} entries"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    type TestResult = Result<(), Box<dyn Error>>;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jvn/");

    fn fixture(name: &str) -> Result<Vec<u8>, Box<dyn Error>> {
        Ok(std::fs::read(format!("{FIXTURES}{name}"))?)
    }

    fn collect(file: &str, bytes: &[u8]) -> Result<(JvnStats, Vec<JvnAdvisory>), JvnError> {
        let mut out = Vec::new();
        let stats = read_jvn(file, bytes, |a| {
            out.push(a);
            Ok(())
        })?;
        Ok((stats, out))
    }

    fn by_id<'a>(advs: &'a [JvnAdvisory], id: &str) -> Result<&'a JvnAdvisory, String> {
        advs.iter().find(|a| a.id == id).ok_or_else(|| format!("{id} missing"))
    }

    const RSS_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:sec="http://jvn.jp/rss/mod_sec/3.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:dcterms="http://purl.org/dc/terms/" xmlns:status="http://jvndb.jvn.jp/myjvn/Status" xml:lang="ja">
"#;

    fn rss(body: &str) -> String {
        format!("{RSS_HEAD}{body}</rdf:RDF>\n")
    }

    fn item(id: &str, extra: &str) -> String {
        format!(
            "<item><title>t</title><description>d</description><sec:identifier>{id}</sec:identifier>{extra}\
             <dcterms:issued>2024-01-01T10:00+09:00</dcterms:issued></item>\n"
        )
    }

    #[test]
    fn yearly_feed() -> TestResult {
        let (stats, advs) = collect("jvndb_2024.rdf", &fixture("jvndb_2024-sample.rdf")?)?;
        assert_eq!(stats.kind, JvnKind::Rss);
        assert_eq!((stats.items, stats.dropped, stats.skipped_count), (4, 1, 0), "{:?}", stats.skipped);
        assert_eq!((stats.total_res, stats.ret_cd), (None, None));
        assert_eq!(advs.len(), 4);

        let yamaha = by_id(&advs, "JVNDB-2024-900001")?;
        assert_eq!(yamaha.lang, "ja");
        assert_eq!(yamaha.cves, ["CVE-2024-90001"]);
        assert_eq!(yamaha.cwes, ["CWE-78"]);
        assert_eq!(yamaha.link.as_deref(), Some("https://jvndb.jvn.jp/ja/contents/2024/JVNDB-2024-900001.html"));
        let cpes: Vec<&str> = yamaha.products.iter().map(|p| p.cpe.as_str()).collect();
        assert_eq!(cpes, ["cpe:/h:yamaha:rtx1210", "cpe:/h:yamaha:rtx830", "cpe:/h:yamaha:nvr510"]);
        assert!(yamaha.products.iter().all(|p| p.vendor == "ヤマハ株式会社" && p.versions.is_none()));
        assert_eq!(yamaha.products.get(1).map(|p| p.product.as_str()), Some("RTX830"));
        let v3 = yamaha.cvss.iter().find(|c| c.version == "3.0").ok_or("no CVSS 3.0")?;
        assert_eq!((v3.base_score, v3.severity.as_str(), v3.source.as_str()), (8.8, "High", "JVN"));
        assert_eq!(v3.vector, "CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
        assert_eq!(yamaha.cvss.len(), 2);
        // Times without seconds, as the yearly feeds write them, kept as given.
        assert_eq!(yamaha.published.as_deref(), Some("2024-05-13T15:32+09:00"));
        assert_eq!(yamaha.first_published, yamaha.published);
        assert_eq!(yamaha.modified.as_deref(), Some("2024-05-20T14:41+09:00"));
        // References: CVE, NVD, JVN and the vendor's page, text trimmed; the CWE is not one.
        assert_eq!(yamaha.references.len(), 4);
        let vendor = yamaha.references.get(3).ok_or("no vendor reference")?;
        assert_eq!(vendor.url, "https://www.rtpro.yamaha.co.jp/RT/FAQ/Security/synthetic-example.html");
        assert_eq!(vendor.source.as_deref(), Some("関連文書"));

        let buffalo = by_id(&advs, "JVNDB-2024-900002")?;
        assert!(buffalo.overview.contains("<br>"), "escaped markup is unescaped once: {}", buffalo.overview);
        assert_eq!(buffalo.products.first().map(|p| p.cpe.as_str()), Some("cpe:/h:buffalo:wsr-1166dhp4"));
        assert_eq!(buffalo.cwes, ["CWE-352"]);

        let nec = by_id(&advs, "JVNDB-2024-900003")?;
        assert_eq!(nec.cves, ["CVE-2024-90003", "CVE-2024-90004"]);
        assert_eq!(nec.products.len(), 3);
        assert_eq!(nec.modified.as_deref(), Some("2024-07-01T18:05:33+09:00"));

        // JVN-only advisories (no CVE) are kept.
        let fujitsu = by_id(&advs, "JVNDB-2024-900004")?;
        assert!(fujitsu.cves.is_empty());
        assert_eq!(fujitsu.cwes, ["CWE-284", "CWE-Other"]);
        assert_eq!(fujitsu.products.first().map(|p| p.vendor.as_str()), Some("富士通株式会社"));

        assert!(by_id(&advs, "JVNDB-2024-900005").is_err(), "the ** 未確定 ** item is dropped");
        Ok(())
    }

    #[test]
    fn overview_list_paging() -> TestResult {
        let (stats, advs) = collect("getVulnOverviewList.xml", &fixture("getVulnOverviewList-sample.xml")?)?;
        assert_eq!(stats.kind, JvnKind::Rss);
        assert_eq!((stats.total_res, stats.total_res_ret, stats.first_res), (Some(120), Some(50), Some(1)));
        assert_eq!((stats.ret_cd, stats.err_msg.as_deref()), (Some(0), None));
        assert_eq!(stats.items, 2);
        let first = by_id(&advs, "JVNDB-2025-900101")?;
        assert_eq!(first.products.first().map(|p| p.cpe.as_str()), Some("cpe:/h:yamaha:rtx1300"));
        assert_eq!(first.published.as_deref(), Some("2025-08-29T14:45:58+09:00"));
        Ok(())
    }

    #[test]
    fn vuldef_detail() -> TestResult {
        let (stats, advs) = collect("getVulnDetailInfo.xml", &fixture("getVulnDetailInfo-yamaha.xml")?)?;
        assert_eq!(stats.kind, JvnKind::Vuldef);
        assert_eq!((stats.items, stats.total_res, stats.total_res_ret, stats.first_res), (1, Some(1), Some(1), Some(1)));
        let a = by_id(&advs, "JVNDB-2024-900001")?;
        assert!(a.title.starts_with("ヤマハ製ルータ RTX シリーズ"));
        assert!(a.overview.contains("<ul><li>OS コマンドインジェクション"));
        assert_eq!(a.link, None);
        let products: Vec<(&str, &str, &str, Option<&str>)> = a
            .products
            .iter()
            .map(|p| (p.vendor.as_str(), p.product.as_str(), p.cpe.as_str(), p.versions.as_deref()))
            .collect();
        assert_eq!(
            products,
            [
                ("ヤマハ株式会社", "RTX1210", "cpe:/h:yamaha:rtx1210", Some("Rev.14.01.41 およびそれ以前")),
                ("ヤマハ株式会社", "RTX830", "cpe:/h:yamaha:rtx830", Some("Rev.15.02.26 およびそれ以前\nRev.15.02.30 (ベータ版)")),
                ("ヤマハ株式会社", "NVR510", "cpe:/h:yamaha:nvr510", Some("Rev.15.01.22 より前のバージョン")),
            ]
        );
        let cvss: Vec<(&str, f64, &str)> = a.cvss.iter().map(|c| (c.version.as_str(), c.base_score, c.severity.as_str())).collect();
        assert_eq!(cvss, [("3.0", 8.8, "High")]);
        assert_eq!(a.cvss.first().map(|c| c.vector.as_str()), Some("CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"));
        let solution = a.solution.as_deref().ok_or("no solution")?;
        assert!(solution.starts_with("[アップデートする]") && solution.contains("\n[ワークアラウンドを実施する]"));
        assert_eq!(a.cves, ["CVE-2024-90001"]);
        assert_eq!(a.cwes, ["CWE-78"]);
        // Vendor, CVE, JVN and NVD links; the CWE page is not a reference.
        assert_eq!(a.references.len(), 4);
        let vendor = a.references.first().ok_or("no reference")?;
        assert_eq!(vendor.source.as_deref(), Some("ヤマハ株式会社"));
        assert_eq!(vendor.tags.first().map(String::as_str), Some("vendor"));
        assert_eq!(a.first_published.as_deref(), Some("2024-05-13T15:32:10+09:00"));
        assert_eq!(a.modified.as_deref(), Some("2024-05-20T14:41:02+09:00"));
        assert_eq!(a.published.as_deref(), Some("2024-05-13T00:00:00+09:00"));
        Ok(())
    }

    #[test]
    fn several_vulinfo_and_english() -> TestResult {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<VULDEF-Document version="3.2" xmlns="http://jvn.jp/vuldef/" xml:lang="en">
  <Vulinfo><VulinfoID>JVNDB-2024-900011</VulinfoID><VulinfoData><Title>A</Title>
    <VulinfoDescription><Overview>one</Overview></VulinfoDescription></VulinfoData></Vulinfo>
  <Vulinfo><VulinfoID>JVNDB-2024-900012</VulinfoID><VulinfoData><Title>B</Title>
    <VulinfoDescription><Overview>** 削除 ** withdrawn</Overview></VulinfoDescription></VulinfoData></Vulinfo>
  <Vulinfo><VulinfoID>JVNDB-2024-900013</VulinfoID><VulinfoData><Title>C</Title>
    <Affected><AffectedItem><Name>Vendor</Name><ProductName>P</ProductName></AffectedItem></Affected>
    <VulinfoDescription><Overview>three</Overview></VulinfoDescription></VulinfoData></Vulinfo>
</VULDEF-Document>"#;
        let (stats, advs) = collect("detail.xml", doc.as_bytes())?;
        assert_eq!((stats.items, stats.dropped), (2, 1));
        assert!(advs.iter().all(|a| a.lang == "en"));
        let c = by_id(&advs, "JVNDB-2024-900013")?;
        assert_eq!(c.products.first().map(|p| (p.cpe.as_str(), p.versions.is_none())), Some(("", true)));
        Ok(())
    }

    #[test]
    fn withdrawn_markers_are_dropped() -> TestResult {
        let body: String = ["** 未確定 **", "** サポート外 **", "** 削除 **", "確定済み"]
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!("<item><description>{d} 本文</description><sec:identifier>JVNDB-2024-90010{i}</sec:identifier></item>")
            })
            .collect();
        let (stats, advs) = collect("feed.rdf", rss(&body).as_bytes())?;
        assert_eq!((stats.items, stats.dropped), (1, 3));
        assert_eq!(advs.first().map(|a| a.id.as_str()), Some("JVNDB-2024-900103"));
        Ok(())
    }

    #[test]
    fn status_errors_and_empty_results() -> TestResult {
        // retCd=1 with errCd/errMsg and empty counts, inside rdf:RDF …
        let err = rss(r#"<status:Status version="3.3" method="getVulnOverviewList" lang="ja" retCd="1" retMax=""
            errCd="VL01020003" errMsg="startItemは正の整数値のみ指定可能です。" totalRes="" totalResRet="" firstRes=""
            feed="hnd" startItem="-1"/>"#);
        match collect("err.xml", err.as_bytes()) {
            Err(JvnError::Api { file, line, ret_cd, err_cd, err_msg }) => {
                assert_eq!((file.as_str(), line, ret_cd), ("err.xml", 5, 1));
                assert_eq!(err_cd.as_deref(), Some("VL01020003"));
                assert!(err_msg.starts_with("startItem"));
            }
            other => panic!("{other:?}"),
        }
        // … and inside a MyJVN Result.
        let result = r#"<?xml version="1.0" encoding="UTF-8" ?>
<Result version="3.3" xmlns="http://jvndb.jvn.jp/myjvn/Results" xmlns:status="http://jvndb.jvn.jp/myjvn/Status">
  <status:Status version="3.3" method="getVulnDetailInfo" lang="ja" retCd="1" errCd="XX" errMsg="server error"/>
</Result>"#;
        assert!(matches!(collect("err.xml", result.as_bytes()), Err(JvnError::Api { ret_cd: 1, .. })));
        // Nothing matched: a Result with a successful status.
        let empty = result.replace(r#"retCd="1" errCd="XX" errMsg="server error""#, r#"retCd="0" errCd="" errMsg="" totalRes="0" totalResRet="0" firstRes="1""#);
        let (stats, advs) = collect("empty.xml", empty.as_bytes())?;
        assert_eq!((stats.kind, stats.total_res, stats.ret_cd, advs.len()), (JvnKind::Result, Some(0), Some(0), 0));
        // A count that is not a number.
        let bad = rss(r#"<status:Status retCd="0" totalRes="many"/>"#);
        assert!(matches!(collect("bad.xml", bad.as_bytes()), Err(JvnError::Format { line: 5, .. })));
        Ok(())
    }

    #[test]
    fn doctype_and_entities_refused() {
        let doctypes = [
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\n<rdf:RDF><item>&b;</item></rdf:RDF>",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF SYSTEM \"file:///etc/passwd\">\n<rdf:RDF/>",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE rdf:RDF>\n<rdf:RDF/>",
        ];
        for doc in doctypes {
            match collect("evil.rdf", doc.as_bytes()) {
                Err(JvnError::Refused { file, line, reason }) => {
                    assert_eq!((file.as_str(), line), ("evil.rdf", 2));
                    assert!(reason.contains("DOCTYPE"), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
        let undeclared = rss(&item("JVNDB-2024-900001", "<title>&xxe;</title>"));
        assert!(matches!(collect("x.rdf", undeclared.as_bytes()), Err(JvnError::Refused { line: 5, .. })));
        let in_attr = rss(r#"<item><sec:cpe vendor="&xxe;">cpe:/a:x:y</sec:cpe></item>"#);
        assert!(matches!(collect("x.rdf", in_attr.as_bytes()), Err(JvnError::Refused { .. })));
        let bare_entity = "<?xml version=\"1.0\"?>\n<!ENTITY a \"b\">\n<rdf:RDF/>";
        let r = collect("x.rdf", bare_entity.as_bytes());
        assert!(matches!(r, Err(JvnError::Refused { line: 2, .. })), "{r:?}");
    }

    #[test]
    fn encodings() -> TestResult {
        let sjis = rss("").replace("encoding=\"UTF-8\"", "encoding=\"Shift_JIS\"");
        match collect("sjis.rdf", sjis.as_bytes()) {
            Err(JvnError::Refused { line: 1, reason, .. }) => assert!(reason.contains("UTF-8"), "{reason}"),
            other => panic!("{other:?}"),
        }
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(rss("").encode_utf16().flat_map(u16::to_le_bytes));
        assert!(matches!(collect("u16.rdf", &utf16), Err(JvnError::Refused { line: 1, .. })));
        // Shift_JIS bytes in a kept value.
        let mut bytes = rss(&item("JVNDB-2024-900001", "<title>X</title>")).into_bytes();
        let at = bytes.windows(8).position(|w| w == b"<title>X").ok_or("no title")? + 7;
        if let Some(b) = bytes.get_mut(at) {
            *b = 0x83;
        }
        assert!(matches!(collect("bad.rdf", &bytes), Err(JvnError::Format { line: 5, .. })));
        // A UTF-8 byte-order mark is fine.
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice(rss(&item("JVNDB-2024-900001", "")).as_bytes());
        assert_eq!(collect("bom.rdf", &bom)?.0.items, 1);
        Ok(())
    }

    #[test]
    fn oversized_text_skips_the_item() -> TestResult {
        let huge = "あ".repeat(MAX_TEXT_BYTES / 3 + 1);
        let body = [
            item("JVNDB-2024-900001", &format!("<title>{huge}</title>")),
            item("JVNDB-2024-900002", &format!("<dc:creator>{huge}</dc:creator>")),
            item("JVNDB-2024-900003", &format!(r#"<sec:cpe vendor="{huge}">cpe:/a:x:y</sec:cpe>"#)),
            // Split by entity references, still one text node.
            item("JVNDB-2024-900004", &format!("<description>{}</description>", "ab&amp;".repeat(MAX_TEXT_BYTES / 3 + 1))),
            item("JVNDB-2024-900005", ""),
        ]
        .concat();
        let (stats, advs) = collect("big.rdf", rss(&body).as_bytes())?;
        assert_eq!(advs.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["JVNDB-2024-900005"]);
        let skipped: Vec<(u64, &str)> = stats.skipped.iter().map(|s| (s.0, s.1.as_str())).collect();
        assert_eq!(skipped, [(5, "title"), (6, "dc:creator"), (7, "sec:cpe@vendor"), (8, "description")]);
        assert!(stats.skipped.iter().all(|s| s.2.contains("longer than")));
        // Many values each under the limit, too much together.
        let refs = format!(r#"<sec:references source="JVN" id="x" title="{}">https://jvn.jp/</sec:references>"#, "t".repeat(MAX_TEXT_BYTES - 1));
        let body = item("JVNDB-2024-900006", &refs.repeat(MAX_ITEM_BYTES / MAX_TEXT_BYTES + 1));
        let (stats, advs) = collect("big.rdf", rss(&body).as_bytes())?;
        assert!(advs.is_empty());
        assert_eq!(stats.skipped.first().map(|s| (s.1.as_str(), s.2.contains("more than"))), Some(("sec:references", true)));
        // A single event over the hard limit is an error.
        let giant = rss(&format!("<!-- {} -->", "x".repeat(MAX_EVENT_BYTES + 1)));
        assert!(matches!(collect("giant.rdf", giant.as_bytes()), Err(JvnError::Refused { line: 5, .. })));
        Ok(())
    }

    #[test]
    fn bad_values_skip_the_item() -> TestResult {
        let body = [
            item("JVNDB-2024-900001", "<dcterms:modified>2024/05/20 14:41</dcterms:modified>"),
            item("JVNDB-2024-900002", "<dc:date>2024-02-30T25:00+09:00</dc:date>"),
            item("JVNDB-2024-900003", r#"<sec:cvss score="high" version="3.0" type="Base"/>"#),
            item("JVNDB-2024-900004", r#"<sec:cvss score="11.0" version="3.0"/>"#),
            item("JVN-2024-1", ""),
            "<item><title>no id</title></item>\n".to_owned(),
            "<item><sec:identifier>JVNDB-2024-900007</sec:identifier><dcterms:issued> </dcterms:issued>\
             <dcterms:modified>2024-05-20T14:41:07Z</dcterms:modified><dc:date/></item>\n"
                .to_owned(),
        ]
        .concat();
        let (stats, advs) = collect("bad.rdf", rss(&body).as_bytes())?;
        let skipped: Vec<(u64, &str)> = stats.skipped.iter().map(|s| (s.0, s.1.as_str())).collect();
        assert_eq!(
            skipped,
            [(5, "dcterms:modified"), (6, "dc:date"), (7, "sec:cvss"), (8, "sec:cvss"), (9, "sec:identifier"), (10, "sec:identifier")]
        );
        // An empty date is absent, not wrong; `Z` is accepted.
        let last = by_id(&advs, "JVNDB-2024-900007")?;
        assert_eq!((last.modified.as_deref(), last.published.as_deref()), (Some("2024-05-20T14:41:07Z"), None));
        assert_eq!(stats.items, 1);
        Ok(())
    }

    #[test]
    fn timestamps() {
        for ok in ["2018-03-09T12:04:48+09:00", "2026-10-08T11:00+09:00", "2024-05-20T14:41:07Z", "2024-01-01T00:00-05:00"] {
            assert!(valid_timestamp(ok), "{ok}");
        }
        for bad in ["2018-03-09", "2018-03-09T12+09:00", "2018-13-09T12:04+09:00", "2018-03-09T12:04:48", "2018-03-09T12:04:48+0900", "２０１８-03-09T12:04+09:00", ""] {
            assert!(!valid_timestamp(bad), "{bad}");
        }
    }

    #[test]
    fn not_jvn_or_broken() {
        let cases: [(&str, &[u8], u64); 7] = [
            ("empty", b"", 1),
            ("whitespace", b"  \n\n", 2),
            ("text", b"hello", 1),
            ("other root", b"<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel/></rss>", 2),
            ("json", b"{\"status\":\"OK\"}", 1),
            ("truncated", b"<rdf:RDF>\n<item>\n<title>x", 3),
            ("two roots", b"<rdf:RDF/>\n<rdf:RDF/>", 2),
        ];
        for (what, bytes, want) in cases {
            match collect("x.xml", bytes) {
                Err(JvnError::Format { file, line, .. }) => assert_eq!((file.as_str(), line), ("x.xml", want), "{what}"),
                other => panic!("{what}: {other:?}"),
            }
        }
        let mismatched = rss("<item><title>x</link></item>");
        assert!(matches!(collect("x.rdf", mismatched.as_bytes()), Err(JvnError::Format { line: 5, .. })));
        let long_name = rss(&format!("<{}/>", "a".repeat(MAX_NAME_BYTES + 1)));
        assert!(matches!(collect("x.rdf", long_name.as_bytes()), Err(JvnError::Refused { line: 5, .. })));
        let deep = rss(&"<a>".repeat(MAX_DEPTH + 1));
        assert!(matches!(collect("x.rdf", deep.as_bytes()), Err(JvnError::Refused { .. })));
    }

    #[test]
    fn gzip_and_sink_errors() -> TestResult {
        use std::io::Write;
        let plain = fixture("jvndb_2024-sample.rdf")?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain)?;
        let (stats, _) = collect("jvndb_2024.rdf.gz", &gz.finish()?)?;
        assert_eq!(stats.items, 4);
        let mut seen = 0;
        let r = read_jvn("jvndb_2024.rdf", plain.as_slice(), |_| {
            seen += 1;
            Err("store closed".to_owned())
        });
        assert!(matches!(r, Err(JvnError::Sink { line: 39, .. })), "{r:?}");
        assert_eq!(seen, 1);
        Ok(())
    }

    #[test]
    fn skipped_list_is_capped() -> TestResult {
        let body: String = (0..MAX_SKIPPED + 5).map(|_| item("bad", "")).collect();
        let (stats, _) = collect("many.rdf", rss(&body).as_bytes())?;
        assert_eq!((stats.skipped.len(), stats.skipped_count), (MAX_SKIPPED, MAX_SKIPPED as u64 + 5));
        Ok(())
    }
}
