package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/benchtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Targets of the Terraform benchmarks: what the provider may cost next to
// the floor (testdata/floor), a provider of the same schemas whose resources
// do nothing, on the same configuration and state in the same run.
const (
	// planTarget bounds `terraform plan` of endpoints and releases at rest.
	planTarget = 1.2
	// rollbackApplyTarget bounds `terraform apply` of a rollback.
	rollbackApplyTarget = 1.5
	// pairs is how many times each plan runs: the provider's and the
	// floor's in turn, so that both see the machine as it is.
	pairs = 7
)

// BenchmarkTerraform measures terraform itself with this provider against a
// real shifter (in-process, on moto): `terraform apply` of 200 endpoints and
// their releases (TERRAFORM_ENDPOINTS=N for another size), then `terraform
// plan` of them at rest, next to `terraform plan` of the same configuration
// and state with the floor provider (testdata/floor) in the same run: the
// ratio is what the provider's code adds to a team's plan, and the
// benchmark fails above planTarget. `terraform plan` of as many
// terraform_data resources is terraform's own floor, without a plugin.
func BenchmarkTerraform(b *testing.B) {
	n := benchtest.Sizes(b, "TERRAFORM_ENDPOINTS", 200)[0]
	// Production intervals: the plans are timed against a shifter at rest.
	s := startShifter(b, "5s", "60s")
	tf := newTerraformBench(b)
	ionroller := filepath.Join(tf.dir, "ionroller")
	var cfg strings.Builder
	cfg.WriteString(requiredProvider)
	cfg.WriteString(providerConfig(s.url))
	var names []string
	for i := range n {
		name := fmt.Sprintf("bench-%03d", i)
		names = append(names, name)
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

	data := filepath.Join(tf.dir, "terraform_data")
	cfg.Reset()
	for i := range n {
		fmt.Fprintf(&cfg, "resource \"terraform_data\" \"d%03d\" {\n  input = \"bench-%03d\"\n}\n", i, i)
	}
	write(b, filepath.Join(data, "main.tf"), cfg.String())

	apply := tf.provider(ionroller, "apply", "-auto-approve", "-input=false")
	tf.terraform(data, "apply", "-auto-approve", "-input=false")
	// The shifter builds the endpoints within AWS's request budgets for one
	// account: minutes, at 200.
	settled := time.Now()
	waitReleasesComplete(b, s, settled.Add(30*time.Minute), names...)
	b.Logf("%d releases complete %s after the apply", n, time.Since(settled).Round(time.Second))
	// The state as a team's is after an apply, with the endpoints' live
	// status; the floor plans on a copy of it.
	tf.provider(ionroller, "apply", "-refresh-only", "-auto-approve", "-input=false")
	floor := tf.floorOf(ionroller)
	plan := []string{"plan", "-input=false", "-detailed-exitcode", "-no-color"}
	b.ResetTimer()
	for range b.N {
		var warnings map[string]int
		planTime, floorTime, ratio := paired(pairs,
			func() time.Duration {
				took := tf.provider(ionroller, plan...)
				warnings = warningsOf(tf.output)
				return took
			},
			func() time.Duration { return tf.floor(floor, plan...) })
		var data3 []time.Duration
		for range 3 {
			data3 = append(data3, tf.terraform(data, plan...))
		}
		b.ReportMetric(apply.Seconds(), fmt.Sprintf("s-apply-%d-releases", n))
		b.ReportMetric(planTime.Seconds(), "s-plan")
		b.ReportMetric(floorTime.Seconds(), "s-plan-floor")
		b.ReportMetric(ratio, "plan-ratio")
		b.ReportMetric(benchtest.Percentile(data3, 50).Seconds(), "s-plan-terraform_data")
		// Warnings the plan shows (the shifter's conditions on endpoints):
		// terraform renders each with its source, tens of milliseconds.
		var shown int
		for summary, count := range warnings {
			shown += count
			b.Logf("the plan warns %d times: %s", count, summary)
		}
		b.ReportMetric(float64(shown), "plan-warnings")
		if ratio > planTarget {
			b.Errorf("terraform plan of %d endpoints and releases: %.2f times the floor's (%s against %s), above the target of %.1f",
				n, ratio, planTime.Round(time.Millisecond), floorTime.Round(time.Millisecond), planTarget)
		}
	}
}

// BenchmarkTerraformRollback measures rolling back by reverting a commit:
// `terraform apply` of the previous version of a release whose environment
// is still hot, against a real shifter on moto. It reports the time from
// terraform starting to the ModifyRule that puts 100% back being done, how
// long the apply takes, the ELBv2 writes per revert, and next to it, in the
// same run, the same apply with the floor provider (testdata/floor), whose
// release only copies the plan to the state: the ratio fails the benchmark
// above rollbackApplyTarget. The apply of a terraform_data change is
// terraform's own floor, without a plugin.
func BenchmarkTerraformRollback(b *testing.B) {
	awsCfg := awstest.Config(b)
	clock, calls := awstest.NewClock("ModifyRule"), awstest.NewCounter()
	clock.Add(&awsCfg)
	calls.Add(&awsCfg)
	s := startShifterOn(b, awsCfg, "50ms", "30s")
	tf := newTerraformBench(b)

	ionroller, data := filepath.Join(tf.dir, "ionroller"), filepath.Join(tf.dir, "terraform_data")
	variable := "variable \"release\" {\n  type = string\n}\n"
	write(b, filepath.Join(ionroller, "main.tf"), requiredProvider+variable+providerConfig(s.url)+
		endpointConfig("bench", s.net, oneStep, "24h")+
		"resource \"ionroller_release\" \"test\" {\n  endpoint = ionroller_endpoint.test.name\n  version  = var.release\n}\n")
	write(b, filepath.Join(data, "main.tf"), variable+"resource \"terraform_data\" \"release\" {\n  input = var.release\n}\n")
	apply := []string{"apply", "-auto-approve", "-input=false", "-var"}
	for _, v := range []string{"v1", "v2"} {
		tf.provider(ionroller, append(apply, "release="+v)...)
		waitReleaseComplete(b, s, "bench")
	}
	floor := tf.floorOf(ionroller)

	var toWrite, applies, floors, datas []time.Duration
	var ratios []float64
	writes := 0
	b.ResetTimer()
	for i := range b.N {
		version := "release=" + []string{"v1", "v2"}[i%2]
		before, elbBefore := clock.Count(), calls.Writes("ELBv2")
		start := time.Now()
		applies = append(applies, tf.provider(ionroller, append(apply, version)...))
		done, ok := clock.After(before, 30*time.Second)
		if !ok {
			b.Fatalf("no ModifyRule after the revert to %s", version)
		}
		toWrite = append(toWrite, done.Sub(start))
		b.StopTimer()
		waitReleaseComplete(b, s, "bench")
		writes += calls.Writes("ELBv2") - elbBefore
		floors = append(floors, tf.floor(floor, append(apply, version)...))
		ratios = append(ratios, float64(applies[i])/float64(floors[i]))
		datas = append(datas, tf.terraform(data, append(apply, version)...))
		b.StartTimer()
	}
	b.StopTimer()
	ratio := median(ratios)
	applyTime, floorTime := benchtest.Percentile(applies, 50), benchtest.Percentile(floors, 50)
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(toWrite, 50)), "ms-apply-start-to-write")
	b.ReportMetric(benchtest.Ms(applyTime), "ms-apply")
	b.ReportMetric(benchtest.Ms(floorTime), "ms-apply-floor")
	b.ReportMetric(ratio, "apply-ratio")
	b.ReportMetric(benchtest.Ms(benchtest.Percentile(datas, 50)), "ms-apply-terraform_data")
	b.ReportMetric(float64(writes)/float64(b.N), "elb-writes/op")
	if ratio > rollbackApplyTarget {
		b.Errorf("terraform apply of a rollback: %.2f times the floor's (%s against %s), above the target of %.1f",
			ratio, applyTime.Round(time.Millisecond), floorTime.Round(time.Millisecond), rollbackApplyTarget)
	}
}

