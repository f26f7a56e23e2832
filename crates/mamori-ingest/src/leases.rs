//! ISC DHCP server lease files (`dhcpd.leases`, `dhcpd6.leases`; dhcpd.leases(5)).
//!
//! The file is an append-only journal: dhcpd writes a new `lease` block every time a lease
//! changes and rewrites the whole file now and then. [`parse_isc_leases`] returns **every**
//! block in file order (the journal, useful to see a device's history);
//! [`latest_per_address`] keeps only the last block for each address, which is the current
//! state. Host declarations (`host NAME { … }`) are different: they are keyed by name, and the
//! parser itself drops a declaration that a later one of the same name replaces or deletes
//! (`deleted;`), so only the surviving ones are returned.
//!
//! Read:
//! - `lease A.B.C.D { … }` → [`LeaseKind::V4`]: `starts`, `ends`, `cltt` (`W YYYY/MM/DD
//!   HH:MM:SS` in UTC, `epoch N; # comment` as written with `db-time-format local`, or
//!   `never`), `binding state`, `hardware ethernet`, `uid` (quoted with octal escapes, or colon
//!   hex), `client-hostname`, `set vendor-class-identifier = "…"`. Other statements (`tstp`,
//!   `next binding state`, `option agent.*`, `on commit { … }` …) are read past.
//! - `host NAME { dynamic; hardware ethernet …; fixed-address A[, B]; }` → one
//!   [`LeaseKind::Static`] entry per fixed address (a `fixed-address` given as a DNS name
//!   cannot be resolved here and gives no entry; a host without `fixed-address` gives none).
//! - `ia-na` / `ia-ta "<IAID+DUID>" { cltt …; iaaddr ADDR { binding state; ends; … } }` → one
//!   [`LeaseKind::V6`] entry per `iaaddr`. `uid` is the IAID+DUID in hex; when the DUID is of
//!   type LLT or LL with an Ethernet address, that address is the `mac`.
//! - `ia-pd` (delegated prefixes, not device addresses), `server-duid`, `failover peer`,
//!   `authoring-byte-order`, `class`, `subclass` and any other top-level statement are skipped.
//!
//! Strings written by DHCP clients (host names, vendor classes) are not always UTF-8: bytes that
//! are not are replaced by U+FFFD rather than refusing the whole file, since any device on the
//! network chooses its own name. The structure (braces, statements, addresses, dates) is checked
//! strictly: an error names the file, the line and the statement.

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{IngestError, MAX_EVENT_BYTES, MAX_LEASES, MAX_VALUE_BYTES, normalize_mac, to_hex};

/// Deepest `{ }` nesting accepted (dhcpd writes at most 3: `ia-na { iaaddr { on … { } } }`).
const MAX_DEPTH: usize = 16;

/// Where a lease entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseKind {
    /// A `lease` block of a DHCPv4 server.
    V4,
    /// An `iaaddr` inside an `ia-na` or `ia-ta` block of a DHCPv6 server.
    V6,
    /// A `host` declaration with a `fixed-address` (a reservation made through OMAPI).
    Static,
}

/// One lease (or static host entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: IpAddr,
    pub kind: LeaseKind,
    /// Unix seconds (the file's times are UTC). `None` when absent or `never`.
    pub starts: Option<i64>,
    /// Unix seconds. `None` when absent or `never` (an infinite lease).
    pub ends: Option<i64>,
    /// Client last transaction time, Unix seconds (for V6, the `ia-na`'s).
    pub cltt: Option<i64>,
    /// `binding state`: `active`, `free`, `backup`, `abandoned`, `expired`, `released` …
    /// `None` for static entries.
    pub binding_state: Option<String>,
    /// Normalized `aa:bb:cc:dd:ee:ff`.
    pub mac: Option<String>,
    /// The client identifier as lower-case hex without separators (V6: IAID + DUID).
    pub uid: Option<String>,
    /// `client-hostname` (V4), or the host declaration's name (static).
    pub hostname: Option<String>,
    /// `set vendor-class-identifier = "…"`.
    pub vendor_class: Option<String>,
    /// Line where the block (`lease`, `host` or `iaaddr`) starts.
    pub line: u64,
}

impl Lease {
    fn new(ip: IpAddr, kind: LeaseKind, line: u64) -> Self {
        Self {
            ip,
            kind,
            starts: None,
            ends: None,
            cltt: None,
            binding_state: None,
            mac: None,
            uid: None,
            hostname: None,
            vendor_class: None,
            line,
        }
    }
}

/// Keeps the last entry for each address, in the order of those last entries in the file.
///
/// Static entries and leases are kept apart: a reservation for an address does not hide the
/// lease journal of the same address, nor the other way round.
pub fn latest_per_address(leases: Vec<Lease>) -> Vec<Lease> {
    let mut last: HashMap<(IpAddr, bool), usize> = HashMap::with_capacity(leases.len());
    for (i, lease) in leases.iter().enumerate() {
        last.insert((lease.ip, lease.kind == LeaseKind::Static), i);
    }
    leases
        .into_iter()
        .enumerate()
        .filter(|(i, l)| last.get(&(l.ip, l.kind == LeaseKind::Static)) == Some(i))
        .map(|(_, l)| l)
        .collect()
}

