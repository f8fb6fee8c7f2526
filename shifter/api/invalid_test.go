package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/userdata"
)

// TestBadInputIsRefusedNamingTheField sends one bad request per case to a
// server holding the endpoint "web" and a production release, and checks
// that the answer names the field and that nothing was stored, appended or
// notified.
func TestBadInputIsRefusedNamingTheField(t *testing.T) {
	// spec returns the JSON of a valid "web" after mutate.
	spec := func(t *testing.T, mutate func(m map[string]any)) map[string]any {
		m := specJSON(t, testEndpoint("web"))
		mutate(m)
		return m
	}
	sub := func(m map[string]any, key string) map[string]any { return m[key].(map[string]any) }
	step := func(m map[string]any, i int) map[string]any {
		return sub(m, "policy")["steps"].([]any)[i].(map[string]any)
	}

	for _, tc := range []struct {
		name         string
		method, path string
		body         func(t *testing.T) any
		headers      []string
		field        string
		message      string // a part of the message, when it matters
	}{
		{
			name: "endpoint name pattern", method: "PUT", path: "/v1/endpoints/Web_1",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { delete(m, "name") }) },
			field: "name",
		},
		{
			name: "name differs from the path", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { m["name"] = "api" }) },
			field: "name",
		},
		{
			name: "step weight above 100", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 0)["weight"] = 101 }) },
			field: "policy.steps[0].weight",
		},
		{
			name: "step weight below 1", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 0)["weight"] = 0 }) },
			field: "policy.steps[0].weight",
		},
		{
			name: "steps not ending at 100", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 2)["weight"] = 90 }) },
			field: "policy.steps[2].weight",
		},
		{
			name: "steps not increasing", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 1)["weight"] = 5 }) },
			field: "policy.steps[1].weight",
		},
		{
			name: "malformed listener ARN", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) { sub(m, "traffic")["listener_arn"] = "arn:aws:elasticloadbalancing:listener" })
			},
			field: "traffic.listener_arn",
		},
		{
			name: "malformed secret ARN", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) { sub(m, "template")["secrets"] = map[string]any{"DB_PASSWORD": "hunter2"} })
			},
			field: `template.secrets["DB_PASSWORD"]`,
		},
		{
			name: "duration in words", method: "PUT", path: "/v1/endpoints/web",
			body:    func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 0)["pause"] = "5 minutes" }) },
			field:   "policy.steps[0].pause",
			message: `a duration such as "30s", "5m" or "1h"; got "5 minutes"`,
		},
		{
			name: "duration in words on a later step", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { step(m, 1)["pause"] = "ten minutes" }) },
			field: "policy.steps[1].pause",
		},
		{
			name: "number among hosts", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) { sub(m, "traffic")["hosts"] = []any{"a.example.com", 7} })
			},
			field: "traffic.hosts[1]",
		},
		{
			name: "unknown field", method: "PUT", path: "/v1/endpoints/web",
			body:  func(t *testing.T) any { return spec(t, func(m map[string]any) { m["colour"] = "blue" }) },
			field: "colour",
		},
		{
			name: "wrong JSON type", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) { sub(m, "template")["container_port"] = "8080" })
			},
			field:   "template.container_port",
			message: "must be a whole number; got string",
		},
		{
			name: "malformed JSON", method: "PUT", path: "/v1/endpoints/web",
			body:    func(*testing.T) any { return `{"name": "web",}` },
			field:   "body",
			message: "is malformed JSON at byte 16",
		},
		{
			name: "trailing data", method: "PUT", path: "/v1/endpoints/web",
			body:    func(t *testing.T) any { return `{"name": "web"} {}` },
			field:   "body",
			message: "has data after the JSON object",
		},
		{
			name: "empty body", method: "PUT", path: "/v1/endpoints/web",
			body:    func(*testing.T) any { return "" },
			field:   "body",
			message: "is empty",
		},
		{
			name: "2 MiB body", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) {
					sub(m, "template")["env"] = map[string]any{"PADDING": strings.Repeat("x", 2<<20)}
				})
			},
			field:   "body",
			message: "is larger than 1 MiB",
		},
		{
			name: "revision that is not a number", method: "PUT", path: "/v1/endpoints/web",
			body:    func(t *testing.T) any { return spec(t, func(map[string]any) {}) },
			headers: []string{"If-Match", `"abc"`},
			field:   "If-Match",
		},
		{
			name: "unknown track", method: "PUT", path: "/v1/endpoints/web/releases/staging",
			body:  func(*testing.T) any { return map[string]any{"version": "v2"} },
			field: "track",
		},
		{
			name: "blank image", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body:  func(*testing.T) any { return map[string]any{"version": "v2", "image": "  "} },
			field: "image",
		},
		{
			name: "declared empty image", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body:  func(*testing.T) any { return map[string]any{"version": "v2", "image": ""} },
			field: "image",
		},
		{
			name: "env beyond EC2's user data", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) {
					sub(m, "template")["env"] = map[string]any{"BIG": strings.Repeat("x", userdata.MaxBytes)}
				})
			},
			field:   "template.env",
			message: "more than the 16384 bytes of user data EC2 takes",
		},
		{
			name: "release env beyond EC2's user data", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body: func(*testing.T) any {
				return map[string]any{"version": "v2", "env": map[string]any{"BIG": strings.Repeat("x", userdata.MaxBytes)}}
			},
			field: "env",
		},
		{
			name: "empty executable", method: "PUT", path: "/v1/endpoints/web",
			body: func(t *testing.T) any {
				return spec(t, func(m map[string]any) { sub(m, "template")["command"] = []any{""} })
			},
			field: "template.command[0]",
		},
		{
			name: "bad version", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body:  func(*testing.T) any { return map[string]any{"version": "v 2"} },
			field: "version",
		},
		{
			name: "release endpoint differs from the path", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body:  func(*testing.T) any { return map[string]any{"endpoint": "api", "version": "v2"} },
			field: "endpoint",
		},
		{
			name: "unknown field in a release", method: "PUT", path: "/v1/endpoints/web/releases/production",
			body:  func(*testing.T) any { return map[string]any{"version": "v2", "weight": 50} },
			field: "weight",
		},
		{
			name: "unknown track on delete", method: "DELETE", path: "/v1/endpoints/web/releases/staging",
			body:  func(*testing.T) any { return nil },
			field: "track",
		},
		{
			name: "unknown action", method: "POST", path: "/v1/endpoints/web/actions/restart",
			body:  func(*testing.T) any { return nil },
			field: "kind",
		},
		{
			name: "pause duration on a promote", method: "POST", path: "/v1/endpoints/web/actions/promote",
			body:  func(*testing.T) any { return map[string]any{"for": "10m"} },
			field: "for",
		},
		{
			name: "unknown via", method: "POST", path: "/v1/endpoints/web/actions/pause",
			body:  func(*testing.T) any { return map[string]any{"via": "cron"} },
			field: "via",
		},
		{
			name: "pause duration in words", method: "POST", path: "/v1/endpoints/web/actions/pause",
			body:  func(*testing.T) any { return map[string]any{"for": "ten minutes"} },
			field: "for",
		},
		{
			name: "event limit too high", method: "GET", path: "/v1/endpoints/web/events?limit=5000",
			body:  func(*testing.T) any { return nil },
			field: "limit",
		},
		{
			name: "event cursor not a number", method: "GET", path: "/v1/endpoints/web/events?after=last",
			body:  func(*testing.T) any { return nil },
			field: "after",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed(testEndpoint("web"), "v1")
			f.setRollout("web", rollout.PhaseShifting, false) // so that actions are not refused for want of a rollout
			before := f.snapshot()

			e := f.do(tc.method, tc.path, root, tc.body(t), tc.headers...).apiError(t, http.StatusBadRequest, rollout.EINVALID)
			if e.Field != tc.field {
				t.Errorf("field %q, want %q (message %q)", e.Field, tc.field, e.Message)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not say %q", e.Message, tc.message)
			}
			f.assertUnchanged(before)
		})
	}
}

