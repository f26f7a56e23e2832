//! The responsibility matrix (checklist topics × the facility and each vendor) and the clauses
//! for the maintenance contracts (保守契約への明記事項) that follow from it.
//!
//! A topic nobody assigned follows mamori's defaults by vendor type (an EMR vendor holds the
//! EMR's accounts and logs, a network vendor the firewall's source restrictions, whoever
//! maintains remotely the remote-maintenance items …). Clause texts are mamori's content
//! (`content/checklist/clauses.toml`), a starting point to agree with the vendor.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use mamori_i18n::Lang;
use mamori_model::{ConnectionKind, Detail, Id, SheetKind, Vendor, VendorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::checklist::maturity_model;
use crate::util::{b2i, get_bool, now};
use crate::{Result, Store, StoreError};

/// Who acts on a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Responsibility {
    pub topic: String,
    pub facility: bool,
    pub vendor_ids: Vec<Id>,
    pub not_applicable: bool,
    pub note: Option<String>,
    /// Nobody assigned it: these are mamori's defaults.
    pub default: bool,
}

/// One row of the matrix.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MatrixRow {
    pub topic: String,
    /// The edition's items on this topic (printed labels) and the first one's text.
    pub items: Vec<String>,
    pub text: String,
    pub responsibility: Responsibility,
    /// Clauses this row puts into an assigned vendor's contract.
    pub clauses: usize,
}

/// The matrix for an edition: rows by topic in the edition's order, vendors as columns.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Matrix {
    pub edition: String,
    pub vendors: Vec<Vendor>,
    pub rows: Vec<MatrixRow>,
}

/// Clause texts of one topic (or the general ones).
#[derive(Debug, Clone, Deserialize)]
pub struct ClauseDef {
    pub title_ja: String,
    pub title_en: String,
    pub clauses_ja: Vec<String>,
    pub clauses_en: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct ClauseFile {
    general: ClauseDef,
    topics: BTreeMap<String, ClauseDef>,
}

fn clause_file() -> Option<&'static ClauseFile> {
    static FILE: OnceLock<Option<ClauseFile>> = OnceLock::new();
    FILE.get_or_init(|| match toml::from_str(include_str!("../../../content/checklist/clauses.toml")) {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::error!(error = %e, "clause content does not parse");
            None
        }
    })
    .as_ref()
}

/// A group of clauses for a vendor: a topic (with the checklist items it answers) or the
/// general ones.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClauseGroup {
    pub topic: Option<String>,
    pub title: String,
    pub items: Vec<String>,
    pub clauses: Vec<String>,
}

/// The clauses for one vendor's contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VendorClauses {
    pub facility: String,
    pub vendor: Vendor,
    pub edition: String,
    /// The devices the vendor's contracts cover.
    pub devices: Vec<String>,
    pub groups: Vec<ClauseGroup>,
}

/// Vendor kinds that usually act on a topic, and whether a vendor with remote maintenance does.
fn default_kinds(topic: &str) -> (&'static [VendorKind], bool) {
    use VendorKind::{Emr, MedicalDevice, Network, Other};
    match topic {
        "remote_maintenance" => (&[], true),
        "mds_sds" => (&[Emr, MedicalDevice], false),
        "patch" | "password_policy" | "password_reuse" => (&[Emr, Network, MedicalDevice, Other], false),
        "source_restriction" => (&[Network], false),
        "two_factor" => (&[Network], true),
        "access_rights" | "accounts" | "access_log" | "backup" => (&[Emr], false),
        "background_services" => (&[Emr, MedicalDevice], false),
        _ => (&[], false),
    }
}

/// Placeholders of the clause texts.
fn fill(text: &str, facility: &str, vendor: &str, devices: &str, days: u32, kev_days: u32) -> String {
    text.replace("{facility}", facility)
        .replace("{vendor}", vendor)
        .replace("{devices}", devices)
        .replace("{days}", &days.to_string())
        .replace("{kev_days}", &kev_days.to_string())
}

