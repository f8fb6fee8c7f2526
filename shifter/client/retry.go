package client

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// A shifter that restarts refuses connections for a moment, and a proxy in
// front of it answers 502, 503 or 504 meanwhile. A call tries again, with a
// capped and jittered backoff, for as long as its context and the client's
// retry window allow, when trying again cannot apply a write twice.

// DefaultRetryFor is how long one call keeps trying a shifter that does not
// answer, unless its context ends sooner: long enough for a restart.
const DefaultRetryFor = time.Minute

// Backoff of a call between its attempts.
const (
	firstRetry   = 100 * time.Millisecond
	longestRetry = 2 * time.Second
)

// WithRetryFor sets how long one call keeps trying a shifter that does not
// answer (0: never). The default is DefaultRetryFor; a context deadline that
// comes sooner ends the retries first.
func WithRetryFor(d time.Duration) Option { return func(o *options) { o.retryFor = d } }

// unavailableError is a shifter that could not be reached or was answered
// for by a proxy with 502, 503 or 504.
type unavailableError struct {
	err error
	// sent is false when the request never left (the connection was
	// refused): then even a POST may be sent again.
	sent bool
}

func (e *unavailableError) Error() string { return "shifter unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// Unavailable reports whether err says the shifter could not be reached or
// its proxy answered 502, 503 or 504: what a restart looks like. A wait may
// go on waiting after such an error.
func Unavailable(err error) bool {
	var u *unavailableError
	return errors.As(err, &u)
}

// transportError returns err, an error of http.Client.Do for a request its
// caller did not cancel, as an unavailableError when it is what a restart
// looks like: a refused connection, one reset or closed before the answer,
// an attempt that timed out. Anything else (a certificate the client does
// not trust) will not change by trying again.
func transportError(err error) error {
	var op *net.OpError
	var timeout net.Error
	switch {
	case errors.As(err, &op) && op.Op == "dial" && errors.Is(err, syscall.ECONNREFUSED),
		// net/http's unexported error for a connection the server closed
		// before the request was written to it.
		strings.HasSuffix(err.Error(), "http: server closed idle connection"):
		return &unavailableError{err: err, sent: false}
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &timeout) && timeout.Timeout():
		return &unavailableError{err: err, sent: true}
	}
	return err
}

// unavailableStatus reports whether status is a proxy saying the shifter
// behind it is not there.
func unavailableStatus(status int) bool {
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryable reports whether a request with method may be sent again after
// err. Reads may; so may PUT and DELETE, which are idempotent and carry the
// revision they expect (sent twice, the second finds the first applied and
// answers a conflict, never a second change). A POST queues a command, so it
// is sent again only when it never left.
func retryable(method string, err error) bool {
	var u *unavailableError
	if !errors.As(err, &u) {
		return false
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return !u.sent
}

// backoff is a capped exponential wait with jitter: each wait is drawn from
// the upper half of a ceiling that doubles from first to longest, so the
// clients of a shifter that restarted do not all come back at once.
type backoff struct {
	first, longest, ceiling time.Duration
}

func newBackoff(first, longest time.Duration) *backoff {
	return &backoff{first: first, longest: longest, ceiling: first}
}

// next returns the wait before the next attempt.
func (b *backoff) next() time.Duration {
	d := b.ceiling
	b.ceiling = min(2*b.ceiling, b.longest)
	return d/2 + rand.N(d/2+1)
}

// reset starts again from the shortest wait.
func (b *backoff) reset() { b.ceiling = b.first }
