package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/schedule"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// A condition is what the shifter found wrong and cannot fix, or not yet
// (rollout.Condition). The actor senses them on every pass and keeps them in
// the endpoint's state, with an event when one starts or ends, so that every
// replica's API shows them.

// throttledFor is how long a throttle keeps the throttled condition: AWS
// throttles in bursts, and a condition that comes and goes with every burst
// would bury the trail.
const throttledFor = time.Minute

// sense returns the conditions a pass that observed AWS found, given the
// calls it made (tally), what it read (v) and what it decided (st).
func (a *actor) sense(in rollout.Input, st rollout.State, v view, tally *schedule.Tally) rollout.Conditions {
	now := a.r.cfg.Now()
	var out rollout.Conditions
	if ops := tally.Throttled(); len(ops) > 0 {
		a.throttled = now
		a.throttledOps = uniq(ops)
	}
	if now.Sub(a.throttled) < throttledFor {
		out = append(out, rollout.Condition{Type: rollout.Throttled,
			Message: fmt.Sprintf("AWS throttled %s; the shifter slows down and tries again", strings.Join(a.throttledOps, ", "))})
	}
	if c := a.unresolvedImages(); c != nil {
		out = append(out, *c)
	}
	if c := missingAlarms(in, v); c != nil {
		out = append(out, *c)
	}
	out = append(out, rollout.TrafficConditions(in.Endpoint, st)...)
	var failing []string
	for key, err := range a.failures {
		failing = append(failing, key+": "+err)
	}
	if a.trafficReadFailure != "" {
		failing = append(failing, trafficReadKey+": "+a.trafficReadFailure)
	}
	if len(failing) > 0 {
		slices.Sort(failing)
		out = append(out, rollout.Condition{Type: rollout.ActionFailing,
			Message: fmt.Sprintf("%d AWS %s failing, retried: %s", len(failing), plural(len(failing), "action", "actions"), strings.Join(failing, "; "))})
	}
	return out
}

