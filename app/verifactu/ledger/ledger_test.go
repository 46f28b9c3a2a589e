package ledger_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/verifactu"
	"pulso/app/verifactu/ledger"
	"pulso/app/verifactu/ledger/ledgertest"
	"pulso/queries"
)

func verify(t *testing.T, b *ledgertest.Biller) []ledger.Chain {
	t.Helper()
	chains, err := ledger.Verify(context.Background(), b.Env.Q, b.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return chains
}

// recordAt is the id of the record at position seq of the org's chain.
func recordAt(t *testing.T, b *ledgertest.Biller, seq int) int64 {
	t.Helper()
	return int64(b.Env.Count(`SELECT id FROM verifactu_records WHERE org_id = $1 AND issuer_nif = $2 AND seq = $3`, b.Org.ID, ledgertest.NIF, seq))
}

// A chain of altas and an anulación, as issuing and voiding wrote it,
// holds end to end.
func TestVerifyCleanChain(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Limpia S.L."))
	invs := b.Issue(t, 3)
	b.Void(t, invs[1])
	chains := verify(t, b)
	if len(chains) != 1 {
		t.Fatalf("%d chains, want 1: %+v", len(chains), chains)
	}
	c := chains[0]
	if c.IssuerNIF != ledgertest.NIF || c.Checked != 4 || c.Head != 4 || c.Break != nil {
		t.Fatalf("chain: %+v (break %+v)", c, c.Break)
	}
	if !ledger.OK(chains) {
		t.Fatal("OK is false for a clean chain")
	}
	// An org with no records has no chain, and that is not a failure.
	other := env.Org("Sin Facturas S.L.")
	if cs, err := ledger.Verify(context.Background(), env.Q, other.ID); err != nil || len(cs) != 0 || !ledger.OK(cs) {
		t.Fatalf("empty org: %+v %v", cs, err)
	}
}

// A record changed behind the trigger's back is found, and the check
// points at exactly that record, not at the one after it (whose link
// still names the original huella).
func TestVerifyTamperedRecord(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Tocada S.L."))
	invs := b.Issue(t, 4)
	target := recordAt(t, b, 3)
	// The amount the AEAT would be told, changed in the stored XML.
	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET xml = convert_to(replace(convert_from(xml, 'UTF8'), '>121.00<', '>12.10<'), 'UTF8')
		WHERE org_id = $1 AND id = $2`, b.Org.ID, target)
	c := verify(t, b)[0]
	if c.Break == nil {
		t.Fatal("a tampered record went unnoticed")
	}
	br := c.Break
	if br.Seq != 3 || br.RecordID != target || br.InvoiceID != invs[2].ID || br.Number != *invs[2].FullNumber ||
		br.Problem != ledger.Problem(verifactu.BrokenHuella) || c.Checked != 3 {
		t.Fatalf("break: %+v, checked %d; want seq 3, record %d, invoice %d %s, huella", br, c.Checked, target, invs[2].ID, *invs[2].FullNumber)
	}
	if !strings.Contains(br.Detail, "not what its fields give") {
		t.Errorf("detail: %s", br.Detail)
	}
	if ledger.OK([]ledger.Chain{c}) {
		t.Error("OK is true for a broken chain")
	}
}

// A huella rewritten consistently in one record (XML and column) breaks
// the next record's link: the check names the next record.
func TestVerifyRewrittenLink(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Reescrita S.L."))
	b.Issue(t, 3)
	second := recordAt(t, b, 2)
	// Re-seal record 2 with another generation time: its own huella is
	// right again, but record 3 still names the old one.
	var xml []byte
	var gen string
	if err := env.DB.QueryRow(context.Background(), `SELECT xml, generated_at_text FROM verifactu_records WHERE org_id = $1 AND id = $2`, b.Org.ID, second).Scan(&xml, &gen); err != nil {
		t.Fatal(err)
	}
	s, err := verifactu.ParseRecord(xml)
	if err != nil {
		t.Fatal(err)
	}
	newGen := "2020-01-01T00:00:00+01:00"
	s.FechaHoraHusoGenRegistro = newGen
	newHuella := s.ComputeHuella()
	text := strings.Replace(strings.Replace(string(xml), gen, newGen, 1), s.Huella, newHuella, 1)
	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET xml = $3, generated_at_text = $4, huella = $5 WHERE org_id = $1 AND id = $2`,
		b.Org.ID, second, []byte(text), newGen, newHuella)
	c := verify(t, b)[0]
	if c.Break == nil || c.Break.Seq != 3 || c.Break.Problem != ledger.Problem(verifactu.BrokenLink) {
		t.Fatalf("break: %+v", c.Break)
	}
}

