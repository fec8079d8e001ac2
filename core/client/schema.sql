-- The current schema of the client store, used to create a fresh store in one step.
-- Must describe exactly what migrations/ produce from any older version (a unit test in
-- src/store.rs checks this): when you add a migration, change this file the same way.

CREATE TABLE catalogue_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    etag TEXT,
    synced_at TEXT,
    -- The language of the cached catalogue's texts (`vi`/`en`); NULL: bilingual.
    lang TEXT
);

CREATE TABLE fields (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    field_code TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    version INTEGER NOT NULL,
    doc TEXT NOT NULL
);

CREATE TABLE account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    user TEXT NOT NULL
);

CREATE TABLE drafts (
    id TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    procedure_name TEXT NOT NULL,
    form_version INTEGER NOT NULL,
    state TEXT NOT NULL,
    branch_code TEXT,
    dropped TEXT NOT NULL DEFAULT '[]',
    server_errors TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    dossier_id TEXT,
    -- An answer to a supplement request: the dossier it answers, and the citizen's note.
    supplement_for TEXT,
    supplement_note TEXT
);

CREATE INDEX drafts_updated ON drafts (updated_at);

-- The form a draft is filled on, apart from the draft row so that an autosave (which
-- touches the row) does not rewrite a large form each time.
CREATE TABLE draft_forms (
    draft_id TEXT PRIMARY KEY REFERENCES drafts (id) ON DELETE CASCADE,
    form TEXT NOT NULL
);

CREATE TABLE draft_values (
    draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (draft_id, key)
) WITHOUT ROWID;

CREATE TABLE draft_files (
    id TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL REFERENCES drafts (id) ON DELETE CASCADE,
    field_key TEXT NOT NULL,
    file_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    upload_id TEXT,
    attachment_id TEXT,
    created_at TEXT NOT NULL
);

CREATE INDEX draft_files_draft ON draft_files (draft_id);

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

CREATE TABLE outbox (
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

-- This phone's push registration (one row: the FCM token, and for which account and
-- language the server last took it) and the ids of notifications already shown.
CREATE TABLE push_device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    platform TEXT NOT NULL,
    app_version TEXT NOT NULL,
    sent_for TEXT,
    updated_at INTEGER NOT NULL
);

CREATE TABLE push_seen (
    notification_id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
CREATE INDEX push_seen_by_time ON push_seen (seen_at);

CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    mine INTEGER NOT NULL,
    followed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    summary TEXT NOT NULL
);

CREATE INDEX reports_created ON reports (created_at);
