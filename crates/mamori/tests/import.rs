//! `mamori asset import|export|template`, `mamori unregistered` and `mamori stocktake` as a user
//! runs them: a Shift_JIS ledger, a scan of the same network, the unregistered-device queue,
//! a re-import of the export that changes nothing, the real files of `shared/data`, and clear
//! errors for files that cannot be read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

use mamori_store::testing::TempDir;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

mod common;
use common::{fails, mamori, ok};

fn json(db: &str, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).unwrap()
}

fn counts(db: &str, file: &Path, extra: &[&str]) -> Value {
    let f = file.display().to_string();
    let mut args = vec!["asset", "import", f.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let plans = json(db, &args);
    plans[0]["counts"].clone()
}

fn setup(dir: &TempDir) -> String {
    let db = dir.0.join("clinic.db").display().to_string();
    ok(&db, &["init", "--facility", "さくら内科"]);
    ok(&db, &["segment", "add", "--name", "院内LAN", "--purpose", "clinical_lan", "--cidr", "192.168.1.0/24"]);
    db
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.0.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// A ledger as a clinic keeps it in Excel and saves as CSV on Japanese Windows: Shift_JIS, a
/// title row, headers in its own words and order, a column mamori has no field for, and one
/// row with a mistyped MAC address.
fn sjis_ledger() -> Vec<u8> {
    let text = "医療情報システム機器台帳 令和8年度,,,,,,\r\n\
                ,,,,,,\r\n\
                端末名,IPアドレス,MACアドレス,設置場所,種別,OS,導入日\r\n\
                受付PC,192.168.1.21,00-1A-2B-3C-4D-5E,受付,PC,Windows 10 Pro,2019/4/1\r\n\
                電子カルテサーバ,192.168.1.10,00:15:5D:01:02:03,サーバ室,サーバ,Windows Server 2012 R2,2016/4/1\r\n\
                診察室1PC,192.168.1.31,00:1A:2B:3C:4D:ZZ,診察室1,PC,Windows 11 Pro,2024/4/1\r\n\
                複合機,192.168.1.50,,事務室,複合機,,2020/10/1\r\n";
    let (bytes, _, bad) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!bad);
    bytes.into_owned()
}

/// An nmap scan of the same network: the reception PC (by MAC, on a new address), the printer
/// (by IP), and a device nobody registered.
fn scan_xml() -> String {
    r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV 192.168.1.0/24" start="1764036000" version="7.94" xmloutputversion="1.05">
<host><status state="up" reason="arp-response"/>
<address addr="192.168.1.99" addrtype="ipv4"/><address addr="00:1A:2B:3C:4D:5E" addrtype="mac" vendor="Dell"/>
<hostnames><hostname name="uketsuke-pc.clinic.local" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="3389"><state state="open" reason="syn-ack"/><service name="ms-wbt-server" product="Microsoft Terminal Services"/></port></ports>
</host>
<host><status state="up" reason="arp-response"/>
<address addr="192.168.1.50" addrtype="ipv4"/><address addr="00:80:92:11:22:33" addrtype="mac" vendor="Silex Technology"/>
</host>
<host><status state="up" reason="arp-response"/>
<address addr="192.168.1.200" addrtype="ipv4"/><address addr="B8:27:EB:12:34:56" addrtype="mac"/>
<hostnames><hostname name="raspberrypi" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="7.9p1"/></port></ports>
</host>
<host><status state="down" reason="no-response"/><address addr="192.168.1.201" addrtype="ipv4"/></host>
<runstats><finished time="1764036100" elapsed="100" exit="success"/><hosts up="3" down="1" total="4"/></runstats>
</nmaprun>
"#
    .to_owned()
}

#[test]
fn ledger_scan_queue_and_export_round_trip() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    let ledger = write(&dir, "台帳.csv", &sjis_ledger());

    // Dry run: the preview, nothing written.
    let c = counts(&db, &ledger, &["--dry-run"]);
    assert_eq!((c["created"].as_u64(), c["rejected"].as_u64()), (Some(3), Some(1)), "{c}");
    assert_eq!(json(&db, &["asset", "list", "--format", "json"]).as_array().unwrap().len(), 0);

    // The text summary names the bad row by file, line and column.
    let out = ok(&db, &["asset", "import", ledger.to_str().unwrap()]);
    assert!(out.contains("新規 3 件") && out.contains("読み込めない行 1 件"), "{out}");
    assert!(out.contains("台帳.csv:6") && out.contains("MACアドレス"), "{out}");
    assert!(out.contains("導入日 → 追加項目として保持"), "{out}");
    let assets = json(&db, &["asset", "list", "--format", "json"]);
    let server = assets.as_array().unwrap().iter().find(|a| a["name"] == "電子カルテサーバ").unwrap();
    assert_eq!(server["kind"], "server");
    assert_eq!(server["attributes"]["導入日"], "2016/4/1");
    assert_eq!(server["interfaces"][0]["segment_id"], 1, "segment from the CIDR");

    // The scan: PC matched by MAC (address updated), printer by IP, one unregistered device.
    let scan = write(&dir, "scan.xml", scan_xml().as_bytes());
    let c = counts(&db, &scan, &[]);
    assert_eq!(c["observations"], 3, "{c}");
    assert_eq!((c["created"].as_u64(), c["updated"].as_u64(), c["flagged"].as_u64()), (Some(0), Some(2), Some(1)), "{c}");
    let pc = assets.as_array().unwrap().iter().find(|a| a["name"] == "受付PC").unwrap()["id"].as_i64().unwrap();
    let shown = json(&db, &["asset", "show", &pc.to_string(), "--format", "json"]);
    assert_eq!(shown["interfaces"][0]["ip"], "192.168.1.99", "{shown}");
    assert_eq!(shown["attributes"]["nmap.open_ports"].as_str().map(|s| s.contains("3389/tcp")), Some(true), "{shown}");
    let sources = json(&db, &["asset", "sources", &pc.to_string(), "--format", "json"]);
    let reasons: Vec<&str> = sources.as_array().unwrap().iter().map(|s| s["match_reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, vec!["mac", "new"], "newest first");

    // The unregistered device: the Raspberry Pi, maker from the MAC's OUI.
    let queue = json(&db, &["unregistered", "list", "--format", "json"]);
    assert_eq!(queue.as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue[0]["hostname"], "raspberrypi");
    assert!(queue[0]["mac_vendor"].as_str().unwrap().contains("Raspberry"), "{queue}");
    let id = queue[0]["id"].as_i64().unwrap().to_string();
    let out = ok(&db, &["unregistered", "adopt", &id, "--name", "検査室ラズパイ", "--kind", "iot"]);
    assert!(out.contains("検査室ラズパイ"), "{out}");
    assert!(json(&db, &["unregistered", "list", "--format", "json"]).as_array().unwrap().is_empty());
    // Scanning again: everything is known now.
    let c = counts(&db, &scan, &[]);
    assert_eq!((c["flagged"].as_u64(), c["updated"].as_u64()), (Some(0), Some(0)), "{c}");

    // The export re-imported changes nothing, in CSV and in xlsx.
    let csv = dir.0.join("export.csv");
    ok(&db, &["asset", "export", "--format", "csv", "-o", csv.to_str().unwrap()]);
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("機器名") && text.contains("検査室ラズパイ"), "{text}");
    let c = counts(&db, &csv, &[]);
    assert_eq!((c["unchanged"].as_u64(), c["updated"].as_u64(), c["created"].as_u64()), (Some(4), Some(0), Some(0)), "{c}");
    let xlsx = dir.0.join("export.xlsx");
    ok(&db, &["asset", "export", "--format", "xlsx", "-o", xlsx.to_str().unwrap()]);
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));
    let c = counts(&db, &xlsx, &[]);
    assert_eq!((c["unchanged"].as_u64(), c["updated"].as_u64(), c["created"].as_u64()), (Some(4), Some(0), Some(0)), "{c}");
    let j = json(&db, &["asset", "export", "--format", "json"]);
    assert_eq!(j.as_array().unwrap().len(), 4);

    // Each import is one audit entry; the chain holds.
    let audit = ok(&db, &["audit", "list", "--limit", "100"]);
    assert!(audit.matches("asset.import").count() >= 5, "{audit}");
    assert!(audit.contains("asset.export"), "who took a copy of the ledger is recorded: {audit}");
    ok(&db, &["audit", "verify"]);
}

