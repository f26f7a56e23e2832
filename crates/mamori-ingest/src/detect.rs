//! Which kind of inventory file this is, from its first bytes.
//!
//! [`detect`] looks at up to [`HEAD_BYTES`] of content and decides by content first; the file
//! name's extension only breaks ties (an empty file, a one-column CSV, a Kea lease file whose
//! header another Kea version wrote). In order:
//!
//! 1. zip (`PK\x03\x04`) → [`SourceKind::Xlsx`], unless the entries seen are those of a Word or
//!    PowerPoint file (`word/`, `ppt/` and no `xl/`) → `None`. A legacy `.xls` (OLE2) is not
//!    recognised.
//! 2. The text is decoded: UTF-8 (with or without BOM), UTF-16 with a BOM (as PowerShell's `>`
//!    writes), else Shift_JIS (CP932, as Japanese Windows redirects `arp -a`). NUL bytes or
//!    more than 1 % control characters make it binary → `None`.
//! 3. XML with `<nmaprun` → [`SourceKind::Nmap`]; a CycloneDX XML BOM →
//!    [`SourceKind::Cyclonedx`] (whose parser then says that only JSON is read); other XML →
//!    `None`.
//! 4. JSON with `"bomFormat"` and `CycloneDX` → [`SourceKind::Cyclonedx`]; a JSON array of
//!    objects with `"dst"` and `"lladdr"` (`ip -j neigh`) or `"IPAddress"` and
//!    `"LinkLayerAddress"` (PowerShell `Get-NetNeighbor | ConvertTo-Json`) →
//!    [`SourceKind::Arp`]; other JSON → `None`.
//! 5. A first line starting `address,hwaddr,client_id` or `address,duid,` →
//!    [`SourceKind::KeaLeases`].
//! 6. The `dhcpd.leases(5)` header comment, or a first statement `lease <ip> {`,
//!    `host <name> {`, `ia-na`/`ia-ta`/`ia-pd`, `server-duid`, `authoring-byte-order` or
//!    `failover peer` → [`SourceKind::IscLeases`].
//! 7. Every line `<expiry> <mac|iaid> <ip> <name|*> <id|*>` or `duid <id>` →
//!    [`SourceKind::DnsmasqLeases`].
//! 8. A neighbour table → [`SourceKind::Arp`]: `ip neigh` (`<ip> dev <if> …`), `/proc/net/arp`
//!    (header `IP address … HW type`), `arp -a` of Linux, macOS and BSD (`? (<ip>) at <mac>`)
//!    and of Windows (`Interface:` or `インターフェイス:` lines, or `<ip> <mac> <type>` rows).
//! 9. Text whose first lines are delimited by commas, tabs or semicolons, in a consistent
//!    number of fields → [`SourceKind::Csv`] (the ledger spreadsheets saved as CSV, in any
//!    encoding). Prose with commas (a licence, a README) is not.
//! 10. Otherwise, by the name: `*.csv`/`*.tsv` → CSV, `*.leases` named after dnsmasq, Kea or
//!     dhcpd → that kind; else `None`.

use mamori_model::SourceKind;

/// How much of the file [`detect`] looks at: 64 KiB.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Lines looked at for line-based formats.
const MAX_LINES: usize = 40;

