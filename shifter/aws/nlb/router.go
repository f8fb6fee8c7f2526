// Package nlb is the router of Network Load Balancer listeners: per
// endpoint, one TCP or TLS listener on a port of the user's load balancer, which
// the shifter creates, owns and deletes, its default action a weighted
// forward to the target groups of the endpoint's versions.
//
// The listener is the shifter's like every other resource it creates
// (DESIGN §2, invariant 5): tagged with the shifter and the endpoint at
// creation, in the CreateListener call itself, and recorded before it is
// created, since the stored spec names the load balancer and the port and
// AWS gives a port one listener. A shifter that crashed between
// CreateListener and anything else finds it again by that port and its tags
// rather than creating a second (AWS would refuse it: DuplicateListener).
// The user's Terraform declares the load balancer and no listener on the
// port, so nothing needs ignore_changes.
//
// An NLB, like an ALB, health-checks a target group only while a listener
// forwards to it (weight 0 counts), so every environment that may get
// traffic stays in the forward at weight 0 while it carries none (DESIGN
// invariant 8). A listener always forwards somewhere and has no rule that
// matches nothing to park target groups on, so while no version carries
// traffic (a first release being gated) the listener forwards 100% to the
// endpoint's idle target group, the versions beside it at 0. The idle group
// is the shifter's too: one per endpoint, with no targets (connections
// before the first release are refused, as with no listener), tagged, named
// by a digest of the shifter, the endpoint and its port (found again by that
// name after a crash), and deleted after the listener when the endpoint is.
// The forward takes at most 5 target groups: the API keeps max_hot_versions
// within what fits (rollout.MaxNLBHotVersions).
//
// The router only writes; reads of a load balancer's listeners, shared by
// every endpoint on it, show what was written (the reconciler verifies a step
// that way). A listener deleted, or its action changed, behind the shifter's
// back reads as drift, and the next write creates or rewrites it.
//
// A TLS listener also has a certificate and a security policy, which the
// spec fixes and may change (a certificate rotated). Every write of a TLS
// listener names its protocol, certificate and policy with its forward, in
// one CreateListener or ModifyListener; a read reports a listener whose
// settings differ from the spec in reconcile.Route.Unlike, so that the
// planner rewrites it, its weights unchanged (the reconcile.Router
// contract).
package nlb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/targetgroup"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Listeners is the part of ELBv2 the router uses for its listeners.
type Listeners interface {
	DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
	CreateListener(context.Context, *elb.CreateListenerInput, ...func(*elb.Options)) (*elb.CreateListenerOutput, error)
	ModifyListener(context.Context, *elb.ModifyListenerInput, ...func(*elb.Options)) (*elb.ModifyListenerOutput, error)
	DeleteListener(context.Context, *elb.DeleteListenerInput, ...func(*elb.Options)) (*elb.DeleteListenerOutput, error)
	DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
}

// Groups is the part of ELBv2 the router uses for its idle target groups:
// the load balancer's VPC, and the groups.
type Groups interface {
	DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
	CreateTargetGroup(context.Context, *elb.CreateTargetGroupInput, ...func(*elb.Options)) (*elb.CreateTargetGroupOutput, error)
	DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	DeleteTargetGroup(context.Context, *elb.DeleteTargetGroupInput, ...func(*elb.Options)) (*elb.DeleteTargetGroupOutput, error)
}

var _ reconcile.Router = (*Router)(nil)

// maxTargetGroups is how many target groups a forward action takes.
const maxTargetGroups = rollout.MaxTargetGroupsPerRule

// RoleListener and RoleIdle tag the listener and the idle target group
// (shifteraws.TagRole).
const (
	RoleListener = "listener"
	RoleIdle     = "idle"
)

// IdlePrefix begins the name of every idle target group. It is not
// targetgroup.Prefix: idle groups are no environment's.
const IdlePrefix = "irn-"

