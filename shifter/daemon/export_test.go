package daemon

import (
	"net"
	"net/http"
)

// SetConnState makes f hear the API's connections change state, so a test
// can wait for the server to have accepted one.
func SetConnState(s *Server, f func(net.Conn, http.ConnState)) { s.connState = f }
