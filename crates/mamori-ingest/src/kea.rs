//! Kea DHCP server memfile lease files (`kea-leases4.csv`, `kea-leases6.csv`).
//!
//! The memfile is CSV with a header row and no quoting: Kea writes a comma inside a value (a
//! host name, a user context) as `&#x2c;`, which is unescaped here. Columns are read **by header
//! name**, since their order and number change between Kea versions (`pool_id`, `hwtype`,
//! `hwaddr_source` were added over time). A header row met again further down (files
//! concatenated by hand, or the rotated `.1`/`.2` files put in front of the current one) starts
//! a new column map.
//!
//! The file is an append log: Kea writes a new row every time a lease changes, and the **last**
//! row for an address is its current state. A last row with `valid_lifetime` 0 (a deleted lease),
//! `state` 1 (declined) or `state` 2 (expired-reclaimed) means the address is no longer leased and
//! gives no observation. DHCPv6 rows with `lease_type` 2 are delegated prefixes, not device
//! addresses, and are skipped.
//!
//! Read (v4): `address`, `hwaddr`, `client_id`, `valid_lifetime`, `expire`, `subnet_id`,
//! `hostname`, `state`. Read (v6): `address`, `duid`, `iaid`, `lease_type`, `valid_lifetime`,
//! `expire`, `subnet_id`, `hostname`, `hwaddr`, `state`. Required: `address`, `valid_lifetime`,
//! `expire`, `subnet_id`, and `hwaddr` (v4) or `duid` (v6); a header without one of them is an
//! error for the whole file, as is a first line that is not a Kea header at all.
//!
//! Each kept lease gives one [`Observation`]: `ip`, `mac` (`hwaddr`), `client_id` (v4, lower-case
//! hex without separators), `hostname` (without the trailing dot of an FQDN), `seen_at` (lease
//! start: `expire - valid_lifetime`), and attributes `dhcp.expire` (RFC 3339 UTC, absent for an
//! infinite lifetime), `dhcp.subnet_id`, and for v6 `dhcp.duid` and `dhcp.iaid`.
//!
//! A row that cannot be read (bad address, MAC, number, a wrong number of values) lands in
//! [`Ingested::rejected`] naming its line and column; the rest of the file is still read. A line
//! longer than [`MAX_EVENT_BYTES`] is an error for the whole file (the memfile has no reason to
//! hold one), so memory stays bounded per row; more than [`MAX_LEASES`] addresses is refused too.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};
use std::net::IpAddr;

use mamori_model::Observation;

use crate::{
    IngestError, Ingested, MAX_EVENT_BYTES, MAX_LEASES, MAX_VALUE_BYTES, normalize_mac, to_hex,
};

/// Most unreadable rows listed before the file is given up on as the wrong kind of file.
const MAX_REJECTED: usize = 10_000;

/// Longest valid lifetime Kea writes: `0xffffffff` means infinite.
const INFINITE_LIFETIME: u32 = u32::MAX;

