//! Vulnerability pages: the dashboard (what to do this week), findings per asset and per
//! maintenance vendor ("what your vendor owes you"), the advisory detail (Japanese JVN text
//! first), status changes with VEX justifications, CPE suggestions to confirm, and the VEX
//! download.
#![allow(clippy::result_large_err)]

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{Id, Role};
use mamori_store::findings::{Finding, FindingFilter, FindingStatus, JUSTIFICATIONS, VulnDetail};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{badge, layout, store_error_page, urlencode};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/vulns", get(dashboard))
        .route("/vulns/vendors", get(by_vendor))
        .route("/vulns/asset/{id}", get(by_asset))
        .route("/vulns/detail/{id}", get(detail))
        .route("/vulns/status", post(set_status))
        .route("/vulns/match", post(rematch))
        .route("/vulns/cpe", post(decide_cpe))
        .route("/vulns/export.vex.json", get(export_vex))
}

#[derive(Deserialize, Default)]
struct Params {
    band: Option<u8>,
    party: Option<String>,
    all: Option<String>,
    saved: Option<String>,
    matched: Option<String>,
}

fn band_badge(lang: Lang, band: u8) -> Markup {
    let class = match band {
        1 => "high",
        2 => "medium",
        3 => "low",
        _ => "check",
    };
    badge(class, &format!("P{band} {}", t(lang, &format!("vuln_page.band_{band}"))))
}

fn status_text(lang: Lang, f: &Finding) -> String {
    if f.gone_at.is_some() { t(lang, "finding_status.gone").to_owned() } else { t(lang, &format!("finding_status.{}", f.status.code())).to_owned() }
}

fn responsible(lang: Lang, f: &Finding) -> String {
    match (&f.responsible.party[..], &f.responsible.vendor_name) {
        ("vendor", Some(n)) => n.clone(),
        _ => t(lang, "party.facility").to_owned(),
    }
}

