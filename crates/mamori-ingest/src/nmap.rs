//! nmap XML output (`nmap -oX`), nmap 5 to 7.9x, read as a stream of events.
//!
//! What is kept: the run (`<nmaprun>` scanner, version, args, start; `<runstats>` finish time and
//! host counts when present), and per `<host>`: status, addresses (IPv4, IPv6, MAC with its
//! vendor), host names, ports with their service, and OS detection. OS classes are read both
//! inside `<osmatch>` (nmap ≥ 6) and directly under `<os>` (nmap ≤ 5, kept in
//! [`NmapHost::os_classes`]). `<hosthint>` elements (nmap 7.9x, written before the host is
//! scanned) are kept apart in [`NmapScan::hints`] and are not hosts. Everything else — NSE
//! `<script>` output and its nested tables, traceroute, timing, fingerprints — is read past
//! without being kept.
//!
//! # What is refused
//!
//! - A document type declaration with an internal subset (`<!DOCTYPE x [ … ]>`, which is where
//!   `<!ENTITY>` declarations live) or an external DTD (`SYSTEM`/`PUBLIC`). The bare
//!   `<!DOCTYPE nmaprun>` that nmap 7 writes declares nothing and is accepted.
//! - Any entity reference other than the five predefined ones (`&lt;` `&gt;` `&amp;` `&apos;`
//!   `&quot;`) and numeric character references. Nothing is ever expanded or fetched; the
//!   `<?xml-stylesheet?>` instruction is ignored.
//! - A kept value (attribute or `<cpe>` text) longer than [`MAX_VALUE_BYTES`]; any single tag,
//!   text run or comment longer than [`MAX_EVENT_BYTES`]; more than [`MAX_HOSTS`] hosts; elements
//!   nested deeper than 256.
//! - Declared encodings other than UTF-8 (nmap writes UTF-8), UTF-16 files (a byte-order mark,
//!   as PowerShell's `>` writes them), and bytes that are not UTF-8 in a kept value. Values that
//!   are skipped (script output, fingerprints) are not decoded, so their bytes are not checked.
//!
//! # Interrupted scans
//!
//! A complete document without `<runstats>` (nmap stopped politely, or a hand-edited file) is
//! accepted: [`NmapScan::finished`] and the `stats_*` fields are `None`. A document that stops
//! in the middle (nmap killed, file copied while being written) is an error naming the line
//! where the file ends and the element left open: importing half a host would record wrong
//! facts (ports missing, OS unknown), so the caller decides whether to retry.
//!
//! # Strictness
//!
//! Attributes that `nmap.dtd` marks as required and that are kept as non-`Option` fields
//! (`<address addr addrtype>`, `<port protocol portid>`, `<osmatch name accuracy>`, `<osclass
//! vendor osfamily accuracy>`, `<status state>`, `<state state>`) are errors when missing or
//! malformed; optional ones are `None` when absent. Unknown elements and attributes are ignored.

use std::io::{self, BufRead, Read};
use std::net::{Ipv4Addr, Ipv6Addr};

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::EscapeError;
use quick_xml::events::{BytesStart, Event};

use crate::{IngestError, MAX_EVENT_BYTES, MAX_HOSTS, MAX_VALUE_BYTES};

/// Deepest element nesting accepted (nmap's own output stays under 20 with NSE tables).
const MAX_DEPTH: usize = 256;
/// Most `<port>` elements per host: every port of the four protocols nmap knows.
const MAX_PORTS: usize = 4 * 65_536;
/// Most host names, OS matches, OS classes or CPEs in one list.
const MAX_LIST: usize = 1024;

/// One nmap run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapScan {
    /// `<nmaprun scanner>`: `nmap` (or `masscan`, which imitates the format).
    pub scanner: Option<String>,
    /// `<nmaprun version>`, e.g. `7.91` or `6.40-2`.
    pub scanner_version: Option<String>,
    /// `<nmaprun args>`: the command line.
    pub args: Option<String>,
    /// `<nmaprun start>`: Unix seconds.
    pub started: Option<i64>,
    /// `<runstats><finished time>`: Unix seconds; `None` when the run has no `<runstats>`.
    pub finished: Option<i64>,
    /// Scanned hosts in file order, whatever their state (see [`NmapScan::up_hosts`]).
    pub hosts: Vec<NmapHost>,
    /// `<hosthint>` elements: what nmap knew before scanning a host. Not hosts.
    pub hints: Vec<NmapHost>,
    /// `<runstats><hosts up>`.
    pub stats_up: Option<u64>,
    /// `<runstats><hosts down>`.
    pub stats_down: Option<u64>,
    /// `<runstats><hosts total>`.
    pub stats_total: Option<u64>,
}

impl NmapScan {
    /// The hosts whose status is `up`.
    pub fn up_hosts(&self) -> impl Iterator<Item = &NmapHost> + '_ {
        self.hosts.iter().filter(|h| h.is_up())
    }
}

/// One `<host>` (or `<hosthint>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapHost {
    /// `<status state>`: `up`, `down`, `unknown` or `skipped`.
    pub state: String,
    /// The first `<address addrtype="ipv4">`.
    pub ipv4: Option<Ipv4Addr>,
    /// The first `<address addrtype="ipv6">`.
    pub ipv6: Option<Ipv6Addr>,
    /// The first `<address addrtype="mac">`, normalized (`aa:bb:cc:dd:ee:ff`). nmap only sees
    /// MACs of hosts on the scanner's own network segment.
    pub mac: Option<String>,
    /// The `vendor` of that MAC address (nmap's OUI table), e.g. `Intel Corporate`.
    pub mac_vendor: Option<String>,
    /// `<hostnames><hostname>`, in file order (the same name may appear as `user` and `PTR`).
    pub hostnames: Vec<NmapHostname>,
    /// `<ports><port>`, in file order. Ports summarized by `<extraports>` are not listed.
    pub ports: Vec<NmapPort>,
    /// `<os><osmatch>` (nmap ≥ 6), best first as nmap wrote them.
    pub os_matches: Vec<OsMatch>,
    /// `<osclass>` directly under `<os>` (nmap ≤ 5 layout, not tied to a match).
    pub os_classes: Vec<OsClass>,
    /// Line where the element starts.
    pub line: u64,
}

impl NmapHost {
    /// Whether the status is `up`.
    pub fn is_up(&self) -> bool {
        self.state == "up"
    }
}

/// `<hostname name type>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapHostname {
    pub name: String,
    /// `user` (given on the command line) or `PTR` (reverse DNS).
    pub kind: Option<String>,
}

/// `<port>` with its `<state>` and `<service>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapPort {
    /// `tcp`, `udp`, `sctp` or `ip`.
    pub protocol: String,
    pub port: u16,
    /// `<state state>`: `open`, `closed`, `filtered`, `open|filtered` …
    pub state: String,
    /// `<service name>`, e.g. `http`.
    pub service: Option<String>,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    /// `<service ostype>`, e.g. `Windows`.
    pub ostype: Option<String>,
    /// `<service devicetype>`, e.g. `printer`, `storage-misc`.
    pub device_type: Option<String>,
    /// `<service><cpe>`.
    pub cpes: Vec<String>,
}

