-- Version 3: the offline search index is the domain's, built from each cached procedure
-- (name, aliases, field, code) when the catalogue is loaded, so the folded copies go.

ALTER TABLE procedures DROP COLUMN name_folded;
ALTER TABLE procedures DROP COLUMN search_text;
