package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/calendar"
	"pulso/queries"
)

var demoTaskTitles = []string{
	"Llamar para confirmar el pedido", "Visitar la tienda", "Enviar catálogo actualizado", "Reunión de seguimiento",
	"Preparar oferta", "Revisar condiciones de pago", "Presentar la nueva gama", "Confirmar fecha de entrega",
}

// seedTasks gives each demo org a business calendar, task reasons (with
// and without SLA, one managed by the "manager" role), two automatic-task
// rules, and about 60 tasks spread over its reps: some done in time, some
// late, some open past their SLA, so a fresh start shows breaches (the
// sweep raises their alerts as the workers start) and My day has content.
func seedTasks(ctx context.Context, q *queries.Queries, org queries.Org, users map[string]int64, log *slog.Logger) error {
	if _, err := q.GetBusinessCalendar(ctx, org.ID); err == nil {
		return nil // seeded already
	} else if !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	hours := "lun-vie 09:00-14:00, 16:00-19:00"
	if org.Country != "ES" {
		hours = "lun-vie 09:00-18:00; sáb 10:00-14:00"
	}
	if err := q.SaveBusinessCalendar(ctx, queries.SaveBusinessCalendarParams{OrgID: org.ID, Hours: hours}); err != nil {
		return err
	}
	year := time.Now().Year()
	holidays := map[string]string{"01-01": "Año Nuevo", "01-06": "Reyes", "05-01": "Día del Trabajo", "10-12": "Fiesta Nacional",
		"12-08": "Inmaculada Concepción", "12-25": "Navidad"}
	if org.Country == "MX" {
		holidays = map[string]string{"01-01": "Año Nuevo", "05-01": "Día del Trabajo", "09-16": "Día de la Independencia", "12-25": "Navidad"}
	}
	for _, y := range []int{year, year + 1} {
		for md, name := range holidays {
			d, _ := time.Parse("2006-01-02", fmt.Sprintf("%d-%s", y, md))
			if _, err := q.AddHoliday(ctx, queries.AddHolidayParams{OrgID: org.ID, Day: date(d), Name: name}); err != nil {
				return err
			}
		}
	}
	manager := "manager"
	reasons := map[string]int64{}
	for _, r := range []queries.CreateTaskReasonParams{
		{Name: "Primer contacto", AppliesIn: []string{"en_analisis"}, SlaMinutes: i32p(240), SlaBusiness: true, ManagerKind: "assignee"},
		{Name: "Seguimiento de oferta", AppliesIn: []string{"oferta_presentada", "en_negociacion"}, SlaMinutes: i32p(16 * 60), SlaBusiness: true, ManagerKind: "role", ManagerRole: &manager},
		{Name: "Incidencia de cliente", SlaMinutes: i32p(24 * 60), SlaBusiness: false, ManagerKind: "assignee"},
		{Name: "Visita comercial", ManagerKind: "assignee"},
	} {
		r.OrgID = org.ID
		if r.AppliesIn == nil {
			r.AppliesIn = []string{}
		}
		made, err := q.CreateTaskReason(ctx, r)
		if err != nil {
			return err
		}
		reasons[r.Name] = made.ID
	}
	for _, rule := range []queries.CreateTaskRuleParams{
		{Event: "stage_entered", Stage: strp("oferta_presentada"), ReasonID: reasons["Seguimiento de oferta"], Title: "Llamar para comentar la oferta", TaskType: "llamada", DueHours: 48},
		{Event: "lead_assigned", ReasonID: reasons["Primer contacto"], Title: "Primer contacto con el potencial", TaskType: "llamada", DueHours: 4},
	} {
		rule.OrgID = org.ID
		if _, err := q.CreateTaskRule(ctx, rule); err != nil {
			return err
		}
	}
	var reps []int64
	for _, email := range []string{"rep@demo.test", "rep2@demo.test", "rep@otra.test"} {
		if id, ok := users[email]; ok {
			reps = append(reps, id)
		}
	}
	if len(reps) == 0 {
		return nil
	}
	customers, err := q.ListCustomers(ctx, queries.ListCustomersParams{OrgID: org.ID, PageSize: 60})
	if err != nil {
		return err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	cal := calendar.Calendar{Loc: loc}
	cal.Week, _ = calendar.Parse(hours)
	r := rand.New(rand.NewPCG(uint64(org.ID), 17))
	now := time.Now()
	names := []string{"Primer contacto", "Seguimiento de oferta", "Incidencia de cliente", "Visita comercial"}
	types := []string{"llamada", "visita", "email", "reunion"}
	n := 60
	if org.Country != "ES" {
		n = 20
	}
	for i := 0; i < n; i++ {
		assignee := reps[i%len(reps)]
		reason := reasons[names[r.IntN(len(names))]]
		// Created between ten days ago and now; due a day or two later.
		created := now.Add(-time.Duration(r.IntN(10*24)) * time.Hour)
		p := queries.CreateTaskParams{OrgID: org.ID, Title: demoTaskTitles[r.IntN(len(demoTaskTitles))], Type: types[r.IntN(len(types))],
			DueAt: created.Add(time.Duration(4+r.IntN(44)) * time.Hour), ReasonID: &reason, AssigneeID: assignee,
			ManagedByID: &assignee, CreatedBy: &assignee}
		if len(customers) > 0 {
			cu := customers[i%len(customers)].Customer
			p.CustomerID = &cu.ID
		}
		rs, err := q.GetTaskReason(ctx, queries.GetTaskReasonParams{OrgID: org.ID, ID: reason})
		if err != nil {
			return err
		}
		if rs.ManagerKind == "role" {
			p.ManagedByID, p.ManagedByRole = nil, rs.ManagerRole
		}
		if rs.SlaMinutes != nil {
			d, err := cal.Deadline(created, int(*rs.SlaMinutes), rs.SlaBusiness)
			if err != nil {
				return err
			}
			d = d.Truncate(time.Second)
			p.SlaDeadline = &d
		}
		t, err := q.CreateTask(ctx, p)
		if err != nil {
			return err
		}
		// Older tasks are mostly done, some late; recent ones open.
		if created.Before(now.Add(-3*24*time.Hour)) && i%4 != 0 {
			done := created.Add(time.Duration(1+r.IntN(30)) * time.Hour)
			if done.After(now) {
				done = now
			}
			if err := q.SeedTaskPast(ctx, queries.SeedTaskPastParams{OrgID: org.ID, ID: t.ID, CreatedAt: created, CompletedAt: &done, ResultNote: "Hecho"}); err != nil {
				return err
			}
			continue
		}
		if err := q.SeedTaskPast(ctx, queries.SeedTaskPastParams{OrgID: org.ID, ID: t.ID, CreatedAt: created}); err != nil {
			return err
		}
	}
	log.Info("seeded tasks", "org", org.Name, "count", n)
	return nil
}

func i32p(n int32) *int32 { return &n }

func date(t time.Time) pgtype.Date { return pgtype.Date{Time: t, Valid: true} }
func strp(s string) *string        { return &s }
