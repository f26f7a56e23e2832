//! The MHLW checklist pages: the sheet with answers, evidence and warnings, answering, the
//! roadmap, the xlsx export for the 保健所 and a printable version. A vendor user sees and answers
//! only its own 事業者確認用 sheet.
#![allow(clippy::result_large_err)]

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{Confidence, DeviceClass, Id, Role, SheetKind};
use mamori_store::checklist::{ChecklistAnswer, ChecklistView, EvidenceStatus, ItemView, NewAnswer};
use mamori_store::{Store, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::views::{badge, layout, store_error_page, urlencode};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/checklist", get(page))
        .route(
            "/checklist/answer",
            post(answer).layer(DefaultBodyLimit::max(
                mamori_store::checklist::MAX_EVIDENCE_BYTES * mamori_store::checklist::MAX_EVIDENCE_FILES + 256 * 1024,
            )),
        )
        .route("/checklist/file/{id}", get(file))
        .route("/checklist/roadmap", get(roadmap))
        .route("/checklist/export.xlsx", get(export_xlsx))
        .route("/checklist/print", get(print))
}

#[derive(Deserialize, Default)]
struct Params {
    edition: Option<String>,
    sheet: Option<String>,
    vendor: Option<Id>,
    saved: Option<String>,
    error: Option<String>,
}

/// Edition, sheet and vendor a user may look at: a vendor user gets its own vendor sheet.
async fn scope(state: &AppState, ctx: &Ctx, p: &Params) -> Result<(String, SheetKind, Option<Id>), Response> {
    let edition = match &p.edition {
        Some(e) if !e.is_empty() => state.store.checklist_edition(e).await,
        _ => state.store.latest_checklist_edition().await,
    }
    .map_err(|e| store_error_page(ctx.lang, &e))?
    .id;
    if ctx.user.role == Role::Vendor {
        return Ok((edition, SheetKind::Vendor, Some(ctx.user.vendor_id.unwrap_or(-1))));
    }
    let sheet = match p.sheet.as_deref() {
        Some("vendor") => SheetKind::Vendor,
        _ => SheetKind::Facility,
    };
    let vendor = if sheet == SheetKind::Vendor { p.vendor } else { None };
    Ok((edition, sheet, vendor))
}


fn unconfirmed(c: Confidence) -> bool {
    !matches!(c, Confidence::Official | Confidence::VerbatimPrimary | Confidence::VerbatimSecondary)
}

fn text_of<'a>(lang: Lang, ja: &'a str, en: Option<&'a String>) -> &'a str {
    if lang == Lang::Ja { ja } else { en.map_or(ja, String::as_str) }
}

fn answer_badge(ctx: &Ctx, a: Option<&ChecklistAnswer>) -> Markup {
    match a {
        Some(a) if a.yes => html! {
            (badge("ok", ctx.t("checklist_cli.yes"))) @if let Some(d) = &a.checked_on { " " span.muted { (d) } }
            (files(a))
        },
        Some(a) => html! {
            (badge("high", ctx.t("checklist_cli.no")))
            @if let Some(d) = &a.checked_on { " " span.muted { (d) } }
            @if let Some(d) = &a.target_date { br; span.muted { (tf(ctx.lang, "checklist_cli.target", &[("date", d)])) } }
            (files(a))
        },
        None => html! { span.muted { (ctx.t("checklist_cli.unanswered")) } },
    }
}

fn files(a: &ChecklistAnswer) -> Markup {
    html! {
        @for f in &a.files {
            br; a.file href={ "/checklist/file/" (f.id) } { "📎 " (f.file_name) }
        }
    }
}

fn evidence_box(ctx: &Ctx, iv: &ItemView) -> Markup {
    let Some(e) = &iv.evidence else { return html! {} };
    let (class, label) = match e.status {
        EvidenceStatus::Supports => ("ok", ctx.t("checklist_cli.ev_supports")),
        EvidenceStatus::Contradicts => ("high", ctx.t("checklist_cli.ev_contradicts")),
        EvidenceStatus::NoData => ("low", ctx.t("checklist_cli.ev_nodata")),
    };
    html! {
        div.evidence {
            strong { (ctx.t("checklist_cli.evidence")) } " " (badge(class, label))
            @if let Some(s) = iv.suggested {
                " " span.muted { (tf(ctx.lang, "checklist_page.suggested", &[("answer", &ctx.t(if s { "checklist_cli.yes" } else { "checklist_cli.no" }))])) }
            }
            ul { @for f in &e.facts { li { (f) } } }
        }
    }
}

