//! What changed between two models (an earlier snapshot and today, or today and a what-if).

use std::collections::{BTreeMap, BTreeSet};

use mamori_i18n::{Lang, has, t, tf};
use mamori_model::network::{NetworkModel, Policy};
use mamori_model::{Asset, ExternalConnection, Id, Segment};
use serde::Serialize;

use crate::{Highlight, NodeRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn code(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// One field's values before and after, as text (`""` for none, `true`/`false`, codes for
/// enums).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// What to mark on the diagram (`None` for policies, which are not drawn).
    pub node: Option<NodeRef>,
    pub id: Id,
    pub name: String,
    /// For `Changed`: the fields that differ.
    pub fields: Vec<FieldChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ModelDiff {
    pub assets: Vec<Change>,
    pub connections: Vec<Change>,
    pub segments: Vec<Change>,
    pub policies: Vec<Change>,
}

type Fields = Vec<(&'static str, String)>;

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn opt_id(v: Option<Id>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn asset_fields(a: &Asset) -> Fields {
    let d = &a.data;
    let mut ifaces: Vec<String> = d
        .interfaces
        .iter()
        .map(|i| {
            let ip = i.ip.clone().unwrap_or_else(|| "-".into());
            match i.segment_id {
                Some(s) => format!("{ip}@{s}"),
                None => ip,
            }
        })
        .collect();
    ifaces.sort();
    let mut sw: Vec<String> = d
        .software
        .iter()
        .map(|s| match &s.version {
            Some(v) => format!("{} {v}", s.name),
            None => s.name.clone(),
        })
        .collect();
    sw.sort();
    vec![
        ("name", d.name.clone()),
        ("kind", d.kind.code().to_owned()),
        ("vendor", opt(&d.vendor)),
        ("product", opt(&d.product)),
        ("model", opt(&d.model)),
        ("os", opt(&d.os)),
        ("os_version", opt(&d.os_version)),
        ("location", opt(&d.location)),
        ("department", opt(&d.department)),
        ("owner", opt(&d.owner)),
        ("criticality", d.criticality.code().to_owned()),
        ("internet_facing", d.internet_facing.to_string()),
        ("endpoint_protection", d.endpoint_protection.map(|b| b.to_string()).unwrap_or_default()),
        ("interfaces", ifaces.join(", ")),
        ("software", sw.join(", ")),
    ]
}

fn connection_fields(c: &ExternalConnection) -> Fields {
    vec![
        ("name", c.name.clone()),
        ("kind", c.kind.code().to_owned()),
        ("provider", opt(&c.provider)),
        ("always_on", c.always_on.to_string()),
        ("authentication", c.authentication.code().to_owned()),
        ("owner", opt(&c.owner)),
        ("asset_id", opt_id(c.asset_id)),
        ("segment_id", opt_id(c.segment_id)),
        ("vendor_id", opt_id(c.vendor_id)),
        ("maintenance_window", opt(&c.maintenance_window)),
    ]
}

fn segment_fields(s: &Segment) -> Fields {
    vec![
        ("name", s.name.clone()),
        ("purpose", s.purpose.code().to_owned()),
        ("cidr", opt(&s.cidr)),
        ("vlan", s.vlan.map(|v| v.to_string()).unwrap_or_default()),
    ]
}

fn policy_fields(p: &Policy) -> Fields {
    vec![
        ("name", opt(&p.name)),
        ("gateway_id", opt_id(p.gateway_id)),
        ("from", p.from.code()),
        ("to", p.to.code()),
        ("services", p.services.join(", ")),
        ("action", p.action.code().to_owned()),
        ("position", p.position.to_string()),
    ]
}

fn compare<T>(
    old: &[T],
    new: &[T],
    id: impl Fn(&T) -> Id,
    name: impl Fn(&T) -> String,
    fields: impl Fn(&T) -> Fields,
    node: impl Fn(Id) -> Option<NodeRef>,
) -> Vec<Change> {
    let old: BTreeMap<Id, &T> = old.iter().map(|x| (id(x), x)).collect();
    let new: BTreeMap<Id, &T> = new.iter().map(|x| (id(x), x)).collect();
    let ids: BTreeSet<Id> = old.keys().chain(new.keys()).copied().collect();
    let mut out = Vec::new();
    for i in ids {
        match (old.get(&i), new.get(&i)) {
            (None, Some(n)) => out.push(Change { kind: ChangeKind::Added, node: node(i), id: i, name: name(n), fields: Vec::new() }),
            (Some(o), None) => out.push(Change { kind: ChangeKind::Removed, node: node(i), id: i, name: name(o), fields: Vec::new() }),
            (Some(o), Some(n)) => {
                let changed: Vec<FieldChange> = fields(o)
                    .into_iter()
                    .zip(fields(n))
                    .filter(|((_, a), (_, b))| a != b)
                    .map(|((f, a), (_, b))| FieldChange { field: f.to_owned(), before: a, after: b })
                    .collect();
                if !changed.is_empty() {
                    out.push(Change { kind: ChangeKind::Changed, node: node(i), id: i, name: name(n), fields: changed });
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Compares two models by id.
pub fn diff(old: &NetworkModel, new: &NetworkModel) -> ModelDiff {
    ModelDiff {
        assets: compare(&old.assets, &new.assets, |a| a.id, |a| a.data.name.clone(), asset_fields, |i| Some(NodeRef::Asset(i))),
        connections: compare(&old.connections, &new.connections, |c| c.id, |c| c.name.clone(), connection_fields, |i| {
            Some(NodeRef::Connection(i))
        }),
        segments: compare(&old.segments, &new.segments, |s| s.id, |s| s.name.clone(), segment_fields, |i| Some(NodeRef::Segment(i))),
        policies: compare(
            &old.policies,
            &new.policies,
            |p| p.id,
            |p| p.name.clone().unwrap_or_else(|| format!("{} → {}", p.from.code(), p.to.code())),
            policy_fields,
            |_| None,
        ),
    }
}

/// The new model plus what the old one had and the new one lost, so that removed things can be
/// drawn (greyed, 削除) in place.
pub fn union(old: &NetworkModel, new: &NetworkModel) -> NetworkModel {
    let mut out = new.clone();
    let have: BTreeSet<Id> = new.assets.iter().map(|a| a.id).collect();
    out.assets.extend(old.assets.iter().filter(|a| !have.contains(&a.id)).cloned());
    let have: BTreeSet<Id> = new.connections.iter().map(|c| c.id).collect();
    out.connections.extend(old.connections.iter().filter(|c| !have.contains(&c.id)).cloned());
    let have: BTreeSet<Id> = new.segments.iter().map(|s| s.id).collect();
    out.segments.extend(old.segments.iter().filter(|s| !have.contains(&s.id)).cloned());
    let have: BTreeSet<Id> = new.policies.iter().map(|p| p.id).collect();
    out.policies.extend(old.policies.iter().filter(|p| !have.contains(&p.id)).cloned());
    out
}

impl ModelDiff {
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty() && self.connections.is_empty() && self.segments.is_empty() && self.policies.is_empty()
    }

    fn all(&self) -> impl Iterator<Item = &Change> {
        self.assets.iter().chain(&self.connections).chain(&self.segments).chain(&self.policies)
    }

    /// Marks for the diagram: added green, removed grey dashed, changed amber.
    pub fn highlight(&self) -> Highlight {
        let mut h = Highlight::default();
        for c in self.all() {
            let Some(r) = c.node else { continue };
            match c.kind {
                ChangeKind::Added => h.added.insert(r),
                ChangeKind::Removed => h.removed.insert(r),
                ChangeKind::Changed => h.changed.insert(r),
            };
        }
        h
    }

    /// A plain-text report, one line per change and one indented line per field.
    pub fn to_text(&self, lang: Lang) -> String {
        let total = self.assets.len() + self.connections.len() + self.segments.len() + self.policies.len();
        if total == 0 {
            return format!("{}\n", t(lang, "diagram.diff.none"));
        }
        let mut s = tf(lang, "diagram.diff.summary", &[("n", &total)]);
        s.push('\n');
        for (entity, list) in
            [("asset", &self.assets), ("connection", &self.connections), ("segment", &self.segments), ("policy", &self.policies)]
        {
            if list.is_empty() {
                continue;
            }
            s.push('\n');
            s.push_str(&tf(lang, "diagram.diff.section", &[("what", &t(lang, &format!("diagram.diff.entity.{entity}"))), ("n", &list.len())]));
            s.push('\n');
            for c in list {
                s.push_str(&tf(
                    lang,
                    "diagram.diff.line",
                    &[("kind", &t(lang, &format!("diagram.mark.{}", c.kind.code()))), ("name", &c.name), ("id", &c.id)],
                ));
                s.push('\n');
                for f in &c.fields {
                    s.push_str(&tf(
                        lang,
                        "diagram.diff.field",
                        &[
                            ("field", &field_label(lang, &f.field)),
                            ("before", &value_text(lang, entity, &f.field, &f.before)),
                            ("after", &value_text(lang, entity, &f.field, &f.after)),
                        ],
                    ));
                    s.push('\n');
                }
            }
        }
        s
    }
}

fn field_label(lang: Lang, field: &str) -> String {
    let own = format!("diagram.field.{field}");
    if has(&own) {
        return t(lang, &own).to_owned();
    }
    let shared = format!("field.{field}");
    if has(&shared) { t(lang, &shared).to_owned() } else { field.to_owned() }
}

fn value_text(lang: Lang, entity: &str, field: &str, v: &str) -> String {
    if v.is_empty() {
        return t(lang, "diagram.diff.empty").to_owned();
    }
    let prefix = match (entity, field) {
        ("asset", "kind") => Some("asset_kind"),
        ("asset", "criticality") => Some("criticality"),
        ("connection", "kind") => Some("connection_kind"),
        ("connection", "authentication") => Some("authentication"),
        ("segment", "purpose") => Some("segment_purpose"),
        ("policy", "action") => Some("diagram.action"),
        _ => None,
    };
    if (entity, field) == ("connection", "always_on") {
        return t(lang, if v == "true" { "diagram.always_on" } else { "diagram.on_demand" }).to_owned();
    }
    if let Some(p) = prefix {
        let key = format!("{p}.{v}");
        if has(&key) {
            return t(lang, &key).to_owned();
        }
    }
    match v {
        "true" => t(lang, "diagram.diff.yes").to_owned(),
        "false" => t(lang, "diagram.diff.no").to_owned(),
        _ => v.to_owned(),
    }
}
