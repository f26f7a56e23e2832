//! Running the `mamori` binary in tests: shared by the CLI test files.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::process::{Command, Output};

/// Runs `mamori --db DB ARGS…` as the actor `tester`, messages in Japanese.
pub fn mamori(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env("MAMORI_ACTOR", "tester")
        .env_remove("MAMORI_LANG")
        .output()
        .unwrap()
}

/// Standard output of a command that must succeed.
pub fn ok(db: &str, args: &[&str]) -> String {
    let o = mamori(db, args);
    assert!(o.status.success(), "mamori {args:?} failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// Standard error of a command that must fail.
pub fn fails(db: &str, args: &[&str]) -> String {
    let o = mamori(db, args);
    assert!(!o.status.success(), "mamori {args:?} should fail: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8(o.stderr).unwrap()
}
