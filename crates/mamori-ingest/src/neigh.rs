//! Neighbour tables (ARP / NDP caches) as the usual tools print them.
//!
//! The format is recognised from the first non-blank line, then every line is read in that
//! format:
//! - Linux `ip neigh` (`ip -s neigh` too): `192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55
//!   REACHABLE`. Rows without `lladdr` (FAILED, INCOMPLETE) and FAILED/INCOMPLETE rows are
//!   skipped.
//! - Linux `ip -j neigh` JSON: arrays of `{"dst", "dev", "lladdr", "state": [...]}` (a bare
//!   string state is accepted; several arrays one after another too, as `ip -4 -j neigh; ip -6 -j
//!   neigh` gives). PowerShell `Get-NetNeighbor | ConvertTo-Json` is read as well (`IPAddress`,
//!   `LinkLayerAddress`, `InterfaceAlias`, `State` as a number or a name; a single object when
//!   there is one neighbour).
//! - `/proc/net/arp` (`IP address HW type Flags HW address Mask Device`): flag 0x2 unset means
//!   incomplete, skipped; flag 0x4 is a permanent entry.
//! - net-tools `arp -n` (`Address HWtype HWaddress Flags Mask Iface`).
//! - `arp -a` from Linux (`? (192.168.1.1) at 00:11:22:33:44:55 [ether] on eth0`,
//!   `<incomplete>`) and macOS/BSD (`? (192.168.1.1) at 0:11:22:3:44:55 on en0 ifscope
//!   [ethernet]`, un-padded octets, `(incomplete)`); the name before the address is the host name
//!   unless it is `?`.
//! - Windows `arp -a`, in English or any other language: `Interface: 192.168.1.5 --- 0xb`, a
//!   header, rows `192.168.1.1  00-11-22-33-44-55  dynamic`. Japanese Windows writes
//!   `インターフェイス:`, `インターネット アドレス 物理アドレス 種類` and `動的`/`静的`, which are
//!   translated to `dynamic`/`static`; errors name the Japanese column.
//!
//! Encoding: UTF-8 (with or without BOM); UTF-16 with a BOM (Windows PowerShell's `>`); anything
//! else that is not valid UTF-8 is read as CP932 (Shift_JIS), which is what `arp -a > file`
//! writes on Japanese Windows.
//!
//! Each neighbour gives one [`Observation`]: `ip`, `mac`, `hostname` (`arp -a` names), and
//! attributes `neigh.interface` (the device, or the local address on Windows) and `neigh.state`
//! (`REACHABLE`, `STALE`, `PERMANENT` …, or Windows' `dynamic`/`static`). Entries that are not a
//! device are skipped: broadcast, multicast and all-zero MACs, IPv4 multicast and broadcast,
//! IPv6 multicast, unspecified addresses. The same IP with two MACs (two interfaces, or a
//! conflict) gives two observations; the exact same IP and MAC is kept once.
//!
//! The whole table is read into memory, up to 64 MiB (more is refused). A line that cannot be
//! read inside a recognised table lands in [`Ingested::rejected`] with its line and column; a
//! file whose first line matches no format is an error. Lines are capped at [`MAX_EVENT_BYTES`]
//! (JSON: each array element), values at [`MAX_VALUE_BYTES`], entries at [`MAX_LEASES`].

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{BufRead, Read};
use std::net::{IpAddr, Ipv4Addr};

use mamori_model::Observation;
use serde_json::{Map, Value};

use crate::kea::shown;
use crate::{IngestError, Ingested, MAX_EVENT_BYTES, MAX_LEASES, MAX_VALUE_BYTES, normalize_mac};

/// Largest neighbour table read (it is read whole).
const MAX_TABLE_BYTES: usize = 64 * 1024 * 1024;

/// Most unreadable lines listed before the file is given up on as the wrong kind of file.
const MAX_REJECTED: usize = 10_000;

/// `ip neigh` NUD states.
const NUD_STATES: [&str; 9] = [
    "PERMANENT",
    "NOARP",
    "REACHABLE",
    "STALE",
    "NONE",
    "INCOMPLETE",
    "DELAY",
    "PROBE",
    "FAILED",
];

/// Reads a neighbour table in any of the formats listed in the module documentation. `name` is
/// used in error messages.
pub fn parse_neighbours(name: &str, reader: impl BufRead) -> Result<Ingested, IngestError> {
    parse(name, reader, MAX_LEASES)
}

fn parse(name: &str, reader: impl BufRead, max_entries: usize) -> Result<Ingested, IngestError> {
    let mut raw = Vec::new();
    let limit = u64::try_from(MAX_TABLE_BYTES)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    if let Err(source) = reader.take(limit).read_to_end(&mut raw) {
        return Err(IngestError::Io {
            file: name.to_owned(),
            line: newlines(&raw) + 1,
            source,
        });
    }
    if raw.len() > MAX_TABLE_BYTES {
        return Err(IngestError::Refused {
            file: name.to_owned(),
            line: newlines(&raw),
            field: "file".to_owned(),
            reason: format!(
                "a neighbour table larger than {} MiB",
                MAX_TABLE_BYTES / (1024 * 1024)
            ),
        });
    }
    let text = decode(&raw);
    let mut table = Table {
        file: name,
        max_entries,
        out: Ingested::default(),
        seen: HashSet::new(),
    };
    table.read(&text)?;
    Ok(table.out)
}

fn newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The text of the table: by BOM (UTF-8, UTF-16LE, UTF-16BE), else UTF-8 when valid, else CP932.
fn decode(raw: &[u8]) -> Cow<'_, str> {
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(raw) {
        let body = raw.get(bom_len..).unwrap_or_default();
        return encoding.decode_without_bom_handling(body).0;
    }
    match std::str::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text),
        // SHIFT_JIS in encoding_rs is Windows' CP932 (with the NEC and IBM extensions).
        Err(_) => encoding_rs::SHIFT_JIS.decode_without_bom_handling(raw).0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    IpNeigh,
    ProcArp,
    NetTools,
    ArpA,
    Windows,
}

/// Column names of Windows `arp -a`, for messages.
struct WindowsLabels {
    address: &'static str,
    mac: &'static str,
    kind: &'static str,
}

const WINDOWS_EN: WindowsLabels = WindowsLabels {
    address: "Internet Address",
    mac: "Physical Address",
    kind: "Type",
};

const WINDOWS_JA: WindowsLabels = WindowsLabels {
    address: "インターネット アドレス",
    mac: "物理アドレス",
    kind: "種類",
};

