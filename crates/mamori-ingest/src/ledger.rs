//! Ledger (台帳) spreadsheets: the facility's own list of devices, as CSV/TSV or xlsx.
//!
//! A ledger is whatever the facility keeps: a title row ("医療情報システム機器台帳 令和6年度")
//! and blank rows above the header, Japanese or English column names written in many ways,
//! Shift_JIS or UTF-8 text, dates in the Japanese era calendar, "○"/"×" for yes and no. This
//! module turns one into [`Observation`]s:
//!
//! - The header row is the first row among the first [`HEADER_SCAN_ROWS`] in which at least two
//!   cells are known column names ([`propose_mapping`]) or are named by an override (`--map
//!   列名=field`, [`parse_field_override`]). A column that maps to no [`LedgerField`] is kept:
//!   its non-empty values become `attributes[header]`. No two columns map to the same field
//!   (the first wins).
//! - Each row after the header becomes one observation (`line` = the 1-based CSV line where the
//!   record starts, or the spreadsheet row number); fully blank rows are skipped. A row with a
//!   value that cannot be right (an invalid IP or MAC address, date, yes/no, asset id; a value
//!   over [`MAX_VALUE_BYTES`]; nothing that identifies a device) does not stop the file: it
//!   lands in [`Ingested::rejected`] naming the line, the column header and the reason.
//! - A value that only says "unknown" (`-`, `不明`, `なし`, `N/A` …) in a mapped column is
//!   `None` ("this source does not know"), never the text `-`.
//! - The whole file is an `Err` only when it cannot be read at all: undecodable text, a broken
//!   workbook, no header row, or more than [`MAX_ROWS`] rows or [`MAX_COLUMNS`] columns.
//!
//! The other direction ([`EXPORT_COLUMNS`], [`write_xlsx`], [`template_xlsx`]) writes the
//! workbook bytes of an export or of an empty ledger to start from; the caller writes the file.
//!
//! Limits of the xlsx reader: cells are streamed one by one (the sheet is never held as a
//! grid), but the workbook's shared-string table is read into memory by calamine before the
//! first cell, so the caller should bound the size of the file it accepts.

use crate::{invalid, refused};
use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};

use calamine::{
    DataRef, ExcelDateTime, ExcelDateTimeType, Reader, SheetType, SheetVisible, Xlsx, XlsxError,
};
use mamori_model::{AssetKind, Criticality, Interface, LedgerField, Observation};

use crate::{IngestError, Ingested, MAX_VALUE_BYTES, Sink, normalize_mac, text};

/// Most data rows (non-blank rows after the header) accepted from one ledger.
pub const MAX_ROWS: usize = 1_000_000;

/// Most columns accepted (counting up to the last non-empty cell of a row).
pub const MAX_COLUMNS: usize = 256;

/// How many rows from the top are searched for the header row.
pub const HEADER_SCAN_ROWS: usize = 20;

/// Most addresses in one IP or MAC cell (the asset's interface limit).
const MAX_ADDRESSES: usize = mamori_model::MAX_INTERFACES;

/// Attribute keeping a 種別 text that is not a known kind.
const KIND_RAW: &str = "kind_raw";
/// Attribute keeping a 重要度 text that is not a known criticality.
const CRITICALITY_RAW: &str = "criticality_raw";

/// Columns of a ledger export and of the template, in order: field, Japanese header, English
/// header. Both headers map back to the field through [`propose_mapping`].
pub const EXPORT_COLUMNS: &[(LedgerField, &str, &str)] = &[
    (LedgerField::AssetId, "mamori番号", "mamori ID"),
    (LedgerField::Name, "機器名", "Name"),
    (LedgerField::Hostname, "ホスト名", "Hostname"),
    (LedgerField::Kind, "種別", "Kind"),
    (LedgerField::Criticality, "重要度", "Criticality"),
    (LedgerField::Vendor, "メーカー", "Manufacturer"),
    (LedgerField::Product, "製品名", "Product"),
    (LedgerField::Model, "型番", "Model"),
    (LedgerField::Os, "OS", "OS"),
    (LedgerField::OsVersion, "OSバージョン", "OS version"),
    (LedgerField::Serial, "シリアル番号", "Serial number"),
    (LedgerField::Location, "設置場所", "Location"),
    (LedgerField::Department, "管理部署", "Department"),
    (LedgerField::Owner, "管理責任者", "Owner"),
    (LedgerField::Segment, "ネットワーク区画", "Network segment"),
    (LedgerField::Ip, "IPアドレス", "IP address"),
    (LedgerField::Mac, "MACアドレス", "MAC address"),
    (
        LedgerField::InternetFacing,
        "インターネット公開",
        "Internet facing",
    ),
    (
        LedgerField::EndpointProtection,
        "ウイルス対策",
        "Endpoint protection",
    ),
    (LedgerField::Maintainer, "保守業者", "Maintainer"),
    (LedgerField::LastSeen, "最終確認日", "Last seen"),
    (LedgerField::Notes, "備考", "Notes"),
];

/// One ledger as read: its header row, how each column was mapped, and what the rows gave.
#[derive(Debug)]
pub struct LedgerSheet {
    /// The header texts, one per column up to the last non-empty header cell. Line breaks
    /// inside a header are spaces; an empty header is `column N` (1-based); a repeated header
    /// gets ` (2)`, ` (3)` … so that every column has its own attribute key.
    pub headers: Vec<String>,
    /// 1-based line (CSV) or row (xlsx) of the header row.
    pub header_line: u64,
    /// What each column maps to (same length as `headers`); `None` = kept as an attribute.
    pub mapping: Vec<Option<LedgerField>>,
    pub ingested: Ingested,
}

/// A ledger's header row and how its columns were mapped (see [`LedgerSheet`]).
#[derive(Debug, Clone)]
pub struct LedgerHeader {
    pub headers: Vec<String>,
    pub header_line: u64,
    pub mapping: Vec<Option<LedgerField>>,
}

impl LedgerSheet {
    fn of(header: LedgerHeader, ingested: Ingested) -> Self {
        Self { headers: header.headers, header_line: header.header_line, mapping: header.mapping, ingested }
    }
}

// ---------------------------------------------------------------------------------------------
// Header mapping
// ---------------------------------------------------------------------------------------------

/// Proposes a field for each header text; `None` keeps the column as an attribute.
///
/// Matching ignores full-width/half-width differences, spaces, case, punctuation such as `_`,
/// `-`, `/`, `・`, marks such as `※` and `*`, bracketed parts (`機器名(必須)`, `IPアドレス
/// 【IPv4】`) and a trailing `必須`/`任意`. No field is proposed twice: the first column wins.
pub fn propose_mapping(headers: &[String]) -> Vec<Option<LedgerField>> {
    let mut taken = BTreeSet::new();
    headers
        .iter()
        .map(|h| field_for_header(h).filter(|f| taken.insert(*f)))
        .collect()
}

/// Parses one `--map 列名=field` option. `field` is a [`LedgerField`] code (`name`, `ip` …),
/// a header the field is known by (`機器名`), or `attribute` / `-` to keep the column as an
/// attribute (`None`).
pub fn parse_field_override(spec: &str) -> Result<(String, Option<LedgerField>), String> {
    let Some((column, field)) = spec.rsplit_once('=') else {
        return Err(format!(
            "--map {}: expected COLUMN=FIELD, e.g. 端末名=name or 資産番号=attribute",
            clip(spec, 80)
        ));
    };
    let column = column.trim();
    let field = field.trim();
    if column.is_empty() {
        return Err(format!(
            "--map {}: the column name before = is empty",
            clip(spec, 80)
        ));
    }
    if matches!(
        field,
        "-" | "attribute" | "attr" | "Attribute" | "ATTRIBUTE"
    ) {
        return Ok((column.to_owned(), None));
    }
    if let Ok(f) = field.to_ascii_lowercase().parse::<LedgerField>() {
        return Ok((column.to_owned(), Some(f)));
    }
    if let Some(f) = field_for_header(field) {
        return Ok((column.to_owned(), Some(f)));
    }
    let codes: Vec<&str> = LedgerField::ALL.iter().map(|f| f.code()).collect();
    Err(format!(
        "--map {}: unknown field `{}`: expected one of {}, or attribute",
        clip(spec, 80),
        clip(field, 40),
        codes.join(", ")
    ))
}

fn field_for_header(header: &str) -> Option<LedgerField> {
    field_for_key(&norm_key(header))
}

/// The field a normalised header ([`norm_key`]) is known by.
fn field_for_key(key: &str) -> Option<LedgerField> {
    use LedgerField as F;
    Some(match key {
        // Only mamori's own id: a facility's 管理番号 / 資産番号 ("PC-001") is its own numbering
        // and stays an attribute.
        "mamori番号" | "mamori管理番号" | "mamoriid" | "mamoriassetid" => F::AssetId,
        "機器名" | "端末名" | "名称" | "装置名" | "機器名称" | "装置名称" | "端末名称"
        | "資産名" | "資産名称" | "機器" | "assetname" | "name" | "devicename" | "device" => {
            F::Name
        }
        "ホスト名"
        | "コンピュータ名"
        | "コンピューター名"
        | "ホストネーム"
        | "hostname"
        | "host"
        | "computername" => F::Hostname,
        "種別" | "機器種別" | "分類" | "機器分類" | "種類" | "機器種類" | "資産種別" | "type"
        | "kind" | "devicetype" | "assettype" | "assetkind" | "category" => F::Kind,
        "重要度" | "重要性" | "criticality" | "importance" => F::Criticality,
        "メーカー" | "メーカ" | "メーカー名" | "メーカ名" | "製造元" | "製造会社" | "製造業者"
        | "製造者" | "ベンダー" | "ベンダ" | "ベンダー名" | "ベンダ名" | "manufacturer"
        | "vendor" | "maker" => F::Vendor,
        "製品名" | "製品" | "商品名" | "product" | "productname" => F::Product,
        "型番" | "型式" | "形式" | "機種" | "機種名" | "モデル" | "モデル名" | "model"
        | "modelname" | "modelnumber" | "modelno" => F::Model,
        "os" | "オペレーティングシステム" | "os名" | "os種別" | "osname" | "operatingsystem" => {
            F::Os
        }
        "osバージョン"
        | "バージョン"
        | "version"
        | "osversion"
        | "osver"
        | "ver"
        | "ファームウェアバージョン"
        | "ファームウェア"
        | "firmwareversion"
        | "firmware" => F::OsVersion,
        "シリアル番号"
        | "シリアルナンバー"
        | "シリアルno"
        | "シリアル"
        | "製造番号"
        | "sn"
        | "serial"
        | "serialnumber"
        | "serialno" => F::Serial,
        "設置場所" | "場所" | "設置箇所" | "設置先" | "所在地" | "location" | "place" => {
            F::Location
        }
        "管理部署" | "部署" | "所属" | "部門" | "所属部署" | "使用部署" | "担当部署"
        | "管理部門" | "department" | "dept" | "division" => F::Department,
        "管理者" | "管理責任者" | "使用者" | "利用者" | "責任者" | "担当者" | "所有者"
        | "owner" => F::Owner,
        "ネットワーク区画"
        | "セグメント"
        | "vlan名"
        | "ネットワークセグメント"
        | "ネットワーク"
        | "区画"
        | "segment"
        | "networksegment"
        | "network"
        | "vlanname" => F::Segment,
        "ipアドレス" | "ip" | "ipaddress" | "ipaddr" | "ipv4アドレス" | "ipv4" | "ipv4address"
        | "ipv6アドレス" | "ipv6address" => F::Ip,
        "macアドレス"
        | "物理アドレス"
        | "mac"
        | "macaddress"
        | "macaddr"
        | "ハードウェアアドレス" => F::Mac,
        "インターネット公開"
        | "外部公開"
        | "インターネット公開有無"
        | "外部公開有無"
        | "公開有無"
        | "internetfacing"
        | "publicfacing"
        | "internetexposed" => F::InternetFacing,
        "ウイルス対策"
        | "ウィルス対策"
        | "ウイルス対策ソフト"
        | "ウィルス対策ソフト"
        | "ウイルス対策有無"
        | "ウィルス対策有無"
        | "アンチウイルス"
        | "セキュリティソフト"
        | "edr"
        | "av"
        | "antivirus"
        | "endpointprotection" => F::EndpointProtection,
        "保守業者" | "保守事業者" | "保守会社" | "保守ベンダー" | "保守ベンダ" | "保守業者名"
        | "保守事業者名" | "保守会社名" | "保守委託先" | "maintainer" | "vendorsupport"
        | "maintenance" | "maintenancevendor" | "supportvendor" => F::Maintainer,
        "最終確認日" | "最終確認日時" | "最終確認" | "確認日" | "棚卸日" | "lastseen"
        | "lastchecked" | "lastconfirmed" | "lastverified" => F::LastSeen,
        "備考" | "メモ" | "摘要" | "コメント" | "notes" | "note" | "remarks" | "remark"
        | "comment" | "comments" | "memo" => F::Notes,
        _ => return None,
    })
}

