//! The attack graph, MulVAL style.
//!
//! Facts: `access(internet)`, `access(connection)`, `access(segment)` (network positions),
//! `exec(asset)`, `control(asset)`, `cred(account)`, `goal(g)`. Base facts come from the model
//! (reachability, exposed services, vulnerabilities, authentication, accounts, backups).
//! Each inference rule below has exactly one derived premise plus base facts, so every
//! derivation is an edge `premise → conclusion` carrying its rule (`StepKind`), its base facts
//! (`Cause`s: its provenance) and a likelihood weight. Paths are extracted exactly per goal:
//! the K shortest and the K most likely simple paths (A* with an exact reverse-Dijkstra
//! heuristic and lazy successor generation, ties broken by the steps' refs).
//!
//! Inference rules:
//!  R1 guest_join:      access(internet) ∧ guest segment            → access(segment)
//!  R2 remote_login:    access(internet) ∧ weak auth ∧ portal reachable → access(connection)
//!  R3 leaver_login:    access(internet) ∧ leaver account enabled ∧ not MFA → access(connection)
//!  R4 vendor_compromise: access(internet) ∧ vendor line (always on: standing; on request: low)
//!                                                                   → access(connection)
//!  R4b vendor_cred:   access(vendor side of c) ∧ vendor maintains b remotely (contract) ∧
//!                     an admin account valid on b ∧ reach(c, b)     → control(b)
//!  R5 remote_control:  access(connection) ∧ line terminates on a host (remote tool) → control(host)
//!  R6 exploit:         access(P) ∧ reach(P, a) ∧ KEV or CVSS≥9 network vuln(a) → control(a)
//!  R7 exploit_firmware: access(P) ∧ reach(P, a) ∧ firmware in the embedded table → control(a)
//!  R8 lateral:         access(P) ∧ reach(P, a, smb|rdp) ∧ end-of-support OS(a) → control(a)
//!  R9 harvest:         control(a) ∧ account valid on a and elsewhere  → cred(account)
//!  R10 cred_reuse:     cred(acc) ∧ reach(from acc's systems, b) ∧ acc valid on b
//!                                                                   → control(b) (admin) / exec(b)
//!  R11 escalate:       exec(a)                                      → control(a) (likelier without EDR)
//!  R12 pivot:          exec(a) or control(a)                        → access(segment of a)
//!  G1 emr_data:        exec/control(EMR system)                     → goal(emr_data)
//!  G2 receipt_down:    control(receipt system)                      → goal(receipt_down)
//!  G3 backups:         control(backup holder) ∧ no offline copy     → goal(backups_destroyed)
//!  G4 backups_samecred: control(server) ∧ backup same credentials ∧ reach ∧ no offline copy
//!                                                                   → goal(backups_destroyed)
//!  G5 medical:         access(P) ∧ reach(P, medical device)         → goal(medical_device)

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use mamori_i18n::{Lang, t, tf};
use mamori_model::network::SystemRole;
use mamori_model::{AccountPrivilege, AssetKind, Authentication, BackupMedium, ConnectionKind, Id, SegmentPurpose};
use serde::{Deserialize, Serialize};

use crate::fxhash::FxMap;
use crate::index::Index;
use crate::reach::{Flow, Reach, Src};
use crate::rules::{eos_passed, exploitable_vuln_positions, firmware_hits, is_edge_device};
use crate::{Cause, Node};

/// What an attacker wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// 電子カルテのデータが暗号化・窃取される
    EmrData,
    /// バックアップが破壊される
    BackupsDestroyed,
    /// レセコンが停止する
    ReceiptDown,
    /// 医療機器に到達される
    MedicalDevice,
}

impl Goal {
    pub const ALL: [Goal; 4] = [Goal::EmrData, Goal::BackupsDestroyed, Goal::ReceiptDown, Goal::MedicalDevice];

    pub fn code(self) -> &'static str {
        match self {
            Goal::EmrData => "emr_data",
            Goal::BackupsDestroyed => "backups_destroyed",
            Goal::ReceiptDown => "receipt_down",
            Goal::MedicalDevice => "medical_device",
        }
    }

    /// Weight in the score.
    pub fn weight(self) -> f64 {
        match self {
            Goal::EmrData => 10.0,
            Goal::BackupsDestroyed => 8.0,
            Goal::ReceiptDown => 6.0,
            Goal::MedicalDevice => 4.0,
        }
    }
}

/// The inference rule a step applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    GuestJoin,
    RemoteLogin,
    LeaverLogin,
    VendorCompromise,
    RemoteControl,
    Exploit,
    ExploitFirmware,
    Lateral,
    Harvest,
    CredReuse,
    VendorCred,
    Escalate,
    Pivot,
    EncryptEmr,
    StopReceipt,
    DestroyBackup,
    DestroyBackupSameCred,
    ReachDevice,
}

impl StepKind {
    pub fn code(self) -> &'static str {
        match self {
            StepKind::GuestJoin => "guest_join",
            StepKind::RemoteLogin => "remote_login",
            StepKind::LeaverLogin => "leaver_login",
            StepKind::VendorCompromise => "vendor_compromise",
            StepKind::RemoteControl => "remote_control",
            StepKind::Exploit => "exploit",
            StepKind::ExploitFirmware => "exploit_firmware",
            StepKind::Lateral => "lateral",
            StepKind::Harvest => "harvest",
            StepKind::CredReuse => "cred_reuse",
            StepKind::VendorCred => "vendor_cred",
            StepKind::Escalate => "escalate",
            StepKind::Pivot => "pivot",
            StepKind::EncryptEmr => "encrypt_emr",
            StepKind::StopReceipt => "stop_receipt",
            StepKind::DestroyBackup => "destroy_backup",
            StepKind::DestroyBackupSameCred => "destroy_backup_same_cred",
            StepKind::ReachDevice => "reach_device",
        }
    }
}

/// One step of an attack path, as drawn over the diagram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub from: Node,
    pub to: Node,
    pub kind: StepKind,
    pub text: String,
    /// The facts this step relies on.
    pub causes: Vec<Cause>,
}

/// A path from the internet to a goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttackPath {
    pub steps: Vec<Step>,
    /// Product of the steps' weights: a relative score to compare paths, not a probability.
    pub likelihood: f64,
    /// 「①… → ②…」
    pub text: String,
    /// Why it was kept: `shortest`, `likely` or both.
    pub criteria: Vec<String>,
}

