package hatest_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	smithymiddleware "github.com/aws/smithy-go/middleware"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/cloud"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/faults"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb/dynamodbtest"
)

// fleet is several shifter replicas sharing one DynamoDB table and one moto
// account, with many endpoints on one listener: what `shifter serve` runs
// as with the dynamodb store, in one process so that the test can watch
// every replica's AWS calls and cut any of them off.
type fleet struct {
	t   testing.TB
	ctx context.Context
	cfg awssdk.Config
	// dynamo reaches the same account in a moto of its own: the
	// replicas' DynamoDB traffic alone keeps one moto busy.
	dynamo   awssdk.Config
	net      awstest.Net
	store    *dynamodb.Store // the test's own view of the table
	elb      *elb.Client
	names    []string
	writes   *ruleWrites
	replicas []*replica
	ttl      time.Duration
	resync   time.Duration // of the replicas started next
	// tgs caches what target groups belong to, for the invariant
	// sampler.
	tgMu sync.Mutex
	tgs  map[string]tgInfo
}

// replica is one shifter of a fleet.
type replica struct {
	name string
	rec  *reconcile.Reconciler
	// dynamo fails the replica's DynamoDB calls on demand (a cut-off);
	// aws its other AWS calls.
	dynamo, aws *faults.Injector
	cancel      context.CancelFunc
}

const fleetTable = "shifter"

func TestMain(m *testing.M) { awstest.Main(m) }

// testWriter sends a replica's log to the test's.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// newFleet creates n endpoints with steps in a new moto account and table.
func newFleet(t testing.TB, n int, ttl time.Duration, steps ...rollout.Step) *fleet {
	t.Helper()
	f := &fleet{t: t, ctx: t.Context(), cfg: awstest.Config(t), writes: &ruleWrites{}, ttl: ttl, resync: fleetResync, tgs: map[string]tgInfo{}}
	f.net = awstest.Network(t, f.cfg)
	f.elb = elb.NewFromConfig(awstest.Exempt(f.cfg))
	f.dynamo = f.cfg.Copy()
	f.dynamo.BaseEndpoint = awssdk.String(awstest.Server(t))
	f.store = dynamodbtest.Open(t, f.dynamo, fleetTable)
	for i := range n {
		ep := rollout.NewEndpoint()
		ep.Name = fmt.Sprintf("ep%02d", i+1)
		ep.Traffic = rollout.Traffic{ListenerARN: f.net.ListenerARN, Priority: i + 1, Hosts: []string{ep.Name + ".example.com"}}
		ep.Template.Repository = "registry.example.com/" + ep.Name
		ep.Template.ContainerPort = 8080
		ep.Template.AMI = f.net.AMI
		ep.Template.Subnets = f.net.Subnets
		ep.Template.SecurityGroups = []string{f.net.SecurityGroup}
		ep.Template.DesiredCapacity = 1
		ep.Policy.Steps = steps
		ep.Policy.BakeTime = 0
		ep.Policy.HealthyTimeout = rollout.Duration(2 * time.Minute)
		if err := ep.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.PutEndpoint(f.ctx, ep, rollout.RevisionNew); err != nil {
			t.Fatal(err)
		}
		f.names = append(f.names, ep.Name)
	}
	return f
}

