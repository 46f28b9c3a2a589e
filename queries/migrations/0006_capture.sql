-- Web forms that customers' websites post leads to (POST /f/{token}).

-- +goose Up
CREATE TABLE lead_forms (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    name          text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
    -- Public (it sits in the customer's HTML) but unguessable; rotating it
    -- cuts off a form that attracts spam.
    token         text        NOT NULL UNIQUE,
    thank_you_url text        NOT NULL DEFAULT '' CHECK (thank_you_url = '' OR thank_you_url ~ '^https?://'),
    active        boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    rotated_at    timestamptz,
    PRIMARY KEY (org_id, id)
);

-- Submissions per client address, for the per-IP limit (shared by every
-- instance, like login throttling).
CREATE TABLE capture_hits (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ip         text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX capture_hits_ip_idx ON capture_hits (ip, created_at);

-- +goose Down
DROP TABLE capture_hits;
DROP TABLE lead_forms;
