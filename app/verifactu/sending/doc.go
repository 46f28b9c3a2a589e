// Package sending sends an org's VERI*FACTU records to the AEAT and keeps
// the certificate it sends them with. It owns the loop package aeat
// describes; workers/verifactu_send.go only runs it, and
// app/verifactu/certweb is the admin's form for the certificate. No Fiber
// here.
//
// # Certificate
//
//	certs := sending.Certificates{Keys: cfg.SealedKeys()}
//	facts, err := certs.Save(ctx, tx, orgID, p12, password, &userID, time.Now()) // *FieldError for the form
//	cert, err := certs.Load(ctx, q, orgID, time.Now())                         // ErrNoCertificate, *aeat.CertError
//
// The file and its password are sealed (app/sealed) for the org and their
// purpose; the subject, NIF and expiry are kept in clear for the page.
//
// # Sending
//
//	s := &sending.Sender{DB: pool, Certs: certs, Env: invoices.Recording.Env, Client: aeat.Options{Endpoint: cfg.AEATURL}}
//	round, err := s.Send(ctx, orgID, issuerNIF) // one request at most; round.Next: not before then
//
// States of a record: pending → sent → accepted | accepted_with_errors |
// rejected. "sent" means handed over without a stored answer: it goes
// again, first, and the AEAT answers a record it holds as a duplicate
// (3000) with the state it holds, which is what gets stored: a crash
// between the request and its answer's transaction neither loses nor
// doubles a record.
//
// # Corrections (RULES.md "AEAT error classes"; XSD Subsanacion, RechazoPrevio)
//
// A record the AEAT rejects for what it says (1xxx) is not sent again: a
// new record of the chain resubmits the same invoice, built again from its
// frozen data and sealed at the head of the chain with Subsanacion = S and
// RechazoPrevio = S (an anulación: RechazoPrevio = S), naming the rejected
// one in corrects_id (invoices.Resubmit). It goes with the next request.
// This is done once per record: a correction rejected again, a 3xxx refusal
// and an alta accepted with errors (2xxx, which needs a subsanación with
// changed data) wait for a person, who calls invoices.Resubmit.
package sending
