-- A customer's tax treatment is data on the customer (app/tax.CustomerTax):
-- the regime (general, recargo de equivalencia, exempt with its cause,
-- intra-EU reverse charge, export) and the IRPF retention it applies.
-- Quotes take it by default. Exempt causes are VERI*FACTU's codes
-- (OperacionExentaType, E1–E6).
--
-- Argentina gets the 0 % row the other countries have, for exempt and
-- export lines: Ley de IVA (t.o. 1997), arts. 7 (exenciones) and 8
-- (exportaciones exentas).

-- +goose Up
ALTER TABLE customers
    ADD COLUMN tax_regime   text         NOT NULL DEFAULT 'general'
        CHECK (tax_regime IN ('general', 'recargo', 'exempt', 'reverse_charge', 'export')),
    ADD COLUMN exempt_cause text         NOT NULL DEFAULT ''
        CHECK (exempt_cause IN ('', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6')),
    ADD COLUMN irpf_rate    numeric(5,2) NOT NULL DEFAULT 0 CHECK (irpf_rate IN (0, 7, 15)),
    -- Only an exempt customer has a cause; Spanish ones must (app/tax checks
    -- that, since the org's country decides it).
    ADD CONSTRAINT customers_exempt_cause_with_regime CHECK (exempt_cause = '' OR tax_regime = 'exempt');

INSERT INTO tax_rates (country, kind, rate, label, valid_from) VALUES
    ('AR', 'iva', 0, 'IVA 0 % / exento', '1998-01-01');

-- +goose Down
DELETE FROM tax_rates WHERE country = 'AR' AND kind = 'iva' AND rate = 0;
ALTER TABLE customers DROP CONSTRAINT customers_exempt_cause_with_regime,
    DROP COLUMN irpf_rate, DROP COLUMN exempt_cause, DROP COLUMN tax_regime;
