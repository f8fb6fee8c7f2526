package reconcile_test

import (
	"maps"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/awstest"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// TestAnECSServiceChangedOutsideIsRepaired: a service scaled by hand is
// scaled back, and one deleted by hand is recreated from the environment's
// own task definition revision, though a newer revision of the family was
// registered by hand meanwhile (immutability); each with an event.
func TestAnECSServiceChangedOutsideIsRepaired(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, onECS(albRouter), nil)
	h.release("v1")
	h.waitPhase("v1", rollout.PhaseComplete, 30*time.Second)
	name := h.groups()["v1"][0]
	before := h.ecsService(name)

	if _, err := h.ecs.UpdateService(h.ctx, &ecs.UpdateServiceInput{Cluster: awssdk.String(awstest.Cluster), Service: &name, DesiredCount: awssdk.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	h.eventually(10*resync, "the service scaled back to 2", func() bool {
		return len(h.events(rollout.EventEnvironmentRescaled)) == 1 && h.ecsService(name).DesiredCount == 2
	})

	// A revision of the family by hand: the environment must not run it.
	td, err := h.ecs.DescribeTaskDefinition(h.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: before.TaskDefinition})
	if err != nil {
		t.Fatal(err)
	}
	edited := td.TaskDefinition.ContainerDefinitions
	edited[0].Image = awssdk.String("registry.example.com/web:by-hand")
	if _, err := h.ecs.RegisterTaskDefinition(h.ctx, &ecs.RegisterTaskDefinitionInput{
		Family: td.TaskDefinition.Family, ContainerDefinitions: edited, NetworkMode: ecstypes.NetworkModeAwsvpc,
		Cpu: td.TaskDefinition.Cpu, Memory: td.TaskDefinition.Memory,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ecs.DeleteService(h.ctx, &ecs.DeleteServiceInput{Cluster: awssdk.String(awstest.Cluster), Service: &name, Force: awssdk.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	h.eventually(30*time.Second, "v1 served by a service again", func() bool {
		s := h.ecsService(name)
		_, w := h.rule()
		return len(h.events(rollout.EventEnvironmentMissing)) == 1 && awssdk.ToString(s.Status) == "ACTIVE" && s.RunningCount == 2 &&
			maps.Equal(w, map[string]int{"v1": 100})
	})
	if after := h.ecsService(name); awssdk.ToString(after.TaskDefinition) != awssdk.ToString(before.TaskDefinition) {
		t.Errorf("the recreated service runs %s, want the environment's own revision %s", awssdk.ToString(after.TaskDefinition), awssdk.ToString(before.TaskDefinition))
	}
	if n := len(h.state().Environments); n != 1 {
		t.Errorf("%d environments after the repair, want v1's alone", n)
	}
}
