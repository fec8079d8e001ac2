-- Hardening (PostgreSQL): uploads claim their byte range before writing and keep each
-- chunk in a file of its own; per-account quotas counted atomically; a
-- stronger tracking verifier for new dossiers.
ALTER TABLE uploads ADD COLUMN claim_token TEXT;
ALTER TABLE uploads ADD COLUMN claim_until TIMESTAMPTZ;
CREATE INDEX uploads_unfinished ON uploads (attachment_id, updated_at);

CREATE TABLE upload_chunks (
    upload_id UUID NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    start BIGINT NOT NULL,
    len BIGINT NOT NULL,
    file_token TEXT NOT NULL,
    PRIMARY KEY (upload_id, start)
);

CREATE INDEX attachments_by_age ON attachments (created_at);
CREATE INDEX attachments_by_sha ON attachments (sha256);
CREATE INDEX uploads_by_sha ON uploads (sha256);
CREATE INDEX uploads_by_attachment ON uploads (attachment_id);

CREATE TABLE quota_counters (
    account_id UUID NOT NULL,
    kind TEXT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    used BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, window_start)
);


ALTER TABLE dossiers ADD COLUMN tracking_verifier TEXT;

-- The legal clock's dates (local, Vietnamese) beside the timestamps, so statistics are
-- aggregated in SQL the same way on both databases; filled for older rows here and by the
-- server at start-up (working days need the calendar).
ALTER TABLE dossiers ADD COLUMN received_on DATE;
ALTER TABLE dossiers ADD COLUMN decided_on DATE;
ALTER TABLE dossiers ADD COLUMN rated_on DATE;
ALTER TABLE dossiers ADD COLUMN working_days_taken BIGINT;
UPDATE dossiers SET received_on = (received_at AT TIME ZONE 'UTC' + INTERVAL '7 hours')::date WHERE received_at IS NOT NULL;
UPDATE dossiers SET decided_on = (decided_at AT TIME ZONE 'UTC' + INTERVAL '7 hours')::date WHERE decided_at IS NOT NULL;
UPDATE dossiers SET rated_on = (rated_at AT TIME ZONE 'UTC' + INTERVAL '7 hours')::date WHERE rated_at IS NOT NULL;
CREATE INDEX dossiers_by_received_on ON dossiers (received_on);
CREATE INDEX dossiers_by_decided_on ON dossiers (decided_on);
CREATE INDEX dossiers_by_rated_on ON dossiers (rated_on);
