-- The spine: tenants, people, sessions and the live event log.
--
-- Ids come from per-table identity sequences, so an id is unique across orgs:
-- a route given another org's id finds nothing rather than something else.
-- Business tables key on (org_id, id) so they can be distributed by org_id
-- (Citus) without a rewrite; orgs is the distribution root.

-- +goose Up
CREATE TABLE orgs (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text        NOT NULL CHECK (btrim(name) <> ''),
    country    text        NOT NULL CHECK (country IN ('ES', 'MX', 'AR')),
    currency   text        NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    time_zone  text        NOT NULL,
    tax_id     text        NOT NULL DEFAULT '',
    plan       text        NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'pro', 'enterprise')),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- The demo seed and support look orgs up by name.
CREATE UNIQUE INDEX orgs_name_key ON orgs (name);

CREATE TABLE users (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    email         text        NOT NULL CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    name          text        NOT NULL CHECK (btrim(name) <> ''),
    role          text        NOT NULL CHECK (role IN ('admin', 'manager', 'rep', 'accountant')),
    manager_id    bigint,
    locale        text        NOT NULL DEFAULT 'es' CHECK (locale IN ('es', 'en')),
    -- NULL until the user sets a password from an invite link.
    password_hash text,
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email),
    FOREIGN KEY (org_id, manager_id) REFERENCES users (org_id, id),
    CHECK (manager_id IS DISTINCT FROM id)
);
-- Login is by e-mail alone, so an address identifies one user across all orgs.
-- (On Citus this index would move to a small reference table of logins.)
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_manager_idx ON users (org_id, manager_id) WHERE manager_id IS NOT NULL;

-- Only a SHA-256 of the cookie token is stored: a leaked table opens no session.
CREATE TABLE sessions (
    token_hash   bytea       PRIMARY KEY,
    org_id       bigint      NOT NULL,
    user_id      bigint      NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ip           text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (org_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

CREATE TABLE invites (
    token_hash bytea       PRIMARY KEY,
    org_id     bigint      NOT NULL,
    user_id    bigint      NOT NULL,
    created_by bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX invites_user_idx ON invites (org_id, user_id);

-- Failed logins, counted per e-mail and per client address in a sliding window.
-- Kept in the database so every app instance enforces the same limit.
CREATE TABLE login_failures (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email      text        NOT NULL,
    ip         text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_email_idx ON login_failures (email, created_at);
CREATE INDEX login_failures_ip_idx ON login_failures (ip, created_at);

-- What the live hub pushes: one row per change, written in the change's own
-- transaction so a rolled-back change never reaches a screen. subject_user_id
-- is the user the entity concerns (owner, assignee) and drives the audience:
-- that user, their manager chain, and admins.
CREATE TABLE live_events (
    org_id          bigint      NOT NULL REFERENCES orgs (id),
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    topic           text        NOT NULL,
    entity          text        NOT NULL,
    entity_id       bigint,
    kind            text        NOT NULL,
    subject_user_id bigint,
    payload         jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);
CREATE INDEX live_events_created_idx ON live_events (created_at);

-- +goose Down
DROP TABLE live_events;
DROP TABLE login_failures;
DROP TABLE invites;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE orgs;
