-- Authentication hardening (SQLite): login attempts as decaying counters claimed before the
-- password check, phone verification challenges, and server-wide secrets.
-- One decaying counter per throttle key (an account and client network, or an account
-- alone): `score` attempts as of `updated_ms` (Unix ms), draining at a configured rate.
CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY,
    score REAL NOT NULL,
    updated_ms INTEGER NOT NULL
);

-- A registration waiting for its phone to be verified with a one-time code (stored hashed).
CREATE TABLE phone_challenges (
    id BLOB PRIMARY KEY,
    phone TEXT NOT NULL,
    citizen_id TEXT NOT NULL,
    full_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    consumed_at TEXT
);
CREATE INDEX phone_challenges_by_expiry ON phone_challenges (expires_at);

-- Random secrets every server process shares (e.g. the key that derives a refresh token's
-- successor, so a retry within the grace period gets the same one back).
CREATE TABLE server_secrets (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL
);

-- Public tracking counts its guesses with login_attempts too: the old table goes.
DROP TABLE login_throttle;
