-- name: CreateDocument :one
INSERT INTO documents (org_id, lead_id, customer_id, opportunity_id, filename, content_type, size_bytes, sha256, file_id, uploaded_by, sender_unverified)
VALUES (@org_id, sqlc.narg('lead_id'), sqlc.narg('customer_id'), sqlc.narg('opportunity_id'),
        @filename, @content_type, @size_bytes, @sha256, @file_id, sqlc.narg('uploaded_by'), @sender_unverified)
RETURNING *;

-- name: GetDocument :one
SELECT * FROM documents WHERE org_id = @org_id AND id = @id;

-- name: DeleteDocument :exec
DELETE FROM documents WHERE org_id = @org_id AND id = @id;

-- name: FileHasDocuments :one
-- Whether any document of the org still uses these bytes.
SELECT EXISTS (SELECT 1 FROM documents WHERE org_id = @org_id AND file_id = @file_id);

-- name: ListLeadDocuments :many
SELECT d.id, d.filename, d.content_type, d.size_bytes, d.uploaded_by, d.created_at, d.sender_unverified,
       coalesce(u.name, '')::text AS uploader_name
FROM documents d LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.uploaded_by
WHERE d.org_id = @org_id AND d.lead_id = @lead_id
ORDER BY d.id DESC
LIMIT 200;

-- name: ListCustomerDocuments :many
SELECT d.id, d.filename, d.content_type, d.size_bytes, d.uploaded_by, d.created_at, d.sender_unverified,
       coalesce(u.name, '')::text AS uploader_name
FROM documents d LEFT JOIN users u ON u.org_id = d.org_id AND u.id = d.uploaded_by
WHERE d.org_id = @org_id AND d.customer_id = @customer_id
ORDER BY d.id DESC
LIMIT 200;

-- name: DocumentLeadOwner :one
-- Who owns the lead, for the viewer's scope (the row exists: no error).
SELECT owner_id FROM leads WHERE org_id = @org_id AND id = @id;

-- name: DocumentCustomerOwner :one
SELECT owner_id FROM customers WHERE org_id = @org_id AND id = @id;

-- name: AppendActivity :one
-- One line on the timeline of a lead or customer (NULL actor: the system).
INSERT INTO activities (org_id, lead_id, customer_id, actor_id, kind, summary, data, sender_unverified)
VALUES (@org_id, sqlc.narg('lead_id'), sqlc.narg('customer_id'), sqlc.narg('actor_id'), @kind, @summary, @data, @sender_unverified)
RETURNING id;
