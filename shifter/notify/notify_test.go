package notify_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/notify"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

func TestMain(m *testing.M) { awstest.Main(m) }

var rolledBack = rollout.Event{
	Type: rollout.EventRolloutRolledBack, Version: "v2", Time: time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
	Message: "rollout 2 of version v2 rolled_back: alarm web-5xx entered ALARM", Details: map[string]string{"cause": "alarm"},
}

// receiver is a webhook that answers with the given statuses in turn, then
// 200, and keeps what it received.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	bodies   []notify.Message
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var m notify.Message
	b, _ := io.ReadAll(req.Body)
	_ = json.Unmarshal(b, &m)
	r.mu.Lock()
	r.bodies = append(r.bodies, m)
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	w.WriteHeader(status)
}

// received returns what the receiver was sent.
func (r *receiver) received() []notify.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.bodies)
}

// ends hears, from the notifier's log, each delivery end: delivered or
// given up, after which nothing more is sent for it.
type ends chan string

func (e ends) Accept(_ string, _ hclog.Level, msg string, _ ...any) {
	if msg == "notification delivered" || msg == "notification not delivered" {
		select {
		case e <- msg:
		default: // never block the notifier; no test waits for that many
		}
	}
}

// next waits for the next delivery to end and returns how.
func (e ends) next(t *testing.T) string {
	t.Helper()
	select {
	case msg := <-e:
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery ended within 10s")
		return ""
	}
}

// start starts n with short backoffs and returns the ends of its deliveries.
func start(t *testing.T, n *notify.Notifier) ends {
	e := make(ends, 16)
	logger := hclog.NewInterceptLogger(&hclog.LoggerOptions{Output: io.Discard})
	logger.RegisterSink(e)
	n.Backoff = 10 * time.Millisecond
	n.Logger = logger
	n.Start(t.Context())
	t.Cleanup(n.Stop)
	return e
}

func endpoint(notifications rollout.Notifications) rollout.Endpoint {
	return rollout.Endpoint{Name: "web", Team: "payments", Notifications: notifications}
}

func TestWebhookIsRetriedUntilItAccepts(t *testing.T) {
	r := &receiver{statuses: []int{500, 503}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := &notify.Notifier{}
	ends := start(t, n)
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL + "/hook"}), rollout.State{}, []rollout.Event{
		{Type: rollout.EventStepApplied, Message: "not notified"}, rolledBack,
	})
	if end := ends.next(t); end != "notification delivered" {
		t.Fatalf("delivery ended with %q", end)
	}
	bodies := r.received()
	if len(bodies) != 3 {
		t.Fatalf("webhook called %d times, want 3 (two failures, one success)", len(bodies))
	}
	m := bodies[2]
	if m.Type != rollout.EventRolloutRolledBack || m.Endpoint != "web" || m.Team != "payments" || m.Details["cause"] != "alarm" {
		t.Errorf("message = %+v", m)
	}
	if want := "[web] v2 ROLLED BACK: rollout 2 of version v2 rolled_back: alarm web-5xx entered ALARM"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
}

func TestWebhookRefusingTheMessageIsNotRetried(t *testing.T) {
	r := &receiver{statuses: []int{400}}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := &notify.Notifier{}
	ends := start(t, n)
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL}), rollout.State{}, []rollout.Event{rolledBack})
	if end := ends.next(t); end != "notification not delivered" {
		t.Fatalf("delivery ended with %q", end)
	}
	if got := len(r.received()); got != 1 {
		t.Errorf("webhook called %d times after a 400, want 1", got)
	}
}

// TestHungReceiverNeverBlocksTheCaller: the reconciler calls Decided on
// every decision; a receiver that never answers must not hold it up.
func TestHungReceiverNeverBlocksTheCaller(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	n := &notify.Notifier{Queue: 5}
	start(t, n)
	ep := endpoint(rollout.Notifications{WebhookURL: srv.URL})
	for range 1000 {
		n.Decided(ep, rollout.State{}, []rollout.Event{rolledBack})
	}
}

func TestSNSTopicGetsTheMessage(t *testing.T) {
	cfg := awstest.Config(t)
	set, err := aws.NewClients(cfg, hclog.NewNullLogger(), schedule.Options{}).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	setup := sns.NewFromConfig(awstest.Exempt(cfg)) // the test's, not the notifier's: no call of the shifter's
	topic, err := setup.CreateTopic(ctx, &sns.CreateTopicInput{Name: awssdk.String("rollouts")})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: awssdk.String("rollouts")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: awssdk.String("sqs"), Endpoint: awssdk.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}

	n := &notify.Notifier{SNS: func(rollout.Placement) (notify.SNS, error) { return set.SNS, nil }}
	ends := start(t, n)
	n.Decided(endpoint(rollout.Notifications{SNSTopicARN: *topic.TopicArn}), rollout.State{}, []rollout.Event{rolledBack})
	if end := ends.next(t); end != "notification delivered" {
		t.Fatalf("delivery ended with %q", end)
	}

	// Published means delivered to the subscribed queue (moto delivers at once).
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) == 0 {
		t.Fatal("no message reached the topic's queue")
	}
	var m notify.Message
	if err := json.Unmarshal([]byte(*out.Messages[0].Body), &m); err != nil {
		t.Fatalf("message %q: %v", *out.Messages[0].Body, err)
	}
	if m.Type != rollout.EventRolloutRolledBack || !strings.Contains(m.Text, "ROLLED BACK") {
		t.Errorf("message = %+v", m)
	}
}

