package reconcile_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/cloud"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// harness is a shifter (store + reconciler) working in a fresh moto account
// with a VPC, an ALB and a listener, as the daemon wires it. Nothing of one
// harness is another's (account, store, reconciler, call counter; the awslike
// layer keeps budgets and target health per account), so the tests that use
// one run in parallel.
type harness struct {
	t       *testing.T
	ctx     context.Context
	account string
	cfg     awssdk.Config
	calls   *awstest.Counter
	net     awstest.Net
	store   *bolt.Store
	elb     *elb.Client
	asg     *autoscaling.Client
	ec2     *ec2.Client
	ecs     *ecs.Client
	ep      rollout.Endpoint
	rec     *reconcile.Reconciler
	stopRec context.CancelFunc
	// wrap, when set, changes the AWS the shifter sees (before start);
	// wrapStore the store it writes to.
	wrap      func(reconcile.Cloud) reconcile.Cloud
	wrapStore func(store.Store) store.Store
	// router is the kind of traffic the endpoint routes on.
	router routing
	// history bounds the spec history (before start).
	history rollout.Retention
}

const (
	poll   = 50 * time.Millisecond
	resync = 500 * time.Millisecond
	// attemptTimeout is how long the shifter waits for an AWS answer
	// before it calls the call stalled (10s in production).
	attemptTimeout = time.Second
)

// newHarness starts a shifter for endpoint "web" routed by an ALB rule;
// shape changes its spec.
func newHarness(t *testing.T, shape func(*rollout.Endpoint)) *harness {
	t.Helper()
	return newHarnessOn(t, albRouter, shape)
}

