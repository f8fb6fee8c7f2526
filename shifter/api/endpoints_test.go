package api_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func TestPutEndpointCreatesWithDefaultsAndEvent(t *testing.T) {
	f := newFixture(t)
	// Only what a minimal Terraform config says; everything else defaults.
	body := map[string]any{
		"traffic": map[string]any{
			"listener_arn": testEndpoint("web").Traffic.ListenerARN,
			"priority":     10,
		},
		"template": map[string]any{
			"repository":     "registry.example.com/web",
			"container_port": 8080,
			"ami":            "ami-03cf127a",
			"subnets":        []string{"subnet-0123456789abcdef0"},
		},
		// Fields the shifter owns are ignored.
		"revision": 7, "deleting": true, "created_at": "2001-01-01T00:00:00Z",
	}
	resp := f.do("PUT", "/v1/endpoints/web", principalName("payments", wire.RoleAdmin), body)
	var v rollout.EndpointView
	resp.must(t, http.StatusCreated, &v)

	if got := resp.header.Get("ETag"); got != `"1"` {
		t.Errorf("ETag %s, want \"1\"", got)
	}
	ep := v.Endpoint
	defaults := rollout.NewEndpoint()
	switch {
	case ep.Name != "web", ep.Revision != 1, ep.Deleting, ep.CreatedAt.Year() < 2020:
		t.Errorf("server-owned fields not set by the server: %+v", ep)
	case ep.Team != "payments":
		t.Errorf("team %q, want the token's team", ep.Team)
	case !ep.DeletionProtection || ep.Template.InstanceType != defaults.Template.InstanceType ||
		len(ep.Policy.Steps) != len(defaults.Policy.Steps) || ep.Policy.BakeTime != defaults.Policy.BakeTime:
		t.Errorf("defaults not kept: %+v", ep)
	case v.Status.State != rollout.StateEmpty:
		t.Errorf("status %q, want %q", v.Status.State, rollout.StateEmpty)
	}

	events := f.events("web")
	if len(events) != 1 || events[0].Type != rollout.EventEndpointCreated || events[0].Actor != "payments-admin" ||
		events[0].Details["team"] != "payments" || events[0].Details["source"] == "" {
		t.Errorf("events %+v, want one endpoint.created by payments-admin with team and source", events)
	}
	if got := f.notified.list(); !slices.Equal(got, []string{"web"}) {
		t.Errorf("notified %v, want [web]", got)
	}
}

// TestPutEndpointKeepsACanaryStep: a step sent without a pause waits for a
// promote, whatever the default step in its place pauses for.
func TestPutEndpointKeepsACanaryStep(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Policy.Steps = []rollout.Step{{Weight: 10}, {Weight: 100}}
	var v rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, &v)
	if steps := v.Endpoint.Policy.Steps; len(steps) != 2 || steps[0].Pause != nil || steps[1].Pause != nil {
		t.Errorf("steps %+v, want 10%% and 100%% without pauses", steps)
	}
}

func TestPutEndpointUpdates(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, nil)

	ep.Template.InstanceType = "t3.small"
	resp := f.do("PUT", "/v1/endpoints/web", root, ep)
	var v rollout.EndpointView
	resp.must(t, http.StatusOK, &v)
	if v.Endpoint.Revision != 2 || v.Endpoint.Template.InstanceType != "t3.small" || resp.header.Get("ETag") != `"2"` {
		t.Errorf("update answered %+v with ETag %s", v.Endpoint, resp.header.Get("ETag"))
	}
	if got := eventTypes(f.events("web")); !slices.Equal(got, []string{rollout.EventEndpointCreated, rollout.EventEndpointUpdated}) {
		t.Errorf("events %v", got)
	}
}

