package ident_test

import (
	"errors"
	"fmt"
	"testing"

	"pulso/app/ident"
)

// wantErr asserts that err is an *ident.Error with message id want ("" for
// no error).
func wantErr(t *testing.T, in string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("%q: unexpected error %v", in, err)
		}
		return
	}
	var ie *ident.Error
	if !errors.As(err, &ie) {
		t.Errorf("%q: error %v, want %s", in, err, want)
		return
	}
	if ie.MessageID != want {
		t.Errorf("%q: message %s, want %s", in, ie.MessageID, want)
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	err := error(ident.ErrTaxIDCheck)
	if got := err.Error(); got != "ident: invalid input (ident.taxid_check)" {
		t.Errorf("Error() = %q", got)
	}
	_, err = ident.NormalizeTaxID("12345678A", "ES")
	if !errors.Is(err, ident.ErrTaxIDCheck) {
		t.Errorf("errors.Is(%v, ErrTaxIDCheck) = false", err)
	}
}

// A form shows an ident error's own message, "validation.bad_chars" for
// any other error, and nothing for none.
func TestMessageOf(t *testing.T) {
	_, err := ident.NormalizeTaxID("B12345675", "ES")
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ident.ErrEmailInvalid, "ident.email_invalid"},
		{err, "ident.taxid_check"},
		{fmt.Errorf("field: %w", ident.ErrIBANFormat), "ident.iban_format"},
		{errors.New("something else"), "validation.bad_chars"},
	} {
		if got := ident.MessageOf(c.err); got != c.want {
			t.Errorf("MessageOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
