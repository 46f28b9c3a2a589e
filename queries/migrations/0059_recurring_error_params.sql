-- A template's refused period kept only its message id, and the page
-- rendered it without its parameters: a period refused by the plan's limit
-- read "los <no value> comprobantes del plan <no value>". last_error_params
-- keeps them, as store orders (0058) and month-end run items do.

-- +goose Up
ALTER TABLE recurring_invoices ADD COLUMN last_error_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(last_error_params) = 'object');

-- +goose Down
ALTER TABLE recurring_invoices DROP COLUMN last_error_params;
