package leadsweb

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	leadsview "pulso/views/leads"
)

// Handler serves /leads.
type Handler struct{ web.Deps }

// New builds the leads handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

// owners are who the viewer may give a lead to (web.Owners).
func (h *Handler) owners(c *fiber.Ctx, sc []int64) ([]components.SelectOption, error) {
	return web.Owners(c.UserContext(), h.Q, web.MustPrincipal(c), sc, "leads.unassigned")
}

// load returns the :id lead if the viewer may see it; anything else is 404.
func (h *Handler) load(c *fiber.Ctx) (queries.Lead, []int64, error) {
	return web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Lead, error) {
		return h.Q.GetLead(ctx, queries.GetLeadParams{OrgID: org, ID: id})
	}, func(l queries.Lead) *int64 { return l.OwnerID })
}

func viewLead(l queries.Lead) leadsview.Lead {
	v := leadsview.Lead{
		ID: l.ID, Name: l.Name, ContactName: l.ContactName, Email: l.Email, Phone: l.Phone, TaxID: l.TaxID,
		Country: l.Country, Province: l.Province, City: l.City, Source: l.Source, Status: l.Status,
		DiscardReason: l.DiscardReason, Notes: l.Notes, Tags: l.Tags, Version: l.Version, CreatedAt: l.CreatedAt,
		SenderUnverified: l.SenderUnverified,
	}
	if l.OwnerID != nil {
		v.OwnerID = *l.OwnerID
	}
	if l.CustomerID != nil {
		v.CustomerID = *l.CustomerID
	}
	return v
}

func formOf(l queries.Lead) Form {
	f := Form{
		"name": l.Name, "contact_name": l.ContactName, "email": l.Email, "phone": l.Phone, "tax_id": l.TaxID,
		"country": l.Country, "province": l.Province, "city": l.City, "status": l.Status,
		"discard_reason": l.DiscardReason, "notes": l.Notes, "version": strconv.Itoa(int(l.Version)),
	}
	if l.OwnerID != nil {
		f["owner_id"] = strconv.FormatInt(*l.OwnerID, 10)
	}
	for i, t := range l.Tags {
		if i > 0 {
			f["tags"] += ", "
		}
		f["tags"] += t
	}
	return f
}

// recordActivity writes a timeline entry for the lead in the transaction q
// runs in, so the timeline never shows a change that was rolled back.
func recordActivity(ctx context.Context, q *queries.Queries, l queries.Lead, actor *int64, kind string, changes map[string][2]string) error {
	data := []byte(`{}`)
	if len(changes) > 0 {
		var err error
		if data, err = json.Marshal(map[string]any{"changes": changes}); err != nil {
			return err
		}
	}
	_, err := q.InsertActivity(ctx, queries.InsertActivityParams{OrgID: l.OrgID, LeadID: &l.ID, ActorID: actor, Kind: kind, Data: data})
	return err
}

// leadValues is a lead as the timeline shows its fields (owner by name).
func leadValues(l queries.Lead, owners map[string]string) map[string]string {
	v := map[string]string{
		"name": l.Name, "contact_name": l.ContactName, "email": l.Email, "phone": l.Phone, "tax_id": l.TaxID,
		"country": l.Country, "province": l.Province, "city": l.City, "status": l.Status,
		"discard_reason": l.DiscardReason, "notes": l.Notes, "tags": strings.Join(l.Tags, ", "), "owner": "",
	}
	if l.OwnerID != nil {
		v["owner"] = owners[itoa(*l.OwnerID)]
		if v["owner"] == "" {
			v["owner"] = "#" + itoa(*l.OwnerID)
		}
	}
	return v
}

// changed lists the fields whose value differs, as field → [old, new].
func changed(before, after map[string]string) map[string][2]string {
	out := map[string][2]string{}
	for k, a := range after {
		if before[k] != a {
			out[k] = [2]string{before[k], a}
		}
	}
	return out
}

func ownerNames(opts []components.SelectOption) map[string]string {
	m := map[string]string{}
	for _, o := range opts {
		m[o.Value] = o.Label
	}
	return m
}

// errConflict marks an edit that lost to another user's save.
var errConflict = errors.New("lead changed since it was loaded")

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
