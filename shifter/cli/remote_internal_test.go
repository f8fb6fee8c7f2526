package cli

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// The pure parts of the remote commands: how a command line is read, how a
// watch decides it is over, and how numbers are drawn. The commands
// themselves are tested end to end in commands_test.go.

func TestParseTakesFlagsAfterArguments(t *testing.T) {
	for _, tc := range []struct {
		args       []string
		positional []string
		reason     string
	}{
		{[]string{"web"}, []string{"web"}, ""},
		{[]string{"-reason", "x", "web"}, []string{"web"}, "x"},
		{[]string{"web", "-reason", "x"}, []string{"web"}, "x"},
		{[]string{"web", "-reason", "x", "api"}, []string{"web", "api"}, "x"},
		{[]string{"-reason", "x", "--", "-web"}, []string{"-web"}, "x"},
		{[]string{"web", "--", "-reason"}, []string{"web", "-reason"}, ""},
	} {
		c := &command{name: "shifter test", stdout: &strings.Builder{}}
		fs := c.flags("shifter test [flags] ENDPOINT", "Tests.")
		reason := fs.String("reason", "", "why")
		got, err := c.parse(fs, tc.args)
		if err != nil || !slices.Equal(got, tc.positional) || *reason != tc.reason {
			t.Errorf("parse(%q) = %q, reason %q, %v; want %q, reason %q", tc.args, got, *reason, err, tc.positional, tc.reason)
		}
	}

	var out strings.Builder
	c := &command{name: "shifter test", stdout: &out}
	fs := c.flags("shifter test [flags] ENDPOINT", "Tests.")
	if _, err := c.parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.HasPrefix(out.String(), "Usage: shifter test [flags] ENDPOINT\n\nTests.\n") {
		t.Errorf("-h: %v, printed %q", err, out.String())
	}
	var usage *usageError
	if _, err := c.parse(c.flags("", ""), []string{"-nope"}); !errors.As(err, &usage) {
		t.Errorf("an unknown flag: %v, want a usage error", err)
	}
}

// TestWatchOutcome is when a watch ends, and with which exit code.
func TestWatchOutcome(t *testing.T) {
	rolloutIn := func(p rollout.Phase) *rollout.RolloutStatus {
		return &rollout.RolloutStatus{Version: "v2", Phase: p, Reason: "rollout's reason"}
	}
	release := func(state, reason string) *rollout.ReleaseView {
		return &rollout.ReleaseView{Release: rollout.Release{Version: "v2"}, Status: rollout.ReleaseStatus{State: state, Reason: reason}}
	}
	for _, tc := range []struct {
		name    string
		rollout *rollout.RolloutStatus
		release *rollout.ReleaseView
		done    bool
		code    int
		message string
	}{
		{"nothing declared, nothing moving", nil, nil, true, exitOK, ""},
		{"a rollout in flight, nothing declared", rolloutIn(rollout.PhaseShifting), nil, false, 0, ""},
		{"declared, the shifter has not started", rolloutIn(rollout.PhaseComplete), release(rollout.StatePending, ""), false, 0, ""},
		{"shifting", rolloutIn(rollout.PhaseShifting), release(string(rollout.PhaseShifting), ""), false, 0, ""},
		{"a canary", rolloutIn(rollout.PhasePaused), release(string(rollout.PhasePaused), ""), false, 0, ""},
		{"complete", rolloutIn(rollout.PhaseComplete), release(string(rollout.PhaseComplete), ""), true, exitOK, ""},
		{"rolled back", rolloutIn(rollout.PhaseRolledBack), release(string(rollout.PhaseRolledBack), "alarm 5xx"), true, exitRolledBack, "web: release v2 was rolled back: alarm 5xx"},
		{"aborted", rolloutIn(rollout.PhaseAborted), release(string(rollout.PhaseAborted), ""), true, exitAborted, "web: release v2 was aborted: rollout's reason"},
		{"failed", rolloutIn(rollout.PhaseFailed), release(string(rollout.PhaseFailed), "not healthy"), true, exitFailed, "web: release v2 failed: not healthy"},
		{"held, but a rollback to a hot version still in flight", rolloutIn(rollout.PhaseWaitingHealthy), release(string(rollout.PhaseRolledBack), ""), false, 0, ""},
	} {
		s := snapshot{view: rollout.EndpointView{Status: rollout.EndpointStatus{Rollout: tc.rollout}}, release: tc.release}
		done, phase, reason := s.outcome()
		if done != tc.done {
			t.Errorf("%s: done = %v", tc.name, done)
			continue
		}
		if !done {
			continue
		}
		c := &watchCommand{command: command{stdout: &strings.Builder{}}, endpoint: "web"}
		err := c.result(s, phase, reason)
		var coded *codedError
		switch {
		case tc.code == exitOK && err != nil:
			t.Errorf("%s: %v, want success", tc.name, err)
		case tc.code != exitOK && (!errors.As(err, &coded) || coded.code != tc.code || coded.msg != tc.message):
			t.Errorf("%s: %#v, want exit %d %q", tc.name, err, tc.code, tc.message)
		}
	}
}

