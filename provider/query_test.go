package provider

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
)

// List resources need Terraform 1.14 (terraform114_test.go): these tests
// run `terraform query` and plan what it generates.

// TestAccQueryFilters: the list resources find the endpoints, and the
// releases declared on them, that their filters select, and no others.
func TestAccQueryFilters(t *testing.T) {
	s, tf := newTerraform114Test(t)
	web1, web2, api := s.seedEndpoint(t, "web", 10), s.seedEndpoint(t, "web", 11), s.seedEndpoint(t, "api", 12)
	s.seedRelease(t, web1)
	s.seedRelease(t, api)

	dir := tf.workdir(t, map[string]string{
		"main.tf": requiredProvider + providerConfig(s.url),
		"find.tfquery.hcl": listBlock("ionroller_endpoint", "web", `team = "web"`) +
			listBlock("ionroller_endpoint", "prefixed", fmt.Sprintf("name_prefix = %q", api)) +
			listBlock("ionroller_release", "web", `team = "web"`) +
			listBlock("ionroller_release", "preview", `track = "preview"`),
	})
	out, err := tf.run(t, dir, []string{"query"})
	if err != nil {
		t.Fatalf("terraform query failed: %v\n%s", err, out)
	}
	found := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		// Each result is a line: the list's address, the identity, the display name.
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "list.") {
			found[f[0]] = append(found[f[0]], f[len(f)-1])
		}
	}
	want := map[string][]string{
		"list.ionroller_endpoint.web":      {web1, web2},
		"list.ionroller_endpoint.prefixed": {api},
		"list.ionroller_release.web":       {web1 + "/production"},
	}
	for list, names := range want {
		if strings.Join(found[list], " ") != strings.Join(names, " ") && strings.Join(found[list], " ") != strings.Join(reverse(names), " ") {
			t.Errorf("%s found %q, want %q", list, found[list], names)
		}
	}
	if got := found["list.ionroller_release.preview"]; len(got) != 0 {
		t.Errorf("no preview release is declared, but the preview list found %q", got)
	}
	if t.Failed() {
		t.Logf("terraform query:\n%s", out)
	}
}

// TestAccQueryGenerateConfig: the configuration `terraform query
// -generate-config-out` writes for a team's endpoints (one on each backend)
// and releases imports them, and a plan of it changes nothing.
func TestAccQueryGenerateConfig(t *testing.T) {
	s, tf := newTerraform114Test(t)
	web := s.seedEndpoint(t, "web", 10)
	s.seedRelease(t, web)
	s.seedEndpoint(t, "api", 11)
	onECS := s.seedEndpointWith(t, "web", 12, runOnECS)

	dir := tf.workdir(t, map[string]string{
		"main.tf": requiredProvider + providerConfig(s.url),
		"adopt.tfquery.hcl": listBlock("ionroller_endpoint", "web", `team = "web"`) +
			listBlock("ionroller_release", "web", `team = "web"`),
	})
	out, err := tf.run(t, dir, []string{"query", "-generate-config-out=generated.tf"})
	if err != nil {
		t.Fatalf("terraform query failed: %v\n%s", err, out)
	}
	generated, err := os.ReadFile(filepath.Join(dir, "generated.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`(?s)import \{.*identity = \{.*name = "` + web + `"`,
		`(?s)import \{.*identity = \{.*name = "` + onECS + `"`,
		`cluster += "` + awstest.Cluster + `"`,
		`(?s)import \{.*identity = \{.*endpoint = "` + web + `".*track += "production"`,
		`resource "ionroller_endpoint" "\S+" \{`,
		`resource "ionroller_release" "\S+" \{`,
	} {
		if !regexp.MustCompile(want).Match(generated) {
			t.Errorf("the generated configuration does not match %s:\n%s", want, generated)
		}
	}
	expectImportsOnly(t, tf, dir, "ionroller_endpoint", "ionroller_release")
}

// TestAccImportByIdentity: an import block naming an endpoint and a release
// by their identities plans their import, and the configuration Terraform
// generates for them plans no change.
func TestAccImportByIdentity(t *testing.T) {
	s, tf := newTerraform114Test(t)
	name := s.seedEndpoint(t, "web", 10)
	s.seedRelease(t, name)

	dir := tf.workdir(t, map[string]string{
		"main.tf": requiredProvider + providerConfig(s.url) + fmt.Sprintf(`
import {
  to       = ionroller_endpoint.adopted
  identity = { name = %[1]q }
}

import {
  to       = ionroller_release.adopted
  identity = { endpoint = %[1]q, track = "production" }
}
`, name),
	})
	if out, err := tf.run(t, dir, []string{"plan", "-input=false", "-generate-config-out=generated.tf"}); err != nil {
		t.Fatalf("terraform plan failed: %v\n%s", err, out)
	}
	expectImportsOnly(t, tf, dir, "ionroller_endpoint", "ionroller_release")
}

// expectImportsOnly plans the configuration in dir and checks it imports a
// resource of each type given, and that every change is an import with no
// other change.
func expectImportsOnly(t *testing.T, tf *terraform114, dir string, types ...string) {
	t.Helper()
	out, err := tf.run(t, dir, []string{"plan", "-input=false", "-out=plan.out"}, []string{"show", "-json", "plan.out"})
	if err != nil {
		t.Fatalf("terraform plan failed: %v\n%s", err, out)
	}
	var plan struct {
		ResourceChanges []struct {
			Address string `json:"address"`
			Type    string `json:"type"`
			Change  struct {
				Actions   []string        `json:"actions"`
				Importing json.RawMessage `json:"importing"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	// The JSON plan is the last line `terraform show -json` wrote.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &plan); err != nil {
		t.Fatalf("terraform show -json: %v\n%s", err, out)
	}
	imported := map[string]bool{}
	for _, rc := range plan.ResourceChanges {
		if strings.Join(rc.Change.Actions, ",") != "no-op" || len(rc.Change.Importing) == 0 {
			t.Errorf("%s: actions %v, importing %s; want an import with no change", rc.Address, rc.Change.Actions, rc.Change.Importing)
		}
		imported[rc.Type] = true
	}
	for _, typ := range types {
		if !imported[typ] {
			t.Errorf("the plan imports no %s", typ)
		}
	}
	if t.Failed() {
		t.Logf("terraform plan:\n%s", out)
	}
}

// listBlock is a list block of type named name with the config body given.
func listBlock(typ, name, body string) string {
	return fmt.Sprintf("list %q %q {\n  provider = ionroller\n  config {\n    %s\n  }\n}\n", typ, name, body)
}

// reverse returns s in reverse order.
func reverse(s []string) []string {
	r := make([]string, len(s))
	for i, v := range s {
		r[len(s)-1-i] = v
	}
	return r
}
