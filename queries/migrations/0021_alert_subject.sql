-- Alerts name whom they are about (the task's assignee, the deal's owner),
-- so a manager's alert centre can filter by team member.

-- +goose Up
ALTER TABLE alerts ADD COLUMN subject_user_id bigint,
    ADD FOREIGN KEY (org_id, subject_user_id) REFERENCES users (org_id, id);
UPDATE alerts a SET subject_user_id = t.assignee_id FROM tasks t
WHERE a.object_type = 'task' AND t.org_id = a.org_id AND t.id = a.object_id;
UPDATE alerts a SET subject_user_id = o.owner_id FROM opportunities o
WHERE a.object_type = 'opportunity' AND o.org_id = a.org_id AND o.id = a.object_id;

-- +goose Down
ALTER TABLE alerts DROP COLUMN subject_user_id;
