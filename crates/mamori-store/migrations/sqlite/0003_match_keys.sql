-- mamori schema v3 (SQLite): the keys an import matches assets and queued devices by, so that
-- an import looks up what it needs instead of loading the whole inventory.
-- Forward-only; never edit a released migration. The keys of existing rows are filled in by
-- the migration runner (they are computed in Rust: Unicode lower-casing, host-name shortening).

CREATE TABLE asset_keys (
    asset_id INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    key TEXT NOT NULL
);
CREATE INDEX asset_keys_lookup ON asset_keys (kind, key, asset_id);
CREATE INDEX asset_keys_asset ON asset_keys (asset_id);

ALTER TABLE discovered_devices ADD COLUMN host_key TEXT;
CREATE INDEX discovered_mac ON discovered_devices (mac);
CREATE INDEX discovered_client ON discovered_devices (client_id);
CREATE INDEX discovered_host ON discovered_devices (host_key);
CREATE INDEX discovered_ip ON discovered_devices (ip);
