//! Lookup tables over a model, built once per assessment in O(assets + segments + policies).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::fxhash::FxMap;

use mamori_model::network::{NetworkModel, Service, SystemRole, Zone};
use mamori_model::{Account, Asset, AssetKind, ConnectionKind, ExternalConnection, Id, Segment, SegmentPurpose};

/// `Index::svc_list` of an asset whose services are unknown.
pub(crate) const NO_LIST: u32 = u32::MAX;

pub(crate) struct Index<'m> {
    pub model: &'m NetworkModel,
    /// Asset id → position in `model.assets`.
    pub asset_pos: FxMap<Id, usize>,
    /// Per asset (by position): its id, and the position its id maps to (itself unless ids
    /// repeat): dense, for loops over every asset.
    pub ids: Vec<Id>,
    pub canon: Vec<u32>,
    /// Per asset (by position): its segments.
    pub segs: Vec<Vec<Id>>,
    /// Per asset: its services (`None`: nobody knows).
    pub services: Vec<Option<Vec<Service>>>,
    /// Per asset: its services as ids into `svc_table` (same order as `services`), so
    /// reachability compares small integers instead of strings.
    pub svc_ids: Vec<Option<Box<[u32]>>>,
    /// The distinct services of the model (interned).
    pub svc_table: Vec<Service>,
    /// Per interned service: whether it is SMB or RDP.
    pub svc_smb_rdp: Vec<bool>,
    /// Per asset: its whole service list as an id into `svc_lists` (`NO_LIST` when unknown):
    /// assets with the same services share results per (source, segment).
    pub svc_list: Vec<u32>,
    pub svc_lists: Vec<Box<[u32]>>,
    /// Per asset: whether it offers SMB or RDP.
    pub smb_rdp: Vec<bool>,
    /// Per asset: its role.
    pub roles: Vec<Option<SystemRole>>,
    /// Segment id → assets (positions) with an interface in it.
    pub seg_assets: BTreeMap<Id, Vec<usize>>,
    pub segments: BTreeMap<Id, &'m Segment>,
    /// Segment → the smallest segment id of its broadcast domain (same CIDR).
    pub domain: BTreeMap<Id, Id>,
    /// Unordered segment pairs (low, high) joined by a routing device → that device.
    pub routers: BTreeMap<(Id, Id), Id>,
    pub connections: BTreeMap<Id, &'m ExternalConnection>,
    /// Assets evaluated one by one (named by a policy, internet-facing, on a WAN segment,
    /// terminating a connection); every other asset is evaluated with its segment.
    pub named_to: BTreeSet<Id>,
    /// Per asset (by position): whether its id is in `named_to`.
    pub is_named: Vec<bool>,
    /// Asset id → positions of its entries in `model.vulns`, in model order.
    pub vulns_of: FxMap<Id, Vec<usize>>,
    /// Assets named as a policy's source: they are positions of their own.
    pub named_from: BTreeSet<Id>,
    /// Segments holding at least one named asset.
    pub named_segs: BTreeSet<Id>,
}

