-- Single-use, expiring tickets mailed to users (unblock; later reset and verification). Only
-- a SHA-256 of the ticket is stored.
CREATE TABLE tickets (
    id_hash    TEXT PRIMARY KEY NOT NULL,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    payload    TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX tickets_user ON tickets (user_id);
