-- Quotes (presupuestos): a quote belongs to a customer (usually through an
-- opportunity) and has versions; each version has its lines and, once sent,
-- is frozen: its content, its totals, the exact PDF the client is shown and
-- its SHA-256. Editing a sent quote opens the next version as a draft. The
-- number (P-2026-0001) is taken from number_series when the quote is first
-- sent and every later version keeps it.
--
-- The client reaches a sent version through a link whose token is random
-- (128 bits); every open, signature and rejection is a row of an
-- append-only audit trail.

-- +goose Up
CREATE TABLE quotes (
    org_id          bigint      NOT NULL REFERENCES orgs (id),
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    customer_id     bigint      NOT NULL,
    contact_id      bigint,
    opportunity_id  bigint,
    owner_id        bigint      NOT NULL,
    series_code     text        NOT NULL DEFAULT 'P' CHECK (series_code ~ '^[A-Z0-9]{1,10}$'),
    -- Printed number; NULL until first sent.
    number          text,
    -- draft: never sent; sent: the latest version is with the client
    -- (editing opens a draft version, the quote stays sent); signed and
    -- rejected are final for the version the client answered.
    status          text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'signed', 'rejected')),
    -- The version being edited or, when none is, the latest sent.
    current_version integer     NOT NULL DEFAULT 1 CHECK (current_version >= 1),
    first_opened_at timestamptz,
    last_opened_at  timestamptz,
    created_by      bigint,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- Optimistic lock for the editor (autosave names the revision it saw).
    revision        integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, contact_id) REFERENCES customer_contacts (org_id, id) ON DELETE SET NULL (contact_id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id) ON DELETE SET NULL (opportunity_id),
    FOREIGN KEY (org_id, owner_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (status = 'draft' OR number IS NOT NULL)
);
CREATE INDEX quotes_list_idx ON quotes (org_id, id DESC);
CREATE INDEX quotes_owner_idx ON quotes (org_id, owner_id, id DESC);
CREATE INDEX quotes_customer_idx ON quotes (org_id, customer_id, id DESC);
CREATE INDEX quotes_opportunity_idx ON quotes (org_id, opportunity_id, id DESC) WHERE opportunity_id IS NOT NULL;

-- Only a quote that never left the building can be deleted: a sent one is
-- part of what the customer was told.
-- +goose StatementBegin
CREATE FUNCTION quotes_keep_sent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'draft' THEN
        RAISE EXCEPTION 'quote % was sent and cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN OLD;
END $$;
-- +goose StatementEnd
CREATE TRIGGER quotes_keep_sent BEFORE DELETE ON quotes FOR EACH ROW EXECUTE FUNCTION quotes_keep_sent();

CREATE TABLE quote_versions (
    org_id       bigint      NOT NULL,
    quote_id     bigint      NOT NULL,
    n            integer     NOT NULL CHECK (n >= 1),
    -- draft → sent → (signed | rejected | superseded by the next sent version)
    status       text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sent', 'superseded', 'signed', 'rejected')),
    valid_until  date        NOT NULL,
    terms        text        NOT NULL DEFAULT '' CHECK (length(terms) <= 5000),
    currency     text        NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    -- The customer is in the recargo de equivalencia regime (ES retailers):
    -- every line carries the surcharge that goes with its IVA rate.
    recargo      boolean     NOT NULL DEFAULT false,
    -- IRPF retention on the whole quote (ES professionals); 0 when none.
    irpf_rate    numeric(5,2) NOT NULL DEFAULT 0 CHECK (irpf_rate >= 0 AND irpf_rate < 100),
    -- Totals (cents) as quotes.Compute gave them when the lines last changed.
    base         bigint      NOT NULL DEFAULT 0,
    tax          bigint      NOT NULL DEFAULT 0,
    surcharge    bigint      NOT NULL DEFAULT 0,
    withheld     bigint      NOT NULL DEFAULT 0,
    total        bigint      NOT NULL DEFAULT 0,
    -- Frozen at send: who the parties were then (names and tax ids change).
    parties      jsonb,
    sent_at      timestamptz,
    sent_by      bigint,
    -- The exact PDF the client is shown, and its SHA-256 (hex).
    pdf          bytea,
    pdf_sha256   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, quote_id, n),
    FOREIGN KEY (org_id, quote_id) REFERENCES quotes (org_id, id) ON DELETE CASCADE,
    CHECK (status = 'draft' OR (sent_at IS NOT NULL AND pdf IS NOT NULL AND pdf_sha256 IS NOT NULL AND parties IS NOT NULL))
);
-- At most one draft per quote.
CREATE UNIQUE INDEX quote_versions_one_draft ON quote_versions (org_id, quote_id) WHERE status = 'draft';

