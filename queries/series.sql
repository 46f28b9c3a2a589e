-- name: TakeNumber :one
-- The next number of a series in a year, creating the year's row on first
-- use, and the latest date numbered in it, this one's included. The row
-- lock lasts until the caller's transaction ends (see migration 0018). No
-- row back means the code belongs to another kind.
INSERT INTO number_series AS s (org_id, kind, code, year, last_number, last_date)
VALUES (@org_id, @kind, @code, @year, 1, @day)
ON CONFLICT (org_id, code, year) DO UPDATE SET last_number = s.last_number + 1,
    last_date = greatest(s.last_date, excluded.last_date)
    WHERE s.kind = excluded.kind
RETURNING last_number, last_date;

-- name: ListNumberSeries :many
SELECT * FROM number_series WHERE org_id = @org_id ORDER BY code, year DESC;

-- name: SeriesLastDate :one
-- The latest date numbered in a series in a year (no row: none yet).
SELECT last_date FROM number_series WHERE org_id = @org_id AND code = @code AND year = @year;
