// Package alb is the traffic router: one listener rule per endpoint and track,
// whose forward action splits requests between the target groups of the
// endpoint's environments by weight. It follows argo-rollouts' contract for
// traffic routers: set the weights, then verify them by reading the rule back.
package alb

import (
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
	"github.com/aws/smithy-go"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
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

// Route is where a track of an endpoint receives its traffic: a rule at a
// priority on a listener, matching hosts and paths. A route is identified by
// its listener and priority; moving it means deleting it and setting the
// weights of the new one.
type Route struct {
	ListenerARN string
	Priority    int
	// Hosts and Paths are the rule's host-header and path-pattern
	// values; with neither, the rule matches every path.
	Hosts    []string
	Paths    []string
	Endpoint string
	Track    rollout.Track
}

func (r Route) String() string {
	return fmt.Sprintf("%s/%s (priority %d)", r.Endpoint, r.Track, r.Priority)
}

// Result is the outcome of SetWeights.
type Result struct {
	RuleARN string
	// Weights are as read back from the rule, by target group ARN.
	Weights map[string]int
	// Writes is the number of ELBv2 writes made: 1 but when the rule was
	// deleted behind the router's back since it was cached.
	Writes int
}

// ErrInvalidWeights is returned, wrapped, for weights that are not a split
// of 100% over at most maxTargetGroups target groups.
var ErrInvalidWeights = errors.New("invalid weights")

// ForeignRuleError says the listener has a rule at the route's priority that
// this shifter did not create for that route. The router never changes it.
type ForeignRuleError struct {
	Route   Route
	RuleARN string
	// Owner describes the rule's ionroller tags, empty if it has none.
	Owner string
}

func (e *ForeignRuleError) Error() string {
	owner := "is not ionroller's"
	if e.Owner != "" {
		owner = "belongs to " + e.Owner
	}
	return fmt.Sprintf("route %s: rule %s at that priority on listener %s %s", e.Route, e.RuleARN, e.Route.ListenerARN, owner)
}

// VerifyError says a rule still did not carry the weights just written after
// every read-back; the write may have been overtaken by another.
type VerifyError struct {
	RuleARN   string
	Want, Got map[string]int
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("verify weights of rule %s: want %v, read %v", e.RuleARN, e.Want, e.Got)
}

// maxTargetGroups is how many target groups ALB allows in a forward action.
const maxTargetGroups = 5

// Verification defaults: 4 reads, waiting 100ms, 200ms, 400ms in between.
const (
	defaultVerifyAttempts = 4
	verifyBackoff         = 100 * time.Millisecond
	maxVerifyBackoff      = time.Second
)

// Router writes and reads the rules of routes. It remembers the ARN of each
// rule it found or created, so that setting weights costs exactly one write
// and one read. It is safe for concurrent use on different routes.
type Router struct {
	elb       ELB
	shifterID string
	logger    hclog.Logger

	sleep          func(context.Context, time.Duration) error
	verifyAttempts int

	mu    sync.Mutex
	rules map[routeKey]string // rule ARN
	// listeners are shared reads of whole listeners, for WeightsIdle.
	listeners map[string]*shifteraws.Snapshot[[]elbtypes.Rule]
}

type routeKey struct {
	listenerARN string
	priority    int
	endpoint    string
	track       rollout.Track
}

func keyOf(r Route) routeKey { return routeKey{r.ListenerARN, r.Priority, r.Endpoint, r.Track} }

// Option configures a Router.
type Option func(*Router)

// WithSleep replaces the wait between verification reads, for tests.
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(r *Router) { r.sleep = sleep }
}

// WithVerifyAttempts sets how many times a rule is read back before
// SetWeights gives up with a *VerifyError.
func WithVerifyAttempts(n int) Option {
	return func(r *Router) { r.verifyAttempts = max(n, 1) }
}

// New returns a router of the rules in the account elb reaches, tagged as
// shifterID's.
func New(elb ELB, shifterID string, logger hclog.Logger, opts ...Option) *Router {
	r := &Router{
		elb:            elb,
		shifterID:      shifterID,
		logger:         logger,
		sleep:          sleepContext,
		verifyAttempts: defaultVerifyAttempts,
		rules:          make(map[routeKey]string),
	}
	for _, opt := range opts {
		opt(r)
	}
	return r
}

