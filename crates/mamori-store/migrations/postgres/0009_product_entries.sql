-- mamori schema v9: the matching index aggregated per product. Matching an inventory read one
-- vuln_cve_products row per (product, CVE) — hundreds of thousands of rows at full NVD size,
-- a third of a second in SQLite's row machinery alone. vuln_product_entries holds, per
-- (vendor, product), every CVE's index entry joined into one text ('CVE id' U+001C 'entry',
-- joined by U+001E; '!' for a row without an entry), so matching reads one row per product.
-- It is derived from vuln_cve_products: writers of that table mark the products they touch in
-- vuln_product_dirty, in the same transaction, and the aggregate of a marked product is
-- rebuilt before it is read (Store::refresh_product_entries). A first load marks them all at
-- once (mamori_meta 'product_entries_stale'), as this upgrade does.
-- Forward-only; never edit a released migration.

CREATE TABLE vuln_product_entries (
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    entries TEXT NOT NULL,
    PRIMARY KEY (vendor, product)
);

CREATE TABLE vuln_product_dirty (
    vendor TEXT NOT NULL,
    product TEXT NOT NULL,
    PRIMARY KEY (vendor, product)
);

INSERT INTO mamori_meta (key, value) SELECT 'product_entries_stale', 'all'
    WHERE EXISTS (SELECT 1 FROM vuln_cve_products) AND NOT EXISTS (SELECT 1 FROM mamori_meta WHERE key = 'product_entries_stale');
