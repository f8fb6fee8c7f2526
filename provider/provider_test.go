package provider

import (
	"maps"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestProviderSchema serves the provider over protocol 6, as Terraform sees it, and checks that the framework
// accepts every schema and that secrets are marked sensitive.
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
	for _, name := range []string{"address", "token", "workload_identity_tag", "ca_bundle", "ca_file", "request_timeout"} {
		if attrs[name] == nil {
			t.Errorf("provider schema has no attribute %q", name)
		}
	}
	if a := attrs["token"]; a != nil && !a.Sensitive {
		t.Error("provider attribute token is not sensitive")
	}
	for _, name := range []string{"ionroller_endpoint", "ionroller_release"} {
		if resp.ResourceSchemas[name] == nil {
			t.Errorf("no resource %s", name)
		}
	}
	for _, name := range []string{"ionroller_endpoint", "ionroller_endpoints", "ionroller_shifter_iam_policy"} {
		if resp.DataSourceSchemas[name] == nil {
			t.Errorf("no data source %s", name)
		}
	}
}

// TestConfigure: the provider builds its client from the block or the
// environment, and says which setting is wrong when it cannot.
func TestConfigure(t *testing.T) {
	t.Setenv(addressEnv, "")
	t.Setenv(tokenEnv, "")
	str := func(s string) tftypes.Value { return tftypes.NewValue(tftypes.String, s) }
	for _, tc := range []struct {
		name    string
		env     string
		config  map[string]tftypes.Value
		summary string // "" when the client is built
		path    string
	}{
		{"address", "", map[string]tftypes.Value{"address": str("http://127.0.0.1:7070")}, "", ""},
		{"address from the environment", "https://shifter.example.com", nil, "", ""},
		{"every setting", "", map[string]tftypes.Value{"address": str("https://shifter.example.com"), "token": str("secret"), "request_timeout": str("5s")}, "", ""},
		{"not a URL", "", map[string]tftypes.Value{"address": str("shifter:7070")}, "Invalid Shifter Address", "address"},
		{"not a URL in the environment", "ftp://shifter", nil, "Invalid Shifter Address", "address"},
		{"unknown address", "", map[string]tftypes.Value{"address": tftypes.NewValue(tftypes.String, tftypes.UnknownValue)}, "Unknown Provider Setting", "address"},
		{"CA bundle without a certificate", "", map[string]tftypes.Value{"address": str("https://x"), "ca_bundle": str("not PEM")}, "Invalid CA Bundle", "ca_bundle"},
		{"missing CA file", "", map[string]tftypes.Value{"address": str("https://x"), "ca_file": str(t.TempDir() + "/ca.pem")}, "Unreadable CA File", "ca_file"},
		// The untagged token is left out of the environment below: a tag
		// never falls back to it.
		{"workload identity tag without its token", "", map[string]tftypes.Value{"address": str("https://x"), "workload_identity_tag": str("IONROLLER")}, "No Workload Identity Token", "workload_identity_tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(addressEnv, tc.env)
			t.Setenv(workloadIdentityEnv, "a-token-of-another-audience")
			t.Setenv(workloadIdentityEnv+"_IONROLLER", "")
			resp := configure(t, tc.config)
			if tc.summary == "" {
				failOn(t, resp.Diagnostics)
				var diags diag.Diagnostics
				if c := clientFrom(resp.ResourceData, &diags); c == nil || diags.HasError() {
					t.Errorf("resource data %T gives client %v and %v, want a client", resp.ResourceData, c, diags)
				}
				return
			}
			if len(resp.Diagnostics) != 1 {
				t.Fatalf("diagnostics = %v, want one %q", resp.Diagnostics, tc.summary)
			}
			d, ok := resp.Diagnostics[0].(diag.DiagnosticWithPath)
			if !ok || d.Summary() != tc.summary || !d.Path().Equal(path.Root(tc.path)) {
				t.Errorf("diagnostic = %v, want %q at %s", resp.Diagnostics[0], tc.summary, tc.path)
			}
		})
	}
}

// TestConfigureWithoutAddress: a provider without an address configures,
// so that ionroller_shifter_iam_policy works; whatever needs the shifter
// fails saying the address is missing.
func TestConfigureWithoutAddress(t *testing.T) {
	t.Setenv(addressEnv, "")
	resp := configure(t, nil)
	failOn(t, resp.Diagnostics)
	for name, data := range map[string]any{"resources": resp.ResourceData, "data sources": resp.DataSourceData} {
		var diags diag.Diagnostics
		if c := clientFrom(data, &diags); c != nil || len(diags) != 1 || diags[0].Summary() != "Missing Shifter Address" {
			t.Errorf("%s get client %v and %v, want none and Missing Shifter Address", name, c, diags)
		}
	}
}

// configure runs the provider's Configure with the given settings (the
// others null).
func configure(t *testing.T, settings map[string]tftypes.Value) provider.ConfigureResponse {
	t.Helper()
	ctx := t.Context()
	p := New("test")()
	var s provider.SchemaResponse
	p.Schema(ctx, provider.SchemaRequest{}, &s)
	failOn(t, s.Diagnostics)
	typ, ok := s.Schema.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		t.Fatal("the provider schema is not an object")
	}
	values := map[string]tftypes.Value{}
	for name, at := range typ.AttributeTypes {
		values[name] = tftypes.NewValue(at, nil)
	}
	maps.Copy(values, settings)
	var resp provider.ConfigureResponse
	p.Configure(ctx, provider.ConfigureRequest{Config: tfsdk.Config{Schema: s.Schema, Raw: tftypes.NewValue(typ, values)}}, &resp)
	return resp
}
