-- The notification centre: what the bell counts. Later areas (SLA breaches,
-- quota alerts, signed quotes) create rows through the notify job.

-- +goose Up
CREATE TABLE notifications (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    user_id    bigint      NOT NULL,
    severity   text        NOT NULL CHECK (severity IN ('info', 'warning', 'urgent')),
    -- Rendered in the recipient's locale when created.
    title      text        NOT NULL CHECK (btrim(title) <> ''),
    body       text        NOT NULL DEFAULT '',
    link       text        NOT NULL DEFAULT '' CHECK (link = '' OR link LIKE '/%'),
    -- Natural key of the cause (e.g. "sla:task:42"): a retried job or a
    -- repeated sweep finds the row already there and creates nothing.
    key        text        NOT NULL,
    read_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, user_id, key),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX notifications_user_idx ON notifications (org_id, user_id, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (org_id, user_id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;
