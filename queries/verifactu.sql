-- name: EnsureVerifactuChain :exec
-- Creates the issuer's chain head the first time it records.
INSERT INTO verifactu_chains (org_id, issuer_nif) VALUES (@org_id, @issuer_nif)
ON CONFLICT (org_id, issuer_nif) DO NOTHING;

-- name: LockVerifactuChain :one
-- The issuer's chain head, locked until the transaction ends: whoever
-- holds it is the only one sealing the next record of this chain.
SELECT * FROM verifactu_chains WHERE org_id = @org_id AND issuer_nif = @issuer_nif FOR UPDATE;

-- name: AppendVerifactuRecord :one
-- Stores the record at position @seq of its issuer's chain and moves the
-- chain's head to it, in one statement; advanced is 0 when the head was not
-- at @seq − 1 (the caller holds its lock, so that means a bug). Only what
-- the database made comes back (the XML is the caller's).
WITH rec AS (
    INSERT INTO verifactu_records (org_id, invoice_id, kind, issuer_nif, seq, num_serie, fecha_expedicion, tipo_factura, huella,
        prev_num_serie, prev_fecha, prev_huella, generated_at_text, xml, corrects_id)
    VALUES (@org_id, @invoice_id, @kind, @issuer_nif, @seq, @num_serie, @fecha_expedicion, sqlc.narg(tipo_factura), @huella,
        sqlc.narg(prev_num_serie), sqlc.narg(prev_fecha), sqlc.narg(prev_huella), @generated_at_text, @xml, sqlc.narg(corrects_id))
    RETURNING id, status, created_at
), head AS (
    UPDATE verifactu_chains SET last_seq = @seq, last_num_serie = @num_serie, last_fecha = @fecha_expedicion, last_huella = @huella
    WHERE org_id = @org_id AND issuer_nif = @issuer_nif AND last_seq + 1 = @seq
    RETURNING 1
)
SELECT rec.id, rec.status, rec.created_at, (SELECT count(*) FROM head)::int AS advanced FROM rec;

-- name: ListVerifactuRecords :many
-- One issuer's chain in order.
SELECT * FROM verifactu_records WHERE org_id = @org_id AND issuer_nif = @issuer_nif ORDER BY seq;

-- name: ListInvoiceVerifactuRecords :many
SELECT * FROM verifactu_records WHERE org_id = @org_id AND invoice_id = @invoice_id ORDER BY seq;