impl AttackPath {
    /// The path's identity for comparisons: each step's from, to, kind (and account).
    pub fn refs(&self) -> Vec<String> {
        self.steps
            .iter()
            .map(|s| {
                let acc = s
                    .causes
                    .iter()
                    .find_map(|c| match c {
                        Cause::SharedCredential { account } if s.kind == StepKind::CredReuse => Some(format!("#{account}")),
                        _ => None,
                    })
                    .unwrap_or_default();
                format!("{}>{}:{}{}", s.from.code(), s.to.code(), s.kind.code(), acc)
            })
            .collect()
    }
}

/// A goal and how it can be reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalResult {
    pub goal: Goal,
    pub title: String,
    pub reachable: bool,
    pub paths: Vec<AttackPath>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum GNode {
    Internet,
    Conn(Id),
    /// The vendor's side of a vendor line, after the vendor was compromised: the attacker has
    /// the line and what the vendor knows (its maintenance credentials).
    VendorSide(Id),
    Seg(Id),
    Exec(Id),
    Control(Id),
    Cred(Id),
    Goal(Goal),
}

/// A compact cause inside the graph (rendered to [`Cause`] only for extracted paths).
#[derive(Debug, Clone, Copy, PartialEq)]
enum ICause {
    Vuln(u32),
    EdgeFirmware(Id),
    Eos(Id),
    NoEdr(Id),
    WeakAuth(Id),
    AlwaysOn(Id),
    OnDemand(Id),
    Conn(Id),
    Leaver(Id),
    SharedCred(Id),
    VendorCred(Id),
    Guest(Id),
    Flow { src: Src, pos: u32, service: Option<u16>, segment: Id, via: crate::reach::Via },
    OnlineBackup(Id),
    SameCredBackup(Id),
    NoOffline,
}

/// Where an edge's causes are. The graph of a large model has millions of edges from network
/// positions to target assets, so their causes are not stored: they are rebuilt, by the same
/// code that decided the edge, for the few edges of the paths shown.
#[derive(Debug, Clone, Copy)]
enum Causes {
    /// `Graph::causes[start..start + len]`.
    Listed { start: u32, len: u32 },
    /// An edge from `Graph::positions[position]` to the asset of `Graph::targets[target]`:
    /// see [`target_steps`].
    Target { position: u32, target: u32 },
}

/// 28 bytes: the graph of 50,000 assets holds ~1.7 million edges.
struct Edge {
    from: u32,
    to: u32,
    /// Index into `Graph::shown`: the asset / connection / segment the step displays as its
    /// target when the graph node does not say it (goal steps); `NONE` otherwise.
    shown: u32,
    /// Index into `Graph::weights`: its likelihood weight.
    weight: u16,
    kind: StepKind,
    causes: Causes,
}

const NONE: u32 = u32::MAX;

/// A likelihood weight and its cost (`lcost`), computed once per distinct weight.
struct Weight {
    lik: f64,
    lcost: u64,
}

/// What makes an asset a target (base facts).
struct Target {
    pos: usize,
    id: Id,
    /// Positions in `model.vulns` of its exploitable vulnerabilities.
    vulns: Vec<u32>,
    kev: bool,
    firmware: bool,
    eos: bool,
    no_edr: bool,
    medical: bool,
}

struct Graph {
    nodes: Vec<GNode>,
    ids: FxMap<GNode, u32>,
    edges: Vec<Edge>,
    weights: Vec<Weight>,
    shown: Vec<Node>,
    /// The causes of `Causes::Listed` edges.
    causes: Vec<ICause>,
    /// Network positions (graph node, where traffic starts) of `Causes::Target` edges.
    positions: Vec<(GNode, Src)>,
    targets: Vec<Target>,
}

