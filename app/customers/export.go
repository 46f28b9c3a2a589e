package customers

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/xuri/excelize/v2"

	"pulso/app/ident"
	"pulso/app/spreadsheet"
	"pulso/app/web"
	"pulso/queries"
)

// exportBatch is how many customers the export reads per query: the file is
// written as the pages arrive, so memory stays flat however many there are.
const exportBatch = 500

var exportColumns = []string{
	"customers.legal_name", "customers.trade_name", "customers.tax_id", "customers.country", "customers.email",
	"customers.phone", "customers.owner", "customers.tags", "customers.payment_terms_days", "customers.iban",
	"customers.created_at",
}

func exportRow(r queries.ListCustomersRow, loc *time.Location) []string {
	cu := r.Customer
	return []string{
		cu.LegalName, cu.TradeName, cu.TaxID, cu.Country, cu.Email, cu.Phone, r.OwnerName,
		strings.Join(cu.Tags, ", "), strconv.Itoa(int(cu.PaymentTermsDays)), ident.FormatIBAN(cu.Iban),
		cu.CreatedAt.In(loc).Format("02/01/2006"),
	}
}

// eachCustomer walks every customer the filters match, page by page by id,
// calling fn for each; the export's memory does not grow with the list.
func eachCustomer(ctx context.Context, q *queries.Queries, params queries.ListCustomersParams, fn func(queries.ListCustomersRow) error) error {
	params.PageSize = exportBatch
	params.BeforeID = nil
	for {
		rows, err := q.ListCustomers(ctx, params)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < exportBatch {
			return nil
		}
		last := rows[len(rows)-1].Customer.ID
		params.BeforeID = &last
	}
}

// exportSetup reads what the export needs from the request before the body
// is streamed (the request context is gone by then).
func (h *Handler) exportSetup(c *fiber.Ctx) (queries.ListCustomersParams, []string, *time.Location, error) {
	p := web.MustPrincipal(c)
	sc, err := web.Scope(c.UserContext(), h.Q, p)
	if err != nil {
		return queries.ListCustomersParams{}, nil, nil, err
	}
	_, params := listParams(c, p, sc)
	header := make([]string, len(exportColumns))
	for i, id := range exportColumns {
		header[i] = web.Translate(c, id)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return params, header, p.Location(), nil
}

// ExportCSV streams the filtered list as CSV in the dialect of every Pulso
// export (spreadsheet.NewCSV).
func (h *Handler) ExportCSV(c *fiber.Ctx) error {
	params, header, loc, err := h.exportSetup(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="clientes.csv"`)
	q, log := h.Q, h.Log
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		ctx := context.Background()
		w, _ := spreadsheet.NewCSV(bw)
		_ = w.Write(header)
		err := eachCustomer(ctx, q, params, func(r queries.ListCustomersRow) error {
			row := exportRow(r, loc)
			for i := range row {
				row[i] = spreadsheet.Cell(row[i])
			}
			if err := w.Write(row); err != nil {
				return err
			}
			w.Flush()
			return w.Error()
		})
		w.Flush()
		if err != nil {
			// Headers are gone; the file ends short and the log says why.
			log.Error("customer export", slog.Int64("org_id", params.OrgID), slog.String("error", err.Error()))
		}
	})
	return nil
}

// ExportXLSX streams the filtered list as an Excel workbook, written with
// excelize's StreamWriter (rows go to a temporary file, not a sheet held in
// memory).
func (h *Handler) ExportXLSX(c *fiber.Ctx) error {
	params, header, loc, err := h.exportSetup(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="clientes.xlsx"`)
	q, log := h.Q, h.Log
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		if err := writeXLSX(context.Background(), bw, q, params, header, loc); err != nil {
			log.Error("customer export", slog.Int64("org_id", params.OrgID), slog.String("error", err.Error()))
		}
	})
	return nil
}

func writeXLSX(ctx context.Context, out io.Writer, q *queries.Queries, params queries.ListCustomersParams, header []string, loc *time.Location) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Clientes"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cells := func(v []string) []any {
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	}
	if err := sw.SetRow("A1", cells(header)); err != nil {
		return err
	}
	n := 1
	err = eachCustomer(ctx, q, params, func(r queries.ListCustomersRow) error {
		n++
		cell, err := excelize.CoordinatesToCellName(1, n)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells(exportRow(r, loc)))
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(out)
	return err
}
