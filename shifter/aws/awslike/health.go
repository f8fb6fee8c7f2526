package awslike

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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// Target health as AWS reports it (ELBv2 API reference, TargetHealth:
// https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
// AWS health-checks a target group only while a listener's default action
// or one of its rules forwards to it (at any weight, 0 included); moto
// answers healthy at once for every registered target.
const (
	stateHealthy   = "healthy"
	stateUnused    = "unused"
	stateInitial   = "initial"
	stateUnhealthy = "unhealthy"
	stateDraining  = "draining"

	reasonNotRegistered = "Target.NotRegistered"
)

// How long AWS takes (in AWS time, before the time scale):
//   - initial checks last the health-check interval × the healthy threshold,
//     the consecutive passes that make a target healthy ("Health checks for
//     Application Load Balancer target groups",
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html).
//     That guide also says a newly registered target needs to pass a single
//     check; the threshold is the slower, safer reading, and TESTING.md's.
//   - a deregistered target drains for the group's deregistration_delay.timeout_seconds
//     ("Deregistration delay" in "Target groups for your Application Load Balancers",
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html).
//
// AWS's defaults for a target group (CreateTargetGroup, ELBv2 API
// reference), for the rare answer that lacks them.
const (
	defaultInterval  = 30 * time.Second
	defaultThreshold = 5
	defaultDrain     = 300 * time.Second
)

// elbState is what the layer knows of one account's load balancers in one
// region: which target groups are forwarded to, since when, and the
// targets it has seen. One mutex guards it, held across the reads from moto
// that update it, so reads apply in the order they were made.
type elbState struct {
	client    *elb.Client // straight to moto, as the account
	instances *ec2.Client // likewise, for when instances were launched

	// creating serialises CreateListener calls, from the check that the
	// port is free to moto's answer (refuseDuplicateListener).
	creating sync.Mutex

	mu     sync.Mutex
	synced bool
	// unsureUntil makes every call read everything afresh until then: a
	// change whose caller went away may still be landing in moto.
	unsureUntil time.Time
	// forwarders maps a listener ARN (its default action) or a rule ARN to
	// the target groups it forwards to.
	forwarders map[string][]string
	// refs counts, per target group, the forwarders of each load balancer
	// that forward to it: a group is in use while it has any.
	refs   map[string]map[string]int
	groups map[string]*group
}

type group struct {
	usedSince time.Time      // zero while nothing forwards to it
	settings  *groupSettings // nil until read
	targets   map[string]*target
}

type groupSettings struct {
	port    string
	initial time.Duration // interval × healthy threshold, in AWS time
}

type target struct {
	member healthMember // as moto last described it, or as registered
	// seen is when it was registered, as far as the layer knows: moto
	// registers Auto Scaling instances without an API call, so for those it
	// is when the layer first saw them in an answer.
	seen       time.Time
	drainUntil time.Time // set once deregistered
}

func (l *Layer) elbState(account, region string) *elbState {
	l.mu.Lock()
	defer l.mu.Unlock()
	key := accountRegion{account, region}
	s := l.elb[key]
	if s == nil {
		s = &elbState{
			client:     elb.NewFromConfig(l.motoConfig(account, region)),
			instances:  ec2.NewFromConfig(l.motoConfig(account, region)),
			forwarders: make(map[string][]string),
			refs:       make(map[string]map[string]int),
			groups:     make(map[string]*group),
		}
		l.elb[key] = s
	}
	return s
}

