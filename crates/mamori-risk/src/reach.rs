//! What each zone can reach. Evaluated per (source zone, destination segment) for the distinct
//! services present in the segment, and per asset only for assets that policies name (or that
//! face the internet / terminate a connection). Never asset × asset.
//!
//! Semantics (the model's): policies are evaluated first-match in `position` order. Traffic
//! inside one segment, or between segments of one broadcast domain (same CIDR), does not pass
//! a gateway and is not filtered. Between segments joined by a router with no matching rule,
//! traffic is allowed (reported as an assumption). From the internet, devices on a WAN segment
//! are reached directly (only their own rules apply), other devices only through a policy, or
//! when they are marked internet-facing and no rule matches (assumption). A connection reaches
//! its terminating device and its landing segment, plus what policies allow.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use mamori_i18n::{Lang, tf};
use mamori_model::network::{Policy, PolicyAction, Service, Zone};
use mamori_model::{Id, SegmentPurpose};
use serde::{Deserialize, Serialize};

use crate::fxhash::FxMap;
use crate::index::{Index, service_label};

/// A position traffic starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Src {
    Internet,
    Conn(Id),
    Seg(Id),
    Asset(Id),
}

impl Src {
    pub fn code(self) -> String {
        match self {
            Src::Internet => "internet".into(),
            Src::Conn(c) => format!("connection:{c}"),
            Src::Seg(s) => format!("segment:{s}"),
            Src::Asset(a) => format!("asset:{a}"),
        }
    }
}

/// Why traffic is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Via {
    /// A policy allows it.
    Policy { id: Id },
    /// Same segment: no gateway in between.
    SameSegment { segment: Id },
    /// Two segments with the same address range: one broadcast domain, unfiltered.
    SharedBroadcast { from_segment: Id, to_segment: Id },
    /// A router joins the segments and no rule matches (assumed allowed).
    Router { gateway: Id, from_segment: Id, to_segment: Id },
    /// The connection terminates on this device.
    Terminates { connection: Id },
    /// The connection lands in this segment.
    Landing { connection: Id },
    /// The device sits on the WAN segment, directly on the internet.
    WanDirect,
    /// The device is marked internet-facing and no rule matches (assumed reachable).
    InternetFacing,
}

impl Via {
    /// Whether a gateway rule can filter this traffic (a policy inserted before all others
    /// decides it).
    pub fn filterable(self) -> bool {
        !matches!(self, Via::SameSegment { .. } | Via::SharedBroadcast { .. })
    }
}

/// An allowed flow to one device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Flow {
    /// Index into the asset's services; `None`: its services are unknown.
    pub service: Option<usize>,
    pub segment: Id,
    pub via: Via,
}

/// A service key: an interned service id of [`Index::svc_table`], `None` for "services unknown".
type Key = Option<u32>;

/// The allowed keys of one (source, destination segment) for the segment's non-named assets,
/// sorted by key (binary search: a handful of entries, no strings compared).
pub(crate) struct SegTable(Vec<(Key, Via)>);

impl SegTable {
    pub fn get(&self, key: Key) -> Option<Via> {
        self.0.binary_search_by(|(k, _)| k.cmp(&key)).ok().and_then(|i| self.0.get(i)).map(|(_, v)| *v)
    }

    /// Whether any allowed key satisfies `pred` (cheap pre-filter for whole segments).
    pub fn any(&self, mut pred: impl FnMut(Key, Via) -> bool) -> bool {
        self.0.iter().any(|(k, v)| pred(*k, *v))
    }
}

pub(crate) struct Reach {
    /// Source → (destination segment, allowed service keys of the segment's non-named
    /// assets), sorted by segment. See [`Row`].
    rows: FxMap<Src, Vec<(Id, SegTable)>>,
    /// (source, named asset) → its allowed flows, in (segment, service) order.
    named: FxMap<(Src, Id), Vec<Flow>>,
    pub router_defaults: BTreeSet<(Id, Id, Id)>,
    pub facing_defaults: BTreeSet<Id>,
    pub unknown_services: usize,
}

pub(crate) fn service_matches(specs: &[String], svc: Option<&Service>) -> bool {
    if specs.is_empty() {
        return true;
    }
    let Some(svc) = svc else { return false };
    let code = svc.code();
    let label = service_label(svc);
    specs.iter().any(|spec| {
        let spec = spec.trim().to_ascii_lowercase();
        if spec == code {
            return true;
        }
        if let Some((a, b)) = spec.split_once('/') {
            // `443/tcp` form.
            return format!("{b}/{a}") == code;
        }
        label.as_deref() == Some(spec.as_str()) || svc.well_known() == Some(spec.as_str())
    })
}

