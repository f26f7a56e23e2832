#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! What-if: each change that removes a cause removes the paths that depended on it, and
//! nothing else.

mod common;

use mamori_i18n::Lang;
use mamori_model::network::NetworkModel;
use mamori_risk::{Assessment, Cause, Change, Goal, Node, StepKind, what_if};

fn change(spec: &str, m: &NetworkModel) -> Change {
    Change::parse(spec, m).unwrap_or_else(|e| panic!("{}", e.message(Lang::Ja)))
}

fn paths(a: &Assessment) -> Vec<(Goal, Vec<String>, Vec<Cause>, String)> {
    a.goals
        .iter()
        .flat_map(|g| {
            g.paths.iter().map(move |p| (g.goal, p.refs(), p.steps.iter().flat_map(|s| s.causes.clone()).collect(), p.text.clone()))
        })
        .collect()
}

/// The property: a path of `before` that cites no cause the change removes is in `after`
/// (same goal, same step refs); a path that is gone cited such a cause.
fn check_minimal(m: &NetworkModel, spec: &str) -> (usize, usize) {
    let c = change(spec, m);
    let w = what_if(m, std::slice::from_ref(&c), Lang::Ja);
    let after = paths(&w.after);
    let (mut kept, mut removed) = (0, 0);
    for (goal, refs, causes, text) in paths(&w.before) {
        let cites = causes.iter().any(|x| c.invalidates(x, m));
        let present = after.iter().any(|(g, r, _, _)| *g == goal && *r == refs);
        if !cites {
            assert!(present, "{spec}: path not citing a removed cause disappeared: {goal:?} {text}");
        }
        if present { kept += 1 } else { removed += 1 }
    }
    (kept, removed)
}

#[test]
fn every_change_removes_only_paths_that_depended_on_it() {
    let m = common::demo();
    for spec in [
        "patch:1",
        "disconnect:2",
        "disconnect:5",
        "disconnect:4",
        "mfa:4",
        "mfa:2",
        "on-demand:2",
        "isolate:4",
        "unshare-account:admin",
        "disable-account:takahashi",
        "disable-account:admin",
        "offline-backup",
        "edr:7",
        "upgrade-os:9",
        "upgrade-os:14",
        "deny:segment:4:segment:1",
        "deny:connection:2:any",
        "deny:internet:asset:1",
        "deny:connection:4:segment:1:smb",
    ] {
        let (kept, removed) = check_minimal(&m, spec);
        assert!(kept + removed > 0, "{spec}");
    }
}

#[test]
fn the_property_also_holds_without_feeds() {
    let m = common::demo_no_feeds();
    for spec in ["patch:1", "disconnect:2", "mfa:4", "isolate:4", "unshare-account:admin", "offline-backup"] {
        check_minimal(&m, spec);
    }
}

#[test]
fn patch_fortigate_removes_the_kev_paths_and_keeps_the_ssl_vpn_password_path() {
    let m = common::demo();
    let w = what_if(&m, &[change("patch:1", &m)], Lang::Ja);
    let cites_vuln = |c: &Cause| matches!(c, Cause::Vuln { asset: 1, .. });
    assert!(paths(&w.before).iter().any(|p| p.2.iter().any(cites_vuln)));
    assert!(paths(&w.after).iter().all(|p| !p.2.iter().any(cites_vuln)));
    let ssl_vpn = |a: &Assessment| {
        paths(a).into_iter().any(|p| p.1.first().is_some_and(|r| r.starts_with("internet>connection:4:remote_login")))
    };
    assert!(ssl_vpn(&w.before) && ssl_vpn(&w.after), "the password path over the SSL-VPN stays");
    assert!(w.findings_resolved.iter().any(|f| f.key == "edge_device_vulnerable:asset:1"));
    assert!(w.score_after < w.score_before);
    // Then MFA on the SSL-VPN removes it.
    let w2 = what_if(&m, &[change("patch:1", &m), change("mfa:4", &m)], Lang::Ja);
    assert!(!ssl_vpn(&w2.after));
}