// SetWeights makes the route's rule forward by weights (target group ARN →
// percent), creating the rule if it does not exist, and verifies the rule by
// reading it back. Target groups of weight 0 are left out of the rule.
func (r *Router) SetWeights(ctx context.Context, route Route, weights map[string]int) (Result, error) {
	if err := validate(weights); err != nil {
		return Result{}, fmt.Errorf("route %s: %w", route, err)
	}
	want := positive(weights)
	res := Result{}

	arn, err := r.ruleARN(ctx, route)
	if err != nil {
		return res, err
	}
	if arn != "" {
		res.Writes++
		err = r.modify(ctx, route, arn, want)
		if isCode(err, "RuleNotFound") {
			// Deleted behind the router's back: look again.
			r.forget(route)
			if arn, err = r.ruleARN(ctx, route); err != nil {
				return res, err
			}
			if arn != "" {
				res.Writes++
				err = r.modify(ctx, route, arn, want)
			}
		}
		if err != nil {
			return res, err
		}
	}
	if arn == "" {
		res.Writes++
		if arn, err = r.create(ctx, route, want); err != nil {
			return res, err
		}
	}
	res.RuleARN = arn

	res.Weights, err = r.verify(ctx, arn, want)
	if err != nil {
		return res, err
	}
	r.logger.Info("weights set", "endpoint", route.Endpoint, "track", route.Track, "priority", route.Priority,
		"weights", res.Weights, "writes", res.Writes)
	return res, nil
}

// Weights reads the route's rule: whether it exists and its weights by
// target group ARN, as they are live (for drift detection). A forward to a
// single target group without weights counts as 100.
func (r *Router) Weights(ctx context.Context, route Route) (exists bool, weights map[string]int, err error) {
	if arn := r.cached(route); arn != "" {
		rule, err := r.read(ctx, arn)
		if err != nil {
			return false, nil, err
		}
		if rule != nil {
			return true, weightsOf(*rule), nil
		}
		r.forget(route)
	}
	rule, err := r.find(ctx, route)
	if err != nil || rule == nil {
		return false, nil, err
	}
	return true, weightsOf(*rule), nil
}

// Delete deletes the route's rule if it exists.
// WeightsIdle reports what Weights does from a read of the whole listener at
// most maxAge old, shared by every endpoint on that listener: it is for the
// resync of endpoints at rest. A rule the router has not identified yet, or
// that is no longer on the listener, is read as Weights reads it.
func (r *Router) WeightsIdle(ctx context.Context, route Route, maxAge time.Duration) (exists bool, weights map[string]int, err error) {
	arn := r.cached(route)
	if arn == "" {
		return r.Weights(ctx, route)
	}
	rules, err := r.listener(route.ListenerARN).Get(ctx, maxAge, func(ctx context.Context) ([]elbtypes.Rule, error) {
		return r.listRules(ctx, route.ListenerARN)
	})
	if err != nil {
		return false, nil, fmt.Errorf("route %s: %w", route, err)
	}
	for _, rule := range rules {
		if aws.ToString(rule.RuleArn) == arn {
			return true, weightsOf(rule), nil
		}
	}
	r.forget(route)
	return r.Weights(ctx, route)
}

func (r *Router) listener(arn string) *shifteraws.Snapshot[[]elbtypes.Rule] {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.listeners == nil {
		r.listeners = map[string]*shifteraws.Snapshot[[]elbtypes.Rule]{}
	}
	if r.listeners[arn] == nil {
		r.listeners[arn] = &shifteraws.Snapshot[[]elbtypes.Rule]{}
	}
	return r.listeners[arn]
}

// listRules reads every rule of a listener.
func (r *Router) listRules(ctx context.Context, listenerARN string) ([]elbtypes.Rule, error) {
	var rules []elbtypes.Rule
	p := elb.NewDescribeRulesPaginator(r.elb, &elb.DescribeRulesInput{ListenerArn: aws.String(listenerARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe rules of listener %s: %w", listenerARN, err)
		}
		rules = append(rules, page.Rules...)
	}
	return rules, nil
}

func (r *Router) Delete(ctx context.Context, route Route) error {
	arn, err := r.ruleARN(ctx, route)
	if err != nil || arn == "" {
		return err
	}
	_, err = r.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(arn)})
	if err != nil && !isCode(err, "RuleNotFound") {
		return fmt.Errorf("route %s: delete rule %s: %w", route, arn, err)
	}
	r.forget(route)
	r.logger.Info("rule deleted", "endpoint", route.Endpoint, "track", route.Track, "priority", route.Priority)
	return nil
}

