package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// BenchmarkTerraform measures terraform itself with this provider against a
// real shifter (in-process, on moto): `terraform apply` of 200 endpoints and
// their releases, then `terraform plan` of them, next to `terraform plan` of
// 200 terraform_data resources in the same run, terraform's own floor. The
// ratio is what the provider adds to a team's plan.
func BenchmarkTerraform(b *testing.B) {
	const n = 200
	if _, err := exec.LookPath("terraform"); err != nil {
		b.Fatal("terraform not on PATH")
	}
	// Production intervals: the plans are timed against a shifter at rest.
	s := startShifter(b, "5s", "60s")
	dir := b.TempDir()
	bin := filepath.Join(dir, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-ionroller"), "..")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(dir, "terraformrc")
	write(b, cliConfig, fmt.Sprintf(`provider_installation {
  dev_overrides { "registry.terraform.io/ionroller/ionroller" = %q }
  direct {}
}
disable_checkpoint = true
`, bin))

	ionroller := filepath.Join(dir, "ionroller")
	var cfg strings.Builder
	cfg.WriteString("terraform {\n  required_providers {\n    ionroller = { source = \"ionroller/ionroller\" }\n  }\n}\n")
	cfg.WriteString(providerConfig(s.url))
	for i := range n {
		name := fmt.Sprintf("bench-%03d", i)
		fmt.Fprintf(&cfg, `
resource "ionroller_endpoint" %[1]q {
  name                = %[1]q
  deletion_protection = false
  traffic  = { listener_arn = %[2]q, priority = %[3]d, hosts = ["%[1]s.example.com"] }
  template = { repository = "registry.example.com/%[1]s", container_port = 8080, ami = %[4]q, subnets = [%[5]s] }
  policy   = { steps = [{ weight = 100 }], bake_time = "0s" }
}
resource "ionroller_release" %[1]q {
  endpoint = ionroller_endpoint.%[1]s.name
  version  = "v1"
  wait_for = "none"
}
`, name, s.net.ListenerARN, i+1, s.net.AMI, quoted(s.net.Subnets))
	}
	write(b, filepath.Join(ionroller, "main.tf"), cfg.String())

	floor := filepath.Join(dir, "floor")
	cfg.Reset()
	for i := range n {
		fmt.Fprintf(&cfg, "resource \"terraform_data\" \"d%03d\" {\n  input = \"bench-%03d\"\n}\n", i, i)
	}
	write(b, filepath.Join(floor, "main.tf"), cfg.String())

	tf := func(wd string, args ...string) time.Duration {
		b.Helper()
		cmd := exec.Command("terraform", args...)
		cmd.Dir = wd
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), wd, err, out)
		}
		return time.Since(start)
	}
	apply := tf(ionroller, "apply", "-auto-approve", "-input=false")
	tf(floor, "apply", "-auto-approve", "-input=false")
	for i := range n {
		waitReleaseComplete(b, s, fmt.Sprintf("bench-%03d", i))
	}
	median := func(wd string) time.Duration {
		var ts []time.Duration
		for range 3 {
			ts = append(ts, tf(wd, "plan", "-input=false", "-detailed-exitcode"))
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		return ts[1]
	}
	b.ResetTimer()
	for range b.N {
		plan, floorPlan := median(ionroller), median(floor)
		b.ReportMetric(apply.Seconds(), "s-apply-200-releases")
		b.ReportMetric(plan.Seconds(), "s-plan")
		b.ReportMetric(floorPlan.Seconds(), "s-plan-terraform_data")
		b.ReportMetric(plan.Seconds()/floorPlan.Seconds(), "plan-ratio")
	}
}

// waitReleaseComplete waits until the release of endpoint name is complete.
func waitReleaseComplete(b *testing.B, s *testShifter, name string) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		v, err := s.client.GetRelease(b.Context(), name, rollout.Production)
		if err == nil && v.Status.State == string(rollout.PhaseComplete) {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("release of %s not complete: %+v, %v", name, v.Status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func write(b *testing.B, path, content string) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		b.Fatal(err)
	}
}
