-- Suspicious IP throttling: one token bucket per stage and IP (its theoretical arrival time).
CREATE TABLE ip_throttle (
    stage TEXT NOT NULL,
    ip    TEXT NOT NULL,
    tat   INTEGER NOT NULL,
    PRIMARY KEY (stage, ip)
);
CREATE INDEX ip_throttle_ip ON ip_throttle (ip);
