//! What-if simulation: parse change specs, apply them to a clone of the model, assess both.
//!
//! Specs (`mamori whatif --change SPEC`); CONNECTION / ASSET / SEGMENT / ACCOUNT take an id or
//! an exact name:
//!
//! | spec | effect |
//! |---|---|
//! | `disconnect:CONNECTION` | the line is removed, with the policies naming it |
//! | `on-demand:CONNECTION` | `always_on = false`: connected only in its maintenance window. The line stays a possible entry (vendor compromise) with a low weight, no longer a standing one |
//! | `mfa:CONNECTION` | authentication becomes multi-factor: password and leaver-account logins no longer work (a compromised vendor still can) |
//! | `patch:ASSET` | its vulnerability findings are removed; its firmware counts as current |
//! | `isolate:SEGMENT` | the segment gets its own broadcast domain; policies inserted before all others allow it to the internet only and deny everything between it and every other zone |
//! | `move:ASSET:SEGMENT` | the asset's interfaces (except WAN / closed-network ones) move to the segment |
//! | `deny:FROM:TO[:SERVICE]`, `allow:FROM:TO[:SERVICE]` | a policy inserted before all existing ones; zones `internet`, `any`, `segment:ID`, `asset:ID`, `connection:ID` |
//! | `edr:ASSET` | antivirus / EDR installed |
//! | `disable-account:ACCOUNT` | the account is disabled |
//! | `unshare-account:ACCOUNT` | each system gets its own credential (one account per system) |
//! | `offline-backup` | an offline backup of the EMR and receipt data is added |
//! | `upgrade-os:ASSET` | the OS counts as supported |

use mamori_i18n::{Lang, t, tf};
use mamori_model::network::{NetworkModel, Policy, PolicyAction, Zone};
use mamori_model::{Account, Authentication, Backup, BackupMedium, Id, Interface, SegmentPurpose};
use serde::Serialize;

use crate::rules::{FIRMWARE_CURRENT, OS_CURRENT};
use crate::{Assessment, Cause, Goal, RiskFinding, Via, assess};

/// One change of a what-if.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    Disconnect { connection: Id },
    OnDemand { connection: Id },
    Mfa { connection: Id },
    Patch { asset: Id },
    Isolate { segment: Id },
    Move { asset: Id, segment: Id },
    Deny { from: Zone, to: Zone, service: Option<String> },
    Allow { from: Zone, to: Zone, service: Option<String> },
    Edr { asset: Id },
    DisableAccount { account: Id },
    UnshareAccount { account: Id },
    OfflineBackup,
    UpgradeOs { asset: Id },
}

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("change `{spec}`: {reason}")]
pub struct ChangeError {
    pub spec: String,
    /// `unknown_kind`, `missing_argument`, `no_connection`, `no_asset`, `no_segment`,
    /// `no_account`, `bad_zone`, `extra_argument`.
    pub reason: String,
    /// The argument at fault.
    pub argument: String,
}

impl ChangeError {
    fn new(spec: &str, reason: &str, argument: &str) -> Self {
        ChangeError { spec: spec.to_owned(), reason: reason.to_owned(), argument: argument.to_owned() }
    }

    /// The message for people, naming the spec and why.
    pub fn message(&self, lang: Lang) -> String {
        let why = tf(lang, &format!("risk.change_error.{}", self.reason), &[("arg", &self.argument)]);
        tf(lang, "risk.change_error.message", &[("spec", &self.spec), ("reason", &why)])
    }
}

fn find_id<T>(items: &[T], arg: &str, id: impl Fn(&T) -> Id, name: impl Fn(&T) -> &str) -> Option<Id> {
    let arg = arg.trim();
    if let Ok(n) = arg.parse::<Id>()
        && let Some(x) = items.iter().find(|x| id(x) == n)
    {
        return Some(id(x));
    }
    items.iter().find(|x| name(x) == arg).map(id)
}

