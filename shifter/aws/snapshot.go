package aws

import (
	"context"
	"sync"
	"time"
)

// Snapshot is a read of AWS shared by many callers: every endpoint of an
// account asks for it, one read serves them all for as long as its answer is
// young enough, and callers arriving during a read wait for that read rather
// than start their own. It is how the shifter's idle cost stays a few calls
// per account instead of a few per endpoint.
type Snapshot[T any] struct {
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu     sync.Mutex
	value  T
	at     time.Time
	flight *flight[T]
}

type flight[T any] struct {
	done  chan struct{}
	value T
	err   error
}

// Get returns the last value read if it is younger than maxAge, and
// otherwise reads it again with read. The read runs under its own context, so
// a caller giving up does not fail the others waiting for it.
func (s *Snapshot[T]) Get(ctx context.Context, maxAge time.Duration, read func(context.Context) (T, error)) (T, error) {
	s.mu.Lock()
	now := s.now()
	if !s.at.IsZero() && now.Sub(s.at) < maxAge {
		v := s.value
		s.mu.Unlock()
		return v, nil
	}
	f := s.flight
	if f == nil {
		f = &flight[T]{done: make(chan struct{})}
		s.flight = f
		go s.read(f, read)
	}
	s.mu.Unlock()
	select {
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	case <-f.done:
		return f.value, f.err
	}
}

func (s *Snapshot[T]) read(f *flight[T], read func(context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f.value, f.err = read(ctx)
	s.mu.Lock()
	if f.err == nil {
		s.value, s.at = f.value, s.now()
	}
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

func (s *Snapshot[T]) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
