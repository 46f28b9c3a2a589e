-- name: CreateCustomer :one
INSERT INTO customers (org_id, legal_name, trade_name, tax_id, country, email, phone, iban,
                       sepa_mandate_ref, sepa_mandate_date, payment_terms_days, owner_id, tags, notes, created_by,
                       tax_regime, exempt_cause, irpf_rate)
VALUES (@org_id, @legal_name, @trade_name, @tax_id, @country, @email, @phone, @iban,
        @sepa_mandate_ref, sqlc.narg('sepa_mandate_date'), @payment_terms_days, sqlc.narg('owner_id'), @tags, @notes,
        sqlc.narg('created_by'), coalesce(sqlc.narg('tax_regime')::text, 'general'), coalesce(sqlc.narg('exempt_cause')::text, ''),
        coalesce(sqlc.narg('irpf_rate')::numeric, 0))
RETURNING *;

-- name: GetCustomer :one
SELECT * FROM customers WHERE org_id = @org_id AND id = @id;

-- name: GetCustomerByTaxID :one
SELECT * FROM customers WHERE org_id = @org_id AND tax_id = @tax_id AND tax_id <> '';

-- name: UpdateCustomer :one
-- Matches only the version the editor loaded: no row back means someone
-- else saved first.
UPDATE customers SET
    legal_name = @legal_name, trade_name = @trade_name, tax_id = @tax_id, country = @country,
    email = @email, phone = @phone, iban = @iban, sepa_mandate_ref = @sepa_mandate_ref,
    sepa_mandate_date = sqlc.narg('sepa_mandate_date'), payment_terms_days = @payment_terms_days,
    owner_id = sqlc.narg('owner_id'), tags = @tags, notes = @notes,
    tax_regime = @tax_regime, exempt_cause = @exempt_cause, irpf_rate = @irpf_rate,
    updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version
RETURNING *;

-- name: TouchCustomer :exec
-- A change to a customer's contacts is a change to the customer: editors
-- holding an older version must reload.
UPDATE customers SET updated_at = now(), version = version + 1 WHERE org_id = @org_id AND id = @id;

