package sending_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
	"software.sslmate.com/src/go-pkcs12"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/sealed"
	"pulso/app/verifactu"
	"pulso/app/verifactu/aeat"
	"pulso/app/verifactu/aeattest"
	"pulso/app/verifactu/sending"
	"pulso/app/web"
	"pulso/queries"
)

const nif = "B76543214" // aeattest.Issuer, the default client certificate's NIF

// rig is an ES org with the fake AEAT's client certificate stored, a fake
// AEAT validating every request against SuministroLR.xsd, and a sender on
// a clock the test moves.
type rig struct {
	t     *testing.T
	env   *apptest.Env
	org   queries.Org
	user  queries.User
	srv   *aeattest.Server
	s     *sending.Sender
	clock time.Time
	draft int64 // an invoice the raw records of chain() belong to
}

func newRig(t *testing.T) *rig {
	t.Helper()
	env := apptest.New(t)
	org := env.Org("Demo Ventas S.L.")
	env.Exec(`UPDATE orgs SET tax_id = $2, address = 'Calle Mayor 1, 28013 Madrid' WHERE id = $1`, org.ID, nif)
	r := &rig{t: t, env: env, org: org, srv: aeattest.New(t, aeattest.Options{Validate: true}), clock: time.Now().Truncate(time.Microsecond)}
	r.user = env.User(org, "admin@demo.test", web.RoleAdmin)
	keys, err := sealed.New(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	r.s = &sending.Sender{DB: env.DB, Certs: sending.Certificates{Keys: keys}, Env: verifactu.Test,
		Client: aeat.Options{Endpoint: r.srv.URL, RootCAs: r.srv.CA.Pool, Timeout: 2 * time.Second}, Now: func() time.Time { return r.clock }}
	if _, err := r.save(r.srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "secreta"), "secreta"); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) tx(fn func(ctx context.Context, tx pgx.Tx) error) error {
	return live.BeginFunc(context.Background(), r.env.DB, fn)
}

func (r *rig) save(p12 []byte, password string) (sending.Facts, error) {
	var f sending.Facts
	err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		f, err = r.s.Certs.Save(ctx, tx, r.org.ID, p12, password, &r.user.ID, r.clock)
		return err
	})
	return f, err
}

func (r *rig) send() sending.Round {
	r.t.Helper()
	round, err := r.s.Send(context.Background(), r.org.ID, nif)
	if err != nil {
		r.t.Fatalf("send: %v", err)
	}
	return round
}

// issue issues n real invoices of the org (each writes its alta) and
// returns their numbers.
func (r *rig) issue(n int) []string {
	r.t.Helper()
	ctx := context.Background()
	cu, err := r.env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: r.org.ID, LegalName: "Cliente Uno S.A.", Country: "ES",
		OwnerID: &r.user.ID, Tags: []string{}, TaxID: "A58818501"})
	if err != nil {
		r.t.Fatal(err)
	}
	var rate int64
	if err := r.env.DB.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
		r.t.Fatal(err)
	}
	var out []string
	for i := range n {
		err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
			d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: r.org.ID, Kind: invoices.Ordinary, CustomerID: &cu.ID, By: &r.user.ID, Now: r.clock,
				Lines: []invoices.LineInput{{Description: fmt.Sprintf("Servicio %d", i), Unit: "ud", Quantity: decimal.NewFromInt(1), UnitPrice: 10000, TaxRateID: rate}}})
			if err != nil {
				return err
			}
			inv, err := invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: r.org.ID, InvoiceID: d.ID, UserID: &r.user.ID, Locale: "es", Now: r.clock})
			out = append(out, *inv.FullNumber)
			return err
		})
		if err != nil {
			r.t.Fatalf("issue: %v", err)
		}
	}
	return out
}

