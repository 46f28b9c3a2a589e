package views

import (
	"encoding/json"
	"testing"
)

// csrfHeader puts base64url tokens together by hand; whatever the token,
// the result must be the JSON htmx parses.
func TestCSRFHeaderIsJSON(t *testing.T) {
	for _, token := range []string{"FUf2soX_A5o5gxl-UI4CAZFSdu5wygQ3mQDkFVPDb2Y", "", "abc=", `a"b\c`, "ñ</script>"} {
		var got map[string]string
		if err := json.Unmarshal([]byte(csrfHeader(token)), &got); err != nil {
			t.Fatalf("csrfHeader(%q) = %s: %v", token, csrfHeader(token), err)
		}
		if len(got) != 1 || got["X-CSRF-Token"] != token {
			t.Errorf("csrfHeader(%q) = %s", token, csrfHeader(token))
		}
	}
}
