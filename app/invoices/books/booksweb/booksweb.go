// Package booksweb serves /billing: the page billing people export the
// libro registro de facturas expedidas from, and the export itself.
package booksweb

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/invoices/books"
	"pulso/app/web"
	booksview "pulso/views/books"
	"pulso/views/components"
)

// Handler serves /billing.
type Handler struct{ web.Deps }

// New builds the billing handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var page = web.Page{Title: "books.title", Nav: "billing"}

// periods are the choices of the form: quarters, the year, months.
func periods() []components.SelectOption {
	out := []components.SelectOption{{Value: "1T", Label: "books.period.1T"}, {Value: "2T", Label: "books.period.2T"},
		{Value: "3T", Label: "books.period.3T"}, {Value: "4T", Label: "books.period.4T"}, {Value: "0A", Label: "books.period.0A"}}
	for m := 1; m <= 12; m++ {
		code := strconv.Itoa(m)
		if m < 10 {
			code = "0" + code
		}
		out = append(out, components.SelectOption{Value: code, Label: "books.period." + code})
	}
	return out
}

// Show is the billing page, the current quarter chosen.
func (h *Handler) Show(c *fiber.Ctx) error {
	q := books.QuarterOf(time.Now().In(web.MustPrincipal(c).Location()))
	return h.render(c, fiber.StatusOK, strconv.Itoa(q.Year), q.Code, nil)
}

func (h *Handler) render(c *fiber.Ctx, status int, year, period string, errs map[string]string) error {
	return web.Render(c, status, page, booksview.Show(booksview.Page{Year: year, Period: period, Periods: periods(), Errors: errs}))
}

// CSV is the book of the period as CSV.
func (h *Handler) CSV(c *fiber.Ctx) error {
	return h.export(c, "csv", "text/csv; charset=utf-8", books.WriteCSV)
}

// XLSX is the book of the period as an Excel workbook.
func (h *Handler) XLSX(c *fiber.Ctx) error {
	return h.export(c, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", books.WriteXLSX)
}

// export reads ?year=&period=, and writes the book. A bad period gets the
// form back with the field's message. The file is built before the first
// byte is sent (a quarter's book is small), so a failure is a proper error
// page rather than a truncated download.
func (h *Handler) export(c *fiber.Ctx, ext, contentType string, write func(io.Writer, []books.Entry) error) error {
	year, code := c.Query("year"), c.Query("period")
	p, err := books.ParsePeriod(year, code)
	if errors.Is(err, books.ErrPeriod) {
		errs := map[string]string{}
		if _, yerr := books.ParsePeriod(year, "0A"); yerr != nil {
			errs["year"] = "books.bad_year"
		} else {
			errs["period"] = "validation.choice"
		}
		return h.render(c, fiber.StatusUnprocessableEntity, year, code, errs)
	}
	pr := web.MustPrincipal(c)
	entries, err := books.Entries(c.UserContext(), h.Q, pr.OrgID, p)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := write(&b, entries); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+p.FileName(ext)+`"`)
	return c.Send(b.Bytes())
}
