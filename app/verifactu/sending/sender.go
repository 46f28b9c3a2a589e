package sending

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/verifactu"
	"pulso/app/verifactu/aeat"
	"pulso/queries"
)

// Record states (verifactu_records.status).
const (
	StatusPending            = "pending"  // never handed to the AEAT
	StatusSent               = "sent"     // handed over, no answer stored: sent again
	StatusAccepted           = "accepted" // Correcto (or a duplicate of one the AEAT holds as correct)
	StatusAcceptedWithErrors = "accepted_with_errors"
	StatusRejected           = "rejected"
)

// Pauses after an exchange that got no answer: they double with each
// failure in a row, from FirstPause to MaxPause.
const (
	FirstPause = time.Minute
	MaxPause   = time.Hour
	// LeaseFor is how long a sender holds a chain: well over one exchange
	// (aeat.DefaultTimeout), so only a dead worker's lease runs out.
	LeaseFor = 3 * aeat.DefaultTimeout
)

// Sender sends chains of VERI*FACTU records to the AEAT.
type Sender struct {
	DB    *pgxpool.Pool
	Certs Certificates
	// Env is the AEAT environment (invoices.Recording.Env).
	Env verifactu.Environment
	// Client options: Endpoint (PULSO_AEAT_URL, the fake AEAT), RootCAs,
	// Timeout.
	Client aeat.Options
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
	Log *slog.Logger
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Round is what one call of Send did.
type Round struct {
	// Sent is how many records went in this round's request (0: none went).
	Sent int
	// Outcome of the request; 0 when none was made.
	Outcome aeat.Outcome
	// Remaining is how many records of the chain still wait for an answer.
	Remaining int
	// Next is when the next request of this chain may go (zero: at once,
	// when Remaining > 0).
	Next time.Time
	// Busy: another worker holds the chain until Next.
	Busy bool
	// Err says why the request failed (fault, refusal, certificate).
	Err error
}

// Send makes at most one request for the chain of orgID and nif: the
// oldest records without an answer, in chain order, at most
// verifactu.MaxRecords, unless the AEAT's waiting time
// (TiempoEsperaEnvio) has not passed, which only a full batch may skip. It
// stores each record's answer; a record rejected (1xxx) gets its corrected
// resubmission written (invoices.Resubmit) at the head of the chain, which
// a later request carries. Nothing is lost and nothing is counted twice:
//   - records are marked sent before the request leaves, in their own
//     transaction, and keep that mark until their answer is stored; a
//     crash or a lost answer leaves them sent, and the next request
//     carries them again, the AEAT answering those it holds as duplicates
//     (3000), stored as what it holds;
//   - a record without an answer is only ever taken from the head of its
//     chain, so none is skipped;
//   - a lease on the chain (verifactu_senders) keeps two workers from
//     sending one chain at once.
func (s *Sender) Send(ctx context.Context, orgID int64, nif string) (Round, error) {
	b, round, err := s.take(ctx, orgID, nif)
	if err != nil || b == nil {
		return round, err
	}
	res, ferr := s.exchange(ctx, b)
	return s.store(ctx, b, res, ferr)
}

// batch is what one request carries, taken under a lease.
type batch struct {
	orgID   int64
	nif     string
	lease   int64
	sendID  int64
	records []queries.VerifactuRecord
	stored  []verifactu.Stored
	at      time.Time
	prev    queries.VerifactuSender
}

func (s *Sender) take(ctx context.Context, orgID int64, nif string) (*batch, Round, error) {
	now := s.now()
	var b *batch
	var round Round
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		q := queries.New(tx)
		if err := q.EnsureVerifactuSender(ctx, queries.EnsureVerifactuSenderParams{OrgID: orgID, IssuerNif: nif}); err != nil {
			return err
		}
		st, err := q.LockVerifactuSender(ctx, queries.LockVerifactuSenderParams{OrgID: orgID, IssuerNif: nif})
		if err != nil {
			return err
		}
		n, err := q.CountUnansweredVerifactuRecords(ctx, queries.CountUnansweredVerifactuRecordsParams{OrgID: orgID, IssuerNif: nif})
		if err != nil {
			return err
		}
		round.Remaining = int(n)
		switch {
		case n == 0:
			return nil
		case st.LeaseUntil != nil && now.Before(*st.LeaseUntil):
			round.Busy, round.Next = true, *st.LeaseUntil
			return nil
		case st.NotBefore != nil && now.Before(*st.NotBefore) && !(n >= verifactu.MaxRecords && st.LastOutcome == "answered"):
			// The AEAT's flow control: wait, unless a full batch is
			// waiting (TiempoEsperaEnvio's own exception).
			round.Next = *st.NotBefore
			return nil
		}
		recs, err := q.UnansweredVerifactuRecords(ctx, queries.UnansweredVerifactuRecordsParams{OrgID: orgID, IssuerNif: nif, MaxRecords: verifactu.MaxRecords})
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			// Answered since the count: a worker that stalled past its
			// lease stores its answers without the sender's lock.
			round.Remaining = 0
			return nil
		}
		b = &batch{orgID: orgID, nif: nif, at: now, prev: st}
		seen := map[string]bool{}
		for _, r := range recs {
			p, err := verifactu.ParseRecord(r.Xml)
			if err != nil {
				return fmt.Errorf("sending: stored record %d: %w", r.ID, err)
			}
			// The AEAT answers by invoice and operation: two records of
			// one invoice and operation never share a request, so each
			// answer names one record.
			k := verifactu.RecordKey(p)
			if seen[k] {
				break
			}
			seen[k] = true
			b.records, b.stored = append(b.records, r), append(b.stored, p)
		}
		if b.lease, err = q.TakeVerifactuLease(ctx, queries.TakeVerifactuLeaseParams{OrgID: orgID, IssuerNif: nif, LeaseUntil: ptr(now.Add(LeaseFor)), Now: &now}); err != nil {
			return err
		}
		ids := make([]int64, len(b.records))
		for i, r := range b.records {
			ids[i] = r.ID
		}
		if err := q.MarkVerifactuRecordsSent(ctx, queries.MarkVerifactuRecordsSentParams{OrgID: orgID, Ids: ids, SentAt: &now}); err != nil {
			return err
		}
		b.sendID, err = q.StartVerifactuSend(ctx, queries.StartVerifactuSendParams{OrgID: orgID, IssuerNif: nif,
			FirstSeq: b.records[0].Seq, LastSeq: b.records[len(b.records)-1].Seq, Records: int32(len(b.records)), StartedAt: now})
		return err
	})
	if err != nil {
		return nil, Round{}, err
	}
	return b, round, nil
}