impl Graph {
    fn node(&mut self, n: GNode) -> u32 {
        if let Some(i) = self.ids.get(&n) {
            return *i;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(n);
        self.ids.insert(n, i);
        i
    }

    fn weight(&mut self, lik: f64) -> u16 {
        if let Some(i) = self.weights.iter().position(|w| w.lik.to_bits() == lik.to_bits()) {
            return i as u16;
        }
        self.weights.push(Weight { lik, lcost: lcost(lik) });
        (self.weights.len() - 1) as u16
    }

    fn lik(&self, e: &Edge) -> f64 {
        self.weights.get(e.weight as usize).map(|w| w.lik).unwrap_or(1.0)
    }

    fn push(&mut self, from: GNode, to: GNode, kind: StepKind, lik: f64, target: Option<Node>, causes: Causes) {
        let from = self.node(from);
        let to = self.node(to);
        self.push_ids(from, to, kind, lik, target, causes);
    }

    /// [`Graph::push`] with nodes already numbered.
    fn push_ids(&mut self, from: u32, to: u32, kind: StepKind, lik: f64, target: Option<Node>, causes: Causes) {
        let weight = self.weight(lik);
        let shown = match target {
            Some(n) => {
                self.shown.push(n);
                (self.shown.len() - 1) as u32
            }
            None => NONE,
        };
        self.edges.push(Edge { from, to, shown, weight, kind, causes });
    }

    fn edge(&mut self, from: GNode, to: GNode, kind: StepKind, lik: f64, target: Option<Node>, causes: Vec<ICause>) {
        let start = self.causes.len() as u32;
        let len = causes.len() as u32;
        self.causes.extend(causes);
        self.push(from, to, kind, lik, target, Causes::Listed { start, len });
    }

    fn target_of(&self, e: &Edge) -> Option<Node> {
        self.shown.get(e.shown as usize).copied()
    }

    /// The causes of an edge (rebuilt for `Causes::Target`).
    fn causes_of(&self, idx: &Index, reach: &Reach, e: &Edge) -> Vec<ICause> {
        match e.causes {
            Causes::Listed { start, len } => {
                self.causes.get(start as usize..(start as usize + len as usize)).map(<[ICause]>::to_vec).unwrap_or_default()
            }
            Causes::Target { position, target } => {
                let (Some((_, src)), Some(t)) = (self.positions.get(position as usize), self.targets.get(target as usize))
                else {
                    return Vec::new();
                };
                let flows = reach.flows(idx, *src, t.pos);
                let mut found = Vec::new();
                let mut buf = Vec::new();
                target_steps(idx, *src, t, &flows, &mut buf, |kind, _, _, _, causes| {
                    if kind == e.kind {
                        found = causes.to_vec();
                    }
                });
                found
            }
        }
    }
}

/// The steps from a network position (traffic from `src`) to a target asset, given the allowed
/// flows from `src` to it (`flows`, not empty), in the order the graph holds them:
/// `emit(kind, to, likelihood, shown target, causes)`. `buf` is scratch space.
fn target_steps(
    idx: &Index,
    src: Src,
    t: &Target,
    flows: &[Flow],
    buf: &mut Vec<ICause>,
    mut emit: impl FnMut(StepKind, GNode, f64, Option<Node>, &[ICause]),
) {
    let Some(first) = flows.first() else { return };
    let fc = flow_cause(src, t.pos, first);
    if !t.vulns.is_empty() {
        buf.clear();
        buf.extend(t.vulns.iter().map(|v| ICause::Vuln(*v)));
        buf.push(fc);
        let lik = if t.kev { w::EXPLOIT_KEV } else { w::EXPLOIT_CRITICAL };
        emit(StepKind::Exploit, GNode::Control(t.id), lik, None, buf);
    }
    if t.firmware {
        buf.clear();
        buf.extend([ICause::EdgeFirmware(t.id), fc]);
        emit(StepKind::ExploitFirmware, GNode::Control(t.id), w::EXPLOIT_FIRMWARE, None, buf);
    }
    if t.eos {
        let services = idx.svc_ids.get(t.pos).and_then(|s| s.as_deref()).unwrap_or(&[]);
        let is_smb_rdp = |f: &&Flow| {
            f.service.and_then(|i| services.get(i)).is_some_and(|k| idx.svc_smb_rdp.get(*k as usize).copied().unwrap_or(false))
        };
        if let Some(f) = flows.iter().find(is_smb_rdp) {
            buf.clear();
            buf.extend([ICause::Eos(t.id), flow_cause(src, t.pos, f)]);
            let lik = if t.no_edr {
                buf.push(ICause::NoEdr(t.id));
                w::LATERAL_NO_EDR
            } else {
                w::LATERAL
            };
            emit(StepKind::Lateral, GNode::Control(t.id), lik, None, buf);
        }
    }
    if t.medical {
        buf.clear();
        buf.push(fc);
        emit(StepKind::ReachDevice, GNode::Goal(Goal::MedicalDevice), w::GOAL, Some(Node::Asset(t.id)), buf);
    }
}

/// Likelihood weights per step kind (relative).
mod w {
    pub const GUEST_JOIN: f64 = 0.5;
    pub const REMOTE_PASSWORD: f64 = 0.3;
    pub const REMOTE_NONE: f64 = 0.6;
    pub const REMOTE_UNKNOWN: f64 = 0.15;
    pub const LEAVER: f64 = 0.4;
    pub const VENDOR_ALWAYS_ON: f64 = 0.2;
    pub const VENDOR_ON_DEMAND: f64 = 0.03;
    pub const REMOTE_CONTROL: f64 = 0.9;
    pub const EXPLOIT_KEV: f64 = 0.7;
    pub const EXPLOIT_CRITICAL: f64 = 0.4;
    pub const EXPLOIT_FIRMWARE: f64 = 0.6;
    pub const LATERAL: f64 = 0.3;
    pub const LATERAL_NO_EDR: f64 = 0.45;
    pub const HARVEST: f64 = 0.9;
    pub const CRED_REUSE: f64 = 0.9;
    pub const VENDOR_CRED: f64 = 0.8;
    pub const ESCALATE: f64 = 0.5;
    pub const ESCALATE_NO_EDR: f64 = 0.7;
    pub const PIVOT: f64 = 1.0;
    pub const GOAL: f64 = 1.0;
    pub const GOAL_EXEC: f64 = 0.8;
    pub const BACKUP_SAME_CRED: f64 = 0.8;
}

fn flow_cause(src: Src, pos: usize, f: &Flow) -> ICause {
    ICause::Flow { src, pos: pos as u32, service: f.service.map(|s| s as u16), segment: f.segment, via: f.via }
}

fn build(idx: &Index, reach: &Reach) -> Graph {
    let model = idx.model;
    let mut g = Graph {
        nodes: Vec::new(),
        ids: FxMap::default(),
        edges: Vec::new(),
        weights: Vec::new(),
        shown: Vec::new(),
        causes: Vec::new(),
        positions: Vec::new(),
        targets: Vec::new(),
    };
    g.node(GNode::Internet);

    // Entries.
    for s in &model.segments {
        if s.purpose == SegmentPurpose::PatientWifi {
            g.edge(GNode::Internet, GNode::Seg(s.id), StepKind::GuestJoin, w::GUEST_JOIN, None, vec![ICause::Guest(s.id)]);
        }
    }
    for c in &model.connections {
        if !Index::is_remote_access(c) {
            continue;
        }
        // The login portal must be reachable from the internet (vendor tools dial out).
        let portal: Option<Vec<ICause>> = match (c.kind, c.asset_id.and_then(|a| idx.pos(a))) {
            (ConnectionKind::VendorRemote, _) | (_, None) => Some(Vec::new()),
            (_, Some(pos)) => reach.first_flow(idx, Src::Internet, pos).map(|f| vec![flow_cause(Src::Internet, pos, &f)]),
        };
        let Some(portal) = portal else { continue };
        let weak = match c.authentication {
            Authentication::Password => Some(w::REMOTE_PASSWORD),
            Authentication::None => Some(w::REMOTE_NONE),
            Authentication::Unknown => Some(w::REMOTE_UNKNOWN),
            Authentication::Mfa | Authentication::Certificate => None,
        };
        if let Some(lik) = weak {
            let mut causes = vec![ICause::WeakAuth(c.id)];
            causes.extend(portal.iter().copied());
            g.edge(GNode::Internet, GNode::Conn(c.id), StepKind::RemoteLogin, lik, None, causes.clone());
            for acc in &model.accounts {
                if acc.enabled && acc.holder_left && c.asset_id.is_some_and(|a| acc.asset_ids.contains(&a)) {
                    let mut causes = vec![ICause::Leaver(acc.id)];
                    causes.push(ICause::WeakAuth(c.id));
                    causes.extend(portal.iter().copied());
                    g.edge(GNode::Internet, GNode::Conn(c.id), StepKind::LeaverLogin, w::LEAVER, None, causes);
                }
            }
        }
        if c.kind == ConnectionKind::VendorRemote {
            let (lik, cause) = if c.always_on {
                (w::VENDOR_ALWAYS_ON, ICause::AlwaysOn(c.id))
            } else {
                (w::VENDOR_ON_DEMAND, ICause::OnDemand(c.id))
            };
            g.edge(GNode::Internet, GNode::VendorSide(c.id), StepKind::VendorCompromise, lik, None, vec![cause]);
            // What the vendor knows: administrator accounts on the devices it maintains remotely.
            let covered: Vec<Id> = model
                .contracts
                .iter()
                .filter(|k| k.remote_maintenance && c.vendor_id == Some(k.vendor_id))
                .flat_map(|k| k.asset_ids.iter().copied())
                .collect();
            for b in covered.iter().copied().collect::<BTreeSet<Id>>() {
                let acc = model.accounts.iter().find(|a| {
                    a.enabled
                        && matches!(a.privilege, AccountPrivilege::Admin | AccountPrivilege::Service)
                        && a.asset_ids.contains(&b)
                });
                let (Some(acc), Some(pos)) = (acc, idx.pos(b)) else { continue };
                if let Some(f) = reach.first_flow(idx, Src::Conn(c.id), pos) {
                    g.edge(
                        GNode::VendorSide(c.id),
                        GNode::Control(b),
                        StepKind::VendorCred,
                        w::VENDOR_CRED,
                        None,
                        vec![ICause::VendorCred(acc.id), flow_cause(Src::Conn(c.id), pos, &f)],
                    );
                }
            }
        }
        if let Some(a) = c.asset_id.and_then(|a| idx.asset(a))
            && !matches!(a.data.kind, AssetKind::NetworkDevice | AssetKind::VpnUtm)
        {
            g.edge(GNode::Conn(c.id), GNode::Control(a.id), StepKind::RemoteControl, w::REMOTE_CONTROL, None, vec![ICause::Conn(c.id)]);
            if c.kind == ConnectionKind::VendorRemote {
                g.edge(GNode::VendorSide(c.id), GNode::Control(a.id), StepKind::RemoteControl, w::REMOTE_CONTROL, None, vec![ICause::Conn(c.id)]);
            }
        }
    }

    // Per-asset base facts: what makes an asset a target.
    let mut targets = Vec::new();
    for (pos, a) in model.assets.iter().enumerate() {
        let vulns: Vec<u32> = exploitable_vuln_positions(idx, a.id).into_iter().map(|p| p as u32).collect();
        let kev = vulns.iter().any(|i| model.vulns.get(*i as usize).is_some_and(|v| v.kev));
        let firmware = is_edge_device(idx, a) && !firmware_hits(idx, a).is_empty() && !model.vuln_data;
        let eos = eos_passed(idx, a).is_some();
        let medical = a.data.kind == AssetKind::MedicalDevice;
        if vulns.is_empty() && !firmware && !eos && !medical {
            continue;
        }
        targets.push(Target { pos, id: a.id, vulns, kev, firmware, eos, no_edr: a.data.endpoint_protection == Some(false), medical });
    }

    // Positions: the internet, remote-access lines, segments, and assets policies name as a source.
    let mut positions: Vec<(GNode, Src)> = vec![(GNode::Internet, Src::Internet)];
    for c in &model.connections {
        if Index::is_remote_access(c) {
            positions.push((GNode::Conn(c.id), Src::Conn(c.id)));
        }
        if c.kind == ConnectionKind::VendorRemote {
            positions.push((GNode::VendorSide(c.id), Src::Conn(c.id)));
        }
    }
    for s in &model.segments {
        positions.push((GNode::Seg(s.id), Src::Seg(s.id)));
    }
    for a in &idx.named_from {
        if idx.pos(*a).is_some() {
            positions.push((GNode::Exec(*a), Src::Asset(*a)));
            positions.push((GNode::Control(*a), Src::Asset(*a)));
        }
    }
    let mut flows: Vec<Flow> = Vec::new();
    let mut buf: Vec<ICause> = Vec::new();
    let mut steps: Vec<(StepKind, GNode, f64, Option<Node>)> = Vec::new();
    // Node numbers of `Control(target)`, once numbered (`node` is idempotent: caching it does
    // not change the numbering).
    let mut control_ids: Vec<u32> = vec![NONE; targets.len()];
    for (pi, (gn, src)) in positions.iter().enumerate() {
        let mut from_id = NONE;
        let row = reach.row(*src);
        for (ti, t) in targets.iter().enumerate() {
            if idx.segs.get(t.pos).is_none_or(|s| !s.iter().any(|x| row.touches(idx, *x))) {
                continue;
            }
            flows.clear();
            row.visit_flows(idx, t.pos, |f| {
                flows.push(f);
                std::ops::ControlFlow::<()>::Continue(())
            });
            if flows.is_empty() {
                continue;
            }
            if *gn == GNode::Control(t.id) || *gn == GNode::Exec(t.id) {
                continue;
            }
            steps.clear();
            target_steps(idx, *src, t, &flows, &mut buf, |kind, to, lik, shown, _| steps.push((kind, to, lik, shown)));
            for (kind, to, lik, shown) in steps.drain(..) {
                if from_id == NONE {
                    from_id = g.node(*gn);
                }
                let to_id = match (to, control_ids.get_mut(ti)) {
                    (GNode::Control(x), Some(c)) if x == t.id => {
                        if *c == NONE {
                            *c = g.node(to);
                        }
                        *c
                    }
                    _ => g.node(to),
                };
                g.push_ids(from_id, to_id, kind, lik, shown, Causes::Target { position: pi as u32, target: ti as u32 });
            }
        }
    }
    g.positions = positions;
    g.targets = targets;

    // Credentials.
    for acc in &model.accounts {
        if !acc.enabled || acc.asset_ids.len() < 2 {
            continue;
        }
        let holders: Vec<Id> = acc.asset_ids.iter().copied().filter(|a| idx.pos(*a).is_some()).collect();
        if holders.len() < 2 {
            continue;
        }
        for a in &holders {
            g.edge(GNode::Control(*a), GNode::Cred(acc.id), StepKind::Harvest, w::HARVEST, None, vec![ICause::SharedCred(acc.id)]);
        }
        // The credential is used from where it was harvested: the segments of its systems.
        let mut from_segs: Vec<Id> = holders.iter().flat_map(|a| idx.segs_of(*a).to_vec()).collect();
        from_segs.sort();
        from_segs.dedup();
        for b in &holders {
            let Some(pos) = idx.pos(*b) else { continue };
            let flow = from_segs.iter().find_map(|s| reach.first_flow(idx, Src::Seg(*s), pos).map(|f| flow_cause(Src::Seg(*s), pos, &f)));
            let Some(fc) = flow else { continue };
            let to = match acc.privilege {
                AccountPrivilege::Admin | AccountPrivilege::Service => GNode::Control(*b),
                AccountPrivilege::User => GNode::Exec(*b),
            };
            g.edge(GNode::Cred(acc.id), to, StepKind::CredReuse, w::CRED_REUSE, None, vec![ICause::SharedCred(acc.id), fc]);
        }
    }

    // Escalation and pivots, for every asset some rule can put the attacker on.
    let on: Vec<GNode> = g.nodes.iter().copied().filter(|n| matches!(n, GNode::Exec(_) | GNode::Control(_))).collect();
    let mut done = BTreeSet::new();
    for n in on {
        let (GNode::Exec(a) | GNode::Control(a)) = n else { continue };
        if !done.insert(a) {
            continue;
        }
        let Some(asset) = idx.asset(a) else { continue };
        let no_edr = asset.data.endpoint_protection == Some(false);
        let (lik, causes) = if no_edr { (w::ESCALATE_NO_EDR, vec![ICause::NoEdr(a)]) } else { (w::ESCALATE, Vec::new()) };
        g.edge(GNode::Exec(a), GNode::Control(a), StepKind::Escalate, lik, None, causes);
        for s in idx.segs_of(a) {
            if idx.purpose(*s) == Some(SegmentPurpose::Wan) {
                continue;
            }
            g.edge(GNode::Exec(a), GNode::Seg(*s), StepKind::Pivot, w::PIVOT, None, Vec::new());
            g.edge(GNode::Control(a), GNode::Seg(*s), StepKind::Pivot, w::PIVOT, None, Vec::new());
        }
    }

    // Goals.
    let offline = model.backups.iter().any(|b| matches!(b.medium, BackupMedium::Offline | BackupMedium::Immutable));
    for (pos, a) in model.assets.iter().enumerate() {
        match idx.roles.get(pos).copied().flatten() {
            Some(SystemRole::Emr) => {
                g.edge(GNode::Control(a.id), GNode::Goal(Goal::EmrData), StepKind::EncryptEmr, w::GOAL, Some(Node::Asset(a.id)), Vec::new());
                g.edge(GNode::Exec(a.id), GNode::Goal(Goal::EmrData), StepKind::EncryptEmr, w::GOAL_EXEC, Some(Node::Asset(a.id)), Vec::new());
            }
            Some(SystemRole::Receipt) => {
                g.edge(GNode::Control(a.id), GNode::Goal(Goal::ReceiptDown), StepKind::StopReceipt, w::GOAL, Some(Node::Asset(a.id)), Vec::new());
            }
            _ => {}
        }
    }
    if !offline {
        for b in &model.backups {
            let Some(holder) = b.asset_id else { continue };
            let Some(hpos) = idx.pos(holder) else { continue };
            g.edge(
                GNode::Control(holder),
                GNode::Goal(Goal::BackupsDestroyed),
                StepKind::DestroyBackup,
                w::GOAL,
                Some(Node::Asset(holder)),
                vec![ICause::OnlineBackup(b.id), ICause::NoOffline],
            );
            if b.same_credentials {
                for (spos, s) in model.assets.iter().enumerate() {
                    if s.data.kind != AssetKind::Server || s.id == holder {
                        continue;
                    }
                    let flow = idx
                        .segs
                        .get(spos)
                        .into_iter()
                        .flatten()
                        .find_map(|seg| reach.first_flow(idx, Src::Seg(*seg), hpos).map(|f| flow_cause(Src::Seg(*seg), hpos, &f)));
                    if let Some(fc) = flow {
                        g.edge(
                            GNode::Control(s.id),
                            GNode::Goal(Goal::BackupsDestroyed),
                            StepKind::DestroyBackupSameCred,
                            w::BACKUP_SAME_CRED,
                            Some(Node::Asset(holder)),
                            vec![ICause::SameCredBackup(b.id), ICause::OnlineBackup(b.id), ICause::NoOffline, fc],
                        );
                    }
                }
            }
        }
    }
    g
}

fn lcost(lik: f64) -> u64 {
    let l = lik.clamp(1e-9, 1.0);
    (-l.ln() * 1e6).round() as u64
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Metric {
    Shortest,
    Likely,
}

fn edge_cost(g: &Graph, e: &Edge, m: Metric) -> u64 {
    let lc = g.weights.get(e.weight as usize).map(|w| w.lcost).unwrap_or(0);
    cost(lc, e.kind == StepKind::Harvest, m)
}

fn cost(lcost: u64, harvest: bool, m: Metric) -> u64 {
    let steps: u64 = if harvest { 0 } else { 1 };
    match m {
        Metric::Shortest => (steps << 40) + lcost,
        Metric::Likely => lcost * 1024 + steps,
    }
}

/// An edge's cost class: its weight and whether it is a harvest step (free in step count).
fn cost_key(e: &Edge) -> u16 {
    e.weight.saturating_mul(2) + u16::from(e.kind == StepKind::Harvest)
}

/// Costs by [`cost_key`] for a metric: `table[cost_key(e)] == edge_cost(g, e, m)`.
fn cost_table(g: &Graph, m: Metric) -> Vec<u64> {
    g.weights.iter().flat_map(|w| [cost(w.lcost, false, m), cost(w.lcost, true, m)]).collect()
}

/// Edge lists per node in compressed form (one allocation each), each list in edge order.
/// The forward lists hold edge indices (`edges`); the reverse lists, used only by Dijkstra,
/// hold each edge's other end and cost class instead (`other`, `keys`), so that Dijkstra reads
/// memory in order rather than jumping into the large edge array.
struct Csr {
    offsets: Vec<u32>,
    edges: Vec<u32>,
    other: Vec<u32>,
    keys: Vec<u16>,
}

/// Which lists a [`Csr`] holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lists {
    Edges,
    EndsAndCosts,
}

impl Csr {
    fn new(n: usize, g: &Graph, lists: Lists, end: impl Fn(&Edge) -> u32, other_end: impl Fn(&Edge) -> u32) -> Csr {
        let mut offsets = vec![0u32; n + 1];
        for e in &g.edges {
            if let Some(c) = offsets.get_mut(end(e) as usize + 1) {
                *c += 1;
            }
        }
        for i in 1..offsets.len() {
            let prev = offsets.get(i - 1).copied().unwrap_or(0);
            if let Some(c) = offsets.get_mut(i) {
                *c += prev;
            }
        }
        let mut next = offsets.clone();
        let m = g.edges.len();
        let (mut edges, mut other, mut keys) = match lists {
            Lists::Edges => (vec![0u32; m], Vec::new(), Vec::new()),
            Lists::EndsAndCosts => (Vec::new(), vec![0u32; m], vec![0u16; m]),
        };
        for (i, e) in g.edges.iter().enumerate() {
            if let Some(slot) = next.get_mut(end(e) as usize) {
                let at = *slot as usize;
                if let Some(x) = edges.get_mut(at) {
                    *x = i as u32;
                }
                if let Some(o) = other.get_mut(at) {
                    *o = other_end(e);
                }
                if let Some(k) = keys.get_mut(at) {
                    *k = cost_key(e);
                }
                *slot += 1;
            }
        }
        Csr { offsets, edges, other, keys }
    }

