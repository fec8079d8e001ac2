-- Staff administration (PostgreSQL): an account an administrator disabled cannot sign in,
-- and its sign-ins are revoked when it is disabled; enabling it again clears the mark.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;
