package provider

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// The acceptance tests run the real thing: terraform (the binary on PATH)
// drives this provider, served in-process, against a shifter running
// in-process on 127.0.0.1:0 with a temp store, which works in its own moto
// account. Nothing is faked.

func TestMain(m *testing.M) { awstest.Main(m) }

// testShifter is a shifter of one test, with the AWS network its endpoints
// use and a client to act behind Terraform's back.
type testShifter struct {
	url    string
	client *client.Client
	aws    aws.Config
	net    awstest.Net
	// warnings records the warnings the provider returns from plans.
	warnings *warningLog
	// config is the shifter's HCL configuration for an address to listen
	// on, close stops it: a restart needs both.
	config func(listen string) string
	close  func() error
}

// newTestShifter starts a shifter that acts fast (poll 50ms, resync 1s),
// lets anonymous callers in as admin (the tests' own client among them) and
// also knows the tokens given, as HCL token blocks.
func newTestShifter(t testing.TB, tokens ...string) *testShifter {
	t.Helper()
	return startShifter(t, "50ms", "1s", tokens...)
}

// startShifter starts a shifter with the poll and resync intervals given.
func startShifter(t testing.TB, poll, resync string, tokens ...string) *testShifter {
	t.Helper()
	return startShifterOn(t, awstest.Config(t), poll, resync, tokens...)
}

// startShifterOn is startShifter with the AWS configuration given (a fresh
// moto account, with middleware that watches its calls). It runs images as
// tagged: no registry serves the tests' images.
func startShifterOn(t testing.TB, awsCfg aws.Config, poll, resync string, tokens ...string) *testShifter {
	t.Helper()
	return startShifterWith(t, awsCfg, poll, resync, "images { pin = false }", tokens...)
}

// startShifterWith is startShifterOn with images, the HCL of the shifter's
// images block ("" pins images, as a real shifter does).
func startShifterWith(t testing.TB, awsCfg aws.Config, poll, resync, images string, tokens ...string) *testShifter {
	t.Helper()
	net := awstest.Network(t, awsCfg)
	storePath := filepath.Join(t.TempDir(), "shifter.db")
	config := func(listen string) string {
		return fmt.Sprintf(`
listen          = %q
poll_interval   = %q
resync_interval = %q
store { path = %q }
%s
auth {
  anonymous { role = "admin" }
  %s
}
`, listen, poll, resync, storePath, images, strings.Join(tokens, "\n"))
	}
	srv, closeSrv := daemontest.Serve(t, config("127.0.0.1:0"), awsCfg)
	c, err := client.New(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &testShifter{url: srv.URL(), client: c, aws: awsCfg, net: net, warnings: &warningLog{}, config: config, close: closeSrv}
}

// restart stops the shifter, calls whileDown with the address it listened
// on, and starts it again there on the same store.
func (s *testShifter) restart(t testing.TB, whileDown func(addr string) error) error {
	if err := s.close(); err != nil {
		return fmt.Errorf("stop the shifter: %w", err)
	}
	if err := whileDown(s.addr()); err != nil {
		return err
	}
	s.start(t)
	return nil
}

// start starts the stopped shifter again, on its address and store.
func (s *testShifter) start(t testing.TB) {
	_, s.close = daemontest.Serve(t, s.config(s.addr()), s.aws)
}

func (s *testShifter) addr() string { return strings.TrimPrefix(s.url, "http://") }

// factories serves the provider to terraform, recording plan warnings.
func (s *testShifter) factories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		"ionroller": func() (tfprotov6.ProviderServer, error) {
			server, err := providerserver.NewProtocol6WithError(New("test")())()
			return &recordingServer{ProviderServer: server, warnings: s.warnings}, err
		},
	}
}

// seedEndpoint creates an endpoint of team at rule priority, rolling out in
// steps (one step to 100% if none are given), through the tests' own
// client, behind Terraform's back, and returns its name.
func (s *testShifter) seedEndpoint(t testing.TB, team string, priority int, steps ...rollout.Step) string {
	t.Helper()
	return s.seedEndpointWith(t, team, priority, func(ep *rollout.Endpoint) {
		if len(steps) > 0 {
			ep.Policy.Steps = steps
		}
	})
}