    fn range(&self, v: u32) -> std::ops::Range<usize> {
        let (Some(a), Some(b)) = (self.offsets.get(v as usize), self.offsets.get(v as usize + 1)) else { return 0..0 };
        *a as usize..*b as usize
    }

    fn get(&self, v: u32) -> &[u32] {
        self.edges.get(self.range(v)).unwrap_or(&[])
    }
}

/// Exact distance to `goal` from every node (reverse Dijkstra): the A* heuristic.
fn heuristic(g: &Graph, radj: &Csr, goal: u32, m: Metric) -> Vec<u64> {
    let mut h = vec![u64::MAX; g.nodes.len()];
    let costs = cost_table(g, m);
    let mut heap = BinaryHeap::new();
    if let Some(x) = h.get_mut(goal as usize) {
        *x = 0;
    }
    heap.push(Reverse((0u64, goal)));
    while let Some(Reverse((d, v))) = heap.pop() {
        if h.get(v as usize).is_some_and(|x| d > *x) {
            continue;
        }
        let r = radj.range(v);
        let (Some(froms), Some(keys)) = (radj.other.get(r.clone()), radj.keys.get(r)) else { continue };
        for (from, key) in froms.iter().zip(keys) {
            let nd = d.saturating_add(costs.get(*key as usize).copied().unwrap_or(u64::MAX));
            if let Some(x) = h.get_mut(*from as usize)
                && nd < *x
            {
                *x = nd;
                heap.push(Reverse((nd, *from)));
            }
        }
    }
    h
}

/// Whether extending a path (its nodes) with an edge to `to` makes sense: no node twice, and
/// no "exec" on an asset already executed on or controlled.
fn can_visit(g: &Graph, nodes: &[u32], to: u32) -> bool {
    if nodes.contains(&to) {
        return false;
    }
    match g.nodes.get(to as usize) {
        Some(GNode::Exec(a)) => !g.ids.get(&GNode::Control(*a)).is_some_and(|c| nodes.contains(c)),
        _ => true,
    }
}

struct Search<'a> {
    g: &'a Graph,
    adj: &'a Csr,
    h: Vec<u64>,
    m: Metric,
    sorted: FxMap<u32, Vec<(u64, u32)>>,
}

