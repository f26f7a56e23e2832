//! SVG rendering of a laid-out [`Diagram`]. No script, no external fonts or images; shared
//! styling sits in one `<style>` element, colours are presentation attributes.

use std::fmt::Write as _;

use mamori_i18n::{Lang, t, tf};
use mamori_model::network::Severity;
use mamori_model::{AssetKind, ConnectionKind};

use crate::layout::{CONN_H, Diagram, Edge, EdgeStyle, HEADER_H, Mark, Node, NodeKind, Point, Rect, SegmentBox};
use crate::text::{circled, esc, fit, num};
use crate::{Options, Page};

const FONT: &str = "'Noto Sans CJK JP','Noto Sans JP','Hiragino Sans','Hiragino Kaku Gothic ProN','Yu Gothic','Meiryo',sans-serif";
const INK: &str = "#1f2d3d";
const MUTED: &str = "#5b6b7b";

const CSS: &str = "
text{fill:#1f2d3d}
.halo{paint-order:stroke;stroke:#ffffff;stroke-width:3.5px;stroke-linejoin:round}
.t-title{font-size:22px;font-weight:700}
.t-sub{font-size:12px;fill:#5b6b7b}
.t-seg{font-size:15px;font-weight:700}
.t-segsub{font-size:11.5px;fill:#4b5b6b}
.t-name{font-size:12.5px;font-weight:700}
.t-line{font-size:10.5px;fill:#4b5b6b}
.t-warn{font-size:10.5px;font-weight:700;fill:#c62828}
.t-edge{font-size:10px;fill:#3d4d5d}
.t-small{font-size:11px}
.t-cap{font-size:12px;font-weight:700;fill:#5b6b7b;letter-spacing:0.08em}
.edge polyline,.edge line{fill:none;stroke-linejoin:round}
.e-internet{stroke:#9aa9ba;stroke-width:1.4}
.e-always_on{stroke:#2f4a6d;stroke-width:2}
.e-on_demand{stroke:#2f4a6d;stroke-width:1.8;stroke-dasharray:2 4;stroke-linecap:round}
.e-risky{stroke:#d32f2f;stroke-width:2.4;stroke-dasharray:9 5}
.e-closed{stroke:#2c8c86;stroke-width:2.6}
.e-link{stroke:#6b7c8f;stroke-width:1.6}
.e-bridge{stroke:#e07b00;stroke-width:2.4;stroke-dasharray:7 4}
.step line{stroke:#8e24aa;stroke-width:4.5;stroke-linecap:round;opacity:0.9}
.node,.group,.conn,.segment{cursor:pointer}
";

/// The drawing's stylesheet with every selector scoped under `scope` (`svg.diagram`): for a
/// web page whose Content-Security-Policy refuses inline `<style>` (draw with
/// `Options::inline_css = false` and serve this as a stylesheet).
pub fn scoped_css(scope: &str) -> String {
    let mut out = String::new();
    for line in CSS.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((selectors, body)) = line.split_once('{') else { continue };
        let scoped: Vec<String> = selectors.split(',').map(|sel| format!("{scope} {}", sel.trim())).collect();
        out.push_str(&format!("{}{{{body}\n", scoped.join(",")));
    }
    out
}

/// Opens a titled box beside the drawing (`<g class=…>` left open for its lines).
fn side_box(s: &mut String, class: &str, r: Rect, style: &str, title: &str) {
    let _ = write!(
        s,
        "<g class=\"{class}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" {style}/><text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"700\">{}</text>",
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h),
        num(r.x + 12.0),
        num(r.y + 22.0),
        esc(title)
    );
}

fn sev_colors(s: Option<Severity>) -> (&'static str, &'static str) {
    match s {
        Some(Severity::Critical) => ("#fde3e1", "#c62828"),
        Some(Severity::High) => ("#ffe9d2", "#e65100"),
        Some(Severity::Medium) => ("#fff5c4", "#b08800"),
        Some(Severity::Low) => ("#e9eef3", "#607d8b"),
        Some(Severity::Info) | None => ("#ffffff", "#7b8a9a"),
    }
}

fn purpose_colors(p: Option<&str>) -> (&'static str, &'static str) {
    match p {
        Some("clinical_lan") => ("#f0f6ff", "#4a78b5"),
        Some("medical_devices") => ("#f1f8ef", "#4f8a4a"),
        Some("servers") => ("#f5f1fb", "#7657a8"),
        Some("patient_wifi") => ("#fff7eb", "#c98a2c"),
        Some("staff_wifi") => ("#eef8fb", "#3f8fb0"),
        Some("eligibility_closed") => ("#ebf7f6", "#2c8c86"),
        Some("dmz") => ("#fdf0f0", "#b55a5a"),
        Some("wan") => ("#eef1f5", "#56687d"),
        _ => ("#f5f6f8", "#7a8896"),
    }
}

fn kind_color(k: Option<AssetKind>) -> &'static str {
    match k {
        Some(AssetKind::Server) | Some(AssetKind::Nas) => "#6a4fa0",
        Some(AssetKind::Pc) | Some(AssetKind::Mobile) => "#3b6ea5",
        Some(AssetKind::NetworkDevice) | Some(AssetKind::WifiAp) => "#2f6f73",
        Some(AssetKind::VpnUtm) => "#b5462f",
        Some(AssetKind::MedicalDevice) => "#2e7d32",
        Some(AssetKind::Printer) | Some(AssetKind::Iot) => "#6d5a45",
        _ => "#6b7c8f",
    }
}

fn conn_color(k: Option<ConnectionKind>) -> &'static str {
    match k {
        Some(ConnectionKind::Internet) => "#3b6ea5",
        Some(ConnectionKind::VendorRemote) => "#9a5b00",
        Some(ConnectionKind::ClosedNetwork) => "#2c8c86",
        Some(ConnectionKind::Cloud) => "#6a4fa0",
        _ => "#5b6b7b",
    }
}

fn sev_key(s: Severity) -> String {
    format!("diagram.severity.{}", s.code())
}

const SYMBOLS: &str = r##"<symbol id="k-server" viewBox="0 0 20 20"><rect x="3" y="2" width="14" height="5" rx="1"/><rect x="3" y="8" width="14" height="5" rx="1"/><rect x="3" y="14" width="14" height="4.5" rx="1"/><path d="M6 4.5h1.5M6 10.5h1.5M6 16.2h1.5"/></symbol>
<symbol id="k-pc" viewBox="0 0 20 20"><rect x="2" y="3" width="16" height="11" rx="1.2"/><path d="M7 17.5h6M10 14v3.5"/></symbol>
<symbol id="k-network_device" viewBox="0 0 20 20"><rect x="1.5" y="6" width="17" height="8" rx="1.5"/><path d="M5 10h.5M8 10h.5M11 10h.5M14 10h.5" stroke-width="2" stroke-linecap="round"/></symbol>
<symbol id="k-vpn_utm" viewBox="0 0 20 20"><rect x="2" y="3" width="16" height="14" rx="1"/><path d="M2 7.7h16M2 12.3h16M7 3v4.7M13 3v4.7M10 7.7v4.6M5 12.3V17M15 12.3V17"/></symbol>
<symbol id="k-wifi_ap" viewBox="0 0 20 20"><path d="M3 8.5a10 10 0 0 1 14 0M5.8 11.3a6 6 0 0 1 8.4 0M8.4 14a2.3 2.3 0 0 1 3.2 0"/><circle cx="10" cy="16.3" r="0.9"/></symbol>
<symbol id="k-medical_device" viewBox="0 0 20 20"><rect x="2" y="2" width="16" height="16" rx="3"/><path d="M10 6v8M6 10h8" stroke-width="2.6"/></symbol>
<symbol id="k-printer" viewBox="0 0 20 20"><path d="M5.5 8V2.5h9V8M2.5 8h15v6.5h-15zM6 12h8v5.5H6z"/></symbol>
<symbol id="k-nas" viewBox="0 0 20 20"><rect x="4" y="2" width="12" height="16" rx="1.5"/><path d="M7 6h6M7 9h6"/><circle cx="10" cy="14" r="1.3"/></symbol>
<symbol id="k-mobile" viewBox="0 0 20 20"><rect x="5.5" y="2" width="9" height="16" rx="1.6"/><path d="M9 15.5h2"/></symbol>
<symbol id="k-iot" viewBox="0 0 20 20"><rect x="2" y="6" width="11" height="8" rx="1"/><path d="M13 9l5-2.5v7L13 11"/></symbol>
<symbol id="k-unknown" viewBox="0 0 20 20"><circle cx="10" cy="10" r="8"/><path d="M7.6 7.8a2.5 2.5 0 1 1 3.4 2.3c-.7.3-1 .8-1 1.6v.6M10 14.8v.4"/></symbol>
<symbol id="c-internet" viewBox="0 0 20 20"><circle cx="10" cy="10" r="8"/><ellipse cx="10" cy="10" rx="3.4" ry="8"/><path d="M2 10h16M3.5 5.5h13M3.5 14.5h13"/></symbol>
<symbol id="c-vendor_remote" viewBox="0 0 20 20"><path d="M4 11a6 6 0 0 1 12 0M4 11v3.5h2.5V11M16 11v3.5h-2.5V11M15 15c0 2-2 2.5-4 2.5"/></symbol>
<symbol id="c-closed_network" viewBox="0 0 20 20"><rect x="4" y="9" width="12" height="9" rx="1.2"/><path d="M7 9V6.5a3 3 0 0 1 6 0V9M10 12.5v2"/></symbol>
<symbol id="c-cloud" viewBox="0 0 20 20"><path d="M6 16h9a3.5 3.5 0 0 0 .5-7 5 5 0 0 0-9.6-1A4 4 0 0 0 6 16z"/></symbol>
<symbol id="c-other" viewBox="0 0 20 20"><path d="M8.5 11.5l3-3M7 9.5l-2 2a2.8 2.8 0 0 0 4 4l2-2M13 10.5l2-2a2.8 2.8 0 0 0-4-4l-2 2"/></symbol>
<marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#8e24aa"/></marker>
<marker id="arrow-edge" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 1L9 5L0 9z" fill="#2f4a6d"/></marker>"##;

/// Renders the SVG document.
pub fn render(d: &Diagram, opts: &Options) -> String {
    let lang = opts.lang;
    let mut s = String::with_capacity(64 * 1024 + d.nodes.len() * 900);
    let (w, h) = (d.width, d.height);
    let (vb, size) = match d.page.size_mm() {
        None => (Rect { x: 0.0, y: 0.0, w, h }, format!("width=\"{}\" height=\"{}\"", num(w), num(h))),
        Some((pw, ph)) => {
            let aspect = f64::from(pw) / f64::from(ph);
            let vb = if w / h > aspect {
                let vh = w / aspect;
                Rect { x: 0.0, y: -(vh - h) / 2.0, w, h: vh }
            } else {
                let vw = h * aspect;
                Rect { x: -(vw - w) / 2.0, y: 0.0, w: vw, h }
            };
            (vb, format!("width=\"{pw}mm\" height=\"{ph}mm\""))
        }
    };
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"diagram\" {size} viewBox=\"{} {} {} {}\" font-family=\"{FONT}\" data-page=\"{}\" role=\"img\" aria-label=\"{}\">",
        num(vb.x),
        num(vb.y),
        num(vb.w),
        num(vb.h),
        d.page.code(),
        esc(&d.title)
    );
    let _ = writeln!(s, "<title>{}</title>", esc(&d.title));
    if opts.inline_css {
        let _ = writeln!(s, "<style>{CSS}</style>");
    }
    let _ = writeln!(s, "<defs>\n{SYMBOLS}\n</defs>");
    let _ = writeln!(s, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>", num(vb.x), num(vb.y), num(vb.w), num(vb.h));
    // Drawing frame.
    let _ = writeln!(
        s,
        "<rect x=\"12\" y=\"12\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#1f2d3d\" stroke-width=\"1.2\"/>",
        num(w - 24.0),
        num(h - 24.0)
    );
    let _ = writeln!(s, "<text x=\"32\" y=\"54\" class=\"t-title\">{}</text>", esc(&d.title));
    if !d.date.is_empty() {
        let _ = writeln!(
            s,
            "<text x=\"32\" y=\"76\" class=\"t-sub\">{}</text>",
            esc(&tf(lang, "diagram.as_of", &[("date", &d.date)]))
        );
    }

    // Outside band.
    let b = d.external_band;
    let _ = writeln!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"12\" fill=\"#f6f8fb\" stroke=\"#c9d3de\" stroke-dasharray=\"6 4\"/>",
        num(b.x),
        num(b.y),
        num(b.w),
        num(b.h)
    );
    let _ = writeln!(s, "<text x=\"{}\" y=\"{}\" class=\"t-cap\">{}</text>", num(b.x + 14.0), num(b.y + 20.0), esc(t(lang, "diagram.band.outside")));

    s.push_str("<g class=\"segments\">\n");
    for sb in &d.segments {
        segment(&mut s, sb, lang);
    }
    s.push_str("</g>\n<g class=\"edges\">\n");
    for e in &d.edges {
        edge(&mut s, e, lang);
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for n in &d.nodes {
        node(&mut s, n, lang);
    }
    s.push_str("</g>\n");
    // Edge labels on top of everything but the highlight, so nodes never hide them.
    s.push_str("<g class=\"edge-labels\">\n");
    for e in &d.edges {
        if let (Some(l), Some(p)) = (&e.label, e.label_at) {
            let anchor = if e.style == EdgeStyle::Bridge { " fill=\"#b35f00\" font-weight=\"700\"" } else { "" };
            let _ = writeln!(s, "<text x=\"{}\" y=\"{}\" class=\"t-edge halo\"{anchor}>{}</text>", num(p.x), num(p.y), esc(l));
        }
    }
    s.push_str("</g>\n");
    steps(&mut s, d);
    footer(&mut s, d, opts);
    s.push_str("</svg>\n");
    s
}

fn segment(s: &mut String, b: &SegmentBox, lang: Lang) {
    let (fill, stroke) = purpose_colors(b.purpose.as_deref());
    let r = b.rect;
    let id_attr = b.id.map(|id| format!(" data-segment=\"{id}\"")).unwrap_or_default();
    let (mark_stroke, mark_w, dash) = mark_style(b.mark, stroke);
    let sw = mark_w.unwrap_or("2");
    let _ = write!(s, "<g class=\"segment{}\" id=\"{}\"{id_attr}>", if b.transit { " transit" } else { "" }, esc(&b.key));
    let _ = write!(s, "<title>{}\n{}</title>", esc(&b.name), esc(&b.subtitle));
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{fill}\" stroke=\"{mark_stroke}\" stroke-width=\"{sw}\"{dash}/>",
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h),
        if b.transit { 15 } else { 14 }
    );
    if b.transit {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" class=\"t-small\"><tspan font-weight=\"700\">{}</tspan><tspan dx=\"10\" fill=\"{MUTED}\">{}</tspan></text>",
            num(r.x + 16.0),
            num(r.y + 19.5),
            esc(&b.name),
            esc(&b.subtitle)
        );
    } else {
        // Header strip.
        let _ = write!(
            s,
            "<path d=\"M{} {}h{}\" stroke=\"{stroke}\" stroke-opacity=\"0.35\"/>",
            num(r.x + 12.0),
            num(r.y + HEADER_H - 8.0),
            num(r.w - 24.0)
        );
        let _ = write!(s, "<rect x=\"{}\" y=\"{}\" width=\"6\" height=\"32\" rx=\"3\" fill=\"{stroke}\"/>", num(r.x + 10.0), num(r.y + 8.0));
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-seg halo\">{}</text>", num(r.x + 24.0), num(r.y + 23.0), esc(&fit(&b.name, 15.0, r.w - 40.0)));
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-segsub halo\">{}</text>", num(r.x + 24.0), num(r.y + 38.0), esc(&fit(&b.subtitle, 11.5, r.w - 40.0)));
        if let Some(note) = &b.note {
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\" text-anchor=\"middle\">{}</text>", num(r.cx()), num(r.y + HEADER_H + 20.0), esc(note));
        }
    }
    if let Some(m) = b.mark {
        mark_tag(s, m, Point { x: r.right() - 50.0, y: r.y - 9.0 }, lang);
    }
    s.push_str("</g>\n");
}

/// Border colour, stroke width (`None`: the element's own) and extra attributes for a diff mark.
fn mark_style(m: Option<Mark>, normal: &str) -> (String, Option<&'static str>, &'static str) {
    match m {
        Some(Mark::Added) => ("#2e7d32".into(), Some("3.5"), ""),
        Some(Mark::Changed) => ("#f08c00".into(), Some("3.5"), ""),
        Some(Mark::Removed) => ("#9e9e9e".into(), None, " stroke-dasharray=\"6 4\" opacity=\"0.65\""),
        None => (normal.to_owned(), None, ""),
    }
}

fn mark_tag(s: &mut String, m: Mark, p: Point, lang: Lang) {
    let (fill, key) = match m {
        Mark::Added => ("#2e7d32", "diagram.mark.added"),
        Mark::Changed => ("#f08c00", "diagram.mark.changed"),
        Mark::Removed => ("#757575", "diagram.mark.removed"),
    };
    // Labels are short words; the tag is sized for two wide characters.
    let _ = write!(
        s,
        "<g class=\"mark mark-{}\"><rect x=\"{}\" y=\"{}\" width=\"44\" height=\"17\" rx=\"8.5\" fill=\"{fill}\"/><text x=\"{}\" y=\"{}\" font-size=\"10.5\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">{}</text></g>",
        match m {
            Mark::Added => "added",
            Mark::Changed => "changed",
            Mark::Removed => "removed",
        },
        num(p.x),
        num(p.y),
        num(p.x + 22.0),
        num(p.y + 12.5),
        esc(t(lang, key))
    );
}

fn style_code(e: EdgeStyle) -> &'static str {
    match e {
        EdgeStyle::Internet => "internet",
        EdgeStyle::AlwaysOn => "always_on",
        EdgeStyle::OnDemand => "on_demand",
        EdgeStyle::Risky => "risky",
        EdgeStyle::Closed => "closed",
        EdgeStyle::Link => "link",
        EdgeStyle::Bridge => "bridge",
    }
}

fn points(p: &[Point]) -> String {
    p.iter().map(|p| format!("{},{}", num(p.x), num(p.y))).collect::<Vec<_>>().join(" ")
}

fn edge(s: &mut String, e: &Edge, _lang: Lang) {
    let mut attrs = String::new();
    if let Some(c) = e.connection {
        let _ = write!(attrs, " data-connection=\"{c}\"");
    }
    if let Some(a) = e.asset {
        let _ = write!(attrs, " data-asset=\"{a}\"");
    }
    if let Some(sg) = e.segment {
        let _ = write!(attrs, " data-segment=\"{sg}\"");
    }
    let conn = if e.connection.is_some() && e.style != EdgeStyle::Internet { " conn" } else { "" };
    let code = style_code(e.style);
    let _ = write!(
        s,
        "<g class=\"edge{conn} e-{code}\" id=\"e-{}\" data-from=\"{}\" data-to=\"{}\"{attrs}><title>{}</title>",
        esc(&e.key),
        esc(&e.from),
        esc(&e.to),
        esc(&e.title)
    );
    let _ = write!(s, "<polyline class=\"e-{code}\" points=\"{}\"/>", points(&e.points));
    if e.style == EdgeStyle::Risky
        && let Some(p) = e.points.first()
    {
        let _ = write!(
            s,
            "<path d=\"M{} {}l7 12h-14z\" fill=\"#d32f2f\"/><text x=\"{}\" y=\"{}\" font-size=\"9\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">!</text>",
            num(p.x + 12.0),
            num(p.y + 4.0),
            num(p.x + 12.0),
            num(p.y + 14.5)
        );
    }
    s.push_str("</g>\n");
}

fn node(s: &mut String, n: &Node, lang: Lang) {
    let r = n.rect;
    let (fill, stroke) = sev_colors(n.severity);
    let (mstroke, mwidth, mextra) = mark_style(n.mark, stroke);
    match n.kind {
        NodeKind::Internet => {
            let _ = write!(s, "<g class=\"node internet\" id=\"internet\" data-internet=\"1\"><title>{}</title>", esc(&n.title));
            let (x, y) = (r.x, r.y);
            let _ = write!(
                s,
                "<path transform=\"translate({},{})\" d=\"M40 64a22 22 0 0 1-6-43a30 30 0 0 1 56-12a27 27 0 0 1 48 8a23 23 0 0 1 16 47z\" fill=\"#eaf1fb\" stroke=\"#3b6ea5\" stroke-width=\"2\"/>",
                num(x + 8.0),
                num(y + 2.0)
            );
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"700\" text-anchor=\"middle\">{}</text>", num(r.cx()), num(r.y + 44.0), esc(&n.title));
            s.push_str("</g>\n");
        }
        NodeKind::Connection => {
            let Some(NodeRef::Connection(id)) = n.node_ref else { return };
            let color = conn_color(n.connection_kind);
            let risky = !n.warnings.is_empty();
            let border = if n.mark.is_some() { mstroke.as_str() } else if n.severity.is_some() { stroke } else if risky { "#d32f2f" } else { color };
            let _ = write!(
                s,
                "<g class=\"conn{}\" id=\"{}\" data-connection=\"{id}\" data-kind=\"{}\"><title>{}</title>",
                if risky { " risky" } else { "" },
                n.key,
                n.connection_kind.map(|k| k.code()).unwrap_or_default(),
                esc(&n.title)
            );
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{fill}\" stroke=\"{border}\" stroke-width=\"{}\"{mextra}/>",
                num(r.x),
                num(r.y),
                num(r.w),
                num(r.h),
                mwidth.unwrap_or("1.8")
            );
            let _ = write!(s, "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"5\" rx=\"2.5\" fill=\"{color}\"/>", num(r.x + 1.0), num(r.y + 1.0), num(r.w - 2.0));
            let _ = write!(
                s,
                "<use href=\"#c-{}\" x=\"{}\" y=\"{}\" width=\"20\" height=\"20\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.6\"/>",
                n.connection_kind.map(|k| k.code()).unwrap_or("other"),
                num(r.x + 9.0),
                num(r.y + 12.0)
            );
            let tw = r.w - 44.0;
            let name = n.lines.first().map(String::as_str).unwrap_or_default();
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-name\">{}</text>", num(r.x + 36.0), num(r.y + 26.0), esc(&fit(name, 12.5, tw)));
            for (i, l) in n.lines.iter().skip(1).enumerate() {
                let _ = write!(
                    s,
                    "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>",
                    num(r.x + 12.0),
                    num(r.y + 46.0 + 15.0 * i as f64),
                    esc(&fit(l, 10.5, r.w - 20.0))
                );
            }
            for (i, wtext) in n.warnings.iter().enumerate() {
                let _ = write!(
                    s,
                    "<text x=\"{}\" y=\"{}\" class=\"t-warn\">⚠ {}</text>",
                    num(r.x + 12.0),
                    num(r.y + CONN_H - 2.0 + 15.0 * i as f64),
                    esc(&fit(wtext, 10.5, r.w - 34.0))
                );
            }
            badges(s, n, lang);
            s.push_str("</g>\n");
        }
        NodeKind::Gateway | NodeKind::Asset | NodeKind::Group => {
            let group = n.kind == NodeKind::Group;
            let mut attrs = String::new();
            if group {
                let members = n.members.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",");
                let _ = write!(
                    attrs,
                    " class=\"group\" data-group=\"{}\" data-members=\"{members}\" data-count=\"{}\"",
                    esc(n.group.as_deref().unwrap_or_default()),
                    n.members.len()
                );
            } else {
                let id = n.members.first().copied().unwrap_or_default();
                let cls = if n.kind == NodeKind::Gateway { "node gateway" } else { "node" };
                let _ = write!(attrs, " class=\"{cls}\" data-asset=\"{id}\"");
                if let Some(g) = &n.group {
                    let _ = write!(attrs, " data-group-member=\"{}\"", esc(g));
                }
            }
            if let Some(sg) = n.segment {
                let _ = write!(attrs, " data-segment=\"{sg}\"");
            }
            if let Some(k) = n.asset_kind {
                let _ = write!(attrs, " data-kind=\"{}\"", k.code());
            }
            let _ = write!(s, "<g id=\"{}\"{attrs}><title>{}</title>", esc(&n.key), esc(&n.title));
            if group {
                for off in [6.0, 3.0] {
                    let _ = write!(
                        s,
                        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.2\"/>",
                        num(r.x + off),
                        num(r.y - off),
                        num(r.w - 6.0),
                        num(r.h)
                    );
                }
            }
            let sw = mwidth.unwrap_or(if n.kind == NodeKind::Gateway { "2.2" } else { "1.5" });
            let w = if group { r.w - 6.0 } else { r.w };
            let _ = write!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"8\" fill=\"{fill}\" stroke=\"{mstroke}\" stroke-width=\"{sw}\"{mextra}/>",
                num(r.x),
                num(r.y),
                num(w),
                num(r.h)
            );
            let kc = kind_color(n.asset_kind);
            let _ = write!(s, "<rect x=\"{}\" y=\"{}\" width=\"30\" height=\"{}\" rx=\"7\" fill=\"{kc}\" fill-opacity=\"0.1\"/>", num(r.x + 3.0), num(r.y + 3.0), num(r.h - 6.0));
            let _ = write!(
                s,
                "<use href=\"#k-{}\" x=\"{}\" y=\"{}\" width=\"20\" height=\"20\" fill=\"none\" stroke=\"{kc}\" stroke-width=\"1.5\"/>",
                n.asset_kind.map(|k| k.code()).unwrap_or("unknown"),
                num(r.x + 8.0),
                num(r.y + (r.h - 20.0) / 2.0)
            );
            let tw = w - 46.0;
            let tx = r.x + 40.0;
            for (i, l) in n.lines.iter().enumerate() {
                let (cls, size, dy) = if i == 0 { ("t-name", 12.5, 19.0) } else { ("t-line", 10.5, 19.0 + 15.0 * i as f64) };
                let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"{cls}\">{}</text>", num(tx), num(r.y + dy), esc(&fit(l, size, tw)));
            }
            if !n.warnings.is_empty() {
                let _ = write!(
                    s,
                    "<g class=\"warn\"><title>{}</title><circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"#e07b00\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">!</text></g>",
                    esc(&n.warnings.join("\n")),
                    num(r.x + 6.0),
                    num(r.y + 6.0),
                    num(r.x + 6.0),
                    num(r.y + 10.5)
                );
            }
            badges(s, n, lang);
            s.push_str("</g>\n");
        }
    }
}

