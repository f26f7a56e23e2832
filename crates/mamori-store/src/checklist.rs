//! The MHLW checklist: editions (shipped in `content/checklist/`, or loaded by the user from the
//! official xlsx form), answers with their history, evidence from the inventory, maturity and
//! the roadmap.
//!
//! Answers are append-only rows: the answer in force for (edition, sheet, vendor, item, device
//! class, round) is the newest; earlier ones are its history. An answer records the edition it
//! answers. Evidence never writes an answer: it suggests one and warns when the data
//! contradicts a はい.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use mamori_i18n::{Lang, t, tf};
use mamori_model::checklist::{ChecklistEdition, ChecklistItem, ChecklistSheet};
use mamori_model::{AssetKind, Authentication, BackupMedium, ConnectionKind, DeviceClass, Detail, Id, SheetKind};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;

use crate::util::now;
use crate::{Result, Store, StoreError};

/// mamori's maturity model for one topic (`content/checklist/maturity.toml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MaturityDef {
    pub level1_ja: String,
    pub level2_ja: String,
    pub level3_ja: String,
    pub level1_en: String,
    pub level2_en: String,
    pub level3_en: String,
    pub next1_ja: String,
    pub next2_ja: String,
    pub next3_ja: String,
    pub next1_en: String,
    pub next2_en: String,
    pub next3_en: String,
    pub risk_weight: u32,
    /// facility, vendor or shared: who usually acts.
    pub party_default: String,
}

impl MaturityDef {
    /// The definition of a level (1–3) in a language.
    pub fn level(&self, lang: Lang, level: u8) -> &str {
        match (lang, level) {
            (Lang::Ja, 1) => &self.level1_ja,
            (Lang::Ja, 2) => &self.level2_ja,
            (Lang::Ja, _) => &self.level3_ja,
            (_, 1) => &self.level1_en,
            (_, 2) => &self.level2_en,
            _ => &self.level3_en,
        }
    }

    /// What to do to reach `level` (1–3).
    pub fn next(&self, lang: Lang, level: u8) -> &str {
        match (lang, level) {
            (Lang::Ja, 1) => &self.next1_ja,
            (Lang::Ja, 2) => &self.next2_ja,
            (Lang::Ja, _) => &self.next3_ja,
            (_, 1) => &self.next1_en,
            (_, 2) => &self.next2_en,
            _ => &self.next3_en,
        }
    }
}

/// The editions shipped with mamori, oldest first.
pub fn builtin_editions() -> &'static [ChecklistEdition] {
    static EDITIONS: OnceLock<Vec<ChecklistEdition>> = OnceLock::new();
    EDITIONS.get_or_init(|| {
        [include_str!("../../../content/checklist/r6.toml"), include_str!("../../../content/checklist/r7.toml")]
            .iter()
            .filter_map(|text| match toml::from_str::<ChecklistEdition>(text) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::error!(error = %e, "checklist content does not parse");
                    None
                }
            })
            .collect()
    })
}

/// The MHLW BCP 確認表 (サイバー攻撃を想定した事業継続計画策定の確認表), as far as it is known.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BcpTable {
    pub id: String,
    pub title_ja: String,
    pub title_en: String,
    pub source_note_ja: String,
    pub source_note_en: String,
    pub phases: Vec<BcpPhase>,
}

/// A phase: 1 平時, 2 検知, 3 初動対応, 4 復旧処理, 5 事後対応.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BcpPhase {
    pub number: u32,
    pub name_ja: String,
    pub name_en: String,
    #[serde(default)]
    pub note_ja: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
    #[serde(default)]
    pub items: Vec<BcpItem>,
}

/// An item of the BCP 確認表.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
pub struct BcpItem {
    pub id: String,
    pub text_ja: String,
    #[serde(default)]
    pub text_en: Option<String>,
    pub confidence: mamori_model::Confidence,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub note_ja: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
}

/// The BCP 確認表 shipped in `content/checklist/bcp-r6.toml`.
pub fn bcp_table() -> Option<&'static BcpTable> {
    static TABLE: OnceLock<Option<BcpTable>> = OnceLock::new();
    TABLE
        .get_or_init(|| match toml::from_str(include_str!("../../../content/checklist/bcp-r6.toml")) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "BCP content does not parse");
                None
            }
        })
        .as_ref()
}

/// The maturity model, by topic.
pub fn maturity_model() -> &'static BTreeMap<String, MaturityDef> {
    static MODEL: OnceLock<BTreeMap<String, MaturityDef>> = OnceLock::new();
    MODEL.get_or_init(|| {
        toml::from_str(include_str!("../../../content/checklist/maturity.toml")).unwrap_or_else(|e| {
            tracing::error!(error = %e, "maturity content does not parse");
            BTreeMap::new()
        })
    })
}

/// The answer rows of an item: one per device class, or one (`None`) for an item answered once.
pub fn answer_classes(item: &ChecklistItem) -> Vec<Option<DeviceClass>> {
    if item.device_classes.is_empty() { vec![None] } else { item.device_classes.iter().copied().map(Some).collect() }
}

fn class_code(c: Option<DeviceClass>) -> &'static str {
    c.map_or("item", DeviceClass::code)
}

/// Finds an item by id (`2-5`) or printed label (`2-(5)`, `2-⑤`, `2-（5）`).
pub fn find_item<'a>(sheet: &'a ChecklistSheet, key: &str) -> Option<&'a ChecklistItem> {
    let norm = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                '（' => '(',
                '）' => ')',
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
                '－' | '‐' | '―' => '-',
                _ => c,
            })
            .collect()
    };
    let key = norm(key);
    sheet.items.iter().find(|i| i.id == key || norm(&i.label) == key)
}

/// One recorded answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChecklistAnswer {
    pub id: Id,
    pub edition: String,
    pub sheet: SheetKind,
    /// The vendor whose 事業者確認用 sheet this answers; `None` for the facility's sheet.
    pub vendor_id: Option<Id>,
    pub item_id: String,
    /// `None`: the item is answered once, not per device class.
    pub device_class: Option<DeviceClass>,
    /// 1回目 or 2回目.
    pub round: u8,
    /// はい (true) or いいえ.
    pub yes: bool,
    /// 確認日, YYYY-MM-DD.
    pub checked_on: Option<String>,
    /// 目標日 for an いいえ, YYYY-MM-DD.
    pub target_date: Option<String>,
    /// Self-assessed maturity level (1–3) of a はい.
    pub maturity: Option<u8>,
    pub comment: Option<String>,
    /// A link or a file name that shows it.
    pub evidence: Option<String>,
    pub answered_by: String,
    pub recorded_at: String,
    /// Files attached to this answer as evidence.
    #[serde(default)]
    pub files: Vec<EvidenceFileRef>,
}

/// A file attached to an answer (its content is fetched with [`Store::checklist_file`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvidenceFileRef {
    pub id: Id,
    pub file_name: String,
    pub size: i64,
    pub sha256: String,
}

/// Largest evidence file accepted, and most files per answer.
pub const MAX_EVIDENCE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_EVIDENCE_FILES: usize = 5;