/// Reads an ISC `dhcpd.leases` (or `dhcpd6.leases`) file. Returns every lease block in file
/// order; use [`latest_per_address`] for the current state. `name` is used in error messages.
pub fn parse_isc_leases(name: &str, reader: impl BufRead) -> Result<Vec<Lease>, IngestError> {
    parse(name, reader, MAX_LEASES)
}

fn parse(name: &str, reader: impl BufRead, max_leases: usize) -> Result<Vec<Lease>, IngestError> {
    let mut out = Vec::new();
    let hosts = parse_each(name, reader, max_leases, &mut |l| {
        out.push(l);
        Ok(())
    })?;
    // Drop host declarations replaced or deleted by a later one of the same name.
    Ok(out
        .into_iter()
        .enumerate()
        .filter(|(i, l)| not_superseded(&hosts, *i, l))
        .map(|(_, l)| l)
        .collect())
}

/// False for a host declaration that a later one of the same name replaced or deleted.
fn not_superseded(hosts: &HashMap<String, usize>, index: usize, l: &Lease) -> bool {
    l.kind != LeaseKind::Static
        || l.hostname
            .as_ref()
            .and_then(|h| hosts.get(h))
            .is_none_or(|&from| index >= from)
}

/// Reads every block and hands each lease to `emit` in file order; returns, for each host
/// name, the index of the first entry of its latest declaration.
fn parse_each(
    name: &str,
    reader: impl BufRead,
    max_leases: usize,
    emit: &mut dyn FnMut(Lease) -> Result<(), IngestError>,
) -> Result<HashMap<String, usize>, IngestError> {
    let mut parser = Parser {
        lexer: Lexer::new(name, reader),
        emit,
        count: 0,
        hosts: HashMap::new(),
        max_leases,
    };
    loop {
        parser.lexer.block_bytes = 0;
        match parser.statement(0)? {
            Next::Stmt(stmt) => parser.top_level(stmt)?,
            Next::Close | Next::Eof => break,
        }
    }
    Ok(parser.hosts)
}

/// The current leases of a file — what [`latest_per_address`] keeps of [`parse_isc_leases`],
/// in the same order — handed to `emit` one by one, in two passes over the input (`open` gives
/// it from the start each time). Only a few bytes per lease are kept between the passes, never
/// the leases themselves.
pub fn stream_current_leases<'r>(
    name: &str,
    open: &mut dyn FnMut() -> std::io::Result<Box<dyn BufRead + 'r>>,
    emit: &mut dyn FnMut(Lease) -> Result<(), IngestError>,
) -> Result<(), IngestError> {
    let io = |source| IngestError::Io { file: name.to_owned(), line: 1, source };
    // Pass 1: address and kind of each entry, host name of static ones.
    let mut entries: Vec<(IpAddr, bool, Option<String>)> = Vec::new();
    let hosts = parse_each(name, open().map_err(io)?, MAX_LEASES, &mut |l| {
        let fixed = l.kind == LeaseKind::Static;
        entries.push((l.ip, fixed, if fixed { l.hostname } else { None }));
        Ok(())
    })?;
    let valid: Vec<bool> = entries
        .iter()
        .enumerate()
        .map(|(i, (_, fixed, host))| !fixed || host.as_ref().and_then(|h| hosts.get(h)).is_none_or(|&from| i >= from))
        .collect();
    let mut last: HashMap<(IpAddr, bool), usize> = HashMap::with_capacity(entries.len());
    for (i, (ip, fixed, _)) in entries.iter().enumerate() {
        if valid.get(i).copied().unwrap_or(false) {
            last.insert((*ip, *fixed), i);
        }
    }
    let keep: Vec<bool> = entries
        .iter()
        .enumerate()
        .map(|(i, (ip, fixed, _))| last.get(&(*ip, *fixed)) == Some(&i))
        .collect();
    drop((entries, valid, last));
    // Pass 2: the kept entries.
    let mut index = 0_usize;
    parse_each(name, open().map_err(io)?, MAX_LEASES, &mut |l| {
        let kept = keep.get(index).copied().unwrap_or(false);
        index += 1;
        if kept { emit(l) } else { Ok(()) }
    })?;
    if index != keep.len() {
        return Err(IngestError::Invalid {
            file: name.to_owned(),
            line: 1,
            field: "file".to_owned(),
            reason: "the file changed while it was read".to_owned(),
        });
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(Vec<u8>),
}

impl Tok {
    fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            Tok::Str(_) => None,
        }
    }

    /// A word or a string, as text (lossy).
    fn text(&self) -> String {
        match self {
            Tok::Word(w) => w.clone(),
            Tok::Str(s) => String::from_utf8_lossy(s).into_owned(),
        }
    }
}

/// One statement: its words up to `;`, or up to a `{ … }` block (then without `;`).
#[derive(Debug)]
struct Stmt {
    words: Vec<Tok>,
    block: Option<Vec<Stmt>>,
    line: u64,
}