CREATE TABLE quote_lines (
    org_id       bigint        NOT NULL,
    quote_id     bigint        NOT NULL,
    version_n    integer       NOT NULL,
    position     integer       NOT NULL CHECK (position >= 1),
    product_id   bigint,
    description  text          NOT NULL CHECK (btrim(description) <> '' AND length(description) <= 1000),
    unit         text          NOT NULL DEFAULT 'ud',
    quantity     numeric(15,3) NOT NULL CHECK (quantity > 0),
    unit_price   bigint        NOT NULL CHECK (unit_price > 0),
    discount_pct numeric(5,2)  NOT NULL DEFAULT 0 CHECK (discount_pct >= 0 AND discount_pct < 100),
    tax_rate_id  bigint        NOT NULL REFERENCES tax_rates (id),
    -- The rates as they were when the line was written (tax_rates rows
    -- never change, but copying keeps a sent version self-contained).
    tax_rate     numeric(5,2)  NOT NULL,
    surcharge    numeric(5,2)  NOT NULL DEFAULT 0,
    withholding  numeric(5,2)  NOT NULL DEFAULT 0,
    amount       bigint        NOT NULL,
    PRIMARY KEY (org_id, quote_id, version_n, position),
    FOREIGN KEY (org_id, quote_id, version_n) REFERENCES quote_versions (org_id, quote_id, n) ON DELETE CASCADE,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE SET NULL (product_id)
);

-- A version that left draft is frozen: its lines cannot change and only its
-- status may (sent → superseded | signed | rejected). Enforced here so no
-- code path, present or future, can rewrite what a client was shown.
-- +goose StatementBegin
CREATE FUNCTION quote_lines_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    r := COALESCE(NEW, OLD);
    IF EXISTS (SELECT 1 FROM quote_versions v WHERE v.org_id = r.org_id AND v.quote_id = r.quote_id
               AND v.n = r.version_n AND v.status <> 'draft') THEN
        RAISE EXCEPTION 'quote version % of quote % is sent and cannot change', r.version_n, r.quote_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN COALESCE(NEW, OLD);
END $$;

CREATE FUNCTION quote_versions_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        -- Whole quotes may go (drafts only, checked by the app); a sent
        -- version alone never.
        IF OLD.status <> 'draft' AND EXISTS (SELECT 1 FROM quotes q WHERE q.org_id = OLD.org_id AND q.id = OLD.quote_id) THEN
            RAISE EXCEPTION 'a sent quote version cannot be deleted' USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' AND (
        (NEW.valid_until, NEW.terms, NEW.currency, NEW.recargo, NEW.irpf_rate, NEW.base, NEW.tax, NEW.surcharge, NEW.withheld, NEW.total,
         NEW.parties, NEW.sent_at, NEW.sent_by, NEW.pdf, NEW.pdf_sha256)
        IS DISTINCT FROM
        (OLD.valid_until, OLD.terms, OLD.currency, OLD.recargo, OLD.irpf_rate, OLD.base, OLD.tax, OLD.surcharge, OLD.withheld, OLD.total,
         OLD.parties, OLD.sent_at, OLD.sent_by, OLD.pdf, OLD.pdf_sha256)
        OR NOT (OLD.status = 'sent' AND NEW.status IN ('sent', 'superseded', 'signed', 'rejected'))) THEN
        RAISE EXCEPTION 'quote version % of quote % is sent and cannot change', OLD.n, OLD.quote_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER quote_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON quote_lines
    FOR EACH ROW EXECUTE FUNCTION quote_lines_frozen();
CREATE TRIGGER quote_versions_frozen BEFORE UPDATE OR DELETE ON quote_versions
    FOR EACH ROW EXECUTE FUNCTION quote_versions_frozen();

