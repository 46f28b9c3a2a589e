-- name: TakeNumber :one
-- The next number of a series in a year, creating the year's row on first
-- use. The row lock lasts until the caller's transaction ends (see the
-- migration). No row back means the code belongs to another kind.
INSERT INTO number_series AS s (org_id, kind, code, year, last_number)
VALUES (@org_id, @kind, @code, @year, 1)
ON CONFLICT (org_id, code, year) DO UPDATE SET last_number = s.last_number + 1
    WHERE s.kind = excluded.kind
RETURNING last_number;

-- name: ListNumberSeries :many
SELECT * FROM number_series WHERE org_id = @org_id ORDER BY code, year DESC;