/// An answer to record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewAnswer {
    pub edition: String,
    pub sheet: SheetKind,
    pub vendor_id: Option<Id>,
    /// Item id or printed label.
    pub item: String,
    pub device_class: Option<DeviceClass>,
    pub round: u8,
    pub yes: bool,
    pub checked_on: Option<String>,
    pub target_date: Option<String>,
    pub maturity: Option<u8>,
    pub comment: Option<String>,
    /// A link or a document reference that shows it.
    pub evidence: Option<String>,
    /// Files to attach as evidence: name and content.
    #[serde(skip)]
    pub files: Vec<(String, Vec<u8>)>,
}

const ANSWER_COLUMNS: &str = "id, edition, sheet, vendor_id, item_id, device_class, round, answer, checked_on, \
     target_date, maturity, comment, evidence, answered_by, recorded_at";

fn row_to_answer(r: &sqlx::any::AnyRow) -> Result<ChecklistAnswer> {
    let sheet: String = r.try_get("sheet")?;
    let class: String = r.try_get("device_class")?;
    let answer: String = r.try_get("answer")?;
    let round: i64 = r.try_get("round")?;
    let maturity: Option<i64> = r.try_get("maturity")?;
    Ok(ChecklistAnswer {
        id: r.try_get("id")?,
        edition: r.try_get("edition")?,
        sheet: sheet.parse().map_err(|e: mamori_model::UnknownCode| StoreError::Format(e.to_string()))?,
        vendor_id: r.try_get("vendor_id")?,
        item_id: r.try_get("item_id")?,
        device_class: if class == "item" {
            None
        } else {
            Some(class.parse().map_err(|e: mamori_model::UnknownCode| StoreError::Format(e.to_string()))?)
        },
        round: u8::try_from(round).unwrap_or(1),
        yes: answer == "yes",
        checked_on: r.try_get("checked_on")?,
        target_date: r.try_get("target_date")?,
        maturity: maturity.and_then(|m| u8::try_from(m).ok()),
        comment: r.try_get("comment")?,
        evidence: r.try_get("evidence")?,
        answered_by: r.try_get("answered_by")?,
        recorded_at: r.try_get("recorded_at")?,
        files: Vec::new(),
    })
}

/// A file name as given by a browser or a path: the last component, without control characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() { "evidence".to_owned() } else { cleaned }
}

fn valid_date(field: &str, d: Option<&str>) -> Result<()> {
    match d {
        Some(d) if d.parse::<jiff::civil::Date>().is_err() => {
            Err(StoreError::Format(format!("{field}: {d} is not a date (YYYY-MM-DD)")))
        }
        _ => Ok(()),
    }
}

/// Checks an answer against its edition; returns the item id.
fn validate_answer(edition: &ChecklistEdition, a: &NewAnswer) -> Result<String> {
    let sheet = edition
        .sheet(a.sheet)
        .ok_or_else(|| StoreError::Format(format!("{}: no {} sheet", edition.id, a.sheet.code())))?;
    let item = find_item(sheet, &a.item)
        .ok_or_else(|| StoreError::Missing { entity: "checklist_item", id: format!("{} {}", edition.id, a.item) })?;
    let classes = answer_classes(item);
    if !classes.contains(&a.device_class) {
        let expected: Vec<&str> = classes.iter().map(|c| class_code(*c)).collect();
        return Err(StoreError::Format(format!(
            "{} {}: device class {} is not answered for this item (expected: {})",
            edition.id,
            item.label,
            class_code(a.device_class),
            expected.join(", ")
        )));
    }
    if !(1..=2).contains(&a.round) {
        return Err(StoreError::Format(format!("round: {} (1 or 2)", a.round)));
    }
    if let Some(m) = a.maturity
        && !(1..=3).contains(&m)
    {
        return Err(StoreError::Format(format!("maturity: {m} (1 to 3)")));
    }
    if a.sheet == SheetKind::Vendor && a.vendor_id.is_none() {
        return Err(StoreError::Format("the 事業者確認用 sheet is answered per vendor: give the vendor".into()));
    }
    if a.sheet == SheetKind::Facility && a.vendor_id.is_some() {
        return Err(StoreError::Format("the 医療機関確認用 sheet is the facility's, not a vendor's".into()));
    }
    valid_date("checked_on", a.checked_on.as_deref())?;
    valid_date("target_date", a.target_date.as_deref())?;
    if a.files.len() > MAX_EVIDENCE_FILES {
        return Err(StoreError::Format(format!("at most {MAX_EVIDENCE_FILES} files per answer")));
    }
    if let Some((name, _)) = a.files.iter().find(|(_, b)| b.is_empty() || b.len() > MAX_EVIDENCE_BYTES) {
        return Err(StoreError::Format(format!("{name}: an evidence file must hold 1 byte to {} MiB", MAX_EVIDENCE_BYTES / 1024 / 1024)));
    }
    for (field, v) in [("comment", &a.comment), ("evidence", &a.evidence)] {
        if v.as_ref().is_some_and(|v| v.len() > 4000) {
            return Err(StoreError::Format(format!("{field}: longer than 4000 bytes")));
        }
    }
    Ok(item.id.clone())
}

impl Store {
    /// Every edition: the shipped ones, then those loaded from official forms.
    pub async fn checklist_editions(&self) -> Result<Vec<ChecklistEdition>> {
        let mut out: Vec<ChecklistEdition> = builtin_editions().to_vec();
        let rows = sqlx::query("SELECT content FROM checklist_editions ORDER BY loaded_at, id")
            .fetch_all(self.pool())
            .await?;
        for r in rows {
            let content: String = r.try_get(0)?;
            out.push(serde_json::from_str(&content).map_err(|e| StoreError::Format(e.to_string()))?);
        }
        Ok(out)
    }

    /// One edition by id (case-insensitive: `r7` is `R7`).
    pub async fn checklist_edition(&self, id: &str) -> Result<ChecklistEdition> {
        self.checklist_editions()
            .await?
            .into_iter()
            .find(|e| e.id.eq_ignore_ascii_case(id))
            .ok_or_else(|| StoreError::Missing { entity: "checklist_edition", id: id.to_owned() })
    }

    /// The newest edition (the last shipped or loaded).
    pub async fn latest_checklist_edition(&self) -> Result<ChecklistEdition> {
        self.checklist_editions()
            .await?
            .pop()
            .ok_or_else(|| StoreError::Missing { entity: "checklist_edition", id: "*".into() })
    }