func TestGetAndListEndpoints(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")

	resp := f.do("GET", "/v1/endpoints/web", root, nil)
	var v rollout.EndpointView
	resp.must(t, http.StatusOK, &v)
	if v.Endpoint.Name != "web" || resp.header.Get("ETag") != `"1"` {
		t.Errorf("got %+v, ETag %s", v.Endpoint, resp.header.Get("ETag"))
	}

	var list wire.EndpointList
	f.do("GET", "/v1/endpoints", root, nil).must(t, http.StatusOK, &list)
	if len(list.Endpoints) != 1 || list.Endpoints[0].Endpoint.Name != "web" {
		t.Errorf("list %+v", list)
	}

	e := f.do("GET", "/v1/endpoints/nope", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	if e.Message != `endpoint "nope" not found` {
		t.Errorf("message %q", e.Message)
	}
}

func TestListEndpointsFiltersByTeamAndPattern(t *testing.T) {
	f := newFixture(t)
	for _, ep := range []struct{ name, team string }{{"web", "payments"}, {"web-admin", "payments"}, {"search-api", "search"}, {"shared", ""}} {
		e := testEndpoint(ep.name)
		e.Team = ep.team
		f.seed(e, "")
	}
	for _, tc := range []struct {
		principal, query string
		want             []string
	}{
		{root, "", []string{"search-api", "shared", "web", "web-admin"}},
		{root, "?team=payments", []string{"web", "web-admin"}},
		{principalName("payments", wire.RoleRead), "", []string{"web", "web-admin"}},
		{principalName("payments", wire.RoleRead), "?team=search", []string{}},
		{principalName("search", wire.RoleAdmin), "", []string{"search-api"}},
		{"web-only", "", []string{"web", "web-admin"}},
	} {
		var list wire.EndpointList
		f.do("GET", "/v1/endpoints"+tc.query, tc.principal, nil).must(t, http.StatusOK, &list)
		got := []string{}
		for _, v := range list.Endpoints {
			got = append(got, v.Endpoint.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s lists %s: %v, want %v", tc.principal, tc.query, got, tc.want)
		}
	}
}

func TestEndpointRevisions(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	f.do("PUT", "/v1/endpoints/web", root, ep, "If-None-Match", "*").must(t, http.StatusCreated, nil)

	ep.Template.InstanceType = "t3.small"
	f.do("PUT", "/v1/endpoints/web", root, ep, "If-Match", `"1"`).must(t, http.StatusOK, nil)

	// A second writer that read revision 1 is refused, and changes nothing.
	stale := testEndpoint("web")
	stale.Template.InstanceType = "t3.large"
	before := f.snapshot()
	f.do("PUT", "/v1/endpoints/web", root, stale, "If-Match", `"1"`).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("PUT", "/v1/endpoints/web", root, stale, "If-None-Match", "*").apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("DELETE", "/v1/endpoints/web", root, nil, "If-Match", "1").apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.assertUnchanged(before)

	// A bare revision is accepted as well as a quoted one.
	resp := f.do("PUT", "/v1/endpoints/web", root, stale, "If-Match", "2")
	var v rollout.EndpointView
	resp.must(t, http.StatusOK, &v)
	if v.Endpoint.Revision != 3 || v.Endpoint.Template.InstanceType != "t3.large" {
		t.Errorf("got %+v", v.Endpoint)
	}
}

func TestEndpointPlacementCannotChange(t *testing.T) {
	otherListener := "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/other/0123456789abcdef/0123456789abcdef"
	for _, tc := range []struct {
		field  string
		mutate func(*rollout.Endpoint)
	}{
		{"placement.region", func(ep *rollout.Endpoint) { ep.Placement.Region = "eu-west-1" }},
		{"traffic.listener_arn", func(ep *rollout.Endpoint) { ep.Traffic.ListenerARN = otherListener }},
		{"traffic.priority", func(ep *rollout.Endpoint) { ep.Traffic.Priority = 20 }},
		{"traffic.preview_priority", func(ep *rollout.Endpoint) { ep.Traffic.PreviewPriority = 12 }},
		{"traffic.preview_listener_arn", func(ep *rollout.Endpoint) { ep.Traffic.PreviewListenerARN = otherListener }},
		{"observe_only", func(ep *rollout.Endpoint) { ep.ObserveOnly = true }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			f := newFixture(t)
			f.seed(testEndpoint("web"), "")
			ep := testEndpoint("web")
			tc.mutate(&ep)
			before := f.snapshot()
			e := f.do("PUT", "/v1/endpoints/web", root, ep).apiError(t, http.StatusBadRequest, rollout.EINVALID)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tc.field, e.Message)
			}
			f.assertUnchanged(before)
		})
	}
}

