//! CycloneDX VEX (`mamori_vuln::vex`): any bytes give a document or an error, never a panic;
//! enumerated values of what is read are the spec's; writing what was read and reading it
//! back gives the same components and statements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::vex::{JUSTIFICATIONS, RESPONSES, VERSION_STATUSES, VexExport, VexStatement, read_cyclonedx_vex, write_cyclonedx_vex};

/// The statements with rating scores checked apart: float text may not survive a parse and a
/// print bit for bit.
fn without_scores(a: &[VexStatement], b: &[VexStatement]) -> (Vec<VexStatement>, Vec<VexStatement>) {
    assert_eq!(a.len(), b.len());
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        assert_eq!(x.ratings.len(), y.ratings.len());
        for (r, s) in x.ratings.iter_mut().zip(y.ratings.iter_mut()) {
            assert!((r.base_score - s.base_score).abs() <= 1e-9 * r.base_score.abs().max(1.0));
            r.base_score = 0.0;
            s.base_score = 0.0;
        }
    }
    (a, b)
}

fuzz_target!(|data: &[u8]| {
    let doc = match read_cyclonedx_vex("fuzz.cdx.json", data) {
        Ok(doc) => doc,
        Err(e) => {
            assert_eq!(e.file(), "fuzz.cdx.json");
            return;
        }
    };
    for s in &doc.statements {
        assert!(!s.id.trim().is_empty() && !s.bom_ref.trim().is_empty());
        assert!(s.justification.as_deref().is_none_or(|j| JUSTIFICATIONS.contains(&j)));
        assert!(s.responses.iter().all(|r| RESPONSES.contains(&r.as_str())));
        assert!(s.versions.iter().all(|(_, st)| VERSION_STATUSES.contains(&st.as_str())));
    }
    // Round trip; BOM-Links resolve against the serial number, so keep it when there is one.
    let Some(serial) = doc.serial_number.clone() else { return };
    let export = VexExport {
        serial_number: serial,
        version: doc.version.unwrap_or(1),
        timestamp: doc.timestamp.clone().unwrap_or_default(),
        facility: "fuzz".into(),
        components: doc.components.clone(),
        statements: doc.statements.clone(),
    };
    let text = write_cyclonedx_vex(&export).to_string();
    match read_cyclonedx_vex("again.cdx.json", text.as_bytes()) {
        Ok(again) => {
            assert_eq!(again.components, doc.components);
            let (a, b) = without_scores(&again.statements, &doc.statements);
            assert_eq!(a, b);
        }
        Err(e) => panic!("the written document does not read back: {e}"),
    }
});
