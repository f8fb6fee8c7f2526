package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
	"github.com/ionroller/terraform-provider-ionroller/shifter/store"
)

func mustPutEndpoint(t *testing.T, s store.Store, ep rollout.Endpoint, expect int64, events ...rollout.Event) rollout.Endpoint {
	t.Helper()
	got, err := s.PutEndpoint(t.Context(), ep, expect, events...)
	if err != nil {
		t.Fatalf("put endpoint %q expecting revision %d: %v", ep.Name, expect, err)
	}
	return got
}

func mustGetEndpoint(t *testing.T, s store.Store, name string) rollout.Endpoint {
	t.Helper()
	ep, err := s.GetEndpoint(t.Context(), name)
	if err != nil {
		t.Fatalf("get endpoint %q: %v", name, err)
	}
	return ep
}

func mustPutRelease(t *testing.T, s store.Store, r rollout.Release, expect int64, events ...rollout.Event) rollout.Release {
	t.Helper()
	got, err := s.PutRelease(t.Context(), r, expect, events...)
	if err != nil {
		t.Fatalf("put %s release of %q expecting revision %d: %v", r.Track, r.Endpoint, expect, err)
	}
	return got
}

func mustGetRelease(t *testing.T, s store.Store, endpoint string, track rollout.Track) rollout.Release {
	t.Helper()
	r, err := s.GetRelease(t.Context(), endpoint, track)
	if err != nil {
		t.Fatalf("get %s release of %q: %v", track, endpoint, err)
	}
	return r
}

func mustPutState(t *testing.T, s store.Store, st rollout.State, expect int64, events ...rollout.Event) rollout.State {
	t.Helper()
	got, err := s.PutState(t.Context(), st, expect, events...)
	if err != nil {
		t.Fatalf("put state of %q expecting revision %d: %v", st.Endpoint, expect, err)
	}
	return got
}

func mustGetState(t *testing.T, s store.Store, endpoint string) rollout.State {
	t.Helper()
	st, err := s.GetState(t.Context(), endpoint)
	if err != nil {
		t.Fatalf("get state of %q: %v", endpoint, err)
	}
	return st
}

func mustListEvents(t *testing.T, s store.Store, endpoint string, after int64, limit int) []rollout.Event {
	t.Helper()
	es, err := s.ListEvents(t.Context(), endpoint, after, limit)
	if err != nil {
		t.Fatalf("list events of %q after %d: %v", endpoint, after, err)
	}
	return es
}

func mustAppendCommand(t *testing.T, s store.Store, c rollout.Command) rollout.Command {
	t.Helper()
	got, err := s.AppendCommand(t.Context(), c)
	if err != nil {
		t.Fatalf("append %s command to %q: %v", c.Kind, c.Endpoint, err)
	}
	return got
}

func mustListCommands(t *testing.T, s store.Store, endpoint string, after int64) []rollout.Command {
	t.Helper()
	cmds, err := s.ListCommands(t.Context(), endpoint, after)
	if err != nil {
		t.Fatalf("list commands of %q after %d: %v", endpoint, after, err)
	}
	return cmds
}

// equal fails the test unless got and want are deeply equal, showing the
// first line where their JSON differs (or both values when only Go sees a
// difference, such as a nil slice against an empty one).
func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, gerr := json.MarshalIndent(got, "", "  ")
	w, werr := json.MarshalIndent(want, "", "  ")
	if gerr == nil && werr == nil {
		gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
		for i := range max(len(gl), len(wl)) {
			if i >= len(gl) || i >= len(wl) || gl[i] != wl[i] {
				t.Errorf("%s: differs at JSON line %d:\n got: %s\nwant: %s", what, i+1, line(gl, i), line(wl, i))
				return
			}
		}
	}
	t.Errorf("%s:\n got: %#v\nwant: %#v", what, got, want)
}

func line(lines []string, i int) string {
	if i >= len(lines) {
		return "(end)"
	}
	return strings.TrimSpace(lines[i])
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := rollout.ErrorCode(err); got != code {
		t.Fatalf("error %v has code %q, want %q", err, got, code)
	}
}

