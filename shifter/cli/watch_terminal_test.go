package cli_test

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// testWatchTerminal runs watch on a pseudo-terminal, as a person at a
// terminal would, while v2 rolls out in three steps: the display is redrawn
// in place and shows the traffic bars move.
func testWatchTerminal(t *testing.T, h *harness) {
	watchPolicy(h)
	h.release("web", "v2")
	cmd := h.command("watch", "web")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if errors.Is(err, pty.ErrUnsupported) {
		t.Skip("no pseudo-terminal on this system")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&out, tty) // ends with EIO once the watch exits
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		t.Logf("killed the watch: %v", <-exited)
		<-copied
		t.Fatalf("watch still running after 45s; output:\n%s", out.String())
	}
	<-copied
	raw := out.String()
	if err != nil {
		t.Fatalf("watch on a terminal: %v\n%s", err, raw)
	}

	if !strings.HasPrefix(raw, "\x1b[?25l") || !strings.Contains(raw, "\x1b[?25h") || !regexp.MustCompile(`\x1b\[\d+A`).MatchString(raw) {
		t.Errorf("watch on a terminal did not redraw in place (cursor hidden, moved up, shown again):\n%q", raw)
	}
	if !inOrder(raw,
		"web: shifting · deploy v1 → v2, step 1/3 at 10% · next step in ",
		"v1  ██████████████████░░   90%", "v2  ██░░░░░░░░░░░░░░░░░░   10%",
		"ENVIRONMENT", "serving",
		"v1  ██████████░░░░░░░░░░   50%", "v2  ██████████░░░░░░░░░░   50%",
		"v2  ████████████████████  100%",
		"web: release v2 is complete\r\n") {
		t.Errorf("the traffic bars did not move 90/10, 50/50, 100:\n%s", raw)
	}
}
