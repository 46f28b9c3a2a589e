-- +goose Up
-- Two costs every published event paid, found with the write-path bench:
-- - The foreign key to orgs: each insert took a KEY SHARE lock on the org's
--   row, and concurrent publishers of one org turned that into MultiXacts.
--   The outbox is transient routing data (kept a few minutes); an event for
--   an org that does not exist reaches no socket, so nothing needs the key.
-- - Two b-trees: (org_id, id) as the key plus an index on id for the poller.
--   The id is an identity, unique by itself, so it is the key now.
ALTER TABLE live_events DROP CONSTRAINT live_events_org_id_fkey;
ALTER TABLE live_events DROP CONSTRAINT live_events_pkey;
ALTER TABLE live_events ADD PRIMARY KEY (id);
DROP INDEX live_events_id_idx;

-- +goose Down
CREATE INDEX live_events_id_idx ON live_events (id);
ALTER TABLE live_events DROP CONSTRAINT live_events_pkey;
ALTER TABLE live_events ADD PRIMARY KEY (org_id, id);
ALTER TABLE live_events ADD FOREIGN KEY (org_id) REFERENCES orgs (id);
