package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	stdnet "net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/api"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/client"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon"
	"github.com/ionroller/terraform-provider-ionroller/shifter/daemon/daemontest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// recorder keeps every answer a client received.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	seen bytes.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if err != nil {
		return res, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.seen, "%s %s\n%v\n%s\n", res.Status, req.URL, res.Header, body)
	return res, nil
}

// TestNoSecretLeaks runs a shifter with real tokens, an AWS secret key, a
// webhook URL and an external ID, each carrying a marker, through a rollout,
// commands, an event stream, a webhook that cannot be reached and refused
// requests, and then looks for the markers in everything it produced: the
// shifter's and the client's logs at trace level, every answer (read and
// admin alike: secrets are write-only), every event and /metrics; the tokens
// and the AWS key also in the store file, where the webhook URL and external
// ID must be. (Container secrets never enter the shifter: endpoints hold
// ARNs, read on the instance at boot.)
func TestNoSecretLeaks(t *testing.T) {
	const (
		adminToken = "ionroller-admin-d9f8b3c1a7e2"
		readToken  = "ionroller-read-5b2e7a0c4f91"
		wrongToken = "ionroller-wrong-8c1d6e2f3a4b"
		awsSecret  = "aws-secret-key-0e7d3b9a2c51"
		hookSecret = "hook-secret-3f6a1c8e5b27"
		externalID = "external-id-9a4c2e7b1d63"
	)
	awsCfg := awstest.Config(t)
	net := awstest.Network(t, awsCfg)
	awsCfg.Credentials = credentials.NewStaticCredentialsProvider("test", awsSecret, "")
	// A webhook nobody listens on: its failures are what would quote the URL.
	closed, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	webhook := fmt.Sprintf("http://%s/services/%s?token=%s", closed.Addr(), hookSecret, hookSecret)
	closed.Close()
	dir := t.TempDir()
	var logs syncbuf.Buffer
	s, closeShifter := daemontest.Serve(t, fmt.Sprintf(`
listen          = "127.0.0.1:0"
poll_interval   = "50ms"
resync_interval = "1s"
allow_private_webhooks = true # the unreachable webhook is on loopback
store { path = %q }
images { pin = false } # no registry serves the tests' images
auth {
  token "ops" {
    role   = "admin"
    sha256 = %q
  }
  token "viewer" {
    role   = "read"
    sha256 = %q
  }
}
`, filepath.Join(dir, "shifter.db"), api.HashToken(adminToken), api.HashToken(readToken)), awsCfg,
		func(s *daemon.Server) { s.Logger = hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs}) })
	answers := &recorder{next: http.DefaultTransport}
	connect := func(token string) *client.Client {
		c, err := client.New(s.URL(), client.WithToken(token), client.WithHTTPClient(&http.Client{Transport: answers}),
			client.WithLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: &logs})))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin, reader, stranger := connect(adminToken), connect(readToken), connect(wrongToken)
	ctx := t.Context()

	ep := rollout.NewEndpoint()
	ep.Name, ep.DeletionProtection = "web", false
	ep.Traffic = rollout.Traffic{ListenerARN: net.ListenerARN, Priority: 10, Hosts: []string{"web.example.com"}}
	ep.Template.Repository, ep.Template.ContainerPort, ep.Template.AMI = "registry.example.com/web", 8080, net.AMI
	ep.Template.Subnets, ep.Template.SecurityGroups = net.Subnets, []string{net.SecurityGroup}
	ep.Template.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/web/db"}
	ep.Policy.Steps, ep.Policy.BakeTime = []rollout.Step{{Weight: 50}, {Weight: 100}}, 0
	ep.Notifications.WebhookURL = webhook
	if _, err := admin.PutEndpoint(ctx, ep, 0); err != nil {
		t.Fatal(err)
	}
	// Another endpoint, in another account: only its spec is of interest.
	vault := ep
	vault.Name, vault.Notifications = "vault", rollout.Notifications{}
	vault.Traffic.Priority, vault.Traffic.Hosts = 11, []string{"vault.example.com"}
	vault.Placement = rollout.Placement{RoleARN: "arn:aws:iam::210987654321:role/ionroller", ExternalID: externalID}
	if _, err := admin.PutEndpoint(ctx, vault, 0); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1", "v2"} {
		if _, err := admin.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: v}, -1); err != nil {
			t.Fatal(err)
		}
		waitState(t, reader, v, "complete", "paused")
		if v == "v2" {
			if _, err := admin.Act(ctx, "web", rollout.Command{Kind: rollout.CommandPromote, Reason: "looks good"}); err != nil {
				t.Fatal(err)
			}
			waitState(t, reader, v, "complete")
		}
	}
	if _, err := stranger.ListEndpoints(ctx, ""); rollout.ErrorCode(err) != rollout.EUNAUTHORIZED {
		t.Errorf("a wrong token listed endpoints: %v", err)
	}
	if _, err := reader.PutRelease(ctx, rollout.Release{Endpoint: "web", Track: rollout.Production, Version: "v3"}, -1); rollout.ErrorCode(err) != rollout.EFORBIDDEN {
		t.Errorf("a read token declared a release: %v", err)
	}
	followCtx, stop := context.WithTimeout(ctx, 500*time.Millisecond)
	defer stop()
	_ = reader.Follow(followCtx, "web", 0, func(rollout.Event) error { return nil })
	events, _, err := reader.Events(ctx, "web", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"web", "vault"} {
		v, err := reader.GetEndpoint(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if !v.Endpoint.Notifications.WebhookURLSet && !v.Endpoint.Placement.ExternalIDSet {
			t.Errorf("GET %s does not say that its secret is set: %+v", name, v.Endpoint)
		}
	}
	if !logs.WaitFor("webhook http://"+closed.Addr().String()+": dial tcp", 10*time.Second) {
		t.Errorf("no failed webhook delivery logged, by scheme and host:\n%s", logs.String())
	}
	metrics, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(metrics.Body)
	metrics.Body.Close()
	if err := closeShifter(); err != nil {
		t.Fatal(err)
	}
	storeFile, err := os.ReadFile(filepath.Join(dir, "shifter.db"))
	if err != nil {
		t.Fatal(err)
	}
	var trail strings.Builder
	for _, e := range events {
		fmt.Fprintf(&trail, "%+v\n", e)
	}
	answers.mu.Lock()
	defer answers.mu.Unlock()
	if !strings.Contains(string(storeFile), hookSecret) || !strings.Contains(string(storeFile), externalID) {
		t.Error("the store file lacks the webhook URL or the external ID: the scan below would prove nothing")
	}
	credentialsOnly := []string{adminToken, readToken, wrongToken, awsSecret}
	every := append(credentialsOnly, hookSecret, externalID)
	for _, scan := range []struct {
		what  string
		text  string
		leaks []string
	}{
		{"logs", logs.String(), every},
		{"answers", answers.seen.String(), every},
		{"events", trail.String(), every},
		{"metrics", string(metricsText), every},
		{"store file", string(storeFile), credentialsOnly},
	} {
		if len(scan.text) == 0 {
			t.Errorf("nothing captured in %s: the scan would prove nothing", scan.what)
		}
		for _, leak := range scan.leaks {
			if strings.Contains(scan.text, leak) {
				t.Errorf("%s contain %q", scan.what, leak)
			}
		}
	}
}

func waitState(t *testing.T, c *client.Client, version string, states ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		v, err := c.GetRelease(t.Context(), "web", rollout.Production)
		if err == nil && v.Release.Version == version {
			for _, s := range states {
				if v.Status.State == s {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("release %s did not reach %v", version, states)
}