// missingAlarms returns the condition of the policy alarms that do not exist,
// or nil. Alarms are read only while they can stop a rollout; in between, the
// last finding stands for the alarms the policy still names.
func missingAlarms(in rollout.Input, v view) *rollout.Condition {
	names := alarmsToWatch(in)
	if v.observed.Alarms == nil || len(names) == 0 {
		old := in.State.Conditions.Get(rollout.AlarmMissing)
		if old == nil || !slices.ContainsFunc(old.Names, func(n string) bool { return slices.Contains(in.Endpoint.Policy.Alarms, n) }) {
			return nil
		}
		return old
	}
	var missing []string
	for _, n := range names {
		if _, ok := v.observed.Alarms[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	what := "alarm " + missing[0] + " does not exist"
	if len(missing) > 1 {
		what = "alarms " + strings.Join(missing, ", ") + " do not exist"
	}
	c := &rollout.Condition{Type: rollout.AlarmMissing, Names: missing, Message: what + ": automatic rollback cannot see what it watches"}
	if !in.Endpoint.Policy.ProceedWithoutAlarms {
		c.Blocking = true // the planner holds rollouts before their next step
	}
	return c
}

// unobserved records why a pass could not observe AWS (err) as a condition,
// keeping the conditions it could not look at, and returns err.
func (a *actor) unobserved(ctx context.Context, ep rollout.Endpoint, st rollout.State, err error) error {
	a.failedObservations++
	var c rollout.Condition
	var stalled *schedule.StalledError
	switch {
	case errors.Is(err, ErrTrafficMissing):
		c = rollout.Condition{Type: rollout.TrafficMissing, Blocking: true, Message: err.Error()}
	case errors.As(err, &stalled):
		c = rollout.Condition{Type: rollout.AWSUnreachable, Blocking: true, Message: stalled.Error()}
	case a.failedObservations >= 2:
		// One failure that the SDK's retries did not hide may be a blip;
		// two in a row are not.
		c = rollout.Condition{Type: rollout.AWSUnreachable, Blocking: true, Message: "AWS calls fail: " + err.Error()}
	default:
		return err
	}
	present := slices.DeleteFunc(slices.Clone(st.Conditions), func(o rollout.Condition) bool {
		return o.Type == rollout.AWSUnreachable || o.Type == rollout.TrafficMissing
	})
	d := rollout.Decision{State: st}
	if saveErr := a.save(ctx, st, &d, append(present, c), false); saveErr != nil {
		return errors.Join(err, saveErr)
	}
	a.r.cfg.Decided(ep, d.State, d.Events)
	return err
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// health is what the reconciler knows of its own state, for /readyz: the
// blocking conditions of the endpoints it acts on, and whether the store
// refuses its writes.
type health struct {
	mu          sync.Mutex
	blocking    map[string]rollout.Condition // by endpoint
	storeFailed time.Time                    // since when writes fail; zero when they do not
	storeErr    error
}

// conditionsOf records the conditions an endpoint's actor stored last.
func (r *Reconciler) conditionsOf(endpoint string, cs rollout.Conditions) {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	if c := cs.Blocking(); c != nil {
		r.health.blocking[endpoint] = *c
	} else {
		delete(r.health.blocking, endpoint)
	}
}

// stored records how a write to the store ended, and returns err.
func (r *Reconciler) stored(err error) error {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	switch {
	case errors.Is(err, context.Canceled):
		// Stopped or preempted: says nothing of the store.
	case err == nil || rollout.ErrorCode(err) == rollout.ECONFLICT:
		r.health.storeFailed, r.health.storeErr = time.Time{}, nil
	case r.health.storeFailed.IsZero():
		r.health.storeFailed, r.health.storeErr = r.cfg.Now(), err
	default:
		r.health.storeErr = err
	}
	return err
}

// Degraded says what keeps this replica from doing all of its work, one
// reason a line, or nothing when all is well: /readyz shows it, and the
// shifter still serves its API, which is how people find out more.
func (r *Reconciler) Degraded() []string {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	var out []string
	if !r.health.storeFailed.IsZero() {
		out = append(out, fmt.Sprintf("store writes fail for %s: %v", r.cfg.Now().Sub(r.health.storeFailed).Round(time.Second), r.health.storeErr))
	}
	byType := map[rollout.ConditionType][]string{}
	for endpoint, c := range r.health.blocking {
		byType[c.Type] = append(byType[c.Type], endpoint)
	}
	for _, t := range slices.Sorted(maps.Keys(byType)) {
		eps := byType[t]
		slices.Sort(eps)
		out = append(out, fmt.Sprintf("%s: %d %s (%s)", t, len(eps), plural(len(eps), "endpoint", "endpoints"), strings.Join(eps[:min(len(eps), 5)], ", ")))
	}
	return out
}

// unresolved is why an image could not be resolved to a digest, and when.
type unresolved struct {
	why string
	at  time.Time
}

// resolve returns the digests of the images the planner asked for. An image
// that cannot be resolved is left out, and its environment waits: it never
// runs by tag instead. Why is kept for the image_unresolved condition, and
// it is tried again a poll later. Only a cancelled pass is an error.
func (a *actor) resolve(ctx context.Context, images Images, refs []string) (map[string]string, error) {
	now := a.r.cfg.Now()
	digests := make(map[string]string, len(refs))
	for _, ref := range refs {
		if u, ok := a.unresolved[ref]; ok && now.Sub(u.at) < a.r.cfg.Poll {
			continue
		}
		d, err := images.Digest(ctx, ref)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil && !rollout.ValidDigest(d) {
			err = fmt.Errorf("the registry answered %q, which is not a sha256 digest", d)
		}
		if err != nil {
			a.logger.Warn("image not resolved to a digest; its environment waits", "image", ref, "error", err)
			if a.unresolved == nil {
				a.unresolved = map[string]unresolved{}
			}
			a.unresolved[ref] = unresolved{why: err.Error(), at: now}
			continue
		}
		delete(a.unresolved, ref)
		digests[ref] = d
	}
	return digests, nil
}

// forgetUnresolved drops the failures of images no environment waits for
// any more (wanted: what the last plan asked to resolve).
func (a *actor) forgetUnresolved(wanted []string) {
	maps.DeleteFunc(a.unresolved, func(ref string, _ unresolved) bool { return !slices.Contains(wanted, ref) })
}

// unresolvedImages returns the condition of the images that could not be
// resolved, or nil.
func (a *actor) unresolvedImages() *rollout.Condition {
	if len(a.unresolved) == 0 {
		return nil
	}
	refs := slices.Sorted(maps.Keys(a.unresolved))
	why := make([]string, len(refs))
	for i, ref := range refs {
		why[i] = fmt.Sprintf("image %s could not be resolved to a digest (%s)", ref, a.unresolved[ref].why)
	}
	return &rollout.Condition{Type: rollout.ImageUnresolved, Names: refs,
		Message: fmt.Sprintf("%s; %s, tried again every poll", strings.Join(why, "; "),
			plural(len(refs), "its environment is not created until it is", "their environments are not created until they are"))}
}
