//! dnsmasq lease files (`dnsmasq.leases`, `/var/lib/misc/dnsmasq.leases`; OpenWrt
//! `/tmp/dhcp.leases`).
//!
//! dnsmasq rewrites the whole file on every change, one lease a line, fields separated by
//! spaces:
//! - DHCPv4: `EXPIRY MAC IP HOSTNAME CLIENT-ID`, e.g.
//!   `1732521600 00:11:22:33:44:55 192.168.1.20 reception-pc 01:00:11:22:33:44:55`. `EXPIRY` is
//!   Unix seconds, `0` for an infinite lease; `HOSTNAME` and `CLIENT-ID` are `*` when unknown.
//!   A hardware address of another type than Ethernet is written with its ARP type in front
//!   (`20-…` for InfiniBand): such a lease gives no MAC.
//! - `duid SERVER-DUID`: the server's own DUID, written once before the DHCPv6 leases.
//! - DHCPv6: `EXPIRY IAID IPV6 HOSTNAME CLIENT-DUID`, with `T` in front of the IAID for a
//!   temporary address (IA_TA). There is no MAC.
//!
//! Each lease gives one [`Observation`]: `ip`, `mac` (v4), `hostname`, `client_id` (v4, lower-case
//! hex without separators), and attributes `dhcp.expire` (RFC 3339 UTC, absent for an infinite
//! lease), and for v6 `dhcp.duid` (the client's), `dhcp.iaid`, `dhcp.ia_type` (`ta` for a
//! temporary address) and `dhcp.server_duid` when the file gives one.
//!
//! The file must start (after blank lines) with a lease line or the `duid` line, else it is not a
//! dnsmasq lease file and the whole file is an error naming that line. After that, a line that
//! cannot be read lands in [`Ingested::rejected`] with its line and field, and the rest of the
//! file is still read. A line longer than [`MAX_EVENT_BYTES`] and more than [`MAX_LEASES`] leases
//! are refused.

use std::io::{self, BufRead};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamori_model::Observation;

use crate::kea::{colon_hex, rfc3339_utc, shown};
use crate::{
    IngestError, Ingested, MAX_EVENT_BYTES, MAX_LEASES, MAX_VALUE_BYTES, normalize_mac, to_hex,
};

/// Most unreadable lines listed before the file is given up on as the wrong kind of file.
const MAX_REJECTED: usize = 10_000;

/// Reads a dnsmasq lease file. Returns the leases in file order. `name` is used in error
/// messages.
pub fn parse_dnsmasq_leases(name: &str, reader: impl BufRead) -> Result<Ingested, IngestError> {
    parse(name, reader, MAX_LEASES)
}

fn parse(name: &str, mut reader: impl BufRead, max_leases: usize) -> Result<Ingested, IngestError> {
    let mut out = Ingested::default();
    let mut server_duid: Option<String> = None;
    let mut recognised = false;
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        line += 1;
        if !read_line(name, line, &mut reader, &mut buf)? {
            break;
        }
        let text = String::from_utf8_lossy(&buf);
        let fields: Vec<&str> = text.split_ascii_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        let lease = Line {
            file: name,
            line,
            fields: &fields,
        };
        if !recognised {
            if !lease.has_shape() {
                return Err(lease.invalid(
                    "line",
                    format!(
                        "not a dnsmasq lease file: expected `EXPIRY MAC IP HOSTNAME CLIENT-ID` or \
                         `duid DUID` (found {})",
                        shown(&text)
                    ),
                ));
            }
            recognised = true;
        }
        let result = if fields.first() == Some(&"duid") {
            lease.server_duid().map(|duid| {
                server_duid = duid;
                None
            })
        } else {
            lease.lease(server_duid.as_deref()).map(Some)
        };
        match result {
            Ok(Some(obs)) => {
                if out.observations.len() >= max_leases {
                    return Err(IngestError::Refused {
                        file: name.to_owned(),
                        line,
                        field: "line".to_owned(),
                        reason: format!("more than {max_leases} leases in one file"),
                    });
                }
                out.observations.push(obs);
            }
            Ok(None) => {}
            Err(e) => {
                if out.rejected.len() >= MAX_REJECTED {
                    return Err(IngestError::Refused {
                        file: name.to_owned(),
                        line,
                        field: "line".to_owned(),
                        reason: format!(
                            "more than {MAX_REJECTED} unreadable lines: is this a dnsmasq lease file?"
                        ),
                    });
                }
                out.rejected.push(e);
            }
        }
    }
    Ok(out)
}