/// `<osmatch>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsMatch {
    pub name: String,
    /// 0 to 100.
    pub accuracy: u8,
    pub classes: Vec<OsClass>,
}

/// `<osclass>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsClass {
    pub vendor: String,
    /// `osfamily`, e.g. `Windows`, `Linux`, `embedded`.
    pub family: String,
    /// `osgen`, e.g. `7`, `2.6.X`.
    pub generation: Option<String>,
    /// `type`, e.g. `general purpose`, `WAP`, `printer`.
    pub device_type: Option<String>,
    /// 0 to 100.
    pub accuracy: u8,
    pub cpes: Vec<String>,
}

/// Reads one nmap XML document from `reader`. `name` is used in error messages only.
///
/// Streams: memory use is bounded by the crate's limits, not by the file size (apart from the
/// hosts kept). See the module documentation for what is refused.
pub fn parse_nmap(name: &str, reader: impl BufRead) -> Result<NmapScan, IngestError> {
    parse(name, reader, MAX_HOSTS, None)
}

/// Reads one nmap XML document and hands each `<host>` to `on_host` as soon as it is closed,
/// with the scan's start time, instead of keeping it: memory stays bounded whatever the number
/// of hosts. The returned scan has everything but the hosts. An `Err` from `on_host` stops the
/// parse and is returned.
pub fn stream_nmap(
    name: &str,
    reader: impl BufRead,
    on_host: &mut dyn FnMut(NmapHost, Option<i64>) -> Result<(), IngestError>,
) -> Result<NmapScan, IngestError> {
    parse(name, reader, MAX_HOSTS, Some(on_host))
}

type OnHost<'h> = &'h mut dyn FnMut(NmapHost, Option<i64>) -> Result<(), IngestError>;

fn parse<'a>(
    name: &'a str,
    mut reader: impl BufRead,
    max_hosts: usize,
    on_host: Option<OnHost<'a>>,
) -> Result<NmapScan, IngestError> {
    // Windows PowerShell 5's `>` saves `nmap -oX -` output as UTF-16: say so plainly.
    let head = reader.fill_buf().map_err(|source| IngestError::Io {
        file: name.to_owned(),
        line: 1,
        source,
    })?;
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(IngestError::Invalid {
            file: name.to_owned(),
            line: 1,
            field: "XML".to_owned(),
            reason: "the file is UTF-16 (as PowerShell's `>` saves it); nmap writes UTF-8: \
                     save the scan with `nmap -oX FILE` instead"
                .to_owned(),
        });
    }
    let mut xml = Reader::from_reader(Tracked::new(reader));
    let config = xml.config_mut();
    config.check_end_names = true;
    config.allow_unmatched_ends = false;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;

    let mut p = Parser::new(name, max_hosts, on_host);
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        xml.get_mut().start_event();
        p.line = xml.get_ref().line();
        let failure = match xml.read_event_into(&mut buf) {
            Ok(Event::Eof) => break,
            Ok(event) => {
                p.event(event)?;
                continue;
            }
            Err(e) => e,
        };
        // What follows the failing markup helps to name it (`<!` + `ENTITY`).
        let tracked = xml.get_mut();
        tracked.start_event();
        let next: Vec<u8> = tracked
            .fill_buf()
            .map(|b| b.iter().take(16).copied().collect())
            .unwrap_or_default();
        let head: Vec<u8> = buf.iter().take(80).chain(next.iter()).copied().collect();
        return Err(p.read_failure(failure, xml.get_ref(), &head));
    }
    p.finish(xml.get_ref().end_line())
}

/// A [`BufRead`] that counts lines and refuses to hand out more than [`MAX_EVENT_BYTES`] per
/// event, so that quick-xml never buffers an unbounded tag or text run.
struct Tracked<R> {
    inner: R,
    newlines: u64,
    last: Option<u8>,
    event_bytes: usize,
    exceeded: bool,
}

impl<R: BufRead> Tracked<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            newlines: 0,
            last: None,
            event_bytes: 0,
            exceeded: false,
        }
    }

    fn start_event(&mut self) {
        self.event_bytes = 0;
    }

    /// The line of the next unread byte.
    fn line(&self) -> u64 {
        self.newlines + 1
    }

    /// The line of the last byte (for errors at the end of the file).
    fn end_line(&self) -> u64 {
        if self.last == Some(b'\n') {
            self.newlines.max(1)
        } else {
            self.newlines + 1
        }
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
        // The bytes being consumed are still at the front of the inner buffer: fill_buf without
        // an intervening consume returns them again without reading.
        let seen = if amt == 0 {
            None
        } else {
            self.inner
                .fill_buf()
                .ok()
                .and_then(|available| available.get(..amt))
                .map(|part| {
                    (
                        part.iter().filter(|&&b| b == b'\n').count() as u64,
                        part.last().copied(),
                    )
                })
        };
        if let Some((newlines, last)) = seen {
            self.newlines += newlines;
            self.last = last;
        }
        self.inner.consume(amt);
        self.event_bytes = self.event_bytes.saturating_add(amt);
    }
}

/// The elements the parser looks at; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Nmaprun,
    Host,
    Hosthint,
    Status,
    Address,
    Hostnames,
    Hostname,
    Ports,
    Port,
    State,
    Service,
    Cpe,
    Os,
    Osmatch,
    Osclass,
    Runstats,
    Finished,
    Hosts,
    Other,
    /// Above the root.
    None,
}

impl Tag {
    fn of(name: &[u8]) -> Self {
        match name {
            b"nmaprun" => Self::Nmaprun,
            b"host" => Self::Host,
            b"hosthint" => Self::Hosthint,
            b"status" => Self::Status,
            b"address" => Self::Address,
            b"hostnames" => Self::Hostnames,
            b"hostname" => Self::Hostname,
            b"ports" => Self::Ports,
            b"port" => Self::Port,
            b"state" => Self::State,
            b"service" => Self::Service,
            b"cpe" => Self::Cpe,
            b"os" => Self::Os,
            b"osmatch" => Self::Osmatch,
            b"osclass" => Self::Osclass,
            b"runstats" => Self::Runstats,
            b"finished" => Self::Finished,
            b"hosts" => Self::Hosts,
            _ => Self::Other,
        }
    }
}

/// An open element on the stack.
struct Open {
    name: Vec<u8>,
    tag: Tag,
    line: u64,
}

/// A host being read.
struct HostBuild {
    host: NmapHost,
    hint: bool,
    has_status: bool,
}

/// A port being read.
struct PortBuild {
    port: NmapPort,
    has_state: bool,
    line: u64,
}

