package invoices

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/riverqueue/river"

	"pulso/app/calendar"
	"pulso/app/money"
	"pulso/app/plans"
	"pulso/app/printing"
	"pulso/app/series"
	"pulso/app/tax"
	"pulso/app/verifactu"
	"pulso/queries"
)

// Simplified invoice limits, VAT included, in euro cents (RD 1619/2012 art.
// 4.1 and 4.2). The AEAT itself only rejects an F2 above 3,000 € (error
// 1150), so the 400 € rule is enforced here.
const (
	SimplifiedLimit         = 400_00
	SimplifiedActivityLimit = 3_000_00
)

// SimplifiedActivities are the activities of RD 1619/2012 art. 4.2 (by its
// letters) under which a simplified invoice may reach 3,000 €: the org
// declares the one it carries on (orgs.simplified_activity).
var SimplifiedActivities = []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"}

// correctionYears is how far back a corrective may reach: four years from
// when the corrected invoice's tax fell due (Ley 37/1992 art. 89.Uno;
// accrued).
const correctionYears = 4

// IssueInput names the draft to issue and how.
type IssueInput struct {
	OrgID, InvoiceID int64
	UserID           *int64
	// Locale the invoice is printed in (the issuer's).
	Locale string
	// IssueDate is the invoice's date; zero: today in the org's zone. It
	// may not be in the future nor before the last invoice of its series.
	IssueDate time.Time
	// OperationDate is when the goods or services were supplied, when not
	// on the issue date (zero: the same).
	OperationDate time.Time
	Now           time.Time
	// Jobs queues the sending of the VERI*FACTU record in the issuing
	// transaction (web.Deps.Jobs); nil leaves it to the periodic sweep,
	// which sends it within a minute.
	Jobs *river.Client[pgx.Tx]
	// Rehearsal issues only to see whether issuing would be refused, in a
	// savepoint the caller rolls back (a recurring template is checked so):
	// nothing is announced, since an event is kept whatever a savepoint
	// does, and no job is queued.
	Rehearsal bool
}

// taxDate is the devengo the caller dated the invoice to, whose tax rates
// apply (LIVA art. 75): the operation's date when it comes first, else the
// issue date; zero when neither is given (today in the org's zone).
func (in IssueInput) taxDate() time.Time {
	if !in.OperationDate.IsZero() && (in.IssueDate.IsZero() || in.OperationDate.Before(in.IssueDate)) {
		return in.OperationDate
	}
	return in.IssueDate
}

// issuing is one Issue in progress.
type issuing struct {
	in      IssueInput
	tx      pgx.Tx
	q       *queries.Queries
	inv     queries.Invoice
	loc     *time.Location
	lines   []queries.InvoiceLine
	treat   tax.CustomerTax
	totals  tax.Totals
	date    time.Time
	opDate  time.Time
	parties Parties
	number  *series.Number
	// drawn waits for the PDF, drawn beside the statements after draw.
	drawn func() ([]byte, error)
	// facts is the issuer (the org as it is now), the customer the draft
	// names and the issuer's chain head, read with the draft.
	facts queries.GetInvoiceContextRow
	// given: the caller drafted the invoice in this transaction and handed
	// it over with its lines and facts.
	given bool
	// terms is the customer's payment terms in days (0 when the invoice
	// names no recipient): the due date is the issue date plus these.
	terms int
	// corrected is what a corrective corrects or an F3 replaces, read once
	// by validate for the checks, the PDF and the record.
	corrected []queries.Invoice
}

// Issue issues a draft in tx: it checks what RD 1619/2012 asks of its kind
// (field messages as Invalid), takes the next number of its series for the
// issue date's year (gapless: a refusal later in the transaction gives it
// back), refuses a date before the series' last, freezes the issuer's and
// customer's data and the totals, renders the PDF and stores it with its
// hash, and writes the VERI*FACTU record. Proformas are issued the same way
// but never numbered nor recorded. The triggers of 0034 keep the result
// from changing. It fixes the due date (DueDate; none for a proforma) and
// announces EventIssued, so it must run inside live.BeginFunc.
func Issue(ctx context.Context, tx pgx.Tx, in IssueInput) (queries.Invoice, error) {
	return issue(ctx, tx, in, nil)
}