// TestNLBPortCannotChange: the shifter's listener and the versions' target
// groups live on the endpoint's port of its load balancer; moving them is a
// new endpoint, refused naming the field, nothing stored.
func TestNLBPortCannotChange(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*rollout.Endpoint)
	}{
		{"traffic.nlb.port", func(ep *rollout.Endpoint) { ep.Traffic.NLB.Port = 5433 }},
		{"traffic.nlb.load_balancer_arn", func(ep *rollout.Endpoint) { ep.Traffic.NLB.LoadBalancerARN = otherNLB }},
		{"traffic.nlb.protocol", func(ep *rollout.Endpoint) {
			ep.Traffic.NLB.Protocol, ep.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, testCertificate
			ep.Template.HealthCheck.Protocol = "TLS"
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			f := newFixture(t)
			ep := testEndpoint("db")
			onNLB(paymentsNLB, 5432)(&ep)
			f.seed(ep, "")
			tc.mutate(&ep)
			before := f.snapshot()
			e := f.do("PUT", "/v1/endpoints/db", root, ep, "If-Match", "1").apiError(t, http.StatusBadRequest, rollout.EINVALID)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tc.field, e.Message)
			}
			f.assertUnchanged(before)
		})
	}
}

// testCertificate is an ACM certificate's ARN.
const testCertificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

// TestNLBCertificateMayChangeNotTheProtocol: a TLS endpoint's certificate
// and security policy may change (a certificate rotated); its protocol may
// not, and TCP named where it was left out is no change.
func TestNLBCertificateMayChangeNotTheProtocol(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("db")
	onNLB(paymentsNLB, 5432)(&ep)
	f.seed(ep, "")
	ep.Traffic.NLB.Protocol = rollout.NLBProtocolTCP
	f.do("PUT", "/v1/endpoints/db", root, ep, "If-Match", "1").must(t, http.StatusOK, nil)

	tls := testEndpoint("tls")
	onNLB(paymentsNLB, 6432)(&tls)
	tls.Traffic.NLB.Protocol, tls.Traffic.NLB.CertificateARN = rollout.NLBProtocolTLS, testCertificate
	tls.Template.HealthCheck.Protocol = "TLS"
	f.seed(tls, "")
	rotated := strings.Replace(testCertificate, "0f1e", "aaaa", 1)
	tls.Traffic.NLB.CertificateARN, tls.Traffic.NLB.SSLPolicy = rotated, "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"
	var got rollout.EndpointView
	f.do("PUT", "/v1/endpoints/tls", root, tls, "If-Match", "1").must(t, http.StatusOK, &got)
	if n := got.Endpoint.Traffic.NLB; n == nil || n.CertificateARN != rotated || n.SSLPolicy != tls.Traffic.NLB.SSLPolicy {
		t.Errorf("stored traffic.nlb %+v, want the rotated certificate and the new policy", n)
	}

	tls.Traffic.NLB.Protocol, tls.Traffic.NLB.CertificateARN, tls.Traffic.NLB.SSLPolicy = rollout.NLBProtocolTCP, "", ""
	tls.Template.HealthCheck.Protocol = "TCP"
	before := f.snapshot()
	e := f.do("PUT", "/v1/endpoints/tls", root, tls, "If-Match", "2").apiError(t, http.StatusBadRequest, rollout.EINVALID)
	if e.Field != "traffic.nlb.protocol" {
		t.Errorf("TLS to TCP refused as %q (%s), want traffic.nlb.protocol", e.Field, e.Message)
	}
	f.assertUnchanged(before)
}

