package notify

import (
	"cmp"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// webhookBody renders msg in a webhook's format (rollout.WebhookFormats):
// the body and its content type, or ok false when the format has nothing to
// say of the event.
func webhookBody(format string, msg Message) (body []byte, contentType string, ok bool, err error) {
	var v any
	contentType = "application/json"
	switch format {
	case rollout.WebhookTeams:
		v = adaptiveCard(msg)
	case rollout.WebhookCloudEvents:
		var ce *cloudEvent
		if ce, ok = cdEvent(msg); !ok {
			return nil, "", false, nil
		}
		v, contentType = ce, "application/cloudevents+json"
	case rollout.WebhookGrafana:
		v = annotation(msg)
	default: // rollout.WebhookSlack
		v = msg
	}
	body, err = json.Marshal(v)
	return body, contentType, true, err
}

// adaptiveCard is msg as a Microsoft Teams Workflows webhook takes it: a
// message with one Adaptive Card attachment ("Create incoming webhooks with
// Workflows for Microsoft Teams"; Adaptive Cards schema 1.4).
func adaptiveCard(msg Message) map[string]any {
	facts := []map[string]string{{"title": "Endpoint", "value": msg.Endpoint}}
	if msg.Version != "" {
		facts = append(facts, map[string]string{"title": "Version", "value": msg.Version})
	}
	if msg.Team != "" {
		facts = append(facts, map[string]string{"title": "Team", "value": msg.Team})
	}
	facts = append(facts, map[string]string{"title": "Event", "value": msg.Type})
	return map[string]any{
		"type": "message",
		"attachments": []map[string]any{{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type":    "AdaptiveCard",
				"version": "1.4",
				"body": []map[string]any{
					{"type": "TextBlock", "text": msg.Text, "weight": "Bolder", "wrap": true},
					{"type": "TextBlock", "text": msg.Message, "wrap": true},
					{"type": "FactSet", "facts": facts},
				},
			},
		}},
	}
}

// cloudEvent is a CloudEvent in the structured JSON mode (CloudEvents 1.0,
// "JSON Event Format"), carrying a CDEvent as its data.
type cloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Time            string    `json:"time"`
	Subject         string    `json:"subject"`
	DataContentType string    `json:"datacontenttype"`
	Data            cdEventV4 `json:"data"`
}

// cdEventV4 is a service event of CDEvents 0.4 ("Continuous Deployment
// Pipeline Events": service.deployed, service.upgraded, service.rolledback,
// version 0.2.0 of each).
type cdEventV4 struct {
	Context struct {
		Version   string `json:"version"`
		ID        string `json:"id"`
		Source    string `json:"source"`
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
	} `json:"context"`
	Subject struct {
		ID      string `json:"id"`
		Source  string `json:"source"`
		Content struct {
			Environment struct {
				ID string `json:"id"`
			} `json:"environment"`
			ArtifactID string `json:"artifactId"`
		} `json:"content"`
	} `json:"subject"`
}

// CDEvents' versions.
const (
	cdEventsSpec    = "0.4.1"
	cdServiceEvents = "0.2.0"
)

// cdEvent is the CDEvent of a version that went live (deployed on an
// endpoint's first release, upgraded over another version, rolledback to a
// hot one) or that an alarm or a metric rolled back; other events, and those
// of an observe-only endpoint (nothing was deployed), have none.
func cdEvent(msg Message) (*cloudEvent, bool) {
	var kind string
	switch {
	case msg.ObserveOnly:
		return nil, false
	case msg.Type == rollout.EventRolloutComplete && msg.Details["kind"] == string(rollout.KindRollback):
		kind = "rolledback"
	case msg.Type == rollout.EventRolloutComplete && msg.Details["previous"] == "":
		kind = "deployed"
	case msg.Type == rollout.EventRolloutComplete:
		kind = "upgraded"
	default:
		return nil, false
	}
	typ := "dev.cdevents.service." + kind + "." + cdServiceEvents
	source := "/ionroller/endpoints/" + msg.Endpoint
	id := msg.Endpoint + "-" + strconv.FormatInt(msg.Time.UnixNano(), 36) + "-" + kind
	at := msg.Time.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	var data cdEventV4
	data.Context.Version, data.Context.ID, data.Context.Source, data.Context.Type, data.Context.Timestamp = cdEventsSpec, id, source, typ, at
	data.Subject.ID, data.Subject.Source = msg.Endpoint, source
	data.Subject.Content.Environment.ID = cmp.Or(msg.Track, string(rollout.Production))
	data.Subject.Content.ArtifactID = artifactID(msg.Details["image"])
	return &cloudEvent{SpecVersion: "1.0", ID: id, Source: source, Type: typ, Time: at, Subject: msg.Endpoint,
		DataContentType: "application/json", Data: data}, true
}

// artifactID names an image as a package URL, as CDEvents' artifactId wants
// (purl type oci: pkg:oci/NAME@DIGEST?repository_url=REPOSITORY&tag=TAG).
func artifactID(image string) string {
	if image == "" {
		return ""
	}
	ref, digest, _ := strings.Cut(image, "@")
	repo, tag := ref, ""
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		repo, tag = ref[:i], ref[i+1:]
	}
	purl := "pkg:oci/" + repo[strings.LastIndexByte(repo, '/')+1:]
	if digest != "" {
		purl += "@" + strings.ReplaceAll(digest, ":", "%3A")
	}
	purl += "?repository_url=" + repo
	if tag != "" {
		purl += "&tag=" + tag
	}
	return purl
}

// annotation is msg as Grafana's HTTP API takes an annotation (POST
// /api/annotations): the time in milliseconds, tags to find it by, and text.
func annotation(msg Message) map[string]any {
	tags := []string{"ionroller", "endpoint:" + msg.Endpoint, msg.Type}
	if msg.Version != "" {
		tags = append(tags, "version:"+msg.Version)
	}
	if msg.Team != "" {
		tags = append(tags, "team:"+msg.Team)
	}
	return map[string]any{"time": msg.Time.UnixMilli(), "tags": tags, "text": msg.Text}
}
