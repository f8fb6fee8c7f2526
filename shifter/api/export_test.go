package api

import (
	"maps"
	"slices"
	"time"
)

// SetStreamTimings shortens or lengthens the event streams' poll and
// heartbeat, so tests can tell a Publish from a poll and see a heartbeat.
func SetStreamTimings(s *Server, poll, heartbeat time.Duration) {
	s.poll, s.heartbeat = poll, heartbeat
}

// V1Routes returns the patterns of the API's /v1 routes.
func V1Routes(s *Server) []string {
	return slices.Sorted(maps.Keys(s.v1Routes()))
}

// SetAuthClock sets the clock an Auth checks JWTs and the age of keys by.
func SetAuthClock(a *Auth, now func() time.Time) { a.now = now }
