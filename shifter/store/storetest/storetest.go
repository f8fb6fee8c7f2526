// Package storetest is the conformance suite of store.Store. Every
// implementation runs it from its own tests, so that the embedded bolt file
// and a shared DynamoDB table behave alike down to revisions, sequence
// numbers and error codes, and the layers above can be tested against either.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

// Run runs the suite against the stores open returns. open is called once per
// subtest, possibly from parallel subtests, and once more to learn whether
// the store implements store.Leases; it must return a new, empty store whose
// clock moves forward between writes (the real clock does). Run closes the
// store when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"EndpointCreate", testEndpointCreate},
		{"EndpointRoundTrip", testEndpointRoundTrip},
		{"EndpointNotFound", testEndpointNotFound},
		{"EndpointList", testEndpointList},
		{"EndpointReplace", testEndpointReplace},
		{"EndpointRevisions", testEndpointRevisions},
		{"EndpointInvalid", testEndpointInvalid},
		{"EndpointDelete", testEndpointDelete},
		{"EndpointDeleteRevisions", testEndpointDeleteRevisions},
		{"ReleaseRoundTrip", testReleaseRoundTrip},
		{"ReleaseTracks", testReleaseTracks},
		{"ReleaseRevisions", testReleaseRevisions},
		{"ReleaseNotFound", testReleaseNotFound},
		{"ReleaseDelete", testReleaseDelete},
		{"StateDefault", testStateDefault},
		{"StateRoundTrip", testStateRoundTrip},
		{"StateRevisions", testStateRevisions},
		{"EventsAppend", testEventsAppend},
		{"EventRoundTrip", testEventRoundTrip},
		{"EventsPerEndpoint", testEventsPerEndpoint},
		{"EventsPaging", testEventsPaging},
		{"EventsWithWrites", testEventsWithWrites},
		{"EventsAtomic", testEventsAtomic},
		{"EventsOutliveEndpoint", testEventsOutliveEndpoint},
		{"SpecRevisionsKept", testSpecRevisionsKept},
		{"SpecRevisionsRange", testSpecRevisionsRange},
		{"SpecRevisionsNotFound", testSpecRevisionsNotFound},
		{"SpecRevisionsDelete", testSpecRevisionsDelete},
		{"SpecRevisionsDeleteMany", testSpecRevisionsDeleteMany},
		{"SpecRevisionsGoWithEndpoint", testSpecRevisionsGoWithEndpoint},
		{"Commands", testCommands},
		{"CommandRoundTrip", testCommandRoundTrip},
		{"CopiesAreIndependent", testCopiesAreIndependent},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentAppends", testConcurrentAppends},
		{"CanceledContext", testCanceledContext},
	}
	// Stores shared by replicas implement store.Leases too, and run the
	// lease section.
	if implementsLeases(t, open) {
		for _, tt := range leaseTests {
			tests = append(tests, struct {
				name string
				fn   func(t *testing.T, s store.Store)
			}{"Lease" + tt.name, withLeases(tt.fn)})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func testEndpointCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Empty but non-nil collections may come back as nil, but Put must
	// return what Get returns.
	in := rollout.Endpoint{Name: "web", Team: "payments", Traffic: rollout.Traffic{Hosts: []string{}}, Template: rollout.Template{Env: map[string]string{}}}
	got := mustPutEndpoint(t, s, in, rollout.RevisionNew)
	if got.Revision != 1 {
		t.Errorf("revision = %d, want 1", got.Revision)
	}
	if got.CreatedAt.IsZero() || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("created at %v, updated at %v: want both set to the time of creation", got.CreatedAt, got.UpdatedAt)
	}
	if got.Name != "web" || got.Team != "payments" {
		t.Errorf("stored %+v, want name web and team payments", got)
	}
	equal(t, "get", mustGetEndpoint(t, s, "web"), got)

	// Any creates too.
	api, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "api"}, rollout.RevisionAny)
	if err != nil {
		t.Fatalf("put with Any: %v", err)
	}
	if api.Revision != 1 {
		t.Errorf("revision after put with Any = %d, want 1", api.Revision)
	}
}

func testEndpointRoundTrip(t *testing.T, s store.Store) {
	in := fullEndpoint("web")
	requireComplete(t, in)
	got := mustPutEndpoint(t, s, in, rollout.RevisionNew)

	// The store owns the revision and the times; everything else is the caller's.
	want := in
	want.Revision, want.CreatedAt, want.UpdatedAt = 1, got.CreatedAt, got.UpdatedAt
	equal(t, "put", got, want)
	equal(t, "get", mustGetEndpoint(t, s, "web"), want)
	list, err := s.ListEndpoints(t.Context())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	equal(t, "list", list, []rollout.Endpoint{want})
}

func testEndpointNotFound(t *testing.T, s store.Store) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "api"}, rollout.RevisionNew)
	_, err := s.GetEndpoint(t.Context(), "web")
	wantNotFound(t, err, `"web"`)
}

