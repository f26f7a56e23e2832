//! A generated hospital network for benchmarks and tests: deterministic for a seed.
//!
//! Layout: segment 1 is the WAN, 2 the servers, 3 medical devices, 4 patient Wi-Fi, 5 the
//! closed network of オンライン資格確認, the rest clinical LANs and staff Wi-Fi, each with its own
//! /24. A FortiGate (SSL-VPN, KEV vulnerabilities) and a core router joining every internal
//! segment; one remote-maintenance router per vendor line; policies between segments; a
//! shared admin account on servers and edge devices; a shared local admin on many PCs; leavers.

use mamori_model::network::{NetworkModel, Policy, PolicyAction, VulnFact, Zone};
use mamori_model::{
    Account, AccountPrivilege, Asset, AssetData, AssetKind, Authentication, Backup, BackupMedium, ConnectionKind,
    Criticality, ExternalConnection, Facility, FacilityKind, Id, Interface, Segment, SegmentPurpose,
};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn asset(id: Id, name: String, kind: AssetKind, segs: &[Id], services: Option<&str>) -> Asset {
    let mut d = AssetData::new(name, kind);
    for (i, s) in segs.iter().enumerate() {
        d.interfaces.push(Interface {
            name: Some(format!("eth{i}")),
            ip: Some(format!("10.{}.{}.{}", (*s / 250) % 250, *s % 250, (id % 250) + 1)),
            mac: None,
            segment_id: Some(*s),
        });
    }
    if let Some(s) = services {
        d.attributes.insert("services".into(), s.into());
    }
    Asset { id, data: d, created_at: String::new(), updated_at: String::new() }
}

