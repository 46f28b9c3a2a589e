package inbound

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimPrefix(s, "\n"), "\n", "\r\n"))
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name                              string
		raw                               []byte
		err                               error
		addr, fromName, subject, id, text string
		attachments                       []string
	}{
		{
			name: "plain utf-8",
			raw: crlf(`
From: Ana García <Ana.Garcia@Example.ES>
To: leads+abc@pulso.test
Subject: Presupuesto para 20 puestos
Message-ID: <abc123@example.es>
Content-Type: text/plain; charset=utf-8

Hola, ¿nos envían un presupuesto?
`),
			addr: "ana.garcia@example.es", fromName: "Ana García", subject: "Presupuesto para 20 puestos", id: "abc123@example.es",
			text: "Hola, ¿nos envían un presupuesto?",
		},
		{
			name: "encoded words, quoted-printable, latin-1",
			raw: crlf(`
From: =?ISO-8859-1?Q?Jos=E9_Mu=F1oz?= <jose@example.es>
Subject: =?UTF-8?B?wr9QcmVjaW8gZGUgbGEgb2ZlcnRhPw==?=
Content-Type: text/plain; charset=ISO-8859-1
Content-Transfer-Encoding: quoted-printable

Buenos d=EDas, me interesa la oferta de ma=F1ana.
`),
			addr: "jose@example.es", fromName: "José Muñoz", subject: "¿Precio de la oferta?",
			text: "Buenos días, me interesa la oferta de mañana.",
		},
		{
			name: "windows-1252 base64",
			raw: crlf(`
From: compras@example.mx
Subject: Cotizacion
Content-Type: text/plain; charset=windows-1252
Content-Transfer-Encoding: base64

k0NvdGl6YWNp824gdXJnZW50ZZQgo4DpIGluY2x1aWRvcw==
`),
			addr: "compras@example.mx", subject: "Cotizacion", text: "“Cotización urgente” £€é incluidos",
		},
		{
			name: "alternative prefers plain",
			raw: crlf(`
From: Luis <luis@example.ar>
Subject: Hola
Content-Type: multipart/alternative; boundary=XX

--XX
Content-Type: text/html; charset=utf-8

<p>Versión <b>HTML</b></p>
--XX
Content-Type: text/plain; charset=utf-8

Versión texto
--XX--
`),
			addr: "luis@example.ar", fromName: "Luis", subject: "Hola", text: "Versión texto",
		},
		{
			name: "html only is stripped",
			raw: crlf(`
From: web@example.es
Subject: Formulario
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><p>Nombre: Eva &amp; Cía</p><p>Tel: 600&nbsp;000&nbsp;000</p></body></html>
`),
			addr: "web@example.es", subject: "Formulario", text: "Nombre: Eva & Cía\n\nTel: 600 000 000",
		},
		{
			name: "mixed with attachment",
			raw: crlf(`
From: ana@example.es
Subject: Pliego
Content-Type: multipart/mixed; boundary=B

--B
Content-Type: multipart/alternative; boundary=C

--C
Content-Type: text/plain; charset=utf-8

Adjunto el pliego.
--C
Content-Type: text/html; charset=utf-8

<p>Adjunto el pliego.</p>
--C--
--B
Content-Type: application/pdf; name="pliego.pdf"
Content-Disposition: attachment; filename="=?UTF-8?Q?pliego_t=C3=A9cnico.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQKJSVFT0YK
--B--
`),
			addr: "ana@example.es", subject: "Pliego", text: "Adjunto el pliego.", attachments: []string{"pliego técnico.pdf"},
		},
		{
			name: "embedded signature image is not an attachment",
			raw: crlf(`
From: ana@example.es
Subject: Firma
Content-Type: multipart/related; boundary=R

--R
Content-Type: text/html; charset=utf-8

<p>Hola</p><img src="cid:logo">
--R
Content-Type: image/png; name="logo.png"
Content-ID: <logo>
Content-Disposition: inline; filename="logo.png"
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--R--
`),
			addr: "ana@example.es", subject: "Firma", text: "Hola",
		},
		{name: "no from", raw: crlf("\nSubject: hola\n\ncuerpo\n"), err: ErrNoFrom},
		{name: "from not an address", raw: crlf("\nFrom: nadie\nSubject: hola\n\ncuerpo\n"), err: ErrNoFrom},
		{name: "empty", raw: []byte("  \r\n"), err: ErrEmpty},
		{name: "garbage", raw: []byte("\x00\x01\x02 not a message"), err: ErrMalformed},
		{name: "too large", raw: append(crlf("\nFrom: a@example.es\n\n"), make([]byte, 2000)...), err: ErrTooLarge},
		{
			name: "unknown charset keeps the bytes as valid UTF-8",
			raw: crlf(`
From: a@example.es
Subject: x
Content-Type: text/plain; charset=x-klingon

caf` + "\xe9" + `
`),
			addr: "a@example.es", subject: "x", text: "caf\uFFFD",
		},
		{
			name: "NUL bytes are dropped",
			raw:  []byte("From: a@example.es\r\nSubject: a\x00b\r\n\r\nhola\x00mundo\r\n"),
			addr: "a@example.es", subject: "ab", text: "holamundo",
		},
		{
			name: "broken multipart",
			raw:  crlf("\nFrom: a@example.es\nContent-Type: multipart/mixed\n\n--\n"),
			err:  ErrMalformed,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw, 1024)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if m.FromAddr != tt.addr || m.FromName != tt.fromName || m.Subject != tt.subject || m.MessageID != tt.id || m.Text != tt.text {
				t.Errorf("got from %q %q subject %q id %q text %q", m.FromAddr, m.FromName, m.Subject, m.MessageID, m.Text)
			}
			var names []string
			for _, a := range m.Attachments {
				names = append(names, a.Filename)
			}
			if strings.Join(names, "|") != strings.Join(tt.attachments, "|") {
				t.Errorf("attachments %q, want %q", names, tt.attachments)
			}
		})
	}
}

func TestHeaderMessageID(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"Message-ID: <a.b@c>\r\nFrom: x@y.es\r\n\r\nbody": "a.b@c",
		"Message-Id:   <x@y>  \r\n\r\n":                   "x@y",
		"From: x@y.es\r\n\r\n":                            "",
		"Message-ID: <has space@x>\r\n\r\n":               "",
		"no header at all":                                "",
	} {
		if got := HeaderMessageID([]byte(raw)); got != want {
			t.Errorf("HeaderMessageID(%q) = %q, want %q", raw, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(crlf("\nFrom: Ana <ana@example.es>\nSubject: =?UTF-8?Q?hola?=\nMessage-ID: <x@y>\n\nhola\n"))
	f.Add(crlf("\nFrom: a@example.es\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/html\n\n<p>x</p>\n--B\nContent-Disposition: attachment; filename=a.pdf\nContent-Transfer-Encoding: base64\n\nJVBERg==\n--B--\n"))
	f.Add([]byte("From: =?ISO-8859-1?Q?Jos=E9?= <j@x.es>\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9=\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, 1<<16)
		if err != nil {
			if _, ok := IsRejection(err); !ok {
				t.Fatalf("error %v is not a rejection", err)
			}
			return
		}
		for _, s := range []string{m.FromAddr, m.FromName, m.Subject, m.Text, m.MessageID} {
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
				t.Fatalf("unsafe text %q", s)
			}
		}
		if m.FromAddr == "" {
			t.Fatal("accepted without a sender")
		}
		for _, a := range m.Attachments {
			if a.Filename == "" || !utf8.ValidString(a.Filename) {
				t.Fatalf("attachment name %q", a.Filename)
			}
		}
	})
}