func testEndpointList(t *testing.T, s store.Store) {
	ctx := t.Context()
	eps, err := s.ListEndpoints(ctx)
	if err != nil {
		t.Fatalf("list empty store: %v", err)
	}
	if len(eps) != 0 {
		t.Fatalf("empty store lists %d endpoints", len(eps))
	}

	var want []rollout.Endpoint
	for _, name := range []string{"web", "api", "zeta", "billing"} {
		want = append(want, mustPutEndpoint(t, s, rollout.Endpoint{Name: name, Team: name + "-team"}, rollout.RevisionNew))
	}
	slices.SortFunc(want, func(a, b rollout.Endpoint) int { return strings.Compare(a.Name, b.Name) })
	eps, err = s.ListEndpoints(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	equal(t, "list", eps, want)
}

func testEndpointReplace(t *testing.T, s store.Store) {
	first := mustPutEndpoint(t, s, fullEndpoint("web"), rollout.RevisionNew)
	tick()

	next := first
	next.Team = "checkout"
	next.Traffic.Hosts = []string{"shop.example.com"}
	next.CreatedAt = at(100) // the store keeps its own
	got := mustPutEndpoint(t, s, next, first.Revision)

	if got.Revision != 2 {
		t.Errorf("revision = %d, want 2", got.Revision)
	}
	if !got.CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("created at %v, want %v kept from the first write", got.CreatedAt, first.CreatedAt)
	}
	if !got.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("updated at %v, want after %v", got.UpdatedAt, first.UpdatedAt)
	}
	want := next
	want.Revision, want.CreatedAt, want.UpdatedAt = 2, first.CreatedAt, got.UpdatedAt
	equal(t, "put", got, want)
	equal(t, "get", mustGetEndpoint(t, s, "web"), want)
}

func testEndpointRevisions(t *testing.T, s store.Store) {
	ctx := t.Context()

	// On a missing endpoint only Any and New may write.
	_, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, 3)
	wantConflict(t, err, `"web"`, 3, 0)
	if _, err := s.GetEndpoint(ctx, "web"); rollout.ErrorCode(err) != rollout.ENOTFOUND {
		t.Fatalf("a rejected create stored the endpoint (get: %v)", err)
	}

	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 1)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 2) // now at 3
	before := mustGetEndpoint(t, s, "web")

	for _, tt := range []struct {
		name   string
		expect int64
	}{
		{"new", rollout.RevisionNew},
		{"stale", 2},
		{"future", 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web", Team: "intruder"}, tt.expect)
			wantConflict(t, err, `"web"`, tt.expect, 3)
			equal(t, "after a rejected write", mustGetEndpoint(t, s, "web"), before)
		})
	}

	if got := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 3); got.Revision != 4 {
		t.Errorf("revision after exact write = %d, want 4", got.Revision)
	}
	if got := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionAny); got.Revision != 5 {
		t.Errorf("revision after write with Any = %d, want 5", got.Revision)
	}
}

func testEndpointInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.PutEndpoint(ctx, rollout.Endpoint{}, rollout.RevisionNew)
	wantCode(t, err, rollout.EINVALID)
	_, err = s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, -2)
	wantCode(t, err, rollout.EINVALID)
	eps, err := s.ListEndpoints(ctx)
	if err != nil || len(eps) != 0 {
		t.Fatalf("after invalid writes: list = %d endpoints, %v; want none", len(eps), err)
	}
}

func testEndpointDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := mustPutEndpoint(t, s, fullEndpoint("web"), rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "api"}, rollout.RevisionNew)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Preview, Version: "2"}, rollout.RevisionNew)
	mustPutState(t, s, rollout.State{Endpoint: "web", NextRollout: 3}, rollout.RevisionNew)
	mustAppendCommand(t, s, rollout.Command{Endpoint: "web", Kind: rollout.CommandPause})
	mustPutRelease(t, s, rollout.Release{Endpoint: "api", Track: rollout.Production, Version: "9"}, rollout.RevisionNew)

	if err := s.DeleteEndpoint(ctx, "web", ep.Revision); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := s.GetEndpoint(ctx, "web")
	wantNotFound(t, err, `"web"`)
	eps, err := s.ListEndpoints(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(eps) != 1 || eps[0].Name != "api" {
		t.Errorf("list after delete = %v, want only api", names(eps))
	}
	_, err = s.ListReleases(ctx, "web")
	wantNotFound(t, err, `"web"`)
	if st := mustGetState(t, s, "web"); !reflect.DeepEqual(st, rollout.State{Endpoint: "web"}) {
		t.Errorf("state after delete = %+v, want the zero state", st)
	}
	if cmds := mustListCommands(t, s, "web", 0); len(cmds) != 0 {
		t.Errorf("commands after delete = %+v, want none", cmds)
	}
	if _, err := s.GetRelease(ctx, "api", rollout.Production); err != nil {
		t.Errorf("release of another endpoint gone with the deleted one: %v", err)
	}

	err = s.DeleteEndpoint(ctx, "web", rollout.RevisionAny)
	wantNotFound(t, err, `"web"`)

	// The name can be reused, and nothing of the old endpoint comes back.
	again := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	if again.Revision != 1 {
		t.Errorf("revision of a recreated endpoint = %d, want 1", again.Revision)
	}
	if again.CreatedAt.Before(ep.CreatedAt) {
		t.Errorf("recreated endpoint created at %v, before the first one (%v)", again.CreatedAt, ep.CreatedAt)
	}
	rs, err := s.ListReleases(ctx, "web")
	if err != nil || len(rs) != 0 {
		t.Errorf("releases of the recreated endpoint = %+v, %v; want none", rs, err)
	}
	if st := mustGetState(t, s, "web"); st.Revision != 0 || st.NextRollout != 0 {
		t.Errorf("state of the recreated endpoint = %+v, want the zero state", st)
	}
	if c := mustAppendCommand(t, s, rollout.Command{Endpoint: "web", Kind: rollout.CommandResume}); c.Seq != 1 {
		t.Errorf("first command of the recreated endpoint has seq %d, want 1", c.Seq)
	}
}

func testEndpointDeleteRevisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 1)
	before := mustGetEndpoint(t, s, "web")

	for _, expect := range []int64{rollout.RevisionNew, 1, 5} {
		err := s.DeleteEndpoint(ctx, "web", expect)
		wantConflict(t, err, `"web"`, expect, 2)
		equal(t, fmt.Sprintf("after a rejected delete expecting %d", expect), mustGetEndpoint(t, s, "web"), before)
	}
	if err := s.DeleteEndpoint(ctx, "web", rollout.RevisionAny); err != nil {
		t.Fatalf("delete with Any: %v", err)
	}
	_, err := s.GetEndpoint(ctx, "web")
	wantNotFound(t, err, `"web"`)
}

func testReleaseRoundTrip(t *testing.T, s store.Store) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	in := fullRelease("web", rollout.Preview)
	requireComplete(t, in)
	got := mustPutRelease(t, s, in, rollout.RevisionNew)
	if got.UpdatedAt.IsZero() {
		t.Errorf("updated at is zero")
	}
	want := in
	want.Revision, want.UpdatedAt = 1, got.UpdatedAt
	equal(t, "put", got, want)
	equal(t, "get", mustGetRelease(t, s, "web", rollout.Preview), want)
}

func testReleaseTracks(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "api"}, rollout.RevisionNew)
	rs, err := s.ListReleases(ctx, "web")
	if err != nil || len(rs) != 0 {
		t.Fatalf("releases of a new endpoint = %+v, %v; want none", rs, err)
	}

	preview := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Preview, Version: "2"}, rollout.RevisionNew)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	production := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1.1"}, 1)
	mustPutRelease(t, s, rollout.Release{Endpoint: "api", Track: rollout.Production, Version: "7"}, rollout.RevisionNew)

	// Each track has its own revision.
	if production.Revision != 2 || preview.Revision != 1 {
		t.Errorf("revisions: production %d, preview %d; want 2 and 1", production.Revision, preview.Revision)
	}
	equal(t, "get production", mustGetRelease(t, s, "web", rollout.Production), production)
	equal(t, "get preview", mustGetRelease(t, s, "web", rollout.Preview), preview)

	rs, err = s.ListReleases(ctx, "web")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	equal(t, "list (production first)", rs, []rollout.Release{production, preview})
}

func testReleaseRevisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	r := rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}

	_, err := s.PutRelease(ctx, r, 4)
	wantConflict(t, err, `"web"`, 4, 0)
	mustPutRelease(t, s, r, rollout.RevisionNew)
	mustPutRelease(t, s, r, 1)
	before := mustGetRelease(t, s, "web", rollout.Production)

	for _, expect := range []int64{rollout.RevisionNew, 1, 6} {
		_, err := s.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "bad"}, expect)
		wantConflict(t, err, `"web"`, expect, 2)
		equal(t, fmt.Sprintf("after a rejected write expecting %d", expect), mustGetRelease(t, s, "web", rollout.Production), before)
	}
	if got := mustPutRelease(t, s, r, 2); got.Revision != 3 {
		t.Errorf("revision after exact write = %d, want 3", got.Revision)
	}
	if got := mustPutRelease(t, s, r, rollout.RevisionAny); got.Revision != 4 {
		t.Errorf("revision after write with Any = %d, want 4", got.Revision)
	}
}

func testReleaseNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	r := rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}

	_, err := s.PutRelease(ctx, r, rollout.RevisionAny)
	wantNotFound(t, err, `"web"`)
	err = s.DeleteRelease(ctx, "web", rollout.Production, rollout.RevisionAny)
	wantNotFound(t, err, `"web"`)
	_, err = s.GetRelease(ctx, "web", rollout.Production)
	wantNotFound(t, err, `"web"`)
	_, err = s.ListReleases(ctx, "web")
	wantNotFound(t, err, `"web"`)

	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	_, err = s.GetRelease(ctx, "web", rollout.Production)
	wantNotFound(t, err, `"web"`)
	err = s.DeleteRelease(ctx, "web", rollout.Preview, rollout.RevisionAny)
	wantNotFound(t, err, `"web"`)

	_, err = s.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: "canary", Version: "1"}, rollout.RevisionAny)
	wantCode(t, err, rollout.EINVALID)
}

func testReleaseDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	production := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "2"}, 1)
	preview := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Preview, Version: "3"}, rollout.RevisionNew)

	err := s.DeleteRelease(ctx, "web", rollout.Production, 1)
	wantConflict(t, err, `"web"`, 1, 2)
	equal(t, "after a rejected delete", mustGetRelease(t, s, "web", rollout.Production), production)

	if err := s.DeleteRelease(ctx, "web", rollout.Production, 2); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = s.GetRelease(ctx, "web", rollout.Production)
	wantNotFound(t, err, `"web"`)
	rs, err := s.ListReleases(ctx, "web")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	equal(t, "list after delete", rs, []rollout.Release{preview})
	mustGetEndpoint(t, s, "web") // the endpoint stays

	if got := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "4"}, rollout.RevisionNew); got.Revision != 1 {
		t.Errorf("revision of a re-declared release = %d, want 1", got.Revision)
	}
	if err := s.DeleteRelease(ctx, "web", rollout.Preview, rollout.RevisionAny); err != nil {
		t.Fatalf("delete with Any: %v", err)
	}
}

func testStateDefault(t *testing.T, s store.Store) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	equal(t, "state of a new endpoint", mustGetState(t, s, "web"), rollout.State{Endpoint: "web"})
	equal(t, "state of a missing endpoint", mustGetState(t, s, "api"), rollout.State{Endpoint: "api"})
}

func testStateRoundTrip(t *testing.T, s store.Store) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	in := fullState("web")
	requireComplete(t, in)
	got := mustPutState(t, s, in, rollout.RevisionNew)
	if got.UpdatedAt.IsZero() {
		t.Errorf("updated at is zero")
	}
	want := in
	want.Revision, want.UpdatedAt = 1, got.UpdatedAt
	equal(t, "put", got, want)
	equal(t, "get", mustGetState(t, s, "web"), want)
}

func testStateRevisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.PutState(ctx, rollout.State{Endpoint: "web"}, rollout.RevisionAny)
	wantNotFound(t, err, `"web"`)

	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	_, err = s.PutState(ctx, rollout.State{Endpoint: "web"}, 1)
	wantConflict(t, err, `"web"`, 1, 0)

	first := mustPutState(t, s, rollout.State{Endpoint: "web", NextRollout: 1}, rollout.RevisionNew)
	tick()
	second := mustPutState(t, s, rollout.State{Endpoint: "web", NextRollout: 2}, first.Revision)
	if second.Revision != 2 {
		t.Errorf("revision = %d, want 2", second.Revision)
	}
	if !second.UpdatedAt.After(first.UpdatedAt) {
		t.Errorf("updated at %v, want after %v", second.UpdatedAt, first.UpdatedAt)
	}
	for _, expect := range []int64{rollout.RevisionNew, 1, 8} {
		_, err := s.PutState(ctx, rollout.State{Endpoint: "web", NextRollout: 99}, expect)
		wantConflict(t, err, `"web"`, expect, 2)
	}
	equal(t, "after rejected writes", mustGetState(t, s, "web"), second)
	if got := mustPutState(t, s, rollout.State{Endpoint: "web"}, rollout.RevisionAny); got.Revision != 3 {
		t.Errorf("revision after write with Any = %d, want 3", got.Revision)
	}
}

func testEventsAppend(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.AppendEvents(ctx, "web",
		rollout.Event{Type: rollout.EventEndpointCreated, Message: "one"},
		rollout.Event{Endpoint: "web", Type: rollout.EventReleaseDeclared, Message: "two", Time: at(0)},
	)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("append returned %d events, want 2", len(got))
	}
	for i, e := range got {
		if e.Seq != int64(i+1) || e.Endpoint != "web" {
			t.Errorf("event %d: seq %d, endpoint %q; want seq %d, endpoint web", i, e.Seq, e.Endpoint, i+1)
		}
	}
	if got[0].Time.IsZero() {
		t.Errorf("event without a time was not given one")
	}
	if !got[1].Time.Equal(at(0)) {
		t.Errorf("event time %v, want %v as given", got[1].Time, at(0))
	}

	more, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventCommand, Message: "three"})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	if len(more) != 1 || more[0].Seq != 3 {
		t.Fatalf("third event = %+v, want seq 3", more)
	}
	equal(t, "list", mustListEvents(t, s, "web", 0, 0), append(got, more...))

	none, err := s.AppendEvents(ctx, "web")
	if err != nil || len(none) != 0 {
		t.Errorf("append of no events = %+v, %v; want none", none, err)
	}
	if n := len(mustListEvents(t, s, "web", 0, 0)); n != 3 {
		t.Errorf("%d events after appending none, want 3", n)
	}
}

