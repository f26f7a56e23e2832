#!/usr/bin/env python3
"""Generates a large synthetic facility in mamori's export format (`mamori db import`).

    bench/gen-facility.py                      # 5,000 assets to stdout
    bench/gen-facility.py --assets 20000 --seed 7 -o /tmp/big.json

The output is deterministic for a given --assets/--seed. Every asset has a Japanese name,
a kind from mamori's vocabulary, one or two interfaces with a unique IPv4 address (inside its
segment's CIDR) and a unique locally administered MAC in lower-case colon form, a little
software and a few free-form attributes. Standard library only.
"""

import argparse
import json
import random
import sys

# (name, purpose, vlan) — about twenty segments of a mid-sized hospital. Segment i gets
# 10.<i>.0.0/16, so every segment has room for far more assets than it will ever receive.
SEGMENTS = [
    ("本館1F 外来 端末LAN", "clinical_lan", 110),
    ("本館2F 外来 端末LAN", "clinical_lan", 120),
    ("本館3F 病棟 端末LAN", "clinical_lan", 130),
    ("本館4F 病棟 端末LAN", "clinical_lan", 140),
    ("新館5F 病棟 端末LAN", "clinical_lan", 150),
    ("新館6F 病棟 端末LAN", "clinical_lan", 160),
    ("事務部門LAN", "clinical_lan", 170),
    ("放射線部 モダリティ", "medical_devices", 210),
    ("検査部 分析装置", "medical_devices", 220),
    ("生体情報モニタ網", "medical_devices", 230),
    ("手術部・ICU 医療機器", "medical_devices", 240),
    ("サーバ室（電子カルテ）", "servers", 300),
    ("部門システムサーバ", "servers", 310),
    ("職員用 Wi-Fi", "staff_wifi", 400),
    ("患者用 Wi-Fi", "patient_wifi", 410),
    ("オンライン資格確認 閉域網", "eligibility_closed", 500),
    ("リモート保守 接続網", "maintenance", 600),
    ("DMZ（公開サーバ）", "dmz", 700),
    ("ネットワーク機器管理網", "management", 800),
    ("設備・IoT（空調・監視カメラ）", "other", 900),
]

# (kind, weight, name prefix, candidate segment indexes)
KINDS = [
    ("pc", 52, "端末PC", [0, 1, 2, 3, 4, 5, 6]),
    ("medical_device", 14, "医療機器", [7, 8, 9, 10]),
    ("printer", 8, "プリンタ", [0, 1, 2, 3, 4, 5, 6]),
    ("mobile", 6, "タブレット", [13]),
    ("network_device", 5, "スイッチ", [18]),
    ("wifi_ap", 4, "無線AP", [18]),
    ("server", 4, "サーバ", [11, 12, 17]),
    ("iot", 4, "IoT機器", [19]),
    ("nas", 1, "NAS", [11, 12]),
    ("vpn_utm", 0.5, "UTM", [16, 17]),
    ("unknown", 1.5, "不明機器", [0, 6, 13, 14, 19]),
]

