package ui_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/chromedp/chromedp"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	// chromium is Debian's Chromium, which .ci/run installs.
	chromium = "/usr/bin/chromium"
	// adminToken is the token of the shifter's one admin; requests without
	// a token are anonymous readers.
	adminToken = "ui-test-admin-token"

	// artifactsEnv names a directory for the test's screenshots (default: a
	// temporary one).
	artifactsEnv = "IONROLLER_ARTIFACTS"
	// updateScreenshotsEnv, when set, also writes the screenshots that
	// docs/images shows.
	updateScreenshotsEnv = "IONROLLER_UPDATE_SCREENSHOTS"
)

// TestEndpointPageFollowsARollout watches a release roll out in the browser,
// against a real shifter on moto: first as an anonymous reader, who sees no
// actions, then as an admin, who promotes the canary.
func TestEndpointPageFollowsARollout(t *testing.T) {
	awsCfg, shifter, net, b, admin := openSession(t)
	ctx := t.Context()
	// checkout has no release yet: the list shows it empty beside web.
	// web's policy names an alarm that is deleted once the endpoint is
	// accepted: the page says so.
	cw := awstest.PutAlarm(t, awsCfg, "web-5xx")
	web := testEndpoint(net, "web", 10)
	web.Policy.Alarms = []string{"web-5xx"}
	web.Policy.ProceedWithoutAlarms = true // the rollout the page follows goes on
	checkout := testEndpoint(net, "checkout", 20)
	checkout.ObserveOnly = true
	for _, ep := range []rollout.Endpoint{web, checkout} {
		if _, err := admin.PutEndpoint(ctx, ep, rollout.RevisionNew); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"web-5xx"}}); err != nil {
		t.Fatal(err)
	}
	release(t, admin, "v1")
	waitSteady(t, admin, "v1")

	b.open(shifter.URL() + "/endpoints/web")
	b.waitFor("traffic", split, "v1 100%")
	b.waitFor("session", `document.querySelector('#session .who').textContent`, "Signed in as anonymous (read)")
	b.waitFor("action buttons of a reader", texts("#rollout button"), "")
	b.do(chromedp.Evaluate[chromedp.Void](`window.sameDocument = true`))
	eventsBefore := b.count("#trail .events li")

	// Steps: 10% for 1.5s, 50% until promoted (the canary), then 100%.
	b.record("split", split)
	b.record("step", texts("#rollout .steps [aria-current=step] .weight"))
	release(t, admin, "v2")
	b.waitFor("traffic splits shown", seen("split"), "v1 100% → v1 90%, v2 10% → v1 50%, v2 50%")
	b.waitFor("steps highlighted", seen("step"), "10% → 50%")
	b.waitFor("step", texts("#rollout .step-count"), "Step 2 of 3")
	b.waitFor("next step", texts("#rollout .next"), "Waiting for a promote")
	b.waitFor("environments", rows("#environments tbody tr"),
		"v1 registry.example.com/web:v1 | r1 | serving | 50% | 1 | 1 / 1 | —; v2 registry.example.com/web:v2 | r1 | serving | 50% | 1 | 1 / 1 | —")
	if n := b.count("#trail .events li"); n <= eventsBefore {
		t.Errorf("the trail has %d events, as before the release", n)
	}
	b.waitFor("newest events", `document.querySelector('#trail .events .type').textContent`, rollout.EventRolloutPaused)
	b.waitFor("trail", texts("#trail .stream"), "live")
	b.waitFor("conditions", `[...document.querySelectorAll('.facts [data-condition]')].map(e => e.dataset.condition + ': ' + e.textContent.split(': ').pop()).join('; ')`,
		"alarm_missing: automatic rollback cannot see what it watches")

	// The list, reached by a link, shows the same split.
	b.do(chromedp.Click(chromedp.CSS(".crumbs a")))
	b.waitFor("endpoint list", rows("table.endpoints tbody tr"),
		"checkout | checkout | — | No traffic yet | empty | —; web | web | v1 | v1 50%v2 50% | paused | v2, step 2 of 3")
	b.screenshot("ui-endpoints")
	b.do(chromedp.Click(chromedp.CSS(`table.endpoints a[href$="/endpoints/web"]`)))
	b.waitFor("traffic", split, "v1 50%, v2 50%")

	// Signed in as admin, the actions show, and Promote moves the canary on.
	b.do(chromedp.Click(chromedp.CSS("#session button")))
	b.do(chromedp.SendKeys(chromedp.ID("token"), adminToken))
	b.do(chromedp.Click(chromedp.CSS("#session form button")))
	b.waitFor("session", `document.querySelector('#session .who').textContent`, "Signed in as admin (admin)")
	b.waitFor("action buttons of an admin", texts("#rollout button"), "Promote, Pause, Resume, Abort")
	b.waitFor("enabled actions", texts("#rollout button:enabled"), "Promote, Pause, Abort")
	b.screenshot("ui-endpoint")
	b.do(chromedp.Click(chromedp.CSS("button.promote")))
	b.waitFor("action result", `document.querySelector('#rollout .result').textContent.split(' (')[0]`, "Promote requested")
	b.waitFor("traffic", split, "v2 100%")
	b.waitFor("step", texts("#rollout .step-count"), "Step 3 of 3")
	b.waitFor("state", texts(".facts .badge"), "steady")
	b.waitFor("environment phases", texts("#environments tbody td:nth-child(3)"), "hot, serving")
	b.waitFor("same document", `String(window.sameDocument)`, "true")

	b.open(shifter.URL() + "/endpoints/checkout")
	b.waitFor("observe-only mode", texts(".facts [data-mode]"), "Observe only: decides and records what it would do; writes nothing to AWS")
	b.checkConsole()
}