/// Reads a Kea memfile lease file (v4 or v6, told apart by its header). Returns the current
/// leases (the last row for each address), in the order of those rows. `name` is used in error
/// messages.
pub fn parse_kea_leases(name: &str, reader: impl BufRead) -> Result<Ingested, IngestError> {
    parse(name, reader, MAX_LEASES)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// Where each column read sits in a row, from the header.
#[derive(Debug)]
struct Columns {
    family: Family,
    count: usize,
    address: usize,
    valid_lifetime: usize,
    expire: usize,
    subnet_id: usize,
    hwaddr: Option<usize>,
    client_id: Option<usize>,
    duid: Option<usize>,
    iaid: Option<usize>,
    lease_type: Option<usize>,
    hostname: Option<usize>,
    state: Option<usize>,
}

impl Columns {
    /// The column map of a header row, or why it is not a usable Kea header.
    fn from_header(names: &[String]) -> Result<Self, String> {
        let find = |wanted: &str| names.iter().position(|n| n == wanted);
        let family = if find("duid").is_some() {
            Family::V6
        } else if find("hwaddr").is_some() {
            Family::V4
        } else {
            return Err(
                "the header has neither a `hwaddr` column (kea-leases4.csv) nor a `duid` column \
                 (kea-leases6.csv)"
                    .to_owned(),
            );
        };
        let required = |wanted: &str| {
            find(wanted).ok_or_else(|| {
                format!(
                    "the header has no `{wanted}` column (found: {})",
                    shown(&names.join(","))
                )
            })
        };
        Ok(Self {
            family,
            count: names.len(),
            address: required("address")?,
            valid_lifetime: required("valid_lifetime")?,
            expire: required("expire")?,
            subnet_id: required("subnet_id")?,
            hwaddr: match family {
                Family::V4 => Some(required("hwaddr")?),
                Family::V6 => find("hwaddr"),
            },
            client_id: find("client_id"),
            duid: find("duid"),
            iaid: find("iaid"),
            lease_type: find("lease_type"),
            hostname: find("hostname"),
            state: find("state"),
        })
    }
}

/// What one row says about its address.
enum RowOutcome {
    /// The address is leased, as this observation says.
    Leased(IpAddr, Box<Observation>),
    /// The address is no longer leased (deleted, declined, reclaimed).
    Gone(IpAddr),
    /// The row is not about a device address (a delegated prefix).
    Skip,
}

fn parse(name: &str, reader: impl BufRead, max_leases: usize) -> Result<Ingested, IngestError> {
    // Kea never quotes: a `"` is part of the value. With quoting off, each record is exactly one
    // line, so the line cap of `LineCap` bounds the memory of a record.
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .comment(None)
        .from_reader(LineCap::new(reader));
    let mut record = csv::ByteRecord::new();
    let mut columns: Option<Columns> = None;
    let mut leases: HashMap<IpAddr, Observation> = HashMap::new();
    let mut rejected = Vec::new();
    let mut last_line = 0u64;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(read_failure(name, &e, csv.get_ref(), last_line)),
        }
        let line = record.position().map_or(last_line + 1, csv::Position::line);
        last_line = line;
        let first = record.get(0).map(trim).unwrap_or_default();
        if record.len() <= 1 && first.is_empty() {
            continue;
        }
        // A header row names an `address` column. Once a header is known, only the word
        // `address` in the address column starts a new one: a host name `address` chosen by a
        // client must not replace the column map.
        let is_header = match &columns {
            None => record
                .iter()
                .any(|f| trim(f).eq_ignore_ascii_case(b"address")),
            Some(cols) => record
                .get(cols.address)
                .is_some_and(|f| trim(f).eq_ignore_ascii_case(b"address")),
        };
        if is_header {
            let names: Vec<String> = record
                .iter()
                .map(|f| String::from_utf8_lossy(trim(f)).to_ascii_lowercase())
                .collect();
            columns =
                Some(
                    Columns::from_header(&names).map_err(|reason| IngestError::Invalid {
                        file: name.to_owned(),
                        line,
                        field: "header".to_owned(),
                        reason,
                    })?,
                );
            continue;
        }
        let Some(cols) = &columns else {
            return Err(IngestError::Invalid {
                file: name.to_owned(),
                line,
                field: "header".to_owned(),
                reason: format!(
                    "not a Kea lease file: the first line should be a header such as \
                     `address,hwaddr,client_id,valid_lifetime,expire,…` (found {})",
                    shown(&joined(&record))
                ),
            });
        };
        let row = Row {
            file: name,
            line,
            record: &record,
        };
        match row.read(cols) {
            Ok(RowOutcome::Leased(ip, obs)) => {
                if !leases.contains_key(&ip) && leases.len() >= max_leases {
                    return Err(IngestError::Refused {
                        file: name.to_owned(),
                        line,
                        field: "address".to_owned(),
                        reason: format!("more than {max_leases} leases in one file"),
                    });
                }
                leases.insert(ip, *obs);
            }
            Ok(RowOutcome::Gone(ip)) => {
                leases.remove(&ip);
            }
            Ok(RowOutcome::Skip) => {}
            Err(e) => {
                if rejected.len() >= MAX_REJECTED {
                    return Err(IngestError::Refused {
                        file: name.to_owned(),
                        line,
                        field: "row".to_owned(),
                        reason: format!(
                            "more than {MAX_REJECTED} unreadable rows: is this a Kea lease file?"
                        ),
                    });
                }
                rejected.push(e);
            }
        }
    }
    let mut observations: Vec<Observation> = leases.into_values().collect();
    observations.sort_by_key(|o| o.line);
    Ok(Ingested {
        observations,
        rejected,
        taken_at: None,
    })
}

