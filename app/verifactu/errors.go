package verifactu

import (
	"bufio"
	"bytes"
	_ "embed"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// erroresProperties is the AEAT's list of the codes its service answers
// with, unchanged (aeat/SOURCES.md): ISO-8859-1 text with CRLF line ends,
// three sections, one "NNNN = text" line per code.
//
//go:embed aeat/errores.properties
var erroresProperties []byte

// ErrorClass is what a code does to a submission, by the section of
// errores.properties that lists it.
type ErrorClass int

const (
	// ClassUnknown: a code the list does not have.
	ClassUnknown ErrorClass = iota
	// ClassSubmission: the whole request is refused (41xx, and the
	// technical 35xx); nothing in it is registered, send it again.
	ClassSubmission
	// ClassRecord: the record is refused (1xxx, 3xxx): fix it and send it
	// again as a subsanación (3000, duplicate, means the AEAT has it).
	ClassRecord
	// ClassAcceptedWithErrors: the record is registered but must be
	// corrected with a subsanación (2xxx).
	ClassAcceptedWithErrors
)

type aeatError struct {
	text  string
	class ErrorClass
}

var errorCatalog = sync.OnceValue(func() map[int]aeatError { return parseErrores(erroresProperties) })

// parseErrores reads the list. A section header names the class of the
// codes below it. The file is ISO-8859-1, except for a few lines saved as
// UTF-8 by the AEAT (e.g. 1214's "númerico"): a line that is valid UTF-8
// is read as UTF-8, any other as ISO-8859-1, so both show the right
// letters. A code listed twice keeps its first text and class.
func parseErrores(b []byte) map[int]aeatError {
	out := map[int]aeatError{}
	class := ClassUnknown
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := decodeLine(sc.Bytes())
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "*") {
			switch h := strings.ToLower(line); {
			case strings.Contains(h, "rechazo del envío completo"):
				class = ClassSubmission
			case strings.Contains(h, "rechazo de la factura"):
				class = ClassRecord
			case strings.Contains(h, "aceptación del registro"):
				class = ClassAcceptedWithErrors
			}
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(k))
		if err != nil {
			continue
		}
		if _, dup := out[n]; !dup {
			out[n] = aeatError{text: strings.TrimSpace(v), class: class}
		}
	}
	return out
}

func decodeLine(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c) // ISO-8859-1 is the first 256 code points
	}
	return string(r)
}

// ErrorText is the AEAT's own text for a code of its service (for
// example 2000, "El cálculo de la huella suministrada es incorrecta."), to
// show next to the code; ok is false for a code the list does not have.
func ErrorText(code int) (text string, ok bool) {
	e, ok := errorCatalog()[code]
	return e.text, ok
}

// ClassOf says what the code does to a submission.
func ClassOf(code int) ErrorClass { return errorCatalog()[code].class }
