package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// TestProviderSchema serves the provider over protocol 6, as Terraform sees it, and checks that the framework
// accepts its schema and that the token is marked sensitive.
func TestProviderSchema(t *testing.T) {
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatalf("serving the provider: %v", err)
	}

	resp, err := server.GetProviderSchema(t.Context(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatalf("GetProviderSchema: %v", err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("GetProviderSchema diagnostic: %s: %s", d.Summary, d.Detail)
	}
	if resp.Provider == nil || resp.Provider.Block == nil {
		t.Fatal("GetProviderSchema returned no provider schema")
	}

	attrs := map[string]*tfprotov6.SchemaAttribute{}
	for _, a := range resp.Provider.Block.Attributes {
		attrs[a.Name] = a
	}
	for _, name := range []string{"address", "token"} {
		if attrs[name] == nil {
			t.Errorf("provider schema has no attribute %q", name)
		}
	}
	if a := attrs["token"]; a != nil && !a.Sensitive {
		t.Error("provider attribute token is not sensitive")
	}
}
