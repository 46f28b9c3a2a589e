package catalog

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/ident"
	"pulso/app/live"
	"pulso/app/mail"
	"pulso/app/money"
	"pulso/app/printing"
	"pulso/app/web"
	"pulso/queries"
	catalogview "pulso/views/catalog"
	emailview "pulso/views/email"
)

var priceListsPage = web.Page{Title: "price_lists.title", Nav: "price_lists"}

// PriceLists is the admin's list of price lists and the form for a new one.
func (h *Handler) PriceLists(c *fiber.Ctx) error {
	return h.renderPriceLists(c, fiber.StatusOK, map[string]string{"kind": "percent"}, nil)
}

func (h *Handler) renderPriceLists(c *fiber.Ctx, status int, values, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ls, err := h.Q.ListPriceLists(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	v := catalogview.PriceListsPage{Values: values, Errors: errs}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, l := range ls {
		v.Lists = append(v.Lists, catalogview.PriceListRow{ID: l.ID, Name: l.Name, Kind: l.Kind, Percent: money.Number(money.Decimal(l.Percent), p.Currency),
			Items: l.Items, Customers: l.Customers, Active: l.Active})
	}
	return web.Render(c, status, priceListsPage, catalogview.PriceLists(v))
}

type priceListInput struct {
	Name    string
	Kind    string
	Percent decimal.Decimal
	Active  bool
}

func parsePriceList(c *fiber.Ctx) (priceListInput, map[string]string, map[string]string) {
	v := map[string]string{"name": strings.TrimSpace(c.FormValue("name")), "kind": c.FormValue("kind"), "percent": strings.TrimSpace(c.FormValue("percent")),
		"active": c.FormValue("active")}
	errs := map[string]string{}
	in := priceListInput{Name: v["name"], Kind: v["kind"], Active: v["active"] == "1"}
	if in.Name == "" || len(in.Name) > 120 || !ident.CleanText(in.Name) {
		errs["name"] = "validation.required"
	}
	if in.Kind != "percent" && in.Kind != "fixed" {
		errs["kind"] = "validation.choice"
	}
	in.Percent = decimal.Zero
	if in.Kind == "percent" {
		pc, ok := money.ParseDecimal(v["percent"])
		if v["percent"] != "" && strings.HasPrefix(v["percent"], "-") {
			pc, ok = money.ParseDecimal(strings.TrimPrefix(v["percent"], "-"))
			pc = pc.Neg()
		}
		if !ok || pc.Exponent() < -2 || !pc.GreaterThan(decimal.NewFromInt(-100)) || !pc.LessThan(decimal.NewFromInt(1000)) || pc.IsZero() {
			errs["percent"] = "price_lists.percent_invalid"
		}
		in.Percent = pc
	}
	return in, v, errs
}

// CreatePriceList adds a list (admins).
func (h *Handler) CreatePriceList(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	in, v, errs := parsePriceList(c)
	if len(errs) > 0 {
		return h.renderPriceLists(c, fiber.StatusUnprocessableEntity, v, errs)
	}
	l, err := h.Q.CreatePriceList(c.UserContext(), queries.CreatePriceListParams{OrgID: p.OrgID, Name: in.Name, Kind: in.Kind, Percent: money.Numeric(in.Percent)})
	if errors.Is(err, pgx.ErrNoRows) {
		return h.renderPriceLists(c, fiber.StatusUnprocessableEntity, v, map[string]string{"name": "price_lists.name_taken"})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
}

func (h *Handler) priceList(c *fiber.Ctx) (queries.PriceList, error) {
	l, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.PriceList, error) {
		return h.Q.GetPriceList(ctx, queries.GetPriceListParams{OrgID: org, ID: id})
	}, nil)
	return l, err
}

// PriceList is one list: its settings, every product with its price in
// the list, the customers it is assigned to, the PDF and e-mail.
func (h *Handler) PriceList(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	return h.renderPriceList(c, fiber.StatusOK, l, nil, nil)
}