struct Parser<'a> {
    file: &'a str,
    max_hosts: usize,
    /// Hosts and hints read so far (hosts handed to `on_host` are not kept).
    host_count: usize,
    on_host: Option<OnHost<'a>>,
    /// Line where the current event starts.
    line: u64,
    stack: Vec<Open>,
    root_seen: bool,
    root_closed: bool,
    scan: NmapScan,
    host: Option<HostBuild>,
    port: Option<PortBuild>,
    osmatch: Option<OsMatch>,
    osclass: Option<OsClass>,
    /// Text of the `<cpe>` being read.
    cpe: Option<String>,
}

fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    format!("{s:?}")
}

fn display_name(name: &[u8]) -> String {
    let shortened: Vec<u8> = name.iter().copied().take(64).collect();
    String::from_utf8_lossy(&shortened).into_owned()
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, max_hosts: usize, on_host: Option<OnHost<'a>>) -> Self {
        Self {
            file,
            max_hosts,
            host_count: 0,
            on_host,
            line: 1,
            stack: Vec::new(),
            root_seen: false,
            root_closed: false,
            scan: NmapScan::default(),
            host: None,
            port: None,
            osmatch: None,
            osclass: None,
            cpe: None,
        }
    }

    fn invalid(&self, field: impl Into<String>, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            file: self.file.to_owned(),
            line: self.line,
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn refused(&self, field: impl Into<String>, reason: impl Into<String>) -> IngestError {
        IngestError::Refused {
            file: self.file.to_owned(),
            line: self.line,
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// `<name>` of the innermost open element, for messages about text.
    fn context(&self) -> String {
        match self.stack.last() {
            Some(open) => format!("<{}>", display_name(&open.name)),
            None => "XML".to_owned(),
        }
    }

    fn parent(&self) -> Tag {
        self.stack.last().map_or(Tag::None, |o| o.tag)
    }

    fn grandparent(&self) -> Tag {
        self.stack
            .len()
            .checked_sub(2)
            .and_then(|i| self.stack.get(i))
            .map_or(Tag::None, |o| o.tag)
    }

    fn event(&mut self, event: Event<'_>) -> Result<(), IngestError> {
        match event {
            Event::Start(e) => self.open(&e, false),
            Event::Empty(e) => self.open(&e, true),
            Event::End(e) => self.close(e.name().as_ref()),
            Event::Text(t) => {
                if self.stack.is_empty() && !t.iter().all(u8::is_ascii_whitespace) {
                    return Err(self.invalid(
                        "XML",
                        "text outside the <nmaprun> element: this is not nmap XML output (nmap -oX)",
                    ));
                }
                if self.cpe.is_some() {
                    let text = t.xml10_content().map_err(|_| {
                        self.invalid(
                            self.context(),
                            "text is not valid UTF-8 (nmap writes UTF-8)",
                        )
                    })?;
                    self.push_text(&text)?;
                }
                Ok(())
            }
            Event::CData(t) => {
                if self.cpe.is_some() {
                    let text = t.xml10_content().map_err(|_| {
                        self.invalid(
                            self.context(),
                            "CDATA is not valid UTF-8 (nmap writes UTF-8)",
                        )
                    })?;
                    self.push_text(&text)?;
                }
                Ok(())
            }
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        _ => {
                            return Err(self.invalid(
                                self.context(),
                                format!(
                                    "&{}; is not a valid character reference",
                                    display_name(&r)
                                ),
                            ));
                        }
                    }
                } else {
                    match predefined_entity(&r) {
                        Some(c) => c,
                        None => {
                            return Err(self.refused(
                                self.context(),
                                format!(
                                    "entity reference &{}; — only the five predefined XML \
                                     entities and numeric character references are accepted; \
                                     no entity is ever expanded",
                                    display_name(&r)
                                ),
                            ));
                        }
                    }
                };
                if self.cpe.is_some() {
                    let mut tmp = [0u8; 4];
                    self.push_text(resolved.encode_utf8(&mut tmp))?;
                }
                Ok(())
            }
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    let enc = String::from_utf8_lossy(&enc).to_ascii_lowercase();
                    if !matches!(enc.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                        return Err(self.invalid(
                            "<?xml?>",
                            format!(
                                "encoding {} is not supported: nmap writes UTF-8",
                                shown(&enc)
                            ),
                        ));
                    }
                }
                Ok(())
            }
            Event::DocType(d) => self.doctype(&d),
            Event::Comment(_) | Event::PI(_) | Event::Eof => Ok(()),
        }
    }

    fn push_text(&mut self, text: &str) -> Result<(), IngestError> {
        let too_long = match &self.cpe {
            Some(cpe) => cpe.len() + text.len() > MAX_VALUE_BYTES,
            None => false,
        };
        if too_long {
            return Err(self.refused("<cpe>", format!("text longer than {MAX_VALUE_BYTES} bytes")));
        }
        if let Some(cpe) = &mut self.cpe {
            cpe.push_str(text);
        }
        Ok(())
    }

    fn doctype(&self, content: &[u8]) -> Result<(), IngestError> {
        if self.root_seen {
            return Err(self.invalid(
                "<!DOCTYPE>",
                "document type declaration after the root element",
            ));
        }
        let trimmed = content.trim_ascii();
        let bare = !trimmed.is_empty()
            && trimmed.iter().all(|&b| {
                !b.is_ascii_whitespace()
                    && !matches!(b, b'[' | b']' | b'"' | b'\'' | b'<' | b'>' | b'%' | b'&')
            });
        if bare {
            return Ok(());
        }
        let upper = content.to_ascii_uppercase();
        let has = |needle: &[u8]| upper.windows(needle.len()).any(|w| w == needle);
        let reason = if has(b"<!ENTITY") {
            "the document type declaration declares entities (<!ENTITY …>); entity declarations \
             are never accepted or expanded (XML external entity / entity expansion attack)"
        } else if content.contains(&b'[') {
            "the document type declaration has an internal subset ([…]); only a bare \
             <!DOCTYPE nmaprun> as nmap writes it is accepted"
        } else {
            "the document type declaration refers to an external DTD (SYSTEM/PUBLIC); only a \
             bare <!DOCTYPE nmaprun> as nmap writes it is accepted, and nothing is ever fetched"
        };
        Err(self.refused("<!DOCTYPE>", reason))
    }

    /// Reads the attributes in `names` (others are skipped without decoding). Empty or
    /// whitespace-only values are `None`.
    fn attrs<const N: usize>(
        &self,
        e: &BytesStart<'_>,
        elem: &str,
        names: [&str; N],
    ) -> Result<[Option<String>; N], IngestError> {
        let mut out: [Option<String>; N] = std::array::from_fn(|_| None);
        for attr in e.attributes() {
            let attr = attr.map_err(|err| {
                self.invalid(format!("<{elem}>"), format!("malformed attribute: {err}"))
            })?;
            let key = attr.key.as_ref();
            let Some(i) = names.iter().position(|n| n.as_bytes() == key) else {
                continue;
            };
            let attr_name = names.get(i).copied().unwrap_or_default();
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|err| {
                    let field = format!("<{elem}>");
                    match err {
                        quick_xml::Error::Encoding(_) => self.invalid(
                            field,
                            format!("attribute {attr_name} is not valid UTF-8 (nmap writes UTF-8)"),
                        ),
                        quick_xml::Error::Escape(EscapeError::UnrecognizedEntity(_, entity)) => {
                            self.refused(
                                field,
                                format!(
                                    "attribute {attr_name} refers to entity &{}; — only the five \
                                 predefined XML entities and numeric character references are \
                                 accepted; no entity is ever expanded",
                                    display_name(entity.as_bytes())
                                ),
                            )
                        }
                        other => self.invalid(field, format!("attribute {attr_name}: {other}")),
                    }
                })?;
            if value.len() > MAX_VALUE_BYTES {
                return Err(self.refused(
                    format!("<{elem}>"),
                    format!("attribute {attr_name} is longer than {MAX_VALUE_BYTES} bytes"),
                ));
            }
            // An empty value says nothing (nmap writes `product=""` now and then).
            if value.trim().is_empty() {
                continue;
            }
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(value.into_owned());
            }
        }
        Ok(out)
    }

    fn required(
        &self,
        elem: &str,
        attr: &str,
        value: Option<String>,
    ) -> Result<String, IngestError> {
        value.ok_or_else(|| {
            self.invalid(
                format!("<{elem}>"),
                format!("attribute {attr} is missing or empty"),
            )
        })
    }

    fn number<T: std::str::FromStr>(
        &self,
        elem: &str,
        attr: &str,
        value: &str,
        what: &str,
    ) -> Result<T, IngestError> {
        value.trim().parse().map_err(|_| {
            self.invalid(
                format!("<{elem}>"),
                format!("attribute {attr} is not {what}: {}", shown(value)),
            )
        })
    }

    fn accuracy(&self, elem: &str, value: Option<String>) -> Result<u8, IngestError> {
        let value = self.required(elem, "accuracy", value)?;
        let n: u8 = self.number(elem, "accuracy", &value, "a percentage from 0 to 100")?;
        if n > 100 {
            return Err(self.invalid(
                format!("<{elem}>"),
                format!(
                    "attribute accuracy is not a percentage from 0 to 100: {}",
                    shown(&value)
                ),
            ));
        }
        Ok(n)
    }

    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), IngestError> {
        let qname = e.name();
        let name = qname.as_ref();
        if !self.root_seen {
            if name != b"nmaprun" {
                return Err(self.invalid(
                    format!("<{}>", display_name(name)),
                    format!(
                        "the root element is <{}>, not <nmaprun>: this is not nmap XML output (nmap -oX)",
                        display_name(name)
                    ),
                ));
            }
            self.root_seen = true;
            let [scanner, version, args, start] =
                self.attrs(e, "nmaprun", ["scanner", "version", "args", "start"])?;
            self.scan.scanner = scanner;
            self.scan.scanner_version = version;
            self.scan.args = args;
            self.scan.started = match start {
                Some(s) => Some(self.number("nmaprun", "start", &s, "a Unix time")?),
                None => None,
            };
        } else if self.root_closed {
            return Err(self.invalid(
                format!("<{}>", display_name(name)),
                "element after the end of <nmaprun>: the file holds more than one document \
                 (nmap --append-output with -oX writes such files)",
            ));
        } else if self.stack.len() >= MAX_DEPTH {
            return Err(self.refused(
                format!("<{}>", display_name(name)),
                format!("elements nested deeper than {MAX_DEPTH}"),
            ));
        } else {
            self.start_element(name, e)?;
        }
        if empty {
            self.end_element(name)?;
            if self.stack.is_empty() {
                self.root_closed = true;
            }
        } else {
            self.stack.push(Open {
                name: name.to_vec(),
                tag: Tag::of(name),
                line: self.line,
            });
        }
        Ok(())
    }

    fn close(&mut self, name: &[u8]) -> Result<(), IngestError> {
        // quick-xml has already checked that the name matches the open element.
        self.stack.pop();
        if self.stack.is_empty() {
            self.root_closed = true;
            return Ok(());
        }
        self.end_element(name)
    }

    fn start_element(&mut self, name: &[u8], e: &BytesStart<'_>) -> Result<(), IngestError> {
        let parent = self.parent();
        let in_host =
            matches!(self.grandparent(), Tag::Host | Tag::Hosthint) && self.host.is_some();
        match (parent, Tag::of(name)) {
            (Tag::Nmaprun, Tag::Host | Tag::Hosthint) => {
                if self.host_count >= self.max_hosts {
                    return Err(self.refused(
                        format!("<{}>", display_name(name)),
                        format!("more than {} hosts in one file", self.max_hosts),
                    ));
                }
                self.host = Some(HostBuild {
                    host: NmapHost {
                        line: self.line,
                        ..NmapHost::default()
                    },
                    hint: name == b"hosthint",
                    has_status: false,
                });
                self.port = None;
                self.osmatch = None;
                self.osclass = None;
            }
            (Tag::Host | Tag::Hosthint, Tag::Status) if self.host.is_some() => {
                let [state] = self.attrs(e, "status", ["state"])?;
                let state = self.required("status", "state", state)?;
                if let Some(h) = &mut self.host {
                    h.host.state = state;
                    h.has_status = true;
                }
            }
            (Tag::Host | Tag::Hosthint, Tag::Address) if self.host.is_some() => self.address(e)?,
            (Tag::Hostnames, Tag::Hostname) if in_host => {
                let [hname, kind] = self.attrs(e, "hostname", ["name", "type"])?;
                let hname = self.required("hostname", "name", hname)?;
                self.push_limited(
                    |h| &mut h.hostnames,
                    NmapHostname { name: hname, kind },
                    "<hostname>",
                )?;
            }
            (Tag::Ports, Tag::Port) if in_host => {
                let [protocol, portid] = self.attrs(e, "port", ["protocol", "portid"])?;
                let protocol = self.required("port", "protocol", protocol)?;
                let portid = self.required("port", "portid", portid)?;
                let port: u16 =
                    self.number("port", "portid", &portid, "a port number from 0 to 65535")?;
                self.port = Some(PortBuild {
                    port: NmapPort {
                        protocol,
                        port,
                        ..NmapPort::default()
                    },
                    has_state: false,
                    line: self.line,
                });
            }
            (Tag::Port, Tag::State) if self.port.is_some() => {
                let [state] = self.attrs(e, "state", ["state"])?;
                let state = self.required("state", "state", state)?;
                if let Some(p) = &mut self.port {
                    p.port.state = state;
                    p.has_state = true;
                }
            }
            (Tag::Port, Tag::Service) if self.port.is_some() => {
                let [sname, product, version, extrainfo, ostype, devicetype] = self.attrs(
                    e,
                    "service",
                    [
                        "name",
                        "product",
                        "version",
                        "extrainfo",
                        "ostype",
                        "devicetype",
                    ],
                )?;
                if let Some(p) = &mut self.port {
                    p.port.service = sname;
                    p.port.product = product;
                    p.port.version = version;
                    p.port.extrainfo = extrainfo;
                    p.port.ostype = ostype;
                    p.port.device_type = devicetype;
                }
            }
            (Tag::Service, Tag::Cpe) if self.port.is_some() => self.cpe = Some(String::new()),
            (Tag::Osclass, Tag::Cpe) if self.osclass.is_some() => self.cpe = Some(String::new()),
            (Tag::Os, Tag::Osmatch) if in_host => {
                let [mname, accuracy] = self.attrs(e, "osmatch", ["name", "accuracy"])?;
                let mname = self.required("osmatch", "name", mname)?;
                let accuracy = self.accuracy("osmatch", accuracy)?;
                self.osmatch = Some(OsMatch {
                    name: mname,
                    accuracy,
                    classes: Vec::new(),
                });
            }
            (Tag::Osmatch, Tag::Osclass) if self.osmatch.is_some() => {
                self.osclass = Some(self.osclass(e)?)
            }
            (Tag::Os, Tag::Osclass) if in_host => self.osclass = Some(self.osclass(e)?),
            (Tag::Runstats, Tag::Finished) if self.grandparent() == Tag::Nmaprun => {
                let [time] = self.attrs(e, "finished", ["time"])?;
                self.scan.finished = match time {
                    Some(t) => Some(self.number("finished", "time", &t, "a Unix time")?),
                    None => None,
                };
            }
            (Tag::Runstats, Tag::Hosts) if self.grandparent() == Tag::Nmaprun => {
                let [up, down, total] = self.attrs(e, "hosts", ["up", "down", "total"])?;
                let count = |v: Option<String>, attr: &str| -> Result<Option<u64>, IngestError> {
                    match v {
                        Some(v) => Ok(Some(self.number("hosts", attr, &v, "a count")?)),
                        None => Ok(None),
                    }
                };
                let (up, down, total) = (
                    count(up, "up")?,
                    count(down, "down")?,
                    count(total, "total")?,
                );
                self.scan.stats_up = up;
                self.scan.stats_down = down;
                self.scan.stats_total = total;
            }
            _ => {}
        }
        Ok(())
    }

    fn osclass(&self, e: &BytesStart<'_>) -> Result<OsClass, IngestError> {
        let [vendor, family, generation, kind, accuracy] = self.attrs(
            e,
            "osclass",
            ["vendor", "osfamily", "osgen", "type", "accuracy"],
        )?;
        Ok(OsClass {
            vendor: self.required("osclass", "vendor", vendor)?,
            family: self.required("osclass", "osfamily", family)?,
            generation,
            device_type: kind,
            accuracy: self.accuracy("osclass", accuracy)?,
            cpes: Vec::new(),
        })
    }

    fn address(&mut self, e: &BytesStart<'_>) -> Result<(), IngestError> {
        let [addr, addrtype, vendor] = self.attrs(e, "address", ["addr", "addrtype", "vendor"])?;
        let addr = self.required("address", "addr", addr)?;
        let addrtype = self.required("address", "addrtype", addrtype)?;
        let bad = |what: &str| {
            self.invalid(
                "<address>",
                format!("attribute addr is not {what}: {}", shown(&addr)),
            )
        };
        match addrtype.as_str() {
            "ipv4" => {
                let ip: Ipv4Addr = addr.trim().parse().map_err(|_| bad("an IPv4 address"))?;
                if let Some(h) = &mut self.host {
                    h.host.ipv4.get_or_insert(ip);
                }
            }
            "ipv6" => {
                let ip: Ipv6Addr = addr.trim().parse().map_err(|_| bad("an IPv6 address"))?;
                if let Some(h) = &mut self.host {
                    h.host.ipv6.get_or_insert(ip);
                }
            }
            "mac" => {
                let mac = crate::normalize_mac(addr.trim()).ok_or_else(|| bad("a MAC address"))?;
                if let Some(h) = self.host.as_mut().filter(|h| h.host.mac.is_none()) {
                    h.host.mac = Some(mac);
                    h.host.mac_vendor = vendor;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push_limited<T>(
        &mut self,
        list: impl FnOnce(&mut NmapHost) -> &mut Vec<T>,
        item: T,
        what: &str,
    ) -> Result<(), IngestError> {
        let err = self.refused(what, format!("more than {MAX_LIST} in one host"));
        if let Some(h) = &mut self.host {
            let list = list(&mut h.host);
            if list.len() >= MAX_LIST {
                return Err(err);
            }
            list.push(item);
        }
        Ok(())
    }

    fn end_element(&mut self, name: &[u8]) -> Result<(), IngestError> {
        let parent = self.parent();
        match (parent, Tag::of(name)) {
            (Tag::Nmaprun, Tag::Host | Tag::Hosthint) => {
                if let Some(h) = self.host.take() {
                    let elem = if h.hint { "<hosthint>" } else { "<host>" };
                    if !h.has_status {
                        let mut err = self.invalid(elem, "no <status> element");
                        if let IngestError::Invalid { line, .. } = &mut err {
                            *line = h.host.line;
                        }
                        return Err(err);
                    }
                    self.host_count += 1;
                    if h.hint {
                        // Hints describe no host of their own; a stream does not keep them.
                        if self.on_host.is_none() {
                            self.scan.hints.push(h.host);
                        }
                    } else if let Some(on_host) = self.on_host.as_mut() {
                        on_host(h.host, self.scan.started)?;
                    } else {
                        self.scan.hosts.push(h.host);
                    }
                }
            }
            (Tag::Ports, Tag::Port) => {
                if let Some(p) = self.port.take() {
                    if !p.has_state {
                        let mut err = self.invalid("<port>", "no <state> element");
                        if let IngestError::Invalid { line, .. } = &mut err {
                            *line = p.line;
                        }
                        return Err(err);
                    }
                    let err =
                        self.refused("<port>", format!("more than {MAX_PORTS} ports in one host"));
                    if let Some(h) = &mut self.host {
                        if h.host.ports.len() >= MAX_PORTS {
                            return Err(err);
                        }
                        h.host.ports.push(p.port);
                    }
                }
            }
            (Tag::Os, Tag::Osmatch) => {
                if let Some(m) = self.osmatch.take() {
                    self.push_limited(|h| &mut h.os_matches, m, "<osmatch>")?;
                }
            }
            (Tag::Osmatch, Tag::Osclass) => {
                if let Some(c) = self.osclass.take() {
                    let err = self.refused(
                        "<osclass>",
                        format!("more than {MAX_LIST} in one <osmatch>"),
                    );
                    if let Some(m) = &mut self.osmatch {
                        if m.classes.len() >= MAX_LIST {
                            return Err(err);
                        }
                        m.classes.push(c);
                    }
                }
            }
            (Tag::Os, Tag::Osclass) => {
                if let Some(c) = self.osclass.take() {
                    self.push_limited(|h| &mut h.os_classes, c, "<osclass>")?;
                }
            }
            (Tag::Service | Tag::Osclass, Tag::Cpe) => {
                let Some(text) = self.cpe.take() else {
                    return Ok(());
                };
                let text = text.trim().to_owned();
                if text.is_empty() {
                    return Ok(());
                }
                let err = self.refused("<cpe>", format!("more than {MAX_LIST} in one element"));
                let list = if parent == Tag::Service {
                    self.port.as_mut().map(|p| &mut p.port.cpes)
                } else {
                    self.osclass.as_mut().map(|c| &mut c.cpes)
                };
                if let Some(list) = list {
                    if list.len() >= MAX_LIST {
                        return Err(err);
                    }
                    list.push(text);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Turns a quick-xml error into ours, naming the markup being read.
    fn read_failure<R>(
        &self,
        err: quick_xml::Error,
        tracked: &Tracked<R>,
        head: &[u8],
    ) -> IngestError {
        let field = sniff(head).unwrap_or_else(|| self.context());
        match err {
            quick_xml::Error::Io(_) if tracked.exceeded => self.refused(
                field,
                format!(
                    "a single tag, text or comment longer than {MAX_EVENT_BYTES} bytes \
                     (no value mamori reads from nmap output is that long)"
                ),
            ),
            quick_xml::Error::Io(e) => IngestError::Io {
                file: self.file.to_owned(),
                line: self.line,
                source: io::Error::new(e.kind(), e.to_string()),
            },
            quick_xml::Error::Syntax(quick_xml::errors::SyntaxError::InvalidBangMarkup)
                if field == "<!ENTITY>" =>
            {
                self.refused(
                    field,
                    "entity declaration outside a document type declaration; entity \
                     declarations are never accepted",
                )
            }
            quick_xml::Error::Encoding(_) => {
                self.invalid(field, "not valid UTF-8 (nmap writes UTF-8)")
            }
            other => self.invalid(field, format!("malformed XML: {other}")),
        }
    }

    fn finish(mut self, end_line: u64) -> Result<NmapScan, IngestError> {
        self.line = end_line;
        if !self.root_seen {
            return Err(self.invalid(
                "XML",
                "no <nmaprun> element: the file is empty or is not nmap XML output (nmap -oX)",
            ));
        }
        if let Some(open) = self.stack.last() {
            return Err(self.invalid(
                format!("<{}>", display_name(&open.name)),
                format!(
                    "the file ends before this element (opened at line {}) is closed: the scan \
                     was interrupted or the file is truncated",
                    open.line
                ),
            ));
        }
        Ok(self.scan)
    }
}

/// The five entities XML predefines.
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

/// Names the markup at the start of `buf` (`<port>`, `<!DOCTYPE>`, `comment`), if any.
fn sniff(buf: &[u8]) -> Option<String> {
    let rest = buf.strip_prefix(b"<")?;
    if rest.starts_with(b"!--") {
        return Some("comment".to_owned());
    }
    if rest.starts_with(b"![CDATA[") {
        return Some("CDATA section".to_owned());
    }
    if rest.starts_with(b"?") {
        return Some("processing instruction".to_owned());
    }
    let (prefix, rest) = match rest.strip_prefix(b"/") {
        Some(r) => ("/", r),
        None => ("", rest),
    };
    let name: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'>' | b'/' | b'[' | b'"' | b'\''))
        .take(64)
        .collect();
    if name.is_empty() {
        return None;
    }
    Some(format!("<{prefix}{}>", String::from_utf8_lossy(&name)))
}

#[cfg(test)]
mod tests {
    use std::io::{BufReader, Read};

    use super::*;

    const HEAD: &str = "<?xml version=\"1.0\"?>\n<nmaprun scanner=\"nmap\" version=\"7.94\" start=\"1700000000\">\n";

    fn doc(body: &str) -> String {
        format!("{HEAD}{body}</nmaprun>\n")
    }

    fn ok(xml: &str) -> NmapScan {
        parse_nmap("scan.xml", xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(xml: impl AsRef<[u8]>) -> IngestError {
        match parse_nmap("scan.xml", xml.as_ref()) {
            Ok(s) => panic!("accepted: {s:?}"),
            Err(e) => e,
        }
    }

    /// A reader that counts how many bytes were taken from it.
    struct Counting<R> {
        inner: R,
        taken: std::rc::Rc<std::cell::Cell<u64>>,
    }

    impl<R: Read> Read for Counting<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.taken.set(self.taken.get() + n as u64);
            Ok(n)
        }
    }

    /// `prefix`, then `len` bytes of `fill` produced on the fly, then `suffix`.
    fn generated(
        prefix: String,
        fill: u8,
        len: u64,
        suffix: &'static str,
    ) -> (impl BufRead, std::rc::Rc<std::cell::Cell<u64>>) {
        let taken = std::rc::Rc::new(std::cell::Cell::new(0));
        let inner = io::Cursor::new(prefix.into_bytes())
            .chain(io::repeat(fill).take(len))
            .chain(suffix.as_bytes());
        (
            BufReader::new(Counting {
                inner,
                taken: taken.clone(),
            }),
            taken,
        )
    }

    const HOST: &str =
        "<host><status state=\"up\"/><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/></host>\n";

    #[test]
    fn complete_document_without_runstats_is_accepted() {
        let s = ok(&doc(&format!("{HOST}{HOST}")));
        assert_eq!(s.hosts.len(), 2);
        assert_eq!(
            (s.finished, s.stats_up, s.stats_down, s.stats_total),
            (None, None, None, None)
        );
        assert_eq!(
            (s.started, s.scanner_version.as_deref()),
            (Some(1_700_000_000), Some("7.94"))
        );
    }

    #[test]
    fn unterminated_document_is_an_error_naming_the_line() {
        // nmap killed while writing the third host.
        let xml = format!(
            "{HEAD}{HOST}{HOST}<host><status state=\"up\"/>\n<ports><port protocol=\"tcp\" portid=\"80\">"
        );
        let e = err(&xml);
        assert_eq!((e.line(), e.field()), (6, "<port>"), "{e}");
        assert_eq!(
            e.to_string(),
            "scan.xml:6: <port>: the file ends before this element (opened at line 6) is closed: \
             the scan was interrupted or the file is truncated"
        );
        // Cut inside a tag.
        let e = err(format!("{HEAD}{HOST}<host><status sta"));
        assert_eq!((e.line(), e.field()), (4, "<status>"), "{e}");
        assert!(e.to_string().contains("malformed XML"), "{e}");
        // Cut right after the root start tag.
        let e = err(HEAD);
        assert_eq!((e.line(), e.field()), (2, "<nmaprun>"), "{e}");
        // Nothing at all.
        let e = err("");
        assert_eq!((e.line(), e.field()), (1, "XML"), "{e}");
    }

    #[test]
    fn ten_megabyte_attribute_is_refused_without_reading_it_all() {
        let prefix =
            format!("{HEAD}<host><status state=\"up\"/><address addrtype=\"ipv4\" addr=\"");
        let (reader, taken) = generated(prefix, b'1', 10 * 1024 * 1024, "\"/></host></nmaprun>");
        let e = parse_nmap("big.xml", reader).unwrap_err();
        assert!(e.is_refusal(), "{e}");
        assert_eq!((e.line(), e.field()), (3, "<address>"), "{e}");
        assert!(e.to_string().contains("longer than 1048576 bytes"), "{e}");
        // Stopped after about one event's worth, not 10 MB.
        assert!(
            taken.get() < 2 * MAX_EVENT_BYTES as u64,
            "read {} bytes",
            taken.get()
        );
    }

    #[test]
    fn ten_megabyte_text_run_and_comment_are_refused() {
        let (reader, taken) = generated(
            format!("{HEAD}<host>"),
            b'x',
            10 * 1024 * 1024,
            "</host></nmaprun>",
        );
        let e = parse_nmap("big.xml", reader).unwrap_err();
        assert!(e.is_refusal() && e.field() == "<host>", "{e}");
        assert!(taken.get() < 2 * MAX_EVENT_BYTES as u64);
        let (reader, _) = generated(format!("{HEAD}<!--"), b'-', 10 * 1024 * 1024, "-->");
        let e = parse_nmap("big.xml", reader).unwrap_err();
        assert!(e.is_refusal() && e.field() == "comment", "{e}");
    }

    #[test]
    fn kept_value_over_64_kib_is_refused_but_skipped_script_output_is_not() {
        let long = "A".repeat(MAX_VALUE_BYTES + 1);
        let xml = doc(&format!(
            "<host><status state=\"up\"/>\n<ports><port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/>\
             <service name=\"http\" product=\"{long}\"/></port></ports></host>\n"
        ));
        let e = err(&xml);
        assert!(e.is_refusal(), "{e}");
        assert_eq!(
            e.to_string(),
            "scan.xml:4: <service>: refused: attribute product is longer than 65536 bytes"
        );
        let xml = doc(&format!(
            "<host><status state=\"up\"/>\n<ports><port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/>\
             <script id=\"http-title\" output=\"{long}\"><elem key=\"title\">{long}</elem></script></port></ports></host>\n"
        ));
        assert_eq!(ok(&xml).hosts[0].ports[0].port, 80);
        let xml = doc(&format!(
            "<host><status state=\"up\"/><ports><port protocol=\"tcp\" portid=\"80\"><state state=\"open\"/>\
             <service name=\"http\"><cpe>{long}</cpe></service></port></ports></host>"
        ));
        assert!(err(&xml).is_refusal());
    }

    #[test]
    fn non_utf8_hostname_is_an_error_not_a_panic() {
        let mut xml =
            format!("{HEAD}<host><status state=\"up\"/>\n<hostnames>\n<hostname name=\"caf")
                .into_bytes();
        xml.extend([0xe9, 0xff]);
        xml.extend(b"\" type=\"PTR\"/></hostnames></host></nmaprun>");
        let e = err(&xml);
        assert!(!e.is_refusal());
        assert_eq!(
            e.to_string(),
            "scan.xml:5: <hostname>: attribute name is not valid UTF-8 (nmap writes UTF-8)"
        );
        // In a value that is not kept, such bytes are not looked at.
        let mut xml = format!("{HEAD}<host><status state=\"up\" reason=\"").into_bytes();
        xml.extend([0xff]);
        xml.extend(b"\"/></host></nmaprun>");
        assert_eq!(parse_nmap("x", &xml[..]).unwrap().hosts.len(), 1);
    }

    #[test]
    fn document_type_declarations() {
        // nmap 7 writes a bare one; it declares nothing.
        let s = ok(&format!("<!DOCTYPE nmaprun>\n{}", doc(HOST)));
        assert_eq!(s.hosts.len(), 1);

        let billion_laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n <!ENTITY lol \"lol\">\n \
             <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n]>\n<nmaprun>&lol2;</nmaprun>";
        let external_dtd =
            "<!DOCTYPE nmaprun SYSTEM \"http://attacker.example/x.dtd\">\n<nmaprun/>";
        let public_dtd = "<!DOCTYPE nmaprun PUBLIC \"-//x//y\" \"file:///etc/passwd\">\n<nmaprun/>";
        let parameter_entity =
            "<!DOCTYPE nmaprun [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n<nmaprun/>";
        let empty_subset = "<!DOCTYPE nmaprun []>\n<nmaprun/>";
        let lower_case = "<!doctype nmaprun [<!entity x \"y\">]>\n<nmaprun/>";
        for (xml, line, needle) in [
            (billion_laughs, 2, "ENTITY"),
            (external_dtd, 1, "external DTD"),
            (public_dtd, 1, "external DTD"),
            (parameter_entity, 1, "ENTITY"),
            (empty_subset, 1, "internal subset"),
            (lower_case, 1, "ENTITY"),
        ] {
            let e = err(xml);
            assert!(e.is_refusal(), "{xml}: {e}");
            assert_eq!((e.line(), e.field()), (line, "<!DOCTYPE>"), "{xml}: {e}");
            assert!(e.to_string().contains(needle), "{xml}: {e}");
        }
        // After the root it is not even well-formed.
        let e = err(format!("{HEAD}<!DOCTYPE nmaprun>\n</nmaprun>"));
        assert_eq!(e.field(), "<!DOCTYPE>");
        // A stray ENTITY declaration outside a DOCTYPE.
        let e = err(format!("{HEAD}<!ENTITY x \"y\">\n</nmaprun>"));
        assert_eq!(e.line(), 3, "{e}");
    }

    #[test]
    fn only_predefined_entities_and_character_references() {
        let xml = doc(
            "<host><status state=\"up\"/><ports><port protocol=\"tcp\" portid=\"443\"><state state=\"open\"/>\
             <service name=\"https\" product=\"A&amp;B &lt;x&gt; &#x41;&#66; &quot;q&quot; &apos;\">\
             <cpe>cpe:/a:a&amp;b:&#x78;</cpe></service></port></ports></host>",
        );
        let s = ok(&xml);
        let port = &s.hosts[0].ports[0];
        assert_eq!(port.product.as_deref(), Some("A&B <x> AB \"q\" '"));
        assert_eq!(port.cpes, ["cpe:/a:a&b:x"]);

        let e = err(doc("<host><status state=\"up\"/>&ee;</host>"));
        assert!(
            e.is_refusal() && e.field() == "<host>" && e.to_string().contains("&ee;"),
            "{e}"
        );
        let e = err(doc("<host><status state=\"&ee;\"/></host>"));
        assert!(
            e.is_refusal() && e.field() == "<status>" && e.to_string().contains("&ee;"),
            "{e}"
        );
        let e = err(doc("<host>&#xFFFFFFFF;</host>"));
        assert!(!e.is_refusal() && e.field() == "<host>", "{e}");
        let e = err(doc("<host>a & b</host>"));
        assert_eq!(e.field(), "<host>", "{e}");
    }

    #[test]
    fn declared_encoding_other_than_utf8_is_refused_and_bom_is_accepted() {
        let e = err("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<nmaprun/>");
        assert_eq!((e.line(), e.field()), (1, "<?xml?>"), "{e}");
        assert!(
            e.to_string().contains("ISO-8859-1") || e.to_string().contains("iso-8859-1"),
            "{e}"
        );
        let with_bom = format!(
            "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            doc(HOST).trim_start_matches("<?xml version=\"1.0\"?>\n")
        );
        assert_eq!(ok(&with_bom).hosts.len(), 1);
    }

    #[test]
    fn utf16_file_is_named_as_such() {
        let utf16: Vec<u8> = [0xfeff_u16]
            .into_iter()
            .chain(doc(HOST).encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        let e = err(utf16);
        assert_eq!((e.line(), e.field()), (1, "XML"));
        assert!(e.to_string().contains("UTF-16"), "{e}");
    }

    #[test]
    fn not_nmap_and_appended_runs_are_errors() {
        let e = err("<?xml version=\"1.0\"?>\n<html><body/></html>");
        assert_eq!((e.line(), e.field()), (2, "<html>"));
        let twice = format!("{}{}", doc(HOST), doc(HOST));
        let e = err(twice);
        assert_eq!(e.field(), "<nmaprun>", "{e}");
        assert!(e.to_string().contains("--append-output"), "{e}");
    }

    #[test]
    fn malformed_xml_names_line_and_element() {
        let e = err(format!(
            "{HEAD}<host><status state=\"up\"/>\n\n</hots></nmaprun>"
        ));
        assert_eq!((e.line(), e.field()), (5, "</hots>"), "{e}");
        assert!(e.to_string().contains("malformed XML"), "{e}");
        let e = err(doc(
            "<host><status state=\"up\"/>\n<address addr=\"999.1.1.1\" addrtype=\"ipv4\"/></host>",
        ));
        assert_eq!(
            e.to_string(),
            "scan.xml:4: <address>: attribute addr is not an IPv4 address: \"999.1.1.1\""
        );
        let e = err(doc(
            "<host><status state=\"up\"/><address addr=\"00:11\" addrtype=\"mac\"/></host>",
        ));
        assert!(e.to_string().contains("not a MAC address"), "{e}");
        let e = err(doc(
            "<host><status state=\"up\"/><ports><port protocol=\"tcp\" portid=\"70000\"/></ports></host>",
        ));
        assert!(
            e.to_string()
                .contains("<port>: attribute portid is not a port number"),
            "{e}"
        );
        let e = err(doc(
            "<host><status state=\"up\"/><os><osmatch name=\"x\" accuracy=\"101\"/></os></host>",
        ));
        assert!(
            e.to_string().contains("<osmatch>: attribute accuracy"),
            "{e}"
        );
        let e = err(doc(
            "<host><address addr=\"10.0.0.1\" addrtype=\"ipv4\"/></host>",
        ));
        assert_eq!(
            (e.line(), e.to_string().contains("no <status>")),
            (3, true),
            "{e}"
        );
        let e = err(doc(
            "<host><status state=\"up\"/><ports><port protocol=\"tcp\" portid=\"1\"/></ports></host>",
        ));
        assert!(e.to_string().contains("no <state>"), "{e}");
        let e = err(doc("<host><status state=\"up\" state=\"down\"/></host>"));
        assert!(e.to_string().contains("malformed attribute"), "{e}");
    }

    #[test]
    fn line_numbers_count_crlf_and_multi_line_tags() {
        let xml = "<nmaprun>\r\n<host\r\n  starttime=\"1\">\r\n<status state=\"up\"/>\r\n<address\r\n addr=\"x\" addrtype=\"ipv6\"/></host></nmaprun>";
        let e = err(xml);
        assert_eq!((e.line(), e.field()), (5, "<address>"), "{e}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let xml = doc(&"<a>".repeat(MAX_DEPTH + 1));
        let e = err(xml);
        assert!(
            e.is_refusal() && e.to_string().contains("nested deeper"),
            "{e}"
        );
    }

    #[test]
    fn host_limit_is_an_error() {
        let xml = doc(&HOST.repeat(4));
        assert_eq!(parse("x", xml.as_bytes(), 4, None).unwrap().hosts.len(), 4);
        let e = parse("x", xml.as_bytes(), 3, None).unwrap_err();
        assert!(
            e.is_refusal() && e.to_string().contains("more than 3 hosts"),
            "{e}"
        );
        assert_eq!(e.line(), 6, "the fourth host");
    }

    #[test]
    fn layouts_of_nmap_5_and_7_and_hints() {
        let xml = doc(
            "<hosthint><status state=\"up\"/><address addr=\"10.0.0.9\" addrtype=\"ipv4\"/></hosthint>\n\
             <host><status state=\"up\"/>\
             <address addr=\"fe80::1\" addrtype=\"ipv6\"/>\
             <address addr=\"0:1b:21:a:b:c\" addrtype=\"mac\" vendor=\"Intel\"/>\
             <address addr=\"00:00:00:00:00:01\" addrtype=\"mac\" vendor=\"Second\"/>\
             <os><osclass type=\"printer\" vendor=\"HP\" osfamily=\"embedded\" accuracy=\"90\"/>\
             <osmatch name=\"HP LaserJet\" accuracy=\"95\"><osclass type=\"printer\" vendor=\"HP\" osfamily=\"embedded\" accuracy=\"95\">\
             <cpe>cpe:/h:hp:laserjet</cpe></osclass></osmatch></os>\
             <ports><port protocol=\"tcp\" portid=\"9100\"><state state=\"open\"/><service name=\"jetdirect\"/>\
             <script id=\"x\" output=\"y\"><table key=\"t\"><table><elem key=\"k\">v</elem><host>not a host</host>\
             <cpe>not a cpe</cpe></table></table></script></port></ports></host>\n\
             <host><status state=\"down\"/><address addr=\"10.0.0.2\" addrtype=\"ipv4\"/></host>",
        );
        let s = ok(&xml);
        assert_eq!(
            (s.hosts.len(), s.hints.len(), s.up_hosts().count()),
            (2, 1, 1)
        );
        let h = &s.hosts[0];
        assert_eq!(h.ipv6, Some("fe80::1".parse().unwrap()));
        assert_eq!(
            (h.mac.as_deref(), h.mac_vendor.as_deref()),
            (Some("00:1b:21:0a:0b:0c"), Some("Intel"))
        );
        assert_eq!(h.os_classes.len(), 1);
        assert_eq!(h.os_classes[0].device_type.as_deref(), Some("printer"));
        assert_eq!(h.os_matches[0].classes[0].cpes, ["cpe:/h:hp:laserjet"]);
        assert_eq!(h.ports[0].cpes, Vec::<String>::new());
        assert_eq!(h.ports[0].service.as_deref(), Some("jetdirect"));
    }
}
