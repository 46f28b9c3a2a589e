// Package aeat talks to the AEAT's VERI*FACTU web service
// (SistemaFacturacion, operation RegFactuSistemaFacturacion): it loads an
// organisation's certificate from its PKCS#12 file and password, posts the
// requests package verifactu builds over client-certificate TLS, and sorts
// what came back into a Result. It keeps no state and touches no database;
// app/verifactu/sending owns the loop below (run by
// workers/verifactu_send.go). Its tests run against
// the fake service in ../aeattest.
//
// The files next to this one (errores.properties, SOURCES.md) are the
// AEAT's error list that package verifactu embeds; they are data, not part
// of this package.
//
// # Certificate
//
//	cert, err := aeat.LoadCertificate(p12, password, time.Now())
//	var ce *aeat.CertError // ErrNotPKCS12, ErrWrongPassword, ErrNoKey, ErrUnsupported, ErrExpired, ErrNotYetValid
//	if errors.As(err, &ce) { form.Error("certificate", ce.Key) }
//
// The admin uploads the file; the form loads it to refuse a bad one on the
// spot, then stores the file and the password sealed (app/sealed, purposes
// sealed.Certificate and sealed.CertificatePassword, owner the org's id).
// The job opens both and loads the certificate again for each run, so an
// expiry found at send time is an ErrExpired for the admin page.
//
// # Sending
//
//	client := aeat.NewClient(verifactu.Production, cert, aeat.Options{})
//	req, _ := verifactu.BuildRequest(cabecera, records) // ≤ verifactu.MaxRecords, chain order
//	res := client.Send(ctx, req)
//	switch res.Outcome {
//	case aeat.Answered:   // res.Response: a line per record; res.Response.TiempoEsperaEnvio
//	case aeat.Faulted:    // res.Fault: nothing registered; same request, same fault
//	case aeat.RetryLater: // 5xx, timeout, broken connection; res.MaybeReceived
//	case aeat.Refused:    // 4xx, TLS refusal, not the service's answer: res.Err for the admin
//	}
//
// # The sending loop (app/verifactu/sending.Sender)
//
// One job per issuer (org NIF) at a time, so that its records leave in
// chain order and its waits are honoured; other issuers send in parallel.
//
//  1. Take the issuer's records not yet answered, oldest first in chain
//     order (the chain position, not the id or the time), at most
//     verifactu.MaxRecords (1000). Stop if there are none.
//  2. Open the sealed certificate and password, LoadCertificate, NewClient
//     for the org's Environment. A *CertError stops the job and shows on
//     the admin page; records wait (issuing is never blocked).
//  3. BuildRequest(Cabecera{ObligadoEmision: org name + NIF}, their stored
//     XML exactly as stored) and Send. Keep res.Body with the attempt.
//  4. Answered: for each record sent, line := res.Response.Line(stored)
//     (verifactu.ParseRecord gives the Stored); store the line's
//     EstadoRegistro, CodigoErrorRegistro and DescripcionErrorRegistro
//     (the text also from verifactu.ErrorText) on the record, in one
//     transaction with a live event for the invoice. line.Accepted() (also
//     true for a duplicate, 3000, of a record the AEAT holds: an earlier
//     send whose answer was lost) means the AEAT holds it: it is never
//     sent again. A record with no line stays pending and goes in the
//     next request.
//  5. A record Incorrecto (not a duplicate) is fixed and resubmitted as a
//     new record of the chain: the same invoice sealed again with
//     Subsanacion = S and RechazoPrevio = S; AceptadoConErrores gets a
//     subsanación with Subsanacion = S (see package verifactu). Those new
//     records simply join the pending ones, in chain order: the rejected
//     original is never sent again.
//  6. Wait res.Response.TiempoEsperaEnvio before the next request of this
//     issuer (schedule the next job run at now + wait, River's ScheduledAt),
//     except that a full batch of 1000 may go before it
//     (verifactu.Response.TiempoEsperaEnvio).
//  7. Faulted: store the fault on the attempt, leave every record
//     pending, and retry with backoff only after something changed (a new
//     certificate) or a long pause; alert the admin. RetryLater: leave the
//     records pending and retry with backoff (River's retry), sending the
//     same records, which the AEAT answers as duplicates if it got them:
//     so a timeout never loses or doubles a record. Refused: stop, alert.
//
// Nothing is sent twice once answered, and nothing is skipped: a record is
// only ever taken from the head of its issuer's pending chain.
//
// # Exported API
//
// LoadCertificate → *Certificate (Leaf, Chain, Subject, NotAfter);
// CertError (Key) with ErrNotPKCS12, ErrWrongPassword, ErrUnsupported,
// ErrNoKey, ErrExpired, ErrNotYetValid. NewClient(env, cert, Options
// {Endpoint, RootCAs, Timeout}) → *Client (.Send → Result, .Close);
// DefaultTimeout; Result {Outcome, Response, Fault, Status, Body,
// MaybeReceived, Err}; Outcome: Answered, Faulted, RetryLater, Refused.
package aeat
