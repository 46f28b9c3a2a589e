// Package imports is where admins bring leads in bulk (CSV or XLSX) and
// assign a portfolio of customers (cartera inteligente): upload, map the
// columns on a preview of the first rows, then an import job does the work
// while the page shows its progress live. The engine is in
// app/imports/engine, the file readers in app/imports/sheet.
//
// Admins only: an import writes leads for the whole org and a portfolio
// reassigns customers between reps, both beyond a manager's team.
package imports

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/xuri/excelize/v2"

	"pulso/app/files"
	"pulso/app/imports/engine"
	"pulso/app/imports/sheet"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	"pulso/queries"
	importview "pulso/views/imports"
	"pulso/workers/jobargs"
)

// MaxUpload bounds an upload: about half a million typical lead rows.
// app.go gives the route this limit (web.Bodies): a file a little over it
// gets this handler's message, one far over the same words from the
// middleware before anything is read.
const MaxUpload = 50 << 20

// previewRows is how many data rows the mapping screen shows.
const previewRows = 20

// Handler serves /imports.
type Handler struct {
	web.Deps
	files files.Store
}

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{Deps: d, files: files.New(d.DB)} }

var listPage = web.Page{Title: "imports.title", Nav: "imports"}

func item(imp queries.Import, loc func(t string) string) importview.Item {
	return importview.Item{
		ID: imp.ID, Kind: imp.Kind, Filename: imp.Filename, Status: imp.Status, Progress: int(imp.Progress), RowsRead: int(imp.RowsRead),
		Inserted: int(imp.Inserted), Merged: int(imp.Merged), Skipped: int(imp.Skipped), Errors: int(imp.Errors),
		Failure: imp.Failure, FailureLine: int(imp.FailureLine), HasErrorFile: imp.ErrorFileID != nil, CreatedAt: loc(""),
	}
}

func (h *Handler) list(c *fiber.Ctx, status int, uploadErr string) error {
	p := web.MustPrincipal(c)
	rows, err := h.Q.ListImports(c.UserContext(), p.OrgID)
	if err != nil {
		return err
	}
	page := importview.ListPage{Error: uploadErr, MaxBytes: fmt.Sprintf("%d MB", MaxUpload>>20)}
	loc := p.Location()
	for _, r := range rows {
		at := r.CreatedAt.In(loc).Format("02/01/2006 15:04")
		page.Items = append(page.Items, item(r, func(string) string { return at }))
	}
	return web.Render(c, status, listPage, importview.List(page))
}

// List shows the upload form and the org's recent imports.
func (h *Handler) List(c *fiber.Ctx) error { return h.list(c, fiber.StatusOK, "") }

// Upload streams the file from the connection into the file store (where
// any `pulso work` process reads it), a chunk at a time, and opens the
// mapping screen. The form sends the kind after the file; both orders work.
func (h *Handler) Upload(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	kind, name, format := "leads", "", ""
	var stored *files.File
	forget := func() {
		if stored != nil {
			// The bytes go, unless another import or a document uses them
			// (files.ErrInUse).
			_ = h.files.Delete(ctx, p.OrgID, stored.ID)
		}
	}
	for {
		part, err := web.NextPart(c)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			forget()
			if stored == nil && (errors.Is(err, web.ErrNotMultipart) || errors.Is(err, web.ErrNoFile)) {
				return h.list(c, fiber.StatusUnprocessableEntity, "imports.no_file")
			}
			return web.NewError(fiber.StatusBadRequest, "error.bad_request", err)
		}
		switch {
		case part.FormName() == "kind":
			kind = web.PartValue(part, 32)
		case part.FormName() == "file" && stored == nil && part.FileName() != "":
			name = part.FileName()
			br := bufio.NewReader(part)
			head, _ := br.Peek(8)
			if len(head) == 0 {
				return h.list(c, fiber.StatusUnprocessableEntity, "imports.err_empty")
			}
			format = sheet.Format(head)
			f, err := h.files.Put(ctx, p.OrgID, io.LimitReader(br, MaxUpload+1))
			if err != nil {
				return err
			}
			stored = &f
			if f.Size > MaxUpload {
				forget()
				return h.list(c, fiber.StatusRequestEntityTooLarge, "imports.too_big")
			}
		}
	}
	if stored == nil {
		return h.list(c, fiber.StatusUnprocessableEntity, "imports.no_file")
	}
	if kind != "leads" && kind != "portfolio" && kind != "products" {
		kind = "leads"
	}
	imp, err := h.Q.CreateImport(ctx, queries.CreateImportParams{
		OrgID: p.OrgID, Kind: kind, Filename: cleanName(name), FileID: stored.ID, SizeBytes: stored.Size, Format: format, Mapping: []byte("{}"), CreatedBy: p.UserID,
	})
	if err != nil {
		forget()
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/imports/%d", imp.ID))
}

