//! The pages people use: dashboard, asset list / detail / edit, audit log, users.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use mamori_i18n::Lang;
use mamori_model::{
    AssetData, AssetKind, Criticality, Id, Interface, Role, Segment, User, Vendor,
};
use mamori_store::{AssetQuery, AssetSort, AuditFilter, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::attention::{self, Severity};
use crate::auth::{self, Ctx};
use crate::views::{self, badge, jst, layout, opt, store_error_page, urlencode};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard))
        .route("/login", get(auth::login_page).post(auth::login_submit))
        .route("/logout", post(auth::logout))
        .route("/lang/{code}", get(auth::switch_lang))
        .route("/assets", get(asset_list).post(asset_create))
        .route("/assets/new", get(asset_new))
        .route("/assets/{id}", get(asset_detail).post(asset_update))
        .route("/assets/{id}/edit", get(asset_edit))
        .route("/assets/{id}/delete", post(asset_delete))
        .route("/audit", get(audit_page))
        .route("/users", get(users_page).post(user_create))
        .route("/users/{id}/state", post(user_state))
        .route("/tokens", post(token_create))
        .route("/tokens/{id}/revoke", post(token_revoke))
        .route("/static/app.css", get(|| async { views::static_file("text/css; charset=utf-8", views::CSS) }))
        .route("/static/app.js", get(|| async { views::static_file("text/javascript; charset=utf-8", views::JS) }))
        .route("/healthz", get(healthz))
}


async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.facility().await {
        Ok(_) => (StatusCode::OK, "ok").into_response(),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response(),
    }
}

/// The facility name for the page header.
use crate::views::facility_name;

