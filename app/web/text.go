package web

import (
	"pulso/app/ident"
	"strings"
	"unicode/utf8"
)

// maxSearch bounds what a search box may send; longer input finds nothing
// useful and costs the trigram index.
const maxSearch = 200

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// SearchPattern turns what the user typed into a LIKE pattern matching a
// lower-cased search column (served by a trigram index); LIKE's wildcards
// in the input match themselves. Nil means "no search".
func SearchPattern(q string) *string {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" || !ident.CleanText(q) || utf8.RuneCountInString(q) > maxSearch {
		return nil
	}
	// Phones are stored in E.164: "600 11 22 33" must find +34600112233.
	if compact := strings.NewReplacer(" ", "", "-", "", ".", "", "(", "", ")", "").Replace(q); len(compact) >= 3 &&
		ident.Digits(strings.TrimPrefix(compact, "+")) {
		q = compact
	}
	p := "%" + likeEscaper.Replace(q) + "%"
	return &p
}