// cleanName keeps the user's file name for display, without a path or
// control characters.
func cleanName(s string) string {
	s = filepath.Base(strings.ReplaceAll(s, "\\", "/"))
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200])
	}
	if strings.TrimSpace(s) == "" || s == "." || s == "/" {
		s = "importacion"
	}
	return s
}

func (h *Handler) load(c *fiber.Ctx) (queries.Import, error) {
	imp, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Import, error) {
		return h.Q.GetImport(ctx, queries.GetImportParams{OrgID: org, ID: id})
	}, nil)
	return imp, err
}

// Show is the mapping screen of a draft, and the progress or result of a
// started import.
func (h *Handler) Show(c *fiber.Ctx) error {
	imp, err := h.load(c)
	if err != nil {
		return err
	}
	if imp.Status == "draft" {
		charset := c.Query("charset")
		if charset != "" && !validCharset(charset) {
			charset = ""
		}
		return h.preview(c, fiber.StatusOK, imp, charset, nil, "")
	}
	return web.Render(c, fiber.StatusOK, web.Page{Title: "imports.title", Nav: "imports"}, importview.Show(item(imp, noTime)))
}

func noTime(string) string { return "" }

func validCharset(cs string) bool {
	for _, v := range sheet.Charsets {
		if v == cs {
			return true
		}
	}
	return false
}

// preview reads the header and the first rows and renders the mapping
// screen; chosen is the user's mapping after a refused start.
func (h *Handler) preview(c *fiber.Ctx, status int, imp queries.Import, charset string, chosen engine.Mapping, mapErr string) error {
	page := importview.PreviewPage{Item: item(imp, noTime), Charset: charset, Charsets: sheet.Charsets, IsCSV: imp.Format == "csv", MapError: mapErr}
	headers, rows, err := h.readPreview(c.UserContext(), imp, charset)
	var fe *sheet.Error
	switch {
	case errors.As(err, &fe):
		page.Error, page.ErrLine = fe.MessageID, fe.Line
	case err != nil:
		return err
	}
	for i, hd := range headers {
		if hd == "" {
			hd = fmt.Sprintf("#%d", i+1)
		}
		page.Columns = append(page.Columns, importview.Column{Index: i, Header: hd})
	}
	for _, r := range rows {
		padded := make([]string, len(headers))
		copy(padded, r)
		page.Rows = append(page.Rows, padded)
	}
	fields := engine.FieldsOf(imp.Kind)
	m := chosen
	if m == nil {
		m = engine.AutoMap(fields, headers)
	}
	for _, f := range fields {
		col, ok := m[f.Name]
		if !ok {
			col = -1
		}
		page.Fields = append(page.Fields, importview.FieldChoice{Name: f.Name, Label: f.Label, Column: col})
	}
	return web.Render(c, status, web.Page{Title: "imports.title", Nav: "imports"}, importview.Preview(page))
}

// readPreview reads the header and the first rows from the file store: a
// CSV's first chunk, or the whole of an XLSX (see sheet.Open).
func (h *Handler) readPreview(ctx context.Context, imp queries.Import, charset string) ([]string, [][]string, error) {
	src, f, err := h.files.Open(ctx, imp.OrgID, imp.FileID)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	rd, err := sheet.Open(src, f.Size, imp.Format, charset)
	if err != nil {
		return nil, nil, err
	}
	defer rd.Close()
	var headers []string
	var rows [][]string
	for len(rows) < previewRows {
		_, cells, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if sheet.Blank(cells) {
			continue
		}
		cp := append([]string{}, cells...)
		if headers == nil {
			headers = cp
			continue
		}
		rows = append(rows, cp)
	}
	if headers == nil || len(rows) == 0 {
		return nil, nil, &sheet.Error{MessageID: sheet.ErrEmpty}
	}
	for _, r := range rows { // ragged rows: show every column any row has
		for len(headers) < len(r) {
			headers = append(headers, "")
		}
	}
	return headers, rows, nil
}

