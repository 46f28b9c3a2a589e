// Package ledger reads an org's stored VERI*FACTU records back: it checks
// every chain as the AEAT would (from the XML each record was sent as, not
// from what Pulso believes it wrote), counts the records by sending state
// and lists them a page at a time. `pulso verifactu verify` and the
// /verifactu pages call it; it knows nothing of HTTP.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"pulso/app/verifactu"
	"pulso/queries"
)

// Problem says what kind of fault a broken link is: one of verifactu's
// Broken… codes (the chain rules, which verifactu.VerifyChain owns) or one
// of the stored-record faults below.
type Problem string

const (
	// Gap: the record's position does not follow the previous one's, so
	// records are missing between them.
	Gap Problem = "gap"
	// BadXML: the stored XML is not a record at all.
	BadXML Problem = "xml"
	// Columns: the columns stored beside the XML (what the sending job
	// and the pages read) do not say what the XML says.
	Columns Problem = "columns"
	// Head: the chain's head (where the next record will be chained) is
	// not the last stored record, e.g. records are missing at the end.
	Head Problem = "head"
)

// Break is the first link of a chain that does not hold.
type Break struct {
	Seq       int64  // the record's position in its chain
	RecordID  int64  // 0 for a Head break past the last record
	InvoiceID int64  // 0 likewise
	Number    string // NumSerieFactura the record is about
	Problem   Problem
	Detail    string // what is wrong, in the technical terms of the record
}

// Chain is the check of one issuer's chain.
type Chain struct {
	IssuerNIF string
	// Checked is how many records were read, the broken one included.
	Checked int
	// Head is the position the chain's head says was recorded last.
	Head  int64
	Break *Break // nil: the whole chain holds
}

// OK reports whether every chain holds.
func OK(chains []Chain) bool {
	for _, c := range chains {
		if c.Break != nil {
			return false
		}
	}
	return true
}

// batch is how many records Verify reads at a time.
const batch = 500

