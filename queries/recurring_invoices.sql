-- name: CreateRecurringInvoice :one
INSERT INTO recurring_invoices (org_id, customer_id, name, frequency, day, start_on, end_on, mode, notes, next_period, created_by)
VALUES (@org_id, @customer_id, @name, @frequency, @day, @start_on, sqlc.narg('end_on'), @mode, @notes, sqlc.narg('next_period'),
        sqlc.narg('created_by'))
RETURNING *;

-- name: UpdateRecurringInvoice :one
UPDATE recurring_invoices SET customer_id = @customer_id, name = @name, frequency = @frequency, day = @day, start_on = @start_on,
    end_on = sqlc.narg('end_on'), mode = @mode, notes = @notes, next_period = sqlc.narg('next_period'),
    last_error = '', last_error_params = '{}', last_error_at = NULL, updated_at = now()
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: GetRecurringInvoice :one
SELECT r.*, c.legal_name AS customer_name FROM recurring_invoices r
JOIN customers c ON c.org_id = r.org_id AND c.id = r.customer_id
WHERE r.org_id = @org_id AND r.id = @id;

-- name: LockRecurringInvoice :one
SELECT * FROM recurring_invoices WHERE org_id = @org_id AND id = @id FOR NO KEY UPDATE;

-- name: ListRecurringInvoices :many
-- Newest first, keyset by id.
SELECT r.*, c.legal_name AS customer_name FROM recurring_invoices r
JOIN customers c ON c.org_id = r.org_id AND c.id = r.customer_id
WHERE r.org_id = @org_id AND (sqlc.narg('before_id')::bigint IS NULL OR r.id < sqlc.narg('before_id'))
ORDER BY r.id DESC LIMIT @page_size;

-- name: SetRecurringInvoiceActive :one
UPDATE recurring_invoices SET active = @active, next_period = sqlc.narg('next_period'), updated_at = now()
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: DeleteRecurringInvoiceLines :exec
DELETE FROM recurring_invoice_lines WHERE org_id = @org_id AND template_id = @template_id;

-- name: InsertRecurringInvoiceLine :exec
INSERT INTO recurring_invoice_lines (org_id, template_id, position, product_id, description, unit, quantity, unit_price, discount_pct, tax_rate_id)
VALUES (@org_id, @template_id, @position, sqlc.narg('product_id'), @description, @unit, @quantity, @unit_price, @discount_pct, @tax_rate_id);

-- name: ListRecurringInvoiceLines :many
SELECT * FROM recurring_invoice_lines WHERE org_id = @org_id AND template_id = @template_id ORDER BY position;

