package notifications

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"pulso/views"
	"pulso/views/i18n"
)

// BenchmarkListPage renders the signed-in notification centre (30 unread
// rows inside the layout) as a full load does, without HTTP or a database:
// the rendering part of BenchmarkPageCost (app/bench_test.go), for
// profiling it alone.
func BenchmarkListPage(b *testing.B) {
	shell := &views.Shell{Title: "notifications.title", Nav: "notifications", CSRF: "FUf2soX_A5o5gxl-UI4CAZFSdu5wygQ3mQDkFVPDb2Y",
		User: &views.User{ID: 1, Name: "User bench@bench.test", Email: "bench@bench.test", Role: "rep", OrgName: "Bench S.L.", Unread: 30, Sells: true}}
	ctx := views.WithShell(i18n.WithLocale(context.Background(), "es"), shell)
	p := Page{Unread: 30}
	at := time.Date(2026, 12, 6, 16, 29, 0, 0, time.UTC)
	for i := 30; i > 0; i-- {
		p.Items = append(p.Items, Item{ID: int64(i), Severity: "info", Title: fmt.Sprintf("Aviso %d", i-1), At: at, AtText: "06/12/2026 17:29"})
	}
	page := views.Layout(List(p))
	b.ReportAllocs()
	for b.Loop() {
		if err := page.Render(ctx, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
