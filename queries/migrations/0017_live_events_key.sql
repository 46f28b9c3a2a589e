-- +goose Up
-- The poller reads live_events by id alone; (org_id, id) as the key plus a
-- separate index on id made every event maintain two b-trees. The id is
-- unique by itself (an identity), so it is the key now. Measured by the
-- write-path bench (BENCHMARKS.md).
ALTER TABLE live_events DROP CONSTRAINT live_events_pkey;
ALTER TABLE live_events ADD PRIMARY KEY (id);
DROP INDEX live_events_id_idx;

-- +goose Down
CREATE INDEX live_events_id_idx ON live_events (id);
ALTER TABLE live_events DROP CONSTRAINT live_events_pkey;
ALTER TABLE live_events ADD PRIMARY KEY (org_id, id);
