//! The demo clinic's diagram: what a clinic manager and the vendor look for on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use mamori_diagram::{Highlight, HighlightStep, NodeRef, Options, Page, layout, to_svg};
use mamori_i18n::Lang;
use mamori_model::AssetKind;
use mamori_model::network::Severity;
use support::{demo, element, well_formed};

/// Windows PCs only in 院内LAN that no external line ends on: the staff PCs that collapse.
fn staff_pcs() -> Vec<i64> {
    let m = demo();
    let ends: Vec<i64> = m.connections.iter().filter_map(|c| c.asset_id).collect();
    m.assets
        .iter()
        .filter(|a| a.data.kind == AssetKind::Pc)
        .filter(|a| a.data.os.as_deref().is_some_and(|o| o.contains("Windows")))
        .filter(|a| a.segment_ids() == vec![1])
        .filter(|a| !ends.contains(&a.id))
        .map(|a| a.id)
        .collect()
}

#[test]
fn demo_svg_shows_the_clinic() {
    let m = demo();
    let svg = to_svg(&m, &Options::default());
    well_formed(&svg);
    assert!(svg.contains("みなと内科クリニック"));
    assert!(svg.contains("ネットワーク構成図"));
    for s in &m.segments {
        assert!(svg.contains(&s.name), "segment {} missing", s.name);
        assert!(svg.contains(&format!("data-segment=\"{}\"", s.id)));
    }
    for c in &m.connections {
        assert!(svg.contains(&format!("data-connection=\"{}\"", c.id)), "connection {}", c.id);
    }
    // The FortiGate is a gateway node.
    let fg = element(&svg, "id=\"a1\"");
    assert!(fg.contains("class=\"node gateway\"") && fg.contains("FortiGate 60F"), "{fg}");
    assert!(svg.contains("インターネット"));
    assert!(svg.contains("凡例") && svg.contains("作成日") && svg.contains("2026-11-25"));
    assert!(!svg.contains("<script"));
}

#[test]
fn staff_pcs_collapse_into_one_expandable_node() {
    let pcs = staff_pcs();
    assert_eq!(pcs.len(), 16, "fixture: 17 Windows PCs in 院内LAN, one of them receives mail");
    let svg = to_svg(&demo(), &Options::default());
    let g = element(&svg, "data-group=\"seg1:pc:windows\"");
    let members = pcs.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert!(g.contains(&format!("data-members=\"{members}\"")), "{g}");
    assert!(g.contains(&format!("端末PC ×{}", pcs.len())), "{g}");
    assert!(g.contains("class=\"group\""));
    for id in &pcs {
        assert!(!svg.contains(&format!("data-asset=\"{id}\"")), "member {id} drawn on its own");
    }

    let mut opts = Options::default();
    opts.expanded.insert("seg1:pc:windows".into());
    let svg = to_svg(&demo(), &opts);
    well_formed(&svg);
    assert!(!svg.contains("data-group=\"seg1:pc:windows\""));
    for id in &pcs {
        let n = element(&svg, &format!("data-asset=\"{id}\""));
        assert!(n.contains("data-group-member=\"seg1:pc:windows\""), "{n}");
    }
    assert!(svg.contains("受付PC-1") && svg.contains("院長PC"));
}

#[test]
fn eligibility_terminal_bridges_both_segments() {
    let svg = to_svg(&demo(), &Options::default());
    let node = element(&svg, "id=\"a36\"");
    assert!(node.contains("data-segment=\"3\""), "drawn in the closed network: {node}");
    let leg = element(&svg, "id=\"e-a36-s1\"");
    assert!(leg.contains("e-bridge") && leg.contains("data-asset=\"36\"") && leg.contains("data-segment=\"1\""), "{leg}");
    assert!(svg.contains("院内LAN にも接続（192.168.10.60）"));
}

#[test]
fn vendor_line_is_marked_always_on_without_mfa() {
    let svg = to_svg(&demo(), &Options::default());
    let conn = element(&svg, "id=\"c2\"");
    assert!(conn.contains("class=\"conn risky\""), "{conn}");
    assert!(conn.contains("常時接続") && conn.contains("多要素認証なし") && conn.contains("⚠"), "{conn}");
    assert!(conn.contains("株式会社なにわ医療システム"));
    // Its edge runs to the RTX1210 (asset 2) in the risky style.
    let edge = element(&svg, "id=\"e-c2-a2\"");
    assert!(edge.contains("e-risky") && edge.contains("data-connection=\"2\""), "{edge}");
    // The closed network uses a certificate and is not marked.
    let closed = element(&svg, "id=\"c3\"");
    assert!(!closed.contains("risky") && closed.contains("証明書認証"), "{closed}");
}