// ruleARN returns the ARN of the route's rule, "" if there is none.
func (r *Router) ruleARN(ctx context.Context, route Route) (string, error) {
	if arn := r.cached(route); arn != "" {
		return arn, nil
	}
	rule, err := r.find(ctx, route)
	if err != nil || rule == nil {
		return "", err
	}
	return aws.ToString(rule.RuleArn), nil
}

// find looks the route's rule up by priority on its listener and checks
// that it is this shifter's rule of that route.
func (r *Router) find(ctx context.Context, route Route) (*elbtypes.Rule, error) {
	priority := strconv.Itoa(route.Priority)
	var rule *elbtypes.Rule
	p := elb.NewDescribeRulesPaginator(r.elb, &elb.DescribeRulesInput{ListenerArn: aws.String(route.ListenerARN)})
	for p.HasMorePages() && rule == nil {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("route %s: describe rules of listener %s: %w", route, route.ListenerARN, err)
		}
		for i := range page.Rules {
			if aws.ToString(page.Rules[i].Priority) == priority {
				rule = &page.Rules[i]
				break
			}
		}
	}
	if rule == nil {
		return nil, nil
	}

	arn := aws.ToString(rule.RuleArn)
	out, err := r.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		return nil, fmt.Errorf("route %s: describe tags of rule %s: %w", route, arn, err)
	}
	tags := map[string]string{}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	if tags[shifteraws.TagShifter] != r.shifterID || tags[shifteraws.TagEndpoint] != route.Endpoint ||
		tags[shifteraws.TagTrack] != string(route.Track) {
		var owner string
		if tags[shifteraws.TagShifter] != "" {
			owner = fmt.Sprintf("shifter %s, endpoint %s, track %s",
				tags[shifteraws.TagShifter], tags[shifteraws.TagEndpoint], tags[shifteraws.TagTrack])
		}
		return nil, &ForeignRuleError{Route: route, RuleARN: arn, Owner: owner}
	}
	r.remember(route, arn)
	return rule, nil
}

func (r *Router) create(ctx context.Context, route Route, weights map[string]int) (string, error) {
	out, err := r.elb.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(route.ListenerARN),
		Priority:    aws.Int32(int32(route.Priority)),
		Conditions:  conditions(route),
		Actions:     forward(weights),
		Tags: []elbtypes.Tag{
			{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(route.Endpoint)},
			{Key: aws.String(shifteraws.TagTrack), Value: aws.String(string(route.Track))},
			{Key: aws.String(shifteraws.TagShifter), Value: aws.String(r.shifterID)},
		},
	})
	if err != nil {
		return "", fmt.Errorf("route %s: create rule on listener %s: %w", route, route.ListenerARN, err)
	}
	if len(out.Rules) == 0 {
		return "", fmt.Errorf("route %s: create rule on listener %s: no rule in the answer", route, route.ListenerARN)
	}
	arn := aws.ToString(out.Rules[0].RuleArn)
	r.remember(route, arn)
	r.logger.Info("rule created", "endpoint", route.Endpoint, "track", route.Track, "priority", route.Priority, "rule", arn)
	return arn, nil
}

// modify writes conditions and weights in one call, so a change of the
// route's hosts or paths costs nothing extra.
func (r *Router) modify(ctx context.Context, route Route, arn string, weights map[string]int) error {
	_, err := r.elb.ModifyRule(ctx, &elb.ModifyRuleInput{
		RuleArn:    aws.String(arn),
		Conditions: conditions(route),
		Actions:    forward(weights),
	})
	if err != nil {
		return fmt.Errorf("route %s: modify rule %s: %w", route, arn, err)
	}
	return nil
}

