-- Tenant settings changed through the Management API (they override the configuration file).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
