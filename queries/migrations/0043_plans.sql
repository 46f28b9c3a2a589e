-- Pulso's own plans and each org's subscription (issue 17). Plans limit
-- the sales vouchers an org issues in a month and its integrated store
-- users; a counter kept in the issuing transaction says how many it has
-- issued, so reading it never counts invoices.

-- +goose Up
-- orgs.plan was a placeholder from the first schema; subscriptions replace it.
ALTER TABLE orgs DROP COLUMN plan;

-- Plans are the operator's data, shared by every org (not tenant rows).
CREATE TABLE plans (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text        NOT NULL UNIQUE CHECK (code ~ '^[a-z][a-z0-9_]{0,31}$'),
    name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 60),
    -- Sales vouchers a month; NULL is unlimited.
    vouchers    integer     CHECK (vouchers > 0),
    store_users integer     NOT NULL CHECK (store_users >= 0),
    -- What happens past the month's vouchers: refuse the next one, or
    -- issue it and bill the overage with the next invoice.
    at_limit    text        NOT NULL CHECK (at_limit IN ('block', 'overage')),
    -- Plans in ascending order: a higher rank is an upgrade.
    rank        integer     NOT NULL UNIQUE,
    -- Offered to new subscriptions and changes.
    active      boolean     NOT NULL DEFAULT true,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A plan's monthly price per currency, in minor units, and the price of
-- each voucher over the limit when the plan bills overage.
CREATE TABLE plan_prices (
    plan_id  bigint NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    currency text   NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    monthly  bigint NOT NULL CHECK (monthly >= 0),
    overage  bigint NOT NULL DEFAULT 0 CHECK (overage >= 0),
    PRIMARY KEY (plan_id, currency)
);

-- The operator's org issues the plans' invoices (at most one such org).
ALTER TABLE orgs ADD COLUMN operator boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX orgs_operator_key ON orgs (operator) WHERE operator;

-- One subscription per org. An org without one is not limited (the
-- operator's own org, and orgs made before plans existed until they get
-- one).
CREATE TABLE subscriptions (
    org_id          bigint      PRIMARY KEY REFERENCES orgs (id),
    plan_id         bigint      NOT NULL REFERENCES plans (id),
    -- New subscriptions are monthly; longer terms are kept until they end.
    frequency       text        NOT NULL CHECK (frequency IN ('monthly', 'quarterly', 'semiannual', 'annual')),
    currency        text        NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    -- The current term is [term_start, term_end); term_end is the next
    -- invoice date.
    term_start      date        NOT NULL,
    term_end        date        NOT NULL CHECK (term_end > term_start),
    -- A downgrade waits for the first of the next month.
    pending_plan_id bigint      REFERENCES plans (id),
    pending_from    date,
    -- The operator org's customer that the plan's invoices are made out to.
    billing_customer_id bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((pending_plan_id IS NULL) = (pending_from IS NULL))
);

-- What happened to a subscription, for the Suscripción page's history.
CREATE TABLE subscription_events (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    kind       text        NOT NULL CHECK (kind IN ('started', 'upgraded', 'downgrade_scheduled', 'downgraded',
                               'renewed', 'change_refused', 'upgrade_cancelled')),
    from_plan  bigint      REFERENCES plans (id),
    to_plan    bigint      REFERENCES plans (id),
    -- Why, in the org's words: the rule that chose a plan, or the refusal.
    reason     text        NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    amount     bigint,
    invoice_id bigint,
    user_id    bigint,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id)
);

