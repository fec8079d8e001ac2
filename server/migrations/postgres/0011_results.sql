-- The result document of a dossier (PostgreSQL): the signed decision or certificate an
-- officer attached (an attachment the officer uploaded; also linked in dossier_attachments,
-- so the branch sees it and the janitor keeps it). One per dossier; attaching again
-- replaces it until the result is returned; every attachment is in the timeline.
CREATE TABLE dossier_results (
    dossier_id UUID PRIMARY KEY REFERENCES dossiers (id),
    attachment_id UUID NOT NULL REFERENCES attachments (id),
    attached_by UUID NOT NULL REFERENCES users (id),
    attached_at TIMESTAMPTZ NOT NULL
);
