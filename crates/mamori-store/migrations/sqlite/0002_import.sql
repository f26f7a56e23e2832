-- mamori schema v2 (SQLite): inventory imports, provenance, unregistered devices, stocktakes.
-- Forward-only; never edit a released migration.

ALTER TABLE software ADD COLUMN purl TEXT;

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    taken_at TEXT,
    summary TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE asset_sources (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    import_id INTEGER NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    line INTEGER NOT NULL,
    observed_at TEXT,
    match_reason TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    changes TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX asset_sources_asset ON asset_sources (asset_id, id);

CREATE TABLE discovered_devices (
    id INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    mac TEXT,
    ip TEXT,
    hostname TEXT,
    client_id TEXT,
    mac_vendor TEXT,
    segment_id INTEGER REFERENCES segments (id) ON DELETE SET NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]',
    data TEXT NOT NULL DEFAULT '{}',
    asset_id INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    decided_by TEXT,
    decided_at TEXT
);
CREATE INDEX discovered_status ON discovered_devices (status, id);

CREATE TABLE stocktakes (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    days INTEGER NOT NULL,
    summary TEXT NOT NULL DEFAULT '{}',
    report TEXT NOT NULL DEFAULT '{}'
);
