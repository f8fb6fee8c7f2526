// Package notify tells people about rollouts: started, waiting for a
// promote, complete, rolled back, aborted, failed. Each endpoint names a
// webhook and/or an SNS topic. A webhook takes the format it names
// (formats.go): a JSON message whose "text" Slack shows as is, an Adaptive
// Card for Microsoft Teams, a CloudEvent carrying a CDEvent, or a Grafana
// annotation; the SNS topic gets the JSON message.
// Delivery never holds a rollout up: the reconciler only queues, workers
// deliver with retries, and a receiver that keeps failing is given up on.
package notify

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"syscall"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// SNS is the part of SNS the notifier uses.
type SNS interface {
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Notifier delivers notifications. Set the fields, then Start.
type Notifier struct {
	// HTTP posts to webhooks (default: a client with a 10 s timeout).
	HTTP *http.Client
	// SNS returns the SNS of an endpoint's placement.
	SNS    func(rollout.Placement) (SNS, error)
	Logger hclog.Logger
	// Attempts per delivery (default 5), waiting Backoff, then twice as
	// long each time, at most 30 s (default 1 s).
	Attempts int
	Backoff  time.Duration
	// Queue is how many deliveries may wait (default 1000); beyond it new
	// ones are dropped with a warning rather than blocking a rollout.
	Queue int
	// MayReachPrivate, when set, says whether a team's webhooks may reach
	// private addresses (rollout.PrivateHost); for a team that may not,
	// the addresses a webhook's host resolves to are checked as they are
	// dialled, so a public name that points inside is refused too. nil:
	// every webhook may reach any address.
	MayReachPrivate func(team string) bool

	// outside is HTTP's client refusing to dial private addresses.
	outside *http.Client
	queue   chan delivery
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// Message is the JSON body of a webhook and of an SNS message.
type Message struct {
	// Text is a one-line summary; Slack's incoming webhooks show it.
	Text     string            `json:"text"`
	Endpoint string            `json:"endpoint"`
	Team     string            `json:"team,omitempty"`
	Type     string            `json:"type"`
	Track    string            `json:"track,omitempty"`
	Version  string            `json:"version,omitempty"`
	Message  string            `json:"message"`
	Time     time.Time         `json:"time"`
	Details  map[string]string `json:"details,omitempty"`
	// ObserveOnly says what it tells was decided for an observe-only
	// endpoint and did not happen in AWS.
	ObserveOnly bool `json:"observe_only,omitempty"`
}

type delivery struct {
	placement rollout.Placement
	target    rollout.Notifications
	msg       Message
}

// notified are the event types people are told about.
var notified = map[string]string{
	rollout.EventRolloutStarted:    "started",
	rollout.EventRolloutPaused:     "is waiting",
	rollout.EventRolloutComplete:   "complete",
	rollout.EventRolloutRolledBack: "ROLLED BACK",
	rollout.EventRolloutAborted:    "aborted",
	rollout.EventRolloutFailed:     "FAILED",
	rollout.EventOverrideStarted:   "OVERRIDE",
	rollout.EventOverrideEnded:     "override ended",
}

// notifiedCondition says what a condition event tells people, if anything:
// only the conditions that block rollouts are worth waking someone for.
func notifiedCondition(e rollout.Event) (string, bool) {
	if e.Details["blocking"] != "true" {
		return "", false
	}
	switch e.Type {
	case rollout.EventConditionStarted:
		return "BLOCKED (" + e.Details["condition"] + ")", true
	case rollout.EventConditionEnded:
		return "unblocked", true
	}
	return "", false
}

// label names the endpoint in a message's text, saying when what it tells
// did not happen in AWS.
func label(ep rollout.Endpoint) string {
	if ep.ObserveOnly {
		return ep.Name + " (observe only: nothing was done in AWS)"
	}
	return ep.Name
}

// workers deliver in parallel so one slow receiver does not delay others.
const workers = 4

// Start runs the delivery workers until Stop.
func (n *Notifier) Start(ctx context.Context) {
	if n.HTTP == nil {
		n.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if n.Logger == nil {
		n.Logger = hclog.NewNullLogger()
	}
	n.outside = outsideOnly(n.HTTP)
	n.Attempts = cmp.Or(n.Attempts, 5)
	n.Backoff = cmp.Or(n.Backoff, time.Second)
	n.queue = make(chan delivery, cmp.Or(n.Queue, 1000))
	ctx, n.cancel = context.WithCancel(ctx)
	for range workers {
		n.wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case d := <-n.queue:
					n.deliver(ctx, d)
				}
			}
		})
	}
}

// Stop stops the workers; deliveries still queued are dropped.
func (n *Notifier) Stop() {
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
}

