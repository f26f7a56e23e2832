#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Pins the complete results (findings, unknowns, paths, scores, assumptions, what-ifs) of the
//! demo and of generated hospitals: any change of output fails, so performance work cannot
//! silently change what users read.
//!
//! Each case is serialized to JSON (floats print in their shortest round-trip form, so equal
//! text means bit-identical floats) and compared by length and 64-bit FNV-1a hash against
//! `tests/snapshots/results.txt`.
//!
//! When an intended change of results happens: run with `MAMORI_RISK_SNAPSHOT_DIR=/some/dir`
//! before and after to get every case's JSON for a diff, and with
//! `MAMORI_RISK_SNAPSHOT_UPDATE=1` to print the new lines of `results.txt`.

mod common;

use mamori_i18n::Lang;
use mamori_model::network::NetworkModel;
use mamori_risk::generate::generated_hospital;
use mamori_risk::{Change, Options, assess, assess_with, what_if};

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn changes(m: &NetworkModel, specs: &[&str]) -> Vec<Change> {
    specs.iter().map(|s| Change::parse(s, m).unwrap_or_else(|e| panic!("{}", e.message(Lang::Ja)))).collect()
}

/// Every pinned case: (name, JSON).
fn cases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let demo = common::demo();
    let demo_nf = common::demo_no_feeds();
    out.push(("demo_ja".into(), json(&assess(&demo, Lang::Ja))));
    out.push(("demo_en".into(), json(&assess(&demo, Lang::En))));
    out.push(("demo_no_feeds_ja".into(), json(&assess(&demo_nf, Lang::Ja))));
    out.push(("demo_k1".into(), json(&assess_with(&demo, Lang::Ja, Options { k: 1 }))));
    out.push(("demo_k6".into(), json(&assess_with(&demo, Lang::Ja, Options { k: 6 }))));
    for spec in [
        "patch:1",
        "disconnect:2",
        "disconnect:5",
        "mfa:4",
        "on-demand:2",
        "isolate:4",
        "unshare-account:admin",
        "disable-account:admin",
        "offline-backup",
        "edr:7",
        "upgrade-os:9",
        "move:7:2",
        "deny:segment:1:segment:2",
        "allow:internet:segment:1:rdp",
    ] {
        out.push((format!("demo_whatif_{spec}"), json(&what_if(&demo, &changes(&demo, &[spec]), Lang::Ja))));
    }
    let g = generated_hospital(2000, 60, 40, 7);
    out.push(("gen2000_ja".into(), json(&assess(&g, Lang::Ja))));
    out.push(("gen2000_whatif_bench".into(), json(&what_if(&g, &changes(&g, &["patch:1", "isolate:4"]), Lang::Ja))));
    out.push((
        "gen2000_whatif_more".into(),
        json(&what_if(
            &g,
            &changes(&g, &["mfa:4", "disconnect:1", "unshare-account:2", "upgrade-os:50", "move:60:3", "deny:segment:6:segment:2:smb"]),
            Lang::En,
        )),
    ));
    let g2 = generated_hospital(700, 12, 9, 11);
    out.push(("gen700_en".into(), json(&assess(&g2, Lang::En))));
    out.push(("gen700_k5".into(), json(&assess_with(&g2, Lang::Ja, Options { k: 5 }))));
    let g3 = generated_hospital(3000, 25, 17, 42);
    out.push(("gen3000_ja".into(), json(&assess(&g3, Lang::Ja))));
    out.push(("gen3000_whatif".into(), json(&what_if(&g3, &changes(&g3, &["offline-backup", "disable-account:1", "edr:20"]), Lang::Ja))));
    out
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap()
}

#[test]
fn results_match_the_pinned_snapshots() {
    let expected_text = include_str!("snapshots/results.txt");
    let expected: Vec<(&str, usize, &str)> = expected_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut p = l.split_whitespace();
            (p.next().unwrap(), p.next().unwrap().parse().unwrap(), p.next().unwrap())
        })
        .collect();
    let dir = std::env::var("MAMORI_RISK_SNAPSHOT_DIR").ok();
    let update = std::env::var("MAMORI_RISK_SNAPSHOT_UPDATE").is_ok();
    let mut failures = Vec::new();
    let mut lines = Vec::new();
    let got = cases();
    for (name, text) in &got {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d).unwrap();
            std::fs::write(format!("{d}/{name}.json"), text).unwrap();
        }
        let hash = format!("{:016x}", fnv1a(text.as_bytes()));
        lines.push(format!("{name} {} {hash}", text.len()));
        match expected.iter().find(|(n, _, _)| n == name) {
            Some((_, len, h)) if *len == text.len() && *h == hash => {}
            Some((_, len, h)) => failures.push(format!("{name}: expected {len} {h}, got {} {hash}", text.len())),
            None => failures.push(format!("{name}: not pinned")),
        }
    }
    if update {
        println!("{}", lines.join("\n"));
    }
    assert_eq!(got.len(), expected.len(), "cases and pinned lines differ in number");
    assert!(failures.is_empty(), "results changed:\n{}", failures.join("\n"));
}
