package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// changeStrings returns the changes as people read them.
func changeStrings(cs []rollout.Change) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.String())
	}
	return out
}

func revisionNumbers(revs []wire.SpecRevisionView) []int64 {
	out := []int64{}
	for _, r := range revs {
		out = append(out, r.Revision)
	}
	return out
}

// TestSpecHistory writes an endpoint three times through the API and reads
// its history back: who wrote each revision, what it replaced, what changed,
// and the same changes in the trail's endpoint.updated.
func TestSpecHistory(t *testing.T) {
	f := newFixture(t)
	admin := principalName("payments", wire.RoleAdmin)
	ep := testEndpoint("web")
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, nil)
	ep.Template.InstanceType = "t3.small"
	ep.Template.Env = map[string]string{"LOG_LEVEL": "debug"}
	f.do("PUT", "/v1/endpoints/web", admin, ep).must(t, http.StatusOK, nil)
	ep.Policy.BakeTime = rollout.Duration(600e9)
	f.do("PUT", "/v1/endpoints/web", admin, ep).must(t, http.StatusOK, nil)

	var page wire.SpecRevisionPage
	f.do("GET", "/v1/endpoints/web/revisions", principalName("payments", wire.RoleRead), nil).must(t, http.StatusOK, &page)
	if got := revisionNumbers(page.Revisions); !slices.Equal(got, []int64{1, 2, 3}) || page.Next != 0 {
		t.Fatalf("revisions %v next %d, want 1, 2, 3 and no next page", got, page.Next)
	}
	second := page.Revisions[1]
	if second.Actor != admin || second.Replaces != 1 || second.Against != 1 || second.Spec.Template.InstanceType != "t3.small" || !second.Time.Equal(second.Spec.UpdatedAt) {
		t.Errorf("revision 2 = %+v, want written by %s over revision 1 with t3.small", second.SpecRevision, admin)
	}
	wantSecond := []string{`template.env.LOG_LEVEL: (unset) → "debug"`, `template.instance_type: "t3.micro" → "t3.small"`}
	if got := changeStrings(second.Changes); !slices.Equal(got, wantSecond) {
		t.Errorf("changes of revision 2 = %q, want %q", got, wantSecond)
	}
	if first := page.Revisions[0]; first.Actor != root || first.Replaces != 0 || first.Against != 0 || first.Changes != nil {
		t.Errorf("revision 1 = %+v, want the creation by %s with nothing to compare with", first, root)
	}

	// The trail says the same as the history.
	var updated []rollout.Event
	for _, e := range f.events("web") {
		if e.Type == rollout.EventEndpointUpdated {
			updated = append(updated, e)
		}
	}
	if len(updated) != 2 || !slices.Equal(changeStrings(updated[0].Changes), wantSecond) ||
		!slices.Equal(changeStrings(updated[1].Changes), []string{`policy.bake_time: "5m0s" → "10m0s"`}) {
		t.Errorf("endpoint.updated events %+v, want the changes of revisions 2 and 3", updated)
	}

	// Any two revisions compare.
	var diff wire.SpecRevisionView
	f.do("GET", "/v1/endpoints/web/revisions/3?against=1", root, nil).must(t, http.StatusOK, &diff)
	want := []string{`policy.bake_time: "5m0s" → "10m0s"`, `template.env.LOG_LEVEL: (unset) → "debug"`, `template.instance_type: "t3.micro" → "t3.small"`}
	if got := changeStrings(diff.Changes); diff.Against != 1 || !slices.Equal(got, want) {
		t.Errorf("3 against 1: against %d, changes %q; want 1, %q", diff.Against, got, want)
	}
	f.do("GET", "/v1/endpoints/web/revisions/1?against=3", root, nil).must(t, http.StatusOK, &diff)
	if len(diff.Changes) != 3 || string(diff.Changes[0].New) != `"5m0s"` {
		t.Errorf("1 against 3: %q, want the same changes the other way", changeStrings(diff.Changes))
	}

	if e := f.do("GET", "/v1/endpoints/web/revisions/4", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND); e.Field != "revision" {
		t.Errorf("a revision never written: field %q, want revision", e.Field)
	}
	if e := f.do("GET", "/v1/endpoints/web/revisions/2?against=9", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND); e.Field != "against" {
		t.Errorf("against a revision never written: field %q, want against", e.Field)
	}
	f.do("GET", "/v1/endpoints/web/revisions/zero", root, nil).apiError(t, http.StatusBadRequest, rollout.EINVALID)
	f.do("GET", "/v1/endpoints/gone/revisions", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

// TestSpecHistoryPages reads the history a page at a time, and a range.
func TestSpecHistoryPages(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	for i := range 5 {
		ep.Template.DesiredCapacity = i + 1
		ep.Template.MaxSize = i + 2
		f.do("PUT", "/v1/endpoints/web", root, ep).must(t, []int{http.StatusCreated, http.StatusOK}[min(i, 1)], nil)
	}
	var got []int64
	path := "/v1/endpoints/web/revisions?limit=2&from=1"
	for pages := 0; ; pages++ {
		var page wire.SpecRevisionPage
		f.do("GET", path, root, nil).must(t, http.StatusOK, &page)
		got = append(got, revisionNumbers(page.Revisions)...)
		// Every revision of a page is compared with the one it replaced,
		// the first of a page too.
		for _, r := range page.Revisions {
			if r.Revision > 1 && (r.Against != r.Replaces || len(r.Changes) != 2) {
				t.Errorf("revision %d against %d: %q", r.Revision, r.Against, changeStrings(r.Changes))
			}
		}
		if page.Next == 0 || pages > 5 {
			break
		}
		path = "/v1/endpoints/web/revisions?limit=2&from=" + jsonNumber(page.Next)
	}
	if !slices.Equal(got, []int64{1, 2, 3, 4, 5}) {
		t.Errorf("paged revisions %v, want 1 to 5", got)
	}
	var page wire.SpecRevisionPage
	f.do("GET", "/v1/endpoints/web/revisions?from=2&to=3", root, nil).must(t, http.StatusOK, &page)
	if got := revisionNumbers(page.Revisions); !slices.Equal(got, []int64{2, 3}) || page.Next != 0 {
		t.Errorf("from 2 to 3: %v next %d", got, page.Next)
	}
	f.do("GET", "/v1/endpoints/web/revisions?limit=1001", root, nil).apiError(t, http.StatusBadRequest, rollout.EINVALID)
}

// TestSpecHistoryOfAnotherTeam: an endpoint a global admin moved from team
// search to payments shows payments only the revisions that were its own;
// what the endpoint was under search is not compared with either.
func TestSpecHistoryOfAnotherTeam(t *testing.T) {
	f := newFixture(t)
	ep := testEndpoint("web")
	ep.Team = "search"
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusCreated, nil)
	ep.Team = "payments"
	f.do("PUT", "/v1/endpoints/web", root, ep).must(t, http.StatusOK, nil)

	reader := principalName("payments", wire.RoleRead)
	var page wire.SpecRevisionPage
	f.do("GET", "/v1/endpoints/web/revisions", reader, nil).must(t, http.StatusOK, &page)
	if got := revisionNumbers(page.Revisions); !slices.Equal(got, []int64{2}) || page.Revisions[0].Changes != nil {
		t.Errorf("payments sees revisions %v with changes %q; want only 2, compared with nothing", got, changeStrings(page.Revisions[0].Changes))
	}
	f.do("GET", "/v1/endpoints/web/revisions/1", reader, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	f.do("GET", "/v1/endpoints/web/revisions/2?against=1", reader, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	f.do("GET", "/v1/endpoints/web/revisions", principalName("search", wire.RoleRead), nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}

func jsonNumber(n int64) string {
	data, _ := json.Marshal(n)
	return string(data)
}
