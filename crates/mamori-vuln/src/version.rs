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
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut digits = false;
    let push = |cur: &mut String, digits: bool, out: &mut Vec<Seg>| {
        if cur.is_empty() {
            return;
        }
        let text = std::mem::take(cur);
        out.push(if digits { Seg::Num(text.parse().unwrap_or(u64::MAX)) } else { Seg::Alpha(text.to_lowercase()) });
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !digits {
                push(&mut cur, digits, &mut out);
            }
            digits = true;
            cur.push(c);
        } else if c.is_alphanumeric() {
            if digits {
                push(&mut cur, digits, &mut out);
            }
            digits = false;
            cur.push(c);
        } else {
            push(&mut cur, digits, &mut out);
        }
    }
    push(&mut cur, digits, &mut out);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ord(scheme: Scheme, a: &str, b: &str) -> Option<Ordering> {
        compare(scheme, a, b).ordering
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
