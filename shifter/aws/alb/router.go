// Package alb is the router of Application Load Balancer listener rules: per
// endpoint and track, one rule whose forward action splits requests between
// the target groups of the endpoint's environments by weight.
//
// ALB health-checks a target group only while a rule or a listener's default
// action forwards to it (weight 0 counts); the targets of any other group are
// "unused". So every environment that may get traffic stays on its route at
// weight 0 while it carries none (DESIGN invariant 8). A forward action takes
// at most 5 target groups: those that do not fit go to the route's standby
// rule, whose condition no request can match, and which also holds the
// environments of a route that carries no traffic yet (a first release being
// gated) — a rule of the route itself would take its requests and answer 503.
//
// The router only writes; reads of whole listeners, shared by every endpoint
// on them, show what was written (the reconciler verifies a step that way).
package alb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// ELB is the part of ELBv2 the router uses.
type ELB interface {
	DescribeRules(context.Context, *elb.DescribeRulesInput, ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
	CreateRule(context.Context, *elb.CreateRuleInput, ...func(*elb.Options)) (*elb.CreateRuleOutput, error)
	ModifyRule(context.Context, *elb.ModifyRuleInput, ...func(*elb.Options)) (*elb.ModifyRuleOutput, error)
	DeleteRule(context.Context, *elb.DeleteRuleInput, ...func(*elb.Options)) (*elb.DeleteRuleOutput, error)
	DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
}

var _ reconcile.Router = (*Router)(nil)

// ErrInvalidWeights is returned, wrapped, for weights that are not a split
// of 100% (or all 0) over target groups a route can hold.
var ErrInvalidWeights = shifteraws.ErrInvalidWeights

// ForeignRuleError says the listener has a rule at the route's priority that
// this shifter did not create for that route. The router never changes it.
type ForeignRuleError = shifteraws.ForeignError

// maxTargetGroups is how many target groups ALB allows in a forward action.
const maxTargetGroups = rollout.MaxTargetGroupsPerRule

// maxPriority is the highest rule priority ALB allows; standby rules take
// the highest free ones, below every rule people set.
const maxPriority = 50000

// Router writes and reads the rules of routes. It is safe for concurrent
// use.
type Router struct {
	elb       ELB
	shifterID string
	logger    hclog.Logger

	mu sync.Mutex
	// tags are the rules' tags as read (or written), by rule ARN: whose a
	// rule is does not change.
	tags map[string]map[string]string
	// listeners are shared reads of whole listeners; written is when the
	// router last wrote each route's rules, so that it reads them back from
	// a read that began after.
	listeners map[string]*shifteraws.Snapshot[[]elbtypes.Rule]
	written   map[string]time.Time
	// creating serialises the creation of standby rules per listener, so
	// that two routes never pick the same free priority; tagging the reads
	// of rules' tags per listener, so that one read serves many.
	creating, tagging map[string]*sync.Mutex
}

// New returns a router of the rules in the account elb reaches, tagged as
// shifterID's.
func New(elb ELB, shifterID string, logger hclog.Logger) *Router {
	return &Router{
		elb:       elb,
		shifterID: shifterID,
		logger:    logger,
		tags:      map[string]map[string]string{},
		listeners: map[string]*shifteraws.Snapshot[[]elbtypes.Rule]{},
		written:   map[string]time.Time{},
		creating:  map[string]*sync.Mutex{},
		tagging:   map[string]*sync.Mutex{},
	}
}

// route is where a track of an endpoint receives its traffic: a rule at a
// priority on a listener, matching hosts and paths.
type route struct {
	endpoint string
	track    rollout.Track
	listener string
	priority int
	hosts    []string
	paths    []string
}

func (r route) String() string {
	return fmt.Sprintf("%s/%s (priority %d)", r.endpoint, r.track, r.priority)
}

// key identifies a route among all the router knows.
func (r route) key() string { return r.String() + "@" + r.listener }

// standbyHost is the host condition of a route's standby rule: under
// ".invalid", which RFC 2606 keeps from ever resolving, and naming the route.
func (r route) standbyHost() string {
	return string(r.track) + "." + r.endpoint + ".standby.ionroller.invalid"
}

// routeOf returns the route of a track (rollout.Traffic.Rule).
func routeOf(ep rollout.Endpoint, track rollout.Track) route {
	r := ep.Traffic.Rule(track)
	return route{endpoint: ep.Name, track: track, listener: r.Listener, priority: r.Priority, hosts: r.Hosts, paths: r.Paths}
}

// rules are the two rules of a route as read: its own and its standby rule,
// nil where there is none.
type rules struct {
	main, standby *elbtypes.Rule
}

// SetWeights makes the route forward by weights (target group ARN → share;
// 0 keeps a target group attached without traffic). It creates the rules it
// needs, writes the rule that gains target groups before the one that loses
// them, so that none goes unattached in between, and writes only what
// changes: a move of traffic between target groups on the route's own rule
// is one ModifyRule.
func (r *Router) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	rt := routeOf(ep, track)
	if err := validate(weights); err != nil {
		return fmt.Errorf("route %s: %w", rt, err)
	}
	err := r.set(ctx, rt, weights, time.Time{})
	if isCode(err, "RuleNotFound") {
		// Deleted behind the router's back since the listener was read.
		err = r.set(ctx, rt, weights, time.Now())
	}
	return err
}

