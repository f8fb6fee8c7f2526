package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The commands are tested as people and CI jobs use them: the real shifter
// binary, run as a process against a real shifter (in-process, on
// 127.0.0.1:0, against moto), its exit code and output read back.

// TestCommands builds the binary once and runs every command's test with
// it. The build is here rather than in TestMain because awstest.Main ends
// the process, which would leave the binary behind in a temporary
// directory; t.TempDir removes it after the last subtest.
func TestCommands(t *testing.T) {
	bin := buildShifter(t)
	for _, tc := range []struct {
		name string
		// auth is the shifter's auth block; "" lets anyone in as admin.
		auth string
		test func(t *testing.T, h *harness)
	}{
		{"Status", "", testStatus},
		{"Events", "", testEvents},
		{"EventsFollow", "", testEventsFollow},
		{"PromoteCanary", "", testPromote},
		{"PauseResume", "", testPauseResume},
		{"AbortEndsAWatch", "", testAbort},
		{"RollbackTo", "", testRollbackTo},
		{"Override", "", testOverride},
		{"Simulate", "", testSimulate},
		{"History", "", testHistory},
		{"Errors", "", testErrors},
		{"Tokens", tokensAuth, testTokens},
		{"AuthorizationMatrix", matrixAuth, testAuthorizationMatrix},
		{"WatchPlain", "", testWatchPlain},
		{"WatchTerminal", "", testWatchTerminal},
		{"Replicas", "", testReplicas},
		{"Store", matrixAuth, testStore},
		{"DamagedStores", "", testDamagedStores},
		{"ServeStartAndStop", "", testServeStartAndStop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, newHarness(t, bin, tc.auth))
		})
	}
}

// buildShifter builds shifter/cmd/shifter into a temporary directory. It
// is built without the race detector even under -race: a race binary takes
// four times as long to link and each of the many runs starts slower, and
// the code it would watch is a loop and one stream goroutine.
func buildShifter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shifter")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin,
		"-ldflags", "-X github.com/ionroller/terraform-provider-ionroller/shifter/cli.Version=test",
		"github.com/ionroller/terraform-provider-ionroller/shifter/cmd/shifter")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// harness is one shifter and the binary pointed at it.
type harness struct {
	t   *testing.T
	bin string
	url string
	net awstest.Net
	api *client.Client
	// token is the binary's $IONROLLER_TOKEN.
	token string
}

// newHarness starts a shifter with the auth block given, or with anonymous
// admin access for "". The harness's own client uses adminSecret when
// there is an auth block: it must have a token of that secret.
func newHarness(t *testing.T, bin, auth string) *harness {
	var opts []client.Option
	if auth == "" {
		auth = `anonymous { role = "admin" }`
	} else {
		opts = append(opts, client.WithToken(adminSecret))
	}
	s, net := daemontest.Open(t, auth)
	c, err := client.New(s.URL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, bin: bin, url: s.URL(), net: net, api: c}
}

