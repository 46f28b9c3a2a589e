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

-- name: SaveProductImage :exec
INSERT INTO product_images (org_id, product_id, sha256, image, thumb, width, height)
VALUES (@org_id, @product_id, @sha256, @image, @thumb, @width, @height)
ON CONFLICT (org_id, product_id) DO UPDATE SET sha256 = EXCLUDED.sha256, image = EXCLUDED.image, thumb = EXCLUDED.thumb,
    width = EXCLUDED.width, height = EXCLUDED.height, uploaded_at = now();

-- name: DeleteProductImage :exec
DELETE FROM product_images WHERE org_id = @org_id AND product_id = @product_id;

-- name: GetProductImage :one
SELECT sha256, image, thumb FROM product_images WHERE org_id = @org_id AND product_id = @product_id;

-- name: ProductImageHashes :many
-- The list's thumbnails: which products of a page have one, and its hash.
SELECT product_id, sha256 FROM product_images WHERE org_id = @org_id AND product_id = ANY (@product_ids::bigint[]);

-- name: ListPriceLists :many
SELECT l.*, (SELECT count(*) FROM price_list_items i WHERE i.org_id = l.org_id AND i.price_list_id = l.id)::bigint AS items,
       (SELECT count(*) FROM customers c WHERE c.org_id = l.org_id AND c.price_list_id = l.id)::bigint AS customers
FROM price_lists l WHERE l.org_id = @org_id ORDER BY l.name, l.id;

-- name: GetPriceList :one
SELECT * FROM price_lists WHERE org_id = @org_id AND id = @id;

-- name: CreatePriceList :one
-- No row back: the name exists already.
INSERT INTO price_lists (org_id, name, kind, percent) VALUES (@org_id, @name, @kind, @percent)
ON CONFLICT (org_id, name) DO NOTHING
RETURNING *;

-- name: UpdatePriceList :one
UPDATE price_lists SET name = @name, kind = @kind, percent = @percent, active = @active
WHERE org_id = @org_id AND id = @id
RETURNING *;

-- name: SetPriceListItem :exec
INSERT INTO price_list_items (org_id, price_list_id, product_id, price) VALUES (@org_id, @price_list_id, @product_id, @price)
ON CONFLICT (org_id, price_list_id, product_id) DO UPDATE SET price = EXCLUDED.price;

-- name: DeletePriceListItem :exec
DELETE FROM price_list_items WHERE org_id = @org_id AND price_list_id = @price_list_id AND product_id = @product_id;

-- name: PriceListProducts :many
-- Every active product with its price in the list (NULL: base price).
SELECT p.id, p.code, p.name, p.unit, p.price AS base_price, i.price AS list_price, t.rate AS tax_rate
FROM products p
JOIN tax_rates t ON t.id = p.tax_rate_id
LEFT JOIN price_list_items i ON i.org_id = p.org_id AND i.price_list_id = @price_list_id AND i.product_id = p.id
WHERE p.org_id = @org_id AND p.active
ORDER BY p.name, p.id
LIMIT 2000;

-- name: CustomerPriceList :one
-- The customer's active price list and, for a fixed list, the product's
-- price in it (NULL when the list has none for it).
SELECT l.id, l.kind, l.percent, i.price AS item_price
FROM customers c
JOIN price_lists l ON l.org_id = c.org_id AND l.id = c.price_list_id
LEFT JOIN price_list_items i ON i.org_id = l.org_id AND i.price_list_id = l.id AND i.product_id = @product_id
WHERE c.org_id = @org_id AND c.id = @customer_id AND l.active;

-- name: SetCustomerPriceList :exec
UPDATE customers SET price_list_id = sqlc.narg('price_list_id'), updated_at = now(), version = version + 1
WHERE org_id = @org_id AND id = @id;

-- name: ListPriceListCustomers :many
SELECT id, legal_name, email FROM customers WHERE org_id = @org_id AND price_list_id = @price_list_id ORDER BY legal_name LIMIT 500;

-- name: SetOrgLogo :exec
UPDATE orgs SET logo = sqlc.narg('logo') WHERE id = @id;
