-- Monthly sales targets per user (issue 16): the amount to win, and
-- optionally how many deals and visits, set by the user's manager or an
-- admin. Progress is read from app/stats; falling behind pace and reaching
-- the target raise alerts in the existing alert centre.

-- +goose Up
CREATE TABLE sales_targets (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    bigint      NOT NULL,
    -- The month's first day, in the org's calendar.
    month      date        NOT NULL CHECK (extract(day FROM month) = 1),
    -- Minor units of the org's currency (app/targets.MaxWonAmount).
    won_amount bigint      NOT NULL CHECK (won_amount > 0 AND won_amount <= 100000000000),
    deals      integer     CHECK (deals BETWEEN 1 AND 10000),
    visits     integer     CHECK (visits BETWEEN 1 AND 10000),
    set_by     bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id, month),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, set_by) REFERENCES users (org_id, id)
);
-- The team view and the pace job list a month's targets.
CREATE INDEX sales_targets_month_idx ON sales_targets (org_id, month);

-- Target alerts live in the alert centre with the SLA and idle-deal ones.
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check,
    ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('task_sla', 'opportunity_idle', 'target_behind', 'target_reached'));
ALTER TABLE alerts DROP CONSTRAINT alerts_object_type_check,
    ADD CONSTRAINT alerts_object_type_check CHECK (object_type IN ('task', 'opportunity', 'sales_target'));

-- +goose Down
DELETE FROM alerts WHERE object_type = 'sales_target' OR kind IN ('target_behind', 'target_reached');
ALTER TABLE alerts DROP CONSTRAINT alerts_object_type_check,
    ADD CONSTRAINT alerts_object_type_check CHECK (object_type IN ('task', 'opportunity'));
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_check,
    ADD CONSTRAINT alerts_kind_check CHECK (kind IN ('task_sla', 'opportunity_idle'));
DROP TABLE sales_targets;
