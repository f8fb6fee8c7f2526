// Package preflight checks an endpoint's spec against its AWS account before
// the shifter accepts it: what the spec names must exist, and what it takes
// on a shared listener must be free. A spec that passes validation but names
// a listener, alarm, subnet, cluster or hosted zone that is not there would be stored and then
// retried forever (or, for an alarm, silently never roll anything back);
// preflight refuses it at once, naming the field, and the provider runs it
// while planning so that `terraform plan` shows it.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// API is what preflight reads: the SDK calls it makes, nothing else.
type API struct {
	ELB interface {
		DescribeListeners(context.Context, *elb.DescribeListenersInput, ...func(*elb.Options)) (*elb.DescribeListenersOutput, error)
		DescribeLoadBalancers(context.Context, *elb.DescribeLoadBalancersInput, ...func(*elb.Options)) (*elb.DescribeLoadBalancersOutput, error)
		DescribeRules(context.Context, *elb.DescribeRulesInput, ...func(*elb.Options)) (*elb.DescribeRulesOutput, error)
		DescribeSSLPolicies(context.Context, *elb.DescribeSSLPoliciesInput, ...func(*elb.Options)) (*elb.DescribeSSLPoliciesOutput, error)
		DescribeTags(context.Context, *elb.DescribeTagsInput, ...func(*elb.Options)) (*elb.DescribeTagsOutput, error)
		DescribeTargetGroups(context.Context, *elb.DescribeTargetGroupsInput, ...func(*elb.Options)) (*elb.DescribeTargetGroupsOutput, error)
	}
	EC2 interface {
		DescribeSubnets(context.Context, *ec2.DescribeSubnetsInput, ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error)
		DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
		DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
	}
	CloudWatch interface {
		DescribeAlarms(context.Context, *cloudwatch.DescribeAlarmsInput, ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
	}
	ECS interface {
		DescribeClusters(context.Context, *ecs.DescribeClustersInput, ...func(*ecs.Options)) (*ecs.DescribeClustersOutput, error)
	}
	Route53 interface {
		GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
	}
	ACM interface {
		DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	}
	IAM interface {
		GetServerCertificate(context.Context, *iam.GetServerCertificateInput, ...func(*iam.Options)) (*iam.GetServerCertificateOutput, error)
	}
}

// Check checks ep against its account. It returns a rollout.Invalid error
// naming the field of the first problem found, or an error of AWS itself
// (the caller decides whether to accept a spec it could not check).
func Check(ctx context.Context, api API, ep rollout.Endpoint) error {
	g, gctx := errgroup.WithContext(ctx)
	problems := make([]error, 4)
	switch {
	case ep.ObserveOnly:
		// Its routes are imagined: what it names may well route the
		// deploy it is compared with.
	case ep.Traffic.NLB != nil:
		g.Go(func() (err error) { problems[0], err = checkNLB(gctx, api, ep); return err })
	case ep.Traffic.Route53 != nil:
		g.Go(func() (err error) { problems[0], err = checkSlots(gctx, api, *ep.Traffic.Route53); return err })
	default:
		g.Go(func() (err error) { problems[0], err = checkRoute(gctx, api, ep, mainRoute(ep)); return err })
	}
	if ep.Traffic.HasPreview() && !ep.ObserveOnly {
		g.Go(func() (err error) { problems[1], err = checkRoute(gctx, api, ep, previewRoute(ep)); return err })
	}
	g.Go(func() (err error) { problems[2], err = checkAlarms(gctx, api, ep.Policy.Alarms); return err })
	g.Go(func() (err error) { problems[3], err = checkTemplate(gctx, api, ep.Template); return err })
	if err := g.Wait(); err != nil {
		return fmt.Errorf("preflight of endpoint %s: %w", ep.Name, err)
	}
	for _, p := range problems {
		if p != nil {
			return p // one field at a time, as every refusal of the API
		}
	}
	return nil
}

// route is where one of the endpoint's tracks takes traffic, and the fields
// that say so.
type route struct {
	listener, listenerField string
	priority                int
	priorityField           string
	hosts, paths            []string
	hostsField              string
}

func mainRoute(ep rollout.Endpoint) route {
	t := ep.Traffic
	return route{listener: t.ListenerARN, listenerField: "traffic.listener_arn", priority: t.Priority, priorityField: "traffic.priority",
		hosts: t.Hosts, paths: t.Paths, hostsField: "traffic.hosts"}
}

func previewRoute(ep rollout.Endpoint) route {
	t := ep.Traffic
	r := route{listener: t.ListenerARN, listenerField: "traffic.listener_arn", priority: t.PreviewPriority, priorityField: "traffic.preview_priority",
		hosts: t.Hosts, paths: t.Paths, hostsField: "traffic.hosts"}
	if t.PreviewListenerARN != "" {
		r.listener, r.listenerField = t.PreviewListenerARN, "traffic.preview_listener_arn"
	}
	if t.PreviewHost != "" {
		r.hosts, r.hostsField = []string{t.PreviewHost}, "traffic.preview_host"
	}
	return r
}

// checkSlots checks that each slot listener of a Route 53 route exists
// (validation keeps them ALB listeners' ARNs). The hosted zone is read when
// the route is: a zone that does not exist is the traffic_missing
// condition.
func checkSlots(ctx context.Context, api API, t rollout.Route53Traffic) (problem, err error) {
	_, err = api.Route53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(t.HostedZoneID)})
	switch {
	case isCode(err, "NoSuchHostedZone"):
		return rollout.Invalid("traffic.route53.hosted_zone_id", "hosted zone %s does not exist in the endpoint's account", t.HostedZoneID), nil
	case err != nil:
		return nil, err
	}
	for i, arn := range t.Listeners {
		field := fmt.Sprintf("traffic.route53.listeners[%d]", i)
		listeners, err := api.ELB.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn}})
		switch {
		case isCode(err, "ListenerNotFound"), err == nil && len(listeners.Listeners) == 0:
			return rollout.Invalid(field, "listener %s does not exist in the endpoint's account and region", arn), nil
		case err != nil:
			return nil, err
		}
	}
	return nil, nil
}

