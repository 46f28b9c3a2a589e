package sheet

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

func readAll(t testing.TB, r Reader) ([]int, [][]string, error) {
	t.Helper()
	var lines []int
	var rows [][]string
	for {
		line, cells, err := r.Next()
		if errors.Is(err, io.EOF) {
			return lines, rows, nil
		}
		if err != nil {
			return lines, rows, err
		}
		lines = append(lines, line)
		rows = append(rows, slices.Clone(cells))
	}
}

func TestCSV(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, charset string
		wantCharset       string
		wantDelim         rune
		want              [][]string
		wantLines         []int
		wantErr           string
	}{
		{name: "comma utf-8", in: "nombre,email\nAcme,a@b.es\n", wantCharset: "utf-8", wantDelim: ',',
			want: [][]string{{"nombre", "email"}, {"Acme", "a@b.es"}}, wantLines: []int{1, 2}},
		{name: "semicolon with BOM", in: "\xEF\xBB\xBFnombre;email\nNúñez;n@b.es\n", wantCharset: "utf-8", wantDelim: ';',
			want: [][]string{{"nombre", "email"}, {"Núñez", "n@b.es"}}},
		{name: "tab", in: "a\tb\n1\t2", wantCharset: "utf-8", wantDelim: '\t', want: [][]string{{"a", "b"}, {"1", "2"}}},
		{name: "windows-1252 detected", in: "nombre;ciudad\nN\xfa\xf1ez;M\xe1laga \x80\n", wantCharset: "windows-1252", wantDelim: ';',
			want: [][]string{{"nombre", "ciudad"}, {"Núñez", "Málaga €"}}},
		{name: "iso-8859-1 chosen", in: "n\nN\xfa\xf1ez\n", charset: "iso-8859-1", wantCharset: "iso-8859-1", wantDelim: ',',
			want: [][]string{{"n"}, {"Núñez"}}},
		{name: "utf-8 chosen but latin-1", in: "n\nN\xfa\xf1ez\n", charset: "utf-8", wantErr: ErrEncoding},
		{name: "quoted delimiter and newline", in: "a,b\n\"x, y\",\"two\nlines\"\nlast,1\n", wantCharset: "utf-8", wantDelim: ',',
			want: [][]string{{"a", "b"}, {"x, y", "two\nlines"}, {"last", "1"}}, wantLines: []int{1, 2, 4}},
		{name: "ragged rows", in: "a,b,c\n1\n1,2,3,4\n", wantCharset: "utf-8", wantDelim: ',',
			want: [][]string{{"a", "b", "c"}, {"1"}, {"1", "2", "3", "4"}}},
		{name: "CRLF and spaces trimmed", in: "a ; b\r\n 1 ; 2 \r\n", wantCharset: "utf-8", wantDelim: ';',
			want: [][]string{{"a", "b"}, {"1", "2"}}},
		{name: "empty", in: "", wantCharset: "utf-8", wantDelim: ','},
		{name: "NUL bytes", in: "a\nb\x00c\n", wantErr: ErrEncoding},
		{name: "unknown charset", in: "a\n", charset: "ebcdic", wantErr: ErrEncoding},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewCSV(strings.NewReader(tc.in), int64(len(tc.in)), tc.charset)
			if err == nil {
				var lines []int
				var rows [][]string
				lines, rows, err = readAll(t, r)
				if err == nil {
					if r.Charset() != tc.wantCharset || r.Delimiter() != tc.wantDelim {
						t.Errorf("charset %q delim %q, want %q %q", r.Charset(), r.Delimiter(), tc.wantCharset, tc.wantDelim)
					}
					if len(rows) != len(tc.want) || (len(rows) > 0 && !slices.EqualFunc(rows, tc.want, slices.Equal)) {
						t.Errorf("rows %q, want %q", rows, tc.want)
					}
					if tc.wantLines != nil && !slices.Equal(lines, tc.wantLines) {
						t.Errorf("lines %v, want %v", lines, tc.wantLines)
					}
					if len(tc.in) > 0 && r.Progress() != 1 {
						t.Errorf("progress %v at the end", r.Progress())
					}
				}
			}
			var fe *Error
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (!errors.As(err, &fe) || fe.MessageID != tc.wantErr):
				t.Fatalf("error %v, want %s", err, tc.wantErr)
			}
		})
	}
}

func TestCSVLongLine(t *testing.T) {
	t.Parallel()
	in := "a,b\n1,2\n" + strings.Repeat("x", 5<<20) + "\n"
	r, err := NewCSV(strings.NewReader(in), int64(len(in)), "")
	if err != nil {
		t.Fatal(err)
	}
	lines, _, err := readAll(t, r)
	var fe *Error
	if !errors.As(err, &fe) || fe.MessageID != ErrLineTooLong {
		t.Fatalf("got %v after lines %v, want %s", err, lines, ErrLineTooLong)
	}
	if fe.Line != 3 {
		t.Errorf("line %d, want 3", fe.Line)
	}
}

