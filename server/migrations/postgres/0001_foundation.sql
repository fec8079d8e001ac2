-- Foundation schema (PostgreSQL): catalogue, branches, accounts, tokens, signing keys, throttling.
CREATE TABLE catalogue_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL,
    seed_hash TEXT NOT NULL
);
INSERT INTO catalogue_state (id, version, seed_hash) VALUES (1, 0, '');

CREATE TABLE fields (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY,
    field_code TEXT NOT NULL REFERENCES fields (code),
    search_text TEXT NOT NULL,
    doc JSONB NOT NULL,
    content_hash TEXT NOT NULL,
    version BIGINT NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX procedures_by_version ON procedures (version);

CREATE TABLE branches (
    code TEXT PRIMARY KEY,
    doc JSONB NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lng DOUBLE PRECISION NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    citizen_id TEXT UNIQUE,
    phone TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'admin')),
    branch_code TEXT REFERENCES branches (code),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE refresh_tokens (
    id UUID PRIMARY KEY,
    family_id UUID NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    secret BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    retired_at TIMESTAMPTZ
);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    locked_until TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
