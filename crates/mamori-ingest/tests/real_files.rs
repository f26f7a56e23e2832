//! Every file in `shared/data/nmap/` and `shared/data/dhcp/` (written by other people, with
//! other tools) through the parsers, with exact expectations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::BufReader;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use mamori_ingest::{
    IngestError, Lease, LeaseKind, NmapHost, NmapScan, latest_per_address, parse_isc_leases,
    parse_nmap,
};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn path(rel: &str) -> PathBuf {
    PathBuf::from(DATA).join(rel)
}

fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn nmap(rel: &str) -> Result<NmapScan, IngestError> {
    let file = std::fs::File::open(path(rel)).unwrap();
    parse_nmap(rel, BufReader::new(file))
}

fn scan(rel: &str) -> NmapScan {
    nmap(rel).unwrap_or_else(|e| panic!("{e}"))
}

fn leases(rel: &str) -> Vec<Lease> {
    let file = std::fs::File::open(path(rel)).unwrap();
    parse_isc_leases(rel, BufReader::new(file)).unwrap_or_else(|e| panic!("{e}"))
}

fn host<'a>(scan: &'a NmapScan, ip: &str) -> &'a NmapHost {
    let ip: Ipv4Addr = ip.parse().unwrap();
    scan.hosts
        .iter()
        .find(|h| h.ipv4 == Some(ip))
        .unwrap_or_else(|| panic!("no host {ip}"))
}

fn lease<'a>(leases: &'a [Lease], ip: &str) -> &'a Lease {
    let ip: IpAddr = ip.parse().unwrap();
    let found: Vec<&Lease> = leases.iter().filter(|l| l.ip == ip).collect();
    assert_eq!(found.len(), 1, "{ip}: {found:?}");
    found[0]
}

/// Host counts agree with the file's own `<runstats><hosts>`.
fn assert_counts_match_runstats(rel: &str, s: &NmapScan, up: u64, down: u64, total: u64) {
    assert_eq!(
        (s.stats_up, s.stats_down, s.stats_total),
        (Some(up), Some(down), Some(total)),
        "{rel}"
    );
    assert_eq!(s.hosts.len() as u64, total, "{rel}: hosts");
    assert_eq!(s.up_hosts().count() as u64, up, "{rel}: up hosts");
    assert_eq!(
        s.hosts.iter().filter(|h| h.state == "down").count() as u64,
        down,
        "{rel}: down hosts"
    );
}

const NMAP_FILES: &[&str] = &[
    "nmap/1_hosts_down.xml",
    "nmap/1_os_banner_scripts.xml",
    "nmap/2_hosts.xml",
    "nmap/defused_et_included.xml",
    "nmap/defused_et_local_includer.xml",
    "nmap/dionaea_scan.xml",
    "nmap/full_sudo6.xml",
    "nmap/os_scan6.xml",
];

const LEASE_FILES: &[&str] = &[
    "dhcp/backup.leases",
    "dhcp/debian7.leases",
    "dhcp/dhcpd6-4.2.4.leases",
    "dhcp/epoch.leases",
    "dhcp/options.leases",
    "dhcp/pfsense.leases",
    "dhcp/static.leases",
];

#[test]
fn every_data_file_has_a_test() {
    for (dir, known, ext) in [("nmap", NMAP_FILES, "xml"), ("dhcp", LEASE_FILES, "leases")] {
        let on_disk: BTreeSet<String> = std::fs::read_dir(path(dir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(ext))
            .map(|n| format!("{dir}/{n}"))
            .collect();
        let listed: BTreeSet<String> = known.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            on_disk, listed,
            "a file in shared/data/{dir} has no test here"
        );
    }
}

