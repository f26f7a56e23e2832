//! The network pages: the configuration diagram (zoom, pan, groups that open on click,
//! click-through to devices, diff against an earlier day, an attack path drawn over it), the
//! risk assessment, attack paths, the what-if editor and the improvement plans. The functions
//! that turn the store's model into drawing options are shared with the CLI.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use mamori_diagram::{Highlight, HighlightStep, ModelDiff, NodeRef, Options, Page};
use mamori_i18n::{Lang, t, tf};
use mamori_model::network::{NetworkModel, Severity};
use mamori_model::{Id, Role};
use mamori_risk::{Assessment, AttackPath, Change, Node, RiskFinding, RuleState, WhatIf};
use mamori_store::Store;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{facility_name, layout, store_error_page, urlencode};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/network", get(diagram_page))
        .route("/network/diagram.svg", get(diagram_svg))
        .route("/network/diagram.dot", get(diagram_dot))
        .route("/network/diagram.mmd", get(diagram_mermaid))
        .route("/network/risk", get(risk_page))
        .route("/network/paths", get(paths_page))
        .route("/network/whatif", get(whatif_page).post(whatif_run))
        .route("/network/plans", get(plans_page).post(plan_create))
        .route("/network/plans/status", post(plan_status))
        .route("/static/diagram.css", get(|| async { crate::views::static_file("text/css; charset=utf-8", diagram_css()) }))
}

fn diagram_css() -> &'static str {
    static CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSS.get_or_init(|| mamori_diagram::scoped_css("svg.diagram"))
}

