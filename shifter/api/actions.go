package api

import (
	"cmp"
	"net/http"
	"strconv"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// act queues an operator command for the endpoint's reconciler, which
// applies commands in sequence. The answer is 202: the planner decides, and
// records its decision (or why it ignored the command) in the trail. With
// dry_run=true everything is checked and nothing queued: the answer is 200
// with the command as it would be queued, without a sequence.
func (s *Server) act(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	var req wire.ActionRequest
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	c := rollout.Command{
		Endpoint: name,
		Kind:     rollout.CommandKind(r.PathValue("kind")),
		For:      req.For,
		To:       req.To,
		Reason:   req.Reason,
		Actor:    wire.ActorVia(p.Name, req.Via),
		Time:     s.Now(),
	}
	if req.Via != "" && req.Via != wire.ViaTerraformAction {
		return rollout.Invalid("via", "must be %q or left out; got %q", wire.ViaTerraformAction, req.Via)
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Kind == rollout.CommandOverride || c.Kind == rollout.CommandLift {
		if err := p.require(cmp.Or(s.OverrideRole, wire.RoleAdmin)); err != nil {
			return err
		}
	}
	ep, err := s.endpointFor(r.Context(), p, name)
	if err != nil {
		return err
	}
	if err := refuseDeleting(ep); err != nil {
		return err
	}
	st, err := s.Store.GetState(r.Context(), name)
	if err != nil {
		return err
	}
	if err := commandApplies(c.Kind, st.Production); err != nil {
		return err
	}
	if r.URL.Query().Get("dry_run") == "true" {
		s.writeJSON(w, http.StatusOK, c)
		return nil
	}

	if c, err = s.Store.AppendCommand(r.Context(), c); err != nil {
		return err
	}
	message := string(c.Kind) + " requested by " + c.Actor
	if c.Reason != "" {
		message += ": " + c.Reason
	}
	ev := s.event(r, p, rollout.EventCommand, message)
	ev.Actor = c.Actor
	ev.Details["command"] = string(c.Kind)
	ev.Details["command_seq"] = strconv.FormatInt(c.Seq, 10)
	// What a replay of the trail needs to ask the same (shifter simulate).
	if c.To != "" {
		ev.Details["to"] = c.To
	}
	if c.For > 0 {
		ev.Details["for"] = c.For.String()
	}
	if c.Reason != "" {
		ev.Details["reason"] = c.Reason
	}
	// The store cannot append the command and its event in one
	// transaction. The command is what matters and is queued, so a failed
	// event is logged rather than answered: a retry would queue it twice.
	if _, err := s.Store.AppendEvents(r.Context(), name, ev); err != nil {
		s.Logger.Error("command queued but its event was not recorded", "endpoint", name, "command", c.Kind, "seq", c.Seq, "error", err)
	}
	s.changed(name)
	s.writeJSON(w, http.StatusAccepted, c)
	return nil
}

// commandApplies refuses, from the stored state, a command that cannot do
// anything, so a person gets an answer now rather than an "ignored" event
// later. It is best effort: the state may move before the planner runs, and
// the planner has the last word. A rollback or an override is always
// queued, since it may return to a hot version with no rollout in flight.
func commandApplies(kind rollout.CommandKind, t rollout.TrackState) error {
	r := t.Rollout
	switch kind {
	case rollout.CommandLift:
		if t.Override == nil {
			return rollout.Errorf(rollout.ECONFLICT, "cannot lift: no override is in force")
		}
	case rollout.CommandPromote, rollout.CommandPause, rollout.CommandAbort:
		if !r.Active() {
			return rollout.Errorf(rollout.ECONFLICT, "cannot %s: no production rollout is in flight", kind)
		}
	case rollout.CommandResume:
		if !r.Active() || r.PausedAt.IsZero() {
			return rollout.Errorf(rollout.ECONFLICT, "cannot resume: the production rollout is not paused")
		}
	}
	return nil
}