// drafted is a draft made earlier in the issuing transaction, with its
// lines and what drafting read of its org and customer: issuing takes it
// as it is instead of reading it back. No one else sees a row written in
// that transaction before it commits, so there is nothing to lock.
type drafted struct {
	inv   queries.Invoice
	lines []queries.InvoiceLine
	facts queries.GetInvoiceContextRow
	// unwritten: the draft and its lines are not in the database; issuing
	// inserts them issued (insert).
	unwritten bool
}

// issue is Issue, given the draft when the caller drafted it in tx (nil:
// lock and read it).
func issue(ctx context.Context, tx pgx.Tx, in IssueInput, d *drafted) (queries.Invoice, error) {
	s := &issuing{in: in, tx: tx, q: queries.New(tx)}
	// The PDF is most of an issue's CPU and needs nothing the later steps
	// write: it is drawn (draw) while count and the record's statements are
	// in flight, and freeze waits for it (BenchmarkInvoiceIssuing).
	steps := []func(context.Context) error{s.load, s.validate, s.takeNumber, s.settle, s.draw, s.count, s.record, s.freeze}
	if d != nil {
		s.inv, s.lines, s.facts, s.given = d.inv, d.lines, d.facts, true
		if d.unwritten {
			// The record names the invoice, so it follows the insert,
			// which waits for the PDF.
			steps = []func(context.Context) error{s.load, s.validate, s.takeNumber, s.settle, s.draw, s.count, s.insert, s.record}
		}
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return queries.Invoice{}, err
		}
	}
	if in.Rehearsal {
		return s.inv, nil
	}
	if err := announce(ctx, s.inv, s.facts.CustomerOwnerID, EventIssued); err != nil {
		return queries.Invoice{}, err
	}
	return s.inv, nil
}

// DueDate is when an invoice issued on date falls due under terms days of
// payment terms (calendar days, as customers.payment_terms_days counts).
func DueDate(date time.Time, terms int) time.Time {
	return date.AddDate(0, 0, max(terms, 0))
}

// load locks the draft and reads its lines, and the org and the customer
// as they are now, unless the caller has just written them.
func (s *issuing) load(ctx context.Context) error {
	if !s.given {
		inv, err := s.q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: s.in.OrgID, ID: s.in.InvoiceID})
		if err != nil {
			return err
		}
		s.inv = inv
		if s.inv.State != Draft {
			return ErrNotDraft
		}
		if s.facts, err = s.q.GetInvoiceContext(ctx, queries.GetInvoiceContextParams{OrgID: s.in.OrgID, CustomerID: inv.CustomerID,
			RatesAt: &s.in.Now, RatesOn: calendar.DateOrNull(s.in.taxDate())}); err != nil {
			return err
		}
		if s.lines, err = s.q.ListInvoiceLines(ctx, queries.ListInvoiceLinesParams{OrgID: s.in.OrgID, InvoiceID: s.inv.ID}); err != nil {
			return err
		}
	}
	var err error
	s.loc = calendar.ZoneOrUTC(s.facts.TimeZone)
	s.treat, err = treatmentOf(s.inv)
	return err
}

// treatmentOf is the tax treatment an invoice was drafted (and, once
// issued, frozen) under.
func treatmentOf(inv queries.Invoice) (tax.CustomerTax, error) {
	var t tax.CustomerTax
	if err := json.Unmarshal(inv.TaxTreatment, &t); err != nil {
		return t, err
	}
	if t.Regime == "" {
		t.Regime = tax.General
	}
	return t, nil
}