/// A row-number column (`No.`, `#`, `連番`): a row whose only content is in such columns is
/// an empty template row, not a device.
fn is_row_number_key(key: &str) -> bool {
    matches!(
        key,
        "no" | "#" | "番号" | "連番" | "項番" | "通番" | "行番号" | "№" | "nr"
    )
}

/// Normalises a header (or a kind/criticality label) for matching: width folded, bracketed
/// parts, spaces, punctuation and required-marks removed, lower case.
fn norm_key(text: &str) -> String {
    let folded = fold_width(text);
    let mut stripped = strip_brackets(&folded);
    if stripped.trim().is_empty() {
        // "【機器名】": the brackets are all there is.
        stripped = folded
            .chars()
            .filter(|c| bracket_depth_change(*c) == 0)
            .collect();
    }
    let mut out = String::with_capacity(stripped.len());
    for c in stripped.chars() {
        if c.is_whitespace()
            || matches!(
                c,
                '_' | '-' | '・' | '/' | '.' | ':' | '*' | '※' | '\'' | '"' | '‐' | '−' | '―'
            )
        {
            continue;
        }
        out.extend(c.to_lowercase());
    }
    for suffix in ["必須", "任意"] {
        if let Some(rest) = out.strip_suffix(suffix)
            && !rest.is_empty()
        {
            out.truncate(rest.len());
        }
    }
    out
}

/// +1 for an opening bracket, -1 for a closing one, 0 otherwise.
fn bracket_depth_change(c: char) -> i32 {
    match c {
        '(' | '[' | '{' | '<' | '【' | '〔' | '〈' | '《' | '［' => 1,
        ')' | ']' | '}' | '>' | '】' | '〕' | '〉' | '》' | '］' => -1,
        _ => 0,
    }
}

