package daemon_test

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/dynamodb/dynamodbtest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/wire"
)

// otherTeamToken reads for a team that does not own the test's endpoint.
const otherTeamToken = "search-reader-token"

// replica is a shifter the test may close before it ends.
type replica struct {
	*daemon.Server
	close func() error
}

// openReplica runs a shifter on the DynamoDB store in the moto account of
// awsCfg, creating the table if it is the first; it is closed when the test
// ends, if it was not before.
func openReplica(t *testing.T, awsCfg awssdk.Config, id string) replica {
	t.Helper()
	awsCfg = awsCfg.Copy()
	awsCfg.APIOptions = append(awsCfg.APIOptions, dynamodbtest.Serialize) // moto: see dynamodbtest
	s, closeReplica := daemontest.Serve(t, fmt.Sprintf(`
listen          = "127.0.0.1:0"
replica_id      = %q
poll_interval   = "50ms"
resync_interval = "500ms"
store {
  dynamodb {
    table     = "ionroller"
    create    = true
    lease_ttl = "2s"
  }
}
images { pin = false } # no registry serves the tests' images
auth {
  anonymous { role = "admin" }
  token "search-reader" {
    team   = "search"
    role   = "read"
    sha256 = %q
  }
}
`, id, api.HashToken(otherTeamToken)), awsCfg)
	return replica{Server: s, close: closeReplica}
}

// TestReplicasServeOneTableAndHandOverOnClose runs two `shifter serve` on
// one DynamoDB table: the API of either reaches the endpoint, exactly one
// acts on it, and closing that one hands the endpoint to the other at once.
func TestReplicasServeOneTableAndHandOverOnClose(t *testing.T) {
	awsCfg := awstest.Config(t)
	net := awstest.Network(t, awsCfg)
	a, b := openReplica(t, awsCfg, "replica-a"), openReplica(t, awsCfg, "replica-b")

	if code, body := call(t, "PUT", a.URL()+"/v1/endpoints/web", endpointSpec(net)); code != http.StatusCreated {
		t.Fatalf("PUT endpoint = %d %v", code, body)
	}
	if code, body := call(t, "PUT", b.URL()+"/v1/endpoints/web/releases/production", map[string]any{"version": "v1"}); code != http.StatusCreated {
		t.Fatalf("PUT release = %d %v", code, body)
	}
	waitRelease(t, b.URL(), "v1")

	heldA, heldB := scrape(t, a.URL(), `(?m)^ionroller_leases_held (\d+)$`), scrape(t, b.URL(), `(?m)^ionroller_leases_held (\d+)$`)
	if heldA+heldB != "10" && heldA+heldB != "01" {
		t.Fatalf("leases held by a and b = %s and %s, want one of them to hold the one endpoint", heldA, heldB)
	}
	for _, s := range []replica{a, b} {
		if replica := scrape(t, s.URL(), `(?m)^ionroller_replica_info\{replica="([^"]+)",shifter_id="default",store="dynamodb"\} 1$`); replica == "" {
			t.Errorf("no ionroller_replica_info on %s", s.URL())
		}
	}

	// Close the holder: the other takes the endpoint over at once, not
	// after the TTL, and rolls out the next release.
	holder, other := a, b
	if heldB == "1" {
		holder, other = b, a
	}
	checkReplicas(t, other.URL(), holder.URL())
	start := time.Now()
	if err := holder.close(); err != nil {
		t.Fatal(err)
	}
	for scrape(t, other.URL(), `(?m)^ionroller_leases_held (\d+)$`) != "1" {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the remaining replica did not take the endpoint over")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("handover on a clean close took %s", time.Since(start).Round(time.Millisecond))
	if code, body := call(t, "PUT", other.URL()+"/v1/endpoints/web/releases/production", map[string]any{"version": "v2"}); code != http.StatusOK {
		t.Fatalf("PUT release v2 = %d %v", code, body)
	}
	waitRelease(t, other.URL(), "v2")
}

// checkReplicas checks GET /v1/replicas on a replica at url: it names
// itself and both live replicas, and only the replica at holderURL holds
// the lease of web, which a reader of another team does not see. (The
// CLI's table of it is TestReplicasTable.)
func checkReplicas(t *testing.T, url, holderURL string) {
	t.Helper()
	replicasAt := func(url string, opts ...client.Option) wire.ReplicasView {
		t.Helper()
		c, err := client.New(url, opts...)
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Replicas(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	view, holder := replicasAt(url), replicasAt(holderURL).Replica
	if view.Replica == "" || view.Replica == holder || !view.Leased || len(view.Replicas) != 2 {
		t.Fatalf("replicas at %s = %+v, want itself and %s, leased", url, view, holder)
	}
	for _, r := range view.Replicas {
		want := 0
		if r.ID == holder {
			want = 1
		}
		if len(r.Leases) != want || (want == 1 && (r.Leases[0].Endpoint != "web" || r.Leases[0].Generation < 1)) {
			t.Errorf("replica %s holds %+v, want %d lease of web", r.ID, r.Leases, want)
		}
	}
	for _, r := range replicasAt(url, client.WithToken(otherTeamToken)).Replicas {
		if len(r.Leases) != 0 {
			t.Errorf("a reader of another team sees the leases %+v of %s", r.Leases, r.ID)
		}
	}
}

// waitRelease waits until the production release of web is complete at
// version, as the API reports it.
func waitRelease(t *testing.T, url, version string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body := call(t, "GET", url+"/v1/endpoints/web/releases/production", nil)
		status, _ := body["status"].(map[string]any)
		if status["state"] == string(rollout.PhaseComplete) && status["live_version"] == version {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("release %s not complete after 30s: %v", version, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// scrape returns the first group of pattern in the shifter's metrics.
func scrape(t *testing.T, url, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(metrics(t, url))
	if m == nil {
		return ""
	}
	return m[1]
}
