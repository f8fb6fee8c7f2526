package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The teams of the traffic matrix: payments and search have bounds, labs
// has no team block and is bounded by nothing but other teams' endpoints
// and private webhooks.
const (
	sharedListener = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/0123456789abcdef/0123456789abcdef"
	otherListener  = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/0123456789abcdef/0123456789abcdef"
	// payments' NLB (its bounds name every listener of it), and one no
	// team's bounds name.
	paymentsNLB          = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/payments/0123456789abcdef"
	paymentsNLBListeners = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/payments/0123456789abcdef/*"
	otherNLB             = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/other/0123456789abcdef"
	// zone is a Route 53 hosted zone; slotListener(team, i) a listener of
	// an ALB of its own.
	zone = "Z0123456789ABCDEFGHIJ"
)

func slotListener(team string, i int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/%s-slot-%d/0123456789abcdef/0123456789abcdef", team, i)
}

// onRoute53 routes an endpoint by the weighted records of name, on two
// slots of slotTeam's.
func onRoute53(name, slotTeam string) func(*rollout.Endpoint) {
	return func(ep *rollout.Endpoint) {
		ep.Traffic = rollout.Traffic{Route53: &rollout.Route53Traffic{HostedZoneID: zone, Name: name,
			Listeners: []string{slotListener(slotTeam, 0), slotListener(slotTeam, 1)}}}
		ep.Policy.MaxHotVersions = new(0)
	}
}

// onNLB routes an endpoint on a port of an NLB.
func onNLB(lb string, port int) func(*rollout.Endpoint) {
	return func(ep *rollout.Endpoint) {
		ep.Traffic = rollout.Traffic{NLB: &rollout.NLBTraffic{LoadBalancerARN: lb, Port: port}}
		ep.Template.HealthCheck.Protocol = "TCP"
	}
}

var (
	trafficTeams = []string{"payments", "search", "labs"}
	teamBounds   = map[string]api.Bounds{
		"payments": {
			Listeners: []string{sharedListener, paymentsNLBListeners, slotListener("payments", 0), slotListener("payments", 1)}, Hosts: []string{"*.payments.example.com"}, MinPriority: 100, MaxPriority: 199,
			Accounts: []string{"111111111111"}, RoleARNs: []string{"arn:aws:iam::111111111111:role/ionroller-*"},
			Repositories: []string{"registry.example.com/payments/*"}, WebhookHosts: []string{"hooks.example.com"},
		},
		"search": {
			Listeners: []string{sharedListener}, Hosts: []string{"*.search.example.com"}, PathPrefixes: []string{"/search"},
			MinPriority: 200, MaxPriority: 299, Accounts: []string{"222222222222"}, Repositories: []string{"registry.example.com/search/*"},
		},
	}
	// teamPriority is where each team's endpoints go: the existing one at
	// +10, a new one at +50.
	teamPriority = map[string]int{"payments": 100, "search": 200, "labs": 300}
	teamRole     = map[string]string{"payments": "arn:aws:iam::111111111111:role/ionroller-web", "search": "arn:aws:iam::222222222222:role/ionroller"}
)

// teamEndpoint is a valid endpoint of team within its bounds, at the
// priority base+offset.
func teamEndpoint(team, name string, offset int) rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name, ep.Team, ep.DeletionProtection = name, team, false
	ep.Placement = rollout.Placement{Region: "us-east-1", RoleARN: teamRole[team]}
	ep.Traffic = rollout.Traffic{ListenerARN: sharedListener, Priority: teamPriority[team] + offset, Hosts: []string{name + "." + team + ".example.com"}}
	if team == "search" {
		ep.Traffic.Paths = []string{"/search/" + name + "/*"}
	}
	ep.Template.Repository, ep.Template.ContainerPort = "registry.example.com/"+team+"/"+name, 8080
	ep.Template.AMI, ep.Template.Subnets = "ami-03cf127a", []string{"subnet-0123456789abcdef0"}
	ep.Notifications.WebhookURL = "https://hooks.example.com/services/" + team
	return ep
}

// outcome is what a request should come to: its status, the error's
// field, and for a conflict the endpoint the message names ("" for none).
type outcome struct {
	status int
	field  string
	names  string
}

var created = outcome{status: http.StatusCreated}

func refused(field string) outcome { return outcome{status: http.StatusForbidden, field: field} }

// clash is a 409 on field with the endpoint of team it clashes with.
func clash(field, team string) outcome {
	return outcome{status: http.StatusConflict, field: field, names: map[string]string{"payments": "web", "search": "find"}[team]}
}

// TestTrafficMatrix creates an endpoint of every team, as every caller,
// with each traffic, account, registry and webhook variation, against the
// existing endpoints "web" (payments) and "find" (search) on the shared
// listener. A caller of another team is refused before anything else; the
// rest follows the table; a conflict names the other endpoint only to a
// caller who may see it.
func TestTrafficMatrix(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(ep *rollout.Endpoint)
		// want by the team of the endpoint; a team not listed: 201.
		want map[string]outcome
	}{
		{"within bounds", func(*rollout.Endpoint) {}, nil},
		{"host of payments' endpoint", func(ep *rollout.Endpoint) {
			ep.Traffic.Hosts, ep.Traffic.Paths = []string{"web.payments.example.com"}, nil
		},
			map[string]outcome{"payments": clash("traffic.hosts", "payments"), "search": refused("traffic.hosts[0]"), "labs": clash("traffic.hosts", "payments")}},
		{"host in capitals", func(ep *rollout.Endpoint) {
			ep.Traffic.Hosts, ep.Traffic.Paths = []string{"WEB.Payments.Example.com"}, nil
		},
			map[string]outcome{"payments": clash("traffic.hosts", "payments"), "search": refused("traffic.hosts[0]"), "labs": clash("traffic.hosts", "payments")}},
		{"wildcard over search's hosts", func(ep *rollout.Endpoint) { ep.Traffic.Hosts, ep.Traffic.Paths = []string{"*.example.com"}, nil },
			map[string]outcome{"payments": refused("traffic.hosts[0]"), "search": refused("traffic.hosts[0]"), "labs": clash("traffic.hosts", "search")}},
		{"host outside the team's", func(ep *rollout.Endpoint) { ep.Traffic.Hosts = []string{"new.example.org"} },
			map[string]outcome{"payments": refused("traffic.hosts[0]"), "search": refused("traffic.hosts[0]")}},
		{"no hosts nor paths", func(ep *rollout.Endpoint) { ep.Traffic.Hosts, ep.Traffic.Paths = nil, nil },
			map[string]outcome{"payments": refused("traffic.hosts"), "search": refused("traffic.hosts"), "labs": clash("traffic.paths", "search")}},
		{"path of search's endpoint", func(ep *rollout.Endpoint) {
			ep.Traffic.Hosts, ep.Traffic.Paths = []string{"find.search.example.com"}, []string{"/search/find/x"}
		}, map[string]outcome{"payments": refused("traffic.hosts[0]"), "search": clash("traffic.hosts", "search"), "labs": clash("traffic.hosts", "search")}},
		{"path outside the prefixes", func(ep *rollout.Endpoint) { ep.Traffic.Paths = []string{"/admin/*"} },
			map[string]outcome{"search": refused("traffic.paths[0]")}},
		{"priority outside the range", func(ep *rollout.Endpoint) { ep.Traffic.Priority = 5000 },
			map[string]outcome{"payments": refused("traffic.priority"), "search": refused("traffic.priority")}},
		{"priority of payments' endpoint", func(ep *rollout.Endpoint) { ep.Traffic.Priority = 110 },
			map[string]outcome{"payments": clash("traffic.priority", "payments"), "search": refused("traffic.priority"), "labs": clash("traffic.priority", "payments")}},
		{"listener outside", func(ep *rollout.Endpoint) { ep.Traffic.ListenerARN = otherListener },
			map[string]outcome{"payments": refused("traffic.listener_arn"), "search": refused("traffic.listener_arn")}},
		// An NLB is bounded by the team's listeners alone (those the
		// shifter would create on it): it routes no host or path.
		{"NLB of the team's", onNLB(paymentsNLB, 5432), map[string]outcome{"search": refused("traffic.nlb.load_balancer_arn")}},
		{"NLB outside", onNLB(otherNLB, 5432),
			map[string]outcome{"payments": refused("traffic.nlb.load_balancer_arn"), "search": refused("traffic.nlb.load_balancer_arn")}},
		// A record name is a host, bounded by the team's hosts; its slots
		// by its listeners.
		{"Route 53 name of the team's", onRoute53("new.payments.example.com", "payments"),
			map[string]outcome{"search": refused("traffic.route53.name")}},
		{"Route 53 name of another team's", onRoute53("new.search.example.com", "payments"),
			map[string]outcome{"payments": refused("traffic.route53.name"), "search": refused("traffic.route53.name")}},
		{"Route 53 slots outside", onRoute53("new.payments.example.com", "other"),
			map[string]outcome{"payments": refused("traffic.route53.listeners[0]"), "search": refused("traffic.route53.name")}},
		// search's preview rule keeps its own paths, which find's do not meet.
		{"preview on search's host", func(ep *rollout.Endpoint) {
			ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "find.search.example.com", ep.Traffic.Priority+1
		}, map[string]outcome{"payments": refused("traffic.preview_host"), "labs": clash("traffic.preview_host", "search")}},
		{"role in another account", func(ep *rollout.Endpoint) { ep.Placement.RoleARN = "arn:aws:iam::333333333333:role/ionroller-web" },
			map[string]outcome{"payments": refused("placement.role_arn"), "search": refused("placement.role_arn")}},
		{"role outside the patterns", func(ep *rollout.Endpoint) { ep.Placement.RoleARN = "arn:aws:iam::111111111111:role/admin" },
			map[string]outcome{"payments": refused("placement.role_arn"), "search": refused("placement.role_arn")}},
		{"the shifter's own account", func(ep *rollout.Endpoint) { ep.Placement.RoleARN = "" },
			map[string]outcome{"payments": refused("placement.role_arn"), "search": refused("placement.role_arn")}},
		{"repository outside", func(ep *rollout.Endpoint) { ep.Template.Repository = "evil.example.net/miner" },
			map[string]outcome{"payments": refused("template.repository"), "search": refused("template.repository")}},
		{"webhook host outside", func(ep *rollout.Endpoint) { ep.Notifications.WebhookURL = "https://evil.example.net/x" },
			map[string]outcome{"payments": refused("notifications.webhook_url")}},
		{"webhook to the metadata service", func(ep *rollout.Endpoint) { ep.Notifications.WebhookURL = "http://169.254.169.254/latest/meta-data/" },
			map[string]outcome{"payments": refused("notifications.webhook_url"), "search": refused("notifications.webhook_url"), "labs": refused("notifications.webhook_url")}},
		{"webhook to loopback", func(ep *rollout.Endpoint) { ep.Notifications.WebhookURL = "http://127.0.0.1:8500/v1/kv" },
			map[string]outcome{"payments": refused("notifications.webhook_url"), "search": refused("notifications.webhook_url"), "labs": refused("notifications.webhook_url")}},
		{"webhook to a private address", func(ep *rollout.Endpoint) { ep.Notifications.WebhookURL = "http://[fd00::1]/hook" },
			map[string]outcome{"payments": refused("notifications.webhook_url"), "search": refused("notifications.webhook_url"), "labs": refused("notifications.webhook_url")}},
	}
	callers := []string{root, "payments-admin", "search-admin", "labs-admin"}
	cells := 0
	for _, tc := range cases {
		for _, team := range trafficTeams {
			want, ok := tc.want[team]
			if !ok {
				want = created
			}
			for _, caller := range callers {
				callerTeam := strings.TrimSuffix(caller, "-admin")
				expect := want
				switch {
				case caller != root && callerTeam != team:
					expect = refused("") // the team in the body is not the caller's
				case expect.names != "" && caller != root && callerTeam != map[string]string{"web": "payments", "find": "search"}[expect.names]:
					expect.names = "" // the other endpoint is not the caller's to see
				}
				cells++
				t.Run(fmt.Sprintf("%s/%s/%s", tc.name, team, caller), func(t *testing.T) {
					f := trafficFixture(t)
					ep := teamEndpoint(team, "new", 50)
					tc.mutate(&ep)
					before := f.snapshot()
					resp := f.do("PUT", "/v1/endpoints/new", caller, ep)
					checkOutcome(t, resp, expect)
					if expect.status >= 400 {
						f.assertUnchanged(before)
					}
				})
			}
		}
	}

	// Releases: the image a release runs is bounded by the team's
	// repositories like the endpoint's.
	for _, image := range []string{"", "registry.example.com/%s/web:v2", "evil.example.net/miner:v2", "registry.example.com:5000/%s/web:v2"} {
		for _, team := range trafficTeams {
			existing := map[string]string{"payments": "web", "search": "find", "labs": "lab"}[team]
			for _, caller := range callers {
				expect := outcome{status: http.StatusOK}
				img := strings.ReplaceAll(image, "%s", team)
				switch callerTeam := strings.TrimSuffix(caller, "-admin"); {
				case caller != root && callerTeam != team:
					expect = outcome{status: http.StatusNotFound}
				case team != "labs" && (strings.HasPrefix(img, "evil") || strings.Contains(img, ":5000/")):
					expect = refused("image")
				}
				cells++
				t.Run(fmt.Sprintf("release %q/%s/%s", img, team, caller), func(t *testing.T) {
					f := trafficFixture(t)
					body := map[string]any{"version": "v2"}
					if img != "" { // "": the endpoint's repository, by leaving the image out
						body["image"] = img
					}
					resp := f.do("PUT", "/v1/endpoints/"+existing+"/releases/production", caller, body)
					checkOutcome(t, resp, expect)
				})
			}
		}
	}
	t.Logf("traffic matrix: %d cells", cells)
}

// trafficFixture is an API with the teams' bounds, their admins and the
// existing endpoints web (payments), find (search) and lab (labs), each with
// release v1.
func trafficFixture(t *testing.T) *fixture {
	tokens := []api.Token{{Name: root, Role: wire.RoleAdmin, SHA256: api.HashToken(tokenOf(root))}}
	for _, team := range trafficTeams {
		name := team + "-admin"
		tokens = append(tokens, api.Token{Name: name, Team: team, Role: wire.RoleAdmin, SHA256: api.HashToken(tokenOf(name))})
	}
	auth, err := api.NewAuth(tokens, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(s *api.Server) { s.Auth, s.Teams = auth, teamBounds })
	f.seed(teamEndpoint("payments", "web", 10), "v1")
	f.seed(teamEndpoint("search", "find", 10), "v1")
	f.seed(teamEndpoint("labs", "lab", 10), "v1")
	return f
}

// checkOutcome fails the test unless resp is want: the status, the field of
// an error, and the endpoint a conflict names, or none.
func checkOutcome(t *testing.T, resp response, want outcome) {
	t.Helper()
	if resp.status != want.status {
		t.Fatalf("status %d, want %d; body %s", resp.status, want.status, resp.body)
	}
	if want.status < 400 {
		return
	}
	e := resp.apiError(t, want.status, wire.StatusErrorCode(want.status))
	if e.Field != want.field {
		t.Errorf("field %q, want %q; body %s", e.Field, want.field, resp.body)
	}
	if want.status != http.StatusConflict {
		return
	}
	for _, other := range []string{"web", "find", "lab"} {
		if named := strings.Contains(e.Message, fmt.Sprintf("%q", other)); named != (other == want.names) {
			t.Errorf("message %q names %q: %v, want %v", e.Message, other, named, other == want.names)
		}
	}
}

// TestOneEndpointOwnsAnNLBPort: a port of a load balancer has one listener,
// whose default action takes every connection, so a second endpoint on it
// would take the first's traffic. Another port of the same load balancer is
// free.
func TestOneEndpointOwnsAnNLBPort(t *testing.T) {
	f := trafficFixture(t)
	db, db2, db3 := teamEndpoint("labs", "db", 50), teamEndpoint("labs", "db2", 60), teamEndpoint("labs", "db3", 70)
	onNLB(otherNLB, 5432)(&db)
	onNLB(otherNLB, 5432)(&db2)
	onNLB(otherNLB, 5433)(&db3)
	checkOutcome(t, f.do("PUT", "/v1/endpoints/db", "labs-admin", db), created)
	before := f.snapshot()
	checkOutcome(t, f.do("PUT", "/v1/endpoints/db2", "labs-admin", db2), outcome{status: http.StatusConflict, field: "traffic.nlb.port", names: "db"})
	f.assertUnchanged(before)
	checkOutcome(t, f.do("PUT", "/v1/endpoints/db3", "labs-admin", db3), created)
}

// TestOneEndpointOwnsARoute53NameAndItsSlots: the records of a name are one
// endpoint's, and so is the default action of each of its slots.
func TestOneEndpointOwnsARoute53NameAndItsSlots(t *testing.T) {
	f := trafficFixture(t)
	first := teamEndpoint("labs", "r1", 50)
	onRoute53("r.labs.example.com", "labs")(&first)
	checkOutcome(t, f.do("PUT", "/v1/endpoints/r1", "labs-admin", first), created)
	for _, tc := range []struct {
		name, field string
		change      func(*rollout.Endpoint)
	}{
		{"same name", "traffic.route53.name", func(ep *rollout.Endpoint) {
			onRoute53("r.labs.example.com", "labs-b")(ep)
		}},
		{"a slot of r1's", "traffic.route53.listeners[0]", func(ep *rollout.Endpoint) {
			onRoute53("r2.labs.example.com", "labs-b")(ep)
			ep.Traffic.Route53.Listeners[0] = slotListener("labs", 1)
		}},
		{"an ALB rule on a slot of r1's", "traffic.listener_arn", func(ep *rollout.Endpoint) { ep.Traffic.ListenerARN = slotListener("labs", 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := teamEndpoint("labs", "r2", 60)
			tc.change(&ep)
			before := f.snapshot()
			checkOutcome(t, f.do("PUT", "/v1/endpoints/r2", "labs-admin", ep), outcome{status: http.StatusConflict, field: tc.field})
			f.assertUnchanged(before)
		})
	}
}