// validate checks the draft against the rules of its kind and fixes the
// dates, the totals and the parties.
func (s *issuing) validate(ctx context.Context) error {
	bad := Invalid{}
	kind := Kind(s.inv.Kind)
	ft := deref(s.inv.FiscalType)
	fiscal := s.facts.Country == "ES"

	today := calendar.Today(s.in.Now, s.loc)
	s.date = today
	if !s.in.IssueDate.IsZero() {
		s.date = calendar.Civil(s.in.IssueDate)
	}
	if s.date.After(today) {
		bad.add("issue_date", "invoices.issue_date_future", nil)
	}
	if !s.in.OperationDate.IsZero() && !calendar.Civil(s.in.OperationDate).Equal(s.date) {
		s.opDate = calendar.Civil(s.in.OperationDate)
		// The operation (or the advance payment) the invoice documents
		// has happened by its issue (the AEAT refuses a later one, 1125).
		if s.opDate.After(s.date) {
			bad.add("operation_date", "invoices.operation_date_after_issue", nil)
		}
	}

	if len(s.lines) == 0 {
		bad.add("lines", "invoices.no_lines", nil)
	}
	var err error
	if s.totals, err = Totals(s.inv, s.lines); err != nil {
		bad.add("lines", "invoices.lines_invalid", nil)
	}
	for _, l := range s.lines {
		if !money.Decimal(l.Withholding).Equal(s.treat.IRPF) || s.treat.ZeroRated() && !money.Decimal(l.TaxRate).IsZero() {
			bad.add("lines", "invoices.lines_tax_mismatch", nil)
		}
	}
	if err := s.checkRates(bad); err != nil {
		return err
	}

	// Who issues: a Spanish fiscal invoice names the issuer's NIF, and a
	// complete one the issuer's address (RD 1619/2012 arts. 6.1.d–e, 7.1).
	s.parties = Parties{Issuer: Party{Name: s.facts.Name, TaxID: s.facts.TaxID, Address: s.facts.Address, Country: s.facts.Country},
		Tax: s.treat, Locale: s.in.Locale, Zone: s.facts.TimeZone}
	if fiscal && kind != Proforma {
		if strings.TrimSpace(s.facts.TaxID) == "" {
			bad.add("org", "invoices.org_tax_id_required", nil)
		} else if namesRecipient(ft) && strings.TrimSpace(s.facts.Address) == "" {
			bad.add("org", "invoices.org_address_required", nil)
		}
	}

	// Who receives it.
	if namesRecipient(ft) {
		if s.inv.CustomerID == nil {
			bad.add("customer", "invoices.customer_required", nil)
		} else {
			cu := s.facts
			if !cu.CustomerFound {
				return fmt.Errorf("invoices: draft %d names customer %d, which is not there", s.inv.ID, *s.inv.CustomerID)
			}
			c := Party{Name: deref(cu.CustomerName), TaxID: deref(cu.CustomerTaxID), Country: deref(cu.CustomerCountry)}
			if cu.Street != nil {
				c.Address = printing.AddressLine(*cu.Street, deref(cu.PostalCode), deref(cu.City), deref(cu.Province))
			}
			s.parties.Customer = &c
			s.terms = int(deref(cu.PaymentTermsDays))
			if kind != Proforma && strings.TrimSpace(c.TaxID) == "" {
				bad.add("customer_tax_id", "invoices.customer_tax_id_required", nil)
			}
		}
	}

	switch kind {
	case Simplified:
		if fiscal {
			s.checkSimplified(bad)
		}
	case Corrective:
		if err := s.checkCorrective(ctx, bad); err != nil {
			return err
		}
	case Replacement:
		if err := s.checkReplaced(ctx, bad); err != nil {
			return err
		}
	case Summary:
		if !s.inv.PeriodStart.Valid || !s.inv.PeriodEnd.Valid {
			bad.add("period", "invoices.period_required", nil)
		}
	}
	return bad.orNil()
}

// checkRates: a draft issued later than it was written (a draft left over
// a change of rates) bills at the rates in force on its devengo, which load
// read. Correctives, F3s and summaries keep the rates of what they correct,
// replace or gather, which may have ended since; an invoice drafted and
// issued at once was priced at its devengo's rates already.
func (s *issuing) checkRates(bad Invalid) error {
	switch Kind(s.inv.Kind) {
	case Corrective, Replacement, Summary:
		return nil
	}
	if s.given {
		return nil
	}
	rates, err := tax.DecodeRates(s.facts.Rates)
	if err != nil {
		return err
	}
	in := map[int64]bool{}
	for _, r := range rates {
		in[r.ID] = true
	}
	devengo := s.date
	if !s.opDate.IsZero() && s.opDate.Before(s.date) {
		devengo = s.opDate
	}
	for _, l := range s.lines {
		if !in[l.TaxRateID] {
			bad.add("lines", "invoices.rate_not_in_force", map[string]any{"Line": l.Position,
				"Rate": money.Decimal(l.TaxRate).String(), "Date": devengo.Format("02/01/2006")})
		}
	}
	return nil
}

