// Package route53 is the router of Route 53 weighted records: per endpoint,
// one weighted A record per version on its route, same name and type, in a
// hosted zone, each an alias of the Application Load Balancer of one of the
// endpoint's slots.
//
// A slot is a listener of the user's, on a load balancer of its own, on
// which the shifter owns one rule (SlotPriority, matching every request):
// while a version is on the route, that rule forwards the slot's requests to
// the version's target group, so the load balancer health-checks the version
// whatever its record's weight (weight 0 attaches, DESIGN invariant 8), and a
// rollback to a hot version is one ChangeResourceRecordSets batch. A slot no
// version holds has no rule: its listener's default action, the user's,
// answers. The user's Terraform owns the listener and needs no
// ignore_changes. The records are the shifter's by
// their set identifiers (SetIdentifier), which name the shifter, the endpoint
// and the slot's load balancer.
//
// DNS makes traffic follow a weight change slowly: resolvers keep an answer
// for the alias's TTL (rollout.Route53AliasTTL) or longer. The weights the
// router reads back are the records', not where requests go yet.
package route53

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// DNS is the part of Route 53 the router uses.
type DNS interface {
	ListResourceRecordSets(context.Context, *r53.ListResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *r53.ChangeResourceRecordSetsInput, ...func(*r53.Options)) (*r53.ChangeResourceRecordSetsOutput, error)
	HealthChecks
}

