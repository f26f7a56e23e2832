//! Every file in `shared/data/nmap/`, `shared/data/dhcp/` and `shared/data/cyclonedx/` (written
//! by other people, with other tools) through format detection and on to observations, with
//! exact expectations.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::io::BufReader;
use std::path::PathBuf;

use mamori_ingest::{
    IngestError, Ingested, detect, lease_observations, nmap_observations, parse_cyclonedx,
    parse_isc_leases, parse_nmap,
};
use mamori_model::{Observation, Software, SourceKind};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

fn path(rel: &str) -> PathBuf {
    PathBuf::from(DATA).join(rel)
}

fn bytes(rel: &str) -> Vec<u8> {
    std::fs::read(path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn nmap(rel: &str) -> Ingested {
    let file = std::fs::File::open(path(rel)).unwrap();
    let scan = parse_nmap(rel, BufReader::new(file)).unwrap_or_else(|e| panic!("{e}"));
    nmap_observations(&scan)
}

fn leases(rel: &str) -> Ingested {
    let file = std::fs::File::open(path(rel)).unwrap();
    lease_observations(
        parse_isc_leases(rel, BufReader::new(file)).unwrap_or_else(|e| panic!("{e}")),
    )
}

fn cyclonedx(rel: &str) -> Result<Ingested, IngestError> {
    let file = std::fs::File::open(path(rel)).unwrap();
    parse_cyclonedx(rel, file)
}

fn by_ip<'a>(got: &'a Ingested, ip: &str) -> &'a Observation {
    let found: Vec<&Observation> = got
        .observations
        .iter()
        .filter(|o| o.ip.as_deref() == Some(ip))
        .collect();
    assert_eq!(found.len(), 1, "{ip}: {found:?}");
    found[0]
}

fn attr<'a>(o: &'a Observation, key: &str) -> Option<&'a str> {
    o.attributes.get(key).map(String::as_str)
}

/// Every file of each folder, with what [`detect`] must say and, for the data files, how many
/// observations they give (`None`: the parser refuses the file).
const FILES: &[(&str, Option<SourceKind>, Option<usize>)] = &[
    ("nmap/1_hosts_down.xml", Some(SourceKind::Nmap), Some(1)),
    (
        "nmap/1_os_banner_scripts.xml",
        Some(SourceKind::Nmap),
        Some(1),
    ),
    ("nmap/2_hosts.xml", Some(SourceKind::Nmap), Some(2)),
    // XXE probes: `<root>`, not `<nmaprun>`.
    ("nmap/defused_et_included.xml", None, None),
    ("nmap/defused_et_local_includer.xml", None, None),
    ("nmap/dionaea_scan.xml", Some(SourceKind::Nmap), Some(1)),
    // 256 hosts listed, 4 up (runstats agrees).
    ("nmap/full_sudo6.xml", Some(SourceKind::Nmap), Some(4)),
    ("nmap/os_scan6.xml", Some(SourceKind::Nmap), Some(3)),
    ("nmap/LICENSE", None, None),
    // Both leases in failover state `backup`: free leases of the secondary.
    ("dhcp/backup.leases", Some(SourceKind::IscLeases), Some(0)),
    // Five `free` and one `abandoned`.
    ("dhcp/debian7.leases", Some(SourceKind::IscLeases), Some(5)),
    // One ia-na address (`active`); the ia-pd prefix is not a device.
    (
        "dhcp/dhcpd6-4.2.4.leases",
        Some(SourceKind::IscLeases),
        Some(1),
    ),
    ("dhcp/epoch.leases", Some(SourceKind::IscLeases), Some(0)),
    ("dhcp/options.leases", Some(SourceKind::IscLeases), Some(1)),
    ("dhcp/pfsense.leases", Some(SourceKind::IscLeases), Some(2)),
    // A `free` lease despite the file's name.
    ("dhcp/static.leases", Some(SourceKind::IscLeases), Some(1)),
    ("dhcp/LICENSE", None, None),
    // VEX documents: refused.
    (
        "cyclonedx/cisa-case1-vex-affected.json",
        Some(SourceKind::Cyclonedx),
        None,
    ),
    (
        "cyclonedx/cisa-case1-vex-fixed.json",
        Some(SourceKind::Cyclonedx),
        None,
    ),
    (
        "cyclonedx/cisa-case1-vex-not_affected.json",
        Some(SourceKind::Cyclonedx),
        None,
    ),
    (
        "cyclonedx/cisa-case1-vex-under_investigation.json",
        Some(SourceKind::Cyclonedx),
        None,
    ),
    (
        "cyclonedx/hbom-pcie-sata-adapter.json",
        Some(SourceKind::Cyclonedx),
        Some(1),
    ),
    (
        "cyclonedx/sbom-keycloak-10.0.2.json",
        Some(SourceKind::Cyclonedx),
        Some(1),
    ),
    ("cyclonedx/LICENSE", None, None),
];

