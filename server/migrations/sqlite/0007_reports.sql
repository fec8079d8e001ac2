-- Field reports (SQLite): reports routed to a ward, their photos (metadata removed,
-- with thumbnails), timeline, followers of a report or of a place, moderation audit,
-- idempotency keys, daily code counters, and Open311 partner keys (hashes only).
CREATE TABLE reports (
    id BLOB PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    reporter_id BLOB REFERENCES users (id),
    partner_key_id BLOB,
    category_code TEXT NOT NULL,
    description TEXT NOT NULL,
    description_hidden BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL,
    reject_reason TEXT,
    ward_code TEXT NOT NULL,
    lat REAL NOT NULL,
    lng REAL NOT NULL,
    -- floor(lat * 400): rows of about 280 m, the coarse cell of the nearby index.
    grid_lat INTEGER NOT NULL,
    address TEXT NOT NULL,
    hide_identity BOOLEAN NOT NULL,
    assigned_to BLOB REFERENCES users (id),
    response TEXT,
    due_date TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    -- The first time it was resolved or rejected, whether that was by the due date, and
    -- the seconds it took (for the figures).
    processed_at TEXT,
    processed_on_time BOOLEAN,
    resolve_secs INTEGER,
    rating_score INTEGER,
    rating_comment TEXT,
    rated_at TEXT,
    followers INTEGER NOT NULL DEFAULT 0,
    revision INTEGER NOT NULL
);
CREATE INDEX reports_nearby ON reports (category_code, grid_lat, lng);
CREATE INDEX reports_ward_queue ON reports (ward_code, due_date, id);
CREATE INDEX reports_queue ON reports (due_date, id);
CREATE INDEX reports_by_reporter ON reports (reporter_id, created_at);
CREATE INDEX reports_by_created ON reports (created_at);
CREATE INDEX reports_by_lat ON reports (lat);

CREATE TABLE report_photos (
    id BLOB PRIMARY KEY,
    report_id BLOB NOT NULL REFERENCES reports (id),
    attachment_id BLOB NOT NULL REFERENCES attachments (id),
    stage TEXT NOT NULL,
    position INTEGER NOT NULL,
    thumb_sha256 TEXT NOT NULL REFERENCES blobs (sha256),
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX report_photos_by_report ON report_photos (report_id, stage, position);
CREATE INDEX report_photos_by_attachment ON report_photos (attachment_id);
CREATE INDEX report_photos_by_thumb ON report_photos (thumb_sha256);

CREATE TABLE report_events (
    id BLOB PRIMARY KEY,
    report_id BLOB NOT NULL REFERENCES reports (id),
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor_id BLOB REFERENCES users (id),
    actor_role TEXT NOT NULL,
    note TEXT
);
CREATE INDEX report_events_by_report ON report_events (report_id, at);

CREATE TABLE report_follows (
    report_id BLOB NOT NULL REFERENCES reports (id),
    user_id BLOB NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (report_id, user_id)
);
CREATE INDEX report_follows_by_user ON report_follows (user_id, created_at);

CREATE TABLE place_follows (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id),
    ward_code TEXT,
    lat REAL,
    lng REAL,
    radius_m INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX place_follows_by_user ON place_follows (user_id);
CREATE INDEX place_follows_by_ward ON place_follows (ward_code);
CREATE INDEX place_follows_by_lat ON place_follows (lat);

CREATE TABLE report_moderation (
    id BLOB PRIMARY KEY,
    report_id BLOB NOT NULL REFERENCES reports (id),
    target TEXT NOT NULL,
    photo_id BLOB,
    reason TEXT NOT NULL,
    original TEXT,
    moderator_id BLOB NOT NULL REFERENCES users (id),
    at TEXT NOT NULL
);
CREATE INDEX report_moderation_by_report ON report_moderation (report_id, at);

CREATE TABLE report_idempotency (
    owner_id BLOB NOT NULL REFERENCES users (id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    report_id BLOB NOT NULL REFERENCES reports (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (owner_id, key)
);

CREATE TABLE report_code_counters (
    prefix TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE partner_keys (
    id BLOB PRIMARY KEY,
    partner TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

ALTER TABLE notifications ADD COLUMN report_id BLOB REFERENCES reports (id);
ALTER TABLE notifications ADD COLUMN event_id BLOB;
CREATE INDEX notifications_by_event ON notifications (event_id);

-- The bytes actually stored for an upload (photos lose their metadata, so their hash
-- differs from the one announced): the janitor leaves these blobs alone too.
ALTER TABLE uploads ADD COLUMN stored_sha256 TEXT;
CREATE INDEX uploads_by_stored ON uploads (stored_sha256);

-- A photo's thumbnail, made once when it is stored (filing a report then only links it).
ALTER TABLE attachments ADD COLUMN thumb_sha256 TEXT;
CREATE INDEX attachments_by_thumb ON attachments (thumb_sha256);