// IdleName is the name of the idle target group of a shifter's endpoint on
// a load balancer's port: target group names allow 32 characters, so it is
// a digest.
func IdleName(shifterID string, ep rollout.Endpoint) string {
	return IdlePrefix + targetgroup.Digest(shifterID, ep.Name, ep.Traffic.NLB.Key())[:32-len(IdlePrefix)]
}

// ForeignListenerError says a listener the shifter did not create for the
// endpoint holds the endpoint's port (delete it, or give the endpoint
// another port). The router never changes it.
type ForeignListenerError = shifteraws.ForeignError

// Router creates, writes, reads and deletes the listeners of routes. It is
// safe for concurrent use.
type Router struct {
	listeners Listeners
	groups    Groups
	shifterID string
	logger    hclog.Logger

	mu sync.Mutex
	// balancers are shared reads of the listeners of load balancers;
	// written is when the router last wrote a listener of each, so that
	// it reads it back from a read that began after.
	balancers map[string]*shifteraws.Snapshot[[]elbtypes.Listener]
	written   map[string]time.Time
	// tags are listeners' tags as read (or written), by listener ARN:
	// whose a listener is does not change.
	tags map[string]map[string]string
	// idle are the ARNs of idle target groups by name, once read or
	// created; vpcs the load balancers' VPCs, which never change.
	idle map[string]string
	vpcs map[string]string
}

// New returns a router of the listeners in the account the clients reach,
// tagged as shifterID's.
func New(listeners Listeners, groups Groups, shifterID string, logger hclog.Logger) *Router {
	return &Router{
		listeners: listeners,
		groups:    groups,
		shifterID: shifterID,
		logger:    logger,
		balancers: map[string]*shifteraws.Snapshot[[]elbtypes.Listener]{},
		written:   map[string]time.Time{},
		tags:      map[string]map[string]string{},
		idle:      map[string]string{},
		vpcs:      map[string]string{},
	}
}

// route is where an endpoint's connections arrive: a port of a load
// balancer, and the name of its idle target group.
type route struct {
	endpoint string
	lb       string
	port     int
	idle     string
	deleting bool
	// targetType is the versions' target groups' (instances for ec2,
	// task IPs for ecs), which the idle group shares: one forward then
	// holds target groups of one kind.
	targetType elbtypes.TargetTypeEnum
	// protocol is the listener's; certificate and policy a TLS
	// listener's, "" for TCP.
	protocol    elbtypes.ProtocolEnum
	certificate string
	policy      string
}

// settings are the parts of a listener's write other than its forward:
// its protocol, and a TLS listener's certificate and policy, so that no
// write leaves them other than the spec says.
func (r route) settings() (elbtypes.ProtocolEnum, []elbtypes.Certificate, *string) {
	if r.protocol != elbtypes.ProtocolEnumTls {
		return r.protocol, nil, nil
	}
	return r.protocol, []elbtypes.Certificate{{CertificateArn: aws.String(r.certificate)}}, aws.String(r.policy)
}

// unlike says how a listener's own settings differ from the route's, ""
// when they match.
func (r route) unlike(li *elbtypes.Listener) string {
	var diffs []string
	if li.Protocol != r.protocol {
		diffs = append(diffs, fmt.Sprintf("protocol %s, want %s", li.Protocol, r.protocol))
	}
	if r.protocol != elbtypes.ProtocolEnumTls {
		return strings.Join(diffs, "; ")
	}
	if cert := defaultCertificate(li.Certificates); cert != r.certificate {
		diffs = append(diffs, fmt.Sprintf("certificate %q, want %q", cert, r.certificate))
	}
	if policy := aws.ToString(li.SslPolicy); policy != r.policy {
		diffs = append(diffs, fmt.Sprintf("security policy %q, want %q", policy, r.policy))
	}
	return strings.Join(diffs, "; ")
}

// defaultCertificate is a listener's default certificate: the first that
// DescribeListeners lists (it lists only the default one).
func defaultCertificate(certs []elbtypes.Certificate) string {
	for _, c := range certs {
		if c.IsDefault == nil || *c.IsDefault {
			return aws.ToString(c.CertificateArn)
		}
	}
	return ""
}

