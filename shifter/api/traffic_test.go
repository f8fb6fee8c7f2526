package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestObservedTrafficIsServedBesideTheWeights: an endpoint whose policy holds
// steps for their traffic is taken, and its status and its release's answer
// the counted shares beside the weights, every field in the OpenAPI
// description (the fixture checks each exchange against it).
func TestObservedTrafficIsServedBesideTheWeights(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Policy.ObservedTraffic = &rollout.ObservedTraffic{TolerancePercent: 5, MaxWait: rollout.Duration(2 * time.Minute)}
	var v rollout.EndpointView
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, &v)
	if o := v.Endpoint.Policy.ObservedTraffic; o == nil || o.TolerancePercent != 5 || o.MaxWait.D() != 2*time.Minute {
		t.Fatalf("policy.observed_traffic = %+v, want it as sent", o)
	}
	f.do("PUT", "/v1/endpoints/web/releases/production", root, map[string]any{"version": "v2"}).must(t, http.StatusCreated, nil)

	now := time.Now().UTC().Truncate(time.Second)
	st, err := f.store.GetState(t.Context(), "web")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := ep.Template
	st.Environments = []rollout.Environment{
		{ID: "web-1", Version: "v1", Status: rollout.EnvReady, Capacity: 1, Template: &tmpl, HeldFull: true},
		{ID: "web-2", Version: "v2", Status: rollout.EnvReady, Capacity: 1, Template: &tmpl, TemplateHash: rollout.KeyOf(v.Endpoint, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v2"}).TemplateHash},
	}
	st.Production = rollout.TrackState{Stable: "web-1", Route: rollout.Route{Weights: map[string]int{"web-1": 90, "web-2": 10}, Verified: true}}
	st.Production.Rollout = &rollout.Rollout{
		ID: 2, Kind: rollout.KindDeploy, Key: rollout.KeyOf(v.Endpoint, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v2"}),
		Target: "web-2", From: "web-1", Steps: []rollout.Step{{Weight: 10}, {Weight: 100}}, Phase: rollout.PhaseShifting, Step: 0, Since: now.Add(-time.Minute),
		Traffic: &rollout.StepTraffic{Step: 0, ShiftedAt: now.Add(-time.Minute), Hold: rollout.HoldWaiting,
			Requests: map[string]float64{"web-1": 904, "web-2": 96}, Start: now.Add(-time.Minute), End: now},
		StartedAt: now.Add(-2 * time.Minute),
	}
	if _, err := f.store.PutState(t.Context(), st, st.Revision); err != nil {
		t.Fatal(err)
	}

	f.do("GET", "/v1/endpoints/web", root, nil).must(t, http.StatusOK, &v)
	o := v.Status.Rollout.ObservedTraffic
	if o == nil || o.Shares["v2"] != 9.6 || o.Weights["v2"] != 10 || o.Requests != 1000 || o.Hold != rollout.HoldWaiting || !o.HoldUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("status.rollout.observed_traffic = %+v, want v2 at 9.6%% of 1000 beside its 10%%, holding until %v", o, now.Add(time.Minute))
	}
	var rv rollout.ReleaseView
	f.do("GET", "/v1/endpoints/web/releases/production", root, nil).must(t, http.StatusOK, &rv)
	if p := rv.Status.ObservedTrafficPercent; p == nil || *p != 9.6 || rv.Status.TrafficPercent != 10 {
		t.Errorf("release traffic = %d%%, observed %v; want 10%% and 9.6%%", rv.Status.TrafficPercent, p)
	}
}
