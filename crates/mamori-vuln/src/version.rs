//! Version comparison per vendor scheme. Firmware of the devices clinics expose to the internet
//! is not numbered like software: FortiOS `v7.2.4,build1396`, Cisco IOS trains `15.2(4)M3`,
//! YAMAHA `Rev.14.01.38`, Zyxel `V5.36(ABPS.0)`, Windows builds `10.0.19045.3803`. A comparison
//! says when it is not sure ([`Comparison::exact`] false) instead of guessing silently, and says
//! nothing (`None`) where versions are not orderable (two Cisco trains, two Zyxel models).

use std::cmp::Ordering;

/// How a product numbers its versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Dotted numbers with optional suffixes (`2.4.49`, `1.1.1w`, `3.0.0-rc1`).
    Generic,
    /// Fortinet FortiOS and other Forti products: `v7.2.4,build1396 (GA)`.
    FortiOs,
    /// Cisco IOS: `15.2(4)M3`; different trains (`M`, `E`, `T`) are not orderable.
    CiscoIos,
    /// Windows: `10.0.19045.3803`.
    WindowsBuild,
    /// YAMAHA RTX/NVR routers: `Rev.14.01.38`.
    YamahaRtx,
    /// Zyxel firmware: `V5.36(ABPS.0)`; the model code in parentheses must agree.
    Zyxel,
}

/// The scheme for a CPE vendor and product (lower case, as NVD writes them).
pub fn scheme_for(vendor: &str, product: &str) -> Scheme {
    match (vendor, product) {
        ("fortinet", _) => Scheme::FortiOs,
        ("cisco", p) if p == "ios" || p.starts_with("ios_") => Scheme::CiscoIos,
        ("microsoft", p) if p.starts_with("windows") => Scheme::WindowsBuild,
        ("yamaha", _) => Scheme::YamahaRtx,
        ("zyxel", _) => Scheme::Zyxel,
        _ => Scheme::Generic,
    }
}

/// The outcome of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    /// `None`: the two versions are not orderable.
    pub ordering: Option<Ordering>,
    /// False when the strings did not follow the scheme and a looser reading was used: a match
    /// built on it carries lower confidence.
    pub exact: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Num(u64),
    Alpha(String),
}

/// Numbers and letter runs; separators (`.`, `-`, `_`, `+`, `,`, spaces) only split.
fn segments(s: &str) -> Vec<Seg> {
    // Runs over every bound of every candidate criterion when matching: numbers are read as
    // they are scanned, and only letter runs allocate.
    // A run too long for 64 bits saturates at u64::MAX.
    let mut out = Vec::with_capacity(4);
    let mut num: Option<u64> = None;
    let mut alpha = String::new();
    let flush_num = |num: &mut Option<u64>, out: &mut Vec<Seg>| {
        if let Some(n) = num.take() {
            out.push(Seg::Num(n));
        }
    };
    let flush_alpha = |alpha: &mut String, out: &mut Vec<Seg>| {
        if !alpha.is_empty() {
            let text = std::mem::take(alpha);
            out.push(Seg::Alpha(if text.is_ascii() { text.to_ascii_lowercase() } else { text.to_lowercase() }));
        }
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            flush_alpha(&mut alpha, &mut out);
            let d = u64::from(c) - u64::from('0');
            num = Some(num.unwrap_or(0).saturating_mul(10).saturating_add(d));
        } else if c.is_alphanumeric() {
            flush_num(&mut num, &mut out);
            alpha.push(c);
        } else {
            flush_num(&mut num, &mut out);
            flush_alpha(&mut alpha, &mut out);
        }
    }
    flush_num(&mut num, &mut out);
    flush_alpha(&mut alpha, &mut out);
    out
}

fn pre_release(a: &str) -> bool {
    ["alpha", "a", "beta", "b", "rc", "pre", "preview", "dev"].contains(&a)
}