/// Priority band of a vulnerability finding → the colour of its device.
fn band_severity(band: u8) -> Severity {
    match band {
        1 => Severity::Critical,
        2 => Severity::High,
        3 => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Worst open vulnerability finding per device.
pub fn vuln_severity(model: &NetworkModel) -> BTreeMap<Id, Severity> {
    let mut out: BTreeMap<Id, Severity> = BTreeMap::new();
    for v in &model.vulns {
        let s = band_severity(v.band);
        let e = out.entry(v.asset_id).or_insert(s);
        *e = (*e).max(s);
    }
    out
}

/// What to draw against: the model of `date` (a stored daily snapshot), its diff with `now`.
pub async fn diff_from(store: &Store, now: &NetworkModel, date: &str) -> Result<Option<(String, NetworkModel, ModelDiff)>, mamori_store::StoreError> {
    Ok(store.network_snapshot_on(date).await?.map(|(on, old)| {
        let d = mamori_diagram::diff(&old, now);
        (on, old, d)
    }))
}

#[derive(Deserialize, Default)]
struct DiagramParams {
    page: Option<String>,
    /// Comma-separated group keys to draw expanded.
    expand: Option<String>,
    /// YYYY-MM-DD: compare with the snapshot of that day.
    diff_from: Option<String>,
    /// Draw this goal's attack path over the diagram (with `path`, its index).
    goal: Option<String>,
    path: Option<usize>,
}

fn page_of(p: Option<&str>) -> Page {
    match p {
        Some("a4") => Page::A4,
        Some("a3") => Page::A3,
        _ => Page::Screen,
    }
}

/// The drawing for a request: the model of today (recorded as today's snapshot), options
/// from the query, and the diff when one was asked for.
async fn drawing(state: &AppState, lang: Lang, p: &DiagramParams) -> Result<(NetworkModel, Options, Option<(String, ModelDiff)>), mamori_store::StoreError> {
    let model = state.store.network_model().await?;
    state.store.record_network_snapshot(&model).await?;
    let assessment = mamori_risk::assess(&model, lang);
    let (severity, connection_severity) = severities(&model, &assessment);
    let mut opts = Options { lang, page: page_of(p.page.as_deref()), severity, connection_severity, ..Options::default() };
    if let Some(path) = p.goal.as_deref().and_then(|g| find_path(&assessment, g, p.path.unwrap_or(0))) {
        opts.highlight = path_highlight(path);
    }
    opts.expanded = p.expand.as_deref().unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect::<BTreeSet<_>>();
    let mut diff = None;
    let mut model = model;
    if let Some(date) = p.diff_from.as_deref().filter(|d| !d.is_empty())
        && let Some((on, old, d)) = diff_from(&state.store, &model, date).await?
    {
        opts.highlight = d.highlight();
        model = mamori_diagram::union(&old, &model);
        diff = Some((on, d));
    }
    Ok((model, opts, diff))
}

fn not_vendor(ctx: &Ctx) -> Result<(), Response> {
    // The diagram shows the whole facility: a vendor sees only the devices it maintains.
    ctx.require(ctx.user.role != Role::Vendor)
}

async fn diagram_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let (model, mut opts, diff) = match drawing(&state, lang, &p).await {
        Ok(x) => x,
        Err(e) => return store_error_page(lang, &e),
    };
    opts.inline_css = false;
    let svg = mamori_diagram::to_svg(&model, &opts);
    let days = state.store.network_snapshot_days().await.unwrap_or_default();
    let query = |page: &str| {
        let mut q = format!("page={page}");
        if let Some(e) = &p.expand {
            q.push_str(&format!("&expand={}", urlencode(e)));
        }
        if let Some(d) = &p.diff_from {
            q.push_str(&format!("&diff_from={}", urlencode(d)));
        }
        if let Some(g) = &p.goal {
            q.push_str(&format!("&goal={}&path={}", urlencode(g), p.path.unwrap_or(0)));
        }
        q
    };
    let body = html! {
        h1 { (t(lang, "network_page.diagram_title")) }
        p.muted { (t(lang, "network_page.diagram_intro")) }
        (subnav(lang, "diagram"))
        form.filters method="get" action="/network" {
            @if let Some(e) = &p.expand { input type="hidden" name="expand" value=(e); }
            label { (t(lang, "network_page.diff_from")) " "
                select name="diff_from" data-autosubmit {
                    option value="" { (t(lang, "network_page.no_diff")) }
                    @for d in &days { option value=(d) selected[p.diff_from.as_deref() == Some(d.as_str())] { (d) } }
                }
            }
            " "
            noscript { button type="submit" { (t(lang, "network_page.show")) } }
        }
        p.actions {
            a.button href={ "/network/diagram.svg?" (query("a4")) } download="network-a4.svg" { (t(lang, "network_page.download_a4")) }
            " " a.button href={ "/network/diagram.svg?" (query("a3")) } download="network-a3.svg" { (t(lang, "network_page.download_a3")) }
            " " a.button href={ "/network/diagram.dot?" (query("screen")) } download="network.dot" { "DOT" }
            " " a.button href={ "/network/diagram.mmd?" (query("screen")) } download="network.mmd" { "Mermaid" }
        }
        @if let Some((on, d)) = &diff {
            section id="diff" {
                h2 { (tf(lang, "network_page.diff_title", &[("date", on)])) }
                @if d.is_empty() { p { (t(lang, "network_page.diff_none")) } } @else { pre.diff { (d.to_text(lang)) } }
            }
        }
        @if !opts.highlight.steps.is_empty() {
            section id="path-steps" {
                h2 { (t(lang, "network_page.path_on_diagram")) }
                ol { @for st in &opts.highlight.steps { li { (st.label) } } }
            }
        }
        div.diagram-tools {
            button type="button" id="zoom-in" { "+" } " "
            button type="button" id="zoom-out" { "−" } " "
            button type="button" id="zoom-fit" { (t(lang, "network_page.fit")) }
            span.muted { " " (t(lang, "network_page.zoom_hint")) }
        }
        div.diagram-wrap id="diagram" data-expand=(p.expand.clone().unwrap_or_default()) { (maud::PreEscaped(svg)) }
    };
    let head = html! { link rel="stylesheet" href="/static/diagram.css"; };
    crate::views::layout_with_head(&ctx, &facility_name(&state).await, t(lang, "network_page.diagram_title"), head, body)
}

fn download(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-store")], body).into_response()
}

#[derive(Clone, Copy)]
enum Export {
    Svg,
    Dot,
    Mermaid,
}

async fn export(state: &AppState, ctx: &Ctx, p: &DiagramParams, format: Export) -> Response {
    if let Err(r) = not_vendor(ctx) {
        return r;
    }
    let (m, o) = match drawing(state, ctx.lang, p).await {
        Ok((m, o, _)) => (m, o),
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    match format {
        Export::Svg => download("image/svg+xml; charset=utf-8", mamori_diagram::to_svg(&m, &o)),
        Export::Dot => download("text/vnd.graphviz; charset=utf-8", mamori_diagram::to_dot(&m, &o)),
        Export::Mermaid => download("text/plain; charset=utf-8", mamori_diagram::to_mermaid(&m, &o)),
    }
}

async fn diagram_svg(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    export(&state, &ctx, &p, Export::Svg).await
}

async fn diagram_dot(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    export(&state, &ctx, &p, Export::Dot).await
}

async fn diagram_mermaid(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    export(&state, &ctx, &p, Export::Mermaid).await
}

/// Worst finding per device and per line: open vulnerabilities and the risk rules' findings.
pub fn severities(model: &NetworkModel, a: &Assessment) -> (BTreeMap<Id, Severity>, BTreeMap<Id, Severity>) {
    let mut assets = vuln_severity(model);
    let mut lines: BTreeMap<Id, Severity> = BTreeMap::new();
    for f in &a.findings {
        for n in &f.subjects {
            let (map, id) = match n {
                Node::Asset(id) => (&mut assets, *id),
                Node::Connection(id) => (&mut lines, *id),
                _ => continue,
            };
            let e = map.entry(id).or_insert(f.severity);
            *e = (*e).max(f.severity);
        }
    }
    (assets, lines)
}

fn node_ref(n: Node) -> NodeRef {
    match n {
        Node::Internet => NodeRef::Internet,
        Node::Connection(id) => NodeRef::Connection(id),
        Node::Asset(id) => NodeRef::Asset(id),
        Node::Segment(id) => NodeRef::Segment(id),
    }
}

/// An attack path as numbered arrows over the diagram.
pub fn path_highlight(p: &AttackPath) -> Highlight {
    Highlight {
        steps: p.steps.iter().map(|s| HighlightStep { from: node_ref(s.from), to: node_ref(s.to), label: s.text.clone() }).collect(),
        ..Highlight::default()
    }
}

/// The `index`th path of the goal with code `goal`.
pub fn find_path<'a>(a: &'a Assessment, goal: &str, index: usize) -> Option<&'a AttackPath> {
    a.goals.iter().find(|g| g.goal.code() == goal).and_then(|g| g.paths.get(index))
}