fn from_matches(z: Zone, src: Src, src_segs: &[Id]) -> bool {
    match z {
        Zone::Any => true,
        Zone::Internet => src == Src::Internet,
        Zone::Segment(s) => match src {
            Src::Seg(x) => x == s,
            Src::Asset(_) => src_segs.contains(&s),
            _ => false,
        },
        Zone::Asset(a) => src == Src::Asset(a),
        Zone::Connection(c) => src == Src::Conn(c),
    }
}

fn to_matches(z: Zone, asset: Option<Id>, seg: Id) -> bool {
    match z {
        Zone::Any => true,
        Zone::Internet | Zone::Connection(_) => false,
        Zone::Segment(s) => s == seg,
        Zone::Asset(a) => asset == Some(a),
    }
}

impl Reach {
    pub fn compute(idx: &Index) -> Reach {
        let model = idx.model;
        let ordered: Vec<&Policy> = model.ordered_policies();
        let mut sources = vec![Src::Internet];
        sources.extend(model.connections.iter().map(|c| Src::Conn(c.id)));
        sources.extend(model.segments.iter().map(|s| Src::Seg(s.id)));
        sources.extend(idx.named_from.iter().filter(|a| idx.pos(**a).is_some()).map(|a| Src::Asset(*a)));

        // Distinct service keys of each segment's non-named assets.
        let mut seg_keys: BTreeMap<Id, BTreeSet<Key>> = BTreeMap::new();
        let mut unknown_services = 0;
        for (i, ids) in idx.svc_ids.iter().enumerate() {
            if ids.is_none() {
                unknown_services += 1;
            }
            if idx.is_named.get(i).copied().unwrap_or(false) {
                continue;
            }
            for s in idx.segs.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                let e = seg_keys.entry(*s).or_default();
                match ids {
                    Some(list) => e.extend(list.iter().copied().map(Some)),
                    None => {
                        e.insert(None);
                    }
                }
            }
        }

