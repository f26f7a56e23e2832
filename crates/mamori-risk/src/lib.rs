//! Risk assessment of a facility's network model: rules (findings and 「確認が必要」 unknowns),
//! a MulVAL-style attack graph with attack paths to the goals that matter to a clinic, a risk
//! score whose formula is shown, and what-if simulation of changes.
//!
//! Pure: no I/O. Everything a user reads comes from the message catalogs (`content/i18n/*/risk.toml`).
//!
//! Pipeline: [`index::Index`] (assets per segment, broadcast domains, routers) →
//! [`reach::Reach`] (what each zone reaches, per (zone, segment) so it stays near linear in
//! assets) → [`rules`] (findings) and [`graph`] (facts, inference rules, paths) → [`Assessment`].

use mamori_i18n::{Lang, t, tf};
use mamori_model::Id;
use mamori_model::network::{NetworkModel, Severity};
use serde::{Deserialize, Serialize};

pub mod generate;
mod fxhash;
mod graph;
mod index;
mod reach;
mod report;
mod rules;
mod tables;
mod whatif;

pub use graph::{AttackPath, Goal, GoalResult, Step, StepKind};
pub use reach::Via;
pub use report::to_text;
pub use tables::check_tables as check_content;
pub use whatif::{Change, ChangeError, FindingRef, WhatIf, what_if};

/// How many paths per goal and per criterion (shortest, most likely) are kept by default.
pub const DEFAULT_K: usize = 3;

/// A place on the diagram: what steps and findings refer to. `code()` is `internet`,
/// `connection:2`, `asset:7`, `segment:1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Node {
    Internet,
    Connection(Id),
    Asset(Id),
    Segment(Id),
}

impl Node {
    pub fn code(self) -> String {
        match self {
            Node::Internet => "internet".into(),
            Node::Connection(id) => format!("connection:{id}"),
            Node::Asset(id) => format!("asset:{id}"),
            Node::Segment(id) => format!("segment:{id}"),
        }
    }

    /// Inverse of [`Node::code`].
    pub fn parse(s: &str) -> Option<Node> {
        if s == "internet" {
            return Some(Node::Internet);
        }
        let (kind, id) = s.split_once(':')?;
        let id: Id = id.parse().ok()?;
        match kind {
            "connection" => Some(Node::Connection(id)),
            "asset" => Some(Node::Asset(id)),
            "segment" => Some(Node::Segment(id)),
            _ => None,
        }
    }
}

/// Who has to act on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// 医療機関
    Facility,
    /// 保守事業者
    Vendor,
    Both,
}

impl Actor {
    pub fn code(self) -> &'static str {
        match self {
            Actor::Facility => "facility",
            Actor::Vendor => "vendor",
            Actor::Both => "both",
        }
    }
}

/// A rule's outcome for one subject: it fires on facts, or the data needed is missing
/// (shown as 「確認が必要」 with what to check — never treated as a fact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    Fires,
    Unknown,
}

/// What an attack step relies on: the facts a what-if can remove.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// An open vulnerability finding (`kev`: listed in CISA KEV).
    Vuln { asset: Id, vuln: String, kev: bool },
    /// Edge-device firmware listed in the embedded table (no feed imported).
    EdgeFirmware { asset: Id },
    /// Operating system past its end of support.
    EndOfSupportOs { asset: Id },
    /// No antivirus / EDR (`endpoint_protection: false`).
    NoEndpointProtection { asset: Id },
    /// A remote-access line with password-only (or no, or unknown) authentication.
    WeakRemoteAuth { connection: Id },
    /// A vendor line that is always connected.
    AlwaysOn { connection: Id },
    /// A vendor line connected on request only (still a possible entry, low likelihood).
    OnDemandLine { connection: Id },
    /// The line exists (remote-control tools terminating on a device).
    Connection { connection: Id },
    /// The account of someone who left, still enabled.
    LeaverAccount { account: Id },
    /// One credential valid on several systems.
    SharedCredential { account: Id },
    /// An administrator credential a vendor holds for the devices it maintains remotely.
    VendorCredential { account: Id },
    /// Anyone nearby can join this (guest / patient) network.
    GuestNetwork { segment: Id },
    /// Traffic from a zone to a device is allowed (and why).
    Flow { from: String, asset: Id, segment: Id, service: Option<String>, via: Via },
    /// A backup copy that is online.
    OnlineBackup { backup: Id },
    /// A backup reachable with the credentials of the systems it protects.
    SameCredentialBackup { backup: Id },
    /// No offline or immutable backup copy exists.
    NoOfflineBackup,
}

/// One rule outcome for one subject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskFinding {
    pub rule: String,
    /// `rule` plus its subject (`leaver_account_enabled:account:10`): stable across what-ifs.
    pub key: String,
    pub severity: Severity,
    pub actor: Actor,
    pub title: String,
    pub explain: String,
    pub remedy: String,
    pub evidence: Vec<String>,
    pub subjects: Vec<Node>,
    pub checklist: Vec<String>,
    pub guideline: Vec<String>,
    pub state: RuleState,
}

/// One term of the goal part of the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalTerm {
    pub goal: Goal,
    pub weight: f64,
    /// Relative score of the most likely path (not a probability); 0 when unreachable.
    pub likelihood: f64,
    pub value: f64,
}

/// One term of the findings part of the score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityTerm {
    pub severity: Severity,
    pub count: usize,
    pub points: f64,
    pub value: f64,
}

/// `total = Σ_goals weight × likelihood × 10 + Σ_findings points(severity)`; unknowns do not
/// count. Every term is exposed so the UI can print the formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskScore {
    pub total: f64,
    pub goal_part: f64,
    pub finding_part: f64,
    pub goals: Vec<GoalTerm>,
    pub findings: Vec<SeverityTerm>,
    /// The formula in the requested language.
    pub formula: String,
}

