package demo

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/calendar"
	"pulso/queries"
)

// demoSources is how often each lead source brings a deal in the demo.
var demoSources = []string{"manual", "manual", "web_form", "web_form", "email", "import", "api"}

// seedDealHistory gives the dashboard and the reports a past: deals
// created in each of the last 14 months, moved through the stages over a
// few days and won or lost (with a reason), so "this month vs last month vs
// the same month last year" and the year-on-year tables have figures on
// first start. Deals get a source and a product line (the catalog's
// groups, seeded with the quotes), the open ones included. It runs once:
// an org whose deals already reach back three months is left alone.
func seedDealHistory(ctx context.Context, q *queries.Queries, org queries.Org, log *slog.Logger) error {
	if has, err := q.SeedHasDealHistory(ctx, org.ID); err != nil || has {
		return err
	}
	groups, err := q.ListArticleGroups(ctx, org.ID)
	if err != nil {
		return err
	}
	reasons, err := q.ListCancelReasons(ctx, org.ID)
	if err != nil || len(reasons) == 0 {
		return err
	}
	rows, err := q.ListCustomers(ctx, queries.ListCustomersParams{OrgID: org.ID, PageSize: 200})
	if err != nil || len(rows) == 0 {
		return err
	}
	zone := calendar.ZoneOrUTC(org.TimeZone)
	r := rand.New(rand.NewPCG(uint64(org.ID), 16))
	origin := func(id int64) error {
		var g *int64
		if len(groups) > 0 && r.IntN(5) > 0 {
			g = &groups[r.IntN(len(groups))].ID
		}
		return q.SeedOpportunityOrigin(ctx, queries.SeedOpportunityOriginParams{OrgID: org.ID, ID: id,
			Source: demoSources[r.IntN(len(demoSources))], ArticleGroupID: g})
	}
	// The live pipeline seeded before gets origins too.
	open, err := q.ListOpportunities(ctx, queries.ListOpportunitiesParams{OrgID: org.ID, PageSize: 500})
	if err != nil {
		return err
	}
	for _, o := range open {
		if err := origin(o.ID); err != nil {
			return err
		}
	}
	now := time.Now()
	perMonth := 10
	if org.Country != "ES" {
		perMonth = 3
	}
	this := time.Date(now.In(zone).Year(), now.In(zone).Month(), 1, 0, 0, 0, 0, zone)
	count := 0
	for back := 14; back >= 1; back-- {
		month := this.AddDate(0, -back, 0)
		for i := 0; i < perMonth+r.IntN(5); i++ {
			cu := rows[r.IntN(len(rows))].Customer
			if cu.OwnerID == nil {
				continue
			}
			start := month.Add(time.Duration(r.IntN(20*24)+8) * time.Hour)
			o, err := q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: org.ID, CustomerID: cu.ID,
				Title: fmt.Sprintf("%s · %s", dealTitles[r.IntN(len(dealTitles))], cu.LegalName), Amount: int64(800+r.IntN(80)*250) * 100,
				Probability: 10, ExpectedClose: pgtype.Date{Time: time.Date(start.Year(), start.Month(), 28, 0, 0, 0, 0, time.UTC), Valid: true},
				OwnerID: cu.OwnerID, CreatedBy: cu.OwnerID})
			if err != nil {
				return err
			}
			if err := origin(o.ID); err != nil {
				return err
			}
			if err := q.SeedBackdateOpportunity(ctx, queries.SeedBackdateOpportunityParams{OrgID: org.ID, ID: o.ID, At: start}); err != nil {
				return err
			}
			if err := q.SeedBackdateFirstStage(ctx, queries.SeedBackdateFirstStageParams{OrgID: org.ID, OpportunityID: o.ID, At: start}); err != nil {
				return err
			}
			at := start
			move := func(stage string, reason *int64) error {
				at = at.Add(time.Duration(24+r.IntN(5*24)) * time.Hour)
				if at.After(now) {
					at = now.Add(-time.Hour)
				}
				_, err := q.SeedMoveOpportunity(ctx, queries.SeedMoveOpportunityParams{OrgID: org.ID, ID: o.ID, Stage: stage,
					CancelReasonID: reason, At: at, UpdatedBy: cu.OwnerID})
				return err
			}
			path := []string{"oferta_presentada"}
			if r.IntN(10) < 7 {
				path = append(path, "en_negociacion")
			}
			for _, s := range path {
				if err := move(s, nil); err != nil {
					return err
				}
			}
			// A bit more than half are won; the rest are lost for a reason.
			if r.IntN(100) < 55 {
				err = move("ganada", nil)
			} else {
				err = move("cancelada", &reasons[r.IntN(len(reasons))].ID)
			}
			if err != nil {
				return err
			}
			count++
		}
	}
	log.Info("seeded deal history", "org", org.Name, "count", count)
	return nil
}
