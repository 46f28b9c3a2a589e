package plans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/app/mail"
	"pulso/app/tasks"
	"pulso/queries"
	emailview "pulso/views/email"
)

// SubscriptionPath is the admins' Autogestión › Suscripción page, where
// quota alerts lead.
const SubscriptionPath = "/autogestion/suscripcion"

// Crossing names one threshold of one plan in one month of an org.
type Crossing struct {
	OrgID     int64
	Month     time.Time
	PlanID    int64
	Threshold int
}

// Alert raises a crossing's alert to every active admin of the org (bell,
// toast, alert centre) and e-mails each, in tx, once: a crossing already
// alerted is left alone, so the job and the sweep may both run it. baseURL
// makes the e-mail's link absolute.
func Alert(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], c Crossing, baseURL string, now time.Time) error {
	q := queries.New(tx)
	row, err := q.LockQuotaCrossing(ctx, queries.LockQuotaCrossingParams{OrgID: c.OrgID, Month: date(c.Month), PlanID: c.PlanID,
		Threshold: int16(c.Threshold)})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // rolled back with its voucher: nothing was crossed
	}
	if err != nil || row.AlertedAt != nil {
		return err
	}
	plan, err := q.GetPlan(ctx, c.PlanID)
	if err != nil {
		return err
	}
	org, err := q.GetOrgForInvoicing(ctx, c.OrgID)
	if err != nil {
		return err
	}
	admins, err := q.ListOrgAdmins(ctx, c.OrgID)
	if err != nil {
		return err
	}
	ids := make([]int64, len(admins))
	for i, a := range admins {
		ids[i] = a.ID
	}
	severity := "warning"
	if c.Threshold >= 100 {
		severity = "urgent"
	}
	month := c.Month.Format("2006-01")
	params := map[string]any{"Percent": c.Threshold, "Plan": plan.Name, "Used": row.Used, "Limit": row.Vouchers, "Month": month}
	if _, err := tasks.RaiseAlert(ctx, tx, jobs, tasks.Alert{OrgID: c.OrgID, Kind: "voucher_quota", Severity: severity,
		ObjectType: "subscription", ObjectID: c.OrgID, Key: fmt.Sprintf("%s:%d:%d", month, c.PlanID, c.Threshold),
		Title: fmt.Sprintf("%s · %d %% · %s", plan.Name, c.Threshold, month), TitleID: "alerts.voucher_quota_title",
		Params: params, Link: SubscriptionPath, Toast: true}, ids); err != nil {
		return err
	}
	for _, a := range admins {
		if _, err := mail.Enqueue(ctx, tx, jobs, mail.Message{OrgID: c.OrgID,
			Key: fmt.Sprintf("voucher-quota:%s:%d:%d:%d", month, c.PlanID, c.Threshold, a.ID), To: a.Email, ToName: a.Name,
			Locale: a.Locale, Template: mail.Quota(emailview.Quota{Name: a.Name, Org: org.Name, Plan: plan.Name,
				Percent: c.Threshold, Used: int(row.Used), Limit: int(row.Vouchers), Blocks: plan.AtLimit == Block,
				Link: baseURL + SubscriptionPath})}); err != nil {
			return err
		}
	}
	return q.MarkQuotaCrossingAlerted(ctx, queries.MarkQuotaCrossingAlertedParams{OrgID: c.OrgID, Month: date(c.Month),
		PlanID: c.PlanID, Threshold: int16(c.Threshold), At: &now})
}

// PendingCrossings are crossings not alerted a while after they happened:
// their job was lost, or their voucher was issued without a job client.
func PendingCrossings(ctx context.Context, q *queries.Queries, now time.Time) ([]Crossing, error) {
	rows, err := q.PendingQuotaCrossings(ctx, now.Add(-30*time.Second))
	out := make([]Crossing, len(rows))
	for i, r := range rows {
		out[i] = Crossing{OrgID: r.OrgID, Month: r.Month.Time, PlanID: r.PlanID, Threshold: int(r.Threshold)}
	}
	return out, err
}