// Start takes the mapping and queues the import job, in one transaction.
func (h *Handler) Start(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	imp, err := h.load(c)
	if err != nil {
		return err
	}
	if imp.Status != "draft" {
		return web.Redirect(c, fmt.Sprintf("/imports/%d", imp.ID))
	}
	charset := c.FormValue("charset")
	if charset != "" && !validCharset(charset) {
		charset = ""
	}
	m := engine.Mapping{}
	for _, f := range engine.FieldsOf(imp.Kind) {
		v, err := strconv.Atoi(c.FormValue("map_" + f.Name))
		if err == nil && v >= 0 && v < 1000 {
			m[f.Name] = v
		}
	}
	if msg := missingField(imp.Kind, m); msg != "" {
		return h.preview(c, fiber.StatusUnprocessableEntity, imp, charset, m, msg)
	}
	mapping, _ := json.Marshal(m)
	ctx := c.UserContext()
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		queued, err := q.QueueImport(ctx, queries.QueueImportParams{OrgID: p.OrgID, ID: imp.ID, Mapping: mapping, Charset: charset})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // a double submit: the first one queued it
		}
		if err != nil {
			return err
		}
		_, err = h.Jobs.InsertTx(ctx, tx, jobargs.Import{OrgID: queued.OrgID, ImportID: queued.ID}, nil)
		return err
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, fmt.Sprintf("/imports/%d", imp.ID))
}

func missingField(kind string, m engine.Mapping) string {
	has := func(f string) bool { _, ok := m[f]; return ok }
	if kind == "portfolio" {
		if !has("tax_id") || (!has("agent") && !has("custom_agent")) {
			return "imports.map_portfolio_required"
		}
		return ""
	}
	if kind == "products" {
		if !has("code") || !has("name") || !has("price") {
			return "imports.map_products_required"
		}
		return ""
	}
	if !has("name") && !has("contact_name") && !has("email") {
		return "imports.map_name_required"
	}
	return ""
}

// StatusFragment renders the live block alone (re-fetched after a reconnect).
func (h *Handler) StatusFragment(c *fiber.Ctx) error {
	imp, err := h.load(c)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return web.Render(c, fiber.StatusOK, web.Page{}, importview.Status(item(imp, noTime), false))
}

// Errors downloads the error file.
func (h *Handler) Errors(c *fiber.Ctx) error {
	imp, err := h.load(c)
	if err != nil {
		return err
	}
	if imp.ErrorFileID == nil {
		return web.ErrNotFound
	}
	// fasthttp reads the body after this handler returns.
	body, f, err := h.files.Open(context.WithoutCancel(c.UserContext()), imp.OrgID, *imp.ErrorFileID)
	if err != nil {
		return err
	}
	c.Attachment(engine.ErrorFileName(imp.Filename))
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.SendStream(body, int(f.Size)) // fasthttp closes body when sent
}

// Template downloads the cartera inteligente XLSX template.
func (h *Handler) Template(c *fiber.Ctx) error {
	f := excelize.NewFile()
	defer f.Close()
	sheetName := "Cartera"
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		return err
	}
	headers := make([]any, len(engine.PortfolioHeaders))
	for i, h := range engine.PortfolioHeaders {
		headers[i] = h
	}
	if err := f.SetSheetRow(sheetName, "A1", &headers); err != nil {
		return err
	}
	if err := f.SetColWidth(sheetName, "A", "G", 22); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if err := f.SetRowStyle(sheetName, 1, 1, bold); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	c.Attachment("cartera-inteligente.xlsx")
	return c.Send(buf.Bytes())
}

// RegisterLive renders import events: the status block of the import,
// swapped in place on the pages that show it.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(engine.Topic, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil {
			return nil, nil
		}
		imp, err := q.GetImport(ctx, queries.GetImportParams{OrgID: ev.OrgID, ID: *ev.EntityID})
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := importview.Status(item(imp, noTime), true).Render(hub.RenderContext(ctx, aud), &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}})
}