// Decided queues notifications for the events of a decision
// (reconcile.Config.Decided). It never blocks.
func (n *Notifier) Decided(ep rollout.Endpoint, _ rollout.State, events []rollout.Event) {
	target := ep.Notifications
	if target == (rollout.Notifications{}) {
		return
	}
	for _, e := range events {
		what, ok := notified[e.Type]
		if !ok {
			what, ok = notifiedCondition(e)
		}
		if !ok {
			continue
		}
		subject := e.Version
		if subject == "" {
			subject = "endpoint"
		}
		msg := Message{
			Text:        fmt.Sprintf("[%s] %s %s: %s", label(ep), subject, what, e.Message),
			Endpoint:    ep.Name,
			ObserveOnly: ep.ObserveOnly,
			Team:        ep.Team,
			Type:        e.Type,
			Track:       string(e.Track),
			Version:     e.Version,
			Message:     e.Message,
			Time:        e.Time,
			Details:     e.Details,
		}
		select {
		case n.queue <- delivery{placement: ep.Placement, target: target, msg: msg}:
		default:
			n.Logger.Warn("notification dropped: queue full", "endpoint", ep.Name, "type", e.Type)
		}
	}
}

// deliver sends one message to the endpoint's webhook and topic, each with
// its own retries.
func (n *Notifier) deliver(ctx context.Context, d delivery) {
	if d.target.WebhookURL != "" {
		n.sendWebhook(ctx, d)
	}
	if d.target.SNSTopicARN == "" {
		return
	}
	body, err := json.Marshal(d.msg)
	if err != nil {
		n.Logger.Error("notification not encoded", "endpoint", d.msg.Endpoint, "error", err)
		return
	}
	n.retry(ctx, d.msg, "sns", func() (bool, error) { return true, n.publish(ctx, d, body) })
}

// sendWebhook posts the message to the endpoint's webhook in its format.
func (n *Notifier) sendWebhook(ctx context.Context, d delivery) {
	body, contentType, ok, err := webhookBody(d.target.WebhookFormat, d.msg)
	switch {
	case err != nil:
		n.Logger.Error("notification not encoded", "endpoint", d.msg.Endpoint, "format", d.target.WebhookFormat, "error", err)
		return
	case !ok:
		return // nothing to say of this event in this format
	}
	client := n.HTTP
	if n.MayReachPrivate != nil && !n.MayReachPrivate(d.msg.Team) {
		client = n.outside
	}
	n.retry(ctx, d.msg, "webhook", func() (bool, error) { return post(ctx, client, d.target.WebhookURL, body, contentType) })
}

// retry runs send until it succeeds, reports a failure not worth retrying,
// or runs out of attempts.
func (n *Notifier) retry(ctx context.Context, msg Message, via string, send func() (retryable bool, err error)) {
	wait := n.Backoff
	for attempt := 1; ; attempt++ {
		retryable, err := send()
		if err == nil {
			n.Logger.Debug("notification delivered", "endpoint", msg.Endpoint, "type", msg.Type, "via", via, "attempt", attempt)
			return
		}
		if !retryable || attempt == n.Attempts {
			n.Logger.Warn("notification not delivered", "endpoint", msg.Endpoint, "type", msg.Type, "via", via, "attempts", attempt, "error", err)
			return
		}
		n.Logger.Debug("notification attempt failed; trying again", "endpoint", msg.Endpoint, "type", msg.Type, "via", via, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// post sends body to a webhook. A 4xx other than 429 is not retried: the
// receiver will refuse it again.
func post(ctx context.Context, client *http.Client, rawURL string, body []byte, contentType string) (retryable bool, err error) {
	// The URL may carry a secret (Slack's do) in its path, query or user
	// info, so no error says more of it than its scheme and host.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return false, errors.New("the webhook URL does not parse")
	}
	where := req.URL.Scheme + "://" + req.URL.Host
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "ionroller-shifter")
	res, err := client.Do(req)
	if err != nil {
		// Do wraps every error in a *url.Error, which quotes the whole URL.
		if uerr := (*url.Error)(nil); errors.As(err, &uerr) {
			err = uerr.Err
		}
		return true, fmt.Errorf("webhook %s: %w", where, err)
	}
	res.Body.Close()
	if res.StatusCode < 300 {
		return false, nil
	}
	err = fmt.Errorf("webhook %s answered %s", where, res.Status)
	return res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests, err
}

func (n *Notifier) publish(ctx context.Context, d delivery, body []byte) error {
	client, err := n.SNS(d.placement)
	if err != nil {
		return err
	}
	subject := fmt.Sprintf("ionroller %s: %s %s", d.msg.Endpoint, d.msg.Version, notified[d.msg.Type])
	_, err = client.Publish(ctx, &sns.PublishInput{
		TopicArn: awssdk.String(d.target.SNSTopicARN),
		Subject:  awssdk.String(subject[:min(len(subject), 100)]),
		Message:  awssdk.String(string(body)),
	})
	return err
}

// outsideOnly returns a copy of c that refuses to connect to a private
// address (rollout.PrivateHost), whatever name led to it.
func outsideOnly(c *http.Client) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if t, ok := c.Transport.(*http.Transport); ok {
		transport = t.Clone()
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil || rollout.PrivateHost(host) {
			return fmt.Errorf("%s is a private address, which this team's webhooks may not reach", host)
		}
		return nil
	}}
	transport.DialContext = dialer.DialContext
	transport.Proxy = nil // a proxy would dial for us, past the check
	outside := *c
	outside.Transport = transport
	return &outside
}
