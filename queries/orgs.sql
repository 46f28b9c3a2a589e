-- name: GetOrg :one
SELECT * FROM orgs WHERE id = @id;

-- name: GetOrgByName :one
SELECT * FROM orgs WHERE name = @name;

-- name: CreateOrg :one
INSERT INTO orgs (name, country, currency, time_zone, tax_id)
VALUES (@name, @country, @currency, @time_zone, @tax_id)
RETURNING *;
