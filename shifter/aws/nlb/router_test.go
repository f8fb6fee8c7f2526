package nlb_test

import (
	"errors"
	"fmt"
	"maps"
	"strings"
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

const shifterID = "test"

// fixture is a Network Load Balancer with TCP target groups in a fresh
// moto account (behind the AWS-like layer), and an endpoint routed on a free
// port of it.
type fixture struct {
	elb   *elb.Client // the test's own, exempt
	cfg   aws.Config
	net   awstest.Net
	tgs   []string
	calls *awstest.Counter
	ep    rollout.Endpoint
	// router is the shifter's router; newRouter makes another, as a
	// shifter that starts again does.
	router *nlb.Router
}

func newFixture(t *testing.T, targetGroups int) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.NetworkWithNLB(t, cfg)
	f := fixture{
		elb:   elb.NewFromConfig(awstest.Exempt(cfg)),
		cfg:   cfg,
		net:   n,
		tgs:   awstest.TargetGroups(t, cfg, n, elbtypes.ProtocolEnumTcp, targetGroups),
		calls: awstest.NewCounter(),
		ep:    rollout.NewEndpoint(),
	}
	f.ep.Name = "db"
	f.ep.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: n.NLBARN, Port: n.NLBPort}}
	f.router = f.newRouter()
	return f
}

func (f fixture) newRouter() *nlb.Router {
	client := elb.NewFromConfig(f.cfg, func(o *elb.Options) { o.APIOptions = append(o.APIOptions, f.calls.Middleware) })
	return nlb.New(client, client, shifterID, hclog.NewNullLogger())
}

// listener reads the listener on the endpoint's port straight from AWS, nil
// for none.
func (f fixture) listener(t *testing.T) *elbtypes.Listener {
	t.Helper()
	li, err := awstest.NLBListener(t.Context(), f.cfg, f.net.NLBARN, f.net.NLBPort)
	if err != nil {
		t.Fatal(err)
	}
	return li
}

// forward reads what the listener on the endpoint's port forwards to.
func (f fixture) forward(t *testing.T) map[string]int {
	t.Helper()
	li := f.listener(t)
	if li == nil {
		t.Fatalf("no listener on port %d", f.net.NLBPort)
	}
	return shifteraws.ForwardWeights(li.DefaultActions)
}

// idle returns the ARN of the endpoint's idle target group, "" for none.
func (f fixture) idle(t *testing.T) string {
	t.Helper()
	out, err := f.elb.DescribeTargetGroups(t.Context(), &elb.DescribeTargetGroupsInput{Names: []string{nlb.IdleName(shifterID, f.ep)}})
	if shifteraws.IsCode(err, "TargetGroupNotFound") {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TargetGroups[0].TargetGroupArn)
}

