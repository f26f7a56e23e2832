//! From parsed discovery data (nmap scans, ISC DHCP leases) to [`Observation`]s.
//!
//! The parsers in [`crate::nmap`] and [`crate::leases`] return what the file says, in the file's
//! own terms; the functions here decide what of it describes a device and map it onto the
//! fields the store reconciles. What has no field of its own is kept in
//! [`Observation::attributes`] under a `nmap.` or `dhcp.` key, as text a person can read.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use mamori_model::{Observation, Software};

use crate::leases::{Lease, LeaseKind, latest_per_address};
use crate::nmap::{NmapHost, NmapPort, NmapScan, OsClass};
use crate::{IngestError, Ingested, MAX_VALUE_BYTES, oui};

/// Least OS-detection accuracy (percent) for nmap's guess to fill [`Observation::os`] and
/// [`Observation::vendor`]. Weaker guesses are kept only in the `nmap.os_guess` attribute.
pub const MIN_OS_ACCURACY: u8 = 90;

/// Binding states of a lease that names no client: `abandoned` (the server found the address in
/// use by someone unknown) and `backup` (a free lease held by the failover secondary). Skipped.
const NO_CLIENT_STATES: &[&str] = &["abandoned", "backup"];

/// Binding states of a lease a past client left: `free`, `expired`, `released`, `reset` (freed
/// through OMAPI). The client was on the network, so its MAC and host name are kept, but the
/// address is no longer its own: it is recorded as `dhcp.past_ip`, not as the device's address.
const PAST_CLIENT_STATES: &[&str] = &["free", "expired", "released", "reset"];

/// One observation per host that is up (not per `<hosthint>`, which only announces a host).
///
/// For each host:
/// - `ip`: the IPv4 address, else the IPv6 one; `mac` as nmap saw it (only on its own segment);
///   `mac_vendor`: nmap's vendor name, else the IEEE registry's ([`oui::vendor_of`]);
/// - `hostname`: the first name of type `user` (given on nmap's command line), else the first
///   `PTR`, else the first name at all;
/// - OS detection: the best guess is the first `<osmatch>` with the highest accuracy (nmap ≥ 6),
///   or for nmap ≤ 5 the best `<osclass>` directly under `<os>` (named by vendor, family and
///   generation), written to `nmap.os_guess` as `Linux 2.6.32 (96%)`. When its accuracy is at
///   least [`MIN_OS_ACCURACY`] it also fills `os` (not for a class of the `embedded` family,
///   which names no operating system).
///   `vendor` is filled from the best OS class's vendor, with the same threshold, only for
///   classes that describe a device rather than a general-purpose OS (class type not `general
///   purpose`, vendor not the OS family itself): nmap's `Microsoft`/`Windows` names who wrote
///   the OS, not who made the PC, and `Linux`/`Linux` names no maker at all, while `HP`
///   `printer` or `Netgear` `WAP` does name the device's maker. The class's vendor is always
///   kept in `nmap.os_vendor`.
/// - `nmap.open_ports`: the open ports sorted by number then protocol, as
///   `22/tcp ssh OpenSSH 5.3, 80/tcp http` (at most [`MAX_VALUE_BYTES`], then `… (N more)`);
/// - `nmap.device_type`: the best OS class's type (`WAP`, `printer` …) followed by the other
///   device types version detection reported (`router`, `storage-misc` …), deduplicated;
/// - `software`: one entry per distinct product found on an open port (`name` = product,
///   `version`, `cpe` = the service's first `cpe:/a:` CPE exactly as nmap wrote it, a CPE 2.2
///   URI; `cpe:/o:` and `cpe:/h:` CPEs describe the host, not the service);
/// - `seen_at` and [`Ingested::taken_at`]: the scan's start time.
///
/// A host that is up but has no address and no name describes nothing and is skipped.
pub fn nmap_observations(scan: &NmapScan) -> Ingested {
    let observations = scan
        .up_hosts()
        .map(|host| host_observation(host, scan.started))
        .filter(|o| !o.is_empty())
        .collect();
    Ingested {
        observations,
        rejected: Vec::new(),
        taken_at: scan.started,
    }
}

