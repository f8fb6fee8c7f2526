package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request, p *Principal) error {
	track, err := pathTrack(r)
	if err != nil {
		return err
	}
	ep, err := s.visibleEndpoint(r.Context(), p, r.PathValue("name"))
	if err != nil {
		return err
	}
	rel, err := s.declared(r.Context(), ep.Name, track)
	if err != nil {
		return err
	}
	return s.writeRelease(w, r, http.StatusOK, ep, rel)
}

// putRelease declares the version wanted on a track. The endpoint and track
// come from the path; the body may repeat them, as a release read back does.
func (s *Server) putRelease(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	track, err := pathTrack(r)
	if err != nil {
		return err
	}
	var body struct {
		rollout.Release
		// Image shadows the release's, to tell "image": "" (refused, as
		// Terraform refuses it) from a body without one (the default).
		Image *string `json:"image"`
	}
	if err := decode(w, r, &body, false); err != nil {
		return err
	}
	rel := body.Release
	if body.Image != nil {
		if err := rollout.ValidateImage(*body.Image); err != nil {
			return err
		}
		rel.Image = *body.Image
	}
	switch {
	case rel.Endpoint != "" && rel.Endpoint != name:
		return rollout.Invalid("endpoint", "is %q in the body but %q in the path", rel.Endpoint, name)
	case rel.Track != "" && rel.Track != track:
		return rollout.Invalid("track", "is %q in the body but %q in the path", rel.Track, track)
	}
	rel.Endpoint, rel.Track, rel.Revision, rel.UpdatedAt = name, track, 0, time.Time{}
	if err := rel.Validate(); err != nil {
		return err
	}
	expect, err := wire.ExpectedRevision(r.Header)
	if err != nil {
		return err
	}
	ep, err := s.endpointFor(r.Context(), p, name)
	if err != nil {
		return err
	}
	if err := refuseDeleting(ep); err != nil {
		return err
	}
	if err := s.bounds(ep.Team).checkImage(ep.Team, rel.ImageFor(ep)); err != nil {
		return err
	}
	if track == rollout.Preview && !ep.Traffic.HasPreview() {
		return rollout.Invalid("track", "endpoint %q has no preview route; set traffic.preview_host or traffic.preview_listener_arn first", name)
	}
	if err := rel.ValidateOn(ep); err != nil {
		return err
	}

	ev := s.event(r, p, rollout.EventReleaseDeclared, fmt.Sprintf("%s release %s declared by %s", track, rel.Version, p.Name))
	ev.Track, ev.Version = track, rel.Version
	ev.Details["image"] = rel.ImageFor(ep)
	saved, err := s.Store.PutRelease(r.Context(), rel, expect, ev)
	if err != nil {
		return err
	}
	s.changed(name)
	return s.writeRelease(w, r, createdOrOK(saved.Revision), ep, saved)
}

// deleteRelease stops declaring a track's release. Traffic stays on what is
// live, so it is allowed on an endpoint being deleted too: destroying a
// release after its endpoint must not fail.
func (s *Server) deleteRelease(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	track, err := pathTrack(r)
	if err != nil {
		return err
	}
	expect, err := wire.ExpectedRevision(r.Header)
	if err != nil {
		return err
	}
	if _, err := s.endpointFor(r.Context(), p, name); err != nil {
		return err
	}
	old, err := s.declared(r.Context(), name, track)
	if err != nil {
		return err
	}
	ev := s.event(r, p, rollout.EventReleaseRemoved,
		fmt.Sprintf("%s release %s removed by %s; traffic stays on what is live", track, old.Version, p.Name))
	ev.Track, ev.Version = track, old.Version
	if err := s.Store.DeleteRelease(r.Context(), name, track, expectOrCurrent(expect, old.Revision), ev); err != nil {
		return err
	}
	s.changed(name)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pathTrack returns the request's {track}.
func pathTrack(r *http.Request) (rollout.Track, error) {
	track := rollout.Track(r.PathValue("track"))
	if !track.Valid() {
		return "", rollout.Invalid("track", "must be %q or %q; got %q", rollout.Production, rollout.Preview, track)
	}
	return track, nil
}

// declared returns the release of an endpoint on a track, ENOTFOUND with a
// message people understand when there is none.
func (s *Server) declared(ctx context.Context, endpoint string, track rollout.Track) (rollout.Release, error) {
	rel, err := s.Store.GetRelease(ctx, endpoint, track)
	if rollout.ErrorCode(err) == rollout.ENOTFOUND {
		return rollout.Release{}, notFound("endpoint %q has no %s release declared", endpoint, track)
	}
	return rel, err
}

// writeRelease answers with the view of rel on ep and its revision as ETag.
func (s *Server) writeRelease(w http.ResponseWriter, r *http.Request, status int, ep rollout.Endpoint, rel rollout.Release) error {
	st, err := s.Store.GetState(r.Context(), ep.Name)
	if err != nil {
		return err
	}
	v := rollout.ReleaseView{Release: rel, Status: rollout.DescribeRelease(s.Now(), ep, st, rollout.NewDesired(ep, rel))}
	s.writeView(w, status, rel.Revision, v)
	return nil
}