/// Where a Windows `arp -a` listing is.
#[derive(Debug, Default)]
struct WindowsState {
    /// The local address of the current `Interface:` section.
    interface: Option<String>,
    japanese: bool,
    /// The line after `Interface:` is the header, whatever its language.
    header_next: bool,
}

/// One neighbour as a table gives it, before the checks common to all formats.
struct Entry<'s> {
    line: u64,
    ip: IpAddr,
    mac: String,
    hostname: Option<&'s str>,
    interface: Option<Cow<'s, str>>,
    state: Option<Cow<'s, str>>,
}

struct Table<'a> {
    file: &'a str,
    max_entries: usize,
    out: Ingested,
    seen: HashSet<(IpAddr, String)>,
}

impl Table<'_> {
    fn invalid(&self, line: u64, field: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            file: self.file.to_owned(),
            line,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn refused(&self, line: u64, field: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Refused {
            file: self.file.to_owned(),
            line,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// Notes a line that cannot be read; too many of them stop the file.
    fn reject(&mut self, e: IngestError) -> Result<(), IngestError> {
        if self.out.rejected.len() >= MAX_REJECTED {
            return Err(self.refused(
                e.line(),
                "line",
                format!("more than {MAX_REJECTED} unreadable lines: is this a neighbour table?"),
            ));
        }
        self.out.rejected.push(e);
        Ok(())
    }

    fn add(&mut self, entry: Entry<'_>) -> Result<(), IngestError> {
        if !is_device_ip(entry.ip) || !is_unicast_mac(&entry.mac) {
            return Ok(());
        }
        for (field, value) in [
            ("hostname", entry.hostname),
            ("interface", entry.interface.as_deref()),
            ("state", entry.state.as_deref()),
        ] {
            if value.is_some_and(|v| v.len() > MAX_VALUE_BYTES) {
                let e = self.refused(
                    entry.line,
                    field,
                    format!("a value longer than {MAX_VALUE_BYTES} bytes"),
                );
                return self.reject(e);
            }
        }
        if !self.seen.insert((entry.ip, entry.mac.clone())) {
            return Ok(());
        }
        if self.out.observations.len() >= self.max_entries {
            return Err(self.refused(
                entry.line,
                "line",
                format!("more than {} neighbours in one file", self.max_entries),
            ));
        }
        let mut obs = Observation::at_line(entry.line);
        obs.ip = Some(entry.ip.to_string());
        obs.mac = Some(entry.mac);
        obs.hostname = entry.hostname.map(str::to_owned);
        if let Some(interface) = entry.interface {
            obs.attributes
                .insert("neigh.interface".to_owned(), interface.into_owned());
        }
        if let Some(state) = entry.state {
            obs.attributes
                .insert("neigh.state".to_owned(), state.into_owned());
        }
        self.out.observations.push(obs);
        Ok(())
    }

    fn read(&mut self, text: &str) -> Result<(), IngestError> {
        let mut format = None;
        let mut windows = WindowsState::default();
        let mut offset = 0usize;
        let mut line = 0u64;
        for raw_line in text.split('\n') {
            line += 1;
            let start = offset;
            offset = offset.saturating_add(raw_line.len() + 1);
            let trimmed = raw_line.trim();
            if trimmed.is_empty() {
                continue;
            }
            let json_start = raw_line.trim_ascii_start();
            if format.is_none() && (json_start.starts_with('[') || json_start.starts_with('{')) {
                return self.json(text, start, line);
            }
            if raw_line.len() > MAX_EVENT_BYTES {
                return Err(self.refused(
                    line,
                    "line",
                    format!("a line longer than {MAX_EVENT_BYTES} bytes"),
                ));
            }
            let current = match format {
                Some(f) => f,
                None => {
                    let f = detect(trimmed).ok_or_else(|| {
                        self.invalid(
                            line,
                            "format",
                            format!(
                                "not a neighbour table: expected the output of `ip neigh`, \
                                 `ip -j neigh`, `arp -a` (Linux, macOS or Windows), `arp -n` or \
                                 /proc/net/arp (found {})",
                                shown(trimmed)
                            ),
                        )
                    })?;
                    format = Some(f);
                    f
                }
            };
            let result = match current {
                Format::IpNeigh => self.ip_neigh(line, trimmed),
                Format::ProcArp => self.proc_arp(line, trimmed),
                Format::NetTools => self.net_tools(line, trimmed),
                Format::ArpA => self.arp_a(line, trimmed),
                Format::Windows => self.windows(line, trimmed, &mut windows),
            };
            match result {
                Ok(Some(entry)) => self.add(entry)?,
                Ok(None) => {}
                Err(e) => self.reject(e)?,
            }
        }
        Ok(())
    }

    /// `ADDR [dev IF] [lladdr MAC] [router] [proxy] [ref N used A/B/C probes N] STATE…`
    fn ip_neigh<'s>(&self, line: u64, text: &'s str) -> Result<Option<Entry<'s>>, IngestError> {
        let mut tokens = text.split_whitespace();
        let address = tokens.next().unwrap_or_default();
        let ip: IpAddr = address.parse().map_err(|_| {
            self.invalid(
                line,
                "address",
                format!("{} is not an IP address", shown(address)),
            )
        })?;
        let mut dev = None;
        let mut lladdr = None;
        let mut states = Vec::new();
        while let Some(token) = tokens.next() {
            match token {
                "dev" => {
                    dev = Some(tokens.next().ok_or_else(|| {
                        self.invalid(line, "dev", "no interface name after `dev`")
                    })?);
                }
                "lladdr" => {
                    lladdr = Some(tokens.next().ok_or_else(|| {
                        self.invalid(line, "lladdr", "no address after `lladdr`")
                    })?);
                }
                "ref" | "used" | "probes" | "proto" | "vrf" | "nud" => {
                    tokens.next();
                }
                state if NUD_STATES.contains(&state) => states.push(state),
                _ => {}
            }
        }
        if states.iter().any(|s| matches!(*s, "FAILED" | "INCOMPLETE")) {
            return Ok(None);
        }
        let Some(lladdr) = lladdr else {
            return Ok(None);
        };
        let mac = normalize_mac(lladdr).ok_or_else(|| {
            self.invalid(
                line,
                "lladdr",
                format!("{} is not a MAC address", shown(lladdr)),
            )
        })?;
        Ok(Some(Entry {
            line,
            ip,
            mac,
            hostname: None,
            interface: dev.map(Cow::Borrowed),
            state: (!states.is_empty()).then(|| Cow::Owned(states.join(","))),
        }))
    }

    /// `IP address  HW type  Flags  HW address  Mask  Device`
    fn proc_arp<'s>(&self, line: u64, text: &'s str) -> Result<Option<Entry<'s>>, IngestError> {
        if is_proc_header(text) {
            return Ok(None);
        }
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let [address, _hw_type, flags, hw_address, _mask, device] = tokens[..] else {
            return Err(self.invalid(
                line,
                "line",
                format!(
                    "{} values where /proc/net/arp has 6 (IP address, HW type, Flags, HW \
                     address, Mask, Device)",
                    tokens.len()
                ),
            ));
        };
        let ip = address.parse::<Ipv4Addr>().map_err(|_| {
            self.invalid(
                line,
                "IP address",
                format!("{} is not an IPv4 address", shown(address)),
            )
        })?;
        let flags = hex_number(flags).ok_or_else(|| {
            self.invalid(
                line,
                "Flags",
                format!("{} is not a hex number", shown(flags)),
            )
        })?;
        // ATF_COM (0x2): resolved. Without it the entry is incomplete.
        if flags & 0x2 == 0 {
            return Ok(None);
        }
        let mac = normalize_mac(hw_address).ok_or_else(|| {
            self.invalid(
                line,
                "HW address",
                format!("{} is not a MAC address", shown(hw_address)),
            )
        })?;
        Ok(Some(Entry {
            line,
            ip: IpAddr::V4(ip),
            mac,
            hostname: None,
            interface: Some(Cow::Borrowed(device)),
            // ATF_PERM (0x4): a static entry.
            state: (flags & 0x4 != 0).then_some(Cow::Borrowed("PERMANENT")),
        }))
    }

    /// `Address  HWtype  HWaddress  Flags  Mask  Iface` (net-tools `arp -n`).
    fn net_tools<'s>(&self, line: u64, text: &'s str) -> Result<Option<Entry<'s>>, IngestError> {
        if is_net_tools_header(text) {
            return Ok(None);
        }
        let tokens: Vec<&str> = text.split_whitespace().collect();
        if tokens.get(1) == Some(&"(incomplete)") {
            return Ok(None);
        }
        let (address, hw_address, flags, iface) = match tokens[..] {
            [address, _hw_type, hw_address, flags, iface]
            | [address, _hw_type, hw_address, flags, _, iface] => {
                (address, hw_address, flags, iface)
            }
            _ => {
                return Err(self.invalid(
                    line,
                    "line",
                    format!(
                        "{} values where `arp -n` has 5 or 6 (Address, HWtype, HWaddress, Flags, \
                         Mask, Iface)",
                        tokens.len()
                    ),
                ));
            }
        };
        let ip: IpAddr = address.parse().map_err(|_| {
            self.invalid(
                line,
                "Address",
                format!(
                    "{} is not an IP address (list the table with `arp -n`)",
                    shown(address)
                ),
            )
        })?;
        let mac = normalize_mac(hw_address).ok_or_else(|| {
            self.invalid(
                line,
                "HWaddress",
                format!("{} is not a MAC address", shown(hw_address)),
            )
        })?;
        Ok(Some(Entry {
            line,
            ip,
            mac,
            hostname: None,
            interface: Some(Cow::Borrowed(iface)),
            state: flags.contains('M').then_some(Cow::Borrowed("PERMANENT")),
        }))
    }

    /// `NAME (ADDR) at MAC [ether] [PERM] on IF [ifscope] [permanent] [expires in N seconds]
    /// [ethernet]`
    fn arp_a<'s>(&self, line: u64, text: &'s str) -> Result<Option<Entry<'s>>, IngestError> {
        let Some((name, address, rest)) = arp_a_parts(text) else {
            return Err(self.invalid(
                line,
                "line",
                format!(
                    "{} is not an `arp -a` line (`NAME (ADDRESS) at MAC … on INTERFACE`)",
                    shown(text)
                ),
            ));
        };
        let ip: IpAddr = address.trim().parse().map_err(|_| {
            self.invalid(
                line,
                "address",
                format!("{} is not an IP address", shown(address)),
            )
        })?;
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        let Some(&hw) = tokens.first() else {
            return Err(self.invalid(line, "HW address", "no address after `at`"));
        };
        if matches!(hw, "<incomplete>" | "(incomplete)" | "incomplete") {
            return Ok(None);
        }
        let mac = normalize_mac(hw).ok_or_else(|| {
            self.invalid(
                line,
                "HW address",
                format!("{} is not a MAC address", shown(hw)),
            )
        })?;
        let interface = tokens
            .iter()
            .position(|t| *t == "on")
            .and_then(|i| tokens.get(i + 1))
            .copied();
        let permanent = tokens.iter().any(|t| matches!(*t, "PERM" | "permanent"));
        Ok(Some(Entry {
            line,
            ip,
            mac,
            hostname: Some(name).filter(|n| *n != "?" && !n.is_empty()),
            interface: interface.map(Cow::Borrowed),
            state: permanent.then_some(Cow::Borrowed("PERMANENT")),
        }))
    }

    /// Windows `arp -a`: interface lines, headers, rows `ADDR  MAC  TYPE`.
    fn windows<'s>(
        &self,
        line: u64,
        text: &'s str,
        state: &mut WindowsState,
    ) -> Result<Option<Entry<'s>>, IngestError> {
        if let Some((label, interface)) = windows_interface(text) {
            state.interface = Some(interface.to_owned());
            state.japanese = label.contains("インターフェ");
            state.header_next = true;
            return Ok(None);
        }
        if is_windows_empty(text) {
            return Ok(None);
        }
        if is_windows_header(text) {
            state.japanese |= text.contains(WINDOWS_JA.mac);
            state.header_next = false;
            return Ok(None);
        }
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let first_is_address = tokens
            .first()
            .is_some_and(|t| t.parse::<Ipv4Addr>().is_ok());
        if std::mem::take(&mut state.header_next) && !first_is_address {
            // A header in a language not listed here.
            return Ok(None);
        }
        let labels = if state.japanese {
            &WINDOWS_JA
        } else {
            &WINDOWS_EN
        };
        let [address, physical, kind] = tokens[..] else {
            return Err(self.invalid(
                line,
                "line",
                format!(
                    "{} values where a row has 3 ({}, {}, {})",
                    tokens.len(),
                    labels.address,
                    labels.mac,
                    labels.kind
                ),
            ));
        };
        let ip = address.parse::<Ipv4Addr>().map_err(|_| {
            self.invalid(
                line,
                labels.address,
                format!("{} is not an IPv4 address", shown(address)),
            )
        })?;
        let mac = normalize_mac(physical).ok_or_else(|| {
            self.invalid(
                line,
                labels.mac,
                format!("{} is not a MAC address", shown(physical)),
            )
        })?;
        let kind = match kind {
            "動的" => "dynamic",
            "静的" => "static",
            other => other,
        };
        Ok(Some(Entry {
            line,
            ip: IpAddr::V4(ip),
            mac,
            hostname: None,
            interface: state.interface.clone().map(Cow::Owned),
            state: Some(Cow::Borrowed(kind)),
        }))
    }

    /// JSON from `ip -j neigh` or PowerShell, starting at byte `start` (line `line`).
    fn json(&mut self, text: &str, start: usize, line: u64) -> Result<(), IngestError> {
        let mut cursor = Cursor {
            text,
            pos: start,
            counted: start,
            line,
        };
        loop {
            cursor.skip_whitespace();
            match cursor.peek() {
                None => return Ok(()),
                Some(b'[') => {
                    cursor.pos += 1;
                    self.json_array(&mut cursor)?;
                }
                Some(b'{') => self.json_element(&mut cursor)?,
                Some(_) => {
                    let line = cursor.line();
                    return Err(self.invalid(
                        line,
                        "JSON",
                        "expected `[` or `{` (one JSON array of neighbours after another)",
                    ));
                }
            }
        }
    }

    fn json_array(&mut self, cursor: &mut Cursor<'_>) -> Result<(), IngestError> {
        cursor.skip_whitespace();
        if cursor.peek() == Some(b']') {
            cursor.pos += 1;
            return Ok(());
        }
        loop {
            self.json_element(cursor)?;
            cursor.skip_whitespace();
            match cursor.peek() {
                Some(b',') => cursor.pos += 1,
                Some(b']') => {
                    cursor.pos += 1;
                    return Ok(());
                }
                None => {
                    let line = cursor.line();
                    return Err(self.invalid(
                        line,
                        "JSON",
                        "the array is not closed before the end of the file: the file is truncated",
                    ));
                }
                Some(_) => {
                    let line = cursor.line();
                    return Err(self.invalid(line, "JSON", "expected `,` or `]` after an element"));
                }
            }
        }
    }

    /// One array element: checked for syntax and size without keeping it, then read as an
    /// object.
    fn json_element(&mut self, cursor: &mut Cursor<'_>) -> Result<(), IngestError> {
        cursor.skip_whitespace();
        let start = cursor.pos;
        let line = cursor.line();
        let rest = cursor.text.get(start..).unwrap_or_default();
        let mut stream =
            serde_json::Deserializer::from_str(rest).into_iter::<serde::de::IgnoredAny>();
        match stream.next() {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                let at = line.saturating_add(e.line() as u64).saturating_sub(1);
                return Err(self.invalid(at, "JSON", json_reason(&e)));
            }
            None => {
                return Err(self.invalid(
                    line,
                    "JSON",
                    "the array is not closed before the end of the file: the file is truncated",
                ));
            }
        }
        let end = start.saturating_add(stream.byte_offset());
        if end - start > MAX_EVENT_BYTES {
            return Err(self.refused(
                line,
                "line",
                format!("a JSON element longer than {MAX_EVENT_BYTES} bytes"),
            ));
        }
        cursor.pos = end;
        let element = cursor.text.get(start..end).unwrap_or_default();
        match serde_json::from_str::<Map<String, Value>>(element) {
            Ok(object) => match self.json_entry(line, &object) {
                Ok(Some(entry)) => self.add(entry),
                Ok(None) => Ok(()),
                Err(e) => self.reject(e),
            },
            Err(_) => {
                let e = self.invalid(line, "JSON", "an array element that is not an object");
                self.reject(e)
            }
        }
    }

    fn json_entry<'s>(
        &self,
        line: u64,
        object: &'s Map<String, Value>,
    ) -> Result<Option<Entry<'s>>, IngestError> {
        let field = |keys: [&'static str; 2]| {
            keys.into_iter()
                .find_map(|k| object.get(k).filter(|v| !v.is_null()).map(|v| (k, v)))
        };
        let string = |key: &str, value: &'s Value| {
            value
                .as_str()
                .ok_or_else(|| self.invalid(line, key, "not a string"))
        };
        let Some((key, dst)) = field(["dst", "IPAddress"]) else {
            return Err(self.invalid(line, "dst", "no `dst` (or `IPAddress`)"));
        };
        let dst = string(key, dst)?;
        // PowerShell may add an IPv6 zone (`fe80::1%12`).
        let address = dst.split('%').next().unwrap_or_default();
        let ip: IpAddr = address
            .parse()
            .map_err(|_| self.invalid(line, key, format!("{} is not an IP address", shown(dst))))?;

        let mut states: Vec<Cow<'s, str>> = Vec::new();
        match field(["state", "State"]) {
            Some((_, Value::Array(items))) => {
                states.extend(items.iter().filter_map(Value::as_str).map(Cow::Borrowed));
            }
            Some((_, Value::String(s))) => states.push(Cow::Borrowed(s.as_str())),
            Some((_, Value::Number(n))) => {
                // MSFT_NetNeighbor / NL_NEIGHBOR_STATE.
                let name = match n.as_u64() {
                    Some(0) => "UNREACHABLE",
                    Some(1) => "INCOMPLETE",
                    Some(2) => "PROBE",
                    Some(3) => "DELAY",
                    Some(4) => "STALE",
                    Some(5) => "REACHABLE",
                    Some(6) => "PERMANENT",
                    _ => return Err(self.invalid(line, "State", format!("unknown state {n}"))),
                };
                states.push(Cow::Borrowed(name));
            }
            Some((key, _)) => return Err(self.invalid(line, key, "not a string or an array")),
            None => {}
        }
        let states: Vec<Cow<'s, str>> = states
            .into_iter()
            .map(|s| {
                if s.chars().any(|c| c.is_ascii_lowercase()) {
                    Cow::Owned(s.to_ascii_uppercase())
                } else {
                    s
                }
            })
            .collect();
        if states
            .iter()
            .any(|s| matches!(s.as_ref(), "FAILED" | "INCOMPLETE" | "UNREACHABLE"))
        {
            return Ok(None);
        }

        let Some((key, lladdr)) = field(["lladdr", "LinkLayerAddress"]) else {
            return Ok(None);
        };
        let lladdr = string(key, lladdr)?;
        if lladdr.is_empty() {
            return Ok(None);
        }
        let mac = normalize_mac(lladdr).ok_or_else(|| {
            self.invalid(line, key, format!("{} is not a MAC address", shown(lladdr)))
        })?;
        let interface = match field(["dev", "InterfaceAlias"]) {
            Some((key, value)) => Some(Cow::Borrowed(string(key, value)?)),
            None => None,
        };
        Ok(Some(Entry {
            line,
            ip,
            mac,
            hostname: None,
            interface,
            state: (!states.is_empty()).then(|| Cow::Owned(states.join(","))),
        }))
    }
}

