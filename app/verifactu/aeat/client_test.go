package aeat

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"pulso/app/verifactu"
	"pulso/app/verifactu/aeattest"
)

const password = "secreta-1"

// setup starts a validating fake and returns a client of its CAs.
func setup(t *testing.T, opt Options) (*aeattest.Server, *Client) {
	t.Helper()
	srv := aeattest.New(t, aeattest.Options{Validate: true})
	cert, err := LoadCertificate(srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, password), password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	opt.Endpoint, opt.RootCAs = srv.URL, srv.CA.Pool
	c := NewClient(verifactu.Test, cert, opt)
	t.Cleanup(c.Close)
	return srv, c
}

func request(t *testing.T, records [][]byte) []byte {
	t.Helper()
	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: aeattest.Issuer}, records)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func stored(t *testing.T, records [][]byte) []verifactu.Stored {
	t.Helper()
	out := make([]verifactu.Stored, len(records))
	for i, r := range records {
		s, err := verifactu.ParseRecord(r)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// validAnswer checks the fake's answer against the AEAT's response
// schema, so the client is tested against what the service may send.
func validAnswer(t *testing.T, body []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		start := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("no RespuestaRegFactuSistemaFacturacion in the answer: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "RespuestaRegFactuSistemaFacturacion" {
			if err := d.Skip(); err != nil {
				t.Fatal(err)
			}
			if msg := aeattest.Validate(t, aeattest.SchemaResponse, body[start:d.InputOffset()]); msg != "" {
				t.Fatalf("the fake's answer does not validate: %s", msg)
			}
			return
		}
	}
}

func TestSendCorrect(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Wait: 2 * time.Second})
	recs, _ := aeattest.Chain(t, nil, 1, 3)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != Answered || res.Err != nil {
		t.Fatalf("outcome %v, err %v, body %s", res.Outcome, res.Err, res.Body)
	}
	validAnswer(t, res.Body)
	r := res.Response
	if r.EstadoEnvio != verifactu.EnvioCorrecto || r.TiempoEsperaEnvio != 2*time.Second || r.CSV == "" {
		t.Fatalf("EstadoEnvio %s, wait %v, CSV %q", r.EstadoEnvio, r.TiempoEsperaEnvio, r.CSV)
	}
	for _, s := range stored(t, recs) {
		l := r.Line(s)
		if l == nil || l.EstadoRegistro != verifactu.Correcto || !l.Accepted() {
			t.Fatalf("%s: line %+v", s.ID.NumSerieFactura, l)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	h := reqs[0].Header
	if h.Get("Content-Type") != "text/xml; charset=utf-8" || h.Get("SOAPAction") != `""` {
		t.Errorf("headers: %v", h)
	}
	if !strings.Contains(reqs[0].ClientSubject, "B76543214") {
		t.Errorf("the fake saw client certificate %q", reqs[0].ClientSubject)
	}
}

// One request, each record its own answer: the lines and their codes and
// texts reach the caller.
func TestSendMixedLines(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Wait: 30 * time.Second, Lines: aeattest.ByNumber(map[string]aeattest.Line{
		"F2026-00002": aeattest.WithErrors(2000),
		"F2026-00003": aeattest.Rejected(1189),
		"F2026-00004": aeattest.DuplicateLine(),
	})})
	recs, _ := aeattest.Chain(t, nil, 1, 4)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != Answered {
		t.Fatalf("outcome %v: %v", res.Outcome, res.Err)
	}
	validAnswer(t, res.Body)
	r := res.Response
	if r.EstadoEnvio != verifactu.EnvioParcialmenteCorrecto || r.TiempoEsperaEnvio != 30*time.Second {
		t.Fatalf("EstadoEnvio %s, wait %v", r.EstadoEnvio, r.TiempoEsperaEnvio)
	}
	s := stored(t, recs)
	text := func(code int) string { x, _ := verifactu.ErrorText(code); return x }
	for i, want := range []struct {
		estado   verifactu.EstadoRegistro
		code     int
		accepted bool
	}{
		{verifactu.Correcto, 0, true},
		{verifactu.AceptadoConErrores, 2000, true},
		{verifactu.Incorrecto, 1189, false},
		{verifactu.Incorrecto, verifactu.CodeDuplicate, true},
	} {
		l := r.Line(s[i])
		if l == nil {
			t.Fatalf("no line for record %d", i)
		}
		if l.EstadoRegistro != want.estado || l.CodigoErrorRegistro != want.code || l.Accepted() != want.accepted {
			t.Errorf("record %d: %s %d accepted=%v, want %s %d %v", i, l.EstadoRegistro, l.CodigoErrorRegistro, l.Accepted(), want.estado, want.code, want.accepted)
		}
		if want.code != 0 && (l.DescripcionErrorRegistro == "" || l.DescripcionErrorRegistro != text(want.code)) {
			t.Errorf("record %d: text %q, want %q", i, l.DescripcionErrorRegistro, text(want.code))
		}
	}
	if d := r.Line(s[3]).Duplicado; d == nil || d.EstadoRegistroDuplicado != "Correcta" {
		t.Errorf("duplicate without RegistroDuplicado: %+v", d)
	}
}

