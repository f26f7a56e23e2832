//! Assets: the inventory's core table with its interfaces and software.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mamori_model::{Asset, AssetData, AssetKind, Detail, Id, Interface, Software};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::util::{b2i, batch_placeholders, get_bool, get_code, get_opt_bool, like_pattern, now, placeholders};
use crate::{Result, Store, StoreError, WriteTx};

/// Sort orders of the asset list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssetSort {
    #[default]
    Name,
    Kind,
    Ip,
    Os,
    Location,
    Department,
    Updated,
    LastSeen,
}

impl AssetSort {
    pub const ALL: [AssetSort; 8] = [
        AssetSort::Name,
        AssetSort::Kind,
        AssetSort::Ip,
        AssetSort::Os,
        AssetSort::Location,
        AssetSort::Department,
        AssetSort::Updated,
        AssetSort::LastSeen,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AssetSort::Name => "name",
            AssetSort::Kind => "kind",
            AssetSort::Ip => "ip",
            AssetSort::Os => "os",
            AssetSort::Location => "location",
            AssetSort::Department => "department",
            AssetSort::Updated => "updated",
            AssetSort::LastSeen => "last_seen",
        }
    }

    pub fn parse(s: &str) -> Option<AssetSort> {
        AssetSort::ALL.into_iter().find(|v| v.code() == s)
    }

    /// Whether the column can be NULL (then NULLs sort last in both directions).
    fn nullable(self) -> bool {
        matches!(self, AssetSort::Os | AssetSort::Location | AssetSort::Department | AssetSort::LastSeen)
    }

    fn column(self) -> &'static str {
        match self {
            AssetSort::Name => "name",
            AssetSort::Kind => "kind",
            AssetSort::Ip => "sort_ip",
            AssetSort::Os => "os",
            AssetSort::Location => "location",
            AssetSort::Department => "department",
            AssetSort::Updated => "updated_at",
            AssetSort::LastSeen => "last_seen",
        }
    }
}

/// A search over the asset list.
#[derive(Debug, Clone, Default)]
pub struct AssetQuery {
    /// Free text, matched case-insensitively against names, addresses, makers, OS, places.
    pub q: Option<String>,
    pub kind: Option<AssetKind>,
    pub segment_id: Option<Id>,
    /// Only assets covered by a contract of this vendor (the vendor role's view).
    pub vendor_scope: Option<Id>,
    pub sort: AssetSort,
    pub descending: bool,
    /// 0 means no limit.
    pub limit: i64,
    pub offset: i64,
}

/// One page of results and the total count matching the query.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub total: i64,
    pub items: Vec<T>,
}

const ASSET_COLUMNS: &str = "id, name, kind, vendor, product, model, os, os_version, serial, \
    location, department, owner, criticality, internet_facing, endpoint_protection, last_seen, \
    notes, attributes, created_at, updated_at";

/// Lower-cased text the free-text search runs over.
fn search_text(a: &AssetData) -> String {
    let mut parts: Vec<&str> = vec![&a.name];
    for v in [
        &a.vendor,
        &a.product,
        &a.model,
        &a.os,
        &a.os_version,
        &a.serial,
        &a.location,
        &a.department,
        &a.owner,
        &a.notes,
    ].into_iter().flatten() {
        parts.push(v);
    }
    for i in &a.interfaces {
        parts.extend(i.ip.as_deref());
        parts.extend(i.mac.as_deref());
        parts.extend(i.name.as_deref());
    }
    for s in &a.software {
        parts.push(&s.name);
    }
    parts.extend(a.attributes.values().map(String::as_str));
    parts.join("\u{1f}").to_lowercase()
}

/// A key that sorts IPv4 addresses numerically as text; others sort after them.
fn sort_ip(a: &AssetData) -> String {
    match a.primary_ip().and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("4{:03}{:03}{:03}{:03}", o[0], o[1], o[2], o[3])
        }
        Some(std::net::IpAddr::V6(v6)) => format!("6{:032x}", u128::from(v6)),
        None => "9".to_owned(),
    }
}

