package reconcile

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// AWSConnector returns a Config.Connect that reaches each placement through
// clients. It keeps one Cloud per placement: routers remember their rules,
// which is what lets a weight change cost a single ELBv2 write, and every
// endpoint of an account and region shares one alarm watcher, which reads
// their alarms at most once per poll.
func AWSConnector(clients *aws.Clients, shifterID string, poll time.Duration, logger hclog.Logger) func(context.Context, rollout.Placement) (Cloud, error) {
	var mu sync.Mutex
	clouds := map[rollout.Placement]Cloud{}
	return func(_ context.Context, p rollout.Placement) (Cloud, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clouds[p]; ok {
			return c, nil
		}
		set, err := clients.For(p)
		if err != nil {
			return Cloud{}, err
		}
		c := Cloud{
			Environments: ec2env.New(ec2env.API{EC2: set.EC2, AutoScaling: set.AutoScaling, TargetGroups: set.ELBv2, Tags: set.ELBv2}, shifterID, logger),
			Router:       alb.New(set.ELBv2, shifterID, logger),
			Alarms:       watch.NewAlarms(set.CloudWatch, poll),
			Metrics:      watch.NewMetrics(set.CloudWatch),
		}
		clouds[p] = c
		return c, nil
	}
}
