package workers

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/queries"
	"pulso/views/i18n"
	"pulso/workers/jobargs"
)

// NotifyWorker works jobargs.Notify.
type NotifyWorker struct {
	river.WorkerDefaults[jobargs.Notify]
	DB *pgxpool.Pool
}

func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[jobargs.Notify]) error {
	a := job.Args
	return live.BeginFunc(ctx, w.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		user, err := q.GetUser(ctx, queries.GetUserParams{OrgID: a.OrgID, ID: a.UserID})
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(errors.New("recipient no longer exists"))
		}
		if err != nil {
			return err
		}
		title, body := a.Title, a.Body
		if a.TitleID != "" {
			title = i18n.In(user.Locale, a.TitleID, a.Params)
		}
		if a.BodyID != "" {
			body = i18n.In(user.Locale, a.BodyID, a.Params)
		}
		n, err := q.CreateNotification(ctx, queries.CreateNotificationParams{
			OrgID: a.OrgID, UserID: a.UserID, Severity: a.Severity, Title: title, Body: body, Link: a.Link, Key: a.Key,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // already delivered by an earlier attempt
		}
		if err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]any{"severity": n.Severity, "toast": a.Toast || n.Severity == "urgent"})
		err = live.Publish(ctx, live.Event{
			OrgID: a.OrgID, Topic: live.TopicNotification, Entity: "notification", EntityID: &n.ID,
			Kind: "created", SubjectUserID: &n.UserID, Payload: payload,
		})
		return err
	})
}