// start runs a replica with its own clients: its DynamoDB calls and its
// other AWS calls each pass through a fault injector, and its ModifyRule
// calls are recorded with the lease they were made under.
func (f *fleet) start(name string, awsRules ...faults.Rule) *replica {
	f.t.Helper()
	r := &replica{name: name, dynamo: faults.New(seed(name)), aws: faults.New(seed(name)+1, awsRules...).WithTimeout(100 * time.Millisecond)}

	dcfg := f.dynamo.Copy()
	dcfg.APIOptions = append(dcfg.APIOptions, r.dynamo.Middleware)
	s, err := dynamodb.Open(f.ctx, dynamodbtest.Client(dcfg), fleetTable)
	if err != nil {
		f.t.Fatal(err)
	}

	acfg := f.cfg.Copy()
	acfg.APIOptions = append(acfg.APIOptions, f.writes.recorder(name), r.aws.Middleware)
	if len(awsRules) > 0 {
		// As in production, the SDK retries what AWS fails, here with
		// short waits and one retry, so that some faults get through
		// to the shifter.
		acfg.RetryMaxAttempts = 2
		acfg.Retryer = func() awssdk.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts, o.MaxBackoff = 2, 20*time.Millisecond })
		}
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: name, Level: hclog.Warn, Output: testWriter{f.t}})
	r.rec = reconcile.New(reconcile.Config{
		Store:    s,
		Connect:  cloud.Connector(aws.NewClients(acfg, logger, schedule.Options{}), "test", fleetPoll, logger, cloud.RunTagged()),
		Logger:   logger,
		Poll:     fleetPoll,
		Resync:   f.resync,
		Leases:   s,
		Replica:  name,
		LeaseTTL: f.ttl,
	})
	ctx, cancel := context.WithCancel(f.ctx)
	r.cancel = cancel
	if err := r.rec.Start(ctx); err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(r.stop)
	f.replicas = append(f.replicas, r)
	return r
}

const (
	fleetPoll   = 500 * time.Millisecond
	fleetResync = 10 * time.Second
)

func seed(name string) uint64 {
	var s uint64
	for _, c := range name {
		s = s*31 + uint64(c)
	}
	return s
}

// cut makes every DynamoDB call of the replica fail at once, as a network
// partition between it and DynamoDB would.
func (r *replica) cut() {
	r.dynamo.Set(faults.Rule{Service: "DynamoDB", Rate: 1, Kinds: []faults.Kind{faults.Reset}})
}

// kill stops the replica as a crash would: cut off first, so that it
// cannot hand its leases over, then stopped hard.
func (r *replica) kill() {
	r.cut()
	r.stop()
}

func (r *replica) stop() {
	r.cancel()
	r.rec.Stop()
}