macro_rules! tryr {
    ($ctx:expr, $e:expr) => {
        match $e {
            Ok(v) => v,
            Err(err) => return store_error_page($ctx.lang, &err),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Dashboard

async fn dashboard(State(state): State<AppState>, ctx: Ctx) -> Response {
    let scope = ctx.vendor_scope();
    let facility = tryr!(ctx, state.store.facility().await);
    let counts = tryr!(ctx, state.store.counts(scope).await);
    let segments = tryr!(ctx, state.store.list_segments().await);
    let items = tryr!(ctx, attention::for_scope(&state.store, scope).await);
    let unregistered = if scope.is_none() {
        tryr!(ctx, state.store.list_discovered(Some("pending")).await).len()
    } else {
        0
    };
    let high = items.iter().filter(|a| a.severity == Severity::High).count();
    let name = facility.as_ref().map(|f| f.name.clone()).unwrap_or_default();
    let max_kind = counts.by_kind.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let body = html! {
        h1 { (ctx.t("dashboard.title")) }
        @if let Some(f) = &facility {
            p.facility-line {
                (ctx.t(&f.kind.label_key()))
                @if f.beds > 0 { " ・ " (mamori_i18n::tf(ctx.lang, "dashboard.beds", &[("n", &f.beds)])) }
                @if let Some(p) = &f.prefecture { " ・ " (p) }
                @if let Some(m) = &f.security_manager { " ・ " (ctx.t("facility.security_manager")) ": " (m) }
            }
        }
        section.cards {
            a.card href="/assets" {
                span.num { (counts.assets) }
                span.label { (ctx.t("dashboard.assets")) }
            }
            div.card.alert-card[high > 0] {
                span.num { (high) }
                span.label { (ctx.t("dashboard.high_items")) }
            }
            @if scope.is_none() {
                a.card.alert-card[unregistered > 0] href="/unregistered" id="unregistered-card" {
                    span.num { (unregistered) }
                    span.label { (ctx.t("unregistered_page.dashboard_card")) }
                }
                div.card { span.num { (counts.segments) } span.label { (ctx.t("dashboard.segments")) } }
                div.card { span.num { (counts.accounts) } span.label { (ctx.t("dashboard.accounts")) } }
                div.card { span.num { (counts.external_connections) } span.label { (ctx.t("dashboard.connections")) } }
                div.card { span.num { (counts.vendors) } span.label { (ctx.t("dashboard.vendors")) } }
            }
        }
        div.grid2 {
            section.panel {
                h2 { (ctx.t("dashboard.attention")) }
                @if items.is_empty() {
                    p.muted { (ctx.t("dashboard.nothing")) }
                } @else {
                    ul.attention {
                        @for group in attention::grouped(&items) {
                            @if let Some(first) = group.first() {
                            li class={ "sev-" (first.severity.code()) } {
                                (badge(first.severity.code(), ctx.t(&format!("severity.{}", first.severity.code()))))
                                div {
                                    strong { (ctx.t(&format!("attention.{}.title", first.kind))) }
                                    @if group.len() > 1 { " " span.muted { (mamori_i18n::tf(ctx.lang, "dashboard.n_items", &[("n", &group.len())])) } }
                                    ul.subjects {
                                        @for a in group.iter() {
                                            li {
                                                @if let Some(id) = a.asset_id {
                                                    a href={ "/assets/" (id) } { (a.subject) }
                                                } @else { (a.subject) }
                                                @if let Some(f) = &a.fact { span.muted { " (" (f) ")" } }
                                            }
                                        }
                                    }
                                    p.advice { (ctx.t(&format!("attention.{}.advice", first.kind))) }
                                }
                            }
                            }
                        }
                    }
                }
            }
            div {
                section.panel {
                    h2 { (ctx.t("dashboard.by_kind")) }
                    table.bars {
                        @for (kind, n) in &counts.by_kind {
                            tr {
                                th { a href={ "/assets?kind=" (kind) } { (ctx.t(&format!("asset_kind.{kind}"))) } }
                                td.n { (n) }
                                td { meter min="0" max=(max_kind) value=(n) {} }
                            }
                        }
                    }
                }
                @if scope.is_none() {
                section.panel {
                    h2 { (ctx.t("dashboard.by_segment")) }
                    table.bars {
                        @for (seg, n) in &counts.by_segment {
                            tr {
                                @match seg.and_then(|id| segments.iter().find(|s| s.id == id)) {
                                    Some(s) => th { a href={ "/assets?segment=" (s.id) } { (s.name) } span.muted { " " (s.cidr.as_deref().unwrap_or("")) } },
                                    None => th.muted { (ctx.t("dashboard.no_segment")) },
                                }
                                td.n { (n) }
                                td { meter min="0" max=(counts.assets.max(1)) value=(n) {} }
                            }
                        }
                    }
                }
                }
            }
        }
    };
    layout(&ctx, &name, ctx.t("dashboard.title"), body)
}

// ---------------------------------------------------------------------------------------------
// Asset list

const PAGE_SIZE: i64 = 50;

#[derive(Deserialize, Default)]
struct ListParams {
    q: Option<String>,
    kind: Option<String>,
    segment: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<i64>,
}

impl ListParams {
    fn query_string(&self, sort: Option<&str>, dir: Option<&str>, page: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [("q", &self.q), ("kind", &self.kind), ("segment", &self.segment)] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        }
        if let Some(s) = sort.or(self.sort.as_deref()) {
            parts.push(format!("sort={}", urlencode(s)));
        }
        if let Some(d) = dir.or(self.dir.as_deref()) {
            parts.push(format!("dir={}", urlencode(d)));
        }
        if let Some(p) = page {
            parts.push(format!("page={p}"));
        }
        format!("/assets?{}", parts.join("&"))
    }
}

async fn asset_list(State(state): State<AppState>, ctx: Ctx, Query(p): Query<ListParams>) -> Response {
    let sort = p.sort.as_deref().and_then(AssetSort::parse).unwrap_or_default();
    let descending = p.dir.as_deref() == Some("desc");
    let page = p.page.unwrap_or(1).clamp(1, 1_000_000);
    let kind = p.kind.as_deref().filter(|k| !k.is_empty()).and_then(|k| k.parse::<AssetKind>().ok());
    let segment_id = p.segment.as_deref().and_then(|s| s.parse::<Id>().ok());
    let query = AssetQuery {
        q: p.q.clone(),
        kind,
        segment_id,
        vendor_scope: ctx.vendor_scope(),
        sort,
        descending,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let result = tryr!(ctx, state.store.list_assets(&query).await);
    let segments = tryr!(ctx, state.store.list_segments().await);
    let pages = (result.total + PAGE_SIZE - 1) / PAGE_SIZE;
    let name = facility_name(&state).await;
    let sort_link = |s: AssetSort, key: &str| {
        let next_dir = if s == sort && !descending { "desc" } else { "asc" };
        let arrow = if s == sort { if descending { " ▼" } else { " ▲" } } else { "" };
        html! { a href=(p.query_string(Some(s.code()), Some(next_dir), None)) { (ctx.t(key)) (arrow) } }
    };
    let body = html! {
        div.titlebar {
            h1 { (ctx.t("assets.title")) }
            div.actions {
                @if ctx.user.role != Role::Vendor {
                    a.button href="/assets/export.xlsx" id="export-xlsx" download { (ctx.t("export_page.xlsx")) }
                    a.button href="/assets/export.csv" id="export-csv" download { (ctx.t("export_page.csv")) }
                }
                @if ctx.user.role.can_edit() {
                    a.button href="/import" id="import-link" { (ctx.t("import_page.nav")) }
                    a.button.primary href="/assets/new" { (ctx.t("assets.add")) }
                }
            }
        }
        form.filters method="get" action="/assets" role="search" {
            input type="search" name="q" value=(p.q.clone().unwrap_or_default())
                placeholder=(ctx.t("assets.search_placeholder")) aria-label=(ctx.t("assets.search"));
            select name="kind" aria-label=(ctx.t("field.kind")) data-autosubmit {
                option value="" { (ctx.t("assets.all_kinds")) }
                @for k in AssetKind::ALL {
                    option value=(k.code()) selected[kind == Some(*k)] { (ctx.t(&k.label_key())) }
                }
            }
            @if ctx.vendor_scope().is_none() {
            select name="segment" aria-label=(ctx.t("field.segment")) data-autosubmit {
                option value="" { (ctx.t("assets.all_segments")) }
                @for s in &segments {
                    option value=(s.id) selected[segment_id == Some(s.id)] { (s.name) }
                }
            }
            }
            button type="submit" { (ctx.t("assets.search")) }
        }
        p.count { (mamori_i18n::tf(ctx.lang, "assets.count", &[("n", &result.total)])) }
        table.list id="asset-table" {
            thead { tr {
                th { (sort_link(AssetSort::Name, "field.name")) }
                th { (sort_link(AssetSort::Kind, "field.kind")) }
                th { (sort_link(AssetSort::Ip, "field.ip")) }
                th { (sort_link(AssetSort::Os, "field.os")) }
                th { (sort_link(AssetSort::Location, "field.location")) }
                th { (sort_link(AssetSort::Department, "field.department")) }
                th { (sort_link(AssetSort::LastSeen, "field.last_seen")) }
            } }
            tbody {
                @for a in &result.items {
                    tr {
                        td { a href={ "/assets/" (a.id) } { (a.data.name) } }
                        td { (ctx.t(&a.data.kind.label_key())) }
                        td.mono { (a.data.primary_ip().unwrap_or("—")) }
                        td { (os_text(&a.data)) }
                        td { (opt(&a.data.location)) }
                        td { (opt(&a.data.department)) }
                        td.mono { (a.data.last_seen.as_deref().map(jst).unwrap_or_else(|| "—".into())) }
                    }
                }
            }
        }
        @if pages > 1 {
            nav.pager {
                @if page > 1 { a href=(p.query_string(None, None, Some(page - 1))) { "‹ " (ctx.t("pager.prev")) } }
                span { (page) " / " (pages) }
                @if page < pages { a href=(p.query_string(None, None, Some(page + 1))) { (ctx.t("pager.next")) " ›" } }
            }
        }
    };
    layout(&ctx, &name, ctx.t("assets.title"), body)
}

fn os_text(d: &AssetData) -> String {
    let s = [d.os.as_deref(), d.os_version.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if s.is_empty() { "—".into() } else { s }
}

// ---------------------------------------------------------------------------------------------
// Asset detail

async fn asset_detail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>) -> Response {
    let asset = tryr!(ctx, state.store.get_asset(id, ctx.vendor_scope()).await);
    let segments = tryr!(ctx, state.store.list_segments().await);
    let contracts = tryr!(ctx, state.store.list_contracts().await);
    let vendors = tryr!(ctx, state.store.list_vendors().await);
    let history = if matches!(ctx.user.role, Role::Admin | Role::Manager) {
        tryr!(ctx, state.store.list_audit(&AuditFilter { entity: Some("asset".into()), entity_id: Some(id), limit: 20, ..Default::default() }).await)
    } else {
        Vec::new()
    };
    let sources = if ctx.vendor_scope().is_none() {
        tryr!(ctx, state.store.asset_sources(id).await)
    } else {
        Vec::new()
    };
    let name = facility_name(&state).await;
    let d = &asset.data;
    let covering: Vec<(&mamori_model::Contract, Option<&Vendor>)> = contracts
        .iter()
        .filter(|c| c.asset_ids.contains(&id))
        .filter(|c| ctx.vendor_scope().is_none_or(|v| c.vendor_id == v))
        .map(|c| (c, vendors.iter().find(|v| v.id == c.vendor_id)))
        .collect();
    let yes_no = |b: Option<bool>| match b {
        Some(true) => ctx.t("common.yes"),
        Some(false) => ctx.t("common.no"),
        None => ctx.t("common.unknown"),
    };
    let body = html! {
        div.titlebar {
            h1 { (d.name) " " span.muted { (ctx.t(&d.kind.label_key())) } }
            @if ctx.user.role.can_edit() {
                div.actions {
                    a.button href={ "/assets/" (id) "/edit" } id="edit-asset" { (ctx.t("common.edit")) }
                    form method="post" action={ "/assets/" (id) "/delete" } data-confirm=(ctx.t("assets.confirm_delete")) {
                        input type="hidden" name="csrf" value=(ctx.csrf);
                        button.danger type="submit" { (ctx.t("common.delete")) }
                    }
                }
            }
        }
        div.grid2 {
            section.panel {
                h2 { (ctx.t("assets.basic")) }
                dl.fields {
                    dt { (ctx.t("field.vendor")) } dd { (opt(&d.vendor)) }
                    dt { (ctx.t("field.product")) } dd { (opt(&d.product)) }
                    dt { (ctx.t("field.model")) } dd { (opt(&d.model)) }
                    dt { (ctx.t("field.os")) } dd { (opt(&d.os)) }
                    dt { (ctx.t("field.os_version")) } dd { (opt(&d.os_version)) }
                    dt { (ctx.t("field.serial")) } dd { (opt(&d.serial)) }
                    dt { (ctx.t("field.location")) } dd { (opt(&d.location)) }
                    dt { (ctx.t("field.department")) } dd { (opt(&d.department)) }
                    dt { (ctx.t("field.owner")) } dd { (opt(&d.owner)) }
                    dt { (ctx.t("field.criticality")) } dd { (ctx.t(&d.criticality.label_key())) }
                    dt { (ctx.t("field.internet_facing")) } dd { (yes_no(Some(d.internet_facing))) }
                    dt { (ctx.t("field.endpoint_protection")) } dd { (yes_no(d.endpoint_protection)) }
                    dt { (ctx.t("field.last_seen")) } dd { (d.last_seen.as_deref().map(jst).unwrap_or_else(|| "—".into())) }
                    dt { (ctx.t("field.updated_at")) } dd { (jst(&asset.updated_at)) }
                    @for (k, v) in &d.attributes { dt { (mamori_i18n::attr_label(ctx.lang, k)) } dd { (v) } }
                }
                @if let Some(n) = &d.notes { h3 { (ctx.t("field.notes")) } p.notes { (n) } }
            }
            div {
                section.panel {
                    h2 { (ctx.t("assets.interfaces")) }
                    @if d.interfaces.is_empty() { p.muted { (ctx.t("common.none")) } } @else {
                        table.list { thead { tr { th { (ctx.t("field.interface")) } th { (ctx.t("field.ip")) } th { (ctx.t("field.mac")) } th { (ctx.t("field.segment")) } } }
                            tbody { @for i in &d.interfaces { tr {
                                td { (opt(&i.name)) } td.mono { (opt(&i.ip)) } td.mono { (opt(&i.mac)) }
                                td { (i.segment_id.and_then(|s| segments.iter().find(|x| x.id == s)).map(|s| s.name.as_str()).unwrap_or("—")) }
                            } } }
                        }
                    }
                }
                section.panel {
                    h2 { (ctx.t("assets.software")) }
                    @if d.software.is_empty() { p.muted { (ctx.t("common.none")) } } @else {
                        table.list { thead { tr { th { (ctx.t("field.name")) } th { (ctx.t("field.version")) } th { "CPE" } } }
                            tbody { @for s in &d.software { tr { td { (s.name) } td { (opt(&s.version)) } td.mono.small { (opt(&s.cpe)) } } } }
                        }
                    }
                }
                section.panel {
                    h2 { (ctx.t("assets.contracts")) }
                    @if covering.is_empty() { p.muted { (ctx.t("assets.no_contract")) } } @else {
                        ul { @for (c, v) in &covering { li {
                            strong { (v.map(|v| v.name.as_str()).unwrap_or("?")) } " — " (c.title)
                            @if c.remote_maintenance { " " (badge("medium", ctx.t("assets.remote_maintenance"))) }
                        } } }
                    }
                }
                @if !history.is_empty() {
                    section.panel {
                        h2 { (ctx.t("assets.history")) }
                        ul.history { @for e in &history { li {
                            span.mono { (jst(&e.at)) } " " (e.actor) " — " (ctx.t(&format!("action.{}", e.action)))
                        } } }
                    }
                }
            }
        }
        @if ctx.vendor_scope().is_none() {
            section.panel id="asset-sources" {
                h2 { (ctx.t("sources.title")) }
                @if sources.is_empty() { p.muted { (ctx.t("sources.none")) } } @else {
                    table.list {
                        thead { tr { th { (ctx.t("sources.at")) } th { (ctx.t("sources.kind")) } th { (ctx.t("sources.file")) } th { (ctx.t("sources.reason")) } th { (ctx.t("sources.changes")) } } }
                        tbody { @for s in &sources { tr {
                            td.mono.nowrap { (jst(&s.at)) br; span.muted.small { (s.actor) } }
                            td { (ctx.t(&format!("source_kind.{}", s.kind))) }
                            td.small { (s.file_name) ":" (s.line) }
                            td { (ctx.t(&format!("match_reason.{}", s.match_reason))) }
                            td { (changed_fields(&ctx, &s.changes)) }
                        } } }
                    }
                }
            }
        }
    };
    layout(&ctx, &name, &d.name, body)
}

/// The fields an import changed, by their labels.
fn changed_fields(ctx: &Ctx, changes: &serde_json::Value) -> String {
    let names: Vec<String> = changes
        .as_object()
        .map(|m| {
            m.keys()
                .map(|k| {
                    let key = format!("field.{k}");
                    if mamori_i18n::has(&key) { ctx.t(&key).to_owned() } else { k.clone() }
                })
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() { "—".to_owned() } else { names.join("、") }
}

// ---------------------------------------------------------------------------------------------
// Asset create / edit

/// How many interface rows the form offers.
const FORM_INTERFACES: usize = 3;

fn asset_form(ctx: &Ctx, action: &str, d: &AssetData, segments: &[Segment], error: Option<&str>) -> Markup {
    let text = |name: &str, key: &str, value: &Option<String>| html! {
        label { (ctx.t(key)) input type="text" name=(name) value=(value.clone().unwrap_or_default()) maxlength="500"; }
    };
    html! {
        @if let Some(e) = error { p.alert.error role="alert" { (e) } }
        form.edit method="post" action=(action) {
            input type="hidden" name="csrf" value=(ctx.csrf);
            fieldset {
                legend { (ctx.t("assets.basic")) }
                label { (ctx.t("field.name")) input type="text" name="name" value=(d.name) required maxlength="200"; }
                label { (ctx.t("field.kind"))
                    select name="kind" { @for k in AssetKind::ALL { option value=(k.code()) selected[d.kind == *k] { (ctx.t(&k.label_key())) } } }
                }
                (text("vendor", "field.vendor", &d.vendor))
                (text("product", "field.product", &d.product))
                (text("model", "field.model", &d.model))
                (text("os", "field.os", &d.os))
                (text("os_version", "field.os_version", &d.os_version))
                (text("serial", "field.serial", &d.serial))
                (text("location", "field.location", &d.location))
                (text("department", "field.department", &d.department))
                (text("owner", "field.owner", &d.owner))
                label { (ctx.t("field.criticality"))
                    select name="criticality" { @for c in Criticality::ALL { option value=(c.code()) selected[d.criticality == *c] { (ctx.t(&c.label_key())) } } }
                }
                label { (ctx.t("field.endpoint_protection"))
                    select name="endpoint_protection" {
                        option value="" selected[d.endpoint_protection.is_none()] { (ctx.t("common.unknown")) }
                        option value="yes" selected[d.endpoint_protection == Some(true)] { (ctx.t("common.yes")) }
                        option value="no" selected[d.endpoint_protection == Some(false)] { (ctx.t("common.no")) }
                    }
                }
                label.check { input type="checkbox" name="internet_facing" value="1" checked[d.internet_facing]; (ctx.t("field.internet_facing")) }
                label.wide { (ctx.t("field.notes")) textarea name="notes" rows="3" maxlength="4000" { (d.notes.clone().unwrap_or_default()) } }
            }
            fieldset {
                legend { (ctx.t("assets.interfaces")) }
                table.form-table {
                    thead { tr { th { (ctx.t("field.interface")) } th { (ctx.t("field.ip")) } th { (ctx.t("field.mac")) } th { (ctx.t("field.segment")) } } }
                    tbody {
                        @for n in 0..FORM_INTERFACES.max(d.interfaces.len() + 1).min(mamori_model::MAX_INTERFACES) {
                            @let i = d.interfaces.get(n);
                            tr {
                                td { input type="text" name={ "if" (n) "_name" } value=(i.and_then(|i| i.name.clone()).unwrap_or_default()) aria-label=(ctx.t("field.interface")); }
                                td { input type="text" name={ "if" (n) "_ip" } value=(i.and_then(|i| i.ip.clone()).unwrap_or_default()) aria-label=(ctx.t("field.ip")); }
                                td { input type="text" name={ "if" (n) "_mac" } value=(i.and_then(|i| i.mac.clone()).unwrap_or_default()) aria-label=(ctx.t("field.mac")); }
                                td { select name={ "if" (n) "_segment" } aria-label=(ctx.t("field.segment")) {
                                    option value="" { "—" }
                                    @for s in segments { option value=(s.id) selected[i.and_then(|i| i.segment_id) == Some(s.id)] { (s.name) } }
                                } }
                            }
                        }
                    }
                }
                @if !d.software.is_empty() { p.muted { (mamori_i18n::tf(ctx.lang, "assets.software_kept", &[("n", &d.software.len())])) } }
            }
            div.actions { button.primary type="submit" { (ctx.t("common.save")) } a.button href="/assets" { (ctx.t("common.cancel")) } }
        }
    }
}

/// Reads the asset form over `base` (what is not on the form, such as software, is kept).
fn read_asset_form(form: &HashMap<String, String>, base: &AssetData) -> Result<AssetData, (&'static str, &'static str)> {
    let s = |k: &str| form.get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut d = base.clone();
    d.name = s("name").unwrap_or_default();
    d.kind = s("kind").and_then(|k| k.parse().ok()).ok_or(("kind", "invalid"))?;
    d.vendor = s("vendor");
    d.product = s("product");
    d.model = s("model");
    d.os = s("os");
    d.os_version = s("os_version");
    d.serial = s("serial");
    d.location = s("location");
    d.department = s("department");
    d.owner = s("owner");
    d.notes = s("notes");
    d.criticality = s("criticality").and_then(|c| c.parse().ok()).ok_or(("criticality", "invalid"))?;
    d.internet_facing = s("internet_facing").is_some();
    d.endpoint_protection = match s("endpoint_protection").as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    let mut interfaces = Vec::new();
    for n in 0..mamori_model::MAX_INTERFACES {
        let (name, ip, mac, seg) = (
            s(&format!("if{n}_name")),
            s(&format!("if{n}_ip")),
            s(&format!("if{n}_mac")),
            s(&format!("if{n}_segment")),
        );
        if !form.contains_key(&format!("if{n}_ip")) {
            break;
        }
        if name.is_none() && ip.is_none() && mac.is_none() && seg.is_none() {
            continue;
        }
        let segment_id = match seg {
            Some(v) => Some(v.parse::<Id>().map_err(|_| ("segment", "invalid"))?),
            None => None,
        };
        interfaces.push(Interface { name, ip, mac, segment_id });
    }
    d.interfaces = interfaces;
    Ok(d)
}

async fn asset_new(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) { return r; }
    let segments = tryr!(ctx, state.store.list_segments().await);
    let name = facility_name(&state).await;
    let body = html! {
        h1 { (ctx.t("assets.add")) }
        (asset_form(&ctx, "/assets", &AssetData::new("", AssetKind::Pc), &segments, None))
    };
    layout(&ctx, &name, ctx.t("assets.add"), body)
}

async fn asset_edit(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) { return r; }
    let asset = tryr!(ctx, state.store.get_asset(id, None).await);
    let segments = tryr!(ctx, state.store.list_segments().await);
    let name = facility_name(&state).await;
    let body = html! {
        h1 { (ctx.t("assets.edit")) ": " (asset.data.name) }
        (asset_form(&ctx, &format!("/assets/{id}"), &asset.data, &segments, None))
    };
    layout(&ctx, &name, ctx.t("assets.edit"), body)
}

/// Re-shows the form with the problem, keeping what the user typed.
async fn form_error(state: &AppState, ctx: &Ctx, action: &str, d: &AssetData, msg: &str) -> Response {
    let segments = state.store.list_segments().await.unwrap_or_default();
    let name = facility_name(state).await;
    let body = html! { h1 { (ctx.t("assets.edit")) } (asset_form(ctx, action, d, &segments, Some(msg))) };
    let mut r = layout(ctx, &name, ctx.t("assets.edit"), body);
    *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    r
}

fn invalid_message(lang: Lang, field: &str, reason: &str) -> String {
    mamori_i18n::tf(lang, "error.invalid", &[
        ("field", &mamori_i18n::t(lang, &format!("field.{field}"))),
        ("reason", &mamori_i18n::t(lang, &format!("reason.{reason}"))),
    ])
}

async fn save_asset(state: &AppState, ctx: &Ctx, id: Option<Id>, form: HashMap<String, String>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) { return r; }
    if let Err(r) = ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or("")) { return r; }
    let base = match id {
        Some(id) => tryr!(ctx, state.store.get_asset(id, None).await).data,
        None => AssetData::new("", AssetKind::Unknown),
    };
    let action = id.map(|i| format!("/assets/{i}")).unwrap_or_else(|| "/assets".into());
    let data = match read_asset_form(&form, &base) {
        Ok(d) => d,
        Err((f, r)) => return form_error(state, ctx, &action, &base, &invalid_message(ctx.lang, f, r)).await,
    };
    let result = match id {
        Some(id) => state.store.update_asset(&ctx.actor(), id, &data).await,
        None => state.store.create_asset(&ctx.actor(), &data).await,
    };
    match result {
        Ok(a) => Redirect::to(&format!("/assets/{}", a.id)).into_response(),
        Err(e @ (StoreError::Invalid(_) | StoreError::Missing { entity: "segment", .. })) => {
            form_error(state, ctx, &action, &data, &e.localized(ctx.lang)).await
        }
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn asset_create(State(state): State<AppState>, ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> Response {
    save_asset(&state, &ctx, None, form).await
}

async fn asset_update(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(form): Form<HashMap<String, String>>) -> Response {
    save_asset(&state, &ctx, Some(id), form).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn asset_delete(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) { return r; }
    if let Err(r) = ctx.check_csrf(&f.csrf) { return r; }
    tryr!(ctx, state.store.delete_asset(&ctx.actor(), id).await);
    Redirect::to("/assets").into_response()
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[derive(Deserialize)]
struct AuditParams {
    entity: Option<String>,
    actor: Option<String>,
    page: Option<i64>,
}

fn audit_link(p: &AuditParams, page: i64) -> String {
    let mut link = format!("/audit?page={page}");
    for (k, v) in [("entity", &p.entity), ("actor", &p.actor)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            link.push_str(&format!("&{k}={}", urlencode(v)));
        }
    }
    link
}

async fn audit_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<AuditParams>) -> Response {
    if let Err(r) = ctx.require(matches!(ctx.user.role, Role::Admin | Role::Manager)) { return r; }
    let page = p.page.unwrap_or(1).clamp(1, 1_000_000);
    let filter = AuditFilter {
        entity: p.entity.clone().filter(|s| !s.is_empty()),
        entity_id: None,
        actor: p.actor.clone().filter(|s| !s.is_empty()),
        limit: 100,
        offset: (page - 1) * 100,
    };
    let entries = tryr!(ctx, state.store.list_audit(&filter).await);
    let verified = state.store.verify_audit().await;
    let name = facility_name(&state).await;
    let body = html! {
        h1 { (ctx.t("audit.title")) }
        @match &verified {
            Ok(n) => p.alert.ok { (mamori_i18n::tf(ctx.lang, "audit.intact", &[("n", n)])) },
            Err(e) => p.alert.error role="alert" { (ctx.t("audit.broken")) " " (e.localized(ctx.lang)) },
        }
        form.filters method="get" action="/audit" {
            select name="entity" aria-label=(ctx.t("audit.entity")) data-autosubmit {
                option value="" { (ctx.t("audit.all_entities")) }
                @for e in ["asset", "import", "discovered", "stocktake", "segment", "facility", "user", "api_token", "vendor", "contract", "account"] {
                    option value=(e) selected[p.entity.as_deref() == Some(e)] { (ctx.t(&format!("entity.{e}"))) }
                }
            }
            input type="text" name="actor" value=(p.actor.clone().unwrap_or_default()) placeholder=(ctx.t("audit.actor")) aria-label=(ctx.t("audit.actor"));
            button type="submit" { (ctx.t("assets.search")) }
        }
        table.list id="audit-table" {
            thead { tr { th { "#" } th { (ctx.t("audit.at")) } th { (ctx.t("audit.actor")) } th { (ctx.t("audit.action")) } th { (ctx.t("audit.entity")) } th { (ctx.t("audit.detail")) } } }
            tbody {
                @for e in &entries {
                    tr {
                        td.mono { (e.seq) }
                        td.mono { (jst(&e.at)) }
                        td { (e.actor) }
                        td { (ctx.t(&format!("action.{}", e.action))) }
                        td {
                            (ctx.t(&format!("entity.{}", e.entity)))
                            @if let Some(id) = e.entity_id {
                                @if e.entity == "asset" { " " a href={ "/assets/" (id) } { "#" (id) } } @else { " #" (id) }
                            }
                        }
                        td.detail { (audit_detail(&ctx, &e.detail)) }
                    }
                }
            }
        }
        nav.pager {
            @if page > 1 { a href=(audit_link(&p, page - 1)) { "‹ " (ctx.t("pager.prev")) } }
            @if entries.len() == 100 { a href=(audit_link(&p, page + 1)) { (ctx.t("pager.next")) " ›" } }
        }
    };
    layout(&ctx, &name, ctx.t("audit.title"), body)
}

/// An audit entry's detail for people: changed fields as "field: old → new", other facts as
/// "key: value". Field names come from the catalog when they are asset fields.
fn audit_detail(ctx: &Ctx, detail: &str) -> Markup {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(detail) else {
        return html! { code { (detail) } };
    };
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let label = |k: &str| {
        let key = format!("field.{k}");
        if mamori_i18n::has(&key) { ctx.t(&key).to_owned() } else { k.to_owned() }
    };
    html! {
        ul.changes {
            @for (k, v) in &map {
                @if k == "changes" {
                    @if let serde_json::Value::Object(changes) = v {
                        @for (field, pair) in changes {
                            li {
                                strong { (label(field)) } ": "
                                span.old { (pair.get(0).map(show).unwrap_or_default()) }
                                " → "
                                span.new { (pair.get(1).map(show).unwrap_or_default()) }
                            }
                        }
                    }
                } @else {
                    li { span.muted { (label(k)) ": " } (show(v)) }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Users and API tokens

async fn users_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    users_view(&state, &ctx, None, None).await
}

async fn users_view(state: &AppState, ctx: &Ctx, error: Option<String>, new_token: Option<String>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_administer()) { return r; }
    let users = tryr!(ctx, state.store.list_users().await);
    let vendors = tryr!(ctx, state.store.list_vendors().await);
    let tokens = tryr!(ctx, state.store.list_api_tokens().await);
    let name = facility_name(state).await;
    let user_name = |id: Id| users.iter().find(|u| u.id == id).map(|u| u.username.clone()).unwrap_or_default();
    let body = html! {
        h1 { (ctx.t("users.title")) }
        @if let Some(e) = &error { p.alert.error role="alert" { (e) } }
        @if let Some(tok) = &new_token {
            div.alert.ok { p { (ctx.t("tokens.created")) } code id="new-token" { (tok) } }
        }
        table.list id="user-table" {
            thead { tr { th { (ctx.t("login.username")) } th { (ctx.t("users.display_name")) } th { (ctx.t("users.role")) } th { (ctx.t("users.vendor")) } th { (ctx.t("users.state")) } th {} } }
            tbody { @for u in &users { (user_row(ctx, u, &vendors)) } }
        }
        section.add-user {
            form.edit method="post" action="/users" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                fieldset {
                    legend { (ctx.t("users.add")) }
                    label { (ctx.t("login.username")) input type="text" name="username" required maxlength="64" pattern="[A-Za-z0-9._@-]+"; }
                    label { (ctx.t("users.display_name")) input type="text" name="display_name" maxlength="100"; }
                    label { (ctx.t("users.role")) select name="role" { @for r in Role::ALL { option value=(r.code()) selected[*r == Role::Viewer] { (ctx.t(&r.label_key())) } } } }
                    label { (ctx.t("users.vendor")) select name="vendor_id" { option value="" { "—" } @for v in &vendors { option value=(v.id) { (v.name) } } } }
                    label { (ctx.t("login.password")) input type="password" name="password" required minlength="10" autocomplete="new-password"; }
                }
                div.actions { button.primary type="submit" { (ctx.t("users.add")) } }
            }
        }
        section.panel {
            h2 { (ctx.t("tokens.title")) }
            p.muted { (ctx.t("tokens.help")) }
            table.list {
                thead { tr { th { "#" } th { (ctx.t("tokens.name")) } th { (ctx.t("login.username")) } th { (ctx.t("audit.at")) } th { (ctx.t("users.state")) } th {} } }
                tbody { @for t in &tokens { tr {
                    td { (t.id) } td { (t.name) } td { (user_name(t.user_id)) } td.mono { (jst(&t.created_at)) }
                    td { @if t.revoked { (badge("low", ctx.t("tokens.revoked"))) } @else { (badge("ok", ctx.t("tokens.active"))) } }
                    td { @if !t.revoked {
                        form method="post" action={ "/tokens/" (t.id) "/revoke" } data-confirm=(ctx.t("tokens.confirm_revoke")) {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.link type="submit" { (ctx.t("tokens.revoke")) }
                        }
                    } }
                } } }
            }
            form.inline method="post" action="/tokens" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                input type="text" name="name" required maxlength="100" placeholder=(ctx.t("tokens.name")) aria-label=(ctx.t("tokens.name"));
                button type="submit" { (ctx.t("tokens.create")) }
            }
        }
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut r = layout(ctx, &name, ctx.t("users.title"), body);
    *r.status_mut() = status;
    r
}

fn user_row(ctx: &Ctx, u: &User, vendors: &[Vendor]) -> Markup {
    html! {
        tr {
            td { (u.username) }
            td { (u.display_name.as_deref().unwrap_or("—")) }
            td { (ctx.t(&u.role.label_key())) }
            td { (u.vendor_id.and_then(|v| vendors.iter().find(|x| x.id == v)).map(|v| v.name.as_str()).unwrap_or("—")) }
            td { @if u.disabled { (badge("low", ctx.t("users.disabled"))) } @else { (badge("ok", ctx.t("users.enabled"))) } }
            td { @if u.id != ctx.user.id {
                form method="post" action={ "/users/" (u.id) "/state" } {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="disabled" value=(if u.disabled { "0" } else { "1" });
                    button.link type="submit" { (if u.disabled { ctx.t("users.enable") } else { ctx.t("users.disable") }) }
                }
            } }
        }
    }
}

#[derive(Deserialize)]
struct NewUserForm {
    csrf: String,
    username: String,
    display_name: Option<String>,
    role: String,
    vendor_id: Option<String>,
    password: String,
}

async fn user_create(State(state): State<AppState>, ctx: Ctx, Form(f): Form<NewUserForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_administer()) { return r; }
    if let Err(r) = ctx.check_csrf(&f.csrf) { return r; }
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(_) => return users_view(&state, &ctx, Some(invalid_message(ctx.lang, "role", "invalid")), None).await,
    };
    let vendor_id = f.vendor_id.as_deref().and_then(|v| v.parse::<Id>().ok()).filter(|_| role == Role::Vendor);
    let display = f.display_name.as_deref().map(str::trim).filter(|s| !s.is_empty());
    match state.store.create_user(&ctx.actor(), f.username.trim(), display, role, vendor_id, &f.password).await {
        Ok(_) => Redirect::to("/users").into_response(),
        Err(e @ (StoreError::Invalid(_) | StoreError::Conflict(_) | StoreError::Missing { .. })) => {
            users_view(&state, &ctx, Some(e.localized(ctx.lang)), None).await
        }
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

#[derive(Deserialize)]
struct UserStateForm {
    csrf: String,
    disabled: String,
}

async fn user_state(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(f): Form<UserStateForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_administer()) { return r; }
    if let Err(r) = ctx.check_csrf(&f.csrf) { return r; }
    if id == ctx.user.id {
        return views::error_page(ctx.lang, StatusCode::CONFLICT, "users.cannot_disable_self");
    }
    tryr!(ctx, state.store.set_user_disabled(&ctx.actor(), id, f.disabled == "1").await);
    Redirect::to("/users").into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    csrf: String,
    name: String,
}

async fn token_create(State(state): State<AppState>, ctx: Ctx, Form(f): Form<TokenForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_administer()) { return r; }
    if let Err(r) = ctx.check_csrf(&f.csrf) { return r; }
    match state.store.create_api_token(&ctx.actor(), ctx.user.id, f.name.trim()).await {
        Ok((_, secret)) => users_view(&state, &ctx, None, Some(secret)).await,
        Err(e @ StoreError::Invalid(_)) => users_view(&state, &ctx, Some(e.localized(ctx.lang)), None).await,
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn token_revoke(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_administer()) { return r; }
    if let Err(r) = ctx.check_csrf(&f.csrf) { return r; }
    tryr!(ctx, state.store.revoke_api_token(&ctx.actor(), id).await);
    Redirect::to("/users").into_response()
}
