//! The demo facility's network model (fixture used by the diagram and risk crates) reads.

use mamori_model::network::{NetworkModel, Zone};

#[test]
fn demo_network_fixture_deserializes() {
    let text = include_str!("fixtures/demo-network.json");
    let m: NetworkModel = serde_json::from_str(text).unwrap_or_default();
    assert_eq!(m.assets.len(), 36);
    assert!(m.policies.iter().any(|p| p.from == Zone::Connection(2) && p.to == Zone::Segment(1)));
    let emr = m.asset(7).and_then(|a| a.services()).unwrap_or_default();
    assert!(emr.iter().any(|s| s.port == 3389));
    assert!(m.asset(19).and_then(|a| a.services()).is_none(), "no source listed a staff PC's ports");
    assert_eq!(m.connection(3).and_then(|c| c.segment_id), Some(3));
}