/// The result of [`assess`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    pub findings: Vec<RiskFinding>,
    pub unknowns: Vec<RiskFinding>,
    pub goals: Vec<GoalResult>,
    pub score: RiskScore,
    pub assumptions: Vec<String>,
}

/// A rule as documented for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    pub severity: Severity,
    pub actor: Actor,
    pub title: String,
    pub explain: String,
    pub remedy: String,
    pub checklist: Vec<String>,
    pub guideline: Vec<String>,
    /// The model data the rule reads.
    pub needs: String,
}

/// Options of [`assess_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Paths kept per goal and criterion.
    pub k: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { k: DEFAULT_K }
    }
}

/// Assesses the model: findings, unknowns, attack paths to the goals, score, assumptions.
pub fn assess(model: &NetworkModel, lang: Lang) -> Assessment {
    assess_with(model, lang, Options::default())
}

/// [`assess`] with options.
pub fn assess_with(model: &NetworkModel, lang: Lang, opts: Options) -> Assessment {
    let idx = index::Index::new(model);
    let reach = reach::Reach::compute(&idx);
    let hits = rules::evaluate(&idx, &reach, lang);
    let mut findings = Vec::new();
    let mut unknowns = Vec::new();
    for hit in hits {
        let f = finding_of(hit, lang);
        match f.state {
            RuleState::Fires => findings.push(f),
            RuleState::Unknown => unknowns.push(f),
        }
    }
    let sort_key = |f: &RiskFinding| (std::cmp::Reverse(f.severity), f.rule.clone(), f.key.clone());
    findings.sort_by_key(sort_key);
    unknowns.sort_by_key(sort_key);
    let goals = graph::attack_goals(&idx, &reach, lang, opts.k.max(1));
    let score = score_of(&findings, &goals, lang);
    let mut assumptions = reach.assumptions(&idx, lang);
    assumptions.push(t(lang, "risk.assume.likelihood").to_owned());
    assumptions.push(t(lang, "risk.assume.on_demand").to_owned());
    if !model.vuln_data {
        assumptions.push(t(lang, "risk.assume.no_feeds").to_owned());
    }
    Assessment { findings, unknowns, goals, score, assumptions }
}

fn finding_of(hit: rules::Hit, lang: Lang) -> RiskFinding {
    let meta = tables::rule_meta(hit.rule);
    let (severity, actor, checklist, guideline) = match meta {
        Some(m) => (m.severity, m.actor, m.checklist.clone(), m.guideline.clone()),
        None => (Severity::Medium, Actor::Both, Vec::new(), Vec::new()),
    };
    let subject_code = hit.key_subject.clone();
    RiskFinding {
        rule: hit.rule.to_owned(),
        key: format!("{}:{}", hit.rule, subject_code),
        severity,
        actor,
        title: t(lang, &format!("risk_rule.{}.title", hit.rule)).to_owned(),
        explain: t(lang, &format!("risk_rule.{}.explain", hit.rule)).to_owned(),
        remedy: t(lang, &format!("risk_rule.{}.remedy", hit.rule)).to_owned(),
        evidence: hit.evidence,
        subjects: hit.subjects,
        checklist,
        guideline,
        state: hit.state,
    }
}

/// Points per finding severity in the score.
pub fn severity_points(s: Severity) -> f64 {
    match s {
        Severity::Critical => 5.0,
        Severity::High => 3.0,
        Severity::Medium => 2.0,
        Severity::Low => 1.0,
        Severity::Info => 0.0,
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn score_of(findings: &[RiskFinding], goals: &[GoalResult], lang: Lang) -> RiskScore {
    let mut goal_terms = Vec::new();
    for g in goals {
        let likelihood = g.paths.iter().map(|p| p.likelihood).fold(0.0_f64, f64::max);
        let weight = g.goal.weight();
        goal_terms.push(GoalTerm { goal: g.goal, weight, likelihood, value: round1(weight * likelihood * 10.0) });
    }
    let mut sev_terms = Vec::new();
    for s in Severity::ALL {
        let count = findings.iter().filter(|f| f.severity == s).count();
        if count > 0 {
            let points = severity_points(s);
            sev_terms.push(SeverityTerm { severity: s, count, points, value: points * count as f64 });
        }
    }
    let goal_part = round1(goal_terms.iter().map(|g| g.value).sum());
    let finding_part = round1(sev_terms.iter().map(|s| s.value).sum());
    let total = round1(goal_part + finding_part);
    let formula = tf(
        lang,
        "risk.score.formula",
        &[("goal_part", &goal_part), ("finding_part", &finding_part), ("total", &total)],
    );
    RiskScore { total, goal_part, finding_part, goals: goal_terms, findings: sev_terms, formula }
}

/// Every rule, documented, in the catalog's order.
pub fn rule_catalog(lang: Lang) -> Vec<RuleInfo> {
    tables::rules()
        .iter()
        .map(|m| RuleInfo {
            id: m.id.clone(),
            severity: m.severity,
            actor: m.actor,
            title: t(lang, &format!("risk_rule.{}.title", m.id)).to_owned(),
            explain: t(lang, &format!("risk_rule.{}.explain", m.id)).to_owned(),
            remedy: t(lang, &format!("risk_rule.{}.remedy", m.id)).to_owned(),
            checklist: m.checklist.clone(),
            guideline: m.guideline.clone(),
            needs: m.needs.clone(),
        })
        .collect()
}

/// The label of a severity.
pub fn severity_label(lang: Lang, s: Severity) -> String {
    t(lang, &format!("risk.severity.{}", s.code())).to_owned()
}
