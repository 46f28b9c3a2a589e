-- Customers, the opportunities they are born with, the activity timeline and
-- documents. A lead becomes a customer (and optionally an opportunity in
-- "en análisis") in one transaction and keeps links to both.
--
-- Money is integer minor units of the org's currency (cents for EUR/MXN/ARS).

-- +goose Up
CREATE TABLE customers (
    org_id            bigint      NOT NULL REFERENCES orgs (id),
    id                bigint      GENERATED ALWAYS AS IDENTITY,
    legal_name        text        NOT NULL CHECK (btrim(legal_name) <> '' AND length(legal_name) <= 200),
    trade_name        text        NOT NULL DEFAULT '' CHECK (length(trade_name) <= 200),
    -- Canonical form from app/ident for the customer's country; '' when unknown.
    tax_id            text        NOT NULL DEFAULT '',
    country           text        NOT NULL CHECK (country IN ('ES', 'MX', 'AR')),
    email             text        NOT NULL DEFAULT '' CHECK (email = lower(email)),
    phone             text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone LIKE '+%'),
    -- Electronic IBAN form (no spaces, upper case), mod-97 checked by the app.
    iban              text        NOT NULL DEFAULT '' CHECK (iban = upper(iban) AND position(' ' in iban) = 0),
    sepa_mandate_ref  text        NOT NULL DEFAULT '' CHECK (length(sepa_mandate_ref) <= 35),
    sepa_mandate_date date,
    -- Days from invoice date to due date.
    payment_terms_days integer    NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
    -- Price lists arrive with quotes; the column is here so customers need no rewrite.
    price_list_id     bigint,
    owner_id          bigint,
    tags              text[]      NOT NULL DEFAULT '{}',
    notes             text        NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    -- Cartera inteligente figures (minor units); NULL until a portfolio import sets them.
    billing_initial   bigint,
    billing_recommended bigint,
    billing_final     bigint,
    created_by        bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    version           integer     NOT NULL DEFAULT 1,
    search            text        GENERATED ALWAYS AS (
                          lower(legal_name || ' ' || trade_name || ' ' || tax_id || ' ' || email || ' ' || phone)
                      ) STORED,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (sepa_mandate_ref = '' OR sepa_mandate_date IS NOT NULL)
);
CREATE INDEX customers_org_idx ON customers (org_id, id DESC);
CREATE INDEX customers_owner_idx ON customers (org_id, owner_id, id DESC);
-- One customer per tax id in an org: invoices and portfolio imports key on it.
CREATE UNIQUE INDEX customers_tax_id_key ON customers (org_id, tax_id) WHERE tax_id <> '';
CREATE INDEX customers_email_idx ON customers (org_id, email) WHERE email <> '';
CREATE INDEX customers_phone_idx ON customers (org_id, phone) WHERE phone <> '';
CREATE INDEX customers_search_idx ON customers USING gin (search gin_trgm_ops);
CREATE INDEX customers_tags_idx ON customers USING gin (tags);

-- One billing and one shipping address per customer.
CREATE TABLE customer_addresses (
    org_id      bigint NOT NULL,
    customer_id bigint NOT NULL,
    kind        text   NOT NULL CHECK (kind IN ('billing', 'shipping')),
    street      text   NOT NULL DEFAULT '' CHECK (length(street) <= 300),
    postal_code text   NOT NULL DEFAULT '' CHECK (length(postal_code) <= 20),
    city        text   NOT NULL DEFAULT '' CHECK (length(city) <= 100),
    province    text   NOT NULL DEFAULT '' CHECK (length(province) <= 100),
    country     text   NOT NULL CHECK (country IN ('ES', 'MX', 'AR')),
    PRIMARY KEY (org_id, customer_id, kind),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);

