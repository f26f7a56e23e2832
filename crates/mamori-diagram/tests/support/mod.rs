//! Shared by the tests and `examples/gen.rs`: the demo clinic and a generated hospital.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use mamori_model::network::NetworkModel;
use mamori_model::{
    Asset, AssetData, AssetKind, Authentication, ConnectionKind, ExternalConnection, Facility, FacilityKind, Interface,
    Segment, SegmentPurpose,
};

pub fn demo() -> NetworkModel {
    let text = include_str!("../../../mamori-model/tests/fixtures/demo-network.json");
    serde_json::from_str(text).expect("demo fixture")
}

/// Checks that `svg` is well-formed XML; returns the number of elements.
pub fn well_formed(svg: &str) -> usize {
    use quick_xml::Reader;
    use quick_xml::events::Event;
    let mut r = Reader::from_str(svg);
    let mut depth: i64 = 0;
    let mut elements = 0;
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => {
                depth += 1;
                elements += 1;
                check_attributes(&e);
            }
            Ok(Event::Empty(e)) => {
                elements += 1;
                check_attributes(&e);
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("SVG is not well-formed at {}: {e}", r.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    elements
}

/// Attributes parse and none repeats (browsers refuse a document with a repeated attribute).
fn check_attributes(e: &quick_xml::events::BytesStart) {
    for a in e.attributes() {
        if let Err(err) = a {
            panic!("bad attribute in <{}>: {err}", String::from_utf8_lossy(e.name().as_ref()));
        }
    }
}

/// The `<g …>…</g>` element whose start tag contains `marker` (no nested `<g>` inside).
pub fn element<'a>(svg: &'a str, marker: &str) -> &'a str {
    let at = svg.find(marker).unwrap_or_else(|| panic!("no element with {marker}"));
    let start = svg[..at].rfind("<g ").expect("start of element");
    let end = svg[at..].find("</g>").expect("end of element") + at + 4;
    &svg[start..end]
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn asset(id: i64, name: String, kind: AssetKind, os: Option<&str>, ifaces: &[(Option<String>, i64)]) -> Asset {
    let mut data = AssetData::new(name, kind);
    data.os = os.map(str::to_owned);
    data.interfaces = ifaces
        .iter()
        .map(|(ip, seg)| Interface { name: None, ip: ip.clone(), mac: None, segment_id: Some(*seg) })
        .collect();
    Asset { id, data, created_at: String::new(), updated_at: String::new() }
}

/// A generated hospital: `n_assets` devices over `n_segments` segments (one WAN, one closed
/// network, one server segment, the rest wards, device networks and Wi-Fi), a core switch
/// joining every internal segment, a UTM, a vendor router and an IP-VPN router.
pub fn hospital(n_assets: usize, n_segments: usize) -> NetworkModel {
    let mut rng = Lcg(20261125);
    let mut segments = vec![
        Segment { id: 1, name: "WAN（光回線）".into(), purpose: SegmentPurpose::Wan, cidr: Some("203.0.113.0/28".into()), vlan: None, description: None },
        Segment { id: 2, name: "オンライン資格確認 閉域網".into(), purpose: SegmentPurpose::EligibilityClosed, cidr: Some("10.200.0.0/28".into()), vlan: None, description: None },
        Segment { id: 3, name: "サーバ室".into(), purpose: SegmentPurpose::Servers, cidr: Some("10.10.3.0/24".into()), vlan: Some(3), description: None },
    ];
    let purposes = [
        (SegmentPurpose::ClinicalLan, "病棟"),
        (SegmentPurpose::ClinicalLan, "外来"),
        (SegmentPurpose::MedicalDevices, "医療機器"),
        (SegmentPurpose::StaffWifi, "職員Wi-Fi"),
        (SegmentPurpose::PatientWifi, "患者Wi-Fi"),
        (SegmentPurpose::Management, "管理"),
    ];
    for i in 4..=n_segments as i64 {
        let (purpose, label) = purposes[(i as usize) % purposes.len()];
        segments.push(Segment {
            id: i,
            name: format!("{label}{}（VLAN {}）", i, 100 + i),
            purpose,
            cidr: Some(format!("10.10.{i}.0/24")),
            vlan: Some(100 + i),
            description: None,
        });
    }
    let internal: Vec<i64> = (3..=n_segments as i64).collect();
    let mut assets = vec![
        asset(1, "UTM（FortiGate 200F）".into(), AssetKind::VpnUtm, Some("FortiOS"), &[(Some("203.0.113.2".into()), 1), (Some("10.10.3.1".into()), 3)]),
        asset(2, "保守用ルータ".into(), AssetKind::NetworkDevice, Some("RTX"), &[(Some("203.0.113.3".into()), 1), (Some("10.10.3.254".into()), 3)]),
        asset(3, "資格確認用ルータ".into(), AssetKind::NetworkDevice, None, &[(Some("10.200.0.1".into()), 2)]),
        asset(
            4,
            "コアスイッチ".into(),
            AssetKind::NetworkDevice,
            None,
            &internal.iter().map(|s| (Some(format!("10.10.{s}.1")), *s)).collect::<Vec<_>>(),
        ),
        asset(5, "オンライン資格確認端末".into(), AssetKind::Pc, Some("Windows 11"), &[(Some("10.200.0.2".into()), 2), (Some("10.10.4.60".into()), 4)]),
    ];
    let servers = ["電子カルテサーバ", "PACS 画像サーバ", "レセコンサーバ", "バックアップサーバ", "部門システムサーバ"];
    let mut id = 6;
    while assets.len() < n_assets {
        let seg = internal[rng.below(internal.len() as u64) as usize];
        let host = 10 + rng.below(240);
        let ip = Some(format!("10.10.{seg}.{host}"));
        let roll = rng.below(100);
        let (kind, os, name) = if seg == 3 {
            let n = servers[rng.below(servers.len() as u64) as usize];
            (AssetKind::Server, Some("Windows Server 2019"), format!("{n}-{id}"))
        } else {
            match roll {
                0..=54 => (AssetKind::Pc, Some("Windows 11 Pro"), format!("端末PC-{id:04}")),
                55..=59 => (AssetKind::Pc, Some("macOS 14"), format!("Mac-{id:04}")),
                60..=69 => (AssetKind::Printer, None, format!("プリンタ-{id:04}")),
                70..=79 => (AssetKind::MedicalDevice, None, format!("医療機器-{id:04}")),
                80..=84 => (AssetKind::WifiAp, None, format!("AP-{id:04}")),
                85..=91 => (AssetKind::Mobile, Some("iPadOS 18"), format!("タブレット-{id:04}")),
                92..=96 => (AssetKind::Iot, None, format!("IoT-{id:04}")),
                _ => (AssetKind::Unknown, None, format!("不明な機器-{id:04}")),
            }
        };
        assets.push(asset(id, name, kind, os, &[(ip, seg)]));
        id += 1;
    }
    let conn = |id: i64, name: &str, kind, always_on, auth, asset_id: Option<i64>, segment_id: Option<i64>| ExternalConnection {
        id,
        name: name.into(),
        kind,
        provider: None,
        always_on,
        authentication: auth,
        owner: Some("情報システム課".into()),
        asset_id,
        vendor_id: None,
        notes: None,
        segment_id,
        maintenance_window: None,
    };
    let connections = vec![
        conn(1, "インターネット回線", ConnectionKind::Internet, true, Authentication::Password, Some(1), None),
        conn(2, "電子カルテ保守回線", ConnectionKind::VendorRemote, true, Authentication::Password, Some(2), None),
        conn(3, "オンライン資格確認（IP-VPN）", ConnectionKind::ClosedNetwork, true, Authentication::Certificate, Some(3), Some(2)),
        conn(4, "SSL-VPN（職員リモート）", ConnectionKind::Other, false, Authentication::Mfa, Some(1), None),
        conn(5, "PACS 遠隔読影", ConnectionKind::VendorRemote, false, Authentication::Certificate, Some(1), None),
        conn(6, "クラウド予約", ConnectionKind::Cloud, false, Authentication::Password, None, None),
        conn(7, "医療機器保守（リモート）", ConnectionKind::VendorRemote, true, Authentication::Password, Some(200), None),
    ];
    NetworkModel {
        facility: Some(Facility {
            name: "さくら総合病院".into(),
            kind: FacilityKind::Hospital,
            beds: 400,
            prefecture: None,
            address: None,
            security_manager: None,
            phone: None,
        }),
        segments,
        assets,
        connections,
        date: "2026-11-25".into(),
        ..NetworkModel::default()
    }
}