func TestOnlyConditionsThatBlockRolloutsAreNotified(t *testing.T) {
	r := &receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := &notify.Notifier{}
	ends := start(t, n)
	started := func(condition string, blocking bool) rollout.Event {
		e := rollout.Event{Type: rollout.EventConditionStarted, Message: "AWS did not answer within 10s", Details: map[string]string{"condition": condition}}
		if blocking {
			e.Details["blocking"] = "true"
		}
		return e
	}
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL}), rollout.State{}, []rollout.Event{
		started("throttled", false), started("aws_unreachable", true),
	})
	if end := ends.next(t); end != "notification delivered" {
		t.Fatalf("delivery ended with %q", end)
	}
	bodies := r.received()
	if len(bodies) != 1 {
		t.Fatalf("%d messages, want 1 (the blocking condition only): %+v", len(bodies), bodies)
	}
	if want := "[web] endpoint BLOCKED (aws_unreachable): AWS did not answer within 10s"; bodies[0].Text != want {
		t.Errorf("text = %q, want %q", bodies[0].Text, want)
	}
}

// TestAnOverrideIsNotifiedWhenItStartsAndEnds: break glass is something
// everyone on the endpoint's channel must hear of.
func TestAnOverrideIsNotifiedWhenItStartsAndEnds(t *testing.T) {
	r := &receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := &notify.Notifier{}
	ends := start(t, n)
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL}), rollout.State{}, []rollout.Event{
		{Type: rollout.EventOverrideStarted, Version: "v1", Message: "production traffic overridden to version v1 until 2026-12-04T10:00:00Z by alice: bad carts"},
		{Type: rollout.EventReleaseDeferred, Version: "v3", Message: "release v3 waits"},
		{Type: rollout.EventOverrideEnded, Version: "v1", Message: "override to version v1 ended: lifted by alice; releases roll out again"},
	})
	for range 2 {
		if end := ends.next(t); end != "notification delivered" {
			t.Fatalf("delivery ended with %q", end)
		}
	}
	var texts []string
	for _, b := range r.received() {
		texts = append(texts, b.Text)
	}
	slices.Sort(texts)
	want := []string{
		"[web] v1 OVERRIDE: production traffic overridden to version v1 until 2026-12-04T10:00:00Z by alice: bad carts",
		"[web] v1 override ended: override to version v1 ended: lifted by alice; releases roll out again",
	}
	if !slices.Equal(texts, want) {
		t.Errorf("texts = %q, want %q", texts, want)
	}
}

// TestWebhookOfATeamStaysOutside: a team that may not reach private
// addresses does not, even by a name that resolves to one (the check is on
// the address dialled); one that may, does, by the same URL.
func TestWebhookOfATeamStaysOutside(t *testing.T) {
	r := &receiver{}
	srv := httptest.NewServer(r)
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	hook := rollout.Notifications{WebhookURL: "http://localhost:" + port + "/hook"}
	n := &notify.Notifier{MayReachPrivate: func(team string) bool { return team == "labs" }}
	ends := start(t, n)
	n.Decided(endpoint(hook), rollout.State{}, []rollout.Event{rolledBack}) // team payments
	if end := ends.next(t); end != "notification not delivered" || len(r.received()) != 0 {
		t.Fatalf("a payments webhook to loopback: %q, %d received", end, len(r.received()))
	}
	labs := endpoint(hook)
	labs.Team = "labs"
	n.Decided(labs, rollout.State{}, []rollout.Event{rolledBack})
	if end := ends.next(t); end != "notification delivered" || len(r.received()) != 1 {
		t.Fatalf("a labs webhook to loopback: %q, %d received", end, len(r.received()))
	}
}

// raw is a webhook that keeps every request it gets, as sent.
type raw struct {
	mu       sync.Mutex
	requests []rawRequest
}

type rawRequest struct {
	contentType, user, password string
	body                        map[string]any
}

func (r *raw) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var body map[string]any
	b, _ := io.ReadAll(req.Body)
	_ = json.Unmarshal(b, &body)
	user, password, _ := req.BasicAuth()
	r.mu.Lock()
	r.requests = append(r.requests, rawRequest{req.Header.Get("Content-Type"), user, password, body})
	r.mu.Unlock()
}

func (r *raw) received() []rawRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.requests)
}