// set writes weights over the rules as a read that began at or after since
// shows them.
func (r *Router) set(ctx context.Context, rt route, weights map[string]int, since time.Time) error {
	cur, err := r.read(ctx, rt, since)
	if err != nil {
		return err
	}
	main, standby := place(weights, forwardOf(cur.main))

	var written []string
	modify := func(rule *elbtypes.Rule, want map[string]int, main bool) error {
		written = append(written, "modify "+kindOf(main))
		return r.modify(ctx, rt, aws.ToString(rule.RuleArn), want, main)
	}
	// 1. The standby rule gains its new target groups first, keeping
	// those that leave it for the route's own rule until that has them.
	keep := maps.Clone(standby)
	for arn := range forwardOf(cur.standby) {
		if _, ok := weights[arn]; ok {
			keep[arn] = 0
		}
	}
	if len(standby) > 0 {
		switch {
		case cur.standby == nil:
			written = append(written, "create standby")
			if err := r.createStandby(ctx, rt, keep); err != nil {
				return err
			}
		case !sameTargets(forwardOf(cur.standby), keep):
			if err := modify(cur.standby, keep, false); err != nil {
				return err
			}
		}
	}
	// 2. The route's own rule: the weights, and its conditions.
	switch {
	case len(main) == 0 && cur.main != nil:
		written = append(written, "delete main")
		if err := r.deleteRule(ctx, rt, aws.ToString(cur.main.RuleArn)); err != nil {
			return err
		}
	case len(main) == 0:
	case cur.main == nil:
		written = append(written, "create main")
		if err := r.create(ctx, rt, rt.priority, main, conditions(rt), ""); err != nil {
			return err
		}
	case !maps.Equal(forwardOf(cur.main), main) || !sameConditions(cur.main, rt):
		if err := modify(cur.main, main, true); err != nil {
			return err
		}
	}
	// 3. The standby rule lets go of what the route's own rule now has.
	if cur.standby != nil {
		switch {
		case len(standby) == 0:
			written = append(written, "delete standby")
			if err := r.deleteRule(ctx, rt, aws.ToString(cur.standby.RuleArn)); err != nil {
				return err
			}
		case !sameTargets(keep, standby):
			if err := modify(cur.standby, standby, false); err != nil {
				return err
			}
		}
	}
	r.logger.Info("weights set", "endpoint", rt.endpoint, "track", rt.track, "priority", rt.priority,
		"weights", weights, "writes", written)
	return nil
}

