//! `mamori feed sync`: fetches NVD (incremental by lastModified, paged, resumable, rate
//! limited, API key optional), CISA KEV, FIRST EPSS, JVN iPedia and configured CSAF providers
//! (provider metadata → ROLIE feeds or `changes.csv` → advisories, SHA-512 checked when
//! published), and imports each download like `feed import` does.
//!
//! Only HTTPS is used, except to a loopback address (the tests serve fixtures on 127.0.0.1).

use std::collections::BTreeMap;
use std::io::Read;
use std::time::Duration;

use clap::Args;
use mamori_i18n::{Lang, tf};
use mamori_store::Store;
use mamori_store::feedsource::FeedInput;
use mamori_store::vuln::{FeedImportCounts, FeedKind};
use mamori_vuln::csaf;
use serde_json::{Value, json};
use sha2::{Digest, Sha512};

use crate::cli::{CliResult, Failure, Format, io_fail};
use crate::output;
use crate::vuln::{counts_line, run_match};

const NVD_URL: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";
const KEV_URL: &str = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json";
const EPSS_URL: &str = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz";
const JVN_URL: &str = "https://jvndb.jvn.jp/ja/rss/jvndb.rdf";
/// NVD's page size limit for CVEs.
const NVD_PAGE: u64 = 2000;
/// NVD accepts lastModified windows of at most 120 days.
const NVD_WINDOW_DAYS: i64 = 120;
/// Downloads larger than this are refused (a full EPSS file is ~10 MB compressed).
const MAX_DOWNLOAD: u64 = 512 * 1024 * 1024;

#[derive(Args)]
pub struct SyncArgs {
    /// 取得するフィード（既定: すべて） / Feeds to fetch (default: all)
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// NVD CVE API 2.0 の URL / NVD CVE API URL
    #[arg(long, default_value = NVD_URL)]
    nvd_url: String,
    /// KEV カタログの URL / KEV catalog URL
    #[arg(long, default_value = KEV_URL)]
    kev_url: String,
    /// EPSS の URL / EPSS file URL
    #[arg(long, default_value = EPSS_URL)]
    epss_url: String,
    /// JVN iPedia の RSS の URL / JVN iPedia RSS URL
    #[arg(long, default_value = JVN_URL)]
    jvn_url: String,
    /// CSAF プロバイダの provider-metadata.json の URL（複数可。環境変数 MAMORI_CSAF_PROVIDERS にカンマ区切りでも可） / CSAF providers
    #[arg(long = "csaf-provider", env = "MAMORI_CSAF_PROVIDERS", value_delimiter = ',')]
    csaf_providers: Vec<String>,
    /// NVD の API キーを読む環境変数（キーは記録・表示しない） / Environment variable holding the NVD API key
    #[arg(long, default_value = "NVD_API_KEY")]
    nvd_api_key_env: String,
    /// NVD への要求の間隔（ミリ秒。既定: キーなし 6000、キーあり 600） / Pause between NVD requests
    #[arg(long)]
    nvd_delay_ms: Option<u64>,
    /// NVD を差分でなく全件取得し直す / Fetch all of NVD again instead of the changes
    #[arg(long)]
    full: bool,
    /// 取得後に資産との照合をしない / Do not match the inventory afterwards
    #[arg(long)]
    no_match: bool,
    /// KEV 掲載の脆弱性の対応期限（日） / Days to fix a KEV-listed vulnerability
    #[arg(long, default_value_t = 7)]
    kev_days: u32,
    /// 出力形式 / Output format
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

/// Refuses anything but HTTPS, except to loopback. The host is what follows the user info
/// (`http://127.0.0.1:1@example.com/` is a request to example.com).
fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let rest = url.strip_prefix("http://").ok_or_else(|| format!("{url}: only https:// URLs are fetched"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let refused = || format!("{url}: only https:// URLs are fetched (http only to loopback)");
    if authority.contains('@') || authority.contains('\\') {
        return Err(refused());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    if ["127.0.0.1", "localhost", "::1"].contains(&host.as_str()) { Ok(()) } else { Err(refused()) }
}

struct Http {
    agent: ureq::Agent,
}

impl Http {
    fn new() -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(600)))
            .http_status_as_error(false)
            .user_agent(concat!("mamori/", env!("CARGO_PKG_VERSION")))
            .build();
        Http { agent: config.into() }
    }