// newHarnessOn starts a shifter for endpoint "web" routed by r; shape
// changes its spec.
func newHarnessOn(t *testing.T, r routing, shape func(*rollout.Endpoint)) *harness {
	t.Helper()
	h := &harness{t: t, ctx: t.Context(), calls: awstest.NewCounter(), router: r}
	acct := awstest.NewAccount(t)
	h.account, h.cfg = acct.ID, acct.Config
	h.net = r.network(t, h.cfg)
	inspect := awstest.Exempt(h.cfg)
	h.elb, h.asg, h.ec2, h.ecs = elb.NewFromConfig(inspect), autoscaling.NewFromConfig(inspect), ec2.NewFromConfig(inspect), ecs.NewFromConfig(inspect)
	s, err := bolt.Open(filepath.Join(t.TempDir(), "shifter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.store = s

	h.ep = rollout.NewEndpoint()
	h.ep.Name = "web"
	h.ep.Traffic = r.route(h.net)
	h.ep.Template.HealthCheck.Protocol = r.protocol
	h.ep.Template.Repository = "registry.example.com/web"
	h.ep.Template.ContainerPort = 8080
	h.ep.Template.Subnets = h.net.Subnets
	h.ep.Template.SecurityGroups = []string{h.net.SecurityGroup}
	h.ep.Template.DesiredCapacity = 2
	h.backend().template(h)
	h.ep.Policy.Steps = []rollout.Step{{Weight: 100}}
	h.ep.Policy.BakeTime = 0
	h.ep.Policy.HealthyTimeout = rollout.Duration(30 * time.Second)
	if shape != nil {
		shape(&h.ep)
	}
	if err := h.ep.Validate(); err != nil {
		t.Fatal(err)
	}
	if h.ep, err = s.PutEndpoint(h.ctx, h.ep, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	h.start()
	return h
}

// start runs a reconciler, as `shifter serve` does, with its own clients,
// whose calls (and only those) h.calls counts.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(h.ctx)
	cfg := h.cfg.Copy()
	h.calls.Add(&cfg)
	logger := hclog.New(&hclog.LoggerOptions{Name: "shifter", Level: hclog.Warn, Output: testWriter{h.t}})
	connect := cloud.Connector(aws.NewClients(cfg, logger, schedule.Options{AttemptTimeout: attemptTimeout}), "test", poll, logger, cloud.RunTagged())
	if h.wrap != nil {
		real := connect
		connect = func(ctx context.Context, p rollout.Placement) (reconcile.Cloud, error) {
			c, err := real(ctx, p)
			return h.wrap(c), err
		}
	}
	var st store.Store = h.store
	if h.wrapStore != nil {
		st = h.wrapStore(st)
	}
	h.rec = reconcile.New(reconcile.Config{
		Store:   st,
		Connect: connect,
		Logger:  logger,
		Poll:    poll,
		Resync:  resync,
		History: h.history,
	})
	if err := h.rec.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	h.stopRec = cancel
	rec := h.rec
	h.t.Cleanup(func() { cancel(); rec.Stop() })
}

// kill stops the reconciler hard: its context is cancelled mid-work and
// nothing is cleaned up.
func (h *harness) kill() {
	h.stopRec()
	h.rec.Stop()
}

func (h *harness) release(version string) { h.releaseOn(rollout.Production, version) }

// releaseOn declares version on track, as a PUT of the release does.
func (h *harness) releaseOn(track rollout.Track, version string) {
	h.t.Helper()
	r := rollout.Release{Endpoint: "web", Track: track, Version: version}
	if _, err := h.store.PutRelease(h.ctx, r, rollout.RevisionAny); err != nil {
		h.t.Fatal(err)
	}
	h.rec.Notify("web")
}

// update changes the endpoint's spec in the store, as a PUT does.
func (h *harness) update(change func(*rollout.Endpoint)) {
	h.t.Helper()
	ep, err := h.store.GetEndpoint(h.ctx, "web")
	if err != nil {
		h.t.Fatal(err)
	}
	change(&ep)
	if h.ep, err = h.store.PutEndpoint(h.ctx, ep, ep.Revision); err != nil {
		h.t.Fatal(err)
	}
	h.rec.Notify("web")
}

// command queues an operator command, as the API does.
func (h *harness) command(kind rollout.CommandKind, mod ...func(*rollout.Command)) {
	h.t.Helper()
	c := rollout.Command{Endpoint: "web", Kind: kind, Actor: "alice"}
	for _, m := range mod {
		m(&c)
	}
	if _, err := h.store.AppendCommand(h.ctx, c); err != nil {
		h.t.Fatal(err)
	}
	h.rec.Notify("web")
}

func (h *harness) state() rollout.State {
	h.t.Helper()
	st, err := h.store.GetState(h.ctx, "web")
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// waitPhase waits for the production rollout of version to reach phase.
func (h *harness) waitPhase(version string, phase rollout.Phase, timeout time.Duration) {
	h.t.Helper()
	h.eventually(timeout, fmt.Sprintf("rollout of %s %s", version, phase), func() bool {
		r := h.state().Production.Rollout
		return r != nil && r.Key.Version == version && r.Phase == phase
	})
}

func (h *harness) eventually(timeout time.Duration, what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out after %s waiting for %s; last events:\n%s", timeout, what, h.trail(8))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) events(typ string) []rollout.Event {
	all, err := h.store.ListEvents(h.ctx, "web", 0, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return slices.DeleteFunc(all, func(e rollout.Event) bool { return e.Type != typ })
}

func (h *harness) trail(n int) string {
	all, _ := h.store.ListEvents(h.ctx, "web", 0, 0)
	s := ""
	for _, e := range all[max(0, len(all)-n):] {
		s += fmt.Sprintf("  %d %s %s\n", e.Seq, e.Type, e.Message)
	}
	return s
}

// rule reads the endpoint's production route from moto: whether it carries
// traffic, and the weights with traffic by version, through the target
// groups' ionroller:version tags.
func (h *harness) rule() (exists bool, weights map[string]int) {
	exists, byARN := h.router.forward(h)
	if !exists {
		return false, nil
	}
	weights = map[string]int{}
	for arn, w := range byARN {
		if w > 0 {
			weights[h.versionOf(arn)] += w
		}
	}
	return true, weights
}

// ruleAt reads the rule at priority on the endpoint's listener.
func (h *harness) ruleAt(priority int) (exists bool, weights map[string]int) {
	h.t.Helper()
	out, err := h.elb.DescribeRules(h.ctx, &elb.DescribeRulesInput{ListenerArn: &h.net.ListenerARN})
	if err != nil {
		h.t.Fatal(err)
	}
	for _, r := range out.Rules {
		if awssdk.ToString(r.Priority) != strconv.Itoa(priority) {
			continue
		}
		weights = map[string]int{}
		for _, tg := range r.Actions[0].ForwardConfig.TargetGroups {
			if w := int(awssdk.ToInt32(tg.Weight)); w > 0 {
				weights[h.versionOf(awssdk.ToString(tg.TargetGroupArn))] += w
			}
		}
		return true, weights
	}
	return false, nil
}

// attached reads the route from moto: every version on it by weight, the
// ones attached without traffic at 0.
func (h *harness) attached() map[string]int {
	h.t.Helper()
	_, byARN := h.router.forward(h)
	weights := map[string]int{}
	for arn, w := range byARN {
		weights[h.versionOf(arn)] += w
	}
	return weights
}

// watchRoute samples attached until stop and returns the distinct routes in
// order.
func (h *harness) watchRoute() (stop func() []map[string]int) {
	return h.watch(func() (map[string]int, bool) { return h.attached(), true })
}

// targetStates reads, as the load balancer reports them, the states of the
// targets of version's target group.
func (h *harness) targetStates(version string) []string {
	h.t.Helper()
	tgs, err := h.elb.DescribeTargetGroups(h.ctx, &elb.DescribeTargetGroupsInput{})
	if err != nil {
		h.t.Fatal(err)
	}
	var states []string
	for _, tg := range tgs.TargetGroups {
		if h.versionOf(awssdk.ToString(tg.TargetGroupArn)) != version {
			continue
		}
		out, err := h.elb.DescribeTargetHealth(h.ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
		if err != nil {
			h.t.Fatal(err)
		}
		for _, d := range out.TargetHealthDescriptions {
			states = append(states, string(d.TargetHealth.State))
		}
	}
	return states
}

func (h *harness) versionOf(tgARN string) string {
	out, err := h.elb.DescribeTags(h.ctx, &elb.DescribeTagsInput{ResourceArns: []string{tgARN}})
	if err != nil || len(out.TagDescriptions) == 0 {
		return tgARN
	}
	for _, t := range out.TagDescriptions[0].Tags {
		if awssdk.ToString(t.Key) == "ionroller:version" {
			return awssdk.ToString(t.Value)
		}
	}
	return tgARN
}

// groups returns the units that run each version (Auto Scaling groups,
// ECS services), by version.
func (h *harness) groups() map[string][]string { return h.backend().units(h) }

// backend is the backend h's endpoint runs on.
func (h *harness) backend() running {
	if h.router.backend.name == "" {
		return ec2Backend
	}
	return h.router.backend
}

// watchWeights samples the rule until stop and returns the distinct weight
// splits in order; every sample must be a valid route (invariant 1).
func (h *harness) watchWeights() (stop func() []map[string]int) {
	return h.watch(func() (map[string]int, bool) {
		exists, w := h.rule()
		if !exists {
			return nil, false
		}
		sum := 0
		for _, v := range w {
			sum += v
		}
		if sum != 100 {
			h.t.Errorf("invariant 1: rule weights %v sum to %d", w, sum)
		}
		return w, true
	})
}

// watch samples until stop, and once more then, and returns the distinct
// samples in order.
func (h *harness) watch(sample func() (map[string]int, bool)) (stop func() []map[string]int) {
	var (
		mu   sync.Mutex
		seen []map[string]int
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(15 * time.Millisecond):
			}
			w, ok := sample()
			if !ok {
				continue
			}
			mu.Lock()
			if len(seen) == 0 || !maps.Equal(seen[len(seen)-1], w) {
				seen = append(seen, w)
			}
			mu.Unlock()
		}
	})
	return func() []map[string]int {
		close(done)
		wg.Wait()
		// One last look: what the caller waited for may have landed
		// since the last sample, on a busy machine.
		if w, ok := sample(); ok && (len(seen) == 0 || !maps.Equal(seen[len(seen)-1], w)) {
			seen = append(seen, w)
		}
		return seen
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

func checkTags(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s tag %s = %q, want %q (tags %v)", what, k, got[k], v, got)
		}
	}
}

func ec2Tags(tags []ec2types.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

func elbTags(tags []elbtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return m
}

func totalCalls(c *awstest.Counter) int {
	n := 0
	for _, v := range c.Calls() {
		n += v
	}
	return n
}