func testEventRoundTrip(t *testing.T, s store.Store) {
	in := fullEvent("web")
	requireComplete(t, in)
	got, err := s.AppendEvents(t.Context(), "web", in)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	want := in
	want.Seq = 1
	equal(t, "append", got, []rollout.Event{want})
	equal(t, "list", mustListEvents(t, s, "web", 0, 0), []rollout.Event{want})
}

func testEventsPerEndpoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 3 {
		for _, name := range []string{"web", "api"} {
			es, err := s.AppendEvents(ctx, name, rollout.Event{Type: rollout.EventCommand, Message: fmt.Sprint(i)})
			if err != nil {
				t.Fatalf("append to %s: %v", name, err)
			}
			if es[0].Seq != int64(i+1) {
				t.Errorf("event %d of %s has seq %d, want %d", i, name, es[0].Seq, i+1)
			}
		}
	}
	for _, name := range []string{"web", "api"} {
		if got := seqs(mustListEvents(t, s, name, 0, 0)); !slices.Equal(got, []int64{1, 2, 3}) {
			t.Errorf("events of %s: %v, want [1 2 3]", name, got)
		}
	}
	if es := mustListEvents(t, s, "billing", 0, 0); len(es) != 0 {
		t.Errorf("events of an endpoint with none: %+v", es)
	}
}

func testEventsPaging(t *testing.T, s store.Store) {
	var in []rollout.Event
	for i := range 10 {
		in = append(in, rollout.Event{Type: rollout.EventStepApplied, Message: fmt.Sprint(i)})
	}
	if _, err := s.AppendEvents(t.Context(), "web", in...); err != nil {
		t.Fatalf("append: %v", err)
	}
	for _, tt := range []struct {
		after int64
		limit int
		want  []int64
	}{
		{0, 0, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{-1, -1, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{3, 4, []int64{4, 5, 6, 7}},
		{7, 0, []int64{8, 9, 10}},
		{8, 5, []int64{9, 10}},
		{0, 1, []int64{1}},
		{10, 0, nil},
		{42, 3, nil},
	} {
		got := seqs(mustListEvents(t, s, "web", tt.after, tt.limit))
		if !slices.Equal(got, tt.want) {
			t.Errorf("after %d, limit %d: %v, want %v", tt.after, tt.limit, got, tt.want)
		}
	}
}

func testEventsWithWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"},
		rollout.Event{Endpoint: "web", Type: rollout.EventAlarmReported, Message: "alarm"})
	r := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventReleaseDeclared, Message: "declared"})
	mustPutState(t, s, rollout.State{Endpoint: "web"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventRolloutStarted, Message: "started"})
	if err := s.DeleteRelease(ctx, "web", rollout.Production, r.Revision,
		rollout.Event{Type: rollout.EventReleaseRemoved, Message: "removed"}); err != nil {
		t.Fatalf("delete release: %v", err)
	}
	if err := s.DeleteEndpoint(ctx, "web", ep.Revision,
		rollout.Event{Type: rollout.EventEndpointDeleting, Message: "deleted"}); err != nil {
		t.Fatalf("delete endpoint: %v", err)
	}

	es := mustListEvents(t, s, "web", 0, 0)
	var types []string
	for i, e := range es {
		types = append(types, e.Type)
		if e.Seq != int64(i+1) || e.Endpoint != "web" || e.Time.IsZero() {
			t.Errorf("event %d: seq %d, endpoint %q, time %v; want seq %d, endpoint web and a time", i, e.Seq, e.Endpoint, e.Time, i+1)
		}
	}
	want := []string{
		rollout.EventEndpointCreated, rollout.EventAlarmReported, rollout.EventReleaseDeclared,
		rollout.EventRolloutStarted, rollout.EventReleaseRemoved, rollout.EventEndpointDeleting,
	}
	if !slices.Equal(types, want) {
		t.Errorf("event types %v, want %v", types, want)
	}
}

func testEventsAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	ev := rollout.Event{Type: rollout.EventCommand, Message: "must not be kept"}
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, 1)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)
	mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, 1)
	mustPutState(t, s, rollout.State{Endpoint: "web"}, rollout.RevisionNew)
	mustPutState(t, s, rollout.State{Endpoint: "web"}, 1)

	// Writes rejected for a stale revision append nothing.
	_, err := s.PutEndpoint(ctx, rollout.Endpoint{Name: "web"}, 1, ev)
	wantCode(t, err, rollout.ECONFLICT)
	err = s.DeleteEndpoint(ctx, "web", 1, ev)
	wantCode(t, err, rollout.ECONFLICT)
	_, err = s.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Production}, 1, ev)
	wantCode(t, err, rollout.ECONFLICT)
	err = s.DeleteRelease(ctx, "web", rollout.Production, 1, ev)
	wantCode(t, err, rollout.ECONFLICT)
	_, err = s.PutState(ctx, rollout.State{Endpoint: "web"}, 1, ev)
	wantCode(t, err, rollout.ECONFLICT)
	_, err = s.PutRelease(ctx, rollout.Release{Endpoint: "api", Track: rollout.Production}, rollout.RevisionAny, ev)
	wantCode(t, err, rollout.ENOTFOUND)
	if es := mustListEvents(t, s, "web", 0, 0); len(es) != 0 {
		t.Errorf("rejected writes appended events: %+v", es)
	}
	if es := mustListEvents(t, s, "api", 0, 0); len(es) != 0 {
		t.Errorf("rejected write to a missing endpoint appended events: %+v", es)
	}

	// An event of another endpoint is a bug in the caller, and the whole
	// write is refused.
	other := rollout.Event{Endpoint: "api", Type: rollout.EventCommand, Message: "misrouted"}
	_, err = s.PutEndpoint(ctx, rollout.Endpoint{Name: "billing"}, rollout.RevisionNew, ev, other)
	wantCode(t, err, rollout.EINTERNAL)
	if _, err := s.GetEndpoint(ctx, "billing"); rollout.ErrorCode(err) != rollout.ENOTFOUND {
		t.Errorf("endpoint stored despite a misrouted event (get: %v)", err)
	}
	_, err = s.PutState(ctx, rollout.State{Endpoint: "web", NextRollout: 5}, rollout.RevisionAny, other)
	wantCode(t, err, rollout.EINTERNAL)
	if st := mustGetState(t, s, "web"); st.Revision != 2 {
		t.Errorf("state written despite a misrouted event: revision %d, want 2", st.Revision)
	}
	_, err = s.AppendEvents(ctx, "web", ev, other)
	wantCode(t, err, rollout.EINTERNAL)
	for _, name := range []string{"web", "api", "billing"} {
		if es := mustListEvents(t, s, name, 0, 0); len(es) != 0 {
			t.Errorf("refused writes appended events to %s: %+v", name, es)
		}
	}
}

func testEventsOutliveEndpoint(t *testing.T, s store.Store) {
	ctx := t.Context()
	ep := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"})
	if _, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventStepApplied, Message: "step"}); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.DeleteEndpoint(ctx, "web", ep.Revision, rollout.Event{Type: rollout.EventEndpointDeleting, Message: "deleted"}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got := seqs(mustListEvents(t, s, "web", 0, 0)); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("events after delete: %v, want [1 2 3]", got)
	}

	// The shifter may still report on a deleted endpoint's teardown.
	if es, err := s.AppendEvents(ctx, "web", rollout.Event{Type: rollout.EventEnvironmentDeleted, Message: "gone"}); err != nil || es[0].Seq != 4 {
		t.Fatalf("append after delete = %+v, %v; want seq 4", es, err)
	}
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventEndpointCreated, Message: "created again"})
	if got := seqs(mustListEvents(t, s, "web", 0, 0)); !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("events after the name was reused: %v, want [1 2 3 4 5]", got)
	}
}

func testCommands(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.AppendCommand(ctx, rollout.Command{Endpoint: "web", Kind: rollout.CommandPromote})
	wantNotFound(t, err, `"web"`)
	if cmds := mustListCommands(t, s, "web", 0); len(cmds) != 0 {
		t.Errorf("commands of a missing endpoint: %+v", cmds)
	}

	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "api"}, rollout.RevisionNew)
	var want []rollout.Command
	for i, kind := range []rollout.CommandKind{rollout.CommandPause, rollout.CommandResume, rollout.CommandPromote} {
		c := rollout.Command{Endpoint: "web", Kind: kind, Actor: "alice"}
		if i == 1 {
			c.Time = at(5)
		}
		got := mustAppendCommand(t, s, c)
		if got.Seq != int64(i+1) {
			t.Errorf("command %d has seq %d, want %d", i, got.Seq, i+1)
		}
		if got.Time.IsZero() || (i == 1 && !got.Time.Equal(at(5))) {
			t.Errorf("command %d has time %v", i, got.Time)
		}
		want = append(want, got)
	}
	if c := mustAppendCommand(t, s, rollout.Command{Endpoint: "api", Kind: rollout.CommandAbort}); c.Seq != 1 {
		t.Errorf("first command of another endpoint has seq %d, want 1", c.Seq)
	}

	equal(t, "list", mustListCommands(t, s, "web", 0), want)
	equal(t, "list after 1", mustListCommands(t, s, "web", 1), want[1:])
	if cmds := mustListCommands(t, s, "web", 3); len(cmds) != 0 {
		t.Errorf("commands after the last: %+v", cmds)
	}
}

func testCommandRoundTrip(t *testing.T, s store.Store) {
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	in := fullCommand("web")
	requireComplete(t, in)
	got := mustAppendCommand(t, s, in)
	want := in
	want.Seq = 1
	equal(t, "append", got, want)
	equal(t, "list", mustListCommands(t, s, "web", 0), []rollout.Command{want})
}