impl Stmt {
    fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).and_then(Tok::word)
    }

    /// The keyword naming the statement, with its second word when that is part of the name
    /// (`binding state`) or says which block it is (`lease 10.0.0.1`), for messages.
    fn label(&self) -> String {
        let Some(first) = self.word(0) else {
            return "statement".to_owned();
        };
        let first: String = first.chars().take(40).collect();
        let two_words = matches!(
            first.as_str(),
            "lease"
                | "host"
                | "iaaddr"
                | "iaprefix"
                | "binding"
                | "next"
                | "rewind"
                | "hardware"
                | "set"
                | "option"
                | "failover"
                | "on"
        );
        match self.word(1) {
            Some(second) if two_words => {
                format!("{first} {}", second.chars().take(40).collect::<String>())
            }
            _ => first,
        }
    }
}

/// What [`Parser::statement`] found.
enum Next {
    Stmt(Stmt),
    /// The `}` closing the enclosing block.
    Close,
    Eof,
}

enum Token {
    Open,
    Close,
    Semi,
    Tok(Tok),
    Eof,
}

struct Lexer<'a, R> {
    file: &'a str,
    reader: R,
    line: u64,
    /// Bytes read since the start of the current top-level statement.
    block_bytes: usize,
}

impl<'a, R: BufRead> Lexer<'a, R> {
    fn new(file: &'a str, reader: R) -> Self {
        Self {
            file,
            reader,
            line: 1,
            block_bytes: 0,
        }
    }

    fn io(&self, e: io::Error) -> IngestError {
        IngestError::Io {
            file: self.file.to_owned(),
            line: self.line,
            source: e,
        }
    }

    fn err(&self, line: u64, field: impl Into<String>, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            file: self.file.to_owned(),
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn refused(
        &self,
        line: u64,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> IngestError {
        IngestError::Refused {
            file: self.file.to_owned(),
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn peek(&mut self) -> Result<Option<u8>, IngestError> {
        loop {
            match self.reader.fill_buf() {
                Ok(buf) => return Ok(buf.first().copied()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io(e)),
            }
        }
    }

    fn bump(&mut self) -> Result<Option<u8>, IngestError> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.reader.consume(1);
            if b == b'\n' {
                self.line += 1;
            }
            self.block_bytes += 1;
            if self.block_bytes > MAX_EVENT_BYTES {
                return Err(self.refused(
                    self.line,
                    "block",
                    format!("a single top-level block longer than {MAX_EVENT_BYTES} bytes"),
                ));
            }
        }
        Ok(b)
    }

    /// The next token and the line it starts on.
    fn next(&mut self) -> Result<(Token, u64), IngestError> {
        loop {
            let Some(b) = self.peek()? else {
                return Ok((Token::Eof, self.line));
            };
            let line = self.line;
            match b {
                b if b.is_ascii_whitespace() => {
                    self.bump()?;
                }
                b'#' => {
                    while let Some(b) = self.bump()? {
                        if b == b'\n' {
                            break;
                        }
                    }
                }
                b'{' => {
                    self.bump()?;
                    return Ok((Token::Open, line));
                }
                b'}' => {
                    self.bump()?;
                    return Ok((Token::Close, line));
                }
                b';' => {
                    self.bump()?;
                    return Ok((Token::Semi, line));
                }
                b'"' => {
                    self.bump()?;
                    return Ok((Token::Tok(Tok::Str(self.string(line)?)), line));
                }
                _ => {
                    let mut word = Vec::new();
                    while let Some(b) = self.peek()? {
                        if b.is_ascii_whitespace() || matches!(b, b'{' | b'}' | b';' | b'"') {
                            break;
                        }
                        self.bump()?;
                        if word.len() >= MAX_VALUE_BYTES {
                            return Err(self.refused(
                                line,
                                "word",
                                format!("a word longer than {MAX_VALUE_BYTES} bytes"),
                            ));
                        }
                        word.push(b);
                    }
                    let word = String::from_utf8_lossy(&word).into_owned();
                    return Ok((Token::Tok(Tok::Word(word)), line));
                }
            }
        }
    }

    /// A quoted string after its opening `"`, with dhcpd's escapes: `\t \r \n \b`, octal
    /// `\NNN`, hex `\xHH`, and `\c` for any other `c`.
    fn string(&mut self, line: u64) -> Result<Vec<u8>, IngestError> {
        let mut out = Vec::new();
        loop {
            let Some(b) = self.bump()? else {
                return Err(self.err(
                    line,
                    "string",
                    "the quoted string is not closed before the end of the file",
                ));
            };
            let byte = match b {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(e) = self.bump()? else {
                        return Err(self.err(
                            line,
                            "string",
                            "the quoted string is not closed before the end of the file",
                        ));
                    };
                    match e {
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'n' => b'\n',
                        b'b' => 0x08,
                        b'0'..=b'7' => {
                            let mut value = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek()? {
                                    Some(d @ b'0'..=b'7') => {
                                        self.bump()?;
                                        value = value * 8 + u32::from(d - b'0');
                                    }
                                    _ => break,
                                }
                            }
                            u8::try_from(value).map_err(|_| {
                                self.err(
                                    self.line,
                                    "string",
                                    format!("octal escape \\{value:o} is larger than one byte"),
                                )
                            })?
                        }
                        b'x' => {
                            let mut value = 0u8;
                            let mut digits = 0;
                            while digits < 2 {
                                match self.peek()?.and_then(|d| (d as char).to_digit(16)) {
                                    Some(d) => {
                                        self.bump()?;
                                        value = value * 16 + d as u8;
                                        digits += 1;
                                    }
                                    None => break,
                                }
                            }
                            if digits == 0 { b'x' } else { value }
                        }
                        other => other,
                    }
                }
                other => other,
            };
            if out.len() >= MAX_VALUE_BYTES {
                return Err(self.refused(
                    line,
                    "string",
                    format!("a quoted string longer than {MAX_VALUE_BYTES} bytes"),
                ));
            }
            out.push(byte);
        }
    }
}

