package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// replicas serves GET /v1/replicas: the replica that answers and, on a store
// shared by several, every live replica with the leases it holds on
// endpoints the caller may see. On a store one shifter owns, that shifter
// is the only replica and acts on every endpoint without leases.
func (s *Server) replicas(w http.ResponseWriter, r *http.Request, p *Principal) error {
	view := wire.ReplicasView{Replica: s.Replica, Leased: s.Leases != nil}
	if s.Leases == nil {
		view.Replicas = []wire.ReplicaView{{ID: s.Replica}}
		s.writeJSON(w, http.StatusOK, view)
		return nil
	}
	ctx := r.Context()
	live, err := s.Leases.Replicas(ctx)
	if err != nil {
		return err
	}
	leases, err := s.Leases.ListLeases(ctx)
	if err != nil {
		return err
	}
	eps, err := s.Store.ListEndpoints(ctx)
	if err != nil {
		return err
	}
	visible := make(map[string]bool, len(eps))
	for _, ep := range eps {
		visible[ep.Name] = p.sees(ep.Name, ep.Team)
	}
	// Lease items outlive their endpoints and holders; only live leases
	// of existing endpoints are holdings.
	now := s.Now()
	held := map[string][]wire.LeaseView{}
	for _, l := range leases {
		if visible[l.Endpoint] && l.Expires.After(now) {
			held[l.Holder] = append(held[l.Holder], wire.LeaseView{Endpoint: l.Endpoint, Generation: l.Generation, Expires: l.Expires})
		}
	}
	for _, rep := range live {
		ls := held[rep.ID]
		slices.SortFunc(ls, func(a, b wire.LeaseView) int { return strings.Compare(a.Endpoint, b.Endpoint) })
		view.Replicas = append(view.Replicas, wire.ReplicaView{ID: rep.ID, Expires: rep.Expires, Leases: ls})
	}
	s.writeJSON(w, http.StatusOK, view)
	return nil
}