#[test]
fn column_mapping_override_and_template() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    // "場所" would be the location; the clinic uses it for the room number and wants it kept
    // as an extra field; "担当" is the owner in this clinic's words.
    let ledger = write(&dir, "ledger.csv", "機器名,IPアドレス,場所,担当\n受付PC,192.168.1.21,R-101,山田\n".as_bytes());
    let plans = json(&db, &["asset", "import", ledger.to_str().unwrap(), "--map", "場所=attribute", "--map", "担当=owner", "--format", "json"]);
    assert_eq!(plans[0]["counts"]["created"], 1, "{plans}");
    let a = &json(&db, &["asset", "list", "--format", "json"])[0];
    assert_eq!(a["owner"], "山田");
    assert_eq!(a["location"], Value::Null);
    assert_eq!(a["attributes"]["場所"], "R-101");
    let err = fails(&db, &["asset", "import", ledger.to_str().unwrap(), "--map", "場所=nonsense"]);
    assert!(err.contains("場所=nonsense"), "{err}");

    // The template is an xlsx a facility fills in; as it comes, it imports its two examples
    // (into a new facility: here its 受付PC would match the one just imported, by name).
    let template = dir.0.join("template.xlsx");
    ok(&db, &["asset", "template", "-o", template.to_str().unwrap()]);
    let c = counts(&db, &template, &["--dry-run"]);
    assert_eq!((c["created"].as_u64(), c["updated"].as_u64()), (Some(1), Some(1)), "{c}");
    let fresh = dir.0.join("fresh.db").display().to_string();
    ok(&fresh, &["init", "--facility", "新規開業クリニック"]);
    let c = counts(&fresh, &template, &["--dry-run"]);
    assert_eq!(c["created"], 2, "{c}");
}

