-- name: CreateImport :one
INSERT INTO imports (org_id, kind, filename, file_id, size_bytes, format, charset, mapping, created_by)
VALUES (@org_id, @kind, @filename, @file_id, @size_bytes, @format, @charset, @mapping, @created_by)
RETURNING *;

-- name: GetImport :one
SELECT * FROM imports WHERE org_id = @org_id AND id = @id;

-- name: ListImports :many
SELECT * FROM imports WHERE org_id = @org_id ORDER BY id DESC LIMIT 20;

-- name: QueueImport :one
-- Only a draft starts, so a double submit enqueues one job.
UPDATE imports SET status = 'queued', mapping = @mapping, charset = @charset
WHERE org_id = @org_id AND id = @id AND status = 'draft'
RETURNING *;

-- name: StartImport :one
-- A retry finds the import running and starts it over; done and failed
-- imports are final.
UPDATE imports SET status = 'running', progress = 0, rows_read = 0
WHERE org_id = @org_id AND id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: SetImportProgress :exec
UPDATE imports SET progress = @progress, rows_read = @rows_read
WHERE org_id = @org_id AND id = @id AND status = 'running';

-- name: FailImport :exec
UPDATE imports SET status = 'failed', failure = @failure, failure_line = @failure_line, finished_at = now()
WHERE org_id = @org_id AND id = @id AND status IN ('queued', 'running');

-- name: FinishImport :execrows
UPDATE imports SET status = 'done', progress = 100, inserted = @inserted, merged = @merged, skipped = @skipped,
    errors = @errors, error_file_id = sqlc.narg('error_file_id'), finished_at = now()
WHERE org_id = @org_id AND id = @id AND status = 'running';

-- name: ClearImportRows :exec
DELETE FROM import_rows WHERE org_id = @org_id AND import_id = @import_id;

-- name: StageImportRows :copyfrom
INSERT INTO import_rows (org_id, import_id, line, name, contact_name, email, phone, tax_id, country, province, city,
    tags, notes, owner_email, custom_email, billing_initial, billing_recommended, billing_final, code, unit, group_name,
    price, rate, error_column, error_id)
VALUES (@org_id, @import_id, @line, @name, @contact_name, @email, @phone, @tax_id, @country, @province, @city,
    @tags, @notes, @owner_email, @custom_email, @billing_initial, @billing_recommended, @billing_final, @code, @unit, @group_name,
    @price, @rate, @error_column, @error_id);

-- name: ResolveImportOwners :exec
-- Owner e-mails name active users who may hold leads.
UPDATE import_rows r SET owner_id = u.id
FROM users u
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.owner_email <> '' AND r.error_id = ''
  AND u.org_id = r.org_id AND lower(u.email) = r.owner_email AND u.active AND u.role IN ('rep', 'manager', 'admin');

-- name: FlagUnknownImportOwners :exec
UPDATE import_rows SET error_id = 'imports.err_owner_unknown', error_column = @error_column
WHERE org_id = @org_id AND import_id = @import_id AND owner_email <> '' AND owner_id IS NULL AND error_id = '';

-- name: SkipImportDuplicatesInFile :exec
-- A row sharing its e-mail, phone or tax id with an earlier good line of the
-- same file is that line's duplicate; a row with none of the three is
-- known by its name alone (case-insensitive).
UPDATE import_rows r SET outcome = 'skip'
FROM (
    SELECT line FROM (
        SELECT line,
            CASE WHEN email <> '' THEN min(line) OVER (PARTITION BY email) END AS first_email,
            CASE WHEN phone <> '' THEN min(line) OVER (PARTITION BY phone) END AS first_phone,
            CASE WHEN tax_id <> '' THEN min(line) OVER (PARTITION BY tax_id) END AS first_tax,
            CASE WHEN email = '' AND phone = '' AND tax_id = '' THEN
                min(line) OVER (PARTITION BY email = '' AND phone = '' AND tax_id = '', lower(name)) END AS first_name
        FROM import_rows
        WHERE org_id = @org_id AND import_id = @import_id AND error_id = ''
    ) w
    WHERE first_email < line OR first_phone < line OR first_tax < line OR first_name < line
) d
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.line = d.line;