use crate::NodeRef;

fn badges(s: &mut String, n: &Node, lang: Lang) {
    let r = n.rect;
    if let Some(sev) = n.severity.filter(|s| *s >= Severity::Low) {
        let (fill, stroke) = sev_colors(Some(sev));
        let label = t(lang, &sev_key(sev)).to_owned();
        let label = label.as_str();
        let w = 14.0 + crate::text::width_em(label) * 10.0;
        let x = r.right() - w - 8.0;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"15\" rx=\"7.5\" fill=\"{stroke}\"/><text x=\"{}\" y=\"{}\" font-size=\"10\" font-weight=\"700\" fill=\"{}\" text-anchor=\"middle\">{}</text>",
            num(x),
            num(r.y - 7.5),
            num(w),
            num(x + w / 2.0),
            num(r.y + 3.8),
            if fill == "#fff5c4" { INK } else { "#ffffff" },
            esc(label)
        );
    }
    if let Some(m) = n.mark {
        mark_tag(s, m, Point { x: r.x + 8.0, y: r.y - 9.0 }, lang);
    }
}

fn steps(s: &mut String, d: &Diagram) {
    if d.steps.is_empty() {
        return;
    }
    s.push_str("<g class=\"steps\">\n");
    for st in &d.steps {
        let (Some(a), Some(b)) = (st.points.first(), st.points.last()) else { continue };
        let _ = write!(
            s,
            "<g class=\"step\" data-step=\"{}\" data-from=\"{}\" data-to=\"{}\"><title>{} {}</title><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" marker-end=\"url(#arrow)\"/>",
            st.n,
            esc(&st.from),
            esc(&st.to),
            circled(st.n),
            esc(&st.label),
            num(a.x),
            num(a.y),
            num(b.x),
            num(b.y)
        );
        let _ = writeln!(
            s,
            "<circle cx=\"{}\" cy=\"{}\" r=\"13\" fill=\"#8e24aa\" stroke=\"#ffffff\" stroke-width=\"2.5\"/><text x=\"{}\" y=\"{}\" font-size=\"14\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">{}</text></g>",
            num(st.badge.x),
            num(st.badge.y),
            num(st.badge.x),
            num(st.badge.y + 5.0),
            st.n
        );
    }
    s.push_str("</g>\n");
}