// result is how a run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// command returns the binary with args, reaching the harness's shifter
// through the environment as a CI job would.
func (h *harness) command(args ...string) *exec.Cmd {
	cmd := exec.CommandContext(h.t.Context(), h.bin, args...)
	cmd.Env = append(os.Environ(), "IONROLLER_ADDR="+h.url, "IONROLLER_TOKEN="+h.token, "IONROLLER_CA_FILE=", "TZ=UTC")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs the binary to its end.
func (h *harness) run(args ...string) result {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := h.command(args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
	if err != nil && r.code < 0 {
		h.t.Fatalf("shifter %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// ok runs the binary and fails the test unless it exits 0 with nothing on
// stderr.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 || r.stderr != "" {
		h.t.Fatalf("shifter %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// background is a run of the binary that goes on while the test acts.
type background struct {
	cmd    *exec.Cmd
	stdout *syncbuf.Buffer
	stderr *syncbuf.Buffer
	done   chan struct{}
}

func (h *harness) start(args ...string) *background {
	h.t.Helper()
	b := &background{cmd: h.command(args...), stdout: &syncbuf.Buffer{}, stderr: &syncbuf.Buffer{}, done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	if err := b.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	go func() {
		_ = b.cmd.Wait() // the exit code is read from ProcessState
		close(b.done)
	}()
	h.t.Cleanup(func() {
		_ = b.cmd.Process.Kill() // a test that failed early leaves none behind
		<-b.done
	})
	return b
}

// wait waits for the run to end and returns how.
func (b *background) wait(t *testing.T, timeout time.Duration) result {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s; output so far:\n%s", b.cmd, timeout, b.stdout)
	}
	return result{stdout: b.stdout.String(), stderr: b.stderr.String(), code: b.cmd.ProcessState.ExitCode()}
}

// endpoint declares endpoint name with the rollout steps given, no bake and
// no deletion protection.
func (h *harness) endpoint(name string, steps ...rollout.Step) {
	h.t.Helper()
	ep := rollout.NewEndpoint()
	ep.Name, ep.Team, ep.DeletionProtection = name, "web", false
	ep.Traffic = rollout.Traffic{ListenerARN: h.net.ListenerARN, Priority: 10, Hosts: []string{name + ".example.com"}}
	ep.Template.Repository, ep.Template.ContainerPort = "registry.example.com/"+name, 8080
	ep.Template.AMI, ep.Template.Subnets, ep.Template.SecurityGroups = h.net.AMI, h.net.Subnets, []string{h.net.SecurityGroup}
	ep.Policy.Steps, ep.Policy.BakeTime = steps, 0
	if _, err := h.api.PutEndpoint(h.t.Context(), ep, 0); err != nil {
		h.t.Fatalf("put endpoint %s: %v", name, err)
	}
}

// release declares version on the production track of endpoint.
func (h *harness) release(endpoint, version string) {
	h.t.Helper()
	if _, err := h.api.PutRelease(h.t.Context(), rollout.Release{Endpoint: endpoint, Track: rollout.Production, Version: version}, -1); err != nil {
		h.t.Fatalf("put release %s of %s: %v", version, endpoint, err)
	}
}

// live declares version and waits until it is complete.
func (h *harness) live(endpoint, version string) {
	h.t.Helper()
	h.release(endpoint, version)
	h.waitRelease(endpoint, string(rollout.PhaseComplete))
}

func (h *harness) waitRelease(endpoint, state string) rollout.ReleaseView {
	h.t.Helper()
	var v rollout.ReleaseView
	h.eventually(func() (bool, string) {
		var err error
		v, err = h.api.GetRelease(h.t.Context(), endpoint, rollout.Production)
		if err == nil && v.Status.State == state {
			return true, ""
		}
		ep, _ := h.api.GetEndpoint(h.t.Context(), endpoint)
		events, _, _ := h.api.Events(h.t.Context(), endpoint, 0, 0)
		return false, fmt.Sprintf("release state %q (%v), want %q\nendpoint: %+v\npolicy: %+v\ntrail: %+v", v.Status.State, err, state, ep.Status, ep.Endpoint.Policy, events)
	})
	return v
}

func (h *harness) waitEndpoint(endpoint string, cond func(rollout.EndpointStatus) bool) rollout.EndpointStatus {
	h.t.Helper()
	var v rollout.EndpointView
	h.eventually(func() (bool, string) {
		var err error
		v, err = h.api.GetEndpoint(h.t.Context(), endpoint)
		return err == nil && cond(v.Status), fmt.Sprintf("endpoint status %+v (%v)", v.Status, err)
	})
	return v.Status
}

// eventually polls cond until it holds, for up to 30 s.
func (h *harness) eventually(cond func() (bool, string)) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("condition not met after 30s: %s", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lines splits output into its lines.
func lines(out string) []string {
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// inOrder reports whether every part is in s, each after the one before.
func inOrder(s string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func pause(d time.Duration) *rollout.Duration { return rollout.DurationPtr(d) }

func testStatus(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")

	table := lines(h.ok("status"))
	if len(table) != 2 || !regexp.MustCompile(`^NAME +TEAM +STATE +LIVE +TRAFFIC +UPDATED$`).MatchString(table[0]) {
		t.Fatalf("status table:\n%s", strings.Join(table, "\n"))
	}
	if row := strings.Fields(table[1]); len(row) < 6 || !slices.Equal(row[:6], []string{"web", "web", "steady", "v1", "v1", "100%"}) {
		t.Errorf("status row = %q", table[1])
	}

	var list wire.EndpointList
	if err := json.Unmarshal([]byte(h.ok("status", "-output", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Endpoints) != 1 || list.Endpoints[0].Status.StableVersion != "v1" || list.Endpoints[0].Status.Weights["v1"] != 100 {
		t.Errorf("status -output json = %+v", list)
	}

	detail := h.ok("status", "web")
	for _, want := range []string{
		"Endpoint:     web (team web)\n",
		"State:        steady\n",
		"Live:         v1\n",
		"Traffic:      v1       ████████████████████ 100%\n",
		"Last rollout: #1 deploy v1, step 1/1 at 100%: complete",
		"ENVIRONMENT",
		" v1 ",
		" serving ",
	} {
		if !strings.Contains(detail, want) {
			t.Errorf("status web lacks %q:\n%s", want, detail)
		}
	}

	// -output json is the API's view; flags may follow the argument.
	var view rollout.EndpointView
	if err := json.Unmarshal([]byte(h.ok("status", "web", "-output", "json")), &view); err != nil {
		t.Fatal(err)
	}
	if view.Endpoint.Name != "web" || view.Status.State != rollout.StateSteady || len(view.Status.Environments) != 1 {
		t.Errorf("status web -output json = %+v", view)
	}
}

// eventLinePattern is one line of `shifter events`: time, sequence, type,
// version, message.
var eventLinePattern = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)  #(\d+) +([a-z_.]+) +(\S+) +(.+)$`)

// parseEvents returns the sequence and type of every line, failing the
// test on a line that is not an event.
func parseEvents(t *testing.T, out string) (seqs []int64, types []string) {
	t.Helper()
	for _, line := range lines(out) {
		m := eventLinePattern.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not an event line: %q", line)
		}
		seq, _ := strconv.ParseInt(m[2], 10, 64)
		seqs, types = append(seqs, seq), append(types, m[3])
	}
	return seqs, types
}

func testEvents(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")

	all := h.ok("events", "web")
	seqs, types := parseEvents(t, all)
	if !slices.IsSorted(seqs) || !inOrder(strings.Join(types, " "), rollout.EventEndpointCreated, rollout.EventReleaseDeclared,
		rollout.EventRolloutStarted, rollout.EventEnvironmentHealthy, rollout.EventRolloutComplete) {
		t.Errorf("events web:\n%s", all)
	}
	if !strings.Contains(all, " v1 ") {
		t.Errorf("no event names the version:\n%s", all)
	}

	last2 := h.ok("events", "-n", "2", "web")
	if want := strings.Join(lines(all)[len(seqs)-2:], "\n") + "\n"; last2 != want {
		t.Errorf("events -n 2 =\n%s\nwant\n%s", last2, want)
	}
	since := seqs[2]
	after, _ := parseEvents(t, h.ok("events", "web", "-since", strconv.FormatInt(since, 10)))
	if !slices.Equal(after, seqs[3:]) {
		t.Errorf("events -since %d = %v, want %v", since, after, seqs[3:])
	}
}

func testEventsFollow(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")

	follow := h.start("events", "web", "-follow", "-n", "1")
	h.eventually(func() (bool, string) { // the last event of the trail, then the stream
		return strings.Contains(follow.stdout.String(), rollout.EventRolloutComplete+" "), follow.stdout.String()
	})
	h.release("web", "v2")
	v2Complete := regexp.MustCompile(`rollout\.complete +v2 `)
	h.eventually(func() (bool, string) {
		out := follow.stdout.String()
		return v2Complete.MatchString(out), out
	})
	if err := follow.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r := follow.wait(t, 10*time.Second)
	seqs, types := parseEvents(t, r.stdout)
	if r.code != 130 || r.stderr != "" || !slices.IsSorted(seqs) ||
		types[0] != rollout.EventRolloutComplete || !inOrder(strings.Join(types, " "), rollout.EventReleaseDeclared, rollout.EventRolloutStarted, rollout.EventRolloutComplete) {
		t.Errorf("events -follow, interrupted: %s", r)
	}
}

func testPromote(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 10}, rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.release("web", "v2")
	h.waitRelease("web", string(rollout.PhasePaused))

	if out := h.ok("status", "web"); !strings.Contains(out, "canary at 10%, waiting for a promote") || !strings.Contains(out, "v2       ██░░░░░░░░░░░░░░░░░░  10%") {
		t.Errorf("status of a canary:\n%s", out)
	}
	if out := h.ok("promote", "web"); out != "web: promote queued as command #1 by anonymous\n" {
		t.Errorf("promote = %q", out)
	}
	rel := h.waitRelease("web", string(rollout.PhaseComplete))
	if rel.Status.LiveVersion != "v2" || rel.Status.TrafficPercent != 100 {
		t.Errorf("after promote: %+v", rel.Status)
	}
}

func testPauseResume(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 10, Pause: pause(time.Hour)}, rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.release("web", "v2")
	h.waitEndpoint("web", func(s rollout.EndpointStatus) bool { return s.Rollout != nil && !s.Rollout.NextAt.IsZero() })

	if out := h.ok("pause", "web", "-for", "10m", "-reason", "reading the logs"); out != `web: pause for 10m0s queued as command #1 by anonymous, reason "reading the logs"`+"\n" {
		t.Errorf("pause = %q", out)
	}
	h.waitEndpoint("web", func(s rollout.EndpointStatus) bool { return s.State == string(rollout.PhasePaused) && s.Rollout.Paused })
	if out := h.ok("status", "web"); !regexp.MustCompile(`paused by anonymous \(reading the logs\), resumes in (9m5\ds|10m00s), at \d\d:\d\d:\d\d\n`).MatchString(out) {
		t.Errorf("status of a paused rollout:\n%s", out)
	}

	if out := h.ok("resume", "web"); out != "web: resume queued as command #2 by anonymous\n" {
		t.Errorf("resume = %q", out)
	}
	h.waitEndpoint("web", func(s rollout.EndpointStatus) bool {
		return s.State == string(rollout.PhaseShifting) && !s.Rollout.Paused
	})
	if out := h.ok("status", "web"); !regexp.MustCompile(`next step in (59m\d\ds|1h00m), at \d\d:\d\d:\d\d\n`).MatchString(out) {
		t.Errorf("status of a resumed rollout:\n%s", out)
	}

	// The shifter refuses a resume of a rollout that is not paused.
	if r := h.run("resume", "web"); r.code != 1 || r.stdout != "" || r.stderr != "shifter: cannot resume: the production rollout is not paused\n" {
		t.Errorf("second resume: %s", r)
	}
}

func testAbort(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 10}, rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.release("web", "v2")
	watch := h.start("watch", "web")
	h.waitRelease("web", string(rollout.PhasePaused))

	if out := h.ok("abort", "web", "-reason", "bad canary"); out != `web: abort queued as command #1 by anonymous, reason "bad canary"`+"\n" {
		t.Errorf("abort = %q", out)
	}
	r := watch.wait(t, 30*time.Second)
	if r.code != 4 || r.stderr != "shifter: web: release v2 was aborted: aborted by anonymous: bad canary\n" {
		t.Errorf("watch during an abort: %s", r)
	}
	if !strings.Contains(r.stdout, "traffic v1 90%, v2 10%") || !strings.Contains(r.stdout, "rollout.aborted v2") {
		t.Errorf("watch output:\n%s", r.stdout)
	}
	if s := h.waitEndpoint("web", func(rollout.EndpointStatus) bool { return true }); s.Weights["v1"] != 100 {
		t.Errorf("after abort, weights = %v", s.Weights)
	}
}

func testRollbackTo(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.live("web", "v2")
	if out := h.ok("status", "web"); !regexp.MustCompile(`Hot versions: v1 \(spec r1\) until \S+ \((59m\d\ds|1h00m) left\), ready: 1 of 1 healthy`).MatchString(out) {
		t.Errorf("status before the rollback:\n%s", out)
	}

	if out := h.ok("rollback", "web", "-to", "v1", "-reason", "revert"); out != `web: rollback to v1 queued as command #1 by anonymous, reason "revert"`+"\n" {
		t.Errorf("rollback = %q", out)
	}
	h.waitRelease("web", string(rollout.PhaseRolledBack))
	h.waitEndpoint("web", func(s rollout.EndpointStatus) bool { return !inFlight(s.Rollout) })
	var view rollout.EndpointView
	if err := json.Unmarshal([]byte(h.ok("status", "web", "-output", "json")), &view); err != nil {
		t.Fatal(err)
	}
	if s := view.Status; s.StableVersion != "v1" || s.Weights["v1"] != 100 || s.Weights["v2"] != 0 {
		t.Errorf("after rollback -to v1: %+v", s)
	}
	// A watch started now reports how the declared release ended.
	if r := h.run("watch", "web"); r.code != 3 || !strings.HasPrefix(r.stderr, "shifter: web: release v2 was rolled back: rolled back to version v1 by anonymous: revert") {
		t.Errorf("watch after the rollback: %s", r)
	}
}

// testOverride breaks glass: traffic goes back to hot v1 for a while, a
// release declared meanwhile waits (deferred), and rolls out on the lift.
func testOverride(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.live("web", "v2")
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"override", "web", "-to", "v1", "-for", "30m"}, `shifter override: -reason must say why: an override is break glass, and everyone is told (see 'shifter override -h')`},
		{[]string{"override", "web", "-to", "v1", "-for", "48h", "-reason", "x"}, `shifter override: -for must be between 0s and 24h0m0s; got 48h0m0s (see 'shifter override -h')`},
		{[]string{"override", "web", "-lift", "-to", "v1"}, `shifter override: -lift ends the override in force: it takes no -to or -for (see 'shifter override -h')`},
	} {
		if r := h.run(tc.args...); r.code != 2 || r.stderr != tc.stderr+"\n" {
			t.Errorf("shifter %s: %s\nwant exit 2 and stderr %q", strings.Join(tc.args, " "), r, tc.stderr)
		}
	}

	if out := h.ok("override", "web", "-to", "v1", "-for", "30m", "-reason", "v2 corrupts carts"); out != `web: override to v1 for 30m0s queued as command #1 by anonymous, reason "v2 corrupts carts"`+"\n" {
		t.Errorf("override = %q", out)
	}
	h.waitEndpoint("web", func(s rollout.EndpointStatus) bool { return s.Override != nil && s.Weights["v1"] == 100 && s.Verified })
	if out := h.ok("status", "web"); !regexp.MustCompile(`(?m)^Override: +v1 until \S+ \((29m\d\ds|30m00s) left\) by anonymous: v2 corrupts carts; releases wait for its end$`).MatchString(out) {
		t.Errorf("status during the override:\n%s", out)
	}

	h.release("web", "v3")
	if v := h.waitRelease("web", rollout.StateDeferred); !strings.Contains(v.Status.Reason, "overridden to version v1") {
		t.Errorf("deferred release's reason = %q", v.Status.Reason)
	}
	if out := h.ok("override", "web", "-lift"); out != "web: lift queued as command #2 by anonymous\n" {
		t.Errorf("lift = %q", out)
	}
	h.waitRelease("web", string(rollout.PhaseComplete))
	if out := h.ok("events", "web"); !strings.Contains(out, "override to version v1 ended: lifted by anonymous") || !strings.Contains(out, "release v3 waits") {
		t.Errorf("the trail does not tell the override:\n%s", out)
	}
}

// testSimulate replays a canary that was promoted, as it happened and under
// a policy without the canary, then plays a scripted scenario.
func testSimulate(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 10}, rollout.Step{Weight: 100})
	h.live("web", "v1")
	h.release("web", "v2")
	h.waitRelease("web", string(rollout.PhasePaused))
	h.ok("promote", "web")
	h.waitRelease("web", string(rollout.PhaseComplete))

	// Columns are compared with single spaces between them.
	replay := strings.Join(strings.Fields(h.ok("simulate", "web", "-trail")), " ")
	for _, want := range []string{
		"web: its trail under its policy (7 happenings, no version live at the start)",
		"» v2 fails its health checks", "» v2 passes its health checks",
		"» release v1 declared", "» release v2 declared", "» anonymous: promote",
		"canary at 10%: waiting for a promote", "traffic - v1 90%, v2 10%",
		"At the end: v2 live with v2 100%. Traffic writes: 5; environments created: 2.",
	} {
		if !strings.Contains(replay, want) {
			t.Errorf("simulate -trail lacks %q:\n%s", want, replay)
		}
	}

	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	oneStep := write("one-step.json", `{"steps": [{"weight": 100}]}`)
	replay = h.ok("simulate", "web", "-trail", "-policy", oneStep)
	if strings.Contains(replay, "waiting for a promote") || !strings.Contains(replay, "promote by anonymous ignored: no rollout is shifting traffic") ||
		!strings.Contains(replay, "At the end: v2 live with v2 100%. Traffic writes: 4;") {
		t.Errorf("simulate -trail -policy %s:\n%s", oneStep, replay)
	}

	sick := write("sick.json", `{"live": "v2", "happenings": [{"at": "0s", "unhealthy": "v3"}, {"at": "1m", "release": "v3"}]}`)
	var out struct {
		Events []struct {
			At   string `json:"at"`
			Type string `json:"type"`
		} `json:"events"`
		Status rollout.EndpointStatus `json:"status"`
	}
	if err := json.Unmarshal([]byte(h.ok("simulate", "web", "-scenario", sick, "-output", "json")), &out); err != nil {
		t.Fatal(err)
	}
	failed := slices.IndexFunc(out.Events, func(e struct {
		At   string `json:"at"`
		Type string `json:"type"`
	}) bool {
		return e.Type == rollout.EventRolloutFailed
	})
	if failed < 0 || out.Events[failed].At != "11m0s" || out.Status.StableVersion != "v2" || out.Status.Weights["v2"] != 100 {
		t.Errorf("a version that is never healthy: events %+v, status %+v; want it failed at 11m (1m + healthy_timeout), v2 live", out.Events, out.Status)
	}

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"simulate", "web"}, 2, "shifter simulate: give one of -scenario FILE and -trail (see 'shifter simulate -h')"},
		{[]string{"simulate", "web", "-scenario", write("bad.json", `{"happenings": [{"at": "0s", "alarm": {"name": "x", "state": "RED"}}]}`)}, 1,
			`shifter: scenario: happenings[0].alarm.state: must be OK, ALARM or INSUFFICIENT_DATA; got "RED"`},
		{[]string{"simulate", "web", "-trail", "-policy", write("typo.json", `{"stepz": []}`)}, 1, "shifter: " + dir + `/typo.json: json: unknown field "stepz"`},
		{[]string{"simulate", "web", "-trail", "-policy", write("zero.json", `{"steps": [{"weight": 50}]}`)}, 1, "shifter: " + dir + "/zero.json: policy.steps[0].weight: the last step must send 100% of traffic; got 50"},
	} {
		if r := h.run(tc.args...); r.code != tc.code || r.stderr != tc.stderr+"\n" {
			t.Errorf("shifter %s: %s\nwant exit %d and stderr %q", strings.Join(tc.args, " "), r, tc.code, tc.stderr)
		}
	}
}

