//! The matching index: a CVE's vulnerable criteria per product, in a compact text written once
//! at import, so that matching an inventory reads a few bytes per criterion instead of decoding
//! the configuration trees (hundreds of megabytes of JSON on a full NVD load).
//!
//! An entry belongs to one `(vendor, product)` of one CVE and lists, in configuration order,
//! the criteria naming that product: position (configuration, node, index), the name in a short
//! form, and the version bounds. It only exists for CVEs whose configurations are all a plain OR
//! of vulnerable criteria with literal products (the batch matcher decides those criterion by
//! criterion), or an AND of one such node and platform nodes (firmware on hardware: the entry
//! then also carries the configuration's platform nodes, as JSON, evaluated per device set);
//! any other CVE gets [`TREE`] and is matched on its configuration tree. The
//! separators are control characters, which neither a CPE name nor a version may hold (a value
//! that does is left to the tree).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use crate::cpe::Cpe;
use crate::matcher::{Entry, LightVersion, Range, light, platform_shape, simple};
use crate::model::{Configuration, CpeMatch};

/// The entry of a CVE that must be matched on its configuration tree.
pub const TREE: &str = "!";
/// Between two criteria of an entry.
const RECORD: char = '\u{1d}';
/// Between the fields of a criterion.
const FIELD: char = '\u{1f}';

/// The `(vendor, product)` pairs a CVE's vulnerable criteria name: what a device must name for
/// the CVE to be a candidate.
pub fn vulnerable_products(configs: &[Configuration]) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for c in configs {
        for n in &c.nodes {
            for m in n.cpe_match.iter().filter(|m| m.vulnerable) {
                if let Ok(cpe) = Cpe::parse(&m.criteria)
                    && let (Some(v), Some(p)) = (cpe.vendor(), cpe.product())
                {
                    out.insert((v, p));
                }
            }
        }
    }
    out
}

/// The index entries of a CVE: one per vulnerable product (as [`vulnerable_products`] lists
/// them), `(vendor, product, entry)`. One pass, each criterion parsed once: this runs for every
/// record of a full NVD import.
pub fn entries(configs: &[Configuration]) -> Vec<(String, String, String)> {
    let mut products: BTreeSet<(String, String)> = BTreeSet::new();
    let mut per: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut tree = false;
    let push = |per: &mut BTreeMap<(String, String), String>, key: (String, String), text: &str| {
        let all = per.entry(key).or_default();
        if !all.is_empty() {
            all.push(RECORD);
        }
        all.push_str(text);
    };
    for (ci, c) in configs.iter().enumerate() {
        let platform = if simple(c) { None } else { platform_shape(c) };
        tree |= !simple(c) && platform.is_none();
        // The products the vulnerable node names carry the platform nodes with their criteria.
        let mut named: BTreeSet<(String, String)> = BTreeSet::new();
        for (ni, n) in c.nodes.iter().enumerate() {
            if platform.is_some_and(|vn| vn != ni) {
                continue;
            }
            for (mi, m) in n.cpe_match.iter().enumerate() {
                let entry = Entry::new(&m.criteria);
                if m.vulnerable
                    && let Some(Entry { key: Some(k), .. }) = &entry
                    && !products.contains(k)
                {
                    products.insert(k.clone());
                }
                if !tree {
                    match encode(ci, ni, mi, m, entry) {
                        Encoded::Criterion(key, text) => {
                            named.insert(key.clone());
                            push(&mut per, key, &text);
                        }
                        Encoded::Never => {}
                        Encoded::Tree => tree = true,
                    }
                }
            }
        }
        if let Some(vn) = platform
            && !tree
        {
            match platform_record(ci, vn, c) {
                Some(text) => named.into_iter().for_each(|key| push(&mut per, key, &text)),
                None => tree = true,
            }
        }
    }
    products
        .into_iter()
        .map(|k| {
            let e = if tree { TREE.to_owned() } else { per.remove(&k).unwrap_or_default() };
            (k.0, k.1, e)
        })
        .collect()
}

/// The platform record of configuration `ci`: `ci FIELD P vn FIELD json`, the configuration with
/// its vulnerable node `vn` emptied and the platform nodes as they are.
fn platform_record(ci: usize, vn: usize, c: &Configuration) -> Option<String> {
    let mut rest = c.clone();
    rest.nodes.get_mut(vn)?.cpe_match.clear();
    let json = serde_json::to_string(&rest).ok()?;
    // JSON escapes control characters in strings; the separators cannot appear.
    clean(&json).then(|| format!("{ci}{FIELD}{PLATFORM}{vn}{FIELD}{json}"))
}

/// The second field of a platform record.
const PLATFORM: &str = "P";