impl Search<'_> {
    /// Out-edges of `v` towards the goal, sorted by cost + h(to), built on first use.
    fn sorted(&mut self, v: u32) -> &[(u64, u32)] {
        let (g, adj, h, m) = (self.g, self.adj, &self.h, self.m);
        self.sorted.entry(v).or_insert_with(|| {
            let mut list: Vec<(u64, u32)> = adj
                .get(v)
                .iter()
                .filter_map(|ei| {
                    let e = g.edges.get(*ei as usize)?;
                    let ht = *h.get(e.to as usize)?;
                    (ht != u64::MAX).then(|| (edge_cost(g, e, m).saturating_add(ht), *ei))
                })
                .collect();
            list.sort();
            list
        })
    }

    fn next_valid(&mut self, v: u32, from_rank: usize, nodes: &[u32]) -> Option<(usize, u64, u32)> {
        let g = self.g;
        let list = self.sorted(v);
        let mut r = from_rank;
        while let Some((f, ei)) = list.get(r) {
            if let Some(e) = g.edges.get(*ei as usize)
                && can_visit(g, nodes, e.to)
            {
                return Some((r, *f, *ei));
            }
            r += 1;
        }
        None
    }

    /// Exact K best simple paths from `start` to `goal` (optionally forced to begin with
    /// `first`): A* with the exact heuristic and lazy successor generation (each popped path
    /// pushes its next sibling and its best child), so complete paths pop in non-decreasing
    /// cost. Every complete path costing no more than the K-th distinct one is returned
    /// (bounded), for the caller to order by (cost, refs).
    fn k_best(&mut self, start: u32, goal: u32, k: usize, first: Option<u32>) -> Vec<(u64, Vec<u32>)> {
        const MAX_POPS: usize = 200_000;
        const MAX_COLLECT: usize = 64;
        const NO_SIBLING: usize = usize::MAX;
        let g = self.g;
        let m = self.m;
        if self.h.get(start as usize).is_none_or(|x| *x == u64::MAX) {
            return Vec::new();
        }
        struct Item {
            g: u64,
            path: Vec<u32>,
            nodes: Vec<u32>,
            rank: usize,
        }
        let mut items: Vec<Item> = Vec::new();
        let mut pq: BinaryHeap<Reverse<(u64, usize)>> = BinaryHeap::new();
        let root = vec![start];
        match first {
            Some(ei) => {
                if let Some(e) = g.edges.get(ei as usize)
                    && e.from == start
                    && let Some(ht) = self.h.get(e.to as usize).copied().filter(|x| *x != u64::MAX)
                    && can_visit(g, &root, e.to)
                {
                    items.push(Item { g: edge_cost(g, e, m), path: vec![ei], nodes: vec![start, e.to], rank: NO_SIBLING });
                    pq.push(Reverse((edge_cost(g, e, m).saturating_add(ht), 0)));
                }
            }
            None => {
                if let Some((r, f, ei)) = self.next_valid(start, 0, &root)
                    && let Some(e) = g.edges.get(ei as usize)
                {
                    items.push(Item { g: edge_cost(g, e, m), path: vec![ei], nodes: vec![start, e.to], rank: r });
                    pq.push(Reverse((f, 0)));
                }
            }
        }
        let mut done: Vec<(u64, Vec<u32>)> = Vec::new();
        let mut keys: Vec<Vec<(Node, Node, StepKind, u32)>> = Vec::new();
        let mut kth: Option<u64> = None;
        let mut pops = 0;
        while let Some(Reverse((f, id))) = pq.pop() {
            pops += 1;
            if pops > MAX_POPS || kth.is_some_and(|c| f > c) || done.len() >= MAX_COLLECT {
                break;
            }
            // Each item is pushed once, so it is popped once: its vectors can be taken.
            let Some(item) = items.get_mut(id) else { continue };
            let (ig, ipath, inodes, irank) = (item.g, std::mem::take(&mut item.path), std::mem::take(&mut item.nodes), item.rank);
            // Sibling: same prefix, next edge of the parent.
            if irank != NO_SIBLING {
                let parent = inodes.get(inodes.len().saturating_sub(2)).copied().unwrap_or(start);
                let last_cost = ipath.last().and_then(|e| g.edges.get(*e as usize)).map(|e| edge_cost(g, e, m)).unwrap_or(0);
                let prefix_g = ig.saturating_sub(last_cost);
                let prefix_nodes: Vec<u32> = inodes.iter().take(inodes.len().saturating_sub(1)).copied().collect();
                if let Some((r, sf, ei)) = self.next_valid(parent, irank + 1, &prefix_nodes)
                    && let Some(e) = g.edges.get(ei as usize)
                {
                    let mut path: Vec<u32> = ipath.iter().take(ipath.len().saturating_sub(1)).copied().collect();
                    path.push(ei);
                    let mut nodes = prefix_nodes;
                    nodes.push(e.to);
                    items.push(Item { g: prefix_g.saturating_add(edge_cost(g, e, m)), path, nodes, rank: r });
                    pq.push(Reverse((prefix_g.saturating_add(sf), items.len() - 1)));
                }
            }
            let last = inodes.last().copied().unwrap_or(start);
            if last == goal {
                let key = path_key(g, &ipath);
                if !keys.contains(&key) {
                    keys.push(key);
                }
                done.push((ig, ipath));
                if keys.len() >= k && kth.is_none() {
                    kth = Some(ig);
                }
                continue;
            }
            // Child: extend with the best edge of the last node.
            if let Some((r, _, ei)) = self.next_valid(last, 0, &inodes)
                && let Some(e) = g.edges.get(ei as usize)
            {
                let cf = self.h.get(e.to as usize).copied().unwrap_or(u64::MAX);
                let ng = ig.saturating_add(edge_cost(g, e, m));
                let mut path = ipath;
                path.push(ei);
                let mut nodes = inodes;
                nodes.push(e.to);
                items.push(Item { g: ng, path, nodes, rank: r });
                pq.push(Reverse((ng.saturating_add(cf), items.len() - 1)));
            }
        }
        done
    }
}

