package web

import (
	"bytes"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"pulso/app/config"
)

// Who the client is and how it reached us. Only the reverse proxies in
// PULSO_TRUSTED_PROXIES may speak for the client, and each only for the hop
// it saw: a proxy appends its peer's address to X-Forwarded-For, so
// everything left of the last trusted proxy's entry is whatever the client
// chose to write. Fiber's own ProxyHeader reads the left-most entry, which
// is why nothing in Pulso asks c.IP(): everything asks ClientIP.

// Proxies are the reverse proxies allowed to say who the client is.
type Proxies []netip.Prefix

// NewProxies reads the configured entries (already validated by config;
// an entry that does not parse trusts nobody).
func NewProxies(entries []string) Proxies {
	var p Proxies
	for _, e := range entries {
		if pr, err := config.ParseProxy(e); err == nil {
			p = append(p, pr)
		}
	}
	return p
}

func (p Proxies) trusts(a netip.Addr) bool {
	for _, pr := range p {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

const (
	clientIPKey = "pulso.client_ip"
	httpsKey    = "pulso.https"
)

// Client works out, once per request, the client's address and whether
// the client used https, for ClientIP and IsHTTPS.
func (p Proxies) Client() fiber.Handler {
	return func(c *fiber.Ctx) error {
		peer := peerAddr(c)
		ip, https := peer, c.Context().IsTLS()
		if p.trusts(peer) {
			ip = p.forwardedFor(c, peer)
			https = https || forwardedHTTPS(c)
		}
		c.Locals(clientIPKey, ip)
		c.Locals(httpsKey, https)
		return c.Next()
	}
}

// ClientIP is the address of whoever sent the request: the TCP peer, or
// when that peer is a trusted proxy, the right-most X-Forwarded-For entry
// that is not a trusted proxy. It is what throttles and audit trails use.
func ClientIP(c *fiber.Ctx) netip.Addr {
	if ip, ok := c.Locals(clientIPKey).(netip.Addr); ok {
		return ip
	}
	return peerAddr(c) // the app was built without Client (a bare test app)
}

// IsHTTPS reports whether the client reached us over https: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto.
func IsHTTPS(c *fiber.Ctx) bool {
	if https, ok := c.Locals(httpsKey).(bool); ok {
		return https
	}
	return c.Context().IsTLS()
}

func peerAddr(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}

// forwardedFor walks X-Forwarded-For from the right. Every header line
// counts, in order, as one list (a proxy may add a line rather than
// append). An entry that is not an address where a trusted proxy's should
// be ends the walk: the nearest hop known to be real is the client then.
func (p Proxies) forwardedFor(c *fiber.Ctx, peer netip.Addr) netip.Addr {
	var entries []string
	for _, line := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		for e := range bytes.SplitSeq(line, []byte(",")) {
			entries = append(entries, string(bytes.TrimSpace(e)))
		}
	}
	client := peer
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseForwarded(entries[i])
		if !ok {
			break
		}
		client = a
		if !p.trusts(a) {
			break
		}
	}
	return client
}

// parseForwarded reads one X-Forwarded-For entry: an address, perhaps with
// a port (some balancers add it; IPv6 then comes in brackets).
func parseForwarded(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

// forwardedHTTPS reads the scheme the nearest trusted proxy reports (the
// right-most X-Forwarded-Proto value, as with addresses).
func forwardedHTTPS(c *fiber.Ctx) bool {
	lines := c.Request().Header.PeekAll(fiber.HeaderXForwardedProto)
	if len(lines) == 0 {
		return false
	}
	last := string(lines[len(lines)-1])
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}
