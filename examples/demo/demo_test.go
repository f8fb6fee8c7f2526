// Package demo is the local demo: run.sh, the configuration it applies
// (main.tf) and its tools (network, split). Its test runs the demo as
// `make demo` does, so that the test command keeps the demo working.
package demo

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDemo runs run.sh on each backend: moto, a shifter, the provider from a
// filesystem mirror, v1, a rollout of v2 in three steps, a rollback to v1 and
// an empty plan.
func TestDemo(t *testing.T) {
	for _, backend := range []string{"ec2", "ecs"} {
		t.Run(backend, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "run.sh")
			cmd.Env = append(os.Environ(), "BACKEND="+backend)
			// On timeout, let run.sh stop what it started before it is killed.
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			cmd.WaitDelay = 15 * time.Second
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run.sh: %v\n%s", err, out)
			}
			t.Logf("the demo ran in %s", time.Since(start).Round(time.Second))
			units := map[string]string{"ec2": "1 instances", "ecs": "1 tasks"}[backend]
			for _, want := range []string{
				"Installed ionroller/ionroller v0.0.1",
				"shifting (step 1/3)",
				"shifting (step 2/3)",
				"v2 ██████████ 100%",
				"rolled back to v1 in",
				"No changes. Your infrastructure matches the configuration.",
				"rollback to version v1 started",
				"registry.example.com/demo:v2 as tagged, " + units,
			} {
				if !strings.Contains(string(out), want) {
					t.Errorf("the demo's output has no %q:\n%s", want, out)
				}
			}
		})
	}
}