impl Store {
    pub(crate) async fn stored_responsibilities(&self) -> Result<BTreeMap<String, Responsibility>> {
        let rows = sqlx::query("SELECT topic, facility, vendor_ids, not_applicable, note FROM responsibilities")
            .fetch_all(self.pool())
            .await?;
        let mut out = BTreeMap::new();
        for r in rows {
            let topic: String = r.try_get("topic")?;
            let ids: String = r.try_get("vendor_ids")?;
            out.insert(
                topic.clone(),
                Responsibility {
                    topic,
                    facility: get_bool(&r, "facility")?,
                    vendor_ids: serde_json::from_str(&ids).map_err(|e| StoreError::Decode(e.to_string()))?,
                    not_applicable: get_bool(&r, "not_applicable")?,
                    note: r.try_get("note")?,
                    default: false,
                },
            );
        }
        Ok(out)
    }

    /// The matrix for an edition's facility sheet: who acts on each topic.
    pub async fn responsibility_matrix(&self, edition: &str) -> Result<Matrix> {
        let ed = self.checklist_edition(edition).await?;
        let vendors = self.list_vendors().await?;
        let contracts = self.list_contracts().await?;
        let connections = self.list_connections().await?;
        let stored = self.stored_responsibilities().await?;
        let remote: BTreeSet<Id> = contracts
            .iter()
            .filter(|c| c.remote_maintenance)
            .map(|c| c.vendor_id)
            .chain(connections.iter().filter(|c| c.kind == ConnectionKind::VendorRemote).filter_map(|c| c.vendor_id))
            .collect();
        let model = maturity_model();
        let clauses = clause_file();
        let mut rows: Vec<MatrixRow> = Vec::new();
        let Some(sheet) = ed.sheet(SheetKind::Facility) else {
            return Ok(Matrix { edition: ed.id.clone(), vendors, rows });
        };
        for item in &sheet.items {
            let Some(topic) = item.topic.clone() else { continue };
            if let Some(row) = rows.iter_mut().find(|r| r.topic == topic) {
                row.items.push(item.label.clone());
                continue;
            }
            let responsibility = match stored.get(&topic) {
                Some(r) => Responsibility {
                    vendor_ids: r.vendor_ids.iter().copied().filter(|id| vendors.iter().any(|v| v.id == *id)).collect(),
                    ..r.clone()
                },
                None => {
                    let (kinds, by_remote) = default_kinds(&topic);
                    let vendor_ids: Vec<Id> = vendors
                        .iter()
                        .filter(|v| kinds.contains(&v.kind) || (by_remote && remote.contains(&v.id)))
                        .map(|v| v.id)
                        .collect();
                    let party = model.get(&topic).map_or("facility", |m| m.party_default.as_str());
                    Responsibility {
                        topic: topic.clone(),
                        facility: party != "vendor" || vendor_ids.is_empty(),
                        vendor_ids,
                        not_applicable: false,
                        note: None,
                        default: true,
                    }
                }
            };
            rows.push(MatrixRow {
                clauses: clauses.and_then(|c| c.topics.get(&topic)).map_or(0, |c| c.clauses_ja.len()),
                topic,
                items: vec![item.label.clone()],
                text: item.text_ja.clone(),
                responsibility,
            });
        }
        Ok(Matrix { edition: ed.id.clone(), vendors, rows })
    }