fn strip_brackets(text: &str) -> String {
    let mut depth = 0i32;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match bracket_depth_change(c) {
            1 => depth += 1,
            -1 => depth = (depth - 1).max(0),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Half-width katakana U+FF61..=U+FF9D, in code point order, as full-width.
const HALF_KANA: &str = "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

/// Folds full-width ASCII to ASCII, the ideographic space to a space, and half-width katakana
/// (with its separate voiced marks) to full-width katakana.
fn fold_width(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let u = u32::from(c);
        match u {
            0xFF01..=0xFF5E => out.push(char::from_u32(u - 0xFEE0).unwrap_or(c)),
            0x3000 => out.push(' '),
            0xFF61..=0xFF9D => out.push(HALF_KANA.chars().nth((u - 0xFF61) as usize).unwrap_or(c)),
            0xFF9E | 0xFF9F => {
                let semi = u == 0xFF9F;
                match out.chars().last().and_then(|prev| voiced(prev, semi)) {
                    Some(v) => {
                        out.pop();
                        out.push(v);
                    }
                    None => out.push(if semi { '゜' } else { '゛' }),
                }
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The voiced (゛) or semi-voiced (゜) form of a full-width katakana.
fn voiced(prev: char, semi: bool) -> Option<char> {
    let u = u32::from(prev);
    let target = match (u, semi) {
        (0x30A6, false) => 0x30F4, // ウ → ヴ
        // カ キ ク ケ コ サ シ ス セ ソ タ チ: every other code point from カ.
        (0x30AB..=0x30C1, false) if (u - 0x30AB) % 2 == 0 => u + 1,
        (0x30C4 | 0x30C6 | 0x30C8, false) => u + 1, // ツ テ ト
        (0x30CF | 0x30D2 | 0x30D5 | 0x30D8 | 0x30DB, false) => u + 1, // ハ行 → バ行
        (0x30CF | 0x30D2 | 0x30D5 | 0x30D8 | 0x30DB, true) => u + 2, // ハ行 → パ行
        _ => return None,
    };
    char::from_u32(target)
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

/// Width-folded, trimmed, lower-cased: how short labels are compared.
fn label(value: &str) -> String {
    fold_width(value).trim().to_lowercase()
}

/// A value that only says "unknown" or "nothing".
fn is_unknown(value: &str) -> bool {
    // The longest placeholder is a few characters, possibly full-width.
    if value.len() > 24 {
        return false;
    }
    matches!(
        label(value).as_str(),
        "-" | "--"
            | "ー"
            | "―"
            | "—"
            | "–"
            | "‐"
            | "−"
            | "?"
            | "不明"
            | "未確認"
            | "未定"
            | "未設定"
            | "なし"
            | "無し"
            | "該当なし"
            | "n/a"
            | "na"
            | "none"
            | "unknown"
            | "null"
    )
}

/// An IP cell saying the address is assigned dynamically.
fn is_dynamic_address(value: &str) -> bool {
    matches!(
        norm_key(value).as_str(),
        "dhcp" | "自動" | "自動取得" | "動的" | "可変" | "dynamic" | "auto"
    )
}

fn parse_bool(value: &str) -> Option<bool> {
    match label(value).as_str() {
        "はい" | "有" | "有り" | "あり" | "○" | "〇" | "◯" | "◎" | "yes" | "y" | "true" | "1"
        | "済" | "済み" | "導入済" | "導入済み" | "対応済" | "対応済み" | "有効" | "公開"
        | "on" => Some(true),
        "いいえ" | "無" | "無し" | "なし" | "×" | "✕" | "✗" | "x" | "no" | "n" | "false" | "0"
        | "未" | "未導入" | "未対応" | "無効" | "非公開" | "off" => Some(false),
        _ => None,
    }
}

fn parse_kind(value: &str) -> Option<AssetKind> {
    use AssetKind as K;
    let key = norm_key(value);
    if let Ok(kind) = key.parse::<AssetKind>() {
        return Some(kind);
    }
    // The labels mamori's own export writes (content/i18n, `asset_kind.*`, Japanese and
    // English) come first, so that a re-imported export keeps every kind; a test in
    // mamori-store checks these against the catalogs.
    const OWN_LABELS: &[(&str, AssetKind)] = &[
        ("端末PC", K::Pc),
        ("VPN装置・UTM", K::VpnUtm),
        ("無線LANアクセスポイント", K::WifiAp),
        ("プリンタ・複合機", K::Printer),
        ("モバイル端末", K::Mobile),
        ("IoT機器", K::Iot),
        ("不明", K::Unknown),
        ("Network device", K::NetworkDevice),
        ("VPN / UTM", K::VpnUtm),
        ("Wi-Fi access point", K::WifiAp),
        ("Medical device", K::MedicalDevice),
        ("Printer / MFP", K::Printer),
        ("Mobile", K::Mobile),
        ("IoT device", K::Iot),
        ("Unknown", K::Unknown),
    ];
    if let Some((_, kind)) = OWN_LABELS.iter().find(|(label, _)| norm_key(label) == key) {
        return Some(*kind);
    }
    let exact = match key.as_str() {
        "サーバ" | "サーバー" | "サーバ機" | "サーバー機" => Some(K::Server),
        "pc"
        | "パソコン"
        | "端末"
        | "クライアント"
        | "ノート"
        | "デスクトップ"
        | "desktop"
        | "laptop"
        | "client"
        | "workstation"
        | "ワークステーション" => Some(K::Pc),
        "ネットワーク機器" | "networkdevice" | "network" | "nw機器" => {
            Some(K::NetworkDevice)
        }
        "vpn" | "utm" | "fw" | "vpnutm" | "ファイアウォール" | "firewall" => {
            Some(K::VpnUtm)
        }
        "ap" | "wifi" | "wifiap" | "wirelessap" | "accesspoint" | "無線ap" | "無線lan" => {
            Some(K::WifiAp)
        }
        "医療機器" | "医用機器" | "モダリティ" | "medicaldevice" | "medical" | "modality" => {
            Some(K::MedicalDevice)
        }
        "mfp" | "複合機" | "プリンタ" | "プリンター" => Some(K::Printer),
        "nas" => Some(K::Nas),
        "携帯" | "携帯電話" | "smartphone" | "tablet" => Some(K::Mobile),
        "センサー" | "センサ" => Some(K::Iot),
        "その他" | "other" => Some(K::Unknown),
        _ => None,
    };
    if exact.is_some() {
        return exact;
    }
    // Longer labels ("L2スイッチ", "電子カルテサーバ", "VPNルータ"): the first keyword found,
    // most specific first.
    const KEYWORDS: &[(&str, AssetKind)] = &[
        ("nas", K::Nas),
        ("utm", K::VpnUtm),
        ("vpn", K::VpnUtm),
        ("ファイアウォール", K::VpnUtm),
        ("firewall", K::VpnUtm),
        ("無線", K::WifiAp),
        ("アクセスポイント", K::WifiAp),
        ("wifi", K::WifiAp),
        ("プリンタ", K::Printer),
        ("複合機", K::Printer),
        ("printer", K::Printer),
        ("スイッチ", K::NetworkDevice),
        ("ルータ", K::NetworkDevice),
        ("ハブ", K::NetworkDevice),
        ("switch", K::NetworkDevice),
        ("router", K::NetworkDevice),
        ("サーバ", K::Server),
        ("server", K::Server),
        ("医療", K::MedicalDevice),
        ("モダリティ", K::MedicalDevice),
        ("スマートフォン", K::Mobile),
        ("スマホ", K::Mobile),
        ("タブレット", K::Mobile),
        ("iphone", K::Mobile),
        ("ipad", K::Mobile),
        ("カメラ", K::Iot),
        ("camera", K::Iot),
        ("iot", K::Iot),
        ("パソコン", K::Pc),
        ("pc", K::Pc),
        ("端末", K::Pc),
        ("クライアント", K::Pc),
    ];
    KEYWORDS
        .iter()
        .find(|(needle, _)| key.contains(needle))
        .map(|(_, kind)| *kind)
}

fn parse_criticality(value: &str) -> Option<Criticality> {
    use Criticality as C;
    let key = norm_key(value);
    if let Ok(c) = key.parse::<Criticality>() {
        return Some(c);
    }
    match key.as_str() {
        "最重要" | "極めて高い" | "最高" | "特高" => Some(C::Critical),
        "高" | "高い" | "大" | "重要" => Some(C::High),
        "中" | "普通" | "標準" | "中程度" | "middle" | "mid" => Some(C::Medium),
        "低" | "低い" | "小" => Some(C::Low),
        _ => None,
    }
}

/// mamori's asset id: a positive whole number.
fn parse_asset_id(value: &str) -> Result<i64, String> {
    let folded = fold_width(value);
    match folded.trim().parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "not a mamori asset id (a positive whole number): {}; map the column to an \
             attribute if it holds the facility's own numbering",
            clip(value, 80)
        )),
    }
}

/// Splits a cell listing several addresses (one per line, or separated by `;` `,` `/` `、`).
fn address_pieces(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(['\n', '\r', ';', ',', '/', '、'])
        .map(|p| p.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        .filter(|p| !p.is_empty())
}

/// An IP address in canonical form; IPv4 with zero-padded parts (`192.168.001.010`) accepted.
fn parse_ip(piece: &str) -> Option<String> {
    if let Ok(ip) = piece.parse::<IpAddr>() {
        return Some(ip.to_string());
    }
    let mut octets = [0u8; 4];
    let mut parts = piece.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(Ipv4Addr::from(octets).to_string())
}

fn parse_ips(value: &str, out: &mut Vec<String>) -> Result<(), String> {
    let folded = fold_width(value);
    for piece in address_pieces(&folded) {
        // `-` holds the place of an interface without this address, so that the i-th IP and
        // the i-th MAC stay paired (mamori's export writes it so).
        if piece == "-" {
            out.push(String::new());
            continue;
        }
        // `192.168.1.10/24`: the prefix length after an address is not an address.
        if !out.is_empty() && piece.len() <= 3 && piece.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some(ip) = parse_ip(&piece) else {
            return Err(format!("not an IPv4 or IPv6 address: {}", clip(&piece, 80)));
        };
        if out.len() >= MAX_ADDRESSES {
            return Err(format!("more than {MAX_ADDRESSES} addresses in one cell"));
        }
        out.push(ip);
    }
    Ok(())
}

fn parse_macs(value: &str, out: &mut Vec<String>) -> Result<(), String> {
    let folded = fold_width(value);
    for piece in address_pieces(&folded) {
        // `-` holds the place of an interface without this address, so that the i-th IP and
        // the i-th MAC stay paired (mamori's export writes it so).
        if piece == "-" {
            out.push(String::new());
            continue;
        }
        let Some(mac) = normalize_mac(&piece) else {
            return Err(format!("not a MAC address: {}", clip(&piece, 80)));
        };
        if out.len() >= MAX_ADDRESSES {
            return Err(format!("more than {MAX_ADDRESSES} addresses in one cell"));
        }
        out.push(mac);
    }
    Ok(())
}

/// A date as ledgers write it → Unix seconds at 00:00 JST. Accepts `2024/4/1`, `2024-04-01`,
/// `2024.4.1`, `2024年4月1日`, `20240401`, `R6.4.1`, `令和6年4月1日`, `令和元年5月1日`,
/// `H31.4.30`, `平成31年4月30日`, optionally followed by a time or a weekday (`2024/4/1(月)`,
/// `2024-04-01T10:00:00`), which are ignored.
fn parse_date(value: &str) -> Option<i64> {
    let folded = fold_width(value);
    let s = folded.trim();
    let (era_offset, s) = if let Some(r) = s.strip_prefix("令和") {
        (Some(2018), r)
    } else if let Some(r) = s.strip_prefix("平成") {
        (Some(1988), r)
    } else if let Some(r) = s.strip_prefix(['R', 'r']) {
        (Some(2018), r)
    } else if let Some(r) = s.strip_prefix(['H', 'h']) {
        (Some(1988), r)
    } else {
        (None, s)
    };
    let s = s.trim_start();
    let (year, rest) = match era_offset {
        Some(offset) => {
            let (n, rest) = if let Some(r) = s.strip_prefix('元') {
                (1, r)
            } else {
                let (d, r) = leading_digits(s);
                if d.is_empty() || d.len() > 2 {
                    return None;
                }
                (d.parse::<i64>().ok()?, r)
            };
            if n == 0 {
                return None;
            }
            (offset + n, rest)
        }
        None => {
            let (d, rest) = leading_digits(s);
            if d.len() == 8 && date_tail_ok(rest) {
                let y = d.get(0..4)?.parse().ok()?;
                let m = d.get(4..6)?.parse().ok()?;
                let day = d.get(6..8)?.parse().ok()?;
                return jst_midnight(y, m, day);
            }
            if d.len() != 4 {
                return None;
            }
            (d.parse::<i64>().ok()?, rest)
        }
    };
    let rest = rest.trim_start().strip_prefix(['/', '-', '.', '年'])?;
    let (m, rest) = leading_digits(rest.trim_start());
    if m.is_empty() || m.len() > 2 {
        return None;
    }
    let rest = rest.trim_start().strip_prefix(['/', '-', '.', '月'])?;
    let (d, rest) = leading_digits(rest.trim_start());
    if d.is_empty() || d.len() > 2 {
        return None;
    }
    let rest = rest.strip_prefix('日').unwrap_or(rest);
    if !date_tail_ok(rest) {
        return None;
    }
    jst_midnight(year, m.parse().ok()?, d.parse().ok()?)
}

fn leading_digits(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s.split_at_checked(end).unwrap_or((s, ""))
}

fn date_tail_ok(rest: &str) -> bool {
    rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || c == 'T' || c == '(')
}

/// 00:00 Japan time (UTC+9) of a civil date, Unix seconds.
fn jst_midnight(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1900..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let max_day = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > max_day {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 - 9 * 3600)
}

/// At most `max` characters of `s`, with `…` when cut.
fn clip(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Rows → observations (shared by CSV and xlsx)
// ---------------------------------------------------------------------------------------------



fn no_header(file: &str, detail: &str) -> IngestError {
    invalid(
        file,
        1,
        "header",
        format!(
            "no header row found in the first {HEADER_SCAN_ROWS} rows{detail}: a header row \
             needs at least two known column names, such as 機器名, ホスト名, IPアドレス, \
             MACアドレス (or Name, Hostname, IP address, MAC address); name columns with \
             --map COLUMN=FIELD otherwise"
        ),
    )
}

/// Number of cells up to the last non-empty one.
fn effective_len<S: AsRef<str>>(cells: &[S]) -> usize {
    cells
        .iter()
        .rposition(|c| !c.as_ref().trim().is_empty())
        .map_or(0, |i| i + 1)
}

fn check_width<S: AsRef<str>>(file: &str, line: u64, cells: &[S]) -> Result<(), IngestError> {
    if effective_len(cells) > MAX_COLUMNS {
        return Err(refused(
            file,
            line,
            &format!("column {}", MAX_COLUMNS + 1),
            format!("a row with more than {MAX_COLUMNS} columns"),
        ));
    }
    Ok(())
}

/// Whether a header text names the override's column.
fn same_column(header: &str, column: &str) -> bool {
    let (h, c) = (header.trim(), column.trim());
    if h == c {
        return true;
    }
    let key = norm_key(c);
    !key.is_empty() && norm_key(h) == key
}

/// How many distinct fields the cells of a row would map to (header detection).
fn mapped_count<S: AsRef<str>>(cells: &[S], overrides: &[(String, Option<LedgerField>)]) -> usize {
    let mut fields = BTreeSet::new();
    for cell in cells.iter().take(MAX_COLUMNS) {
        let cell = cell.as_ref().trim();
        if cell.is_empty() || cell.len() > MAX_VALUE_BYTES {
            continue;
        }
        let field = match overrides.iter().find(|(col, _)| same_column(cell, col)) {
            Some((_, f)) => *f,
            None => field_for_header(cell),
        };
        if let Some(f) = field {
            fields.insert(f);
        }
    }
    fields.len()
}

/// Header texts cleaned for use as attribute keys: line breaks as spaces, `column N` for empty
/// cells, repeated texts numbered.
fn clean_headers<S: AsRef<str>>(cells: &[S]) -> Vec<String> {
    let width = effective_len(cells);
    let mut out: Vec<String> = Vec::with_capacity(width);
    for (i, cell) in cells.iter().take(width).enumerate() {
        let parts: Vec<&str> = cell
            .as_ref()
            .split(['\r', '\n', '\t'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let mut header = parts.join(" ");
        if header.is_empty() {
            header = format!("column {}", i + 1);
        }
        if out.contains(&header) {
            let mut n = 2;
            while out.contains(&format!("{header} ({n})")) {
                n += 1;
            }
            header = format!("{header} ({n})");
        }
        out.push(header);
    }
    out
}

/// Maps headers: overrides first, then proposals for the other columns, never a field twice.
fn map_headers(
    file: &str,
    line: u64,
    headers: &[String],
    overrides: &[(String, Option<LedgerField>)],
) -> Result<Vec<Option<LedgerField>>, IngestError> {
    let mut mapping: Vec<Option<LedgerField>> = vec![None; headers.len()];
    let mut fixed = vec![false; headers.len()];
    for (column, field) in overrides {
        let found = headers
            .iter()
            .position(|h| h.trim() == column.trim())
            .or_else(|| headers.iter().position(|h| same_column(h, column)));
        let Some(i) = found else {
            return Err(invalid(
                file,
                line,
                &clip(column, 80),
                format!(
                    "--map names a column that is not in the header row (columns: {})",
                    clip(&headers.join(", "), 300)
                ),
            ));
        };
        if let Some(f) = field {
            let clash = mapping
                .iter()
                .zip(&fixed)
                .enumerate()
                .find(|(j, (m, fx))| *j != i && **fx && **m == Some(*f));
            if let Some((j, _)) = clash {
                return Err(invalid(
                    file,
                    line,
                    &clip(column, 80),
                    format!(
                        "--map maps both {} and {} to {}",
                        clip(headers.get(j).map_or("", String::as_str), 80),
                        clip(headers.get(i).map_or("", String::as_str), 80),
                        f.code()
                    ),
                ));
            }
        }
        if let (Some(m), Some(fx)) = (mapping.get_mut(i), fixed.get_mut(i)) {
            *m = *field;
            *fx = true;
        }
    }
    let mut taken: BTreeSet<LedgerField> = mapping.iter().flatten().copied().collect();
    for ((header, m), fx) in headers.iter().zip(mapping.iter_mut()).zip(&fixed) {
        if *fx {
            continue;
        }
        if let Some(f) = field_for_header(header)
            && taken.insert(f)
        {
            *m = Some(f);
        }
    }
    Ok(mapping)
}

/// Turns rows into observations once the header is known, handing each to the sink.
struct Builder<'a> {
    file: &'a str,
    sink: &'a mut dyn Sink,
    headers: Vec<String>,
    header_line: u64,
    mapping: Vec<Option<LedgerField>>,
    /// Unmapped row-number columns, whose content alone does not make a row.
    row_number: Vec<bool>,
    /// Header of the Name column, for "nothing identifies the device".
    name_header: String,
    rows: usize,
}

impl<'a> Builder<'a> {
    fn new<S: AsRef<str>>(
        file: &'a str,
        header_line: u64,
        header_cells: &[S],
        overrides: &[(String, Option<LedgerField>)],
        sink: &'a mut dyn Sink,
    ) -> Result<Self, IngestError> {
        check_width(file, header_line, header_cells)?;
        if let Some(long) = header_cells
            .iter()
            .find(|c| c.as_ref().len() > MAX_VALUE_BYTES)
        {
            return Err(refused(
                file,
                header_line,
                &clip(long.as_ref(), 40),
                format!("a header longer than {MAX_VALUE_BYTES} bytes"),
            ));
        }
        let headers = clean_headers(header_cells);
        let mapping = map_headers(file, header_line, &headers, overrides)?;
        let row_number = headers
            .iter()
            .zip(&mapping)
            .map(|(h, m)| m.is_none() && is_row_number_key(&norm_key(h)))
            .collect();
        let name_header = headers
            .iter()
            .zip(&mapping)
            .find(|(_, m)| **m == Some(LedgerField::Name))
            .map_or_else(|| "機器名".to_owned(), |(h, _)| h.clone());
        Ok(Self {
            file,
            headers,
            header_line,
            mapping,
            row_number,
            name_header,
            sink,
            rows: 0,
        })
    }

    fn field(&self, col: usize) -> Option<LedgerField> {
        self.mapping.get(col).copied().flatten()
    }

    fn header(&self, col: usize) -> Cow<'_, str> {
        match self.headers.get(col) {
            Some(h) => Cow::Borrowed(h.as_str()),
            None => Cow::Owned(format!("column {}", col + 1)),
        }
    }

    /// One row after the header. Only a limit over the whole file is an `Err`; a row that
    /// cannot be read goes to `rejected`.
    fn row<S: AsRef<str>>(&mut self, line: u64, cells: &[S]) -> Result<(), IngestError> {
        let content = cells.iter().enumerate().any(|(i, c)| {
            !c.as_ref().trim().is_empty() && !self.row_number.get(i).copied().unwrap_or(false)
        });
        if !content {
            return Ok(());
        }
        check_width(self.file, line, cells)?;
        self.rows += 1;
        if self.rows > MAX_ROWS {
            return Err(refused(
                self.file,
                line,
                "row",
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        match self.observation(line, cells) {
            Ok(obs) => self.sink.observation(obs),
            Err(e) => self.sink.rejected(e),
        }
    }

    fn observation<S: AsRef<str>>(
        &self,
        line: u64,
        cells: &[S],
    ) -> Result<Observation, IngestError> {
        let mut obs = Observation::at_line(line);
        let mut ips: Vec<String> = Vec::new();
        let mut macs: Vec<String> = Vec::new();
        for (col, cell) in cells.iter().enumerate() {
            let value = cell.as_ref().trim();
            // mamori's CSV export writes `'=…` for a cell that would otherwise run as a
            // formula in a spreadsheet; the quote is not part of the value.
            let value = value
                .strip_prefix('\'')
                .filter(|v| v.starts_with(['=', '+', '-', '@']))
                .unwrap_or(value);
            if value.is_empty() {
                continue;
            }
            if value.len() > MAX_VALUE_BYTES {
                return Err(refused(
                    self.file,
                    line,
                    &self.header(col),
                    format!("a value longer than {MAX_VALUE_BYTES} bytes"),
                ));
            }
            self.apply(&mut obs, col, value, &mut ips, &mut macs)
                .map_err(|reason| invalid(self.file, line, &self.header(col), reason))?;
        }
        let present = |v: Option<String>| v.filter(|a| !a.is_empty());
        let mut ips = ips.into_iter().map(Some).chain(std::iter::repeat(None));
        let mut macs = macs.into_iter().map(Some).chain(std::iter::repeat(None));
        let (first_ip, first_mac) = (ips.next().flatten(), macs.next().flatten());
        obs.ip = present(first_ip);
        obs.mac = present(first_mac);
        loop {
            let (ip, mac) = (ips.next().flatten(), macs.next().flatten());
            if ip.is_none() && mac.is_none() {
                break;
            }
            let (ip, mac) = (present(ip), present(mac));
            if ip.is_none() && mac.is_none() {
                continue;
            }
            obs.extra_interfaces.push(Interface {
                name: None,
                ip,
                mac,
                segment_id: None,
            });
        }
        if obs.name.is_none() && obs.hostname.is_none() && obs.ip.is_none() && obs.mac.is_none() {
            return Err(invalid(
                self.file,
                line,
                &self.name_header,
                "nothing identifies the device: the name, host name, IP address and MAC \
                 address are all empty",
            ));
        }
        Ok(obs)
    }

    fn apply(
        &self,
        obs: &mut Observation,
        col: usize,
        value: &str,
        ips: &mut Vec<String>,
        macs: &mut Vec<String>,
    ) -> Result<(), String> {
        use LedgerField as F;
        let Some(field) = self.field(col) else {
            obs.attributes
                .insert(self.header(col).into_owned(), value.to_owned());
            return Ok(());
        };
        // Fields whose own vocabulary comes before the "unknown" placeholders.
        match field {
            F::Kind => {
                match parse_kind(value) {
                    Some(kind) => obs.kind = Some(kind),
                    None if is_unknown(value) => {}
                    None => {
                        obs.attributes.insert(KIND_RAW.to_owned(), value.to_owned());
                    }
                }
                return Ok(());
            }
            F::Criticality => {
                match parse_criticality(value) {
                    Some(c) => obs.criticality = Some(c),
                    None if is_unknown(value) => {}
                    None => {
                        obs.attributes
                            .insert(CRITICALITY_RAW.to_owned(), value.to_owned());
                    }
                }
                return Ok(());
            }
            F::InternetFacing | F::EndpointProtection => {
                let parsed = match parse_bool(value) {
                    Some(b) => Some(b),
                    None if is_unknown(value) => None,
                    // Ledgers often name the product in the ウイルス対策 column
                    // ("ウイルスバスター"): that says yes, and the name is kept.
                    None if field == F::EndpointProtection => {
                        obs.attributes
                            .insert("endpoint_protection_product".to_owned(), value.to_owned());
                        Some(true)
                    }
                    None => {
                        return Err(format!(
                            "not yes or no: {} (expected はい/いいえ, 有/無, ○/×, yes/no, \
                             true/false or 1/0; map the column to an attribute to keep it as \
                             text)",
                            clip(value, 80)
                        ));
                    }
                };
                if field == F::InternetFacing {
                    obs.internet_facing = parsed;
                } else {
                    obs.endpoint_protection = parsed;
                }
                return Ok(());
            }
            _ => {}
        }
        if is_unknown(value) {
            return Ok(());
        }
        let text = Some(value.to_owned());
        match field {
            F::AssetId => obs.asset_id = Some(parse_asset_id(value)?),
            F::Name => obs.name = text,
            F::Hostname => obs.hostname = text,
            F::Vendor => obs.vendor = text,
            F::Product => obs.product = text,
            F::Model => obs.model = text,
            F::Os => obs.os = text,
            F::OsVersion => obs.os_version = text,
            F::Serial => obs.serial = text,
            F::Location => obs.location = text,
            F::Department => obs.department = text,
            F::Owner => obs.owner = text,
            F::Segment => obs.segment = text,
            F::Maintainer => obs.maintainer = text,
            F::Notes => obs.notes = text,
            F::Ip if is_dynamic_address(value) => {
                // "DHCP": no fixed address, but worth keeping.
                obs.attributes
                    .insert(self.header(col).into_owned(), value.to_owned());
            }
            F::Ip => parse_ips(value, ips)?,
            F::Mac => parse_macs(value, macs)?,
            F::LastSeen => {
                obs.seen_at = Some(parse_date(value).ok_or_else(|| {
                    format!(
                        "not a date: {} (expected e.g. 2024/4/1, 2024-04-01, 2024年4月1日 or \
                         R6.4.1)",
                        clip(value, 80)
                    )
                })?);
            }
            F::Kind | F::Criticality | F::InternetFacing | F::EndpointProtection => {}
        }
        Ok(())
    }

    fn finish(self) -> LedgerHeader {
        LedgerHeader {
            headers: self.headers,
            header_line: self.header_line,
            mapping: self.mapping,
        }
    }
}

/// Index of the header row among the scanned rows.
fn find_header<S: AsRef<str>>(
    rows: &[(u64, Vec<S>)],
    overrides: &[(String, Option<LedgerField>)],
) -> Option<usize> {
    rows.iter()
        .position(|(_, cells)| mapped_count(cells, overrides) >= 2)
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/// Reads a CSV (or TSV) ledger. `name` is used in error messages; `overrides` are `--map`
/// options ([`parse_field_override`]).
///
/// Text: UTF-8 with or without a BOM; UTF-16 with a BOM (Excel's "Unicode text", tab
/// separated); otherwise Shift_JIS (CP932, what Excel on Japanese Windows writes). The
/// delimiter is a comma, or a tab or semicolon when the header row is only found that way.
/// Quoted fields may span lines; `line` is where a record starts.
pub fn read_ledger_csv(
    name: &str,
    bytes: &[u8],
    overrides: &[(String, Option<LedgerField>)],
) -> Result<LedgerSheet, IngestError> {
    let mut ingested = Ingested::default();
    let header = stream_ledger_csv(name, &mut || Ok(Box::new(bytes)), overrides, &mut ingested)?;
    Ok(LedgerSheet::of(header, ingested))
}

/// Reads a CSV ledger as [`read_ledger_csv`] does, handing each row's observation (or
/// rejection) to `sink` as it is read: memory does not grow with the file. `open` gives the
/// file from the start; it is called once to sniff the encoding and once per delimiter tried.
pub fn stream_ledger_csv<'r>(
    name: &str,
    open: &mut dyn FnMut() -> std::io::Result<Box<dyn std::io::Read + 'r>>,
    overrides: &[(String, Option<LedgerField>)],
    sink: &mut dyn Sink,
) -> Result<LedgerHeader, IngestError> {
    let io = |source| IngestError::Io { file: name.to_owned(), line: 1, source };
    let head = text::read_head(open().map_err(io)?, 4096).map_err(io)?;
    let sniffed = text::sniff(&head);
    let delimiters = if sniffed.utf16 {
        [b'\t', b',', b';']
    } else {
        [b',', b'\t', b';']
    };
    for delimiter in delimiters {
        let text = text::TextReader::new(open().map_err(io)?, sniffed);
        let mut lines = text.lines();
        let mut line_of = |record: &csv::StringRecord| record.position().map_or(1, |p| lines.line_at(p.byte()));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text);
        let mut record = csv::StringRecord::new();
        let mut scanned: Vec<(u64, Vec<String>)> = Vec::new();
        while scanned.len() < HEADER_SCAN_ROWS && next_record(name, &mut reader, &mut record)? {
            scanned.push((line_of(&record), record.iter().map(str::to_owned).collect()));
        }
        let Some(at) = find_header(&scanned, overrides) else {
            continue;
        };
        let Some((header_line, header_cells)) = scanned.get(at) else {
            continue;
        };
        let mut builder = Builder::new(name, *header_line, header_cells, overrides, &mut *sink)?;
        for (line, cells) in scanned.iter().skip(at + 1) {
            builder.row(*line, cells)?;
        }
        while next_record(name, &mut reader, &mut record)? {
            let cells: Vec<&str> = record.iter().collect();
            builder.row(line_of(&record), &cells)?;
        }
        return Ok(builder.finish());
    }
    Err(no_header(name, ""))
}

fn next_record<R: std::io::Read>(
    name: &str,
    reader: &mut csv::Reader<R>,
    record: &mut csv::StringRecord,
) -> Result<bool, IngestError> {
    reader.read_record(record).map_err(|e| {
        if let csv::ErrorKind::Io(io) = e.kind()
            && let Some(enc) = io.get_ref().and_then(|i| i.downcast_ref::<text::EncodingError>())
        {
            return invalid(name, enc.line, "encoding", enc.to_string());
        }
        let line = e.position().map_or(1, |p| p.line().max(1));
        invalid(name, line, "record", format!("unreadable CSV record: {e}"))
    })
}

// ---------------------------------------------------------------------------------------------
// xlsx
// ---------------------------------------------------------------------------------------------

/// Reads an xlsx ledger: the first worksheet (visible ones first) whose first
/// [`HEADER_SCAN_ROWS`] rows hold a header row. `line` is the spreadsheet row number.
///
/// Date cells become `YYYY-MM-DD` (with the time when there is one); in the 最終確認日 column
/// a plain number that is an Excel date serial is read as that date. Whole numbers are written
/// without a decimal point (`10`, not `10.0`). A broken, encrypted or hostile workbook is an
/// `Err` that says why; it never panics.
pub fn read_ledger_xlsx(
    name: &str,
    bytes: &[u8],
    overrides: &[(String, Option<LedgerField>)],
) -> Result<LedgerSheet, IngestError> {
    let mut ingested = Ingested::default();
    let header = stream_ledger_xlsx(name, Cursor::new(bytes), overrides, &mut ingested)?;
    Ok(LedgerSheet::of(header, ingested))
}

/// Reads an xlsx ledger as [`read_ledger_xlsx`] does, cell by cell from any seekable reader (a
/// file need not be loaded first), handing each row's observation to `sink` as it is read.
pub fn stream_ledger_xlsx<R: std::io::Read + std::io::Seek>(
    name: &str,
    reader: R,
    overrides: &[(String, Option<LedgerField>)],
    sink: &mut dyn Sink,
) -> Result<LedgerHeader, IngestError> {
    // Defence in depth: a reader bug on malformed content must not take the program down.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_xlsx_inner(name, reader, overrides, sink)
    }))
    .unwrap_or_else(|_| {
        Err(invalid(
            name,
            1,
            "xlsx",
            "the workbook could not be read: the xlsx reader failed on malformed content",
        ))
    })
}

fn xlsx_error(name: &str, line: u64, e: &XlsxError) -> IngestError {
    let reason = match e {
        XlsxError::Password => {
            "the workbook is password-protected: save it again without a password".to_owned()
        }
        XlsxError::Zip(z) => format!(
            "not a readable xlsx workbook (broken zip archive: {})",
            clip(&z.to_string(), 200)
        ),
        other => format!(
            "not a readable xlsx workbook: {}",
            clip(&other.to_string(), 200)
        ),
    };
    invalid(name, line, "xlsx", reason)
}

fn read_xlsx_inner<R: std::io::Read + std::io::Seek>(
    name: &str,
    mut reader: R,
    overrides: &[(String, Option<LedgerField>)],
    sink: &mut dyn Sink,
) -> Result<LedgerHeader, IngestError> {
    let io = |source| IngestError::Io { file: name.to_owned(), line: 1, source };
    let bytes = crate::text::read_head(&mut reader, 8).map_err(io)?;
    reader.seek(std::io::SeekFrom::Start(0)).map_err(io)?;
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(invalid(
            name,
            1,
            "xlsx",
            "an old .xls workbook or a password-protected .xlsx: save it as .xlsx without a \
             password",
        ));
    }
    if !bytes.starts_with(b"PK") {
        return Err(invalid(
            name,
            1,
            "xlsx",
            "not an xlsx workbook: it is not a zip archive (is it a CSV file?)",
        ));
    }
    let mut workbook: Xlsx<R> = Xlsx::new(reader).map_err(|e| xlsx_error(name, 1, &e))?;
    let mut sheets: Vec<(bool, String)> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet)
        .map(|s| (s.visible != SheetVisible::Visible, s.name.clone()))
        .collect();
    // Visible sheets first, each group in workbook order (the sort is stable).
    sheets.sort_by_key(|(hidden, _)| *hidden);
    if sheets.is_empty() {
        return Err(invalid(name, 1, "xlsx", "the workbook has no worksheet"));
    }
    for (_, sheet) in &sheets {
        let mut reader = workbook
            .worksheet_cells_reader(sheet)
            .map_err(|e| xlsx_error(name, 1, &e))?;
        let mut rows = SheetRows {
            name,
            next: move || {
                reader
                    .next_cell()
                    .map(|c| c.map(|cell| (cell.get_position(), xvalue(cell.get_value()))))
            },
            pending: None,
            last_line: 1,
            done: false,
        };
        let mut scanned: Vec<(u64, Vec<XCell>)> = Vec::new();
        let mut after_scan = None;
        while let Some((line, cells)) = rows.next_row()? {
            if line > HEADER_SCAN_ROWS as u64 {
                after_scan = Some((line, cells));
                break;
            }
            scanned.push((line, cells));
        }
        let as_text: Vec<(u64, Vec<String>)> = scanned
            .iter()
            .map(|(line, cells)| (*line, render_row(cells, None)))
            .collect();
        let Some(at) = find_header(&as_text, overrides) else {
            continue;
        };
        let Some((header_line, header_cells)) = as_text.get(at) else {
            continue;
        };
        let mut builder = Builder::new(name, *header_line, header_cells, overrides, &mut *sink)?;
        let last_seen = builder
            .mapping
            .iter()
            .position(|m| *m == Some(LedgerField::LastSeen));
        for (line, cells) in scanned.iter().skip(at + 1) {
            builder.row(*line, &render_row(cells, last_seen))?;
        }
        if let Some((line, cells)) = after_scan {
            builder.row(line, &render_row(&cells, last_seen))?;
            while let Some((line, cells)) = rows.next_row()? {
                builder.row(line, &render_row(&cells, last_seen))?;
            }
        }
        return Ok(builder.finish());
    }
    Err(no_header(name, " of any worksheet"))
}

/// One non-empty cell: its column and value.
struct XCell {
    col: usize,
    value: XValue,
}

enum XValue {
    Text(String),
    /// A number, with its text form (whole numbers without `.0`).
    Number(f64, String),
}

/// One cell from calamine's stream: (row, column), and the value unless empty.
type RawCell = ((u32, u32), Option<XValue>);

/// The rows of one worksheet, from calamine's cell stream (`next` wraps the sheet's cell
/// reader, whose type calamine does not export).
struct SheetRows<'a, F> {
    name: &'a str,
    next: F,
    /// First cell of the next row, read while finishing the previous one.
    pending: Option<(u64, XCell)>,
    /// Row of the last cell read, for errors.
    last_line: u64,
    /// The stream has ended (calamine must not be asked again).
    done: bool,
}

