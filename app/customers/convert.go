package customers

import (
	"context"
	"encoding/json"
	"errors"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/web"
	"pulso/queries"
	customersview "pulso/views/customers"
)

var convertPage = web.Page{Title: "customers.convert_title", Nav: "leads", Fragment: "convert-form"}

// refusal is why a lead cannot be converted, as a catalog id.
func refusal(l queries.Lead) (string, int64) {
	switch l.Status {
	case "convertido":
		var id int64
		if l.CustomerID != nil {
			id = *l.CustomerID
		}
		return "customers.already_converted", id
	case "descartado":
		return "customers.discarded_cannot_convert", 0
	}
	return "", 0
}

// loadLead returns the :id lead if the viewer may see it, else 404.
func (h *Handler) loadLead(c *fiber.Ctx) (queries.Lead, []int64, error) {
	return web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Lead, error) {
		return h.Q.GetLead(ctx, queries.GetLeadParams{OrgID: org, ID: id})
	}, func(l queries.Lead) *int64 { return l.OwnerID })
}

func (h *Handler) renderConvert(c *fiber.Ctx, status int, l queries.Lead, sc []int64, v customersview.ConvertPage) error {
	v.LeadID, v.LeadName = l.ID, l.Name
	if v.Values == nil {
		v.Values = map[string]string{}
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	if v.Message == "" {
		v.Message, v.CustomerID = refusal(l)
	}
	if v.Message == "" {
		dup, err := h.duplicate(c.UserContext(), l.OrgID, sc, l.TaxID, 0)
		if err != nil {
			return err
		}
		if dup != nil && dup.Hidden {
			// Said before the user fills the form: ConvertLead refuses it.
			v.Message, v.Owner = otherOwner(dup.Owner)
		} else {
			v.Existing = dup
		}
	}
	return web.Render(c, status, convertPage, customersview.ConvertView(v))
}

// ConvertForm asks whether to open an opportunity with the new customer.
func (h *Handler) ConvertForm(c *fiber.Ctx) error {
	l, sc, err := h.loadLead(c)
	if err != nil {
		return err
	}
	return h.renderConvert(c, fiber.StatusOK, l, sc, customersview.ConvertPage{Values: map[string]string{"with_opportunity": "1", "title": l.Name}})
}

// conversion is a validated conversion form.
type conversion struct {
	withOpportunity bool
	title           string
	amount          int64
}

func parseConversion(f Form, country string) (conversion, map[string]string) {
	e := errs{}
	cv := conversion{withOpportunity: f["with_opportunity"] == "1", title: f["title"]}
	if !cv.withOpportunity {
		return cv, e
	}
	e.text("title", cv.title, 200, true)
	if f["amount"] != "" {
		n, err := money.ParseAmount(f["amount"], country)
		if err != nil {
			e["amount"] = "customers.amount_invalid"
		}
		cv.amount = n
	}
	return cv, e
}

// errRefused carries a refusal out of the conversion transaction.
type errRefused struct {
	msg        string
	customerID int64
	owner      string // the name the message names
}

// otherOwner is the refusal for a lead whose tax id is a customer the
// converter may not see, naming whose it is (owner; "" when nobody's).
func otherOwner(owner string) (msg, name string) {
	if owner == "" {
		return "customers.convert_unowned", ""
	}
	return "customers.convert_other_owner", owner
}

func (e errRefused) Error() string { return e.msg }

// Convert turns a lead into a customer in ONE transaction: the customer is
// created from the lead (or the org's customer with the same tax id is
// used), an opportunity in "en análisis" is opened if asked, the lead is
// marked converted and linked to both, and the timeline and live screens
// hear of it. The lead row is locked first, so two conversions at once make
// one customer and the second is told the lead is already converted.
func (h *Handler) Convert(c *fiber.Ctx) error {
	l, sc, err := h.loadLead(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	f := formFrom(c, []string{"with_opportunity", "title", "amount"})
	cv, errs := parseConversion(f, p.OrgCountry)
	if len(errs) > 0 {
		return h.renderConvert(c, fiber.StatusUnprocessableEntity, l, sc, customersview.ConvertPage{Values: f, Errors: errs})
	}
	var cu queries.Customer
	for attempt := 0; ; attempt++ {
		cu, err = h.convert(c.UserContext(), p, l.ID, sc, cv)
		// Another lead with the same tax id became a customer a moment ago:
		// the second try finds that customer and attaches to it.
		if isUniqueViolation(err) && attempt == 0 {
			continue
		}
		break
	}
	var refused errRefused
	if errors.As(err, &refused) {
		l, _ = h.Q.GetLead(c.UserContext(), queries.GetLeadParams{OrgID: p.OrgID, ID: l.ID})
		return h.renderConvert(c, fiber.StatusConflict, l, sc, customersview.ConvertPage{Values: f, Message: refused.msg,
			Owner: refused.owner, CustomerID: refused.customerID})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "customers.converted")
	return web.Redirect(c, "/customers/"+itoa(cu.ID))
}

func (h *Handler) convert(ctx context.Context, p *web.Principal, leadID int64, sc []int64, cv conversion) (queries.Customer, error) {
	var cu queries.Customer
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		cu, err = ConvertLead(ctx, h.Q.WithTx(tx), p.OrgID, p.UserID, leadID, sc, cv.opportunity())
		return err
	})
	return cu, err
}