fn parse_zone(tokens: &[&str]) -> Option<(Zone, usize)> {
    let first = tokens.first()?;
    match *first {
        "any" => Some((Zone::Any, 1)),
        "internet" => Some((Zone::Internet, 1)),
        kind => {
            let id = tokens.get(1)?;
            Zone::parse(&format!("{kind}:{id}")).map(|z| (z, 2))
        }
    }
}

impl Change {
    /// Parses a spec against the model (names resolve to ids).
    pub fn parse(spec: &str, model: &NetworkModel) -> Result<Change, ChangeError> {
        let s = spec.trim();
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, a),
            None => (s, ""),
        };
        let need = |arg: &str| -> Result<(), ChangeError> {
            if arg.trim().is_empty() { Err(ChangeError::new(spec, "missing_argument", kind)) } else { Ok(()) }
        };
        let conn = |arg: &str| -> Result<Id, ChangeError> {
            need(arg)?;
            find_id(&model.connections, arg, |c| c.id, |c| c.name.as_str())
                .ok_or_else(|| ChangeError::new(spec, "no_connection", arg))
        };
        let asset = |arg: &str| -> Result<Id, ChangeError> {
            need(arg)?;
            find_id(&model.assets, arg, |a| a.id, |a| a.data.name.as_str()).ok_or_else(|| ChangeError::new(spec, "no_asset", arg))
        };
        let segment = |arg: &str| -> Result<Id, ChangeError> {
            need(arg)?;
            find_id(&model.segments, arg, |x| x.id, |x| x.name.as_str()).ok_or_else(|| ChangeError::new(spec, "no_segment", arg))
        };
        let account = |arg: &str| -> Result<Id, ChangeError> {
            need(arg)?;
            find_id(&model.accounts, arg, |x| x.id, |x| x.username.as_str())
                .ok_or_else(|| ChangeError::new(spec, "no_account", arg))
        };
        match kind {
            "disconnect" => Ok(Change::Disconnect { connection: conn(arg)? }),
            "on-demand" => Ok(Change::OnDemand { connection: conn(arg)? }),
            "mfa" => Ok(Change::Mfa { connection: conn(arg)? }),
            "patch" => Ok(Change::Patch { asset: asset(arg)? }),
            "isolate" => Ok(Change::Isolate { segment: segment(arg)? }),
            "edr" => Ok(Change::Edr { asset: asset(arg)? }),
            "upgrade-os" => Ok(Change::UpgradeOs { asset: asset(arg)? }),
            "disable-account" => Ok(Change::DisableAccount { account: account(arg)? }),
            "unshare-account" => Ok(Change::UnshareAccount { account: account(arg)? }),
            "offline-backup" => {
                if arg.trim().is_empty() {
                    Ok(Change::OfflineBackup)
                } else {
                    Err(ChangeError::new(spec, "extra_argument", arg))
                }
            }
            "move" => {
                need(arg)?;
                // Names may contain ':'; the segment is after the last one.
                let (a, s) = arg.rsplit_once(':').ok_or_else(|| ChangeError::new(spec, "missing_argument", "SEGMENT"))?;
                Ok(Change::Move { asset: asset(a)?, segment: segment(s)? })
            }
            "deny" | "allow" => {
                need(arg)?;
                let tokens: Vec<&str> = arg.split(':').collect();
                let (from, n1) = parse_zone(&tokens).ok_or_else(|| ChangeError::new(spec, "bad_zone", arg))?;
                let rest = tokens.get(n1..).unwrap_or(&[]);
                let (to, n2) = parse_zone(rest).ok_or_else(|| ChangeError::new(spec, "bad_zone", &rest.join(":")))?;
                let svc = rest.get(n2..).unwrap_or(&[]).join(":");
                let service = if svc.trim().is_empty() { None } else { Some(svc.trim().to_ascii_lowercase()) };
                for z in [from, to] {
                    let ok = match z {
                        Zone::Segment(id) => model.segment(id).is_some(),
                        Zone::Asset(id) => model.asset(id).is_some(),
                        Zone::Connection(id) => model.connection(id).is_some(),
                        Zone::Any | Zone::Internet => true,
                    };
                    if !ok {
                        return Err(ChangeError::new(spec, "bad_zone", &z.code()));
                    }
                }
                Ok(if kind == "deny" { Change::Deny { from, to, service } } else { Change::Allow { from, to, service } })
            }
            other => Err(ChangeError::new(spec, "unknown_kind", other)),
        }
    }

    /// The spec this change parses from (ids, not names).
    pub fn spec(&self) -> String {
        let svc = |s: &Option<String>| s.as_ref().map(|s| format!(":{s}")).unwrap_or_default();
        match self {
            Change::Disconnect { connection } => format!("disconnect:{connection}"),
            Change::OnDemand { connection } => format!("on-demand:{connection}"),
            Change::Mfa { connection } => format!("mfa:{connection}"),
            Change::Patch { asset } => format!("patch:{asset}"),
            Change::Isolate { segment } => format!("isolate:{segment}"),
            Change::Move { asset, segment } => format!("move:{asset}:{segment}"),
            Change::Deny { from, to, service } => format!("deny:{}:{}{}", from.code(), to.code(), svc(service)),
            Change::Allow { from, to, service } => format!("allow:{}:{}{}", from.code(), to.code(), svc(service)),
            Change::Edr { asset } => format!("edr:{asset}"),
            Change::DisableAccount { account } => format!("disable-account:{account}"),
            Change::UnshareAccount { account } => format!("unshare-account:{account}"),
            Change::OfflineBackup => "offline-backup".into(),
            Change::UpgradeOs { asset } => format!("upgrade-os:{asset}"),
        }
    }

    /// What the change does, in words.
    pub fn describe(&self, model: &NetworkModel, lang: Lang) -> String {
        let cn = |id: &Id| model.connection(*id).map(|c| c.name.clone()).unwrap_or_else(|| format!("#{id}"));
        let an = |id: &Id| model.asset(*id).map(|a| a.data.name.clone()).unwrap_or_else(|| format!("#{id}"));
        let sn = |id: &Id| model.segment(*id).map(|s| s.name.clone()).unwrap_or_else(|| format!("#{id}"));
        let un = |id: &Id| model.accounts.iter().find(|a| a.id == *id).map(|a| a.username.clone()).unwrap_or_else(|| format!("#{id}"));
        let svc = |s: &Option<String>| s.clone().unwrap_or_else(|| t(lang, "risk.change.all_services").to_owned());
        match self {
            Change::Disconnect { connection } => tf(lang, "risk.change.disconnect", &[("connection", &cn(connection))]),
            Change::OnDemand { connection } => tf(lang, "risk.change.on_demand", &[("connection", &cn(connection))]),
            Change::Mfa { connection } => tf(lang, "risk.change.mfa", &[("connection", &cn(connection))]),
            Change::Patch { asset } => tf(lang, "risk.change.patch", &[("asset", &an(asset))]),
            Change::Isolate { segment } => tf(lang, "risk.change.isolate", &[("segment", &sn(segment))]),
            Change::Move { asset, segment } => tf(lang, "risk.change.move", &[("asset", &an(asset)), ("segment", &sn(segment))]),
            Change::Deny { from, to, service } => {
                tf(lang, "risk.change.deny", &[("from", &from.code()), ("to", &to.code()), ("service", &svc(service))])
            }
            Change::Allow { from, to, service } => {
                tf(lang, "risk.change.allow", &[("from", &from.code()), ("to", &to.code()), ("service", &svc(service))])
            }
            Change::Edr { asset } => tf(lang, "risk.change.edr", &[("asset", &an(asset))]),
            Change::DisableAccount { account } => tf(lang, "risk.change.disable_account", &[("account", &un(account))]),
            Change::UnshareAccount { account } => tf(lang, "risk.change.unshare_account", &[("account", &un(account))]),
            Change::OfflineBackup => t(lang, "risk.change.offline_backup").to_owned(),
            Change::UpgradeOs { asset } => tf(lang, "risk.change.upgrade_os", &[("asset", &an(asset))]),
        }
    }

    /// Applies the change to a model (the caller's clone).
    pub fn apply(&self, m: &mut NetworkModel, lang: Lang) {
        let next_policy_id = |m: &NetworkModel| m.policies.iter().map(|p| p.id).max().unwrap_or(0) + 1;
        // Inserted policies go before all existing ones, in the order they are inserted.
        let top = |m: &NetworkModel| {
            let min = m.policies.iter().map(|p| p.position).min().unwrap_or(0);
            min - 1
        };
        let insert = |m: &mut NetworkModel, from: Zone, to: Zone, services: Vec<String>, action: PolicyAction, name: String| {
            let id = next_policy_id(m);
            let position = top(m);
            m.policies.push(Policy {
                id,
                name: Some(name),
                gateway_id: None,
                from,
                to,
                services,
                action,
                position,
                notes: None,
            });
        };
        match self {
            Change::Disconnect { connection } => {
                m.connections.retain(|c| c.id != *connection);
                let z = Zone::Connection(*connection);
                m.policies.retain(|p| p.from != z && p.to != z);
            }
            Change::OnDemand { connection } => {
                if let Some(c) = m.connections.iter_mut().find(|c| c.id == *connection) {
                    c.always_on = false;
                }
            }
            Change::Mfa { connection } => {
                if let Some(c) = m.connections.iter_mut().find(|c| c.id == *connection) {
                    c.authentication = Authentication::Mfa;
                }
            }
            Change::Patch { asset } => {
                m.vulns.retain(|v| v.asset_id != *asset);
                if let Some(a) = m.assets.iter_mut().find(|a| a.id == *asset) {
                    a.data.attributes.insert(FIRMWARE_CURRENT.into(), "true".into());
                }
            }
            Change::Isolate { segment } => {
                if let Some(s) = m.segments.iter_mut().find(|s| s.id == *segment) {
                    s.cidr = None;
                }
                let seg = Zone::Segment(*segment);
                let name = self.describe(m, lang);
                // Inserted one above the other: the last inserted is evaluated first.
                insert(m, Zone::Any, seg, Vec::new(), PolicyAction::Deny, name.clone());
                insert(m, seg, Zone::Any, Vec::new(), PolicyAction::Deny, name.clone());
                insert(m, seg, Zone::Internet, Vec::new(), PolicyAction::Allow, name);
            }
            Change::Move { asset, segment } => {
                let keep: Vec<Id> = m
                    .segments
                    .iter()
                    .filter(|s| matches!(s.purpose, SegmentPurpose::Wan | SegmentPurpose::EligibilityClosed))
                    .map(|s| s.id)
                    .collect();
                if let Some(a) = m.assets.iter_mut().find(|a| a.id == *asset) {
                    let mut moved = false;
                    for i in a.data.interfaces.iter_mut() {
                        if !i.segment_id.is_some_and(|s| keep.contains(&s)) {
                            i.segment_id = Some(*segment);
                            moved = true;
                        }
                    }
                    if !moved {
                        a.data.interfaces.push(Interface { name: None, ip: None, mac: None, segment_id: Some(*segment) });
                    }
                }
            }
            Change::Deny { from, to, service } | Change::Allow { from, to, service } => {
                let action = if matches!(self, Change::Deny { .. }) { PolicyAction::Deny } else { PolicyAction::Allow };
                let services = service.iter().cloned().collect();
                let name = self.describe(m, lang);
                insert(m, *from, *to, services, action, name);
            }
            Change::Edr { asset } => {
                if let Some(a) = m.assets.iter_mut().find(|a| a.id == *asset) {
                    a.data.endpoint_protection = Some(true);
                }
            }
            Change::DisableAccount { account } => {
                if let Some(a) = m.accounts.iter_mut().find(|a| a.id == *account) {
                    a.enabled = false;
                }
            }
            Change::UnshareAccount { account } => {
                let Some(pos) = m.accounts.iter().position(|a| a.id == *account) else { return };
                let orig = m.accounts.remove(pos);
                let mut next = m.accounts.iter().map(|a| a.id).max().unwrap_or(0).max(orig.id);
                for (i, asset) in orig.asset_ids.iter().enumerate() {
                    let mut acc: Account = orig.clone();
                    if i == 0 {
                        acc.id = orig.id;
                    } else {
                        next += 1;
                        acc.id = next;
                    }
                    acc.username = format!("{}@{}", orig.username, asset);
                    acc.shared = false;
                    acc.asset_ids = vec![*asset];
                    m.accounts.push(acc);
                }
            }
            Change::OfflineBackup => {
                let id = m.backups.iter().map(|b| b.id).max().unwrap_or(0) + 1;
                m.backups.push(Backup {
                    id,
                    name: t(lang, "risk.change.offline_backup_name").to_owned(),
                    covers: Some(t(lang, "risk.change.offline_backup_covers").to_owned()),
                    medium: BackupMedium::Offline,
                    asset_id: None,
                    same_credentials: false,
                    last_success: None,
                    last_restore_test: None,
                    notes: None,
                });
            }
            Change::UpgradeOs { asset } => {
                if let Some(a) = m.assets.iter_mut().find(|a| a.id == *asset) {
                    a.data.attributes.insert(OS_CURRENT.into(), "true".into());
                }
            }
        }
    }

    /// Whether this change takes away a fact a step relied on (`model`: before the change).
    /// A path none of whose causes this returns true for survives the change.
    pub fn invalidates(&self, cause: &Cause, model: &NetworkModel) -> bool {
        match (self, cause) {
            (Change::Disconnect { connection }, c) => match c {
                Cause::WeakRemoteAuth { connection: x }
                | Cause::AlwaysOn { connection: x }
                | Cause::OnDemandLine { connection: x }
                | Cause::Connection { connection: x } => x == connection,
                Cause::Flow { from, via, .. } => {
                    *from == format!("connection:{connection}")
                        || matches!(via, Via::Terminates { connection: x } | Via::Landing { connection: x } if x == connection)
                        || policy_names(model, *via, Zone::Connection(*connection))
                }
                _ => false,
            },
            (Change::OnDemand { connection }, Cause::AlwaysOn { connection: x }) => x == connection,
            (Change::Mfa { connection }, Cause::WeakRemoteAuth { connection: x }) => x == connection,
            (Change::Patch { asset }, Cause::Vuln { asset: x, .. } | Cause::EdgeFirmware { asset: x }) => x == asset,
            (Change::Isolate { segment }, Cause::Flow { from, asset, segment: to_seg, via, .. }) => {
                let from_in = *from == format!("segment:{segment}")
                    || from
                        .strip_prefix("asset:")
                        .and_then(|a| a.parse::<Id>().ok())
                        .and_then(|a| model.asset(a))
                        .is_some_and(|a| a.segment_ids().contains(segment));
                let into = *to_seg == *segment;
                let shared = matches!(via, Via::SharedBroadcast { from_segment, to_segment } if from_segment == segment || to_segment == segment);
                let _ = asset;
                (from_in && !into) || (into && !from_in) || shared
            }
            (Change::Move { asset, .. }, Cause::Flow { from, asset: x, .. }) => {
                x == asset || *from == format!("asset:{asset}")
            }
            (Change::Deny { from: fz, to: tz, service }, Cause::Flow { from, asset, segment, service: fs, via }) => {
                via.filterable()
                    && zone_covers_from(model, *fz, from)
                    && match tz {
                        Zone::Any => true,
                        Zone::Segment(s) => s == segment,
                        Zone::Asset(a) => a == asset,
                        Zone::Internet | Zone::Connection(_) => false,
                    }
                    && match service {
                        None => true,
                        Some(spec) => fs.as_ref().is_some_and(|code| {
                            model.asset(*asset).and_then(|a| a.services()).is_some_and(|list| {
                                list.iter().any(|s| s.code() == *code && crate::reach::service_matches(std::slice::from_ref(spec), Some(s)))
                            })
                        }),
                    }
            }
            (Change::Edr { asset }, Cause::NoEndpointProtection { asset: x }) => x == asset,
            (
                Change::DisableAccount { account },
                Cause::LeaverAccount { account: x } | Cause::SharedCredential { account: x } | Cause::VendorCredential { account: x },
            ) => {
                x == account
            }
            (Change::UnshareAccount { account }, Cause::SharedCredential { account: x }) => x == account,
            (Change::OfflineBackup, Cause::NoOfflineBackup) => true,
            (Change::UpgradeOs { asset }, Cause::EndOfSupportOs { asset: x }) => x == asset,
            _ => false,
        }
    }
}

