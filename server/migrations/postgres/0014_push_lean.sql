-- Push jobs lose `source_id` and its uniqueness with the token. Each fan-out is already
-- one transaction with its progress mark (the outbox row claimed as done first, the
-- campaign's cursor under its lease), so a second copy of a job cannot be committed; the
-- index only cost every job's insert and each of its two later updates an entry in a
-- large text index (a third of the database's work per message in the push benchmark).
ALTER TABLE push_jobs DROP COLUMN source_id;

-- A time-ordered id (UUID version 7: milliseconds since the epoch, then random bits) made
-- by the database, for rows it writes itself (a campaign's page of jobs): the janitor
-- finds old jobs by their id. A random (version 4) UUID with its first 48 bits replaced
-- by the time and its version nibble turned from 4 (0100) into 7 (0111).
CREATE FUNCTION motcua_uuid_v7() RETURNS UUID LANGUAGE sql VOLATILE AS $$
    SELECT encode(
        set_bit(set_bit(
            overlay(uuid_send(gen_random_uuid())
                PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT) FROM 3)
                FROM 1 FOR 6),
            52, 1), 53, 1),
        'hex')::UUID
$$;
