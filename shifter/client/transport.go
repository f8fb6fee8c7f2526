package client

import (
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
)

// logTransport logs each request as it is answered. It sees requests after
// the token was added, so it redacts Authorization itself, and it never
// reads a body: a spec's environment values and a release's env are the
// user's business, not the log's.
type logTransport struct {
	next   http.RoundTripper
	logger hclog.Logger
}

func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	if t.logger.IsTrace() {
		t.logger.Trace("sending request", "method", req.Method, "path", req.URL.Path, "headers", redacted(req.Header))
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.logger.Debug("request failed", "method", req.Method, "path", req.URL.Path, "duration", time.Since(start), "error", err)
		return nil, err
	}
	t.logger.Debug("request", "method", req.Method, "path", req.URL.Path, "status", resp.StatusCode, "duration", time.Since(start))
	return resp, nil
}

// redacted returns a copy of h without the credential.
func redacted(h http.Header) http.Header {
	h = h.Clone()
	if h.Get("Authorization") != "" {
		h.Set("Authorization", "Bearer [redacted]")
	}
	return h
}