// seedEndpointWith creates an endpoint as seedEndpoint does, with one step,
// changed by change.
func (s *testShifter) seedEndpointWith(t testing.TB, team string, priority int, change func(*rollout.Endpoint)) string {
	t.Helper()
	name := randomName()
	ep := rollout.NewEndpoint()
	ep.Name, ep.Team, ep.DeletionProtection = name, team, false
	ep.Traffic = rollout.Traffic{ListenerARN: s.net.ListenerARN, Priority: priority, Hosts: []string{name + ".example.com"}}
	ep.Template.Repository, ep.Template.ContainerPort, ep.Template.AMI = "registry.example.com/app", 8080, s.net.AMI
	ep.Template.Subnets, ep.Template.SecurityGroups = s.net.Subnets, []string{s.net.SecurityGroup}
	ep.Template.DeregistrationDelay = 0
	ep.Policy.Steps, ep.Policy.BakeTime = []rollout.Step{{Weight: 100}}, 0
	change(&ep)
	if _, err := s.client.PutEndpoint(t.Context(), ep, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	return name
}

// releaseOf declares v1 of endpoint without waiting for its rollout.
func releaseOf(endpoint string) string {
	return fmt.Sprintf("resource \"ionroller_release\" \"test\" {\n  endpoint = %q\n  version  = \"v1\"\n  wait_for = \"none\"\n}\n", endpoint)
}

// randomName returns an endpoint name for a test.
func randomName() string {
	return "acc-" + acctest.RandStringFromCharSet(8, acctest.CharSetAlpha)
}

// Configurations. Each function writes one block; tests join them.

func providerConfig(address string) string {
	return fmt.Sprintf(`
provider "ionroller" {
  address = %[1]q
}
`, address)
}

// endpointConfig is an endpoint on the test network whose rollouts are
// fast: no deregistration delay, no bake, the steps given (HCL) and a
// rollback window of retainPrevious.
func endpointConfig(name string, net awstest.Net, steps, retainPrevious string) string {
	traffic := fmt.Sprintf(`{
    listener_arn = %q
    priority     = 10
    hosts        = ["%s.example.com"]
  }`, net.ListenerARN, name)
	return routedEndpointConfig(name, net, traffic, "", steps, retainPrevious)
}

// routedEndpointConfig is endpointConfig's endpoint routed by traffic
// (HCL), with health_check (HCL, may be empty).
func routedEndpointConfig(name string, net awstest.Net, traffic, healthCheck, steps, retainPrevious string) string {
	return fmt.Sprintf(`
resource "ionroller_endpoint" "test" {
  name                = %[1]q
  team                = "web"
  deletion_protection = false
  traffic             = %[2]s
  template = {
    repository           = "registry.example.com/%[1]s"
    container_port       = 8080
    ami                  = %[3]q
    subnets              = [%[4]s]
    security_groups      = [%[5]q]
    deregistration_delay = "0s"
    %[6]s
  }
  policy = {
    steps           = %[7]s
    bake_time       = "0s"
    retain_previous = %[8]q
  }

  # A destroy that waits longer than this is a bug: fail the test, not the
  # test binary's timeout.
  timeouts {
    delete = "3m"
  }
}
`, name, traffic, net.AMI, quoted(net.Subnets), net.SecurityGroup, healthCheck, steps, retainPrevious)
}

// releaseConfig declares version on the production track of the test
// endpoint.
func releaseConfig(version, waitFor string, retry int) string {
	return releaseWithEnvConfig(version, waitFor, retry, "")
}

// releaseWithEnvConfig is releaseConfig with the release's env (HCL; ""
// leaves it out).
func releaseWithEnvConfig(version, waitFor string, retry int, env string) string {
	if env != "" {
		env = "  env      = " + env + "\n"
	}
	return fmt.Sprintf(`
resource "ionroller_release" "test" {
  endpoint = ionroller_endpoint.test.name
  version  = %[1]q
  wait_for = %[2]q
  retry    = %[3]d
%[4]s}
`, version, waitFor, retry, env)
}

// Steps of the test policies.
const (
	oneStep    = `[{ weight = 100 }]`
	threeSteps = `[{ weight = 10, pause = "1s" }, { weight = 50, pause = "1s" }, { weight = 100 }]`
	// canary waits at 10% for a promote.
	canary = `[{ weight = 10 }, { weight = 100 }]`
)

// noRollbackWindow keeps no previous version hot. The shifter keeps a hot
// environment of a deleted endpoint until its window ends, so the destroy
// that ends a test would wait for it; tests that do not roll back have none.
const noRollbackWindow = "0s"

// looseRegexp matches text literally, with any run of white space where
// text has a space: terraform wraps long diagnostics.
func looseRegexp(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// looseSequence matches texts in order, anything between them, each as
// looseRegexp does: Terraform wraps a diagnostic's detail at any space.
func looseSequence(texts ...string) *regexp.Regexp {
	parts := make([]string, len(texts))
	for i, text := range texts {
		parts[i] = looseRegexp(text).String()
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}

func quoted(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

// recordingServer is the provider as terraform sees it, keeping the
// warnings of every plan: terraform-plugin-testing's plan checks see the
// JSON plan, which has no diagnostics.
type recordingServer struct {
	tfprotov6.ProviderServer
	warnings *warningLog
}

func (s *recordingServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	resp, err := s.ProviderServer.PlanResourceChange(ctx, req)
	if resp != nil {
		s.record(req.TypeName, resp.Diagnostics)
	}
	return resp, err
}

// ReadResource keeps the warnings of the refresh a plan starts with.
func (s *recordingServer) ReadResource(ctx context.Context, req *tfprotov6.ReadResourceRequest) (*tfprotov6.ReadResourceResponse, error) {
	resp, err := s.ProviderServer.ReadResource(ctx, req)
	if resp != nil {
		s.record(req.TypeName, resp.Diagnostics)
	}
	return resp, err
}

func (s *recordingServer) record(typeName string, diags []*tfprotov6.Diagnostic) {
	for _, d := range diags {
		if d.Severity == tfprotov6.DiagnosticSeverityWarning {
			s.warnings.add(typeName + ": " + d.Summary + ": " + d.Detail)
		}
	}
}

type warningLog struct {
	mu       sync.Mutex
	warnings []string
}

func (l *warningLog) add(w string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warnings = append(l.warnings, w)
}

func (l *warningLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warnings = nil
}

// expectWarning is a plan check: a plan since the last reset warned with a
// message matching re.
func (l *warningLog) expectWarning(re *regexp.Regexp) plancheck.PlanCheck {
	return warningCheck{log: l, re: re}
}

type warningCheck struct {
	log *warningLog
	re  *regexp.Regexp
}

func (c warningCheck) CheckPlan(_ context.Context, _ plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	for _, w := range c.log.warnings {
		if c.re.MatchString(w) {
			return
		}
	}
	resp.Error = fmt.Errorf("no plan warning matches %s; the warnings were %q", c.re, c.log.warnings)
}

// ruleWeights reads the endpoint's listener rule from moto and returns its
// forward weights by version (from the target groups' tags).
func (s *testShifter) ruleWeights(ctx context.Context, priority string) (map[string]int, error) {
	elbc := elb.NewFromConfig(awstest.Exempt(s.aws))
	rules, err := elbc.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(s.net.ListenerARN)})
	if err != nil {
		return nil, err
	}
	weights := map[string]int{}
	for _, r := range rules.Rules {
		if aws.ToString(r.Priority) != priority {
			continue
		}
		for _, a := range r.Actions {
			if a.ForwardConfig == nil {
				continue
			}
			for _, tg := range a.ForwardConfig.TargetGroups {
				if aws.ToInt32(tg.Weight) == 0 {
					continue // attached for its health checks: no traffic
				}
				version, err := s.targetGroupVersion(ctx, aws.ToString(tg.TargetGroupArn))
				if err != nil {
					return nil, err
				}
				weights[version] += int(aws.ToInt32(tg.Weight))
			}
		}
		return weights, nil
	}
	return nil, fmt.Errorf("no rule at priority %s on the listener", priority)
}

func (s *testShifter) targetGroupVersion(ctx context.Context, arn string) (string, error) {
	out, err := elb.NewFromConfig(awstest.Exempt(s.aws)).DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{arn}})
	if err != nil {
		return "", err
	}
	for _, d := range out.TagDescriptions {
		for _, tag := range d.Tags {
			if aws.ToString(tag.Key) == shifteraws.TagVersion {
				return aws.ToString(tag.Value), nil
			}
		}
	}
	return "", fmt.Errorf("target group %s has no %s tag", arn, shifteraws.TagVersion)
}