-- name: MatchImportRows :exec
-- The existing lead a row duplicates: same normalised e-mail, E.164 phone
-- or tax id; the oldest when several. Three equi-joins, each served by its
-- partial index on leads, instead of one OR join the planner cannot hash.
-- A row with none of the three matches a lead that has none either and the
-- same name, so re-importing such a row does not add it twice.
UPDATE import_rows r SET match_id = m.id
FROM (
    SELECT line, min(id) AS id FROM (
        SELECT s.line, l.id FROM import_rows s JOIN leads l ON l.org_id = s.org_id AND l.email = s.email
        WHERE s.org_id = @org_id AND s.import_id = @import_id AND s.email <> '' AND s.outcome = '' AND s.error_id = ''
        UNION ALL
        SELECT s.line, l.id FROM import_rows s JOIN leads l ON l.org_id = s.org_id AND l.phone = s.phone
        WHERE s.org_id = @org_id AND s.import_id = @import_id AND s.phone <> '' AND s.outcome = '' AND s.error_id = ''
        UNION ALL
        SELECT s.line, l.id FROM import_rows s JOIN leads l ON l.org_id = s.org_id AND l.tax_id = s.tax_id
        WHERE s.org_id = @org_id AND s.import_id = @import_id AND s.tax_id <> '' AND s.outcome = '' AND s.error_id = ''
        UNION ALL
        SELECT s.line, l.id FROM import_rows s JOIN leads l ON l.org_id = s.org_id AND lower(l.name) = lower(s.name)
            AND l.email = '' AND l.phone = '' AND l.tax_id = ''
        WHERE s.org_id = @org_id AND s.import_id = @import_id AND s.email = '' AND s.phone = '' AND s.tax_id = ''
          AND s.outcome = '' AND s.error_id = ''
    ) x GROUP BY line
) m
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.line = m.line;

-- name: DecideImportMatches :exec
-- The first row matching a lead merges into it if it brings anything the
-- lead lacks (an empty field filled, a new tag, new notes); otherwise, and
-- for later rows matching the same lead, it is skipped. Re-importing a file
-- thus changes nothing.
UPDATE import_rows r SET outcome = CASE
        WHEN d.first
         AND ((l.contact_name = '' AND r.contact_name <> '') OR (l.email = '' AND r.email <> '')
           OR (l.phone = '' AND r.phone <> '') OR (l.tax_id = '' AND r.tax_id <> '')
           OR (l.province = '' AND r.province <> '') OR (l.city = '' AND r.city <> '')
           OR NOT (r.tags <@ l.tags) OR (r.notes <> '' AND strpos(l.notes, r.notes) = 0))
        THEN 'merge' ELSE 'skip' END
FROM (
    SELECT line, line = min(line) OVER (PARTITION BY match_id) AS first FROM import_rows
    WHERE org_id = @org_id AND import_id = @import_id AND match_id IS NOT NULL AND outcome = '' AND error_id = ''
) d, leads l
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.line = d.line
  AND l.org_id = r.org_id AND l.id = r.match_id;

-- name: SettleImportOutcomes :exec
-- Bad rows become errors; the rows left with no outcome are the new ones
-- (not rewritten to say so: at 100 000 rows that rewrite costs a second).
UPDATE import_rows SET outcome = 'error'
WHERE org_id = @org_id AND import_id = @import_id AND outcome = '' AND error_id <> '';

-- name: ListImportRowsToAssign :many
-- Everything an assignment rule may test (leads.LeadFacts), in file order.
SELECT line, country, province, tags, name, contact_name, email, phone, tax_id, city, notes FROM import_rows
WHERE org_id = @org_id AND import_id = @import_id AND outcome = '' AND owner_id IS NULL
ORDER BY line;

-- name: SetImportRowOwners :exec
UPDATE import_rows r SET owner_id = a.owner_id
FROM (SELECT unnest(@lines::integer[]) AS line, unnest(@owner_ids::bigint[]) AS owner_id) a
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.line = a.line;

