package bolt_test

import (
	"path/filepath"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
)

// The reconciler writes the state and a few events on every decision and
// the API reads endpoints on every request; these are the costs that bound
// how many endpoints one shifter can drive. Writes include bbolt's fsync.

func BenchmarkPutState(b *testing.B) {
	template := rollout.NewEndpoint().Template
	s := benchStore(b)
	st := rollout.State{
		Endpoint: "web",
		Environments: []rollout.Environment{
			{ID: "web-1", Version: "1.0.0", Template: &template, Status: rollout.EnvReady, Capacity: 2},
			{ID: "web-2", Version: "1.1.0", Template: &template, Status: rollout.EnvReady, Capacity: 2},
		},
		Production: rollout.TrackState{
			Stable: "web-1",
			Rollout: &rollout.Rollout{ID: 2, Kind: rollout.KindDeploy, Target: "web-2", From: "web-1",
				Steps: rollout.NewEndpoint().Policy.Steps, Phase: rollout.PhaseShifting, Step: 0},
			Route: rollout.Route{Weights: map[string]int{"web-1": 90, "web-2": 10}, Verified: true},
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if st, err = s.PutState(b.Context(), st, st.Revision); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendEvents(b *testing.B) {
	s := benchStore(b)
	e := rollout.Event{Actor: rollout.ActorShifter, Type: rollout.EventStepApplied, Track: rollout.Production,
		Version: "1.1.0", Message: "weights applied", Details: map[string]string{"web-1": "90", "web-2": "10"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.AppendEvents(b.Context(), "web", e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetEndpoint(b *testing.B) {
	s := benchStore(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.GetEndpoint(b.Context(), "web"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStore returns a store holding the endpoint "web" with every default.
func benchStore(b *testing.B) *bolt.Store {
	b.Helper()
	s, err := bolt.Open(filepath.Join(b.TempDir(), "shifter.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ep := rollout.NewEndpoint()
	ep.Name = "web"
	if _, err := s.PutEndpoint(b.Context(), ep, rollout.RevisionNew); err != nil {
		b.Fatal(err)
	}
	return s
}
