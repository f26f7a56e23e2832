//! The vulnerability feed corpus: NVD CVE records, the CISA KEV catalog, FIRST EPSS scores,
//! JVN iPedia advisories and vendor statements (CSAF advisories, CSAF/CycloneDX VEX).
//!
//! A feed file is written in one transaction, fed by a parser on another thread through a
//! bounded channel ([`FeedBatch`]); the last message is [`FeedBatch::Done`] with the file's
//! checksum and the feed's own date. If the parser fails, the channel closes without `Done` and
//! nothing of the file is kept. Every file leaves a row in `vuln_feed_runs` (what `feed status`
//! reads) and a `feed.import` audit entry.
//!
//! NVD records are upserted by `lastModified`: an older copy never replaces a newer one, so
//! yearly files and the modified feed can be imported in any order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_model::Detail;
use mamori_vuln::cpe::Cpe;
use mamori_vuln::epss::EpssScore;
use mamori_vuln::jvn::JvnAdvisory;
use mamori_vuln::kev::KevEntry;
use mamori_vuln::model::{Configuration, CveRecord};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use tokio::sync::mpsc::Receiver;

use crate::util::{b2i, batch_placeholders, now};
use crate::{Backend, Result, Store, StoreError, WriteTx};

/// The kinds of feed mamori reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    Nvd,
    Kev,
    Epss,
    Jvn,
    Csaf,
    Vex,
}

impl FeedKind {
    pub const ALL: [FeedKind; 6] = [FeedKind::Nvd, FeedKind::Kev, FeedKind::Epss, FeedKind::Jvn, FeedKind::Csaf, FeedKind::Vex];

    pub fn code(self) -> &'static str {
        match self {
            FeedKind::Nvd => "nvd",
            FeedKind::Kev => "kev",
            FeedKind::Epss => "epss",
            FeedKind::Jvn => "jvn",
            FeedKind::Csaf => "csaf",
            FeedKind::Vex => "vex",
        }
    }

    pub fn parse(s: &str) -> Option<FeedKind> {
        FeedKind::ALL.into_iter().find(|k| k.code() == s)
    }

    /// After how many days without an update `feed status` warns. NVD, KEV and EPSS change
    /// daily; JVN weekly; vendor advisories come when they come (no warning).
    pub fn stale_after_days(self) -> Option<i64> {
        match self {
            FeedKind::Nvd | FeedKind::Kev | FeedKind::Epss => Some(7),
            FeedKind::Jvn => Some(14),
            FeedKind::Csaf | FeedKind::Vex => None,
        }
    }
}

/// What a feed file was: recorded with its contents.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FeedRun {
    pub sha256: String,
    /// The feed's own date (NVD timestamp, KEV catalog version, EPSS score date …).
    pub feed_date: Option<String>,
    pub records: u64,
    pub skipped: u64,
    /// Reader statistics worth keeping (model version, paging, skipped records …).
    pub detail: Value,
}

/// A vendor statement about one product and one vulnerability (CSAF product status, VEX).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VendorStatement {
    pub cve: String,
    /// CPE vendor and product (from the product's CPE, or its names normalised).
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub product_name: String,
    /// One version, or a `vers:` range, or neither (all versions).
    pub version: Option<String>,
    pub version_range: Option<String>,
    pub cpe: Option<String>,
    pub purl: Option<String>,
    /// `affected`, `fixed`, `not_affected`, `under_investigation`.
    pub status: String,
    pub justification: Option<String>,
    pub remediation: Option<String>,
    pub url: Option<String>,
    pub exploited: bool,
    pub cvss_score: Option<f64>,
}

/// A vendor document (CSAF advisory, CSAF VEX, CycloneDX VEX) reduced to its statements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VendorDocument {
    /// `csaf` or `cyclonedx-vex`.
    pub origin: String,
    pub publisher: String,
    pub tracking_id: String,
    pub title: String,
    pub current_release: Option<String>,
    pub statements: Vec<VendorStatement>,
}

/// What a parser hands to [`Store::import_vuln_feed`].
#[derive(Debug)]
pub enum FeedBatch {
    Cves(Vec<CveRecord>),
    /// Ids of records the feed now marks `Rejected`: removed from the corpus.
    Rejected(Vec<String>),
    Kev(Vec<KevEntry>),
    Epss(Vec<EpssScore>),
    Jvn(Vec<JvnAdvisory>),
    Document(VendorDocument),
    /// The file was read to the end.
    Done(FeedRun),
}

