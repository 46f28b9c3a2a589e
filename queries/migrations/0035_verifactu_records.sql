-- VERI*FACTU records (RD 1007/2023, Orden HAC/1177/2024): the RegistroAlta
-- written when a Spanish fiscal invoice is issued and the RegistroAnulacion
-- written when it is voided, in the same transaction (app/invoices), each
-- chained to the issuer's previous record by its huella (app/verifactu).
--
--   - One chain per org and issuer NIF (an org that changes its NIF starts
--     a new chain). verifactu_chains holds its head: the position and Link
--     of its last record. Issuing and voiding lock that row FOR UPDATE
--     before sealing, which serialises one issuer's chain; two orgs never
--     wait for each other.
--   - A record is stored as sealed: its XML as MarshalRecord wrote it, plus
--     the chain fields as the XML's own texts, so the chain can be checked
--     and sent without rebuilding anything.
--   - Only the sending state may change later (status, the AEAT's answer,
--     sent_at); a trigger refuses any other change and every delete.

-- +goose Up
CREATE TABLE verifactu_chains (
    org_id     bigint NOT NULL REFERENCES orgs (id),
    issuer_nif text   NOT NULL CHECK (issuer_nif ~ '^[0-9A-Z]{9}$'),
    -- Position of the last record (0: none yet) and its Link; the Link
    -- columns are NULL until the first record.
    last_seq         bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_num_serie   text,
    last_fecha       text,
    last_huella      text,
    PRIMARY KEY (org_id, issuer_nif),
    CHECK ((last_seq = 0) = (last_huella IS NULL))
);

CREATE TABLE verifactu_records (
    org_id      bigint      NOT NULL,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    invoice_id  bigint      NOT NULL,
    kind        text        NOT NULL CHECK (kind IN ('alta', 'anulacion')),
    issuer_nif  text        NOT NULL,
    -- Position in the issuer's chain, from 1, without gaps.
    seq         bigint      NOT NULL CHECK (seq >= 1),
    -- IDFactura as the XML writes it (for an anulación, the voided invoice).
    num_serie   text        NOT NULL CHECK (num_serie ~ '^[ -~]{1,60}$'),
    fecha_expedicion text   NOT NULL CHECK (fecha_expedicion ~ '^\d{2}-\d{2}-\d{4}$'),
    -- TipoFactura of an alta; NULL for an anulación.
    tipo_factura text       CHECK (tipo_factura IN ('F1', 'F2', 'F3', 'R1', 'R2', 'R3', 'R4', 'R5')),
    huella      text        NOT NULL CHECK (huella ~ '^[0-9A-F]{64}$'),
    -- The previous record's Link (Encadenamiento/RegistroAnterior); all
    -- NULL for the first record of the chain (PrimerRegistro = S).
    prev_num_serie text,
    prev_fecha     text,
    prev_huella    text CHECK (prev_huella ~ '^[0-9A-F]{64}$'),
    -- FechaHoraHusoGenRegistro exactly as written and hashed.
    generated_at_text text  NOT NULL,
    xml         bytea       NOT NULL,
    status      text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sent', 'accepted', 'accepted_with_errors', 'rejected')),
    answer_code integer,
    answer_text text        NOT NULL DEFAULT '',
    sent_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, issuer_nif, seq),
    FOREIGN KEY (org_id, issuer_nif) REFERENCES verifactu_chains (org_id, issuer_nif),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id),
    CHECK ((kind = 'alta') = (tipo_factura IS NOT NULL)),
    CHECK ((seq = 1) = (prev_huella IS NULL)),
    CHECK ((prev_huella IS NULL) = (prev_num_serie IS NULL) AND (prev_huella IS NULL) = (prev_fecha IS NULL))
);
CREATE INDEX verifactu_records_invoice_idx ON verifactu_records (org_id, invoice_id);
-- The sending job's queue.
CREATE INDEX verifactu_records_pending_idx ON verifactu_records (org_id, issuer_nif, seq) WHERE status = 'pending';

-- A record is what the AEAT was (or will be) sent: every column but the
-- sending state is frozen, a column added later included, and no record is
-- ever deleted.
-- +goose StatementBegin
CREATE FUNCTION verifactu_records_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'VERI*FACTU records cannot be deleted' USING ERRCODE = 'check_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'VERI*FACTU record % cannot be deleted', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    IF to_jsonb(NEW) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at']
       = to_jsonb(OLD) - ARRAY['status', 'answer_code', 'answer_text', 'sent_at'] THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'VERI*FACTU record % cannot change', OLD.id USING ERRCODE = 'check_violation';
END $$;
-- +goose StatementEnd

CREATE TRIGGER verifactu_records_frozen BEFORE UPDATE OR DELETE ON verifactu_records
    FOR EACH ROW EXECUTE FUNCTION verifactu_records_frozen();
-- TRUNCATE bypasses row triggers.
CREATE TRIGGER verifactu_records_no_truncate BEFORE TRUNCATE ON verifactu_records
    FOR EACH STATEMENT EXECUTE FUNCTION verifactu_records_frozen();

-- +goose Down
DROP TABLE verifactu_records;
DROP FUNCTION verifactu_records_frozen();
DROP TABLE verifactu_chains;
