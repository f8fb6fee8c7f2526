package alb_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// fixture is a listener with three target groups in a fresh moto account.
type fixture struct {
	elb   *elb.Client
	net   awstest.Net
	tgs   []string // ARNs
	calls *awstest.Counter
	route alb.Route
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.Network(t, cfg)
	client := elb.NewFromConfig(cfg)
	var tgs []string
	for i := range 3 {
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
	return fixture{
		elb:   elb.New(client.Options(), func(o *elb.Options) { o.APIOptions = append(o.APIOptions, calls.Middleware) }),
		net:   n,
		tgs:   tgs,
		calls: calls,
		route: alb.Route{
			ListenerARN: n.ListenerARN,
			Priority:    100,
			Hosts:       []string{"api.example.com"},
			Endpoint:    "api",
			Track:       rollout.Production,
		},
	}
}

func (f fixture) router(opts ...alb.Option) *alb.Router {
	return alb.New(f.elb, "test", hclog.NewNullLogger(), opts...)
}

// rule reads the route's rule straight from moto.
func (f fixture) rule(t *testing.T) elbtypes.Rule {
	t.Helper()
	out, err := f.elb.DescribeRules(t.Context(), &elb.DescribeRulesInput{ListenerArn: aws.String(f.net.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Rules {
		if aws.ToString(r.Priority) == fmt.Sprint(f.route.Priority) {
			return r
		}
	}
	t.Fatalf("no rule at priority %d", f.route.Priority)
	return elbtypes.Rule{}
}

func forwardWeights(r elbtypes.Rule) map[string]int {
	out := map[string]int{}
	for _, tg := range r.Actions[0].ForwardConfig.TargetGroups {
		out[aws.ToString(tg.TargetGroupArn)] = int(aws.ToInt32(tg.Weight))
	}
	return out
}

func TestShiftTraffic(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	router := f.router()
	blue, green := f.tgs[0], f.tgs[1]

	for _, step := range []map[string]int{
		{blue: 100},
		{blue: 90, green: 10},
		{blue: 50, green: 50},
		{blue: 0, green: 100},
	} {
		f.calls.Reset()
		res, err := router.SetWeights(ctx, f.route, step)
		if err != nil {
			t.Fatalf("set %v: %v", step, err)
		}
		t.Logf("set %v: %s", step, f.calls)
		want := maps.Clone(step)
		maps.DeleteFunc(want, func(_ string, w int) bool { return w == 0 })
		if !maps.Equal(res.Weights, want) {
			t.Errorf("set %v: result weights %v, want %v", step, res.Weights, want)
		}
		if got := forwardWeights(f.rule(t)); !maps.Equal(got, want) {
			t.Errorf("set %v: moto has %v, want %v", step, got, want)
		}
		if n := f.calls.Writes("ELBv2"); n != 1 || res.Writes != 1 {
			t.Errorf("set %v: %d ELBv2 writes counted, %d reported; want exactly 1", step, n, res.Writes)
		}
	}

	// The rule carries the route's conditions and ionroller's tags.
	rule := f.rule(t)
	if len(rule.Conditions) != 1 || aws.ToString(rule.Conditions[0].Field) != "host-header" ||
		!slices.Equal(rule.Conditions[0].HostHeaderConfig.Values, []string{"api.example.com"}) {
		t.Errorf("conditions = %+v, want host api.example.com", rule.Conditions)
	}
	tags, err := f.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(rule.RuleArn)}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, tag := range tags.TagDescriptions[0].Tags {
		got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	want := map[string]string{shifteraws.TagEndpoint: "api", shifteraws.TagTrack: "production", shifteraws.TagShifter: "test"}
	if !maps.Equal(got, want) {
		t.Errorf("rule tags = %v, want %v", got, want)
	}
}

func TestSetWeightsFindsItsRuleAfterARestart(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	if _, err := f.router().SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100}); err != nil {
		t.Fatal(err)
	}

	f.calls.Reset()
	res, err := f.router().SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 80, f.tgs[1]: 20})
	if err != nil {
		t.Fatal(err)
	}
	if f.calls.Count("ELBv2", "CreateRule") != 0 || f.calls.Count("ELBv2", "ModifyRule") != 1 || res.Writes != 1 {
		t.Errorf("a new router wrote %s; want one ModifyRule of the existing rule", f.calls)
	}
	rules, err := f.elb.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.net.ListenerARN)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Rules) != 2 { // the route's rule and the listener's default
		t.Errorf("listener has %d rules, want 2", len(rules.Rules))
	}
}

func TestSetWeightsUpdatesConditions(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	router := f.router()
	if _, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100}); err != nil {
		t.Fatal(err)
	}
	route := f.route
	route.Hosts = nil
	route.Paths = []string{"/api/*", "/v2/*"}
	f.calls.Reset()
	if _, err := router.SetWeights(ctx, route, map[string]int{f.tgs[0]: 100}); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Writes("ELBv2"); n != 1 {
		t.Errorf("%d writes to change conditions and weights, want 1", n)
	}
	rule := f.rule(t)
	if len(rule.Conditions) != 1 || aws.ToString(rule.Conditions[0].Field) != "path-pattern" ||
		!slices.Equal(rule.Conditions[0].PathPatternConfig.Values, route.Paths) {
		t.Errorf("conditions = %+v, want paths %v", rule.Conditions, route.Paths)
	}
}