-- name: ListCustomers :many
-- One keyset page, newest first; the export walks the same query page by
-- page. owner_scope limits reps and managers to the customers they may see.
SELECT sqlc.embed(c), COALESCE(u.name, '')::text AS owner_name
FROM customers c
LEFT JOIN users u ON u.org_id = c.org_id AND u.id = c.owner_id
WHERE c.org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR c.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('owner_id')::bigint IS NULL OR c.owner_id = sqlc.narg('owner_id'))
  AND (sqlc.narg('tag')::text IS NULL OR c.tags @> ARRAY[sqlc.narg('tag')::text])
  AND (sqlc.narg('country')::text IS NULL OR c.country = sqlc.narg('country'))
  AND (sqlc.narg('search')::text IS NULL OR c.search LIKE sqlc.narg('search'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR c.id < sqlc.narg('before_id'))
ORDER BY c.id DESC
LIMIT @page_size;

-- name: UpsertCustomerAddress :exec
INSERT INTO customer_addresses (org_id, customer_id, kind, street, postal_code, city, province, country)
VALUES (@org_id, @customer_id, @kind, @street, @postal_code, @city, @province, @country)
ON CONFLICT (org_id, customer_id, kind) DO UPDATE SET
    street = EXCLUDED.street, postal_code = EXCLUDED.postal_code, city = EXCLUDED.city,
    province = EXCLUDED.province, country = EXCLUDED.country;

-- name: DeleteCustomerAddress :exec
DELETE FROM customer_addresses WHERE org_id = @org_id AND customer_id = @customer_id AND kind = @kind;

-- name: ListCustomerAddresses :many
SELECT * FROM customer_addresses WHERE org_id = @org_id AND customer_id = @customer_id ORDER BY kind;

-- name: ListCustomerContacts :many
SELECT * FROM customer_contacts WHERE org_id = @org_id AND customer_id = @customer_id
ORDER BY is_primary DESC, id;

-- name: GetCustomerContact :one
SELECT * FROM customer_contacts WHERE org_id = @org_id AND customer_id = @customer_id AND id = @id;

-- name: CreateCustomerContact :one
INSERT INTO customer_contacts (org_id, customer_id, name, job_title, email, phone, is_primary)
VALUES (@org_id, @customer_id, @name, @job_title, @email, @phone, @is_primary)
RETURNING *;

-- name: UpdateCustomerContact :one
UPDATE customer_contacts SET name = @name, job_title = @job_title, email = @email, phone = @phone, is_primary = @is_primary
WHERE org_id = @org_id AND customer_id = @customer_id AND id = @id
RETURNING *;

-- name: DeleteCustomerContact :exec
DELETE FROM customer_contacts WHERE org_id = @org_id AND customer_id = @customer_id AND id = @id;

-- name: ClearPrimaryContact :exec
-- Before another contact becomes the primary one (one per customer).
UPDATE customer_contacts SET is_primary = false
WHERE org_id = @org_id AND customer_id = @customer_id AND is_primary;

-- name: CreateOpportunity :one
INSERT INTO opportunities (org_id, customer_id, title, amount, stage, owner_id, source_lead_id, created_by)
VALUES (@org_id, @customer_id, @title, @amount, @stage, sqlc.narg('owner_id'), sqlc.narg('source_lead_id'), sqlc.narg('created_by'))
RETURNING *;

-- name: ListCustomerOpportunities :many
SELECT * FROM opportunities WHERE org_id = @org_id AND customer_id = @customer_id AND deleted_at IS NULL
ORDER BY id DESC
LIMIT 200;

-- name: InsertActivity :one
INSERT INTO activities (org_id, lead_id, customer_id, opportunity_id, actor_id, kind, summary, data)
VALUES (@org_id, sqlc.narg('lead_id'), sqlc.narg('customer_id'), sqlc.narg('opportunity_id'), sqlc.narg('actor_id'),
        @kind, @summary, @data)
RETURNING id;

-- name: ListCustomerActivities :many
-- The customer's timeline, newest first: its own entries and those of its
-- opportunities and of the leads it was converted from.
SELECT a.*, COALESCE(u.name, '')::text AS actor_name
FROM activities a
LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.actor_id
WHERE a.org_id = @org_id
  AND (a.customer_id = @customer_id::bigint
    OR a.opportunity_id IN (SELECT o.id FROM opportunities o WHERE o.org_id = @org_id AND o.customer_id = @customer_id)
    OR a.lead_id IN (SELECT l.id FROM leads l WHERE l.org_id = @org_id AND l.customer_id = @customer_id))
ORDER BY a.id DESC
LIMIT 200;

-- name: ListLeadActivities :many
SELECT a.*, COALESCE(u.name, '')::text AS actor_name
FROM activities a
LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.actor_id
WHERE a.org_id = @org_id AND a.lead_id = @lead_id
ORDER BY a.id DESC
LIMIT 200;

-- name: SeedInvoiceAllocation :one
-- Demo data and tests only, until payments are recorded.
INSERT INTO invoice_allocations (org_id, invoice_id, amount, kind)
VALUES (@org_id, @invoice_id, @amount, @kind)
RETURNING *;

-- name: LockLeadForConversion :one
-- Two conversions of one lead queue here; the second sees it converted.
SELECT * FROM leads WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: MarkLeadConverted :one
UPDATE leads SET status = 'convertido', customer_id = @customer_id, opportunity_id = sqlc.narg('opportunity_id'),
    discard_reason = '', updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: OrgHasCustomers :one
SELECT EXISTS (SELECT 1 FROM customers WHERE org_id = @org_id);

-- name: SetCustomerTax :exec
-- A customer's tax regime alone (the demo gives a few quotes' customers one).
UPDATE customers SET tax_regime = @tax_regime, exempt_cause = @exempt_cause, irpf_rate = @irpf_rate,
    updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id;
