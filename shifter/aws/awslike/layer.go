package awslike

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
)

var _ http.Handler = (*Layer)(nil)

const (
	// ExemptHeader, set to "1", marks a call of a test's own setup or
	// inspection: it takes no tokens, is never refused and gets no
	// latency. The code under test never sets it.
	ExemptHeader = "X-Awslike-Exempt"
	// AccountHeader is how moto's server picks the account a request acts
	// in.
	AccountHeader = "x-moto-account-id"
	// DefaultAccount is moto's account for requests without AccountHeader.
	DefaultAccount = "123456789012"
)

// Time scales. A scale is wall-clock seconds per AWS second: it shortens
// what AWS takes time to do (initial health checks, draining), not the
// budgets, which pace the real calls of the code under test.
const (
	// DefaultTimeScale is AWS's own pace: for the demo.
	DefaultTimeScale = 1.0
	// TestTimeScale makes an AWS second 10 ms: a default target group's
	// initial checks (30 s × 5) take 1.5 s, its draining (300 s) 3 s.
	TestTimeScale = 0.01
)

// Latency is how long the layer holds each call before answering it: Base
// plus a uniform draw from [0, Jitter).
type Latency struct {
	Base, Jitter time.Duration
}

// DefaultLatency is 1 to 3 ms: enough that calls take time and interleave,
// not enough to slow the suite much (moto itself takes about 4 ms a call).
// AWS answers in tens of milliseconds.
func DefaultLatency() Latency {
	return Latency{Base: time.Millisecond, Jitter: 2 * time.Millisecond}
}

// Mode is how a brownout answers.
type Mode int

const (
	// Unavailable answers 503 ServiceUnavailable at once.
	Unavailable Mode = iota
	// Stall holds each call until the brownout ends (then serves it) or
	// the client gives up.
	Stall
)

// Layer is an http.Handler that forwards AWS API calls to moto and changes
// what AWS does differently. It is safe for concurrent use.
type Layer struct {
	upstream  *url.URL
	proxy     *httputil.ReverseProxy
	now       func() time.Time
	timeScale float64
	logger    hclog.Logger

	buckets *budget.Buckets
	stats   *stats

	mu        sync.Mutex
	latency   Latency
	brownouts []*brownout
	elb       map[accountRegion]*elbState
	ecs       map[accountRegion]*ecsState
	unhealthy map[string]map[string]bool // target group ARN → target IDs; "" is the whole group
	netKinds  netKinds
}

type brownout struct {
	account string         // empty: every account
	service budget.Service // empty: every service
	mode    Mode
	done    chan struct{} // closed when it ends
}

type accountRegion struct{ account, region string }

// Option configures a Layer.
type Option func(*Layer)

// WithTimeScale sets the wall-clock seconds per AWS second of the target
// health timeline (DefaultTimeScale unless set; tests use TestTimeScale).
func WithTimeScale(f float64) Option { return func(l *Layer) { l.timeScale = f } }

// WithLatency sets the latency of each call (DefaultLatency unless set).
func WithLatency(lat Latency) Option { return func(l *Layer) { l.latency = lat } }

// WithBudgetScale sets the share of AWS's budgets the layer grants (1 unless
// set): 0.5 acts as if another tool in the account used the other half.
func WithBudgetScale(f float64) Option { return func(l *Layer) { l.buckets.SetScale(f) } }

// WithClock makes the layer read time from now: the token buckets and the
// target health timeline. Latency and brownouts run on real timers.
func WithClock(now func() time.Time) Option { return func(l *Layer) { l.now = now } }

// WithLogger sets where the layer logs (nowhere unless set).
func WithLogger(logger hclog.Logger) Option { return func(l *Layer) { l.logger = logger } }

