//! Priority of a finding (asset × vulnerability), with the formula shown to the user.
//!
//! Points, each visible on the finding:
//! - exploitation: listed in CISA KEV +40, used in ransomware campaigns +15;
//! - EPSS (probability of exploitation in the next 30 days): + 20 × EPSS;
//! - severity: + 2 × CVSS base score (at most 20);
//! - exposure: the device is reachable from the internet +15, from the patient/guest Wi-Fi +5.
//!
//! The sum (at most 115) is weighted by how sure the match is (exact version or range ×1.0,
//! fuzzy ×0.7, vendor-product or JVN name only ×0.4), so that a guess never outranks a fact.
//! Bands: ≥ 60 緊急 (P1), ≥ 30 高 (P2), ≥ 15 中 (P3), otherwise 低 (P4).

use serde::{Deserialize, Serialize};

use crate::matcher::Confidence;

/// What the priority is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    pub kev: bool,
    pub ransomware: bool,
    pub epss: Option<f64>,
    pub cvss: Option<f64>,
    pub internet_facing: bool,
    pub patient_reachable: bool,
}

/// One term of the formula.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Term {
    /// Stable code (`kev`, `ransomware`, `epss`, `cvss`, `internet`, `patient_wifi`).
    pub code: String,
    /// The input as shown (`0.943`, `9.8`, `yes`).
    pub input: String,
    pub points: f64,
}

/// A computed priority.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    pub score: f64,
    /// 1 (緊急) … 4 (低).
    pub band: u8,
    pub terms: Vec<Term>,
    pub confidence_weight: f64,
}

/// Weight of a match's confidence.
pub fn confidence_weight(c: Confidence) -> f64 {
    match c {
        Confidence::ExactVersion | Confidence::VersionRange => 1.0,
        Confidence::Fuzzy => 0.7,
        Confidence::VendorProduct | Confidence::JvnName => 0.4,
    }
}

/// The band of a score.
pub fn band(score: f64) -> u8 {
    if score >= 60.0 {
        1
    } else if score >= 30.0 {
        2
    } else if score >= 15.0 {
        3
    } else {
        4
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Computes the priority.
pub fn priority(s: &Signals, confidence: Confidence) -> Priority {
    let mut terms = Vec::new();
    if s.kev {
        terms.push(Term { code: "kev".into(), input: "yes".into(), points: 40.0 });
    }
    if s.ransomware {
        terms.push(Term { code: "ransomware".into(), input: "yes".into(), points: 15.0 });
    }
    if let Some(e) = s.epss.filter(|e| e.is_finite()) {
        let e = e.clamp(0.0, 1.0);
        terms.push(Term { code: "epss".into(), input: format!("{e:.3}"), points: round1(20.0 * e) });
    }
    if let Some(c) = s.cvss.filter(|c| c.is_finite()) {
        let c = c.clamp(0.0, 10.0);
        terms.push(Term { code: "cvss".into(), input: format!("{c:.1}"), points: round1(2.0 * c) });
    }
    if s.internet_facing {
        terms.push(Term { code: "internet".into(), input: "yes".into(), points: 15.0 });
    }
    if s.patient_reachable {
        terms.push(Term { code: "patient_wifi".into(), input: "yes".into(), points: 5.0 });
    }
    let weight = confidence_weight(confidence);
    let score = round1(terms.iter().map(|t| t.points).sum::<f64>() * weight);
    Priority { score, band: band(score), terms, confidence_weight: weight }
}

/// Days to fix a finding of a band when no KEV deadline applies (P1 7, P2 30, P3 90, P4 180);
/// a KEV-listed vulnerability gets `kev_days` from when mamori first found it.
pub fn days_to_fix(band: u8, kev: bool, kev_days: u32) -> u32 {
    if kev {
        return kev_days;
    }
    match band {
        1 => 7,
        2 => 30,
        3 => 90,
        _ => 180,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exploited_internet_facing_outranks_severe_but_unexploited() {
        let vpn = priority(
            &Signals { kev: true, ransomware: true, epss: Some(0.94), cvss: Some(9.8), internet_facing: true, patient_reachable: false },
            Confidence::VersionRange,
        );
        assert_eq!(vpn.band, 1);
        assert!((vpn.score - (40.0 + 15.0 + 18.8 + 19.6 + 15.0)).abs() < 0.01, "{}", vpn.score);
        let lib = priority(&Signals { cvss: Some(9.8), epss: Some(0.01), ..Signals::default() }, Confidence::VersionRange);
        assert!(lib.score < vpn.score && lib.band == 3, "{lib:?}");
        // A guess is weighted down.
        let guess = priority(
            &Signals { kev: true, ransomware: true, epss: Some(0.94), cvss: Some(9.8), internet_facing: true, patient_reachable: false },
            Confidence::VendorProduct,
        );
        assert!(guess.score < vpn.score / 2.0);
        assert_eq!(days_to_fix(1, true, 7), 7);
        assert_eq!(days_to_fix(3, false, 7), 90);
    }
}