// place splits a route's weights between its own rule and its standby rule:
// the route's rule takes every target group with traffic and as many of the
// others as fit, those it has already first; the standby rule the rest. A
// route without traffic has no rule of its own.
func place(weights, current map[string]int) (main, standby map[string]int) {
	main, standby = map[string]int{}, map[string]int{}
	var zeros []string
	for arn, w := range weights {
		if w > 0 {
			main[arn] = w
		} else {
			zeros = append(zeros, arn)
		}
	}
	if len(main) == 0 {
		for _, arn := range zeros {
			standby[arn] = 0
		}
		return nil, standby
	}
	slices.SortFunc(zeros, func(a, b string) int {
		_, inA := current[a]
		_, inB := current[b]
		if inA != inB {
			if inA {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	for _, arn := range zeros {
		if len(main) < maxTargetGroups {
			main[arn] = 0
		} else {
			standby[arn] = 0
		}
	}
	return main, standby
}

// Weights reads the route's rules, as a read of their listener that began at
// or after since shows them: whether the route's own rule exists, and the
// weights of both by target group ARN, 0 for the attached ones. A forward to
// a single target group without weights counts as 100.
func (r *Router) Weights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, since time.Time) (reconcile.Route, error) {
	rt := routeOf(ep, track)
	rs, err := r.read(ctx, rt, since)
	if err != nil {
		return reconcile.Route{}, err
	}
	out := reconcile.Route{Exists: rs.main != nil, Weights: forwardOf(rs.main)}
	for arn := range forwardOf(rs.standby) {
		if _, ok := out.Weights[arn]; !ok {
			out.Weights[arn] = 0
		}
	}
	return out, nil
}

// Delete deletes the route's rules, if they exist: none do once their
// listener is gone.
func (r *Router) Delete(ctx context.Context, ep rollout.Endpoint, track rollout.Track) error {
	rt := routeOf(ep, track)
	rs, err := r.read(ctx, rt, time.Time{})
	if errors.Is(err, reconcile.ErrTrafficMissing) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, rule := range []*elbtypes.Rule{rs.standby, rs.main} {
		if rule != nil {
			if err := r.deleteRule(ctx, rt, aws.ToString(rule.RuleArn)); err != nil {
				return err
			}
		}
	}
	return nil
}

// read finds the route's rules in a read of its listener that began at or
// after since, and checks that they are this shifter's.
func (r *Router) read(ctx context.Context, rt route, since time.Time) (rules, error) {
	r.mu.Lock()
	if w := r.written[rt.key()]; w.After(since) {
		since = w
	}
	r.mu.Unlock()
	all, err := r.listener(rt.listener).Get(ctx, since, func(ctx context.Context) ([]elbtypes.Rule, error) {
		return r.listRules(ctx, rt.listener)
	})
	if isCode(err, "ListenerNotFound") || isCode(err, "LoadBalancerNotFound") {
		return rules{}, fmt.Errorf("route %s: listener %s does not exist: %w", rt, rt.listener, reconcile.ErrTrafficMissing)
	}
	if err != nil {
		return rules{}, fmt.Errorf("route %s: %w", rt, err)
	}
	var rs rules
	priority, standbyHost := strconv.Itoa(rt.priority), rt.standbyHost()
	for i := range all {
		rule := &all[i]
		switch {
		case aws.ToString(rule.Priority) == priority:
			rs.main = rule
		case slices.Contains(hostsOf(*rule), standbyHost):
			rs.standby = rule
		}
	}
	for _, rule := range []*elbtypes.Rule{rs.main, rs.standby} {
		if rule != nil {
			if err := r.checkOwner(ctx, rt, aws.ToString(rule.RuleArn), all); err != nil {
				return rules{}, err
			}
		}
	}
	return rs, nil
}

// checkOwner makes sure a rule found for a route is this shifter's rule of
// that route.
func (r *Router) checkOwner(ctx context.Context, rt route, arn string, listener []elbtypes.Rule) error {
	tags, err := r.tagsOf(ctx, rt.listener, arn, listener)
	if err != nil {
		return fmt.Errorf("route %s: %w", rt, err)
	}
	return shifteraws.CheckOwner(rt.String()+" on listener "+rt.listener, "rule "+arn+" at that priority", tags,
		map[string]string{shifteraws.TagShifter: r.shifterID, shifteraws.TagEndpoint: rt.endpoint, shifteraws.TagTrack: string(rt.track)})
}

// maxTagARNs is how many resources DescribeTags takes in one call.
const maxTagARNs = 20

// tagsOf returns a rule's tags, reading them the first time along with those
// of other rules of its listener not read yet, 20 a call: a shifter that
// starts with a thousand routes reads their tags in fifty calls, not a
// thousand.
func (r *Router) tagsOf(ctx context.Context, listener, arn string, rules []elbtypes.Rule) (map[string]string, error) {
	r.mu.Lock()
	lock := r.tagging[listener]
	if lock == nil {
		lock = &sync.Mutex{}
		r.tagging[listener] = lock
	}
	r.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	r.mu.Lock()
	tags, known := r.tags[arn]
	batch := []string{arn}
	for _, rule := range rules {
		other := aws.ToString(rule.RuleArn)
		if _, seen := r.tags[other]; !seen && other != arn && !aws.ToBool(rule.IsDefault) && len(batch) < maxTagARNs {
			batch = append(batch, other)
		}
	}
	r.mu.Unlock()
	if known {
		return tags, nil
	}
	out, err := r.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: batch})
	if err != nil {
		return nil, fmt.Errorf("describe tags of rule %s: %w", arn, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, other := range batch {
		r.tags[other] = map[string]string{}
	}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			r.tags[aws.ToString(d.ResourceArn)][aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return r.tags[arn], nil
}

// wrote records a write to a route's rules, whether or not it answered
// success: a write whose answer was lost or timed out may have happened, so
// the route's next read must begin after it.
func (r *Router) wrote(rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written[rt.key()] = time.Now()
}

func (r *Router) listener(arn string) *shifteraws.Snapshot[[]elbtypes.Rule] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listeners[arn] == nil {
		r.listeners[arn] = &shifteraws.Snapshot[[]elbtypes.Rule]{}
	}
	return r.listeners[arn]
}

// listRules reads every rule of a listener, 400 to a page (ALB allows 100
// rules a load balancer by default, so one page as a rule).
func (r *Router) listRules(ctx context.Context, listenerARN string) ([]elbtypes.Rule, error) {
	var all []elbtypes.Rule
	p := elb.NewDescribeRulesPaginator(r.elb, &elb.DescribeRulesInput{ListenerArn: aws.String(listenerARN), PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe rules of listener %s: %w", listenerARN, err)
		}
		all = append(all, page.Rules...)
	}
	return all, nil
}

func (r *Router) create(ctx context.Context, rt route, priority int, weights map[string]int, conds []elbtypes.RuleCondition, role string) error {
	tags := []elbtypes.Tag{
		{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(rt.endpoint)},
		{Key: aws.String(shifteraws.TagTrack), Value: aws.String(string(rt.track))},
		{Key: aws.String(shifteraws.TagShifter), Value: aws.String(r.shifterID)},
	}
	if role != "" {
		tags = append(tags, elbtypes.Tag{Key: aws.String(shifteraws.TagRole), Value: aws.String(role)})
	}
	out, err := r.elb.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(rt.listener),
		Priority:    aws.Int32(int32(priority)),
		Conditions:  conds,
		Actions:     forward(weights, role != ""),
		Tags:        tags,
	})
	r.wrote(rt)
	if err != nil {
		return fmt.Errorf("route %s: create rule at priority %d on listener %s: %w", rt, priority, rt.listener, err)
	}
	if len(out.Rules) > 0 {
		r.mu.Lock()
		r.tags[aws.ToString(out.Rules[0].RuleArn)] = tagMap(tags)
		r.mu.Unlock()
	}
	r.logger.Info("rule created", "endpoint", rt.endpoint, "track", rt.track, "priority", priority, "role", cmp.Or(role, "route"))
	return nil
}

// createStandby creates the route's standby rule at the highest priority
// free on the listener, trying the next one when another caller took it.
func (r *Router) createStandby(ctx context.Context, rt route, weights map[string]int) error {
	r.mu.Lock()
	lock := r.creating[rt.listener]
	if lock == nil {
		lock = &sync.Mutex{}
		r.creating[rt.listener] = lock
	}
	r.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	for range 5 {
		all, err := r.listener(rt.listener).Get(ctx, time.Now(), func(ctx context.Context) ([]elbtypes.Rule, error) {
			return r.listRules(ctx, rt.listener)
		})
		if err != nil {
			return fmt.Errorf("route %s: %w", rt, err)
		}
		used := map[string]bool{}
		for _, rule := range all {
			used[aws.ToString(rule.Priority)] = true
		}
		priority := maxPriority
		for used[strconv.Itoa(priority)] {
			priority--
		}
		err = r.create(ctx, rt, priority, weights, standbyConditions(rt), roleStandby)
		if !isCode(err, "PriorityInUse") {
			return err
		}
	}
	return fmt.Errorf("route %s: no free priority for a standby rule on listener %s", rt, rt.listener)
}

// roleStandby tags a standby rule.
const roleStandby = "standby"

// modify writes a rule's weights, and the route's conditions on its own rule
// in the same call, so a change of hosts or paths costs nothing extra.
func (r *Router) modify(ctx context.Context, rt route, arn string, weights map[string]int, main bool) error {
	in := &elb.ModifyRuleInput{RuleArn: aws.String(arn), Actions: forward(weights, !main)}
	if main {
		in.Conditions = conditions(rt)
	}
	_, err := r.elb.ModifyRule(ctx, in)
	r.wrote(rt)
	if err != nil {
		return fmt.Errorf("route %s: modify rule %s: %w", rt, arn, err)
	}
	return nil
}

func (r *Router) deleteRule(ctx context.Context, rt route, arn string) error {
	_, err := r.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(arn)})
	r.wrote(rt)
	if err != nil && !isCode(err, "RuleNotFound") {
		return fmt.Errorf("route %s: delete rule %s: %w", rt, arn, err)
	}
	r.logger.Info("rule deleted", "endpoint", rt.endpoint, "track", rt.track, "rule", arn)
	return nil
}