/// A position in the JSON text, with its line counted lazily.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    /// Byte up to which newlines have been counted into `line`.
    counted: usize,
    line: u64,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// The line of `pos` (which only moves forward).
    fn line(&mut self) -> u64 {
        if let Some(part) = self.text.as_bytes().get(self.counted..self.pos) {
            self.line += newlines(part);
            self.counted = self.pos;
        }
        self.line
    }
}

/// serde_json's message without its position (which is relative to the element).
fn json_reason(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let message = match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or_default().to_owned(),
        None => message,
    };
    format!("broken JSON: {message}")
}

/// Which format a first non-blank line starts.
fn detect(line: &str) -> Option<Format> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    if is_proc_header(line) {
        return Some(Format::ProcArp);
    }
    if is_net_tools_header(line) {
        return Some(Format::NetTools);
    }
    if windows_interface(line).is_some() || is_windows_header(line) || is_windows_empty(line) {
        return Some(Format::Windows);
    }
    if arp_a_parts(line).is_some() {
        return Some(Format::ArpA);
    }
    let first_is_ip = tokens.first().is_some_and(|t| t.parse::<IpAddr>().is_ok());
    if first_is_ip
        && tokens
            .iter()
            .skip(1)
            .any(|t| matches!(*t, "dev" | "lladdr") || NUD_STATES.contains(t))
    {
        return Some(Format::IpNeigh);
    }
    // Rows without their header: /proc/net/arp (`ADDR 0x1 0x2 MAC * DEV`), Windows (`ADDR
    // aa-bb-… TYPE`).
    match tokens[..] {
        [address, hw_type, flags, _, _, _]
            if address.parse::<Ipv4Addr>().is_ok()
                && hw_type.starts_with("0x")
                && flags.starts_with("0x") =>
        {
            Some(Format::ProcArp)
        }
        [address, mac, _]
            if address.parse::<Ipv4Addr>().is_ok()
                && mac.contains('-')
                && normalize_mac(mac).is_some() =>
        {
            Some(Format::Windows)
        }
        _ => None,
    }
}

