package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// specRevisions serves a page of an endpoint's spec history, oldest first,
// each revision with what changed from the one it replaced.
func (s *Server) specRevisions(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	if _, err := s.visibleEndpoint(r.Context(), p, name); err != nil {
		return err
	}
	from, err := queryInt(r, "from", 1, 1)
	if err != nil {
		return err
	}
	to, err := queryInt(r, "to", 0, 0)
	if err != nil {
		return err
	}
	limit, err := queryLimit(r)
	if err != nil {
		return err
	}
	// One more on each side: the revision the first one replaced, to
	// compare it with, and the first of the next page.
	revs, err := s.Store.ListSpecRevisions(r.Context(), name, from-1, to, limit+2)
	if err != nil {
		return err
	}
	page := wire.SpecRevisionPage{Revisions: []wire.SpecRevisionView{}}
	var prev *rollout.SpecRevision
	for i := range revs {
		rev := &revs[i]
		visible := p.sees(rev.Spec.Name, rev.Spec.Team)
		switch {
		case !visible || rev.Revision < from:
		case len(page.Revisions) == limit:
			page.Next = rev.Revision
		default:
			page.Revisions = append(page.Revisions, view(*rev, replaced(rev, prev)))
		}
		if page.Next != 0 {
			break
		}
		prev = nil
		if visible {
			prev = rev
		}
	}
	if page.Next == 0 && len(revs) == limit+2 {
		// Revisions the caller may not see took the places of the
		// next page's first: it starts after them.
		page.Next = revs[len(revs)-1].Revision + 1
	}
	s.writeJSON(w, http.StatusOK, page)
	return nil
}

// specRevision serves one revision of an endpoint's spec with what changed
// since another: the one it replaced, or ?against=.
func (s *Server) specRevision(w http.ResponseWriter, r *http.Request, p *Principal) error {
	name := r.PathValue("name")
	if _, err := s.visibleEndpoint(r.Context(), p, name); err != nil {
		return err
	}
	n, err := strconv.ParseInt(r.PathValue("revision"), 10, 64)
	if err != nil || n < 1 {
		return rollout.Invalid("revision", "must be a revision number of at least 1; got %q", r.PathValue("revision"))
	}
	rev, err := s.visibleRevision(r.Context(), p, name, n, "revision")
	if err != nil {
		return err
	}
	against, err := queryInt(r, "against", rev.Replaces, 0)
	if err != nil {
		return err
	}
	var base *rollout.SpecRevision
	if against != 0 {
		b, err := s.visibleRevision(r.Context(), p, name, against, "against")
		switch {
		case err == nil:
			base = &b
		case r.URL.Query().Has("against") || rollout.ErrorCode(err) != rollout.ENOTFOUND:
			return err
		}
		// The revision it replaced has expired: nothing to compare with.
	}
	s.writeJSON(w, http.StatusOK, view(rev, base))
	return nil
}

// visibleRevision returns revision n of the endpoint's spec: ENOTFOUND,
// naming field, when it is not kept or p may not see it (the endpoint
// belonged to another team then).
func (s *Server) visibleRevision(ctx context.Context, p *Principal, name string, n int64, field string) (rollout.SpecRevision, error) {
	revs, err := s.Store.ListSpecRevisions(ctx, name, n, n, 1)
	if err != nil {
		return rollout.SpecRevision{}, err
	}
	if len(revs) == 0 || !p.sees(revs[0].Spec.Name, revs[0].Spec.Team) {
		return rollout.SpecRevision{}, &rollout.Error{Code: rollout.ENOTFOUND, Field: field,
			Message: "revision " + strconv.FormatInt(n, 10) + " of endpoint " + strconv.Quote(name) + " is not kept"}
	}
	return revs[0], nil
}

// replaced returns prev if it is the revision rev replaced, nil otherwise
// (that one expired, or the caller may not see it).
func replaced(rev, prev *rollout.SpecRevision) *rollout.SpecRevision {
	if prev != nil && prev.Revision == rev.Replaces {
		return prev
	}
	return nil
}

// view returns rev as the API shows it, with what changed since base (nil:
// nothing to compare with). The diff is taken before redaction, so that a
// secret that changed says so.
func view(rev rollout.SpecRevision, base *rollout.SpecRevision) wire.SpecRevisionView {
	v := wire.SpecRevisionView{SpecRevision: rev.Redacted()}
	if base != nil {
		v.Against, v.Changes = base.Revision, rollout.Diff(base.Spec, rev.Spec)
	}
	return v
}
