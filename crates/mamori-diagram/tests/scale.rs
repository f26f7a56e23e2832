//! A generated 5,000-device hospital still gives a readable drawing, fast.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::time::Instant;

use mamori_diagram::{MAX_NODES_PER_SEGMENT, NodeKind, Options, layout, to_dot, to_mermaid, to_svg};
use support::{hospital, well_formed};

#[test]
fn five_thousand_assets_render_collapsed() {
    let m = hospital(5000, 60);
    assert_eq!(m.assets.len(), 5000);
    let opts = Options::default();
    let started = Instant::now();
    let svg = to_svg(&m, &opts);
    let took = started.elapsed();
    // Debug build on a shared machine: generous; the release build takes tens of milliseconds.
    assert!(took.as_secs_f64() < 3.0, "took {took:?}");
    let elements = well_formed(&svg);
    assert!(elements < 12_000, "{elements} SVG elements");
    assert!(svg.matches("<g ").count() < 2_000);

    let d = layout(&m, &opts);
    for b in d.segments.iter().filter(|b| !b.transit) {
        let n = d.nodes.iter().filter(|n| n.segment == b.id && matches!(n.kind, NodeKind::Asset | NodeKind::Group)).count();
        assert!(n <= MAX_NODES_PER_SEGMENT, "{} has {n} nodes", b.name);
    }
    // Every device is on the drawing, alone or in a group.
    let drawn: usize = d.nodes.iter().map(|n| n.members.len()).sum();
    assert_eq!(drawn, 5000);
    assert_eq!(d.segments.len(), 60);
    // The page stays a drawing, not a ribbon.
    assert!(d.width < 5000.0 && d.height < 12_000.0, "{} × {}", d.width, d.height);
    assert!(!to_dot(&m, &opts).is_empty() && !to_mermaid(&m, &opts).is_empty());
}
