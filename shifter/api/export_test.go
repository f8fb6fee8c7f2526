package api

import "time"

// SetStreamTimings shortens or lengthens the event streams' poll and
// heartbeat, so tests can tell a Publish from a poll and see a heartbeat.
func SetStreamTimings(s *Server, poll, heartbeat time.Duration) {
	s.poll, s.heartbeat = poll, heartbeat
}
