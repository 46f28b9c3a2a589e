package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"pulso/app/apptest"
	"pulso/app/invoices"
	"pulso/app/verifactu"
	"pulso/app/verifactu/ledger/ledgertest"
)

// `pulso verifactu verify --org N` prints each chain and fails (exit
// status 1 through main) when one is broken, naming the broken link.
func TestVerifactuVerifyCommand(t *testing.T) {
	env := apptest.New(t)
	setEnv(t, apptest.URL(env.DB))
	ctx := context.Background()
	b := ledgertest.Setup(t, env, env.Org("Verifica S.L."))
	invs := b.Issue(t, 3)
	org := fmt.Sprint(b.Org.ID)

	var err error
	out := stdout(t, func() { err = run(ctx, "verifactu", []string{"verify", "--org", org}) })
	if err != nil {
		t.Fatalf("clean chain: %v\n%s", err, out)
	}
	if !strings.Contains(out, "NIF "+ledgertest.NIF+": 3 records, the chain holds") {
		t.Fatalf("output: %q", out)
	}

	ledgertest.Tamper(t, env, `UPDATE verifactu_records SET xml = convert_to(replace(convert_from(xml, 'UTF8'), '>121.00<', '>1.00<'), 'UTF8')
		WHERE org_id = $1 AND seq = 2`, b.Org.ID)
	out = stdout(t, func() { err = run(ctx, "verifactu", []string{"verify", "--org", org}) })
	if !errors.Is(err, errChainBroken) {
		t.Fatalf("broken chain: err %v\n%s", err, out)
	}
	want := fmt.Sprintf("BROKEN at position 2 (record %d, invoice %d %s): huella:", env.Count(`SELECT id FROM verifactu_records WHERE org_id = $1 AND seq = 2`, b.Org.ID), invs[1].ID, *invs[1].FullNumber)
	if !strings.Contains(out, want) {
		t.Fatalf("output %q lacks %q", out, want)
	}

	// An org without records has nothing to check.
	empty := env.Org("Vacía S.L.")
	out = stdout(t, func() { err = run(ctx, "verifactu", []string{"verify", "--org", fmt.Sprint(empty.ID)}) })
	if err != nil || !strings.Contains(out, "no VERI*FACTU records") {
		t.Fatalf("empty org: %v %q", err, out)
	}

	for _, args := range [][]string{nil, {"check"}, {"verify"}, {"verify", "--org", "x"}, {"verify", "--org", "0"}, {"verify", "--org", "999999"}} {
		if err := run(ctx, "verifactu", args); err == nil || errors.Is(err, errChainBroken) {
			t.Errorf("verifactu %q: %v", args, err)
		}
	}
}

// The configuration's SistemaInformatico reaches the records at startup,
// and a bad value stops the command before it does anything.
func TestRecordingFromConfiguration(t *testing.T) {
	env := apptest.New(t)
	setEnv(t, apptest.URL(env.DB))
	saved := invoices.Recording
	t.Cleanup(func() { invoices.Recording = saved })
	t.Setenv("PULSO_VERIFACTU_PRODUCER_NAME", "Pulso Software S.L.")
	t.Setenv("PULSO_VERIFACTU_PRODUCER_NIF", "B12345674")
	t.Setenv("PULSO_VERIFACTU_INSTALLATION", "madrid-01")
	t.Setenv("PULSO_VERIFACTU_ENV", "production")
	org := env.Org("Configurada S.L.")
	_ = stdout(t, func() {
		if err := run(context.Background(), "verifactu", []string{"verify", "--org", fmt.Sprint(org.ID)}); err != nil {
			t.Error(err)
		}
	})
	r := invoices.Recording
	if r.ProducerName != "Pulso Software S.L." || r.ProducerNIF != "B12345674" || r.Installation != "madrid-01" || r.Env != verifactu.Production || r.Version != buildVersion() {
		t.Fatalf("Recording = %+v", r)
	}

	t.Setenv("PULSO_VERIFACTU_ENV", "staging")
	err := run(context.Background(), "verifactu", []string{"verify", "--org", fmt.Sprint(org.ID)})
	if err == nil || !strings.Contains(err.Error(), "PULSO_VERIFACTU_ENV must be test or production") {
		t.Fatalf("bad env: %v", err)
	}
}
