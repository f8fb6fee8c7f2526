package client_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// unavailableFirst answers the first n requests with a proxy's 503 and
// passes the rest to next; it counts every request.
type unavailableFirst struct {
	n, seen atomic.Int64
	next    http.Handler
}

func (u *unavailableFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if u.seen.Add(1) <= u.n.Load() {
		http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	u.next.ServeHTTP(w, r)
}

// behindFlakyProxy starts a shifter behind an unavailableFirst and returns
// the proxy and an admin client of it.
func behindFlakyProxy(t *testing.T) (*unavailableFirst, *client.Client) {
	proxy := &unavailableFirst{}
	_, srv := startShifter(t, func(h http.Handler) http.Handler {
		proxy.next = h
		return proxy
	})
	return proxy, newClient(t, srv.URL, client.WithToken(adminToken))
}

func TestReadsAndConditionalWritesRideOutA503(t *testing.T) {
	proxy, c := behindFlakyProxy(t)
	ctx := t.Context()

	proxy.n.Store(1)
	v, err := c.PutEndpoint(ctx, testEndpoint(), rollout.RevisionNew)
	if err != nil {
		t.Fatalf("create after a 503: %v", err)
	}
	if got := proxy.seen.Load(); got != 2 {
		t.Fatalf("%d requests, want the 503 and one more", got)
	}

	proxy.seen.Store(0)
	proxy.n.Store(2)
	got, err := c.GetEndpoint(ctx, "web")
	if err != nil || got.Endpoint.Revision != v.Endpoint.Revision {
		t.Fatalf("read after two 503s: %+v, %v", got.Endpoint, err)
	}
	if seen := proxy.seen.Load(); seen != 3 {
		t.Fatalf("%d requests, want two 503s and one more", seen)
	}
}

func TestACommandIsNotSentTwice(t *testing.T) {
	proxy, c := behindFlakyProxy(t)

	// A 503 may come from a proxy after the shifter queued the command:
	// sending it again could promote twice.
	proxy.n.Store(1)
	_, err := c.Act(t.Context(), "web", rollout.Command{Kind: rollout.CommandPromote})
	if !client.Unavailable(err) {
		t.Fatalf("error %v, want the shifter unavailable", err)
	}
	if seen := proxy.seen.Load(); seen != 1 {
		t.Fatalf("the command was sent %d times", seen)
	}
}

// TestARefusedConnectionThatComesBack: a read sent while nothing listens
// (a shifter restarting) is answered once the shifter listens again on its
// address.
func TestARefusedConnectionThatComesBack(t *testing.T) {
	sh := newShifter(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	refused := make(chan struct{}, 1)
	logger := hclog.New(&hclog.LoggerOptions{Output: signalWriter{contains: "trying again", signal: refused}})
	c := newClient(t, "http://"+addr, client.WithToken(adminToken), client.WithLogger(logger))
	done := make(chan error, 1)
	go func() {
		_, err := c.ListEndpoints(t.Context(), "")
		done <- err
	}()

	select {
	case <-refused:
	case err := <-done:
		t.Fatalf("the call ended before it was refused: %v", err)
	}
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(sh.server.Handler())
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	if err := <-done; err != nil {
		t.Fatalf("the call failed after the shifter came back: %v", err)
	}
}

func TestRetriesEndWithTheContext(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
	}))
	t.Cleanup(down.Close)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := newClient(t, down.URL).GetEndpoint(ctx, "web")
	if !client.Unavailable(err) || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Fatalf("error %v, want the proxy's 502", err)
	}
	if deadline, _ := ctx.Deadline(); time.Now().After(deadline.Add(time.Second)) {
		t.Fatalf("retried past the context's deadline")
	}
}

// TestAContextEndingDuringARetrySaysTheAnswerBefore: the context ends while
// an attempt after a 502 waits: the error is the 502, not the context's end.
func TestAContextEndingDuringARetrySaysTheAnswerBefore(t *testing.T) {
	var calls atomic.Int32
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			http.Error(w, "502 Bad Gateway", http.StatusBadGateway)
			return
		}
		<-r.Context().Done() // a proxy that hangs
	}))
	t.Cleanup(down.Close)
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := newClient(t, down.URL).GetEndpoint(ctx, "web")
	if !client.Unavailable(err) || !strings.Contains(err.Error(), "502 Bad Gateway") || !strings.Contains(err.Error(), "context ended during attempt 2") {
		t.Fatalf("error %v, want the 502 of attempt 1, and that the context ended during attempt 2", err)
	}
}

// signalWriter signals once a log line contains a text.
type signalWriter struct {
	contains string
	signal   chan struct{}
}

func (w signalWriter) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.contains) {
		select {
		case w.signal <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// TestAWriteAnsweredByNobodyIsNotAppliedTwice: the shifter applies a PUT
// whose answer a proxy loses (a 503 instead). Sent again with the revision
// it expects, the write is refused as a conflict that says so: the endpoint
// changed once.
func TestAWriteAnsweredByNobodyIsNotAppliedTwice(t *testing.T) {
	var lost atomic.Bool
	sh, srv := startShifter(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && lost.CompareAndSwap(false, true) {
				h.ServeHTTP(httptest.NewRecorder(), r)
				http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	c := newClient(t, srv.URL, client.WithToken(adminToken))

	_, err := c.PutEndpoint(t.Context(), testEndpoint(), rollout.RevisionNew)
	wantError(t, err, rollout.ECONFLICT, "")
	if !strings.Contains(err.Error(), "may have been applied") {
		t.Errorf("conflict %q does not say the first attempt may have been applied", err)
	}
	if ep, err := sh.store.GetEndpoint(t.Context(), "web"); err != nil || ep.Revision != 1 {
		t.Fatalf("stored endpoint at revision %d (%v), want created once", ep.Revision, err)
	}
}

// closeFirst closes the first n connections it accepts at once, as a
// shifter going down does, and hands on the rest.
type closeFirst struct {
	net.Listener
	n atomic.Int64
}

func (l *closeFirst) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || l.n.Add(-1) < 0 {
			return c, err
		}
		c.Close()
	}
}

func TestAReadRidesOutClosedConnections(t *testing.T) {
	sh := newShifter(t)
	srv := httptest.NewUnstartedServer(sh.server.Handler())
	closing := &closeFirst{Listener: srv.Listener}
	closing.n.Store(3)
	srv.Listener = closing
	srv.Start()
	t.Cleanup(srv.Close)

	if _, err := newClient(t, srv.URL, client.WithToken(adminToken)).ListEndpoints(t.Context(), ""); err != nil {
		t.Fatalf("a read after three closed connections: %v", err)
	}
	if left := closing.n.Load(); left >= 0 {
		t.Fatalf("%d connections were left to close: the read did not meet them", left+1)
	}
}