func (r route) String() string {
	return r.endpoint + " (port " + strconv.Itoa(r.port) + " of " + r.lb + ")"
}

// isIdle reports whether a target group ARN is the route's idle group's:
// target group ARNs are .../targetgroup/NAME/ID.
func (r route) isIdle(arn string) bool { return strings.Contains(arn, ":targetgroup/"+r.idle+"/") }

// routeOf returns the route of an endpoint. An NLB endpoint has no preview
// route (rollout refuses one), so every track is production's.
func (r *Router) routeOf(ep rollout.Endpoint) route {
	nlb := ep.Traffic.NLB
	rt := route{endpoint: ep.Name, lb: nlb.LoadBalancerARN, port: nlb.Port, idle: IdleName(r.shifterID, ep), deleting: ep.Deleting,
		targetType: elbtypes.TargetTypeEnumInstance, protocol: elbtypes.ProtocolEnum(nlb.ListenerProtocol()), policy: nlb.Policy()}
	if rt.protocol == elbtypes.ProtocolEnumTls {
		rt.certificate = nlb.CertificateARN
	}
	if ep.Template.Backend == rollout.BackendECS {
		rt.targetType = elbtypes.TargetTypeEnumIp
	}
	return rt
}

// SetWeights makes the route's listener forward by weights (target group
// ARN → share; 0 keeps a target group attached without traffic), in one
// ModifyListener, which is why a rollback is one write; or creates the
// listener forwarding so when there is none (the first write, or a listener
// deleted behind the shifter's back). Weights that are all 0 forward
// everything to the idle target group, created first if need be.
func (r *Router) SetWeights(ctx context.Context, ep rollout.Endpoint, track rollout.Track, weights map[string]int) error {
	rt := r.routeOf(ep)
	if err := validate(rt, weights); err != nil {
		return fmt.Errorf("route %s: %w", rt, err)
	}
	want := maps.Clone(weights)
	if !shifteraws.Carries(want) {
		idle, err := r.ensureIdle(ctx, rt)
		if err != nil {
			return err
		}
		want[idle] = 100
	}
	li, err := r.read(ctx, rt, time.Time{})
	if err != nil {
		return err
	}
	if li == nil {
		err = r.create(ctx, rt, want)
		if !shifteraws.IsCode(err, "DuplicateListener") {
			return err
		}
		// Another writer took the port since the read: the shifter
		// itself (its answer lost), or someone else.
		if li, err = r.read(ctx, rt, time.Now()); err != nil {
			return err
		}
		if li == nil {
			return fmt.Errorf("route %s: the port is taken, and no listener on it can be read", rt)
		}
	}
	unlike := rt.unlike(li)
	if maps.Equal(shifteraws.ForwardWeights(li.DefaultActions), want) && unlike == "" {
		return nil
	}
	in := &elb.ModifyListenerInput{ListenerArn: li.ListenerArn, DefaultActions: shifteraws.Forward(want)}
	in.Protocol, in.Certificates, in.SslPolicy = rt.settings()
	_, err = r.listeners.ModifyListener(ctx, in)
	r.wrote(rt)
	if err != nil {
		return fmt.Errorf("route %s: modify listener %s: %w", rt, aws.ToString(li.ListenerArn), r.failed(rt, err))
	}
	r.logger.Info("weights set", "endpoint", rt.endpoint, "track", track, "listener", aws.ToString(li.ListenerArn), "weights", weights, "settings_restored", unlike)
	return nil
}