/// Reads an nmap XML file as [`nmap_observations`] describes, handing each observation to
/// `sink` as its `<host>` closes: memory does not grow with the number of hosts.
pub fn stream_nmap_observations(
    name: &str,
    reader: impl std::io::BufRead,
    sink: &mut dyn crate::Sink,
) -> Result<(), IngestError> {
    let mut told = false;
    crate::nmap::stream_nmap(name, reader, &mut |host, started| {
        if !told {
            sink.taken_at(started);
            told = true;
        }
        if !host.is_up() {
            return Ok(());
        }
        let o = host_observation(&host, started);
        if o.is_empty() { Ok(()) } else { sink.observation(o) }
    })
    .map(|scan| {
        if !told {
            sink.taken_at(scan.started);
        }
    })
}

fn host_observation(host: &NmapHost, started: Option<i64>) -> Observation {
    let mut o = Observation::at_line(host.line);
    o.ip = host
        .ipv4
        .map(|a| a.to_string())
        .or_else(|| host.ipv6.map(|a| a.to_string()));
    o.mac.clone_from(&host.mac);
    o.mac_vendor = host
        .mac_vendor
        .clone()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| {
            host.mac
                .as_deref()
                .and_then(oui::vendor_of)
                .map(str::to_owned)
        });
    o.hostname = ["user", "PTR"]
        .iter()
        .find_map(|kind| {
            host.hostnames
                .iter()
                .find(|h| h.kind.as_deref() == Some(kind))
        })
        .or_else(|| host.hostnames.first())
        .map(|h| h.name.clone())
        .filter(|n| !n.is_empty());
    o.seen_at = started;

    // OS detection.
    let best_class = if let Some(best) = best_match(host) {
        o.attributes.insert(
            "nmap.os_guess".to_owned(),
            format!("{} ({}%)", best.name, best.accuracy),
        );
        if best.accuracy >= MIN_OS_ACCURACY {
            o.os = Some(best.name.clone());
        }
        best_of(&best.classes)
    } else if let Some(class) = best_of(&host.os_classes) {
        // nmap ≤ 5: classes without a match name.
        let guess = class_name(class);
        o.attributes.insert(
            "nmap.os_guess".to_owned(),
            format!("{guess} ({}%)", class.accuracy),
        );
        // `embedded` names no operating system.
        if class.accuracy >= MIN_OS_ACCURACY && !class.family.eq_ignore_ascii_case("embedded") {
            o.os = Some(guess);
        }
        Some(class)
    } else {
        None
    };
    if let Some(class) = best_class {
        if !class.vendor.is_empty() {
            o.attributes
                .insert("nmap.os_vendor".to_owned(), class.vendor.clone());
        }
        let general = class
            .device_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("general purpose"));
        if class.accuracy >= MIN_OS_ACCURACY
            && !general
            && !class.vendor.is_empty()
            && !class.vendor.eq_ignore_ascii_case(&class.family)
        {
            o.vendor = Some(class.vendor.clone());
        }
    }

    // Ports.
    let mut open: Vec<&NmapPort> = host.ports.iter().filter(|p| p.state == "open").collect();
    open.sort_by(|a, b| (a.port, &a.protocol).cmp(&(b.port, &b.protocol)));
    open.dedup_by(|a, b| (a.port, &a.protocol) == (b.port, &b.protocol));
    if !open.is_empty() {
        let parts: Vec<String> = open.iter().map(|p| port_text(p)).collect();
        o.attributes
            .insert("nmap.open_ports".to_owned(), join_capped(&parts));
    }

    let mut device_types: Vec<&str> = Vec::new();
    let class_type = best_class.and_then(|c| c.device_type.as_deref());
    for t in class_type
        .into_iter()
        .chain(open.iter().filter_map(|p| p.device_type.as_deref()))
    {
        if !t.is_empty() && !device_types.contains(&t) {
            device_types.push(t);
        }
    }
    if !device_types.is_empty() {
        o.attributes
            .insert("nmap.device_type".to_owned(), device_types.join(", "));
    }

    let mut seen = BTreeSet::new();
    for p in &open {
        let Some(product) = p.product.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let software = Software {
            name: product.to_owned(),
            vendor: None,
            version: p.version.clone().filter(|v| !v.is_empty()),
            cpe: p.cpes.iter().find(|c| c.starts_with("cpe:/a:")).cloned(),
            purl: None,
        };
        let key = (
            software.name.clone(),
            software.version.clone(),
            software.cpe.clone(),
        );
        if seen.insert(key) {
            o.software.push(software);
        }
    }
    o
}

