package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awslike"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/budget"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/cloud"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// The budget run: one shifter with many endpoints in one account and region
// of moto behind the awslike layer, which gives that account AWS's request
// budgets and target health. Some endpoints roll out a new version at once
// through three steps while the rest stay idle, and some of the rolling ones
// are reverted in the middle of their canary. It measures how late steps
// come, how soon a revert reaches its ModifyRule, and the calls per second
// against each budget; and checks that no throttled call ended as a failure.

// budgetRun is the set-up and the outcome of one run.
type budgetRun struct {
	endpoints, rolling, reverts int
	pause                       time.Duration

	stepLate      []time.Duration // per step, from its due time to verified
	revertLatency []time.Duration // from the revert to its ModifyRule done
	failures      []string        // action.failed events and reconcile errors naming a throttle
	throttled     int             // calls AWS (the layer) throttled, each tried again
	rates         []budgetRate
	waits         *laneWaits // the longest wait for a token, by service and lane
	took          time.Duration
}

// budgetRate is the calls per second one of AWS's buckets took over a
// phase, next to the bucket's refill.
type budgetRate struct {
	service budget.Service
	bucket  string // as budget.Charge names it
	perSec  float64
	refill  float64
}

func (r budgetRate) String() string {
	return fmt.Sprintf("%s %s: %.2f/s of %.1f/s", r.service, r.bucket, r.perSec, r.refill)
}

