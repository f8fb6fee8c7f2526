package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Reconnection of event streams.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 15 * time.Second
	// idleTimeout is three of the server's heartbeats: a stream silent
	// for that long is dead (a half-open connection) and reopened.
	idleTimeout = 3 * wire.Heartbeat
)

// Follow calls fn with every event of the endpoint's trail after sequence
// after, in order and each once, then with new events as they happen. A
// broken stream is reopened from the last event fn saw, with a capped and
// jittered backoff. Follow returns fn's error, ctx's error when it is done, or an
// error retrying cannot fix (the endpoint is not visible, the token is not
// valid).
func (c *Client) Follow(ctx context.Context, endpoint string, after int64, fn func(rollout.Event) error) error {
	f := &follower{c: c, endpoint: endpoint, after: after, last: after, fn: fn}
	pause := newBackoff(minBackoff, maxBackoff)
	for {
		delivered, err := f.stream(ctx)
		var final *finalError
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &final):
			return final.err
		case delivered:
			pause.reset()
		}
		backoff := pause.next()
		level := c.logger.Warn
		if errors.Is(err, io.EOF) {
			level = c.logger.Debug // the server ended the stream, as at a restart
		}
		level("event stream interrupted; reconnecting", "endpoint", endpoint, "last_seq", f.last, "backoff", backoff, "error", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
}

// finalError ends Follow instead of reconnecting.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }

// follower is the position of one Follow in a trail.
type follower struct {
	c        *Client
	endpoint string
	// after is where Follow started, last the sequence of the last event
	// given to fn.
	after, last int64
	fn          func(rollout.Event) error
}

// stream reads one connection until it breaks. It reports whether it gave
// fn any event, and why it ended: io.EOF when the server closed it, a
// *finalError when Follow must stop.
func (f *follower) stream(ctx context.Context) (delivered bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := request{
		method: http.MethodGet,
		path:   []string{"endpoints", f.endpoint, "events"},
		query:  url.Values{"after": {seqString(f.after)}},
		header: http.Header{"Accept": {wire.EventStreamType}},
	}
	if f.last != f.after {
		r.header.Set(wire.LastEventIDHeader, seqString(f.last))
	}
	req, err := f.c.newRequest(ctx, r)
	if err != nil {
		return false, &finalError{err}
	}
	resp, err := f.c.http.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		err := responseError(req, resp)
		if rollout.ErrorCode(err) != rollout.EINTERNAL {
			err = &finalError{err} // a 4xx answer will not change on its own
		}
		return false, err
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wire.EventStreamType) {
		return false, &finalError{fmt.Errorf("events of %q: the shifter answered %q, not an event stream", f.endpoint, ct)}
	}

	idle := time.AfterFunc(idleTimeout, cancel)
	defer idle.Stop()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 0, 64<<10), wire.MaxBodyBytes)
	var data strings.Builder
	for scanner.Scan() {
		idle.Reset(idleTimeout)
		line := scanner.Text()
		if line != "" {
			// Comments (heartbeats) start with ':'; the event's own
			// sequence and type are in its data, so only data matters.
			if value, ok := strings.CutPrefix(line, "data:"); ok {
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(strings.TrimPrefix(value, " "))
			}
			continue
		}
		if data.Len() == 0 {
			continue
		}
		var ev rollout.Event
		if err := json.Unmarshal([]byte(data.String()), &ev); err != nil {
			return delivered, &finalError{fmt.Errorf("event stream of %q: undecodable event: %w", f.endpoint, err)}
		}
		data.Reset()
		if ev.Seq <= f.last {
			continue // already delivered before a reconnection
		}
		f.last, delivered = ev.Seq, true
		if err := f.fn(ev); err != nil {
			return delivered, &finalError{err}
		}
	}
	if err := scanner.Err(); err != nil {
		if ctx.Err() != nil && !idle.Stop() {
			return delivered, fmt.Errorf("event stream of %q silent for %s", f.endpoint, idleTimeout)
		}
		return delivered, err
	}
	return delivered, io.EOF
}