/// The first `<osmatch>` with the highest accuracy.
fn best_match(host: &NmapHost) -> Option<&crate::nmap::OsMatch> {
    let mut best: Option<&crate::nmap::OsMatch> = None;
    for m in &host.os_matches {
        if best.is_none_or(|b| m.accuracy > b.accuracy) {
            best = Some(m);
        }
    }
    best
}

/// The first class with the highest accuracy.
fn best_of(classes: &[OsClass]) -> Option<&OsClass> {
    let mut best: Option<&OsClass> = None;
    for c in classes {
        if best.is_none_or(|b| c.accuracy > b.accuracy) {
            best = Some(c);
        }
    }
    best
}

/// A readable name for a class without a match: `Linux 2.6.X`, `Netgear embedded`,
/// `Microsoft Windows 7`.
fn class_name(c: &OsClass) -> String {
    let mut words: Vec<&str> = Vec::new();
    for w in [c.vendor.as_str(), c.family.as_str()] {
        if !w.is_empty() && !words.iter().any(|x| x.eq_ignore_ascii_case(w)) {
            words.push(w);
        }
    }
    if let Some(g) = c.generation.as_deref().filter(|g| !g.is_empty()) {
        words.push(g);
    }
    words.join(" ")
}

/// `22/tcp ssh OpenSSH 5.3`.
fn port_text(p: &NmapPort) -> String {
    let mut s = format!("{}/{}", p.port, p.protocol);
    for part in [&p.service, &p.product, &p.version].into_iter().flatten() {
        if !part.is_empty() {
            s.push(' ');
            s.push_str(part);
        }
    }
    s
}

/// Joins with `, ` up to [`MAX_VALUE_BYTES`], then says how many were left out.
fn join_capped(parts: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let sep = if i == 0 { 0 } else { 2 };
        // Room for the tail note too.
        if out.len() + sep + part.len() + 32 > MAX_VALUE_BYTES {
            let rest = parts.len() - i;
            let _ = write!(out, ", … ({rest} more)");
            return out;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(part);
    }
    out
}

/// One observation per lease, after keeping the last block per address
/// ([`latest_per_address`]).
///
/// - Leases in use (`active`, `bootp`, any state dhcpd may add later, no binding state) and
///   static host entries (reservations: the device is expected at that address even when it is
///   switched off) give the device at its address.
/// - Leases a past client left (`free`, `expired`, `released`, `reset`) still show that the
///   device was on the network: they give the device without an address, with the address in
///   `dhcp.past_ip` — but only when the block names a MAC address (otherwise there is nothing to
///   recognise the device by).
/// - Leases that name no client (`abandoned`, `backup`) are skipped.
///
/// Each observation has `ip`, `mac` (with `mac_vendor` from the IEEE registry), `client_id`
/// (the `uid` as hex; for DHCPv6 the IAID followed by the DUID, whose DUID part is also given
/// as `dhcp.duid`), `hostname` (the client's, or the host declaration's name), `seen_at` (the
/// lease's start, else the client's last transaction time), and the attributes
/// `dhcp.binding_state`, `dhcp.ends` (RFC 3339 UTC, absent for infinite leases),
/// `dhcp.vendor_class` and `dhcp.lease` (`v4`, `v6` or `static`). `line` is where the block
/// starts. [`Ingested::taken_at`] stays `None`: a lease file has no single time of writing.
pub fn lease_observations(leases: Vec<Lease>) -> Ingested {
    let observations = latest_per_address(leases)
        .into_iter()
        .filter_map(current_lease_observation)
        .collect();
    Ingested {
        observations,
        rejected: Vec::new(),
        taken_at: None,
    }
}