#[test]
fn nmap_5_single_host_named_down_is_actually_up() {
    // Despite its name, the file's only host answered (reason="reset") and runstats says 1 up.
    let rel = "nmap/1_hosts_down.xml";
    let s = scan(rel);
    assert_counts_match_runstats(rel, &s, 1, 0, 1);
    assert_eq!(s.scanner.as_deref(), Some("nmap"));
    assert_eq!(s.scanner_version.as_deref(), Some("5.51"));
    assert_eq!(
        s.args.as_deref(),
        Some("nmap -oX test/1_hosts_down.xml 10.1.1.1")
    );
    assert_eq!(s.started, Some(1_365_101_751));
    assert_eq!(s.finished, Some(1_365_101_755));
    let h = &s.hosts[0];
    assert_eq!(h.ipv4, Some(Ipv4Addr::new(10, 1, 1, 1)));
    assert_eq!(h.line, 8);
    assert!(
        h.ports.is_empty(),
        "1000 filtered ports are summarized by <extraports>"
    );
    assert!(h.hostnames.is_empty() && h.mac.is_none());
}

#[test]
fn nmap_5_os_classes_directly_under_os_and_service_versions() {
    let rel = "nmap/1_os_banner_scripts.xml";
    let s = scan(rel);
    assert_counts_match_runstats(rel, &s, 1, 0, 1);
    // `-&#45;script` in the attribute is a character reference, decoded.
    assert_eq!(
        s.args.as_deref(),
        Some(
            "nmap -sV -O -oX /tmp/out.xml --script http-headers,http-methods --script-trace 127.0.0.1"
        )
    );
    let h = host(&s, "127.0.0.1");
    assert_eq!(h.hostnames.len(), 1);
    assert_eq!(
        (h.hostnames[0].name.as_str(), h.hostnames[0].kind.as_deref()),
        ("localhost", Some("PTR"))
    );
    // nmap 5.51: no <osmatch>, nine <osclass> straight under <os>.
    assert!(h.os_matches.is_empty());
    assert_eq!(h.os_classes.len(), 9);
    let first = &h.os_classes[0];
    assert_eq!(
        (
            first.vendor.as_str(),
            first.family.as_str(),
            first.device_type.as_deref(),
            first.accuracy
        ),
        ("Netgear", "embedded", Some("WAP"), 96)
    );
    assert_eq!(first.generation, None);
    assert_eq!(h.os_classes[1].generation.as_deref(), Some("2.6.X"));
    assert_eq!(h.os_classes[8].vendor, "IBM");
    // 8 open ports; the http ones carry NSE <script> output, which is skipped.
    assert_eq!(h.ports.len(), 8);
    let ssh = h.ports.iter().find(|p| p.port == 22).unwrap();
    assert_eq!(
        (
            ssh.protocol.as_str(),
            ssh.state.as_str(),
            ssh.service.as_deref()
        ),
        ("tcp", "open", Some("ssh"))
    );
    assert_eq!(
        (
            ssh.product.as_deref(),
            ssh.version.as_deref(),
            ssh.extrainfo.as_deref()
        ),
        (Some("OpenSSH"), Some("5.3"), Some("protocol 2.0"))
    );
    let http = h.ports.iter().find(|p| p.port == 80).unwrap();
    assert_eq!(
        (
            http.product.as_deref(),
            http.version.as_deref(),
            http.extrainfo.as_deref()
        ),
        (
            Some("Apache httpd"),
            Some("2.2.15"),
            Some("(CentOS) PHP/5.3.3")
        )
    );
    let jenkins = h.ports.iter().find(|p| p.port == 8080).unwrap();
    assert_eq!(jenkins.service.as_deref(), Some("tcpwrapped"));
    assert!(
        h.ports.iter().all(|p| p.cpes.is_empty()),
        "nmap 5.51 wrote no <cpe>"
    );
}

