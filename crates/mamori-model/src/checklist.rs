//! The MHLW checklist as data: an edition (令和6年度版, 令和7年度版, or one a user loaded from the
//! official xlsx form), its sheets (医療機関確認用, 事業者確認用), sections and items.
//!
//! Editions shipped with mamori live in `content/checklist/*.toml` (see
//! `docs/checklist-content.md`); wording that research could not confirm says so in
//! [`ChecklistItem::confidence`] and is never presented as official.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Confidence, DeviceClass, SheetKind};

/// One edition of the checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistEdition {
    /// Stable id: `R6`, `R7`, or what the user chose when loading a form (`R8` …).
    pub id: String,
    pub title_ja: String,
    #[serde(default)]
    pub title_en: Option<String>,
    /// 年度 the edition is for, e.g. 令和6年度.
    pub fiscal_year_ja: String,
    /// Publication (YYYY-MM), when known.
    #[serde(default)]
    pub published: Option<String>,
    /// Guideline version it refers to (6.0, 7.0 …).
    #[serde(default)]
    pub guideline: Option<String>,
    /// How items are numbered in print: `paren` — 2-(1); `circled` — 2-①.
    #[serde(default = "paren")]
    pub numbering: String,
    /// Where the content comes from and how far to trust it, in Japanese.
    #[serde(default)]
    pub source_note_ja: Option<String>,
    #[serde(default)]
    pub source_note_en: Option<String>,
    pub sheets: Vec<ChecklistSheet>,
}

fn paren() -> String {
    "paren".to_owned()
}

/// One sheet (医療機関確認用 or 事業者確認用).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistSheet {
    pub kind: SheetKind,
    /// The sheet's name as printed, e.g. 医療機関確認用.
    pub name_ja: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub sections: Vec<ChecklistSection>,
    pub items: Vec<ChecklistItem>,
}

/// A section heading: 1 体制構築, 2 医療情報システムの管理・運用, 3 インシデント発生に備えた対応 …
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistSection {
    pub number: u32,
    pub title_ja: String,
    #[serde(default)]
    pub title_en: Option<String>,
}

/// One item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    /// Stable id within the sheet: `gate` for 医療情報システムの有無, else `<section>-<number>`
    /// (`2-1`).
    pub id: String,
    /// As printed: `2-(1)`, `2-①`, or the gate item's label.
    pub label: String,
    /// Section number; 0 for the gate item.
    pub section: u32,
    pub text_ja: String,
    #[serde(default)]
    pub text_en: Option<String>,
    /// Device classes answered separately; empty: one answer for the item.
    #[serde(default)]
    pub device_classes: Vec<DeviceClass>,
    /// The gate item: answered いいえ, nothing else needs checking.
    #[serde(default)]
    pub gate: bool,
    /// Guideline 6.0 chapters printed beside the item (▶企画管理編 9.1 …).
    #[serde(default)]
    pub guideline_refs: Vec<String>,
    pub confidence: Confidence,
    /// Where the wording comes from (source keys of the research notes).
    #[serde(default)]
    pub source: Option<String>,
    /// What is uncertain, in Japanese.
    #[serde(default)]
    pub note_ja: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
    /// The same subject across editions (`ledger`, `patch`, `accounts` …): answers carry over
    /// between items of the same topic, and mamori's evidence is attached by topic.
    #[serde(default)]
    pub topic: Option<String>,
}

impl ChecklistEdition {
    pub fn sheet(&self, kind: SheetKind) -> Option<&ChecklistSheet> {
        self.sheets.iter().find(|s| s.kind == kind)
    }
}