// exchange sends the batch with the org's certificate. An error means no
// request left: the certificate is missing or unusable, or the request
// could not be built.
func (s *Sender) exchange(ctx context.Context, b *batch) (aeat.Result, error) {
	q := queries.New(s.DB)
	cert, err := s.Certs.Load(ctx, q, b.orgID, s.now())
	if err != nil {
		return aeat.Result{}, err
	}
	org, err := q.GetOrgForVerifactuSending(ctx, b.orgID)
	if err != nil {
		return aeat.Result{}, err
	}
	xmls := make([][]byte, len(b.records))
	for i, r := range b.records {
		xmls[i] = r.Xml
	}
	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: verifactu.PersonaES{NombreRazon: verifactu.CleanText(org.Name), NIF: b.nif}}, xmls)
	if err != nil {
		return aeat.Result{}, err
	}
	client := aeat.NewClient(s.Env, cert, s.Client)
	defer client.Close()
	return client.Send(ctx, req), nil
}

// pause is the wait after the failures-th exchange in a row without an
// answer.
func pause(failures int32) time.Duration {
	d := FirstPause
	for i := int32(1); i < failures && d < MaxPause; i++ {
		d *= 2
	}
	return min(d, MaxPause)
}

func ptr[T any](v T) *T { return &v }

func trim(s string) string {
	if r := []rune(s); len(r) > 2000 {
		return string(r[:2000])
	}
	return s
}