// testCopiesAreIndependent mutates everything that shares memory (maps,
// slices, pointers) in what goes in and what comes out, and expects the
// stored objects not to move.
func testCopiesAreIndependent(t *testing.T, s store.Store) {
	ctx := t.Context()

	in := fullEndpoint("web")
	put := mustPutEndpoint(t, s, in, rollout.RevisionNew)
	want := mustGetEndpoint(t, s, "web")
	get := mustGetEndpoint(t, s, "web")
	list, err := s.ListEndpoints(ctx)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	mutate := func(ep *rollout.Endpoint) {
		ep.Traffic.Hosts[0] = "mutated"
		ep.Template.Env["MUTATED"] = "yes"
		ep.Template.Subnets[0] = "mutated"
		*ep.Policy.Steps[0].Pause = 0
		ep.Policy.MetricChecks.MinRequests = -1
	}
	mutate(&in)
	equal(t, "put result after the input changed", put, want)
	for _, ep := range []*rollout.Endpoint{&put, &get, &list[0]} {
		mutate(ep)
	}
	equal(t, "endpoint", mustGetEndpoint(t, s, "web"), want)

	r := fullRelease("web", rollout.Production)
	putR := mustPutRelease(t, s, r, rollout.RevisionNew)
	wantR := mustGetRelease(t, s, "web", rollout.Production)
	getR := mustGetRelease(t, s, "web", rollout.Production)
	listR, err := s.ListReleases(ctx, "web")
	if err != nil {
		t.Fatalf("list releases: %v", err)
	}
	for _, x := range []*rollout.Release{&r, &putR, &getR, &listR[0]} {
		x.Env["MUTATED"] = "yes"
	}
	equal(t, "release", mustGetRelease(t, s, "web", rollout.Production), wantR)

	st := fullState("web")
	putS := mustPutState(t, s, st, rollout.RevisionNew)
	wantS := mustGetState(t, s, "web")
	getS := mustGetState(t, s, "web")
	for _, x := range []*rollout.State{&st, &putS, &getS} {
		x.Environments[0].Env["MUTATED"] = "yes"
		x.Environments[0].Template.Command[0] = "mutated"
		x.Production.Route.Weights["mutated"] = 1
		x.Production.Rollout.Steps[0].Weight = -1
		x.Production.Held.Key.Retry = -1
	}
	equal(t, "state", mustGetState(t, s, "web"), wantS)

	ev := fullEvent("web")
	appended, err := s.AppendEvents(ctx, "web", ev)
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	wantE := mustListEvents(t, s, "web", 0, 0)
	listed := mustListEvents(t, s, "web", 0, 0)
	for _, e := range []*rollout.Event{&ev, &appended[0], &listed[0]} {
		e.Details["mutated"] = "yes"
	}
	equal(t, "events", mustListEvents(t, s, "web", 0, 0), wantE)
}

