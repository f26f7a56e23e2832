//! FIRST EPSS scores: the daily file (`epss_scores-YYYY-MM-DD.csv.gz`, plain or gzip) and the
//! `api.first.org/data/v1/epss` JSON response.
//!
//! The file starts with an optional comment `#model_version:v2025.03.14,score_date:…` (older
//! files lack it), then the header `cve,epss,percentile`, then one row per CVE (about
//! 350,000): rows are handed over one at a time, never collected. A row whose CVE id or value
//! is malformed (not finite, outside 0..=1) is rejected with its line and field; the others are
//! kept. The JSON response, told by its first non-space byte `{`, carries the values as strings;
//! it is small (one API page) and is read whole, up to 256 MiB.
//!
//! Lines are split here rather than by the `csv` crate, whose record line numbers drift on
//! blank lines and CRLF endings; EPSS files quote nothing.

use std::io::{self, BufRead, BufReader, Read};

use serde::Deserialize;

use crate::decompress::decoder;

/// Most rejected rows kept in [`EpssStats::rejected`]; all are counted.
pub const MAX_REJECTED: usize = 1_000;
/// Longest line read (a row is about 30 bytes).
const MAX_LINE: usize = 4 * 1024;
/// Largest JSON response read (the API pages at most a few thousand rows).
const MAX_JSON_BYTES: u64 = 256 * 1024 * 1024;

/// One CVE's score.
#[derive(Debug, Clone, PartialEq)]
pub struct EpssScore {
    /// `CVE-YYYY-N…`.
    pub cve: String,
    /// Probability of exploitation activity in the next 30 days, 0 to 1.
    pub epss: f64,
    /// Rank among all scored CVEs, 0 to 1.
    pub percentile: f64,
}

/// What a read saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpssStats {
    /// `model_version` of the comment line (`v2025.03.14`), or of the JSON response.
    pub model_version: Option<String>,
    /// `score_date` of the comment line (`2025-09-03T12:55:00Z`); for JSON, the response's
    /// `score_date` or else the first row's `date`.
    pub score_date: Option<String>,
    /// Rows handed to the sink.
    pub rows: u64,
    /// Rejected rows: line (CSV) or 1-based entry (JSON), field, reason. At most
    /// [`MAX_REJECTED`].
    pub rejected: Vec<(u64, String, String)>,
    /// All rejected rows, including those beyond [`MAX_REJECTED`].
    pub rejected_count: u64,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum EpssError {
    #[error("{file}: line {line}: not an EPSS file: {reason}")]
    Format { file: String, line: u64, reason: String },
    #[error("{file}: {source}")]
    Io { file: String, source: io::Error },
    #[error("{file}: line {line}: the consumer stopped the read: {message}")]
    Sink { file: String, line: u64, message: String },
}

/// Reads an EPSS CSV file (plain or gzip) or API JSON response, handing each valid row to
/// `sink`. `file` names the source in errors. An `Err` from `sink` stops the read.
pub fn read_epss<R, F>(file: &str, reader: R, mut sink: F) -> Result<EpssStats, EpssError>
where
    R: Read + Send,
    F: FnMut(EpssScore) -> Result<(), String>,
{
    let io_err = |source: io::Error| EpssError::Io { file: file.to_owned(), source };
    let (_, inner) = decoder(reader).map_err(io_err)?;
    let mut input = BufReader::with_capacity(64 * 1024, inner);
    skip_bom_and_space(&mut input).map_err(io_err)?;
    let first = input.fill_buf().map_err(io_err)?.first().copied();
    match first {
        None => Err(EpssError::Format { file: file.to_owned(), line: 1, reason: "the file is empty".into() }),
        Some(b'{') => read_json(file, input, &mut sink),
        Some(_) => read_csv(file, input, &mut sink),
    }
}