// TestRoute53SlotsMayBeAddedNotDropped: a slot a version may be on cannot be
// taken from the endpoint; a new one can be added.
func TestRoute53SlotsMayBeAddedNotDropped(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	onRoute53("web.example.test", "web")(&ep)
	f.seed(ep, "")
	ep.Traffic.Route53.Listeners = append(ep.Traffic.Route53.Listeners, slotListener("web", 2))
	f.do("PUT", "/v1/endpoints/web", root, ep, "If-Match", "1").must(t, http.StatusOK, nil)

	ep.Traffic.Route53.Listeners = []string{slotListener("web", 0), slotListener("web", 2)}
	before := f.snapshot()
	e := f.do("PUT", "/v1/endpoints/web", root, ep, "If-Match", "2").apiError(t, http.StatusBadRequest, rollout.EINVALID)
	if e.Field != "traffic.route53.listeners" || !strings.Contains(e.Message, slotListener("web", 1)) {
		t.Errorf("refused as %q: %s; want traffic.route53.listeners naming the dropped slot", e.Field, e.Message)
	}
	f.assertUnchanged(before)
}

func TestPreviewRouteMayBeAddedLater(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "", 0
	f.seed(ep, "")
	ep.Traffic.PreviewHost, ep.Traffic.PreviewPriority = "preview.web.example.com", 11
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusOK, nil)
}

func TestDeleteEndpoint(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.DeletionProtection = true
	f.seed(ep, "v1")

	before := f.snapshot()
	e := f.do("DELETE", "/v1/endpoints/web", root, nil).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	if e.Field != "deletion_protection" {
		t.Errorf("field %q, want deletion_protection", e.Field)
	}
	f.assertUnchanged(before)

	ep.DeletionProtection = false
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusOK, nil)
	resp := f.do("DELETE", "/v1/endpoints/web", root, nil, "If-Match", `"2"`)
	var v rollout.EndpointView
	resp.must(t, http.StatusAccepted, &v)
	if !v.Endpoint.Deleting || v.Status.State != rollout.StateDeleting || resp.header.Get("ETag") != `"3"` {
		t.Errorf("delete answered %+v, ETag %s", v, resp.header.Get("ETag"))
	}
	// Deleting again is accepted and changes nothing.
	f.do("DELETE", "/v1/endpoints/web", root, nil).must(t, http.StatusAccepted, nil)
	if got := eventTypes(f.events("web")); !slices.Equal(got, []string{rollout.EventEndpointUpdated, rollout.EventEndpointDeleting}) {
		t.Errorf("events %v", got)
	}
	if got := f.notified.list(); !slices.Equal(got, []string{"web", "web"}) {
		t.Errorf("notified %v, want the update and the delete", got)
	}

	// While it is being deleted, nothing may start in it; a release may
	// still be removed, so that destroying it afterwards succeeds.
	f.do("PUT", "/v1/endpoints/web", root, ep).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("PUT", "/v1/endpoints/web/releases/production", root, map[string]any{"version": "v2"}).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("POST", "/v1/endpoints/web/actions/rollback", root, nil).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("DELETE", "/v1/endpoints/web/releases/production", root, nil).must(t, http.StatusNoContent, nil)

	// The reconciler removes it once AWS is clean; its trail stays.
	if err := f.store.DeleteEndpoint(t.Context(), "web", rollout.RevisionAny); err != nil {
		t.Fatal(err)
	}
	f.do("GET", "/v1/endpoints/web", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	var page wire.EventPage
	f.do("GET", "/v1/endpoints/web/events", root, nil).must(t, http.StatusOK, &page)
	if len(page.Events) != 3 {
		t.Errorf("trail after deletion: %+v", page.Events)
	}
}

// snapshot is what a refused request must leave as it was.
type snapshot struct {
	endpoints map[string]int64
	releases  map[string]int64
	events    int
	commands  int
	notified  int
}