impl<'m> Index<'m> {
    pub fn new(model: &'m NetworkModel) -> Self {
        let segments: BTreeMap<Id, &Segment> = model.segments.iter().map(|s| (s.id, s)).collect();
        let mut asset_pos = FxMap::default();
        let mut svc_ids = Vec::with_capacity(model.assets.len());
        let mut svc_table: Vec<Service> = Vec::new();
        let mut svc_lookup: HashMap<Service, u32> = HashMap::new();
        let mut segs = Vec::with_capacity(model.assets.len());
        let mut services = Vec::with_capacity(model.assets.len());
        let mut roles = Vec::with_capacity(model.assets.len());
        let mut smb_rdp = Vec::with_capacity(model.assets.len());
        let mut seg_assets: BTreeMap<Id, Vec<usize>> = BTreeMap::new();
        let mut routers: BTreeMap<(Id, Id), Id> = BTreeMap::new();
        let mut named_to = BTreeSet::new();
        for (i, a) in model.assets.iter().enumerate() {
            asset_pos.insert(a.id, i);
            let s: Vec<Id> = a.segment_ids().into_iter().filter(|s| segments.contains_key(s)).collect();
            for sid in &s {
                seg_assets.entry(*sid).or_default().push(i);
            }
            if matches!(a.data.kind, AssetKind::NetworkDevice | AssetKind::VpnUtm) && s.len() >= 2 {
                for (x, sx) in s.iter().enumerate() {
                    for sy in s.iter().skip(x + 1) {
                        let key = ((*sx).min(*sy), (*sx).max(*sy));
                        routers.entry(key).or_insert(a.id);
                    }
                }
            }
            if a.data.internet_facing
                || s.iter().any(|sid| segments.get(sid).is_some_and(|g| g.purpose == SegmentPurpose::Wan))
            {
                named_to.insert(a.id);
            }
            segs.push(s);
            let svc = a.services();
            smb_rdp.push(svc.as_ref().is_some_and(|l| l.iter().any(is_smb_rdp)));
            svc_ids.push(svc.as_ref().map(|list| {
                list.iter()
                    .map(|x| {
                        *svc_lookup.entry(x.clone()).or_insert_with(|| {
                            svc_table.push(x.clone());
                            (svc_table.len() - 1) as u32
                        })
                    })
                    .collect::<Box<[u32]>>()
            }));
            services.push(svc);
            roles.push(a.role());
        }
        let mut by_cidr: BTreeMap<String, Id> = BTreeMap::new();
        let mut domain = BTreeMap::new();
        for s in &model.segments {
            let rep = match s.cidr.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(c) => *by_cidr.entry(c.to_ascii_lowercase()).or_insert(s.id),
                None => s.id,
            };
            domain.insert(s.id, rep);
        }
        // A representative must be the smallest id of the domain for stable output.
        let mut min_of: BTreeMap<Id, Id> = BTreeMap::new();
        for (s, rep) in &domain {
            let e = min_of.entry(*rep).or_insert(*s);
            *e = (*e).min(*s);
        }
        for rep in domain.values_mut() {
            if let Some(m) = min_of.get(rep) {
                *rep = *m;
            }
        }
        let mut named_from = BTreeSet::new();
        for p in &model.policies {
            if let Zone::Asset(a) = p.to {
                named_to.insert(a);
            }
            if let Zone::Asset(a) = p.from {
                named_from.insert(a);
            }
        }
        let connections: BTreeMap<Id, &ExternalConnection> = model.connections.iter().map(|c| (c.id, c)).collect();
        for c in &model.connections {
            if let Some(a) = c.asset_id {
                named_to.insert(a);
            }
        }
        let mut named_segs = BTreeSet::new();
        for a in &named_to {
            if let Some(p) = asset_pos.get(a) {
                named_segs.extend(segs.get(*p).into_iter().flatten().copied());
            }
        }
        let is_named = model.assets.iter().map(|a| named_to.contains(&a.id)).collect();
        let svc_smb_rdp = svc_table.iter().map(is_smb_rdp).collect();
        let mut vulns_of: FxMap<Id, Vec<usize>> = FxMap::default();
        for (i, v) in model.vulns.iter().enumerate() {
            vulns_of.entry(v.asset_id).or_default().push(i);
        }
        let ids: Vec<Id> = model.assets.iter().map(|a| a.id).collect();
        let canon = ids.iter().enumerate().map(|(i, id)| asset_pos.get(id).copied().unwrap_or(i) as u32).collect();
        let mut svc_lists: Vec<Box<[u32]>> = Vec::new();
        let mut list_lookup: HashMap<&[u32], u32> = HashMap::new();
        let svc_list = svc_ids
            .iter()
            .map(|l| match l.as_deref() {
                None => NO_LIST,
                Some(l) => *list_lookup.entry(l).or_insert_with(|| {
                    svc_lists.push(l.into());
                    (svc_lists.len() - 1) as u32
                }),
            })
            .collect();
        Index {
            named_segs,
            ids,
            canon,
            svc_list,
            svc_lists,
            svc_ids,
            svc_table,
            svc_smb_rdp,
            is_named,
            vulns_of,
            model,
            asset_pos,
            segs,
            services,
            smb_rdp,
            roles,
            seg_assets,
            segments,
            domain,
            routers,
            connections,
            named_to,
            named_from,
        }
    }

    pub fn asset(&self, id: Id) -> Option<&'m Asset> {
        self.asset_pos.get(&id).and_then(|i| self.model.assets.get(*i))
    }

    pub fn pos(&self, id: Id) -> Option<usize> {
        self.asset_pos.get(&id).copied()
    }

    pub fn segs_of(&self, id: Id) -> &[Id] {
        self.pos(id).and_then(|i| self.segs.get(i)).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn role_of(&self, id: Id) -> Option<SystemRole> {
        self.pos(id).and_then(|i| self.roles.get(i).copied().flatten())
    }

    pub fn purpose(&self, seg: Id) -> Option<SegmentPurpose> {
        self.segments.get(&seg).map(|s| s.purpose)
    }

    pub fn same_domain(&self, a: Id, b: Id) -> bool {
        a == b || (self.domain.contains_key(&a) && self.domain.get(&a) == self.domain.get(&b))
    }

    /// Segments of the same broadcast domain as `seg` (itself included).
    pub fn domain_of(&self, seg: Id) -> Vec<Id> {
        let rep = self.domain.get(&seg).copied();
        self.domain.iter().filter(|(_, r)| Some(**r) == rep).map(|(s, _)| *s).collect()
    }

    pub fn router_between(&self, a: Id, b: Id) -> Option<Id> {
        self.routers.get(&(a.min(b), a.max(b))).copied()
    }

    pub fn segment_name(&self, seg: Id) -> String {
        self.segments.get(&seg).map(|s| s.name.clone()).unwrap_or_else(|| format!("#{seg}"))
    }

    pub fn asset_name(&self, id: Id) -> String {
        self.asset(id).map(|a| a.data.name.clone()).unwrap_or_else(|| format!("#{id}"))
    }

    pub fn connection_name(&self, id: Id) -> String {
        self.connections.get(&id).map(|c| c.name.clone()).unwrap_or_else(|| format!("#{id}"))
    }

    pub fn account(&self, id: Id) -> Option<&'m Account> {
        self.model.accounts.iter().find(|a| a.id == id)
    }

    /// Remote access a person or vendor logs in to from outside (VPN, remote tools,
    /// port forwards), as opposed to the internet line itself, clouds and closed networks.
    pub fn is_remote_access(c: &ExternalConnection) -> bool {
        matches!(c.kind, ConnectionKind::VendorRemote | ConnectionKind::Other)
    }

    /// A closed network segment: purpose eligibility_closed, or where a closed-network
    /// connection lands.
    pub fn is_closed_segment(&self, seg: Id) -> bool {
        self.purpose(seg) == Some(SegmentPurpose::EligibilityClosed)
            || self
                .model
                .connections
                .iter()
                .any(|c| c.kind == ConnectionKind::ClosedNetwork && c.segment_id == Some(seg))
    }
}

/// `smb` or `rdp` as a service's name or its port's well-known name.
pub(crate) fn service_label(s: &Service) -> Option<String> {
    s.name.clone().or_else(|| s.well_known().map(str::to_owned))
}

pub(crate) fn is_smb_rdp(s: &Service) -> bool {
    let n = s.name.as_deref().or_else(|| s.well_known()).unwrap_or("");
    matches!(n, "smb" | "rdp" | "microsoft-ds" | "netbios-ssn" | "ms-wbt-server")
        || matches!((s.protocol.as_str(), s.port), ("tcp", 445) | ("tcp", 139) | ("tcp", 3389))
}
