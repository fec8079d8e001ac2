-- no-transaction
-- Inter-agency handling (SQLite): the competent agencies, agency officers (accounts tied
-- to an agency), the legs of each dossier's route with their clocks, and the agency named
-- by a timeline event. The users table is rebuilt to widen its role check (SQLite cannot
-- alter a CHECK), with foreign keys off for the swap, as SQLite's documentation of
-- ALTER TABLE prescribes: hence no transaction around the file, and one inside it.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE agencies (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL
);

CREATE TABLE users_new (
    id BLOB PRIMARY KEY,
    citizen_id TEXT UNIQUE,
    phone TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    email TEXT,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('citizen', 'officer', 'admin', 'agency_officer')),
    branch_code TEXT REFERENCES branches (code),
    created_at TEXT NOT NULL,
    -- The agency of an agency officer (and of nobody else).
    agency_code TEXT REFERENCES agencies (code),
    CHECK ((role = 'agency_officer') = (agency_code IS NOT NULL))
);
INSERT INTO users_new (id, citizen_id, phone, full_name, email, password_hash, role, branch_code, created_at)
    SELECT id, citizen_id, phone, full_name, email, password_hash, role, branch_code, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;

-- One row per leg of a dossier's route (made at submission from the procedure's plan, all
-- pending); only `workflow::step` decides how a leg moves.
CREATE TABLE dossier_legs (
    dossier_id BLOB NOT NULL REFERENCES dossiers (id),
    seq INTEGER NOT NULL,
    agency_code TEXT NOT NULL REFERENCES agencies (code),
    days INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'open', 'paused', 'done', 'refused', 'cancelled')),
    started_on TEXT,
    due_date TEXT,
    paused_days INTEGER NOT NULL DEFAULT 0,
    pause_started_on TEXT,
    finished_on TEXT,
    working_days_taken INTEGER,
    forwarded_at TEXT,
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
ALTER TABLE dossiers ADD COLUMN leg_count INTEGER NOT NULL DEFAULT 0;

COMMIT;
PRAGMA foreign_keys = ON;
