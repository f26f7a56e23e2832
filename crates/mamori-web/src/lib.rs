//! The mamori web server: server-rendered pages for people, a JSON API under `/api/v1` for
//! scripts, both over the same [`Store`].
//!
//! Security model (see ARCHITECTURE.md): argon2id passwords, server-side sessions in an
//! HttpOnly SameSite=Strict cookie, a per-session CSRF token on every form and on every unsafe
//! API call made with a cookie, API tokens (Bearer) for scripts, roles checked in every handler,
//! a login rate limit, and a strict Content-Security-Policy (no inline script or style). The
//! server listens on 127.0.0.1 unless told otherwise.

mod api;
mod attention;
mod auth;
pub mod checklist;
pub mod contract;
mod import;
pub mod network;
mod pages;
mod queue;
mod uploads;
mod views;
pub mod vuln;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use mamori_store::Store;

pub use attention::{Attention, Severity, scan as scan_attention, today_jst, today_jst_date};
pub use views::jst;
pub use auth::LoginLimiter;
pub use api::openapi;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (set when served over HTTPS, e.g. behind a TLS proxy).
    pub cookie_secure: bool,
    pub session_ttl: Duration,
    /// Failed logins allowed per client address and per user name within `login_window`.
    pub login_attempts: u32,
    pub login_window: Duration,
    /// Largest file the import wizard accepts, in bytes.
    pub max_upload_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            cookie_secure: false,
            session_ttl: Duration::from_secs(8 * 3600),
            login_attempts: 5,
            login_window: Duration::from_secs(15 * 60),
            max_upload_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub limiter: Arc<LoginLimiter>,
    /// Files in the import wizard, in memory only.
    pub(crate) uploads: Arc<uploads::Uploads>,
}

impl AppState {
    pub fn new(store: Store, config: Config) -> AppState {
        let limiter = Arc::new(LoginLimiter::new(config.login_attempts, config.login_window));
        // All uploads together: a few files of the largest size.
        let uploads = Arc::new(uploads::Uploads::new(config.max_upload_bytes.saturating_mul(8)));
        AppState { store, config: Arc::new(config), limiter, uploads }
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages::routes())
        .merge(import::routes(state.config.max_upload_bytes))
        .merge(queue::routes())
        .merge(checklist::routes())
        .merge(contract::routes())
        .merge(vuln::routes())
        .merge(network::routes())
        .nest("/api/v1", api::routes())
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=()");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    res
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    // Expired sessions are swept hourly so the table does not grow without bound.
    let sweeper = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = store.purge_expired_sessions().await {
                tracing::warn!(error = %e, "could not purge expired sessions");
            }
        }
    });
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let r = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    sweeper.abort();
    r
}