func (f fixture) tags(t *testing.T, arn string) map[string]string {
	t.Helper()
	out, err := f.elb.DescribeTags(t.Context(), &elb.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, tag := range d.Tags {
			m[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
		}
	}
	return m
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

func (f fixture) writes() int { return f.calls.Writes("ELBv2") }

// The first write creates the listener, tagged as the shifter's, and the
// idle target group that takes its connections while a first release is
// gated; each step after is one ModifyListener, and reads back as written.
func TestTheFirstWriteCreatesTheListenerAndEachStepIsOneWrite(t *testing.T) {
	f := newFixture(t, 3)
	a, b := f.tgs[0], f.tgs[1]
	if f.listener(t) != nil {
		t.Fatal("a listener on the endpoint's port before any write")
	}
	f.set(t, map[string]int{a: 0})
	if n := f.calls.Count("ELBv2", "CreateListener"); n != 1 {
		t.Errorf("%d CreateListener calls, want 1", n)
	}
	idle := f.idle(t)
	if idle == "" {
		t.Fatal("no idle target group after the first write")
	}
	li := f.listener(t)
	if li.Protocol != elbtypes.ProtocolEnumTcp {
		t.Errorf("listener protocol %s, want TCP", li.Protocol)
	}
	for what, arn := range map[string]string{"listener": aws.ToString(li.ListenerArn), "idle target group": idle} {
		tags := f.tags(t, arn)
		if tags[shifteraws.TagShifter] != shifterID || tags[shifteraws.TagEndpoint] != "db" || tags[shifteraws.TagRole] == "" {
			t.Errorf("%s tags %v, want the shifter's, the endpoint's and a role", what, tags)
		}
	}

	steps := []struct {
		weights, listener map[string]int
		exists            bool
	}{
		{map[string]int{a: 0}, map[string]int{a: 0, idle: 100}, false},
		{map[string]int{a: 100}, map[string]int{a: 100}, true},
		{map[string]int{a: 90, b: 10}, map[string]int{a: 90, b: 10}, true},
		{map[string]int{a: 100, b: 0}, map[string]int{a: 100, b: 0}, true}, // a rollback
	}
	for i, s := range steps {
		before := f.writes()
		f.set(t, s.weights)
		want := 1
		if i == 0 {
			want = 0 // written by the first write above
		}
		if got := f.writes() - before; got != want {
			t.Errorf("set %v: %d writes, want %d", s.weights, got, want)
		}
		if got := f.forward(t); !maps.Equal(got, s.listener) {
			t.Errorf("set %v: listener forwards %v, want %v", s.weights, got, s.listener)
		}
		if got := f.read(t); got.Exists != s.exists || !maps.Equal(got.Weights, s.weights) {
			t.Errorf("set %v: read %+v, want exists=%v and the weights set", s.weights, got, s.exists)
		}
	}
	if n := f.calls.Count("ELBv2", "ModifyListener"); n != 3 {
		t.Errorf("%d ModifyListener calls, want 3", n)
	}
	if n := f.calls.Count("ELBv2", "CreateListener"); n != 1 {
		t.Errorf("%d CreateListener calls in all, want 1", n)
	}
}

// moto stores any weight; the router refuses what AWS would, and what would
// detach a version or overflow the listener's forward, before any write.
func TestSetWeightsRejectsInvalidWeights(t *testing.T) {
	f := newFixture(t, 5)
	idle := "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/" + nlb.IdleName(shifterID, f.ep) + "/0123456789abcdef"
	for name, w := range map[string]map[string]int{
		"not 100":        {f.tgs[0]: 60, f.tgs[1]: 30},
		"negative":       {f.tgs[0]: 110, f.tgs[1]: -10},
		"idle":           {f.tgs[0]: 100, idle: 0},
		"six groups":     {f.tgs[0]: 100, f.tgs[1]: 0, f.tgs[2]: 0, f.tgs[3]: 0, f.tgs[4]: 0, "arn:x": 0},
		"five and idle":  {f.tgs[0]: 0, f.tgs[1]: 0, f.tgs[2]: 0, f.tgs[3]: 0, f.tgs[4]: 0},
		"without target": {"": 100},
	} {
		err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, w)
		if !errors.Is(err, shifteraws.ErrInvalidWeights) {
			t.Errorf("%s: %v: err = %v, want ErrInvalidWeights", name, w, err)
		}
	}
	if got := f.writes(); got != 0 {
		t.Errorf("%d writes of invalid weights", got)
	}
}

// A listener edited by hand reads as what it forwards to (drift), the idle
// target group left out.
func TestWeightsSeesDrift(t *testing.T) {
	f := newFixture(t, 2)
	f.set(t, map[string]int{f.tgs[0]: 100, f.tgs[1]: 0})
	if _, err := f.elb.ModifyListener(t.Context(), &elb.ModifyListenerInput{
		ListenerArn:    f.listener(t).ListenerArn,
		DefaultActions: shifteraws.Forward(map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}),
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.read(t).Weights, map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}; !maps.Equal(got, want) {
		t.Errorf("after a hand edit the router reads %v, want %v", got, want)
	}
}

// A listener deleted behind the shifter's back reads as a route that carries
// nothing (the reconciler's drift), and the next write creates it again.
func TestADeletedListenerIsCreatedAgain(t *testing.T) {
	f := newFixture(t, 1)
	f.set(t, map[string]int{f.tgs[0]: 100})
	if _, err := f.elb.DeleteListener(t.Context(), &elb.DeleteListenerInput{ListenerArn: f.listener(t).ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if got := f.read(t); got.Exists || len(got.Weights) != 0 {
		t.Errorf("read of a deleted listener %+v, want a route without traffic or target groups", got)
	}
	f.set(t, map[string]int{f.tgs[0]: 100})
	if got, want := f.forward(t), map[string]int{f.tgs[0]: 100}; !maps.Equal(got, want) {
		t.Errorf("after the repair the listener forwards %v, want %v", got, want)
	}
	if n := f.calls.Count("ELBv2", "CreateListener"); n != 2 {
		t.Errorf("%d CreateListener calls, want 2 (the first, the repair)", n)
	}
}

// A shifter that crashed after CreateListener, its answer lost or never
// recorded, finds its listener again on the port by its tags: a shifter that
// starts again writes the listener, and creates no second one. One that read
// the port free before the listener landed is refused by AWS (one listener a
// port: DuplicateListener, which the AWS-like layer enforces and moto does
// not) and takes the listener it finds.
func TestAfterACrashTheListenerIsFoundAgainNotMadeTwice(t *testing.T) {
	f := newFixture(t, 2)
	late := f.newRouter()
	// The late router reads the port free, as a shifter did just before
	// its predecessor's create landed.
	if r, err := late.Weights(t.Context(), f.ep, rollout.Production, time.Now()); err != nil || r.Exists || len(r.Weights) != 0 {
		t.Fatalf("read of a free port: %+v, %v", r, err)
	}
	f.set(t, map[string]int{f.tgs[0]: 0})
	created := aws.ToString(f.listener(t).ListenerArn)

	for name, r := range map[string]*nlb.Router{"a shifter started again": f.newRouter(), "a shifter that read the port free": late} {
		before := f.calls.Count("ELBv2", "CreateListener")
		if err := r.SetWeights(t.Context(), f.ep, rollout.Production, map[string]int{f.tgs[0]: 100}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got, want := f.forward(t), map[string]int{f.tgs[0]: 100}; !maps.Equal(got, want) {
			t.Errorf("%s: the listener forwards %v, want %v", name, got, want)
		}
		creates := f.calls.Count("ELBv2", "CreateListener") - before
		switch {
		case name == "a shifter started again" && creates != 0:
			t.Errorf("%s: called CreateListener; the listener on the port is its own", name)
		case name == "a shifter that read the port free" && creates != 1:
			t.Errorf("%s: %d CreateListener calls, want 1, refused", name, creates)
		}
		if li := f.listener(t); aws.ToString(li.ListenerArn) != created {
			t.Errorf("%s: the listener is %s, want the one created first, %s", name, aws.ToString(li.ListenerArn), created)
		}
	}
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{LoadBalancerArn: aws.String(f.net.NLBARN)})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Listeners); n != 2 {
		t.Errorf("%d listeners on the load balancer, want 2 (the user's and the shifter's)", n)
	}
	if _, err := f.elb.CreateListener(t.Context(), &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.net.NLBARN), Port: aws.Int32(int32(f.net.NLBPort)), Protocol: elbtypes.ProtocolEnumTcp,
		DefaultActions: shifteraws.Forward(map[string]int{f.tgs[1]: 100}),
	}); !shifteraws.IsCode(err, "DuplicateListener") {
		t.Errorf("a second listener on the port: %v, want DuplicateListener as AWS answers", err)
	}
}

