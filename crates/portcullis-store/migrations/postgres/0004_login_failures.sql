-- Brute-force protection: consecutive failed logins per identifier (and IP), and blocks.
CREATE TABLE login_failures (
    connection   TEXT NOT NULL,
    identifier   TEXT NOT NULL,
    ip           TEXT NOT NULL,
    failures     BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    blocked_at   BIGINT,
    PRIMARY KEY (connection, identifier, ip)
);
CREATE INDEX login_failures_identifier ON login_failures (identifier);