-- name: InsertImportedLeads :execrows
-- One slice of the file's good rows, in line order (ids follow the file).
INSERT INTO leads (org_id, name, contact_name, email, phone, tax_id, country, province, city, source, owner_id, status, notes, tags, created_by)
SELECT r.org_id, r.name, r.contact_name, r.email, r.phone, r.tax_id, r.country, r.province, r.city, 'import', r.owner_id, 'nuevo', r.notes, r.tags, @created_by::bigint
FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome = '' AND r.line >= @from_line AND r.line < @to_line
ORDER BY r.line;

-- name: MergeImportedLeads :execrows
UPDATE leads l SET
    contact_name = CASE WHEN l.contact_name = '' THEN r.contact_name ELSE l.contact_name END,
    email        = CASE WHEN l.email = '' THEN r.email ELSE l.email END,
    phone        = CASE WHEN l.phone = '' THEN r.phone ELSE l.phone END,
    tax_id       = CASE WHEN l.tax_id = '' THEN r.tax_id ELSE l.tax_id END,
    province     = CASE WHEN l.province = '' THEN r.province ELSE l.province END,
    city         = CASE WHEN l.city = '' THEN r.city ELSE l.city END,
    tags         = ARRAY(SELECT DISTINCT t FROM unnest(l.tags || r.tags) AS t ORDER BY t),
    notes        = CASE WHEN r.notes = '' OR strpos(l.notes, r.notes) > 0 THEN l.notes
                        WHEN l.notes = '' THEN r.notes
                        ELSE left(l.notes || E'\n' || r.notes, 10000) END,
    version = l.version + 1, updated_at = now()
FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome = 'merge'
  AND l.org_id = r.org_id AND l.id = r.match_id;

-- name: CountImportOutcomes :one
SELECT count(*) FILTER (WHERE outcome = '')::integer AS inserted,
       count(*) FILTER (WHERE outcome = 'merge')::integer AS merged,
       count(*) FILTER (WHERE outcome = 'skip')::integer AS skipped,
       count(*) FILTER (WHERE outcome = 'error')::integer AS errors,
       coalesce(max(line), 0)::integer AS last_line
FROM import_rows WHERE org_id = @org_id AND import_id = @import_id;

-- name: ImportOwnerCounts :many
-- Who got how many of the inserted leads, for one notification each.
SELECT owner_id::bigint AS owner_id, count(*)::integer AS n FROM import_rows
WHERE org_id = @org_id AND import_id = @import_id AND outcome = '' AND owner_id IS NOT NULL
GROUP BY owner_id ORDER BY owner_id;

-- name: ListImportErrors :many
-- Bad rows in line order, a keyset page at a time (the error file merges
-- them with the original file as it streams it again).
SELECT line, error_column, error_id FROM import_rows
WHERE org_id = @org_id AND import_id = @import_id AND outcome = 'error' AND line > @after_line
ORDER BY line LIMIT @page_size;

-- name: ListOrgUsersForImport :many
SELECT id, email, role, active FROM users WHERE org_id = @org_id;

-- Cartera inteligente (smart portfolio).

-- name: ApplyPortfolioRows :execrows
-- Reassigns each customer matched by tax id and stores its figures.
UPDATE customers c SET owner_id = r.owner_id, billing_initial = r.billing_initial,
    billing_recommended = r.billing_recommended, billing_final = r.billing_final,
    version = c.version + 1, updated_at = now()
FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome = ''
  AND c.org_id = r.org_id AND c.tax_id = r.tax_id;

-- name: FlagPortfolioUnknownCustomers :exec
UPDATE import_rows r SET error_id = 'imports.err_customer_unknown', error_column = @error_column
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.error_id = ''
  AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.org_id = r.org_id AND c.tax_id = r.tax_id AND r.tax_id <> '');

-- name: ResolvePortfolioAgents :exec
-- Agente personalizado, when given, overrides Agente.
UPDATE import_rows r SET owner_id = u.id
FROM users u
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.error_id = ''
  AND u.org_id = r.org_id AND lower(u.email) = CASE WHEN r.custom_email <> '' THEN r.custom_email ELSE r.owner_email END
  AND u.active AND u.role IN ('rep', 'manager', 'admin');

-- name: FlagPortfolioUnknownAgents :exec
UPDATE import_rows SET error_id = 'imports.err_agent_unknown',
    error_column = CASE WHEN custom_email <> '' THEN @custom_column::text ELSE @agent_column::text END
