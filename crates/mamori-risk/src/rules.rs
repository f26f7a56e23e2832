//! The rule logic, one function per rule id of `content/risk/rules.toml`.
//! Missing data gives an Unknown hit (「確認が必要」) that says what to check, never a fact.

use mamori_i18n::{Lang, t, tf};
use mamori_model::network::SystemRole;
use mamori_model::{
    AccountPrivilege, Asset, AssetKind, Authentication, BackupMedium, ConnectionKind, Id, SegmentPurpose,
};

use crate::index::{Index, NO_LIST, service_label};
use crate::reach::{Reach, Src, Via, via_text};
use crate::tables::{self, FirmwareKind};
use crate::{Node, RuleState};

pub(crate) struct Hit {
    pub rule: &'static str,
    pub key_subject: String,
    pub state: RuleState,
    pub subjects: Vec<Node>,
    pub evidence: Vec<String>,
}

impl Hit {
    fn fires(rule: &'static str, key: Node, subjects: Vec<Node>, evidence: Vec<String>) -> Hit {
        Hit { rule, key_subject: key.code(), state: RuleState::Fires, subjects, evidence }
    }
    fn unknown(rule: &'static str, key: Node, subjects: Vec<Node>, evidence: Vec<String>) -> Hit {
        Hit { rule, key_subject: key.code(), state: RuleState::Unknown, subjects, evidence }
    }
}

/// At most this many names are listed in one evidence line.
const LIST_MAX: usize = 8;

fn name_list(lang: Lang, names: &[String]) -> String {
    name_list_of(lang, names, names.len())
}

/// [`name_list`] when only the first names were built: `total` names in all.
fn name_list_of(lang: Lang, first: &[String], total: usize) -> String {
    let mut s: Vec<String> = first.iter().take(LIST_MAX).cloned().collect();
    if total > LIST_MAX {
        s.push(tf(lang, "risk.ev.and_more", &[("count", &(total - LIST_MAX))]));
    }
    s.join("、")
}

pub(crate) fn evaluate(idx: &Index, reach: &Reach, lang: Lang) -> Vec<Hit> {
    let mut out = Vec::new();
    flat_network(idx, lang, &mut out);
    remote_access_no_mfa(idx, lang, &mut out);
    vendor_line_always_on(idx, lang, &mut out);
    edge_device_vulnerable(idx, lang, &mut out);
    guest_wifi_reaches_clinical(idx, reach, lang, &mut out);
    closed_network_dual_homed(idx, lang, &mut out);
    backup_not_offline(idx, lang, &mut out);
    shared_admin_account(idx, lang, &mut out);
    leaver_account_enabled(idx, lang, &mut out);
    no_endpoint_protection(idx, lang, &mut out);
    os_end_of_support(idx, lang, &mut out);
    rdp_smb_reachable(idx, reach, lang, &mut out);
    unregistered_device(idx, lang, &mut out);
    internet_exposed_service(idx, reach, lang, &mut out);
    out
}

fn is_clinical(r: Option<SystemRole>) -> bool {
    matches!(r, Some(SystemRole::Emr | SystemRole::Receipt | SystemRole::Backup | SystemRole::Pacs))
}

