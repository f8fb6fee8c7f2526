package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// BenchmarkTerraform measures terraform itself with this provider against a
// real shifter (in-process, on moto): `terraform apply` of 200 endpoints and
// their releases, then `terraform plan` of them, next to `terraform plan` of
// 200 terraform_data resources in the same run, terraform's own floor. The
// ratio is what the provider adds to a team's plan.
func BenchmarkTerraform(b *testing.B) {
	const n = 200
	// Production intervals: the plans are timed against a shifter at rest.
	s := startShifter(b, "5s", "60s")
	tf, dir := terraformRunner(b)
	ionroller := filepath.Join(dir, "ionroller")
	var cfg strings.Builder
	cfg.WriteString(requiredProvider)
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

	apply := tf(ionroller, "apply", "-auto-approve", "-input=false")
	tf(floor, "apply", "-auto-approve", "-input=false")
	for i := range n {
		waitReleaseComplete(b, s, fmt.Sprintf("bench-%03d", i))
	}
	plan := func(wd string) time.Duration {
		var ts []time.Duration
		for range 3 {
			ts = append(ts, tf(wd, "plan", "-input=false", "-detailed-exitcode"))
		}
		return benchtest.Percentile(ts, 50)
	}
	b.ResetTimer()
	for range b.N {
		plan, floorPlan := plan(ionroller), plan(floor)
		b.ReportMetric(apply.Seconds(), "s-apply-200-releases")
		b.ReportMetric(plan.Seconds(), "s-plan")
		b.ReportMetric(floorPlan.Seconds(), "s-plan-terraform_data")
		b.ReportMetric(plan.Seconds()/floorPlan.Seconds(), "plan-ratio")
	}
}

// BenchmarkTerraformRollback measures rolling back by reverting a commit:
// `terraform apply` of the previous version of a release whose environment
// is still hot, against a real shifter on moto. It reports the time from
// terraform starting to the ModifyRule that puts 100% back being done, how
// long the apply takes, the ELBv2 writes per revert, and next to it, in the
// same run, `terraform apply` of a terraform_data change: terraform's own
// floor.
func BenchmarkTerraformRollback(b *testing.B) {
	awsCfg := awstest.Config(b)
	clock, calls := awstest.NewClock("ModifyRule"), awstest.NewCounter()
	clock.Add(&awsCfg)
	calls.Add(&awsCfg)
	s := startShifterOn(b, awsCfg, "50ms", "30s")
	tf, dir := terraformRunner(b)

	ionroller, floor := filepath.Join(dir, "ionroller"), filepath.Join(dir, "floor")
	variable := "variable \"release\" {\n  type = string\n}\n"
	write(b, filepath.Join(ionroller, "main.tf"), requiredProvider+variable+providerConfig(s.url)+
		endpointConfig("bench", s.net, oneStep, "24h")+
		"resource \"ionroller_release\" \"test\" {\n  endpoint = ionroller_endpoint.test.name\n  version  = var.release\n}\n")
	write(b, filepath.Join(floor, "main.tf"), variable+"resource \"terraform_data\" \"release\" {\n  input = var.release\n}\n")
	apply := func(wd, version string) time.Duration {
		return tf(wd, "apply", "-auto-approve", "-input=false", "-var", "release="+version)
	}
	for _, v := range []string{"v1", "v2"} {
		apply(ionroller, v)
		waitReleaseComplete(b, s, "bench")
	}

	var toWrite, applies, floors []time.Duration
	writes := 0
	b.ResetTimer()
	for i := range b.N {
		version := []string{"v1", "v2"}[i%2]
		before, elbBefore := clock.Count(), calls.Writes("ELBv2")
		start := time.Now()
		applies = append(applies, apply(ionroller, version))
		done, ok := clock.After(before, 30*time.Second)
		if !ok {
			b.Fatalf("no ModifyRule after the revert to %s", version)
		}
		toWrite = append(toWrite, done.Sub(start))
		b.StopTimer()
		waitReleaseComplete(b, s, "bench")
		writes += calls.Writes("ELBv2") - elbBefore
		floors = append(floors, apply(floor, version))
		b.StartTimer()
	}
	b.StopTimer()
	applyTime, floorTime := benchtest.Percentile(applies, 50), benchtest.Percentile(floors, 50)
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(toWrite, 50)), "ms-apply-start-to-write")
	b.ReportMetric(benchtest.Ms(applyTime), "ms-apply")
	b.ReportMetric(benchtest.Ms(floorTime), "ms-apply-terraform_data")
	b.ReportMetric(float64(applyTime)/float64(floorTime), "apply-ratio")
	b.ReportMetric(float64(writes)/float64(b.N), "elb-writes/op")
}

// requiredProvider names the provider terraformRunner installs.
const requiredProvider = "terraform {\n  required_providers {\n    ionroller = { source = \"ionroller/ionroller\" }\n  }\n}\n"

// terraformRunner builds the provider into a temporary directory and
// returns that directory and a function that runs terraform with the
// provider in dir wd and says how long it took.
func terraformRunner(b *testing.B) (tf func(wd string, args ...string) time.Duration, dir string) {
	b.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		b.Fatal("terraform not on PATH")
	}
	dir = b.TempDir()
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
	return func(wd string, args ...string) time.Duration {
		b.Helper()
		cmd := exec.Command("terraform", args...)
		cmd.Dir = wd
		cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), wd, err, out)
		}
		return time.Since(start)
	}, dir
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