impl<F: FnMut() -> Result<Option<RawCell>, XlsxError>> SheetRows<'_, F> {
    /// The next row with at least one non-empty cell: its 1-based row number and its cells.
    fn next_row(&mut self) -> Result<Option<(u64, Vec<XCell>)>, IngestError> {
        let (line, first) = match self.pending.take() {
            Some(p) => p,
            None => match self.next_cell()? {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        let mut cells = vec![first];
        while let Some((l, cell)) = self.next_cell()? {
            if l != line {
                self.pending = Some((l, cell));
                break;
            }
            // Only a hostile sheet repeats a cell reference; do not collect them forever.
            if cells.len() >= MAX_COLUMNS {
                return Err(refused(
                    self.name,
                    line,
                    "row",
                    format!("a row with more than {MAX_COLUMNS} cells"),
                ));
            }
            cells.push(cell);
        }
        Ok(Some((line, cells)))
    }

    /// The next non-empty cell.
    fn next_cell(&mut self) -> Result<Option<(u64, XCell)>, IngestError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let cell = (self.next)().map_err(|e| xlsx_error(self.name, self.last_line, &e))?;
            let Some(((row, col), value)) = cell else {
                self.done = true;
                return Ok(None);
            };
            let line = u64::from(row) + 1;
            self.last_line = line;
            let Some(value) = value else {
                continue;
            };
            let col = col as usize;
            if col >= MAX_COLUMNS {
                return Err(refused(
                    self.name,
                    line,
                    &format!("column {}", col + 1),
                    format!("a row with more than {MAX_COLUMNS} columns"),
                ));
            }
            return Ok(Some((line, XCell { col, value })));
        }
    }
}

