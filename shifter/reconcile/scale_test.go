package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// fakeAWS stands in for ELBv2, Auto Scaling and CloudWatch in the scale
// benchmark. It is a fake because moto serves one call at a time and cannot
// carry thousands of endpoints: what the benchmark measures is the shifter's
// own cost. Every method sleeps the configured latency and counts the AWS
// calls the real adapters make for it: listings of the whole account and of
// listeners shared as theirs are, a health read per target group, creates
// and deletes of several calls.
type fakeAWS struct {
	latency time.Duration
	calls   atomic.Int64

	mu    sync.Mutex
	envs  map[string]int            // endpoint/environment → capacity
	rules map[string]map[string]int // listener/priority → target group → weight
	// inventory, moving and listeners share reads as the adapters do.
	inventory, moving shifteraws.Snapshot[struct{}]
	listeners         map[string]*shifteraws.Snapshot[struct{}]
}

func newFakeAWS(latency time.Duration) *fakeAWS {
	return &fakeAWS{latency: latency, envs: map[string]int{}, rules: map[string]map[string]int{}, listeners: map[string]*shifteraws.Snapshot[struct{}]{}}
}

func (f *fakeAWS) call(n int) {
	f.calls.Add(int64(n))
	time.Sleep(f.latency)
}

func tgARN(endpoint, env string) string {
	return "arn:aws:elasticloadbalancing:tg/" + endpoint + "/" + env
}

func (f *fakeAWS) Create(_ context.Context, endpoint string, env rollout.Environment) error {
	f.call(8)
	f.mu.Lock()
	f.envs[endpoint+"/"+env.ID] = env.Capacity
	f.mu.Unlock()
	return nil
}

// Observe reads as the ec2 backend does: one listing of the whole account per
// q.Listed (a page per 100 groups, 400 target groups, 200 templates), and for
// the changing environments a read by name per q.Since shared by all of them
// (a page per 50 groups, the target group listing, a page per 200
// templates); and one health read per environment asked.
func (f *fakeAWS) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	f.mu.Lock()
	n := len(f.envs)
	f.mu.Unlock()
	_, err := f.inventory.Get(ctx, q.Listed, func(context.Context) (struct{}, error) {
		f.call(pages(n, 100) + pages(n, 400) + pages(n, 200))
		return struct{}{}, nil
	})
	if err != nil {
		return nil, err
	}
	if len(q.Changing) > 0 {
		// Priced by the environments of the endpoint that starts the read:
		// the fake does not keep which other endpoints' are changing.
		_, err := f.moving.Get(ctx, q.Since, func(context.Context) (struct{}, error) {
			f.call(pages(len(q.Changing), 50) + pages(n, 400) + pages(len(q.Changing), 200))
			return struct{}{}, nil
		})
		if err != nil {
			return nil, err
		}
	}
	if len(q.Health) > 0 {
		f.call(len(q.Health))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]reconcile.Env, len(envs))
	for _, e := range envs {
		n, ok := f.envs[endpoint+"/"+e.ID]
		if !ok {
			out[e.ID] = reconcile.Env{EnvObservation: rollout.EnvObservation{Gone: true}}
			continue
		}
		o := rollout.EnvObservation{Exists: true, Capacity: n, InService: n}
		if slices.Contains(q.Health, e.ID) {
			o.HealthRead, o.Healthy, o.Targets = true, n, n
		}
		out[e.ID] = reconcile.Env{EnvObservation: o, Target: tgARN(endpoint, e.ID)}
	}
	return out, nil
}

func pages(n, size int) int { return max(1, (n+size-1)/size) }

func (f *fakeAWS) Scale(_ context.Context, endpoint string, env rollout.Environment, capacity int) error {
	f.call(1)
	f.mu.Lock()
	f.envs[endpoint+"/"+env.ID] = capacity
	f.mu.Unlock()
	return nil
}

func (f *fakeAWS) Delete(_ context.Context, endpoint string, env rollout.Environment) (bool, error) {
	f.call(7)
	f.mu.Lock()
	delete(f.envs, endpoint+"/"+env.ID)
	f.mu.Unlock()
	return true, nil
}

