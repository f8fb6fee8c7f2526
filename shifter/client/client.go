// Package client is the Go client of the shifter's API v1, used by the
// Terraform provider and the CLI. It speaks package wire, as the server
// does, so the two cannot drift, and it links nothing of the server. It
// returns the server's errors as *rollout.Error: rollout.ErrorCode and
// rollout.ErrorField work on the client side exactly as they do in the
// shifter.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/wait"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// DefaultTimeout bounds one request (not an event stream). Every call is a
// single read or write in the shifter's store; waiting for a rollout is the
// caller's loop, not a long request.
const DefaultTimeout = 30 * time.Second

const userAgent = "ionroller-client"

// Client talks to one shifter. It is safe for concurrent use.
type Client struct {
	base    *url.URL
	http    *http.Client
	token   string
	timeout time.Duration
	// retryFor is how long a call keeps trying a shifter that does not
	// answer.
	retryFor time.Duration
	logger   hclog.Logger
}

// Option configures New.
type Option func(*options)

type options struct {
	token      string
	caBundle   []byte
	timeout    time.Duration
	retryFor   time.Duration
	httpClient *http.Client
	logger     hclog.Logger
}

// WithToken authenticates every request with a bearer token.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithCABundle trusts the PEM certificates in pem, instead of the system's
// roots, for an https shifter: one run with its own CA.
func WithCABundle(pem []byte) Option { return func(o *options) { o.caBundle = pem } }

// WithTimeout bounds each request (0: no bound). The default is
// DefaultTimeout. Event streams are not bounded.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithHTTPClient sends requests through hc (a copy of it; hc is not
// changed). Give it no Timeout: that would cut event streams too.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithLogger logs every request (method, path, status, duration) at debug
// level, and its headers at trace level with the token redacted. Bodies are
// never logged: they can hold environment values.
func WithLogger(l hclog.Logger) Option { return func(o *options) { o.logger = l } }

// New returns a client of the shifter at addr, an http:// or https:// URL,
// possibly with a path prefix when the shifter sits behind a proxy.
func New(addr string, opts ...Option) (*Client, error) {
	base, err := url.Parse(addr)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("shifter address %q is not an http:// or https:// URL", addr)
	}
	o := options{timeout: DefaultTimeout, retryFor: DefaultRetryFor, logger: hclog.NewNullLogger()}
	for _, opt := range opts {
		opt(&o)
	}

	hc := &http.Client{}
	if o.httpClient != nil {
		copied := *o.httpClient
		hc = &copied
	}
	transport := hc.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	if o.caBundle != nil {
		if transport, err = withRoots(transport, o.caBundle); err != nil {
			return nil, err
		}
	}
	hc.Transport = &logTransport{next: transport, logger: o.logger}
	return &Client{base: base, http: hc, token: o.token, timeout: o.timeout, retryFor: o.retryFor, logger: o.logger}, nil
}

// withRoots returns a copy of transport that trusts only the certificates
// in pemCerts.
func withRoots(transport http.RoundTripper, pemCerts []byte) (http.RoundTripper, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemCerts) {
		return nil, errors.New("the CA bundle holds no PEM certificate")
	}
	t, ok := transport.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("a CA bundle needs an *http.Transport to set it on; the HTTP client has a %T", transport)
	}
	t = t.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	t.TLSClientConfig.RootCAs = pool
	return t, nil
}

// request is one call of the API.
type request struct {
	method string
	// path are the segments after /v1, escaped here.
	path   []string
	query  url.Values
	header http.Header
	body   any
}

// url returns the address of path, the segments after /v1.
func (c *Client) url(path []string) *url.URL {
	segments := []string{"v1"}
	for _, s := range path {
		segments = append(segments, url.PathEscape(s))
	}
	return c.base.JoinPath(segments...)
}

// newRequest builds the HTTP request of r.
func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	u := c.url(r.path)
	u.RawQuery = r.query.Encode()

	var body io.Reader
	if r.body != nil {
		data, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encode %s %s: %w", r.method, u.Path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for name, values := range r.header {
		req.Header[name] = values
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("User-Agent", userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return req, nil
}

// call sends r and decodes a successful answer into out (nil: discard it).
// A shifter that does not answer is tried again while r may be sent again
// (see retryable), within the client's retry window and ctx's deadline.
func (c *Client) call(ctx context.Context, r request, out any) error {
	giveUp := time.Now().Add(c.retryFor)
	if deadline, ok := ctx.Deadline(); ok && deadline.Before(giveUp) {
		giveUp = deadline
	}
	pause := newBackoff(firstRetry, longestRetry)
	// resent is set once a write went unanswered: it may have been
	// applied, which explains a conflict on the next attempt.
	resent := false
	var last error // the answer of the attempt before
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, r, out)
		if ctx.Err() != nil && err != nil && last != nil {
			// The context ended during a retry: what the shifter's side
			// answered before says more than the context's end.
			return fmt.Errorf("%w (tried %d times; the context ended during attempt %d)", last, attempt-1, attempt)
		}
		if ctx.Err() != nil || !retryable(r.method, err) {
			if resent && rollout.ErrorCode(err) == rollout.ECONFLICT {
				return fmt.Errorf("%w (an earlier attempt went unanswered and may have been applied: read it back)", err)
			}
			return err
		}
		d := pause.next()
		switch {
		case time.Now().Add(d).After(giveUp) && attempt == 1:
			return err
		case time.Now().Add(d).After(giveUp):
			return fmt.Errorf("%w (tried %d times)", err, attempt)
		}
		var u *unavailableError
		write := r.method == http.MethodPut || r.method == http.MethodDelete
		resent = resent || (write && errors.As(err, &u) && u.sent)
		last = err
		c.logger.Warn("shifter unavailable; trying again", "method", r.method, "path", strings.Join(r.path, "/"),
			"attempt", attempt, "backoff", d, "error", err)
		if wait.Sleep(ctx, d) != nil {
			return err
		}
	}
}

// attempt sends r once.
func (c *Client) attempt(ctx context.Context, r request, out any) error {
	callCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.newRequest(callCtx, r)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		err := responseError(req, resp)
		if unavailableStatus(resp.StatusCode) {
			return &unavailableError{err: err, sent: true}
		}
		return err
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body) // lets the connection be reused
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// responseError returns the error an unsuccessful answer carries. An answer
// that is not the shifter's (a proxy's page) becomes an internal error
// quoting the status.
func responseError(req *http.Request, resp *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(resp.Body, wire.MaxBodyBytes))
	var e wire.ErrorResponse
	if err == nil && json.Unmarshal(body, &e) == nil && e.Error != nil {
		if e.Error.Code == "" {
			e.Error.Code = wire.StatusErrorCode(resp.StatusCode)
		}
		return e.Error
	}
	return rollout.Errorf(rollout.EINTERNAL, "%s %s: unexpected answer %q, not from the shifter's API (a proxy in between?)",
		req.Method, req.URL.Path, resp.Status)
}

func seqString(seq int64) string { return strconv.FormatInt(seq, 10) }
