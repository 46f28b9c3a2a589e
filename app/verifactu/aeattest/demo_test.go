package aeattest_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"pulso/app/verifactu"
	"pulso/app/verifactu/aeat"
	"pulso/app/verifactu/aeattest"
)

// The demo's fake runs without a test: its certificate is accepted, the
// chosen invoice's first record is rejected with DemoRejection and its
// resubmission (Subsanacion = S, RechazoPrevio = S) accepted.
func TestDemoRejectsOnceThenAccepts(t *testing.T) {
	d, err := aeattest.StartDemo(slog.New(slog.NewTextHandler(io.Discard, nil)), aeattest.Issuer, "F2026-00002")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cert, err := aeat.LoadCertificate(d.P12, d.Password, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject() != aeattest.Issuer.NombreRazon+" - "+aeattest.Issuer.NIF {
		t.Errorf("subject %q", cert.Subject())
	}
	c := aeat.NewClient(verifactu.Test, cert, aeat.Options{Endpoint: d.URL, RootCAs: d.RootCAs})
	defer c.Close()
	recs, last := aeattest.Chain(t, nil, 1, 3)
	req, err := verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: aeattest.Issuer}, recs)
	if err != nil {
		t.Fatal(err)
	}
	// The demo's fake does not validate (it runs outside tests, without
	// the conformance set): the test does.
	if msg := aeattest.Validate(t, aeattest.SchemaRequest, req); msg != "" {
		t.Fatalf("request: %s", msg)
	}
	res := c.Send(context.Background(), req)
	if res.Outcome != aeat.Answered || res.Response.TiempoEsperaEnvio != aeattest.DemoWait {
		t.Fatalf("%v %v", res.Outcome, res.Err)
	}
	var got []string
	for _, l := range res.Response.Lines {
		got = append(got, string(l.EstadoRegistro))
	}
	if got[0] != "Correcto" || got[1] != "Incorrecto" || got[2] != "Correcto" || res.Response.Lines[1].CodigoErrorRegistro != aeattest.DemoRejection {
		t.Errorf("answers %v", got)
	}
	fix := aeattest.Subsanacion(t, last, 2, true)
	req, err = verifactu.BuildRequest(verifactu.Cabecera{ObligadoEmision: aeattest.Issuer}, [][]byte{fix})
	if err != nil {
		t.Fatal(err)
	}
	if msg := aeattest.Validate(t, aeattest.SchemaRequest, req); msg != "" {
		t.Fatalf("resubmission: %s", msg)
	}
	res = c.Send(context.Background(), req)
	if res.Outcome != aeat.Answered || res.Response.Lines[0].EstadoRegistro != verifactu.Correcto {
		t.Errorf("resubmission: %v %+v", res.Outcome, res.Response)
	}
}
