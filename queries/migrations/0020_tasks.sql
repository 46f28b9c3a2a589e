-- Tasks (acciones comerciales) with SLAs, the business calendar the SLA
-- clock runs on, task reasons (motivos), automatic-task rules and alerts.

-- +goose Up
CREATE TABLE business_calendars (
    org_id     bigint      PRIMARY KEY REFERENCES orgs (id),
    -- Working hours as people write them ("lun-vie 09:00-14:00, 15:00-18:00"),
    -- parsed by app/calendar; the org's own time zone applies.
    hours      text        NOT NULL CHECK (length(hours) BETWEEN 1 AND 500),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE business_holidays (
    org_id bigint NOT NULL REFERENCES orgs (id),
    day    date   NOT NULL,
    name   text   NOT NULL CHECK (length(name) <= 120),
    PRIMARY KEY (org_id, day)
);

CREATE TABLE task_reasons (
    org_id          bigint  NOT NULL REFERENCES orgs (id),
    id              bigint  GENERATED ALWAYS AS IDENTITY,
    name            text    NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 120),
    -- The opportunity stages (and, later, quote states) the reason is
    -- offered in; empty: everywhere.
    applies_in      text[]  NOT NULL DEFAULT '{}',
    sla_minutes     integer CHECK (sla_minutes BETWEEN 1 AND 525600),
    sla_business    boolean NOT NULL DEFAULT true,
    -- Who manages tasks of this reason: the assignee, a named user, or
    -- whoever holds a role.
    manager_kind    text    NOT NULL DEFAULT 'assignee' CHECK (manager_kind IN ('assignee', 'user', 'role')),
    manager_user_id bigint,
    manager_role    text    CHECK (manager_role IN ('admin', 'manager', 'rep', 'accountant')),
    active          boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name),
    FOREIGN KEY (org_id, manager_user_id) REFERENCES users (org_id, id),
    CHECK ((manager_kind = 'user') = (manager_user_id IS NOT NULL)),
    CHECK ((manager_kind = 'role') = (manager_role IS NOT NULL))
);

-- Rules that create tasks when something happens (see app/tasks/rules.go).
CREATE TABLE task_rules (
    org_id     bigint  NOT NULL REFERENCES orgs (id),
    id         bigint  GENERATED ALWAYS AS IDENTITY,
    event      text    NOT NULL CHECK (event IN ('stage_entered', 'lead_assigned', 'quote_sent', 'quote_unanswered')),
    stage      text    CHECK (stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion', 'ganada', 'cancelada')),
    wait_days  integer CHECK (wait_days BETWEEN 1 AND 365),
    reason_id  bigint  NOT NULL,
    title      text    NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    task_type  text    NOT NULL DEFAULT 'llamada' CHECK (task_type IN ('llamada', 'visita', 'email', 'reunion', 'otra')),
    due_hours  integer NOT NULL DEFAULT 24 CHECK (due_hours BETWEEN 0 AND 8760),
    active     boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, reason_id) REFERENCES task_reasons (org_id, id),
    CHECK ((event = 'stage_entered') = (stage IS NOT NULL)),
    CHECK ((event = 'quote_unanswered') = (wait_days IS NOT NULL))
);