// TestEndpointPageShowsObservedTraffic follows a canary whose step holds
// until the requests the load balancer counted (RequestCount, put in moto)
// follow its weights: the page shows the counted split under the weights,
// and the hold.
func TestEndpointPageShowsObservedTraffic(t *testing.T) {
	awsCfg, shifter, net, b, admin := openSession(t)
	web := testEndpoint(net, "web", 10)
	web.Policy.Steps = []rollout.Step{{Weight: 10}, {Weight: 100}}
	web.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: rollout.Duration(time.Minute), Interval: rollout.Duration(100 * time.Millisecond)}
	rollV2(t, admin, web)

	b.open(shifter.URL() + "/endpoints/web")
	b.waitFor("traffic", split, "v1 90%, v2 10%")
	b.waitFor("the hold", `(document.querySelector('#traffic .hold')?.textContent ?? '').split(' of its weights')[0]`,
		"The step holds until its traffic is within 5 points")
	awstest.PutRequests(t, awsCfg, net.ListenerARN, "v1", 904)
	awstest.PutRequests(t, awsCfg, net.ListenerARN, "v2", 96)
	b.waitFor("observed traffic", `(document.querySelector('#traffic .observed-text')?.textContent ?? '').split(' requests')[0]`,
		"Observed: v1 90.4%, v2 9.6% of 1000")
	b.waitFor("the hold's end", `(document.querySelector('#traffic .hold')?.textContent ?? '').split(' at ')[0]`, "The traffic followed the weights")
	b.waitFor("observed bar", `String(document.querySelectorAll('#traffic .observed .segment').length)`, "2")
	b.screenshot("ui-observed-traffic")
	b.checkConsole()
}