// wantNotFound expects ENOTFOUND with a message naming what was missing.
func wantNotFound(t *testing.T, err error, name string) {
	t.Helper()
	wantCode(t, err, rollout.ENOTFOUND)
	if !strings.Contains(err.Error(), name) {
		t.Errorf("not found error %q does not name %s", err, name)
	}
}

// wantConflict expects ECONFLICT with a message naming the object, the
// expected revision and the current one.
func wantConflict(t *testing.T, err error, name string, expect, current int64) {
	t.Helper()
	wantCode(t, err, rollout.ECONFLICT)
	msg := err.Error()
	for _, part := range []string{name, fmt.Sprintf("revision %d", expect), fmt.Sprintf("revision %d", current)} {
		if !strings.Contains(msg, part) {
			t.Errorf("conflict error %q does not say %q", msg, part)
		}
	}
}

// requireComplete fails the test if v has a zero value anywhere. A round
// trip only proves what its fixture exercises, so a field added to a domain
// type must be added to the fixtures too.
func requireComplete(t *testing.T, v any) {
	t.Helper()
	timeType := reflect.TypeFor[time.Time]()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		if v.IsZero() {
			t.Errorf("fixture: %s is zero", path)
			return
		}
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == timeType {
				return
			}
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(path+"."+f.Name, v.Field(i))
				}
			}
		case reflect.Pointer:
			walk(path, v.Elem())
		case reflect.Slice:
			for i := range v.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Map:
			for it := v.MapRange(); it.Next(); {
				walk(fmt.Sprintf("%s[%v]", path, it.Key()), it.Value())
			}
		}
	}
	walk(reflect.TypeOf(v).Name(), reflect.ValueOf(v))
}

// checkSequence expects got to be exactly 1..n in some order.
func checkSequence(t *testing.T, what string, got []int64, n int) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(got))
	if len(sorted) != n {
		t.Errorf("%d %s sequence numbers, want %d", len(sorted), what, n)
		return
	}
	for i, seq := range sorted {
		if seq != int64(i+1) {
			t.Errorf("%s sequence numbers are not exactly 1..%d: first difference at %d (%d)", what, n, i+1, seq)
			return
		}
	}
}

func seqs(events []rollout.Event) []int64 {
	var out []int64
	for _, e := range events {
		out = append(out, e.Seq)
	}
	return out
}

func names(eps []rollout.Endpoint) []string {
	var out []string
	for _, ep := range eps {
		out = append(out, ep.Name)
	}
	return out
}

// tick lets a real clock move on, so that a later write carries a later time
// even where the clock is coarse.
func tick() { time.Sleep(20 * time.Millisecond) }

