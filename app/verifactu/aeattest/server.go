// Package aeattest is a fake AEAT SistemaFacturacion web service for
// tests: a TLS server that, like the real one, refuses a connection
// without a client certificate its CA issued, reads each
// RegFactuSistemaFacturacion request with package verifactu's own
// parser, optionally validates it against SuministroLR.xsd with xmllint,
// and answers record by record as the test scripted (Correcto,
// AceptadoConErrores, Incorrecto, duplicate), or the whole request with a
// SOAP fault, an HTTP error or a delay longer than the client waits.
//
// It also behaves as the AEAT does where a test relies on it: a record it
// already holds comes back as a duplicate (3000) unless it is a
// subsanación; a request the client gave up on (Delay) is still
// registered. And it watches the sender: every new record must continue
// its issuer's chain from the last one received (a skipped record fails
// the test), and Sent/Resent tell what arrived and what arrived twice.
//
//	srv := aeattest.New(t, aeattest.Options{Validate: true})
//	p12 := srv.ClientCA.ClientPKCS12(t, aeattest.Client{}, "secreta")
//	srv.Script(aeattest.Reply{Wait: 2 * time.Second, Lines: aeattest.ByNumber(map[string]aeattest.Line{"F2026-00002": aeattest.Rejected(1189)})})
//	// client: aeat.Options{Endpoint: srv.URL, RootCAs: srv.CA.Pool}
package aeattest

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/apptest/conformance"
	"pulso/app/verifactu"
)

// TB is what the fake needs of whoever runs it: a test (testing.TB), or
// the demo (StartDemo), which logs what a test would fail on.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
	Cleanup(func())
	TempDir() string
}

// DefaultWait is the TiempoEsperaEnvio the fake answers unless a Reply
// says otherwise: the AEAT's usual 60 seconds.
const DefaultWait = 60 * time.Second

// Line is the scripted answer to one record.
type Line struct {
	Estado verifactu.EstadoRegistro // "" is Correcto
	Code   int                      // CodigoErrorRegistro
	Text   string                   // "" is the code's text in errores.properties
	// Duplicate answers 3000 with RegistroDuplicado even if the fake
	// does not hold the record.
	Duplicate bool
}

// Correct, WithErrors and Rejected are the three answers a record can get.
func Correct() Line               { return Line{Estado: verifactu.Correcto} }
func WithErrors(code int) Line    { return Line{Estado: verifactu.AceptadoConErrores, Code: code} }
func Rejected(code int) Line      { return Line{Estado: verifactu.Incorrecto, Code: code} }
func DuplicateLine() Line         { return Line{Duplicate: true} }
func allCorrect(int, Record) Line { return Correct() }

// ByNumber answers by the invoice's NumSerieFactura; records not named
// are Correcto.
func ByNumber(m map[string]Line) func(int, Record) Line {
	return func(_ int, r Record) Line {
		if l, ok := m[r.ID.NumSerieFactura]; ok {
			return l
		}
		return Correct()
	}
}

// Reply is the scripted answer to one request.
type Reply struct {
	// Status answers the whole request with this HTTP status and a
	// plain-text body (500, 503: the service is down; 403, 404: …),
	// having registered nothing.
	Status int
	// Fault answers with a SOAP fault (HTTP 500, as SOAP 1.1 does)
	// carrying this AEAT code, "Codigo[4102].<text>", registering nothing.
	Fault int
	// Delay holds the answer back this long (or until the client hangs
	// up). The records are registered first: like the real service, the
	// fake may hold what the client gave up waiting for.
	Delay time.Duration
	// Lines answers record i of the request; nil answers Correcto.
	Lines func(i int, r Record) Line
	// Wait is the TiempoEsperaEnvio answered; 0 is DefaultWait.
	Wait time.Duration
	// Empty answers HTTP 200 with no body at all, having registered the
	// records: what a proxy that cut the answer short may hand back.
	Empty bool
	// Unmatched answers every line under an invoice number the request
	// did not carry: an answer the client cannot match to its records.
	Unmatched bool
}