#[test]
fn shared_data_files_import_or_are_refused_clearly() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    for (file, expect_observations) in [
        ("nmap/1_hosts_down.xml", Some(1)),
        ("nmap/2_hosts.xml", None),
        ("nmap/full_sudo6.xml", None),
        ("nmap/os_scan6.xml", None),
        ("nmap/dionaea_scan.xml", None),
        ("nmap/1_os_banner_scripts.xml", None),
        ("dhcp/debian7.leases", None),
        ("dhcp/pfsense.leases", None),
        ("dhcp/dhcpd6-4.2.4.leases", None),
        ("cyclonedx/hbom-pcie-sata-adapter.json", Some(1)),
        ("cyclonedx/sbom-keycloak-10.0.2.json", Some(1)),
    ] {
        let path = PathBuf::from(DATA).join(file);
        let c = counts(&db, &path, &["--dry-run"]);
        match expect_observations {
            Some(n) => assert_eq!(c["observations"], n, "{file}: {c}"),
            None => assert!(c["observations"].as_u64().unwrap() > 0, "{file}: {c}"),
        }
        assert_eq!(c["rejected"], 0, "{file}: {c}");
    }
    // A scan in which every host was down is a valid file with nothing in it: not an error.
    let down = write(
        &dir,
        "down.xml",
        br#"<?xml version="1.0"?><nmaprun scanner="nmap" start="1764036000" version="7.94">
<host><status state="down" reason="no-response"/><address addr="192.168.1.9" addrtype="ipv4"/></host>
<runstats><finished time="1764036010"/><hosts up="0" down="1" total="1"/></runstats></nmaprun>"#,
    );
    let c = counts(&db, &down, &[]);
    assert_eq!((c["observations"].as_u64(), c["flagged"].as_u64()), (Some(0), Some(0)), "{c}");
    // Hostile XML: refused with the file and line named, nothing written, exit code 1.
    for file in ["nmap/defused_et_included.xml", "nmap/defused_et_local_includer.xml"] {
        let path = PathBuf::from(DATA).join(file);
        let o = mamori(&db, &["asset", "import", path.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{file}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(file) && (err.contains("refused") || err.contains("not nmap XML")), "{file}: {err}");
    }
    assert!(json(&db, &["unregistered", "list", "--all", "--format", "json"]).as_array().unwrap().is_empty());
}

#[test]
fn unreadable_files_fail_before_anything_is_written() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    let good = write(&dir, "good.csv", "機器名,IPアドレス\n受付PC,192.168.1.21\n".as_bytes());
    let garbage = write(&dir, "garbage.bin", &[0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254, 0, 0]);
    let err = fails(&db, &["asset", "import", good.to_str().unwrap(), garbage.to_str().unwrap()]);
    assert!(err.contains("garbage.bin"), "{err}");
    assert!(json(&db, &["asset", "list", "--format", "json"]).as_array().unwrap().is_empty(), "nothing written");
    let missing = dir.0.join("missing.csv");
    let err = fails(&db, &["asset", "import", missing.to_str().unwrap()]);
    assert!(err.contains("missing.csv"), "{err}");
    // A corrupt xlsx.
    let bad = write(&dir, "broken.xlsx", b"PK\x03\x04 this is not a workbook");
    let err = fails(&db, &["asset", "import", bad.to_str().unwrap()]);
    assert!(err.contains("broken.xlsx"), "{err}");
}