    /// Stores an edition read from an official form. Its id must be new.
    pub async fn save_checklist_edition(
        &self,
        actor: &str,
        edition: &ChecklistEdition,
        file_name: &str,
        sha256: &str,
    ) -> Result<()> {
        if edition.id.trim().is_empty() || edition.id.len() > 40 {
            return Err(StoreError::Format("edition id: 1 to 40 characters".into()));
        }
        if self.checklist_editions().await?.iter().any(|e| e.id.eq_ignore_ascii_case(&edition.id)) {
            return Err(StoreError::Conflict(format!("edition {} exists already", edition.id)));
        }
        let items: usize = edition.sheets.iter().map(|s| s.items.len()).sum();
        if items == 0 {
            return Err(StoreError::Format("the edition has no item".into()));
        }
        for sheet in &edition.sheets {
            let mut seen = std::collections::BTreeSet::new();
            for item in &sheet.items {
                if item.id.trim().is_empty() || item.label.trim().is_empty() || item.text_ja.trim().is_empty() {
                    return Err(StoreError::Format(format!("{}: an item without id, label or text ({})", sheet.name_ja, item.label)));
                }
                if !seen.insert(item.id.as_str()) {
                    return Err(StoreError::Format(format!("{}: item {} appears twice", sheet.name_ja, item.id)));
                }
            }
        }
        let content = serde_json::to_string(edition).map_err(|e| StoreError::Format(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO checklist_editions (id, content, file_name, sha256, loaded_at, loaded_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(edition.id.clone())
        .bind(content)
        .bind(file_name.to_owned())
        .bind(sha256.to_owned())
        .bind(now())
        .bind(actor.to_owned())
        .execute(&mut *tx.tx)
        .await?;
        let mut d = Detail::new();
        d.insert("edition".into(), Value::String(edition.id.clone()));
        d.insert("file".into(), Value::String(file_name.to_owned()));
        d.insert("sha256".into(), Value::String(sha256.to_owned()));
        d.insert("items".into(), Value::from(items));
        tx.audit(actor, "checklist.edition_load", "checklist_edition", None, d).await?;
        tx.commit().await
    }

    /// Records answers in one transaction (one audit entry each), skipping those equal to the
    /// answer in force. Returns how many were recorded.
    pub async fn answer_checklist(&self, actor: &str, answers: &[NewAnswer]) -> Result<usize> {
        let editions = self.checklist_editions().await?;
        let mut checked = Vec::with_capacity(answers.len());
        for a in answers {
            let edition = editions
                .iter()
                .find(|e| e.id.eq_ignore_ascii_case(&a.edition))
                .ok_or_else(|| StoreError::Missing { entity: "checklist_edition", id: a.edition.clone() })?;
            checked.push((edition.id.clone(), validate_answer(edition, a)?, a));
        }
        let mut tx = self.write_tx().await?;
        let mut written = 0;
        for (edition, item_id, a) in checked {
            let current = sqlx::query(&format!(
                "SELECT {ANSWER_COLUMNS} FROM checklist_answers WHERE edition = $1 AND sheet = $2 \
                 AND item_id = $3 AND device_class = $4 AND round = $5 AND \
                 COALESCE(vendor_id, 0) = COALESCE($6, 0) ORDER BY id DESC LIMIT 1"
            ))
            .bind(edition.clone())
            .bind(a.sheet.code())
            .bind(item_id.clone())
            .bind(class_code(a.device_class))
            .bind(i64::from(a.round))
            .bind(a.vendor_id)
            .fetch_optional(&mut *tx.tx)
            .await?;
            if let Some(c) = current.as_ref().map(row_to_answer).transpose()?
                && c.yes == a.yes
                && c.checked_on == a.checked_on
                && c.target_date == a.target_date
                && c.maturity == a.maturity
                && c.comment == a.comment
                && c.evidence == a.evidence
                && a.files.is_empty()
            {
                continue;
            }
            let id: Id = sqlx::query(
                "INSERT INTO checklist_answers (edition, sheet, vendor_id, item_id, device_class, round, \
                 answer, checked_on, target_date, maturity, comment, evidence, answered_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
            )
            .bind(edition.clone())
            .bind(a.sheet.code())
            .bind(a.vendor_id)
            .bind(item_id.clone())
            .bind(class_code(a.device_class))
            .bind(i64::from(a.round))
            .bind(if a.yes { "yes" } else { "no" })
            .bind(a.checked_on.clone())
            .bind(a.target_date.clone())
            .bind(a.maturity.map(i64::from))
            .bind(a.comment.clone())
            .bind(a.evidence.clone())
            .bind(actor.to_owned())
            .bind(now())
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(ref d) if d.is_foreign_key_violation() => {
                    StoreError::Missing { entity: "vendor", id: a.vendor_id.map(|v| v.to_string()).unwrap_or_default() }
                }
                other => other.into(),
            })?
            .try_get(0)?;
            let mut d = Detail::new();
            d.insert("edition".into(), Value::String(edition));
            d.insert("sheet".into(), Value::String(a.sheet.code().into()));
            d.insert("item".into(), Value::String(item_id));
            d.insert("device_class".into(), Value::String(class_code(a.device_class).into()));
            d.insert("round".into(), Value::from(a.round));
            d.insert("answer".into(), Value::String(if a.yes { "yes" } else { "no" }.into()));
            if let Some(v) = a.vendor_id {
                d.insert("vendor_id".into(), Value::from(v));
            }
            for (name, bytes) in &a.files {
                use base64::Engine as _;
                let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes));
                sqlx::query(
                    "INSERT INTO checklist_files (answer_id, file_name, size, sha256, content, uploaded_by, uploaded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(id)
                .bind(clean_name(name))
                .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
                .bind(sha.clone())
                .bind(base64::engine::general_purpose::STANDARD.encode(bytes))
                .bind(actor.to_owned())
                .bind(now())
                .execute(&mut *tx.tx)
                .await?;
                d.insert(format!("file:{}", clean_name(name)), Value::String(sha));
            }
            tx.audit(actor, "checklist.answer", "checklist_answer", Some(id), d).await?;
            written += 1;
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The answers in force for an edition's sheet (of one vendor, for the vendor sheet).
    pub async fn checklist_answers(
        &self,
        edition: &str,
        sheet: SheetKind,
        vendor_id: Option<Id>,
    ) -> Result<Vec<ChecklistAnswer>> {
        let rows = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM checklist_answers a WHERE edition = $1 AND sheet = $2 \
             AND COALESCE(vendor_id, 0) = COALESCE($3, 0) AND id = (SELECT MAX(b.id) FROM \
             checklist_answers b WHERE b.edition = a.edition AND b.sheet = a.sheet AND \
             COALESCE(b.vendor_id, 0) = COALESCE(a.vendor_id, 0) AND b.item_id = a.item_id AND \
             b.device_class = a.device_class AND b.round = a.round) ORDER BY item_id, device_class, round"
        ))
        .bind(edition.to_owned())
        .bind(sheet.code())
        .bind(vendor_id)
        .fetch_all(self.pool())
        .await?;
        let mut answers = rows.iter().map(row_to_answer).collect::<Result<Vec<_>>>()?;
        self.attach_file_refs(&mut answers).await?;
        Ok(answers)
    }