func (f *fixture) snapshot() snapshot {
	f.t.Helper()
	ctx := f.t.Context()
	s := snapshot{endpoints: map[string]int64{}, releases: map[string]int64{}, notified: len(f.notified.list())}
	eps, err := f.store.ListEndpoints(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, ep := range eps {
		s.endpoints[ep.Name] = ep.Revision
		rs, err := f.store.ListReleases(ctx, ep.Name)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, r := range rs {
			s.releases[ep.Name+"/"+string(r.Track)] = r.Revision
		}
		cs, err := f.store.ListCommands(ctx, ep.Name, 0)
		if err != nil {
			f.t.Fatal(err)
		}
		s.commands += len(cs)
		s.events += len(f.events(ep.Name))
	}
	return s
}

func (f *fixture) assertUnchanged(before snapshot) {
	f.t.Helper()
	after := f.snapshot()
	if !maps.Equal(before.endpoints, after.endpoints) || !maps.Equal(before.releases, after.releases) ||
		before.events != after.events || before.commands != after.commands || before.notified != after.notified {
		f.t.Errorf("a refused request changed something:\nbefore %+v\nafter  %+v", before, after)
	}
}

// TestPreflightRefusesWhatTheAccountLacksAndADryRunStoresNothing: a spec the
// account check refuses is a 400 naming the field, stored nowhere; a dry run
// answers as the PUT would and stores nothing; a check that cannot reach AWS
// lets the spec through.
func TestPreflightRefusesWhatTheAccountLacksAndADryRunStoresNothing(t *testing.T) {
	var check error
	f := newFixture(t, func(s *api.Server) {
		s.Preflight = func(context.Context, rollout.Endpoint) error { return check }
	})
	ep := testEndpoint("web")

	check = rollout.Invalid("policy.alarms[0]", `alarm "web-5xx" does not exist in the endpoint's account and region`)
	if e := f.do("PUT", "/v1/endpoints/web", root, ep).apiError(t, http.StatusBadRequest, rollout.EINVALID); e.Field != "policy.alarms[0]" {
		t.Errorf("field = %q", e.Field)
	}
	if e := f.do("PUT", "/v1/endpoints/web?dry_run=true", root, ep).apiError(t, http.StatusBadRequest, rollout.EINVALID); e.Field != "policy.alarms[0]" {
		t.Errorf("dry run: field = %q", e.Field)
	}

	check = nil
	var v rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web?dry_run=true", root, ep).must(t, http.StatusOK, &v)
	if v.Endpoint.Name != "web" || v.Endpoint.Revision != 0 {
		t.Errorf("dry run answered %+v", v.Endpoint)
	}
	f.do("GET", "/v1/endpoints/web", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)

	check = errors.New("operation error CloudWatch: DescribeAlarms: connection refused")
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, nil)
}

// TestSecretsAreWriteOnly: a read answers whether the webhook URL and the
// external ID are set, never what they are; sending back what was read keeps
// them, and leaving them out removes them.
func TestSecretsAreWriteOnly(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Placement.RoleARN, ep.Placement.ExternalID = "arn:aws:iam::123456789012:role/ionroller", "external-secret"
	ep.Notifications.WebhookURL = "https://hooks.example.com/services/hook-secret"
	resp := f.do("PUT", "/v1/endpoints/web", root, ep)
	resp.must(t, http.StatusCreated, nil)
	reads := []response{
		resp,
		f.do("GET", "/v1/endpoints/web", principalName("payments", wire.RoleRead), nil),
		f.do("GET", "/v1/endpoints", root, nil),
		f.do("PUT", "/v1/endpoints/web?dry_run=true", root, ep),
	}
	for _, r := range reads {
		body := string(r.body)
		if strings.Contains(body, "secret") || !strings.Contains(body, `"webhook_url_set":true`) || !strings.Contains(body, `"external_id_set":true`) {
			t.Errorf("answer %s: want the secrets' presence, not their values", body)
		}
	}

	var read rollout.EndpointView
	f.do("GET", "/v1/endpoints/web", root, nil).must(t, http.StatusOK, &read)
	read.Endpoint.Template.InstanceType = "t3.small"
	f.do("PUT", "/v1/endpoints/web", root, read.Endpoint).must(t, http.StatusOK, nil)
	stored, err := f.store.GetEndpoint(t.Context(), "web")
	if err != nil || stored.Notifications.WebhookURL != ep.Notifications.WebhookURL || stored.Placement.ExternalID != "external-secret" ||
		stored.Notifications.WebhookURLSet || stored.Placement.ExternalIDSet {
		t.Fatalf("after sending back what was read, stored %+v %+v, %v; want the secrets kept", stored.Notifications, stored.Placement, err)
	}

	read.Endpoint.Notifications = rollout.Notifications{}
	f.do("PUT", "/v1/endpoints/web", root, read.Endpoint).must(t, http.StatusOK, nil)
	if stored, _ := f.store.GetEndpoint(t.Context(), "web"); stored.Notifications.WebhookURL != "" || stored.Placement.ExternalID != "external-secret" {
		t.Errorf("after leaving the webhook out, stored %+v %+v; want it removed and the external ID kept", stored.Notifications, stored.Placement)
	}

	// History keeps them write-only too: the revisions, their diffs and
	// the trail say that the webhook URL changed, never what it was.
	history := []response{
		f.do("GET", "/v1/endpoints/web/revisions", root, nil),
		f.do("GET", "/v1/endpoints/web/revisions/3?against=1", root, nil),
		f.do("GET", "/v1/endpoints/web/events", root, nil),
	}
	for _, r := range history {
		body := string(r.body)
		if r.status != http.StatusOK || strings.Contains(body, "hook-secret") || strings.Contains(body, "external-secret") ||
			!strings.Contains(body, `{"path":"notifications.webhook_url","secret":true}`) {
			t.Errorf("history answer %d %s: want the webhook URL's change, not its values", r.status, body)
		}
	}
}