// checkWeights checks the rule in moto sends traffic exactly as want says.
func (s *testShifter) checkWeights(want map[string]int) func(*terraform.State) error {
	return func(*terraform.State) error {
		got, err := s.ruleWeights(context.Background(), "10")
		if err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("the listener rule in AWS forwards %v, want %v", got, want)
		}
		return nil
	}
}

// checkDestroyed checks the endpoint is gone from the shifter and nothing
// the shifter made for it is left in AWS.
func (s *testShifter) checkDestroyed(name string) func(*terraform.State) error {
	return func(*terraform.State) error {
		ctx := context.Background()
		if _, err := s.client.GetEndpoint(ctx, name); !isNotFound(err) {
			return fmt.Errorf("endpoint %s still in the shifter (%v)", name, err)
		}
		groups, err := autoscaling.NewFromConfig(awstest.Exempt(s.aws)).DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		if err != nil {
			return err
		}
		templates, err := ec2.NewFromConfig(awstest.Exempt(s.aws)).DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
		if err != nil {
			return err
		}
		tgs, err := elb.NewFromConfig(awstest.Exempt(s.aws)).DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{})
		if err != nil {
			return err
		}
		rules, err := elb.NewFromConfig(awstest.Exempt(s.aws)).DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(s.net.ListenerARN)})
		if err != nil {
			return err
		}
		// The user's target group beside an NLB stays; the shifter's idle
		// target group goes with its listener (counted below).
		tgs.TargetGroups = slices.DeleteFunc(tgs.TargetGroups, func(tg elbtypes.TargetGroup) bool {
			return aws.ToString(tg.TargetGroupArn) == s.net.UserTargetGroupARN
		})
		if s.net.HostedZoneID != "" {
			out, err := route53.NewFromConfig(awstest.Exempt(s.aws)).ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(s.net.HostedZoneID)})
			if err != nil {
				return err
			}
			for _, r := range out.ResourceRecordSets {
				if r.SetIdentifier != nil {
					return fmt.Errorf("record %s (%s) left in the zone after destroy", aws.ToString(r.Name), aws.ToString(r.SetIdentifier))
				}
			}
			checks, err := route53.NewFromConfig(awstest.Exempt(s.aws)).ListHealthChecks(ctx, &route53.ListHealthChecksInput{})
			if err != nil {
				return err
			}
			if n := len(checks.HealthChecks); n > 0 {
				return fmt.Errorf("%d Route 53 health checks left after destroy", n)
			}
		}
		if s.net.NLBARN != "" {
			// The shifter's listener is gone; the user's stays as it was.
			out, err := elb.NewFromConfig(awstest.Exempt(s.aws)).DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(s.net.NLBARN)})
			if err != nil {
				return err
			}
			if len(out.Listeners) != 1 || aws.ToString(out.Listeners[0].ListenerArn) != s.net.UserNLBListenerARN {
				return fmt.Errorf("the NLB has %d listeners after destroy, want the user's alone", len(out.Listeners))
			}
			if got := shifteraws.ForwardWeights(out.Listeners[0].DefaultActions); !maps.Equal(got, map[string]int{s.net.UserTargetGroupARN: 100}) {
				return fmt.Errorf("the user's NLB listener forwards %v after destroy, not to the user's target group alone", got)
			}
		}
		services, definitions, err := s.ecsLeft(ctx)
		if err != nil {
			return err
		}
		if n := len(groups.AutoScalingGroups) + len(templates.LaunchTemplates) + len(tgs.TargetGroups) + services + definitions; n > 0 || len(rules.Rules) != 1 {
			return fmt.Errorf("left in AWS after destroy: %d Auto Scaling groups, %d launch templates, %d ECS services, %d task definitions, %d target groups, %d rules besides the default",
				len(groups.AutoScalingGroups), len(templates.LaunchTemplates), services, definitions, len(tgs.TargetGroups), len(rules.Rules)-1)
		}
		return nil
	}
}

// ecsLeft counts the ECS services not yet inactive in the network's cluster
// and the active task definition revisions.
func (s *testShifter) ecsLeft(ctx context.Context) (services, definitions int, err error) {
	client := ecs.NewFromConfig(awstest.Exempt(s.aws))
	list, err := client.ListServices(ctx, &ecs.ListServicesInput{Cluster: aws.String(s.net.Cluster)})
	if err != nil {
		return 0, 0, err
	}
	for batch := range slices.Chunk(list.ServiceArns, 10) {
		out, err := client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(s.net.Cluster), Services: batch})
		if err != nil {
			return 0, 0, err
		}
		for _, svc := range out.Services {
			if aws.ToString(svc.Status) != "INACTIVE" {
				services++
			}
		}
	}
	defs, err := client.ListTaskDefinitions(ctx, &ecs.ListTaskDefinitionsInput{Status: ecstypes.TaskDefinitionStatusActive})
	if err != nil {
		return 0, 0, err
	}
	return services, len(defs.TaskDefinitionArns), nil
}
