-- name: GetOrgForInvoicing :one
SELECT id, name, tax_id, address, country, currency, time_zone, logo, simplified_activity FROM orgs WHERE id = @id;

-- name: GetInvoiceContext :one
-- What drafting and issuing read of the org and of the customer an invoice
-- bills, in one read: the issuer as GetOrgForInvoicing reads it; the
-- customer's tax treatment, what issuing freezes of it (its billing
-- address, if any) and the owner its events go to (customer_found is false
-- when no customer was named or it is not the org's); and the head of the
-- issuer's VERI*FACTU chain as it is now (not locked:
-- AppendVerifactuRecord writes after it only if it has not moved); and the
-- org's country's tax rates in force on rates_on, or when it is not given
-- on rates_at's day in the org's zone (a rate that changes at midnight in
-- Madrid changes at 23:00 UTC), as tax_rates_on lists them (JSON rows of
-- tax_rates, for tax.DecodeRates; none when neither is given).
-- They are aggregated in the function's order: PostgreSQL inlines it as a
-- sorted subquery (WITH ORDINALITY would stop the inlining and plan the
-- function again on every call); TestDecodedRatesAreRatesOn holds the order.
SELECT o.name, o.tax_id, o.address, o.country, o.currency, o.time_zone, o.logo, o.simplified_activity,
       (c.id IS NOT NULL)::boolean AS customer_found, c.legal_name AS customer_name, c.tax_id AS customer_tax_id, c.country AS customer_country,
       c.payment_terms_days, c.owner_id AS customer_owner_id, c.tax_regime, c.exempt_cause, c.irpf_rate,
       a.street, a.postal_code, a.city, a.province,
       h.last_seq AS chain_seq, h.last_num_serie AS chain_num_serie, h.last_fecha AS chain_fecha, h.last_huella AS chain_huella,
       (SELECT coalesce(json_agg(r), '[]') FROM tax_rates_on(o.country,
           coalesce(sqlc.narg('rates_on')::date, (sqlc.narg('rates_at')::timestamptz AT TIME ZONE o.time_zone)::date)) r)::json AS rates
FROM orgs o LEFT JOIN customers c ON c.org_id = o.id AND c.id = sqlc.narg('customer_id')
LEFT JOIN customer_addresses a ON a.org_id = c.org_id AND a.customer_id = c.id AND a.kind = 'billing'
LEFT JOIN verifactu_chains h ON h.org_id = o.id AND h.issuer_nif = o.tax_id
WHERE o.id = @org_id;

-- name: SetOrgInvoicing :exec
-- The issuer's address and the RD 1619/2012 art. 4.2 activity ('' none).
UPDATE orgs SET address = @address, simplified_activity = @simplified_activity WHERE id = @id;

-- name: CreateInvoiceDraft :one
-- The draft with its totals, computed from the lines about to be inserted.
INSERT INTO invoices (org_id, customer_id, kind, fiscal_type, state, series, currency, tax_treatment,
                      corrective_method, corrective_reason, period_start, period_end, notes,
                      order_id, order_whole, quote_id, quote_version, from_proforma_id, created_by,
                      base, tax, surcharge, withheld, total, prices_include_tax)
VALUES (@org_id, sqlc.narg('customer_id'), @kind, sqlc.narg('fiscal_type'), 'draft', sqlc.narg('series'), @currency, @tax_treatment,
        sqlc.narg('corrective_method'), @corrective_reason, sqlc.narg('period_start'), sqlc.narg('period_end'), @notes,
        sqlc.narg('order_id'), @order_whole, sqlc.narg('quote_id'), sqlc.narg('quote_version'), sqlc.narg('from_proforma_id'),
        sqlc.narg('created_by'), @base, @tax, @surcharge, @withheld, @total, @prices_include_tax)
RETURNING *;

-- name: InsertInvoiceLine :batchexec
-- A draft's lines, sent together: one round trip for all of them.
INSERT INTO invoice_lines (org_id, invoice_id, position, product_id, description, unit, quantity, unit_price, discount_pct,
                           tax_rate_id, tax_rate, surcharge, withholding, amount, order_id, order_position, delivery_note_id)