// chain stores n records of aeattest.Chain (F2026-<first>…) straight into
// the org's chain, as issuing would have, all belonging to one draft
// invoice: enough for tests where nothing is corrected.
func (r *rig) chain(first, n int) []string {
	r.t.Helper()
	if r.draft == 0 {
		if err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
			d, err := invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: r.org.ID, Kind: invoices.Simplified, By: &r.user.ID, Now: r.clock})
			r.draft = d.ID
			return err
		}); err != nil {
			r.t.Fatal(err)
		}
	}
	var names []string
	err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.EnsureVerifactuChain(ctx, queries.EnsureVerifactuChainParams{OrgID: r.org.ID, IssuerNif: nif}); err != nil {
			return err
		}
		head, err := q.LockVerifactuChain(ctx, queries.LockVerifactuChainParams{OrgID: r.org.ID, IssuerNif: nif})
		if err != nil {
			return err
		}
		var prev *verifactu.Link
		if head.LastHuella != nil {
			prev = &verifactu.Link{IDEmisorFactura: nif, NumSerieFactura: *head.LastNumSerie, FechaExpedicionFactura: *head.LastFecha, Huella: *head.LastHuella}
		}
		xmls, _ := aeattest.Chain(r.t, prev, first, n)
		seq := head.LastSeq
		for _, x := range xmls {
			st, err := verifactu.ParseRecord(x)
			if err != nil {
				return err
			}
			seq++
			tipo := "F1"
			p := queries.AppendVerifactuRecordParams{OrgID: r.org.ID, InvoiceID: r.draft, Kind: "alta", IssuerNif: nif, Seq: seq, NumSerie: st.ID.NumSerieFactura,
				FechaExpedicion: st.ID.FechaExpedicionFactura, TipoFactura: &tipo, Huella: st.Huella, GeneratedAtText: st.FechaHoraHusoGenRegistro, Xml: x}
			if st.Prev != nil {
				p.PrevNumSerie, p.PrevFecha, p.PrevHuella = &st.Prev.NumSerieFactura, &st.Prev.FechaExpedicionFactura, &st.Prev.Huella
			}
			if _, err := q.AppendVerifactuRecord(ctx, p); err != nil {
				return fmt.Errorf("record %d: %v", seq, err)
			}
			names = append(names, st.ID.NumSerieFactura)
		}
		return nil
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return names
}

func (r *rig) records() []queries.VerifactuRecord {
	r.t.Helper()
	rs, err := r.env.Q.ListVerifactuRecords(context.Background(), queries.ListVerifactuRecordsParams{OrgID: r.org.ID, IssuerNif: nif})
	if err != nil {
		r.t.Fatal(err)
	}
	return rs
}

func statuses(rs []queries.VerifactuRecord) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Status)
	}
	return strings.Join(s, " ")
}

func sizes(reqs []aeattest.Request) []int {
	var out []int
	for _, r := range reqs {
		out = append(out, len(r.Records))
	}
	return out
}

