// Package mercadolibre talks to Mercado Libre's OAuth and orders API for
// Argentinian sellers (site MLA), Mercado Shops included: the
// authorization-code flow, token refresh, order search and reads, packs,
// and the parsing of orders_v2 notifications. It keeps no state of its own:
// tokens, retries and the per-seller serialisation of refreshes belong to
// the caller, and the errors say which of those the caller should do.
//
// Facts follow the shared reference notes (mercadolibre.md); comments cite
// their sections as §n.n.
//
// Money: amounts arrive as JSON numbers (30000.0, 15000.5). They are never
// decoded into float64; each is read as json.Number and exposed as decimal
// text with exactly two decimals ("30000.00", "15000.50"), which Pulso's
// money package parses into cents. A number with non-zero digits past the
// second decimal is refused rather than rounded, because a silently
// rounded sale total would end up on a fiscal voucher.
package mercadolibre

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Config names the two hosts and the app's credentials (§1.1).
type Config struct {
	// AuthURL is the browser host of the seller's country, e.g.
	// https://auth.mercadolibre.com.ar (§1.1).
	AuthURL string
	// APIURL serves /oauth/token and every REST call for all sites,
	// https://api.mercadolibre.com (§1.1).
	APIURL string

	ClientID, ClientSecret, RedirectURI string

	// HTTP is the client used for every call; nil means one with a 20 s
	// timeout, so a stuck connection cannot hold a sync job forever even
	// when its context has no deadline.
	HTTP *http.Client
}

// DefaultTimeout bounds each call when Config.HTTP is nil.
const DefaultTimeout = 20 * time.Second

// maxBody caps what is read from one response: a full page of 50 orders is
// a few hundred kilobytes, so 16 MiB only stops a broken or hostile peer.
const maxBody = 16 << 20

// Client is safe for concurrent use; it holds only configuration.
type Client struct {
	cfg  Config
	http *http.Client
}

// New returns a client for cfg; trailing slashes on the hosts are ignored.
func New(cfg Config) *Client {
	cfg.AuthURL = strings.TrimRight(cfg.AuthURL, "/")
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	h := cfg.HTTP
	if h == nil {
		h = &http.Client{Timeout: DefaultTimeout}
	}
	return &Client{cfg: cfg, http: h}
}

// get performs an authenticated GET on the API host and decodes a 2xx JSON
// body into out. The token travels only in the Authorization header: the
// access_token query parameter is legacy (§1.6) and would leak the token
// into proxy and server logs.
func (c *Client) get(ctx context.Context, access, path string, q url.Values, out any) error {
	u := c.cfg.APIURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("mercadolibre: GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Accept", "application/json")
	return c.do(req, "GET "+path, out)
}

// do sends req and turns the answer into out or into one of the package's
// errors (errors.go).
func (c *Client) do(req *http.Request, op string, out any) error {
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("mercadolibre: %s: %w", op, err)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, maxBody)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError(op, resp, body)
	}
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("mercadolibre: %s: decoding answer: %w", op, err)
	}
	return nil
}