// waitSpread waits until the live replicas hold every endpoint's lease,
// none above its fair share.
func (f *fleet) waitSpread(live ...*replica) {
	f.t.Helper()
	share := (len(f.names) + len(live) - 1) / len(live)
	deadline := time.Now().Add(30 * time.Second)
	for {
		total, spread, counts := 0, true, []int{}
		for _, r := range live {
			n := len(r.rec.Held())
			counts = append(counts, n)
			spread = spread && n <= share
			total += n
		}
		if spread && total == len(f.names) {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("leases not spread over the replicas after 30s: they hold %v of %d", counts, len(f.names))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// release declares version on every endpoint and tells every replica.
func (f *fleet) release(version string) {
	f.t.Helper()
	for _, name := range f.names {
		if _, err := f.store.PutRelease(f.ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: version}, rollout.RevisionAny); err != nil {
			f.t.Fatal(err)
		}
		for _, r := range f.replicas {
			r.rec.Notify(name)
		}
	}
}

// waitComplete waits until every endpoint's rollout of version completed.
// An endpoint found complete is not read again: the table is shared with
// the replicas, and the test must not be what keeps it busy.
func (f *fleet) waitComplete(version string, timeout time.Duration) {
	f.t.Helper()
	pending := slices.Clone(f.names)
	what := func() string {
		if len(pending) == 0 {
			return ""
		}
		events, _ := f.store.ListEvents(f.ctx, pending[0], 0, 0)
		trail := ""
		for _, e := range events[max(0, len(events)-5):] {
			trail += "\n  " + e.Type + ": " + e.Message
		}
		st, _ := f.store.GetState(f.ctx, pending[0])
		if r := st.Production.Rollout; r != nil {
			trail += fmt.Sprintf("\n  rollout %s phase %s step %d since %s", r.Key.Version, r.Phase, r.Step, r.Since.Format(time.TimeOnly))
		}
		for _, c := range st.Conditions {
			trail += fmt.Sprintf("\n  condition %s: %s", c.Type, c.Message)
		}
		return fmt.Sprintf("; %d pending, %s last:%s", len(pending), pending[0], trail)
	}
	f.eventually(timeout, "every rollout of "+version+" complete", func() bool {
		pending = slices.DeleteFunc(pending, func(name string) bool {
			st, err := f.store.GetState(f.ctx, name)
			if err != nil {
				f.t.Fatal(err)
			}
			r := st.Production.Rollout
			return r != nil && r.Key.Version == version && r.Phase == rollout.PhaseComplete
		})
		return len(pending) == 0
	}, what)
}

// eventually waits for cond; more, when given, adds to the report of a
// timeout what would explain it.
func (f *fleet) eventually(timeout time.Duration, what string, cond func() bool, more ...func() string) {
	f.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			for _, m := range more {
				what += m()
			}
			f.t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stepped reports whether the rollout of version on endpoint applied its
// first step, from the state: one read, where the trail would be a query.
func (f *fleet) stepped(endpoint, version string) bool {
	st, err := f.store.GetState(f.ctx, endpoint)
	if err != nil {
		f.t.Fatal(err)
	}
	r := st.Production.Rollout
	return r != nil && r.Key.Version == version && r.Step >= 0 && !r.Since.IsZero()
}

// events returns the events of type typ of endpoint for version.
func (f *fleet) events(endpoint, typ, version string) []rollout.Event {
	all, err := f.store.ListEvents(f.ctx, endpoint, 0, 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(e rollout.Event) bool { return e.Type != typ || e.Version != version })
}

// checkSteps expects each endpoint's rollout of version to have applied
// each of its intermediate steps exactly once (no step doubled or lost).
func (f *fleet) checkSteps(version string, steps int) {
	f.t.Helper()
	var want []string
	for i := range steps {
		want = append(want, strconv.Itoa(i+1))
	}
	for _, name := range f.names {
		var got []string
		for _, e := range f.events(name, rollout.EventStepApplied, version) {
			got = append(got, e.Details["step"])
		}
		if !slices.Equal(got, want) {
			f.t.Errorf("%s: step.applied for steps %v, want %v", name, got, want)
		}
		if n := len(f.events(name, rollout.EventRolloutComplete, version)); n != 1 {
			f.t.Errorf("%s: %d rollout.complete events for %s, want 1", name, n, version)
		}
	}
}

// rules reads the listener's rules: weights by target group ARN, by
// endpoint (through the rule's priority).
func (f *fleet) rules() (map[string]map[string]int, map[string]string) {
	out, err := f.elb.DescribeRules(f.ctx, &elb.DescribeRulesInput{ListenerArn: &f.net.ListenerARN})
	if err != nil {
		if f.ctx.Err() == nil {
			f.t.Error(err)
		}
		return nil, nil
	}
	weights, arns := map[string]map[string]int{}, map[string]string{}
	for _, r := range out.Rules {
		p, err := strconv.Atoi(awssdk.ToString(r.Priority))
		if err != nil || p < 1 || p > len(f.names) {
			continue // the default rule
		}
		name := f.names[p-1]
		arns[awssdk.ToString(r.RuleArn)] = name
		w := map[string]int{}
		for _, a := range r.Actions {
			if a.ForwardConfig == nil {
				continue
			}
			for _, tg := range a.ForwardConfig.TargetGroups {
				w[awssdk.ToString(tg.TargetGroupArn)] = int(awssdk.ToInt32(tg.Weight))
			}
		}
		weights[name] = w
	}
	return weights, arns
}

// sample checks invariant 1 on every rule, every interval until stop: the
// weights sum to 100 and only target groups of the rule's endpoint appear.
// stop returns, per endpoint, the distinct splits (weights by version) the
// rule went through, in order.
func (f *fleet) sample(interval time.Duration) (stop func() map[string][]map[string]int) {
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
		seen = map[string][]map[string]int{}
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(interval):
			}
			rules, _ := f.rules()
			for name, weights := range rules {
				sum, split := 0, map[string]int{}
				for arn, w := range weights {
					sum += w
					tg := f.targetGroup(arn)
					if w > 0 && tg.endpoint != name {
						f.t.Errorf("invariant 1: rule of %s sends %d%% to target group %s of %q", name, w, arn, tg.endpoint)
					}
					if w > 0 {
						split[tg.version] += w
					}
				}
				if sum != 100 {
					f.t.Errorf("invariant 1: rule of %s has weights %v summing to %d", name, weights, sum)
				}
				if s := seen[name]; len(s) == 0 || !maps.Equal(s[len(s)-1], split) {
					seen[name] = append(s, split)
				}
			}
		}
	})
	return func() map[string][]map[string]int {
		close(done)
		wg.Wait()
		return seen
	}
}

