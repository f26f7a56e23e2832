//! The JSON API under `/api/v1`, described by an OpenAPI document generated from these handlers
//! (`GET /api/v1/openapi.json`).
//!
//! Scripts authenticate with `Authorization: Bearer <token>` (tokens are made on the users page
//! or with `mamori token create`). A browser session cookie works too; then every unsafe method
//! must carry the session's CSRF token in `X-CSRF-Token`.

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mamori_i18n::{Lang, t};
use mamori_model::{
    Account, Asset, AssetData, AssetKind, AuditEntry, Contact, Contract, ExternalConnection,
    Facility, Id, Role, Segment, User, Vendor,
};
use mamori_store::{
    AssetQuery, AssetSort, AuditFilter, DEFAULT_STOCKTAKE_DAYS, DiscoveredDevice, StocktakeReport,
    StoreError,
};
use mamori_store::checklist::{ChecklistAnswer, ChecklistView, Evidence, EvidenceFileRef, EvidenceStatus, ItemView, LineView, RoadmapStep};
use mamori_store::contract::{Matrix, MatrixRow, Responsibility};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::AppState;
use crate::attention::{self, Attention};
use crate::auth::{SESSION_COOKIE, api_lang_of, cookie, same_secret};
use crate::views::store_status;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/me", get(me))
        .route("/facility", get(facility))
        .route("/dashboard", get(dashboard))
        .route("/assets", get(list_assets).post(create_asset))
        .route("/assets/{id}", get(get_asset).put(update_asset).delete(delete_asset))
        .route("/segments", get(segments))
        .route("/vendors", get(vendors))
        .route("/contracts", get(contracts))
        .route("/accounts", get(accounts))
        .route("/connections", get(connections))
        .route("/contacts", get(contacts))
        .route("/audit", get(audit))
        .route("/unregistered", get(unregistered))
        .route("/stocktake", get(stocktake))
        .route("/checklist", get(checklist))
        .route("/checklist/roadmap", get(checklist_roadmap))
        .route("/contract/matrix", get(contract_matrix))
        .route("/vulns", get(vulns))
        .route("/vulns/{id}", get(vuln_detail))
        .route("/feeds", get(feeds))
        .route("/network", get(network))
        .route("/network/assessment", get(network_assessment))
        .route("/network/plans", get(network_plans))
}

/// An error, as every endpoint reports it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ApiError {
    /// Stable machine-readable code.
    error: String,
    /// What happened, in the caller's language (Accept-Language: ja or en).
    message: String,
}

pub(crate) struct ApiFailure(StatusCode, ApiError);

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        (self.0, Json(self.1)).into_response()
    }
}

fn fail(status: StatusCode, code: &str, message: String) -> ApiFailure {
    ApiFailure(status, ApiError { error: code.to_owned(), message })
}

fn store_fail(lang: Lang, e: &StoreError) -> ApiFailure {
    let status = store_status(e);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "api request failed");
    }
    let code = match e {
        StoreError::Missing { .. } => "not_found",
        StoreError::Invalid(_) => "invalid",
        StoreError::Conflict(_) => "conflict",
        _ => "internal",
    };
    fail(status, code, e.localized(lang))
}

type ApiResult<T> = Result<T, ApiFailure>;

/// The caller of an API endpoint.
pub(crate) struct ApiUser {
    user: User,
    lang: Lang,
}

impl ApiUser {
    fn scope(&self) -> Option<Id> {
        if self.user.role == Role::Vendor { Some(self.user.vendor_id.unwrap_or(-1)) } else { None }
    }

