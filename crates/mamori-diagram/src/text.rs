//! Text measuring and escaping without a font engine: wide (CJK) characters count one em,
//! narrow ones a little over half.

/// Approximate width of `s` in ems.
pub fn width_em(s: &str) -> f64 {
    s.chars().map(char_em).sum()
}

fn char_em(c: char) -> f64 {
    let u = c as u32;
    if u < 0x80 {
        match c {
            'i' | 'l' | 'j' | 'I' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | '(' | ')' | ' ' => 0.32,
            'm' | 'w' | 'M' | 'W' => 0.85,
            'A'..='Z' => 0.66,
            _ => 0.56,
        }
    } else if (0xFF61..=0xFF9F).contains(&u) {
        // Half-width katakana.
        0.5
    } else if u >= 0x1100 {
        1.0
    } else {
        0.6
    }
}

/// `s` cut to fit `max_px` at `font_px`, ending with … when cut.
pub fn fit(s: &str, font_px: f64, max_px: f64) -> String {
    let max_em = max_px / font_px;
    if width_em(s) <= max_em {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut w = 1.0; // the ellipsis
    for c in s.chars() {
        w += char_em(c);
        if w > max_em {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim_end();
    format!("{trimmed}…")
}

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The family of an OS string, for grouping PCs: `windows`, `macos`, `linux`, `ios`,
/// `android`, `chromeos`, `other`.
pub fn os_family(os: Option<&str>) -> &'static str {
    let Some(os) = os else { return "other" };
    let os = os.to_lowercase();
    if os.contains("windows") {
        "windows"
    } else if os.contains("macos") || os.contains("mac os") || os.contains("os x") {
        "macos"
    } else if os.contains("ipados") || os.contains("ios") {
        "ios"
    } else if os.contains("android") {
        "android"
    } else if os.contains("chrome") {
        "chromeos"
    } else if ["linux", "ubuntu", "debian", "red hat", "rhel", "centos", "alma", "rocky", "suse"]
        .iter()
        .any(|w| os.contains(w))
    {
        "linux"
    } else {
        "other"
    }
}

/// A number in a circle (①…⑳), plain digits beyond.
pub fn circled(n: usize) -> String {
    match n {
        1..=20 => char::from_u32(0x2460 + n as u32 - 1).map(String::from).unwrap_or_else(|| n.to_string()),
        _ => format!("({n})"),
    }
}

/// A coordinate with at most one decimal, no trailing `.0`.
pub fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() { format!("{}", r as i64) } else { format!("{r:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_with_ellipsis() {
        assert_eq!(fit("PC", 12.0, 100.0), "PC");
        let cut = fit("事務PC-2（インターネット・メール用）", 12.0, 120.0);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(width_em(&cut) * 12.0 <= 121.0);
    }

    #[test]
    fn families() {
        assert_eq!(os_family(Some("Windows 11 Pro")), "windows");
        assert_eq!(os_family(Some("iPadOS")), "ios");
        assert_eq!(os_family(Some("Ubuntu")), "linux");
        assert_eq!(os_family(None), "other");
        assert_eq!(circled(3), "③");
        assert_eq!(num(2.0), "2");
        assert_eq!(num(2.25), "2.3");
    }
}
