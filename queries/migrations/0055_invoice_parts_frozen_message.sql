-- invoice_parts_frozen refused a change to an issued invoice's lines or
-- corrections with "record "old" has no field "released_at"" (42703)
-- instead of its own message (check_violation): PL/pgSQL evaluated the
-- delivery-note exception's test, which names a column only
-- invoice_delivery_notes has, on every table. The exception is now tested
-- on that table alone. What is refused and allowed is unchanged.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION invoice_parts_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    st text;
BEGIN
    r := COALESCE(NEW, OLD);
    SELECT state INTO st FROM invoices WHERE org_id = r.org_id AND id = r.invoice_id;
    -- No invoice: a deleted draft taking its parts along, or the lines
    -- InsertIssuedInvoice writes just before their invoice in one statement
    -- (the foreign key, checked at its end, needs the invoice there).
    IF st IS NULL OR st = 'draft' THEN
        RETURN COALESCE(NEW, OLD);
    END IF;
    IF TG_TABLE_NAME = 'invoice_delivery_notes' AND TG_OP = 'UPDATE' AND st = 'voided' THEN
        -- A voided invoice releases its delivery notes (and nothing else).
        IF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
           AND (NEW.invoice_id, NEW.delivery_note_id) = (OLD.invoice_id, OLD.delivery_note_id) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'invoice % is issued: its % cannot change', r.invoice_id, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION invoice_parts_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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