        let mut r = Reach {
            rows: FxMap::default(),
            named: FxMap::default(),
            router_defaults: BTreeSet::new(),
            facing_defaults: BTreeSet::new(),
            unknown_services,
        };
        let svc = |key: Key| key.and_then(|k| idx.svc_table.get(k as usize));
        for src in &sources {
            let src_segs: Vec<Id> = match src {
                Src::Seg(s) => vec![*s],
                Src::Asset(a) => idx.segs_of(*a).to_vec(),
                _ => Vec::new(),
            };
            // Only the policies whose source matches this zone matter.
            let pols: Vec<&Policy> =
                ordered.iter().copied().filter(|p| from_matches(p.from, *src, &src_segs)).collect();
            let mut row = Vec::new();
            for (seg, keys) in &seg_keys {
                // `keys` iterates in order, so the table is sorted.
                let mut allowed = Vec::new();
                for key in keys {
                    if let Some(via) = r.decide(idx, *src, &src_segs, &pols, None, *seg, svc(*key)) {
                        allowed.push((*key, via));
                    }
                }
                if !allowed.is_empty() {
                    row.push((*seg, SegTable(allowed)));
                }
            }
            if !row.is_empty() {
                // `seg_keys` iterates in segment order: the row is sorted.
                r.rows.insert(*src, row);
            }
            for a in &idx.named_to {
                let Some(pos) = idx.pos(*a) else { continue };
                let keys: Vec<(Option<usize>, Key)> = match idx.svc_ids.get(pos).and_then(|s| s.as_ref()) {
                    Some(list) => list.iter().enumerate().map(|(i, k)| (Some(i), Some(*k))).collect(),
                    None => vec![(None, None)],
                };
                let mut out = Vec::new();
                for seg in idx.segs.get(pos).map(Vec::as_slice).unwrap_or(&[]) {
                    for (service, key) in &keys {
                        if let Some(via) = r.decide(idx, *src, &src_segs, &pols, Some(*a), *seg, svc(*key)) {
                            out.push(Flow { service: *service, segment: *seg, via });
                        }
                    }
                }
                if !out.is_empty() {
                    r.named.insert((*src, *a), out);
                }
            }
        }
        r
    }

    #[allow(clippy::too_many_arguments)]
    fn decide(
        &mut self,
        idx: &Index,
        src: Src,
        src_segs: &[Id],
        pols: &[&Policy],
        asset: Option<Id>,
        seg: Id,
        svc: Option<&Service>,
    ) -> Option<Via> {
        // Unfiltered: same segment or same broadcast domain.
        for s in src_segs {
            if *s == seg {
                return Some(Via::SameSegment { segment: seg });
            }
        }
        for s in src_segs {
            if idx.same_domain(*s, seg) {
                return Some(Via::SharedBroadcast { from_segment: *s, to_segment: seg });
            }
        }
        let wan = idx.purpose(seg) == Some(SegmentPurpose::Wan);
        for p in pols {
            if src == Src::Internet && wan {
                // A device on the WAN segment is only behind its own rules.
                if p.gateway_id.is_some() && p.gateway_id != asset {
                    continue;
                }
            }
            if to_matches(p.to, asset, seg) && service_matches(&p.services, svc) {
                return match p.action {
                    PolicyAction::Allow => Some(Via::Policy { id: p.id }),
                    PolicyAction::Deny => None,
                };
            }
        }
        match src {
            Src::Internet => {
                if wan {
                    Some(Via::WanDirect)
                } else if let Some(a) = asset
                    && idx.asset(a).is_some_and(|x| x.data.internet_facing)
                {
                    self.facing_defaults.insert(a);
                    Some(Via::InternetFacing)
                } else {
                    None
                }
            }
            Src::Conn(c) => {
                let conn = idx.connections.get(&c)?;
                if asset.is_some() && conn.asset_id == asset {
                    Some(Via::Terminates { connection: c })
                } else if conn.segment_id == Some(seg) {
                    Some(Via::Landing { connection: c })
                } else {
                    None
                }
            }
            Src::Seg(_) | Src::Asset(_) => {
                for s in src_segs {
                    if let Some(gw) = idx.router_between(*s, seg) {
                        if idx.purpose(seg) == Some(SegmentPurpose::Wan) || idx.purpose(*s) == Some(SegmentPurpose::Wan) {
                            continue;
                        }
                        self.router_defaults.insert((gw, *s, seg));
                        return Some(Via::Router { gateway: gw, from_segment: *s, to_segment: seg });
                    }
                }
                None
            }
        }
    }

    /// What `src` reaches, for loops over many assets (one hash lookup per source).
    pub fn row(&self, src: Src) -> Row<'_> {
        Row { reach: self, src, segs: self.rows.get(&src).map(Vec::as_slice).unwrap_or(&[]) }
    }

    /// [`Row::visit_flows`] of `src`.
    pub fn visit_flows<B>(&self, idx: &Index, src: Src, pos: usize, f: impl FnMut(Flow) -> ControlFlow<B>) -> Option<B> {
        self.row(src).visit_flows(idx, pos, f)
    }

    /// Allowed flows from `src` to the asset at position `pos`.
    pub fn flows(&self, idx: &Index, src: Src, pos: usize) -> Vec<Flow> {
        let mut out = Vec::new();
        self.visit_flows(idx, src, pos, |f| {
            out.push(f);
            ControlFlow::<()>::Continue(())
        });
        out
    }

    /// The first allowed flow from `src` to the asset at position `pos` that satisfies `pred`.
    pub fn find_flow(&self, idx: &Index, src: Src, pos: usize, mut pred: impl FnMut(&Flow) -> bool) -> Option<Flow> {
        self.visit_flows(idx, src, pos, |f| if pred(&f) { ControlFlow::Break(f) } else { ControlFlow::Continue(()) })
    }

    /// The first allowed flow from `src` to the asset at position `pos`.
    pub fn first_flow(&self, idx: &Index, src: Src, pos: usize) -> Option<Flow> {
        self.find_flow(idx, src, pos, |_| true)
    }

    /// Whether `src` reaches the internet (first matching policy on any service).
    pub fn reaches_internet(idx: &Index, seg: Id) -> Option<(bool, Option<Id>)> {
        for p in idx.model.ordered_policies() {
            if from_matches(p.from, Src::Seg(seg), &[seg]) && matches!(p.to, Zone::Internet | Zone::Any) {
                return Some((p.action == PolicyAction::Allow, Some(p.id)));
            }
        }
        None
    }

    pub fn assumptions(&self, idx: &Index, lang: Lang) -> Vec<String> {
        let mut out = Vec::new();
        for (gw, a, b) in &self.router_defaults {
            out.push(tf(
                lang,
                "risk.assume.router_default",
                &[("gateway", &idx.asset_name(*gw)), ("from", &idx.segment_name(*a)), ("to", &idx.segment_name(*b))],
            ));
        }
        for a in &self.facing_defaults {
            out.push(tf(lang, "risk.assume.internet_facing", &[("asset", &idx.asset_name(*a))]));
        }
        let mut shared: BTreeMap<Id, Vec<Id>> = BTreeMap::new();
        for (s, rep) in &idx.domain {
            shared.entry(*rep).or_default().push(*s);
        }
        for segs in shared.values().filter(|v| v.len() > 1) {
            let names: Vec<String> = segs.iter().map(|s| idx.segment_name(*s)).collect();
            out.push(tf(lang, "risk.assume.shared_broadcast", &[("segments", &names.join("・"))]));
        }
        if self.unknown_services > 0 {
            out.push(tf(lang, "risk.assume.unknown_services", &[("count", &self.unknown_services)]));
        }
        out
    }
}