fn compare_segments(a: &[Seg], b: &[Seg]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let ord = match (a.get(i), b.get(i)) {
            (Some(Seg::Num(x)), Some(Seg::Num(y))) => x.cmp(y),
            (Some(Seg::Alpha(x)), Some(Seg::Alpha(y))) => match (pre_release(x), pre_release(y)) {
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => x.cmp(y),
            },
            // A number against letters: 1.0.1 > 1.0a? Treat letters after a number as a
            // suffix of that release (1.1.1w > 1.1.1), pre-releases as before it.
            (Some(Seg::Num(_)), Some(Seg::Alpha(y))) => if pre_release(y) { Ordering::Greater } else { Ordering::Less },
            (Some(Seg::Alpha(x)), Some(Seg::Num(_))) => if pre_release(x) { Ordering::Less } else { Ordering::Greater },
            // 1.0 == 1.0.0; 1.0-rc1 < 1.0; 1.0.1 > 1.0; 1.1.1w > 1.1.1.
            (Some(Seg::Num(0)), None) | (None, Some(Seg::Num(0))) => Ordering::Equal,
            (Some(Seg::Num(_)), None) => Ordering::Greater,
            (None, Some(Seg::Num(_))) => Ordering::Less,
            (Some(Seg::Alpha(x)), None) => if pre_release(x) { Ordering::Less } else { Ordering::Greater },
            (None, Some(Seg::Alpha(y))) => if pre_release(y) { Ordering::Greater } else { Ordering::Less },
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

/// Looks like the scheme's shape: digits and dots (and the scheme's own decorations) only.
fn plain(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c))
}

fn generic(a: &str, b: &str) -> Comparison {
    Comparison { ordering: Some(compare_segments(&segments(a), &segments(b))), exact: plain(a) && plain(b) }
}

/// FortiOS: `v7.2.4,build1396 (GA)` → 7.2.4 then the build.
fn forti(s: &str) -> (String, Option<u64>) {
    let s = s.trim().trim_start_matches(['v', 'V']);
    let (ver, rest) = s.split_once(',').unwrap_or((s, ""));
    let build = rest.trim().strip_prefix("build").and_then(|b| b.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok());
    (ver.trim().to_owned(), build)
}

/// Cisco IOS `15.2(4)M3` → (train "15.2m", rebuild 4, maintenance 3).
fn cisco(s: &str) -> Option<(String, u64, u64)> {
    let s = s.trim().to_lowercase();
    let (major, rest) = s.split_once('(')?;
    let (rebuild, tail) = rest.split_once(')')?;
    let letters: String = tail.chars().take_while(char::is_ascii_alphabetic).collect();
    let maint: String = tail.chars().skip(letters.len()).take_while(char::is_ascii_digit).collect();
    Some((format!("{major}{letters}"), rebuild.trim().parse().ok()?, maint.parse().unwrap_or(0)))
}

/// Zyxel `V5.36(ABPS.0)C0` → (model "abps", numbers [5, 36, 0], suffix "c0").
fn zyxel(s: &str) -> Option<(String, Vec<Seg>, String)> {
    let s = s.trim().trim_start_matches(['v', 'V']).to_lowercase();
    let (base, rest) = s.split_once('(')?;
    let (inner, suffix) = rest.split_once(')')?;
    let (model, patch) = inner.split_once('.').unwrap_or((inner, "0"));
    let mut segs = segments(base);
    segs.extend(segments(patch));
    Some((model.to_owned(), segs, suffix.to_owned()))
}

/// Compares `a` with `b` in a scheme.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Comparison {
    match scheme {
        Scheme::Generic | Scheme::WindowsBuild => generic(a, b),
        Scheme::YamahaRtx => {
            let strip = |s: &str| s.trim().trim_start_matches("Rev.").trim_start_matches("rev.").to_owned();
            generic(&strip(a), &strip(b))
        }
        Scheme::FortiOs => {
            let ((va, ba), (vb, bb)) = (forti(a), forti(b));
            let mut c = generic(&va, &vb);
            if c.ordering == Some(Ordering::Equal)
                && let (Some(x), Some(y)) = (ba, bb)
            {
                c.ordering = Some(x.cmp(&y));
            }
            c
        }
        Scheme::CiscoIos => match (cisco(a), cisco(b)) {
            (Some((ta, ra, ma)), Some((tb, rb, mb))) => Comparison {
                ordering: (ta == tb).then(|| ra.cmp(&rb).then(ma.cmp(&mb))),
                exact: true,
            },
            // Neither in train form (`15.2`): plain dotted numbers compare as such.
            _ => generic(a, b),
        },
        Scheme::Zyxel => match (zyxel(a), zyxel(b)) {
            (Some((ma, sa, xa)), Some((mb, sb, xb))) => Comparison {
                ordering: (ma == mb).then(|| compare_segments(&sa, &sb).then_with(|| compare_segments(&segments(&xa), &segments(&xb)))),
                exact: true,
            },
            // NVD writes Zyxel bounds without the model code (`5.36`): compare the numbers.
            (Some((_, sa, _)), None) if plain(b) => Comparison { ordering: Some(compare_segments(&sa, &segments(b))), exact: true },
            (None, Some((_, sb, _))) if plain(a) => Comparison { ordering: Some(compare_segments(&segments(a), &sb)), exact: true },
            _ => generic(a, b),
        },
    }
}