/// What importing one feed file changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct FeedImportCounts {
    pub kind: Option<FeedKind>,
    pub source: String,
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Already present with the same or a newer `lastModified`.
    pub unchanged: u64,
    pub removed: u64,
    pub skipped: u64,
    pub feed_date: Option<String>,
}

/// Freshness of one feed kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedStatus {
    pub kind: FeedKind,
    pub last_import: Option<String>,
    pub last_source: Option<String>,
    pub last_sha256: Option<String>,
    pub feed_date: Option<String>,
    pub imported_files: i64,
    /// Rows of the corpus this kind provides.
    pub records: i64,
    pub age_days: Option<i64>,
    pub stale: bool,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Format(e.to_string()))
}

/// Rows per multi-row statement, from the column count (under SQLite's 32,766 parameters).
fn rows_per_statement(columns: usize) -> usize {
    (4000 / columns).max(1)
}

pub(crate) async fn insert_rows(tx: &mut WriteTx<'_>, backend: Backend, head: &str, tail: &str, columns: usize, rows: Vec<Vec<Param>>) -> Result<()> {
    insert_rows_on(&mut tx.tx, backend, head, tail, columns, rows).await
}

/// As [`insert_rows`], on a connection (a migration's transaction).
async fn insert_rows_on(conn: &mut sqlx::AnyConnection, backend: Backend, head: &str, tail: &str, columns: usize, rows: Vec<Vec<Param>>) -> Result<()> {
    for chunk in rows.chunks(rows_per_statement(columns)) {
        let mut values = Vec::with_capacity(chunk.len());
        for (i, _) in chunk.iter().enumerate() {
            values.push(format!("({})", batch_placeholders(backend, i * columns + 1, columns)));
        }
        let sql = format!("{head} VALUES {} {tail}", values.join(", "));
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for p in row {
                q = match p {
                    Param::Text(s) => q.bind(s.clone()),
                    Param::OptText(s) => q.bind(s.clone()),
                    Param::Int(i) => q.bind(*i),
                    Param::OptReal(r) => q.bind(*r),
                    Param::Real(r) => q.bind(*r),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Writes the matching index of the CVEs stored before it existed (schema v7), in the
/// migration's transaction. A configuration that does not decode is left to its tree (NULL), and
/// matching reports it as before.
pub(crate) async fn backfill_match_index(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
    let mut after = String::new();
    loop {
        let rows = sqlx::query("SELECT id, configurations FROM vuln_cves WHERE id > $1 ORDER BY id LIMIT 2000").bind(after.clone()).fetch_all(&mut *conn).await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0)?;
        write_index_of(conn, backend, &rows).await?;
    }
    Ok(())
}

/// Writes the index entries of the CVEs whose rows have none (NULL): those v7 left to their
/// trees, which this version may index.
pub(crate) async fn rebuild_unindexed(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT DISTINCT cve_id FROM vuln_cve_products WHERE criteria IS NULL ORDER BY cve_id").fetch_all(&mut *conn).await?;
    for chunk in ids.chunks(500) {
        let sql = format!("SELECT id, configurations FROM vuln_cves WHERE id IN ({})", batch_placeholders(backend, 1, chunk.len()));
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id.clone());
        }
        let rows = q.fetch_all(&mut *conn).await?;
        write_index_of(conn, backend, &rows).await?;
    }
    Ok(())
}

/// Writes (or rewrites) the index entries of CVEs read as `(id, configurations)`.
async fn write_index_of(conn: &mut sqlx::AnyConnection, backend: Backend, rows: &[sqlx::any::AnyRow]) -> Result<()> {
    const INSERT: &str = "INSERT INTO vuln_cve_products (vendor, product, cve_id, criteria)";
    const UPSERT: &str = "ON CONFLICT (vendor, product, cve_id) DO UPDATE SET criteria = excluded.criteria";
    let mut products = Vec::new();
    for r in rows {
        let id: String = r.try_get(0)?;
        let json: String = r.try_get(1)?;
        let Ok(configs) = serde_json::from_str::<Vec<Configuration>>(&json) else { continue };
        products.extend(mamori_vuln::index::entries(&configs).into_iter().map(|(v, p, e)| vec![t(v), t(p), t(id.clone()), t(e)]));
    }
    insert_rows_on(conn, backend, INSERT, UPSERT, 4, products).await
}

/// A bound value of a multi-row insert.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    Real(f64),
    OptReal(Option<f64>),
}