// TestEndpointPageDrawsTheCanary rolls v2 out through a step of 10% and a
// canary of 50%, with metric checks and observed traffic, putting the load
// balancer's metrics in moto at each step: the page draws the 5xx rate and
// the latency of both versions with the thresholds, the canary's share of
// the traffic intended and observed, the step boundaries, and the trail's
// judgements of the metrics.
func TestEndpointPageDrawsTheCanary(t *testing.T) {
	awsCfg, shifter, net, b, admin := openSession(t)
	web := testEndpoint(net, "web", 10)
	web.Policy.Steps = []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(2 * time.Second)}, {Weight: 50}, {Weight: 100}}
	web.Policy.MetricChecks = &rollout.MetricChecks{Max5xxPercent: 5, MaxLatency: rollout.Duration(400 * time.Millisecond), MinRequests: 10,
		Interval: rollout.Duration(time.Second)}
	web.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: rollout.Duration(time.Minute), Interval: rollout.Duration(200 * time.Millisecond)}
	rollV2(t, admin, web)
	b.open(shifter.URL() + "/endpoints/web")

	// Each step's metrics are put once its weights are read back (a
	// count from before is not the step's), and again once its traffic
	// followed: the metric checks judge a step's traffic from the end of
	// its hold.
	waitHold := func(step int, hold string) {
		t.Helper()
		waitEndpoint(t, admin, fmt.Sprintf("step %d %s", step, hold), func(s rollout.EndpointStatus) bool {
			return s.Rollout != nil && s.Rollout.ObservedTraffic != nil && s.Rollout.ObservedTraffic.Step == step && s.Rollout.ObservedTraffic.Hold == hold
		})
	}
	for _, s := range []struct {
		step                                 int
		stable, canary, stable5xx, canary5xx float64
		stableLatency, canaryLatency         time.Duration
	}{
		{1, 900, 100, 9, 2, 120 * time.Millisecond, 180 * time.Millisecond},
		{2, 520, 480, 4, 10, 110 * time.Millisecond, 260 * time.Millisecond},
	} {
		waitHold(s.step, rollout.HoldWaiting)
		awstest.PutTargetMetrics(t, awsCfg, net.ListenerARN, "v1", s.stable, s.stable5xx, s.stableLatency)
		awstest.PutTargetMetrics(t, awsCfg, net.ListenerARN, "v2", s.canary, s.canary5xx, s.canaryLatency)
		waitHold(s.step, rollout.HoldFollowed)
		awstest.PutTargetMetrics(t, awsCfg, net.ListenerARN, "v1", s.stable, s.stable5xx, s.stableLatency)
		awstest.PutTargetMetrics(t, awsCfg, net.ListenerARN, "v2", s.canary, s.canary5xx, s.canaryLatency)
	}
	b.waitFor("a judgement with requests", `(document.querySelector('#rollout .judged')?.textContent ?? '').split(': ').pop()`, "passing")
	b.waitFor("the canary's hold", `(document.querySelector('#traffic .hold')?.textContent ?? '').split(' at ')[0]`, "The traffic followed the weights")
	b.waitFor("judgements marked", `String(document.querySelectorAll('#chart-5xx .judged').length > 1)`, "true")

	b.waitFor("step boundaries", texts("#chart-split .boundary text"), "10%, 50%")
	b.waitFor("thresholds", texts("#canary .threshold text"), "max 5%, max 400ms")
	b.waitFor("lines", `[...document.querySelectorAll('#canary [data-series]')].map((g) => g.closest('svg').id + ':' + g.dataset.series).join(', ')`,
		"chart-5xx:stable, chart-5xx:new, chart-latency:stable, chart-latency:new, chart-split:intended, chart-split:new")
	// The 5xx rate of the canary: 2% at 10%, then 2.08% (10 of 480) at
	// 50%; the stable version's 1%, then 0.77%: every point under the
	// threshold's line.
	b.waitFor("points under the threshold", `(() => {
		const svg = document.querySelector('#chart-5xx');
		const limit = Number(svg.querySelector('.threshold line').getAttribute('y1'));
		const ys = [...svg.querySelectorAll('.series circle')].map((c) => Number(c.getAttribute('cy')));
		return ys.length >= 4 && ys.every((y) => y > limit) ? 'under' : 'points ' + ys.join(' ') + ' vs ' + limit;
	})()`, "under")
	b.screenshot("ui-canary")
	b.checkConsole()
}

