package rollout

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

func TestValidEndpointPasses(t *testing.T) {
	ep := testEndpoint()
	ep.Team = "payments"
	ep.Placement = Placement{Region: "eu-west-1", RoleARN: "arn:aws:iam::123456789012:role/ionroller", ExternalID: "x"}
	ep.Template.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:eu-west-1:123456789012:parameter/db/password"}
	ep.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 1, MaxLatency: Duration(time.Second), MaxRatioToStable: 2}
	ep.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(2 * time.Minute), Interval: Duration(15 * time.Second), OnTimeout: OnTimeoutPause}
	ep.Notifications = Notifications{WebhookURL: "https://hooks.slack.com/services/T0/B0/x", SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:rollouts.fifo"}
	if err := ep.Validate(); err != nil {
		t.Fatal(err)
	}
}

// testListener is an ALB listener; testNLBListener an NLB's.
const (
	testListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
	testNLB      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/db/0123456789abcdef"
)

// routeOnNLB makes a valid endpoint route on an NLB listener instead.
func routeOnNLB(e *Endpoint) {
	e.Traffic = Traffic{NLB: &NLBTraffic{LoadBalancerARN: testNLB, Port: 5432}}
	e.Template.HealthCheck.Protocol = "TCP"
	e.Policy.MetricChecks = nil
}

// routeOnRoute53 makes a valid endpoint route by Route 53 records on four
// slots instead.
func routeOnRoute53(e *Endpoint) {
	var slots []string
	for _, lb := range []string{"a", "b", "c", "d"} {
		slots = append(slots, "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/slot-"+lb+"/0123456789abcdef/0123456789abcdef")
	}
	e.Traffic = Traffic{Route53: &Route53Traffic{HostedZoneID: "Z0123456789ABCDEFGHIJ", Name: "api.example.com", Listeners: slots}}
	e.Policy.MetricChecks = nil
}

func TestValidRoute53EndpointPasses(t *testing.T) {
	ep := testEndpoint()
	routeOnRoute53(&ep)
	ep.Traffic.Route53.HealthCheck = &Route53HealthCheck{Path: "/healthz", Interval: Duration(10 * time.Second), FailureThreshold: 3}
	if err := ep.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := DescribeEndpoint(time.Now(), ep, State{}).DNSTTL; got.D() != Route53AliasTTL {
		t.Errorf("status dns_ttl = %s, want the alias TTL %s", got, Route53AliasTTL)
	}
}

// testCertificate is an ACM certificate's ARN.
const testCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

// routeOnNLBTLS makes a valid endpoint route on a TLS listener of an NLB.
func routeOnNLBTLS(e *Endpoint) {
	routeOnNLB(e)
	e.Traffic.NLB.Protocol = NLBProtocolTLS
	e.Traffic.NLB.CertificateARN = testCertificate
	e.Template.HealthCheck.Protocol = "TLS"
}

// TestValidNLBTLSEndpointPasses: a TLS listener forwards to TLS or TCP
// target groups, takes an ACM or IAM server certificate, and without a
// named security policy gets DefaultSSLPolicy.
func TestValidNLBTLSEndpointPasses(t *testing.T) {
	for _, tc := range []struct{ target, cert, policy, wantPolicy string }{
		{"TLS", testCertificate, "", DefaultSSLPolicy},
		{"TCP", testCertificate, "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"},
		{"TLS", "arn:aws:iam::123456789012:server-certificate/prod/web", "", DefaultSSLPolicy},
	} {
		ep := testEndpoint()
		routeOnNLBTLS(&ep)
		ep.Template.HealthCheck.Protocol, ep.Traffic.NLB.CertificateARN, ep.Traffic.NLB.SSLPolicy = tc.target, tc.cert, tc.policy
		if err := ep.Validate(); err != nil {
			t.Errorf("%+v: %v", tc, err)
		}
		if got := ep.Traffic.NLB.Policy(); got != tc.wantPolicy {
			t.Errorf("%+v: policy %q, want %q", tc, got, tc.wantPolicy)
		}
	}
	ep := testEndpoint()
	routeOnNLB(&ep)
	if ep.Traffic.NLB.ListenerProtocol() != NLBProtocolTCP || ep.Traffic.NLB.Policy() != "" {
		t.Errorf("an NLB endpoint naming no protocol: listener %s, policy %q; want TCP and none", ep.Traffic.NLB.ListenerProtocol(), ep.Traffic.NLB.Policy())
	}
}

