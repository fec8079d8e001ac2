-- Version 6: answers to supplement requests. An answer is a draft like a submission
-- (values, files, outbox item with its idempotency key) that names the dossier it answers
-- and carries the citizen's note; it is posted to the dossier's `/supplement`.

ALTER TABLE drafts ADD COLUMN supplement_for TEXT;
ALTER TABLE drafts ADD COLUMN supplement_note TEXT;
