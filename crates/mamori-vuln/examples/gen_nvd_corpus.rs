//! Synthetic NVD CVE API 2.0 corpus at today's size, for `mamori feed import` / matching benchmarks.
//!
//! `cargo run --release -p mamori-vuln --example gen_nvd_corpus -- --out DIR [--cves 400000]
//!  [--seed 1] [--modified-percent 1] [--assets 10000] [--gzip]`
//!
//! Writes `DIR/nvdcve-2.0-YYYY.json[.gz]` (2002–2026), `DIR/modified/nvdcve-2.0-modified.json[.gz]`,
//! `DIR/assets.csv` and `DIR/summary.json`. Every CVE is generated from its own PRNG stream
//! (seed, index), so a record can be re-generated for the modified feed without keeping it, and
//! the output is byte-identical for a seed. See `bench/nvd-corpus.md`.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::collections::HashSet;
use std::path::PathBuf;

use flate2::write::GzEncoder;
use serde::Serialize;

type Res<T> = Result<T, Box<dyn Error>>;

/// splitmix64: tiny, fast, deterministic.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng { Rng(seed ^ 0x6A09_E667_F3BC_C909) }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (self.0 ^ (self.0 >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (0 when n is 0).
    fn below(&mut self, n: u64) -> u64 { ((u128::from(self.next()) * u128::from(n)) >> 64) as u64 }
    fn range(&mut self, lo: u64, hi_incl: u64) -> u64 { lo + self.below(hi_incl.saturating_sub(lo) + 1) }
    fn unit(&mut self) -> f64 { (self.next() >> 11) as f64 / (1u64 << 53) as f64 }
    fn chance(&mut self, p: f64) -> bool { self.unit() < p }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> Option<&'a T> { xs.get(self.below(xs.len() as u64) as usize) }
    /// Index drawn with the given weights.
    fn weighted(&mut self, w: impl Iterator<Item = u32> + Clone) -> usize {
        let mut x = self.below(w.clone().map(u64::from).sum());
        w.take_while(|&wi| x.checked_sub(u64::from(wi)).map(|r| x = r).is_some()).count()
    }
}

/// FNV-1a, for ids derived from content, formatted like NVD's upper-case UUIDs.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3))
}

fn uuid(a: u64, b: u64) -> String {
    format!("{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}", a >> 32, (a >> 16) & 0xFFFF, a & 0xFFF, 0x8000 | ((b >> 48) & 0x3FFF), b & 0xFFFF_FFFF_FFFF)
}

const DAY: i64 = 86_400_000;

const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y.div_euclid(400), y.rem_euclid(400));
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// NVD timestamp `2024-02-09T09:15:08.087` (UTC, no zone) from ms since the epoch (civil_from_days).
fn ts(ms: i64) -> String {
    let z = ms.div_euclid(DAY) + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let (d, m) = (doy - (153 * mp + 2) / 5 + 1, if mp < 10 { mp + 3 } else { mp - 9 });
    let (y, t) = (yoe + era * 400 + i64::from(m <= 2), ms.rem_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}", t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000)
}

/// Output file, plain or gzip, counting the uncompressed bytes.
/// (serde_json writes in small pieces: the BufWriter sits in front of the encoder.)
struct Out { w: Result<BufWriter<File>, BufWriter<GzEncoder<File>>>, raw: u64, path: PathBuf }

