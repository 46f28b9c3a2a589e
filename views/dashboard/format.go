package dashboard

import (
	"context"

	"pulso/views/i18n"
)

// arrow is the direction's glyph; the same direction is also said in words
// for screen readers and in the signed change, never in colour alone.
func arrow(dir string) string {
	switch dir {
	case "up":
		return "▲"
	case "down":
		return "▼"
	case "new":
		return "★"
	case "none":
		return "–"
	}
	return "="
}

// colLabel is column i's head, which phones show next to each value (the
// table becomes one card per row there).
func colLabel(ctx context.Context, cols []string, i int) string {
	if i < len(cols) {
		return i18n.T(ctx, cols[i])
	}
	return ""
}
