-- Document numbers: gapless and correlative per series and year (RD
-- 1619/2012 art. 6.1.a for invoices; quotes, orders and delivery notes
-- follow the same rule so a customer never sees a hole). A number is taken
-- inside the transaction that issues the document: the series row stays
-- locked until that transaction ends, so a rollback gives the number back
-- and concurrent issuers queue instead of skipping.

-- +goose Up
CREATE TABLE number_series (
    org_id      bigint  NOT NULL REFERENCES orgs (id),
    id          bigint  GENERATED ALWAYS AS IDENTITY,
    kind        text    NOT NULL CHECK (kind IN (
                    'quote', 'order', 'delivery_note',
                    'invoice', 'corrective', 'simplified', 'summary', 'proforma')),
    -- Printed before the year: P-2026-0001. Correctives need their own code.
    code        text    NOT NULL CHECK (code ~ '^[A-Z0-9]{1,10}$'),
    year        integer NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    last_number integer NOT NULL CHECK (last_number >= 0),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, code, year)
);

-- +goose Down
DROP TABLE number_series;
