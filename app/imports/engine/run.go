package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/files"
	"pulso/app/imports/sheet"
	"pulso/app/leads"
	"pulso/app/live"
	"pulso/queries"
)

// Topic is the live topic of import progress: the uploader's open import
// page moves its bar on these events.
const Topic = "import"

// Result is what an import did.
type Result struct {
	Inserted, Merged, Skipped, Errors int32
	// ErrorFile holds the rows with errors as CSV (nil when every row was
	// good).
	ErrorFile *files.File
}

// Finish runs in the transaction that completes an import, after its rows
// are written: the caller's follow-up work (notifications, the e-mail with
// the error file) commits with them or not at all.
type Finish func(ctx context.Context, tx pgx.Tx, imp queries.Import, res Result) error

// Runner runs imports.
type Runner struct {
	DB *pgxpool.Pool
	// Files holds the uploads (read) and the error files (written).
	Files  files.Store
	Log    *slog.Logger
	Finish Finish
	// ProgressEvery throttles progress events (default 250 ms).
	ProgressEvery time.Duration
	// AfterStaging, when set, is called once the file is staged; tests use
	// it to crash an import half-way.
	AfterStaging func() error
}

// batchRows is how many rows go per COPY: big enough that COPY's per-call
// cost vanishes, small enough that memory stays flat.
const batchRows = 5000

// insertSlices is how many statements the final insert is cut into, so the
// bar moves while it runs.
const insertSlices = 10

// Run works one import. It is safe to call again after a crash at any
// point: staging restarts from the file, and the rows reach leads only in
// the final transaction, which also marks the import done.
func (r *Runner) Run(ctx context.Context, orgID, importID int64) error {
	q := queries.New(r.DB)
	imp, err := q.StartImport(ctx, queries.StartImportParams{OrgID: orgID, ID: importID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // done, failed or gone: nothing left to do
	}
	if err != nil {
		return err
	}
	p := &progress{r: r, imp: imp}
	p.publish(ctx, 0, 0, "progress", true)

	res, err := r.run(ctx, imp, p)
	var fe *sheet.Error
	if errors.As(err, &fe) {
		r.Log.InfoContext(ctx, "import refused", "org_id", orgID, "import_id", importID, "error", err.Error())
		return r.fail(ctx, imp, fe.MessageID, fe.Line)
	}
	if err != nil {
		return err
	}
	r.Log.InfoContext(ctx, "import done", "org_id", orgID, "import_id", importID,
		"inserted", res.Inserted, "merged", res.Merged, "skipped", res.Skipped, "errors", res.Errors)
	return nil
}

func (r *Runner) fail(ctx context.Context, imp queries.Import, messageID string, line int) error {
	return live.BeginFunc(ctx, r.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.FailImport(ctx, queries.FailImportParams{OrgID: imp.OrgID, ID: imp.ID, Failure: messageID, FailureLine: int32(line)}); err != nil {
			return err
		}
		if err := q.ClearImportRows(ctx, queries.ClearImportRowsParams{OrgID: imp.OrgID, ImportID: imp.ID}); err != nil {
			return err
		}
		return publish(ctx, q, imp, "failed", 0)
	})
}

