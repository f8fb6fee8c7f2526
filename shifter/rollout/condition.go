package rollout

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Condition is something about an endpoint that people must know because
// the shifter cannot fix it by itself, or not yet: AWS not answering, a
// listener the user owns gone, an alarm that does not exist. It lasts from
// Since until the shifter sees it end; its start and its end are events.
type Condition struct {
	Type    ConditionType `json:"type"`
	Since   time.Time     `json:"since"`
	Message string        `json:"message"`
	// Names are what the condition is about, when it is about some of
	// the endpoint's things: the alarms missing, the versions unchecked.
	Names []string `json:"names,omitempty"`
	// Blocking says the endpoint cannot move while it lasts: a rollout
	// that is due to act holds where it is.
	Blocking bool `json:"blocking,omitempty"`
}

// ConditionType names a condition. The architecture guide documents each
// one, with what starts and ends it.
type ConditionType string

const (
	// AWSUnreachable: the endpoint's AWS calls fail, or go unanswered
	// for longer than AWS ever takes.
	AWSUnreachable ConditionType = "aws_unreachable"
	// Throttled: AWS throttled the endpoint's calls; the shifter slows
	// down and tries again, so they are late, not lost.
	Throttled ConditionType = "throttled"
	// TrafficMissing: the listener (or its load balancer) the endpoint
	// routes on does not exist. The user owns it: the shifter touches no
	// traffic until it is back or the endpoint names another.
	TrafficMissing ConditionType = "traffic_missing"
	// AlarmMissing: a policy alarm does not exist, so automatic rollback
	// cannot see what it watches; a rollout holds (policy.on_missing_alarm).
	AlarmMissing ConditionType = "alarm_missing"
	// ActionFailing: an AWS action keeps failing; it is retried.
	ActionFailing ConditionType = "action_failing"
	// NotHealthChecked: an environment on a route whose targets the load
	// balancer does not health-check (unused), so its health is unknown.
	NotHealthChecked ConditionType = "not_health_checked"
	// ImageUnresolved: the image of an environment to be created could
	// not be resolved to a digest (no such tag, the registry unreachable
	// or refusing the shifter): the environment waits, and resolving is
	// tried again every poll.
	ImageUnresolved ConditionType = "image_unresolved"
	// TrafficNotFollowing: a step's hold for its traffic
	// (policy.observed_traffic) ended at max_wait with the shares the load
	// balancer counted further from the weights than the tolerance, and
	// the last count still is. It ends with a count within tolerance, or
	// with the step.
	TrafficNotFollowing ConditionType = "traffic_not_following"
	// TrafficUnobserved: a step's hold for its traffic ended at max_wait
	// without a single request counted, and none has been since: whether
	// the traffic follows the weights is unknown. It ends with the first
	// request counted, or with the step.
	TrafficUnobserved ConditionType = "traffic_unobserved"
	// ObservationStale: the shifter has not observed AWS for the endpoint
	// for two resync intervals (it is down, or cannot store what it saw),
	// so nothing in the status is verified.
	ObservationStale ConditionType = "observation_stale"
)

// Conditions is an endpoint's set of conditions, at most one of each type.
type Conditions []Condition

// Get returns the condition of type t, or nil.
func (cs Conditions) Get(t ConditionType) *Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

// Blocking returns the first blocking condition, or nil.
func (cs Conditions) Blocking() *Condition {
	for i := range cs {
		if cs[i].Blocking {
			return &cs[i]
		}
	}
	return nil
}

// Update returns the conditions now present, given the ones before: a
// condition that goes on keeps its Since and takes the newer message, and
// every condition that starts or ends is an event.
func (cs Conditions) Update(now time.Time, endpoint string, present Conditions) (Conditions, []Event) {
	var out Conditions
	var events []Event
	for _, c := range present {
		if old := cs.Get(c.Type); old != nil {
			c.Since = old.Since
		} else {
			c.Since = now
			events = append(events, conditionEvent(endpoint, EventConditionStarted, c, c.Message))
		}
		out = append(out, c)
	}
	for _, old := range cs {
		if out.Get(old.Type) == nil {
			events = append(events, conditionEvent(endpoint, EventConditionEnded, old,
				fmt.Sprintf("%s ended after %s", old.Type, now.Sub(old.Since).Round(time.Second))))
		}
	}
	slices.SortFunc(out, func(a, b Condition) int { return cmp.Compare(a.Type, b.Type) })
	return out, events
}

func conditionEvent(endpoint, typ string, c Condition, message string) Event {
	details := map[string]string{"condition": string(c.Type)}
	if c.Blocking {
		details["blocking"] = "true"
	}
	return Event{Endpoint: endpoint, Actor: ActorShifter, Type: typ, Message: message, Details: details}
}
