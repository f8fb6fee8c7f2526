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
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/ionroller/terraform-provider-ionroller/shifter/reconcile"
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

// whole reports whether the inventory shows every resource of r.
func (inv inventory) whole(r Ref) bool {
	_, group := inv.groups[r.AutoScalingGroup]
	_, tg := inv.tgs[r.TargetGroup]
	_, lt := inv.lts[r.LaunchTemplate]
	return group && tg && lt
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
// observation last asked for it: a few polls, so that the environments of
// every changing endpoint are in the read they share, and one that settled
// soon leaves it.
const watchFor = 15 * time.Second

// watched is the changing environments, read by name in reads they all share.
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

// read returns the resources of an endpoint's environments, refs, of which
// changing are coming up, going or just written. Those take their resources
// from a read by name at or after q.Since, which every changing environment
// of the account shares: a handful of calls for a hundred rollouts, however
// large the account. The others, settled, take theirs from a listing of the
// whole account at or after q.Listed, which every endpoint shares: a few
// paged calls however many there are. A settled environment is thus read as
// rarely as an endpoint at rest, even while its endpoint rolls out.
func (b *Backend) read(ctx context.Context, refs, changing []Ref, q reconcile.Query) (inventory, error) {
	var all inventory
	if len(changing) < len(refs) {
		var err error
		if all, err = b.inventory.Get(ctx, q.Listed, b.readInventory); err != nil {
			return inventory{}, err
		}
		// A settled environment the listing does not show whole may be
		// newer than the listing (another replica built it, or a shifter
		// before this one): it is read by name before anyone takes it for
		// deleted.
		for _, r := range refs {
			if !all.whole(r) && !slices.Contains(changing, r) {
				changing = append(changing, r)
			}
		}
	}
	if len(changing) == 0 {
		return all, nil
	}
	b.watched.add(changing, time.Now())
	byName, err := b.moving.Get(ctx, q.Since, b.readMoving)
	if err == nil && !byName.covers(changing) {
		// Read before these environments were added to the reads.
		byName, err = b.moving.Get(ctx, time.Now(), b.readMoving)
	}
	if err != nil {
		return inventory{}, err
	}
	return overlay(all, byName), nil
}

// known returns what the latest reads showed of the shifter's resources,
// without reading: the listing of the account, with the read by name over it
// where that is newer.
func (b *Backend) known() inventory {
	all, listed := b.inventory.Peek()
	byName, read := b.moving.Peek()
	if !read.After(listed) {
		byName = inventory{}
	}
	return overlay(all, byName)
}

// overlay returns a copy of the listing all with what the read by name
// byName showed of the environments it covered, present or missing.
func overlay(all, byName inventory) inventory {
	out := inventory{groups: map[string]asgtypes.AutoScalingGroup{}, tgs: map[string]elbtypes.TargetGroup{}, lts: map[string]ec2types.LaunchTemplate{}}
	maps.Copy(out.groups, all.groups)
	maps.Copy(out.tgs, all.tgs)
	maps.Copy(out.lts, all.lts)
	for r := range byName.covered {
		overlayOne(out.groups, byName.groups, r.AutoScalingGroup)
		overlayOne(out.tgs, byName.tgs, r.TargetGroup)
		overlayOne(out.lts, byName.lts, r.LaunchTemplate)
	}
	return out
}

func overlayOne[T any](out, read map[string]T, name string) {
	if v, ok := read[name]; ok {
		out[name] = v
	} else {
		delete(out, name)
	}
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
	g.Go(func() (err error) { inv.tgs, err = b.tgs.List(ctx); return err })
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
	g.Go(func() (err error) { inv.tgs, err = b.tgs.List(ctx); return err })
	g.Go(func() (err error) { inv.lts, err = b.launchTemplates(ctx, ltNames); return err })
	return inv, g.Wait()
}
