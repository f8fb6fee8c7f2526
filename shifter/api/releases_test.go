package api_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func TestReleaseLifecycle(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	deployer := principalName("payments", wire.RoleDeploy)

	resp := f.do("PUT", "/v1/endpoints/web/releases/production", deployer,
		map[string]any{"version": "v1", "env": map[string]string{"FEATURE": "on"}}, "If-None-Match", "*")
	var v rollout.ReleaseView
	resp.must(t, http.StatusCreated, &v)
	if v.Release.Endpoint != "web" || v.Release.Track != rollout.Production || v.Release.Version != "v1" ||
		v.Release.Revision != 1 || resp.header.Get("ETag") != `"1"` {
		t.Errorf("created %+v, ETag %s", v.Release, resp.header.Get("ETag"))
	}
	if v.Status.State != rollout.StatePending {
		t.Errorf("status %q, want pending until the shifter acts", v.Status.State)
	}

	// A release read back may be sent again as it is.
	v.Release.Version = "v2"
	f.do("PUT", "/v1/endpoints/web/releases/production", deployer, v.Release, "If-Match", `"1"`).must(t, http.StatusOK, &v)
	if v.Release.Revision != 2 || v.Release.Version != "v2" || v.Release.Env["FEATURE"] != "on" {
		t.Errorf("updated %+v", v.Release)
	}
	f.do("PUT", "/v1/endpoints/web/releases/production", deployer, map[string]any{"version": "v3"}, "If-Match", `"1"`).
		apiError(t, http.StatusConflict, rollout.ECONFLICT)

	resp = f.do("GET", "/v1/endpoints/web/releases/production", principalName("payments", wire.RoleRead), nil)
	resp.must(t, http.StatusOK, &v)
	if v.Release.Version != "v2" || resp.header.Get("ETag") != `"2"` {
		t.Errorf("read %+v, ETag %s", v.Release, resp.header.Get("ETag"))
	}

	f.do("DELETE", "/v1/endpoints/web/releases/production", deployer, nil, "If-Match", `"2"`).must(t, http.StatusNoContent, nil)
	f.do("GET", "/v1/endpoints/web/releases/production", deployer, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	f.do("DELETE", "/v1/endpoints/web/releases/production", deployer, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)

	events := f.events("web")
	if got := eventTypes(events); !slices.Equal(got, []string{rollout.EventReleaseDeclared, rollout.EventReleaseDeclared, rollout.EventReleaseRemoved}) {
		t.Fatalf("events %v", got)
	}
	if e := events[1]; e.Track != rollout.Production || e.Version != "v2" || e.Actor != deployer ||
		e.Details["image"] != "registry.example.com/web:v2" {
		t.Errorf("declared event %+v", e)
	}
	if e := events[2]; e.Version != "v2" {
		t.Errorf("removed event %+v names no version", e)
	}
	if got := f.notified.list(); len(got) != 3 {
		t.Errorf("notified %v, want one per accepted write", got)
	}
}

func TestPreviewRelease(t *testing.T) {
	f := newFixture(t)
	f.seed(testEndpoint("web"), "")
	noPreview := testEndpoint("api")
	noPreview.Traffic.PreviewHost, noPreview.Traffic.PreviewPriority = "", 0
	f.seed(noPreview, "")

	f.do("PUT", "/v1/endpoints/web/releases/preview", root, map[string]any{"version": "v2"}).must(t, http.StatusCreated, nil)

	before := f.snapshot()
	e := f.do("PUT", "/v1/endpoints/api/releases/preview", root, map[string]any{"version": "v2"}).
		apiError(t, http.StatusBadRequest, rollout.EINVALID)
	if e.Field != "track" {
		t.Errorf("field %q, want track", e.Field)
	}
	f.assertUnchanged(before)
}

func TestReleaseOfMissingEndpoint(t *testing.T) {
	f := newFixture(t)
	f.do("PUT", "/v1/endpoints/nope/releases/production", root, map[string]any{"version": "v1"}).
		apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	f.do("GET", "/v1/endpoints/nope/releases/production", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
	f.do("DELETE", "/v1/endpoints/nope/releases/production", root, nil).apiError(t, http.StatusNotFound, rollout.ENOTFOUND)
}
