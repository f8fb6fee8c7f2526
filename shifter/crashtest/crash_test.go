package crashtest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// Defaults of a plain `go test`; `make crash` sets CRASH_TRIALS=30.
const (
	defaultTrials  = 4
	defaultTimeout = 10 * time.Minute
)

// shifterID tags what the shifter under test creates; the orphan scan looks
// for it.
const shifterID = "crash"

// Every endpoint of a trial rolls v1 (straight to 100%, its first release)
// then v2 through these steps; its rule goes through splits.
var (
	steps = []map[string]any{
		{"weight": 10, "pause": "300ms"},
		{"weight": 50, "pause": "300ms"},
		{"weight": 100},
	}
	splits    = []map[string]int{{"v1": 100}, {"v1": 90, "v2": 10}, {"v1": 50, "v2": 50}, {"v2": 100}}
	endpoints = []string{"web", "api"}
)

// routing is a kind of traffic as a trial sees it: the first endpoint of a
// trial routes on it, on ec2, the second by an ALB rule on the same account,
// on ecs, so every trial also has the routers of two kinds and both
// backends at work side by side.
// Trials take the routings in turn.
type routing struct {
	name string
	// network makes the account's network, load balancers and zones.
	network func(testing.TB, awssdk.Config) awstest.Net
	// traffic is the spec's traffic of the first endpoint, name.
	traffic func(net awstest.Net, name string) map[string]any
	// read reads that endpoint's route as AWS has it.
	read func(ctx context.Context, cfg awssdk.Config, net awstest.Net, name string) (awstest.Route, error)
}

// albTraffic is the traffic of endpoint i of a trial on the ALB listener.
func albTraffic(net awstest.Net, i int, name string) map[string]any {
	return map[string]any{"listener_arn": net.ListenerARN, "priority": 10 + i, "hosts": []string{name + ".example.com"}}
}

var routings = []routing{
	{
		name:    "alb",
		network: awstest.Network,
		traffic: func(net awstest.Net, name string) map[string]any { return albTraffic(net, 0, name) },
		read: func(ctx context.Context, cfg awssdk.Config, net awstest.Net, _ string) (awstest.Route, error) {
			return readRule(ctx, cfg, net.ListenerARN, 10)
		},
	},
	{
		name:    "nlb",
		network: awstest.NetworkWithNLB,
		traffic: func(net awstest.Net, _ string) map[string]any {
			return map[string]any{"nlb": map[string]any{"load_balancer_arn": net.NLBARN, "port": net.NLBPort}}
		},
		read: func(ctx context.Context, cfg awssdk.Config, net awstest.Net, _ string) (awstest.Route, error) {
			return awstest.ReadNLB(ctx, cfg, net.NLBARN, net.NLBPort)
		},
	},
	{
		name:    "route53",
		network: awstest.NetworkWithSlots,
		traffic: func(net awstest.Net, name string) map[string]any {
			return map[string]any{"route53": map[string]any{"hosted_zone_id": net.HostedZoneID, "name": name + ".example.test", "listeners": net.SlotListenerARNs}}
		},
		read: func(ctx context.Context, cfg awssdk.Config, net awstest.Net, name string) (awstest.Route, error) {
			return awstest.ReadRoute53(ctx, cfg, net.HostedZoneID, "ionroller-"+shifterID+"-"+name+"-", net.SlotListenerARNs)
		},
	},
}

// readRule reads the forward of the rule at priority on an ALB listener.
func readRule(ctx context.Context, cfg awssdk.Config, listener string, priority int) (awstest.Route, error) {
	out, err := elb.NewFromConfig(awstest.Exempt(cfg)).DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: &listener})
	if err != nil {
		return awstest.Route{}, err
	}
	for _, r := range out.Rules {
		if awssdk.ToString(r.Priority) == strconv.Itoa(priority) {
			return awstest.Route{Carries: true, Weights: aws.ForwardWeights(r.Actions)}, nil
		}
	}
	return awstest.Route{}, nil
}

// outcome is what a trial found.
type outcome struct {
	violations []string
	orphans    []string
	// kills says where each kill struck: the first endpoint's rollout
	// state and traffic, as the API said just before.
	kills []string
}