// ELB is the part of ELBv2 the router uses: the slots and their rules.
type ELB interface {
	DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	DescribeRules(context.Context, *elb.DescribeRulesInput, ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	CreateRule(context.Context, *elb.CreateRuleInput, ...func(*elb.Options)) (*elb.CreateRuleOutput, error)
	ModifyRule(context.Context, *elb.ModifyRuleInput, ...func(*elb.Options)) (*elb.ModifyRuleOutput, error)
	DeleteRule(context.Context, *elb.DeleteRuleInput, ...func(*elb.Options)) (*elb.DeleteRuleOutput, error)
}

// SlotPriority is the priority of the shifter's rule on a slot listener:
// the first, matching every request, so that all of the slot's load
// balancer's traffic goes to the version on it. The listener and its
// default action stay the user's.
const SlotPriority = 1

var _ reconcile.Router = (*Router)(nil)

// MaxWeight is the highest weight Route 53 takes. moto takes any, so the
// router checks.
const MaxWeight = 255

// Router writes and reads weighted records and the slots they alias. It is
// safe for concurrent use.
type Router struct {
	dns       DNS
	checks    HealthChecks
	elb       ELB
	shifterID string
	logger    hclog.Logger

	mu sync.Mutex
	// routes are reads of routes; written is when the router last wrote
	// each, so that it reads it back from a read that began after.
	routes  map[string]*shifteraws.Snapshot[view]
	written map[string]time.Time
	// balancers are the slots' load balancers as read: their DNS names
	// and zones never change.
	balancers map[string]elbtypes.LoadBalancer
	// checkIDs are the slots' health checks by caller reference, and
	// checksListed says the account's were listed once.
	checkIDs     map[string]string
	checksListed bool
}

// New returns a router of the records and slots in the account dns and elb
// reach, whose records say they are shifterID's.
func New(dns DNS, elb ELB, shifterID string, logger hclog.Logger) *Router {
	return &Router{
		dns: dns, checks: dns, elb: elb, shifterID: shifterID, logger: logger,
		checkIDs:  map[string]string{},
		routes:    map[string]*shifteraws.Snapshot[view]{},
		written:   map[string]time.Time{},
		balancers: map[string]elbtypes.LoadBalancer{},
	}
}

// route is an endpoint's record set and its slots.
type route struct {
	endpoint, zone, name string
	slots                []string // listener ARNs
	evaluateHealth       bool
	check                *rollout.Route53HealthCheck
	// owner begins the set identifiers of the route's records.
	owner string
}

func (r route) String() string { return r.endpoint + " (" + r.name + " in " + r.zone + ")" }

func (r route) key() string { return r.zone + "/" + r.name }

func (rt *Router) routeOf(ep rollout.Endpoint) route {
	t := ep.Traffic.Route53
	name := strings.ToLower(strings.TrimSuffix(t.Name, ".")) + "."
	return route{endpoint: ep.Name, zone: t.HostedZoneID, name: name, slots: t.Listeners, evaluateHealth: t.EvaluateTargetHealth, check: t.HealthCheck,
		owner: "ionroller-" + rt.shifterID + "-" + ep.Name + "-"}
}

// view is a route as read: its slots in the spec's order and the records
// that are the shifter's, by set identifier.
type view struct {
	slots   []slot
	records map[string]r53types.ResourceRecordSet
}

// slot is a slot listener as read: its load balancer, the shifter's rule on
// it ("" for none) and the target group that rule forwards to alone ("" for
// none).
type slot struct {
	listener string
	lb       elbtypes.LoadBalancer
	rule     string
	target   string
	// port and https are the listener's, which a Route 53 health check
	// of the slot requests.
	port  int32
	https bool
}

// setID is the set identifier of the record of a slot: it names the
// shifter, the endpoint and the slot's load balancer, whose record it is.
func (r route) setID(s slot) string { return r.owner + aws.ToString(s.lb.LoadBalancerName) }

// SetWeights makes the route's records split traffic by weights (target
// group ARN → share; 0 keeps a version on a slot, health-checked, without
// traffic). It gives each new target group a free slot first, then writes
// every record in one ChangeResourceRecordSets (a rollback is that one
// write), then frees the slots of target groups that left. While no version
// has traffic there are no records: Route 53 spreads a name's traffic evenly
// over records whose weights are all 0.
func (rt *Router) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	r := rt.routeOf(ep)
	if err := validate(r, weights); err != nil {
		return fmt.Errorf("route %s: %w", r, err)
	}
	cur, err := rt.read(ctx, r, time.Time{})
	if err != nil {
		return err
	}
	holder := map[string]int{} // target group → slot index
	for i, s := range cur.slots {
		if _, ok := weights[s.target]; ok && s.target != "" {
			holder[s.target] = i
		}
	}
	var writes []string
	// 1. Each new version takes a free slot before it is on a record.
	for _, tg := range slices.Sorted(maps.Keys(weights)) {
		if _, ok := holder[tg]; ok {
			continue
		}
		i := freeSlot(cur.slots, weights, holder)
		if i < 0 {
			return fmt.Errorf("route %s: no free listener for target group %s: %d listeners hold %v", r, tg, len(cur.slots), holder)
		}
		if err := rt.point(ctx, r, &cur.slots[i], tg); err != nil {
			return err
		}
		holder[tg] = i
		cur.slots[i].target = tg
		writes = append(writes, "take "+cur.slots[i].listener)
	}
	// 2. The records, in one batch, each with its slot's health check.
	checks := map[string]string{} // set identifier → health check ID
	if r.check != nil && shifteraws.Carries(weights) {
		for _, i := range holder {
			id, err := rt.healthCheck(ctx, r, cur.slots[i])
			if err != nil {
				return err
			}
			checks[r.setID(cur.slots[i])] = id
		}
	}
	changes := recordChanges(r, cur, weights, holder, checks)
	if len(changes) > 0 {
		_, err := rt.dns.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
			HostedZoneId: aws.String(r.zone),
			ChangeBatch: &r53types.ChangeBatch{
				Comment: aws.String("ionroller: weights of " + r.endpoint),
				Changes: changes,
			},
		})
		rt.wrote(r)
		if err != nil {
			return fmt.Errorf("route %s: change records: %w", r, missing(r, err))
		}
		writes = append(writes, fmt.Sprintf("%d record changes", len(changes)))
	}
	// 3. Slots of versions that left the route answer 503 again.
	for i, s := range cur.slots {
		if _, ok := weights[s.target]; ok || s.target == "" {
			continue
		}
		if err := rt.free(ctx, r, s); err != nil {
			return err
		}
		cur.slots[i].target = ""
		writes = append(writes, "free "+s.listener)
	}
	// 4. Health checks no record uses any more.
	if err := rt.deleteHealthChecks(ctx, r, cur.slots, checks); err != nil {
		return err
	}
	if len(writes) > 0 {
		rt.logger.Info("weights set", "endpoint", r.endpoint, "track", track, "name", r.name, "weights", weights, "writes", writes)
	}
	return nil
}