fn t(s: impl Into<String>) -> Param {
    Param::Text(s.into())
}

fn ot(s: Option<impl Into<String>>) -> Param {
    Param::OptText(s.map(Into::into))
}

/// The NVD record as stored: summary columns and the JSON parts.
fn cve_row(r: &CveRecord) -> Result<Vec<Param>> {
    let best = r.best_cvss();
    let detail = serde_json::json!({
        "cvss": r.cvss,
        "references": r.references,
        "tags": r.tags,
        "kev": r.kev,
        "source_identifier": r.source_identifier,
        "descriptions": r.descriptions.iter().filter(|d| d.lang != "en").collect::<Vec<_>>(),
    });
    Ok(vec![
        t(r.id.clone()),
        Param::OptText(Some(r.published.clone()).filter(|s| !s.is_empty())),
        t(r.last_modified.clone()),
        t(r.status.clone()),
        Param::OptReal(best.map(|c| c.base_score)),
        ot(best.map(|c| c.version.clone())),
        ot(best.map(|c| c.vector.clone())),
        ot(best.map(|c| c.severity.clone())),
        t(r.description("en").unwrap_or_default().to_owned()),
        t(r.cwes.join(",")),
        t(json(&r.configurations)?),
        t(detail.to_string()),
    ])
}

const CVE_COLUMNS: &str = "id, published, last_modified, status, cvss_score, cvss_version, cvss_vector, severity, description, cwes, configurations, detail";