fn answer_form(ctx: &Ctx, view: &ChecklistView, iv: &ItemView, class: Option<DeviceClass>) -> Markup {
    let id = format!("answer-{}-{}", iv.item.id, class.map_or("item", DeviceClass::code));
    html! {
        form.answer method="post" action="/checklist/answer" id=(id) enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            input type="hidden" name="edition" value=(view.edition_id);
            input type="hidden" name="sheet" value=(view.sheet.code());
            @if let Some(v) = view.vendor_id { input type="hidden" name="vendor" value=(v); }
            input type="hidden" name="item" value=(iv.item.id);
            @if let Some(c) = class { input type="hidden" name="device_class" value=(c.code()); }
            select name="answer" aria-label=(ctx.t("checklist_page.answer")) {
                option value="yes" { (ctx.t("checklist_cli.yes")) }
                option value="no" { (ctx.t("checklist_cli.no")) }
            }
            select name="round" aria-label=(ctx.t("checklist_page.round")) {
                option value="1" { (ctx.t("checklist_page.round1")) }
                option value="2" { (ctx.t("checklist_page.round2")) }
            }
            label.inline { (ctx.t("checklist_page.checked_on")) " " input type="date" name="checked_on" value=(crate::today_jst()); }
            label.inline { (ctx.t("checklist_page.target")) " " input type="date" name="target_date"; }
            input type="text" name="comment" placeholder=(ctx.t("checklist_page.comment")) maxlength="4000";
            label.inline.file { (ctx.t("checklist_page.evidence_file")) " " input type="file" name="evidence_file"; }
            button type="submit" { (ctx.t("checklist_page.save")) }
        }
    }
}

