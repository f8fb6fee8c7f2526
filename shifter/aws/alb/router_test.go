package alb_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/faults"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// fixture is a listener with target groups in a fresh moto account, and an
// endpoint routed on it.
type fixture struct {
	elb   *elb.Client
	net   awstest.Net
	tgs   []string // ARNs
	calls *awstest.Counter
	ep    rollout.Endpoint
}

func newFixture(t *testing.T, targetGroups int) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.Network(t, cfg)
	client := elb.NewFromConfig(cfg)
	var tgs []string
	for i := range targetGroups {
		out, err := client.CreateTargetGroup(t.Context(), &elb.CreateTargetGroupInput{
			Name:     aws.String(fmt.Sprintf("tg-%d", i)),
			Protocol: elbtypes.ProtocolEnumHttp,
			Port:     aws.Int32(8080),
			VpcId:    aws.String(n.VPC),
		})
		if err != nil {
			t.Fatal(err)
		}
		tgs = append(tgs, aws.ToString(out.TargetGroups[0].TargetGroupArn))
	}
	calls := awstest.NewCounter()
	ep := rollout.NewEndpoint()
	ep.Name = "api"
	ep.Traffic = rollout.Traffic{ListenerARN: n.ListenerARN, Priority: 100, Hosts: []string{"api.example.com"}}
	return fixture{
		elb:   elb.New(client.Options(), func(o *elb.Options) { o.APIOptions = append(o.APIOptions, calls.Middleware) }),
		net:   n,
		tgs:   tgs,
		calls: calls,
		ep:    ep,
	}
}

func (f fixture) router() *alb.Router { return alb.New(f.elb, "test", hclog.NewNullLogger()) }

func (f fixture) set(t *testing.T, r *alb.Router, weights map[string]int) {
	t.Helper()
	if err := r.SetWeights(t.Context(), f.ep, rollout.Production, weights); err != nil {
		t.Fatalf("set %v: %v", weights, err)
	}
}

