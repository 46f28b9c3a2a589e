package aeat

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"pulso/app/verifactu"
)

// DefaultTimeout bounds one exchange with the service, connection to last
// byte. A request of 1000 records is about 3 MB and the AEAT answers
// within seconds; a minute covers a slow day without tying a worker up.
const DefaultTimeout = 60 * time.Second

// maxAnswer bounds what is read of an answer: a full answer of 1000 lines
// is well under 2 MB.
const maxAnswer = 8 << 20

// Options configure a Client. The zero value talks to the real service
// of the environment, trusting the system's roots.
type Options struct {
	// Endpoint replaces verifactu.SOAPEndpoint(env) (tests: the fake's URL).
	Endpoint string
	// RootCAs replaces the system roots for the server's certificate
	// (tests: the fake's CA). Never skip verification instead.
	RootCAs *x509.CertPool
	// Timeout bounds one exchange; 0 is DefaultTimeout.
	Timeout time.Duration
}

// Client posts requests to the AEAT's SistemaFacturacion service with an
// organisation's certificate. It is safe for concurrent use, but the
// sending job should not overlap two requests of one issuer (chain order
// and TiempoEsperaEnvio).
type Client struct {
	endpoint string
	http     *http.Client
}

// NewClient returns a Client for env presenting cert.
func NewClient(env verifactu.Environment, cert *Certificate, opt Options) *Client {
	endpoint := opt.Endpoint
	if endpoint == "" {
		endpoint = verifactu.SOAPEndpoint(env)
	}
	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig: &tls.Config{
			// TLS 1.2 only: under 1.3 the client learns that the server
			// refused its certificate after its own handshake has ended,
			// as a broken pipe while writing the request, which reads like
			// a network failure and would be retried for ever. Under 1.2
			// the refusal ends the handshake, so a bad certificate is
			// Refused. The AEAT's endpoints speak 1.2.
			MinVersion: tls.VersionTLS12,
			MaxVersion: tls.VersionTLS12,
			RootCAs:    opt.RootCAs,
			// The org has one certificate: present it whatever CA names
			// the server lists (Go would otherwise send none when its issuer
			// is not among them, and the refusal would hide the reason).
			GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert.tls, nil },
		},
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &Client{endpoint: endpoint, http: &http.Client{Transport: tr, Timeout: timeout}}
}

// Close drops idle connections (when the org's certificate changes).
func (c *Client) Close() { c.http.CloseIdleConnections() }

// Outcome is what became of a request.
type Outcome int

const (
	// Answered: the AEAT answered record by record (Result.Response);
	// store each line's answer. EstadoEnvio may still be Incorrecto.
	Answered Outcome = iota + 1
	// Faulted: the AEAT refused the whole request with a SOAP fault
	// (Result.Fault, an AEAT 41xx code mostly): nothing was registered.
	// Sending the same request again gets the same fault; the records
	// wait until what the fault names is fixed (a certificate without
	// the right to present, 4112; a schema error, 4102, is a bug).
	Faulted
	// RetryLater: the service failed (HTTP 5xx without a fault), did not
	// answer in time, or the connection broke. The AEAT may have
	// registered the records (Result.MaybeReceived): send the same
	// records again after a pause; those it holds come back as
	// duplicates (3000), which ResponseLine.Accepted counts as accepted.
	RetryLater
	// Refused: the request was not taken, and retrying unchanged will
	// not help: HTTP 4xx (a wrong endpoint, a certificate the AEAT does
	// not accept), a TLS refusal either way (the AEAT refused the
	// certificate, or the server's certificate is not trusted: a
	// proxy or an attack), an answer that is not the service's. Tell the
	// admin; Result.Err says what happened.
	Refused
)

