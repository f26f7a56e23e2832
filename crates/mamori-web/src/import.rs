//! The import wizard (upload → column mapping for ledgers → preview → import in the background
//! with progress and cancel → result) and the ledger downloads (export, template).
//!
//! Uploaded files stay in memory ([`crate::uploads`]), keyed by a random token and the uploader;
//! nothing is written until the person confirms the preview, and then in one transaction.
#![allow(clippy::result_large_err)]

use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use mamori_i18n::{Lang, t, tf};
use mamori_model::{LedgerField, Observation, Role, SourceKind};
use mamori_store::source::{ColumnMapping, ReadOptions, ReadSource, ledger_rows, read_source};
use mamori_store::{ImportOptions, ImportPlan, Quiet, RejectedRow, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Ctx;
use crate::uploads::{Job, Refusal, Upload};
use crate::views::{self, badge, jst, layout, layout_with_head, store_error_page};

pub(crate) fn routes(max_upload: usize) -> Router<AppState> {
    // Room for the other form fields and the multipart framing around the file.
    let body_limit = max_upload.saturating_add(256 * 1024);
    Router::new()
        .route("/import", get(import_page).post(upload).layer(DefaultBodyLimit::max(body_limit)))
        .route("/import/template.xlsx", get(template))
        .route("/import/{token}/mapping", get(mapping_page).post(mapping_submit))
        .route("/import/{token}/preview", get(preview_page))
        .route("/import/{token}/confirm", post(confirm))
        .route("/import/{token}/progress", get(progress_page))
        .route("/import/{token}/cancel", post(cancel))
        .route("/assets/export.xlsx", get(export_xlsx))
        .route("/assets/export.csv", get(export_csv))
}

/// How many rows of values the mapping step shows per column.
const SAMPLE_ROWS: usize = 3;

/// How many unreadable rows the mapping step shows (the preview lists them all).
const REJECTED_SHOWN: usize = 5;

fn mib(bytes: usize) -> usize {
    bytes / (1024 * 1024)
}

use crate::views::facility_name;

fn can_import(ctx: &Ctx) -> Result<(), Response> {
    ctx.require(ctx.user.role.can_edit())
}

/// A file name as the browser sent it, without any directory and control characters.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim().to_owned();
    if name.is_empty() { "upload".to_owned() } else { name }
}

/// Reads an upload off the async runtime (parsing a large workbook takes a while).
async fn read_upload(u: &Upload, bytes: Arc<Vec<u8>>) -> Result<ReadSource, RejectedRow> {
    let name = u.file_name.clone();
    let opts = ReadOptions { format: u.format, map: u.map.clone() };
    let joined = tokio::task::spawn_blocking(move || read_source(&name, &bytes, &opts)).await;
    match joined {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(RejectedRow {
            file: e.file().to_owned(),
            line: e.line(),
            field: e.field().to_owned(),
            reason: match &e {
                mamori_ingest::IngestError::Invalid { reason, .. }
                | mamori_ingest::IngestError::Refused { reason, .. } => reason.clone(),
                other => other.to_string(),
            },
        }),
        Err(e) => Err(RejectedRow { file: u.file_name.clone(), line: 0, field: String::new(), reason: e.to_string() }),
    }
}

// ---------------------------------------------------------------------------------------------
// Step 1: upload

/// What the upload form says went wrong.
enum UploadError {
    Message(String),
    Unreadable(RejectedRow),
}

async fn import_page(State(state): State<AppState>, ctx: Ctx) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    upload_form(&state, &ctx, None, StatusCode::OK).await
}

async fn upload_form(state: &AppState, ctx: &Ctx, error: Option<UploadError>, status: StatusCode) -> Response {
    let name = facility_name(state).await;
    let history = state.store.list_imports(10).await.unwrap_or_default();
    let limit = mib(state.config.max_upload_bytes);
    let body = html! {
        div.titlebar {
            h1 { (ctx.t("import_page.title")) }
            div.actions {
                a.button href="/import/template.xlsx" id="template-link" { (ctx.t("import_page.template")) }
            }
        }
        p.lead { (ctx.t("import_page.intro")) }
        @match &error {
            Some(UploadError::Message(m)) => p.alert.error role="alert" { (m) },
            Some(UploadError::Unreadable(row)) => div.alert.error role="alert" id="upload-error" {
                strong { (ctx.t("import_page.unreadable")) }
                (rejected_table(ctx, std::slice::from_ref(row)))
            },
            None => {},
        }
        form.edit id="upload-form" method="post" action="/import" enctype="multipart/form-data" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            fieldset {
                legend { (ctx.t("import_page.file")) }
                label.wide { (ctx.t("import_page.file"))
                    input type="file" name="file" required;
                }
                label { (ctx.t("import_page.format"))
                    select name="format" {
                        option value="auto" selected { (ctx.t("import_page.format_auto")) }
                        @for k in SourceKind::ALL {
                            option value=(k.code()) { (ctx.t(&k.label_key())) }
                        }
                    }
                }
                label { (ctx.t("import_page.target"))
                    input type="text" name="target" inputmode="numeric" pattern="[0-9]*" maxlength="18";
                }
                p.muted.wide { (tf(ctx.lang, "import_page.limit", &[("mib", &limit)])) }
            }
            div.actions { button.primary type="submit" { (ctx.t("import_page.upload")) } }
        }
        section.panel {
            h2 { (ctx.t("import_page.history")) }
            @if history.is_empty() {
                p.muted { (ctx.t("import_page.history_empty")) }
            } @else {
                table.list id="import-history" {
                    thead { tr {
                        th { "#" } th { (ctx.t("import_page.at")) } th { (ctx.t("import_page.actor")) }
                        th { (ctx.t("sources.kind")) } th { (ctx.t("import_page.file")) } th { (ctx.t("import_page.summary")) }
                    } }
                    tbody { @for r in &history { tr {
                        td.mono { (r.id) }
                        td.mono { (jst(&r.at)) }
                        td { (r.actor) }
                        td { (ctx.t(&format!("source_kind.{}", r.kind))) }
                        td { (r.file_name) }
                        td { (summary_line(ctx.lang, &r.summary)) }
                    } } }
                }
            }
        }
    };
    let mut res = layout(ctx, &name, ctx.t("import_page.title"), body);
    *res.status_mut() = status;
    res
}