// New returns a layer in front of the moto server at upstream.
func New(upstream string, opts ...Option) (*Layer, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("awslike: upstream %q is not an absolute URL", upstream)
	}
	l := &Layer{
		upstream:  u,
		now:       time.Now,
		timeScale: DefaultTimeScale,
		logger:    hclog.NewNullLogger(),
		buckets:   budget.NewBuckets(1),
		stats:     newStats(),
		latency:   DefaultLatency(),
		elb:       make(map[accountRegion]*elbState),
		ecs:       make(map[accountRegion]*ecsState),
		unhealthy: make(map[string]map[string]bool),
	}
	for _, o := range opts {
		o(l)
	}
	if l.timeScale <= 0 {
		return nil, fmt.Errorf("awslike: time scale %v is not positive", l.timeScale)
	}
	l.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Let the transport negotiate compression and undo it, so
			// the answers the layer rewrites are plain XML.
			pr.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: l.modifyResponse,
		ErrorHandler:   l.proxyError,
	}
	return l, nil
}

// callKey carries a request's call from ServeHTTP to the proxy's hooks.
type callKey struct{}

// ServeHTTP classifies the call, delays, refuses or throttles it as AWS
// would, forwards it to moto and rewrites what moto answers unlike AWS.
func (l *Layer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if _, service := scopeOf(r); service == budget.ELBv2 {
		// Only ELBv2 knows load balancers by moto's names: a DynamoDB item
		// or a metric dimension keeps the ARN it is given.
		body = toMoto(body)
	}
	c := classify(r, body)
	exempt := r.Header.Get(ExemptHeader) == "1"
	r.Header.Del(ExemptHeader)

	if exempt {
		l.stats.add(c, func(o *OpStats) { o.Exempt++ })
	} else if !l.admit(w, r, c) {
		return
	}

	if createsListener(c) {
		s := l.elbState(c.account, c.region)
		s.creating.Lock()
		defer s.creating.Unlock()
		if s.refuseDuplicateListener(r.Context(), w, c) {
			return
		}
	}
	if modifiesListener(c) {
		if body, err = l.elbState(c.account, c.region).modifyTLSListener(r.Context(), c, body); err != nil {
			writeError(w, c, http.StatusInternalServerError, "InternalFailure", err.Error())
			return
		}
	}
	if p, all := askAll(c); p != nil {
		c.page, body = p, all
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	l.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
	if c.service == budget.ELBv2 && r.Context().Err() != nil {
		// The caller went away (a shifter killed mid-call): moto may
		// have made the change without the layer seeing its answer, so
		// the calls of the next second read every listener afresh.
		s := l.elbState(c.account, c.region)
		s.mu.Lock()
		s.unsureUntil = time.Now().Add(time.Second)
		s.mu.Unlock()
	}
}

// admit applies latency, brownouts and budgets to a call of the code under
// test, answering it itself when AWS would not have served it.
func (l *Layer) admit(w http.ResponseWriter, r *http.Request, c *call) bool {
	l.stats.add(c, func(o *OpStats) { o.Calls++ })
	ctx := r.Context()
	if !sleep(ctx, l.drawLatency()) {
		return false
	}
	if b := l.brownoutFor(c); b != nil {
		switch b.mode {
		case Unavailable:
			l.stats.add(c, func(o *OpStats) { o.Unavailable++ })
			unavailable(w, c)
			return false
		case Stall:
			l.stats.add(c, func(o *OpStats) { o.Stalled++ })
			select {
			case <-b.done:
			case <-ctx.Done():
				return false // the client gave up: nobody to answer
			}
		}
	}
	if !l.buckets.Take(l.now(), c.account, c.region, c.charges) {
		l.stats.add(c, func(o *OpStats) { o.Throttled++ })
		throttle(w, c)
		return false
	}
	return true
}

func (l *Layer) drawLatency() time.Duration {
	l.mu.Lock()
	lat := l.latency
	l.mu.Unlock()
	d := lat.Base
	if lat.Jitter > 0 {
		d += rand.N(lat.Jitter)
	}
	return d
}

// sleep waits d, or less if ctx ends first; it reports whether ctx is
// still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// modifyResponse lets the layer see moto's successful answers: it rewrites
// those unlike AWS and follows changes to what load balancers forward to.
func (l *Layer) modifyResponse(resp *http.Response) error {
	c, ok := resp.Request.Context().Value(callKey{}).(*call)
	elb := c != nil && c.service == budget.ELBv2 && c.protocol == protoQuery
	ecs := c != nil && c.service == budget.ECS && followsECS(c.operation)
	if !ok || resp.StatusCode != http.StatusOK || (!elb && !ecs && c.page == nil) {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return err
	}
	var out []byte
	switch {
	case c.page != nil:
		out, err = c.page.cut(body)
	case ecs:
		out, err = l.afterECS(context.WithoutCancel(resp.Request.Context()), c, body)
	default:
		// Followed to the end even if the caller goes away meanwhile: the
		// change has taken effect in moto.
		out, err = l.afterELB(context.WithoutCancel(resp.Request.Context()), c, body)
	}
	if err != nil {
		return fmt.Errorf("%s after %s: %w", c.service, c.operation, err)
	}
	if c.operation == "CreateLoadBalancer" || c.operation == "DescribeLoadBalancers" {
		l.netKinds.learn(out)
	}
	out = l.netKinds.toAWS(out)
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// proxyError answers a call moto did not answer, or whose answer the layer
// could not follow, with the service's InternalFailure.
func (l *Layer) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	c, ok := r.Context().Value(callKey{}).(*call)
	if !ok || errors.Is(err, context.Canceled) {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	l.logger.Warn("call failed", "service", c.service, "operation", c.operation, "error", err)
	writeError(w, c, http.StatusInternalServerError, "InternalFailure", err.Error())
}

// SetBudgetScale changes the share of AWS's budgets the layer grants, at
// once: 0.5 acts as if another tool in the account used the other half.
func (l *Layer) SetBudgetScale(f float64) { l.buckets.SetScale(f) }

// Budgets returns the budgets in force: the published table times the
// budget scale.
func (l *Layer) Budgets() []budget.Limit { return l.buckets.Limits() }

// SetLatency changes the latency of the calls that follow.
func (l *Layer) SetLatency(lat Latency) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.latency = lat
}

// Stats returns the counts of calls per service, class and operation.
func (l *Layer) Stats() []OpStats { return l.stats.snapshot() }

// ResetStats forgets the counts so far.
func (l *Layer) ResetStats() { l.stats.reset() }

// Brownout makes service (every service if empty) answer account's calls
// (every account's if empty) as mode says for d of wall-clock time, or until
// end is called; several brownouts may overlap.
func (l *Layer) Brownout(account string, service budget.Service, d time.Duration, mode Mode) (end func()) {
	b := &brownout{account: account, service: service, mode: mode, done: make(chan struct{})}
	l.mu.Lock()
	l.brownouts = append(l.brownouts, b)
	l.mu.Unlock()
	t := time.AfterFunc(d, func() { l.endBrownout(b) })
	return func() {
		t.Stop()
		l.endBrownout(b)
	}
}

// EndBrownouts ends every brownout now; stalled calls go on to moto.
func (l *Layer) EndBrownouts() {
	l.mu.Lock()
	bs := append([]*brownout(nil), l.brownouts...)
	l.mu.Unlock()
	for _, b := range bs {
		l.endBrownout(b)
	}
}

func (l *Layer) endBrownout(b *brownout) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, x := range l.brownouts {
		if x == b {
			l.brownouts = append(l.brownouts[:i], l.brownouts[i+1:]...)
			close(b.done)
			return
		}
	}
}

func (l *Layer) brownoutFor(c *call) *brownout {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range l.brownouts {
		if (b.account == "" || b.account == c.account) && (b.service == "" || b.service == c.service) {
			return b
		}
	}
	return nil
}

// motoConfig reaches moto directly as account in region: the layer's own
// reads and Wipe's deletions, which AWS would not budget against the
// account's callers.
func (l *Layer) motoConfig(account, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(l.upstream.String()),
		RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{
			smithyhttp.SetHeaderValue(AccountHeader, account),
		},
	}
}

// scaled is how long an AWS duration takes on the layer's time scale.
func (l *Layer) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * l.timeScale)
}