// budgetRates returns the tokens a second each bucket gave the calls counted
// in stats over seconds, the busiest bucket (against its refill) first. A
// call is charged as budget.Charges charges it, at AWS's own figures; an
// operation counted without a class (unbudgeted) is left out.
func budgetRates(stats []awslike.OpStats, seconds float64) []budgetRate {
	type key struct {
		service budget.Service
		bucket  string
	}
	tokens := map[key]float64{}
	refill := map[key]float64{}
	for _, o := range stats {
		if o.Class == "" || o.Calls == 0 {
			continue
		}
		for _, c := range budget.Charges(budget.Call{Service: o.Service, Operation: o.Operation}) {
			k := key{o.Service, c.Bucket}
			tokens[k] += float64(o.Calls-o.Throttled) * c.Tokens
			refill[k] = c.Limit.Refill
		}
	}
	var out []budgetRate
	for k, n := range tokens {
		out = append(out, budgetRate{service: k.service, bucket: k.bucket, perSec: n / seconds, refill: refill[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].perSec/out[i].refill > out[j].perSec/out[j].refill })
	return out
}

// joinRates lists rates on one line (a benchmark's log keeps ten lines).
func joinRates(rates []budgetRate) string {
	out := make([]string, len(rates))
	for i, r := range rates {
		out[i] = r.String()
	}
	return strings.Join(out, "; ")
}

// laneWaits records, by service and lane, how many calls were scheduled and
// the longest any of them waited for its budget.
type laneWaits struct {
	mu  sync.Mutex
	max map[string]time.Duration
	n   map[string]int
}

func (w *laneWaits) Waited(service string, lane schedule.Lane, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := service + "/" + lane.String()
	w.max[k] = max(w.max[k], d)
	w.n[k]++
}

func (w *laneWaits) Throttled(string, string) {}

func (w *laneWaits) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for k, d := range w.max {
		out = append(out, fmt.Sprintf("%s: %d calls, longest wait %s", k, w.n[k], d.Round(time.Millisecond)))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// modifyRules records when each ModifyRule the shifter made ended, by rule.
type modifyRules struct {
	mu  sync.Mutex
	end map[string][]time.Time
}

func (m *modifyRules) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("recordModifyRule",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if mr, ok := in.Parameters.(*elb.ModifyRuleInput); ok && err == nil {
				m.mu.Lock()
				m.end[awssdk.ToString(mr.RuleArn)] = append(m.end[awssdk.ToString(mr.RuleArn)], time.Now())
				m.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
}

// firstAfter returns the end of the first ModifyRule of rule after t.
func (m *modifyRules) firstAfter(rule string, t time.Time) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, at := range m.end[rule] {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

const endpointsPerListener = 100 // ALB's default quota of rules per load balancer

func runBudget(tb testing.TB, endpoints, rolling, reverts int, pause time.Duration) budgetRun {
	run := budgetRun{endpoints: endpoints, rolling: rolling, reverts: reverts, pause: pause}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	acct := awstest.NewAccount(tb)
	exempt := awstest.Exempt(acct.Config)
	// moto answers some of the seed's concurrent creates with a 500 of its
	// own; they are safe to try again.
	exempt.RetryMaxAttempts = 5
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "shifter.db"))
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()

	// Seed: every endpoint live on v1, built by the shifter's own adapters
	// with the test's exempt clients, and stored as a shifter leaves it.
	var nets []awstest.Net
	for i := range (endpoints + endpointsPerListener - 1) / endpointsPerListener {
		n, err := awstest.CreateNetwork(ctx, acct.Config, fmt.Sprintf("budget-%d", i))
		if err != nil {
			tb.Fatal(err)
		}
		nets = append(nets, n)
	}
	seedELB := elb.NewFromConfig(exempt)
	backend := ec2env.New(ec2env.API{EC2: ec2.NewFromConfig(exempt), AutoScaling: autoscaling.NewFromConfig(exempt), TargetGroups: seedELB, Tags: seedELB}, "test", hclog.NewNullLogger())
	router := alb.New(seedELB, "test", hclog.NewNullLogger())
	names := make([]string, endpoints)
	var seedMu sync.Mutex
	seed := func(i int) {
		n := nets[i/endpointsPerListener]
		name := fmt.Sprintf("svc-%04d", i)
		ep := benchEndpoint(name, rollout.Traffic{ListenerARN: n.ListenerARN, Priority: 1 + i%endpointsPerListener, Hosts: []string{name + ".example.com"}}, n.AMI, n.Subnets, pause)
		ep.Template.SecurityGroups = []string{n.SecurityGroup}
		ep.Policy.HealthyTimeout = rollout.Duration(5 * time.Minute)
		seedLive(tb, st, ep, func(ep rollout.Endpoint, env rollout.Environment) {
			if err := backend.Create(ctx, ep.Name, env); err != nil {
				tb.Fatal(err)
			}
			tgs, err := seedELB.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{backend.Names(ep.Name, env.ID).TargetGroup}})
			if err != nil {
				tb.Fatal(err)
			}
			if err := router.SetWeights(ctx, ep, rollout.Production, map[string]int{awssdk.ToString(tgs.TargetGroups[0].TargetGroupArn): 100}); err != nil {
				tb.Fatal(err)
			}
		})
		seedMu.Lock()
		names[i] = ep.Name
		seedMu.Unlock()
	}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range work {
				seed(i)
			}
		})
	}
	for i := range endpoints {
		work <- i
	}
	close(work)
	wg.Wait()

	// The shifter, with its own clients: scheduled, and budgeted by the layer.
	waits := &laneWaits{max: map[string]time.Duration{}, n: map[string]int{}}
	run.waits = waits
	modified := &modifyRules{end: map[string][]time.Time{}}
	cfg := acct.Config.Copy()
	cfg.RetryMaxAttempts = 3 // as in production: a throttle is the scheduler's to retry
	cfg.APIOptions = append(cfg.APIOptions, modified.middleware)
	logger := hclog.New(&hclog.LoggerOptions{Name: "shifter", Level: hclog.Error, Output: testWriter{tb}})
	const poll = 2 * time.Second
	passes := newPasses()
	rec := reconcile.New(reconcile.Config{
		Store:      st,
		Connect:    cloud.Connector(aws.NewClients(cfg, logger, schedule.Options{Observer: waits}), "test", poll, logger, cloud.RunTagged()),
		Logger:     logger,
		Poll:       poll,
		Resync:     30 * time.Second,
		Reconciled: passes.reconciled,
	})
	if err := rec.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	defer rec.Stop()

	// Rolling: every endpoints/rolling-th endpoint moves to v2 at once.
	layer := awstest.Layer()
	layer.ResetStats()
	start := time.Now()
	var movers []string
	for i := 0; i < endpoints && len(movers) < rolling; i += max(1, endpoints/rolling) {
		movers = append(movers, names[i])
	}
	for _, name := range movers {
		if _, err := st.PutRelease(ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v2"}, rollout.RevisionAny); err != nil {
			tb.Fatal(err)
		}
		rec.Notify(name)
	}

	// Reverts: some movers go back to v1 in the middle of their canary, as
	// they come to it while the others roll.
	reverted := map[string]time.Time{}
	deadline := time.Now().Add(5 * time.Minute)
	for len(reverted) < reverts {
		if time.Now().After(deadline) {
			tb.Fatalf("only %d of %d rollouts reverted in their canary within 5 minutes; rollouts by phase: %s; waits for a token: %s; calls: %s",
				len(reverted), reverts, phases(tb, st, movers), waits, layerCalls())
		}
		for _, name := range movers {
			if _, done := reverted[name]; done || len(reverted) == reverts || !canary(tb, st, name) {
				continue
			}
			reverted[name] = time.Now()
			if _, err := st.PutRelease(ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v1"}, rollout.RevisionAny); err != nil {
				tb.Fatal(err)
			}
			rec.Notify(name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rules := ruleARNs(tb, seedELB, nets)
	for name, at := range reverted {
		deadline := time.Now().Add(time.Minute)
		for {
			if end, ok := modified.firstAfter(rules[name], at); ok {
				run.revertLatency = append(run.revertLatency, end.Sub(at))
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("%s: no ModifyRule within a minute of its revert", name)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	var completing []string
	for _, name := range movers {
		if _, ok := reverted[name]; !ok {
			completing = append(completing, name)
			waitComplete(tb, st, name, "v2", 10*time.Minute)
		}
	}
	run.took = time.Since(start)

	for _, name := range completing {
		run.stepLate = append(run.stepLate, stepLateness(tb, st, name, "v2", pause)...)
	}
	run.failures = throttleFailures(tb, st, names, passes)
	stats := layer.Stats()
	for _, o := range stats {
		run.throttled += o.Throttled
	}
	run.rates = budgetRates(stats, run.took.Seconds())
	return run
}

// benchEndpoint is an endpoint of the benchmarks: its template, and a
// policy of steps of 10% and 50% with pause, then 100%, without baking.
func benchEndpoint(name string, traffic rollout.Traffic, ami string, subnets []string, pause time.Duration) rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name, ep.Traffic = name, traffic
	ep.Template.Repository, ep.Template.ContainerPort, ep.Template.AMI = "registry.example.com/svc", 8080, ami
	ep.Template.Subnets = subnets
	ep.Policy.Steps = []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(pause)}, {Weight: 50, Pause: rollout.DurationPtr(pause)}, {Weight: 100}}
	ep.Policy.BakeTime = 0
	return ep
}

// seedLive stores ep with its production release v1 live on environment e1,
// as a shifter leaves an endpoint once a rollout completed; build makes e1
// and its route in AWS before the state is stored.
func seedLive(tb testing.TB, st store.Store, ep rollout.Endpoint, build func(rollout.Endpoint, rollout.Environment)) {
	ctx := context.Background()
	ep, err := st.PutEndpoint(ctx, ep, rollout.RevisionNew)
	if err != nil {
		tb.Fatal(err)
	}
	release := rollout.Release{Endpoint: ep.Name, Track: rollout.Production, Version: "v1"}
	if _, err := st.PutRelease(ctx, release, rollout.RevisionAny); err != nil {
		tb.Fatal(err)
	}
	d := rollout.NewDesired(ep, release)
	tmpl := ep.Template
	env := rollout.Environment{ID: "e1", Version: "v1", TemplateHash: d.Key.TemplateHash, Image: release.ImageFor(ep), Template: &tmpl,
		Status: rollout.EnvReady, Capacity: tmpl.DesiredCapacity, HeldFull: true, CreatedAt: time.Now()}
	build(ep, env)
	state := rollout.State{
		Endpoint:        ep.Name,
		Environments:    []rollout.Environment{env},
		NextEnvironment: 1,
		NextRollout:     1,
		Production: rollout.TrackState{
			Stable: env.ID,
			Route:  rollout.Route{Weights: map[string]int{env.ID: 100}, Verified: true},
			Rollout: &rollout.Rollout{ID: 1, Kind: rollout.KindDeploy, Key: d.Key, Target: env.ID, Steps: ep.Policy.Steps,
				Phase: rollout.PhaseComplete, Step: len(ep.Policy.Steps) - 1, StartedAt: time.Now(), EndedAt: time.Now()},
		},
	}
	if _, err := st.PutState(ctx, state, 0); err != nil {
		tb.Fatal(err)
	}
}

// passes counts each endpoint's reconcile passes and keeps the errors of
// those that name a throttle (its reconciled is a Config.Reconciled).
type passes struct {
	mu        sync.Mutex
	n         map[string]int
	throttles []string
}

func newPasses() *passes { return &passes{n: map[string]int{}} }

func (p *passes) reconciled(endpoint string, _ time.Duration, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n[endpoint]++
	if err != nil && strings.Contains(err.Error(), "Throttl") {
		p.throttles = append(p.throttles, endpoint+": "+err.Error())
	}
}

// counts returns the passes so far, by endpoint.
func (p *passes) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.n)
}

