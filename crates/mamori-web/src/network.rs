//! The network pages: the configuration diagram (zoom, pan, groups that open on click,
//! click-through to devices, diff against an earlier day, an attack path drawn over it), the
//! risk assessment, attack paths, the what-if editor and the improvement plans. The functions
//! that turn the store's model into drawing options are shared with the CLI.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::html;
use mamori_diagram::{ModelDiff, Options, Page};
use mamori_i18n::{Lang, t, tf};
use mamori_model::network::{NetworkModel, Severity};
use mamori_model::{Id, Role};
use mamori_store::Store;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{facility_name, store_error_page, urlencode};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/network", get(diagram_page))
        .route("/network/diagram.svg", get(diagram_svg))
        .route("/network/diagram.dot", get(diagram_dot))
        .route("/network/diagram.mmd", get(diagram_mermaid))
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
    let mut opts = Options { lang, page: page_of(p.page.as_deref()), severity: vuln_severity(&model), ..Options::default() };
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
        q
    };
    let body = html! {
        h1 { (t(lang, "network_page.diagram_title")) }
        p.muted { (t(lang, "network_page.diagram_intro")) }
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

async fn diagram_svg(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    match drawing(&state, ctx.lang, &p).await {
        Ok((m, o, _)) => download("image/svg+xml; charset=utf-8", mamori_diagram::to_svg(&m, &o)),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn diagram_dot(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    match drawing(&state, ctx.lang, &p).await {
        Ok((m, o, _)) => download("text/vnd.graphviz; charset=utf-8", mamori_diagram::to_dot(&m, &o)),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn diagram_mermaid(State(state): State<AppState>, ctx: Ctx, Query(p): Query<DiagramParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    match drawing(&state, ctx.lang, &p).await {
        Ok((m, o, _)) => download("text/plain; charset=utf-8", mamori_diagram::to_mermaid(&m, &o)),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}
