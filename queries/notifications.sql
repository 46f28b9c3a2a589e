-- name: CreateNotification :one
-- Returns no row when the key already exists (the caller then publishes nothing).
INSERT INTO notifications (org_id, user_id, severity, title, body, link, key)
VALUES (@org_id, @user_id, @severity, @title, @body, @link, @key)
ON CONFLICT (org_id, user_id, key) DO NOTHING
RETURNING *;

-- name: GetNotification :one
SELECT * FROM notifications WHERE org_id = @org_id AND user_id = @user_id AND id = @id;

-- name: ListNotifications :many
SELECT * FROM notifications
WHERE org_id = @org_id AND user_id = @user_id
  AND (sqlc.narg('before_id')::bigint IS NULL OR id < sqlc.narg('before_id'))
ORDER BY id DESC
LIMIT @page_size;

-- name: CountUnreadNotifications :one
SELECT count(*) FROM notifications WHERE org_id = @org_id AND user_id = @user_id AND read_at IS NULL;

-- name: MarkNotificationRead :execrows
UPDATE notifications SET read_at = now()
WHERE org_id = @org_id AND user_id = @user_id AND id = @id AND read_at IS NULL;

-- name: MarkAllNotificationsRead :execrows
UPDATE notifications SET read_at = now()
WHERE org_id = @org_id AND user_id = @user_id AND read_at IS NULL;

-- name: ListActiveUserIDs :many
SELECT id, locale FROM users WHERE org_id = @org_id AND active ORDER BY id;
