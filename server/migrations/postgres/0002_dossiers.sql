-- Dossiers (PostgreSQL): attachments and resumable uploads, dossiers with their timeline,
-- per-day code counters, idempotency keys, the notification inbox and the push outbox.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE attachments (
    id UUID PRIMARY KEY,
    owner_id UUID NOT NULL REFERENCES users (id),
    sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    file_name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (owner_id, sha256)
);

CREATE TABLE uploads (
    id UUID PRIMARY KEY,
    owner_id UUID NOT NULL REFERENCES users (id),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    file_name TEXT NOT NULL,
    received BIGINT NOT NULL,
    attachment_id UUID REFERENCES attachments (id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX uploads_by_owner ON uploads (owner_id, sha256);

CREATE TABLE dossiers (
    id UUID PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    applicant_id UUID NOT NULL REFERENCES users (id),
    applicant_name TEXT NOT NULL,
    applicant_phone TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    procedure_name TEXT NOT NULL,
    processing_days BIGINT NOT NULL,
    form_version BIGINT NOT NULL,
    form_values JSONB NOT NULL,
    status TEXT NOT NULL,
    branch_code TEXT NOT NULL REFERENCES branches (code),
    assigned_to UUID REFERENCES users (id),
    submitted_at TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ,
    due_date DATE,
    paused_days BIGINT NOT NULL DEFAULT 0,
    pause_started_on DATE,
    decided_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    rating_score BIGINT,
    rating_comment TEXT,
    rated_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL,
    revision BIGINT NOT NULL
);
CREATE INDEX dossiers_by_applicant ON dossiers (applicant_id, submitted_at);
CREATE INDEX dossiers_by_branch ON dossiers (branch_code, status, due_date);
CREATE INDEX dossiers_by_received ON dossiers (received_at);
CREATE INDEX dossiers_by_decided ON dossiers (decided_at);

CREATE TABLE dossier_attachments (
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    attachment_id UUID NOT NULL REFERENCES attachments (id),
    PRIMARY KEY (dossier_id, attachment_id)
);
CREATE INDEX dossier_attachments_by_attachment ON dossier_attachments (attachment_id);

CREATE TABLE dossier_events (
    id UUID PRIMARY KEY,
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    at TIMESTAMPTZ NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id UUID NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    note TEXT
);
CREATE INDEX dossier_events_by_dossier ON dossier_events (dossier_id, at);

CREATE TABLE dossier_code_counters (
    prefix TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    owner_id UUID NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (owner_id, key)
);

CREATE TABLE notifications (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    dossier_id UUID REFERENCES dossiers (id),
    dossier_code TEXT,
    status TEXT,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at TIMESTAMPTZ
);
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

CREATE TABLE outbox (
    id UUID PRIMARY KEY,
    topic TEXT NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    available_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    done_at TIMESTAMPTZ
);
CREATE INDEX outbox_pending ON outbox (done_at, available_at);
