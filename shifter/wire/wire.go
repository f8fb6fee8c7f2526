// Package wire is the shifter's API v1 as it travels: the bodies that are
// not domain types, the error body and the HTTP statuses of its codes,
// revisions as ETag and If-Match, and the constants of event streams. The
// api package serves it and the client speaks it; both import this package
// and neither imports the other, so the two cannot drift and a client links
// nothing of the server. It imports only the standard library and rollout.
package wire

import (
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// MaxBodyBytes bounds a request body; specs are a few kilobytes.
const MaxBodyBytes = 1 << 20

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error *rollout.Error `json:"error"`
}

// EndpointList is the body of GET /v1/endpoints.
type EndpointList struct {
	Endpoints []rollout.EndpointView `json:"endpoints"`
}

// Role is what a token may do. Each role includes the ones before it.
type Role string

const (
	// RoleRead may read every endpoint, release and event it can see.
	RoleRead Role = "read"
	// RoleDeploy may also declare and remove releases and act on rollouts:
	// what a team's CI needs, without being able to delete its endpoints.
	RoleDeploy Role = "deploy"
	// RoleAdmin may also create, change and delete endpoints.
	RoleAdmin Role = "admin"
)

// WhoAmI is the body of GET /v1/whoami: the principal a request acts as.
type WhoAmI struct {
	Name string `json:"name"`
	Team string `json:"team,omitempty"`
	Role Role   `json:"role"`
}

// ReplicasView is the body of GET /v1/replicas: the shifter replica that
// answered and the live replicas. Leased is false on a store one shifter
// owns (bbolt): that shifter is the only replica and acts on every endpoint.
type ReplicasView struct {
	Replica  string        `json:"replica"`
	Leased   bool          `json:"leased"`
	Replicas []ReplicaView `json:"replicas"`
}

// ReplicaView is a live replica: when its heartbeat expires unrenewed, and
// the endpoint leases it holds, among those the caller may see.
type ReplicaView struct {
	ID      string      `json:"id"`
	Expires time.Time   `json:"expires,omitzero"`
	Leases  []LeaseView `json:"leases,omitempty"`
}

// LeaseView is an endpoint lease: its generation grows each time the lease
// changes hands.
type LeaseView struct {
	Endpoint   string    `json:"endpoint"`
	Generation int64     `json:"generation"`
	Expires    time.Time `json:"expires"`
}

// EventPage is the body of GET /v1/endpoints/{name}/events. Next is the
// sequence to pass as after to read on: the last event's, or the request's
// after when there was none.
type EventPage struct {
	Events []rollout.Event `json:"events"`
	Next   int64           `json:"next"`
}

// SpecRevisionView is a revision of an endpoint's spec as the API serves it:
// its secrets redacted, and what changed since Against (the revision it
// replaced, or the one the request named); Against is 0, and there are no
// changes, when there is nothing to compare with.
type SpecRevisionView struct {
	rollout.SpecRevision
	Against int64            `json:"against,omitempty"`
	Changes []rollout.Change `json:"changes,omitempty"`
}

// SpecRevisionPage is the body of GET /v1/endpoints/{name}/revisions. Next
// is the revision to pass as from to read on; 0 on the last page.
type SpecRevisionPage struct {
	Revisions []SpecRevisionView `json:"revisions"`
	Next      int64              `json:"next,omitempty"`
}

// ActionRequest is the optional body of POST /v1/endpoints/{name}/actions/{kind}:
// the parts of a rollout.Command a caller chooses.
type ActionRequest struct {
	For    rollout.Duration `json:"for,omitempty"`
	To     string           `json:"to,omitempty"`
	Reason string           `json:"reason,omitempty"`
	// Via says what the caller ran the command from: "" (the API, the
	// CLI) or ViaTerraformAction. The command's actor says so, so that the
	// trail tells a Terraform action from a person at a terminal.
	Via string `json:"via,omitempty"`
}

// ViaTerraformAction is ActionRequest.Via of a command run by a Terraform
// action (`terraform apply -invoke`, or an action_trigger).
const ViaTerraformAction = "terraform_action"

// ActorVia is the actor of a command that principal name ran via via: the
// name alone, or "alice (Terraform action)".
func ActorVia(name, via string) string {
	if via == ViaTerraformAction {
		return name + " (Terraform action)"
	}
	return name
}

// Event streams: GET /v1/endpoints/{name}/events with Accept: EventStreamType.
const (
	// EventStreamType is the media type of Server-Sent Events.
	EventStreamType = "text/event-stream"
	// LastEventIDHeader carries the sequence a reconnecting reader saw last.
	LastEventIDHeader = "Last-Event-ID"
	// Heartbeat is how often the server writes a comment to a quiet
	// stream, so proxies keep it open and a reader can tell a quiet stream
	// from a dead one.
	Heartbeat = 15 * time.Second
)
