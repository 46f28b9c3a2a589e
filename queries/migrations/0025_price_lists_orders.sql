-- The rest of the catalog and the documents that follow a signed quote:
--   - product images: the uploaded picture re-encoded at a bounded size and
--     its thumbnail, both kept here (small, and every instance serves them);
--   - price lists: a named list assigned to customers, either a percentage
--     over (or under) the base price, or fixed prices per product (products
--     without one keep their base price);
--   - orders (pedidos) from signed quotes, and delivery notes (albaranes)
--     with the quantities delivered, partial deliveries allowed. Warehouses
--     and stock come later: delivery lines already name the order line they
--     serve, which is what a stock movement will hang off.

-- +goose Up
CREATE TABLE product_images (
    org_id      bigint      NOT NULL,
    product_id  bigint      NOT NULL,
    -- SHA-256 of the stored image: part of its URL, so it can be cached
    -- for a year and a new upload is a new URL.
    sha256      text        NOT NULL,
    image       bytea       NOT NULL CHECK (length(image) <= 1048576),
    thumb       bytea       NOT NULL CHECK (length(thumb) <= 65536),
    width       integer     NOT NULL,
    height      integer     NOT NULL,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, product_id),
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE CASCADE
);

CREATE TABLE price_lists (
    org_id     bigint       NOT NULL REFERENCES orgs (id),
    id         bigint       GENERATED ALWAYS AS IDENTITY,
    name       text         NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 120),
    -- percent: every product at base × (1 + percent/100), rounded to the
    -- cent half away from zero; fixed: the items' prices, base otherwise.
    kind       text         NOT NULL CHECK (kind IN ('percent', 'fixed')),
    percent    numeric(5,2) NOT NULL DEFAULT 0 CHECK (percent > -100 AND percent < 1000),
    active     boolean      NOT NULL DEFAULT true,
    created_at timestamptz  NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name)
);

CREATE TABLE price_list_items (
    org_id        bigint NOT NULL,
    price_list_id bigint NOT NULL,
    product_id    bigint NOT NULL,
    price         bigint NOT NULL CHECK (price > 0),
    PRIMARY KEY (org_id, price_list_id, product_id),
    FOREIGN KEY (org_id, price_list_id) REFERENCES price_lists (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE CASCADE
);

ALTER TABLE customers ADD FOREIGN KEY (org_id, price_list_id) REFERENCES price_lists (org_id, id) ON DELETE SET NULL (price_list_id);
CREATE INDEX customers_price_list_idx ON customers (org_id, price_list_id) WHERE price_list_id IS NOT NULL;

CREATE TABLE orders (
    org_id        bigint      NOT NULL REFERENCES orgs (id),
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    number        text        NOT NULL,
    quote_id      bigint      NOT NULL,
    quote_version integer     NOT NULL,
    customer_id   bigint      NOT NULL,
    currency      text        NOT NULL CHECK (currency IN ('EUR', 'MXN', 'ARS')),
    base          bigint      NOT NULL,
    tax           bigint      NOT NULL,
    surcharge     bigint      NOT NULL,
    withheld      bigint      NOT NULL,
    total         bigint      NOT NULL,
    created_by    bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    -- One order per signed quote version.
    UNIQUE (org_id, quote_id, quote_version),
    FOREIGN KEY (org_id, quote_id, quote_version) REFERENCES quote_versions (org_id, quote_id, n),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX orders_list_idx ON orders (org_id, id DESC);

CREATE TABLE order_lines (
    org_id       bigint        NOT NULL,
    order_id     bigint        NOT NULL,
    position     integer       NOT NULL CHECK (position >= 1),
    product_id   bigint,
    description  text          NOT NULL,
    unit         text          NOT NULL,
    quantity     numeric(15,3) NOT NULL CHECK (quantity > 0),
    unit_price   bigint        NOT NULL,
    discount_pct numeric(5,2)  NOT NULL,
    tax_rate_id  bigint        NOT NULL REFERENCES tax_rates (id),
    tax_rate     numeric(5,2)  NOT NULL,
    surcharge    numeric(5,2)  NOT NULL,
    withholding  numeric(5,2)  NOT NULL,
    amount       bigint        NOT NULL,
    PRIMARY KEY (org_id, order_id, position),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE SET NULL (product_id)
);

CREATE TABLE delivery_notes (
    org_id       bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    number       text        NOT NULL,
    order_id     bigint      NOT NULL,
    delivered_on date        NOT NULL,
    notes        text        NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, number),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX delivery_notes_order_idx ON delivery_notes (org_id, order_id, id);

CREATE TABLE delivery_note_lines (
    org_id           bigint        NOT NULL,
    delivery_note_id bigint        NOT NULL,
    order_id         bigint        NOT NULL,
    order_position   integer       NOT NULL,
    quantity         numeric(15,3) NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (org_id, delivery_note_id, order_position),
    FOREIGN KEY (org_id, delivery_note_id) REFERENCES delivery_notes (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, order_id, order_position) REFERENCES order_lines (org_id, order_id, position)
);

-- Never deliver more than was ordered: checked here, under a lock on the
-- order line, so two delivery notes written at once cannot both pass.
-- +goose StatementBegin
CREATE FUNCTION delivery_within_order() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ordered   numeric;
    delivered numeric;
BEGIN
    SELECT quantity INTO ordered FROM order_lines
    WHERE org_id = NEW.org_id AND order_id = NEW.order_id AND position = NEW.order_position FOR UPDATE;
    SELECT coalesce(sum(quantity), 0) INTO delivered FROM delivery_note_lines
    WHERE org_id = NEW.org_id AND order_id = NEW.order_id AND order_position = NEW.order_position;
    IF delivered + NEW.quantity > ordered THEN
        RAISE EXCEPTION 'delivering % of line % exceeds the % ordered (% delivered)', NEW.quantity, NEW.order_position, ordered, delivered
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER delivery_within_order BEFORE INSERT ON delivery_note_lines
    FOR EACH ROW EXECUTE FUNCTION delivery_within_order();

-- +goose Down
DROP TABLE delivery_note_lines;
DROP FUNCTION delivery_within_order();
DROP TABLE delivery_notes;
DROP TABLE order_lines;
DROP TABLE orders;
DROP INDEX customers_price_list_idx;
ALTER TABLE customers DROP CONSTRAINT customers_org_id_price_list_id_fkey;
DROP TABLE price_list_items;
DROP TABLE price_lists;
DROP TABLE product_images;
