package api_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// TestFailedAuthenticationsAreSlowedPerSource: a source that keeps
// presenting bad tokens gets 429 after a burst, even with a good token,
// until time forgives it; another source is not held back; the failures are
// in the log at warn with the source, a bounded number of lines.
func TestFailedAuthenticationsAreSlowedPerSource(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC).UnixNano())
	f := newFixture(t, func(s *api.Server) { s.Now = func() time.Time { return time.Unix(0, now.Load()) } })

	const burst = 20
	for i := range burst {
		if r := f.do("GET", "/v1/whoami", "guess", nil); r.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d, want 401 within the burst", i+1, r.status)
		}
	}
	r := f.do("GET", "/v1/whoami", "guess", nil)
	r.apiError(t, http.StatusTooManyRequests, rollout.ETOOMANY)
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", r.header.Get("Retry-After"))
	}
	// A good token is not even looked at: guessing right would tell.
	f.do("GET", "/v1/whoami", root, nil).apiError(t, http.StatusTooManyRequests, rollout.ETOOMANY)
	// Another source is not held back.
	var who wire.WhoAmI
	other := fromSource(t, f, "127.0.0.2")
	if status := other("/v1/whoami", root, &who); status != http.StatusOK || who.Name != root {
		t.Errorf("another source: %d %+v, want 200 as %s", status, who, root)
	}

	now.Add(int64(time.Second)) // one failure forgiven
	f.do("GET", "/v1/whoami", root, nil).must(t, http.StatusOK, nil)
	f.do("GET", "/v1/whoami", "guess", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
	f.do("GET", "/v1/whoami", "guess", nil).apiError(t, http.StatusTooManyRequests, rollout.ETOOMANY)

	logs := f.logs.String()
	warnings := strings.Count(logs, "[WARN]  authentication failed") + strings.Count(logs, "[WARN]  request refused: too many failed authentications")
	if warnings == 0 || warnings > 6 || !strings.Contains(logs, "source=127.0.0.1") || !strings.Contains(logs, "lines_suppressed=") {
		t.Errorf("%d warnings (want 1 to 6, naming the source, saying what was suppressed):\n%s", warnings, logs)
	}
	if strings.Contains(logs, tokenOf("guess")) {
		t.Error("a guessed token is in the log")
	}
}

// fromSource returns a GET of the fixture's API sent from the loopback
// address ip, which decodes a 200 into v and returns the status.
func fromSource(t *testing.T, f *fixture, ip string) func(path, principal string, v any) int {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	return func(path, principal string, v any) int {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", f.http.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tokenOf(principal))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
}