#[test]
fn disconnect_vendor_line_removes_exactly_the_vendor_line_paths() {
    let m = common::demo();
    let w = what_if(&m, &[change("disconnect:2", &m)], Lang::Ja);
    let via2 = |p: &(Goal, Vec<String>, Vec<Cause>, String)| p.1.iter().any(|r| r.contains("connection:2"));
    let before: Vec<_> = paths(&w.before);
    let after: Vec<_> = paths(&w.after);
    assert!(before.iter().any(via2));
    assert!(!after.iter().any(via2));
    for p in before.iter().filter(|p| !via2(p)) {
        assert!(after.iter().any(|q| q.0 == p.0 && q.1 == p.1), "kept: {}", p.3);
    }
    assert!(w.findings_resolved.iter().any(|f| f.key == "vendor_line_always_on:connection:2"));
    assert!(w.findings_resolved.iter().any(|f| f.key == "remote_access_no_mfa:connection:2"));
}

#[test]
fn mfa_on_ssl_vpn_removes_password_and_leaver_logins_there() {
    let m = common::demo();
    let w = what_if(&m, &[change("mfa:4", &m)], Lang::Ja);
    let login4 = |a: &Assessment| {
        a.goals.iter().flat_map(|g| &g.paths).any(|p| {
            p.steps.first().is_some_and(|s| {
                s.to == Node::Connection(4) && matches!(s.kind, StepKind::RemoteLogin | StepKind::LeaverLogin)
            })
        })
    };
    assert!(login4(&w.before) && !login4(&w.after));
    assert!(w.findings_resolved.iter().any(|f| f.key == "remote_access_no_mfa:connection:4"));
}

#[test]
fn isolating_patient_wifi_removes_its_paths() {
    let m = common::demo();
    let w = what_if(&m, &[change("isolate:4", &m)], Lang::Ja);
    let from4 = |a: &Assessment| paths(a).into_iter().any(|p| p.1.iter().any(|r| r.starts_with("segment:4>")));
    assert!(from4(&w.before) && !from4(&w.after));
    assert!(w.findings_resolved.iter().any(|f| f.key == "guest_wifi_reaches_clinical:segment:4"));
    assert!(w.findings_resolved.iter().any(|f| f.key == "rdp_smb_reachable:segment:4"));
}

#[test]
fn unsharing_admin_removes_the_admin_reuse_steps() {
    let m = common::demo();
    let w = what_if(&m, &[change("unshare-account:admin", &m)], Lang::Ja);
    let reuse = |a: &Assessment| paths(a).into_iter().any(|p| p.2.contains(&Cause::SharedCredential { account: 1 }));
    assert!(reuse(&w.before) && !reuse(&w.after));
    assert!(w.findings_resolved.iter().any(|f| f.key == "shared_admin_account:account:1"));
}

#[test]
fn offline_backup_makes_backup_destruction_unreachable() {
    let m = common::demo();
    let w = what_if(&m, &[change("offline-backup", &m)], Lang::Ja);
    assert!(w.goals_before.contains(&(Goal::BackupsDestroyed, true)));
    assert!(w.goals_after.contains(&(Goal::BackupsDestroyed, false)));
    assert!(w.findings_resolved.iter().any(|f| f.rule == "backup_not_offline"));
    assert!(w.paths_after < w.paths_before);
}

#[test]
fn on_demand_keeps_the_vendor_line_as_a_low_likelihood_entry() {
    let m = common::demo();
    let w = what_if(&m, &[change("on-demand:2", &m)], Lang::Ja);
    let best = |a: &Assessment| {
        a.goals
            .iter()
            .flat_map(|g| &g.paths)
            .filter(|p| p.steps.first().is_some_and(|s| s.kind == StepKind::VendorCompromise && s.to == Node::Connection(2)))
            .map(|p| p.likelihood)
            .fold(0.0_f64, f64::max)
    };
    assert!(best(&w.after) > 0.0 && best(&w.after) < best(&w.before));
    assert!(w.findings_resolved.iter().any(|f| f.key == "vendor_line_always_on:connection:2"));
}

