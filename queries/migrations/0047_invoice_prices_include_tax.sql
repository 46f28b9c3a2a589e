-- A sale made at a price that includes tax (a shop's ticket, a store
-- order) is invoiced as it was made: the lines' unit prices include IVA,
-- and each rate's base and tax are taken out of what the buyer paid
-- (tax.ComputeIncluded). Priced net instead, about one total in six at
-- 21 % has no base whose total is what was paid, and the voucher came out
-- a cent below the sale. Only simplified invoices are priced so: a
-- complete invoice itemises net prices.

-- +goose Up
ALTER TABLE invoices
    ADD COLUMN prices_include_tax boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT invoices_prices_include_tax_check CHECK (NOT prices_include_tax OR kind = 'simplified');

-- +goose Down
ALTER TABLE invoices DROP COLUMN prices_include_tax;
