-- Store integration (issue 17): an org's Mercado Libre sellers, whose paid
-- orders become sales vouchers in the background.

-- +goose Up
CREATE TABLE store_connections (
    org_id          bigint      NOT NULL REFERENCES orgs (id),
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    provider        text        NOT NULL CHECK (provider IN ('mercadolibre')),
    -- The seller's user id at the store (its token's user_id).
    seller_id       bigint      NOT NULL,
    nickname        text        NOT NULL DEFAULT '',
    -- Tokens sealed by app/sealed (purpose and org in the associated data).
    access_token    bytea       NOT NULL,
    refresh_token   bytea       NOT NULL,
    expires_at      timestamptz NOT NULL,
    -- Bumped by every refresh: a refresh that finds another's newer
    -- version uses it instead of spending the single-use refresh token.
    token_version   integer     NOT NULL DEFAULT 1,
    state           text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'broken', 'disconnected')),
    problem         text        NOT NULL DEFAULT '',
    -- Channels the seller's orders came through (marketplace, mshops).
    channels        text[]      NOT NULL DEFAULT '{}',
    -- The catch-up's cursor: orders last updated up to here are synced.
    synced_to       timestamptz,
    last_sync_at    timestamptz,
    connected_by    bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    disconnected_at timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, connected_by) REFERENCES users (org_id, id)
);
-- A seller belongs to one org at a time: notifications name only the seller.
CREATE UNIQUE INDEX store_connections_seller_key ON store_connections (provider, seller_id) WHERE state <> 'disconnected';

-- An OAuth round trip in progress: only the state's hash is kept.
CREATE TABLE store_oauth_states (
    state_hash bytea       PRIMARY KEY,
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    user_id    bigint      NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

-- Every store order seen, keyed by the store's id: what makes the sync
-- idempotent (one voucher per order, whatever the number of notifications).
CREATE TABLE store_orders (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    connection_id bigint      NOT NULL,
    order_id      bigint      NOT NULL,
    pack_id       bigint,
    status        text        NOT NULL,
    channel       text        NOT NULL CHECK (channel IN ('marketplace', 'mshops')),
    total         text        NOT NULL DEFAULT '',
    last_updated  timestamptz NOT NULL,
    -- pending: not paid yet; invoiced; voided (cancelled after invoicing);
    -- skipped (cancelled before); blocked (the plan's limit); failed.
    state         text        NOT NULL CHECK (state IN ('pending', 'invoiced', 'voided', 'skipped', 'blocked', 'failed')),
    invoice_id    bigint,
    error         text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, connection_id, order_id),
    FOREIGN KEY (org_id, connection_id) REFERENCES store_connections (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id)
);
CREATE INDEX store_orders_state_idx ON store_orders (org_id, state) WHERE state IN ('blocked', 'failed');

-- A sync run (the catch-up, or "sincronizar ahora") and its progress.
CREATE TABLE store_syncs (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    connection_id bigint      NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    total         integer     NOT NULL DEFAULT 0,
    seen          integer     NOT NULL DEFAULT 0,
    imported      integer     NOT NULL DEFAULT 0,
    failed        integer     NOT NULL DEFAULT 0,
    error         text        NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, connection_id) REFERENCES store_connections (org_id, id)
);
CREATE INDEX store_syncs_connection_idx ON store_syncs (org_id, connection_id, id DESC);

-- A store order's lines take the country's general IVA rate when no
-- product matches their SKU. "Highest first" named it until now, which is
-- wrong for Argentina (27 % is for utilities; 21 % is the general rate).
ALTER TABLE tax_rates ADD COLUMN general boolean NOT NULL DEFAULT false;
UPDATE tax_rates SET general = true
WHERE kind = 'iva' AND valid_to IS NULL AND (country, rate) IN (('ES', 21), ('MX', 16), ('AR', 21));

-- +goose Down
ALTER TABLE tax_rates DROP COLUMN general;
DROP TABLE store_syncs;
DROP TABLE store_orders;
DROP TABLE store_oauth_states;
DROP TABLE store_connections;