    fn require(&self, allowed: bool) -> ApiResult<()> {
        if allowed { Ok(()) } else { Err(fail(StatusCode::FORBIDDEN, "forbidden", t(self.lang, "error.forbidden").into())) }
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = api_lang_of(&parts.headers);
        let unauthorized = || fail(StatusCode::UNAUTHORIZED, "unauthorized", t(lang, "error.unauthorized").into());
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if let Some(token) = bearer {
            return match state.store.api_token_user(token.trim()).await {
                Ok(Some(user)) => Ok(ApiUser { user, lang }),
                Ok(None) => Err(unauthorized()),
                Err(e) => Err(store_fail(lang, &e)),
            };
        }
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(unauthorized()) };
        let session = match state.store.session(token).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(unauthorized()),
            Err(e) => return Err(store_fail(lang, &e)),
        };
        if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
            let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
            if !same_secret(sent, &session.csrf_token) {
                return Err(fail(StatusCode::FORBIDDEN, "csrf", t(lang, "error.csrf").into()));
            }
        }
        Ok(ApiUser { user: session.user, lang })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "mamori API", version = "1", description = "施設の資産台帳・構成情報・監査ログ / Facility inventory, configuration and audit log."),
    paths(me, facility, dashboard, list_assets, create_asset, get_asset, update_asset, delete_asset, segments, vendors, contracts, accounts, connections, contacts, audit, unregistered, stocktake, checklist, checklist_roadmap, contract_matrix, vulns, vuln_detail, feeds, network, network_assessment, network_plans),
    components(schemas(ApiError, AssetPage, DashboardBody, Attention, attention::Severity, Asset, AssetData, mamori_model::Interface, mamori_model::Software, mamori_model::Criticality, AssetKind, Segment, mamori_model::SegmentPurpose, Vendor, mamori_model::VendorKind, Contract, Account, mamori_model::AccountPrivilege, ExternalConnection, mamori_model::ConnectionKind, mamori_model::Authentication, Contact, Facility, mamori_model::FacilityKind, AuditEntry, User, Role, DiscoveredDevice, StocktakeReport, mamori_store::StocktakeSummary, mamori_store::StocktakeAsset, mamori_store::StocktakeAccount, mamori_store::StocktakeEos, ChecklistView, ItemView, LineView, ChecklistAnswer, EvidenceFileRef, Evidence, EvidenceStatus, RoadmapStep, mamori_model::checklist::ChecklistItem, mamori_model::checklist::ChecklistSection, mamori_model::Confidence, mamori_model::DeviceClass, mamori_model::SheetKind, Matrix, MatrixRow, Responsibility, mamori_store::network::RiskPlan)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}

/// The OpenAPI document of this API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

async fn openapi_json() -> Response {
    Json(openapi()).into_response()
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = User), (status = 401, body = ApiError)))]
async fn me(u: ApiUser) -> Json<User> {
    Json(u.user)
}

/// The facility profile.
#[utoipa::path(get, path = "/api/v1/facility", responses((status = 200, body = Facility), (status = 404, body = ApiError)))]
async fn facility(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<Facility>> {
    match s.store.facility().await {
        Ok(Some(f)) => Ok(Json(f)),
        Ok(None) => Err(fail(StatusCode::NOT_FOUND, "not_found", t(u.lang, "error.no_facility").into())),
        Err(e) => Err(store_fail(u.lang, &e)),
    }
}

#[derive(Serialize, ToSchema)]
struct DashboardBody {
    assets: i64,
    /// Asset count per kind code.
    by_kind: Vec<(String, i64)>,
    attention: Vec<Attention>,
}

/// Counts and what needs attention (a vendor sees only its own devices).
#[utoipa::path(get, path = "/api/v1/dashboard", responses((status = 200, body = DashboardBody)))]
async fn dashboard(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<DashboardBody>> {
    let scope = u.scope();
    let counts = s.store.counts(scope).await.map_err(|e| store_fail(u.lang, &e))?;
    let attention = attention::for_scope(&s.store, scope).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(Json(DashboardBody {
        assets: counts.assets,
        by_kind: counts.by_kind,
        attention,
    }))
}

#[derive(Deserialize, IntoParams)]
struct AssetParams {
    /// Free-text search (name, address, maker, OS, place …).
    q: Option<String>,
    /// Asset kind code.
    kind: Option<String>,
    /// Segment id.
    segment: Option<Id>,
    /// name, kind, ip, os, location, department, updated, last_seen.
    sort: Option<String>,
    /// asc or desc.
    dir: Option<String>,
    /// At most 1000; default 100.
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Serialize, ToSchema)]
struct AssetPage {
    total: i64,
    items: Vec<Asset>,
}

/// Searches the inventory.
#[utoipa::path(get, path = "/api/v1/assets", params(AssetParams), responses((status = 200, body = AssetPage)))]
async fn list_assets(State(s): State<AppState>, u: ApiUser, Query(p): Query<AssetParams>) -> ApiResult<Json<AssetPage>> {
    let kind = match p.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(k.parse::<AssetKind>().map_err(|e| fail(StatusCode::BAD_REQUEST, "invalid", e.to_string()))?),
        None => None,
    };
    let q = AssetQuery {
        q: p.q,
        kind,
        segment_id: p.segment,
        vendor_scope: u.scope(),
        sort: p.sort.as_deref().and_then(AssetSort::parse).unwrap_or_default(),
        descending: p.dir.as_deref() == Some("desc"),
        limit: p.limit.unwrap_or(100).clamp(1, 1000),
        offset: p.offset.unwrap_or(0).max(0),
    };
    let page = s.store.list_assets(&q).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(Json(AssetPage { total: page.total, items: page.items }))
}

