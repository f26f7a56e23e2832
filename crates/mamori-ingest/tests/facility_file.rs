//! The facility file: the demo in this form, round trips, errors with line numbers, and the
//! JSON Schema in `content/facility/` agreeing with the parser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use mamori_ingest::IngestError;
use mamori_ingest::facility_file::{parse, write};
use mamori_model::network::Zone;
use serde_json::Value;

const DEMO: &str = include_str!("../../../content/demo/minato-clinic.facility.toml");
const SCHEMA: &str = include_str!("../../../content/facility/facility.schema.json");
const DEMO_EXPORT: &str = include_str!("../../../content/demo/minato-clinic.json");

#[test]
fn the_demo_facility_file_describes_the_demo_facility() {
    let doc = parse("minato-clinic.facility.toml", DEMO.as_bytes()).unwrap();
    let export: Value = serde_json::from_str(DEMO_EXPORT).unwrap();
    for (key, n) in [
        ("segments", doc.segments.len()),
        ("assets", doc.assets.len()),
        ("vendors", doc.vendors.len()),
        ("external_connections", doc.connections.len()),
        ("policies", doc.policies.len()),
        ("accounts", doc.accounts.len()),
        ("backups", doc.backups.len()),
        ("contracts", doc.contracts.len()),
        ("contacts", doc.contacts.len()),
    ] {
        assert_eq!(export[key].as_array().unwrap().len(), n, "{key}");
    }
    // References by name came back as the same structure: the vendor line lands on the RTX1210
    // and policy 6 lets it into the clinic LAN.
    let rtx = doc.assets.iter().find(|a| a.data.name.contains("RTX1210")).unwrap().id;
    let line = doc.connections.iter().find(|c| c.asset_id == Some(rtx) && c.always_on).unwrap();
    let lan = doc.segments.iter().find(|s| s.name == "院内LAN").unwrap().id;
    assert!(doc.policies.iter().any(|p| p.from == Zone::Connection(line.id) && p.to == Zone::Segment(lan)));
    let emr = doc.assets.iter().find(|a| a.data.name == "電子カルテサーバ").unwrap();
    assert_eq!(emr.role(), Some(mamori_model::network::SystemRole::Emr));
    assert!(emr.services().unwrap().iter().any(|s| s.port == 3389));
}

#[test]
fn the_committed_demo_file_is_what_the_writer_writes() {
    let doc = parse("demo", DEMO.as_bytes()).unwrap();
    assert_eq!(write(&doc).unwrap(), DEMO, "content/demo/minato-clinic.facility.toml is stale: regenerate it with `mamori facility export`");
}

fn err_of(text: &str) -> (u64, String, String) {
    match parse("f.toml", text.as_bytes()) {
        Err(IngestError::Invalid { line, field, reason, .. }) => (line, field, reason),
        other => panic!("expected an error, got {other:?}"),
    }
}

const SMALL: &str = r#"format = "mamori-facility"
version = 1

[facility]
name = "テスト診療所"
kind = "clinic"

[[segments]]
name = "院内LAN"
purpose = "clinical_lan"
cidr = "192.168.1.0/24"

[[assets]]
name = "電子カルテサーバ"
kind = "server"
role = "emr"
services = ["3389/tcp rdp"]

[[assets.interfaces]]
segment = "院内LAN"
ip = "192.168.1.10"

[[connections]]
name = "保守回線"
kind = "vendor_remote"
always_on = true
authentication = "password"
asset = "電子カルテサーバ"

[[policies]]
from = "connection:保守回線"
to = "segment:院内LAN"
action = "allow"
"#;

