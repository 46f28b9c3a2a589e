-- name: CreateLead :one
INSERT INTO leads (org_id, name, contact_name, email, phone, tax_id, country, province, city,
                   source, owner_id, status, discard_reason, notes, tags, created_by)
VALUES (@org_id, @name, @contact_name, @email, @phone, @tax_id, @country, @province, @city,
        @source, sqlc.narg('owner_id'), @status, @discard_reason, @notes, @tags, sqlc.narg('created_by'))
RETURNING *;

-- name: GetLead :one
SELECT * FROM leads WHERE org_id = @org_id AND id = @id;

-- name: UpdateLead :one
-- Matches only the version the editor loaded: no row back means someone
-- else saved first (or the lead is gone).
UPDATE leads SET
    name = @name, contact_name = @contact_name, email = @email, phone = @phone, tax_id = @tax_id,
    country = @country, province = @province, city = @city, owner_id = sqlc.narg('owner_id'),
    status = @status, discard_reason = @discard_reason, notes = @notes, tags = @tags,
    updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version
RETURNING *;

-- name: ListLeads :many
-- One keyset page, newest first. Optional filters are NULL when unused;
-- owner_scope limits reps and managers to the leads they may see.
SELECT * FROM leads
WHERE org_id = @org_id
  AND (sqlc.narg('owner_scope')::bigint[] IS NULL OR owner_id = ANY (sqlc.narg('owner_scope')::bigint[]))
  AND (sqlc.narg('owner_id')::bigint IS NULL OR owner_id = sqlc.narg('owner_id'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('source')::text IS NULL OR source = sqlc.narg('source'))
  AND (sqlc.narg('tag')::text IS NULL OR tags @> ARRAY[sqlc.narg('tag')::text])
  AND (sqlc.narg('created_from')::timestamptz IS NULL OR created_at >= sqlc.narg('created_from'))
  AND (sqlc.narg('created_to')::timestamptz IS NULL OR created_at < sqlc.narg('created_to'))
  AND (sqlc.narg('search')::text IS NULL OR search LIKE sqlc.narg('search'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR id < sqlc.narg('before_id'))
ORDER BY id DESC
LIMIT @page_size;

-- name: FindLeadDuplicates :many
-- Leads of the org with the same normalised e-mail, phone or tax id.
SELECT * FROM leads
WHERE org_id = @org_id AND id <> @exclude_id
  AND ((@email::text <> '' AND email = @email::text)
    OR (@phone::text <> '' AND phone = @phone::text)
    OR (@tax_id::text <> '' AND tax_id = @tax_id::text))
ORDER BY id DESC
LIMIT 5;

-- name: ListLeadOwners :many
-- Who a lead can be assigned to.
SELECT id, name FROM users
WHERE org_id = @org_id AND active AND role IN ('rep', 'manager', 'admin')
ORDER BY name, id;

-- name: OrgHasLeads :one
SELECT EXISTS (SELECT 1 FROM leads WHERE org_id = @org_id);
