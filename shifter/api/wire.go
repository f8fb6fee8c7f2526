package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// This file is the wire format that is not a domain type: the envelopes the
// server writes and the client reads, and the mapping between error codes and
// HTTP statuses. Both sides use these declarations, so they cannot disagree.

// ErrorResponse is the body of every error answer.
type ErrorResponse struct {
	Error *rollout.Error `json:"error"`
}

// EndpointList is the body of GET /v1/endpoints.
type EndpointList struct {
	Endpoints []rollout.EndpointView `json:"endpoints"`
}

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

// ActionRequest is the optional body of POST /v1/endpoints/{name}/actions/{kind}:
// the parts of a rollout.Command a caller chooses.
type ActionRequest struct {
	For    rollout.Duration `json:"for,omitempty"`
	To     string           `json:"to,omitempty"`
	Reason string           `json:"reason,omitempty"`
}

// MaxBodyBytes bounds a request body; specs are a few kilobytes.
const MaxBodyBytes = 1 << 20

// Event-stream constants shared with the client.
const (
	// EventStreamType is the media type of Server-Sent Events.
	EventStreamType = "text/event-stream"
	// LastEventIDHeader carries the sequence a reconnecting reader saw last.
	LastEventIDHeader = "Last-Event-ID"
)

// ETag returns the entity tag of an object at revision rev. The same form is
// accepted in If-Match, so a client can echo what it read.
func ETag(rev int64) string { return strconv.Quote(strconv.FormatInt(rev, 10)) }

// ErrorStatus returns the HTTP status that carries an error code.
// StatusErrorCode is its inverse; keep the two switches in step.
func ErrorStatus(code string) int {
	switch code {
	case rollout.EINVALID:
		return http.StatusBadRequest
	case rollout.ENOTFOUND:
		return http.StatusNotFound
	case rollout.ECONFLICT:
		return http.StatusConflict
	case rollout.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case rollout.EFORBIDDEN:
		return http.StatusForbidden
	case rollout.ETOOMANY:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// StatusErrorCode returns the error code an HTTP status stands for. The
// client uses it when an answer carries no code of its own.
func StatusErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return rollout.EINVALID
	case http.StatusNotFound:
		return rollout.ENOTFOUND
	case http.StatusTooManyRequests:
		return rollout.ETOOMANY
	case http.StatusConflict, http.StatusPreconditionFailed:
		return rollout.ECONFLICT
	case http.StatusUnauthorized:
		return rollout.EUNAUTHORIZED
	case http.StatusForbidden:
		return rollout.EFORBIDDEN
	default:
		return rollout.EINTERNAL
	}
}
