-- Push jobs lose `source_id` and its uniqueness with the token (see the PostgreSQL
-- migration for why). SQLite cannot drop a column of a UNIQUE constraint: the table is
-- rebuilt (nothing references it).
CREATE TABLE push_jobs_new (
    id BLOB PRIMARY KEY,
    outbox_id BLOB,
    campaign_id BLOB,
    token TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    message TEXT,
    locale TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    available_at TEXT NOT NULL,
    claim BLOB,
    error_code TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
INSERT INTO push_jobs_new (id, outbox_id, campaign_id, token, notification_id, message, locale, state, attempts,
    available_at, claim, error_code, created_at, finished_at)
SELECT id, outbox_id, campaign_id, token, notification_id, message, locale, state, attempts,
    available_at, claim, error_code, created_at, finished_at FROM push_jobs;
DROP TABLE push_jobs;
ALTER TABLE push_jobs_new RENAME TO push_jobs;
CREATE INDEX push_jobs_ready ON push_jobs (available_at) WHERE state = 'queued';
