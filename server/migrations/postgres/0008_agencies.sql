-- Inter-agency handling (PostgreSQL): the competent agencies, agency officers (accounts
-- tied to an agency), the legs of each dossier's route with their clocks, and the agency
-- named by a timeline event.
CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL
);

ALTER TABLE users DROP CONSTRAINT users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('citizen', 'officer', 'admin', 'agency_officer'));
-- The agency of an agency officer (and of nobody else).
ALTER TABLE users ADD COLUMN agency_code TEXT REFERENCES agencies (code);
ALTER TABLE users ADD CONSTRAINT users_agency_officer CHECK ((role = 'agency_officer') = (agency_code IS NOT NULL));

-- One row per leg of a dossier's route (made at submission from the procedure's plan, all
-- pending); only `workflow::step` decides how a leg moves.
CREATE TABLE dossier_legs (
    dossier_id UUID NOT NULL REFERENCES dossiers (id),
    seq BIGINT NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    days BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'open', 'paused', 'done', 'refused', 'cancelled')),
    started_on DATE,
    due_date DATE,
    paused_days BIGINT NOT NULL DEFAULT 0,
    pause_started_on DATE,
    finished_on DATE,
    working_days_taken BIGINT,
    forwarded_at TIMESTAMPTZ,
    PRIMARY KEY (dossier_id, seq)
);
-- The agency's queue: its open and paused legs, by due date.
CREATE INDEX dossier_legs_queue ON dossier_legs (agency_code, state, due_date);
-- At most one leg of a dossier is under way.
CREATE UNIQUE INDEX dossier_legs_one_current ON dossier_legs (dossier_id) WHERE state IN ('open', 'paused');
CREATE INDEX dossier_legs_started ON dossier_legs (started_on);
CREATE INDEX dossier_legs_finished ON dossier_legs (finished_on);

ALTER TABLE dossier_events ADD COLUMN agency_code TEXT;
-- How many legs the dossier's route has (0: none), so that reading a dossier without
-- legs costs no look-up of them.
ALTER TABLE dossiers ADD COLUMN leg_count BIGINT NOT NULL DEFAULT 0;
