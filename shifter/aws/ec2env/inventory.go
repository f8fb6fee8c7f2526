package ec2env

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"golang.org/x/sync/errgroup"
)

// inventory is environment resources of this shifter in the backend's
// account and region, by name: all of them, or those of the environments
// read by name (covered, nil for a listing of the whole account).
type inventory struct {
	groups  map[string]asgtypes.AutoScalingGroup
	tgs     map[string]elbtypes.TargetGroup
	lts     map[string]ec2types.LaunchTemplate
	covered map[Ref]bool
}

// covers reports whether the inventory read the resources of every ref.
func (inv inventory) covers(refs []Ref) bool {
	for _, r := range refs {
		if inv.covered != nil && !inv.covered[r] {
			return false
		}
	}
	return true
}

// watchFor is how long an environment stays in the reads by name after an
// observation last asked for it.
const watchFor = time.Minute

// watched is the environments of endpoints that are moving, read by name in
// reads all of them share.
type watched struct {
	mu   sync.Mutex
	refs map[Ref]time.Time // last asked
}

func (w *watched) add(refs []Ref, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs == nil {
		w.refs = map[Ref]time.Time{}
	}
	for _, r := range refs {
		w.refs[r] = now
	}
}

// current returns the refs asked for within watchFor, forgetting the others.
func (w *watched) current(now time.Time) []Ref {
	w.mu.Lock()
	defer w.mu.Unlock()
	maps.DeleteFunc(w.refs, func(_ Ref, at time.Time) bool { return now.Sub(at) > watchFor })
	return slices.Collect(maps.Keys(w.refs))
}

// read returns resources of the environments refs names, read at or after
// since. An endpoint at rest takes them from a listing of the whole account,
// which every endpoint of the account shares: a few paged calls however many
// there are. One that is moving takes them from a read by name of every
// moving endpoint's environments, which they all share: a handful of calls
// for a hundred rollouts, however large the account.
func (b *Backend) read(ctx context.Context, refs []Ref, since time.Time, moving bool) (inventory, error) {
	if !moving {
		return b.inventory.Get(ctx, since, b.readInventory)
	}
	b.watched.add(refs, time.Now())
	inv, err := b.moving.Get(ctx, since, b.readMoving)
	if err == nil && !inv.covers(refs) {
		// Read before these environments were added to the reads.
		inv, err = b.moving.Get(ctx, time.Now(), b.readMoving)
	}
	return inv, err
}

// known returns what the latest reads showed of the shifter's resources,
// without reading: the listing of the account, with the read of moving
// environments over it where that is newer.
func (b *Backend) known() inventory {
	all, listed := b.inventory.Peek()
	moving, read := b.moving.Peek()
	out := inventory{groups: maps.Clone(all.groups), tgs: maps.Clone(all.tgs), lts: maps.Clone(all.lts)}
	if out.groups == nil {
		out = inventory{groups: map[string]asgtypes.AutoScalingGroup{}, tgs: map[string]elbtypes.TargetGroup{}, lts: map[string]ec2types.LaunchTemplate{}}
	}
	if !read.After(listed) {
		return out
	}
	out.tgs = moving.tgs // a listing of every target group too
	for r := range moving.covered {
		if g, ok := moving.groups[r.AutoScalingGroup]; ok {
			out.groups[r.AutoScalingGroup] = g
		} else {
			delete(out.groups, r.AutoScalingGroup)
		}
		if lt, ok := moving.lts[r.LaunchTemplate]; ok {
			out.lts[r.LaunchTemplate] = lt
		} else {
			delete(out.lts, r.LaunchTemplate)
		}
	}
	return out
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
	g.Go(func() (err error) { inv.tgs, err = b.listTargetGroupsByName(ctx); return err })
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

// readMoving reads the resources of the watched environments by name: groups
// 50 names a call, launch templates 200, and target groups from a listing
// (400 a page), which costs fewer calls than reading them by name (20 a call,
// and one missing name fails the call).
func (b *Backend) readMoving(ctx context.Context) (inventory, error) {
	refs := b.watched.current(time.Now())
	inv := inventory{covered: make(map[Ref]bool, len(refs))}
	var groupNames, ltNames []string
	for _, r := range refs {
		inv.covered[r] = true
		groupNames = append(groupNames, r.AutoScalingGroup)
		ltNames = append(ltNames, r.LaunchTemplate)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { inv.groups, err = b.groups(ctx, groupNames); return err })
	g.Go(func() (err error) { inv.tgs, err = b.listTargetGroupsByName(ctx); return err })
	g.Go(func() (err error) { inv.lts, err = b.launchTemplates(ctx, ltNames); return err })
	return inv, g.Wait()
}

// listTargetGroupsByName lists the target groups named like environments'.
func (b *Backend) listTargetGroupsByName(ctx context.Context) (map[string]elbtypes.TargetGroup, error) {
	out := map[string]elbtypes.TargetGroup{}
	p := elb.NewDescribeTargetGroupsPaginator(b.api.TargetGroups, &elb.DescribeTargetGroupsInput{PageSize: aws.Int32(400)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list target groups: %w", err)
		}
		for _, tg := range page.TargetGroups {
			if name := aws.ToString(tg.TargetGroupName); strings.HasPrefix(name, "ir-") {
				out[name] = tg
			}
		}
	}
	return out, nil
}
