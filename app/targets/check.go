package targets

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/live"
	"pulso/app/stats"
	"pulso/app/tasks"
	"pulso/queries"
)

// alertTitles are the notifications' texts, by threshold.
var alertTitles = map[Threshold]string{Behind: "alerts.target_behind_title", Reached: "alerts.target_reached_title"}

// alertKey names one threshold of one target: the alert centre keeps one
// alert per recipient and key (ListCurrentTargets spells it too).
func alertKey(targetID int64, t Threshold) string { return fmt.Sprintf("target:%d:%s", targetID, t) }

// Check evaluates user's target of month m as of now and, when it has
// crossed a threshold, raises that alert for the user and their manager
// (toast, bell and alert centre), once per target and threshold. "Behind"
// is judged only in the month itself. It returns how many alerts are new;
// no target, or nothing crossed, gives 0, so the job and the sweep may both
// run, and run again, safely.
func Check(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], orgID, user int64, m stats.Month, now time.Time) (int, error) {
	q := queries.New(tx)
	t, err := q.GetSalesTarget(ctx, queries.GetSalesTargetParams{OrgID: orgID, UserID: user, Month: pgtype.Date{Time: m.Date(), Valid: true}})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	org, err := q.GetOrg(ctx, orgID)
	if err != nil {
		return 0, err
	}
	loc, err := calendar.Zone(org.TimeZone)
	if err != nil {
		return 0, err
	}
	p, err := Measure(ctx, q, orgID, Target{ID: t.ID, UserID: t.UserID, Name: t.UserName, WonAmount: t.WonAmount, Deals: t.Deals, Visits: t.Visits},
		m, now, loc)
	if err != nil {
		return 0, err
	}
	day, days := Elapsed(m, now, loc)
	th, ok := Judge(p.Won, t.WonAmount, day, days)
	if !ok || (th == Behind && stats.MonthOf(now, loc) != m) {
		return 0, nil
	}
	// Behind is a warning: there is still time to act. Reached is good
	// news; both show as a toast, as the rep and manager wait for them.
	severity := "warning"
	if th == Reached {
		severity = "info"
	}
	return tasks.RaiseAlert(ctx, tx, jobs, tasks.Alert{OrgID: orgID, Kind: "target_" + string(th), Severity: severity,
		ObjectType: "sales_target", ObjectID: t.ID, Key: alertKey(t.ID, th), Title: t.UserName + " · " + m.String(),
		SubjectUserID: &t.UserID, TitleID: alertTitles[th],
		Params: map[string]any{"Name": t.UserName, "Month": m.String(), "Percent": p.Percent},
		Link:   "/targets?month=" + m.String(), Toast: true},
		tasks.Recipients(t.UserID, t.UserManagerID))
}

// SweepPace checks every target of the current month (each org's own) not
// yet reached, each in its own transaction, and returns how many alerts
// are new: the hourly job that finds targets falling behind pace, and the
// net under the check a won deal enqueues.
func SweepPace(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], now time.Time) (int, error) {
	q := queries.New(db)
	total := 0
	var afterOrg, afterID int64
	for {
		page, err := q.ListCurrentTargets(ctx, queries.ListCurrentTargetsParams{Now: now, AfterOrg: afterOrg, AfterID: afterID})
		if err != nil {
			return total, err
		}
		for _, t := range page {
			m := stats.Month{Year: t.Month.Time.Year(), Month: t.Month.Time.Month()}
			err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
				n, err := Check(ctx, tx, jobs, t.OrgID, t.UserID, m, now)
				total += n
				return err
			})
			if err != nil {
				return total, err
			}
			afterOrg, afterID = t.OrgID, t.ID
		}
		if len(page) < pacePage {
			return total, nil
		}
	}
}

// pacePage is ListCurrentTargets' LIMIT: a shorter page is the last.
const pacePage = 500
