package notify

import (
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAnObserveOnlyEndpointDeploysNothing: its messages say nothing was done
// in AWS, and it has no CDEvent, since no version was deployed.
func TestAnObserveOnlyEndpointDeploysNothing(t *testing.T) {
	ep := rollout.Endpoint{Name: "web", ObserveOnly: true}
	if got, want := label(ep), "web (observe only: nothing was done in AWS)"; got != want {
		t.Errorf("label = %q, want %q", got, want)
	}
	msg := Message{Endpoint: "web", Type: rollout.EventRolloutComplete, Details: map[string]string{"kind": string(rollout.KindDeploy)}}
	if _, ok := cdEvent(msg); !ok {
		t.Fatal("a deploy of an endpoint that is not observe-only has no CDEvent")
	}
	msg.ObserveOnly = true
	if e, ok := cdEvent(msg); ok {
		t.Errorf("observe-only deploy has CDEvent %+v", e)
	}
}