PLATFORM = {
    "pc": [
        ("Dell", "OptiPlex 7010", "Windows 11", "23H2"),
        ("HP", "EliteDesk 800 G9", "Windows 11", "23H2"),
        ("富士通", "ESPRIMO D7012/L", "Windows 10", "22H2"),
        ("NEC", "Mate MB-5", "Windows 11", "22H2"),
        ("Lenovo", "ThinkCentre M70q", "Windows 10", "22H2"),
        ("Panasonic", "Let's note SV1", "Windows 11", "23H2"),
    ],
    "medical_device": [
        ("キヤノンメディカルシステムズ", "Aquilion ONE", "Windows 10 IoT Enterprise LTSC", "2019"),
        ("富士フイルム", "FCR PRIMA T2", "Windows 7 Embedded", "SP1"),
        ("GEヘルスケア", "CARESCAPE B650", "ファームウェア", "3.2"),
        ("日本光電", "BSM-6701", "ファームウェア", "07-23"),
        ("シスメックス", "XN-1000", "Windows 10 IoT Enterprise", "21H2"),
        ("オリンパス", "EVIS X1", "ファームウェア", "1.10"),
        ("フクダ電子", "FX-8322", "ファームウェア", "2.01"),
    ],
    "printer": [
        ("RICOH", "IM C3010", "ファームウェア", "1.09"),
        ("Canon", "imageRUNNER ADVANCE DX C3826", "ファームウェア", "72.08"),
        ("EPSON", "LP-S3290", "ファームウェア", "02.03"),
        ("京セラ", "ECOSYS P3145dn", "ファームウェア", "2V5_2F00.002.005"),
    ],
    "mobile": [
        ("Apple", "iPad (第10世代)", "iPadOS", "17.5"),
        ("Apple", "iPhone SE", "iOS", "17.5"),
        ("京セラ", "DIGNO SX3", "Android", "13"),
    ],
    "network_device": [
        ("Cisco", "Catalyst 9200L", "IOS XE", "17.9.4"),
        ("アライドテレシス", "x230-28GP", "AlliedWare Plus", "5.5.2"),
        ("YAMAHA", "SWX3220-16MT", "ファームウェア", "Rev.4.02.15"),
        ("NEC", "QX-S5228GT-4X", "QX-OS", "7.1"),
    ],
    "wifi_ap": [
        ("Aruba", "AP-515", "ArubaOS", "8.10.0.6"),
        ("YAMAHA", "WLX313", "ファームウェア", "Rev.23.00.07"),
        ("Buffalo", "WAPM-AX8R", "ファームウェア", "1.3"),
    ],
    "server": [
        ("Dell", "PowerEdge R650", "Windows Server 2019", "1809"),
        ("HPE", "ProLiant DL360 Gen10", "Windows Server 2022", "21H2"),
        ("富士通", "PRIMERGY RX2540 M6", "Red Hat Enterprise Linux", "8.8"),
        ("NEC", "Express5800/R120h", "Windows Server 2016", "1607"),
    ],
    "iot": [
        ("パナソニック", "WV-S1536LN", "ファームウェア", "4.20"),
        ("ダイキン", "D-BIPS", "ファームウェア", "2.1"),
        ("アズビル", "savic-net G5", "ファームウェア", "5.0"),
    ],
    "nas": [
        ("Synology", "RS1221+", "DSM", "7.2"),
        ("Buffalo", "TeraStation TS5420", "ファームウェア", "4.02"),
        ("QNAP", "TS-873A", "QTS", "5.1.3"),
    ],
    "vpn_utm": [
        ("Fortinet", "FortiGate 100F", "FortiOS", "7.2.8"),
        ("YAMAHA", "RTX1300", "ファームウェア", "Rev.23.00.05"),
        ("Palo Alto Networks", "PA-440", "PAN-OS", "10.2.9"),
    ],
    "unknown": [(None, None, None, None)],
}

SOFTWARE = {
    "pc": [
        ("電子カルテ クライアント", "株式会社メディカルシステム", "8.2.1"),
        ("Microsoft Office", "Microsoft", "2021"),
        ("Microsoft Edge", "Microsoft", "126.0"),
        ("ウイルスバスター Corp.", "トレンドマイクロ", "XG SP1"),
        ("Adobe Acrobat Reader", "Adobe", "24.002"),
        ("PACS ビューア", "富士フイルム", "11.0"),
        ("ORCA クライアント", "日本医師会ORCA管理機構", "5.2"),
    ],
    "server": [
        ("電子カルテ サーバ", "株式会社メディカルシステム", "8.2.1"),
        ("Microsoft SQL Server", "Microsoft", "2019"),
        ("PostgreSQL", "PostgreSQL Global Development Group", "14.11"),
        ("Apache Tomcat", "Apache", "9.0.85"),
        ("Veeam Backup & Replication", "Veeam", "12.1"),
    ],
    "medical_device": [
        ("装置制御ソフトウェア", None, "3.4"),
        ("DICOM 送信モジュール", None, "2.0"),
    ],
}

LOCATIONS = [
    "本館1F 外来受付", "本館1F 内科外来", "本館1F 整形外科外来", "本館2F 小児科外来",
    "本館2F 眼科外来", "本館3F 西病棟 ナースステーション", "本館3F 東病棟", "本館4F 西病棟",
    "本館4F 東病棟", "新館5F 病棟", "新館6F 病棟", "新館B1F サーバ室", "新館B1F 機械室",
    "本館1F 放射線部", "本館2F 検査部", "新館3F 手術室", "新館3F ICU", "本館1F 医事課",
    "本館2F 総務課", "本館1F 薬剤部", "新館1F リハビリテーション室", "本館1F 救急外来",
]
DEPARTMENTS = [
    "内科", "外科", "整形外科", "小児科", "眼科", "放射線科", "臨床検査科", "薬剤部", "看護部",
    "医事課", "総務課", "情報システム室", "リハビリテーション科", "救急科", "手術部",
]
OWNERS = [
    "佐藤 一郎", "鈴木 花子", "高橋 健", "田中 美咲", "伊藤 直樹", "渡辺 由美", "山本 大輔",
    "中村 彩", "小林 誠", "加藤 恵", "情報システム室", None,
]
CRITICALITY = [("low", 2), ("medium", 5), ("high", 2), ("critical", 1)]


