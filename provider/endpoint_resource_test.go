package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	shifteraws "github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAccEndpointAndRelease walks an endpoint and its release through
// create, import, update and destroy; destroy leaves nothing in AWS.
func TestAccEndpointAndRelease(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	endpoint, release := "ionroller_endpoint.test", "ionroller_release.test"
	config := func(version, waitFor, steps string) string {
		return providerConfig(s.url) + endpointConfig(name, s.net, steps, noRollbackWindow) + releaseConfig(version, waitFor, 0)
	}
	var revision int64

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config("v1", waitHealthy, oneStep),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					// Defaults from rollout.NewEndpoint, visible in state.
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("template").AtMapKey("instance_type"), knownvalue.StringExact("t3.micro")),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("policy").AtMapKey("healthy_timeout"), knownvalue.StringExact("10m0s")),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("template").AtMapKey("health_check").AtMapKey("interval"), knownvalue.StringExact("15s")),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("policy").AtMapKey("bake_time"), knownvalue.StringExact("0s")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("id"), knownvalue.StringExact(name+"/production")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("image"), knownvalue.StringExact("registry.example.com/"+name+":v1")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(100)),
				},
			},
			// The endpoint's status in state is as of its creation, before
			// the release: refresh it so that the import compares like
			// with like.
			{RefreshState: true},
			{
				ResourceName:      endpoint,
				ImportState:       true,
				ImportStateVerify: true,
				// When AWS was last observed moves on by itself.
				ImportStateVerifyIgnore: []string{"timeouts", "status.observed_at"},
			},
			{
				ResourceName:            release,
				ImportState:             true,
				ImportStateId:           name + "/production",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// Changing only how an apply waits is Terraform's business:
				// the shifter is not called, and the image stays known.
				PreConfig: func() { revision = s.releaseRevision(t, name) },
				Config:    config("v1", waitComplete, oneStep),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("image"), knownvalue.StringExact("registry.example.com/"+name+":v1")),
				}},
				Check: func(*terraform.State) error {
					if now := s.releaseRevision(t, name); now != revision {
						return fmt.Errorf("the release's revision went from %d to %d: the shifter was called", revision, now)
					}
					return nil
				},
			},
			{
				// The image a new version resolves to is planned, on the
				// endpoint as the same run changes it.
				Config: config("v2", waitHealthy, threeSteps),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(endpoint, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction(release, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(release, tfjsonpath.New("image"), knownvalue.StringExact("registry.example.com/"+name+":v2")),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("policy").AtMapKey("steps"), knownvalue.ListSizeExact(3)),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("policy").AtMapKey("steps").AtSliceIndex(0).AtMapKey("pause"), knownvalue.StringExact("1s")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("version"), knownvalue.StringExact("v2")),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("image"), knownvalue.StringExact("registry.example.com/"+name+":v2")),
				},
			},
		},
	})
}

