-- An F3 replaces simplified invoices and an R5 corrects one: both are now
-- priced as that invoice was, with IVA included when it was (the forms
-- copy its prices; taken as net, they added IVA a second time: a 15,91 €
-- ticket became an 18,59 € F3, TestSimplifiedInvoicePricedTaxIncluded).
-- Before, only simplified invoices and R5s by difference could be.

-- +goose Up
ALTER TABLE invoices DROP CONSTRAINT invoices_prices_include_tax_check,
    ADD CONSTRAINT invoices_prices_include_tax_check
        CHECK (NOT prices_include_tax OR kind IN ('simplified', 'replacement') OR kind = 'corrective' AND fiscal_type = 'R5');

-- +goose Down
ALTER TABLE invoices DROP CONSTRAINT invoices_prices_include_tax_check,
    ADD CONSTRAINT invoices_prices_include_tax_check
        CHECK (NOT prices_include_tax OR kind = 'simplified' OR kind = 'corrective' AND fiscal_type = 'R5');
