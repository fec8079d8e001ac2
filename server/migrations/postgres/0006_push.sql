-- Push notifications (PostgreSQL): the citizens' phones, their notification preferences,
-- the operators' campaigns, the per-device delivery jobs and the fleet-wide rate window.

-- One row per FCM registration token; a token belongs to one account at a time.
CREATE TABLE devices (
    token TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The sign-in (refresh token family) that registered it: logging out removes it.
    family_id UUID,
    platform TEXT NOT NULL CHECK (platform IN ('android', 'ios')),
    app_version TEXT NOT NULL,
    locale TEXT NOT NULL CHECK (locale IN ('vi', 'en')),
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    -- Unused for 30 days: no longer targeted (registering again revives it).
    stale_at TIMESTAMPTZ,
    -- FCM said the token is dead (UNREGISTERED, SENDER_ID_MISMATCH, an invalid token).
    deactivated_at TIMESTAMPTZ,
    deactivated_reason TEXT
);
CREATE INDEX devices_user ON devices (user_id);
CREATE INDEX devices_family ON devices (family_id);
CREATE INDEX devices_last_seen ON devices (last_seen_at);

CREATE TABLE notification_preferences (
    user_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    dossier_updates BOOLEAN NOT NULL,
    report_updates BOOLEAN NOT NULL,
    announcements BOOLEAN NOT NULL,
    ward_code TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX notification_preferences_ward ON notification_preferences (ward_code);

CREATE TABLE push_campaigns (
    id UUID PRIMARY KEY,
    created_by UUID NOT NULL REFERENCES users (id),
    title_vi TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_vi TEXT NOT NULL,
    body_en TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('city', 'ward', 'accounts')),
    ward_code TEXT,
    scheduled_at TIMESTAMPTZ NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('scheduled', 'fanning_out', 'queued', 'cancelled')),
    -- The last device token queued (fan-out goes through the devices in token order).
    cursor TEXT,
    -- A fan-out step holds the campaign until then (a dead worker's step is taken over).
    lease_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_campaigns_due ON push_campaigns (state, scheduled_at);

CREATE TABLE push_campaign_accounts (
    campaign_id UUID NOT NULL REFERENCES push_campaigns (id) ON DELETE CASCADE,
    user_id UUID NOT NULL,
    PRIMARY KEY (campaign_id, user_id)
);

-- One message to one device. `available_at` is both the retry time and the lease: a
-- worker claims a job by moving it into the future and stamping its `claim`; only the
-- holder of that claim may record the outcome, and a job whose holder died becomes
-- available again when the lease runs out. `source_id` is the outbox row or the campaign
-- it comes from (fan-out is idempotent per source and token). Few indexes, since every
-- job is written three times (queued, claimed, finished): the janitor finds old jobs by
-- their time-ordered id (UUIDv7), the figures scan the table.
CREATE TABLE push_jobs (
    id UUID PRIMARY KEY,
    source_id UUID NOT NULL,
    outbox_id UUID,
    campaign_id UUID,
    token TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    -- The FCM message (JSON); none for a campaign's jobs, whose message is made from the
    -- campaign's texts in the phone's `locale` when it is sent (small rows, fast fan-out).
    message TEXT,
    locale TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    available_at TIMESTAMPTZ NOT NULL,
    claim UUID,
    error_code TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    UNIQUE (source_id, token)
);
CREATE INDEX push_jobs_ready ON push_jobs (available_at) WHERE state = 'queued';

-- Messages sent per minute by the whole fleet (claimed in batches before sending).
CREATE TABLE push_rate (
    minute BIGINT PRIMARY KEY,
    used BIGINT NOT NULL
);