WHERE org_id = @org_id AND import_id = @import_id AND owner_id IS NULL AND error_id = '';

-- name: CreateEmailAttachment :exec
INSERT INTO email_attachments (org_id, email_id, filename, content_type, content)
VALUES (@org_id, @email_id, @filename, @content_type, @content);

-- name: ListEmailAttachments :many
SELECT filename, content_type, content FROM email_attachments
WHERE org_id = @org_id AND email_id = @email_id ORDER BY id;

-- name: AnalyzeImportRows :exec
-- Fresh staging rows have no statistics; without them the planner takes a
-- 100 000-row import for a handful and picks nested loops (minutes, not
-- seconds) for the checks.
ANALYZE import_rows;

-- name: ResolveProductRates :exec
-- The IVA rate a product row names, among the org's country's rates in force.
UPDATE import_rows r SET rate_id = t.id
FROM tax_rates t
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.error_id = '' AND r.rate IS NOT NULL
  AND t.country = r.country AND t.kind = 'iva' AND t.rate = r.rate
  AND t.valid_from <= current_date AND (t.valid_to IS NULL OR t.valid_to > current_date);

-- name: FlagProductUnknownRates :exec
UPDATE import_rows SET error_id = 'imports.err_rate_unknown', error_column = @error_column
WHERE org_id = @org_id AND import_id = @import_id AND error_id = '' AND rate IS NOT NULL AND rate_id IS NULL;

-- name: SkipProductDuplicatesInFile :exec
-- The same code twice: the first good line wins.
UPDATE import_rows r SET outcome = 'skip'
FROM (SELECT line, min(line) OVER (PARTITION BY lower(code)) AS first
      FROM import_rows WHERE org_id = @org_id AND import_id = @import_id AND error_id = '') w
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.line = w.line AND w.first < w.line;

-- name: MatchProductRows :exec
-- A code the catalog has already updates that product.
UPDATE import_rows r SET outcome = 'merge', match_id = p.id
FROM products p
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.error_id = '' AND r.outcome = ''
  AND p.org_id = r.org_id AND p.code = r.code;

-- name: CreateImportedGroups :exec
INSERT INTO article_groups (org_id, name)
SELECT DISTINCT r.org_id, r.group_name FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome IN ('', 'merge') AND r.group_name <> ''
  AND NOT EXISTS (SELECT 1 FROM article_groups g WHERE g.org_id = r.org_id AND lower(g.name) = lower(r.group_name))
ON CONFLICT DO NOTHING;

-- name: InsertImportedProducts :execrows
-- Rows without a rate take the country's general IVA rate (the highest in force).
INSERT INTO products (org_id, code, name, description, group_id, unit, price, tax_rate_id)
SELECT r.org_id, r.code, r.name, r.notes,
       (SELECT g.id FROM article_groups g WHERE g.org_id = r.org_id AND lower(g.name) = lower(r.group_name) ORDER BY g.parent_id NULLS FIRST, g.id LIMIT 1),
       coalesce(nullif(r.unit, ''), 'ud'), r.price,
       coalesce(r.rate_id, (SELECT t.id FROM tax_rates t WHERE t.country = r.country AND t.kind = 'iva'
                             AND t.valid_from <= current_date AND (t.valid_to IS NULL OR t.valid_to > current_date) ORDER BY t.rate DESC LIMIT 1))
FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome = ''
ON CONFLICT (org_id, code) DO NOTHING;

-- name: UpdateImportedProducts :execrows
UPDATE products p SET name = r.name,
    description = CASE WHEN r.notes <> '' THEN r.notes ELSE p.description END,
    group_id = coalesce((SELECT g.id FROM article_groups g WHERE g.org_id = r.org_id AND lower(g.name) = lower(r.group_name)
                         ORDER BY g.parent_id NULLS FIRST, g.id LIMIT 1), p.group_id),
    unit = coalesce(nullif(r.unit, ''), p.unit), price = r.price, tax_rate_id = coalesce(r.rate_id, p.tax_rate_id),
    version = p.version + 1, updated_at = now()
FROM import_rows r
WHERE r.org_id = @org_id AND r.import_id = @import_id AND r.outcome = 'merge' AND p.org_id = r.org_id AND p.id = r.match_id;