pub(crate) fn normalised(data: &AssetData) -> AssetData {
    let mut d = data.clone();
    d.name = d.name.trim().to_owned();
    for i in &mut d.interfaces {
        if let Some(mac) = &i.mac {
            i.mac = mamori_model::normalize_mac(mac).or(i.mac.take());
        }
    }
    d
}

fn row_to_asset(r: &AnyRow) -> Result<Asset> {
    let attributes: String = r.try_get("attributes")?;
    let attributes: BTreeMap<String, String> = serde_json::from_str(&attributes)
        .map_err(|e| StoreError::Decode(format!("attributes: {e}")))?;
    Ok(Asset {
        id: r.try_get("id")?,
        data: AssetData {
            name: r.try_get("name")?,
            kind: get_code(r, "kind")?,
            vendor: r.try_get("vendor")?,
            product: r.try_get("product")?,
            model: r.try_get("model")?,
            os: r.try_get("os")?,
            os_version: r.try_get("os_version")?,
            serial: r.try_get("serial")?,
            location: r.try_get("location")?,
            department: r.try_get("department")?,
            owner: r.try_get("owner")?,
            criticality: get_code(r, "criticality")?,
            internet_facing: get_bool(r, "internet_facing")?,
            endpoint_protection: get_opt_bool(r, "endpoint_protection")?,
            last_seen: r.try_get("last_seen")?,
            notes: r.try_get("notes")?,
            attributes,
            interfaces: Vec::new(),
            software: Vec::new(),
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// One asset of a write: its id (new rows of a batch get theirs from the caller, who holds the
/// write lock), data and timestamps; `fresh` when the row does not exist yet (it has no
/// interfaces or software to replace).
pub(crate) struct BatchAsset<'a> {
    pub id: Id,
    pub data: &'a AssetData,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub fresh: bool,
}

/// The columns every asset write sets, in the order [`bind_asset`] binds them.
const WRITE_COLUMNS: &str = "name, kind, vendor, product, model, os, os_version, serial, location, \
    department, owner, criticality, internet_facing, endpoint_protection, last_seen, notes, \
    attributes, created_at, updated_at, search, sort_ip";
const WRITE_NCOLS: usize = 21;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds [`WRITE_COLUMNS`] for one asset.
fn bind_asset<'q>(q: AnyQuery<'q>, d: &AssetData, created_at: &str, updated_at: &str) -> Result<AnyQuery<'q>> {
    let attributes = serde_json::to_string(&d.attributes).map_err(|e| StoreError::Format(e.to_string()))?;
    Ok(q.bind(d.name.clone())
        .bind(d.kind.code())
        .bind(d.vendor.clone())
        .bind(d.product.clone())
        .bind(d.model.clone())
        .bind(d.os.clone())
        .bind(d.os_version.clone())
        .bind(d.serial.clone())
        .bind(d.location.clone())
        .bind(d.department.clone())
        .bind(d.owner.clone())
        .bind(d.criticality.code())
        .bind(b2i(d.internet_facing))
        .bind(d.endpoint_protection.map(b2i))
        .bind(d.last_seen.clone())
        .bind(d.notes.clone())
        .bind(attributes)
        .bind(created_at.to_owned())
        .bind(updated_at.to_owned())
        .bind(search_text(d))
        .bind(sort_ip(d)))
}

/// Writes assets with multi-row statements: the asset rows as one upsert per chunk, then their
/// interfaces and software replaced. Imports of 100,000 rows go through here, and so does
/// every single-asset write ([`write_asset`]).
pub(crate) async fn write_assets_batch(tx: &mut WriteTx<'_>, items: &[BatchAsset<'_>]) -> Result<()> {
    let backend = tx.backend;
    let ncols = WRITE_NCOLS + 1;
    for chunk in items.chunks(40) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", batch_placeholders(backend, i * ncols + 1, ncols)))
            .collect();
        let sql = format!(
            "INSERT INTO assets ({WRITE_COLUMNS}, id) VALUES {} ON CONFLICT (id) DO UPDATE SET \
             name = excluded.name, kind = excluded.kind, vendor = excluded.vendor, \
             product = excluded.product, model = excluded.model, os = excluded.os, \
             os_version = excluded.os_version, serial = excluded.serial, \
             location = excluded.location, department = excluded.department, \
             owner = excluded.owner, criticality = excluded.criticality, \
             internet_facing = excluded.internet_facing, \
             endpoint_protection = excluded.endpoint_protection, last_seen = excluded.last_seen, \
             notes = excluded.notes, attributes = excluded.attributes, \
             updated_at = excluded.updated_at, search = excluded.search, sort_ip = excluded.sort_ip",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for it in chunk {
            q = bind_asset(q, it.data, it.created_at, it.updated_at)?.bind(it.id);
        }
        q.execute(&mut *tx.tx).await?;
    }
    write_children(tx, items).await
}