fn is_proc_header(line: &str) -> bool {
    line.starts_with("IP address") && line.contains("HW type") && line.contains("Flags")
}

fn is_net_tools_header(line: &str) -> bool {
    line.starts_with("Address") && line.contains("HWtype") && line.contains("HWaddress")
}

/// `LABEL: A.B.C.D --- 0xN` in any language: the label and the address.
fn windows_interface(line: &str) -> Option<(&str, &str)> {
    let (left, right) = line.split_once("---")?;
    if !right.trim().starts_with("0x") {
        return None;
    }
    let (label, address) = left.trim_end().rsplit_once(char::is_whitespace)?;
    let label = label.trim_end();
    if !(label.ends_with(':') || label.ends_with('：')) {
        return None;
    }
    address.parse::<Ipv4Addr>().ok()?;
    Some((label, address))
}

fn is_windows_header(line: &str) -> bool {
    [
        WINDOWS_EN.address,
        WINDOWS_EN.mac,
        WINDOWS_JA.address,
        WINDOWS_JA.mac,
    ]
    .iter()
    .any(|label| line.contains(label))
}

/// `No ARP Entries Found.` and its Japanese form.
fn is_windows_empty(line: &str) -> bool {
    line.contains("No ARP Entries Found") || line.contains("ARP エントリが見つかりませんでした")
}