fn flat_network(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    let mut seen_domains = std::collections::BTreeSet::new();
    for seg in &idx.model.segments {
        let rep = idx.domain.get(&seg.id).copied().unwrap_or(seg.id);
        if !seen_domains.insert(rep) {
            continue;
        }
        let dom = idx.domain_of(seg.id);
        let mut clinical: Vec<Id> = Vec::new();
        let mut user_devices: Vec<Id> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for s in &dom {
            for p in idx.seg_assets.get(s).map(Vec::as_slice).unwrap_or(&[]) {
                let Some(a) = idx.model.assets.get(*p) else { continue };
                if !seen.insert(a.id) {
                    continue;
                }
                let role = idx.roles.get(*p).copied().flatten();
                if matches!(role, Some(SystemRole::Emr | SystemRole::Receipt | SystemRole::Backup)) {
                    clinical.push(a.id);
                } else if matches!(a.data.kind, AssetKind::Pc | AssetKind::Mobile | AssetKind::Unknown) {
                    user_devices.push(a.id);
                }
            }
        }
        let guest: Vec<Id> = dom
            .iter()
            .copied()
            .filter(|s| matches!(idx.purpose(*s), Some(SegmentPurpose::PatientWifi | SegmentPurpose::StaffWifi)))
            .collect();
        if clinical.is_empty() || (user_devices.is_empty() && guest.is_empty()) {
            continue;
        }
        let mut ev = Vec::new();
        let cn: Vec<String> = clinical.iter().map(|a| idx.asset_name(*a)).collect();
        ev.push(tf(
            lang,
            "risk.ev.flat_mix",
            &[("segment", &idx.segment_name(seg.id)), ("clinical", &name_list(lang, &cn)), ("count", &user_devices.len())],
        ));
        if dom.len() > 1 {
            let names: Vec<String> = dom.iter().map(|s| idx.segment_name(*s)).collect();
            let cidr = seg.cidr.clone().unwrap_or_default();
            ev.push(tf(lang, "risk.ev.flat_shared_cidr", &[("segments", &names.join("・")), ("cidr", &cidr)]));
        }
        for g in &guest {
            ev.push(tf(lang, "risk.ev.flat_guest", &[("segment", &idx.segment_name(*g))]));
        }
        for s in &dom {
            match Reach::reaches_internet(idx, *s) {
                Some((true, Some(p))) => {
                    ev.push(tf(lang, "risk.ev.flat_internet", &[("segment", &idx.segment_name(*s)), ("policy", &p)]))
                }
                None if !user_devices.is_empty() && idx.purpose(*s) != Some(SegmentPurpose::PatientWifi) => {
                    ev.push(tf(lang, "risk.ev.flat_internet_unknown", &[("segment", &idx.segment_name(*s))]))
                }
                _ => {}
            }
        }
        let mut subjects: Vec<Node> = dom.iter().map(|s| Node::Segment(*s)).collect();
        subjects.extend(clinical.iter().map(|a| Node::Asset(*a)));
        out.push(Hit::fires("flat_network", Node::Segment(rep), subjects, ev));
    }
}

fn remote_access_no_mfa(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for c in &idx.model.connections {
        if !Index::is_remote_access(c) {
            continue;
        }
        let mut subjects = vec![Node::Connection(c.id)];
        if let Some(a) = c.asset_id {
            subjects.push(Node::Asset(a));
        }
        let auth = t(lang, &c.authentication.label_key()).to_owned();
        match c.authentication {
            Authentication::Password | Authentication::None => {
                let mut ev = vec![tf(lang, "risk.ev.remote_auth", &[("connection", &c.name), ("auth", &auth)])];
                let leavers: Vec<String> = idx
                    .model
                    .accounts
                    .iter()
                    .filter(|a| a.enabled && a.holder_left && c.asset_id.is_some_and(|x| a.asset_ids.contains(&x)))
                    .map(|a| a.username.clone())
                    .collect();
                if !leavers.is_empty() {
                    ev.push(tf(lang, "risk.ev.remote_leaver", &[("accounts", &leavers.join("、"))]));
                }
                out.push(Hit::fires("remote_access_no_mfa", Node::Connection(c.id), subjects, ev));
            }
            Authentication::Unknown => out.push(Hit::unknown(
                "remote_access_no_mfa",
                Node::Connection(c.id),
                subjects,
                vec![tf(lang, "risk.check.remote_auth", &[("connection", &c.name)])],
            )),
            Authentication::Mfa | Authentication::Certificate => {}
        }
    }
}

