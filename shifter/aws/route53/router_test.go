package route53_test

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/route53"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// fixture is a hosted zone and slot listeners with target groups in a fresh
// moto account, and an endpoint routed on them.
type fixture struct {
	cfg    aws.Config
	elb    *elb.Client
	dns    *r53.Client
	net    awstest.Net
	tgs    []string
	calls  *awstest.Counter
	ep     rollout.Endpoint
	router *route53.Router
	// clients are the shifter's, which a router started afresh takes.
	clients *shifteraws.Set
}

func newFixture(t *testing.T, targetGroups int) fixture {
	t.Helper()
	cfg := awstest.Config(t)
	n := awstest.NetworkWithSlots(t, cfg)
	setup := awstest.Exempt(cfg)
	client := elb.NewFromConfig(setup)
	tgs := awstest.TargetGroups(t, cfg, n, elbtypes.ProtocolEnumHttp, targetGroups)
	calls := awstest.NewCounter()
	counted := cfg.Copy()
	calls.Add(&counted)
	ep := rollout.NewEndpoint()
	ep.Name = "web"
	ep.Traffic = rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: n.HostedZoneID, Name: "web.example.test", Listeners: n.SlotListenerARNs}}
	// The shifter's own clients, paced within the account's budgets (Route
	// 53 takes 5 calls a second), which the awslike layer enforces.
	set, err := shifteraws.NewClients(counted, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{
		cfg: cfg, elb: client, dns: r53.NewFromConfig(setup), net: n, tgs: tgs, calls: calls, ep: ep,
		router: route53.New(set.Route53, set.ELBv2, "test", hclog.NewNullLogger()), clients: set,
	}
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

// records reads the weighted records of the name straight from moto, by
// set identifier.
func (f fixture) records(t *testing.T) map[string]r53types.ResourceRecordSet {
	t.Helper()
	out, err := f.dns.ListResourceRecordSets(t.Context(), &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(f.net.HostedZoneID)})
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]r53types.ResourceRecordSet{}
	for _, r := range out.ResourceRecordSets {
		if r.SetIdentifier != nil {
			recs[aws.ToString(r.SetIdentifier)] = r
		}
	}
	return recs
}

// slots reads, by target group, the slot listener whose shifter's rule
// forwards to it.
func (f fixture) slots(t *testing.T) map[string]string {
	t.Helper()
	read, err := awstest.Slots(t.Context(), f.cfg, f.net.SlotListenerARNs)
	if err != nil {
		t.Fatal(err)
	}
	listeners := map[string]string{} // load balancer name → listener ARN
	out, err := f.elb.DescribeListeners(t.Context(), &elb.DescribeListenersInput{ListenerArns: f.net.SlotListenerARNs})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range out.Listeners {
		for name, s := range read {
			if aws.ToString(s.LoadBalancer.LoadBalancerArn) == aws.ToString(l.LoadBalancerArn) {
				listeners[name] = aws.ToString(l.ListenerArn)
			}
		}
	}
	held := map[string]string{}
	for name, s := range read {
		if s.Target != "" {
			held[s.Target] = listeners[name]
		}
	}
	return held
}

// writes counts the writes of records and of slots (their rules).
func (f fixture) writes() (records, slots int) {
	return f.calls.Count("Route 53", "ChangeResourceRecordSets"),
		f.calls.Count("ELBv2", "CreateRule") + f.calls.Count("ELBv2", "ModifyRule") + f.calls.Count("ELBv2", "DeleteRule")
}

// A version takes a slot before it is on a record, a first release has no
// record until it carries traffic (Route 53 spreads traffic over records
// that all weigh 0), each step and the return to a hot version is one batch
// of record changes, and a version that leaves the route frees its slot.
func TestEachStepIsOneBatchAndEveryVersionHoldsASlot(t *testing.T) {
	f := newFixture(t, 2)
	a, b := f.tgs[0], f.tgs[1]
	steps := []struct {
		weights                 map[string]int
		exists                  bool
		recordWrites, slotTakes int
		records, slots          int
	}{
		{map[string]int{a: 0}, false, 0, 1, 0, 1},
		{map[string]int{a: 100}, true, 1, 0, 1, 1},
		{map[string]int{a: 100, b: 0}, true, 1, 1, 2, 2},
		{map[string]int{a: 90, b: 10}, true, 1, 0, 2, 2},
		{map[string]int{a: 100, b: 0}, true, 1, 0, 2, 2}, // a rollback: one batch
		{map[string]int{a: 100}, true, 1, 1, 1, 1},       // b leaves: its record, then its slot
	}
	for _, s := range steps {
		records, slots := f.writes()
		f.set(t, s.weights)
		r2, s2 := f.writes()
		if r2-records != s.recordWrites || s2-slots != s.slotTakes {
			t.Errorf("set %v: %d record batches and %d slot writes, want %d and %d", s.weights, r2-records, s2-slots, s.recordWrites, s.slotTakes)
		}
		if got := f.read(t); got.Exists != s.exists || !maps.Equal(got.Weights, s.weights) {
			t.Errorf("set %v: read %+v, want exists=%v and the weights set", s.weights, got, s.exists)
		}
		if got := f.records(t); len(got) != s.records {
			t.Errorf("set %v: %d records in the zone, want %d", s.weights, len(got), s.records)
		}
		if got := f.slots(t); len(got) != s.slots {
			t.Errorf("set %v: slots hold %v, want %d target groups", s.weights, got, s.slots)
		}
	}
	for _, rec := range f.records(t) {
		if rec.AliasTarget == nil || aws.ToInt64(rec.Weight) != 100 || aws.ToString(rec.Name) != "web.example.test." {
			t.Errorf("record %+v: want web.example.test. weighted 100, an alias of its slot's load balancer", rec)
		}
	}
}

