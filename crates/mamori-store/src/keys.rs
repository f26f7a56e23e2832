//! The keys an import matches by (`asset_keys`, `discovered_devices.host_key`): stable MAC,
//! address, DHCP client id, short host name, serial number and name, normalised the way the
//! reconciliation compares them. Kept in the database next to each asset so that an import of
//! any size looks up only the assets its rows name, instead of loading the inventory.

use mamori_model::{AssetData, Id, is_randomized_mac};
use sqlx::Row;

use crate::{Backend, Result, util::batch_placeholders};

/// Key kinds.
pub(crate) const MAC: &str = "mac";
pub(crate) const IP: &str = "ip";
pub(crate) const CLIENT: &str = "client";
pub(crate) const HOST: &str = "host";
pub(crate) const SERIAL: &str = "serial";
pub(crate) const NAME: &str = "name";

/// A host name compared by its first label, case-insensitively (`PC-01.example.local.` is
/// `pc-01`).
pub(crate) fn host_key(h: &str) -> Option<String> {
    let h = h.trim().trim_end_matches('.');
    let short = h.split('.').next().unwrap_or(h).trim().to_lowercase();
    (!short.is_empty()).then_some(short)
}

/// A name or serial compared without surrounding space, case-insensitively.
pub(crate) fn name_key(n: &str) -> Option<String> {
    let k = n.trim().to_lowercase();
    (!k.is_empty()).then_some(k)
}

/// The match keys of an asset, without repeats. The asset's name counts as a host name too
/// (ledgers often name a PC by its host name).
pub(crate) fn asset_keys(d: &AssetData) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let mut add = |kind: &'static str, key: Option<String>| {
        if let Some(key) = key
            && !out.iter().any(|(k, v)| *k == kind && *v == key)
        {
            out.push((kind, key));
        }
    };
    for i in &d.interfaces {
        add(MAC, i.mac.clone().filter(|m| !is_randomized_mac(m)));
        add(IP, i.ip.clone());
    }
    add(CLIENT, d.attributes.get("dhcp.client_id").cloned());
    add(HOST, d.attributes.get("hostname").and_then(|h| host_key(h)));
    add(HOST, host_key(&d.name));
    add(SERIAL, d.serial.as_deref().and_then(name_key));
    add(NAME, name_key(&d.name));
    out
}

/// Inserts the keys of the assets given (their old keys must be gone already).
pub(crate) async fn insert_asset_keys(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    assets: &[(Id, &AssetData)],
) -> Result<()> {
    let rows: Vec<(Id, &'static str, String)> = assets
        .iter()
        .flat_map(|(id, d)| asset_keys(d).into_iter().map(move |(k, v)| (*id, k, v)))
        .collect();
    for chunk in rows.chunks(300) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("({})", batch_placeholders(backend, i * 3 + 1, 3)))
            .collect();
        let sql = format!("INSERT INTO asset_keys (asset_id, kind, key) VALUES {}", values.join(", "));
        let mut q = sqlx::query(&sql);
        for (id, kind, key) in chunk {
            q = q.bind(*id).bind(*kind).bind(key.clone());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Fills `discovered_devices.host_key` where a host name has none (rows written before schema
/// 3, or carried in by a snapshot).
pub(crate) async fn fill_queue_host_keys(conn: &mut sqlx::AnyConnection) -> Result<()> {
    let rows = sqlx::query(
        "SELECT id, hostname FROM discovered_devices WHERE hostname IS NOT NULL AND host_key IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let id: Id = r.try_get(0)?;
        let hostname: String = r.try_get(1)?;
        sqlx::query("UPDATE discovered_devices SET host_key = $1 WHERE id = $2")
            .bind(host_key(&hostname))
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Computes the keys of everything already stored: run once, by migration 3.
pub(crate) async fn backfill(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<()> {
    let assets = crate::assets::load_all_assets(&mut *conn).await?;
    for chunk in assets.chunks(1000) {
        let items: Vec<(Id, &AssetData)> = chunk.iter().map(|a| (a.id, &a.data)).collect();
        insert_asset_keys(&mut *conn, backend, &items).await?;
    }
    fill_queue_host_keys(conn).await
}

#[cfg(test)]
mod tests {
    use mamori_model::{AssetKind, Interface};

    use super::*;

    #[test]
    fn keys_of_an_asset() {
        let mut d = AssetData::new("PC-01.example.local", AssetKind::Pc);
        d.serial = Some(" SN1 ".into());
        d.attributes.insert("hostname".into(), "pc-01".into());
        d.interfaces.push(Interface {
            name: None,
            ip: Some("10.0.0.1".into()),
            mac: Some("00:1a:2b:3c:4d:5e".into()),
            segment_id: None,
        });
        // A randomised MAC identifies nothing.
        d.interfaces.push(Interface { name: None, ip: None, mac: Some("02:00:00:00:00:01".into()), segment_id: None });
        let keys = asset_keys(&d);
        assert_eq!(
            keys,
            [
                (MAC, "00:1a:2b:3c:4d:5e".to_owned()),
                (IP, "10.0.0.1".to_owned()),
                (HOST, "pc-01".to_owned()),
                (SERIAL, "sn1".to_owned()),
                (NAME, "pc-01.example.local".to_owned()),
            ]
        );
    }

    /// Migration 3 computes the match keys of assets stored before it.
    #[tokio::test]
    async fn match_keys_of_older_databases_are_filled_by_the_migration() {
        use mamori_model::{Observation, SourceKind};

        use crate::{ImportOptions, ImportSource, OpenMode, Quiet, Store};
        for (backend, db) in crate::testing::fresh_databases().await {
            let store = Store::open(&db.url, OpenMode::Create).await.unwrap();
            let mut d = AssetData::new("受付PC", AssetKind::Pc);
            d.interfaces.push(Interface {
                name: None,
                ip: Some("192.168.1.21".into()),
                mac: Some("00:1a:2b:3c:4d:5e".into()),
                segment_id: None,
            });
            let pc = store.create_asset("t", &d).await.unwrap();
            // As a schema-2 database had it: no keys, migration 3 not applied.
            for sql in [
                "DROP TABLE asset_keys",
                "DROP INDEX discovered_mac",
                "DROP INDEX discovered_client",
                "DROP INDEX discovered_host",
                "DROP INDEX discovered_ip",
                "ALTER TABLE discovered_devices DROP COLUMN host_key",
                "DELETE FROM mamori_migrations WHERE version = 3",
            ] {
                sqlx::query(sql).execute(store.pool()).await.unwrap();
            }
            drop(store);
            let store = Store::open(&db.url, OpenMode::Existing).await.unwrap();
            let mut scan = Observation::at_line(1);
            scan.mac = Some("00:1a:2b:3c:4d:5e".into());
            scan.ip = Some("192.168.1.99".into());
            let source = ImportSource {
                kind: SourceKind::Nmap,
                file_name: "scan.xml".into(),
                sha256: String::new(),
                taken_at: None,
            };
            let plan = store
                .import_observations("t", source, &[scan], Vec::new(), &ImportOptions::default(), &Quiet)
                .await
                .unwrap();
            assert_eq!(plan.counts.updated, 1, "{backend}: {:?}", plan.counts);
            assert_eq!(plan.updated.first().map(|u| u.asset_id), Some(pc.id), "{backend}");
        }
    }
}
