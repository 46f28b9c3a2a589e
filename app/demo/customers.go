package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	"pulso/app/customers"
	"pulso/app/ident"
	"pulso/app/invoices"
	"pulso/app/money"
	"pulso/app/tax"
	"pulso/queries"
)

// Customer seed: about 80 Spanish companies and self-employed people spread
// over the Demo reps, a few Mexican ones, each with a valid tax id and (in
// Spain) a valid IBAN, an address and a contact; some qualified demo leads
// converted with an opportunity "en análisis"; and a few invoices so the
// Ventas tab has something to show. Seeded once per org.
var (
	customerKindsES = []string{"Construcciones", "Distribuciones", "Talleres", "Suministros", "Instalaciones", "Transportes",
		"Asesores", "Reformas", "Alimentación", "Hostelería", "Maderas", "Climatización", "Gráficas", "Frutas", "Recambios"}
	customerNamesES = []string{"Hermanos Ruiz", "del Levante", "Guadalquivir", "Montes de Toledo", "Costa Dorada", "Pirineo",
		"San Fermín", "La Giralda", "Ribera del Duero", "Albufera", "Sierra Nevada", "Cantábrico", "Vega Baja", "Tajo", "Miño"}
	legalFormsES    = []string{"S.L.", "S.L.", "S.L.", "S.A.", "S.L.U.", "S.Coop."}
	selfEmployedES  = []string{"María José Ortega Vidal", "Antonio Delgado Ruiz", "Nuria Campos Serrano", "Jorge Pascual Herrero", "Isabel Cano Prieto", "Raúl Méndez Iglesias"}
	streetsES       = []string{"Calle Mayor", "Avenida de la Constitución", "Calle Real", "Paseo de la Castellana", "Calle San Vicente", "Gran Vía", "Calle Alcalá", "Rambla Nova"}
	placesCustES    = [][3]string{{"Madrid", "Madrid", "28"}, {"Barcelona", "Barcelona", "08"}, {"Valencia", "Valencia", "46"}, {"Sevilla", "Sevilla", "41"}, {"Zaragoza", "Zaragoza", "50"}, {"Málaga", "Málaga", "29"}, {"Bilbao", "Bizkaia", "48"}, {"Murcia", "Murcia", "30"}, {"Valladolid", "Valladolid", "47"}, {"A Coruña", "A Coruña", "15"}}
	banksES         = []string{"2100", "0049", "0182", "0081", "2085", "0128"}
	jobTitlesES     = []string{"Gerente", "Responsable de compras", "Administración", "Director financiero", "Jefa de obra", "Propietario"}
	customerNamesMX = []string{"Abarrotes La Central", "Ferretera del Bajío", "Transportes Anáhuac", "Comercializadora Maya", "Refacciones Monterrey"}
	opportunityES   = []string{"Suministro anual", "Renovación de equipos", "Ampliación de pedido", "Contrato de mantenimiento", "Primer pedido"}
)

// withCheck completes an identifier body with the first check character
// that app/ident accepts: ident is the one source of the checksum rules.
func withCheck(body, country, candidates string) string {
	for _, c := range candidates {
		id, err := ident.NormalizeTaxID(body+string(c), country)
		if err == nil && (country != "MX" || ident.RFCCheckOK(id)) {
			return id
		}
	}
	panic("demo: no check character makes a valid tax id for " + body)
}

// cccDigit is one control digit of a Spanish account number (CCC): weights
// 1,2,4,8,5,10,9,7,3,6 over ten digits, 11 minus the sum mod 11, where 10
// counts as 1 and 11 as 0.
func cccDigit(ten string) byte {
	weights := []int{1, 2, 4, 8, 5, 10, 9, 7, 3, 6}
	sum := 0
	for i := range ten {
		sum += int(ten[i]-'0') * weights[i]
	}
	d := 11 - sum%11
	switch d {
	case 10:
		d = 1
	case 11:
		d = 0
	}
	return byte('0' + d)
}

// spanishIBAN builds a valid IBAN: the CCC's control digits, then the IBAN
// check digits by ISO 7064 mod 97-10 (98 minus the remainder of the BBAN
// followed by "ES00", letters as 10–35).
func spanishIBAN(bank, branch, account string) string {
	ccc := bank + branch + string(cccDigit("00"+bank+branch)) + string(cccDigit(account)) + account
	n, _ := new(big.Int).SetString(ccc+"142800", 10) // E=14, S=28, 00
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	iban := fmt.Sprintf("ES%02d%s", check, ccc)
	if _, err := ident.NormalizeIBAN(iban); err != nil {
		panic("demo: built an invalid IBAN " + iban)
	}
	return iban
}