// TestPutECSEndpointTakesTheDefaultsOfItsBackend: an ecs template's defaults
// are its backend's (no instance type or group size; the smallest Fargate
// task) and fill in the template.ecs the body sends; capacity providers
// place the tasks instead of the default launch type, but not beside one the
// body names; and an ecs template without template.ecs is refused naming it.
func TestPutECSEndpointTakesTheDefaultsOfItsBackend(t *testing.T) {
	f := newFixture(t)
	// body is a valid "web" on ecs, with ecs as its template.ecs (none when nil).
	body := func(ecs map[string]any) map[string]any {
		m := specJSON(t, testEndpoint("web"))
		tpl := m["template"].(map[string]any)
		for _, ec2Only := range []string{"instance_type", "ami", "min_size", "max_size"} {
			delete(tpl, ec2Only)
		}
		tpl["backend"] = rollout.BackendECS
		if ecs != nil {
			tpl["ecs"] = ecs
		}
		return m
	}

	var v rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web", root, body(map[string]any{"cluster": "apps"})).must(t, http.StatusCreated, &v)
	want := rollout.DefaultECS()
	want.Cluster = "apps"
	if tpl := v.Endpoint.Template; tpl.InstanceType != "" || tpl.MinSize != 0 || tpl.MaxSize != 0 || tpl.ECS == nil || !reflect.DeepEqual(*tpl.ECS, *want) {
		t.Errorf("template %+v (ecs %+v), want no ec2 fields and ecs %+v", tpl, tpl.ECS, want)
	}

	providers := []any{map[string]any{"name": "FARGATE_SPOT", "weight": 1}}
	var updated rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web", root, body(map[string]any{"cluster": "apps", "capacity_providers": providers}), "If-Match", `"1"`).
		must(t, http.StatusOK, &updated)
	if e := updated.Endpoint.Template.ECS; e.LaunchType != "" || len(e.CapacityProviders) != 1 {
		t.Errorf("ecs %+v, want the capacity providers and no launch type", e)
	}

	for _, tc := range []struct {
		name, field string
		ecs         map[string]any
	}{
		{"no template.ecs", "template.ecs", nil},
		{"a launch type beside capacity providers", "template.ecs.capacity_providers",
			map[string]any{"cluster": "apps", "launch_type": rollout.LaunchTypeFargate, "capacity_providers": providers}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := f.snapshot()
			e := f.do("PUT", "/v1/endpoints/web", root, body(tc.ecs), "If-Match", `"2"`).apiError(t, http.StatusBadRequest, rollout.EINVALID)
			if e.Field != tc.field {
				t.Errorf("refused naming %q (%s), want %q", e.Field, e.Message, tc.field)
			}
			f.assertUnchanged(before)
		})
	}
}