-- name: OrgsWithDueRecurringInvoices :many
-- Orgs with a template whose next period has come in the org's own zone
-- (across orgs: the periodic job's scan).
SELECT DISTINCT r.org_id FROM recurring_invoices r
JOIN orgs o ON o.id = r.org_id
WHERE r.active AND r.next_period IS NOT NULL
  AND r.next_period <= (timezone(o.time_zone, @at::timestamptz))::date
  AND (sqlc.narg('org_id')::bigint IS NULL OR r.org_id = sqlc.narg('org_id'))
ORDER BY r.org_id;

-- name: LockRecurringInvoicing :exec
-- One org's recurring invoices are issued by one transaction at a time, so
-- periods go out in date order across its templates whatever number of
-- workers run (issuing serialises on the series and the VERI*FACTU chain
-- anyway). Held until the transaction ends.
SELECT pg_advisory_xact_lock(hashtextextended('recurring_invoices', @org_id::bigint));

-- name: NextDueRecurringInvoice :one
-- The org's template with the oldest period due, locked; templates that
-- failed in this pass are skipped.
SELECT * FROM recurring_invoices
WHERE org_id = @org_id AND active AND next_period IS NOT NULL AND next_period <= @today::date
  AND NOT (id = ANY (@skip::bigint[]))
ORDER BY next_period, id LIMIT 1
FOR NO KEY UPDATE;

-- name: InsertRecurringInvoiceRun :exec
INSERT INTO recurring_invoice_runs (org_id, template_id, period_start, invoice_id, send)
VALUES (@org_id, @template_id, @period_start, @invoice_id, @send);

-- name: RecurringInvoiceRunExists :one
SELECT EXISTS (SELECT 1 FROM recurring_invoice_runs WHERE org_id = @org_id AND template_id = @template_id AND period_start = @period_start)::boolean;

-- name: LastRecurringInvoicePeriod :one
-- The latest period invoiced of a template (NULL when none): an edit never
-- reschedules a period at or before it.
SELECT max(period_start)::date FROM recurring_invoice_runs WHERE org_id = @org_id AND template_id = @template_id;

-- name: AdvanceRecurringInvoice :exec
UPDATE recurring_invoices SET next_period = sqlc.narg('next_period'), last_error = '', last_error_params = '{}', last_error_at = NULL
WHERE org_id = @org_id AND id = @id;

-- name: SetRecurringInvoiceError :exec
UPDATE recurring_invoices SET last_error = @last_error, last_error_params = @last_error_params, last_error_at = @at WHERE org_id = @org_id AND id = @id;

-- name: ListRecurringInvoiceRuns :many
-- A template's periods, newest first, with their invoices.
SELECT r.period_start, r.invoice_id, r.send, r.created_at, i.full_number, i.issue_date, i.total, i.currency, i.state
FROM recurring_invoice_runs r
JOIN invoices i ON i.org_id = r.org_id AND i.id = r.invoice_id
WHERE r.org_id = @org_id AND r.template_id = @template_id
ORDER BY r.period_start DESC LIMIT @page_size;

-- name: CustomersWithUninvoicedNotes :many
-- Customers with delivery notes of the period that no invoice bills yet
-- (the same rule as UninvoicedDeliveryNotes), by id.
SELECT DISTINCT o.customer_id FROM delivery_notes n
JOIN orders o ON o.org_id = n.org_id AND o.id = n.order_id
WHERE n.org_id = @org_id AND n.delivered_on >= @from_day::date AND n.delivered_on <= @to_day::date
  AND NOT EXISTS (SELECT 1 FROM invoice_delivery_notes l WHERE l.org_id = n.org_id AND l.delivery_note_id = n.id AND l.released_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = o.org_id AND i.order_id = o.id AND i.order_whole AND i.state <> 'voided')
ORDER BY o.customer_id;

-- name: CreateInvoiceRun :one
-- A second start of the same month while one is open returns nothing
-- (the caller shows the open one).
INSERT INTO invoice_runs (org_id, period_start, period_end, created_by)
VALUES (@org_id, @period_start, @period_end, sqlc.narg('created_by'))
ON CONFLICT (org_id, period_start) WHERE state <> 'done' DO NOTHING
RETURNING *;

-- name: OpenInvoiceRun :one
SELECT * FROM invoice_runs WHERE org_id = @org_id AND period_start = @period_start AND state <> 'done';

-- name: GetInvoiceRun :one
SELECT * FROM invoice_runs WHERE org_id = @org_id AND id = @id;

-- name: LockInvoiceRun :one
SELECT * FROM invoice_runs WHERE org_id = @org_id AND id = @id FOR NO KEY UPDATE;

-- name: ListInvoiceRuns :many
SELECT * FROM invoice_runs WHERE org_id = @org_id AND (sqlc.narg('before_id')::bigint IS NULL OR id < sqlc.narg('before_id'))
ORDER BY id DESC LIMIT @page_size;

-- name: StartInvoiceRun :one
-- total counts the customers already handled plus those left: a resumed run
-- keeps its count.
UPDATE invoice_runs SET state = 'running', total = @total WHERE org_id = @org_id AND id = @id AND state <> 'done'
RETURNING *;

-- name: InvoiceRunItemCustomers :many
SELECT customer_id FROM invoice_run_items WHERE org_id = @org_id AND run_id = @run_id;

-- name: InsertInvoiceRunItem :execrows
-- A customer is handled once per run: a resumed run that meets it again
-- changes nothing.
INSERT INTO invoice_run_items (org_id, run_id, customer_id, invoice_id, error, error_params)
VALUES (@org_id, @run_id, @customer_id, sqlc.narg('invoice_id'), @error, @error_params)
ON CONFLICT DO NOTHING;

-- name: CountInvoiceRun :one
-- Done and failed are counted from the items, so they are what the items say.
UPDATE invoice_runs r SET
    done = (SELECT count(*) FROM invoice_run_items i WHERE i.org_id = r.org_id AND i.run_id = r.id AND i.invoice_id IS NOT NULL),
    failed = (SELECT count(*) FROM invoice_run_items i WHERE i.org_id = r.org_id AND i.run_id = r.id AND i.invoice_id IS NULL)
WHERE r.org_id = @org_id AND r.id = @id
RETURNING *;

-- name: FinishInvoiceRun :one
UPDATE invoice_runs SET state = 'done', finished_at = @finished_at WHERE org_id = @org_id AND id = @id AND state <> 'done'
RETURNING *;

-- name: ListInvoiceRunItems :many
SELECT i.customer_id, i.invoice_id, i.error, i.error_params, c.legal_name AS customer_name, v.full_number, v.total, v.currency
FROM invoice_run_items i
JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
LEFT JOIN invoices v ON v.org_id = i.org_id AND v.id = i.invoice_id
WHERE i.org_id = @org_id AND i.run_id = @run_id
ORDER BY (i.invoice_id IS NOT NULL), c.legal_name, i.customer_id;

-- name: ListBillableCustomers :many
-- Customers a billing user may choose for a template, by name.
SELECT id, legal_name, tax_id FROM customers WHERE org_id = @org_id ORDER BY legal_name, id LIMIT 1000;