// TestAccEndpointOnEachRouter walks an endpoint routed by a listener the
// shifter creates on an NLB and one routed by Route 53 records through
// create, import, a rollout and destroy, which deletes the listener and its
// idle target group (the user's listener beside it untouched) and the
// records (checkDestroyed); a Route 53 endpoint's status shows the DNS TTL.
func TestAccEndpointOnEachRouter(t *testing.T) {
	for _, tc := range []struct {
		name string
		// add adds what the endpoint routes on to the network.
		add func(testing.TB, aws.Config, *awstest.Net)
		// traffic and healthCheck are HCL.
		traffic     func(name string, net awstest.Net) string
		healthCheck string
		checks      func(name string, net awstest.Net) []statecheck.StateCheck
		// inAWS checks what the shifter made of the route (nil: no check).
		inAWS func(s *testShifter, name string) error
		// rotated, when set, is traffic that differs from traffic only in
		// what may change in place; rotatedInAWS is true once the route is
		// what it says, traffic where it was.
		rotated      func(name string, net awstest.Net) string
		rotatedInAWS func(s *testShifter) (bool, error)
	}{
		{
			name: "nlb",
			add:  awstest.AddNLB,
			traffic: func(_ string, net awstest.Net) string {
				return fmt.Sprintf(`{ nlb = { load_balancer_arn = %q, port = %d } }`, net.NLBARN, net.NLBPort)
			},
			healthCheck: `health_check = { protocol = "TCP" }`,
			checks: func(_ string, net awstest.Net) []statecheck.StateCheck {
				return []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("traffic").AtMapKey("nlb").AtMapKey("load_balancer_arn"), knownvalue.StringExact(net.NLBARN)),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("traffic").AtMapKey("nlb").AtMapKey("port"), knownvalue.Int64Exact(int64(net.NLBPort))),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("traffic").AtMapKey("listener_arn"), knownvalue.Null()),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("template").AtMapKey("health_check").AtMapKey("protocol"), knownvalue.StringExact("TCP")),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("status").AtMapKey("dns_ttl"), knownvalue.Null()),
				}
			},
			inAWS: func(s *testShifter, name string) error {
				// The shifter's own listener on the port, tagged as the
				// endpoint's, forwarding to the live version alone.
				li, err := awstest.NLBListener(context.Background(), s.aws, s.net.NLBARN, s.net.NLBPort)
				if err != nil || li == nil {
					return fmt.Errorf("no listener on port %d of the NLB (%v)", s.net.NLBPort, err)
				}
				tags, err := elb.NewFromConfig(awstest.Exempt(s.aws)).DescribeTags(context.Background(), &elb.DescribeTagsInput{ResourceArns: []string{aws.ToString(li.ListenerArn)}})
				if err != nil {
					return err
				}
				for _, d := range tags.TagDescriptions {
					for _, tag := range d.Tags {
						if aws.ToString(tag.Key) == shifteraws.TagEndpoint && aws.ToString(tag.Value) == name {
							if w := shifteraws.ForwardWeights(li.DefaultActions); len(w) != 1 {
								return fmt.Errorf("the listener forwards %v, want the live version's target group alone", w)
							}
							return nil
						}
					}
				}
				return fmt.Errorf("listener %s is not tagged as endpoint %s's", aws.ToString(li.ListenerArn), name)
			},
		},
		{
			name: "nlb-tls",
			add: func(tb testing.TB, cfg aws.Config, net *awstest.Net) {
				awstest.AddNLB(tb, cfg, net)
				awstest.AddCertificates(tb, cfg, net)
			},
			traffic: func(_ string, net awstest.Net) string {
				return fmt.Sprintf(`{ nlb = { load_balancer_arn = %q, port = %d, protocol = "TLS", certificate_arn = %q } }`, net.NLBARN, net.NLBPort, net.CertificateARNs[0])
			},
			healthCheck: `health_check = { protocol = "TLS" }`,
			checks: func(_ string, net awstest.Net) []statecheck.StateCheck {
				nlb := tfjsonpath.New("traffic").AtMapKey("nlb")
				return []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ionroller_endpoint.test", nlb.AtMapKey("protocol"), knownvalue.StringExact("TLS")),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", nlb.AtMapKey("certificate_arn"), knownvalue.StringExact(net.CertificateARNs[0])),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", nlb.AtMapKey("ssl_policy"), knownvalue.Null()),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("template").AtMapKey("health_check").AtMapKey("protocol"), knownvalue.StringExact("TLS")),
				}
			},
			inAWS: func(s *testShifter, _ string) error {
				li, err := awstest.NLBListener(context.Background(), s.aws, s.net.NLBARN, s.net.NLBPort)
				if err != nil || li == nil {
					return fmt.Errorf("no listener on port %d of the NLB (%v)", s.net.NLBPort, err)
				}
				if li.Protocol != elbtypes.ProtocolEnumTls || len(li.Certificates) != 1 || aws.ToString(li.Certificates[0].CertificateArn) != s.net.CertificateARNs[0] ||
					aws.ToString(li.SslPolicy) != rollout.DefaultSSLPolicy {
					return fmt.Errorf("listener %s with certificates %v and policy %q; want TLS with %s and %s", li.Protocol, li.Certificates, aws.ToString(li.SslPolicy),
						s.net.CertificateARNs[0], rollout.DefaultSSLPolicy)
				}
				return nil
			},
			// The certificate rotated and the policy changed, in place.
			rotated: func(_ string, net awstest.Net) string {
				return fmt.Sprintf(`{ nlb = { load_balancer_arn = %q, port = %d, protocol = "TLS", certificate_arn = %q, ssl_policy = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06" } }`,
					net.NLBARN, net.NLBPort, net.CertificateARNs[1])
			},
			rotatedInAWS: func(s *testShifter) (bool, error) {
				li, err := awstest.NLBListener(context.Background(), s.aws, s.net.NLBARN, s.net.NLBPort)
				if err != nil || li == nil {
					return false, fmt.Errorf("no listener on port %d of the NLB (%v)", s.net.NLBPort, err)
				}
				if w := shifteraws.ForwardWeights(li.DefaultActions); len(w) != 1 {
					return false, fmt.Errorf("the listener forwards %v, want the live version's target group alone", w)
				}
				return len(li.Certificates) == 1 && aws.ToString(li.Certificates[0].CertificateArn) == s.net.CertificateARNs[1] &&
					aws.ToString(li.SslPolicy) == "ELBSecurityPolicy-TLS13-1-2-Res-2021-06", nil
			},
		},
		{
			name: "route53",
			add:  awstest.AddSlots,
			traffic: func(name string, net awstest.Net) string {
				return fmt.Sprintf(`{ route53 = { hosted_zone_id = %q, name = "%s.example.test", listeners = [%s], health_check = { path = "/healthz", interval = "10s" } } }`,
					net.HostedZoneID, name, quoted(net.SlotListenerARNs))
			},
			checks: func(name string, _ awstest.Net) []statecheck.StateCheck {
				return []statecheck.StateCheck{
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("traffic").AtMapKey("route53").AtMapKey("name"), knownvalue.StringExact(name+".example.test")),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("status").AtMapKey("dns_ttl"), knownvalue.StringExact("1m0s")),
					statecheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("traffic").AtMapKey("route53").AtMapKey("health_check"), knownvalue.ObjectExact(map[string]knownvalue.Check{
						"path": knownvalue.StringExact("/healthz"), "interval": knownvalue.StringExact("10s"), "failure_threshold": knownvalue.Int64Exact(3),
					})),
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestShifter(t)
			tc.add(t, s.aws, &s.net)
			name := randomName()
			endpoint, release := "ionroller_endpoint.test", "ionroller_release.test"
			config := func(version string) string {
				return providerConfig(s.url) + routedEndpointConfig(name, s.net, tc.traffic(name, s.net), tc.healthCheck, oneStep, noRollbackWindow) + releaseConfig(version, waitComplete, 0)
			}
			live := func(version string) []statecheck.StateCheck {
				return []statecheck.StateCheck{
					statecheck.ExpectKnownValue(release, tfjsonpath.New("version"), knownvalue.StringExact(version)),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("traffic_percent"), knownvalue.Int64Exact(100)),
				}
			}
			steps := []resource.TestStep{
				{Config: config("v1"), ConfigStateChecks: append(tc.checks(name, s.net), live("v1")...), Check: func(*terraform.State) error {
					if tc.inAWS == nil {
						return nil
					}
					return tc.inAWS(s, name)
				}},
				{RefreshState: true},
				{
					ResourceName:            endpoint,
					ImportState:             true,
					ImportStateVerify:       true,
					ImportStateVerifyIgnore: []string{"timeouts", "status.observed_at"},
				},
				{Config: config("v2"), ConfigStateChecks: live("v2")},
			}
			if tc.rotated != nil {
				// Changed in place, and the shifter brings the route to
				// it with traffic where it was.
				steps = append(steps, resource.TestStep{
					Config: providerConfig(s.url) + routedEndpointConfig(name, s.net, tc.rotated(name, s.net), tc.healthCheck, oneStep, noRollbackWindow) +
						releaseConfig("v2", waitComplete, 0),
					ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction(endpoint, plancheck.ResourceActionUpdate),
					}},
					Check: func(*terraform.State) error {
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						defer cancel()
						return poll(ctx, func() (bool, error) { return tc.rotatedInAWS(s) })
					},
				})
			}
			resource.ParallelTest(t, resource.TestCase{
				ProtoV6ProviderFactories: s.factories(),
				CheckDestroy:             s.checkDestroyed(name),
				Steps:                    steps,
			})
		})
	}
}

