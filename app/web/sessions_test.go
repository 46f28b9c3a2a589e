package web

import (
	"testing"
	"time"
)

func TestSessionCache(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	healthy := true
	c := NewSessionCache()
	h1, h2, h3 := []byte("one"), []byte("two"), []byte("three")
	sess := func(org, user int64) CachedSession {
		return CachedSession{Principal: Principal{OrgID: org, UserID: user, Name: "x"}, LastSeen: now, ExpiresAt: now.Add(time.Hour)}
	}

	if _, ok := c.Get(h1, now); ok {
		t.Fatal("empty cache hit")
	}
	c.Put(h1, sess(1, 10), c.Gen(), now)
	if _, ok := c.Get(h1, now); ok {
		t.Fatal("hit before a health check was set: nothing would invalidate it")
	}
	c.Watch(func() bool { return healthy }, nil)
	if s, ok := c.Get(h1, now); !ok || s.Principal.UserID != 10 {
		t.Fatalf("miss after Put: %v %+v", ok, s)
	}
	healthy = false
	if _, ok := c.Get(h1, now); ok {
		t.Fatal("hit while the poller is not polling")
	}
	healthy = true

	// A fill that read the database before an invalidation is not stored.
	gen := c.Gen()
	c.ForgetUser(1, 99)
	c.Put(h2, sess(1, 11), gen, now)
	if _, ok := c.Get(h2, now); ok {
		t.Fatal("stale fill stored across an invalidation")
	}

	c.Put(h2, sess(1, 11), c.Gen(), now)
	c.Put(h3, sess(2, 20), c.Gen(), now)
	c.ForgetUser(1, 10)
	if _, ok := c.Get(h1, now); ok {
		t.Error("ForgetUser left the user's session")
	}
	if _, ok := c.Get(h2, now); !ok {
		t.Error("ForgetUser dropped another user's session")
	}
	c.ForgetOrg(1)
	if _, ok := c.Get(h2, now); ok {
		t.Error("ForgetOrg left a session of the org")
	}
	if _, ok := c.Get(h3, now); !ok {
		t.Error("ForgetOrg dropped another org's session")
	}

	// Expiry and the TTL both end an entry.
	if _, ok := c.Get(h3, now.Add(time.Hour)); ok {
		t.Error("expired session served")
	}
	c.Put(h3, sess(2, 20), c.Gen(), now)
	if _, ok := c.Get(h3, now.Add(c.ttl+time.Second)); ok {
		t.Error("entry served past the TTL")
	}
	if c.Len() != 0 {
		t.Errorf("Len %d after everything expired or was forgotten", c.Len())
	}

	var none *SessionCache
	none.Put(h1, sess(1, 1), 0, now)
	if _, ok := none.Get(h1, now); ok {
		t.Error("nil cache hit")
	}
}