/// Adds an asset (admin, manager).
#[utoipa::path(post, path = "/api/v1/assets", request_body = AssetData, responses((status = 201, body = Asset), (status = 422, body = ApiError), (status = 403, body = ApiError)))]
async fn create_asset(State(s): State<AppState>, u: ApiUser, Json(d): Json<AssetData>) -> ApiResult<(StatusCode, Json<Asset>)> {
    u.require(u.user.role.can_edit())?;
    let a = s.store.create_asset(&u.user.username, &d).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// One asset.
#[utoipa::path(get, path = "/api/v1/assets/{id}", params(("id" = Id, Path)), responses((status = 200, body = Asset), (status = 404, body = ApiError)))]
async fn get_asset(State(s): State<AppState>, u: ApiUser, Path(id): Path<Id>) -> ApiResult<Json<Asset>> {
    s.store.get_asset(id, u.scope()).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

/// Replaces an asset's data (admin, manager).
#[utoipa::path(put, path = "/api/v1/assets/{id}", params(("id" = Id, Path)), request_body = AssetData, responses((status = 200, body = Asset), (status = 404, body = ApiError), (status = 422, body = ApiError)))]
async fn update_asset(State(s): State<AppState>, u: ApiUser, Path(id): Path<Id>, Json(d): Json<AssetData>) -> ApiResult<Json<Asset>> {
    u.require(u.user.role.can_edit())?;
    s.store.update_asset(&u.user.username, id, &d).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

/// Removes an asset (admin, manager).
#[utoipa::path(delete, path = "/api/v1/assets/{id}", params(("id" = Id, Path)), responses((status = 204), (status = 404, body = ApiError)))]
async fn delete_asset(State(s): State<AppState>, u: ApiUser, Path(id): Path<Id>) -> ApiResult<StatusCode> {
    u.require(u.user.role.can_edit())?;
    s.store.delete_asset(&u.user.username, id).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(StatusCode::NO_CONTENT)
}

macro_rules! list_endpoint {
    ($name:ident, $path:literal, $ty:ty, $method:ident, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, responses((status = 200, body = Vec<$ty>), (status = 403, body = ApiError)))]
        async fn $name(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<Vec<$ty>>> {
            u.require(u.user.role != Role::Vendor)?;
            s.store.$method().await.map(Json).map_err(|e| store_fail(u.lang, &e))
        }
    };
}

list_endpoint!(segments, "/api/v1/segments", Segment, list_segments, "Network segments.");
list_endpoint!(vendors, "/api/v1/vendors", Vendor, list_vendors, "Vendors (保守事業者).");
list_endpoint!(contracts, "/api/v1/contracts", Contract, list_contracts, "Maintenance contracts.");
list_endpoint!(accounts, "/api/v1/accounts", Account, list_accounts, "Accounts on the facility's systems.");
list_endpoint!(connections, "/api/v1/connections", ExternalConnection, list_connections, "External connections.");
list_endpoint!(contacts, "/api/v1/contacts", Contact, list_contacts, "Contacts (連絡先).");

#[derive(Deserialize, IntoParams)]
struct AuditParams {
    entity: Option<String>,
    entity_id: Option<Id>,
    actor: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The audit log, newest first (admin, manager).
#[utoipa::path(get, path = "/api/v1/audit", params(AuditParams), responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ApiError)))]
async fn audit(State(s): State<AppState>, u: ApiUser, Query(p): Query<AuditParams>) -> ApiResult<Json<Vec<AuditEntry>>> {
    u.require(matches!(u.user.role, Role::Admin | Role::Manager))?;
    let f = AuditFilter { entity: p.entity, entity_id: p.entity_id, actor: p.actor, limit: p.limit.unwrap_or(100), offset: p.offset.unwrap_or(0) };
    s.store.list_audit(&f).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

#[derive(Deserialize, IntoParams)]
struct UnregisteredParams {
    /// Include devices already adopted into the ledger or rejected.
    all: Option<bool>,
}

/// The unregistered-device queue (未登録機器): devices scans and leases saw that are not in the
/// ledger, pending review unless `all=true` (not for vendors).
#[utoipa::path(get, path = "/api/v1/unregistered", params(UnregisteredParams), responses((status = 200, body = Vec<DiscoveredDevice>), (status = 403, body = ApiError)))]
async fn unregistered(State(s): State<AppState>, u: ApiUser, Query(p): Query<UnregisteredParams>) -> ApiResult<Json<Vec<DiscoveredDevice>>> {
    u.require(u.user.role != Role::Vendor)?;
    let status = if p.all.unwrap_or(false) { None } else { Some("pending") };
    s.store.list_discovered(status).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

#[derive(Deserialize, IntoParams)]
struct StocktakeParams {
    /// Window in days after which an unseen asset or unused account is listed (1–3650, default 90).
    days: Option<i64>,
    /// Reference day in Japan, `YYYY-MM-DD` (default today).
    date: Option<String>,
}

/// The stocktake (棚卸し) report as of a day; nothing is recorded (not for vendors).
#[utoipa::path(get, path = "/api/v1/stocktake", params(StocktakeParams), responses((status = 200, body = StocktakeReport), (status = 400, body = ApiError), (status = 403, body = ApiError)))]
async fn stocktake(State(s): State<AppState>, u: ApiUser, Query(p): Query<StocktakeParams>) -> ApiResult<Json<StocktakeReport>> {
    u.require(u.user.role != Role::Vendor)?;
    let date = match p.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => match d.parse::<jiff::civil::Date>() {
            Ok(day) => day.to_string(),
            Err(e) => return Err(fail(StatusCode::BAD_REQUEST, "invalid", format!("date: {e}"))),
        },
        None => crate::today_jst(),
    };
    let days = p.days.unwrap_or(DEFAULT_STOCKTAKE_DAYS);
    if !(1..=3650).contains(&days) {
        return Err(fail(StatusCode::BAD_REQUEST, "invalid", t(u.lang, "stocktake_page.bad_days").into()));
    }
    s.store.stocktake(&date, days).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

#[derive(Deserialize, IntoParams)]
struct ChecklistParams {
    /// Edition id (`R6`, `R7` …; default: the newest).
    edition: Option<String>,
    /// `facility` (default) or `vendor`.
    sheet: Option<String>,
    /// Vendor id, for the vendor sheet (a vendor user always gets its own).
    vendor: Option<Id>,
}

async fn edition_of(s: &AppState, lang: Lang, given: Option<&str>) -> ApiResult<String> {
    let e = match given.filter(|e| !e.is_empty()) {
        Some(e) => s.store.checklist_edition(e).await,
        None => s.store.latest_checklist_edition().await,
    };
    e.map(|e| e.id).map_err(|e| store_fail(lang, &e))
}


/// A checklist sheet with the answers in force, what the records say, warnings and maturity
/// levels. A vendor user gets its own 事業者確認用 sheet.
#[utoipa::path(get, path = "/api/v1/checklist", params(ChecklistParams), responses((status = 200, body = ChecklistView), (status = 404, body = ApiError)))]
async fn checklist(State(s): State<AppState>, u: ApiUser, Query(p): Query<ChecklistParams>) -> ApiResult<Json<ChecklistView>> {
    let edition = edition_of(&s, u.lang, p.edition.as_deref()).await?;
    let (sheet, vendor) = if u.user.role == Role::Vendor {
        (mamori_model::SheetKind::Vendor, Some(u.user.vendor_id.unwrap_or(-1)))
    } else if p.sheet.as_deref() == Some("vendor") {
        (mamori_model::SheetKind::Vendor, p.vendor)
    } else {
        (mamori_model::SheetKind::Facility, None)
    };
    s.store.checklist_view(u.lang, &edition, sheet, vendor, crate::today_jst_date()).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

/// What to do next on each topic, the largest risk reduction first (not for vendors).
#[utoipa::path(get, path = "/api/v1/checklist/roadmap", params(ChecklistParams), responses((status = 200, body = Vec<RoadmapStep>), (status = 403, body = ApiError)))]
async fn checklist_roadmap(State(s): State<AppState>, u: ApiUser, Query(p): Query<ChecklistParams>) -> ApiResult<Json<Vec<RoadmapStep>>> {
    u.require(u.user.role != Role::Vendor)?;
    let edition = edition_of(&s, u.lang, p.edition.as_deref()).await?;
    s.store.checklist_roadmap(u.lang, &edition, crate::today_jst_date()).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

/// The responsibility matrix: who acts on each checklist topic (not for vendors).
#[utoipa::path(get, path = "/api/v1/contract/matrix", params(ChecklistParams), responses((status = 200, body = Matrix), (status = 403, body = ApiError)))]
async fn contract_matrix(State(s): State<AppState>, u: ApiUser, Query(p): Query<ChecklistParams>) -> ApiResult<Json<Matrix>> {
    u.require(u.user.role != Role::Vendor)?;
    let edition = edition_of(&s, u.lang, p.edition.as_deref()).await?;
    s.store.responsibility_matrix(&edition).await.map(Json).map_err(|e| store_fail(u.lang, &e))
}

#[derive(Deserialize, IntoParams)]
struct VulnParams {
    /// Only this asset's findings.
    asset: Option<Id>,
    /// Include resolved, accepted, false-positive and no-longer-matching findings.
    #[serde(default)]
    all: bool,
}

/// Vulnerability findings (asset × vulnerability), most urgent first: priority with its
/// formula, KEV/EPSS/CVSS, match confidence and why, due date, who acts, status. A vendor token
/// sees only the devices its contracts cover.
#[utoipa::path(get, path = "/api/v1/vulns", params(VulnParams), responses((status = 200, body = Object), (status = 401, body = ApiError)))]
async fn vulns(State(s): State<AppState>, u: ApiUser, Query(p): Query<VulnParams>) -> ApiResult<Json<serde_json::Value>> {
    let scope = if u.user.role == Role::Vendor { Some(u.user.vendor_id.unwrap_or(-1)) } else { None };
    let filter = mamori_store::findings::FindingFilter { asset_id: p.asset, all: p.all, vendor_scope: scope, ..Default::default() };
    let list = s.store.list_findings(&filter).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(Json(serde_json::to_value(list).unwrap_or_default()))
}

/// One vulnerability: NVD, KEV, EPSS, JVN (Japanese), vendor statements and the affected assets.
#[utoipa::path(get, path = "/api/v1/vulns/{id}", params(("id" = String, Path, description = "CVE-… or JVNDB-…")), responses((status = 200, body = Object), (status = 404, body = ApiError)))]
async fn vuln_detail(State(s): State<AppState>, u: ApiUser, Path(id): Path<String>) -> ApiResult<Json<serde_json::Value>> {
    let mut d = s.store.vuln_detail(&id).await.map_err(|e| store_fail(u.lang, &e))?;
    if u.user.role == Role::Vendor {
        let filter = mamori_store::findings::FindingFilter { all: true, vendor_scope: Some(u.user.vendor_id.unwrap_or(-1)), ..Default::default() };
        let allowed = s.store.list_findings(&filter).await.map_err(|e| store_fail(u.lang, &e))?;
        d.findings.retain(|f| allowed.iter().any(|a| a.asset_id == f.asset_id && a.vuln_id == f.vuln_id));
    }
    Ok(Json(serde_json::to_value(d).unwrap_or_default()))
}

/// Freshness of the vulnerability feeds (last import, feed date, SHA-256, stale or not).
#[utoipa::path(get, path = "/api/v1/feeds", responses((status = 200, body = Object)))]
async fn feeds(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<serde_json::Value>> {
    let st = s.store.feed_status(&crate::today_jst()).await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(Json(serde_json::to_value(st).unwrap_or_default()))
}

/// The whole facility as the diagram and the risk engine read it (segments, assets,
/// connections, filtering policies, accounts, backups, open vulnerability facts).
#[utoipa::path(get, path = "/api/v1/network", responses((status = 200, body = Object), (status = 403, body = ApiError)))]
async fn network(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<serde_json::Value>> {
    u.require(u.user.role != Role::Vendor)?;
    let m = s.store.network_model().await.map_err(|e| store_fail(u.lang, &e))?;
    Ok(Json(serde_json::to_value(m).unwrap_or_default()))
}

/// The risk assessment: findings, what needs checking, attack paths per goal, the score with
/// its formula.
#[utoipa::path(get, path = "/api/v1/network/assessment", responses((status = 200, body = Object), (status = 403, body = ApiError)))]
async fn network_assessment(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<serde_json::Value>> {
    u.require(u.user.role != Role::Vendor)?;
    let m = s.store.network_model().await.map_err(|e| store_fail(u.lang, &e))?;
    let a = mamori_risk::assess(&m, u.lang);
    Ok(Json(serde_json::to_value(a).unwrap_or_default()))
}

/// Improvement plans saved from the what-if simulation.
#[utoipa::path(get, path = "/api/v1/network/plans", responses((status = 200, body = Vec<mamori_store::network::RiskPlan>), (status = 403, body = ApiError)))]
async fn network_plans(State(s): State<AppState>, u: ApiUser) -> ApiResult<Json<Vec<mamori_store::network::RiskPlan>>> {
    u.require(u.user.role != Role::Vendor)?;
    Ok(Json(s.store.plans().await.map_err(|e| store_fail(u.lang, &e))?))
}
