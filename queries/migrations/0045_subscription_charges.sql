-- The monthly charge of each subscription (issue 17): issued by the
-- operator's org on the 1st as a real invoice. The primary key is the
-- charge's idempotency key: the row is written in the transaction that
-- issues its invoice, so a month is charged once whatever runs the pass,
-- twice at once or again after a crash.

-- +goose Up
CREATE TABLE subscription_charges (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    -- The month charged: its first day (UTC calendar, as the renewals).
    month      date        NOT NULL CHECK (extract(day FROM month) = 1),
    kind       text        NOT NULL CHECK (kind IN ('monthly')),
    -- The plan in force on the 1st, after that day's renewal or downgrade.
    plan_id    bigint      NOT NULL REFERENCES plans (id),
    -- Net of tax, in minor units of currency: the plan's monthly price plus
    -- the previous month's overage; the invoice adds the operator's IVA.
    amount     bigint      NOT NULL CHECK (amount >= 0),
    currency   text        NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    -- The invoice of the operator org operator_id (another org, so no
    -- foreign key through org_id); NULL when none could be made, and
    -- reason says why.
    operator_id bigint     REFERENCES orgs (id),
    invoice_id bigint,
    reason     text        NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, month, kind)
);

-- The plan whose overage price bills the month's overage vouchers: the
-- plan in force when the last of them was issued.
ALTER TABLE voucher_usage ADD COLUMN overage_plan_id bigint REFERENCES plans (id);

-- +goose Down
ALTER TABLE voucher_usage DROP COLUMN overage_plan_id;
DROP TABLE subscription_charges;