/// The error for a failed read: a line over the limit, or the reader's own failure.
fn read_failure<R>(name: &str, e: &csv::Error, cap: &LineCap<R>, last_line: u64) -> IngestError {
    if let Some(line) = cap.overflow {
        return IngestError::Refused {
            file: name.to_owned(),
            line,
            field: "line".to_owned(),
            reason: format!("a line longer than {MAX_EVENT_BYTES} bytes"),
        };
    }
    let line = last_line + 1;
    match e.kind() {
        csv::ErrorKind::Io(io) => IngestError::Io {
            file: name.to_owned(),
            line,
            source: io::Error::new(io.kind(), io.to_string()),
        },
        other => IngestError::Invalid {
            file: name.to_owned(),
            line,
            field: "line".to_owned(),
            reason: format!("{other:?}"),
        },
    }
}

/// One data row, with what is needed to name it in errors.
struct Row<'a> {
    file: &'a str,
    line: u64,
    record: &'a csv::ByteRecord,
}

impl Row<'_> {
    fn invalid(&self, field: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            file: self.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    /// The trimmed value of a column (empty when the row is short).
    fn raw(&self, index: usize) -> &[u8] {
        self.record.get(index).map(trim).unwrap_or_default()
    }

    /// The value of a column as text, checked against [`MAX_VALUE_BYTES`].
    fn text(&self, index: usize, field: &str) -> Result<String, IngestError> {
        let raw = self.raw(index);
        if raw.len() > MAX_VALUE_BYTES {
            return Err(IngestError::Refused {
                file: self.file.to_owned(),
                line: self.line,
                field: field.to_owned(),
                reason: format!("a value longer than {MAX_VALUE_BYTES} bytes"),
            });
        }
        Ok(String::from_utf8_lossy(raw).into_owned())
    }

    fn number<T: std::str::FromStr>(&self, index: usize, field: &str) -> Result<T, IngestError> {
        let text = self.text(index, field)?;
        text.parse()
            .map_err(|_| self.invalid(field, format!("{} is not a number", shown(&text))))
    }

    fn read(&self, cols: &Columns) -> Result<RowOutcome, IngestError> {
        if self.record.len() != cols.count {
            return Err(self.invalid(
                "row",
                format!(
                    "{} values where the header has {} columns",
                    self.record.len(),
                    cols.count
                ),
            ));
        }
        let address = self.text(cols.address, "address")?;
        let ip: IpAddr = match cols.family {
            Family::V4 => address.parse::<std::net::Ipv4Addr>().map(IpAddr::V4),
            Family::V6 => address.parse::<std::net::Ipv6Addr>().map(IpAddr::V6),
        }
        .map_err(|_| {
            let kind = match cols.family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            };
            self.invalid(
                "address",
                format!("{} is not an {kind} address", shown(&address)),
            )
        })?;
        let valid_lifetime: u32 = self.number(cols.valid_lifetime, "valid_lifetime")?;
        let expire: i64 = self.number(cols.expire, "expire")?;
        let state: u32 = match cols.state {
            Some(i) if !self.raw(i).is_empty() => self.number(i, "state")?,
            _ => 0,
        };
        if cols.family == Family::V6 {
            let lease_type: u32 = match cols.lease_type {
                Some(i) if !self.raw(i).is_empty() => self.number(i, "lease_type")?,
                _ => 0,
            };
            if lease_type == 2 {
                return Ok(RowOutcome::Skip);
            }
        }
        // 0: default (active), 1: declined, 2: expired-reclaimed; 3 (v6 registered) is in use.
        if valid_lifetime == 0 || state == 1 || state == 2 {
            return Ok(RowOutcome::Gone(ip));
        }

        let mut obs = Observation::at_line(self.line);
        obs.ip = Some(ip.to_string());
        if let Some(i) = cols.hwaddr {
            obs.mac = self.mac(i)?;
        }
        // A v6 file's client identity is its DUID (an attribute below), not option 61.
        if let Some(i) = cols.client_id.filter(|_| cols.family == Family::V4) {
            obs.client_id = self.hex(i, "client_id")?;
        }
        if let Some(i) = cols.hostname {
            let host = unescape(&self.text(i, "hostname")?);
            let host = host.trim().trim_end_matches('.');
            if !host.is_empty() {
                obs.hostname = Some(host.to_owned());
            }
        }
        if valid_lifetime != INFINITE_LIFETIME {
            obs.seen_at = expire.checked_sub(i64::from(valid_lifetime));
            if let Some(when) = rfc3339_utc(expire) {
                obs.attributes.insert("dhcp.expire".to_owned(), when);
            }
        }
        let subnet_id: u32 = self.number(cols.subnet_id, "subnet_id")?;
        obs.attributes
            .insert("dhcp.subnet_id".to_owned(), subnet_id.to_string());
        if cols.family == Family::V6 {
            if let Some(duid) = cols
                .duid
                .map(|i| self.hex(i, "duid"))
                .transpose()?
                .flatten()
            {
                obs.attributes.insert("dhcp.duid".to_owned(), duid);
            }
            if let Some(i) = cols.iaid.filter(|&i| !self.raw(i).is_empty()) {
                let iaid: u32 = self.number(i, "iaid")?;
                obs.attributes
                    .insert("dhcp.iaid".to_owned(), iaid.to_string());
            }
        }
        Ok(RowOutcome::Leased(ip, Box::new(obs)))
    }

    /// `hwaddr`: empty gives none; colon-hex of another length than 6 (InfiniBand, a missing
    /// address written as `00`) gives none; anything else must be a MAC address.
    fn mac(&self, index: usize) -> Result<Option<String>, IngestError> {
        let text = self.text(index, "hwaddr")?;
        if text.is_empty() {
            return Ok(None);
        }
        if let Some(mac) = normalize_mac(&text) {
            return Ok(Some(mac));
        }
        if colon_hex(&text).is_some() {
            return Ok(None);
        }
        Err(self.invalid("hwaddr", format!("{} is not a MAC address", shown(&text))))
    }

    /// Colon-separated hex (`01:00:11:22:33:44:55`) as lower-case hex without separators; empty
    /// gives none.
    fn hex(&self, index: usize, field: &str) -> Result<Option<String>, IngestError> {
        let text = self.text(index, field)?;
        if text.is_empty() {
            return Ok(None);
        }
        colon_hex(&text).map(|b| Some(to_hex(&b))).ok_or_else(|| {
            self.invalid(
                field,
                format!("{} is not colon-separated hex", shown(&text)),
            )
        })
    }
}