// requiredProvider names the provider terraformBench installs.
const requiredProvider = "terraform {\n  required_providers {\n    ionroller = { source = \"ionroller/ionroller\" }\n  }\n}\n"

// terraformBench runs terraform with this provider, or with the floor
// provider (testdata/floor) in its place, both built from source into a
// temporary directory: terraform starts either as it starts a provider it
// installed.
type terraformBench struct {
	b   *testing.B
	dir string
	// The CLI configurations that point terraform at each build.
	providerConfig, floorConfig string
	// output is what the last run printed.
	output string
}

func newTerraformBench(b *testing.B) *terraformBench {
	b.Helper()
	if _, err := exec.LookPath("terraform"); err != nil {
		b.Fatal("terraform not on PATH")
	}
	t := &terraformBench{b: b, dir: b.TempDir()}
	t.providerConfig = t.build("provider", "..")
	t.floorConfig = t.build("floor", "./testdata/floor")
	return t
}

// build builds the provider's main package pkg as the provider's binary in
// a directory named name, and returns the path of a CLI configuration that
// has terraform run it.
func (t *terraformBench) build(name, pkg string) (cliConfig string) {
	t.b.Helper()
	bin := filepath.Join(t.dir, "bin", name)
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "terraform-provider-ionroller"), pkg)
	if out, err := build.CombinedOutput(); err != nil {
		t.b.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	cliConfig = filepath.Join(t.dir, name+".terraformrc")
	write(t.b, cliConfig, fmt.Sprintf(`provider_installation {
  dev_overrides { "registry.terraform.io/ionroller/ionroller" = %q }
  direct {}
}
disable_checkpoint = true
`, bin))
	return cliConfig
}