/// `NAME (ADDR) at REST` → (name, address, rest).
fn arp_a_parts(line: &str) -> Option<(&str, &str, &str)> {
    let (name, rest) = line.split_once(" (")?;
    let (address, rest) = rest.split_once(')')?;
    let rest = rest.trim_start().strip_prefix("at")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some((name, address, rest))
}

/// `0x1A` → 26.
fn hex_number(text: &str) -> Option<u32> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    u32::from_str_radix(digits, 16).ok()
}

/// False for the addresses that are not one device: IPv4 multicast, broadcast and unspecified;
/// IPv6 multicast and unspecified.
fn is_device_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_multicast() || v4.is_broadcast() || v4.is_unspecified()),
        IpAddr::V6(v6) => !(v6.is_multicast() || v6.is_unspecified()),
    }
}

/// True for a normalised unicast MAC: not all zeros, and the group bit (lowest bit of the first
/// octet, set for multicast and broadcast) clear.
fn is_unicast_mac(mac: &str) -> bool {
    let first = mac.get(0..2).and_then(|h| u8::from_str_radix(h, 16).ok());
    first.is_some_and(|b| b & 0x01 == 0) && mac != "00:00:00:00:00:00"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: impl AsRef<[u8]>) -> Ingested {
        parse_neighbours("neigh.txt", input.as_ref()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(input: impl AsRef<[u8]>) -> IngestError {
        match parse_neighbours("neigh.txt", input.as_ref()) {
            Ok(i) => panic!("accepted: {i:?}"),
            Err(e) => e,
        }
    }

    /// (line, ip, mac, hostname, interface, state) of each observation.
    type Row<'a> = (
        u64,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn rows(i: &Ingested) -> Vec<Row<'_>> {
        i.observations
            .iter()
            .map(|o| {
                (
                    o.line,
                    o.ip.as_deref().unwrap_or_default(),
                    o.mac.as_deref().unwrap_or_default(),
                    o.hostname.as_deref(),
                    o.attributes.get("neigh.interface").map(String::as_str),
                    o.attributes.get("neigh.state").map(String::as_str),
                )
            })
            .collect()
    }

    fn rejected(i: &Ingested) -> Vec<(u64, &str)> {
        i.rejected.iter().map(|e| (e.line(), e.field())).collect()
    }

    #[test]
    fn ip_neigh() {
        let text = "\
192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE
192.168.1.20 dev eth0 lladdr 3C:22:FB:12:34:56 STALE
192.168.1.7 dev eth0  FAILED
192.168.1.8 dev eth0 INCOMPLETE
192.168.1.9 dev eth0 lladdr 00:11:22:33:44:99 FAILED
fe80::1 dev eth0 lladdr 00:11:22:33:44:55 router STALE
192.168.1.1 dev wlan0 lladdr 00:11:22:33:44:66 DELAY
192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE
224.0.0.251 dev eth0 lladdr 01:00:5e:00:00:fb NOARP
192.168.1.255 dev eth0 lladdr ff:ff:ff:ff:ff:ff PERMANENT
192.168.1.30 dev eth0 lladdr 00:11:22:zz:44:55 STALE
192.168.1.31 dev eth0 lladdr 00:00:00:00:00:00 PERMANENT
192.168.1.40 dev eth0 lladdr 08:00:27:00:00:40 ref 1 used 10/10/10 probes 1 REACHABLE
192.168.1.41 lladdr 08:00:27:00:00:41 STALE
";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    1,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    Some("REACHABLE")
                ),
                (
                    2,
                    "192.168.1.20",
                    "3c:22:fb:12:34:56",
                    None,
                    Some("eth0"),
                    Some("STALE")
                ),
                (
                    6,
                    "fe80::1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    Some("STALE")
                ),
                (
                    7,
                    "192.168.1.1",
                    "00:11:22:33:44:66",
                    None,
                    Some("wlan0"),
                    Some("DELAY")
                ),
                (
                    13,
                    "192.168.1.40",
                    "08:00:27:00:00:40",
                    None,
                    Some("eth0"),
                    Some("REACHABLE")
                ),
                (
                    14,
                    "192.168.1.41",
                    "08:00:27:00:00:41",
                    None,
                    None,
                    Some("STALE")
                ),
            ]
        );
        assert_eq!(rejected(&i), [(11, "lladdr")]);
        assert_eq!(
            i.rejected[0].to_string(),
            "neigh.txt:11: lladdr: \"00:11:22:zz:44:55\" is not a MAC address"
        );
    }

    #[test]
    fn ip_json() {
        let text = r#"[{"dst":"192.168.1.1","dev":"eth0","lladdr":"00:11:22:33:44:55","state":["REACHABLE"]},{"dst":"192.168.1.7","dev":"eth0","state":["FAILED"]},{"dst":"fe80::1","dev":"eth0","lladdr":"00:11:22:33:44:55","router":null,"state":["STALE"]},{"dst":"192.168.1.30","dev":"eth0","lladdr":"junk","state":["STALE"]},42,{"dst":"192.168.1.31","dev":"eth0","lladdr":"00:11:22:33:44:31","state":"PERMANENT"},{"dst":"224.0.0.251","dev":"eth0","lladdr":"01:00:5e:00:00:fb","state":["NOARP"]}]
"#;
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    1,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    Some("REACHABLE")
                ),
                (
                    1,
                    "fe80::1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    Some("STALE")
                ),
                (
                    1,
                    "192.168.1.31",
                    "00:11:22:33:44:31",
                    None,
                    Some("eth0"),
                    Some("PERMANENT")
                ),
            ]
        );
        assert_eq!(rejected(&i), [(1, "lladdr"), (1, "JSON")]);
    }

    #[test]
    fn ip_json_pretty_and_concatenated_give_element_lines() {
        let text = r#"[ {
        "dst": "192.168.1.1",
        "dev": "eth0",
        "lladdr": "00:11:22:33:44:55",
        "state": [ "REACHABLE" ]
    },{
        "dst": "192.168.1.300",
        "dev": "eth0",
        "lladdr": "00:11:22:33:44:56",
        "state": [ "STALE" ]
    } ]