// TestAccEndpointDisappears: an endpoint deleted behind Terraform's back
// leaves state at the next refresh, and the plan creates it again.
func TestAccEndpointDisappears(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{{
			Config: providerConfig(s.url) + endpointConfig(name, s.net, oneStep, noRollbackWindow),
			Check: func(*terraform.State) error {
				return s.deleteEndpoint(name)
			},
			ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("ionroller_endpoint.test", plancheck.ResourceActionCreate),
			}},
			ExpectNonEmptyPlan: true,
		}},
	})
}

// TestAccEndpointStaleRevision: an endpoint changed by someone else between
// Terraform's read and its write is not overwritten. The plans run without
// refresh, so the apply sends the revision Terraform read first.
func TestAccEndpointStaleRevision(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	config := func(alarms string) string {
		return providerConfig(s.url) + fmt.Sprintf(`
resource "ionroller_endpoint" "test" {
  name                = %[1]q
  deletion_protection = false
  traffic = {
    listener_arn = %[2]q
    priority     = 10
  }
  template = {
    repository     = "registry.example.com/web"
    container_port = 8080
    ami            = %[3]q
    subnets        = [%[4]s]
  }
  policy = {
    alarms = %[5]s
  }
}
`, name, s.net.ListenerARN, s.net.AMI, quoted(s.net.Subnets), alarms)
	}

	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		AdditionalCLIOptions:     &resource.AdditionalCLIOptions{Plan: resource.PlanOptions{NoRefresh: true}},
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{Config: config(`[]`)},
			{
				// Another writer changes the endpoint after Terraform read it.
				PreConfig: func() {
					ctx := context.Background()
					awstest.PutAlarm(t, s.aws, "web-5xx")
					v, err := s.client.GetEndpoint(ctx, name)
					if err != nil {
						t.Fatal(err)
					}
					v.Endpoint.Team = "someone-else"
					if _, err := s.client.PutEndpoint(ctx, v.Endpoint, v.Endpoint.Revision); err != nil {
						t.Fatal(err)
					}
				},
				Config:      config(`["web-5xx"]`),
				ExpectError: looseRegexp(`Another run changed endpoint "` + name + `" since Terraform last read it; re-run plan`),
			},
			// A refresh reads the other writer's change (and the current
			// revision, so the destroy that ends the test is not stale).
			{
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				RefreshPlanChecks: resource.RefreshPlanChecks{PostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("ionroller_endpoint.test", plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue("ionroller_endpoint.test", tfjsonpath.New("team"), knownvalue.StringExact("someone-else")),
				}},
			},
		},
	})
}