-- One link per sent version. Looked up by the SHA-256 of the token, so the
-- index compares digests, not the guess itself (no prefix timing), and a
-- wrong token costs the same single index probe as a right one. The token is
-- kept too: the rep copies the link from the quote's page.
CREATE TABLE quote_links (
    org_id      bigint      NOT NULL,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    quote_id    bigint      NOT NULL,
    version_n   integer     NOT NULL,
    token       text        NOT NULL,
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    revoked_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, quote_id, version_n),
    FOREIGN KEY (org_id, quote_id, version_n) REFERENCES quote_versions (org_id, quote_id, n) ON DELETE CASCADE
);

-- The audit trail: what happened to a quote and, for the client's acts,
-- from where. Append-only (the trigger below refuses UPDATE and DELETE of
-- single rows; a draft quote's whole deletion cascades).
CREATE TABLE quote_events (
    org_id          bigint      NOT NULL,
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    quote_id        bigint      NOT NULL,
    version_n       integer     NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('sent', 'opened', 'signed', 'rejected', 'revoked', 'emailed')),
    at              timestamptz NOT NULL DEFAULT now(),
    user_id         bigint,
    ip              inet,
    user_agent      text        NOT NULL DEFAULT '' CHECK (length(user_agent) <= 500),
    signer_name     text        NOT NULL DEFAULT '' CHECK (length(signer_name) <= 200),
    signature_png   bytea       CHECK (length(signature_png) <= 200000),
    document_sha256 text        NOT NULL DEFAULT '',
    reason          text        NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, quote_id, version_n) REFERENCES quote_versions (org_id, quote_id, n) ON DELETE CASCADE,
    CHECK (kind <> 'signed' OR (btrim(signer_name) <> '' AND signature_png IS NOT NULL AND document_sha256 <> ''))
);
CREATE INDEX quote_events_quote_idx ON quote_events (org_id, quote_id, id);
-- A version is answered once: a second signature (or a signature after a
-- rejection) is refused by the database whatever the code does.
CREATE UNIQUE INDEX quote_events_one_answer ON quote_events (org_id, quote_id, version_n) WHERE kind IN ('signed', 'rejected');

-- +goose StatementBegin
CREATE FUNCTION quote_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM quote_versions v WHERE v.org_id = OLD.org_id
                                        AND v.quote_id = OLD.quote_id AND v.n = OLD.version_n) THEN
        RETURN OLD; -- cascading from the quote's deletion
    END IF;
    RAISE EXCEPTION 'the quote audit trail is append-only' USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd
CREATE TRIGGER quote_events_append_only BEFORE UPDATE OR DELETE ON quote_events
    FOR EACH ROW EXECUTE FUNCTION quote_events_append_only();

-- The org's logo heads its documents (PNG or JPEG, small).
ALTER TABLE orgs ADD COLUMN logo bytea CHECK (length(logo) <= 524288);

-- Tasks and rules learn about quotes.
ALTER TABLE tasks ADD FOREIGN KEY (org_id, quote_id) REFERENCES quotes (org_id, id) ON DELETE SET NULL (quote_id);
ALTER TABLE task_rules DROP CONSTRAINT task_rules_event_check;
ALTER TABLE task_rules ADD CONSTRAINT task_rules_event_check
    CHECK (event IN ('stage_entered', 'lead_assigned', 'quote_sent', 'quote_unanswered', 'quote_signed'));

-- +goose Down
ALTER TABLE orgs DROP COLUMN logo;
ALTER TABLE task_rules DROP CONSTRAINT task_rules_event_check;
ALTER TABLE task_rules ADD CONSTRAINT task_rules_event_check
    CHECK (event IN ('stage_entered', 'lead_assigned', 'quote_sent', 'quote_unanswered'));
ALTER TABLE tasks DROP CONSTRAINT tasks_org_id_quote_id_fkey;
DROP TABLE quote_events;
DROP FUNCTION quote_events_append_only();
DROP TABLE quote_links;
DROP TABLE quote_lines;
DROP TABLE quote_versions;
DROP FUNCTION quote_lines_frozen();
DROP FUNCTION quote_versions_frozen();
DROP TABLE quotes;
DROP FUNCTION quotes_keep_sent();