// checkSimplified applies RD 1619/2012 art. 4: at most 400 € VAT included
// (3,000 € for an org declaring an art. 4.2 activity), and never for an
// intra-EU supply of goods nor a reverse-charged service (art. 4.3).
func (s *issuing) checkSimplified(bad Invalid) {
	limit := int64(SimplifiedLimit)
	if s.facts.SimplifiedActivity != "" {
		limit = SimplifiedActivityLimit
	}
	if gross := s.totals.Base + s.totals.Tax + s.totals.Surcharge; gross > limit {
		bad.add("total", "invoices.simplified_over_limit", map[string]any{"Limit": money.Format(limit, s.facts.Currency)})
	}
	if s.treat.Regime == tax.ReverseCharge || s.treat.Regime == tax.Exempt && s.treat.ExemptCause == "E5" {
		bad.add("kind", "invoices.simplified_not_allowed", nil)
	}
}

// checkCorrective: a reason, a method, and the invoices corrected — issued
// (not voided) within the last four years, of the right kind (R5 corrects
// simplified invoices, R1–R4 the rest) and, when it names the recipient,
// of the same customer.
func (s *issuing) checkCorrective(ctx context.Context, bad Invalid) error {
	if strings.TrimSpace(s.inv.CorrectiveReason) == "" {
		bad.add("reason", "invoices.reason_required", nil)
	}
	if s.inv.CorrectiveMethod == nil {
		bad.add("method", "invoices.method_required", nil)
	}
	corrected, err := s.q.ListCorrectedInvoices(ctx, queries.ListCorrectedInvoicesParams{OrgID: s.in.OrgID, InvoiceID: s.inv.ID})
	if err != nil {
		return err
	}
	s.corrected = corrected
	if len(corrected) == 0 {
		bad.add("corrects", "invoices.corrects_required", nil)
	}
	ft := deref(s.inv.FiscalType)
	if c := s.parties.Customer; c != nil && s.facts.Country == "ES" && !verifactu.TipoFactura(ft).AllowsRecipient(recipient(*c, s.treat)) {
		// The AEAT refuses an R2 or R3 naming a foreign customer by the
		// tax id of their country (1191, 1192).
		bad.add("corrective_type", map[string]string{"R2": "invoices.corrective_type_recipient_r2", "R3": "invoices.corrective_type_recipient_r3"}[ft], nil)
	}
	oldest := s.date.AddDate(-correctionYears, 0, 0)
	for _, c := range corrected {
		number := map[string]any{"Number": deref(c.FullNumber)}
		switch {
		case c.State != Issued || Kind(c.Kind) == Proforma:
			bad.add("corrects", "invoices.corrects_not_issued", number)
		case Accrued(c).Before(oldest):
			bad.add("corrects", "invoices.corrects_too_old", number)
		case c.IssueDate.Time.After(s.date):
			bad.add("corrects", "invoices.corrects_later", number)
		case (ft == "R5") != (deref(c.FiscalType) == "F2" || deref(c.FiscalType) == "R5"):
			bad.add("corrects", "invoices.corrects_wrong_type", number)
		case namesRecipient(ft) && !sameID(c.CustomerID, s.inv.CustomerID):
			bad.add("corrects", "invoices.corrects_other_customer", number)
		case deref(s.inv.CorrectiveMethod) == ByDifference:
			// The differences are of the operation as it was taxed.
			treat, err := treatmentOf(c)
			if err != nil {
				return err
			}
			if !treat.Same(s.treat) {
				bad.add("corrects", "invoices.corrects_other_treatment", number)
			}
		}
		if ft == "R5" && deref(c.FiscalType) == "F2" {
			// A ticket exchanged for a complete invoice (F3) is corrected
			// through that invoice.
			next, err := s.successors(ctx, c.ID)
			if err != nil {
				return err
			}
			if next.Replaced > 0 {
				bad.add("corrects", "invoices.corrects_replaced", number)
			}
		}
	}
	return nil
}

// Accrued is when the tax an issued invoice charges fell due (devengo):
// the operation's date when it names one (earlier than the issue), else
// the issue date. LIVA art. 89 counts the four years to correct from it,
// and its rates are the ones a correction of it takes.
func Accrued(inv queries.Invoice) time.Time {
	if inv.OperationDate.Valid && inv.OperationDate.Time.Before(inv.IssueDate.Time) {
		return inv.OperationDate.Time
	}
	return inv.IssueDate.Time
}

