-- name: UpsertVerifactuCertificate :one
-- The org's certificate, replacing the one it had.
INSERT INTO verifactu_certificates (org_id, p12_sealed, password_sealed, subject, nif, not_after, uploaded_by, uploaded_at)
VALUES (@org_id, @p12_sealed, @password_sealed, @subject, @nif, @not_after, sqlc.narg(uploaded_by), @uploaded_at)
ON CONFLICT (org_id) DO UPDATE SET p12_sealed = EXCLUDED.p12_sealed, password_sealed = EXCLUDED.password_sealed,
    subject = EXCLUDED.subject, nif = EXCLUDED.nif, not_after = EXCLUDED.not_after,
    uploaded_by = EXCLUDED.uploaded_by, uploaded_at = EXCLUDED.uploaded_at
RETURNING org_id, subject, nif, not_after, uploaded_by, uploaded_at;

-- name: GetVerifactuCertificate :one
SELECT * FROM verifactu_certificates WHERE org_id = @org_id;

-- name: GetVerifactuCertificateFacts :one
-- What the admin page shows: never the sealed columns.
SELECT org_id, subject, nif, not_after, uploaded_by, uploaded_at FROM verifactu_certificates WHERE org_id = @org_id;

-- name: EnsureVerifactuSender :exec
INSERT INTO verifactu_senders (org_id, issuer_nif) VALUES (@org_id, @issuer_nif)
ON CONFLICT (org_id, issuer_nif) DO NOTHING;

-- name: LockVerifactuSender :one
-- The issuer's sending state, locked for the short transaction that takes
-- or gives back the lease (never across the exchange with the AEAT).
SELECT * FROM verifactu_senders WHERE org_id = @org_id AND issuer_nif = @issuer_nif FOR UPDATE;

-- name: TakeVerifactuLease :one
UPDATE verifactu_senders SET lease_id = lease_id + 1, lease_until = @lease_until, last_attempt_at = @now
WHERE org_id = @org_id AND issuer_nif = @issuer_nif
RETURNING lease_id;

-- name: EndVerifactuLease :execrows
-- Gives the lease back with the exchange's outcome and the next time a
-- request may go; a lease that was taken over meanwhile is left alone.
UPDATE verifactu_senders SET lease_until = NULL, not_before = sqlc.narg(not_before), last_outcome = @last_outcome, last_error = @last_error,
    failures = @failures
WHERE org_id = @org_id AND issuer_nif = @issuer_nif AND lease_id = @lease_id;

-- name: GetVerifactuSender :one
SELECT * FROM verifactu_senders WHERE org_id = @org_id AND issuer_nif = @issuer_nif;

-- name: UnansweredVerifactuRecords :many
-- The head of the issuer's queue: records without a stored answer, in
-- chain order.
SELECT * FROM verifactu_records
WHERE org_id = @org_id AND issuer_nif = @issuer_nif AND status IN ('pending', 'sent')
ORDER BY seq
LIMIT @max_records;

-- name: CountUnansweredVerifactuRecords :one
SELECT count(*) FROM verifactu_records
WHERE org_id = @org_id AND issuer_nif = @issuer_nif AND status IN ('pending', 'sent');

-- name: MarkVerifactuRecordsSent :exec
-- Handed to the AEAT: from now on it may hold them.
UPDATE verifactu_records SET status = 'sent', sent_at = @sent_at
WHERE org_id = @org_id AND id = ANY(@ids::bigint[]) AND status IN ('pending', 'sent');

-- name: MarkVerifactuRecordsPending :exec
-- The AEAT certainly did not register them (a fault refuses the whole
-- request before registering anything).
UPDATE verifactu_records SET status = 'pending'
WHERE org_id = @org_id AND id = ANY(@ids::bigint[]) AND status = 'sent';

-- name: AnswerVerifactuRecord :execrows
-- Stores the AEAT's answer for a record once: a record already answered
-- keeps its answer.
UPDATE verifactu_records SET status = @status, answer_code = sqlc.narg(answer_code), answer_text = @answer_text, answered_at = @answered_at
WHERE org_id = @org_id AND id = @id AND status IN ('pending', 'sent');

-- name: GetVerifactuRecord :one
SELECT * FROM verifactu_records WHERE org_id = @org_id AND id = @id;

-- name: VerifactuCorrectionOf :one
-- The record that resubmits @id corrected, if one was written.
SELECT * FROM verifactu_records WHERE org_id = @org_id AND corrects_id = @id;

-- name: StartVerifactuSend :one
INSERT INTO verifactu_sends (org_id, issuer_nif, first_seq, last_seq, records, started_at)
VALUES (@org_id, @issuer_nif, @first_seq, @last_seq, @records, @started_at)
RETURNING id;

-- name: FinishVerifactuSend :exec
UPDATE verifactu_sends SET outcome = @outcome, http_status = @http_status, fault_code = @fault_code, csv = @csv,
    error = @error, answer = sqlc.narg(answer), finished_at = @finished_at
WHERE org_id = @org_id AND id = @id;

-- name: ListVerifactuSends :many
SELECT id, issuer_nif, first_seq, last_seq, records, outcome, http_status, fault_code, csv, error, started_at, finished_at
FROM verifactu_sends WHERE org_id = @org_id AND issuer_nif = @issuer_nif ORDER BY id;

-- name: ChainsDueForSending :many
-- Every chain with records waiting that may send now, for the periodic
-- sweep: its wait is over and no worker holds its lease.
SELECT DISTINCT r.org_id, r.issuer_nif FROM verifactu_records r
LEFT JOIN verifactu_senders s ON s.org_id = r.org_id AND s.issuer_nif = r.issuer_nif
WHERE r.status IN ('pending', 'sent')
  AND (s.not_before IS NULL OR s.not_before <= @now)
  AND (s.lease_until IS NULL OR s.lease_until <= @now);

-- name: RetryVerifactuSendersOfOrg :exec
-- A new certificate may cure what stopped the org's chains: their next
-- request may go at once.
UPDATE verifactu_senders SET not_before = NULL, failures = 0
WHERE org_id = @org_id AND last_outcome IN ('faulted', 'refused', 'no-certificate');

-- name: GetOrgForVerifactuSending :one
SELECT id, name, tax_id, country FROM orgs WHERE id = @id;

-- name: ListVerifactuSenders :many
-- The org's chains' sending state, for the certificate page.
SELECT * FROM verifactu_senders WHERE org_id = @org_id ORDER BY issuer_nif;
