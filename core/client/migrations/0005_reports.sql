-- Version 5: field reports. Report drafts (category, description, place, photos copied
-- into the store) are sent through the same outbox as dossiers, which now names either a
-- dossier draft or a report draft (the table is rebuilt: SQLite cannot relax a NOT NULL);
-- the citizen's own and followed reports are cached for offline reading.

CREATE TABLE report_drafts (
    id TEXT PRIMARY KEY,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    lat REAL,
    lng REAL,
    address TEXT NOT NULL,
    hide_identity INTEGER NOT NULL,
    state TEXT NOT NULL,
    server_errors TEXT NOT NULL DEFAULT '[]',
    report_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE report_draft_photos (
    id TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL REFERENCES report_drafts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    upload_id TEXT,
    attachment_id TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX report_draft_photos_draft ON report_draft_photos (draft_id, position);

CREATE TABLE outbox_v4 (
    id TEXT PRIMARY KEY,
    draft_id TEXT UNIQUE REFERENCES drafts (id) ON DELETE CASCADE,
    report_draft_id TEXT UNIQUE REFERENCES report_drafts (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    body TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    park_reason TEXT,
    dossier_id TEXT,
    report_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((draft_id IS NULL) <> (report_draft_id IS NULL))
);

INSERT INTO outbox_v4 (id, draft_id, idempotency_key, state, body, attempts, next_attempt_at, park_reason, dossier_id,
                       created_at, updated_at)
    SELECT id, draft_id, idempotency_key, state, body, attempts, next_attempt_at, park_reason, dossier_id,
           created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v4 RENAME TO outbox;

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    mine INTEGER NOT NULL,
    followed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    summary TEXT NOT NULL
);

CREATE INDEX reports_created ON reports (created_at);