// A listener on the endpoint's port that is not the shifter's for the
// endpoint (the user's, or another endpoint's) is never changed: the router
// says whose it is.
func TestAForeignListenerOnThePortIsNeverChanged(t *testing.T) {
	f := newFixture(t, 1)
	f.ep.Traffic.NLB.Port = 7000 // the user's listener
	var foreign *nlb.ForeignListenerError
	if err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, map[string]int{f.tgs[0]: 100}); !errors.As(err, &foreign) {
		t.Fatalf("SetWeights over the user's listener = %v, want a *ForeignListenerError", err)
	}
	if _, err := f.router.Weights(t.Context(), f.ep, rollout.Production, time.Now()); !errors.As(err, &foreign) {
		t.Errorf("Weights of the user's listener = %v, want a *ForeignListenerError", err)
	}
	// A deleted endpoint whose port someone else took since leaves that
	// listener alone, and its route reads as gone.
	deleting := f.ep
	deleting.Deleting = true
	if err := f.router.Delete(t.Context(), deleting, rollout.Production); err != nil {
		t.Errorf("Delete of a route whose port holds the user's listener = %v, want nothing to do", err)
	}
	if r, err := f.router.Weights(t.Context(), deleting, rollout.Production, time.Now()); err != nil || r.Exists || len(r.Weights) != 0 {
		t.Errorf("a deleting endpoint's route on the user's listener's port reads %+v, %v; want nothing", r, err)
	}
	other := f.ep
	other.Name = "other"
	f.ep.Traffic.NLB.Port = f.net.NLBPort
	f.set(t, map[string]int{f.tgs[0]: 100})
	other.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: f.net.NLBARN, Port: f.net.NLBPort}}
	err := f.router.SetWeights(t.Context(), other, rollout.Production, map[string]int{f.tgs[0]: 0})
	if !errors.As(err, &foreign) || !strings.Contains(err.Error(), "endpoint db") {
		t.Errorf("SetWeights over endpoint db's listener for endpoint other = %v, want a *ForeignListenerError naming db", err)
	}
	if got := f.calls.Count("ELBv2", "ModifyListener") + f.calls.Count("ELBv2", "DeleteListener"); got != 0 {
		t.Errorf("%d writes of listeners not the router's to write", got)
	}
	if got, want := shifteraws.ForwardWeights(f.userListener(t).DefaultActions), map[string]int{f.net.UserTargetGroupARN: 100}; !maps.Equal(got, want) {
		t.Errorf("the user's listener forwards %v, want %v as the user left it", got, want)
	}
}

func (f fixture) userListener(t *testing.T) elbtypes.Listener {
	t.Helper()
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{ListenerArns: []string{f.net.UserNLBListenerARN}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Listeners[0]
}

// Deleting the route deletes the listener, then the idle target group; while
// the endpoint is being deleted, what is left of them reads as a route still
// there, so that a crash between the two leaves nothing behind: the route
// reads as gone only once both are.
func TestDeleteRemovesTheListenerAndTheIdleGroup(t *testing.T) {
	f := newFixture(t, 1)
	f.set(t, map[string]int{f.tgs[0]: 0})
	idle := f.idle(t)
	f.set(t, map[string]int{f.tgs[0]: 100})
	f.ep.Deleting = true

	// A crash after the listener's deletion, before the idle group's.
	if _, err := f.elb.DeleteListener(t.Context(), &elb.DeleteListenerInput{ListenerArn: f.listener(t).ListenerArn}); err != nil {
		t.Fatal(err)
	}
	if got := f.read(t); !maps.Equal(got.Weights, map[string]int{idle: 0}) {
		t.Errorf("a deleting endpoint's route with its idle group left reads %+v, want the idle group", got)
	}
	// A shifter started again finishes the deletion.
	f.router = f.newRouter()
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatal(err)
	}
	if f.idle(t) != "" {
		t.Error("the idle target group is left after the delete")
	}
	if got := f.read(t); got.Exists || len(got.Weights) != 0 {
		t.Errorf("a deleted route reads %+v, want nothing", got)
	}

	// From the start: both in one delete.
	f.ep.Deleting = false
	f.set(t, map[string]int{f.tgs[0]: 0})
	f.ep.Deleting = true
	if got := f.read(t); !got.Exists {
		t.Errorf("a deleting endpoint's listener forwarding to its idle group reads %+v, want a route that exists", got)
	}
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatal(err)
	}
	if li := f.listener(t); li != nil {
		t.Errorf("listener %s is left after the delete", aws.ToString(li.ListenerArn))
	}
	if f.idle(t) != "" {
		t.Error("the idle target group is left after the delete")
	}
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Errorf("a second delete: %v, want nothing to do", err)
	}
	if li := f.userListener(t); aws.ToString(li.ListenerArn) != f.net.UserNLBListenerARN {
		t.Error("the user's listener went with the endpoint's")
	}
}

// A load balancer that does not exist is the user's to bring back:
// ErrTrafficMissing to a read; nothing to do for the delete of an endpoint
// that has nothing left on it.
func TestAMissingLoadBalancerIsTrafficMissing(t *testing.T) {
	f := newFixture(t, 1)
	f.ep.Traffic.NLB.LoadBalancerARN = f.net.NLBARN[:len(f.net.NLBARN)-4] + "0000"
	if _, err := f.router.Weights(t.Context(), f.ep, rollout.Production, time.Now()); !errors.Is(err, reconcile.ErrTrafficMissing) {
		t.Errorf("read on a missing load balancer: %v, want ErrTrafficMissing", err)
	}
	if err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, map[string]int{f.tgs[0]: 0}); !errors.Is(err, reconcile.ErrTrafficMissing) {
		t.Errorf("write on a missing load balancer: %v, want ErrTrafficMissing", err)
	}
	f.ep.Deleting = true
	if got := f.read(t); got.Exists || len(got.Weights) != 0 {
		t.Errorf("a deleting endpoint's route on a missing load balancer reads %+v, want nothing", got)
	}
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Errorf("delete of a route whose load balancer is gone: %v", err)
	}
}

// tls routes the fixture's endpoint on a TLS listener with a certificate of
// its own and the default security policy, and returns the certificate.
func (f *fixture) tls(t *testing.T) string {
	t.Helper()
	cert := awstest.Certificate(t, f.cfg, "db.example.com")
	f.ep.Traffic.NLB.Protocol, f.ep.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, cert
	return cert
}

