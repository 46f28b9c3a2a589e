package dashboardweb_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"pulso/app/apptest"
)

// figure is the text of the element with data-testid id in body.
func figure(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in:\n%.1500s", id, body)
	}
	return m[1]
}

func tileFigure(t *testing.T, c *apptest.Client, tile, query, id string) string {
	t.Helper()
	return figure(t, get(t, c, "/dashboard/tiles/"+tile+query, http.StatusOK), id)
}

// Each role sees the numbers of its scope: a rep their own deals, a
// manager their team's (and their own), an admin the org's; the team and
// rep filters narrow that.
func TestTilesShowTheScopesAmounts(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.deal(t, w.RepC, w.Rep, "Ganada de Rep", "1.000", "ganada")
	w.deal(t, w.Rep2C, w.Rep2, "Ganada de Rep2", "2.000", "ganada")
	w.deal(t, w.ManagerC, w.Manager, "Abierta del responsable", "500", "")
	w.deal(t, w.Rep2C, w.Rep2, "Abierta de Rep2", "4.000", "")

	for _, c := range []struct {
		who           string
		client        *apptest.Client
		query         string
		won, pipeline string
	}{
		{"rep", w.RepC, "", "1.000,00\u00a0€", "0,00\u00a0€"},
		{"rep2", w.Rep2C, "", "2.000,00\u00a0€", "4.000,00\u00a0€"},
		{"manager", w.ManagerC, "", "1.000,00\u00a0€", "500,00\u00a0€"},
		{"manager, their rep", w.ManagerC, fmt.Sprintf("?rep=%d", w.Rep.ID), "1.000,00\u00a0€", "0,00\u00a0€"},
		{"manager2", w.Manager2C, "", "2.000,00\u00a0€", "4.000,00\u00a0€"},
		{"admin", w.AdminC, "", "3.000,00\u00a0€", "4.500,00\u00a0€"},
		{"admin, Manager2's team", w.AdminC, fmt.Sprintf("?team=%d", w.Manager2.ID), "2.000,00\u00a0€", "4.000,00\u00a0€"},
		{"admin, Rep", w.AdminC, fmt.Sprintf("?rep=%d", w.Rep.ID), "1.000,00\u00a0€", "0,00\u00a0€"},
	} {
		if got := tileFigure(t, c.client, "won", c.query, "won-amount"); got != c.won {
			t.Errorf("%s: won %q, want %q", c.who, got, c.won)
		}
		if got := tileFigure(t, c.client, "pipeline", c.query, "pipeline-amount"); got != c.pipeline {
			t.Errorf("%s: pipeline %q, want %q", c.who, got, c.pipeline)
		}
	}
	// The weighted pipeline: 50 % of each open deal.
	if got := tileFigure(t, w.ManagerC, "pipeline", "", "pipeline-weighted"); got != "250,00\u00a0€" {
		t.Errorf("manager's weighted pipeline %q", got)
	}
	// Won this month against last month, which had nothing.
	won := get(t, w.AdminC, "/dashboard/tiles/won", http.StatusOK)
	if figure(t, won, "won-count") != "2" || !strings.Contains(won, `data-dir="new"`) {
		t.Errorf("won tile counts or compares wrongly:\n%.1500s", won)
	}
	// The rep's home shows their own won amount, not their colleague's.
	home := get(t, w.RepC, "/", http.StatusOK)
	if got := figure(t, home, "won-amount"); got != "1.000,00\u00a0€" {
		t.Errorf("rep's home: won %q", got)
	}
	// Last month shows none of it.
	if got := tileFigure(t, w.AdminC, "won", "?period=last_month", "won-amount"); got != "0,00\u00a0€" {
		t.Errorf("last month: won %q", got)
	}
}
