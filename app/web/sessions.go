package web

import (
	"context"
	"sync"
	"time"
)

// SessionCache keeps the principal of recently seen sessions in memory so a
// page view does not pay a session query (BENCHMARKS.md, page cost).
//
// Correctness rests on invalidation, not on the TTL: every change a cached
// principal depends on (its user, org, session or unread count) writes a
// live event in its transaction — triggers do it for users, orgs and
// sessions (migration 0012), notification changes publish their own — and
// every process's outbox poller passes those events to Forget*. A process
// whose poller is not keeping up (Healthy false) bypasses the cache, so an
// entry is never trusted longer than the poller's lag. A request that may
// have changed something settles the cache before it answers (see
// auth.LoadSession), so in one process every change is seen by the next
// request, whoever it concerns; other processes see it within a poll.
type SessionCache struct {
	mu     sync.Mutex
	byHash map[string]*cachedSession
	byUser map[userKey]map[string]struct{}
	// gen moves on every invalidation; a fill that started before the move
	// may hold what was just invalidated and is not stored.
	gen     uint64
	healthy func() bool
	sync    func(context.Context) error
	ttl     time.Duration
	max     int
}

type userKey struct{ org, user int64 }

type cachedSession struct {
	p         Principal
	lastSeen  time.Time
	expiresAt time.Time
	fetchedAt time.Time
}

// CachedSession is what the cache returns: a copy the request may keep.
type CachedSession struct {
	Principal Principal
	LastSeen  time.Time
	ExpiresAt time.Time
}

// A nil *SessionCache caches nothing.

// NewSessionCache returns an empty cache that is bypassed until SetHealthy
// names a check that passes.
func NewSessionCache() *SessionCache {
	return &SessionCache{
		byHash: map[string]*cachedSession{},
		byUser: map[userKey]map[string]struct{}{},
		ttl:    30 * time.Second,
		max:    100_000,
	}
}

// Watch names the check that says invalidations are arriving (the live
// poller is polling) and the call that waits until every invalidation
// committed so far has arrived.
func (c *SessionCache) Watch(healthy func() bool, sync func(context.Context) error) {
	c.mu.Lock()
	c.healthy, c.sync = healthy, sync
	c.mu.Unlock()
}

// Settle waits until the invalidations of everything committed so far have
// reached this cache (see hub.Hub.Sync).
func (c *SessionCache) Settle(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	sync := c.sync
	c.mu.Unlock()
	if sync == nil {
		return nil
	}
	return sync(ctx)
}

// Gen is read before loading a session from the database and handed to Put.
func (c *SessionCache) Gen() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// Get returns the cached session for a token hash, if it may be trusted.
func (c *SessionCache) Get(hash []byte, now time.Time) (CachedSession, bool) {
	if c == nil {
		return CachedSession{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.healthy == nil || !c.healthy() {
		return CachedSession{}, false
	}
	e, ok := c.byHash[string(hash)]
	if !ok {
		return CachedSession{}, false
	}
	if !now.Before(e.expiresAt) || now.Sub(e.fetchedAt) > c.ttl {
		c.dropLocked(string(hash), e)
		return CachedSession{}, false
	}
	return CachedSession{Principal: e.p, LastSeen: e.lastSeen, ExpiresAt: e.expiresAt}, true
}

// Put stores a session loaded from the database, unless an invalidation
// happened since gen was read.
func (c *SessionCache) Put(hash []byte, s CachedSession, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.byHash) >= c.max {
		// Crude but bounded: a full cache starts over rather than tracking
		// recency on every hit.
		c.byHash = map[string]*cachedSession{}
		c.byUser = map[userKey]map[string]struct{}{}
	}
	k := string(hash)
	c.byHash[k] = &cachedSession{p: s.Principal, lastSeen: s.LastSeen, expiresAt: s.ExpiresAt, fetchedAt: now}
	uk := userKey{s.Principal.OrgID, s.Principal.UserID}
	if c.byUser[uk] == nil {
		c.byUser[uk] = map[string]struct{}{}
	}
	c.byUser[uk][k] = struct{}{}
}

// Touched records that the session's expiry was pushed out in the database.
func (c *SessionCache) Touched(hash []byte, lastSeen, expiresAt time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byHash[string(hash)]; ok {
		e.lastSeen, e.expiresAt = lastSeen, expiresAt
	}
}

// ForgetUser drops every cached session of a user.
func (c *SessionCache) ForgetUser(orgID, userID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	uk := userKey{orgID, userID}
	for k := range c.byUser[uk] {
		delete(c.byHash, k)
	}
	delete(c.byUser, uk)
}

// ForgetOrg drops every cached session of an org.
func (c *SessionCache) ForgetOrg(orgID int64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for uk, hashes := range c.byUser {
		if uk.org != orgID {
			continue
		}
		for k := range hashes {
			delete(c.byHash, k)
		}
		delete(c.byUser, uk)
	}
}

// Len is the number of cached sessions.
func (c *SessionCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byHash)
}

func (c *SessionCache) dropLocked(k string, e *cachedSession) {
	delete(c.byHash, k)
	uk := userKey{e.p.OrgID, e.p.UserID}
	delete(c.byUser[uk], k)
	if len(c.byUser[uk]) == 0 {
		delete(c.byUser, uk)
	}
}