func seedCustomers(ctx context.Context, tx pgx.Tx, org queries.Org, users map[string]int64, log *slog.Logger) error {
	q := queries.New(tx)
	if has, err := q.OrgHasCustomers(ctx, org.ID); err != nil || has {
		return err
	}
	var owners []int64
	for _, email := range []string{"rep@demo.test", "rep2@demo.test", "manager@demo.test", "rep@otra.test"} {
		if id, ok := users[email]; ok {
			owners = append(owners, id)
		}
	}
	if len(owners) == 0 {
		return nil
	}
	r := rand.New(rand.NewPCG(uint64(org.ID), 7))
	n := 80
	if org.Country != "ES" {
		n = len(customerNamesMX)
	}
	seen := map[string]bool{}
	var invoiced []queries.Customer
	for i := 0; i < n; i++ {
		owner := owners[i%len(owners)]
		p := queries.CreateCustomerParams{
			OrgID: org.ID, Country: org.Country, PaymentTermsDays: []int32{30, 30, 60, 0, 90}[r.IntN(5)],
			OwnerID: &owner, CreatedBy: &owner, Tags: [][]string{{}, {}, {"vip"}, {"feria"}, {"recurrente"}}[r.IntN(5)],
		}
		var place [3]string
		if org.Country == "ES" {
			place = placesCustES[r.IntN(len(placesCustES))]
			if i%8 == 7 {
				// Self-employed: a person with a DNI (NIF) or NIE.
				p.LegalName = selfEmployedES[r.IntN(len(selfEmployedES))]
				if i%16 == 15 {
					p.TaxID = withCheck(fmt.Sprintf("%c%07d", "XYZ"[r.IntN(3)], r.IntN(10_000_000)), "ES", "TRWAGMYFPDXBNJZSQVHLCKE")
				} else {
					p.TaxID = withCheck(fmt.Sprintf("%08d", r.IntN(100_000_000)), "ES", "TRWAGMYFPDXBNJZSQVHLCKE")
				}
			} else {
				kind, name := customerKindsES[r.IntN(len(customerKindsES))], customerNamesES[r.IntN(len(customerNamesES))]
				form := legalFormsES[r.IntN(len(legalFormsES))]
				p.LegalName = fmt.Sprintf("%s %s %s", kind, name, form)
				p.TradeName = fmt.Sprintf("%s %s", kind, name)
				letter := "B"
				if form == "S.A." {
					letter = "A"
				} else if form == "S.Coop." {
					letter = "F"
				}
				p.TaxID = withCheck(fmt.Sprintf("%s%07d", letter, r.IntN(10_000_000)), "ES", "0123456789")
			}
			p.Phone = fmt.Sprintf("+349%08d", 10_000_000+r.IntN(80_000_000))
			p.Iban = spanishIBAN(banksES[r.IntN(len(banksES))], fmt.Sprintf("%04d", r.IntN(10_000)), fmt.Sprintf("%010d", r.IntN(1_000_000_000)))
			if i%3 == 0 {
				p.SepaMandateRef = fmt.Sprintf("DEMO-%05d", i+1)
				p.SepaMandateDate = pgtype.Date{Time: time.Date(2023, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC), Valid: true}
			}
		} else {
			place = [3]string{"Ciudad de México", "Ciudad de México", "06"}
			p.LegalName = customerNamesMX[i] + " S.A. de C.V."
			p.TradeName = customerNamesMX[i]
			words := strings.Fields(strings.ToUpper(strings.NewReplacer("á", "A", "í", "I").Replace(customerNamesMX[i])))
			initials := ""
			for _, w := range words {
				initials += w[:1]
			}
			for len(initials) < 3 {
				initials += "X"
			}
			p.TaxID = withCheck(fmt.Sprintf("%s%02d%02d%02d%c%c", initials[:3], 5+i, 1+i, 10+i, 'A'+rune(i), '1'+rune(i)), "MX", "0123456789A")
			p.Phone = fmt.Sprintf("+5255%08d", r.IntN(100_000_000))
		}
		if seen[p.TaxID] {
			continue // the unique index would refuse it; one fewer customer
		}
		seen[p.TaxID] = true
		// A domain from the first two words of the name: "transportes-ribera".
		words := strings.Fields(asciiLower(p.LegalName))
		slug := strings.Join(words[:min(2, len(words))], "-")
		p.Email = fmt.Sprintf("administracion@%s-%d.example", slug, i)
		// A few customers under each tax regime, so quotes show them.
		if org.Country == "ES" {
			regime, cause := map[int]string{4: "recargo", 5: "recargo", 6: "exempt", 7: "export", 8: "reverse_charge"}[i], ""
			if regime == "exempt" {
				cause = "E1"
			}
			if regime != "" {
				p.TaxRegime, p.ExemptCause = &regime, &cause
			}
			if i == 9 {
				p.IrpfRate = money.Numeric(decimal.NewFromInt(15))
			}
		}
		cu, err := q.CreateCustomer(ctx, p)
		if err != nil {
			return err
		}
		street := streetsES[r.IntN(len(streetsES))]
		if err := q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{
			OrgID: org.ID, CustomerID: cu.ID, Kind: "billing", Street: fmt.Sprintf("%s %d", street, 1+r.IntN(120)),
			PostalCode: fmt.Sprintf("%s%03d", place[2], r.IntN(1000)), City: place[0], Province: place[1], Country: org.Country,
		}); err != nil {
			return err
		}
		person := peopleES[r.IntN(len(peopleES))]
		if _, err := q.CreateCustomerContact(ctx, queries.CreateCustomerContactParams{
			OrgID: org.ID, CustomerID: cu.ID, Name: person, JobTitle: jobTitlesES[r.IntN(len(jobTitlesES))],
			Email: fmt.Sprintf("%s@%s-%d.example", asciiLower(strings.Fields(person)[0]), slug, i), Phone: p.Phone, IsPrimary: true,
		}); err != nil {
			return err
		}
		if _, err := q.InsertActivity(ctx, queries.InsertActivityParams{OrgID: org.ID, CustomerID: &cu.ID, ActorID: &owner, Kind: "created", Data: []byte(`{}`)}); err != nil {
			return err
		}
		if org.Country == "ES" && owner == users["rep@demo.test"] && len(invoiced) < 4 {
			invoiced = append(invoiced, cu)
		}
	}
	if err := seedInvoices(ctx, tx, org, invoiced); err != nil {
		return err
	}
	converted, err := convertDemoLeads(ctx, q, org, r)
	if err != nil {
		return err
	}
	log.Info("seeded customers", "org", org.Name, "count", n, "converted_leads", converted)
	return nil
}