    async fn attach_file_refs(&self, answers: &mut [ChecklistAnswer]) -> Result<()> {
        let ids: Vec<Id> = answers.iter().map(|a| a.id).collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, answer_id, file_name, size, sha256 FROM checklist_files WHERE answer_id IN ({}) ORDER BY id",
                crate::util::placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(self.pool()).await? {
                let answer: Id = r.try_get("answer_id")?;
                if let Some(a) = answers.iter_mut().find(|a| a.id == answer) {
                    a.files.push(EvidenceFileRef {
                        id: r.try_get("id")?,
                        file_name: r.try_get("file_name")?,
                        size: r.try_get("size")?,
                        sha256: r.try_get("sha256")?,
                    });
                }
            }
        }
        Ok(())
    }

    /// An evidence file: the answer it belongs to (for access checks), its name and content.
    pub async fn checklist_file(&self, id: Id) -> Result<(ChecklistAnswer, String, Vec<u8>)> {
        use base64::Engine as _;
        let r = sqlx::query("SELECT answer_id, file_name, content FROM checklist_files WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::Missing { entity: "evidence_file", id: id.to_string() })?;
        let answer_id: Id = r.try_get("answer_id")?;
        let content: String = r.try_get("content")?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(content).map_err(|e| StoreError::Decode(e.to_string()))?;
        let a = sqlx::query(&format!("SELECT {ANSWER_COLUMNS} FROM checklist_answers WHERE id = $1"))
            .bind(answer_id)
            .fetch_one(self.pool())
            .await?;
        Ok((row_to_answer(&a)?, r.try_get("file_name")?, bytes))
    }

    /// Every answer ever recorded for an item, newest first.
    pub async fn checklist_answer_history(
        &self,
        edition: &str,
        sheet: SheetKind,
        item_id: &str,
    ) -> Result<Vec<ChecklistAnswer>> {
        let rows = sqlx::query(&format!(
            "SELECT {ANSWER_COLUMNS} FROM checklist_answers WHERE edition = $1 AND sheet = $2 \
             AND item_id = $3 ORDER BY id DESC"
        ))
        .bind(edition.to_owned())
        .bind(sheet.code())
        .bind(item_id.to_owned())
        .fetch_all(self.pool())
        .await?;
        let mut answers = rows.iter().map(row_to_answer).collect::<Result<Vec<_>>>()?;
        self.attach_file_refs(&mut answers).await?;
        Ok(answers)
    }

    /// Carries the facility's answers from one edition to another: each item of `to` whose
    /// topic an item of `from` had gets that item's answers in force (per device class where
    /// both have it, otherwise the item's answers when all agree), unless it has answers of its
    /// own. Returns the carried item ids and the items of `to` left to answer.
    pub async fn carry_checklist_answers(&self, actor: &str, from: &str, to: &str) -> Result<CarryReport> {
        let from_ed = self.checklist_edition(from).await?;
        let to_ed = self.checklist_edition(to).await?;
        let (Some(fs), Some(ts)) = (from_ed.sheet(SheetKind::Facility), to_ed.sheet(SheetKind::Facility)) else {
            return Err(StoreError::Format("both editions need a 医療機関確認用 sheet".into()));
        };
        let old = self.checklist_answers(&from_ed.id, SheetKind::Facility, None).await?;
        let existing = self.checklist_answers(&to_ed.id, SheetKind::Facility, None).await?;
        let mut report = CarryReport::default();
        let mut new = Vec::new();
        for item in &ts.items {
            if existing.iter().any(|a| a.item_id == item.id) {
                continue;
            }
            let source = item.topic.as_ref().and_then(|t| fs.items.iter().find(|i| i.topic.as_ref() == Some(t)));
            let Some(source) = source else {
                report.to_answer.push(item.label.clone());
                continue;
            };
            let theirs: Vec<&ChecklistAnswer> = old.iter().filter(|a| a.item_id == source.id && a.round == 1).collect();
            if theirs.is_empty() {
                report.to_answer.push(item.label.clone());
                continue;
            }
            let mut carried = false;
            for class in answer_classes(item) {
                let same = theirs.iter().find(|a| a.device_class == class);
                // Merged into one row (R6 patches per class → R7 one row): yes only if all were yes.
                let merged = (class.is_none() || same.is_none()).then(|| {
                    let all_yes = theirs.iter().all(|a| a.yes);
                    theirs.iter().find(|a| a.yes == all_yes).copied()
                });
                let Some(a) = same.copied().or(merged.flatten()) else { continue };
                new.push(NewAnswer {
                    edition: to_ed.id.clone(),
                    sheet: SheetKind::Facility,
                    vendor_id: None,
                    item: item.id.clone(),
                    device_class: class,
                    round: 1,
                    yes: a.yes,
                    checked_on: a.checked_on.clone(),
                    target_date: a.target_date.clone(),
                    maturity: a.maturity,
                    comment: Some(tf(Lang::Ja, "checklist.carried_from", &[("edition", &from_ed.id), ("item", &source.label)])),
                    evidence: a.evidence.clone(),
                    files: Vec::new(),
                });
                carried = true;
            }
            if carried {
                report.carried.push(item.label.clone());
            } else {
                report.to_answer.push(item.label.clone());
            }
        }
        self.answer_checklist(actor, &new).await?;
        Ok(report)
    }
}

/// What carrying answers between editions did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CarryReport {
    /// Items of the new edition that got an answer (printed labels).
    pub carried: Vec<String>,
    /// Items of the new edition without an answer: new items, or items not answered before.
    pub to_answer: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Evidence

/// What mamori's records say about a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// The records support a はい.
    Supports,
    /// The records show something that contradicts a はい.
    Contradicts,
    /// mamori holds no data on this.
    NoData,
}

/// Evidence for one topic: a status and the facts behind it, in the reader's language.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    pub topic: String,
    pub status: EvidenceStatus,
    pub facts: Vec<String>,
}

impl Evidence {
    /// The answer the records suggest, if any.
    pub fn suggested(&self) -> Option<bool> {
        match self.status {
            EvidenceStatus::Supports => Some(true),
            EvidenceStatus::Contradicts => Some(false),
            EvidenceStatus::NoData => None,
        }
    }
}

fn days_since(date: &str, today: jiff::civil::Date) -> Option<i64> {
    let d = date.get(..10)?.parse::<jiff::civil::Date>().ok()?;
    Some(i64::from((today - d).get_days()))
}

