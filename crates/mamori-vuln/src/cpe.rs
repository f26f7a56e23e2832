//! CPE names: parsing the 2.3 formatted string (`cpe:2.3:o:cisco:ios:15.2\(5\)e:*:…`) and the 2.2
//! URI (`cpe:/o:cisco:ios:15.2%285%29e`), and comparing them attribute by attribute as NISTIR
//! 7696 defines it.
//!
//! The rules that matter for a clinic's VPN box:
//! - `*` (ANY) matches anything; `-` (NA, "no value") is **not** a wildcard — an NVD criterion
//!   `…:http_server:-:…` covers only names whose version is NA too (the Dependency-Track false
//!   positives came from treating NA as ANY);
//! - quoted characters (`\(`, `\:` …) are literal; unquoted `*` and `?` inside a value are
//!   wildcards, allowed only at its start or end;
//! - values compare case-insensitively.

use std::fmt;

/// Why a string is not a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpeError {
    #[error("not a CPE name (it must start with cpe:2.3: or cpe:/)")]
    Prefix,
    #[error("a CPE 2.3 name has 13 colon-separated fields, this one has {0}")]
    Fields(usize),
    #[error("a CPE 2.2 URI has at most 7 components after cpe:/, this one has {0}")]
    Components(usize),
    #[error("part must be a, o, h or *, not {0:?}")]
    Part(String),
    #[error("{attribute}: {reason}")]
    Value { attribute: &'static str, reason: String },
}

/// The eleven attributes of a well-formed name, in order.
pub const ATTRIBUTES: [&str; 11] = [
    "part", "vendor", "product", "version", "update", "edition", "language", "sw_edition", "target_sw", "target_hw", "other",
];

/// Index of the version attribute.
pub const VERSION: usize = 3;

/// One piece of an attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tok {
    /// A literal character (lower-cased).
    Char(char),
    /// Unquoted `*`: zero or more characters.
    Many,
    /// Unquoted `?`: exactly one character.
    One,
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Value {
    /// `*`: any value.
    #[default]
    Any,
    /// `-`: not applicable, no value.
    Na,
    Text(Vec<Tok>),
}

impl Value {
    /// A literal value (no wildcards), lower-cased.
    pub fn literal(s: &str) -> Value {
        Value::Text(s.chars().flat_map(char::to_lowercase).map(Tok::Char).collect())
    }

    fn has_wildcards(&self) -> bool {
        matches!(self, Value::Text(t) if t.iter().any(|x| !matches!(x, Tok::Char(_))))
    }

    /// The literal text of a value without wildcards.
    pub fn as_literal(&self) -> Option<String> {
        match self {
            Value::Text(t) => t.iter().map(|x| if let Tok::Char(c) = x { Some(*c) } else { None }).collect(),
            _ => None,
        }
    }
}

/// A well-formed CPE name (WFN).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Cpe {
    pub values: [Value; 11],
}

fn err(i: usize, reason: impl Into<String>) -> CpeError {
    CpeError::Value { attribute: ATTRIBUTES.get(i).copied().unwrap_or("?"), reason: reason.into() }
}

/// Wildcards only at the start or end: `*` once there, `?` in a run there.
fn check_wildcards(i: usize, toks: &[Tok]) -> Result<(), CpeError> {
    let first_literal = toks.iter().position(|t| matches!(t, Tok::Char(_)));
    let last_literal = toks.iter().rposition(|t| matches!(t, Tok::Char(_)));
    let (Some(first), Some(last)) = (first_literal, last_literal) else {
        // Only wildcards: a lone `*` is ANY (handled before); `??` is fine, `**` is not.
        if toks.iter().filter(|t| **t == Tok::Many).count() > 1 || (toks.contains(&Tok::Many) && toks.contains(&Tok::One)) {
            return Err(err(i, "wildcards may not be combined like this"));
        }
        return Ok(());
    };
    if toks.get(first..=last).is_some_and(|mid| mid.iter().any(|t| !matches!(t, Tok::Char(_)))) {
        return Err(err(i, "an unquoted * or ? may only be at the start or end of a value"));
    }
    for side in [toks.get(..first).unwrap_or_default(), toks.get(last + 1..).unwrap_or_default()] {
        if side.contains(&Tok::Many) && side.len() > 1 {
            return Err(err(i, "* may not be combined with other wildcards"));
        }
    }
    Ok(())
}

