-- Reading and checking the VERI*FACTU records (app/verifactu/ledger): the
-- chain check, the admin page's counts and list, the XML download.

-- name: ListVerifactuChainHeads :many
-- Every chain of the org (one per issuer NIF it has recorded under).
SELECT * FROM verifactu_chains WHERE org_id = @org_id ORDER BY issuer_nif;

-- name: ListVerifactuChainBatch :many
-- One issuer's records after position @after_seq up to @up_to (the head
-- as the check read it: records issued since are not its business), in
-- chain order, a batch at a time so a long chain is checked without
-- holding it all in memory.
SELECT * FROM verifactu_records
WHERE org_id = @org_id AND issuer_nif = @issuer_nif AND seq > @after_seq AND seq <= @up_to
ORDER BY seq
LIMIT @batch;

-- name: CountVerifactuRecordsByStatus :many
-- The admin page's counters. A count over the org's records: they grow by
-- one per invoice issued or voided, and only billing admins ask.
SELECT status, count(*)::bigint AS n FROM verifactu_records WHERE org_id = @org_id GROUP BY status;

-- name: ListVerifactuRecordsPage :many
-- The admin page's list, newest first, keyset-paged by id; the XML stays
-- in the table (the download route serves it).
SELECT r.id, r.invoice_id, r.kind, r.issuer_nif, r.seq, r.num_serie, r.fecha_expedicion, r.tipo_factura, r.huella,
       r.status, r.answer_code, r.answer_text, r.sent_at, r.created_at
FROM verifactu_records r
WHERE r.org_id = @org_id
  AND (sqlc.narg('status')::text IS NULL OR r.status = sqlc.narg('status'))
  AND (sqlc.narg('kind')::text IS NULL OR r.kind = sqlc.narg('kind'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR r.id < sqlc.narg('before_id'))
ORDER BY r.id DESC
LIMIT @page_size;

-- name: GetVerifactuRecordXML :one
-- One record's stored XML, for its download.
SELECT id, invoice_id, kind, issuer_nif, seq, num_serie, xml FROM verifactu_records WHERE org_id = @org_id AND id = @id;

-- name: CorrectedVerifactuRecords :many
-- Which of these records already have their corrected resubmission.
SELECT corrects_id::bigint AS id FROM verifactu_records
WHERE org_id = @org_id AND corrects_id = ANY (@ids::bigint[]);
