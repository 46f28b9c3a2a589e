-- name: ListBookInvoices :many
-- The invoices of a libro registro de facturas expedidas: every numbered
-- invoice (issued, or issued and then voided) dated in [from_date, to_date],
-- in date order as the book is kept (RIVA art. 62), then by series and
-- number. Proformas and drafts have no number and never appear. The PDF is
-- left out: a quarter may hold thousands of invoices.
SELECT id, kind, fiscal_type, state, series, year, number, full_number, issue_date, operation_date,
       corrective_method, parties, base, tax, surcharge, withheld, total
FROM invoices
WHERE org_id = @org_id AND number IS NOT NULL AND issue_date BETWEEN @from_date AND @to_date
ORDER BY issue_date, series, year, number;

-- name: ListBookInvoiceLines :many
-- The lines of a batch of invoices of the book, whose totals by rate are
-- recomputed exactly as issuing computed them.
SELECT * FROM invoice_lines WHERE org_id = @org_id AND invoice_id = ANY(@invoice_ids::bigint[])
ORDER BY invoice_id, position;