// TestAReleaseMustRunOnItsEndpoint: a variable of a release that is also a
// secret of its endpoint is refused from whichever side it comes, and
// nothing is stored.
func TestAReleaseMustRunOnItsEndpoint(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Template.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}
	f.seed(ep, "")
	f.do("PUT", "/v1/endpoints/web/releases/production", root, map[string]any{"version": "v1", "env": map[string]any{"GREETING": "hi"}}).must(t, http.StatusCreated, nil)
	before := f.snapshot()

	e := f.do("PUT", "/v1/endpoints/web/releases/production", root,
		map[string]any{"version": "v2", "env": map[string]any{"DB_PASSWORD": "hunter2"}}).apiError(t, http.StatusBadRequest, rollout.EINVALID)
	if e.Field != `env["DB_PASSWORD"]` {
		t.Errorf("release: field %q (%s), want env[\"DB_PASSWORD\"]", e.Field, e.Message)
	}
	ep.Template.Secrets["GREETING"] = "arn:aws:ssm:us-east-1:123456789012:parameter/greeting"
	e = f.do("PUT", "/v1/endpoints/web", root, specJSON(t, ep)).apiError(t, http.StatusBadRequest, rollout.EINVALID)
	if e.Field != `template.secrets["GREETING"]` {
		t.Errorf("endpoint: field %q (%s), want template.secrets[\"GREETING\"]", e.Field, e.Message)
	}
	f.assertUnchanged(before)
}