/// Replaces the interfaces and software of the assets written.
async fn write_children(tx: &mut WriteTx<'_>, items: &[BatchAsset<'_>]) -> Result<()> {
    let backend = tx.backend;
    let existing: Vec<Id> = items.iter().filter(|i| !i.fresh).map(|i| i.id).collect();
    for chunk in existing.chunks(500) {
        for table in ["interfaces", "software", "asset_keys"] {
            let sql = format!(
                "DELETE FROM {table} WHERE asset_id IN ({})",
                batch_placeholders(backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *tx.tx).await?;
        }
    }
    let ifaces: Vec<(Id, i64, &Interface)> = items
        .iter()
        .flat_map(|it| (0_i64..).zip(&it.data.interfaces).map(move |(pos, i)| (it.id, pos, i)))
        .collect();
    insert_rows(tx, "interfaces (asset_id, pos, name, ip, mac, segment_id)", 6, &ifaces, |q, (id, pos, i)| {
        q.bind(*id).bind(*pos).bind(i.name.clone()).bind(i.ip.clone()).bind(i.mac.clone()).bind(i.segment_id)
    })
    .await
    .map_err(|e| match e {
        StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
            let ids: BTreeSet<Id> = ifaces.iter().filter_map(|(_, _, i)| i.segment_id).collect();
            let ids: Vec<String> = ids.iter().map(Id::to_string).collect();
            StoreError::Missing { entity: "segment", id: ids.join(", ") }
        }
        other => other,
    })?;
    let software: Vec<(Id, i64, &Software)> = items
        .iter()
        .flat_map(|it| (0_i64..).zip(&it.data.software).map(move |(pos, s)| (it.id, pos, s)))
        .collect();
    insert_rows(tx, "software (asset_id, pos, name, vendor, version, cpe, purl)", 7, &software, |q, (id, pos, s)| {
        q.bind(*id)
            .bind(*pos)
            .bind(s.name.clone())
            .bind(s.vendor.clone())
            .bind(s.version.clone())
            .bind(s.cpe.clone())
            .bind(s.purl.clone())
    })
    .await?;
    let keyed: Vec<(Id, &AssetData)> = items.iter().map(|it| (it.id, it.data)).collect();
    crate::keys::insert_asset_keys(&mut tx.tx, backend, &keyed).await
}

/// Inserts child rows of `ncols` columns (`table_and_columns` is `table (c1, …)`), 150 per
/// statement.
async fn insert_rows<T>(
    tx: &mut WriteTx<'_>,
    table_and_columns: &str,
    ncols: usize,
    rows: &[T],
    bind: impl for<'q> Fn(AnyQuery<'q>, &T) -> AnyQuery<'q>,
) -> Result<()> {
    let backend = tx.backend;
    for chunk in rows.chunks(150) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("({})", batch_placeholders(backend, i * ncols + 1, ncols))).collect();
        let sql = format!("INSERT INTO {table_and_columns} VALUES {}", values.join(", "));
        let mut q = sqlx::query(&sql);
        for row in chunk {
            q = bind(q, row);
        }
        q.execute(&mut *tx.tx).await?;
    }
    Ok(())
}