func ruleKey(ep rollout.Endpoint) string {
	return ep.Traffic.ListenerARN + "/" + strconv.Itoa(ep.Traffic.Priority)
}

// router adapts fakeAWS to reconcile.Router (Delete is taken by the backend).
type router struct{ *fakeAWS }

func (r router) SetWeights(_ context.Context, ep rollout.Endpoint, _ rollout.Track, weights map[string]int) error {
	r.call(1)
	r.mu.Lock()
	r.rules[ruleKey(ep)] = weights
	r.mu.Unlock()
	return nil
}

// Weights reads each listener once per since, as the router does.
func (r router) Weights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, since time.Time) (reconcile.Route, error) {
	r.mu.Lock()
	snap := r.listeners[ep.Traffic.ListenerARN]
	if snap == nil {
		snap = &shifteraws.Snapshot[struct{}]{}
		r.listeners[ep.Traffic.ListenerARN] = snap
	}
	r.mu.Unlock()
	if _, err := snap.Get(ctx, since, func(context.Context) (struct{}, error) { r.call(1); return struct{}{}, nil }); err != nil {
		return reconcile.Route{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.rules[ruleKey(ep)]
	exists := false
	for _, v := range w {
		exists = exists || (ok && v > 0)
	}
	return reconcile.Route{Exists: exists, Weights: maps.Clone(w)}, nil
}

func (r router) Delete(_ context.Context, ep rollout.Endpoint, _ rollout.Track) error {
	r.call(1)
	r.mu.Lock()
	delete(r.rules, ruleKey(ep))
	r.mu.Unlock()
	return nil
}

// scaleRun is one measurement of the scale benchmark.
type scaleRun struct {
	endpoints          int
	cpuPerStep         time.Duration
	stepErrorP99       time.Duration
	rssMB              float64
	goroutines         int
	callsPerMinRolling float64
	callsPerMinIdle    float64
	rolloutTook        time.Duration
}

// runScale rolls n endpoints from v1 to v2 (steps 10%/5s, 50%/5s, 100%) in
// one shifter against the fake AWS and measures the shifter's cost.
func runScale(tb testing.TB, n int, latency, poll, resync time.Duration) scaleRun {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "shifter.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	aws := newFakeAWS(latency)
	cloud := reconcile.Cloud{Backend: aws, Router: router{aws}}
	rec := reconcile.New(reconcile.Config{
		Store:   st,
		Connect: func(context.Context, rollout.Placement) (reconcile.Cloud, error) { return cloud, nil },
		Logger:  hclog.NewNullLogger(),
		Poll:    poll,
		Resync:  resync,
	})
	pause := 5 * time.Second
	for i := range n {
		ep := rollout.NewEndpoint()
		ep.Name = fmt.Sprintf("svc-%05d", i)
		ep.Traffic = rollout.Traffic{ListenerARN: fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/lb%d/0123456789abcdef/0123456789abcdef", i/100), Priority: 1 + i%100}
		ep.Template.Repository, ep.Template.ContainerPort, ep.Template.AMI = "registry.example.com/svc", 8080, "ami-03cf127a"
		ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
		ep.Policy.Steps = []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(pause)}, {Weight: 50, Pause: rollout.DurationPtr(pause)}, {Weight: 100}}
		ep.Policy.BakeTime = 0
		if _, err := st.PutEndpoint(ctx, ep, rollout.RevisionNew); err != nil {
			tb.Fatal(err)
		}
		if _, err := st.PutRelease(ctx, rollout.Release{Endpoint: ep.Name, Track: rollout.Production, Version: "v1"}, rollout.RevisionAny); err != nil {
			tb.Fatal(err)
		}
	}
	if err := rec.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	defer rec.Stop()
	waitAll(tb, st, n, "v1")

	// Rolling: every endpoint moves to v2 at once.
	cpu0, calls0, start := cpuTime(), aws.calls.Load(), time.Now()
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		if _, err := st.PutRelease(ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v2"}, rollout.RevisionAny); err != nil {
			tb.Fatal(err)
		}
		rec.Notify(name)
	}
	var peakGoroutines int
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
				peakGoroutines = max(peakGoroutines, runtime.NumGoroutine())
			}
		}
	}()
	waitAll(tb, st, n, "v2")
	close(done)
	took := time.Since(start)
	run := scaleRun{
		endpoints:          n,
		cpuPerStep:         (cpuTime() - cpu0) / time.Duration(3*n),
		rssMB:              rssMB(),
		goroutines:         peakGoroutines,
		callsPerMinRolling: float64(aws.calls.Load()-calls0) / float64(n) / took.Minutes(),
		rolloutTook:        took,
		stepErrorP99:       stepErrorP99(tb, st, n, pause),
	}

	// Idle: nothing to do for two resync intervals.
	calls1, idleStart := aws.calls.Load(), time.Now()
	time.Sleep(2 * resync)
	run.callsPerMinIdle = float64(aws.calls.Load()-calls1) / float64(n) / time.Since(idleStart).Minutes()
	return run
}

