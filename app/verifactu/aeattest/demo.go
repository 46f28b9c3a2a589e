package aeattest

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"pulso/app/verifactu"
)

// RejectOnce answers Incorrecto with code to the record of invoice
// numSerie (an alta or an anulación) unless it is a resubmission
// (Subsanacion = S or RechazoPrevio = S), and Correcto to every other: so
// the first submission of that invoice is rejected and its corrected
// resubmission accepted, as the demo shows.
func RejectOnce(numSerie string, code int) func(int, Record) Line {
	return func(_ int, r Record) Line {
		if r.ID.NumSerieFactura == numSerie && r.Subsanacion != "S" && r.RechazoPrevio != "S" {
			return Rejected(code)
		}
		return Correct()
	}
}

// RejectMarked is RejectOnce for every record whose XML contains marker
// (a word in DescripcionOperacion, say).
func RejectMarked(marker string, code int) func(int, Record) Line {
	return func(_ int, r Record) Line {
		if bytes.Contains(r.XML, []byte(marker)) && r.Subsanacion != "S" && r.RechazoPrevio != "S" {
			return Rejected(code)
		}
		return Correct()
	}
}

// DemoRejection is the code the demo's fake AEAT rejects its chosen record
// with: "El NIF no está identificado en el censo de la AEAT", which a
// resubmission clears once the census knows the NIF.
const DemoRejection = 1109

// DemoWait is the TiempoEsperaEnvio of the demo's fake AEAT: shorter than
// the real service's 60 seconds, so a correction shows within moments.
const DemoWait = 10 * time.Second

// Demo is a fake AEAT running inside `pulso dev`: the sender posts to URL
// trusting RootCAs, with the client certificate P12 (password Password)
// the demo org stores.
type Demo struct {
	Server   *Server
	URL      string
	RootCAs  *x509.CertPool
	P12      []byte
	Password string
	tb       *logTB
}

// Close stops the fake and removes its files.
func (d *Demo) Close() { d.tb.close() }

// StartDemo starts the fake AEAT for the demo: every record Correcto with
// DemoWait between requests, except the first submission of invoice
// rejectNumSerie ("" none), rejected with DemoRejection. The client
// certificate names issuer (CN "<name> - <NIF>", serialNumber
// IDCES-<NIF>), valid for a year. What a test would fail on is logged.
func StartDemo(log *slog.Logger, issuer verifactu.PersonaES, rejectNumSerie string) (d *Demo, err error) {
	tb := &logTB{log: log}
	defer func() {
		// The fake's setup fails only on what cannot happen (key
		// generation, a listener): it panics for a test's Fatal.
		if r := recover(); r != nil {
			tb.close()
			d, err = nil, fmt.Errorf("aeattest: demo: %v", r)
		}
	}()
	srv := New(tb, Options{})
	srv.Default(Reply{Wait: DemoWait, Lines: RejectOnce(rejectNumSerie, DemoRejection)})
	pw := "demo-aeat"
	p12 := srv.ClientCA.ClientPKCS12(tb, Client{Name: issuer.NombreRazon + " - " + issuer.NIF, NIF: issuer.NIF, RSA: true}, pw)
	return &Demo{Server: srv, URL: srv.URL, RootCAs: srv.CA.Pool, P12: p12, Password: pw, tb: tb}, nil
}

// Certificate is a client certificate of the demo's fake for another
// issuer (the demo's other Spanish orgs), under the demo's Password.
func (d *Demo) Certificate(issuer verifactu.PersonaES) (p12 []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // logTB's Fatal: see StartDemo
			p12, err = nil, fmt.Errorf("aeattest: demo certificate: %v", r)
		}
	}()
	return d.Server.ClientCA.ClientPKCS12(d.tb, Client{Name: issuer.NombreRazon + " - " + issuer.NIF, NIF: issuer.NIF, RSA: true}, d.Password), nil
}

// logTB runs the fake outside a test: errors are logged, fatal ones panic
// (StartDemo turns them into its error), clean-ups run on Close.
type logTB struct {
	log      *slog.Logger
	mu       sync.Mutex
	cleanups []func()
	dirs     []string
}

func (l *logTB) Helper() {}

func (l *logTB) Errorf(format string, args ...any) {
	l.log.Warn("fake AEAT: " + fmt.Sprintf(format, args...))
}

func (l *logTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

func (l *logTB) Fatal(args ...any) { panic(fmt.Sprint(args...)) }

func (l *logTB) Cleanup(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cleanups = append(l.cleanups, f)
}

func (l *logTB) TempDir() string {
	dir, err := os.MkdirTemp("", "pulso-aeattest-")
	if err != nil {
		panic(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dirs = append(l.dirs, dir)
	return dir
}

func (l *logTB) close() {
	l.mu.Lock()
	fs, dirs := l.cleanups, l.dirs
	l.cleanups, l.dirs = nil, nil
	l.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	for _, d := range dirs {
		os.RemoveAll(d)
	}
}
