//! Parse-only timing for the import benchmark (`scripts/bench-import`):
//! `cargo run --release -p mamori-ingest --example parse -- nmap FILE [RUNS]` prints the median
//! wall time in milliseconds of RUNS full parses (file read from disk each time, like the
//! Python reference it is compared with), and the number of records.
#![allow(clippy::print_stdout)]

use std::io::BufReader;
use std::time::Instant;

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(kind), Some(path)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: parse nmap|isc-leases|csv FILE [RUNS]");
        return std::process::ExitCode::from(2);
    };
    let runs: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(5);
    let mut times = Vec::with_capacity(runs);
    let mut count = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{path}: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let result = match kind.as_str() {
            "nmap" => mamori_ingest::parse_nmap(path, BufReader::new(file)).map(|s| s.hosts.len()),
            "isc-leases" => mamori_ingest::parse_isc_leases(path, BufReader::new(file)).map(|l| l.len()),
            "csv" => std::fs::read(path)
                .map_err(|e| mamori_ingest::IngestError::Io { file: path.clone(), line: 0, source: e })
                .and_then(|b| mamori_ingest::ledger::read_ledger_csv(path, &b, &[]))
                .map(|s| s.ingested.observations.len()),
            other => {
                eprintln!("unknown kind {other}");
                return std::process::ExitCode::from(2);
            }
        };
        match result {
            Ok(n) => count = n,
            Err(e) => {
                eprintln!("{e}");
                return std::process::ExitCode::from(1);
            }
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    println!("{median:.1} {count}");
    std::process::ExitCode::SUCCESS
}
