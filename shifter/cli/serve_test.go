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