CREATE TABLE tasks (
    org_id             bigint      NOT NULL REFERENCES orgs (id),
    id                 bigint      GENERATED ALWAYS AS IDENTITY,
    title              text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    type               text        NOT NULL CHECK (type IN ('llamada', 'visita', 'email', 'reunion', 'otra')),
    due_at             timestamptz NOT NULL,
    reason_id          bigint,
    lead_id            bigint,
    customer_id        bigint,
    opportunity_id     bigint,
    -- Quotes come with the quotes area; the key is added then.
    quote_id           bigint,
    assignee_id        bigint      NOT NULL,
    -- "Gestionado por usuario": a user, or a role when the reason names one.
    managed_by_id      bigint,
    managed_by_role    text        CHECK (managed_by_role IN ('admin', 'manager', 'rep', 'accountant')),
    status             text        NOT NULL DEFAULT 'pendiente' CHECK (status IN ('pendiente', 'hecha', 'cancelada')),
    result_note        text        NOT NULL DEFAULT '' CHECK (length(result_note) <= 2000),
    created_by         bigint,
    created_by_rule_id bigint,
    -- What the rule fired on, so a retried transaction or job never makes
    -- the same task twice.
    rule_key           text,
    -- When the SLA runs out; NULL when the reason has none. Computed at
    -- creation on the org's business calendar.
    sla_deadline       timestamptz,
    completed_at       timestamptz,
    version            integer     NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, reason_id) REFERENCES task_reasons (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE SET NULL (lead_id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id) ON DELETE SET NULL (opportunity_id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, managed_by_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by_rule_id) REFERENCES task_rules (org_id, id),
    CHECK ((status = 'hecha') = (completed_at IS NOT NULL))
);
CREATE INDEX tasks_assignee_idx ON tasks (org_id, assignee_id, status, due_at);
CREATE INDEX tasks_list_idx ON tasks (org_id, id DESC);
CREATE INDEX tasks_customer_idx ON tasks (org_id, customer_id, due_at) WHERE customer_id IS NOT NULL;
CREATE INDEX tasks_opportunity_idx ON tasks (org_id, opportunity_id) WHERE opportunity_id IS NOT NULL;
-- The sweep looks for open tasks past their deadline.
CREATE INDEX tasks_open_sla_idx ON tasks (sla_deadline) WHERE status = 'pendiente' AND sla_deadline IS NOT NULL;
CREATE UNIQUE INDEX tasks_rule_key_idx ON tasks (org_id, created_by_rule_id, rule_key) WHERE rule_key IS NOT NULL;

-- "¿Cumple SLA?": cumple (done within it), no_cumple (done late, or still
-- open past it), no_tiene (no SLA, or cancelled), en_plazo (open, in time).
-- +goose StatementBegin
CREATE FUNCTION task_sla(status text, completed_at timestamptz, sla_deadline timestamptz, at timestamptz)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN sla_deadline IS NULL OR status = 'cancelada' THEN 'no_tiene'
        WHEN status = 'hecha' AND completed_at <= sla_deadline THEN 'cumple'
        WHEN status = 'hecha' THEN 'no_cumple'
        WHEN at > sla_deadline THEN 'no_cumple'
        ELSE 'en_plazo'
    END
$$;
-- +goose StatementEnd

-- One alert per breach and recipient: re-running a sweep or retrying a job
-- finds the row and adds nothing.
CREATE TABLE alerts (
    org_id      bigint      NOT NULL REFERENCES orgs (id),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    kind        text        NOT NULL CHECK (kind IN ('task_sla', 'opportunity_idle')),
    severity    text        NOT NULL CHECK (severity IN ('info', 'warning', 'urgent')),
    user_id     bigint      NOT NULL,
    object_type text        NOT NULL CHECK (object_type IN ('task', 'opportunity')),
    object_id   bigint      NOT NULL,
    breach_key  text        NOT NULL,
    title       text        NOT NULL CHECK (length(title) <= 300),
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id, kind, breach_key),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX alerts_user_idx ON alerts (org_id, user_id, id DESC);

-- A secret per user for the agenda's ICS feed (rotatable).
CREATE TABLE calendar_feeds (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    user_id    bigint      NOT NULL,
    token      text        NOT NULL UNIQUE CHECK (length(token) >= 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- +goose Down
DROP TABLE calendar_feeds;
DROP TABLE alerts;
DROP FUNCTION task_sla(text, timestamptz, timestamptz, timestamptz);
DROP TABLE tasks;
DROP TABLE task_rules;
DROP TABLE task_reasons;
DROP TABLE business_holidays;
DROP TABLE business_calendars;
