package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/queries"
)

// BeginFunc runs fn in a transaction, like pgx.BeginFunc, and holds back
// the events Publish records with the ctx it passes to fn: they are written
// by one statement sent in the same round trip as the COMMIT. A change then
// costs no more round trips with its event than without it (the write-path
// bench measured the separate INSERT as the main cost of events), and the
// event ids are drawn at commit time, so the poller sees fewer ids still in
// flight. If fn fails, or the events cannot be written, nothing commits.
func BeginFunc(ctx context.Context, pool *pgxpool.Pool, fn func(ctx context.Context, tx pgx.Tx) error) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection left inside a transaction (a failed rollback) is closed
	// by the pool on release rather than reused.
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	held := &heldEvents{}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
	}()
	if err := fn(context.WithValue(ctx, heldKey{}, held), tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if len(held.events) == 0 {
		return tx.Commit(ctx)
	}
	events, err := json.Marshal(held.events)
	if err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := queries.New(committing{tx}).InsertLiveEvents(ctx, events); err != nil {
		// The COMMIT after a failed statement in the same pipeline is not
		// run: the transaction is still open, aborted, and is rolled back.
		_ = tx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	// Committed by the pipeline; tx is not used again (its Commit would
	// send a second COMMIT).
	return nil
}

type heldKey struct{}

type heldEvents struct{ events []Event }

// committing is the DBTX the held events are written through: its Exec sends
// the statement and COMMIT together as one pipeline.
type committing struct{ tx pgx.Tx }

func (c committing) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue("commit")
	res := c.tx.Conn().SendBatch(ctx, b)
	tag, err := res.Exec()
	if err != nil {
		_ = res.Close()
		return tag, err
	}
	if _, err := res.Exec(); err != nil {
		_ = res.Close()
		return tag, fmt.Errorf("commit: %w", err)
	}
	return tag, res.Close()
}

var errNotInPipeline = errors.New("live: only Exec is sent with the commit")

func (c committing) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errNotInPipeline
}

func (c committing) QueryRow(context.Context, string, ...any) pgx.Row {
	return errRow{}
}

func (c committing) CopyFrom(context.Context, pgx.Identifier, []string, pgx.CopyFromSource) (int64, error) {
	return 0, errNotInPipeline
}

func (c committing) SendBatch(context.Context, *pgx.Batch) pgx.BatchResults {
	return errBatch{}
}

// errBatch refuses a batch: only Exec is part of the commit pipeline.
type errBatch struct{}

func (errBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, errNotInPipeline }
func (errBatch) Query() (pgx.Rows, error)         { return nil, errNotInPipeline }
func (errBatch) QueryRow() pgx.Row                { return errRow{} }
func (errBatch) Close() error                     { return nil }
func (errBatch) Tx() pgx.Tx                       { return nil }

type errRow struct{}

func (errRow) Scan(...any) error { return errNotInPipeline }
