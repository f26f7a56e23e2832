#![allow(dead_code)]
use mamori_model::network::NetworkModel;

pub fn demo() -> NetworkModel {
    let s = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../mamori-model/tests/fixtures/demo-network.json"))
        .unwrap_or_default();
    serde_json::from_str(&s).unwrap_or_default()
}

/// The demo without vulnerability feeds.
pub fn demo_no_feeds() -> NetworkModel {
    let mut m = demo();
    m.vulns.clear();
    m.vuln_data = false;
    m
}