func TestDrawing(t *testing.T) {
	for weight, want := range map[int]string{
		0:   "░░░░░░░░░░░░░░░░░░░░",
		10:  "██░░░░░░░░░░░░░░░░░░",
		33:  "███████░░░░░░░░░░░░░",
		90:  "██████████████████░░",
		100: "████████████████████",
	} {
		if got := bar(weight); got != want {
			t.Errorf("bar(%d) = %s, want %s", weight, got, want)
		}
	}
	for d, want := range map[time.Duration]string{
		-time.Second:                            "0s",
		1400 * time.Millisecond:                 "1s",
		4*time.Minute + 12*time.Second:          "4m12s",
		59*time.Minute + 59700*time.Millisecond: "1h00m",
		26 * time.Hour:                          "1d2h",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %s, want %s", d, got, want)
		}
	}
	if got := fit("web: shifting · step 1/3", 12); got != "web: shift…" {
		t.Errorf("fit = %q", got)
	}
	if got := fit("short", 0); got != "short" {
		t.Errorf("fit with an unknown width = %q", got)
	}
}

func TestShares(t *testing.T) {
	s := rollout.EndpointStatus{
		Weights:      map[string]int{"v2": 10, "v1": 90},
		Environments: []rollout.EnvironmentStatus{{Version: "v1"}, {Version: "v2"}},
		Rollout:      &rollout.RolloutStatus{FromVersion: "v1", Version: "v2", Phase: rollout.PhaseShifting},
	}
	if got := split(shares(s)); got != "v1 90%, v2 10%" {
		t.Errorf("split = %q: want the oldest environment first", got)
	}
	s.Weights = map[string]int{"v1": 100}
	if got := split(shares(s)); got != "v1 100%, v2 0%" {
		t.Errorf("split before the first step = %q: want the new version listed", got)
	}
	s.Weights = map[string]int{"v2": 100}
	if got := split(shares(s)); got != "v1 0%, v2 100%" {
		t.Errorf("split while baking = %q: want the versions in the same order", got)
	}
	s.Rollout.Phase = rollout.PhaseComplete
	if got := split(shares(s)); got != "v2 100%" {
		t.Errorf("split after the rollout = %q: want only what is routed", got)
	}
}

// TestReplicasTable: on a shared store, each live replica with its
// heartbeat and the endpoints it holds, the one that answered starred.
func TestReplicasTable(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	v := wire.ReplicasView{Replica: "shifter-b-0a1b2c", Leased: true, Replicas: []wire.ReplicaView{
		{ID: "shifter-a-3d4e5f", Expires: now.Add(12 * time.Second), Leases: []wire.LeaseView{{Endpoint: "api"}, {Endpoint: "web"}}},
		{ID: "shifter-b-0a1b2c", Expires: now.Add(9 * time.Second)},
	}}
	var out strings.Builder
	if err := printReplicas(&out, v, now); err != nil {
		t.Fatal(err)
	}
	want := "REPLICA             HEARTBEAT       LEASES\n" +
		"shifter-a-3d4e5f    expires in 12s  api, web\n" +
		"shifter-b-0a1b2c *  expires in 9s   -\n"
	if out.String() != want {
		t.Errorf("shifter replicas:\n%s\nwant:\n%s", out.String(), want)
	}
}