func TestCrashTrials(t *testing.T) {
	trials := envInt(t, "CRASH_TRIALS", defaultTrials)
	timeout := envDuration(t, "CRASH_TIMEOUT", defaultTimeout)
	seed := uint64(envInt(t, "CRASH_SEED", int(time.Now().UnixNano()%1_000_000_000)))
	t.Logf("crash trials: %d, seed %d (CRASH_SEED=%d replays the kill schedule)", trials, seed, seed)
	bin, err := shifterBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(timeout)
	var (
		mu       sync.Mutex
		outcomes = map[int]outcome{}
	)
	t.Run("trial", func(t *testing.T) {
		for i := range trials {
			t.Run(fmt.Sprintf("%02d", i), func(t *testing.T) {
				t.Parallel()
				if time.Now().After(deadline) {
					t.Skip("CRASH_TIMEOUT reached before this trial started")
				}
				o := runTrial(t, bin, seed+uint64(i), routings[i%len(routings)])
				for _, v := range o.violations {
					t.Errorf("violation: %s", v)
				}
				for _, o := range o.orphans {
					t.Errorf("orphan: %s", o)
				}
				mu.Lock()
				outcomes[i] = o
				mu.Unlock()
			})
		}
	})

	violations, orphaned := 0, 0
	for _, o := range outcomes {
		violations += len(o.violations)
		orphaned += len(o.orphans)
	}
	t.Logf("crash trials: %d run of %d, %d kills, %d violations, %d orphans (seed %d)",
		len(outcomes), trials, 2*len(outcomes), violations, orphaned, seed)
	if len(outcomes) < trials {
		t.Errorf("%d of the %d crash trials asked for (CRASH_TRIALS) ran to the end; "+
			"the others failed, or did not start within CRASH_TIMEOUT=%s", len(outcomes), trials, timeout)
	}
}

// runTrial runs one trial: see the package documentation.
func runTrial(t *testing.T, bin string, seed uint64, r routing) outcome {
	rng := rand.New(rand.NewPCG(seed, seed))
	acct := awstest.NewAccount(t)
	net := r.network(t, acct.Config)
	dir := t.TempDir()
	storePath := filepath.Join(dir, "shifter.db")
	config := filepath.Join(dir, "shifter.hcl")
	if err := os.WriteFile(config, fmt.Appendf(nil, `
listen          = "127.0.0.1:0"
shifter_id      = %q
poll_interval   = "50ms"
resync_interval = "500ms"
store { path = %q }
aws {
  region   = %q
  endpoint = %q
}
log {
  level  = "info"
  format = "json"
}
images { pin = false } # no registry serves the tests' images
auth {
  anonymous { role = "admin" }
}
`, shifterID, storePath, awstest.Region, accountProxy(t, acct.ID)), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d; shifter log:\n%s", seed, log)
		}
	})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s := &sampler{
		elb: elb.NewFromConfig(awstest.Exempt(acct.Config)), shifter: shifterID, endpoints: endpoints,
		splits: map[string][]map[string]int{}, tgs: map[string]tgTags{}, healthy: map[string]bool{},
		read: func(ctx context.Context) (map[string]awstest.Route, error) {
			first, err := r.read(ctx, acct.Config, net, endpoints[0])
			if err != nil {
				return nil, err
			}
			second, err := readRule(ctx, acct.Config, net.ListenerARN, 11)
			routes := map[string]awstest.Route{}
			for name, route := range map[string]awstest.Route{endpoints[0]: first, endpoints[1]: second} {
				if route.Carries {
					routes[name] = route
				}
			}
			return routes, err
		},
	}
	var sampling sync.WaitGroup
	sampling.Go(func() { s.run(ctx, 20*time.Millisecond) })

	p, err := startShifter(ctx, bin, config, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.kill() }()
	var o outcome
	// crash SIGKILLs the shifter after a delay drawn from the trial's seed
	// and starts it again on the same store.
	crash := func(within time.Duration) {
		time.Sleep(time.Duration(rng.Int64N(int64(within))))
		o.kills = append(o.kills, where(ctx, p.url, endpoints[0]))
		p.kill()
		if p, err = startShifter(ctx, bin, config, log); err != nil {
			t.Fatal(err)
		}
	}

	for i, name := range endpoints {
		traffic := albTraffic(net, i, name)
		template := map[string]any{
			"repository": "registry.example.com/" + name, "container_port": 8080,
			"subnets": net.Subnets, "security_groups": []string{net.SecurityGroup}, "desired_capacity": 1,
		}
		if i == 0 {
			traffic = r.traffic(net, name)
			template["ami"] = net.AMI
		} else {
			template["backend"], template["ecs"] = rollout.BackendECS, map[string]any{"cluster": net.Cluster}
		}
		spec := map[string]any{
			"team":                "crash",
			"deletion_protection": false,
			"traffic":             traffic,
			"template":            template,
			"policy":              map[string]any{"steps": steps, "bake_time": "0s", "healthy_timeout": "30s"},
		}
		if _, ok := traffic["nlb"]; ok {
			spec["template"].(map[string]any)["health_check"] = map[string]any{"protocol": "TCP"}
		}
		if code, err := api(ctx, "PUT", p.url+"/v1/endpoints/"+name, spec, nil); err != nil || code != 201 {
			t.Fatalf("PUT endpoint %s = %d %v", name, code, err)
		}
	}
	release := func(version string) {
		for _, name := range endpoints {
			code, err := api(ctx, "PUT", p.url+"/v1/endpoints/"+name+"/releases/production", map[string]any{"version": version}, nil)
			if err != nil || (code != 200 && code != 201) {
				t.Fatalf("PUT release %s of %s = %d %v", version, name, code, err)
			}
		}
	}
	release("v1")
	crash(time.Second) // while environments are created
	waitComplete(ctx, t, p.url, "v1")
	release("v2")
	crash(2 * time.Second) // while traffic shifts
	waitComplete(ctx, t, p.url, "v2")
	cancel()
	sampling.Wait()
	// A last sample, taken now, sees the final split.
	if err := s.sample(t.Context()); err != nil {
		t.Fatal(err)
	}

	o.violations = append(s.violations, s.checkSplits(splits)...)
	if strings.Contains(log.String(), "WARNING: DATA RACE") {
		o.violations = append(o.violations, "the shifter (a race-detector build) reported a data race")
	}
	for _, name := range endpoints {
		events, err := trail(t.Context(), p.url, name)
		if err != nil {
			t.Fatal(err)
		}
		o.violations = append(o.violations, checkTrail(name, events)...)
	}
	if err := p.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	if o.orphans, err = orphans(t.Context(), acct.Config, shifterID, storePath); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d, %s router: killed in %v; %d samples", seed, r.name, o.kills, s.samples)
	return o
}