// checkNLB checks that an NLB route's load balancer exists and is a Network
// Load Balancer, and that its port is free or already the endpoint's own
// listener (the shifter's, which it creates there): AWS gives a port one
// listener, so a listener of the user's Terraform on it would block the
// endpoint for good.
func checkNLB(ctx context.Context, api API, ep rollout.Endpoint) (problem, err error) {
	t := *ep.Traffic.NLB
	const field = "traffic.nlb.load_balancer_arn"
	if problem, err := checkCertificate(ctx, api, t); problem != nil || err != nil {
		return problem, err
	}
	lbs, err := api.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{t.LoadBalancerARN}})
	switch {
	case isCode(err, "LoadBalancerNotFound"), err == nil && len(lbs.LoadBalancers) == 0:
		return rollout.Invalid(field, "load balancer %s does not exist in the endpoint's account and region", t.LoadBalancerARN), nil
	case err != nil:
		return nil, err
	case lbs.LoadBalancers[0].Type != elbtypes.LoadBalancerTypeEnumNetwork:
		return rollout.Invalid(field, "load balancer %s is a %s load balancer, not a Network Load Balancer", t.LoadBalancerARN, lbs.LoadBalancers[0].Type), nil
	}
	p := elb.NewDescribeListenersPaginator(api.ELB, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(t.LoadBalancerARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, li := range page.Listeners {
			if int(aws.ToInt32(li.Port)) != t.Port {
				continue
			}
			ours, err := ownedBy(ctx, api, aws.ToString(li.ListenerArn), ep.Name)
			if err != nil || ours {
				return nil, err
			}
			return rollout.Invalid("traffic.nlb.port", "port %d of load balancer %s has a listener already (%s), which the shifter did not create for this endpoint: "+
				"the shifter creates the endpoint's listener itself; remove that listener from your configuration or choose a free port", t.Port, t.LoadBalancerARN, aws.ToString(li.ListenerArn)), nil
		}
	}
	return nil, nil
}