def build(n_assets, seed):
    rng = random.Random(seed)
    segments = []
    for i, (name, purpose, vlan) in enumerate(SEGMENTS, start=1):
        segments.append({
            "id": i,
            "name": name,
            "purpose": purpose,
            "cidr": f"10.{i}.0.0/16",
            "vlan": vlan,
            "description": f"ベンチマーク用セグメント（{name}）",
        })

    kinds = [k[0] for k in KINDS]
    weights = [k[1] for k in KINDS]
    info = {k[0]: k for k in KINDS}
    per_kind = {k: 0 for k in kinds}
    per_segment = {s["id"]: 0 for s in segments}
    mac_counter = 0

    def next_ip(seg_id):
        n = per_segment[seg_id]
        per_segment[seg_id] = n + 1
        # 10.S.H.L with L in 1..250: unique within the segment, never .0 or .255.
        return f"10.{seg_id}.{n // 250}.{n % 250 + 1}"

    def next_mac():
        nonlocal mac_counter
        mac_counter += 1
        b = mac_counter.to_bytes(4, "big")
        # 02:… is a locally administered unicast prefix; the counter makes each one unique.
        return "02:00:" + ":".join(f"{x:02x}" for x in b)

    assets = []
    for asset_id in range(1, n_assets + 1):
        kind = rng.choices(kinds, weights)[0]
        per_kind[kind] += 1
        _, _, prefix, seg_choices = info[kind]
        vendor, product, os_name, os_version = rng.choice(PLATFORM[kind])
        seg = rng.choice(seg_choices) + 1
        interfaces = [{"name": "LAN", "ip": next_ip(seg), "mac": next_mac(), "segment_id": seg}]
        if kind in ("server", "vpn_utm", "nas") and rng.random() < 0.6:
            # A second leg, e.g. the management network or the maintenance line.
            seg2 = 19 if kind != "vpn_utm" else 17
            interfaces.append({"name": "MGMT", "ip": next_ip(seg2), "mac": next_mac(), "segment_id": seg2})
        if kind == "mobile" or (kind == "unknown" and rng.random() < 0.3):
            interfaces[0]["name"] = "Wi-Fi"
        software = []
        pool = SOFTWARE.get(kind, [])
        if pool:
            for name, sw_vendor, version in rng.sample(pool, k=rng.randint(1, min(4, len(pool)))):
                software.append({"name": name, "vendor": sw_vendor, "version": version, "cpe": None})
        endpoint = None
        if kind in ("pc", "server"):
            endpoint = rng.random() < 0.9
        elif kind == "medical_device":
            endpoint = False if rng.random() < 0.7 else None
        day = rng.randint(1, 28)
        hour = rng.randint(0, 23)
        asset = {
            "id": asset_id,
            "name": f"{prefix}-{per_kind[kind]:04d}",
            "kind": kind,
            "vendor": vendor,
            "product": product,
            "model": product,
            "os": os_name,
            "os_version": os_version,
            "serial": f"SN{rng.randrange(16**10):010X}" if vendor else None,
            "location": rng.choice(LOCATIONS),
            "department": rng.choice(DEPARTMENTS),
            "owner": rng.choice(OWNERS),
            "criticality": rng.choices([c for c, _ in CRITICALITY], [w for _, w in CRITICALITY])[0],
            "internet_facing": kind in ("vpn_utm",) or (kind == "server" and seg == 18),
            "endpoint_protection": endpoint,
            "last_seen": None if rng.random() < 0.1 else f"2025-06-{day:02d}T{hour:02d}:00:00Z",
            "notes": None,
            "attributes": {"資産番号": f"BM-{asset_id:05d}", "導入年度": str(rng.randint(2015, 2025))},
            "interfaces": interfaces,
            "software": software,
        }
        if kind == "medical_device":
            asset["attributes"]["薬機法 クラス"] = rng.choice(["I", "II", "III"])
        assets.append(asset)

    return {
        "format": "mamori-export",
        "format_version": 1,
        "facility": {
            "name": "ベンチマーク病院",
            "kind": "hospital",
            "beds": 300,
            "prefecture": "東京都",
            "security_manager": "情報システム室長",
        },
        "segments": segments,
        "assets": assets,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--assets", type=int, default=5000, help="number of assets (default 5000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    a = p.parse_args()
    if a.assets < 0 or a.assets > 60000:
        p.error("--assets must be between 0 and 60000")
    doc = build(a.assets, a.seed)
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    if a.output == "-":
        sys.stdout.write(text)
    else:
        with open(a.output, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