/// Reads one line into `buf` (without its line ending); false at the end of the file. A line
/// longer than [`MAX_EVENT_BYTES`] is refused before it is buffered whole.
fn read_line(
    name: &str,
    line: u64,
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
) -> Result<bool, IngestError> {
    buf.clear();
    let mut read_any = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(IngestError::Io {
                    file: name.to_owned(),
                    line,
                    source,
                });
            }
        };
        if available.is_empty() {
            break;
        }
        read_any = true;
        let (part, used, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (available.get(..i).unwrap_or_default(), i + 1, true),
            None => (available, available.len(), false),
        };
        if buf.len() + part.len() > MAX_EVENT_BYTES {
            return Err(IngestError::Refused {
                file: name.to_owned(),
                line,
                field: "line".to_owned(),
                reason: format!("a line longer than {MAX_EVENT_BYTES} bytes"),
            });
        }
        buf.extend_from_slice(part);
        reader.consume(used);
        if done {
            break;
        }
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(read_any)
}

/// One non-blank line, split into fields.
struct Line<'a> {
    file: &'a str,
    line: u64,
    fields: &'a [&'a str],
}

impl Line<'_> {
    fn invalid(&self, field: &str, reason: impl Into<String>) -> IngestError {
        IngestError::Invalid {
            file: self.file.to_owned(),
            line: self.line,
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    fn field(&self, index: usize, name: &str) -> Result<&str, IngestError> {
        let value = self.fields.get(index).copied().unwrap_or_default();
        if value.len() > MAX_VALUE_BYTES {
            return Err(IngestError::Refused {
                file: self.file.to_owned(),
                line: self.line,
                field: name.to_owned(),
                reason: format!("a value longer than {MAX_VALUE_BYTES} bytes"),
            });
        }
        Ok(value)
    }

    /// True when the line looks like dnsmasq wrote it (its values may still be bad).
    fn has_shape(&self) -> bool {
        match self.fields {
            ["duid", _] => true,
            [expiry, _, _, _, _] => {
                !expiry.is_empty() && expiry.bytes().all(|b| b.is_ascii_digit())
            }
            _ => false,
        }
    }

    fn server_duid(&self) -> Result<Option<String>, IngestError> {
        if self.fields.len() != 2 {
            return Err(self.invalid(
                "duid",
                format!("{} values where `duid DUID` has 2", self.fields.len()),
            ));
        }
        self.hex(1, "duid")
    }

    fn lease(&self, server_duid: Option<&str>) -> Result<Observation, IngestError> {
        if self.fields.len() != 5 {
            return Err(self.invalid(
                "line",
                format!(
                    "{} values where a lease line has 5 (EXPIRY MAC-or-IAID IP HOSTNAME CLIENT-ID)",
                    self.fields.len()
                ),
            ));
        }
        let expiry_text = self.field(0, "expiry")?;
        let expiry: i64 = expiry_text
            .parse()
            .ok()
            .filter(|&e: &i64| e >= 0)
            .ok_or_else(|| {
                self.invalid(
                    "expiry",
                    format!("{} is not a time in Unix seconds", shown(expiry_text)),
                )
            })?;
        let address = self.field(2, "ip")?;
        let v6 = address.contains(':');
        let ip = if v6 {
            address.parse::<Ipv6Addr>().map(IpAddr::V6)
        } else {
            address.parse::<Ipv4Addr>().map(IpAddr::V4)
        }
        .map_err(|_| self.invalid("ip", format!("{} is not an IP address", shown(address))))?;

        let mut obs = Observation::at_line(self.line);
        obs.ip = Some(ip.to_string());
        let hostname = self.field(3, "hostname")?.trim_end_matches('.');
        if hostname != "*" && !hostname.is_empty() {
            obs.hostname = Some(hostname.to_owned());
        }
        // 0: an infinite lease, no expiry.
        if let Some(when) = Some(expiry).filter(|&e| e != 0).and_then(rfc3339_utc) {
            obs.attributes.insert("dhcp.expire".to_owned(), when);
        }
        if v6 {
            let iaid_text = self.field(1, "iaid")?;
            let (temporary, digits) = match iaid_text.strip_prefix('T') {
                Some(rest) => (true, rest),
                None => (false, iaid_text),
            };
            let iaid: u32 = digits.parse().map_err(|_| {
                self.invalid("iaid", format!("{} is not an IAID", shown(iaid_text)))
            })?;
            obs.attributes
                .insert("dhcp.iaid".to_owned(), iaid.to_string());
            if temporary {
                obs.attributes
                    .insert("dhcp.ia_type".to_owned(), "ta".to_owned());
            }
            if let Some(duid) = self.hex(4, "client-duid")? {
                obs.attributes.insert("dhcp.duid".to_owned(), duid);
            }
            if let Some(server) = server_duid {
                obs.attributes
                    .insert("dhcp.server_duid".to_owned(), server.to_owned());
            }
        } else {
            obs.mac = self.mac()?;
            obs.client_id = self.hex(4, "client-id")?;
        }
        Ok(obs)
    }

    /// The hardware address: a plain MAC, or `TT-` + colon hex for another ARP hardware type
    /// (which gives no MAC unless the type is 1, Ethernet).
    fn mac(&self) -> Result<Option<String>, IngestError> {
        let text = self.field(1, "mac")?;
        let bad = || self.invalid("mac", format!("{} is not a MAC address", shown(text)));
        if let Some(mac) = normalize_mac(text) {
            return Ok(Some(mac));
        }
        let Some((hw_type, rest)) = text.split_once('-') else {
            return Err(bad());
        };
        let hw_type = u8::from_str_radix(hw_type, 16).map_err(|_| bad())?;
        if rest.is_empty() {
            return Ok(None);
        }
        let bytes = colon_hex(rest).ok_or_else(bad)?;
        if hw_type == 1 && bytes.len() == 6 {
            return Ok(normalize_mac(rest));
        }
        Ok(None)
    }

    /// Colon-separated hex as lower-case hex without separators; `*` gives none.
    fn hex(&self, index: usize, name: &str) -> Result<Option<String>, IngestError> {
        let text = self.field(index, name)?;
        if text == "*" {
            return Ok(None);
        }
        colon_hex(text).map(|b| Some(to_hex(&b))).ok_or_else(|| {
            self.invalid(name, format!("{} is not colon-separated hex", shown(text)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Ingested {
        parse_dnsmasq_leases("dnsmasq.leases", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(text: impl AsRef<[u8]>) -> IngestError {
        match parse_dnsmasq_leases("dnsmasq.leases", text.as_ref()) {
            Ok(i) => panic!("accepted: {i:?}"),
            Err(e) => e,
        }
    }

    fn attr<'a>(o: &'a Observation, key: &str) -> Option<&'a str> {
        o.attributes.get(key).map(String::as_str)
    }

    const LEASES: &str = "\
1732521600 00:11:22:33:44:55 192.168.1.20 reception-pc 01:00:11:22:33:44:55
1732525200 3c:22:fb:12:34:56 192.168.1.21 * *
0 00:1b:a9:0a:0b:0c 192.168.1.5 printer-2f ff:a9:0a:0b:0c:00:01:00:01:2c:d4:5e:10:00:1b:a9:0a:0b:0c
1732528800 20-80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0a:0b:0c 192.168.1.40 ib-host *
duid 00:01:00:01:2c:d4:5e:10:52:54:00:12:34:56
1732521600 305419896 2001:db8:1::20 reception-pc 00:01:00:01:2c:d4:5e:10:00:11:22:33:44:55
1732521600 T7 2001:db8:1::99 * 00:04:a1:b2:c3:d4:e5:f6:a7:b8:c9:d0:e1:f2:a3:b4:c5:d6
";

    #[test]
    fn v4_and_v6_leases() {
        let i = ok(LEASES);
        assert!(i.rejected.is_empty(), "{:?}", i.rejected);
        assert_eq!(i.taken_at, None);
        type Row<'a> = (u64, Option<&'a str>, Option<&'a str>, Option<&'a str>);
        let got: Vec<Row<'_>> = i
            .observations
            .iter()
            .map(|o| {
                (
                    o.line,
                    o.ip.as_deref(),
                    o.mac.as_deref(),
                    o.hostname.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    Some("192.168.1.20"),
                    Some("00:11:22:33:44:55"),
                    Some("reception-pc")
                ),
                (2, Some("192.168.1.21"), Some("3c:22:fb:12:34:56"), None),
                (
                    3,
                    Some("192.168.1.5"),
                    Some("00:1b:a9:0a:0b:0c"),
                    Some("printer-2f")
                ),
                (4, Some("192.168.1.40"), None, Some("ib-host")),
                (6, Some("2001:db8:1::20"), None, Some("reception-pc")),
                (7, Some("2001:db8:1::99"), None, None),
            ]
        );
        let [pc, phone, printer, _, pc6, tmp6] = &i.observations[..] else {
            panic!("{:?}", i.observations);
        };
        assert_eq!(pc.client_id.as_deref(), Some("01001122334455"));
        assert_eq!(attr(pc, "dhcp.expire"), Some("2024-11-25T08:00:00Z"));
        assert_eq!(phone.client_id, None);
        assert_eq!(attr(printer, "dhcp.expire"), None, "0 is an infinite lease");
        assert_eq!(
            printer.client_id.as_deref(),
            Some("ffa90a0b0c000100012cd45e10001ba90a0b0c")
        );
        assert_eq!(pc6.client_id, None);
        assert_eq!(attr(pc6, "dhcp.iaid"), Some("305419896"));
        assert_eq!(attr(pc6, "dhcp.duid"), Some("000100012cd45e10001122334455"));
        assert_eq!(
            attr(pc6, "dhcp.server_duid"),
            Some("000100012cd45e10525400123456")
        );
        assert_eq!(attr(pc6, "dhcp.ia_type"), None);
        assert_eq!(attr(tmp6, "dhcp.iaid"), Some("7"));
        assert_eq!(attr(tmp6, "dhcp.ia_type"), Some("ta"));
        assert!(pc.attributes.keys().all(|k| k == "dhcp.expire"));
    }

    #[test]
    fn crlf_blank_lines_and_empty_files() {
        let i = ok("\r\n1732521600 00:11:22:33:44:55 192.168.1.20 pc *\r\n\r\n");
        assert_eq!(i.observations.len(), 1);
        assert_eq!(i.observations[0].line, 2);
        assert_eq!(i.observations[0].client_id, None);
        assert!(ok("").observations.is_empty());
        assert!(ok("\n\n").observations.is_empty());
        // A file with only the server DUID (no v6 leases yet).
        assert!(
            ok("duid 00:01:00:01:2c:d4:5e:10:52:54:00:12:34:56\n")
                .observations
                .is_empty()
        );
    }

    #[test]
    fn bad_lines_are_rejected_and_the_rest_imported() {
        let text = "\
1732521600 00:11:22:33:44:55 192.168.1.20 pc1 *
1732521600 00:11:22:33:44 192.168.1.21 pc2 *
1732521600 00:11:22:33:44:57 192.168.1.300 pc3 *
soon 00:11:22:33:44:58 192.168.1.23 pc4 *
1732521600 00:11:22:33:44:59 192.168.1.24 pc5
1732521600 00:11:22:33:44:5a 192.168.1.25 pc6 01:zz
1732521600 x7 2001:db8::1 pc7 *
duid nothex
1732521600 00:11:22:33:44:5b 192.168.1.26 pc8 *
";
        let i = ok(text);
        let ips: Vec<&str> = i
            .observations
            .iter()
            .filter_map(|o| o.ip.as_deref())
            .collect();
        assert_eq!(ips, ["192.168.1.20", "192.168.1.26"]);
        let got: Vec<(u64, &str)> = i.rejected.iter().map(|e| (e.line(), e.field())).collect();
        assert_eq!(
            got,
            [
                (2, "mac"),
                (3, "ip"),
                (4, "expiry"),
                (5, "line"),
                (6, "client-id"),
                (7, "iaid"),
                (8, "duid")
            ]
        );
        assert_eq!(
            i.rejected[0].to_string(),
            "dnsmasq.leases:2: mac: \"00:11:22:33:44\" is not a MAC address"
        );
    }

    #[test]
    fn garbage_is_an_error_naming_file_and_line() {
        let e = err("this is not a lease file\n1732521600 00:11:22:33:44:55 192.168.1.20 pc *\n");
        assert_eq!(
            (e.file(), e.line(), e.field()),
            ("dnsmasq.leases", 1, "line")
        );
        assert!(e.to_string().contains("not a dnsmasq lease file"), "{e}");
        let e = err("\n\n<?xml version=\"1.0\"?>\n");
        assert_eq!(e.line(), 3);
        let e = err([0xff, 0xfe, 0x00, 0x31, b'\n']);
        assert_eq!(e.line(), 1);
    }

    #[test]
    fn limits_are_errors() {
        let long = format!(
            "1 00:11:22:33:44:55 10.0.0.1 pc *\n1 00:11:22:33:44:55 10.0.0.2 {} *\n",
            "x".repeat(MAX_EVENT_BYTES)
        );
        let e = err(long);
        assert!(
            e.is_refusal() && e.line() == 2 && e.field() == "line",
            "{e}"
        );
        let value = format!(
            "1 00:11:22:33:44:55 10.0.0.1 {} *\n",
            "x".repeat(MAX_VALUE_BYTES + 1)
        );
        let i = ok(&value);
        assert!(i.rejected[0].is_refusal() && i.rejected[0].field() == "hostname");
        let text = "1 00:11:22:33:44:55 10.0.0.1 a *\n1 00:11:22:33:44:55 10.0.0.2 b *\n";
        assert_eq!(
            parse("x", text.as_bytes(), 2).unwrap().observations.len(),
            2
        );
        let e = parse("x", text.as_bytes(), 1).unwrap_err();
        assert!(e.is_refusal() && e.line() == 2, "{e}");
        let many = format!(
            "1 00:11:22:33:44:55 10.0.0.1 a *\n{}",
            "1 bad 10.0.0.2 b *\n".repeat(MAX_REJECTED + 1)
        );
        let e = err(many);
        assert!(
            e.is_refusal() && e.to_string().contains("unreadable lines"),
            "{e}"
        );
    }
}