impl Store {
    /// Evidence by topic, from the inventory, accounts, backups, contacts, connections and the
    /// last stocktake, as of `today`.
    pub async fn checklist_evidence(&self, lang: Lang, today: jiff::civil::Date) -> Result<BTreeMap<String, Evidence>> {
        let assets = self.all_assets().await?;
        let accounts = self.list_accounts().await?;
        let backups = self.list_backups().await?;
        let contacts = self.list_contacts().await?;
        let connections = self.list_connections().await?;
        let contracts = self.list_contracts().await?;
        let facility = self.facility().await?;
        let last_stocktake = self.list_stocktakes(1).await?.into_iter().next();
        let mut out = BTreeMap::new();
        let mut put = |topic: &str, status: EvidenceStatus, facts: Vec<String>| {
            out.insert(topic.to_owned(), Evidence { topic: topic.to_owned(), status, facts });
        };
        let n = |v: usize| v.to_string();

        // 1-(1) 医療情報システム安全管理責任者.
        match facility.as_ref().and_then(|f| f.security_manager.clone()).filter(|s| !s.trim().is_empty()) {
            Some(name) => put("security_manager", EvidenceStatus::Supports, vec![tf(lang, "evidence.manager_set", &[("name", &name)])]),
            None => put("security_manager", EvidenceStatus::Contradicts, vec![t(lang, "evidence.manager_missing").to_owned()]),
        }

        // 2-(1) 台帳管理.
        {
            let no_owner = assets.iter().filter(|a| a.data.owner.as_deref().is_none_or(|o| o.trim().is_empty())).count();
            let no_segment = assets
                .iter()
                .filter(|a| a.data.interfaces.iter().all(|i| i.segment_id.is_none()))
                .count();
            let no_version = assets
                .iter()
                .filter(|a| matches!(a.data.kind, AssetKind::Server | AssetKind::Pc | AssetKind::NetworkDevice | AssetKind::VpnUtm | AssetKind::WifiAp | AssetKind::Nas))
                .filter(|a| a.data.os_version.is_none() && a.data.os.is_none())
                .count();
            let mut facts = vec![tf(lang, "evidence.ledger_count", &[("n", &n(assets.len()))])];
            let mut bad = assets.is_empty();
            for (count, key) in [(no_owner, "evidence.ledger_no_owner"), (no_segment, "evidence.ledger_no_segment"), (no_version, "evidence.ledger_no_version")] {
                if count > 0 {
                    facts.push(tf(lang, key, &[("n", &n(count))]));
                    bad = true;
                }
            }
            match last_stocktake.as_ref().and_then(|s| days_since(&s.at, today).map(|d| (s.at.clone(), d))) {
                Some((at, d)) if d <= 365 => facts.push(tf(lang, "evidence.stocktake_recent", &[("date", &at.get(..10).unwrap_or(&at))])),
                Some((at, _)) => {
                    facts.push(tf(lang, "evidence.stocktake_old", &[("date", &at.get(..10).unwrap_or(&at))]));
                    bad = true;
                }
                None => {
                    facts.push(t(lang, "evidence.stocktake_never").to_owned());
                    bad = true;
                }
            }
            put("ledger", if bad { EvidenceStatus::Contradicts } else { EvidenceStatus::Supports }, facts);
        }

        // 2-(5) 不要なアカウント.
        {
            let leavers: Vec<&str> = accounts.iter().filter(|a| a.enabled && a.holder_left).map(|a| a.username.as_str()).collect();
            let unused: Vec<&str> = accounts
                .iter()
                .filter(|a| a.enabled && !a.holder_left)
                .filter(|a| a.last_used.as_deref().and_then(|d| days_since(d, today)).is_some_and(|d| d > crate::DEFAULT_STOCKTAKE_DAYS))
                .map(|a| a.username.as_str())
                .collect();
            let mut facts = vec![tf(lang, "evidence.accounts_count", &[("n", &n(accounts.len()))])];
            if !leavers.is_empty() {
                facts.push(tf(lang, "evidence.accounts_leavers", &[("list", &leavers.join(", "))]));
            }
            if !unused.is_empty() {
                facts.push(tf(lang, "evidence.accounts_unused", &[("list", &unused.join(", ")), ("days", &crate::DEFAULT_STOCKTAKE_DAYS.to_string())]));
            }
            let status = if accounts.is_empty() {
                EvidenceStatus::NoData
            } else if leavers.is_empty() && unused.is_empty() {
                EvidenceStatus::Supports
            } else {
                EvidenceStatus::Contradicts
            };
            put("accounts", status, facts);
        }

        // 2-(7) セキュリティパッチ: end-of-support OS and software (vulnerability feeds, when
        // present, add to this).
        {
            let mut eos = Vec::new();
            for a in &assets {
                if let Some(e) = crate::lifecycle::eos_for_asset(a)
                    && e.until.parse::<jiff::civil::Date>().is_ok_and(|until| until < today)
                {
                    eos.push(format!("{}（{}）", a.data.name, e.name));
                }
            }
            let mut facts = Vec::new();
            let status = if assets.is_empty() {
                EvidenceStatus::NoData
            } else if eos.is_empty() {
                facts.push(t(lang, "evidence.patch_no_eos").to_owned());
                EvidenceStatus::Supports
            } else {
                facts.push(tf(lang, "evidence.patch_eos", &[("n", &n(eos.len())), ("list", &eos.join(", "))]));
                EvidenceStatus::Contradicts
            };
            put("patch", status, facts);
        }

        // 2-(8) 接続元制限: recorded on network devices as the attribute 接続元制限.
        {
            let net: Vec<_> = assets
                .iter()
                .filter(|a| matches!(a.data.kind, AssetKind::NetworkDevice | AssetKind::VpnUtm | AssetKind::WifiAp))
                .collect();
            let recorded = |a: &&mamori_model::Asset| {
                a.data.attributes.iter().find(|(k, _)| k.as_str() == "接続元制限" || k.as_str() == "source_restriction").map(|(_, v)| v.clone())
            };
            let without: Vec<&str> = net.iter().filter(|a| recorded(a).is_none()).map(|a| a.data.name.as_str()).collect();
            let off: Vec<&str> = net
                .iter()
                .filter(|a| recorded(a).is_some_and(|v| ["なし", "無", "未設定", "no", "none"].iter().any(|x| v.trim().eq_ignore_ascii_case(x))))
                .map(|a| a.data.name.as_str())
                .collect();
            let mut facts = vec![tf(lang, "evidence.network_count", &[("n", &n(net.len()))])];
            if !without.is_empty() {
                facts.push(tf(lang, "evidence.restriction_unrecorded", &[("list", &without.join(", "))]));
            }
            if !off.is_empty() {
                facts.push(tf(lang, "evidence.restriction_off", &[("list", &off.join(", "))]));
            }
            let status = if net.is_empty() || (!without.is_empty() && off.is_empty() && without.len() == net.len()) {
                EvidenceStatus::NoData
            } else if off.is_empty() && without.is_empty() {
                EvidenceStatus::Supports
            } else {
                EvidenceStatus::Contradicts
            };
            put("source_restriction", status, facts);
        }

        // 2-(2) リモートメンテナンス: what mamori knows of remote maintenance.
        {
            let remote: Vec<String> = connections
                .iter()
                .filter(|c| c.kind == ConnectionKind::VendorRemote)
                .map(|c| c.name.clone())
                .chain(contracts.iter().filter(|c| c.remote_maintenance).map(|c| c.title.clone()))
                .collect();
            if remote.is_empty() {
                put("remote_maintenance", EvidenceStatus::NoData, vec![t(lang, "evidence.remote_none").to_owned()]);
            } else {
                put("remote_maintenance", EvidenceStatus::Supports, vec![tf(lang, "evidence.remote_known", &[("list", &remote.join(", "))])]);
            }
        }

        // Two-factor authentication of remote access.
        {
            let weak: Vec<&str> = connections
                .iter()
                .filter(|c| matches!(c.kind, ConnectionKind::VendorRemote | ConnectionKind::Other | ConnectionKind::Internet) || c.name.contains("VPN"))
                .filter(|c| c.kind != ConnectionKind::Internet)
                .filter(|c| !matches!(c.authentication, Authentication::Mfa | Authentication::Certificate))
                .map(|c| c.name.as_str())
                .collect();
            if connections.is_empty() {
                put("two_factor", EvidenceStatus::NoData, Vec::new());
            } else if weak.is_empty() {
                put("two_factor", EvidenceStatus::Supports, vec![t(lang, "evidence.mfa_all").to_owned()]);
            } else {
                put("two_factor", EvidenceStatus::Contradicts, vec![tf(lang, "evidence.mfa_missing", &[("list", &weak.join(", "))])]);
            }
        }

        // Password reuse: one credential valid on several devices.
        {
            let reused: Vec<String> = accounts
                .iter()
                .filter(|a| a.enabled && a.asset_ids.len() > 1 && a.privilege == mamori_model::AccountPrivilege::Admin)
                .map(|a| tf(lang, "evidence.reuse_one", &[("user", &a.username), ("n", &n(a.asset_ids.len()))]))
                .collect();
            if accounts.is_empty() {
                put("password_reuse", EvidenceStatus::NoData, Vec::new());
            } else if reused.is_empty() {
                put("password_reuse", EvidenceStatus::Supports, vec![t(lang, "evidence.reuse_none").to_owned()]);
            } else {
                put("password_reuse", EvidenceStatus::Contradicts, reused);
            }
        }

        // 3-(1) 連絡体制: contacts for MHLW, the police and the vendors.
        {
            let has = |words: &[&str]| contacts.iter().any(|c| words.iter().any(|w| c.organization.contains(w)));
            let mut missing = Vec::new();
            for (words, label) in [
                (&["厚生労働省"][..], "evidence.contact_mhlw"),
                (&["警察"][..], "evidence.contact_police"),
                (&["事業者", "保守", "ベンダー"][..], "evidence.contact_vendor"),
            ] {
                if !has(words) {
                    missing.push(t(lang, label).to_owned());
                }
            }
            let mut facts = vec![tf(lang, "evidence.contacts_count", &[("n", &n(contacts.len()))])];
            let status = if missing.is_empty() {
                EvidenceStatus::Supports
            } else {
                facts.push(tf(lang, "evidence.contacts_missing", &[("list", &missing.join(", "))]));
                EvidenceStatus::Contradicts
            };
            put("contact_chain", status, facts);
        }

        // 3-(2) バックアップ: an offline or immutable copy, a restore test within a year.
        {
            let mut facts = vec![tf(lang, "evidence.backups_count", &[("n", &n(backups.len()))])];
            let separate: Vec<&str> = backups
                .iter()
                .filter(|b| matches!(b.medium, BackupMedium::Offline | BackupMedium::Immutable))
                .map(|b| b.name.as_str())
                .collect();
            let tested = backups
                .iter()
                .filter_map(|b| b.last_restore_test.as_deref())
                .filter_map(|d| days_since(d, today).map(|x| (d, x)))
                .min_by_key(|(_, x)| *x);
            let same_cred: Vec<&str> = backups.iter().filter(|b| b.same_credentials).map(|b| b.name.as_str()).collect();
            let mut bad = backups.is_empty();
            if separate.is_empty() {
                facts.push(t(lang, "evidence.backup_online_only").to_owned());
                bad = true;
            } else {
                facts.push(tf(lang, "evidence.backup_offline", &[("list", &separate.join(", "))]));
            }
            match tested {
                Some((d, x)) if x <= 365 => facts.push(tf(lang, "evidence.restore_recent", &[("date", &d.get(..10).unwrap_or(d))])),
                Some((d, _)) => {
                    facts.push(tf(lang, "evidence.restore_old", &[("date", &d.get(..10).unwrap_or(d))]));
                    bad = true;
                }
                None => {
                    facts.push(t(lang, "evidence.restore_never").to_owned());
                    bad = true;
                }
            }
            if !same_cred.is_empty() {
                facts.push(tf(lang, "evidence.backup_same_credentials", &[("list", &same_cred.join(", "))]));
                bad = true;
            }
            put("backup", if bad { EvidenceStatus::Contradicts } else { EvidenceStatus::Supports }, facts);
        }
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// The sheet as a user sees it: items, answers, evidence, warnings, maturity; the roadmap.

/// One answer line of an item: a device class and its two rounds.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub device_class: Option<DeviceClass>,
    pub round1: Option<ChecklistAnswer>,
    pub round2: Option<ChecklistAnswer>,
}

impl LineView {
    /// The answer in force: the 2回目's when given, else the 1回目's.
    pub fn latest(&self) -> Option<&ChecklistAnswer> {
        self.round2.as_ref().or(self.round1.as_ref())
    }
}

/// One item with what is recorded and what the records say.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub item: ChecklistItem,
    pub lines: Vec<LineView>,
    pub evidence: Option<Evidence>,
    /// The answer the records suggest (never written by mamori).
    pub suggested: Option<bool>,
    /// A はい is recorded but the records contradict it.
    pub warning: bool,
    /// Maturity level 0–3: 0 until every line is はい; a はい that the records contradict counts
    /// as 0.
    pub level: u8,
}