// Every record rejected: the whole submission is Incorrecto, and nothing
// is held.
func TestSendAllRejected(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Lines: func(int, aeattest.Record) aeattest.Line { return aeattest.Rejected(1100) }})
	recs, _ := aeattest.Chain(t, nil, 1, 2)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != Answered || res.Response.EstadoEnvio != verifactu.EnvioIncorrecto {
		t.Fatalf("outcome %v, response %+v, err %v", res.Outcome, res.Response, res.Err)
	}
	validAnswer(t, res.Body)
	if res.Response.TiempoEsperaEnvio != aeattest.DefaultWait {
		t.Errorf("wait %v, want the default %v", res.Response.TiempoEsperaEnvio, aeattest.DefaultWait)
	}
	if srv.Held("F2026-00001") {
		t.Error("a rejected record is held")
	}
}

// A rejected record, fixed and sent again as a new record of the chain
// with Subsanacion and RechazoPrevio, is accepted; a record the AEAT
// holds is answered as a duplicate unless it is a subsanación.
func TestResubmitRejected(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Lines: aeattest.ByNumber(map[string]aeattest.Line{"F2026-00002": aeattest.Rejected(1189)})})
	recs, last := aeattest.Chain(t, nil, 1, 2)
	if res := c.Send(context.Background(), request(t, recs)); res.Outcome != Answered || res.Response.EstadoEnvio != verifactu.EnvioParcialmenteCorrecto {
		t.Fatalf("first send: %v %v", res.Outcome, res.Err)
	}
	fix := aeattest.Subsanacion(t, last, 2, true)
	res := c.Send(context.Background(), request(t, [][]byte{fix}))
	if res.Outcome != Answered {
		t.Fatalf("resubmission: %v %v", res.Outcome, res.Err)
	}
	l := res.Response.Lines[0]
	if l.EstadoRegistro != verifactu.Correcto || l.Subsanacion != "S" || l.RechazoPrevio != "S" {
		t.Fatalf("resubmission line %+v", l)
	}
	if !srv.Held("F2026-00002") {
		t.Fatal("the corrected record is not held")
	}
	if got := srv.Resent(); len(got) != 0 {
		t.Fatalf("resent %v", got)
	}
}

func TestSendFault(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Fault: 4112})
	recs, _ := aeattest.Chain(t, nil, 1, 1)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != Faulted || res.Fault == nil || res.Fault.Code != 4112 || res.Status != 500 {
		t.Fatalf("outcome %v, fault %+v, status %d", res.Outcome, res.Fault, res.Status)
	}
	var f *verifactu.Fault
	if !errors.As(res.Err, &f) || !strings.Contains(f.FaultString, "Obligado Emisi") {
		t.Fatalf("err %v", res.Err)
	}
	if srv.Held("F2026-00001") {
		t.Fatal("a faulted request registered its record")
	}
}

func TestSendHTTPErrors(t *testing.T) {
	for _, c := range []struct {
		status int
		want   Outcome
		maybe  bool
	}{
		{500, RetryLater, true},
		{503, RetryLater, true},
		{404, Refused, false},
		{403, Refused, false},
	} {
		srv, client := setup(t, Options{})
		srv.Script(aeattest.Reply{Status: c.status})
		recs, _ := aeattest.Chain(t, nil, 1, 1)
		res := client.Send(context.Background(), request(t, recs))
		if res.Outcome != c.want || res.Status != c.status || res.MaybeReceived != c.maybe || res.Err == nil {
			t.Errorf("HTTP %d: outcome %v, status %d, maybe %v, err %v", c.status, res.Outcome, res.Status, res.MaybeReceived, res.Err)
		}
	}
}

// An empty 200 is no answer: the records may be registered, so they are
// sent again later rather than handed to a person as refused.
func TestEmptyAnswerIsRetried(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Empty: true})
	recs, _ := aeattest.Chain(t, nil, 1, 1)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != RetryLater || !res.MaybeReceived || res.Status != 200 || res.Err == nil {
		t.Fatalf("outcome %v, maybe %v, status %d, err %v", res.Outcome, res.MaybeReceived, res.Status, res.Err)
	}
}

