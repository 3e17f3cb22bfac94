-- Tenant log events (Auth0's log objects); log_id sorts by time.
CREATE TABLE logs (
    log_id      TEXT PRIMARY KEY NOT NULL,
    date        INTEGER NOT NULL,
    log_type    TEXT NOT NULL,
    description TEXT,
    client_id   TEXT,
    client_name TEXT,
    ip          TEXT,
    user_agent  TEXT,
    user_id     TEXT,
    user_name   TEXT,
    connection  TEXT,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX logs_user ON logs (user_id, log_id);
CREATE INDEX logs_type ON logs (log_type, log_id);