#[test]
fn errors_name_the_line_and_the_field() {
    assert!(parse("f.toml", SMALL.as_bytes()).is_ok());
    let (line, field, _) = err_of(&SMALL.replace("segment = \"院内LAN\"", "segment = \"院内LAN2\""));
    assert_eq!((line, field.as_str()), (20, "assets[1].interfaces[1].segment"));
    let (line, _, reason) = err_of(&SMALL.replace("kind = \"server\"", "kind = \"firewall\""));
    assert_eq!(line, 15);
    assert!(reason.contains("firewall"), "{reason}");
    let (line, _, reason) = err_of(&SMALL.replace("always_on = true", "always_on = \"yes\""));
    assert_eq!(line, 26, "{reason}");
    let (line, _, reason) = err_of(&SMALL.replace("cidr = \"192.168.1.0/24\"", "cidr = \"192.168.1.0/24\"\ncolour = \"red\""));
    assert_eq!(line, 12);
    assert!(reason.contains("colour"), "{reason}");
    let (line, field, _) = err_of(&SMALL.replace("to = \"segment:院内LAN\"", "to = \"room:1\""));
    assert_eq!((line, field.as_str()), (32, "policies[1].to"));
    let (line, field, _) = err_of(&SMALL.replace("3389/tcp rdp", "remote desktop"));
    assert_eq!((line, field.as_str()), (17, "assets[1].services"));
    let (_, field, reason) = err_of(&SMALL.replace("name = \"保守回線\"", "name = \"電子カルテサーバ\"").replace("connection:保守回線", "connection:電子カルテサーバ").replace("[[connections]]", "[[assets]]\nname = \"電子カルテサーバ\"\nkind = \"pc\"\n\n[[connections]]"));
    assert!(field.starts_with("assets[2].name") && reason.contains("twice"), "{field}: {reason}");
    let (_, field, _) = err_of(&SMALL.replace("version = 1", "version = 9"));
    assert_eq!(field, "version");
    let (line, field, _) = err_of("format = \"mamori-facility\"\nversion = 1\n[facility]\nname = \"x\"\nkind = \"clinic\"\n[[segments]]\nname = \"a\"\npurpose = \"other\"\ncidr = \"10.0.0.0/33\"\n");
    assert_eq!((line, field.as_str()), (9, "segments[1].cidr"));
    // Not UTF-8 (a Shift_JIS file): refused with a line, not garbled.
    let mut sjis = b"format = \"mamori-facility\"\nversion = 1\n[facility]\nname = \"".to_vec();
    sjis.extend([0x83, 0x65, 0x83, 0x58, 0x83, 0x67]);
    sjis.extend(b"\"\nkind = \"clinic\"\n");
    let (line, field, _) = match parse("f.toml", &sjis) {
        Err(IngestError::Invalid { line, field, reason, .. }) => (line, field, reason),
        other => panic!("{other:?}"),
    };
    assert_eq!((line, field.as_str()), (4, "file"));
}

// ---- The schema agrees with the parser ----

/// A small JSON Schema validator for the keywords the facility schema uses: type, properties,
/// required, additionalProperties, items, enum, const, minLength. (`pattern` is left to the
/// parser, whose own checks are tested above.)
fn validate(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(t) = schema.get("type").and_then(Value::as_str) {
        let ok = match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: not {t}"));
            return;
        }
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errors.push(format!("{path}: not {c}"));
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array)
        && !e.contains(v)
    {
        errors.push(format!("{path}: {v} not in enum"));
    }
    if let (Some(n), Some(s)) = (schema.get("minLength").and_then(Value::as_u64), v.as_str())
        && (s.chars().count() as u64) < n
    {
        errors.push(format!("{path}: too short"));
    }
    if let Some(o) = v.as_object() {
        let props = schema.get("properties").and_then(Value::as_object);
        for r in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            if !o.contains_key(r.as_str().unwrap_or_default()) {
                errors.push(format!("{path}: missing {r}"));
            }
        }
        for (k, x) in o {
            match props.and_then(|p| p.get(k)) {
                Some(s) => validate(s, x, &format!("{path}.{k}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{path}: unknown {k}")),
                    Some(s @ Value::Object(_)) => validate(s, x, &format!("{path}.{k}"), errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            validate(items, x, &format!("{path}[{i}]"), errors);
        }
    }
}

fn schema_errors(toml_text: &str) -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let data: Value = toml::from_str(toml_text).unwrap();
    let mut errors = Vec::new();
    validate(&schema, &data, "$", &mut errors);
    errors
}

#[test]
fn the_schema_accepts_what_the_parser_accepts_and_refuses_what_it_refuses() {
    assert_eq!(schema_errors(DEMO), Vec::<String>::new());
    assert_eq!(schema_errors(SMALL), Vec::<String>::new());
    // Each change breaks the file's shape: both must refuse it.
    let broken = [
        SMALL.replace("kind = \"server\"", "kind = \"firewall\""),
        SMALL.replace("always_on = true", "always_on = \"yes\""),
        SMALL.replace("cidr = \"192.168.1.0/24\"", "cidr = \"192.168.1.0/24\"\ncolour = \"red\""),
        SMALL.replace("authentication = \"password\"\n", ""),
        SMALL.replace("action = \"allow\"", "action = \"permit\""),
        SMALL.replace("role = \"emr\"", "role = \"billing\""),
        SMALL.replace("format = \"mamori-facility\"", "format = \"other\""),
        SMALL.replace("kind = \"clinic\"", "kind = \"clinic\"\nbeds = \"ten\""),
        SMALL.replace("[[segments]]\nname = \"院内LAN\"\npurpose = \"clinical_lan\"", "[[segments]]\nname = \"院内LAN\""),
    ];
    for (i, b) in broken.iter().enumerate() {
        assert!(parse("f.toml", b.as_bytes()).is_err(), "case {i}: the parser accepted it");
        assert!(!schema_errors(b).is_empty(), "case {i}: the schema accepted it");
    }
    // Optional parts may be left out in both.
    let minimal = "format = \"mamori-facility\"\nversion = 1\n[facility]\nname = \"x\"\nkind = \"clinic\"\n";
    assert!(parse("f.toml", minimal.as_bytes()).is_ok());
    assert_eq!(schema_errors(minimal), Vec::<String>::new());
}