impl Out {
    fn create(path: PathBuf, gzip: bool) -> Res<Out> {
        let f = File::create(&path)?;
        let w = if gzip { Err(BufWriter::with_capacity(1 << 20, GzEncoder::new(f, flate2::Compression::fast()))) } else { Ok(BufWriter::with_capacity(1 << 20, f)) };
        Ok(Out { w, raw: 0, path })
    }
    /// Flushes and closes; returns the size on disk.
    fn finish(self) -> Res<u64> {
        match self.w { Ok(mut f) => f.flush()?, Err(g) => g.into_inner().map_err(|e| e.into_error())?.finish().map(drop)? }
        Ok(std::fs::metadata(&self.path)?.len())
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = match &mut self.w { Ok(w) => w.write(buf)?, Err(w) => w.write(buf)? };
        self.raw += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> { self.w.as_mut().map_or_else(Write::flush, Write::flush) }
}

/// Version schemes: `Dot` 7.2.4 / 10.0.19045.3803, `Two` Zyxel 5.36 / YAMAHA 14.01.42, `Cisco` 15.2(4)m3 (branch
/// `15.2(4)m`, patch 3), `Junos` 21.4 + update r3-s5, `Sp` Office 2016 + update sp1, `Exact` (the branch is the version).
#[derive(Clone, Copy, PartialEq)]
enum Scheme { Dot, Two, Cisco, Junos, Sp, Exact }

/// A vendor/product pair: versions are (branch, patch lo..=hi); `hw` is the hardware model of a `_firmware` product.
struct Product { part: char, vendor: String, name: String, hw: Option<String>, scheme: Scheme, branches: Vec<String>, lo: u32, hi: u32, cna: String, vid: usize }

impl Product {
    fn version(&self, b: usize, p: u32) -> (String, String) {
        let br = self.branches.get(b % self.branches.len().max(1)).map_or("0", String::as_str);
        let star = || "*".to_string();
        match self.scheme {
            Scheme::Dot => (format!("{br}.{p}"), star()),
            Scheme::Two => (format!("{br}.{p:02}"), star()),
            Scheme::Cisco => (if p == 0 { br.to_string() } else { format!("{br}{p}") }, star()),
            Scheme::Junos if p.is_multiple_of(8) => (br.into(), format!("r{}", p / 8 + 1)),
            Scheme::Junos => (br.into(), format!("r{}-s{}", p / 8 + 1, p % 8)),
            Scheme::Sp => (br.into(), if p == 0 { "-".into() } else { format!("sp{p}") }),
            Scheme::Exact => (br.into(), star()),
        }
    }
    fn ranged(&self) -> bool { matches!(self.scheme, Scheme::Dot | Scheme::Two) }
    /// CPE 2.3 formatted string; `(`/`)` escaped as in NVD (`15.2\(5\)e`).
    fn cpe(&self, part: char, name: &str, version: &str, update: &str) -> String {
        let v = version.replace('(', "\\(").replace(')', "\\)");
        format!("cpe:2.3:{part}:{}:{name}:{v}:{update}:*:*:*:*:*:*", self.vendor)
    }
}

type Head = (char, &'static str, &'static str, &'static str, Scheme, &'static [&'static str], u32, u32, &'static str);
const MS: &str = "secure@microsoft.com";
const ZY: &str = "security@zyxel.com.tw";
const ZYB: &[&str] = &["4", "5"];
/// Real products at the top of the popularity ranking, in rank order.
const HEAD: &[Head] = &[
    ('o', "linux", "linux_kernel", "", Scheme::Dot, &["4.14", "4.19", "5.4", "5.10", "5.15", "6.1", "6.6", "6.12"], 0, 330, "416baaa9-dc9f-4396-8d5f-8c081fb06d67"),
    ('o', "microsoft", "windows_10", "", Scheme::Dot, &["10.0.10240", "10.0.14393", "10.0.17763", "10.0.19044", "10.0.19045"], 1, 6000, MS),
    ('a', "google", "chrome", "", Scheme::Dot, &["118.0.5993", "119.0.6045", "120.0.6099", "121.0.6167", "122.0.6261"], 0, 250, "chrome-cve-admin@google.com"),
    ('o', "microsoft", "windows_server_2019", "", Scheme::Dot, &["10.0.17763"], 1, 6000, MS),
    ('o', "google", "android", "", Scheme::Exact, &["11.0", "12.0", "12.1", "13.0", "14.0"], 0, 0, "security@android.com"),
    ('o', "microsoft", "windows_server_2016", "", Scheme::Dot, &["10.0.14393"], 1, 6600, MS),
    ('o', "apple", "macos", "", Scheme::Dot, &["11.7", "12.7", "13.6", "14.2"], 0, 10, "product-security@apple.com"),
    ('o', "apple", "iphone_os", "", Scheme::Dot, &["15.8", "16.7", "17.2"], 0, 10, "product-security@apple.com"),
    ('a', "oracle", "mysql", "", Scheme::Dot, &["5.7", "8.0"], 0, 40, "secalert_us@oracle.com"),
    ('a', "microsoft", "office", "", Scheme::Sp, &["2013", "2016", "2019", "2021"], 0, 2, MS),
    ('o', "cisco", "ios", "", Scheme::Cisco, &["12.2(55)se", "15.0(2)se", "15.1(4)m", "15.2(4)m", "15.2(5)e", "15.2(7)e", "15.5(3)m", "15.9(3)m"], 0, 12, "psirt@cisco.com"),
    ('a', "oracle", "java_se", "", Scheme::Dot, &["1.8.0", "11.0", "17.0", "21.0"], 0, 25, "secalert_us@oracle.com"),
    ('o', "cisco", "ios_xe", "", Scheme::Dot, &["16.9", "16.12", "17.3", "17.6", "17.9", "17.12"], 0, 8, "psirt@cisco.com"),
    ('o', "fortinet", "fortios", "", Scheme::Dot, &["6.0", "6.2", "6.4", "7.0", "7.2", "7.4", "7.6"], 0, 17, "psirt@fortinet.com"),
    ('o', "juniper", "junos", "", Scheme::Junos, &["19.4", "20.4", "21.2", "21.4", "22.2", "22.4", "23.2", "23.4"], 0, 40, "sirt@juniper.net"),
    ('o', "paloaltonetworks", "pan-os", "", Scheme::Dot, &["9.1", "10.1", "10.2", "11.0", "11.1"], 0, 17, "psirt@paloaltonetworks.com"),
    ('a', "apache", "http_server", "", Scheme::Dot, &["2.2", "2.4"], 0, 60, "security@apache.org"),
    ('o', "zyxel", "atp100_firmware", "atp100", Scheme::Two, ZYB, 10, 70, ZY),
    ('o', "zyxel", "usg_flex_100_firmware", "usg_flex_100", Scheme::Two, ZYB, 10, 70, ZY),
    ('a', "openbsd", "openssh", "", Scheme::Dot, &["7", "8", "9"], 0, 9, "cve@mitre.org"),
    ('a', "postgresql", "postgresql", "", Scheme::Dot, &["12", "13", "14", "15", "16"], 0, 15, "security@postgresql.org"),
    ('o', "yamaha", "rtx1210_firmware", "rtx1210", Scheme::Two, &["14.01"], 0, 45, "vultures@jpcert.or.jp"),
    ('o', "zyxel", "atp200_firmware", "atp200", Scheme::Two, ZYB, 10, 70, ZY),
    ('o', "zyxel", "usg_flex_200_firmware", "usg_flex_200", Scheme::Two, ZYB, 10, 70, ZY),
    ('o', "debian", "debian_linux", "", Scheme::Exact, &["9.0", "10.0", "11.0", "12.0"], 0, 0, "cve@mitre.org"),
    ('o', "fedoraproject", "fedora", "", Scheme::Exact, &["37", "38", "39", "40"], 0, 0, "cve@mitre.org"),
];
const PAIRS: usize = 60_000;
/// Share of synthetic vendors that make firmware for hardware models (AND configurations).
const FIRMWARE_VENDORS: f64 = 0.04;
const ZIPF_S: f64 = 1.0;
const ZIPF_Q: f64 = 3.0;

/// The vendor/product space with Zipf-like popularity (rank r has weight 1/(r+q)^s).
/// `ranked`: product index by popularity rank; `distros`: Debian and Fedora, the usual extra configuration.
struct Space { products: Vec<Product>, vendors: Vec<Vec<usize>>, ranked: Vec<usize>, cumulative: Vec<f64>, distros: Vec<usize> }

impl Space {
    fn build(seed: u64) -> Space {
        let mut rng = Rng::new(seed ^ 0x5EED_0000_0000_0001);
        let mut products: Vec<Product> = Vec::with_capacity(PAIRS + 16);
        let mut vendors: Vec<Vec<usize>> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        for &(part, vendor, name, hw, scheme, branches, lo, hi, cna) in HEAD {
            if !names.contains(&vendor) {
                names.push(vendor);
                vendors.push(Vec::new());
            }
            let vid = names.iter().position(|v| *v == vendor).unwrap_or(0);
            vendors.get_mut(vid).into_iter().for_each(|m| m.push(products.len()));
            let (branches, hw) = (branches.iter().map(|b| b.to_string()).collect(), (!hw.is_empty()).then(|| hw.to_string()));
            products.push(Product { part, vendor: vendor.into(), name: name.into(), hw, scheme, branches, lo, hi, cna: cna.into(), vid });
        }
        let head = products.len();
        let mut v = 0;
        while products.len() < PAIRS {
            v += 1;
            let vendor = format!("vendor{v}");
            let firmware = rng.chance(FIRMWARE_VENDORS);
            let cna = match rng.below(5) { 0 => "security-advisories@github.com".into(), 1 => "cna@vuldb.com".into(), 2 => format!("psirt@{vendor}.example"), _ => "cve@mitre.org".into() };
            let mut n = 1;
            while n < 40 && rng.chance(if firmware { 0.75 } else { 0.55 }) { n += 1; }
            let mut members = Vec::new();
            for _ in 0..n {
                let k = products.len();
                let two = firmware || rng.chance(0.08);
                let base = rng.below(12);
                let branches = (0..rng.range(1, 5)).map(|i| if two { format!("{}", base + 1 + i) } else { format!("{}.{}", base + i / 2, (i % 2) * 5) }).collect();
                let fw = || ('o', format!("product_{k}_firmware"), Some(format!("product_{k}")));
                let (part, name, hw) = if firmware { fw() } else { (if rng.chance(0.15) { 'o' } else { 'a' }, format!("product_{k}"), None) };
                let (scheme, hi) = (if two { Scheme::Two } else { Scheme::Dot }, rng.range(4, 40) as u32);
                members.push(k);
                products.push(Product { part, vendor: vendor.clone(), name, hw, scheme, branches, lo: 0, hi, cna: cna.clone(), vid: vendors.len() });
            }
            vendors.push(members);
        }
        // Head in table order, then the synthetic tail in a seeded random order.
        let mut ranked: Vec<usize> = (0..products.len()).collect();
        for i in (head + 1..ranked.len()).rev() { ranked.swap(i, head + rng.below((i - head + 1) as u64) as usize); }
        let cumulative = (0..ranked.len()).scan(0.0, |acc, r| Some(*acc + 1.0 / (r as f64 + ZIPF_Q).powf(ZIPF_S)).inspect(|a| *acc = *a)).collect();
        let distros = products.iter().enumerate().filter(|(_, p)| p.vendor == "debian" || p.vendor == "fedoraproject").map(|(i, _)| i).collect();
        Space { products, vendors, ranked, cumulative, distros }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.cumulative.last().copied().unwrap_or(0.0);
        self.ranked.get(self.cumulative.partition_point(|c| *c <= x)).or(self.ranked.last()).copied().unwrap_or(0)
    }

    fn get(&self, i: usize) -> Res<&Product> { self.products.get(i).ok_or_else(|| format!("no product {i}").into()) }

    /// The product itself or, with probability `p`, another product of its vendor.
    fn sibling(&self, i: usize, p: f64, rng: &mut Rng) -> usize {
        let members = self.products.get(i).and_then(|x| self.vendors.get(x.vid)).map_or(&[][..], Vec::as_slice);
        if members.len() > 1 && rng.chance(p) { rng.pick(members).copied().unwrap_or(i) } else { i }
    }
}

// ---- Record shape (field order as in real NVD API 2.0 records; absent = not serialised) ----

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String, source_identifier: String, published: String, last_modified: String, vuln_status: &'static str, cve_tags: [u8; 0],
    descriptions: Vec<Text>, metrics: Metrics,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    weaknesses: Vec<Weakness>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    configurations: Vec<Config>,
    references: Vec<Reference>,
}
#[derive(Serialize, Clone)]
struct Text { lang: &'static str, value: String }
#[derive(Serialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct Metrics { #[serde(skip_serializing_if = "Vec::is_empty")] cvss_metric_v31: Vec<Metric> }
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Metric { source: String, #[serde(rename = "type")] kind: &'static str, cvss_data: CvssData, exploitability_score: f64, impact_score: f64 }
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct CvssData {
    version: &'static str, vector_string: String, base_score: f64, base_severity: &'static str,
    attack_vector: &'static str, attack_complexity: &'static str, privileges_required: &'static str, user_interaction: &'static str,
    scope: &'static str, confidentiality_impact: &'static str, integrity_impact: &'static str, availability_impact: &'static str,
}
#[derive(Serialize, Clone)]
struct Weakness { source: String, #[serde(rename = "type")] kind: &'static str, description: Vec<Text> }
#[derive(Serialize, Clone)]
struct Config { #[serde(skip_serializing_if = "Option::is_none")] operator: Option<&'static str>, nodes: Vec<Node> }
#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Node { operator: &'static str, negate: bool, cpe_match: Vec<Match> }
#[derive(Serialize, Clone)]
struct Reference { url: String, source: String, #[serde(skip_serializing_if = "Vec::is_empty")] tags: Vec<&'static str> }
#[derive(Serialize, Clone, Default)]
#[serde(rename_all = "camelCase")]
struct Match {
    vulnerable: bool, criteria: String,
    #[serde(skip_serializing_if = "Option::is_none")] version_start_including: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")] version_start_excluding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")] version_end_including: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")] version_end_excluding: Option<String>,
    match_criteria_id: String,
}

impl Match {
    /// NVD gives one id per distinct match string, so the id is derived from its content.
    fn seal(mut self) -> Match {
        let (a, b, c, d) = (&self.version_start_including, &self.version_start_excluding, &self.version_end_including, &self.version_end_excluding);
        let key = format!("{}|{a:?}|{b:?}|{c:?}|{d:?}", self.criteria);
        self.match_criteria_id = uuid(fnv(&key), fnv(&format!("{key}#")));
        self
    }
}

// ---- CVSS 3.1 ----

/// (metric letter, option letters, weights, names, pick weights)
type Dim = (&'static str, &'static [(&'static str, f64, &'static str, u32)]);
const CVSS: [Dim; 8] = [
    ("AV", &[("N", 0.85, "NETWORK", 70), ("A", 0.62, "ADJACENT_NETWORK", 6), ("L", 0.55, "LOCAL", 22), ("P", 0.2, "PHYSICAL", 2)]),
    ("AC", &[("L", 0.77, "LOW", 85), ("H", 0.44, "HIGH", 15)]),
    ("PR", &[("N", 0.85, "NONE", 55), ("L", 0.62, "LOW", 35), ("H", 0.27, "HIGH", 10)]),
    ("UI", &[("N", 0.85, "NONE", 70), ("R", 0.62, "REQUIRED", 30)]),
    ("S", &[("U", 0.0, "UNCHANGED", 85), ("C", 1.0, "CHANGED", 15)]),
    ("C", &[("H", 0.56, "HIGH", 55), ("L", 0.22, "LOW", 20), ("N", 0.0, "NONE", 25)]),
    ("I", &[("H", 0.56, "HIGH", 50), ("L", 0.22, "LOW", 22), ("N", 0.0, "NONE", 28)]),
    ("A", &[("H", 0.56, "HIGH", 50), ("L", 0.22, "LOW", 8), ("N", 0.0, "NONE", 42)]),
];

fn roundup(x: f64) -> f64 {
    let i = (x * 100_000.0).round() as i64;
    if i % 10_000 == 0 { i as f64 / 100_000.0 } else { ((i / 10_000) + 1) as f64 / 10.0 }
}

/// A random CVSS 3.1 base vector with its scores (never all-None impact).
fn cvss(rng: &mut Rng) -> (CvssData, f64, f64) {
    loop {
        let mut pick = [("", 0.0, ""); 8];
        for (slot, (_, opts)) in pick.iter_mut().zip(CVSS.iter()) {
            let o = opts.get(rng.weighted(opts.iter().map(|o| o.3))).copied().unwrap_or(("N", 0.0, "NONE", 0));
            *slot = (o.0, o.1, o.2);
        }
        let [av, ac, pr, ui, sc, c, i, a] = pick;
        let changed = sc.0 == "C";
        let prw = match (pr.0, changed) { ("L", true) => 0.68, ("H", true) => 0.5, _ => pr.1 };
        let iss = 1.0 - (1.0 - c.1) * (1.0 - i.1) * (1.0 - a.1);
        if iss <= 0.0 { continue; }
        let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15) } else { 6.42 * iss };
        let expl = 8.22 * av.1 * ac.1 * prw * ui.1;
        let base = if changed { roundup((1.08 * (impact + expl)).min(10.0)) } else { roundup((impact + expl).min(10.0)) };
        let sev = if base >= 9.0 { "CRITICAL" } else if base >= 7.0 { "HIGH" } else if base >= 4.0 { "MEDIUM" } else { "LOW" };
        let vector = CVSS.iter().zip(pick.iter()).fold("CVSS:3.1".to_string(), |v, ((m, _), p)| format!("{v}/{m}:{}", p.0));
        let data = CvssData {
            version: "3.1", vector_string: vector, base_score: base, base_severity: sev, attack_vector: av.2, attack_complexity: ac.2,
            privileges_required: pr.2, user_interaction: ui.2, scope: sc.2, confidentiality_impact: c.2, integrity_impact: i.2, availability_impact: a.2,
        };
        return (data, (expl * 10.0).round() / 10.0, (impact * 10.0).round() / 10.0);
    }
}

// ---- Generator ----

/// Relative CVE counts per year (NVD's growth; 2026 up to the feed timestamp in November).
const YEARS: [(i64, f64); 25] = [
    (2002, 2.4), (2003, 1.5), (2004, 2.7), (2005, 4.8), (2006, 7.0), (2007, 6.5), (2008, 7.0), (2009, 5.0), (2010, 5.0),
    (2011, 4.6), (2012, 5.8), (2013, 6.6), (2014, 8.8), (2015, 8.5), (2016, 10.4), (2017, 18.0), (2018, 18.2), (2019, 18.0),
    (2020, 19.5), (2021, 22.0), (2022, 26.0), (2023, 30.0), (2024, 40.0), (2025, 48.0), (2026, 44.0),
];
/// Feed timestamp 2026-11-20T00:00:00.000: every lastModified of the yearly files is before it.
const NOW: i64 = days_from_civil(2026, 11, 20) * DAY;
const NVD: &str = "nvd@nist.gov";
const WEAK: &[(&str, &str)] = &[
    ("CWE-79", "A cross-site scripting (XSS) vulnerability"), ("CWE-787", "An out-of-bounds write"),
    ("CWE-89", "An SQL injection vulnerability"), ("CWE-20", "Improper input validation"), ("CWE-125", "An out-of-bounds read"),
    ("CWE-78", "An OS command injection vulnerability"), ("CWE-416", "A use-after-free"), ("CWE-22", "A path traversal vulnerability"),
    ("CWE-352", "A cross-site request forgery (CSRF) vulnerability"), ("CWE-434", "An unrestricted file upload vulnerability"),
    ("CWE-862", "A missing authorization check"), ("CWE-476", "A NULL pointer dereference"), ("CWE-287", "Improper authentication"),
    ("CWE-190", "An integer overflow"), ("CWE-502", "Deserialization of untrusted data"), ("CWE-77", "A command injection vulnerability"),
    ("CWE-119", "A buffer overflow"), ("CWE-200", "An information exposure"), ("CWE-400", "Uncontrolled resource consumption"),
    ("CWE-798", "Use of hard-coded credentials"), ("NVD-CWE-Other", "A security flaw"), ("NVD-CWE-noinfo", "An unspecified vulnerability"),
];
const PART_OF: &[&str] = &["the web management interface", "the SSL-VPN daemon", "the packet parser", "the authentication module", "the file upload handler", "the logging subsystem", "the REST API", "the kernel driver"];
const WHO: &[&str] = &["a remote unauthenticated attacker", "an authenticated remote attacker", "a local user", "an attacker on the adjacent network", "a remote attacker"];
const WHAT: &[&str] = &["execute arbitrary code", "cause a denial of service", "obtain sensitive information", "bypass authentication", "escalate privileges", "read arbitrary files", "inject arbitrary web script or HTML", "modify the device configuration"];
const VIA: &[&str] = &["a crafted HTTP request", "a specially crafted packet", "a malicious file", "a crafted URL parameter", "a manipulated API call", "a long string in a header"];
const MORE: &[&str] = &[
    "The issue exists because the affected component does not properly validate user-supplied input before using it.",
    "Successful exploitation could allow the attacker to execute commands with the privileges of the affected service.",
    "This issue affects all deployments in which the vulnerable feature is enabled, which is the default configuration.",
    "The vendor has released software updates that address this vulnerability; there are no workarounds.",
    "Exploitation requires network access to the management interface of the affected device.",
    "NOTE: this issue exists because of an incomplete fix for an earlier vulnerability in the same function.",
    "An attacker could exploit this vulnerability by persuading a user to open a crafted document or link.",
    "The flaw is reachable before authentication and has been observed being exploited in the wild.",
    "Memory corruption may also lead to a crash of the process and a restart of the device.",
    "Versions released after the fixed version listed above are not affected.",
];
const TAGS: [&[&str]; 8] = [&["Vendor Advisory"], &["Third Party Advisory", "Exploit"], &["Mailing List", "Third Party Advisory"], &["Third Party Advisory"], &["Exploit", "VDB Entry"], &["Patch"], &["Broken Link", "VDB Entry"], &["Third Party Advisory"]];

/// Where a CVE sits: `global` seeds its own PRNG stream.
#[derive(Clone, Copy)]
struct Key { global: u64, year: i64, pos: u64, count: u64, num: u64 }

struct Gen<'a> { space: &'a Space, seed: u64 }

impl Gen<'_> {
    /// The CVE at `k`; with `analysed`, an `Awaiting Analysis` record gets its configurations.
    fn cve(&self, k: &Key, analysed: bool) -> Res<Cve> {
        let mut rng = Rng::new(self.seed.wrapping_mul(0xD134_2543_DE82_EF95) ^ k.global.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let id = format!("CVE-{}-{:04}", k.year, k.num);
        let start = days_from_civil(k.year, 1, 1) * DAY;
        let span = (days_from_civil(k.year + 1, 1, 1) * DAY).min(NOW - 30 * DAY) - start;
        let slot = span / k.count.max(1) as i64;
        let published = start + (i128::from(span) * i128::from(k.pos) / i128::from(k.count.max(1))) as i64 + rng.below(slot as u64) as i64;
        let prim = self.space.sample(&mut rng);
        let p = self.space.get(prim)?;
        let cna = if k.year < 2016 || rng.chance(0.1) { "cve@mitre.org".to_string() } else { p.cna.clone() };
        let roll = rng.unit();
        let await_p = match k.year { 2024 => 0.09, 2025 => 0.13, 2026 => 0.18, _ => 0.003 };
        let (status, last) = match roll {
            _ if roll < 0.015 => ("Rejected", published + rng.range(1, 400) as i64 * DAY),
            _ if roll < 0.015 + await_p => ("Awaiting Analysis", published + rng.below(5 * DAY as u64) as i64),
            _ if rng.chance(0.35) => ("Modified", published + rng.below((NOW - published) as u64) as i64),
            _ => ("Analyzed", published + rng.range(DAY as u64, 60 * DAY as u64) as i64),
        };
        let (published, last_modified, source_identifier) = (ts(published), ts(last.min(NOW - 1)), cna.clone());
        let (descriptions, metrics, weaknesses, configurations, references) = (Vec::new(), Metrics::default(), Vec::new(), Vec::new(), Vec::new());
        let mut cve = Cve { id, source_identifier, published, last_modified, vuln_status: status, cve_tags: [], descriptions, metrics, weaknesses, configurations, references };
        if status == "Rejected" {
            let value = "Rejected reason: This CVE ID has been rejected or withdrawn by its CVE Numbering Authority.".to_string();
            cve.descriptions.push(Text { lang: "en", value });
            return Ok(cve);
        }
        let waiting = status == "Awaiting Analysis";
        let w = WEAK.get(rng.below(WEAK.len() as u64).min(rng.below(WEAK.len() as u64)) as usize).copied().unwrap_or(("NVD-CWE-noinfo", "A flaw"));
        cve.descriptions.push(Text { lang: "en", value: self.description(&mut rng, p, w.1) });
        if k.year >= 2016 || rng.chance(0.5) {
            let (data, e, i) = cvss(&mut rng);
            let metric = Metric { source: NVD.into(), kind: "Primary", cvss_data: data, exploitability_score: e, impact_score: i };
            if waiting || rng.chance(0.25) { cve.metrics.cvss_metric_v31.push(Metric { source: cna.clone(), kind: "Secondary", ..metric.clone() }); }
            if !waiting { cve.metrics.cvss_metric_v31.insert(0, metric); }
        }
        let text = vec![Text { lang: "en", value: w.0.to_string() }];
        if waiting || rng.chance(0.3) { cve.weaknesses.push(Weakness { source: cna.clone(), kind: "Secondary", description: text.clone() }); }
        if !waiting { cve.weaknesses.insert(0, Weakness { source: NVD.into(), kind: "Primary", description: text }); }
        let n = rng.range(3, 8) as usize;
        let first = rng.below(TAGS.len() as u64) as usize;
        for (kind, tags) in TAGS.iter().enumerate().cycle().skip(first).take(n) {
            let url = self.url(&mut rng, kind, p, &cve.id, k.year);
            cve.references.push(Reference { url, source: cna.clone(), tags: if waiting { Vec::new() } else { tags.to_vec() } });
        }
        if !waiting || analysed { cve.configurations = self.configurations(&mut rng, prim)?; }
        Ok(cve)
    }

    fn description(&self, rng: &mut Rng, p: &Product, kind: &str) -> String {
        let b = rng.below(p.branches.len() as u64) as usize;
        let (v, _) = p.version(b, rng.range(u64::from(p.lo), u64::from(p.hi)) as u32);
        let when = match rng.below(3) { 0 => format!("before {v}"), 1 => format!("through {v}"), _ => format!("{v} and earlier") };
        let any = |rng: &mut Rng, xs: &[&'static str]| rng.pick(xs).copied().unwrap_or("");
        let (part, product) = (any(rng, PART_OF), p.name.replace('_', " "));
        let mut s = format!("{kind} in {part} of {} {product} {when} allows {} to {} via {}.", p.vendor, any(rng, WHO), any(rng, WHAT), any(rng, VIA));
        let target = rng.range(200, 600) as usize;
        let first = rng.below(MORE.len() as u64) as usize;
        for m in MORE.iter().cycle().skip(first).take(MORE.len()) {
            if s.len() >= target || s.len() + 1 + m.len() > 600 { break; }
            s.push(' ');
            s.push_str(m);
        }
        s
    }

    /// Reference URL of kind `kind` (an index into [`TAGS`]).
    fn url(&self, rng: &mut Rng, kind: usize, p: &Product, id: &str, year: i64) -> String {
        let (v, n, h) = (&p.vendor, rng.range(1, 99_999_999), format!("{:016x}{:016x}", rng.next(), rng.next()));
        match kind {
            0 => format!("https://www.{v}.com/security/advisories/{}", id.to_lowercase()),
            1 => format!("https://github.com/{v}/{}/security/advisories/GHSA-{}-{}-{}", p.name, h.get(..4).unwrap_or(""), h.get(4..8).unwrap_or(""), h.get(8..12).unwrap_or("")),
            2 => format!("https://lists.debian.org/debian-lts-announce/{year}/{:02}/msg{:05}.html", n % 12 + 1, n % 100_000),
            3 => format!("https://security.netapp.com/advisory/ntap-{year}{:02}{:02}-{:04}/", n % 12 + 1, n % 28 + 1, n % 10_000),
            4 => format!("https://www.exploit-db.com/exploits/{}", n % 100_000),
            5 => format!("https://github.com/{v}/{}/commit/{h}{}", p.name, h.get(..8).unwrap_or("")),
            6 => format!("http://www.securityfocus.com/bid/{}", n % 200_000),
            _ => format!("https://jvn.jp/en/jp/JVN{n:08}/"),
        }
    }

    /// Configurations whose main product is `prim`.
    fn configurations(&self, rng: &mut Rng, prim: usize) -> Res<Vec<Config>> {
        let p = self.space.get(prim)?;
        let mut out = Vec::new();
        let or = |m: Vec<Match>| Node { operator: "OR", negate: false, cpe_match: m };
        if p.hw.is_some() {
            // Firmware: one AND configuration per affected model (firmware range, vulnerable hardware).
            let members = self.space.vendors.get(p.vid).map_or(&[][..], Vec::as_slice);
            let m = if rng.chance(0.45) { 1 } else { rng.range(2, 8) as usize }.min(members.len().max(1));
            let off = rng.below(members.len() as u64) as usize;
            let models = std::iter::once(prim).chain(members.iter().cycle().skip(off).filter(|&&x| x != prim).copied()).take(m);
            for f in models {
                let fp = self.space.get(f)?;
                let b0 = rng.below(fp.branches.len() as u64) as usize;
                let fw = (0..rng.range(1, 3) as usize).map(|i| self.entry(rng, fp, i, b0)).collect();
                let hw = fp.hw.as_deref().unwrap_or("-");
                let hwm = Match { vulnerable: false, criteria: fp.cpe('h', hw, "-", "*"), ..Match::default() }.seal();
                out.push(Config { operator: Some("AND"), nodes: vec![or(dedup(fw)), or(vec![hwm])] });
            }
        } else {
            let u = rng.unit();
            // Heavy tail: most CVEs list 1–10 match strings, 3% list 40–150.
            let (lo, hi) = if u < 0.55 { (1, 3) } else if u < 0.83 { (3, 10) } else if u < 0.974 { (10, 40) } else { (40, 150) };
            let k = rng.range(lo, hi) as usize;
            let b0 = rng.below(p.branches.len() as u64) as usize;
            let mut v = Vec::with_capacity(k);
            for i in 0..k {
                let q = self.space.sibling(prim, 0.2, rng);
                v.push(self.entry(rng, self.space.get(q)?, i, b0));
            }
            out.push(Config { operator: None, nodes: vec![or(dedup(v))] });
        }
        if rng.chance(0.1) {
            let dp = self.space.get(rng.pick(&self.space.distros).copied().unwrap_or(prim))?;
            let b0 = rng.below(dp.branches.len() as u64) as usize;
            let v = (0..rng.range(1, 3) as usize).map(|i| self.entry(rng, dp, i, b0)).collect();
            out.push(Config { operator: None, nodes: vec![or(dedup(v))] });
        }
        Ok(out)
    }

    /// The `i`-th cpeMatch of a node for product `p`: ranges on the first branches (all four
    /// bound kinds), then exact versions, sometimes `-`.
    fn entry(&self, rng: &mut Rng, p: &Product, i: usize, b0: usize) -> Match {
        let nb = p.branches.len().max(1);
        let b = (b0 + i) % nb;
        let (lo, hi) = (p.lo, p.hi.max(p.lo + 1));
        let mut m = Match { vulnerable: true, ..Match::default() };
        if p.ranged() && i < nb && rng.chance(0.8) {
            m.criteria = p.cpe(p.part, &p.name, "*", "*");
            let e = rng.range(u64::from(lo) + 1, u64::from(hi)) as u32;
            let end = p.version(b, e).0;
            let start = if b > 0 && rng.chance(0.15) { p.version(b - 1, rng.range(u64::from(lo), u64::from(hi)) as u32).0 } else { p.version(b, lo).0 };
            match rng.below(100) {
                0..=49 => (m.version_start_including, m.version_end_excluding) = (Some(start), Some(end)),
                50..=76 => m.version_end_excluding = Some(end),
                77..=86 => m.version_end_including = Some(p.version(b, e - 1).0),
                87..=94 => (m.version_start_including, m.version_end_including) = (Some(start), Some(p.version(b, e - 1).0)),
                95..=98 => (m.version_start_excluding, m.version_end_excluding) = (Some(start), Some(end)),
                _ => m.version_start_including = Some(start), // open-ended: no fixed version yet
            }
        } else if rng.chance(0.04) {
            m.criteria = p.cpe(p.part, &p.name, "-", "*");
        } else {
            let patch = lo + ((i / nb) as u32 + b0 as u32 * 13) % (hi - lo + 1);
            let (v, u) = p.version(b, patch);
            m.criteria = p.cpe(p.part, &p.name, &v, &u);
        }
        m.seal()
    }
}

/// Drops repeated match strings within one node (NVD never repeats one).
fn dedup(v: Vec<Match>) -> Vec<Match> {
    let mut out: Vec<Match> = Vec::with_capacity(v.len());
    for m in v {
        if !out.iter().any(|o| o.match_criteria_id == m.match_criteria_id) { out.push(m); }
    }
    out
}

struct Args { out: PathBuf, cves: u64, seed: u64, modified_percent: f64, assets: u64, gzip: bool }

fn parse_args() -> Res<Args> {
    let mut a = Args { out: PathBuf::new(), cves: 400_000, seed: 1, modified_percent: 1.0, assets: 10_000, gzip: false };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}");
        match flag.as_str() {
            "--gzip" => a.gzip = true,
            "--out" => a.out = PathBuf::from(val()?),
            "--cves" => a.cves = val()?.parse().map_err(|e| bad(&e))?,
            "--seed" => a.seed = val()?.parse().map_err(|e| bad(&e))?,
            "--modified-percent" => a.modified_percent = val()?.parse().map_err(|e| bad(&e))?,
            "--assets" => a.assets = val()?.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown argument {flag}").into()),
        }
    }
    let usage = "usage: gen_nvd_corpus --out DIR [--cves 400000] [--seed 1] [--modified-percent 1] [--assets 10000] [--gzip]";
    if a.out.as_os_str().is_empty() { Err(usage.into()) } else { Ok(a) }
}

/// Counts of what was written (recounted by the python check in `bench/nvd-corpus.md`).
#[derive(Default)]
struct Stats { cves: u64, rejected: u64, awaiting: u64, cpe_match: u64, configurations: u64, and_configurations: u64, pairs: HashSet<String>, bytes: u64, raw: u64, t0: Option<std::time::Instant> }

impl Stats {
    fn add(&mut self, c: &Cve) {
        self.cves += 1;
        self.rejected += u64::from(c.vuln_status == "Rejected");
        self.awaiting += u64::from(c.vuln_status == "Awaiting Analysis");
        self.configurations += c.configurations.len() as u64;
        self.and_configurations += c.configurations.iter().filter(|x| x.operator == Some("AND")).count() as u64;
        for m in c.configurations.iter().flat_map(|x| &x.nodes).flat_map(|n| &n.cpe_match) {
            self.cpe_match += 1;
            self.pairs.insert(m.criteria.split(':').skip(3).take(2).collect::<Vec<_>>().join(":"));
        }
    }
}

/// Writes one feed file (header, records streamed one by one, footer).
fn feed(path: PathBuf, gzip: bool, stamp: &str, keys: &[Key], mut make: impl FnMut(&Key) -> Res<Cve>, st: &mut Stats) -> Res<()> {
    let mut out = Out::create(path, gzip)?;
    let n = keys.len();
    write!(out, "{{\"resultsPerPage\":{n},\"startIndex\":0,\"totalResults\":{n},\"format\":\"NVD_CVE\",\"version\":\"2.0\",\"timestamp\":\"{stamp}\",\"vulnerabilities\":[")?;
    for (i, k) in keys.iter().enumerate() {
        let cve = make(k)?;
        st.add(&cve);
        if st.cves.is_multiple_of(50_000) {
            eprintln!("{} CVEs, {} cpeMatch, {:.1} s", st.cves, st.cpe_match, st.t0.map_or(0.0, |t| t.elapsed().as_secs_f64()));
        }
        out.write_all(if i == 0 { b"\n{\"cve\":" } else { b",\n{\"cve\":" })?;
        serde_json::to_writer(&mut out, &cve)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"\n]}\n")?;
    st.raw += out.raw;
    st.bytes += out.finish()?;
    Ok(())
}

/// The modified-feed version of a record: later lastModified, and a range end bumped, a cpeMatch
/// added and/or the CVSS vector changed (an `Awaiting Analysis` record comes back analysed).
fn modify(mut c: Cve, rng: &mut Rng) -> Cve {
    let waiting = c.vuln_status == "Awaiting Analysis";
    c.vuln_status = if waiting { "Analyzed" } else { "Modified" };
    c.last_modified = ts(days_from_civil(2026, 11, 24) * DAY + rng.below(3 * DAY as u64) as i64);
    let what = rng.range(1, 7);
    let mut matches = c.configurations.iter_mut().flat_map(|x| x.nodes.iter_mut()).map(|n| &mut n.cpe_match);
    if let Some(node) = matches.find(|m| m.iter().any(|x| x.vulnerable)) {
        if what & 1 != 0 && let Some(m) = node.iter_mut().find(|m| m.version_end_excluding.is_some() || m.version_end_including.is_some()) {
            if let Some(e) = m.version_end_excluding.as_mut().or(m.version_end_including.as_mut()) { *e = bump(e, rng.range(1, 3)); }
            *m = std::mem::take(m).seal();
        }
        // Added: the next exact version, or a new range just above the old one.
        if what & 2 != 0 && let Some(mut m) = node.iter().find(|m| m.vulnerable).cloned() {
            let mut parts: Vec<String> = m.criteria.split(':').map(str::to_string).collect();
            match parts.get_mut(5) {
                Some(v) if v.as_str() != "*" && v.as_str() != "-" => *v = bump(v, 1),
                Some(v) => {
                    let end = m.version_end_excluding.take().or(m.version_end_including.take()).or(m.version_start_including.clone());
                    let end = end.or(m.version_start_excluding.take()).unwrap_or_else(|| "1.0".into());
                    (*v, m.version_start_excluding) = ("*".into(), None);
                    (m.version_start_including, m.version_end_excluding) = (Some(bump(&end, 1)), Some(bump(&end, 3)));
                }
                None => {}
            }
            m.criteria = parts.join(":");
            node.push(m.seal());
        }
    }
    if what & 4 != 0 || c.configurations.is_empty() {
        let (data, e, i) = cvss(rng);
        let metric = Metric { source: NVD.into(), kind: "Primary", cvss_data: data, exploitability_score: e, impact_score: i };
        let v31 = &mut c.metrics.cvss_metric_v31;
        if let Some(m) = v31.iter_mut().find(|m| m.kind == "Primary") { *m = metric } else { v31.insert(0, metric) }
    }
    c
}

/// Adds `by` to the last number in `s` (`5.36` → `5.37`, `15.2\(5\)e` → `15.2\(6\)e`).
fn bump(s: &str, by: u64) -> String {
    let end = s.rfind(|c: char| c.is_ascii_digit()).map_or(0, |i| i + 1);
    let start = s.get(..end).and_then(|h| h.rfind(|c: char| !c.is_ascii_digit())).map_or(0, |i| i + 1);
    match s.get(start..end).and_then(|d| d.parse::<u64>().ok()) {
        Some(n) => format!("{}{}{}", s.get(..start).unwrap_or(""), n + by, s.get(end..).unwrap_or("")),
        None => format!("{s}.{by}"),
    }
}

fn main() -> Res<()> {
    let a = parse_args()?;
    let t0 = std::time::Instant::now();
    std::fs::create_dir_all(a.out.join("modified"))?;
    let space = Space::build(a.seed);
    let g = Gen { space: &space, seed: a.seed };
    let ext = if a.gzip { "json.gz" } else { "json" };
    // CVEs per year, ids with small gaps, and the P% picked for the modified feed.
    let total: f64 = YEARS.iter().map(|y| y.1).sum();
    let mut pick = Rng::new(a.seed ^ 0x0D1F_1ED0);
    let (mut st, mut years, mut modified, mut global) = (Stats { t0: Some(t0), ..Stats::default() }, Vec::new(), Vec::new(), 0);
    for (i, &(year, w)) in YEARS.iter().enumerate() {
        let count = if i + 1 == YEARS.len() { a.cves.saturating_sub(global) } else { (a.cves as f64 * w / total).round() as u64 };
        let mut num = 999;
        let keys: Vec<Key> = (0..count).map(|pos| Key { global: global + pos, year, pos, count, num: { num += 1 + pick.below(3) / 2; num } }).collect();
        let path = a.out.join(format!("nvdcve-2.0-{year}.{ext}"));
        feed(path, a.gzip, "2026-11-20T00:00:00.000", &keys, |k| {
            let cve = g.cve(k, false)?;
            if cve.vuln_status != "Rejected" && pick.chance(a.modified_percent / 100.0) { modified.push(*k); }
            Ok(cve)
        }, &mut st)?;
        global += count;
        years.push((year.to_string(), count));
    }
    let mut ms = Stats::default();
    let mut mrng = Rng::new(a.seed ^ 0x30D1_F1ED);
    let path = a.out.join(format!("modified/nvdcve-2.0-modified.{ext}"));
    feed(path, a.gzip, "2026-11-27T00:00:00.000", &modified, |k| Ok(modify(g.cve(k, true)?, &mut mrng)), &mut ms)?;
    // Assets drawn with the corpus' popularity: ~10% unknown version (`*`), ~22% up to date (newest branch, last
    // patch: above almost every range), the rest a random version of a random branch (in and out of ranges).
    let mut w = csv::Writer::from_path(a.out.join("assets.csv"))?;
    w.write_record(["name", "vendor", "product", "version", "cpe"])?;
    let mut r = Rng::new(a.seed ^ 0xA55E_7500);
    for i in 1..=a.assets {
        let p = space.get(space.sample(&mut r))?;
        let (unknown, patched) = (r.chance(0.1), r.chance(0.25));
        let (b, patch) = if patched { (p.branches.len().saturating_sub(1), p.hi) } else { (r.below(p.branches.len() as u64) as usize, r.range(u64::from(p.lo), u64::from(p.hi)) as u32) };
        let (v, u) = if unknown { ("*".to_string(), "*".to_string()) } else { p.version(b, patch) };
        let cpe = p.cpe(p.part, &p.name, &v, &u);
        w.write_record([format!("{}-{i:05}", p.name), p.vendor.clone(), p.name.clone(), v, cpe])?;
    }
    w.flush()?;
    let summary = serde_json::json!({
        "cves": st.cves, "rejected": st.rejected, "awaiting_analysis": st.awaiting, "cpe_match": st.cpe_match,
        "configurations": st.configurations, "and_configurations": st.and_configurations, "vendor_products": st.pairs.len(),
        "bytes": st.bytes, "bytes_uncompressed": st.raw, "years": years.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
        "modified": {"cves": ms.cves, "cpe_match": ms.cpe_match, "bytes": ms.bytes, "bytes_uncompressed": ms.raw},
        "assets": a.assets, "seed": a.seed, "gzip": a.gzip, "vendor_product_space": space.products.len() + space.products.iter().filter(|p| p.hw.is_some()).count(),
    });
    std::fs::write(a.out.join("summary.json"), serde_json::to_string_pretty(&summary)? + "\n")?;
    eprintln!("{}", serde_json::to_string(&summary)?);
    eprintln!("done in {:.1} s", t0.elapsed().as_secs_f64());
    Ok(())
}
