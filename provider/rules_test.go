package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	fwresource "github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The rules of a spec are the shifter's (package rollout); the provider
// refuses at plan what the API refuses, naming the same field. Each case
// below breaks one rule of the endpoint or the release of a working
// configuration, written once as a change of the domain types, and is sent
// both ways: rendered as HCL to `terraform plan`, and as JSON to the API.

// ruleCase breaks one rule. field is the API's field and the attribute the
// plan names; plan, when set, is what the plan says (naming field).
type ruleCase struct {
	name, field, plan string
	endpoint          func(*rollout.Endpoint)
	release           func(*ruleRelease)
}

// says sets what the plan says.
func (c ruleCase) says(plan string) ruleCase {
	c.plan = plan
	return c
}

// ruleRelease is a release as the configuration declares it: imageSet says
// the configuration sets image, even to "".
type ruleRelease struct {
	rollout.Release
	imageSet bool
}

const (
	ruleSecretARN = "arn:aws:ssm:us-east-1:123456789012:parameter/db-password"
	// tooLarge is more than EC2 takes as user data, by itself.
	tooLarge = userdata.MaxBytes + 1
)

// ruleListener is an ALB listener's ARN; ruleNLBListener an NLB
// listener's, and ruleNLB an NLB's.
const (
	ruleListener    = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
	ruleNLBListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/web/0123456789abcdef/0123456789abcdef"
	ruleNLB         = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/0123456789abcdef"
)

// routeOnRoute53 routes a working endpoint by Route 53 records on two slots
// instead.
func routeOnRoute53(e *rollout.Endpoint) {
	e.Traffic = rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: "Z0123456789ABCDEFGHIJ", Name: "web.example.com", Listeners: []string{
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/slot-a/0123456789abcdef/0123456789abcdef",
		"arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/slot-b/0123456789abcdef/0123456789abcdef",
	}}}
	e.Policy.MaxHotVersions = new(0)
}

// routeOnNLB routes a working endpoint on a port of an NLB instead.
func routeOnNLB(e *rollout.Endpoint) {
	e.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: ruleNLB, Port: 5432}}
	e.Template.HealthCheck.Protocol = "TCP"
}

// routeOnNLBTLS routes a working endpoint on a TLS listener of an NLB.
func routeOnNLBTLS(e *rollout.Endpoint) {
	routeOnNLB(e)
	e.Traffic.NLB.Protocol, e.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, ruleCertificate
	e.Template.HealthCheck.Protocol = "TLS"
}

// ruleCertificate is an ACM certificate's ARN.
const ruleCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

// ruleExecutionRole is a task execution role's ARN.
const ruleExecutionRole = "arn:aws:iam::123456789012:role/exec"

// runOnECS runs a working endpoint's versions as Fargate services instead:
// its secrets are read with a task execution role.
func runOnECS(e *rollout.Endpoint) {
	def, t := rollout.NewEndpointFor(rollout.BackendECS).Template, &e.Template
	t.Backend, t.InstanceType, t.AMI, t.MinSize, t.MaxSize, t.ECS = def.Backend, def.InstanceType, "", def.MinSize, def.MaxSize, def.ECS
	t.ECS.Cluster, t.ECS.ExecutionRoleARN = awstest.Cluster, ruleExecutionRole
}

// placeOnProviders runs a working endpoint's versions as ECS services whose
// tasks capacity providers place.
func placeOnProviders(e *rollout.Endpoint, providers ...rollout.CapacityProvider) {
	runOnECS(e)
	e.Template.ECS.LaunchType, e.Template.ECS.CapacityProviders = "", providers
}

// checkContainer runs a working endpoint on ECS with a container health
// check that is good but for what f changes.
func checkContainer(f func(*rollout.ContainerHealthCheck)) func(*rollout.Endpoint) {
	return func(e *rollout.Endpoint) {
		runOnECS(e)
		hc := &rollout.ContainerHealthCheck{Command: []string{"CMD", "true"}, Interval: rollout.Duration(30 * time.Second), Timeout: rollout.Duration(5 * time.Second), Retries: 3}
		f(hc)
		e.Template.ECS.HealthCheck = hc
	}
}