// checkSplits expects every endpoint's rule to have gone through want, in
// order, and nothing else: no step repeated after a later one, none skipped.
func (f *fleet) checkSplits(seen map[string][]map[string]int, want ...map[string]int) {
	f.t.Helper()
	for _, name := range f.names {
		if !slices.EqualFunc(seen[name], want, maps.Equal) {
			f.t.Errorf("%s: the rule went through %v, want %v", name, seen[name], want)
		}
	}
}

// tgInfo is what a target group's tags say it belongs to.
type tgInfo struct{ endpoint, version string }

func (f *fleet) targetGroup(arn string) tgInfo {
	f.tgMu.Lock()
	defer f.tgMu.Unlock()
	if tg, ok := f.tgs[arn]; ok {
		return tg
	}
	out, err := f.elb.DescribeTags(f.ctx, &elb.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil || len(out.TagDescriptions) == 0 {
		return tgInfo{endpoint: "?", version: arn}
	}
	tags := map[string]string{}
	for _, tag := range out.TagDescriptions[0].Tags {
		tags[awssdk.ToString(tag.Key)] = awssdk.ToString(tag.Value)
	}
	tg := tgInfo{endpoint: tags[aws.TagEndpoint], version: tags[aws.TagVersion]}
	f.tgs[arn] = tg
	return tg
}

// ruleWrites records every ModifyRule a replica sends: which replica, under
// which lease, on which rule, with which weights, when it started and
// whether it succeeded. A call that failed is recorded too: one cut short by
// a crash, or whose answer was lost, may still have taken effect.
type ruleWrites struct {
	mu     sync.Mutex
	writes []ruleWrite
}

type ruleWrite struct {
	replica string
	lease   store.Lease
	rule    string
	weights map[string]int // by target group ARN
	at      time.Time
	ok      bool
}

func (w *ruleWrites) recorder(replica string) func(*smithymiddleware.Stack) error {
	return func(stack *smithymiddleware.Stack) error {
		return stack.Initialize.Add(smithymiddleware.InitializeMiddlewareFunc("testRuleWrites",
			func(ctx context.Context, in smithymiddleware.InitializeInput, next smithymiddleware.InitializeHandler) (smithymiddleware.InitializeOutput, smithymiddleware.Metadata, error) {
				input, ok := in.Parameters.(*elb.ModifyRuleInput)
				if !ok {
					return next.HandleInitialize(ctx, in)
				}
				lease, _ := store.LeaseFrom(ctx)
				wr := ruleWrite{replica: replica, lease: lease, rule: awssdk.ToString(input.RuleArn), weights: map[string]int{}, at: time.Now()}
				for _, a := range input.Actions {
					if a.ForwardConfig != nil {
						for _, tg := range a.ForwardConfig.TargetGroups {
							wr.weights[awssdk.ToString(tg.TargetGroupArn)] = int(awssdk.ToInt32(tg.Weight))
						}
					}
				}
				out, md, err := next.HandleInitialize(ctx, in)
				wr.ok = err == nil
				w.mu.Lock()
				w.writes = append(w.writes, wr)
				w.mu.Unlock()
				return out, md, err
			}), smithymiddleware.After)
	}
}

// byEndpoint returns the writes per endpoint, in the order they were made.
func (w *ruleWrites) byEndpoint(endpointOfRule map[string]string) map[string][]ruleWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string][]ruleWrite{}
	for _, wr := range w.writes {
		name := endpointOfRule[wr.rule]
		out[name] = append(out[name], wr)
	}
	for _, ws := range out {
		slices.SortStableFunc(ws, func(a, b ruleWrite) int { return a.at.Compare(b.at) })
	}
	return out
}

