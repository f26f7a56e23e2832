//! Benchmark of assess and what-if on generated hospitals of 500 / 5,000 / 50,000 assets
//! (60 segments, 40 external connections). Run with
//! `cargo run --release -p mamori-risk --example bench_risk [runs]`.

use std::time::{Duration, Instant};

use mamori_i18n::Lang;
use mamori_risk::generate::generated_hospital;
use mamori_risk::{Change, assess, what_if};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn vm_hwm_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let runs: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let mut prev: Option<(f64, f64)> = None;
    println!("assets  segments  connections  assess_median  whatif_median  paths  findings  growth(assess, whatif)  VmHWM");
    let sizes: Vec<usize> = std::env::args().nth(2).map(|s| s.split(",").filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|| vec![500, 5_000, 50_000]);
    for n in sizes {
        let m = generated_hospital(n, 60, 40, 7);
        let runs_here = if n >= 50_000 { runs.min(3) } else { runs };
        let mut at = Vec::new();
        let mut paths = 0;
        let mut findings = 0;
        for _ in 0..runs_here {
            let t = Instant::now();
            let a = assess(&m, Lang::Ja);
            at.push(t.elapsed());
            paths = a.goals.iter().map(|g| g.paths.len()).sum();
            findings = a.findings.len();
        }
        let changes = vec![
            Change::parse("patch:1", &m).unwrap_or(Change::OfflineBackup),
            Change::parse("isolate:4", &m).unwrap_or(Change::OfflineBackup),
        ];
        let mut wt = Vec::new();
        for _ in 0..runs_here {
            let t = Instant::now();
            let w = what_if(&m, &changes, Lang::Ja);
            wt.push(t.elapsed());
            std::hint::black_box(&w);
        }
        let (a, w) = (median(at).as_secs_f64(), median(wt).as_secs_f64());
        let growth = prev.map(|(pa, pw)| format!("x{:.1}, x{:.1}", a / pa, w / pw)).unwrap_or_else(|| "-".into());
        prev = Some((a, w));
        let hwm = vm_hwm_kib().map(|k| format!("{} MiB", k / 1024)).unwrap_or_else(|| "n/a".into());
        println!(
            "{n:>6}  {:>8}  {:>11}  {:>12.3}s  {:>12.3}s  {paths:>5}  {findings:>8}  {growth:>22}  {hwm}",
            m.segments.len(),
            m.connections.len(),
            a,
            w
        );
    }
}