/// A sheet of an edition as a user sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChecklistView {
    pub edition_id: String,
    pub edition_title: String,
    pub sheet: SheetKind,
    pub sheet_name: String,
    pub vendor_id: Option<Id>,
    pub sections: Vec<mamori_model::checklist::ChecklistSection>,
    pub items: Vec<ItemView>,
    /// Answer lines with an answer in force, and all lines.
    pub answered: usize,
    pub lines: usize,
    pub warnings: usize,
}

/// One step of the roadmap: what to do next on a topic.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoadmapStep {
    pub topic: String,
    /// The items of the edition on this topic (printed labels).
    pub items: Vec<String>,
    pub level: u8,
    pub next_level: u8,
    pub next_step: String,
    /// What the next level means.
    pub next_definition: String,
    pub risk_weight: u32,
    /// facility, vendor or shared.
    pub party: String,
    /// Risk reduction still to gain: weight × levels missing. The roadmap is sorted by it.
    pub score: u32,
}

impl Store {
    /// The sheet with answers in force, evidence (facility sheet only), warnings and levels.
    pub async fn checklist_view(
        &self,
        lang: Lang,
        edition: &str,
        sheet: SheetKind,
        vendor_id: Option<Id>,
        today: jiff::civil::Date,
    ) -> Result<ChecklistView> {
        let ed = self.checklist_edition(edition).await?;
        let sh = ed
            .sheet(sheet)
            .ok_or_else(|| StoreError::Missing { entity: "checklist_sheet", id: format!("{} {}", ed.id, sheet.code()) })?;
        let answers = self.checklist_answers(&ed.id, sheet, vendor_id).await?;
        let evidence = if sheet == SheetKind::Facility { self.checklist_evidence(lang, today).await? } else { BTreeMap::new() };
        let mut items = Vec::with_capacity(sh.items.len());
        let (mut answered, mut lines_total, mut warnings) = (0, 0, 0);
        for item in &sh.items {
            let lines: Vec<LineView> = answer_classes(item)
                .into_iter()
                .map(|class| {
                    let pick = |round: u8| {
                        answers.iter().find(|a| a.item_id == item.id && a.device_class == class && a.round == round).cloned()
                    };
                    LineView { device_class: class, round1: pick(1), round2: pick(2) }
                })
                .collect();
            let ev = item.topic.as_ref().and_then(|t| evidence.get(t)).cloned();
            let any_yes = lines.iter().any(|l| l.latest().is_some_and(|a| a.yes));
            let contradicts = ev.as_ref().is_some_and(|e| e.status == EvidenceStatus::Contradicts);
            let warning = any_yes && contradicts;
            let all_yes = lines.iter().all(|l| l.latest().is_some_and(|a| a.yes));
            let level = if all_yes && !contradicts {
                lines.iter().filter_map(|l| l.latest()).map(|a| a.maturity.unwrap_or(1)).min().unwrap_or(1)
            } else {
                0
            };
            lines_total += lines.len();
            answered += lines.iter().filter(|l| l.latest().is_some()).count();
            warnings += usize::from(warning);
            items.push(ItemView {
                item: item.clone(),
                lines,
                suggested: ev.as_ref().and_then(Evidence::suggested),
                evidence: ev,
                warning,
                level,
            });
        }
        Ok(ChecklistView {
            edition_id: ed.id.clone(),
            edition_title: ed.title_ja.clone(),
            sheet,
            sheet_name: sh.name_ja.clone(),
            vendor_id,
            sections: sh.sections.clone(),
            items,
            answered,
            lines: lines_total,
            warnings,
        })
    }