// A column that disagrees with the XML beside it is a broken link too:
// the pages and the sending job read the columns.
func TestVerifyColumnsDisagree(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Columnas S.L."))
	b.Issue(t, 2)
	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET num_serie = 'X-1' WHERE org_id = $1 AND seq = 2`, b.Org.ID)
	c := verify(t, b)[0]
	if c.Break == nil || c.Break.Seq != 2 || c.Break.Problem != ledger.Columns || !strings.Contains(c.Break.Detail, "num_serie") {
		t.Fatalf("break: %+v", c.Break)
	}
}

// Records missing in the middle or at the end of a chain are found.
func TestVerifyGap(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Hueco S.L."))
	b.Issue(t, 4)
	moved := recordAt(t, b, 3)
	// Record 3 moved out of the way: 1, 2, 4, 9 — as if 3 had been removed.
	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET seq = 9 WHERE org_id = $1 AND id = $2`, b.Org.ID, moved)
	c := verify(t, b)[0]
	if c.Break == nil || c.Break.Seq != 4 || c.Break.Problem != ledger.Gap || c.Break.RecordID != recordAt(t, b, 4) || c.Checked != 3 {
		t.Fatalf("break: %+v, checked %d", c.Break, c.Checked)
	}
	if !strings.Contains(c.Break.Detail, "records 3 to 3 are missing") {
		t.Errorf("detail: %s", c.Break.Detail)
	}

	// The last record missing: the chain's head says there were more.
	env2 := apptest.New(t)
	b2 := ledgertest.Setup(t, env2, env2.Org("Cadena Corta S.L."))
	b2.Issue(t, 2)
	env2.Exec(`UPDATE verifactu_chains SET last_seq = 3 WHERE org_id = $1`, b2.Org.ID)
	c = verify(t, b2)[0]
	if c.Break == nil || c.Break.Seq != 3 || c.Break.Problem != ledger.Head || c.Checked != 2 {
		t.Fatalf("break: %+v", c.Break)
	}
}