// checkCertificate checks that a TLS listener's security policy is one ELB
// has, and that its certificate exists in the endpoint's account (an ACM
// certificate in its region, where the listener needs it), and that an ACM
// certificate is not one that can never serve (failed, revoked, expired).
func checkCertificate(ctx context.Context, api API, t rollout.NLBTraffic) (problem, err error) {
	const field = "traffic.nlb.certificate_arn"
	if t.ListenerProtocol() != rollout.NLBProtocolTLS {
		return nil, nil
	}
	// AWS answers a name it does not know with SSLPolicyNotFound; moto
	// with no policy.
	policies, err := api.ELB.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{Names: []string{t.Policy()}})
	switch {
	case isCode(err, "SSLPolicyNotFound"), err == nil && len(policies.SslPolicies) == 0:
		return rollout.Invalid("traffic.nlb.ssl_policy", "%q is not a security policy of Elastic Load Balancing", t.Policy()), nil
	case err != nil:
		return nil, err
	}
	if name, ok := serverCertificateName(t.CertificateARN); ok {
		_, err := api.IAM.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String(name)})
		if isCode(err, "NoSuchEntity") {
			return rollout.Invalid(field, "IAM server certificate %s does not exist in the endpoint's account", t.CertificateARN), nil
		}
		return nil, err
	}
	out, err := api.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(t.CertificateARN)})
	switch {
	case isCode(err, "ResourceNotFoundException"):
		return rollout.Invalid(field, "certificate %s does not exist in ACM in the endpoint's account and region", t.CertificateARN), nil
	case err != nil:
		return nil, err
	case out.Certificate == nil:
		return nil, nil
	}
	switch status := out.Certificate.Status; status {
	case acmtypes.CertificateStatusFailed, acmtypes.CertificateStatusRevoked, acmtypes.CertificateStatusExpired, acmtypes.CertificateStatusValidationTimedOut:
		return rollout.Invalid(field, "certificate %s is %s in ACM: a TLS listener cannot serve it", t.CertificateARN, status), nil
	}
	return nil, nil
}

// serverCertificateName returns the name of an IAM server certificate's
// ARN (…:server-certificate/PATH/NAME): IAM reads it by name.
func serverCertificateName(arn string) (string, bool) {
	_, rest, ok := strings.Cut(arn, ":server-certificate/")
	if !ok {
		return "", false
	}
	return rest[strings.LastIndexByte(rest, '/')+1:], true
}

// checkRoute checks that the route's listener exists on an Application Load
// Balancer, and that its priority and its hosts and paths are free on it or
// already the endpoint's own.
func checkRoute(ctx context.Context, api API, ep rollout.Endpoint, rt route) (problem, err error) {
	listeners, err := api.ELB.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{rt.listener}})
	switch {
	case isCode(err, "ListenerNotFound"):
		return rollout.Invalid(rt.listenerField, "listener %s does not exist in the endpoint's account and region", rt.listener), nil
	case err != nil:
		return nil, err
	case len(listeners.Listeners) == 0:
		return rollout.Invalid(rt.listenerField, "listener %s does not exist in the endpoint's account and region", rt.listener), nil
	}
	lbs, err := api.ELB.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(listeners.Listeners[0].LoadBalancerArn)}})
	if err != nil {
		return nil, err
	}
	if len(lbs.LoadBalancers) == 1 && lbs.LoadBalancers[0].Type != elbtypes.LoadBalancerTypeEnumApplication {
		return rollout.Invalid(rt.listenerField, "listener %s belongs to a %s load balancer; ionroller routes with the rules of an Application Load Balancer",
			rt.listener, lbs.LoadBalancers[0].Type), nil
	}

	var rules []elbtypes.Rule
	p := elb.NewDescribeRulesPaginator(api.ELB, &elb.DescribeRulesInput{ListenerArn: aws.String(rt.listener), PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		rules = append(rules, page.Rules...)
	}
	priority := strconv.Itoa(rt.priority)
	for _, r := range rules {
		taken := aws.ToString(r.Priority) == priority
		host, collides := collision(r, rt)
		if !taken && !collides {
			continue
		}
		ours, err := ownedBy(ctx, api, aws.ToString(r.RuleArn), ep.Name)
		if err != nil {
			return nil, err
		}
		switch {
		case ours:
		case taken:
			return rollout.Invalid(rt.priorityField, "priority %d on listener %s is taken by another rule", rt.priority, rt.listener), nil
		default:
			return rollout.Invalid(rt.hostsField, "host %s is already routed on listener %s by another rule (priority %s)", host, rt.listener, aws.ToString(r.Priority)), nil
		}
	}
	return nil, nil
}