/// The kind of file `head` (the first up to [`HEAD_BYTES`] of it) starts, or `None` when it is
/// none of the kinds mamori reads (or binary). `file_name` only breaks ties.
pub fn detect(file_name: &str, head: &[u8]) -> Option<SourceKind> {
    let head = head.get(..HEAD_BYTES).unwrap_or(head);
    // The last line may be cut when the caller gave a full head.
    let truncated = head.len() == HEAD_BYTES;
    let name = file_name.to_lowercase();

    if head.starts_with(b"PK\x03\x04") {
        let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
        if !has(b"xl/") && (has(b"word/") || has(b"ppt/")) {
            return None;
        }
        return Some(SourceKind::Xlsx);
    }

    let text = decode(head)?;
    if is_binary(&text) {
        return None;
    }
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.is_empty() {
        return by_name(&name);
    }
    if body.starts_with('<') {
        return if body.contains("<nmaprun") {
            Some(SourceKind::Nmap)
        } else if body.contains("cyclonedx.org/schema/bom") {
            Some(SourceKind::Cyclonedx)
        } else {
            None
        };
    }
    if body.starts_with('{') || body.starts_with('[') {
        return json_kind(body);
    }

    let mut lines: Vec<&str> = body.lines().take(MAX_LINES + 1).collect();
    if truncated && lines.len() > 1 {
        lines.pop();
    }
    lines.truncate(MAX_LINES);
    let content: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();

    // nmap's normal (-oN) and grepable (-oG) output: only its XML is read.
    if content.first().is_some_and(|l| l.starts_with("# Nmap ")) {
        return None;
    }
    if is_kea(&content, &name) {
        return Some(SourceKind::KeaLeases);
    }
    if is_isc(&content) {
        return Some(SourceKind::IscLeases);
    }
    if is_dnsmasq(&content) {
        return Some(SourceKind::DnsmasqLeases);
    }
    if is_neighbour_table(&content) {
        return Some(SourceKind::Arp);
    }
    if is_csv(&lines) {
        return Some(SourceKind::Csv);
    }
    match by_name(&name) {
        // A one-column CSV has no delimiter to see.
        Some(SourceKind::Csv) => Some(SourceKind::Csv),
        _ => None,
    }
}

/// The head as text: UTF-16 by its byte-order mark, UTF-8 when it is (a character cut at the
/// end aside), else Shift_JIS (CP932), lossily.
fn decode(head: &[u8]) -> Option<String> {
    if let Some(rest) = head.strip_prefix(b"\xff\xfe") {
        return Some(
            encoding_rs::UTF_16LE
                .decode_without_bom_handling(rest)
                .0
                .into_owned(),
        );
    }
    if let Some(rest) = head.strip_prefix(b"\xfe\xff") {
        return Some(
            encoding_rs::UTF_16BE
                .decode_without_bom_handling(rest)
                .0
                .into_owned(),
        );
    }
    match std::str::from_utf8(head) {
        Ok(s) => Some(s.to_owned()),
        // Cut in the middle of a character at the end of the head.
        Err(e) if e.error_len().is_none() => head
            .get(..e.valid_up_to())
            .and_then(|h| std::str::from_utf8(h).ok())
            .map(str::to_owned),
        Err(_) => {
            let (text, _, _) = encoding_rs::SHIFT_JIS.decode(head);
            Some(text.into_owned())
        }
    }
}

/// NUL, or more than 1 % control characters or undecodable bytes.
fn is_binary(text: &str) -> bool {
    let mut total = 0usize;
    let mut odd = 0usize;
    for c in text.chars() {
        total += 1;
        if c == '\0' {
            return true;
        }
        if (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) || c == '\u{fffd}' {
            odd += 1;
        }
    }
    // The last character may be a cut multibyte one.
    odd > 1 && odd * 100 > total
}

fn json_kind(body: &str) -> Option<SourceKind> {
    if body.contains("\"bomFormat\"") && body.contains("CycloneDX") {
        return Some(SourceKind::Cyclonedx);
    }
    if body.starts_with('[')
        && ((body.contains("\"dst\"") && body.contains("\"lladdr\""))
            || (body.contains("\"IPAddress\"") && body.contains("\"LinkLayerAddress\"")))
    {
        return Some(SourceKind::Arp);
    }
    None
}

fn is_kea(content: &[&str], name: &str) -> bool {
    let Some(first) = content.first() else {
        return false;
    };
    let first = first.to_ascii_lowercase();
    let first = first.trim_start_matches('\u{feff}');
    first.starts_with("address,hwaddr,client_id")
        || first.starts_with("address,duid,")
        // Another Kea version's header, under Kea's default file name.
        || (name.contains("kea-leases") && first.starts_with("address,"))
}

