package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"pulso/views"
	"pulso/views/i18n"
)

const flashCookie = "pulso_flash"

type flash struct {
	Kind string `json:"k"`
	ID   string `json:"m"`
}

// Flash queues a message (a catalog id) for the next page this browser
// renders, which is how a redirect after POST says what happened. Only ids
// travel in the cookie, so a forged cookie can show nothing but our own copy.
func Flash(c *fiber.Ctx, kind, messageID string) {
	var list []flash
	if raw := c.Cookies(flashCookie); raw != "" {
		list = decodeFlashes(raw)
	}
	list = append(list, flash{Kind: kind, ID: messageID})
	b, _ := json.Marshal(list)
	c.Cookie(&fiber.Cookie{
		Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Now().Add(5 * time.Minute),
	})
	// A flash queued during this request (e.g. a re-rendered fragment) shows now.
	c.Locals(flashCookie+".now", list)
}

func decodeFlashes(raw string) []flash {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	var list []flash
	if json.Unmarshal(b, &list) != nil || len(list) > 5 {
		return nil
	}
	return list
}

var flashKinds = map[string]bool{"info": true, "success": true, "warning": true, "error": true}

func takeFlashes(c *fiber.Ctx, ctx context.Context) []views.Flash {
	list, _ := c.Locals(flashCookie + ".now").([]flash)
	if list == nil {
		raw := c.Cookies(flashCookie)
		if raw == "" {
			return nil
		}
		list = decodeFlashes(raw)
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", Expires: time.Unix(0, 0), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	var out []views.Flash
	for _, f := range list {
		if !flashKinds[f.Kind] || !i18n.Has(f.ID) {
			continue
		}
		out = append(out, views.Flash{Kind: f.Kind, Message: i18n.T(ctx, f.ID)})
	}
	return out
}

// oobFlashes replaces the page's flash area out of band, for fragments.
func oobFlashes(list []views.Flash) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<div id="flash" class="flash-area" aria-live="polite" hx-swap-oob="innerHTML">`); err != nil {
			return err
		}
		for _, f := range list {
			if err := views.FlashMessage(f).Render(ctx, w); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, `</div>`)
		return err
	})
}