/// Skips a UTF-8 byte-order mark and leading whitespace (however long).
fn skip_bom_and_space(input: &mut impl BufRead) -> io::Result<()> {
    if input.fill_buf()?.starts_with(&[0xef, 0xbb, 0xbf]) {
        input.consume(3);
    }
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        let n = buf.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let done = n < buf.len();
        input.consume(n);
        if done {
            return Ok(());
        }
    }
}

fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    format!("{out:?}")
}

/// `CVE-` four-digit year `-` at least four digits (at most 19, as in the CVE schema).
pub(crate) fn valid_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else { return false };
    let Some((year, num)) = rest.split_once('-') else { return false };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=19).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
}

fn probability(field: &str, raw: &str) -> Result<f64, (String, String)> {
    let v: f64 = raw.trim().parse().map_err(|_| (field.to_owned(), format!("{} is not a number", shown(raw))))?;
    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
        return Err((field.to_owned(), format!("{} is not between 0 and 1", shown(raw))));
    }
    Ok(v)
}

fn check(cve: &str, epss: &str, percentile: &str) -> Result<EpssScore, (String, String)> {
    let cve = cve.trim();
    if !valid_cve(cve) {
        return Err(("cve".into(), format!("{} is not a CVE id", shown(cve))));
    }
    Ok(EpssScore { cve: cve.to_owned(), epss: probability("epss", epss)?, percentile: probability("percentile", percentile)? })
}

fn reject(stats: &mut EpssStats, line: u64, field: String, reason: String) {
    stats.rejected_count += 1;
    if stats.rejected.len() < MAX_REJECTED {
        stats.rejected.push((line, field, reason));
    }
}

/// `#model_version:v2025.03.14,score_date:2025-09-03T12:55:00Z` → both values.
fn parse_comment(line: &str, stats: &mut EpssStats) {
    for part in line.trim_start_matches('#').split(',') {
        if let Some((key, value)) = part.split_once(':') {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.trim() {
                "model_version" => stats.model_version = Some(value.to_owned()),
                "score_date" => stats.score_date = Some(value.to_owned()),
                _ => {}
            }
        }
    }
}

