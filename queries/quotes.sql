-- name: CreateQuote :one
INSERT INTO quotes (org_id, customer_id, contact_id, opportunity_id, owner_id, created_by)
VALUES (@org_id, @customer_id, sqlc.narg('contact_id'), sqlc.narg('opportunity_id'), @owner_id, @created_by)
RETURNING *;

-- name: CreateQuoteVersion :one
INSERT INTO quote_versions (org_id, quote_id, n, valid_until, terms, currency, recargo, irpf_rate)
VALUES (@org_id, @quote_id, @n, @valid_until, @terms, @currency, coalesce(sqlc.narg('recargo')::boolean, false),
        coalesce(sqlc.narg('irpf_rate')::numeric, 0))
RETURNING *;

-- name: GetQuote :one
-- The quote with the names its pages show.
SELECT q.*, c.legal_name AS customer_name, c.tax_id AS customer_tax_id, c.email AS customer_email,
       c.country AS customer_country, c.tax_regime AS customer_tax_regime, c.exempt_cause AS customer_exempt_cause,
       c.irpf_rate AS customer_irpf_rate,
       coalesce(ct.name, '')::text AS contact_name, coalesce(ct.email, '')::text AS contact_email,
       coalesce(o.title, '')::text AS opportunity_title, o.stage AS opportunity_stage, o.owner_id AS opportunity_owner_id,
       u.name AS owner_name, u.manager_id AS owner_manager_id
FROM quotes q
JOIN customers c ON c.org_id = q.org_id AND c.id = q.customer_id
JOIN users u ON u.org_id = q.org_id AND u.id = q.owner_id
LEFT JOIN customer_contacts ct ON ct.org_id = q.org_id AND ct.id = q.contact_id
LEFT JOIN opportunities o ON o.org_id = q.org_id AND o.id = q.opportunity_id AND o.deleted_at IS NULL
WHERE q.org_id = @org_id AND q.id = @id;

-- name: ListQuotes :many
-- One keyset page, newest first. "expired" is a sent quote past the
-- validity of its latest sent version.
SELECT q.id, q.number, q.status, q.current_version, q.first_opened_at, q.owner_id,
       c.legal_name AS customer_name, u.name AS owner_name, v.total, v.currency, v.valid_until,
       (q.status = 'sent' AND v.valid_until < @today::date)::boolean AS expired