/// One field of a 2.3 formatted string.
fn unbind_fs(i: usize, s: &str) -> Result<Value, CpeError> {
    match s {
        "*" => return Ok(Value::Any),
        "-" => return Ok(Value::Na),
        "" => return Err(err(i, "empty (use * or -)")),
        _ => {}
    }
    let mut toks = Vec::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(q) => toks.extend(q.to_lowercase().map(Tok::Char)),
                None => return Err(err(i, "ends with a lone backslash")),
            },
            '*' => toks.push(Tok::Many),
            '?' => toks.push(Tok::One),
            c if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') => toks.extend(c.to_lowercase().map(Tok::Char)),
            c if c.is_whitespace() || c.is_control() => return Err(err(i, format!("{c:?} is not allowed"))),
            // Other printable characters should be quoted; NVD data is not always careful.
            c => toks.extend(c.to_lowercase().map(Tok::Char)),
        }
    }
    check_wildcards(i, &toks)?;
    Ok(Value::Text(toks))
}

/// Splits on `:` not preceded by an odd number of backslashes.
fn split_fs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            ':' if !escaped => {
                out.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => escaped = false,
        }
    }
    out.push(s.get(start..).unwrap_or_default());
    out
}

fn percent_decode(i: usize, s: &str) -> Result<Value, CpeError> {
    match s {
        "" => return Ok(Value::Any),
        "-" => return Ok(Value::Na),
        _ => {}
    }
    let bytes = s.as_bytes();
    let mut toks = Vec::new();
    let mut raw = Vec::new();
    let mut k = 0;
    let flush = |raw: &mut Vec<u8>, toks: &mut Vec<Tok>| -> Result<(), CpeError> {
        if !raw.is_empty() {
            let text = String::from_utf8(std::mem::take(raw)).map_err(|_| err(i, "not UTF-8 after percent-decoding"))?;
            toks.extend(text.chars().flat_map(char::to_lowercase).map(Tok::Char));
        }
        Ok(())
    };
    while let Some(&b) = bytes.get(k) {
        if b == b'%' {
            let hex = bytes.get(k + 1..k + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(v) = hex else { return Err(err(i, "a % not followed by two hex digits")) };
            match v {
                0x01 => {
                    flush(&mut raw, &mut toks)?;
                    toks.push(Tok::One);
                }
                0x02 => {
                    flush(&mut raw, &mut toks)?;
                    toks.push(Tok::Many);
                }
                v => raw.push(v),
            }
            k += 3;
        } else {
            raw.push(b);
            k += 1;
        }
    }
    flush(&mut raw, &mut toks)?;
    check_wildcards(i, &toks)?;
    Ok(Value::Text(toks))
}

impl Cpe {
    /// Parses a 2.3 formatted string or a 2.2 URI.
    pub fn parse(s: &str) -> Result<Cpe, CpeError> {
        let s = s.trim();
        if s.len() > 2048 {
            return Err(err(0, "longer than 2,048 bytes"));
        }
        if let Some(rest) = s.strip_prefix("cpe:2.3:").or_else(|| s.strip_prefix("CPE:2.3:")) {
            return Self::parse_fs(rest);
        }
        if let Some(rest) = s.strip_prefix("cpe:/").or_else(|| s.strip_prefix("CPE:/")) {
            return Self::parse_uri(rest);
        }
        Err(CpeError::Prefix)
    }

    fn parse_fs(rest: &str) -> Result<Cpe, CpeError> {
        let fields = split_fs(rest);
        if fields.len() != 11 {
            return Err(CpeError::Fields(fields.len() + 2));
        }
        let mut c = Cpe::default();
        for (i, (slot, f)) in c.values.iter_mut().zip(fields).enumerate() {
            *slot = unbind_fs(i, f)?;
        }
        check_part(&c.values[0])?;
        Ok(c)
    }

    fn parse_uri(rest: &str) -> Result<Cpe, CpeError> {
        let comps: Vec<&str> = rest.split(':').collect();
        if comps.len() > 7 {
            return Err(CpeError::Components(comps.len()));
        }
        let mut c = Cpe::default();
        for (i, comp) in comps.iter().enumerate() {
            if i == 5 && comp.starts_with('~') {
                // Packed: ~edition~sw_edition~target_sw~target_hw~other.
                let packed: Vec<&str> = comp.split('~').skip(1).collect();
                if packed.len() != 5 {
                    return Err(err(5, "a packed edition has five ~-separated parts"));
                }
                for (j, p) in packed.iter().enumerate() {
                    let slot = [5, 7, 8, 9, 10].get(j).copied().unwrap_or(5);
                    if let Some(v) = c.values.get_mut(slot) {
                        *v = percent_decode(slot, p)?;
                    }
                }
                continue;
            }
            if let Some(v) = c.values.get_mut(i) {
                *v = percent_decode(i, comp)?;
            }
        }
        check_part(&c.values[0])?;
        Ok(c)
    }

    /// The 2.3 formatted string.
    pub fn to_fs(&self) -> String {
        let mut out = String::from("cpe:2.3");
        for v in &self.values {
            out.push(':');
            match v {
                Value::Any => out.push('*'),
                Value::Na => out.push('-'),
                Value::Text(t) => {
                    for tok in t {
                        match tok {
                            Tok::Many => out.push('*'),
                            Tok::One => out.push('?'),
                            Tok::Char(c) if c.is_alphanumeric() || matches!(c, '_' | '-' | '.') => out.push(*c),
                            Tok::Char(c) => {
                                out.push('\\');
                                out.push(*c);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    pub fn vendor(&self) -> Option<String> {
        self.values[1].as_literal()
    }

    pub fn product(&self) -> Option<String> {
        self.values[2].as_literal()
    }

    pub fn version(&self) -> &Value {
        &self.values[VERSION]
    }
}

fn check_part(v: &Value) -> Result<(), CpeError> {
    match v {
        Value::Any => Ok(()),
        Value::Text(_) if matches!(v.as_literal().as_deref(), Some("a" | "o" | "h")) => Ok(()),
        Value::Na => Err(CpeError::Part("-".into())),
        other => Err(CpeError::Part(format!("{other:?}"))),
    }
}

impl fmt::Display for Cpe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_fs())
    }
}

/// How a source value (a pattern, e.g. an NVD criterion) relates to a target value (a name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Superset,
    Subset,
    Equal,
    Disjoint,
    /// The target has wildcards: a name was expected.
    Undefined,
}

fn glob(pattern: &[Tok], text: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Tok::Many, rest)) => (0..=text.len()).any(|k| glob(rest, text.get(k..).unwrap_or_default())),
        Some((Tok::One, rest)) => text.split_first().is_some_and(|(_, t)| glob(rest, t)),
        Some((Tok::Char(c), rest)) => text.split_first().is_some_and(|(h, t)| h == c && glob(rest, t)),
    }
}

/// NISTIR 7696 attribute comparison.
pub fn compare_values(source: &Value, target: &Value) -> Relation {
    if target.has_wildcards() {
        return Relation::Undefined;
    }
    if source == target {
        return Relation::Equal;
    }
    match (source, target) {
        (Value::Any, _) => Relation::Superset,
        (_, Value::Any) => Relation::Subset,
        (Value::Na, _) | (_, Value::Na) => Relation::Disjoint,
        (Value::Text(p), Value::Text(t)) => {
            let text: Vec<char> = t.iter().filter_map(|x| if let Tok::Char(c) = x { Some(*c) } else { None }).collect();
            if source.has_wildcards() && glob(p, &text) { Relation::Superset } else { Relation::Disjoint }
        }
    }
}

/// The relation of every attribute.
pub fn compare(source: &Cpe, target: &Cpe) -> [Relation; 11] {
    std::array::from_fn(|i| match (source.values.get(i), target.values.get(i)) {
        (Some(s), Some(t)) => compare_values(s, t),
        _ => Relation::Undefined,
    })
}

/// CPE_SUPERSET or CPE_EQUAL: the source (a criterion) covers the target (a name).
pub fn covers(source: &Cpe, target: &Cpe) -> bool {
    compare(source, target).iter().all(|r| matches!(r, Relation::Superset | Relation::Equal))
}

/// How well a vulnerability criterion matches a device's CPE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchLevel {
    /// Nothing in common.
    None,
    /// Vendor and product agree but the device's version is unknown (ANY): a candidate to check,
    /// at low confidence.
    VendorProduct,
    /// The criterion covers the device's name, version included.
    Exact,
}