struct Parser<'a, R> {
    lexer: Lexer<'a, R>,
    emit: &'a mut dyn FnMut(Lease) -> Result<(), IngestError>,
    /// Entries emitted so far.
    count: usize,
    /// Host name → number of entries emitted when its latest declaration started: static
    /// entries of that name before this index are superseded.
    hosts: HashMap<String, usize>,
    max_leases: usize,
}

impl<R: BufRead> Parser<'_, R> {
    /// Reads one statement at `depth`, or notes the `}` closing the enclosing block, or the end
    /// of the file.
    fn statement(&mut self, depth: usize) -> Result<Next, IngestError> {
        let mut words = Vec::new();
        let mut line = None;
        loop {
            let (token, tline) = self.lexer.next()?;
            let start = *line.get_or_insert(tline);
            match token {
                Token::Tok(t) => {
                    if words.len() >= 1024 {
                        return Err(self.lexer.refused(
                            start,
                            "statement",
                            "more than 1024 words in one statement",
                        ));
                    }
                    words.push(t);
                }
                Token::Semi => {
                    return Ok(Next::Stmt(Stmt {
                        words,
                        block: None,
                        line: start,
                    }));
                }
                Token::Open => {
                    let stmt = Stmt {
                        words,
                        block: None,
                        line: start,
                    };
                    if depth + 1 >= MAX_DEPTH {
                        return Err(self.lexer.refused(
                            tline,
                            stmt.label(),
                            format!("blocks nested deeper than {MAX_DEPTH}"),
                        ));
                    }
                    let mut inner = Vec::new();
                    loop {
                        match self.statement(depth + 1)? {
                            Next::Stmt(s) => inner.push(s),
                            Next::Close => break,
                            Next::Eof => {
                                return Err(self.lexer.err(
                                    stmt.line,
                                    stmt.label(),
                                    format!(
                                        "the {{ … }} block opened here is not closed before the end of the file \
                                         (line {}): the file is truncated",
                                        self.lexer.line
                                    ),
                                ));
                            }
                        }
                    }
                    return Ok(Next::Stmt(Stmt {
                        block: Some(inner),
                        ..stmt
                    }));
                }
                Token::Close => {
                    if !words.is_empty() {
                        let stmt = Stmt {
                            words,
                            block: None,
                            line: start,
                        };
                        return Err(self.lexer.err(
                            start,
                            stmt.label(),
                            "statement not ended by ';' before '}'",
                        ));
                    }
                    if depth == 0 {
                        return Err(self.lexer.err(
                            tline,
                            "}",
                            "closing brace without an opening one",
                        ));
                    }
                    return Ok(Next::Close);
                }
                Token::Eof => {
                    if !words.is_empty() {
                        let stmt = Stmt {
                            words,
                            block: None,
                            line: start,
                        };
                        return Err(self.lexer.err(
                            start,
                            stmt.label(),
                            "the file ends before this statement's ';'",
                        ));
                    }
                    return Ok(Next::Eof);
                }
            }
        }
    }

    fn push(&mut self, lease: Lease) -> Result<(), IngestError> {
        if self.count >= self.max_leases {
            return Err(self.lexer.refused(
                lease.line,
                "lease",
                format!("more than {} leases in one file", self.max_leases),
            ));
        }
        self.count += 1;
        (self.emit)(lease)
    }

    fn top_level(&mut self, stmt: Stmt) -> Result<(), IngestError> {
        match (stmt.word(0), &stmt.block) {
            (Some("lease"), Some(_)) => self.lease_v4(stmt),
            (Some("lease"), None) => Err(self.lexer.err(stmt.line, "lease", "no { … } block")),
            (Some("host"), Some(_)) => self.host(stmt),
            (Some("ia-na" | "ia-ta"), Some(_)) => self.ia(stmt),
            _ => Ok(()),
        }
    }

    fn lease_v4(&mut self, stmt: Stmt) -> Result<(), IngestError> {
        let addr = stmt.words.get(1).map(Tok::text).unwrap_or_default();
        let ip: Ipv4Addr = addr.parse().map_err(|_| {
            self.lexer.err(
                stmt.line,
                "lease",
                format!("{} is not an IPv4 address", shown(&addr)),
            )
        })?;
        let mut lease = Lease::new(IpAddr::V4(ip), LeaseKind::V4, stmt.line);
        for s in stmt.block.iter().flatten() {
            self.lease_statement(s, &mut lease)?;
        }
        self.push(lease)
    }

    /// Statements common to `lease` and `iaaddr` blocks (and `host` for hardware/uid).
    fn lease_statement(&self, s: &Stmt, lease: &mut Lease) -> Result<(), IngestError> {
        match s.word(0) {
            Some("starts") => lease.starts = self.time(s)?,
            Some("ends") => lease.ends = self.time(s)?,
            Some("cltt") => lease.cltt = self.time(s)?,
            Some("tstp" | "tsfp" | "atsfp") => {
                self.time(s)?;
            }
            Some("binding") if s.word(1) == Some("state") => {
                let state = s
                    .word(2)
                    .filter(|w| !w.is_empty())
                    .ok_or_else(|| self.lexer.err(s.line, "binding state", "no state given"))?;
                lease.binding_state = Some(state.to_owned());
            }
            Some("hardware") => {
                let kind = s.word(1).unwrap_or_default();
                if kind == "ethernet" {
                    let mac = s.words.get(2).map(Tok::text).unwrap_or_default();
                    lease.mac = Some(normalize_mac(&mac).ok_or_else(|| {
                        self.lexer.err(
                            s.line,
                            "hardware ethernet",
                            format!("{} is not a MAC address", shown(&mac)),
                        )
                    })?);
                }
            }
            Some("uid") => {
                let bytes = match s.words.get(1) {
                    Some(Tok::Str(b)) => b.clone(),
                    Some(Tok::Word(w)) => colon_hex(w).ok_or_else(|| {
                        self.lexer.err(
                            s.line,
                            "uid",
                            format!(
                                "{} is neither a quoted string nor colon-separated hex",
                                shown(w)
                            ),
                        )
                    })?,
                    None => return Err(self.lexer.err(s.line, "uid", "no value given")),
                };
                lease.uid = Some(to_hex(&bytes));
            }
            Some("client-hostname") => lease.hostname = s.words.get(1).map(Tok::text),
            Some("set") if s.word(1) == Some("vendor-class-identifier") => {
                // set vendor-class-identifier = "…";
                lease.vendor_class = s.words.get(3).or(s.words.get(2)).map(Tok::text);
            }
            _ => {}
        }
        Ok(())
    }

    /// `W YYYY/MM/DD HH:MM:SS`, `YYYY/MM/DD HH:MM:SS`, `epoch N` or `never`.
    fn time(&self, s: &Stmt) -> Result<Option<i64>, IngestError> {
        let words: Vec<&str> = s.words.iter().skip(1).filter_map(Tok::word).collect();
        let label = s.word(0).unwrap_or("time");
        let bad = || {
            let text: Vec<String> = s.words.iter().skip(1).map(Tok::text).collect();
            self.lexer.err(
                s.line,
                label,
                format!(
                    "{} is not a time (expected `W YYYY/MM/DD HH:MM:SS`, `epoch N` or `never`)",
                    shown(&text.join(" "))
                ),
            )
        };
        if words.len() + 1 != s.words.len() {
            return Err(bad());
        }
        match words.as_slice() {
            ["never"] => Ok(None),
            ["epoch", n] => n.parse::<i64>().map(Some).map_err(|_| bad()),
            [_, date, time] | [date, time] => civil_to_unix(date, time).map(Some).ok_or_else(bad),
            _ => Err(bad()),
        }
    }

    fn host(&mut self, stmt: Stmt) -> Result<(), IngestError> {
        let name = stmt
            .words
            .get(1)
            .map(Tok::text)
            .ok_or_else(|| self.lexer.err(stmt.line, "host", "no host name"))?;
        if !self.hosts.contains_key(&name) && self.hosts.len() >= self.max_leases {
            return Err(self.lexer.refused(
                stmt.line,
                "host",
                format!(
                    "more than {} host declarations in one file",
                    self.max_leases
                ),
            ));
        }
        // This declaration replaces any earlier one of the same name.
        self.hosts.insert(name.clone(), self.count);
        let mut template = Lease::new(
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            LeaseKind::Static,
            stmt.line,
        );
        template.hostname = Some(name);
        let mut addresses = Vec::new();
        let mut deleted = false;
        for s in stmt.block.iter().flatten() {
            match s.word(0) {
                Some("deleted") => deleted = true,
                Some("fixed-address" | "fixed-address6") => {
                    let joined: Vec<String> = s.words.iter().skip(1).map(Tok::text).collect();
                    for part in joined.join(" ").split([',', ' ']).filter(|p| !p.is_empty()) {
                        // A DNS name cannot be resolved here; it gives no entry.
                        if let Ok(ip) = part.parse::<IpAddr>() {
                            addresses.push(ip);
                        }
                    }
                }
                Some("hardware" | "uid") => self.lease_statement(s, &mut template)?,
                _ => {}
            }
        }
        if deleted {
            return Ok(());
        }
        for ip in addresses {
            self.push(Lease {
                ip,
                ..template.clone()
            })?;
        }
        Ok(())
    }

    fn ia(&mut self, stmt: Stmt) -> Result<(), IngestError> {
        let label = stmt.label();
        let id = match stmt.words.get(1) {
            Some(Tok::Str(b)) => b.clone(),
            Some(Tok::Word(w)) => colon_hex(w).ok_or_else(|| {
                self.lexer.err(
                    stmt.line,
                    label.as_str(),
                    format!(
                        "{} is neither a quoted string nor colon-separated hex",
                        shown(w)
                    ),
                )
            })?,
            None => {
                return Err(self
                    .lexer
                    .err(stmt.line, label.as_str(), "no IAID/DUID given"));
            }
        };
        let uid = to_hex(&id);
        let mac = duid_mac(&id);
        let mut cltt = None;
        for s in stmt.block.iter().flatten() {
            if s.word(0) == Some("cltt") {
                cltt = self.time(s)?;
            }
        }
        for s in stmt.block.iter().flatten() {
            if s.word(0) != Some("iaaddr") {
                continue;
            }
            let addr = s.words.get(1).map(Tok::text).unwrap_or_default();
            let ip: Ipv6Addr = addr.parse().map_err(|_| {
                self.lexer.err(
                    s.line,
                    "iaaddr",
                    format!("{} is not an IPv6 address", shown(&addr)),
                )
            })?;
            let mut lease = Lease::new(IpAddr::V6(ip), LeaseKind::V6, s.line);
            lease.uid = Some(uid.clone());
            lease.mac.clone_from(&mac);
            lease.cltt = cltt;
            for inner in s.block.iter().flatten() {
                self.lease_statement(inner, &mut lease)?;
            }
            self.push(lease)?;
        }
        Ok(())
    }
}

fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// `1:a2:ff` → bytes; each part one or two hex digits.
fn colon_hex(word: &str) -> Option<Vec<u8>> {
    word.split(':')
        .map(|p| {
            if p.is_empty() || p.len() > 2 {
                None
            } else {
                u8::from_str_radix(p, 16).ok()
            }
        })
        .collect()
}

/// The Ethernet address inside a DHCPv6 IAID+DUID, for DUID-LLT (type 1) and DUID-LL (type 3)
/// with hardware type 1.
fn duid_mac(id: &[u8]) -> Option<String> {
    let duid = id.get(4..)?;
    let duid_type = u16::from_be_bytes([*duid.first()?, *duid.get(1)?]);
    let hw_type = u16::from_be_bytes([*duid.get(2)?, *duid.get(3)?]);
    let addr = match duid_type {
        1 => duid.get(8..)?,
        3 => duid.get(4..)?,
        _ => return None,
    };
    if hw_type != 1 || addr.len() != 6 {
        return None;
    }
    let parts: Vec<String> = addr.iter().map(|b| format!("{b:02x}")).collect();
    normalize_mac(&parts.join(":"))
}

/// `YYYY/MM/DD` + `HH:MM:SS` (UTC) → Unix seconds.
fn civil_to_unix(date: &str, time: &str) -> Option<i64> {
    let mut d = date.split('/');
    let (y, m, day) = (
        d.next()?.parse::<i64>().ok()?,
        d.next()?.parse::<u32>().ok()?,
        d.next()?.parse::<u32>().ok()?,
    );
    let mut t = time.split(':');
    let (hh, mm, ss) = (
        t.next()?.parse::<u32>().ok()?,
        t.next()?.parse::<u32>().ok()?,
        t.next()?.parse::<u32>().ok()?,
    );
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(m - 1).ok()?)?;
    if day == 0 || day > max_day {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + i64::from(hh) * 3600 + i64::from(mm) * 60 + i64::from(ss))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Vec<Lease> {
        parse_isc_leases("dhcpd.leases", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: impl AsRef<[u8]>) -> IngestError {
        match parse_isc_leases("dhcpd.leases", text.as_ref()) {
            Ok(l) => panic!("accepted: {l:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn unterminated_block_is_an_error_naming_where_it_starts() {
        let text = "lease 10.0.0.1 {\n  starts 2 2013/12/10 12:57:04;\n}\nlease 10.0.0.2 {\n  binding state active;\n";
        let e = err(text);
        assert!(!e.is_refusal());
        assert_eq!(
            e.to_string(),
            "dhcpd.leases:4: lease 10.0.0.2: the { … } block opened here is not closed before the \
             end of the file (line 6): the file is truncated"
        );
        // Nested: the innermost open block is named.
        let e =
            err("ia-na \"x\" {\n cltt epoch 1;\n iaaddr 2001:db8::1 {\n binding state active;\n");
        assert_eq!((e.line(), e.field()), (3, "iaaddr 2001:db8::1"), "{e}");
        // A string cut before its '"', a statement cut before its ';', a stray '}', a missing ';'.
        let e = err("lease 10.0.0.1 {\n}\nserver-duid \"abc");
        assert_eq!((e.line(), e.field()), (3, "string"), "{e}");
        let e = err("lease 10.0.0.1 {\n}\nauthoring-byte-order little-endian");
        assert_eq!((e.line(), e.field()), (3, "authoring-byte-order"), "{e}");
        let e = err("lease 10.0.0.1 {\n}\n}\n");
        assert_eq!((e.line(), e.field()), (3, "}"), "{e}");
        let e = err("lease 10.0.0.1 {\n  starts 2 2013/12/10 12:57:04\n}");
        assert_eq!((e.line(), e.field()), (2, "starts"), "{e}");
    }

    #[test]
    fn host_declarations_give_static_entries() {
        let text = r#"
host printer-1 {
  dynamic;
  hardware ethernet 00:1B:A9:0A:0B:0C;
  fixed-address 192.168.10.20;
}
host nas {
  dynamic;
  hardware ethernet 0:11:32:a:b:c;
  uid "\001\000\0212\012\013\014";
  fixed-address 192.168.10.30, 192.168.10.31;
}
host by-name { dynamic; hardware ethernet 00:00:00:00:00:01; fixed-address nas.example.lan; }
host old-pc { dynamic; hardware ethernet 00:00:00:00:00:02; fixed-address 192.168.10.40; }
host old-pc { dynamic; deleted; }
host "moved" { dynamic; fixed-address 192.168.10.50; }
lease 192.168.10.50 { binding state active; }
host "moved" { dynamic; fixed-address 192.168.10.51; }
"#;
        let l = ok(text);
        let got: Vec<(String, Option<&str>, Option<&str>, u64)> = l
            .iter()
            .map(|l| {
                (
                    l.ip.to_string(),
                    l.hostname.as_deref(),
                    l.mac.as_deref(),
                    l.line,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "192.168.10.20".to_owned(),
                    Some("printer-1"),
                    Some("00:1b:a9:0a:0b:0c"),
                    2
                ),
                (
                    "192.168.10.30".to_owned(),
                    Some("nas"),
                    Some("00:11:32:0a:0b:0c"),
                    7
                ),
                (
                    "192.168.10.31".to_owned(),
                    Some("nas"),
                    Some("00:11:32:0a:0b:0c"),
                    7
                ),
                ("192.168.10.50".to_owned(), None, None, 17),
                ("192.168.10.51".to_owned(), Some("moved"), None, 18),
            ]
        );
        assert!(
            l.iter()
                .filter(|l| l.hostname.is_some())
                .all(|l| l.kind == LeaseKind::Static)
        );
        assert!(
            l.iter()
                .filter(|l| l.kind == LeaseKind::Static)
                .all(|l| l.binding_state.is_none() && l.ends.is_none())
        );
        // "\001\000\0212\012\013\014": \021 then the digit '2'.
        assert_eq!(l[1].uid.as_deref(), Some("010011320a0b0c"));
        // The lease of 192.168.10.50 and the reservations are kept apart.
        assert_eq!(latest_per_address(l.clone()).len(), 5);
    }

    #[test]
    fn other_top_level_statements_and_nested_blocks_are_skipped() {
        let text = r#"
authoring-byte-order little-endian;
server-duid "\000\001\000\001\035f\037-N\316\347\374,\226";
server-duid LLT ethernet 123456 00:11:22:33:44:55;
failover peer "dhcp-failover" state {
  my state normal at 4 2017/10/05 15:22:29;
  partner state normal at 4 2017/10/05 15:22:29;
}
class "printers" { match if substring (option vendor-class-identifier, 0, 2) = "HP"; }
subclass "printers" 1:00:11:22:33:44:55;
ia-pd "\001\002\003\004" { cltt epoch 1; iaprefix 2001:db8:1::/48 { binding state active; } }
lease 10.0.0.9 {
  starts epoch 1700000000; # Tue Nov 14 22:13:20 2023
  ends never;
  binding state active;
  on expiry { set ddns-fwd-name = "x"; on release { log("y"); } }
  set ddns-fwd-name = "pc.example.lan";
  set vendor-class-identifier = "MSFT 5.0";
  client-hostname "UKETSUKE-PC";
  uid 1:0:c:29:aa:bb:cc;
}
;
"#;
        let l = ok(text);
        assert_eq!(l.len(), 1);
        let a = &l[0];
        assert_eq!((a.starts, a.ends), (Some(1_700_000_000), None));
        assert_eq!(a.vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(a.hostname.as_deref(), Some("UKETSUKE-PC"));
        assert_eq!(a.uid.as_deref(), Some("01000c29aabbcc"));
        assert_eq!(a.line, 12);
    }

    #[test]
    fn latest_per_address_keeps_the_last_block() {
        let text = "lease 10.0.0.1 { binding state active; client-hostname \"a\"; }\n\
                    lease 10.0.0.2 { binding state active; }\n\
                    lease 10.0.0.1 { binding state free; }\n";
        let all = ok(text);
        assert_eq!(all.len(), 3);
        let latest = latest_per_address(all);
        let got: Vec<(String, Option<&str>, u64)> = latest
            .iter()
            .map(|l| (l.ip.to_string(), l.binding_state.as_deref(), l.line))
            .collect();
        assert_eq!(
            got,
            [
                ("10.0.0.2".to_owned(), Some("active"), 2),
                ("10.0.0.1".to_owned(), Some("free"), 3)
            ]
        );
        assert_eq!(
            latest[1].hostname, None,
            "fields are not merged from earlier blocks"
        );
    }

    #[test]
    fn string_escapes() {
        let l = ok(r#"lease 10.0.0.1 { uid "\x41\x4g\t\r\n\b\q\"\\"; client-hostname "a\"b"; }"#);
        // \x41 → A, \x4 → 0x04 then 'g', \t \r \n \b, \q → q, \" and \\.
        assert_eq!(l[0].uid.as_deref(), Some("410467090d0a0871225c"));
        assert_eq!(l[0].hostname.as_deref(), Some("a\"b"));
        let e = err(r#"lease 10.0.0.1 { uid "\400"; }"#);
        assert!(e.to_string().contains("octal escape"), "{e}");
    }

    #[test]
    fn client_strings_that_are_not_utf8_do_not_refuse_the_file() {
        let l = ok(r#"lease 10.0.0.1 { client-hostname "caf\351"; }"#);
        assert_eq!(l[0].hostname.as_deref(), Some("caf\u{fffd}"));
        let mut raw = b"lease 10.0.0.1 { client-hostname \"".to_vec();
        raw.extend([0x83, 0x65, 0x83, 0x58, 0x83, 0x67]); // "テスト" in Shift_JIS
        raw.extend(b"\"; }");
        let l = parse_isc_leases("sjis.leases", &raw[..]).unwrap();
        assert!(
            l[0].hostname
                .as_deref()
                .is_some_and(|h| h.contains('\u{fffd}'))
        );
    }

    #[test]
    fn bad_values_name_the_statement_and_line() {
        let e = err("\nlease 10.0.0.300 { }");
        assert_eq!(
            e.to_string(),
            "dhcpd.leases:2: lease: \"10.0.0.300\" is not an IPv4 address"
        );
        let e = err("lease 10.0.0.1 {\n  hardware ethernet 00:11:22;\n}");
        assert_eq!(
            e.to_string(),
            "dhcpd.leases:2: hardware ethernet: \"00:11:22\" is not a MAC address"
        );
        let e = err("lease 10.0.0.1 {\n\n  ends 3 2021/02/29 00:00:00;\n}");
        assert_eq!((e.line(), e.field()), (3, "ends"), "{e}");
        let e = err("lease 10.0.0.1 { starts epoch soon; }");
        assert!(e.to_string().contains("is not a time"), "{e}");
        let e = err("lease 10.0.0.1 { uid 1:2:xyz; }");
        assert_eq!(e.field(), "uid");
        let e = err("ia-na \"x\" { iaaddr 10.0.0.1 { } }");
        assert!(e.to_string().contains("not an IPv6 address"), "{e}");
        let e = err("lease 10.0.0.1;");
        assert_eq!(e.field(), "lease");
    }

    #[test]
    fn limits_are_errors() {
        let big = format!(
            "lease 10.0.0.1 {{ {} }}",
            "tstp epoch 1; ".repeat(MAX_EVENT_BYTES / 14 + 1)
        );
        let e = err(big);
        assert!(
            e.is_refusal() && e.to_string().contains("longer than 1048576"),
            "{e}"
        );
        let long = format!(
            "lease 10.0.0.1 {{ client-hostname \"{}\"; }}",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        assert!(err(long).is_refusal());
        let long = format!(
            "lease 10.0.0.1 {{ option x {}; }}",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        assert!(err(long).is_refusal());
        let deep = format!("lease 10.0.0.1 {}", "{ ".repeat(MAX_DEPTH + 1));
        assert!(err(deep).to_string().contains("nested deeper"));
        let text = "lease 10.0.0.1 { }\nlease 10.0.0.2 { }\nlease 10.0.0.3 { }\n";
        assert_eq!(parse("x", text.as_bytes(), 3).unwrap().len(), 3);
        let e = parse("x", text.as_bytes(), 2).unwrap_err();
        assert!(
            e.is_refusal() && e.line() == 3 && e.to_string().contains("more than 2 leases"),
            "{e}"
        );
        let hosts = "host a { }\nhost b { }\nhost a { }\nhost c { }\n";
        let e = parse("x", hosts.as_bytes(), 2).unwrap_err();
        assert!(
            e.is_refusal() && e.line() == 4 && e.to_string().contains("host declarations"),
            "{e}"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_to_unix("1970/01/01", "00:00:00"), Some(0));
        assert_eq!(civil_to_unix("2017/10/05", "15:22:29"), Some(1_507_216_949));
        assert_eq!(civil_to_unix("2000/02/29", "00:00:00"), Some(951_782_400));
        assert_eq!(civil_to_unix("2001/02/29", "00:00:00"), None);
        assert_eq!(civil_to_unix("2001/13/01", "00:00:00"), None);
        assert_eq!(civil_to_unix("2001/01/01", "24:00:00"), None);
        assert_eq!(civil_to_unix("2001/01/01/1", "00:00:00"), None);
    }

    #[test]
    fn duid_llt_gives_the_mac() {
        let id = [
            0x34, 0x64, 0x76, 0xea, 0, 1, 0, 1, 0x1d, 0x66, 0x1f, 0xe2, 0x0a, 0, 0x27, 0, 0, 0,
        ];
        assert_eq!(duid_mac(&id).as_deref(), Some("0a:00:27:00:00:00"));
        assert_eq!(duid_mac(&id[..10]), None);
        assert_eq!(colon_hex("1:a2:ff"), Some(vec![1, 0xa2, 0xff]));
        assert_eq!(colon_hex("1::ff"), None);
    }
}
