//! The rest of the facility model: profile, segments, vendors, contracts, accounts, external
//! connections and contacts.
//!
//! Each entity has one `write_*` function that inserts it with either a fresh or an explicit id
//! (explicit ids are how export/import and `db copy` keep references intact).

use mamori_model::{
    Account, Backup, Contact, Contract, Detail, ExternalConnection, Facility, Id, Segment, Vendor,
};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::util::{b2i, get_bool, get_code};
use crate::{Result, Store, StoreError, WriteTx};

/// Numbers for the dashboard.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InventoryCounts {
    pub assets: i64,
    pub by_kind: Vec<(String, i64)>,
    /// Segment id (None: no segment recorded) and count of assets with an interface there.
    pub by_segment: Vec<(Option<Id>, i64)>,
    pub segments: i64,
    pub accounts: i64,
    pub vendors: i64,
    pub external_connections: i64,
}

fn detail_name(name: &str) -> Detail {
    let mut d = Detail::new();
    d.insert("name".into(), Value::String(name.to_owned()));
    d
}

/// Runs an INSERT that ends in `RETURNING id`, with or without an explicit id as last column.
macro_rules! insert_returning {
    ($tx:expr, $table:literal, [$($col:literal),+], $id:expr, [$($val:expr),+ $(,)?]) => {{
        let cols: &[&str] = &[$($col),+];
        let explicit = $id.is_some();
        let n = cols.len() + usize::from(explicit);
        let col_list = if explicit { format!("{}, id", cols.join(", ")) } else { cols.join(", ") };
        // With an explicit id the row is inserted or replaced (a facility file re-imported
        // over the rows it created keeps their ids, and what hangs off them).
        let upsert = if explicit {
            format!(
                " ON CONFLICT (id) DO UPDATE SET {}",
                cols.iter().map(|c| format!("{c} = excluded.{c}")).collect::<Vec<_>>().join(", ")
            )
        } else {
            String::new()
        };
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}){} RETURNING id",
            $table, col_list, crate::util::placeholders(1, n), upsert
        );
        let q = sqlx::query(&sql)$(.bind($val))+;
        let q = match $id { Some(id) => q.bind(id), None => q };
        let id: Id = q
            .fetch_one(&mut *$tx.tx)
            .await
            .map_err(|e| StoreError::from_write(e, $table))?
            .try_get(0)?;
        id
    }};
}

pub(crate) async fn load_segments(conn: &mut sqlx::AnyConnection) -> Result<Vec<Segment>> {
    let rows = sqlx::query("SELECT id, name, purpose, cidr, vlan, description FROM segments ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(row_segment).collect()
}

pub(crate) async fn write_facility(tx: &mut WriteTx<'_>, f: &Facility) -> Result<()> {
    sqlx::query(
        "INSERT INTO facility (id, name, kind, beds, prefecture, address, security_manager, phone) \
         VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET name = $1, \
         kind = $2, beds = $3, prefecture = $4, address = $5, security_manager = $6, phone = $7",
    )
    .bind(f.name.clone())
    .bind(f.kind.code())
    .bind(f.beds)
    .bind(f.prefecture.clone())
    .bind(f.address.clone())
    .bind(f.security_manager.clone())
    .bind(f.phone.clone())
    .execute(&mut *tx.tx)
    .await?;
    Ok(())
}

pub(crate) async fn write_segment(tx: &mut WriteTx<'_>, id: Option<Id>, s: &Segment) -> Result<Id> {
    Ok(insert_returning!(tx, "segments", ["name", "purpose", "cidr", "vlan", "description"], id, [
        s.name.clone(),
        s.purpose.code(),
        s.cidr.clone(),
        s.vlan,
        s.description.clone(),
    ]))
}

pub(crate) async fn write_vendor(tx: &mut WriteTx<'_>, id: Option<Id>, v: &Vendor) -> Result<Id> {
    Ok(insert_returning!(tx, "vendors", ["name", "kind", "contact_name", "phone", "email"], id, [
        v.name.clone(),
        v.kind.code(),
        v.contact_name.clone(),
        v.phone.clone(),
        v.email.clone(),
    ]))
}

async fn link(tx: &mut WriteTx<'_>, sql: &str, owner: Id, assets: &[Id]) -> Result<()> {
    for a in assets {
        sqlx::query(sql).bind(owner).bind(*a).execute(&mut *tx.tx).await.map_err(|e| {
            match &e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    StoreError::Missing { entity: "asset", id: a.to_string() }
                }
                sqlx::Error::Database(d) if d.is_unique_violation() => {
                    StoreError::Conflict(format!("asset {a} listed twice"))
                }
                _ => StoreError::Db(e),
            }
        })?;
    }
    Ok(())
}

