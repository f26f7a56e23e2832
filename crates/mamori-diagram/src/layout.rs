//! From a model to positioned boxes, nodes and edges.
//!
//! Bands from top to bottom: the outside world (インターネット and the external connections),
//! WAN bars, the gateways, then the segments packed in rows with their devices in a grid.
//! Items in a row are placed at the x they would like (above what they connect to) and pushed
//! right to remove overlaps. Edges are orthogonal and run in channels between the bands; lines
//! to a box further down run along a lane on the left (a backbone) and the gutters between rows.

use std::collections::{BTreeMap, BTreeSet};

use mamori_i18n::{t, tf};
use mamori_model::network::{NetworkModel, Severity};
use mamori_model::{Asset, AssetKind, Authentication, ConnectionKind, ExternalConnection, Id, Segment};
use serde::Serialize;

use crate::text::{os_family, width_em};
use crate::{NodeRef, Options};

pub(crate) const MARGIN: f64 = 32.0;
pub(crate) const NODE_W: f64 = 184.0;
pub(crate) const NODE_H: f64 = 60.0;
pub(crate) const CONN_W: f64 = 216.0;
pub(crate) const CONN_H: f64 = 76.0;
pub(crate) const WARN_H: f64 = 15.0;
const GW_W: f64 = 204.0;
const GW_H: f64 = 62.0;
const GAP_X: f64 = 20.0;
const GAP_Y: f64 = 18.0;
const PAD: f64 = 16.0;
pub(crate) const HEADER_H: f64 = 50.0;
const GRID_GAP_X: f64 = 44.0;
const GRID_GAP_Y: f64 = 64.0;
const ROW_GAP: f64 = 28.0;
const CLOUD_W: f64 = 190.0;
const CLOUD_H: f64 = 70.0;
const TRANSIT_H: f64 = 30.0;
const LANE_STEP: f64 = 7.0;
/// Most nodes one segment box shows before similar devices collapse further, by kind alone.
pub const MAX_NODES_PER_SEGMENT: usize = 30;
const FOOTER_H: f64 = 200.0;

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    fn hits_vertical(&self, x: f64, pad: f64) -> bool {
        x > self.x - pad && x < self.right() + pad
    }
    /// The point of the border nearest to `p` (p outside), or the border point towards `p`.
    pub fn clamp(&self, p: Point) -> Point {
        Point { x: p.x.clamp(self.x, self.right()), y: p.y.clamp(self.y, self.bottom()) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Internet,
    Connection,
    Gateway,
    Asset,
    Group,
}

/// How a diff marks a node or a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// Unique, DOM-safe: `internet`, `c2`, `a7`, `g-seg1-pc-windows`.
    pub key: String,
    pub kind: NodeKind,
    pub node_ref: Option<NodeRef>,
    pub asset_kind: Option<AssetKind>,
    pub connection_kind: Option<ConnectionKind>,
    /// The segment box it is drawn in.
    pub segment: Option<Id>,
    /// The group key of a group node, or of the expanded group a member belongs to.
    pub group: Option<String>,
    /// Asset ids of a group.
    pub members: Vec<Id>,
    /// Full name (tooltip).
    pub title: String,
    /// Text lines, first one is the name; cut to fit when drawn.
    pub lines: Vec<String>,
    /// Warnings (⚠ 多要素認証なし …).
    pub warnings: Vec<String>,
    pub severity: Option<Severity>,
    pub mark: Option<Mark>,
    pub rect: Rect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeStyle {
    /// From the internet cloud to a line that runs over it.
    Internet,
    AlwaysOn,
    OnDemand,
    /// No MFA, always-on vendor line, or a severe finding: red dashed with ⚠.
    Risky,
    /// A closed network (IP-VPN).
    Closed,
    /// A gateway's interface in a segment.
    Link,
    /// A device with interfaces in two segments: its second leg.
    Bridge,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edge {
    pub key: String,
    pub from: String,
    pub to: String,
    pub style: EdgeStyle,
    pub points: Vec<Point>,
    /// Short text written beside the line (an IP address, デュアルホーム …).
    pub label: Option<String>,
    pub label_at: Option<Point>,
    pub title: String,
    pub connection: Option<Id>,
    pub segment: Option<Id>,
    pub asset: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentBox {
    /// `None` for the box of devices with no segment.
    pub id: Option<Id>,
    pub key: String,
    pub name: String,
    /// CIDR, VLAN, purpose.
    pub subtitle: String,
    pub purpose: Option<String>,
    /// A WAN drawn as a bar the gateways hang from.
    pub transit: bool,
    pub note: Option<String>,
    pub mark: Option<Mark>,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepArrow {
    pub n: usize,
    pub from: String,
    pub to: String,
    pub label: String,
    pub points: Vec<Point>,
    pub badge: Point,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LegendBox {
    pub legend: Rect,
    pub title_block: Rect,
    /// Side box listing what was removed and is not drawn.
    pub removed: Option<Rect>,
    /// Box listing the steps of an attack path.
    pub steps: Option<Rect>,
}

/// The positioned drawing. Coordinates are pixels from the top left.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagram {
    pub width: f64,
    pub height: f64,
    pub title: String,
    /// Language code of the text (`ja`, `en`).
    pub lang: String,
    pub facility: String,
    pub date: String,
    pub page: crate::Page,
    pub external_band: Rect,
    pub segments: Vec<SegmentBox>,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub steps: Vec<StepArrow>,
    /// Removed things the model no longer holds, as text.
    pub removed: Vec<String>,
    pub footer: LegendBox,
}

impl Diagram {
    pub fn node(&self, key: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.key == key)
    }
}

fn kind_rank(k: AssetKind) -> u8 {
    match k {
        AssetKind::VpnUtm => 0,
        AssetKind::NetworkDevice => 1,
        AssetKind::WifiAp => 2,
        AssetKind::Server => 3,
        AssetKind::Nas => 4,
        AssetKind::MedicalDevice => 5,
        AssetKind::Pc => 6,
        AssetKind::Printer => 7,
        AssetKind::Mobile => 8,
        AssetKind::Iot => 9,
        AssetKind::Unknown => 10,
    }
}

fn is_network(k: AssetKind) -> bool {
    matches!(k, AssetKind::NetworkDevice | AssetKind::VpnUtm | AssetKind::WifiAp)
}

/// Whether a line's own properties make it a risk worth marking, and the warnings to show.
pub(crate) fn connection_warnings(c: &ExternalConnection, lang: mamori_i18n::Lang) -> Vec<String> {
    let mut out = Vec::new();
    let remote = matches!(c.kind, ConnectionKind::VendorRemote | ConnectionKind::Other | ConnectionKind::Cloud);
    if remote {
        match c.authentication {
            Authentication::None => out.push(t(lang, "diagram.warn.no_auth").to_owned()),
            Authentication::Password => out.push(t(lang, "diagram.warn.no_mfa").to_owned()),
            Authentication::Unknown => out.push(t(lang, "diagram.warn.auth_unknown").to_owned()),
            Authentication::Mfa | Authentication::Certificate => {}
        }
    }
    if c.kind == ConnectionKind::VendorRemote && c.always_on {
        out.push(t(lang, "diagram.warn.vendor_always_on").to_owned());
    }
    out
}

/// A group of similar devices, or one device, inside a segment.
struct Item {
    key: Option<String>,
    members: Vec<Id>,
    kind: AssetKind,
    family: Option<&'static str>,
    multi: bool,
}

struct SegPlan {
    id: Option<Id>,
    items: Vec<Item>,
}

fn group_key(seg: Option<Id>, kind: AssetKind, family: Option<&str>) -> String {
    let s = match seg {
        Some(id) => format!("seg{id}"),
        None => "none".to_owned(),
    };
    match family {
        Some(f) => format!("{s}:{}:{f}", kind.code()),
        None => format!("{s}:{}", kind.code()),
    }
}

/// Collapses the devices of one segment into items.
fn plan_segment(seg: Option<Id>, assets: &[&Asset], notable: &BTreeSet<Id>, keep: &BTreeSet<Id>, multi: &BTreeSet<Id>, opts: &Options) -> Vec<Item> {
    let threshold = opts.collapse_at.max(2);
    let by_similarity = opts.collapse_at >= 2;
    // Pass 1: same kind (and OS family for PCs).
    let mut items = collapse(seg, assets, |a| !notable.contains(&a.id), true, if by_similarity { threshold } else { usize::MAX }, multi, opts);
    // Pass 2: still too many → same kind, regardless of OS.
    if items.len() > MAX_NODES_PER_SEGMENT {
        items = collapse(seg, assets, |a| !notable.contains(&a.id), false, 2, multi, opts);
    }
    // Pass 3: still too many → notable devices join their kind too (not the highlighted ones).
    if items.len() > MAX_NODES_PER_SEGMENT {
        items = collapse(seg, assets, |a| !keep.contains(&a.id), false, 2, multi, opts);
    }
    items.sort_by_key(|i| (i.multi, kind_rank(i.kind), i.key.is_none(), i.members.first().copied().unwrap_or_default()));
    items
}

fn collapse(
    seg: Option<Id>,
    assets: &[&Asset],
    groupable: impl Fn(&Asset) -> bool,
    by_family: bool,
    threshold: usize,
    multi: &BTreeSet<Id>,
    opts: &Options,
) -> Vec<Item> {
    let mut groups: BTreeMap<String, (AssetKind, Option<&'static str>, Vec<Id>)> = BTreeMap::new();
    let mut items = Vec::new();
    for a in assets {
        let family = (a.data.kind == AssetKind::Pc).then(|| os_family(a.data.os.as_deref()));
        let fine = group_key(seg, a.data.kind, family);
        let coarse = group_key(seg, a.data.kind, None);
        // A group the user opened stays open whatever pass we are in.
        let open = [&fine, &coarse].into_iter().find(|k| opts.expanded.contains(*k));
        if let Some(k) = open {
            items.push(Item { key: Some(k.clone()), members: vec![a.id], kind: a.data.kind, family: None, multi: multi.contains(&a.id) });
        } else if groupable(a) && !multi.contains(&a.id) {
            let (key, family) = if by_family { (fine, family) } else { (coarse, None) };
            groups.entry(key).or_insert_with(|| (a.data.kind, family, Vec::new())).2.push(a.id);
        } else {
            items.push(Item { key: None, members: vec![a.id], kind: a.data.kind, family: None, multi: multi.contains(&a.id) });
        }
    }
    for (key, (kind, family, mut members)) in groups {
        members.sort_unstable();
        if members.len() >= threshold && !opts.expanded.contains(&key) {
            items.push(Item { key: Some(key), members, kind, family, multi: false });
        } else {
            let expanded = members.len() >= threshold;
            for id in members {
                // Members of an expanded group remember it so the page can collapse them again.
                items.push(Item { key: expanded.then(|| key.clone()), members: vec![id], kind, family: None, multi: false });
            }
        }
    }
    items
}

fn severity_of(ids: &[Id], opts: &Options) -> Option<Severity> {
    ids.iter().filter_map(|id| opts.severity.get(id).copied()).max()
}

fn mark_of(r: NodeRef, opts: &Options) -> Option<Mark> {
    let h = &opts.highlight;
    if h.removed.contains(&r) {
        Some(Mark::Removed)
    } else if h.added.contains(&r) {
        Some(Mark::Added)
    } else if h.changed.contains(&r) {
        Some(Mark::Changed)
    } else {
        None
    }
}

fn ip_in(a: &Asset, seg: Option<Id>) -> Option<&str> {
    a.data
        .interfaces
        .iter()
        .find(|i| i.segment_id == seg && i.ip.is_some())
        .and_then(|i| i.ip.as_deref())
        .or_else(|| a.data.primary_ip())
}

fn os_line(a: &Asset) -> Option<String> {
    match (&a.data.os, &a.data.os_version) {
        (Some(os), Some(v)) => Some(format!("{os} {v}")),
        (Some(os), None) => Some(os.clone()),
        (None, _) => a.data.product.clone().or_else(|| a.data.vendor.clone()),
    }
}

fn segment_subtitle(s: &Segment, lang: mamori_i18n::Lang) -> String {
    let mut parts = Vec::new();
    if let Some(c) = &s.cidr {
        parts.push(c.clone());
    }
    if let Some(v) = s.vlan {
        parts.push(tf(lang, "diagram.vlan", &[("n", &v)]));
    }
    parts.push(t(lang, &s.purpose.label_key()).to_owned());
    parts.join("  ·  ")
}

/// Places items of widths `w` at their wished x, left to right, without overlap.
fn sweep(items: &mut [(f64, f64, usize)], start: f64, gap: f64) -> Vec<(usize, f64)> {
    items.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
    let mut out = Vec::new();
    let mut next = start;
    for (want_cx, w, idx) in items.iter() {
        let x = (want_cx - w / 2.0).max(next);
        out.push((*idx, x));
        next = x + w + gap;
    }
    out
}

/// Lays the model out.
pub fn layout(model: &NetworkModel, opts: &Options) -> crate::Diagram {
    let lang = opts.lang;
    let facility = model.facility.as_ref().map(|f| f.name.clone()).unwrap_or_default();
    let title = opts.title.clone().unwrap_or_else(|| {
        if facility.is_empty() {
            t(lang, "diagram.title").to_owned()
        } else {
            format!("{facility} {}", t(lang, "diagram.title"))
        }
    });

    let assets: BTreeMap<Id, &Asset> = model.assets.iter().map(|a| (a.id, a)).collect();
    let mut segments: Vec<&Segment> = model.segments.iter().collect();
    segments.sort_by_key(|s| s.id);
    let seg_ids: BTreeSet<Id> = segments.iter().map(|s| s.id).collect();
    let mut connections: Vec<&ExternalConnection> = model.connections.iter().collect();
    connections.sort_by_key(|c| c.id);

    // Which known segments each asset is in.
    let asset_segs: BTreeMap<Id, Vec<Id>> =
        assets.values().map(|a| (a.id, a.segment_ids().into_iter().filter(|s| seg_ids.contains(s)).collect())).collect();
    let terminating: BTreeSet<Id> = connections.iter().filter_map(|c| c.asset_id).filter(|id| assets.contains_key(id)).collect();
    let gateways: Vec<&Asset> = assets
        .values()
        .filter(|a| {
            is_network(a.data.kind)
                && (terminating.contains(&a.id) || asset_segs.get(&a.id).is_some_and(|s| s.len() >= 2))
        })
        .copied()
        .collect();
    let gateway_ids: BTreeSet<Id> = gateways.iter().map(|a| a.id).collect();
    let mut seg_count: BTreeMap<Id, usize> = BTreeMap::new();
    for segs in asset_segs.values() {
        for s in segs {
            *seg_count.entry(*s).or_default() += 1;
        }
    }
    // A WAN whose only devices are gateways is a bar, not a box.
    let transit: BTreeSet<Id> = segments
        .iter()
        .filter(|s| {
            s.purpose == mamori_model::SegmentPurpose::Wan
                && assets.values().all(|a| gateway_ids.contains(&a.id) || !asset_segs.get(&a.id).is_some_and(|v| v.contains(&s.id)))
        })
        .map(|s| s.id)
        .collect();

    // Home segment of every device that is not a gateway.
    let mut home: BTreeMap<Option<Id>, Vec<&Asset>> = BTreeMap::new();
    let mut multi: BTreeSet<Id> = BTreeSet::new();
    for a in assets.values() {
        if gateway_ids.contains(&a.id) {
            continue;
        }
        let segs: Vec<Id> = asset_segs.get(&a.id).map(|v| v.iter().filter(|s| !transit.contains(s)).copied().collect()).unwrap_or_default();
        if segs.len() >= 2 {
            multi.insert(a.id);
        }
        let h = segs.iter().copied().min_by_key(|s| seg_count.get(s).copied().unwrap_or(0));
        home.entry(h).or_default().push(a);
    }
    let keep = opts.highlight.assets();
    let notable: BTreeSet<Id> = assets
        .values()
        .filter(|a| terminating.contains(&a.id) || a.role().is_some() || keep.contains(&a.id) || multi.contains(&a.id))
        .map(|a| a.id)
        .collect();

    let mut plans: Vec<SegPlan> = Vec::new();
    for s in &segments {
        if transit.contains(&s.id) {
            continue;
        }
        let list = home.get(&Some(s.id)).cloned().unwrap_or_default();
        plans.push(SegPlan { id: Some(s.id), items: plan_segment(Some(s.id), &list, &notable, &keep, &multi, opts) });
    }
    if let Some(list) = home.get(&None) {
        plans.push(SegPlan { id: None, items: plan_segment(None, list, &notable, &keep, &multi, opts) });
    }

    // ---- Sizes of the segment boxes.
    let mut boxes: Vec<SegmentBox> = Vec::new();
    let mut box_items: Vec<Vec<Node>> = Vec::new();
    for plan in &plans {
        let seg = plan.id.and_then(|id| model.segment(id));
        let name = seg.map(|s| s.name.clone()).unwrap_or_else(|| t(lang, "diagram.no_segment").to_owned());
        let subtitle = seg.map(|s| segment_subtitle(s, lang)).unwrap_or_default();
        let n = plan.items.len();
        let cols = if n == 0 { 1 } else { ((n as f64 * 1.6).sqrt().ceil() as usize).clamp(1, 6) };
        let rows = n.div_ceil(cols).max(1);
        let content_w = cols as f64 * NODE_W + (cols as f64 - 1.0) * GAP_X;
        let header_w = (width_em(&name) * 15.0).max(width_em(&subtitle) * 11.5);
        let w = (content_w + 2.0 * PAD).max(header_w + 2.0 * PAD).max(240.0);
        let body_h = if n == 0 { 34.0 } else { rows as f64 * NODE_H + (rows as f64 - 1.0) * GAP_Y };
        // Room under the last row for the label of a device's second leg.
        let extra = if plan.items.iter().any(|i| i.multi) { 20.0 } else { 0.0 };
        let h = HEADER_H + body_h + PAD + extra;
        let key = plan.id.map(|id| format!("s{id}")).unwrap_or_else(|| "s-none".to_owned());
        let mark = plan.id.and_then(|id| mark_of(NodeRef::Segment(id), opts));
        let note = (n == 0).then(|| t(lang, "diagram.empty_segment").to_owned());
        boxes.push(SegmentBox {
            id: plan.id,
            key,
            name,
            subtitle,
            purpose: seg.map(|s| s.purpose.code().to_owned()),
            transit: false,
            note,
            mark,
            rect: Rect { x: 0.0, y: 0.0, w, h },
        });
        // Nodes, positioned relative to the box for now.
        let mut nodes = Vec::new();
        for (i, item) in plan.items.iter().enumerate() {
            let (c, r) = (i % cols, i / cols);
            let rect = Rect {
                x: PAD + c as f64 * (NODE_W + GAP_X),
                y: HEADER_H + r as f64 * (NODE_H + GAP_Y),
                w: NODE_W,
                h: NODE_H,
            };
            nodes.push(item_node(item, plan.id, rect, &assets, opts));
        }
        box_items.push(nodes);
    }

    // ---- Width of the drawing.
    let area: f64 = boxes.iter().map(|b| (b.rect.w + GRID_GAP_X) * (b.rect.h + GRID_GAP_Y)).sum();
    let widest = boxes.iter().map(|b| b.rect.w).fold(0.0, f64::max);
    let ext_w = connections.len() as f64 * (CONN_W + ROW_GAP) + 2.0 * MARGIN + 40.0;
    let target_w = (area * 1.6).sqrt().clamp(1400.0, 4200.0).max(widest).max(ext_w.min(4200.0));

    // Lanes on the left: one per line that has to reach down past the gateways.
    // Filled in after the grid is placed; reserve room for a generous number.
    let mut grid_rows: Vec<Vec<usize>> = Vec::new();
    {
        let mut row: Vec<usize> = Vec::new();
        let mut w = 0.0;
        for (i, b) in boxes.iter().enumerate() {
            if !row.is_empty() && w + GRID_GAP_X + b.rect.w > target_w {
                grid_rows.push(std::mem::take(&mut row));
                w = 0.0;
            }
            if !row.is_empty() {
                w += GRID_GAP_X;
            }
            w += b.rect.w;
            row.push(i);
        }
        if !row.is_empty() {
            grid_rows.push(row);
        }
    }

    // Gateways' links to segment boxes and connections' targets decide how many lanes we need.
    let gw_links: Vec<(Id, Vec<Id>)> = gateways
        .iter()
        .map(|g| (g.id, asset_segs.get(&g.id).cloned().unwrap_or_default()))
        .collect();
    let lane_conns: Vec<Id> = connections
        .iter()
        .filter(|c| match c.asset_id.filter(|a| assets.contains_key(a)) {
            Some(a) => !gateway_ids.contains(&a),
            None => c.segment_id.is_some_and(|s| seg_ids.contains(&s) && !transit.contains(&s)),
        })
        .map(|c| c.id)
        .collect();
    let lane_w = 14.0 + LANE_STEP * (gateways.len() + lane_conns.len()) as f64;
    let left = MARGIN + lane_w;

    // ---- Vertical bands.
    let mut y = MARGIN + 56.0; // title line
    let band_top = y;
    y += 30.0; // band caption
    let cloud_rect = Rect { x: 0.0, y, w: CLOUD_W, h: CLOUD_H };
    y += CLOUD_H + 34.0;
    let conn_top = y;
    // Connection rows (wrapping).
    let conn_h: BTreeMap<Id, f64> = connections
        .iter()
        .map(|c| (c.id, CONN_H + WARN_H * connection_warnings(c, lang).len() as f64))
        .collect();
    let conn_row_h = conn_h.values().copied().fold(CONN_H, f64::max);
    let per_row = (((target_w - left + MARGIN) / (CONN_W + ROW_GAP)).floor() as usize).max(1);
    let conn_rows = connections.len().div_ceil(per_row).max(1);
    y = conn_top + conn_rows as f64 * (conn_row_h + ROW_GAP) - ROW_GAP;
    let band_bottom = y + 18.0;
    let n_gw_conns = connections.len() - lane_conns.len();
    let ch1_top = band_bottom;
    y = ch1_top + 16.0 + LANE_STEP * n_gw_conns as f64;
    let transit_segs: Vec<&&Segment> = segments.iter().filter(|s| transit.contains(&s.id)).collect();
    let transit_top = y;
    y += transit_segs.len() as f64 * (TRANSIT_H + 14.0);
    y += 22.0;
    let gw_top = y;
    let gw_per_row = (((target_w - left + MARGIN) / (GW_W + ROW_GAP)).floor() as usize).max(1);
    let gw_rows = gateways.len().div_ceil(gw_per_row);
    y += gw_rows as f64 * (GW_H + ROW_GAP);
    let ch2_top = y;
    y += 16.0 + LANE_STEP * (gateways.len() + lane_conns.len()) as f64 + 16.0;
    let grid_top = y;

    // ---- Place the grid.
    let mut row_tops = Vec::new();
    let mut box_row: Vec<usize> = vec![0; boxes.len()];
    let mut content_right: f64 = left + 600.0;
    for (r, row) in grid_rows.iter().enumerate() {
        row_tops.push(y);
        let mut x = left;
        let mut h: f64 = 0.0;
        for &i in row {
            if let Some(b) = boxes.get_mut(i) {
                b.rect.x = x;
                b.rect.y = y;
                x += b.rect.w + GRID_GAP_X;
                h = h.max(b.rect.h);
            }
            if let Some(slot) = box_row.get_mut(i) {
                *slot = r;
            }
        }
        content_right = content_right.max(x - GRID_GAP_X);
        y += h + GRID_GAP_Y;
    }
    let grid_bottom = y - GRID_GAP_Y;
    let mut nodes: Vec<Node> = Vec::new();
    for (b, items) in boxes.iter().zip(box_items) {
        for mut n in items {
            n.rect.x += b.rect.x;
            n.rect.y += b.rect.y;
            nodes.push(n);
        }
    }
    let seg_box = |id: Id| boxes.iter().find(|b| b.id == Some(id));
    let node_of_asset: BTreeMap<Id, usize> =
        nodes.iter().enumerate().flat_map(|(i, n)| n.members.iter().map(move |m| (*m, i))).collect();

    // ---- Gateways: above the boxes they link to.
    let mut gw_nodes: Vec<Node> = Vec::new();
    {
        let mut wish: Vec<(f64, f64, usize)> = Vec::new();
        for (i, g) in gateways.iter().enumerate() {
            let xs: Vec<f64> = asset_segs
                .get(&g.id)
                .map(|v| v.iter().filter_map(|s| seg_box(*s)).map(|b| b.rect.cx()).collect())
                .unwrap_or_default();
            let cx = if xs.is_empty() { left + GW_W } else { xs.iter().sum::<f64>() / xs.len() as f64 };
            wish.push((cx, GW_W, i));
        }
        // Wrap into rows by wished order.
        wish.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        for (r, chunk) in wish.chunks(gw_per_row).enumerate() {
            let mut chunk = chunk.to_vec();
            for (idx, x) in sweep(&mut chunk, left, ROW_GAP) {
                if let Some(g) = gateways.get(idx) {
                    let rect = Rect { x, y: gw_top + r as f64 * (GW_H + ROW_GAP), w: GW_W, h: GW_H };
                    gw_nodes.push(gateway_node(g, rect, opts));
                }
            }
        }
        gw_nodes.sort_by_key(|n| n.members.first().copied().unwrap_or_default());
    }
    for n in &gw_nodes {
        content_right = content_right.max(n.rect.right());
    }
    let gw_rect = |id: Id| gw_nodes.iter().find(|n| n.members.first() == Some(&id)).map(|n| n.rect);

    // ---- Connections: above what they land on.
    let lane_set: BTreeSet<Id> = lane_conns.iter().copied().collect();
    let target_x = |c: &ExternalConnection| -> f64 {
        if let Some(r) = c.asset_id.and_then(gw_rect) {
            return r.cx();
        }
        if let Some(r) = c.asset_id.and_then(|a| node_of_asset.get(&a)).and_then(|i| nodes.get(*i)) {
            return r.rect.cx();
        }
        if let Some(b) = c.segment_id.and_then(seg_box) {
            return b.rect.cx();
        }
        left
    };
    let mut conn_nodes: Vec<Node> = Vec::new();
    {
        let mut wish: Vec<(f64, f64, usize)> =
            connections.iter().enumerate().map(|(i, c)| (target_x(c), CONN_W, i)).collect();
        wish.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)));
        for (r, chunk) in wish.chunks(per_row).enumerate() {
            let mut chunk = chunk.to_vec();
            for (idx, x) in sweep(&mut chunk, left, ROW_GAP) {
                if let Some(c) = connections.get(idx) {
                    let h = conn_h.get(&c.id).copied().unwrap_or(CONN_H);
                    let rect = Rect { x, y: conn_top + r as f64 * (conn_row_h + ROW_GAP), w: CONN_W, h };
                    conn_nodes.push(connection_node(c, model, rect, opts));
                }
            }
        }
    }
    for n in &conn_nodes {
        content_right = content_right.max(n.rect.right());
    }
    let internet_conns: Vec<&Node> =
        conn_nodes.iter().filter(|n| n.connection_kind != Some(ConnectionKind::ClosedNetwork)).collect();
    let cloud_cx = if internet_conns.is_empty() {
        left + CLOUD_W / 2.0
    } else {
        let lo = internet_conns.iter().map(|n| n.rect.cx()).fold(f64::MAX, f64::min);
        let hi = internet_conns.iter().map(|n| n.rect.cx()).fold(f64::MIN, f64::max);
        ((lo + hi) / 2.0).max(left + CLOUD_W / 2.0)
    };
    let cloud_rect = Rect { x: cloud_cx - CLOUD_W / 2.0, ..cloud_rect };
    let internet = Node {
        key: "internet".into(),
        kind: NodeKind::Internet,
        node_ref: Some(NodeRef::Internet),
        asset_kind: None,
        connection_kind: None,
        segment: None,
        group: None,
        members: Vec::new(),
        title: t(lang, "diagram.internet").to_owned(),
        lines: vec![t(lang, "diagram.internet").to_owned()],
        warnings: Vec::new(),
        severity: None,
        mark: None,
        rect: cloud_rect,
    };

    // ---- Edges.
    let mut edges: Vec<Edge> = Vec::new();
    let bus_y = cloud_rect.bottom() + 17.0;
    let mut conn_sorted: Vec<&Node> = conn_nodes.iter().collect();
    conn_sorted.sort_by(|a, b| a.rect.x.total_cmp(&b.rect.x));
    for n in &internet_conns {
        let Some(NodeRef::Connection(cid)) = n.node_ref else { continue };
        let p = vec![
            Point { x: cloud_rect.cx(), y: cloud_rect.bottom() - 6.0 },
            Point { x: cloud_rect.cx(), y: bus_y },
            Point { x: n.rect.cx(), y: bus_y },
            Point { x: n.rect.cx(), y: n.rect.y },
        ];
        edges.push(Edge {
            key: format!("internet-c{cid}"),
            from: "internet".into(),
            to: n.key.clone(),
            style: EdgeStyle::Internet,
            points: p,
            label: None,
            label_at: None,
            title: n.title.clone(),
            connection: Some(cid),
            segment: None,
            asset: None,
        });
    }

    // Transit bars span the gateways hanging from them.
    let mut transit_boxes: Vec<SegmentBox> = Vec::new();
    for (i, s) in transit_segs.iter().enumerate() {
        let xs: Vec<Rect> =
            gateways.iter().filter(|g| asset_segs.get(&g.id).is_some_and(|v| v.contains(&s.id))).filter_map(|g| gw_rect(g.id)).collect();
        let lo = xs.iter().map(|r| r.x).fold(f64::MAX, f64::min).min(content_right - 300.0).max(left);
        let hi = xs.iter().map(|r| r.right()).fold(f64::MIN, f64::max).max(lo + 300.0);
        let label_w = width_em(&s.name) * 12.5 + width_em(&segment_subtitle(s, lang)) * 11.0 + 60.0;
        let rect = Rect { x: lo - 20.0, y: transit_top + i as f64 * (TRANSIT_H + 14.0), w: (hi - lo + 40.0).max(label_w), h: TRANSIT_H };
        transit_boxes.push(SegmentBox {
            id: Some(s.id),
            key: format!("s{}", s.id),
            name: s.name.clone(),
            subtitle: segment_subtitle(s, lang),
            purpose: Some(s.purpose.code().to_owned()),
            transit: true,
            note: None,
            mark: mark_of(NodeRef::Segment(s.id), opts),
            rect,
        });
    }

    // Connection → where it lands.
    let mut k_gw = 0usize;
    let mut k_lane = 0usize;
    let mut gw_entries: BTreeMap<Id, Vec<(f64, Id)>> = BTreeMap::new();
    for n in &conn_sorted {
        let Some(NodeRef::Connection(cid)) = n.node_ref else { continue };
        if let Some(c) = model.connection(cid)
            && let Some(a) = c.asset_id
            && gateway_ids.contains(&a)
        {
            gw_entries.entry(a).or_default().push((n.rect.cx(), cid));
        }
    }
    let lane_x = |k: usize| MARGIN + 8.0 + LANE_STEP * k as f64;
    let n_lanes_gw = gateways.len();
    let row_gutter = |r: usize| row_tops.get(r).copied().unwrap_or(grid_top) - 22.0;
    for n in &conn_sorted {
        let Some(NodeRef::Connection(cid)) = n.node_ref else { continue };
        let Some(c) = model.connection(cid) else { continue };
        let risky = !n.warnings.is_empty() || n.severity.is_some_and(|s| s >= Severity::High);
        let style = if risky {
            EdgeStyle::Risky
        } else if c.kind == ConnectionKind::ClosedNetwork {
            EdgeStyle::Closed
        } else if c.always_on {
            EdgeStyle::AlwaysOn
        } else {
            EdgeStyle::OnDemand
        };
        let start = Point { x: n.rect.cx(), y: n.rect.bottom() };
        let mut edge = |to: String, points: Vec<Point>, asset: Option<Id>, segment: Option<Id>| {
            edges.push(Edge {
                key: format!("c{cid}-{to}"),
                from: n.key.clone(),
                to,
                style,
                points,
                label: None,
                label_at: None,
                title: n.title.clone(),
                connection: Some(cid),
                segment,
                asset,
            });
        };
        if let Some(a) = c.asset_id.filter(|a| gateway_ids.contains(a)) {
            let Some(r) = gw_rect(a) else { continue };
            let list = gw_entries.get(&a).cloned().unwrap_or_default();
            let j = list.iter().position(|(_, id)| *id == cid).unwrap_or(0);
            let ex = r.x + r.w * (j as f64 + 1.0) / (list.len() as f64 + 1.0);
            let cy = ch1_top + 10.0 + LANE_STEP * k_gw as f64;
            k_gw += 1;
            edge(format!("a{a}"), vec![start, Point { x: start.x, y: cy }, Point { x: ex, y: cy }, Point { x: ex, y: r.y }], Some(a), None);
        } else if lane_set.contains(&cid) {
            let lane = lane_x(n_lanes_gw + k_lane);
            let cy = ch1_top + 10.0 + LANE_STEP * k_gw as f64;
            k_gw += 1;
            let gut_off = 4.0 * k_lane as f64;
            k_lane += 1;
            if let Some(idx) = c.asset_id.and_then(|a| node_of_asset.get(&a)).copied() {
                let Some(t) = nodes.get(idx) else { continue };
                let r = t.rect;
                let b_row = boxes.iter().position(|b| b.rect.x <= r.x && b.rect.right() >= r.right() && b.rect.y <= r.y && b.rect.bottom() >= r.bottom());
                let row = b_row.and_then(|i| box_row.get(i)).copied().unwrap_or(0);
                let x_in = r.x - GAP_X / 2.0 + 2.0;
                let gy = row_gutter(row) + gut_off;
                let pts = if row == 0 {
                    // Down through a gap of the gateway row, along the channel under it, then
                    // down the column gap to the device.
                    let y2 = ch2_top + 10.0 + LANE_STEP * (n_lanes_gw + k_lane - 1) as f64;
                    let free = |x: f64| gw_nodes.iter().all(|g| !g.rect.hits_vertical(x, 8.0));
                    let mut pts = vec![start];
                    if free(start.x) {
                        pts.push(Point { x: start.x, y: y2 });
                    } else {
                        let fx = free_x(&gw_nodes, start.x, x_in);
                        pts.push(Point { x: start.x, y: cy });
                        pts.push(Point { x: fx, y: cy });
                        pts.push(Point { x: fx, y: y2 });
                    }
                    pts.extend([Point { x: x_in, y: y2 }, Point { x: x_in, y: r.cy() }, Point { x: r.x, y: r.cy() }]);
                    pts
                } else {
                    vec![
                        start,
                        Point { x: start.x, y: cy },
                        Point { x: lane, y: cy },
                        Point { x: lane, y: gy },
                        Point { x: x_in, y: gy },
                        Point { x: x_in, y: r.cy() },
                        Point { x: r.x, y: r.cy() },
                    ]
                };
                edge(t.key.clone(), pts, c.asset_id, None);
            } else if let Some(sid) = c.segment_id
                && let Some(b) = seg_box(sid)
            {
                let row = boxes.iter().position(|x| x.id == Some(sid)).and_then(|i| box_row.get(i)).copied().unwrap_or(0);
                let tx = b.rect.right() - 40.0;
                let gy = row_gutter(row) + gut_off;
                let pts = vec![start, Point { x: start.x, y: cy }, Point { x: lane, y: cy }, Point { x: lane, y: gy }, Point { x: tx, y: gy }, Point { x: tx, y: b.rect.y }];
                edge(b.key.clone(), pts, None, Some(sid));
            }
        } else if let Some(sid) = c.segment_id.filter(|s| transit.contains(s))
            && let Some(b) = transit_boxes.iter().find(|b| b.id == Some(sid))
        {
            let cy = ch1_top + 10.0 + LANE_STEP * k_gw as f64;
            k_gw += 1;
            let tx = start.x.clamp(b.rect.x + 10.0, b.rect.right() - 10.0);
            edge(b.key.clone(), vec![start, Point { x: start.x, y: cy }, Point { x: tx, y: cy }, Point { x: tx, y: b.rect.y }], None, Some(sid));
        }
    }

    // Gateway → its segments.
    let mut incoming: BTreeMap<Id, Vec<(f64, Id)>> = BTreeMap::new();
    for (gid, segs) in &gw_links {
        let Some(r) = gw_rect(*gid) else { continue };
        for s in segs {
            incoming.entry(*s).or_default().push((r.cx(), *gid));
        }
    }
    for (gi, (gid, segs)) in gw_links.iter().enumerate() {
        let Some(r) = gw_rect(*gid) else { continue };
        let Some(g) = assets.get(gid) else { continue };
        let down: Vec<Id> = segs.iter().filter(|s| !transit.contains(s)).copied().collect();
        for (j, s) in segs.iter().enumerate() {
            let ip = ip_in(g, Some(*s)).filter(|_| g.data.interfaces.iter().any(|i| i.segment_id == Some(*s) && i.ip.is_some()));
            let (points, label_at) = if transit.contains(s) {
                let Some(b) = transit_boxes.iter().find(|b| b.id == Some(*s)) else { continue };
                let x = r.cx() - 30.0 + 12.0 * j as f64;
                (vec![Point { x, y: r.y }, Point { x, y: b.rect.bottom() }], Point { x: x + 4.0, y: b.rect.bottom() + 12.0 })
            } else {
                let Some(bi) = boxes.iter().position(|b| b.id == Some(*s)) else { continue };
                let Some(b) = boxes.get(bi) else { continue };
                let row = box_row.get(bi).copied().unwrap_or(0);
                let jd = down.iter().position(|x| x == s).unwrap_or(0);
                // A gateway with many segments (a core switch) leaves by one trunk.
                let sx = if down.len() > 4 { r.cx() } else { r.x + r.w * (jd as f64 + 1.0) / (down.len() as f64 + 1.0) };
                let mut inc = incoming.get(s).cloned().unwrap_or_default();
                inc.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let k = inc.iter().position(|(_, id)| id == gid).unwrap_or(0);
                let span = b.rect.w.min(120.0 * (inc.len() as f64 + 1.0));
                let tx = b.rect.x + (b.rect.w - span) / 2.0 + span * (k as f64 + 1.0) / (inc.len() as f64 + 1.0);
                let cy = ch2_top + 10.0 + LANE_STEP * gi as f64;
                let pts = if row == 0 {
                    vec![Point { x: sx, y: r.bottom() }, Point { x: sx, y: cy }, Point { x: tx, y: cy }, Point { x: tx, y: b.rect.y }]
                } else {
                    let lane = lane_x(gi);
                    let gy = row_gutter(row) - 6.0 - 4.0 * gi as f64;
                    vec![
                        Point { x: sx, y: r.bottom() },
                        Point { x: sx, y: cy },
                        Point { x: lane, y: cy },
                        Point { x: lane, y: gy },
                        Point { x: tx, y: gy },
                        Point { x: tx, y: b.rect.y },
                    ]
                };
                (pts, Point { x: tx + 5.0, y: b.rect.y - 7.0 })
            };
            let seg_key = format!("s{s}");
            edges.push(Edge {
                key: format!("a{gid}-{seg_key}"),
                from: format!("a{gid}"),
                to: seg_key,
                style: EdgeStyle::Link,
                points,
                label: ip.map(str::to_owned),
                label_at: Some(label_at),
                title: format!("{} — {}", g.data.name, model.segment(*s).map(|x| x.name.as_str()).unwrap_or_default()),
                connection: None,
                segment: Some(*s),
                asset: Some(*gid),
            });
        }
    }

    // Devices in two segments: a leg to the other box.
    for n in &nodes {
        if n.kind != NodeKind::Asset {
            continue;
        }
        let Some(id) = n.members.first().copied() else { continue };
        if !multi.contains(&id) {
            continue;
        }
        let Some(a) = assets.get(&id) else { continue };
        for s in asset_segs.get(&id).cloned().unwrap_or_default() {
            if Some(s) == n.segment || transit.contains(&s) {
                continue;
            }
            let Some(b) = seg_box(s) else { continue };
            let c = Point { x: n.rect.cx(), y: n.rect.cy() };
            let target = b.rect.clamp(c);
            // Leave the node from the side facing the target.
            let from = if target.x < n.rect.x {
                Point { x: n.rect.x, y: c.y }
            } else if target.x > n.rect.right() {
                Point { x: n.rect.right(), y: c.y }
            } else if target.y < n.rect.y {
                Point { x: c.x, y: n.rect.y }
            } else {
                Point { x: c.x, y: n.rect.bottom() }
            };
            let to = if from.y == c.y && target.y >= b.rect.y && target.y <= b.rect.bottom() && (c.y >= b.rect.y && c.y <= b.rect.bottom()) {
                Point { x: target.x, y: c.y }
            } else {
                target
            };
            let src_i = boxes.iter().position(|x| x.id == n.segment);
            let dst_i = boxes.iter().position(|x| x.id == Some(s));
            let straight = from.y == to.y
                && boxes.iter().enumerate().all(|(i, x)| {
                    Some(i) == src_i
                        || Some(i) == dst_i
                        || !(x.rect.y <= from.y && x.rect.bottom() >= from.y && x.rect.right() >= from.x.min(to.x) && x.rect.x <= from.x.max(to.x))
                });
            let points = if straight {
                vec![from, to]
            } else {
                // Around the boxes: down to the gutter under the row, then along the gutters.
                let rs = src_i.and_then(|i| box_row.get(i)).copied().unwrap_or(0);
                let rt = dst_i.and_then(|i| box_row.get(i)).copied().unwrap_or(0);
                let below = |r: usize| row_tops.get(r + 1).map(|y| y - GRID_GAP_Y / 2.0 + 8.0).unwrap_or(grid_bottom + 22.0);
                let above = |r: usize| row_tops.get(r).copied().unwrap_or(grid_top) - 40.0;
                let p0 = Point { x: c.x, y: n.rect.bottom() };
                let ys = below(rs);
                let tx = (b.rect.x + 60.0).min(b.rect.cx());
                let lx = MARGIN + 3.0;
                if rt == rs {
                    vec![p0, Point { x: c.x, y: ys }, Point { x: tx, y: ys }, Point { x: tx, y: b.rect.bottom() }]
                } else if rt == rs + 1 {
                    vec![p0, Point { x: c.x, y: ys }, Point { x: tx, y: ys }, Point { x: tx, y: b.rect.y }]
                } else if rt > rs {
                    let yt = above(rt);
                    vec![p0, Point { x: c.x, y: ys }, Point { x: lx, y: ys }, Point { x: lx, y: yt }, Point { x: tx, y: yt }, Point { x: tx, y: b.rect.y }]
                } else {
                    let yt = below(rt);
                    vec![p0, Point { x: c.x, y: ys }, Point { x: lx, y: ys }, Point { x: lx, y: yt }, Point { x: tx, y: yt }, Point { x: tx, y: b.rect.bottom() }]
                }
            };
            let ip = ip_in(a, Some(s)).unwrap_or_default().to_owned();
            let seg_name = model.segment(s).map(|x| x.name.clone()).unwrap_or_default();
            edges.push(Edge {
                key: format!("a{id}-s{s}"),
                from: n.key.clone(),
                to: format!("s{s}"),
                style: EdgeStyle::Bridge,
                points,
                label: Some(tf(lang, "diagram.bridge_label", &[("ip", &ip), ("segment", &seg_name)]).trim().to_owned()),
                label_at: Some(Point { x: n.rect.x + 2.0, y: n.rect.bottom() + 15.0 }),
                title: tf(lang, "diagram.bridge_title", &[("name", &a.data.name), ("segment", &seg_name)]),
                connection: None,
                segment: Some(s),
                asset: Some(id),
            });
        }
    }

    let mut all_nodes = vec![internet];
    all_nodes.extend(conn_nodes);
    all_nodes.extend(gw_nodes);
    all_nodes.extend(nodes);
    let mut all_boxes = transit_boxes;
    all_boxes.extend(boxes);

    // ---- Highlight arrows.
    let resolve = |r: NodeRef| -> Option<Rect> {
        match r {
            NodeRef::Segment(id) => all_boxes.iter().find(|b| b.id == Some(id)).map(|b| b.rect),
            NodeRef::Asset(id) => all_nodes.iter().find(|n| n.node_ref == Some(r) || (n.kind == NodeKind::Group && n.members.contains(&id))).map(|n| n.rect),
            _ => all_nodes.iter().find(|n| n.node_ref == Some(r)).map(|n| n.rect),
        }
    };
    let mut steps = Vec::new();
    for (i, s) in opts.highlight.steps.iter().enumerate() {
        let (Some(a), Some(b)) = (resolve(s.from), resolve(s.to)) else { continue };
        let ca = Point { x: a.cx(), y: a.cy() };
        let cb = Point { x: b.cx(), y: b.cy() };
        let p0 = border_toward(&a, cb);
        let p1 = border_toward(&b, ca);
        let badge = Point { x: (p0.x + p1.x) / 2.0, y: (p0.y + p1.y) / 2.0 };
        steps.push(StepArrow { n: i + 1, from: s.from.code(), to: s.to.code(), label: s.label.clone(), points: vec![p0, p1], badge });
    }
    let removed: Vec<String> = opts
        .highlight
        .removed
        .iter()
        .filter(|r| resolve(**r).is_none())
        .map(|r| match r {
            NodeRef::Asset(id) => tf(lang, "diagram.ref.asset", &[("id", id)]),
            NodeRef::Connection(id) => tf(lang, "diagram.ref.connection", &[("id", id)]),
            NodeRef::Segment(id) => tf(lang, "diagram.ref.segment", &[("id", id)]),
            NodeRef::Internet => t(lang, "diagram.internet").to_owned(),
        })
        .collect();

    // ---- Footer: legend left, title block right, lists in between.
    let width = content_right.max(left + 1100.0) + MARGIN + 16.0;
    let foot_y = grid_bottom.max(gw_top) + 48.0;
    let steps_h = if steps.is_empty() { 0.0 } else { 40.0 + 20.0 * steps.len() as f64 };
    let removed_h = if removed.is_empty() { 0.0 } else { 40.0 + 18.0 * removed.len().min(20) as f64 };
    let footer_h = FOOTER_H.max(steps_h).max(removed_h);
    let legend = Rect { x: MARGIN, y: foot_y, w: 560.0, h: footer_h };
    let title_block = Rect { x: width - MARGIN - 440.0, y: foot_y + footer_h - 150.0, w: 440.0, h: 150.0 };
    let mut mid_x = legend.right() + 24.0;
    let steps_rect = (!steps.is_empty()).then(|| {
        let r = Rect { x: mid_x, y: foot_y, w: 420.0, h: steps_h };
        mid_x += 444.0;
        r
    });
    let removed_rect = (!removed.is_empty()).then_some(Rect { x: mid_x, y: foot_y, w: 300.0, h: removed_h });
    let needed = mid_x + if removed.is_empty() { 0.0 } else { 324.0 } + 440.0 + MARGIN;
    let width = width.max(needed);
    let title_block = Rect { x: width - MARGIN - 440.0, ..title_block };
    let height = foot_y + footer_h + MARGIN;
    let _ = band_top;

    crate::Diagram {
        width,
        height,
        title,
        lang: lang.code().to_owned(),
        facility,
        date: model.date.clone(),
        page: opts.page,
        external_band: Rect { x: MARGIN, y: band_top, w: width - 2.0 * MARGIN, h: band_bottom - band_top },
        segments: all_boxes,
        nodes: all_nodes,
        edges,
        steps,
        removed,
        footer: LegendBox { legend, title_block, removed: removed_rect, steps: steps_rect },
    }
}

/// The x nearest to `from` (towards `to`) where a vertical line passes the gateway row
/// without touching a gateway.
fn free_x(gws: &[Node], from: f64, to: f64) -> f64 {
    let mut cands: Vec<f64> = vec![from, to];
    for g in gws {
        cands.push(g.rect.x - 12.0);
        cands.push(g.rect.right() + 12.0);
    }
    let ok = |x: f64| gws.iter().all(|g| !g.rect.hits_vertical(x, 8.0));
    cands
        .into_iter()
        .filter(|x| ok(*x))
        .min_by(|a, b| {
            let da = (a - from).abs() + (a - to).abs() * 0.5;
            let db = (b - from).abs() + (b - to).abs() * 0.5;
            da.total_cmp(&db)
        })
        .unwrap_or(from)
}

/// Where the segment from the centre of `r` towards `p` leaves `r`.
fn border_toward(r: &Rect, p: Point) -> Point {
    let c = Point { x: r.cx(), y: r.cy() };
    let (dx, dy) = (p.x - c.x, p.y - c.y);
    if dx == 0.0 && dy == 0.0 {
        return c;
    }
    let sx = if dx == 0.0 { f64::MAX } else { (r.w / 2.0) / dx.abs() };
    let sy = if dy == 0.0 { f64::MAX } else { (r.h / 2.0) / dy.abs() };
    let s = sx.min(sy).min(1.0);
    Point { x: c.x + dx * s, y: c.y + dy * s }
}

fn item_node(item: &Item, seg: Option<Id>, rect: Rect, assets: &BTreeMap<Id, &Asset>, opts: &Options) -> Node {
    let lang = opts.lang;
    let kind_label = t(lang, &item.kind.label_key()).to_owned();
    let is_group = item.members.len() > 1;
    if is_group {
        let key = item.key.clone().unwrap_or_default();
        let n = item.members.len();
        let mut lines = vec![tf(lang, "diagram.group_count", &[("kind", &kind_label), ("n", &n)])];
        if let Some(f) = item.family {
            lines.push(t(lang, &format!("diagram.os_family.{f}")).to_owned());
        }
        let ips: Vec<&str> = item.members.iter().filter_map(|id| assets.get(id)).filter_map(|a| ip_in(a, seg)).collect();
        if let (Some(lo), Some(hi)) = (ips.iter().min_by_key(|s| ip_sort(s)), ips.iter().max_by_key(|s| ip_sort(s))) {
            lines.push(if lo == hi { (*lo).to_owned() } else { format!("{lo} 〜 {}", hi.rsplit('.').next().map(|x| format!(".{x}")).unwrap_or_default()) });
        }
        let names: Vec<&str> = item.members.iter().filter_map(|id| assets.get(id)).map(|a| a.data.name.as_str()).collect();
        return Node {
            key: format!("g-{}", key.replace(':', "-")),
            kind: NodeKind::Group,
            node_ref: None,
            asset_kind: Some(item.kind),
            connection_kind: None,
            segment: seg,
            group: Some(key),
            members: item.members.clone(),
            title: format!("{}\n{}", lines.first().cloned().unwrap_or_default(), names.join("、")),
            lines,
            warnings: Vec::new(),
            severity: severity_of(&item.members, opts),
            mark: None,
            rect,
        };
    }
    let id = item.members.first().copied().unwrap_or_default();
    let a = assets.get(&id);
    let name = a.map(|a| a.data.name.clone()).unwrap_or_default();
    let mut lines = vec![name.clone()];
    if let Some(a) = a {
        lines.push(ip_in(a, seg).map(str::to_owned).unwrap_or_else(|| kind_label.clone()));
        if let Some(os) = os_line(a) {
            lines.push(os);
        } else {
            lines.push(kind_label.clone());
        }
    }
    let mut warnings = Vec::new();
    if item.multi {
        warnings.push(t(lang, "diagram.warn.dual_homed").to_owned());
    }
    Node {
        key: format!("a{id}"),
        kind: NodeKind::Asset,
        node_ref: Some(NodeRef::Asset(id)),
        asset_kind: Some(item.kind),
        connection_kind: None,
        segment: seg,
        group: item.key.clone(),
        members: vec![id],
        title: format!("{name} ({kind_label})"),
        lines,
        warnings,
        severity: opts.severity.get(&id).copied(),
        mark: mark_of(NodeRef::Asset(id), opts),
        rect,
    }
}

fn ip_sort(s: &str) -> Vec<u32> {
    s.split(['.', ':']).map(|p| p.parse().unwrap_or(0)).collect()
}

fn gateway_node(a: &Asset, rect: Rect, opts: &Options) -> Node {
    let lang = opts.lang;
    let kind_label = t(lang, &a.data.kind.label_key()).to_owned();
    let mut lines = vec![a.data.name.clone(), kind_label.clone()];
    if let Some(os) = os_line(a) {
        lines.push(os);
    }
    Node {
        key: format!("a{}", a.id),
        kind: NodeKind::Gateway,
        node_ref: Some(NodeRef::Asset(a.id)),
        asset_kind: Some(a.data.kind),
        connection_kind: None,
        segment: None,
        group: None,
        members: vec![a.id],
        title: format!("{} ({kind_label})", a.data.name),
        lines,
        warnings: Vec::new(),
        severity: opts.severity.get(&a.id).copied(),
        mark: mark_of(NodeRef::Asset(a.id), opts),
        rect,
    }
}

fn connection_node(c: &ExternalConnection, model: &NetworkModel, rect: Rect, opts: &Options) -> Node {
    let lang = opts.lang;
    let who = c
        .vendor_id
        .and_then(|v| model.vendors.iter().find(|x| x.id == v))
        .map(|v| v.name.clone())
        .or_else(|| c.owner.clone())
        .or_else(|| c.provider.clone())
        .unwrap_or_else(|| t(lang, &c.kind.label_key()).to_owned());
    let mode = if c.always_on { t(lang, "diagram.always_on") } else { t(lang, "diagram.on_demand") };
    let auth = t(lang, &c.authentication.label_key()).to_owned();
    let lines = vec![c.name.clone(), who, format!("{mode} ／ {auth}")];
    let mut title = format!("{}\n{}: {}\n{mode} ／ {auth}", c.name, t(lang, &c.kind.label_key()), c.provider.clone().unwrap_or_default());
    if let Some(w) = &c.maintenance_window {
        title.push_str(&format!("\n{}: {w}", t(lang, "diagram.maintenance_window")));
    }
    Node {
        key: format!("c{}", c.id),
        kind: NodeKind::Connection,
        node_ref: Some(NodeRef::Connection(c.id)),
        asset_kind: None,
        connection_kind: Some(c.kind),
        segment: None,
        group: None,
        members: Vec::new(),
        title,
        lines,
        warnings: connection_warnings(c, lang),
        severity: opts.connection_severity.get(&c.id).copied(),
        mark: mark_of(NodeRef::Connection(c.id), opts),
        rect,
    }
}