VALUES (@org_id, @invoice_id, @position, sqlc.narg('product_id'), @description, @unit, @quantity, @unit_price, @discount_pct,
        @tax_rate_id, @tax_rate, @surcharge, @withholding, @amount, sqlc.narg('order_id'), sqlc.narg('order_position'),
        sqlc.narg('delivery_note_id'));

-- name: InsertIssuedInvoice :one
-- An invoice drafted and issued in one transaction (DraftAndIssue), written
-- issued with its lines in one statement: one row version instead of a
-- draft's and then its issue's. The lines go first, under the id the
-- invoice is about to take: invoice_parts_frozen lets them in because
-- their invoice is not there yet, and the invoice is inserted only once
-- every line has been (it reads their count, so it waits for them). Their
-- foreign key is checked at the end of the statement, when the invoice
-- is. After it, the invoice is issued and its lines frozen as any other's.
-- Nothing comes back but what the database made.
WITH n AS (
    SELECT nextval(pg_get_serial_sequence('invoices', 'id')) AS id
), l AS (
    INSERT INTO invoice_lines (org_id, invoice_id, position, product_id, description, unit, quantity, unit_price, discount_pct,
                               tax_rate_id, tax_rate, surcharge, withholding, amount, order_id, order_position, delivery_note_id)
    SELECT @org_id, n.id, x.position, x.product_id, x.description, x.unit, x.quantity, x.unit_price, x.discount_pct,
           x.tax_rate_id, x.tax_rate, x.surcharge, x.withholding, x.amount, x.order_id, x.order_position, x.delivery_note_id
    FROM n, json_to_recordset(@lines::json) AS x(position int, product_id bigint, description text, unit text, quantity numeric,
         unit_price bigint, discount_pct numeric, tax_rate_id bigint, tax_rate numeric, surcharge numeric, withholding numeric,
         amount bigint, order_id bigint, order_position int, delivery_note_id bigint)
    RETURNING 1
)
INSERT INTO invoices (id, org_id, customer_id, kind, fiscal_type, state, series, currency, tax_treatment,
                      corrective_method, corrective_reason, period_start, period_end, notes,
                      order_id, order_whole, quote_id, quote_version, from_proforma_id, created_by,
                      base, tax, surcharge, withheld, total, prices_include_tax, channel,
                      year, number, full_number, issue_date, operation_date, parties, issued_at, issued_by,
                      pdf, pdf_sha256, due_date)
OVERRIDING SYSTEM VALUE -- the id the lines took, from the identity's own sequence
SELECT n.id, @org_id, sqlc.narg('customer_id'), @kind, sqlc.narg('fiscal_type'), 'issued', sqlc.narg('series'), @currency, @tax_treatment,
       sqlc.narg('corrective_method'), @corrective_reason, sqlc.narg('period_start'), sqlc.narg('period_end'), @notes,
       sqlc.narg('order_id'), @order_whole, sqlc.narg('quote_id'), sqlc.narg('quote_version'), sqlc.narg('from_proforma_id'), sqlc.narg('created_by'),
       @base, @tax, @surcharge, @withheld, @total, @prices_include_tax, @channel,
       sqlc.narg('year'), sqlc.narg('number'), sqlc.narg('full_number'), @issue_date, sqlc.narg('operation_date'), @parties, @issued_at, sqlc.narg('issued_by'),
       @pdf, @pdf_sha256, sqlc.narg('due_date')
FROM n WHERE (SELECT count(*) FROM l) = @line_count::bigint
RETURNING id, created_at;

-- name: ListInvoiceLines :many
SELECT * FROM invoice_lines WHERE org_id = @org_id AND invoice_id = @invoice_id ORDER BY position;

-- name: SetInvoiceLineAmount :exec
UPDATE invoice_lines SET amount = @amount WHERE org_id = @org_id AND invoice_id = @invoice_id AND position = @position;

-- name: GetInvoice :one
SELECT * FROM invoices WHERE org_id = @org_id AND id = @id;

