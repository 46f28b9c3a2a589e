package senderauth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"pulso/app/inbound/senderauth"
	"pulso/app/inbound/senderauth/dnstest"
)

// rsaKey is generated once: a real 2048-bit key, as senders publish.
var rsaKey = func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}()

func message(from, body string) []byte {
	return []byte("From: " + from + "\r\nTo: leads+x@pulso.test\r\nSubject: Pedido\r\nMessage-ID: <1@cliente.es>\r\n\r\n" + body + "\r\n")
}

func sign(t *testing.T, raw []byte, domain string) []byte {
	t.Helper()
	var out bytes.Buffer
	err := dkim.Sign(&out, bytes.NewReader(raw), &dkim.SignOptions{
		Domain: domain, Selector: "s1", Signer: rsaKey,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// zone is cliente.es as a careful business publishes it: SPF for its
// server, a DKIM key, DMARC p=reject.
func zone() *dnstest.Zone {
	z := dnstest.New()
	z.TXT("cliente.es", "v=spf1 ip4:192.0.2.10 -all")
	z.DKIM("cliente.es", "s1", rsaKey.Public())
	z.TXT("_dmarc.cliente.es", "v=DMARC1; p=reject")
	return z
}

var (
	clienteServer = senderauth.Envelope{IP: net.ParseIP("192.0.2.10"), HELO: "mail.cliente.es", MailFrom: "ana@cliente.es"}
	stranger      = senderauth.Envelope{IP: net.ParseIP("203.0.113.66"), HELO: "spam.example.net", MailFrom: "ana@cliente.es"}
)

func TestCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	signed := sign(t, message("Ana <ana@cliente.es>", "Hola"), "cliente.es")
	for _, tt := range []struct {
		name     string
		zone     func(*dnstest.Zone)
		raw      []byte
		env      senderauth.Envelope
		verified bool
		want     string // in the Authentication-Results
		temp     bool
	}{
		{name: "signed, from its own server", raw: signed, env: clienteServer, verified: true, want: "spf=pass smtp.mailfrom=cliente.es; dkim=pass header.d=cliente.es; dmarc=pass (p=reject) header.from=cliente.es"},
		{name: "signed, relayed by a stranger (SPF fails, DKIM holds)", raw: signed, env: stranger, verified: true, want: "spf=fail"},
		{name: "signed, uploaded: no envelope", raw: signed, verified: true, want: "spf=none; dkim=pass"},
		{name: "body changed after signing", raw: bytes.Replace(signed, []byte("Hola"), []byte("Pague a ES00"), 1), env: stranger, want: "dkim=fail header.d=cliente.es; dmarc=fail (p=reject)"},
		{name: "unsigned from a stranger", raw: message("ana@cliente.es", "x"), env: stranger, want: "spf=fail smtp.mailfrom=cliente.es; dkim=none; dmarc=fail (p=reject)"},
		{name: "unsigned from its own server", raw: message("ana@cliente.es", "x"), env: clienteServer, verified: true, want: "spf=pass"},
		{name: "SPF of another domain does not vouch for the From", raw: message("ana@cliente.es", "x"),
			env:  senderauth.Envelope{IP: net.ParseIP("192.0.2.99"), HELO: "x", MailFrom: "bounce@atacante.es"},
			zone: func(z *dnstest.Zone) { z.TXT("atacante.es", "v=spf1 ip4:192.0.2.99 -all") }, want: "spf=pass smtp.mailfrom=atacante.es; dkim=none; dmarc=fail"},
		{name: "signed by another domain", raw: sign(t, message("ana@cliente.es", "x"), "atacante.es"), env: stranger,
			zone: func(z *dnstest.Zone) { z.DKIM("atacante.es", "s1", rsaKey.Public()) }, want: "dkim=pass header.d=atacante.es; dmarc=fail"},
		{name: "subdomain signature, relaxed alignment", raw: sign(t, message("ana@cliente.es", "x"), "mail.cliente.es"), env: stranger,
			zone: func(z *dnstest.Zone) { z.DKIM("mail.cliente.es", "s1", rsaKey.Public()) }, verified: true, want: "dmarc=pass"},
		{name: "subdomain signature, strict alignment", raw: sign(t, message("ana@tienda.es", "x"), "mail.tienda.es"), env: stranger,
			zone: func(z *dnstest.Zone) {
				z.DKIM("mail.tienda.es", "s1", rsaKey.Public())
				z.TXT("_dmarc.tienda.es", "v=DMARC1; p=quarantine; adkim=s")
			}, want: "dkim=pass header.d=mail.tienda.es; dmarc=fail (p=quarantine) header.from=tienda.es"},
		{name: "no DMARC record: an aligned pass still counts", raw: sign(t, message("eva@nueva.es", "x"), "nueva.es"), env: stranger,
			zone: func(z *dnstest.Zone) { z.DKIM("nueva.es", "s1", rsaKey.Public()) }, verified: true, want: "dmarc=none header.from=nueva.es"},
		{name: "no DMARC, no SPF, no DKIM: nothing proven", raw: message("eva@nueva.es", "x"), env: stranger, want: "dkim=none; dmarc=none header.from=nueva.es"},
		{name: "a subdomain falls back to the organisational record", raw: message("ana@ventas.cliente.es", "x"), env: stranger, want: "dmarc=fail (p=reject) header.from=ventas.cliente.es"},
		{name: "two From fields", raw: append([]byte("From: ceo@cliente.es\r\n"), signed...), env: clienteServer, want: "dmarc=permerror"},
		{name: "two addresses in From", raw: sign(t, message("ana@cliente.es, ceo@cliente.es", "x"), "cliente.es"), env: clienteServer, want: "dmarc=permerror"},
		{name: "no From", raw: []byte("Subject: x\r\n\r\nx\r\n"), env: clienteServer, want: "dmarc=permerror"},
		{name: "garbage", raw: []byte("\x00\xff not a message"), env: stranger, want: "dmarc=permerror"},
		{name: "DMARC lookup fails for now", raw: message("ana@cliente.es", "x"), env: stranger,
			zone: func(z *dnstest.Zone) { z.Break("_dmarc.cliente.es") }, want: "dmarc=temperror", temp: true},
		{name: "DKIM key lookup fails for now", raw: signed, env: stranger,
			zone: func(z *dnstest.Zone) { z.Break("s1._domainkey.cliente.es") }, want: "dkim=temperror", temp: true},
		{name: "a verified message is final even when something else failed", raw: signed, env: clienteServer,
			zone: func(z *dnstest.Zone) { z.Break("s1._domainkey.cliente.es") }, verified: true, want: "spf=pass"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			z := zone()
			if tt.zone != nil {
				tt.zone(z)
			}
			res := senderauth.Check(ctx, z, tt.raw, tt.env)
			ar := res.String("pulso.test")
			if res.Verified != tt.verified || !strings.Contains(ar, tt.want) || res.Temporary() != tt.temp {
				t.Errorf("verified %v, temporary %v, %q; want verified %v, temporary %v, containing %q", res.Verified, res.Temporary(), ar, tt.verified, tt.temp, tt.want)
			}
			if !strings.HasPrefix(ar, "pulso.test;") {
				t.Errorf("results %q do not name the host that checked", ar)
			}
		})
	}
}

// The production resolver answers the names real DNS never has at once,
// so test and example domains cost no lookup.
func TestSystemSkipsSpecialUseNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"_dmarc.cliente.test", "s1._domainkey.x.example", "a.invalid", "localhost"} {
		_, err := senderauth.System.LookupTXT(context.Background(), name)
		var de *net.DNSError
		if !errorsAs(err, &de) || !de.IsNotFound {
			t.Errorf("%s: %v, want NXDOMAIN", name, err)
		}
	}
}

func errorsAs(err error, de **net.DNSError) bool {
	d, ok := err.(*net.DNSError)
	*de = d
	return ok
}

func FuzzCheck(f *testing.F) {
	f.Add(message("ana@cliente.es", "x"))
	f.Add([]byte("From: a@b.es\r\nDKIM-Signature: v=1; a=rsa-sha256; d=b.es; s=s; h=from; bh=x; b=y\r\n\r\n"))
	z := zone()
	f.Fuzz(func(t *testing.T, raw []byte) {
		res := senderauth.Check(context.Background(), z, raw, stranger)
		if res.Verified {
			t.Fatalf("an unsigned message from a stranger was verified: %s", res.String("h"))
		}
	})
}
