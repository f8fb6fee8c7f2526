package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestEventLinesShowWhatChanged: `shifter events` and `watch` show an
// endpoint.updated with its changes, a secret only as changed, on one line.
func TestEventLinesShowWhatChanged(t *testing.T) {
	ev := rollout.Event{Seq: 7, Time: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), Type: rollout.EventEndpointUpdated,
		Message: "endpoint updated by ci", Changes: []rollout.Change{
			{Path: "template.instance_type", Old: []byte(`"t3.micro"`), New: []byte(`"t3.small"`)},
			{Path: "notifications.webhook_url", Secret: true},
		}}
	want := `endpoint updated by ci: template.instance_type: "t3.micro" → "t3.small"; notifications.webhook_url: changed (secret)`
	for name, line := range map[string]string{"events": eventLine(ev), "watch": shortEventLine(ev)} {
		if !strings.HasSuffix(line, want) || strings.Contains(line, "\n") {
			t.Errorf("%s line %q, want one line ending %q", name, line, want)
		}
	}
}