func (r *Runner) run(ctx context.Context, imp queries.Import, p *progress) (Result, error) {
	var mapping Mapping
	if err := json.Unmarshal(imp.Mapping, &mapping); err != nil {
		return Result{}, fmt.Errorf("import %d mapping: %w", imp.ID, err)
	}
	q := queries.New(r.DB)
	org, err := q.GetOrg(ctx, imp.OrgID)
	if err != nil {
		return Result{}, err
	}
	phase := time.Now()
	lap := func(name string) {
		r.Log.DebugContext(ctx, "import phase", "import_id", imp.ID, "phase", name, "duration", time.Since(phase))
		phase = time.Now()
	}
	headers, err := r.stage(ctx, imp, org.Country, mapping, p)
	if err != nil {
		return Result{}, err
	}
	lap("stage")
	if r.AfterStaging != nil {
		if err := r.AfterStaging(); err != nil {
			return Result{}, err
		}
	}
	column := func(field string) string {
		if i, ok := mapping[field]; ok && i >= 0 && i < len(headers) {
			return headers[i]
		}
		return field
	}
	if err := q.AnalyzeImportRows(ctx); err != nil {
		return Result{}, err
	}
	// The checks only touch staging; they commit on their own so the error
	// file can be written from them before the final transaction.
	err = live.BeginFunc(ctx, r.DB, func(ctx context.Context, tx pgx.Tx) error {
		return check(ctx, queries.New(tx), imp, column)
	})
	if err != nil {
		return Result{}, err
	}
	lap("check")
	p.publish(ctx, 75, p.rows, "progress", true)

	var res Result
	counts, err := q.CountImportOutcomes(ctx, queries.CountImportOutcomesParams{OrgID: imp.OrgID, ImportID: imp.ID})
	if err != nil {
		return res, err
	}
	res = Result{Inserted: counts.Inserted, Merged: counts.Merged, Skipped: counts.Skipped, Errors: counts.Errors}
	var errorFileID *int64
	if res.Errors > 0 {
		ef, err := r.writeErrorFile(ctx, imp)
		if err != nil {
			return res, err
		}
		res.ErrorFile, errorFileID = &ef, &ef.ID
	}
	lap("error file")
	err = live.BeginFunc(ctx, r.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		switch imp.Kind {
		case "portfolio":
			n, err := q.ApplyPortfolioRows(ctx, queries.ApplyPortfolioRowsParams{OrgID: imp.OrgID, ImportID: imp.ID})
			if err != nil {
				return err
			}
			res.Inserted = int32(n)
		case "products":
			if err := writeProducts(ctx, q, imp); err != nil {
				return err
			}
		default:
			if err := r.writeLeads(ctx, q, imp, counts.LastLine, p); err != nil {
				return err
			}
		}
		lap("write")
		done, err := q.FinishImport(ctx, queries.FinishImportParams{OrgID: imp.OrgID, ID: imp.ID, Inserted: res.Inserted,
			Merged: res.Merged, Skipped: res.Skipped, Errors: res.Errors, ErrorFileID: errorFileID})
		if err != nil {
			return err
		}
		if done == 0 {
			return fmt.Errorf("import %d is no longer running", imp.ID)
		}
		if err := publish(ctx, q, imp, "done", 100); err != nil {
			return err
		}
		if r.Finish != nil {
			return r.Finish(ctx, tx, imp, res)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// The staging rows have served (bad ones live on in the error file).
	// Deleted after the commit, not in it: the final transaction stays
	// shorter, and rows left by a crash here are only dead weight.
	if err := q.ClearImportRows(ctx, queries.ClearImportRowsParams{OrgID: imp.OrgID, ImportID: imp.ID}); err != nil {
		r.Log.WarnContext(ctx, "import staging not cleared", "org_id", imp.OrgID, "import_id", imp.ID, "error", err.Error())
	}
	return res, nil
}

// stage streams the file into import_rows and returns its header row.
func (r *Runner) stage(ctx context.Context, imp queries.Import, orgCountry string, mapping Mapping, p *progress) ([]string, error) {
	q := queries.New(r.DB)
	if err := q.ClearImportRows(ctx, queries.ClearImportRowsParams{OrgID: imp.OrgID, ImportID: imp.ID}); err != nil {
		return nil, err
	}
	rd, err := r.open(ctx, imp)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var headers []string
	for headers == nil {
		_, cells, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil, &sheet.Error{MessageID: sheet.ErrEmpty}
		}
		if err != nil {
			return nil, err
		}
		if !sheet.Blank(cells) {
			headers = append([]string{}, cells...)
		}
	}
	stageRow := StageLead
	switch imp.Kind {
	case "portfolio":
		stageRow = StagePortfolio
	case "products":
		stageRow = StageProduct
	}
	// Three stages run at once: this goroutine reads the file, workers
	// normalise (phone parsing dominates the CPU cost), one goroutine COPYs.
	// Channels of a few batches keep memory flat.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type rawBatch struct {
		lines []int
		cells [][]string
	}
	raw := make(chan rawBatch, 2)
	staged := make(chan []queries.StageImportRowsParams, 2)
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Go(func() {
			for b := range raw {
				out := make([]queries.StageImportRowsParams, len(b.lines))
				for i := range b.lines {
					out[i] = stageRow(Row{Line: b.lines[i], Cells: b.cells[i], Mapping: mapping, Headers: headers}, orgCountry)
					out[i].OrgID, out[i].ImportID = imp.OrgID, imp.ID
				}
				select {
				case staged <- out:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(staged) }()
	copied := make(chan error, 1)
	go func() {
		var err error
		for batch := range staged {
			if err == nil {
				if _, err = q.StageImportRows(ctx, batch); err != nil {
					cancel()
				}
			}
		}
		copied <- err
	}()
	readErr := func() error {
		defer close(raw)
		b := rawBatch{}
		send := func() bool {
			select {
			case raw <- b:
				b = rawBatch{}
				return true
			case <-ctx.Done():
				return false
			}
		}
		for n := 0; ; n++ {
			// A sheet of blank rows sends nothing; the job's deadline and
			// cancellation still stop it.
			if n%10000 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			line, cells, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if sheet.Blank(cells) {
				continue
			}
			b.lines = append(b.lines, line)
			b.cells = append(b.cells, append([]string(nil), cells...))
			p.rows++
			if len(b.lines) == batchRows {
				if !send() {
					return ctx.Err()
				}
				p.publish(ctx, int32(70*rd.Progress()), p.rows, "progress", false)
			}
		}
		if len(b.lines) > 0 && !send() {
			return ctx.Err()
		}
		return nil
	}()
	if readErr != nil {
		cancel()
	}
	copyErr := <-copied
	if readErr != nil {
		return nil, readErr
	}
	if copyErr != nil {
		return nil, copyErr
	}
	if p.rows == 0 {
		return nil, &sheet.Error{MessageID: sheet.ErrEmpty}
	}
	p.publish(ctx, 70, p.rows, "progress", true)
	return headers, nil
}

// check decides each staged row's outcome, set-based.
func check(ctx context.Context, q *queries.Queries, imp queries.Import, column func(string) string) error {
	k := struct{ org, imp int64 }{imp.OrgID, imp.ID}
	if imp.Kind == "products" {
		if err := q.ResolveProductRates(ctx, queries.ResolveProductRatesParams{OrgID: k.org, ImportID: k.imp}); err != nil {
			return err
		}
		if err := q.FlagProductUnknownRates(ctx, queries.FlagProductUnknownRatesParams{OrgID: k.org, ImportID: k.imp, ErrorColumn: column("tax_rate")}); err != nil {
			return err
		}
		if err := q.SkipProductDuplicatesInFile(ctx, queries.SkipProductDuplicatesInFileParams{OrgID: k.org, ImportID: k.imp}); err != nil {
			return err
		}
		if err := q.MatchProductRows(ctx, queries.MatchProductRowsParams{OrgID: k.org, ImportID: k.imp}); err != nil {
			return err
		}
		return q.SettleImportOutcomes(ctx, queries.SettleImportOutcomesParams{OrgID: k.org, ImportID: k.imp})
	}
	if imp.Kind == "portfolio" {
		if err := q.FlagPortfolioUnknownCustomers(ctx, queries.FlagPortfolioUnknownCustomersParams{OrgID: k.org, ImportID: k.imp, ErrorColumn: column("tax_id")}); err != nil {
			return err
		}
		if err := q.ResolvePortfolioAgents(ctx, queries.ResolvePortfolioAgentsParams{OrgID: k.org, ImportID: k.imp}); err != nil {
			return err
		}
		if err := q.FlagPortfolioUnknownAgents(ctx, queries.FlagPortfolioUnknownAgentsParams{OrgID: k.org, ImportID: k.imp,
			CustomColumn: column("custom_agent"), AgentColumn: column("agent")}); err != nil {
			return err
		}
		// The same customer twice: the first line wins, later ones are skipped.
		if err := q.SkipImportDuplicatesInFile(ctx, queries.SkipImportDuplicatesInFileParams{OrgID: k.org, ImportID: k.imp}); err != nil {
			return err
		}
		return q.SettleImportOutcomes(ctx, queries.SettleImportOutcomesParams{OrgID: k.org, ImportID: k.imp})
	}
	if err := q.ResolveImportOwners(ctx, queries.ResolveImportOwnersParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	if err := q.FlagUnknownImportOwners(ctx, queries.FlagUnknownImportOwnersParams{OrgID: k.org, ImportID: k.imp, ErrorColumn: column("owner_email")}); err != nil {
		return err
	}
	if err := q.SkipImportDuplicatesInFile(ctx, queries.SkipImportDuplicatesInFileParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	if err := q.MatchImportRows(ctx, queries.MatchImportRowsParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	if err := q.DecideImportMatches(ctx, queries.DecideImportMatchesParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	return q.SettleImportOutcomes(ctx, queries.SettleImportOutcomesParams{OrgID: k.org, ImportID: k.imp})
}

// writeLeads assigns owners to the new leads, inserts them in slices (the
// bar moves between slices, published outside this transaction) and merges
// the matched rows into their leads.
func (r *Runner) writeLeads(ctx context.Context, q *queries.Queries, imp queries.Import, lastLine int32, p *progress) error {
	a, err := leads.NewAssigner(ctx, q, imp.OrgID)
	if err != nil {
		return err
	}
	idle, err := a.Idle(ctx)
	if err != nil {
		return err
	}
	if !idle {
		rows, err := q.ListImportRowsToAssign(ctx, queries.ListImportRowsToAssignParams{OrgID: imp.OrgID, ImportID: imp.ID})
		if err != nil {
			return err
		}
		lines, owners := make([]int32, 0, len(rows)), make([]int64, 0, len(rows))
		for _, row := range rows {
			o, err := a.Owner(ctx, leads.LeadFacts{Source: "import", Country: row.Country, Province: row.Province, Tags: row.Tags,
				Name: row.Name, ContactName: row.ContactName, Email: row.Email, Phone: row.Phone, TaxID: row.TaxID, City: row.City, Notes: row.Notes})
			if err != nil {
				return err
			}
			if o != nil {
				lines, owners = append(lines, row.Line), append(owners, *o)
			}
		}
		if err := q.SetImportRowOwners(ctx, queries.SetImportRowOwnersParams{OrgID: imp.OrgID, ImportID: imp.ID, Lines: lines, OwnerIds: owners}); err != nil {
			return err
		}
		if err := a.Save(ctx); err != nil {
			return err
		}
	}
	step := lastLine/insertSlices + 1
	for from := int32(0); from <= lastLine; from += step {
		if _, err := q.InsertImportedLeads(ctx, queries.InsertImportedLeadsParams{OrgID: imp.OrgID, ImportID: imp.ID,
			CreatedBy: imp.CreatedBy, FromLine: from, ToLine: from + step}); err != nil {
			return err
		}
		p.publish(ctx, 75+int32(24*float64(from+step)/float64(lastLine+1)), p.rows, "progress", false)
	}
	_, err = q.MergeImportedLeads(ctx, queries.MergeImportedLeadsParams{OrgID: imp.OrgID, ImportID: imp.ID})
	return err
}

// writeProducts creates the groups the file names, inserts the new codes
// and updates the products whose code the catalog had.
func writeProducts(ctx context.Context, q *queries.Queries, imp queries.Import) error {
	k := struct{ org, imp int64 }{imp.OrgID, imp.ID}
	if err := q.CreateImportedGroups(ctx, queries.CreateImportedGroupsParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	if _, err := q.InsertImportedProducts(ctx, queries.InsertImportedProductsParams{OrgID: k.org, ImportID: k.imp}); err != nil {
		return err
	}
	_, err := q.UpdateImportedProducts(ctx, queries.UpdateImportedProductsParams{OrgID: k.org, ImportID: k.imp})
	return err
}

// progress records and publishes how far an import is, at most once per
// ProgressEvery, each time in its own short transaction (the final insert's
// transaction would hold them back until it commits).
type progress struct {
	r    *Runner
	imp  queries.Import
	rows int32
	last time.Time
	pct  int32
}

func (p *progress) publish(ctx context.Context, pct, rows int32, kind string, force bool) {
	every := p.r.ProgressEvery
	if every == 0 {
		every = 250 * time.Millisecond
	}
	pct = min(max(pct, p.pct), 99)
	if !force && (time.Since(p.last) < every || pct == p.pct) {
		return
	}
	p.last, p.pct = time.Now(), pct
	err := live.BeginFunc(ctx, p.r.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.SetImportProgress(ctx, queries.SetImportProgressParams{OrgID: p.imp.OrgID, ID: p.imp.ID, Progress: pct, RowsRead: rows}); err != nil {
			return err
		}
		return publish(ctx, q, p.imp, kind, pct)
	})
	if err != nil && ctx.Err() == nil {
		// The bar is a courtesy; the import goes on without it.
		p.r.Log.WarnContext(ctx, "import progress not published", "org_id", p.imp.OrgID, "import_id", p.imp.ID, "error", err.Error())
	}
}

func publish(ctx context.Context, q *queries.Queries, imp queries.Import, kind string, pct int32) error {
	payload, _ := json.Marshal(map[string]int32{"progress": pct})
	err := live.Publish(ctx, live.Event{OrgID: imp.OrgID, Topic: Topic, Entity: "import", EntityID: &imp.ID,
		Kind: kind, SubjectUserID: &imp.CreatedBy, Payload: payload})
	return err
}

// open reads the import's upload from the file store, a chunk at a time.
func (r *Runner) open(ctx context.Context, imp queries.Import) (sheet.Reader, error) {
	src, f, err := r.Files.Open(ctx, imp.OrgID, imp.FileID)
	if err != nil {
		return nil, err
	}
	rd, err := sheet.Open(src, f.Size, imp.Format, imp.Charset)
	if err != nil {
		src.Close()
		return nil, err
	}
	return closeBoth{rd, src}, nil
}

// closeBoth closes the rows' reader and the bytes under it.
type closeBoth struct {
	sheet.Reader
	src io.Closer
}

func (c closeBoth) Close() error { return errors.Join(c.Reader.Close(), c.src.Close()) }
