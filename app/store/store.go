// Package store connects an org's Mercado Libre sellers and turns their
// paid orders into sales vouchers in the background (issue 17).
//
// A seller is connected by OAuth (authorization code; the state is kept
// only as its hash, and works once). Its tokens are sealed (app/sealed).
// Mercado Libre's refresh tokens are single-use: a refresh spends the old
// one, so two jobs refreshing at once would log the seller out. Every
// refresh therefore runs under the connection row's lock, and a job that
// finds the token version moved while it waited uses the token the other
// job got instead of refreshing again
// (../shared/reference/mercadolibre.md §1.6).
//
// Orders arrive by notification (topic orders_v2: the receiver answers at
// once and a job fetches the order) and by a periodic catch-up that
// searches by date_last_updated from a cursor. Either way the order goes
// through Apply, which is idempotent per (connection, order id): one
// voucher per paid order, voided when the order is cancelled (it still
// counts against the plan, per seed 002).
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pulso/app/plans"
	"pulso/app/sealed"
	"pulso/app/store/mercadolibre"
	"pulso/queries"
)

// Store is the integration's dependencies.
type Store struct {
	DB   *pgxpool.Pool
	ML   *mercadolibre.Client
	Keys sealed.Keys
	Log  *slog.Logger
}

var (
	// ErrBroken: the seller's authorisation is gone (refresh refused, or
	// 403): an admin must connect the seller again.
	ErrBroken = errors.New("store: the seller must be connected again")
	// ErrState: the OAuth state is unknown, used or expired.
	ErrState = errors.New("store: unknown or expired authorisation state")
	// ErrTaken: the seller is connected to another org.
	ErrTaken = errors.New("store: the seller is connected to another org")
)

// Why a connection broke, as message ids the store page shows in the
// reader's language (store_connections.problem).
const (
	// ProblemGrantRefused: Mercado Libre refused to renew the access
	// (invalid_grant: the seller removed the app or changed password).
	ProblemGrantRefused = "store.problem_grant_refused"
	// ProblemForbidden: Mercado Libre answered 403 (the grant is gone or
	// the app was blocked).
	ProblemForbidden = "store.problem_forbidden"
)

// StoreUsersError refuses a connection past the plan's store users.
type StoreUsersError struct {
	Plan  string
	Limit int
}

func (e *StoreUsersError) Error() string {
	return fmt.Sprintf("store: plan %s allows %d store users", e.Plan, e.Limit)
}

func stateHash(state string) []byte {
	h := sha256.Sum256([]byte(state))
	return h[:]
}

// Begin starts connecting a seller: it returns the URL to send the admin's
// browser to, with a fresh state kept (hashed) for ten minutes.
func (s *Store) Begin(ctx context.Context, orgID, userID int64) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	if err := queries.New(s.DB).CreateStoreOAuthState(ctx, queries.CreateStoreOAuthStateParams{StateHash: stateHash(state),
		OrgID: orgID, UserID: userID}); err != nil {
		return "", err
	}
	return s.ML.AuthorizeURL(state), nil
}

// Complete finishes the round trip: the state must be the one this user
// began, the code is exchanged for tokens, and the seller becomes one of
// the org's store users if the plan has room (a seller already connected
// to the org is reconnected with the new tokens).
func (s *Store) Complete(ctx context.Context, orgID, userID int64, state, code string, now time.Time) (queries.StoreConnection, error) {
	q := queries.New(s.DB)
	if _, err := q.TakeStoreOAuthState(ctx, queries.TakeStoreOAuthStateParams{StateHash: stateHash(state), OrgID: orgID,
		UserID: userID}); errors.Is(err, pgx.ErrNoRows) {
		return queries.StoreConnection{}, ErrState
	} else if err != nil {
		return queries.StoreConnection{}, err
	}
	tok, err := s.ML.Exchange(ctx, code)
	if err != nil {
		return queries.StoreConnection{}, err
	}
	var conn queries.StoreConnection
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		q := queries.New(tx)
		access, refresh, err := s.seal(orgID, tok)
		if err != nil {
			return err
		}
		old, err := q.GetStoreConnectionBySeller(ctx, tok.UserID)
		switch {
		case err == nil && old.OrgID != orgID:
			return ErrTaken
		case err == nil:
			conn, err = q.ReconnectStoreConnection(ctx, queries.ReconnectStoreConnectionParams{OrgID: orgID, ID: old.ID,
				AccessToken: access, RefreshToken: refresh, ExpiresAt: tok.ExpiresAt, Nickname: old.Nickname})
			return err
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// A new store user: the plan must have room. The subscription row
		// is locked so two connections at once cannot both take the last
		// place.
		if _, err := q.LockSubscription(ctx, orgID); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		u, err := plans.UsageOf(ctx, q, orgID, now)
		if err != nil {
			return err
		}
		if u.Plan != nil && u.StoreUsers+1 > int(u.Plan.StoreUsers) {
			return &StoreUsersError{Plan: u.Plan.Name, Limit: int(u.Plan.StoreUsers)}
		}
		conn, err = q.CreateStoreConnection(ctx, queries.CreateStoreConnectionParams{OrgID: orgID, SellerID: tok.UserID,
			Nickname: fmt.Sprintf("%d", tok.UserID), AccessToken: access, RefreshToken: refresh, ExpiresAt: tok.ExpiresAt,
			ConnectedBy: userID})
		return err
	})
	return conn, err
}