#[test]
fn nmap_5_two_hosts_with_user_and_ptr_names() {
    let rel = "nmap/2_hosts.xml";
    let s = scan(rel);
    assert_counts_match_runstats(rel, &s, 2, 0, 2);
    let scanme = host(&s, "74.207.244.221");
    let names: Vec<(&str, Option<&str>)> = scanme
        .hostnames
        .iter()
        .map(|n| (n.name.as_str(), n.kind.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("scanme.nmap.org", Some("user")),
            ("scanme.nmap.org", Some("PTR"))
        ]
    );
    let ports: Vec<(u16, &str)> = scanme
        .ports
        .iter()
        .map(|p| (p.port, p.state.as_str()))
        .collect();
    assert_eq!(
        ports,
        [(22, "open"), (25, "filtered"), (80, "open"), (9929, "open")]
    );
    assert_eq!(host(&s, "127.0.0.1").ports.len(), 5);
    let nping = scanme.ports.iter().find(|p| p.port == 9929).unwrap();
    assert_eq!(nping.service.as_deref(), Some("nping-echo"));
}

#[test]
fn nmap_6_full_scan_of_a_24_counts_macs_os_and_cpes() {
    let rel = "nmap/full_sudo6.xml";
    let s = scan(rel);
    // -vv lists every address of the /24, down ones included.
    assert_counts_match_runstats(rel, &s, 4, 252, 256);
    assert_eq!(s.scanner_version.as_deref(), Some("6.40-2"));
    assert!(s.hints.is_empty());
    let up: Vec<Ipv4Addr> = s.up_hosts().filter_map(|h| h.ipv4).collect();
    assert_eq!(
        up,
        ["192.168.1.1", "192.168.1.2", "192.168.1.5", "192.168.1.3"]
            .map(|a| a.parse::<Ipv4Addr>().unwrap())
    );

    // Upper-case MAC normalized, with nmap's vendor name.
    let router = host(&s, "192.168.1.1");
    assert_eq!(router.mac.as_deref(), Some("6c:2e:85:19:af:00"));
    assert_eq!(router.mac_vendor.as_deref(), Some("Sagemcom"));
    assert_eq!(router.os_matches.len(), 1);
    let m = &router.os_matches[0];
    assert_eq!(
        (m.name.as_str(), m.accuracy),
        ("Linux 2.6.13 (embedded)", 100)
    );
    assert_eq!(m.classes[0].cpes, ["cpe:/o:linux:linux_kernel:2.6.13"]);
    assert_eq!(m.classes[0].device_type.as_deref(), Some("WAP"));
    let telnet = router.ports.iter().find(|p| p.port == 23).unwrap();
    assert_eq!(
        (telnet.product.as_deref(), telnet.device_type.as_deref()),
        (Some("Sagem router telnetd"), Some("router"))
    );

    let windows = host(&s, "192.168.1.5");
    assert_eq!(windows.mac.as_deref(), Some("00:1f:3c:87:66:50"));
    assert_eq!(windows.mac_vendor.as_deref(), Some("Intel Corporate"));
    assert_eq!(windows.os_matches.len(), 5);
    assert_eq!(
        windows.os_matches[1].name,
        "Microsoft Windows 7 Professional"
    );
    assert_eq!(
        windows.os_matches[1].classes[0].cpes,
        ["cpe:/o:microsoft:windows_7::-:professional"]
    );
    let vista = &windows.os_matches[3];
    assert_eq!(vista.classes.len(), 3);
    assert_eq!(
        vista.classes[0].cpes,
        [
            "cpe:/o:microsoft:windows_vista::-",
            "cpe:/o:microsoft:windows_vista::sp1"
        ]
    );
    let upnp = windows.ports.iter().find(|p| p.port == 2869).unwrap();
    assert_eq!(
        (
            upnp.product.as_deref(),
            upnp.version.as_deref(),
            upnp.extrainfo.as_deref(),
            upnp.ostype.as_deref()
        ),
        (
            Some("Microsoft HTTPAPI httpd"),
            Some("2.0"),
            Some("SSDP/UPnP"),
            Some("Windows")
        )
    );
    assert_eq!(upnp.cpes, ["cpe:/o:microsoft:windows"]);

    // The scanning Mac itself: no MAC address (not seen on the wire), OS from the local stack.
    let own = host(&s, "192.168.1.3");
    assert_eq!(own.mac, None);
    let vnc = own.ports.iter().find(|p| p.port == 5900).unwrap();
    assert_eq!(vnc.product.as_deref(), Some("Apple remote desktop vnc"));
    assert_eq!(vnc.cpes, ["cpe:/o:apple:mac_os_x"]);

    // The SSL-certificate script tables and service fingerprints (with <!DOCTYPE html> inside
    // attribute values) are skipped without harm.
    assert_eq!(router.ports.len(), 6);
    assert!(
        s.hosts
            .iter()
            .filter(|h| h.state == "down")
            .all(|h| h.ports.is_empty() && h.mac.is_none())
    );
}