    /// GET with up to three retries on 403/429/5xx (NVD answers 403 when rate limited).
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Vec<u8>, String> {
        check_url(url)?;
        let mut wait = Duration::from_secs(2);
        for attempt in 0..4 {
            let mut req = self.agent.get(url);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            match req.call() {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    if status == 200 {
                        let mut body = Vec::new();
                        resp.body_mut()
                            .as_reader()
                            .take(MAX_DOWNLOAD + 1)
                            .read_to_end(&mut body)
                            .map_err(|e| format!("{url}: {e}"))?;
                        if body.len() as u64 > MAX_DOWNLOAD {
                            return Err(format!("{url}: larger than {MAX_DOWNLOAD} bytes"));
                        }
                        return Ok(body);
                    }
                    if !(status == 403 || status == 429 || status >= 500) || attempt == 3 {
                        return Err(format!("{url}: HTTP {status}"));
                    }
                }
                Err(e) if attempt == 3 => return Err(format!("{url}: {e}")),
                Err(_) => {}
            }
            std::thread::sleep(wait);
            wait *= 2;
        }
        Err(format!("{url}: no answer"))
    }
}

async fn fetch(http: &std::sync::Arc<Http>, url: String, headers: Vec<(String, String)>) -> Result<Vec<u8>, String> {
    let http = http.clone();
    tokio::task::spawn_blocking(move || {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        http.get(&url, &h)
    })
    .await
    .map_err(|e| e.to_string())?
}

fn now_utc() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

/// NVD's date parameter format (UTC, milliseconds, explicit zone).
fn nvd_date(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3f+00:00").to_string()
}

fn with_params(base: &str, params: &[(&str, String)]) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(':', "%3A"))).collect();
    format!("{base}{sep}{}", q.join("&"))
}

