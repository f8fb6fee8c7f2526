package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store/bolt/bolttest"
)

// testStore backs up a serving shifter's store with the binary, checks the
// copy, and refuses what must be refused.
func testStore(t *testing.T, h *harness) {
	h.endpoint("web", rollout.Step{Weight: 100})
	dir := t.TempDir()
	backup := filepath.Join(dir, "backup.db")
	if out := h.ok("store", "backup", "-token", adminSecret, backup); !strings.Contains(out, "store backed up to "+backup) {
		t.Errorf("store backup: %s", out)
	}
	if out := h.ok("store", "check", backup); out != "store "+backup+" is sound\n" {
		t.Errorf("store check of the backup: %q", out)
	}
	if r := h.run("store", "backup", "-token", "web-admin", filepath.Join(dir, "team.db")); r.code != 1 || !strings.Contains(r.stderr, "needs an admin token of no team") {
		t.Errorf("a team admin's backup: %s", r)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a refused backup left files behind: %v", entries)
	}
	if r := h.run("store", "copy", backup); r.code != 2 {
		t.Errorf("store copy: %s", r)
	}
}

// testDamagedStores: every kind of damaged store file ends `store check`
// and `serve` with exit code 1 and one line naming the file, the damage and
// what to do, never a panic (exit 2 with a stack).
func testDamagedStores(t *testing.T, h *harness) {
	dir := t.TempDir()
	path, config := filepath.Join(dir, "s.db"), filepath.Join(dir, "shifter.hcl")
	cfg := "listen = \"127.0.0.1:0\"\nstore { path = \"" + path + "\" }\naws {\n  endpoint = \"" + awstest.Endpoint() + "\"\n  region = \"us-east-1\"\n}\n"
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range bolttest.Damages(t) {
		if err := os.WriteFile(path, d.Content, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"store", "check", path}, {"serve", "-config", config}} {
			r := h.start(args...).wait(t, 10*time.Second)
			if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "store "+path+" "+d.Want) ||
				!strings.Contains(r.stderr, "restore it from a backup") || strings.Contains(r.stderr, "panic") {
				t.Errorf("%s, shifter %s: %s", d.Name, strings.Join(args, " "), r)
			}
		}
	}
}

// testServeStartAndStop runs `shifter serve` as a process: a damaged store
// or a bad certificate ends it at once with the reason, and SIGTERM stops it
// within its grace.
func testServeStartAndStop(t *testing.T, h *harness) {
	dir := t.TempDir()
	config := func(extra string) string {
		path := filepath.Join(dir, "shifter.hcl")
		body := "listen = \"127.0.0.1:0\"\nstore { path = \"" + filepath.Join(dir, "s.db") + "\" }\naws {\n  endpoint = \"" + awstest.Endpoint() + "\"\n  region = \"us-east-1\"\n}\n" + extra
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	certFile := filepath.Join(dir, "tls.crt")
	if err := os.WriteFile(certFile, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := h.start("serve", "-config", config("tls {\n  cert_file = \""+certFile+"\"\n  key_file = \""+certFile+"\"\n}\n")).wait(t, 5*time.Second)
	t.Logf("the shifter binary exited %s after it was started with a bad certificate", time.Since(start).Round(time.Millisecond))
	if r.code != 1 || !strings.Contains(r.stderr, "tls: cert_file "+certFile) {
		t.Errorf("serve with a bad certificate: %s", r)
	}

	if err := os.WriteFile(filepath.Join(dir, "s.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = h.start("serve", "-config", config("")).wait(t, 5*time.Second)
	if r.code != 1 || !strings.Contains(r.stderr, "is empty (0 bytes)") || !strings.Contains(r.stderr, "-initialise-store") {
		t.Errorf("serve on an empty store file: %s", r)
	}

	b := h.start("serve", "-config", config(""), "-initialise-store")
	if !b.stderr.WaitFor("shifter serving", 20*time.Second) {
		t.Fatalf("serve -initialise-store did not start:\n%s", b.stderr.String())
	}
	if !strings.Contains(b.stderr.String(), "moved it aside and started an empty store") {
		t.Errorf("no warning that the empty file was moved aside:\n%s", b.stderr.String())
	}
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	r = b.wait(t, 6*time.Second) // the shutdown grace is 5 s
	t.Logf("SIGTERM stopped the shifter in %s", time.Since(start).Round(time.Millisecond))
	if r.code != 0 || !strings.Contains(r.stderr, "shutting down") {
		t.Errorf("serve after SIGTERM: %s", r)
	}
}
