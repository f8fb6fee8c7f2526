package nlb_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/nlb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// fixture is an NLB listener with TCP target groups in a fresh moto account,
// and an endpoint routed on it.
type fixture struct {
	elb    *elb.Client
	net    awstest.Net
	tgs    []string
	calls  *awstest.Counter
	ep     rollout.Endpoint
	router *nlb.Router
}

func newFixture(t *testing.T, targetGroups int) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.NetworkWithNLB(t, cfg)
	client := elb.NewFromConfig(cfg)
	tgs := awstest.TargetGroups(t, cfg, n, elbtypes.ProtocolEnumTcp, targetGroups)
	calls := awstest.NewCounter()
	ep := rollout.NewEndpoint()
	ep.Name = "db"
	ep.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{ListenerARN: n.NLBListenerARN, IdleTargetGroupARN: n.IdleTargetGroupARN}}
	counted := elb.New(client.Options(), func(o *elb.Options) { o.APIOptions = append(o.APIOptions, calls.Middleware) })
	return fixture{elb: client, net: n, tgs: tgs, calls: calls, ep: ep, router: nlb.New(counted, hclog.NewNullLogger())}
}

// listener reads the listener's forward straight from moto.
func (f fixture) listener(t *testing.T) map[string]int {
	t.Helper()
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{ListenerArns: []string{f.net.NLBListenerARN}})
	if err != nil {
		t.Fatal(err)
	}
	return shifteraws.ForwardWeights(out.Listeners[0].DefaultActions)
}

func (f fixture) set(t *testing.T, weights map[string]int) {
	t.Helper()
	if err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, weights); err != nil {
		t.Fatalf("set %v: %v", weights, err)
	}
}

func (f fixture) read(t *testing.T) reconcile.Route {
	t.Helper()
	r, err := f.router.Weights(t.Context(), f.ep, rollout.Production, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A first release is attached beside the idle target group, which keeps the
// listener's connections until a version is healthy and takes traffic; each
// step after is one ModifyListener, and reads back as written.
func TestEachStepIsOneWriteOfTheListener(t *testing.T) {
	f := newFixture(t, 3)
	a, b := f.tgs[0], f.tgs[1]
	steps := []struct {
		weights, listener map[string]int
		exists            bool
	}{
		{map[string]int{a: 0}, map[string]int{a: 0, f.net.IdleTargetGroupARN: 100}, false},
		{map[string]int{a: 100}, map[string]int{a: 100}, true},
		{map[string]int{a: 90, b: 10}, map[string]int{a: 90, b: 10}, true},
		{map[string]int{a: 100, b: 0}, map[string]int{a: 100, b: 0}, true}, // a rollback
	}
	for _, s := range steps {
		before := f.calls.Count("ELBv2", "ModifyListener")
		f.set(t, s.weights)
		if got := f.calls.Count("ELBv2", "ModifyListener") - before; got != 1 {
			t.Errorf("set %v: %d ModifyListener calls, want 1", s.weights, got)
		}
		if got := f.listener(t); !maps.Equal(got, s.listener) {
			t.Errorf("set %v: listener forwards %v, want %v", s.weights, got, s.listener)
		}
		if got := f.read(t); got.Exists != s.exists || !maps.Equal(got.Weights, s.weights) {
			t.Errorf("set %v: read %+v, want exists=%v and the weights set", s.weights, got, s.exists)
		}
	}
	before := f.calls.Count("ELBv2", "ModifyListener")
	f.set(t, steps[len(steps)-1].weights)
	if got := f.calls.Count("ELBv2", "ModifyListener") - before; got != 0 {
		t.Errorf("setting the weights the listener has: %d writes, want none", got)
	}
}

// moto stores any weight; the router refuses what AWS would, and what would
// detach a version or overflow the listener's forward.
func TestSetWeightsRejectsInvalidWeights(t *testing.T) {
	f := newFixture(t, 5)
	for name, w := range map[string]map[string]int{
		"not 100":        {f.tgs[0]: 60, f.tgs[1]: 30},
		"negative":       {f.tgs[0]: 110, f.tgs[1]: -10},
		"idle":           {f.tgs[0]: 100, f.net.IdleTargetGroupARN: 0},
		"six groups":     {f.tgs[0]: 100, f.tgs[1]: 0, f.tgs[2]: 0, f.tgs[3]: 0, f.tgs[4]: 0, "arn:x": 0},
		"five and idle":  {f.tgs[0]: 0, f.tgs[1]: 0, f.tgs[2]: 0, f.tgs[3]: 0, f.tgs[4]: 0},
		"without target": {"": 100},
	} {
		err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, w)
		if !errors.Is(err, shifteraws.ErrInvalidWeights) {
			t.Errorf("%s: %v: err = %v, want ErrInvalidWeights", name, w, err)
		}
	}
	if got := f.calls.Count("ELBv2", "ModifyListener"); got != 0 {
		t.Errorf("%d writes of invalid weights", got)
	}
}

// A listener edited by hand reads as what it forwards to (drift), the idle
// target group left out.
func TestWeightsSeesDrift(t *testing.T) {
	f := newFixture(t, 2)
	f.set(t, map[string]int{f.tgs[0]: 100, f.tgs[1]: 0})
	if _, err := f.elb.ModifyListener(t.Context(), &elb.ModifyListenerInput{
		ListenerArn:    aws.String(f.net.NLBListenerARN),
		DefaultActions: shifteraws.Forward(map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}),
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.read(t).Weights, map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}; !maps.Equal(got, want) {
		t.Errorf("after a hand edit the router reads %v, want %v", got, want)
	}
}

// Deleting the route gives the listener back to the idle target group; a
// listener that is gone is ErrTrafficMissing to a read and nothing to do for
// a delete.
func TestDeleteGivesTheListenerBackAndAMissingListenerIsTrafficMissing(t *testing.T) {
	f := newFixture(t, 1)
	f.set(t, map[string]int{f.tgs[0]: 100})
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatal(err)
	}
	if got, want := f.listener(t), map[string]int{f.net.IdleTargetGroupARN: 100}; !maps.Equal(got, want) {
		t.Errorf("after delete the listener forwards %v, want %v", got, want)
	}
	if _, err := f.elb.DeleteListener(t.Context(), &elb.DeleteListenerInput{ListenerArn: aws.String(f.net.NLBListenerARN)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.router.Weights(t.Context(), f.ep, rollout.Production, time.Now()); !errors.Is(err, reconcile.ErrTrafficMissing) {
		t.Errorf("read of a deleted listener: %v, want ErrTrafficMissing", err)
	}
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Errorf("delete of a route whose listener is gone: %v", err)
	}
}
