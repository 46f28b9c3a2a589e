-- Invoices, for real: the demo-only `invoices` of 0009 become documents that
-- are drafted, issued under a gapless number and frozen, or voided.
--
--   - kind says what the document is to people; fiscal_type is the AEAT's
--     TipoFactura (VERI*FACTU ClaveTipoFacturaType): ordinary and summary
--     (recapitulativa) invoices are F1, simplified F2, a complete invoice
--     replacing simplified ones (canje) F3, correctives R1–R5. A proforma
--     has none: it is never numbered and has no fiscal effect.
--   - draft → issued → voided. Issuing (app/invoices.Issue) takes the number
--     of the series for the issue date's year (number_series, 0018), freezes
--     the issuer's and customer's fiscal data in `parties` and the lines;
--     the triggers below refuse any later change but the move to voided.
--   - Money in minor units of the org's currency, as quotes and orders.
--   - Sources: an order (its lines, or its delivery notes), delivery notes
--     (each invoiced at most once), a signed quote (through its order), a
--     proforma, or lines typed by hand.
--
-- The rows the demo and tests wrote before (0009) were totals only: they
-- become issued invoices with their total as base, no tax and no lines,
-- numbered as they were printed ("F2025-1").

-- +goose Up

-- The issuer's address is on every complete invoice (RD 1619/2012 art.
-- 6.1.e). simplified_activity is the letter of the RD 1619/2012 art. 4.2
-- activity the org carries on ('' none): with one, a simplified invoice may
-- reach 3,000 € instead of 400 €.
ALTER TABLE orgs
    ADD COLUMN address text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    ADD COLUMN simplified_activity text NOT NULL DEFAULT ''
        CHECK (simplified_activity IN ('', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n'));

ALTER TABLE invoices DROP CONSTRAINT invoices_kind_check;
ALTER TABLE invoices DROP CONSTRAINT invoices_check; -- corrects_invoice_id only on correctives: now a table
DROP INDEX invoices_number_key;
ALTER TABLE invoices
    ALTER COLUMN customer_id DROP NOT NULL,
    ALTER COLUMN series DROP NOT NULL,
    ALTER COLUMN number DROP NOT NULL,
    ALTER COLUMN issue_date DROP NOT NULL,
    ADD COLUMN fiscal_type text CHECK (fiscal_type IN ('F1', 'F2', 'F3', 'R1', 'R2', 'R3', 'R4', 'R5')),
    ADD COLUMN state text NOT NULL DEFAULT 'issued' CHECK (state IN ('draft', 'issued', 'voided')),
    -- The year of the series the number belongs to (the issue date's).
    ADD COLUMN year integer,
    -- The number as printed and as the AEAT records it (NumSerieFactura).
    ADD COLUMN full_number text CHECK (full_number ~ '^[ -~]{1,60}$'),
    -- When the goods or services were supplied, if not on the issue date.
    ADD COLUMN operation_date date,
    -- The period a summary invoice (recapitulativa) covers.
    ADD COLUMN period_start date,
    ADD COLUMN period_end date,
    ADD COLUMN currency text CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    -- app/tax.CustomerTax the lines are priced under (regime, exempt cause,
    -- IRPF), taken from the source when the draft is made.
    ADD COLUMN tax_treatment jsonb NOT NULL DEFAULT '{}',
    -- Frozen at issue (app/invoices.Parties): issuer and customer fiscal
    -- data, tax treatment, locale and zone. NULL while draft.
    ADD COLUMN parties jsonb,
    ADD COLUMN base bigint NOT NULL DEFAULT 0,
    ADD COLUMN tax bigint NOT NULL DEFAULT 0,
    ADD COLUMN surcharge bigint NOT NULL DEFAULT 0,
    ADD COLUMN withheld bigint NOT NULL DEFAULT 0,
    -- Correctives: by difference (the lines are what changes) or by
    -- substitution (the lines are the whole corrected content), and why.
    ADD COLUMN corrective_method text CHECK (corrective_method IN ('difference', 'substitution')),
    ADD COLUMN corrective_reason text NOT NULL DEFAULT '' CHECK (length(corrective_reason) <= 500),
    ADD COLUMN notes text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    -- Sources.
    ADD COLUMN order_id bigint,
    -- The whole order is invoiced (not only some of its deliveries).
    ADD COLUMN order_whole boolean NOT NULL DEFAULT false,
    ADD COLUMN quote_id bigint,
    ADD COLUMN quote_version integer,
    ADD COLUMN from_proforma_id bigint,
    ADD COLUMN created_by bigint,
    ADD COLUMN issued_at timestamptz,
    ADD COLUMN issued_by bigint,
    ADD COLUMN voided_at timestamptz,
    ADD COLUMN voided_by bigint,
    ADD COLUMN void_reason text NOT NULL DEFAULT '' CHECK (length(void_reason) <= 500),
    -- The PDF as issued and its SHA-256 (hex): what was sent is what is
    -- kept (rows from before 0034 have none and are drawn on demand).
    ADD COLUMN pdf bytea,
    ADD COLUMN pdf_sha256 text;

-- Corrected (R1–R5) or replaced (F3) invoices: one row per invoice named.
CREATE TABLE invoice_corrections (
    org_id       bigint NOT NULL,
    invoice_id   bigint NOT NULL,
    corrected_id bigint NOT NULL,
    PRIMARY KEY (org_id, invoice_id, corrected_id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, corrected_id) REFERENCES invoices (org_id, id),
    CHECK (corrected_id <> invoice_id)
);
CREATE INDEX invoice_corrections_corrected_idx ON invoice_corrections (org_id, corrected_id);

-- The 0009 rows in the new shape.
INSERT INTO invoice_corrections (org_id, invoice_id, corrected_id)
SELECT org_id, id, corrects_invoice_id FROM invoices WHERE corrects_invoice_id IS NOT NULL;
UPDATE invoices i SET
    fiscal_type = CASE i.kind WHEN 'simplified' THEN 'F2' WHEN 'corrective' THEN 'R4' WHEN 'proforma' THEN NULL ELSE 'F1' END,
    year = CASE WHEN i.kind = 'proforma' THEN NULL ELSE extract(year FROM i.issue_date)::integer END,
    number = CASE WHEN i.kind = 'proforma' THEN NULL ELSE i.number END,
    series = CASE WHEN i.kind = 'proforma' THEN NULL ELSE i.series END,
    full_number = CASE WHEN i.kind = 'proforma' THEN NULL ELSE i.series || '-' || i.number END,
    period_start = CASE WHEN i.kind = 'summary' THEN i.issue_date END,
    period_end = CASE WHEN i.kind = 'summary' THEN i.issue_date END,
    currency = o.currency,
    base = i.total,
    corrective_method = CASE WHEN i.kind = 'corrective' THEN 'difference' END,
    corrective_reason = CASE WHEN i.kind = 'corrective' THEN 'Rectificación anterior a la facturación de Pulso' ELSE '' END,
    issued_at = i.created_at,
    parties = jsonb_build_object(
        'issuer', jsonb_build_object('name', o.name, 'tax_id', o.tax_id, 'country', o.country),
        'customer', jsonb_build_object('name', c.legal_name, 'tax_id', c.tax_id, 'country', c.country),
        'tax', jsonb_build_object('regime', c.tax_regime, 'exempt_cause', c.exempt_cause),
        'locale', 'es', 'zone', o.time_zone)
FROM orgs o, customers c
WHERE o.id = i.org_id AND c.org_id = i.org_id AND c.id = i.customer_id;
ALTER TABLE invoices DROP COLUMN corrects_invoice_id;
ALTER TABLE invoices
    ALTER COLUMN state SET DEFAULT 'draft',
    ALTER COLUMN currency SET NOT NULL,
    ADD CONSTRAINT invoices_kind_check CHECK (kind IN ('ordinary', 'simplified', 'replacement', 'corrective', 'summary', 'proforma')),
    ADD CONSTRAINT invoices_fiscal_type_of_kind CHECK (CASE kind
        WHEN 'ordinary' THEN fiscal_type = 'F1'
        WHEN 'summary' THEN fiscal_type = 'F1'
        WHEN 'simplified' THEN fiscal_type = 'F2'
        WHEN 'replacement' THEN fiscal_type = 'F3'
        WHEN 'corrective' THEN fiscal_type IN ('R1', 'R2', 'R3', 'R4', 'R5')
        ELSE fiscal_type IS NULL END),
    ADD CONSTRAINT invoices_series_code CHECK ((kind = 'proforma') = (series IS NULL)),
    -- Numbered exactly when issued (or voided after), proformas never.
    ADD CONSTRAINT invoices_numbered CHECK ((state <> 'draft' AND kind <> 'proforma')
        = (number IS NOT NULL AND year IS NOT NULL AND full_number IS NOT NULL)),
    ADD CONSTRAINT invoices_year_of_date CHECK (year IS NULL OR year = extract(year FROM issue_date)),
    ADD CONSTRAINT invoices_issued_frozen CHECK (state = 'draft'
        OR (issue_date IS NOT NULL AND parties IS NOT NULL AND issued_at IS NOT NULL)),
    ADD CONSTRAINT invoices_voided CHECK ((state = 'voided') = (voided_at IS NOT NULL AND btrim(void_reason) <> '')),
    ADD CONSTRAINT invoices_corrective CHECK (CASE WHEN kind = 'corrective'
        THEN state = 'draft' OR (corrective_method IS NOT NULL AND btrim(corrective_reason) <> '')
        ELSE corrective_method IS NULL AND corrective_reason = '' END),
    ADD CONSTRAINT invoices_period CHECK ((kind = 'summary') = (period_start IS NOT NULL AND period_end IS NOT NULL)
        AND (period_start IS NULL OR period_start <= period_end)),
    ADD CONSTRAINT invoices_quote_version CHECK ((quote_id IS NULL) = (quote_version IS NULL)),
    ADD CONSTRAINT invoices_order_whole CHECK (NOT order_whole OR order_id IS NOT NULL),
    ADD FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    ADD FOREIGN KEY (org_id, quote_id, quote_version) REFERENCES quote_versions (org_id, quote_id, n),
    ADD FOREIGN KEY (org_id, from_proforma_id) REFERENCES invoices (org_id, id),
    ADD FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    ADD FOREIGN KEY (org_id, issued_by) REFERENCES users (org_id, id),
    ADD FOREIGN KEY (org_id, voided_by) REFERENCES users (org_id, id);

CREATE UNIQUE INDEX invoices_full_number_key ON invoices (org_id, full_number) WHERE full_number IS NOT NULL;
-- Also the way to the last number of a series, whose date the next one may
-- not precede.
CREATE UNIQUE INDEX invoices_series_number_key ON invoices (org_id, series, year, number) WHERE number IS NOT NULL;
-- An order is invoiced whole at most once (a voided invoice lets it go).
CREATE UNIQUE INDEX invoices_order_whole_key ON invoices (org_id, order_id) WHERE order_whole AND state <> 'voided';
CREATE INDEX invoices_order_idx ON invoices (org_id, order_id) WHERE order_id IS NOT NULL;
-- A proforma becomes at most one invoice.
CREATE UNIQUE INDEX invoices_from_proforma_key ON invoices (org_id, from_proforma_id) WHERE from_proforma_id IS NOT NULL AND state <> 'voided';
CREATE INDEX invoices_list_idx ON invoices (org_id, id DESC);

-- The same line shape as quote and order lines. A corrective by difference
-- may take quantities back (negative); nothing else may.
CREATE TABLE invoice_lines (
    org_id           bigint        NOT NULL,
    invoice_id       bigint        NOT NULL,
    position         integer       NOT NULL CHECK (position >= 1),
    product_id       bigint,
    description      text          NOT NULL CHECK (btrim(description) <> '' AND length(description) <= 1000),
    unit             text          NOT NULL DEFAULT 'ud',
    quantity         numeric(15,3) NOT NULL CHECK (quantity <> 0),
    unit_price       bigint        NOT NULL CHECK (unit_price > 0),
    discount_pct     numeric(5,2)  NOT NULL DEFAULT 0 CHECK (discount_pct >= 0 AND discount_pct < 100),
    tax_rate_id      bigint        NOT NULL REFERENCES tax_rates (id),
    tax_rate         numeric(5,2)  NOT NULL,
    surcharge        numeric(5,2)  NOT NULL DEFAULT 0,
    withholding      numeric(5,2)  NOT NULL DEFAULT 0,
    amount           bigint        NOT NULL,
    -- Where the line came from, when it came from an order or a delivery.
    order_id         bigint,
    order_position   integer,
    delivery_note_id bigint,
    PRIMARY KEY (org_id, invoice_id, position),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE SET NULL (product_id),
    FOREIGN KEY (org_id, order_id, order_position) REFERENCES order_lines (org_id, order_id, position),
    FOREIGN KEY (org_id, delivery_note_id) REFERENCES delivery_notes (org_id, id)
);

-- Delivery notes an invoice bills. A note is billed at most once: the
-- unique index holds whatever the code does, under any concurrency. Voiding
-- the invoice releases its notes (released_at) so they can be billed again.
CREATE TABLE invoice_delivery_notes (
    org_id           bigint      NOT NULL,
    invoice_id       bigint      NOT NULL,
    delivery_note_id bigint      NOT NULL,
    released_at      timestamptz,
    PRIMARY KEY (org_id, invoice_id, delivery_note_id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, delivery_note_id) REFERENCES delivery_notes (org_id, id)
);
CREATE UNIQUE INDEX invoice_delivery_notes_once ON invoice_delivery_notes (org_id, delivery_note_id) WHERE released_at IS NULL;

-- An issued invoice is immutable: its row may only move issued → voided
-- (with who, when and why), and it may not be deleted; its lines, the
-- invoices it corrects and the notes it bills may not change (a note link
-- may only be released when the invoice is voided). Every column not named
-- here is frozen, so a column added later is frozen unless a migration says
-- otherwise. Corrections are rectificativas, never edits.
-- +goose StatementBegin
CREATE FUNCTION invoices_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued and cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.state = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.state = 'issued' AND NEW.state = 'voided' AND OLD.voided_at IS NULL AND OLD.voided_by IS NULL
       AND to_jsonb(NEW) - ARRAY['state', 'voided_at', 'voided_by', 'void_reason']
           = to_jsonb(OLD) - ARRAY['state', 'voided_at', 'voided_by', 'void_reason'] THEN
        RETURN NEW;
    END IF;
    IF to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'invoice % is issued and cannot change', OLD.id USING ERRCODE = 'check_violation';
END $$;

-- For the tables that hang off an invoice: only a draft's may change. A
-- deleted draft takes them along (the invoice row is gone by then).
CREATE FUNCTION invoice_parts_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    st text;
BEGIN
    r := COALESCE(NEW, OLD);
    SELECT state INTO st FROM invoices WHERE org_id = r.org_id AND id = r.invoice_id;
    IF st IS NULL OR st = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_TABLE_NAME = 'invoice_delivery_notes' AND TG_OP = 'UPDATE' AND st = 'voided'
       AND OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
       AND (NEW.invoice_id, NEW.delivery_note_id) = (OLD.invoice_id, OLD.delivery_note_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'invoice % is issued: its % cannot change', r.invoice_id, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd

CREATE TRIGGER invoices_frozen BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_frozen();
CREATE TRIGGER invoice_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoice_parts_frozen();
CREATE TRIGGER invoice_corrections_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_corrections
    FOR EACH ROW EXECUTE FUNCTION invoice_parts_frozen();
CREATE TRIGGER invoice_delivery_notes_frozen BEFORE INSERT OR UPDATE OR DELETE ON invoice_delivery_notes
    FOR EACH ROW EXECUTE FUNCTION invoice_parts_frozen();

-- +goose Down
DROP TABLE invoice_delivery_notes;
DROP TABLE invoice_lines;
DROP TRIGGER invoice_corrections_frozen ON invoice_corrections;
DROP TRIGGER invoices_frozen ON invoices;
DROP FUNCTION invoice_parts_frozen();
DROP FUNCTION invoices_frozen();
DROP INDEX invoices_list_idx;
DROP INDEX invoices_from_proforma_key;
DROP INDEX invoices_order_idx;
DROP INDEX invoices_order_whole_key;
DROP INDEX invoices_series_number_key;
DROP INDEX invoices_full_number_key;
ALTER TABLE invoices DROP CONSTRAINT invoices_org_id_from_proforma_id_fkey;
DELETE FROM invoice_allocations a USING invoices i WHERE i.org_id = a.org_id AND i.id = a.invoice_id AND (i.state = 'draft' OR i.kind = 'proforma');
DELETE FROM invoices WHERE state = 'draft' OR kind = 'proforma';
ALTER TABLE invoices ADD COLUMN corrects_invoice_id bigint;
UPDATE invoices i SET corrects_invoice_id = (SELECT min(c.corrected_id) FROM invoice_corrections c WHERE c.org_id = i.org_id AND c.invoice_id = i.id);
DROP TABLE invoice_corrections;
ALTER TABLE invoices
    DROP CONSTRAINT invoices_kind_check,
    DROP CONSTRAINT invoices_fiscal_type_of_kind,
    DROP CONSTRAINT invoices_series_code,
    DROP CONSTRAINT invoices_numbered,
    DROP CONSTRAINT invoices_year_of_date,
    DROP CONSTRAINT invoices_issued_frozen,
    DROP CONSTRAINT invoices_voided,
    DROP CONSTRAINT invoices_corrective,
    DROP CONSTRAINT invoices_period,
    DROP CONSTRAINT invoices_quote_version,
    DROP CONSTRAINT invoices_order_whole,
    DROP CONSTRAINT invoices_org_id_order_id_fkey,
    DROP CONSTRAINT invoices_org_id_quote_id_quote_version_fkey,
    DROP CONSTRAINT invoices_org_id_created_by_fkey,
    DROP CONSTRAINT invoices_org_id_issued_by_fkey,
    DROP CONSTRAINT invoices_org_id_voided_by_fkey,
    DROP COLUMN fiscal_type, DROP COLUMN state, DROP COLUMN year, DROP COLUMN full_number, DROP COLUMN operation_date,
    DROP COLUMN period_start, DROP COLUMN period_end, DROP COLUMN currency, DROP COLUMN tax_treatment, DROP COLUMN parties,
    DROP COLUMN base, DROP COLUMN tax, DROP COLUMN surcharge, DROP COLUMN withheld, DROP COLUMN corrective_method,
    DROP COLUMN corrective_reason, DROP COLUMN notes, DROP COLUMN order_id, DROP COLUMN order_whole, DROP COLUMN quote_id,
    DROP COLUMN quote_version, DROP COLUMN from_proforma_id, DROP COLUMN created_by, DROP COLUMN issued_at, DROP COLUMN issued_by,
    DROP COLUMN voided_at, DROP COLUMN voided_by, DROP COLUMN void_reason, DROP COLUMN pdf, DROP COLUMN pdf_sha256,
    ALTER COLUMN customer_id SET NOT NULL,
    ALTER COLUMN series SET NOT NULL,
    ALTER COLUMN number SET NOT NULL,
    ALTER COLUMN issue_date SET NOT NULL,
    ADD CONSTRAINT invoices_kind_check CHECK (kind IN ('ordinary', 'corrective', 'summary', 'proforma', 'simplified')),
    ADD CONSTRAINT invoices_check CHECK (kind = 'corrective' OR corrects_invoice_id IS NULL),
    ADD FOREIGN KEY (org_id, corrects_invoice_id) REFERENCES invoices (org_id, id);
CREATE UNIQUE INDEX invoices_number_key ON invoices (org_id, series, number);
ALTER TABLE orgs DROP COLUMN simplified_activity, DROP COLUMN address;
