-- invoice_parts_frozen checked only the invoice a changed line, correction
-- or delivery-note link belongs to after the change: an UPDATE that moved
-- an issued invoice's part to a draft (invoice_id = the draft's) passed,
-- and deleting the draft then took it away, leaving the issued invoice
-- without its lines. On UPDATE the invoice the part leaves is checked too.

-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION invoice_parts_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    st text;
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.org_id, OLD.invoice_id) IS DISTINCT FROM (NEW.org_id, NEW.invoice_id) THEN
        SELECT state INTO st FROM invoices WHERE org_id = OLD.org_id AND id = OLD.invoice_id;
        IF st IS NOT NULL AND st <> 'draft' THEN
            RAISE EXCEPTION 'invoice % is issued: its % cannot change', OLD.invoice_id, TG_TABLE_NAME USING ERRCODE = 'check_violation';
        END IF;
    END IF;
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
    IF TG_TABLE_NAME = 'invoice_delivery_notes' AND TG_OP = 'UPDATE' AND st = 'voided' THEN
        IF OLD.released_at IS NULL AND NEW.released_at IS NOT NULL
           AND (NEW.invoice_id, NEW.delivery_note_id) = (OLD.invoice_id, OLD.delivery_note_id) THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'invoice % is issued: its % cannot change', r.invoice_id, TG_TABLE_NAME USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd
