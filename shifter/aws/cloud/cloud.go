// Package cloud puts the AWS adapters together into what the reconciler
// works with: for each placement (account and region), the ec2 backend, the
// ALB router and the CloudWatch watchers, over clients shared by the
// placement.
package cloud

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/ionroller/terraform-provider-ionroller/shifter/aws"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/alb"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/ec2env"
	"github.com/ionroller/terraform-provider-ionroller/shifter/aws/watch"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
	"github.com/ionroller/terraform-provider-ionroller/shifter/rollout"
)

// Connector returns a reconcile.Config.Connect that reaches each placement
// through clients. It keeps one Cloud per placement, so that every endpoint
// of an account and region shares its listings of resources, its reads of
// listeners, and one alarm watcher that reads their alarms at most once per
// poll.
func Connector(clients *aws.Clients, shifterID string, poll time.Duration, logger hclog.Logger) func(context.Context, rollout.Placement) (reconcile.Cloud, error) {
	var mu sync.Mutex
	clouds := map[rollout.Placement]reconcile.Cloud{}
	return func(_ context.Context, p rollout.Placement) (reconcile.Cloud, error) {
		mu.Lock()
		defer mu.Unlock()
		if c, ok := clouds[p]; ok {
			return c, nil
		}
		set, err := clients.For(p)
		if err != nil {
			return reconcile.Cloud{}, err
		}
		c := reconcile.Cloud{
			Backend: ec2env.New(ec2env.API{EC2: set.EC2, AutoScaling: set.AutoScaling, TargetGroups: set.ELBv2, Tags: set.ELBv2}, shifterID, logger),
			Router:  alb.New(set.ELBv2, shifterID, logger),
			Alarms:  watch.NewAlarms(set.CloudWatch, poll),
			Metrics: watch.NewMetrics(set.CloudWatch),
		}
		clouds[p] = c
		return c, nil
	}
}