// create creates the route's listener, tagged as the shifter's in the same
// call, so that no listener of the shifter's is ever untagged.
func (r *Router) create(ctx context.Context, rt route, want map[string]int) error {
	tags := []elbtypes.Tag{
		{Key: aws.String(shifteraws.TagShifter), Value: aws.String(r.shifterID)},
		{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(rt.endpoint)},
		{Key: aws.String(shifteraws.TagRole), Value: aws.String(RoleListener)},
	}
	in := &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(rt.lb),
		Port:            aws.Int32(int32(rt.port)),
		DefaultActions:  shifteraws.Forward(want),
		Tags:            tags,
	}
	in.Protocol, in.Certificates, in.SslPolicy = rt.settings()
	out, err := r.listeners.CreateListener(ctx, in)
	r.wrote(rt)
	if err != nil {
		return fmt.Errorf("route %s: create listener: %w", rt, r.failed(rt, err))
	}
	if len(out.Listeners) == 1 {
		r.mu.Lock()
		r.tags[aws.ToString(out.Listeners[0].ListenerArn)] = tagMap(tags)
		r.mu.Unlock()
	}
	r.logger.Info("listener created", "endpoint", rt.endpoint, "load_balancer", rt.lb, "port", rt.port)
	return nil
}

// Weights reads the route's listener as a read that began at or after since
// shows it: the weights of its forward by target group ARN, the idle target
// group left out, and whether a version carries traffic. No listener is a
// route that carries nothing (drift, unless nothing was written yet). While
// the endpoint is being deleted, the listener and the idle group read as
// what they are, so that the route reads as gone only once both are.
func (r *Router) Weights(ctx context.Context, ep rollout.Endpoint, _ rollout.Track, since time.Time) (reconcile.Route, error) {
	rt := r.routeOf(ep)
	li, err := r.read(ctx, rt, since)
	if rt.deleting && gone(err) {
		li, err = nil, nil // its listener is gone: its idle group may not be
	}
	if err != nil {
		return reconcile.Route{}, err
	}
	w, unlike := map[string]int{}, ""
	if li != nil {
		w = shifteraws.ForwardWeights(li.DefaultActions)
		if !rt.deleting {
			unlike = rt.unlike(li)
		}
	}
	switch {
	case !rt.deleting:
		maps.DeleteFunc(w, func(arn string, _ int) bool { return rt.isIdle(arn) })
	case li == nil:
		idle, err := r.idleGroup(ctx, rt)
		if err != nil {
			return reconcile.Route{}, err
		}
		if idle != "" {
			w[idle] = 0
		}
	}
	return reconcile.Route{Exists: shifteraws.Carries(w), Weights: w, Unlike: unlike}, nil
}

// Delete deletes the route's listener, then its idle target group, which
// AWS deletes only once no listener forwards to it. Nothing is left to do
// once they are gone, or their load balancer is.
func (r *Router) Delete(ctx context.Context, ep rollout.Endpoint, _ rollout.Track) error {
	rt := r.routeOf(ep)
	li, err := r.read(ctx, rt, time.Time{})
	switch {
	case gone(err):
	case err != nil:
		return err
	case li != nil:
		_, err := r.listeners.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: li.ListenerArn})
		r.wrote(rt)
		if err != nil && !shifteraws.IsCode(err, "ListenerNotFound") {
			return fmt.Errorf("route %s: delete listener %s: %w", rt, aws.ToString(li.ListenerArn), err)
		}
		r.logger.Info("listener deleted", "endpoint", rt.endpoint, "listener", aws.ToString(li.ListenerArn))
	}
	idle, err := r.idleGroup(ctx, rt)
	if err != nil || idle == "" {
		return err
	}
	_, err = r.groups.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(idle)})
	if err != nil && !shifteraws.IsCode(err, "TargetGroupNotFound") {
		return fmt.Errorf("route %s: delete idle target group %s: %w", rt, rt.idle, err)
	}
	r.mu.Lock()
	delete(r.idle, rt.idle)
	r.mu.Unlock()
	r.logger.Info("idle target group deleted", "endpoint", rt.endpoint, "target_group", rt.idle)
	return nil
}

