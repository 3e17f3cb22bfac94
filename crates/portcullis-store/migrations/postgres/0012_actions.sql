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
    version          BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE TABLE action_bindings (
    trigger_id   TEXT NOT NULL,
    position     BIGINT NOT NULL,
    id           TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (trigger_id, position)
);
CREATE INDEX action_bindings_action ON action_bindings (action_id);