// testConcurrentUpdates runs read-modify-write loops on one endpoint from
// several goroutines. Optimistic concurrency must make every increment that
// was acknowledged count exactly once: no lost update, no duplicate revision.
func testConcurrentUpdates(t *testing.T, s store.Store) {
	const workers, increments = 8, 10
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew,
		rollout.Event{Type: rollout.EventEndpointCreated, Message: "created"})

	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		revisions []int64
		conflicts int
		errs      []error
	)
	for range workers {
		wg.Go(func() {
			for done := 0; done < increments; {
				ep, err := s.GetEndpoint(ctx, "web")
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				ep.Traffic.Priority++
				put, err := s.PutEndpoint(ctx, ep, ep.Revision,
					rollout.Event{Type: rollout.EventEndpointUpdated, Message: fmt.Sprint(ep.Traffic.Priority)})
				mu.Lock()
				switch {
				case rollout.ErrorCode(err) == rollout.ECONFLICT:
					conflicts++
				case err != nil:
					errs = append(errs, err)
					mu.Unlock()
					return
				default:
					done++
					revisions = append(revisions, put.Revision)
					if put.Revision != ep.Revision+1 {
						errs = append(errs, fmt.Errorf("write over revision %d stored revision %d", ep.Revision, put.Revision))
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	const total = workers * increments
	got := mustGetEndpoint(t, s, "web")
	if got.Traffic.Priority != total {
		t.Errorf("counter = %d after %d acknowledged increments (%d conflicts): lost updates", got.Traffic.Priority, total, conflicts)
	}
	if got.Revision != total+1 {
		t.Errorf("revision = %d, want %d", got.Revision, total+1)
	}
	slices.Sort(revisions)
	for i, rev := range revisions {
		if rev != int64(i+2) {
			t.Fatalf("acknowledged revisions %v are not exactly 2..%d", revisions, total+1)
		}
	}
	if n := len(mustListEvents(t, s, "web", 0, 0)); n != total+1 {
		t.Errorf("%d events, want %d: one per acknowledged write", n, total+1)
	}
}

// testConcurrentAppends appends events and commands from several goroutines;
// sequences must come out unique and without gaps, and a batch of events
// must get consecutive numbers.
func testConcurrentAppends(t *testing.T, s store.Store) {
	const workers, batches = 8, 15
	ctx := t.Context()
	mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)

	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		eventSeqs  []int64
		commandSeq []int64
		errs       []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := range batches {
				batch := []rollout.Event{{Type: rollout.EventCommand, Message: fmt.Sprint(w, i)}}
				if i%3 == 0 {
					batch = append(batch, rollout.Event{Type: rollout.EventCommand, Message: fmt.Sprint(w, i, "b")})
				}
				es, err := s.AppendEvents(ctx, "web", batch...)
				c, cerr := s.AppendCommand(ctx, rollout.Command{Endpoint: "web", Kind: rollout.CommandPromote, Actor: fmt.Sprint(w)})
				mu.Lock()
				if err := errors.Join(err, cerr); err != nil {
					errs = append(errs, err)
				} else {
					if len(es) != len(batch) {
						errs = append(errs, fmt.Errorf("appended %d events, got %d back", len(batch), len(es)))
					}
					for j, e := range es {
						eventSeqs = append(eventSeqs, e.Seq)
						if e.Seq != es[0].Seq+int64(j) {
							errs = append(errs, fmt.Errorf("batch got seqs %v, want consecutive", seqs(es)))
						}
					}
					commandSeq = append(commandSeq, c.Seq)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}

	wantEvents := workers * (batches + (batches+2)/3)
	checkSequence(t, "event", eventSeqs, wantEvents)
	checkSequence(t, "command", commandSeq, workers*batches)
	if got := seqs(mustListEvents(t, s, "web", 0, 0)); len(got) != wantEvents || !slices.IsSorted(got) {
		t.Errorf("listed %d events (sorted: %t), want %d in order", len(got), slices.IsSorted(got), wantEvents)
	}
	if n := len(mustListCommands(t, s, "web", 0)); n != workers*batches {
		t.Errorf("listed %d commands, want %d", n, workers*batches)
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ep := mustPutEndpoint(t, s, rollout.Endpoint{Name: "web"}, rollout.RevisionNew)
	r := mustPutRelease(t, s, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "1"}, rollout.RevisionNew)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ev := rollout.Event{Type: rollout.EventCommand, Message: "canceled"}
	calls := map[string]func() error{
		"GetEndpoint":   func() error { _, err := s.GetEndpoint(ctx, "web"); return err },
		"ListEndpoints": func() error { _, err := s.ListEndpoints(ctx); return err },
		"PutEndpoint":   func() error { _, err := s.PutEndpoint(ctx, ep, rollout.RevisionAny, ev); return err },
		"DeleteEndpoint": func() error {
			return s.DeleteEndpoint(ctx, "web", rollout.RevisionAny, ev)
		},
		"GetRelease":   func() error { _, err := s.GetRelease(ctx, "web", rollout.Production); return err },
		"ListReleases": func() error { _, err := s.ListReleases(ctx, "web"); return err },
		"PutRelease":   func() error { _, err := s.PutRelease(ctx, r, rollout.RevisionAny, ev); return err },
		"DeleteRelease": func() error {
			return s.DeleteRelease(ctx, "web", rollout.Production, rollout.RevisionAny, ev)
		},
		"GetState": func() error { _, err := s.GetState(ctx, "web"); return err },
		"PutState": func() error {
			_, err := s.PutState(ctx, rollout.State{Endpoint: "web"}, rollout.RevisionAny, ev)
			return err
		},
		"AppendEvents":  func() error { _, err := s.AppendEvents(ctx, "web", ev); return err },
		"ListEvents":    func() error { _, err := s.ListEvents(ctx, "web", 0, 0); return err },
		"AppendCommand": func() error { _, err := s.AppendCommand(ctx, rollout.Command{Endpoint: "web"}); return err },
		"ListCommands":  func() error { _, err := s.ListCommands(ctx, "web", 0); return err },
		"ListSpecRevisions": func() error {
			_, err := s.ListSpecRevisions(ctx, "web", 0, 0, 0)
			return err
		},
		"DeleteSpecRevisions": func() error { return s.DeleteSpecRevisions(ctx, "web", 1) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v, want context.Canceled", name, err)
		}
	}

	equal(t, "endpoint", mustGetEndpoint(t, s, "web"), ep)
	equal(t, "release", mustGetRelease(t, s, "web", rollout.Production), r)
	if st := mustGetState(t, s, "web"); st.Revision != 0 {
		t.Errorf("state written with a canceled context: %+v", st)
	}
	if es := mustListEvents(t, s, "web", 0, 0); len(es) != 0 {
		t.Errorf("events appended with a canceled context: %+v", es)
	}
	if cmds := mustListCommands(t, s, "web", 0); len(cmds) != 0 {
		t.Errorf("commands appended with a canceled context: %+v", cmds)
	}
}