#[test]
fn output_is_deterministic_and_independent_of_input_order() {
    let m = demo();
    let opts = Options::default();
    let a = to_svg(&m, &opts);
    assert_eq!(a, to_svg(&m, &opts));
    let mut shuffled = m.clone();
    shuffled.assets.reverse();
    shuffled.connections.reverse();
    shuffled.segments.reverse();
    assert_eq!(a, to_svg(&shuffled, &opts));
}

#[test]
fn print_pages_are_landscape_paper_sizes() {
    for (page, w, h) in [(Page::A4, 297.0, 210.0), (Page::A3, 420.0, 297.0)] {
        let svg = to_svg(&demo(), &Options { page, ..Options::default() });
        well_formed(&svg);
        assert!(svg.contains(&format!("width=\"{w}mm\" height=\"{h}mm\"")), "{page:?}");
        let vb = svg.split("viewBox=\"").nth(1).unwrap().split('"').next().unwrap();
        let v: Vec<f64> = vb.split(' ').map(|x| x.parse().unwrap()).collect();
        assert!((v[2] / v[3] - w / h).abs() < 0.01, "viewBox {vb} keeps the paper's shape");
        assert!(svg.contains(if page == Page::A4 { "A4 横" } else { "A3 横" }));
    }
    let screen = to_svg(&demo(), &Options::default());
    assert!(!screen.contains("mm\""));
}

#[test]
fn severity_colours_nodes_and_groups() {
    let mut opts = Options::default();
    opts.severity.insert(7, Severity::Critical);
    opts.severity.insert(20, Severity::High);
    opts.connection_severity.insert(1, Severity::Medium);
    let svg = to_svg(&demo(), &opts);
    let emr = element(&svg, "id=\"a7\"");
    assert!(emr.contains("#fde3e1") && emr.contains("緊急"), "{emr}");
    let group = element(&svg, "data-group=\"seg1:pc:windows\"");
    assert!(group.contains("#ffe9d2"), "a group shows its worst member");
    let line = element(&svg, "id=\"c1\"");
    assert!(line.contains("#fff5c4"));
}

#[test]
fn attack_path_is_drawn_as_numbered_arrows() {
    let opts = Options {
        highlight: Highlight {
        steps: vec![
            HighlightStep { from: NodeRef::Internet, to: NodeRef::Connection(4), label: "SSL-VPN にパスワード総当たり".into() },
            HighlightStep { from: NodeRef::Connection(4), to: NodeRef::Asset(1), label: "FortiGate 経由で侵入".into() },
            HighlightStep { from: NodeRef::Asset(1), to: NodeRef::Asset(7), label: "電子カルテサーバを暗号化".into() },
            HighlightStep { from: NodeRef::Asset(7), to: NodeRef::Asset(25), label: "院長PCへ横展開".into() },
            ],
            ..Highlight::default()
        },
        ..Options::default()
    };
    let svg = to_svg(&demo(), &opts);
    well_formed(&svg);
    assert_eq!(svg.matches("class=\"step\"").count(), 4);
    assert!(svg.contains("① SSL-VPN にパスワード総当たり") && svg.contains("③ 電子カルテサーバを暗号化"));
    assert!(svg.contains("想定される攻撃経路"));
    // An asset named by the path is pulled out of its group.
    assert!(svg.contains("data-asset=\"25\""));
    let d = layout(&demo(), &opts);
    assert_eq!(d.steps.len(), 4);
}

#[test]
fn english_drawing_uses_the_english_catalog() {
    let svg = to_svg(&demo(), &Options { lang: Lang::En, ..Options::default() });
    well_formed(&svg);
    assert!(svg.contains("Network diagram") && svg.contains("Legend") && svg.contains("No multi-factor authentication"));
    assert!(!svg.contains("凡例"));
}

#[test]
fn layout_serializes_for_the_web_ui() {
    let d = layout(&demo(), &Options::default());
    let json = serde_json::to_value(&d).unwrap();
    assert!(json["nodes"].as_array().unwrap().len() > 20);
    assert_eq!(json["segments"].as_array().unwrap().len(), 4);
    assert!(d.width > 1000.0 && d.height > 600.0);
}
