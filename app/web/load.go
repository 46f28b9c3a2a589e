package web

import (
	"context"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/queries"
)

// Load is how a handler gets the row its route names with :id: the id
// parsed from the path, the row read within the signed-in user's org (get
// is the area's query, keyed by org and id), and, when owner is given, the
// viewer's scope applied to the row's owner (or assignee). A malformed id,
// a row that does not exist, another org's row and one outside the scope
// all end as ErrNotFound, so no answer tells them apart. It returns the
// scope it checked (nil: everyone) for handlers that filter more by it.
func Load[T any](c *fiber.Ctx, q *queries.Queries, get func(ctx context.Context, orgID, id int64) (T, error), owner func(T) *int64) (T, []int64, error) {
	var none T
	p := MustPrincipal(c)
	id, err := ID(c)
	if err != nil {
		return none, nil, err
	}
	row, err := get(c.UserContext(), p.OrgID, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return none, nil, ErrNotFound
	}
	if err != nil {
		return none, nil, err
	}
	if owner == nil {
		return row, nil, nil
	}
	sc, err := Scope(c.UserContext(), q, p)
	if err != nil {
		return none, nil, err
	}
	if !InScope(sc, owner(row)) {
		return none, nil, ErrNotFound
	}
	return row, sc, nil
}

// ID is the route's :id, or ErrNotFound when it is not a positive integer
// (for routes that act on a row by id without loading it first).
func ID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}