// Each answer is stored with the AEAT's code and text; a rejected record
// is corrected by a new record of the chain (Subsanacion = S,
// RechazoPrevio = S) that the next request carries after the waiting time.
func TestAnswersAreStoredAndARejectionIsCorrected(t *testing.T) {
	r := newRig(t)
	nums := r.issue(3)
	// The AEAT fills in the field its published text leaves as "%s"
	// (1287: "El valor del campo %s contiene…"): its own text is kept.
	named := aeattest.Rejected(1287)
	named.Text = "El valor del campo NombreRazon contiene carácteres no validos (<, >, \", ', =)."
	r.srv.Script(aeattest.Reply{Wait: 60 * time.Second, Lines: aeattest.ByNumber(map[string]aeattest.Line{
		nums[1]: aeattest.WithErrors(2001), nums[2]: named})})

	round := r.send()
	if round.Outcome != aeat.Answered || round.Sent != 3 {
		t.Fatalf("round %+v", round)
	}
	rs := r.records()
	if got := statuses(rs); got != "accepted accepted_with_errors rejected pending" {
		t.Fatalf("statuses %q", got)
	}
	if rs[0].AnswerCode != nil || rs[1].AnswerCode == nil || *rs[1].AnswerCode != 2001 || *rs[2].AnswerCode != 1287 {
		t.Errorf("codes %v %v %v", rs[0].AnswerCode, rs[1].AnswerCode, rs[2].AnswerCode)
	}
	if want, _ := verifactu.ErrorText(2001); rs[1].AnswerText != want || want == "" {
		t.Errorf("text %q, want %q", rs[1].AnswerText, want)
	}
	if rs[2].AnswerText != named.Text {
		t.Errorf("text %q, want the AEAT's %q", rs[2].AnswerText, named.Text)
	}
	fix := rs[3]
	if fix.CorrectsID == nil || *fix.CorrectsID != rs[2].ID || fix.NumSerie != nums[2] || *fix.PrevHuella != rs[2].Huella {
		t.Fatalf("correction %+v", fix)
	}
	if !bytes.Contains(fix.Xml, []byte("<sum1:Subsanacion>S</sum1:Subsanacion>")) || !bytes.Contains(fix.Xml, []byte("<sum1:RechazoPrevio>S</sum1:RechazoPrevio>")) {
		t.Errorf("the correction does not say Subsanacion = S and RechazoPrevio = S:\n%s", fix.Xml)
	}

	// Each invoice's screens hear that its record was answered.
	if n := r.env.Count(`SELECT count(DISTINCT entity_id) FROM live_events WHERE org_id = $1 AND topic = 'invoice' AND kind = 'record_answered'`, r.org.ID); n != 3 {
		t.Errorf("%d invoices announced", n)
	}
	// Before TiempoEsperaEnvio has passed nothing goes.
	round = r.send()
	if round.Sent != 0 || round.Remaining != 1 || !round.Next.Equal(r.clock.Add(60*time.Second)) {
		t.Fatalf("sent before the wait: %+v", round)
	}
	r.clock = r.clock.Add(61 * time.Second)
	if round = r.send(); round.Sent != 1 || round.Remaining != 0 {
		t.Fatalf("round %+v", round)
	}
	if got := statuses(r.records()); got != "accepted accepted_with_errors rejected accepted" {
		t.Errorf("statuses %q", got)
	}
	if got := strings.Join(r.srv.Sent(), " "); got != strings.Join(append(nums, nums[2]), " ") {
		t.Errorf("sent %s", got)
	}
	if resent := r.srv.Resent(); len(resent) != 0 {
		t.Errorf("sent twice: %v", resent)
	}
	// A rejected record is corrected once: asking again gives the same one.
	err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		c, err := invoices.Resubmit(ctx, tx, nil, r.org.ID, rs[2].ID, r.clock)
		if err == nil && c.ID != fix.ID {
			err = fmt.Errorf("a second correction %d", c.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = r.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Resubmit(ctx, tx, nil, r.org.ID, rs[0].ID, r.clock)
		return err
	})
	if !errors.Is(err, invoices.ErrNotCorrectable) {
		t.Errorf("an accepted record was corrected: %v", err)
	}
}

// A correction the AEAT rejects again is left for a person: the chain does
// not grow with one rejected copy after another.
func TestARejectedCorrectionIsNotCorrectedAgain(t *testing.T) {
	r := newRig(t)
	nums := r.issue(1)
	r.srv.Default(aeattest.Reply{Lines: aeattest.ByNumber(map[string]aeattest.Line{nums[0]: aeattest.Rejected(1109)})})
	r.send()
	r.clock = r.clock.Add(time.Hour)
	r.send()
	r.clock = r.clock.Add(time.Hour)
	if round := r.send(); round.Sent != 0 || round.Remaining != 0 {
		t.Fatalf("round %+v", round)
	}
	if got := statuses(r.records()); got != "rejected rejected" {
		t.Errorf("statuses %q", got)
	}
}

