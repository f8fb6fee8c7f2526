package rollout

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// runOnECS makes a valid endpoint run its versions as Fargate services.
func runOnECS(e *Endpoint) {
	def := NewEndpointFor(BackendECS).Template
	t := &e.Template
	t.Backend, t.InstanceType, t.AMI, t.MinSize, t.MaxSize, t.ECS = def.Backend, def.InstanceType, "", def.MinSize, def.MaxSize, def.ECS
	t.ECS.Cluster = "apps"
}

func TestValidECSEndpointPasses(t *testing.T) {
	ep := testEndpoint()
	runOnECS(&ep)
	ep.Template.Secrets = map[string]string{"DB_PASSWORD": "arn:aws:ssm:us-east-1:123456789012:parameter/db/password"}
	ep.Template.ECS.ExecutionRoleARN = "arn:aws:iam::123456789012:role/exec"
	ep.Template.ECS.Logs = &ECSLogs{Group: "/ecs/web", StreamPrefix: "web"}
	ep.Template.ECS.HealthCheck = &ContainerHealthCheck{Command: []string{"CMD-SHELL", "curl -f localhost:8080/"}, Interval: Duration(30 * time.Second), Timeout: Duration(5 * time.Second), Retries: 3}
	ep.Template.Env = map[string]string{"BIG": longValue(20000)}
	if err := ep.Validate(); err != nil {
		t.Fatal(err) // also: no EC2 user data limit on an ecs template
	}
	withProviders := ep
	withProviders.Template.ECS.LaunchType = ""
	withProviders.Template.ECS.CapacityProviders = []CapacityProvider{{Name: "FARGATE_SPOT", Weight: 3}, {Name: "FARGATE", Weight: 1, Base: 1}}
	if err := withProviders.Validate(); err != nil {
		t.Fatal(err)
	}
}

func longValue(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'x'
	}
	return string(b)
}

func TestInvalidECSEndpointNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Endpoint)
	}{
		{"template.ami", func(e *Endpoint) { e.Template.AMI = "ami-0123456789abcdef0" }},
		{"template.instance_type", func(e *Endpoint) { e.Template.InstanceType = "t3.micro" }},
		{"template.max_size", func(e *Endpoint) { e.Template.MaxSize = 4 }},
		{"template.ecs", func(e *Endpoint) { e.Template.ECS = nil }},
		{"template.desired_capacity", func(e *Endpoint) { e.Template.DesiredCapacity = 0 }},
		{"template.ecs.cluster", func(e *Endpoint) { e.Template.ECS.Cluster = "no spaces" }},
		{"template.ecs.launch_type", func(e *Endpoint) { e.Template.ECS.LaunchType = "LAMBDA" }},
		{"template.ecs.launch_type", func(e *Endpoint) { e.Template.ECS.LaunchType = "" }},
		{"template.ecs.capacity_providers", func(e *Endpoint) {
			e.Template.ECS.CapacityProviders = []CapacityProvider{{Name: "FARGATE", Weight: 1}}
		}},
		{"template.ecs.capacity_providers[1].name", func(e *Endpoint) {
			e.Template.ECS.LaunchType = ""
			e.Template.ECS.CapacityProviders = []CapacityProvider{{Name: "FARGATE", Weight: 1}, {Name: "FARGATE", Weight: 2}}
		}},
		{"template.ecs.capacity_providers[0].weight", func(e *Endpoint) {
			e.Template.ECS.LaunchType = ""
			e.Template.ECS.CapacityProviders = []CapacityProvider{{Name: "FARGATE", Weight: 1001}}
		}},
		{"template.ecs.cpu", func(e *Endpoint) { e.Template.ECS.CPU = 300 }},
		{"template.ecs.memory", func(e *Endpoint) { e.Template.ECS.CPU, e.Template.ECS.Memory = 1024, 1024 }},
		{"template.ecs.memory", func(e *Endpoint) { e.Template.ECS.LaunchType, e.Template.ECS.Memory = LaunchTypeEC2, 64 }},
		{"template.ecs.task_role_arn", func(e *Endpoint) { e.Template.ECS.TaskRoleARN = "role/app" }},
		{"template.ecs.platform_version", func(e *Endpoint) { e.Template.ECS.PlatformVersion = "newest" }},
		{"template.ecs.platform_version", func(e *Endpoint) {
			e.Template.ECS.LaunchType, e.Template.ECS.PlatformVersion = LaunchTypeEC2, "1.4.0"
		}},
		{"template.ecs.execution_role_arn", func(e *Endpoint) {
			e.Template.Secrets = map[string]string{"A": "arn:aws:ssm:us-east-1:123456789012:parameter/a"}
		}},
		{"template.ecs.execution_role_arn", func(e *Endpoint) { e.Template.ECS.Logs = &ECSLogs{Group: "/ecs/web", StreamPrefix: "web"} }},
		{"template.ecs.logs.stream_prefix", func(e *Endpoint) {
			e.Template.ECS.ExecutionRoleARN = "arn:aws:iam::123456789012:role/exec"
			e.Template.ECS.Logs = &ECSLogs{Group: "/ecs/web", StreamPrefix: "a:b"}
		}},
		{"template.ecs.health_check.command", func(e *Endpoint) {
			e.Template.ECS.HealthCheck = &ContainerHealthCheck{Command: []string{"curl"}, Interval: Duration(30 * time.Second), Timeout: Duration(5 * time.Second), Retries: 3}
		}},
		{"template.ecs.health_check.timeout", func(e *Endpoint) {
			e.Template.ECS.HealthCheck = &ContainerHealthCheck{Command: []string{"CMD", "true"}, Interval: Duration(5 * time.Second), Timeout: Duration(5 * time.Second), Retries: 3}
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			ep := testEndpoint()
			runOnECS(&ep)
			tc.mutate(&ep)
			err := ep.Validate()
			if ErrorCode(err) != EINVALID || ErrorField(err) != tc.field {
				t.Fatalf("Validate() = %v (field %q), want invalid %q", err, ErrorField(err), tc.field)
			}
		})
	}
}

