-- name: InsertLiveEvent :one
INSERT INTO live_events (org_id, topic, entity, entity_id, kind, subject_user_id, payload)
VALUES (@org_id, @topic, @entity, sqlc.narg('entity_id'), @kind, sqlc.narg('subject_user_id'), @payload)
RETURNING id;

-- name: DeleteOldLiveEvents :execrows
DELETE FROM live_events WHERE created_at < @before;