fn xvalue(data: &DataRef<'_>) -> Option<XValue> {
    Some(match data {
        DataRef::Empty => return None,
        DataRef::Int(i) => XValue::Number(*i as f64, i.to_string()),
        DataRef::Float(f) => XValue::Number(*f, render_number(*f)),
        DataRef::String(s) => XValue::Text(s.clone()),
        DataRef::SharedString(s) => XValue::Text((*s).to_owned()),
        DataRef::Bool(b) => XValue::Text(if *b { "TRUE" } else { "FALSE" }.to_owned()),
        DataRef::DateTime(dt) => XValue::Text(render_datetime(dt)),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => XValue::Text(s.clone()),
        DataRef::Error(e) => XValue::Text(e.to_string()),
    })
}

/// Whole numbers without a decimal point (`10`), others as Rust writes them (`3.5`).
fn render_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// Largest Excel date serial (9999-12-31) + 1.
const MAX_SERIAL: f64 = 2_958_466.0;

pub(crate) fn render_datetime(dt: &ExcelDateTime) -> String {
    let v = dt.as_f64();
    // Out of Excel's range (or a duration): the number itself. The range check also keeps
    // calamine's conversion away from values it would overflow on.
    if dt.is_duration() || !v.is_finite() || !(0.0..MAX_SERIAL).contains(&v) {
        return render_number(v);
    }
    let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
    if v < 1.0 {
        format!("{hh:02}:{mm:02}:{ss:02}")
    } else if (hh, mm, ss) == (0, 0, 0) {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}")
    }
}

/// A row as dense text cells; `last_seen` is the 最終確認日 column, where a number is an
/// Excel date serial.
fn render_row(cells: &[XCell], last_seen: Option<usize>) -> Vec<String> {
    let width = cells.iter().map(|c| c.col + 1).max().unwrap_or(0);
    let mut out = vec![String::new(); width];
    for cell in cells {
        let text = match &cell.value {
            XValue::Text(t) => t.clone(),
            XValue::Number(f, _)
                if Some(cell.col) == last_seen && (1.0..MAX_SERIAL).contains(f) =>
            {
                render_datetime(&ExcelDateTime::new(
                    f.floor(),
                    ExcelDateTimeType::DateTime,
                    false,
                ))
            }
            XValue::Number(_, t) => t.clone(),
        };
        if let Some(slot) = out.get_mut(cell.col) {
            *slot = text;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Writes one worksheet of text cells and returns the workbook bytes: a bold, filled header
/// row that stays in view, an autofilter, column widths fitted to the content (up to a limit).
/// Every cell (and every column, for what people type later) is formatted as text, so that
/// Excel never turns a MAC address, an asset id or `001` into a number, time or date.
pub fn write_xlsx(
    sheet_name: &str,
    headers: &[String],
    rows: &[Vec<String>],
) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, FormatPattern, Workbook};

    let columns = headers
        .len()
        .max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let last_col = u16::try_from(columns.saturating_sub(1))
        .map_err(|_| format!("too many columns for a worksheet: {columns}"))?;
    let last_row = u32::try_from(rows.len())
        .map_err(|_| format!("too many rows for a worksheet: {}", rows.len()))?;
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet
        .set_name(sheet_name)
        .map_err(|e| format!("sheet name {sheet_name:?}: {e}"))?;
    let header_format = Format::new()
        .set_bold()
        .set_pattern(FormatPattern::Solid)
        .set_background_color(Color::RGB(0x00DD_EBF7))
        .set_border(FormatBorder::Thin);
    let text = Format::new().set_num_format("@");
    if columns > 0 {
        for col in 0..=last_col {
            let index = usize::from(col);
            let width = headers
                .get(index)
                .into_iter()
                .chain(rows.iter().take(1000).filter_map(|r| r.get(index)))
                .map(|s| display_width(s))
                .max()
                .unwrap_or(0);
            let width = (width as f64 + 2.0).clamp(8.0, 60.0);
            sheet
                .set_column_width(col, width)
                .and_then(|s| s.set_column_format(col, &text))
                .map_err(|e| format!("column {}: {e}", index + 1))?;
        }
    }
    for (col, header) in headers.iter().enumerate() {
        let c = u16::try_from(col).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, c, header, &header_format)
            .map_err(|e| format!("header {}: {e}", col + 1))?;
    }
    for (r, row) in rows.iter().enumerate() {
        let rn = u32::try_from(r + 1).map_err(|e| e.to_string())?;
        for (col, value) in row.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let c = u16::try_from(col).map_err(|e| e.to_string())?;
            sheet
                .write_string_with_format(rn, c, value, &text)
                .map_err(|e| format!("row {}, column {}: {e}", r + 2, col + 1))?;
        }
    }
    sheet
        .set_freeze_panes(1, 0)
        .map_err(|e| format!("freeze panes: {e}"))?;
    if columns > 0 {
        sheet
            .autofilter(0, 0, last_row, last_col)
            .map_err(|e| format!("autofilter: {e}"))?;
    }
    workbook.save_to_buffer().map_err(|e| e.to_string())
}