// store writes what came of the exchange, in one transaction: each
// record's answer (and the corrections of rejected ones), the exchange's
// log, the chain's next time, and gives the lease back.
func (s *Sender) store(ctx context.Context, b *batch, res aeat.Result, failed error) (Round, error) {
	now := s.now()
	round := Round{Sent: len(b.records), Outcome: res.Outcome}
	outcome := ""
	var lastErr string
	failures := b.prev.Failures + 1
	var next time.Time
	// progressed: the answer named some of the records sent. One that
	// names none leaves them all to go again, after a pause like a lost
	// answer's, never at once.
	progressed := false
	switch {
	case failed != nil:
		// Nothing left: the records were not handed over after all.
		round.Sent, round.Err = 0, failed
		outcome = "refused"
		var ce *aeat.CertError
		if errors.Is(failed, ErrNoCertificate) || errors.As(failed, &ce) {
			outcome = "no-certificate"
		}
		lastErr = failed.Error()
		next = now.Add(MaxPause)
	case res.Outcome == aeat.Answered:
		failures, outcome = 0, "answered"
		next = now.Add(res.Response.TiempoEsperaEnvio)
		for i := range b.records {
			if res.Response.Line(b.stored[i]) != nil {
				progressed = true
				break
			}
		}
		if !progressed {
			failures, lastErr = b.prev.Failures+1, "the answer names none of the records sent"
			next = now.Add(max(pause(failures), res.Response.TiempoEsperaEnvio))
		}
	default:
		outcome, lastErr, round.Err = res.Outcome.String(), fmt.Sprint(res.Err), res.Err
		next = now.Add(pause(failures))
		if res.Outcome != aeat.RetryLater && !(res.Fault != nil && res.Fault.Transient()) {
			// A fault or a refusal will not change by itself: look again
			// in an hour (a new certificate retries at once). The AEAT's
			// technical faults back off like a missing answer.
			next = now.Add(MaxPause)
		}
	}
	err := live.BeginFunc(ctx, s.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		var back []int64 // records certainly not registered: pending again
		switch {
		case res.Outcome == aeat.Answered:
			told := map[int64]bool{}
			for i, r := range b.records {
				line := res.Response.Line(b.stored[i])
				if line == nil {
					back = append(back, r.ID)
					continue
				}
				if err := s.answer(ctx, tx, r, line, now); err != nil {
					return err
				}
				// The invoice's screens show its record's state.
				if !told[r.InvoiceID] {
					told[r.InvoiceID] = true
					inv, err := q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: r.OrgID, ID: r.InvoiceID})
					if err != nil {
						return err
					}
					if err := invoices.Announce(ctx, q, inv, invoices.EventRecordAnswered); err != nil {
						return err
					}
				}
			}
		case failed != nil, res.Outcome == aeat.Faulted, !res.MaybeReceived:
			for _, r := range b.records {
				back = append(back, r.ID)
			}
		}
		if len(back) > 0 {
			if err := q.MarkVerifactuRecordsPending(ctx, queries.MarkVerifactuRecordsPendingParams{OrgID: b.orgID, Ids: back}); err != nil {
				return err
			}
		}
		fin := queries.FinishVerifactuSendParams{OrgID: b.orgID, ID: b.sendID, Outcome: outcome, HttpStatus: int32(res.Status),
			Error: trim(lastErr), Answer: res.Body, FinishedAt: &now}
		if fin.Outcome == "no-certificate" {
			fin.Outcome = "refused"
		}
		if res.Fault != nil {
			fin.FaultCode = int32(res.Fault.Code)
		}
		if res.Response != nil {
			fin.Csv = res.Response.CSV
		}
		if err := q.FinishVerifactuSend(ctx, fin); err != nil {
			return err
		}
		// take lets a full batch skip the wait only after an answer that
		// registered something.
		leaseOutcome := outcome
		if outcome == "answered" && !progressed {
			leaseOutcome = "retry-later"
		}
		if _, err := q.EndVerifactuLease(ctx, queries.EndVerifactuLeaseParams{OrgID: b.orgID, IssuerNif: b.nif, LeaseID: b.lease,
			NotBefore: &next, LastOutcome: leaseOutcome, LastError: trim(lastErr), Failures: failures}); err != nil {
			return err
		}
		n, err := q.CountUnansweredVerifactuRecords(ctx, queries.CountUnansweredVerifactuRecordsParams{OrgID: b.orgID, IssuerNif: b.nif})
		round.Remaining = int(n)
		return err
	})
	if err != nil {
		return round, err
	}
	// A full batch still waiting may go at once after an answer (the
	// exception to TiempoEsperaEnvio that take applies), so the worker does
	// not sleep out the wait before it: a backlog after an outage drains at
	// the service's pace, not a request a minute.
	if round.Remaining > 0 && !(progressed && round.Remaining >= verifactu.MaxRecords) {
		round.Next = next
	}
	if s.Log != nil && outcome != "answered" {
		s.Log.Warn("verifactu: records not answered", "org", b.orgID, "outcome", outcome, "records", len(b.records), "error", lastErr)
	}
	return round, nil
}