fn summary_line(lang: Lang, v: &serde_json::Value) -> String {
    let n = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
    tf(
        lang,
        "import_page.summary_line",
        &[
            ("created", &n("created")),
            ("updated", &n("updated")),
            ("flagged", &n("flagged")),
            ("conflicts", &n("conflicts")),
            ("rejected", &n("rejected")),
        ],
    )
}

async fn upload(
    State(state): State<AppState>,
    ctx: Ctx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    let limit = state.config.max_upload_bytes;
    let too_large = || UploadError::Message(tf(ctx.lang, "import_page.too_large", &[("mib", &mib(limit))]));
    let bad_form = || UploadError::Message(ctx.t("import_page.bad_form").to_owned());
    let mut mp = match multipart {
        Ok(m) => m,
        Err(_) => return upload_form(&state, &ctx, Some(bad_form()), StatusCode::BAD_REQUEST).await,
    };
    let mut csrf = String::new();
    let mut format = String::new();
    let mut target = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return upload_form(&state, &ctx, Some(too_large()), StatusCode::PAYLOAD_TOO_LARGE).await;
            }
            Err(_) => return upload_form(&state, &ctx, Some(bad_form()), StatusCode::BAD_REQUEST).await,
        };
        let name = field.name().unwrap_or("").to_owned();
        if name == "file" {
            let file_name = clean_file_name(field.file_name().unwrap_or(""));
            match field.bytes().await {
                Ok(b) => file = Some((file_name, b.to_vec())),
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    return upload_form(&state, &ctx, Some(too_large()), StatusCode::PAYLOAD_TOO_LARGE).await;
                }
                Err(_) => return upload_form(&state, &ctx, Some(bad_form()), StatusCode::BAD_REQUEST).await,
            }
            continue;
        }
        let slot = match name.as_str() {
            "csrf" => &mut csrf,
            "format" => &mut format,
            "target" => &mut target,
            _ => continue,
        };
        match field.text().await {
            Ok(v) => *slot = v.chars().take(200).collect(),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return upload_form(&state, &ctx, Some(too_large()), StatusCode::PAYLOAD_TOO_LARGE).await;
            }
            Err(_) => return upload_form(&state, &ctx, Some(bad_form()), StatusCode::BAD_REQUEST).await,
        }
    }
    if let Err(r) = ctx.check_csrf(&csrf) {
        return r;
    }
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let e = UploadError::Message(ctx.t("import_page.no_file").to_owned());
        return upload_form(&state, &ctx, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    if bytes.len() > limit {
        return upload_form(&state, &ctx, Some(too_large()), StatusCode::PAYLOAD_TOO_LARGE).await;
    }
    let format = match format.trim() {
        "" | "auto" => None,
        code => match code.parse::<SourceKind>() {
            Ok(k) => Some(k),
            Err(_) => {
                let e = UploadError::Message(ctx.t("import_page.bad_format").to_owned());
                return upload_form(&state, &ctx, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    let target_asset = match target.trim() {
        "" => None,
        v => match v.trim_start_matches('#').parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let e = UploadError::Message(ctx.t("import_page.bad_target").to_owned());
                return upload_form(&state, &ctx, Some(e), StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    // Read it once now: a file that cannot be read at all goes straight back to the form.
    let probe = Upload::probe(ctx.user.id, file_name.clone(), format);
    let bytes = Arc::new(bytes);
    let read = match read_upload(&probe, bytes.clone()).await {
        Ok(r) => r,
        Err(row) => {
            return upload_form(&state, &ctx, Some(UploadError::Unreadable(row)), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let ledger = read.mapping.is_some();
    let format = format.or(Some(read.source.kind));
    drop(read);
    let bytes = Arc::try_unwrap(bytes).unwrap_or_else(|shared| shared.as_ref().clone());
    let token = match state.uploads.insert(ctx.user.id, file_name, bytes, format, target_asset, ledger) {
        Ok(t) => t,
        Err(Refusal::TooMany) => {
            let e = UploadError::Message(ctx.t("import_page.too_many").to_owned());
            return upload_form(&state, &ctx, Some(e), StatusCode::TOO_MANY_REQUESTS).await;
        }
        Err(Refusal::Busy) => {
            let e = UploadError::Message(ctx.t("import_page.busy").to_owned());
            return upload_form(&state, &ctx, Some(e), StatusCode::SERVICE_UNAVAILABLE).await;
        }
    };
    let step = if ledger { "mapping" } else { "preview" };
    Redirect::to(&format!("/import/{token}/{step}")).into_response()
}

impl Upload {
    /// An upload not (yet) kept, to read a file with the upload's options.
    fn probe(user_id: i64, file_name: String, format: Option<SourceKind>) -> Upload {
        let mut u = Upload::blank(user_id, file_name);
        u.format = format;
        u
    }
}

/// The user's upload that has not started importing, or the page to show instead.
fn pending_upload(state: &AppState, ctx: &Ctx, token: &str) -> Result<(Upload, Arc<Vec<u8>>), Response> {
    can_import(ctx)?;
    let Some(u) = state.uploads.get(token, ctx.user.id) else {
        return Err(views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired")));
    };
    match u.bytes.clone() {
        Some(b) if u.job.is_none() => Ok((u, b)),
        _ => Err(Redirect::to(&format!("/import/{token}/progress")).into_response()),
    }
}

fn token_ok(token: &str) -> bool {
    !token.is_empty() && token.len() <= 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------------------------------------
// Step 2: column mapping (ledgers)

/// The value an observation took from a column mapped to `field`.
fn field_value(o: &Observation, field: LedgerField) -> Option<String> {
    use LedgerField as F;
    let s = |v: &Option<String>| v.clone();
    match field {
        F::AssetId => o.asset_id.map(|i| i.to_string()),
        F::Name => s(&o.name),
        F::Hostname => s(&o.hostname),
        F::Kind => o
            .kind
            .map(|k| t(Lang::Ja, &k.label_key()).to_owned())
            .or_else(|| o.attributes.get("kind_raw").cloned()),
        F::Criticality => o
            .criticality
            .map(|c| t(Lang::Ja, &c.label_key()).to_owned())
            .or_else(|| o.attributes.get("criticality_raw").cloned()),
        F::Vendor => s(&o.vendor),
        F::Product => s(&o.product),
        F::Model => s(&o.model),
        F::Os => s(&o.os),
        F::OsVersion => s(&o.os_version),
        F::Serial => s(&o.serial),
        F::Location => s(&o.location),
        F::Department => s(&o.department),
        F::Owner => s(&o.owner),
        F::Segment => s(&o.segment),
        F::Ip => {
            let all: Vec<&str> = o.ip.iter().map(String::as_str)
                .chain(o.extra_interfaces.iter().filter_map(|i| i.ip.as_deref()))
                .collect();
            (!all.is_empty()).then(|| all.join(", "))
        }
        F::Mac => {
            let all: Vec<&str> = o.mac.iter().map(String::as_str)
                .chain(o.extra_interfaces.iter().filter_map(|i| i.mac.as_deref()))
                .collect();
            (!all.is_empty()).then(|| all.join(", "))
        }
        F::InternetFacing => o.internet_facing.map(|b| t(Lang::Ja, if b { "ledger.yes" } else { "ledger.no" }).to_owned()),
        F::EndpointProtection => {
            o.endpoint_protection.map(|b| t(Lang::Ja, if b { "ledger.yes" } else { "ledger.no" }).to_owned())
        }
        F::Maintainer => s(&o.maintainer),
        F::LastSeen => o.seen_at.and_then(|ts| jiff::Timestamp::from_second(ts).ok()).map(|ts| {
            jiff::tz::TimeZone::get("Asia/Tokyo")
                .map(|tz| ts.to_zoned(tz).date().to_string())
                .unwrap_or_else(|_| ts.to_string())
        }),
        F::Notes => s(&o.notes),
    }
}

/// Up to [`SAMPLE_ROWS`] values of each column, as read with the mapping in force.
fn samples(read: &ReadSource, m: &ColumnMapping) -> Vec<Vec<String>> {
    m.headers
        .iter()
        .zip(&m.fields)
        .map(|(h, f)| {
            read.observations
                .iter()
                .take(SAMPLE_ROWS)
                .map(|o| {
                    let v = match f {
                        Some(f) => field_value(o, *f),
                        None => o.attributes.get(h).cloned(),
                    };
                    v.unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

/// Up to [`SAMPLE_ROWS`] values of each column as the file has them, whatever the mapping:
/// the file is read once more with the Name column (or the first) as the name, another column
/// as notes and every other column kept as text, so that no value can make a row unreadable.
/// Falls back to the values the current mapping read.
async fn raw_samples(u: &Upload, bytes: Arc<Vec<u8>>, m: &ColumnMapping, current: &ReadSource) -> Vec<Vec<String>> {
    let n = m.headers.len();
    if n < 2 {
        return samples(current, m);
    }
    let name_col = m.fields.iter().position(|f| *f == Some(LedgerField::Name)).unwrap_or(0);
    let notes_col = usize::from(name_col == 0);
    let mut probe = u.clone();
    probe.map = m
        .headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let f = if i == name_col {
                Some(LedgerField::Name)
            } else if i == notes_col {
                Some(LedgerField::Notes)
            } else {
                None
            };
            (h.clone(), f)
        })
        .collect();
    let raw = match read_upload(&probe, bytes).await {
        Ok(r) if !r.observations.is_empty() => r,
        _ => return samples(current, m),
    };
    let same_headers = raw.mapping.as_ref().is_some_and(|rm| rm.headers == m.headers);
    if !same_headers {
        return samples(current, m);
    }
    (0..n)
        .map(|i| {
            raw.observations
                .iter()
                .take(SAMPLE_ROWS)
                .map(|o| {
                    let v = if i == name_col {
                        o.name.clone()
                    } else if i == notes_col {
                        o.notes.clone()
                    } else {
                        m.headers.get(i).and_then(|h| o.attributes.get(h).cloned())
                    };
                    v.unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

#[derive(Deserialize)]
struct MappingParams {
    /// Start again from the proposed mapping.
    reset: Option<String>,
}

async fn mapping_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<MappingParams>,
) -> Response {
    if !token_ok(&token) {
        return views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired"));
    }
    if q.reset.is_some() && can_import(&ctx).is_ok() {
        state.uploads.update(&token, ctx.user.id, |u| {
            if u.job.is_none() {
                u.map.clear();
            }
        });
    }
    let (u, bytes) = match pending_upload(&state, &ctx, &token) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !u.ledger {
        return Redirect::to(&format!("/import/{token}/preview")).into_response();
    }
    match read_upload(&u, bytes.clone()).await {
        Ok(read) => {
            let Some(m) = read.mapping.clone() else {
                return Redirect::to(&format!("/import/{token}/preview")).into_response();
            };
            let samples = raw_samples(&u, bytes, &m, &read).await;
            mapping_view(&state, &ctx, &token, &u, &m, &m.fields, &samples, Some(&read), None).await
        }
        Err(row) => unreadable_step(&state, &ctx, &token, &u, &row).await,
    }
}

/// A step whose file no longer reads (a mapping that does not fit): the error, and the way back.
async fn unreadable_step(state: &AppState, ctx: &Ctx, token: &str, u: &Upload, row: &RejectedRow) -> Response {
    let name = facility_name(state).await;
    let body = html! {
        h1 { (ctx.t("import_page.title")) }
        p { strong { (u.file_name) } }
        div.alert.error role="alert" id="upload-error" {
            strong { (ctx.t("import_page.unreadable")) }
            (rejected_table(ctx, std::slice::from_ref(row)))
        }
        div.actions {
            @if u.ledger && !u.map.is_empty() {
                a.button href={ "/import/" (token) "/mapping?reset=1" } { (ctx.t("import_page.back_mapping")) }
            }
            (discard_form(ctx, token))
        }
    };
    let mut res = layout(ctx, &name, ctx.t("import_page.title"), body);
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    res
}

fn discard_form(ctx: &Ctx, token: &str) -> Markup {
    html! {
        form method="post" action={ "/import/" (token) "/cancel" } {
            input type="hidden" name="csrf" value=(ctx.csrf);
            button type="submit" id="discard" { (ctx.t("import_page.discard")) }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn mapping_view(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    u: &Upload,
    m: &ColumnMapping,
    fields: &[Option<LedgerField>],
    samples: &[Vec<String>],
    read: Option<&ReadSource>,
    error: Option<String>,
) -> Response {
    let name = facility_name(state).await;
    let body = html! {
        h1 { (ctx.t("import_page.mapping_title")) }
        p { strong { (u.file_name) } }
        p.lead { (tf(ctx.lang, "import_page.mapping_intro", &[("line", &m.header_line)])) }
        @if let Some(e) = &error { p.alert.error role="alert" { (e) } }
        @if let Some(r) = read {
            p.count { (tf(ctx.lang, "import_page.rows_read", &[("n", &r.observations.len()), ("rejected", &r.rejected.len())])) }
        }
        form.mapping method="post" action={ "/import/" (token) "/mapping" } {
            input type="hidden" name="csrf" value=(ctx.csrf);
            table.list id="mapping-table" {
                thead { tr {
                    th { (ctx.t("import_page.column")) }
                    th { (ctx.t("import_page.maps_to")) }
                    th { (tf(ctx.lang, "import_page.samples", &[("n", &SAMPLE_ROWS)])) }
                } }
                tbody {
                    @for (i, h) in m.headers.iter().enumerate() {
                        @let field = fields.get(i).copied().flatten();
                        tr {
                            th scope="row" { label for={ "col" (i) } { (h) } }
                            td {
                                select name={ "col" (i) } id={ "col" (i) } {
                                    option value="-" selected[field.is_none()] { (ctx.t("import.as_attribute")) }
                                    @for f in LedgerField::ALL {
                                        option value=(f.code()) selected[field == Some(*f)] { (ctx.t(&f.label_key())) }
                                    }
                                }
                            }
                            td { div.samples {
                                @for v in samples.get(i).map(Vec::as_slice).unwrap_or(&[]) {
                                    @if v.is_empty() { span.muted { "—" } } @else { span.sample title=(v) { (v) } }
                                }
                            } }
                        }
                    }
                }
            }
            div.actions {
                button.primary type="submit" id="apply-mapping" { (ctx.t("import_page.apply_mapping")) }
            }
        }
        @if let Some(r) = read.filter(|r| !r.rejected.is_empty()) {
            section.panel id="mapping-rejected" {
                h2 { (tf(ctx.lang, "import_page.rejected_first", &[("n", &r.rejected.len().min(REJECTED_SHOWN))])) }
                p.muted { (ctx.t("import_page.rejected_hint")) }
                (rejected_table(ctx, r.rejected.get(..r.rejected.len().min(REJECTED_SHOWN)).unwrap_or(&[])))
            }
        }
        div.actions.below { (discard_form(ctx, token)) }
    };
    let mut res = layout(ctx, &name, ctx.t("import_page.mapping_title"), body);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

async fn mapping_submit(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    if let Err(r) = ctx.check_csrf(csrf) {
        return r;
    }
    if !token_ok(&token) {
        return views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired"));
    }
    let (u, bytes) = match pending_upload(&state, &ctx, &token) {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The headers as the file reads with the mapping in force.
    let current = match read_upload(&u, bytes.clone()).await {
        Ok(r) => r,
        Err(row) => return unreadable_step(&state, &ctx, &token, &u, &row).await,
    };
    let Some(m) = current.mapping.clone() else {
        return Redirect::to(&format!("/import/{token}/preview")).into_response();
    };
    let mut chosen: Vec<Option<LedgerField>> = Vec::with_capacity(m.headers.len());
    for i in 0..m.headers.len() {
        let v = form.iter().find(|(k, _)| *k == format!("col{i}")).map(|(_, v)| v.as_str());
        let f = match v {
            None => m.fields.get(i).copied().flatten(),
            Some("-" | "") => None,
            Some(code) => match code.parse::<LedgerField>() {
                Ok(f) => Some(f),
                Err(_) => m.fields.get(i).copied().flatten(),
            },
        };
        chosen.push(f);
    }
    // One column per field.
    for f in LedgerField::ALL {
        let cols: Vec<&str> = m
            .headers
            .iter()
            .zip(&chosen)
            .filter(|(_, c)| **c == Some(*f))
            .map(|(h, _)| h.as_str())
            .collect();
        if cols.len() > 1 {
            let msg = tf(
                ctx.lang,
                "import_page.duplicate_field",
                &[("field", &ctx.t(&f.label_key())), ("columns", &cols.join("、"))],
            );
            let samples = raw_samples(&u, bytes.clone(), &m, &current).await;
            return mapping_view(&state, &ctx, &token, &u, &m, &chosen, &samples, Some(&current), Some(msg)).await;
        }
    }
    let map: Vec<(String, Option<LedgerField>)> = m.headers.iter().cloned().zip(chosen.iter().copied()).collect();
    let mut next = u.clone();
    next.map = map.clone();
    match read_upload(&next, bytes.clone()).await {
        Ok(_) => {
            state.uploads.update(&token, ctx.user.id, |x| x.map = map);
            Redirect::to(&format!("/import/{token}/preview")).into_response()
        }
        Err(row) => {
            let samples = raw_samples(&u, bytes, &m, &current).await;
            let msg = format!("{}: {}", row.field, row.reason);
            mapping_view(&state, &ctx, &token, &u, &m, &chosen, &samples, Some(&current), Some(msg)).await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 3: preview

async fn preview_page(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    if !token_ok(&token) {
        return views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired"));
    }
    let (u, bytes) = match pending_upload(&state, &ctx, &token) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let read = match read_upload(&u, bytes).await {
        Ok(r) => r,
        Err(row) => return unreadable_step(&state, &ctx, &token, &u, &row).await,
    };
    let ReadSource { source, observations, rejected, .. } = read;
    let plan = state
        .store
        .import_observations(
            &ctx.actor(),
            source,
            &observations,
            rejected,
            &ImportOptions { dry_run: true, target_asset: u.target_asset },
            &Quiet,
        )
        .await;
    let plan = match plan {
        Ok(p) => p,
        Err(e) => return store_error_page(ctx.lang, &e),
    };
    let name = facility_name(&state).await;
    let body = html! {
        h1 { (ctx.t("import_page.preview_title")) }
        p { strong { (u.file_name) } " " span.muted { "(" (ctx.t(&plan.source.kind.label_key())) ")" } }
        p.alert.ok id="preview-note" { (ctx.t("import_page.preview_intro")) }
        (plan_view(&ctx, &plan))
        div.actions.confirm-bar {
            form method="post" action={ "/import/" (token) "/confirm" } {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button.primary type="submit" id="confirm-import" { (ctx.t("import_page.confirm")) }
            }
            @if u.ledger {
                a.button href={ "/import/" (token) "/mapping" } { (ctx.t("import_page.back_mapping")) }
            }
            (discard_form(&ctx, &token))
        }
    };
    layout(&ctx, &name, ctx.t("import_page.preview_title"), body)
}

/// Counts and lists of a plan: the preview, and the result once applied.
fn plan_view(ctx: &Ctx, plan: &ImportPlan) -> Markup {
    let c = &plan.counts;
    let applied = !plan.dry_run;
    let more = |total: u64, shown: usize| {
        let total = usize::try_from(total).unwrap_or(usize::MAX);
        html! {
            @if total > shown {
                p.muted { (tf(ctx.lang, "import_page.more", &[("n", &(total - shown)), ("shown", &shown)])) }
            }
        }
    };
    let card = |id: &str, n: u64, key: &str, alert: bool| html! {
        div.card.alert-card[alert && n > 0] id=(id) {
            span.num { (n) }
            span.label { (ctx.t(key)) }
        }
    };
    let label = |k: &str| {
        let key = format!("field.{k}");
        if mamori_i18n::has(&key) { ctx.t(&key).to_owned() } else { k.to_owned() }
    };
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "—".to_owned(),
        serde_json::Value::String(s) if s.is_empty() => "—".to_owned(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    html! {
        section.cards.counts id="import-counts" {
            (card("count-created", c.created, "import_page.count_created", false))
            (card("count-updated", c.updated, "import_page.count_updated", false))
            (card("count-unchanged", c.unchanged, "import_page.count_unchanged", false))
            (card("count-flagged", c.flagged, "import_page.count_flagged", true))
            (card("count-conflicts", c.conflicts, "import_page.count_conflicts", true))
            (card("count-rejected", c.rejected, "import_page.count_rejected", true))
            @if c.ignored > 0 { (card("count-ignored", c.ignored, "import_page.count_ignored", false)) }
        }
        @if !plan.created.is_empty() {
            section.panel id="plan-created" {
                h2 { (ctx.t(if applied { "import_page.list_created_done" } else { "import_page.list_created" })) }
                table.list {
                    thead { tr { th { (ctx.t("import_page.line")) } th { (ctx.t("field.name")) } th { (ctx.t("field.kind")) } th { (ctx.t("field.ip")) } th { (ctx.t("field.mac")) } } }
                    tbody { @for x in &plan.created { tr {
                        td.mono { (x.line) }
                        td { @match x.asset_id { Some(id) => a href={ "/assets/" (id) } { (x.name) }, None => (x.name) } }
                        td { (ctx.t(&x.kind.label_key())) }
                        td.mono { (x.ip.as_deref().unwrap_or("—")) }
                        td.mono { (x.mac.as_deref().unwrap_or("—")) }
                    } } }
                }
                (more(c.created, plan.created.len()))
            }
        }
        @if !plan.updated.is_empty() {
            section.panel id="plan-updated" {
                h2 { (ctx.t(if applied { "import_page.list_updated_done" } else { "import_page.list_updated" })) }
                table.list {
                    thead { tr { th { (ctx.t("import_page.line")) } th { (ctx.t("field.name")) } th { (ctx.t("sources.reason")) } th { (ctx.t("sources.changes")) } } }
                    tbody { @for x in &plan.updated { tr {
                        td.mono { (x.line) }
                        td { a href={ "/assets/" (x.asset_id) } { (x.name) } }
                        td { (ctx.t(&format!("match_reason.{}", x.reason.code()))) }
                        td { ul.changes { @for (k, pair) in &x.changes { li {
                            strong { (label(k)) } ": "
                            span.old { (pair.get(0).map(show).unwrap_or_default()) }
                            " → "
                            span.new { (pair.get(1).map(show).unwrap_or_default()) }
                        } } } }
                    } } }
                }
                (more(c.updated, plan.updated.len()))
            }
        }
        @if !plan.flagged.is_empty() {
            section.panel id="plan-flagged" {
                h2 { (ctx.t("import_page.list_flagged")) }
                table.list {
                    thead { tr { th { (ctx.t("import_page.line")) } th { (ctx.t("field.ip")) } th { (ctx.t("field.mac")) } th { (ctx.t("unregistered.mac_vendor")) } th { (ctx.t("unregistered.hostname")) } th { (ctx.t("unregistered.status")) } } }
                    tbody { @for x in &plan.flagged { tr {
                        td.mono { (x.line) }
                        td.mono { (x.ip.as_deref().unwrap_or("—")) }
                        td.mono {
                            (x.mac.as_deref().unwrap_or("—"))
                            @if x.randomized_mac { " " (badge("check", ctx.t("import_page.randomized"))) }
                        }
                        td { (x.mac_vendor.as_deref().unwrap_or("—")) }
                        td { (x.hostname.as_deref().unwrap_or("—")) }
                        td { (ctx.t(if x.new { "import.flag_new" } else { "import.flag_again" })) }
                    } } }
                }
                (more(c.flagged, plan.flagged.len()))
                @if applied { p { a href="/unregistered" { (ctx.t("import_page.open_queue")) } } }
            }
        }
        @if !plan.conflicts.is_empty() {
            section.panel id="plan-conflicts" {
                h2 { (ctx.t("import_page.list_conflicts")) }
                table.list {
                    thead { tr { th { (ctx.t("import_page.line")) } th { (ctx.t("entity.asset")) } th { (ctx.t("import_page.err_reason")) } th { } } }
                    tbody { @for x in &plan.conflicts { tr {
                        td.mono { (x.line) }
                        td { @match x.asset_id { Some(id) => a href={ "/assets/" (id) } { "#" (id) }, None => "—" } }
                        td { (ctx.t(&format!("conflict.{}", x.code))) }
                        td.mono.small { (x.detail) }
                    } } }
                }
                (more(c.conflicts, plan.conflicts.len()))
            }
        }
        @if !plan.rejected.is_empty() {
            section.panel id="plan-rejected" {
                h2 { (ctx.t("import_page.list_rejected")) }
                (rejected_table(ctx, &plan.rejected))
                (more(c.rejected, plan.rejected.len()))
            }
        }
        @if plan.created.is_empty() && plan.updated.is_empty() && plan.flagged.is_empty() && plan.conflicts.is_empty() && plan.rejected.is_empty() {
            p.muted { (ctx.t("import_page.nothing")) }
        }
    }
}

fn rejected_table(ctx: &Ctx, rows: &[RejectedRow]) -> Markup {
    html! {
        table.list.rejected {
            thead { tr {
                th { (ctx.t("import_page.err_file")) } th { (ctx.t("import_page.err_line")) }
                th { (ctx.t("import_page.err_field")) } th { (ctx.t("import_page.err_reason")) }
            } }
            tbody { @for r in rows { tr {
                td { (r.file) }
                td.mono { @if r.line > 0 { (r.line) } @else { "—" } }
                td { @if r.field.is_empty() { "—" } @else { (r.field) } }
                td { (r.reason) }
            } } }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 4: the import, in the background

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn confirm(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    if !token_ok(&token) {
        return views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired"));
    }
    let Some((u, bytes, job)) = state.uploads.start(&token, ctx.user.id) else {
        return match state.uploads.get(&token, ctx.user.id) {
            Some(_) => Redirect::to(&format!("/import/{token}/progress")).into_response(),
            None => views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired")),
        };
    };
    let store = state.store.clone();
    let actor = ctx.actor();
    tokio::spawn(async move {
        // Should the import task die, the progress page must still end.
        let watched = job.clone();
        if let Err(e) = tokio::spawn(run_import(store, actor, u, bytes, job)).await {
            tracing::error!(error = %e, "web import task failed");
            watched.finish(Err(StoreError::Format(e.to_string())));
        }
    });
    Redirect::to(&format!("/import/{token}/progress")).into_response()
}

async fn run_import(store: mamori_store::Store, actor: String, u: Upload, bytes: Arc<Vec<u8>>, job: Arc<Job>) {
    job.set_phase("read");
    let outcome = match read_upload(&u, bytes).await {
        _ if job.cancel_requested() => Err(StoreError::Cancelled),
        Ok(read) => {
            let ReadSource { source, observations, rejected, .. } = read;
            let opts = ImportOptions { dry_run: false, target_asset: u.target_asset };
            store.import_observations(&actor, source, &observations, rejected, &opts, job.as_ref()).await
        }
        Err(row) => Err(StoreError::Format(format!("{}:{}: {}: {}", row.file, row.line, row.field, row.reason))),
    };
    if let Err(e) = &outcome
        && !matches!(e, StoreError::Cancelled)
    {
        tracing::warn!(error = %e, file = %u.file_name, "web import failed");
    }
    job.finish(outcome);
}

async fn progress_page(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    let u = if token_ok(&token) { state.uploads.get(&token, ctx.user.id) } else { None };
    let Some(u) = u else {
        return views::message_page(ctx.lang, StatusCode::NOT_FOUND, ctx.t("import_page.expired"));
    };
    let Some(job) = u.job.clone() else {
        return Redirect::to(&format!("/import/{token}/preview")).into_response();
    };
    let name = facility_name(&state).await;
    let finished = job.with_outcome(|outcome| match outcome {
        Ok(plan) => html! {
            h1 { (ctx.t("import_page.result_title")) }
            p { strong { (u.file_name) } " " span.muted { "(" (ctx.t(&plan.source.kind.label_key())) ")" } }
            p.alert.ok role="status" id="import-done" {
                (tf(ctx.lang, "import_page.done", &[("id", &plan.import_id.map(|i| i.to_string()).unwrap_or_default())]))
            }
            (plan_view(&ctx, plan))
            div.actions { a.button.primary href="/import" { (ctx.t("import_page.again")) } a.button href="/assets" { (ctx.t("nav.assets")) } }
        },
        Err(StoreError::Cancelled) => html! {
            h1 { (ctx.t("import_page.result_title")) }
            p { strong { (u.file_name) } }
            p.alert.error role="alert" id="import-cancelled" { (ctx.t("error.cancelled")) }
            div.actions { a.button.primary href="/import" { (ctx.t("import_page.again")) } }
        },
        Err(e) => html! {
            h1 { (ctx.t("import_page.result_title")) }
            p { strong { (u.file_name) } }
            p.alert.error role="alert" id="import-failed" { (tf(ctx.lang, "import_page.failed", &[("detail", &e.localized(ctx.lang))])) }
            div.actions { a.button.primary href="/import" { (ctx.t("import_page.again")) } }
        },
    });
    if let Some(body) = finished {
        return layout(&ctx, &name, ctx.t("import_page.result_title"), body);
    }
    let p = job.progress_now();
    let phase = match p.phase {
        "import" => ctx.t("import.phase_import"),
        "read" => ctx.t("import_page.phase_read"),
        _ => ctx.t("import_page.phase_wait"),
    };
    let cancelling = job.cancel_requested();
    let body = html! {
        h1 { (ctx.t("import_page.progress_title")) }
        p { strong { (u.file_name) } }
        section.panel id="import-progress" {
            p { strong { (phase) } " " span.muted { (tf(ctx.lang, "import_page.progress_count", &[("done", &p.done), ("total", &p.total)])) } }
            @if p.total > 0 {
                progress max=(p.total) value=(p.done) { (p.done) " / " (p.total) }
            } @else {
                progress {}
            }
            p.muted { (ctx.t("import_page.refresh_note")) }
        }
        @if cancelling {
            p.alert.error role="status" { (ctx.t("import_page.cancelling")) }
        } @else {
            form method="post" action={ "/import/" (token) "/cancel" } {
                input type="hidden" name="csrf" value=(ctx.csrf);
                button.danger type="submit" id="cancel-import" { (ctx.t("import_page.cancel_running")) }
            }
        }
    };
    let head = html! { meta http-equiv="refresh" content="1"; };
    layout_with_head(&ctx, &name, ctx.t("import_page.progress_title"), head, body)
}

async fn cancel(State(state): State<AppState>, ctx: Ctx, Path(token): Path<String>, Form(f): Form<CsrfOnly>) -> Response {
    if let Err(r) = can_import(&ctx) {
        return r;
    }
    if let Err(r) = ctx.check_csrf(&f.csrf) {
        return r;
    }
    let u = if token_ok(&token) { state.uploads.get(&token, ctx.user.id) } else { None };
    match u.and_then(|u| u.job) {
        Some(job) => {
            job.cancel();
            Redirect::to(&format!("/import/{token}/progress")).into_response()
        }
        None => {
            state.uploads.remove(&token, ctx.user.id);
            Redirect::to("/import").into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Downloads

/// `Content-Disposition` for a download: an ASCII fallback name and the real one (RFC 5987).
fn attachment(ascii: &str, name: &str) -> HeaderValue {
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn download(content_type: &'static str, ascii: &str, name: &str, bytes: Vec<u8>) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_DISPOSITION, attachment(ascii, name));
    res
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn export_rows(state: &AppState, ctx: &Ctx, format: &str) -> Result<(Vec<String>, Vec<Vec<String>>, usize), Response> {
    // A vendor sees only the assets its contracts cover; the ledger file is the facility's.
    ctx.require(ctx.user.role != Role::Vendor)?;
    let assets = state.store.all_assets().await.map_err(|e| store_error_page(ctx.lang, &e))?;
    let segments = state.store.list_segments().await.map_err(|e| store_error_page(ctx.lang, &e))?;
    // The ledger lists the facility's weak points: who took a copy is recorded.
    let mut detail = mamori_model::Detail::new();
    detail.insert("format".into(), serde_json::Value::String(format.to_owned()));
    detail.insert("assets".into(), serde_json::Value::from(assets.len()));
    state
        .store
        .audit_event(&ctx.actor(), "asset.export", "asset", None, detail)
        .await
        .map_err(|e| store_error_page(ctx.lang, &e))?;
    let (headers, rows) = ledger_rows(ctx.lang, &assets, &segments);
    Ok((headers, rows, assets.len()))
}

fn export_names(ctx: &Ctx, ext: &str) -> (String, String) {
    let today = crate::today_jst();
    (format!("mamori-assets-{today}.{ext}"), format!("{}_{today}.{ext}", ctx.t("export_page.file_name")))
}

async fn export_xlsx(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (headers, rows, _) = match export_rows(&state, &ctx, "xlsx").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = ctx.lang;
    let bytes = match tokio::task::spawn_blocking(move || {
        mamori_ingest::ledger::write_xlsx(t(lang, "export.sheet_name"), &headers, &rows)
    })
    .await
    {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return export_failed(&ctx, &e),
        Err(e) => return export_failed(&ctx, &e.to_string()),
    };
    let (ascii, name) = export_names(&ctx, "xlsx");
    download(XLSX, &ascii, &name, bytes)
}

fn export_failed(ctx: &Ctx, detail: &str) -> Response {
    tracing::error!(error = %detail, "export failed");
    views::message_page(ctx.lang, StatusCode::INTERNAL_SERVER_ERROR, &tf(ctx.lang, "export_page.failed", &[("detail", &detail)]))
}

async fn export_csv(State(state): State<AppState>, ctx: Ctx) -> Response {
    let (headers, rows, _) = match export_rows(&state, &ctx, "csv").await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let buf = match mamori_store::source::ledger_csv(&headers, &rows) {
        Ok(b) => b,
        Err(e) => return export_failed(&ctx, &e),
    };
    let (ascii, name) = export_names(&ctx, "csv");
    download("text/csv; charset=utf-8", &ascii, &name, buf)
}

async fn template(ctx: Ctx) -> Response {
    if let Err(r) = ctx.require(ctx.user.role != Role::Vendor) {
        return r;
    }
    let ja = ctx.lang == Lang::Ja;
    let bytes = match tokio::task::spawn_blocking(move || mamori_ingest::ledger::template_xlsx(ja)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return export_failed(&ctx, &e),
        Err(e) => return export_failed(&ctx, &e.to_string()),
    };
    let name = format!("{}.xlsx", ctx.t("export_page.template_file"));
    download(XLSX, "mamori-ledger-template.xlsx", &name, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_are_rfc5987() {
        let v = attachment("a.xlsx", "資産台帳_2026-11-25.xlsx");
        let s = v.to_str().unwrap_or_default();
        assert!(s.starts_with("attachment; filename=\"a.xlsx\"; filename*=UTF-8''%E8%B3%87"), "{s}");
        assert!(s.ends_with("_2026-11-25.xlsx"), "{s}");
    }

    #[tokio::test]
    async fn a_cancelled_import_writes_nothing() {
        let db = mamori_store::testing::fresh_sqlite().unwrap();
        let store = mamori_store::Store::open(&db.url, mamori_store::OpenMode::Create).await.unwrap();
        let mut u = Upload::blank(1, "台帳.csv".into());
        u.format = Some(SourceKind::Csv);
        let csv = Arc::new("機器名,IPアドレス\nPC-1,192.168.0.1\nPC-2,192.168.0.2\n".as_bytes().to_vec());
        // Stopped while the file is read.
        let job = Arc::new(Job::new());
        job.cancel();
        run_import(store.clone(), "t".into(), u.clone(), csv.clone(), job.clone()).await;
        assert_eq!(job.with_outcome(|o| matches!(o, Err(StoreError::Cancelled))), Some(true));
        // Stopped by the store: the job is the import's control.
        let job = Job::new();
        job.cancel();
        let read = read_upload(&u, csv.clone()).await.unwrap();
        let r = store
            .import_observations("t", read.source, &read.observations, read.rejected, &ImportOptions::default(), &job)
            .await;
        assert!(matches!(r, Err(StoreError::Cancelled)), "{r:?}");
        assert!(store.all_assets().await.unwrap().is_empty());
        // Not stopped: progress is reported and the assets land.
        let job = Arc::new(Job::new());
        run_import(store.clone(), "t".into(), u, csv, job.clone()).await;
        assert_eq!(job.with_outcome(|o| o.as_ref().map(|p| p.counts.created).ok()), Some(Some(2)));
        assert_eq!(job.progress_now().phase, "import");
        assert_eq!(store.all_assets().await.unwrap().len(), 2);
    }

    #[test]
    fn file_names_lose_directories() {
        assert_eq!(clean_file_name("C:\\Users\\x\\台帳.csv"), "台帳.csv");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name(""), "upload");
        assert_eq!(clean_file_name("a\nb.csv"), "ab.csv");
    }
}