-- name: LockInvoice :one
-- Issuing, voiding and converting an invoice hold its row: two issues of
-- one draft queue here and the second finds it issued.
SELECT * FROM invoices WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: DeleteDraftInvoice :execrows
DELETE FROM invoices WHERE org_id = @org_id AND id = @id AND state = 'draft';

-- name: IssueInvoice :execrows
-- Issuing holds the row as it writes it; the PDF does not come back.
UPDATE invoices SET state = 'issued', year = sqlc.narg('year'), number = sqlc.narg('number'), full_number = sqlc.narg('full_number'),
    issue_date = @issue_date, operation_date = sqlc.narg('operation_date'), parties = @parties,
    base = @base, tax = @tax, surcharge = @surcharge, withheld = @withheld, total = @total,
    issued_at = @issued_at, issued_by = sqlc.narg('issued_by'), pdf = @pdf, pdf_sha256 = @pdf_sha256,
    due_date = sqlc.narg('due_date')
WHERE org_id = @org_id AND id = @id AND state = 'draft';

-- name: VoidInvoice :one
UPDATE invoices SET state = 'voided', voided_at = @voided_at, voided_by = sqlc.narg('voided_by'), void_reason = @void_reason
WHERE org_id = @org_id AND id = @id AND state = 'issued'
RETURNING *;

-- name: InsertInvoiceCorrection :exec
INSERT INTO invoice_corrections (org_id, invoice_id, corrected_id) VALUES (@org_id, @invoice_id, @corrected_id);

-- name: ListCorrectedInvoices :many
-- The invoices a corrective corrects (or an F3 replaces), oldest first.
SELECT i.* FROM invoice_corrections c
JOIN invoices i ON i.org_id = c.org_id AND i.id = c.corrected_id
WHERE c.org_id = @org_id AND c.invoice_id = @invoice_id
ORDER BY i.issue_date, i.id;

-- name: IssuedCorrectionsOf :one
-- How many issued (not voided) invoices correct or replace this one.
SELECT count(*) FROM invoice_corrections c
JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id
WHERE c.org_id = @org_id AND c.corrected_id = @corrected_id AND i.state = 'issued';

-- name: LinkDeliveryNote :exec
INSERT INTO invoice_delivery_notes (org_id, invoice_id, delivery_note_id) VALUES (@org_id, @invoice_id, @delivery_note_id);

-- name: ReleaseDeliveryNotes :exec
UPDATE invoice_delivery_notes SET released_at = @released_at
WHERE org_id = @org_id AND invoice_id = @invoice_id AND released_at IS NULL;

-- name: ListInvoiceDeliveryNotes :many
SELECT n.* FROM invoice_delivery_notes l
JOIN delivery_notes n ON n.org_id = l.org_id AND n.id = l.delivery_note_id
WHERE l.org_id = @org_id AND l.invoice_id = @invoice_id
ORDER BY n.delivered_on, n.id;

-- name: LockOrdersForInvoicing :many
-- Every way of invoicing an order's goods holds the order's row first (in
-- id order, so two invoicers never wait on each other crosswise): whether
-- the whole order or a delivery note is still to invoice is then read
-- without a race.
SELECT id FROM orders WHERE org_id = @org_id AND id = ANY (@ids::bigint[]) ORDER BY id FOR UPDATE;

-- name: OrderInvoicing :one
-- Whether an order is invoiced whole, and how many of its delivery notes
-- are on an invoice (drafts included: a draft holds what it bills).
SELECT
    EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = o.org_id AND i.order_id = o.id AND i.order_whole AND i.state <> 'voided')::boolean AS whole,
    (SELECT count(*) FROM invoice_delivery_notes l JOIN delivery_notes n ON n.org_id = l.org_id AND n.id = l.delivery_note_id
     WHERE n.org_id = o.org_id AND n.order_id = o.id AND l.released_at IS NULL)::bigint AS notes_invoiced
FROM orders o WHERE o.org_id = @org_id AND o.id = @id;