fn sev_badge(lang: Lang, f: &RiskFinding) -> Markup {
    if f.state == RuleState::Unknown {
        return html! { span.badge.check { (t(lang, "risk.report.check")) } };
    }
    let class = match f.severity {
        Severity::Critical | Severity::High => "high",
        Severity::Medium => "medium",
        _ => "low",
    };
    html! { span class={ "badge " (class) } { (mamori_risk::severity_label(lang, f.severity)) } }
}

fn subject_links(model: &NetworkModel, f: &RiskFinding) -> Markup {
    html! {
        @for (i, n) in f.subjects.iter().enumerate() {
            @if i > 0 { "、" }
            @match n {
                Node::Asset(id) => a href={ "/assets/" (id) } { (model.asset(*id).map(|a| a.data.name.clone()).unwrap_or_else(|| n.code())) },
                Node::Connection(id) => span { (model.connection(*id).map(|c| c.name.clone()).unwrap_or_else(|| n.code())) },
                Node::Segment(id) => a href={ "/assets?segment=" (id) } { (model.segment(*id).map(|s| s.name.clone()).unwrap_or_else(|| n.code())) },
                Node::Internet => span { (n.code()) },
            }
        }
    }
}

fn finding_article(lang: Lang, model: &NetworkModel, f: &RiskFinding) -> Markup {
    html! {
        article.finding data-rule=(f.rule) data-severity=(f.severity.code()) data-actor=(f.actor.code()) {
            h3 { (sev_badge(lang, f)) " " (f.title) }
            p.muted { (t(lang, "risk_page.subjects")) ": " (subject_links(model, f)) }
            @if !f.evidence.is_empty() { ul.evidence { @for e in &f.evidence { li { (e) } } } }
            p { (f.explain) }
            @if f.state == RuleState::Fires {
                p { strong { (t(lang, "risk.report.remedy")) ": " } (f.remedy) }
                p.muted {
                    (t(lang, "risk.report.actor")) ": " (t(lang, &format!("risk.actor.{}", f.actor.code())))
                    " / " (t(lang, "risk.report.checklist")) ": " (f.checklist.join(", "))
                    " / " (t(lang, "risk.report.guideline")) ": " (f.guideline.join(" / "))
                }
            }
        }
    }
}

