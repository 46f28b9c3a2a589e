package customers

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/ident"
	"pulso/app/live"
	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/tax"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/components"
	customersview "pulso/views/customers"
)

var formPage = web.Page{Title: "customers.new", Nav: "customers", Fragment: "customer-form"}

// renderForm shows the one-screen form, with errors, a conflict or a
// duplicate notice if any.
func (h *Handler) renderForm(c *fiber.Ctx, status int, sc []int64, v customersview.FormPage) error {
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	e := editingFor(web.MustPrincipal(c).Role)
	v.Owners, v.Data, v.Mandate = owners, e.data, e.mandate
	v.Regimes, v.Causes = regimeOptions, causeOptions
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	switch status {
	case fiber.StatusConflict:
		// The notice is at the top of a long form; on a phone the user is
		// at its bottom, by the save button.
		c.Set(web.HXReswap, "outerHTML show:window:top")
	case fiber.StatusUnprocessableEntity:
		// Likewise, bring the first field with a message into view.
		c.Set(web.HXReswap, "outerHTML show:.field--error:top")
	}
	page := formPage
	if v.ID != 0 {
		page.Title = "customers.edit"
	}
	return web.Render(c, status, page, customersview.FormView(v))
}

// NewForm shows an empty form, owned by the rep who fills it.
func (h *Handler) NewForm(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f := Form{"country": p.OrgCountry, "payment_terms_days": "30"}
	if p.Role != web.RoleAdmin {
		f["owner_id"] = itoa(p.UserID)
	}
	return h.renderForm(c, fiber.StatusOK, sc, customersview.FormPage{Values: f})
}

// duplicate looks for another customer of the org with the tax id; it is
// named with a link when the viewer may open it.
func (h *Handler) duplicate(ctx context.Context, org int64, sc []int64, taxID string, self int64) (*customersview.Duplicate, error) {
	if taxID == "" {
		return nil, nil
	}
	d, err := h.Q.GetCustomerByTaxID(ctx, queries.GetCustomerByTaxIDParams{OrgID: org, TaxID: taxID})
	if isNoRows(err) || (err == nil && d.ID == self) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dup := &customersview.Duplicate{ID: d.ID, Name: d.LegalName, Hidden: !web.InScope(sc, d.OwnerID)}
	if dup.Hidden {
		if dup.Owner, err = ownerName(ctx, h.Q, org, d.OwnerID); err != nil {
			return nil, err
		}
	}
	return dup, nil
}

// ownerName is the name of a record's owner ("" when it has none).
func ownerName(ctx context.Context, q *queries.Queries, org int64, owner *int64) (string, error) {
	if owner == nil {
		return "", nil
	}
	u, err := q.GetUser(ctx, queries.GetUserParams{OrgID: org, ID: *owner})
	return u.Name, err
}

// Create saves a new customer with its addresses and first contact, and
// the timeline's first entry, in one transaction.
func (h *Handler) Create(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return err
	}
	f := formFrom(c, customerFields)
	editingFor(p.Role).keep(f, Form{})
	in, errs := parse(f)
	if in.OwnerID == nil && p.Role != web.RoleAdmin {
		in.OwnerID = &p.UserID
	}
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	if errs["owner_id"] == "" && !web.OwnerAllowed(owners, in.OwnerID) {
		errs["owner_id"] = "validation.choice"
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, customersview.FormPage{Values: f, Errors: errs})
	}
	dup, err := h.duplicate(ctx, p.OrgID, sc, in.TaxID, 0)
	if err != nil {
		return err
	}
	var cu queries.Customer
	if dup == nil {
		err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
			q := h.Q.WithTx(tx)
			var err error
			cu, err = createCustomer(ctx, q, p.OrgID, &p.UserID, in)
			if err != nil {
				return err
			}
			if err := record(ctx, q, activity{OrgID: p.OrgID, CustomerID: &cu.ID, ActorID: &p.UserID, Kind: "created"}); err != nil {
				return err
			}
			return publish(ctx, q, cu, "created")
		})
		if isUniqueViolation(err) {
			// Someone saved the same tax id a moment ago.
			if dup, err = h.duplicate(ctx, p.OrgID, sc, in.TaxID, 0); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
	}
	if dup != nil {
		errs["tax_id"] = "customers.duplicate_tax_id"
		return h.renderForm(c, fiber.StatusConflict, sc, customersview.FormPage{Values: f, Errors: errs, Duplicate: dup})
	}
	web.Flash(c, "success", "customers.created")
	return web.Redirect(c, "/customers/"+itoa(cu.ID))
}