// freeSlot returns the first slot whose target group is not on the route
// and that no target group has been given, or -1.
func freeSlot(slots []slot, weights, holder map[string]int) int {
	for i, s := range slots {
		_, held := weights[s.target]
		if (s.target == "" || !held) && !slices.Contains(slices.Collect(maps.Values(holder)), i) {
			return i
		}
	}
	return -1
}

// recordChanges returns the changes that make the route's records say
// weights: an UPSERT of each record whose weight or alias differs, and a
// DELETE of each record of the shifter's that is not wanted.
func recordChanges(r route, cur view, weights, holder map[string]int, checks map[string]string) []r53types.Change {
	want := map[string]r53types.ResourceRecordSet{}
	if shifteraws.Carries(weights) {
		for tg, w := range weights {
			s := cur.slots[holder[tg]]
			want[r.setID(s)] = r53types.ResourceRecordSet{
				Name:          aws.String(r.name),
				Type:          r53types.RRTypeA,
				SetIdentifier: aws.String(r.setID(s)),
				Weight:        aws.Int64(int64(w)),
				HealthCheckId: nonEmpty(checks[r.setID(s)]),
				AliasTarget: &r53types.AliasTarget{
					DNSName:              aws.String(aws.ToString(s.lb.DNSName)),
					HostedZoneId:         s.lb.CanonicalHostedZoneId,
					EvaluateTargetHealth: r.evaluateHealth,
				},
			}
		}
	}
	var changes []r53types.Change
	for _, id := range slices.Sorted(maps.Keys(want)) {
		if have, ok := cur.records[id]; !ok || !sameRecord(have, want[id]) {
			rec := want[id]
			changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &rec})
		}
	}
	for _, id := range slices.Sorted(maps.Keys(cur.records)) {
		if _, ok := want[id]; !ok {
			rec := cur.records[id]
			changes = append(changes, r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: &rec})
		}
	}
	return changes
}

func sameRecord(a, b r53types.ResourceRecordSet) bool {
	if aws.ToInt64(a.Weight) != aws.ToInt64(b.Weight) || aws.ToString(a.HealthCheckId) != aws.ToString(b.HealthCheckId) || a.AliasTarget == nil || b.AliasTarget == nil {
		return false
	}
	return strings.EqualFold(strings.TrimSuffix(aws.ToString(a.AliasTarget.DNSName), "."), strings.TrimSuffix(aws.ToString(b.AliasTarget.DNSName), ".")) &&
		a.AliasTarget.EvaluateTargetHealth == b.AliasTarget.EvaluateTargetHealth
}

// Weights reads the route as a read that began at or after since shows it:
// the weight of each record of the shifter's by the target group its slot
// forwards to (a record whose slot forwards to none, by its set
// identifier: drift), 0 for the target groups that hold a slot without a
// record, and whether a record carries traffic.
func (rt *Router) Weights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, since time.Time) (reconcile.Route, error) {
	r := rt.routeOf(ep)
	v, err := rt.read(ctx, r, since)
	if err != nil {
		return reconcile.Route{}, err
	}
	out := reconcile.Route{Weights: map[string]int{}}
	bySetID := map[string]string{}
	for _, s := range v.slots {
		bySetID[r.setID(s)] = s.target
		if s.target != "" {
			out.Weights[s.target] = 0
		}
	}
	for id, rec := range v.records {
		target := bySetID[id]
		if target == "" {
			target = id
		}
		w := int(aws.ToInt64(rec.Weight))
		out.Weights[target] = w
		out.Exists = out.Exists || w > 0
	}
	return out, nil
}

