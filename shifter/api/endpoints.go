package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request, p *Principal) error {
	team := r.URL.Query().Get("team")
	eps, err := s.Store.ListEndpoints(r.Context())
	if err != nil {
		return err
	}
	list := wire.EndpointList{Endpoints: []rollout.EndpointView{}}
	for _, ep := range eps {
		if !p.sees(ep.Name, ep.Team) || (team != "" && ep.Team != team) {
			continue
		}
		v, err := s.endpointView(r.Context(), ep)
		if err != nil {
			return err
		}
		list.Endpoints = append(list.Endpoints, v)
	}
	s.writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request, p *Principal) error {
	ep, err := s.visibleEndpoint(r.Context(), p, r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeEndpoint(w, r, http.StatusOK, ep)
}

// putEndpoint creates or replaces an endpoint's spec. The body is decoded
// into the defaults of its template's backend (rollout.NewEndpointFor), so
// what it leaves out keeps its default, and the fields the shifter owns are
// ignored, so a client may send back what it read.
func (s *Server) putEndpoint(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	ep, err := decodeEndpoint(body)
	if err != nil {
		return err
	}
	if ep.Name != "" && ep.Name != name {
		return rollout.Invalid("name", "is %q in the body but %q in the path", ep.Name, name)
	}
	ep.Name = name
	ep.Revision, ep.CreatedAt, ep.UpdatedAt, ep.Deleting = 0, time.Time{}, time.Time{}, false
	ep.UpdatedBy = p.Name
	if ep.Team == "" {
		ep.Team = p.Team
	}
	if err := ep.Validate(); err != nil {
		return err
	}
	expect, err := wire.ExpectedRevision(r.Header)
	if err != nil {
		return err
	}
	if err := p.mayChange(ep.Name, ep.Team); err != nil {
		return err
	}

	old, err := s.Store.GetEndpoint(r.Context(), name)
	exists := err == nil
	if err != nil && rollout.ErrorCode(err) != rollout.ENOTFOUND {
		return err
	}
	hidden := exists && !p.sees(old.Name, old.Team)
	switch {
	case (hidden || !exists) && expect > rollout.RevisionNew:
		// An update of an endpoint the caller cannot see reads as one of
		// a missing endpoint: the same 404, not 403 against 409.
		return notFound("endpoint %q not found", name)
	case hidden:
		// Names are global, so a create learns that the name is taken,
		// but nothing of whose it is.
		return notFound("endpoint name %q is taken by an endpoint %s may not see; choose another name", name, p.Name)
	}
	ep.KeepSecrets(old)
	if err := s.bounds(ep.Team).checkEndpoint(ep.Team, ep); err != nil {
		return err
	}
	if err := s.checkOverlap(r.Context(), p, ep); err != nil {
		return err
	}
	typ, verb := rollout.EventEndpointCreated, "created"
	if exists {
		typ, verb = rollout.EventEndpointUpdated, "updated"
		if err := store.CheckRevision(fmt.Sprintf("endpoint %q", name), expect, old.Revision); err != nil {
			return err
		}
		if err := refuseDeleting(old); err != nil {
			return err
		}
		if err := checkPlacementKept(old, ep); err != nil {
			return err
		}
		releases, err := s.Store.ListReleases(r.Context(), name)
		if err != nil {
			return err
		}
		if err := ep.ValidateReleases(releases); err != nil {
			return err
		}
	}
	if err := s.preflight(r.Context(), ep); err != nil {
		return err
	}
	if r.URL.Query().Get("dry_run") == "true" {
		// Everything a PUT checks was checked; nothing is stored. The
		// secrets stay write-only here too: KeepSecrets filled in the
		// stored ones.
		s.writeJSON(w, http.StatusOK, rollout.EndpointView{Endpoint: ep.Redacted()})
		return nil
	}

	ev := s.event(r, p, typ, fmt.Sprintf("endpoint %s by %s", verb, p.Name))
	if exists {
		ev.Changes = rollout.Diff(old, ep)
	}
	saved, err := s.Store.PutEndpoint(r.Context(), ep, expectOrCurrent(expect, old.Revision), ev)
	if err != nil {
		return err
	}
	s.changed(name)
	return s.writeEndpoint(w, r, createdOrOK(saved.Revision), saved)
}

// checkPlacementKept refuses to move an existing endpoint: its listener
// rule and environments live in that region, on that listener, at that
// priority, and the shifter would strand them. A preview route may be added
// to an endpoint that has none, since nothing lives there yet.
func checkPlacementKept(old, ep rollout.Endpoint) error {
	type field struct {
		name     string
		old, new any
	}
	fields := []field{
		{"placement.region", old.Placement.Region, ep.Placement.Region},
		{"traffic.listener_arn", old.Traffic.ListenerARN, ep.Traffic.ListenerARN},
		{"traffic.priority", old.Traffic.Priority, ep.Traffic.Priority},
		{"observe_only", old.ObserveOnly, ep.ObserveOnly},
	}
	if old.Traffic.NLB != nil || ep.Traffic.NLB != nil {
		var was, is rollout.NLBTraffic
		if old.Traffic.NLB != nil {
			was = *old.Traffic.NLB
		}
		if ep.Traffic.NLB != nil {
			is = *ep.Traffic.NLB
		}
		// The shifter's listener lives on that port of that load
		// balancer, its versions' target groups with it; their protocols
		// are the listener's (its certificate and policy may change).
		fields = append(fields, field{"traffic.nlb.load_balancer_arn", was.LoadBalancerARN, is.LoadBalancerARN}, field{"traffic.nlb.port", was.Port, is.Port},
			field{"traffic.nlb.protocol", was.ListenerProtocol(), is.ListenerProtocol()})
	}
	if old.Traffic.Route53 != nil || ep.Traffic.Route53 != nil {
		var was, is rollout.Route53Traffic
		if old.Traffic.Route53 != nil {
			was = *old.Traffic.Route53
		}
		if ep.Traffic.Route53 != nil {
			is = *ep.Traffic.Route53
		}
		fields = append(fields, field{"traffic.route53.hosted_zone_id", was.HostedZoneID, is.HostedZoneID}, field{"traffic.route53.name", was.Name, is.Name})
		// A slot may be added, never taken away: a version may have it
		// (its load balancer is what the version's record aliases).
		for _, slot := range was.Listeners {
			if !slices.Contains(is.Listeners, slot) {
				return rollout.Invalid("traffic.route53.listeners", "cannot drop the slot %s: a version may be on it; slots may only be added, or create a new endpoint", slot)
			}
		}
	}
	if old.Traffic.HasPreview() {
		fields = append(fields,
			field{"traffic.preview_listener_arn", old.Traffic.PreviewListenerARN, ep.Traffic.PreviewListenerARN},
			field{"traffic.preview_priority", old.Traffic.PreviewPriority, ep.Traffic.PreviewPriority})
	}
	for _, f := range fields {
		if f.old != f.new {
			return rollout.Invalid(f.name, "cannot change once created (%#v to %#v): the rule and environments live there; create a new endpoint", f.old, f.new)
		}
	}
	return nil
}

// deleteEndpoint marks an endpoint for teardown. The reconciler removes its
// environments and rules, then the endpoint itself, so the answer is 202 and
// the endpoint stays readable (state "deleting") until it is gone.
func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	expect, err := wire.ExpectedRevision(r.Header)
	if err != nil {
		return err
	}
	ep, err := s.endpointFor(r.Context(), p, name)
	if err != nil {
		return err
	}
	if err := store.CheckRevision(fmt.Sprintf("endpoint %q", name), expect, ep.Revision); err != nil {
		return err
	}
	if !ep.Deleting {
		if ep.DeletionProtection {
			return &rollout.Error{Code: rollout.ECONFLICT, Field: "deletion_protection",
				Message: "is on; turn it off (and apply that) before deleting the endpoint"}
		}
		ep.Deleting, ep.UpdatedBy = true, p.Name
		ev := s.event(r, p, rollout.EventEndpointDeleting, "endpoint deletion requested by "+p.Name)
		if ep, err = s.Store.PutEndpoint(r.Context(), ep, ep.Revision, ev); err != nil {
			return err
		}
		s.changed(name)
	}
	return s.writeEndpoint(w, r, http.StatusAccepted, ep)
}