fn vendor_line_always_on(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for c in &idx.model.connections {
        if c.kind != ConnectionKind::VendorRemote || !c.always_on {
            continue;
        }
        let mut ev = vec![tf(lang, "risk.ev.always_on", &[("connection", &c.name)])];
        if let Some(w) = &c.maintenance_window {
            ev.push(tf(lang, "risk.ev.always_on_window", &[("window", w)]));
        }
        if let Some(v) = c.vendor_id.and_then(|v| idx.model.vendors.iter().find(|x| x.id == v)) {
            ev.push(tf(lang, "risk.ev.vendor", &[("vendor", &v.name)]));
        }
        let mut subjects = vec![Node::Connection(c.id)];
        if let Some(a) = c.asset_id {
            subjects.push(Node::Asset(a));
        }
        out.push(Hit::fires("vendor_line_always_on", Node::Connection(c.id), subjects, ev));
    }
}

/// An internet-facing VPN / UTM / router.
pub(crate) fn is_edge_device(idx: &Index, a: &Asset) -> bool {
    matches!(a.data.kind, AssetKind::VpnUtm | AssetKind::NetworkDevice)
        && (a.data.internet_facing
            || idx.segs_of(a.id).iter().any(|s| idx.purpose(*s) == Some(SegmentPurpose::Wan)))
}

/// The flags the what-if sets.
pub(crate) const FIRMWARE_CURRENT: &str = "risk.firmware_current";
pub(crate) const OS_CURRENT: &str = "risk.os_current";

pub(crate) fn flag(a: &Asset, key: &str) -> bool {
    a.data.attributes.get(key).is_some_and(|v| v == "true")
}

/// Vulnerabilities that make a device exploitable in the attack graph: KEV, or CVSS ≥ 9 over
/// the network. Empty when no feed was imported.
pub(crate) fn exploitable_vulns<'m>(idx: &Index<'m>, asset: Id) -> Vec<&'m mamori_model::network::VulnFact> {
    exploitable_vuln_positions(idx, asset).into_iter().filter_map(|i| idx.model.vulns.get(i)).collect()
}

/// [`exploitable_vulns`] as positions in `model.vulns`.
pub(crate) fn exploitable_vuln_positions(idx: &Index, asset: Id) -> Vec<usize> {
    if !idx.model.vuln_data {
        return Vec::new();
    }
    let vulns = &idx.model.vulns;
    let mut v: Vec<usize> = idx
        .vulns_of
        .get(&asset)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .copied()
        .filter(|i| vulns.get(*i).is_some_and(|v| v.kev || (v.cvss.unwrap_or(0.0) >= 9.0 && v.network == Some(true))))
        .collect();
    // Stable: entries with the same id keep the model's order.
    v.sort_by(|a, b| vulns.get(*a).map(|x| &x.vuln_id).cmp(&vulns.get(*b).map(|x| &x.vuln_id)));
    v
}

/// Table entries for an edge device's firmware (exploited entries only without feeds).
pub(crate) fn firmware_hits(idx: &Index, a: &Asset) -> Vec<&'static tables::Firmware> {
    if flag(a, FIRMWARE_CURRENT) {
        return Vec::new();
    }
    let (Some(os), Some(ver)) = (a.data.os.as_deref(), a.data.os_version.as_deref()) else { return Vec::new() };
    tables::firmware_matches(os, ver)
        .into_iter()
        .filter(|f| f.kind == FirmwareKind::Eos || !idx.model.vuln_data)
        .collect()
}