CREATE TABLE customer_contacts (
    org_id      bigint      NOT NULL,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    customer_id bigint      NOT NULL,
    name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    job_title   text        NOT NULL DEFAULT '' CHECK (length(job_title) <= 100),
    email       text        NOT NULL DEFAULT '' CHECK (email = lower(email)),
    phone       text        NOT NULL DEFAULT '' CHECK (phone = '' OR phone LIKE '+%'),
    is_primary  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_contacts_customer_idx ON customer_contacts (org_id, customer_id, id);
CREATE INDEX customer_contacts_email_idx ON customer_contacts (org_id, email) WHERE email <> '';
CREATE UNIQUE INDEX customer_contacts_primary_key ON customer_contacts (org_id, customer_id) WHERE is_primary;

-- Opportunities (oportunidades). The pipeline issue adds probability
-- defaults, stage history and cancel reasons; conversion only needs a row.
CREATE TABLE opportunities (
    org_id         bigint      NOT NULL REFERENCES orgs (id),
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    customer_id    bigint      NOT NULL,
    title          text        NOT NULL CHECK (btrim(title) <> '' AND length(title) <= 200),
    amount         bigint      NOT NULL DEFAULT 0 CHECK (amount >= 0),
    stage          text        NOT NULL DEFAULT 'en_analisis'
                   CHECK (stage IN ('en_analisis', 'oferta_presentada', 'en_negociacion', 'ganada', 'cancelada')),
    expected_close date,
    owner_id       bigint,
    source_lead_id bigint,
    notes          text        NOT NULL DEFAULT '' CHECK (length(notes) <= 10000),
    created_by     bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, source_lead_id) REFERENCES leads (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX opportunities_customer_idx ON opportunities (org_id, customer_id, id DESC);
CREATE INDEX opportunities_owner_idx ON opportunities (org_id, owner_id, id DESC);

-- What a converted lead became.
ALTER TABLE leads
    ADD COLUMN customer_id    bigint,
    ADD COLUMN opportunity_id bigint,
    ADD FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    ADD FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id),
    ADD CHECK (status <> 'convertido' OR customer_id IS NOT NULL);

-- The timeline: every change to a lead, customer or opportunity, with who
-- (NULL actor = the system: a rule, an import, an inbound e-mail) and when.
CREATE TABLE activities (
    org_id         bigint      NOT NULL REFERENCES orgs (id),
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    lead_id        bigint,
    customer_id    bigint,
    opportunity_id bigint,
    actor_id       bigint,
    -- created, updated, assigned, converted, merged, email, note, document, imported...
    kind           text        NOT NULL CHECK (kind ~ '^[a-z_]{1,40}$'),
    -- A short line shown as is (already in the org's words, e.g. an e-mail subject).
    summary        text        NOT NULL DEFAULT '' CHECK (length(summary) <= 500),
    -- Structured detail (changed fields old→new, message ids, file names).
    data           jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, actor_id) REFERENCES users (org_id, id),
    CHECK (num_nonnulls(lead_id, customer_id, opportunity_id) >= 1)
);
CREATE INDEX activities_lead_idx ON activities (org_id, lead_id, id DESC) WHERE lead_id IS NOT NULL;
CREATE INDEX activities_customer_idx ON activities (org_id, customer_id, id DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX activities_opportunity_idx ON activities (org_id, opportunity_id, id DESC) WHERE opportunity_id IS NOT NULL;

-- Uploaded files. Bytes live under PULSO_DATA_DIR addressed by their
-- SHA-256, so the same file uploaded twice is stored once.
CREATE TABLE documents (
    org_id         bigint      NOT NULL REFERENCES orgs (id),
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    lead_id        bigint,
    customer_id    bigint,
    opportunity_id bigint,
    filename       text        NOT NULL CHECK (btrim(filename) <> '' AND length(filename) <= 255),
    -- Sniffed from the bytes, never the client's claim.
    content_type   text        NOT NULL,
    size_bytes     bigint      NOT NULL CHECK (size_bytes >= 0),
    sha256         text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uploaded_by    bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, lead_id) REFERENCES leads (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id),
    CHECK (num_nonnulls(lead_id, customer_id, opportunity_id) = 1)
);
CREATE INDEX documents_lead_idx ON documents (org_id, lead_id, id DESC) WHERE lead_id IS NOT NULL;
CREATE INDEX documents_customer_idx ON documents (org_id, customer_id, id DESC) WHERE customer_id IS NOT NULL;
CREATE INDEX documents_opportunity_idx ON documents (org_id, opportunity_id, id DESC) WHERE opportunity_id IS NOT NULL;

-- +goose Down
DROP TABLE documents;
DROP TABLE activities;
ALTER TABLE leads DROP COLUMN opportunity_id, DROP COLUMN customer_id;
DROP TABLE opportunities;
DROP TABLE customer_contacts;
DROP TABLE customer_addresses;
DROP TABLE customers;
