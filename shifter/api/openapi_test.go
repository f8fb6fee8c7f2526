package api_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/api/openapitest"
)

// TestMain runs the package's tests, every exchange of which is checked
// against the OpenAPI description (newFixture), and then fails unless they
// exercised every described operation with a successful answer: an
// operation no test calls is an operation nothing keeps true.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" {
		code = checkEveryOperationExercised()
	}
	os.Exit(code)
}

func checkEveryOperationExercised() int {
	d, err := openapitest.Parse()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	succeeded := map[string]bool{}
	total := 0
	for e, n := range openapitest.Checked() {
		total += n
		if e.Status < http.StatusBadRequest {
			succeeded[e.Method+" "+e.Route] = true
		}
	}
	code := 0
	for _, op := range d.Operations() {
		if !succeeded[op] {
			fmt.Fprintf(os.Stderr, "openapi: no test of shifter/api calls %s successfully, so nothing checks its description\n", op)
			code = 1
		}
	}
	if testing.Verbose() {
		fmt.Printf("openapi: %d exchanges checked against %d operations\n", total, len(d.Operations()))
	}
	return code
}

// TestOpenAPIDescribesEveryRoute: the description has an operation for
// every /v1 route the server registers, and no other.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	routes := api.V1Routes(&api.Server{})
	described := openapitest.Load(t).Operations()
	for _, r := range routes {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, op := range described {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.json describes %s, which the server does not route", op)
		}
	}
}

// TestOpenAPIIsServedWithoutAToken: clients read the description before
// they hold a token, and it tells nothing of any tenant.
func TestOpenAPIIsServedWithoutAToken(t *testing.T) {
	f := newFixture(t)
	resp := f.do("GET", "/v1/openapi.json", "", nil)
	resp.must(t, http.StatusOK, nil)
	if ct := resp.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(resp.body, api.OpenAPI()) {
		t.Errorf("served %d bytes that are not openapi.json", len(resp.body))
	}
}
