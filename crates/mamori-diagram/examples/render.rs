//! Renders a model file to SVG, DOT or Mermaid (by the output's extension).
//!
//! `cargo run -p mamori-diagram --example render -- model.json out.svg [a4|a3] [en]`

use std::process::ExitCode;

use mamori_diagram::{Options, Page, to_dot, to_mermaid, to_svg};
use mamori_i18n::Lang;
use mamori_model::network::NetworkModel;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render MODEL.json OUT.(svg|dot|mmd) [a4|a3] [en]");
        return ExitCode::FAILURE;
    };
    let text = match std::fs::read_to_string(input) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let model: NetworkModel = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut opts = Options::default();
    for a in args.iter().skip(2) {
        match a.as_str() {
            "a4" => opts.page = Page::A4,
            "a3" => opts.page = Page::A3,
            "en" => opts.lang = Lang::En,
            _ => {}
        }
    }
    let started = std::time::Instant::now();
    let out = if output.ends_with(".dot") {
        to_dot(&model, &opts)
    } else if output.ends_with(".mmd") {
        to_mermaid(&model, &opts)
    } else {
        to_svg(&model, &opts)
    };
    eprintln!("{} assets rendered in {:?} ({} bytes)", model.assets.len(), started.elapsed(), out.len());
    if let Err(e) = std::fs::write(output, out) {
        eprintln!("{output}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
