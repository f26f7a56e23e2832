-- mamori schema v7: the matching index. Each (vendor, product, CVE) row of the candidate index
-- also carries that CVE's vulnerable criteria naming the product in a compact form
-- (mamori_vuln::index), so that matching reads a few bytes per criterion instead of decoding
-- every candidate's configuration tree. '!' marks a CVE matched on its tree; NULL (rows written
-- before v7) is read the same way until the CVE is imported again.
-- Forward-only; never edit a released migration.

ALTER TABLE vuln_cve_products ADD COLUMN criteria TEXT;
