package rollout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// SpecRevision is one kept revision of an endpoint's spec: the store writes
// one with every write of the spec, in the same transaction, so that what
// ran (an environment records the revision it was built from) and what
// changed can be read back.
type SpecRevision struct {
	Endpoint string `json:"endpoint"`
	Revision int64  `json:"revision"`
	// Replaces is the revision this one replaced; 0 when it created the
	// endpoint.
	Replaces int64     `json:"replaces"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor,omitempty"`
	Spec     Endpoint  `json:"spec"`
}

// NewSpecRevision returns the revision the store keeps of ep as stored.
// Revisions count up by one from 1, so ep replaced the one before it.
func NewSpecRevision(ep Endpoint) SpecRevision {
	return SpecRevision{Endpoint: ep.Name, Revision: ep.Revision, Replaces: ep.Revision - 1, Time: ep.UpdatedAt, Actor: ep.UpdatedBy, Spec: ep}
}

// Redacted returns r as the API shows it: its spec's secrets replaced by
// whether they are set, as for the endpoint itself.
func (r SpecRevision) Redacted() SpecRevision {
	r.Spec = r.Spec.Redacted()
	return r
}

// Change is one field of a spec that differs between two revisions. Path
// names it as the API's JSON does (template.env.LOG_LEVEL,
// policy.steps[1].weight); Old and New are its JSON values, absent when the
// field was not set. A secret (a field Endpoint.Redacted hides) says only
// that it changed: Secret is set and neither value is given.
type Change struct {
	Path   string          `json:"path"`
	Old    json.RawMessage `json:"old,omitempty"`
	New    json.RawMessage `json:"new,omitempty"`
	Secret bool            `json:"secret,omitempty"`
}

// String says what changed for people: `template.instance_type: "t3.micro"
// → "t3.small"`, or `notifications.webhook_url: changed (secret)`.
func (c Change) String() string {
	if c.Secret {
		return c.Path + ": changed (secret)"
	}
	show := func(v json.RawMessage) string {
		if v == nil {
			return "(unset)"
		}
		return string(v)
	}
	return fmt.Sprintf("%s: %s → %s", c.Path, show(c.Old), show(c.New))
}

// Diff returns the fields of the spec that differ from old to new, sorted by
// path. What the shifter stamps on every write (revision, times, who wrote
// it, whether secrets are set) is not part of the spec. The secrets are the
// fields Redacted hides, so that what the API never shows no diff shows
// either.
func Diff(old, new Endpoint) []Change {
	o, n := flatSpec(old), flatSpec(new)
	secret := map[string]bool{}
	for _, ep := range []Endpoint{old, new} {
		shown := flatSpec(ep.Redacted())
		for path := range flatSpec(ep) {
			if _, ok := shown[path]; !ok {
				secret[path] = true
			}
		}
	}
	changes := []Change{}
	for _, path := range slices.Sorted(maps.Keys(union(o, n))) {
		ov, oin := o[path]
		nv, nin := n[path]
		if oin == nin && bytes.Equal(ov, nv) {
			continue
		}
		c := Change{Path: path, Old: ov, New: nv}
		if secret[path] {
			c = Change{Path: path, Secret: true}
		}
		changes = append(changes, c)
	}
	return changes
}

// flatSpec returns the JSON values of ep's spec by path.
func flatSpec(ep Endpoint) map[string]json.RawMessage {
	ep.Revision, ep.CreatedAt, ep.UpdatedAt, ep.UpdatedBy = 0, time.Time{}, time.Time{}, ""
	ep.Placement.ExternalIDSet, ep.Notifications.WebhookURLSet = false, false
	data, err := json.Marshal(ep)
	if err != nil {
		// An Endpoint is plain data: it always encodes.
		panic(fmt.Sprintf("encode endpoint %q: %v", ep.Name, err))
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(fmt.Sprintf("decode endpoint %q: %v", ep.Name, err))
	}
	out := map[string]json.RawMessage{}
	flatten("", v, out)
	return out
}

// flatten puts the leaves of v (objects and lists taken apart) into out by
// path. An empty object has no leaves (its fields are unset); an empty list
// is a leaf, so that clearing a list shows.
func flatten(path string, v any, out map[string]json.RawMessage) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(p, e, out)
		}
		return
	case []any:
		if len(v) > 0 {
			for i, e := range v {
				flatten(path+"["+strconv.Itoa(i)+"]", e, out)
			}
			return
		}
	}
	data, _ := json.Marshal(v) // decoded from JSON, so it encodes
	out[path] = data
}

func union[V any](a, b map[string]V) map[string]V {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// Retention bounds how much of an endpoint's spec history is kept: the
// newest Keep revisions (0: any number), none older than MaxAge (0: any
// age). The current revision, and the revision of every environment the
// state still has (serving, hot, coming up or going), are kept whatever
// their age or number: they say what runs.
type Retention struct {
	Keep   int
	MaxAge time.Duration
}

// Expired returns the revisions of revs (sorted oldest first) that r lets
// go as of now, given the endpoint's current revision and its state.
func (r Retention) Expired(now time.Time, revs []SpecRevision, current int64, st State) []int64 {
	kept := map[int64]bool{current: true}
	for _, e := range st.Environments {
		kept[e.SpecRevision] = true
	}
	var expired []int64
	for i, rev := range revs {
		newer := len(revs) - 1 - i
		tooMany := r.Keep > 0 && newer >= r.Keep
		tooOld := r.MaxAge > 0 && now.Sub(rev.Time) > r.MaxAge
		if (tooMany || tooOld) && !kept[rev.Revision] {
			expired = append(expired, rev.Revision)
		}
	}
	return expired
}
