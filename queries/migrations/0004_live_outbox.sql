-- Live events are drained by polling instead of NOTIFY: pg_notify takes a
-- global lock at commit that serialises every publishing transaction, and
-- the write-path benchmark (BENCHMARKS.md) measured 0.45-0.60 of the plain
-- update rate with it against ~0.8 for the insert alone. Each instance
-- polls by id, so it needs an index on id alone (the primary key leads with
-- org_id).

-- Every index is paid on the write path of every change, so the cleanup
-- index on created_at becomes a BRIN (rows arrive in time order; it costs
-- almost nothing to maintain and still finds the old rows).

-- +goose Up
CREATE INDEX live_events_id_idx ON live_events (id);
DROP INDEX live_events_created_idx;
CREATE INDEX live_events_created_brin ON live_events USING brin (created_at);

-- +goose Down
DROP INDEX live_events_created_brin;
CREATE INDEX live_events_created_idx ON live_events (created_at);
DROP INDEX live_events_id_idx;