FROM quotes q
JOIN customers c ON c.org_id = q.org_id AND c.id = q.customer_id
JOIN users u ON u.org_id = q.org_id AND u.id = q.owner_id
JOIN quote_versions v ON v.org_id = q.org_id AND v.quote_id = q.id AND v.n = q.current_version
WHERE q.org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR q.owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('status')::text IS NULL
       OR (sqlc.narg('status') = 'expired' AND q.status = 'sent' AND v.valid_until < @today::date)
       OR (sqlc.narg('status') = 'sent' AND q.status = 'sent' AND v.valid_until >= @today::date)
       OR (sqlc.narg('status') NOT IN ('expired', 'sent') AND q.status = sqlc.narg('status')))
  AND (sqlc.narg('customer_id')::bigint IS NULL OR q.customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('opportunity_id')::bigint IS NULL OR q.opportunity_id = sqlc.narg('opportunity_id'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR q.id < sqlc.narg('before_id'))
ORDER BY q.id DESC
LIMIT @page_size;

-- name: UpdateQuoteHeader :one
-- Step 1 of the editor; matches only the revision the editor saw.
UPDATE quotes SET customer_id = @customer_id, contact_id = sqlc.narg('contact_id'),
    opportunity_id = sqlc.narg('opportunity_id'), updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND revision = @revision
RETURNING *;

-- name: TouchQuote :one
-- A change to the draft's lines or terms bumps the revision, so two
-- editors of one draft cannot silently overwrite each other.
UPDATE quotes SET updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND revision = @revision
RETURNING *;

-- name: DeleteDraftQuote :one
DELETE FROM quotes WHERE org_id = @org_id AND id = @id AND status = 'draft' AND revision = @revision
RETURNING id;

-- name: GetQuoteVersion :one
SELECT * FROM quote_versions WHERE org_id = @org_id AND quote_id = @quote_id AND n = @n;

-- name: GetDraftVersion :one
SELECT * FROM quote_versions WHERE org_id = @org_id AND quote_id = @quote_id AND status = 'draft';

-- name: ListQuoteVersions :many
SELECT n, status, valid_until, total, currency, sent_at, pdf_sha256 FROM quote_versions
WHERE org_id = @org_id AND quote_id = @quote_id ORDER BY n DESC;

-- name: UpdateDraftVersion :one
UPDATE quote_versions SET valid_until = @valid_until, terms = @terms, recargo = @recargo, irpf_rate = @irpf_rate, base = @base, tax = @tax,
    surcharge = @surcharge, withheld = @withheld, total = @total
WHERE org_id = @org_id AND quote_id = @quote_id AND n = @n AND status = 'draft'
RETURNING *;

-- name: ListQuoteLines :many
SELECT * FROM quote_lines WHERE org_id = @org_id AND quote_id = @quote_id AND version_n = @version_n
ORDER BY position;

-- name: DeleteQuoteLines :exec
DELETE FROM quote_lines WHERE org_id = @org_id AND quote_id = @quote_id AND version_n = @version_n;

-- name: InsertQuoteLine :exec
INSERT INTO quote_lines (org_id, quote_id, version_n, position, product_id, description, unit, quantity,
                         unit_price, discount_pct, tax_rate_id, tax_rate, surcharge, withholding, amount)
VALUES (@org_id, @quote_id, @version_n, @position, sqlc.narg('product_id'), @description, @unit, @quantity,
        @unit_price, @discount_pct, @tax_rate_id, @tax_rate, @surcharge, @withholding, @amount);

-- name: OpenNextVersion :one
-- Editing a sent quote: the next version starts as a copy of the latest,
-- as a draft, with a validity no earlier than today's.
INSERT INTO quote_versions (org_id, quote_id, n, valid_until, terms, currency, recargo, irpf_rate, base, tax, surcharge, withheld, total)
SELECT v.org_id, v.quote_id, v.n + 1, greatest(v.valid_until, @min_valid_until::date), v.terms, v.currency, v.recargo, v.irpf_rate,
       v.base, v.tax, v.surcharge, v.withheld, v.total
FROM quote_versions v
WHERE v.org_id = @org_id AND v.quote_id = @quote_id
  AND v.n = (SELECT max(n) FROM quote_versions x WHERE x.org_id = @org_id AND x.quote_id = @quote_id)
RETURNING *;

-- name: CopyQuoteLines :exec
INSERT INTO quote_lines (org_id, quote_id, version_n, position, product_id, description, unit, quantity,
                         unit_price, discount_pct, tax_rate_id, tax_rate, surcharge, withholding, amount)
SELECT l.org_id, l.quote_id, @to_n::integer, l.position, l.product_id, l.description, l.unit, l.quantity,
       l.unit_price, l.discount_pct, l.tax_rate_id, l.tax_rate, l.surcharge, l.withholding, l.amount
FROM quote_lines l WHERE l.org_id = @org_id AND l.quote_id = @quote_id AND l.version_n = @from_n;

-- name: SetQuoteCurrentVersion :one
UPDATE quotes SET current_version = @current_version, updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND revision = @revision
RETURNING *;

-- name: FreezeVersion :one
-- Sending: the draft becomes the sent version with its parties, totals and
-- the exact PDF; from here the triggers of migration 0024 keep it as is.
UPDATE quote_versions SET status = 'sent', parties = @parties, sent_at = @sent_at, sent_by = @sent_by,
    pdf = @pdf, pdf_sha256 = @pdf_sha256
WHERE org_id = @org_id AND quote_id = @quote_id AND n = @n AND status = 'draft'
RETURNING *;

-- name: SupersedeVersions :exec
UPDATE quote_versions SET status = 'superseded'
WHERE org_id = @org_id AND quote_id = @quote_id AND status = 'sent' AND n < @n;

-- name: MarkQuoteSent :one
UPDATE quotes SET status = 'sent', number = coalesce(number, sqlc.narg('number')), current_version = @n,
    updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND revision = @revision AND status IN ('draft', 'sent')
RETURNING *;

-- name: CreateQuoteLink :one
INSERT INTO quote_links (org_id, quote_id, version_n, token_hash, token_nonce, expires_at)
VALUES (@org_id, @quote_id, @version_n, @token_hash, @token_nonce, @expires_at)
RETURNING *;

-- name: GetQuoteLink :one
SELECT * FROM quote_links WHERE org_id = @org_id AND quote_id = @quote_id AND version_n = @version_n;

-- name: RevokeQuoteLinks :many
-- Withdraws every link of the quote: an older version's link would
-- otherwise still lead to it.
UPDATE quote_links SET revoked_at = now(), revoked_by = @revoked_by
WHERE org_id = @org_id AND quote_id = @quote_id AND revoked_at IS NULL
RETURNING *;

-- name: FindQuoteLink :one
-- The client's way in: by the digest of the token only.
SELECT l.*, q.status AS quote_status, q.current_version, v.status AS version_status
FROM quote_links l
JOIN quotes q ON q.org_id = l.org_id AND q.id = l.quote_id
JOIN quote_versions v ON v.org_id = l.org_id AND v.quote_id = l.quote_id AND v.n = l.version_n
WHERE l.token_hash = @token_hash;

-- name: LatestLink :one
-- The link of the quote's latest sent version (an outdated link points to it).
SELECT l.* FROM quote_links l
WHERE l.org_id = @org_id AND l.quote_id = @quote_id AND l.revoked_at IS NULL
ORDER BY l.version_n DESC LIMIT 1;

-- name: InsertQuoteEvent :one
INSERT INTO quote_events (org_id, quote_id, version_n, kind, user_id, ip, user_agent, signer_name,
                          signature_png, document_sha256, reason)
VALUES (@org_id, @quote_id, @version_n, @kind, sqlc.narg('user_id'), sqlc.narg('ip'), @user_agent, @signer_name,
        sqlc.narg('signature_png'), @document_sha256, @reason)
ON CONFLICT (org_id, quote_id, version_n) WHERE kind IN ('signed', 'rejected') DO NOTHING
RETURNING *;

-- name: InsertQuoteOpen :execrows
-- A visit to the client's link is recorded once per link (version), client
-- address and hour: a client reloading the page is one visit, and reloads
-- cannot flood the audit trail. Run after RecordQuoteOpen in the same
-- transaction: its row lock on the quote makes concurrent opens take turns,
-- so this check sees the open committed just before.
INSERT INTO quote_events (org_id, quote_id, version_n, kind, ip, user_agent)
SELECT @org_id::bigint, @quote_id::bigint, @version_n::integer, 'opened', sqlc.narg('ip')::inet, @user_agent::text
WHERE NOT EXISTS (
    SELECT 1 FROM quote_events e
    WHERE e.org_id = @org_id AND e.quote_id = @quote_id AND e.version_n = @version_n AND e.kind = 'opened'
      AND e.ip IS NOT DISTINCT FROM sqlc.narg('ip')::inet AND e.at > now() - interval '1 hour');

-- name: ListQuoteEvents :many
SELECT e.id, e.version_n, e.kind, e.at, e.ip, e.user_agent, e.signer_name, e.document_sha256, e.reason,
       coalesce(u.name, '')::text AS user_name
FROM quote_events e
LEFT JOIN users u ON u.org_id = e.org_id AND u.id = e.user_id
WHERE e.org_id = @org_id AND e.quote_id = @quote_id
ORDER BY e.id DESC;

-- name: GetSignature :one
SELECT * FROM quote_events WHERE org_id = @org_id AND quote_id = @quote_id AND version_n = @version_n
  AND kind = 'signed';

-- name: RecordQuoteOpen :exec
UPDATE quotes SET first_opened_at = coalesce(first_opened_at, now()), last_opened_at = now()
WHERE org_id = @org_id AND id = @id;

-- name: AnswerVersion :one
-- The client's answer to the version they were shown, if it is still the
-- one on the table.
UPDATE quote_versions SET status = @status
WHERE org_id = @org_id AND quote_id = @quote_id AND n = @n AND status = 'sent'
RETURNING *;

-- name: AnswerQuote :one
UPDATE quotes SET status = @status, updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND current_version = @n AND status = 'sent'
RETURNING *;

-- name: QuoteProducts :many
-- The editor's catalog search: active products, best match first.
SELECT p.id, p.code, p.name, p.unit, p.price, p.tax_rate_id, t.rate AS tax_rate
FROM products p
JOIN tax_rates t ON t.id = p.tax_rate_id
WHERE p.org_id = @org_id AND p.active
  AND (sqlc.narg('search')::text IS NULL OR p.search LIKE sqlc.narg('search'))
ORDER BY p.name, p.id
LIMIT 20;

-- name: GetActiveProduct :one
SELECT p.*, t.rate AS tax_rate FROM products p JOIN tax_rates t ON t.id = p.tax_rate_id
WHERE p.org_id = @org_id AND p.id = @id AND p.active;

-- name: GetTaxRate :one
SELECT * FROM tax_rates WHERE id = @id;

-- name: GetOrgForDocuments :one
SELECT id, name, tax_id, country, currency, time_zone, logo FROM orgs WHERE id = @id;

-- name: LockOpportunity :one
-- A client's answer moves the deal whatever version the board had: lock it
-- and move from what it is now.
SELECT * FROM opportunities WHERE org_id = @org_id AND id = @id AND deleted_at IS NULL FOR UPDATE;

-- name: ReopenRejectedQuote :one
UPDATE quotes SET status = 'sent', updated_at = now(), revision = revision + 1
WHERE org_id = @org_id AND id = @id AND status = 'rejected'
RETURNING *;

-- name: DemoLiveQuoteLink :one
-- A link the demo prints at start: sent, unanswered, not expired.
-- Only links that can be shown again (made with a nonce) qualify.
SELECT l.token_nonce FROM quote_links l
JOIN quotes q ON q.org_id = l.org_id AND q.id = l.quote_id
WHERE l.org_id = @org_id AND q.status = 'sent' AND l.revoked_at IS NULL AND l.expires_at > now()
  AND l.version_n = q.current_version AND l.token_nonce IS NOT NULL
ORDER BY l.id DESC LIMIT 1;

-- name: DueUnansweredQuotes :many
-- Sent quotes still waiting for the client past an active "quote
-- unanswered" rule's days, without that rule's task yet.
SELECT q.org_id, q.id AS quote_id, v.n, q.owner_id, q.customer_id, q.opportunity_id,
       r.id AS rule_id, r.title, r.task_type, r.due_hours, r.reason_id
FROM task_rules r
JOIN quotes q ON q.org_id = r.org_id AND q.status = 'sent'
JOIN quote_versions v ON v.org_id = q.org_id AND v.quote_id = q.id AND v.n = q.current_version AND v.status = 'sent'
WHERE r.active AND r.event = 'quote_unanswered'
  AND v.sent_at + make_interval(days => r.wait_days) <= @now::timestamptz
  AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.org_id = r.org_id AND t.created_by_rule_id = r.id
                  AND t.rule_key = 'quote_unanswered:' || q.id || ':' || v.n)
ORDER BY q.org_id, q.id
LIMIT 500;
