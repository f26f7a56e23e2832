//! Writes a generated hospital model (JSON) for trying the diagram at scale.
//!
//! `cargo run -p mamori-diagram --example gen -- 5000 60 > hospital.json`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../tests/support/mod.rs"]
mod support;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let assets = args.first().copied().unwrap_or(5000);
    let segments = args.get(1).copied().unwrap_or(60);
    let model = support::hospital(assets, segments);
    println!("{}", serde_json::to_string(&model).expect("json"));
}