// answer stores one record's answer. A rejection for a reason in the
// record (1xxx) gets its corrected resubmission, once: a correction the
// AEAT rejects again, and the 3xxx refusals (the record does not exist, the
// presenter may not change it, an alta of an invoice cancelled already),
// need a person (invoices.Resubmit from the records page). An anulación
// of an invoice the AEAT holds cancelled already (3001) has done its work.
func (s *Sender) answer(ctx context.Context, tx pgx.Tx, r queries.VerifactuRecord, l *verifactu.ResponseLine, now time.Time) error {
	q := queries.New(tx)
	p := queries.AnswerVerifactuRecordParams{OrgID: r.OrgID, ID: r.ID, AnsweredAt: &now}
	code := l.CodigoErrorRegistro
	text := l.DescripcionErrorRegistro
	switch {
	case code == verifactu.CodeDuplicate:
		// The AEAT holds it already (an earlier request got through, its
		// answer did not): store what it holds.
		p.Status = StatusAccepted
		if d := l.Duplicado; d != nil && d.EstadoRegistroDuplicado == "AceptadaConErrores" {
			p.Status = StatusAcceptedWithErrors
			if d.CodigoErrorRegistro != 0 {
				code, text = d.CodigoErrorRegistro, d.DescripcionErrorRegistro
			}
		}
	case code == verifactu.CodeAlreadyCancelled && r.Kind == "anulacion":
		// The AEAT holds the invoice cancelled, which is all an anulación
		// asks (the 3000 of a cancellation): stored as accepted, with the
		// code and text, and not corrected.
		p.Status = StatusAccepted
	case l.EstadoRegistro == verifactu.Correcto:
		p.Status = StatusAccepted
	case l.EstadoRegistro == verifactu.AceptadoConErrores:
		p.Status = StatusAcceptedWithErrors
	default:
		p.Status = StatusRejected
	}
	if code != 0 {
		c := int32(code)
		p.AnswerCode = &c
		// The AEAT's answer names the field or value at fault where its
		// published list has "%s"; the list is for an answer without text.
		if t, ok := verifactu.ErrorText(code); ok && strings.TrimSpace(text) == "" {
			text = t
		}
	}
	p.AnswerText = trim(text)
	if _, err := q.AnswerVerifactuRecord(ctx, p); err != nil {
		return err
	}
	if p.Status == StatusRejected && r.CorrectsID == nil && code/1000 == 1 {
		// In a savepoint: a correction that cannot be written (the
		// invoice's data no longer makes a valid record) must not keep
		// the answers from being stored, or the same request would go
		// again and again. The record stays rejected, for a person.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := invoices.Resubmit(ctx, sp, nil, r.OrgID, r.ID, now); err != nil {
			if rerr := sp.Rollback(ctx); rerr != nil {
				return rerr
			}
			if s.Log != nil {
				s.Log.Warn("verifactu: a rejected record could not be corrected", "org", r.OrgID, "record", r.ID, "error", err)
			}
			return nil
		}
		return sp.Commit(ctx)
	}
	return nil
}

// Due lists the chains the periodic sweep should send now.
func Due(ctx context.Context, q *queries.Queries, now time.Time) ([]queries.ChainsDueForSendingRow, error) {
	return q.ChainsDueForSending(ctx, &now)
}
