//! HTML building blocks: the page layout, the login and error pages, and small formatters.
//!
//! maud escapes every interpolated value, so text from the database or a request can never
//! become markup. No inline script or style is emitted (the CSP forbids both).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use mamori_i18n::{Lang, t};
use mamori_model::Role;
use mamori_store::StoreError;

use crate::auth::Ctx;

pub(crate) const CSS: &str = include_str!("../static/app.css");
pub(crate) const JS: &str = include_str!("../static/app.js");

/// Percent-encodes a query-string value.
pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A stored UTC timestamp shown in Japan time (`2026-11-25 09:15`).
/// A stored UTC timestamp as Japan time, `YYYY-MM-DD HH:MM`; other text unchanged.
pub fn jst(ts: &str) -> String {
    let Ok(t) = ts.parse::<jiff::Timestamp>() else { return ts.to_owned() };
    match jiff::tz::TimeZone::get("Asia/Tokyo") {
        Ok(tz) => t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string(),
        Err(_) => ts.to_owned(),
    }
}

pub(crate) fn opt(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("—")
}

fn nav_item(ctx: &Ctx, href: &str, key: &str) -> Markup {
    let active = if href == "/" { ctx.here == "/" } else { ctx.here.starts_with(href) };
    html! {
        a href=(href) class=[active.then_some("active")] { (ctx.t(key)) }
    }
}

/// The frame of every page after login.
pub(crate) fn layout(ctx: &Ctx, facility: &str, title: &str, body: Markup) -> Response {
    layout_with_head(ctx, facility, title, html! {}, body)
}

/// [`layout`] with extra elements in `<head>` (a refresh for a progress page).
pub(crate) fn layout_with_head(ctx: &Ctx, facility: &str, title: &str, head: Markup, body: Markup) -> Response {
    let other = match ctx.lang {
        Lang::Ja => Lang::En,
        Lang::En => Lang::Ja,
    };
    let page = html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — mamori" }
                link rel="stylesheet" href="/static/app.css";
                script src="/static/app.js" defer {}
                (head)
            }
            body {
                header.top {
                    a.brand href="/" { span.mark { "守" } " mamori" }
                    span.facility { (facility) }
                    nav.main {
                        (nav_item(ctx, "/", "nav.dashboard"))
                        (nav_item(ctx, "/assets", "nav.assets"))
                        @if ctx.user.role.can_edit() {
                            (nav_item(ctx, "/import", "import_page.nav"))
                        }
                        @if ctx.user.role != Role::Vendor {
                            (nav_item(ctx, "/unregistered", "unregistered_page.nav"))
                            (nav_item(ctx, "/stocktake", "stocktake_page.nav"))
                        }
                        (nav_item(ctx, "/checklist", "checklist_page.nav"))
                        (nav_item(ctx, "/vulns", "vuln_page.nav"))
                        @if ctx.user.role != Role::Vendor {
                            (nav_item(ctx, "/network", "network_page.nav"))
                            (nav_item(ctx, "/contract", "contract_page.nav"))
                        }
                        @if matches!(ctx.user.role, Role::Admin | Role::Manager) {
                            (nav_item(ctx, "/audit", "nav.audit"))
                        }
                        @if ctx.user.role == Role::Admin {
                            (nav_item(ctx, "/users", "nav.users"))
                        }
                    }
                    div.account {
                        a.lang href={ "/lang/" (other.code()) "?next=" (urlencode(&ctx.here)) } {
                            (t(other, "lang.name"))
                        }
                        span.who {
                            (ctx.user.display_name.as_deref().unwrap_or(&ctx.user.username))
                            " (" (ctx.t(&ctx.user.role.label_key())) ")"
                        }
                        form method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(ctx.csrf);
                            button.link type="submit" { (ctx.t("nav.logout")) }
                        }
                    }
                }
                main { (body) }
                footer { "mamori — " (ctx.t("app.tagline")) }
            }
        }
    };
    Html(page.into_string()).into_response()
}

pub(crate) fn login_page(lang: Lang, csrf: &str, next: &str, message: Option<&str>) -> Html<String> {
    let other = match lang {
        Lang::Ja => Lang::En,
        Lang::En => Lang::Ja,
    };
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (t(lang, "login.title")) " — mamori" }
                link rel="stylesheet" href="/static/app.css";
            }
            body.login {
                main.login-box {
                    h1 { span.mark { "守" } " mamori" }
                    p.sub { (t(lang, "app.tagline")) }
                    @if let Some(m) = message {
                        p.alert.error role="alert" { (m) }
                    }
                    form method="post" action="/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="next" value=(next);
                        label { (t(lang, "login.username"))
                            input type="text" name="username" autocomplete="username" required autofocus;
                        }
                        label { (t(lang, "login.password"))
                            input type="password" name="password" autocomplete="current-password" required;
                        }
                        button.primary type="submit" { (t(lang, "login.submit")) }
                    }
                    p.lang-switch {
                        a href={ "/lang/" (other.code()) "?next=" (urlencode(&format!("/login?next={}", urlencode(next)))) } {
                            (t(other, "lang.name"))
                        }
                    }
                }
            }
        }
    };
    Html(page.into_string())
}

/// A full page for an error, for requests that may not have a session.
pub(crate) fn error_page(lang: Lang, status: StatusCode, key: &str) -> Response {
    message_page(lang, status, t(lang, key))
}

pub(crate) fn message_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let page = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " — mamori" }
                link rel="stylesheet" href="/static/app.css";
            }
            body.login {
                main.login-box {
                    h1 { span.mark { "守" } " " (status.as_u16()) }
                    p.alert.error role="alert" { (message) }
                    p { a href="/" { (t(lang, "nav.back_home")) } }
                }
            }
        }
    };
    (status, Html(page.into_string())).into_response()
}

pub(crate) fn store_status(e: &StoreError) -> StatusCode {
    match e {
        StoreError::Missing { .. } => StatusCode::NOT_FOUND,
        StoreError::Invalid(_) | StoreError::Format(_) => StatusCode::UNPROCESSABLE_ENTITY,
        StoreError::Conflict(_) | StoreError::NotEmpty(_) => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub(crate) fn store_error_page(lang: Lang, e: &StoreError) -> Response {
    let status = store_status(e);
    if status == StatusCode::INTERNAL_SERVER_ERROR {
        tracing::error!(error = %e, "request failed");
    }
    message_page(lang, status, &e.localized(lang))
}

/// A coloured label for a severity or state.
pub(crate) fn badge(class: &str, text: &str) -> Markup {
    html! { span class={ "badge " (class) } { (text) } }
}

/// The facility's name for the page header ("" before `init`).
pub(crate) async fn facility_name(state: &crate::AppState) -> String {
    state.store.facility().await.ok().flatten().map(|f| f.name).unwrap_or_default()
}

/// An embedded static file.
pub(crate) fn static_file(mime: &'static str, body: &'static str) -> Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, mime), (axum::http::header::CACHE_CONTROL, "public, max-age=3600")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_in_japan() {
        assert_eq!(jst("2026-11-25T00:30:00Z"), "2026-11-25 09:30");
        assert_eq!(jst("garbage"), "garbage");
    }

    #[test]
    fn urlencoding() {
        assert_eq!(urlencode("/assets?q=受付 1&x"), "/assets%3Fq%3D%E5%8F%97%E4%BB%98%201%26x");
    }
}