/// Width in Excel character units: 2 for East Asian wide characters, longest line.
fn display_width(s: &str) -> usize {
    s.lines()
        .map(|line| {
            line.chars()
                .map(|c| {
                    let u = u32::from(c);
                    if u >= 0x1100 && !(0xFF61..=0xFF9F).contains(&u) {
                        2
                    } else {
                        1
                    }
                })
                .sum::<usize>()
        })
        .max()
        .unwrap_or(0)
}

/// An empty ledger to start from: the [`EXPORT_COLUMNS`] headers (without 管理番号, which
/// mamori assigns) in Japanese or English, and two example rows (an EMR server and a reception
/// PC) that import as they are.
pub fn template_xlsx(lang_ja: bool) -> Result<Vec<u8>, String> {
    let columns: Vec<&(LedgerField, &str, &str)> = EXPORT_COLUMNS
        .iter()
        .filter(|(f, _, _)| *f != LedgerField::AssetId)
        .collect();
    let headers: Vec<String> = columns
        .iter()
        .map(|(_, ja, en)| if lang_ja { *ja } else { *en }.to_owned())
        .collect();
    let rows: Vec<Vec<String>> = (0..2)
        .map(|i| {
            columns
                .iter()
                .map(|(f, _, _)| example_value(*f, i, lang_ja).to_owned())
                .collect()
        })
        .collect();
    write_xlsx(if lang_ja { "台帳" } else { "Assets" }, &headers, &rows)
}

fn example_value(field: LedgerField, row: usize, ja: bool) -> &'static str {
    use LedgerField as F;
    let server = row == 0;
    match (field, ja) {
        (F::AssetId, _) => "",
        (F::Name, true) => pick(server, "電子カルテサーバ", "受付PC"),
        (F::Name, false) => pick(server, "EMR server", "Reception PC"),
        (F::Hostname, _) => pick(server, "emr-sv01", "uketsuke-pc01"),
        (F::Kind, true) => pick(server, "サーバ", "PC"),
        (F::Kind, false) => pick(server, "server", "pc"),
        (F::Criticality, true) => pick(server, "最重要", "高"),
        (F::Criticality, false) => pick(server, "critical", "high"),
        (F::Vendor, true) => "〇〇電機",
        (F::Vendor, false) => "Example Electric",
        (F::Product, true) => pick(server, "電子カルテシステム", "業務用PC"),
        (F::Product, false) => pick(server, "EMR system", "Office PC"),
        (F::Model, _) => pick(server, "SV-1000", "PC-200"),
        (F::Os, _) => pick(server, "Windows Server", "Windows 11"),
        (F::OsVersion, _) => pick(server, "2022", "23H2"),
        (F::Serial, _) => pick(server, "SN-0001", "SN-0002"),
        (F::Location, true) => pick(server, "サーバ室", "受付"),
        (F::Location, false) => pick(server, "Server room", "Reception"),
        (F::Department, true) => "医事課",
        (F::Department, false) => "Medical affairs",
        (F::Owner, true) => pick(server, "山田 太郎", "鈴木 花子"),
        (F::Owner, false) => pick(server, "Taro Yamada", "Hanako Suzuki"),
        (F::Segment, true) => "電子カルテLAN",
        (F::Segment, false) => "EMR LAN",
        (F::Ip, _) => pick(server, "192.168.10.10", "192.168.10.21"),
        (F::Mac, _) => pick(server, "00:00:5e:00:53:01", "00:00:5e:00:53:02"),
        (F::InternetFacing, true) => "いいえ",
        (F::InternetFacing, false) => "no",
        (F::EndpointProtection, true) => "はい",
        (F::EndpointProtection, false) => "yes",
        (F::Maintainer, true) => "〇〇システム株式会社",
        (F::Maintainer, false) => "Example Systems Ltd.",
        (F::LastSeen, true) => "2024/04/01",
        (F::LastSeen, false) => "2024-04-01",
        (F::Notes, true) => "記入例（書き換えるか削除してください）",
        (F::Notes, false) => "Example row: overwrite or delete",
    }
}

