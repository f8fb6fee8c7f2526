package cli_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/cli"
	"github.com/ionroller/terraform-provider-ionroller/shifter/internal/syncbuf"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt/bolttest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestServeCommandReportsABadConfigurationInOneLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shifter.hcl")
	if err := os.WriteFile(path, []byte(`store { path = "x" }`+"\nresync_interval = \"soon\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := cli.Run(context.Background(), []string{"serve", "-config", path}, io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "resync_interval:") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 1 and one line naming resync_interval", code, stderr.String())
	}
	if code := cli.Run(context.Background(), []string{"launch"}, io.Discard, io.Discard); code != 2 {
		t.Errorf("unknown command exit = %d, want 2", code)
	}
}

// TestServeCommandRunsUntilCancelled runs `shifter serve` as main does.
func TestServeCommandRunsUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shifter.hcl")
	cfg := fmt.Sprintf("listen = \"127.0.0.1:0\"\nstore { path = %q }\naws {\n  endpoint = %q\n  region = \"us-east-1\"\n}\n", filepath.Join(dir, "s.db"), awstest.Endpoint())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan int, 1)
	stderr := &syncbuf.Buffer{}
	go func() { done <- cli.Run(ctx, []string{"serve", "-config", path}, io.Discard, stderr) }()
	if !stderr.WaitFor("shifter serving", 20*time.Second) {
		t.Fatalf("serve did not start serving within 20s:\n%s", stderr)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stderr.String(), "shutting down") {
			t.Errorf("exit %d, stderr %s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop after its context was cancelled")
	}
}

// serveExit runs `shifter serve` with args as main does and returns its
// exit code, its stderr and how long it took; a serve still running after
// 5 s fails the test (it is then stopped).
func serveExit(t *testing.T, args ...string) (code int, stderr string, took time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncbuf.Buffer{}
	done := make(chan int, 1)
	start := time.Now()
	go func() { done <- cli.Run(ctx, append([]string{"serve"}, args...), io.Discard, out) }()
	select {
	case code = <-done:
		return code, out.String(), time.Since(start)
	case <-time.After(5 * time.Second):
		cancel()
		t.Fatalf("serve %v still running after 5s:\n%s", args, out)
		return 0, "", 0
	}
}

func TestServeExitsWithinSecondsOnABadCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	for _, f := range []string{certFile, keyFile} {
		if err := os.WriteFile(f, []byte("not PEM"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "shifter.hcl")
	cfg := fmt.Sprintf("listen = \"127.0.0.1:0\"\ntls {\n  cert_file = %q\n  key_file = %q\n}\nstore { path = %q }\naws {\n  endpoint = %q\n  region = \"us-east-1\"\n}\n",
		certFile, keyFile, filepath.Join(dir, "s.db"), awstest.Endpoint())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr, took := serveExit(t, "-config", path)
	t.Logf("a bad certificate ended serve in %s", took)
	if code != 1 || !strings.Contains(stderr, "tls: cert_file "+certFile) {
		t.Errorf("exit %d, stderr %q; want 1 and the certificate's reason", code, stderr)
	}
}

// TestServeListenFlagFollowsTheTLSRule: -listen goes through the same rule
// as listen in the file.
func TestServeListenFlagFollowsTheTLSRule(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shifter.hcl")
	cfg := fmt.Sprintf("store { path = %q }\naws {\n  endpoint = %q\n  region = \"us-east-1\"\n}\n", filepath.Join(dir, "s.db"), awstest.Endpoint())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		code, stderr, _ := serveExit(t, "-config", path, "-listen", addr)
		if code != 1 || !strings.Contains(stderr, "needs TLS") {
			t.Errorf("-listen %s: exit %d, stderr %q; want 1 and the TLS rule", addr, code, stderr)
		}
	}
}

// TestServeRefusesAStoreOfANewerShifter: `shifter serve` on a store file a
// newer shifter wrote exits 1 with one line saying so and what to run.
func TestServeRefusesAStoreOfANewerShifter(t *testing.T) {
	dir := t.TempDir()
	storePath := filepath.Join(dir, "s.db")
	st, err := bolt.Open(storePath)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	bolttest.Stamp(t, storePath, store.SchemaVersion+1)
	path := filepath.Join(dir, "shifter.hcl")
	cfg := fmt.Sprintf("listen = \"127.0.0.1:0\"\nstore { path = %q }\naws {\n  endpoint = %q\n  region = \"us-east-1\"\n}\n", storePath, awstest.Endpoint())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr, _ := serveExit(t, "-config", path)
	want := fmt.Sprintf("shifter: store %s: written by schema version %d, this shifter understands up to %d; run a shifter at least as new as the one that wrote it\n",
		storePath, store.SchemaVersion+1, store.SchemaVersion)
	if code != 1 || stderr != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
}