// Record is one record of a request as the fake read it.
type Record struct {
	verifactu.Stored
	Subsanacion   string // "S" or ""
	RechazoPrevio string
	XML           []byte // the RegistroAlta or RegistroAnulacion element
}

// Request is one request the fake received, in arrival order.
type Request struct {
	Cabecera verifactu.Cabecera
	Records  []Record
	Body     []byte // the SOAP envelope as posted
	// ClientSubject is the client certificate's subject.
	ClientSubject string
	Header        http.Header
}

// Options configure New.
type Options struct {
	// Validate runs xmllint on every request against the official
	// schemas (SuministroLR.xsd through the SOAP driver schema of the
	// conformance set); an invalid request fails the test and is answered
	// with fault 4102, as the AEAT does. Without xmllint, New fails the
	// test.
	Validate bool
}

type held struct {
	id     string // IdPeticion of the request that registered it
	estado string // Correcta, AceptadaConErrores
}

// Server is the fake service.
type Server struct {
	URL      string // the endpoint: POST requests here
	CA       *CA    // issued the server's certificate: the client's RootCAs
	ClientCA *CA    // the server accepts client certificates of this CA only

	tb       TB
	srv      *httptest.Server
	validate []string // xmllint command, schema and catalog when Validate

	mu       sync.Mutex
	script   []Reply
	def      Reply
	requests []Request
	held     map[string]held           // RecordKey → what the AEAT holds
	seen     map[string]int            // huella → times received
	last     map[string]verifactu.Link // issuer → last new record received
	ids      int
	logged   []string
}

type serverLog struct{ s *Server }

func (l serverLog) Write(p []byte) (int, error) {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.logged = append(l.s.logged, strings.TrimSpace(string(p)))
	return len(p), nil
}

// ServerErrors returns what the HTTP server logged: TLS handshakes it
// refused ("client didn't provide a certificate", "certificate signed by
// unknown authority").
func (s *Server) ServerErrors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.logged...)
}

// New starts a fake AEAT service, closed when the test ends.
func New(tb TB, opt Options) *Server {
	tb.Helper()
	s := &Server{
		tb: tb, CA: NewCA(tb, "Fake AEAT server CA"), ClientCA: NewCA(tb, "Fake FNMT client CA"),
		held: map[string]held{}, seen: map[string]int{}, last: map[string]verifactu.Link{},
	}
	if opt.Validate {
		ttb, ok := tb.(testing.TB)
		if !ok {
			tb.Fatalf("aeattest: Validate needs a test (the schemas are the conformance set's)")
		}
		bin, err := exec.LookPath("xmllint")
		if err != nil {
			tb.Fatalf("xmllint is not installed, so requests cannot be validated against the AEAT schemas: install it (Debian: apt-get install libxml2-utils)")
		}
		s.validate = []string{bin, conformance.Path(ttb, SchemaSOAPRequest), conformance.Path(ttb, "verifactu/catalog.xml"), tb.TempDir()}
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{s.CA.ServerCertificate(tb)},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    s.ClientCA.Pool,
		MinVersion:   tls.VersionTLS12,
	}
	// The handshake's refusals are the test's subject: kept for
	// ServerErrors rather than printed.
	s.srv.Config.ErrorLog = log.New(serverLog{s}, "", 0)
	s.srv.StartTLS()
	tb.Cleanup(s.srv.Close)
	s.URL = s.srv.URL + "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
	return s
}

// Script queues replies for the next requests, one each; when the queue
// is empty the default reply (Default) answers.
func (s *Server) Script(r ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, r...)
}

