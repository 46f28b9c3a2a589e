-- name: GetLeadFormByToken :one
-- By the digest of the presented token (see migration 0031).
SELECT f.*, o.country AS org_country
FROM lead_forms f JOIN orgs o ON o.id = f.org_id
WHERE f.token_hash = @token_hash AND f.active;

-- name: ListLeadForms :many
SELECT * FROM lead_forms WHERE org_id = @org_id ORDER BY id;

-- name: GetLeadForm :one
SELECT * FROM lead_forms WHERE org_id = @org_id AND id = @id;

-- name: CreateLeadForm :one
INSERT INTO lead_forms (org_id, name, token_hash, token_nonce, thank_you_url)
VALUES (@org_id, @name, @token_hash, @token_nonce, @thank_you_url)
RETURNING *;

-- name: RotateLeadFormToken :one
UPDATE lead_forms SET token_hash = @token_hash, token_nonce = @token_nonce, rotated_at = now()
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: SetLeadFormActive :one
UPDATE lead_forms SET active = @active WHERE org_id = @org_id AND id = @id RETURNING *;

-- name: RecordCaptureHit :one
-- Records this submission and returns how many this address made in the
-- window, itself included (so parallel bursts count each other).
WITH hit AS (INSERT INTO capture_hits (ip) VALUES (@client_ip::text) RETURNING id)
SELECT (count(*) + 1)::bigint AS recent FROM capture_hits c
WHERE c.ip = @client_ip::text AND c.created_at > @since;

-- name: DeleteOldCaptureHits :execrows
DELETE FROM capture_hits WHERE created_at < @before;