// rules reads the listener's rules straight from moto, the default one left
// out.
func (f fixture) rules(t *testing.T) []elbtypes.Rule {
	t.Helper()
	out, err := f.elb.DescribeRules(t.Context(), &elb.DescribeRulesInput{ListenerArn: aws.String(f.net.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(out.Rules, func(r elbtypes.Rule) bool { return aws.ToBool(r.IsDefault) })
}

// rule returns the rule at priority, nil if there is none.
func (f fixture) rule(t *testing.T, priority int) *elbtypes.Rule {
	t.Helper()
	for _, r := range f.rules(t) {
		if aws.ToString(r.Priority) == fmt.Sprint(priority) {
			return &r
		}
	}
	return nil
}

// standby returns the route's standby rule, nil if there is none.
func (f fixture) standby(t *testing.T) *elbtypes.Rule {
	t.Helper()
	for _, r := range f.rules(t) {
		if aws.ToString(r.Priority) != fmt.Sprint(f.ep.Traffic.Priority) {
			return &r
		}
	}
	return nil
}

func forwardWeights(r *elbtypes.Rule) map[string]int {
	out := map[string]int{}
	if r == nil {
		return out
	}
	for _, tg := range r.Actions[0].ForwardConfig.TargetGroups {
		out[aws.ToString(tg.TargetGroupArn)] = int(aws.ToInt32(tg.Weight))
	}
	return out
}

func (f fixture) read(t *testing.T, r *alb.Router) (bool, map[string]int) {
	t.Helper()
	route, err := r.Weights(t.Context(), f.ep, rollout.Production, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return route.Exists, route.Weights
}

func TestShiftTrafficIsOneWriteAStep(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	router := f.router()
	blue, green := f.tgs[0], f.tgs[1]

	for _, step := range []map[string]int{
		{blue: 100},
		{blue: 100, green: 0}, // green attached for its health checks
		{blue: 90, green: 10},
		{blue: 50, green: 50},
		{blue: 0, green: 100}, // blue stays attached, hot
	} {
		f.calls.Reset()
		f.set(t, router, step)
		if got := forwardWeights(f.rule(t, 100)); !maps.Equal(got, step) {
			t.Errorf("set %v: moto has %v", step, got)
		}
		if n := f.calls.Writes("ELBv2"); n != 1 {
			t.Errorf("set %v: %d ELBv2 writes (%s); want exactly 1", step, n, f.calls)
		}
		if exists, got := f.read(t, router); !exists || !maps.Equal(got, step) {
			t.Errorf("set %v: read back %v %v", step, exists, got)
		}
	}
	if f.standby(t) != nil {
		t.Error("a standby rule for a route whose target groups fit its own rule")
	}

	// The rule carries the route's conditions and ionroller's tags.
	rule := f.rule(t, 100)
	if len(rule.Conditions) != 1 || aws.ToString(rule.Conditions[0].Field) != "host-header" ||
		!slices.Equal(rule.Conditions[0].HostHeaderConfig.Values, []string{"api.example.com"}) {
		t.Errorf("conditions = %+v, want host api.example.com", rule.Conditions)
	}
	want := map[string]string{shifteraws.TagEndpoint: "api", shifteraws.TagTrack: "production", shifteraws.TagShifter: "test"}
	if got := f.tags(t, rule); !maps.Equal(got, want) {
		t.Errorf("rule tags = %v, want %v", got, want)
	}
}

func (f fixture) tags(t *testing.T, rule *elbtypes.Rule) map[string]string {
	t.Helper()
	out, err := f.elb.DescribeTags(t.Context(), &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(rule.RuleArn)}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range out.TagDescriptions[0].Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	return got
}

func TestARouteWithoutTrafficIsAttachedByAStandbyRuleOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	router := f.router()
	f.set(t, router, map[string]int{f.tgs[0]: 0})

	if f.rule(t, 100) != nil {
		t.Fatal("a rule at the route's priority for a route without traffic: it would take its requests")
	}
	standby := f.standby(t)
	if standby == nil {
		t.Fatal("no standby rule: the target group is not health-checked")
	}
	if got := forwardWeights(standby); !maps.Equal(got, map[string]int{f.tgs[0]: 1}) {
		t.Errorf("standby forward = %v", got)
	}
	var conds []string
	for _, c := range standby.Conditions {
		if c.HostHeaderConfig != nil {
			conds = append(conds, c.HostHeaderConfig.Values...)
		}
		if c.SourceIpConfig != nil {
			conds = append(conds, c.SourceIpConfig.Values...)
		}
	}
	if !slices.Equal(conds, []string{"production.api.standby.ionroller.invalid", "255.255.255.255/32"}) {
		t.Errorf("standby conditions = %v, want a host that never resolves and a source no client has", conds)
	}
	if tags := f.tags(t, standby); tags[shifteraws.TagRole] != "standby" || tags[shifteraws.TagEndpoint] != "api" {
		t.Errorf("standby tags = %v", tags)
	}
	if exists, got := f.read(t, router); exists || !maps.Equal(got, map[string]int{f.tgs[0]: 0}) {
		t.Errorf("read = %v %v, want no rule of its own and the target group at 0", exists, got)
	}

	// Traffic: the route's rule, and the standby rule goes.
	f.calls.Reset()
	f.set(t, router, map[string]int{f.tgs[0]: 100})
	if f.standby(t) != nil || !maps.Equal(forwardWeights(f.rule(t, 100)), map[string]int{f.tgs[0]: 100}) {
		t.Errorf("after the first traffic: rules %+v", f.rules(t))
	}
	if f.calls.Count("ELBv2", "CreateRule") != 1 || f.calls.Count("ELBv2", "DeleteRule") != 1 || f.calls.Writes("ELBv2") != 2 {
		t.Errorf("first traffic wrote %s; want a CreateRule then a DeleteRule", f.calls)
	}
}

// attachWatch checks, after every ELBv2 write, that the target groups a test
// names stay attached to a rule of the listener.
type attachWatch struct {
	alb.ELB
	t        *testing.T
	f        fixture
	mu       sync.Mutex
	required []string
}

func (w *attachWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	attached := map[string]bool{}
	for _, r := range w.f.rules(w.t) {
		for arn := range forwardWeights(&r) {
			attached[arn] = true
		}
	}
	for _, arn := range w.required {
		if !attached[arn] {
			w.t.Errorf("after a write, %s is attached to no rule", arn[strings.LastIndex(arn, ":")+1:])
		}
	}
}

func (w *attachWatch) CreateRule(ctx context.Context, in *elb.CreateRuleInput, opts ...func(*elb.Options)) (*elb.CreateRuleOutput, error) {
	defer w.check()
	return w.ELB.CreateRule(ctx, in, opts...)
}

func (w *attachWatch) ModifyRule(ctx context.Context, in *elb.ModifyRuleInput, opts ...func(*elb.Options)) (*elb.ModifyRuleOutput, error) {
	defer w.check()
	return w.ELB.ModifyRule(ctx, in, opts...)
}

func (w *attachWatch) DeleteRule(ctx context.Context, in *elb.DeleteRuleInput, opts ...func(*elb.Options)) (*elb.DeleteRuleOutput, error) {
	defer w.check()
	return w.ELB.DeleteRule(ctx, in, opts...)
}

func TestMoreTargetGroupsThanARuleTakesOverflowToTheStandbyRuleAndNoneIsEverDetached(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 7)
	watch := &attachWatch{ELB: f.elb, t: t, f: f}
	router := alb.New(watch, "test", hclog.NewNullLogger())
	all := func(serving string) map[string]int {
		w := map[string]int{}
		for _, arn := range f.tgs {
			w[arn] = 0
		}
		w[serving] = 100
		return w
	}

	f.set(t, router, all(f.tgs[0]))
	main, standby := forwardWeights(f.rule(t, 100)), forwardWeights(f.standby(t))
	if len(main) != 5 || main[f.tgs[0]] != 100 || len(standby) != 2 {
		t.Fatalf("7 target groups: rule %v, standby %v; want 5 on the rule (the serving one among them) and 2 on standby", main, standby)
	}
	if _, got := f.read(t, router); !maps.Equal(got, all(f.tgs[0])) {
		t.Errorf("read = %v, want all seven", got)
	}

	// Traffic moves to one that waited on standby: every target group stays
	// attached through each write.
	watch.required = slices.Clone(f.tgs)
	var onStandby string
	for arn := range standby {
		onStandby = arn
	}
	f.set(t, router, all(onStandby))
	if got := forwardWeights(f.rule(t, 100)); got[onStandby] != 100 || len(got) != 5 {
		t.Errorf("rule after the move = %v", got)
	}
	if _, got := f.read(t, router); !maps.Equal(got, all(onStandby)) {
		t.Errorf("read after the move = %v", got)
	}

	// Back to five: the standby rule goes.
	watch.required = f.tgs[2:]
	f.set(t, router, map[string]int{f.tgs[2]: 100, f.tgs[3]: 0, f.tgs[4]: 0, f.tgs[5]: 0, f.tgs[6]: 0})
	if f.standby(t) != nil {
		t.Error("standby rule left once everything fits the route's rule")
	}
}

func TestSetWeightsFindsItsRuleAfterARestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	f.set(t, f.router(), map[string]int{f.tgs[0]: 100})

	f.calls.Reset()
	f.set(t, f.router(), map[string]int{f.tgs[0]: 80, f.tgs[1]: 20})
	if f.calls.Count("ELBv2", "CreateRule") != 0 || f.calls.Count("ELBv2", "ModifyRule") != 1 {
		t.Errorf("a new router wrote %s; want one ModifyRule of the existing rule", f.calls)
	}
	if n := len(f.rules(t)); n != 1 {
		t.Errorf("listener has %d rules besides its default, want 1", n)
	}
}

func TestSetWeightsUpdatesConditions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	router := f.router()
	f.set(t, router, map[string]int{f.tgs[0]: 100})
	f.ep.Traffic.Hosts = nil
	f.ep.Traffic.Paths = []string{"/api/*", "/v2/*"}
	f.calls.Reset()
	f.set(t, router, map[string]int{f.tgs[0]: 100})
	if n := f.calls.Writes("ELBv2"); n != 1 {
		t.Errorf("%d writes to change conditions, want 1", n)
	}
	rule := f.rule(t, 100)
	if len(rule.Conditions) != 1 || aws.ToString(rule.Conditions[0].Field) != "path-pattern" ||
		!slices.Equal(rule.Conditions[0].PathPatternConfig.Values, f.ep.Traffic.Paths) {
		t.Errorf("conditions = %+v, want paths %v", rule.Conditions, f.ep.Traffic.Paths)
	}
	f.calls.Reset()
	f.set(t, router, map[string]int{f.tgs[0]: 100})
	if n := f.calls.Writes("ELBv2"); n != 0 {
		t.Errorf("%d writes when nothing changed, want 0", n)
	}
}

