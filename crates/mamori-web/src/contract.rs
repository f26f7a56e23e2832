//! The responsibility matrix (who acts on each checklist topic: the facility, each vendor) and
//! the clauses for each vendor's maintenance contract, as a page and a printable document.
#![allow(clippy::result_large_err)]

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{DOCTYPE, PreEscaped, html};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{Id, Role};
use mamori_store::contract::VendorClauses;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{badge, layout, store_error_page};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/contract", get(matrix))
        .route("/contract/set", post(set))
        .route("/contract/clauses", get(clauses))
}

#[derive(Deserialize, Default)]
struct Params {
    edition: Option<String>,
    vendor: Option<Id>,
    saved: Option<String>,
    days: Option<u32>,
    kev_days: Option<u32>,
    format: Option<String>,
}

async fn edition(state: &AppState, given: Option<&str>) -> mamori_store::Result<String> {
    Ok(match given.filter(|e| !e.is_empty()) {
        Some(e) => state.store.checklist_edition(e).await?.id,
        None => state.store.latest_checklist_edition().await?.id,
    })
}

async fn matrix(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role != Role::Vendor) {
        return r;
    }
    let ed = match edition(&state, p.edition.as_deref()).await {
        Ok(e) => e,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let m = match state.store.responsibility_matrix(&ed).await {
        Ok(m) => m,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let name = state.store.facility().await.ok().flatten().map(|f| f.name).unwrap_or_default();
    let edit = ctx.user.role.can_edit();
    let body = html! {
        h1 { (ctx.t("contract_page.title")) }
        p.lead { (ctx.t("contract_page.intro")) }
        @if let Some(s) = &p.saved { p.alert.ok role="status" id="matrix-saved" { (tf(ctx.lang, "contract_cli.set", &[("topic", s)])) } }
        div.actions {
            @for v in &m.vendors {
                a.button href={ "/contract/clauses?edition=" (m.edition) "&vendor=" (v.id) } id={ "clauses-" (v.id) } { (tf(ctx.lang, "contract_page.clauses_for", &[("vendor", &v.name)])) }
                a.button href={ "/contract/clauses?edition=" (m.edition) "&vendor=" (v.id) "&format=docx" } { "docx" }
            }
        }
        table.list.matrix id="matrix" {
            thead { tr {
                th { (ctx.t("contract_cli.h_items")) }
                th { (ctx.t("party.facility")) }
                @for v in &m.vendors { th { (v.name) br; span.muted { (ctx.t(&v.kind.label_key())) } } }
                th { (ctx.t("contract_cli.h_na")) }
                th { (ctx.t("contract_cli.h_set")) }
                @if edit { th {} }
            } }
            tbody {
                @for r in &m.rows {
                    @let x = &r.responsibility;
                    @let form_id = format!("set-{}", r.topic);
                    tr id={ "row-" (r.topic) } {
                        td { strong { (r.items.join(", ")) } br; span.muted { (r.text) } }
                        td.center { input type="checkbox" name="facility" value="1" form=(form_id) checked[x.facility] disabled[!edit] aria-label=(ctx.t("party.facility")); }
                        @for v in &m.vendors {
                            td.center { input type="checkbox" name="vendor" value=(v.id) form=(form_id) checked[x.vendor_ids.contains(&v.id)] disabled[!edit] aria-label=(v.name); }
                        }
                        td.center { input type="checkbox" name="not_applicable" value="1" form=(form_id) checked[x.not_applicable] disabled[!edit] aria-label=(ctx.t("contract_cli.h_na")); }
                        td { @if x.default { (badge("check", ctx.t("contract_cli.default"))) } @else { (badge("ok", ctx.t("contract_cli.assigned"))) } }
                        @if edit {
                            td {
                                form method="post" action="/contract/set" id=(form_id) {
                                    input type="hidden" name="csrf" value=(ctx.csrf);
                                    input type="hidden" name="edition" value=(m.edition);
                                    input type="hidden" name="topic" value=(r.topic);
                                    button type="submit" { (ctx.t("checklist_page.save")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    layout(&ctx, &name, ctx.t("contract_page.title"), body)
}

async fn set(State(state): State<AppState>, ctx: Ctx, Form(pairs): Form<Vec<(String, String)>>) -> Response {
    let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    if let Err(r) = ctx.check_edit(&get("csrf").unwrap_or_default()) {
        return r;
    }
    let topic = get("topic").unwrap_or_default();
    let vendors: Vec<Id> = pairs.iter().filter(|(k, _)| k == "vendor").filter_map(|(_, v)| v.parse().ok()).collect();
    let r = state
        .store
        .set_responsibility(&ctx.actor(), &topic, get("facility").is_some(), &vendors, get("not_applicable").is_some(), None)
        .await;
    match r {
        Ok(()) => Redirect::to(&format!(
            "/contract?edition={}&saved={}#row-{}",
            get("edition").unwrap_or_default(),
            topic,
            topic
        ))
        .into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn clauses(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role != Role::Vendor || ctx.user.vendor_id == p.vendor) {
        return r;
    }
    let ed = match edition(&state, p.edition.as_deref()).await {
        Ok(e) => e,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let Some(vendor) = p.vendor else {
        return (StatusCode::BAD_REQUEST, ctx.t("contract_page.pick_vendor").to_owned()).into_response();
    };
    let c = match state.store.contract_clauses(ctx.lang, &ed, vendor, p.days.unwrap_or(30), p.kev_days.unwrap_or(7)).await {
        Ok(c) => c,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    if p.format.as_deref() == Some("docx") {
        return match clauses_docx(ctx.lang, &c) {
            Ok(bytes) => (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"contract-clauses.docx\""),
                ],
                bytes,
            )
                .into_response(),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        };
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], clauses_html(ctx.lang, &c)).into_response()
}

/// The clauses for one vendor as a Word document, to edit into the contract.
pub fn clauses_docx(lang: Lang, c: &VendorClauses) -> Result<Vec<u8>, String> {
    use mamori_ingest::docx::{Block, write_docx};
    let mut blocks = vec![
        Block::Title(tf(lang, "contract_cli.clauses_title", &[("vendor", &c.vendor.name), ("facility", &c.facility)])),
        Block::Note(t(lang, "contract_page.clauses_note").to_owned()),
    ];
    if !c.devices.is_empty() {
        blocks.push(Block::Paragraph(
            None,
            format!("{}：{}", t(lang, "contract_page.devices"), c.devices.join(if lang == Lang::Ja { "、" } else { ", " })),
        ));
    }
    let mut n = 0;
    for g in &c.groups {
        let title = if g.items.is_empty() {
            g.title.clone()
        } else {
            format!("{}（{} {}）", g.title, t(lang, "contract_page.items"), g.items.join(", "))
        };
        blocks.push(Block::Heading(title));
        for clause in &g.clauses {
            n += 1;
            blocks.push(Block::Paragraph(Some(n), clause.clone()));
        }
    }
    write_docx(&blocks)
}

/// The clauses for one vendor as a printable document, to hand over or attach to the contract.
pub fn clauses_html(lang: Lang, c: &VendorClauses) -> String {
    // Clauses are numbered through the document.
    let mut next = 1;
    let groups: Vec<(usize, &mamori_store::contract::ClauseGroup)> = c
        .groups
        .iter()
        .map(|g| {
            let start = next;
            next += g.clauses.len();
            (start, g)
        })
        .collect();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (tf(lang, "contract_cli.clauses_title", &[("vendor", &c.vendor.name), ("facility", &c.facility)])) }
                style { (PreEscaped("@page { size: A4; margin: 18mm; } body { font-family: 'Noto Sans JP', sans-serif; font-size: 10.5pt; line-height: 1.7; } h1 { font-size: 15pt; } h2 { font-size: 12pt; margin-top: 14pt; border-bottom: 1px solid #999; } ol { padding-left: 1.6em; } .muted { color: #555; font-size: 9pt; }")) }
            }
            body {
                h1 { (tf(lang, "contract_cli.clauses_title", &[("vendor", &c.vendor.name), ("facility", &c.facility)])) }
                p.muted { (t(lang, "contract_page.clauses_note")) }
                @if !c.devices.is_empty() {
                    p { strong { (t(lang, "contract_page.devices")) } "：" (c.devices.join(if lang == Lang::Ja { "、" } else { ", " })) }
                }
                @for (start, g) in &groups {
                    h2 id=(g.topic.as_deref().unwrap_or("general")) { (g.title) @if !g.items.is_empty() { " " span.muted { "（" (t(lang, "contract_page.items")) " " (g.items.join(", ")) "）" } } }
                    ol start=(start) {
                        @for clause in &g.clauses { li { (clause) } }
                    }
                }
            }
        }
    }
    .into_string()
}