// createCustomer inserts the customer, its addresses and its first contact
// in the caller's transaction (the form and lead conversion share it).
func createCustomer(ctx context.Context, q *queries.Queries, org int64, actor *int64, in Input) (queries.Customer, error) {
	cu, err := q.CreateCustomer(ctx, queries.CreateCustomerParams{
		OrgID: org, LegalName: in.LegalName, TradeName: in.TradeName, TaxID: in.TaxID, Country: in.Country,
		Email: in.Email, Phone: in.Phone, Iban: in.IBAN, SepaMandateRef: in.SepaMandateRef,
		SepaMandateDate: date(in.SepaMandateDate), PaymentTermsDays: in.PaymentTermsDays, OwnerID: in.OwnerID,
		Tags: orEmpty(in.Tags), Notes: in.Notes, CreatedBy: actor,
		TaxRegime: regimeOrGeneral(in.Tax.Regime), ExemptCause: &in.Tax.ExemptCause, IrpfRate: money.Numeric(in.Tax.IRPF),
	})
	if err != nil {
		return cu, err
	}
	if err := saveAddresses(ctx, q, cu, in); err != nil {
		return cu, err
	}
	if in.Contact.Name != "" {
		if _, err := q.CreateCustomerContact(ctx, queries.CreateCustomerContactParams{
			OrgID: org, CustomerID: cu.ID, Name: in.Contact.Name, JobTitle: in.Contact.JobTitle,
			Email: in.Contact.Email, Phone: in.Contact.Phone, IsPrimary: true,
		}); err != nil {
			return cu, err
		}
	}
	return cu, nil
}