fn is_ip(word: &str) -> bool {
    word.parse::<std::net::IpAddr>().is_ok()
}

fn is_mac(word: &str) -> bool {
    crate::normalize_mac(word).is_some()
}

fn is_isc(content: &[&str]) -> bool {
    let mut statements = content.iter().filter(|l| !l.starts_with('#'));
    if content
        .iter()
        .any(|l| l.starts_with("# The format of this file is documented in the dhcpd.leases(5)"))
    {
        return true;
    }
    let Some(first) = statements.next() else {
        return false;
    };
    let words: Vec<&str> = first
        .split(|c: char| c.is_whitespace() || c == '{')
        .filter(|w| !w.is_empty())
        .collect();
    let opens = first.contains('{');
    match words.as_slice() {
        ["lease", ip, ..] => opens && is_ip(ip),
        ["host", _, ..] => opens,
        ["ia-na" | "ia-ta" | "ia-pd", ..] => opens,
        ["server-duid", ..] | ["authoring-byte-order", ..] => first.ends_with(';'),
        ["failover", "peer", ..] => true,
        _ => false,
    }
}

/// `1700000000 00:11:22:33:44:55 192.168.1.10 pc01 01:00:11:22:33:44:55`,
/// `1700000000 1234 2001:db8::10 pc01 00:01:…`, `duid 00:01:…`.
fn is_dnsmasq(content: &[&str]) -> bool {
    let mut leases = 0;
    for line in content {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["duid", _] => {}
            [expiry, id, ip, _name, _client] => {
                let expiry_ok = !expiry.is_empty() && expiry.bytes().all(|b| b.is_ascii_digit());
                // A MAC, possibly behind a hardware type (`06-…`), or a DHCPv6 IAID.
                let hw = id.split_once('-').map_or(*id, |(t, rest)| {
                    if t.len() == 2 && rest.contains(':') {
                        rest
                    } else {
                        id
                    }
                });
                let iaid = id.strip_prefix('T').unwrap_or(id);
                let long_hw = hw.split(':').count() > 6
                    && hw
                        .split(':')
                        .all(|p| p.len() <= 2 && u8::from_str_radix(p, 16).is_ok());
                let id_ok = is_mac(hw)
                    || long_hw
                    || (!iaid.is_empty() && iaid.bytes().all(|b| b.is_ascii_digit()));
                if !(expiry_ok && id_ok && is_ip(ip)) {
                    return false;
                }
                leases += 1;
            }
            _ => return false,
        }
    }
    leases > 0
}

fn is_neighbour_table(content: &[&str]) -> bool {
    content.iter().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let lower = line.to_ascii_lowercase();
        match words.as_slice() {
            // ip neigh
            [ip, "dev", ..] if is_ip(ip) => true,
            // arp -a: Linux net-tools, macOS, BSD
            [_, paren, "at", ..]
                if paren
                    .strip_prefix('(')
                    .and_then(|p| p.strip_suffix(')'))
                    .is_some_and(is_ip) =>
            {
                true
            }
            // arp -a: Windows rows (space-aligned; a tab-separated ledger is not one)
            [ip, mac, kind]
                if !line.contains('\t')
                    && is_ip(ip)
                    && is_mac(mac)
                    && matches!(*kind, "dynamic" | "static" | "動的" | "静的") =>
            {
                true
            }
            _ => {
                (lower.starts_with("ip address") && lower.contains("hw type"))
                    || (line.starts_with("Interface:") && line.contains("---"))
                    || line.starts_with("インターフェイス:")
                    || line.starts_with("インターフェース:")
            }
        }
    })
}

