-- Staff sessions of the web console (SQLite): one row per sign-in, found by the SHA-256
-- of the cookie's random token (the token itself is never stored), with the per-session
-- CSRF token its forms carry; logout deletes the row, expiry ends it.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at);
CREATE INDEX console_sessions_by_user ON console_sessions (user_id);
