package customers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
)

// Handler serves /customers and lead conversion.
type Handler struct{ web.Deps }

// New builds the customers handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// owners are who the viewer may give a customer to (web.Owners).
func (h *Handler) owners(c *fiber.Ctx, sc []int64) ([]components.SelectOption, error) {
	return web.Owners(c.UserContext(), h.Q, web.MustPrincipal(c), sc, "customers.unassigned")
}

// load returns the :id customer if the viewer may see it; anything else
// (another org's id, another rep's customer) is 404.
func (h *Handler) load(c *fiber.Ctx) (queries.Customer, []int64, error) {
	return web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Customer, error) {
		return h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: org, ID: id})
	}, func(cu queries.Customer) *int64 { return cu.OwnerID })
}

// activity is one timeline entry.
type activity struct {
	OrgID                             int64
	LeadID, CustomerID, OpportunityID *int64
	ActorID                           *int64
	Kind, Summary                     string
	Data                              map[string]any
}

// record writes a timeline entry in the transaction q runs in, so the
// timeline never shows a change that was rolled back.
func record(ctx context.Context, q *queries.Queries, a activity) error {
	data := []byte(`{}`)
	if len(a.Data) > 0 {
		var err error
		if data, err = json.Marshal(a.Data); err != nil {
			return err
		}
	}
	_, err := q.InsertActivity(ctx, queries.InsertActivityParams{
		OrgID: a.OrgID, LeadID: a.LeadID, CustomerID: a.CustomerID, OpportunityID: a.OpportunityID,
		ActorID: a.ActorID, Kind: a.Kind, Summary: a.Summary, Data: data,
	})
	return err
}

// publish tells the screens of the customer's owner, their managers and
// admins that the customer changed.
func publish(ctx context.Context, q *queries.Queries, cu queries.Customer, kind string) error {
	err := live.Publish(ctx, live.Event{
		OrgID: cu.OrgID, Topic: live.TopicCustomer, Entity: "customer", EntityID: &cu.ID, Kind: kind, SubjectUserID: cu.OwnerID,
	})
	return err
}

// errConflict marks an edit that lost to another user's save.
var errConflict = errors.New("customer changed since it was loaded")

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// isUniqueViolation reports a unique index refusing a row (here: a second
// customer with a tax id the org already has).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
