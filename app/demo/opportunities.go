package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/queries"
)

var cancelReasonsDemo = []string{"Precio", "Eligió a la competencia", "Sin presupuesto", "No responde"}

var dealTitles = []string{
	"Renovación anual", "Ampliación de licencias", "Pedido de temporada", "Equipamiento de oficina",
	"Mantenimiento 2027", "Proyecto de reforma", "Suministro trimestral", "Formación del equipo",
	"Campaña de Navidad", "Instalación nueva sede", "Contrato marco", "Prueba piloto",
}

// seedOpportunities gives each demo org a pipeline that looks lived in:
// deals in every stage (about 120 in the Spanish org), each owned by its
// customer's owner, with a dated stage history, some won or cancelled with
// a reason, and some idle past their stage's limit.
func seedOpportunities(ctx context.Context, q *queries.Queries, org queries.Org, log *slog.Logger) error {
	if has, err := q.OrgHasCancelReasons(ctx, org.ID); err != nil || has {
		return err
	}
	var reasons []int64
	for _, name := range cancelReasonsDemo {
		r, err := q.CreateCancelReason(ctx, queries.CreateCancelReasonParams{OrgID: org.ID, Name: name})
		if err != nil {
			return err
		}
		reasons = append(reasons, r.ID)
	}
	rows, err := q.ListCustomers(ctx, queries.ListCustomersParams{OrgID: org.ID, PageSize: 200})
	if err != nil || len(rows) == 0 {
		return err
	}
	n := 120
	if org.Country != "ES" {
		n = 30
	}
	r := rand.New(rand.NewPCG(uint64(org.ID), 11))
	now := time.Now()
	path := []string{"en_analisis", "oferta_presentada", "en_negociacion"}
	for i := 0; i < n; i++ {
		cu := rows[i%len(rows)].Customer
		if cu.OwnerID == nil {
			continue
		}
		// Whole units for most deals; some with cents.
		amount := int64(500+r.IntN(60)*250) * 100
		if i%5 == 0 {
			amount += int64(r.IntN(100))
		}
		close := pgtype.Date{Time: time.Date(now.Year(), now.Month()+time.Month(r.IntN(5)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC), Valid: true}
		o, err := q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: org.ID, CustomerID: cu.ID,
			Title: fmt.Sprintf("%s · %s", dealTitles[r.IntN(len(dealTitles))], cu.LegalName), Amount: amount, Probability: 10,
			ExpectedClose: close, OwnerID: cu.OwnerID, CreatedBy: cu.OwnerID})
		if err != nil {
			return err
		}
		// Where the deal got to: 40 % still in analysis, then fewer each
		// stage; one in ten won, one in twenty cancelled.
		var target int
		switch x := r.IntN(100); {
		case x < 40:
			target = 0
		case x < 65:
			target = 1
		case x < 85:
			target = 2
		case x < 95:
			target = 3 // ganada
		default:
			target = 4 // cancelada
		}
		// Dates: the deal began 2 to 10 days ago and moved every few days;
		// every sixth began a month or more ago, so it has sat in its stage
		// past the stage's idle limit.
		start := now.Add(-time.Duration(2+r.IntN(9)) * 24 * time.Hour)
		if i%6 == 0 {
			start = now.Add(-time.Duration(30+r.IntN(20)) * 24 * time.Hour)
		}
		if err := q.SeedBackdateOpportunity(ctx, queries.SeedBackdateOpportunityParams{OrgID: org.ID, ID: o.ID, At: start}); err != nil {
			return err
		}
		if err := q.SeedBackdateFirstStage(ctx, queries.SeedBackdateFirstStageParams{OrgID: org.ID, OpportunityID: o.ID, At: start}); err != nil {
			return err
		}
		at := start
		step := func(stage string, reason *int64) error {
			at = at.Add(time.Duration(1+r.IntN(4)) * 24 * time.Hour)
			if at.After(now) {
				at = now.Add(-time.Hour)
			}
			_, err := q.SeedMoveOpportunity(ctx, queries.SeedMoveOpportunityParams{OrgID: org.ID, ID: o.ID, Stage: stage,
				CancelReasonID: reason, At: at, UpdatedBy: cu.OwnerID})
			return err
		}
		for s := 1; s <= target && s < len(path); s++ {
			if err := step(path[s], nil); err != nil {
				return err
			}
		}
		switch target {
		case 3:
			if err := step("ganada", nil); err != nil {
				return err
			}
		case 4:
			reason := reasons[r.IntN(len(reasons))]
			if err := step("cancelada", &reason); err != nil {
				return err
			}
		}
	}
	log.Info("seeded opportunities", "org", org.Name, "count", n)
	return nil
}