#[test]
fn every_file_is_listed() {
    for dir in ["nmap", "dhcp", "cyclonedx"] {
        let on_disk: BTreeSet<String> = std::fs::read_dir(path(dir))
            .unwrap()
            .map(|e| format!("{dir}/{}", e.unwrap().file_name().into_string().unwrap()))
            .collect();
        let listed: BTreeSet<String> = FILES
            .iter()
            .map(|(f, _, _)| (*f).to_owned())
            .filter(|f| f.starts_with(&format!("{dir}/")))
            .collect();
        assert_eq!(
            on_disk, listed,
            "a file in shared/data/{dir} is not listed here"
        );
    }
}

#[test]
fn every_file_is_detected() {
    for (rel, kind, _) in FILES {
        let all = bytes(rel);
        let head = &all[..all.len().min(mamori_ingest::detect::HEAD_BYTES)];
        assert_eq!(detect(rel, head), *kind, "{rel}");
        // The name does not decide for content that speaks for itself.
        if kind.is_some() {
            assert_eq!(detect("upload.bin", head), *kind, "{rel} renamed");
        }
    }
}

#[test]
fn every_file_gives_the_expected_number_of_observations() {
    for (rel, kind, count) in FILES {
        let got = match kind {
            Some(SourceKind::Nmap) => {
                let file = std::fs::File::open(path(rel)).unwrap();
                parse_nmap(rel, BufReader::new(file)).map(|s| nmap_observations(&s))
            }
            Some(SourceKind::IscLeases) => {
                let file = std::fs::File::open(path(rel)).unwrap();
                parse_isc_leases(rel, BufReader::new(file)).map(lease_observations)
            }
            Some(SourceKind::Cyclonedx) => cyclonedx(rel),
            _ => continue,
        };
        match (got, count) {
            (Ok(got), Some(n)) => {
                assert_eq!(got.observations.len(), *n, "{rel}");
                assert!(got.rejected.is_empty(), "{rel}: {:?}", got.rejected);
                assert!(
                    got.observations
                        .iter()
                        .all(|o| !o.is_empty() && o.line >= 1),
                    "{rel}"
                );
            }
            (Err(e), None) => assert_eq!(e.file(), *rel),
            (got, count) => panic!(
                "{rel}: expected {count:?}, got {:?}",
                got.map(|g| g.observations.len())
            ),
        }
    }
    // The XXE probes are refused by the parser even when forced as nmap.
    for rel in [
        "nmap/defused_et_included.xml",
        "nmap/defused_et_local_includer.xml",
    ] {
        let file = std::fs::File::open(path(rel)).unwrap();
        assert!(parse_nmap(rel, BufReader::new(file)).is_err(), "{rel}");
    }
}

// ---------------------------------------------------------------------------------------------
// nmap