// validate checks that weights split 100% over target groups, or are all 0
// (a route without traffic yet), and fit a route's two rules; moto would
// store anything, and ALB accepts weights up to 999.
func validate(weights map[string]int) error {
	positive, err := shifteraws.CheckSplit(weights)
	switch {
	case err != nil:
		return err
	case positive > maxTargetGroups:
		return fmt.Errorf("%w: %d target groups have traffic; a rule forwards to at most %d", ErrInvalidWeights, positive, maxTargetGroups)
	case len(weights) > 2*maxTargetGroups:
		return fmt.Errorf("%w: %d target groups on one route; its two rules hold at most %d", ErrInvalidWeights, len(weights), 2*maxTargetGroups)
	}
	return nil
}

func conditions(rt route) []elbtypes.RuleCondition {
	var cs []elbtypes.RuleCondition
	if len(rt.hosts) > 0 {
		cs = append(cs, elbtypes.RuleCondition{
			Field:            aws.String("host-header"),
			HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: rt.hosts},
		})
	}
	paths := rt.paths
	if len(paths) == 0 && len(rt.hosts) == 0 {
		paths = []string{"/*"}
	}
	if len(paths) > 0 {
		cs = append(cs, elbtypes.RuleCondition{
			Field:             aws.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: paths},
		})
	}
	return cs
}

