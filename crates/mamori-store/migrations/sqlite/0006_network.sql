-- mamori schema v6 (sqlite): the network model behind the diagram, the risk rules and the
-- attack-path simulation. Where external connections land and when they may be up, filtering
-- policies between zones, dated snapshots of the whole model (for the yearly diff), and
-- improvement plans saved from the what-if editor.
-- Forward-only; never edit a released migration.

ALTER TABLE external_connections ADD COLUMN segment_id INTEGER REFERENCES segments (id) ON DELETE SET NULL;
ALTER TABLE external_connections ADD COLUMN maintenance_window TEXT;

-- A gateway's filtering rule. Zones are 'any', 'internet', 'segment:ID', 'asset:ID',
-- 'connection:ID'; services a comma-separated list ('' = every service).
CREATE TABLE network_policies (
    id INTEGER PRIMARY KEY,
    name TEXT,
    gateway_id INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    from_zone TEXT NOT NULL,
    to_zone TEXT NOT NULL,
    services TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    notes TEXT
);

-- The network model as it was on a day (JSON of NetworkModel), one row per day: the newest
-- write of the day wins, and an unchanged model (same SHA-256) is not written again. Read by
-- the diagram diff.
CREATE TABLE network_snapshots (
    id INTEGER PRIMARY KEY,
    taken_on TEXT NOT NULL UNIQUE,
    taken_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    model TEXT NOT NULL
);

-- An improvement plan (改善計画): what-if changes with an owner and a date, and the
-- assessment before and after when it was saved (summary JSON: scores, goals, findings).
CREATE TABLE risk_plans (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    changes TEXT NOT NULL,
    owner TEXT,
    due_date TEXT,
    status TEXT NOT NULL DEFAULT 'planned',
    summary TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
