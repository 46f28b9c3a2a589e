package aeattest

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"pulso/app/verifactu"

	"software.sslmate.com/src/go-pkcs12"
)

// recorder is a testing.TB that keeps the fake's complaints instead of
// failing the test, so the tests below can check that it does complain.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) complaints() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.errs, "\n")
}

// post sends a SOAP body to the fake with a client certificate of its CA,
// without package aeat (which this package's tests cannot import).
func post(t *testing.T, s *Server, body []byte) (int, []byte) {
	t.Helper()
	p12 := s.ClientCA.ClientPKCS12(t, Client{}, "x")
	key, cert, _, err := pkcs12.DecodeChain(p12, "x")
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs:      s.CA.Pool,
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}},
	}}}
	resp, err := c.Post(s.URL, "text/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body) //nolint:errcheck
	return resp.StatusCode, b.Bytes()
}

func soap(t *testing.T, records [][]byte) []byte {
	t.Helper()
	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: Issuer}, records)
	if err != nil {
		t.Fatal(err)
	}
	return verifactu.SOAP(req)
}

// A record skipped in the chain fails the test that uses the fake.
func TestSkippedRecordFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec, Options{Validate: true})
	recs, _ := Chain(t, nil, 1, 3)
	if status, _ := post(t, s, soap(t, recs[:1])); status != 200 {
		t.Fatalf("status %d", status)
	}
	if got := rec.complaints(); got != "" {
		t.Fatalf("complaints about a good request: %s", got)
	}
	post(t, s, soap(t, recs[2:])) // F2026-00002 never sent
	if got := rec.complaints(); !strings.Contains(got, "F2026-00003 follows F2026-00002, but the last record received was F2026-00001") {
		t.Fatalf("no complaint about the skipped record: %q", got)
	}
}

// A request the schema refuses fails the test and gets fault 4102.
func TestInvalidRequestFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec, Options{Validate: true})
	recs, _ := Chain(t, nil, 1, 1)
	body := bytes.Replace(soap(t, recs), []byte("<sum1:DescripcionOperacion>"), []byte("<sum1:Descripcion>"), 1)
	body = bytes.Replace(body, []byte("</sum1:DescripcionOperacion>"), []byte("</sum1:Descripcion>"), 1)
	status, answer := post(t, s, body)
	if _, err := verifactu.ParseResponse(answer); status != 500 || err == nil || !strings.Contains(err.Error(), "4102") {
		t.Fatalf("status %d, %v", status, err)
	}
	if got := rec.complaints(); !strings.Contains(got, "does not validate against SuministroLR.xsd") {
		t.Fatalf("no complaint about the invalid request: %q", got)
	}
}

// A record whose huella is not what its fields give fails the test.
func TestBadHuellaFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec, Options{Validate: true})
	recs, _ := Chain(t, nil, 1, 1)
	body := bytes.Replace(soap(t, recs), []byte("<sum1:ImporteTotal>121.00<"), []byte("<sum1:ImporteTotal>122.00<"), 1)
	post(t, s, body)
	if got := rec.complaints(); !strings.Contains(got, "huella") {
		t.Fatalf("no complaint about the huella: %q", got)
	}
}

// Asked to validate without xmllint, the fake fails the test rather than
// skip the check.
func TestValidateNeedsXmllint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(rec, Options{Validate: true})
	}()
	<-done
	if got := rec.complaints(); !strings.Contains(got, "xmllint is not installed") {
		t.Fatalf("got %q", got)
	}
}

// What the fake answers is what RespuestaSuministro.xsd allows.
func TestAnswerValidates(t *testing.T) {
	s := New(t, Options{})
	s.Script(Reply{Lines: ByNumber(map[string]Line{"F2026-00002": WithErrors(2000), "F2026-00003": Rejected(1189), "F2026-00004": DuplicateLine()})})
	recs, _ := Chain(t, nil, 1, 4)
	_, answer := post(t, s, soap(t, recs))
	start := bytes.Index(answer, []byte("<tikR:RespuestaRegFactuSistemaFacturacion"))
	end := bytes.Index(answer, []byte("</tikR:RespuestaRegFactuSistemaFacturacion>"))
	if start < 0 || end < 0 {
		t.Fatalf("answer: %s", answer)
	}
	if msg := Validate(t, SchemaResponse, answer[start:end+len("</tikR:RespuestaRegFactuSistemaFacturacion>")]); msg != "" {
		t.Fatalf("%s\n%s", msg, answer)
	}
}

// More than 1000 records in one request fails the test (AEAT 4113).
func TestTooManyRecordsFails(t *testing.T) {
	rec := &recorder{TB: t}
	s := New(rec, Options{})
	recs, _ := Chain(t, nil, 1, verifactu.MaxRecords)
	body := soap(t, recs)
	// One more RegistroFactura, copied: BuildRequest itself refuses 1001.
	first := bytes.Index(body, []byte("<sum:RegistroFactura>"))
	end := bytes.Index(body, []byte("</sum:RegistroFactura>")) + len("</sum:RegistroFactura>")
	body = append(body[:first:first], append(bytes.Clone(body[first:end]), body[first:]...)...)
	status, answer := post(t, s, body)
	if _, err := verifactu.ParseResponse(answer); status != 500 || err == nil || !strings.Contains(err.Error(), "4113") {
		t.Fatalf("status %d, %v", status, err)
	}
	if got := rec.complaints(); !strings.Contains(got, "1001 records in one request") {
		t.Fatalf("no complaint: %q", got)
	}
	if n := len(s.Requests()[0].Records); n != verifactu.MaxRecords+1 {
		t.Fatalf("recorded %d records", n)
	}
}
