//! The unregistered-device queue (未登録機器) and the stocktake (棚卸し).
#![allow(clippy::result_large_err)]

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use mamori_i18n::tf;
use mamori_model::{AssetKind, Id, Role};
use mamori_store::{DEFAULT_STOCKTAKE_DAYS, DiscoveredDevice, StocktakeAsset, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{badge, jst, layout, store_error_page};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/unregistered", get(queue_page))
        .route("/unregistered/{id}/adopt", post(adopt))
        .route("/unregistered/{id}/reject", post(reject))
        .route("/stocktake", get(stocktake_page))
        .route("/stocktake/record", post(record))
}

use crate::views::facility_name;

fn not_vendor(ctx: &Ctx) -> Result<(), Response> {
    ctx.require(ctx.user.role != Role::Vendor)
}

// ---------------------------------------------------------------------------------------------
// Unregistered devices

#[derive(Deserialize, Default)]
struct QueueParams {
    all: Option<String>,
    adopted: Option<Id>,
    rejected: Option<Id>,
}

async fn queue_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<QueueParams>) -> Response {
    queue_view(&state, &ctx, &p, None).await
}

async fn queue_view(state: &AppState, ctx: &Ctx, p: &QueueParams, error: Option<(StatusCode, String)>) -> Response {
    if let Err(r) = not_vendor(ctx) {
        return r;
    }
    let all = p.all.as_deref().is_some_and(|v| !v.is_empty() && v != "0");
    let list = match state.store.list_discovered(if all { None } else { Some("pending") }).await {
        Ok(l) => l,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let name = facility_name(state).await;
    let edit = ctx.user.role.can_edit();
    let body = html! {
        div.titlebar {
            h1 { (ctx.t("unregistered.title")) }
            div.actions {
                @if all {
                    a.button href="/unregistered" { (ctx.t("unregistered_page.show_pending")) }
                } @else {
                    a.button href="/unregistered?all=1" id="show-all" { (ctx.t("unregistered_page.show_all")) }
                }
            }
        }
        p.lead { (ctx.t("unregistered_page.intro")) }
        @if let Some((_, e)) = &error { p.alert.error role="alert" { (e) } }
        @if let Some(id) = p.adopted {
            p.alert.ok role="status" { a href={ "/assets/" (id) } { (tf(ctx.lang, "unregistered_page.asset_link", &[("id", &id)])) } }
        }
        @if let Some(id) = p.rejected {
            p.alert.ok role="status" { (tf(ctx.lang, "unregistered.rejected", &[("id", &id)])) }
        }
        @if list.is_empty() {
            p.muted id="queue-empty" { (ctx.t("unregistered_page.none")) }
        } @else {
            p.count { (tf(ctx.lang, "unregistered_page.count", &[("n", &list.len())])) }
            table.list.queue id="queue-table" {
                thead { tr {
                    th { "#" }
                    th { (ctx.t("unregistered_page.device")) }
                    th { (ctx.t("unregistered_page.seen")) }
                    th { (ctx.t("unregistered.sources")) }
                    @if all { th { (ctx.t("unregistered.status")) } }
                    @if edit { th { (ctx.t("unregistered_page.actions")) } }
                } }
                tbody { @for d in &list { (queue_row(ctx, d, all, edit)) } }
            }
        }
    };
    let mut res = layout(ctx, &name, ctx.t("unregistered.title"), body);
    if let Some((status, _)) = error {
        *res.status_mut() = status;
    }
    res
}

fn queue_row(ctx: &Ctx, d: &DiscoveredDevice, all: bool, edit: bool) -> Markup {
    let proposed = d.proposed_asset();
    html! {
        tr id={ "device-" (d.id) } {
            td.mono { (d.id) }
            td.device {
                dl.compact {
                    dt { (ctx.t("field.ip")) } dd.mono { (d.ip.as_deref().unwrap_or("—")) }
                    dt { (ctx.t("field.mac")) } dd.mono {
                        (d.mac.as_deref().unwrap_or("—"))
                        @if d.randomized_mac() {
                            " " span title=(ctx.t("unregistered_page.randomized_help")) { (badge("check", ctx.t("unregistered_page.randomized"))) }
                        }
                    }
                    dt { (ctx.t("unregistered.mac_vendor")) } dd { (d.mac_vendor.as_deref().unwrap_or("—")) }
                    dt { (ctx.t("unregistered.hostname")) } dd { (d.hostname.as_deref().unwrap_or("—")) }
                }
            }
            td.mono.nowrap {
                span.muted { (ctx.t("unregistered.first_seen")) } " " (jst(&d.first_seen)) br;
                span.muted { (ctx.t("unregistered.last_seen")) } " " (jst(&d.last_seen))
            }
            td { @for (i, s) in d.sources.iter().enumerate() {
                @if i > 0 { br; }
                (ctx.t(&format!("source_kind.{s}")))
            } }
            @if all {
                td {
                    (badge(match d.status.as_str() { "pending" => "medium", "adopted" => "ok", _ => "low" },
                        ctx.t(&format!("unregistered.status_{}", d.status))))
                    @if let Some(id) = d.asset_id {
                        br; a href={ "/assets/" (id) } { (tf(ctx.lang, "unregistered_page.asset_link", &[("id", &id)])) }
                    }
                    @if let (Some(who), Some(at)) = (&d.decided_by, &d.decided_at) {
                        br; span.muted.small { (tf(ctx.lang, "unregistered_page.decided", &[("who", who), ("at", &jst(at))])) }
                    }
                }
            }
            @if edit {
                td.queue-actions {
                    @if d.status == "pending" {
                        form.adopt method="post" action={ "/unregistered/" (d.id) "/adopt" } {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            input type="text" name="name" value=(proposed.name) required maxlength="200"
                                aria-label=(ctx.t("unregistered_page.name")) placeholder=(ctx.t("unregistered_page.name"));
                            select name="kind" aria-label=(ctx.t("unregistered_page.kind")) {
                                @for k in AssetKind::ALL {
                                    option value=(k.code()) selected[proposed.kind == *k] { (ctx.t(&k.label_key())) }
                                }
                            }
                            input type="text" name="owner" maxlength="200"
                                aria-label=(ctx.t("unregistered_page.owner")) placeholder=(ctx.t("unregistered_page.owner"));
                            button.primary type="submit" { (ctx.t("unregistered_page.adopt")) }
                        }
                        form.reject method="post" action={ "/unregistered/" (d.id) "/reject" } {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            input type="text" name="reason" maxlength="500"
                                aria-label=(ctx.t("unregistered_page.reason")) placeholder=(ctx.t("unregistered_page.reason"));
                            button.danger type="submit" { (ctx.t("unregistered_page.reject")) }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct AdoptForm {
    csrf: String,
    name: Option<String>,
    kind: Option<String>,
    owner: Option<String>,
}

fn queue_error(ctx: &Ctx, e: &StoreError) -> Option<(StatusCode, String)> {
    match e {
        StoreError::Invalid(_) => Some((StatusCode::UNPROCESSABLE_ENTITY, e.localized(ctx.lang))),
        StoreError::Conflict(_) => Some((StatusCode::CONFLICT, e.localized(ctx.lang))),
        _ => None,
    }
}

async fn adopt(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(f): Form<AdoptForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) {
        return r;
    }
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    let d = match state.store.get_discovered(id).await {
        Ok(d) => d,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let mut data = d.proposed_asset();
    if let Some(n) = f.name.as_deref().map(str::trim) {
        data.name = n.to_owned();
    }
    if let Some(k) = f.kind.as_deref().and_then(|k| k.parse::<AssetKind>().ok()) {
        data.kind = k;
    }
    if let Some(o) = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty()) {
        data.owner = Some(o.to_owned());
    }
    match state.store.adopt_discovered(&ctx.actor(), id, &data).await {
        Ok(a) => Redirect::to(&format!("/unregistered?adopted={}", a.id)).into_response(),
        Err(e) => match queue_error(&ctx, &e) {
            Some(err) => queue_view(&state, &ctx, &QueueParams::default(), Some(err)).await,
            None => store_error_page(ctx.lang, &e),
        },
    }
}

#[derive(Deserialize)]
struct RejectForm {
    csrf: String,
    reason: Option<String>,
}

async fn reject(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Form(f): Form<RejectForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) {
        return r;
    }
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    match state.store.reject_discovered(&ctx.actor(), id, f.reason.as_deref()).await {
        Ok(()) => Redirect::to(&format!("/unregistered?rejected={id}")).into_response(),
        Err(e) => match queue_error(&ctx, &e) {
            Some(err) => queue_view(&state, &ctx, &QueueParams::default(), Some(err)).await,
            None => store_error_page(ctx.lang, &e),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Stocktake

#[derive(Deserialize, Default)]
struct StocktakeParams {
    days: Option<String>,
    recorded: Option<Id>,
}

/// The window asked for, or the default and a message.
fn parse_days(ctx: &Ctx, raw: Option<&str>) -> (i64, Option<String>) {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => (DEFAULT_STOCKTAKE_DAYS, None),
        Some(v) => match v.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => (d, None),
            _ => (DEFAULT_STOCKTAKE_DAYS, Some(ctx.t("stocktake_page.bad_days").to_owned())),
        },
    }
}

fn asset_items(ctx: &Ctx, items: &[StocktakeAsset], fact: impl Fn(&str) -> String) -> Markup {
    html! {
        @if items.is_empty() {
            p.muted { (ctx.t("stocktake_page.none")) }
        } @else {
            ul.asset-links {
                @for x in items {
                    li {
                        a href={ "/assets/" (x.asset_id) } { (x.name) }
                        @if let Some(f) = x.fact.as_deref().filter(|f| !f.is_empty()) { " " span.muted { "(" (fact(f)) ")" } }
                    }
                }
            }
        }
    }
}

async fn stocktake_page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<StocktakeParams>) -> Response {
    if let Err(r) = not_vendor(&ctx) {
        return r;
    }
    let (days, error) = parse_days(&ctx, p.days.as_deref());
    let today = crate::today_jst();
    let report = match state.store.stocktake(&today, days).await {
        Ok(r) => r,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let history = match state.store.list_stocktakes(20).await {
        Ok(h) => h,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let name = facility_name(&state).await;
    let s = &report.summary;
    let findings = s.findings();
    let section = |id: &str, key: &str, n: u64, body: Markup| html! {
        section.panel.stocktake-section id=(id) {
            h2 { (tf(ctx.lang, key, &[("n", &n)])) }
            (body)
        }
    };
    let body = html! {
        h1 { (ctx.t("stocktake_page.title")) }
        p.lead { (ctx.t("stocktake_page.intro")) }
        @if let Some(e) = &error { p.alert.error role="alert" { (e) } }
        @if let Some(id) = p.recorded {
            p.alert.ok role="status" id="stocktake-recorded" { (tf(ctx.lang, "stocktake.recorded", &[("id", &id)])) }
        }
        div.titlebar {
            form.filters method="get" action="/stocktake" {
                label.inline { (ctx.t("stocktake_page.days")) " "
                    input type="number" name="days" min="1" max="3650" value=(days);
                }
                button type="submit" { (ctx.t("stocktake_page.show")) }
            }
            @if ctx.user.role.can_edit() {
                form.record method="post" action="/stocktake/record" title=(ctx.t("stocktake_page.record_help")) {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="days" value=(days);
                    button.primary type="submit" id="record-stocktake" { (ctx.t("stocktake_page.record")) }
                }
            }
        }
        p.muted { (tf(ctx.lang, "stocktake_page.as_of", &[("date", &report.date), ("days", &report.days)])) }
        section.cards {
            a.card href="/assets" { span.num { (s.assets) } span.label { (ctx.t("stocktake_page.assets")) } }
            div.card.alert-card[findings > 0] id="stocktake-findings" { span.num { (findings) } span.label { (ctx.t("stocktake_page.findings")) } }
            a.card.alert-card[s.unregistered > 0] href="/unregistered" { span.num { (s.unregistered) } span.label { (ctx.t("unregistered_page.dashboard_card")) } }
        }
        div.grid2 {
            div {
                (section("st-not-seen", "stocktake.not_seen", s.not_seen,
                    asset_items(&ctx, &report.not_seen, |f| tf(ctx.lang, "stocktake_page.last_seen", &[("date", &jst(f))]))))
                (section("st-never-seen", "stocktake.never_seen", s.never_seen, asset_items(&ctx, &report.never_seen, str::to_owned)))
                (section("st-eos", "stocktake.eos", s.eos, html! {
                    @if report.eos.is_empty() { p.muted { (ctx.t("stocktake_page.none")) } } @else {
                        table.list {
                            thead { tr { th { (ctx.t("entity.asset")) } th { (ctx.t("stocktake_page.product")) } th { (ctx.t("stocktake_page.reason")) } } }
                            tbody { @for x in &report.eos { tr {
                                td { a href={ "/assets/" (x.asset_id) } { (x.asset_name) } }
                                td { (x.product) }
                                td { (tf(ctx.lang, "stocktake.until", &[("date", &x.until)])) }
                            } } }
                        }
                    }
                }))
                (section("st-accounts", "stocktake.accounts", s.accounts, html! {
                    @if report.accounts.is_empty() { p.muted { (ctx.t("stocktake_page.none")) } } @else {
                        table.list {
                            thead { tr { th { (ctx.t("stocktake_page.account")) } th { (ctx.t("stocktake_page.system")) } th { (ctx.t("stocktake_page.person")) } th { (ctx.t("stocktake_page.reason")) } } }
                            tbody { @for x in &report.accounts { tr {
                                td.mono { (x.username) }
                                td { (x.system.as_deref().unwrap_or("—")) }
                                td { (x.person.as_deref().unwrap_or("—")) }
                                td { (tf(ctx.lang, &format!("stocktake.account_{}", x.reason), &[("date", &x.last_used.as_deref().map(jst).unwrap_or_default())])) }
                            } } }
                        }
                    }
                }))
            }
            div {
                (section("st-unregistered", "stocktake.unregistered", s.unregistered, html! {
                    p { a href="/unregistered" { (ctx.t("stocktake_page.open_queue")) } }
                }))
                (section("st-no-owner", "stocktake.no_owner", s.no_owner, asset_items(&ctx, &report.no_owner, str::to_owned)))
                (section("st-no-segment", "stocktake.no_segment", s.no_segment, asset_items(&ctx, &report.no_segment, str::to_owned)))
                section.panel id="stocktake-history" {
                    h2 { (ctx.t("stocktake_page.history")) }
                    @if history.is_empty() {
                        p.muted { (ctx.t("stocktake_page.history_empty")) }
                    } @else {
                        table.list {
                            thead { tr { th { "#" } th { (ctx.t("stocktake_page.at")) } th { (ctx.t("stocktake_page.actor")) } th { (ctx.t("stocktake_page.days_col")) } th { (ctx.t("stocktake_page.findings_col")) } } }
                            tbody { @for h in &history { tr {
                                td.mono { (h.id) }
                                td.mono { (jst(&h.at)) }
                                td { (h.actor) }
                                td { (tf(ctx.lang, "stocktake_page.days_value", &[("n", &h.days)])) }
                                td { (h.summary.findings()) }
                            } } }
                        }
                    }
                }
            }
        }
    };
    let mut res = layout(&ctx, &name, ctx.t("stocktake_page.title"), body);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

#[derive(Deserialize)]
struct RecordForm {
    csrf: String,
    days: Option<String>,
}

async fn record(State(state): State<AppState>, ctx: Ctx, Form(f): Form<RecordForm>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role.can_edit()) {
        return r;
    }
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    let (days, error) = parse_days(&ctx, f.days.as_deref());
    if error.is_some() {
        return Redirect::to(&format!("/stocktake?days={}", crate::views::urlencode(f.days.as_deref().unwrap_or("")))).into_response();
    }
    let report = match state.store.stocktake(&crate::today_jst(), days).await {
        Ok(r) => r,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    match state.store.record_stocktake(&ctx.actor(), &report).await {
        Ok(id) => Redirect::to(&format!("/stocktake?days={days}&recorded={id}")).into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}
