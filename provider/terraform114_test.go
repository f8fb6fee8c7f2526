package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
)

// Actions and list resources need Terraform 1.14, which
// terraform-plugin-testing (v1.16) can run neither `apply -invoke` nor
// `query` of: their tests run the binary that terraform114Env names
// (`make test` builds it with tools/terraform114.sh) against this provider
// served in-process, as terraform-plugin-testing serves it, and a shifter
// on moto.

// terraform114Env names a terraform of version 1.14 or later.
const terraform114Env = "IONROLLER_TERRAFORM_114"

// newTerraform114Test returns a shifter and terraform 1.14 driving this provider.
func newTerraform114Test(t *testing.T) (*testShifter, *terraform114) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1") // as terraform-plugin-testing does
	}
	bin := os.Getenv(terraform114Env)
	if bin == "" {
		t.Fatalf("%s must name terraform 1.14 or later (`make terraform114` builds it; `make test` sets it)", terraform114Env)
	}
	t.Parallel()
	return newTestShifter(t), newTerraform114(t, bin)
}

// terraform114 runs terraform 1.14 against this provider, served in-process
// for the whole test.
type terraform114 struct {
	bin string
	env []string
}

func newTerraform114(t *testing.T, bin string) *terraform114 {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	reattach, closed := make(chan *plugin.ReattachConfig), make(chan struct{})
	go func() {
		err := tf6server.Serve(providerAddress, func() tfprotov6.ProviderServer { return providerserver.NewProtocol6(New("test")())() },
			tf6server.WithDebug(ctx, reattach, closed), tf6server.WithGoPluginLogger(hclog.NewNullLogger()), tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serve the provider: %v", err)
		}
	}()
	var config *plugin.ReattachConfig
	select {
	case config = <-reattach:
	case <-time.After(10 * time.Second):
		t.Fatal("the provider server never said where it listens")
	}
	t.Cleanup(func() { cancel(); <-closed })
	providers, err := json.Marshal(map[string]any{providerAddress: map[string]any{
		"Protocol": config.Protocol, "ProtocolVersion": config.ProtocolVersion, "Pid": config.Pid, "Test": true,
		"Addr": map[string]string{"Network": config.Addr.Network(), "String": config.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(t.TempDir(), "terraformrc")
	if err := os.WriteFile(cliConfig, []byte("disable_checkpoint = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &terraform114{bin: bin, env: append(os.Environ(), "TF_REATTACH_PROVIDERS="+string(providers),
		"TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")}
}

// providerAddress is the provider's source address.
const providerAddress = "registry.terraform.io/ionroller/ionroller"

// workdir writes files (name → content) into a new directory and returns it.
func (tf *terraform114) workdir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// run runs `terraform init` in dir, then each command given (with
// -no-color added), stopping at the first that fails. It returns their
// output, and the error of the one that failed.
func (tf *terraform114) run(t *testing.T, dir string, commands ...[]string) (string, error) {
	t.Helper()
	var out strings.Builder
	for _, args := range append([][]string{{"init", "-input=false"}}, commands...) {
		cmd := exec.CommandContext(t.Context(), tf.bin, append(args, "-no-color")...)
		cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, tf.env, &out, &out
		if err := cmd.Run(); err != nil {
			return out.String(), fmt.Errorf("terraform %s: %w", args[0], err)
		}
	}
	return out.String(), nil
}