    /// What to do next, topic by topic, the largest risk reduction first (topics at level 3
    /// are done).
    pub async fn checklist_roadmap(&self, lang: Lang, edition: &str, today: jiff::civil::Date) -> Result<Vec<RoadmapStep>> {
        let view = self.checklist_view(lang, edition, SheetKind::Facility, None, today).await?;
        let model = maturity_model();
        let mut by_topic: BTreeMap<String, (Vec<String>, u8)> = BTreeMap::new();
        for iv in &view.items {
            let Some(topic) = iv.item.topic.clone() else { continue };
            let e = by_topic.entry(topic).or_insert((Vec::new(), 3));
            e.0.push(iv.item.label.clone());
            e.1 = e.1.min(iv.level);
        }
        let mut steps: Vec<RoadmapStep> = by_topic
            .into_iter()
            .filter(|(_, (_, level))| *level < 3)
            .filter_map(|(topic, (items, level))| {
                let def = model.get(&topic)?;
                let next = level + 1;
                Some(RoadmapStep {
                    score: def.risk_weight * u32::from(3 - level),
                    next_step: def.next(lang, next).to_owned(),
                    next_definition: def.level(lang, next).to_owned(),
                    risk_weight: def.risk_weight,
                    party: def.party_default.clone(),
                    topic,
                    items,
                    level,
                    next_level: next,
                })
            })
            .collect();
        steps.sort_by(|a, b| b.score.cmp(&a.score).then(b.risk_weight.cmp(&a.risk_weight)).then(a.topic.cmp(&b.topic)));
        Ok(steps)
    }
}

// ---------------------------------------------------------------------------------------------
// xlsx in the layout of the official form, and back.

/// What reading a filled-in export did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChecklistImport {
    /// Answers recorded (those equal to the answer in force are not recorded again).
    pub recorded: usize,
    /// Answer lines read.
    pub read: usize,
    pub rejected: Vec<crate::RejectedRow>,
}

fn yes_no(text: &str) -> Option<Option<bool>> {
    match text.trim() {
        "" => Some(None),
        "はい" | "○" | "〇" | "yes" | "Yes" | "YES" | "y" => Some(Some(true)),
        "いいえ" | "×" | "✕" | "no" | "No" | "NO" | "n" => Some(Some(false)),
        _ => None,
    }
}

fn date_cell(text: &str) -> Option<Option<String>> {
    let t = text.trim();
    if t.is_empty() {
        return Some(None);
    }
    let norm = t.replace('/', "-");
    let mut parts = norm.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let date = jiff::civil::Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?).ok()?;
    Some(Some(date.to_string()))
}

fn class_of(text: &str) -> Option<Option<DeviceClass>> {
    let t = text.trim();
    if ["—", "-", "－", "―", ""].contains(&t) {
        return Some(None);
    }
    DeviceClass::ALL
        .iter()
        .find(|c| c.code() == t || t == mamori_i18n::t(Lang::Ja, &c.label_key()) || t == mamori_i18n::t(Lang::En, &c.label_key()))
        .map(|c| Some(*c))
}