#[test]
fn neighbour_tables_from_japanese_windows_and_stocktake() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("demo.db").display().to_string();
    ok(&db, &["demo"]);
    let arp = "\r\nインターフェイス: 192.168.10.21 --- 0xb\r\n  インターネット アドレス 物理アドレス          種類\r\n  \
               192.168.10.1          00-09-0f-c0-47-12     動的\r\n  \
               192.168.10.77         3c-22-fb-aa-bb-cc     動的\r\n  \
               192.168.10.88         da-a1-19-00-00-01     動的\r\n  \
               192.168.10.255        ff-ff-ff-ff-ff-ff     静的\r\n";
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(arp);
    let file = write(&dir, "arp.txt", &bytes);
    let c = counts(&db, &file, &[]);
    assert_eq!(c["observations"], 3, "{c}");
    assert_eq!((c["flagged"].as_u64(), c["flagged_new"].as_u64()), (Some(2), Some(2)), "{c}");
    let queue = json(&db, &["unregistered", "list", "--format", "json"]);
    let random: Vec<bool> = queue.as_array().unwrap().iter().map(|d| d["mac"].as_str().unwrap().starts_with("da:")).collect();
    assert_eq!(random.iter().filter(|r| **r).count(), 1, "{queue}");
    let text = ok(&db, &["unregistered", "list"]);
    assert!(text.contains("ランダム化MAC"), "{text}");
    let phone = queue.as_array().unwrap().iter().find(|d| d["mac"].as_str().unwrap().starts_with("da:")).unwrap();
    ok(&db, &["unregistered", "reject", &phone["id"].to_string(), "--reason", "職員の私物"]);

    // Stocktake on the demo facility: the Windows Server 2012 R2 image server is past support,
    // the unregistered device is counted, and the review is recorded in the audit log.
    let r = json(&db, &["stocktake", "--date", "2026-11-25", "--format", "json"]);
    assert!(r["recorded_id"].as_i64().is_some(), "{r}");
    let eos: Vec<&str> = r["eos"].as_array().unwrap().iter().map(|e| e["product"].as_str().unwrap()).collect();
    assert!(eos.iter().any(|p| p.contains("2012")), "{eos:?}");
    assert_eq!(r["summary"]["unregistered"], 1, "{r}");
    assert!(r["accounts"].as_array().unwrap().iter().any(|a| a["reason"] == "leaver"), "{r}");
    let text = ok(&db, &["stocktake", "--date", "2026-11-25", "--no-record"]);
    assert!(text.contains("サポートが終了") && text.contains("記録していません"), "{text}");
    assert!(ok(&db, &["audit", "list"]).contains("stocktake.record"));
}

#[test]
fn demo_facility_export_reimports_as_no_op_in_every_layout() {
    let dir = TempDir::new().unwrap();
    let db = dir.0.join("demo.db").display().to_string();
    ok(&db, &["demo"]);
    let before = ok(&db, &["asset", "list", "--format", "json"]);
    for (lang, format, name) in [("ja", "csv", "ja.csv"), ("ja", "xlsx", "ja.xlsx"), ("en", "csv", "en.csv"), ("en", "xlsx", "en.xlsx")] {
        let path = dir.0.join(name);
        ok(&db, &["--lang", lang, "asset", "export", "--format", format, "-o", path.to_str().unwrap()]);
        let c = counts(&db, &path, &[]);
        assert_eq!(
            (c["unchanged"].as_u64(), c["updated"].as_u64(), c["created"].as_u64(), c["rejected"].as_u64(), c["conflicts"].as_u64()),
            (Some(36), Some(0), Some(0), Some(0), Some(0)),
            "{name}: {c}"
        );
    }
    let after = ok(&db, &["asset", "list", "--format", "json"]);
    let strip = |s: &str| -> Value {
        let mut v: Value = serde_json::from_str(s).unwrap();
        for a in v.as_array_mut().unwrap() {
            a.as_object_mut().unwrap().remove("updated_at");
        }
        v
    };
    assert_eq!(strip(&before), strip(&after), "the inventory is exactly as it was");
}