#[test]
fn nmap_6_os_scan_keeps_match_order_and_accuracy() {
    let rel = "nmap/os_scan6.xml";
    let s = scan(rel);
    assert_counts_match_runstats(rel, &s, 3, 253, 256);
    assert_eq!(s.finished, Some(1_399_586_159));
    let mac = host(&s, "192.168.1.3");
    let names: Vec<(&str, u8)> = mac
        .os_matches
        .iter()
        .map(|m| (m.name.as_str(), m.accuracy))
        .collect();
    assert_eq!(
        names,
        [
            ("Apple Mac OS X 10.8 (Mountain Lion) (Darwin 12.0.0)", 100),
            (
                "Apple Mac OS X 10.8 - 10.8.1 (Mountain Lion) (Darwin 12.0.0 - 12.1.0) or iOS 5.0.1",
                100
            ),
        ]
    );
    let ios = &mac.os_matches[1].classes[1];
    assert_eq!(
        (
            ios.vendor.as_str(),
            ios.family.as_str(),
            ios.generation.as_deref(),
            ios.device_type.as_deref()
        ),
        ("Apple", "iOS", Some("5.X"), Some("phone"))
    );
    assert_eq!(ios.cpes, ["cpe:/o:apple:iphone_os:5"]);
    // Not in this scan: 192.168.1.2 was down when the OS scan ran.
    assert_eq!(host(&s, "192.168.1.2").state, "down");
}

#[test]
fn nmap_7_with_doctype_hosthint_and_script_tables() {
    let rel = "nmap/dionaea_scan.xml";
    let s = scan(rel);
    // The bare <!DOCTYPE nmaprun> nmap 7 writes is accepted; the <hosthint> is not a host.
    assert_counts_match_runstats(rel, &s, 1, 0, 1);
    assert_eq!(s.scanner_version.as_deref(), Some("7.91"));
    assert_eq!(s.hints.len(), 1);
    let hint = &s.hints[0];
    assert_eq!(hint.ipv4, Some(Ipv4Addr::new(172, 28, 1, 3)));
    assert_eq!(hint.mac.as_deref(), Some("02:42:ac:1c:01:03"));
    assert_eq!(hint.line, 16);

    let h = &s.hosts[0];
    assert_eq!(h.line, 23);
    assert_eq!(h.mac.as_deref(), Some("02:42:ac:1c:01:03"));
    assert_eq!(
        h.mac_vendor, None,
        "a locally administered (Docker) MAC has no vendor"
    );
    assert_eq!(h.hostnames.len(), 2);
    assert_eq!(h.hostnames[1].name, "dionaea.libnmap-testing_testing_net");
    assert_eq!(h.ports.len(), 16);
    let mysql = h.ports.iter().find(|p| p.port == 3306).unwrap();
    assert_eq!(
        (mysql.product.as_deref(), mysql.version.as_deref()),
        (Some("MySQL"), Some("5.7.16"))
    );
    assert_eq!(mysql.cpes, ["cpe:/a:mysql:mysql:5.7.16"]);
    let memcached = h.ports.iter().find(|p| p.port == 11211).unwrap();
    assert_eq!(memcached.extrainfo.as_deref(), Some("uptime 132 seconds"));
    let ftp = h.ports.iter().find(|p| p.port == 21).unwrap();
    assert_eq!(
        (ftp.product.as_deref(), ftp.device_type.as_deref()),
        (Some("Synology DiskStation NAS ftpd"), Some("storage-misc"))
    );
    // `product=""` says nothing.
    let pptp = h.ports.iter().find(|p| p.port == 1723).unwrap();
    assert_eq!(
        (pptp.product.as_deref(), pptp.version.as_deref()),
        (None, Some("(Firmware: 1)"))
    );
    assert_eq!(h.os_matches.len(), 1);
    let os = &h.os_matches[0];
    assert_eq!((os.name.as_str(), os.accuracy), ("Linux 4.15 - 5.6", 100));
    let gens: Vec<Option<&str>> = os.classes.iter().map(|c| c.generation.as_deref()).collect();
    assert_eq!(gens, [Some("4.X"), Some("5.X")]);
    assert_eq!(os.classes[1].cpes, ["cpe:/o:linux:linux_kernel:5"]);
}