// An org that changes its NIF starts a second chain; each is checked on
// its own and both hold.
func TestVerifyIssuerChange(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cambio NIF S.L."))
	b.Issue(t, 2)
	env.Exec(`UPDATE orgs SET tax_id = 'A28083806' WHERE id = $1`, b.Org.ID)
	b.Issue(t, 3)
	chains := verify(t, b)
	if len(chains) != 2 {
		t.Fatalf("%d chains, want 2", len(chains))
	}
	got := map[string]int{}
	for _, c := range chains {
		if c.Break != nil {
			t.Errorf("chain %s broken: %+v", c.IssuerNIF, c.Break)
		}
		got[c.IssuerNIF] = c.Checked
	}
	if got[ledgertest.NIF] != 2 || got["A28083806"] != 3 {
		t.Fatalf("checked: %v", got)
	}
	// Breaking the second chain leaves the first one whole.
	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET huella = repeat('A', 64) WHERE org_id = $1 AND issuer_nif = 'A28083806' AND seq = 2`, b.Org.ID)
	for _, c := range verify(t, b) {
		if (c.Break != nil) != (c.IssuerNIF == "A28083806") {
			t.Errorf("chain %s: break %+v", c.IssuerNIF, c.Break)
		}
	}
}

// Counts cover every state; the list filters by state and kind and pages
// by id, newest first, within the org.
func TestCountAndList(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Listado S.L."))
	invs := b.Issue(t, 3)
	b.Void(t, invs[0])
	env.Exec(`UPDATE verifactu_records SET status = 'accepted', answer_code = NULL WHERE org_id = $1 AND seq = 1`, b.Org.ID)
	env.Exec(`UPDATE verifactu_records SET status = 'rejected', answer_code = 1104, answer_text = 'NIF no identificado' WHERE org_id = $1 AND seq = 2`, b.Org.ID)
	// Another org's records never show.
	o := ledgertest.Setup(t, env, env.Org("Vecina S.L."))
	o.Issue(t, 2)

	ctx := context.Background()
	counts, err := ledger.Count(ctx, env.Q, b.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := ledger.Counts{"pending": 2, "sent": 0, "accepted": 1, "accepted_with_errors": 0, "rejected": 1}
	if len(counts) != len(want) {
		t.Fatalf("counts %v", counts)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d, want %d", k, counts[k], v)
		}
	}

	list := func(f ledger.Filter) []queries.ListVerifactuRecordsPageRow {
		t.Helper()
		p, err := ledger.List(ctx, env.Q, b.Org.ID, f)
		if err != nil {
			t.Fatal(err)
		}
		return p.Records
	}
	all := list(ledger.Filter{})
	if len(all) != 4 || all[0].Seq != 4 || all[3].Seq != 1 {
		t.Fatalf("all: %+v", all)
	}
	if r := list(ledger.Filter{Kind: "anulacion"}); len(r) != 1 || r[0].Seq != 4 || r[0].InvoiceID != invs[0].ID {
		t.Fatalf("anulaciones: %+v", r)
	}
	if r := list(ledger.Filter{Status: "rejected"}); len(r) != 1 || r[0].AnswerCode == nil || *r[0].AnswerCode != 1104 {
		t.Fatalf("rejected: %+v", r)
	}
	if r := list(ledger.Filter{Status: "pending", Kind: "alta"}); len(r) != 1 || r[0].Seq != 3 {
		t.Fatalf("pending altas: %+v", r)
	}
	if r := list(ledger.Filter{Before: all[1].ID}); len(r) != 2 || r[0].ID != all[2].ID {
		t.Fatalf("before: %+v", r)
	}
	for _, f := range []ledger.Filter{{Status: "done"}, {Kind: "alta'--"}} {
		if _, err := ledger.List(ctx, env.Q, b.Org.ID, f); !errors.Is(err, ledger.ErrFilter) {
			t.Errorf("%+v: %v, want ErrFilter", f, err)
		}
	}
}

// Paging walks a list longer than a page without repeating or skipping.
func TestListPages(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Muchas S.L."))
	b.Issue(t, ledger.PageSize+3)
	ctx := context.Background()
	p1, err := ledger.List(ctx, env.Q, b.Org.ID, ledger.Filter{})
	if err != nil || len(p1.Records) != ledger.PageSize || p1.Next == 0 {
		t.Fatalf("page 1: %d records, next %d, %v", len(p1.Records), p1.Next, err)
	}
	p2, err := ledger.List(ctx, env.Q, b.Org.ID, ledger.Filter{Before: p1.Next})
	if err != nil || len(p2.Records) != 3 || p2.Next != 0 || p2.Records[2].Seq != 1 || p2.Records[0].Seq != 3 {
		t.Fatalf("page 2: %+v, next %d, %v", p2.Records, p2.Next, err)
	}
}

func TestFilename(t *testing.T) {
	if got := ledger.Filename("alta", "B12345674", 7, "F2026/0007 A"); got != "verifactu-B12345674-000007-alta-F2026_0007_A.xml" {
		t.Fatal(got)
	}
}

// Invoices issued while the check runs never show as a broken chain: each
// check reads its chain up to the head it found.
func TestVerifyWhileIssuing(t *testing.T) {
	env := apptest.New(t)
	b := ledgertest.Setup(t, env, env.Org("Cadena Viva S.L."))
	b.Issue(t, 1)
	done := make(chan struct{})
	var issueErr error
	go func() {
		defer close(done)
		for range 8 {
			if _, issueErr = b.TryIssue(); issueErr != nil {
				return
			}
		}
	}()
	checks := 0
	for running := true; running; checks++ {
		select {
		case <-done:
			running = false
		default:
		}
		for _, c := range verify(t, b) {
			if c.Break != nil {
				t.Fatalf("check %d broke while issuing: %+v", checks, c.Break)
			}
		}
	}
	if issueErr != nil {
		t.Fatal(issueErr)
	}
	if c := verify(t, b)[0]; c.Checked != 9 || c.Break != nil {
		t.Fatalf("after issuing: %+v", c)
	}
}
