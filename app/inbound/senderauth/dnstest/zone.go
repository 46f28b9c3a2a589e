// Package dnstest is a DNS for tests of sender authentication: a fixed set
// of records answered the way net.Resolver reports them (NXDOMAIN as
// IsNotFound, SERVFAIL as IsTemporary), so SPF, DKIM and DMARC run their
// real code paths without the network.
package dnstest

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
)

// Zone holds the records; the zero value is not usable, call New.
type Zone struct {
	mu     sync.Mutex
	txt    map[string][]string
	ip     map[string][]net.IPAddr
	mx     map[string][]*net.MX
	broken map[string]bool
}

// New is an empty zone: every name is NXDOMAIN until added.
func New() *Zone {
	return &Zone{txt: map[string][]string{}, ip: map[string][]net.IPAddr{}, mx: map[string][]*net.MX{}, broken: map[string]bool{}}
}

func key(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// TXT adds TXT records to name (an SPF policy, a DMARC record, a DKIM key).
func (z *Zone) TXT(name string, records ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[key(name)] = append(z.txt[key(name)], records...)
}

// A adds addresses to name.
func (z *Zone) A(name string, ips ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, s := range ips {
		z.ip[key(name)] = append(z.ip[key(name)], net.IPAddr{IP: net.ParseIP(s)})
	}
}

// Break makes every lookup of name fail as a timeout or SERVFAIL would.
func (z *Zone) Break(name string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.broken[key(name)] = true
}

// DKIM publishes pub as the key of selector._domainkey.domain.
func (z *Zone) DKIM(domain, selector string, pub crypto.PublicKey) {
	var k, p string
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			panic(err)
		}
		k, p = "rsa", base64.StdEncoding.EncodeToString(der)
	case ed25519.PublicKey:
		k, p = "ed25519", base64.StdEncoding.EncodeToString(pub)
	default:
		panic(fmt.Sprintf("dnstest: no DKIM key type for %T", pub))
	}
	z.TXT(selector+"._domainkey."+domain, "v=DKIM1; k="+k+"; p="+p)
}

func (z *Zone) check(name string) (string, error) {
	k := key(name)
	if z.broken[k] {
		return k, &net.DNSError{Err: "server misbehaving", Name: name, IsTemporary: true}
	}
	return k, nil
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (z *Zone) LookupTXT(_ context.Context, name string) ([]string, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	k, err := z.check(name)
	if err != nil {
		return nil, err
	}
	if r, ok := z.txt[k]; ok {
		return append([]string(nil), r...), nil
	}
	return nil, notFound(name)
}

func (z *Zone) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	k, err := z.check(host)
	if err != nil {
		return nil, err
	}
	if r, ok := z.ip[k]; ok {
		return append([]net.IPAddr(nil), r...), nil
	}
	return nil, notFound(host)
}

func (z *Zone) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	k, err := z.check(name)
	if err != nil {
		return nil, err
	}
	if r, ok := z.mx[k]; ok {
		return append([]*net.MX(nil), r...), nil
	}
	return nil, notFound(name)
}

// LookupAddr has no reverse zone: SPF's ptr mechanism never matches.
func (z *Zone) LookupAddr(_ context.Context, addr string) ([]string, error) {
	return nil, notFound(addr)
}
