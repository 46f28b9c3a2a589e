package workers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/files"
	"pulso/app/imports/engine"
	"pulso/app/mail"
	"pulso/queries"
	emailview "pulso/views/email"
	"pulso/workers/jobargs"
)

// MaxAttachment is the largest error file sent by e-mail; a bigger one is
// downloaded from the import's page (the e-mail says so).
const MaxAttachment = 5 << 20

// ImportWorker works jobargs.Import.
type ImportWorker struct {
	river.WorkerDefaults[jobargs.Import]
	DB *pgxpool.Pool
	// Files holds the uploads and the error files: any worker node reads
	// what any web node received.
	Files   files.Store
	BaseURL string
	Log     *slog.Logger
	// AfterStaging is for tests that crash an import half-way.
	AfterStaging func() error
}

// Timeout: a million rows take about a minute; the default would cut that.
func (w *ImportWorker) Timeout(*river.Job[jobargs.Import]) time.Duration { return 30 * time.Minute }

func (w *ImportWorker) Work(ctx context.Context, job *river.Job[jobargs.Import]) error {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &engine.Runner{DB: w.DB, Files: w.Files, Log: log, Finish: w.finish, AfterStaging: w.AfterStaging}
	return r.Run(ctx, job.Args.OrgID, job.Args.ImportID)
}

// finish runs in the import's final transaction: one notification per new
// owner, one for the uploader, and the error file e-mailed back.
func (w *ImportWorker) finish(ctx context.Context, tx pgx.Tx, imp queries.Import, res engine.Result) error {
	jobs, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	q := queries.New(tx)
	owners, err := q.ImportOwnerCounts(ctx, queries.ImportOwnerCountsParams{OrgID: imp.OrgID, ImportID: imp.ID})
	if err != nil {
		return err
	}
	for _, o := range owners {
		if _, err := jobs.InsertTx(ctx, tx, jobargs.Notify{
			OrgID: imp.OrgID, UserID: o.OwnerID, Severity: "info", TitleID: "imports.assigned_title",
			Params: map[string]any{"Count": o.N, "File": imp.Filename}, Link: "/leads",
			Key: fmt.Sprintf("import-assigned:%d:%d", imp.ID, o.OwnerID),
		}, nil); err != nil {
			return err
		}
	}
	link := fmt.Sprintf("%s/imports/%d", w.BaseURL, imp.ID)
	if res.Errors == 0 {
		return nil
	}
	user, err := q.GetUser(ctx, queries.GetUserParams{OrgID: imp.OrgID, ID: imp.CreatedBy})
	if err != nil {
		return err
	}
	attach := res.ErrorFile.Size <= MaxAttachment
	e, err := mail.Enqueue(ctx, tx, jobs, mail.Message{
		OrgID: imp.OrgID, Key: fmt.Sprintf("import-errors:%d", imp.ID), To: user.Email, ToName: user.Name, Locale: user.Locale,
		Template: mail.ImportErrors(emailview.ImportErrors{
			Name: user.Name, File: imp.Filename, Inserted: int(res.Inserted), Merged: int(res.Merged), Skipped: int(res.Skipped),
			Errors: int(res.Errors), Link: link, Attached: attach,
		}),
	})
	if err != nil || !attach {
		return err
	}
	content, err := w.readErrorFile(ctx, *res.ErrorFile)
	if err != nil {
		return err
	}
	return q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{
		OrgID: imp.OrgID, EmailID: e.ID, Filename: engine.ErrorFileName(imp.Filename), ContentType: "text/csv; charset=utf-8", Content: content,
	})
}

// readErrorFile loads the error file (at most MaxAttachment bytes) to
// attach it to the e-mail, whose attachments keep their own bytes.
func (w *ImportWorker) readErrorFile(ctx context.Context, f files.File) ([]byte, error) {
	rc, _, err := w.Files.Open(ctx, f.OrgID, f.ID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, MaxAttachment))
}
