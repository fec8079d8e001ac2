-- Version 1 of the client store: catalogue cache, account, drafts with their values and
-- files, and the outbox. Append-only history: never edit once released; add a new file.

CREATE TABLE catalogue_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    etag TEXT,
    synced_at TEXT
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
    name_folded TEXT NOT NULL,
    search_text TEXT NOT NULL,
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
    updated_at TEXT NOT NULL
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

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    draft_id TEXT NOT NULL UNIQUE REFERENCES drafts (id) ON DELETE CASCADE,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    body TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    park_reason TEXT,
    dossier_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