func ruleCases() []ruleCase {
	ep := func(name, field string, f func(*rollout.Endpoint)) ruleCase {
		return ruleCase{name: name, field: field, endpoint: f}
	}
	rel := func(name, field string, f func(*ruleRelease)) ruleCase {
		return ruleCase{name: name, field: field, release: f}
	}
	d := func(s string) rollout.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			panic(err)
		}
		return rollout.Duration(v)
	}
	return []ruleCase{
		// What was accepted by the API and then retried for ever.
		rel("declared empty image", "image", func(r *ruleRelease) { r.Image, r.imageSet = "", true }),
		ep("env beyond EC2's user data", "template.env", func(e *rollout.Endpoint) {
			e.Template.Env["BIG"] = strings.Repeat("x", tooLarge)
		}),
		rel("release env beyond EC2's user data", "env", func(r *ruleRelease) { r.Env["BIG"] = strings.Repeat("x", tooLarge) }),
		rel("release env that is a secret", `env["DB_PASSWORD"]`, func(r *ruleRelease) { r.Env["DB_PASSWORD"] = "hunter2" }),
		ep("secret that the release sets", `template.secrets["GREETING"]`, func(e *rollout.Endpoint) {
			e.Template.Secrets["GREETING"] = ruleSecretARN
		}),
		ep("empty executable", "template.command[0]", func(e *rollout.Endpoint) { e.Template.Command = []string{""} }),

		// The endpoint.
		ep("name", "name", func(e *rollout.Endpoint) { e.Name = "Web_1" }).says("Attribute name must be 2 to 40 lowercase letters"),
		ep("team", "team", func(e *rollout.Endpoint) { e.Team = "Web Team" }).says("Attribute team must be lowercase letters"),
		ep("region", "placement.region", func(e *rollout.Endpoint) { e.Placement.Region = "mars" }),
		ep("role ARN", "placement.role_arn", func(e *rollout.Endpoint) { e.Placement.RoleARN = "arn:aws:iam::123:user/me" }).says("Attribute placement.role_arn must be an IAM role ARN"),
		ep("external ID without role", "placement.external_id", func(e *rollout.Endpoint) { e.Placement.ExternalID = "x" }).says(`Attribute "placement.role_arn" must be specified when "placement.external_id" is specified`),
		ep("listener ARN", "traffic.listener_arn", func(e *rollout.Endpoint) { e.Traffic.ListenerARN = "arn:aws:elb:listener" }).says("Attribute traffic.listener_arn must be an Application Load Balancer listener ARN"),
		ep("priority", "traffic.priority", func(e *rollout.Endpoint) { e.Traffic.Priority = rollout.MaxPriority + 1 }).says("Attribute traffic.priority value must be between 1 and 50000, got: 50001"),
		ep("too many conditions", "traffic.hosts", func(e *rollout.Endpoint) {
			e.Traffic.Hosts = []string{"a.example.com", "b.example.com", "c.example.com"}
			e.Traffic.Paths = []string{"/a", "/b", "/c"}
		}).says("Attribute traffic.hosts and traffic.paths together may have at most 5 values"),
		ep("host", "traffic.hosts[0]", func(e *rollout.Endpoint) { e.Traffic.Hosts = []string{"bad host"} }),
		ep("path", "traffic.paths[0]", func(e *rollout.Endpoint) { e.Traffic.Paths = []string{"no-slash"} }),
		ep("preview priority without a route", "traffic.preview_priority", func(e *rollout.Endpoint) { e.Traffic.PreviewPriority = 11 }).says("Attribute traffic.preview_priority is set but neither preview_host nor preview_listener_arn is"),
		ep("preview host", "traffic.preview_host", func(e *rollout.Endpoint) {
			e.Traffic.PreviewHost, e.Traffic.PreviewPriority = "bad host", 11
		}),
		ep("preview listener", "traffic.preview_listener_arn", func(e *rollout.Endpoint) {
			e.Traffic.PreviewListenerARN, e.Traffic.PreviewPriority = "arn:aws:elb:listener", 11
		}),
		ep("NLB ARN", "traffic.nlb.load_balancer_arn", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Traffic.NLB.LoadBalancerARN = ruleNLBListener
		}).says("Attribute traffic.nlb.load_balancer_arn must be a Network Load Balancer ARN"),
		ep("an ALB as an NLB", "traffic.nlb.load_balancer_arn", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Traffic.NLB.LoadBalancerARN = strings.Replace(ruleNLB, "/net/", "/app/", 1)
		}).says("Attribute traffic.nlb.load_balancer_arn must be a Network Load Balancer ARN"),
		ep("NLB port", "traffic.nlb.port", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Traffic.NLB.Port = 65536
		}).says("Attribute traffic.nlb.port value must be between 1 and 65535, got: 65536"),
		ep("an ALB rule and an NLB listener", "traffic.listener_arn", func(e *rollout.Endpoint) {
			listener, priority := e.Traffic.ListenerARN, e.Traffic.Priority
			routeOnNLB(e)
			e.Traffic.ListenerARN, e.Traffic.Priority = listener, priority
		}),
		ep("target protocol", "template.health_check.protocol", func(e *rollout.Endpoint) { e.Template.HealthCheck.Protocol = "UDP" }),
		ep("HTTP target groups behind an NLB", "template.health_check.protocol", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Template.HealthCheck.Protocol = ""
		}).says("Attribute template.health_check.protocol must be TCP"),
		ep("TLS target groups behind the shifter's TCP listener", "template.health_check.protocol", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Template.HealthCheck.Protocol = "TLS"
		}).says("Attribute template.health_check.protocol must be TCP: traffic.nlb.protocol is TCP"),
		ep("NLB listener protocol", "traffic.nlb.protocol", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Traffic.NLB.Protocol = "UDP"
		}).says("Attribute traffic.nlb.protocol value must be one of"),
		ep("certificate ARN", "traffic.nlb.certificate_arn", func(e *rollout.Endpoint) {
			routeOnNLBTLS(e)
			e.Traffic.NLB.CertificateARN = ruleNLB
		}).says("Attribute traffic.nlb.certificate_arn must be an ACM certificate ARN"),
		ep("TLS listener without a certificate", "traffic.nlb.certificate_arn", func(e *rollout.Endpoint) {
			routeOnNLBTLS(e)
			e.Traffic.NLB.CertificateARN = ""
		}),
		ep("security policy", "traffic.nlb.ssl_policy", func(e *rollout.Endpoint) {
			routeOnNLBTLS(e)
			e.Traffic.NLB.SSLPolicy = "TLS-1-2"
		}).says("Attribute traffic.nlb.ssl_policy must be an ELB security policy name"),
		ep("HTTP target groups behind the shifter's TLS listener", "template.health_check.protocol", func(e *rollout.Endpoint) {
			routeOnNLBTLS(e)
			e.Template.HealthCheck.Protocol = ""
		}).says("Attribute template.health_check.protocol must be TCP or TLS: traffic.nlb.protocol is TLS"),
		ep("metric checks behind an NLB", "policy.metric_checks", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 1}
		}),
		ep("observed traffic behind an NLB", "policy.observed_traffic", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: d("2m")}
		}).says("Attribute policy.observed_traffic counts requests per target group"),
		ep("hot versions behind an NLB", "policy.max_hot_versions", func(e *rollout.Endpoint) {
			routeOnNLB(e)
			e.Policy.MaxHotVersions = new(rollout.MaxNLBHotVersions + 1)
		}),
		ep("hosted zone ID", "traffic.route53.hosted_zone_id", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.HostedZoneID = "zone-1"
		}).says("Attribute traffic.route53.hosted_zone_id must be a Route 53 hosted zone ID"),
		ep("record name", "traffic.route53.name", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.Name = "*.example.com"
		}).says("Attribute traffic.route53.name must be a DNS name"),
		ep("one slot", "traffic.route53.listeners", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.Listeners = e.Traffic.Route53.Listeners[:1]
		}),
		ep("an NLB listener as a slot", "traffic.route53.listeners[0]", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.Listeners[0] = ruleNLBListener
		}).says("Attribute traffic.route53.listeners[0] must be an Application Load Balancer listener ARN"),
		ep("two slots on one load balancer", "traffic.route53.listeners[1]", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Traffic.Route53.Listeners[1] = e.Traffic.Route53.Listeners[0][:len(e.Traffic.Route53.Listeners[0])-1] + "0"
		}),
		ep("more hot versions than slots", "policy.max_hot_versions", func(e *rollout.Endpoint) {
			routeOnRoute53(e)
			e.Policy.MaxHotVersions = new(1)
		}),
		ep("Route 53 health check path", "traffic.route53.health_check.path", route53Check(func(h *rollout.Route53HealthCheck) { h.Path = "healthz" })).
			says("Attribute traffic.route53.health_check.path must be a path"),
		ep("Route 53 health check interval", "traffic.route53.health_check.interval", route53Check(func(h *rollout.Route53HealthCheck) { h.Interval = d("20s") })),
		ep("Route 53 health check failures", "traffic.route53.health_check.failure_threshold", route53Check(func(h *rollout.Route53HealthCheck) { h.FailureThreshold = 11 })).
			says("Attribute traffic.route53.health_check.failure_threshold value must be between 1 and 10"),
		ep("backend", "template.backend", func(e *rollout.Endpoint) { e.Template.Backend = "lambda" }),
		ep("repository", "template.repository", func(e *rollout.Endpoint) { e.Template.Repository = "Registry/App" }),
		ep("container port", "template.container_port", func(e *rollout.Endpoint) { e.Template.ContainerPort = 0 }).says("Attribute template.container_port value must be between 1 and 65535, got: 0"),
		ep("env name", `template.env["MY-VAR"]`, func(e *rollout.Endpoint) { e.Template.Env["MY-VAR"] = "x" }).says(`Attribute template.env["MY-VAR"] must be an environment variable name`),
		ep("secret ARN", `template.secrets["DB_PASSWORD"]`, func(e *rollout.Endpoint) { e.Template.Secrets["DB_PASSWORD"] = "arn:aws:s3:::bucket/key" }).says(`Attribute template.secrets["DB_PASSWORD"] must be the ARN of an SSM parameter or a Secrets Manager secret`),
		ep("secret also in env", `template.secrets["PORT"]`, func(e *rollout.Endpoint) { e.Template.Secrets["PORT"] = ruleSecretARN }).says(`Attribute template.secrets["PORT"] "PORT" is also set in template.env`),
		ep("instance type", "template.instance_type", func(e *rollout.Endpoint) { e.Template.InstanceType = "huge" }),
		ep("AMI", "template.ami", func(e *rollout.Endpoint) { e.Template.AMI = "ami-xyz" }).says("Attribute template.ami must be an AMI ID"),
		ep("min size", "template.min_size", func(e *rollout.Endpoint) { e.Template.MinSize = -1 }),
		ep("max size", "template.max_size", func(e *rollout.Endpoint) { e.Template.MaxSize = rollout.MaxGroupSize + 1 }),
		ep("min above max", "template.min_size", func(e *rollout.Endpoint) { e.Template.MinSize = 3 }).says("Attribute template.min_size must not exceed template.max_size (2); got 3"),
		ep("desired above max", "template.desired_capacity", func(e *rollout.Endpoint) { e.Template.DesiredCapacity = 3 }).says("Attribute template.desired_capacity must be at least 1 and between min_size (1) and max_size (2); got 3"),
		ep("no subnet", "template.subnets", func(e *rollout.Endpoint) { e.Template.Subnets = []string{} }),
		ep("subnet", "template.subnets[0]", func(e *rollout.Endpoint) { e.Template.Subnets = []string{"subnet-1"} }).says("Attribute template.subnets[0] must be a subnet ID"),
		ep("security group", "template.security_groups[0]", func(e *rollout.Endpoint) { e.Template.SecurityGroups = []string{"default"} }).
			says("Attribute template.security_groups[0] must be a security group ID"),
		ep("subnet listed twice", "template.subnets[1]", func(e *rollout.Endpoint) { e.Template.Subnets = []string{e.Template.Subnets[0], e.Template.Subnets[0]} }),
		ep("security group listed twice", "template.security_groups[1]", func(e *rollout.Endpoint) {
			e.Template.SecurityGroups = append(e.Template.SecurityGroups, e.Template.SecurityGroups[0])
		}),
		ep("instance profile", "template.instance_profile", func(e *rollout.Endpoint) { e.Template.InstanceProfile = "bad profile" }),
		ep("health check path", "template.health_check.path", func(e *rollout.Endpoint) { e.Template.HealthCheck.Path = "health" }),
		ep("health check interval", "template.health_check.interval", func(e *rollout.Endpoint) { e.Template.HealthCheck.Interval = d("1s") }).says("Attribute template.health_check.interval must be between 5s and 5m0s; got 1s"),
		ep("health check timeout", "template.health_check.timeout", func(e *rollout.Endpoint) { e.Template.HealthCheck.Timeout = d("3m") }),
		ep("health check timeout not below interval", "template.health_check.timeout", func(e *rollout.Endpoint) {
			e.Template.HealthCheck.Timeout = d("20s")
		}).says("Attribute template.health_check.timeout must be shorter than the interval (15s); got 20s"),
		ep("healthy threshold", "template.health_check.healthy_threshold", func(e *rollout.Endpoint) { e.Template.HealthCheck.HealthyThreshold = 1 }),
		ep("unhealthy threshold", "template.health_check.unhealthy_threshold", func(e *rollout.Endpoint) {
			e.Template.HealthCheck.UnhealthyThreshold = rollout.MaxHealthThreshold + 1
		}),
		ep("deregistration delay", "template.deregistration_delay", func(e *rollout.Endpoint) { e.Template.DeregistrationDelay = d("2h") }),
		ep("no steps", "policy.steps", func(e *rollout.Endpoint) { e.Policy.Steps = []rollout.Step{} }).says("Attribute policy.steps must have between 1 and 20 steps; got 0"),
		ep("step weight", "policy.steps[0].weight", func(e *rollout.Endpoint) { e.Policy.Steps = []rollout.Step{{Weight: 0}, {Weight: 100}} }).says("Attribute policy.steps[0].weight value must be between 1 and 100, got: 0"),
		ep("weights not rising", "policy.steps[1].weight", func(e *rollout.Endpoint) {
			e.Policy.Steps = []rollout.Step{{Weight: 50}, {Weight: 10}, {Weight: 100}}
		}).says("Attribute policy.steps[1].weight must be greater than the previous step's weight (50); got 10"),
		ep("last step not 100", "policy.steps[1].weight", func(e *rollout.Endpoint) {
			e.Policy.Steps = []rollout.Step{{Weight: 10}, {Weight: 50}}
		}).says("Attribute policy.steps[1].weight the last step must send 100% of traffic; got 50"),
		ep("negative pause", "policy.steps[0].pause", func(e *rollout.Endpoint) {
			pause := d("-5m")
			e.Policy.Steps = []rollout.Step{{Weight: 10, Pause: &pause}, {Weight: 100}}
		}).says(`Attribute policy.steps[0].pause value "-5m0s" is negative`),
		ep("preview priority of the route's", "traffic.preview_priority", func(e *rollout.Endpoint) {
			e.Traffic.PreviewHost, e.Traffic.PreviewPriority = "preview.example.com", e.Traffic.Priority
		}).says("Attribute traffic.preview_priority must differ from traffic.priority on the same listener"),
		ep("preview host without priority", "traffic.preview_priority", func(e *rollout.Endpoint) { e.Traffic.PreviewHost = "preview.example.com" }).
			says(`Attribute "traffic.preview_priority" must be specified when "traffic.preview_host" is specified`),
		ep("step pause", "policy.steps[0].pause", func(e *rollout.Endpoint) {
			pause := d("200h")
			e.Policy.Steps = []rollout.Step{{Weight: 10, Pause: &pause}, {Weight: 100}}
		}),
		ep("healthy timeout", "policy.healthy_timeout", func(e *rollout.Endpoint) { e.Policy.HealthyTimeout = 0 }).says("Attribute policy.healthy_timeout must be between 1s and 24h0m0s; got 0s"),
		ep("min healthy percent", "policy.min_healthy_percent", func(e *rollout.Endpoint) { e.Policy.MinHealthyPercent = 0 }).says("Attribute policy.min_healthy_percent value must be between 1 and 100, got: 0"),
		ep("alarm listed twice", "policy.alarms[1]", func(e *rollout.Endpoint) { e.Policy.Alarms = []string{"web-5xx", "web-5xx"} }).says(`Attribute policy.alarms[1] "web-5xx" is listed twice`),
		ep("alarm name", "policy.alarms[0]", func(e *rollout.Endpoint) { e.Policy.Alarms = []string{"web\t5xx"} }),
		ep("too many alarms", "policy.alarms", func(e *rollout.Endpoint) {
			for i := range rollout.MaxAlarms + 1 {
				e.Policy.Alarms = append(e.Policy.Alarms, fmt.Sprintf("alarm-%d", i))
			}
		}),
		ep("bake time", "policy.bake_time", func(e *rollout.Endpoint) { e.Policy.BakeTime = d("200h") }).says("Attribute policy.bake_time must be between 0s and 168h0m0s; got 200h"),
		ep("retain previous", "policy.retain_previous", func(e *rollout.Endpoint) { e.Policy.RetainPrevious = d("800h") }),
		ep("retain capacity", "policy.retain_capacity_percent", func(e *rollout.Endpoint) { e.Policy.RetainCapacityPercent = 101 }),
		ep("hot versions", "policy.max_hot_versions", func(e *rollout.Endpoint) { e.Policy.MaxHotVersions = new(rollout.MaxHotVersions + 1) }),
		ep("5xx percent", "policy.metric_checks.max_5xx_percent", func(e *rollout.Endpoint) {
			e.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 101}
		}),
		ep("latency", "policy.metric_checks.max_latency", func(e *rollout.Endpoint) {
			e.Policy.MetricChecks = &rollout.MetricChecks{MaxLatency: d("2m")}
		}),
		ep("ratio to stable", "policy.metric_checks.max_ratio_to_stable", func(e *rollout.Endpoint) {
			e.Policy.MetricChecks = &rollout.MetricChecks{MaxRatioToStable: 0.5}
		}).says("Attribute policy.metric_checks.max_ratio_to_stable must be at least 1 (or 0 to disable); got 0.5"),
		ep("min requests", "policy.metric_checks.min_requests", func(e *rollout.Endpoint) {
			e.Policy.MetricChecks = &rollout.MetricChecks{MinRequests: -1}
		}),
		ep("judge interval", "policy.metric_checks.interval", func(e *rollout.Endpoint) {
			e.Policy.MetricChecks = &rollout.MetricChecks{Interval: d("200h")}
		}),
		ep("traffic tolerance", "policy.observed_traffic.tolerance_percent", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 60, MaxWait: d("2m")}
		}),
		ep("no traffic tolerance", "policy.observed_traffic.tolerance_percent", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{MaxWait: d("2m")}
		}),
		ep("traffic wait", "policy.observed_traffic.max_wait", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: d("200h")}
		}),
		ep("traffic interval", "policy.observed_traffic.interval", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: d("2m"), Interval: d("2m")}
		}),
		ep("traffic min requests", "policy.observed_traffic.min_requests", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: d("2m"), MinRequests: -1}
		}),
		ep("traffic on timeout", "policy.observed_traffic.on_timeout", func(e *rollout.Endpoint) {
			e.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: d("2m"), OnTimeout: "rollback"}
		}),
		ep("no AMI with backend ec2", "template.ami", func(e *rollout.Endpoint) { e.Template.AMI = "" }).says(`Attribute template.ami must be set with backend "ec2"`),
		ep("ecs with backend ec2", "template.ecs", func(e *rollout.Endpoint) {
			e.Template.ECS = rollout.DefaultECS()
			e.Template.ECS.Cluster = "apps"
		}).says(`Attribute template.ecs is for backend "ecs"; template.backend is "ec2"`),

		// The template on ECS.
		ep("backend ecs without ecs", "template.ecs", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS = nil }).says(`Attribute template.ecs must be set with backend "ecs"`),
		ep("AMI on ECS", "template.ami", func(e *rollout.Endpoint) { runOnECS(e); e.Template.AMI = "ami-0123456789abcdef0" }).says(`Attribute template.ami is for backend "ec2"`),
		ep("instance type on ECS", "template.instance_type", func(e *rollout.Endpoint) { runOnECS(e); e.Template.InstanceType = "t3.micro" }),
		ep("instance profile on ECS", "template.instance_profile", func(e *rollout.Endpoint) { runOnECS(e); e.Template.InstanceProfile = "web" }),
		ep("min size on ECS", "template.min_size", func(e *rollout.Endpoint) { runOnECS(e); e.Template.MinSize = 1 }),
		ep("max size on ECS", "template.max_size", func(e *rollout.Endpoint) { runOnECS(e); e.Template.MaxSize = 2 }),
		ep("tasks", "template.desired_capacity", func(e *rollout.Endpoint) { runOnECS(e); e.Template.DesiredCapacity = rollout.MaxGroupSize + 1 }),
		ep("cluster", "template.ecs.cluster", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.Cluster = "no spaces" }).says("Attribute template.ecs.cluster must be an ECS cluster name or ARN"),
		ep("launch type", "template.ecs.launch_type", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.LaunchType = "LAMBDA" }),
		ep("launch type beside capacity providers", "template.ecs.capacity_providers", func(e *rollout.Endpoint) {
			placeOnProviders(e, rollout.CapacityProvider{Name: "FARGATE", Weight: 1})
			e.Template.ECS.LaunchType = rollout.LaunchTypeFargate
		}).says("Attribute template.ecs.capacity_providers place tasks instead of template.ecs.launch_type"),
		ep("too many capacity providers", "template.ecs.capacity_providers", func(e *rollout.Endpoint) {
			placeOnProviders(e)
			for i := range rollout.MaxCapacityProviders + 1 {
				e.Template.ECS.CapacityProviders = append(e.Template.ECS.CapacityProviders, rollout.CapacityProvider{Name: fmt.Sprintf("p%d", i), Weight: 1})
			}
		}),
		ep("capacity provider name", "template.ecs.capacity_providers[0].name", func(e *rollout.Endpoint) {
			placeOnProviders(e, rollout.CapacityProvider{Name: "no spaces", Weight: 1})
		}),
		ep("capacity provider listed twice", "template.ecs.capacity_providers[1].name", func(e *rollout.Endpoint) {
			placeOnProviders(e, rollout.CapacityProvider{Name: "FARGATE", Weight: 1}, rollout.CapacityProvider{Name: "FARGATE", Weight: 2})
		}).says(`Attribute template.ecs.capacity_providers[1].name "FARGATE" is already in the strategy`),
		ep("capacity provider weight", "template.ecs.capacity_providers[0].weight", func(e *rollout.Endpoint) {
			placeOnProviders(e, rollout.CapacityProvider{Name: "FARGATE", Weight: rollout.MaxCapacityWeight + 1})
		}),
		ep("capacity provider base", "template.ecs.capacity_providers[0].base", func(e *rollout.Endpoint) {
			placeOnProviders(e, rollout.CapacityProvider{Name: "FARGATE", Weight: 1, Base: -1})
		}),
		ep("Fargate CPU", "template.ecs.cpu", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.CPU = 300 }).says("Attribute template.ecs.cpu must be a Fargate task size"),
		ep("Fargate memory", "template.ecs.memory", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.CPU, e.Template.ECS.Memory = 1024, 1024
		}).says("Attribute template.ecs.memory must be between 2048 and 8192 MiB in steps Fargate allows with 1024 CPU units; got 1024"),
		ep("memory on EC2", "template.ecs.memory", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.LaunchType, e.Template.ECS.Memory = rollout.LaunchTypeEC2, 64
		}),
		ep("task role", "template.ecs.task_role_arn", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.TaskRoleARN = "role/app" }),
		ep("execution role", "template.ecs.execution_role_arn", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.ExecutionRoleARN = "role/exec" }),
		ep("secrets without an execution role", "template.ecs.execution_role_arn", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.ExecutionRoleARN = ""
		}).says("Attribute template.ecs.execution_role_arn must be set when template.secrets is"),
		ep("logs on Fargate without an execution role", "template.ecs.execution_role_arn", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.Secrets, e.Template.ECS.ExecutionRoleARN = map[string]string{}, ""
			e.Template.ECS.Logs = &rollout.ECSLogs{Group: "/ecs/web", StreamPrefix: "web"}
		}),
		ep("platform version", "template.ecs.platform_version", func(e *rollout.Endpoint) { runOnECS(e); e.Template.ECS.PlatformVersion = "newest" }),
		ep("platform version on EC2", "template.ecs.platform_version", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.LaunchType, e.Template.ECS.PlatformVersion = rollout.LaunchTypeEC2, "1.4.0"
		}),
		ep("log group", "template.ecs.logs.group", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.Logs = &rollout.ECSLogs{Group: "no spaces", StreamPrefix: "web"}
		}),
		ep("log stream prefix", "template.ecs.logs.stream_prefix", func(e *rollout.Endpoint) {
			runOnECS(e)
			e.Template.ECS.Logs = &rollout.ECSLogs{Group: "/ecs/web", StreamPrefix: "a:b"}
		}),
		ep("container check command", "template.ecs.health_check.command", checkContainer(func(h *rollout.ContainerHealthCheck) { h.Command = []string{"curl"} })),
		ep("container check retries", "template.ecs.health_check.retries", checkContainer(func(h *rollout.ContainerHealthCheck) { h.Retries = 0 })),
		ep("container check interval", "template.ecs.health_check.interval", checkContainer(func(h *rollout.ContainerHealthCheck) { h.Interval = d("1s") })),
		ep("container check timeout", "template.ecs.health_check.timeout", checkContainer(func(h *rollout.ContainerHealthCheck) { h.Timeout = d("1s") })),
		ep("container check timeout not below interval", "template.ecs.health_check.timeout", checkContainer(func(h *rollout.ContainerHealthCheck) {
			h.Interval, h.Timeout = d("10s"), d("10s")
		})),
		ep("container check start period", "template.ecs.health_check.start_period", checkContainer(func(h *rollout.ContainerHealthCheck) { h.StartPeriod = d("10m") })),

		ep("webhook URL", "notifications.webhook_url", func(e *rollout.Endpoint) { e.Notifications.WebhookURL = "ftp://hooks.example.com/x" }).says("Attribute notifications.webhook_url must be an http or https URL"),
		ep("webhook format", "notifications.webhook_format", func(e *rollout.Endpoint) { e.Notifications.WebhookFormat = "pagerduty" }).says("Attribute notifications.webhook_format value must be one of"),
		ep("SNS topic", "notifications.sns_topic_arn", func(e *rollout.Endpoint) {
			e.Notifications.SNSTopicARN = "arn:aws:sqs:us-east-1:123456789012:q"
		}).says("Attribute notifications.sns_topic_arn must be an SNS topic ARN"),

		// The release.
		rel("endpoint name", "endpoint", func(r *ruleRelease) { r.Endpoint = "Web_1" }),
		rel("track", "track", func(r *ruleRelease) { r.Track = "staging" }).says(`Attribute track value must be one of: ["production" "preview"], got: "staging"`),
		rel("version", "version", func(r *ruleRelease) { r.Version = "-v1" }).says("Attribute version must be 1 to 64 letters"),
		rel("image", "image", func(r *ruleRelease) { r.Image, r.imageSet = "Registry/App:1", true }).says("Attribute image must be a Docker image reference"),
		rel("retry", "retry", func(r *ruleRelease) { r.Retry = -1 }).says("Attribute retry value must be at least 0, got: -1"),
		rel("retired production", "retired", func(r *ruleRelease) { r.Retired = true }).says("Attribute retired can only be true on the preview track"),
		rel("release env name", `env["1ST"]`, func(r *ruleRelease) { r.Env["1ST"] = "x" }).says(`Attribute env["1ST"] must be an environment variable name`),
	}
}