// afterELB follows a successful ELBv2 call and returns the answer to give.
// A read it cannot rewrite fails; a change it cannot follow does not (it
// took effect): the layer logs it and reads everything afresh next time.
func (l *Layer) afterELB(ctx context.Context, c *call, body []byte) ([]byte, error) {
	s := l.elbState(c.account, c.region)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := l.now()
	err := s.sync(ctx, now)
	switch {
	case err != nil && (c.operation == "DescribeTargetHealth" || c.operation == "DescribeTargetGroups"):
		return nil, err
	case err != nil:
		l.logger.Warn("cannot read the account's listeners", "account", c.account, "region", c.region, "error", err)
		return body, nil
	}
	switch c.operation {
	case "DescribeTargetHealth":
		return s.rewriteHealth(ctx, l, c, body, now)
	case "DescribeTargetGroups":
		return s.rewriteGroups(c, body)
	case "CreateListener":
		err = s.readListener(ctx, now, firstValue(body, "ListenerArn"))
	case "ModifyListener":
		err = s.readListener(ctx, now, c.form.Get("ListenerArn"))
	case "CreateRule":
		err = s.readRules(ctx, now, firstValue(body, "RuleArn"))
	case "ModifyRule":
		err = s.readRules(ctx, now, c.form.Get("RuleArn"))
	case "SetRulePriorities":
		err = s.readRules(ctx, now, members(c.form, "RulePriorities", "RuleArn")...)
	case "DeleteRule":
		s.forward(now, c.form.Get("RuleArn"), nil)
	case "DeleteListener":
		s.dropUnder(now, c.form.Get("ListenerArn"))
	case "DeleteLoadBalancer":
		s.dropUnder(now, c.form.Get("LoadBalancerArn"))
	case "RegisterTargets":
		err = s.registered(ctx, c, now)
	case "DeregisterTargets":
		err = s.deregistered(ctx, l, c, now)
	case "ModifyTargetGroup":
		s.group(c.form.Get("TargetGroupArn")).settings = nil
	case "DeleteTargetGroup":
		delete(s.groups, c.form.Get("TargetGroupArn"))
	}
	if err != nil {
		l.logger.Warn("cannot follow a change; will read the account afresh",
			"account", c.account, "region", c.region, "operation", c.operation, "error", err)
		s.synced = false
	}
	return body, nil
}

// sync reads every listener and rule of the account from moto the first
// time the layer needs them, so a layer started in front of existing
// resources knows what they forward to. From then on it follows changes.
func (s *elbState) sync(ctx context.Context, now time.Time) error {
	if s.synced && time.Now().After(s.unsureUntil) {
		return nil
	}
	found := make(map[string][]string)
	err := s.eachListener(ctx, func(li elbtypes.Listener, rules []elbtypes.Rule) {
		found[aws.ToString(li.ListenerArn)] = forwardedGroups(li.DefaultActions)
		for _, r := range rules {
			// The default rule is the listener's default action.
			if !aws.ToBool(r.IsDefault) {
				found[aws.ToString(r.RuleArn)] = forwardedGroups(r.Actions)
			}
		}
	})
	if err != nil {
		return err
	}
	for arn := range s.forwarders {
		if _, ok := found[arn]; !ok {
			s.forward(now, arn, nil)
		}
	}
	for arn, groups := range found {
		s.forward(now, arn, groups)
	}
	s.synced = true
	return nil
}

// eachListener calls fn with every listener of the account's load
// balancers and its rules, as moto has them.
func (s *elbState) eachListener(ctx context.Context, fn func(elbtypes.Listener, []elbtypes.Rule)) error {
	var lbs []elbtypes.LoadBalancer
	if err := eachPage(ctx, elb.NewDescribeLoadBalancersPaginator(s.client, &elb.DescribeLoadBalancersInput{}),
		func(page *elb.DescribeLoadBalancersOutput) { lbs = append(lbs, page.LoadBalancers...) }); err != nil {
		return fmt.Errorf("read load balancers: %w", err)
	}
	for _, lb := range lbs {
		var listeners []elbtypes.Listener
		if err := eachPage(ctx, elb.NewDescribeListenersPaginator(s.client, &elb.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn}),
			func(page *elb.DescribeListenersOutput) { listeners = append(listeners, page.Listeners...) }); err != nil {
			return fmt.Errorf("read listeners of %s: %w", aws.ToString(lb.LoadBalancerArn), err)
		}
		for _, li := range listeners {
			var rules []elbtypes.Rule
			if err := eachPage(ctx, elb.NewDescribeRulesPaginator(s.client, &elb.DescribeRulesInput{ListenerArn: li.ListenerArn}),
				func(page *elb.DescribeRulesOutput) { rules = append(rules, page.Rules...) }); err != nil {
				return fmt.Errorf("read rules of %s: %w", aws.ToString(li.ListenerArn), err)
			}
			fn(li, rules)
		}
	}
	return nil
}

