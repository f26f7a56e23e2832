//! Logging in and out, sessions, CSRF, roles and the login rate limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use mamori_i18n::{Lang, t};
use mamori_model::{Detail, Role, User};
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::views;

pub(crate) const SESSION_COOKIE: &str = "mamori_session";
pub(crate) const LOGIN_CSRF_COOKIE: &str = "mamori_login_csrf";
pub(crate) const LANG_COOKIE: &str = "mamori_lang";

/// The value of one cookie from the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The language of a page: the switch's cookie, else Japanese. Pages are Japanese first
/// whatever the browser asks for; English is one click away.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE).and_then(|v| v.parse().ok()).unwrap_or_default()
}

/// The language of an API answer: the cookie, else `Accept-Language` (ja or en), else ja.
pub(crate) fn api_lang_of(headers: &HeaderMap) -> Lang {
    if let Some(l) = cookie(headers, LANG_COOKIE).and_then(|v| v.parse().ok()) {
        return l;
    }
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.split('-').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// Constant-time comparison for secrets.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn random_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

pub(crate) fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A logged-in person on a page request.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub user: User,
    pub csrf: String,
    pub lang: Lang,
    /// The request path and query, to come back to after switching language.
    pub here: String,
}

impl Ctx {
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        t(self.lang, key)
    }

    pub fn actor(&self) -> String {
        self.user.username.clone()
    }

    /// The vendor whose assets are the only ones this user may see.
    pub fn vendor_scope(&self) -> Option<i64> {
        if self.user.role == Role::Vendor { Some(self.user.vendor_id.unwrap_or(-1)) } else { None }
    }

    /// Refuses unless the form carried this session's CSRF token.
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, token: &str) -> Result<(), Response> {
        if same_secret(&self.csrf, token) {
            Ok(())
        } else {
            Err(views::error_page(self.lang, StatusCode::FORBIDDEN, "error.csrf"))
        }
    }

    #[allow(clippy::result_large_err)]
    pub fn require(&self, allowed: bool) -> Result<(), Response> {
        if allowed {
            Ok(())
        } else {
            Err(views::error_page(self.lang, StatusCode::FORBIDDEN, "error.forbidden"))
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let lang = lang_of(&parts.headers);
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "/".into());
        let login = || {
            let next = if parts.method == axum::http::Method::GET { here.clone() } else { "/".into() };
            Redirect::to(&format!("/login?next={}", views::urlencode(&next))).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else { return Err(login()) };
        match state.store.session(token).await {
            Ok(Some(s)) => Ok(Ctx { user: s.user, csrf: s.csrf_token, lang, here: here.clone() }),
            Ok(None) => Err(login()),
            Err(e) => Err(views::store_error_page(lang, &e)),
        }
    }
}

/// The peer address, when the server was started with connect info.
pub(crate) struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}

/// Counts failed logins per client address and per user name.
pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> LoginLimiter {
        LoginLimiter { max, window, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(ip: Option<IpAddr>, username: &str) -> [String; 2] {
        [
            format!("ip:{}", ip.map(|i| i.to_string()).unwrap_or_default()),
            format!("user:{}", username.to_lowercase()),
        ]
    }

    /// Whether another attempt is allowed now.
    pub fn allowed(&self, ip: Option<IpAddr>, username: &str) -> bool {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(ip, username).iter().all(|k| match map.get(k) {
            Some((n, since)) => *n < self.max || since.elapsed() > self.window,
            None => true,
        })
    }

    pub fn failed(&self, ip: Option<IpAddr>, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() <= window);
        }
        for k in Self::keys(ip, username) {
            let e = map.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() > self.window {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, ip: Option<IpAddr>, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for k in Self::keys(ip, username) {
            map.remove(&k);
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only local paths: `/assets?x`, never `//evil.example` or `https://…`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let csrf = random_token();
    let mut res = views::login_page(lang, &csrf, &safe_next(q.next.as_deref()), None).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &csrf, Some(3600), state.config.cookie_secure),
    );
    res
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub(crate) async fn login_submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let next = safe_next(form.next.as_deref());
    let username: String = form.username.trim().chars().take(64).collect();
    // Login CSRF: the form must come from our login page (double-submit cookie).
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(expected, &form.csrf) {
        return views::error_page(lang, StatusCode::FORBIDDEN, "error.csrf");
    }
    let retry = |msg: &str, status: StatusCode| {
        let mut r = views::login_page(lang, &form.csrf, &next, Some(msg)).into_response();
        *r.status_mut() = status;
        r
    };
    if !state.limiter.allowed(ip, &username) {
        let mut d = Detail::new();
        d.insert("ip".into(), Value::String(ip.map(|i| i.to_string()).unwrap_or_default()));
        let _ = state.store.audit_event(&username, "auth.login_blocked", "user", None, d).await;
        return retry(t(lang, "login.too_many"), StatusCode::TOO_MANY_REQUESTS);
    }
    match state.store.authenticate(&username, &form.password).await {
        Ok(Some(user)) => {
            state.limiter.succeeded(ip, &username);
            let session = match state.store.create_session(user.id, state.config.session_ttl).await {
                Ok(s) => s,
                Err(e) => return views::store_error_page(lang, &e),
            };
            let mut d = Detail::new();
            d.insert("ip".into(), Value::String(ip.map(|i| i.to_string()).unwrap_or_default()));
            if let Err(e) = state.store.audit_event(&user.username, "auth.login", "user", Some(user.id), d).await {
                return views::store_error_page(lang, &e);
            }
            let mut res = Redirect::to(&next).into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    &session.token,
                    Some(state.config.session_ttl.as_secs()),
                    state.config.cookie_secure,
                ),
            );
            h.append(header::SET_COOKIE, set_cookie(LOGIN_CSRF_COOKIE, "", Some(0), state.config.cookie_secure));
            res
        }
        Ok(None) => {
            state.limiter.failed(ip, &username);
            let mut d = Detail::new();
            d.insert("ip".into(), Value::String(ip.map(|i| i.to_string()).unwrap_or_default()));
            let _ = state.store.audit_event(&username, "auth.login_failed", "user", None, d).await;
            retry(t(lang, "login.failed"), StatusCode::UNAUTHORIZED)
        }
        Err(e) => views::store_error_page(lang, &e),
    }
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(&form.csrf) {
        return r;
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let _ = state.store.delete_session(token).await;
    }
    let _ = state.store.audit_event(&ctx.actor(), "auth.logout", "user", Some(ctx.user.id), Detail::new()).await;
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, set_cookie(SESSION_COOKIE, "", Some(0), state.config.cookie_secure));
    res
}

#[derive(Deserialize)]
pub(crate) struct LangQuery {
    next: Option<String>,
}

/// Switches the interface language (a preference cookie only; no data changes).
pub(crate) async fn switch_lang(
    State(state): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang: Lang = code.parse().unwrap_or_default();
    let mut res = Redirect::to(&safe_next(q.next.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), Some(365 * 24 * 3600), state.config.cookie_secure),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_is_local_only() {
        assert_eq!(safe_next(Some("/assets?q=1")), "/assets?q=1");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn limiter_blocks_after_max_failures_and_resets_on_success() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            assert!(l.allowed(ip, "admin"));
            l.failed(ip, "admin");
        }
        assert!(!l.allowed(ip, "admin"));
        assert!(!l.allowed(ip, "other"), "same address");
        assert!(!l.allowed(Some(IpAddr::from([127, 0, 0, 2])), "admin"), "same user name");
        l.succeeded(ip, "admin");
        assert!(l.allowed(ip, "admin"));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; mamori_session=abc; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
