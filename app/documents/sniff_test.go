package documents

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	odt := append(append([]byte("PK\x03\x04"), make([]byte, 26)...), []byte("mimetypeapplication/vnd.oasis.opendocument.text")...)
	odtTemplate := append(append([]byte("PK\x03\x04"), make([]byte, 26)...), []byte("mimetypeapplication/vnd.oasis.opendocument.text-template")...)
	docx := append(append([]byte("PK\x03\x04"), make([]byte, 26)...), []byte("[Content_Types].xml....PK\x03\x04 word/document.xml")...)
	xlsx := append(append([]byte("PK\x03\x04"), make([]byte, 26)...), []byte("[Content_Types].xml....xl/workbook.xml")...)
	zip := append(append([]byte("PK\x03\x04"), make([]byte, 26)...), []byte("setup.exe")...)
	for _, tt := range []struct {
		name string
		head []byte
		want string
		err  error
	}{
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n1 0 obj"), "application/pdf", nil},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png", nil},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), "image/jpeg", nil},
		{"gif", []byte("GIF89a\x01\x00"), "image/gif", nil},
		{"plain text", []byte("Hola, esto es una nota.\n"), "text/plain", nil},
		{"utf-8 csv", []byte("nombre;importe\nAñón;12,50\n"), "text/plain", nil},
		{"legacy office", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), typeOLE, nil},
		{"odt", odt, "application/vnd.oasis.opendocument.text", nil},
		{"odt template is not odt", odtTemplate, "", ErrTypeNotAllowed},
		{"docx", docx, typeDocx, nil},
		{"xlsx", xlsx, typeXlsx, nil},
		{"plain zip", zip, "", ErrTypeNotAllowed},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00"), "", ErrExecutable},
		{"windows exe", []byte("MZ\x90\x00\x03\x00"), "", ErrExecutable},
		{"mach-o", []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}, "", ErrExecutable},
		{"script", []byte("#!/bin/sh\nrm -rf /\n"), "", ErrExecutable},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "", ErrTypeNotAllowed},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"></svg>`), "", ErrTypeNotAllowed},
		{"binary junk", []byte{0x00, 0x01, 0x02, 0x03, 0xfe}, "", ErrTypeNotAllowed},
		{"empty", nil, "", ErrEmpty},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("Sniff = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzSniff(f *testing.F) {
	for _, s := range []string{"%PDF-1.4", "\x89PNG\r\n\x1a\n", "\x7fELF", "PK\x03\x04", "hola", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		ct, err := Sniff(head)
		if err == nil && !allowed[ct] {
			t.Fatalf("Sniff returned %q, which is not allowed", ct)
		}
		if err != nil {
			if _, ok := IsRejection(err); !ok || ct != "" {
				t.Fatalf("Sniff error %v (type %q) is not a rejection", err, ct)
			}
		}
	})
}

func TestSafeFilename(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"oferta.pdf", "oferta.pdf"},
		{"Presupuesto Año 2026.docx", "Presupuesto Año 2026.docx"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ana\factura.pdf`, "factura.pdf"},
		{"a\"b;c.pdf", "abc.pdf"},
		{"tab\there.txt", "tab here.txt"},
		{"nul\x00byte.txt", "nulbyte.txt"},
		{"\xff\xfebad.txt", "bad.txt"},
		{".htaccess", "htaccess"},
		{"", "documento"},
		{"...", "documento"},
		{"/", "documento"},
		{strings.Repeat("ñ", 200) + ".pdf", strings.Repeat("ñ", 127)},
	} {
		if got := SafeFilename(tt.in); got != tt.want {
			t.Errorf("SafeFilename(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzSafeFilename(f *testing.F) {
	for _, s := range []string{"a.pdf", "../x", "\x00", "ñ.txt", `a\b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := SafeFilename(in)
		if out == "" || len(out) > 255 || !utf8.ValidString(out) || strings.ContainsAny(out, "/\\\"\x00\r\n;") {
			t.Fatalf("SafeFilename(%q) = %q", in, out)
		}
		if d := ContentDisposition(out); strings.ContainsAny(d, "\r\n") || bytes.Count([]byte(d), []byte(`"`)) != 2 {
			t.Fatalf("header %q", d)
		}
	})
}