#[test]
fn xxe_probe_with_entity_declaration_is_refused() {
    let err = nmap("nmap/defused_et_local_includer.xml").unwrap_err();
    assert!(err.is_refusal(), "{err}");
    assert_eq!(
        (err.file(), err.line(), err.field()),
        ("nmap/defused_et_local_includer.xml", 2, "<!DOCTYPE>")
    );
    let text = err.to_string();
    assert!(
        text.contains("DOCTYPE") && text.contains("ENTITY"),
        "{text}"
    );
}

#[test]
fn xxe_probe_target_without_doctype_is_refused_as_not_nmap() {
    // This is the file the includer above would pull in: no DOCTYPE of its own, so the refusal
    // is that it is not nmap output at all.
    let err = nmap("nmap/defused_et_included.xml").unwrap_err();
    assert_eq!((err.line(), err.field()), (2, "<root>"));
    assert!(err.to_string().contains("not <nmaprun>"), "{err}");

    // Included through an external entity, it is refused at the declaration.
    let wrapped = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY ee SYSTEM \"file://{}\">\n]>\n<nmaprun>&ee;</nmaprun>\n",
        path("nmap/defused_et_included.xml").display()
    );
    let err = parse_nmap("wrapped.xml", wrapped.as_bytes()).unwrap_err();
    assert!(
        err.is_refusal() && err.line() == 2 && err.to_string().contains("ENTITY"),
        "{err}"
    );
}

#[test]
fn truncated_real_scan_is_an_error_naming_the_line() {
    let full = bytes("nmap/full_sudo6.xml");
    // Cut inside the first up host's <ports> (line 777 starts that host).
    let cut = full
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(779)
        .unwrap()
        .0
        + 1;
    let err = parse_nmap("cut.xml", &full[..cut]).unwrap_err();
    assert!(!err.is_refusal());
    assert_eq!(err.line(), 780, "{err}");
    assert!(err.to_string().contains("opened at line"), "{err}");

    // The same scan cut after the last </host> but before <runstats> and </nmaprun>, then
    // closed by hand: a complete document without runstats is accepted.
    let text = String::from_utf8(full).unwrap();
    let end = text.find("<runstats>").unwrap();
    let closed = format!("{}</nmaprun>\n", &text[..end]);
    let s = parse_nmap("closed.xml", closed.as_bytes()).unwrap();
    assert_eq!((s.hosts.len(), s.up_hosts().count()), (256, 4));
    assert_eq!(
        (s.finished, s.stats_up, s.stats_down, s.stats_total),
        (None, None, None, None)
    );
}

