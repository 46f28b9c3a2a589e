-- A session slides 14 days from its last use (sessions.expires_at) but ends
-- 30 days after sign-in however busy it is, so a stolen cookie that is kept
-- warm still dies. The end is a stored generated column, so no code path
-- can start a session without one or move it later. PostgreSQL calls
-- timestamptz + interval only stable (days and months depend on the time
-- zone); 720 hours is plain elapsed time, so the wrapper is truly immutable.
-- Changing the lifetime means a migration that redefines the function and
-- re-adds the column.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION session_absolute_end(signed_in timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN signed_in + interval '720 hours';
-- +goose StatementEnd

ALTER TABLE sessions ADD COLUMN absolute_expires_at timestamptz NOT NULL
    GENERATED ALWAYS AS (session_absolute_end(created_at)) STORED;

-- The sliding touch never passes the absolute end (TouchSession caps it);
-- sessions from before this migration are brought under the same rule. The
-- cut publishes principal events, so open sockets are checked again.
UPDATE sessions SET expires_at = absolute_expires_at WHERE expires_at > absolute_expires_at;

-- The one rule for a session that still opens something: in time on both
-- clocks, and its user active. Sign-in (GetSessionUser) and the live hub's
-- socket checks (CheckSessions) both read it here.
CREATE VIEW open_sessions AS
SELECT s.token_hash, s.org_id, s.user_id, s.last_seen_at,
    LEAST(s.expires_at, s.absolute_expires_at)::timestamptz AS ends_at
FROM sessions s
JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
WHERE s.expires_at > now() AND s.absolute_expires_at > now() AND u.active;

-- +goose Down
DROP VIEW open_sessions;
ALTER TABLE sessions DROP COLUMN absolute_expires_at;
DROP FUNCTION session_absolute_end(timestamptz);