// collision returns a host the rule routes that rt would route too, on
// paths that overlap (no paths on either side is every path).
func collision(r elbtypes.Rule, rt route) (string, bool) {
	if aws.ToBool(r.IsDefault) {
		return "", false
	}
	var hosts, paths []string
	for _, c := range r.Conditions {
		switch {
		case c.HostHeaderConfig != nil:
			hosts = append(hosts, c.HostHeaderConfig.Values...)
		case c.PathPatternConfig != nil:
			paths = append(paths, c.PathPatternConfig.Values...)
		}
	}
	if len(paths) > 0 && len(rt.paths) > 0 && !slices.ContainsFunc(paths, func(p string) bool { return slices.Contains(rt.paths, p) }) {
		return "", false
	}
	for _, h := range rt.hosts {
		if slices.ContainsFunc(hosts, func(o string) bool { return strings.EqualFold(o, h) }) {
			return h, true
		}
	}
	return "", false
}

// ownedBy reports whether the rule is one the shifter made for endpoint.
func ownedBy(ctx context.Context, api API, ruleARN, endpoint string) (bool, error) {
	out, err := api.ELB.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{ruleARN}})
	if err != nil {
		return false, err
	}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			if aws.ToString(t.Key) == shifteraws.TagEndpoint && aws.ToString(t.Value) == endpoint {
				return true, nil
			}
		}
	}
	return false, nil
}

// checkAlarms checks that every policy alarm exists: one that does not would
// never roll anything back.
func checkAlarms(ctx context.Context, api API, names []string) (problem, err error) {
	found := map[string]bool{}
	for batch := range slices.Chunk(names, 100) {
		out, err := api.CloudWatch.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: batch, MaxRecords: aws.Int32(100)})
		if err != nil {
			return nil, err
		}
		for _, a := range out.MetricAlarms {
			found[aws.ToString(a.AlarmName)] = true
		}
		for _, a := range out.CompositeAlarms {
			found[aws.ToString(a.AlarmName)] = true
		}
	}
	for i, n := range names {
		if !found[n] {
			return rollout.Invalid(fmt.Sprintf("policy.alarms[%d]", i), "alarm %q does not exist in the endpoint's account and region: automatic rollback could never see it", n), nil
		}
	}
	return nil, nil
}

// checkTemplate checks that the subnets, security groups, AMI or ECS cluster
// exist.
func checkTemplate(ctx context.Context, api API, t rollout.Template) (problem, err error) {
	for i, id := range t.Subnets {
		_, err := api.EC2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{SubnetIds: []string{id}})
		if isCode(err, "InvalidSubnetID.NotFound") || isCode(err, "InvalidSubnetID.Malformed") {
			return rollout.Invalid(fmt.Sprintf("template.subnets[%d]", i), "subnet %s does not exist in the endpoint's account and region", id), nil
		}
		if err != nil {
			return nil, err
		}
	}
	for i, id := range t.SecurityGroups {
		_, err := api.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{id}})
		if isCode(err, "InvalidGroup.NotFound") || isCode(err, "InvalidGroupId.Malformed") {
			return rollout.Invalid(fmt.Sprintf("template.security_groups[%d]", i), "security group %s does not exist in the endpoint's account and region", id), nil
		}
		if err != nil {
			return nil, err
		}
	}
	if t.ECS != nil {
		out, err := api.ECS.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{t.ECS.Cluster}})
		if err != nil {
			return nil, err
		}
		// ECS answers a missing cluster as a failure (MISSING), and a
		// deleted one as INACTIVE.
		if len(out.Clusters) == 0 || aws.ToString(out.Clusters[0].Status) == "INACTIVE" {
			return rollout.Invalid("template.ecs.cluster", "ECS cluster %s does not exist in the endpoint's account and region", t.ECS.Cluster), nil
		}
	}
	if t.AMI != "" {
		out, err := api.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{t.AMI}})
		if isCode(err, "InvalidAMIID.NotFound") || isCode(err, "InvalidAMIID.Malformed") || (err == nil && len(out.Images) == 0) {
			return rollout.Invalid("template.ami", "AMI %s does not exist in the endpoint's account and region", t.AMI), nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func isCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