// provider runs terraform with this provider in working directory wd and
// says how long it took.
func (t *terraformBench) provider(wd string, args ...string) time.Duration {
	t.b.Helper()
	return t.run(t.providerConfig, wd, args...)
}

// floor runs terraform with the floor provider.
func (t *terraformBench) floor(wd string, args ...string) time.Duration {
	t.b.Helper()
	return t.run(t.floorConfig, wd, args...)
}

// terraform runs terraform on a configuration without the provider.
func (t *terraformBench) terraform(wd string, args ...string) time.Duration {
	t.b.Helper()
	return t.run(t.providerConfig, wd, args...)
}

// floorOf returns a working directory for the floor with the configuration
// and the state of wd: the floor plans what the provider plans.
func (t *terraformBench) floorOf(wd string) string {
	t.b.Helper()
	floor := wd + "-floor"
	for _, file := range []string{"main.tf", "terraform.tfstate"} {
		content, err := os.ReadFile(filepath.Join(wd, file))
		if err != nil {
			t.b.Fatal(err)
		}
		write(t.b, filepath.Join(floor, file), string(content))
	}
	return floor
}

func (t *terraformBench) run(cliConfig, wd string, args ...string) time.Duration {
	t.b.Helper()
	cmd := exec.Command("terraform", args...)
	cmd.Dir = wd
	cmd.Env = append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		t.b.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), wd, err, out)
	}
	t.output = string(out)
	return took
}

// warningsOf counts the warnings of the provider that terraform printed in
// output, by summary; not terraform's own about the dev_overrides that both
// builds run under.
func warningsOf(output string) map[string]int {
	out := map[string]int{}
	for line := range strings.Lines(output) {
		if _, summary, ok := strings.Cut(line, "Warning: "); ok && !strings.HasPrefix(summary, "Provider development overrides") {
			out[strings.TrimSpace(summary)]++
		}
	}
	return out
}

// paired runs a and b in turn n times, and returns the median time of
// each and the median of a's time over b's, pair by pair: a pair runs on
// the machine as it is then, which moves from one pair to the next.
func paired(n int, a, b func() time.Duration) (medianA, medianB time.Duration, ratio float64) {
	var as, bs []time.Duration
	var ratios []float64
	for range n {
		ta, tb := a(), b()
		as, bs, ratios = append(as, ta), append(bs, tb), append(ratios, float64(ta)/float64(tb))
	}
	return benchtest.Percentile(as, 50), benchtest.Percentile(bs, 50), median(ratios)
}

// median returns the median of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

// waitReleaseComplete waits until the release of endpoint name is complete.
func waitReleaseComplete(b *testing.B, s *testShifter, name string) {
	b.Helper()
	waitReleasesComplete(b, s, time.Now().Add(5*time.Minute), name)
}

// waitReleasesComplete waits until the releases of the endpoints named are
// complete, failing at deadline.
func waitReleasesComplete(b *testing.B, s *testShifter, deadline time.Time, names ...string) {
	b.Helper()
	for _, name := range names {
		for {
			v, err := s.client.GetRelease(b.Context(), name, rollout.Production)
			if err == nil && v.Status.State == string(rollout.PhaseComplete) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("release of %s not complete: %+v, %v", name, v.Status, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
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