// Opportunity is what to open with a conversion: a title and an amount in
// minor units.
type Opportunity struct {
	Title  string
	Amount int64
}

func (cv conversion) opportunity() *Opportunity {
	if !cv.withOpportunity {
		return nil
	}
	return &Opportunity{Title: cv.title, Amount: cv.amount}
}

// ConvertLead does the conversion inside the caller's transaction q (the
// demo seed converts leads too): see Convert. sc is the actor's scope (nil:
// everyone). A lead that cannot be converted returns an error whose text is
// the catalog id of the reason.
func ConvertLead(ctx context.Context, q *queries.Queries, org, actorID, leadID int64, sc []int64, opp *Opportunity) (queries.Customer, error) {
	var cu queries.Customer
	l, err := q.LockLeadForConversion(ctx, queries.LockLeadForConversionParams{OrgID: org, ID: leadID})
	if err != nil {
		return cu, err
	}
	if !web.InScope(sc, l.OwnerID) {
		return cu, web.ErrNotFound // reassigned away while the form was open
	}
	if msg, id := refusal(l); msg != "" {
		return cu, errRefused{msg: msg, customerID: id}
	}
	actor := &actorID
	created := false
	if l.TaxID != "" {
		cu, err = q.GetCustomerByTaxID(ctx, queries.GetCustomerByTaxIDParams{OrgID: org, TaxID: l.TaxID})
		if err != nil && !isNoRows(err) {
			return cu, err
		}
		// Another rep's customer is not theirs to grow silently (nor is
		// the lead theirs to hand over): someone who sees both decides.
		if cu.ID != 0 && !web.InScope(sc, cu.OwnerID) {
			name, err := ownerName(ctx, q, org, cu.OwnerID)
			if err != nil {
				return queries.Customer{}, err
			}
			msg, name := otherOwner(name)
			return queries.Customer{}, errRefused{msg: msg, owner: name}
		}
	}
	if cu.ID == 0 {
		in := Input{
			LegalName: l.Name, TaxID: l.TaxID, Country: l.Country, Email: l.Email, Phone: l.Phone,
			PaymentTermsDays: 30, OwnerID: l.OwnerID, Tags: l.Tags, Notes: l.Notes,
			Billing: Address{City: l.City, Province: l.Province},
		}
		if in.OwnerID == nil {
			in.OwnerID = actor
		}
		if l.ContactName != "" {
			in.Contact = ContactInput{Name: l.ContactName, Email: l.Email, Phone: l.Phone, Primary: true}
		}
		if cu, err = createCustomer(ctx, q, org, actor, in); err != nil {
			return cu, err
		}
		created = true
		if err := record(ctx, q, activity{OrgID: org, CustomerID: &cu.ID, ActorID: actor, Kind: "created", Summary: truncate(l.Name),
			Data: map[string]any{"from_lead": l.ID}}); err != nil {
			return cu, err
		}
	}
	var oppID *int64
	if opp != nil {
		o, err := q.CreateOpportunity(ctx, queries.CreateOpportunityParams{
			OrgID: org, CustomerID: cu.ID, Title: opp.Title, Amount: opp.Amount, Stage: "en_analisis",
			OwnerID: cu.OwnerID, SourceLeadID: &l.ID, CreatedBy: actor,
		})
		if err != nil {
			return cu, err
		}
		oppID = &o.ID
		if err := record(ctx, q, activity{OrgID: org, CustomerID: &cu.ID, OpportunityID: &o.ID, ActorID: actor,
			Kind: "opportunity_created", Summary: truncate(o.Title), Data: map[string]any{"amount": o.Amount, "stage": o.Stage}}); err != nil {
			return cu, err
		}
	}
	converted, err := q.MarkLeadConverted(ctx, queries.MarkLeadConvertedParams{OrgID: org, ID: l.ID, CustomerID: &cu.ID, OpportunityID: oppID})
	if err != nil {
		return cu, err
	}
	if err := record(ctx, q, activity{OrgID: org, LeadID: &l.ID, CustomerID: &cu.ID, ActorID: actor, Kind: "converted", Summary: truncate(cu.LegalName),
		Data: map[string]any{"changes": map[string][2]string{"status": {l.Status, "convertido"}}, "new_customer": created}}); err != nil {
		return cu, err
	}
	payload, _ := json.Marshal(map[string]string{"status": converted.Status})
	if err := live.Publish(ctx, live.Event{
		OrgID: org, Topic: live.TopicLead, Entity: "lead", EntityID: &converted.ID, Kind: "converted",
		SubjectUserID: converted.OwnerID, Payload: payload,
	}); err != nil {
		return cu, err
	}
	kind := "updated"
	if created {
		kind = "created"
	}
	return cu, publish(ctx, q, cu, kind)
}

// truncate fits a name into an activity summary (500 characters).
func truncate(s string) string {
	if utf8.RuneCountInString(s) > 400 {
		return string([]rune(s)[:400])
	}
	return s
}
