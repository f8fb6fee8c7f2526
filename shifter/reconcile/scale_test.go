package reconcile_test

import (
	"cmp"
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
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/wait"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// The scale benchmark's AWS is a fake written in Go, because moto serves
// one call at a time and cannot carry thousands of endpoints: what the
// benchmark measures is the shifter's own cost. It is a fake of AWS's
// behaviour as well as of its answers where the shifter's cost depends on
// it: every call it receives takes the tokens AWS's budgets charge it
// (budget.Buckets, the table the awslike layer enforces in front of moto),
// and one that finds a bucket empty is answered with the service's
// throttling error, after the fake's latency. The shifter's side is real:
// every call goes through a call scheduler per account (schedule.Do, which
// the SDK clients' middleware runs too) in the lane the reconciler gives it,
// so the scheduler's pacing and retries run at scale as against AWS. Target
// health is not modelled: a target is healthy at once.

// region is the region of every account of the fake.
const region = "us-east-1"

// awsSide is AWS as the fake answers it: the budgets of every account, the
// latency of every call, and the calls it answered, by account.
type awsSide struct {
	latency time.Duration
	buckets *budget.Buckets

	mu    sync.Mutex
	calls map[string]map[[2]string]*awslike.OpStats // account → service, operation
}

func newAWSSide(latency time.Duration) *awsSide {
	return &awsSide{latency: latency, buckets: budget.NewBuckets(1), calls: map[string]map[[2]string]*awslike.OpStats{}}
}

// othersCalls are what another tool in an account (an operator's script, a
// CI pipeline) calls in a burst: ELBv2 writes and reads, and Auto Scaling
// reads, as many as the buckets hold.
var othersCalls = []budget.Call{
	{Service: budget.ELBv2, Operation: "ModifyRule"},
	{Service: budget.ELBv2, Operation: "DescribeTargetHealth"},
	{Service: budget.AutoScaling, Operation: "DescribeAutoScalingGroups"},
}

// othersBurst empties the buckets of othersCalls in every account of
// accounts at once and then every period until ctx ends, as other tools
// would: a lone shifter keeps within its share of the budgets
// (schedule.Options.Share), so only other callers make AWS throttle it, and
// then it must retry. Once a minute they take a ninth of the ELBv2 write
// budget, within the fifth the shifter leaves to others.
func (a *awsSide) othersBurst(ctx context.Context, accounts []*fakeAccount, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		for _, acct := range accounts {
			for _, c := range othersCalls {
				for a.buckets.Take(time.Now(), acct.account, region, budget.Charges(c)) {
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serve answers one attempt of a call as AWS would: after the latency, with
// the service's throttling error when one of the call's buckets is empty.
func (a *awsSide) serve(ctx context.Context, account string, service budget.Service, op string) error {
	if err := wait.Sleep(ctx, a.latency); err != nil {
		return err
	}
	charges := budget.Charges(budget.Call{Service: service, Operation: op})
	ok := a.buckets.Take(time.Now(), account, region, charges)
	a.mu.Lock()
	defer a.mu.Unlock()
	ops := a.calls[account]
	if ops == nil {
		ops = map[[2]string]*awslike.OpStats{}
		a.calls[account] = ops
	}
	o := ops[[2]string{string(service), op}]
	if o == nil {
		o = &awslike.OpStats{Service: service, Operation: op}
		if len(charges) > 0 {
			o.Class = charges[0].Limit.Class
		}
		ops[[2]string{string(service), op}] = o
	}
	o.Calls++
	if !ok {
		o.Throttled++
		return awslike.ThrottleError(service)
	}
	return nil
}

// stats returns the calls answered so far, per account, and forgets them.
func (a *awsSide) stats() map[string][]awslike.OpStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string][]awslike.OpStats{}
	for account, ops := range a.calls {
		for _, o := range ops {
			out[account] = append(out[account], *o)
		}
	}
	clear(a.calls)
	return out
}

// fakeAccount is one account of the fake AWS: its ELBv2, EC2 and Auto
// Scaling as the ec2 backend and the ALB router use them. Each method makes
// the calls the real adapter makes for it (shifter/aws/ec2env and alb):
// listings of the whole account and of listeners shared as theirs are (a
// Snapshot), a health read per target group, creates and deletes of several
// calls. Left out: the subnet read a target group's creation makes once per
// subnet, and the tags of rules the router reads once per rule.
type fakeAccount struct {
	aws     *awsSide
	account string
	sched   *schedule.Scheduler

	mu    sync.Mutex
	envs  map[string]int            // endpoint/environment → capacity
	rules map[string]map[string]int // listener/priority → target group → weight
	// inventory, moving and listeners share reads as the adapters do.
	inventory, moving shifteraws.Snapshot[struct{}]
	listeners         map[string]*shifteraws.Snapshot[struct{}]
}

func newFakeAccount(side *awsSide, account string, opts schedule.Options) *fakeAccount {
	return &fakeAccount{aws: side, account: account, sched: schedule.New(shifteraws.Budgets, opts),
		envs: map[string]int{}, rules: map[string]map[string]int{}, listeners: map[string]*shifteraws.Snapshot[struct{}]{}}
}

// fakeCall is n calls of one operation made one after the other: the pages
// of a listing, or a single call.
type fakeCall struct {
	service budget.Service
	op      string
	n       int
}

// call makes calls one after the other, each scheduled by the account's
// scheduler in the lane of ctx and answered by AWS's side.
func (f *fakeAccount) call(ctx context.Context, calls ...fakeCall) error {
	for _, c := range calls {
		for range max(c.n, 1) {
			err := f.sched.Do(ctx, string(c.service), c.op, func(ctx context.Context, _ int) error {
				return f.aws.serve(ctx, f.account, c.service, c.op)
			})
			if err != nil {
				return fmt.Errorf("%s %s: %w", c.service, c.op, err)
			}
		}
	}
	return nil
}

// read makes each listing's calls, the listings side by side, as the
// adapters read an account.
func (f *fakeAccount) read(ctx context.Context, listings ...fakeCall) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, l := range listings {
		g.Go(func() error { return f.call(gctx, l) })
	}
	return g.Wait()
}

func tgARN(endpoint, env string) string {
	return "arn:aws:elasticloadbalancing:tg/" + endpoint + "/" + env
}

// Create makes a target group and sets its attributes, a launch template and
// an Auto Scaling group.
func (f *fakeAccount) Create(ctx context.Context, endpoint string, env rollout.Environment) error {
	err := f.call(ctx, fakeCall{budget.ELBv2, "CreateTargetGroup", 1}, fakeCall{budget.ELBv2, "ModifyTargetGroupAttributes", 1},
		fakeCall{budget.EC2, "CreateLaunchTemplate", 1}, fakeCall{budget.AutoScaling, "CreateAutoScalingGroup", 1})
	if err != nil {
		return err
	}
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
func (f *fakeAccount) Observe(ctx context.Context, endpoint string, envs []rollout.Environment, q reconcile.Query) (map[string]reconcile.Env, error) {
	f.mu.Lock()
	n := len(f.envs)
	f.mu.Unlock()
	_, err := f.inventory.Get(ctx, q.Listed, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, f.read(ctx, fakeCall{budget.AutoScaling, "DescribeAutoScalingGroups", pages(n, 100)},
			fakeCall{budget.ELBv2, "DescribeTargetGroups", pages(n, 400)}, fakeCall{budget.EC2, "DescribeLaunchTemplates", pages(n, 200)})
	})
	if err != nil {
		return nil, err
	}
	if len(q.Changing) > 0 {
		// Priced by the environments of the endpoint that starts the read:
		// the fake does not keep which other endpoints' are changing.
		_, err := f.moving.Get(ctx, q.Since, func(ctx context.Context) (struct{}, error) {
			return struct{}{}, f.read(ctx, fakeCall{budget.AutoScaling, "DescribeAutoScalingGroups", pages(len(q.Changing), 50)},
				fakeCall{budget.ELBv2, "DescribeTargetGroups", pages(n, 400)}, fakeCall{budget.EC2, "DescribeLaunchTemplates", pages(len(q.Changing), 200)})
		})
		if err != nil {
			return nil, err
		}
	}
	health := make([]fakeCall, len(q.Health))
	for i := range health {
		health[i] = fakeCall{budget.ELBv2, "DescribeTargetHealth", 1}
	}
	if err := f.read(ctx, health...); err != nil {
		return nil, err
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

// Scale updates the group.
func (f *fakeAccount) Scale(ctx context.Context, endpoint string, env rollout.Environment, capacity int) error {
	if err := f.call(ctx, fakeCall{budget.AutoScaling, "UpdateAutoScalingGroup", 1}); err != nil {
		return err
	}
	f.mu.Lock()
	f.envs[endpoint+"/"+env.ID] = capacity
	f.mu.Unlock()
	return nil
}

// Delete reads and deletes the group (and reads it gone), the target group
// and the launch template.
func (f *fakeAccount) Delete(ctx context.Context, endpoint string, env rollout.Environment) (bool, error) {
	err := f.call(ctx, fakeCall{budget.AutoScaling, "DescribeAutoScalingGroups", 1}, fakeCall{budget.AutoScaling, "DeleteAutoScalingGroup", 1},
		fakeCall{budget.AutoScaling, "DescribeAutoScalingGroups", 1}, fakeCall{budget.ELBv2, "DescribeTargetGroups", 1},
		fakeCall{budget.ELBv2, "DeleteTargetGroup", 1}, fakeCall{budget.EC2, "DescribeLaunchTemplates", 1}, fakeCall{budget.EC2, "DeleteLaunchTemplate", 1})
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	delete(f.envs, endpoint+"/"+env.ID)
	f.mu.Unlock()
	return true, nil
}

func ruleKey(ep rollout.Endpoint) string {
	return ep.Traffic.ListenerARN + "/" + strconv.Itoa(ep.Traffic.Priority)
}

// router adapts fakeAccount to reconcile.Router (Delete is taken by the
// backend).
type router struct{ *fakeAccount }

// SetWeights modifies the route's rule.
func (r router) SetWeights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, weights map[string]int) error {
	if err := r.call(ctx, fakeCall{budget.ELBv2, "ModifyRule", 1}); err != nil {
		return err
	}
	r.mu.Lock()
	r.rules[ruleKey(ep)] = weights
	r.mu.Unlock()
	return nil
}

// Weights reads each listener's rules once per since, as the router does.
func (r router) Weights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, since time.Time) (reconcile.Route, error) {
	r.mu.Lock()
	snap := r.listeners[ep.Traffic.ListenerARN]
	if snap == nil {
		snap = &shifteraws.Snapshot[struct{}]{}
		r.listeners[ep.Traffic.ListenerARN] = snap
	}
	r.mu.Unlock()
	_, err := snap.Get(ctx, since, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, r.call(ctx, fakeCall{budget.ELBv2, "DescribeRules", 1})
	})
	if err != nil {
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

// Delete deletes the route's rule.
func (r router) Delete(ctx context.Context, ep rollout.Endpoint, _ rollout.Track) error {
	if err := r.call(ctx, fakeCall{budget.ELBv2, "DeleteRule", 1}); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.rules, ruleKey(ep))
	r.mu.Unlock()
	return nil
}

// othersPeriod is how often other tools in an account empty its buckets
// while endpoints roll.
const othersPeriod = time.Minute

// endpointsPerAccount is how many endpoints the scale benchmark puts in one
// account and region: the budget benchmark's 1,000, ten load balancers of 100
// rules (ALB's default quota of rules per load balancer). A shifter with more
// spreads them over accounts, which is also what AWS's budgets ask of it.
const endpointsPerAccount = 1000

// scaleRun is one measurement of the scale benchmark.
type scaleRun struct {
	endpoints, rolling, accounts int

	// At rest: the shifter's CPU and AWS calls per endpoint and minute.
	cpuIdle, callsIdle float64
	// Rolling: CPU per step of a rolling endpoint (the cost of the idle
	// endpoints meanwhile included), the lateness of steps, the calls per
	// rolling endpoint and minute, and the busiest account's rate against
	// each budget.
	cpuPerStep   time.Duration
	stepLateP99  time.Duration
	callsRolling float64
	rates        []budgetRate
	rolloutTook  time.Duration

	rssMB      float64
	goroutines int
	// Throttles: failures are those that ended a pass or an action
	// (must be none); retried are the calls AWS (the fake) throttled,
	// each tried again by the scheduler.
	failures []string
	retried  int
	waits    *laneWaits
}

// runScale runs n endpoints in one shifter (bbolt store) against the fake
// AWS, in accounts of endpointsPerAccount, seeded live on v1. It measures
// them at rest for two resyncs, then rolls every tenth endpoint (100 of each
// account's 1,000, the scenario) to v2 through 10% / 50% / 100% with
// pauses, while other tools in each account empty some of its buckets at
// once and then once a minute (othersBurst).
func runScale(tb testing.TB, n int, latency, poll, resync, pause time.Duration) scaleRun {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "shifter.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	run := scaleRun{endpoints: n, accounts: (n + endpointsPerAccount - 1) / endpointsPerAccount,
		waits: &laneWaits{max: map[string]time.Duration{}, n: map[string]int{}}}
	side := newAWSSide(latency)
	clouds := map[string]reconcile.Cloud{}
	accounts := make([]*fakeAccount, run.accounts)
	for a := range accounts {
		accounts[a] = newFakeAccount(side, fmt.Sprintf("%012d", 100000000000+a), schedule.Options{Observer: run.waits})
		clouds[roleOf(accounts[a].account)] = reconcile.Cloud{Backend: accounts[a], Router: router{accounts[a]}}
	}

	names := make([]string, n)
	for i := range n {
		acct := accounts[i/endpointsPerAccount]
		traffic := rollout.Traffic{Priority: 1 + i%endpointsPerListener, ListenerARN: fmt.Sprintf(
			"arn:aws:elasticloadbalancing:%s:%s:listener/app/lb%d/0123456789abcdef/0123456789abcdef", region, acct.account, i/endpointsPerListener)}
		ep := benchEndpoint(fmt.Sprintf("svc-%05d", i), traffic, "ami-03cf127a", []string{"subnet-0123456789abcdef0"}, pause)
		ep.Placement = rollout.Placement{Region: region, RoleARN: roleOf(acct.account)}
		seedLive(tb, st, ep, func(ep rollout.Endpoint, env rollout.Environment) {
			acct.envs[ep.Name+"/"+env.ID] = env.Capacity
			acct.rules[ruleKey(ep)] = map[string]int{tgARN(ep.Name, env.ID): 100}
		})
		names[i] = ep.Name
	}

	passes := newPasses()
	rec := reconcile.New(reconcile.Config{
		Store: st,
		Connect: func(_ context.Context, p rollout.Placement) (reconcile.Cloud, error) {
			c, ok := clouds[p.RoleARN]
			if !ok {
				return reconcile.Cloud{}, fmt.Errorf("no account for role %s", p.RoleARN)
			}
			return c, nil
		},
		Logger:     hclog.NewNullLogger(),
		Poll:       poll,
		Resync:     resync,
		Reconciled: passes.reconciled,
	})
	if err := rec.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	defer rec.Stop()
	peak := watchGoroutines()

	// At rest: from every endpoint's first pass, until each has had two
	// more (two resyncs).
	waitPasses(tb, passes, names, nil, 1)
	side.stats()
	from, cpu0, start := passes.counts(), cpuTime(), time.Now()
	waitPasses(tb, passes, names, from, 2)
	minutes := time.Since(start).Minutes()
	run.cpuIdle = float64((cpuTime() - cpu0).Microseconds()) / 1000 / float64(n) / minutes
	for _, ops := range side.stats() {
		for _, o := range ops {
			run.callsIdle += float64(o.Calls)
		}
	}
	run.callsIdle /= float64(n) * minutes

	// Rolling: every tenth endpoint moves to v2 at once.
	var movers []string
	for i := 0; i < n; i += 10 {
		movers = append(movers, names[i])
	}
	run.rolling = len(movers)
	bctx, stopBursts := context.WithCancel(ctx)
	go side.othersBurst(bctx, accounts, othersPeriod)
	cpu0, start = cpuTime(), time.Now()
	for _, name := range movers {
		if _, err := st.PutRelease(ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v2"}, rollout.RevisionAny); err != nil {
			tb.Fatal(err)
		}
		rec.Notify(name)
	}
	for _, name := range movers {
		waitComplete(tb, st, name, "v2", 20*time.Minute)
	}
	run.rolloutTook = time.Since(start)
	stopBursts()
	run.cpuPerStep = (cpuTime() - cpu0) / time.Duration(3*len(movers))
	var late []time.Duration
	for _, name := range movers {
		late = append(late, stepLateness(tb, st, name, "v2", pause)...)
	}
	run.stepLateP99 = benchtest.Percentile(late, 99)
	seconds := run.rolloutTook.Seconds()
	busiest := map[[2]string]budgetRate{}
	var calls int
	for _, ops := range side.stats() {
		for _, o := range ops {
			calls += o.Calls
			run.retried += o.Throttled
		}
		for _, r := range budgetRates(ops, seconds) {
			k := [2]string{string(r.service), r.bucket}
			if r.perSec > busiest[k].perSec {
				busiest[k] = r
			}
		}
	}
	run.rates = slices.SortedFunc(maps.Values(busiest), func(a, b budgetRate) int { return cmp.Compare(b.perSec/b.refill, a.perSec/a.refill) })
	run.callsRolling = float64(calls) / float64(len(movers)) / (seconds / 60)
	run.failures = throttleFailures(tb, st, names, passes)
	run.rssMB = rssMB()
	run.goroutines = peak()
	return run
}

// roleOf is the role the shifter assumes in account.
func roleOf(account string) string { return "arn:aws:iam::" + account + ":role/ionroller" }

// watchGoroutines samples the number of goroutines until the returned
// function is called, which returns the highest seen.
func watchGoroutines() (peak func() int) {
	done, result := make(chan struct{}), make(chan int)
	go func() {
		highest := runtime.NumGoroutine()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				result <- highest
				return
			case <-t.C:
				highest = max(highest, runtime.NumGoroutine())
			}
		}
	}()
	return func() int { close(done); return <-result }
}

