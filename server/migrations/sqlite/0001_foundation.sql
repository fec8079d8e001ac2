-- Foundation schema (SQLite): catalogue, branches, accounts, tokens, signing keys, throttling.
CREATE TABLE catalogue_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    seed_hash TEXT NOT NULL
);
INSERT INTO catalogue_state (id, version, seed_hash) VALUES (1, 0, '');

CREATE TABLE fields (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE procedures (
    code TEXT PRIMARY KEY,
    field_code TEXT NOT NULL REFERENCES fields (code),
    search_text TEXT NOT NULL,
    doc TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    retired BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX procedures_by_version ON procedures (version);

CREATE TABLE branches (
    code TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    lat REAL NOT NULL,
    lng REAL NOT NULL
);

CREATE TABLE users (
    id BLOB PRIMARY KEY,
    citizen_id TEXT UNIQUE,
    phone TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'admin')),
    branch_code TEXT REFERENCES branches (code),
    created_at TEXT NOT NULL
);

CREATE TABLE refresh_tokens (
    id BLOB PRIMARY KEY,
    family_id BLOB NOT NULL,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL
);
