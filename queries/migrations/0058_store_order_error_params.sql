-- Why a store order did not become (or stay) a voucher was stored as the
-- text of invoices.Invalid ("invoices: customer_tax_id:
-- invoices.customer_tax_id_required"), and the plan's limit as a Spanish
-- sentence: the store page showed field ids, and Spanish to English
-- readers. error now holds the message id and error_params its
-- parameters, rendered in the reader's language. Rows written before keep
-- their text, which the page shows as it is.

-- +goose Up
ALTER TABLE store_orders ADD COLUMN error_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(error_params) = 'object');

-- +goose Down
ALTER TABLE store_orders DROP COLUMN error_params;
