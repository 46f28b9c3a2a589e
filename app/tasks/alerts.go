package tasks

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"pulso/queries"
	"pulso/workers/jobargs"
)

// Alert is one alert of the alert centre (an SLA breach, an idle deal, a
// sales target behind pace or reached) and the notification that carries it
// to the bell, and to a toast when it is urgent or Toast is set.
type Alert struct {
	OrgID      int64
	Kind       string // alerts.kind
	Severity   string // info | warning | urgent
	ObjectType string // alerts.object_type
	ObjectID   int64
	// Key names the cause: one alert per recipient, kind and key, ever.
	Key   string
	Title string
	// SubjectUserID is whom the alert is about (the alert centre's filter).
	SubjectUserID *int64
	// TitleID and Params are the notification's text (catalog id), Link
	// where it leads.
	TitleID string
	Params  map[string]any
	Link    string
	Toast   bool
}

// Recipients are who hears of an alert about user: the user and their
// manager (once, if the user is their own manager's peer).
func Recipients(user int64, manager *int64) []int64 {
	if manager != nil && *manager != user {
		return []int64{user, *manager}
	}
	return []int64{user}
}

// RaiseAlert records a, in tx, for every recipient who does not have it yet
// and queues each new one's notification. It returns how many alerts were
// new, so callers may run, and re-run, safely.
func RaiseAlert(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], a Alert, recipients []int64) (int, error) {
	q := queries.New(tx)
	n := 0
	for _, uid := range recipients {
		al, err := q.InsertAlert(ctx, queries.InsertAlertParams{OrgID: a.OrgID, Kind: a.Kind, Severity: a.Severity, UserID: uid,
			ObjectType: a.ObjectType, ObjectID: a.ObjectID, BreachKey: a.Key, Title: a.Title, SubjectUserID: a.SubjectUserID})
		if errors.Is(err, pgx.ErrNoRows) {
			continue // this recipient has it already
		}
		if err != nil {
			return n, err
		}
		n++
		if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{OrgID: a.OrgID, UserID: uid, Severity: a.Severity, TitleID: a.TitleID,
			Params: a.Params, Link: a.Link, Key: fmt.Sprintf("alert:%d", al.ID), Toast: a.Toast}, nil); err != nil {
			return n, err
		}
	}
	return n, nil
}