impl Store {
    /// The workbook for the 保健所: the 医療機関確認用 sheet with the facility's answers and the
    /// 事業者確認用 sheet — blank, or with `vendor`'s answers and a sheet of the devices that vendor
    /// maintains. With no answers at all it is the blank form.
    pub async fn checklist_xlsx(&self, edition: &str, vendor: Option<Id>) -> Result<Vec<u8>> {
        use mamori_ingest::checklist_xlsx::{AnswerLine, ExportRow, ExportSheet, write_checklist_xlsx};
        let ed = self.checklist_edition(edition).await?;
        let facility = self.facility().await?;
        let vendors = self.list_vendors().await?;
        let vendor_row = match vendor {
            Some(v) => Some(vendors.iter().find(|x| x.id == v).ok_or_else(|| StoreError::Missing { entity: "vendor", id: v.to_string() })?),
            None => None,
        };
        let ja = Lang::Ja;
        let mut sheets = Vec::new();
        for sh in &ed.sheets {
            let vendor_id = if sh.kind == SheetKind::Vendor { vendor } else { None };
            let answers = if sh.kind == SheetKind::Vendor && vendor.is_none() {
                Vec::new()
            } else {
                self.checklist_answers(&ed.id, sh.kind, vendor_id).await?
            };
            let mut rows = Vec::new();
            let mut section = None;
            for item in &sh.items {
                if item.section != 0 && section != Some(item.section) {
                    section = Some(item.section);
                    if let Some(s) = sh.sections.iter().find(|s| s.number == item.section) {
                        rows.push(ExportRow::Section(format!("{}　{}", s.number, s.title_ja)));
                    }
                }
                let lines = answer_classes(item)
                    .into_iter()
                    .map(|class| {
                        let get = |round: u8| answers.iter().find(|a| a.item_id == item.id && a.device_class == class && a.round == round);
                        let (a1, a2) = (get(1), get(2));
                        let ans = |a: Option<&ChecklistAnswer>| a.map(|a| if a.yes { "はい" } else { "いいえ" }.to_owned()).unwrap_or_default();
                        let date = |a: Option<&ChecklistAnswer>| a.and_then(|a| a.checked_on.clone()).unwrap_or_default();
                        let latest = a2.or(a1);
                        AnswerLine {
                            class: class.map_or_else(|| "—".to_owned(), |c| t(ja, &c.label_key()).to_owned()),
                            answer1: ans(a1),
                            date1: date(a1),
                            answer2: ans(a2),
                            date2: date(a2),
                            target: latest.and_then(|a| a.target_date.clone()).unwrap_or_default(),
                            comment: latest.and_then(|a| a.comment.clone()).unwrap_or_default(),
                        }
                    })
                    .collect();
                rows.push(ExportRow::Item { label: item.label.clone(), text: item.text_ja.clone(), lines });
            }
            let mut notes: Vec<String> = sh
                .items
                .iter()
                .filter(|i| !matches!(i.confidence, mamori_model::Confidence::Official | mamori_model::Confidence::VerbatimPrimary | mamori_model::Confidence::VerbatimSecondary))
                .map(|i| tf(ja, "checklist_export.unconfirmed", &[("label", &i.label), ("confidence", &t(ja, &i.confidence.label_key()))]))
                .collect();
            if !notes.is_empty() {
                notes.push(t(ja, "checklist_export.load_official").to_owned());
            }
            let mut fields = vec![(t(ja, "checklist_export.facility").to_owned(), facility.as_ref().map(|f| f.name.clone()).unwrap_or_default())];
            if sh.kind == SheetKind::Facility {
                fields.push((
                    t(ja, "checklist_export.manager").to_owned(),
                    facility.as_ref().and_then(|f| f.security_manager.clone()).unwrap_or_default(),
                ));
            } else {
                fields.push((t(ja, "checklist_export.vendor").to_owned(), vendor_row.map(|v| v.name.clone()).unwrap_or_default()));
            }
            sheets.push(ExportSheet {
                name: sh.name_ja.chars().take(31).collect(),
                title: ed.title_ja.clone(),
                subtitle: format!("【{}】", sh.name_ja),
                fields,
                edition_id: ed.id.clone(),
                sheet_code: sh.kind.code().to_owned(),
                vendor: if sh.kind == SheetKind::Vendor { vendor_row.map(|v| v.name.clone()) } else { None },
                rows,
                notes,
            });
        }
        let mut extra = Vec::new();
        if let Some(v) = vendor {
            let contracts = self.list_contracts().await?;
            let ids: std::collections::BTreeSet<Id> =
                contracts.iter().filter(|c| c.vendor_id == v).flat_map(|c| c.asset_ids.iter().copied()).collect();
            let assets = self.all_assets().await?;
            let rows: Vec<Vec<String>> = assets
                .iter()
                .filter(|a| ids.contains(&a.id))
                .map(|a| {
                    vec![
                        a.id.to_string(),
                        a.data.name.clone(),
                        t(ja, &a.data.kind.label_key()).to_owned(),
                        [a.data.vendor.as_deref(), a.data.model.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
                        [a.data.os.as_deref(), a.data.os_version.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" "),
                        a.data.primary_ip().unwrap_or_default().to_owned(),
                        a.data.location.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            let headers = ["mamori番号", "機器名", "種別", "メーカー・型番", "OS・バージョン", "IPアドレス", "設置場所"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
            extra.push((t(ja, "checklist_export.devices_sheet").to_owned(), headers, rows));
        }
        write_checklist_xlsx(&sheets, &extra).map_err(StoreError::Format)
    }

    /// Takes back the answers of a workbook [`Store::checklist_xlsx`] wrote and a person filled
    /// in: all recorded in one transaction, or none when a line cannot be read.
    pub async fn import_checklist_xlsx(&self, actor: &str, name: &str, bytes: &[u8]) -> Result<ChecklistImport> {
        let sheets = mamori_ingest::checklist_xlsx::read_checklist_xlsx(name, bytes).map_err(|e| StoreError::Format(e.to_string()))?;
        let vendors = self.list_vendors().await?;
        let mut report = ChecklistImport::default();
        let mut new = Vec::new();
        for s in &sheets {
            let ed = self.checklist_edition(&s.edition_id).await?;
            let kind: SheetKind = s.sheet_code.parse().map_err(|e: mamori_model::UnknownCode| StoreError::Format(format!("{name}: {}: {e}", s.name)))?;
            let Some(sh) = ed.sheet(kind) else { continue };
            let vendor_id = match (&s.vendor, kind) {
                (Some(v), SheetKind::Vendor) => Some(
                    vendors.iter().find(|x| x.name == *v).map(|x| x.id).ok_or_else(|| StoreError::Missing { entity: "vendor", id: v.clone() })?,
                ),
                (None, SheetKind::Vendor) => {
                    // A blank vendor sheet nobody filled in is fine; a filled one needs its vendor.
                    if s.lines.iter().any(|l| !l.answer1.is_empty() || !l.answer2.is_empty()) {
                        report.rejected.push(crate::RejectedRow {
                            file: name.to_owned(),
                            line: 4,
                            field: format!("{}!H4", s.name),
                            reason: "the 事業者確認用 sheet has answers but no vendor (事業者) named".into(),
                        });
                    }
                    continue;
                }
                _ => None,
            };
            for l in &s.lines {
                report.read += 1;
                let reject = |field: &str, reason: String| crate::RejectedRow {
                    file: name.to_owned(),
                    line: l.row,
                    field: format!("{}!{field}{}", l.sheet, l.row),
                    reason,
                };
                let Some(item) = find_item(sh, &l.label) else {
                    report.rejected.push(reject("A", format!("no item {} in {}", l.label, ed.id)));
                    continue;
                };
                let Some(class) = class_of(&l.class) else {
                    report.rejected.push(reject("C", format!("unknown device class {}", l.class)));
                    continue;
                };
                for (round, answer, date, col) in [(1_u8, &l.answer1, &l.date1, "D"), (2, &l.answer2, &l.date2, "F")] {
                    let Some(yes) = yes_no(answer) else {
                        report.rejected.push(reject(col, format!("{answer}: not はい or いいえ")));
                        continue;
                    };
                    let Some(yes) = yes else { continue };
                    let Some(checked_on) = date_cell(date) else {
                        report.rejected.push(reject(if round == 1 { "E" } else { "G" }, format!("{date}: not a date")));
                        continue;
                    };
                    let Some(target) = date_cell(&l.target) else {
                        report.rejected.push(reject("H", format!("{}: not a date", l.target)));
                        continue;
                    };
                    new.push(NewAnswer {
                        edition: ed.id.clone(),
                        sheet: kind,
                        vendor_id,
                        item: item.id.clone(),
                        device_class: class,
                        round,
                        yes,
                        checked_on,
                        target_date: if yes { None } else { target },
                        maturity: None,
                        comment: Some(l.comment.clone()).filter(|c| !c.is_empty()),
                        evidence: None,
                        files: Vec::new(),
                    });
                }
            }
        }
        if !report.rejected.is_empty() {
            return Ok(report);
        }
        report.recorded = self.answer_checklist(actor, &new).await?;
        Ok(report)
    }
}
