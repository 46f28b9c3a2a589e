package views

import (
	"encoding/json"
	"testing"

	"pulso/views/i18n"
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

// Every admin tool is named in the menu and described on /admin in both
// languages: the ids are put together from the tool's key, so no other
// check would see one missing (the page would show the bare id).
func TestAdminToolsAreWordedInEveryLanguage(t *testing.T) {
	for _, tool := range append(append([]AdminTool{}, AdminTools...), OperatorTools...) {
		for _, id := range []string{"nav." + tool.Key, "admin.tool." + tool.Key} {
			for _, locale := range []string{"es", "en"} {
				if got := i18n.In(locale, id, nil); got == id || got == "" {
					t.Errorf("%s has no %s text", id, locale)
				}
			}
		}
	}
}