// A time-out leaves the records possibly received: the same request is
// sent again, the AEAT answers its records as duplicates, and those count
// as accepted. Nothing is lost, and only what timed out went twice.
func TestTimeoutThenDuplicates(t *testing.T) {
	srv, c := setup(t, Options{Timeout: 300 * time.Millisecond})
	srv.Script(aeattest.Reply{Delay: time.Minute})
	recs, _ := aeattest.Chain(t, nil, 1, 3)
	req := request(t, recs)
	res := c.Send(context.Background(), req)
	if res.Outcome != RetryLater || !res.MaybeReceived || res.Err == nil {
		t.Fatalf("outcome %v, maybe received %v, err %v", res.Outcome, res.MaybeReceived, res.Err)
	}
	res = c.Send(context.Background(), req)
	if res.Outcome != Answered {
		t.Fatalf("second send: %v %v", res.Outcome, res.Err)
	}
	validAnswer(t, res.Body)
	for _, s := range stored(t, recs) {
		l := res.Response.Line(s)
		if l == nil || l.CodigoErrorRegistro != verifactu.CodeDuplicate || !l.Accepted() || l.Duplicado == nil {
			t.Fatalf("%s: line %+v", s.ID.NumSerieFactura, l)
		}
	}
	if got, want := srv.Resent(), []string{"F2026-00001", "F2026-00002", "F2026-00003"}; !slices.Equal(got, want) {
		t.Fatalf("resent %v, want %v", got, want)
	}
}

// A caller's deadline (the job's context) counts like the client's own
// time-out.
func TestContextDeadline(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Delay: time.Minute})
	recs, _ := aeattest.Chain(t, nil, 1, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	res := c.Send(ctx, request(t, recs))
	if res.Outcome != RetryLater || !res.MaybeReceived {
		t.Fatalf("outcome %v, maybe %v, err %v", res.Outcome, res.MaybeReceived, res.Err)
	}
}

// The biggest request the service takes goes through whole, validated,
// in chain order.
func TestSend1000(t *testing.T) {
	srv, c := setup(t, Options{})
	srv.Script(aeattest.Reply{Wait: 5 * time.Second})
	recs, _ := aeattest.Chain(t, nil, 1, verifactu.MaxRecords)
	res := c.Send(context.Background(), request(t, recs))
	if res.Outcome != Answered || res.Response.EstadoEnvio != verifactu.EnvioCorrecto {
		t.Fatalf("outcome %v, err %v", res.Outcome, res.Err)
	}
	if n := len(res.Response.Lines); n != verifactu.MaxRecords {
		t.Fatalf("%d lines", n)
	}
	validAnswer(t, res.Body)
	sent := srv.Sent()
	if len(sent) != verifactu.MaxRecords || sent[0] != "F2026-00001" || sent[999] != "F2026-01000" || !slices.IsSorted(sent) {
		t.Fatalf("the fake received %d records, first %s", len(sent), sent[0])
	}
	if res.Response.TiempoEsperaEnvio != 5*time.Second {
		t.Fatalf("wait %v", res.Response.TiempoEsperaEnvio)
	}
}

// TLS both ways: without a client certificate, with one of another CA,
// or facing a server certificate the client does not trust, nothing is
// sent and the outcome is Refused (retrying will not help).
func TestTLSRefusals(t *testing.T) {
	srv := aeattest.New(t, aeattest.Options{Validate: true})
	recs, _ := aeattest.Chain(t, nil, 1, 1)
	req := request(t, recs)
	good, err := LoadCertificate(srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, password), password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other := aeattest.NewCA(t, "Another CA")
	foreign, err := LoadCertificate(other.ClientPKCS12(t, aeattest.Client{}, password), password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		cert  *Certificate
		roots *aeattest.CA
		says  string
		fake  string // what the fake's TLS server logged
	}{
		{"no client certificate", &Certificate{}, srv.CA, "refused the certificate", "didn't provide a certificate"},
		{"client certificate of another CA", foreign, srv.CA, "refused the certificate", "certificate signed by unknown authority"},
		{"server certificate of an untrusted CA", good, other, "not trusted", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := NewClient(verifactu.Test, c.cert, Options{Endpoint: srv.URL, RootCAs: c.roots.Pool})
			defer client.Close()
			res := client.Send(context.Background(), req)
			if res.Outcome != Refused || res.Err == nil || !strings.Contains(res.Err.Error(), c.says) {
				t.Fatalf("outcome %v, err %v; want Refused saying %q", res.Outcome, res.Err, c.says)
			}
			// The server logs its side of the handshake in its own
			// goroutine, possibly after the client has read the alert: wait
			// for the line (the deadline guards a hang, it measures nothing).
			logged := func() bool {
				return slices.ContainsFunc(srv.ServerErrors(), func(l string) bool { return strings.Contains(l, c.fake) })
			}
			for deadline := time.Now().Add(5 * time.Second); c.fake != "" && !logged() && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
			if c.fake != "" && !logged() {
				t.Fatalf("the fake did not refuse the handshake with %q: %q", c.fake, srv.ServerErrors())
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("the fake received %d requests over refused connections", n)
	}
}

// Outside the tests the endpoint is the environment's.
func TestDefaultEndpoint(t *testing.T) {
	for _, env := range []verifactu.Environment{verifactu.Production, verifactu.Test} {
		if c := NewClient(env, &Certificate{}, Options{}); c.endpoint != verifactu.SOAPEndpoint(env) {
			t.Errorf("endpoint %s", c.endpoint)
		}
	}
}
