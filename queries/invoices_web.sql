-- name: ListInvoices :many
-- One keyset page of invoices, newest first (the primary key scanned backwards, or
-- invoices_state_list_idx / invoices_customer_list_idx when filtered). An
-- invoice belongs to its customer's owner, or to whoever drafted it when
-- it has no customer or the customer no owner (as invoices.Announce tells
-- them). "paid", "unpaid" and "overdue" are issued invoices by what their
-- allocations cover; overdue is unpaid and past its due date (@today is
-- the org's today).
SELECT i.id, i.kind, i.fiscal_type, i.state, i.full_number, i.issue_date, i.due_date, i.total, i.currency,
       c.legal_name AS customer_name, u.name AS owner_name,
       COALESCE((SELECT sum(a.amount) FROM invoice_allocations a WHERE a.org_id = i.org_id AND a.invoice_id = i.id), 0)::bigint AS allocated
FROM invoices i
LEFT JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
LEFT JOIN users u ON u.org_id = i.org_id AND u.id = c.owner_id
WHERE i.org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR COALESCE(c.owner_id, i.created_by) = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('kind')::text IS NULL OR i.kind = sqlc.narg('kind'))
  AND (sqlc.narg('state')::text IS NULL
       OR (sqlc.narg('state') IN ('draft', 'issued', 'voided') AND i.state = sqlc.narg('state'))
       OR (sqlc.narg('state') IN ('paid', 'unpaid', 'overdue') AND i.state = 'issued' AND i.kind <> 'proforma'
           AND (sqlc.narg('state') = 'paid') = (i.total <= COALESCE((SELECT sum(a.amount) FROM invoice_allocations a WHERE a.org_id = i.org_id AND a.invoice_id = i.id), 0))
           AND (sqlc.narg('state') <> 'overdue' OR i.due_date < @today::date)))
  AND (sqlc.narg('customer_id')::bigint IS NULL OR i.customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('rep_id')::bigint IS NULL OR c.owner_id = sqlc.narg('rep_id'))
  AND (sqlc.narg('from_day')::date IS NULL OR i.issue_date >= sqlc.narg('from_day'))
  AND (sqlc.narg('to_day')::date IS NULL OR i.issue_date <= sqlc.narg('to_day'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR i.id < sqlc.narg('before_id'))
ORDER BY i.id DESC
LIMIT @page_size;

-- name: InvoiceOwner :one
-- Whom an invoice belongs to for visibility: its customer's owner, or who
-- drafted it (see ListInvoices). NULL: only those who see everything.
SELECT c.owner_id AS customer_owner, i.created_by
FROM invoices i LEFT JOIN customers c ON c.org_id = i.org_id AND c.id = i.customer_id
WHERE i.org_id = @org_id AND i.id = @id;

-- name: InvoiceAllocated :one
-- What payments and credits cover of an invoice so far.
SELECT COALESCE(sum(amount), 0)::bigint FROM invoice_allocations WHERE org_id = @org_id AND invoice_id = @invoice_id;

-- name: ListInvoiceAllocations :many
SELECT a.id, a.amount, a.kind, a.applied_at, u.name AS created_by_name
FROM invoice_allocations a LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.created_by
WHERE a.org_id = @org_id AND a.invoice_id = @invoice_id
ORDER BY a.applied_at, a.id;

-- name: InsertInvoicePayment :one
INSERT INTO invoice_allocations (org_id, invoice_id, amount, kind, applied_at, created_by)
VALUES (@org_id, @invoice_id, @amount, 'payment', @applied_at, sqlc.narg('created_by'))
RETURNING *;

-- name: ListCorrectionsOf :many
-- The invoices (drafts included) that correct or replace this one.
SELECT i.id, i.kind, i.fiscal_type, i.state, i.full_number, i.issue_date, i.total
FROM invoice_corrections c
JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id
WHERE c.org_id = @org_id AND c.corrected_id = @corrected_id
ORDER BY i.id;

-- name: InvoiceMadeFromProforma :one
-- The invoice (not voided) a proforma became, if any.
SELECT id, full_number, state FROM invoices
WHERE org_id = @org_id AND from_proforma_id = @proforma_id AND state <> 'voided'
LIMIT 1;

-- name: ListOrderInvoices :many
-- The invoices that bill an order, whole or by its delivery notes.
SELECT DISTINCT i.id, i.state, i.full_number, i.kind, i.total, i.currency
FROM invoices i
WHERE i.org_id = @org_id AND (i.order_id = @order_id OR EXISTS (
    SELECT 1 FROM invoice_delivery_notes l JOIN delivery_notes n ON n.org_id = l.org_id AND n.id = l.delivery_note_id
    WHERE l.org_id = i.org_id AND l.invoice_id = i.id AND n.order_id = @order_id))
ORDER BY i.id;

-- name: ListOrderUninvoicedNotes :many
-- An order's delivery notes no invoice bills yet, for choosing which to bill.
SELECT n.id, n.number, n.delivered_on FROM delivery_notes n
WHERE n.org_id = @org_id AND n.order_id = @order_id
  AND NOT EXISTS (SELECT 1 FROM invoice_delivery_notes l WHERE l.org_id = n.org_id AND l.delivery_note_id = n.id AND l.released_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = n.org_id AND i.order_id = n.order_id AND i.order_whole AND i.state <> 'voided')
ORDER BY n.delivered_on, n.id;