// seedInvoices gives a few customers invoices issued as the app issues
// them (numbered F-2025-…, in date order), payments, and a corrective with
// its credit, so "Saldo utilizado" shows partial, full and none.
func seedInvoices(ctx context.Context, tx pgx.Tx, org queries.Org, cs []queries.Customer) error {
	if len(cs) == 0 {
		return nil
	}
	q := queries.New(tx)
	rate := int64(0)
	rates, err := tax.RatesOn(ctx, q, org.Country, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	for _, r := range rates {
		if r.Kind == "iva" && r.Rate.Equal(decimal.NewFromInt(21)) {
			rate = r.ID
		}
	}
	type planned struct {
		i, k int
		cu   queries.Customer
		date time.Time
	}
	var plan []planned
	for i, cu := range cs {
		for k := 0; k < 2; k++ {
			plan = append(plan, planned{i, k, cu, time.Date(2025, time.Month(2+k*3+i), 10, 0, 0, 0, 0, time.UTC)})
		}
	}
	// Numbers follow dates within a series.
	slices.SortStableFunc(plan, func(a, b planned) int { return a.date.Compare(b.date) })
	now := time.Now()
	issue := func(in invoices.DraftInput, date time.Time) (queries.Invoice, error) {
		in.OrgID, in.Now = org.ID, now
		return invoices.DraftAndIssue(ctx, tx, in, invoices.IssueInput{OrgID: org.ID, Locale: "es", IssueDate: date, Now: now})
	}
	var first queries.Invoice
	for _, p := range plan {
		cu := p.cu
		inv, err := issue(invoices.DraftInput{Kind: invoices.Ordinary, CustomerID: &cu.ID, Lines: []invoices.LineInput{{
			Description: "Suministro de material", Unit: "ud", Quantity: decimal.NewFromInt(1),
			UnitPrice: int64(100_000 + 30_000*p.i + 50_000*p.k), TaxRateID: rate}}}, p.date)
		if err != nil {
			return err
		}
		switch {
		case p.k == 0:
			if p.i == 0 {
				first = inv
			}
			if _, err := q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: org.ID, InvoiceID: inv.ID, Amount: inv.Total, Kind: "payment"}); err != nil {
				return err
			}
		case p.i%2 == 0:
			if _, err := q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: org.ID, InvoiceID: inv.ID, Amount: inv.Total / 2, Kind: "payment"}); err != nil {
				return err
			}
		}
	}
	corr, err := issue(invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Descuento por volumen no aplicado", Corrects: []int64{first.ID}, CustomerID: first.CustomerID,
		Lines: []invoices.LineInput{{Description: "Descuento por volumen", Unit: "ud", Quantity: decimal.NewFromInt(-1), UnitPrice: 10_000, TaxRateID: rate}}},
		time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	_, err = q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: org.ID, InvoiceID: corr.ID, Amount: corr.Total, Kind: "credit"})
	return err
}

// convertDemoLeads turns some qualified demo leads into customers with an
// opportunity in "en análisis", the way a rep's conversion does.
func convertDemoLeads(ctx context.Context, q *queries.Queries, org queries.Org, r *rand.Rand) (int, error) {
	leads, err := q.ListLeads(ctx, queries.ListLeadsParams{OrgID: org.ID, Status: ptr("cualificado"), PageSize: 8})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range leads {
		if l.OwnerID == nil {
			continue
		}
		opp := &customers.Opportunity{Title: opportunityES[r.IntN(len(opportunityES))], Amount: int64(50_000 + r.IntN(2_000_000))}
		if _, err := customers.ConvertLead(ctx, q, org.ID, *l.OwnerID, l.ID, nil, opp); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func ptr[T any](v T) *T { return &v }

// asciiLower makes names fit for demo e-mail addresses: "Lucía" → "lucia".
func asciiLower(s string) string {
	return strings.NewReplacer(".", "", "á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ñ", "n", "ü", "u").Replace(strings.ToLower(s))
}