// moto takes any weight; the router refuses what Route 53 would (0 to 255),
// and any that is no split of 100%, before it writes anything.
func TestSetWeightsRejectsWhatRoute53Refuses(t *testing.T) {
	f := newFixture(t, 2)
	for name, w := range map[string]map[string]int{
		"above 255":       {f.tgs[0]: 256},
		"negative":        {f.tgs[0]: 101, f.tgs[1]: -1},
		"not 100":         {f.tgs[0]: 60, f.tgs[1]: 30},
		"more than slots": {f.tgs[0]: 100, "tg-2": 0, "tg-3": 0, "tg-4": 0, "tg-5": 0},
	} {
		err := f.router.SetWeights(t.Context(), f.ep, rollout.Production, w)
		if !errors.Is(err, shifteraws.ErrInvalidWeights) {
			t.Errorf("%s: %v: err = %v, want ErrInvalidWeights", name, w, err)
		}
	}
	if records, slots := f.writes(); records+slots != 0 {
		t.Errorf("%d record batches and %d listener writes for invalid weights", records, slots)
	}
}

// A record changed by hand reads as its weight: drift.
func TestWeightsSeesDrift(t *testing.T) {
	f := newFixture(t, 2)
	f.set(t, map[string]int{f.tgs[0]: 100, f.tgs[1]: 0})
	var changes []r53types.Change
	for _, rec := range f.records(t) {
		rec.Weight = aws.Int64(50)
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &rec})
	}
	if _, err := f.dns.ChangeResourceRecordSets(t.Context(), &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(f.net.HostedZoneID), ChangeBatch: &r53types.ChangeBatch{Changes: changes},
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := f.read(t).Weights, map[string]int{f.tgs[0]: 50, f.tgs[1]: 50}; !maps.Equal(got, want) {
		t.Errorf("after a hand edit the router reads %v, want %v", got, want)
	}
}

// Deleting the route deletes its records and frees its slots; a zone that
// is gone is ErrTrafficMissing.
func TestDeleteRemovesRecordsAndFreesSlots(t *testing.T) {
	f := newFixture(t, 2)
	f.set(t, map[string]int{f.tgs[0]: 90, f.tgs[1]: 10})
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatal(err)
	}
	if recs, slots := f.records(t), f.slots(t); len(recs) != 0 || len(slots) != 0 {
		t.Errorf("after delete: records %v, slots holding %v; want none", recs, slots)
	}
	f.ep.Traffic.Route53.HostedZoneID = "ZNOSUCHZONE"
	if _, err := f.router.Weights(t.Context(), f.ep, rollout.Production, time.Now()); !errors.Is(err, reconcile.ErrTrafficMissing) {
		t.Errorf("read of a zone that does not exist: %v, want ErrTrafficMissing", err)
	}
}

// healthChecks reads the account's health checks straight from moto, by ID.
func (f fixture) healthChecks(t *testing.T) map[string]r53types.HealthCheck {
	t.Helper()
	out, err := f.dns.ListHealthChecks(t.Context(), &r53.ListHealthChecksInput{})
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]r53types.HealthCheck{}
	for _, c := range out.HealthChecks {
		checks[aws.ToString(c.Id)] = c
	}
	return checks
}

// TestEachVersionsRecordHasAHealthCheckOfItsSlot: with
// traffic.route53.health_check, each record carries a Route 53 health check
// of its slot's load balancer, made once (a router started afresh finds it
// by its caller reference) and deleted when no record uses it.
func TestEachVersionsRecordHasAHealthCheckOfItsSlot(t *testing.T) {
	f := newFixture(t, 2)
	f.ep.Traffic.Route53.HealthCheck = &rollout.Route53HealthCheck{Path: "/healthz", Interval: rollout.Duration(10 * time.Second), FailureThreshold: 3}
	blue, green := f.tgs[0], f.tgs[1]
	f.set(t, map[string]int{blue: 90, green: 10})
	checks := f.healthChecks(t)
	recs := f.records(t)
	if len(checks) != 2 || len(recs) != 2 {
		t.Fatalf("%d health checks for %d records, want one each", len(checks), len(recs))
	}
	for id, rec := range recs {
		c, ok := checks[aws.ToString(rec.HealthCheckId)]
		if !ok {
			t.Fatalf("record %s has health check %q, not one of the shifter's", id, aws.ToString(rec.HealthCheckId))
		}
		cfg := c.HealthCheckConfig
		if aws.ToString(cfg.ResourcePath) != "/healthz" || aws.ToInt32(cfg.RequestInterval) != 10 || aws.ToInt32(cfg.FailureThreshold) != 3 ||
			aws.ToString(cfg.FullyQualifiedDomainName) != aws.ToString(rec.AliasTarget.DNSName) || aws.ToInt32(cfg.Port) != 80 {
			t.Errorf("record %s's health check %+v: want /healthz every 10s, 3 failures, of the load balancer it aliases on port 80", id, cfg)
		}
	}

	// A shifter started afresh finds the checks rather than making more.
	f.router = route53.New(f.clients.Route53, f.clients.ELBv2, "test", hclog.NewNullLogger())
	f.set(t, map[string]int{blue: 50, green: 50})
	if n := len(f.healthChecks(t)); n != 2 {
		t.Errorf("%d health checks after a restart, want the same 2", n)
	}

	f.set(t, map[string]int{green: 100})
	if n := len(f.healthChecks(t)); n != 1 {
		t.Errorf("%d health checks once blue left the route, want green's alone", n)
	}
	if err := f.router.Delete(t.Context(), f.ep, rollout.Production); err != nil {
		t.Fatal(err)
	}
	if n := len(f.healthChecks(t)); n != 0 {
		t.Errorf("%d health checks after the route was deleted, want none", n)
	}
}