func TestSetWeightsRejectsInvalidWeights(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	router := f.router()
	a, b := f.tgs[0], f.tgs[1]
	for name, weights := range map[string]map[string]int{
		"empty":            {},
		"all zero":         {a: 0, b: 0},
		"sum 90":           {a: 40, b: 50},
		"sum 110":          {a: 60, b: 50},
		"negative":         {a: 110, b: -10},
		"over 100":         {a: 1000},
		"no target group":  {"": 100},
		"six with traffic": {"a": 20, "b": 20, "c": 20, "d": 20, "e": 10, "f": 10},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := router.SetWeights(t.Context(), f.route, weights)
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
	ctx := t.Context()
	f := newFixture(t)
	router := f.router()

	exists, weights, err := router.Weights(ctx, f.route)
	if err != nil || exists || len(weights) != 0 {
		t.Fatalf("Weights before any rule = %v, %v, %v; want none", exists, weights, err)
	}

	res, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 90, f.tgs[1]: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Someone edits the rule by hand.
	_, err = f.elb.ModifyRule(ctx, &elb.ModifyRuleInput{
		RuleArn: aws.String(res.RuleARN),
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
	exists, weights, err = router.Weights(ctx, f.route)
	if err != nil || !exists {
		t.Fatalf("Weights = %v, %v", exists, err)
	}
	if want := map[string]int{f.tgs[0]: 10, f.tgs[2]: 90}; !maps.Equal(weights, want) {
		t.Errorf("Weights = %v, want the hand-made %v", weights, want)
	}
	// A router that has not cached the rule reads the same.
	if _, fresh, err := f.router().Weights(ctx, f.route); err != nil || !maps.Equal(fresh, weights) {
		t.Errorf("a new router reads %v, %v; want %v", fresh, err, weights)
	}
}

func TestForeignRuleAtThePriority(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	_, err := f.elb.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.net.ListenerARN),
		Priority:    aws.Int32(int32(f.route.Priority)),
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
	_, err = router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100})
	var foreign *alb.ForeignRuleError
	if !errors.As(err, &foreign) {
		t.Fatalf("SetWeights over a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if n := f.calls.Writes("ELBv2"); n != 0 {
		t.Errorf("SetWeights wrote %d times over a foreign rule", n)
	}
	if _, _, err := router.Weights(ctx, f.route); !errors.As(err, &foreign) {
		t.Errorf("Weights of a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if err := router.Delete(ctx, f.route); !errors.As(err, &foreign) {
		t.Errorf("Delete of a foreign rule = %v, want a *ForeignRuleError", err)
	}
	if rule := f.rule(t); !slices.Equal(rule.Conditions[0].PathPatternConfig.Values, []string{"/admin/*"}) ||
		aws.ToString(rule.Actions[0].TargetGroupArn) != f.tgs[2] {
		t.Errorf("the foreign rule changed: %+v", rule)
	}

	// Another endpoint's ionroller rule is foreign too.
	other := f.route
	other.Priority = 200
	if _, err := router.SetWeights(ctx, other, map[string]int{f.tgs[1]: 100}); err != nil {
		t.Fatal(err)
	}
	impostor := other
	impostor.Endpoint = "web"
	_, err = f.router().SetWeights(ctx, impostor, map[string]int{f.tgs[0]: 100})
	if !errors.As(err, &foreign) || foreign.Owner == "" {
		t.Errorf("SetWeights over endpoint api's rule for endpoint web = %v, want a *ForeignRuleError naming the owner", err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	router := f.router()
	if err := router.Delete(ctx, f.route); err != nil {
		t.Fatalf("delete of a route without a rule: %v", err)
	}
	if _, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := router.Delete(ctx, f.route); err != nil {
			t.Fatalf("delete #%d: %v", i+1, err)
		}
	}
	if exists, _, err := router.Weights(ctx, f.route); err != nil || exists {
		t.Errorf("after delete, Weights = %v, %v; want no rule", exists, err)
	}
	// Setting weights again creates a new rule.
	res, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[1]: 100})
	if err != nil || res.Writes != 1 {
		t.Errorf("set after delete = %+v, %v", res, err)
	}
}

func TestSetWeightsRecreatesARuleDeletedBehindItsBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	router := f.router()
	res, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(res.RuleARN)}); err != nil {
		t.Fatal(err)
	}
	res, err = router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 50, f.tgs[1]: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes != 2 { // the failed ModifyRule, then CreateRule
		t.Errorf("writes = %d, want 2", res.Writes)
	}
	if got := forwardWeights(f.rule(t)); !maps.Equal(got, res.Weights) {
		t.Errorf("moto has %v, result says %v", got, res.Weights)
	}
}