fn edge_device_vulnerable(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for a in &idx.model.assets {
        if !is_edge_device(idx, a) || flag(a, FIRMWARE_CURRENT) {
            continue;
        }
        let subjects = vec![Node::Asset(a.id)];
        let version = a.data.os_version.clone().unwrap_or_default();
        let os = a.data.os.clone().unwrap_or_default();
        let mut ev = Vec::new();
        for v in exploitable_vulns(idx, a.id) {
            let key = if v.kev { "risk.ev.edge_kev" } else { "risk.ev.edge_critical" };
            let title = v.title.clone().unwrap_or_default();
            let cvss = v.cvss.map(|c| format!("{c:.1}")).unwrap_or_else(|| "-".into());
            ev.push(tf(lang, key, &[("vuln", &v.vuln_id), ("title", &title), ("cvss", &cvss)]));
        }
        for f in firmware_hits(idx, a) {
            let key = match f.kind {
                FirmwareKind::Exploited => "risk.ev.edge_table_exploited",
                FirmwareKind::Eos => "risk.ev.edge_table_eos",
            };
            ev.push(tf(lang, key, &[("os", &os), ("version", &version), ("refs", &f.refs.join(", "))]));
        }
        if !ev.is_empty() {
            ev.insert(0, tf(lang, "risk.ev.edge_device", &[("asset", &a.data.name), ("os", &os), ("version", &version)]));
            out.push(Hit::fires("edge_device_vulnerable", Node::Asset(a.id), subjects, ev));
        } else if a.data.os_version.as_deref().is_none_or(|v| v.trim().is_empty()) {
            out.push(Hit::unknown(
                "edge_device_vulnerable",
                Node::Asset(a.id),
                subjects,
                vec![tf(lang, "risk.check.edge_version", &[("asset", &a.data.name)])],
            ));
        } else if !idx.model.vuln_data {
            out.push(Hit::unknown(
                "edge_device_vulnerable",
                Node::Asset(a.id),
                subjects,
                vec![tf(lang, "risk.check.edge_no_feed", &[("asset", &a.data.name), ("os", &os), ("version", &version)])],
            ));
        }
    }
}

/// Clinical targets: assets with a role, or servers / NAS / medical devices, or anything in a
/// clinical / server / medical-device segment (network gear excluded).
fn is_clinical_target(idx: &Index, pos: usize) -> bool {
    let Some(a) = idx.model.assets.get(pos) else { return false };
    if matches!(a.data.kind, AssetKind::NetworkDevice | AssetKind::VpnUtm | AssetKind::WifiAp) {
        return false;
    }
    is_clinical(idx.roles.get(pos).copied().flatten())
        || matches!(a.data.kind, AssetKind::Server | AssetKind::Nas | AssetKind::MedicalDevice)
        || idx.segs.get(pos).is_some_and(|s| {
            s.iter().any(|x| {
                matches!(
                    idx.purpose(*x),
                    Some(SegmentPurpose::ClinicalLan | SegmentPurpose::Servers | SegmentPurpose::MedicalDevices)
                )
            })
        })
}

fn guest_wifi_reaches_clinical(idx: &Index, reach: &Reach, lang: Lang, out: &mut Vec<Hit>) {
    for seg in &idx.model.segments {
        if seg.purpose != SegmentPurpose::PatientWifi {
            continue;
        }
        let src = Src::Seg(seg.id);
        let mut reached: Vec<(Id, Via)> = Vec::new();
        for (pos, a) in idx.model.assets.iter().enumerate() {
            if idx.segs.get(pos).is_some_and(|s| s.len() == 1 && s.contains(&seg.id)) {
                continue;
            }
            if !is_clinical_target(idx, pos) {
                continue;
            }
            if let Some(f) = reach.find_flow(idx, src, pos, |f| f.segment != seg.id) {
                reached.push((a.id, f.via));
            }
        }
        if reached.is_empty() {
            continue;
        }
        let mut vias: Vec<Via> = reached.iter().map(|(_, v)| *v).collect();
        vias.sort();
        vias.dedup();
        let important: Vec<String> = reached
            .iter()
            .filter(|(a, _)| is_clinical(idx.role_of(*a)))
            .map(|(a, _)| idx.asset_name(*a))
            .collect();
        let mut ev = vec![tf(
            lang,
            "risk.ev.guest_reach",
            &[("segment", &seg.name), ("count", &reached.len()), ("important", &name_list(lang, &important))],
        )];
        for v in vias {
            ev.push(tf(lang, "risk.ev.because", &[("reason", &via_text(idx, v, lang))]));
        }
        let mut subjects = vec![Node::Segment(seg.id)];
        subjects.extend(reached.iter().filter(|(a, _)| is_clinical(idx.role_of(*a))).map(|(a, _)| Node::Asset(*a)));
        out.push(Hit::fires("guest_wifi_reaches_clinical", Node::Segment(seg.id), subjects, ev));
    }
}

