package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Actions need Terraform 1.14, which terraform-plugin-testing (v1.16) cannot
// invoke: these tests run `terraform apply -invoke` of terraform 1.14
// (terraform114_test.go) against a shifter on moto.

// TestAccActionPromote: promote at the canary step runs as a Terraform
// action in the trail, reports the rollout's events and returns once it is
// complete.
func TestAccActionPromote(t *testing.T) {
	s, tf := newTerraform114Test(t)
	name := s.seedCanary(t, canarySteps...)

	out, err := tf.invoke(t, s, "ionroller_promote", fmt.Sprintf("endpoint = %q\n    reason = \"canary looks good\"", name))
	if err != nil {
		t.Fatalf("promote failed: %v\n%s", err, out)
	}
	if !looseRegexp(name+": promote queued as command #1 by").MatchString(out) || !strings.Contains(out, "(Terraform action)") ||
		!strings.Contains(out, rollout.EventRolloutComplete) {
		t.Errorf("the action's output has no queued line or no progress up to the rollout's end:\n%s", out)
	}
	v, err := s.client.GetRelease(t.Context(), name, rollout.Production)
	if err != nil || v.Status.State != string(rollout.PhaseComplete) || v.Status.LiveVersion != "v2" {
		t.Errorf("after promote the release is %+v (%v), want v2 complete", v.Status, err)
	}
	s.expectCommandEvent(t, name, "promote requested by anonymous (Terraform action): canary looks good")
}

// TestAccActionPlanChecks: an unknown endpoint, or a rollout with nothing to
// promote, is a diagnostic before anything runs: no command is queued.
func TestAccActionPlanChecks(t *testing.T) {
	s, tf := newTerraform114Test(t)
	name := s.seedCanary(t, canarySteps...)

	out, err := tf.invoke(t, s, "ionroller_promote", `endpoint = "acc-nothere"`)
	if err == nil || !looseRegexp(`Endpoint Not Found`).MatchString(out) || strings.Contains(out, "queued as command") {
		t.Errorf("promote of an unknown endpoint: %v\n%s", err, out)
	}
	// Resume needs a paused rollout; the canary waits for a promote.
	out, err = tf.invoke(t, s, "ionroller_resume", fmt.Sprintf("endpoint = %q", name))
	if err == nil || !looseRegexp(`Nothing to resume on endpoint "`+name+`"`).MatchString(out) || strings.Contains(out, "queued as command") {
		t.Errorf("resume of a rollout that is not paused: %v\n%s", err, out)
	}
	v, err := s.client.GetEndpoint(t.Context(), name)
	if err != nil || v.Status.CommandSeq != 0 || v.Status.State != string(rollout.PhasePaused) {
		t.Errorf("after refused actions the endpoint is %+v (%v), want no command taken", v.Status, err)
	}
}

// TestAccActionPauseResumeAbort: pause holds the rollout, resume lets it go
// on to its canary step, abort ends it; each returns at that resting point.
func TestAccActionPauseResumeAbort(t *testing.T) {
	s, tf := newTerraform114Test(t)
	name := s.seedCanary(t, canarySteps...)

	if out, err := tf.invoke(t, s, "ionroller_pause", fmt.Sprintf("endpoint = %q\n    duration = \"1h\"", name)); err != nil {
		t.Fatalf("pause failed: %v\n%s", err, out)
	}
	if v, err := s.client.GetEndpoint(t.Context(), name); err != nil || v.Status.Rollout == nil || !v.Status.Rollout.Paused || v.Status.Rollout.PausedUntil.IsZero() {
		t.Fatalf("after pause the endpoint is %+v (%v), want paused for an hour", v.Status, err)
	}
	if out, err := tf.invoke(t, s, "ionroller_resume", fmt.Sprintf("endpoint = %q", name)); err != nil {
		t.Fatalf("resume failed: %v\n%s", err, out)
	}
	if v, err := s.client.GetEndpoint(t.Context(), name); err != nil || v.Status.Rollout == nil || v.Status.Rollout.Paused {
		t.Fatalf("after resume the endpoint is %+v (%v), want its rollout going on", v.Status, err)
	}
	out, err := tf.invoke(t, s, "ionroller_abort", fmt.Sprintf("endpoint = %q\n    reason = \"wrong build\"", name))
	if err != nil {
		t.Fatalf("abort failed: %v\n%s", err, out)
	}
	if !strings.Contains(out, rollout.EventRolloutAborted) {
		t.Errorf("the abort's output does not report the rollout aborted:\n%s", out)
	}
	v, err := s.client.GetRelease(t.Context(), name, rollout.Production)
	if err != nil || v.Status.State != string(rollout.PhaseAborted) || v.Status.LiveVersion != "v1" {
		t.Errorf("after abort the release is %+v (%v), want v2 aborted and v1 live", v.Status, err)
	}
}

