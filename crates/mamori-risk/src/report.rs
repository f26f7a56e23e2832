//! A readable report for the terminal.

use std::fmt::Write;

use mamori_i18n::{Lang, t, tf};

use crate::{Assessment, RiskFinding, severity_label};

fn finding_block(out: &mut String, f: &RiskFinding, lang: Lang, unknown: bool) {
    let label = if unknown { t(lang, "risk.report.check").to_owned() } else { severity_label(lang, f.severity) };
    let subjects: Vec<String> = f.subjects.iter().map(|n| n.code()).collect();
    let _ = writeln!(out, "[{label}] {}  ({})", f.title, subjects.join(", "));
    for e in &f.evidence {
        let _ = writeln!(out, "    - {e}");
    }
    if !unknown {
        let _ = writeln!(out, "    {}: {}", t(lang, "risk.report.remedy"), f.remedy);
        let actor = t(lang, &format!("risk.actor.{}", f.actor.code())).to_owned();
        let _ = writeln!(
            out,
            "    {}: {}  {}: {}  {}: {}",
            t(lang, "risk.report.actor"),
            actor,
            t(lang, "risk.report.checklist"),
            f.checklist.join(", "),
            t(lang, "risk.report.guideline"),
            f.guideline.join(" / ")
        );
    }
}

/// The assessment as text (Japanese by default).
pub fn to_text(a: &Assessment, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", t(lang, "risk.report.title"));
    let _ = writeln!(out, "{}: {}", t(lang, "risk.report.score"), a.score.total);
    let _ = writeln!(out, "  {}", a.score.formula);
    for g in &a.score.goals {
        let title = t(lang, &format!("risk.goal.{}", g.goal.code())).to_owned();
        let _ = writeln!(
            out,
            "    {}",
            tf(lang, "risk.report.goal_term", &[("goal", &title), ("weight", &g.weight), ("likelihood", &format!("{:.4}", g.likelihood)), ("value", &g.value)])
        );
    }
    for s in &a.score.findings {
        let _ = writeln!(
            out,
            "    {}",
            tf(lang, "risk.report.severity_term", &[("severity", &severity_label(lang, s.severity)), ("count", &s.count), ("points", &s.points), ("value", &s.value)])
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "■ {}", t(lang, "risk.report.goals"));
    for g in &a.goals {
        let state = if g.reachable { t(lang, "risk.report.reachable") } else { t(lang, "risk.report.unreachable") };
        let _ = writeln!(out, "[{state}] {}", g.title);
        for (i, p) in g.paths.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {} {}",
                tf(lang, "risk.report.path", &[("n", &(i + 1)), ("likelihood", &format!("{:.4}", p.likelihood))]),
                p.text
            );
        }
    }
    let _ = writeln!(out, "  ({})", t(lang, "risk.assume.likelihood"));
    let _ = writeln!(out);
    let _ = writeln!(out, "■ {}", tf(lang, "risk.report.findings", &[("count", &a.findings.len())]));
    for f in &a.findings {
        finding_block(&mut out, f, lang, false);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "■ {}", tf(lang, "risk.report.unknowns", &[("count", &a.unknowns.len())]));
    for f in &a.unknowns {
        finding_block(&mut out, f, lang, true);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "■ {}", t(lang, "risk.report.assumptions"));
    for s in &a.assumptions {
        let _ = writeln!(out, "  - {s}");
    }
    out
}