/// The first lines split into a consistent number of fields (≥ 2) by one delimiter.
fn is_csv(lines: &[&str]) -> bool {
    let sample: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.trim().is_empty())
        .collect();
    [b',', b'\t', b';'].into_iter().any(|delimiter| {
        let joined = sample.join("\n");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(joined.as_bytes());
        let counts: Vec<usize> = reader
            .records()
            .take(MAX_LINES)
            .map_while(Result::ok)
            .map(|r| r.len())
            .collect();
        // The header may follow up to three title lines (`機器台帳` alone on line 1).
        let Some(start) = counts.iter().take(4).position(|&n| n >= 2) else {
            return false;
        };
        let width = counts.get(start).copied().unwrap_or(0);
        let rest: Vec<usize> = counts.iter().skip(start + 1).copied().collect();
        if rest.is_empty() {
            // A header alone: accept when it is not a sentence.
            return sample
                .get(start)
                .is_some_and(|l| !l.trim_end().ends_with(['.', '。']));
        }
        let same = rest.iter().filter(|&&n| n == width).count();
        same * 2 >= rest.len() && same >= 1
    })
}

fn by_name(name: &str) -> Option<SourceKind> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.ends_with(".csv") || base.ends_with(".tsv") {
        if base.contains("kea-leases") {
            return Some(SourceKind::KeaLeases);
        }
        return Some(SourceKind::Csv);
    }
    if base.ends_with(".leases") || base.ends_with(".leases~") {
        if base.contains("dnsmasq") {
            return Some(SourceKind::DnsmasqLeases);
        }
        if base.contains("dhcpd") {
            return Some(SourceKind::IscLeases);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(name: &str, text: &str) -> Option<SourceKind> {
        detect(name, text.as_bytes())
    }

    #[test]
    fn zip_is_xlsx_unless_it_is_word() {
        let mut xlsx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
        xlsx.extend(b"[Content_Types].xml ... xl/workbook.xml");
        assert_eq!(detect("a.bin", &xlsx), Some(SourceKind::Xlsx));
        assert_eq!(
            detect("a.csv", b"PK\x03\x04\x00\x00"),
            Some(SourceKind::Xlsx)
        );
        assert_eq!(
            detect(
                "a.xlsx",
                b"PK\x03\x04 [Content_Types].xml word/document.xml"
            ),
            None
        );
        // OLE2 (.xls) is binary to us.
        assert_eq!(
            detect("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00\x00\x00"),
            None
        );
    }

    #[test]
    fn nmap_and_other_xml() {
        assert_eq!(
            d(
                "x.txt",
                "<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner=\"nmap\">"
            ),
            Some(SourceKind::Nmap)
        );
        assert_eq!(d("scan.xml", "<html><body/></html>"), None);
        // Other nmap outputs are not read.
        assert_eq!(
            d(
                "scan.gnmap",
                "# Nmap 7.94 scan initiated Mon Jan  1 00:00:00 2024 as: nmap -oG - 10.0.0.0/24\nHost: 10.0.0.1 ()\tStatus: Up\nHost: 10.0.0.1 ()\tPorts: 22/open/tcp//ssh///\tIgnored State: closed (999)\n"
            ),
            None
        );
        assert_eq!(
            d(
                "bom.xml",
                "<?xml version=\"1.0\"?>\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">"
            ),
            Some(SourceKind::Cyclonedx)
        );
    }

    #[test]
    fn json_kinds() {
        assert_eq!(
            d(
                "x",
                "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\"}"
            ),
            Some(SourceKind::Cyclonedx)
        );
        assert_eq!(
            d(
                "neigh.json",
                r#"[{"dst":"192.168.1.1","dev":"eth0","lladdr":"00:11:22:33:44:55","state":["REACHABLE"]}]"#
            ),
            Some(SourceKind::Arp)
        );
        assert_eq!(
            d(
                "n.json",
                "[\r\n    {\r\n        \"IPAddress\":  \"192.168.1.1\",\r\n        \"LinkLayerAddress\":  \"00-11-22-33-44-55\"\r\n    }\r\n]"
            ),
            Some(SourceKind::Arp)
        );
        assert_eq!(d("x.json", r#"{"spdxVersion": "SPDX-2.3"}"#), None);
        assert_eq!(d("x.json", "[]"), None);
    }

    #[test]
    fn lease_files() {
        assert_eq!(
            d(
                "leases.csv",
                "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context,pool_id\n192.168.1.10,00:11:22:33:44:55,,3600,1700000000,1,0,0,pc,0,,0\n"
            ),
            Some(SourceKind::KeaLeases)
        );
        assert_eq!(
            d(
                "x",
                "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,fqdn_fwd,fqdn_rev,hostname,hwaddr,state\n"
            ),
            Some(SourceKind::KeaLeases)
        );
        assert_eq!(
            d(
                "kea-leases4.csv",
                "address,hwaddr,client_id_hex,valid_lifetime\n"
            ),
            Some(SourceKind::KeaLeases)
        );
        assert_eq!(
            d(
                "x",
                "lease 192.168.1.10 {\n  starts 2 2013/12/10 12:57:04;\n}\n"
            ),
            Some(SourceKind::IscLeases)
        );
        assert_eq!(
            d(
                "x",
                "host printer { hardware ethernet 00:11:22:33:44:55; fixed-address 10.0.0.5; }\n"
            ),
            Some(SourceKind::IscLeases)
        );
        assert_eq!(
            d(
                "x",
                "authoring-byte-order little-endian;\n\nserver-duid \"\\000\";\n"
            ),
            Some(SourceKind::IscLeases)
        );
        assert_eq!(
            d("x", "ia-na \"abc\" {\n cltt epoch 1;\n}\n"),
            Some(SourceKind::IscLeases)
        );
        assert_eq!(
            d(
                "x",
                "1700000000 00:11:22:33:44:55 192.168.1.10 pc01 01:00:11:22:33:44:55\n\
                 0 06-00:11:22:33:44:56 192.168.1.11 * *\n\
                 duid 00:01:00:01:2a:2b:2c:2d:00:11:22:33:44:55\n\
                 1700000000 1234 2001:db8::10 pc01 00:01:00:01:2a:2b:2c:2d:00:11:22:33:44:55\n\
                 1700000000 T99 2001:db8::11 * 00:03:00:01:00:11:22:33:44:55\n"
            ),
            Some(SourceKind::DnsmasqLeases)
        );
        // Empty lease files: only the name says.
        assert_eq!(
            d("/var/lib/misc/dnsmasq.leases", ""),
            Some(SourceKind::DnsmasqLeases)
        );
        assert_eq!(d("dhcpd.leases", "\n"), Some(SourceKind::IscLeases));
        assert_eq!(d("kea-leases4.csv", ""), Some(SourceKind::KeaLeases));
        assert_eq!(d("x.txt", ""), None);
    }

    #[test]
    fn neighbour_tables() {
        for text in [
            "192.168.1.1 dev eth0 lladdr 00:11:22:33:44:55 REACHABLE\n10.0.0.9 dev eth0  FAILED\n",
            "fe80::1 dev wlan0 lladdr 00:11:22:33:44:55 router STALE\n",
            "IP address       HW type     Flags       HW address            Mask     Device\n\
             192.168.1.1      0x1         0x2         00:11:22:33:44:55     *        eth0\n",
            "? (192.168.1.1) at 00:11:22:33:44:55 [ether] on eth0\n",
            "router.lan (192.168.1.1) at 0:11:22:33:44:55 on en0 ifscope [ethernet]\n",
            "\r\nInterface: 192.168.1.50 --- 0x6\r\n  Internet Address      Physical Address      Type\r\n  192.168.1.1           00-11-22-33-44-55     dynamic\r\n",
            "  192.168.1.1           00-11-22-33-44-55     dynamic\r\n",
            "  192.168.1.1           00-11-22-33-44-55     静的\r\n",
        ] {
            assert_eq!(d("x.txt", text), Some(SourceKind::Arp), "{text}");
        }
        // Japanese Windows, redirected to a file: CP932.
        let sjis = encoding_rs::SHIFT_JIS
            .encode(
                "\r\nインターフェイス: 192.168.1.50 --- 0xd\r\n  インターネット アドレス 物理アドレス           種類\r\n  192.168.1.1           00-11-22-33-44-55     動的\r\n",
            )
            .0
            .into_owned();
        assert!(std::str::from_utf8(&sjis).is_err());
        assert_eq!(detect("arp.txt", &sjis), Some(SourceKind::Arp));
        // The same from PowerShell's `>`: UTF-16LE with a BOM.
        let utf16: Vec<u8> = [0xfeff_u16]
            .into_iter()
            .chain("インターフェイス: 192.168.1.50 --- 0xd\r\n".encode_utf16())
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(detect("arp.txt", &utf16), Some(SourceKind::Arp));
    }

    #[test]
    fn csv_ledgers_in_any_encoding() {
        assert_eq!(
            d(
                "x",
                "機器名,種別,IPアドレス,MACアドレス\nPC-01,pc,192.168.1.10,00:11:22:33:44:55\n"
            ),
            Some(SourceKind::Csv)
        );
        assert_eq!(
            d(
                "x",
                "\u{feff}機器台帳\n\n機器名,種別\n受付PC,pc\n電子カルテ,server\n"
            ),
            Some(SourceKind::Csv)
        );
        assert_eq!(
            d("x", "name\thostname\tip\nPC-01\tpc01\t10.0.0.1\n"),
            Some(SourceKind::Csv)
        );
        assert_eq!(d("x", "name;ip\nPC-01;10.0.0.1\n"), Some(SourceKind::Csv));
        // Tab-separated IP, MAC and name: a ledger, not Windows `arp -a`.
        assert_eq!(
            d("x", "ip\tmac\tname\n10.0.0.1\t00:11:22:33:44:55\tPC-01\n"),
            Some(SourceKind::Csv)
        );
        let sjis = encoding_rs::SHIFT_JIS
            .encode("機器名,設置場所\r\n受付PC,受付\r\n")
            .0
            .into_owned();
        assert_eq!(detect("daicho.csv", &sjis), Some(SourceKind::Csv));
        // Quoted fields with commas and line breaks.
        assert_eq!(
            d("x", "name,notes\n\"PC, 1\",\"two\nlines\"\nPC-2,x\n"),
            Some(SourceKind::Csv)
        );
        // One column: only the extension says.
        assert_eq!(d("names.csv", "name\nPC-01\n"), Some(SourceKind::Csv));
        assert_eq!(d("names.txt", "name\nPC-01\n"), None);
        // Prose with commas is not CSV.
        assert_eq!(
            d(
                "README",
                "Hello,\nthis is a letter, with commas, in sentences.\nIt goes on and on.\nThanks, bye\n"
            ),
            None
        );
    }

    #[test]
    fn binary_is_none() {
        assert_eq!(detect("x.csv", b"\x00\x01\x02\x03binary"), None);
        assert_eq!(
            detect("x", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xfe\xfd"),
            None
        );
        let noise: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(detect("x", &noise), None);
    }

    #[test]
    fn only_the_first_64_kib_count_and_a_cut_last_line_is_ignored() {
        let mut text = "name,ip\n".to_owned();
        while text.len() < HEAD_BYTES + 100 {
            text.push_str("PC-01,10.0.0.1\n");
        }
        assert_eq!(d("x", &text), Some(SourceKind::Csv));
        // A multibyte character cut at the end of the head.
        let mut bytes = format!("a{}", "名前,IP\n".repeat(7000)).into_bytes();
        bytes.truncate(HEAD_BYTES);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert_eq!(detect("x", &bytes), Some(SourceKind::Csv));
    }
}
