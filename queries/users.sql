-- name: GetUser :one
SELECT * FROM users WHERE org_id = @org_id AND id = @id;

-- name: GetUserByEmail :one
-- Login looks a user up by address alone (addresses are unique across orgs).
SELECT * FROM users WHERE email = @email;

-- name: ListUsers :many
SELECT u.*, m.name AS manager_name
FROM users u
LEFT JOIN users m ON m.org_id = u.org_id AND m.id = u.manager_id
WHERE u.org_id = @org_id
ORDER BY u.active DESC, u.name, u.id;

-- name: ListManagers :many
SELECT id, name FROM users
WHERE org_id = @org_id AND active AND role IN ('admin', 'manager')
ORDER BY name, id;

-- name: CreateUser :one
INSERT INTO users (org_id, email, name, role, manager_id, locale, password_hash, active)
VALUES (@org_id, @email, @name, @role, sqlc.narg('manager_id'), @locale, sqlc.narg('password_hash'), @active)
RETURNING *;

-- name: SetUserPassword :exec
-- Whoever held a session with the old credentials is out: every session of
-- the user ends but keep_session (the one setting the password, if any).
-- One statement, so no path that sets a password can forget it.
WITH ended AS (
    DELETE FROM sessions s
    WHERE s.org_id = @org_id AND s.user_id = @id AND s.token_hash IS DISTINCT FROM sqlc.narg('keep_session')::bytea
)
UPDATE users u SET password_hash = @password_hash, active = true, updated_at = now()
WHERE u.org_id = @org_id AND u.id = @id;

-- name: SetUserActive :one
UPDATE users SET active = @active, updated_at = now()
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: SetUserLocale :exec
UPDATE users SET locale = @locale, updated_at = now()
WHERE org_id = @org_id AND id = @id;
