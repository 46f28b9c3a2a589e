package apptest

import (
	"context"
	"encoding/hex"

	"github.com/jackc/pgx/v5"
)

// Holding lists the tables of the test's database (River's included) with a
// row whose text, as a backup would print it, contains secret: as text in
// any column, or as its bytes inside a bytea column (row_to_json writes
// bytea as hex). A token that must not be stored is one for which this
// comes back empty.
func (e *Env) Holding(secret string) []string {
	e.T.Helper()
	ctx := context.Background()
	rows, err := e.DB.Query(ctx, `SELECT table_schema, table_name FROM information_schema.tables
		WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`)
	if err != nil {
		e.T.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var schema, name string
		err := r.Scan(&schema, &name)
		return pgx.Identifier{schema, name}, err
	})
	if err != nil {
		e.T.Fatal(err)
	}
	var found []string
	for _, t := range tables {
		n := e.Count(`SELECT count(*) FROM `+t.Sanitize()+` t WHERE strpos(row_to_json(t)::text, $1) > 0 OR strpos(row_to_json(t)::text, $2) > 0`,
			secret, hex.EncodeToString([]byte(secret)))
		if n > 0 {
			found = append(found, t[0]+"."+t[1])
		}
	}
	return found
}