/// Matches a criterion against a device's CPE. When the criterion's version is ANY, a version
/// range (NVD's versionStartIncluding …) decides, which the caller applies.
pub fn match_level(criterion: &Cpe, device: &Cpe) -> MatchLevel {
    let rel = compare(criterion, device);
    if rel.iter().any(|r| matches!(r, Relation::Disjoint | Relation::Undefined)) {
        return MatchLevel::None;
    }
    if rel.iter().all(|r| matches!(r, Relation::Superset | Relation::Equal)) {
        return MatchLevel::Exact;
    }
    // Only "subset" on the version (the device does not say its version) is a candidate.
    let others_ok = rel.iter().enumerate().all(|(i, r)| i == VERSION || matches!(r, Relation::Superset | Relation::Equal | Relation::Subset));
    if others_ok && rel[VERSION] == Relation::Subset && rel[1] == Relation::Equal && rel[2] == Relation::Equal {
        MatchLevel::VendorProduct
    } else {
        MatchLevel::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpe(s: &str) -> Cpe {
        Cpe::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn quoted_characters_are_literal_and_round_trip() {
        let c = cpe(r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*");
        assert_eq!(c.values[VERSION].as_literal().as_deref(), Some("15.2(5)e"));
        assert_eq!(c.to_fs(), r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*");
        let c = cpe(r"cpe:2.3:a:foo\:bar:baz:1.0:*:*:*:*:*:*:*");
        assert_eq!(c.vendor().as_deref(), Some("foo:bar"));
        // Case-insensitive.
        assert_eq!(cpe("cpe:2.3:O:Fortinet:FortiOS:7.2.4:*:*:*:*:*:*:*"), cpe("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"));
    }

    #[test]
    fn the_22_uri_jvn_and_nmap_write() {
        let c = cpe("cpe:/o:cisco:ios:15.2%285%29e");
        assert_eq!(c, cpe(r"cpe:2.3:o:cisco:ios:15.2\(5\)e:*:*:*:*:*:*:*"));
        // JVN: no version at all.
        let jvn = cpe("cpe:/h:corega:cg-wgr1200");
        assert_eq!(jvn.version(), &Value::Any);
        // Packed edition.
        let p = cpe("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~");
        assert_eq!(p.values[5], Value::Any);
        assert_eq!(p.values[4], Value::Na);
        assert_eq!(p.values[7].as_literal().as_deref(), Some("online"));
        assert_eq!(p.values[9].as_literal().as_deref(), Some("x64"));
        // nmap's service CPE.
        assert_eq!(cpe("cpe:/a:openbsd:openssh:5.3").product().as_deref(), Some("openssh"));
    }

    #[test]
    fn malformed_names_are_errors_not_panics() {
        for bad in [
            "cpe:2.3:a:vendor",
            "cpe:2.3:x:v:p:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:v:p:1*0:*:*:*:*:*:*:*",
            "cpe:2.3:a:v:p:**1:*:*:*:*:*:*:*",
            "cpe:2.3:a:v:p:1.0\\",
            "cpe:/a:v:p:1%g",
            "cpe:/a:v:p:1:2:3:4:5",
            "nope",
            "cpe:2.3:a:v::*:*:*:*:*:*:*:*",
        ] {
            assert!(Cpe::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nistir_7696_relations() {
        let any = Value::Any;
        let na = Value::Na;
        let v = Value::literal("7.2.4");
        assert_eq!(compare_values(&any, &v), Relation::Superset);
        assert_eq!(compare_values(&v, &any), Relation::Subset);
        assert_eq!(compare_values(&v, &v), Relation::Equal);
        assert_eq!(compare_values(&na, &na), Relation::Equal);
        // NA is not a wildcard.
        assert_eq!(compare_values(&na, &v), Relation::Disjoint);
        assert_eq!(compare_values(&v, &na), Relation::Disjoint);
        assert_eq!(compare_values(&any, &na), Relation::Superset);
        let pattern = cpe("cpe:2.3:o:fortinet:fortios:7.2.*:*:*:*:*:*:*:*");
        assert_eq!(compare_values(pattern.version(), &v), Relation::Superset);
        assert_eq!(compare_values(pattern.version(), &Value::literal("7.4.1")), Relation::Disjoint);
        assert_eq!(compare_values(&v, pattern.version()), Relation::Undefined);
        let one = cpe("cpe:2.3:a:v:p:1.?:*:*:*:*:*:*:*");
        assert_eq!(compare_values(one.version(), &Value::literal("1.5")), Relation::Superset);
        assert_eq!(compare_values(one.version(), &Value::literal("1.50")), Relation::Disjoint);
    }

    #[test]
    fn an_na_version_criterion_covers_only_na_names() {
        // Dependency-Track #3268: `http_server:-` must not match every version.
        let criterion = cpe("cpe:2.3:a:apache:http_server:-:*:*:*:*:*:*:*");
        let device = cpe("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*");
        assert!(!covers(&criterion, &device));
        assert_eq!(match_level(&criterion, &device), MatchLevel::None);
        let fortigate = cpe("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*");
        assert_eq!(match_level(&cpe("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"), &fortigate), MatchLevel::Exact);
        assert_eq!(match_level(&cpe("cpe:2.3:o:fortinet:fortios:*:*:*:*:*:*:*:*"), &fortigate), MatchLevel::Exact);
        assert_eq!(match_level(&cpe("cpe:2.3:o:fortinet:fortios:7.0.1:*:*:*:*:*:*:*"), &fortigate), MatchLevel::None);
        // A device whose version is unknown: a candidate only.
        let unknown = cpe("cpe:/o:fortinet:fortios");
        assert_eq!(match_level(&cpe("cpe:2.3:o:fortinet:fortios:7.2.4:*:*:*:*:*:*:*"), &unknown), MatchLevel::VendorProduct);
        assert_eq!(match_level(&cpe("cpe:2.3:o:fortinet:fortimanager:7.2.4:*:*:*:*:*:*:*"), &unknown), MatchLevel::None);
    }
}
