package auth_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// eventually retries get until ok or two seconds pass: what one instance
// commits reaches another instance's session cache through the live outbox
// poller, a poll (25 ms) later.
func eventually(t *testing.T, what string, get func() apptest.Response, ok func(apptest.Response) bool) {
	t.Helper()
	var r apptest.Response
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if r = get(); ok(r) {
			return
		}
	}
	t.Fatalf("%s: never happened; last response %d %.300s", what, r.Status, r.Body)
}

// Two instances on one database each cache the rep's session. Changes made
// through one instance, or straight in the database, reach the other's
// cache: deactivation, an org rename, a new notification.
func TestSessionCacheFollowsChangesAcrossInstances(t *testing.T) {
	t.Parallel()
	env1 := apptest.New(t)
	env2 := apptest.NewOn(t, env1.DB)
	org := env1.Org("Caché S.L.")
	admin := env1.User(org, "admin@cache.test", web.RoleAdmin)
	rep := env1.User(org, "rep@cache.test", web.RoleRep)
	other := env1.User(org, "otro@cache.test", web.RoleRep)

	rep1 := env1.LoginAs(rep)
	rep2 := rep1.On(env2)
	for i, c := range []*apptest.Client{rep1, rep2} {
		if r := c.Get("/"); r.Status != http.StatusOK || !strings.Contains(r.Body, "Caché S.L.") {
			t.Fatalf("instance %d: home %d", i+1, r.Status)
		}
	}
	if env1.Deps.Sessions.Len() != 1 || env2.Deps.Sessions.Len() != 1 {
		t.Fatalf("sessions cached: %d and %d, want 1 each", env1.Deps.Sessions.Len(), env2.Deps.Sessions.Len())
	}

	// The org is renamed in the database (no app code involved).
	env1.Exec(`UPDATE orgs SET name = 'Caché Renombrada S.L.' WHERE id = $1`, org.ID)
	eventually(t, "instance 2 shows the new org name", func() apptest.Response { return rep2.Get("/") },
		func(r apptest.Response) bool { return strings.Contains(r.Body, "Caché Renombrada S.L.") })

	// A notification for the rep, created as the notify job does.
	err := live.BeginFunc(context.Background(), env1.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := env1.Q.WithTx(tx)
		n, err := q.CreateNotification(ctx, queries.CreateNotificationParams{
			OrgID: org.ID, UserID: rep.ID, Severity: "info", Title: "Hola", Key: "cache-test",
		})
		if err != nil {
			return err
		}
		err = live.Publish(ctx, live.Event{
			OrgID: org.ID, Topic: live.TopicNotification, Entity: "notification", EntityID: &n.ID, Kind: "created", SubjectUserID: &rep.ID,
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "instance 2 bell shows one unread", func() apptest.Response { return rep2.Get("/") },
		func(r apptest.Response) bool { return strings.Contains(r.Body, `data-testid="bell-count">1<`) })

	// Another user's change does not evict the rep.
	otherC := env2.LoginAs(other)
	otherC.Post("/notifications/read-all", nil)
	if env2.Deps.Sessions.Len() < 1 {
		t.Error("another user's request evicted the rep's cached session")
	}

	// The admin deactivates the rep on instance 1: instance 1 refuses the
	// rep at once, instance 2 within a poll.
	a := env1.LoginAs(admin)
	if r := a.Post("/admin/users/"+strconv.FormatInt(rep.ID, 10)+"/deactivate", nil); r.Status >= 400 {
		t.Fatalf("deactivate: %d %.300s", r.Status, r.Body)
	}
	if r := rep1.Get("/"); r.Status != http.StatusSeeOther {
		t.Errorf("instance 1 right after deactivation: %d, want 303 to /login", r.Status)
	}
	eventually(t, "instance 2 refuses the deactivated rep", func() apptest.Response { return rep2.Get("/") },
		func(r apptest.Response) bool { return r.Status == http.StatusSeeOther })
}

// A user's own change shows on their next page on the same instance at
// once: their request forgets their cached session.
func TestSessionCacheOwnChangeIsImmediate(t *testing.T) {
	t.Parallel()
	env := apptest.New(t)
	org := env.Org("Propio S.L.")
	u := env.User(org, "ana@propio.test", web.RoleRep)
	c := env.LoginAs(u)
	c.Get("/")
	if r := c.Post("/account/locale", map[string][]string{"locale": {"en"}}); r.Status >= 400 {
		t.Fatalf("account update: %d %.300s", r.Status, r.Body)
	}
	r := c.Get("/")
	if !strings.Contains(r.Body, `lang="en"`) {
		t.Errorf("locale change not visible on the next page: %.200s", r.Body)
	}
}