func (h *Handler) renderPriceList(c *fiber.Ctx, status int, l queries.PriceList, values, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	v := catalogview.PriceListPage{ID: l.ID, Name: l.Name, Kind: l.Kind, Values: values, Errors: errs}
	if v.Values == nil {
		v.Values = map[string]string{"name": l.Name, "kind": l.Kind, "percent": money.Number(money.Decimal(l.Percent), p.Currency)}
		if l.Active {
			v.Values["active"] = "1"
		}
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	rows, err := h.Q.PriceListProducts(ctx, queries.PriceListProductsParams{OrgID: p.OrgID, PriceListID: l.ID})
	if err != nil {
		return err
	}
	for _, r := range rows {
		price := ListPrice(r.BasePrice, l.Kind, money.Decimal(l.Percent), r.ListPrice)
		item := catalogview.PriceItem{ProductID: r.ID, Code: r.Code, Name: r.Name, Base: money.Format(r.BasePrice, p.Currency),
			Price: money.Format(price, p.Currency), Own: r.ListPrice != nil}
		if r.ListPrice != nil {
			item.Input = money.Input(*r.ListPrice, p.OrgCountry)
		}
		v.Items = append(v.Items, item)
	}
	cs, err := h.Q.ListPriceListCustomers(ctx, queries.ListPriceListCustomersParams{OrgID: p.OrgID, PriceListID: &l.ID})
	if err != nil {
		return err
	}
	for _, cu := range cs {
		v.Customers = append(v.Customers, catalogview.ListCustomer{ID: cu.ID, Name: cu.LegalName, Email: cu.Email})
	}
	all, err := h.Q.ListCustomerChoices(ctx, queries.ListCustomerChoicesParams{OrgID: p.OrgID})
	if err != nil {
		return err
	}
	for _, cu := range all {
		v.AllCustomers = append(v.AllCustomers, catalogview.ListCustomer{ID: cu.ID, Name: cu.LegalName})
	}
	return web.Render(c, status, priceListsPage, catalogview.PriceList(v))
}

// UpdatePriceList saves the list's settings.
func (h *Handler) UpdatePriceList(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	in, v, errs := parsePriceList(c)
	if len(errs) > 0 {
		return h.renderPriceList(c, fiber.StatusUnprocessableEntity, l, v, errs)
	}
	if _, err := h.Q.UpdatePriceList(c.UserContext(), queries.UpdatePriceListParams{OrgID: l.OrgID, ID: l.ID, Name: in.Name, Kind: in.Kind,
		Percent: money.Numeric(in.Percent), Active: in.Active}); err != nil {
		if isUnique(err) {
			return h.renderPriceList(c, fiber.StatusUnprocessableEntity, l, v, map[string]string{"name": "price_lists.name_taken"})
		}
		return err
	}
	web.Flash(c, "success", "price_lists.saved")
	return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
}

// SetPrice sets (or, empty, removes) a product's price in a fixed list.
func (h *Handler) SetPrice(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	pid, _ := strconv.ParseInt(c.FormValue("product_id"), 10, 64)
	pr, err := h.Q.GetProduct(ctx, queries.GetProductParams{OrgID: p.OrgID, ID: pid})
	if errors.Is(err, pgx.ErrNoRows) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	raw := strings.TrimSpace(c.FormValue("price"))
	if raw == "" {
		err = h.Q.DeletePriceListItem(ctx, queries.DeletePriceListItemParams{OrgID: p.OrgID, PriceListID: l.ID, ProductID: pr.ID})
	} else {
		price, perr := money.ParseAmount(raw, p.OrgCountry)
		if perr != nil || price <= 0 {
			web.Flash(c, "error", "price_lists.price_invalid")
			return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
		}
		err = h.Q.SetPriceListItem(ctx, queries.SetPriceListItemParams{OrgID: p.OrgID, PriceListID: l.ID, ProductID: pr.ID, Price: price})
	}
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d#p-%d", l.ID, pr.ID))
}

// AssignCustomer gives a customer this list (or, with remove, takes it away).
func (h *Handler) AssignCustomer(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	cid, _ := strconv.ParseInt(c.FormValue("customer_id"), 10, 64)
	if _, err := h.Q.GetCustomer(c.UserContext(), queries.GetCustomerParams{OrgID: p.OrgID, ID: cid}); errors.Is(err, pgx.ErrNoRows) {
		web.Flash(c, "error", "validation.choice")
		return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
	} else if err != nil {
		return err
	}
	list := &l.ID
	if c.FormValue("remove") != "" {
		list = nil
	}
	if err := h.Q.SetCustomerPriceList(c.UserContext(), queries.SetCustomerPriceListParams{OrgID: p.OrgID, ID: cid, PriceListID: list}); err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
}

// priceListPDF prints the list with the org's logo.
func (h *Handler) priceListPDF(ctx context.Context, p *web.Principal, l queries.PriceList, now time.Time) ([]byte, error) {
	org, err := h.Q.GetOrgForDocuments(ctx, p.OrgID)
	if err != nil {
		return nil, err
	}
	rows, err := h.Q.PriceListProducts(ctx, queries.PriceListProductsParams{OrgID: p.OrgID, PriceListID: l.ID})
	if err != nil {
		return nil, err
	}
	loc, _ := calendar.Zone(org.TimeZone)
	d := printing.Document{Kind: "price_list", Number: l.Name, Issued: now, Locale: p.Locale, Location: loc, Currency: org.Currency,
		Seller: printing.Party{Name: org.Name, TaxID: org.TaxID}, Logo: org.Logo}
	for _, r := range rows {
		d.Lines = append(d.Lines, printing.Line{Description: r.Code + " · " + r.Name, Unit: r.Unit,
			UnitPrice: ListPrice(r.BasePrice, l.Kind, money.Decimal(l.Percent), r.ListPrice), TaxRate: money.Decimal(r.TaxRate).String()})
	}
	return printing.Render(d)
}

// PriceListPDF downloads the list as a PDF.
func (h *Handler) PriceListPDF(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	pdf, err := h.priceListPDF(c.UserContext(), web.MustPrincipal(c), l, time.Now())
	if err != nil {
		return err
	}
	return web.SendPDF(c, pdf, "lista-de-precios.pdf")
}

// SendPriceList e-mails the list's PDF to one customer (a send_email job,
// one per list, customer and minute: a double tap sends once).
func (h *Handler) SendPriceList(c *fiber.Ctx) error {
	l, err := h.priceList(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	cid, _ := strconv.ParseInt(c.FormValue("customer_id"), 10, 64)
	cu, err := h.Q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: p.OrgID, ID: cid})
	if errors.Is(err, pgx.ErrNoRows) {
		web.Flash(c, "error", "validation.choice")
		return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
	}
	if err != nil {
		return err
	}
	if cu.Email == "" || mail.ValidAddress(cu.Email) != nil {
		web.Flash(c, "error", "price_lists.no_email")
		return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
	}
	now := time.Now()
	pdf, err := h.priceListPDF(ctx, p, l, now)
	if err != nil {
		return err
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		e, err := mail.Enqueue(ctx, tx, h.Jobs, mail.Message{OrgID: p.OrgID, Key: fmt.Sprintf("price-list:%d:%d:%s", l.ID, cu.ID, now.Format("200601021504")),
			To: cu.Email, ToName: cu.LegalName, Locale: p.Locale, Template: mail.PriceList(emailview.PriceList{Org: p.OrgName, List: l.Name, Customer: cu.LegalName})})
		if err != nil {
			return err
		}
		q := h.Q.WithTx(tx)
		if has, err := q.ListEmailAttachments(ctx, queries.ListEmailAttachmentsParams{OrgID: p.OrgID, EmailID: e.ID}); err != nil || len(has) > 0 {
			return err // the same send a moment ago: it has its PDF
		}
		return q.CreateEmailAttachment(ctx, queries.CreateEmailAttachmentParams{OrgID: p.OrgID, EmailID: e.ID,
			Filename: "lista-de-precios.pdf", ContentType: "application/pdf", Content: pdf})
	})
	if err != nil {
		return err
	}
	web.Flash(c, "success", "price_lists.sent")
	return web.Redirect(c, fmt.Sprintf("/catalog/price-lists/%d", l.ID))
}

func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}
