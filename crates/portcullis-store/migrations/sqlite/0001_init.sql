-- Users of database connections. E-mail and username are stored lower-cased; the unique
-- indexes decide between concurrent sign-ups.
CREATE TABLE users (
    id                  TEXT PRIMARY KEY NOT NULL,
    connection          TEXT NOT NULL,
    email               TEXT NOT NULL,
    email_verified      INTEGER NOT NULL DEFAULT 0,
    username            TEXT,
    password_hash       TEXT NOT NULL,
    given_name          TEXT,
    family_name         TEXT,
    name                TEXT NOT NULL,
    nickname            TEXT NOT NULL,
    picture             TEXT NOT NULL,
    user_metadata       TEXT NOT NULL DEFAULT '{}',
    app_metadata        TEXT NOT NULL DEFAULT '{}',
    blocked             INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    last_login          INTEGER,
    last_ip             TEXT,
    logins_count        INTEGER NOT NULL DEFAULT 0,
    last_password_reset INTEGER,
    version             INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX users_email_unique ON users (connection, email);
CREATE UNIQUE INDEX users_username_unique ON users (connection, username);
CREATE INDEX users_email ON users (email);
CREATE INDEX users_created ON users (created_at, id);

-- Token signing keys; the highest generation signs.
CREATE TABLE signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    generation      INTEGER NOT NULL UNIQUE,
    private_key_pem TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
