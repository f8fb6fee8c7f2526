package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// Paging of the API's lists: events and spec revisions.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// events serves an endpoint's trail: a page of JSON, or with
// Accept: text/event-stream the backlog and then live events.
func (s *Server) events(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	if err := s.mayReadTrail(r, p, name); err != nil {
		return err
	}
	after, err := queryInt(r, "after", 0, 0)
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), wire.EventStreamType) {
		return s.stream(w, r, p, name, after)
	}
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	events, err := s.Store.ListEvents(r.Context(), name, after, limit)
	if err != nil {
		return err
	}
	page := wire.EventPage{Events: events, Next: after}
	if len(events) > 0 {
		page.Next = events[len(events)-1].Seq
	}
	s.writeJSON(w, http.StatusOK, page)
	return nil
}

// mayReadTrail lets p read the trail of the endpoint called name. The trail
// outlives its endpoint; once the endpoint is gone its team is unknown, so
// only a principal bound to no team may read what is left.
func (s *Server) mayReadTrail(r *http.Request, p *Principal, name string) error {
	ep, err := s.Store.GetEndpoint(r.Context(), name)
	switch {
	case err == nil && p.sees(ep.Name, ep.Team):
		return nil
	case rollout.ErrorCode(err) == rollout.ENOTFOUND && p.Team == "" && p.sees(name, ""):
		return nil
	case err != nil && rollout.ErrorCode(err) != rollout.ENOTFOUND:
		return err
	}
	return notFound("endpoint %q not found", name)
}

// stream sends events after after as Server-Sent Events until the client
// leaves. A reconnecting client's Last-Event-ID wins over after. Once the
// status line is sent, errors can only end the stream; the client
// reconnects from the last id it saw.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, p *Principal, name string, after int64) error {
	if id := r.Header.Get(wire.LastEventIDHeader); id != "" {
		seq, err := strconv.ParseInt(id, 10, 64)
		if err != nil || seq < 0 {
			return rollout.Invalid(wire.LastEventIDHeader, "must be an event sequence number; got %q", id)
		}
		after = seq
	}
	release, err := s.admitStream(p)
	if err != nil {
		return err
	}
	defer release()
	wake, unsubscribe := s.subscribe(name)
	defer unsubscribe()

	rc := http.NewResponseController(w)
	// A server's WriteTimeout is meant for ordinary answers, not for a
	// stream that stays open for hours. Servers that cannot lift it
	// (ErrNotSupported) cut the stream and the client reconnects.
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", wire.EventStreamType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx would otherwise hold events back
	w.WriteHeader(http.StatusOK)

	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	// A poll that finds nothing new writes nothing, and then a flush would
	// be a wasted system call on every open stream.
	unflushed := true // the header
	for {
		next, err := s.sendEvents(w, r, name, after)
		if err == nil && (unflushed || next != after) {
			err = rc.Flush()
			unflushed = false
		}
		if err != nil {
			if r.Context().Err() == nil {
				s.Logger.Warn("event stream ended", "endpoint", name, "after", after, "error", err)
			}
			return nil
		}
		after = next
		select {
		case <-r.Context().Done():
			return nil
		case <-wake:
		case <-heartbeat.C:
			if _, err := io.WriteString(w, ": heartbeat\n\n"); err != nil {
				return nil // the client left
			}
			unflushed = true
		}
	}
}

// sendEvents writes every stored event after after and returns the last
// sequence written.
func (s *Server) sendEvents(w io.Writer, r *http.Request, name string, after int64) (int64, error) {
	for {
		p, err := s.readPage(r.Context(), name, after)
		if err != nil {
			return after, err
		}
		if _, err := w.Write(p.frames); err != nil {
			return after, err
		}
		after = p.last
		if p.count < maxPageLimit {
			return after, nil
		}
	}
}

// sharedReadTimeout bounds a store read that event streams share.
const sharedReadTimeout = 30 * time.Second

// page is up to maxPageLimit events after a sequence number, encoded as
// Server-Sent Events.
type page struct {
	frames []byte
	last   int64 // the last sequence in frames, or the one asked after
	count  int
}