// testHistory changes how web runs between two releases, then reads the
// history, a diff and the trail, and rolls back to the version that runs
// the old configuration.
func testHistory(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	h.live("web", "v1")
	view, err := h.api.GetEndpoint(t.Context(), "web")
	if err != nil {
		t.Fatal(err)
	}
	ep := view.Endpoint
	ep.Template.Env = map[string]string{"LOG_LEVEL": "debug"}
	if _, err := h.api.PutEndpoint(t.Context(), ep, ep.Revision); err != nil {
		t.Fatal(err)
	}
	h.live("web", "v2")

	history := h.ok("history", "web")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^REVISION +TIME +ACTOR +RUNS +CHANGES$`),
		regexp.MustCompile(`(?m)^1 +\S+Z +anonymous +v1 \(hot\) +created$`),
		regexp.MustCompile(`(?m)^2 +\S+Z +anonymous +v2 \(serving\) +template.env.LOG_LEVEL$`),
	} {
		if !want.MatchString(history) {
			t.Errorf("history web lacks %s:\n%s", want, history)
		}
	}
	if out := h.ok("diff", "web", "1", "2"); !strings.HasSuffix(out, "\n  template.env.LOG_LEVEL: (unset) → \"debug\"\n") {
		t.Errorf("diff web 1 2:\n%s", out)
	}
	if out := h.ok("diff", "web", "2", "2"); !strings.HasSuffix(out, "\nno change to the spec\n") {
		t.Errorf("diff web 2 2:\n%s", out)
	}
	if out := h.ok("events", "web"); !strings.Contains(out, `endpoint updated by anonymous: template.env.LOG_LEVEL: (unset) → "debug"`) {
		t.Errorf("events web shows no change:\n%s", out)
	}
	if out := h.ok("status", "web"); !regexp.MustCompile(`(?m)^e1 +v1 +r1 +hot `).MatchString(out) {
		t.Errorf("status web does not say v1 runs revision 1:\n%s", out)
	}

	h.ok("rollback", "web", "-to", "v1")
	h.waitRelease("web", string(rollout.PhaseRolledBack))
	if out := h.ok("events", "web"); !strings.Contains(out, "rollback to version v1 with its configuration (spec revision 1, live runs 2) started") {
		t.Errorf("the rollback does not say it brings revision 1 back:\n%s", out)
	}
	if r := h.run("diff", "web", "1", "x"); r.code != 2 || r.stderr != "shifter diff: B must be a revision, 1 or more; got \"x\" (see 'shifter diff -h')\n" {
		t.Errorf("diff with a bad revision: %s", r)
	}
	if r := h.run("diff", "web", "1", "9"); r.code != 1 || !strings.Contains(r.stderr, `revision 9 of endpoint "web" is not kept`) {
		t.Errorf("diff with a revision never written: %s", r)
	}
}

func inFlight(r *rollout.RolloutStatus) bool { return r != nil && !r.Phase.Done() }

func testErrors(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"status", "nosuch"}, 1, `shifter: endpoint "nosuch" not found`},
		{[]string{"watch", "nosuch"}, 1, `shifter: endpoint "nosuch" not found`},
		{[]string{"events", "nosuch"}, 1, `shifter: endpoint "nosuch" not found`},
		{[]string{"promote", "nosuch"}, 1, `shifter: endpoint "nosuch" not found`},
		{[]string{"abort", "web"}, 1, `shifter: cannot abort: no production rollout is in flight`},
		{[]string{"rollback", "web", "-to", "v9"}, 0, ``}, // queued; the planner records why it is ignored
		{[]string{"status", "-addr", "http://127.0.0.1:1"}, 1, `shifter: cannot reach the shifter at http://127.0.0.1:1: dial tcp 127.0.0.1:1: connect: connection refused`},
		{[]string{"status", "-addr", "ftp://x"}, 1, `shifter: shifter address "ftp://x" is not an http:// or https:// URL`},
		{[]string{"status", "-ca-file", "/nonexistent.pem"}, 1, `shifter: read the CA bundle: open /nonexistent.pem: no such file or directory`},
		{[]string{"pause"}, 2, `shifter pause: missing the ENDPOINT argument (see 'shifter pause -h')`},
		{[]string{"pause", "web", "other"}, 2, `shifter pause: expects one ENDPOINT argument; got 2 arguments: web other (see 'shifter pause -h')`},
		{[]string{"status", "-output", "yaml"}, 2, `shifter status: -output must be text or json; got "yaml" (see 'shifter status -h')`},
		{[]string{"events", "web", "-bogus"}, 2, `shifter events: flag provided but not defined: -bogus (see 'shifter events -h')`},
		{[]string{"rollback", "web", "-to", "not a version"}, 2, `shifter rollback: -to "not a version" is not a version (see 'shifter rollback -h')`},
		{[]string{"promote", "web", "-for", "1m"}, 2, `shifter promote: flag provided but not defined: -for (see 'shifter promote -h')`},
		{[]string{"deploy"}, 2, ``},
	} {
		r := h.run(tc.args...)
		if r.code != tc.code || (tc.stderr != "" && r.stderr != tc.stderr+"\n") {
			t.Errorf("shifter %s: %s\nwant exit %d and stderr %q", strings.Join(tc.args, " "), r, tc.code, tc.stderr)
		}
	}

	// -h is asked-for help: on stdout, exit 0.
	for _, cmd := range []string{"status", "watch", "events", "promote", "pause", "resume", "abort", "rollback", "override", "simulate"} {
		if r := h.run(cmd, "-h"); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: shifter "+cmd+" [flags]") || !strings.Contains(r.stdout, "-addr URL") {
			t.Errorf("shifter %s -h: %s", cmd, r)
		}
	}
	if out := h.ok("version"); out != "shifter test\n" {
		t.Errorf("version = %q", out)
	}
}

