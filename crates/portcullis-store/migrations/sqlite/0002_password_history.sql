-- Retired password hashes, newest first by id, pruned to the connection's history size.
CREATE TABLE password_history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    retired_at    INTEGER NOT NULL
);
CREATE INDEX password_history_user ON password_history (user_id, id);