#[test]
fn one_byte_reads_give_the_same_result() {
    for rel in [
        "nmap/full_sudo6.xml",
        "nmap/dionaea_scan.xml",
        "nmap/1_os_banner_scripts.xml",
    ] {
        let whole = parse_nmap(rel, &bytes(rel)[..]).unwrap();
        let file = std::fs::File::open(path(rel)).unwrap();
        let trickled = parse_nmap(rel, BufReader::with_capacity(1, file)).unwrap();
        assert_eq!(whole, trickled, "{rel}");
    }
    let err_whole = parse_nmap("x", &bytes("nmap/defused_et_local_includer.xml")[..]).unwrap_err();
    let file = std::fs::File::open(path("nmap/defused_et_local_includer.xml")).unwrap();
    let err_trickled = parse_nmap("x", BufReader::with_capacity(1, file)).unwrap_err();
    assert_eq!(err_whole.to_string(), err_trickled.to_string());
    for rel in LEASE_FILES {
        let whole = parse_isc_leases(rel, &bytes(rel)[..]).unwrap();
        let file = std::fs::File::open(path(rel)).unwrap();
        assert_eq!(
            whole,
            parse_isc_leases(rel, BufReader::with_capacity(1, file)).unwrap(),
            "{rel}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// ISC dhcpd.leases

/// 2017/10/05 15:22:29 UTC.
const OCT_05_15_22_29: i64 = 1_507_216_949;
/// 2017/10/16 08:09:23 UTC.
const OCT_16_08_09_23: i64 = 1_508_141_363;

#[test]
fn leases_failover_backup_with_octal_uid() {
    let l = leases("dhcp/backup.leases");
    assert_eq!(l.len(), 2);
    let a = lease(&l, "10.0.0.1");
    assert_eq!(a.kind, LeaseKind::V4);
    assert_eq!(
        (a.starts, a.ends, a.cltt),
        (
            Some(OCT_05_15_22_29),
            Some(OCT_16_08_09_23),
            Some(OCT_05_15_22_29)
        )
    );
    assert_eq!(a.binding_state.as_deref(), Some("backup"));
    assert_eq!(a.mac.as_deref(), Some("2a:b2:2a:b2:2a:b2"));
    // "\001\000!\314\006\224\351": octal escapes and a literal '!'.
    assert_eq!(a.uid.as_deref(), Some("010021cc0694e9"));
    assert_eq!(a.line, 1);
    // The second block has no `ends`, no MAC, and the file has no final newline.
    let b = lease(&l, "10.0.0.2");
    assert_eq!(
        (b.starts, b.ends, b.mac.as_deref(), b.line),
        (Some(1_507_637_114), None, None, 13)
    );
}

#[test]
fn leases_epoch_dates_match_the_calendar_form() {
    let epoch = leases("dhcp/epoch.leases");
    let calendar = leases("dhcp/backup.leases");
    assert_eq!(epoch.len(), 2);
    for (e, c) in epoch.iter().zip(&calendar) {
        assert_eq!(
            (e.ip, e.starts, e.ends, &e.mac, &e.uid),
            (c.ip, c.starts, c.ends, &c.mac, &c.uid)
        );
    }
    // The number wins over the `# comment`: the file says `cltt epoch 1508167349; # Thu Oct 05
    // 15:22:29 2017`, but 1508167349 is 2017-10-16 15:22:29 UTC.
    assert_eq!(lease(&epoch, "10.0.0.1").cltt, Some(1_508_167_349));
    assert_eq!(lease(&epoch, "10.0.0.2").line, 12);
}

#[test]
fn leases_debian7_journal() {
    let l = leases("dhcp/debian7.leases");
    let ips: Vec<String> = l.iter().map(|l| l.ip.to_string()).collect();
    assert_eq!(
        ips,
        [
            "10.0.0.10",
            "10.0.0.15",
            "10.0.0.18",
            "10.0.0.21",
            "10.0.0.16",
            "10.0.0.17"
        ]
    );
    let first = &l[0];
    assert_eq!(
        first.vendor_class.as_deref(),
        Some("Some Vendor Identifier")
    );
    assert_eq!(first.mac.as_deref(), Some("60:a4:4c:b5:6a:dd"));
    assert_eq!(first.binding_state.as_deref(), Some("free"));
    assert_eq!(
        (first.starts, first.ends),
        (Some(1_386_680_224), Some(1_386_680_824))
    );
    // "\377\000\000\000\002\000\001\000\001\0321\301\300\000#\213\360F\350": a 3-digit octal
    // escape followed by the digit '1', and a '#' that is not a comment.
    assert_eq!(
        first.uid.as_deref(),
        Some("ff00000002000100011a31c1c000238bf046e8")
    );
    // "\001\274\365\254\376\321}": a '}' inside a string does not close the block.
    assert_eq!(
        lease(&l, "10.0.0.15").uid.as_deref(),
        Some("01bcf5acfed17d")
    );
    let abandoned = lease(&l, "10.0.0.17");
    assert_eq!(abandoned.binding_state.as_deref(), Some("abandoned"));
    assert_eq!(
        (abandoned.mac.as_deref(), abandoned.cltt, abandoned.line),
        (None, None, 50)
    );
    assert_eq!(
        latest_per_address(l.clone()),
        l,
        "no address repeats in this file"
    );
}

#[test]
fn leases_dhcpv6_ia_na_and_skipped_ia_pd() {
    let l = leases("dhcp/dhcpd6-4.2.4.leases");
    // server-duid is skipped; the ia-pd holds a delegated prefix, not a device address.
    assert_eq!(l.len(), 1);
    let v6 = &l[0];
    assert_eq!(v6.kind, LeaseKind::V6);
    assert_eq!(
        v6.ip,
        IpAddr::V6("2001:610:600:891d::60".parse::<Ipv6Addr>().unwrap())
    );
    assert_eq!(v6.binding_state.as_deref(), Some("active"));
    assert_eq!(v6.cltt, Some(1_439_916_937)); // 2015/08/18 16:55:37
    assert_eq!(v6.ends, Some(1_439_917_537)); // 2015/08/18 17:05:37
    assert_eq!(v6.starts, None);
    // IAID 34:64:76:ea + DUID-LLT (type 1, Ethernet) whose link-layer address is a VirtualBox
    // host-only adapter's; `\012` is a newline byte, `'` a literal.
    assert_eq!(
        v6.uid.as_deref(),
        Some("346476ea000100011d661fe20a0027000000")
    );
    assert_eq!(v6.mac.as_deref(), Some("0a:00:27:00:00:00"));
    assert_eq!(v6.line, 8);
}

#[test]
fn leases_with_relay_agent_options() {
    let l = leases("dhcp/options.leases");
    assert_eq!(l.len(), 1);
    let a = &l[0];
    assert_eq!(a.hostname.as_deref(), Some("KRONOS"));
    assert_eq!(a.mac.as_deref(), Some("24:65:11:d9:a6:b3"));
    assert_eq!(a.binding_state.as_deref(), Some("active"));
    assert_eq!(a.uid.as_deref(), Some("ff11d9a6b300030001246511d9a6b3"));
    assert_eq!(
        (a.starts, a.ends),
        (Some(1_456_557_101), Some(1_456_564_301))
    );
}

#[test]
fn leases_pfsense_client_hostnames() {
    let l = leases("dhcp/pfsense.leases");
    let got: Vec<(String, Option<&str>, Option<&str>)> = l
        .iter()
        .map(|l| (l.ip.to_string(), l.hostname.as_deref(), l.mac.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "10.0.10.72".to_owned(),
                Some("Satellite-C700"),
                Some("64:5a:04:6a:07:a2")
            ),
            (
                "10.0.0.36".to_owned(),
                Some("Gebruiker-PC"),
                Some("14:da:e9:04:c8:a3")
            ),
        ]
    );
    assert_eq!(l[0].uid.as_deref(), Some("01645a046a07a2"));
}

#[test]
fn leases_static_file_is_a_lease_without_ends() {
    // Despite its name, this file holds a plain `lease` block (no `host` declaration) without
    // `ends`; host declarations are covered by the unit tests in src/leases.rs.
    let l = leases("dhcp/static.leases");
    assert_eq!(l.len(), 1);
    let a = &l[0];
    assert_eq!(
        (a.kind, a.ip.to_string().as_str()),
        (LeaseKind::V4, "10.0.0.15")
    );
    assert_eq!((a.starts, a.ends), (Some(1_441_844_940), None));
    assert_eq!(a.binding_state.as_deref(), Some("free"));
}

#[test]
fn leases_last_block_wins_across_an_appended_journal() {
    // dhcpd appends; a rewrite that was interrupted, or two files concatenated, repeat
    // addresses. debian7 has 10.0.0.15 (2014, free, bc:f5:…); static.leases has it again.
    let mut journal = bytes("dhcp/debian7.leases");
    journal.extend(bytes("dhcp/static.leases"));
    let all = parse_isc_leases("journal", &journal[..]).unwrap();
    assert_eq!(all.len(), 7);
    let latest = latest_per_address(all);
    assert_eq!(latest.len(), 6);
    let again: Vec<&Lease> = latest
        .iter()
        .filter(|l| l.ip.to_string() == "10.0.0.15")
        .collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].mac.as_deref(), Some("2a:b2:2a:b2:2a:b2"));
    assert_eq!(again[0].starts, Some(1_441_844_940));
    // debian7.leases has no final newline: the appended block starts on its last line.
    assert_eq!(again[0].line, 56, "the block from the appended file");
    // The winners keep the order of their (last) blocks.
    assert_eq!(latest.last().unwrap().ip.to_string(), "10.0.0.15");

    // backup.leases ends without a newline right after `}`; the next block follows on that line.
    let mut joined = bytes("dhcp/backup.leases");
    joined.extend(bytes("dhcp/epoch.leases"));
    let latest = latest_per_address(parse_isc_leases("joined", &joined[..]).unwrap());
    assert_eq!(latest.len(), 2);
    assert_eq!(
        latest[0].cltt,
        Some(1_508_167_349),
        "the epoch.leases block wins"
    );
}