// waitComplete waits until every endpoint's production release is complete
// at version, as the API says.
func waitComplete(ctx context.Context, t *testing.T, url, version string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, name := range endpoints {
		for {
			var body struct {
				Status struct {
					State       string `json:"state"`
					LiveVersion string `json:"live_version"`
				} `json:"status"`
			}
			if _, err := api(ctx, "GET", url+"/v1/endpoints/"+name+"/releases/production", nil, &body); err == nil &&
				body.Status.State == string(rollout.PhaseComplete) && body.Status.LiveVersion == version {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the rollout of %s did not complete within 60s", name, version)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// where says where the rollout of endpoint is: the release's version, its
// state and share of traffic.
func where(ctx context.Context, url, endpoint string) string {
	var body struct {
		Release struct {
			Version string `json:"version"`
		} `json:"release"`
		Status struct {
			State   string `json:"state"`
			Percent int    `json:"traffic_percent"`
		} `json:"status"`
	}
	if _, err := api(ctx, "GET", url+"/v1/endpoints/"+endpoint+"/releases/production", nil, &body); err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %d%%", body.Release.Version, body.Status.State, body.Status.Percent)
}

// checkTrail expects the trail of endpoint to hold each step of v2 once, one
// environment created per version, and one completion per version.
func checkTrail(endpoint string, events []rollout.Event) []string {
	var out []string
	count := func(typ, version string) (n int, details []string) {
		for _, e := range events {
			if e.Type == typ && e.Version == version {
				n++
				details = append(details, e.Details["step"])
			}
		}
		return n, details
	}
	if _, got := count(rollout.EventStepApplied, "v2"); !slices.Equal(got, []string{"1", "2"}) {
		out = append(out, fmt.Sprintf("%s: step.applied of v2 for steps %v, want [1 2] (a step doubled or lost)", endpoint, got))
	}
	for _, version := range []string{"v1", "v2"} {
		if n, _ := count(rollout.EventEnvironmentCreating, version); n != 1 {
			out = append(out, fmt.Sprintf("%s: %d environment.creating of %s, want 1", endpoint, n, version))
		}
		if n, _ := count(rollout.EventRolloutComplete, version); n != 1 {
			out = append(out, fmt.Sprintf("%s: %d rollout.complete of %s, want 1", endpoint, n, version))
		}
	}
	return out
}

func envInt(t *testing.T, name string, fallback int) int {
	v := os.Getenv(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, fallback time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return fallback
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("%s=%q: want a duration such as 10m", name, v)
	}
	return d
}