-- name: DeliveryNotesForInvoicing :many
-- The notes asked for with what invoicing needs to know of each.
SELECT n.id, n.number, n.order_id, n.delivered_on, o.customer_id, o.quote_id, o.quote_version,
    EXISTS (SELECT 1 FROM invoice_delivery_notes l WHERE l.org_id = n.org_id AND l.delivery_note_id = n.id AND l.released_at IS NULL)::boolean AS invoiced,
    EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = o.org_id AND i.order_id = o.id AND i.order_whole AND i.state <> 'voided')::boolean AS order_whole
FROM delivery_notes n
JOIN orders o ON o.org_id = n.org_id AND o.id = n.order_id
WHERE n.org_id = @org_id AND n.id = ANY (@ids::bigint[])
ORDER BY n.delivered_on, n.id;

-- name: UninvoicedDeliveryNotes :many
-- A customer's delivery notes in a period (or one order's, any date) that no
-- invoice bills yet, oldest first.
SELECT n.id FROM delivery_notes n
JOIN orders o ON o.org_id = n.org_id AND o.id = n.order_id
WHERE n.org_id = @org_id
  AND (sqlc.narg('customer_id')::bigint IS NULL OR o.customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('order_id')::bigint IS NULL OR o.id = sqlc.narg('order_id'))
  AND (sqlc.narg('from_day')::date IS NULL OR n.delivered_on >= sqlc.narg('from_day'))
  AND (sqlc.narg('to_day')::date IS NULL OR n.delivered_on <= sqlc.narg('to_day'))
  AND NOT EXISTS (SELECT 1 FROM invoice_delivery_notes l WHERE l.org_id = n.org_id AND l.delivery_note_id = n.id AND l.released_at IS NULL)
  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = o.org_id AND i.order_id = o.id AND i.order_whole AND i.state <> 'voided')
ORDER BY n.delivered_on, n.id;

-- name: DeliveredLinesForInvoicing :many
-- What the notes delivered, each at its order line's price and tax.
SELECT d.delivery_note_id, n.number AS note_number, l.order_id, l.position AS order_position, l.product_id, l.description, l.unit,
       d.quantity, l.unit_price, l.discount_pct, l.tax_rate_id, l.tax_rate, l.surcharge, l.withholding
FROM delivery_note_lines d
JOIN delivery_notes n ON n.org_id = d.org_id AND n.id = d.delivery_note_id
JOIN order_lines l ON l.org_id = d.org_id AND l.order_id = d.order_id AND l.position = d.order_position
WHERE d.org_id = @org_id AND d.delivery_note_id = ANY (@ids::bigint[])
ORDER BY n.delivered_on, n.id, l.position;

-- name: ListOrderDeliveryNoteIDs :many
SELECT id FROM delivery_notes WHERE org_id = @org_id AND order_id = @order_id ORDER BY id;

-- name: CustomerOwner :one
-- Who a customer's invoices concern (their live events' subject).
SELECT owner_id FROM customers WHERE org_id = @org_id AND id = @id;

-- name: DemoBillingSeeded :one
-- Whether the demo's billing is there: its simplified ticket in Spain, any
-- invoice elsewhere.
SELECT EXISTS (SELECT 1 FROM invoices WHERE org_id = @org_id AND (kind = 'simplified' OR @any_kind::boolean));

-- name: IssuedSuccessorsOf :one
-- What issued invoices name this simplified one: complete invoices (F3)
-- that replace it, and rectificativas (R5) that correct it. A ticket is
-- exchanged once, and either exchanged or corrected as a ticket.
SELECT count(*) FILTER (WHERE i.fiscal_type = 'F3') AS replaced, count(*) FILTER (WHERE i.fiscal_type = 'R5') AS corrected
FROM invoice_corrections c
JOIN invoices i ON i.org_id = c.org_id AND i.id = c.invoice_id
WHERE c.org_id = @org_id AND c.corrected_id = @corrected_id AND i.state = 'issued';

-- name: UpdateOrgFiscal :exec
-- The admin's Datos fiscales: the tax id, address and art. 4.2 activity
-- issued invoices carry from now on (issued ones keep what they froze).
UPDATE orgs SET tax_id = @tax_id, address = @address, simplified_activity = @simplified_activity WHERE id = @id;