pub async fn run(store: &Store, lang: Lang, who: &str, a: &SyncArgs) -> CliResult {
    let json_out = a.format == Format::Json;
    let wanted = |k: &str| a.only.is_empty() || a.only.iter().any(|o| o == k);
    let http = std::sync::Arc::new(Http::new());
    let mut all: Vec<FeedImportCounts> = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let say = |c: &FeedImportCounts| {
        if !json_out {
            println!("{}", counts_line(lang, c));
        }
    };
    for (kind, url, name) in [("kev", &a.kev_url, "kev"), ("epss", &a.epss_url, "epss"), ("jvn", &a.jvn_url, "jvn")] {
        if !wanted(kind) {
            continue;
        }
        if let Err(e) = check_url(url) {
            errors.push(format!("{name}: {e}"));
            continue;
        }
        if !json_out {
            println!("{}", tf(lang, "feed_cli.fetching", &[("url", url)]));
        }
        match fetch(&http, url.clone(), Vec::new()).await {
            Ok(data) => match store.import_feed_input(who, FeedInput::Bytes { name: url.clone(), data }).await {
                Ok(c) => {
                    say(&c);
                    all.push(c);
                }
                Err(e) => errors.push(format!("{name}: {}", e.localized(lang))),
            },
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    if wanted("nvd") {
        match sync_nvd(store, lang, who, a, &http, json_out).await {
            Ok(mut v) => all.append(&mut v),
            Err(e) => errors.push(format!("nvd: {e}")),
        }
    }
    if wanted("csaf") {
        for p in &a.csaf_providers {
            match sync_csaf(store, who, p, &http).await {
                Ok(v) => {
                    for c in v {
                        say(&c);
                        all.push(c);
                    }
                }
                Err(e) => errors.push(format!("csaf {p}: {e}")),
            }
        }
    }
    if let Err(e) = store.refresh_product_entries().await {
        errors.push(e.localized(lang));
    }
    let summary = if a.no_match || all.is_empty() { None } else { Some(run_match(store, lang, who, a.kev_days, json_out).await?) };
    if json_out {
        output::json(&mut std::io::stdout().lock(), &json!({"files": all, "match": summary, "errors": errors})).map_err(io_fail)?;
    }
    if !errors.is_empty() {
        let msg = errors.join("\n");
        return Err(Failure(tf(lang, "feed_cli.sync_failed", &[("detail", &msg)]), 1));
    }
    Ok(())
}

/// NVD: pages through the changes since the last sync (or everything), saving where it is
/// after every page, so an interrupted sync resumes at the page it stopped on.
async fn sync_nvd(store: &Store, lang: Lang, who: &str, a: &SyncArgs, http: &std::sync::Arc<Http>, json_out: bool) -> Result<Vec<FeedImportCounts>, String> {
    let key = std::env::var(&a.nvd_api_key_env).ok().filter(|k| !k.trim().is_empty());
    let delay = Duration::from_millis(a.nvd_delay_ms.unwrap_or(if key.is_some() { 600 } else { 6000 }));
    let mut headers = Vec::new();
    if let Some(k) = &key {
        headers.push(("apiKey".to_owned(), k.clone()));
    }
    let state = store.sync_state(FeedKind::Nvd).await.map_err(|e| e.to_string())?.unwrap_or(Value::Null);
    let now = now_utc();
    // A pending window (interrupted run) is resumed as it was; otherwise a new one starts at
    // the end of the last completed run.
    let (mut start, end, mut index) = match state.get("pending") {
        Some(p) if !a.full => (
            p.get("start").and_then(Value::as_str).map(str::to_owned),
            p.get("end").and_then(Value::as_str).map(str::to_owned).unwrap_or_else(|| nvd_date(now)),
            p.get("index").and_then(Value::as_u64).unwrap_or(0),
        ),
        _ => {
            let last = if a.full { None } else { state.get("last_end").and_then(Value::as_str).map(str::to_owned) };
            (last, nvd_date(now), 0)
        }
    };
    // Windows over 120 days are not accepted: fetch everything instead.
    if let Some(s) = &start
        && let (Ok(s_ts), Ok(e_ts)) = (s.replace("+00:00", "Z").parse::<jiff::Timestamp>(), end.replace("+00:00", "Z").parse::<jiff::Timestamp>())
        && e_ts.duration_since(s_ts).as_secs() > NVD_WINDOW_DAYS * 86_400
    {
        start = None;
        index = 0;
    }
    let mut out = Vec::new();
    loop {
        let mut params = vec![("resultsPerPage", NVD_PAGE.to_string()), ("startIndex", index.to_string())];
        if let Some(s) = &start {
            params.push(("lastModStartDate", s.clone()));
            params.push(("lastModEndDate", end.clone()));
        }
        let url = with_params(&a.nvd_url, &params);
        if !json_out {
            println!("{}", tf(lang, "feed_cli.fetching", &[("url", &url)]));
        }
        let data = fetch(http, url.clone(), headers.clone()).await?;
        // Paging numbers come from the page itself.
        let head: Value = serde_json::from_slice(&data).map_err(|e| format!("{url}: {e}"))?;
        let total = head.get("totalResults").and_then(Value::as_u64).unwrap_or(0);
        let per_page = head.get("resultsPerPage").and_then(Value::as_u64).unwrap_or(0);
        let name = format!("NVD API startIndex={index}{}", start.as_ref().map(|s| format!(" lastModStartDate={s}")).unwrap_or_default());
        let c = store.import_feed_input(who, FeedInput::Bytes { name, data }).await.map_err(|e| e.localized(lang))?;
        if !json_out {
            println!("{}", counts_line(lang, &c));
        }
        out.push(c);
        index += per_page;
        let pending = json!({"start": start, "end": end, "index": index});
        let done = per_page == 0 || index >= total;
        let new_state = if done { json!({"last_end": end}) } else { json!({"last_end": state.get("last_end"), "pending": pending}) };
        store.set_sync_state(FeedKind::Nvd, &new_state).await.map_err(|e| e.to_string())?;
        if done {
            break;
        }
        tokio::time::sleep(delay).await;
    }
    Ok(out)
}

/// CSAF provider: metadata → ROLIE feeds (or the directory's `changes.csv`) → advisories not
/// seen before (by URL and update time).
async fn sync_csaf(store: &Store, who: &str, provider: &str, http: &std::sync::Arc<Http>) -> Result<Vec<FeedImportCounts>, String> {
    let meta = fetch(http, provider.to_owned(), Vec::new()).await?;
    let meta = csaf::read_provider_metadata(provider, meta.as_slice()).map_err(|e| e.to_string())?;
    let state = store.sync_state(FeedKind::Csaf).await.map_err(|e| e.to_string())?.unwrap_or(Value::Null);
    let mut seen: BTreeMap<String, String> = state.get(provider).and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
    let mut docs: Vec<(String, String, Option<String>)> = Vec::new();
    for f in &meta.rolie_feeds {
        let feed = fetch(http, f.url.clone(), Vec::new()).await?;
        for e in csaf::read_rolie_feed(&f.url, feed.as_slice()).map_err(|e| e.to_string())? {
            docs.push((e.url, e.updated, e.hash_url));
        }
    }
    for dir in &meta.directory_urls {
        let base = dir.trim_end_matches('/');
        let url = format!("{base}/changes.csv");
        let changes = fetch(http, url.clone(), Vec::new()).await?;
        for (path, ts) in csaf::read_changes_csv(&url, changes.as_slice()).map_err(|e| e.to_string())? {
            docs.push((format!("{base}/{path}"), ts, None));
        }
    }
    let mut out = Vec::new();
    for (url, updated, hash_url) in docs {
        if seen.get(&url) == Some(&updated) {
            continue;
        }
        let data = fetch(http, url.clone(), Vec::new()).await?;
        // The published hash (`.sha512` or `.sha256`, as the ROLIE link names it; the CSAF
        // convention `<advisory>.sha512` otherwise) must match when there is one.
        let hash_url = hash_url.unwrap_or_else(|| format!("{url}.sha512"));
        if let Ok(expected) = fetch(http, hash_url.clone(), Vec::new()).await {
            let expected = String::from_utf8_lossy(&expected);
            let expected = expected.split_whitespace().next().unwrap_or_default().to_lowercase();
            let (name, actual) = if hash_url.ends_with(".sha256") {
                ("SHA-256", hex::encode(sha2::Sha256::digest(&data)))
            } else {
                ("SHA-512", hex::encode(Sha512::digest(&data)))
            };
            if expected != actual {
                return Err(format!("{url}: {name} does not match {hash_url}"));
            }
        }
        let c = store.import_feed_input(who, FeedInput::Bytes { name: url.clone(), data }).await.map_err(|e| e.to_string())?;
        out.push(c);
        seen.insert(url, updated);
        let mut all = state.as_object().cloned().unwrap_or_default();
        all.insert(provider.to_owned(), json!(seen));
        store.set_sync_state(FeedKind::Csaf, &Value::Object(all)).await.map_err(|e| e.to_string())?;
    }
    if out.is_empty() {
        tracing::info!(provider, "no new CSAF advisories");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_except_loopback() {
        assert!(check_url("https://services.nvd.nist.gov/rest/json/cves/2.0").is_ok());
        assert!(check_url("http://127.0.0.1:8080/kev.json").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://[::1]:8080/x").is_ok());
        assert!(check_url("http://127.0.0.1:1@example.invalid/kev.json").is_err(), "user info is not the host");
        assert!(check_url("http://127.0.0.1.example.com/x").is_err());
        assert!(check_url("http://example.com/kev.json").is_err());
        assert!(check_url("ftp://127.0.0.1/x").is_err());
        assert_eq!(with_params("http://h/x", &[("lastModStartDate", "2026-01-01T00:00:00.000+00:00".into())]), "http://h/x?lastModStartDate=2026-01-01T00%3A00%3A00.000%2B00%3A00");
    }
}
