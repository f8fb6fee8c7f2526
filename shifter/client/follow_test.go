package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// reconcilerEvent stores an event as the reconciler does, then publishes it.
func (sh *shifter) reconcilerEvent(t *testing.T, endpoint, message string) {
	t.Helper()
	ev := rollout.Event{Actor: rollout.ActorShifter, Type: rollout.EventStepApplied, Message: message}
	if _, err := sh.store.AppendEvents(t.Context(), endpoint, ev); err != nil {
		t.Fatal(err)
	}
	sh.server.Publish(endpoint)
}

// follow runs Follow in the background and returns the events it sees and
// a function that stops it and returns Follow's error.
func follow(t *testing.T, c *client.Client, endpoint string, after int64) (<-chan rollout.Event, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	events := make(chan rollout.Event, 100)
	done := make(chan error, 1)
	go func() {
		done <- c.Follow(ctx, endpoint, after, func(ev rollout.Event) error {
			events <- ev
			return nil
		})
	}()
	return events, func() error {
		cancel()
		return <-done
	}
}

func receive(t *testing.T, events <-chan rollout.Event, wantSeq ...int64) {
	t.Helper()
	for _, want := range wantSeq {
		select {
		case ev := <-events:
			if ev.Seq != want {
				t.Fatalf("event %d (%s), want %d", ev.Seq, ev.Message, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event %d", want)
		}
	}
}

func TestFollowBacklogThenLive(t *testing.T) {
	sh, srv := startShifter(t, nil)
	sh.reconcilerEvent(t, "web", "one")
	sh.reconcilerEvent(t, "web", "two")

	events, stop := follow(t, newClient(t, srv.URL, client.WithToken(adminToken)), "web", 1)
	receive(t, events, 2)
	sh.reconcilerEvent(t, "web", "three")
	receive(t, events, 3)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow returned %v, want context.Canceled", err)
	}
}

func TestFollowReconnectsFromLastEvent(t *testing.T) {
	// The test cuts the first stream, as a proxy or a restart would, and
	// hears the Last-Event-ID every stream opens with.
	opened := make(chan string, 10)
	cutFirst := make(chan context.CancelFunc, 1)
	var streams atomic.Int32
	cut := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept") != wire.EventStreamType {
				next.ServeHTTP(w, r)
				return
			}
			if streams.Add(1) == 1 {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				cutFirst <- cancel
				r = r.WithContext(ctx)
			}
			opened <- r.Header.Get(wire.LastEventIDHeader)
			next.ServeHTTP(w, r)
		})
	}
	sh, srv := startShifter(t, cut)
	sh.reconcilerEvent(t, "web", "one")
	sh.reconcilerEvent(t, "web", "two")

	events, stop := follow(t, newClient(t, srv.URL, client.WithToken(adminToken)), "web", 0)
	receive(t, events, 1, 2)
	(<-cutFirst)()
	for _, want := range []string{"", "2"} {
		select {
		case id := <-opened:
			if id != want {
				t.Fatalf("a stream opened with Last-Event-ID %q, want %q", id, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no stream opened with Last-Event-ID %q", want)
		}
	}
	sh.reconcilerEvent(t, "web", "three")
	receive(t, events, 3)
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		t.Fatalf("event %d delivered twice", ev.Seq)
	default:
	}
}

func TestFollowReturnsTheCallbacksError(t *testing.T) {
	sh, srv := startShifter(t, nil)
	sh.reconcilerEvent(t, "web", "one")
	stop := errors.New("seen enough")
	err := newClient(t, srv.URL, client.WithToken(adminToken)).Follow(t.Context(), "web", 0, func(rollout.Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("Follow returned %v, want the callback's error", err)
	}
}

func TestFollowGivesUpOnErrorsRetryingCannotFix(t *testing.T) {
	sh, srv := startShifter(t, nil)
	ep := testEndpoint()
	ep.Team = "search"
	if _, err := sh.store.PutEndpoint(t.Context(), ep, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, srv.URL, client.WithToken(deployToken)) // of team payments
	err := c.Follow(t.Context(), "web", 0, func(rollout.Event) error { return nil })
	wantError(t, err, rollout.ENOTFOUND, "")
}

func TestLogsNeverHoldTheToken(t *testing.T) {
	sh, srv := startShifter(t, nil)
	logs := &syncbuf.Buffer{}
	logger := hclog.New(&hclog.LoggerOptions{Output: logs, Level: hclog.Trace})
	c := newClient(t, srv.URL, client.WithToken(adminToken), client.WithLogger(logger))
	ctx := t.Context()

	ep := testEndpoint()
	ep.Template.Env = map[string]string{"API_KEY": "env-value-in-a-body"}
	if _, err := c.PutEndpoint(ctx, ep, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	_, _ = c.GetEndpoint(ctx, "nope")
	sh.reconcilerEvent(t, "web", "one")
	events, stop := follow(t, c, "web", 0)
	receive(t, events, 1)
	_ = stop()

	out := logs.String()
	for _, want := range []string{"PUT", "/v1/endpoints/web", "status=404", "[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log does not mention %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{adminToken, "env-value-in-a-body"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
}
