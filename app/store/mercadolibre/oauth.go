package mercadolibre

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// AuthorizeURL is where the seller's browser goes to grant Pulso access
// (§1.2). state must be an unguessable value tied to the user's session:
// the callback compares it before exchanging the code, which stops a
// forged callback from attaching someone else's ML account.
func (c *Client) AuthorizeURL(state string) string {
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {c.cfg.ClientID},
		"redirect_uri":  {c.cfg.RedirectURI},
		"state":         {state},
	}
	return c.cfg.AuthURL + "/authorization?" + q.Encode()
}

// Token is what /oauth/token grants (§1.5). UserID is the seller: the
// seller= of order searches and the user_id of notifications.
type Token struct {
	Access    string
	Refresh   string // empty when the app lacks offline_access (§1.5)
	ExpiresAt time.Time
	UserID    int64
	Scope     string
}

// Exchange trades the code from the authorization redirect for tokens
// (§1.3). Codes are single-use and short-lived (§1.2): a second exchange
// of the same code, or a redirect URI differing from the registered one,
// fails with ErrInvalidGrant.
func (c *Client) Exchange(ctx context.Context, code string) (Token, error) {
	return c.token(ctx, "exchange", url.Values{
		"grant_type":    {"authorization_code"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"code":          {code},
		"redirect_uri":  {c.cfg.RedirectURI},
	})
}

// Refresh trades a refresh token for a new access token AND a new refresh
// token (§1.4, §1.6). ML refresh tokens are single-use: once this call
// succeeds the old one is dead, and presenting it again fails with
// ErrInvalidGrant, which reads exactly like a revoked grant. The caller
// must therefore
//   - serialise refreshes per seller (two concurrent refreshes with one
//     token: one wins, the other looks like a disconnected seller), and
//   - store the returned Refresh durably before using the new Access.
//
// A transport error after ML answered can lose the new pair; the only way
// back then is the seller reconnecting, so keep refreshes rare (only when
// the access token is expiring or a call got ErrUnauthorized).
func (c *Client) Refresh(ctx context.Context, refresh string) (Token, error) {
	return c.token(ctx, "refresh", url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"refresh_token": {refresh},
	})
}

// token posts a grant to /oauth/token. The secret and the code go in a
// form body, never the query string, so they stay out of URLs and logs
// (§1.3).
func (c *Client) token(ctx context.Context, what string, form url.Values) (Token, error) {
	op := "POST /oauth/token (" + what + ")"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.APIURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return Token{}, fmt.Errorf("mercadolibre: %s: %w", op, err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var b struct {
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		ExpiresIn    int64  `json:"expires_in"`
		Scope        string `json:"scope"`
		UserID       int64  `json:"user_id"`
		RefreshToken string `json:"refresh_token"`
	}
	// Taken before the call so that ExpiresAt errs early, never late.
	start := time.Now()
	if err := c.do(req, op, &b); err != nil {
		return Token{}, err
	}
	// token_type has been seen as "Bearer" and "bearer" (§1.5).
	if b.TokenType != "" && !strings.EqualFold(b.TokenType, "bearer") {
		return Token{}, fmt.Errorf("mercadolibre: %s: unexpected token_type %q", op, b.TokenType)
	}
	if b.AccessToken == "" || b.UserID == 0 || b.ExpiresIn <= 0 {
		return Token{}, errors.New("mercadolibre: " + op + ": answer lacks access_token, user_id or expires_in")
	}
	return Token{
		Access:    b.AccessToken,
		Refresh:   b.RefreshToken,
		ExpiresAt: start.Add(time.Duration(b.ExpiresIn) * time.Second),
		UserID:    b.UserID,
		Scope:     b.Scope,
	}, nil
}
