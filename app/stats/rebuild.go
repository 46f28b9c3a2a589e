package stats

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/queries"
)

// Rebuild recomputes every rollup of orgID (0: of every org) from the base
// tables, one transaction per org (stats_rebuild of migration 0040, the
// same definitions the triggers apply). Writers of the org wait on the
// rollup rows it rewrites until it commits; readers see the old rollups
// until then.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, orgID int64) error {
	if orgID < 0 {
		return bad("org %d", orgID)
	}
	ids, err := queries.New(pool).StatsOrgIDs(ctx, orgID)
	if err != nil {
		return err
	}
	if orgID != 0 && len(ids) == 0 {
		return bad("no org %d", orgID)
	}
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return queries.New(tx).StatsRebuild(ctx, id)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