// at returns a fixed time plus some minutes. Fixture times are UTC with
// microsecond precision, which every store can keep exactly.
func at(minutes int) time.Time {
	return time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

// The fixtures below set every field, nested ones included, to a non-zero
// value; requireComplete checks that they still do.

func fullEndpoint(name string) rollout.Endpoint {
	return rollout.Endpoint{
		Name: name,
		Team: "payments",
		Placement: rollout.Placement{
			Region:     "eu-west-1",
			RoleARN:    "arn:aws:iam::123456789012:role/shifter",
			ExternalID: "ext-42",
			// Only the API's answers carry it, but a store keeps what it is given.
			ExternalIDSet: true,
		},
		Traffic: rollout.Traffic{
			ListenerARN:        "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/main/50dc6c495c0c9188/f2f7dc8efc522ab2",
			Priority:           10,
			Hosts:              []string{name + ".example.com", "www." + name + ".example.com"},
			Paths:              []string{"/api/*", "/static/*"},
			PreviewHost:        "preview." + name + ".example.com",
			PreviewListenerARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/preview/50dc6c495c0c9188/a1b2c3d4e5f6a7b8",
			PreviewPriority:    11,
			// A store keeps what it is given: one kind of traffic is the
			// API's rule, not the store's.
			NLB: &rollout.NLBTraffic{
				LoadBalancerARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/edge/50dc6c495c0c9188",
				Port:            5432,
				Protocol:        rollout.NLBProtocolTLS,
				CertificateARN:  "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
				SSLPolicy:       "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
			},
			Route53: &rollout.Route53Traffic{
				HostedZoneID: "Z0123456789ABCDEFGHIJ",
				Name:         name + ".example.com",
				Listeners: []string{
					"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/slot-a/50dc6c495c0c9188/d4e5f6a7b8a1b2c3",
					"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/slot-b/60dc6c495c0c9188/e5f6a7b8a1b2c3d4",
				},
				HealthCheck:          &rollout.Route53HealthCheck{Path: "/healthz", Interval: rollout.Duration(10 * time.Second), FailureThreshold: 2},
				EvaluateTargetHealth: true,
			},
		},
		Template: fullTemplate(),
		Policy: rollout.Policy{
			Steps: []rollout.Step{
				{Weight: 10, Pause: rollout.DurationPtr(5 * time.Minute)},
				{Weight: 50, Pause: rollout.DurationPtr(90 * time.Second)},
				{Weight: 100, Pause: rollout.DurationPtr(time.Millisecond)},
			},
			HealthyTimeout:       rollout.Duration(10 * time.Minute),
			MinHealthyPercent:    75,
			Alarms:               []string{"web-5xx", "web-latency"},
			BlockOnAlarm:         true,
			ProceedWithoutAlarms: true,
			MetricChecks: &rollout.MetricChecks{
				Max5xxPercent:    1.5,
				MaxLatency:       rollout.Duration(250 * time.Millisecond),
				MaxRatioToStable: 2.5,
				MinRequests:      100,
				Interval:         rollout.Duration(30 * time.Second),
			},
			ObservedTraffic: &rollout.ObservedTraffic{
				TolerancePercent: 2.5,
				MaxWait:          rollout.Duration(3 * time.Minute),
				Interval:         rollout.Duration(20 * time.Second),
				MinRequests:      50,
				OnTimeout:        rollout.OnTimeoutPause,
			},
			BakeTime:              rollout.Duration(15 * time.Minute),
			RetainPrevious:        rollout.Duration(2 * time.Hour),
			RetainCapacityPercent: 50,
			MaxHotVersions:        new(3),
			AutoRollback:          true,
		},
		Notifications: rollout.Notifications{WebhookURL: "https://hooks.example.com/T1/B2", WebhookURLSet: true, WebhookFormat: rollout.WebhookTeams,
			SNSTopicARN: "arn:aws:sns:eu-west-1:123456789012:rollouts"},
		DeletionProtection: true,
		ObserveOnly:        true,
		Deleting:           true,
		// Set by the store; a caller's values must be ignored.
		Revision:  42,
		CreatedAt: at(-60),
		UpdatedAt: at(-30),
		// Set by the API, kept by the store.
		UpdatedBy: "terraform-ci",
	}
}

func fullTemplate() rollout.Template {
	return rollout.Template{
		Backend:         rollout.BackendEC2,
		Repository:      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web",
		ContainerPort:   8080,
		Command:         []string{"/bin/web"},
		Args:            []string{"--listen", ":8080"},
		Env:             map[string]string{"LOG_LEVEL": "debug", "REGION": "eu-west-1"},
		Secrets:         map[string]string{"DB_PASSWORD": "arn:aws:ssm:eu-west-1:123456789012:parameter/web/db"},
		InstanceType:    "t3.small",
		AMI:             "ami-0123456789abcdef0",
		MinSize:         2,
		MaxSize:         6,
		DesiredCapacity: 3,
		Subnets:         []string{"subnet-1", "subnet-2"},
		SecurityGroups:  []string{"sg-1"},
		InstanceProfile: "web-instance",
		HealthCheck: rollout.HealthCheck{
			Protocol:           "TLS",
			Path:               "/healthz",
			Interval:           rollout.Duration(10 * time.Second),
			Timeout:            rollout.Duration(3 * time.Second),
			HealthyThreshold:   2,
			UnhealthyThreshold: 4,
		},
		DeregistrationDelay: rollout.Duration(45 * time.Second),
		// Not what an ec2 template carries: here so that every field
		// round-trips.
		ECS: &rollout.ECS{
			Cluster:           "arn:aws:ecs:eu-west-1:123456789012:cluster/apps",
			LaunchType:        rollout.LaunchTypeFargate,
			CapacityProviders: []rollout.CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3, Base: 1}},
			CPU:               512,
			Memory:            2048,
			TaskRoleARN:       "arn:aws:iam::123456789012:role/web-task",
			ExecutionRoleARN:  "arn:aws:iam::123456789012:role/web-exec",
			AssignPublicIP:    true,
			PlatformVersion:   "1.4.0",
			Logs:              &rollout.ECSLogs{Group: "/ecs/web", StreamPrefix: "web"},
			HealthCheck: &rollout.ContainerHealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost:8080/"},
				Interval: rollout.Duration(30 * time.Second), Timeout: rollout.Duration(5 * time.Second), Retries: 3,
				StartPeriod: rollout.Duration(10 * time.Second)},
		},
	}
}