// releaseRevision returns the revision of the production release of
// endpoint in the shifter.
func (s *testShifter) releaseRevision(t *testing.T, endpoint string) int64 {
	t.Helper()
	v, err := s.client.GetRelease(context.Background(), endpoint, rollout.Production)
	if err != nil {
		t.Fatal(err)
	}
	return v.Release.Revision
}

// deleteEndpoint deletes an endpoint through the API and waits until it is
// gone.
func (s *testShifter) deleteEndpoint(name string) error {
	ctx := context.Background()
	if _, err := s.client.DeleteEndpoint(ctx, name, rollout.RevisionAny); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := s.client.GetEndpoint(ctx, name)
		switch {
		case isNotFound(err):
			return nil
		case err != nil:
			return err
		case time.Now().After(deadline):
			return fmt.Errorf("endpoint %s not gone 30s after its deletion", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAccMissingAlarmAtPlanAndLater: a policy alarm that does not exist is
// refused at plan, on the attribute; one deleted after the apply is a
// condition of the endpoint that holds its next rollout, in its status and a
// warning in the next plan.
func TestAccMissingAlarmAtPlanAndLater(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	alarm := name + "-5xx"
	endpoint := "ionroller_endpoint.test"
	withAlarm := strings.Replace(endpointConfig(name, s.net, oneStep, noRollbackWindow),
		`bake_time       = "0s"`, fmt.Sprintf(`bake_time       = "0s"
    alarms          = [%q]`, alarm), 1)
	config := func(version, waitFor string) string {
		return providerConfig(s.url) + withAlarm + releaseConfig(version, waitFor, 0)
	}
	var cw *cloudwatch.Client
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config:      config("v1", waitComplete),
				ExpectError: looseRegexp(fmt.Sprintf(`The shifter refused policy.alarms[0]: alarm %q does not exist in the endpoint's account and region`, alarm)),
			},
			{
				PreConfig: func() { cw = awstest.PutAlarm(t, s.aws, alarm) },
				Config:    config("v1", waitComplete),
			},
			{
				PreConfig: func() {
					if _, err := cw.DeleteAlarms(t.Context(), &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{alarm}}); err != nil {
						t.Fatal(err)
					}
				},
				// The rollout of v2 reads the alarms, finds it gone, and
				// holds before its bake ends.
				Config: config("v2", waitHealthy),
			},
			{
				PreConfig: s.warnings.reset,
				Config:    config("v2", waitHealthy),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					s.warnings.expectWarning(regexp.MustCompile(`ionroller endpoint "` + name + `": alarm_missing \(blocking: its rollouts hold\): alarm ` + alarm + ` does not exist`)),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					// First by type; an environment going away may add a
					// passing condition after it.
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("conditions"), knownvalue.ListPartial(map[int]knownvalue.Check{
						0: knownvalue.ObjectPartial(map[string]knownvalue.Check{
							"type":     knownvalue.StringExact("alarm_missing"),
							"blocking": knownvalue.Bool(true),
						}),
					})),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("rollout").AtMapKey("holding"),
						knownvalue.StringRegexp(regexp.MustCompile(`^holding at 100%: alarm `+alarm+` does not exist`))),
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("status").AtMapKey("observed_at"), knownvalue.NotNull()),
				},
			},
		},
	})
}

