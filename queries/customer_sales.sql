-- name: ListCustomerSales :many
-- The customer 360's Ventas tab: every invoice of the customer, issued,
-- voided, draft or proforma (the page sorts them into sections), with the
-- invoices a corrective corrects and its saldo utilizado (payments and
-- credits applied, summed from the allocations).
SELECT i.id, i.kind, i.state, coalesce(i.full_number, '')::text AS full_number, i.issue_date, i.created_at, i.total,
       COALESCE((SELECT string_agg(ci.full_number, ', ' ORDER BY ci.issue_date, ci.id)
                 FROM invoice_corrections c JOIN invoices ci ON ci.org_id = c.org_id AND ci.id = c.corrected_id
                 WHERE c.org_id = i.org_id AND c.invoice_id = i.id), '')::text AS corrects,
       COALESCE((SELECT sum(a.amount) FROM invoice_allocations a
                 WHERE a.org_id = i.org_id AND a.invoice_id = i.id), 0)::bigint AS used
FROM invoices i
WHERE i.org_id = @org_id AND i.customer_id = @customer_id
ORDER BY i.issue_date DESC NULLS FIRST, i.id DESC
LIMIT 200;

-- name: CustomerBalance :one
-- What the customer was invoiced (issued invoices, correctives with their
-- sign; voided ones and proformas bill nothing) and how much of it is
-- settled (allocations on those invoices), over every invoice, not only
-- the ones the tab lists.
SELECT COALESCE(sum(i.total), 0)::bigint AS invoiced,
       COALESCE(sum((SELECT sum(a.amount) FROM invoice_allocations a
                      WHERE a.org_id = i.org_id AND a.invoice_id = i.id)), 0)::bigint AS used
FROM invoices i
WHERE i.org_id = @org_id AND i.customer_id = @customer_id AND i.state = 'issued' AND i.kind <> 'proforma';

-- name: ListCustomerOrders :many
-- Purchase history: the customer's orders, newest first.
SELECT id, number, created_at, total, currency FROM orders
WHERE org_id = @org_id AND customer_id = @customer_id
ORDER BY id DESC LIMIT 50;

-- name: ListCustomerQuotes :many
-- Purchase history: the customer's quotes once sent (a draft offered
-- nothing yet), with their current version's total.
SELECT q.id, coalesce(q.number, '')::text AS number, q.status, q.created_at, v.total, v.currency
FROM quotes q
JOIN quote_versions v ON v.org_id = q.org_id AND v.quote_id = q.id AND v.n = q.current_version
WHERE q.org_id = @org_id AND q.customer_id = @customer_id AND q.number IS NOT NULL
ORDER BY q.id DESC LIMIT 50;

-- name: ListOpportunityInvoices :many
-- The deal page's invoices: those that bill the deal's quotes through
-- their orders (the order itself, or delivery notes of it, a summary
-- included), and the correctives of any of them; drafts and proformas
-- too, marked by state and kind. Each step walks an index (orders by
-- quote, invoices_order_idx, delivery_notes_order_idx,
-- invoice_delivery_notes' PK, invoice_corrections_corrected_idx).
WITH deal_orders AS (
    SELECT o.id FROM orders o JOIN quotes q ON q.org_id = o.org_id AND q.id = o.quote_id
    WHERE q.org_id = @org_id AND q.opportunity_id = @opportunity_id
), billed AS (
    SELECT i.id FROM invoices i WHERE i.org_id = @org_id AND i.order_id IN (SELECT id FROM deal_orders)
    UNION
    SELECT x.invoice_id FROM invoice_delivery_notes x
    JOIN delivery_notes d ON d.org_id = x.org_id AND d.id = x.delivery_note_id
    WHERE x.org_id = @org_id AND d.order_id IN (SELECT id FROM deal_orders)
), deal_invoices AS (
    SELECT id FROM billed
    UNION
    SELECT c.invoice_id FROM invoice_corrections c WHERE c.org_id = @org_id AND c.corrected_id IN (SELECT id FROM billed)
)
SELECT i.id, i.kind, i.state, coalesce(i.full_number, '')::text AS full_number, i.issue_date, i.total, i.currency
FROM invoices i
WHERE i.org_id = @org_id AND i.id IN (SELECT id FROM deal_invoices)
ORDER BY i.id DESC
LIMIT 100;
