// Package sheet reads the rows of an uploaded spreadsheet, one at a time,
// whatever shape it comes in: CSV with comma, semicolon or tab, in UTF-8
// (with or without BOM) or Windows-1252/ISO-8859-1, or the first sheet of an
// XLSX workbook. Nothing holds the whole file in memory, so a million-row
// file costs what one row costs.
package sheet

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Charsets a CSV file may be read as; "" detects.
var Charsets = []string{"utf-8", "windows-1252", "iso-8859-1"}

// MaxLineBytes bounds one physical line: a 5 MB line is a broken file, not a
// lead, and reading it whole would let one upload pin memory.
const MaxLineBytes = 1 << 20

// Error is a problem with the whole file: a catalog message id and, when
// known, the line it was found on.
type Error struct {
	MessageID string
	Line      int
	Cause     error
}

func (e *Error) Error() string {
	s := e.MessageID
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// Message ids of file-level errors.
const (
	ErrEncoding    = "imports.err_encoding"
	ErrLineTooLong = "imports.err_line_too_long"
	ErrBadXLSX     = "imports.err_bad_xlsx"
	ErrBadCSV      = "imports.err_bad_csv"
	ErrEmpty       = "imports.err_empty"
	ErrFormat      = "imports.err_format"
	ErrXLSXTooBig  = "imports.err_xlsx_too_big"
)

// Bounds of what an XLSX (a zip) may unzip to. Its central directory
// declares every entry's sizes, and Go's zip reader fails an entry that
// inflates past its declared size, so checking the directory before
// excelize opens anything bounds the work. A 50 MB workbook of real rows
// unzips at a ratio around 20 (measured: 200 000 typical lead rows, 19:1); a bomb's ratio runs to
// the hundreds or thousands.
const (
	MaxUnzipped    = 2 << 30 // all entries together: a 50 MB upload at 40:1
	MaxEntries     = 10000
	MaxRatio       = 200     // unzipped ÷ zipped, for an entry over ratioFloor
	ratioFloor     = 1 << 20 // small entries (empty parts) may have any ratio
	maxXMLInMemory = 16 << 20
)

// Reader yields a file's rows. Line is the 1-based line (CSV: where the
// record starts; XLSX: the row number) that messages quote to the user.
type Reader interface {
	Next() (line int, cells []string, err error) // io.EOF at the end
	// Progress is how far through the file reading is, 0..1.
	Progress() float64
	// Charset and Delimiter say how a CSV was read ("" for XLSX).
	Charset() string
	Delimiter() rune
	Close() error
}

// Format guesses csv or xlsx from the first bytes (a zip is an XLSX).
func Format(head []byte) string {
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return "xlsx"
	}
	return "csv"
}

// Open reads r (size bytes, for progress) as format ("csv" or "xlsx");
// charset is for CSV only. A CSV streams straight from r. An XLSX is a zip,
// whose directory sits at its end, so it is first copied to a temporary
// file that excelize reads at random (the file is gone once opened:
// excelize keeps what it needs). Closing the Reader does not close r.
func Open(r io.Reader, size int64, format, charset string) (Reader, error) {
	switch format {
	case "csv":
		return NewCSV(r, size, charset)
	case "xlsx":
		tmp, err := os.CreateTemp("", "pulso-sheet-*.xlsx")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		_, err = io.Copy(tmp, r)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		return OpenXLSX(tmp.Name())
	}
	return nil, &Error{MessageID: ErrFormat}
}

// CSV reads delimited text.
type CSV struct {
	r       *csv.Reader
	counted *countingReader
	size    int64
	charset string
	delim   rune
}

// NewCSV reads CSV from r (size bytes, for progress). charset "" detects:
// a BOM or valid UTF-8 in the first 64 KB means UTF-8, anything else is
// taken for Windows-1252 (a superset of ISO-8859-1's printable range, and
// what Excel on Windows writes).
func NewCSV(r io.Reader, size int64, charset string) (*CSV, error) {
	counted := &countingReader{r: r}
	br := bufio.NewReaderSize(counted, 64<<10)
	sample, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	hasBOM := bytes.HasPrefix(sample, []byte("\xEF\xBB\xBF"))
	if hasBOM {
		_, _ = br.Discard(3)
		sample = sample[3:]
		if charset == "" {
			charset = "utf-8"
		}
	}
	if charset == "" {
		charset = "windows-1252"
		if validUTF8Prefix(sample) {
			charset = "utf-8"
		}
	}
	var text io.Reader = br
	switch charset {
	case "utf-8":
	case "windows-1252":
		text = transform.NewReader(br, charmap.Windows1252.NewDecoder())
	case "iso-8859-1":
		text = transform.NewReader(br, charmap.ISO8859_1.NewDecoder())
	default:
		return nil, &Error{MessageID: ErrEncoding}
	}
	delim := detectDelimiter(sample)
	cr := csv.NewReader(&lineLimit{r: text})
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	return &CSV{r: cr, counted: counted, size: size, charset: charset, delim: delim}, nil
}

func (c *CSV) Next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		if errors.Is(err, errLineTooLong) {
			line, _ := c.r.FieldPos(0)
			return 0, nil, &Error{MessageID: ErrLineTooLong, Line: line, Cause: err}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, nil, &Error{MessageID: ErrBadCSV, Line: pe.StartLine, Cause: err}
		}
		return 0, nil, err
	}
	line, _ := c.r.FieldPos(0)
	for i, cell := range rec {
		// Bytes that are not text mean a wrong charset choice or a binary
		// file: the whole import stops with the line, rather than storing
		// mojibake.
		if (c.charset == "utf-8" && !utf8.ValidString(cell)) || strings.ContainsRune(cell, 0) {
			return 0, nil, &Error{MessageID: ErrEncoding, Line: line}
		}
		rec[i] = strings.TrimSpace(cell)
	}
	return line, rec, nil
}