// Default sets the reply used when the script is empty (at first: every
// record Correcto, DefaultWait).
func (s *Server) Default(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = r
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Sent returns the NumSerieFactura of every record received, request
// after request, in the order received.
func (s *Server) Sent() []string {
	var out []string
	for _, r := range s.Requests() {
		for _, rec := range r.Records {
			out = append(out, rec.ID.NumSerieFactura)
		}
	}
	return out
}

// Resent returns the NumSerieFactura of records (by huella) received
// more than once, in the order first received.
func (s *Server) Resent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	done := map[string]bool{}
	for _, r := range s.requests {
		for _, rec := range r.Records {
			if s.seen[rec.Huella] > 1 && !done[rec.Huella] {
				done[rec.Huella] = true
				out = append(out, rec.ID.NumSerieFactura)
			}
		}
	}
	return out
}

// Held says whether the fake holds (registered) the record of an invoice.
func (s *Server) Held(numSerie string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.held {
		// RecordKey: kind|issuer|number|date.
		if parts := strings.Split(k, "|"); len(parts) == 4 && parts[2] == numSerie {
			return true
		}
	}
	return false
}

func (s *Server) next() Reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) > 0 {
		r := s.script[0]
		s.script = s.script[1:]
		return r
	}
	return s.def
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		http.Error(w, "Content-Type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := parseRequest(body)
	if err != nil {
		s.tb.Errorf("aeattest: unreadable request: %v", err)
		fault(w, 4103, "")
		return
	}
	req.Header = r.Header.Clone()
	if len(r.TLS.PeerCertificates) > 0 {
		req.ClientSubject = r.TLS.PeerCertificates[0].Subject.String()
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.checkChain(req)
	s.mu.Unlock()

	if len(req.Records) > verifactu.MaxRecords {
		s.tb.Errorf("aeattest: %d records in one request", len(req.Records))
		fault(w, 4113, "")
		return
	}
	if s.validate != nil {
		if msg := s.xmllint(body); msg != "" {
			s.tb.Errorf("aeattest: the request does not validate against SuministroLR.xsd:\n%s", msg)
			fault(w, 4102, "")
			return
		}
	}
	// A request refused above does not use up a scripted reply.
	reply := s.next()
	switch {
	case reply.Status != 0 && reply.Status != http.StatusOK:
		http.Error(w, http.StatusText(reply.Status), reply.Status)
		return
	case reply.Fault != 0:
		fault(w, reply.Fault, "")
		return
	}
	answer := s.answer(req, reply)
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			// The client hung up: drop the connection, as a server
			// that gave up would, rather than let net/http answer an
			// empty 200.
			panic(http.ErrAbortHandler)
		}
	}
	if reply.Empty {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(answer) //nolint:errcheck // the client may have gone
}

// checkChain fails the test when a record received for the first time
// does not follow the last new record of its issuer: a record was
// skipped or sent out of order. Resent records (same huella) are not new.
func (s *Server) checkChain(req Request) {
	for _, rec := range req.Records {
		s.seen[rec.Huella]++
		if s.seen[rec.Huella] > 1 {
			continue
		}
		// The record's own huella must be what its fields give.
		if err := verifactu.VerifyChain([]verifactu.Stored{rec.Stored}, rec.Prev); err != nil {
			s.tb.Errorf("aeattest: record %s: %v", rec.ID.NumSerieFactura, err)
		}
		issuer := rec.ID.IDEmisorFactura
		last, ok := s.last[issuer]
		switch {
		case !ok && rec.Prev != nil:
			// The fake has not seen this issuer's chain from its start
			// (a test may begin mid-chain): take the record as given.
		case ok && (rec.Prev == nil || *rec.Prev != last):
			want := "nothing"
			if rec.Prev != nil {
				want = rec.Prev.NumSerieFactura
			}
			s.tb.Errorf("aeattest: record %s follows %s, but the last record received was %s: a record was skipped or sent out of order",
				rec.ID.NumSerieFactura, want, last.NumSerieFactura)
		}
		s.last[issuer] = rec.Link()
	}
}

func (s *Server) xmllint(body []byte) string {
	return lint(s.validate[0], s.validate[1], s.validate[2], s.validate[3], body)
}