func fullRelease(endpoint string, track rollout.Track) rollout.Release {
	return rollout.Release{
		Endpoint:  endpoint,
		Track:     track,
		Version:   "1.4.2",
		Image:     "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2-rc1",
		Env:       map[string]string{"FEATURE_X": "on"},
		Retry:     2,
		Retired:   true,
		Revision:  9,
		UpdatedAt: at(-10),
	}
}

func fullState(endpoint string) rollout.State {
	env := func(id, version string, status rollout.EnvStatus, minutes int) rollout.Environment {
		return rollout.Environment{
			ID:           id,
			Version:      version,
			TemplateHash: "a1b2c3d4e5f6",
			Image:        "web:" + version,
			Digest:       "sha256:" + strings.Repeat("d1", 32),
			Template:     new(fullTemplate()),
			SpecRevision: 7,
			Env:          map[string]string{"FEATURE_X": "on"},
			Status:       status,
			Capacity:     3,
			HeldFull:     true,
			HotUntil:     at(minutes + 60),
			Health: rollout.Health{
				InService:    3,
				Capacity:     3,
				TargetHealth: rollout.TargetHealth{Targets: 7, Healthy: 2, Initial: 1, Unused: 1, Unhealthy: 2, Draining: 1},
				ReadAt:       at(minutes + 1),
			},
			CreatedAt: at(minutes),
		}
	}
	ro := func(id int, target, from string, phase rollout.Phase) *rollout.Rollout {
		return &rollout.Rollout{
			ID:          id,
			Kind:        rollout.KindDeploy,
			Key:         rollout.Key{Version: "1.4.2", TemplateHash: "a1b2c3d4e5f6", Retry: 1},
			Target:      target,
			From:        from,
			Steps:       []rollout.Step{{Weight: 10, Pause: rollout.DurationPtr(time.Minute)}, {Weight: 100, Pause: rollout.DurationPtr(time.Second)}},
			Phase:       phase,
			Step:        1,
			Since:       at(3),
			PausedAt:    at(4),
			PausedUntil: at(9),
			PausedBy:    "alice",
			PauseReason: "checking the canary's logs",
			Promote:     true,
			JudgedAt:    at(-3),
			Judged:      "0.50% 5xx of 200 requests, 41ms average: passing",
			Alarming:    []string{"web-latency"},
			Traffic: &rollout.StepTraffic{
				Step: 1, ShiftedAt: at(3), Hold: rollout.HoldNotFollowed, HoldEndedAt: at(5),
				Requests: map[string]float64{target: 96, from: 904}, Start: at(4), End: at(5),
			},
			Series: []rollout.SeriesPoint{{Start: at(4), End: at(5), Step: 2,
				Canary: rollout.SeriesValue{Weight: 10, Requests: 96, Errors5xx: 1, LatencyMS: 41.5},
				Stable: rollout.SeriesValue{Weight: 90, Requests: 904, Errors5xx: 2, LatencyMS: 38}}},
			Reason:    "alarm web-5xx entered ALARM",
			StartedAt: at(2),
			EndedAt:   at(10),
		}
	}
	return rollout.State{
		Endpoint: endpoint,
		Environments: []rollout.Environment{
			env(endpoint+"-1", "1.4.1", rollout.EnvReady, 0),
			env(endpoint+"-2", "1.4.2", rollout.EnvProvisioning, 2),
		},
		Production: rollout.TrackState{
			Stable:  endpoint + "-1",
			Rollout: ro(2, endpoint+"-2", endpoint+"-1", rollout.PhaseShifting),
			Route:   rollout.Route{Weights: map[string]int{endpoint + "-1": 90, endpoint + "-2": 10}, Verified: true},
			Held: &rollout.Hold{
				Key:    rollout.Key{Version: "1.4.0", TemplateHash: "0f0e0d0c0b0a", Retry: 3},
				Phase:  rollout.PhaseRolledBack,
				Reason: "alarm web-5xx entered ALARM",
			},
			Override: &rollout.Override{
				OverrideStatus: rollout.OverrideStatus{Version: "1.4.1", Since: at(-2), Until: at(58), Actor: "alice", Reason: "1.4.2 corrupts carts"},
				Deferred:       rollout.Key{Version: "1.4.3", TemplateHash: "a1b2c3d4e5f6", Retry: 1},
			},
		},
		Preview: rollout.TrackState{
			Stable:  endpoint + "-2",
			Rollout: ro(1, endpoint+"-2", endpoint+"-1", rollout.PhaseComplete),
			Route:   rollout.Route{Weights: map[string]int{endpoint + "-2": 100}, Verified: true},
			Held: &rollout.Hold{
				Key:    rollout.Key{Version: "1.3.9", TemplateHash: "fedcba987654", Retry: 1},
				Phase:  rollout.PhaseFailed,
				Reason: "environment never became healthy",
			},
			// The store keeps what it is given: the planner sets an
			// override on production only.
			Override: &rollout.Override{
				OverrideStatus: rollout.OverrideStatus{Version: "1.3.8", Since: at(-3), Until: at(3), Actor: "bob", Reason: "store round trip"},
				Deferred:       rollout.Key{Version: "1.3.9", TemplateHash: "fedcba987654", Retry: 2},
			},
		},
		NextEnvironment: 3,
		NextRollout:     3,
		CommandSeq:      4,
		Conditions: rollout.Conditions{{Type: rollout.AlarmMissing, Since: at(-6), Message: "alarm web-5xx does not exist",
			Names: []string{"web-5xx"}, Blocking: true}},
		ObservedAt: at(-5),
		StaleAt:    at(-4),
		Revision:   7,
		UpdatedAt:  at(-5),
	}
}

func fullEvent(endpoint string) rollout.Event {
	return rollout.Event{
		Endpoint: endpoint,
		Seq:      99, // set by the store
		Time:     at(20),
		Actor:    "alice@example.com",
		Type:     rollout.EventStepApplied,
		Track:    rollout.Production,
		Version:  "1.4.2",
		Message:  "weights 90/10 applied",
		Details:  map[string]string{"weights": "web-1=90,web-2=10", "step": "1"},
		Changes: []rollout.Change{
			{Path: "template.instance_type", Old: []byte(`"t3.micro"`), New: []byte(`"t3.small"`), Secret: true},
		},
	}
}

func fullCommand(endpoint string) rollout.Command {
	return rollout.Command{
		Endpoint: endpoint,
		Seq:      99, // set by the store
		Kind:     rollout.CommandRollback,
		For:      rollout.Duration(30 * time.Minute),
		To:       "1.4.1",
		Reason:   "latency regression",
		Actor:    "bob@example.com",
		Time:     at(21),
	}
}