/// Whether `v` is inside an NVD range (`versionStartIncluding` … `versionEndExcluding`).
/// `None` when some bound is not comparable with `v`; the [`Comparison::exact`] of the least
/// sure comparison comes along.
pub fn in_range(
    scheme: Scheme,
    v: &str,
    start_incl: Option<&str>,
    start_excl: Option<&str>,
    end_incl: Option<&str>,
    end_excl: Option<&str>,
) -> Option<(bool, bool)> {
    let mut inside = true;
    let mut exact = true;
    type Check<'a> = (Option<&'a str>, fn(Ordering) -> bool);
    let checks: [Check<'_>; 4] = [
        (start_incl, |o| o != Ordering::Less),
        (start_excl, |o| o == Ordering::Greater),
        (end_incl, |o| o != Ordering::Greater),
        (end_excl, |o| o == Ordering::Less),
    ];
    for (bound, ok) in checks {
        let Some(bound) = bound else { continue };
        let c = compare(scheme, v, bound);
        exact &= c.exact;
        inside &= ok(c.ordering?);
    }
    Some((inside, exact))
}

/// A version string parsed once for many comparisons under one scheme:
/// [`compare_prepared`] of two prepared versions equals [`compare`] of their strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// The generic reading (after the scheme's prefix or build is taken off) and whether it is
    /// plain.
    segs: Vec<Seg>,
    plain: bool,
    special: Special,
}

/// The scheme's own reading, when the string has the scheme's special shape.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Special {
    None,
    /// FortiOS build number.
    Forti(u64),
    /// Cisco IOS train, rebuild, maintenance.
    Cisco(String, u64, u64),
    /// Zyxel model, numbers, suffix.
    Zyxel(String, Vec<Seg>, Vec<Seg>),
}

impl Prepared {
    pub fn new(scheme: Scheme, s: &str) -> Prepared {
        let generic = |t: &str| (segments(t), plain(t));
        let ((segs, plain), special) = match scheme {
            Scheme::Generic | Scheme::WindowsBuild => (generic(s), Special::None),
            Scheme::YamahaRtx => (generic(s.trim().trim_start_matches("Rev.").trim_start_matches("rev.")), Special::None),
            Scheme::FortiOs => {
                let (ver, build) = forti(s);
                (generic(&ver), build.map_or(Special::None, Special::Forti))
            }
            Scheme::CiscoIos => (generic(s), cisco(s).map_or(Special::None, |(t, r, m)| Special::Cisco(t, r, m))),
            Scheme::Zyxel => (generic(s), zyxel(s).map_or(Special::None, |(m, n, x)| Special::Zyxel(m, n, segments(&x)))),
        };
        Prepared { segs, plain, special }
    }

    /// Compared with another regular version, this one orders by [`Prepared::cmp_regular`]: a
    /// total preorder, so sorted regular versions can be searched for a bound.
    pub fn is_regular(&self) -> bool {
        self.special == Special::None
    }

    /// The order of two regular versions (both [`Prepared::is_regular`]), as [`compare`] gives it.
    pub fn cmp_regular(&self, other: &Prepared) -> Ordering {
        compare_segments(&self.segs, &other.segs)
    }

    /// Whether the string followed the generic shape (a comparison of two regular versions is
    /// exact when both are plain).
    pub fn plain(&self) -> bool {
        self.plain
    }
}

/// [`compare`] on prepared versions (both prepared under `scheme`).
pub fn compare_prepared(scheme: Scheme, a: &Prepared, b: &Prepared) -> Comparison {
    let generic = || Comparison { ordering: Some(compare_segments(&a.segs, &b.segs)), exact: a.plain && b.plain };
    match (scheme, &a.special, &b.special) {
        (Scheme::FortiOs, Special::Forti(x), Special::Forti(y)) => {
            let mut c = generic();
            if c.ordering == Some(Ordering::Equal) {
                c.ordering = Some(x.cmp(y));
            }
            c
        }
        (Scheme::CiscoIos, Special::Cisco(ta, ra, ma), Special::Cisco(tb, rb, mb)) => {
            Comparison { ordering: (ta == tb).then(|| ra.cmp(rb).then(ma.cmp(mb))), exact: true }
        }
        (Scheme::Zyxel, Special::Zyxel(ma, sa, xa), Special::Zyxel(mb, sb, xb)) => {
            Comparison { ordering: (ma == mb).then(|| compare_segments(sa, sb).then_with(|| compare_segments(xa, xb))), exact: true }
        }
        (Scheme::Zyxel, Special::Zyxel(_, sa, _), Special::None) if b.plain => Comparison { ordering: Some(compare_segments(sa, &b.segs)), exact: true },
        (Scheme::Zyxel, Special::None, Special::Zyxel(_, sb, _)) if a.plain => Comparison { ordering: Some(compare_segments(&a.segs, sb)), exact: true },
        _ => generic(),
    }
}

