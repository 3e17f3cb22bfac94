-- Refresh tokens, stored hashed. A family is every token rotated from one login; reusing a
-- rotated token revokes the whole family.
CREATE TABLE refresh_tokens (
    token_hash      TEXT PRIMARY KEY NOT NULL,
    family_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    scope           TEXT NOT NULL,
    audience        TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    idle_expires_at BIGINT,
    rotated_at      BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
