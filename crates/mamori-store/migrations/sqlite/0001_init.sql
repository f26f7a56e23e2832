-- mamori schema v1 (SQLite). Forward-only; never edit a released migration.
CREATE TABLE mamori_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE facility (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    beds INTEGER NOT NULL DEFAULT 0,
    prefecture TEXT,
    address TEXT,
    security_manager TEXT,
    phone TEXT
);

CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    cidr TEXT,
    vlan INTEGER,
    description TEXT
);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    vendor TEXT,
    product TEXT,
    model TEXT,
    os TEXT,
    os_version TEXT,
    serial TEXT,
    location TEXT,
    department TEXT,
    owner TEXT,
    criticality TEXT NOT NULL,
    internet_facing INTEGER NOT NULL DEFAULT 0,
    endpoint_protection INTEGER,
    last_seen TEXT,
    notes TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    search TEXT NOT NULL DEFAULT '',
    sort_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assets_kind ON assets (kind);
CREATE INDEX assets_name ON assets (name, id);
CREATE INDEX assets_sort_ip ON assets (sort_ip, id);
CREATE INDEX assets_updated ON assets (updated_at, id);

CREATE TABLE interfaces (
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    name TEXT,
    ip TEXT,
    mac TEXT,
    segment_id INTEGER REFERENCES segments (id) ON DELETE SET NULL,
    PRIMARY KEY (asset_id, pos)
);
CREATE INDEX interfaces_segment ON interfaces (segment_id);
CREATE INDEX interfaces_mac ON interfaces (mac);

CREATE TABLE software (
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    pos INTEGER NOT NULL,
    name TEXT NOT NULL,
    vendor TEXT,
    version TEXT,
    cpe TEXT,
    PRIMARY KEY (asset_id, pos)
);

CREATE TABLE vendors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    contact_name TEXT,
    phone TEXT,
    email TEXT
);

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    vendor_id INTEGER NOT NULL REFERENCES vendors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    scope TEXT,
    remote_maintenance INTEGER NOT NULL DEFAULT 0,
    responsibilities TEXT,
    start_date TEXT,
    end_date TEXT
);

CREATE TABLE contract_assets (
    contract_id INTEGER NOT NULL REFERENCES contracts (id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    PRIMARY KEY (contract_id, asset_id)
);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    system TEXT,
    privilege TEXT NOT NULL,
    shared INTEGER NOT NULL DEFAULT 0,
    person TEXT,
    holder_left INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    last_used TEXT,
    notes TEXT
);

CREATE TABLE account_assets (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, asset_id)
);

CREATE TABLE external_connections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    provider TEXT,
    always_on INTEGER NOT NULL DEFAULT 0,
    authentication TEXT NOT NULL,
    owner TEXT,
    asset_id INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    vendor_id INTEGER REFERENCES vendors (id) ON DELETE SET NULL,
    notes TEXT
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    organization TEXT NOT NULL,
    name TEXT,
    phone TEXT,
    email TEXT,
    notes TEXT
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT,
    role TEXT NOT NULL,
    vendor_id INTEGER REFERENCES vendors (id) ON DELETE SET NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- One row: the head of the audit chain. Every write transaction updates it first, which
-- takes the write lock before anything is read and so serialises writers.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