/// The displayed identity of a graph path (harvest edges fold into the credential reuse).
fn path_key(g: &Graph, edges: &[u32]) -> Vec<(Node, Node, StepKind, u32)> {
    let mut out = Vec::new();
    let mut pending: Option<Node> = None;
    for ei in edges {
        let Some(e) = g.edges.get(*ei as usize) else { continue };
        if e.kind == StepKind::Harvest {
            pending = Some(display(g, e.from));
            continue;
        }
        let from = pending.take().unwrap_or_else(|| display(g, e.from));
        let extra = match g.nodes.get(e.from as usize) {
            Some(GNode::Cred(a)) => *a as u32,
            _ => 0,
        };
        out.push((from, g.target_of(e).unwrap_or_else(|| display(g, e.to)), e.kind, extra));
    }
    out
}

fn display(g: &Graph, n: u32) -> Node {
    match g.nodes.get(n as usize) {
        Some(GNode::Internet) | None => Node::Internet,
        Some(GNode::Conn(c) | GNode::VendorSide(c)) => Node::Connection(*c),
        Some(GNode::Seg(s)) => Node::Segment(*s),
        Some(GNode::Exec(a) | GNode::Control(a)) => Node::Asset(*a),
        Some(GNode::Cred(_)) | Some(GNode::Goal(_)) => Node::Internet,
    }
}

