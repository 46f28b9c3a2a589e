package invoicesweb_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// Every message id app/invoices can return in Invalid (and those these
// handlers add) exists in Spanish and English, so no field message ever
// shows as its id. The ids are read from the source: a new one is checked
// without editing this test.
func TestEveryInvoiceMessageIsTranslated(t *testing.T) {
	ids := map[string]bool{}
	literal := regexp.MustCompile(`"((?:invoices|validation|quotes)\.[a-z0-9_.]*[a-z0-9])"`)
	for _, dir := range []string{"..", "."} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if matched, _ := filepath.Match("*_test.go", filepath.Base(f)); matched {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
				ids[m[1]] = true
			}
		}
	}
	// handLines builds "quotes." + field + "_invalid" from tax.Validate's
	// fields.
	for _, f := range []string{"quantity", "unit_price", "discount", "tax_rate", "surcharge", "withholding"} {
		ids["quotes."+f+"_invalid"] = true
	}
	for _, must := range []string{"invoices.simplified_over_limit", "invoices.customer_tax_id_required", "invoices.reason_required",
		"invoices.issue_date_before_series", "invoices.payment_over_outstanding"} {
		if !ids[must] {
			t.Fatalf("the scan missed %s: it is not reading the domain's source", must)
		}
	}
	for _, lang := range []string{"es", "en"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "..", "views", "i18n", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var msgs map[string]string
		if err := json.Unmarshal(raw, &msgs); err != nil {
			t.Fatal(err)
		}
		for id := range ids {
			if msgs[id] == "" {
				t.Errorf("%s.json has no %s", lang, id)
			}
		}
	}
}