fn pick(first: bool, a: &'static str, b: &'static str) -> &'static str {
    if first { a } else { b }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;

    fn csv(text: &str) -> LedgerSheet {
        read_ledger_csv("台帳.csv", text.as_bytes(), &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn no_rejects(sheet: &LedgerSheet) {
        assert!(
            sheet.ingested.rejected.is_empty(),
            "{:?}",
            sheet
                .ingested
                .rejected
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn japanese_headers_in_odd_order_below_a_title_row() {
        let text = "医療情報システム機器台帳 令和6年度,,,,\n\
                    ,,,,\n\
                    ＩＰアドレス,種別,機器名（必須）,MAC アドレス,設置場所,最終確認日,ｳｲﾙｽ対策,重要度\n\
                    192.168.1.10,サーバー,電子カルテサーバ,00-1A-2B-3C-4D-5E,サーバ室,R6.4.1,○,最重要\n\
                    192.168.1.21,パソコン,受付PC,001a.2b3c.4d5f,受付,2024年4月2日,×,高\n";
        let s = csv(text);
        no_rejects(&s);
        assert_eq!(s.header_line, 3);
        assert_eq!(
            s.mapping,
            vec![
                Some(LedgerField::Ip),
                Some(LedgerField::Kind),
                Some(LedgerField::Name),
                Some(LedgerField::Mac),
                Some(LedgerField::Location),
                Some(LedgerField::LastSeen),
                Some(LedgerField::EndpointProtection),
                Some(LedgerField::Criticality),
            ]
        );
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].line, 4);
        assert_eq!(o[0].name.as_deref(), Some("電子カルテサーバ"));
        assert_eq!(o[0].ip.as_deref(), Some("192.168.1.10"));
        assert_eq!(o[0].mac.as_deref(), Some("00:1a:2b:3c:4d:5e"));
        assert_eq!(o[0].kind, Some(AssetKind::Server));
        assert_eq!(o[0].criticality, Some(Criticality::Critical));
        assert_eq!(o[0].endpoint_protection, Some(true));
        // 2024-04-01 00:00 JST = 2024-03-31 15:00 UTC.
        assert_eq!(o[0].seen_at, Some(1_711_897_200));
        assert_eq!(o[1].seen_at, Some(1_711_897_200 + 86_400));
        assert_eq!(o[1].kind, Some(AssetKind::Pc));
        assert_eq!(o[1].endpoint_protection, Some(false));
        assert_eq!(o[1].criticality, Some(Criticality::High));
        assert!(o[0].attributes.is_empty());
    }

    #[test]
    fn english_headers() {
        let text = "Asset name,Hostname,Type,IP Address,MAC,Vendor,Model,OS,Version,S/N,\
                    Internet facing,Last seen,Remarks,Vendor support\n\
                    Reception PC,UKETSUKE-01,pc,10.0.0.5,00:11:22:33:44:55,Acme,X1,Windows,11,\
                    AB123,no,2024-04-01,front desk,Acme Support\n\
                    ,printer-2f,Printer,10.0.0.9,,,,,,,false,,,\n";
        let s = csv(text);
        no_rejects(&s);
        use LedgerField as F;
        assert_eq!(
            s.mapping,
            [
                F::Name,
                F::Hostname,
                F::Kind,
                F::Ip,
                F::Mac,
                F::Vendor,
                F::Model,
                F::Os,
                F::OsVersion,
                F::Serial,
                F::InternetFacing,
                F::LastSeen,
                F::Notes,
                F::Maintainer
            ]
            .map(Some)
        );
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].vendor.as_deref(), Some("Acme"));
        assert_eq!(o[0].os_version.as_deref(), Some("11"));
        assert_eq!(o[0].serial.as_deref(), Some("AB123"));
        assert_eq!(o[0].internet_facing, Some(false));
        assert_eq!(o[0].maintainer.as_deref(), Some("Acme Support"));
        assert_eq!(o[0].notes.as_deref(), Some("front desk"));
        // No name but a host name: the name stays empty.
        assert_eq!(o[1].name, None);
        assert_eq!(o[1].hostname.as_deref(), Some("printer-2f"));
        assert_eq!(o[1].kind, Some(AssetKind::Printer));
        assert_eq!(o[1].line, 3);
    }

    #[test]
    fn shift_jis_csv() {
        let text = "機器名,ホスト名,IPアドレス,備考\r\n受付PC,uketsuke,192.168.0.2,１階　受付\r\n";
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        assert!(std::str::from_utf8(&bytes).is_err());
        let s = read_ledger_csv("sjis.csv", &bytes, &[]).unwrap();
        no_rejects(&s);
        let o = &s.ingested.observations[0];
        assert_eq!(o.name.as_deref(), Some("受付PC"));
        assert_eq!(o.notes.as_deref(), Some("１階　受付"));
        assert_eq!(s.headers[0], "機器名");
    }

    #[test]
    fn bom_utf8_and_utf16_tab_separated() {
        let text = "機器名,IPアドレス\n受付PC,192.168.0.2\n";
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(text.as_bytes());
        let s = read_ledger_csv("bom.csv", &bytes, &[]).unwrap();
        assert_eq!(s.headers[0], "機器名");
        assert_eq!(
            s.ingested.observations[0].ip.as_deref(),
            Some("192.168.0.2")
        );

        // Excel "Unicode text": UTF-16LE with a BOM, tab-separated.
        let tsv = "機器名\tIPアドレス\tメーカー\n受付PC\t192.168.0.3\tA, B\n";
        let mut bytes = vec![0xFF, 0xFE];
        for unit in tsv.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let s = read_ledger_csv("unicode.txt", &bytes, &[]).unwrap();
        no_rejects(&s);
        let o = &s.ingested.observations[0];
        assert_eq!(o.ip.as_deref(), Some("192.168.0.3"));
        assert_eq!(o.vendor.as_deref(), Some("A, B"));
    }

    #[test]
    fn line_numbers_with_any_line_ends() {
        // Old Mac (bare CR).
        let s = csv("機器名,IPアドレス\r受付PC,192.168.0.2\rNAS,bad\r\n");
        assert_eq!(s.ingested.observations[0].line, 2);
        assert_eq!(s.ingested.rejected[0].line(), 3);
        // Windows (CRLF), with blank lines and a quoted line break.
        let s =
            csv("台帳\r\n\r\n機器名,備考,IP\r\nA,\"x\r\ny\",10.0.0.1\r\n\r\nB,,bad\r\nC,,10.0.0.3");
        assert_eq!(s.header_line, 3);
        let lines: Vec<u64> = s.ingested.observations.iter().map(|o| o.line).collect();
        assert_eq!(lines, [4, 8]);
        assert_eq!(s.ingested.rejected[0].line(), 7);
    }

    #[test]
    fn tab_and_semicolon_delimiters() {
        let s = csv("機器名\tIPアドレス\n受付PC\t192.168.0.2\n");
        assert_eq!(s.ingested.observations[0].name.as_deref(), Some("受付PC"));
        let s = csv("Name;IP address\nPC, 2F;10.0.0.1\n");
        assert_eq!(s.ingested.observations[0].name.as_deref(), Some("PC, 2F"));
    }

    #[test]
    fn quoted_multi_line_cell_keeps_line_numbers() {
        let text = "機器名,備考,IPアドレス\n\
                    \"受付PC\",\"1行目\n2行目\",192.168.0.2\n\
                    NAS,,192.168.0.300\n";
        let s = csv(text);
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].notes.as_deref(), Some("1行目\n2行目"));
        assert_eq!(o[0].line, 2);
        let e = &s.ingested.rejected[0];
        assert_eq!(
            e.to_string(),
            "台帳.csv:4: IPアドレス: not an IPv4 or IPv6 address: 192.168.0.300"
        );
    }

    #[test]
    fn unknown_columns_are_attributes() {
        let text = "No.,機器名,IPアドレス,リース期限,OS,OS\n\
                    1,受付PC,192.168.0.2,2026/3/31,Windows,11\n\
                    2,,,,,\n\
                    3,,,,,\n";
        let s = csv(text);
        no_rejects(&s);
        assert_eq!(s.headers[5], "OS (2)");
        assert_eq!(s.mapping[3], None);
        assert_eq!(s.mapping[5], None, "OS is mapped once");
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 1, "rows with only a row number are blank");
        assert_eq!(
            o[0].attributes.get("リース期限").map(String::as_str),
            Some("2026/3/31")
        );
        assert_eq!(
            o[0].attributes.get("OS (2)").map(String::as_str),
            Some("11")
        );
        assert_eq!(o[0].attributes.get("No.").map(String::as_str), Some("1"));
        assert_eq!(o[0].os.as_deref(), Some("Windows"));
    }

    #[test]
    fn a_product_name_in_the_protection_column_means_yes() {
        let s = csv("機器名,ウイルス対策\nA,ウイルスバスター Corp.\nB,なし\nC,○\n");
        no_rejects(&s);
        let o = &s.ingested.observations;
        let got: Vec<Option<bool>> = o.iter().map(|o| o.endpoint_protection).collect();
        assert_eq!(got, [Some(true), Some(false), Some(true)]);
        assert_eq!(
            o[0].attributes.get("endpoint_protection_product").map(String::as_str),
            Some("ウイルスバスター Corp.")
        );
    }

    #[test]
    fn overrides_change_the_mapping() {
        let text = "端末,資産番号,住所\nPC-1,A-001,x\n";
        // 端末 alone is not a known header; 資産番号 is kept as an attribute anyway.
        let overrides = vec![
            parse_field_override("端末=name").unwrap(),
            parse_field_override("資産番号 = attribute").unwrap(),
            parse_field_override("住所=設置場所").unwrap(),
        ];
        let s = read_ledger_csv("x.csv", text.as_bytes(), &overrides).unwrap();
        no_rejects(&s);
        assert_eq!(
            s.mapping,
            vec![Some(LedgerField::Name), None, Some(LedgerField::Location)]
        );
        let o = &s.ingested.observations[0];
        assert_eq!(o.name.as_deref(), Some("PC-1"));
        assert_eq!(o.asset_id, None);
        assert_eq!(
            o.attributes.get("資産番号").map(String::as_str),
            Some("A-001")
        );
        assert_eq!(o.location.as_deref(), Some("x"));
        // An override takes a field away from a proposed column.
        let text = "名称,端末名,IP\nA,B,10.0.0.1\n";
        let s = read_ledger_csv(
            "x.csv",
            text.as_bytes(),
            &[("端末名".into(), Some(LedgerField::Name))],
        )
        .unwrap();
        assert_eq!(
            s.mapping,
            vec![None, Some(LedgerField::Name), Some(LedgerField::Ip)]
        );
        assert_eq!(
            s.ingested.observations[0]
                .attributes
                .get("名称")
                .map(String::as_str),
            Some("A")
        );
        // A column that is not there.
        let e = read_ledger_csv(
            "x.csv",
            "機器名,IP\nA,10.0.0.1\n".as_bytes(),
            &[("機器目".into(), None)],
        )
        .unwrap_err();
        assert_eq!((e.line(), e.field()), (1, "機器目"), "{e}");
        // Bad override specs.
        assert!(parse_field_override("no-equals").is_err());
        assert!(parse_field_override("=name").is_err());
        let e = parse_field_override("列=nonsense").unwrap_err();
        assert!(e.contains("unknown field") && e.contains("hostname"), "{e}");
        assert_eq!(
            parse_field_override("IP=ip"),
            Ok(("IP".to_owned(), Some(LedgerField::Ip)))
        );
        assert_eq!(parse_field_override("x=-"), Ok(("x".to_owned(), None)));
    }

    #[test]
    fn bad_mac_rejects_only_its_row() {
        let text = "機器名,MACアドレス,IPアドレス\n\
                    受付PC,00:11:22:33:44:55,192.168.0.2\n\
                    診察室PC,00:11:22:33:44,192.168.0.3\n\
                    NAS,00:11:22:33:44:66,192.168.0.4\n";
        let s = csv(text);
        assert_eq!(s.ingested.observations.len(), 2);
        assert_eq!(s.ingested.rejected.len(), 1);
        let e = &s.ingested.rejected[0];
        assert_eq!(
            (e.file(), e.line(), e.field()),
            ("台帳.csv", 3, "MACアドレス")
        );
        assert_eq!(
            e.to_string(),
            "台帳.csv:3: MACアドレス: not a MAC address: 00:11:22:33:44"
        );
    }

    #[test]
    fn row_level_rejections() {
        let long = "x".repeat(MAX_VALUE_BYTES + 1);
        let text = format!(
            "機器名,ホスト名,IPアドレス,インターネット公開,最終確認日,mamori番号,備考\n\
             A,,,ウイルスバスター,,,\n\
             B,,,,2024/2/30,,\n\
             C,,,,,PC-001,\n\
             ,,,,,,メモだけ\n\
             D,,,,,,{long}\n\
             E,,10.0.0.1;10.0.0.2,-,不明,12,\n"
        );
        let s = csv(&text);
        let got: Vec<(u64, &str, bool)> = s
            .ingested
            .rejected
            .iter()
            .map(|e| (e.line(), e.field(), e.is_refusal()))
            .collect();
        assert_eq!(
            got,
            [
                (2, "インターネット公開", false),
                (3, "最終確認日", false),
                (4, "mamori番号", false),
                (5, "機器名", false),
                (6, "備考", true),
            ]
        );
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].asset_id, Some(12));
        assert_eq!((o[0].internet_facing, o[0].seen_at), (None, None));
        assert_eq!(o[0].extra_interfaces.len(), 1);
    }

    #[test]
    fn several_addresses_in_one_cell() {
        let text = "機器名,IPアドレス,MACアドレス\n\
                    \"NAS\",\"192.168.1.10/24\n192.168.2.10\n fe80::1 \",\"00-00-5E-00-53-01; 0000.5e00.5302\"\n\
                    プリンタ,DHCP,\n";
        let s = csv(text);
        no_rejects(&s);
        let o = &s.ingested.observations[0];
        assert_eq!(o.ip.as_deref(), Some("192.168.1.10"));
        assert_eq!(o.mac.as_deref(), Some("00:00:5e:00:53:01"));
        assert_eq!(
            o.extra_interfaces,
            vec![
                Interface {
                    name: None,
                    ip: Some("192.168.2.10".into()),
                    mac: Some("00:00:5e:00:53:02".into()),
                    segment_id: None
                },
                Interface {
                    name: None,
                    ip: Some("fe80::1".into()),
                    mac: None,
                    segment_id: None
                },
            ]
        );
        let p = &s.ingested.observations[1];
        assert_eq!(p.ip, None);
        assert_eq!(
            p.attributes.get("IPアドレス").map(String::as_str),
            Some("DHCP")
        );
    }

    #[test]
    fn value_vocabularies() {
        assert_eq!(parse_kind("ノートPC"), Some(AssetKind::Pc));
        assert_eq!(parse_kind("L2スイッチ"), Some(AssetKind::NetworkDevice));
        assert_eq!(parse_kind("VPNルータ"), Some(AssetKind::VpnUtm));
        assert_eq!(parse_kind("無線LAN"), Some(AssetKind::WifiAp));
        assert_eq!(parse_kind("ﾌﾟﾘﾝﾀ"), Some(AssetKind::Printer));
        assert_eq!(parse_kind("wifi_ap"), Some(AssetKind::WifiAp));
        assert_eq!(parse_kind("モダリティ(CT)"), Some(AssetKind::MedicalDevice));
        assert_eq!(parse_kind("監視カメラ"), Some(AssetKind::Iot));
        assert_eq!(parse_kind("タブレット"), Some(AssetKind::Mobile));
        assert_eq!(parse_kind("NAS"), Some(AssetKind::Nas));
        assert_eq!(parse_kind("超音波診断装置"), None);
        assert_eq!(parse_criticality("低"), Some(Criticality::Low));
        assert_eq!(parse_criticality("Medium"), Some(Criticality::Medium));
        for yes in [
            "はい",
            "有",
            "あり",
            "○",
            "〇",
            "yes",
            "TRUE",
            "1",
            "ｙｅｓ",
        ] {
            assert_eq!(parse_bool(yes), Some(true), "{yes}");
        }
        for no in ["いいえ", "無", "なし", "×", "no", "false", "0"] {
            assert_eq!(parse_bool(no), Some(false), "{no}");
        }
        let day = |s| parse_date(s).map(|t| (t + 9 * 3600) / 86_400);
        let april_1 = day("2024-04-01");
        assert_eq!(april_1, Some(19_814));
        for form in [
            "2024/4/1",
            "2024.04.01",
            "2024年4月1日",
            "R6.4.1",
            "R06/04/01",
            "令和6年4月1日",
            "２０２４／４／１",
            "20240401",
            "2024/4/1(月)",
            "2024-04-01T09:30:00",
            "2024/04/01 10:00",
        ] {
            assert_eq!(day(form), april_1, "{form}");
        }
        assert_eq!(day("令和元年5月1日"), day("2019/5/1"));
        assert_eq!(day("H31.4.30"), day("2019-04-30"));
        for bad in [
            "2024/2/30",
            "24/4/1",
            "R0.1.1",
            "2024/4",
            "yesterday",
            "2024/4/1x",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(parse_ip("192.168.001.010").as_deref(), Some("192.168.1.10"));
        assert_eq!(parse_ip("192.168.1.256"), None);
        assert_eq!(fold_width("ﾎｽﾄ名 ﾊﾟｿｺﾝ ｳﾞ"), "ホスト名 パソコン ヴ");
    }

    #[test]
    fn header_variants_map() {
        use LedgerField as F;
        let cases: &[(&str, Option<F>)] = &[
            ("機器名(必須)", Some(F::Name)),
            ("※端末名", Some(F::Name)),
            ("【装置名】", Some(F::Name)),
            ("ｺﾝﾋﾟｭｰﾀ名", Some(F::Hostname)),
            ("IP Address", Some(F::Ip)),
            ("ip_address", Some(F::Ip)),
            ("物理アドレス", Some(F::Mac)),
            ("S/N", Some(F::Serial)),
            ("製造番号", Some(F::Serial)),
            ("VLAN名", Some(F::Segment)),
            ("保守会社", Some(F::Maintainer)),
            ("Vendor support", Some(F::Maintainer)),
            ("Endpoint protection", Some(F::EndpointProtection)),
            ("ＥＤＲ", Some(F::EndpointProtection)),
            ("管理番号", None),
            ("資産番号", None),
            ("mamori番号", Some(F::AssetId)),
            ("mamori ID", Some(F::AssetId)),
            ("オペレーティングシステム", Some(F::Os)),
            ("バージョン", Some(F::OsVersion)),
            ("使用者", Some(F::Owner)),
            ("所属", Some(F::Department)),
            ("場所", Some(F::Location)),
            ("機種", Some(F::Model)),
            ("製造元", Some(F::Vendor)),
            ("製品名", Some(F::Product)),
            ("分類", Some(F::Kind)),
            ("Criticality", Some(F::Criticality)),
            ("インターネット公開", Some(F::InternetFacing)),
            ("Last seen", Some(F::LastSeen)),
            ("Remarks", Some(F::Notes)),
            ("リース期限", None),
        ];
        let headers: Vec<String> = cases.iter().map(|(h, _)| (*h).to_owned()).collect();
        for (h, want) in cases {
            assert_eq!(field_for_header(h), *want, "{h}");
        }
        // Never the same field twice: the first wins.
        let m = propose_mapping(&["名称".into(), "機器名".into(), "IP".into()]);
        assert_eq!(m, vec![Some(F::Name), None, Some(F::Ip)]);
        assert_eq!(propose_mapping(&headers).len(), headers.len());
    }

    #[test]
    fn export_headers_map_back() {
        let ja: Vec<String> = EXPORT_COLUMNS
            .iter()
            .map(|(_, j, _)| (*j).to_owned())
            .collect();
        let en: Vec<String> = EXPORT_COLUMNS
            .iter()
            .map(|(_, _, e)| (*e).to_owned())
            .collect();
        let want: Vec<Option<LedgerField>> =
            EXPORT_COLUMNS.iter().map(|(f, _, _)| Some(*f)).collect();
        assert_eq!(propose_mapping(&ja), want);
        assert_eq!(propose_mapping(&en), want);
        let fields: BTreeSet<LedgerField> = EXPORT_COLUMNS.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(
            fields.len(),
            LedgerField::ALL.len(),
            "every field is exported once"
        );
    }

    #[test]
    fn xlsx_round_trip() {
        let headers: Vec<String> = [
            "mamori番号",
            "機器名",
            "MACアドレス",
            "IPアドレス",
            "最終確認日",
            "VLAN",
        ]
        .map(String::from)
        .to_vec();
        let rows = vec![
            vec![
                "7",
                "受付PC",
                "00:11:22:33:44:55",
                "192.168.0.2",
                "2024/04/01",
                "10",
            ]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>(),
            vec!["".into(), "NAS".into(), "bad".into()],
            vec![],
            vec!["".into(), "複数行\n備考".into()],
        ];
        let bytes = write_xlsx("台帳", &headers, &rows).unwrap();
        let s = read_ledger_xlsx("台帳.xlsx", &bytes, &[]).unwrap();
        assert_eq!(s.headers, headers);
        assert_eq!(s.header_line, 1);
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].line, 2);
        assert_eq!(o[0].asset_id, Some(7));
        assert_eq!(o[0].mac.as_deref(), Some("00:11:22:33:44:55"));
        assert_eq!(o[0].seen_at, Some(1_711_897_200));
        assert_eq!(o[0].attributes.get("VLAN").map(String::as_str), Some("10"));
        assert_eq!(o[1].name.as_deref(), Some("複数行\n備考"));
        assert_eq!(o[1].line, 5);
        let e = &s.ingested.rejected[0];
        assert_eq!((e.line(), e.field()), (3, "MACアドレス"));
    }

    #[test]
    fn xlsx_dates_numbers_and_title_rows() {
        use rust_xlsxwriter::{ExcelDateTime as W, Format, Workbook};
        let mut wb = Workbook::new();
        // An empty first sheet and a cover sheet without a header are passed over.
        wb.add_worksheet().set_name("空").unwrap();
        let cover = wb.add_worksheet().set_name("表紙").unwrap();
        cover
            .write_string(0, 0, "医療情報システム機器台帳")
            .unwrap();
        let ws = wb.add_worksheet().set_name("機器一覧").unwrap();
        let date = Format::new().set_num_format("yyyy/mm/dd");
        ws.write_string(0, 0, "医療情報システム機器台帳 令和6年度")
            .unwrap();
        for (c, h) in ["機器名", "最終確認日", "VLAN", "重量", "ホスト名"]
            .iter()
            .enumerate()
        {
            ws.write_string(2, c as u16, *h).unwrap();
        }
        ws.write_string(3, 0, "電子カルテサーバ").unwrap();
        ws.write_datetime_with_format(3, 1, W::from_ymd(2024, 4, 1).unwrap(), &date)
            .unwrap();
        ws.write_number(3, 2, 10.0).unwrap();
        ws.write_number(3, 3, 2.5).unwrap();
        ws.write_string(4, 0, "受付PC").unwrap();
        // A plain number in the date column is an Excel date serial (2024-04-02).
        ws.write_number(4, 1, 45384.0).unwrap();
        ws.write_boolean(4, 2, true).unwrap();
        ws.write_string(4, 4, "uketsuke").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        let s = read_ledger_xlsx("t.xlsx", &bytes, &[]).unwrap();
        no_rejects(&s);
        assert_eq!(s.header_line, 3);
        let o = &s.ingested.observations;
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].line, o[1].line), (4, 5));
        assert_eq!(o[0].seen_at, Some(1_711_897_200));
        assert_eq!(o[1].seen_at, Some(1_711_897_200 + 86_400));
        assert_eq!(o[0].attributes.get("VLAN").map(String::as_str), Some("10"));
        assert_eq!(o[0].attributes.get("重量").map(String::as_str), Some("2.5"));
        assert_eq!(
            o[1].attributes.get("VLAN").map(String::as_str),
            Some("TRUE")
        );
        assert_eq!(o[1].hostname.as_deref(), Some("uketsuke"));
    }

    #[test]
    fn template_reads_back_as_two_devices() {
        for ja in [true, false] {
            let bytes = template_xlsx(ja).unwrap();
            let s = read_ledger_xlsx("template.xlsx", &bytes, &[]).unwrap();
            no_rejects(&s);
            assert_eq!(s.headers.len(), EXPORT_COLUMNS.len() - 1);
            assert!(s.mapping.iter().all(Option::is_some));
            let o = &s.ingested.observations;
            assert_eq!(o.len(), 2, "ja={ja}");
            assert_eq!(o[0].kind, Some(AssetKind::Server));
            assert_eq!(o[0].criticality, Some(Criticality::Critical));
            assert_eq!(o[1].kind, Some(AssetKind::Pc));
            assert_eq!(o[1].ip.as_deref(), Some("192.168.10.21"));
            assert_eq!(o[1].mac.as_deref(), Some("00:00:5e:00:53:02"));
            assert_eq!(o[0].internet_facing, Some(false));
            assert_eq!(o[0].endpoint_protection, Some(true));
            assert_eq!(o[0].seen_at, Some(1_711_897_200));
            assert!(o.iter().all(|o| o.attributes.is_empty()));
        }
        assert_eq!(
            template_xlsx(true)
                .map(|b| read_ledger_xlsx("t.xlsx", &b, &[])
                    .unwrap()
                    .ingested
                    .observations[0]
                    .name
                    .clone())
                .unwrap()
                .as_deref(),
            Some("電子カルテサーバ")
        );
    }

    #[test]
    fn corrupt_xlsx_is_an_error() {
        let good = template_xlsx(true).unwrap();
        let mut cut = good.clone();
        cut.truncate(good.len() / 2);
        let mut flipped = good.clone();
        for b in flipped.iter_mut().skip(200).step_by(97) {
            *b ^= 0x5a;
        }
        for (bytes, what) in [
            (b"".to_vec(), "empty"),
            (b"PK\x03\x04garbage".to_vec(), "garbage zip"),
            (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec(), "ole"),
            ("機器名,IP\nA,10.0.0.1\n".as_bytes().to_vec(), "csv"),
            (cut, "truncated"),
            (flipped, "flipped"),
        ] {
            match read_ledger_xlsx("bad.xlsx", &bytes, &[]) {
                Ok(s) => panic!("{what}: accepted {s:?}"),
                Err(e) => {
                    assert_eq!(e.file(), "bad.xlsx", "{what}");
                    assert!(e.line() >= 1, "{what}");
                }
            }
        }
    }

    #[test]
    fn empty_or_headerless_files_are_errors() {
        for bytes in [
            &b""[..],
            b"\n\n\n",
            b"\xEF\xBB\xBF",
            b",,,\n,,\n",
            "台帳\n令和6年度\n".as_bytes(),
        ] {
            let e = read_ledger_csv("empty.csv", bytes, &[]).unwrap_err();
            assert_eq!(
                (e.file(), e.line(), e.field()),
                ("empty.csv", 1, "header"),
                "{e}"
            );
            assert!(
                e.to_string()
                    .starts_with("empty.csv:1: header: no header row"),
                "{e}"
            );
        }
        // Neither UTF-8 nor Shift_JIS: the line of the first bad byte.
        let e = read_ledger_csv("bin.csv", b"a,b\nc,d\n\xff\xfe\xfd", &[]).unwrap_err();
        assert_eq!((e.line(), e.field()), (3, "encoding"), "{e}");
        let e = template_xlsx(true).unwrap();
        let mut empty_sheet = Vec::new();
        let _ = e;
        {
            let mut wb = rust_xlsxwriter::Workbook::new();
            wb.add_worksheet();
            empty_sheet.extend(wb.save_to_buffer().unwrap());
        }
        let e = read_ledger_xlsx("empty.xlsx", &empty_sheet, &[]).unwrap_err();
        assert_eq!(
            (e.file(), e.line(), e.field()),
            ("empty.xlsx", 1, "header"),
            "{e}"
        );
    }

    #[test]
    fn limits_are_refusals() {
        let wide = format!("機器名,IP{}\n", ",x".repeat(MAX_COLUMNS));
        let e = read_ledger_csv("wide.csv", wide.as_bytes(), &[]).unwrap_err();
        assert!(e.is_refusal() && e.line() == 1, "{e}");
        // Trailing empty cells do not count.
        let text = format!("機器名,IP{}\nA,10.0.0.1\n", ",".repeat(MAX_COLUMNS * 2));
        assert_eq!(csv(&text).ingested.observations.len(), 1);
    }

    #[test]
    fn hundred_thousand_rows() {
        let mut text = String::from(
            "mamori番号,機器名,ホスト名,種別,IPアドレス,MACアドレス,最終確認日,備考\n",
        );
        for i in 0..100_000u32 {
            text.push_str(&format!(
                "{},端末{i},pc-{i},PC,10.{}.{}.{},00:00:5e:{:02x}:{:02x}:{:02x},2024/4/1,備考\n",
                i + 1,
                i >> 16,
                (i >> 8) & 255,
                i & 255,
                i >> 16,
                (i >> 8) & 255,
                i & 255
            ));
        }
        let start = std::time::Instant::now();
        let s = csv(&text);
        let took = start.elapsed();
        no_rejects(&s);
        assert_eq!(s.ingested.observations.len(), 100_000);
        assert_eq!(s.ingested.observations[99_999].line, 100_001);
        // Generous even for a debug build; release is far below a second.
        assert!(took.as_secs() < 30, "{took:?}");
    }
}
