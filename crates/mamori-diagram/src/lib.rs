//! The facility's network configuration diagram (ネットワーク構成図).
//!
//! Pure functions from a [`NetworkModel`] to a positioned [`Diagram`] ([`layout`]), and from
//! there to SVG ([`to_svg`]), Graphviz ([`to_dot`]) and Mermaid ([`to_mermaid`]). The drawing is
//! layered top to bottom: the outside world (インターネット, vendor lines, closed networks,
//! cloud services), the gateways, then the segments as labelled boxes holding their devices.
//! Many similar devices in one segment collapse into one node (`端末PC ×15`) that the web page
//! can expand. [`diff`] compares two models and yields a [`Highlight`] to draw over the new one.
//!
//! Output is deterministic: the same input gives byte-identical output.

use std::collections::{BTreeMap, BTreeSet};

use mamori_i18n::Lang;
use mamori_model::Id;
use mamori_model::network::{NetworkModel, Severity};
use serde::{Deserialize, Serialize};

mod diff;
mod export;
mod layout;
mod svg;
mod text;

pub use svg::scoped_css;
pub use diff::{Change, ChangeKind, FieldChange, ModelDiff, diff, union};
pub use layout::{
    Diagram, Edge, EdgeStyle, LegendBox, MAX_NODES_PER_SEGMENT, Mark, Node, NodeKind, Point, Rect, SegmentBox, StepArrow,
    layout,
};

/// Paper for the drawing. Print pages are landscape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Page {
    /// Pixel size of the content.
    #[default]
    Screen,
    /// A4 landscape, 297 × 210 mm.
    A4,
    /// A3 landscape, 420 × 297 mm.
    A3,
}

impl Page {
    /// Physical size in millimetres, `None` for the screen.
    pub fn size_mm(self) -> Option<(u32, u32)> {
        match self {
            Page::Screen => None,
            Page::A4 => Some((297, 210)),
            Page::A3 => Some((420, 297)),
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Page::Screen => "screen",
            Page::A4 => "a4",
            Page::A3 => "a3",
        }
    }
}

/// Something drawn on the diagram that a highlight or a diff can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum NodeRef {
    Internet,
    Connection(Id),
    Asset(Id),
    Segment(Id),
}

impl NodeRef {
    /// `internet`, `connection:2`, `asset:7`, `segment:1`.
    pub fn code(self) -> String {
        match self {
            NodeRef::Internet => "internet".into(),
            NodeRef::Connection(id) => format!("connection:{id}"),
            NodeRef::Asset(id) => format!("asset:{id}"),
            NodeRef::Segment(id) => format!("segment:{id}"),
        }
    }
}

/// One numbered step of an attack path: an arrow with a ①②③ badge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighlightStep {
    pub from: NodeRef,
    pub to: NodeRef,
    pub label: String,
}

/// What to draw over the diagram: an attack path and/or the result of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Highlight {
    pub steps: Vec<HighlightStep>,
    pub added: BTreeSet<NodeRef>,
    pub removed: BTreeSet<NodeRef>,
    pub changed: BTreeSet<NodeRef>,
}

impl Highlight {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty() && self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// Every asset the highlight names (they are drawn individually, never inside a group).
    pub(crate) fn assets(&self) -> BTreeSet<Id> {
        let mut out = BTreeSet::new();
        let refs = self
            .steps
            .iter()
            .flat_map(|s| [s.from, s.to])
            .chain(self.added.iter().copied())
            .chain(self.removed.iter().copied())
            .chain(self.changed.iter().copied());
        for r in refs {
            if let NodeRef::Asset(id) = r {
                out.insert(id);
            }
        }
        out
    }
}

/// How to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub lang: Lang,
    pub page: Page,
    /// Similar devices in one segment collapse into one node when there are at least this many
    /// (0 or 1 never collapse by similarity; very large segments still collapse by kind).
    pub collapse_at: usize,
    /// Group keys (`seg1:pc:windows`) to draw expanded.
    pub expanded: BTreeSet<String>,
    /// Worst open finding per asset: the node's colour.
    pub severity: BTreeMap<Id, Severity>,
    /// Worst open finding per external connection.
    pub connection_severity: BTreeMap<Id, Severity>,
    pub highlight: Highlight,
    /// Defaults to the facility's name followed by ネットワーク構成図.
    pub title: Option<String>,
    /// Put the stylesheet inside the SVG (a standalone file). A web page with a strict
    /// Content-Security-Policy sets this to false and links [`scoped_css`] instead.
    pub inline_css: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lang: Lang::Ja,
            page: Page::Screen,
            collapse_at: 4,
            expanded: BTreeSet::new(),
            severity: BTreeMap::new(),
            connection_severity: BTreeMap::new(),
            highlight: Highlight::default(),
            title: None,
            inline_css: true,
        }
    }
}

/// The diagram as a standalone SVG document.
pub fn to_svg(model: &NetworkModel, opts: &Options) -> String {
    svg::render(&layout(model, opts), opts)
}

/// The diagram as Graphviz DOT: one cluster per segment.
pub fn to_dot(model: &NetworkModel, opts: &Options) -> String {
    export::dot(&layout(model, opts))
}

/// The diagram as a Mermaid `flowchart TB` with one subgraph per segment.
pub fn to_mermaid(model: &NetworkModel, opts: &Options) -> String {
    export::mermaid(&layout(model, opts))
}
