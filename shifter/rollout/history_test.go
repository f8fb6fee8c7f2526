package rollout

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDiff(t *testing.T) {
	base := func() Endpoint {
		ep := NewEndpoint()
		ep.Name, ep.Revision, ep.UpdatedBy, ep.UpdatedAt = "web", 3, "alice", time.Unix(100, 0)
		ep.Template.Env = map[string]string{"LOG_LEVEL": "info"}
		ep.Placement.ExternalID = "old-external-id"
		ep.Notifications.WebhookURL = "https://hooks.example.com/old"
		return ep
	}
	tests := []struct {
		name   string
		change func(ep *Endpoint)
		want   []string
	}{
		{"nothing but what the shifter stamps", func(ep *Endpoint) {
			ep.Revision, ep.UpdatedBy, ep.UpdatedAt = 4, "bob", time.Unix(200, 0)
			ep.Placement.ExternalIDSet = true
		}, nil},
		{"a field", func(ep *Endpoint) { ep.Template.InstanceType = "t3.small" },
			[]string{`template.instance_type: "t3.micro" → "t3.small"`}},
		{"a map entry added and one changed", func(ep *Endpoint) {
			ep.Template.Env = map[string]string{"LOG_LEVEL": "debug", "REGION": "eu-west-1"}
		}, []string{`template.env.LOG_LEVEL: "info" → "debug"`, `template.env.REGION: (unset) → "eu-west-1"`}},
		{"a list shortened", func(ep *Endpoint) { ep.Policy.Steps = ep.Policy.Steps[1:] }, []string{
			`policy.steps[0].weight: 10 → 50`,
			`policy.steps[1].pause: "5m0s" → (unset)`,
			`policy.steps[1].weight: 50 → 100`,
			`policy.steps[2].weight: 100 → (unset)`,
		}},
		{"secrets changed and removed", func(ep *Endpoint) {
			ep.Placement.ExternalID = "new-external-id"
			ep.Notifications.WebhookURL = ""
		}, []string{"notifications.webhook_url: changed (secret)", "placement.external_id: changed (secret)"}},
		{"a secret set", func(ep *Endpoint) { ep.Notifications.SNSTopicARN = "arn:aws:sns:eu-west-1:123456789012:t" },
			[]string{`notifications.sns_topic_arn: (unset) → "arn:aws:sns:eu-west-1:123456789012:t"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, next := base(), base()
			tt.change(&next)
			var got []string
			for _, c := range Diff(old, next) {
				got = append(got, c.String())
				for _, secret := range []string{"old-external-id", "new-external-id", "hooks.example.com"} {
					if strings.Contains(string(c.Old)+string(c.New), secret) {
						t.Errorf("change %s shows the secret %q", c.Path, secret)
					}
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Diff =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRetentionExpired(t *testing.T) {
	now := time.Unix(100000, 0)
	revs := func(n int) []SpecRevision {
		var out []SpecRevision
		for i := 1; i <= n; i++ {
			// Revision i was written (n-i) hours ago.
			out = append(out, SpecRevision{Revision: int64(i), Time: now.Add(-time.Duration(n-i) * time.Hour)})
		}
		return out
	}
	running := State{Environments: []Environment{{ID: "e1", SpecRevision: 2}, {ID: "e2", SpecRevision: 5}}}
	tests := []struct {
		name    string
		r       Retention
		current int64
		st      State
		want    []int64
	}{
		{"unbounded", Retention{}, 6, State{}, nil},
		{"by count", Retention{Keep: 2}, 6, State{}, []int64{1, 2, 3, 4}},
		{"by age", Retention{MaxAge: 150 * time.Minute}, 6, State{}, []int64{1, 2, 3}},
		{"by either", Retention{Keep: 4, MaxAge: 90 * time.Minute}, 6, State{}, []int64{1, 2, 3, 4}},
		{"what runs is kept", Retention{Keep: 1}, 6, running, []int64{1, 3, 4}},
		{"the current one is kept", Retention{MaxAge: time.Minute}, 1, State{}, []int64{2, 3, 4, 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.Expired(now, revs(6), tt.current, tt.st); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Expired = %v, want %v", got, tt.want)
			}
		})
	}
}
