package config_test

import (
	"strings"
	"testing"

	"pulso/app/config"
	"pulso/app/verifactu"
)

func TestVerifactuDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	// Records go to the AEAT's test environment until an installation
	// says production; each org names itself until a producer is set.
	if c.VerifactuEnv != verifactu.Test || c.VerifactuInstallation != "1" || c.VerifactuProducerName != "" || c.VerifactuProducerNIF != "" {
		t.Fatalf("defaults: env %v, installation %q, producer %q %q", c.VerifactuEnv, c.VerifactuInstallation, c.VerifactuProducerName, c.VerifactuProducerNIF)
	}
}

func TestVerifactuSettings(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(map[string]string{
		"PULSO_VERIFACTU_PRODUCER_NAME":    " Pulso Software S.L. ",
		"PULSO_VERIFACTU_PRODUCER_NIF":     "b12345674",
		"PULSO_VERIFACTU_INSTALLATION":     "madrid-01",
		"PULSO_VERIFACTU_ENV":              "production",
		"PULSO_VERIFACTU_PRODUCER_ADDRESS": "Paseo de la Castellana 1, 28046 Madrid",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.VerifactuProducerAddress != "Paseo de la Castellana 1, 28046 Madrid" {
		t.Errorf("producer address %q", c.VerifactuProducerAddress)
	}
	if c.VerifactuProducerName != "Pulso Software S.L." || c.VerifactuProducerNIF != "B12345674" || c.VerifactuInstallation != "madrid-01" || c.VerifactuEnv != verifactu.Production {
		t.Fatalf("got %q %q %q %v", c.VerifactuProducerName, c.VerifactuProducerNIF, c.VerifactuInstallation, c.VerifactuEnv)
	}
}

// Each bad value stops the start with a message naming its variable.
func TestVerifactuInvalidSettings(t *testing.T) {
	t.Parallel()
	producer := map[string]string{"PULSO_VERIFACTU_PRODUCER_NAME": "Pulso Software S.L.", "PULSO_VERIFACTU_PRODUCER_NIF": "B12345674"}
	for _, tt := range []struct {
		name     string
		vars     map[string]string
		variable string
	}{
		{"env unknown", map[string]string{"PULSO_VERIFACTU_ENV": "prod"}, "PULSO_VERIFACTU_ENV"},
		{"name without NIF", map[string]string{"PULSO_VERIFACTU_PRODUCER_NAME": "Pulso Software S.L."}, "PULSO_VERIFACTU_PRODUCER_NIF"},
		{"NIF without name", map[string]string{"PULSO_VERIFACTU_PRODUCER_NIF": "B12345674"}, "PULSO_VERIFACTU_PRODUCER_NAME"},
		{"NIF check letter", with(producer, "PULSO_VERIFACTU_PRODUCER_NIF", "B12345675"), "PULSO_VERIFACTU_PRODUCER_NIF"},
		{"NIF too short", with(producer, "PULSO_VERIFACTU_PRODUCER_NIF", "B1234567"), "PULSO_VERIFACTU_PRODUCER_NIF"},
		{"name with a character the AEAT refuses", with(producer, "PULSO_VERIFACTU_PRODUCER_NAME", "Pulso <Software>"), "PULSO_VERIFACTU_PRODUCER_NAME"},
		{"name too long", with(producer, "PULSO_VERIFACTU_PRODUCER_NAME", strings.Repeat("a", 121)), "PULSO_VERIFACTU_PRODUCER_NAME"},
		{"address without a producer", map[string]string{"PULSO_VERIFACTU_PRODUCER_ADDRESS": "Calle Mayor 1, Madrid"}, "PULSO_VERIFACTU_PRODUCER_ADDRESS"},
		{"address too long", with(producer, "PULSO_VERIFACTU_PRODUCER_ADDRESS", strings.Repeat("a", 301)), "PULSO_VERIFACTU_PRODUCER_ADDRESS"},
		{"installation too long", map[string]string{"PULSO_VERIFACTU_INSTALLATION": strings.Repeat("9", 101)}, "PULSO_VERIFACTU_INSTALLATION"},
		{"installation with =", map[string]string{"PULSO_VERIFACTU_INSTALLATION": "a=b"}, "PULSO_VERIFACTU_INSTALLATION"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.FromEnv(env(tt.vars))
			if err == nil || !strings.Contains(err.Error(), tt.variable) {
				t.Fatalf("got %v, want an error naming %s", err, tt.variable)
			}
		})
	}
}

func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		if mk != k {
			out[mk] = mv
		}
	}
	return out
}