// Verify recomputes every chain of the org (one per issuer NIF): each
// record's huella from its own XML's texts, its Encadenamiento against the
// record before it (the first must say PrimerRegistro), positions from 1
// without gaps, the columns beside the XML, and the head. It stops each
// chain at its first broken link.
//
// Each chain is checked up to its head as first read: a record and the
// head's move to it commit together, so every record up to that head is
// already visible, and invoices issued while the check runs neither break
// it nor need a snapshot transaction. (A stored record past the head is
// thus not looked at: it is either that new or not part of the chain.)
func Verify(ctx context.Context, q *queries.Queries, orgID int64) ([]Chain, error) {
	heads, err := q.ListVerifactuChainHeads(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]Chain, 0, len(heads))
	for _, h := range heads {
		c, err := verifyChain(ctx, q, h)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func verifyChain(ctx context.Context, q *queries.Queries, head queries.VerifactuChain) (Chain, error) {
	c := Chain{IssuerNIF: head.IssuerNif, Head: head.LastSeq}
	var prev *verifactu.Link
	var last int64
	var lastHuella string
	for {
		rs, err := q.ListVerifactuChainBatch(ctx, queries.ListVerifactuChainBatchParams{OrgID: head.OrgID, IssuerNif: head.IssuerNif, AfterSeq: last, UpTo: head.LastSeq, Batch: batch})
		if err != nil {
			return c, err
		}
		for _, r := range rs {
			c.Checked++
			if b := checkRecord(r, last, prev); b != nil {
				c.Break = b
				return c, nil
			}
			s, _ := verifactu.ParseRecord(r.Xml) // checkRecord parsed it
			l := s.Link()
			prev, last, lastHuella = &l, r.Seq, l.Huella
		}
		if len(rs) < batch {
			break
		}
	}
	switch {
	case head.LastSeq != last:
		c.Break = &Break{Seq: last + 1, Problem: Head, Detail: fmt.Sprintf("the chain's head says %d records were written, the last one stored is at position %d", head.LastSeq, last)}
	case last > 0 && (head.LastHuella == nil || *head.LastHuella != lastHuella):
		c.Break = &Break{Seq: last, Problem: Head, Detail: fmt.Sprintf("the chain's head names huella %s, the last record has %s", deref(head.LastHuella), lastHuella)}
	}
	return c, nil
}

// checkRecord checks r, which follows position after whose Link is prev
// (nil: r should be the first record).
func checkRecord(r queries.VerifactuRecord, after int64, prev *verifactu.Link) *Break {
	b := &Break{Seq: r.Seq, RecordID: r.ID, InvoiceID: r.InvoiceID, Number: r.NumSerie}
	if r.Seq != after+1 {
		b.Problem = Gap
		if after == 0 {
			b.Detail = fmt.Sprintf("the chain starts at position %d: records 1 to %d are missing", r.Seq, r.Seq-1)
		} else {
			b.Detail = fmt.Sprintf("position %d follows %d: records %d to %d are missing", r.Seq, after, after+1, r.Seq-1)
		}
		return b
	}
	s, err := verifactu.ParseRecord(r.Xml)
	if err != nil {
		b.Problem, b.Detail = BadXML, err.Error()
		return b
	}
	b.Number = s.ID.NumSerieFactura
	if err := verifactu.VerifyChain([]verifactu.Stored{s}, prev); err != nil {
		var ce *verifactu.ChainError
		if !errors.As(err, &ce) {
			b.Problem, b.Detail = BadXML, err.Error()
			return b
		}
		b.Problem, b.Detail = Problem(ce.Code), ce.Reason
		return b
	}
	if d := columnsDiffer(r, s); d != "" {
		b.Problem, b.Detail = Columns, d
		return b
	}
	return nil
}

// columnsDiffer names the first column that does not say what the XML
// says ("" when all agree).
func columnsDiffer(r queries.VerifactuRecord, s verifactu.Stored) string {
	kind := "alta"
	if s.Kind == verifactu.KindAnulacion {
		kind = "anulacion"
	}
	prev := func(f func(*verifactu.Link) string) string {
		if s.Prev == nil {
			return ""
		}
		return f(s.Prev)
	}
	checks := []struct{ name, col, xml string }{
		{"kind", r.Kind, kind},
		{"issuer_nif", r.IssuerNif, s.ID.IDEmisorFactura},
		{"num_serie", r.NumSerie, s.ID.NumSerieFactura},
		{"fecha_expedicion", r.FechaExpedicion, s.ID.FechaExpedicionFactura},
		{"tipo_factura", deref(r.TipoFactura), s.TipoFactura},
		{"huella", r.Huella, s.Huella},
		{"generated_at_text", r.GeneratedAtText, s.FechaHoraHusoGenRegistro},
		{"prev_num_serie", deref(r.PrevNumSerie), prev(func(l *verifactu.Link) string { return l.NumSerieFactura })},
		{"prev_fecha", deref(r.PrevFecha), prev(func(l *verifactu.Link) string { return l.FechaExpedicionFactura })},
		{"prev_huella", deref(r.PrevHuella), prev(func(l *verifactu.Link) string { return l.Huella })},
	}
	for _, c := range checks {
		if c.col != c.xml {
			return fmt.Sprintf("column %s is %q, the XML says %q", c.name, c.col, c.xml)
		}
	}
	return ""
}

// The sending states of a record, in the order pages show them.
var Statuses = []string{"pending", "sent", "accepted", "accepted_with_errors", "rejected"}

// Kinds of record.
var Kinds = []string{"alta", "anulacion"}

// Counts is how many of the org's records are in each sending state.
type Counts map[string]int64

// Count counts the org's records by sending state; every state of
// Statuses is present, zero when none.
func Count(ctx context.Context, q *queries.Queries, orgID int64) (Counts, error) {
	rows, err := q.CountVerifactuRecordsByStatus(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := Counts{}
	for _, s := range Statuses {
		out[s] = 0
	}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// Filter narrows the list: "" means any.
type Filter struct {
	Status, Kind string
	// Before is the id the page starts below (0: the newest).
	Before int64
}

// ErrFilter is returned by List for a status or kind that does not exist.
var ErrFilter = errors.New("ledger: unknown status or kind")

// PageSize is how many records a page lists.
const PageSize = 50

// Page is one page of records, newest first; Next is the Before of the
// next page (0: this is the last).
type Page struct {
	Records []queries.ListVerifactuRecordsPageRow
	Next    int64
}

// List is one page of the org's records that match f.
func List(ctx context.Context, q *queries.Queries, orgID int64, f Filter) (Page, error) {
	if (f.Status != "" && !slices.Contains(Statuses, f.Status)) || (f.Kind != "" && !slices.Contains(Kinds, f.Kind)) {
		return Page{}, ErrFilter
	}
	p := queries.ListVerifactuRecordsPageParams{OrgID: orgID, PageSize: PageSize + 1}
	if f.Status != "" {
		p.Status = &f.Status
	}
	if f.Kind != "" {
		p.Kind = &f.Kind
	}
	if f.Before > 0 {
		p.BeforeID = &f.Before
	}
	rows, err := q.ListVerifactuRecordsPage(ctx, p)
	if err != nil {
		return Page{}, err
	}
	var pg Page
	if len(rows) > PageSize {
		rows = rows[:PageSize]
		pg.Next = rows[PageSize-1].ID
	}
	pg.Records = rows
	return pg, nil
}

// Filename is the name a record's XML downloads as: what it is, whose
// chain, its position and the invoice, e.g.
// verifactu-B12345674-000007-alta-F2026-0007.xml.
func Filename(kind, issuerNIF string, seq int64, numSerie string) string {
	safe := make([]rune, 0, len(numSerie))
	for _, r := range numSerie {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			safe = append(safe, r)
		} else {
			safe = append(safe, '_')
		}
	}
	return fmt.Sprintf("verifactu-%s-%06d-%s-%s.xml", issuerNIF, seq, kind, string(safe))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