-- Sales vouchers issued per month (the org's calendar), split by channel.
-- The issuing transaction adds to it under the row's lock: exact under
-- concurrency, and one row to read.
CREATE TABLE voucher_usage (
    org_id    bigint  NOT NULL REFERENCES orgs (id),
    month     date    NOT NULL CHECK (extract(day FROM month) = 1),
    physical  integer NOT NULL DEFAULT 0 CHECK (physical >= 0),
    ecommerce integer NOT NULL DEFAULT 0 CHECK (ecommerce >= 0),
    -- Issued past the limit of a plan that bills overage.
    overage   integer NOT NULL DEFAULT 0 CHECK (overage >= 0),
    PRIMARY KEY (org_id, month)
);

-- Where a voucher was sold: in person (the office, a rep) or through a
-- connected store.
ALTER TABLE invoices ADD COLUMN channel text NOT NULL DEFAULT 'physical' CHECK (channel IN ('physical', 'ecommerce'));

-- A month's threshold (80, 95, 100 % of a plan's vouchers) crossed: written in
-- the issuing transaction, once; alerted_at is set when the org's admins
-- have their alerts and e-mails (a job, or the sweep that catches any
-- left behind).
CREATE TABLE quota_crossings (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    month      date        NOT NULL,
    threshold  smallint    NOT NULL CHECK (threshold IN (80, 95, 100)),
    used       integer     NOT NULL,
    vouchers   integer     NOT NULL,
    plan_id    bigint      NOT NULL REFERENCES plans (id),
    at         timestamptz NOT NULL DEFAULT now(),
    alerted_at timestamptz,
    PRIMARY KEY (org_id, month, plan_id, threshold)
);
CREATE INDEX quota_crossings_pending_idx ON quota_crossings (at) WHERE alerted_at IS NULL;

-- An upgrade waits for its payment: the checkout at the provider, and
-- once paid the plan changes and the invoice is issued, once.
CREATE TABLE plan_upgrades (
    org_id      bigint      NOT NULL REFERENCES orgs (id),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    from_plan   bigint      NOT NULL REFERENCES plans (id),
    to_plan     bigint      NOT NULL REFERENCES plans (id),
    amount      bigint      NOT NULL CHECK (amount >= 0),
    currency    text        NOT NULL,
    method      text        NOT NULL,
    checkout_id text        UNIQUE,
    payment_id  text        UNIQUE,
    state       text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'paid', 'failed', 'cancelled')),
    invoice_id  bigint,
    user_id     bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    paid_at     timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check,
    ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('task_sla', 'opportunity_idle', 'target_behind', 'target_reached', 'voucher_quota'));
ALTER TABLE alerts DROP CONSTRAINT alerts_object_type_check,
    ADD CONSTRAINT alerts_object_type_check CHECK (object_type IN ('task', 'opportunity', 'sales_target', 'subscription'));

-- The plans of seed 002 (Dux): prices are the operator's to edit.
INSERT INTO plans (code, name, vouchers, store_users, at_limit, rank) VALUES
    ('inicial', 'Inicial', 250, 1, 'block', 1),
    ('estandar', 'Estándar', 1500, 3, 'block', 2),
    ('pro', 'PRO', 5000, 4, 'overage', 3),
    ('full', 'FULL', NULL, 5, 'block', 4);
INSERT INTO plan_prices (plan_id, currency, monthly, overage)
SELECT p.id, c.currency, c.monthly, c.overage FROM plans p
JOIN (VALUES
    ('inicial', 'EUR', 1900, 0), ('inicial', 'MXN', 39900, 0), ('inicial', 'ARS', 1990000, 0),
    ('estandar', 'EUR', 4900, 0), ('estandar', 'MXN', 99900, 0), ('estandar', 'ARS', 4990000, 0),
    ('pro', 'EUR', 9900, 5), ('pro', 'MXN', 199900, 100), ('pro', 'ARS', 9990000, 5000),
    ('full', 'EUR', 19900, 0), ('full', 'MXN', 399900, 0), ('full', 'ARS', 19990000, 0)
) AS c (code, currency, monthly, overage) ON c.code = p.code;

-- +goose Down
DELETE FROM alerts WHERE kind = 'voucher_quota' OR object_type = 'subscription';
ALTER TABLE alerts DROP CONSTRAINT alerts_object_type_check,
    ADD CONSTRAINT alerts_object_type_check CHECK (object_type IN ('task', 'opportunity', 'sales_target'));
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check,
    ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('task_sla', 'opportunity_idle', 'target_behind', 'target_reached'));
DROP TABLE plan_upgrades;
DROP TABLE quota_crossings;
ALTER TABLE invoices DROP COLUMN channel;
DROP TABLE voucher_usage;
DROP TABLE subscription_events;
DROP TABLE subscriptions;
DROP INDEX orgs_operator_key;
ALTER TABLE orgs DROP COLUMN operator;
DROP TABLE plan_prices;
DROP TABLE plans;
ALTER TABLE orgs ADD COLUMN plan text NOT NULL DEFAULT 'basic' CHECK (plan IN ('basic', 'pro', 'enterprise'));
