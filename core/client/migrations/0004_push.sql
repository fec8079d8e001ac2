-- Version 4: this phone's push registration (one row: the FCM token, and for which account
-- and language the server last took it) and the ids of the notifications already shown
-- (FCM may deliver one twice; the newest 1,000 are kept).
CREATE TABLE push_device (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    token TEXT NOT NULL,
    platform TEXT NOT NULL,
    app_version TEXT NOT NULL,
    -- `user id/locale` the server registered it for; NULL: to send.
    sent_for TEXT,
    updated_at INTEGER NOT NULL
);

CREATE TABLE push_seen (
    notification_id TEXT PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
CREATE INDEX push_seen_by_time ON push_seen (seen_at);