// throttleFailures returns the throttles that ended as failures: the passes
// that failed naming one, and the action.failed events of names that do.
func throttleFailures(tb testing.TB, st store.Store, names []string, p *passes) []string {
	p.mu.Lock()
	out := slices.Clone(p.throttles)
	p.mu.Unlock()
	for _, name := range names {
		events, err := st.ListEvents(context.Background(), name, 0, 0)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range events {
			if e.Type == rollout.EventActionFailed && strings.Contains(e.Message, "Throttl") {
				out = append(out, name+": "+e.Message)
			}
		}
	}
	return out
}

// lastEvents returns the endpoint's last n events, one a line.
func lastEvents(st *bolt.Store, name string, n int) string {
	events, _ := st.ListEvents(context.Background(), name, 0, 0)
	out := ""
	for _, e := range events[max(0, len(events)-n):] {
		out += fmt.Sprintf("\n  %s %s %s", e.Time.Format("15:04:05.000"), e.Type, e.Message)
	}
	return out
}

// canary reports whether the endpoint's rollout of v2 has its first step
// verified.
func canary(tb testing.TB, st *bolt.Store, name string) bool {
	s, err := st.GetState(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	r := s.Production.Rollout
	return r != nil && r.Key.Version == "v2" && r.Step == 0 && !r.Since.IsZero()
}

// phases counts the endpoints' production rollouts by phase and step.
func phases(tb testing.TB, st *bolt.Store, names []string) string {
	n := map[string]int{}
	for _, name := range names {
		s, err := st.GetState(context.Background(), name)
		if err != nil {
			tb.Fatal(err)
		}
		if r := s.Production.Rollout; r != nil {
			n[fmt.Sprintf("%s %s step %d", r.Key.Version, r.Phase, r.Step)]++
		}
	}
	return fmt.Sprint(n)
}

func waitComplete(tb testing.TB, st *bolt.Store, name, version string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := st.GetState(context.Background(), name)
		if err != nil {
			tb.Fatal(err)
		}
		if r := s.Production.Rollout; r != nil && r.Key.Version == version && r.Phase == rollout.PhaseComplete {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: the rollout of %s did not complete within %s: %+v%s", name, version, timeout, s.Production.Rollout, lastEvents(st, name, 15))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ruleARNs returns each endpoint's rule ARN, by endpoint name (read from
// the rules' host conditions).
func ruleARNs(tb testing.TB, client *elb.Client, nets []awstest.Net) map[string]string {
	out := map[string]string{}
	for _, n := range nets {
		rules, err := client.DescribeRules(context.Background(), &elb.DescribeRulesInput{ListenerArn: awssdk.String(n.ListenerARN), PageSize: awssdk.Int32(400)})
		if err != nil {
			tb.Fatal(err)
		}
		for _, r := range rules.Rules {
			for _, c := range r.Conditions {
				if c.HostHeaderConfig != nil && len(c.HostHeaderConfig.Values) == 1 {
					if name, ok := strings.CutSuffix(c.HostHeaderConfig.Values[0], ".example.com"); ok {
						out[name] = awssdk.ToString(r.RuleArn)
					}
				}
			}
		}
	}
	return out
}

// TestNoThrottleEndsAsAFailureUnderAWSBudgets: a hundred endpoints, twenty
// of them rolling at once and five reverted mid-canary, within AWS's request
// budgets: every rollout completes and every revert is written, and no call
// AWS throttled ends as a failure. How fast is a benchmark's to say
// (BenchmarkBudgets). It runs alone, not in parallel: it measures call
// rates and latencies against the budgets, and the awslike layer's counts
// (Stats) take in every account's calls.
func TestNoThrottleEndsAsAFailureUnderAWSBudgets(t *testing.T) {
	r := runBudget(t, 100, 20, 5, 5*time.Second)
	if len(r.failures) > 0 {
		t.Errorf("throttled calls that ended as failures:\n%s", strings.Join(r.failures, "\n"))
	}
	t.Logf("%d endpoints, %d rolling, %d reverted: took %s; %d calls throttled by AWS and tried again; revert to ModifyRule p99 %s; step lateness p99 %s",
		r.endpoints, r.rolling, r.reverts, r.took.Round(time.Second), r.throttled,
		benchtest.Percentile(r.revertLatency, 99), benchtest.Percentile(r.stepLate, 99))
	for _, rate := range r.rates {
		t.Log(rate)
	}
	t.Log("waits for a token: ", r.waits)
	t.Log("calls: ", layerCalls())
}

// layerCalls lists the calls the shifter made through the awslike layer, by
// operation, with how many AWS throttled.
func layerCalls() string {
	var out []string
	for _, o := range awstest.Layer().Stats() {
		if o.Calls > 0 {
			out = append(out, fmt.Sprintf("%s %s: %d (%d throttled)", o.Service, o.Operation, o.Calls, o.Throttled))
		}
	}
	return strings.Join(out, "; ")
}

// BenchmarkBudgets is the run at scale: 1,000 endpoints in one account and
// region, 100 rolling at once through three steps with 20 s pauses, 900
// idle, 20 reverted mid-canary (BUDGET_ENDPOINTS sets the size: the first
// value is the number of endpoints, a tenth of them roll).
func BenchmarkBudgets(b *testing.B) {
	for _, n := range benchtest.Sizes(b, "BUDGET_ENDPOINTS", 1000) {
		b.Run(fmt.Sprintf("endpoints=%d", n), func(b *testing.B) {
			for range b.N {
				r := runBudget(b, n, n/10, n/50, 20*time.Second)
				b.ReportMetric(float64(benchtest.Percentile(r.stepLate, 99).Milliseconds()), "ms-step-late-p99")
				b.ReportMetric(float64(benchtest.Percentile(r.revertLatency, 99).Milliseconds()), "ms-revert-p99")
				b.ReportMetric(float64(len(r.failures)), "throttle-failures")
				b.ReportMetric(float64(r.throttled), "throttled-retried")
				b.Logf("step lateness of %d steps: p50 %s, p90 %s, max %s", len(r.stepLate), benchtest.Percentile(r.stepLate, 50),
					benchtest.Percentile(r.stepLate, 90), benchtest.Percentile(r.stepLate, 100))
				b.Log("calls a second, by budget: ", joinRates(r.rates))
				b.Log("waits for a token: ", r.waits)
			}
		})
	}
}