fn closed_network_dual_homed(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for (pos, a) in idx.model.assets.iter().enumerate() {
        let segs = idx.segs.get(pos).cloned().unwrap_or_default();
        let closed: Vec<Id> = segs.iter().copied().filter(|s| idx.is_closed_segment(*s)).collect();
        let open: Vec<Id> = segs
            .iter()
            .copied()
            .filter(|s| !idx.is_closed_segment(*s) && idx.purpose(*s) != Some(SegmentPurpose::Wan))
            .collect();
        if closed.is_empty() || open.is_empty() || matches!(a.data.kind, AssetKind::NetworkDevice | AssetKind::VpnUtm) {
            continue;
        }
        let cn: Vec<String> = closed.iter().map(|s| idx.segment_name(*s)).collect();
        let on: Vec<String> = open.iter().map(|s| idx.segment_name(*s)).collect();
        let ev = vec![tf(
            lang,
            "risk.ev.dual_homed",
            &[("asset", &a.data.name), ("closed", &cn.join("・")), ("open", &on.join("・"))],
        )];
        let mut subjects = vec![Node::Asset(a.id)];
        subjects.extend(closed.iter().chain(open.iter()).map(|s| Node::Segment(*s)));
        out.push(Hit::fires("closed_network_dual_homed", Node::Asset(a.id), subjects, ev));
    }
}

fn backup_not_offline(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    let backups = &idx.model.backups;
    if backups.is_empty() {
        out.push(Hit::unknown("backup_not_offline", Node::Internet, Vec::new(), vec![t(lang, "risk.check.no_backup").to_owned()]));
        return;
    }
    if backups.iter().any(|b| matches!(b.medium, BackupMedium::Offline | BackupMedium::Immutable)) {
        return;
    }
    let mut ev = vec![t(lang, "risk.ev.backup_no_offline").to_owned()];
    let clinical_segs: Vec<Id> = idx
        .model
        .assets
        .iter()
        .filter(|a| matches!(idx.role_of(a.id), Some(SystemRole::Emr | SystemRole::Receipt)))
        .flat_map(|a| idx.segs_of(a.id).to_vec())
        .collect();
    let mut subjects = Vec::new();
    for b in backups {
        let medium = t(lang, &b.medium.label_key()).to_owned();
        let holder = b.asset_id.map(|a| idx.asset_name(a)).unwrap_or_else(|| "-".into());
        ev.push(tf(lang, "risk.ev.backup_item", &[("backup", &b.name), ("medium", &medium), ("asset", &holder)]));
        if let Some(a) = b.asset_id {
            if !subjects.contains(&Node::Asset(a)) {
                subjects.push(Node::Asset(a));
            }
            if idx.segs_of(a).iter().any(|s| clinical_segs.iter().any(|c| idx.same_domain(*s, *c))) {
                ev.push(tf(lang, "risk.ev.backup_same_segment", &[("backup", &b.name)]));
            }
        }
        if b.same_credentials {
            ev.push(tf(lang, "risk.ev.backup_same_cred", &[("backup", &b.name)]));
        }
        if b.last_restore_test.is_none() {
            ev.push(tf(lang, "risk.ev.backup_no_restore_test", &[("backup", &b.name)]));
        }
    }
    out.push(Hit { rule: "backup_not_offline", key_subject: "backups".into(), state: RuleState::Fires, subjects, evidence: ev });
}