// TestAccSharedRules applies a working endpoint and release, then breaks one
// rule at a time: the API answers 400 naming the field and stores nothing,
// and terraform plan fails naming the same attribute.
func TestAccSharedRules(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	baseEndpoint := func() rollout.Endpoint {
		ep := rollout.NewEndpoint()
		ep.Name, ep.Team, ep.DeletionProtection = name, "web", false
		ep.Traffic = rollout.Traffic{ListenerARN: s.net.ListenerARN, Priority: 10, Hosts: []string{name + ".example.com"}}
		ep.Template.Repository = "registry.example.com/" + name
		ep.Template.ContainerPort = 8080
		ep.Template.AMI, ep.Template.Subnets = s.net.AMI, s.net.Subnets
		ep.Template.SecurityGroups = []string{s.net.SecurityGroup}
		ep.Template.Env = map[string]string{"PORT": "8080"}
		ep.Template.Secrets = map[string]string{"DB_PASSWORD": ruleSecretARN}
		ep.Template.DeregistrationDelay = 0
		ep.Policy.Steps = []rollout.Step{{Weight: 100}}
		ep.Policy.BakeTime, ep.Policy.RetainPrevious = 0, 0
		return ep
	}
	baseRelease := func() ruleRelease {
		return ruleRelease{Release: rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v1", Env: map[string]string{"GREETING": "hi"}}}
	}
	config := func(c ruleCase) string {
		ep, rel := baseEndpoint(), baseRelease()
		if c.endpoint != nil {
			c.endpoint(&ep)
		}
		if c.release != nil {
			c.release(&rel)
		}
		return providerConfig(s.url) + endpointHCL(ep) + releaseHCL(rel)
	}

	cases := ruleCases()
	steps := []resource.TestStep{{
		Config: config(ruleCase{}),
		Check: func(*terraform.State) error {
			for _, c := range cases {
				ep, rel := baseEndpoint(), baseRelease()
				if c.endpoint != nil {
					c.endpoint(&ep)
					if err := s.apiRefuses(c.field, "/v1/endpoints/"+ep.Name, endpointJSON(t, ep), "/v1/endpoints/"+name); err != nil {
						return fmt.Errorf("%s: %w", c.name, err)
					}
				}
				if c.release != nil {
					c.release(&rel)
					path := fmt.Sprintf("/v1/endpoints/%s/releases/%s", rel.Endpoint, rel.Track)
					if err := s.apiRefuses(c.field, path, releaseJSON(t, rel), fmt.Sprintf("/v1/endpoints/%s/releases/production", name)); err != nil {
						return fmt.Errorf("%s: %w", c.name, err)
					}
				}
			}
			return nil
		},
	}}
	for _, c := range cases {
		// The attribute as a framework validator prints it, bare or
		// quoted.
		want := regexp.MustCompile(`(Attribute |")` + regexp.QuoteMeta(c.field) + `"?\s`)
		if c.plan != "" {
			if !want.MatchString(c.plan + " ") {
				t.Fatalf("%s: %q does not name %s", c.name, c.plan, c.field)
			}
			want = looseRegexp(c.plan)
		}
		steps = append(steps, resource.TestStep{Config: config(c), PlanOnly: true, ExpectError: want})
	}
	// The destroy that ends the test runs with the last configuration.
	steps = append(steps, resource.TestStep{Config: config(ruleCase{}), PlanOnly: true})
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps:                    steps,
	})
}