[ {
        "dst": "fe80::1",
        "dev": "eth0",
        "lladdr": "00:11:22:33:44:55",
        "router": null,
        "state": [ "STALE" ]
    } ]
"#;
        let i = ok(text);
        let got: Vec<(u64, &str)> = rows(&i).iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(got, [(1, "192.168.1.1"), (12, "fe80::1")]);
        assert_eq!(rejected(&i), [(6, "dst")]);
        // Broken JSON is an error naming the line it breaks on.
        let e = err("[\n{\"dst\": \"10.0.0.1\",\n \"dev\": eth0}\n]");
        assert_eq!((e.line(), e.field()), (3, "JSON"), "{e}");
        assert!(!e.to_string().contains("at line"), "{e}");
        let e = err("[{\"dst\": \"10.0.0.1\"},\n");
        assert_eq!(e.field(), "JSON", "{e}");
        let e = err("[{\"dst\": \"10.0.0.1\"} {\"dst\": \"10.0.0.2\"}]");
        assert!(e.to_string().contains("expected `,` or `]`"), "{e}");
        assert!(ok("[]").observations.is_empty());
    }

    #[test]
    fn powershell_get_netneighbor_json() {
        let text = r#"[
    {
        "ifIndex":  11,
        "InterfaceAlias":  "イーサネット",
        "IPAddress":  "192.168.1.1",
        "LinkLayerAddress":  "00-11-22-33-44-55",
        "State":  5,
        "CimClass":  {"CimSuperClassName": "MSFT_NetNeighbor"}
    },
    {
        "InterfaceAlias":  "イーサネット",
        "IPAddress":  "192.168.1.7",
        "LinkLayerAddress":  "00-00-00-00-00-00",
        "State":  0
    },
    {
        "InterfaceAlias":  "Wi-Fi",
        "IPAddress":  "fe80::1%12",
        "LinkLayerAddress":  "00-11-22-33-44-66",
        "State":  "Stale"
    }
]"#;
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    2,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("イーサネット"),
                    Some("REACHABLE")
                ),
                (
                    16,
                    "fe80::1",
                    "00:11:22:33:44:66",
                    None,
                    Some("Wi-Fi"),
                    Some("STALE")
                ),
            ]
        );
        // One neighbour: a single object, not an array.
        let one =
            ok(r#"{"IPAddress": "10.0.0.1", "LinkLayerAddress": "00-11-22-33-44-55", "State": 6}"#);
        assert_eq!(one.observations.len(), 1);
    }

    #[test]
    fn proc_net_arp() {
        let text = "\
IP address       HW type     Flags       HW address            Mask     Device
192.168.1.1      0x1         0x2         00:11:22:33:44:55     *        eth0
192.168.1.7      0x1         0x0         00:00:00:00:00:00     *        eth0
192.168.1.50     0x1         0x6         00:1b:a9:0a:0b:0c     *        eth0
192.168.1.51     0x1         0xZ         00:1b:a9:0a:0b:0d     *        eth0
192.168.1.52     0x1         0x2         00:1b:a9:0a:0b        *        eth0
192.168.1.53     0x1         0x2         00:1b:a9:0a:0b:0e     *
";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    2,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    None
                ),
                (
                    4,
                    "192.168.1.50",
                    "00:1b:a9:0a:0b:0c",
                    None,
                    Some("eth0"),
                    Some("PERMANENT")
                ),
            ]
        );
        assert_eq!(rejected(&i), [(5, "Flags"), (6, "HW address"), (7, "line")]);
    }

    #[test]
    fn net_tools_arp_n() {
        let text = "\
Address                  HWtype  HWaddress           Flags Mask            Iface
192.168.1.1              ether   00:11:22:33:44:55   C                     eth0
192.168.1.7                      (incomplete)                              eth0
192.168.1.50             ether   00:1b:a9:0a:0b:0c   CM                    eth0
printer.lan              ether   00:1b:a9:0a:0b:0d   C                     eth0
";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    2,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    None
                ),
                (
                    4,
                    "192.168.1.50",
                    "00:1b:a9:0a:0b:0c",
                    None,
                    Some("eth0"),
                    Some("PERMANENT")
                ),
            ]
        );
        assert_eq!(rejected(&i), [(5, "Address")]);
    }

    #[test]
    fn linux_arp_a() {
        let text = "\
? (192.168.1.1) at 00:11:22:33:44:55 [ether] on eth0
reception-pc.clinic.lan (192.168.1.20) at 3c:22:fb:12:34:56 [ether] on eth0
? (192.168.1.7) at <incomplete> on eth0
printer (192.168.1.50) at 00:1b:a9:0a:0b:0c [ether] PERM on eth0
? (192.168.1.300) at 00:1b:a9:0a:0b:0d [ether] on eth0
this line is garbled
";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    1,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("eth0"),
                    None
                ),
                (
                    2,
                    "192.168.1.20",
                    "3c:22:fb:12:34:56",
                    Some("reception-pc.clinic.lan"),
                    Some("eth0"),
                    None
                ),
                (
                    4,
                    "192.168.1.50",
                    "00:1b:a9:0a:0b:0c",
                    Some("printer"),
                    Some("eth0"),
                    Some("PERMANENT")
                ),
            ]
        );
        assert_eq!(rejected(&i), [(5, "address"), (6, "line")]);
    }

    #[test]
    fn macos_arp_a() {
        let text = "\
? (192.168.1.1) at 0:11:22:3:44:55 on en0 ifscope [ethernet]
nas.local (192.168.1.10) at 0:11:32:a:b:c on en0 ifscope [ethernet]
? (192.168.1.7) at (incomplete) on en0 ifscope [ethernet]
? (192.168.1.255) at ff:ff:ff:ff:ff:ff on en0 ifscope [ethernet]
? (224.0.0.251) at 1:0:5e:0:0:fb on en0 ifscope permanent [ethernet]
? (239.255.255.250) at 1:0:5e:7f:ff:fa on en0 ifscope permanent [ethernet]
? (192.168.1.30) at 3c:22:fb:0:1:2 on en0 ifscope permanent [ethernet]
? (10.0.0.1) at 0:11:22:3:44:55 on en7 expires in 1166 seconds [ethernet]
? (192.168.1.31) at 0:11:22:3:44 on en0 ifscope [ethernet]
";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [
                (
                    1,
                    "192.168.1.1",
                    "00:11:22:03:44:55",
                    None,
                    Some("en0"),
                    None
                ),
                (
                    2,
                    "192.168.1.10",
                    "00:11:32:0a:0b:0c",
                    Some("nas.local"),
                    Some("en0"),
                    None
                ),
                (
                    7,
                    "192.168.1.30",
                    "3c:22:fb:00:01:02",
                    None,
                    Some("en0"),
                    Some("PERMANENT")
                ),
                (8, "10.0.0.1", "00:11:22:03:44:55", None, Some("en7"), None),
            ]
        );
        assert_eq!(rejected(&i), [(9, "HW address")]);
    }

    const WINDOWS_EN_TEXT: &str = "\r
