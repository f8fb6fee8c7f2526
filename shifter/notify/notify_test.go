package notify_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
	got      chan struct{}
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
	r.got <- struct{}{}
}

func start(t *testing.T, n *notify.Notifier) *notify.Notifier {
	n.Backoff = 10 * time.Millisecond
	n.Logger = hclog.NewNullLogger()
	n.Start(t.Context())
	t.Cleanup(n.Stop)
	return n
}

func endpoint(notifications rollout.Notifications) rollout.Endpoint {
	return rollout.Endpoint{Name: "web", Team: "payments", Notifications: notifications}
}

func wait(t *testing.T, ch <-chan struct{}, n int) {
	t.Helper()
	for range n {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("webhook not called")
		}
	}
}

func TestWebhookIsRetriedUntilItAccepts(t *testing.T) {
	r := &receiver{statuses: []int{500, 503}, got: make(chan struct{}, 10)}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := start(t, &notify.Notifier{})
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL + "/hook"}), rollout.State{}, []rollout.Event{
		{Type: rollout.EventStepApplied, Message: "not notified"}, rolledBack,
	})
	wait(t, r.got, 3)
	time.Sleep(50 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 3 {
		t.Fatalf("webhook called %d times, want 3 (two failures, one success)", len(r.bodies))
	}
	m := r.bodies[2]
	if m.Type != rollout.EventRolloutRolledBack || m.Endpoint != "web" || m.Team != "payments" || m.Details["cause"] != "alarm" {
		t.Errorf("message = %+v", m)
	}
	if want := "[web] v2 ROLLED BACK: rollout 2 of version v2 rolled_back: alarm web-5xx entered ALARM"; m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
}

func TestWebhookRefusingTheMessageIsNotRetried(t *testing.T) {
	r := &receiver{statuses: []int{400}, got: make(chan struct{}, 10)}
	srv := httptest.NewServer(r)
	defer srv.Close()
	n := start(t, &notify.Notifier{})
	n.Decided(endpoint(rollout.Notifications{WebhookURL: srv.URL}), rollout.State{}, []rollout.Event{rolledBack})
	wait(t, r.got, 1)
	time.Sleep(100 * time.Millisecond)
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bodies) != 1 {
		t.Errorf("webhook called %d times after a 400, want 1", len(r.bodies))
	}
}

// TestHungReceiverNeverBlocksTheCaller: the reconciler calls Decided on
// every decision; a receiver that never answers must not hold it up.
func TestHungReceiverNeverBlocksTheCaller(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	n := start(t, &notify.Notifier{Queue: 5})
	ep := endpoint(rollout.Notifications{WebhookURL: srv.URL})
	for range 1000 {
		n.Decided(ep, rollout.State{}, []rollout.Event{rolledBack})
	}
}

func TestSNSTopicGetsTheMessage(t *testing.T) {
	cfg := awstest.Config(t)
	set, err := aws.NewClients(cfg, hclog.NewNullLogger()).For(rollout.Placement{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	topic, err := set.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: awssdk.String("rollouts")})
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
	if _, err := set.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: awssdk.String("sqs"), Endpoint: awssdk.String(attrs.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatal(err)
	}

	n := start(t, &notify.Notifier{SNS: func(rollout.Placement) (notify.SNS, error) { return set.SNS, nil }})
	n.Decided(endpoint(rollout.Notifications{SNSTopicARN: *topic.TopicArn}), rollout.State{}, []rollout.Event{rolledBack})

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var m notify.Message
		if err := json.Unmarshal([]byte(*out.Messages[0].Body), &m); err != nil {
			t.Fatalf("message %q: %v", *out.Messages[0].Body, err)
		}
		if m.Type != rollout.EventRolloutRolledBack || !strings.Contains(m.Text, "ROLLED BACK") {
			t.Errorf("message = %+v", m)
		}
		return
	}
	t.Fatal("no message reached the topic's queue")
}