// read returns the route's listener (nil for none) as a read of its load
// balancer's listeners that began at or after since, and after the router's
// own last write there, and checks that it is this shifter's listener of
// the endpoint.
func (r *Router) read(ctx context.Context, rt route, since time.Time) (*elbtypes.Listener, error) {
	r.mu.Lock()
	if w := r.written[rt.lb]; w.After(since) {
		since = w
	}
	snap := r.balancers[rt.lb]
	if snap == nil {
		snap = &shifteraws.Snapshot[[]elbtypes.Listener]{}
		r.balancers[rt.lb] = snap
	}
	r.mu.Unlock()
	all, err := snap.Get(ctx, since, func(ctx context.Context) ([]elbtypes.Listener, error) {
		var all []elbtypes.Listener
		p := elb.NewDescribeListenersPaginator(r.listeners, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(rt.lb)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe listeners: %w", err)
			}
			all = append(all, page.Listeners...)
		}
		return all, nil
	})
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", rt, missing(rt, err))
	}
	for i := range all {
		if li := &all[i]; int(aws.ToInt32(li.Port)) == rt.port {
			return li, r.checkOwner(ctx, rt, aws.ToString(li.ListenerArn))
		}
	}
	return nil, nil
}

// checkOwner makes sure the listener on the route's port is this shifter's
// listener of the endpoint.
func (r *Router) checkOwner(ctx context.Context, rt route, arn string) error {
	r.mu.Lock()
	tags, known := r.tags[arn]
	r.mu.Unlock()
	if !known {
		out, err := r.listeners.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{arn}})
		if err != nil {
			return fmt.Errorf("route %s: describe tags of listener %s: %w", rt, arn, err)
		}
		tags = map[string]string{}
		for _, d := range out.TagDescriptions {
			maps.Copy(tags, tagMap(d.Tags))
		}
		r.mu.Lock()
		r.tags[arn] = tags
		r.mu.Unlock()
	}
	return shifteraws.CheckOwner(rt.String(), "listener "+arn+" on that port", tags,
		map[string]string{shifteraws.TagShifter: r.shifterID, shifteraws.TagEndpoint: rt.endpoint})
}

// ensureIdle returns the ARN of the route's idle target group, creating it
// (tagged) if it does not exist. Its name is fixed, so a create whose answer
// was lost is found again, never made twice.
func (r *Router) ensureIdle(ctx context.Context, rt route) (string, error) {
	arn, err := r.idleGroup(ctx, rt)
	if err != nil || arn != "" {
		return arn, err
	}
	vpc, err := r.vpcOf(ctx, rt)
	if err != nil {
		return "", err
	}
	out, err := r.groups.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name:       aws.String(rt.idle),
		Protocol:   elbtypes.ProtocolEnumTcp, // what a TCP or a TLS listener forwards to
		Port:       aws.Int32(int32(rt.port)),
		VpcId:      aws.String(vpc),
		TargetType: rt.targetType,
		Tags: []elbtypes.Tag{
			{Key: aws.String(shifteraws.TagShifter), Value: aws.String(r.shifterID)},
			{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String(rt.endpoint)},
			{Key: aws.String(shifteraws.TagRole), Value: aws.String(RoleIdle)},
		},
	})
	switch {
	case shifteraws.IsCode(err, "DuplicateTargetGroupName"):
		// AWS answers a create of an existing group with it; moto does not.
		r.forgetIdle(rt)
		return r.idleGroup(ctx, rt)
	case err != nil:
		return "", fmt.Errorf("route %s: create idle target group %s: %w", rt, rt.idle, err)
	case len(out.TargetGroups) != 1:
		return "", fmt.Errorf("route %s: create idle target group %s: %d target groups answered", rt, rt.idle, len(out.TargetGroups))
	}
	arn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	r.mu.Lock()
	r.idle[rt.idle] = arn
	r.mu.Unlock()
	r.logger.Info("idle target group created", "endpoint", rt.endpoint, "target_group", rt.idle)
	return arn, nil
}

