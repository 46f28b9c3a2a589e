-- Leads (clientes potenciales): captured by reps, forms, e-mail and imports.
-- Contact fields are stored normalised (e-mail lower-case, phone E.164, tax
-- id canonical; '' when absent) so duplicate detection is an index lookup.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE leads (
    org_id         bigint      NOT NULL REFERENCES orgs (id),
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    name           text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    contact_name   text        NOT NULL DEFAULT '' CHECK (length(contact_name) <= 200),
    email          text        NOT NULL DEFAULT '' CHECK (email = lower(email)),
    phone          text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone LIKE '+%'),
    tax_id         text        NOT NULL DEFAULT '',
    country        text        NOT NULL CHECK (country IN ('ES', 'MX', 'AR')),
    province       text        NOT NULL DEFAULT '' CHECK (length(province) <= 100),
    city           text        NOT NULL DEFAULT '' CHECK (length(city) <= 100),
    source         text        NOT NULL CHECK (source IN ('manual', 'import', 'web_form', 'email', 'api')),
    owner_id       bigint,
    status         text        NOT NULL DEFAULT 'nuevo'
                   CHECK (status IN ('nuevo', 'contactado', 'cualificado', 'descartado', 'convertido')),
    discard_reason text        NOT NULL DEFAULT '',
    notes          text        NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    tags           text[]      NOT NULL DEFAULT '{}',
    created_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- Optimistic concurrency: an edit names the version it started from.
    version        integer     NOT NULL DEFAULT 1,
    -- What search matches, lower-cased once at write time.
    search         text        GENERATED ALWAYS AS (
                       lower(name || ' ' || contact_name || ' ' || email || ' ' || phone || ' ' || tax_id)
                   ) STORED,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (status <> 'descartado' OR discard_reason <> '')
);
-- Every list index starts with org_id; lists page by id descending.
CREATE INDEX leads_org_idx ON leads (org_id, id DESC);
CREATE INDEX leads_owner_idx ON leads (org_id, owner_id, id DESC);
CREATE INDEX leads_status_idx ON leads (org_id, status, id DESC);
CREATE INDEX leads_email_idx ON leads (org_id, email) WHERE email <> '';
CREATE INDEX leads_phone_idx ON leads (org_id, phone) WHERE phone <> '';
CREATE INDEX leads_tax_id_idx ON leads (org_id, tax_id) WHERE tax_id <> '';
CREATE INDEX leads_search_idx ON leads USING gin (search gin_trgm_ops);
CREATE INDEX leads_tags_idx ON leads USING gin (tags);

-- +goose Down
DROP TABLE leads;