// TestEndpointPageShowsConfigurationHistory changes how web runs between
// two releases and reads the change in the trail and the history tab, then
// rolls back to the version that runs the old configuration.
func TestEndpointPageShowsConfigurationHistory(t *testing.T) {
	_, shifter, net, b, admin := openSession(t)
	ctx := t.Context()
	web := testEndpoint(net, "web", 10)
	web.Policy.Steps = []rollout.Step{{Weight: 100}}
	if _, err := admin.PutEndpoint(ctx, web, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	release(t, admin, "v1")
	waitSteady(t, admin, "v1")
	web.Template.Env = map[string]string{"LOG_LEVEL": "debug"}
	if _, err := admin.PutEndpoint(ctx, web, 1); err != nil {
		t.Fatal(err)
	}
	release(t, admin, "v2")
	waitSteady(t, admin, "v2")

	b.open(shifter.URL() + "/endpoints/web")
	b.waitFor("what each version runs", texts("#environments tbody td:nth-child(2)"), "r1, r2")
	b.waitFor("hot version's configuration", `document.querySelector('.facts').textContent.includes('v1 (spec r1) until') ? 'yes' : 'no'`, "yes")
	b.waitFor("hot version's readiness", `/v1 \(spec r1\) until .* — ready: \d of \d healthy/.test(document.querySelector('.facts').textContent) ? 'yes' : 'no'`, "yes")
	b.waitFor("the trail's change", texts("#trail .event .changes li"), `template.env.LOG_LEVEL: (unset) → "debug"`)

	b.do(chromedp.Click(chromedp.ID("history-tab")))
	b.waitFor("status hidden", `getComputedStyle(document.getElementById('status-panel')).display`, "none")
	// The second column, when each was written, is left out: it is the
	// time of the test.
	b.waitFor("revisions", `[...document.querySelectorAll('#history table.revisions tbody tr')].map((r) => [...r.cells].filter((c, i) => i !== 1).map((c) => c.textContent.trim()).join(' | ')).join('; ')`,
		`r2 | admin | v2 (serving) | template.env.LOG_LEVEL: (unset) → "debug"; r1 | admin | v1 (hot) | created`)
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('diff-from').value = '2'; document.getElementById('diff-to').value = '1'`))
	b.do(chromedp.Click(chromedp.CSS("#history .compare button")))
	b.waitFor("diff", texts("#history .diff"), `r2 → r1template.env.LOG_LEVEL: "debug" → (unset)`)
	b.screenshot("ui-history")

	if _, err := admin.Act(ctx, "web", rollout.Command{Kind: rollout.CommandRollback, To: "v1"}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.ID("status-tab")))
	b.waitFor("rollback brings back", texts("#rollout .brings-back"), "Brings back the configuration of spec r1 (r2 was live).")

	// Break glass: the page says the traffic is pinned, by whom and why.
	if _, err := admin.Act(ctx, "web", rollout.Command{Kind: rollout.CommandOverride, To: "v1", For: rollout.Duration(time.Hour), Reason: "v2 corrupts carts"}); err != nil {
		t.Fatal(err)
	}
	b.waitFor("override", `(e => e ? e.dataset.override + ': ' + e.textContent.replace(/until .* by/, 'until … by') : '')(document.querySelector('.facts [data-override]'))`,
		"v1: Traffic pinned to v1 until … by admin: v2 corrupts carts. Releases applied meanwhile wait for its end.")
	b.checkConsole()
}

// openSession starts a shifter on its own moto account, a browser, and the
// shifter's admin client.
func openSession(t *testing.T) (aws.Config, *daemon.Server, awstest.Net, *browser, *client.Client) {
	t.Helper()
	awsCfg := awstest.Config(t)
	shifter, net := openShifter(t, awsCfg)
	// The browser closes first (cleanups run last in, first out), so no
	// event stream holds the shifter's shutdown.
	b := newBrowser(t)
	admin, err := client.New(shifter.URL(), client.WithToken(adminToken))
	if err != nil {
		t.Fatal(err)
	}
	return awsCfg, shifter, net, b, admin
}

// browser is a headless Chromium tab. It records what the page writes to
// the console as errors, which fail the test: a script that throws, a
// request that fails or a policy violation.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	problems []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("this test needs Chromium at %s (Debian: apt-get install chromium; .ci/run installs it): %v", chromium, err)
	}
	profile := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The machines are offline: without these Chromium keeps
		// trying to reach Google's hosts.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	// Cleanups run last in, first out: the browser stops before its
	// profile directory is removed.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
}

func (b *browser) eval(expression string) (string, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[string](expression))
}

func (b *browser) count(selector string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", selector)))
	if err != nil {
		b.t.Fatalf("browser: count %s: %v", selector, err)
	}
	return n
}

// waitFor waits until the JavaScript expression, a string, is want. The
// rollout moves on its own clock, so the page is read until it shows what
// the test expects or the wait is clearly too long.
func (b *browser) waitFor(what, expression, want string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, err := b.eval(expression)
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			b.checkConsole()
			b.screenshot("failed")
			b.t.Fatalf("%s: the page shows %q (%v), want %q", what, got, err, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// record makes the page note each value of the JavaScript expression, a
// string, as the page changes, so a state shorter than waitFor's polling
// (a step of 1.5s on a busy machine) is seen all the same. seen reads the
// notes.
func (b *browser) record(name, expression string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`{
		const notes = (window.notes ??= {})[%[1]q] = [];
		const note = () => {
			const value = %[2]s;
			if (value && value !== notes.at(-1)) notes.push(value);
		};
		note();
		new MutationObserver(note).observe(document.body, { childList: true, subtree: true, characterData: true });
	}`, name, expression)))
}

// seen is a JavaScript expression: the values noted by record, in order.
func seen(name string) string {
	return fmt.Sprintf(`window.notes[%q].join(' → ')`, name)
}

// checkConsole fails the test if the page reported an error.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("browser console: %s", p)
	}
	b.problems = nil
}

// screenshot saves the page as name.png among the test's artifacts, and in
// docs/images when asked to update the documentation's screenshots.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dirs := []string{os.Getenv(artifactsEnv)}
	if dirs[0] == "" {
		dirs[0] = b.t.TempDir()
	}
	if os.Getenv(updateScreenshotsEnv) != "" && name != "failed" {
		dirs = append(dirs, filepath.Join("..", "..", "..", "docs", "images"))
	}
	for _, dir := range dirs {
		path := filepath.Join(dir, name+".png")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			b.t.Fatal(err)
		}
		b.t.Logf("screenshot: %s", path)
	}
}

// split reads the traffic split as the endpoint page's legend shows it.
var split = texts("#traffic .legend li:not(.unverified)")

// texts is a JavaScript expression: the text of every element selector
// matches, joined by ", ".
func texts(selector string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].map((e) => e.textContent.trim()).join(', ')`, selector)
}

