//! The diagram's catalogs: same keys in Japanese and English, all under `[diagram]`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;

#[test]
fn ja_and_en_have_the_same_diagram_keys() {
    let ja = mamori_i18n::parse(include_str!("../../../content/i18n/ja/diagram.toml")).unwrap();
    let en = mamori_i18n::parse(include_str!("../../../content/i18n/en/diagram.toml")).unwrap();
    let jk: BTreeSet<_> = ja.keys().collect();
    let ek: BTreeSet<_> = en.keys().collect();
    assert_eq!(jk, ek);
    assert!(jk.iter().all(|k| k.starts_with("diagram.")));
    assert!(jk.len() > 60);
    // Every key is reachable through the global catalog (no clash with ja.toml).
    for k in jk {
        assert!(mamori_i18n::has(k), "{k}");
    }
}