// TestAccActionFailsWhenAborted: a promote whose rollout is aborted before
// it rests fails with the event trail.
func TestAccActionFailsWhenAborted(t *testing.T) {
	s, tf := newTerraform114Test(t)
	// The step after the canary pauses for an hour: the promote's rollout
	// does not rest there, and is aborted while the action follows it.
	hour := rollout.Duration(time.Hour)
	name := s.seedCanary(t, rollout.Step{Weight: 10}, rollout.Step{Weight: 50, Pause: &hour}, rollout.Step{Weight: 100})

	aborted := make(chan error, 1)
	go func() { aborted <- s.abortOnceShifting(name) }()
	out, err := tf.invoke(t, s, "ionroller_promote", fmt.Sprintf("endpoint = %q", name))
	if abortErr := <-aborted; abortErr != nil {
		t.Fatal(abortErr)
	}
	if err == nil {
		t.Fatalf("promote succeeded though its rollout was aborted:\n%s", out)
	}
	want := `(?s)Error running promote on endpoint "` + name + `".*ended rollout \d+ of version v2 as aborted.*smoke test failed.*` +
		`Events since the command:.*` + regexp.QuoteMeta(rollout.EventRolloutAborted)
	if !regexp.MustCompile(want).MatchString(strings.Join(strings.Fields(out), " ")) {
		t.Errorf("promote's failure does not match %s:\n%s", want, out)
	}
}

// canarySteps wait at 10% for a promote.
var canarySteps = []rollout.Step{{Weight: 10}, {Weight: 100}}

// seedCanary creates an endpoint of team web with the steps given through
// the tests' own client, rolls v1 out, declares v2 and returns once v2
// waits at its first step for a promote.
func (s *testShifter) seedCanary(t *testing.T, steps ...rollout.Step) string {
	t.Helper()
	name := s.seedEndpoint(t, "web", 10, steps...)
	s.seedRelease(t, name)
	ctx := t.Context()
	v, err := s.client.GetRelease(ctx, name, rollout.Production)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.PutRelease(ctx, rollout.Release{Endpoint: name, Track: rollout.Production, Version: "v2"}, v.Release.Revision); err != nil {
		t.Fatal(err)
	}
	s.awaitRelease(t, name, "v2", func(st rollout.ReleaseStatus) bool { return st.State == string(rollout.PhasePaused) && st.Verified })
	return name
}

// seedRelease declares v1 on the endpoint's production track and returns
// once it is rolled out.
func (s *testShifter) seedRelease(t *testing.T, endpoint string) {
	t.Helper()
	if _, err := s.client.PutRelease(t.Context(), rollout.Release{Endpoint: endpoint, Track: rollout.Production, Version: "v1"}, rollout.RevisionNew); err != nil {
		t.Fatal(err)
	}
	s.awaitRelease(t, endpoint, "v1", func(st rollout.ReleaseStatus) bool { return st.State == string(rollout.PhaseComplete) })
}

// awaitRelease returns once the endpoint's production release is version
// and its status satisfies ok.
func (s *testShifter) awaitRelease(t *testing.T, endpoint, version string, ok func(rollout.ReleaseStatus) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	err := poll(ctx, func() (bool, error) {
		v, err := s.client.GetRelease(ctx, endpoint, rollout.Production)
		return err == nil && v.Release.Version == version && ok(v.Status), nil
	})
	if err != nil {
		v, _ := s.client.GetRelease(context.Background(), endpoint, rollout.Production)
		t.Fatalf("release %s of %s never reached the state waited for: %+v (%v)", version, endpoint, v.Status, err)
	}
}

// abortOnceShifting aborts the endpoint's rollout, as a person would from
// the CLI, once the shifter took the action's promote and moved on from
// the canary step.
func (s *testShifter) abortOnceShifting(endpoint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := poll(ctx, func() (bool, error) {
		v, err := s.client.GetEndpoint(ctx, endpoint)
		return err == nil && v.Status.CommandSeq >= 1 && v.Status.Rollout != nil && v.Status.Rollout.Step == 2, nil
	})
	if err != nil {
		return fmt.Errorf("the promote never took the rollout past its canary step: %w", err)
	}
	_, err = s.client.Act(ctx, endpoint, rollout.Command{Kind: rollout.CommandAbort, Reason: "smoke test failed"})
	return err
}

// expectCommandEvent checks the endpoint's trail records a command with
// message.
func (s *testShifter) expectCommandEvent(t *testing.T, endpoint, message string) {
	t.Helper()
	events, _, err := s.client.Events(t.Context(), endpoint, 0, eventPage)
	if err != nil {
		t.Fatal(err)
	}
	var commands []string
	for _, ev := range events {
		if ev.Type == rollout.EventCommand {
			if ev.Message == message && ev.Actor == "anonymous (Terraform action)" {
				return
			}
			commands = append(commands, ev.Actor+": "+ev.Message)
		}
	}
	t.Errorf("no command event %q by the Terraform action; the command events are %q", message, commands)
}

// invoke writes a configuration with one action "test" of type typ and the
// body given, and runs `terraform apply -invoke` of it in a new directory.
// It returns terraform's output, and its error when it failed.
func (tf *terraform114) invoke(t *testing.T, s *testShifter, typ, body string) (string, error) {
	t.Helper()
	dir := tf.workdir(t, map[string]string{
		"main.tf": requiredProvider + providerConfig(s.url) + fmt.Sprintf("action %q \"test\" {\n  config {\n    %s\n  }\n}\n", typ, body),
	})
	return tf.run(t, dir, []string{"apply", "-invoke=action." + typ + ".test", "-auto-approve", "-input=false"})
}