fn render_cause(idx: &Index, c: &ICause) -> Cause {
    match *c {
        ICause::Vuln(i) => {
            let v = idx.model.vulns.get(i as usize);
            Cause::Vuln {
                asset: v.map(|v| v.asset_id).unwrap_or_default(),
                vuln: v.map(|v| v.vuln_id.clone()).unwrap_or_default(),
                kev: v.is_some_and(|v| v.kev),
            }
        }
        ICause::EdgeFirmware(a) => Cause::EdgeFirmware { asset: a },
        ICause::Eos(a) => Cause::EndOfSupportOs { asset: a },
        ICause::NoEdr(a) => Cause::NoEndpointProtection { asset: a },
        ICause::WeakAuth(c) => Cause::WeakRemoteAuth { connection: c },
        ICause::AlwaysOn(c) => Cause::AlwaysOn { connection: c },
        ICause::OnDemand(c) => Cause::OnDemandLine { connection: c },
        ICause::Conn(c) => Cause::Connection { connection: c },
        ICause::Leaver(a) => Cause::LeaverAccount { account: a },
        ICause::SharedCred(a) => Cause::SharedCredential { account: a },
        ICause::VendorCred(a) => Cause::VendorCredential { account: a },
        ICause::Guest(s) => Cause::GuestNetwork { segment: s },
        ICause::Flow { src, pos, service, segment, via } => {
            let asset = idx.model.assets.get(pos as usize);
            let svc = service.and_then(|s| {
                idx.services.get(pos as usize).and_then(|l| l.as_ref()).and_then(|l| l.get(s as usize)).map(|s| s.code())
            });
            Cause::Flow { from: src.code(), asset: asset.map(|a| a.id).unwrap_or_default(), segment, service: svc, via }
        }
        ICause::OnlineBackup(b) => Cause::OnlineBackup { backup: b },
        ICause::SameCredBackup(b) => Cause::SameCredentialBackup { backup: b },
        ICause::NoOffline => Cause::NoOfflineBackup,
    }
}

fn node_name(idx: &Index, n: Node, lang: Lang) -> String {
    match n {
        Node::Internet => t(lang, "risk.node.internet").to_owned(),
        Node::Connection(c) => idx.connection_name(c),
        Node::Asset(a) => idx.asset_name(a),
        Node::Segment(s) => idx.segment_name(s),
    }
}

const CIRCLED: [&str; 20] = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩", "⑪", "⑫", "⑬", "⑭", "⑮", "⑯", "⑰", "⑱", "⑲", "⑳"];

