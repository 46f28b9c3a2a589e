package engine

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"pulso/app/files"
	"pulso/app/imports/sheet"
	"pulso/app/spreadsheet"
	"pulso/queries"
	"pulso/views/i18n"
)

// writeErrorFile writes the bad rows as they were in the file, with their
// line and an errors column in the uploader's language, as UTF-8 CSV with
// a BOM (Excel opens it right), into the file store. It streams the
// original file again and walks the error list in line order beside it,
// and the CSV streams into the store through a pipe, so memory stays flat
// however many rows failed. Rewriting it on a retry gives the same bytes,
// which the store keeps once.
func (r *Runner) writeErrorFile(ctx context.Context, imp queries.Import) (files.File, error) {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(r.writeErrors(ctx, imp, pw))
	}()
	f, err := r.Files.Put(ctx, imp.OrgID, pr)
	// Put may stop before the end (a database error): the writer's next
	// write then fails instead of blocking for ever.
	pr.CloseWithError(errors.New("error file not stored"))
	<-done
	return f, err
}

func (r *Runner) writeErrors(ctx context.Context, imp queries.Import, dst io.Writer) error {
	q := queries.New(r.DB)
	user, err := q.GetUser(ctx, queries.GetUserParams{OrgID: imp.OrgID, ID: imp.CreatedBy})
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(dst, 64<<10)
	_, _ = bw.WriteString("\xEF\xBB\xBF")
	w := csv.NewWriter(bw)
	w.UseCRLF = true
	w.Comma = ';'
	if user.Locale == "en" {
		w.Comma = ','
	}

	rd, err := r.open(ctx, imp)
	if err != nil {
		return err
	}
	defer rd.Close()
	if rd.Delimiter() != 0 {
		w.Comma = rd.Delimiter()
	}
	var page []queries.ListImportErrorsRow
	after := int32(0)
	next := func() (*queries.ListImportErrorsRow, error) {
		if len(page) == 0 {
			var err error
			page, err = q.ListImportErrors(ctx, queries.ListImportErrorsParams{OrgID: imp.OrgID, ImportID: imp.ID, AfterLine: after, PageSize: 5000})
			if err != nil || len(page) == 0 {
				return nil, err
			}
			after = page[len(page)-1].Line
		}
		e := page[0]
		page = page[1:]
		return &e, nil
	}
	cur, err := next()
	if err != nil {
		return err
	}
	header := true
	for cur != nil {
		line, cells, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if header {
			if sheet.Blank(cells) {
				continue
			}
			header = false
			out := []string{i18n.In(user.Locale, "imports.errfile_line", nil)}
			for _, c := range cells {
				out = append(out, spreadsheet.Cell(c))
			}
			if err := w.Write(append(out, i18n.In(user.Locale, "imports.errfile_errors", nil))); err != nil {
				return err
			}
			continue
		}
		if int32(line) != cur.Line {
			continue
		}
		out := make([]string, 0, len(cells)+2)
		out = append(out, fmt.Sprint(line))
		for _, c := range cells {
			out = append(out, spreadsheet.Cell(c))
		}
		reason := i18n.In(user.Locale, "imports.errfile_reason", map[string]any{"Column": cur.ErrorColumn, "Message": i18n.In(user.Locale, cur.ErrorID, nil)})
		// The reason starts with the column's header, which the file's
		// author wrote: neutralised like every other cell.
		if err := w.Write(append(out, spreadsheet.Cell(reason))); err != nil {
			return err
		}
		if cur, err = next(); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// ErrorFileName names the error file after the upload: clientes.xlsx →
// clientes-errores.csv.
func ErrorFileName(upload string) string {
	base := filepath.Base(upload)
	base = base[:len(base)-len(filepath.Ext(base))]
	if base == "" || base == "." {
		base = "importacion"
	}
	return base + "-errores.csv"
}