// successors holds a ticket until the transaction ends and counts the
// issued F3s that replace it and R5s that correct it: two exchanges of one
// ticket, or an exchange and an R5, queue on the hold and the second sees
// the first.
func (s *issuing) successors(ctx context.Context, ticketID int64) (queries.IssuedSuccessorsOfRow, error) {
	if _, err := s.q.LockInvoice(ctx, queries.LockInvoiceParams{OrgID: s.in.OrgID, ID: ticketID}); err != nil {
		return queries.IssuedSuccessorsOfRow{}, err
	}
	return s.q.IssuedSuccessorsOf(ctx, queries.IssuedSuccessorsOfParams{OrgID: s.in.OrgID, CorrectedID: ticketID})
}

// checkReplaced: an F3 replaces simplified invoices already issued, on
// or before its date.
func (s *issuing) checkReplaced(ctx context.Context, bad Invalid) error {
	replaced, err := s.q.ListCorrectedInvoices(ctx, queries.ListCorrectedInvoicesParams{OrgID: s.in.OrgID, InvoiceID: s.inv.ID})
	if err != nil {
		return err
	}
	s.corrected = replaced
	if len(replaced) == 0 {
		bad.add("corrects", "invoices.replaces_required", nil)
	}
	for _, c := range replaced {
		if c.State != Issued || deref(c.FiscalType) != "F2" {
			bad.add("corrects", "invoices.replaces_simplified_only", map[string]any{"Number": deref(c.FullNumber)})
			continue
		}
		if c.IssueDate.Time.After(s.date) {
			bad.add("corrects", "invoices.replaces_later", map[string]any{"Number": deref(c.FullNumber)})
			continue
		}
		// A ticket is exchanged for a complete invoice once, and not after
		// an R5 corrected it: the F3 restates the ticket's lines, so the
		// correction would be lost from the complete invoice (and counted
		// twice against the sale).
		next, err := s.successors(ctx, c.ID)
		if err != nil {
			return err
		}
		switch {
		case next.Replaced > 0:
			bad.add("corrects", "invoices.replaced_already", map[string]any{"Number": deref(c.FullNumber)})
		case next.Corrected > 0:
			bad.add("corrects", "invoices.replaces_corrected", map[string]any{"Number": deref(c.FullNumber)})
		}
	}
	return nil
}

// takeNumber takes the next number of the invoice's series for the year of
// its date, and refuses a date before the last number's: numbers follow
// dates within a series. The series row stays locked until the caller's
// transaction ends, so no one else numbers in between.
func (s *issuing) takeNumber(ctx context.Context) error {
	if Kind(s.inv.Kind) == Proforma {
		return nil
	}
	n, err := series.Take(ctx, s.q, s.in.OrgID, seriesKind(Kind(s.inv.Kind)), deref(s.inv.Series), s.date)
	switch {
	case errors.Is(err, series.ErrCode):
		return Invalid{"series": {ID: "invoices.series_invalid"}}
	case errors.Is(err, series.ErrKindMismatch):
		return Invalid{"series": {ID: "invoices.series_other_kind"}}
	case err != nil:
		return err
	}
	if s.date.Before(n.Latest) {
		return Invalid{"issue_date": {ID: "invoices.issue_date_before_series", Params: map[string]any{
			"Series": n.Code, "Last": n.Latest.Format("02/01/2006")}}}
	}
	s.number = &n
	return nil
}

// count adds the invoice to the org's sales vouchers of its month when its
// kind counts (plans.CountsAsVoucher), after the series' lock so every
// issuer takes the two in the same order. Past a blocking plan's limit the
// invoice is refused with a field message naming the plan and the upgrade.
func (s *issuing) count(ctx context.Context) error {
	if !plans.CountsAsVoucher(s.inv.Kind) {
		return nil
	}
	jobs := s.in.Jobs
	if jobs == nil && !s.in.Rehearsal {
		// A job issuing (recurring invoices, the store sync) queues the
		// quota alert with its own client.
		jobs, _ = river.ClientFromContextSafely[pgx.Tx](ctx)
	}
	err := plans.Count(ctx, s.tx, jobs, s.in.OrgID, plans.Channel(s.inv.Channel), s.date, s.in.Now)
	var limit *plans.LimitError
	if errors.As(err, &limit) {
		return Invalid{planField: {ID: "invoices.plan_limit", Params: map[string]any{"Plan": limit.Plan,
			"Limit": limit.Vouchers, "Upgrade": limit.Upgrade}}}
	}
	return err
}

// planField is the field of the message that refuses a voucher past the
// plan's limit.
const planField = "plan"