// waitPasses waits until every endpoint of names has had more passes than
// from says (none if from is nil) by at least more.
func waitPasses(tb testing.TB, p *passes, names []string, from map[string]int, more int) {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		counts := p.counts()
		behind := 0
		for _, name := range names {
			if counts[name] < from[name]+more {
				behind++
			}
		}
		if behind == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d endpoints had fewer than %d passes within 10 minutes", behind, len(names), more)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
// endpoints (SCALE_ENDPOINTS overrides the list) against the fake AWS, 20 ms
// a call, within AWS's request budgets. No account's budgets let thousands of
// endpoints roll at once (5,000 Auto Scaling groups at 2 creates a second
// take 42 minutes), so it measures what they allow, the scenario per
// account: endpoints in accounts of 1,000, first at rest, then with a tenth
// of them rolling through three steps with 20 s pauses while the rest stay
// at rest, and other tools in each account empty some of its buckets once a
// minute. It reports CPU and memory per endpoint, how late steps came, the
// calls per endpoint, the busiest account's calls per second against its
// budgets, the calls AWS throttled and the scheduler tried again, and those
// that ended as failures (there must be none).
func BenchmarkScale(b *testing.B) {
	for _, n := range benchtest.Sizes(b, "SCALE_ENDPOINTS", 100, 1000, 5000) {
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			for range b.N {
				r := runScale(b, n, 20*time.Millisecond, 2*time.Second, 30*time.Second, 20*time.Second)
				b.ReportMetric(r.cpuIdle, "cpu-ms/endpoint/min-idle")
				b.ReportMetric(benchtest.Ms(r.cpuPerStep), "cpu-ms/endpoint-step")
				b.ReportMetric(r.rssMB, "MB-rss")
				b.ReportMetric(r.rssMB*1024/float64(n), "KB-rss/endpoint")
				b.ReportMetric(float64(r.goroutines), "goroutines")
				b.ReportMetric(float64(r.stepLateP99.Milliseconds()), "ms-step-late-p99")
				b.ReportMetric(r.callsIdle, "calls/endpoint/min-idle")
				b.ReportMetric(r.callsRolling, "calls/endpoint/min-rolling")
				b.ReportMetric(float64(len(r.failures)), "throttle-failures")
				b.ReportMetric(float64(r.retried), "throttled-retried")
				if len(r.rates) > 0 {
					b.ReportMetric(100*r.rates[0].perSec/r.rates[0].refill, "%-busiest-budget")
				}
				b.Logf("%d endpoints in %d account(s) of %d, %d rolling: took %s", r.endpoints, r.accounts, endpointsPerAccount, r.rolling, r.rolloutTook.Round(time.Second))
				b.Log("calls a second of the busiest account, by budget: ", joinRates(r.rates))
				b.Log("waits for a token: ", r.waits)
				for _, f := range r.failures {
					b.Error("a throttle ended as a failure: ", f)
				}
			}
		})
	}
}
