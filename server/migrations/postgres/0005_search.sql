-- Search (PostgreSQL): the searchable text moved into the domain's index (built from each
-- procedure's name, aliases, field and code), so the folded copy in the table goes; and
-- the operators' counts of folded queries (no personal data: digits runs are masked,
-- keys are capped at 100 characters, the table at a bounded number of rows).
ALTER TABLE procedures DROP COLUMN search_text;

CREATE TABLE search_queries (
    query TEXT PRIMARY KEY,
    -- Searches with this folded query.
    searches BIGINT NOT NULL,
    -- Of those, answered with only the nearest procedures (nothing covered the query).
    empty BIGINT NOT NULL,
    -- Procedures opened from this query's results.
    opened BIGINT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL,
    last_seen TIMESTAMPTZ NOT NULL
);
CREATE INDEX search_queries_by_searches ON search_queries (searches DESC, query);
CREATE INDEX search_queries_by_empty ON search_queries (empty DESC, query);
