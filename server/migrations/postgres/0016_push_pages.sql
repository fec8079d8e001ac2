-- A campaign's phones are no longer written one job row each. Its fan-out writes one page
-- per run of consecutive phones of the audience (in token order): `(after_token,
-- last_token]`. A worker claims a page like a job (lease and claim id), reads the page's
-- phones, sends to them all and records the page done with how many FCM accepted; only a
-- phone whose send did not succeed (a dead token, a refused message, a retry later, a send
-- not begun) gets a job row of its own. One row write per page instead of three per
-- phone: the database did as much work per message as the FCM emulator did.
CREATE TABLE push_pages (
    id UUID PRIMARY KEY,
    campaign_id UUID NOT NULL REFERENCES push_campaigns (id),
    -- The phones: tokens above `after_token` up to and including `last_token`, in the
    -- campaign's audience when the page is sent.
    after_token TEXT NOT NULL,
    last_token TEXT NOT NULL,
    -- How many phones the range held when it was written (the queue's figure).
    phones BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'done')),
    attempts BIGINT NOT NULL DEFAULT 0,
    -- Due time and lease, as for jobs.
    available_at TIMESTAMPTZ NOT NULL,
    claim UUID,
    -- Messages of this page FCM accepted.
    sent BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX push_pages_ready ON push_pages (available_at) WHERE state = 'queued';

-- The figures behind every process's push gauges (JSON): one process at a time recomputes
-- them, the one whose claim moves `computed_at` past the refresh interval; the others
-- read them here instead of each counting the jobs themselves.
CREATE TABLE push_figures (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    figures TEXT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL
);

-- The database no longer writes push jobs itself (0014 made it write a campaign's page of
-- jobs in one statement; a campaign is now a handful of pages, written by the server): its
-- id maker has no caller left.
DROP FUNCTION motcua_uuid_v7();
