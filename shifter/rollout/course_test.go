package rollout

import (
	"testing"
	"time"
)

// TestForeseeTakesThePlannersCourse has a row per course of DESIGN §3: each
// builds a situation as an Input, foresees the production release from the
// status the API would serve of it, and checks both the forecast and that
// the planner, given the same Input, takes that course.
func TestForeseeTakesThePlannersCourse(t *testing.T) {
	withEnv := func(in *Input, version string) {
		r := Release{Endpoint: in.Endpoint.Name, Track: Production, Version: version, Env: map[string]string{"MODE": "fast"}}
		in.Production = NewDesired(in.Endpoint, r)
	}
	for _, tc := range []struct {
		name  string
		given func(in *Input)
		// want is the course; to the environment it goes to ("" for a new
		// one) and superseded the version of the rollout it ends.
		want        Course
		to          string
		superseded  string
		newTemplate bool
	}{
		{name: "rule 2: desired = stable keeps it", given: func(*Input) {}, want: CourseKeep, to: "e1"},
		{name: "rule 2: a raised retry of the stable release keeps it", given: func(in *Input) {
			in.Production = desire(in.Endpoint, "v1")
			in.Production.Release.Retry, in.Production.Key.Retry = 1, 1
		}, want: CourseKeep, to: "e1"},
		{name: "rule 3: desired = stable during a canary reverts", given: func(in *Input) {
			withCanary(in, 0, in.Now)
			in.Production = desire(in.Endpoint, "v1")
		}, want: CourseRevert, to: "e1", superseded: "v2"},
		{name: "rules 6–10: desired = the rollout in flight goes on", given: func(in *Input) {
			withCanary(in, 0, in.Now)
		}, want: CourseContinue, to: "e2"},
		{name: "rule 4: desired is hot rolls back", given: func(in *Input) {
			withHot(in, "e0", "v0", in.Now.Add(time.Minute))
			in.Production = desire(in.Endpoint, "v0")
		}, want: CourseRollback, to: "e0"},
		{name: "rule 4: hot while it serves the preview route rolls back", given: func(in *Input) {
			withHot(in, "e0", "v0", in.Now.Add(time.Minute))
			in.State.Preview.Stable = "e0"
			withRoute(in, Preview, map[string]int{"e0": 100})
			in.Production = desire(in.Endpoint, "v0")
		}, want: CourseRollback, to: "e0"},
		{name: "rule 11 then 4: a hot version during a canary rolls back", given: func(in *Input) {
			withHot(in, "e0", "v0", in.Now.Add(time.Minute))
			withCanary(in, 0, in.Now)
			in.Production = desire(in.Endpoint, "v0")
		}, want: CourseRollback, to: "e0", superseded: "v2"},
		{name: "rule 5: a version past its rollback window rolls out step by step, on its environment until it is torn down", given: func(in *Input) {
			withHot(in, "e0", "v0", in.Now.Add(-time.Second))
			in.Production = desire(in.Endpoint, "v0")
		}, want: CourseRollout, to: "e0"},
		{name: "rule 5: a hot version with another template rolls out anew", given: func(in *Input) {
			withHot(in, "e0", "v0", in.Now.Add(time.Minute))
			withEnv(in, "v0")
		}, want: CourseRollout},
		{name: "rule 5: a new version rolls out", given: func(in *Input) {
			in.Production = desire(in.Endpoint, "v2")
		}, want: CourseRollout},
		{name: "rule 5: the stable version with another template rolls out anew", given: func(in *Input) {
			withEnv(in, "v1")
		}, want: CourseRollout, newTemplate: true},
		{name: "rule 5: a version the preview runs rolls out on its environment", given: func(in *Input) {
			withPreviewLive(in)
			in.Production = desire(in.Endpoint, "v2")
		}, want: CourseRollout, to: "e2"},
		{name: "rule 11 then 5: another version during a canary supersedes it", given: func(in *Input) {
			withCanary(in, 0, in.Now)
			in.Production = desire(in.Endpoint, "v3")
		}, want: CourseRollout, superseded: "v2"},
		{name: "rule 11 then 5: a raised retry during its own canary supersedes it", given: func(in *Input) {
			withCanary(in, 0, in.Now)
			in.Production.Release.Retry, in.Production.Key.Retry = 1, 1
		}, want: CourseRollout, to: "e2", superseded: "v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := steady()
			tc.given(&in)
			f := Foresee(DescribeEndpoint(in.Now, in.Endpoint, in.State), Production, in.Production.Key)
			if f.Course != tc.want {
				t.Errorf("course %s, want %s", f.Course, tc.want)
			}
			if to := envID(f.To); to != tc.to {
				t.Errorf("to environment %q, want %q", to, tc.to)
			}
			if v := supersededVersion(f); v != tc.superseded {
				t.Errorf("supersedes the rollout of %q, want %q", v, tc.superseded)
			}
			if f.NewTemplate() != tc.newTemplate {
				t.Errorf("new template %t, want %t", f.NewTemplate(), tc.newTemplate)
			}
			if envID(f.Stable) != "e1" {
				t.Errorf("stable environment %q, want e1", envID(f.Stable))
			}
			if planned, target := plannedCourse(in, Plan(in)); planned != f.Course || (f.To != nil && target != f.To.ID) {
				t.Errorf("the planner takes course %s to %s; foreseen %s to %q", planned, target, f.Course, envID(f.To))
			}
		})
	}
}

// TestForeseeOnTheFirstRelease: an endpoint that never had a release
// rolls it out with no stable environment.
func TestForeseeOnTheFirstRelease(t *testing.T) {
	ep := testEndpoint()
	f := Foresee(DescribeEndpoint(ruleNow, ep, State{Endpoint: ep.Name}), Production, desire(ep, "v1").Key)
	if f.Course != CourseRollout || f.Stable != nil || f.To != nil || f.Superseded != nil || f.NewTemplate() {
		t.Errorf("forecast %+v, want a rollout with nothing stable", f)
	}
}

// plannedCourse reads off a decision the course the planner took for the
// production release, and the environment it sends traffic to.
func plannedCourse(in Input, d Decision) (Course, string) {
	before, after := in.State.Production.Rollout, d.State.Production.Rollout
	switch {
	case after != nil && after.ID > in.State.NextRollout && after.Kind == KindRollback:
		return CourseRollback, after.Target
	case after != nil && after.ID > in.State.NextRollout:
		return CourseRollout, after.Target
	case before.Active() && after.Active():
		return CourseContinue, after.Target
	case before.Active():
		return CourseRevert, d.State.Production.Stable
	}
	return CourseKeep, d.State.Production.Stable
}

func supersededVersion(f Forecast) string {
	if f.Superseded == nil {
		return ""
	}
	return f.Superseded.Version
}

func envID(e *EnvironmentStatus) string {
	if e == nil {
		return ""
	}
	return e.ID
}
