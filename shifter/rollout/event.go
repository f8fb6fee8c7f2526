package rollout

import "time"

// Event is one entry of ION-Trail, an endpoint's append-only history: every
// decision the shifter takes and every change a person makes.
type Event struct {
	Endpoint string            `json:"endpoint"`
	Seq      int64             `json:"seq"`
	Time     time.Time         `json:"time"`
	Actor    string            `json:"actor"`
	Type     string            `json:"type"`
	Track    Track             `json:"track,omitempty"`
	Version  string            `json:"version,omitempty"`
	Message  string            `json:"message"`
	Details  map[string]string `json:"details,omitempty"`
	// Changes are, for endpoint.updated, the fields of the spec that
	// changed (Diff): secrets say only that they changed.
	Changes []Change `json:"changes,omitempty"`
}

// ActorShifter is the actor of the shifter's own decisions.
const ActorShifter = "shifter"

// Event types. The architecture guide documents each one.
const (
	EventEndpointCreated     = "endpoint.created"
	EventEndpointUpdated     = "endpoint.updated"
	EventEndpointDeleting    = "endpoint.deleting"
	EventEndpointDeleted     = "endpoint.deleted"
	EventReleaseDeclared     = "release.declared"
	EventReleaseRemoved      = "release.removed"
	EventCommand             = "command"
	EventRolloutStarted      = "rollout.started"
	EventEnvironmentCreating = "environment.creating"
	EventEnvironmentHealthy  = "environment.healthy"
	EventEnvironmentScaled   = "environment.scaled"
	EventEnvironmentDeleting = "environment.deleting"
	EventEnvironmentDeleted  = "environment.deleted"
	EventEnvironmentMissing  = "environment.missing"
	// EventEnvironmentRescaled: an environment's capacity was changed
	// outside the shifter, which sets it back.
	EventEnvironmentRescaled = "environment.rescaled"
	EventEnvironmentCold     = "environment.cold"
	EventStepApplied         = "step.applied"
	EventRolloutPaused       = "rollout.paused"
	EventRolloutResumed      = "rollout.resumed"
	EventRolloutBaking       = "rollout.baking"
	EventRolloutComplete     = "rollout.complete"
	EventRolloutAborted      = "rollout.aborted"
	EventRolloutRolledBack   = "rollout.rolled_back"
	EventRolloutFailed       = "rollout.failed"
	EventAlarmReported       = "alarm.reported"
	EventMetricsJudged       = "metrics.judged"
	// EventTrafficObserved: a step's hold for its traffic ended
	// (policy.observed_traffic), with how (detail "outcome").
	EventTrafficObserved  = "traffic.observed"
	EventDriftRepaired    = "drift.repaired"
	EventPreviewRouted    = "preview.routed"
	EventPreviewRetired   = "preview.retired"
	EventActionFailed     = "action.failed"
	EventConditionStarted = "condition.started"
	EventConditionEnded   = "condition.ended"
	// EventOverrideStarted and EventOverrideEnded bound a break-glass
	// override; EventReleaseDeferred is a release declared during one,
	// which rolls out when it ends.
	EventOverrideStarted = "override.started"
	EventOverrideEnded   = "override.ended"
	EventReleaseDeferred = "release.deferred"
)

// Causes of a rollout that ended badly, in the "cause" detail of its event.
const (
	CauseAlarm      = "alarm"      // a policy alarm entered ALARM
	CauseMetric     = "metric"     // a metric check failed
	CauseOperator   = "operator"   // a person aborted or rolled back
	CauseUnhealthy  = "unhealthy"  // the environment was not healthy in time
	CauseSuperseded = "superseded" // another version was declared
)

// Command is an operator's request to a running rollout, queued in the store
// and applied by the endpoint's reconciler in sequence.
type Command struct {
	Endpoint string      `json:"endpoint"`
	Seq      int64       `json:"seq"`
	Kind     CommandKind `json:"kind"`
	// For is how long a pause lasts (0: until resumed), or an override.
	For Duration `json:"for,omitempty"`
	// To is the version a rollback returns to ("": the previous one), or
	// the one an override pins.
	To     string    `json:"to,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor"`
	Time   time.Time `json:"time"`
}

// CommandKind is what a person asks of a rollout.
type CommandKind string

const (
	CommandPromote  CommandKind = "promote"
	CommandPause    CommandKind = "pause"
	CommandResume   CommandKind = "resume"
	CommandAbort    CommandKind = "abort"
	CommandRollback CommandKind = "rollback"
	// CommandOverride pins production traffic to a version, the live one
	// or a hot one, for a bounded time (break glass); CommandLift ends it.
	CommandOverride CommandKind = "override"
	CommandLift     CommandKind = "lift"
)

// Valid reports whether k is a known command.
func (k CommandKind) Valid() bool {
	switch k {
	case CommandPromote, CommandPause, CommandResume, CommandAbort, CommandRollback, CommandOverride, CommandLift:
		return true
	}
	return false
}