// OverPlanLimit says whether err refused an invoice because the org's plan
// has no vouchers left this month.
func OverPlanLimit(err error) bool {
	var bad Invalid
	if !errors.As(err, &bad) {
		return false
	}
	_, ok := bad[planField]
	return ok
}

// settle makes s.inv the invoice as issuing freezes it — state, number,
// dates, parties, totals, due date — in memory: the PDF and the record are
// drawn from it, and freeze writes it.
func (s *issuing) settle(context.Context) error {
	parties, err := json.Marshal(s.parties)
	if err != nil {
		return err
	}
	inv := s.inv
	inv.State = Issued
	inv.IssueDate = pgtype.Date{Time: s.date, Valid: true}
	if !s.opDate.IsZero() {
		inv.OperationDate = pgtype.Date{Time: s.opDate, Valid: true}
	}
	if n := s.number; n != nil {
		full := n.String()
		inv.Year, inv.Number, inv.FullNumber = ptr(int32(n.Year)), ptr(int32(n.N)), &full
	}
	t := s.totals
	inv.Parties, inv.Base, inv.Tax, inv.Surcharge, inv.Withheld, inv.Total = parties, t.Base, t.Tax, t.Surcharge, t.Withheld, t.Total
	// As the database keeps it (microseconds), so the invoice Issue
	// returns is the row it wrote.
	at := s.in.Now.Truncate(time.Microsecond)
	inv.IssuedAt, inv.IssuedBy = &at, s.in.UserID
	// A proforma is never owed, so it never falls due.
	if Kind(inv.Kind) != Proforma {
		inv.DueDate = pgtype.Date{Time: DueDate(s.date, s.terms), Valid: true}
	}
	s.inv = inv
	return nil
}

// draw reads what the PDF names besides the invoice and validate has not
// read (the transaction serves one statement at a time) and starts drawing
// it on its own goroutine; s.drawn waits for the bytes.
func (s *issuing) draw(ctx context.Context) error {
	notes, err := deliveryNotesOf(ctx, s.q, s.inv)
	if err != nil {
		return err
	}
	r := refs{corrected: s.corrected, notes: notes}
	inv, pt, lines, logo := s.inv, s.parties, s.lines, s.facts.Logo
	done := make(chan struct{})
	var pdf []byte
	var drawErr error
	go func() {
		defer close(done)
		defer func() {
			// A drawing bug fails this issue, not the process.
			if p := recover(); p != nil {
				drawErr = fmt.Errorf("invoices: drawing the PDF: %v", p)
			}
		}()
		d, err := buildDocument(inv, pt, lines, logo, r)
		if err != nil {
			drawErr = err
			return
		}
		pdf, drawErr = printing.Render(d)
	}()
	s.drawn = func() ([]byte, error) {
		<-done
		return pdf, drawErr
	}
	return nil
}

// record writes the VERI*FACTU RegistroAlta of a Spanish fiscal invoice
// (proformas and internal invoices have none).
func (s *issuing) record(ctx context.Context) error {
	if !s.parties.Fiscal() || Kind(s.inv.Kind) == Proforma {
		return nil
	}
	return writeRegistroAlta(ctx, s.tx, s)
}

// freeze stores the issued invoice: number, dates, parties, totals, and
// the PDF with its hash once drawn.
func (s *issuing) freeze(ctx context.Context) error {
	pdf, digest, err := s.document()
	if err != nil {
		return err
	}
	for i, l := range s.lines {
		if l.Amount != s.totals.Lines[i] {
			if err := s.q.SetInvoiceLineAmount(ctx, queries.SetInvoiceLineAmountParams{OrgID: l.OrgID, InvoiceID: l.InvoiceID,
				Position: l.Position, Amount: s.totals.Lines[i]}); err != nil {
				return err
			}
		}
	}
	v := s.inv
	n, err := s.q.IssueInvoice(ctx, queries.IssueInvoiceParams{OrgID: v.OrgID, ID: v.ID, Year: v.Year, Number: v.Number,
		FullNumber: v.FullNumber, IssueDate: v.IssueDate, OperationDate: v.OperationDate, Parties: v.Parties,
		Base: v.Base, Tax: v.Tax, Surcharge: v.Surcharge, Withheld: v.Withheld, Total: v.Total,
		IssuedAt: v.IssuedAt, IssuedBy: v.IssuedBy, Pdf: pdf, PdfSha256: &digest, DueDate: v.DueDate})
	if err == nil && n != 1 {
		// load holds the draft locked, so only a bypass gets here.
		err = fmt.Errorf("invoices: draft %d changed while it was being issued", v.ID)
	}
	s.inv.Pdf, s.inv.PdfSha256 = pdf, &digest
	return err
}