impl Store {
    /// Imports one feed file from a parser's batches, in one transaction.
    pub async fn import_vuln_feed(&self, actor: &str, kind: FeedKind, source: &str, mut rx: Receiver<FeedBatch>) -> Result<FeedImportCounts> {
        let mut tx = self.write_tx().await?;
        let backend = self.backend();
        let mut counts = FeedImportCounts { kind: Some(kind), source: source.to_owned(), ..FeedImportCounts::default() };
        let mut cleared = false;
        let mut done: Option<FeedRun> = None;
        // Products whose matching index rows this file changes: their aggregates are stale. On
        // a first load every product is: one mark for all instead of one per product.
        let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
        let rebuild_all: i64 = sqlx::query_scalar(&format!(
            "SELECT (SELECT COUNT(*) FROM mamori_meta WHERE key = '{ALL_STALE}') + \
             (CASE WHEN EXISTS (SELECT 1 FROM vuln_product_entries) OR EXISTS (SELECT 1 FROM vuln_cve_products) THEN 0 ELSE 1 END)"
        ))
        .fetch_one(&mut *tx.tx)
        .await?;
        let rebuild_all = rebuild_all > 0;
        while let Some(batch) = rx.recv().await {
            match batch {
                FeedBatch::Cves(records) => self.write_cves(&mut tx, backend, records, &mut counts, &mut touched).await?,
                FeedBatch::Rejected(ids) => {
                    for chunk in ids.chunks(500) {
                        let ph = batch_placeholders(backend, 1, chunk.len());
                        let existing = self.old_products(&mut tx, chunk).await?;
                        touched.extend(existing.iter().map(|(v, p, _)| (v.clone(), p.clone())));
                        delete_products(&mut tx, backend, &existing).await?;
                        let sql = format!("DELETE FROM vuln_cves WHERE id IN ({ph})");
                        let mut q = sqlx::query(&sql);
                        for id in chunk {
                            q = q.bind(id.clone());
                        }
                        counts.removed += q.execute(&mut *tx.tx).await?.rows_affected();
                    }
                }
                FeedBatch::Kev(entries) => {
                    // The catalog is a complete snapshot: it replaces the previous one.
                    if !cleared {
                        sqlx::query("DELETE FROM vuln_kev").execute(&mut *tx.tx).await?;
                        cleared = true;
                    }
                    counts.records += entries.len() as u64;
                    counts.inserted += entries.len() as u64;
                    let rows = entries
                        .into_iter()
                        .map(|e| {
                            vec![
                                t(e.cve),
                                t(e.vendor_project),
                                t(e.product),
                                t(e.name),
                                t(e.date_added),
                                t(e.due_date),
                                t(e.required_action),
                                t(e.short_description),
                                Param::Int(b2i(e.ransomware)),
                                t(e.cwes.join(",")),
                                t(e.notes),
                            ]
                        })
                        .collect();
                    insert_rows(
                        &mut tx,
                        backend,
                        "INSERT INTO vuln_kev (cve_id, vendor_project, product, name, date_added, due_date, required_action, short_description, ransomware, cwes, notes)",
                        "ON CONFLICT (cve_id) DO NOTHING",
                        11,
                        rows,
                    )
                    .await?;
                }
                FeedBatch::Epss(scores) => {
                    if !cleared {
                        sqlx::query("DELETE FROM vuln_epss").execute(&mut *tx.tx).await?;
                        cleared = true;
                    }
                    counts.records += scores.len() as u64;
                    counts.inserted += scores.len() as u64;
                    let rows = scores.into_iter().map(|s| vec![t(s.cve), Param::Real(s.epss), Param::Real(s.percentile)]).collect();
                    insert_rows(&mut tx, backend, "INSERT INTO vuln_epss (cve_id, epss, percentile)", "ON CONFLICT (cve_id) DO UPDATE SET epss = excluded.epss, percentile = excluded.percentile", 3, rows).await?;
                }
                FeedBatch::Jvn(items) => self.write_jvn(&mut tx, backend, items, &mut counts).await?,
                FeedBatch::Document(doc) => self.write_document(&mut tx, backend, doc, &mut counts).await?,
                FeedBatch::Done(run) => {
                    done = Some(run);
                    break;
                }
            }
        }
        let Some(run) = done else {
            // The parser stopped before the end of the file: keep nothing.
            return Err(StoreError::Cancelled);
        };
        counts.skipped = run.skipped;
        counts.feed_date = run.feed_date.clone();
        mark_products_dirty(&mut tx, backend, touched, rebuild_all).await?;
        sqlx::query(
            "INSERT INTO vuln_feed_runs (kind, source, sha256, feed_date, imported_at, imported_by, records, skipped, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(kind.code())
        .bind(source.to_owned())
        .bind(run.sha256.clone())
        .bind(run.feed_date.clone())
        .bind(now())
        .bind(actor.to_owned())
        .bind(i64::try_from(counts.records).unwrap_or(i64::MAX))
        .bind(i64::try_from(run.skipped).unwrap_or(i64::MAX))
        .bind(run.detail.to_string())
        .execute(&mut *tx.tx)
        .await?;
        let mut d = Detail::new();
        d.insert("kind".into(), Value::String(kind.code().to_owned()));
        d.insert("source".into(), Value::String(source.to_owned()));
        d.insert("sha256".into(), Value::String(run.sha256));
        d.insert("records".into(), Value::from(counts.records));
        d.insert("inserted".into(), Value::from(counts.inserted));
        d.insert("updated".into(), Value::from(counts.updated));
        d.insert("removed".into(), Value::from(counts.removed));
        tx.audit(actor, "feed.import", "feed", None, d).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// Product pairs of the stored versions of these CVEs (to drop before rewriting them).
    async fn old_products(&self, tx: &mut WriteTx<'_>, ids: &[String]) -> Result<Vec<(String, String, String)>> {
        let ph = batch_placeholders(self.backend(), 1, ids.len());
        let sql = format!("SELECT id, configurations FROM vuln_cves WHERE id IN ({ph})");
        let mut q = sqlx::query(&sql);
        for id in ids {
            q = q.bind(id.clone());
        }
        let mut out = Vec::new();
        for row in q.fetch_all(&mut *tx.tx).await? {
            let id: String = row.try_get(0)?;
            let configs: String = row.try_get(1)?;
            let configs: Vec<Configuration> = serde_json::from_str(&configs).map_err(|e| StoreError::Decode(format!("{id}: {e}")))?;
            out.extend(mamori_vuln::index::vulnerable_products(&configs).into_iter().map(|(v, p)| (v, p, id.clone())));
        }
        Ok(out)
    }

    async fn write_cves(&self, tx: &mut WriteTx<'_>, backend: Backend, records: Vec<CveRecord>, counts: &mut FeedImportCounts, touched: &mut BTreeSet<(String, String)>) -> Result<()> {
        counts.records += records.len() as u64;
        for chunk in records.chunks(rows_per_statement(12)) {
            let ids: Vec<String> = chunk.iter().map(|r| r.id.clone()).collect();
            let ph = batch_placeholders(backend, 1, ids.len());
            let sql = format!("SELECT id, last_modified FROM vuln_cves WHERE id IN ({ph})");
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(id.clone());
            }
            let existing: HashMap<String, String> = q
                .fetch_all(&mut *tx.tx)
                .await?
                .iter()
                .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<String, _>(1)?)))
                .collect::<Result<_>>()?;
            // A file may carry one CVE twice (a page boundary): the newest copy wins.
            let mut newest: BTreeMap<&str, &CveRecord> = BTreeMap::new();
            for r in chunk {
                match newest.get(r.id.as_str()) {
                    Some(prev) if prev.last_modified >= r.last_modified => {}
                    _ => {
                        newest.insert(r.id.as_str(), r);
                    }
                }
            }
            let mut rows = Vec::new();
            let mut products = Vec::new();
            let mut replaced = Vec::new();
            for r in newest.values() {
                match existing.get(&r.id) {
                    Some(lm) if *lm >= r.last_modified => {
                        counts.unchanged += 1;
                        continue;
                    }
                    Some(_) => {
                        counts.updated += 1;
                        replaced.push(r.id.clone());
                    }
                    None => counts.inserted += 1,
                }
                rows.push(cve_row(r)?);
                for (v, p, e) in mamori_vuln::index::entries(&r.configurations) {
                    touched.insert((v.clone(), p.clone()));
                    products.push(vec![t(v), t(p), t(r.id.clone()), t(e)]);
                }
            }
            if !replaced.is_empty() {
                let old = self.old_products(tx, &replaced).await?;
                touched.extend(old.iter().map(|(v, p, _)| (v.clone(), p.clone())));
                delete_products(tx, backend, &old).await?;
            }
            insert_rows(
                tx,
                backend,
                &format!("INSERT INTO vuln_cves ({CVE_COLUMNS})"),
                "ON CONFLICT (id) DO UPDATE SET published = excluded.published, last_modified = excluded.last_modified, \
                 status = excluded.status, cvss_score = excluded.cvss_score, cvss_version = excluded.cvss_version, \
                 cvss_vector = excluded.cvss_vector, severity = excluded.severity, description = excluded.description, \
                 cwes = excluded.cwes, configurations = excluded.configurations, detail = excluded.detail",
                12,
                rows,
            )
            .await?;
            insert_rows(
                tx,
                backend,
                "INSERT INTO vuln_cve_products (vendor, product, cve_id, criteria)",
                "ON CONFLICT (vendor, product, cve_id) DO UPDATE SET criteria = excluded.criteria",
                4,
                products,
            )
            .await?;
        }
        Ok(())
    }

    async fn write_jvn(&self, tx: &mut WriteTx<'_>, backend: Backend, items: Vec<JvnAdvisory>, counts: &mut FeedImportCounts) -> Result<()> {
        counts.records += items.len() as u64;
        for chunk in items.chunks(200) {
            let ids: Vec<String> = chunk.iter().map(|a| a.id.clone()).collect();
            let ph = batch_placeholders(backend, 1, ids.len());
            for table in ["vuln_jvn_cves", "vuln_jvn_products"] {
                let sql = format!("DELETE FROM {table} WHERE jvn_id IN ({ph})");
                let mut q = sqlx::query(&sql);
                for id in &ids {
                    q = q.bind(id.clone());
                }
                q.execute(&mut *tx.tx).await?;
            }
            let sql = format!("SELECT id FROM vuln_jvn WHERE id IN ({ph})");
            let mut q = sqlx::query(&sql);
            for id in &ids {
                q = q.bind(id.clone());
            }
            let existing: BTreeSet<String> = q.fetch_all(&mut *tx.tx).await?.iter().map(|r| r.try_get::<String, _>(0)).collect::<std::result::Result<_, _>>()?;
            let mut rows = Vec::new();
            let mut cves = Vec::new();
            let mut products = BTreeSet::new();
            for a in chunk {
                if existing.contains(&a.id) {
                    counts.updated += 1;
                } else {
                    counts.inserted += 1;
                }
                let best = a.cvss.iter().max_by(|x, y| x.version.cmp(&y.version));
                let detail = serde_json::json!({
                    "cves": a.cves, "cwes": a.cwes, "products": a.products.iter().map(|p| serde_json::json!({
                        "vendor": p.vendor, "product": p.product, "cpe": p.cpe, "versions": p.versions,
                    })).collect::<Vec<_>>(),
                    "cvss": a.cvss, "solution": a.solution, "references": a.references, "lang": a.lang,
                    "first_published": a.first_published,
                });
                rows.push(vec![
                    t(a.id.clone()),
                    t(a.title.clone()),
                    t(a.overview.clone()),
                    ot(a.link.clone()),
                    Param::OptReal(best.map(|c| c.base_score)),
                    ot(best.map(|c| c.severity.clone())),
                    ot(a.published.clone()),
                    ot(a.modified.clone()),
                    t(detail.to_string()),
                ]);
                for c in a.cves.iter().collect::<BTreeSet<_>>() {
                    cves.push(vec![t(c.clone()), t(a.id.clone())]);
                }
                for p in &a.products {
                    if let Ok(cpe) = Cpe::parse(&p.cpe)
                        && let (Some(v), Some(pr)) = (cpe.vendor(), cpe.product())
                    {
                        products.insert((v, pr, a.id.clone()));
                    }
                }
            }
            insert_rows(
                tx,
                backend,
                "INSERT INTO vuln_jvn (id, title, overview, link, cvss_score, severity, published, modified, detail)",
                "ON CONFLICT (id) DO UPDATE SET title = excluded.title, overview = excluded.overview, link = excluded.link, \
                 cvss_score = excluded.cvss_score, severity = excluded.severity, published = excluded.published, \
                 modified = excluded.modified, detail = excluded.detail",
                9,
                rows,
            )
            .await?;
            insert_rows(tx, backend, "INSERT INTO vuln_jvn_cves (cve_id, jvn_id)", "ON CONFLICT DO NOTHING", 2, cves).await?;
            let products = products.into_iter().map(|(v, p, id)| vec![t(v), t(p), t(id)]).collect();
            insert_rows(tx, backend, "INSERT INTO vuln_jvn_products (vendor, product, jvn_id)", "ON CONFLICT DO NOTHING", 3, products).await?;
        }
        Ok(())
    }

    async fn write_document(&self, tx: &mut WriteTx<'_>, backend: Backend, doc: VendorDocument, counts: &mut FeedImportCounts) -> Result<()> {
        counts.records += doc.statements.len() as u64;
        let old = sqlx::query("SELECT id FROM vuln_documents WHERE origin = $1 AND publisher = $2 AND tracking_id = $3")
            .bind(doc.origin.clone())
            .bind(doc.publisher.clone())
            .bind(doc.tracking_id.clone())
            .fetch_optional(&mut *tx.tx)
            .await?;
        if let Some(row) = old {
            let id: i64 = row.try_get(0)?;
            sqlx::query("DELETE FROM vuln_statements WHERE document_id = $1").bind(id).execute(&mut *tx.tx).await?;
            sqlx::query("DELETE FROM vuln_documents WHERE id = $1").bind(id).execute(&mut *tx.tx).await?;
            counts.updated += 1;
        } else {
            counts.inserted += 1;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO vuln_documents (origin, publisher, tracking_id, title, current_release, source, imported_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(doc.origin.clone())
        .bind(doc.publisher.clone())
        .bind(doc.tracking_id.clone())
        .bind(doc.title.clone())
        .bind(doc.current_release.clone())
        .bind(counts.source.clone())
        .bind(now())
        .fetch_one(&mut *tx.tx)
        .await?;
        let rows = doc
            .statements
            .into_iter()
            .map(|s| {
                vec![
                    Param::Int(id),
                    t(s.cve),
                    ot(s.vendor),
                    ot(s.product),
                    t(s.product_name),
                    ot(s.version),
                    ot(s.version_range),
                    ot(s.cpe),
                    ot(s.purl),
                    t(s.status),
                    ot(s.justification),
                    ot(s.remediation),
                    ot(s.url),
                    Param::Int(b2i(s.exploited)),
                    Param::OptReal(s.cvss_score),
                ]
            })
            .collect();
        insert_rows(
            tx,
            backend,
            "INSERT INTO vuln_statements (document_id, cve_id, vendor, product, product_name, version, version_range, cpe, purl, status, justification, remediation, url, exploited, cvss_score)",
            "",
            15,
            rows,
        )
        .await
    }

    /// Freshness of every feed kind. `today` is YYYY-MM-DD (Asia/Tokyo).
    pub async fn feed_status(&self, today: &str) -> Result<Vec<FeedStatus>> {
        let mut out = Vec::new();
        for kind in FeedKind::ALL {
            let last = sqlx::query(
                "SELECT imported_at, source, sha256, feed_date FROM vuln_feed_runs WHERE kind = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(kind.code())
            .fetch_optional(self.pool())
            .await?;
            let files: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_feed_runs WHERE kind = $1").bind(kind.code()).fetch_one(self.pool()).await?;
            let table = match kind {
                FeedKind::Nvd => "SELECT COUNT(*) FROM vuln_cves",
                FeedKind::Kev => "SELECT COUNT(*) FROM vuln_kev",
                FeedKind::Epss => "SELECT COUNT(*) FROM vuln_epss",
                FeedKind::Jvn => "SELECT COUNT(*) FROM vuln_jvn",
                FeedKind::Csaf => "SELECT COUNT(*) FROM vuln_statements s JOIN vuln_documents d ON d.id = s.document_id WHERE d.origin = 'csaf'",
                FeedKind::Vex => "SELECT COUNT(*) FROM vuln_statements s JOIN vuln_documents d ON d.id = s.document_id WHERE d.origin <> 'csaf'",
            };
            let records: i64 = sqlx::query_scalar(table).fetch_one(self.pool()).await?;
            let (last_import, last_source, last_sha256, feed_date) = match &last {
                Some(r) => (Some(r.try_get::<String, _>(0)?), Some(r.try_get::<String, _>(1)?), Some(r.try_get::<String, _>(2)?), r.try_get::<Option<String>, _>(3)?),
                None => (None, None, None, None),
            };
            let age_days = last_import.as_deref().and_then(|d| days_between(d.get(..10)?, today));
            let stale = match (kind.stale_after_days(), age_days) {
                (Some(limit), Some(age)) => age > limit,
                (Some(_), None) => true,
                _ => false,
            };
            out.push(FeedStatus { kind, last_import, last_source, last_sha256, feed_date, imported_files: files, records, age_days, stale });
        }
        Ok(out)
    }

    /// Saves where an online sync stopped.
    pub async fn set_sync_state(&self, kind: FeedKind, state: &Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO vuln_sync_state (kind, state, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
        )
        .bind(kind.code())
        .bind(state.to_string())
        .bind(now())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn sync_state(&self, kind: FeedKind) -> Result<Option<Value>> {
        let s: Option<String> = sqlx::query_scalar("SELECT state FROM vuln_sync_state WHERE kind = $1").bind(kind.code()).fetch_optional(self.pool()).await?;
        Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
    }
}

/// The `mamori_meta` key saying every product's aggregated index entries are stale (a first
/// load, or the upgrade to schema v9).
pub(crate) const ALL_STALE: &str = "product_entries_stale";

/// Marks products whose `vuln_cve_products` rows changed in this transaction: their aggregated
/// entries are rebuilt before matching reads them ([`Store::refresh_product_entries`]).
async fn mark_products_dirty(tx: &mut WriteTx<'_>, backend: Backend, touched: BTreeSet<(String, String)>, all: bool) -> Result<()> {
    if all {
        if !touched.is_empty() {
            sqlx::query(&format!("INSERT INTO mamori_meta (key, value) VALUES ('{ALL_STALE}', 'all') ON CONFLICT (key) DO NOTHING")).execute(&mut *tx.tx).await?;
        }
        return Ok(());
    }
    let rows = touched.into_iter().map(|(v, p)| vec![t(v), t(p)]).collect();
    insert_rows(tx, backend, "INSERT INTO vuln_product_dirty (vendor, product)", "ON CONFLICT (vendor, product) DO NOTHING", 2, rows).await
}

impl Store {
    /// Rebuilds the aggregated matching index entries (`vuln_product_entries`, one row per
    /// product) of the products marked dirty, in one transaction; returns how many. A no-op
    /// when none is marked. Matching calls it before reading; the CLI after a feed import, so
    /// that the cost falls on the import.
    pub async fn refresh_product_entries(&self) -> Result<u64> {
        let dirty: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_product_dirty").fetch_one(self.pool()).await?;
        let all: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM mamori_meta WHERE key = '{ALL_STALE}'")).fetch_one(self.pool()).await?;
        if dirty == 0 && all == 0 {
            return Ok(0);
        }
        let products: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vuln_product_entries").fetch_one(self.pool()).await?;
        let mut tx = self.write_tx().await?;
        let (agg, chr, order) = match self.backend() {
            Backend::Sqlite => ("group_concat", "char", ""),
            Backend::Postgres => ("string_agg", "chr", " ORDER BY c.cve_id"),
        };
        let entry = format!(
            "{agg}(c.cve_id || {chr}({}) || COALESCE(c.criteria, '{}'), {chr}({}){order})",
            u32::from(crate::findings::ID_SEP),
            mamori_vuln::index::TREE,
            u32::from(crate::findings::CVE_SEP)
        );
        // Every product (a first load): the whole table in key order, without a sort; many:
        // the same pass, keeping the marked ones; a few: each marked product's rows by key.
        let select = if all > 0 {
            format!("SELECT c.vendor, c.product, {entry} FROM vuln_cve_products c GROUP BY c.vendor, c.product")
        } else if dirty * 4 > products {
            format!(
                "SELECT c.vendor, c.product, {entry} FROM vuln_cve_products c WHERE EXISTS \
                 (SELECT 1 FROM vuln_product_dirty d WHERE d.vendor = c.vendor AND d.product = c.product) GROUP BY c.vendor, c.product"
            )
        } else {
            format!(
                "SELECT c.vendor, c.product, {entry} FROM vuln_product_dirty d JOIN vuln_cve_products c \
                 ON c.vendor = d.vendor AND c.product = d.product GROUP BY c.vendor, c.product"
            )
        };
        let delete = if all > 0 {
            "DELETE FROM vuln_product_entries"
        } else {
            "DELETE FROM vuln_product_entries WHERE EXISTS (SELECT 1 FROM vuln_product_dirty d WHERE d.vendor = vuln_product_entries.vendor AND d.product = vuln_product_entries.product)"
        };
        sqlx::query(delete).execute(&mut *tx.tx).await?;
        let written = sqlx::query(&format!("INSERT INTO vuln_product_entries (vendor, product, entries) {select}")).execute(&mut *tx.tx).await?.rows_affected();
        sqlx::query("DELETE FROM vuln_product_dirty").execute(&mut *tx.tx).await?;
        sqlx::query(&format!("DELETE FROM mamori_meta WHERE key = '{ALL_STALE}'")).execute(&mut *tx.tx).await?;
        tx.commit().await?;
        tracing::debug!(products = written, "matching index aggregates rebuilt");
        Ok(written)
    }
}

async fn delete_products(tx: &mut WriteTx<'_>, backend: Backend, rows: &[(String, String, String)]) -> Result<()> {
    for chunk in rows.chunks(300) {
        let conds: Vec<String> = (0..chunk.len())
            .map(|i| match backend {
                Backend::Sqlite => "(vendor = ? AND product = ? AND cve_id = ?)".to_owned(),
                Backend::Postgres => format!("(vendor = ${} AND product = ${} AND cve_id = ${})", i * 3 + 1, i * 3 + 2, i * 3 + 3),
            })
            .collect();
        let sql = format!("DELETE FROM vuln_cve_products WHERE {}", conds.join(" OR "));
        let mut q = sqlx::query(&sql);
        for (v, p, id) in chunk {
            q = q.bind(v.clone()).bind(p.clone()).bind(id.clone());
        }
        q.execute(&mut *tx.tx).await?;
    }
    Ok(())
}

/// Days from `from` to `to` (both YYYY-MM-DD).
pub(crate) fn days_between(from: &str, to: &str) -> Option<i64> {
    let a: jiff::civil::Date = from.parse().ok()?;
    let b: jiff::civil::Date = to.parse().ok()?;
    Some(i64::from((b - a).get_days()))
}