#[test]
fn what_if_never_modifies_the_model_and_reports_new_findings() {
    let m = common::demo();
    let copy = m.clone();
    let w = what_if(&m, &[change("allow:internet:asset:7:rdp", &m)], Lang::Ja);
    assert_eq!(m, copy);
    assert!(w.findings_new.iter().any(|f| f.key == "internet_exposed_service:asset:7"), "{:?}", w.findings_new);
    assert!(w.score_after > w.score_before);
}

#[test]
fn move_changes_where_an_asset_is() {
    let mut m = common::demo();
    m.segments.push(mamori_model::Segment {
        id: 9,
        name: "サーバ用セグメント".into(),
        purpose: mamori_model::SegmentPurpose::Servers,
        cidr: Some("192.168.20.0/24".into()),
        vlan: Some(20),
        description: None,
    });
    let c = change("move:電子カルテサーバ:サーバ用セグメント", &m);
    assert_eq!(c, Change::Move { asset: 7, segment: 9 });
    let w = what_if(&m, &[c], Lang::Ja);
    // The EMR server is no longer in the patient Wi-Fi's broadcast domain.
    let f = w.after.findings.iter().find(|f| f.key == "guest_wifi_reaches_clinical:segment:4").expect("still fires for others");
    assert!(!f.subjects.contains(&Node::Asset(7)));
}

#[test]
fn specs_accept_ids_and_exact_names() {
    let m = common::demo();
    assert_eq!(change("disconnect:電子カルテ リモート保守回線（インターネットVPN）", &m), Change::Disconnect { connection: 2 });
    assert_eq!(change("disable-account:takahashi", &m), Change::DisableAccount { account: 10 });
    assert_eq!(change("isolate:患者用Wi-Fi（MINATO-FREE）", &m), Change::Isolate { segment: 4 });
    assert_eq!(change("patch:UTM（FortiGate 60F）", &m), Change::Patch { asset: 1 });
    assert_eq!(
        change("deny:segment:4:asset:7:tcp/445", &m),
        Change::Deny {
            from: mamori_model::network::Zone::Segment(4),
            to: mamori_model::network::Zone::Asset(7),
            service: Some("tcp/445".into())
        }
    );
    assert_eq!(change("offline-backup", &m), Change::OfflineBackup);
    for spec in ["mfa:4", "on-demand:2", "edr:7", "upgrade-os:9", "allow:any:segment:1", "move:7:1", "unshare-account:1"] {
        assert_eq!(change(&change(spec, &m).spec(), &m), change(spec, &m), "{spec}");
    }
}

#[test]
fn parse_errors_name_the_spec_and_why() {
    let m = common::demo();
    for (spec, reason) in [
        ("frobnicate:1", "unknown_kind"),
        ("patch:999", "no_asset"),
        ("patch:", "missing_argument"),
        ("disconnect:存在しない回線", "no_connection"),
        ("isolate:42", "no_segment"),
        ("disable-account:nobody", "no_account"),
        ("deny:planet:1:any", "bad_zone"),
        ("deny:segment:77:any", "bad_zone"),
        ("offline-backup:now", "extra_argument"),
        ("move:7", "missing_argument"),
    ] {
        let e = Change::parse(spec, &m).expect_err(spec);
        assert_eq!(e.reason, reason, "{spec}");
        assert_eq!(e.spec, spec);
        let ja = e.message(Lang::Ja);
        assert!(ja.contains(spec) && !ja.contains("risk.change_error"), "{ja}");
        let en = e.message(Lang::En);
        assert!(en.contains(spec) && !en.contains("risk.change_error"), "{en}");
    }
}
