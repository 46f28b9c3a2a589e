-- name: CountRateHit :one
-- Counts one request of key in scope and returns the hits in its current
-- window, this one included, and the seconds until that window ends. A
-- window starts at the first hit after the previous one ended. The upsert
-- is atomic per row, so requests to any instance at once all count.
INSERT INTO rate_counters AS r (scope, key, window_start, hits)
VALUES (@scope, @key, now(), 1)
ON CONFLICT (scope, key) DO UPDATE SET
    window_start = CASE WHEN r.window_start > now() - make_interval(secs => @window_seconds::integer) THEN r.window_start ELSE now() END,
    hits = CASE WHEN r.window_start > now() - make_interval(secs => @window_seconds::integer) THEN r.hits + 1 ELSE 1 END
RETURNING hits, extract(epoch FROM r.window_start + make_interval(secs => @window_seconds::integer) - now())::float8 AS seconds_left;

-- name: DeleteOldRateCounters :execrows
DELETE FROM rate_counters WHERE window_start < @before;
