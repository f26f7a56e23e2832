//! Comparing two models: what the facility changed, as a list and on the drawing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use mamori_diagram::{ChangeKind, NodeRef, Options, diff, to_svg, union};
use mamori_i18n::Lang;
use support::{demo, element, well_formed};

fn changed_model() -> mamori_model::network::NetworkModel {
    let mut new = demo();
    new.assets.retain(|a| a.id != 35); // 旧受付PC（倉庫保管）を廃棄
    let mut pc = new.assets.iter().find(|a| a.id == 19).unwrap().clone();
    pc.id = 37;
    pc.data.name = "新規受付PC-3".into();
    new.assets.push(pc);
    let emr = new.assets.iter_mut().find(|a| a.id == 7).unwrap();
    emr.data.os_version = Some("1809 (Build 17763.7009)".into());
    let line = new.connections.iter_mut().find(|c| c.id == 2).unwrap();
    line.always_on = false;
    new
}

#[test]
fn diff_reports_added_removed_and_changed_fields() {
    let old = demo();
    let new = changed_model();
    let d = diff(&old, &new);
    assert!(!d.is_empty());
    assert!(diff(&old, &old).is_empty());

    let kinds: Vec<(ChangeKind, i64)> = d.assets.iter().map(|c| (c.kind, c.id)).collect();
    assert_eq!(kinds, vec![(ChangeKind::Changed, 7), (ChangeKind::Removed, 35), (ChangeKind::Added, 37)]);
    let emr = &d.assets[0];
    assert_eq!(emr.fields.len(), 1);
    assert_eq!(emr.fields[0].field, "os_version");
    assert_eq!(emr.fields[0].before, "1607 (Build 14393.5786)");
    assert_eq!(emr.fields[0].after, "1809 (Build 17763.7009)");
    assert_eq!(d.assets[1].name, "旧受付PC（倉庫保管）");

    assert_eq!(d.connections.len(), 1);
    let line = &d.connections[0];
    assert_eq!((line.kind, line.node), (ChangeKind::Changed, Some(NodeRef::Connection(2))));
    assert_eq!((line.fields[0].field.as_str(), line.fields[0].before.as_str(), line.fields[0].after.as_str()), ("always_on", "true", "false"));
    assert!(d.segments.is_empty() && d.policies.is_empty());

    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["assets"][0]["kind"], "changed");
}

#[test]
fn diff_text_in_japanese_lists_every_change() {
    let d = diff(&demo(), &changed_model());
    let text = d.to_text(Lang::Ja);
    assert!(text.contains("ネットワーク構成の変更：4 件"), "{text}");
    assert!(text.contains("【削除】旧受付PC（倉庫保管）（#35）"), "{text}");
    assert!(text.contains("【追加】新規受付PC-3（#37）"), "{text}");
    assert!(text.contains("【変更】電子カルテサーバ（#7）"), "{text}");
    assert!(text.contains("バージョン：1607 (Build 14393.5786) → 1809 (Build 17763.7009)"), "{text}");
    assert!(text.contains("接続形態：常時接続 → 必要時のみ接続"), "{text}");
    assert!(text.contains("■ 外部接続（1 件）"), "{text}");
    let en = d.to_text(Lang::En);
    assert!(en.contains("[Removed]") && en.contains("Connection mode: Always connected → Connected on request"), "{en}");
    assert_eq!(diff(&demo(), &demo()).to_text(Lang::Ja).trim(), "ネットワーク構成に変更はありません。");
}

#[test]
fn highlight_marks_changes_on_the_drawing() {
    let old = demo();
    let new = changed_model();
    let d = diff(&old, &new);
    let h = d.highlight();
    assert!(h.added.contains(&NodeRef::Asset(37)));
    assert!(h.removed.contains(&NodeRef::Asset(35)));
    assert!(h.changed.contains(&NodeRef::Asset(7)) && h.changed.contains(&NodeRef::Connection(2)));

    // Drawn over the union: the removed PC appears greyed in place.
    let opts = Options { highlight: h.clone(), ..Options::default() };
    let svg = to_svg(&union(&old, &new), &opts);
    well_formed(&svg);
    let added = element(&svg, "id=\"a37\"");
    assert!(added.contains("mark-added") && added.contains("追加") && added.contains("#2e7d32"), "{added}");
    let removed = element(&svg, "id=\"a35\"");
    assert!(removed.contains("mark-removed") && removed.contains("削除") && removed.contains("stroke-dasharray"), "{removed}");
    let changed = element(&svg, "id=\"a7\"");
    assert!(changed.contains("mark-changed") && changed.contains("#f08c00"), "{changed}");
    let line = element(&svg, "id=\"c2\"");
    assert!(line.contains("必要時のみ接続") && line.contains("mark-changed"), "{line}");

    // Drawn over the new model alone: the removed PC is listed in a side box.
    let svg = to_svg(&new, &opts);
    well_formed(&svg);
    let side = element(&svg, "class=\"removed-list\"");
    assert!(side.contains("削除された項目") && side.contains("機器 #35"), "{side}");
}