fn clean(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// One criterion of a plain OR configuration, encoded.
enum Encoded {
    /// The product the batch matcher looks it up by, and the record.
    Criterion((String, String), String),
    /// Unparsable: it never fires.
    Never,
    /// The CVE needs its tree.
    Tree,
}

fn encode(ci: usize, ni: usize, mi: usize, m: &CpeMatch, entry: Option<Entry>) -> Encoded {
    // The product is the short reading's, which must agree with the full parse's (that is what
    // the candidates name).
    let (key, name) = match (light(&m.criteria), entry) {
        (Some(l), Some(Entry { key: Some(k), .. })) => {
            if k.0 != l.vendor || k.1 != l.product {
                return Encoded::Tree;
            }
            let name = match l.version {
                LightVersion::Any => format!("{}*", l.part),
                LightVersion::Na => format!("{}-", l.part),
                LightVersion::Literal(t) => format!("{}={t}", l.part),
            };
            (k, name)
        }
        (Some(_), _) => return Encoded::Tree,
        (None, Some(Entry { key: Some(k), .. })) => (k, format!("F{}", m.criteria)),
        // A wildcard vendor or product: the tree decides.
        (None, Some(Entry { key: None, .. })) => return Encoded::Tree,
        (None, None) => return Encoded::Never,
    };
    let r = Range::of(m);
    let bounds = [r.start_incl, r.start_excl, r.end_incl, r.end_excl];
    if !clean(&name) || bounds.iter().flatten().any(|b| b.is_empty() || !clean(b)) {
        return Encoded::Tree;
    }
    let mut text = format!("{ci}{FIELD}{ni}{FIELD}{mi}{FIELD}{name}");
    for b in bounds {
        text.push(FIELD);
        text.push_str(b.unwrap_or_default());
    }
    Encoded::Criterion(key, text)
}

/// A criterion as read back from an entry.
pub(crate) struct Criterion<'a> {
    pub(crate) group: u32,
    pub(crate) configuration: u32,
    pub(crate) node: u32,
    pub(crate) index: u32,
    pub(crate) name: Name<'a>,
    pub(crate) range: Range<'a>,
}

pub(crate) enum Name<'a> {
    Light { part: usize, version: LightVersion<'a> },
    /// Any other criterion, as written (read when it is met: the same ones recur from CVE to
    /// CVE of a product).
    Full(&'a str),
}

/// An entry the index cannot answer for (written by something else, or damaged): the caller
/// matches the CVE on its tree instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsTree;

/// A decimal number of an entry's positions (digits only, as written).
fn number(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u32, |n, b| n * 10 + u32::from(b - b'0')))
}

/// A platform record as read back: configuration, its vulnerable node, the JSON.
pub(crate) type PlatformRecord<'a> = (u32, usize, &'a str);

/// Reads the criteria of an entry of product `group` into `out`, and its platform records into
/// `platforms`.
pub(crate) fn decode<'a>(group: u32, entry: &'a str, out: &mut Vec<Criterion<'a>>, platforms: &mut Vec<PlatformRecord<'a>>) -> Result<(), NeedsTree> {
    if entry == TREE {
        return Err(NeedsTree);
    }
    let (field, record) = (FIELD as u8, RECORD as u8);
    let bytes = entry.as_bytes();
    let mut pos = 0;
    // One pass over the entry: each record's fields (eight at most) up to the next record.
    while pos < bytes.len() {
        let mut f: [&str; 8] = [""; 8];
        let mut n = 0;
        loop {
            let rest = bytes.get(pos..).unwrap_or_default();
            // Fields are short: a byte loop beats a vectorised search's setup.
            let (len, sep) = match rest.iter().position(|&b| b == field || b == record) {
                Some(i) => (i, rest.get(i).copied()),
                None => (rest.len(), None),
            };
            let value = entry.get(pos..pos + len).ok_or(NeedsTree)?;
            if let Some(slot) = f.get_mut(n) {
                *slot = value;
            }
            n += 1;
            pos += len + 1;
            if sep != Some(field) {
                break;
            }
        }
        if n == 1 && f[0].is_empty() {
            continue;
        }
        if n == 3
            && let Some(vn) = f[1].strip_prefix(PLATFORM)
        {
            platforms.push((number(f[0]).ok_or(NeedsTree)?, number(vn).ok_or(NeedsTree)? as usize, f[2]));
            continue;
        }
        if n != 8 {
            return Err(NeedsTree);
        }
        let int = |s: &str| number(s).ok_or(NeedsTree);
        let (configuration, node, index) = (int(f[0])?, int(f[1])?, int(f[2])?);
        let name = f[3];
        let bound = |b: &'a str| (!b.is_empty()).then_some(b);
        let range = Range { start_incl: bound(f[4]), start_excl: bound(f[5]), end_incl: bound(f[6]), end_excl: bound(f[7]) };
        let name = match name.split_at_checked(1) {
            Some(("F", criteria)) => Name::Full(criteria),
            Some((part, version)) => {
                let part = match part {
                    "0" => 0,
                    "1" => 1,
                    "2" => 2,
                    _ => return Err(NeedsTree),
                };
                let version = match version {
                    "*" => LightVersion::Any,
                    "-" => LightVersion::Na,
                    v => LightVersion::Literal(Cow::Borrowed(v.strip_prefix('=').ok_or(NeedsTree)?)),
                };
                Name::Light { part, version }
            }
            None => return Err(NeedsTree),
        };
        out.push(Criterion { group, configuration, node, index, name, range });
    }
    Ok(())
}
