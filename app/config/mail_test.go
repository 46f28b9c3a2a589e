package config_test

import (
	"strings"
	"testing"

	"pulso/app/config"
)

func TestMailSettings(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MailFrom != "Pulso <no-reply@localhost>" || c.WorkersEmail != 5 {
		t.Errorf("defaults: PULSO_MAIL_FROM %q, PULSO_EMAIL_WORKERS %d", c.MailFrom, c.WorkersEmail)
	}
	c, err = config.FromEnv(env(map[string]string{"PULSO_MAIL_FROM": "Ventas <ventas@empresa.es>", "PULSO_EMAIL_WORKERS": "2"}))
	if err != nil || c.MailFrom != "Ventas <ventas@empresa.es>" || c.WorkersEmail != 2 {
		t.Errorf("set: %q, %d, %v", c.MailFrom, c.WorkersEmail, err)
	}
	for _, tt := range []struct{ variable, value string }{
		{"PULSO_MAIL_FROM", "no-reply"},
		{"PULSO_MAIL_FROM", "Pulso <no-reply@localhost"},
		{"PULSO_MAIL_FROM", "a@b.es, c@d.es"},
		{"PULSO_EMAIL_WORKERS", "0"},
		{"PULSO_EMAIL_WORKERS", "1001"},
		{"PULSO_EMAIL_WORKERS", "five"},
	} {
		_, err := config.FromEnv(env(map[string]string{tt.variable: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.variable) {
			t.Errorf("%s=%q: err = %v, want one naming the variable", tt.variable, tt.value, err)
		}
	}
}