pub(crate) async fn write_contract(tx: &mut WriteTx<'_>, id: Option<Id>, c: &Contract) -> Result<Id> {
    let id = insert_returning!(
        tx,
        "contracts",
        ["vendor_id", "title", "scope", "remote_maintenance", "responsibilities", "start_date", "end_date"],
        id,
        [
            c.vendor_id,
            c.title.clone(),
            c.scope.clone(),
            b2i(c.remote_maintenance),
            c.responsibilities.clone(),
            c.start_date.clone(),
            c.end_date.clone(),
        ]
    );
    sqlx::query("DELETE FROM contract_assets WHERE contract_id = $1").bind(id).execute(&mut *tx.tx).await?;
    link(tx, "INSERT INTO contract_assets (contract_id, asset_id) VALUES ($1, $2)", id, &c.asset_ids)
        .await?;
    Ok(id)
}

pub(crate) async fn write_account(tx: &mut WriteTx<'_>, id: Option<Id>, a: &Account) -> Result<Id> {
    let id = insert_returning!(
        tx,
        "accounts",
        ["username", "system", "privilege", "shared", "person", "holder_left", "enabled", "last_used", "notes"],
        id,
        [
            a.username.clone(),
            a.system.clone(),
            a.privilege.code(),
            b2i(a.shared),
            a.person.clone(),
            b2i(a.holder_left),
            b2i(a.enabled),
            a.last_used.clone(),
            a.notes.clone(),
        ]
    );
    sqlx::query("DELETE FROM account_assets WHERE account_id = $1").bind(id).execute(&mut *tx.tx).await?;
    link(tx, "INSERT INTO account_assets (account_id, asset_id) VALUES ($1, $2)", id, &a.asset_ids)
        .await?;
    Ok(id)
}

pub(crate) async fn write_connection(
    tx: &mut WriteTx<'_>,
    id: Option<Id>,
    c: &ExternalConnection,
) -> Result<Id> {
    Ok(insert_returning!(
        tx,
        "external_connections",
        ["name", "kind", "provider", "always_on", "authentication", "owner", "asset_id", "vendor_id", "notes", "segment_id", "maintenance_window"],
        id,
        [
            c.name.clone(),
            c.kind.code(),
            c.provider.clone(),
            b2i(c.always_on),
            c.authentication.code(),
            c.owner.clone(),
            c.asset_id,
            c.vendor_id,
            c.notes.clone(),
            c.segment_id,
            c.maintenance_window.clone(),
        ]
    ))
}

pub(crate) async fn write_backup(tx: &mut WriteTx<'_>, id: Option<Id>, b: &Backup) -> Result<Id> {
    Ok(insert_returning!(
        tx,
        "backups",
        ["name", "covers", "medium", "asset_id", "same_credentials", "last_success", "last_restore_test", "notes"],
        id,
        [
            b.name.clone(),
            b.covers.clone(),
            b.medium.code(),
            b.asset_id,
            b2i(b.same_credentials),
            b.last_success.clone(),
            b.last_restore_test.clone(),
            b.notes.clone(),
        ]
    ))
}

pub(crate) async fn write_contact(tx: &mut WriteTx<'_>, id: Option<Id>, c: &Contact) -> Result<Id> {
    Ok(insert_returning!(tx, "contacts", ["organization", "name", "phone", "email", "notes"], id, [
        c.organization.clone(),
        c.name.clone(),
        c.phone.clone(),
        c.email.clone(),
        c.notes.clone(),
    ]))
}

fn row_segment(r: &AnyRow) -> Result<Segment> {
    Ok(Segment {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        purpose: get_code(r, "purpose")?,
        cidr: r.try_get("cidr")?,
        vlan: r.try_get("vlan")?,
        description: r.try_get("description")?,
    })
}