/// What one source reaches: per-segment tables found by binary search over a short sorted
/// slice, so loops over every asset hash nothing.
pub(crate) struct Row<'r> {
    reach: &'r Reach,
    src: Src,
    segs: &'r [(Id, SegTable)],
}

impl<'r> Row<'r> {
    /// The allowed keys to the non-named assets of `seg`.
    pub fn table(&self, seg: Id) -> Option<&'r SegTable> {
        let segs: &'r [(Id, SegTable)] = self.segs;
        segs.binary_search_by(|(s, _)| s.cmp(&seg)).ok().and_then(|i| segs.get(i)).map(|(_, t)| t)
    }

    /// Whether the source reaches anything in `seg` at all (cheap pre-filter).
    pub fn touches(&self, idx: &Index, seg: Id) -> bool {
        self.table(seg).is_some() || idx.named_segs.contains(&seg)
    }

    /// The allowed flows to a named asset.
    pub fn named_flows(&self, asset: Id) -> &'r [Flow] {
        self.reach.named.get(&(self.src, asset)).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Calls `f` with each allowed flow to the asset at position `pos`, in order (its
    /// segments, then its services), until `f` breaks. Allocates nothing.
    pub fn visit_flows<B>(&self, idx: &Index, pos: usize, mut f: impl FnMut(Flow) -> ControlFlow<B>) -> Option<B> {
        if idx.is_named.get(pos).copied().unwrap_or(false) {
            let id = idx.ids.get(pos).copied()?;
            for fl in self.named_flows(id) {
                if let ControlFlow::Break(b) = f(*fl) {
                    return Some(b);
                }
            }
            return None;
        }
        let ids = idx.svc_ids.get(pos).and_then(|s| s.as_deref());
        for seg in idx.segs.get(pos).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(table) = self.table(*seg) else { continue };
            match ids {
                Some(list) => {
                    for (i, k) in list.iter().enumerate() {
                        if let Some(via) = table.get(Some(*k))
                            && let ControlFlow::Break(b) = f(Flow { service: Some(i), segment: *seg, via })
                        {
                            return Some(b);
                        }
                    }
                }
                None => {
                    if let Some(via) = table.get(None)
                        && let ControlFlow::Break(b) = f(Flow { service: None, segment: *seg, via })
                    {
                        return Some(b);
                    }
                }
            }
        }
        None
    }
}

/// Human words for a flow's reason.
pub(crate) fn via_text(idx: &Index, via: Via, lang: Lang) -> String {
    match via {
        Via::Policy { id } => {
            let name = idx.model.policies.iter().find(|p| p.id == id).and_then(|p| p.name.clone()).unwrap_or_default();
            tf(lang, "risk.via.policy", &[("id", &id), ("name", &name)])
        }
        Via::SameSegment { segment } => tf(lang, "risk.via.same_segment", &[("segment", &idx.segment_name(segment))]),
        Via::SharedBroadcast { from_segment, to_segment } => tf(
            lang,
            "risk.via.shared_broadcast",
            &[("from", &idx.segment_name(from_segment)), ("to", &idx.segment_name(to_segment))],
        ),
        Via::Router { gateway, .. } => tf(lang, "risk.via.router", &[("gateway", &idx.asset_name(gateway))]),
        Via::Terminates { connection } => tf(lang, "risk.via.terminates", &[("connection", &idx.connection_name(connection))]),
        Via::Landing { connection } => tf(lang, "risk.via.landing", &[("connection", &idx.connection_name(connection))]),
        Via::WanDirect => tf(lang, "risk.via.wan_direct", &[]),
        Via::InternetFacing => tf(lang, "risk.via.internet_facing", &[]),
    }
}
