-- Version 7: the catalogue is fetched in the app's language (`?lang=`), each text once.
-- `lang` says which (`vi`/`en`); NULL: a bilingual catalogue fetched by an older build.
-- A client whose language differs fetches the whole catalogue again (since 0).

ALTER TABLE catalogue_state ADD COLUMN lang TEXT;