fn shared_admin_account(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for acc in &idx.model.accounts {
        if !acc.enabled || acc.privilege != AccountPrivilege::Admin {
            continue;
        }
        let infra: Vec<Id> = acc
            .asset_ids
            .iter()
            .copied()
            .filter(|a| {
                idx.asset(*a).is_some_and(|x| {
                    matches!(x.data.kind, AssetKind::Server | AssetKind::Nas | AssetKind::NetworkDevice | AssetKind::VpnUtm)
                })
            })
            .collect();
        if infra.len() < 2 {
            continue;
        }
        let names: Vec<String> = infra.iter().map(|a| idx.asset_name(*a)).collect();
        let mut ev = vec![tf(
            lang,
            "risk.ev.shared_admin",
            &[("account", &acc.username), ("count", &infra.len()), ("assets", &name_list(lang, &names))],
        )];
        if acc.shared {
            ev.push(tf(lang, "risk.ev.shared_people", &[("account", &acc.username)]));
        }
        let subjects = infra.iter().map(|a| Node::Asset(*a)).collect();
        out.push(Hit {
            rule: "shared_admin_account",
            key_subject: format!("account:{}", acc.id),
            state: RuleState::Fires,
            subjects,
            evidence: ev,
        });
    }
}

fn leaver_account_enabled(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for acc in &idx.model.accounts {
        if !(acc.enabled && acc.holder_left) {
            continue;
        }
        let person = acc.person.clone().unwrap_or_default();
        let system = acc.system.clone().unwrap_or_default();
        let mut ev = vec![tf(lang, "risk.ev.leaver", &[("account", &acc.username), ("person", &person), ("system", &system)])];
        if let Some(l) = &acc.last_used {
            ev.push(tf(lang, "risk.ev.last_used", &[("date", l)]));
        }
        let subjects = acc.asset_ids.iter().map(|a| Node::Asset(*a)).collect();
        out.push(Hit {
            rule: "leaver_account_enabled",
            key_subject: format!("account:{}", acc.id),
            state: RuleState::Fires,
            subjects,
            evidence: ev,
        });
    }
}

fn no_endpoint_protection(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for a in &idx.model.assets {
        if !matches!(a.data.kind, AssetKind::Server | AssetKind::Pc) {
            continue;
        }
        match a.data.endpoint_protection {
            Some(false) => out.push(Hit::fires(
                "no_endpoint_protection",
                Node::Asset(a.id),
                vec![Node::Asset(a.id)],
                vec![tf(lang, "risk.ev.no_edr", &[("asset", &a.data.name)])],
            )),
            None => out.push(Hit::unknown(
                "no_endpoint_protection",
                Node::Asset(a.id),
                vec![Node::Asset(a.id)],
                vec![tf(lang, "risk.check.edr", &[("asset", &a.data.name)])],
            )),
            Some(true) => {}
        }
    }
}

/// The end-of-support date of an asset's OS when it has passed on the model's date.
pub(crate) fn eos_passed(idx: &Index, a: &Asset) -> Option<&'static tables::OsEos> {
    if flag(a, OS_CURRENT) || idx.model.date.is_empty() {
        return None;
    }
    let os = a.data.os.as_deref()?;
    let e = tables::os_entry(os, a.data.os_version.as_deref())?;
    (e.until.as_str() <= idx.model.date.as_str()).then_some(e)
}

fn os_end_of_support(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for a in &idx.model.assets {
        if flag(a, OS_CURRENT) {
            continue;
        }
        match a.data.os.as_deref() {
            None => {
                if matches!(a.data.kind, AssetKind::Server | AssetKind::Pc) {
                    out.push(Hit::unknown(
                        "os_end_of_support",
                        Node::Asset(a.id),
                        vec![Node::Asset(a.id)],
                        vec![tf(lang, "risk.check.os", &[("asset", &a.data.name)])],
                    ));
                }
            }
            Some(os) => {
                if idx.model.date.is_empty() {
                    if tables::os_entry(os, a.data.os_version.as_deref()).is_some() {
                        out.push(Hit::unknown(
                            "os_end_of_support",
                            Node::Asset(a.id),
                            vec![Node::Asset(a.id)],
                            vec![tf(lang, "risk.check.model_date", &[("asset", &a.data.name)])],
                        ));
                    }
                    continue;
                }
                if let Some(e) = eos_passed(idx, a) {
                    let version = a.data.os_version.clone().unwrap_or_default();
                    out.push(Hit::fires(
                        "os_end_of_support",
                        Node::Asset(a.id),
                        vec![Node::Asset(a.id)],
                        vec![tf(
                            lang,
                            "risk.ev.eos",
                            &[("asset", &a.data.name), ("os", &format!("{os} {version}")), ("until", &e.until), ("name", &e.name)],
                        )],
                    ));
                }
            }
        }
    }
}