func TestEncodingErrorNamesLine(t *testing.T) {
	t.Parallel()
	// UTF-8 in the first 64 KB, a stray Latin-1 byte far below: the import
	// stops and says where.
	in := "a\n" + strings.Repeat("fila\n", 20000) + "N\xfa\xf1ez\n"
	r, _ := NewCSV(strings.NewReader(in), int64(len(in)), "")
	_, _, err := readAll(t, r)
	var fe *Error
	if !errors.As(err, &fe) || fe.MessageID != ErrEncoding || fe.Line != 20002 {
		t.Fatalf("got %v, want %s at line 20002", err, ErrEncoding)
	}
}

func writeXLSX(t testing.TB, rows [][]any, formula string) string {
	t.Helper()
	f := excelize.NewFile()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	if formula != "" {
		if err := f.SetCellFormula("Sheet1", "C2", formula); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "f.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestXLSX(t *testing.T) {
	t.Parallel()
	path := writeXLSX(t, [][]any{{"Nombre", "Email", "Total"}, {"Acme", "a@b.es", 12.5}, {}, {" Beta ", "", 3}}, "A1&B1")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(bytes.NewReader(data), int64(len(data)), "xlsx", "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	lines, rows, err := readAll(t, r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lines, []int{1, 2, 3, 4}) {
		t.Errorf("lines %v", lines)
	}
	// A formula cell reads as its cached value, what the user saw, never
	// the formula text.
	want := [][]string{{"Nombre", "Email", "Total"}, {"Acme", "a@b.es", "12.5"}, nil, {"Beta", "", "3"}}
	if len(rows) != 4 || !slices.Equal(rows[0], want[0]) || !slices.Equal(rows[1], want[1]) || !Blank(rows[2]) || !slices.Equal(rows[3], want[3]) {
		t.Errorf("rows %q, want %q", rows, want)
	}
	if r.Progress() != 1 {
		t.Errorf("progress %v", r.Progress())
	}
}

func TestXLSXBroken(t *testing.T) {
	t.Parallel()
	path := writeXLSX(t, [][]any{{"a"}, {"b"}}, "")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{10, len(data) / 2, len(data) - 30} {
		r, err := Open(bytes.NewReader(data[:cut]), int64(cut), "xlsx", "")
		if err == nil {
			_, _, err = readAll(t, r)
			r.Close()
		}
		var fe *Error
		if !errors.As(err, &fe) || fe.MessageID != ErrBadXLSX {
			t.Errorf("cut at %d: %v, want %s", cut, err, ErrBadXLSX)
		}
	}
}

// An XLSX is spooled to a temporary file for excelize, which is gone once
// the workbook is open. (t.Setenv: not parallel.)
func TestXLSXLeavesNoTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data, err := os.ReadFile(writeXLSX(t, [][]any{{"Nombre"}, {"Acme"}}, ""))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(bytes.NewReader(data), int64(len(data)), "xlsx", "")
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files while open: %v", left)
	}
	if _, _, err := readAll(t, r); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestFormat(t *testing.T) {
	t.Parallel()
	if Format([]byte("PK\x03\x04rest")) != "xlsx" || Format([]byte("a,b")) != "csv" || Format(nil) != "csv" {
		t.Error("format sniffing")
	}
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "\xEF\xBB\xBFa;b\n\"x;\"\"y\";z", "a\tb\r\n\xfa\n", "\"unterminated\n", ""} {
		f.Add([]byte(s), "")
		f.Add([]byte(s), "utf-8")
	}
	f.Fuzz(func(t *testing.T, data []byte, charset string) {
		r, err := NewCSV(bytes.NewReader(data), int64(len(data)), charset)
		if err != nil {
			return
		}
		for range 10000 {
			_, cells, err := r.Next()
			if err != nil {
				var fe *Error
				if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			for _, c := range cells {
				if r.Charset() == "utf-8" && !utf8.ValidString(c) {
					t.Fatalf("invalid UTF-8 cell %q", c)
				}
			}
		}
	})
}

func FuzzXLSX(f *testing.F) {
	seed := writeXLSX(f, [][]any{{"Nombre", "Email"}, {"Acme", "a@b.es"}}, "")
	data, err := os.ReadFile(seed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Open(bytes.NewReader(data), int64(len(data)), "xlsx", "")
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		defer r.Close()
		for range 1000 {
			_, cells, err := r.Next()
			if err != nil {
				var fe *Error
				if !errors.Is(err, io.EOF) && !errors.As(err, &fe) {
					t.Fatalf("untyped error %v", err)
				}
				return
			}
			for _, c := range cells {
				if !utf8.ValidString(c) {
					t.Fatalf("invalid UTF-8 cell %q", c)
				}
			}
		}
	})
}
