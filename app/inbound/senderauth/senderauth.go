// Package senderauth decides whether an e-mail really comes from the domain
// in its From header, the address Pulso matches to leads and customers:
// SPF for the host that connected (RFC 7208, blitiri.com.ar/go/spf), the
// message's DKIM signatures (RFC 6376, go-msgauth/dkim) and the From
// domain's DMARC record with its alignment rules (RFC 7489, go-msgauth/dmarc
// for the record; alignment is here, as that library leaves it to callers).
//
// A message is Verified when an SPF pass or a DKIM pass is aligned with the
// From domain: that is a DMARC pass when the domain publishes a record, and
// the same test, with relaxed alignment, when it publishes none (so a small
// business without DMARC but with DKIM or SPF is still recognised, while a
// domain with nothing proves nothing).
package senderauth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Resolver is the DNS the checks ask: System in production, a fixed zone
// in tests (app/inbound/senderauth/dnstest). *net.Resolver satisfies it.
// Errors follow net's: *net.DNSError with IsNotFound for a name that does
// not exist, IsTemporary for a failure worth retrying.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// System is the machine's resolver, except for the special-use names of
// RFC 6761 (.test, .example, .invalid, .localhost), which real DNS never
// answers: they are NXDOMAIN at once, without asking anyone.
var System Resolver = specialUse{net.DefaultResolver}

type specialUse struct{ *net.Resolver }

func reserved(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, tld := range []string{"test", "example", "invalid", "localhost"} {
		if name == tld || strings.HasSuffix(name, "."+tld) {
			return true
		}
	}
	return false
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (s specialUse) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if reserved(name) {
		return nil, notFound(name)
	}
	return s.Resolver.LookupTXT(ctx, name)
}

func (s specialUse) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if reserved(name) {
		return nil, notFound(name)
	}
	return s.Resolver.LookupMX(ctx, name)
}

func (s specialUse) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if reserved(host) {
		return nil, notFound(host)
	}
	return s.Resolver.LookupIPAddr(ctx, host)
}

// Envelope is what the SMTP conversation said about the sender. An
// uploaded .eml has none (IP nil): only its DKIM signatures can speak for it.
type Envelope struct {
	IP       net.IP
	HELO     string
	MailFrom string // "" for the null sender (bounces)
}

// Signature is one DKIM signature's outcome.
type Signature struct {
	Domain string // d=
	Result string // pass, fail, permerror, temperror
}

// Result is the verdict on one message, with the RFC 8601 result values.
type Result struct {
	SPF       string // pass, fail, softfail, neutral, none, temperror, permerror
	SPFDomain string // what SPF checked: the MAIL FROM domain, or HELO's for a null sender
	DKIM      []Signature
	DMARC     string // pass, fail, none (no record), temperror, permerror
	Policy    string // the record's p= (sp= for a subdomain); "" without one
	// From is the domain of the header From, lower-case; "" when the header
	// does not hold exactly one address, which no check can then vouch for.
	From     string
	Verified bool
}

// maxSignatures bounds the DKIM work one message can cause.
const maxSignatures = 5

// Check evaluates a raw message. It never fails: what could not be
// checked is in the result (temperror, permerror), and Temporary says
// whether asking again later could change the verdict.
func Check(ctx context.Context, r Resolver, raw []byte, env Envelope) Result {
	res := Result{SPF: "none", DMARC: "none"}
	txt := func(name string) ([]string, error) { return r.LookupTXT(ctx, name) }

	if env.IP != nil {
		res.SPFDomain = domainOf(env.MailFrom)
		if res.SPFDomain == "" {
			res.SPFDomain = strings.ToLower(strings.TrimSuffix(env.HELO, "."))
		}
		v, _ := spf.CheckHostWithSender(env.IP, env.HELO, env.MailFrom, spf.WithResolver(r), spf.WithContext(ctx))
		res.SPF = string(v)
	}

	verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: txt, MaxVerifications: maxSignatures})
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) {
		// The message could not be read for signatures at all.
		res.DKIM = append(res.DKIM, Signature{Result: "permerror"})
	}
	for _, v := range verifs {
		s := Signature{Domain: strings.ToLower(v.Domain), Result: "pass"}
		switch {
		case v.Err == nil:
		case dkim.IsTempFail(v.Err):
			s.Result = "temperror"
		case dkim.IsPermFail(v.Err):
			s.Result = "permerror"
		default:
			s.Result = "fail" // the signature does not match: changed in transit, or forged
		}
		res.DKIM = append(res.DKIM, s)
	}

	res.From = headerFromDomain(raw)
	if res.From == "" {
		res.DMARC = "permerror"
		return res
	}
	rec, recErr := lookupPolicy(res.From, txt)
	var adkim, aspf dmarc.AlignmentMode = dmarc.AlignmentRelaxed, dmarc.AlignmentRelaxed
	switch {
	case recErr == nil:
		adkim, aspf = rec.DKIMAlignment, rec.SPFAlignment
		res.Policy = string(rec.Policy)
		if rec.SubdomainPolicy != "" && orgDomain(res.From) != res.From {
			res.Policy = string(rec.SubdomainPolicy)
		}
	case dmarc.IsTempFail(recErr):
		res.DMARC = "temperror"
	case errors.Is(recErr, dmarc.ErrNoPolicy):
	default:
		res.DMARC = "permerror" // a record that does not parse: no policy to apply
	}
	for _, s := range res.DKIM {
		if s.Result == "pass" && aligned(s.Domain, res.From, adkim) {
			res.Verified = true
		}
	}
	if res.SPF == "pass" && aligned(res.SPFDomain, res.From, aspf) {
		res.Verified = true
	}
	switch {
	case recErr == nil && res.Verified:
		res.DMARC = "pass"
	case recErr == nil:
		res.DMARC = "fail"
	}
	return res
}

