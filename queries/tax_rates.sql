-- name: ListTaxRates :many
-- The rates of a country in force on a day, the general one first, then
-- highest first, within each kind.
SELECT * FROM tax_rates_on(@country, @on_day);
