-- mamori schema v8: the matching index also holds AND configurations of one vulnerable node and
-- platform nodes (firmware on hardware). Entries written as '!' (matched on the tree) by v7 are
-- rebuilt when this version opens the database; NULL is read as '!' until then.
-- Forward-only; never edit a released migration.

UPDATE vuln_cve_products SET criteria = NULL WHERE criteria = '!';
