-- name: CreateFile :one
-- A file being written: invisible to others until the transaction that
-- writes its chunks and seals it commits.
INSERT INTO files (org_id) VALUES (@org_id) RETURNING id;

-- name: WriteFileChunk :exec
INSERT INTO file_chunks (org_id, file_id, seq, data) VALUES (@org_id, @file_id, @seq, @data);

-- name: SealFile :exec
-- Fails on files_content_key when the org already has these bytes.
UPDATE files SET size_bytes = @size_bytes, sha256 = @sha256::text
WHERE org_id = @org_id AND id = @id;

-- name: FileByContent :one
SELECT id, size_bytes, sha256::text AS sha256 FROM files WHERE org_id = @org_id AND sha256 = @sha256::text;

-- name: GetFile :one
SELECT id, size_bytes, sha256::text AS sha256 FROM files WHERE org_id = @org_id AND id = @id AND sha256 IS NOT NULL;

-- name: FileChunk :one
SELECT data FROM file_chunks WHERE org_id = @org_id AND file_id = @file_id AND seq = @seq;

-- name: DeleteFile :execrows
DELETE FROM files WHERE org_id = @org_id AND id = @id;
