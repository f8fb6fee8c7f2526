package rollout

import "slices"

// Course is what a track does about its desired release: which of the
// planner's rules (DESIGN §3) acts on it.
type Course string

const (
	// CourseContinue: the rollout in flight is the release's, and goes on
	// (rules 6–10).
	CourseContinue Course = "continue"
	// CourseKeep: the stable environment runs the release, and keeps all
	// the traffic (rule 2).
	CourseKeep Course = "keep"
	// CourseRevert: the stable environment runs the release while a
	// rollout to another is in flight: all the traffic goes back to stable
	// in one write (rule 3).
	CourseRevert Course = "revert"
	// CourseRollback: a hot environment runs the release: all the traffic
	// moves to it in one write (rule 4).
	CourseRollback Course = "rollback"
	// CourseRollout: the release rolls out step by step, in a new
	// environment unless one already runs it (rule 5; after rule 11 when
	// another rollout is in flight).
	CourseRollout Course = "rollout"
)

// chooseCourse is the first of the planner's rules that applies to a
// track's desired release k, given the key of the rollout in flight (nil
// when none is) and whether the stable environment, or a hot one, runs k.
func chooseCourse(k Key, inFlight *Key, stableRuns, hotRuns bool) Course {
	switch {
	case inFlight != nil && *inFlight == k:
		return CourseContinue
	case stableRuns && inFlight != nil:
		return CourseRevert
	case stableRuns:
		return CourseKeep
	case hotRuns:
		return CourseRollback
	}
	return CourseRollout
}

// activeKey returns the key of r while it is in flight, nil otherwise.
func (r *Rollout) activeKey() *Key {
	if !r.Active() {
		return nil
	}
	return &r.Key
}

// Forecast is what declaring a release would do, foreseen from its
// endpoint's status.
type Forecast struct {
	// Key is the release's.
	Key    Key
	Course Course
	// Stable is the environment the track serves from now; nil before
	// its first release.
	Stable *EnvironmentStatus
	// To is the environment the release runs on once the course is run:
	// the stable one (keep, revert), the hot one (rollback), the target of
	// the rollout in flight (continue), or for a rollout one that already
	// runs the release (such as the preview's); nil when a rollout creates
	// a new environment.
	To *EnvironmentStatus
	// Superseded is the rollout in flight that the release ends, its
	// share of traffic going back to stable at once; nil when none does.
	Superseded *RolloutStatus
}

// Foresee returns what declaring a release with key k on track would do on
// an endpoint whose status is s: the course the planner's rules take
// (chooseCourse), from what the status shows of the track. s.Rollout is the
// production track's: on the preview track no rollout in flight is seen.
func Foresee(s EndpointStatus, track Track, k Key) Forecast {
	f := Forecast{Key: k}
	var hot, runs *EnvironmentStatus
	for i := range s.Environments {
		e := &s.Environments[i]
		if slices.Contains(e.StableOn, track) {
			f.Stable = e
		}
		if !k.runBy(e.Version, e.TemplateHash) || e.Phase == phaseExpiring {
			continue
		}
		if runs == nil {
			runs = e
		}
		if hot == nil && track == Production && e.Hot() {
			hot = e
		}
	}
	var inFlight *Key
	if r := s.Rollout; track == Production && r != nil && !r.Phase.Done() {
		inFlight = &Key{Version: r.Version, TemplateHash: r.TemplateHash, Retry: r.Retry}
	}
	stableRuns := f.Stable != nil && k.runBy(f.Stable.Version, f.Stable.TemplateHash)
	f.Course = chooseCourse(k, inFlight, stableRuns, hot != nil)
	switch f.Course {
	case CourseKeep, CourseRevert:
		f.To = f.Stable
	case CourseRollback:
		f.To = hot
	default:
		f.To = runs
	}
	if inFlight != nil && f.Course != CourseContinue {
		f.Superseded = s.Rollout
	}
	return f
}

// NewTemplate reports whether the forecast is a rollout of the version the
// track serves: what the version runs (its endpoint's template, its image
// or its environment variables) changed.
func (f Forecast) NewTemplate() bool {
	return f.Course == CourseRollout && f.Stable != nil && f.Stable.Version == f.Key.Version
}
