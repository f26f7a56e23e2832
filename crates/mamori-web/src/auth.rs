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

    /// A form that changes records: the CSRF token, then a role that may edit.
    #[allow(clippy::result_large_err)]
    pub fn check_edit(&self, token: &str) -> Result<(), Response> {
        self.check_csrf(token)?;
        self.require(self.user.role.can_edit())
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

    /// Records an attempt and says whether it may go ahead.
    ///
    /// The attempt is counted *before* the password is checked, so parallel requests cannot
    /// all slip through while the (slow) hash is computed; a success gives its count back.
    pub fn try_attempt(&self, ip: Option<IpAddr>, username: &str) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            let window = self.window;
            map.retain(|_, (_, since)| since.elapsed() <= window);
        }
        let keys = Self::keys(ip, username);
        let blocked = keys.iter().any(|k| match map.get(k) {
            Some((n, since)) => *n >= self.max && since.elapsed() <= self.window,
            None => false,
        });
        if blocked {
            return false;
        }
        for k in keys {
            let e = map.entry(k).or_insert((0, Instant::now()));
            if e.1.elapsed() > self.window {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
        true
    }

    /// A successful login: the user's failures are forgiven, and this attempt's count is given
    /// back to the address (other failures from it stay, so a valid account cannot be used to
    /// reset the counter while guessing other users' passwords).
    pub fn succeeded(&self, ip: Option<IpAddr>, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let [ip_key, user_key] = Self::keys(ip, username);
        map.remove(&user_key);
        if let Some(e) = map.get_mut(&ip_key) {
            e.0 = e.0.saturating_sub(1);
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

/// Only local paths: `/assets?x`, never `//evil.example` or `https://…`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    // Browsers drop tabs and newlines from URLs, so `/\t/evil.example` would become
    // `//evil.example`: allow only printable ASCII without backslash, then refuse `//`.
    match next {
        Some(n)
            if n.starts_with('/')
                && n.bytes().all(|b| (0x21..0x7f).contains(&b) && b != b'\\')
                && !n.starts_with("//") =>
        {
            n.to_owned()
        }
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
    if !state.limiter.try_attempt(ip, &username) {
        // Not audited: anyone can send these, and the audit log is permanent.
        tracing::warn!(ip = ?ip, "login refused by the rate limit");
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
            let mut d = Detail::new();
            d.insert("ip".into(), Value::String(ip.map(|i| i.to_string()).unwrap_or_default()));
            // A name that is no user (perhaps a password typed in the wrong field) is not kept.
            let known = state.store.user_id_by_name(&username).await.ok().flatten();
            let actor = if known.is_some() { username.as_str() } else { "(unknown)" };
            let _ = state.store.audit_event(actor, "auth.login_failed", "user", known, d).await;
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
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/ /evil.example")), "/");
    }

    #[test]
    fn limiter_blocks_after_max_failures_and_resets_on_success() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let ip = Some(IpAddr::from([127, 0, 0, 1]));
        for _ in 0..3 {
            assert!(l.try_attempt(ip, "admin"));
        }
        assert!(!l.try_attempt(ip, "admin"));
        assert!(!l.try_attempt(ip, "other"), "same address");
        assert!(!l.try_attempt(Some(IpAddr::from([127, 0, 0, 2])), "admin"), "same user name");
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        // Successful logins from one address (a clinic behind NAT) never add up.
        for _ in 0..10 {
            assert!(l.try_attempt(ip, "nurse"));
            l.succeeded(ip, "nurse");
        }
        // But a valid login does not wipe the address's failures.
        assert!(l.try_attempt(ip, "admin"));
        assert!(l.try_attempt(ip, "admin"));
        assert!(l.try_attempt(ip, "vendor"));
        l.succeeded(ip, "vendor");
        assert!(l.try_attempt(ip, "doctor"));
        assert!(!l.try_attempt(ip, "doctor2"));
    }

    #[test]
    fn cookies_parse() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; mamori_session=abc; b=2"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