/// Kea's escape: `&#x` + two hex digits is one byte. Kea writes the separator `,` as `&#x2c`,
/// and since 2.x also `&`, control characters and every byte outside printable ASCII (so a UTF-8
/// host name arrives as a run of escaped bytes). `&#x` not followed by two hex digits is kept as
/// it is, as Kea does.
fn unescape(text: &str) -> String {
    if !text.contains("&#x") {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'&' && bytes.get(i + 1..i + 3) == Some(b"#x".as_slice()) {
            let value = bytes
                .get(i + 3..i + 5)
                .and_then(|d| std::str::from_utf8(d).ok())
                .filter(|d| d.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|d| u8::from_str_radix(d, 16).ok());
            if let Some(value) = value {
                out.push(value);
                i += 5;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A record's values joined by commas again, for messages.
fn joined(record: &csv::ByteRecord) -> String {
    let parts: Vec<std::borrow::Cow<'_, str>> =
        record.iter().map(String::from_utf8_lossy).collect();
    parts.join(",")
}

/// Without surrounding spaces, nor a UTF-8 byte order mark (a file saved again by an editor).
fn trim(bytes: &[u8]) -> &[u8] {
    let bytes = bytes.trim_ascii();
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

pub(crate) fn shown(value: &str) -> String {
    let mut s: String = value.chars().take(80).collect();
    if s.len() < value.len() {
        s.push('…');
    }
    format!("{s:?}")
}

/// `1:a2:ff` → bytes; each part one or two hex digits, at least one part.
pub(crate) fn colon_hex(text: &str) -> Option<Vec<u8>> {
    text.split(':')
        .map(|p| {
            if p.is_empty() || p.len() > 2 {
                None
            } else {
                u8::from_str_radix(p, 16).ok()
            }
        })
        .collect()
}

/// Unix seconds as RFC 3339 UTC (`2024-11-25T08:00:00Z`), for years 1970 to 9999.
pub(crate) fn rfc3339_utc(secs: i64) -> Option<String> {
    if !(0..=253_402_300_799).contains(&secs) {
        return None;
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// A [`Read`] that counts lines and fails once a single line is longer than
/// [`MAX_EVENT_BYTES`], so that the CSV reader never buffers an unbounded record.
struct LineCap<R> {
    inner: R,
    line: u64,
    since_newline: usize,
    /// The line that went over the limit.
    overflow: Option<u64>,
}

impl<R> LineCap<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            line: 1,
            since_newline: 0,
            overflow: None,
        }
    }
}

impl<R: Read> Read for LineCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.overflow.is_some() {
            return Err(io::Error::other("line longer than the limit"));
        }
        let n = self.inner.read(buf)?;
        for &b in buf.get(..n).unwrap_or_default() {
            match b {
                b'\n' => {
                    self.line += 1;
                    self.since_newline = 0;
                }
                b'\r' => self.since_newline = 0,
                _ => {
                    self.since_newline += 1;
                    if self.since_newline > MAX_EVENT_BYTES {
                        self.overflow = Some(self.line);
                        return Err(io::Error::other("line longer than the limit"));
                    }
                }
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Ingested {
        parse_kea_leases("kea-leases4.csv", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: impl AsRef<[u8]>) -> IngestError {
        match parse_kea_leases("kea-leases4.csv", text.as_ref()) {
            Ok(i) => panic!("accepted: {i:?}"),
            Err(e) => e,
        }
    }

    fn ips(i: &Ingested) -> Vec<&str> {
        i.observations
            .iter()
            .filter_map(|o| o.ip.as_deref())
            .collect()
    }

    const V4: &str = "\
address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id
192.168.10.101,00:1b:a9:0a:0b:0c,01:00:1b:a9:0a:0b:0c,86400,1732608000,1,0,0,uketsuke-pc.clinic.lan.,0,,0
192.168.10.102,3c:22:fb:12:34:56,,86400,1732608100,1,0,0,,0,,0
192.168.10.103,00:11:32:aa:bb:cc,,3600,1732524000,1,0,0,nas,2,,0
192.168.10.104,f0:9f:c2:00:00:01,ff:56:3a:1c:9e:00:01:00:01:2c:d4:5e:10:f0:9f:c2:00:00:01,86400,1732610000,1,1,1,Dr&#x2c Sato's iPad,0,{ \"comment\": \"a&#x2c b\" },0
192.168.10.101,00:1b:a9:0a:0b:0c,01:00:1b:a9:0a:0b:0c,86400,1732694400,1,0,0,uketsuke-pc.clinic.lan.,0,,0
192.168.10.105,00:00:00:00:00:00,,86400,1732610000,1,0,0,,1,,0
192.168.10.106,08:00:27:00:00:06,,86400,1732610000,1,0,0,old,0,,0
192.168.10.106,08:00:27:00:00:06,,0,1732610100,1,0,0,old,0,,0
";

    #[test]
    fn v4_last_row_wins_and_gone_leases_are_dropped() {
        let i = ok(V4);
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(i.taken_at, None);
        // .103 reclaimed (state 2), .105 declined (state 1), .106 deleted (valid_lifetime 0);
        // .101 comes last because its last row is on line 6.
        assert_eq!(
            ips(&i),
            ["192.168.10.102", "192.168.10.104", "192.168.10.101"]
        );
        let pc = &i.observations[2];
        assert_eq!(pc.line, 6);
        assert_eq!(pc.mac.as_deref(), Some("00:1b:a9:0a:0b:0c"));
        assert_eq!(pc.client_id.as_deref(), Some("01001ba90a0b0c"));
        assert_eq!(pc.hostname.as_deref(), Some("uketsuke-pc.clinic.lan"));
        assert_eq!(pc.seen_at, Some(1_732_694_400 - 86_400));
        assert_eq!(
            pc.attributes.get("dhcp.expire").map(String::as_str),
            Some("2024-11-27T08:00:00Z")
        );
        assert_eq!(
            pc.attributes.get("dhcp.subnet_id").map(String::as_str),
            Some("1")
        );
        let phone = &i.observations[0];
        assert_eq!(
            (phone.hostname.as_deref(), phone.client_id.as_deref()),
            (None, None)
        );
        let ipad = &i.observations[1];
        assert_eq!(ipad.hostname.as_deref(), Some("Dr, Sato's iPad"));
        assert_eq!(
            ipad.client_id.as_deref(),
            Some("ff563a1c9e000100012cd45e10f09fc2000001")
        );
    }

    #[test]
    fn a_lease_reclaimed_then_renewed_is_kept() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n\
                    10.0.0.5,00:11:22:33:44:55,,3600,1000,1,0,0,a,0,\n\
                    10.0.0.5,00:11:22:33:44:55,,3600,2000,1,0,0,a,2,\n\
                    10.0.0.5,00:11:22:33:44:66,,3600,9000,1,0,0,b,0,\n";
        let i = ok(text);
        assert_eq!(i.observations.len(), 1);
        let o = &i.observations[0];
        assert_eq!(
            (o.line, o.mac.as_deref(), o.hostname.as_deref()),
            (4, Some("00:11:22:33:44:66"), Some("b"))
        );
        assert_eq!(o.seen_at, Some(5400));
    }

    #[test]
    fn v6_columns_are_read_by_name() {
        let text = "\
address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source,pool_id
2001:db8:1::100,00:01:00:01:2c:d4:5e:10:08:00:27:aa:bb:cc,4000,1732528000,1,3000,0,123456,128,0,0,reception-pc.clinic.lan.,08:00:27:aa:bb:cc,0,,1,4,0
2001:db8:1::101,00:03:00:01:3c:22:fb:12:34:56,4000,1732528000,1,3000,0,7,128,0,0,,,0,,,,0
2001:db8:100::,00:03:00:01:3c:22:fb:12:34:56,4000,1732528000,1,3000,2,8,56,0,0,,,0,,,,0
2001:db8:1::102,00,0,1732528000,1,0,0,9,128,0,0,,,1,,,,0
";
        let i = parse_kea_leases("kea-leases6.csv", text.as_bytes()).unwrap();
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(ips(&i), ["2001:db8:1::100", "2001:db8:1::101"]);
        let a = &i.observations[0];
        assert_eq!(a.mac.as_deref(), Some("08:00:27:aa:bb:cc"));
        assert_eq!(a.hostname.as_deref(), Some("reception-pc.clinic.lan"));
        assert_eq!(a.client_id, None);
        assert_eq!(
            a.attributes.get("dhcp.duid").map(String::as_str),
            Some("000100012cd45e10080027aabbcc")
        );
        assert_eq!(
            a.attributes.get("dhcp.iaid").map(String::as_str),
            Some("123456")
        );
        assert_eq!(a.seen_at, Some(1_732_524_000));
        assert_eq!(i.observations[1].mac, None);
    }

    #[test]
    fn older_and_reordered_headers_work() {
        // Kea 1.0: no `state`, no `user_context`; columns in another order.
        let text = "hostname,address,expire,valid_lifetime,subnet_id,hwaddr,client_id\n\
                    printer,10.0.0.9,5000,1000,2,00-1B-A9-0A-0B-0C,\n";
        let i = ok(text);
        let o = &i.observations[0];
        assert_eq!(
            (
                o.ip.as_deref(),
                o.mac.as_deref(),
                o.hostname.as_deref(),
                o.seen_at
            ),
            (
                Some("10.0.0.9"),
                Some("00:1b:a9:0a:0b:0c"),
                Some("printer"),
                Some(4000)
            )
        );
        assert_eq!(
            o.attributes.get("dhcp.subnet_id").map(String::as_str),
            Some("2")
        );
    }

    #[test]
    fn header_repeated_further_down_starts_a_new_column_map() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state\n\
                    10.0.0.1,00:11:22:33:44:01,,100,1000,1,0,0,a,0\n\
                    address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n\
                    10.0.0.2,00:11:22:33:44:02,,100,1000,1,0,0,b,0,,0\n";
        let i = ok(text);
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(ips(&i), ["10.0.0.1", "10.0.0.2"]);
        let bom = ok("\u{feff}address,hwaddr,valid_lifetime,expire,subnet_id\n10.0.0.1,,1,1,1\n");
        assert_eq!(ips(&bom), ["10.0.0.1"]);
    }

    #[test]
    fn a_value_that_reads_like_a_column_name_is_data() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,hostname,state\n\
                    10.0.0.1,00:11:22:33:44:01,,100,1000,1,address,0\n\
                    10.0.0.2,00:11:22:33:44:02,,100,1000,1,hwaddr,0\n";
        let i = ok(text);
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(i.observations[0].hostname.as_deref(), Some("address"));
    }

    #[test]
    fn infinite_lifetime_has_no_expiry() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,hostname,state\n\
                    10.0.0.1,00:11:22:33:44:01,,4294967295,4294967295,1,,0\n";
        let i = ok(text);
        let o = &i.observations[0];
        assert_eq!(o.seen_at, None);
        assert!(!o.attributes.contains_key("dhcp.expire"));
    }

    #[test]
    fn bad_rows_are_rejected_with_line_and_column() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n\
                    10.0.0.1,00:11:22:33:44:01,,100,1000,1,0,0,a,0,\n\
                    10.0.0.300,00:11:22:33:44:02,,100,1000,1,0,0,b,0,\n\
                    10.0.0.3,00:11:22:zz:44:03,,100,1000,1,0,0,c,0,\n\
                    10.0.0.4,00:11:22:33:44:04,,soon,1000,1,0,0,d,0,\n\
                    10.0.0.5,00:11:22:33:44:05,,100,1000,1,0,0,e,0\n\
                    10.0.0.6,00:11:22:33:44:06,0g,100,1000,1,0,0,f,0,\n\
                    10.0.0.7,00:11:22:33:44:07,,100,1000,1,0,0,g,0,\n";
        let i = ok(text);
        assert_eq!(ips(&i), ["10.0.0.1", "10.0.0.7"]);
        let got: Vec<(u64, &str)> = i.rejected.iter().map(|e| (e.line(), e.field())).collect();
        assert_eq!(
            got,
            [
                (3, "address"),
                (4, "hwaddr"),
                (5, "valid_lifetime"),
                (6, "row"),
                (7, "client_id")
            ]
        );
        assert_eq!(
            i.rejected[1].to_string(),
            "kea-leases4.csv:4: hwaddr: \"00:11:22:zz:44:03\" is not a MAC address"
        );
        assert!(i.rejected.iter().all(|e| e.file() == "kea-leases4.csv"));
    }

    #[test]
    fn a_bad_later_row_does_not_hide_the_earlier_lease() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,hostname,state\n\
                    10.0.0.1,00:11:22:33:44:01,,100,1000,1,a,0\n\
                    10.0.0.1,garbage,,100,2000,1,a,0\n";
        let i = ok(text);
        assert_eq!(i.observations.len(), 1);
        assert_eq!(i.observations[0].line, 2);
        assert_eq!((i.rejected[0].line(), i.rejected[0].field()), (3, "hwaddr"));
    }

    #[test]
    fn garbage_and_bad_headers_are_errors() {
        let e = err("hello world\nthis is not,a lease file\n");
        assert_eq!(
            (e.file(), e.line(), e.field()),
            ("kea-leases4.csv", 1, "header")
        );
        assert!(e.to_string().contains("not a Kea lease file"), "{e}");
        let e = err("address,hwaddr,client_id,expire,subnet_id\n10.0.0.1,,,1,1\n");
        assert_eq!((e.line(), e.field()), (1, "header"));
        assert!(e.to_string().contains("`valid_lifetime`"), "{e}");
        let e = err("address,client_id,valid_lifetime,expire,subnet_id\n");
        assert!(e.to_string().contains("neither a `hwaddr`"), "{e}");
        let e = err("\u{0}\u{1}\u{2}binary\n");
        assert_eq!(e.line(), 1);
        // A v6 address in a v4 file is a bad row, not a v4 lease.
        let i = ok("address,hwaddr,valid_lifetime,expire,subnet_id\n2001:db8::1,,1,1,1\n");
        assert_eq!(i.rejected[0].field(), "address");
        // An empty file has no leases.
        assert!(ok("").observations.is_empty());
    }

    #[test]
    fn limits_are_errors() {
        let long = format!(
            "address,hwaddr,valid_lifetime,expire,subnet_id,hostname\n10.0.0.1,,1,1,1,{}\n",
            "x".repeat(MAX_EVENT_BYTES + 1)
        );
        let e = err(long);
        assert!(
            e.is_refusal() && e.line() == 2 && e.field() == "line",
            "{e}"
        );
        let value = format!(
            "address,hwaddr,valid_lifetime,expire,subnet_id,hostname\n10.0.0.1,,1,1,1,{}\n",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        let i = ok(&value);
        assert!(i.rejected[0].is_refusal() && i.rejected[0].field() == "hostname");
        let text = "address,hwaddr,valid_lifetime,expire,subnet_id\n\
                    10.0.0.1,,1,1,1\n10.0.0.2,,1,1,1\n10.0.0.1,,1,1,1\n10.0.0.3,,1,1,1\n";
        assert_eq!(
            parse("x", text.as_bytes(), 3).unwrap().observations.len(),
            3
        );
        let e = parse("x", text.as_bytes(), 2).unwrap_err();
        assert!(e.is_refusal() && e.line() == 5, "{e}");
        let many = format!(
            "address,hwaddr,valid_lifetime,expire,subnet_id\n{}",
            "bad,,1,1,1\n".repeat(MAX_REJECTED + 1)
        );
        let e = err(many);
        assert!(
            e.is_refusal() && e.to_string().contains("unreadable rows"),
            "{e}"
        );
    }

    #[test]
    fn unescape_and_dates() {
        assert_eq!(unescape("a&#x2c;b&#x2cc"), "a,;b,c");
        assert_eq!(unescape("&#x26&#x2c&#xe8&#xa8&#xba"), "&,診");
        assert_eq!(unescape("a&#x2"), "a&#x2");
        assert_eq!(unescape("&#xzz;"), "&#xzz;");
        assert_eq!(unescape("&#x+f"), "&#x+f");
        assert_eq!(rfc3339_utc(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339_utc(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            rfc3339_utc(253_402_300_799).as_deref(),
            Some("9999-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339_utc(-1), None);
        assert_eq!(rfc3339_utc(i64::MAX), None);
    }
}
