package live_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"pulso/app/apptest"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// countEvents counts the org's live events of one kind.
func countEvents(t *testing.T, env *apptest.Env, orgID int64, kind string) int {
	t.Helper()
	var n int
	if err := env.DB.QueryRow(context.Background(),
		`SELECT count(*) FROM live_events WHERE org_id = $1 AND kind = $2`, orgID, kind).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBeginFuncWritesHeldEventsWithTheCommit(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Held S.L.")
	owner := env.User(org, "held@held.test", web.RoleRep)
	ctx := context.Background()
	lead, err := env.Q.CreateLead(ctx, queries.CreateLeadParams{OrgID: org.ID, Name: "Potencial", Country: "ES", Source: "manual", OwnerID: &owner.ID, Status: "nuevo", Tags: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	save := func(note, kind string, fail error) error {
		before := countEvents(t, env, org.ID, kind)
		return live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
			q := queries.New(tx)
			if _, err := q.UpdateLead(ctx, queries.UpdateLeadParams{OrgID: org.ID, ID: lead.ID, Version: lead.Version, Name: lead.Name,
				Country: lead.Country, OwnerID: lead.OwnerID, Status: lead.Status, Notes: note, Tags: lead.Tags}); err != nil {
				return err
			}
			for range 2 {
				if err := live.Publish(ctx, live.Event{OrgID: org.ID, Topic: live.TopicLead, Entity: "lead", EntityID: &lead.ID, Kind: kind, SubjectUserID: &owner.ID}); err != nil {
					return err
				}
			}
			// Held, not written: the transaction itself sees no event yet.
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM live_events WHERE kind = $1`, kind).Scan(&n); err != nil {
				return err
			}
			if n != before {
				t.Errorf("%d events written before the commit", n-before)
			}
			return fail
		})
	}
	notes := func() string {
		l, err := env.Q.GetLead(ctx, queries.GetLeadParams{OrgID: org.ID, ID: lead.ID})
		if err != nil {
			t.Fatal(err)
		}
		return l.Notes
	}

	if err := save("committed", "saved", nil); err != nil {
		t.Fatal(err)
	}
	if got := countEvents(t, env, org.ID, "saved"); got != 2 {
		t.Fatalf("events after commit = %d, want 2", got)
	}
	if notes() != "committed" {
		t.Fatalf("change not committed: notes %q", notes())
	}
	var payload string
	if err := env.DB.QueryRow(ctx, `SELECT payload::text FROM live_events WHERE org_id = $1 AND kind = 'saved' LIMIT 1`, org.ID).Scan(&payload); err != nil || payload != "{}" {
		t.Fatalf("payload = %q, %v; want {}", payload, err)
	}

	// fn fails: neither the change nor its events.
	lead, _ = env.Q.GetLead(ctx, queries.GetLeadParams{OrgID: org.ID, ID: lead.ID})
	boom := errors.New("boom")
	if err := save("rolled back", "lost", boom); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got := countEvents(t, env, org.ID, "lost"); got != 0 || notes() != "committed" {
		t.Fatalf("after a failed fn: %d events, notes %q", got, notes())
	}

	// The events cannot be written (a trigger of this test's own database
	// refuses them): the change is not committed either, and the pool's
	// connections still work.
	if _, err := env.DB.Exec(ctx, `CREATE FUNCTION refuse_orphans() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.kind = 'orphan' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER refuse_orphans BEFORE INSERT ON live_events FOR EACH ROW EXECUTE FUNCTION refuse_orphans()`); err != nil {
		t.Fatal(err)
	}
	err = live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		if _, err := q.UpdateLead(ctx, queries.UpdateLeadParams{OrgID: org.ID, ID: lead.ID, Version: lead.Version, Name: lead.Name,
			Country: lead.Country, OwnerID: lead.OwnerID, Status: lead.Status, Notes: "orphan event", Tags: lead.Tags}); err != nil {
			return err
		}
		err := live.Publish(ctx, live.Event{OrgID: org.ID, Topic: live.TopicLead, Entity: "lead", Kind: "orphan"})
		return err
	})
	if err == nil {
		t.Fatal("a refused event committed")
	}
	if notes() != "committed" {
		t.Fatalf("the change committed without its event: notes %q", notes())
	}
	for range 12 { // more than the pool's connections
		if err := save("again", "again", nil); err != nil {
			t.Fatalf("connection left unusable: %v", err)
		}
		lead, _ = env.Q.GetLead(ctx, queries.GetLeadParams{OrgID: org.ID, ID: lead.ID})
	}
	if got := countEvents(t, env, org.ID, "again"); got != 24 {
		t.Fatalf("events = %d, want 24", got)
	}
}

// Publish has one behaviour: inside live.BeginFunc. Anywhere else (a plain
// pgx transaction, no transaction at all) it refuses, so no code path can
// write an event apart from its change's commit.
func TestPublishOutsideBeginFuncIsRefused(t *testing.T) {
	env := apptest.New(t)
	org := env.Org("Fuera S.L.")
	ctx := context.Background()
	ev := live.Event{OrgID: org.ID, Topic: live.TopicLead, Entity: "lead", Kind: "outside"}
	if err := live.Publish(ctx, ev); !errors.Is(err, live.ErrNoTransaction) {
		t.Fatalf("without a transaction: %v", err)
	}
	err := pgx.BeginFunc(ctx, env.DB, func(tx pgx.Tx) error { return live.Publish(ctx, ev) })
	if !errors.Is(err, live.ErrNoTransaction) {
		t.Fatalf("inside pgx.BeginFunc: %v", err)
	}
	if n := countEvents(t, env, org.ID, "outside"); n != 0 {
		t.Fatalf("%d events written", n)
	}
	big := ev
	big.Payload = []byte(`"` + strings.Repeat("x", 3000) + `"`)
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error { return live.Publish(ctx, big) }); !errors.Is(err, live.ErrPayloadTooLarge) {
		t.Fatalf("a document-sized payload: %v", err)
	}
}
