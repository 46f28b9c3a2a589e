package sendweb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The table holds its rules even against a hand-written UPDATE: a send is
// sent exactly when it has its time, e-mail and link; cancelled and failed
// say when and why; an open names a send of its own invoice; a link's
// digest is a SHA-256.
func TestSendRowsKeepTheirRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	if err := w.tx(func(ctx context.Context, tx pgx.Tx) error {
		_, err := w.sender().Schedule(ctx, tx, sendsInput(w, customerEmail), time.Now().Add(time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s := w.lastSend(t, w.inv)
	other := w.issue(t, w.newDraft(t, "ordinary").ID)
	for _, c := range []struct{ name, sql, constraint string }{
		{"sent without a link", `UPDATE invoice_sends SET state = 'sent', sent_at = now() WHERE id = $1`, "invoice_sends_sent"},
		{"cancelled without when", `UPDATE invoice_sends SET state = 'cancelled' WHERE id = $1`, "invoice_sends_cancelled"},
		{"failed without why", `UPDATE invoice_sends SET state = 'failed' WHERE id = $1`, "invoice_sends_failed"},
		{"a state that does not exist", `UPDATE invoice_sends SET state = 'sending' WHERE id = $1`, "invoice_sends_state_check"},
		{"opened before it went", `UPDATE invoice_sends SET first_opened_at = now(), last_opened_at = now() WHERE id = $1`, "invoice_sends_opened"},
		{"a digest that is not SHA-256", `UPDATE invoice_sends SET token_hash = '\x00', token_nonce = '\x00' WHERE id = $1`, "invoice_sends_token_hash_check"},
		{"half a link", `UPDATE invoice_sends SET token_nonce = '\x00' WHERE id = $1`, "invoice_sends_token_whole"},
		{"an open of another invoice", `INSERT INTO invoice_opens (org_id, invoice_id, send_id) SELECT org_id, ` + itoa(other.ID) + `, id FROM invoice_sends WHERE id = $1`, "invoice_opens_org_id_invoice_id_send_id_fkey"},
	} {
		_, err := w.Env.DB.Exec(ctx, c.sql, s.ID)
		if err == nil || !strings.Contains(err.Error(), c.constraint) {
			t.Errorf("%s: %v, want %s", c.name, err, c.constraint)
		}
	}
}
