package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func TestActions(t *testing.T) {
	deployer := principalName("payments", wire.RoleDeploy)
	for _, tc := range []struct {
		name   string
		phase  rollout.Phase // "" for no rollout
		paused bool
		kind   rollout.CommandKind
		body   any
		want   int
	}{
		{"promote without rollout", "", false, rollout.CommandPromote, nil, http.StatusConflict},
		{"pause without rollout", "", false, rollout.CommandPause, nil, http.StatusConflict},
		{"abort after the rollout ended", rollout.PhaseComplete, false, rollout.CommandAbort, nil, http.StatusConflict},
		{"resume without pause", rollout.PhaseShifting, false, rollout.CommandResume, nil, http.StatusConflict},
		{"rollback without rollout", "", false, rollout.CommandRollback, map[string]any{"to": "v1", "reason": "errors"}, http.StatusAccepted},
		{"promote", rollout.PhasePaused, false, rollout.CommandPromote, nil, http.StatusAccepted},
		{"pause for a while", rollout.PhaseShifting, false, rollout.CommandPause, map[string]any{"for": "10m"}, http.StatusAccepted},
		{"abort", rollout.PhaseBaking, false, rollout.CommandAbort, map[string]any{"reason": "wrong build"}, http.StatusAccepted},
		{"resume", rollout.PhaseShifting, true, rollout.CommandResume, nil, http.StatusAccepted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.seed(testEndpoint("web"), "v2")
			if tc.phase != "" {
				f.setRollout("web", tc.phase, tc.paused)
			}
			before := f.snapshot()
			resp := f.do("POST", "/v1/endpoints/web/actions/"+string(tc.kind), deployer, tc.body)
			if tc.want != http.StatusAccepted {
				resp.apiError(t, tc.want, rollout.ECONFLICT)
				f.assertUnchanged(before)
				return
			}
			var c rollout.Command
			resp.must(t, http.StatusAccepted, &c)
			if c.Endpoint != "web" || c.Kind != tc.kind || c.Seq != 1 || c.Actor != deployer || c.Time.IsZero() {
				t.Errorf("command %+v", c)
			}
			queued, err := f.store.ListCommands(t.Context(), "web", 0)
			if err != nil || len(queued) != 1 || queued[0] != c {
				t.Errorf("queued %+v (%v), want the answered command", queued, err)
			}
			events := f.events("web")
			last := events[len(events)-1]
			if last.Type != rollout.EventCommand || last.Actor != deployer || last.Details["command"] != string(tc.kind) || last.Details["command_seq"] != "1" {
				t.Errorf("event %+v", last)
			}
			if got := f.notified.list(); len(got) != 1 {
				t.Errorf("notified %v", got)
			}
		})
	}
}

func TestActionBody(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "v2")
	f.setRollout("web", rollout.PhaseShifting, false)
	var c rollout.Command
	f.do("POST", "/v1/endpoints/web/actions/pause", root, map[string]any{"for": "10m", "reason": "lunch"}).
		must(t, http.StatusAccepted, &c)
	if c.For.D() != 10*time.Minute || c.Reason != "lunch" {
		t.Errorf("command %+v", c)
	}
	f.do("POST", "/v1/endpoints/nope/actions/rollback", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

// TestActionViaTerraformAndDryRun: a command run by a Terraform action says
// so in its actor and its event's; a dry run checks as a POST does and
// queues nothing.
func TestActionViaTerraformAndDryRun(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "v2")
	f.do("POST", "/v1/endpoints/web/actions/promote?dry_run=true", root, nil).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.do("POST", "/v1/endpoints/nope/actions/rollback?dry_run=true", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)

	f.setRollout("web", rollout.PhasePaused, false)
	before := f.snapshot()
	var c rollout.Command
	f.do("POST", "/v1/endpoints/web/actions/promote?dry_run=true", root, map[string]any{"via": wire.ViaTerraformAction}).
		must(t, http.StatusOK, &c)
	if c.Kind != rollout.CommandPromote || c.Seq != 0 || c.Actor != root+" (Terraform action)" {
		t.Errorf("dry run answered %+v", c)
	}
	f.assertUnchanged(before)

	f.do("POST", "/v1/endpoints/web/actions/promote", root, map[string]any{"via": wire.ViaTerraformAction}).
		must(t, http.StatusAccepted, &c)
	events := f.events("web")
	last := events[len(events)-1]
	if c.Seq != 1 || c.Actor != root+" (Terraform action)" || last.Actor != c.Actor || last.Message != "promote requested by "+c.Actor {
		t.Errorf("command %+v, event %+v", c, last)
	}
}

// TestAnOverrideTakesItsRole: break glass is an admin's unless the
// configuration lets deployers; a refused or invalid override queues
// nothing, and a lift needs an override in force.
func TestAnOverrideTakesItsRole(t *testing.T) {
	deployer, admin := principalName("payments", wire.RoleDeploy), principalName("payments", wire.RoleAdmin)
	override := map[string]any{"to": "v1", "for": "30m", "reason": "v2 corrupts carts"}

	f := newFixture(t)
	f.seed(testEndpoint("web"), "v2")
	before := f.snapshot()
	f.do("POST", "/v1/endpoints/web/actions/override", deployer, override).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)
	if e := f.do("POST", "/v1/endpoints/web/actions/override", admin, map[string]any{"to": "v1", "for": "30m"}).
		apiError(t, http.StatusBadRequest, rollout.EINVALID); e.Field != "reason" {
		t.Errorf("an override without a reason: field %q, want reason", e.Field)
	}
	f.do("POST", "/v1/endpoints/web/actions/lift", admin, nil).apiError(t, http.StatusConflict, rollout.ECONFLICT)
	f.assertUnchanged(before)

	var c rollout.Command
	f.do("POST", "/v1/endpoints/web/actions/override", admin, override).must(t, http.StatusAccepted, &c)
	if c.Kind != rollout.CommandOverride || c.To != "v1" || c.For.D() != 30*time.Minute || c.Actor != admin {
		t.Errorf("command %+v", c)
	}

	f = newFixture(t, func(s *api.Server) { s.OverrideRole = wire.RoleDeploy })
	f.seed(testEndpoint("web"), "v2")
	f.do("POST", "/v1/endpoints/web/actions/override", deployer, override).must(t, http.StatusAccepted, &c)
	f.do("POST", "/v1/endpoints/web/actions/override", principalName("payments", wire.RoleRead), override).apiError(t, http.StatusForbidden, rollout.EFORBIDDEN)
}