/// Writes one asset and replaces its interfaces and software: with an id, insert or replace
/// that row; without, insert a new row and let the database choose the id.
pub(crate) async fn write_asset(
    tx: &mut WriteTx<'_>,
    id: Option<Id>,
    data: &AssetData,
    created_at: &str,
    updated_at: &str,
) -> Result<Id> {
    if let Some(id) = id {
        let item = BatchAsset { id, data, created_at, updated_at, fresh: false };
        write_assets_batch(tx, std::slice::from_ref(&item)).await?;
        return Ok(id);
    }
    let sql = format!(
        "INSERT INTO assets ({WRITE_COLUMNS}) VALUES ({}) RETURNING id",
        placeholders(1, WRITE_NCOLS)
    );
    let q = bind_asset(sqlx::query(&sql), data, created_at, updated_at)?;
    let id: Id = q.fetch_one(&mut *tx.tx).await?.try_get(0)?;
    let item = BatchAsset { id, data, created_at, updated_at, fresh: true };
    write_children(tx, std::slice::from_ref(&item)).await?;
    Ok(id)
}

/// Field-by-field differences between two versions, for the audit log.
pub(crate) fn diff(old: &AssetData, new: &AssetData) -> Detail {
    let (Ok(Value::Object(o)), Ok(Value::Object(n))) =
        (serde_json::to_value(old), serde_json::to_value(new))
    else {
        return Detail::new();
    };
    let mut changes = Detail::new();
    for (k, nv) in &n {
        let ov = o.get(k).unwrap_or(&Value::Null);
        if ov != nv {
            changes.insert(k.clone(), Value::Array(vec![ov.clone(), nv.clone()]));
        }
    }
    changes
}

fn summary(a: &AssetData) -> Detail {
    let mut d = Detail::new();
    d.insert("name".into(), Value::String(a.name.clone()));
    d.insert("kind".into(), Value::String(a.kind.code().into()));
    if let Some(ip) = a.primary_ip() {
        d.insert("ip".into(), Value::String(ip.into()));
    }
    d
}

impl Store {
    /// The whole inventory with interfaces and software, in id order (for the ledger export).
    pub async fn all_assets(&self) -> Result<Vec<Asset>> {
        let mut conn = self.pool().acquire().await?;
        load_all_assets(&mut conn).await
    }

    /// Searches the inventory.
    pub async fn list_assets(&self, q: &AssetQuery) -> Result<Page<Asset>> {
        let mut wh = String::from(" WHERE 1 = 1");
        let mut n = 0;
        let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
        if text.is_some() {
            n += 1;
            wh.push_str(&format!(" AND search LIKE ${n} ESCAPE '\\'"));
        }
        if q.kind.is_some() {
            n += 1;
            wh.push_str(&format!(" AND kind = ${n}"));
        }
        if q.segment_id.is_some() {
            n += 1;
            wh.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM interfaces i WHERE i.asset_id = assets.id \
                 AND i.segment_id = ${n})"
            ));
        }
        if q.vendor_scope.is_some() {
            n += 1;
            wh.push_str(&format!(
                " AND id IN (SELECT ca.asset_id FROM contract_assets ca \
                 JOIN contracts c ON c.id = ca.contract_id WHERE c.vendor_id = ${n})"
            ));
        }
        macro_rules! bind_filters {
            ($query:expr) => {{
                let mut qq = $query;
                if let Some(t) = &text {
                    qq = qq.bind(like_pattern(t));
                }
                if let Some(k) = q.kind {
                    qq = qq.bind(k.code());
                }
                if let Some(s) = q.segment_id {
                    qq = qq.bind(s);
                }
                if let Some(v) = q.vendor_scope {
                    qq = qq.bind(v);
                }
                qq
            }};
        }
        let dir = if q.descending { "DESC" } else { "ASC" };
        let col = q.sort.column();
        // Plain `ORDER BY col` lets both engines walk an index; NULLS LAST only where needed.
        let nulls = if q.sort.nullable() { " NULLS LAST" } else { "" };
        // A separate COUNT is cheaper than `COUNT(*) OVER ()`, which would make both engines
        // materialise and sort every matching row before the LIMIT (measured: 4x slower).
        let count_sql = format!("SELECT COUNT(*) FROM assets{wh}");
        let total: i64 = bind_filters!(sqlx::query_scalar::<_, i64>(&count_sql))
            .fetch_one(self.pool())
            .await?;
        let mut sql =
            format!("SELECT {ASSET_COLUMNS} FROM assets{wh} ORDER BY {col} {dir}{nulls}, id {dir}");
        if q.limit > 0 {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", q.limit, q.offset.max(0)));
        }
        let rows = bind_filters!(sqlx::query(&sql)).fetch_all(self.pool()).await?;
        let mut items = rows.iter().map(row_to_asset).collect::<Result<Vec<_>>>()?;
        let mut conn = self.pool().acquire().await?;
        attach_details(&mut conn, &mut items).await?;
        Ok(Page { total, items })
    }

}