func TestSetWeightsRejectsInvalidWeights(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	router := f.router()
	a, b := f.tgs[0], f.tgs[1]
	eleven := map[string]int{"a": 100}
	for i := range 10 {
		eleven[fmt.Sprint(i)] = 0
	}
	for name, weights := range map[string]map[string]int{
		"sum 90":           {a: 40, b: 50},
		"sum 110":          {a: 60, b: 50},
		"negative":         {a: 110, b: -10},
		"over 100":         {a: 1000},
		"no target group":  {"": 100},
		"six with traffic": {"a": 20, "b": 20, "c": 20, "d": 20, "e": 10, "f": 10},
		"eleven attached":  eleven,
	} {
		t.Run(name, func(t *testing.T) {
			err := router.SetWeights(t.Context(), f.ep, rollout.Production, weights)
			if !errors.Is(err, alb.ErrInvalidWeights) {
				t.Errorf("SetWeights(%v) = %v, want ErrInvalidWeights", weights, err)
			}
		})
	}
	if n := f.calls.Total("ELBv2"); n != 0 {
		t.Errorf("invalid weights cost %d ELBv2 calls: %s", n, f.calls)
	}
}

func TestWeightsSeesDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 3)
	router := f.router()
	if exists, weights := f.read(t, router); exists || len(weights) != 0 {
		t.Fatalf("before any rule: %v %v; want none", exists, weights)
	}
	f.set(t, router, map[string]int{f.tgs[0]: 90, f.tgs[1]: 10})
	// Someone edits the rule by hand.
	_, err := f.elb.ModifyRule(t.Context(), &elb.ModifyRuleInput{
		RuleArn: f.rule(t, 100).RuleArn,
		Actions: []elbtypes.Action{{
			Type: elbtypes.ActionTypeEnumForward,
			ForwardConfig: &elbtypes.ForwardActionConfig{TargetGroups: []elbtypes.TargetGroupTuple{
				{TargetGroupArn: aws.String(f.tgs[0]), Weight: aws.Int32(10)},
				{TargetGroupArn: aws.String(f.tgs[2]), Weight: aws.Int32(90)},
			}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{f.tgs[0]: 10, f.tgs[2]: 90}
	if exists, got := f.read(t, router); !exists || !maps.Equal(got, want) {
		t.Errorf("read %v %v, want the hand-made %v", exists, got, want)
	}
	// A router that has not met the rule reads the same.
	if _, got := f.read(t, f.router()); !maps.Equal(got, want) {
		t.Errorf("a new router reads %v, want %v", got, want)
	}
	// Setting the weights again repairs it.
	f.set(t, router, map[string]int{f.tgs[0]: 90, f.tgs[1]: 10})
	if got := forwardWeights(f.rule(t, 100)); !maps.Equal(got, map[string]int{f.tgs[0]: 90, f.tgs[1]: 10}) {
		t.Errorf("after repair moto has %v", got)
	}
}

func TestForeignRuleAtThePriority(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t, 3)
	_, err := f.elb.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN),
		Priority:    aws.Int32(int32(f.ep.Traffic.Priority)),
		Conditions: []elbtypes.RuleCondition{{
			Field:             aws.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/admin/*"}},
		}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(f.tgs[2])}},
	})
	if err != nil {
		t.Fatal(err)
	}
	router := f.router()

	f.calls.Reset()
	err = router.SetWeights(ctx, f.ep, rollout.Production, map[string]int{f.tgs[0]: 100})
	var foreign *alb.ForeignRuleError
	if !errors.As(err, &foreign) {
		t.Fatalf("SetWeights over a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if n := f.calls.Writes("ELBv2"); n != 0 {
		t.Errorf("SetWeights wrote %d times over a foreign rule", n)
	}
	if _, err := router.Weights(ctx, f.ep, rollout.Production, time.Time{}); !errors.As(err, &foreign) {
		t.Errorf("Weights of a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if err := router.Delete(ctx, f.ep, rollout.Production); !errors.As(err, &foreign) {
		t.Errorf("Delete of a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if rule := f.rule(t, 100); !slices.Equal(rule.Conditions[0].PathPatternConfig.Values, []string{"/admin/*"}) ||
		aws.ToString(rule.Actions[0].TargetGroupArn) != f.tgs[2] {
		t.Errorf("the foreign rule changed: %+v", rule)
	}

	// Another endpoint's ionroller rule is foreign too.
	other := f.ep
	other.Traffic.Priority = 200
	if err := router.SetWeights(ctx, other, rollout.Production, map[string]int{f.tgs[1]: 100}); err != nil {
		t.Fatal(err)
	}
	impostor := other
	impostor.Name = "web"
	err = f.router().SetWeights(ctx, impostor, rollout.Production, map[string]int{f.tgs[0]: 100})
	if !errors.As(err, &foreign) || foreign.Owner == "" {
		t.Errorf("SetWeights over endpoint api's rule for endpoint web = %v, want a *ForeignRuleError naming the owner", err)
	}
}

func TestDeleteRemovesBothRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 7)
	router := f.router()
	if err := router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatalf("delete of a route without rules: %v", err)
	}
	weights := map[string]int{f.tgs[0]: 100}
	for _, arn := range f.tgs[1:] {
		weights[arn] = 0
	}
	f.set(t, router, weights)
	for i := range 2 {
		if err := router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
			t.Fatalf("delete #%d: %v", i+1, err)
		}
	}
	if rules := f.rules(t); len(rules) != 0 {
		t.Errorf("rules left after delete: %d", len(rules))
	}
	if exists, got := f.read(t, router); exists || len(got) != 0 {
		t.Errorf("after delete, read %v %v; want nothing", exists, got)
	}
	// Setting weights again creates a new rule.
	f.set(t, router, map[string]int{f.tgs[1]: 100})
}

func TestSetWeightsRecreatesARuleDeletedBehindItsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	router := f.router()
	f.set(t, router, map[string]int{f.tgs[0]: 100})
	if _, err := f.elb.DeleteRule(t.Context(), &elb.DeleteRuleInput{RuleArn: f.rule(t, 100).RuleArn}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}
	f.set(t, router, want)
	if got := forwardWeights(f.rule(t, 100)); !maps.Equal(got, want) {
		t.Errorf("moto has %v, want %v", got, want)
	}
}

func TestRoutesWithoutConditionsMatchEveryPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 1)
	f.ep.Traffic.Hosts = nil
	f.set(t, f.router(), map[string]int{f.tgs[0]: 100})
	rule := f.rule(t, 100)
	if len(rule.Conditions) != 1 || !slices.Equal(rule.Conditions[0].PathPatternConfig.Values, []string{"/*"}) {
		t.Errorf("conditions = %+v, want path /*", rule.Conditions)
	}
}

// TestReadsOfAListenerAreShared: the reads of every route on a listener share
// one DescribeRules, as long as it began after the time a caller gives.
func TestReadsOfAListenerAreShared(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	r := f.router()
	web := f.ep
	web.Name, web.Traffic.Priority, web.Traffic.Hosts = "web", 101, []string{"web.example.com"}
	for _, ep := range []rollout.Endpoint{f.ep, web} {
		if err := r.SetWeights(t.Context(), ep, rollout.Production, map[string]int{f.tgs[0]: 60, f.tgs[1]: 40}); err != nil {
			t.Fatal(err)
		}
	}
	since := time.Now()
	f.calls.Reset()
	for range 3 {
		for _, ep := range []rollout.Endpoint{f.ep, web} {
			route, err := r.Weights(t.Context(), ep, rollout.Production, since)
			if err != nil || !route.Exists || route.Weights[f.tgs[0]] != 60 || route.Weights[f.tgs[1]] != 40 {
				t.Fatalf("%s: %+v %v", ep.Name, route, err)
			}
		}
	}
	if n := f.calls.Total("ELBv2"); n != 1 {
		t.Errorf("ELBv2 calls for six reads = %d, want 1\n%s", n, f.calls)
	}
	// A router that has not met the rules checks their tags once each.
	fresh := f.router()
	for range 2 {
		if _, err := fresh.Weights(t.Context(), web, rollout.Production, since); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Count("ELBv2", "DescribeTags"); n != 1 {
		t.Errorf("DescribeTags by a fresh router = %d, want 1", n)
	}
}

// TestAWriteWhoseAnswerWasLostIsReadBackBeforeTheNextOne: AWS can carry out
// a write and lose its answer. The router must then read the route afresh,
// not trust its earlier read of the listener, or it tries to create the
// rule it just created and gets PriorityInUse on every pass.
func TestAWriteWhoseAnswerWasLostIsReadBackBeforeTheNextOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 2)
	lost := faults.New(1, faults.Rule{Service: "ELBv2", Operations: []string{"CreateRule", "ModifyRule"}, Rate: 1, Kinds: []faults.Kind{faults.LostResponse}})
	client := elb.New(f.elb.Options(), func(o *elb.Options) {
		o.APIOptions = append(o.APIOptions, lost.Middleware)
		o.RetryMaxAttempts = 1
	})
	r := alb.New(client, "test", hclog.NewNullLogger())
	for _, weights := range []map[string]int{{f.tgs[0]: 100}, {f.tgs[0]: 50, f.tgs[1]: 50}} {
		lost.Set(faults.Rule{Service: "ELBv2", Operations: []string{"CreateRule", "ModifyRule"}, Rate: 1, Kinds: []faults.Kind{faults.LostResponse}})
		if err := r.SetWeights(t.Context(), f.ep, rollout.Production, weights); err == nil {
			t.Fatalf("set %v: no error, want the lost answer", weights)
		}
		lost.Set()
		f.set(t, r, weights)
		if got := f.rules(t); len(got) != 1 {
			t.Fatalf("%d rules after setting %v, want the route's one", len(got), weights)
		}
		route, err := r.Weights(t.Context(), f.ep, rollout.Production, time.Time{})
		if err != nil || !maps.Equal(route.Weights, weights) {
			t.Errorf("route reads %v (%v) after setting %v", route.Weights, err, weights)
		}
	}
	if n := lost.Injected(); len(n) != 2 {
		t.Errorf("faults injected %v, want a lost CreateRule and a lost ModifyRule", n)
	}
}
