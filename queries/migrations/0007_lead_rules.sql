-- Lead assignment rules: ordered conditions on where a new lead comes from
-- → who gets it. Applied when a lead arrives without an owner (manual create
-- left unassigned, import, web capture). An empty condition matches anything.

-- +goose Up
CREATE TABLE lead_rules (
    org_id          bigint      NOT NULL REFERENCES orgs (id),
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    -- Evaluation order, lowest first; ties (never made by the app) by id.
    position        integer     NOT NULL,
    name            text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
    source          text        NOT NULL DEFAULT '' CHECK (source IN ('', 'manual', 'import', 'web_form', 'email', 'api')),
    country         text        NOT NULL DEFAULT '' CHECK (country IN ('', 'ES', 'MX', 'AR')),
    -- Compared case-insensitively: provinces are typed by hand.
    province        text        NOT NULL DEFAULT '' CHECK (length(province) <= 100),
    tag             text        NOT NULL DEFAULT '' CHECK (length(tag) <= 40),
    action          text        NOT NULL CHECK (action IN ('user', 'round_robin', 'fewest_open')),
    user_id         bigint,
    -- The team of a team action: the active reps who report to this manager.
    team_manager_id bigint,
    -- Round robin: the user who got the last lead from this rule.
    rr_cursor       bigint,
    active          boolean     NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, team_manager_id) REFERENCES users (org_id, id),
    CHECK ((action = 'user') = (user_id IS NOT NULL)),
    CHECK ((action = 'user') = (team_manager_id IS NULL))
);
CREATE INDEX lead_rules_org_idx ON lead_rules (org_id, position, id);

-- Per-org lead settings; today only who gets a lead no rule matched.
CREATE TABLE lead_settings (
    org_id           bigint      PRIMARY KEY REFERENCES orgs (id),
    default_owner_id bigint,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, default_owner_id) REFERENCES users (org_id, id)
);

-- +goose Down
DROP TABLE lead_settings;
DROP TABLE lead_rules;