func saveAddresses(ctx context.Context, q *queries.Queries, cu queries.Customer, in Input) error {
	for kind, a := range map[string]Address{"billing": in.Billing, "shipping": in.Shipping} {
		var err error
		if a.empty() {
			err = q.DeleteCustomerAddress(ctx, queries.DeleteCustomerAddressParams{OrgID: cu.OrgID, CustomerID: cu.ID, Kind: kind})
		} else {
			err = q.UpsertCustomerAddress(ctx, queries.UpsertCustomerAddressParams{
				OrgID: cu.OrgID, CustomerID: cu.ID, Kind: kind, Street: a.Street, PostalCode: a.PostalCode,
				City: a.City, Province: a.Province, Country: cu.Country,
			})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func date(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: *t, Valid: true}
}

func orEmpty(t []string) []string {
	if t == nil {
		return []string{}
	}
	return t
}

func addressesOf(rows []queries.CustomerAddress) (billing, shipping Address) {
	for _, a := range rows {
		v := Address{Street: a.Street, PostalCode: a.PostalCode, City: a.City, Province: a.Province}
		if a.Kind == "billing" {
			billing = v
		} else {
			shipping = v
		}
	}
	return
}

// formOf fills the form with a stored customer.
func formOf(cu queries.Customer, addrs []queries.CustomerAddress) Form {
	f := Form{
		"legal_name": cu.LegalName, "trade_name": cu.TradeName, "tax_id": cu.TaxID, "country": cu.Country,
		"email": cu.Email, "phone": cu.Phone, "iban": ident.FormatIBAN(cu.Iban), "sepa_mandate_ref": cu.SepaMandateRef,
		"payment_terms_days": strconv.Itoa(int(cu.PaymentTermsDays)), "tags": strings.Join(cu.Tags, ", "),
		"notes": cu.Notes, "version": strconv.Itoa(int(cu.Version)),
		"tax_regime": cu.TaxRegime, "exempt_cause": cu.ExemptCause, "irpf_rate": money.Decimal(cu.IrpfRate).String(),
	}
	if cu.SepaMandateDate.Valid {
		f["sepa_mandate_date"] = cu.SepaMandateDate.Time.Format("2006-01-02")
	}
	if cu.OwnerID != nil {
		f["owner_id"] = itoa(*cu.OwnerID)
	}
	b, s := addressesOf(addrs)
	for kind, a := range map[string]Address{"billing": b, "shipping": s} {
		f[kind+"_street"], f[kind+"_postal_code"], f[kind+"_city"], f[kind+"_province"] = a.Street, a.PostalCode, a.City, a.Province
	}
	return f
}

// EditForm shows the form filled with the customer, with what the viewer
// may change (editing) as inputs.
func (h *Handler) EditForm(c *fiber.Ctx) error {
	cu, sc, err := h.load(c)
	if err != nil {
		return err
	}
	if e := editingFor(web.MustPrincipal(c).Role); !e.data && !e.mandate {
		return web.ErrForbidden
	}
	addrs, err := h.Q.ListCustomerAddresses(c.UserContext(), queries.ListCustomerAddressesParams{OrgID: cu.OrgID, CustomerID: cu.ID})
	if err != nil {
		return err
	}
	return h.renderForm(c, fiber.StatusOK, sc, customersview.FormPage{ID: cu.ID, Values: formOf(cu, addrs)})
}

// Update saves an edit made from the version the form was loaded with; if
// someone saved in between, the user is told and nothing is overwritten.
// The timeline gets every changed field, old → new.
func (h *Handler) Update(c *fiber.Ctx) error {
	cu, sc, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	e := editingFor(p.Role)
	if !e.data && !e.mandate {
		return web.ErrForbidden
	}
	ctx := c.UserContext()
	addrs, err := h.Q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: cu.OrgID, CustomerID: cu.ID})
	if err != nil {
		return err
	}
	f := formFrom(c, customerFields)
	e.keep(f, formOf(cu, addrs))
	for _, k := range []string{"contact_name", "contact_job_title", "contact_email", "contact_phone"} {
		delete(f, k) // contacts are edited on the contacts tab
	}
	in, errs := parse(f)
	owners, err := h.owners(c, sc)
	if err != nil {
		return err
	}
	// Keeping the owner is always allowed (they may have left the
	// company since: whoever fixes an IBAN cannot reassign the customer).
	if errs["owner_id"] == "" && !sameOwner(in.OwnerID, cu.OwnerID) && !web.OwnerAllowed(owners, in.OwnerID) {
		errs["owner_id"] = "validation.choice"
	}
	if in.Version == 0 {
		errs["version"] = "validation.required"
	}
	if len(errs) > 0 {
		return h.renderForm(c, fiber.StatusUnprocessableEntity, sc, customersview.FormPage{ID: cu.ID, Values: f, Errors: errs})
	}
	dup, err := h.duplicate(ctx, p.OrgID, sc, in.TaxID, cu.ID)
	if err != nil {
		return err
	}
	if dup != nil {
		errs["tax_id"] = "customers.duplicate_tax_id"
		return h.renderForm(c, fiber.StatusConflict, sc, customersview.FormPage{ID: cu.ID, Values: f, Errors: errs, Duplicate: dup})
	}
	names := ownerNames(owners)
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		addrs, err := q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: cu.OrgID, CustomerID: cu.ID})
		if err != nil {
			return err
		}
		before := customerValues(cu, addrs, names)
		updated, err := q.UpdateCustomer(ctx, queries.UpdateCustomerParams{
			OrgID: cu.OrgID, ID: cu.ID, Version: in.Version, LegalName: in.LegalName, TradeName: in.TradeName,
			TaxID: in.TaxID, Country: in.Country, Email: in.Email, Phone: in.Phone, Iban: in.IBAN,
			SepaMandateRef: in.SepaMandateRef, SepaMandateDate: date(in.SepaMandateDate),
			PaymentTermsDays: in.PaymentTermsDays, OwnerID: in.OwnerID, Tags: orEmpty(in.Tags), Notes: in.Notes,
			TaxRegime: string(in.Tax.Regime), ExemptCause: in.Tax.ExemptCause, IrpfRate: money.Numeric(in.Tax.IRPF),
		})
		if isNoRows(err) {
			return errConflict
		}
		if err != nil {
			return err
		}
		if err := saveAddresses(ctx, q, updated, in); err != nil {
			return err
		}
		addrs, err = q.ListCustomerAddresses(ctx, queries.ListCustomerAddressesParams{OrgID: cu.OrgID, CustomerID: cu.ID})
		if err != nil {
			return err
		}
		changes := diff(before, customerValues(updated, addrs, names))
		if len(changes) > 0 {
			if err := record(ctx, q, activity{OrgID: cu.OrgID, CustomerID: &cu.ID, ActorID: &p.UserID, Kind: "updated", Data: map[string]any{"changes": changes}}); err != nil {
				return err
			}
		}
		return publish(ctx, q, updated, "updated")
	})
	switch {
	case err == errConflict:
		return h.renderForm(c, fiber.StatusConflict, sc, customersview.FormPage{ID: cu.ID, Values: f, Errors: map[string]string{}, Conflict: true})
	case isUniqueViolation(err):
		dup, derr := h.duplicate(ctx, p.OrgID, sc, in.TaxID, cu.ID)
		if derr != nil {
			return derr
		}
		errs["tax_id"] = "customers.duplicate_tax_id"
		return h.renderForm(c, fiber.StatusConflict, sc, customersview.FormPage{ID: cu.ID, Values: f, Errors: errs, Duplicate: dup})
	case err != nil:
		return err
	}
	web.Flash(c, "success", "customers.saved")
	return web.Redirect(c, "/customers/"+itoa(cu.ID))
}

