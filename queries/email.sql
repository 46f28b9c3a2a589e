-- name: CreateEmail :one
-- Returns no row when the org already has a message with this key: the
-- caller then enqueues nothing, so a repeated request sends one e-mail.
INSERT INTO emails (org_id, key, to_address, to_name, subject, text_body, html_body, template, locale, link_purpose, link_nonce)
VALUES (@org_id, @key, @to_address, @to_name, @subject, @text_body, @html_body, @template, @locale, sqlc.narg('link_purpose'), sqlc.narg('link_nonce'))
ON CONFLICT (org_id, key) DO NOTHING
RETURNING *;

-- name: GetEmail :one
SELECT * FROM emails WHERE org_id = @org_id AND id = @id;

-- name: GetEmailByKey :one
SELECT * FROM emails WHERE org_id = @org_id AND key = @key;

-- name: ListEmails :many
-- The outbox, newest first, a keyset page at a time; bodies stay out of
-- the list.
SELECT org_id, id, key, to_address, to_name, subject, template, locale, status, sent_at, error, attempts, created_at
FROM emails
WHERE org_id = @org_id
  AND (sqlc.narg('before_id')::bigint IS NULL OR id < sqlc.narg('before_id'))
ORDER BY id DESC
LIMIT @page_size;

-- name: MarkEmailDelivered :execrows
-- status is 'sent' or 'outboxed'. Only a queued row moves, so the first
-- delivery is the one recorded.
UPDATE emails SET status = @status, sent_at = now(), error = ''
WHERE org_id = @org_id AND id = @id AND status = 'queued';

-- name: RecordEmailAttempt :exec
-- A failed attempt: the error for the admin, and 'failed' once no retry
-- will follow. A delivered row is never touched.
UPDATE emails SET error = @error, attempts = attempts + 1,
    status = CASE WHEN @final::boolean THEN 'failed' ELSE status END
WHERE org_id = @org_id AND id = @id AND status = 'queued';
