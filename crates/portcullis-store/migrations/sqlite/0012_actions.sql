-- Actions deployed through the Management API (those deployed from files live in the
-- configuration), and their bindings to triggers in execution order.
CREATE TABLE actions (
    id               TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL UNIQUE,
    trigger_id       TEXT NOT NULL,
    code             TEXT NOT NULL,
    secrets          TEXT NOT NULL,
    deployed_code    TEXT,
    deployed_secrets TEXT,
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE TABLE action_bindings (
    trigger_id   TEXT NOT NULL,
    position     INTEGER NOT NULL,
    id           TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (trigger_id, position)
);
CREATE INDEX action_bindings_action ON action_bindings (action_id);