Interface: 192.168.1.5 --- 0xb\r
  Internet Address      Physical Address      Type\r
  192.168.1.1           00-11-22-33-44-55     dynamic\r
  192.168.1.20          3c-22-fb-12-34-56     dynamic\r
  192.168.1.255         ff-ff-ff-ff-ff-ff     static\r
  224.0.0.22            01-00-5e-00-00-16     static\r
  255.255.255.255       ff-ff-ff-ff-ff-ff     static\r
\r
Interface: 172.16.0.10 --- 0x11\r
  Internet Address      Physical Address      Type\r
  172.16.0.1            00-1b-a9-0a-0b-0c     dynamic\r
  192.168.1.1           00-11-22-33-44-55     dynamic\r
";

    const WINDOWS_JA_TEXT: &str = "\r
インターフェイス: 192.168.1.5 --- 0xb\r
  インターネット アドレス 物理アドレス          種類\r
  192.168.1.1           00-11-22-33-44-55     動的\r
  192.168.1.20          3c-22-fb-12-34-56     動的\r
  192.168.1.100         00-1b-a9-0a-0b-64     静的\r
  192.168.1.255         ff-ff-ff-ff-ff-ff     静的\r
  224.0.0.22            01-00-5e-00-00-16     静的\r
  224.0.0.251           01-00-5e-00-00-fb     静的\r
  239.255.255.250       01-00-5e-7f-ff-fa     静的\r
  255.255.255.255       ff-ff-ff-ff-ff-ff     静的\r
\r
インターフェイス: 172.16.0.10 --- 0x11\r
  インターネット アドレス 物理アドレス          種類\r
  172.16.0.1            00-1b-a9-0a-0b-0c     動的\r
  172.16.0.99           00-1b-a9-zz-0b-0c     動的\r
  172.16.0.300          00-1b-a9-0a-0b-0d     動的\r
