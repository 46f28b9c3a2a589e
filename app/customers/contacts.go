package customers

import (
	"context"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

var contactFields = []string{"name", "job_title", "email", "phone", "is_primary"}

// contactChange runs one contact edit in a transaction with what every
// change of a customer carries: a new customer version (so an open edit
// form knows it is stale), a timeline entry and a live event.
func (h *Handler) contactChange(c *fiber.Ctx, cu queries.Customer, kind, name string, changes map[string][2]string,
	fn func(ctx context.Context, q *queries.Queries) error) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	return live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		if err := fn(ctx, q); err != nil {
			return err
		}
		if err := ensurePrimary(ctx, q, cu); err != nil {
			return err
		}
		if err := q.TouchCustomer(ctx, queries.TouchCustomerParams{OrgID: cu.OrgID, ID: cu.ID}); err != nil {
			return err
		}
		data := map[string]any{}
		if len(changes) > 0 {
			data["changes"] = changes
		}
		if err := record(ctx, q, activity{OrgID: cu.OrgID, CustomerID: &cu.ID, ActorID: &p.UserID, Kind: kind, Summary: name, Data: data}); err != nil {
			return err
		}
		return publish(ctx, q, cu, "updated")
	})
}

// ensurePrimary keeps exactly one primary contact while there are any: when
// the primary one is removed (or unmarked), the oldest one takes its place.
func ensurePrimary(ctx context.Context, q *queries.Queries, cu queries.Customer) error {
	rows, err := q.ListCustomerContacts(ctx, queries.ListCustomerContactsParams{OrgID: cu.OrgID, CustomerID: cu.ID})
	if err != nil || len(rows) == 0 || rows[0].IsPrimary {
		return err
	}
	first := rows[0]
	for _, r := range rows {
		if r.ID < first.ID {
			first = r
		}
	}
	_, err = q.UpdateCustomerContact(ctx, queries.UpdateCustomerContactParams{
		OrgID: cu.OrgID, CustomerID: cu.ID, ID: first.ID, Name: first.Name, JobTitle: first.JobTitle,
		Email: first.Email, Phone: first.Phone, IsPrimary: true,
	})
	return err
}

func (h *Handler) contactErrors(c *fiber.Ctx, cu queries.Customer, id int64, f Form, errs map[string]string) error {
	v, err := h.showPage(c, cu, "contacts")
	if err != nil {
		return err
	}
	v.ContactID, v.ContactValues, v.ContactErrors = id, f, errs
	return h.renderShow(c, fiber.StatusUnprocessableEntity, v)
}

func contactsURL(cu queries.Customer) string { return "/customers/" + itoa(cu.ID) + "?tab=contacts" }

// AddContact adds a person to the customer.
func (h *Handler) AddContact(c *fiber.Ctx) error {
	cu, _, err := h.load(c)
	if err != nil {
		return err
	}
	f := formFrom(c, contactFields)
	in, errs := parseContact(f, cu.Country)
	if len(errs) > 0 {
		return h.contactErrors(c, cu, 0, f, errs)
	}
	err = h.contactChange(c, cu, "contact_added", in.Name, nil, func(ctx context.Context, q *queries.Queries) error {
		if in.Primary {
			if err := q.ClearPrimaryContact(ctx, queries.ClearPrimaryContactParams{OrgID: cu.OrgID, CustomerID: cu.ID}); err != nil {
				return err
			}
		}
		_, err := q.CreateCustomerContact(ctx, queries.CreateCustomerContactParams{
			OrgID: cu.OrgID, CustomerID: cu.ID, Name: in.Name, JobTitle: in.JobTitle, Email: in.Email, Phone: in.Phone, IsPrimary: in.Primary,
		})
		return err
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "customers.contact_added")
	return web.Redirect(c, contactsURL(cu))
}

// loadContact is the :contact contact of the :id customer, or 404.
func (h *Handler) loadContact(c *fiber.Ctx, cu queries.Customer) (queries.CustomerContact, error) {
	id, err := c.ParamsInt("contact")
	if err != nil || id <= 0 {
		return queries.CustomerContact{}, web.ErrNotFound
	}
	return h.Q.GetCustomerContact(c.UserContext(), queries.GetCustomerContactParams{OrgID: cu.OrgID, CustomerID: cu.ID, ID: int64(id)})
}

// UpdateContact edits a contact; the timeline records what changed.
func (h *Handler) UpdateContact(c *fiber.Ctx) error {
	cu, _, err := h.load(c)
	if err != nil {
		return err
	}
	ct, err := h.loadContact(c, cu)
	if err != nil {
		return err
	}
	f := formFrom(c, contactFields)
	in, errs := parseContact(f, cu.Country)
	if len(errs) > 0 {
		return h.contactErrors(c, cu, ct.ID, f, errs)
	}
	yes := func(b bool) string {
		if b {
			return "✓"
		}
		return ""
	}
	changes := diff(
		map[string]string{"name": ct.Name, "job_title": ct.JobTitle, "email": ct.Email, "phone": ct.Phone, "primary": yes(ct.IsPrimary)},
		map[string]string{"name": in.Name, "job_title": in.JobTitle, "email": in.Email, "phone": in.Phone, "primary": yes(in.Primary)},
	)
	err = h.contactChange(c, cu, "contact_updated", in.Name, changes, func(ctx context.Context, q *queries.Queries) error {
		if in.Primary && !ct.IsPrimary {
			if err := q.ClearPrimaryContact(ctx, queries.ClearPrimaryContactParams{OrgID: cu.OrgID, CustomerID: cu.ID}); err != nil {
				return err
			}
		}
		_, err := q.UpdateCustomerContact(ctx, queries.UpdateCustomerContactParams{
			OrgID: cu.OrgID, CustomerID: cu.ID, ID: ct.ID, Name: in.Name, JobTitle: in.JobTitle, Email: in.Email, Phone: in.Phone, IsPrimary: in.Primary,
		})
		return err
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "customers.contact_saved")
	return web.Redirect(c, contactsURL(cu))
}

// DeleteContact removes a contact.
func (h *Handler) DeleteContact(c *fiber.Ctx) error {
	cu, _, err := h.load(c)
	if err != nil {
		return err
	}
	ct, err := h.loadContact(c, cu)
	if err != nil {
		return err
	}
	err = h.contactChange(c, cu, "contact_removed", ct.Name, nil, func(ctx context.Context, q *queries.Queries) error {
		return q.DeleteCustomerContact(ctx, queries.DeleteCustomerContactParams{OrgID: cu.OrgID, CustomerID: cu.ID, ID: ct.ID})
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "customers.contact_removed")
	return web.Redirect(c, contactsURL(cu))
}