// writeEndpoint answers with the view of ep and its revision as ETag.
func (s *Server) writeEndpoint(w http.ResponseWriter, r *http.Request, status int, ep rollout.Endpoint) error {
	v, err := s.endpointView(r.Context(), ep)
	if err != nil {
		return err
	}
	s.writeView(w, status, ep.Revision, v)
	return nil
}

func (s *Server) endpointView(ctx context.Context, ep rollout.Endpoint) (rollout.EndpointView, error) {
	st, err := s.Store.GetState(ctx, ep.Name)
	if err != nil {
		return rollout.EndpointView{}, err
	}
	return rollout.EndpointView{Endpoint: ep.Redacted(), Status: rollout.DescribeEndpoint(s.Now(), ep, st)}, nil
}

// preflight runs Server.Preflight: a refusal is the request's error; an
// error asking AWS is logged, and the spec goes through.
func (s *Server) preflight(ctx context.Context, ep rollout.Endpoint) error {
	if s.Preflight == nil {
		return nil
	}
	err := s.Preflight(ctx, ep)
	if err != nil && rollout.ErrorCode(err) != rollout.EINVALID {
		s.Logger.Warn("could not check the endpoint against AWS; accepting it", "endpoint", ep.Name, "error", err)
		return nil
	}
	return err
}

// decodeEndpoint decodes body into the defaults of the backend its template
// names. An ecs template's defaults fill in the template.ecs the body sends,
// and only that: without one, validation names it missing. Its launch type
// defaults only while no capacity providers place the tasks instead.
func decodeEndpoint(body []byte) (rollout.Endpoint, error) {
	sent, err := decodeInto(body, rollout.NewEndpoint())
	if err != nil || sent.Template.Backend == rollout.BackendEC2 {
		return sent, err
	}
	ep, err := decodeInto(body, rollout.NewEndpointFor(sent.Template.Backend))
	if err != nil {
		return rollout.Endpoint{}, err
	}
	switch e := ep.Template.ECS; {
	case sent.Template.ECS == nil:
		ep.Template.ECS = nil
	case sent.Template.ECS.LaunchType == "" && len(e.CapacityProviders) > 0:
		e.LaunchType = ""
	}
	return ep, nil
}

// decodeInto decodes body into ep, which holds defaults.
func decodeInto(body []byte, ep rollout.Endpoint) (rollout.Endpoint, error) {
	// encoding/json decodes a list into the elements already there without
	// zeroing them, so a default step's pause would stay on a step sent
	// without one: a canary would not wait for its promote.
	defaultSteps := ep.Policy.Steps
	ep.Policy.Steps = nil
	if err := decodeBytes(body, &ep); err != nil {
		return rollout.Endpoint{}, err
	}
	if ep.Policy.Steps == nil {
		ep.Policy.Steps = defaultSteps
	}
	return ep, nil
}