fn step_text(idx: &Index, kind: StepKind, from: Node, to: Node, causes: &[Cause], lang: Lang) -> String {
    let detail = match kind {
        StepKind::Exploit => {
            let ids: Vec<String> = causes
                .iter()
                .filter_map(|c| match c {
                    Cause::Vuln { vuln, kev, .. } => Some(if *kev { format!("{vuln}, KEV") } else { vuln.clone() }),
                    _ => None,
                })
                .collect();
            ids.join("／")
        }
        StepKind::ExploitFirmware => idx
            .asset(match to {
                Node::Asset(a) => a,
                _ => 0,
            })
            .map(|a| format!("{} {}", a.data.os.clone().unwrap_or_default(), a.data.os_version.clone().unwrap_or_default()))
            .unwrap_or_default(),
        StepKind::Lateral => causes
            .iter()
            .find_map(|c| match c {
                Cause::Flow { service: Some(s), .. } => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        StepKind::CredReuse => causes
            .iter()
            .find_map(|c| match c {
                Cause::SharedCredential { account } => idx.account(*account).map(|a| a.username.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        StepKind::VendorCred => causes
            .iter()
            .find_map(|c| match c {
                Cause::VendorCredential { account } => idx.account(*account).map(|a| a.username.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        StepKind::LeaverLogin => causes
            .iter()
            .find_map(|c| match c {
                Cause::LeaverAccount { account } => idx.account(*account).map(|a| a.username.clone()),
                _ => None,
            })
            .unwrap_or_default(),
        StepKind::RemoteLogin => causes
            .iter()
            .find_map(|c| match c {
                Cause::WeakRemoteAuth { connection } => {
                    idx.connections.get(connection).map(|c| t(lang, &c.authentication.label_key()).to_owned())
                }
                _ => None,
            })
            .unwrap_or_default(),
        _ => String::new(),
    };
    tf(
        lang,
        &format!("risk.step.{}", kind.code()),
        &[("from", &node_name(idx, from, lang)), ("to", &node_name(idx, to, lang)), ("detail", &detail)],
    )
}

fn to_attack_path(idx: &Index, reach: &Reach, g: &Graph, edges: &[u32], lang: Lang) -> AttackPath {
    let mut steps: Vec<Step> = Vec::new();
    let mut likelihood = 1.0;
    let mut pending: Option<(Node, Vec<Cause>)> = None;
    for ei in edges {
        let Some(e) = g.edges.get(*ei as usize) else { continue };
        likelihood *= g.lik(e);
        let causes: Vec<Cause> = g.causes_of(idx, reach, e).iter().map(|c| render_cause(idx, c)).collect();
        if e.kind == StepKind::Harvest {
            pending = Some((display(g, e.from), causes));
            continue;
        }
        let (from, mut all) = match pending.take() {
            Some((f, mut c)) => {
                c.extend(causes);
                (f, c)
            }
            None => (display(g, e.from), causes),
        };
        all.dedup();
        let to = g.target_of(e).unwrap_or_else(|| display(g, e.to));
        let text = step_text(idx, e.kind, from, to, &all, lang);
        steps.push(Step { from, to, kind: e.kind, text, causes: all });
    }
    let text = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}{}", CIRCLED.get(i).copied().unwrap_or("・"), s.text))
        .collect::<Vec<_>>()
        .join(" → ");
    AttackPath { steps, likelihood, text, criteria: Vec::new() }
}

pub(crate) fn attack_goals(idx: &Index, reach: &Reach, lang: Lang, k: usize) -> Vec<GoalResult> {
    let g = build(idx, reach);
    let n = g.nodes.len();
    let adj = Csr::new(n, &g, Lists::Edges, |e| e.from, |e| e.to);
    let radj = Csr::new(n, &g, Lists::EndsAndCosts, |e| e.to, |e| e.from);
    let start = g.ids.get(&GNode::Internet).copied().unwrap_or(0);
    let entries: Vec<u32> = adj.get(start).to_vec();
    let mut out = Vec::new();
    for goal in Goal::ALL {
        let title = t(lang, &format!("risk.goal.{}", goal.code())).to_owned();
        let Some(gid) = g.ids.get(&GNode::Goal(goal)).copied() else {
            out.push(GoalResult { goal, title, reachable: false, paths: Vec::new() });
            continue;
        };
        let mut chosen: Vec<AttackPath> = Vec::new();
        type Key = Vec<(Node, Node, StepKind, u32)>;
        let mut chosen_keys: Vec<Key> = Vec::new();
        // Orders candidates by (cost, displayed steps) and keeps the first k distinct ones;
        // only kept paths are rendered.
        let add = |found: Vec<(u64, Vec<u32>)>, label: &str, k: usize, chosen: &mut Vec<AttackPath>, chosen_keys: &mut Vec<Key>| {
            let mut found: Vec<(u64, Key, Vec<u32>)> = found.into_iter().map(|(c, e)| (c, path_key(&g, &e), e)).collect();
            found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let mut seen: Vec<Key> = Vec::new();
            for (_, key, edges) in found {
                if seen.len() >= k {
                    break;
                }
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key.clone());
                if let Some(i) = chosen_keys.iter().position(|x| *x == key) {
                    if let Some(existing) = chosen.get_mut(i)
                        && !existing.criteria.iter().any(|c| c == label)
                    {
                        existing.criteria.push(label.into());
                    }
                } else {
                    let mut p = to_attack_path(idx, reach, &g, &edges, lang);
                    p.criteria.push(label.into());
                    chosen.push(p);
                    chosen_keys.push(key);
                }
            }
        };
        for (metric, label) in [(Metric::Shortest, "shortest"), (Metric::Likely, "likely")] {
            let h = heuristic(&g, &radj, gid, metric);
            let mut search = Search { g: &g, adj: &adj, h, m: metric, sorted: FxMap::default() };
            add(search.k_best(start, gid, k, None), label, k, &mut chosen, &mut chosen_keys);
            if metric == Metric::Likely {
                // The most likely path through each entry point, so every way in is shown.
                for e in &entries {
                    add(search.k_best(start, gid, 1, Some(*e)), "entry", 1, &mut chosen, &mut chosen_keys);
                }
            }
        }
        chosen.sort_by(|a, b| {
            b.likelihood.partial_cmp(&a.likelihood).unwrap_or(std::cmp::Ordering::Equal).then_with(|| a.steps.len().cmp(&b.steps.len())).then_with(|| a.refs().cmp(&b.refs()))
        });
        let reachable = !chosen.is_empty();
        out.push(GoalResult { goal, title, reachable, paths: chosen });
    }
    out
}