// Tokens of the Tokens test: an admin for the harness, a reader for CI.
const (
	adminSecret = "admin-secret"
	ciSecret    = "ci-secret"
)

var tokensAuth = fmt.Sprintf(`
  token "admin" {
    role   = "admin"
    sha256 = %q
  }
  token "ci" {
    role   = "read"
    sha256 = %q
  }`, api.HashToken(adminSecret), api.HashToken(ciSecret))

// testTokens: the token comes from -token or $IONROLLER_TOKEN, and the
// shifter's refusals read as one line with a hint where one helps.
func testTokens(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	const hint = " (the token comes from -token or $IONROLLER_TOKEN)\n"
	if r := h.run("status"); r.code != 1 || r.stderr != "shifter: a bearer token is required"+hint {
		t.Errorf("status without a token: %s", r)
	}
	if r := h.run("status", "-token", "wrong"); r.code != 1 || r.stderr != "shifter: the bearer token is not valid"+hint {
		t.Errorf("status with a wrong token: %s", r)
	}
	if out := h.ok("status", "-token", ciSecret); !strings.Contains(out, "web ") {
		t.Errorf("status -token: %q", out)
	}
	h.token = ciSecret
	if out := h.ok("status"); !strings.Contains(out, "web ") {
		t.Errorf("status with $IONROLLER_TOKEN: %q", out)
	}
	if r := h.run("pause", "web"); r.code != 1 || r.stderr != "shifter: ci has role read; this needs deploy\n" {
		t.Errorf("pause with a read token: %s", r)
	}
}

