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
)

// NotifyArgs puts one notification in one user's centre: the bell count
// moves and, for urgent ones, a toast shows on their open screens. Text is
// either a catalog id (TitleID/BodyID with Params, rendered in the user's
// language) or literal (Title/Body, e.g. typed by an admin).
type NotifyArgs struct {
	OrgID    int64          `json:"org_id"`
	UserID   int64          `json:"user_id"`
	Severity string         `json:"severity"` // info | warning | urgent
	TitleID  string         `json:"title_id,omitempty"`
	BodyID   string         `json:"body_id,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
	Title    string         `json:"title,omitempty"`
	Body     string         `json:"body,omitempty"`
	Link     string         `json:"link,omitempty"`
	// Key names the cause; one notification per user and key, ever.
	Key string `json:"key"`
	// Toast shows it on open screens whatever its severity (a client just
	// opened or signed a quote: news the rep is waiting for, not an alarm).
	Toast bool `json:"toast,omitempty"`
}

func (NotifyArgs) Kind() string { return "notify" }

func (NotifyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// NotifyWorker works NotifyArgs.
type NotifyWorker struct {
	river.WorkerDefaults[NotifyArgs]
	DB *pgxpool.Pool
}

func (w *NotifyWorker) Work(ctx context.Context, job *river.Job[NotifyArgs]) error {
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
		_, err = live.Publish(ctx, q, live.Event{
			OrgID: a.OrgID, Topic: live.TopicNotification, Entity: "notification", EntityID: &n.ID,
			Kind: "created", SubjectUserID: &n.UserID, Payload: payload,
		})
		return err
	})
}