#[test]
fn kea_dnsmasq_and_sbom_through_the_cli() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    let kea = write(
        &dir,
        "kea-leases4.csv",
        b"address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n\
          192.168.1.40,00:1b:21:aa:bb:01,01:00:1b:21:aa:bb:01,3600,1764039600,1,0,0,kensa-pc,0,,0\n\
          192.168.1.41,00:1b:21:aa:bb:02,,3600,1764039600,1,0,0,old-pc,0,,0\n\
          192.168.1.41,00:1b:21:aa:bb:02,,0,1764039600,1,0,0,old-pc,2,,0\n",
    );
    let c = counts(&db, &kea, &[]);
    assert_eq!((c["observations"].as_u64(), c["flagged_new"].as_u64()), (Some(1), Some(1)), "reclaimed lease dropped: {c}");
    let dnsmasq = write(
        &dir,
        "dnsmasq.leases",
        b"1764039600 00:1b:21:aa:bb:01 192.168.1.40 kensa-pc 01:00:1b:21:aa:bb:01\n\
          1764039600 f0:18:98:12:34:56 192.168.1.42 * *\n",
    );
    let c = counts(&db, &dnsmasq, &[]);
    // The first is the device Kea already reported: seen again, not new.
    assert_eq!((c["observations"].as_u64(), c["flagged"].as_u64(), c["flagged_new"].as_u64()), (Some(2), Some(2), Some(1)), "{c}");
    let queue = json(&db, &["unregistered", "list", "--format", "json"]);
    let kensa = queue.as_array().unwrap().iter().find(|d| d["hostname"] == "kensa-pc").unwrap();
    let sources: Vec<&str> = kensa["sources"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(sources, vec!["kea-leases", "dnsmasq-leases"], "{kensa}");

    // An SBOM from a device maker becomes the software list of the asset it describes.
    ok(&db, &["asset", "add", "--name", "認証サーバ", "--kind", "server"]);
    let id = json(&db, &["asset", "list", "--format", "json"])[0]["id"].as_i64().unwrap().to_string();
    let sbom = PathBuf::from(DATA).join("cyclonedx/sbom-keycloak-10.0.2.json");
    let plans = json(&db, &["asset", "import", sbom.to_str().unwrap(), "--asset", &id, "--format", "json"]);
    assert_eq!(plans[0]["counts"]["updated"], 1, "{}", plans[0]["counts"]);
    assert_eq!(plans[0]["updated"][0]["reason"], "target");
    let a = json(&db, &["asset", "show", &id, "--format", "json"]);
    assert_eq!(a["software"].as_array().unwrap().len(), 904);
    let purls = a["software"].as_array().unwrap().iter().filter(|s| s["purl"].as_str().is_some_and(|p| p.starts_with("pkg:maven/"))).count();
    assert!(purls > 800, "package URLs are kept: {purls}");
    assert_eq!(a["name"], "認証サーバ", "an SBOM does not rename the asset");
    // A VEX document has no components: refused, clearly.
    let vex = PathBuf::from(DATA).join("cyclonedx/cisa-case1-vex-affected.json");
    let err = fails(&db, &["asset", "import", vex.to_str().unwrap()]);
    assert!(err.contains("VEX"), "{err}");
}

/// Ctrl-C during a long import: nothing is written, the database stays sound.
#[test]
fn interrupting_a_long_import_writes_nothing() {
    let dir = TempDir::new().unwrap();
    let db = setup(&dir);
    let mut text = String::from("機器名,IPアドレス,MACアドレス,設置場所\n");
    for i in 0..150_000u32 {
        text.push_str(&format!(
            "端末{i},10.{}.{}.{},00:1b:21:{:02x}:{:02x}:{:02x},{}階\n",
            i >> 16, (i >> 8) & 255, i & 255, i >> 16, (i >> 8) & 255, i & 255, i % 9 + 1
        ));
    }
    let file = write(&dir, "big.csv", text.as_bytes());
    let child = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .args(["--db", &db, "asset", "import", file.to_str().unwrap(), "--format", "json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    // SIGINT, as Ctrl-C sends it.
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    // Whether it was still reading the file or already writing: cancelled, and said so.
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("中止しました"), "{err}");
    assert!(json(&db, &["asset", "list", "--format", "json"]).as_array().unwrap().is_empty());
    assert!(json(&db, &["unregistered", "list", "--all", "--format", "json"]).as_array().unwrap().is_empty());
    ok(&db, &["audit", "verify"]);
    ok(&db, &["healthcheck"]);
}