// checkTLS checks that the listener on the port is TLS with the certificate
// and the security policy.
func (f fixture) checkTLS(t *testing.T, when, cert, policy string) {
	t.Helper()
	li := f.listener(t)
	got := ""
	if len(li.Certificates) > 0 {
		got = aws.ToString(li.Certificates[0].CertificateArn)
	}
	if li.Protocol != elbtypes.ProtocolEnumTls || got != cert || aws.ToString(li.SslPolicy) != policy || len(li.Certificates) != 1 {
		t.Errorf("%s: listener %s with certificates %v and policy %q; want TLS with %s and %s",
			when, li.Protocol, li.Certificates, aws.ToString(li.SslPolicy), cert, policy)
	}
}

// A TLS listener is created with its certificate and security policy in the
// CreateListener call; every step after keeps them (one ModifyListener each,
// naming them again), and the listener reads as like the spec.
func TestATLSListenerIsCreatedWithItsCertificateAndKeepsThem(t *testing.T) {
	f := newFixture(t, 2)
	cert := f.tls(t)
	a, b := f.tgs[0], f.tgs[1]
	f.set(t, map[string]int{a: 0})
	f.checkTLS(t, "created", cert, rollout.DefaultSSLPolicy)
	for _, w := range []map[string]int{{a: 100}, {a: 90, b: 10}, {a: 100, b: 0}} {
		before := f.writes()
		f.set(t, w)
		if got := f.writes() - before; got != 1 {
			t.Errorf("set %v: %d writes, want 1", w, got)
		}
		f.checkTLS(t, fmt.Sprintf("after set %v", w), cert, rollout.DefaultSSLPolicy)
		if r := f.read(t); r.Unlike != "" || !maps.Equal(r.Weights, w) {
			t.Errorf("set %v: read %+v, want the weights and nothing unlike the spec", w, r)
		}
	}
	if n := f.calls.Count("ELBv2", "CreateListener"); n != 1 {
		t.Errorf("%d CreateListener calls, want 1", n)
	}
}

// A certificate rotated (or a security policy changed) in the spec reads as
// a route unlike it, its weights as they were; the next write of the same
// weights brings the listener to the spec in one ModifyListener, and after
// it the route reads as like the spec. A hand edit of the certificate reads
// and is restored the same way.
func TestACertificateChangeIsOneModifyListener(t *testing.T) {
	f := newFixture(t, 2)
	f.tls(t)
	w := map[string]int{f.tgs[0]: 100, f.tgs[1]: 0}
	f.set(t, w)

	rotated := awstest.Certificate(t, f.cfg, "db.example.com")
	f.ep.Traffic.NLB.CertificateARN = rotated
	f.ep.Traffic.NLB.SSLPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
	r := f.read(t)
	if !strings.Contains(r.Unlike, rotated) || !strings.Contains(r.Unlike, f.ep.Traffic.NLB.SSLPolicy) || !maps.Equal(r.Weights, w) {
		t.Fatalf("after the spec changed: read %+v, want the weights as set and the certificate and policy unlike the spec", r)
	}
	before := f.calls.Count("ELBv2", "ModifyListener")
	f.set(t, w)
	if got := f.calls.Count("ELBv2", "ModifyListener") - before; got != 1 {
		t.Errorf("%d ModifyListener calls to apply the certificate, want 1", got)
	}
	f.checkTLS(t, "after the rotation", rotated, f.ep.Traffic.NLB.SSLPolicy)
	if r := f.read(t); r.Unlike != "" || !maps.Equal(r.Weights, w) {
		t.Errorf("after the rotation: read %+v, want the weights and nothing unlike the spec", r)
	}

	// Someone puts another certificate on the listener by hand.
	other := awstest.Certificate(t, f.cfg, "other.example.com")
	if _, err := f.elb.ModifyListener(t.Context(), &elb.ModifyListenerInput{ListenerArn: f.listener(t).ListenerArn,
		Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(other)}}}); err != nil {
		t.Fatal(err)
	}
	if r := f.read(t); !strings.Contains(r.Unlike, other) {
		t.Errorf("after a hand edit of the certificate: read %+v, want it unlike the spec", r)
	}
	f.set(t, w)
	f.checkTLS(t, "after the repair", rotated, f.ep.Traffic.NLB.SSLPolicy)
}

// A TCP listener never reads as unlike the spec for want of a certificate.
func TestATCPListenerHasNoSettingsToDiffer(t *testing.T) {
	f := newFixture(t, 1)
	f.set(t, map[string]int{f.tgs[0]: 100})
	if r := f.read(t); r.Unlike != "" {
		t.Errorf("a TCP listener reads unlike the spec: %q", r.Unlike)
	}
	before := f.writes()
	f.set(t, map[string]int{f.tgs[0]: 100})
	if got := f.writes() - before; got != 0 {
		t.Errorf("%d writes of the weights as they are", got)
	}
}
