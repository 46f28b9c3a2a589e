-- name: ListTaxRates :many
-- The rates of a country in force on a day, the general one first, then
-- highest first, within each kind.
SELECT * FROM tax_rates
WHERE country = @country AND valid_from <= @on_day AND (valid_to IS NULL OR valid_to > @on_day)
ORDER BY kind, general DESC, rate DESC;
