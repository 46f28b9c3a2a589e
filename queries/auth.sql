-- name: CreateSession :exec
INSERT INTO sessions (token_hash, org_id, user_id, expires_at, ip, user_agent)
VALUES (@token_hash, @org_id, @user_id, @expires_at, @ip, @user_agent);

-- name: GetSessionUser :one
-- A session is only as good as its user: a deactivated user's cookie opens
-- nothing (open_sessions, migration 0030, holds the rule).
SELECT sqlc.embed(u), sqlc.embed(o), s.last_seen_at AS session_last_seen_at, s.ends_at AS session_expires_at,
    (SELECT count(*) FROM notifications n
     WHERE n.org_id = s.org_id AND n.user_id = s.user_id AND n.read_at IS NULL) AS unread_notifications
FROM open_sessions s
JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
JOIN orgs o ON o.id = s.org_id
WHERE s.token_hash = @token_hash;

-- name: CheckSessions :many
-- Which of the live sockets' sessions still open something, by the same
-- rule as sign-in, and the role each would get now. One query for a batch
-- of sockets, never one per socket.
SELECT s.token_hash, u.role, s.ends_at
FROM open_sessions s
JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
WHERE s.token_hash = ANY(@token_hashes::bytea[]);

-- name: TouchSession :one
-- Slides the expiry, never past the session's absolute end.
UPDATE sessions SET last_seen_at = now(), expires_at = LEAST(@expires_at, absolute_expires_at)
WHERE token_hash = @token_hash
RETURNING expires_at;

-- name: DeleteSession :exec
DELETE FROM sessions WHERE token_hash = @token_hash;

-- name: DeleteUserSessions :exec
DELETE FROM sessions WHERE org_id = @org_id AND user_id = @user_id;

-- name: DeleteExpiredSessions :execrows
DELETE FROM sessions WHERE expires_at <= now();

-- name: RecordLoginAttempt :one
-- Every attempt is written before it is counted and checked, so parallel
-- guesses see each other; a successful or throttled attempt removes its row.
INSERT INTO login_failures (email, ip) VALUES (@email, @ip)
RETURNING id;

-- name: DeleteLoginFailure :exec
DELETE FROM login_failures WHERE id = @id;

-- name: LoginPairFailures :one
-- The failures of one address from one client since @since, this attempt
-- included, and how many seconds ago the latest other one was (by the
-- database's clock, which wrote them; a huge number when there is none).
SELECT count(*)::bigint AS failures,
    coalesce(extract(epoch FROM now() - max(created_at) FILTER (WHERE id <> @attempt)), 1e9)::float8 AS seconds_since_last
FROM login_failures
WHERE email = @email AND ip = @ip AND created_at > @since;

-- name: ClearLoginFailures :exec
-- A success forgives its own client's failures only: the ones an attacker
-- ran up elsewhere against the same address keep slowing the attacker.
DELETE FROM login_failures WHERE email = @email AND ip = @ip;

-- name: DeleteOldLoginFailures :execrows
DELETE FROM login_failures WHERE created_at < @before;

-- name: CreateInvite :exec
INSERT INTO invites (token_hash, org_id, user_id, created_by, expires_at)
VALUES (@token_hash, @org_id, @user_id, @created_by, @expires_at);

-- name: GetInvite :one
SELECT i.*, u.email, u.name, u.locale, o.name AS org_name
FROM invites i
JOIN users u ON u.org_id = i.org_id AND u.id = i.user_id
JOIN orgs o ON o.id = i.org_id
WHERE i.token_hash = @token_hash;

-- name: UseInvite :execrows
-- The used_at guard makes a second use (or a race of two tabs) change nothing.
UPDATE invites SET used_at = now()
WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > now();

-- name: RevokeUserInvites :exec
UPDATE invites SET used_at = now()
WHERE org_id = @org_id AND user_id = @user_id AND used_at IS NULL;
