package daemon_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
)

// BenchmarkRollbackLatency measures, against moto behind the awslike layer,
// the time from a revert's PUT reaching the API to the ModifyRule that puts
// 100% back on the hot version being done, and counts the ELBv2 writes it
// takes. Each iteration reverts to the other hot version (v1 ⇄ v2), a
// revertPace after the last: a revert takes an ELBv2 write and two reads, and
// back to back the benchmark would spend the account's ELBv2 budgets faster
// than AWS refills them (writes at 3 a second) and measure the wait for a
// token rather than the rollback.
func BenchmarkRollbackLatency(b *testing.B) {
	awsCfg := awstest.Config(b)
	net := awstest.Network(b, awsCfg)
	clock, calls := awstest.NewClock("ModifyRule"), awstest.NewCounter()
	shifterCfg := awsCfg.Copy()
	clock.Add(&shifterCfg)
	calls.Add(&shifterCfg)
	s, _ := daemontest.Serve(b, fmt.Sprintf(`
listen          = "127.0.0.1:0"
poll_interval   = "50ms"
resync_interval = "30s"
store { path = %q }
images { pin = false } # no registry serves the tests' images
auth {
  anonymous { role = "admin" }
}
`, filepath.Join(b.TempDir(), "shifter.db")), shifterCfg)

	spec := endpointSpec(net)
	spec["policy"].(map[string]any)["retain_previous"] = "24h"
	put := func(path string, body any) {
		b.Helper()
		if code, out := call(b, "PUT", s.URL()+path, body); code >= 300 {
			b.Fatalf("PUT %s = %d %v", path, code, out)
		}
	}
	put("/v1/endpoints/web", spec)
	complete := func(version string) {
		b.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			_, out := call(b, "GET", s.URL()+"/v1/endpoints/web/releases/production", nil)
			if st, _ := out["status"].(map[string]any); st["state"] == "complete" && out["release"].(map[string]any)["version"] == version {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.Fatalf("release %s not complete", version)
	}
	for _, v := range []string{"v1", "v2"} {
		put("/v1/endpoints/web/releases/production", map[string]any{"version": v})
		complete(v)
	}

	var latencies []time.Duration
	writes := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		time.Sleep(revertPace) // the budgets refill: see above
		b.StartTimer()
		version := []string{"v1", "v2"}[i%2]
		before, elbBefore := clock.Count(), calls.Writes("ELBv2")
		start := time.Now()
		put("/v1/endpoints/web/releases/production", map[string]any{"version": version})
		done, ok := clock.After(before, 30*time.Second)
		if !ok {
			b.Fatalf("no ModifyRule after the revert to %s", version)
		}
		latencies = append(latencies, done.Sub(start))
		b.StopTimer()
		complete(version)
		writes += calls.Writes("ELBv2") - elbBefore
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(latencies, 50)), "ms-p50")
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(latencies, 99)), "ms-p99")
	b.ReportMetric(float64(writes)/float64(b.N), "elb-writes/op")
}

// revertPace is how long BenchmarkRollbackLatency leaves between reverts.
const revertPace = time.Second

// BenchmarkAPI measures the API's throughput and latency on loopback with
// the bbolt store: GET of an endpoint's status and PUT of a release, from 16
// concurrent clients. The reconciler runs as in production: a PUT wakes the
// endpoint's actor, which finds the release unchanged after the first.
func BenchmarkAPI(b *testing.B) {
	awsCfg := awstest.Config(b)
	net := awstest.Network(b, awsCfg)
	s, _ := daemontest.Serve(b, fmt.Sprintf(`
listen = "127.0.0.1:0"
store { path = %q }
images { pin = false } # no registry serves the tests' images
auth {
  anonymous { role = "admin" }
}
`, filepath.Join(b.TempDir(), "shifter.db")), awsCfg)
	if code, out := call(b, "PUT", s.URL()+"/v1/endpoints/web", endpointSpec(net)); code != http.StatusCreated {
		b.Fatalf("PUT endpoint = %d %v", code, out)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	for _, op := range []struct {
		name   string
		method string
		path   string
		body   string
	}{
		{"GET-status", "GET", "/v1/endpoints/web", ""},
		{"PUT-release", "PUT", "/v1/endpoints/web/releases/production", `{"version":"v1"}`},
	} {
		b.Run(op.name, func(b *testing.B) {
			const workers = 16
			var (
				mu        sync.Mutex
				latencies []time.Duration
				next      atomic.Int64
			)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					var mine []time.Duration
					for next.Add(1) <= int64(b.N) {
						req, _ := http.NewRequest(op.method, s.URL()+op.path, strings.NewReader(op.body))
						t0 := time.Now()
						res, err := client.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						_, err = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if err != nil {
							b.Error(err)
							return
						}
						if res.StatusCode >= 300 {
							b.Errorf("%s %s = %d", op.method, op.path, res.StatusCode)
							return
						}
						mine = append(mine, time.Since(t0))
					}
					mu.Lock()
					latencies = append(latencies, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if len(latencies) == 0 {
				return // the errors are reported
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(benchtest.Ms(benchtest.Percentile(latencies, 99)), "ms-p99")
		})
	}
}