// Delete deletes the route's records and frees its slots; nothing is left
// to do once the zone or the slots are gone.
func (rt *Router) Delete(ctx context.Context, ep rollout.Endpoint, track rollout.Track) error {
	err := rt.SetWeights(ctx, ep, track, map[string]int{})
	if errors.Is(err, reconcile.ErrTrafficMissing) {
		return nil
	}
	return err
}

// read returns the route as a read that began at or after since, and after
// the router's own last write of it.
func (rt *Router) read(ctx context.Context, r route, since time.Time) (view, error) {
	rt.mu.Lock()
	if w := rt.written[r.key()]; w.After(since) {
		since = w
	}
	snap := rt.routes[r.key()]
	if snap == nil {
		snap = &shifteraws.Snapshot[view]{}
		rt.routes[r.key()] = snap
	}
	rt.mu.Unlock()
	v, err := snap.Get(ctx, since, func(ctx context.Context) (view, error) {
		slots, err := rt.readSlots(ctx, r)
		if err != nil {
			return view{}, err
		}
		records, err := rt.readRecords(ctx, r)
		return view{slots: slots, records: records}, err
	})
	if err != nil {
		return view{}, fmt.Errorf("route %s: %w", r, missing(r, err))
	}
	// The snapshot is shared: the caller gets its own slots to change.
	v.slots = slices.Clone(v.slots)
	return v, nil
}

// readSlots reads the slot listeners and their load balancers.
func (rt *Router) readSlots(ctx context.Context, r route) ([]slot, error) {
	out, err := rt.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: r.slots})
	if err != nil {
		return nil, fmt.Errorf("describe listeners: %w", err)
	}
	byARN := map[string]elbtypes.Listener{}
	for _, l := range out.Listeners {
		byARN[aws.ToString(l.ListenerArn)] = l
	}
	var slots []slot
	for _, arn := range r.slots {
		l, ok := byARN[arn]
		if !ok {
			return nil, fmt.Errorf("listener %s does not exist: %w", arn, reconcile.ErrTrafficMissing)
		}
		lb, err := rt.balancer(ctx, aws.ToString(l.LoadBalancerArn))
		if err != nil {
			return nil, err
		}
		s := slot{listener: arn, lb: lb, port: aws.ToInt32(l.Port), https: l.Protocol == elbtypes.ProtocolEnumHttps}
		if s.rule, s.target, err = rt.slotRule(ctx, arn); err != nil {
			return nil, err
		}
		slots = append(slots, s)
	}
	return slots, nil
}

// slotRule reads the shifter's rule on a slot listener, the one at
// SlotPriority, and the target group it forwards to alone.
func (rt *Router) slotRule(ctx context.Context, listener string) (rule, target string, err error) {
	out, err := rt.elb.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listener)})
	if err != nil {
		return "", "", fmt.Errorf("describe rules of %s: %w", listener, err)
	}
	for _, r := range out.Rules {
		if aws.ToString(r.Priority) != strconv.Itoa(SlotPriority) {
			continue
		}
		if f := shifteraws.ForwardWeights(r.Actions); len(f) == 1 {
			for tg := range f {
				target = tg
			}
		}
		return aws.ToString(r.RuleArn), target, nil
	}
	return "", "", nil
}

// balancer returns a load balancer, read once.
func (rt *Router) balancer(ctx context.Context, arn string) (elbtypes.LoadBalancer, error) {
	rt.mu.Lock()
	lb, ok := rt.balancers[arn]
	rt.mu.Unlock()
	if ok {
		return lb, nil
	}
	out, err := rt.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil {
		return lb, fmt.Errorf("describe load balancer %s: %w", arn, err)
	}
	if len(out.LoadBalancers) != 1 {
		return lb, fmt.Errorf("load balancer %s does not exist: %w", arn, reconcile.ErrTrafficMissing)
	}
	rt.mu.Lock()
	rt.balancers[arn] = out.LoadBalancers[0]
	rt.mu.Unlock()
	return out.LoadBalancers[0], nil
}

