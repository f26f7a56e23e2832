#!/usr/bin/env python3
"""Generates the import benchmark inputs (deterministic, synthetic, no real data):

  gen-import.py DIR [--rows 100000] [--hosts 10000] [--leases 50000]

writes DIR/ledger.csv (Japanese headers, UTF-8), DIR/scan.xml (nmap 7.x layout with MAC,
hostnames, open ports with CPEs and OS guesses) and DIR/dhcpd.leases (ISC format, each address
renewed once so that "the last block wins" is exercised).
"""
import argparse
import os
import random


def mac(i, prefix="00:1b:21"):
    return "%s:%02x:%02x:%02x" % (prefix, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def ip(i, base=10):
    return "%d.%d.%d.%d" % (base, (i >> 16) & 255, (i >> 8) & 255, i & 255)


def ledger(path, rows):
    kinds = ["サーバ", "端末PC", "ネットワーク機器", "医療機器", "プリンタ・複合機"]
    depts = ["医事課", "看護部", "放射線科", "検査科", "事務"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("機器名,種別,メーカー,型番,OS,設置場所,管理部署,IPアドレス,MACアドレス,保守業者,導入日\n")
        for i in range(1, rows + 1):
            f.write(
                f"端末-{i:06d},{kinds[i % 5]},メーカー{i % 37},MD-{i % 1000},Windows 11,"
                f"{i % 9 + 1}階 {i % 40 + 1}号室,{depts[i % 5]},{ip(i)},{mac(i)},"
                f"保守会社{i % 7},2024/4/{i % 28 + 1}\n"
            )


def nmap(path, hosts):
    with open(path, "w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n')
        f.write('<nmaprun scanner="nmap" args="nmap -O -sV 10.0.0.0/16" start="1764000000" '
                'startstr="Mon Nov 24 16:00:00 2025" version="7.94" xmloutputversion="1.05">\n')
        f.write('<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"/>\n')
        for i in range(1, hosts + 1):
            f.write(f'<host starttime="1764000000" endtime="1764000100"><status state="up" reason="arp-response" reason_ttl="0"/>\n')
            f.write(f'<address addr="{ip(i)}" addrtype="ipv4"/>\n')
            f.write(f'<address addr="{mac(i).upper()}" addrtype="mac" vendor="Intel Corporate"/>\n')
            f.write(f'<hostnames><hostname name="pc{i:06d}.clinic.local" type="PTR"/></hostnames>\n')
            f.write('<ports><extraports state="closed" count="997"><extrareasons reason="reset" count="997"/></extraports>\n')
            f.write('<port protocol="tcp" portid="135"><state state="open" reason="syn-ack" reason_ttl="128"/>'
                    '<service name="msrpc" product="Microsoft Windows RPC" ostype="Windows" method="probed" conf="10">'
                    '<cpe>cpe:/o:microsoft:windows</cpe></service></port>\n')
            f.write('<port protocol="tcp" portid="445"><state state="open" reason="syn-ack" reason_ttl="128"/>'
                    '<service name="microsoft-ds" method="table" conf="3"/></port>\n')
            f.write('<port protocol="tcp" portid="3389"><state state="open" reason="syn-ack" reason_ttl="128"/>'
                    '<service name="ms-wbt-server" product="Microsoft Terminal Services" method="probed" conf="10">'
                    '<cpe>cpe:/o:microsoft:windows</cpe></service>'
                    '<script id="ssl-cert" output="Subject: commonName=pc"><elem key="sig_algo">sha256WithRSAEncryption</elem></script></port>\n')
            f.write('</ports>\n<os><portused state="open" proto="tcp" portid="135"/>\n')
            f.write('<osmatch name="Microsoft Windows 10 1709 - 1909" accuracy="97" line="69748">'
                    '<osclass type="general purpose" vendor="Microsoft" osfamily="Windows" osgen="10" accuracy="97">'
                    '<cpe>cpe:/o:microsoft:windows_10</cpe></osclass></osmatch>\n')
            f.write('</os><distance value="1"/></host>\n')
        f.write(f'<runstats><finished time="1764000600" timestr="Mon Nov 24 16:10:00 2025" elapsed="600" exit="success"/>'
                f'<hosts up="{hosts}" down="0" total="{hosts}"/></runstats>\n</nmaprun>\n')


def leases(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write("# The format of this file is documented in the dhcpd.leases(5) manual page.\n")
        f.write("# This lease file was written by isc-dhcp-4.4.3\n\nauthoring-byte-order little-endian;\n\n")
        for i in range(1, n + 1):
            # Every fifth address was renewed: the later block must win.
            for renew in ([0, 1] if i % 5 == 0 else [0]):
                day = 20 + renew
                f.write(f"lease {ip(i, 172)} {{\n  starts 4 2026/11/{day} 01:00:00;\n  ends 4 2026/11/{day} 13:00:00;\n"
                        f"  cltt 4 2026/11/{day} 01:00:00;\n  binding state active;\n  next binding state free;\n"
                        f"  rewind binding state free;\n  hardware ethernet {mac(i, '3c:22:fb')};\n"
                        f"  uid \"\\001\\074\\042\\373\\{(i >> 16) & 255:03o}\\{(i >> 8) & 255:03o}\\{i & 255:03o}\";\n"
                        f"  client-hostname \"host-{i:06d}\";\n}}\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--leases", type=int, default=50_000)
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    random.seed(1)
    ledger(os.path.join(a.dir, "ledger.csv"), a.rows)
    nmap(os.path.join(a.dir, "scan.xml"), a.hosts)
    leases(os.path.join(a.dir, "dhcpd.leases"), a.leases)


if __name__ == "__main__":
    main()