func (o Outcome) String() string {
	switch o {
	case Answered:
		return "answered"
	case Faulted:
		return "faulted"
	case RetryLater:
		return "retry-later"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is one exchange with the service.
type Result struct {
	Outcome  Outcome
	Response *verifactu.Response // Answered
	Fault    *verifactu.Fault    // Faulted
	// Status is the HTTP status, 0 when none arrived.
	Status int
	// Body is the answer as received (bounded), to keep with the records
	// for audit; nil when none arrived.
	Body []byte
	// MaybeReceived is set with RetryLater when the request may have
	// reached the service (it was written, no answer came back).
	MaybeReceived bool
	// Err says what went wrong for RetryLater and Refused (and is the
	// *verifactu.Fault for Faulted).
	Err error
}

// Send posts request, the output of verifactu.BuildRequest (1 to
// MaxRecords records of one issuer, in chain order), in its SOAP
// envelope, and reads the answer. It does not retry: the caller decides
// when, honouring TiempoEsperaEnvio.
func (c *Client) Send(ctx context.Context, request []byte) Result {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(verifactu.SOAP(request)))
	if err != nil {
		return Result{Outcome: Refused, Err: err}
	}
	hreq.Header.Set("Content-Type", "text/xml; charset=utf-8")
	hreq.Header.Set("SOAPAction", `""`)
	resp, err := c.http.Do(hreq)
	if err != nil {
		return transportFailure(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		// The request went through; its answer was cut.
		return Result{Outcome: RetryLater, Status: resp.StatusCode, MaybeReceived: true, Err: fmt.Errorf("aeat: reading the answer: %w", err)}
	}
	return classify(resp.StatusCode, body)
}

// classify reads an answer. SOAP 1.1 sends faults with status 500, so
// the body is read before the status is judged.
func classify(status int, body []byte) Result {
	r := Result{Status: status, Body: body}
	parsed, err := verifactu.ParseResponse(body)
	var fault *verifactu.Fault
	switch {
	case errors.As(err, &fault):
		r.Outcome, r.Fault, r.Err = Faulted, fault, fault
		return r
	case err == nil && status == http.StatusOK:
		r.Outcome, r.Response = Answered, parsed
		return r
	}
	switch {
	case status >= 500:
		r.Outcome, r.MaybeReceived = RetryLater, true
		r.Err = fmt.Errorf("aeat: HTTP %d", status)
	case status == http.StatusOK && len(bytes.TrimSpace(body)) == 0:
		// No answer at all, although the request got through: the
		// records may be registered, and sending them again is safe
		// (the AEAT answers a resent record as a duplicate).
		r.Outcome, r.MaybeReceived = RetryLater, true
		r.Err = errors.New("aeat: HTTP 200 with an empty answer")
	case status >= 400:
		r.Outcome = Refused
		r.Err = fmt.Errorf("aeat: HTTP %d", status)
	case err != nil:
		// 200 (or 3xx) with something that is not the service's answer:
		// a portal, a proxy page. Whether the request got through is not
		// known, so it counts as refused, for a person to look at,
		// rather than retried blindly forever.
		r.Outcome = Refused
		r.Err = fmt.Errorf("aeat: HTTP %d: %w", status, err)
	default:
		r.Outcome = Refused
		r.Err = fmt.Errorf("aeat: HTTP %d", status)
	}
	return r
}

// transportFailure sorts errors where no answer arrived.
func transportFailure(err error) Result {
	var verr *tls.CertificateVerificationError
	var uerr x509.UnknownAuthorityError
	var herr x509.HostnameError
	var op *net.OpError
	switch {
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr):
		return Result{Outcome: Refused, Err: fmt.Errorf("aeat: the server's certificate is not trusted: %w", err)}
	case errors.As(err, &op) && op.Op == "remote error":
		// A TLS alert from the server: it refused the certificate (or
		// there was none), before any request was read.
		return Result{Outcome: Refused, Err: fmt.Errorf("aeat: the service refused the certificate: %w", err)}
	case errors.Is(err, context.Canceled):
		return Result{Outcome: RetryLater, MaybeReceived: true, Err: err}
	}
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return Result{Outcome: RetryLater, MaybeReceived: true, Err: fmt.Errorf("aeat: no answer in time: %w", err)}
	}
	// Refused connections, resets, DNS: whether a byte of the request
	// arrived is not known here, so assume it may have (resending is safe).
	return Result{Outcome: RetryLater, MaybeReceived: true, Err: fmt.Errorf("aeat: %w", err)}
}