// verify reads the rule back until it carries want, waiting longer each
// time, and returns the weights read.
func (r *Router) verify(ctx context.Context, arn string, want map[string]int) (map[string]int, error) {
	var got map[string]int
	wait := verifyBackoff
	for attempt := 1; ; attempt++ {
		rule, err := r.read(ctx, arn)
		if err != nil {
			return nil, err
		}
		if rule == nil {
			return nil, fmt.Errorf("verify weights of rule %s: the rule is gone", arn)
		}
		got = weightsOf(*rule)
		if maps.Equal(positive(got), want) {
			return got, nil
		}
		if attempt == r.verifyAttempts {
			return got, &VerifyError{RuleARN: arn, Want: want, Got: got}
		}
		r.logger.Warn("rule does not carry the weights just written; reading again", "rule", arn, "want", want,
			"got", got, "wait", wait)
		if err := r.sleep(ctx, wait); err != nil {
			return nil, err
		}
		wait = min(2*wait, maxVerifyBackoff)
	}
}

// read returns the rule, or nil if it does not exist.
func (r *Router) read(ctx context.Context, arn string) (*elbtypes.Rule, error) {
	out, err := r.elb.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{arn}})
	if isCode(err, "RuleNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe rule %s: %w", arn, err)
	}
	if len(out.Rules) == 0 {
		return nil, nil
	}
	return &out.Rules[0], nil
}

func (r *Router) cached(route Route) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rules[keyOf(route)]
}

func (r *Router) remember(route Route, arn string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rules[keyOf(route)] = arn
}

func (r *Router) forget(route Route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.rules, keyOf(route))
}

// validate checks that weights split 100% over target groups; moto would
// store anything, and ALB accepts weights up to 999.
func validate(weights map[string]int) error {
	sum := 0
	for arn, w := range weights {
		if arn == "" {
			return fmt.Errorf("%w: a weight without a target group", ErrInvalidWeights)
		}
		if w < 0 || w > 100 {
			return fmt.Errorf("%w: %d for %s is not in 0..100", ErrInvalidWeights, w, arn)
		}
		sum += w
	}
	if sum != 100 {
		return fmt.Errorf("%w: %v sum to %d, not 100", ErrInvalidWeights, weights, sum)
	}
	if n := len(positive(weights)); n > maxTargetGroups {
		return fmt.Errorf("%w: %d target groups have traffic; a rule forwards to at most %d", ErrInvalidWeights, n, maxTargetGroups)
	}
	return nil
}

// positive returns the weights above zero: the ones a rule carries.
func positive(weights map[string]int) map[string]int {
	out := make(map[string]int, len(weights))
	for arn, w := range weights {
		if w > 0 {
			out[arn] = w
		}
	}
	return out
}

func conditions(route Route) []elbtypes.RuleCondition {
	var cs []elbtypes.RuleCondition
	if len(route.Hosts) > 0 {
		cs = append(cs, elbtypes.RuleCondition{
			Field:            aws.String("host-header"),
			HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: route.Hosts},
		})
	}
	paths := route.Paths
	if len(paths) == 0 && len(route.Hosts) == 0 {
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

func forward(weights map[string]int) []elbtypes.Action {
	cfg := &elbtypes.ForwardActionConfig{}
	for _, arn := range slices.Sorted(maps.Keys(weights)) {
		cfg.TargetGroups = append(cfg.TargetGroups, elbtypes.TargetGroupTuple{
			TargetGroupArn: aws.String(arn),
			Weight:         aws.Int32(int32(weights[arn])),
		})
	}
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: cfg}}
}

// weightsOf returns the weights of the rule's forward action by target
// group ARN; empty if the rule does not forward.
func weightsOf(rule elbtypes.Rule) map[string]int {
	out := map[string]int{}
	for _, a := range rule.Actions {
		if a.Type != elbtypes.ActionTypeEnumForward {
			continue
		}
		if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
			for _, tg := range a.ForwardConfig.TargetGroups {
				out[aws.ToString(tg.TargetGroupArn)] = int(aws.ToInt32(tg.Weight))
			}
		} else if a.TargetGroupArn != nil {
			out[aws.ToString(a.TargetGroupArn)] = 100
		}
	}
	return out
}

// isCode reports whether err is an AWS API error with code.
func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
