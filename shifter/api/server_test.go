package api_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

func TestHealthAndReadiness(t *testing.T) {
	var notReady error
	var degraded []string
	f := newFixture(t, func(s *api.Server) {
		s.Ready = func() error { return notReady }
		s.Degraded = func() []string { return degraded }
	})

	for _, path := range []string{"/healthz", "/readyz"} {
		if resp := f.do("GET", path, "", nil); resp.status != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.status, resp.body)
		}
	}
	// Degraded is still ready: a load balancer must keep the API that
	// says what is wrong.
	degraded = []string{"aws_unreachable: 2 endpoints (api, web)", "store writes fail for 5s: disk full"}
	if resp := f.do("GET", "/readyz", "", nil); resp.status != http.StatusOK ||
		string(resp.body) != "ready, degraded:\n- aws_unreachable: 2 endpoints (api, web)\n- store writes fail for 5s: disk full\n" {
		t.Errorf("readyz while degraded: %d %q", resp.status, resp.body)
	}
	notReady = errors.New("store not open yet")
	resp := f.do("GET", "/readyz", "", nil)
	if resp.status != http.StatusServiceUnavailable || !strings.Contains(string(resp.body), "store not open yet") {
		t.Errorf("readyz while not ready: %d %s", resp.status, resp.body)
	}
	if resp := f.do("GET", "/healthz", "", nil); resp.status != http.StatusOK || string(resp.body) != "ok\n" {
		t.Errorf("healthz while not ready: %d %q", resp.status, resp.body)
	}
}

// brokenStore fails every endpoint read, as a store whose disk is gone does.
type brokenStore struct{ store.Store }

func (brokenStore) GetEndpoint(context.Context, string) (rollout.Endpoint, error) {
	return rollout.Endpoint{}, errors.New("read /var/lib/shifter/shifter.db: input/output error")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	f := newFixture(t, func(s *api.Server) { s.Store = brokenStore{s.Store} })

	e := f.do("GET", "/v1/endpoints/web", root, nil).apiError(t, http.StatusInternalServerError, rollout.EINTERNAL)
	if strings.Contains(e.Message, "shifter.db") {
		t.Errorf("the answer shows the cause: %q", e.Message)
	}
	if !strings.Contains(f.logs.String(), "input/output error") {
		t.Errorf("the cause was not logged:\n%s", f.logs.String())
	}
}

// TestWebUIIsServedBesideTheAPI: the UI answers its own paths without
// authentication (it holds no data; its API calls authenticate), and API
// paths it does not know stay API errors.
func TestWebUIIsServedBesideTheAPI(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/endpoints/web"} {
		resp := f.do("GET", path, "", nil)
		if resp.status != http.StatusOK || !strings.HasPrefix(resp.header.Get("Content-Type"), "text/html") {
			t.Errorf("GET %s = %d %s, want the UI's page", path, resp.status, resp.header.Get("Content-Type"))
		}
	}
	f.do("GET", "/v1/endpoints", "", nil).apiError(t, http.StatusUnauthorized, rollout.EUNAUTHORIZED)
	if resp := f.do("GET", "/v1/releases", root, nil); resp.status != http.StatusNotFound || strings.Contains(string(resp.body), "<html") {
		t.Errorf("GET /v1/releases = %d %s, want a 404 that is not the UI", resp.status, resp.body)
	}
}

// TestReplicasOfAStoreOneShifterOwns: on bbolt the shifter answering is
// the only replica, and holds no leases (the HA tests cover a shared store).
func TestReplicasOfAStoreOneShifterOwns(t *testing.T) {
	f := newFixture(t, func(s *api.Server) { s.Replica = "shifter-1-ab12cd" })
	var got wire.ReplicasView
	f.do("GET", "/v1/replicas", principalName("search", wire.RoleRead), nil).must(t, http.StatusOK, &got)
	want := wire.ReplicasView{Replica: "shifter-1-ab12cd", Replicas: []wire.ReplicaView{{ID: "shifter-1-ab12cd"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("replicas = %+v, want %+v", got, want)
	}
}