/// Reads one line (without its `\r\n` or `\n`) into `out`, keeping at most [`MAX_LINE`]
/// bytes and discarding the rest. Returns `None` at the end of the input, else whether the
/// line was cut.
fn read_line(input: &mut impl BufRead, out: &mut Vec<u8>) -> io::Result<Option<bool>> {
    out.clear();
    let mut cut = false;
    let mut any = false;
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        any = true;
        let (chunk, used, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (buf.get(..i).unwrap_or_default(), i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_LINE.saturating_sub(out.len());
        if chunk.len() > room {
            cut = true;
        }
        out.extend_from_slice(chunk.get(..chunk.len().min(room)).unwrap_or_default());
        input.consume(used);
        if end {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if out.last() == Some(&b'\r') {
        out.pop();
    }
    Ok(Some(cut))
}

/// Splits a CSV line. EPSS files quote nothing; a field in double quotes is unquoted anyway.
fn fields(line: &str) -> Vec<&str> {
    line.split(',').map(|f| f.trim()).map(|f| f.strip_prefix('"').and_then(|f| f.strip_suffix('"')).unwrap_or(f)).collect()
}

fn read_csv<F>(file: &str, mut input: impl BufRead, sink: &mut F) -> Result<EpssStats, EpssError>
where
    F: FnMut(EpssScore) -> Result<(), String>,
{
    let io_err = |source: io::Error| EpssError::Io { file: file.to_owned(), source };
    let format = |line: u64, reason: String| EpssError::Format { file: file.to_owned(), line, reason };
    let mut stats = EpssStats::default();
    let mut raw = Vec::with_capacity(128);
    let mut line_no: u64 = 0;
    // The comment (optional) and the header.
    let (cve_col, epss_col, pct_col) = loop {
        line_no += 1;
        let Some(cut) = read_line(&mut input, &mut raw).map_err(io_err)? else {
            return Err(format(line_no, "no header `cve,epss,percentile`: the file ends first".into()));
        };
        if cut {
            return Err(format(line_no, format!("line longer than {MAX_LINE} bytes before the header")));
        }
        let text = std::str::from_utf8(&raw).map_err(|_| format(line_no, "not UTF-8 text".into()))?;
        if line_no == 1 && text.starts_with('#') {
            parse_comment(text, &mut stats);
            continue;
        }
        let columns = fields(text);
        let col = |name: &str| columns.iter().position(|c| *c == name);
        match (col("cve"), col("epss"), col("percentile")) {
            (Some(c), Some(e), Some(p)) => break (c, e, p),
            _ => return Err(format(line_no, format!("no header `cve,epss,percentile` (found {})", shown(text)))),
        }
    };
    let needed = cve_col.max(epss_col).max(pct_col) + 1;
    loop {
        line_no += 1;
        let Some(cut) = read_line(&mut input, &mut raw).map_err(io_err)? else { break };
        if cut {
            reject(&mut stats, line_no, "record".into(), format!("line longer than {MAX_LINE} bytes"));
            continue;
        }
        let Ok(text) = std::str::from_utf8(&raw) else {
            reject(&mut stats, line_no, "record".into(), "not UTF-8 text".into());
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        let row = fields(text);
        if row.len() < needed {
            reject(&mut stats, line_no, "record".into(), format!("{} fields, expected {needed}", row.len()));
            continue;
        }
        let get = |i: usize| row.get(i).copied().unwrap_or_default();
        match check(get(cve_col), get(epss_col), get(pct_col)) {
            Ok(score) => {
                sink(score).map_err(|message| EpssError::Sink { file: file.to_owned(), line: line_no, message })?;
                stats.rows += 1;
            }
            Err((field, reason)) => reject(&mut stats, line_no, field, reason),
        }
    }
    Ok(stats)
}

#[derive(Deserialize)]
struct ApiResponse {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    model_version: Option<String>,
    #[serde(default)]
    score_date: Option<String>,
    #[serde(default)]
    data: Option<Vec<serde_json::Value>>,
}

/// A JSON string or number as text.
fn json_text(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn read_json<F>(file: &str, input: impl BufRead, sink: &mut F) -> Result<EpssStats, EpssError>
where
    F: FnMut(EpssScore) -> Result<(), String>,
{
    let format = |reason: String| EpssError::Format { file: file.to_owned(), line: 1, reason };
    let raw: ApiResponse =
        serde_json::from_reader(input.take(MAX_JSON_BYTES)).map_err(|e| format(format!("JSON: {e}")))?;
    if let Some(status) = raw.status.as_deref().filter(|s| !s.eq_ignore_ascii_case("OK")) {
        return Err(format(format!("the API answered status {}", shown(status))));
    }
    let Some(data) = raw.data else {
        return Err(format("no `data` array: not an EPSS API response".into()));
    };
    let mut stats = EpssStats { model_version: raw.model_version, score_date: raw.score_date, ..EpssStats::default() };
    for (i, row) in data.iter().enumerate() {
        let pos = i as u64 + 1;
        if stats.score_date.is_none() {
            stats.score_date = json_text(row.get("date"));
        }
        let get = |k: &str| json_text(row.get(k));
        let (Some(cve), Some(epss), Some(pct)) = (get("cve"), get("epss"), get("percentile")) else {
            reject(&mut stats, pos, "entry".into(), "cve, epss or percentile missing or not a string".into());
            continue;
        };
        match check(&cve, &epss, &pct) {
            Ok(score) => {
                sink(score).map_err(|message| EpssError::Sink { file: file.to_owned(), line: pos, message })?;
                stats.rows += 1;
            }
            Err((field, reason)) => reject(&mut stats, pos, field, reason),
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;
    use std::io::Write;

    type TestResult = Result<(), Box<dyn Error>>;

    const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/epss/epss_scores-sample.csv");

    fn collect(file: &str, bytes: &[u8]) -> Result<(EpssStats, Vec<EpssScore>), EpssError> {
        let mut out = Vec::new();
        let stats = read_epss(file, bytes, |s| {
            out.push(s);
            Ok(())
        })?;
        Ok((stats, out))
    }

    fn score_of<'a>(scores: &'a [EpssScore], cve: &str) -> Option<&'a EpssScore> {
        scores.iter().find(|s| s.cve == cve)
    }

    #[test]
    fn sample_file_plain_and_gzip() -> TestResult {
        let plain = std::fs::read(SAMPLE)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain)?;
        let gz = gz.finish()?;
        for bytes in [plain, gz] {
            let (stats, scores) = collect("epss_scores-sample.csv", &bytes)?;
            assert_eq!(stats.model_version.as_deref(), Some("v2025.03.14"));
            assert_eq!(stats.score_date.as_deref(), Some("2025-09-03T12:55:00Z"));
            assert_eq!(stats.rows, 15);
            assert_eq!(stats.rejected_count, 0, "{:?}", stats.rejected);
            assert_eq!(scores.len(), 15);
            let fortios = score_of(&scores, "CVE-2024-21762").ok_or("CVE-2024-21762 missing")?;
            assert!(fortios.epss > 0.9 && fortios.percentile > 0.99);
            for cve in ["CVE-2023-27997", "CVE-2018-13379", "CVE-2022-40684", "CVE-2023-28771", "CVE-2018-0171"] {
                assert!(score_of(&scores, cve).is_some_and(|s| s.epss > 0.5), "{cve}");
            }
            assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.epss) && (0.0..=1.0).contains(&s.percentile)));
        }
        Ok(())
    }

    #[test]
    fn old_files_without_comment_and_bad_rows() -> TestResult {
        let csv = "cve,epss,percentile\r\n\
                   CVE-1999-0001,0.0142,0.7991\r\n\
                   CVE-99-1,0.1,0.1\r\n\
                   CVE-2024-0001,1.5,0.2\r\n\
                   CVE-2024-0002,NaN,0.2\r\n\
                   CVE-2024-0003,0.2,inf\r\n\
                   CVE-2024-0004,0.2\r\n\
                   \r\n\
                   \"CVE-2024-0005\",0.00043,0.1\r\n\
                   CVE-2024-0006,0.1,0.1,extra\n";
        let mut bytes = csv.as_bytes().to_vec();
        // A row that is not UTF-8, one far too long, then a last row without a newline.
        bytes.extend_from_slice(b"CVE-2024-0007,0.1,\xff\n");
        bytes.extend_from_slice(format!("CVE-2024-0008,0.1,0.1{}\n", " ".repeat(10_000)).as_bytes());
        bytes.extend_from_slice(b"CVE-2024-0009,0.5,0.5");
        let (stats, scores) = collect("old.csv", &bytes)?;
        assert_eq!((stats.model_version, stats.score_date), (None, None));
        let kept: Vec<&str> = scores.iter().map(|s| s.cve.as_str()).collect();
        assert_eq!(kept, ["CVE-1999-0001", "CVE-2024-0005", "CVE-2024-0006", "CVE-2024-0009"]);
        let rejected: Vec<(u64, &str)> = stats.rejected.iter().map(|r| (r.0, r.1.as_str())).collect();
        assert_eq!(rejected, [(3, "cve"), (4, "epss"), (5, "epss"), (6, "percentile"), (7, "record"), (11, "record"), (12, "record")]);
        assert_eq!((stats.rows, stats.rejected_count), (4, 7));
        Ok(())
    }

    #[test]
    fn header_required_and_named() {
        for bad in [&b"#model_version:v1\nCVE-2024-0001,0.1,0.2\n"[..], b"CVE-2024-0001,0.1,0.2\n", b"", b"   \n"] {
            match collect("nohead.csv", bad) {
                Err(EpssError::Format { file, .. }) => assert_eq!(file, "nohead.csv"),
                other => panic!("{other:?}"),
            }
        }
        let long = format!("#{}\n", "x".repeat(10_000));
        assert!(matches!(collect("long.csv", long.as_bytes()), Err(EpssError::Format { line: 1, .. })));
    }

    #[test]
    fn rejected_list_is_capped_but_counted() -> TestResult {
        let mut csv = String::from("cve,epss,percentile\n");
        for i in 0..1_500 {
            csv.push_str(&format!("CVE-2024-{i:05},2,0.5\n"));
        }
        let (stats, scores) = collect("many.csv", csv.as_bytes())?;
        assert!(scores.is_empty());
        assert_eq!(stats.rejected.len(), MAX_REJECTED);
        assert_eq!(stats.rejected_count, 1_500);
        assert_eq!(stats.rejected.last().map(|r| r.0), Some(1_001));
        Ok(())
    }

    #[test]
    fn api_json_response() -> TestResult {
        let json = br#"  {"status":"OK","status-code":200,"version":"1.0","access":"public","total":3,"offset":0,"limit":100,
            "data":[{"cve":"CVE-2024-21762","epss":"0.943220000","percentile":"0.999380000","date":"2025-09-03"},
                    {"cve":"CVE-2018-13379","epss":0.9,"percentile":"0.99","date":"2025-09-03"},
                    {"cve":"CVE-2018-0171","epss":"-0.1","percentile":"0.5","date":"2025-09-03"},
                    {"cve":"CVE-2018-0172"}]}"#;
        let (stats, scores) = collect("api.json", json)?;
        assert_eq!(stats.score_date.as_deref(), Some("2025-09-03"));
        assert_eq!(scores.len(), 2);
        assert_eq!(scores.first().map(|s| (s.epss, s.percentile)), Some((0.94322, 0.99938)));
        assert_eq!(stats.rejected.iter().map(|r| (r.0, r.1.as_str())).collect::<Vec<_>>(), [(3, "epss"), (4, "entry")]);
        assert!(matches!(collect("api.json", br#"{"status":"Not Found","data":[]}"#), Err(EpssError::Format { .. })));
        assert!(matches!(collect("api.json", br#"{"status":"OK"}"#), Err(EpssError::Format { .. })));
        assert!(matches!(collect("api.json", b"{\"data\":[1,"), Err(EpssError::Format { .. })));
        Ok(())
    }

    #[test]
    fn a_full_size_file_streams() -> TestResult {
        let mut csv = String::from("#model_version:v2025.03.14,score_date:2025-09-03T12:55:00Z\ncve,epss,percentile\n");
        for i in 0..350_000u32 {
            csv.push_str(&format!("CVE-{}-{:05},0.{:05},0.{:05}\n", 1999 + i % 27, i, i % 100_000, (i * 7) % 100_000));
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(csv.as_bytes())?;
        let gz = gz.finish()?;
        let mut count = 0u64;
        let mut max = 0.0f64;
        let stats = read_epss("epss_scores-current.csv.gz", gz.as_slice(), |s| {
            count += 1;
            max = max.max(s.epss);
            Ok(())
        })?;
        assert_eq!((stats.rows, count, stats.rejected_count), (350_000, 350_000, 0));
        assert!(max > 0.99 && max < 1.0);
        Ok(())
    }

    #[test]
    fn sink_error_stops_the_read() {
        let csv = "cve,epss,percentile\nCVE-2024-0001,0.1,0.2\nCVE-2024-0002,0.1,0.2\n";
        let mut seen = 0;
        let r = read_epss("stop.csv", csv.as_bytes(), |_| {
            seen += 1;
            Err("disk full".to_owned())
        });
        assert!(matches!(r, Err(EpssError::Sink { line: 2, .. })), "{r:?}");
        assert_eq!(seen, 1);
    }
}
