package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// openShifter runs a shifter in-process on a free port, against its own moto
// account, with anonymous admin access (as the local demo configures).
func openShifter(t *testing.T) (*daemon.Server, awstest.Net) {
	t.Helper()
	return daemontest.Open(t, `anonymous { role = "admin" }`)
}

func call(t testing.TB, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, url, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func endpointSpec(net awstest.Net) map[string]any {
	return map[string]any{
		"team":                "web",
		"deletion_protection": false,
		"traffic":             map[string]any{"listener_arn": net.ListenerARN, "priority": 10, "hosts": []string{"web.example.com"}},
		"template": map[string]any{
			"repository": "registry.example.com/web", "container_port": 8080, "ami": net.AMI,
			"subnets": net.Subnets, "security_groups": []string{net.SecurityGroup},
		},
		"policy": map[string]any{"steps": []map[string]any{{"weight": 100}}, "bake_time": "0s"},
	}
}

func TestServeRollsOutAReleaseDeclaredThroughTheAPI(t *testing.T) {
	s, net := openShifter(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := call(t, "GET", s.URL()+path, nil); code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, code)
		}
	}
	if code, body := call(t, "PUT", s.URL()+"/v1/endpoints/web", endpointSpec(net)); code != http.StatusCreated {
		t.Fatalf("PUT endpoint = %d %v", code, body)
	}
	if code, body := call(t, "PUT", s.URL()+"/v1/endpoints/web/releases/production", map[string]any{"version": "v1"}); code != http.StatusCreated {
		t.Fatalf("PUT release = %d %v", code, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := call(t, "GET", s.URL()+"/v1/endpoints/web/releases/production", nil)
		status, _ := body["status"].(map[string]any)
		if status["state"] == string(rollout.PhaseComplete) {
			if status["traffic_percent"] != float64(100) || status["live_version"] != "v1" {
				t.Fatalf("release status = %v", status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("release not complete after 30s: %v", status)
		}
		time.Sleep(50 * time.Millisecond)
	}

	checkMetrics(t, s.URL())

	// Deleting the endpoint tears its environments and rule down, then
	// forgets it.
	if code, body := call(t, "DELETE", s.URL()+"/v1/endpoints/web", nil); code != http.StatusAccepted {
		t.Fatalf("DELETE endpoint = %d %v", code, body)
	}
	for code := 0; code != http.StatusNotFound; code, _ = call(t, "GET", s.URL()+"/v1/endpoints/web", nil) {
		if time.Now().After(deadline.Add(30 * time.Second)) {
			t.Fatalf("endpoint still there: %d", code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	awsCfg := *s.AWS
	groups, err := autoscaling.NewFromConfig(awstest.Exempt(awsCfg)).DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(groups.AutoScalingGroups) != 0 {
		t.Errorf("groups after delete = %d, %v", len(groups.AutoScalingGroups), err)
	}
	rules, err := elb.NewFromConfig(awstest.Exempt(awsCfg)).DescribeRules(t.Context(), &elb.DescribeRulesInput{ListenerArn: &net.ListenerARN})
	if err != nil || len(rules.Rules) != 1 { // only the listener's default rule
		t.Errorf("rules after delete = %d, %v", len(rules.Rules), err)
	}
}

// TestBadInputCreatesNothing: every rejected request leaves no trace in the
// store or in AWS.
func TestBadInputCreatesNothing(t *testing.T) {
	s, net := openShifter(t)
	good := endpointSpec(net)
	bad := func(mutate func(spec map[string]any)) map[string]any {
		spec := endpointSpec(net)
		mutate(spec)
		return spec
	}
	policy := func(spec map[string]any) map[string]any { return spec["policy"].(map[string]any) }
	for _, tc := range []struct {
		path  string
		body  any
		field string
	}{
		{"/v1/endpoints/Web_1", good, "name"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { policy(s)["steps"] = []map[string]any{{"weight": 0}, {"weight": 100}} }), "policy.steps[0].weight"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { policy(s)["steps"] = []map[string]any{{"weight": 10}, {"weight": 150}} }), "policy.steps[1].weight"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { policy(s)["steps"] = []map[string]any{{"weight": 10}, {"weight": 50}} }), "policy.steps[1].weight"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { s["traffic"].(map[string]any)["listener_arn"] = "arn:aws:elb:listener" }), "traffic.listener_arn"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { policy(s)["bake_time"] = "5 minutes" }), "policy.bake_time"},
		{"/v1/endpoints/web", bad(func(s map[string]any) { policy(s)["healthy_timeout"] = "0s" }), "policy.healthy_timeout"},
	} {
		code, body := call(t, "PUT", s.URL()+tc.path, tc.body)
		e, _ := body["error"].(map[string]any)
		if code != http.StatusBadRequest || e["code"] != "invalid" || e["field"] != tc.field {
			t.Errorf("PUT %s (%s) = %d %v, want 400 invalid %q", tc.path, tc.field, code, body, tc.field)
		}
	}
	if code, body := call(t, "PUT", s.URL()+"/v1/endpoints/web", good); code != http.StatusCreated {
		t.Fatalf("PUT good endpoint = %d %v", code, body)
	}
	for _, tc := range []struct {
		track string
		body  map[string]any
		field string
	}{
		{"staging", map[string]any{"version": "v1"}, "track"},
		{"production", map[string]any{"version": "v1", "image": " "}, "image"},
		{"production", map[string]any{"version": ""}, "version"},
		{"preview", map[string]any{"version": "v1"}, "track"},
	} {
		code, body := call(t, "PUT", s.URL()+"/v1/endpoints/web/releases/"+tc.track, tc.body)
		e, _ := body["error"].(map[string]any)
		if code != http.StatusBadRequest || e["code"] != "invalid" || e["field"] != tc.field {
			t.Errorf("PUT release %s %v = %d %v, want 400 invalid %q", tc.track, tc.body, code, body, tc.field)
		}
	}
	// Let the reconciler act on anything that slipped through.
	waitWake(t, s.URL())
	if code, _ := call(t, "GET", s.URL()+"/v1/endpoints/web/releases/production", nil); code != http.StatusNotFound {
		t.Errorf("a rejected release was stored: GET = %d", code)
	}
	awsCfg := *s.AWS
	groups, err := autoscaling.NewFromConfig(awstest.Exempt(awsCfg)).DescribeAutoScalingGroups(t.Context(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil || len(groups.AutoScalingGroups) != 0 {
		t.Errorf("rejected input created %d groups (%v)", len(groups.AutoScalingGroups), err)
	}
	tgs, err := elb.NewFromConfig(awstest.Exempt(awsCfg)).DescribeTargetGroups(t.Context(), &elb.DescribeTargetGroupsInput{})
	if err != nil || len(tgs.TargetGroups) != 0 {
		t.Errorf("rejected input created %d target groups (%v)", len(tgs.TargetGroups), err)
	}
}

// checkMetrics waits for /metrics, after a first release went live, to show
// it in every family the shifter exposes. It waits because the reconciler tells
// the metrics of a decision once it is stored, so the API can show a
// rollout complete a moment before /metrics counts it.
func checkMetrics(t *testing.T, url string) {
	t.Helper()
	wants := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ionroller_rollouts\{state="complete"\} 1$`),
		regexp.MustCompile(`(?m)^ionroller_rollouts_ended_total\{phase="complete"\} 1$`),
		regexp.MustCompile(`(?m)^ionroller_step_transitions_total [1-9]`),
		regexp.MustCompile(`(?m)^ionroller_aws_calls_total\{operation="CreateRule",outcome="ok",service="Elastic Load Balancing v2"\} 2$`), // standby, then the route's own
		regexp.MustCompile(`(?m)^ionroller_aws_call_seconds_count\{operation="CreateAutoScalingGroup",service="Auto Scaling"\} 1$`),
		regexp.MustCompile(`(?m)^ionroller_reconcile_seconds_count\{outcome="ok"\} [1-9]`),
		regexp.MustCompile(`(?m)^ionroller_store_seconds_count\{operation="put_state"\} [1-9]`),
		regexp.MustCompile(`(?m)^ionroller_event_stream_subscribers 0$`),
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var missing []string
		body := metrics(t, url)
		for _, want := range wants {
			if !want.MatchString(body) {
				missing = append(missing, want.String())
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no line matching %s after 10s:\n%s", strings.Join(missing, ", "), body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseEndsOpenEventStreams: a UI tab or `shifter watch` following
// events must not hold a shutdown up.
func TestCloseEndsOpenEventStreams(t *testing.T) {
	awsCfg := awstest.Config(t)
	s, closeShifter := daemontest.Serve(t, fmt.Sprintf("listen = \"127.0.0.1:0\"\nstore { path = %q }\nauth {\n  anonymous { role = \"read\" }\n}\n", filepath.Join(t.TempDir(), "s.db")), awsCfg)
	req, _ := http.NewRequest("GET", s.URL()+"/v1/endpoints/web/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	start := time.Now()
	if err := closeShifter(); err != nil {
		t.Errorf("Close with a stream open = %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %s with a stream open", took)
	}
}

// TestSlowClientsCannotHoldAConnection: a client trickling its request one
// byte a second is cut off at the read timeouts.
func TestSlowClientsCannotHoldAConnection(t *testing.T) {
	awsCfg := awstest.Config(t)
	s, _ := daemontest.Serve(t, fmt.Sprintf("listen = \"127.0.0.1:0\"\nstore { path = %q }\n", filepath.Join(t.TempDir(), "s.db")), awsCfg,
		func(s *daemon.Server) { s.Timeouts = daemon.Timeouts{ReadHeader: time.Second, Read: 2 * time.Second} })
	addr := strings.TrimPrefix(s.URL(), "http://")
	for name, request := range map[string]string{
		"headers": "GET /v1/endpoints HTTP/1.1\r\nHost: shifter\r\nX-Padding: " + strings.Repeat("x", 60),
		"body":    "PUT /v1/endpoints/web HTTP/1.1\r\nHost: shifter\r\nContent-Length: 100\r\n\r\n" + strings.Repeat("x", 60),
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			for i := range len(request) {
				if _, err := conn.Write([]byte{request[i]}); err != nil {
					break // the server closed the connection
				}
				time.Sleep(time.Second)
				if time.Since(start) > 10*time.Second {
					t.Fatalf("the server still reads a trickling %s after %s", name, time.Since(start))
				}
			}
		})
	}
}

// TestCloseCutsConnectionsThatNeverSentARequest: a client's spare
// connection, dialled and never used, must not make Close fail or wait
// past its grace.
func TestCloseCutsConnectionsThatNeverSentARequest(t *testing.T) {
	accepted := make(chan struct{}, 1)
	s, closeShifter := daemontest.Serve(t, fmt.Sprintf("listen = \"127.0.0.1:0\"\nstore { path = %q }\n", filepath.Join(t.TempDir(), "s.db")), awstest.Config(t),
		func(s *daemon.Server) {
			s.Timeouts.Shutdown = 300 * time.Millisecond
			daemon.SetConnState(s, func(_ net.Conn, state http.ConnState) {
				if state == http.StateNew {
					select {
					case accepted <- struct{}{}:
					default:
					}
				}
			})
		})
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the server did not accept the connection within 5s")
	}
	start := time.Now()
	if err := closeShifter(); err != nil {
		t.Errorf("Close with an unused connection open = %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %s", took)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the unused connection is still open after Close")
	}
}

// metrics returns what the shifter at url serves on /metrics.
func metrics(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitWake waits until the reconciler has finished a wake of the endpoint
// that began after the call: two more than now, as one may be under way.
func waitWake(t *testing.T, url string) {
	t.Helper()
	want := wakes(t, url) + 2
	for deadline := time.Now().Add(10 * time.Second); wakes(t, url) < want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reconciler did not wake within 10s")
		}
	}
}

// wakes is how many wakes of its endpoints the reconciler finished, by its
// metrics.
func wakes(t *testing.T, url string) int {
	t.Helper()
	n := 0
	for _, m := range regexp.MustCompile(`(?m)^ionroller_reconcile_seconds_count\{outcome="[a-z]+"\} (\d+)$`).FindAllStringSubmatch(metrics(t, url), -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}
