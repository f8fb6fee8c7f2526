package preflight_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/hashicorp/go-hclog"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/preflight"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// nlb routes the endpoint on a port of an NLB.
func nlb(lb string, port int) func(*rollout.Endpoint) {
	return func(ep *rollout.Endpoint) {
		ep.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: lb, Port: port}}
		ep.Template.HealthCheck.Protocol = "TCP"
	}
}

// onECS runs the endpoint's versions as ECS services.
func onECS(ep *rollout.Endpoint) {
	def := rollout.NewEndpointFor(rollout.BackendECS).Template
	ep.Template.Backend, ep.Template.AMI, ep.Template.InstanceType, ep.Template.ECS = def.Backend, "", def.InstanceType, def.ECS
	ep.Template.ECS.Cluster = awstest.Cluster
}

// TestEachMisconfigurationIsRefusedNamingItsField: a spec that names what is
// not in the account, or takes what another rule has, is refused with the
// field to fix; one that is right, or whose rule is already its own, passes.
func TestEachMisconfigurationIsRefusedNamingItsField(t *testing.T) {
	ctx := t.Context()
	cfg := awstest.Config(t)
	net := awstest.NetworkWithNLB(t, cfg)
	setup := awstest.Exempt(cfg)
	elbc := elb.NewFromConfig(setup)
	awstest.PutAlarm(t, cfg, "web-5xx")
	zone, err := route53.NewFromConfig(setup).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.test"), CallerReference: aws.String(t.Name())})
	if err != nil {
		t.Fatal(err)
	}
	zoneID := strings.TrimPrefix(aws.ToString(zone.HostedZone.Id), "/hostedzone/")
	tg, err := elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("others"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String(net.VPC), TargetType: elbtypes.TargetTypeEnumInstance})
	if err != nil {
		t.Fatal(err)
	}
	forward := []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}
	rule := func(priority int32, host, path string, tags ...elbtypes.Tag) {
		t.Helper()
		conditions := []elbtypes.RuleCondition{{Field: aws.String("host-header"), HostHeaderConfig: &elbtypes.HostHeaderConditionConfig{Values: []string{host}}}}
		if path != "" {
			conditions = append(conditions, elbtypes.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{path}}})
		}
		if _, err := elbc.CreateRule(ctx, &elb.CreateRuleInput{
			ListenerArn: aws.String(net.ListenerARN), Priority: aws.Int32(priority), Actions: forward, Tags: tags, Conditions: conditions,
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Other teams' rules, and web's own, made by the shifter.
	rule(20, "shop.example.com", "")
	rule(21, "docs.example.com", "/docs/*")
	rule(30, "web.example.com", "", elbtypes.Tag{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String("web")})
	// web's own listener on port 7002 of the NLB, made by the shifter;
	// the user's is on 7000.
	nlbGroup, err := elbc.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("web-tcp"), Protocol: elbtypes.ProtocolEnumTcp,
		Port: aws.Int32(7002), VpcId: aws.String(net.VPC)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elbc.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(net.NLBARN), Port: aws.Int32(7002), Protocol: elbtypes.ProtocolEnumTcp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: nlbGroup.TargetGroups[0].TargetGroupArn}},
		Tags:           []elbtypes.Tag{{Key: aws.String(shifteraws.TagEndpoint), Value: aws.String("web")}},
	}); err != nil {
		t.Fatal(err)
	}

	spec := func(change func(*rollout.Endpoint)) rollout.Endpoint {
		ep := rollout.NewEndpoint()
		ep.Name = "web"
		ep.Traffic = rollout.Traffic{ListenerARN: net.ListenerARN, Priority: 30, Hosts: []string{"web.example.com"}}
		ep.Template.Repository, ep.Template.ContainerPort, ep.Template.AMI = "registry.example.com/web", 8080, net.AMI
		ep.Template.Subnets, ep.Template.SecurityGroups = net.Subnets, []string{net.SecurityGroup}
		ep.Policy.Alarms = []string{"web-5xx"}
		if change != nil {
			change(&ep)
		}
		return ep
	}
	missingListener := net.ListenerARN[:len(net.ListenerARN)-4] + "0000"
	cert := awstest.Certificate(t, cfg, "web.example.com")
	serverCert := awstest.ServerCertificate(t, cfg, "web")
	tls := func(cert string) func(*rollout.Endpoint) {
		return func(ep *rollout.Endpoint) {
			nlb(net.NLBARN, net.NLBPort)(ep)
			ep.Traffic.NLB.Protocol, ep.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, cert
			ep.Template.HealthCheck.Protocol = "TLS"
		}
	}
	// The clients the shifter uses, scheduled within the account's budgets.
	set, err := shifteraws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	api := preflight.API{ELB: set.ELBv2, EC2: set.EC2, CloudWatch: set.CloudWatch, ECS: set.ECS, Route53: set.Route53, ACM: set.ACM, IAM: set.IAM}
	for _, tc := range []struct {
		name, field string
		change      func(*rollout.Endpoint)
	}{
		{"right, on its own rule", "", nil},
		{"a free priority", "", func(ep *rollout.Endpoint) { ep.Traffic.Priority = 40 }},
		{"listener missing", "traffic.listener_arn", func(ep *rollout.Endpoint) { ep.Traffic.ListenerARN = missingListener }},
		{"priority taken", "traffic.priority", func(ep *rollout.Endpoint) { ep.Traffic.Priority = 20 }},
		{"host routed by another rule", "traffic.hosts", func(ep *rollout.Endpoint) {
			ep.Traffic.Priority, ep.Traffic.Hosts = 40, []string{"SHOP.example.com"}
		}},
		{"a path of a host another rule routes whole", "traffic.hosts", func(ep *rollout.Endpoint) {
			ep.Traffic.Priority, ep.Traffic.Hosts, ep.Traffic.Paths = 40, []string{"shop.example.com"}, []string{"/api/*"}
		}},
		{"same host, other paths", "", func(ep *rollout.Endpoint) {
			ep.Traffic.Priority, ep.Traffic.Hosts, ep.Traffic.Paths = 40, []string{"docs.example.com"}, []string{"/api/*"}
		}},
		{"preview priority taken", "traffic.preview_priority", func(ep *rollout.Endpoint) {
			ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "preview.web.example.com", 20
		}},
		{"alarm missing", "policy.alarms[1]", func(ep *rollout.Endpoint) { ep.Policy.Alarms = []string{"web-5xx", "no-such-alarm"} }},
		// An observe-only endpoint writes nothing to its routes: they may
		// be the deploy it is compared with; what it reads must exist.
		{"observe only, on another rule's host and priority", "", func(ep *rollout.Endpoint) {
			ep.ObserveOnly, ep.Traffic.Priority, ep.Traffic.Hosts = true, 20, []string{"shop.example.com"}
		}},
		{"observe only, alarm missing", "policy.alarms[0]", func(ep *rollout.Endpoint) {
			ep.ObserveOnly, ep.Policy.Alarms = true, []string{"no-such-alarm"}
		}},
		{"subnet missing", "template.subnets[1]", func(ep *rollout.Endpoint) { ep.Template.Subnets = []string{net.Subnets[0], "subnet-0123456789abcdef0"} }},
		{"security group missing", "template.security_groups[0]", func(ep *rollout.Endpoint) { ep.Template.SecurityGroups = []string{"sg-0123456789abcdef0"} }},
		{"AMI missing", "template.ami", func(ep *rollout.Endpoint) { ep.Template.AMI = "ami-0123456789abcdef0" }},
		// An ecs template has no AMI; its tasks run in the subnets and
		// security groups.
		{"right, on ECS", "", onECS},
		{"a subnet missing, on ECS", "template.subnets[0]", func(ep *rollout.Endpoint) {
			onECS(ep)
			ep.Template.Subnets = []string{"subnet-0123456789abcdef0"}
		}},
		{"right, on a free port of an NLB", "", nlb(net.NLBARN, net.NLBPort)},
		{"right, on the port of its own listener", "", nlb(net.NLBARN, 7002)},
		{"the port of the user's listener", "traffic.nlb.port", nlb(net.NLBARN, 7000)},
		{"NLB missing", "traffic.nlb.load_balancer_arn", nlb(net.NLBARN[:len(net.NLBARN)-4]+"0000", net.NLBPort)},
		{"right, on a TLS listener with its certificate", "", tls(cert)},
		{"the TLS listener's certificate missing", "traffic.nlb.certificate_arn", tls(cert[:len(cert)-12] + "000000000000")},
		{"right, on a TLS listener with an IAM server certificate", "", tls(serverCert)},
		{"a TLS security policy ELB does not have", "traffic.nlb.ssl_policy", func(ep *rollout.Endpoint) {
			tls(cert)(ep)
			ep.Traffic.NLB.SSLPolicy = "ELBSecurityPolicy-TLS13-1-9-2099-01"
		}},
		{"the TLS listener's IAM server certificate missing", "traffic.nlb.certificate_arn", tls(serverCert + "-gone")},
		{"an ALB as an NLB", "traffic.nlb.load_balancer_arn", nlb(strings.Replace(net.LoadBalancerARN, "/app/", "/net/", 1), net.NLBPort)},
		{"a Route 53 slot missing", "traffic.route53.listeners[1]", func(ep *rollout.Endpoint) {
			ep.Traffic = rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: zoneID, Name: "web.example.test",
				Listeners: []string{net.ListenerARN, missingListener}}}
		}},
		{"the hosted zone missing", "traffic.route53.hosted_zone_id", func(ep *rollout.Endpoint) {
			ep.Traffic = rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: "Z0123456789NOSUCHZONE", Name: "web.example.test",
				Listeners: []string{net.ListenerARN}}}
		}},
		{"the ECS cluster missing", "template.ecs.cluster", func(ep *rollout.Endpoint) {
			onECS(ep)
			ep.Template.ECS.Cluster = "no-such-cluster"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := preflight.Check(context.Background(), api, spec(tc.change))
			if got := rollout.ErrorField(err); got != tc.field || (tc.field == "") != (err == nil) {
				t.Errorf("err = %v (field %q), want field %q", err, got, tc.field)
			}
		})
	}
}