func TestValidNLBEndpointPasses(t *testing.T) {
	ep := testEndpoint()
	routeOnNLB(&ep)
	ep.Policy.MaxHotVersions = new(MaxNLBHotVersions)
	if err := ep.Validate(); err != nil {
		t.Fatal(err)
	}
	if ep.Traffic.Kind() != TrafficNLB || ep.Traffic.HasPreview() {
		t.Errorf("kind %s, preview %v: want nlb without a preview", ep.Traffic.Kind(), ep.Traffic.HasPreview())
	}
}

func TestInvalidEndpointNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Endpoint)
	}{
		{"name", func(e *Endpoint) { e.Name = "Web_1" }},
		{"name", func(e *Endpoint) { e.Name = "web-" }},
		{"name", func(e *Endpoint) { e.Name = strings.Repeat("a", 41) }},
		{"team", func(e *Endpoint) { e.Team = "Team A" }},
		{"placement.region", func(e *Endpoint) { e.Placement.Region = "mars-1" }},
		{"placement.role_arn", func(e *Endpoint) { e.Placement.RoleARN = "arn:aws:iam::12:role/x" }},
		{"placement.external_id", func(e *Endpoint) { e.Placement.ExternalID = "x" }},
		{"traffic.listener_arn", func(e *Endpoint) {
			e.Traffic.ListenerARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/x/1"
		}},
		{"traffic.priority", func(e *Endpoint) { e.Traffic.Priority = 0 }},
		{"traffic.hosts[0]", func(e *Endpoint) { e.Traffic.Hosts = []string{"bad host"} }},
		{"traffic.paths[0]", func(e *Endpoint) { e.Traffic.Paths = []string{"api"} }},
		{"traffic.hosts", func(e *Endpoint) { e.Traffic.Paths = []string{"/a", "/b", "/c", "/d", "/e"} }},
		{"traffic.preview_priority", func(e *Endpoint) { e.Traffic.PreviewPriority = e.Traffic.Priority }},
		{"traffic.preview_priority", func(e *Endpoint) { e.Traffic.PreviewHost = ""; e.Traffic.PreviewListenerARN = "" }},
		{"traffic.preview_host", func(e *Endpoint) { e.Traffic.PreviewHost = "-" }},
		{"template.backend", func(e *Endpoint) { e.Template.Backend = "lambda" }},
		{"notifications.webhook_format", func(e *Endpoint) { e.Notifications.WebhookFormat = "pagerduty" }},
		{"template.ecs", func(e *Endpoint) { e.Template.ECS = DefaultECS() }},
		{"template.repository", func(e *Endpoint) { e.Template.Repository = "" }},
		{"template.repository", func(e *Endpoint) { e.Template.Repository = "web:v1" }},
		{"template.container_port", func(e *Endpoint) { e.Template.ContainerPort = 70000 }},
		{`template.env["1X"]`, func(e *Endpoint) { e.Template.Env = map[string]string{"1X": "y"} }},
		{`template.secrets["TOKEN"]`, func(e *Endpoint) { e.Template.Secrets = map[string]string{"TOKEN": "plaintext"} }},
		{`template.secrets["A"]`, func(e *Endpoint) {
			e.Template.Env = map[string]string{"A": "1"}
			e.Template.Secrets = map[string]string{"A": "arn:aws:secretsmanager:us-east-1:123456789012:secret:a"}
		}},
		{"template.command[0]", func(e *Endpoint) { e.Template.Command = []string{""} }},
		{"template.env", func(e *Endpoint) { e.Template.Env = map[string]string{"BIG": strings.Repeat("x", userdata.MaxBytes)} }},
		{"template.instance_type", func(e *Endpoint) { e.Template.InstanceType = "big" }},
		{"template.ami", func(e *Endpoint) { e.Template.AMI = "ubuntu" }},
		{"template.max_size", func(e *Endpoint) { e.Template.MaxSize = 0 }},
		{"template.min_size", func(e *Endpoint) { e.Template.MinSize = 3 }},
		{"template.desired_capacity", func(e *Endpoint) { e.Template.DesiredCapacity = 5 }},
		{"template.subnets", func(e *Endpoint) { e.Template.Subnets = nil }},
		{"template.subnets[1]", func(e *Endpoint) { e.Template.Subnets = append(e.Template.Subnets, "subnet-x") }},
		{"template.security_groups[0]", func(e *Endpoint) { e.Template.SecurityGroups = []string{"default"} }},
		{"template.instance_profile", func(e *Endpoint) { e.Template.InstanceProfile = "has space" }},
		{"template.health_check.path", func(e *Endpoint) { e.Template.HealthCheck.Path = "health" }},
		{"template.health_check.interval", func(e *Endpoint) { e.Template.HealthCheck.Interval = Duration(time.Second) }},
		{"template.health_check.timeout", func(e *Endpoint) { e.Template.HealthCheck.Timeout = Duration(15 * time.Second) }},
		{"template.health_check.healthy_threshold", func(e *Endpoint) { e.Template.HealthCheck.HealthyThreshold = 1 }},
		{"template.deregistration_delay", func(e *Endpoint) { e.Template.DeregistrationDelay = Duration(2 * time.Hour) }},
		{"policy.steps", func(e *Endpoint) { e.Policy.Steps = nil }},
		{"policy.steps[0].weight", func(e *Endpoint) { e.Policy.Steps[0].Weight = 0 }},
		{"policy.steps[1].weight", func(e *Endpoint) { e.Policy.Steps[1].Weight = 5 }},
		{"policy.steps[2].weight", func(e *Endpoint) { e.Policy.Steps[2].Weight = 90 }},
		{"policy.steps[0].weight", func(e *Endpoint) { e.Policy.Steps[0].Weight = 101 }},
		{"policy.steps[0].pause", func(e *Endpoint) { e.Policy.Steps[0].Pause = DurationPtr(30 * 24 * time.Hour) }},
		{"policy.healthy_timeout", func(e *Endpoint) { e.Policy.HealthyTimeout = 0 }},
		{"policy.bake_time", func(e *Endpoint) { e.Policy.BakeTime = Duration(-time.Second) }},
		{"policy.min_healthy_percent", func(e *Endpoint) { e.Policy.MinHealthyPercent = 0 }},
		{"policy.retain_capacity_percent", func(e *Endpoint) { e.Policy.RetainCapacityPercent = 101 }},
		{"policy.alarms[1]", func(e *Endpoint) { e.Policy.Alarms = []string{"a", "a"} }},
		{"policy.metric_checks.max_5xx_percent", func(e *Endpoint) { e.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 150} }},
		{"policy.metric_checks.max_ratio_to_stable", func(e *Endpoint) { e.Policy.MetricChecks = &MetricChecks{MaxRatioToStable: 0.5} }},
		{"policy.observed_traffic.tolerance_percent", func(e *Endpoint) { e.Policy.ObservedTraffic = &ObservedTraffic{MaxWait: Duration(time.Minute)} }},
		{"policy.observed_traffic.tolerance_percent", func(e *Endpoint) {
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 51, MaxWait: Duration(time.Minute)}
		}},
		{"policy.observed_traffic.max_wait", func(e *Endpoint) { e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5} }},
		{"policy.observed_traffic.interval", func(e *Endpoint) {
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(time.Minute), Interval: Duration(2 * time.Minute)}
		}},
		{"policy.observed_traffic.min_requests", func(e *Endpoint) {
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(time.Minute), MinRequests: -1}
		}},
		{"policy.observed_traffic.on_timeout", func(e *Endpoint) {
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(time.Minute), OnTimeout: "rollback"}
		}},
		{"notifications.webhook_url", func(e *Endpoint) { e.Notifications.WebhookURL = "ftp://hooks.example.com/x" }},
		{"notifications.webhook_url", func(e *Endpoint) { e.Notifications.WebhookURL = "https://" }},
		{"notifications.sns_topic_arn", func(e *Endpoint) { e.Notifications.SNSTopicARN = "arn:aws:sqs:us-east-1:123456789012:q" }},
		{"template.health_check.protocol", func(e *Endpoint) { e.Template.HealthCheck.Protocol = "UDP" }},
		{"template.health_check.protocol", func(e *Endpoint) { e.Template.HealthCheck.Protocol = "TCP" }},
		{"traffic.listener_arn", func(e *Endpoint) { routeOnNLB(e); e.Traffic.ListenerARN = testListener }},
		{"traffic.preview_host", func(e *Endpoint) { routeOnNLB(e); e.Traffic.PreviewHost = "preview.example.com" }},
		{"traffic.nlb.load_balancer_arn", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.LoadBalancerARN = testListener }},
		{"traffic.nlb.load_balancer_arn", func(e *Endpoint) {
			routeOnNLB(e)
			e.Traffic.NLB.LoadBalancerARN = strings.Replace(testNLB, "/net/", "/app/", 1) // an ALB
		}},
		{"traffic.nlb.load_balancer_arn", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.LoadBalancerARN = testNLB + "/0123456789abcdef" }}, // a listener
		{"traffic.nlb.port", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.Port = 0 }},
		{"traffic.nlb.port", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.Port = MaxPort + 1 }},
		{"template.health_check.protocol", func(e *Endpoint) { routeOnNLB(e); e.Template.HealthCheck.Protocol = "TLS" }},
		{"template.health_check.protocol", func(e *Endpoint) { routeOnNLBTLS(e); e.Template.HealthCheck.Protocol = "" }},
		{"template.health_check.protocol", func(e *Endpoint) { routeOnNLBTLS(e); e.Template.HealthCheck.Protocol = "HTTP" }},
		{"traffic.nlb.protocol", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.Protocol = "UDP" }},
		{"traffic.nlb.protocol", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.Protocol = "tls" }},
		{"traffic.nlb.certificate_arn", func(e *Endpoint) { routeOnNLBTLS(e); e.Traffic.NLB.CertificateARN = "" }},
		{"traffic.nlb.certificate_arn", func(e *Endpoint) { routeOnNLBTLS(e); e.Traffic.NLB.CertificateARN = testNLB }},
		{"traffic.nlb.certificate_arn", func(e *Endpoint) {
			routeOnNLBTLS(e)
			e.Traffic.NLB.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/not-an-id"
		}},
		{"traffic.nlb.certificate_arn", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.CertificateARN = testCertificate }},
		{"traffic.nlb.ssl_policy", func(e *Endpoint) { routeOnNLB(e); e.Traffic.NLB.SSLPolicy = DefaultSSLPolicy }},
		{"traffic.nlb.ssl_policy", func(e *Endpoint) { routeOnNLBTLS(e); e.Traffic.NLB.SSLPolicy = "TLS13" }},
		{"template.health_check.protocol", func(e *Endpoint) { routeOnNLB(e); e.Template.HealthCheck.Protocol = "" }},
		{"policy.metric_checks", func(e *Endpoint) { routeOnNLB(e); e.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 1} }},
		{"policy.observed_traffic", func(e *Endpoint) {
			routeOnNLB(e)
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(time.Minute)}
		}},
		{"policy.max_hot_versions", func(e *Endpoint) { routeOnNLB(e); e.Policy.MaxHotVersions = new(MaxNLBHotVersions + 1) }},
		{"traffic.route53", func(e *Endpoint) { routeOnRoute53(e); e.Traffic.NLB = &NLBTraffic{} }},
		{"traffic.priority", func(e *Endpoint) { routeOnRoute53(e); e.Traffic.Priority = 10 }},
		{"traffic.route53.hosted_zone_id", func(e *Endpoint) { routeOnRoute53(e); e.Traffic.Route53.HostedZoneID = "zone" }},
		{"traffic.route53.name", func(e *Endpoint) { routeOnRoute53(e); e.Traffic.Route53.Name = "*.example.com" }},
		{"traffic.route53.listeners", func(e *Endpoint) { routeOnRoute53(e); e.Traffic.Route53.Listeners = e.Traffic.Route53.Listeners[:1] }},
		{"traffic.route53.listeners[1]", func(e *Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.Listeners[1] = strings.Replace(testListener, "/app/", "/net/", 1)
		}},
		{"traffic.route53.listeners[1]", func(e *Endpoint) {
			routeOnRoute53(e)
			// Another listener of the first slot's load balancer.
			first := e.Traffic.Route53.Listeners[0]
			e.Traffic.Route53.Listeners[1] = first[:strings.LastIndexByte(first, '/')] + "/fedcba9876543210"
		}},
		{"template.health_check.protocol", func(e *Endpoint) { routeOnRoute53(e); e.Template.HealthCheck.Protocol = "TCP" }},
		{"traffic.route53.health_check.interval", func(e *Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.HealthCheck = &Route53HealthCheck{Path: "/healthz", Interval: Duration(time.Minute), FailureThreshold: 3}
		}},
		{"traffic.route53.health_check.path", func(e *Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.HealthCheck = &Route53HealthCheck{Path: "healthz", Interval: Duration(10 * time.Second), FailureThreshold: 3}
		}},
		{"traffic.route53.health_check.failure_threshold", func(e *Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.HealthCheck = &Route53HealthCheck{Path: "/healthz", Interval: Duration(10 * time.Second), FailureThreshold: 11}
		}},
		{"policy.metric_checks", func(e *Endpoint) { routeOnRoute53(e); e.Policy.MetricChecks = &MetricChecks{Max5xxPercent: 1} }},
		{"policy.observed_traffic", func(e *Endpoint) {
			routeOnRoute53(e)
			e.Policy.ObservedTraffic = &ObservedTraffic{TolerancePercent: 5, MaxWait: Duration(time.Minute)}
		}},
		{"policy.max_hot_versions", func(e *Endpoint) { routeOnRoute53(e); e.Policy.MaxHotVersions = new(3) }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			ep := testEndpoint()
			tc.mutate(&ep)
			err := ep.Validate()
			if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
				t.Fatalf("Validate() = %v (field %q), want invalid %q", err, ErrorField(err), tc.field)
			}
		})
	}
}

func TestInvalidReleaseNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Release)
	}{
		{"endpoint", func(r *Release) { r.Endpoint = "" }},
		{"track", func(r *Release) { r.Track = "staging" }},
		{"version", func(r *Release) { r.Version = "" }},
		{"version", func(r *Release) { r.Version = "v1 beta" }},
		{"image", func(r *Release) { r.Image = "   " }},
		{"image", func(r *Release) { r.Image = "Registry/App:1" }},
		{"retry", func(r *Release) { r.Retry = -1 }},
		{"retired", func(r *Release) { r.Retired = true }}, // on production
		{`env["A-B"]`, func(r *Release) { r.Env = map[string]string{"A-B": "1"} }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			r := Release{Endpoint: "web", Track: Production, Version: "1.2.3", Image: "registry.example.com:5000/team/web:1.2.3"}
			if err := r.Validate(); err != nil {
				t.Fatalf("valid release rejected: %v", err)
			}
			tc.mutate(&r)
			if err := r.Validate(); ErrorField(err) != tc.field {
				t.Fatalf("Validate() = %v, want invalid %q", err, tc.field)
			}
		})
	}
}

// TestAReleaseMustRunOnItsEndpoint: what runs is the endpoint's template
// with the release's image and variables; either side names its own field.
func TestAReleaseMustRunOnItsEndpoint(t *testing.T) {
	ep := testEndpoint()
	ep.Template.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
	big := strings.Repeat("x", userdata.MaxBytes/2)
	ep.Template.Env = map[string]string{"HALF": big}
	fits := Release{Endpoint: ep.Name, Track: Production, Version: "v1", Env: map[string]string{"GREETING": "hi"}}
	if err := fits.ValidateOn(ep); err != nil {
		t.Fatalf("a release that fits: %v", err)
	}
	if err := ep.ValidateReleases([]Release{fits}); err != nil {
		t.Fatalf("an endpoint that fits its release: %v", err)
	}

	for _, tc := range []struct {
		field string
		env   map[string]string
	}{
		{`env["DB_PASSWORD"]`, map[string]string{"DB_PASSWORD": "hunter2"}},
		{"env", map[string]string{"OTHER_HALF": big}},
	} {
		rel := fits
		rel.Env = tc.env
		if err := rel.ValidateOn(ep); ErrorField(err) != tc.field {
			t.Errorf("release with env %.20q: %v, want invalid %q", tc.env, err, tc.field)
		}
	}

	withSecret := ep
	withSecret.Template.Secrets = map[string]string{"GREETING": "arn:aws:ssm:us-east-1:123456789012:parameter/greeting"}
	if err := withSecret.ValidateReleases([]Release{fits}); ErrorField(err) != `template.secrets["GREETING"]` {
		t.Errorf("secret the release sets: %v", err)
	}
	grown := ep
	grown.Template.Env = map[string]string{"HALF": big, "OTHER_HALF": big}
	if err := grown.Validate(); ErrorField(err) != "template.env" {
		t.Errorf("template env beyond the limit alone: %v", err)
	}
}

func TestInvalidCommandNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		field string
		c     Command
	}{
		{"kind", Command{Kind: "deploy"}},
		{"for", Command{Kind: CommandPromote, For: Duration(time.Minute)}},
		{"to", Command{Kind: CommandAbort, To: "v1"}},
		{"to", Command{Kind: CommandRollback, To: "bad version"}},
		{"reason", Command{Kind: CommandAbort, Reason: strings.Repeat("x", 2000)}},
	} {
		if err := tc.c.Validate(); ErrorField(err) != tc.field {
			t.Errorf("%+v: Validate() = %v, want invalid %q", tc.c, err, tc.field)
		}
	}
}

func TestDurationDecodingErrorNamesTheField(t *testing.T) {
	ep := NewEndpoint()
	err := json.Unmarshal([]byte(`{"policy":{"steps":[{"weight":10,"pause":"5 minutes"}]}}`), &ep)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "policy.steps.pause" {
		t.Fatalf("error = %v, want a type error on policy.steps.pause", err)
	}
	if err := json.Unmarshal([]byte(`{"policy":{"bake_time":"90s"}}`), &ep); err != nil || ep.Policy.BakeTime.D() != 90*time.Second {
		t.Fatalf("bake_time = %v, %v", ep.Policy.BakeTime, err)
	}
	if ep.Policy.HealthyTimeout.D() != 10*time.Minute {
		t.Errorf("decoding over NewEndpoint lost the default healthy_timeout: %v", ep.Policy.HealthyTimeout)
	}
}

func TestTemplateHashChangesWithWhatRuns(t *testing.T) {
	ep := testEndpoint()
	base := TemplateHash(ep.Template, "web:1", nil)
	if TemplateHash(ep.Template, "web:1", nil) != base {
		t.Fatal("hash is not stable")
	}
	changed := ep.Template
	changed.Env = map[string]string{"A": "1"}
	for name, h := range map[string]string{
		"template": TemplateHash(changed, "web:1", nil),
		"image":    TemplateHash(ep.Template, "web:2", nil),
		"env":      TemplateHash(ep.Template, "web:1", map[string]string{"A": "1"}),
	} {
		if h == base {
			t.Errorf("changing the %s did not change the hash", name)
		}
	}
}
