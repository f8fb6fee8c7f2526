package api

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/time/rate"
)

// What a source address may get wrong: a burst of failed authentications,
// then one more per failureRefill. Past that its requests are answered 429
// before any token is looked at, so guessing tokens gets nowhere.
const (
	failureBurst  = 20
	failureRefill = time.Second
	// maxSources bounds the addresses remembered; beyond it, those that
	// have nothing against them any more are forgotten.
	maxSources = 4096
	// Failure log lines: a flood of bad tokens must not flood the log.
	logBurst  = 5
	logRefill = time.Second
)

// guard counts failed authentications by source address (the connection's
// peer: a header such as X-Forwarded-For is the client's to forge) and logs
// them at warn, rate-limited.
type guard struct {
	logger hclog.Logger

	mu         sync.Mutex
	sources    map[string]*rate.Limiter
	log        *rate.Limiter
	suppressed int
}

func newGuard(logger hclog.Logger) *guard {
	return &guard{logger: logger, sources: map[string]*rate.Limiter{}, log: rate.NewLimiter(rate.Every(logRefill), logBurst)}
}

// source is the address a request comes from, without its port.
func source(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// wait returns how long src must wait before its requests are looked at
// again: 0 while it may try.
func (g *guard) wait(src string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.sources[src]
	if l == nil {
		return 0
	}
	tokens := l.TokensAt(now)
	if tokens >= 1 {
		return 0
	}
	g.logLocked(now, "request refused: too many failed authentications from this source", src, "")
	return time.Duration((1 - tokens) * float64(failureRefill))
}

// failed records a failed authentication from src.
func (g *guard) failed(src, reason string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.sources[src]
	if l == nil {
		if len(g.sources) >= maxSources {
			g.forgetLocked(now)
		}
		l = rate.NewLimiter(rate.Every(failureRefill), failureBurst)
		g.sources[src] = l
	}
	l.AllowN(now, 1)
	g.logLocked(now, "authentication failed", src, reason)
}

// forgetLocked drops the sources whose failures have all been forgiven.
func (g *guard) forgetLocked(now time.Time) {
	for src, l := range g.sources {
		if l.TokensAt(now) >= failureBurst {
			delete(g.sources, src)
		}
	}
}

// logLocked writes a warning unless the log's own budget is spent; the
// next line written says how many were left out.
func (g *guard) logLocked(now time.Time, msg, src, reason string) {
	if !g.log.AllowN(now, 1) {
		g.suppressed++
		return
	}
	args := []any{"source", src}
	if reason != "" {
		args = append(args, "reason", reason)
	}
	if g.suppressed > 0 {
		args = append(args, "lines_suppressed", g.suppressed)
		g.suppressed = 0
	}
	g.logger.Warn(msg, args...)
}
