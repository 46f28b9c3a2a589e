-- Pulso invoices its plans through its own invoicing, and an invoice is in
-- its issuer's currency: one operator org per currency (Pulso's company in
-- Spain, Mexico and Argentina), so every subscriber's charge is a real
-- invoice of the operator that sells in its currency.

-- +goose Up
DROP INDEX orgs_operator_key;
CREATE UNIQUE INDEX orgs_operator_currency_key ON orgs (currency) WHERE operator;

-- +goose Down
DROP INDEX orgs_operator_currency_key;
CREATE UNIQUE INDEX orgs_operator_key ON orgs (operator) WHERE operator;