/// Reads an ISC leases file as [`lease_observations`] describes, in two passes over the input
/// (`open` gives it from the start each time): the first notes which block is the last for each
/// address, the second hands those to `sink`. Memory grows by a few bytes per distinct address
/// only, not with the leases themselves.
pub fn stream_lease_observations<'r>(
    name: &str,
    open: &mut dyn FnMut() -> std::io::Result<Box<dyn std::io::BufRead + 'r>>,
    sink: &mut dyn crate::Sink,
) -> Result<(), IngestError> {
    crate::leases::stream_current_leases(name, open, &mut |l| match current_lease_observation(l) {
        Some(o) => sink.observation(o),
        None => Ok(()),
    })
}

/// The observation of a lease that is the current one for its address, if it names a client.
fn current_lease_observation(l: Lease) -> Option<Observation> {
    let state = l.binding_state.as_deref();
    if l.kind != LeaseKind::Static && state.is_some_and(|s| NO_CLIENT_STATES.contains(&s)) {
        return None;
    }
    let past = l.kind != LeaseKind::Static && state.is_some_and(|s| PAST_CLIENT_STATES.contains(&s));
    if past && l.mac.is_none() {
        return None;
    }
    let mut o = lease_observation(l);
    if past && let Some(ip) = o.ip.take() {
        o.attributes.insert("dhcp.past_ip".to_owned(), ip);
    }
    Some(o)
}

fn lease_observation(l: Lease) -> Observation {
    let mut o = Observation::at_line(l.line);
    o.ip = Some(l.ip.to_string());
    o.mac_vendor = l.mac.as_deref().and_then(oui::vendor_of).map(str::to_owned);
    o.mac = l.mac;
    if l.kind == LeaseKind::V6 {
        // IAID (4 bytes, 8 hex digits) + DUID.
        if let Some(duid) = l
            .uid
            .as_deref()
            .and_then(|u| u.get(8..))
            .filter(|d| !d.is_empty())
        {
            o.attributes.insert("dhcp.duid".to_owned(), duid.to_owned());
        }
    }
    o.client_id = l.uid.filter(|u| !u.is_empty());
    o.hostname = l.hostname.filter(|h| !h.is_empty());
    o.seen_at = l.starts.or(l.cltt);
    if let Some(state) = l.binding_state {
        o.attributes.insert("dhcp.binding_state".to_owned(), state);
    }
    if let Some(ends) = l.ends.and_then(unix_to_rfc3339) {
        o.attributes.insert("dhcp.ends".to_owned(), ends);
    }
    if let Some(vc) = l.vendor_class.filter(|v| !v.is_empty()) {
        o.attributes.insert("dhcp.vendor_class".to_owned(), vc);
    }
    let kind = match l.kind {
        LeaseKind::V4 => "v4",
        LeaseKind::V6 => "v6",
        LeaseKind::Static => "static",
    };
    o.attributes
        .insert("dhcp.lease".to_owned(), kind.to_owned());
    o
}