/// A hospital with `assets` devices (at least ~60), `segments` segments (at least 6) and
/// `connections` external connections.
pub fn generated_hospital(assets: usize, segments: usize, connections: usize, seed: u64) -> NetworkModel {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let segments = segments.max(6);
    let mut m = NetworkModel {
        facility: Some(Facility {
            name: format!("生成病院 {assets}"),
            kind: FacilityKind::Hospital,
            beds: (assets / 50) as i64,
            prefecture: None,
            address: None,
            security_manager: None,
            phone: None,
        }),
        vuln_data: true,
        date: "2026-11-25".into(),
        ..NetworkModel::default()
    };
    for i in 1..=segments as Id {
        let purpose = match i {
            1 => SegmentPurpose::Wan,
            2 => SegmentPurpose::Servers,
            3 => SegmentPurpose::MedicalDevices,
            4 => SegmentPurpose::PatientWifi,
            5 => SegmentPurpose::EligibilityClosed,
            x if x % 7 == 0 => SegmentPurpose::StaffWifi,
            _ => SegmentPurpose::ClinicalLan,
        };
        m.segments.push(Segment {
            id: i,
            name: format!("セグメント{i}"),
            purpose,
            cidr: Some(format!("10.{}.{}.0/24", i / 250, i % 250)),
            vlan: Some(i),
            description: None,
        });
    }
    let internal: Vec<Id> = (2..=segments as Id).filter(|s| *s != 5).collect();
    let clinical: Vec<Id> = (6..=segments as Id).collect();
    let mut next_id: Id = 1;
    let mut take = || {
        let id = next_id;
        next_id += 1;
        id
    };

    // Edge: FortiGate and core router.
    let fgt = take();
    let mut a = asset(fgt, "UTM（FortiGate）".into(), AssetKind::VpnUtm, &[1, 2], Some("443/tcp ssl-vpn"));
    a.data.os = Some("FortiOS".into());
    a.data.os_version = Some("7.2.4".into());
    a.data.internet_facing = true;
    m.assets.push(a);
    m.vulns.push(VulnFact {
        asset_id: fgt,
        vuln_id: "CVE-2024-21762".into(),
        kev: true,
        ransomware: false,
        cvss: Some(9.8),
        epss: None,
        network: Some(true),
        band: 1,
        title: None,
    });
    let core = take();
    let mut a = asset(core, "コアルータ".into(), AssetKind::NetworkDevice, &internal, None);
    a.data.os = Some("router".into());
    a.data.os_version = Some("1.0".into());
    m.assets.push(a);

    // Connections with their own routers.
    let mut conn_assets = Vec::new();
    for c in 1..=connections as Id {
        let kind = match c % 4 {
            0 => ConnectionKind::Other,
            1 | 2 => ConnectionKind::VendorRemote,
            _ => ConnectionKind::ClosedNetwork,
        };
        let land = *clinical.get(rng.below(clinical.len() as u64) as usize).unwrap_or(&2);
        let mut asset_id = None;
        if kind == ConnectionKind::VendorRemote {
            let r = take();
            let mut a = asset(r, format!("保守ルータ{c}"), AssetKind::NetworkDevice, &[1, land], Some("500/udp ipsec, 23/tcp telnet"));
            a.data.os = Some(if c % 5 == 0 { "FortiOS".into() } else { "RTX ファームウェア".into() });
            a.data.os_version = Some(if c % 5 == 0 { "7.0.12".into() } else { "Rev.14.01.38".into() });
            a.data.internet_facing = true;
            if c % 6 == 1 {
                m.vulns.push(VulnFact {
                    asset_id: r,
                    vuln_id: format!("CVE-2099-{c:04}"),
                    kev: true,
                    ransomware: true,
                    cvss: Some(9.8),
                    epss: None,
                    network: Some(true),
                    band: 1,
                    title: None,
                });
            }
            m.assets.push(a);
            asset_id = Some(r);
            conn_assets.push((c, r, land));
        } else if kind == ConnectionKind::Other {
            asset_id = Some(fgt);
        }
        m.connections.push(ExternalConnection {
            id: c,
            name: format!("外部接続{c}"),
            kind,
            provider: None,
            always_on: c % 3 != 0,
            authentication: if c % 4 == 3 { Authentication::Certificate } else if c % 8 == 0 { Authentication::Mfa } else { Authentication::Password },
            owner: None,
            asset_id,
            vendor_id: None,
            notes: None,
            segment_id: if kind == ConnectionKind::ClosedNetwork { Some(5) } else { None },
            maintenance_window: Some("平日 9:00-18:00".into()),
        });
    }

    // Servers with roles, a NAS, then the rest.
    let server_count = (assets / 20).max(4);
    let mut servers = Vec::new();
    for i in 0..server_count {
        let id = take();
        let (name, role) = match i {
            0 => ("電子カルテサーバ".to_string(), Some("emr")),
            1 => ("レセコンサーバ".to_string(), Some("receipt")),
            2 => ("PACS サーバ".to_string(), Some("pacs")),
            _ => (format!("サーバ{i}"), None),
        };
        let seg = if i < 3 || rng.chance(70) { 2 } else { *clinical.get(rng.below(clinical.len() as u64) as usize).unwrap_or(&2) };
        let mut a = asset(id, name, AssetKind::Server, &[seg], Some("445/tcp smb, 3389/tcp rdp"));
        a.data.os = Some(match rng.below(4) {
            0 => "Windows Server 2012 R2".into(),
            1 => "Windows Server 2016".into(),
            _ => "Windows Server 2022".into(),
        });
        a.data.endpoint_protection = match rng.below(3) {
            0 => Some(false),
            1 => None,
            _ => Some(true),
        };
        a.data.criticality = Criticality::High;
        if let Some(r) = role {
            a.data.attributes.insert("role".into(), r.into());
        }
        m.assets.push(a);
        servers.push(id);
    }
    let nas = take();
    let mut a = asset(nas, "バックアップNAS".into(), AssetKind::Nas, &[2], Some("445/tcp smb"));
    a.data.attributes.insert("role".into(), "backup".into());
    m.assets.push(a);

    let mut pcs = Vec::new();
    while m.assets.len() < assets {
        let id = take();
        let roll = rng.below(100);
        let seg = *clinical.get(rng.below(clinical.len() as u64) as usize).unwrap_or(&6);
        let a = if roll < 15 {
            let mut a = asset(id, format!("医療機器{id}"), AssetKind::MedicalDevice, &[3], Some("104/tcp dicom, 445/tcp smb"));
            a.data.os = Some("Windows 10 IoT Enterprise 2016 LTSB".into());
            a
        } else if roll < 20 {
            asset(id, format!("プリンタ{id}"), AssetKind::Printer, &[seg], None)
        } else if roll < 22 {
            asset(id, format!("不明な機器{id}"), AssetKind::Unknown, &[seg], None)
        } else {
            let mut a = asset(id, format!("端末{id}"), AssetKind::Pc, &[seg], if rng.chance(80) { Some("445/tcp smb") } else { None });
            a.data.os = Some(if rng.chance(30) { "Windows 10 Pro".into() } else { "Windows 11 Pro".into() });
            a.data.os_version = Some(if rng.chance(50) { "22H2".into() } else { "24H2".into() });
            a.data.endpoint_protection = if rng.chance(10) { Some(false) } else { Some(true) };
            pcs.push(id);
            a
        };
        m.assets.push(a);
    }
    // One dual-homed eligibility terminal.
    if let Some(a) = m.assets.iter_mut().find(|a| a.data.kind == AssetKind::Pc) {
        a.data.interfaces.push(Interface { name: Some("closed".into()), ip: None, mac: None, segment_id: Some(5) });
    }

    // Policies.
    let mut pid: Id = 0;
    let mut pol = |m: &mut NetworkModel, from: Zone, to: Zone, services: &[&str], action: PolicyAction| {
        pid += 1;
        m.policies.push(Policy {
            id: pid,
            name: Some(format!("ポリシー{pid}")),
            gateway_id: Some(fgt),
            from,
            to,
            services: services.iter().map(|s| (*s).to_owned()).collect(),
            action,
            position: pid * 10,
            notes: None,
        });
    };
    pol(&mut m, Zone::Internet, Zone::Asset(fgt), &["tcp/443"], PolicyAction::Allow);
    pol(&mut m, Zone::Internet, Zone::Any, &[], PolicyAction::Deny);
    pol(&mut m, Zone::Segment(4), Zone::Internet, &[], PolicyAction::Allow);
    pol(&mut m, Zone::Segment(4), Zone::Segment(2), &["tcp/443"], PolicyAction::Allow);
    pol(&mut m, Zone::Segment(4), Zone::Any, &[], PolicyAction::Deny);
    for c in &m.connections.clone() {
        match c.kind {
            ConnectionKind::Other => pol(&mut m, Zone::Connection(c.id), Zone::Segment(2), &[], PolicyAction::Allow),
            ConnectionKind::VendorRemote => {
                pol(&mut m, Zone::Connection(c.id), Zone::Segment(2), &["rdp", "smb"], PolicyAction::Allow)
            }
            _ => {}
        }
    }
    for s in &clinical {
        pol(&mut m, Zone::Segment(*s), Zone::Internet, &[], PolicyAction::Allow);
        pol(&mut m, Zone::Segment(*s), Zone::Segment(2), &["tcp/443", "smb"], PolicyAction::Allow);
        if rng.chance(50) {
            pol(&mut m, Zone::Segment(*s), Zone::Segment(3), &[], PolicyAction::Deny);
        }
        if rng.chance(30) {
            let other = *clinical.get(rng.below(clinical.len() as u64) as usize).unwrap_or(s);
            pol(&mut m, Zone::Segment(*s), Zone::Segment(other), &["rdp"], PolicyAction::Allow);
        }
    }
    pol(&mut m, Zone::Segment(3), Zone::Segment(2), &["dicom"], PolicyAction::Allow);
    for (_, r, _) in &conn_assets {
        pol(&mut m, Zone::Internet, Zone::Asset(*r), &["udp/500"], PolicyAction::Allow);
    }

    // Accounts.
    let mut admin_assets: Vec<Id> = servers.iter().take(10).copied().collect();
    admin_assets.push(nas);
    admin_assets.push(fgt);
    admin_assets.extend(conn_assets.iter().take(5).map(|(_, r, _)| *r));
    let mut accounts = vec![Account {
        id: 1,
        username: "admin".into(),
        system: None,
        privilege: AccountPrivilege::Admin,
        shared: true,
        person: None,
        holder_left: false,
        enabled: true,
        last_used: None,
        asset_ids: admin_assets,
        notes: None,
    }];
    let pc_admin: Vec<Id> = pcs.iter().copied().filter(|_| rng.chance(40)).collect();
    accounts.push(Account {
        id: 2,
        username: "localadmin".into(),
        system: None,
        privilege: AccountPrivilege::Admin,
        shared: true,
        person: None,
        holder_left: false,
        enabled: true,
        last_used: None,
        asset_ids: pc_admin,
        notes: None,
    });
    let leavers = (assets / 500).max(2);
    for i in 0..leavers {
        accounts.push(Account {
            id: 3 + i as Id,
            username: format!("leaver{i}"),
            system: None,
            privilege: AccountPrivilege::User,
            shared: false,
            person: Some(format!("退職者{i}")),
            holder_left: true,
            enabled: true,
            last_used: None,
            asset_ids: if i == 0 { vec![fgt] } else { servers.iter().take(2).copied().collect() },
            notes: None,
        });
    }
    m.accounts = accounts;
    m.backups = vec![
        Backup {
            id: 1,
            name: "電子カルテ バックアップ".into(),
            covers: None,
            medium: BackupMedium::Online,
            asset_id: Some(nas),
            same_credentials: true,
            last_success: None,
            last_restore_test: None,
            notes: None,
        },
        Backup {
            id: 2,
            name: "レセコン バックアップ".into(),
            covers: None,
            medium: BackupMedium::Online,
            asset_id: Some(nas),
            same_credentials: false,
            last_success: None,
            last_restore_test: None,
            notes: None,
        },
    ];
    m
}