/// The risk assessment as a standalone HTML document (`mamori assess --format html`): score
/// with its formula, findings, what to check, attack paths, and the diagram with the most
/// likely path to the EMR drawn over it.
pub fn assessment_html(model: &NetworkModel, a: &Assessment, lang: Lang) -> String {
    let (severity, connection_severity) = severities(model, a);
    let mut opts = Options { lang, page: Page::A3, severity, connection_severity, ..Options::default() };
    if let Some(p) = a.goals.iter().find(|g| g.reachable).and_then(|g| g.paths.first()) {
        opts.highlight = path_highlight(p);
    }
    let svg = mamori_diagram::to_svg(model, &opts);
    let facility = model.facility.as_ref().map(|f| f.name.clone()).unwrap_or_default();
    let page = html! {
        (maud::DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (facility) " — " (t(lang, "risk.report.title")) }
                style { (maud::PreEscaped(REPORT_CSS)) }
            }
            body {
                h1 { (facility) " " (t(lang, "risk.report.title")) }
                p.muted { (tf(lang, "risk_page.as_of", &[("date", &model.date)])) }
                (score_block(lang, a))
                (goals_block(lang, a, false))
                h2 { (t(lang, "risk_page.findings")) " (" (a.findings.len()) ")" }
                @for f in &a.findings { (finding_article(lang, model, f)) }
                h2 { (t(lang, "risk_page.unknowns")) " (" (a.unknowns.len()) ")" }
                @for f in &a.unknowns { (finding_article(lang, model, f)) }
                @if !a.assumptions.is_empty() { h2 { (t(lang, "risk_page.assumptions")) } ul { @for x in &a.assumptions { li { (x) } } } }
                h2 { (t(lang, "network_page.diagram_title")) }
                div.diagram { (maud::PreEscaped(svg)) }
            }
        }
    };
    page.into_string()
}

const REPORT_CSS: &str = "body{font-family:\"Noto Sans CJK JP\",\"Hiragino Sans\",\"Yu Gothic\",sans-serif;max-width:1100px;margin:2rem auto;color:#1f2d3d;line-height:1.6}\
.muted{color:#5b6b7b}.badge{display:inline-block;padding:0 .5em;border-radius:4px;font-size:.85em;border:1px solid}\
.badge.high{background:#fde3e1;border-color:#c62828}.badge.medium{background:#fff5c4;border-color:#b08800}.badge.low{background:#e9eef3;border-color:#607d8b}.badge.check{background:#e8f0fe;border-color:#1a56db}\
article.finding{border:1px solid #e2e8f0;border-radius:8px;padding:.5rem 1rem;margin:.6rem 0}.diagram svg{width:100%;height:auto}\
.score{font-size:1.4em;font-weight:700}ol.path li{margin:.2rem 0}";

fn score_block(lang: Lang, a: &Assessment) -> Markup {
    html! {
        section id="score" {
            p.score { (t(lang, "risk.report.score")) ": " (format!("{:.1}", a.score.total)) }
            p.muted { (a.score.formula) }
        }
    }
}