// standbyConditions match no request: a host that never resolves, from a
// source address no TCP client has.
func standbyConditions(rt route) []elbtypes.RuleCondition {
	return []elbtypes.RuleCondition{
		{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{rt.standbyHost()}}},
		{Field: aws.String("source-ip"), SourceIpConfig: &elbtypes.SourceIpConditionConfig{Values: []string{"255.255.255.255/32"}}},
	}
}

// sameConditions reports whether a route's own rule matches what the route
// says (hosts and paths), so that a changed spec is written.
func sameConditions(rule *elbtypes.Rule, rt route) bool {
	want := conditions(rt)
	var hosts, paths []string
	for _, c := range want {
		if c.HostHeaderConfig != nil {
			hosts = c.HostHeaderConfig.Values
		}
		if c.PathPatternConfig != nil {
			paths = c.PathPatternConfig.Values
		}
	}
	return slices.Equal(sorted(hostsOf(*rule)), sorted(hosts)) && slices.Equal(sorted(pathsOf(*rule)), sorted(paths))
}

// forward is a forward action by weights. The standby rule's weights carry
// nothing (its condition matches no request), so each of its target groups
// gets 1: the action is then valid whether or not ALB accepts a forward whose
// weights are all 0.
func forward(weights map[string]int, standby bool) []elbtypes.Action {
	if standby {
		ones := make(map[string]int, len(weights))
		for arn := range weights {
			ones[arn] = 1
		}
		weights = ones
	}
	return shifteraws.Forward(weights)
}

// forwardOf returns the weights of a rule's forward action by target group
// ARN; empty for no rule or one that does not forward.
func forwardOf(rule *elbtypes.Rule) map[string]int {
	if rule == nil {
		return map[string]int{}
	}
	return shifteraws.ForwardWeights(rule.Actions)
}

func hostsOf(rule elbtypes.Rule) []string {
	var out []string
	for _, c := range rule.Conditions {
		if c.HostHeaderConfig != nil {
			out = append(out, c.HostHeaderConfig.Values...)
		} else if aws.ToString(c.Field) == "host-header" {
			out = append(out, c.Values...)
		}
	}
	return out
}

func pathsOf(rule elbtypes.Rule) []string {
	var out []string
	for _, c := range rule.Conditions {
		if c.PathPatternConfig != nil {
			out = append(out, c.PathPatternConfig.Values...)
		} else if aws.ToString(c.Field) == "path-pattern" {
			out = append(out, c.Values...)
		}
	}
	return out
}

func tagMap(tags []elbtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// sameTargets reports whether two forwards name the same target groups,
// whatever their weights: a standby rule's weights carry nothing.
func sameTargets(a, b map[string]int) bool {
	return slices.Equal(slices.Sorted(maps.Keys(a)), slices.Sorted(maps.Keys(b)))
}

func kindOf(main bool) string {
	if main {
		return "main"
	}
	return "standby"
}

// isCode reports whether err is an AWS API error with code.
func isCode(err error, code string) bool { return shifteraws.IsCode(err, code) }