fn policy_names(model: &NetworkModel, via: Via, z: Zone) -> bool {
    match via {
        Via::Policy { id } => model.policies.iter().any(|p| p.id == id && (p.from == z || p.to == z)),
        _ => false,
    }
}

fn zone_covers_from(model: &NetworkModel, z: Zone, from: &str) -> bool {
    match z {
        Zone::Any => true,
        Zone::Internet => from == "internet",
        Zone::Segment(s) => {
            from == format!("segment:{s}")
                || from
                    .strip_prefix("asset:")
                    .and_then(|a| a.parse::<Id>().ok())
                    .and_then(|a| model.asset(a))
                    .is_some_and(|a| a.segment_ids().contains(&s))
        }
        Zone::Asset(a) => from == format!("asset:{a}"),
        Zone::Connection(c) => from == format!("connection:{c}"),
    }
}

/// A finding's identity across the two assessments.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FindingRef {
    pub rule: String,
    pub key: String,
    pub title: String,
}

/// The result of [`what_if`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhatIf {
    /// The changes, as specs and in words.
    pub changes: Vec<(String, String)>,
    pub before: Assessment,
    pub after: Assessment,
    pub goals_before: Vec<(Goal, bool)>,
    pub goals_after: Vec<(Goal, bool)>,
    pub paths_before: usize,
    pub paths_after: usize,
    pub findings_resolved: Vec<FindingRef>,
    pub findings_new: Vec<FindingRef>,
    pub score_before: f64,
    pub score_after: f64,
}

