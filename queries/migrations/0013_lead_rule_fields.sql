-- Assignment rules may also test one field of the lead: equal to, or
-- containing, a value (case-insensitive), e.g. e-mail contains "@acme.es"
-- or city equals "Sevilla".

-- +goose Up
ALTER TABLE lead_rules
    ADD COLUMN field       text NOT NULL DEFAULT ''
        CHECK (field IN ('', 'name', 'contact_name', 'email', 'phone', 'tax_id', 'city', 'notes')),
    ADD COLUMN field_op    text NOT NULL DEFAULT '' CHECK (field_op IN ('', 'equals', 'contains')),
    ADD COLUMN field_value text NOT NULL DEFAULT '' CHECK (length(field_value) <= 200),
    ADD CHECK ((field = '') = (field_value = '') AND (field = '') = (field_op = ''));

-- +goose Down
ALTER TABLE lead_rules DROP COLUMN field_value, DROP COLUMN field_op, DROP COLUMN field;
