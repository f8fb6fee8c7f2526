package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// appendEvents adds n events to the trail of endpoint as the reconciler
// would, without telling the server.
func (f *fixture) appendEvents(endpoint string, n int) {
	f.t.Helper()
	for range n {
		ev := rollout.Event{Actor: rollout.ActorShifter, Type: rollout.EventStepApplied, Message: "weights applied"}
		if _, err := f.store.AppendEvents(f.t.Context(), endpoint, ev); err != nil {
			f.t.Fatal(err)
		}
	}
}

func TestEventPages(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	f.appendEvents("web", 5)

	var page wire.EventPage
	f.do("GET", "/v1/endpoints/web/events?limit=2", root, nil).must(t, http.StatusOK, &page)
	if len(page.Events) != 2 || page.Events[0].Seq != 1 || page.Next != 2 {
		t.Fatalf("first page %+v", page)
	}
	f.do("GET", "/v1/endpoints/web/events?after=2&limit=10", root, nil).must(t, http.StatusOK, &page)
	if len(page.Events) != 3 || page.Events[0].Seq != 3 || page.Next != 5 {
		t.Fatalf("second page %+v", page)
	}
	f.do("GET", "/v1/endpoints/web/events?after=5", root, nil).must(t, http.StatusOK, &page)
	if len(page.Events) != 0 || page.Next != 5 {
		t.Fatalf("empty page %+v, want no events and next unchanged", page)
	}
	f.do("GET", "/v1/endpoints/web/events", principalName("search", wire.RoleAdmin), nil).
		apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

// sse is one message of an event stream; comment is set for a comment line.
type sse struct {
	id, typ, data, comment string
}

// openStream follows the events of path as principal and returns the
// messages as they arrive. The stream is closed when the test ends.
func (f *fixture) openStream(path, principal string, headers ...string) <-chan sse {
	f.t.Helper()
	ctx, cancel := context.WithCancel(f.t.Context())
	f.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", f.http.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tokenOf(principal))
	req.Header.Set("Accept", wire.EventStreamType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != wire.EventStreamType {
		resp.Body.Close()
		f.t.Fatalf("stream answered %s, %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	out := make(chan sse, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		scanner := bufio.NewScanner(resp.Body)
		var msg sse
		for scanner.Scan() {
			line := scanner.Text()
			switch {
			case line == "":
				if msg != (sse{}) {
					out <- msg
				}
				msg = sse{}
			case strings.HasPrefix(line, ":"):
				msg.comment = strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				msg.id = line[len("id: "):]
			case strings.HasPrefix(line, "event: "):
				msg.typ = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				msg.data = line[len("data: "):]
			}
		}
	}()
	return out
}

// next returns the next event of the stream, skipping comments, and fails
// the test if none arrives within d.
func next(t *testing.T, stream <-chan sse, d time.Duration) rollout.Event {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case msg, ok := <-stream:
			if !ok {
				t.Fatal("the stream ended")
			}
			if msg.comment != "" {
				continue
			}
			var ev rollout.Event
			if err := json.Unmarshal([]byte(msg.data), &ev); err != nil {
				t.Fatalf("data %q: %v", msg.data, err)
			}
			if msg.id != strconv.FormatInt(ev.Seq, 10) || msg.typ != ev.Type {
				t.Fatalf("message %+v does not match its event", msg)
			}
			return ev
		case <-timeout:
			t.Fatalf("no event within %s", d)
		}
	}
}

func TestEventStreamBacklogThenLive(t *testing.T) {
	f := newFixture(t)
	// Streams only poll every hour, so a live event can only come from
	// Publish.
	api.SetStreamTimings(f.server, time.Hour, time.Hour)
	f.seed(testEndpoint("web"), "")
	f.appendEvents("web", 3)

	stream := f.openStream("/v1/endpoints/web/events?after=1", principalName("payments", wire.RoleRead))
	for _, want := range []int64{2, 3} {
		if ev := next(t, stream, 5*time.Second); ev.Seq != want {
			t.Fatalf("backlog event %d, want %d", ev.Seq, want)
		}
	}

	f.appendEvents("web", 1)
	start := time.Now()
	f.server.Publish("web")
	if ev := next(t, stream, time.Second); ev.Seq != 4 {
		t.Fatalf("live event %d, want 4", ev.Seq)
	}
	t.Logf("live event after %s", time.Since(start))

	// The API's own writes publish too.
	f.do("PUT", "/v1/endpoints/web/releases/production", root, map[string]any{"version": "v2"}).must(t, http.StatusCreated, nil)
	if ev := next(t, stream, time.Second); ev.Type != rollout.EventReleaseDeclared {
		t.Fatalf("event %+v, want the declared release", ev)
	}
}

func TestEventStreamPollsForOtherReplicas(t *testing.T) {
	f := newFixture(t)
	api.SetStreamTimings(f.server, 20*time.Millisecond, time.Hour)
	f.seed(testEndpoint("web"), "")

	stream := f.openStream("/v1/endpoints/web/events", root)
	f.appendEvents("web", 1) // no Publish: another replica wrote it
	if ev := next(t, stream, 2*time.Second); ev.Seq != 1 {
		t.Fatalf("event %d, want 1", ev.Seq)
	}
}

func TestEventStreamResumesAfterLastEventID(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	f.appendEvents("web", 5)

	// Last-Event-ID, sent by a reconnecting reader, wins over after.
	stream := f.openStream("/v1/endpoints/web/events?after=1", root, wire.LastEventIDHeader, "3")
	if ev := next(t, stream, 5*time.Second); ev.Seq != 4 {
		t.Fatalf("first event %d, want 4", ev.Seq)
	}
}

func TestEventStreamHeartbeat(t *testing.T) {
	f := newFixture(t)
	api.SetStreamTimings(f.server, time.Hour, 20*time.Millisecond)
	f.seed(testEndpoint("web"), "")

	stream := f.openStream("/v1/endpoints/web/events", root)
	select {
	case msg := <-stream:
		if msg.comment != "heartbeat" {
			t.Fatalf("message %+v, want a heartbeat comment", msg)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
}

func TestTrailOfADeletedEndpoint(t *testing.T) {
	f := newFixture(t)
	f.appendEvents("gone", 2) // the endpoint itself is no longer stored

	var page wire.EventPage
	f.do("GET", "/v1/endpoints/gone/events", root, nil).must(t, http.StatusOK, &page)
	if len(page.Events) != 2 {
		t.Errorf("events %+v", page.Events)
	}
	// Its team is unknown, so a team's principal cannot prove it may read it.
	f.do("GET", "/v1/endpoints/gone/events", principalName("payments", wire.RoleAdmin), nil).
		apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

func TestEventStreamsAreBoundedPerPrincipal(t *testing.T) {
	f := newFixture(t, func(s *api.Server) { s.MaxStreams = 2 })
	f.seed(testEndpoint("web"), "v1")
	reader := principalName("payments", wire.RoleRead)
	path := "/v1/endpoints/web/events"
	f.openStream(path, reader)
	f.openStream(path, reader)
	f.do("GET", path, reader, nil, "Accept", wire.EventStreamType).apiError(t, http.StatusTooManyRequests, rollout.ETOOMANY)
	// Another principal has its own bound.
	f.openStream(path, principalName("payments", wire.RoleAdmin))
	if n := f.server.Subscribers(); n != 3 {
		t.Errorf("subscribers = %d, want 3", n)
	}
}