/// Unix seconds → `2017-10-16T08:09:23Z`. `None` outside years 0000–9999.
pub(crate) fn unix_to_rfc3339(secs: i64) -> Option<String> {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe.checked_add(era.checked_mul(400)?)? + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian), or `None` for a date that does
/// not exist.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days: u32 = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day > month_days {
        return None;
    }
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// An RFC 3339 date-time (`2022-01-09T12:00:00Z`, `2024-05-01T09:30:00.123+09:00`) → Unix
/// seconds (fractions dropped). `t`/`z` in lower case and a space instead of `T` are accepted;
/// so is a missing offset, read as UTC.
pub(crate) fn rfc3339_to_unix(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = s.get(from..from + len)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let sep = |at: usize, allowed: &[u8]| s.get(at).is_some_and(|b| allowed.contains(b));
    let year = num(0, 4)?;
    let month = u32::try_from(num(5, 2)?).ok()?;
    let day = u32::try_from(num(8, 2)?).ok()?;
    if !sep(4, b"-") || !sep(7, b"-") || !sep(10, b"Tt ") || !sep(13, b":") || !sep(16, b":") {
        return None;
    }
    let (hh, mm, ss) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut i = 19;
    if sep(i, b".,") {
        i += 1;
        let start = i;
        while s.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match s.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == s.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == s.len() && sep(i + 3, b":") => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let minutes = oh * 60 + om;
            if sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss.min(59) - offset * 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nmap::{NmapHostname, OsMatch};

    #[test]
    fn rfc3339_round_trip() {
        assert_eq!(unix_to_rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            unix_to_rfc3339(1_508_141_363).as_deref(),
            Some("2017-10-16T08:09:23Z")
        );
        assert_eq!(
            unix_to_rfc3339(951_782_400).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(unix_to_rfc3339(-1).as_deref(), Some("1969-12-31T23:59:59Z"));
        assert_eq!(unix_to_rfc3339(i64::MAX), None);
        assert_eq!(unix_to_rfc3339(i64::MIN), None);
        for t in [
            0,
            1,
            59,
            86_399,
            86_400,
            951_782_400,
            1_700_000_000,
            253_402_300_799,
        ] {
            let text = unix_to_rfc3339(t).unwrap_or_default();
            assert_eq!(rfc3339_to_unix(&text), Some(t), "{text}");
        }
        assert_eq!(rfc3339_to_unix("2022-01-09T12:00:00Z"), Some(1_641_729_600));
        assert_eq!(
            rfc3339_to_unix("2022-01-09T21:00:00.123456+09:00"),
            Some(1_641_729_600)
        );
        assert_eq!(rfc3339_to_unix("2022-01-09 12:00:00"), Some(1_641_729_600));
        assert_eq!(
            rfc3339_to_unix("2022-01-09t03:00:00-09:00"),
            Some(1_641_729_600)
        );
        for bad in [
            "",
            "2022-01-09",
            "2022-02-30T00:00:00Z",
            "2022-01-09T24:00:00Z",
            "2022-01-09T12:00:00Zjunk",
            "2022-01-09T12:00:00.Z",
            "2022-01-09T12:00:00+0900",
            "２０２２-01-09T12:00:00Z",
            "2022-1-9T12:00:00Z",
        ] {
            assert_eq!(rfc3339_to_unix(bad), None, "{bad}");
        }
    }

    fn class(vendor: &str, family: &str, kind: &str, accuracy: u8) -> OsClass {
        OsClass {
            vendor: vendor.into(),
            family: family.into(),
            generation: None,
            device_type: Some(kind.into()),
            accuracy,
            cpes: Vec::new(),
        }
    }

    fn port(n: u16, proto: &str, state: &str, service: &str) -> NmapPort {
        NmapPort {
            protocol: proto.into(),
            port: n,
            state: state.into(),
            service: Some(service.into()),
            ..NmapPort::default()
        }
    }

    #[test]
    fn nmap_host_fields() {
        let mut ssh = port(22, "tcp", "open", "ssh");
        ssh.product = Some("OpenSSH".into());
        ssh.version = Some("5.3".into());
        ssh.cpes = vec![
            "cpe:/o:linux:linux_kernel".into(),
            "cpe:/a:openbsd:openssh:5.3".into(),
        ];
        let mut printer = port(9100, "tcp", "open", "jetdirect");
        printer.device_type = Some("printer".into());
        let host = NmapHost {
            state: "up".into(),
            ipv6: Some("fe80::1".parse().unwrap_or(std::net::Ipv6Addr::LOCALHOST)),
            mac: Some("00:1f:3c:87:66:50".into()),
            hostnames: vec![
                NmapHostname {
                    name: "ptr.example".into(),
                    kind: Some("PTR".into()),
                },
                NmapHostname {
                    name: "given".into(),
                    kind: Some("user".into()),
                },
            ],
            ports: vec![
                port(80, "tcp", "open", "http"),
                port(25, "tcp", "filtered", "smtp"),
                ssh.clone(),
                port(53, "udp", "open", "domain"),
                port(53, "tcp", "open", "domain"),
                printer,
                ssh,
            ],
            os_matches: vec![
                OsMatch {
                    name: "Weak".into(),
                    accuracy: 85,
                    classes: vec![],
                },
                OsMatch {
                    name: "HP LaserJet".into(),
                    accuracy: 95,
                    classes: vec![class("HP", "embedded", "printer", 95)],
                },
                OsMatch {
                    name: "Tie".into(),
                    accuracy: 95,
                    classes: vec![],
                },
            ],
            line: 7,
            ..NmapHost::default()
        };
        let scan = NmapScan {
            started: Some(1_700_000_000),
            hosts: vec![
                host,
                NmapHost {
                    state: "down".into(),
                    ..NmapHost::default()
                },
            ],
            hints: vec![NmapHost {
                state: "up".into(),
                line: 3,
                ..NmapHost::default()
            }],
            ..NmapScan::default()
        };
        let got = nmap_observations(&scan);
        assert_eq!(got.taken_at, Some(1_700_000_000));
        assert_eq!(got.observations.len(), 1);
        let o = &got.observations[0];
        assert_eq!(o.line, 7);
        assert_eq!(o.ip.as_deref(), Some("fe80::1"));
        assert_eq!(
            o.mac_vendor.as_deref(),
            Some("Intel Corporate"),
            "from the IEEE table"
        );
        assert_eq!(o.hostname.as_deref(), Some("given"), "user before PTR");
        assert_eq!(o.os.as_deref(), Some("HP LaserJet"));
        assert_eq!(o.vendor.as_deref(), Some("HP"));
        assert_eq!(o.seen_at, Some(1_700_000_000));
        assert_eq!(o.attributes["nmap.os_guess"], "HP LaserJet (95%)");
        assert_eq!(
            o.attributes["nmap.open_ports"],
            "22/tcp ssh OpenSSH 5.3, 53/tcp domain, 53/udp domain, 80/tcp http, 9100/tcp jetdirect"
        );
        assert_eq!(o.attributes["nmap.device_type"], "printer");
        assert_eq!(
            o.software,
            [Software {
                name: "OpenSSH".into(),
                vendor: None,
                version: Some("5.3".into()),
                cpe: Some("cpe:/a:openbsd:openssh:5.3".into()),
                purl: None,
            }]
        );
    }

    #[test]
    fn weak_or_general_purpose_guesses_fill_no_fields() {
        let mut host = NmapHost {
            state: "up".into(),
            ipv4: Some(std::net::Ipv4Addr::new(10, 0, 0, 1)),
            os_matches: vec![OsMatch {
                name: "Linux 2.6.32".into(),
                accuracy: 89,
                classes: vec![class("Linux", "Linux", "general purpose", 89)],
            }],
            ..NmapHost::default()
        };
        let o = host_observation(&host, None);
        assert_eq!((o.os.as_deref(), o.vendor.as_deref()), (None, None));
        assert_eq!(o.attributes["nmap.os_guess"], "Linux 2.6.32 (89%)");
        assert_eq!(o.attributes["nmap.os_vendor"], "Linux");
        assert!(!o.attributes.contains_key("nmap.open_ports"));
        host.os_matches[0].accuracy = 100;
        host.os_matches[0].classes[0].accuracy = 100;
        let o = host_observation(&host, None);
        assert_eq!(
            (o.os.as_deref(), o.vendor.as_deref()),
            (Some("Linux 2.6.32"), None)
        );
        // Microsoft / Windows / general purpose: the OS's maker, not the PC's.
        host.os_matches[0].classes = vec![class("Microsoft", "Windows", "general purpose", 100)];
        assert_eq!(host_observation(&host, None).vendor, None);
        // nmap 5: classes straight under <os>.
        host.os_matches.clear();
        host.os_classes = vec![
            class("Linux", "Linux", "general purpose", 90),
            OsClass {
                generation: Some("2.6.X".into()),
                ..class("Linux", "Linux", "WAP", 96)
            },
        ];
        let o = host_observation(&host, None);
        assert_eq!(o.attributes["nmap.os_guess"], "Linux 2.6.X (96%)");
        assert_eq!(
            (o.os.as_deref(), o.vendor.as_deref()),
            (Some("Linux 2.6.X"), None)
        );
        assert_eq!(o.attributes["nmap.device_type"], "WAP");
    }

    #[test]
    fn open_ports_attribute_is_capped() {
        let ports: Vec<NmapPort> = (1..=65_535)
            .map(|n| port(n, "tcp", "open", "unknown"))
            .collect();
        let host = NmapHost {
            state: "up".into(),
            ipv4: Some(std::net::Ipv4Addr::new(10, 0, 0, 1)),
            ports,
            ..NmapHost::default()
        };
        let o = host_observation(&host, None);
        let text = &o.attributes["nmap.open_ports"];
        assert!(text.len() <= MAX_VALUE_BYTES, "{}", text.len());
        assert!(text.starts_with("1/tcp unknown, 2/tcp unknown"));
        assert!(text.ends_with(" more)"), "{}", &text[text.len() - 40..]);
    }

    fn lease(ip: &str, kind: LeaseKind, state: Option<&str>, line: u64) -> Lease {
        Lease {
            ip: ip
                .parse()
                .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
            kind,
            starts: None,
            ends: None,
            cltt: None,
            binding_state: state.map(str::to_owned),
            mac: None,
            uid: None,
            hostname: None,
            vendor_class: None,
            line,
        }
    }

    #[test]
    fn leases_in_use_only_and_static_entries_always() {
        let mut active = lease("10.0.0.1", LeaseKind::V4, Some("active"), 1);
        active.mac = Some("00:11:32:0a:0b:0c".into());
        active.uid = Some("010011320a0b0c".into());
        active.hostname = Some("nas".into());
        active.cltt = Some(5);
        active.ends = Some(1_508_141_363);
        active.vendor_class = Some("udhcp 1.23".into());
        let mut reservation = lease("10.0.0.2", LeaseKind::Static, None, 9);
        reservation.hostname = Some("printer".into());
        let leases = vec![
            lease("10.0.0.1", LeaseKind::V4, Some("free"), 1),
            active,
            lease("10.0.0.3", LeaseKind::V4, Some("free"), 3),
            lease("10.0.0.4", LeaseKind::V4, Some("expired"), 4),
            lease("10.0.0.5", LeaseKind::V4, Some("released"), 5),
            lease("10.0.0.6", LeaseKind::V4, Some("abandoned"), 6),
            lease("10.0.0.7", LeaseKind::V4, Some("backup"), 7),
            lease("10.0.0.8", LeaseKind::V4, Some("bootp"), 8),
            reservation,
            // The same address freed afterwards: the reservation stays.
            lease("10.0.0.2", LeaseKind::V4, Some("free"), 10),
            lease("10.0.0.9", LeaseKind::V4, None, 11),
        ];
        let got = lease_observations(leases);
        assert_eq!(got.taken_at, None);
        let ips: Vec<&str> = got
            .observations
            .iter()
            .filter_map(|o| o.ip.as_deref())
            .collect();
        assert_eq!(ips, ["10.0.0.1", "10.0.0.8", "10.0.0.2", "10.0.0.9"]);
        let a = &got.observations[0];
        assert_eq!(a.mac_vendor.as_deref(), Some("Synology Incorporated"));
        assert_eq!(a.client_id.as_deref(), Some("010011320a0b0c"));
        assert_eq!(a.hostname.as_deref(), Some("nas"));
        assert_eq!(a.seen_at, Some(5), "cltt when there is no starts");
        assert_eq!(a.attributes["dhcp.ends"], "2017-10-16T08:09:23Z");
        assert_eq!(a.attributes["dhcp.binding_state"], "active");
        assert_eq!(a.attributes["dhcp.vendor_class"], "udhcp 1.23");
        assert_eq!(a.attributes["dhcp.lease"], "v4");
        let r = &got.observations[2];
        assert_eq!((r.line, r.hostname.as_deref()), (9, Some("printer")));
        assert_eq!(r.attributes["dhcp.lease"], "static");
        assert!(!r.attributes.contains_key("dhcp.binding_state"));
    }
}
