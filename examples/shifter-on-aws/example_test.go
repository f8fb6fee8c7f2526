// Package shifteronaws is the example that runs the shifter on AWS (*.tf, README.md). Its test validates the
// configuration with terraform offline: the ionroller provider built from this repository, hashicorp/aws from the
// machine's local provider mirror.
package shifteronaws

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// awsProviderMirror is a filesystem mirror holding registry.terraform.io/hashicorp/aws (the build machines have
// one at /opt/tf-plugins; the registry itself cannot be reached).
func awsProviderMirror() string {
	if dir := os.Getenv("IONROLLER_AWS_PROVIDER_MIRROR"); dir != "" {
		return dir
	}
	return "/opt/tf-plugins"
}

// TestExampleValidates runs terraform init -backend=false and terraform validate on a copy of the example.
func TestExampleValidates(t *testing.T) {
	mirror := awsProviderMirror()
	if _, err := os.Stat(filepath.Join(mirror, "registry.terraform.io", "hashicorp", "aws")); err != nil {
		t.Skipf("no hashicorp/aws provider in the mirror %s (set IONROLLER_AWS_PROVIDER_MIRROR): terraform validate needs its schema", mirror)
	}
	work := t.TempDir()
	const version = "0.0.1"
	ionrollerMirror := filepath.Join(work, "mirror")
	provider := filepath.Join(ionrollerMirror, "registry.terraform.io", "ionroller", "ionroller", version, "linux_amd64", "terraform-provider-ionroller_v"+version)
	run(t, "../..", "go", "build", "-o", provider, ".")

	cliConfig := filepath.Join(work, "terraformrc")
	writeFile(t, cliConfig, `disable_checkpoint = true
provider_installation {
  filesystem_mirror {
    path    = "`+ionrollerMirror+`"
    include = ["registry.terraform.io/ionroller/ionroller"]
  }
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/ionroller/ionroller", "registry.terraform.io/hashicorp/aws"]
  }
}
`)
	t.Setenv("TF_CLI_CONFIG_FILE", cliConfig)
	t.Setenv("CHECKPOINT_DISABLE", "1")

	example := filepath.Join(work, "example")
	files, err := filepath.Glob("*.tf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .tf files in the example (%v)", err)
	}
	for _, name := range files {
		content, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(example, name), string(content))
	}
	run(t, example, "terraform", "init", "-backend=false", "-input=false", "-no-color")
	if out := run(t, example, "terraform", "validate", "-no-color"); !strings.Contains(out, "The configuration is valid.") {
		t.Errorf("terraform validate did not say the configuration is valid:\n%s", out)
	}
}

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
