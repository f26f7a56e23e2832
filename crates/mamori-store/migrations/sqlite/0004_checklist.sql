-- mamori schema v4 (SQLite): backups (what the checklist's backup item and the backup checks
-- look at), checklist editions loaded from the official form, and checklist answers.
-- Forward-only; never edit a released migration.

CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- What is backed up, in words (電子カルテ DB, レセコン …).
    covers TEXT,
    medium TEXT NOT NULL,
    -- The device holding the copy.
    asset_id INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    -- The copy can be reached with the same credentials as the systems it protects.
    same_credentials INTEGER NOT NULL DEFAULT 0,
    last_success TEXT,
    last_restore_test TEXT,
    notes TEXT
);

CREATE TABLE checklist_editions (
    id TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    file_name TEXT,
    sha256 TEXT,
    loaded_at TEXT NOT NULL,
    loaded_by TEXT NOT NULL
);

-- Append-only: the answer in force for a key (edition, sheet, vendor, item, device class,
-- round) is the row with the highest id; earlier rows are its history.
CREATE TABLE checklist_answers (
    id INTEGER PRIMARY KEY,
    edition TEXT NOT NULL,
    sheet TEXT NOT NULL,
    vendor_id INTEGER REFERENCES vendors (id) ON DELETE CASCADE,
    item_id TEXT NOT NULL,
    device_class TEXT NOT NULL,
    round INTEGER NOT NULL,
    answer TEXT NOT NULL,
    checked_on TEXT,
    target_date TEXT,
    maturity INTEGER,
    comment TEXT,
    evidence TEXT,
    answered_by TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
-- Files attached to an answer as evidence (base64 text, so that exports carry them).
CREATE TABLE checklist_files (
    id INTEGER PRIMARY KEY,
    answer_id INTEGER NOT NULL REFERENCES checklist_answers (id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    content TEXT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX checklist_files_answer ON checklist_files (answer_id);
CREATE INDEX checklist_answers_key ON checklist_answers (edition, sheet, item_id, device_class, round, id);

-- Who acts on each checklist topic (the responsibility matrix for the maintenance contracts).
-- A topic without a row follows mamori's defaults by vendor type.
CREATE TABLE responsibilities (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL UNIQUE,
    facility INTEGER NOT NULL DEFAULT 0,
    -- JSON array of vendor ids.
    vendor_ids TEXT NOT NULL DEFAULT '[]',
    not_applicable INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