// An ecs template's hash covers what only ecs uses, and an ec2 template's
// hash is what it was before ecs existed (stored environments keep their
// IDs).
func TestECSFieldsChangeTheTemplateHash(t *testing.T) {
	ep := testEndpoint()
	if b, _ := json.Marshal(ep.Template); strings.Contains(string(b), `"ecs"`) {
		t.Errorf("an ec2 template encodes %s: its hash would differ from before ecs existed", b)
	}
	runOnECS(&ep)
	before := TemplateHash(ep.Template, "web:v1", nil)
	ep.Template.ECS.Memory = 1024
	if TemplateHash(ep.Template, "web:v1", nil) == before {
		t.Error("a change of template.ecs.memory leaves the template hash unchanged")
	}
}

// TestValidateBackendReadsOnlyWhatIsSet: ValidateBackend refuses what
// Validate refuses about which backend's fields are set, naming the same
// field, whatever the values of the fields that are set; a template with
// the right fields set passes it, however invalid their values.
func TestValidateBackendReadsOnlyWhatIsSet(t *testing.T) {
	ec2, ecs := testEndpoint(), testEndpoint()
	runOnECS(&ecs)
	for _, tc := range []struct {
		name, field string
		endpoint    Endpoint
		mutate      func(*Template)
	}{
		{"ec2 with template.ecs", "template.ecs", ec2, func(t *Template) { t.ECS = &ECS{} }},
		{"ec2 without an AMI", "template.ami", ec2, func(t *Template) { t.AMI = "" }},
		{"ecs without template.ecs", "template.ecs", ecs, func(t *Template) { t.ECS = nil }},
		{"ecs with an AMI", "template.ami", ecs, func(t *Template) { t.AMI = "?" }},
		{"ecs with an instance type", "template.instance_type", ecs, func(t *Template) { t.InstanceType = "?" }},
		{"ecs with an instance profile", "template.instance_profile", ecs, func(t *Template) { t.InstanceProfile = "?" }},
		{"ecs with a min size", "template.min_size", ecs, func(t *Template) { t.MinSize = -1 }},
		{"ecs with a max size", "template.max_size", ecs, func(t *Template) { t.MaxSize = 1 }},
		{"ec2 with an AMI that is no AMI", "", ec2, func(t *Template) { t.AMI = "?" }},
		{"ecs with a cluster that is no cluster", "", ecs, func(t *Template) { t.ECS.Cluster = "?" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := tc.endpoint
			ep.Template.ECS = cloneECS(ep.Template.ECS)
			tc.mutate(&ep.Template)
			err := ep.Template.ValidateBackend()
			if ErrorField(err) != tc.field {
				t.Fatalf("ValidateBackend() = %v, want a refusal naming %q", err, tc.field)
			}
			if tc.field == "" {
				return
			}
			if all := ep.Validate(); ErrorField(all) != tc.field || all.Error() != err.Error() {
				t.Errorf("Validate() = %v, want %v", all, err)
			}
		})
	}
}

func cloneECS(e *ECS) *ECS {
	if e == nil {
		return nil
	}
	c := *e
	return &c
}