func (c *CSV) Progress() float64 {
	if c.size <= 0 {
		return 0
	}
	return min(float64(c.counted.n)/float64(c.size), 1)
}

func (c *CSV) Charset() string { return c.charset }
func (c *CSV) Delimiter() rune { return c.delim }

func (c *CSV) Close() error { return nil }

// validUTF8Prefix is utf8.Valid, forgiving a rune cut by the sample's end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return true
		}
		if r, _ := utf8.DecodeLastRune(b); r != utf8.RuneError {
			return false
		}
		b = b[:len(b)-1]
	}
	return len(b) == 0 || utf8.Valid(b)
}

// detectDelimiter picks the most frequent of , ; and tab outside quotes on
// the first line (the header); comma when none appears.
func detectDelimiter(sample []byte) rune {
	counts := map[rune]int{}
	inQuotes := false
	for _, b := range sample {
		switch {
		case b == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case b == '\n':
			goto done
		case b == ',' || b == ';' || b == '\t':
			counts[rune(b)]++
		}
	}
done:
	best := ','
	for _, d := range []rune{';', '\t'} {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

var errLineTooLong = errors.New("line longer than 1 MiB")

// lineLimit fails once a physical line exceeds MaxLineBytes.
type lineLimit struct {
	r   io.Reader
	cur int
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.cur = 0
			continue
		}
		l.cur++
		if l.cur > MaxLineBytes {
			return 0, errLineTooLong
		}
	}
	return n, err
}

// XLSX reads the first sheet of a workbook. excelize reads the zip through
// the file (not into memory), keeps the small parts and unzips a large
// sheet to a temporary file of its own, whose XML it streams.
type XLSX struct {
	f     *excelize.File
	rows  *excelize.Rows
	total int
	n     int
	done  bool
}

// OpenXLSX opens the workbook at path, once its zip directory shows it
// within the bounds above. excelize gets the same total bound, and keeps
// no XML part over 16 MB in memory (it streams those from a temporary
// file).
func OpenXLSX(path string) (*XLSX, error) {
	if err := checkZip(path); err != nil {
		return nil, err
	}
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: MaxUnzipped, UnzipXMLSizeLimit: maxXMLInMemory})
	if err != nil {
		return nil, &Error{MessageID: ErrBadXLSX, Cause: err}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, &Error{MessageID: ErrEmpty}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, &Error{MessageID: ErrBadXLSX, Cause: err}
	}
	x := &XLSX{f: f, rows: rows}
	// The dimension ("A1:K100001") gives the row count for the bar; files
	// without one show the bar only at the end.
	if dim, err := f.GetSheetDimension(sheets[0]); err == nil {
		if i := strings.IndexByte(dim, ':'); i >= 0 {
			if _, row, err := excelize.CellNameToCoordinates(dim[i+1:]); err == nil {
				x.total = row
			}
		}
	}
	return x, nil
}

// checkZip reads the zip's central directory (not its data) and refuses a
// workbook that would unzip past the bounds.
func checkZip(path string) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return &Error{MessageID: ErrBadXLSX, Cause: err}
	}
	defer zr.Close()
	if len(zr.File) > MaxEntries {
		return &Error{MessageID: ErrXLSXTooBig, Cause: fmt.Errorf("%d zip entries", len(zr.File))}
	}
	var total uint64
	for _, e := range zr.File {
		total += e.UncompressedSize64
		if total > MaxUnzipped {
			return &Error{MessageID: ErrXLSXTooBig, Cause: fmt.Errorf("entries unzip to over %d bytes", uint64(MaxUnzipped))}
		}
		if e.UncompressedSize64 > ratioFloor && e.UncompressedSize64 > MaxRatio*max(e.CompressedSize64, 1) {
			return &Error{MessageID: ErrXLSXTooBig, Cause: fmt.Errorf("%s unzips %d bytes from %d", e.Name, e.UncompressedSize64, e.CompressedSize64)}
		}
	}
	return nil
}

func (x *XLSX) Next() (int, []string, error) {
	for x.rows.Next() {
		x.n++
		cols, err := x.rows.Columns()
		if err != nil {
			return 0, nil, &Error{MessageID: ErrBadXLSX, Line: x.n, Cause: err}
		}
		for i, c := range cols {
			if !utf8.ValidString(c) || strings.ContainsRune(c, 0) {
				return 0, nil, &Error{MessageID: ErrEncoding, Line: x.n}
			}
			cols[i] = strings.TrimSpace(c)
		}
		return x.n, cols, nil
	}
	if err := x.rows.Error(); err != nil {
		return 0, nil, &Error{MessageID: ErrBadXLSX, Line: x.n, Cause: err}
	}
	x.done = true
	return 0, nil, io.EOF
}

func (x *XLSX) Progress() float64 {
	if x.done {
		return 1
	}
	if x.total <= 1 {
		return 0
	}
	return min(float64(x.n)/float64(x.total), 1)
}

func (x *XLSX) Charset() string { return "" }
func (x *XLSX) Delimiter() rune { return 0 }

func (x *XLSX) Close() error {
	err := x.rows.Close()
	return errors.Join(err, x.f.Close())
}

// Blank reports whether a row has no content (skipped, not an error).
func Blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}
