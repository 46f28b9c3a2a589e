-- name: InsertLiveEvent :one
-- Written in the change's own transaction: a rolled-back change leaves no
-- row (only a gap in the ids, which the poller tolerates).
INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id, payload)
VALUES (@org_id, @topic, @entity, sqlc.narg('entity_id'), @kind, sqlc.narg('subject_user_id'), @payload)
RETURNING id;

-- name: DeleteOldLiveEvents :execrows
DELETE FROM live_events WHERE created_at < @before;

-- name: ListTeamIDs :many
-- Everyone who reports to a manager, directly or through other managers.
WITH RECURSIVE team AS (
    SELECT u.id FROM users u WHERE u.org_id = @org_id AND u.manager_id = @manager_id
    UNION
    SELECT u.id FROM users u JOIN team t ON u.manager_id = t.id WHERE u.org_id = @org_id
)
SELECT id FROM team;

-- name: PollLiveEvents :many
-- New events, plus ids the poller saw skipped: a skipped id is a transaction
-- still in flight (it committed later than a higher id) or one rolled back.
-- Two index reads, not one OR: with the OR PostgreSQL walked the primary
-- key from the oldest event on, filtering, on every poll.
SELECT e.* FROM (
    (SELECT * FROM live_events n WHERE n.id > @after ORDER BY n.id LIMIT @max_rows)
    UNION ALL
    (SELECT * FROM live_events g WHERE g.id = ANY(@gaps::bigint[]) AND g.id <= @after)
) e
ORDER BY e.id
LIMIT @max_rows;

-- name: MaxLiveEventID :one
SELECT coalesce(max(id), 0)::bigint FROM live_events;

-- name: InsertLiveEvents :exec
-- The events a transaction published, written as its last statement (see
-- live.BeginFunc: this one travels in the same round trip as the COMMIT).
-- @events is a JSON array of live.Event.
INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id, payload)
SELECT e.org_id, e.topic, e.entity, e.entity_id, e.kind, e.subject_user_id, coalesce(e.payload, '{}')
FROM jsonb_to_recordset(@events::jsonb) AS e (
    org_id bigint, topic text, entity text, entity_id bigint, kind text, subject_user_id bigint, payload jsonb);
