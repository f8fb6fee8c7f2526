package storetest

import (
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// The spec's history: every PutEndpoint keeps the copy it stores.

func mustListSpecRevisions(t *testing.T, s store.Store, endpoint string, from, to int64, limit int) []rollout.SpecRevision {
	t.Helper()
	revs, err := s.ListSpecRevisions(t.Context(), endpoint, from, to, limit)
	if err != nil {
		t.Fatalf("list spec revisions of %q from %d to %d: %v", endpoint, from, to, err)
	}
	return revs
}

func revisionNumbers(revs []rollout.SpecRevision) []int64 {
	out := []int64{}
	for _, r := range revs {
		out = append(out, r.Revision)
	}
	return out
}

// putRevisions writes n revisions of endpoint web, each by another actor
// and with another instance type, and returns them as stored.
func putRevisions(t *testing.T, s store.Store, n int) []rollout.Endpoint {
	var eps []rollout.Endpoint
	for i := range n {
		ep := fullEndpoint("web")
		ep.Template.InstanceType = []string{"t3.micro", "t3.small", "t3.medium", "t3.large", "t3.xlarge"}[i%5]
		ep.UpdatedBy = []string{"alice", "bob"}[i%2]
		eps = append(eps, mustPutEndpoint(t, s, ep, int64(i)))
	}
	return eps
}

// testSpecRevisionsKept expects every write of a spec to be kept as it was
// stored (secrets included: the API redacts them), with its time, its actor
// and the revision it replaced.
func testSpecRevisionsKept(t *testing.T, s store.Store) {
	eps := putRevisions(t, s, 3)
	got := mustListSpecRevisions(t, s, "web", 0, 0, 0)
	want := []rollout.SpecRevision{}
	for _, ep := range eps {
		want = append(want, rollout.NewSpecRevision(ep))
	}
	equal(t, "spec revisions", got, want)
	requireComplete(t, got[1])
	if got[0].Replaces != 0 || got[2].Replaces != 2 || got[2].Actor != "alice" || !got[2].Time.Equal(eps[2].UpdatedAt) {
		t.Errorf("revision 1 replaces %d, revision 3 replaces %d by %q at %v; want 0, 2 by alice at %v",
			got[0].Replaces, got[2].Replaces, got[2].Actor, got[2].Time, eps[2].UpdatedAt)
	}
	// A write that is refused keeps nothing.
	if _, err := s.PutEndpoint(t.Context(), fullEndpoint("web"), 1); rollout.ErrorCode(err) != rollout.ECONFLICT {
		t.Fatalf("stale put: %v, want a conflict", err)
	}
	equal(t, "spec revisions after a refused write", revisionNumbers(mustListSpecRevisions(t, s, "web", 0, 0, 0)), []int64{1, 2, 3})
}

func testSpecRevisionsRange(t *testing.T, s store.Store) {
	putRevisions(t, s, 7)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "api"}, rollout.RevisionNew)
	for _, tt := range []struct {
		name     string
		from, to int64
		limit    int
		want     []int64
	}{
		{"all", 0, 0, 0, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"from", 5, 0, 0, []int64{5, 6, 7}},
		{"to", 0, 2, 0, []int64{1, 2}},
		{"between", 3, 5, 0, []int64{3, 4, 5}},
		{"one", 4, 4, 0, []int64{4}},
		{"page", 2, 0, 3, []int64{2, 3, 4}},
		{"page within", 2, 3, 5, []int64{2, 3}},
		{"past the end", 8, 0, 0, []int64{}},
		{"inverted", 5, 3, 0, []int64{}},
	} {
		got := mustListSpecRevisions(t, s, "web", tt.from, tt.to, tt.limit)
		equal(t, tt.name, revisionNumbers(got), tt.want)
	}
	equal(t, "another endpoint's", revisionNumbers(mustListSpecRevisions(t, s, "api", 0, 0, 0)), []int64{1})
}

func testSpecRevisionsNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.ListSpecRevisions(ctx, "web", 0, 0, 0)
	wantNotFound(t, err, "web")
	wantNotFound(t, s.DeleteSpecRevisions(ctx, "web", 1), "web")
}

// testSpecRevisionsDelete expects retention to delete what it names but
// the current revision, and to pass over what is not kept.
func testSpecRevisionsDelete(t *testing.T, s store.Store) {
	putRevisions(t, s, 4)
	if err := s.DeleteSpecRevisions(t.Context(), "web", 1, 3, 4, 3, 99); err != nil {
		t.Fatal(err)
	}
	equal(t, "kept", revisionNumbers(mustListSpecRevisions(t, s, "web", 0, 0, 0)), []int64{2, 4})
	if err := s.DeleteSpecRevisions(t.Context(), "web"); err != nil {
		t.Errorf("delete no revisions: %v", err)
	}
}

// testSpecRevisionsDeleteMany deletes more revisions than one DynamoDB
// transaction holds.
func testSpecRevisionsDeleteMany(t *testing.T, s store.Store) {
	eps := putRevisions(t, s, 120)
	var all []int64
	for _, ep := range eps {
		all = append(all, ep.Revision)
	}
	if err := s.DeleteSpecRevisions(t.Context(), "web", all...); err != nil {
		t.Fatal(err)
	}
	equal(t, "kept", revisionNumbers(mustListSpecRevisions(t, s, "web", 0, 0, 0)), []int64{120})
}

// testSpecRevisionsGoWithEndpoint expects a recreated endpoint to start a
// history of its own: its revisions count from 1 again.
func testSpecRevisionsGoWithEndpoint(t *testing.T, s store.Store) {
	eps := putRevisions(t, s, 3)
	if err := s.DeleteEndpoint(t.Context(), "web", eps[2].Revision); err != nil {
		t.Fatal(err)
	}
	again := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web", UpdatedBy: "carol"}, rollout.RevisionNew)
	equal(t, "history of the new endpoint", mustListSpecRevisions(t, s, "web", 0, 0, 0), []rollout.SpecRevision{rollout.NewSpecRevision(again)})
}