// readPage reads and encodes the events of endpoint after after. Streams of
// one endpoint are woken together (by Publish and by the poll), so
// concurrent reads of the same page are made once and shared: a thousand
// followers cost one store read per new event, not a thousand.
func (s *Server) readPage(ctx context.Context, endpoint string, after int64) (page, error) {
	v, err, _ := s.pages.Do(endpoint+"\x00"+strconv.FormatInt(after, 10), func() (any, error) {
		// The read outlives the stream that started it, as others may
		// share it, but not a store that stopped answering.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		defer cancel()
		events, err := s.Store.ListEvents(ctx, endpoint, after, maxPageLimit)
		if err != nil {
			return page{}, err
		}
		p := page{last: after, count: len(events)}
		for _, e := range events {
			data, err := json.Marshal(e)
			if err != nil {
				return page{}, err
			}
			p.frames = fmt.Appendf(p.frames, "id: %d\nevent: %s\ndata: %s\n\n", e.Seq, e.Type, data)
			p.last = e.Seq
		}
		return p, nil
	})
	return v.(page), err
}

// Publish wakes the event streams of endpoint so they read its new events
// now. The API calls it after its own writes; the daemon calls it after the
// reconciler stores events. Streams also poll, for writes by other replicas.
func (s *Server) Publish(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wake(s.subscribers[endpoint])
}

// wake wakes the streams whose channels are given.
func wake(streams map[chan struct{}]struct{}) {
	for ch := range streams {
		select {
		case ch <- struct{}{}:
		default: // already woken; it reads everything new at once
		}
	}
}

// pollStreams wakes every open stream each poll interval, so events that
// other replicas store reach them without a Publish. An endpoint's streams
// wake together and share their reads (readPage). It runs while streams
// are open: until stop is closed.
func (s *Server) pollStreams(stop <-chan struct{}) {
	tick := time.NewTicker(s.poll)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			s.mu.Lock()
			for _, streams := range s.subscribers {
				wake(streams)
			}
			s.mu.Unlock()
		}
	}
}

// defaultMaxStreams is how many event streams a principal may hold open.
const defaultMaxStreams = 16

// admitStream counts a new stream of p against its bound, and returns the
// function that ends it.
func (s *Server) admitStream(p *Principal) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.streams[p.Name] >= s.MaxStreams {
		return nil, rollout.Errorf(rollout.ETOOMANY, "%s already has %d event streams open; close one first", p.Name, s.MaxStreams)
	}
	if s.streams == nil {
		s.streams = map[string]int{}
	}
	s.streams[p.Name]++
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.streams[p.Name]--; s.streams[p.Name] == 0 {
			delete(s.streams, p.Name)
		}
	}, nil
}

// Subscribers returns the number of open live event streams.
func (s *Server) Subscribers() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, chans := range s.subscribers {
		n += len(chans)
	}
	return n
}

func (s *Server) subscribe(endpoint string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subscribers == nil {
		s.subscribers = make(map[string]map[chan struct{}]struct{})
	}
	if s.subscribers[endpoint] == nil {
		s.subscribers[endpoint] = make(map[chan struct{}]struct{})
	}
	s.subscribers[endpoint][ch] = struct{}{}
	if s.stopPolling == nil {
		s.stopPolling = make(chan struct{})
		go s.pollStreams(s.stopPolling)
	}
	return ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.subscribers[endpoint], ch)
		if len(s.subscribers[endpoint]) == 0 {
			delete(s.subscribers, endpoint)
		}
		if len(s.subscribers) == 0 {
			close(s.stopPolling)
			s.stopPolling = nil
		}
	}
}

// queryInt returns the integer query parameter name, def when absent.
// queryLimit returns how many items a page may hold: the query's limit.
func queryLimit(r *http.Request) (int, error) {
	limit, err := queryInt(r, "limit", defaultPageLimit, 1)
	if err == nil && limit > maxPageLimit {
		err = rollout.Invalid("limit", "must be at most %d; got %d", maxPageLimit, limit)
	}
	return int(limit), err
}

func queryInt(r *http.Request, name string, def, min int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		return 0, rollout.Invalid(name, "must be a whole number of at least %d; got %q", min, v)
	}
	return n, nil
}
