-- When an issued invoice falls due, and who recorded each payment.
--
--   - invoices.due_date is fixed at issue (app/invoices.Issue): the issue
--     date plus the customer's payment_terms_days (0 for invoices that name
--     no recipient, F2 and R5). Proformas have none: they are never owed.
--     It is set while the row is still a draft (Issue's UPDATE sees OLD.state
--     = 'draft'), so the invoices_frozen trigger of 0034 lets it through and
--     keeps it frozen afterwards like every other column.
--   - "Overdue" is derived, never stored: issued, not voided, due_date before
--     today in the org's zone, and allocations short of the total. So is
--     "paid" (allocations reach the total): a payment is an
--     invoice_allocations row (0009), never a change to the frozen invoice.

-- +goose Up
ALTER TABLE invoices
    ADD COLUMN due_date date,
    ADD CONSTRAINT invoices_due_date CHECK (due_date IS NULL OR (issue_date IS NOT NULL AND due_date >= issue_date));

-- Invoices issued before 0036, with the terms their customer has now (the
-- best there is). Issued rows are frozen by invoices_frozen, which would
-- refuse this one-time backfill of a column they never had: the trigger is
-- off for this statement only, inside the migration's transaction.
ALTER TABLE invoices DISABLE TRIGGER invoices_frozen;
UPDATE invoices i SET due_date = i.issue_date + CASE
        WHEN i.fiscal_type IN ('F2', 'R5') OR i.customer_id IS NULL THEN 0
        ELSE COALESCE((SELECT c.payment_terms_days FROM customers c WHERE c.org_id = i.org_id AND c.id = i.customer_id), 0) END
WHERE i.state <> 'draft' AND i.kind <> 'proforma' AND i.issue_date IS NOT NULL;
ALTER TABLE invoices ENABLE TRIGGER invoices_frozen;

ALTER TABLE invoices ADD CONSTRAINT invoices_due_when_issued
    CHECK (state = 'draft' OR kind = 'proforma' OR due_date IS NOT NULL);

-- A payment names who recorded it; older rows (demo, seeds) have no one.
ALTER TABLE invoice_allocations
    ADD COLUMN created_by bigint,
    ADD FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id);

-- The list's filters by state and by customer page by id like the list
-- itself (invoices_list_idx); these keep those pages index-backed.
CREATE INDEX invoices_state_list_idx ON invoices (org_id, state, id DESC);
CREATE INDEX invoices_customer_list_idx ON invoices (org_id, customer_id, id DESC) WHERE customer_id IS NOT NULL;

-- +goose Down
DROP INDEX invoices_customer_list_idx;
DROP INDEX invoices_state_list_idx;
ALTER TABLE invoice_allocations DROP COLUMN created_by;
ALTER TABLE invoices DROP CONSTRAINT invoices_due_when_issued;
ALTER TABLE invoices DISABLE TRIGGER invoices_frozen;
ALTER TABLE invoices DROP COLUMN due_date;
ALTER TABLE invoices ENABLE TRIGGER invoices_frozen;