";

    #[test]
    fn windows_english() {
        let i = ok(WINDOWS_EN_TEXT);
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(
            rows(&i),
            [
                (
                    4,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("192.168.1.5"),
                    Some("dynamic")
                ),
                (
                    5,
                    "192.168.1.20",
                    "3c:22:fb:12:34:56",
                    None,
                    Some("192.168.1.5"),
                    Some("dynamic")
                ),
                (
                    12,
                    "172.16.0.1",
                    "00:1b:a9:0a:0b:0c",
                    None,
                    Some("172.16.0.10"),
                    Some("dynamic")
                ),
            ]
        );
        let i = ok("No ARP Entries Found.\r\nbogus\r\n");
        assert_eq!(rejected(&i), [(2, "line")]);
        let none = ok("No ARP Entries Found.\r\n");
        assert!(none.observations.is_empty() && none.rejected.is_empty());
    }

    fn check_japanese(i: &Ingested) {
        assert_eq!(
            rows(i),
            [
                (
                    4,
                    "192.168.1.1",
                    "00:11:22:33:44:55",
                    None,
                    Some("192.168.1.5"),
                    Some("dynamic")
                ),
                (
                    5,
                    "192.168.1.20",
                    "3c:22:fb:12:34:56",
                    None,
                    Some("192.168.1.5"),
                    Some("dynamic")
                ),
                (
                    6,
                    "192.168.1.100",
                    "00:1b:a9:0a:0b:64",
                    None,
                    Some("192.168.1.5"),
                    Some("static")
                ),
                (
                    15,
                    "172.16.0.1",
                    "00:1b:a9:0a:0b:0c",
                    None,
                    Some("172.16.0.10"),
                    Some("dynamic")
                ),
            ]
        );
        assert_eq!(
            rejected(i),
            [(16, "物理アドレス"), (17, "インターネット アドレス")]
        );
        assert_eq!(
            i.rejected[0].to_string(),
            "neigh.txt:16: 物理アドレス: \"00-1b-a9-zz-0b-0c\" is not a MAC address"
        );
    }

    #[test]
    fn windows_japanese_in_cp932() {
        let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(WINDOWS_JA_TEXT);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&sjis).is_err(),
            "the fixture must really be CP932"
        );
        check_japanese(&ok(&sjis));
    }

    #[test]
    fn windows_japanese_in_utf8_and_utf16() {
        check_japanese(&ok(WINDOWS_JA_TEXT));
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(WINDOWS_JA_TEXT.as_bytes());
        check_japanese(&ok(&bom));
        // Windows PowerShell 5's `arp -a > file`: UTF-16LE with a BOM.
        let mut utf16 = vec![0xff, 0xfe];
        for unit in WINDOWS_JA_TEXT.encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        check_japanese(&ok(&utf16));
    }

    #[test]
    fn windows_in_another_language_and_without_header() {
        let text = "\nSchnittstelle: 192.168.1.5 --- 0xb\n  Internetadresse       Physische Adresse     Typ\n  192.168.1.1           00-11-22-33-44-55     dynamisch\n";
        let i = ok(text);
        assert_eq!(
            rows(&i),
            [(
                4,
                "192.168.1.1",
                "00:11:22:33:44:55",
                None,
                Some("192.168.1.5"),
                Some("dynamisch")
            )]
        );
        let i =
            ok("192.168.1.1  00-11-22-33-44-55  dynamic\n192.168.1.2  00-11-22-33-44-56  static\n");
        assert_eq!(i.observations.len(), 2);
        assert_eq!(i.observations[1].attributes.get("neigh.interface"), None);
    }

    #[test]
    fn garbage_is_an_error_naming_file_and_line() {
        let e = err("hello world\n192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE\n");
        assert_eq!((e.file(), e.line(), e.field()), ("neigh.txt", 1, "format"));
        assert!(e.to_string().contains("not a neighbour table"), "{e}");
        let e = err([0x00, 0x9f, 0xff, 0x80, b'\n']);
        assert_eq!(e.line(), 1, "{e}");
        let e = err("<html><body>login</body></html>");
        assert_eq!(e.line(), 1, "{e}");
        let e = err("\n\nnot a table\n");
        assert_eq!(e.line(), 3, "{e}");
        // Empty: no neighbours.
        assert!(ok("").observations.is_empty());
        assert!(ok("\r\n\r\n").observations.is_empty());
    }

    #[test]
    fn limits_are_errors() {
        let long = format!(
            "192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE\n192.168.1.2 dev {} REACHABLE\n",
            "x".repeat(MAX_EVENT_BYTES)
        );
        let e = err(long);
        assert!(
            e.is_refusal() && e.line() == 2 && e.field() == "line",
            "{e}"
        );
        let value = format!(
            "192.168.1.1 dev {} lladdr 00:11:22:33:44:55 REACHABLE\n",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        let i = ok(value);
        assert_eq!(rejected(&i), [(1, "interface")]);
        assert!(i.rejected[0].is_refusal());
        let big_json = format!(
            "[{{\"dst\": \"10.0.0.1\", \"pad\": \"{}\"}}]",
            "x".repeat(MAX_EVENT_BYTES)
        );
        assert!(err(big_json).is_refusal());
        let text = "10.0.0.1 dev eth0 lladdr 00:11:22:33:44:01 STALE\n\
                    10.0.0.2 dev eth0 lladdr 00:11:22:33:44:02 STALE\n\
                    10.0.0.1 dev eth0 lladdr 00:11:22:33:44:01 STALE\n";
        assert_eq!(
            parse("x", text.as_bytes(), 2).unwrap().observations.len(),
            2
        );
        let e = parse("x", text.as_bytes(), 1).unwrap_err();
        assert!(e.is_refusal() && e.line() == 2, "{e}");
        let many = format!(
            "10.0.0.1 dev eth0 lladdr 00:11:22:33:44:01 STALE\n{}",
            "junk\n".repeat(MAX_REJECTED + 1)
        );
        let e = err(many);
        assert!(
            e.is_refusal() && e.to_string().contains("unreadable lines"),
            "{e}"
        );
        let huge = std::io::repeat(b'\n').take(MAX_TABLE_BYTES as u64 + 1);
        let e = parse_neighbours("big.txt", std::io::BufReader::new(huge)).unwrap_err();
        assert!(e.is_refusal() && e.field() == "file", "{e}");
    }

    #[test]
    fn device_filters() {
        assert!(is_unicast_mac("00:11:22:33:44:55"));
        assert!(is_unicast_mac("da:a1:19:00:00:01"));
        assert!(!is_unicast_mac("01:00:5e:00:00:fb"));
        assert!(!is_unicast_mac("33:33:00:00:00:01"));
        assert!(!is_unicast_mac("ff:ff:ff:ff:ff:ff"));
        assert!(!is_unicast_mac("00:00:00:00:00:00"));
        assert!(!is_device_ip("224.0.0.22".parse().unwrap()));
        assert!(!is_device_ip("255.255.255.255".parse().unwrap()));
        assert!(!is_device_ip("ff02::1".parse().unwrap()));
        assert!(is_device_ip("192.168.1.255".parse().unwrap()));
    }
}