// Schemas of the conformance set, for Validate.
const (
	SchemaSOAPRequest = "verifactu/local/soap11-envelope-driver-NOT-OFFICIAL.xsd" // a SOAP envelope whose body is a RegFactuSistemaFacturacion (SuministroLR.xsd)
	SchemaRequest     = "verifactu/xsd/SuministroLR.xsd"
	SchemaResponse    = "verifactu/xsd/RespuestaSuministro.xsd"
)

// Validate runs xmllint on doc against schema (a path in the conformance
// set, such as SchemaResponse) and returns its complaint, or "" when doc
// is valid. Without xmllint the test fails: a skipped check passes
// without checking anything.
func Validate(tb testing.TB, schema string, doc []byte) string {
	tb.Helper()
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		tb.Fatalf("xmllint is not installed, so the XML cannot be validated against the AEAT schemas: install it (Debian: apt-get install libxml2-utils)")
	}
	return lint(bin, conformance.Path(tb, schema), conformance.Path(tb, "verifactu/catalog.xml"), tb.TempDir(), doc)
}

func lint(bin, schema, catalog, dir string, doc []byte) string {
	f, err := os.CreateTemp(dir, "doc-*.xml")
	if err != nil {
		return err.Error()
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(doc); err != nil {
		f.Close()
		return err.Error()
	}
	f.Close()
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", schema, filepath.Clean(f.Name()))
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
	out, err := cmd.CombinedOutput()
	if err == nil && bytes.Contains(out, []byte("validates")) {
		return ""
	}
	if len(out) == 0 && err != nil {
		return err.Error()
	}
	return string(out)
}

// answer registers the records and writes the response.
func (s *Server) answer(req Request, reply Reply) []byte {
	lines := reply.Lines
	if lines == nil {
		lines = allCorrect
	}
	wait := reply.Wait
	if wait == 0 {
		wait = DefaultWait
	}
	s.mu.Lock()
	s.ids++
	idPeticion := fmt.Sprintf("2026%014d", s.ids)
	s.mu.Unlock()

	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<env:Envelope xmlns:env="` + verifactu.NamespaceSOAP + `"><env:Header/><env:Body Id="Body">` + "\n")
	b.WriteString(`<tikR:RespuestaRegFactuSistemaFacturacion xmlns:tikR="` + verifactu.NamespaceRespuestaSuministro + `" xmlns:tik="` + verifactu.NamespaceSuministroInformacion + `">` + "\n")
	var body bytes.Buffer
	good, bad := 0, 0
	for i, rec := range req.Records {
		l := lines(i, rec)
		key := verifactu.RecordKey(rec.Stored)
		s.mu.Lock()
		h, holds := s.held[key]
		s.mu.Unlock()
		// The AEAT refuses again what it holds, unless it corrects it.
		if holds && rec.Subsanacion != "S" && !l.Duplicate {
			l = Line{Duplicate: true}
		}
		if l.Estado == "" {
			l.Estado = verifactu.Correcto
		}
		if l.Duplicate {
			l.Estado, l.Code = verifactu.Incorrecto, verifactu.CodeDuplicate
			if !holds {
				h = held{id: idPeticion, estado: "Correcta"}
			}
		}
		if l.Text == "" && l.Code != 0 {
			l.Text, _ = verifactu.ErrorText(l.Code)
		}
		switch l.Estado {
		case verifactu.Correcto:
			s.hold(key, held{idPeticion, "Correcta"})
			good++
		case verifactu.AceptadoConErrores:
			s.hold(key, held{idPeticion, "AceptadaConErrores"})
			good++
		default:
			bad++
		}
		body.WriteString("<tikR:RespuestaLinea><tikR:IDFactura>")
		leaf(&body, "tik:IDEmisorFactura", rec.ID.IDEmisorFactura)
		num := rec.ID.NumSerieFactura
		if reply.Unmatched {
			num += "-X"
		}
		leaf(&body, "tik:NumSerieFactura", num)
		leaf(&body, "tik:FechaExpedicionFactura", rec.ID.FechaExpedicionFactura)
		body.WriteString("</tikR:IDFactura><tikR:Operacion>")
		leaf(&body, "tik:TipoOperacion", string(rec.Kind))
		if rec.Subsanacion != "" {
			leaf(&body, "tik:Subsanacion", rec.Subsanacion)
		}
		if rec.RechazoPrevio != "" {
			leaf(&body, "tik:RechazoPrevio", rec.RechazoPrevio)
		}
		body.WriteString("</tikR:Operacion>")
		leaf(&body, "tikR:EstadoRegistro", string(l.Estado))
		if l.Code != 0 {
			leaf(&body, "tikR:CodigoErrorRegistro", fmt.Sprint(l.Code))
			leaf(&body, "tikR:DescripcionErrorRegistro", l.Text)
		}
		if l.Duplicate {
			body.WriteString("<tikR:RegistroDuplicado>")
			leaf(&body, "tik:IdPeticionRegistroDuplicado", h.id)
			leaf(&body, "tik:EstadoRegistroDuplicado", h.estado)
			body.WriteString("</tikR:RegistroDuplicado>")
		}
		body.WriteString("</tikR:RespuestaLinea>\n")
	}
	estado := verifactu.EnvioCorrecto
	switch {
	case good == 0:
		estado = verifactu.EnvioIncorrecto
	case bad > 0:
		estado = verifactu.EnvioParcialmenteCorrecto
	}
	if estado != verifactu.EnvioIncorrecto {
		csv := make([]byte, 8)
		rand.Read(csv) //nolint:errcheck // crypto/rand does not fail
		leaf(&b, "tikR:CSV", strings.ToUpper(hex.EncodeToString(csv)))
		b.WriteString("<tikR:DatosPresentacion>")
		leaf(&b, "tik:NIFPresentador", req.Cabecera.ObligadoEmision.NIF)
		leaf(&b, "tik:TimestampPresentacion", time.Now().Format(time.RFC3339))
		b.WriteString("</tikR:DatosPresentacion>")
	}
	b.WriteString("<tikR:Cabecera><tik:ObligadoEmision>")
	leaf(&b, "tik:NombreRazon", req.Cabecera.ObligadoEmision.NombreRazon)
	leaf(&b, "tik:NIF", req.Cabecera.ObligadoEmision.NIF)
	b.WriteString("</tik:ObligadoEmision>")
	if p := req.Cabecera.Representante; p != nil {
		b.WriteString("<tik:Representante>")
		leaf(&b, "tik:NombreRazon", p.NombreRazon)
		leaf(&b, "tik:NIF", p.NIF)
		b.WriteString("</tik:Representante>")
	}
	b.WriteString("</tikR:Cabecera>\n")
	leaf(&b, "tikR:TiempoEsperaEnvio", fmt.Sprint(int(wait/time.Second)))
	leaf(&b, "tikR:EstadoEnvio", string(estado))
	b.Write(body.Bytes())
	b.WriteString("</tikR:RespuestaRegFactuSistemaFacturacion>\n</env:Body></env:Envelope>\n")
	return b.Bytes()
}

func (s *Server) hold(key string, h held) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[key] = h
}

func leaf(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(value)) //nolint:errcheck // a bytes.Buffer does not fail
	b.WriteString("</" + name + ">")
}

// fault answers a SOAP 1.1 fault with HTTP 500, the AEAT code first.
func fault(w http.ResponseWriter, code int, text string) {
	if text == "" {
		text, _ = verifactu.ErrorText(code)
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<env:Envelope xmlns:env="` + verifactu.NamespaceSOAP + `"><env:Body><env:Fault><faultcode>env:Client</faultcode><faultstring>`)
	xml.EscapeText(&b, []byte(fmt.Sprintf("Codigo[%d].%s", code, text))) //nolint:errcheck
	b.WriteString("</faultstring></env:Fault></env:Body></env:Envelope>\n")
	w.Write(b.Bytes()) //nolint:errcheck
}
