-- name: ListArticleGroups :many
-- Top-level groups first, each followed by its subgroups.
SELECT g.*, coalesce(p.name, '')::text AS parent_name
FROM article_groups g LEFT JOIN article_groups p ON p.org_id = g.org_id AND p.id = g.parent_id
WHERE g.org_id = @org_id
ORDER BY coalesce(p.name, g.name), g.parent_id NULLS FIRST, g.name;

-- name: CreateArticleGroup :one
INSERT INTO article_groups (org_id, name, parent_id) VALUES (@org_id, @name, sqlc.narg('parent_id'))
ON CONFLICT (org_id, parent_id, name) DO NOTHING
RETURNING *;

-- name: GetArticleGroup :one
SELECT * FROM article_groups WHERE org_id = @org_id AND id = @id;

-- name: GetProduct :one
SELECT * FROM products WHERE org_id = @org_id AND id = @id;

-- name: ListProducts :many
-- One keyset page; a group filter includes its subgroups.
SELECT p.id, p.code, p.name, p.unit, p.price, p.active, p.group_id, coalesce(g.name, '')::text AS group_name,
       t.rate AS tax_rate
FROM products p
JOIN tax_rates t ON t.id = p.tax_rate_id
LEFT JOIN article_groups g ON g.org_id = p.org_id AND g.id = p.group_id
WHERE p.org_id = @org_id
  AND (sqlc.narg('search')::text IS NULL OR p.search LIKE sqlc.narg('search'))
  AND (sqlc.narg('group_id')::bigint IS NULL OR p.group_id = sqlc.narg('group_id') OR g.parent_id = sqlc.narg('group_id'))
  AND (sqlc.narg('active')::boolean IS NULL OR p.active = sqlc.narg('active'))
  AND (sqlc.narg('before_id')::bigint IS NULL OR p.id < sqlc.narg('before_id'))
ORDER BY p.id DESC
LIMIT @page_size;

-- name: CreateProduct :one
-- No row back: the code exists already in the org.
INSERT INTO products (org_id, code, name, description, group_id, unit, price, tax_rate_id, active)
VALUES (@org_id, @code, @name, @description, sqlc.narg('group_id'), @unit, @price, @tax_rate_id, @active)
ON CONFLICT (org_id, code) DO NOTHING
RETURNING *;

-- name: UpdateProduct :one
UPDATE products SET code = @code, name = @name, description = @description, group_id = sqlc.narg('group_id'),
    unit = @unit, price = @price, tax_rate_id = @tax_rate_id, active = @active, updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id AND version = @version
RETURNING *;

-- name: ProductCodeTaken :one
SELECT EXISTS (SELECT 1 FROM products WHERE org_id = @org_id AND code = @code AND id <> @id);