#[test]
fn nmap_6_full_scan_hosts() {
    let rel = "nmap/full_sudo6.xml";
    let got = nmap(rel);
    assert_eq!(got.taken_at, Some(1_399_586_452));
    let ips: Vec<&str> = got
        .observations
        .iter()
        .filter_map(|o| o.ip.as_deref())
        .collect();
    assert_eq!(
        ips,
        ["192.168.1.1", "192.168.1.2", "192.168.1.5", "192.168.1.3"]
    );
    let scan = parse_nmap(rel, &bytes(rel)[..]).unwrap();
    let lines: Vec<u64> = scan.up_hosts().map(|h| h.line).collect();
    assert_eq!(
        got.observations.iter().map(|o| o.line).collect::<Vec<_>>(),
        lines
    );
    assert!(
        got.observations
            .iter()
            .all(|o| o.seen_at == Some(1_399_586_452))
    );

    let router = by_ip(&got, "192.168.1.1");
    assert_eq!(router.mac.as_deref(), Some("6c:2e:85:19:af:00"));
    assert_eq!(
        router.mac_vendor.as_deref(),
        Some("Sagemcom"),
        "nmap's name first"
    );
    assert_eq!(router.hostname, None);
    assert_eq!(router.os.as_deref(), Some("Linux 2.6.13 (embedded)"));
    assert_eq!(
        attr(router, "nmap.os_guess"),
        Some("Linux 2.6.13 (embedded) (100%)")
    );
    assert_eq!(router.vendor, None, "`Linux` names no maker");
    assert_eq!(attr(router, "nmap.os_vendor"), Some("Linux"));
    assert_eq!(attr(router, "nmap.device_type"), Some("WAP, router"));
    assert_eq!(
        attr(router, "nmap.open_ports"),
        Some(
            "23/tcp telnet Sagem router telnetd, 80/tcp http, 443/tcp https, \
             992/tcp telnet Sagem router telnetd, 8080/tcp http-proxy, 8443/tcp https-alt"
        )
    );
    assert_eq!(
        router.software,
        [Software {
            name: "Sagem router telnetd".into(),
            vendor: None,
            version: None,
            cpe: None,
            purl: None,
        }],
        "the same product on two ports is one entry"
    );

    let iphone = by_ip(&got, "192.168.1.2");
    assert_eq!(iphone.mac_vendor.as_deref(), Some("Apple"));
    assert_eq!(
        attr(iphone, "nmap.open_ports"),
        Some("62078/tcp tcpwrapped")
    );
    assert_eq!(
        (iphone.os.as_deref(), attr(iphone, "nmap.os_guess")),
        (None, None)
    );
    assert!(iphone.software.is_empty());

    let windows = by_ip(&got, "192.168.1.5");
    assert_eq!(windows.mac_vendor.as_deref(), Some("Intel Corporate"));
    // Five matches at 100 %: the first wins.
    assert_eq!(
        windows.os.as_deref(),
        Some("Microsoft Windows Server 2008 Beta 3")
    );
    assert_eq!(windows.vendor, None, "Microsoft wrote the OS, not the PC");
    assert_eq!(windows.software.len(), 1);
    assert_eq!(
        (
            windows.software[0].version.as_deref(),
            windows.software[0].cpe.as_deref()
        ),
        (Some("2.0"), None),
        "cpe:/o:microsoft:windows describes the host, not the service"
    );

    let mac = by_ip(&got, "192.168.1.3");
    assert_eq!(
        (mac.mac.as_deref(), mac.mac_vendor.as_deref()),
        (None, None)
    );
    let software: Vec<(&str, Option<&str>)> = mac
        .software
        .iter()
        .map(|s| (s.name.as_str(), s.cpe.as_deref()))
        .collect();
    assert_eq!(
        software,
        [
            ("Heimdal Kerberos", Some("cpe:/a:heimdal:kerberos")),
            ("VirtualBox VM Remote Desktop Service", None),
            ("Apple remote desktop vnc", None),
        ]
    );
}

#[test]
fn nmap_6_os_scan_hosts() {
    let got = nmap("nmap/os_scan6.xml");
    let mac = by_ip(&got, "192.168.1.3");
    assert_eq!(
        mac.os.as_deref(),
        Some("Apple Mac OS X 10.8 (Mountain Lion) (Darwin 12.0.0)")
    );
    assert_eq!(mac.vendor, None, "general purpose");
    assert_eq!(attr(mac, "nmap.device_type"), Some("general purpose"));
    assert_eq!(
        attr(mac, "nmap.open_ports"),
        Some("88/tcp kerberos-sec, 3389/tcp ms-wbt-server, 5900/tcp vnc")
    );
    assert!(
        got.observations.iter().all(|o| o.software.is_empty()),
        "no -sV"
    );
    assert_eq!(
        by_ip(&got, "192.168.1.5").mac_vendor.as_deref(),
        Some("Intel Corporate")
    );
}

