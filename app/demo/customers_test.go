package demo_test

import (
	"context"
	"testing"

	"pulso/app/ident"
)

func seededCustomersAreValidAndSeededOnce(t *testing.T, d *seededDemo) {
	env := d.env
	ctx := context.Background()
	rows, err := env.DB.Query(ctx, `
		SELECT o.name, c.country, c.tax_id, c.iban, c.email, c.owner_id IS NOT NULL,
		       (SELECT count(*) FROM customer_addresses a WHERE a.org_id = c.org_id AND a.customer_id = c.id),
		       (SELECT count(*) FROM customer_contacts k WHERE k.org_id = c.org_id AND k.customer_id = c.id AND k.is_primary),
		       EXISTS (SELECT 1 FROM leads l WHERE l.org_id = c.org_id AND l.customer_id = c.id)
		FROM customers c JOIN orgs o ON o.id = c.org_id`)
	if err != nil {
		t.Fatal(err)
	}
	perOrg := map[string]int{}
	owners := map[bool]int{}
	for rows.Next() {
		var org, country, taxID, iban, email string
		var owned bool
		var addresses, contacts int
		var fromLead bool
		if err := rows.Scan(&org, &country, &taxID, &iban, &email, &owned, &addresses, &contacts, &fromLead); err != nil {
			t.Fatal(err)
		}
		if fromLead && taxID == "" {
			continue // a converted demo lead that had no tax id (the Mexican ones)
		}
		perOrg[org]++
		if got, err := ident.NormalizeEmail(email); err != nil || got != email {
			t.Errorf("e-mail %q is not canonical: %v", email, err)
		}
		owners[owned]++
		if got, err := ident.NormalizeTaxID(taxID, country); err != nil || got != taxID {
			t.Errorf("%s: tax id %q invalid: %v", org, taxID, err)
		}
		if country == "MX" && !ident.RFCCheckOK(taxID) {
			t.Errorf("RFC %s has a wrong check character", taxID)
		}
		if country == "ES" && iban != "" {
			if got, err := ident.NormalizeIBAN(iban); err != nil || got != iban {
				t.Errorf("IBAN %q invalid: %v", iban, err)
			}
		}
		if addresses < 1 || contacts != 1 {
			t.Errorf("%s %s: %d addresses, %d primary contacts", org, taxID, addresses, contacts)
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	if n := perOrg["Demo Ventas S.L."]; n < 80 || n > 100 {
		t.Errorf("Demo Ventas has %d customers", n)
	}
	if n := perOrg["Otra Empresa S.A. de C.V."]; n < 3 {
		t.Errorf("the Mexican org has %d customers", n)
	}
	if owners[false] != 0 {
		t.Errorf("%d customers without an owner", owners[false])
	}
	// Customers are spread over the Demo reps and the manager.
	if n := env.Count(`SELECT count(DISTINCT owner_id) FROM customers c JOIN orgs o ON o.id = c.org_id WHERE o.name = 'Demo Ventas S.L.'`); n != 3 {
		t.Errorf("Demo customers have %d owners", n)
	}
	if n := env.Count(`SELECT count(*) FROM opportunities o JOIN leads l ON l.org_id = o.org_id AND l.opportunity_id = o.id
		WHERE o.stage = 'en_analisis' AND l.status = 'convertido' AND l.customer_id = o.customer_id`); n < 3 {
		t.Errorf("%d opportunities from converted demo leads", n)
	}
	if n := env.Count(`SELECT count(*) FROM invoices WHERE kind = 'corrective'`); n != 1 {
		t.Errorf("%d corrective invoices", n)
	}
}