func (s *Store) seal(orgID int64, tok mercadolibre.Token) (access, refresh []byte, err error) {
	if access, err = s.Keys.Seal(sealed.StoreAccess, orgID, []byte(tok.Access)); err != nil {
		return nil, nil, err
	}
	refresh, err = s.Keys.Seal(sealed.StoreRefresh, orgID, []byte(tok.Refresh))
	return access, refresh, err
}

// refreshMargin is how long before expiry a token is renewed: a job never
// starts a batch of calls with a token about to die.
const refreshMargin = 5 * time.Minute

// access returns a working access token of the connection and its
// version. force renews it unless another job already did since version
// seen (a 401 with a token that looked valid).
func (s *Store) access(ctx context.Context, orgID, connID int64, force bool, seen int32) (string, int32, error) {
	q := queries.New(s.DB)
	c, err := q.GetStoreConnection(ctx, queries.GetStoreConnectionParams{OrgID: orgID, ID: connID})
	if err != nil {
		return "", 0, err
	}
	if c.State != "active" {
		return "", 0, ErrBroken
	}
	if !force && time.Until(c.ExpiresAt) > refreshMargin {
		tok, err := s.Keys.Open(sealed.StoreAccess, orgID, c.AccessToken)
		return string(tok), c.TokenVersion, err
	}
	var token string
	var version int32
	var broken bool
	err = pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		q := queries.New(tx)
		c, err := q.LockStoreConnection(ctx, queries.LockStoreConnectionParams{OrgID: orgID, ID: connID})
		if err != nil {
			return err
		}
		if c.State != "active" {
			broken = true
			return nil
		}
		// Someone refreshed while this job waited for the lock: theirs
		// is the only refresh token that still works.
		if fresh := time.Until(c.ExpiresAt) > refreshMargin; fresh && (!force || c.TokenVersion != seen) {
			tok, err := s.Keys.Open(sealed.StoreAccess, orgID, c.AccessToken)
			token, version = string(tok), c.TokenVersion
			return err
		}
		refresh, err := s.Keys.Open(sealed.StoreRefresh, orgID, c.RefreshToken)
		if err != nil {
			return err
		}
		tok, err := s.ML.Refresh(ctx, string(refresh))
		if errors.Is(err, mercadolibre.ErrInvalidGrant) {
			broken = true
			return q.BreakStoreConnection(ctx, queries.BreakStoreConnectionParams{OrgID: orgID, ID: connID,
				Problem: ProblemGrantRefused})
		}
		if err != nil {
			return err
		}
		a, r, err := s.seal(orgID, tok)
		if err != nil {
			return err
		}
		c, err = q.SetStoreTokens(ctx, queries.SetStoreTokensParams{OrgID: orgID, ID: connID, AccessToken: a, RefreshToken: r,
			ExpiresAt: tok.ExpiresAt})
		token, version = tok.Access, c.TokenVersion
		return err
	})
	if err == nil && broken {
		err = ErrBroken
	}
	return token, version, err
}

// call runs fn with the connection's access token, renewing the token and
// trying once more when the store answers 401; a 403 breaks the
// connection (§4.2: the grant is gone or the app blocked).
func (s *Store) call(ctx context.Context, orgID, connID int64, fn func(access string) error) error {
	tok, v, err := s.access(ctx, orgID, connID, false, 0)
	if err != nil {
		return err
	}
	err = fn(tok)
	if errors.Is(err, mercadolibre.ErrUnauthorized) {
		if tok, _, err = s.access(ctx, orgID, connID, true, v); err != nil {
			return err
		}
		err = fn(tok)
	}
	if errors.Is(err, mercadolibre.ErrForbidden) {
		if e := queries.New(s.DB).BreakStoreConnection(ctx, queries.BreakStoreConnectionParams{OrgID: orgID, ID: connID,
			Problem: ProblemForbidden}); e != nil {
			return e
		}
		return ErrBroken
	}
	return err
}

// Disconnect ends a connection: its tokens are wiped and it no longer
// counts as a store user. Its orders and vouchers stay.
func (s *Store) Disconnect(ctx context.Context, orgID, connID int64) error {
	_, err := queries.New(s.DB).DisconnectStoreConnection(ctx, queries.DisconnectStoreConnectionParams{OrgID: orgID, ID: connID})
	return err
}
