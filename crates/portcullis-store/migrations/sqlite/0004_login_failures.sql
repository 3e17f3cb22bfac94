-- Brute-force protection: consecutive failed logins per identifier (and IP), and blocks.
CREATE TABLE login_failures (
    connection   TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    failures     INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    blocked_at   INTEGER,
    PRIMARY KEY (connection, identifier, ip)
);
CREATE INDEX login_failures_identifier ON login_failures (identifier);