    /// Assigns a topic (audited). Vendors must exist.
    pub async fn set_responsibility(
        &self,
        actor: &str,
        topic: &str,
        facility: bool,
        vendor_ids: &[Id],
        not_applicable: bool,
        note: Option<&str>,
    ) -> Result<()> {
        if !maturity_model().contains_key(topic) {
            return Err(StoreError::Missing { entity: "checklist_topic", id: topic.to_owned() });
        }
        let vendors = self.list_vendors().await?;
        if let Some(id) = vendor_ids.iter().find(|id| !vendors.iter().any(|v| v.id == **id)) {
            return Err(StoreError::Missing { entity: "vendor", id: id.to_string() });
        }
        let ids: BTreeSet<Id> = vendor_ids.iter().copied().collect();
        let ids: Vec<Id> = ids.into_iter().collect();
        let json = serde_json::to_string(&ids).map_err(|e| StoreError::Format(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO responsibilities (topic, facility, vendor_ids, not_applicable, note, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (topic) DO UPDATE SET facility = excluded.facility, \
             vendor_ids = excluded.vendor_ids, not_applicable = excluded.not_applicable, note = excluded.note, \
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        )
        .bind(topic.to_owned())
        .bind(b2i(facility))
        .bind(json)
        .bind(b2i(not_applicable))
        .bind(note.map(str::to_owned))
        .bind(actor.to_owned())
        .bind(now())
        .execute(&mut *tx.tx)
        .await?;
        let mut d = Detail::new();
        d.insert("topic".into(), Value::String(topic.to_owned()));
        d.insert("facility".into(), Value::Bool(facility));
        d.insert("vendor_ids".into(), Value::from(ids));
        d.insert("not_applicable".into(), Value::Bool(not_applicable));
        tx.audit(actor, "contract.responsibility", "responsibility", None, d).await?;
        tx.commit().await
    }

    /// The clauses for a vendor's contract: the general ones, then one group per topic the
    /// matrix assigns to the vendor. `days`: deadline for ordinary updates; `kev_days`: after a
    /// KEV listing or an emergency advisory.
    pub async fn contract_clauses(&self, lang: Lang, edition: &str, vendor: Id, days: u32, kev_days: u32) -> Result<VendorClauses> {
        let matrix = self.responsibility_matrix(edition).await?;
        let v = matrix
            .vendors
            .iter()
            .find(|x| x.id == vendor)
            .cloned()
            .ok_or_else(|| StoreError::Missing { entity: "vendor", id: vendor.to_string() })?;
        let facility = self.facility().await?.map(|f| f.name).unwrap_or_default();
        let contracts = self.list_contracts().await?;
        let ids: BTreeSet<Id> = contracts.iter().filter(|c| c.vendor_id == vendor).flat_map(|c| c.asset_ids.iter().copied()).collect();
        let devices: Vec<String> = self.all_assets().await?.into_iter().filter(|a| ids.contains(&a.id)).map(|a| a.data.name).collect();
        // A long list is given once, at the top of the document, and referred to.
        let device_list = if devices.is_empty() {
            mamori_i18n::t(lang, "contract.no_devices").to_owned()
        } else if devices.len() > 3 {
            mamori_i18n::t(lang, "contract.devices_listed").to_owned()
        } else {
            devices.join(if lang == Lang::Ja { "、" } else { ", " })
        };
        let Some(file) = clause_file() else {
            return Err(StoreError::Format("content/checklist/clauses.toml does not parse".into()));
        };
        let group = |topic: Option<String>, items: Vec<String>, def: &ClauseDef| ClauseGroup {
            topic,
            title: if lang == Lang::Ja { def.title_ja.clone() } else { def.title_en.clone() },
            items,
            clauses: (if lang == Lang::Ja { &def.clauses_ja } else { &def.clauses_en })
                .iter()
                .map(|c| fill(c, &facility, &v.name, &device_list, days, kev_days))
                .collect(),
        };
        let mut groups = vec![group(None, Vec::new(), &file.general)];
        for row in &matrix.rows {
            let r = &row.responsibility;
            if r.not_applicable || !r.vendor_ids.contains(&vendor) {
                continue;
            }
            if let Some(def) = file.topics.get(&row.topic) {
                groups.push(group(Some(row.topic.clone()), row.items.clone(), def));
            }
        }
        Ok(VendorClauses { facility, vendor: v, edition: matrix.edition, devices, groups })
    }

    /// How far each vendor has answered its 事業者確認用 sheet: (vendor, lines answered, lines).
    pub async fn vendor_answer_status(&self, edition: &str) -> Result<Vec<(Vendor, usize, usize)>> {
        let ed = self.checklist_edition(edition).await?;
        let Some(sheet) = ed.sheet(SheetKind::Vendor) else { return Ok(Vec::new()) };
        let lines: usize = sheet.items.iter().map(|i| crate::checklist::answer_classes(i).len()).sum();
        let mut out = Vec::new();
        for v in self.list_vendors().await? {
            let answered = self.checklist_answers(&ed.id, SheetKind::Vendor, Some(v.id)).await?;
            let n: BTreeSet<(String, Option<mamori_model::DeviceClass>)> =
                answered.iter().map(|a| (a.item_id.clone(), a.device_class)).collect();
            out.push((v, n.len(), lines));
        }
        Ok(out)
    }
}
