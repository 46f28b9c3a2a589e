-- name: CreateInvoiceSend :one
INSERT INTO invoice_sends (org_id, invoice_id, to_address, to_name, scheduled_at, state, resend, locale, created_by, updated_by)
VALUES (@org_id, @invoice_id, @to_address, @to_name, @scheduled_at, 'scheduled', @resend, @locale, @created_by, @created_by)
RETURNING *;

-- name: GetInvoiceSend :one
SELECT * FROM invoice_sends WHERE org_id = @org_id AND id = @id;

-- name: LockInvoiceSend :one
-- The send's row lock: the job, a change of schedule, a cancel and the
-- client's opens take turns on it, so each sees what the one before did.
SELECT * FROM invoice_sends WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: MarkInvoiceSendSent :one
UPDATE invoice_sends SET state = 'sent', sent_at = @sent_at, email_id = @email_id,
    token_hash = @token_hash, token_nonce = @token_nonce, resend = @resend, updated_at = now()
WHERE org_id = @org_id AND id = @id AND state = 'scheduled'
RETURNING *;

-- name: RescheduleInvoiceSend :one
UPDATE invoice_sends SET scheduled_at = @scheduled_at, to_address = @to_address, to_name = @to_name,
    updated_by = @updated_by, updated_at = now()
WHERE org_id = @org_id AND id = @id AND state = 'scheduled'
RETURNING *;

-- name: CancelInvoiceSend :one
UPDATE invoice_sends SET state = 'cancelled', cancelled_at = now(), cancelled_by = @cancelled_by,
    updated_by = @cancelled_by, updated_at = now()
WHERE org_id = @org_id AND id = @id AND state = 'scheduled'
RETURNING *;

-- name: FailInvoiceSend :one
UPDATE invoice_sends SET state = 'failed', failure = @failure, updated_at = now()
WHERE org_id = @org_id AND id = @id AND state = 'scheduled'
RETURNING *;

-- name: DueInvoiceSends :many
-- Scheduled sends whose minute has come, oldest first, across orgs (the
-- sweep's net under lost jobs; invoice_sends_due_idx).
SELECT org_id, id, scheduled_at FROM invoice_sends
WHERE state = 'scheduled' AND scheduled_at <= @now
ORDER BY scheduled_at, org_id, id
LIMIT @max_rows;

-- name: ListInvoiceSends :many
SELECT s.*, coalesce(e.status, '')::text AS email_status, coalesce(u.name, '')::text AS created_by_name,
    (SELECT count(*) FROM invoice_opens o WHERE o.org_id = s.org_id AND o.send_id = s.id)::bigint AS opens
FROM invoice_sends s
LEFT JOIN emails e ON e.org_id = s.org_id AND e.id = s.email_id
LEFT JOIN users u ON u.org_id = s.org_id AND u.id = s.created_by
WHERE s.org_id = @org_id AND s.invoice_id = @invoice_id
ORDER BY s.id DESC
LIMIT 100;

-- name: ListInvoiceOpens :many
SELECT * FROM invoice_opens WHERE org_id = @org_id AND invoice_id = @invoice_id
ORDER BY at DESC, id DESC
LIMIT 50;

-- name: FindInvoiceLink :one
-- The client's way in: by the digest of the token only, and only a link
-- that went out.
SELECT s.org_id, s.id, s.invoice_id, s.sent_at FROM invoice_sends s
WHERE s.token_hash = @token_hash AND s.state = 'sent';

-- name: InsertInvoiceOpen :execrows
-- Once per send, client address and hour. Run after LockInvoiceSend in the
-- same transaction, so concurrent opens take turns and this check sees the
-- open committed just before.
INSERT INTO invoice_opens (org_id, invoice_id, send_id, ip, user_agent)
SELECT @org_id::bigint, @invoice_id::bigint, @send_id::bigint, sqlc.narg('ip')::inet, @user_agent::text
WHERE NOT EXISTS (
    SELECT 1 FROM invoice_opens o
    WHERE o.org_id = @org_id AND o.send_id = @send_id
      AND o.ip IS NOT DISTINCT FROM sqlc.narg('ip')::inet AND o.at > now() - interval '1 hour');

-- name: MarkInvoiceSendOpened :one
-- The send's first open is news; it returns whether this one was the first.
UPDATE invoice_sends SET first_opened_at = coalesce(first_opened_at, @at), last_opened_at = @at
WHERE org_id = @org_id AND id = @id
RETURNING (first_opened_at = @at)::boolean AS first;

-- name: InvoiceRecipient :one
-- Who an invoice goes to by default: its customer's address and name.
SELECT c.email, c.legal_name FROM invoices i
JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
WHERE i.org_id = @org_id AND i.id = @invoice_id;

-- name: DemoInvoiceToSend :one
-- The demo's scheduled send: the newest issued invoice of a customer with
-- an address, when the org has sent nothing yet.
SELECT i.id, c.owner_id FROM invoices i JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
WHERE i.org_id = @org_id AND i.state = 'issued' AND c.email <> ''
  AND NOT EXISTS (SELECT 1 FROM invoice_sends s WHERE s.org_id = @org_id)
ORDER BY i.issue_date DESC, i.id DESC LIMIT 1;
