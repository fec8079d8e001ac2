-- Version 2: the offline cache of the citizen's dossiers and notification inbox, and the
-- link from a sent draft to the dossier it became.

ALTER TABLE drafts ADD COLUMN dossier_id TEXT;

CREATE TABLE dossiers (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    summary TEXT NOT NULL,
    detail TEXT
);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    read_at TEXT,
    doc TEXT NOT NULL
);

CREATE INDEX notifications_created ON notifications (created_at);
