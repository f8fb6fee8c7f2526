package aws

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
)

// Snapshot is a read of AWS shared by many callers: every endpoint of an
// account asks for it, one read serves all who can use it, and callers
// arriving during a read wait for that read rather than start their own. It
// is how the shifter's cost stays a few calls per account and listener
// instead of a few per endpoint.
//
// A caller says how fresh a read it can use: one that began at or after a
// time (now less the age it tolerates, or the end of its own last write, so
// that it sees what it wrote). A caller who cannot use the read in flight
// waits for the next one, which starts as soon as the one in flight ends and
// serves everyone who queued meanwhile: a burst of writers costs two reads,
// not one each.
type Snapshot[T any] struct {
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	value  T
	began  time.Time // when the read of value began
	flight *flight[T]
	next   *flight[T] // queued behind flight
}

type flight[T any] struct {
	began time.Time // zero until it starts
	done  chan struct{}
	value T
	err   error
	// lane is the most urgent lane of the callers waiting for it: its
	// calls are scheduled in it (schedule.WithLaneOf).
	lane atomic.Int32
}

func newFlight[T any](lane schedule.Lane) *flight[T] {
	f := &flight[T]{done: make(chan struct{})}
	f.lane.Store(int32(lane))
	return f
}

// join raises the flight's lane to lane if it is more urgent.
func (f *flight[T]) join(lane schedule.Lane) {
	for {
		cur := f.lane.Load()
		if int32(lane) >= cur || f.lane.CompareAndSwap(cur, int32(lane)) {
			return
		}
	}
}

// Get returns a value read at or after since, reading it again with read
// when none is. The read runs under its own context, so a caller giving up
// does not fail the others waiting for it.
func (s *Snapshot[T]) Get(ctx context.Context, since time.Time, read func(context.Context) (T, error)) (T, error) {
	lane := schedule.LaneOf(ctx)
	s.mu.Lock()
	var f *flight[T]
	switch {
	case !s.began.IsZero() && !s.began.Before(since):
		v := s.value
		s.mu.Unlock()
		return v, nil
	case s.flight == nil:
		f = s.start(read, lane)
	case !s.flight.began.Before(since):
		f = s.flight
	default:
		if s.next == nil {
			s.next = newFlight[T](lane)
		}
		f = s.next
		// The next read starts when this one ends: it goes as fast as
		// the most urgent caller waiting behind it needs.
		s.flight.join(lane)
	}
	f.join(lane)
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case <-f.done:
		return f.value, f.err
	}
}

// Peek returns the last value read and when its read began (zero if none),
// without reading.
func (s *Snapshot[T]) Peek() (T, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.value, s.began
}

// start begins a read; called with s.mu held.
func (s *Snapshot[T]) start(read func(context.Context) (T, error), lane schedule.Lane) *flight[T] {
	f := s.next
	s.next = nil
	if f == nil {
		f = newFlight[T](lane)
	}
	f.began = s.now()
	s.flight = f
	go s.read(f, read)
	return f
}

func (s *Snapshot[T]) read(f *flight[T], read func(context.Context) (T, error)) {
	// Long enough for a routine read that waits its turn behind urgent ones.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ctx = schedule.WithLaneOf(ctx, func() schedule.Lane { return schedule.Lane(f.lane.Load()) })
	f.value, f.err = read(ctx)
	s.mu.Lock()
	if f.err == nil && !f.began.Before(s.began) {
		s.value, s.began = f.value, f.began
	}
	s.flight = nil
	if s.next != nil {
		s.start(read, schedule.Lane(s.next.lane.Load()))
	}
	s.mu.Unlock()
	close(f.done)
}

func (s *Snapshot[T]) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