// readRecords reads the records of the route's name and type A that are
// the shifter's.
func (rt *Router) readRecords(ctx context.Context, r route) (map[string]r53types.ResourceRecordSet, error) {
	records := map[string]r53types.ResourceRecordSet{}
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(r.zone), StartRecordName: aws.String(r.name), StartRecordType: r53types.RRTypeA}
	for {
		out, err := rt.dns.ListResourceRecordSets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list records of %s: %w", r.name, err)
		}
		for _, rec := range out.ResourceRecordSets {
			if !strings.EqualFold(aws.ToString(rec.Name), r.name) || rec.Type != r53types.RRTypeA {
				return records, nil // past the name: records come sorted
			}
			if id := aws.ToString(rec.SetIdentifier); strings.HasPrefix(id, r.owner) {
				records[id] = rec
			}
		}
		if !out.IsTruncated {
			return records, nil
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
}

// point makes the shifter's rule on slot s forward all its requests to the
// target group tg: a new rule (tagged as the shifter's), or the one there
// changed.
func (rt *Router) point(ctx context.Context, r route, s *slot, tg string) error {
	var err error
	if s.rule != "" {
		_, err = rt.elb.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(s.rule), Actions: forwardTo(tg)})
	} else {
		var out *elb.CreateRuleOutput
		out, err = rt.elb.CreateRule(ctx, &elb.CreateRuleInput{
			ListenerArn: aws.String(s.listener),
			Priority:    aws.Int32(SlotPriority),
			Conditions:  []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/*"}}}},
			Actions:     forwardTo(tg),
			Tags: []elbtypes.Tag{
				{Key: aws.String(shifteraws.TagShifter), Value: aws.String(rt.shifterID)},
				{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(r.endpoint)},
				{Key: aws.String(shifteraws.TagRole), Value: aws.String("slot")},
			},
		})
		if err == nil && len(out.Rules) == 1 {
			s.rule = aws.ToString(out.Rules[0].RuleArn)
		}
	}
	rt.wrote(r)
	if err != nil {
		return fmt.Errorf("route %s: point the slot %s at %s: %w", r, s.listener, tg, missing(r, err))
	}
	return nil
}

// free deletes the shifter's rule on slot s: the slot's requests go to its
// listener's default action again.
func (rt *Router) free(ctx context.Context, r route, s slot) error {
	_, err := rt.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(s.rule)})
	rt.wrote(r)
	if err != nil && !shifteraws.IsCode(err, "RuleNotFound") {
		return fmt.Errorf("route %s: free the slot %s: %w", r, s.listener, missing(r, err))
	}
	return nil
}

func forwardTo(tg string) []elbtypes.Action { return shifteraws.Forward(map[string]int{tg: 100}) }

// wrote records a write to a route, whether or not it answered success.
func (rt *Router) wrote(r route) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.written[r.key()] = time.Now()
}

// missing turns AWS's answer that the zone, a slot or its load balancer does
// not exist into reconcile.ErrTrafficMissing.
func missing(r route, err error) error {
	if shifteraws.IsCode(err, "NoSuchHostedZone", "ListenerNotFound", "LoadBalancerNotFound") {
		return fmt.Errorf("what %s routes on does not exist: %w: %w", r, reconcile.ErrTrafficMissing, err)
	}
	return err
}

// validate checks that weights split 100% (or are all 0) over no more
// target groups than the route has slots, each a weight Route 53 takes.
func validate(r route, weights map[string]int) error {
	for tg, w := range weights {
		if w < 0 || w > MaxWeight {
			return fmt.Errorf("%w: %d for %s is not a Route 53 weight (0 to %d)", shifteraws.ErrInvalidWeights, w, tg, MaxWeight)
		}
	}
	if _, err := shifteraws.CheckSplit(weights); err != nil {
		return err
	}
	if len(weights) > len(r.slots) {
		return fmt.Errorf("%w: %d target groups and %d listeners to hold them", shifteraws.ErrInvalidWeights, len(weights), len(r.slots))
	}
	return nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