func waitAll(tb testing.TB, st store.Store, n int, version string) {
	deadline := time.Now().Add(5 * time.Minute)
	for i := 0; i < n; {
		s, err := st.GetState(context.Background(), fmt.Sprintf("svc-%05d", i))
		if err != nil {
			tb.Fatal(err)
		}
		if r := s.Production.Rollout; r != nil && r.Key.Version == version && r.Phase == rollout.PhaseComplete {
			i++
			continue
		}
		if time.Now().After(deadline) {
			tb.Fatalf("endpoint %d did not complete %s: %+v", i, version, s.Production.Rollout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stepErrorP99 is the 99th percentile of how late each step came after its
// pause was due, read from the step events.
func stepErrorP99(tb testing.TB, st store.Store, n int, pause time.Duration) time.Duration {
	var errs []time.Duration
	for i := range n {
		errs = append(errs, stepLateness(tb, st, fmt.Sprintf("svc-%05d", i), "v2", pause)...)
	}
	if len(errs) == 0 {
		tb.Fatal("no step events")
	}
	return benchtest.Percentile(errs, 99)
}

// stepLateness returns how late each step of the endpoint's rollout of
// version came after its pause was due, read from the step events.
func stepLateness(tb testing.TB, st store.Store, name, version string, pause time.Duration) []time.Duration {
	events, err := st.ListEvents(context.Background(), name, 0, 0)
	if err != nil {
		tb.Fatal(err)
	}
	var steps []time.Time
	for _, e := range events {
		if e.Version == version && (e.Type == rollout.EventStepApplied || e.Type == rollout.EventRolloutBaking) {
			steps = append(steps, e.Time)
		}
	}
	var late []time.Duration
	for j := 1; j < len(steps); j++ {
		late = append(late, steps[j].Sub(steps[j-1])-pause)
	}
	return late
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func rssMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkScale reports the shifter's cost at 100, 1,000 and 5,000
// endpoints rolling at once (SCALE_ENDPOINTS overrides the list), against
// the fake AWS with 5 ms per call.
func BenchmarkScale(b *testing.B) {
	for _, n := range benchtest.Sizes(b, "SCALE_ENDPOINTS", 100, 1000, 5000) {
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			for range b.N {
				r := runScale(b, n, 5*time.Millisecond, time.Second, 30*time.Second)
				b.ReportMetric(float64(r.cpuPerStep.Microseconds())/1000, "cpu-ms/endpoint-step")
				b.ReportMetric(float64(r.stepErrorP99.Milliseconds()), "ms-step-error-p99")
				b.ReportMetric(r.rssMB, "MB-rss")
				b.ReportMetric(float64(r.goroutines), "goroutines")
				b.ReportMetric(r.callsPerMinRolling, "calls/endpoint/min-rolling")
				b.ReportMetric(r.callsPerMinIdle, "calls/endpoint/min-idle")
			}
		})
	}
}