fn row_vendor(r: &AnyRow) -> Result<Vendor> {
    Ok(Vendor {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: get_code(r, "kind")?,
        contact_name: r.try_get("contact_name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
    })
}

fn row_connection(r: &AnyRow) -> Result<ExternalConnection> {
    Ok(ExternalConnection {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        kind: get_code(r, "kind")?,
        provider: r.try_get("provider")?,
        always_on: get_bool(r, "always_on")?,
        authentication: get_code(r, "authentication")?,
        owner: r.try_get("owner")?,
        asset_id: r.try_get("asset_id")?,
        vendor_id: r.try_get("vendor_id")?,
        notes: r.try_get("notes")?,
        segment_id: r.try_get("segment_id")?,
        maintenance_window: r.try_get("maintenance_window")?,
    })
}

fn row_contact(r: &AnyRow) -> Result<Contact> {
    Ok(Contact {
        id: r.try_get("id")?,
        organization: r.try_get("organization")?,
        name: r.try_get("name")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        notes: r.try_get("notes")?,
    })
}

impl Store {
    async fn links(&self, sql: &str) -> Result<Vec<(Id, Id)>> {
        let rows = sqlx::query(sql).fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).collect()
    }

    pub async fn facility(&self) -> Result<Option<Facility>> {
        let row = sqlx::query(
            "SELECT name, kind, beds, prefecture, address, security_manager, phone \
             FROM facility WHERE id = 1",
        )
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Facility {
                name: r.try_get("name")?,
                kind: get_code(&r, "kind")?,
                beds: r.try_get("beds")?,
                prefecture: r.try_get("prefecture")?,
                address: r.try_get("address")?,
                security_manager: r.try_get("security_manager")?,
                phone: r.try_get("phone")?,
            })
        })
        .transpose()
    }

    pub async fn set_facility(&self, actor: &str, f: &Facility) -> Result<()> {
        if f.name.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("name", "empty").into());
        }
        let mut tx = self.write_tx().await?;
        write_facility(&mut tx, f).await?;
        let detail = match serde_json::to_value(f) {
            Ok(Value::Object(m)) => m,
            _ => Detail::new(),
        };
        tx.audit(actor, "facility.update", "facility", Some(1), detail).await?;
        tx.commit().await
    }

    pub async fn list_segments(&self) -> Result<Vec<Segment>> {
        let mut conn = self.pool().acquire().await?;
        load_segments(&mut conn).await
    }

    pub async fn create_segment(&self, actor: &str, s: &Segment) -> Result<Segment> {
        if s.name.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("name", "empty").into());
        }
        if let Some(cidr) = &s.cidr
            && !valid_cidr(cidr) {
                return Err(mamori_model::ValidationError::new("cidr", "invalid_cidr").into());
            }
        let mut tx = self.write_tx().await?;
        let id = write_segment(&mut tx, None, s).await?;
        tx.audit(actor, "segment.create", "segment", Some(id), detail_name(&s.name)).await?;
        tx.commit().await?;
        Ok(Segment { id, ..s.clone() })
    }

    pub async fn list_vendors(&self) -> Result<Vec<Vendor>> {
        let rows =
            sqlx::query("SELECT id, name, kind, contact_name, phone, email FROM vendors ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(row_vendor).collect()
    }

    pub async fn create_vendor(&self, actor: &str, v: &Vendor) -> Result<Vendor> {
        if v.name.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("name", "empty").into());
        }
        let mut tx = self.write_tx().await?;
        let id = write_vendor(&mut tx, None, v).await?;
        tx.audit(actor, "vendor.create", "vendor", Some(id), detail_name(&v.name)).await?;
        tx.commit().await?;
        Ok(Vendor { id, ..v.clone() })
    }

    /// Records a backup (バックアップ).
    pub async fn create_backup(&self, actor: &str, b: &Backup) -> Result<Backup> {
        if b.name.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("name", "empty").into());
        }
        for d in [&b.last_success, &b.last_restore_test].into_iter().flatten() {
            if d.get(..10).and_then(|x| x.parse::<jiff::civil::Date>().ok()).is_none() {
                return Err(mamori_model::ValidationError::new("date", "invalid_date").into());
            }
        }
        let mut tx = self.write_tx().await?;
        let id = write_backup(&mut tx, None, b).await.map_err(|e| match e {
            StoreError::Db(sqlx::Error::Database(d)) if d.is_foreign_key_violation() => {
                StoreError::Missing { entity: "asset", id: b.asset_id.map(|x| x.to_string()).unwrap_or_default() }
            }
            other => other,
        })?;
        tx.audit(actor, "backup.create", "backup", Some(id), detail_name(&b.name)).await?;
        tx.commit().await?;
        Ok(Backup { id, ..b.clone() })
    }

    /// Records a restore test (復旧手順の確認) of a backup, on `date` (YYYY-MM-DD).
    pub async fn record_restore_test(&self, actor: &str, id: Id, date: &str) -> Result<()> {
        if date.parse::<jiff::civil::Date>().is_err() {
            return Err(mamori_model::ValidationError::new("date", "invalid_date").into());
        }
        let mut tx = self.write_tx().await?;
        let n = sqlx::query("UPDATE backups SET last_restore_test = $1 WHERE id = $2")
            .bind(date.to_owned())
            .bind(id)
            .execute(&mut *tx.tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "backup", id: id.to_string() });
        }
        let mut d = Detail::new();
        d.insert("date".into(), Value::String(date.to_owned()));
        tx.audit(actor, "backup.restore_test", "backup", Some(id), d).await?;
        tx.commit().await
    }

    /// Records a contact (連絡先).
    pub async fn create_contact(&self, actor: &str, c: &Contact) -> Result<Contact> {
        if c.organization.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("organization", "empty").into());
        }
        let mut tx = self.write_tx().await?;
        let id = write_contact(&mut tx, None, c).await?;
        tx.audit(actor, "contact.create", "contact", Some(id), detail_name(&c.organization)).await?;
        tx.commit().await?;
        Ok(Contact { id, ..c.clone() })
    }

    /// Records an account (アカウント).
    pub async fn create_account(&self, actor: &str, a: &Account) -> Result<Account> {
        if a.username.trim().is_empty() {
            return Err(mamori_model::ValidationError::new("username", "empty").into());
        }
        let mut tx = self.write_tx().await?;
        let id = write_account(&mut tx, None, a).await?;
        tx.audit(actor, "account.create", "account", Some(id), detail_name(&a.username)).await?;
        tx.commit().await?;
        Ok(Account { id, ..a.clone() })
    }

    /// Enables or disables an account, and marks whether its holder has left.
    pub async fn update_account_status(&self, actor: &str, id: Id, enabled: Option<bool>, holder_left: Option<bool>) -> Result<()> {
        let mut tx = self.write_tx().await?;
        let n = sqlx::query(
            "UPDATE accounts SET enabled = COALESCE($1, enabled), holder_left = COALESCE($2, holder_left) WHERE id = $3",
        )
        .bind(enabled.map(b2i))
        .bind(holder_left.map(b2i))
        .bind(id)
        .execute(&mut *tx.tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Missing { entity: "account", id: id.to_string() });
        }
        let mut d = Detail::new();
        if let Some(e) = enabled {
            d.insert("enabled".into(), Value::Bool(e));
        }
        if let Some(l) = holder_left {
            d.insert("holder_left".into(), Value::Bool(l));
        }
        tx.audit(actor, "account.update", "account", Some(id), d).await?;
        tx.commit().await
    }

    pub async fn list_contracts(&self) -> Result<Vec<Contract>> {
        let rows = sqlx::query(
            "SELECT id, vendor_id, title, scope, remote_maintenance, responsibilities, start_date, \
             end_date FROM contracts ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let links =
            self.links("SELECT contract_id, asset_id FROM contract_assets ORDER BY asset_id").await?;
        rows.iter()
            .map(|r| {
                let id: Id = r.try_get("id")?;
                Ok(Contract {
                    id,
                    vendor_id: r.try_get("vendor_id")?,
                    title: r.try_get("title")?,
                    scope: r.try_get("scope")?,
                    remote_maintenance: get_bool(r, "remote_maintenance")?,
                    responsibilities: r.try_get("responsibilities")?,
                    start_date: r.try_get("start_date")?,
                    end_date: r.try_get("end_date")?,
                    asset_ids: links.iter().filter(|l| l.0 == id).map(|l| l.1).collect(),
                })
            })
            .collect()
    }

    pub async fn list_backups(&self) -> Result<Vec<Backup>> {
        let rows = sqlx::query(
            "SELECT id, name, covers, medium, asset_id, same_credentials, last_success, \
             last_restore_test, notes FROM backups ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Backup {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    covers: r.try_get("covers")?,
                    medium: get_code(r, "medium")?,
                    asset_id: r.try_get("asset_id")?,
                    same_credentials: get_bool(r, "same_credentials")?,
                    last_success: r.try_get("last_success")?,
                    last_restore_test: r.try_get("last_restore_test")?,
                    notes: r.try_get("notes")?,
                })
            })
            .collect()
    }

    pub async fn list_accounts(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query(
            "SELECT id, username, system, privilege, shared, person, holder_left, enabled, \
             last_used, notes FROM accounts ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        let links =
            self.links("SELECT account_id, asset_id FROM account_assets ORDER BY asset_id").await?;
        rows.iter()
            .map(|r| {
                let id: Id = r.try_get("id")?;
                Ok(Account {
                    id,
                    username: r.try_get("username")?,
                    system: r.try_get("system")?,
                    privilege: get_code(r, "privilege")?,
                    shared: get_bool(r, "shared")?,
                    person: r.try_get("person")?,
                    holder_left: get_bool(r, "holder_left")?,
                    enabled: get_bool(r, "enabled")?,
                    last_used: r.try_get("last_used")?,
                    asset_ids: links.iter().filter(|l| l.0 == id).map(|l| l.1).collect(),
                    notes: r.try_get("notes")?,
                })
            })
            .collect()
    }

    pub async fn list_connections(&self) -> Result<Vec<ExternalConnection>> {
        let rows = sqlx::query(
            "SELECT id, name, kind, provider, always_on, authentication, owner, asset_id, \
             vendor_id, notes, segment_id, maintenance_window FROM external_connections ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_connection).collect()
    }

    pub async fn list_contacts(&self) -> Result<Vec<Contact>> {
        let rows = sqlx::query(
            "SELECT id, organization, name, phone, email, notes FROM contacts ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_contact).collect()
    }

    /// Counts for the dashboard, restricted to a vendor's assets when `vendor_scope` is set.
    pub async fn counts(&self, vendor_scope: Option<Id>) -> Result<InventoryCounts> {
        let scope = if vendor_scope.is_some() {
            " WHERE a.id IN (SELECT ca.asset_id FROM contract_assets ca \
              JOIN contracts c ON c.id = ca.contract_id WHERE c.vendor_id = $1)"
        } else {
            ""
        };
        let kind_sql =
            format!("SELECT a.kind, COUNT(*) FROM assets a{scope} GROUP BY a.kind ORDER BY a.kind");
        let seg_sql = format!(
            "SELECT s.segment_id, COUNT(*) FROM (SELECT DISTINCT a.id AS asset_id, i.segment_id \
             FROM assets a LEFT JOIN interfaces i ON i.asset_id = a.id{scope}) s \
             GROUP BY s.segment_id ORDER BY s.segment_id"
        );
        let (mut kq, mut sq) = (sqlx::query(&kind_sql), sqlx::query(&seg_sql));
        if let Some(v) = vendor_scope {
            kq = kq.bind(v);
            sq = sq.bind(v);
        }
        let by_kind: Vec<(String, i64)> = kq
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        let by_segment: Vec<(Option<Id>, i64)> = sq
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        let count = |table: &'static str| async move {
            sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(self.pool())
                .await
        };
        Ok(InventoryCounts {
            assets: by_kind.iter().map(|(_, n)| n).sum(),
            by_kind,
            by_segment,
            segments: count("segments").await?,
            accounts: count("accounts").await?,
            vendors: count("vendors").await?,
            external_connections: count("external_connections").await?,
        })
    }
}

/// `a.b.c.d/n` or an IPv6 prefix.
pub(crate) fn valid_cidr(s: &str) -> bool {
    let Some((addr, len)) = s.split_once('/') else { return false };
    match (addr.parse::<std::net::IpAddr>(), len.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(n)) => n <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(n)) => n <= 128,
        _ => false,
    }
}
