-- Invoices that repeat, and the month-end run.
--
--   - recurring_invoices is a template: a customer, its lines, how often
--     (weekly on a weekday; monthly, quarterly or yearly on a day of the
--     month, clamped to the month's end), from when until when, and whether
--     each invoice is only issued or issued and sent. next_period is the
--     date of the first period not yet invoiced (NULL when the template has
--     no period left): the periodic job (app/invoices/recurring.RunDue)
--     issues every period whose date has come, oldest first.
--   - recurring_invoice_runs records each period invoiced. Its key (org,
--     template, period) is what makes a period invoiced exactly once,
--     whatever runs at the same time or is killed half-way: the row is
--     written in the transaction that issues the invoice.
--   - invoice_runs and invoice_run_items are the month-end run: every
--     customer with delivery notes of a month not yet invoiced gets one
--     recapitulativa; each customer's outcome (its invoice, or why not) is an
--     item, so a run killed half-way resumes where it was and a customer
--     that fails is reported without stopping the others.

-- +goose Up
CREATE TABLE recurring_invoices (
    org_id      bigint      NOT NULL REFERENCES orgs (id),
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    customer_id bigint      NOT NULL,
    -- What the office calls it ("Mantenimiento mensual").
    name        text        NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    frequency   text        NOT NULL CHECK (frequency IN ('weekly', 'monthly', 'quarterly', 'yearly')),
    -- ISO weekday (1 Monday … 7 Sunday) when weekly, else the day of the
    -- month (a 31 falls on the last day of shorter months).
    day         smallint    NOT NULL,
    start_on    date        NOT NULL,
    end_on      date,
    -- issue: the invoice is issued; issue_and_send: it is also sent to the
    -- customer once issued.
    mode        text        NOT NULL DEFAULT 'issue' CHECK (mode IN ('issue', 'issue_and_send')),
    notes       text        NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    -- Paused templates issue nothing; resuming does not invoice the periods
    -- that fell while paused (see recurring.Resume).
    active      boolean     NOT NULL DEFAULT true,
    next_period date,
    -- Why the last attempt at next_period was refused (an i18n id), so the
    -- office sees it and fixes the customer or the lines; '' when fine.
    last_error  text        NOT NULL DEFAULT '' CHECK (length(last_error) <= 200),
    last_error_at timestamptz,
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    CHECK (CASE frequency WHEN 'weekly' THEN day BETWEEN 1 AND 7 ELSE day BETWEEN 1 AND 31 END),
    CHECK (end_on IS NULL OR end_on >= start_on),
    -- No period before the start, none after the end.
    CHECK (next_period IS NULL OR (next_period >= start_on AND (end_on IS NULL OR next_period <= end_on)))
);
CREATE INDEX recurring_invoices_list_idx ON recurring_invoices (org_id, id DESC);
-- The periodic job's scan across orgs: only active templates with a period
-- left, by date.
CREATE INDEX recurring_invoices_due_idx ON recurring_invoices (next_period, org_id) WHERE active AND next_period IS NOT NULL;

-- The lines of a template: the same inputs as a hand-typed invoice line
-- (app/invoices.LineInput); prices and rates are checked again, against the
-- rates in force, each time a period is issued.
CREATE TABLE recurring_invoice_lines (
    org_id       bigint        NOT NULL,
    template_id  bigint        NOT NULL,
    position     integer       NOT NULL CHECK (position >= 1),
    product_id   bigint,
    description  text          NOT NULL CHECK (btrim(description) <> '' AND length(description) <= 1000),
    unit         text          NOT NULL DEFAULT 'ud',
    quantity     numeric(15,3) NOT NULL CHECK (quantity > 0),
    unit_price   bigint        NOT NULL CHECK (unit_price > 0),
    discount_pct numeric(5,2)  NOT NULL DEFAULT 0 CHECK (discount_pct >= 0 AND discount_pct < 100),
    tax_rate_id  bigint        NOT NULL REFERENCES tax_rates (id),
    PRIMARY KEY (org_id, template_id, position),
    FOREIGN KEY (org_id, template_id) REFERENCES recurring_invoices (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, product_id) REFERENCES products (org_id, id) ON DELETE SET NULL (product_id)
);

-- One row per period invoiced, written with the invoice. The primary key is
-- the exactly-once guarantee; an invoice belongs to one period.
CREATE TABLE recurring_invoice_runs (
    org_id       bigint      NOT NULL,
    template_id  bigint      NOT NULL,
    period_start date        NOT NULL,
    invoice_id   bigint      NOT NULL,
    -- The template asked for the invoice to be sent (mode issue_and_send
    -- when the period was issued).
    send         boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, template_id, period_start),
    UNIQUE (org_id, invoice_id),
    FOREIGN KEY (org_id, template_id) REFERENCES recurring_invoices (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id)
);

-- A month-end run: the month, how far it is and how it ended.
CREATE TABLE invoice_runs (
    org_id       bigint      NOT NULL REFERENCES orgs (id),
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    period_start date        NOT NULL,
    period_end   date        NOT NULL,
    state        text        NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done')),
    -- Customers to invoice (known once the run starts), done (invoiced) and
    -- failed (refused, each with its reason in invoice_run_items).
    total        integer     NOT NULL DEFAULT 0 CHECK (total >= 0),
    done         integer     NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed       integer     NOT NULL DEFAULT 0 CHECK (failed >= 0),
    created_by   bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id),
    -- A month: from its first day to its last.
    CHECK (extract(day FROM period_start) = 1 AND period_end = (period_start + interval '1 month' - interval '1 day')::date),
    CHECK (done + failed <= total),
    CHECK ((state = 'done') = (finished_at IS NOT NULL))
);
CREATE INDEX invoice_runs_list_idx ON invoice_runs (org_id, id DESC);
-- One unfinished run per org and month: a second click joins the first.
CREATE UNIQUE INDEX invoice_runs_one_open ON invoice_runs (org_id, period_start) WHERE state <> 'done';

-- What a run did for each customer: the invoice, or the reason it could not
-- (an i18n id and its parameters). One row per customer and run.
CREATE TABLE invoice_run_items (
    org_id       bigint      NOT NULL,
    run_id       bigint      NOT NULL,
    customer_id  bigint      NOT NULL,
    invoice_id   bigint,
    error        text        NOT NULL DEFAULT '' CHECK (length(error) <= 200),
    error_params jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, run_id, customer_id),
    FOREIGN KEY (org_id, run_id) REFERENCES invoice_runs (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, invoice_id) REFERENCES invoices (org_id, id),
    -- Either invoiced or refused with a reason.
    CHECK ((invoice_id IS NULL) = (error <> ''))
);

-- +goose Down
DROP TABLE invoice_run_items;
DROP TABLE invoice_runs;
DROP TABLE recurring_invoice_runs;
DROP TABLE recurring_invoice_lines;
DROP TABLE recurring_invoices;
