-- The least of billing the customer 360 needs for its "Ventas" tab: invoices
-- and what has been applied against them (payments, credits), so "saldo
-- utilizado" is a sum, not a stored figure that can drift. The billing issue
-- extends both tables (lines, taxes, status, Factura-E, SEPA remittances);
-- nothing here issues invoices yet.

-- +goose Up
CREATE TABLE invoices (
    org_id              bigint      NOT NULL REFERENCES orgs (id),
    id                  bigint      GENERATED ALWAYS AS IDENTITY,
    customer_id         bigint      NOT NULL,
    kind                text        NOT NULL CHECK (kind IN ('ordinary', 'corrective', 'summary', 'proforma', 'simplified')),
    series              text        NOT NULL CHECK (btrim(series) <> '' AND length(series) <= 20),
    number              integer     NOT NULL CHECK (number > 0),
    issue_date          date        NOT NULL,
    -- Minor units of the org's currency; a corrective invoice is negative
    -- when it gives money back.
    total               bigint      NOT NULL,
    -- The invoice a corrective (rectificativa) corrects.
    corrects_invoice_id bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, corrects_invoice_id) REFERENCES invoices (org_id, id),
    CHECK (kind = 'corrective' OR corrects_invoice_id IS NULL)
);
-- Numbers are unique per series in an org (gapless numbering comes with billing).
CREATE UNIQUE INDEX invoices_number_key ON invoices (org_id, series, number);
CREATE INDEX invoices_customer_idx ON invoices (org_id, customer_id, issue_date DESC, id DESC);

-- Money applied to an invoice: a payment received or a credit (abono)
-- offset against it.
CREATE TABLE invoice_allocations (
    org_id     bigint      NOT NULL REFERENCES orgs (id),
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    invoice_id bigint      NOT NULL,
    amount     bigint      NOT NULL CHECK (amount <> 0),
    kind       text        NOT NULL CHECK (kind IN ('payment', 'credit')),
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id)
);
CREATE INDEX invoice_allocations_invoice_idx ON invoice_allocations (org_id, invoice_id);

-- The customer timeline includes the history of the leads it came from.
CREATE INDEX leads_customer_idx ON leads (org_id, customer_id) WHERE customer_id IS NOT NULL;

-- +goose Down
DROP INDEX leads_customer_idx;
DROP TABLE invoice_allocations;
DROP TABLE invoices;