func TestConditionsAreWarnings(t *testing.T) {
	since := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	var diags diag.Diagnostics
	warnConditions("web", rollout.Conditions{
		{Type: rollout.AWSUnreachable, Since: since, Blocking: true, Message: "AWS did not answer within 10s"},
		{Type: rollout.AlarmMissing, Since: since, Message: "alarm x does not exist"},
	}, &diags)
	if diags.HasError() || diags.WarningsCount() != 2 {
		t.Fatalf("diagnostics: %v", diags)
	}
	w := diags.Warnings()[0]
	if w.Summary() != `ionroller endpoint "web": aws_unreachable (blocking: its rollouts hold)` ||
		w.Detail() != "AWS did not answer within 10s (since 2026-12-03T12:00:00Z)." {
		t.Errorf("warning: %q / %q", w.Summary(), w.Detail())
	}
}

// TestRoute53RolloutsWarnThatTrafficFollowsDNS: while traffic moved by DNS
// records is moving, the plan says it follows the records only after the
// TTL; at rest it says nothing.
func TestRoute53RolloutsWarnThatTrafficFollowsDNS(t *testing.T) {
	status := rollout.EndpointStatus{DNSTTL: rollout.Duration(rollout.Route53AliasTTL)}
	var diags diag.Diagnostics
	warnDNS("web", status, &diags)
	if len(diags) != 0 {
		t.Fatalf("at rest: %v, want no warning", diags)
	}
	status.Rollout = &rollout.RolloutStatus{Version: "v2"}
	warnDNS("web", status, &diags)
	if diags.WarningsCount() != 1 || !strings.Contains(diags.Warnings()[0].Detail(), "after 1m0s (the alias TTL)") {
		t.Errorf("during a rollout: %v, want one warning naming the TTL", diags)
	}
	diags = nil
	warnDNS("web", rollout.EndpointStatus{Rollout: status.Rollout}, &diags)
	if len(diags) != 0 {
		t.Errorf("a load balancer's rollout: %v, want no warning", diags)
	}
}

// TestAccEndpointObserveOnly: an observe-only endpoint's release goes live
// in the shifter's trail and status, and nothing of it is in AWS.
func TestAccEndpointObserveOnly(t *testing.T) {
	s := newTestShifter(t)
	name := randomName()
	endpoint, release := "ionroller_endpoint.test", "ionroller_release.test"
	config := providerConfig(s.url) + strings.Replace(endpointConfig(name, s.net, oneStep, noRollbackWindow),
		"deletion_protection = false", "deletion_protection = false\n  observe_only        = true", 1) + releaseConfig("v1", waitComplete, 0)
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: s.factories(),
		CheckDestroy:             s.checkDestroyed(name),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(endpoint, tfjsonpath.New("observe_only"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("state"), knownvalue.StringExact(string(rollout.PhaseComplete))),
					statecheck.ExpectKnownValue(release, tfjsonpath.New("live_version"), knownvalue.StringExact("v1")),
				},
				Check: func(*terraform.State) error {
					if w, err := s.ruleWeights(context.Background(), "10"); err == nil {
						return fmt.Errorf("an observe-only endpoint has a rule in AWS: %v", w)
					}
					return nil
				},
			},
		},
	})
}