#[test]
fn truncated_real_leases_file_is_an_error_naming_the_line() {
    let full = bytes("dhcp/pfsense.leases");
    // Without the final `}`: the second block (line 15) is never closed.
    let err = parse_isc_leases("pfsense.leases", &full[..full.len() - 1]).unwrap_err();
    assert_eq!(
        (err.file(), err.line(), err.field()),
        ("pfsense.leases", 15, "lease 10.0.0.36"),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("not closed before the end of the file (line 25)"),
        "{err}"
    );
    // Cut inside the uid string of that block: the string is named, where it starts.
    let cut = full.len() - 40;
    let err = parse_isc_leases("pfsense.leases", &full[..cut]).unwrap_err();
    assert_eq!((err.line(), err.field()), (23, "string"), "{err}");
}

/// The streaming readers the import uses give exactly what the collecting ones give, on every
/// real file: the same observations in the same order, the same refusals.
#[test]
fn streaming_readers_match_the_collecting_ones_on_every_file() {
    use mamori_ingest::convert::{stream_lease_observations, stream_nmap_observations};
    use mamori_ingest::{Ingested, lease_observations, nmap_observations};
    for rel in NMAP_FILES {
        let whole = nmap(rel).map(|s| nmap_observations(&s));
        let mut streamed = Ingested::default();
        let r = stream_nmap_observations(rel, &bytes(rel)[..], &mut streamed);
        match (whole, r) {
            (Ok(w), Ok(())) => {
                assert_eq!(w.observations, streamed.observations, "{rel}");
                assert_eq!(w.taken_at, streamed.taken_at, "{rel}");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{rel}"),
            (a, b) => panic!("{rel}: collecting {a:?}, streaming {b:?}"),
        }
    }
    let mut total = 0;
    for rel in LEASE_FILES {
        let data = bytes(rel);
        let whole = lease_observations(leases(rel));
        let mut streamed = Ingested::default();
        let mut opens = 0;
        stream_lease_observations(
            rel,
            &mut || {
                opens += 1;
                Ok(Box::new(&data[..]) as Box<dyn std::io::BufRead>)
            },
            &mut streamed,
        )
        .unwrap();
        assert_eq!(opens, 2, "{rel}: two passes");
        assert_eq!(whole.observations, streamed.observations, "{rel}");
        total += whole.observations.len();
    }
    assert_eq!(total, 10, "current clients in all the lease files");
}