/// A title block row: label key, value, and an optional second label key and value.
type Cell<'a> = (&'a str, String, Option<(&'a str, String)>);

fn footer(s: &mut String, d: &Diagram, opts: &Options) {
    let lang = opts.lang;
    let f = &d.footer;
    // Legend.
    let r = f.legend;
    let _ = write!(
        s,
        "<g class=\"legend\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#1f2d3d\" stroke-width=\"1\"/>",
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h)
    );
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"700\">{}</text>", num(r.x + 12.0), num(r.y + 22.0), esc(t(lang, "diagram.legend")));
    // Column 1: colours.
    let mut y = r.y + 44.0;
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>", num(r.x + 12.0), num(y), esc(t(lang, "diagram.legend_severity")));
    y += 8.0;
    for sev in [Some(Severity::Critical), Some(Severity::High), Some(Severity::Medium), Some(Severity::Low), None] {
        let (fill, stroke) = sev_colors(sev);
        let label = match sev {
            Some(v) => t(lang, &sev_key(v)).to_owned(),
            None => t(lang, "diagram.severity.none").to_owned(),
        };
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"26\" height=\"15\" rx=\"4\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/><text x=\"{}\" y=\"{}\" class=\"t-small\">{}</text>",
            num(r.x + 12.0),
            num(y),
            num(r.x + 46.0),
            num(y + 12.0),
            esc(&label)
        );
        y += 22.0;
    }
    // Column 2: lines.
    let x2 = r.x + 170.0;
    let mut y = r.y + 44.0;
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>", num(x2), num(y), esc(t(lang, "diagram.legend_lines")));
    y += 16.0;
    for (style, key) in [
        (EdgeStyle::AlwaysOn, "diagram.legend_always_on"),
        (EdgeStyle::OnDemand, "diagram.legend_on_demand"),
        (EdgeStyle::Risky, "diagram.legend_risky"),
        (EdgeStyle::Closed, "diagram.legend_closed"),
        (EdgeStyle::Link, "diagram.legend_link"),
        (EdgeStyle::Bridge, "diagram.legend_bridge"),
    ] {
        let _ = write!(
            s,
            "<g class=\"edge\"><line class=\"e-{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/></g><text x=\"{}\" y=\"{}\" class=\"t-small\">{}</text>",
            style_code(style),
            num(x2),
            num(y),
            num(x2 + 40.0),
            num(y),
            num(x2 + 50.0),
            num(y + 4.0),
            esc(t(lang, key))
        );
        y += 21.0;
    }
    // Column 3: notation.
    let x3 = r.x + 410.0;
    let mut y = r.y + 44.0;
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>", num(x3), num(y), esc(t(lang, "diagram.legend_notation")));
    y += 10.0;
    for off in [6.0, 3.0, 0.0] {
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"34\" height=\"18\" rx=\"4\" fill=\"#ffffff\" stroke=\"#7b8a9a\"/>",
            num(x3 + off),
            num(y + 6.0 - off)
        );
    }
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"10\" font-weight=\"700\">×N</text>", num(x3 + 6.0), num(y + 19.0));
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>", num(x3 + 46.0), num(y + 14.0), esc(t(lang, "diagram.legend_group")));
    let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>", num(x3 + 46.0), num(y + 27.0), esc(t(lang, "diagram.legend_group2")));
    y += 44.0;
    let _ = write!(
        s,
        "<circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"#e07b00\"/><text x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">!</text><text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>",
        num(x3 + 10.0),
        num(y),
        num(x3 + 10.0),
        num(y + 4.5),
        num(x3 + 26.0),
        num(y + 4.0),
        esc(t(lang, "diagram.legend_warn"))
    );
    y += 24.0;
    let h = &opts.highlight;
    if !h.added.is_empty() || !h.removed.is_empty() || !h.changed.is_empty() {
        for (i, m) in [Mark::Added, Mark::Changed, Mark::Removed].into_iter().enumerate() {
            mark_tag(s, m, Point { x: x3 + 48.0 * i as f64, y: y - 8.0 }, lang);
        }
        y += 24.0;
    }
    if !d.steps.is_empty() {
        let _ = write!(
            s,
            "<circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"#8e24aa\"/><text x=\"{}\" y=\"{}\" font-size=\"11\" font-weight=\"700\" fill=\"#ffffff\" text-anchor=\"middle\">1</text><text x=\"{}\" y=\"{}\" class=\"t-line\">{}</text>",
            num(x3 + 10.0),
            num(y),
            num(x3 + 10.0),
            num(y + 4.0),
            num(x3 + 26.0),
            num(y + 4.0),
            esc(t(lang, "diagram.legend_step"))
        );
    }
    s.push_str("</g>\n");

    // Attack path steps, as a numbered list.
    if let Some(r) = f.steps {
        side_box(s, "step-list", r, "fill=\"#fbf5fc\" stroke=\"#8e24aa\"", t(lang, "diagram.steps_title"));
        for (i, st) in d.steps.iter().enumerate() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" class=\"t-small\">{} {}</text>",
                num(r.x + 12.0),
                num(r.y + 44.0 + 20.0 * i as f64),
                circled(st.n),
                esc(&fit(&st.label, 11.0, r.w - 40.0))
            );
        }
        s.push_str("</g>\n");
    }
    if let Some(r) = f.removed {
        side_box(s, "removed-list", r, "fill=\"#f5f5f5\" stroke=\"#9e9e9e\" stroke-dasharray=\"6 4\"", t(lang, "diagram.removed_title"));
        for (i, l) in d.removed.iter().take(20).enumerate() {
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" class=\"t-small\" fill=\"#616161\">{}</text>", num(r.x + 12.0), num(r.y + 42.0 + 18.0 * i as f64), esc(l));
        }
        s.push_str("</g>\n");
    }

    // Title block.
    let r = f.title_block;
    let lw = 86.0;
    let rows = [40.0, 40.0, 35.0, 35.0];
    let _ = write!(
        s,
        "<g class=\"title-block\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#1f2d3d\" stroke-width=\"1.6\"/>",
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h)
    );
    let paper = match d.page {
        Page::Screen => t(lang, "diagram.page.screen"),
        Page::A4 => t(lang, "diagram.page.a4"),
        Page::A3 => t(lang, "diagram.page.a3"),
    };
    let cells: [Cell; 4] = [
        ("diagram.tb.facility", d.facility.clone(), None),
        ("diagram.tb.drawing", t(lang, "diagram.title").to_owned(), None),
        ("diagram.tb.date", d.date.clone(), Some(("diagram.tb.paper", paper.to_owned()))),
        ("diagram.tb.author", t(lang, "diagram.tb.author_value").to_owned(), Some(("diagram.tb.sheet", "1 / 1".to_owned()))),
    ];
    let mut y = r.y;
    for (i, ((label, value, second), rh)) in cells.iter().zip(rows).enumerate() {
        if i > 0 {
            let _ = write!(s, "<path d=\"M{} {}h{}\" stroke=\"#1f2d3d\"/>", num(r.x), num(y), num(r.w));
        }
        let _ = write!(s, "<rect x=\"{}\" y=\"{}\" width=\"{lw}\" height=\"{rh}\" fill=\"#eef1f5\"/>", num(r.x + 0.8), num(y + 0.5));
        let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{MUTED}\">{}</text>", num(r.x + 10.0), num(y + rh / 2.0 + 4.0), esc(t(lang, label)));
        let big = i < 2;
        let vw = if second.is_some() { r.w / 2.0 - lw - 12.0 } else { r.w - lw - 16.0 };
        let size = if big { 15.0 } else { 12.0 };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"{size}\"{}>{}</text>",
            num(r.x + lw + 10.0),
            num(y + rh / 2.0 + size / 2.0 - 1.0),
            if big { " font-weight=\"700\"" } else { "" },
            esc(&fit(value, size, vw))
        );
        if let Some((l2, v2)) = second {
            let x = r.x + r.w / 2.0;
            let _ = write!(s, "<path d=\"M{} {}v{rh}\" stroke=\"#1f2d3d\"/>", num(x), num(y));
            let _ = write!(s, "<rect x=\"{}\" y=\"{}\" width=\"{lw}\" height=\"{rh}\" fill=\"#eef1f5\"/>", num(x + 0.5), num(y + 0.5));
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"{MUTED}\">{}</text>", num(x + 10.0), num(y + rh / 2.0 + 4.0), esc(t(lang, l2)));
            let _ = write!(s, "<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>", num(x + lw + 10.0), num(y + rh / 2.0 + 5.0), esc(&fit(v2, 12.0, r.w / 2.0 - lw - 16.0)));
        }
        y += rh;
    }
    let _ = write!(s, "<path d=\"M{} {}v{}\" stroke=\"#1f2d3d\"/>", num(r.x + lw + 0.8), num(r.y), num(80.0));
    s.push_str("</g>\n");
}
