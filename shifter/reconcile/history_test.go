package reconcile_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestSpecHistoryExpiresButKeepsWhatRuns keeps one revision of web's spec:
// the policy changes three times while v1 runs, and the history ends with
// the revision v1's environment was built from and the current one.
func TestSpecHistoryExpiresButKeepsWhatRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.kill()
	h.history = rollout.Retention{Keep: 1}
	h.start()
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, time.Minute)
	for i := range 3 {
		// The policy is not how versions run: no new environment.
		h.update(func(ep *rollout.Endpoint) { ep.Policy.BakeTime = rollout.Duration(time.Duration(i+1) * time.Second) })
	}
	var kept []int64
	h.eventually(30*time.Second, "revisions 2 and 3 to expire", func() bool {
		revs, err := h.store.ListSpecRevisions(h.ctx, "web", 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		kept = kept[:0]
		for _, r := range revs {
			kept = append(kept, r.Revision)
		}
		return slices.Equal(kept, []int64{1, 4})
	})
	if envs := h.state().Environments; len(envs) != 1 || envs[0].SpecRevision != 1 || envs[0].Version != "v1" {
		t.Errorf("environments %+v, want v1's alone, built from revision 1", envs)
	}
}
