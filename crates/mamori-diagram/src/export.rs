//! Graphviz and Mermaid text of the same logical drawing (nodes, groups, clusters per
//! segment), for users who lay it out with their own tools.

use std::fmt::Write as _;

use crate::layout::{Diagram, Edge, EdgeStyle, Node, NodeKind};

/// An identifier safe in DOT and Mermaid: ASCII letters, digits and `_`.
fn ident(key: &str) -> String {
    let mut out: String = key.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.insert(0, 'n');
    }
    out
}

fn node_label(n: &Node) -> Vec<String> {
    let mut lines: Vec<String> = n.lines.iter().take(2).cloned().collect();
    for w in &n.warnings {
        lines.push(format!("⚠ {w}"));
    }
    lines
}

fn dot_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn dot_edge_attrs(e: &Edge) -> &'static str {
    match e.style {
        EdgeStyle::Internet => "color=\"#9aa9ba\"",
        EdgeStyle::AlwaysOn => "color=\"#2f4a6d\", penwidth=2",
        EdgeStyle::OnDemand => "color=\"#2f4a6d\", style=dotted",
        EdgeStyle::Risky => "color=\"#d32f2f\", style=dashed, penwidth=2, fontcolor=\"#d32f2f\"",
        EdgeStyle::Closed => "color=\"#2c8c86\", penwidth=2",
        EdgeStyle::Link => "color=\"#6b7c8f\", arrowhead=none",
        EdgeStyle::Bridge => "color=\"#e07b00\", style=dashed, penwidth=2, arrowhead=none",
    }
}

fn edge_text(d: &Diagram, e: &Edge) -> Option<String> {
    if e.style == EdgeStyle::Risky {
        let n = d.node(&e.from)?;
        return Some(format!("⚠ {}", n.warnings.join(" / ")));
    }
    e.label.clone()
}

/// Graphviz DOT.
pub fn dot(d: &Diagram) -> String {
    let mut s = String::new();
    let font = "Noto Sans CJK JP";
    let _ = writeln!(s, "digraph network {{");
    let _ = writeln!(s, "  graph [rankdir=TB, compound=true, newrank=true, fontname={}, label={}, labelloc=t, fontsize=18];", dot_str(font), dot_str(&d.title));
    let _ = writeln!(s, "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", fontname={}, fontsize=10];", dot_str(font));
    let _ = writeln!(s, "  edge [fontname={}, fontsize=9];", dot_str(font));
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Internet) {
        let _ = writeln!(s, "  {} [label={}, shape=ellipse, fillcolor=\"#eaf1fb\"];", ident(&n.key), dot_str(&n.title));
    }
    let _ = writeln!(s, "  subgraph cluster_outside {{\n    label={}; style=\"rounded,dashed\"; color=\"#9aa9ba\";", dot_str(mamori_i18n::t(lang_of(d), "diagram.band.outside")));
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Connection) {
        let risky = !n.warnings.is_empty();
        let _ = writeln!(
            s,
            "    {} [label={}{}];",
            ident(&n.key),
            dot_str(&node_label(n).join("\n")),
            if risky { ", color=\"#d32f2f\", penwidth=2" } else { "" }
        );
    }
    s.push_str("  }\n");
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Gateway) {
        let _ = writeln!(s, "  {} [label={}, penwidth=2];", ident(&n.key), dot_str(&node_label(n).join("\n")));
    }
    for b in &d.segments {
        let _ = writeln!(
            s,
            "  subgraph cluster_{} {{\n    label={}; style=\"rounded,filled\"; fillcolor=\"#f3f6fa\"; color=\"#4a78b5\";",
            ident(&b.key),
            dot_str(&format!("{}\n{}", b.name, b.subtitle))
        );
        let _ = writeln!(s, "    {} [shape=point, style=invis, width=0.01];", ident(&b.key));
        for n in d.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Asset | NodeKind::Group) && n.segment == b.id) {
            let mut label = node_label(n);
            if n.kind == NodeKind::Group {
                label.truncate(2);
            }
            let shape = if n.kind == NodeKind::Group { ", peripheries=2" } else { "" };
            let _ = writeln!(s, "    {} [label={}{shape}];", ident(&n.key), dot_str(&label.join("\n")));
        }
        s.push_str("  }\n");
    }
    for e in &d.edges {
        let to_cluster = d.segments.iter().find(|b| b.key == e.to);
        let mut attrs = dot_edge_attrs(e).to_owned();
        if let Some(b) = to_cluster {
            attrs.push_str(&format!(", lhead=cluster_{}", ident(&b.key)));
        }
        if let Some(l) = edge_text(d, e) {
            attrs.push_str(&format!(", label={}", dot_str(&l)));
        }
        let _ = writeln!(s, "  {} -> {} [{attrs}];", ident(&e.from), ident(&e.to));
    }
    for st in &d.steps {
        let from = ref_key(d, &st.from);
        let to = ref_key(d, &st.to);
        if let (Some(a), Some(b)) = (from, to) {
            let _ = writeln!(
                s,
                "  {} -> {} [color=\"#8e24aa\", penwidth=3, label={}, fontcolor=\"#8e24aa\", constraint=false];",
                ident(&a),
                ident(&b),
                dot_str(&format!("{} {}", crate::text::circled(st.n), st.label))
            );
        }
    }
    s.push_str("}\n");
    s
}