/// The findings table every page uses.
fn findings_table(ctx: &Ctx, list: &[Finding], today: &str, id: &str) -> Markup {
    let lang = ctx.lang;
    html! {
        table.list id=(id) {
            thead { tr {
                @for k in ["band", "vuln", "asset", "kev", "epss", "cvss", "confidence", "due", "responsible", "status"] {
                    th { (t(lang, &format!("vuln_cli.h_{k}"))) }
                }
            } }
            tbody {
                @for f in list {
                    @let overdue = f.status.is_active() && f.gone_at.is_none() && f.due_date.as_deref().is_some_and(|d| d < today);
                    tr.finding data-vuln=(f.vuln_id) data-asset=(f.asset_id) {
                        td { (band_badge(lang, f.priority.band)) br; span.muted title=(formula(lang, f)) { (format!("{:.1}", f.priority.score)) } }
                        td { a href={ "/vulns/detail/" (f.vuln_id) } { (f.vuln_id) } br; span.muted { (truncate(&f.title, 90)) } }
                        td { a href={ "/vulns/asset/" (f.asset_id) } { (f.asset_name) } }
                        td {
                            @if let Some(k) = &f.kev {
                                (badge("high", "KEV"))
                                @if k.ransomware { " " (badge("high", t(lang, "vuln_page.ransomware"))) }
                            }
                        }
                        td { (f.epss.map(|e| format!("{:.1}%", e * 100.0)).unwrap_or_default()) }
                        td { (f.cvss.map(|c| format!("{c:.1}")).unwrap_or_default()) }
                        td { (f.confidence_score) " " span.muted { (t(lang, &format!("match_confidence.{}", f.confidence.code()))) } }
                        td { @if overdue { (badge("high", t(lang, "vuln_page.overdue"))) " " } (f.due_date.clone().unwrap_or_default()) }
                        td { (responsible(lang, f)) }
                        td { (status_text(lang, f)) }
                    }
                }
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_owned() } else { format!("{}…", s.chars().take(n).collect::<String>()) }
}

/// The priority formula of a finding, in words.
fn formula(lang: Lang, f: &Finding) -> String {
    let terms: Vec<String> = f
        .priority
        .terms
        .iter()
        .map(|x| {
            let key = format!("priority_term.{}", x.code);
            let label = t(lang, &key);
            if x.input == "yes" { format!("{label} {:.1}", x.points) } else { format!("{label}（{}）{:.1}", x.input, x.points) }
        })
        .collect();
    tf(lang, "vuln_page.formula", &[("terms", &terms.join(" + ")), ("weight", &f.priority.confidence_weight), ("score", &format!("{:.1}", f.priority.score))])
}

use crate::views::facility_name;

fn scope(ctx: &Ctx) -> Option<Id> {
    if ctx.user.role == Role::Vendor { ctx.user.vendor_id.or(Some(-1)) } else { None }
}

async fn dashboard(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    let all = p.all.is_some();
    let list = match state.store.list_findings(&FindingFilter { all, vendor_scope: scope(&ctx), ..FindingFilter::default() }).await {
        Ok(l) => l,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let feeds = state.store.feed_status(&crate::today_jst()).await.unwrap_or_default();
    let today = crate::today_jst();
    let active: Vec<&Finding> = list.iter().filter(|f| f.status.is_active() && f.gone_at.is_none()).collect();
    let week_end = crate::attention::today_jst_date().checked_add(jiff::Span::new().days(7)).map(|d| d.to_string()).unwrap_or_default();
    let this_week: Vec<Finding> = active
        .iter()
        .filter(|f| f.priority.band == 1 || f.due_date.as_deref().is_some_and(|d| d <= week_end.as_str()))
        .map(|f| (*f).clone())
        .collect();
    let shown: Vec<Finding> = list
        .iter()
        .filter(|f| p.band.is_none_or(|b| f.priority.band == b))
        .filter(|f| p.party.as_deref().is_none_or(|x| f.responsible.party == x))
        .cloned()
        .collect();
    let count = |b: u8| active.iter().filter(|f| f.priority.band == b).count();
    let kev = active.iter().filter(|f| f.kev.is_some()).count();
    let overdue = active.iter().filter(|f| f.due_date.as_deref().is_some_and(|d| d < today.as_str())).count();
    let edit = ctx.user.role.can_edit();
    let lang = ctx.lang;
    let body = html! {
        h1 { (ctx.t("vuln_page.title")) }
        p.lead { (ctx.t("vuln_page.intro")) }
        @if let Some(m) = &p.matched { p.alert.ok role="status" id="matched" { (m) } }
        @if let Some(s) = &p.saved { p.alert.ok role="status" id="saved" { (s) } }
        div.cards id="vuln-summary" {
            @for b in 1..=4u8 {
                a.card href={ "/vulns?band=" (b) } { span.num { (count(b)) } span.label { (band_badge(lang, b)) } }
            }
            div.card { span.num { (kev) } span.label { (ctx.t("vuln_page.kev_count")) } }
            div.card { span.num { (overdue) } span.label { (ctx.t("vuln_page.overdue_count")) } }
        }
        section id="feeds" {
            h2 { (ctx.t("vuln_page.feeds")) }
            ul.inline {
                @for s in &feeds {
                    li {
                        strong { (t(lang, &format!("feed_kind.{}", s.kind.code()))) } " "
                        @match &s.last_import {
                            Some(d) => { (crate::views::jst(d)) " (" (s.records) ")" }
                            None => { span.muted { (ctx.t("vuln_page.never")) } }
                        }
                        @if s.stale && s.kind.stale_after_days().is_some() { " " (badge("check", ctx.t("feed_cli.stale"))) }
                    }
                }
            }
            @if edit {
                form method="post" action="/vulns/match" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    button type="submit" id="rematch" { (ctx.t("vuln_page.rematch")) }
                }
            }
        }
        section id="this-week" {
            h2 { (ctx.t("vuln_page.this_week")) }
            @if this_week.is_empty() { p.muted { (ctx.t("vuln_page.nothing_this_week")) } }
            @else { (findings_table(&ctx, &this_week, &today, "week-table")) }
        }
        section {
            h2 { (ctx.t("vuln_page.all")) }
            p.actions {
                a href="/vulns" { (ctx.t("vuln_page.filter_active")) } " | "
                a href="/vulns?all=1" { (ctx.t("vuln_page.filter_all")) } " | "
                a href="/vulns?party=facility" { (ctx.t("party.facility")) } " | "
                a href="/vulns?party=vendor" { (ctx.t("vuln_page.vendors")) } " | "
                a href="/vulns/vendors" id="by-vendor" { (ctx.t("vuln_page.by_vendor")) } " | "
                a href="/vulns/export.vex.json" id="vex" { (ctx.t("vuln_page.export_vex")) }
            }
            (findings_table(&ctx, &shown, &today, "findings"))
            p.muted.small { (ctx.t("vuln_page.formula_note")) }
        }
    };
    layout(&ctx, &facility_name(&state).await, ctx.t("vuln_page.title"), body)
}

async fn by_vendor(State(state): State<AppState>, ctx: Ctx) -> Response {
    let list = match state.store.list_findings(&FindingFilter { vendor_scope: scope(&ctx), ..FindingFilter::default() }).await {
        Ok(l) => l,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let today = crate::today_jst();
    let mut groups: std::collections::BTreeMap<String, Vec<Finding>> = std::collections::BTreeMap::new();
    for f in list {
        groups.entry(responsible(ctx.lang, &f)).or_default().push(f);
    }
    let body = html! {
        h1 { (ctx.t("vuln_page.by_vendor")) }
        p.lead { (ctx.t("vuln_page.by_vendor_intro")) }
        @for (who, items) in &groups {
            section.vendor-group {
                h2 { (who) " " span.muted { (tf(ctx.lang, "vuln_page.n_findings", &[("n", &items.len())])) } }
                (findings_table(&ctx, items, &today, "vendor-findings"))
            }
        }
        @if groups.is_empty() { p.muted { (ctx.t("vuln_page.nothing_this_week")) } }
    };
    layout(&ctx, &facility_name(&state).await, ctx.t("vuln_page.by_vendor"), body)
}

async fn by_asset(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>, Query(p): Query<Params>) -> Response {
    let asset = match state.store.get_asset(id, scope(&ctx)).await {
        Ok(a) => a,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let list = match state.store.list_findings(&FindingFilter { asset_id: Some(id), all: true, vendor_scope: scope(&ctx), ..FindingFilter::default() }).await {
        Ok(l) => l,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let cpes = state.store.list_asset_cpes(Some(id)).await.unwrap_or_default();
    let today = crate::today_jst();
    let edit = ctx.user.role.can_edit();
    let lang = ctx.lang;
    let body = html! {
        h1 { (tf(lang, "vuln_page.asset_title", &[("asset", &asset.data.name)])) }
        @if let Some(cpe) = &p.saved { p.alert.ok role="status" id="saved" { (tf(lang, "vuln_page.cpe_saved", &[("cpe", cpe)])) } }
        p { a href={ "/assets/" (id) } { (ctx.t("vuln_page.to_asset")) } }
        section id="cpes" {
            h2 { (ctx.t("vuln_page.cpes")) }
            p.muted { (ctx.t("vuln_page.cpes_intro")) }
            table.list {
                thead { tr { @for k in ["cpe", "origin", "state", "basis"] { th { (t(lang, &format!("vuln_cli.hc_{k}"))) } } @if edit { th {} } } }
                tbody {
                    @for c in &cpes {
                        tr.cpe data-cpe=(c.cpe) data-state=(c.state) {
                            td { code { (c.cpe) } }
                            td { (t(lang, &format!("cpe_origin.{}", c.origin))) }
                            td { (t(lang, &format!("cpe_state.{}", c.state))) }
                            td { (c.basis) }
                            @if edit {
                                td {
                                    @if c.origin != "software" {
                                        form.inline method="post" action="/vulns/cpe" {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            input type="hidden" name="asset" value=(id);
                                            input type="hidden" name="cpe" value=(c.cpe);
                                            @if c.state != "confirmed" { button type="submit" name="state" value="confirmed" class="confirm-cpe" { (ctx.t("vuln_page.confirm")) } }
                                            @if c.state != "rejected" { " " button type="submit" name="state" value="rejected" class="reject-cpe" { (ctx.t("vuln_page.reject")) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if edit {
                form method="post" action="/vulns/cpe" id="add-cpe" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    input type="hidden" name="asset" value=(id);
                    input type="hidden" name="state" value="confirmed";
                    label { (ctx.t("vuln_page.add_cpe")) " " input type="text" name="cpe" size="60" placeholder="cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"; }
                    " " button type="submit" { (ctx.t("vuln_page.add")) }
                }
            }
        }
        section {
            h2 { (ctx.t("vuln_page.asset_findings")) }
            (findings_table(&ctx, &list, &today, "asset-findings"))
        }
    };
    layout(&ctx, &facility_name(&state).await, ctx.t("vuln_page.title"), body)
}

fn jvn_products(detail: &Value) -> Vec<String> {
    detail
        .get("products")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    let g = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
                    let v = g("versions");
                    if v.is_empty() { format!("{} {}", g("vendor"), g("product")) } else { format!("{} {}（{}）", g("vendor"), g("product"), v) }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The advisory as plain text (the CLI's `vuln show`): Japanese JVN text first.
pub fn detail_text(lang: Lang, d: &VulnDetail) -> String {
    let mut s = format!("{}\n", d.id);
    for j in &d.jvn {
        s.push_str(&format!("\n[{} {}] {}\n{}\n", t(lang, "vuln_page.jvn"), j.id, j.title, j.overview));
        for p in jvn_products(&j.detail) {
            s.push_str(&format!("  - {p}\n"));
        }
        if let Some(sol) = j.detail.get("solution").and_then(Value::as_str) {
            s.push_str(&format!("{}: {sol}\n", t(lang, "vuln_page.solution")));
        }
    }
    if let Some(desc) = &d.description {
        s.push_str(&format!("\n[NVD] {desc}\n"));
    }
    if let Some(c) = d.cvss_score {
        s.push_str(&format!("CVSS: {c:.1} {} {}\n", d.severity.clone().unwrap_or_default(), d.cvss_vector.clone().unwrap_or_default()));
    }
    if let Some(k) = &d.kev {
        s.push_str(&format!(
            "{}\n",
            tf(lang, "vuln_page.kev_line", &[("added", &k.date_added), ("due", &k.due_date), ("action", &k.required_action)])
        ));
        if k.ransomware {
            s.push_str(&format!("{}\n", t(lang, "vuln_page.ransomware_line")));
        }
    }
    if let Some(e) = d.epss {
        s.push_str(&format!("EPSS: {:.1}% (percentile {:.1}%)\n", e * 100.0, d.epss_percentile.unwrap_or(0.0) * 100.0));
    }
    for st in &d.statements {
        s.push_str(&format!(
            "{} {} {} {}: {}{}\n",
            st.publisher,
            st.tracking_id,
            st.product_name,
            st.version.clone().or(st.version_range.clone()).unwrap_or_default(),
            t(lang, &format!("statement_status.{}", st.status)),
            st.remediation.as_ref().map(|r| format!(" — {r}")).unwrap_or_default()
        ));
    }
    if !d.findings.is_empty() {
        s.push_str(&format!("\n{}\n", t(lang, "vuln_page.affected_assets")));
        for f in &d.findings {
            s.push_str(&format!(
                "  {} ({}) P{} {:.1} — {} {} — {} {} {} — {}\n",
                f.asset_name,
                f.asset_id,
                f.priority.band,
                f.priority.score,
                f.confidence_score,
                t(lang, &format!("match_confidence.{}", f.confidence.code())),
                t(lang, "vuln_page.why"),
                f.hit.criteria,
                f.hit.range,
                status_text(lang, f)
            ));
        }
    }
    s
}

async fn detail(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>, Query(p): Query<Params>) -> Response {
    let mut d = match state.store.vuln_detail(&id).await {
        Ok(d) => d,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    if let Some(v) = scope(&ctx) {
        let allowed = state.store.list_findings(&FindingFilter { vendor_scope: Some(v), all: true, ..FindingFilter::default() }).await.unwrap_or_default();
        d.findings.retain(|f| allowed.iter().any(|a| a.asset_id == f.asset_id && a.vuln_id == f.vuln_id));
    }
    let lang = ctx.lang;
    let edit = ctx.user.role.can_edit() || ctx.user.role == Role::Vendor;
    let body = html! {
        h1 { (d.id) }
        @if let Some(asset) = p.saved.as_deref().and_then(|a| a.parse::<Id>().ok()).and_then(|a| d.findings.iter().find(|f| f.asset_id == a)) {
            p.alert.ok role="status" id="saved" { (tf(lang, "vuln_page.status_saved", &[("asset", &asset.asset_name), ("status", &status_text(lang, asset))])) }
        }
        @for j in &d.jvn {
            section.jvn lang="ja" {
                h2 { (t(lang, "vuln_page.jvn")) " " (j.id) }
                p { strong { (j.title) } }
                p { (j.overview) }
                @let ps = jvn_products(&j.detail);
                @if !ps.is_empty() { ul { @for p in &ps { li { (p) } } } }
                @if let Some(sol) = j.detail.get("solution").and_then(Value::as_str) { p { strong { (t(lang, "vuln_page.solution")) } " " (sol) } }
                @if let Some(l) = &j.link { p { a href=(l) rel="noopener noreferrer" { (l) } } }
            }
        }
        @if let Some(k) = &d.kev {
            p.alert.error id="kev" { (tf(lang, "vuln_page.kev_line", &[("added", &k.date_added), ("due", &k.due_date), ("action", &k.required_action)])) @if k.ransomware { br; (t(lang, "vuln_page.ransomware_line")) } }
        }
        dl.facts {
            @if let Some(c) = d.cvss_score { dt { "CVSS" } dd { (format!("{c:.1}")) " " (d.severity.clone().unwrap_or_default()) " " code { (d.cvss_vector.clone().unwrap_or_default()) } } }
            @if let Some(e) = d.epss { dt { "EPSS" } dd { (format!("{:.1}%", e * 100.0)) } }
            @if !d.cwes.is_empty() { dt { "CWE" } dd { (d.cwes.join(", ")) } }
            @if let Some(p) = &d.published { dt { (t(lang, "vuln_page.published")) } dd { (p) } }
        }
        @if let Some(desc) = &d.description { section { h2 { "NVD" } p lang="en" { (desc) } } }
        @if !d.statements.is_empty() {
            section { h2 { (t(lang, "vuln_page.vendor_statements")) }
                ul { @for s in &d.statements { li { (s.publisher) " " (s.tracking_id) ": " (s.product_name) " " (s.version.clone().or(s.version_range.clone()).unwrap_or_default()) " — " (t(lang, &format!("statement_status.{}", s.status))) @if let Some(r) = &s.remediation { " — " (r) } } } }
            }
        }
        section id="affected" {
            h2 { (t(lang, "vuln_page.affected_assets")) }
            @for f in &d.findings {
                article.finding data-asset=(f.asset_id) {
                    h3 { a href={ "/vulns/asset/" (f.asset_id) } { (f.asset_name) } " " (band_badge(lang, f.priority.band)) " " (status_text(lang, f)) }
                    p { strong { (t(lang, "vuln_page.why")) } " " code { (f.hit.criteria) } " " (f.hit.range) " ← " code { (f.hit.device_cpe) } " — " (f.confidence_score) " " (t(lang, &format!("match_confidence.{}", f.confidence.code()))) }
                    @if !f.hit.caveats.is_empty() { p.muted { @for c in &f.hit.caveats { (t(lang, &format!("match_caveat.{c}"))) " " } } }
                    @if let Some(pf) = &f.hit.platform { p.muted { (t(lang, "vuln_page.platform")) " " code { (pf) } } }
                    p.muted { (formula(lang, f)) }
                    p { (t(lang, "vuln_cli.h_due")) ": " (f.due_date.clone().unwrap_or_default()) " / " (t(lang, "vuln_cli.h_responsible")) ": " (responsible(lang, f)) }
                    @if let Some(r) = &f.reason { p { (t(lang, "vuln_page.reason")) ": " (r) } }
                    @if edit {
                        form method="post" action="/vulns/status" class="status-form" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            input type="hidden" name="asset" value=(f.asset_id);
                            input type="hidden" name="vuln" value=(d.id);
                            select name="status" aria-label=(t(lang, "vuln_cli.h_status")) {
                                @for s in FindingStatus::ALL { option value=(s.code()) selected[s == f.status] { (t(lang, &format!("finding_status.{}", s.code()))) } }
                            }
                            " "
                            select name="justification" aria-label=(t(lang, "vuln_page.justification")) {
                                option value="" { (t(lang, "vuln_page.no_justification")) }
                                @for j in JUSTIFICATIONS { option value=(j) selected[f.justification.as_deref() == Some(j)] { (t(lang, &format!("justification.{j}"))) } }
                            }
                            " "
                            input type="text" name="reason" placeholder=(t(lang, "vuln_page.reason")) value=(f.reason.clone().unwrap_or_default());
                            " "
                            button type="submit" { (t(lang, "checklist_page.save")) }
                        }
                    }
                }
            }
        }
    };
    layout(&ctx, &facility_name(&state).await, &d.id, body)
}

async fn set_status(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Vec<(String, String)>>) -> Response {
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    if let Err(r) = ctx.check_csrf(&get("csrf").unwrap_or_default()) {
        return r;
    }
    let asset: Id = get("asset").and_then(|a| a.parse().ok()).unwrap_or(0);
    // A vendor user may update the findings of the devices it maintains.
    let allowed = ctx.user.role.can_edit()
        || (ctx.user.role == Role::Vendor && state.store.get_asset(asset, scope(&ctx)).await.is_ok());
    if let Err(r) = ctx.require(allowed) {
        return r;
    }
    let vuln = get("vuln").unwrap_or_default();
    let Some(status) = get("status").and_then(|s| FindingStatus::parse(&s)) else {
        return store_error_page(ctx.lang, &mamori_store::StoreError::Format("status".into()));
    };
    match state.store.set_finding_status(&ctx.actor(), asset, &vuln, status, get("justification").as_deref(), get("reason").as_deref()).await {
        Ok(()) => Redirect::to(&format!("/vulns/detail/{}?saved={asset}#affected", urlencode(&vuln))).into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn rematch(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Vec<(String, String)>>) -> Response {
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.clone()).unwrap_or_default();
    if let Err(r) = ctx.check_edit(&csrf) {
        return r;
    }
    if let Err(e) = state.store.suggest_cpes(&ctx.actor()).await {
        return store_error_page(ctx.lang, &e);
    }
    match state.store.match_vulnerabilities(&ctx.actor(), &crate::today_jst(), 7).await {
        Ok(m) => {
            let msg = tf(ctx.lang, "vuln_cli.matched", &[("assets", &m.assets_with_cpe), ("matched", &m.matched), ("new", &m.new), ("gone", &m.gone), ("cleared", &m.vendor_cleared)]);
            Redirect::to(&format!("/vulns?matched={}", urlencode(&msg))).into_response()
        }
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn decide_cpe(State(state): State<AppState>, ctx: Ctx, Form(form): Form<Vec<(String, String)>>) -> Response {
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    if let Err(r) = ctx.check_edit(&get("csrf").unwrap_or_default()) {
        return r;
    }
    let asset: Id = get("asset").and_then(|a| a.parse().ok()).unwrap_or(0);
    let cpe = get("cpe").unwrap_or_default();
    let st = get("state").unwrap_or_default();
    if let Err(e) = state.store.set_asset_cpe(&ctx.actor(), asset, &cpe, &st).await {
        return store_error_page(ctx.lang, &e);
    }
    // Re-match so the findings follow the decision at once.
    if let Err(e) = state.store.match_vulnerabilities(&ctx.actor(), &crate::today_jst(), 7).await {
        return store_error_page(ctx.lang, &e);
    }
    Redirect::to(&format!("/vulns/asset/{asset}?saved={}#cpes", urlencode(&cpe))).into_response()
}

async fn export_vex(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(ctx.user.role != Role::Vendor) {
        return r;
    }
    match state.store.vex_export(&ctx.actor()).await {
        Ok(v) => (
            [(header::CONTENT_TYPE, "application/vnd.cyclonedx+json"), (header::CONTENT_DISPOSITION, "attachment; filename=\"mamori-vex.cdx.json\"")],
            serde_json::to_string_pretty(&v).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}
