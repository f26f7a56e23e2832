-- mamori schema v5 (SQLite): vulnerability intelligence. The feed corpus (NVD, KEV, EPSS, JVN,
-- vendor CSAF and VEX statements) and, per asset, its CPE names and its findings (one task per
-- asset × vulnerability, with status and history).
-- Forward-only; never edit a released migration.

-- One row per feed file imported or fetched: source, the feed's own date, checksum.
CREATE TABLE vuln_feed_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    feed_date TEXT,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    records INTEGER NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX vuln_feed_runs_kind ON vuln_feed_runs (kind, id);

-- Where an online sync stopped (NVD lastModified, the page being fetched).
CREATE TABLE vuln_sync_state (
    kind TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE vuln_cves (
    id TEXT PRIMARY KEY,
    published TEXT,
    last_modified TEXT NOT NULL,
    status TEXT NOT NULL,
    cvss_score REAL,
    cvss_version TEXT,
    cvss_vector TEXT,
    severity TEXT,
    description TEXT NOT NULL DEFAULT '',
    cwes TEXT NOT NULL DEFAULT '',
    -- The NVD configuration tree, as JSON (mamori_vuln::model::Configuration list).
    configurations TEXT NOT NULL DEFAULT '[]',
    -- CVSS entries, references, tags, embedded KEV fields (JSON).
    detail TEXT NOT NULL DEFAULT '{}'
);

-- Which (vendor, product) a CVE's vulnerable criteria name: the candidate index.
CREATE TABLE vuln_cve_products (
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    cve_id TEXT NOT NULL,
    PRIMARY KEY (vendor, product, cve_id)
) WITHOUT ROWID;

CREATE TABLE vuln_kev (
    cve_id TEXT PRIMARY KEY,
    vendor_project TEXT NOT NULL,
    product TEXT NOT NULL,
    name TEXT NOT NULL,
    date_added TEXT NOT NULL,
    due_date TEXT NOT NULL,
    required_action TEXT NOT NULL,
    short_description TEXT NOT NULL,
    ransomware INTEGER NOT NULL DEFAULT 0,
    cwes TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT ''
);

CREATE TABLE vuln_epss (
    cve_id TEXT PRIMARY KEY,
    epss REAL NOT NULL,
    percentile REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE vuln_jvn (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    overview TEXT NOT NULL DEFAULT '',
    link TEXT,
    cvss_score REAL,
    severity TEXT,
    published TEXT,
    modified TEXT,
    -- CVE ids, products (display names, CPE 2.2, version text), CVSS, solution, references.
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE vuln_jvn_cves (
    cve_id TEXT NOT NULL,
    jvn_id TEXT NOT NULL,
    PRIMARY KEY (cve_id, jvn_id)
);
CREATE TABLE vuln_jvn_products (
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    jvn_id TEXT NOT NULL,
    PRIMARY KEY (vendor, product, jvn_id)
);

-- Vendor statements: CSAF advisories and VEX documents (CSAF VEX, CycloneDX VEX).
CREATE TABLE vuln_documents (
    id INTEGER PRIMARY KEY,
    origin TEXT NOT NULL,
    publisher TEXT NOT NULL,
    tracking_id TEXT NOT NULL,
    title TEXT NOT NULL,
    current_release TEXT,
    source TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (origin, publisher, tracking_id)
);
CREATE TABLE vuln_statements (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES vuln_documents (id) ON DELETE CASCADE,
    cve_id TEXT NOT NULL,
    vendor TEXT,
    product TEXT,
    product_name TEXT NOT NULL,
    version TEXT,
    version_range TEXT,
    cpe TEXT,
    purl TEXT,
    status TEXT NOT NULL,
    justification TEXT,
    remediation TEXT,
    url TEXT,
    exploited INTEGER NOT NULL DEFAULT 0,
    cvss_score REAL
);
CREATE INDEX vuln_statements_product ON vuln_statements (vendor, product);
CREATE INDEX vuln_statements_cve ON vuln_statements (cve_id);

-- CPE names of an asset beyond its software list: suggestions from the ledger's names (which
-- the manager confirms or rejects) and names entered by hand.
CREATE TABLE asset_cpes (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    cpe TEXT NOT NULL,
    origin TEXT NOT NULL,
    state TEXT NOT NULL,
    basis TEXT NOT NULL DEFAULT '',
    decided_by TEXT,
    decided_at TEXT,
    UNIQUE (asset_id, cpe)
);

-- One task per asset × vulnerability.
CREATE TABLE vuln_findings (
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    source TEXT NOT NULL,
    confidence TEXT NOT NULL,
    hit TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    last_matched TEXT NOT NULL,
    -- Set when the asset no longer matches (updated, CPE changed, vendor statement).
    gone_at TEXT,
    priority REAL NOT NULL,
    priority_detail TEXT NOT NULL,
    due_date TEXT,
    responsible TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT,
    reason TEXT,
    status_by TEXT,
    status_at TEXT,
    -- What the match said last time (hash): unchanged findings are not rewritten.
    fingerprint TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (asset_id, vuln_id)
);
CREATE INDEX vuln_findings_vuln ON vuln_findings (vuln_id);

-- Append-only: every status change of a finding.
CREATE TABLE vuln_finding_history (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    vuln_id TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT,
    reason TEXT
);
CREATE INDEX vuln_finding_history_key ON vuln_finding_history (asset_id, vuln_id, id);