// idleGroup returns the ARN of the route's idle target group, "" if there
// is none.
func (r *Router) idleGroup(ctx context.Context, rt route) (string, error) {
	r.mu.Lock()
	arn, ok := r.idle[rt.idle]
	r.mu.Unlock()
	if ok {
		return arn, nil
	}
	out, err := r.groups.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{rt.idle}})
	switch {
	case shifteraws.IsCode(err, "TargetGroupNotFound"):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("route %s: describe idle target group %s: %w", rt, rt.idle, err)
	case len(out.TargetGroups) == 0:
		return "", nil
	}
	arn = aws.ToString(out.TargetGroups[0].TargetGroupArn)
	r.mu.Lock()
	r.idle[rt.idle] = arn
	r.mu.Unlock()
	return arn, nil
}

func (r *Router) forgetIdle(rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.idle, rt.idle)
}

// vpcOf returns the VPC of the route's load balancer, where its target
// groups must be.
func (r *Router) vpcOf(ctx context.Context, rt route) (string, error) {
	r.mu.Lock()
	vpc, ok := r.vpcs[rt.lb]
	r.mu.Unlock()
	if ok {
		return vpc, nil
	}
	out, err := r.groups.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{rt.lb}})
	switch {
	case err != nil:
		return "", fmt.Errorf("route %s: describe load balancer: %w", rt, missing(rt, err))
	case len(out.LoadBalancers) != 1:
		return "", fmt.Errorf("route %s: load balancer %s does not exist: %w", rt, rt.lb, reconcile.ErrTrafficMissing)
	}
	vpc = aws.ToString(out.LoadBalancers[0].VpcId)
	r.mu.Lock()
	r.vpcs[rt.lb] = vpc
	r.mu.Unlock()
	return vpc, nil
}

// gone reports whether a read of a route says its listener is gone for
// good as far as a deleted endpoint is concerned: its load balancer is gone,
// or someone else's listener holds the port since.
func gone(err error) bool {
	var foreign *ForeignListenerError
	return errors.Is(err, reconcile.ErrTrafficMissing) || errors.As(err, &foreign)
}

// failed is the error of a write of the listener: a target group that does
// not exist may be the idle group, deleted behind the router's back, which
// the next write then creates again.
func (r *Router) failed(rt route, err error) error {
	if shifteraws.IsCode(err, "TargetGroupNotFound") {
		r.forgetIdle(rt)
	}
	return missing(rt, err)
}

// missing turns AWS's answer that the load balancer does not exist into
// reconcile.ErrTrafficMissing: the user owns it.
func missing(rt route, err error) error {
	if shifteraws.IsCode(err, "LoadBalancerNotFound") {
		return fmt.Errorf("load balancer %s does not exist: %w", rt.lb, reconcile.ErrTrafficMissing)
	}
	return err
}

// wrote records a write to a listener of the route's load balancer, whether
// or not it answered success: a write whose answer was lost may have
// happened, so the next read must begin after it.
func (r *Router) wrote(rt route) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.written[rt.lb] = time.Now()
}

// validate checks that weights split 100% (or are all 0) over target
// groups one forward holds, the idle one included when it takes the
// traffic; moto would store anything.
func validate(rt route, weights map[string]int) error {
	positive, err := shifteraws.CheckSplit(weights)
	if err != nil {
		return err
	}
	for arn := range weights {
		if rt.isIdle(arn) {
			return fmt.Errorf("%w: %s is the idle target group, no version's", shifteraws.ErrInvalidWeights, arn)
		}
	}
	switch {
	case positive == 0 && len(weights)+1 > maxTargetGroups:
		return fmt.Errorf("%w: %d target groups and the idle one; a listener forwards to at most %d", shifteraws.ErrInvalidWeights, len(weights), maxTargetGroups)
	case len(weights) > maxTargetGroups:
		return fmt.Errorf("%w: %d target groups; a listener forwards to at most %d", shifteraws.ErrInvalidWeights, len(weights), maxTargetGroups)
	}
	return nil
}

func tagMap(tags []elbtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}
