//! `mamori`: the command line. Argument parsing and wiring only; the work happens in the
//! library crates.

mod checklist;
mod cli;
mod contract;
mod inventory;
mod network;
mod output;
mod records;
mod sync;
mod vuln;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