/// One asset through a given connection (a pooled one or a transaction's).
async fn fetch_asset(conn: &mut sqlx::AnyConnection, id: Id, vendor_scope: Option<Id>) -> Result<Asset> {
    let mut sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE id = $1");
    if vendor_scope.is_some() {
        sql.push_str(
            " AND id IN (SELECT ca.asset_id FROM contract_assets ca \
             JOIN contracts c ON c.id = ca.contract_id WHERE c.vendor_id = $2)",
        );
    }
    let mut q = sqlx::query(&sql).bind(id);
    if let Some(v) = vendor_scope {
        q = q.bind(v);
    }
    let row = q
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Missing { entity: "asset", id: id.to_string() })?;
    let mut a = vec![row_to_asset(&row)?];
    attach_details(conn, &mut a).await?;
    a.pop().ok_or_else(|| StoreError::Missing { entity: "asset", id: id.to_string() })
}

/// Every asset with its interfaces and software, in id order: three queries whatever the size.
pub(crate) async fn load_all_assets(conn: &mut sqlx::AnyConnection) -> Result<Vec<Asset>> {
    let rows = sqlx::query(&format!("SELECT {ASSET_COLUMNS} FROM assets ORDER BY id"))
        .fetch_all(&mut *conn)
        .await?;
    let mut assets = rows.iter().map(row_to_asset).collect::<Result<Vec<_>>>()?;
    let index: HashMap<Id, usize> = assets.iter().enumerate().map(|(i, a)| (a.id, i)).collect();
    let rows = sqlx::query(
        "SELECT asset_id, name, ip, mac, segment_id FROM interfaces ORDER BY asset_id, pos",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let aid: Id = r.try_get(0)?;
        if let Some(a) = index.get(&aid).and_then(|i| assets.get_mut(*i)) {
            a.data.interfaces.push(Interface {
                name: r.try_get(1)?,
                ip: r.try_get(2)?,
                mac: r.try_get(3)?,
                segment_id: r.try_get(4)?,
            });
        }
    }
    let rows =
        sqlx::query("SELECT asset_id, name, vendor, version, cpe, purl FROM software ORDER BY asset_id, pos")
            .fetch_all(&mut *conn)
            .await?;
    for r in rows {
        let aid: Id = r.try_get(0)?;
        if let Some(a) = index.get(&aid).and_then(|i| assets.get_mut(*i)) {
            a.data.software.push(Software {
                name: r.try_get(1)?,
                vendor: r.try_get(2)?,
                version: r.try_get(3)?,
                cpe: r.try_get(4)?,
                purl: r.try_get(5)?,
            });
        }
    }
    Ok(assets)
}

/// The assets with these ids (those that exist), in id order, with interfaces and software.
pub(crate) async fn load_assets_by_ids(conn: &mut sqlx::AnyConnection, ids: &[Id]) -> Result<Vec<Asset>> {
    let mut assets = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT {ASSET_COLUMNS} FROM assets WHERE id IN ({}) ORDER BY id",
            placeholders(1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(*id);
        }
        for r in q.fetch_all(&mut *conn).await? {
            assets.push(row_to_asset(&r)?);
        }
    }
    attach_details(conn, &mut assets).await?;
    Ok(assets)
}

