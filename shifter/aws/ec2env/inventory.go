package ec2env

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"
)

// inventory is every environment resource of this shifter in the backend's
// account and region, by name.
type inventory struct {
	groups map[string]asgtypes.AutoScalingGroup
	tgs    map[string]elbtypes.TargetGroup
	lts    map[string]ec2types.LaunchTemplate
}

// readInventory lists the shifter's groups, target groups and launch
// templates at once. Names say whose they are: groups and launch templates
// start with "ionroller-<shifter>-", and target groups are looked up by the
// hashed names Names gives.
func (b *Backend) readInventory(ctx context.Context) (inventory, error) {
	prefix := "ionroller-" + b.shifterID + "-"
	inv := inventory{groups: map[string]asgtypes.AutoScalingGroup{}, tgs: map[string]elbtypes.TargetGroup{}, lts: map[string]ec2types.LaunchTemplate{}}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(b.api.AutoScaling, &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list auto scaling groups: %w", err)
			}
			for _, grp := range page.AutoScalingGroups {
				if name := aws.ToString(grp.AutoScalingGroupName); strings.HasPrefix(name, prefix) {
					inv.groups[name] = grp
				}
			}
		}
		return nil
	})
	g.Go(func() error {
		p := elb.NewDescribeTargetGroupsPaginator(b.api.TargetGroups, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(400)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("list target groups: %w", err)
			}
			for _, tg := range page.TargetGroups {
				if name := aws.ToString(tg.TargetGroupName); strings.HasPrefix(name, "ir-") {
					inv.tgs[name] = tg
				}
			}
		}
		return nil
	})
	g.Go(func() error {
		// Named like the groups; no tag filter, which moto pages wrongly.
		err := b.eachLaunchTemplate(ctx, nil, func(lt ec2types.LaunchTemplate) {
			if name := aws.ToString(lt.LaunchTemplateName); strings.HasPrefix(name, prefix) {
				inv.lts[name] = lt
			}
		})
		if err != nil {
			return fmt.Errorf("list launch templates: %w", err)
		}
		return nil
	})
	return inv, g.Wait()
}