// checkOneWriterAtATime expects the weight writes of each endpoint to come
// from one replica per lease generation, generations only moving forward
// (never two replicas interleaving their writes to one rule), and no
// generation to write the same weights twice with success (no step doubled
// by its holder; a failed write is retried, and a new holder may write
// again what its predecessor wrote just before it died, not knowing whether
// that write landed).
func (f *fleet) checkOneWriterAtATime() map[string][]ruleWrite {
	f.t.Helper()
	_, arns := f.rules()
	writes := f.writes.byEndpoint(arns)
	for name, ws := range writes {
		owner := map[int64]string{}
		var prev, prevOK ruleWrite
		for i, w := range ws {
			if w.lease.Endpoint != name || w.lease.Holder != w.replica {
				f.t.Errorf("%s: ModifyRule by %s under lease %+v, not its own lease of the endpoint", name, w.replica, w.lease)
			}
			if o, ok := owner[w.lease.Generation]; ok && o != w.replica {
				f.t.Errorf("%s: generation %d wrote from %s and %s", name, w.lease.Generation, o, w.replica)
			}
			owner[w.lease.Generation] = w.replica
			if i > 0 && w.lease.Generation < prev.lease.Generation {
				f.t.Errorf("%s: a write under generation %d (%s) after one under %d (%s): interleaved",
					name, w.lease.Generation, w.replica, prev.lease.Generation, prev.replica)
			}
			if w.ok && prevOK.ok && w.lease.Generation == prevOK.lease.Generation && maps.Equal(w.weights, prevOK.weights) {
				f.t.Errorf("%s: generation %d wrote %v twice", name, w.lease.Generation, w.weights)
			}
			prev = w
			if w.ok {
				prevOK = w
			}
		}
	}
	return writes
}

// holders returns each endpoint's lease holder as the table has it, for
// leases live now.
func (f *fleet) holders() map[string]string {
	leases, err := f.store.ListLeases(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	now := time.Now()
	for _, l := range leases {
		if l.Expires.After(now) {
			out[l.Endpoint] = l.Holder
		}
	}
	return out
}

// held returns the endpoints r holds.
func (r *replica) held() []string {
	var out []string
	for _, l := range r.rec.Held() {
		out = append(out, l.Endpoint)
	}
	return out
}

// waitTakeover waits until every endpoint of from is held by another
// replica, and returns when each moved, measured from since.
func (f *fleet) waitTakeover(from *replica, endpoints []string, since time.Time, timeout time.Duration) map[string]time.Duration {
	f.t.Helper()
	moved := map[string]time.Duration{}
	deadline := time.Now().Add(timeout)
	for {
		holders := f.holders()
		for _, name := range endpoints {
			if _, done := moved[name]; !done && holders[name] != "" && holders[name] != from.name {
				moved[name] = time.Since(since)
			}
		}
		switch {
		case len(moved) == len(endpoints):
			return moved
		case time.Now().After(deadline):
			f.t.Fatalf("after %s, only %d of the %d endpoints of %s moved (%v); holders now %v", timeout, len(moved), len(endpoints), from.name, moved, holders)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func maxDuration(ds map[string]time.Duration) time.Duration {
	return slices.Max(slices.Collect(maps.Values(ds)))
}

func meanDuration(ds map[string]time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(max(len(ds), 1))
}
