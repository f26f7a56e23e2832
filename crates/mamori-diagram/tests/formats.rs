//! Graphviz and Mermaid exports of the demo clinic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use mamori_diagram::{Options, to_dot, to_mermaid};
use support::demo;

#[test]
fn dot_has_a_cluster_per_segment_and_every_connection() {
    let m = demo();
    let dot = to_dot(&m, &Options::default());
    assert!(dot.starts_with("digraph network {") && dot.trim_end().ends_with('}'));
    for s in &m.segments {
        assert!(dot.contains(&format!("subgraph cluster_s{} {{", s.id)), "cluster for {}", s.name);
        assert!(dot.contains(&s.name));
    }
    for c in &m.connections {
        assert!(dot.contains(&format!("  c{} [label=", c.id)) || dot.contains(&format!("    c{} [label=", c.id)), "node c{}", c.id);
    }
    assert!(dot.contains("c2 -> a2") && dot.contains("style=dashed"));
    assert!(dot.contains("端末PC ×16"));
    assert_eq!(dot.matches('{').count(), dot.matches('}').count());
    assert_eq!(dot, to_dot(&m, &Options::default()));
}

/// Removes `"…"` parts of a line.
fn outside_quotes(line: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for c in line.chars() {
        if c == '"' {
            inside = !inside;
        } else if !inside {
            out.push(c);
        }
    }
    out
}

#[test]
fn mermaid_has_subgraphs_valid_ids_and_quoted_labels() {
    let m = demo();
    let mm = to_mermaid(&m, &Options::default());
    assert!(mm.contains("\nflowchart TB\n"));
    for s in &m.segments {
        assert!(mm.contains(&format!("subgraph s{}[\"", s.id)), "subgraph for {}", s.name);
    }
    for c in &m.connections {
        assert!(mm.contains(&format!("    c{}[\"", c.id)), "connection c{}", c.id);
    }
    assert_eq!(mm.matches("subgraph ").count(), mm.lines().filter(|l| l.trim() == "end").count());
    // Outside quoted labels there is nothing but ASCII: ids carry no Japanese.
    for line in mm.lines().skip_while(|l| !l.starts_with("flowchart")) {
        let rest = outside_quotes(line);
        assert!(rest.is_ascii(), "non-ASCII outside a quoted label: {line}");
        assert_eq!(line.matches('"').count() % 2, 0, "unbalanced quotes: {line}");
    }
    assert!(mm.contains("c2 -.->|\"⚠ 多要素認証なし / 保守回線が常時接続\"| a2"), "{mm}");
    assert!(mm.contains("linkStyle"));
}