// Temporary reports a message that is not verified only because DNS
// failed for now: the SMTP listener asks the sender to try again later
// rather than take a customer's real message for an impostor's.
func (r Result) Temporary() bool {
	if r.Verified {
		return false
	}
	if r.DMARC == "temperror" || r.SPF == "temperror" {
		return true
	}
	for _, s := range r.DKIM {
		if s.Result == "temperror" {
			return true
		}
	}
	return false
}

// String is the Authentication-Results header value (RFC 8601) for the
// host that checked, kept with the message: "host; spf=pass
// smtp.mailfrom=a.es; dkim=pass header.d=a.es; dmarc=pass (p=reject)
// header.from=a.es". Every value in it is a domain or a result word.
func (r Result) String(host string) string {
	var b strings.Builder
	b.WriteString(host + "; spf=" + r.SPF)
	if r.SPFDomain != "" {
		b.WriteString(" smtp.mailfrom=" + r.SPFDomain)
	}
	if len(r.DKIM) == 0 {
		b.WriteString("; dkim=none")
	}
	for _, s := range r.DKIM {
		b.WriteString("; dkim=" + s.Result)
		if s.Domain != "" {
			b.WriteString(" header.d=" + s.Domain)
		}
	}
	b.WriteString("; dmarc=" + r.DMARC)
	if r.Policy != "" {
		b.WriteString(" (p=" + r.Policy + ")")
	}
	if r.From != "" {
		b.WriteString(" header.from=" + r.From)
	}
	return b.String()
}

// lookupPolicy finds the From domain's DMARC record, or its organisational
// domain's (RFC 7489 6.6.3).
func lookupPolicy(domain string, txt func(string) ([]string, error)) (*dmarc.Record, error) {
	opts := &dmarc.LookupOptions{LookupTXT: txt}
	rec, err := dmarc.LookupWithOptions(domain, opts)
	if errors.Is(err, dmarc.ErrNoPolicy) {
		if org := orgDomain(domain); org != domain {
			return dmarc.LookupWithOptions(org, opts)
		}
	}
	return rec, err
}

// aligned compares an authenticated domain with the From domain: equal
// (strict), or under the same organisational domain (relaxed).
func aligned(authenticated, from string, mode dmarc.AlignmentMode) bool {
	if authenticated == "" {
		return false
	}
	if authenticated == from {
		return true
	}
	return mode != dmarc.AlignmentStrict && orgDomain(authenticated) == orgDomain(from)
}

// orgDomain is the registered domain under its public suffix
// (mail.cliente.es → cliente.es); a name that is itself a suffix stays as is.
func orgDomain(d string) string {
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(addr[at+1:], "<> "), "."))
}

// headerFromDomain is the domain of the From header, only when the message
// has exactly one From field with exactly one address: with two, a mail
// client may show one while a signature covers the other (RFC 7489 6.6.1).
func headerFromDomain(raw []byte) string {
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil || len(h.Values("From")) != 1 {
		return ""
	}
	list, err := (&mail.Header{Header: message.Header{Header: h}}).AddressList("From")
	if err != nil || len(list) != 1 {
		return ""
	}
	return domainOf(list[0].Address)
}