// apiRefuses PUTs body at path as the current revision of what current
// names, and checks the answer is a 400 naming field and that what current
// names kept its revision.
func (s *testShifter) apiRefuses(field, path string, body []byte, current string) error {
	rev, err := s.revision(current)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPut, s.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if path == current {
		req.Header.Set("If-Match", wire.ETag(rev))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var answer wire.ErrorResponse
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || answer.Error == nil {
		return fmt.Errorf("PUT %s: %s, not an error body (%v)", path, resp.Status, err)
	}
	if resp.StatusCode != http.StatusBadRequest || answer.Error.Field != field {
		return fmt.Errorf("PUT %s: %s naming %q (%s), want 400 naming %q", path, resp.Status, answer.Error.Field, answer.Error.Message, field)
	}
	if after, err := s.revision(current); err != nil || after != rev {
		return fmt.Errorf("%s went from revision %d to %d (%v): a refused write stored something", current, rev, after, err)
	}
	return nil
}

// revision reads the revision of the endpoint or release at path.
func (s *testShifter) revision(path string) (int64, error) {
	resp, err := http.Get(s.url + path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct {
		Endpoint struct{ Revision int64 } `json:"endpoint"`
		Release  struct{ Revision int64 } `json:"release"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return 0, fmt.Errorf("GET %s: %s: %w", path, resp.Status, err)
	}
	return max(v.Endpoint.Revision, v.Release.Revision), nil
}

func endpointJSON(t *testing.T, ep rollout.Endpoint) []byte {
	b, err := json.Marshal(ep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// releaseJSON is the body of a PUT of r, with "image" when the
// configuration sets it.
func releaseJSON(t *testing.T, r ruleRelease) []byte {
	var m map[string]any
	b, err := json.Marshal(r.Release)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r.imageSet {
		m["image"] = r.Image
	}
	delete(m, "revision")
	delete(m, "updated_at")
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

// endpointHCL writes ep as the configuration of ionroller_endpoint.test,
// leaving out what is empty.
func endpointHCL(ep rollout.Endpoint) string {
	w := &hclWriter{}
	w.open(`resource "ionroller_endpoint" "test"`)
	w.str("name", ep.Name)
	w.str("team", ep.Team)
	w.attr("deletion_protection", fmt.Sprint(ep.DeletionProtection))
	if p := ep.Placement; p != (rollout.Placement{}) {
		w.open("placement =")
		w.str("region", p.Region)
		w.str("role_arn", p.RoleARN)
		w.str("external_id", p.ExternalID)
		w.close()
	}
	tr := ep.Traffic
	w.open("traffic =")
	if r := tr.Route53; r != nil {
		w.open("route53 =")
		w.str("hosted_zone_id", r.HostedZoneID)
		w.str("name", r.Name)
		w.list("listeners", r.Listeners)
		if h := r.HealthCheck; h != nil {
			w.open("health_check =")
			w.str("path", h.Path)
			w.str("interval", h.Interval.String())
			w.int("failure_threshold", h.FailureThreshold)
			w.close()
		}
		w.close()
	}
	if tr.NLB != nil {
		w.open("nlb =")
		w.str("load_balancer_arn", tr.NLB.LoadBalancerARN)
		w.int("port", tr.NLB.Port)
		w.str("protocol", tr.NLB.Protocol)
		w.str("certificate_arn", tr.NLB.CertificateARN)
		w.str("ssl_policy", tr.NLB.SSLPolicy)
		w.close()
	}
	w.str("listener_arn", tr.ListenerARN)
	w.int("priority", tr.Priority)
	w.list("hosts", tr.Hosts)
	w.list("paths", tr.Paths)
	w.str("preview_host", tr.PreviewHost)
	w.str("preview_listener_arn", tr.PreviewListenerARN)
	w.int("preview_priority", tr.PreviewPriority)
	w.close()
	tm := ep.Template
	w.open("template =")
	w.str("backend", tm.Backend)
	w.str("repository", tm.Repository)
	w.attr("container_port", fmt.Sprint(tm.ContainerPort))
	w.list("command", tm.Command)
	w.list("args", tm.Args)
	w.strMap("env", tm.Env)
	w.strMap("secrets", tm.Secrets)
	w.str("instance_type", tm.InstanceType)
	w.str("ami", tm.AMI)
	if tm.Backend == rollout.BackendECS {
		// An ecs template has no group: it sets its sizes only to break
		// that rule.
		w.int("min_size", tm.MinSize)
		w.int("max_size", tm.MaxSize)
	} else {
		w.attr("min_size", fmt.Sprint(tm.MinSize))
		w.attr("max_size", fmt.Sprint(tm.MaxSize))
	}
	w.attr("desired_capacity", fmt.Sprint(tm.DesiredCapacity))
	w.attr("subnets", hclList(tm.Subnets))
	w.list("security_groups", tm.SecurityGroups)
	w.str("instance_profile", tm.InstanceProfile)
	hc := tm.HealthCheck
	w.open("health_check =")
	w.str("protocol", hc.Protocol)
	w.str("path", hc.Path)
	w.str("interval", hc.Interval.String())
	w.str("timeout", hc.Timeout.String())
	w.attr("healthy_threshold", fmt.Sprint(hc.HealthyThreshold))
	w.attr("unhealthy_threshold", fmt.Sprint(hc.UnhealthyThreshold))
	w.close()
	w.str("deregistration_delay", tm.DeregistrationDelay.String())
	if tm.ECS != nil {
		ecsHCL(w, *tm.ECS)
	}
	w.close()
	p := ep.Policy
	w.open("policy =")
	steps := make([]string, len(p.Steps))
	for i, st := range p.Steps {
		steps[i] = fmt.Sprintf("{ weight = %d }", st.Weight)
		if st.Pause != nil {
			steps[i] = fmt.Sprintf("{ weight = %d, pause = %q }", st.Weight, st.Pause.String())
		}
	}
	w.attr("steps", "["+strings.Join(steps, ", ")+"]")
	w.str("healthy_timeout", p.HealthyTimeout.String())
	w.attr("min_healthy_percent", fmt.Sprint(p.MinHealthyPercent))
	w.list("alarms", p.Alarms)
	w.str("bake_time", p.BakeTime.String())
	w.str("retain_previous", p.RetainPrevious.String())
	w.attr("retain_capacity_percent", fmt.Sprint(p.RetainCapacityPercent))
	w.attr("max_hot_versions", fmt.Sprint(p.HotVersions()))
	if m := p.MetricChecks; m != nil {
		w.open("metric_checks =")
		w.attr("max_5xx_percent", fmt.Sprint(m.Max5xxPercent))
		w.str("max_latency", m.MaxLatency.String())
		w.attr("max_ratio_to_stable", fmt.Sprint(m.MaxRatioToStable))
		w.attr("min_requests", fmt.Sprint(m.MinRequests))
		w.str("interval", m.Interval.String())
		w.close()
	}
	if o := p.ObservedTraffic; o != nil {
		w.open("observed_traffic =")
		w.attr("tolerance_percent", fmt.Sprint(o.TolerancePercent))
		w.str("max_wait", o.MaxWait.String())
		if o.Interval != 0 {
			w.str("interval", o.Interval.String())
		}
		if o.MinRequests != 0 {
			w.attr("min_requests", fmt.Sprint(o.MinRequests))
		}
		if o.OnTimeout != "" {
			w.str("on_timeout", o.OnTimeout)
		}
		w.close()
	}
	w.close()
	if n := ep.Notifications; n != (rollout.Notifications{}) {
		w.open("notifications =")
		w.str("webhook_url", n.WebhookURL)
		w.str("webhook_format", n.WebhookFormat)
		w.str("sns_topic_arn", n.SNSTopicARN)
		w.close()
	}
	w.close()
	return w.String()
}

// ecsHCL writes e as template.ecs.
func ecsHCL(w *hclWriter, e rollout.ECS) {
	w.open("ecs =")
	w.str("cluster", e.Cluster)
	w.str("launch_type", e.LaunchType)
	if len(e.CapacityProviders) > 0 {
		providers := make([]string, len(e.CapacityProviders))
		for i, p := range e.CapacityProviders {
			providers[i] = fmt.Sprintf("{ name = %q, weight = %d, base = %d }", p.Name, p.Weight, p.Base)
		}
		w.attr("capacity_providers", "["+strings.Join(providers, ", ")+"]")
	}
	w.attr("cpu", fmt.Sprint(e.CPU))
	w.attr("memory", fmt.Sprint(e.Memory))
	w.str("task_role_arn", e.TaskRoleARN)
	w.str("execution_role_arn", e.ExecutionRoleARN)
	w.attr("assign_public_ip", fmt.Sprint(e.AssignPublicIP))
	w.str("platform_version", e.PlatformVersion)
	if l := e.Logs; l != nil {
		w.open("logs =")
		w.str("group", l.Group)
		w.str("stream_prefix", l.StreamPrefix)
		w.close()
	}
	if h := e.HealthCheck; h != nil {
		w.open("health_check =")
		w.attr("command", hclList(h.Command))
		w.str("interval", h.Interval.String())
		w.str("timeout", h.Timeout.String())
		w.attr("retries", fmt.Sprint(h.Retries))
		w.str("start_period", h.StartPeriod.String())
		w.close()
	}
	w.close()
}

// releaseHCL writes r as the configuration of ionroller_release.test, which
// returns as soon as the shifter accepted it.
func releaseHCL(r ruleRelease) string {
	w := &hclWriter{}
	w.open(`resource "ionroller_release" "test"`)
	w.str("endpoint", r.Endpoint)
	w.attr("depends_on", "[ionroller_endpoint.test]")
	w.str("track", string(r.Track))
	w.str("version", r.Version)
	if r.imageSet {
		w.attr("image", fmt.Sprintf("%q", r.Image))
	}
	w.strMap("env", r.Env)
	w.attr("retry", fmt.Sprint(r.Retry))
	w.attr("retired", fmt.Sprint(r.Retired))
	w.str("wait_for", waitNone)
	w.close()
	return w.String()
}

// hclWriter writes HCL blocks and objects, one attribute a line.
type hclWriter struct {
	strings.Builder
	depth int
}

func (w *hclWriter) line(s string) {
	w.WriteString(strings.Repeat("  ", w.depth) + s + "\n")
}

func (w *hclWriter) open(head string) { w.line(head + " {"); w.depth++ }
func (w *hclWriter) close()           { w.depth--; w.line("}") }

func (w *hclWriter) attr(name, value string) { w.line(name + " = " + value) }

// str, int, list and strMap leave out an empty value.
func (w *hclWriter) str(name, v string) {
	if v != "" {
		w.attr(name, fmt.Sprintf("%q", v))
	}
}

func (w *hclWriter) int(name string, v int) {
	if v != 0 {
		w.attr(name, fmt.Sprint(v))
	}
}

func (w *hclWriter) list(name string, v []string) {
	if len(v) > 0 {
		w.attr(name, hclList(v))
	}
}

func (w *hclWriter) strMap(name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	w.open(name + " =")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.attr(fmt.Sprintf("%q", k), fmt.Sprintf("%q", m[k]))
	}
	w.close()
}

func hclList(v []string) string { return "[" + quoted(v) + "]" }

// TestAccPlanChecksWhatIsKnownWhileSubnetsAreUnknown: the rules that need
// only what is known fail the plan even when other values of the spec (the
// subnets, from a resource the same run creates) are known only after
// apply: an env too large for EC2's boot script, and which backend's
// attributes are set. An ecs template has no boot script to outgrow.
func TestAccPlanChecksWhatIsKnownWhileSubnetsAreUnknown(t *testing.T) {
	big := fmt.Sprintf("env = { BIG = %q }", strings.Repeat("x", tooLarge))
	for _, tc := range []struct {
		name, template string
		want           string // "" when the plan succeeds
	}{
		{"env beyond EC2's user data", `ami = "ami-0123456789abcdef0"` + "\n" + big, "Attribute template.env makes the instances' boot script"},
		{"no AMI", "", `Attribute template.ami must be set with backend "ec2"`},
		{"an instance type on ECS", `backend = "ecs"` + "\n" + `instance_type = "t3.micro"` + "\n" + `ecs = { cluster = "apps" }`, `Attribute template.instance_type is for backend "ec2"`},
		{"ECS without template.ecs", `backend = "ecs"`, `Attribute template.ecs must be set with backend "ecs"`},
		{"env beyond EC2's user data on ECS", `backend = "ecs"` + "\n" + `ecs = { cluster = "apps" }` + "\n" + big, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step := resource.TestStep{Config: providerConfig("http://127.0.0.1:1") + fmt.Sprintf(`
resource "terraform_data" "subnets" {
  input = ["subnet-0123456789abcdef0"]
}

resource "ionroller_endpoint" "test" {
  name = "web"
  traffic = {
    listener_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/web/0123456789abcdef/0123456789abcdef"
    priority     = 10
  }
  template = {
    repository     = "registry.example.com/web"
    container_port = 8080
    subnets        = terraform_data.subnets.output
    %s
  }
}
`, tc.template), PlanOnly: true, ExpectNonEmptyPlan: true}
			if tc.want != "" {
				step.ExpectError = looseRegexp(tc.want)
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
					"ionroller": providerserver.NewProtocol6WithError(New("test")()),
				},
				Steps: []resource.TestStep{step},
			})
		})
	}
}

// TestEveryValidatedAttributeHasASharedRule: each attribute the provider
// validates has a case above, so that the API is shown to refuse what the
// plan refuses. A validator added without one fails here; a rule added to
// the shifter is refused at plan by the provider's call of rollout's
// validation, which the cases above show.
func TestEveryValidatedAttributeHasASharedRule(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range ruleCases() {
		covered[indexes.ReplaceAllString(c.field, "")] = true
	}
	// Terraform's own settings, never sent to the shifter.
	own := map[string]bool{"wait_for": true}
	for _, r := range []fwresource.Resource{NewEndpointResource(), NewReleaseResource()} {
		var resp fwresource.SchemaResponse
		r.Schema(t.Context(), fwresource.SchemaRequest{}, &resp)
		walkAttributes("", resp.Schema.Attributes, func(name string, a schema.Attribute) {
			if validated(a) && !own[name] && !covered[name] {
				t.Errorf("attribute %s is validated, but no case of ruleCases shows the API refusing the same", name)
			}
		})
	}
}

// indexes matches the list indexes and map keys of a field.
var indexes = regexp.MustCompile(`\[[^]]*\]`)

// walkAttributes calls fn with the dotted name of every attribute, nested
// ones included.
func walkAttributes(prefix string, attrs map[string]schema.Attribute, fn func(string, schema.Attribute)) {
	for name, a := range attrs {
		fn(prefix+name, a)
		switch a := a.(type) {
		case schema.SingleNestedAttribute:
			walkAttributes(prefix+name+".", a.Attributes, fn)
		case schema.ListNestedAttribute:
			walkAttributes(prefix+name+".", a.NestedObject.Attributes, fn)
		}
	}
}

// validated reports whether a has validators of its own.
func validated(a schema.Attribute) bool {
	switch a := a.(type) {
	case interface{ StringValidators() []validator.String }:
		return len(a.StringValidators()) > 0
	case interface{ Int64Validators() []validator.Int64 }:
		return len(a.Int64Validators()) > 0
	case interface{ Float64Validators() []validator.Float64 }:
		return len(a.Float64Validators()) > 0
	case interface{ ListValidators() []validator.List }:
		return len(a.ListValidators()) > 0
	case interface{ MapValidators() []validator.Map }:
		return len(a.MapValidators()) > 0
	case interface{ ObjectValidators() []validator.Object }:
		return len(a.ObjectValidators()) > 0
	}
	return false
}

// route53Check routes an endpoint on Route 53 with a health check of its
// versions, changed by change.
func route53Check(change func(*rollout.Route53HealthCheck)) func(*rollout.Endpoint) {
	return func(e *rollout.Endpoint) {
		routeOnRoute53(e)
		e.Traffic.Route53.HealthCheck = &rollout.Route53HealthCheck{Path: "/healthz", Interval: rollout.Duration(10 * time.Second), FailureThreshold: 3}
		change(e.Traffic.Route53.HealthCheck)
	}
}
