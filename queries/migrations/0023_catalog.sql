-- The catalog: products and services in article groups (nested one level),
-- each with an exact price in the org's currency and a tax rate from the
-- tax_rates reference data. Images and price lists come next.

-- +goose Up
CREATE TABLE article_groups (
    org_id    bigint NOT NULL REFERENCES orgs (id),
    id        bigint GENERATED ALWAYS AS IDENTITY,
    name      text   NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 120),
    parent_id bigint,
    PRIMARY KEY (org_id, id),
    -- Top-level names are unique too (NULL parents compare equal).
    UNIQUE NULLS NOT DISTINCT (org_id, parent_id, name),
    FOREIGN KEY (org_id, parent_id) REFERENCES article_groups (org_id, id),
    CHECK (parent_id IS NULL OR parent_id <> id)
);

-- One level of nesting: a subgroup's parent must be a top-level group, and
-- a group with subgroups cannot become one.
-- +goose StatementBegin
CREATE FUNCTION article_groups_one_level() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.parent_id IS NOT NULL AND (
        EXISTS (SELECT 1 FROM article_groups g WHERE g.org_id = NEW.org_id AND g.id = NEW.parent_id AND g.parent_id IS NOT NULL)
        OR EXISTS (SELECT 1 FROM article_groups g WHERE g.org_id = NEW.org_id AND g.parent_id = NEW.id)) THEN
        RAISE EXCEPTION 'article groups nest one level only' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER article_groups_one_level BEFORE INSERT OR UPDATE OF parent_id ON article_groups
    FOR EACH ROW EXECUTE FUNCTION article_groups_one_level();

CREATE TABLE products (
    org_id      bigint  NOT NULL REFERENCES orgs (id),
    id          bigint  GENERATED ALWAYS AS IDENTITY,
    code        text    NOT NULL CHECK (code ~ '^[A-Za-z0-9._/-]{1,40}$'),
    name        text    NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    description text    NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    group_id    bigint,
    unit        text    NOT NULL DEFAULT 'ud' CHECK (unit IN ('ud', 'h', 'kg', 'm', 'm2', 'l', 'servicio')),
    -- Before tax, in cents of the org's currency.
    price       bigint  NOT NULL CHECK (price >= 0),
    tax_rate_id bigint  NOT NULL REFERENCES tax_rates (id),
    active      boolean NOT NULL DEFAULT true,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    search      text GENERATED ALWAYS AS (lower(code || ' ' || name || ' ' || description)) STORED,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, code),
    FOREIGN KEY (org_id, group_id) REFERENCES article_groups (org_id, id)
);
CREATE INDEX products_list_idx ON products (org_id, id DESC);
CREATE INDEX products_group_idx ON products (org_id, group_id, id DESC);
CREATE INDEX products_search_idx ON products USING gin (search gin_trgm_ops);

-- +goose Down
DROP TABLE products;
DROP TRIGGER article_groups_one_level ON article_groups;
DROP FUNCTION article_groups_one_level();
DROP TABLE article_groups;