fn lang_of(d: &Diagram) -> mamori_i18n::Lang {
    d.lang.parse().unwrap_or_default()
}

fn ref_key(d: &Diagram, code: &str) -> Option<String> {
    let (kind, id) = code.split_once(':').unwrap_or((code, ""));
    let key = match kind {
        "internet" => "internet".to_owned(),
        "connection" => format!("c{id}"),
        "segment" => format!("s{id}"),
        "asset" => {
            let id: i64 = id.parse().ok()?;
            return d
                .nodes
                .iter()
                .find(|n| matches!(n.kind, NodeKind::Asset | NodeKind::Gateway | NodeKind::Group) && n.members.contains(&id))
                .map(|n| n.key.clone());
        }
        _ => return None,
    };
    Some(key)
}

fn mm_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '\n' => out.push_str("<br/>"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Mermaid flowchart.
pub fn mermaid(d: &Diagram) -> String {
    let mut s = String::new();
    s.push_str("---\n");
    let _ = writeln!(s, "title: {}", mm_str(&d.title));
    s.push_str("---\nflowchart TB\n");
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Internet) {
        let _ = writeln!(s, "  {}(({}))", ident(&n.key), mm_str(&n.title));
    }
    let _ = writeln!(s, "  subgraph outside[{}]", mm_str(mamori_i18n::t(lang_of(d), "diagram.band.outside")));
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Connection) {
        let _ = writeln!(s, "    {}[{}]", ident(&n.key), mm_str(&node_label(n).join("\n")));
    }
    s.push_str("  end\n");
    for n in d.nodes.iter().filter(|n| n.kind == NodeKind::Gateway) {
        let _ = writeln!(s, "  {}[{}]", ident(&n.key), mm_str(&node_label(n).join("\n")));
    }
    for b in &d.segments {
        let _ = writeln!(s, "  subgraph {}[{}]", ident(&b.key), mm_str(&format!("{}\n{}", b.name, b.subtitle)));
        let mut any = false;
        for n in d.nodes.iter().filter(|n| matches!(n.kind, NodeKind::Asset | NodeKind::Group) && n.segment == b.id) {
            any = true;
            let mut label = node_label(n);
            if n.kind == NodeKind::Group {
                label.truncate(2);
                let _ = writeln!(s, "    {}[[{}]]", ident(&n.key), mm_str(&label.join("\n")));
            } else {
                let _ = writeln!(s, "    {}[{}]", ident(&n.key), mm_str(&label.join("\n")));
            }
        }
        if !any {
            let _ = writeln!(s, "    {}_empty[{}]", ident(&b.key), mm_str(b.note.as_deref().unwrap_or("-")));
        }
        s.push_str("  end\n");
    }
    let mut styles: Vec<(usize, &str)> = Vec::new();
    for (i, e) in d.edges.iter().enumerate() {
        let arrow = match e.style {
            EdgeStyle::Internet | EdgeStyle::Link => "---",
            EdgeStyle::Bridge | EdgeStyle::OnDemand => "-.-",
            EdgeStyle::Risky => "-.->",
            _ => "-->",
        };
        match edge_text(d, e) {
            Some(l) => {
                let _ = writeln!(s, "  {} {arrow}|{}| {}", ident(&e.from), mm_str(&l), ident(&e.to));
            }
            None => {
                let _ = writeln!(s, "  {} {arrow} {}", ident(&e.from), ident(&e.to));
            }
        }
        match e.style {
            EdgeStyle::Risky => styles.push((i, "stroke:#d32f2f,stroke-width:2px")),
            EdgeStyle::Closed => styles.push((i, "stroke:#2c8c86,stroke-width:2px")),
            EdgeStyle::Bridge => styles.push((i, "stroke:#e07b00,stroke-width:2px")),
            _ => {}
        }
    }
    let mut k = d.edges.len();
    for st in &d.steps {
        if let (Some(a), Some(b)) = (ref_key(d, &st.from), ref_key(d, &st.to)) {
            let _ = writeln!(s, "  {} ==>|{}| {}", ident(&a), mm_str(&format!("{} {}", crate::text::circled(st.n), st.label)), ident(&b));
            styles.push((k, "stroke:#8e24aa,stroke-width:4px"));
            k += 1;
        }
    }
    for (i, st) in styles {
        let _ = writeln!(s, "  linkStyle {i} {st}");
    }
    s.push_str("  classDef risky stroke:#d32f2f,stroke-width:2px\n");
    let risky: Vec<String> = d.nodes.iter().filter(|n| n.kind == NodeKind::Connection && !n.warnings.is_empty()).map(|n| ident(&n.key)).collect();
    if !risky.is_empty() {
        let _ = writeln!(s, "  class {} risky", risky.join(","));
    }
    s
}