// field reads a path of keys and list indexes in a decoded JSON body.
func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestEachWebhookFormatIsWhatItsReceiverTakes sends a first release, an
// upgrade, a rollback to a hot version and an alarm's rollback to a webhook
// of each format, and reads them as Slack, Teams' Workflows, a CloudEvents
// consumer of CDEvents and Grafana's annotations API would.
func TestEachWebhookFormatIsWhatItsReceiverTakes(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	complete := func(version, kind, previous string) rollout.Event {
		details := map[string]string{"kind": kind, "image": "registry.example.com/web:" + version + "@sha256:" + strings.Repeat("a", 64)}
		if previous != "" {
			details["previous"] = previous
		}
		return rollout.Event{Type: rollout.EventRolloutComplete, Track: rollout.Production, Version: version, Time: at,
			Message: "version " + version + " is live on production", Details: details}
	}
	events := []rollout.Event{
		complete("v1", string(rollout.KindDeploy), ""),
		complete("v2", string(rollout.KindDeploy), "v1"),
		complete("v1", string(rollout.KindRollback), "v2"),
		rolledBack,
	}
	for _, tc := range []struct {
		format string
		want   int // deliveries
		check  func(t *testing.T, got []rawRequest)
	}{
		{rollout.WebhookSlack, 4, func(t *testing.T, got []rawRequest) {
			for _, r := range got {
				if text, _ := r.body["text"].(string); !strings.HasPrefix(text, "[web] v") || r.contentType != "application/json" {
					t.Errorf("slack message %v (%s): want a text beginning with the endpoint", r.body, r.contentType)
				}
			}
		}},
		{rollout.WebhookTeams, 4, func(t *testing.T, got []rawRequest) {
			for _, r := range got {
				card := field(r.body, "attachments", 0)
				if field(r.body, "type") != "message" || field(card, "contentType") != "application/vnd.microsoft.card.adaptive" ||
					field(card, "content", "type") != "AdaptiveCard" || field(card, "content", "version") != "1.4" {
					t.Errorf("teams message %v: want a message with one Adaptive Card 1.4", r.body)
				}
				if text, _ := field(card, "content", "body", 0, "text").(string); !strings.HasPrefix(text, "[web] v") {
					t.Errorf("the card's title is %q", text)
				}
				if field(card, "content", "body", 2, "facts", 0, "value") != "web" {
					t.Errorf("the card's facts do not name the endpoint: %v", field(card, "content", "body", 2))
				}
			}
		}},
		{rollout.WebhookCloudEvents, 3, func(t *testing.T, got []rawRequest) {
			var types []string
			for _, r := range got {
				typ, _ := r.body["type"].(string)
				types = append(types, typ)
				for _, attr := range []string{"specversion", "id", "source", "type", "time"} {
					if s, _ := r.body[attr].(string); s == "" {
						t.Errorf("cloud event %v has no %s", r.body, attr)
					}
				}
				if r.contentType != "application/cloudevents+json" || r.body["specversion"] != "1.0" || field(r.body, "data", "context", "type") != typ {
					t.Errorf("cloud event %v (%s): want CloudEvents 1.0, structured, its CDEvent of the same type", r.body, r.contentType)
				}
				if id, _ := field(r.body, "data", "subject", "content", "artifactId").(string); !strings.HasPrefix(id, "pkg:oci/web@sha256%3A") ||
					!strings.Contains(id, "repository_url=registry.example.com/web") {
					t.Errorf("artifactId %q is not the image's package URL", id)
				}
				if field(r.body, "data", "subject", "content", "environment", "id") != "production" {
					t.Errorf("environment of %v: want production", r.body)
				}
			}
			slices.Sort(types)
			want := []string{"dev.cdevents.service.deployed.0.2.0", "dev.cdevents.service.rolledback.0.2.0", "dev.cdevents.service.upgraded.0.2.0"}
			if !slices.Equal(types, want) {
				t.Errorf("cloud event types %v, want %v (nothing for the alarm's rollback, which took no version live)", types, want)
			}
		}},
		{rollout.WebhookGrafana, 4, func(t *testing.T, got []rawRequest) {
			for _, r := range got {
				if r.user != "api_key" || r.password != "glsa_token" {
					t.Errorf("grafana got user %q password %q: want the URL's api_key and token as basic auth", r.user, r.password)
				}
				tags, _ := r.body["tags"].([]any)
				if ms, _ := r.body["time"].(float64); !slices.Contains(tags, any("endpoint:web")) || int64(ms) != at.UnixMilli() && int64(ms) != rolledBack.Time.UnixMilli() {
					t.Errorf("annotation %v: want the event's time in ms and the endpoint's tag", r.body)
				}
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := &raw{}
			srv := httptest.NewServer(r)
			defer srv.Close()
			url := srv.URL
			if tc.format == rollout.WebhookGrafana {
				url = strings.Replace(url, "http://", "http://api_key:glsa_token@", 1) + "/api/annotations"
			}
			n := &notify.Notifier{}
			ends := start(t, n)
			n.Decided(endpoint(rollout.Notifications{WebhookURL: url, WebhookFormat: tc.format}), rollout.State{}, events)
			for range tc.want {
				if end := ends.next(t); end != "notification delivered" {
					t.Fatalf("delivery ended with %q", end)
				}
			}
			got := r.received()
			if len(got) != tc.want {
				t.Fatalf("%d deliveries, want %d", len(got), tc.want)
			}
			tc.check(t, got)
		})
	}
}
