-- Dossiers (SQLite): attachments and resumable uploads, dossiers with their timeline,
-- per-day code counters, idempotency keys, the notification inbox and the push outbox.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE attachments (
    id BLOB PRIMARY KEY,
    owner_id BLOB NOT NULL REFERENCES users (id),
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    file_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (owner_id, sha256)
);

CREATE TABLE uploads (
    id BLOB PRIMARY KEY,
    owner_id BLOB NOT NULL REFERENCES users (id),
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    file_name TEXT NOT NULL,
    received INTEGER NOT NULL,
    attachment_id BLOB REFERENCES attachments (id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, sha256);

CREATE TABLE dossiers (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    applicant_id BLOB NOT NULL REFERENCES users (id),
    applicant_name TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    procedure_name TEXT NOT NULL,
    processing_days INTEGER NOT NULL,
    form_version INTEGER NOT NULL,
    form_values TEXT NOT NULL,
    status TEXT NOT NULL,
    branch_code TEXT NOT NULL REFERENCES branches (code),
    assigned_to BLOB REFERENCES users (id),
    submitted_at TEXT NOT NULL,
    received_at TEXT,
    due_date TEXT,
    paused_days INTEGER NOT NULL DEFAULT 0,
    pause_started_on TEXT,
    decided_at TEXT,
    closed_at TEXT,
    rating_score INTEGER,
    rating_comment TEXT,
    rated_at TEXT,
    updated_at TEXT NOT NULL,
    revision INTEGER NOT NULL
);
CREATE INDEX dossiers_by_applicant ON dossiers (applicant_id, submitted_at);
CREATE INDEX dossiers_by_branch ON dossiers (branch_code, status, due_date);
CREATE INDEX dossiers_by_received ON dossiers (received_at);
CREATE INDEX dossiers_by_decided ON dossiers (decided_at);

CREATE TABLE dossier_attachments (
    dossier_id BLOB NOT NULL REFERENCES dossiers (id),
    attachment_id BLOB NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (dossier_id, attachment_id)
);
CREATE INDEX dossier_attachments_by_attachment ON dossier_attachments (attachment_id);

CREATE TABLE dossier_events (
    id BLOB PRIMARY KEY,
    dossier_id BLOB NOT NULL REFERENCES dossiers (id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id BLOB NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note TEXT
);
CREATE INDEX dossier_events_by_dossier ON dossier_events (dossier_id, at);

CREATE TABLE dossier_code_counters (
    prefix TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE idempotency_keys (
    owner_id BLOB NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dossier_id BLOB NOT NULL REFERENCES dossiers (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner_id, key)
);

CREATE TABLE notifications (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    dossier_id BLOB REFERENCES dossiers (id),
    dossier_code TEXT,
    status TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

CREATE TABLE outbox (
    id BLOB PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    available_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    done_at TEXT
);
CREATE INDEX outbox_pending ON outbox (done_at, available_at);