// void voids the invoice numbered number, writing its anulación.
func (r *rig) void(t *testing.T, number string) {
	t.Helper()
	var id int64
	if err := r.env.DB.QueryRow(context.Background(), `SELECT id FROM invoices WHERE org_id = $1 AND full_number = $2`, r.org.ID, number).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: r.org.ID, InvoiceID: id, Reason: "Emitida por error", Now: r.clock})
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// An invoice voided before its alta was answered: the alta is rejected
// (1xxx) and the anulación in the same request finds nothing to cancel
// (3002). The alta is not corrected and sent again, which would register
// at the AEAT an invoice the business has voided.
func TestTheAltaOfAVoidedInvoiceIsNotCorrected(t *testing.T) {
	r := newRig(t)
	nums := r.issue(1)
	r.void(t, nums[0])
	r.srv.Default(aeattest.Reply{Lines: func(_ int, rec aeattest.Record) aeattest.Line {
		if rec.Kind == verifactu.KindAnulacion {
			return aeattest.Rejected(3002)
		}
		return aeattest.Rejected(1104)
	}})
	if round := r.send(); round.Sent != 2 {
		t.Fatalf("round %+v, want the alta and the anulación sent", round)
	}
	r.clock = r.clock.Add(time.Hour)
	if round := r.send(); round.Sent != 0 || round.Remaining != 0 {
		t.Fatalf("second round %+v: nothing should be left to send", round)
	}
	if got := statuses(r.records()); got != "rejected rejected" {
		t.Errorf("statuses %q, want the alta and the anulación rejected and no correction", got)
	}
	if r.srv.Held(nums[0]) {
		t.Error("the AEAT holds the voided invoice")
	}
}

// An anulación answered 3001 ("ya ha sido dado de baja": what a resent one
// gets when the answer to its first send was lost) has done its work: it
// is stored as accepted, with the AEAT's code, and not corrected.
func TestAnAnulacionTheAEATHoldsAlreadyIsAccepted(t *testing.T) {
	r := newRig(t)
	nums := r.issue(1)
	if round := r.send(); round.Sent != 1 {
		t.Fatalf("round %+v", round)
	}
	r.void(t, nums[0])
	r.srv.Default(aeattest.Reply{Lines: func(_ int, rec aeattest.Record) aeattest.Line {
		return aeattest.Rejected(verifactu.CodeAlreadyCancelled)
	}})
	r.clock = r.clock.Add(time.Hour)
	if round := r.send(); round.Sent != 1 || round.Remaining != 0 {
		t.Fatalf("round %+v", round)
	}
	rs := r.records()
	if got := statuses(rs); got != "accepted accepted" {
		t.Errorf("statuses %q, want the anulación accepted", got)
	}
	if a := rs[len(rs)-1]; a.AnswerCode == nil || *a.AnswerCode != verifactu.CodeAlreadyCancelled {
		t.Errorf("the anulación's answer code %v, want 3001 kept", a.AnswerCode)
	}
}

// 1,001 records go as 1,000 and then 1; 2,001 as two full requests at
// once (a full batch may go before the wait) and the last after the wait,
// in chain order.
func TestBatchesOfAThousandInChainOrder(t *testing.T) {
	r := newRig(t)
	names := r.chain(1, 2001)
	// A full batch left: the next request may go at once (Next zero), so
	// the worker sends it without waiting.
	if round := r.send(); round.Sent != 1000 || round.Remaining != 1001 || !round.Next.IsZero() {
		t.Fatalf("first %+v", round)
	}
	if round := r.send(); round.Sent != 1000 || round.Remaining != 1 || round.Next.IsZero() {
		t.Fatalf("second (a full batch goes before the wait) %+v", round)
	}
	if round := r.send(); round.Sent != 0 || round.Remaining != 1 {
		t.Fatalf("third went before the wait: %+v", round)
	}
	r.clock = r.clock.Add(aeattest.DefaultWait)
	if round := r.send(); round.Sent != 1 || round.Remaining != 0 {
		t.Fatalf("last %+v", round)
	}
	if got := sizes(r.srv.Requests()); fmt.Sprint(got) != "[1000 1000 1]" {
		t.Errorf("requests %v", got)
	}
	if got := r.srv.Sent(); strings.Join(got, ",") != strings.Join(names, ",") {
		t.Error("records did not go in chain order")
	}
	if n := r.env.Count(`SELECT count(*) FROM verifactu_records WHERE org_id = $1 AND status = 'accepted'`, r.org.ID); n != 2001 {
		t.Errorf("%d accepted", n)
	}
}