fn goals_block(lang: Lang, a: &Assessment, links: bool) -> Markup {
    html! {
        section id="goals" {
            h2 { (t(lang, "risk.report.goals")) }
            @for g in &a.goals {
                article.goal data-goal=(g.goal.code()) data-reachable=(g.reachable) {
                    h3 { @if g.reachable { span.badge.high { (t(lang, "risk.report.reachable")) } } @else { span.badge.low { (t(lang, "risk.report.unreachable")) } } " " (g.title) }
                    @for (i, p) in g.paths.iter().enumerate() {
                        div.path data-path=(i) {
                            p.muted {
                                (tf(lang, "risk_page.path_head", &[("n", &(i + 1)), ("steps", &p.steps.len()), ("likelihood", &format!("{:.3}", p.likelihood))]))
                                @for c in &p.criteria { " " span.badge.low { (t(lang, &format!("risk_page.criterion_{c}"))) } }
                                @if links { " " a href={ "/network?goal=" (g.goal.code()) "&path=" (i) } { (t(lang, "risk_page.draw_path")) } }
                            }
                            ol.path { @for st in &p.steps { li { (st.text) } } }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize, Default)]
struct RiskParams {
    severity: Option<String>,
    actor: Option<String>,
}

async fn current(state: &AppState, lang: Lang) -> Result<(NetworkModel, Assessment), mamori_store::StoreError> {
    let model = state.store.network_model().await?;
    state.store.record_network_snapshot(&model).await?;
    let a = mamori_risk::assess(&model, lang);
    Ok((model, a))
}

async fn risk_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<RiskParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let (model, a) = match current(&state, lang).await {
        Ok(x) => x,
        Err(e) => return store_error_page(lang, &e),
    };
    let min = p.severity.as_deref().and_then(Severity::parse);
    let actor = p.actor.as_deref().filter(|a| !a.is_empty());
    let keep = |f: &&RiskFinding| min.is_none_or(|m| f.severity >= m) && actor.is_none_or(|x| f.actor.code() == x || f.actor.code() == "both");
    let shown: Vec<&RiskFinding> = a.findings.iter().filter(keep).collect();
    let body = html! {
        h1 { (t(lang, "risk_page.title")) }
        p.muted { (t(lang, "risk_page.intro")) }
        (subnav(lang, "risk"))
        (score_block(lang, &a))
        form.filters method="get" action="/network/risk" {
            label { (t(lang, "risk_page.min_severity")) " "
                select name="severity" data-autosubmit {
                    option value="" { (t(lang, "risk_page.all")) }
                    @for s in Severity::ALL { option value=(s.code()) selected[min == Some(s)] { (mamori_risk::severity_label(lang, s)) (t(lang, "risk_page.or_higher")) } }
                }
            }
            " "
            label { (t(lang, "risk.report.actor")) " "
                select name="actor" data-autosubmit {
                    option value="" { (t(lang, "risk_page.all")) }
                    @for x in ["facility", "vendor"] { option value=(x) selected[actor == Some(x)] { (t(lang, &format!("risk.actor.{x}"))) } }
                }
            }
            " " noscript { button type="submit" { (t(lang, "network_page.show")) } }
        }
        section id="findings" {
            h2 { (t(lang, "risk_page.findings")) " (" (shown.len()) ")" }
            @for f in &shown { (finding_article(lang, &model, f)) }
        }
        section id="unknowns" {
            h2 { (t(lang, "risk_page.unknowns")) " (" (a.unknowns.len()) ")" }
            p.muted { (t(lang, "risk_page.unknowns_intro")) }
            @for f in &a.unknowns { (finding_article(lang, &model, f)) }
        }
        @if !a.assumptions.is_empty() { section id="assumptions" { h2 { (t(lang, "risk_page.assumptions")) } ul { @for x in &a.assumptions { li { (x) } } } } }
    };
    layout(&ctx, &facility_name(&state).await, t(lang, "risk_page.title"), body)
}

fn subnav(lang: Lang, here: &str) -> Markup {
    html! {
        nav.subnav {
            @for (key, href) in [("diagram", "/network"), ("risk", "/network/risk"), ("paths", "/network/paths"), ("whatif", "/network/whatif"), ("plans", "/network/plans")] {
                @if key == here { strong { (t(lang, &format!("risk_page.tab_{key}"))) } } @else { a href=(href) { (t(lang, &format!("risk_page.tab_{key}"))) } }
                " "
            }
        }
    }
}

async fn paths_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let (_, a) = match current(&state, lang).await {
        Ok(x) => x,
        Err(e) => return store_error_page(lang, &e),
    };
    let body = html! {
        h1 { (t(lang, "risk_page.paths_title")) }
        p.muted { (t(lang, "risk_page.paths_intro")) }
        (subnav(lang, "paths"))
        (goals_block(lang, &a, true))
    };
    layout(&ctx, &facility_name(&state).await, t(lang, "risk_page.paths_title"), body)
}

/// Change specs offered as one-click suggestions in the what-if editor.
fn suggestions(model: &NetworkModel, a: &Assessment, lang: Lang) -> Vec<(String, String)> {
    let mut specs: Vec<String> = Vec::new();
    for c in &model.connections {
        if matches!(c.kind, mamori_model::ConnectionKind::VendorRemote | mamori_model::ConnectionKind::Other) && c.asset_id.is_some() {
            if c.authentication != mamori_model::Authentication::Mfa && c.authentication != mamori_model::Authentication::Certificate {
                specs.push(format!("mfa:{}", c.id));
            }
            if c.always_on && c.kind == mamori_model::ConnectionKind::VendorRemote {
                specs.push(format!("on-demand:{}", c.id));
            }
            specs.push(format!("disconnect:{}", c.id));
        }
    }
    let mut patched = BTreeSet::new();
    for v in &model.vulns {
        if v.band <= 2 && patched.insert(v.asset_id) {
            specs.push(format!("patch:{}", v.asset_id));
        }
    }
    for f in &a.findings {
        match f.rule.as_str() {
            "guest_wifi_reaches_clinical" | "flat_network" => {
                for n in &f.subjects {
                    if let Node::Segment(id) = n
                        && model.segment(*id).is_some_and(|s| s.purpose == mamori_model::SegmentPurpose::PatientWifi)
                    {
                        specs.push(format!("isolate:{id}"));
                    }
                }
            }
            "backup_not_offline" => specs.push("offline-backup".into()),
            "edge_device_vulnerable" | "os_end_of_support" | "no_endpoint_protection" => {
                let verb = match f.rule.as_str() {
                    "edge_device_vulnerable" => "patch",
                    "os_end_of_support" => "upgrade-os",
                    _ => "edr",
                };
                for n in &f.subjects {
                    if let Node::Asset(id) = n
                        && model.asset(*id).is_some_and(|a| {
                            !matches!(a.data.kind, mamori_model::AssetKind::Pc) || a.role().is_some() || a.data.criticality >= mamori_model::Criticality::High
                        })
                    {
                        specs.push(format!("{verb}:{id}"));
                    }
                }
            }
            _ => {}
        }
    }
    for acc in &model.accounts {
        if acc.holder_left && acc.enabled {
            specs.push(format!("disable-account:{}", acc.id));
        }
        if acc.shared && acc.privilege == mamori_model::AccountPrivilege::Admin && acc.asset_ids.len() > 1 {
            specs.push(format!("unshare-account:{}", acc.id));
        }
    }
    let mut seen = BTreeSet::new();
    specs.retain(|s| seen.insert(s.clone()));
    specs
        .into_iter()
        .filter_map(|s| Change::parse(&s, model).ok().map(|c| (s, c.describe(model, lang))))
        .collect()
}

#[derive(Deserialize, Default)]
struct WhatIfForm {
    csrf: Option<String>,
    changes: Option<String>,
}

fn whatif_body(ctx: &Ctx, model: &NetworkModel, a: &Assessment, specs: &str, result: Option<&WhatIf>, error: Option<String>) -> Markup {
    let lang = ctx.lang;
    let edit = ctx.user.role.can_edit();
    html! {
        h1 { (t(lang, "risk_page.whatif_title")) }
        p.muted { (t(lang, "risk_page.whatif_intro")) }
        (subnav(lang, "whatif"))
        @if let Some(e) = &error { p.alert.error role="alert" id="whatif-error" { (e) } }
        form method="post" action="/network/whatif" id="whatif-form" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label.block for="changes" { (t(lang, "risk_page.changes")) }
            textarea id="changes" name="changes" rows="5" cols="60" placeholder="mfa:4&#10;on-demand:2" { (specs) }
            p.muted { (t(lang, "risk_page.spec_help")) }
            button.primary type="submit" { (t(lang, "risk_page.simulate")) }
        }
        @if let Some(w) = result {
            section id="whatif-result" {
                h2 { (t(lang, "risk_page.result")) }
                ul { @for (spec, words) in &w.changes { li { code { (spec) } " — " (words) } } }
                table.list {
                    thead { tr { th {} th { (t(lang, "risk_page.before")) } th { (t(lang, "risk_page.after")) } } }
                    tbody {
                        tr { th { (t(lang, "risk.report.score")) } td id="score-before" { (format!("{:.1}", w.score_before)) } td id="score-after" { (format!("{:.1}", w.score_after)) } }
                        tr { th { (t(lang, "risk_page.path_count")) } td id="paths-before" { (w.paths_before) } td id="paths-after" { (w.paths_after) } }
                        @for ((g, before), (_, after)) in w.goals_before.iter().zip(&w.goals_after) {
                            tr data-goal=(g.code()) {
                                th { (t(lang, &format!("risk.goal.{}", g.code()))) }
                                td { (t(lang, if *before { "risk.report.reachable" } else { "risk.report.unreachable" })) }
                                td.after { (t(lang, if *after { "risk.report.reachable" } else { "risk.report.unreachable" })) }
                            }
                        }
                    }
                }
                p.muted { (w.after.score.formula) }
                h3 { (t(lang, "risk_page.resolved")) " (" (w.findings_resolved.len()) ")" }
                ul id="resolved" { @for f in &w.findings_resolved { li { (f.title) } } }
                @if !w.findings_new.is_empty() {
                    h3 { (t(lang, "risk_page.new_findings")) " (" (w.findings_new.len()) ")" }
                    ul { @for f in &w.findings_new { li { (f.title) } } }
                }
                @if edit {
                    form method="post" action="/network/plans" id="plan-form" {
                        h3 { (t(lang, "risk_page.save_plan")) }
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        input type="hidden" name="changes" value=(specs);
                        label { (t(lang, "risk_page.plan_title")) " " input type="text" name="title" required; } " "
                        label { (t(lang, "risk_page.owner")) " " input type="text" name="owner"; } " "
                        label { (t(lang, "risk_page.due")) " " input type="date" name="due_date"; } " "
                        button type="submit" { (t(lang, "risk_page.save")) }
                    }
                }
            }
        }
        section id="suggestions" {
            h2 { (t(lang, "risk_page.suggestions")) }
            ul { @for (spec, words) in suggestions(model, a, lang) { li { code.spec { (spec) } " — " (words) } } }
        }
    }
}

async fn whatif_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let (model, a) = match current(&state, lang).await {
        Ok(x) => x,
        Err(e) => return store_error_page(lang, &e),
    };
    let body = whatif_body(&ctx, &model, &a, "", None, None);
    layout(&ctx, &facility_name(&state).await, t(lang, "risk_page.whatif_title"), body)
}

/// Parses change specs, one per line (names may contain spaces).
pub fn parse_changes(model: &NetworkModel, text: &str, lang: Lang) -> Result<Vec<Change>, String> {
    text.lines()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Change::parse(s, model).map_err(|e| e.message(lang)))
        .collect()
}