/// [`in_range`] on prepared versions.
pub fn in_range_prepared(scheme: Scheme, v: &Prepared, bounds: &Bounds) -> Option<(bool, bool)> {
    let mut inside = true;
    let mut exact = true;
    type Check<'a> = (Option<&'a Prepared>, fn(Ordering) -> bool);
    let checks: [Check<'_>; 4] = [
        (bounds.start_incl.as_ref(), |o| o != Ordering::Less),
        (bounds.start_excl.as_ref(), |o| o == Ordering::Greater),
        (bounds.end_incl.as_ref(), |o| o != Ordering::Greater),
        (bounds.end_excl.as_ref(), |o| o == Ordering::Less),
    ];
    for (bound, ok) in checks {
        let Some(bound) = bound else { continue };
        let c = compare_prepared(scheme, v, bound);
        exact &= c.exact;
        inside &= ok(c.ordering?);
    }
    Some((inside, exact))
}

/// The bounds of an NVD range, prepared under the criterion's scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bounds {
    pub start_incl: Option<Prepared>,
    pub start_excl: Option<Prepared>,
    pub end_incl: Option<Prepared>,
    pub end_excl: Option<Prepared>,
}

impl Bounds {
    pub fn new(scheme: Scheme, start_incl: Option<&str>, start_excl: Option<&str>, end_incl: Option<&str>, end_excl: Option<&str>) -> Bounds {
        let p = |s: Option<&str>| s.map(|s| Prepared::new(scheme, s));
        Bounds { start_incl: p(start_incl), start_excl: p(start_excl), end_incl: p(end_incl), end_excl: p(end_excl) }
    }

    fn all(&self) -> impl Iterator<Item = &Prepared> {
        [&self.start_incl, &self.start_excl, &self.end_incl, &self.end_excl].into_iter().flatten()
    }

    /// Every bound is regular: against regular versions the range is one run of the sorted
    /// versions ([`Bounds::place`]).
    pub fn is_regular(&self) -> bool {
        self.all().all(Prepared::is_regular)
    }

    /// Every bound is plain.
    pub fn plain(&self) -> bool {
        self.all().all(Prepared::plain)
    }

    /// The run `lo..hi` of `sorted` (regular versions in [`Prepared::cmp_regular`] order, via
    /// `get`) inside the range, by binary search. Only for regular bounds.
    pub fn place<T>(&self, sorted: &[T], get: impl Fn(&T) -> &Prepared) -> (usize, usize) {
        let at = |b: &Option<Prepared>| b.as_ref().map(|b| partition(sorted, &get, b));
        run_between(sorted.len(), [at(&self.start_incl), at(&self.start_excl), at(&self.end_incl), at(&self.end_excl)])
    }
}

/// Where a regular bound falls in `sorted` (regular versions in [`Prepared::cmp_regular`]
/// order, via `get`): how many versions are below it, and how many are not above it.
pub(crate) fn partition<T>(sorted: &[T], get: impl Fn(&T) -> &Prepared, bound: &Prepared) -> (usize, usize) {
    let below = sorted.partition_point(|x| get(x).cmp_regular(bound) == Ordering::Less);
    let not_above = sorted.partition_point(|x| get(x).cmp_regular(bound) != Ordering::Greater);
    (below, not_above)
}