// A service down (5xx) or an answer that never comes leaves the records
// without an answer; they go again, in order, after the pause, and what
// the AEAT had registered comes back as a duplicate, stored as accepted.
func TestServiceDownAndTimeoutKeepRecordsUntilAnswered(t *testing.T) {
	r := newRig(t)
	names := r.chain(1, 3)
	r.srv.Script(aeattest.Reply{Status: 503}, aeattest.Reply{Delay: 10 * time.Second})
	r.s.Client.Timeout = 300 * time.Millisecond

	round := r.send()
	if round.Outcome != aeat.RetryLater || round.Remaining != 3 || !round.Next.Equal(r.clock.Add(sending.FirstPause)) {
		t.Fatalf("5xx: %+v", round)
	}
	if got := statuses(r.records()); got != "sent sent sent" {
		t.Errorf("statuses %q", got)
	}
	if round := r.send(); round.Sent != 0 {
		t.Fatalf("sent during the pause: %+v", round)
	}
	r.clock = r.clock.Add(sending.FirstPause)
	round = r.send()
	if round.Outcome != aeat.RetryLater || !round.Next.Equal(r.clock.Add(2*sending.FirstPause)) {
		t.Fatalf("timeout: %+v", round)
	}
	r.clock = r.clock.Add(2 * sending.FirstPause)
	if round = r.send(); round.Outcome != aeat.Answered || round.Remaining != 0 {
		t.Fatalf("after: %+v", round)
	}
	rs := r.records()
	if got := statuses(rs); got != "accepted accepted accepted" {
		t.Errorf("statuses %q", got)
	}
	// The timed-out request was registered: the third answers duplicates.
	if rs[0].AnswerCode == nil || *rs[0].AnswerCode != verifactu.CodeDuplicate {
		t.Errorf("code %v", rs[0].AnswerCode)
	}
	if got := strings.Join(r.srv.Sent(), " "); got != strings.Repeat(strings.Join(names, " ")+" ", 3)[:len(got)] || len(r.srv.Requests()) != 3 {
		t.Errorf("sent %s", got)
	}
	if n := r.env.Count(`SELECT count(*) FROM verifactu_sends WHERE org_id = $1 AND outcome = 'retry-later'`, r.org.ID); n != 2 {
		t.Errorf("%d failed exchanges logged", n)
	}
}

// A crash between the request and storing its answer leaves the records
// sent; the next run sends them again and stores what the AEAT holds: no
// record is lost, none is answered twice, none is skipped.
func TestCrashBeforeStoringTheAnswer(t *testing.T) {
	r := newRig(t)
	r.chain(1, 2)
	r.send()
	// What the crash leaves: the AEAT holds both, the database says sent,
	// the lease ran out.
	r.env.Exec(`UPDATE verifactu_records SET status = 'sent', answer_code = NULL, answer_text = '', answered_at = NULL WHERE org_id = $1`, r.org.ID)
	r.env.Exec(`UPDATE verifactu_senders SET not_before = NULL WHERE org_id = $1`, r.org.ID)
	r.chain(3, 1)
	round := r.send()
	if round.Sent != 3 || round.Remaining != 0 {
		t.Fatalf("%+v", round)
	}
	rs := r.records()
	if got := statuses(rs); got != "accepted accepted accepted" {
		t.Fatalf("statuses %q", got)
	}
	if *rs[0].AnswerCode != verifactu.CodeDuplicate || rs[2].AnswerCode != nil {
		t.Errorf("codes %v %v", *rs[0].AnswerCode, rs[2].AnswerCode)
	}
	if resent := r.srv.Resent(); strings.Join(resent, " ") != "F2026-00001 F2026-00002" {
		t.Errorf("resent %v", resent)
	}
}

// Another worker's lease keeps a second sender off the chain.
func TestOneSenderPerChain(t *testing.T) {
	r := newRig(t)
	r.chain(1, 1)
	until := r.clock.Add(time.Minute)
	r.env.Exec(`INSERT INTO verifactu_senders (org_id, issuer_nif, lease_id, lease_until) VALUES ($1, $2, 7, $3)`, r.org.ID, nif, until)
	if round := r.send(); !round.Busy || round.Sent != 0 {
		t.Fatalf("%+v", round)
	}
	r.clock = until.Add(time.Second) // the holder died
	if round := r.send(); round.Sent != 1 {
		t.Fatalf("%+v", round)
	}
}