// readListener re-reads what a listener's default action forwards to.
func (s *elbState) readListener(ctx context.Context, now time.Time, arn string) error {
	out, err := s.client.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn}})
	var nf *elbtypes.ListenerNotFoundException
	switch {
	case errors.As(err, &nf):
		s.dropUnder(now, arn)
	case err != nil:
		return fmt.Errorf("read listener %s: %w", arn, err)
	default:
		for _, li := range out.Listeners {
			s.forward(now, aws.ToString(li.ListenerArn), forwardedGroups(li.DefaultActions))
		}
	}
	return nil
}

// readRules re-reads what rules forward to.
func (s *elbState) readRules(ctx context.Context, now time.Time, arns ...string) error {
	if len(arns) == 0 {
		return nil
	}
	out, err := s.client.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: arns})
	if err != nil {
		return fmt.Errorf("read rules %v: %w", arns, err)
	}
	for _, r := range out.Rules {
		if !aws.ToBool(r.IsDefault) {
			s.forward(now, aws.ToString(r.RuleArn), forwardedGroups(r.Actions))
		}
	}
	return nil
}

// forwardedGroups returns the target groups actions forward to, at any
// weight.
func forwardedGroups(actions []elbtypes.Action) []string {
	var out []string
	for _, a := range actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if arn := aws.ToString(a.TargetGroupArn); arn != "" {
			out = append(out, arn)
		}
		if a.ForwardConfig != nil {
			for _, tg := range a.ForwardConfig.TargetGroups {
				out = append(out, aws.ToString(tg.TargetGroupArn))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// forward records that the listener or rule arn forwards to groups (none:
// it is gone) and when each group became used or unused. A group that stays
// forwarded to, by this forwarder or another, keeps its time.
func (s *elbState) forward(now time.Time, arn string, groups []string) {
	lb := loadBalancerOf(arn)
	old := s.forwarders[arn]
	wasUsed := make(map[string]bool)
	for _, g := range slices.Concat(old, groups) {
		wasUsed[g] = len(s.refs[g]) > 0
	}
	for _, g := range old {
		s.refs[g][lb]--
		if s.refs[g][lb] == 0 {
			delete(s.refs[g], lb)
		}
	}
	for _, g := range groups {
		if s.refs[g] == nil {
			s.refs[g] = make(map[string]int)
		}
		s.refs[g][lb]++
	}
	if len(groups) == 0 {
		delete(s.forwarders, arn)
	} else {
		s.forwarders[arn] = groups
	}
	for g, was := range wasUsed {
		switch used := len(s.refs[g]) > 0; {
		case used && !was:
			s.group(g).usedSince = now
		case !used && was:
			s.group(g).usedSince = time.Time{}
			delete(s.refs, g)
		}
	}
}

// dropUnder forgets every listener and rule under a load balancer or
// listener ARN: AWS deletes them with it.
func (s *elbState) dropUnder(now time.Time, arn string) {
	prefix := resourcePath(arn)
	for f := range s.forwarders {
		if p := resourcePath(f); p == prefix || strings.HasPrefix(p, prefix+"/") {
			s.forward(now, f, nil)
		}
	}
}

func (s *elbState) group(arn string) *group {
	g := s.groups[arn]
	if g == nil {
		g = &group{targets: make(map[string]*target)}
		s.groups[arn] = g
	}
	return g
}

// groupSettings returns a group's health-check timing and port, read from
// moto once.
func (s *elbState) groupSettings(ctx context.Context, arn string) (*groupSettings, error) {
	g := s.group(arn)
	if g.settings != nil {
		return g.settings, nil
	}
	out, err := s.client.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{arn}})
	if err != nil {
		return nil, fmt.Errorf("read target group %s: %w", arn, err)
	}
	if len(out.TargetGroups) != 1 {
		return nil, fmt.Errorf("read target group %s: %d answers", arn, len(out.TargetGroups))
	}
	tg := out.TargetGroups[0]
	g.settings = newGroupSettings(strconv.Itoa(int(aws.ToInt32(tg.Port))), aws.ToInt32(tg.HealthCheckIntervalSeconds), aws.ToInt32(tg.HealthyThresholdCount))
	return g.settings, nil
}

func newGroupSettings(port string, intervalSeconds, threshold int32) *groupSettings {
	interval := time.Duration(intervalSeconds) * time.Second
	if interval <= 0 {
		interval = defaultInterval
	}
	if threshold <= 0 {
		threshold = defaultThreshold
	}
	return &groupSettings{port: port, initial: interval * time.Duration(threshold)}
}

// requestTargets returns the targets a Query request names
// (Targets.member.N.Id and .Port), the port defaulting to the group's.
func requestTargets(c *call, defaultPort string) []targetXML {
	var out []targetXML
	for i := 1; ; i++ {
		prefix := "Targets.member." + strconv.Itoa(i) + "."
		id := c.form.Get(prefix + "Id")
		if id == "" {
			return out
		}
		t := targetXML{ID: id, Port: c.form.Get(prefix + "Port"), AvailabilityZone: c.form.Get(prefix + "AvailabilityZone")}
		if t.Port == "" {
			t.Port = defaultPort
		}
		out = append(out, t)
	}
}

func (t targetXML) key() string { return t.ID + ":" + t.Port }

// registered starts a registered target's initial health checks afresh.
func (s *elbState) registered(ctx context.Context, c *call, now time.Time) error {
	arn := c.form.Get("TargetGroupArn")
	settings, err := s.groupSettings(ctx, arn)
	if err != nil {
		return err
	}
	s.register(arn, requestTargets(c, settings.port), now)
	return nil
}

// register starts targets' initial health checks afresh.
func (s *elbState) register(arn string, targets []targetXML, now time.Time) {
	g := s.group(arn)
	for _, t := range targets {
		g.targets[t.key()] = &target{member: healthMember{Target: t}, seen: now}
	}
}

// deregistered keeps deregistered targets listed as draining.
func (s *elbState) deregistered(ctx context.Context, l *Layer, c *call, now time.Time) error {
	arn := c.form.Get("TargetGroupArn")
	settings, err := s.groupSettings(ctx, arn)
	if err != nil {
		return err
	}
	_, err = s.deregister(ctx, l, arn, requestTargets(c, settings.port), now)
	return err
}

// deregister keeps targets listed as draining for the group's
// deregistration delay (attribute deregistration_delay.timeout_seconds),
// which it returns, in wall-clock time.
func (s *elbState) deregister(ctx context.Context, l *Layer, arn string, targets []targetXML, now time.Time) (time.Duration, error) {
	attrs, err := s.client.DescribeTargetGroupAttributes(ctx, &elb.DescribeTargetGroupAttributesInput{TargetGroupArn: &arn})
	if err != nil {
		return 0, fmt.Errorf("read attributes of %s: %w", arn, err)
	}
	delay := defaultDrain
	for _, a := range attrs.Attributes {
		if aws.ToString(a.Key) == "deregistration_delay.timeout_seconds" {
			if secs, err := strconv.Atoi(aws.ToString(a.Value)); err == nil {
				delay = time.Duration(secs) * time.Second
			}
		}
	}
	g := s.group(arn)
	for _, t := range targets {
		known := g.targets[t.key()]
		if known == nil {
			known = &target{member: healthMember{Target: t}, seen: now}
			g.targets[t.key()] = known
		}
		known.drainUntil = now.Add(l.scaled(delay))
	}
	return l.scaled(delay), nil
}

// rewriteHealth turns moto's DescribeTargetHealth answer into AWS's.
func (s *elbState) rewriteHealth(ctx context.Context, l *Layer, c *call, body []byte, now time.Time) ([]byte, error) {
	arn := c.form.Get("TargetGroupArn")
	settings, err := s.groupSettings(ctx, arn)
	if err != nil {
		return nil, err
	}
	g := s.group(arn)
	asked := requestTargets(c, "")
	var list healthList
	out, _, err := rewriteElement(body, "TargetHealthDescriptions", &list, func() error {
		listed := make(map[string]bool)
		var members []healthMember
		for _, m := range list.Members {
			key := m.Target.key()
			listed[key] = true
			t := g.targets[key]
			if m.TargetHealth.Reason == reasonNotRegistered {
				// moto forgets a deregistered target at once.
				if t != nil && now.Before(t.drainUntil) {
					m = t.draining()
				}
				members = append(members, m)
				continue
			}
			if t == nil || !t.drainUntil.IsZero() {
				// New to the layer, or registered again where it
				// cannot see (moto's Auto Scaling).
				t = &target{seen: s.registeredAt(ctx, m.Target.ID, now)}
				g.targets[key] = t
			}
			t.member = m
			members = append(members, g.health(m, t, now, l.scaled(settings.initial), l.isUnhealthy(arn, m.Target.ID)))
		}
		for _, key := range slices.Sorted(maps.Keys(g.targets)) {
			t := g.targets[key]
			switch {
			case listed[key]:
			case now.Before(t.drainUntil) && (len(asked) == 0 || slices.ContainsFunc(asked, t.member.Target.sameAs)):
				members = append(members, t.draining())
			case len(asked) == 0:
				delete(g.targets, key) // gone: registering it again starts afresh
			}
		}
		list.Members = members
		return nil
	})
	return out, err
}

// registeredAt is when a target the layer sees for the first time was
// registered, as well as it can tell: Auto Scaling registers an instance
// when it launches it, inside moto where no call passes the layer, so for an
// instance it is its launch time; for anything else, now.
func (s *elbState) registeredAt(ctx context.Context, id string, now time.Time) time.Time {
	if !strings.HasPrefix(id, "i-") {
		return now
	}
	out, err := s.instances.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 || len(out.Reservations[0].Instances) == 0 {
		return now
	}
	if launched := aws.ToTime(out.Reservations[0].Instances[0].LaunchTime); launched.Before(now) {
		return launched
	}
	return now
}

// sameAs says whether a target named in a request (its port optional) is t.
func (t targetXML) sameAs(asked targetXML) bool {
	return t.ID == asked.ID && (asked.Port == "" || asked.Port == t.Port)
}

// health is what AWS would say of a target moto calls m. Of the two initial
// reasons (TargetHealth), Elb.RegistrationInProgress is a target registered
// while its group was in use, Elb.InitialHealthChecking the targets of a
// group that has just come into use.
func (g *group) health(m healthMember, t *target, now time.Time, initial time.Duration, unhealthy bool) healthMember {
	since := g.usedSince
	if t.seen.After(since) {
		since = t.seen
	}
	switch {
	case g.usedSince.IsZero():
		m.TargetHealth = targetHealth{State: stateUnused, Reason: "Target.NotInUse",
			Description: "Target group is not configured to receive traffic from the load balancer"}
	case m.TargetHealth.State != stateHealthy:
		// moto's own verdicts (a stopped instance) stand.
	case now.Before(since.Add(initial)) && t.seen.After(g.usedSince):
		m.TargetHealth = targetHealth{State: stateInitial, Reason: "Elb.RegistrationInProgress",
			Description: "Target registration is in progress"}
	case now.Before(since.Add(initial)):
		m.TargetHealth = targetHealth{State: stateInitial, Reason: "Elb.InitialHealthChecking",
			Description: "Initial health checks in progress"}
	case unhealthy:
		m.TargetHealth = targetHealth{State: stateUnhealthy, Reason: "Target.FailedHealthChecks",
			Description: "Health checks failed"}
	}
	return m
}

func (t *target) draining() healthMember {
	m := t.member
	m.TargetHealth = targetHealth{State: stateDraining, Reason: "Target.DeregistrationInProgress",
		Description: "Target deregistration is in progress"}
	return m
}

// rewriteGroups corrects DescribeTargetGroups' LoadBalancerArns: AWS lists
// the load balancers that forward to a group now; moto keeps every one
// that ever did. It also keeps the groups' health-check settings.
func (s *elbState) rewriteGroups(c *call, body []byte) ([]byte, error) {
	onlyLB := c.form.Get("LoadBalancerArn")
	var list groupList
	out, _, err := rewriteElement(body, "TargetGroups", &list, func() error {
		var keep []groupMember
		for _, m := range list.Members {
			m.LoadBalancerArns = slices.Sorted(maps.Keys(s.refs[m.TargetGroupArn]))
			if onlyLB != "" && !slices.Contains(m.LoadBalancerArns, onlyLB) {
				continue
			}
			interval, _ := strconv.Atoi(m.HealthCheckIntervalSeconds)
			threshold, _ := strconv.Atoi(m.HealthyThresholdCount)
			s.group(m.TargetGroupArn).settings = newGroupSettings(m.Port, int32(interval), int32(threshold))
			keep = append(keep, m)
		}
		list.Members = keep
		return nil
	})
	return out, err
}

// SetUnhealthy makes targets of a target group fail their health checks
// once past their initial checks: the targets with the IDs given, or every
// target of the group when none is given.
func (l *Layer) SetUnhealthy(targetGroupARN string, targetIDs ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.unhealthy[targetGroupARN]
	if ids == nil {
		ids = make(map[string]bool)
		l.unhealthy[targetGroupARN] = ids
	}
	if len(targetIDs) == 0 {
		targetIDs = []string{""}
	}
	for _, id := range targetIDs {
		ids[id] = true
	}
}

// SetHealthy undoes SetUnhealthy: for the targets given, or for the whole
// group (and every target of it named before) when none is given.
func (l *Layer) SetHealthy(targetGroupARN string, targetIDs ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(targetIDs) == 0 {
		delete(l.unhealthy, targetGroupARN)
		return
	}
	for _, id := range targetIDs {
		delete(l.unhealthy[targetGroupARN], id)
	}
}

func (l *Layer) isUnhealthy(groupARN, targetID string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.unhealthy[groupARN]
	return ids[""] || ids[targetID]
}

// resourcePath is an ELBv2 ARN's resource without its type:
// "app/NAME/LB-ID" for a load balancer, ".../LISTENER-ID" for a listener,
// ".../RULE-ID" for a rule, in the account and region of the ARN.
func resourcePath(arn string) string {
	i := strings.LastIndexByte(arn, ':')
	resource := arn[i+1:]
	account := arn[:i]
	_, path, _ := strings.Cut(resource, "/")
	return account + ":" + path
}

// loadBalancerOf returns the load balancer ARN a listener or rule ARN
// belongs to (ELBv2 ARN formats: loadbalancer/app/NAME/ID,
// listener/app/NAME/ID/LISTENER, listener-rule/app/NAME/ID/LISTENER/RULE).
func loadBalancerOf(arn string) string {
	i := strings.LastIndexByte(arn, ':')
	parts := strings.SplitN(arn[i+1:], "/", 5)
	if len(parts) < 4 {
		return arn
	}
	return arn[:i+1] + "loadbalancer/" + strings.Join(parts[1:4], "/")
}
