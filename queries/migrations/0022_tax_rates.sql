-- Tax rates are data, not code: one row per country, kind and rate, with
-- the dates it applies between, so a change of law is a new row and old
-- documents keep the rate they were issued with. Reference data shared by
-- every org (an org's products point at a row).
--
-- Sources:
--   ES IVA 21/10/4 %: Ley 37/1992 del IVA, arts. 90 and 91; 0 % for the
--     basic foods of Real Decreto-ley 20/2022 (extended to 31/12/2024,
--     then back to 4 %) — kept as a rate for exempt/zero-rated lines.
--   ES recargo de equivalencia 5,2/1,4/0,5 %: Ley 37/1992, art. 161.
--   ES IRPF withholding 15 % (7 % for new professionals, first three
--     years): Ley 35/2006 del IRPF, art. 101.5; RD 439/2007, art. 95.
--   MX IVA 16 %, 0 %: Ley del IVA, arts. 1 and 2-A; 8 %: Decreto de
--     estímulos fiscales región fronteriza (DOF 30/12/2020, extended).
--   AR IVA 21 %, 10,5 %, 27 %: Ley de IVA (t.o. 1997), art. 28.

-- +goose Up
CREATE TABLE tax_rates (
    id         bigint       GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    country    text         NOT NULL CHECK (country IN ('ES', 'MX', 'AR')),
    kind       text         NOT NULL CHECK (kind IN ('iva', 'recargo', 'irpf')),
    rate       numeric(5,2) NOT NULL CHECK (rate >= 0 AND rate < 100),
    label      text         NOT NULL,
    valid_from date         NOT NULL,
    valid_to   date,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    UNIQUE (country, kind, rate, valid_from)
);

INSERT INTO tax_rates (country, kind, rate, label, valid_from) VALUES
    ('ES', 'iva', 21, 'IVA general 21 %', '2012-09-01'),
    ('ES', 'iva', 10, 'IVA reducido 10 %', '2012-09-01'),
    ('ES', 'iva', 4, 'IVA superreducido 4 %', '1995-01-01'),
    ('ES', 'iva', 0, 'IVA 0 % / exento', '1993-01-01'),
    ('ES', 'recargo', 5.2, 'Recargo de equivalencia 5,2 %', '2012-09-01'),
    ('ES', 'recargo', 1.4, 'Recargo de equivalencia 1,4 %', '2012-09-01'),
    ('ES', 'recargo', 0.5, 'Recargo de equivalencia 0,5 %', '1995-01-01'),
    ('ES', 'irpf', 15, 'Retención IRPF 15 %', '2016-01-01'),
    ('ES', 'irpf', 7, 'Retención IRPF 7 % (inicio de actividad)', '2015-01-01'),
    ('MX', 'iva', 16, 'IVA 16 %', '2010-01-01'),
    ('MX', 'iva', 8, 'IVA 8 % región fronteriza', '2019-01-01'),
    ('MX', 'iva', 0, 'IVA 0 %', '1980-01-01'),
    ('AR', 'iva', 21, 'IVA general 21 %', '1995-04-01'),
    ('AR', 'iva', 10.5, 'IVA reducido 10,5 %', '1998-01-01'),
    ('AR', 'iva', 27, 'IVA 27 % (servicios públicos)', '1995-04-01');

-- +goose Down
DROP TABLE tax_rates;