// A fault refuses the whole request: nothing is registered, the records
// are pending again and the chain waits an hour.
func TestFaultLeavesRecordsPending(t *testing.T) {
	r := newRig(t)
	r.chain(1, 2)
	r.srv.Script(aeattest.Reply{Fault: 4112})
	round := r.send()
	if round.Outcome != aeat.Faulted || !round.Next.Equal(r.clock.Add(sending.MaxPause)) {
		t.Fatalf("%+v", round)
	}
	if got := statuses(r.records()); got != "pending pending" {
		t.Errorf("statuses %q", got)
	}
	var code int32
	var outcome string
	if err := r.env.DB.QueryRow(context.Background(), `SELECT fault_code, outcome FROM verifactu_sends WHERE org_id = $1`, r.org.ID).Scan(&code, &outcome); err != nil || code != 4112 || outcome != "faulted" {
		t.Errorf("log: %d %s %v", code, outcome, err)
	}
}

// A technical fault of the AEAT's (3501, its database) goes away by itself:
// the chain backs off as after a lost answer, doubling from a minute, not
// for the hour a refused request waits; the records go out when it
// answers again.
func TestTechnicalFaultBacksOff(t *testing.T) {
	r := newRig(t)
	r.chain(1, 1)
	r.srv.Script(aeattest.Reply{Fault: 3501}, aeattest.Reply{Fault: 4111})
	if round := r.send(); round.Outcome != aeat.Faulted || !round.Next.Equal(r.clock.Add(sending.FirstPause)) {
		t.Fatalf("first technical fault: %+v", round)
	}
	r.clock = r.clock.Add(sending.FirstPause)
	if round := r.send(); round.Outcome != aeat.Faulted || !round.Next.Equal(r.clock.Add(2*sending.FirstPause)) {
		t.Fatalf("second technical fault in a row: %+v", round)
	}
	r.clock = r.clock.Add(2 * sending.FirstPause)
	if round := r.send(); round.Outcome != aeat.Answered || round.Sent != 1 {
		t.Fatalf("after the faults: %+v", round)
	}
	if got := statuses(r.records()); got != "accepted" {
		t.Errorf("statuses %q", got)
	}
}

// An answer that names none of the records sent (here a full batch's)
// registers nothing for Pulso: they stay waiting and go again after a
// pause, not at once, however many wait; then they are answered.
func TestAnswerNamingNoRecordPauses(t *testing.T) {
	r := newRig(t)
	r.chain(1, 2001)
	r.srv.Script(aeattest.Reply{Unmatched: true})
	round := r.send()
	if round.Outcome != aeat.Answered || round.Remaining != 2001 || round.Next.Before(r.clock.Add(aeattest.DefaultWait)) {
		t.Fatalf("unmatched answer: %+v", round)
	}
	if round := r.send(); round.Sent != 0 {
		t.Fatalf("went again before the pause: %+v", round)
	}
	r.clock = round.Next
	if round := r.send(); round.Sent != 1000 || round.Remaining != 1001 || !round.Next.IsZero() {
		t.Fatalf("after the pause: %+v", round)
	}
}

// Without a certificate nothing leaves; uploading one lets the chain send
// at once.
func TestNoCertificateThenUpload(t *testing.T) {
	r := newRig(t)
	r.env.Exec(`DELETE FROM verifactu_certificates WHERE org_id = $1`, r.org.ID)
	r.chain(1, 1)
	round := r.send()
	if !errors.Is(round.Err, sending.ErrNoCertificate) || round.Sent != 0 || len(r.srv.Requests()) != 0 {
		t.Fatalf("%+v", round)
	}
	if got := statuses(r.records()); got != "pending" {
		t.Errorf("statuses %q", got)
	}
	if _, err := r.save(r.srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "otra"), "otra"); err != nil {
		t.Fatal(err)
	}
	if round := r.send(); round.Sent != 1 || round.Outcome != aeat.Answered {
		t.Fatalf("%+v", round)
	}
}

// A certificate the AEAT's TLS refuses (another CA) is Refused, and
// nothing is lost.
func TestCertificateOfAnUnknownCA(t *testing.T) {
	r := newRig(t)
	other := aeattest.NewCA(t, "Another CA")
	if _, err := r.save(other.ClientPKCS12(t, aeattest.Client{}, "x"), "x"); err != nil {
		t.Fatal(err)
	}
	r.chain(1, 1)
	if round := r.send(); round.Outcome != aeat.Refused || round.Remaining != 1 {
		t.Fatalf("%+v", round)
	}
	if got := statuses(r.records()); got != "pending" {
		t.Errorf("statuses %q", got)
	}
}