async fn page(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    let (edition, sheet, vendor) = match scope(&state, &ctx, &p).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let view = match state.store.checklist_view(ctx.lang, &edition, sheet, vendor, crate::today_jst_date()).await {
        Ok(v) => v,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let editions = state.store.checklist_editions().await.unwrap_or_default();
    let vendors = state.store.list_vendors().await.unwrap_or_default();
    let name = state.store.facility().await.ok().flatten().map(|f| f.name).unwrap_or_default();
    let can_answer = match sheet {
        SheetKind::Facility => ctx.user.role.can_edit(),
        SheetKind::Vendor => vendor.is_some() && (ctx.user.role.can_edit() || ctx.user.role == Role::Vendor),
    };
    let is_vendor_user = ctx.user.role == Role::Vendor;
    // The devices the vendor of a vendor sheet maintains (its contracts' assets).
    let devices: Vec<mamori_model::Asset> = match (sheet, vendor) {
        (SheetKind::Vendor, Some(v)) => {
            let contracts = state.store.list_contracts().await.unwrap_or_default();
            let ids: std::collections::BTreeSet<Id> =
                contracts.iter().filter(|c| c.vendor_id == v).flat_map(|c| c.asset_ids.iter().copied()).collect();
            state.store.all_assets().await.unwrap_or_default().into_iter().filter(|a| ids.contains(&a.id)).collect()
        }
        _ => Vec::new(),
    };
    // Which vendors have answered their sheet (「事業者からの提出がなされないケースが散見される」).
    let status = if sheet == SheetKind::Vendor && !is_vendor_user {
        state.store.vendor_answer_status(&view.edition_id).await.unwrap_or_default()
    } else {
        Vec::new()
    };
    // Each item with the section heading that starts before it, if any.
    let mut last = None;
    let entries: Vec<(Option<&mamori_model::checklist::ChecklistSection>, &ItemView)> = view
        .items
        .iter()
        .map(|iv| {
            let starts = iv.item.section != 0 && last != Some(iv.item.section);
            last = Some(iv.item.section);
            (starts.then(|| view.sections.iter().find(|s| s.number == iv.item.section)).flatten(), iv)
        })
        .collect();
    let body = html! {
        div.titlebar {
            h1 { (ctx.t("checklist_page.title")) }
            div.actions {
                @if !is_vendor_user { a.button href={ "/checklist/roadmap?edition=" (view.edition_id) } id="roadmap-link" { (ctx.t("checklist_page.roadmap")) } }
                a.button href={ "/checklist/export.xlsx?edition=" (view.edition_id) @if let Some(v) = vendor { "&vendor=" (v) } } id="export-xlsx" { (ctx.t("checklist_page.export_xlsx")) }
                a.button href={ "/checklist/print?edition=" (view.edition_id) @if let Some(v) = vendor { "&vendor=" (v) } } { (ctx.t("checklist_page.print")) }
            }
        }
        p.lead { (ctx.t("checklist_page.intro")) }
        @if let Some(s) = &p.saved { p.alert.ok role="status" id="answer-saved" { (tf(ctx.lang, "checklist_page.saved", &[("item", s)])) } }
        @if let Some(e) = &p.error { p.alert.error role="alert" { (e) } }
        form.filters method="get" action="/checklist" {
            label.inline { (ctx.t("checklist_page.edition")) " "
                select name="edition" {
                    @for e in &editions { option value=(e.id) selected[e.id == view.edition_id] { (e.title_ja) } }
                }
            }
            @if !is_vendor_user {
                label.inline { (ctx.t("checklist_page.sheet")) " "
                    select name="sheet" {
                        option value="facility" selected[sheet == SheetKind::Facility] { (ctx.t("sheet_kind.facility")) }
                        option value="vendor" selected[sheet == SheetKind::Vendor] { (ctx.t("sheet_kind.vendor")) }
                    }
                }
                label.inline { (ctx.t("checklist_page.vendor")) " "
                    select name="vendor" {
                        option value="" { "—" }
                        @for v in &vendors { option value=(v.id) selected[Some(v.id) == vendor] { (v.name) } }
                    }
                }
            }
            button type="submit" { (ctx.t("checklist_page.show")) }
        }
        section.cards {
            div.card { span.num id="answered" { (view.answered) " / " (view.lines) } span.label { (ctx.t("checklist_page.answered")) } }
            div.card.alert-card[view.warnings > 0] id="warnings" { span.num { (view.warnings) } span.label { (ctx.t("checklist_page.warnings")) } }
        }
        @if !status.is_empty() {
            section.panel id="vendor-status" {
                h2 { (ctx.t("checklist_page.vendor_status")) }
                table.list {
                    thead { tr { th { (ctx.t("checklist_page.vendor")) } th { (ctx.t("checklist_page.answered")) } th {} } }
                    tbody {
                        @for (v, answered, lines) in &status {
                            tr {
                                td { a href={ "/checklist?edition=" (view.edition_id) "&sheet=vendor&vendor=" (v.id) } { (v.name) } }
                                td { (answered) " / " (lines) }
                                td {
                                    @if *answered == 0 { (badge("high", ctx.t("checklist_page.not_submitted"))) }
                                    @else if answered < lines { (badge("medium", ctx.t("checklist_page.partly"))) }
                                    @else { (badge("ok", ctx.t("checklist_page.complete"))) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if sheet == SheetKind::Vendor && vendor.is_none() {
            p.alert.error role="status" { (ctx.t("checklist_page.pick_vendor")) }
        }
        @if !devices.is_empty() {
            details.panel id="vendor-devices" {
                summary { (tf(ctx.lang, "checklist_page.vendor_devices", &[("n", &devices.len())])) }
                table.list {
                    thead { tr { th { (ctx.t("records.name")) } th { (ctx.t("checklist_page.kind")) } th { "IP" } th { "OS" } } }
                    tbody { @for a in &devices { tr {
                        td { a href={ "/assets/" (a.id) } { (a.data.name) } }
                        td { (ctx.t(&a.data.kind.label_key())) }
                        td { (a.data.primary_ip().unwrap_or_default()) }
                        td { (a.data.os.as_deref().unwrap_or_default()) " " (a.data.os_version.as_deref().unwrap_or_default()) }
                    } } }
                }
            }
        }
        h2 { (view.edition_title) "【" (view.sheet_name) "】" }
        @for (heading, iv) in &entries {
            @if let Some(s) = heading {
                h3.section { (s.number) " " (text_of(ctx.lang, &s.title_ja, s.title_en.as_ref())) }
            }
            section.panel.checklist-item id={ "item-" (iv.item.id) } {
                div.item-head {
                    strong.label { (iv.item.label) } " "
                    span { (text_of(ctx.lang, &iv.item.text_ja, iv.item.text_en.as_ref())) }
                    @if unconfirmed(iv.item.confidence) {
                        " " span.badge.check title=(iv.item.note_ja.as_deref().unwrap_or_default()) { (ctx.t(&iv.item.confidence.label_key())) }
                    }
                    @if !iv.item.guideline_refs.is_empty() { div.muted { "▶ " (iv.item.guideline_refs.join(" ▶ ")) } }
                    @if view.sheet == SheetKind::Facility {
                        @if let Some(def) = iv.item.topic.as_ref().and_then(|t| mamori_store::checklist::maturity_model().get(t)) {
                            div.muted.maturity {
                                (tf(ctx.lang, "checklist_page.level", &[("level", &iv.level)]))
                                @if iv.level > 0 { "：" (def.level(ctx.lang, iv.level)) }
                                @if iv.level < 3 { " — " (ctx.t("checklist_page.next")) "：" (def.next(ctx.lang, iv.level + 1)) }
                            }
                        }
                    }
                }
                @if iv.warning {
                    p.alert.error role="alert" { "⚠ " (ctx.t("checklist_cli.contradicted")) }
                }
                table.list {
                    thead { tr {
                        th { (ctx.t("checklist_page.class")) } th { (ctx.t("checklist_page.round1")) } th { (ctx.t("checklist_page.round2")) }
                        @if can_answer { th { (ctx.t("checklist_page.answer")) } }
                    } }
                    tbody {
                        @for l in &iv.lines {
                            tr {
                                td { (l.device_class.map_or_else(|| "—".to_owned(), |c| ctx.t(&c.label_key()).to_owned())) }
                                td { (answer_badge(&ctx, l.round1.as_ref())) }
                                td { (answer_badge(&ctx, l.round2.as_ref())) }
                                @if can_answer { td { (answer_form(&ctx, &view, iv, l.device_class)) } }
                            }
                        }
                    }
                }
                (evidence_box(&ctx, iv))
            }
        }
    };
    layout(&ctx, &name, ctx.t("checklist_page.title"), body)
}

/// The answer form's fields (multipart: it may carry evidence files).
#[derive(Default)]
struct AnswerForm {
    csrf: String,
    edition: String,
    sheet: String,
    vendor: Option<Id>,
    item: String,
    device_class: Option<String>,
    answer: String,
    round: u8,
    checked_on: Option<String>,
    target_date: Option<String>,
    comment: Option<String>,
    files: Vec<(String, Vec<u8>)>,
}

async fn read_answer_form(mut mp: Multipart) -> Result<AnswerForm, StatusCode> {
    let mut f = AnswerForm { round: 1, ..Default::default() };
    while let Some(field) = mp.next_field().await.map_err(|e| e.status())? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "evidence_file" {
            let file_name = field.file_name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(|e| e.status())?;
            if !bytes.is_empty() {
                f.files.push((file_name, bytes.to_vec()));
            }
            continue;
        }
        let value: String = field.text().await.map_err(|e| e.status())?.chars().take(4000).collect();
        let opt = |v: String| Some(v).filter(|v| !v.trim().is_empty());
        match name.as_str() {
            "csrf" => f.csrf = value,
            "edition" => f.edition = value,
            "sheet" => f.sheet = value,
            "vendor" => f.vendor = value.parse().ok(),
            "item" => f.item = value,
            "device_class" => f.device_class = opt(value),
            "answer" => f.answer = value,
            "round" => f.round = value.parse().map_err(|_| StatusCode::BAD_REQUEST)?,
            "checked_on" => f.checked_on = opt(value),
            "target_date" => f.target_date = opt(value),
            "comment" => f.comment = opt(value),
            _ => {}
        }
    }
    Ok(f)
}

async fn answer(State(state): State<AppState>, ctx: Ctx, multipart: Result<Multipart, MultipartRejection>) -> Response {
    let f = match multipart {
        Ok(mp) => match read_answer_form(mp).await {
            Ok(f) => f,
            Err(status) => return (status, ctx.t("checklist_page.bad_form").to_owned()).into_response(),
        },
        Err(_) => return (StatusCode::BAD_REQUEST, ctx.t("checklist_page.bad_form").to_owned()).into_response(),
    };
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    let sheet = if f.sheet == "vendor" { SheetKind::Vendor } else { SheetKind::Facility };
    // A vendor user answers its own vendor sheet only; managers and admins answer everything.
    let vendor = if ctx.user.role == Role::Vendor {
        if sheet != SheetKind::Vendor {
            return ctx.require(false).err().unwrap_or_else(|| StatusCode::FORBIDDEN.into_response());
        }
        Some(ctx.user.vendor_id.unwrap_or(-1))
    } else {
        if let Err(r) = ctx.require(ctx.user.role.can_edit()) {
            return r;
        }
        if sheet == SheetKind::Vendor { f.vendor } else { None }
    };
    let class = match f.device_class.as_deref() {
        Some(c) => match c.parse::<DeviceClass>() {
            Ok(c) => Some(c),
            Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
        },
        None => None,
    };
    let yes = f.answer == "yes";
    let a = NewAnswer {
        edition: f.edition.clone(),
        sheet,
        vendor_id: vendor,
        item: f.item.clone(),
        device_class: class,
        round: f.round,
        yes,
        checked_on: f.checked_on,
        target_date: if yes { None } else { f.target_date },
        maturity: None,
        comment: f.comment,
        evidence: None,
        files: f.files,
    };
    let back = |extra: String| {
        let mut url = format!("/checklist?edition={}&sheet={}", urlencode(&f.edition), sheet.code());
        if let Some(v) = vendor {
            url.push_str(&format!("&vendor={v}"));
        }
        url.push_str(&extra);
        url.push_str(&format!("#item-{}", urlencode(&f.item)));
        Redirect::to(&url).into_response()
    };
    match state.store.answer_checklist(&ctx.actor(), std::slice::from_ref(&a)).await {
        Ok(_) => back(format!("&saved={}", urlencode(&f.item))),
        Err(e @ (StoreError::Format(_) | StoreError::Missing { .. })) => back(format!("&error={}", urlencode(&e.localized(ctx.lang)))),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn file(State(state): State<AppState>, ctx: Ctx, Path(id): Path<Id>) -> Response {
    let (answer, name, bytes) = match state.store.checklist_file(id).await {
        Ok(x) => x,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    // A vendor user sees the files of its own sheet only.
    if ctx.user.role == Role::Vendor && (answer.sheet != SheetKind::Vendor || answer.vendor_id != ctx.user.vendor_id) {
        return ctx.require(false).err().unwrap_or_else(|| StatusCode::FORBIDDEN.into_response());
    }
    let ascii: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{}", urlencode(&name));
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}


async fn roadmap(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    if let Err(r) = ctx.require(ctx.user.role != Role::Vendor) {
        return r;
    }
    let (edition, _, _) = match scope(&state, &ctx, &p).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let steps = match state.store.checklist_roadmap(ctx.lang, &edition, crate::today_jst_date()).await {
        Ok(s) => s,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let name = state.store.facility().await.ok().flatten().map(|f| f.name).unwrap_or_default();
    let body = html! {
        div.titlebar {
            h1 { (ctx.t("checklist_page.roadmap")) }
            div.actions { a.button href={ "/checklist?edition=" (edition) } { (ctx.t("checklist_page.title")) } }
        }
        p.lead { (ctx.t("checklist_page.roadmap_intro")) }
        table.list id="roadmap" {
            thead { tr {
                th { (ctx.t("checklist_cli.h_rank")) } th { (ctx.t("checklist_cli.h_item")) } th { (ctx.t("checklist_cli.h_level")) }
                th { (ctx.t("checklist_cli.h_next")) } th { (ctx.t("checklist_cli.h_party")) }
            } }
            tbody {
                @for (n, s) in steps.iter().enumerate() {
                    tr {
                        td { (n + 1) }
                        td { (s.items.join(", ")) }
                        td { (s.level) " → " (s.next_level) }
                        td { (s.next_step) br; span.muted { (s.next_definition) } }
                        td { (ctx.t(&format!("party.{}", s.party))) }
                    }
                }
            }
        }
    };
    layout(&ctx, &name, ctx.t("checklist_page.roadmap"), body)
}

async fn export_xlsx(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    let (edition, _, vendor) = match scope(&state, &ctx, &p).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let vendor = if ctx.user.role == Role::Vendor { vendor } else { p.vendor };
    match state.store.checklist_xlsx(&edition, vendor).await {
        Ok(bytes) => {
            let mut res = bytes.into_response();
            let h = res.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"checklist-{}.xlsx\"", urlencode(&edition))) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            res
        }
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

async fn print(State(state): State<AppState>, ctx: Ctx, Query(p): Query<Params>) -> Response {
    let (edition, _, vendor) = match scope(&state, &ctx, &p).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let vendor = if ctx.user.role == Role::Vendor { vendor } else { p.vendor };
    match print_html(&state.store, ctx.lang, &edition, vendor, crate::today_jst_date()).await {
        Ok(html) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(e) => store_error_page(ctx.lang, &e),
    }
}

/// The checklist as one printable HTML document (both sheets, A4 landscape), for the 保健所 or
/// for a file: `mamori checklist export --format html` writes the same.
pub async fn print_html(store: &Store, lang: Lang, edition: &str, vendor: Option<Id>, today: jiff::civil::Date) -> mamori_store::Result<String> {
    let ed = store.checklist_edition(edition).await?;
    let facility = store.facility().await?;
    let mut sheets = Vec::new();
    for sh in &ed.sheets {
        if sh.kind == SheetKind::Vendor && vendor.is_none() {
            sheets.push((sh.kind, None));
            continue;
        }
        let v = if sh.kind == SheetKind::Vendor { vendor } else { None };
        sheets.push((sh.kind, Some(store.checklist_view(lang, &ed.id, sh.kind, v, today).await?)));
    }
    let ans = |a: Option<&ChecklistAnswer>| -> String {
        a.map(|a| format!("{}{}", t(lang, if a.yes { "checklist_cli.yes" } else { "checklist_cli.no" }), a.checked_on.as_deref().map(|d| format!(" {d}")).unwrap_or_default()))
            .unwrap_or_default()
    };
    let doc = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (ed.title_ja) }
                style { (PreEscaped(PRINT_CSS)) }
            }
            body {
                @for (kind, view) in &sheets {
                    section.sheet {
                        h1 { (ed.title_ja) }
                        h2 { "【" (t(Lang::Ja, &kind.label_key())) "】" }
                        p { (t(lang, "checklist_export.facility")) "： " (facility.as_ref().map(|f| f.name.as_str()).unwrap_or_default())
                            "　" (t(lang, "checklist_export.manager")) "： " (facility.as_ref().and_then(|f| f.security_manager.as_deref()).unwrap_or_default()) }
                        table {
                            thead { tr {
                                @for h in mamori_ingest::checklist_xlsx::HEADERS { th { (h) } }
                            } }
                            tbody {
                                @if let Some(view) = view {
                                    @for iv in &view.items {
                                        @for (i, l) in iv.lines.iter().enumerate() {
                                            tr {
                                                @if i == 0 {
                                                    td rowspan=(iv.lines.len()) { (iv.item.label) }
                                                    td rowspan=(iv.lines.len()) { (iv.item.text_ja) @if unconfirmed(iv.item.confidence) { "（" (t(lang, &iv.item.confidence.label_key())) "）" } }
                                                }
                                                td { (l.device_class.map_or_else(|| "—".to_owned(), |c| t(Lang::Ja, &c.label_key()).to_owned())) }
                                                td { (ans(l.round1.as_ref())) } td { (l.round1.as_ref().and_then(|a| a.checked_on.clone()).unwrap_or_default()) }
                                                td { (ans(l.round2.as_ref())) } td { (l.round2.as_ref().and_then(|a| a.checked_on.clone()).unwrap_or_default()) }
                                                td { (l.latest().and_then(|a| a.target_date.clone()).unwrap_or_default()) }
                                                td { (l.latest().and_then(|a| a.comment.clone()).unwrap_or_default()) }
                                            }
                                        }
                                    }
                                } @else {
                                    @if let Some(sh) = ed.sheet(*kind) {
                                        @for item in &sh.items {
                                            @let classes = mamori_store::checklist::answer_classes(item);
                                            @for (i, c) in classes.iter().enumerate() {
                                                tr {
                                                    @if i == 0 { td rowspan=(classes.len()) { (item.label) } td rowspan=(classes.len()) { (item.text_ja) } }
                                                    td { (c.map_or_else(|| "—".to_owned(), |c| t(Lang::Ja, &c.label_key()).to_owned())) }
                                                    td {} td {} td {} td {} td {} td {}
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.foot { (tf(lang, "checklist_page.printed", &[("date", &today.to_string())])) }
            }
        }
    };
    Ok(doc.into_string())
}

const PRINT_CSS: &str = "@page { size: A4 landscape; margin: 12mm; } body { font-family: 'Noto Sans JP', sans-serif; font-size: 10pt; } \
section.sheet { page-break-after: always; } h1 { font-size: 14pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 0 0 6pt; } \
table { border-collapse: collapse; width: 100%; } th, td { border: 1px solid #333; padding: 3pt 4pt; vertical-align: top; } \
th { background: #ddebf7; } p.foot { color: #555; font-size: 8pt; }";
