package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"

	"pulso/queries"
)

// Lead seed: a deterministic mix of Spanish (or Mexican) businesses spread
// over the org's reps, with valid tax ids, so lists, filters, search and
// duplicate warnings have something real to show. Seeded once per org.
var (
	tradesES  = []string{"Ferretería", "Panadería", "Talleres", "Distribuciones", "Clínica Dental", "Asesoría", "Construcciones", "Farmacia", "Bodegas", "Transportes", "Electricidad", "Imprenta", "Óptica", "Hostal", "Carpintería"}
	namesES   = []string{"Sol", "Levante", "del Norte", "Martínez", "Guadalquivir", "Ebro", "Hermanos Ruiz", "La Esperanza", "Montaña", "Costa Brava", "San Isidro", "El Roble", "Mediterráneo", "Castilla", "Albaicín"}
	peopleES  = []string{"Lucía García", "Javier López", "Carmen Sánchez", "Pablo Fernández", "Marta Romero", "Sergio Navarro", "Elena Torres", "Andrés Molina", "Laura Ortega", "Diego Castro"}
	placesES  = [][2]string{{"Madrid", "Madrid"}, {"Barcelona", "Barcelona"}, {"Valencia", "Valencia"}, {"Sevilla", "Sevilla"}, {"Zaragoza", "Zaragoza"}, {"Málaga", "Málaga"}, {"Bilbao", "Bizkaia"}, {"Murcia", "Murcia"}}
	statusMix = []string{"nuevo", "nuevo", "nuevo", "contactado", "contactado", "cualificado", "descartado"}
	sourceMix = []string{"manual", "manual", "import", "web_form", "email"}
	tagMix    = [][]string{{}, {}, {"feria"}, {"recomendado"}, {"feria", "urgente"}}
)

// nifLetter is the DNI control letter (Ministerio del Interior rule, see
// shared/conformance/RULES.md).
func nifLetter(n int) byte { return "TRWAGMYFPDXBNJZSQVHLCKE"[n%23] }

// cifControl is the entity-NIF control digit: Luhn over the 7 digits.
func cifControl(digits string) byte {
	sum := 0
	for i, ch := range digits {
		d := int(ch - '0')
		if i%2 == 0 {
			d *= 2
			d = d/10 + d%10
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func seedLeads(ctx context.Context, q *queries.Queries, org queries.Org, users map[string]int64, log *slog.Logger) error {
	if has, err := q.OrgHasLeads(ctx, org.ID); err != nil || has {
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
	n := 200
	if org.Country != "ES" {
		n = 20
	}
	r := rand.New(rand.NewPCG(uint64(org.ID), 42))
	for i := 0; i < n; i++ {
		trade, name := tradesES[r.IntN(len(tradesES))], namesES[r.IntN(len(namesES))]
		place := placesES[r.IntN(len(placesES))]
		status := statusMix[r.IntN(len(statusMix))]
		p := queries.CreateLeadParams{
			OrgID: org.ID, Name: fmt.Sprintf("%s %s", trade, name), ContactName: peopleES[r.IntN(len(peopleES))],
			Email:   fmt.Sprintf("contacto%03d@%s.example", i, []string{"correo", "empresa", "negocio"}[i%3]),
			Country: org.Country, Province: place[1], City: place[0],
			Source: sourceMix[r.IntN(len(sourceMix))], Status: status, Tags: tagMix[r.IntN(len(tagMix))],
		}
		owner := owners[i%len(owners)]
		p.OwnerID, p.CreatedBy = &owner, &owner
		if org.Country == "ES" {
			p.Phone = fmt.Sprintf("+346%08d", r.IntN(100_000_000))
			if i%2 == 0 {
				digits := fmt.Sprintf("%07d", r.IntN(10_000_000))
				p.TaxID = "B" + digits + string(cifControl(digits))
			} else {
				num := r.IntN(100_000_000)
				p.TaxID = fmt.Sprintf("%08d%c", num, nifLetter(num))
			}
		} else {
			p.Province, p.City = "Ciudad de México", "Ciudad de México"
			p.Phone = fmt.Sprintf("+5255%08d", r.IntN(100_000_000))
		}
		if status == "descartado" {
			p.DiscardReason = "Sin presupuesto este año"
		}
		if _, err := q.CreateLead(ctx, p); err != nil {
			return err
		}
	}
	log.Info("seeded leads", "org", org.Name, "count", n)
	return nil
}