func TestCertificateUploadRefusesBadFiles(t *testing.T) {
	r := newRig(t)
	garbage := make([]byte, 600)
	rand.Read(garbage)
	trust, err := pkcs12.Modern2023.EncodeTrustStore([]*x509.Certificate{r.srv.ClientCA.Cert}, "buena")
	if err != nil {
		t.Fatal(err)
	}
	expired := r.srv.ClientCA.ClientPKCS12(t, aeattest.Client{NotBefore: r.clock.Add(-48 * time.Hour), NotAfter: r.clock.Add(-time.Hour)}, "buena")
	good := r.srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "buena")
	for _, c := range []struct {
		name, password, field, key string
		p12                        []byte
	}{
		{"not PKCS#12", "buena", "certificate", "verifactu.cert_not_pkcs12", garbage},
		{"empty", "buena", "certificate", "verifactu.cert_required", nil},
		{"too big", "buena", "certificate", "verifactu.cert_too_big", make([]byte, sending.MaxCertificateBytes+1)},
		{"wrong password", "mala", "password", "verifactu.cert_wrong_password", good},
		{"no private key", "buena", "certificate", "verifactu.cert_no_key", trust},
		{"expired", "buena", "certificate", "verifactu.cert_expired", expired},
	} {
		_, err := r.save(c.p12, c.password)
		var fe *sending.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Key != c.key {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	before, _, _ := sending.Stored(context.Background(), r.env.Q, r.org.ID)
	if !before.UploadedAt.Equal(r.clock) {
		t.Errorf("a refused file replaced the certificate: %+v", before)
	}
}

// The file and password are stored sealed, bound to the org: the row
// holds neither in clear, and copied to another org it does not open.
func TestCertificateIsSealed(t *testing.T) {
	r := newRig(t)
	p12 := r.srv.ClientCA.ClientPKCS12(t, aeattest.Client{Name: "EMPRESA SL - B76543214"}, "contraseña-secreta")
	f, err := r.save(p12, "contraseña-secreta")
	if err != nil {
		t.Fatal(err)
	}
	if f.Subject != "EMPRESA SL - B76543214" || f.NIF != nif || f.NotAfter.Before(r.clock) {
		t.Errorf("facts %+v", f)
	}
	if held := r.env.Holding("contraseña-secreta"); len(held) != 0 {
		t.Errorf("the password is in clear in %v", held)
	}
	row, err := r.env.Q.GetVerifactuCertificate(context.Background(), r.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(row.P12Sealed, p12[len(p12)/2:len(p12)/2+32]) {
		t.Error("the file is stored in clear")
	}
	if _, err := r.s.Certs.Load(context.Background(), r.env.Q, r.org.ID, r.clock); err != nil {
		t.Fatal(err)
	}
	other := r.env.Org("Otra S.L.")
	r.env.Exec(`INSERT INTO verifactu_certificates (org_id, p12_sealed, password_sealed, subject, not_after)
		SELECT $2, p12_sealed, password_sealed, subject, not_after FROM verifactu_certificates WHERE org_id = $1`, r.org.ID, other.ID)
	if _, err := r.s.Certs.Load(context.Background(), r.env.Q, other.ID, r.clock); !errors.Is(err, sealed.ErrOpen) {
		t.Errorf("another org's copy: %v", err)
	}
}

// A voided invoice's anulación the AEAT rejects is resubmitted with
// RechazoPrevio = S (an anulación has no Subsanacion); an alta accepted
// with errors gets, when a person asks, a subsanación (Subsanacion = S,
// no RechazoPrevio). Both go in order and validate against the schema.
func TestAnulacionAndSubsanacion(t *testing.T) {
	r := newRig(t)
	nums := r.issue(2)
	var inv queries.Invoice
	if err := r.env.DB.QueryRow(context.Background(), `SELECT id FROM invoices WHERE org_id = $1 AND full_number = $2`, r.org.ID, nums[1]).Scan(&inv.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Void(ctx, tx, invoices.VoidInput{OrgID: r.org.ID, InvoiceID: inv.ID, Reason: "Emitida por error", Now: r.clock})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r.srv.Script(aeattest.Reply{Lines: func(_ int, rec aeattest.Record) aeattest.Line {
		switch {
		case rec.Kind == verifactu.KindAnulacion:
			return aeattest.Rejected(1104)
		case rec.ID.NumSerieFactura == nums[0]:
			return aeattest.WithErrors(2001)
		}
		return aeattest.Correct()
	}})
	r.send()
	rs := r.records()
	if got := statuses(rs); got != "accepted_with_errors accepted rejected pending" {
		t.Fatalf("statuses %q", got)
	}
	fix := rs[3]
	if fix.Kind != "anulacion" || *fix.CorrectsID != rs[2].ID || !bytes.Contains(fix.Xml, []byte("<sum1:RechazoPrevio>S</sum1:RechazoPrevio>")) {
		t.Errorf("anulación's correction: %s", fix.Xml)
	}
	var sub queries.VerifactuRecord
	if err := r.tx(func(ctx context.Context, tx pgx.Tx) error {
		var err error
		sub, err = invoices.Resubmit(ctx, tx, nil, r.org.ID, rs[0].ID, r.clock)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sub.Xml, []byte("<sum1:Subsanacion>S</sum1:Subsanacion>")) || bytes.Contains(sub.Xml, []byte("RechazoPrevio")) {
		t.Errorf("subsanación:\n%s", sub.Xml)
	}
	r.clock = r.clock.Add(aeattest.DefaultWait)
	if round := r.send(); round.Sent != 2 || round.Remaining != 0 {
		t.Fatalf("%+v", round)
	}
	if got := statuses(r.records()); got != "accepted_with_errors accepted rejected accepted accepted" {
		t.Errorf("statuses %q", got)
	}
}

// An expired certificate stops the chain, nothing is lost, and the admin
// sees why.
func TestCertificateExpiredAtSendTime(t *testing.T) {
	r := newRig(t)
	r.chain(1, 1)
	r.clock = r.clock.Add(2 * 365 * 24 * time.Hour)
	round := r.send()
	if !errors.Is(round.Err, aeat.ErrExpired) || round.Sent != 0 || len(r.srv.Requests()) != 0 {
		t.Fatalf("%+v", round)
	}
	st, err := r.env.Q.GetVerifactuSender(context.Background(), queries.GetVerifactuSenderParams{OrgID: r.org.ID, IssuerNif: nif})
	if err != nil || st.LastOutcome != "no-certificate" || st.LastError == "" {
		t.Errorf("%+v %v", st, err)
	}
	if got := statuses(r.records()); got != "pending" {
		t.Errorf("statuses %q", got)
	}
}

// Two workers on one chain at once: one request, nothing sent twice.
func TestConcurrentSendersSendOnce(t *testing.T) {
	r := newRig(t)
	r.chain(1, 5)
	done := make(chan sending.Round, 2)
	for range 2 {
		go func() {
			round, err := r.s.Send(context.Background(), r.org.ID, nif)
			if err != nil {
				t.Error(err)
			}
			done <- round
		}()
	}
	sent := (<-done).Sent + (<-done).Sent
	if sent != 5 || len(r.srv.Requests()) != 1 || len(r.srv.Resent()) != 0 {
		t.Errorf("sent %d in %d requests, resent %v", sent, len(r.srv.Requests()), r.srv.Resent())
	}
}

// A rejected record whose correction cannot be written still has its
// answer stored: the request is not sent again and again.
func TestUncorrectableRejectionIsStored(t *testing.T) {
	r := newRig(t)
	names := r.chain(1, 2) // their invoice is a draft: no record can be rebuilt from it
	r.srv.Script(aeattest.Reply{Lines: aeattest.ByNumber(map[string]aeattest.Line{names[0]: aeattest.Rejected(1189)})})
	if round := r.send(); round.Sent != 2 || round.Remaining != 0 {
		t.Fatalf("%+v", round)
	}
	if got := statuses(r.records()); got != "rejected accepted" {
		t.Errorf("statuses %q", got)
	}
}