fn rdp_smb_reachable(idx: &Index, reach: &Reach, lang: Lang, out: &mut Vec<Hit>) {
    let mut sources: Vec<(Src, Node, String)> = Vec::new();
    for c in &idx.model.connections {
        if Index::is_remote_access(c) {
            sources.push((Src::Conn(c.id), Node::Connection(c.id), c.name.clone()));
        }
    }
    for s in &idx.model.segments {
        if s.purpose != SegmentPurpose::Wan {
            sources.push((Src::Seg(s.id), Node::Segment(s.id), s.name.clone()));
        }
    }
    let smb_rdp_key = |k: Option<u32>| k.is_some_and(|k| idx.svc_smb_rdp.get(k as usize).copied().unwrap_or(false));
    let counts = |via: Via| !matches!(via, Via::SameSegment { .. });
    // Per asset (by the position its id maps to): the last source that listed it, so an asset
    // with several segments is listed once per source.
    let mut listed_by: Vec<usize> = vec![usize::MAX; idx.model.assets.len()];
    // Per service list (`Index::svc_lists`): the answer for the current (source, segment),
    // valid when its stamp is the current one. Non-named assets with the same services are
    // reached alike.
    let mut memo: Vec<(usize, Option<usize>)> = vec![(usize::MAX, None); idx.svc_lists.len()];
    let mut stamp = 0usize;
    for (si, (src, node, name)) in sources.into_iter().enumerate() {
        // (asset id, position, index of the SMB/RDP service reached).
        let mut hits: Vec<(Id, usize, usize)> = Vec::new();
        let row = reach.row(src);
        for (seg, members) in &idx.seg_assets {
            if !row.touches(idx, *seg) {
                continue;
            }
            let table = row.table(*seg);
            // The segment's non-named assets are reached on SMB/RDP only when the table allows
            // such a key from outside the segment: otherwise none of them can be listed.
            let table = table.filter(|t| t.any(|k, via| counts(via) && smb_rdp_key(k)));
            stamp += 1;
            for pos in members {
                if !idx.smb_rdp.get(*pos).copied().unwrap_or(false) {
                    continue;
                }
                let canon = idx.canon.get(*pos).map(|c| *c as usize).unwrap_or(*pos);
                if listed_by.get(canon).is_some_and(|x| *x == si) {
                    continue;
                }
                let Some(id) = idx.ids.get(*pos).copied() else { continue };
                // The first flow into this segment, from outside it, on SMB or RDP.
                let found = if idx.is_named.get(*pos).copied().unwrap_or(false) {
                    let services = idx.svc_ids.get(*pos).and_then(|s| s.as_deref()).unwrap_or(&[]);
                    row.named_flows(id).iter().find_map(|f| {
                        let i = f.service?;
                        (counts(f.via) && f.segment == *seg && smb_rdp_key(services.get(i).copied())).then_some(i)
                    })
                } else if let Some(t) = table {
                    // `smb_rdp` is set: the services are known.
                    let list = idx.svc_list.get(*pos).copied().unwrap_or(NO_LIST);
                    match memo.get_mut(list as usize) {
                        Some((st, answer)) if *st == stamp => *answer,
                        Some((st, answer)) => {
                            let services = idx.svc_lists.get(list as usize).map(|l| &l[..]).unwrap_or(&[]);
                            *answer = services.iter().position(|k| smb_rdp_key(Some(*k)) && t.get(Some(*k)).is_some_and(counts));
                            *st = stamp;
                            *answer
                        }
                        None => None,
                    }
                } else {
                    None
                };
                if let Some(i) = found {
                    if let Some(x) = listed_by.get_mut(canon) {
                        *x = si;
                    }
                    hits.push((id, *pos, i));
                }
            }
        }
        if hits.is_empty() {
            continue;
        }
        // Only the names the evidence lists are built.
        let names: Vec<String> = hits
            .iter()
            .take(LIST_MAX)
            .map(|(_, pos, i)| {
                let a_name = idx.model.assets.get(*pos).map(|a| a.data.name.as_str()).unwrap_or_default();
                let svc = idx
                    .services
                    .get(*pos)
                    .and_then(|s| s.as_ref())
                    .and_then(|s| s.get(*i))
                    .map(|s| service_label(s).unwrap_or_else(|| s.code()))
                    .unwrap_or_default();
                format!("{a_name}（{svc}）")
            })
            .collect();
        let ev = vec![tf(
            lang,
            "risk.ev.rdp_smb",
            &[("source", &name), ("count", &hits.len()), ("assets", &name_list_of(lang, &names, hits.len()))],
        )];
        let mut subjects = Vec::with_capacity(hits.len() + 1);
        subjects.push(node);
        subjects.extend(hits.iter().map(|(a, _, _)| Node::Asset(*a)));
        out.push(Hit::fires("rdp_smb_reachable", node, subjects, ev));
    }
}

