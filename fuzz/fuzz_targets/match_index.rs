//! The matching index (`mamori_vuln::index`): for any configuration list (the first line, NVD
//! JSON as mamori stores it) and device names (the other lines), matching from the index entries
//! gives exactly what matching the configuration tree gives, or leaves the CVE to its tree; and
//! any stored entry text, however damaged, gives a result or "use the tree", never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_vuln::cpe::Cpe;
use mamori_vuln::index;
use mamori_vuln::matcher::{Compiled, DeviceCpe, Inventory};
use mamori_vuln::model::Configuration;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let devices: Vec<DeviceCpe> = lines.filter_map(|l| Cpe::parse(l).ok()).enumerate().map(|(i, c)| DeviceCpe::new(c, i % 3 != 2)).collect();
    let mut sets: Vec<Vec<DeviceCpe>> = devices.iter().map(|d| vec![d.clone()]).collect();
    sets.push(devices);
    let inventory = Inventory::new(sets);
    let mut scratch = inventory.scratch();
    let groups: Vec<u32> = inventory.products().iter().map(|p| p.2).collect();
    // Damaged entry text for every product.
    let parts: Vec<(u32, &str)> = groups.iter().map(|g| (*g, first)).collect();
    let mut found = Vec::new();
    if inventory.evaluate_indexed(&parts, &mut scratch, &mut found).is_err() {
        assert!(found.is_empty(), "nothing is recorded when the tree must decide");
    }
    let Ok(configs) = serde_json::from_str::<Vec<Configuration>>(first) else { return };
    let entries: Vec<(u32, String)> = index::entries(&configs).into_iter().filter_map(|(v, p, e)| Some((inventory.product(&v, &p)?, e))).collect();
    let parts: Vec<(u32, &str)> = entries.iter().map(|(g, e)| (*g, e.as_str())).collect();
    let compiled = Compiled::new(configs);
    let candidates: Vec<u32> = parts.iter().map(|p| p.0).collect();
    let mut from_tree = Vec::new();
    inventory.evaluate(&compiled, &candidates, &mut scratch, &mut from_tree);
    let mut from_index = Vec::new();
    if inventory.evaluate_indexed(&parts, &mut scratch, &mut from_index).is_ok() {
        assert_eq!(from_index, from_tree);
    }
});