fn refs_of(findings: &[RiskFinding]) -> Vec<FindingRef> {
    let mut v: Vec<FindingRef> =
        findings.iter().map(|f| FindingRef { rule: f.rule.clone(), key: f.key.clone(), title: f.title.clone() }).collect();
    v.sort();
    v
}

/// Assesses the model, applies the changes to a clone and assesses it again. The model given
/// is never modified.
pub fn what_if(model: &NetworkModel, changes: &[Change], lang: Lang) -> WhatIf {
    let mut m = model.clone();
    let mut described = Vec::new();
    for c in changes {
        described.push((c.spec(), c.describe(model, lang)));
        c.apply(&mut m, lang);
    }
    // The changed copy is assessed first and dropped before the original is assessed: two
    // models and two assessments are never held at once (assessments are pure, so the order
    // does not change any result).
    let after = assess(&m, lang);
    drop(m);
    let before = assess(model, lang);
    let fb = refs_of(&before.findings);
    let fa = refs_of(&after.findings);
    let kb: std::collections::BTreeSet<&str> = fb.iter().map(|f| f.key.as_str()).collect();
    let ka: std::collections::BTreeSet<&str> = fa.iter().map(|f| f.key.as_str()).collect();
    let findings_resolved = fb.iter().filter(|f| !ka.contains(f.key.as_str())).cloned().collect();
    let findings_new = fa.iter().filter(|f| !kb.contains(f.key.as_str())).cloned().collect();
    WhatIf {
        changes: described,
        goals_before: before.goals.iter().map(|g| (g.goal, g.reachable)).collect(),
        goals_after: after.goals.iter().map(|g| (g.goal, g.reachable)).collect(),
        paths_before: before.goals.iter().map(|g| g.paths.len()).sum(),
        paths_after: after.goals.iter().map(|g| g.paths.len()).sum(),
        findings_resolved,
        findings_new,
        score_before: before.score.total,
        score_after: after.score.total,
        before,
        after,
    }
}