async fn whatif_run(State(state): State<AppState>, ctx: Ctx, Form(form): Form<WhatIfForm>) -> Response {
    if let Err(r) = ctx.check_csrf(form.csrf.as_deref().unwrap_or_default()) {
        return r;
    }
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let (model, a) = match current(&state, lang).await {
        Ok(x) => x,
        Err(e) => return store_error_page(lang, &e),
    };
    let specs = form.changes.unwrap_or_default();
    let body = match parse_changes(&model, &specs, lang) {
        Ok(changes) if changes.is_empty() => whatif_body(&ctx, &model, &a, &specs, None, Some(t(lang, "risk_page.no_changes").to_owned())),
        Ok(changes) => {
            let w = mamori_risk::what_if(&model, &changes, lang);
            whatif_body(&ctx, &model, &a, &specs, Some(&w), None)
        }
        Err(e) => whatif_body(&ctx, &model, &a, &specs, None, Some(e)),
    };
    layout(&ctx, &facility_name(&state).await, t(lang, "risk_page.whatif_title"), body)
}

/// What a plan records about the simulation when it is saved.
pub fn plan_summary(w: &WhatIf) -> serde_json::Value {
    serde_json::json!({
        "changes": w.changes,
        "goals_before": w.goals_before.iter().filter(|(_, r)| *r).map(|(g, _)| g.code()).collect::<Vec<_>>(),
        "goals_after": w.goals_after.iter().filter(|(_, r)| *r).map(|(g, _)| g.code()).collect::<Vec<_>>(),
        "paths_before": w.paths_before,
        "paths_after": w.paths_after,
        "findings_resolved": w.findings_resolved.iter().map(|f| f.title.clone()).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize, Default)]
struct PlanForm {
    csrf: Option<String>,
    changes: Option<String>,
    title: Option<String>,
    owner: Option<String>,
    due_date: Option<String>,
}

async fn plan_create(State(state): State<AppState>, ctx: Ctx, Form(form): Form<PlanForm>) -> Response {
    if let Err(r) = ctx.check_edit(form.csrf.as_deref().unwrap_or_default()) {
        return r;
    }
    let lang = ctx.lang;
    let model = match state.store.network_model().await {
        Ok(m) => m,
        Err(e) => return store_error_page(lang, &e),
    };
    let changes = match parse_changes(&model, form.changes.as_deref().unwrap_or_default(), lang) {
        Ok(c) => c,
        Err(e) => return store_error_page(lang, &mamori_store::StoreError::Format(e)),
    };
    let w = mamori_risk::what_if(&model, &changes, lang);
    let specs: Vec<String> = changes.iter().map(Change::spec).collect();
    let nonempty = |o: &Option<String>| o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    match state
        .store
        .create_plan(&ctx.actor(), form.title.as_deref().unwrap_or_default(), &specs, nonempty(&form.owner).as_deref(), nonempty(&form.due_date).as_deref(), w.score_before, w.score_after, &plan_summary(&w))
        .await
    {
        Ok(p) => Redirect::to(&format!("/network/plans?saved={}", p.id)).into_response(),
        Err(e) => store_error_page(lang, &e),
    }
}

#[derive(Deserialize, Default)]
struct PlansParams {
    saved: Option<Id>,
}

async fn plans_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<PlansParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let lang = ctx.lang;
    let plans = match state.store.plans().await {
        Ok(p) => p,
        Err(e) => return store_error_page(lang, &e),
    };
    let edit = ctx.user.role.can_edit();
    let body = html! {
        h1 { (t(lang, "risk_page.plans_title")) }
        p.muted { (t(lang, "risk_page.plans_intro")) }
        (subnav(lang, "plans"))
        @if let Some(id) = p.saved { p.alert.ok role="status" id="saved" { (tf(lang, "risk_page.plan_saved", &[("id", &id)])) } }
        @if plans.is_empty() { p.muted { (t(lang, "risk_page.no_plans")) } }
        @else {
            table.list id="plans" {
                thead { tr { @for k in ["plan_title", "changes", "owner", "due", "score", "status"] { th { (t(lang, &format!("risk_page.{k}"))) } } } }
                tbody {
                    @for pl in &plans {
                        tr data-plan=(pl.id) {
                            td { (pl.title) }
                            td { @for c in &pl.changes { code { (c) } " " } }
                            td { (pl.owner.clone().unwrap_or_default()) }
                            td { (pl.due_date.clone().unwrap_or_default()) }
                            td { (format!("{:.1} → {:.1}", pl.before_score, pl.after_score)) }
                            td {
                                @if edit {
                                    form.inline method="post" action="/network/plans/status" {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        input type="hidden" name="id" value=(pl.id);
                                        select name="status" data-autosubmit aria-label=(t(lang, "risk_page.status")) {
                                            @for s in mamori_store::network::PLAN_STATUSES { option value=(s) selected[pl.status == s] { (t(lang, &format!("risk_page.plan_{s}"))) } }
                                        }
                                        noscript { button type="submit" { (t(lang, "risk_page.save")) } }
                                    }
                                } @else { (t(lang, &format!("risk_page.plan_{}", pl.status))) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&ctx, &facility_name(&state).await, t(lang, "risk_page.plans_title"), body)
}

#[derive(Deserialize, Default)]
struct PlanStatusForm {
    csrf: Option<String>,
    id: Option<Id>,
    status: Option<String>,
}

async fn plan_status(State(state): State<AppState>, ctx: Ctx, Form(form): Form<PlanStatusForm>) -> Response {
    if let Err(r) = ctx.check_edit(form.csrf.as_deref().unwrap_or_default()) {
        return r;
    }
    match state.store.set_plan_status(&ctx.actor(), form.id.unwrap_or(0), form.status.as_deref().unwrap_or_default()).await {
        Ok(()) => Redirect::to("/network/plans").into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}
