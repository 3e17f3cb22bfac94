-- MFA: the short-lived tokens of a login waiting for its second factor (stored hashed), and
-- each user's authenticators (TOTP secrets, hashed recovery codes).
CREATE TABLE mfa_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    request    TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE TABLE authenticators (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    secret         TEXT,
    code_hash      TEXT,
    confirmed      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     BIGINT NOT NULL,
    last_step      BIGINT,
    failures       BIGINT NOT NULL DEFAULT 0,
    failures_since BIGINT
);
CREATE INDEX authenticators_user ON authenticators (user_id, kind);
