-- mamori schema v9: the matching index aggregated per product. Matching an inventory read one
-- vuln_cve_products row per (product, CVE) — hundreds of thousands of rows at full NVD size,
-- a third of a second in SQLite's row machinery alone. vuln_product_entries holds, per
-- (vendor, product), every CVE's index entry joined into one text ('CVE id' U+001C 'entry',
-- joined by U+001E; '!' for a row without an entry), so matching reads one row per product.
-- It is derived from vuln_cve_products: writers of that table mark the products they touch in
-- vuln_product_dirty, in the same transaction, and the aggregate of a marked product is
-- rebuilt before it is read (Store::refresh_product_entries). Every product is marked here.
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

INSERT INTO vuln_product_dirty (vendor, product) SELECT DISTINCT vendor, product FROM vuln_cve_products;
