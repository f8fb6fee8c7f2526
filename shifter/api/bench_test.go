package api_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// BenchmarkEventSubscribers measures how many live event streams (SSE) one
// shifter holds while still delivering each new event quickly: N clients
// follow one endpoint's events, then events are stored and published one
// at a time, and each is timed from the store write starting to its line
// reaching every client. Clients run in the same process, on the same two
// cores, so the figures include reading the streams. SSE_SUBSCRIBERS
// overrides the sizes (each needs two file descriptors).
func BenchmarkEventSubscribers(b *testing.B) {
	for _, n := range benchtest.Sizes(b, "SSE_SUBSCRIBERS", 100, 1000, 5000) {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			var limit syscall.Rlimit
			if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit); err == nil && limit.Cur < uint64(2*n+100) {
				b.Fatalf("%d subscribers need %d open files; the limit is %d (ulimit -n)", n, 2*n+100, limit.Cur)
			}
			for range b.N {
				lat := deliverToSubscribers(b, n, 20)
				b.ReportMetric(benchtest.Ms(benchtest.Percentile(lat, 50)), "ms-p50")
				b.ReportMetric(benchtest.Ms(benchtest.Percentile(lat, 99)), "ms-p99")
				b.ReportMetric(benchtest.Ms(benchtest.Percentile(lat, 100)), "ms-max")
			}
		})
	}
}

// deliverToSubscribers opens n event streams on one endpoint, publishes
// events one by one, and returns every delivery latency.
func deliverToSubscribers(b *testing.B, n, events int) []time.Duration {
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "shifter.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PutEndpoint(ctx, testEndpoint("web"), rollout.RevisionNew); err != nil {
		b.Fatal(err)
	}
	anyone := &api.Principal{Name: "bench", Role: wire.RoleRead}
	auth, err := api.NewAuth(nil, anyone)
	if err != nil {
		b.Fatal(err)
	}
	server := &api.Server{Store: st, Auth: auth, MaxStreams: n}
	srv := httptest.NewServer(server.Handler())
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: n}}

	// sent[seq] is when event seq started to be stored; each client adds
	// its delivery latencies to its own slice.
	sent := make([]atomic.Int64, events+1)
	received := make([]atomic.Int32, events+1)
	perClient := make([][]time.Duration, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/endpoints/web/events", nil)
			req.Header.Set("Accept", wire.EventStreamType)
			res, err := client.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					b.Error(err)
				}
				return
			}
			defer res.Body.Close()
			lines := bufio.NewScanner(res.Body)
			for lines.Scan() {
				id, ok := strings.CutPrefix(lines.Text(), "id: ")
				if !ok {
					continue
				}
				seq, _ := strconv.Atoi(id)
				perClient[i] = append(perClient[i], time.Since(time.Unix(0, sent[seq].Load())))
				received[seq].Add(1)
			}
		})
	}
	for deadline := time.Now().Add(time.Minute); server.Subscribers() < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d streams open after a minute", server.Subscribers(), n)
		}
	}

	b.ResetTimer()
	for seq := 1; seq <= events; seq++ {
		sent[seq].Store(time.Now().UnixNano())
		if _, err := st.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventStepApplied, Version: "v2", Message: "step 1 of 3"}); err != nil {
			b.Fatal(err)
		}
		server.Publish("web")
		for deadline := time.Now().Add(30 * time.Second); received[seq].Load() < int32(n); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("event %d reached %d of %d streams in 30s", seq, received[seq].Load(), n)
			}
		}
	}
	b.StopTimer()
	cancel()
	srv.CloseClientConnections()
	wg.Wait()
	var all []time.Duration
	for _, l := range perClient {
		all = append(all, l...)
	}
	return all
}
