-- name: PublishLiveEvent :one
-- The row and the wake-up are one statement in the change's transaction:
-- PostgreSQL delivers NOTIFY only on commit, so a rolled-back change never
-- reaches a screen. The payload carries the whole (small) event so
-- listeners need no read-back.
WITH ev AS (
    INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id, payload)
    VALUES (@org_id, @topic, @entity, sqlc.narg('entity_id'), @kind, sqlc.narg('subject_user_id'), @payload)
    RETURNING *
)
SELECT ev.id, pg_notify('pulso_live', json_build_object(
    'org_id', ev.org_id, 'id', ev.id, 'topic', ev.topic, 'entity', ev.entity, 'entity_id', ev.entity_id,
    'kind', ev.kind, 'subject_user_id', ev.subject_user_id, 'payload', ev.payload, 'created_at', ev.created_at
)::text)::text AS notified
FROM ev;

-- name: InsertLiveEvent :one
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