// rows is a JavaScript expression: the cells of every table row selector
// matches, joined by " | ", and the rows by "; ".
func rows(selector string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%q)].map((r) => [...r.cells].map((c) => c.textContent.trim()).join(' | ')).join('; ')`, selector)
}

// openShifter runs a shifter in-process against its own moto account. A
// request without a token reads as "anonymous"; adminToken is "admin".
func openShifter(t *testing.T, awsCfg aws.Config) (*daemon.Server, awstest.Net) {
	t.Helper()
	return daemontest.OpenIn(t, awsCfg, fmt.Sprintf(`anonymous { role = "read" }
  token "admin" {
    role   = "admin"
    sha256 = %q
  }`, api.HashToken(adminToken)))
}

// testEndpoint is an endpoint of its own team with a policy whose steps
// the test watches: 10% for 1.5s, then 50% until a promote (the canary),
// then 100%.
func testEndpoint(net awstest.Net, name string, priority int) rollout.Endpoint {
	ep := rollout.NewEndpoint()
	ep.Name = name
	ep.Team = name
	ep.DeletionProtection = false
	ep.Traffic = rollout.Traffic{ListenerARN: net.ListenerARN, Priority: priority, Hosts: []string{name + ".example.com"}}
	ep.Template.Repository = "registry.example.com/" + name
	ep.Template.ContainerPort = 8080
	ep.Template.AMI = net.AMI
	ep.Template.Subnets = net.Subnets
	ep.Template.SecurityGroups = []string{net.SecurityGroup}
	ep.Policy.Steps = []rollout.Step{
		{Weight: 10, Pause: rollout.DurationPtr(1500 * time.Millisecond)},
		{Weight: 50},
		{Weight: 100},
	}
	ep.Policy.BakeTime = rollout.Duration(time.Second)
	return ep
}

// rollV2 creates web, makes v1 live on it and declares v2.
func rollV2(t *testing.T, admin *client.Client, web rollout.Endpoint) {
	t.Helper()
	if _, err := admin.PutEndpoint(t.Context(), web, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	release(t, admin, "v1")
	waitSteady(t, admin, "v1")
	release(t, admin, "v2")
}

func release(t *testing.T, c *client.Client, version string) {
	t.Helper()
	r := rollout.Release{Endpoint: "web", Track: rollout.Production, Version: version}
	if _, err := c.PutRelease(t.Context(), r, rollout.RevisionAny); err != nil {
		t.Fatalf("release %s: %v", version, err)
	}
}

// waitSteady waits until version is live on the endpoint and no rollout is
// in flight.
func waitSteady(t *testing.T, c *client.Client, version string) {
	t.Helper()
	waitEndpoint(t, c, version+" live", func(s rollout.EndpointStatus) bool {
		return s.State == rollout.StateSteady && s.StableVersion == version
	})
}

// waitEndpoint polls web's status until ok says it is what the test waits
// for, at most 30 s.
func waitEndpoint(t *testing.T, c *client.Client, what string, ok func(rollout.EndpointStatus) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := c.GetEndpoint(t.Context(), "web")
		if err == nil && ok(v.Status) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 30s: %+v, %v", what, v.Status, err)
		}
		time.Sleep(50 * time.Millisecond) // a poll of the API
	}
}
