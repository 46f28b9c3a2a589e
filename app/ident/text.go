package ident

import (
	"unicode/utf8"
)

// CleanText refuses what PostgreSQL or a screen cannot take: invalid UTF-8,
// NUL and other control characters (newlines and tabs are fine in notes).
// Every area's form input goes through it, so "storable text" means one
// thing everywhere.
func CleanText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}