func sameOwner(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func ownerNames(opts []components.SelectOption) map[int64]string {
	m := map[int64]string{}
	for _, o := range opts {
		if id, err := strconv.ParseInt(o.Value, 10, 64); err == nil {
			m[id] = o.Label
		}
	}
	return m
}

// customerValues is a customer as the timeline shows its fields.
func customerValues(cu queries.Customer, addrs []queries.CustomerAddress, owners map[int64]string) map[string]string {
	v := map[string]string{
		"legal_name": cu.LegalName, "trade_name": cu.TradeName, "tax_id": cu.TaxID, "country": cu.Country,
		"email": cu.Email, "phone": cu.Phone, "iban": ident.FormatIBAN(cu.Iban), "sepa_mandate_ref": cu.SepaMandateRef,
		"payment_terms_days": strconv.Itoa(int(cu.PaymentTermsDays)), "tags": strings.Join(cu.Tags, ", "), "notes": cu.Notes,
		"tax_regime": cu.TaxRegime, "exempt_cause": cu.ExemptCause, "irpf_rate": money.Decimal(cu.IrpfRate).String(),
	}
	if cu.SepaMandateDate.Valid {
		v["sepa_mandate_date"] = cu.SepaMandateDate.Time.Format("02/01/2006")
	}
	if cu.OwnerID != nil {
		v["owner"] = owners[*cu.OwnerID]
		if v["owner"] == "" {
			v["owner"] = "#" + itoa(*cu.OwnerID)
		}
	}
	b, s := addressesOf(addrs)
	v["billing_address"], v["shipping_address"] = b.line(), s.line()
	return v
}

func (a Address) line() string {
	return printing.AddressLine(a.Street, a.PostalCode, a.City, a.Province)
}

// diff lists the fields whose value changed, as field → [old, new].
func diff(before, after map[string]string) map[string][2]string {
	out := map[string][2]string{}
	for k, a := range after {
		if before[k] != a {
			out[k] = [2]string{before[k], a}
		}
	}
	for k, b := range before {
		if _, ok := after[k]; !ok && b != "" {
			out[k] = [2]string{b, ""}
		}
	}
	return out
}

// regimeOrGeneral: a customer made from a lead has no regime chosen yet.
func regimeOrGeneral(r tax.Regime) *string {
	if r == "" {
		r = tax.General
	}
	s := string(r)
	return &s
}

// The tax options come from app/tax, which decides what is valid.
var regimeOptions, causeOptions = func() (r, c []components.SelectOption) {
	for _, g := range tax.Regimes {
		r = append(r, components.SelectOption{Value: string(g), Label: "customers.regime." + string(g)})
	}
	c = append(c, components.SelectOption{Value: "", Label: "customers.exempt_cause_none"})
	for _, e := range tax.ExemptCauses {
		c = append(c, components.SelectOption{Value: e.Code, Label: e.Code + " · LIVA " + e.Article, Raw: true})
	}
	return r, c
}()
