-- Which rates of a country are in force on a day, and in what order, had
-- its one statement (ListTaxRates); drafting an invoice now reads them with
-- the org and the customer in one round trip (GetInvoiceContext), so the
-- rule moves into a function both call.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tax_rates_on(p_country text, p_day date) RETURNS SETOF tax_rates
LANGUAGE sql STABLE AS $$
    SELECT * FROM tax_rates
    WHERE country = p_country AND valid_from <= p_day AND (valid_to IS NULL OR valid_to > p_day)
    ORDER BY kind, general DESC, rate DESC
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION tax_rates_on(text, date);