/// The run `lo..hi` of `len` sorted versions inside a range, from its bounds' [`partition`]s
/// (start including, start excluding, end including, end excluding; None where absent).
pub(crate) fn run_between(len: usize, [start_incl, start_excl, end_incl, end_excl]: [Option<(usize, usize)>; 4]) -> (usize, usize) {
    let lo = [start_incl.map(|p| p.0), start_excl.map(|p| p.1)].into_iter().flatten().max().unwrap_or(0);
    let hi = [end_incl.map(|p| p.1), end_excl.map(|p| p.0)].into_iter().flatten().min().unwrap_or(len);
    (lo, hi.max(lo))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(scheme: Scheme, a: &str, b: &str) -> Option<Ordering> {
        compare(scheme, a, b).ordering
    }

    #[test]
    fn segments_split_numbers_and_letter_runs() {
        use Seg::{Alpha, Num};
        let a = |s: &str| Alpha(s.to_owned());
        assert_eq!(segments("1.10.2rc1"), vec![Num(1), Num(10), Num(2), a("rc"), Num(1)]);
        assert_eq!(segments("V5.36(ABPS.0)"), vec![a("v"), Num(5), Num(36), a("abps"), Num(0)]);
        assert_eq!(segments("007"), vec![Num(7)]);
        assert_eq!(segments(""), vec![]);
        // A run too long for 64 bits saturates, and the next run starts afresh.
        assert_eq!(segments("99999999999999999999999.3"), vec![Num(u64::MAX), Num(3)]);
        // Letters beyond ASCII are letters, lower-cased; digits beyond ASCII are letters too.
        assert_eq!(segments("2.Ä٣b"), vec![Num(2), a("ä٣b")]);
    }

    #[test]
    fn generic_versions() {
        use Ordering::*;
        for (a, b, o) in [
            ("2.4.49", "2.4.50", Less),
            ("2.4.50", "2.4.9", Greater),
            ("1.0", "1.0.0", Equal),
            ("1.1.1w", "1.1.1", Greater),
            ("1.1.1w", "1.1.1x", Less),
            ("3.0.0-rc1", "3.0.0", Less),
            ("3.0.0-rc1", "3.0.0-rc2", Less),
            ("8.9p1", "8.9", Greater),
        ] {
            assert_eq!(ord(Scheme::Generic, a, b), Some(o), "{a} vs {b}");
        }
        assert!(!compare(Scheme::Generic, "build 7 (beta)", "7").exact, "an odd shape lowers confidence");
    }

    #[test]
    fn vendor_schemes() {
        use Ordering::*;
        assert_eq!(ord(Scheme::FortiOs, "v7.2.4,build1396 (GA)", "7.2.5"), Some(Less));
        assert_eq!(ord(Scheme::FortiOs, "7.0.12", "7.0.9"), Some(Greater));
        assert_eq!(ord(Scheme::FortiOs, "v7.2.4,build1396", "v7.2.4,build1400"), Some(Less));
        // Cisco: within a train, by rebuild then maintenance; across trains, not orderable.
        assert_eq!(ord(Scheme::CiscoIos, "15.2(4)M3", "15.2(4)M11"), Some(Less));
        assert_eq!(ord(Scheme::CiscoIos, "15.2(5)E", "15.2(4)E10"), Some(Greater));
        assert_eq!(ord(Scheme::CiscoIos, "15.2(4)M3", "15.2(5)E"), None);
        assert_eq!(ord(Scheme::YamahaRtx, "Rev.14.01.38", "Rev.14.01.41"), Some(Less));
        assert_eq!(ord(Scheme::YamahaRtx, "Rev.14.01.38", "14.01.38"), Some(Equal));
        assert_eq!(ord(Scheme::Zyxel, "V5.36(ABPS.0)", "V5.36(ABPS.1)"), Some(Less));
        assert_eq!(ord(Scheme::Zyxel, "V5.36(ABPS.0)C0", "V5.36(ABPS.0)"), Some(Greater));
        assert_eq!(ord(Scheme::Zyxel, "V5.36(ABPS.0)", "V5.36(ABUH.0)"), None, "different models");
        assert_eq!(compare(Scheme::Zyxel, "5.35", "4.60"), Comparison { ordering: Some(Greater), exact: true });
        assert_eq!(ord(Scheme::Zyxel, "V5.35(ABPS.0)", "5.36"), Some(Less), "NVD bounds carry no model code");
        assert_eq!(ord(Scheme::Zyxel, "V5.36(ABPS.1)", "5.36"), Some(Greater));
        assert_eq!(ord(Scheme::WindowsBuild, "10.0.19045.3803", "10.0.19045.4170"), Some(Less));
        assert_eq!(scheme_for("fortinet", "fortios"), Scheme::FortiOs);
        assert_eq!(scheme_for("cisco", "ios_xe"), Scheme::CiscoIos);
        assert_eq!(scheme_for("openbsd", "openssh"), Scheme::Generic);
    }

    #[test]
    fn nvd_ranges() {
        // FortiOS 7.2.0 up to (excluding) 7.2.5.
        assert_eq!(in_range(Scheme::FortiOs, "7.2.4", Some("7.2.0"), None, None, Some("7.2.5")), Some((true, true)));
        assert_eq!(in_range(Scheme::FortiOs, "7.2.5", Some("7.2.0"), None, None, Some("7.2.5")), Some((false, true)));
        assert_eq!(in_range(Scheme::FortiOs, "7.0.12", Some("7.2.0"), None, None, Some("7.2.5")), Some((false, true)));
        // Across Cisco trains nothing can be said.
        assert_eq!(in_range(Scheme::CiscoIos, "15.2(4)M3", None, None, Some("15.2(5)E"), None), None);
    }
}
