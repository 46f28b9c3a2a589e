package checkoutfake

import (
	"html/template"
	"net/http"
	"net/url"
)

// The pay page is the provider's screen in Pulso's browser E2E test:
// plain HTML, two forms, readable at 360 px.
var pageTmpl = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="es">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pagar · {{.Title}}</title>
<style>
*{box-sizing:border-box}
body{margin:0;font:16px/1.4 system-ui,sans-serif;background:#eef1f5;color:#1d2330}
main{max-width:420px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:16px;box-shadow:0 1px 3px #0002}
h1{font-size:1.15rem;margin:0 0 12px}
dl{margin:0 0 16px;display:grid;grid-template-columns:auto 1fr;gap:6px 12px}
dt{color:#5b6475}dd{margin:0;overflow-wrap:anywhere}
.amount{font-size:1.5rem;font-weight:600}
button{display:block;width:100%;min-height:48px;font:inherit;border:0;border-radius:6px;margin-top:10px;cursor:pointer}
.pay{background:#009ee3;color:#fff;font-weight:600}
.cancel{background:#e4e7ec;color:#1d2330}
.note{color:#5b6475;font-size:.85rem;margin-top:16px}
</style>
</head>
<body>
<main>
<div class="card">
<h1>{{.Title}}</h1>
<dl>
<dt>Importe</dt><dd class="amount" data-testid="amount">{{.Amount}} {{.Currency}}</dd>
<dt>Medio de pago</dt><dd data-testid="method">{{.Method}}</dd>
{{if .Payer}}<dt>Pagador</dt><dd>{{.Payer}}</dd>{{end}}
</dl>
{{if .Paid}}
<p data-testid="paid">Este pago ya está aprobado.</p>
<a href="{{.Back}}">Volver al sitio</a>
{{else}}
<form method="post" action="/checkout/v1/redirect/pay">
<input type="hidden" name="pref_id" value="{{.ID}}">
<button class="pay" type="submit">Pagar</button>
</form>
<form method="post" action="/checkout/v1/redirect/cancel">
<input type="hidden" name="pref_id" value="{{.ID}}">
<button class="cancel" type="submit">Cancelar</button>
</form>
{{end}}
<p class="note">Pasarela de pago simulada: no se cobra nada.</p>
</div>
</main>
</body>
</html>
`))

type pageData struct {
	ID, Title, Amount, Currency, Method, Payer string
	Paid                                       bool
	Back                                       string
}

func (s *Server) page(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.prefs[r.URL.Query().Get("pref_id")]
	var d pageData
	if p != nil {
		m, _ := findMethod(p.currency, p.method)
		d = pageData{ID: p.id, Title: p.title, Amount: p.amount, Currency: p.currency, Method: m.name, Payer: p.payer}
		if p.approved != "" {
			d.Paid, d.Back = true, backURL(p.success, p.approved, "approved", p)
		}
	}
	s.mu.Unlock()
	if p == nil {
		http.Error(w, "Checkout no encontrado", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	pageTmpl.Execute(w, d)
}

// payForm is "Pagar": approve, notify in the background, and return the
// browser to the success URL with the parameters Checkout Pro's back_urls
// carry (payment_id, status, external_reference, preference_id).
func (s *Server) payForm(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("pref_id")
	pid := s.Pay(id)
	if pid == "" {
		http.Error(w, "Checkout no encontrado", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	p := s.prefs[id]
	to := backURL(p.success, pid, "approved", p)
	s.mu.Unlock()
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// cancelForm is "Cancelar": back to the cancel URL, nothing recorded.
func (s *Server) cancelForm(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.prefs[r.PostFormValue("pref_id")]
	var to string
	if p != nil {
		to = p.failure
	}
	s.mu.Unlock()
	if p == nil {
		http.Error(w, "Checkout no encontrado", http.StatusNotFound)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// backURL adds the return parameters to a back URL, keeping its own query.
func backURL(base, paymentID, status string, p *pref) string {
	u, err := url.Parse(base)
	if err != nil { // validated when the preference was created
		return base
	}
	q := u.Query()
	q.Set("payment_id", paymentID)
	q.Set("status", status)
	q.Set("external_reference", p.ref)
	q.Set("preference_id", p.id)
	u.RawQuery = q.Encode()
	return u.String()
}