/// Loads interfaces and software for a set of assets, in chunks.
async fn attach_details(conn: &mut sqlx::AnyConnection, assets: &mut [Asset]) -> Result<()> {
        let mut index: HashMap<Id, usize> = HashMap::with_capacity(assets.len());
        for (i, a) in assets.iter().enumerate() {
            index.insert(a.id, i);
        }
        let ids: Vec<Id> = assets.iter().map(|a| a.id).collect();
        for chunk in ids.chunks(500) {
            let ph = placeholders(1, chunk.len());
            let sql = format!(
                "SELECT asset_id, name, ip, mac, segment_id FROM interfaces \
                 WHERE asset_id IN ({ph}) ORDER BY asset_id, pos"
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *conn).await? {
                let aid: Id = r.try_get(0)?;
                if let Some(a) = index.get(&aid).and_then(|i| assets.get_mut(*i)) {
                    a.data.interfaces.push(Interface {
                        name: r.try_get(1)?,
                        ip: r.try_get(2)?,
                        mac: r.try_get(3)?,
                        segment_id: r.try_get(4)?,
                    });
                }
            }
            let sql = format!(
                "SELECT asset_id, name, vendor, version, cpe, purl FROM software \
                 WHERE asset_id IN ({ph}) ORDER BY asset_id, pos"
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&mut *conn).await? {
                let aid: Id = r.try_get(0)?;
                if let Some(a) = index.get(&aid).and_then(|i| assets.get_mut(*i)) {
                    a.data.software.push(Software {
                        name: r.try_get(1)?,
                        vendor: r.try_get(2)?,
                        version: r.try_get(3)?,
                        cpe: r.try_get(4)?,
                        purl: r.try_get(5)?,
                    });
                }
            }
        }
        Ok(())
}

impl Store {
    /// One asset; with `vendor_scope`, only if that vendor's contracts cover it.
    pub async fn get_asset(&self, id: Id, vendor_scope: Option<Id>) -> Result<Asset> {
        let mut conn = self.pool().acquire().await?;
        fetch_asset(&mut conn, id, vendor_scope).await
    }

    /// Adds an asset.
    pub async fn create_asset(&self, actor: &str, data: &AssetData) -> Result<Asset> {
        data.validate()?;
        let data = normalised(data);
        let mut tx = self.write_tx().await?;
        let ts = now();
        let id = write_asset(&mut tx, None, &data, &ts, &ts).await?;
        tx.audit(actor, "asset.create", "asset", Some(id), summary(&data)).await?;
        tx.commit().await?;
        self.get_asset(id, None).await
    }

    /// Replaces an asset's data; the audit entry records each changed field.
    pub async fn update_asset(&self, actor: &str, id: Id, data: &AssetData) -> Result<Asset> {
        data.validate()?;
        let data = normalised(data);
        let mut tx = self.write_tx().await?;
        // Read the current state under the write lock: the audit diff must be against what is
        // really replaced, and a concurrent delete must not be resurrected.
        let old = fetch_asset(&mut tx.tx, id, None).await?;
        let changes = diff(&old.data, &data);
        if changes.is_empty() {
            return Ok(old);
        }
        write_asset(&mut tx, Some(id), &data, &old.created_at, &now()).await?;
        let mut detail = summary(&data);
        detail.insert("changes".into(), Value::Object(changes));
        tx.audit(actor, "asset.update", "asset", Some(id), detail).await?;
        tx.commit().await?;
        self.get_asset(id, None).await
    }

    /// Removes an asset (its interfaces and software go with it).
    pub async fn delete_asset(&self, actor: &str, id: Id) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let old = fetch_asset(&mut tx.tx, id, None).await?;
        let n = sqlx::query("DELETE FROM assets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "asset", id: id.to_string() });
        }
        tx.audit(actor, "asset.delete", "asset", Some(id), summary(&old.data)).await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_sort_key_is_numeric() {
        let mut a = AssetData::new("a", AssetKind::Pc);
        a.interfaces.push(Interface { name: None, ip: Some("192.168.1.9".into()), mac: None, segment_id: None });
        let mut b = a.clone();
        if let Some(i) = b.interfaces.first_mut() {
            i.ip = Some("192.168.1.10".into());
        }
        assert!(sort_ip(&a) < sort_ip(&b));
        assert!(sort_ip(&b) < sort_ip(&AssetData::new("c", AssetKind::Pc)));
    }

    #[test]
    fn like_is_escaped() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }
}