fn unregistered_device(idx: &Index, lang: Lang, out: &mut Vec<Hit>) {
    for a in &idx.model.assets {
        let status = a.data.attributes.get("status").map(|s| s.trim().to_ascii_lowercase());
        let unregistered = status.as_deref() == Some("unregistered") || a.data.attributes.get("状態").is_some_and(|s| s.contains("未登録"));
        if a.data.kind == AssetKind::Unknown || unregistered {
            let ip = a.data.primary_ip().unwrap_or("-").to_owned();
            out.push(Hit::fires(
                "unregistered_device",
                Node::Asset(a.id),
                vec![Node::Asset(a.id)],
                vec![tf(lang, "risk.ev.unregistered", &[("asset", &a.data.name), ("ip", &ip)])],
            ));
        }
    }
}

/// Services a VPN terminates: exposing them is the point (the remote-access rules cover them).
fn is_vpn_service(a: &Asset, s: &mamori_model::network::Service) -> bool {
    let n = service_label(s).unwrap_or_default();
    matches!(n.as_str(), "ipsec" | "ssl-vpn" | "isakmp" | "openvpn" | "wireguard")
        || (a.data.kind == AssetKind::VpnUtm && s.protocol == "tcp" && s.port == 443)
}

fn internet_exposed_service(idx: &Index, reach: &Reach, lang: Lang, out: &mut Vec<Hit>) {
    for a in &idx.model.assets {
        if !idx.named_to.contains(&a.id) {
            continue;
        }
        let Some(pos) = idx.pos(a.id) else { continue };
        let services = idx.services.get(pos).and_then(|s| s.as_ref());
        let mut ev = Vec::new();
        for f in reach.flows(idx, Src::Internet, pos) {
            let Some(svc) = f.service.and_then(|i| services.and_then(|s| s.get(i))) else { continue };
            if is_vpn_service(a, svc) {
                continue;
            }
            let label = service_label(svc).unwrap_or_default();
            ev.push(tf(
                lang,
                "risk.ev.exposed",
                &[("asset", &a.data.name), ("service", &format!("{} {}", svc.code(), label)), ("reason", &via_text(idx, f.via, lang))],
            ));
        }
        ev.dedup();
        if !ev.is_empty() {
            out.push(Hit::fires("internet_exposed_service", Node::Asset(a.id), vec![Node::Internet, Node::Asset(a.id)], ev));
        }
    }
}
