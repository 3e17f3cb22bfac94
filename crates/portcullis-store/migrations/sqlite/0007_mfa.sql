-- MFA: the short-lived tokens of a login waiting for its second factor (stored hashed), and
-- each user's authenticators (TOTP secrets, hashed recovery codes).
CREATE TABLE mfa_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    request    TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE TABLE authenticators (
    id             TEXT PRIMARY KEY NOT NULL,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    secret         TEXT,
    code_hash      TEXT,
    confirmed      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_step      INTEGER,
    failures       INTEGER NOT NULL DEFAULT 0,
    failures_since INTEGER
);
CREATE INDEX authenticators_user ON authenticators (user_id, kind);