// staleReads returns wrong weights for the first n reads of a rule by ARN:
// the eventual consistency the router verifies against, which moto, always
// consistent, cannot produce.
type staleReads struct {
	alb.ELB
	n int
}

func (s *staleReads) DescribeRules(ctx context.Context, in *elb.DescribeRulesInput, opts ...func(*elb.Options)) (*elb.DescribeRulesOutput, error) {
	out, err := s.ELB.DescribeRules(ctx, in, opts...)
	if err != nil || len(in.RuleArns) == 0 || s.n == 0 {
		return out, err
	}
	s.n--
	for _, r := range out.Rules {
		tgs := r.Actions[0].ForwardConfig.TargetGroups
		for i := range tgs {
			tgs[i].Weight = aws.Int32(aws.ToInt32(tgs[i].Weight) + 1)
		}
	}
	return out, nil
}

func TestSetWeightsVerifies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	f := newFixture(t)
	var waits []time.Duration
	sleep := func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}

	stale := &staleReads{ELB: f.elb, n: 1}
	router := alb.New(stale, "test", hclog.NewNullLogger(), alb.WithSleep(sleep))
	want := map[string]int{f.tgs[0]: 90, f.tgs[1]: 10}
	res, err := router.SetWeights(ctx, f.route, want)
	if err != nil {
		t.Fatalf("SetWeights with one stale read: %v", err)
	}
	if !maps.Equal(res.Weights, want) || res.Writes != 1 || len(waits) != 1 {
		t.Errorf("result %+v after %d waits; want %v, 1 write, 1 wait", res, len(waits), want)
	}

	waits = nil
	stale.n = 100
	router = alb.New(stale, "test", hclog.NewNullLogger(), alb.WithSleep(sleep), alb.WithVerifyAttempts(6))
	f.calls.Reset()
	_, err = router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 50, f.tgs[1]: 50})
	var verr *alb.VerifyError
	if !errors.As(err, &verr) {
		t.Fatalf("SetWeights with reads always stale = %v, want a *VerifyError", err)
	}
	wantWaits := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second}
	if !slices.Equal(waits, wantWaits) {
		t.Errorf("waits = %v, want %v", waits, wantWaits)
	}
	if n := f.calls.Writes("ELBv2"); n != 1 {
		t.Errorf("verification retries wrote %d times, want 1 (reads only)", n)
	}
}

func TestVerifyStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	stale := &staleReads{ELB: f.elb, n: 100}
	router := alb.New(stale, "test", hclog.NewNullLogger(), alb.WithSleep(func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}))
	if _, err := router.SetWeights(ctx, f.route, map[string]int{f.tgs[0]: 100}); !errors.Is(err, context.Canceled) {
		t.Errorf("SetWeights = %v, want context.Canceled", err)
	}
}

func TestRoutesWithoutConditionsMatchEveryPath(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	route := f.route
	route.Hosts = nil
	if _, err := f.router().SetWeights(t.Context(), route, map[string]int{f.tgs[0]: 100}); err != nil {
		t.Fatal(err)
	}
	rule := f.rule(t)
	if len(rule.Conditions) != 1 || !slices.Equal(rule.Conditions[0].PathPatternConfig.Values, []string{"/*"}) {
		t.Errorf("conditions = %+v, want path /*", rule.Conditions)
	}
}

// TestWeightsIdleReadsEachListenerOnce: the idle reads of every route on a
// listener share one DescribeRules per maxAge, see what the rule holds, and
// fall back to a full read for a rule the router has not identified.
func TestWeightsIdleReadsEachListenerOnce(t *testing.T) {
	f := newFixture(t)
	r := f.router()
	web := f.route
	web.Endpoint, web.Priority, web.Hosts = "web", 101, []string{"web.example.com"}
	for _, route := range []alb.Route{f.route, web} {
		if _, err := r.SetWeights(t.Context(), route, map[string]int{f.tgs[0]: 60, f.tgs[1]: 40}); err != nil {
			t.Fatal(err)
		}
	}
	f.calls.Reset()
	for range 3 {
		for _, route := range []alb.Route{f.route, web} {
			exists, weights, err := r.WeightsIdle(t.Context(), route, time.Minute)
			if err != nil || !exists || weights[f.tgs[0]] != 60 || weights[f.tgs[1]] != 40 {
				t.Fatalf("%s: %v %v %v", route.Endpoint, exists, weights, err)
			}
		}
	}
	if n := f.calls.Total("ELBv2"); n != 1 {
		t.Errorf("ELBv2 calls for six idle reads = %d, want 1\n%s", n, f.calls)
	}
	// A router that has not met the rule yet reads it in full, checking
	// that it owns it.
	fresh := f.router()
	if exists, weights, err := fresh.WeightsIdle(t.Context(), web, time.Minute); err != nil || !exists || weights[f.tgs[0]] != 60 {
		t.Errorf("fresh router: %v %v %v", exists, weights, err)
	}
}
