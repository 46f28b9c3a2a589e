package linktoken

import (
	"net/netip"
	"strings"
)

// Visitor is who is at the other end of a client link (a quote's, an
// invoice's), as the audit trail of opens and answers keeps them.
type Visitor struct {
	IP        netip.Addr
	UserAgent string
}

// IPOrNil is the address for a nullable column: nil when the request had
// none (a link opened by a job or a test).
func (v Visitor) IPOrNil() *netip.Addr {
	if !v.IP.IsValid() {
		return nil
	}
	a := v.IP
	return &a
}

// Agent is the user agent as stored: valid UTF-8, at most 500 bytes (a
// header is whatever the client sent).
func (v Visitor) Agent() string {
	ua := strings.ToValidUTF8(v.UserAgent, "")
	if len(ua) > 500 {
		ua = ua[:500]
	}
	return strings.ToValidUTF8(ua, "")
}
