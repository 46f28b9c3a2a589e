-- name: ListLeadRules :many
SELECT * FROM lead_rules WHERE org_id = @org_id ORDER BY position, id;

-- name: ListActiveLeadRules :many
SELECT * FROM lead_rules WHERE org_id = @org_id AND active ORDER BY position, id;

-- name: GetLeadRule :one
SELECT * FROM lead_rules WHERE org_id = @org_id AND id = @id;

-- name: CreateLeadRule :one
-- Appended at the end of the org's order.
INSERT INTO lead_rules (org_id, position, name, source, country, province, tag, field, field_op, field_value, action, user_id, team_manager_id)
VALUES (@org_id,
        (SELECT coalesce(max(position), 0) + 1 FROM lead_rules WHERE org_id = @org_id),
        @name, @source, @country, @province, @tag, @field, @field_op, @field_value, @action, sqlc.narg('user_id'), sqlc.narg('team_manager_id'))
RETURNING *;

-- name: SetLeadRuleActive :execrows
UPDATE lead_rules SET active = @active WHERE org_id = @org_id AND id = @id;

-- name: DeleteLeadRule :execrows
DELETE FROM lead_rules WHERE org_id = @org_id AND id = @id;

-- name: LeadRuleNeighbour :one
-- The rule just before (up) or just after (down) a position.
SELECT * FROM lead_rules
WHERE org_id = @org_id
  AND CASE WHEN @up::boolean THEN (position, id) < (@position::integer, @id::bigint)
           ELSE (position, id) > (@position::integer, @id::bigint) END
ORDER BY CASE WHEN @up::boolean THEN position END DESC, CASE WHEN @up::boolean THEN id END DESC,
         position, id
LIMIT 1;

-- name: SetLeadRulePosition :exec
UPDATE lead_rules SET position = @position WHERE org_id = @org_id AND id = @id;

-- name: LockLeadRuleCursor :one
-- Round robin reads and moves its cursor under a row lock, so concurrent
-- assignments by the same rule queue up and each gets the next rep.
SELECT rr_cursor FROM lead_rules WHERE org_id = @org_id AND id = @id FOR UPDATE;

-- name: SetLeadRuleCursor :exec
UPDATE lead_rules SET rr_cursor = @rr_cursor WHERE org_id = @org_id AND id = @id;

-- name: GetDefaultLeadOwner :one
SELECT default_owner_id FROM lead_settings WHERE org_id = @org_id;

-- name: SetDefaultLeadOwner :exec
INSERT INTO lead_settings (org_id, default_owner_id) VALUES (@org_id, sqlc.narg('default_owner_id'))
ON CONFLICT (org_id) DO UPDATE SET default_owner_id = EXCLUDED.default_owner_id, updated_at = now();

-- name: ListTeamReps :many
-- A manager's active reps in id order (round robin and fewest open).
SELECT id FROM users WHERE org_id = @org_id AND manager_id = @manager_id AND active AND role = 'rep' ORDER BY id;

-- name: CountOpenLeadsByOwner :many
SELECT owner_id::bigint AS owner_id, count(*)::integer AS n FROM leads
WHERE org_id = @org_id AND owner_id = ANY(@owner_ids::bigint[]) AND status IN ('nuevo', 'contactado', 'cualificado')
GROUP BY owner_id;

-- name: ActiveLeadOwners :many
SELECT id FROM users WHERE org_id = @org_id AND active AND role IN ('rep', 'manager', 'admin');

-- name: IsActiveLeadOwner :one
-- Whether a user may be given leads now (same roles as ListLeadOwners).
SELECT EXISTS (
    SELECT 1 FROM users
    WHERE org_id = @org_id AND id = @id AND active AND role IN ('rep', 'manager', 'admin')
);