// document waits for the PDF draw started and hashes it, as both ways of
// storing the issued invoice keep it.
func (s *issuing) document() (pdf []byte, digest string, err error) {
	if pdf, err = s.drawn(); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(pdf)
	return pdf, hex.EncodeToString(sum[:]), nil
}

// insert stores an invoice drafted in this transaction but not written,
// issued, with its lines (InsertIssuedInvoice): what freeze writes of a
// draft, and the draft itself.
func (s *issuing) insert(ctx context.Context) error {
	pdf, digest, err := s.document()
	if err != nil {
		return err
	}
	type line struct {
		Position       int32          `json:"position"`
		ProductID      *int64         `json:"product_id"`
		Description    string         `json:"description"`
		Unit           string         `json:"unit"`
		Quantity       pgtype.Numeric `json:"quantity"`
		UnitPrice      int64          `json:"unit_price"`
		DiscountPct    pgtype.Numeric `json:"discount_pct"`
		TaxRateID      int64          `json:"tax_rate_id"`
		TaxRate        pgtype.Numeric `json:"tax_rate"`
		Surcharge      pgtype.Numeric `json:"surcharge"`
		Withholding    pgtype.Numeric `json:"withholding"`
		Amount         int64          `json:"amount"`
		OrderID        *int64         `json:"order_id"`
		OrderPosition  *int32         `json:"order_position"`
		DeliveryNoteID *int64         `json:"delivery_note_id"`
	}
	lines := make([]line, len(s.lines))
	for i, l := range s.lines {
		s.lines[i].Amount = s.totals.Lines[i]
		lines[i] = line{Position: l.Position, ProductID: l.ProductID, Description: l.Description, Unit: l.Unit, Quantity: l.Quantity,
			UnitPrice: l.UnitPrice, DiscountPct: l.DiscountPct, TaxRateID: l.TaxRateID, TaxRate: l.TaxRate, Surcharge: l.Surcharge,
			Withholding: l.Withholding, Amount: s.totals.Lines[i], OrderID: l.OrderID, OrderPosition: l.OrderPosition, DeliveryNoteID: l.DeliveryNoteID}
	}
	js, err := json.Marshal(lines)
	if err != nil {
		return err
	}
	v := s.inv
	r, err := s.q.InsertIssuedInvoice(ctx, queries.InsertIssuedInvoiceParams{OrgID: v.OrgID, CustomerID: v.CustomerID, Kind: v.Kind,
		FiscalType: v.FiscalType, Series: v.Series, Currency: v.Currency, TaxTreatment: v.TaxTreatment, CorrectiveMethod: v.CorrectiveMethod,
		CorrectiveReason: v.CorrectiveReason, PeriodStart: v.PeriodStart, PeriodEnd: v.PeriodEnd, Notes: v.Notes, OrderID: v.OrderID,
		OrderWhole: v.OrderWhole, QuoteID: v.QuoteID, QuoteVersion: v.QuoteVersion, FromProformaID: v.FromProformaID, CreatedBy: v.CreatedBy,
		Base: v.Base, Tax: v.Tax, Surcharge: v.Surcharge, Withheld: v.Withheld, Total: v.Total, PricesIncludeTax: v.PricesIncludeTax,
		Channel: v.Channel, Year: v.Year, Number: v.Number, FullNumber: v.FullNumber, IssueDate: v.IssueDate, OperationDate: v.OperationDate,
		Parties: v.Parties, IssuedAt: v.IssuedAt, IssuedBy: v.IssuedBy, Pdf: pdf, PdfSha256: &digest, DueDate: v.DueDate,
		LineCount: int64(len(lines)), Lines: js})
	if err != nil {
		return held(err)
	}
	s.inv.ID, s.inv.CreatedAt, s.inv.Pdf, s.inv.PdfSha256 = r.ID, r.CreatedAt, pdf, &digest
	for i := range s.lines {
		s.lines[i].InvoiceID = r.ID
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func ptr[T any](v T) *T { return &v }

func sameID(a, b *int64) bool { return a != nil && b != nil && *a == *b }