// watchPolicy is three steps with short pauses, so that a watch sees the
// traffic move.
func watchPolicy(h *harness) {
	h.endpoint("web", rollout.Step{Weight: 10, Pause: pause(time.Second)}, rollout.Step{Weight: 50, Pause: pause(time.Second)}, rollout.Step{Weight: 100})
	h.live("web", "v1")
}

func testWatchPlain(t *testing.T, h *harness) {
	watchPolicy(h)
	h.release("web", "v2")
	r := h.run("watch", "web")
	t.Logf("shifter watch web, on a pipe:\n%s", r.stdout)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("watch: %s", r)
	}
	if strings.Contains(r.stdout, "\x1b") {
		t.Errorf("watch on a pipe wrote terminal escapes:\n%q", r.stdout)
	}
	for _, line := range lines(r.stdout) {
		if !regexp.MustCompile(`^(\d\d:\d\d:\d\d (event #\d+ |web: )|web: release v2 is complete$)`).MatchString(line) {
			t.Errorf("not a watch line: %q", line)
		}
	}
	if !inOrder(r.stdout,
		"event #", rollout.EventRolloutStarted+" v2",
		"web: shifting · deploy v1 → v2, step 1/3 at 10%", "traffic v1 90%, v2 10%",
		"web: shifting · deploy v1 → v2, step 2/3 at 50%", "traffic v1 50%, v2 50%",
		"traffic v2 100%",
		"web: release v2 is complete\n") {
		t.Errorf("watch did not show the rollout step by step:\n%s", r.stdout)
	}

	// Once it is over there is nothing to wait for.
	if r := h.run("watch", "web"); r.code != 0 || !strings.HasSuffix(r.stdout, "web: release v2 is complete\n") {
		t.Errorf("watch of a complete release: %s", r)
	}
}

// testReplicas: on a bolt store the shifter answering is the only replica
// and holds no leases (TestReplicasTable shows a shared store).
func testReplicas(t *testing.T, h *harness) {
	if out := h.ok("replicas"); !strings.Contains(out, "is the only replica (bolt store)") {
		t.Errorf("shifter replicas:\n%s", out)
	}
	var v wire.ReplicasView
	if err := json.Unmarshal([]byte(h.ok("replicas", "-output", "json")), &v); err != nil || v.Leased || len(v.Replicas) != 1 || v.Replicas[0].ID != v.Replica {
		t.Errorf("shifter replicas -output json = %+v, %v", v, err)
	}
	if r := h.run("replicas", "web"); r.code != 2 || !strings.Contains(r.stderr, "takes no arguments") {
		t.Errorf("shifter replicas web: %s", r)
	}
}
