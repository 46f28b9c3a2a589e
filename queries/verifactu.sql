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
-- chain's head to it, in one statement, only if the head is at @seq − 1:
-- no row back means another record went first (the head was read without
-- its lock) and nothing was written. Only what the database made comes
-- back (the XML is the caller's).
WITH head AS (
    UPDATE verifactu_chains c SET last_seq = @seq, last_num_serie = @num_serie, last_fecha = @fecha_expedicion, last_huella = @huella
    WHERE c.org_id = @org_id AND c.issuer_nif = @issuer_nif AND c.last_seq + 1 = @seq
    RETURNING c.org_id AS head_org
)
INSERT INTO verifactu_records (org_id, invoice_id, kind, issuer_nif, seq, num_serie, fecha_expedicion, tipo_factura, huella,
    prev_num_serie, prev_fecha, prev_huella, generated_at_text, xml, corrects_id)
SELECT head.head_org, @invoice_id::bigint, @kind::text, @issuer_nif::text, @seq::bigint, @num_serie::text, @fecha_expedicion::text,
    sqlc.narg(tipo_factura)::text, @huella::text, sqlc.narg(prev_num_serie)::text, sqlc.narg(prev_fecha)::text, sqlc.narg(prev_huella)::text,
    @generated_at_text::text, @xml::bytea, sqlc.narg(corrects_id)::bigint
FROM head
RETURNING id, status, created_at;

-- name: ListVerifactuRecords :many
-- One issuer's chain in order.
SELECT * FROM verifactu_records WHERE org_id = @org_id AND issuer_nif = @issuer_nif ORDER BY seq;

-- name: ListInvoiceVerifactuRecords :many
SELECT * FROM verifactu_records WHERE org_id = @org_id AND invoice_id = @invoice_id ORDER BY seq;