#[test]
fn nmap_5_classes_without_matches() {
    let got = nmap("nmap/1_os_banner_scripts.xml");
    let o = &got.observations[0];
    assert_eq!(o.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(o.hostname.as_deref(), Some("localhost"));
    // Nine classes, the first two at 96 %: the first wins.
    assert_eq!(attr(o, "nmap.os_guess"), Some("Netgear embedded (96%)"));
    assert_eq!(o.os, None, "`embedded` names no OS");
    assert_eq!(
        o.vendor.as_deref(),
        Some("Netgear"),
        "a WAP class names its maker"
    );
    assert_eq!(attr(o, "nmap.device_type"), Some("WAP"));
    assert_eq!(
        attr(o, "nmap.open_ports"),
        Some(
            "22/tcp ssh OpenSSH 5.3, 25/tcp smtp Postfix smtpd, 80/tcp http Apache httpd 2.2.15, \
             111/tcp rpcbind 2-4, 631/tcp ipp CUPS 1.4, 3306/tcp mysql MySQL 5.1.67, \
             8009/tcp ajp13, 8080/tcp tcpwrapped"
        )
    );
    let software: Vec<(&str, Option<&str>)> = o
        .software
        .iter()
        .map(|s| (s.name.as_str(), s.version.as_deref()))
        .collect();
    assert_eq!(
        software,
        [
            ("OpenSSH", Some("5.3")),
            ("Postfix smtpd", None),
            ("Apache httpd", Some("2.2.15")),
            ("CUPS", Some("1.4")),
            ("MySQL", Some("5.1.67")),
        ]
    );

    let got = nmap("nmap/1_hosts_down.xml");
    let o = &got.observations[0];
    assert_eq!((o.ip.as_deref(), o.line), (Some("10.1.1.1"), 8));
    assert!(o.attributes.is_empty() && o.software.is_empty(), "{o:?}");
}

#[test]
fn nmap_user_names_before_ptr() {
    let got = nmap("nmap/2_hosts.xml");
    let scanme = by_ip(&got, "74.207.244.221");
    assert_eq!(scanme.hostname.as_deref(), Some("scanme.nmap.org"));
    assert_eq!(
        attr(scanme, "nmap.open_ports"),
        Some("22/tcp ssh, 80/tcp http, 9929/tcp nping-echo"),
        "25/tcp is filtered"
    );
    assert_eq!(
        by_ip(&got, "127.0.0.1").hostname.as_deref(),
        Some("localhost")
    );
}

#[test]
fn nmap_7_docker_host_and_hint() {
    let got = nmap("nmap/dionaea_scan.xml");
    assert_eq!(got.observations.len(), 1, "the <hosthint> is not a host");
    assert_eq!(got.taken_at, Some(1_606_064_907));
    let o = &got.observations[0];
    assert_eq!(o.line, 23);
    assert_eq!(o.hostname.as_deref(), Some("dionaea"), "type user");
    assert_eq!(o.mac.as_deref(), Some("02:42:ac:1c:01:03"));
    assert_eq!(
        o.mac_vendor, None,
        "a locally administered MAC has no registered vendor"
    );
    assert_eq!(o.os.as_deref(), Some("Linux 4.15 - 5.6"));
    assert_eq!(
        attr(o, "nmap.device_type"),
        Some("general purpose, storage-misc")
    );
    let software: Vec<(&str, Option<&str>, Option<&str>)> = o
        .software
        .iter()
        .map(|s| (s.name.as_str(), s.version.as_deref(), s.cpe.as_deref()))
        .collect();
    assert_eq!(
        software,
        [
            ("Synology DiskStation NAS ftpd", None, None),
            ("nginx", None, Some("cpe:/a:igor_sysoev:nginx")),
            ("Windows XP microsoft-ds", None, None),
            ("Microsoft SQL Server 2000", Some("8.00.528.00; SP1+"), None),
            ("MySQL", Some("5.7.16"), Some("cpe:/a:mysql:mysql:5.7.16")),
            (
                "Memcached",
                Some("1.4.25"),
                Some("cpe:/a:memcached:memcached:1.4.25")
            ),
            ("MongoDB", None, None),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// ISC dhcpd.leases

#[test]
fn leases_pfsense_active_clients() {
    let got = leases("dhcp/pfsense.leases");
    assert_eq!(got.taken_at, None);
    let a = by_ip(&got, "10.0.10.72");
    assert_eq!(a.line, 4);
    assert_eq!(a.hostname.as_deref(), Some("Satellite-C700"));
    assert_eq!(a.mac.as_deref(), Some("64:5a:04:6a:07:a2"));
    assert_eq!(
        a.mac_vendor.as_deref(),
        Some("Chicony Electronics Co., Ltd.")
    );
    assert_eq!(a.client_id.as_deref(), Some("01645a046a07a2"));
    assert_eq!(a.seen_at, Some(1_436_169_042)); // 2015/07/06 07:50:42
    assert_eq!(attr(a, "dhcp.ends"), Some("2015-07-06T08:20:42Z"));
    assert_eq!(attr(a, "dhcp.binding_state"), Some("active"));
    assert_eq!(attr(a, "dhcp.lease"), Some("v4"));
    assert_eq!(attr(a, "dhcp.vendor_class"), None);
    let b = by_ip(&got, "10.0.0.36");
    assert_eq!(
        (b.hostname.as_deref(), b.mac_vendor.as_deref()),
        (Some("Gebruiker-PC"), Some("ASUSTek COMPUTER INC."))
    );
}

#[test]
fn leases_relay_options_and_dhcpv6() {
    let got = leases("dhcp/options.leases");
    let a = by_ip(&got, "10.10.10.10");
    assert_eq!(a.hostname.as_deref(), Some("KRONOS"));
    assert_eq!(a.mac_vendor.as_deref(), Some("AVM GmbH"));
    assert_eq!(
        a.client_id.as_deref(),
        Some("ff11d9a6b300030001246511d9a6b3")
    );
    assert_eq!(a.seen_at, Some(1_456_557_101));
    assert_eq!(attr(a, "dhcp.ends"), Some("2016-02-27T09:11:41Z"));

    let got = leases("dhcp/dhcpd6-4.2.4.leases");
    let v6 = by_ip(&got, "2001:610:600:891d::60");
    assert_eq!(v6.line, 8);
    assert_eq!(v6.mac.as_deref(), Some("0a:00:27:00:00:00"));
    assert_eq!(
        v6.mac_vendor, None,
        "locally administered (VirtualBox host-only)"
    );
    assert_eq!(
        v6.client_id.as_deref(),
        Some("346476ea000100011d661fe20a0027000000")
    );
    assert_eq!(attr(v6, "dhcp.duid"), Some("000100011d661fe20a0027000000"));
    assert_eq!(
        v6.seen_at,
        Some(1_439_916_937),
        "no starts: the ia-na's cltt"
    );
    assert_eq!(attr(v6, "dhcp.ends"), Some("2015-08-18T17:05:37Z"));
    assert_eq!(attr(v6, "dhcp.lease"), Some("v6"));
}

#[test]
fn leases_journal_and_reservations() {
    // The appended journal of real_files.rs: every lease is free (past clients), one is
    // abandoned. Past clients are kept without an address; the address is `dhcp.past_ip`.
    let mut journal = bytes("dhcp/debian7.leases");
    journal.extend(bytes("dhcp/static.leases"));
    let all = parse_isc_leases("journal", &journal[..]).unwrap();
    let past = lease_observations(all).observations;
    assert_eq!(past.len(), 5);
    assert!(past.iter().all(|o| o.ip.is_none() && o.mac.is_some() && attr(o, "dhcp.past_ip").is_some()));

    // The last block wins: a lease that became active again is kept, one freed is dropped.
    let mut journal = bytes("dhcp/pfsense.leases");
    journal.extend(
        b"\nlease 10.0.0.36 {\n  binding state free;\n}\nlease 10.0.0.15 {\n  binding state active;\n  hardware ethernet 00:11:32:0a:0b:0c;\n}\n\
          host reception-printer {\n  dynamic;\n  hardware ethernet 00:00:0c:12:34:56;\n  fixed-address 10.0.0.36;\n}\n",
    );
    let got = lease_observations(parse_isc_leases("journal", &journal[..]).unwrap());
    let got: Vec<(&str, Option<&str>, Option<&str>)> = got
        .observations
        .iter()
        .map(|o| {
            (
                o.ip.as_deref().unwrap(),
                o.hostname.as_deref(),
                attr(o, "dhcp.lease"),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("10.0.10.72", Some("Satellite-C700"), Some("v4")),
            ("10.0.0.15", None, Some("v4")),
            ("10.0.0.36", Some("reception-printer"), Some("static")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// CycloneDX

#[test]
fn cyclonedx_keycloak_sbom() {
    let rel = "cyclonedx/sbom-keycloak-10.0.2.json";
    let got = cyclonedx(rel).unwrap();
    assert_eq!(got.observations.len(), 1);
    assert!(got.rejected.is_empty());
    assert_eq!(got.taken_at, Some(1_596_403_277)); // 2020-08-02T21:21:17Z
    let o = &got.observations[0];
    assert_eq!(o.line, 47);
    assert_eq!(o.name.as_deref(), Some("keycloak-parent"));
    assert_eq!(o.product.as_deref(), Some("keycloak-parent"));
    assert_eq!(o.vendor, None);
    assert_eq!((o.os.as_deref(), o.os_version.as_deref()), (None, None));
    assert_eq!(attr(o, "sbom.spec_version"), Some("1.2"));
    assert_eq!(
        attr(o, "sbom.serial_number"),
        Some("urn:uuid:411dafd2-c29f-491a-97d7-e97de5bc2289")
    );
    assert_eq!(attr(o, "sbom.component_type"), Some("application"));
    assert_eq!(attr(o, "sbom.version"), Some("10.0.2"));
    assert_eq!(attr(o, "sbom.group"), Some("org.keycloak"));
    // The application itself, then its 903 components (all with distinct bom-refs).
    assert_eq!(o.software.len(), 1 + 903);
    assert_eq!(
        o.software[0],
        Software {
            name: "keycloak-parent".into(),
            vendor: Some("org.keycloak".into()),
            version: Some("10.0.2".into()),
            cpe: None,
            purl: Some("pkg:maven/org.keycloak/keycloak-parent@10.0.2".into()),
        }
    );
    assert_eq!(
        o.software[1],
        Software {
            name: "bcprov-jdk15on".into(),
            vendor: Some("org.bouncycastle".into()),
            version: Some("1.62".into()),
            cpe: None,
            purl: Some("pkg:maven/org.bouncycastle/bcprov-jdk15on@1.62?type=jar".into()),
        },
        "no publisher: the group"
    );
    assert_eq!(o.software[903].name, "product-portal-example");
    let red_hat = o
        .software
        .iter()
        .filter(|s| s.vendor.as_deref() == Some("JBoss by Red Hat"))
        .count();
    assert_eq!(red_hat, 314, "the publisher before the group");
    assert!(o.software.iter().all(|s| s.cpe.is_none()), "purls only");
}

#[test]
fn cyclonedx_hbom() {
    let got = cyclonedx("cyclonedx/hbom-pcie-sata-adapter.json").unwrap();
    let o = &got.observations[0];
    assert_eq!(o.line, 8);
    assert_eq!(o.name.as_deref(), Some("pcie-sata-adaptor-board"));
    assert_eq!(o.seen_at, Some(1_641_729_600)); // 2022-01-09T12:00:00Z
    assert_eq!(attr(o, "sbom.component_type"), Some("device"));
    assert_eq!(attr(o, "sbom.version"), Some("rev-1"));
    assert_eq!(o.os_version, None, "a board revision is not firmware");
    assert_eq!(attr(o, "sbom.spec_version"), Some("1.4"));
    // The board is hardware: only its six parts are listed.
    let parts: Vec<(&str, Option<&str>, Option<&str>)> = o
        .software
        .iter()
        .map(|s| (s.name.as_str(), s.vendor.as_deref(), s.version.as_deref()))
        .collect();
    assert_eq!(
        parts,
        [
            ("PCIE-098-02-F-D-EMS2", Some("Samtec"), Some("2.9.10")),
            ("47155-4001", Some("Molex"), None),
            ("5622-4100-ML", Some("3M"), None),
            ("MC9A22-1034", Some("Multicomp"), None),
            ("826632-3", Some("TE Connectivity"), None),
            ("MP000003", Some("Multicomp"), None),
        ]
    );
}

#[test]
fn cyclonedx_vex_documents_are_refused() {
    for rel in [
        "cyclonedx/cisa-case1-vex-affected.json",
        "cyclonedx/cisa-case1-vex-fixed.json",
        "cyclonedx/cisa-case1-vex-not_affected.json",
        "cyclonedx/cisa-case1-vex-under_investigation.json",
    ] {
        let e = cyclonedx(rel).unwrap_err();
        assert!(e.is_refusal(), "{rel}: {e}");
        assert_eq!(
            (e.file(), e.line(), e.field()),
            (rel, 14, "vulnerabilities"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("VEX document (vulnerabilities only, no components)"),
            "{e}"
        );
    }
}

#[test]
fn cyclonedx_real_file_cut_or_trickled() {
    let rel = "cyclonedx/sbom-keycloak-10.0.2.json";
    let full = bytes(rel);
    let whole = parse_cyclonedx(rel, &full[..]).unwrap();
    let file = std::fs::File::open(path(rel)).unwrap();
    let trickled = parse_cyclonedx(rel, BufReader::with_capacity(1, file)).unwrap();
    assert_eq!(whole.observations, trickled.observations);
    // Cut in the middle: truncated, at the line where the file ends.
    let cut = full.len() / 2;
    let e = parse_cyclonedx(rel, &full[..cut]).unwrap_err();
    let last_line = 1 + full[..cut].iter().filter(|&&b| b == b'\n').count() as u64;
    assert_eq!(e.line(), last_line, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Mutated real files: a cheap, deterministic complement to the fuzz targets.

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    const TOKENS: &[&[u8]] = &[
        b"[",
        b"]",
        b"{",
        b"}",
        b"\"",
        b",",
        b":",
        b"\\",
        b"null",
        b"1e999",
        b"-0",
        b"\n",
        b"\"components\":[",
        b"\"bomFormat\":\"CycloneDX\"",
        b"\"specVersion\":\"1.6\"",
        b"\"bom-ref\":\"a\"",
        b"\xff",
        b"\xe3\x81",
        b"\x00",
        b"lease 10.0.0.1 {",
        b"<nmaprun",
        b"PK\x03\x04",
        b"\xef\xbb\xbf",
        b"\xff\xfe",
    ];
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(5) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] = rng.next() as u8;
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(256)).min(data.len());
                let copy: Vec<u8> = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, copy);
            }
            _ => data.truncate(at),
        }
    }
    data
}

#[test]
fn mutated_real_files_give_results_or_errors() {
    let mut seeds: Vec<Vec<u8>> = FILES
        .iter()
        .filter(|(rel, _, _)| !rel.contains("keycloak"))
        .map(|(rel, _, _)| bytes(rel))
        .collect();
    // The start of the large SBOM (its metadata and first components).
    seeds.push(bytes("cyclonedx/sbom-keycloak-10.0.2.json")[..6000].to_vec());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in &seeds {
        for _ in 0..300 {
            let data = mutate(&mut rng, seed);
            let _ = detect("mutated", &data);
            match parse_cyclonedx("m.json", &data[..]) {
                Ok(got) => {
                    assert_eq!(got.observations.len(), 1);
                    assert!(got.observations[0].line >= 1);
                }
                Err(e) => assert!(e.file() == "m.json" && e.line() >= 1, "{e}"),
            }
            if let Ok(scan) = parse_nmap("m.xml", &data[..]) {
                let got = nmap_observations(&scan);
                assert!(got.observations.len() <= scan.hosts.len());
            }
            if let Ok(leases) = parse_isc_leases("m.leases", &data[..]) {
                let n = leases.len();
                assert!(lease_observations(leases).observations.len() <= n);
            }
        }
    }
}
